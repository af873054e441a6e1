/* test_service_hostile.c: a handful of the hostile set of issue 5 uploaded through POST /v1/assets
 * to a private `lodestone serve`: each asset ends "failed" with an error naming the file, and
 * /healthz keeps answering throughout. */
#include <jansson.h>

#include "hostile_set.h"
#include "test_api_lib.h"

static const char *const chosen[] = {"huge.ply",      "hugefaces.ply", "nan.ply",     "nan.obj",
                                     "inf.stl",       "index.ply",     "index.obj",   "random.glb",
                                     "random.fbx",    "random.3ds",    "bomb.3mf",    "invalid-OutOfMemory.off",
                                     "invalid-malformed.obj", "random.dae", "empty.ply"};

static api_env env;

static int healthz(void)
{
    api_resp r;
    int status = api_request(&env, &r, "GET", "/healthz", NULL, NULL);
    api_resp_free(&r);
    return status;
}

int main(void)
{
    api_env_init(&env, "service_hostile");
    char files_dir[1100];
    snprintf(files_dir, sizeof(files_dir), "%s/files", env.dir);
    if (lds_test_run(NULL, "mkdir -p '%s'", files_dir) != 0)
        return 1;
    lds_hostile_file *files = NULL;
    size_t count = lds_hostile_make(files_dir, 1, 0, &files);
    setenv("LODESTONE_MAX_PARSE_SECONDS", "20", 1);
    setenv("LODESTONE_MAX_PARSE_MEMORY", "1G", 1);
    env.workers = 2;
    if (api_env_start(&env) != 0)
        return 1;
    char key[80];
    LDS_CHECK_INT(api_key_create("modeler", "test-modeler", key, sizeof(key)), ==, 0);
    char assets[sizeof(chosen) / sizeof(chosen[0])][64];
    size_t n = sizeof(chosen) / sizeof(chosen[0]);
    for (size_t c = 0; c < n; c++) {
        assets[c][0] = 0;
        const lds_hostile_file *f = NULL;
        for (size_t i = 0; i < count && f == NULL; i++)
            if (strcmp(files[i].name, chosen[c]) == 0)
                f = &files[i];
        if (f == NULL) {
            fprintf(stderr, "%s: not in the hostile set (missing source?)\n", chosen[c]);
            continue;
        }
        char post[512];
        snprintf(post, sizeof(post), "/v1/assets?filename=%s", f->name);
        api_resp r;
        int code = api_request(&env, &r, "POST", post, key, f->path);
        const char *body = r.body;
        json_t *j = api_json(&r);
        if (strncmp(f->name, "empty.", 6) == 0) { /* refused up front */
            LDS_CHECK_INT(code, ==, 400);
            LDS_CHECK(body && strstr(body, f->name));
            json_decref(j);
            api_resp_free(&r);
            continue;
        }
        const char *id = json_string_value(json_object_get(json_object_get(j, "asset"), "id"));
        if (code == 202 && id)
            snprintf(assets[c], sizeof(assets[c]), "%s", id);
        else
            fprintf(stderr, "%s: POST answered %d: %s\n", f->name, code, body ? body : "");
        LDS_CHECK_INT(code, ==, 202);
        json_decref(j);
        api_resp_free(&r);
    }
    /* follow them all; the server must keep answering meanwhile */
    size_t failed = 1; /* the empty one, refused above */
    for (size_t c = 0; c < n; c++) {
        if (!assets[c][0])
            continue;
        char get[1200];
        snprintf(get, sizeof(get), "/v1/assets/%s", assets[c]);
        const char *status = NULL;
        json_t *j = NULL;
        for (int round = 0; round < 1200; round++) {
            api_resp r;
            int code = api_request(&env, &r, "GET", get, key, NULL);
            LDS_CHECK_INT(healthz(), ==, 200);
            json_decref(j);
            j = api_json(&r);
            api_resp_free(&r);
            status = json_string_value(json_object_get(j, "status"));
            if (code != 200 || status == NULL || (strcmp(status, "queued") != 0 && strcmp(status, "processing") != 0))
                break;
            api_sleep_ms(250);
        }
        const char *message = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        fprintf(stderr, "%s: %s: %s\n", chosen[c], status ? status : "(no status)", message ? message : "");
        LDS_CHECK_STR(status, "failed");
        LDS_CHECK(message && strstr(message, chosen[c]));
        failed += status && strcmp(status, "failed") == 0;
        json_decref(j);
    }
    LDS_CHECK_INT(healthz(), ==, 200);
    fprintf(stderr, "service hostile set: %zu of %zu uploads failed cleanly; /healthz answered throughout\n", failed,
            n);
    api_env_stop(&env);
    free(files);
    return lds_test_result();
}
