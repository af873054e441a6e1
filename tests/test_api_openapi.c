/* test_api_openapi.c: the server against its contract, proto/openapi.yaml: starts the service,
 * makes one ready asset, and runs tests/api_openapi_check.py (python3 + PyYAML), which requests
 * every documented operation and checks statuses, content types and required JSON fields, and
 * probes the routes the server answers for anything undocumented. */
#include <string.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;

int main(void)
{
    if (lds_test_run(NULL, "python3 -c 'import yaml' >/dev/null 2>&1") != 0)
        lds_test_skip("python3 with PyYAML (python3-yaml) is not installed");
    api_env_init(&env, "api_openapi");
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char ops[128];
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);
    char model[1200], asset[LDS_ID_MAX] = "";
    snprintf(model, sizeof(model), "%s/sphere.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 42, 30), ==, 0);
    LDS_CHECK_INT(api_upload(&env, ops, model, "sphere.ply", asset, NULL), ==, 202);
    json_t *record = api_wait_asset(&env, ops, asset, 60, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_decref(record);
    if (lds_test_failures)
        return lds_test_result();
    char *out = NULL;
    int rc = lds_test_run(&out, "python3 '%s/tests/api_openapi_check.py' '%s/proto/openapi.yaml' '%s' '%s' '%s' '%s' 2>&1",
                          LDS_SOURCE_DIR, LDS_SOURCE_DIR, env.base, ops, asset, model);
    printf("%s", out ? out : "");
    free(out);
    api_env_stop(&env);
    if (rc == 77)
        lds_test_skip("PyYAML is missing");
    LDS_CHECK_INT(rc, ==, 0);
    return lds_test_result();
}
