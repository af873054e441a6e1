/* test_api_errors.c: the error side of the HTTP API through real HTTP: 401 without or with a bad
 * key, 403 by role (studio uploads, modeler reads another modeler's asset, non-ops on the queue
 * figures), 404 for an unknown asset and route, 400 for a raw upload without a file name, 413
 * over LODESTONE_MAX_UPLOAD_BYTES with Content-Length and chunked, 415 for a file type we do not
 * read; every error a JSON {"error": {"code", "message"}}. Hostile files (random bytes named .ply,
 * a truncated PLY) are accepted (202) and end failed with a message naming the file while the
 * server keeps serving; /metrics counts all of it by route and status and shows the queue. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ingest.h"
#include "test_api_lib.h"

#define MAX_UPLOAD 100000

static api_env env;

/* Issues a request and checks its status and that the body is a JSON error with that code. */
static void expect_error(int want, const char *want_code, const char *key, const char *fmt, const char *a,
                         const char *b)
{
    api_resp r;
    char args[4096];
    snprintf(args, sizeof(args), fmt, a ? a : "", b ? b : "");
    int status = api_curl(&env, &r, key, "%s", args);
    if (status != want)
        fprintf(stderr, "request %s: got %d %s\n", args, status, r.body ? r.body : "");
    LDS_CHECK_INT(status, ==, want);
    LDS_CHECK(api_is_error_body(&r));
    if (want_code) {
        json_t *j = api_json(&r);
        LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(j, "error"), "code")), want_code);
        json_decref(j);
    }
    char type[128] = "";
    api_header(&r, "Content-Type", type, sizeof(type));
    LDS_CHECK_STR(type, "application/json");
    api_resp_free(&r);
}

static int write_random(const char *path, size_t size)
{
    unsigned char *data = malloc(size);
    if (data == NULL)
        return -1;
    for (size_t off = 0; off < size;) {
        ssize_t n = getrandom(data + off, size - off, 0);
        if (n <= 0) {
            free(data);
            return -1;
        }
        off += (size_t)n;
    }
    lds_error err;
    lds_error_clear(&err);
    lds_status st = lds_file_write_atomic(path, data, size, &err);
    free(data);
    return st == LDS_OK ? 0 : -1;
}

/* The first bytes of a valid PLY: the header promises more than the file holds. */
static int write_truncated_ply(const char *path)
{
    char full[1300];
    snprintf(full, sizeof(full), "%.1200s.full", path);
    if (api_write_sphere(full, 7, 60) != 0)
        return -1;
    unsigned char *data = NULL;
    size_t size = 0;
    lds_error err;
    lds_error_clear(&err);
    if (lds_file_read(full, 0, &data, &size, &err) != LDS_OK)
        return -1;
    lds_status st = lds_file_write_atomic(path, data, size > 30000 ? 30000 : size / 2, &err);
    free(data);
    return st == LDS_OK ? 0 : -1;
}

/* The value of a counter line 'name{labels} value' in the metrics text (-1 when absent). */
static long long metric(const char *text, const char *series)
{
    const char *p = text;
    size_t n = strlen(series);
    while (p && (p = strstr(p, series)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return atoll(p + n + 1);
        p += n;
    }
    return -1;
}

static void check_hostile(const char *key, const char *path, const char *name)
{
    char asset[LDS_ID_MAX] = "";
    LDS_CHECK_INT(api_upload(&env, key, path, name, asset, NULL), ==, 202);
    if (!asset[0])
        return;
    json_t *record = api_wait_asset(&env, key, asset, 60, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "failed");
    json_t *error = json_object_get(record, "error");
    const char *message = json_string_value(json_object_get(error, "message"));
    LDS_CHECK(json_is_string(json_object_get(error, "code")));
    LDS_CHECK(message != NULL && strstr(message, name) != NULL);
    LDS_CHECK(message != NULL && strstr(message, env.home) == NULL); /* no server paths */
    printf("%s: failed: %s\n", name, message ? message : "(no message)");
    json_decref(record);
    /* the server still serves */
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, NULL, "'%s/healthz'", env.base), ==, 200);
    api_resp_free(&r);
}

int main(void)
{
    api_env_init(&env, "api_errors");
    static const char max_env[] = "LODESTONE_MAX_UPLOAD_BYTES=100000";
    env.serve_env[0] = max_env;
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char modeler[128], other[128], studio[128], partner[128], ops[128];
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("modeler", "grace", other, sizeof(other)), ==, 0);
    LDS_CHECK_INT(api_key_create("studio", "pixel", studio, sizeof(studio)), ==, 0);
    LDS_CHECK_INT(api_key_create("partner", "museum", partner, sizeof(partner)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);

    char small[1200], big[1200], exe[1200];
    snprintf(small, sizeof(small), "%s/small.ply", env.dir);
    snprintf(big, sizeof(big), "%s/big.ply", env.dir);
    snprintf(exe, sizeof(exe), "%s/x.exe", env.dir);
    LDS_CHECK_INT(api_write_sphere(small, 3, 24), ==, 0);  /* ~2300 triangles, well under the cap */
    LDS_CHECK_INT(api_write_sphere(big, 4, 120), ==, 0);   /* over 100000 bytes */
    LDS_CHECK_INT(write_random(exe, 4096), ==, 0);

    /* one good asset of ada's */
    char asset[LDS_ID_MAX] = "";
    LDS_CHECK_INT(api_upload(&env, modeler, small, "small.ply", asset, NULL), ==, 202);
    json_t *record = api_wait_asset(&env, modeler, asset, 60, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_decref(record);

    char url[512];
    snprintf(url, sizeof(url), "%s/v1/assets/%s", env.base, asset);

    /* 401: no key, a bad key, a malformed header; on reads and on uploads */
    expect_error(401, "unauthorized", NULL, "'%s'", url, NULL);
    expect_error(401, "unauthorized", "lds_0000000000000000000000000000000000000000", "'%s'", url, NULL);
    expect_error(401, "unauthorized", NULL, "-H 'Authorization: Basic Zm9vOmJhcg==' '%s'", url, NULL);
    expect_error(401, "unauthorized", NULL, "--data-binary '@%s' '%s/v1/assets?filename=small.ply'", small, env.base);
    expect_error(401, "unauthorized", "nope", "'%s/lods/0'", url, NULL);
    {
        api_resp r;
        api_curl(&env, &r, NULL, "'%s'", url);
        char value[256] = "";
        LDS_CHECK(api_header(&r, "WWW-Authenticate", value, sizeof(value)) != NULL);
        api_resp_free(&r);
    }

    /* 403 by role */
    expect_error(403, "forbidden", studio, "--data-binary '@%s' '%s/v1/assets?filename=small.ply'", small, env.base);
    expect_error(403, "forbidden", other, "'%s'", url, NULL);
    expect_error(403, "forbidden", other, "'%s/lods/0'", url, NULL);
    expect_error(403, "forbidden", other, "'%s/certificate'", url, NULL);
    expect_error(403, "forbidden", modeler, "'%s/v1/ops/queues'", env.base, NULL);
    expect_error(403, "forbidden", studio, "'%s/v1/ops/queues'", env.base, NULL);
    expect_error(403, "forbidden", partner, "'%s/v1/ops/queues'", env.base, NULL);
    {
        api_resp r;
        LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/v1/ops/queues'", env.base), ==, 200);
        api_resp_free(&r);
    }

    /* 404: unknown asset, LOD level and route */
    expect_error(404, "not_found", ops, "'%s/v1/assets/a_00000000000000000000000000000000'", env.base, NULL);
    expect_error(404, "not_found", ops, "'%s/v1/assets/a_00000000000000000000000000000000/lods/0'", env.base, NULL);
    expect_error(404, "not_found", ops, "'%s/lods/40'", url, NULL);
    expect_error(404, "not_found", ops, "'%s/v1/nothing/here'", env.base, NULL);
    expect_error(404, "not_found", NULL, "'%s/v2/assets'", env.base, NULL);
    expect_error(404, "not_found", ops, "-X DELETE '%s'", url, NULL);

    /* 400: a raw upload without a file name, a bad format, a bad level */
    expect_error(400, "bad_request", modeler, "--data-binary '@%s' '%s/v1/assets'", small, env.base);
    expect_error(400, "bad_request", modeler, "--data-binary '@%s' '%s/v1/assets?filename=a%%2Fb.ply'", small,
                 env.base);
    expect_error(400, "bad_request", ops, "'%s/lods/0?format=png'", url, NULL);
    expect_error(400, "bad_request", ops, "'%s/lods/first'", url, NULL);

    /* 413: over the cap, announced by Content-Length, and discovered mid-stream (chunked) */
    expect_error(413, "too_large", modeler, "--data-binary '@%s' '%s/v1/assets?filename=big.ply'", big, env.base);
    expect_error(413, "too_large", modeler,
                 "-H 'Transfer-Encoding: chunked' --data-binary '@%s' '%s/v1/assets?filename=big.ply'", big, env.base);
    expect_error(413, "too_large", modeler, "-F 'model=@%s' '%s/v1/assets'", big, env.base);
    /* without "Expect: 100-continue" the body comes at once: the 413 must still arrive */
    expect_error(413, "too_large", modeler, "-H 'Expect:' --data-binary '@%s' '%s/v1/assets?filename=big.ply'", big,
                 env.base);
    expect_error(413, "too_large", modeler,
                 "-H 'Expect:' -H 'Transfer-Encoding: chunked' --data-binary '@%s' '%s/v1/assets?filename=big.ply'",
                 big, env.base);

    /* 415: not a model format */
    expect_error(415, "unsupported_media_type", modeler, "--data-binary '@%s' '%s/v1/assets?filename=x.exe'", exe,
                 env.base);
    expect_error(415, "unsupported_media_type", modeler, "-F 'file=@%s' '%s/v1/assets'", exe, env.base);

    /* the service is fine after all that */
    char again[LDS_ID_MAX] = "";
    LDS_CHECK_INT(api_upload(&env, modeler, small, "small-again.ply", again, NULL), ==, 202);

    /* hostile files: accepted, then failed with the file named; the server keeps serving */
    char noise[1200], truncated[1200];
    snprintf(noise, sizeof(noise), "%s/noise.ply", env.dir);
    snprintf(truncated, sizeof(truncated), "%s/truncated.ply", env.dir);
    LDS_CHECK_INT(write_random(noise, 50000), ==, 0);
    LDS_CHECK_INT(write_truncated_ply(truncated), ==, 0);
    check_hostile(modeler, noise, "x.ply");
    check_hostile(modeler, truncated, "truncated.ply");

    /* metrics (an ops key's): requests by route and status, queue figures */
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/metrics'", env.base), ==, 200);
    const char *text = r.body ? r.body : "";
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"assets_post\",status=\"202\"}") >= 4);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"assets_post\",status=\"401\"}") >= 1);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"assets_post\",status=\"403\"}") >= 1);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"assets_post\",status=\"400\"}") >= 2);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"assets_post\",status=\"413\"}") >= 5);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"assets_post\",status=\"415\"}") >= 2);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"asset_get\",status=\"401\"}") >= 3);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"asset_get\",status=\"403\"}") >= 1);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"asset_get\",status=\"404\"}") >= 1);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"asset_get\",status=\"200\"}") >= 1);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"ops_queues\",status=\"403\"}") >= 3);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"ops_queues\",status=\"200\"}") >= 1);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"not_found\",status=\"404\"}") >= 2);
    LDS_CHECK(metric(text, "lodestone_http_requests_total{route=\"healthz\",status=\"200\"}") >= 2);
    LDS_CHECK(metric(text, "lodestone_queue_depth{priority=\"high\"}") >= 0);
    LDS_CHECK(metric(text, "lodestone_queue_in_flight{priority=\"high\"}") >= 0);
    LDS_CHECK(metric(text, "lodestone_dead_letters") >= 0);
    LDS_CHECK(metric(text, "lodestone_jobs_total{event=\"enqueued\"}") >= 4);
    LDS_CHECK(metric(text, "lodestone_jobs_total{event=\"failed\"}") >= 2);
    if (lds_test_failures)
        fprintf(stderr, "metrics:\n%s\n", text);
    api_resp_free(&r);

    /* the last good upload finished too */
    record = api_wait_asset(&env, modeler, again, 60, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_decref(record);
    api_env_stop(&env);
    return lds_test_result();
}
