/* log.c: leveled logging to stderr and clock helpers. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

static int log_threshold(void)
{
    static int level = -1;
    if (level < 0) {
        unsigned index;
        lds_error ignored = {0};
        /* The choices are listed in lds_log_level's order; malformed: the CLI has refused it. */
        level = lds_setting_enum("LODESTONE_LOG", &index, &ignored) == LDS_OK ? (int)index : LDS_LOG_WARN;
    }
    return level;
}

void lds_log(lds_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    if ((int)level > log_threshold())
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    char when[32];
    lds_time_rfc3339(when, sizeof(when));
    fprintf(stderr, "%s lodestone[%s]: %s\n", when, names[level], line);
}

double lds_time_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int64_t lds_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lds_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void lds_time_rfc3339(char *out, size_t out_size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
