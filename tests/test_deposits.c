/* test_deposits.c: archive deposits end to end through real HTTP against a private `lodestone
 * serve` (issue 5): a good tar.zst with a manifest (three assimp-testmodels models, one an OBJ with
 * its MTL and textures) ends with every item ready and the manifest's accession, capture method
 * and title in each certificate; the depositor reads its assets, another partner gets 403;
 * hostile archives (zip bomb, "../", absolute, symlink, hard link) are refused with the member
 * and the reason, nothing appears outside the data directory and no disk is used; the CLI
 * `lodestone deposit` follows a deposit to its summary and exit status. */
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "test_api_lib.h"

static api_env env;
static char partner[80], other[80], modeler[80];

static json_t *http_json(int *code, const char *method, const char *path, const char *key, const char *body_path)
{
    api_resp r;
    *code = api_request(&env, &r, method, path, key, body_path);
    json_t *j = api_json(&r);
    if (j == NULL && r.body && *code != 200)
        fprintf(stderr, "%s %s: %d: %s\n", method, path, *code, r.body);
    api_resp_free(&r);
    return j;
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Standard base64 (padding ignored) into a malloc'd NUL-terminated string. */
static char *b64_decode(const char *in)
{
    size_t n = strlen(in);
    char *out = malloc(n + 1);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    return out;
}

/* Lists the names in dir into one string (for before/after comparisons). */
static char *list_dir(const char *dir)
{
    char *out = NULL;
    lds_test_run(&out, "ls -A '%s' | sort", dir);
    return out;
}

static long long du_bytes(const char *dir)
{
    char *out = NULL;
    lds_test_run(&out, "du -sb '%s' 2>/dev/null | cut -f1", dir);
    long long v = out ? atoll(out) : -1;
    free(out);
    return v;
}

/* Waits for the deposit to leave "processing" (bounded; not a timed assertion). */
static json_t *wait_deposit(const char *id, double *seconds)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/deposits/%s", id);
    double start = lds_time_ms();
    for (int i = 0; i < 2400; i++) {
        int code;
        json_t *d = http_json(&code, "GET", path, partner, NULL);
        const char *status = json_string_value(json_object_get(d, "status"));
        if (code != 200 || status == NULL) {
            fprintf(stderr, "GET %s: %d\n", path, code);
            json_decref(d);
            return NULL;
        }
        if (strcmp(status, "processing") != 0) {
            *seconds = (lds_time_ms() - start) / 1000.0;
            return d;
        }
        json_decref(d);
        api_sleep_ms(250);
    }
    fprintf(stderr, "deposit %s still processing after 10 minutes\n", id);
    return NULL;
}

typedef struct expect {
    const char *file, *title, *accession, *capture;
} expect;

static const expect expected[] = {
    {"models/box.glb", "Textured box", "2001.7.3", "CAD model"},
    {"scans/spider/spider.obj", "Spider", "1899.2.1", "photogrammetry"},
    {"scans/wuson.ply", "Wuson, a figurine", "1921.4.7", "structured light"},
};

static void check_certificate(const char *asset, const expect *e)
{
    char path[256];
    int code;
    snprintf(path, sizeof(path), "/v1/assets/%s/certificate", asset);
    json_t *bundle = http_json(&code, "GET", path, partner, NULL);
    LDS_CHECK_INT(code, ==, 200);
    const char *payload = json_string_value(json_object_get(json_object_get(bundle, "dsseEnvelope"), "payload"));
    LDS_CHECK(payload != NULL);
    if (payload) {
        char *text = b64_decode(payload);
        json_t *statement = json_loads(text, 0, NULL);
        json_t *predicate = json_object_get(statement, "predicate");
        json_t *source = json_object_get(predicate, "source");
        LDS_CHECK_STR(json_string_value(json_object_get(predicate, "title")), e->title);
        LDS_CHECK_STR(json_string_value(json_object_get(source, "accession")), e->accession);
        LDS_CHECK_STR(json_string_value(json_object_get(source, "captureMethod")), e->capture);
        LDS_CHECK_STR(json_string_value(json_object_get(source, "kind")), "deposit");
        json_decref(statement);
        free(text);
    }
    json_decref(bundle);
    /* another partner may not read it; the depositor may */
    json_t *j = http_json(&code, "GET", path, other, NULL);
    LDS_CHECK_INT(code, ==, 403);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/assets/%s", asset);
    j = http_json(&code, "GET", path, other, NULL);
    LDS_CHECK_INT(code, ==, 403);
    json_decref(j);
    j = http_json(&code, "GET", path, partner, NULL);
    LDS_CHECK_INT(code, ==, 200);
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(j, "metadata"), "source_kind")), "deposit");
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/assets/%s/lods/0", asset);
    api_resp r;
    LDS_CHECK_INT(api_request(&env, &r, "GET", path, partner, NULL), ==, 200);
    api_resp_free(&r);
}

static void good_deposit(const char *archive)
{
    int code;
    double start = lds_time_ms();
    json_t *r = http_json(&code, "POST", "/v1/deposits?filename=deposit.tar.zst", partner, archive);
    double accept_s = (lds_time_ms() - start) / 1000.0;
    LDS_CHECK_INT(code, ==, 202);
    json_t *dep = json_object_get(r, "deposit");
    const char *id = json_string_value(json_object_get(dep, "id"));
    LDS_CHECK_INT(json_array_size(json_object_get(dep, "items")), ==, 3);
    if (id == NULL) {
        json_decref(r);
        return;
    }
    /* another partner cannot follow it */
    char path[256];
    snprintf(path, sizeof(path), "/v1/deposits/%s", id);
    json_t *j = http_json(&code, "GET", path, other, NULL);
    LDS_CHECK_INT(code, ==, 403);
    json_decref(j);
    double seconds = 0;
    json_t *d = wait_deposit(id, &seconds);
    LDS_CHECK(d != NULL);
    if (d) {
        fprintf(stderr, "deposit of 3 items: accepted in %.2f s, all done %.1f s after acceptance\n", accept_s, seconds);
        LDS_CHECK_STR(json_string_value(json_object_get(d, "status")), "done");
        LDS_CHECK(json_is_null(json_object_get(d, "error")));
        json_t *items = json_object_get(d, "items");
        LDS_CHECK_INT(json_array_size(items), ==, 3);
        for (size_t i = 0; i < json_array_size(items) && i < 3; i++) {
            json_t *item = json_array_get(items, i);
            const char *file = json_string_value(json_object_get(item, "file"));
            LDS_CHECK_STR(file, expected[i].file);
            LDS_CHECK_STR(json_string_value(json_object_get(item, "status")), "ready");
            if (!json_is_null(json_object_get(item, "error")))
                fprintf(stderr, "%s: %s\n", file,
                        json_string_value(json_object_get(json_object_get(item, "error"), "message")));
            const char *asset = json_string_value(json_object_get(item, "asset"));
            if (asset)
                check_certificate(asset, &expected[i]);
        }
    }
    json_decref(d);
    json_decref(r);
}

/* A hostile archive: 413/422 naming the member, fast, no disk used, nothing outside home. */
static void refused(const char *archives, const char *name, unsigned status, const char *member, const char *outside)
{
    char archive[1200], path[1300], blobs[1200], tmp[1200], parent[1200];
    snprintf(archive, sizeof(archive), "%s/%s", archives, name);
    snprintf(path, sizeof(path), "/v1/deposits?filename=%s", name);
    snprintf(blobs, sizeof(blobs), "%s/blobs", env.home);
    snprintf(tmp, sizeof(tmp), "%s/tmp", env.home);
    snprintf(parent, sizeof(parent), "%s/..", env.home);
    char *parent_before = list_dir(parent), *tmp_before = list_dir(tmp);
    long long blobs_before = du_bytes(blobs);
    int code;
    double start = lds_time_ms();
    json_t *r = http_json(&code, "POST", path, partner, archive);
    double ms = lds_time_ms() - start;
    const char *message = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    fprintf(stderr, "%s: HTTP %d in %.0f ms: %s\n", name, code, ms, message ? message : "(no message)");
    LDS_CHECK_INT(code, ==, status);
    LDS_CHECK(message && strstr(message, member) && strstr(message, name));
    char *parent_after = list_dir(parent), *tmp_after = list_dir(tmp);
    LDS_CHECK_STR(parent_after, parent_before);
    LDS_CHECK_STR(tmp_after, tmp_before);
    LDS_CHECK_INT(du_bytes(blobs), ==, blobs_before);
    if (outside)
        LDS_CHECK(access(outside, F_OK) != 0);
    free(parent_before);
    free(parent_after);
    free(tmp_before);
    free(tmp_after);
    json_decref(r);
}

int main(void)
{
    struct stat sb;
    if (stat(LDS_ASSIMP_MODELS "/OBJ/spider.obj", &sb) != 0)
        lds_test_skip("assimp-testmodels are not installed");
    if (lds_test_run(NULL, "command -v zstd >/dev/null && command -v python3 >/dev/null") != 0)
        lds_test_skip("zstd or python3 missing");
    api_env_init(&env, "deposits");
    char archives[1100], archive[1200];
    snprintf(archives, sizeof(archives), "%s/archives", env.dir);
    char *out = NULL;
    if (lds_test_run(&out, "mkdir -p '%s' && python3 '%s/tests/make_deposit.py' '%s' '%s' 2>&1 && "
                           "python3 '%s/tests/make_archives.py' '%s' 2>&1",
                     archives, LDS_SOURCE_DIR, archives, LDS_ASSIMP_MODELS, LDS_SOURCE_DIR, archives) != 0) {
        fprintf(stderr, "building the archives failed: %s\n", out ? out : "");
        free(out);
        return 1;
    }
    free(out);
    snprintf(archive, sizeof(archive), "%s/deposit.tar.zst", archives);
    env.workers = 2;
    if (api_env_start(&env) != 0)
        return 1;
    char listen[64]; /* the CLI's default URL */
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", env.port);
    setenv("LODESTONE_LISTEN", listen, 1);
    LDS_CHECK_INT(api_key_create("partner", "test-partner", partner, sizeof(partner)), ==, 0);
    LDS_CHECK_INT(api_key_create("partner", "test-partner", other, sizeof(other)), ==, 0);
    LDS_CHECK_INT(api_key_create("modeler", "test-modeler", modeler, sizeof(modeler)), ==, 0);

    /* who may deposit */
    int code;
    json_t *j = http_json(&code, "POST", "/v1/deposits?filename=deposit.tar.zst", modeler, archive);
    LDS_CHECK_INT(code, ==, 403);
    json_decref(j);
    j = http_json(&code, "GET", "/v1/deposits/d_0123456789abcdef0123456789abcdef", NULL, NULL);
    LDS_CHECK_INT(code, ==, 401);
    json_decref(j);
    j = http_json(&code, "GET", "/v1/deposits/d_0123456789abcdef0123456789abcdef", partner, NULL);
    LDS_CHECK_INT(code, ==, 404);
    json_decref(j);

    /* hostile archives first: the blob store is empty, so any write would show */
    refused(archives, "bomb.zip", 413, "bomb.ply", NULL);
    refused(archives, "dotdot.tar", 422, "../x.ply", NULL);
    refused(archives, "dotdot.zip", 422, "../../x.ply", NULL);
    refused(archives, "absolute.tar", 422, "/abs.ply", "/abs.ply");
    refused(archives, "symlink.tar", 422, "link.ply", NULL);
    refused(archives, "hardlink.tar", 422, "hard.ply", NULL);
    refused(archives, "device.tar", 422, "dev.ply", NULL);
    refused(archives, "garbage.zip", 422, "garbage.zip", NULL);
    char x[1200];
    snprintf(x, sizeof(x), "%s/../x.ply", env.home);
    LDS_CHECK(access(x, F_OK) != 0);

    good_deposit(archive);

    /* the CLI: a deposit with a failing item (car.gltf has no scene) lists it and exits 1; a
     * refused archive exits 1 with the reason; --help */
    char *cli = NULL;
    int rc = lds_test_run(&cli, "'%s' deposit '%s/good.tar.zst' --url %s --key %s 2>&1", lds_test_bin(), archives,
                          env.base, partner);
    fprintf(stderr, "lodestone deposit good.tar.zst (exit %d):\n%s", rc, cli ? cli : "");
    LDS_CHECK_INT(rc, ==, 1);
    LDS_CHECK(cli && strstr(cli, "3 of 4 items ready, 1 failed"));
    LDS_CHECK(cli && strstr(cli, "FAILED models/car.gltf"));
    LDS_CHECK(cli && strstr(cli, "scans/bust.ply: ready"));
    free(cli);
    rc = lds_test_run(&cli, "LODESTONE_KEY=%s LODESTONE_URL=%s '%s' deposit '%s/symlink.tar' 2>&1", partner, env.base,
                      lds_test_bin(), archives);
    LDS_CHECK_INT(rc, ==, 1);
    LDS_CHECK(cli && strstr(cli, "link.ply is a symbolic link"));
    free(cli);
    rc = lds_test_run(&cli, "LODESTONE_KEY=%s '%s' deposit '%s' 2>&1", partner, lds_test_bin(), archive);
    fprintf(stderr, "lodestone deposit deposit.tar.zst (exit %d):\n%s", rc, cli ? cli : "");
    LDS_CHECK_INT(rc, ==, 0); /* LODESTONE_LISTEN gives the default URL */
    LDS_CHECK(cli && strstr(cli, "3 of 3 items ready"));
    free(cli);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' deposit --help >/dev/null", lds_test_bin()), ==, 0);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' deposit >/dev/null 2>&1", lds_test_bin()), ==, 2);

    api_env_stop(&env);
    return lds_test_result();
}
