/* settings.c: every LODESTONE_* environment variable, in one table, read by one strict parser.
 *
 * Kinds: sizes (bytes; K/M/G/T are powers of 1024, an optional "iB"/"B" after them), counts
 * (K/M/G are powers of 1000: "100M" triangles is 100,000,000), durations (a whole number with ms,
 * s, m, h or d; a plain number is in the unit the variable's name says: _MS, _SECONDS or _DAYS), booleans
 * (1/0, true/false, yes/no, on/off), enums (one of a list) and text (no control characters,
 * optionally one of some prefixes). A malformed or out-of-range value is an LDS_EINVAL whose
 * message names the variable; `lodestone` checks them all before any command runs
 * (lds_settings_check), so a typo stops the program instead of being read as something else. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

extern char **environ;

typedef enum { KIND_SIZE, KIND_COUNT, KIND_DURATION, KIND_BOOL, KIND_ENUM, KIND_TEXT, KIND_ADDRESS } setting_kind;

typedef struct setting {
    const char *name;
    setting_kind kind;
    uint64_t fallback; /* SIZE/COUNT: value; DURATION: ms; BOOL: 0/1; ENUM: index */
    uint64_t min, max; /* bounds, same unit as fallback (ENUM/TEXT: unused) */
    const char *extra; /* ENUM: "a|b|c"; DURATION: "ms" or "s" (plain numbers); TEXT: "p1|p2" prefixes */
} setting;

#define KIB 1024ull
#define GIB (1024ull * 1024 * 1024)
#define SECOND 1000ull
#define DAY (86400ull * SECOND)
#define U32 0xffffffffull

static const setting settings[] = {
    {"LODESTONE_HOME", KIND_TEXT, 0, 0, 0, NULL},
    {"LODESTONE_LISTEN", KIND_ADDRESS, 0, 0, 0, NULL},
    {"LODESTONE_REDIS_URL", KIND_TEXT, 0, 0, 0, "redis://|unix://"},
    {"LODESTONE_URL", KIND_TEXT, 0, 0, 0, "http://|https://"},
    {"LODESTONE_KEY", KIND_TEXT, 0, 0, 0, NULL},
    {"LODESTONE_LOG", KIND_ENUM, LDS_LOG_WARN, 0, 0, "error|warn|info|debug"},
    {"LODESTONE_LOG_ORIGIN", KIND_TEXT, 0, 0, 0, NULL},
    {"LODESTONE_BENCH", KIND_TEXT, 0, 0, 0, NULL},
    {"LODESTONE_BIN", KIND_TEXT, 0, 0, 0, NULL},
    {"LODESTONE_MAX_UPLOAD_BYTES", KIND_SIZE, 2 * GIB, 1, 1ull << 62, NULL},
    {"LODESTONE_MAX_TRIANGLES", KIND_COUNT, 100000000ull, 1, 1ull << 40, NULL},
    {"LODESTONE_MAX_PARSE_MEMORY", KIND_SIZE, 4 * GIB, 16 * KIB * KIB, 1ull << 46, NULL},
    {"LODESTONE_MAX_PARSE_SECONDS", KIND_DURATION, 60 * SECOND, SECOND, DAY, "s"},
    {"LODESTONE_MAX_PARSE_CPU_SECONDS", KIND_DURATION, 120 * SECOND, SECOND, DAY, "s"},
    {"LODESTONE_MAX_ARCHIVE_MEMBERS", KIND_COUNT, 10000, 1, 1ull << 32, NULL},
    {"LODESTONE_MAX_DEPOSIT_BYTES", KIND_SIZE, 4 * GIB, 1, 1ull << 62, NULL},
    {"LODESTONE_MAX_COMPRESSION_RATIO", KIND_COUNT, 100, 1, U32, NULL},
    {"LODESTONE_MAX_PATH_LENGTH", KIND_COUNT, 1024, 1, 4096, NULL},
    {"LODESTONE_MAX_JOB_SECONDS", KIND_DURATION, 600 * SECOND, SECOND, 7 * DAY, "s"},
    {"LODESTONE_VISIBILITY_MS", KIND_DURATION, 60 * SECOND, 100, DAY, "ms"},
    {"LODESTONE_BACKOFF_MS", KIND_DURATION, 2 * SECOND, 1, DAY, "ms"},
    {"LODESTONE_MAX_ATTEMPTS", KIND_COUNT, 5, 1, 1000, NULL},
    {"LODESTONE_WORKER_GRACE_MS", KIND_DURATION, 30 * SECOND, 1, DAY, "ms"},
    {"LODESTONE_NOTARY_LEASE_MS", KIND_DURATION, 10 * SECOND, 100, DAY, "ms"},
    {"LODESTONE_SWEEP_GRACE_MS", KIND_DURATION, 30 * SECOND, 0, 7 * DAY, "ms"},
    {"LODESTONE_SWEEP_INTERVAL_MS", KIND_DURATION, 15 * SECOND, 100, DAY, "ms"},
    {"LODESTONE_BLOB_GRACE_MS", KIND_DURATION, DAY, 0, 365 * DAY, "ms"},
    {"LODESTONE_GC_INTERVAL_MS", KIND_DURATION, 3600 * SECOND, 100, 7 * DAY, "ms"},
    {"LODESTONE_MAX_CONNECTIONS", KIND_COUNT, 1000, 16, 60000, NULL},
    {"LODESTONE_MAX_CONNECTIONS_PER_CLIENT", KIND_COUNT, 64, 1, 60000, NULL},
    {"LODESTONE_REQUEST_HEAD_MS", KIND_DURATION, 10 * SECOND, 100, 600 * SECOND, "ms"},
    {"LODESTONE_IDLE_TIMEOUT_MS", KIND_DURATION, 120 * SECOND, SECOND, DAY, "ms"},
    {"LODESTONE_QUOTA_REQUESTS_PER_MINUTE", KIND_COUNT, 6000, 1, 1ull << 32, NULL},
    {"LODESTONE_QUOTA_UPLOADS_PER_MINUTE", KIND_COUNT, 600, 1, 1ull << 32, NULL},
    {"LODESTONE_VALUATION_HALF_LIFE_DAYS", KIND_DURATION, 90 * DAY, 3600 * SECOND, 36500 * DAY, "d"},
    {"LODESTONE_PREVIEW_MAX_TRIANGLES", KIND_COUNT, 20000, 100, 10000000, NULL},
    {"LODESTONE_PREVIEW_MAX_TEXTURE", KIND_COUNT, 512, 16, 8192, NULL},
    {"LODESTONE_PREVIEW_TTL", KIND_DURATION, 900 * SECOND, SECOND, 900 * SECOND, "s"},
    {"LODESTONE_WEB_ROOT", KIND_TEXT, 0, 0, 0, NULL},
};

static const setting *find(const char *name)
{
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    return NULL;
}

/* Leading decimal digits into *value (no sign, no spaces); the rest in *end. */
static int parse_digits(const char *text, uint64_t *value, const char **end)
{
    if (!isdigit((unsigned char)text[0]))
        return 0;
    errno = 0;
    char *stop;
    unsigned long long v = strtoull(text, &stop, 10);
    if (errno != 0)
        return 0;
    *value = v;
    *end = stop;
    return 1;
}

static int scale(uint64_t v, uint64_t factor, uint64_t *out)
{
    if (factor != 0 && v > UINT64_MAX / factor)
        return 0;
    *out = v * factor;
    return 1;
}

static int parse_count(const char *text, uint64_t *out)
{
    uint64_t v;
    const char *end;
    if (!parse_digits(text, &v, &end))
        return 0;
    uint64_t factor = 1;
    switch (*end) {
    case 'k': case 'K': factor = 1000ull; end++; break;
    case 'M': factor = 1000000ull; end++; break;
    case 'G': factor = 1000000000ull; end++; break;
    default: break;
    }
    return *end == '\0' && scale(v, factor, out);
}

static int parse_duration(const char *text, const char *plain_unit, uint64_t *ms)
{
    uint64_t v;
    const char *end;
    if (!parse_digits(text, &v, &end))
        return 0;
    const char *unit = *end ? end : plain_unit;
    uint64_t factor;
    if (strcmp(unit, "ms") == 0)
        factor = 1;
    else if (strcmp(unit, "s") == 0)
        factor = SECOND;
    else if (strcmp(unit, "m") == 0 || strcmp(unit, "min") == 0)
        factor = 60 * SECOND;
    else if (strcmp(unit, "h") == 0)
        factor = 3600 * SECOND;
    else if (strcmp(unit, "d") == 0)
        factor = DAY;
    else
        return 0;
    return scale(v, factor, ms);
}

lds_status lds_duration_parse(const char *text, const char *plain_unit, uint64_t *ms)
{
    return text && parse_duration(text, plain_unit, ms) ? LDS_OK : LDS_EINVAL;
}

static int parse_bool(const char *text, uint64_t *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0)
            return *out = 1, 1;
        if (strcasecmp(text, no[i]) == 0)
            return *out = 0, 1;
    }
    return 0;
}

/* The index of text in "a|b|c" into *out. */
static int parse_enum(const char *text, const char *choices, uint64_t *out)
{
    size_t len = strlen(text);
    uint64_t index = 0;
    for (const char *p = choices; *p; index++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, text, n) == 0)
            return *out = index, 1;
        p += n + (bar != NULL);
    }
    return 0;
}

static int text_clean(const char *text, const char *prefixes)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    if (prefixes == NULL)
        return 1;
    for (const char *p = prefixes; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (strncmp(text, p, n) == 0)
            return 1;
        p += n + (bar != NULL);
    }
    return 0;
}

static int address_valid(const char *text)
{
    const char *colon = strrchr(text, ':');
    uint64_t port;
    const char *end;
    return colon != NULL && colon != text && text_clean(text, NULL) && parse_digits(colon + 1, &port, &end) &&
           *end == '\0' && port <= 65535;
}

/* What a well-formed value looks like, for the error message. */
static const char *expected(const setting *s)
{
    switch (s->kind) {
    case KIND_SIZE: return "a size in bytes such as 1048576, 512K, 64M or 4G (powers of 1024)";
    case KIND_COUNT: return "a whole number such as 500, 10K or 100M (powers of 1000)";
    case KIND_DURATION: return "a duration such as 1500ms, 30s, 10m, 2h or 90d";
    case KIND_BOOL: return "one of 1, 0, true, false, yes, no, on, off";
    case KIND_ENUM: return s->extra;
    case KIND_ADDRESS: return "HOST:PORT";
    case KIND_TEXT: return s->extra ? s->extra : "text without control characters";
    }
    return "";
}

/* Parses the value of s (set and non-empty) into *value. */
static lds_status parse_setting(const setting *s, const char *text, uint64_t *value, lds_error *err)
{
    int ok = 0;
    *value = 0;
    switch (s->kind) {
    case KIND_SIZE: ok = lds_limits_parse_size(text, value) == LDS_OK; break;
    case KIND_COUNT: ok = parse_count(text, value); break;
    case KIND_DURATION: ok = parse_duration(text, s->extra, value); break;
    case KIND_BOOL: ok = parse_bool(text, value); break;
    case KIND_ENUM: ok = parse_enum(text, s->extra, value); break;
    case KIND_TEXT: ok = text_clean(text, s->extra); break;
    case KIND_ADDRESS: ok = address_valid(text); break;
    }
    /* Text values are not echoed: LODESTONE_KEY is a secret. */
    int echo = s->kind != KIND_TEXT;
    if (!ok)
        return lds_error_set(err, LDS_EINVAL, "%s: %s%s%s is not %s", s->name, echo ? "\"" : "",
                             echo ? text : "the value", echo ? "\"" : "", expected(s));
    if ((s->kind == KIND_SIZE || s->kind == KIND_COUNT || s->kind == KIND_DURATION) &&
        (*value < s->min || *value > s->max)) {
        if (s->kind == KIND_DURATION)
            return lds_error_set(err, LDS_EINVAL, "%s: \"%s\" is out of range (%llu ms to %llu ms)", s->name, text,
                                 (unsigned long long)s->min, (unsigned long long)s->max);
        return lds_error_set(err, LDS_EINVAL, "%s: \"%s\" is out of range (%llu to %llu)", s->name, text,
                             (unsigned long long)s->min, (unsigned long long)s->max);
    }
    return LDS_OK;
}

/* The value of name (in the table, of one of the given kinds): its fallback when unset or empty. */
static lds_status get(const char *name, setting_kind kind, uint64_t *value, lds_error *err)
{
    const setting *s = find(name);
    assert(s != NULL && "every LODESTONE_* variable is listed in settings.c");
    assert(s->kind == kind || (kind == KIND_COUNT && s->kind == KIND_SIZE));
    *value = s->fallback;
    const char *text = getenv(name);
    if (text == NULL || text[0] == '\0')
        return LDS_OK;
    uint64_t v;
    lds_status st = parse_setting(s, text, &v, err);
    if (st == LDS_OK)
        *value = v;
    return st;
}

lds_status lds_setting_u64(const char *name, uint64_t *value, lds_error *err)
{
    const setting *s = find(name);
    assert(s != NULL);
    return get(name, s->kind == KIND_SIZE ? KIND_SIZE : KIND_COUNT, value, err);
}

lds_status lds_setting_ms(const char *name, uint64_t *ms, lds_error *err)
{
    return get(name, KIND_DURATION, ms, err);
}

lds_status lds_setting_bool(const char *name, int *value, lds_error *err)
{
    uint64_t v;
    lds_status st = get(name, KIND_BOOL, &v, err);
    *value = (int)v;
    return st;
}

lds_status lds_setting_enum(const char *name, unsigned *index, lds_error *err)
{
    uint64_t v;
    lds_status st = get(name, KIND_ENUM, &v, err);
    *index = (unsigned)v;
    return st;
}

const char *lds_setting_text(const char *name)
{
    const setting *s = find(name);
    assert(s != NULL && (s->kind == KIND_TEXT || s->kind == KIND_ADDRESS));
    const char *text = getenv(name);
    if (text == NULL || text[0] == '\0')
        return NULL;
    uint64_t unused;
    lds_error ignored = {0};
    return parse_setting(s, text, &unused, &ignored) == LDS_OK ? text : NULL;
}

uint64_t lds_setting_u64_or_default(const char *name)
{
    uint64_t v;
    lds_error ignored = {0};
    return lds_setting_u64(name, &v, &ignored) == LDS_OK ? v : find(name)->fallback;
}

uint64_t lds_setting_ms_or_default(const char *name)
{
    uint64_t v;
    lds_error ignored = {0};
    return lds_setting_ms(name, &v, &ignored) == LDS_OK ? v : find(name)->fallback;
}

lds_status lds_settings_check(lds_error *err)
{
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "LODESTONE_", 10) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        char name[128];
        if (eq == NULL || (size_t)(eq - *e) >= sizeof(name))
            continue;
        memcpy(name, *e, (size_t)(eq - *e));
        name[eq - *e] = '\0';
        const setting *s = find(name);
        if (s == NULL) {
            lds_log_warn("%s is not a lodestone setting (ignored)", name);
            continue;
        }
        uint64_t v;
        if (eq[1] != '\0' && parse_setting(s, eq + 1, &v, err) != LDS_OK)
            return err->code;
    }
    return LDS_OK;
}
