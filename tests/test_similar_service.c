/* test_similar_service.c: duplicate detection through the whole service: a real redis-server on
 * a private Unix socket, `lodestone serve` (one worker, so that jobs run in upload order), HTTP
 * through curl.
 *  - owner A uploads homer.off, then a remesh of it: the second is not flagged (same owner);
 *  - owner B uploads another remesh: its report has two possible_duplicate warnings that name
 *    nothing B may not see; read with an ops key they name A's homers;
 *  - B uploads the bunny: no possible_duplicate;
 *  - GET /v1/assets/{B's homer}/similar lists A's homer for ops and studio keys, not for B;
 *    404 for an unknown asset, 409 for one that is not ready;
 *  - reprocessing A's homer does not flag it as a duplicate of itself, and leaves the index as it
 *    was (idempotent).
 * Skips without redis-server, curl or the corpus. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;

/* curl: returns the HTTP status, *body (may be NULL) the body parsed as JSON. */
static int http(json_t **body, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int http(json_t **body, const char *key, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    api_resp r;
    int status = api_curl(&env, &r, key, "%s", args);
    if (body)
        *body = api_json(&r);
    api_resp_free(&r);
    return status;
}

static void upload(const char *key, const char *path, char asset[LDS_ID_MAX])
{
    json_t *j = NULL;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int status = http(&j, key, "--data-binary '@%s' -H 'Content-Type: application/octet-stream' "
                               "'%s/v1/assets?filename=%s&title=%s&license=CC0-1.0'", path, env.base, name, name);
    LDS_CHECK_INT(status, ==, 202);
    const char *id = json_string_value(json_object_get(json_object_get(j, "asset"), "id"));
    snprintf(asset, LDS_ID_MAX, "%s", id ? id : "");
    json_decref(j);
}

/* Polls GET /v1/assets/{id} until ready or failed (5 minutes at most); returns the last body. */
static json_t *wait_asset(const char *key, const char *id)
{
    return api_wait_asset(&env, key, id, 300, NULL);
}

/* The possible_duplicate issues of a manifest naming asset other (NULL: any). */
static int duplicates(json_t *asset_body, const char *other)
{
    json_t *issues = json_object_get(json_object_get(json_object_get(asset_body, "manifest"), "report"), "issues");
    size_t i, n = 0;
    json_t *issue;
    json_array_foreach(issues, i, issue)
    {
        if (!json_is_string(json_object_get(issue, "code")) ||
            strcmp(json_string_value(json_object_get(issue, "code")), "possible_duplicate") != 0)
            continue;
        LDS_CHECK_STR(json_string_value(json_object_get(issue, "severity")), "warning");
        const char *message = json_string_value(json_object_get(issue, "message"));
        const char *asset = json_string_value(json_object_get(issue, "asset"));
        if (other == NULL)
            fprintf(stderr, "possible_duplicate: %s\n", message ? message : "");
        if (other == NULL || (asset && strcmp(asset, other) == 0 && message && strstr(message, other)))
            n++;
    }
    return n;
}

static json_t *ready(const char *key, const char *id)
{
    json_t *j = wait_asset(key, id);
    LDS_CHECK_STR(json_string_value(json_object_get(j, "status")), "ready");
    return j;
}

/* 1 when the /similar answer lists asset (*match receives its verdict). */
static int lists(json_t *similar, const char *asset, int *match)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(similar, "similar"), i, s)
    {
        const char *a = json_string_value(json_object_get(s, "asset"));
        if (a && strcmp(a, asset) == 0) {
            if (match)
                *match = json_is_true(json_object_get(s, "match"));
            double sim = json_number_value(json_object_get(s, "similarity"));
            LDS_CHECK(sim > 0.0 && sim <= 1.0);
            return 1;
        }
    }
    return 0;
}

int main(void)
{
    char homer[4096], homer_40[4096], homer_35[4096], bunny[4096];
    if (!lds_test_shared("corpus/remeshed/homer/homer.off", homer, sizeof(homer)) ||
        !lds_test_shared("corpus/remeshed/homer/homer_40.off", homer_40, sizeof(homer_40)) ||
        !lds_test_shared("corpus/remeshed/homer/homer_35.off", homer_35, sizeof(homer_35)) ||
        !lds_test_shared("corpus/scans/stanford-bunny.obj", bunny, sizeof(bunny)))
        lds_test_skip("corpus not found");
    api_env_init(&env, "similar_service");
    env.serve_env[0] = "LODESTONE_WORKER_GRACE_MS=2000";
    env.workers = 1;
    if (api_redis_start(&env) != 0) {
        fprintf(stderr, "redis-server did not start\n");
        return 1;
    }
    LDS_CHECK_INT(api_keys_init(&env), ==, 0);
    char key_a[128], key_b[128], key_ops[128], key_studio[128];
    LDS_CHECK_INT(api_key_create("modeler", "alice", key_a, sizeof(key_a)), ==, 0);
    LDS_CHECK_INT(api_key_create("modeler", "bob", key_b, sizeof(key_b)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "ops", key_ops, sizeof(key_ops)), ==, 0);
    LDS_CHECK_INT(api_key_create("studio", "studio", key_studio, sizeof(key_studio)), ==, 0);
    if (api_serve_start(&env) != 0)
        return 1;

    /* A: homer, then a remesh of it (same owner: no flag) */
    char a1[LDS_ID_MAX], a2[LDS_ID_MAX], b1[LDS_ID_MAX], b2[LDS_ID_MAX], bad[LDS_ID_MAX];
    upload(key_a, homer, a1);
    json_t *j = ready(key_a, a1);
    LDS_CHECK_INT(duplicates(j, NULL), ==, 0);
    json_decref(j);
    upload(key_a, homer_40, a2);
    j = ready(key_a, a2);
    LDS_CHECK_INT(duplicates(j, NULL), ==, 0);
    json_decref(j);

    /* B: another remesh of homer: flagged twice; B may not see A's assets, so the warnings do not
     * name them; an ops key reading the same report sees which they are */
    upload(key_b, homer_35, b1);
    j = ready(key_b, b1);
    LDS_CHECK_INT(duplicates(j, a1), ==, 0);
    LDS_CHECK_INT(duplicates(j, a2), ==, 0);
    LDS_CHECK_INT(duplicates(j, NULL), ==, 2);
    {
        char *text = json_dumps(json_object_get(j, "manifest"), JSON_COMPACT);
        LDS_CHECK(text && strstr(text, a1) == NULL && strstr(text, a2) == NULL);
        LDS_CHECK(text && strstr(text, "matches a model already registered") != NULL);
        free(text);
    }
    json_decref(j);
    j = ready(key_ops, b1);
    LDS_CHECK_INT(duplicates(j, a1), ==, 1);
    LDS_CHECK_INT(duplicates(j, a2), ==, 1);
    json_decref(j);

    /* B: the bunny: no flag */
    upload(key_b, bunny, b2);
    j = ready(key_b, b2);
    LDS_CHECK_INT(duplicates(j, NULL), ==, 0);
    json_decref(j);

    /* /similar */
    int match = 0;
    LDS_CHECK_INT(http(&j, key_ops, "'%s/v1/assets/%s/similar'", env.base, b1), ==, 200);
    {
        char *text = json_dumps(j, JSON_COMPACT);
        fprintf(stderr, "similar (ops): %s\n", text ? text : "");
        free(text);
    }
    LDS_CHECK_STR(json_string_value(json_object_get(j, "asset")), b1);
    LDS_CHECK(lists(j, a1, &match) && match);
    LDS_CHECK(lists(j, a2, &match) && match);
    LDS_CHECK(!lists(j, b1, NULL));
    LDS_CHECK(!lists(j, b2, &match) || !match);
    json_decref(j);
    LDS_CHECK_INT(http(&j, key_studio, "'%s/v1/assets/%s/similar?limit=1'", env.base, b1), ==, 200);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "similar")), ==, 1);
    json_decref(j);
    LDS_CHECK_INT(http(&j, key_b, "'%s/v1/assets/%s/similar'", env.base, b1), ==, 200);
    LDS_CHECK(!lists(j, a1, NULL) && !lists(j, a2, NULL)); /* a modeler sees only their own */
    json_decref(j);
    LDS_CHECK_INT(http(&j, key_a, "'%s/v1/assets/%s/similar'", env.base, a1), ==, 200);
    LDS_CHECK(lists(j, a2, &match) && match);
    LDS_CHECK(!lists(j, b1, NULL));
    json_decref(j);
    LDS_CHECK_INT(http(NULL, key_a, "'%s/v1/assets/%s/similar'", env.base, b1), ==, 403);
    LDS_CHECK_INT(http(NULL, NULL, "'%s/v1/assets/%s/similar'", env.base, b1), ==, 401);
    LDS_CHECK_INT(http(NULL, key_ops, "'%s/v1/assets/a_0123456789abcdef0123456789abcdef/similar'", env.base), ==, 404);
    LDS_CHECK_INT(http(NULL, key_ops, "'%s/v1/assets/%s/similar?limit=0'", env.base, b1), ==, 400);
    {
        char path[1300];
        snprintf(path, sizeof(path), "%s/empty.obj", env.dir);
        FILE *f = fopen(path, "w");
        fputs("# no geometry\nv 0 0 0\n", f);
        fclose(f);
        upload(key_a, path, bad);
        j = wait_asset(key_a, bad);
        LDS_CHECK_STR(json_string_value(json_object_get(j, "status")), "failed");
        json_decref(j);
        LDS_CHECK_INT(http(&j, key_ops, "'%s/v1/assets/%s/similar'", env.base, bad), ==, 409);
        LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(j, "error"), "code")), "not_ready");
        json_decref(j);
    }

    /* reprocessing A's homer: not a duplicate of itself, index unchanged */
    lds_redis *r = NULL;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_redis_connect(env.url, &r, &err), &err);
    long long members = lds_test_shape_index_members(r);
    LDS_CHECK_INT(members, >=, 4);
    LDS_CHECK_INT(http(&j, key_ops, "-X POST -H 'Content-Type: application/json' -d '{\"assets\": [\"%s\"]}' "
                                    "'%s/v1/ops/reprocess'", a1, env.base), ==, 202);
    const char *job = json_string_value(json_object_get(json_array_get(json_object_get(j, "jobs"), 0), "job"));
    char job_id[LDS_ID_MAX];
    snprintf(job_id, sizeof(job_id), "%s", job ? job : "");
    json_decref(j);
    json_t *record = NULL;
    for (int i = 0; i < 3000; i++) {
        json_decref(record);
        record = NULL;
        lds_assets_get(r, a1, &record, &err);
        json_t *rp = json_object_get(record, "reprocess");
        const char *state = json_string_value(json_object_get(rp, "status"));
        if (state && strcmp(json_string_value(json_object_get(rp, "job")), job_id) == 0 &&
            (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0))
            break;
        api_sleep_ms(100);
    }
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(record, "reprocess"), "status")), "done");
    LDS_CHECK_INT(duplicates(record, a1), ==, 0);
    LDS_CHECK_INT(duplicates(record, a2), ==, 0);
    LDS_CHECK_INT(duplicates(record, b1), ==, 1); /* B's copy came later, of another owner */
    LDS_CHECK(json_is_string(json_object_get(record, "shape")));
    json_decref(record);
    LDS_CHECK_INT(lds_test_shape_index_members(r), ==, members);
    lds_redis_close(r);

    api_env_stop(&env);
    return lds_test_result();
}
