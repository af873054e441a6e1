/* test_api_quota_fair.c: per-key quotas and fair scheduling (issue 9, Denial of service).
 *  1. With LODESTONE_QUOTA_REQUESTS_PER_MINUTE=20, 45 requests of one key (so that one minute
 *     window holds more than 20 of them) meet a 429 with Retry-After between 1 and 60 and a JSON
 *     error; another key is still served. LODESTONE_QUOTA_UPLOADS_PER_MINUTE=3 rations uploads.
 *  2. A partner deposit of 12 models is queued, then a modeler's upload, with no worker running;
 *     once one worker starts, the modeler's upload is done while at most one deposit item is
 *     (the order is asserted, not a time). */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;

static void test_quota(const char *a, const char *b)
{
    int limited = 0;
    api_resp r;
    for (int i = 0; i < 45 && !limited; i++) {
        int status = api_curl(&env, &r, a, "'%s/v1/log/checkpoint'", env.base);
        if (status == 429) {
            limited = 1;
            char retry[32];
            LDS_CHECK(api_header(&r, "Retry-After", retry, sizeof(retry)) != NULL);
            LDS_CHECK(atoi(retry) >= 1 && atoi(retry) <= 60);
            LDS_CHECK(api_is_error_body(&r));
        } else {
            LDS_CHECK_INT(status, ==, 200);
        }
        api_resp_free(&r);
    }
    LDS_CHECK(limited);
    LDS_CHECK_INT(api_curl(&env, &r, b, "'%s/v1/log/checkpoint'", env.base), ==, 200);
    api_resp_free(&r);
}

static int count_ready(const char *key, char ids[][LDS_ID_MAX], size_t count)
{
    int ready = 0;
    for (size_t i = 0; i < count; i++) {
        api_resp r;
        api_curl(&env, &r, key, "'%s/v1/assets/%s'", env.base, ids[i]);
        json_t *j = api_json(&r);
        const char *status = json_string_value(json_object_get(j, "status"));
        ready += status && strcmp(status, "ready") == 0;
        json_decref(j);
        api_resp_free(&r);
    }
    return ready;
}

static void test_fair(const char *partner, const char *modeler)
{
    /* a tar of 12 spheres with a manifest.csv */
    char dir[1200], cmd[4096];
    snprintf(dir, sizeof(dir), "%s/deposit", env.dir);
    LDS_CHECK_INT(lds_test_run(NULL, "mkdir -p '%s'", dir), ==, 0);
    FILE *csv = NULL;
    snprintf(cmd, sizeof(cmd), "%s/manifest.csv", dir);
    csv = fopen(cmd, "w");
    LDS_CHECK(csv != NULL);
    if (csv == NULL)
        return;
    fprintf(csv, "file,title,license\n");
    for (int i = 0; i < 12; i++) {
        char path[1300];
        snprintf(path, sizeof(path), "%s/s%02d.ply", dir, i);
        LDS_CHECK_INT(api_write_sphere(path, 100 + (unsigned)i, 40), ==, 0);
        fprintf(csv, "s%02d.ply,Sphere %d,CC0-1.0\n", i, i);
    }
    fclose(csv);
    LDS_CHECK_INT(lds_test_run(NULL, "cd '%s' && tar cf ../deposit.tar manifest.csv s*.ply", dir), ==, 0);
    api_resp r;
    int status = api_curl(&env, &r, partner,
                          "--data-binary '@%s/deposit.tar' -H 'Content-Type: application/x-tar' "
                          "'%s/v1/deposits?filename=deposit.tar'",
                          env.dir, env.base);
    LDS_CHECK_INT(status, ==, 202);
    json_t *deposit = api_json(&r);
    api_resp_free(&r);
    const char *deposit_id = json_string_value(json_object_get(json_object_get(deposit, "deposit"), "id"));
    /* the deposit's items, once walked */
    char items[12][LDS_ID_MAX];
    size_t item_count = 0;
    for (int i = 0; i < 600 && item_count < 12 && deposit_id; i++) {
        api_curl(&env, &r, partner, "'%s/v1/deposits/%s'", env.base, deposit_id);
        json_t *d = api_json(&r);
        api_resp_free(&r);
        json_t *list = json_object_get(d, "items");
        if (json_array_size(list) == 12) {
            for (size_t k = 0; k < 12; k++) {
                const char *id = json_string_value(json_object_get(json_array_get(list, k), "asset"));
                snprintf(items[item_count++], LDS_ID_MAX, "%s", id ? id : "");
            }
        }
        json_decref(d);
        if (item_count < 12)
            api_sleep_ms(100);
    }
    json_decref(deposit);
    LDS_CHECK_INT(item_count, ==, 12);
    char model[1200], asset[LDS_ID_MAX] = "";
    snprintf(model, sizeof(model), "%s/mine.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 7, 40), ==, 0);
    LDS_CHECK_INT(api_upload(&env, modeler, model, "mine.ply", asset, NULL), ==, 202);

    /* one worker now */
    api_serve_stop(&env);
    env.workers = 1;
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    json_t *record = api_wait_asset(&env, modeler, asset, 300, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_decref(record);
    int deposit_ready = count_ready(partner, items, item_count);
    printf("when the modeler's upload was ready: %d of %zu deposit items ready\n", deposit_ready, item_count);
    LDS_CHECK_INT(deposit_ready, <=, 1);
}

int main(void)
{
    api_env_init(&env, "api_quota_fair");
    static const char requests[] = "LODESTONE_QUOTA_REQUESTS_PER_MINUTE=20";
    env.serve_env[0] = requests;
    env.workers = -1;
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char modeler[128], other[128], partner[128];
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("modeler", "bob", other, sizeof(other)), ==, 0);
    LDS_CHECK_INT(api_key_create("partner", "museum", partner, sizeof(partner)), ==, 0);
    test_quota(modeler, other);
    api_serve_stop(&env);
    env.serve_env[0] = NULL;
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    test_fair(partner, other);
    api_env_stop(&env);
    return lds_test_result();
}
