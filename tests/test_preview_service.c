/* test_preview_service.c: protected previews end to end (issue 12 items 3 and 4) through the real
 * `lodestone serve`, curl, Chromium and the tools a leaker would use.
 *
 * A modeler uploads a generated bumpy ellipsoid (~67k triangles, so the preview is simplified to
 * its cap) and a second model; 20 studio accounts each get a preview. Checked: the previews are
 * within their caps and watermarked differently; tampered, unknown, foreign-key, expired and
 * other-asset tokens get 401/403 JSON; the viewer page renders the model in Chromium with no page
 * error and nothing fetched off-site; `lodestone trace` names the right viewer after each attack
 * (as served, meshopt re-encoding with gltfpack, Draco with draco_encoder and with
 * glTF-Transform, gltfpack -si 0.5, noise, OBJ re-export, rigid motion and scale, and all of them
 * chained), and nobody for a clean LOD or the original; POST /v1/ops/trace agrees. Suspects are
 * traced as the attack left them (meshopt and Draco GLB through lodestone's glTF reader); the
 * attacker's tools need a plain copy first (preview_tools.mjs decode: gltfpack refuses compressed
 * input). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"
#include "test_api_lib.h"

#define VIEWERS 20
#define MAX_TRIANGLES 20000

static api_env env;
static char ops_key[128], owner_key[128], keys[VIEWERS][128], asset[64], other[64];
static char tokens[VIEWERS][1024], preview_ids[VIEWERS][64];
static char tools[1200];

/* A closed bumpy ellipsoid as ASCII PLY: 4 n^2 triangles. */
static int write_ellipsoid(const char *path, int n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int sectors = 2 * n;
    long vertices = 2 + (long)(n - 1) * sectors, faces = 2L * sectors * (n - 1);
    fprintf(f, "ply\nformat ascii 1.0\nelement vertex %ld\nproperty float x\nproperty float y\nproperty float z\n"
               "element face %ld\nproperty list uchar int vertex_indices\nend_header\n",
            vertices, faces);
    const double pi = 3.14159265358979323846;
    for (int i = 0; i <= n; i++) {
        double theta = pi * i / n;
        for (int j = 0; j < ((i == 0 || i == n) ? 1 : sectors); j++) {
            double phi = 2 * pi * j / sectors;
            double r = 1.0 + 0.08 * sin(5 * theta + 0.3) * cos(3 * phi + 0.5) + 0.04 * sin(11 * phi);
            fprintf(f, "%.6f %.6f %.6f\n", 1.6 * r * sin(theta) * cos(phi), r * sin(theta) * sin(phi),
                    0.7 * r * cos(theta) + 0.1 * sin(theta) * cos(phi));
        }
    }
    for (int j = 0; j < sectors; j++)
        fprintf(f, "3 0 %d %d\n", 1 + j, 1 + (j + 1) % sectors);
    for (int i = 0; i < n - 2; i++)
        for (int j = 0; j < sectors; j++) {
            long v00 = 1 + (long)i * sectors + j, v01 = 1 + (long)i * sectors + (j + 1) % sectors;
            fprintf(f, "3 %ld %ld %ld\n3 %ld %ld %ld\n", v00, v00 + sectors, v01 + sectors, v00, v01 + sectors, v01);
        }
    long last = 1 + (long)(n - 2) * sectors;
    for (int j = 0; j < sectors; j++)
        fprintf(f, "3 %ld %ld %ld\n", vertices - 1, last + (j + 1) % sectors, last + j);
    return fclose(f) == 0 ? 0 : -1;
}

static int save(const api_resp *r, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = r->size ? fwrite(r->body, 1, r->size, f) : 0;
    return fclose(f) == 0 && n == r->size ? 0 : -1;
}

/* Runs a command (fmt with two %s) and parses the last line of its output as JSON. */
static json_t *run_json(const char *fmt, const char *a, const char *b)
{
    char *out = NULL;
    int rc = lds_test_run(&out, fmt, a, b);
    size_t n = out ? strlen(out) : 0;
    while (n > 0 && out[n - 1] == '\n')
        out[--n] = 0;
    const char *line = out ? strrchr(out, '\n') : NULL;
    line = line ? line + 1 : out;
    json_t *j = rc == 0 && line ? json_loads(line, 0, NULL) : NULL;
    if (j == NULL)
        fprintf(stderr, "command failed (%d) or printed no JSON:\n%s\n", rc, out ? out : "");
    free(out);
    return j;
}

/* ---- issuing and serving ---- */

static void issue_previews(void)
{
    for (int v = 0; v < VIEWERS; v++) {
        api_resp r = {0};
        char path[256];
        snprintf(path, sizeof(path), "/v1/assets/%s/preview", asset);
        LDS_CHECK_INT(api_request(&env, &r, "POST", path, keys[v], NULL), ==, 201);
        json_t *j = api_json(&r);
        const char *token = json_string_value(json_object_get(j, "token"));
        const char *model = json_string_value(json_object_get(j, "model_url"));
        LDS_CHECK(token && strncmp(token, "v4.public.", 10) == 0 && model && json_object_get(j, "viewer_url") &&
                  json_object_get(j, "expires"));
        if (token && model) {
            snprintf(tokens[v], sizeof(tokens[v]), "%s", token);
            snprintf(preview_ids[v], sizeof(preview_ids[v]), "%s", json_string_value(json_object_get(j, "preview")));
            api_resp m = {0};
            LDS_CHECK_INT(api_request(&env, &m, "GET", model, NULL, NULL), ==, 200);
            char file[1300];
            snprintf(file, sizeof(file), "%s/preview-%02d.glb", env.dir, v);
            LDS_CHECK(save(&m, file) == 0);
            api_resp_free(&m);
        }
        json_decref(j);
        api_resp_free(&r);
    }
}

static void check_caps(void)
{
    char file[1300], plain[1300], lod0[1300];
    snprintf(file, sizeof(file), "%s/preview-00.glb", env.dir);
    json_t *info = run_json("node '%s' info '%s'", tools, file);
    LDS_CHECK(info != NULL);
    json_int_t tris = json_integer_value(json_object_get(info, "triangles"));
    printf("preview: %lld triangles\n", (long long)tris);
    LDS_CHECK_INT(tris, <=, MAX_TRIANGLES);
    LDS_CHECK_INT(tris, >=, MAX_TRIANGLES / 2);
    LDS_CHECK_INT(json_integer_value(json_object_get(info, "max_texture")), <=, 512);
    json_decref(info);
    /* two viewers' previews differ (the watermark), both validate */
    snprintf(plain, sizeof(plain), "%s/preview-01.glb", env.dir);
    LDS_CHECK(lds_test_run(NULL, "cmp -s '%s' '%s'", file, plain) != 0);
    const char *both[] = {file, plain};
    lds_test_check_valid_glb(both, 2);
    api_resp r = {0};
    char path[256];
    snprintf(path, sizeof(path), "/v1/assets/%s/lods/0?format=meshopt", asset);
    LDS_CHECK_INT(api_request(&env, &r, "GET", path, owner_key, NULL), ==, 200);
    snprintf(lod0, sizeof(lod0), "%s/lod0.meshopt.glb", env.dir);
    save(&r, lod0);
    api_resp_free(&r);
    char *out = NULL;
    lds_test_run(&out, "stat -c %%s '%s' '%s'", file, lod0);
    printf("bytes: preview (meshopt) and LOD0 (meshopt): %s", out ? out : "?\n");
    free(out);
}

/* ---- tokens ---- */

static int get_status(const char *path, const char *code)
{
    api_resp r = {0};
    int status = api_request(&env, &r, "GET", path, NULL, NULL);
    json_t *j = api_json(&r);
    const char *got = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    if (code && (got == NULL || strcmp(got, code) != 0)) {
        fprintf(stderr, "GET %.80s...: code %s, expected %s\n", path, got ? got : "(none)", code);
        LDS_CHECK(0);
    }
    json_decref(j);
    api_resp_free(&r);
    return status;
}

static void signed_token(const char *claims_fmt, const char *jti, time_t iat, time_t exp, const char *for_asset,
                         char *out, size_t size)
{
    lds_error err;
    lds_error_clear(&err);
    lds_preview_keys *k = NULL;
    LDS_CHECK_OK(lds_preview_keys_open(env.home, &k, &err), &err);
    char a[32], b[32], claims[512];
    strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%SZ", gmtime(&iat));
    strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", gmtime(&exp));
    snprintf(claims, sizeof(claims), claims_fmt, for_asset, jti, a, b);
    char *token = NULL;
    if (k)
        LDS_CHECK_OK(lds_preview_token_sign(k, claims, &token, &err), &err);
    snprintf(out, size, "%s", token ? token : "x");
    free(token);
    lds_preview_keys_close(k);
}

static void check_tokens(void)
{
    static const char fmt[] = "{\"iss\":\"lodestone\",\"sub\":\"studio-00\",\"asset\":\"%s\",\"jti\":\"%s\","
                              "\"iat\":\"%s\",\"exp\":\"%s\"}";
    char path[2048], token[1024];
    const char *routes[] = {"model", "viewer"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "/v1/assets/%s/preview/%s", asset, routes[i]);
        LDS_CHECK_INT(get_status(path, "invalid_token"), ==, 401);
        snprintf(path, sizeof(path), "/v1/assets/%s/preview/%s?token=%s", asset, routes[i], tokens[0]);
        LDS_CHECK_INT(get_status(path, NULL), ==, 200);
        snprintf(token, sizeof(token), "%s", tokens[0]); /* tampered: one payload character */
        token[40] = token[40] == 'A' ? 'B' : 'A';
        snprintf(path, sizeof(path), "/v1/assets/%s/preview/%s?token=%s", asset, routes[i], token);
        LDS_CHECK_INT(get_status(path, "invalid_token"), ==, 401);
        snprintf(path, sizeof(path), "/v1/assets/%s/preview/%s?token=%s", other, routes[i], tokens[0]);
        LDS_CHECK_INT(get_status(path, "wrong_asset"), ==, 403);
    }
    time_t now = time(NULL);
    signed_token(fmt, preview_ids[0], now - 1000, now - 100, asset, token, sizeof(token));
    snprintf(path, sizeof(path), "/v1/assets/%s/preview/model?token=%s", asset, token);
    LDS_CHECK_INT(get_status(path, "token_expired"), ==, 401);
    signed_token(fmt, "00000000000000000000000000000000", now, now + 600, asset, token, sizeof(token));
    snprintf(path, sizeof(path), "/v1/assets/%s/preview/model?token=%s", asset, token);
    LDS_CHECK_INT(get_status(path, "invalid_token"), ==, 401); /* signed, but never issued */
    signed_token(fmt, preview_ids[0], now, now + 3600, asset, token, sizeof(token));
    snprintf(path, sizeof(path), "/v1/assets/%s/preview/model?token=%s", asset, token);
    LDS_CHECK_INT(get_status(path, "invalid_token"), ==, 401); /* over the 15-minute limit */
    /* a token of another key (v4.public of the specification's test key) */
    snprintf(path, sizeof(path), "/v1/assets/%s/preview/model?token=%s", asset,
             "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAyMi0wMS0wMVQwMDowMDowMCswMDowMCJ9bg_"
             "XBBzds8lTZShVlwwKSgeKpLT3yukTw6JUz3W4h_ExsQV-P0V54zemZDcAxFaSeef1QlXEFtkqxT1ciiQEDA");
    LDS_CHECK_INT(get_status(path, "invalid_token"), ==, 401);
    /* issuing: no key 401, a modeler who does not own the asset 403 */
    char stranger[128];
    LDS_CHECK(api_key_create("modeler", "stranger", stranger, sizeof(stranger)) == 0);
    api_resp r = {0};
    snprintf(path, sizeof(path), "/v1/assets/%s/preview", asset);
    LDS_CHECK_INT(api_request(&env, &r, "POST", path, NULL, NULL), ==, 401);
    api_resp_free(&r);
    LDS_CHECK_INT(api_request(&env, &r, "POST", path, stranger, NULL), ==, 403);
    LDS_CHECK(api_is_error_body(&r));
    api_resp_free(&r);
    LDS_CHECK_INT(api_curl(&env, &r, NULL, "--path-as-is '%s/web/three/../three/build/three.module.js'", env.base),
                  ==, 404);
    api_resp_free(&r);
    LDS_CHECK_INT(get_status("/web/three/build/three.module.js", NULL), ==, 200);
    LDS_CHECK_INT(get_status("/web/three/package.json", NULL), ==, 404);
}

/* ---- the viewer in Chromium ---- */

static void check_viewer(void)
{
    char url[2048], png[1300];
    snprintf(url, sizeof(url), "%s/v1/assets/%s/preview/viewer?token=%s", env.base, asset, tokens[2]);
    snprintf(png, sizeof(png), "%s/viewer.png", env.dir);
    char command[4096];
    snprintf(command, sizeof(command), "node '%%s' viewer '%%s' '%s'", png);
    json_t *v = run_json(command, tools, url);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    printf("viewer: %s\n", text ? text : "(no result)");
    free(text);
    LDS_CHECK(json_is_true(json_object_get(v, "loaded")));
    LDS_CHECK_INT(json_array_size(json_object_get(v, "errors")), ==, 0);
    LDS_CHECK(json_real_value(json_object_get(v, "nonBackground")) > 0.05); /* the model, not a blank page */
    LDS_CHECK_INT(json_integer_value(json_object_get(v, "triangles")), <=, MAX_TRIANGLES);
    json_decref(v);
}

/* ---- leaks ---- */

typedef struct attack {
    const char *name;
    const char *script; /* sh: $IN the served preview, $T the tools, $D a scratch dir; writes $OUT */
    const char *suffix;
} attack;

static const attack attacks[] = {
    {"as served (meshopt GLB)", "cp $IN $OUT", "glb"},
    {"meshopt re-encode (gltfpack -cc)", "node $T decode $IN $D/a.glb && gltfpack -i $D/a.glb -o $OUT -cc >/dev/null", "glb"},
    {"Draco (draco_encoder -qp 11)",
     "node $T decode $IN $D/a.glb && node $T obj $D/a.glb $D/a.obj && draco_encoder -i $D/a.obj -o $D/a.drc -qp 11 >/dev/null"
     " && draco_decoder -i $D/a.drc -o $OUT >/dev/null", "ply"},
    {"Draco glTF (glTF-Transform)", "node $T decode $IN $D/a.glb && node $T draco $D/a.glb $OUT", "glb"},
    {"simplify half (gltfpack -si 0.5)", "node $T decode $IN $D/a.glb && gltfpack -i $D/a.glb -o $OUT -si 0.5 -noq >/dev/null", "glb"},
    {"noise 0.05% of the diagonal", "node $T decode $IN $D/a.glb && node $T noise $D/a.glb $OUT 0.0005 7", "glb"},
    {"OBJ re-export (assimp)", "node $T decode $IN $D/a.glb && assimp export $D/a.glb $OUT >/dev/null", "obj"},
    {"rigid motion + scale 3.7", "node $T decode $IN $D/a.glb && node $T rigid $D/a.glb $OUT", "glb"},
    {"all: half, noise, rigid, OBJ, Draco",
     "node $T decode $IN $D/a.glb && gltfpack -i $D/a.glb -o $D/b.glb -si 0.5 -noq >/dev/null && node $T noise $D/b.glb $D/c.glb 0.0003 9"
     " && node $T rigid $D/c.glb $D/d.glb && node $T obj $D/d.glb $D/d.obj && draco_encoder -i $D/d.obj -o $D/d.drc >/dev/null"
     " && draco_decoder -i $D/d.drc -o $OUT >/dev/null", "ply"},
};

static json_t *trace_file(const char *suspect)
{
    char *out = NULL;
    int rc = lds_test_run(&out, "'%s' trace '%s' --asset %s --json", lds_test_bin(), suspect, asset);
    json_t *j = rc == 0 && out ? json_loads(out, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    if (j == NULL)
        fprintf(stderr, "trace %s failed (%d): %s\n", suspect, rc, out ? out : "");
    free(out);
    return j;
}

static void check_traces(void)
{
    size_t count = sizeof(attacks) / sizeof(attacks[0]);
    int right = 0;
    printf("\n%-38s %-11s %-11s %7s %10s\n", "attack", "leaker", "traced to", "score", "p");
    for (size_t a = 0; a < count; a++) {
        int v = (int)(3 * a + 1) % VIEWERS;
        char in[1300], out[1300], scratch[1300];
        snprintf(in, sizeof(in), "%s/preview-%02d.glb", env.dir, v);
        snprintf(out, sizeof(out), "%s/suspect-%zu.%s", env.dir, a, attacks[a].suffix);
        snprintf(scratch, sizeof(scratch), "%s/attack-%zu", env.dir, a);
        int rc = lds_test_run(NULL, "mkdir -p '%s' && cd '%s' && IN='%s' OUT='%s' T='%s' D='%s' sh -ec '%s' 2>&1",
                              scratch, scratch, in, out, tools, scratch, attacks[a].script);
        LDS_CHECK_INT(rc, ==, 0);
        json_t *j = trace_file(out);
        const char *who = json_string_value(json_object_get(j, "viewer"));
        char expected[32];
        snprintf(expected, sizeof(expected), "studio-%02d", v);
        printf("%-38s %-11s %-11s %7.2f %10.3g\n", attacks[a].name, expected, who ? who : "nobody",
               json_real_value(json_object_get(j, "score")), json_real_value(json_object_get(j, "p_value")));
        LDS_CHECK_STR(who, expected);
        LDS_CHECK(json_real_value(json_object_get(j, "p_value")) < 1e-6);
        right += who && strcmp(who, expected) == 0;
        json_decref(j);
    }
    printf("traced %d of %zu attacked previews to their viewer among %d\n", right, count, VIEWERS);
    /* clean files accuse nobody: a LOD and the original upload */
    const char *clean[] = {"lod1.glb", "lod0.glb"};
    for (int i = 0; i < 2; i++) {
        api_resp r = {0};
        char path[256], file[1300];
        snprintf(path, sizeof(path), "/v1/assets/%s/lods/%d?format=glb", asset, 1 - i);
        LDS_CHECK_INT(api_request(&env, &r, "GET", path, owner_key, NULL), ==, 200);
        snprintf(file, sizeof(file), "%s/clean-%s", env.dir, clean[i]);
        save(&r, file);
        api_resp_free(&r);
        json_t *j = trace_file(file);
        printf("%-38s %-11s %-11s %7.2f %10.3g\n", clean[i], "nobody",
               json_string_value(json_object_get(j, "viewer")) ? json_string_value(json_object_get(j, "viewer")) : "nobody",
               json_real_value(json_object_get(j, "score")), json_real_value(json_object_get(j, "p_value")));
        LDS_CHECK(j != NULL && json_is_null(json_object_get(j, "viewer")));
        json_decref(j);
    }
}

static void check_ops_trace(void)
{
    char path[256], suspect[1300];
    snprintf(suspect, sizeof(suspect), "%s/suspect-6.obj", env.dir); /* attack 6: viewer 19 */
    snprintf(path, sizeof(path), "/v1/ops/trace?asset=%s&filename=suspect.obj", asset);
    api_resp r = {0};
    LDS_CHECK_INT(api_request(&env, &r, "POST", path, ops_key, suspect), ==, 200);
    json_t *j = api_json(&r);
    LDS_CHECK_STR(json_string_value(json_object_get(j, "viewer")), "studio-19");
    json_decref(j);
    api_resp_free(&r);
    LDS_CHECK_INT(api_request(&env, &r, "POST", path, keys[0], suspect), ==, 403);
    api_resp_free(&r);
}

static int upload_ready(const char *file, const char *name, char *id)
{
    char job[64];
    if (api_upload(&env, owner_key, file, name, id, job) != 202)
        return -1;
    json_t *rec = api_wait_asset(&env, owner_key, id, 600, NULL);
    int ok = rec && strcmp(json_string_value(json_object_get(rec, "status")), "ready") == 0;
    json_decref(rec);
    return ok ? 0 : -1;
}

int main(void)
{
    api_env_init(&env, "preview_service");
    snprintf(tools, sizeof(tools), "%s/tests/preview_tools.mjs", LDS_SOURCE_DIR);
    setenv("LDS_TOOLS", LDS_SOURCE_DIR "/tools", 1);
    const char *needed[] = {"node", "gltfpack", "draco_encoder", "draco_decoder", "assimp", "/usr/bin/chromium"};
    if (!lds_test_have_tools(needed, sizeof(needed) / sizeof(needed[0])))
        return lds_test_result();
    if (api_env_start(&env) != 0) {
        LDS_CHECK(0);
        return lds_test_result();
    }
    LDS_CHECK(api_key_create("ops", "ops", ops_key, sizeof(ops_key)) == 0);
    LDS_CHECK(api_key_create("modeler", "museum", owner_key, sizeof(owner_key)) == 0);
    for (int v = 0; v < VIEWERS; v++) {
        char name[32];
        snprintf(name, sizeof(name), "studio-%02d", v);
        LDS_CHECK(api_key_create("studio", name, keys[v], sizeof(keys[v])) == 0);
    }
    char model[1300], second[1300];
    snprintf(model, sizeof(model), "%s/ellipsoid.ply", env.dir);
    snprintf(second, sizeof(second), "%s/sphere.ply", env.dir);
    LDS_CHECK(write_ellipsoid(model, 130) == 0 && api_write_sphere(second, 3, 30) == 0);
    LDS_CHECK(upload_ready(model, "ellipsoid.ply", asset) == 0);
    LDS_CHECK(upload_ready(second, "sphere.ply", other) == 0);
    if (lds_test_failures == 0) {
        issue_previews();
        check_caps();
        check_tokens();
        check_viewer();
        check_traces();
        check_ops_trace();
    }
    api_env_stop(&env);
    return lds_test_result();
}
