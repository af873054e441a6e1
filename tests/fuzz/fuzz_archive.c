/* fuzz_archive.c: the archive walker from memory (archive_read_open_memory) with a sink that only
 * counts, under small limits so that a bomb is cut short quickly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest.h"

static lds_status count_begin(void *ctx, const char *path, lds_error *err)
{
    (*(size_t *)ctx)++;
    return strlen(path) > 0 ? LDS_OK : lds_error_set(err, LDS_EINTERNAL, "empty path reached the sink");
}

static lds_status count_write(void *ctx, const void *data, size_t size, lds_error *err)
{
    return LDS_OK;
}

static lds_status count_end(void *ctx, int ok, lds_error *err)
{
    return LDS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lds_limits limits;
    lds_limits_init(&limits);
    limits.archive_members = 200;
    limits.deposit_expanded_bytes = 16u << 20;
    size_t members = 0;
    lds_archive_sink sink = {&members, count_begin, count_write, count_end};
    lds_archive_result result;
    lds_error err;
    lds_error_clear(&err);
    lds_archive_walk_memory("fuzz.zip", data, size, &limits, &sink, &result, &err);
    lds_archive_result_cleanup(&result);
    return 0;
}
