/* test_service_hostile.c: a handful of the hostile set of issue 5 uploaded through POST /v1/assets
 * to a private `lodestone serve`: each asset ends "failed" with an error naming the file, and
 * /healthz keeps answering throughout. */
#include <time.h>

#include <jansson.h>

#include "hostile_set.h"
#include "testlib.h"

static const char *const chosen[] = {"huge.ply",      "hugefaces.ply", "nan.ply",     "nan.obj",
                                     "inf.stl",       "index.ply",     "index.obj",   "random.glb",
                                     "random.fbx",    "random.3ds",    "bomb.3mf",    "invalid-OutOfMemory.off",
                                     "invalid-malformed.obj", "random.dae", "empty.ply"};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void)
{
    const char *base = lds_test_tmpdir("service_hostile");
    char dir[1024], files_dir[1100], home[1100];
    snprintf(dir, sizeof(dir), "%s", base);
    snprintf(files_dir, sizeof(files_dir), "%s/files", dir);
    snprintf(home, sizeof(home), "%s/home", dir);
    if (lds_test_run(NULL, "mkdir -p '%s'", files_dir) != 0)
        return 1;
    lds_hostile_file *files = NULL;
    size_t count = lds_hostile_make(files_dir, 1, &files);
    setenv("LODESTONE_MAX_PARSE_SECONDS", "20", 1);
    setenv("LODESTONE_MAX_PARSE_MEMORY", "1G", 1);
    lds_test_service svc;
    if (lds_test_service_start(&svc, home, 2) != 0)
        return 1;
    char key[80], url[512];
    LDS_CHECK_INT(lds_test_service_key(&svc, "modeler", key), ==, 0);
    char assets[sizeof(chosen) / sizeof(chosen[0])][64];
    size_t n = sizeof(chosen) / sizeof(chosen[0]);
    snprintf(url, sizeof(url), "%s/healthz", svc.url);
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
        char post[512], *body = NULL;
        snprintf(post, sizeof(post), "%s/v1/assets?filename=%s", svc.url, f->name);
        int code = lds_test_http(&body, "POST", post, key, f->path);
        json_t *j = body ? json_loads(body, 0, NULL) : NULL;
        if (strncmp(f->name, "empty.", 6) == 0) { /* refused up front */
            LDS_CHECK_INT(code, ==, 400);
            LDS_CHECK(body && strstr(body, f->name));
            json_decref(j);
            free(body);
            continue;
        }
        const char *id = json_string_value(json_object_get(json_object_get(j, "asset"), "id"));
        if (code == 202 && id)
            snprintf(assets[c], sizeof(assets[c]), "%s", id);
        else
            fprintf(stderr, "%s: POST answered %d: %s\n", f->name, code, body ? body : "");
        LDS_CHECK_INT(code, ==, 202);
        json_decref(j);
        free(body);
    }
    /* follow them all; the server must keep answering meanwhile */
    size_t failed = 1; /* the empty one, refused above */
    for (size_t c = 0; c < n; c++) {
        if (!assets[c][0])
            continue;
        char get[1200];
        snprintf(get, sizeof(get), "%s/v1/assets/%s", svc.url, assets[c]);
        const char *status = NULL;
        json_t *j = NULL;
        for (int round = 0; round < 1200; round++) {
            char *body = NULL;
            int code = lds_test_http(&body, "GET", get, key, NULL);
            LDS_CHECK_INT(lds_test_http(NULL, "GET", url, NULL, NULL), ==, 200);
            json_decref(j);
            j = body ? json_loads(body, 0, NULL) : NULL;
            free(body);
            status = json_string_value(json_object_get(j, "status"));
            if (code != 200 || status == NULL || (strcmp(status, "queued") != 0 && strcmp(status, "processing") != 0))
                break;
            sleep_ms(250);
        }
        const char *message = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        fprintf(stderr, "%s: %s: %s\n", chosen[c], status ? status : "(no status)", message ? message : "");
        LDS_CHECK_STR(status, "failed");
        LDS_CHECK(message && strstr(message, chosen[c]));
        failed += status && strcmp(status, "failed") == 0;
        json_decref(j);
    }
    LDS_CHECK_INT(lds_test_http(NULL, "GET", url, NULL, NULL), ==, 200);
    fprintf(stderr, "service hostile set: %zu of %zu uploads failed cleanly; /healthz answered throughout\n", failed,
            n);
    lds_test_service_stop(&svc);
    free(files);
    return lds_test_result();
}
