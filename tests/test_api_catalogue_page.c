/* test_api_catalogue_page.c: the demo catalogue page in a real browser (headless Chromium driven
 * by tests/catalogue_page_check.mjs): the page lists what GET /v1/assets gives the key, every
 * card shows its 512x512 thumbnail, nothing is fetched off-site, no page error, and "view in 3D"
 * asks for a preview of that asset (POST /v1/assets/{id}/preview) and, when one is issued, opens
 * its viewer_url; when the preview route is not there the page says so instead of failing. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;

int main(void)
{
    api_env_init(&env, "api_catalogue_page");
    setenv("LDS_TOOLS", LDS_SOURCE_DIR "/tools", 1);
    const char *needed[] = {"node", "/usr/bin/chromium"};
    if (!lds_test_have_tools(needed, sizeof(needed) / sizeof(needed[0])))
        return lds_test_result();
    if (api_env_start(&env) != 0) {
        LDS_CHECK(0);
        return lds_test_result();
    }
    char modeler[128], studio[128];
    LDS_CHECK_INT(api_key_create("modeler", "maker", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("studio", "buyer", studio, sizeof(studio)), ==, 0);
    char ids[3][LDS_ID_MAX];
    for (unsigned i = 0; i < 3; i++) {
        char path[1200], name[32];
        snprintf(path, sizeof(path), "%s/s%u.ply", env.dir, i);
        snprintf(name, sizeof(name), "s%u.ply", i);
        LDS_CHECK_INT(api_write_sphere(path, 40 + i, 10), ==, 0);
        LDS_CHECK_INT(api_upload(&env, modeler, path, name, ids[i], NULL), ==, 202);
    }
    for (unsigned i = 0; i < 3; i++) {
        json_t *record = api_wait_asset(&env, modeler, ids[i], 200, NULL);
        LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
        json_decref(record);
    }
    api_sleep_ms(500); /* listed right after it is published */
    char *out = NULL, png[1200];
    snprintf(png, sizeof(png), "%s/catalogue.png", env.dir);
    int rc = lds_test_run(&out, "node '%s/tests/catalogue_page_check.mjs' '%s' '%s' '%s'", LDS_SOURCE_DIR, env.base,
                          studio, png);
    printf("%s\n", out ? out : "");
    LDS_CHECK_INT(rc, ==, 0);
    json_t *r = out ? json_loads(out, 0, NULL) : NULL;
    free(out);
    LDS_CHECK_INT(json_integer_value(json_object_get(r, "cards")), ==, 3);
    LDS_CHECK_INT(json_integer_value(json_object_get(r, "thumbnails")), ==, 3);
    LDS_CHECK_INT(json_array_size(json_object_get(r, "errors")), ==, 0);
    LDS_CHECK(json_is_true(json_object_get(r, "previewRequested")));
    json_int_t preview = json_integer_value(json_object_get(r, "previewStatus"));
    const char *first = json_string_value(json_array_get(json_object_get(r, "ids"), 0));
    if (preview == 200 || preview == 201) { /* the viewer page of that asset's preview */
        const char *to = json_string_value(json_object_get(r, "navigatedTo"));
        LDS_CHECK(to && first && strstr(to, first) != NULL);
    } else {
        LDS_CHECK_INT(preview, ==, 404); /* no preview route in this build: the page says why */
        const char *status = json_string_value(json_object_get(r, "status"));
        LDS_CHECK(status && strstr(status, "preview of") != NULL);
    }
    json_decref(r);
    api_env_stop(&env);
    return lds_test_result();
}
