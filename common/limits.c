/* limits.c: the configurable limits on hostile input (DESIGN.md 7), with safe defaults that an
 * operator can override from the environment. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define GIB (1024ull * 1024 * 1024)

void lds_limits_init(lds_limits *limits)
{
    limits->upload_bytes = 2 * GIB;
    limits->triangles = 100000000ull;
    limits->parse_memory_bytes = 4 * GIB;
    limits->parse_seconds = 60;
    limits->parse_cpu_seconds = 120;
    limits->archive_members = 10000;
    limits->deposit_expanded_bytes = 4 * GIB;
    limits->compression_ratio = 100;
    limits->path_length = 1024;
    limits->job_seconds = 600;
}

lds_status lds_limits_parse_size(const char *text, uint64_t *value)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return LDS_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0)
        return LDS_EINVAL;
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I') /* "4GiB" and "4GB" read the same */
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end != '\0' || v == 0 || v > (1ull << 62) >> shift)
        return LDS_EINVAL;
    *value = (uint64_t)v << shift;
    return LDS_OK;
}

static lds_status env_seconds(const char *name, unsigned *out, lds_error *err)
{
    uint64_t ms;
    lds_status st = lds_setting_ms(name, &ms, err);
    if (st == LDS_OK)
        *out = (unsigned)((ms + 999) / 1000);
    return st;
}

static lds_status env_unsigned(const char *name, unsigned *out, lds_error *err)
{
    uint64_t v;
    lds_status st = lds_setting_u64(name, &v, err);
    if (st == LDS_OK)
        *out = (unsigned)v;
    return st;
}

lds_status lds_limits_from_env(lds_limits *limits, lds_error *err)
{
    lds_limits_init(limits);
    lds_status first = LDS_OK, st;
#define KEEP_FIRST(call)                \
    if ((st = (call)) != LDS_OK && first == LDS_OK) \
        first = st;
    KEEP_FIRST(lds_setting_u64("LODESTONE_MAX_UPLOAD_BYTES", &limits->upload_bytes, err));
    KEEP_FIRST(lds_setting_u64("LODESTONE_MAX_TRIANGLES", &limits->triangles, err));
    KEEP_FIRST(lds_setting_u64("LODESTONE_MAX_PARSE_MEMORY", &limits->parse_memory_bytes, err));
    KEEP_FIRST(env_seconds("LODESTONE_MAX_PARSE_SECONDS", &limits->parse_seconds, err));
    KEEP_FIRST(env_seconds("LODESTONE_MAX_PARSE_CPU_SECONDS", &limits->parse_cpu_seconds, err));
    KEEP_FIRST(lds_setting_u64("LODESTONE_MAX_ARCHIVE_MEMBERS", &limits->archive_members, err));
    KEEP_FIRST(lds_setting_u64("LODESTONE_MAX_DEPOSIT_BYTES", &limits->deposit_expanded_bytes, err));
    KEEP_FIRST(env_unsigned("LODESTONE_MAX_COMPRESSION_RATIO", &limits->compression_ratio, err));
    KEEP_FIRST(env_unsigned("LODESTONE_MAX_PATH_LENGTH", &limits->path_length, err));
    KEEP_FIRST(env_seconds("LODESTONE_MAX_JOB_SECONDS", &limits->job_seconds, err));
#undef KEEP_FIRST
    return first;
}
