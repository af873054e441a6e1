/* The one settings parser (common/settings.c): every LODESTONE_* variable is read strictly, a
 * malformed value is an error naming the variable, and `lodestone` refuses to start on one. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "testlib.h"

static void check_size(const char *text, lds_status expected_status, uint64_t expected)
{
    lds_error err = {0};
    uint64_t v = 0;
    setenv("LODESTONE_MAX_UPLOAD_BYTES", text, 1);
    LDS_CHECK_INT(lds_setting_u64("LODESTONE_MAX_UPLOAD_BYTES", &v, &err), ==, expected_status);
    if (expected_status == LDS_OK)
        LDS_CHECK_INT(v, ==, expected);
    else
        LDS_CHECK(strstr(err.message, "LODESTONE_MAX_UPLOAD_BYTES") != NULL);
}

static void check_ms(const char *name, const char *text, lds_status expected_status, uint64_t expected)
{
    lds_error err = {0};
    uint64_t v = 0;
    setenv(name, text, 1);
    LDS_CHECK_INT(lds_setting_ms(name, &v, &err), ==, expected_status);
    if (expected_status == LDS_OK)
        LDS_CHECK_INT(v, ==, expected);
    else if (strstr(err.message, name) == NULL)
        LDS_CHECK_STR(err.message, name);
    unsetenv(name);
}

static void test_kinds(void)
{
    check_size("1K", LDS_OK, 1024);
    check_size("1k", LDS_OK, 1024);
    check_size("64M", LDS_OK, 64ull << 20);
    check_size("4GiB", LDS_OK, 4ull << 30);
    check_size("2T", LDS_OK, 2ull << 40);
    check_size("100000", LDS_OK, 100000);
    check_size("1 K", LDS_EINVAL, 0);
    check_size("1.5G", LDS_EINVAL, 0);
    check_size("-1", LDS_EINVAL, 0);
    check_size("0", LDS_EINVAL, 0);
    check_size("lots", LDS_EINVAL, 0);
    check_size("99999999999999999999", LDS_EINVAL, 0);
    unsetenv("LODESTONE_MAX_UPLOAD_BYTES");
    uint64_t v = 0;
    lds_error err = {0};
    LDS_CHECK_OK(lds_setting_u64("LODESTONE_MAX_UPLOAD_BYTES", &v, &err), &err);
    LDS_CHECK_INT(v, ==, 2ull << 30);

    /* Counts: decimal multiples; bounds. */
    setenv("LODESTONE_MAX_TRIANGLES", "100M", 1);
    LDS_CHECK_OK(lds_setting_u64("LODESTONE_MAX_TRIANGLES", &v, &err), &err);
    LDS_CHECK_INT(v, ==, 100000000);
    setenv("LODESTONE_MAX_ATTEMPTS", "5000", 1);
    LDS_CHECK_INT(lds_setting_u64("LODESTONE_MAX_ATTEMPTS", &v, &err), ==, LDS_EINVAL);
    LDS_CHECK(strstr(err.message, "LODESTONE_MAX_ATTEMPTS") && strstr(err.message, "out of range"));
    unsetenv("LODESTONE_MAX_TRIANGLES");
    unsetenv("LODESTONE_MAX_ATTEMPTS");

    /* Durations: the plain unit comes from the name. */
    check_ms("LODESTONE_VISIBILITY_MS", "3000", LDS_OK, 3000);
    check_ms("LODESTONE_VISIBILITY_MS", "3s", LDS_OK, 3000);
    check_ms("LODESTONE_VISIBILITY_MS", "2m", LDS_OK, 120000);
    check_ms("LODESTONE_VISIBILITY_MS", "3 s", LDS_EINVAL, 0);
    check_ms("LODESTONE_VISIBILITY_MS", "soon", LDS_EINVAL, 0);
    check_ms("LODESTONE_MAX_JOB_SECONDS", "30", LDS_OK, 30000);
    check_ms("LODESTONE_MAX_JOB_SECONDS", "1h", LDS_OK, 3600000);
    check_ms("LODESTONE_MAX_JOB_SECONDS", "0", LDS_EINVAL, 0);
    check_ms("LODESTONE_MAX_PARSE_SECONDS", "20x", LDS_EINVAL, 0);

    /* Enums and text. */
    unsigned index = 9;
    setenv("LODESTONE_LOG", "debug", 1);
    LDS_CHECK_OK(lds_setting_enum("LODESTONE_LOG", &index, &err), &err);
    LDS_CHECK_INT(index, ==, LDS_LOG_DEBUG);
    setenv("LODESTONE_LOG", "verbose", 1);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_setting_enum("LODESTONE_LOG", &index, &err), ==, LDS_EINVAL);
    LDS_CHECK(strstr(err.message, "LODESTONE_LOG") && strstr(err.message, "error|warn|info|debug"));
    unsetenv("LODESTONE_LOG");
    setenv("LODESTONE_REDIS_URL", "http://wrong", 1);
    LDS_CHECK(lds_setting_text("LODESTONE_REDIS_URL") == NULL);
    setenv("LODESTONE_REDIS_URL", "unix:///tmp/r.sock", 1);
    LDS_CHECK_STR(lds_setting_text("LODESTONE_REDIS_URL"), "unix:///tmp/r.sock");
    unsetenv("LODESTONE_REDIS_URL");

    /* The check over the whole environment, and the limits built on it. */
    lds_error_clear(&err);
    setenv("LODESTONE_KEY", "secret\x01value", 1);
    LDS_CHECK_INT(lds_settings_check(&err), ==, LDS_EINVAL);
    LDS_CHECK(strstr(err.message, "LODESTONE_KEY") != NULL && strstr(err.message, "secret") == NULL);
    unsetenv("LODESTONE_KEY");
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_settings_check(&err), &err);
    lds_limits limits;
    setenv("LODESTONE_MAX_UPLOAD_BYTES", "1K", 1);
    setenv("LODESTONE_MAX_JOB_SECONDS", "90s", 1);
    LDS_CHECK_OK(lds_limits_from_env(&limits, &err), &err);
    LDS_CHECK_INT(limits.upload_bytes, ==, 1024);
    LDS_CHECK_INT(limits.job_seconds, ==, 90);
    unsetenv("LODESTONE_MAX_UPLOAD_BYTES");
    unsetenv("LODESTONE_MAX_JOB_SECONDS");
}

/* The program stops on a malformed value, naming it, before doing anything. */
static void test_cli(void)
{
    char *out = NULL;
    int rc = lds_test_run(&out, "LODESTONE_MAX_ATTEMPTS=five '%s' queue 2>&1", lds_test_bin());
    LDS_CHECK_INT(rc, ==, 1);
    LDS_CHECK(out && strstr(out, "LODESTONE_MAX_ATTEMPTS") && strstr(out, "five"));
    free(out);
    out = NULL;
    rc = lds_test_run(&out, "LODESTONE_WORKER_GRACE_MS=-5 '%s' worker --help 2>&1", lds_test_bin());
    LDS_CHECK_INT(rc, ==, 1);
    LDS_CHECK(out && strstr(out, "LODESTONE_WORKER_GRACE_MS"));
    free(out);
}

int main(void)
{
    test_kinds();
    test_cli();
    return lds_test_result();
}
