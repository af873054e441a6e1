/* test_api_time_budget.c: a job over its time budget (issue 9, Hangs) through the real service.
 * With LODESTONE_MAX_JOB_SECONDS=3 (12 under the sanitizers) and one worker, a 3.9M-triangle model cannot finish: its asset
 * ends failed with a message naming the limit, the job is in the dead letters (never retried:
 * one attempt), and the worker is free again, since a small model uploaded after it is ready. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;

/* An n x n heightfield as a binary PLY. */
static int write_heightfield(const char *path, uint32_t n)
{
    FILE *out = fopen(path, "wb");
    if (out == NULL)
        return -1;
    fprintf(out, "ply\nformat binary_little_endian 1.0\nelement vertex %u\nproperty float x\nproperty float y\n"
                 "property float z\nelement face %u\nproperty list uchar uint vertex_indices\nend_header\n",
            n * n, 2 * (n - 1) * (n - 1));
    for (uint32_t y = 0; y < n; y++)
        for (uint32_t x = 0; x < n; x++) {
            float p[3] = {(float)x / (float)n, (float)y / (float)n, (float)((x * 7 + y * 13) % 17) / 400.0f};
            fwrite(p, sizeof(p), 1, out);
        }
    for (uint32_t y = 0; y + 1 < n; y++)
        for (uint32_t x = 0; x + 1 < n; x++) {
            uint32_t a = y * n + x, b = a + 1, c = a + n, d = c + 1;
            unsigned char three = 3;
            uint32_t t1[3] = {a, b, d}, t2[3] = {a, d, c};
            fwrite(&three, 1, 1, out);
            fwrite(t1, sizeof(t1), 1, out);
            fwrite(&three, 1, 1, out);
            fwrite(t2, sizeof(t2), 1, out);
        }
    return fclose(out);
}

int main(void)
{
    api_env_init(&env, "api_time_budget");
    /* Under the sanitizers even the small model needs more than 3 s; the big one needs minutes. */
    const int seconds = LDS_FORK_NEEDS_QUIET ? 12 : 3;
    char budget[64], expected[64];
    snprintf(budget, sizeof(budget), "LODESTONE_MAX_JOB_SECONDS=%d", seconds);
    snprintf(expected, sizeof(expected), "time limit of %d s", seconds);
    env.serve_env[0] = budget;
    env.workers = 1;
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char modeler[128], ops[128];
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);
    char big[1200], small[1200], big_id[LDS_ID_MAX] = "", small_id[LDS_ID_MAX] = "";
    snprintf(big, sizeof(big), "%s/big.ply", env.dir);
    snprintf(small, sizeof(small), "%s/small.ply", env.dir);
    LDS_CHECK_INT(write_heightfield(big, 1400), ==, 0);
    LDS_CHECK_INT(api_write_sphere(small, 3, 8), ==, 0);
    LDS_CHECK_INT(api_upload(&env, modeler, big, "big.ply", big_id, NULL), ==, 202);

    json_t *record = api_wait_asset(&env, modeler, big_id, 240, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "failed");
    const char *message = json_string_value(json_object_get(json_object_get(record, "error"), "message"));
    if (message == NULL || strstr(message, expected) == NULL)
        LDS_CHECK_STR(message, expected);
    json_decref(record);

    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/v1/ops/queues'", env.base), ==, 200);
    json_t *stats = api_json(&r);
    api_resp_free(&r);
    LDS_CHECK_INT(json_integer_value(json_object_get(stats, "dead")), ==, 1);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(stats, "counters"), "retried")), ==, 0);
    json_decref(stats);

    /* the one worker is free again */
    LDS_CHECK_INT(api_upload(&env, modeler, small, "small.ply", small_id, NULL), ==, 202);
    record = api_wait_asset(&env, modeler, small_id, 240, NULL);
    const char *status = json_string_value(json_object_get(record, "status"));
    if (status == NULL || strcmp(status, "ready") != 0) {
        char *dump = json_dumps(record, JSON_COMPACT);
        fprintf(stderr, "small model: %s\n", dump ? dump : "(none)");
        free(dump);
    }
    LDS_CHECK_STR(status, "ready");
    json_decref(record);
    api_env_stop(&env);
    return lds_test_result();
}
