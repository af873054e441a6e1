/* fuzz_manifest.c: the deposit manifest parsers; the first byte picks CSV (even) or JSON (odd). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    lds_manifest m;
    lds_error err;
    lds_error_clear(&err);
    if (data[0] & 1)
        lds_manifest_parse_json("manifest.json", (const char *)data + 1, size - 1, 1000, &m, &err);
    else
        lds_manifest_parse_csv("manifest.csv", (const char *)data + 1, size - 1, 1000, &m, &err);
    lds_manifest_cleanup(&m);
    char out[256];
    const char *why;
    char name[200];
    size_t n = size - 1 < sizeof(name) - 1 ? size - 1 : sizeof(name) - 1;
    memcpy(name, data + 1, n);
    name[n] = '\0';
    lds_archive_check_path(name, 128, out, sizeof(out), &why);
    return 0;
}
