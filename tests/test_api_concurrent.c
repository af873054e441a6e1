/* test_api_concurrent.c: 8 uploads at once (8 background curl processes) through real HTTP; all
 * are accepted, all end ready, and the transparency log has exactly one entry per asset (tree
 * size 8, eight distinct entries named by the certificates). */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "test_api_lib.h"

#define UPLOADS 8

static api_env env;

int main(void)
{
    api_env_init(&env, "api_concurrent");
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char modeler[128], ops[128];
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);
    for (int i = 0; i < UPLOADS; i++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/sphere%d.ply", env.dir, i);
        LDS_CHECK_INT(api_write_sphere(path, 100 + (unsigned)i, 40 + 2 * i), ==, 0);
    }
    /* all at once: background curls, the shell waits for all of them */
    int rc = lds_test_run(NULL,
                          "cd '%s' && for i in 0 1 2 3 4 5 6 7; do "
                          "curl -s --max-time 120 -o accepted$i.json -w '%%{http_code}' "
                          "-H 'Authorization: Bearer %s' --data-binary @sphere$i.ply "
                          "'%s/v1/assets?filename=sphere$i.ply&title=Sphere%%20'$i'&license=CC0-1.0' > status$i & "
                          "done; wait",
                          env.dir, modeler, env.base);
    LDS_CHECK_INT(rc, ==, 0);
    char ids[UPLOADS][LDS_ID_MAX];
    int accepted = 0;
    for (int i = 0; i < UPLOADS; i++) {
        char path[1200];
        ids[i][0] = 0;
        unsigned char *text = NULL;
        size_t size = 0;
        lds_error err;
        lds_error_clear(&err);
        snprintf(path, sizeof(path), "%s/status%d", env.dir, i);
        int status = lds_file_read(path, 0, &text, &size, &err) == LDS_OK ? atoi((char *)text) : 0;
        free(text);
        LDS_CHECK_INT(status, ==, 202);
        snprintf(path, sizeof(path), "%s/accepted%d.json", env.dir, i);
        json_error_t jerr;
        json_t *j = json_load_file(path, 0, &jerr);
        const char *id = json_string_value(json_object_get(json_object_get(j, "asset"), "id"));
        if (status == 202 && id) {
            snprintf(ids[i], sizeof(ids[i]), "%s", id);
            accepted++;
        }
        json_decref(j);
    }
    LDS_CHECK_INT(accepted, ==, UPLOADS);
    for (int i = 0; i < UPLOADS; i++)
        for (int k = 0; k < i; k++)
            LDS_CHECK(strcmp(ids[i], ids[k]) != 0);

    int indexes[UPLOADS];
    for (int i = 0; i < UPLOADS; i++) {
        indexes[i] = -1;
        if (!ids[i][0])
            continue;
        json_t *record = api_wait_asset(&env, modeler, ids[i], 80, NULL);
        LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
        json_decref(record);
        /* the certificate names its log entry */
        api_resp r;
        if (api_curl(&env, &r, modeler, "'%s/v1/assets/%s/certificate'", env.base, ids[i]) == 200) {
            json_t *cert = api_json(&r);
            json_t *index = json_object_get(json_object_get(cert, "log"), "index");
            if (json_is_integer(index))
                indexes[i] = (int)json_integer_value(index);
            json_decref(cert);
        }
        api_resp_free(&r);
    }
    LDS_CHECK_INT(api_tree_size(&env), ==, UPLOADS);
    int seen[UPLOADS] = {0};
    int named = 0;
    for (int i = 0; i < UPLOADS; i++)
        if (indexes[i] >= 0 && indexes[i] < UPLOADS) {
            seen[indexes[i]]++;
            named++;
        }
    LDS_CHECK_INT(named, ==, UPLOADS);
    for (int i = 0; i < UPLOADS; i++)
        LDS_CHECK_INT(seen[i], ==, 1);

    /* nothing left in the queue, nothing dead */
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/v1/ops/queues'", env.base), ==, 200);
    json_t *stats = api_json(&r);
    LDS_CHECK_INT(json_integer_value(json_object_get(stats, "in_flight_total")), ==, 0);
    LDS_CHECK_INT(json_integer_value(json_object_get(stats, "dead")), ==, 0);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(stats, "counters"), "completed")), ==, UPLOADS);
    json_decref(stats);
    api_resp_free(&r);
    api_env_stop(&env);
    return lds_test_result();
}
