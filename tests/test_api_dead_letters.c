/* test_api_dead_letters.c: a dead-letter round trip through the real service. An upload is
 * accepted while no worker runs; its stored original is then taken out of the blob store, so
 * that every attempt fails (a retryable error: the blob is missing). With
 * LODESTONE_MAX_ATTEMPTS=2 the job lands in the dead letters: the asset is failed, /v1/ops/queues
 * and /metrics show one dead letter. The blob is put back, `lodestone queue retry --all`
 * re-enqueues the job, and the asset ends ready with one log entry. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;

static json_t *queues(const char *ops)
{
    api_resp r;
    json_t *j = api_curl(&env, &r, ops, "'%s/v1/ops/queues'", env.base) == 200 ? api_json(&r) : NULL;
    api_resp_free(&r);
    return j;
}

int main(void)
{
    api_env_init(&env, "api_dead_letters");
    static const char attempts[] = "LODESTONE_MAX_ATTEMPTS=2", backoff[] = "LODESTONE_BACKOFF_MS=100";
    env.serve_env[0] = attempts;
    env.serve_env[1] = backoff;
    env.workers = -1; /* no workers: the job waits in the queue */
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char modeler[128], ops[128];
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);
    char model[1200], asset[LDS_ID_MAX] = "";
    snprintf(model, sizeof(model), "%s/sphere.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 5, 30), ==, 0);
    LDS_CHECK_INT(api_upload(&env, modeler, model, "sphere.ply", asset, NULL), ==, 202);

    /* take the stored original out of the store (blobs/ab/cdef....zst, id = sha256 of the file) */
    unsigned char *data = NULL, digest[LDS_SHA256_BYTES];
    size_t size = 0;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_read(model, 0, &data, &size, &err), &err);
    lds_sha256_buffer(data, size, digest);
    free(data);
    char id[LDS_SHA256_HEX], blob[1300], aside[1400];
    lds_hex_encode(digest, sizeof(digest), id);
    int compressed = 0;
    char blobs[1200];
    snprintf(blobs, sizeof(blobs), "%s/blobs", env.home);
    LDS_CHECK_OK(lds_blob_locate(blobs, id, blob, sizeof(blob), &compressed, NULL, &err), &err);
    snprintf(aside, sizeof(aside), "%s.aside", blob);
    LDS_CHECK_INT(rename(blob, aside), ==, 0);

    /* workers now: two attempts fail, the job is a dead letter, the asset failed */
    api_serve_stop(&env);
    env.workers = 2;
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    json_t *record = api_wait_asset(&env, modeler, asset, 60, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "failed");
    const char *message = json_string_value(json_object_get(json_object_get(record, "error"), "message"));
    printf("failed: %s\n", message ? message : "(no message)");
    LDS_CHECK(message && strstr(message, env.dir) == NULL); /* the uploader is not shown server paths */
    json_decref(record);
    long long dead = 0;
    for (int i = 0; i < 100 && dead == 0; i++) {
        json_t *stats = queues(ops);
        dead = json_integer_value(json_object_get(stats, "dead"));
        json_decref(stats);
        if (dead == 0)
            api_sleep_ms(100);
    }
    LDS_CHECK_INT(dead, ==, 1);
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/metrics'", env.base), ==, 200); /* ops only */
    LDS_CHECK(r.body && strstr(r.body, "\nlodestone_dead_letters 1\n") != NULL);
    api_resp_free(&r);
    char *out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "'%s' queue 2>&1", lds_test_bin()), ==, 0);
    printf("lodestone queue:\n%s", out ? out : "");
    free(out);

    /* put the blob back and retry the dead letter: the asset ends ready, one log entry */
    LDS_CHECK_INT(rename(aside, blob), ==, 0);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' queue retry --all >/dev/null 2>&1", lds_test_bin()), ==, 0);
    record = NULL;
    for (int i = 0; i < 600; i++) { /* the failed record turns queued, then ready */
        json_decref(record);
        api_curl(&env, &r, modeler, "'%s/v1/assets/%s'", env.base, asset);
        record = api_json(&r);
        api_resp_free(&r);
        const char *status = json_string_value(json_object_get(record, "status"));
        if (status && strcmp(status, "ready") == 0)
            break;
        api_sleep_ms(100);
    }
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_decref(record);
    json_t *stats = queues(ops);
    LDS_CHECK_INT(json_integer_value(json_object_get(stats, "dead")), ==, 0);
    json_decref(stats);
    LDS_CHECK_INT(api_tree_size(&env), ==, 1);
    api_env_stop(&env);
    return lds_test_result();
}
