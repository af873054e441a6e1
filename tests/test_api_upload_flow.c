/* test_api_upload_flow.c: the happy path of the HTTP API through real HTTP (curl) against a real
 * `lodestone serve` and a private redis-server: keys for every role, a raw upload that ends ready
 * with visible progress, every LOD in every format downloaded and valid (Khronos validator), the
 * certificate verified offline with the log's key (the same key GET /v1/log/key serves), ETag and
 * If-None-Match (304), byte ranges (206, suffix, 416), and a multipart upload of a textured OBJ
 * with its .mtl and PNG whose texture is carried into the manifest. */
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;

static void sha256_hex(const void *data, size_t size, char hex[LDS_SHA256_HEX])
{
    unsigned char digest[LDS_SHA256_BYTES];
    lds_sha256_buffer(data, size, digest);
    lds_hex_encode(digest, sizeof(digest), hex);
}

static int save(const char *path, const api_resp *r)
{
    lds_error err;
    lds_error_clear(&err);
    return lds_file_write_atomic(path, r->body ? r->body : "", r->size, &err) == LDS_OK ? 0 : -1;
}

/* Downloads every LOD of every format of a ready asset, checks them against the manifest and
 * validates them; returns the path of lod0.glb in lod0 (for the byte-range checks). */
static void check_lods(const char *key, const char *id, json_t *manifest, char *lod0, size_t lod0_size)
{
    json_t *lods = json_object_get(manifest, "lods");
    LDS_CHECK(json_array_size(lods) >= 2);
    const char *paths[64];
    char storage[64][1200];
    size_t count = 0;
    size_t i;
    json_t *lod;
    json_array_foreach(lods, i, lod)
    {
        long level = (long)json_integer_value(json_object_get(lod, "level"));
        const char *format;
        json_t *file;
        json_object_foreach(json_object_get(lod, "files"), format, file)
        {
            api_resp r;
            int status = api_curl(&env, &r, key, "'%s/v1/assets/%s/lods/%ld?format=%s'", env.base, id, level, format);
            LDS_CHECK_INT(status, ==, 200);
            char type[128] = "";
            api_header(&r, "Content-Type", type, sizeof(type));
            LDS_CHECK_STR(type, "model/gltf-binary");
            LDS_CHECK_INT(r.size, ==, json_integer_value(json_object_get(file, "bytes")));
            char hex[LDS_SHA256_HEX], etag[128] = "", want[LDS_SHA256_HEX + 2];
            sha256_hex(r.body ? r.body : "", r.size, hex);
            LDS_CHECK_STR(hex, json_string_value(json_object_get(file, "sha256")));
            snprintf(want, sizeof(want), "\"%s\"", hex);
            api_header(&r, "ETag", etag, sizeof(etag));
            LDS_CHECK_STR(etag, want); /* strong ETag: the content's digest */
            if (status == 200 && count < 64) {
                snprintf(storage[count], sizeof(storage[count]), "%s/lod%ld_%s.glb", env.dir, level, format);
                LDS_CHECK_INT(save(storage[count], &r), ==, 0);
                if (level == 0 && strcmp(format, "glb") == 0)
                    snprintf(lod0, lod0_size, "%s", storage[count]);
                paths[count] = storage[count];
                count++;
            }
            api_resp_free(&r);
        }
    }
    LDS_CHECK_INT(count, >=, 6);
    lds_test_check_valid_glb(paths, count);
    printf("%zu LOD files downloaded and validated\n", count);
}

static void check_certificate(const char *key, const char *id)
{
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, key, "'%s/v1/assets/%s/certificate'", env.base, id), ==, 200);
    char type[128] = "", cert[1200], pub[1200];
    api_header(&r, "Content-Type", type, sizeof(type));
    LDS_CHECK_STR(type, "application/json");
    snprintf(cert, sizeof(cert), "%s/certificate.json", env.dir);
    LDS_CHECK_INT(save(cert, &r), ==, 0);
    api_resp_free(&r);
    snprintf(pub, sizeof(pub), "%s/keys/notary.pub", env.home);
    char *out = NULL;
    int rc = lds_test_run(&out, "'%s' verify '%s' --key '%s' 2>&1", lds_test_bin(), cert, pub);
    LDS_CHECK_INT(rc, ==, 0);
    printf("verify: %s", out ? out : "");
    free(out);

    /* GET /v1/log/key is the same verifier key (no key needed) */
    unsigned char *file = NULL;
    size_t size = 0;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_read(pub, 0, &file, &size, &err), &err);
    while (file && size > 0 && (file[size - 1] == '\n' || file[size - 1] == '\r'))
        file[--size] = 0;
    LDS_CHECK_INT(api_curl(&env, &r, NULL, "'%s/v1/log/key'", env.base), ==, 200);
    size_t n = r.size;
    while (r.body && n > 0 && (r.body[n - 1] == '\n' || r.body[n - 1] == '\r'))
        r.body[--n] = 0;
    LDS_CHECK_STR(r.body, file ? (char *)file : "");
    free(file);
    api_resp_free(&r);
}

static void check_caching_and_ranges(const char *key, const char *id, const char *lod0)
{
    unsigned char *data = NULL;
    size_t size = 0;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_read(lod0, 0, &data, &size, &err), &err);
    if (data == NULL || size < 200)
        return;
    char url[512], etag[128] = "", value[256];
    snprintf(url, sizeof(url), "%s/v1/assets/%s/lods/0?format=glb", env.base, id);

    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, key, "'%s'", url), ==, 200);
    LDS_CHECK(api_header(&r, "ETag", etag, sizeof(etag)) != NULL);
    api_resp_free(&r);

    /* If-None-Match with the tag: 304, no body, the tag again */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-H 'If-None-Match: %s' '%s'", etag, url), ==, 304);
    LDS_CHECK_INT(r.size, ==, 0);
    LDS_CHECK_STR(api_header(&r, "ETag", value, sizeof(value)), etag);
    api_resp_free(&r);
    /* a different tag: the file */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-H 'If-None-Match: \"0000\"' '%s'", url), ==, 200);
    LDS_CHECK_INT(r.size, ==, size);
    api_resp_free(&r);

    /* Range: the first 100 bytes */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-H 'Range: bytes=0-99' '%s'", url), ==, 206);
    char want[128];
    snprintf(want, sizeof(want), "bytes 0-99/%zu", size);
    LDS_CHECK_STR(api_header(&r, "Content-Range", value, sizeof(value)), want);
    LDS_CHECK_INT(r.size, ==, 100);
    LDS_CHECK(r.size == 100 && memcmp(r.body, data, 100) == 0);
    api_resp_free(&r);

    /* a middle range */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-H 'Range: bytes=100-149' '%s'", url), ==, 206);
    LDS_CHECK(r.size == 50 && memcmp(r.body, data + 100, 50) == 0);
    api_resp_free(&r);

    /* suffix: the last 100 bytes */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-H 'Range: bytes=-100' '%s'", url), ==, 206);
    snprintf(want, sizeof(want), "bytes %zu-%zu/%zu", size - 100, size - 1, size);
    LDS_CHECK_STR(api_header(&r, "Content-Range", value, sizeof(value)), want);
    LDS_CHECK(r.size == 100 && memcmp(r.body, data + size - 100, 100) == 0);
    api_resp_free(&r);

    /* open-ended: from byte size-10 to the end */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-H 'Range: bytes=%zu-' '%s'", size - 10, url), ==, 206);
    LDS_CHECK(r.size == 10 && memcmp(r.body, data + size - 10, 10) == 0);
    api_resp_free(&r);

    /* unsatisfiable: starts at the end */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-H 'Range: bytes=%zu-' '%s'", size, url), ==, 416);
    snprintf(want, sizeof(want), "bytes */%zu", size);
    LDS_CHECK_STR(api_header(&r, "Content-Range", value, sizeof(value)), want);
    api_resp_free(&r);
    free(data);
}

static void check_multipart(const char *key)
{
    char dir[1024];
    if (lds_test_shared("corpus/textured/spot", dir, sizeof(dir)) == NULL) {
        printf("note: corpus/textured/spot is absent; multipart upload not checked\n");
        return;
    }
    /* the metadata part from a file: curl -F would split an inline value at ';' */
    char meta[1200];
    snprintf(meta, sizeof(meta), "%s/metadata.json", env.dir);
    const char *text = "{\"title\": \"Spot\", \"license\": \"CC0-1.0\", \"tags\": \"cow;toy\"}";
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_write_atomic(meta, text, strlen(text), &err), &err);
    api_resp r;
    int status = api_curl(&env, &r, key,
                          "-F 'model=@%s/spot.obj' -F 'material=@%s/spot.mtl' -F 'texture=@%s/spot_texture.png' "
                          "-F 'metadata=<%s;type=application/json' '%s/v1/assets'",
                          dir, dir, dir, meta, env.base);
    if (status != 202)
        fprintf(stderr, "multipart upload: %d %s\n", status, r.body ? r.body : "");
    LDS_CHECK_INT(status, ==, 202);
    json_t *j = api_json(&r);
    api_resp_free(&r);
    const char *id = json_string_value(json_object_get(json_object_get(j, "asset"), "id"));
    LDS_CHECK(id != NULL);
    if (id == NULL) {
        json_decref(j);
        return;
    }
    json_t *record = api_wait_asset(&env, key, id, 60, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_t *manifest = json_object_get(record, "manifest");
    json_t *textures = json_object_get(json_object_get(manifest, "report"), "textures");
    int carried = 0;
    size_t i;
    json_t *t;
    json_array_foreach(textures, i, t)
    {
        if (json_string_value(json_object_get(t, "name")) &&
            strcmp(json_string_value(json_object_get(t, "name")), "spot_texture.png") == 0 &&
            !json_is_true(json_object_get(t, "missing")))
            carried = 1;
    }
    LDS_CHECK(carried);
    if (!carried)
        fprintf(stderr, "textures: %s\n", json_dumps(textures, JSON_COMPACT));
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(record, "metadata"), "title")), "Spot");
    json_t *files = json_object_get(json_object_get(manifest, "source"), "files");
    LDS_CHECK_INT(json_array_size(files), ==, 3);
    /* the textured LOD0 downloads and is valid */
    LDS_CHECK_INT(api_curl(&env, &r, key, "'%s/v1/assets/%s/lods/0'", env.base, id), ==, 200);
    char path[1200];
    snprintf(path, sizeof(path), "%s/spot_lod0.glb", env.dir);
    LDS_CHECK_INT(save(path, &r), ==, 0);
    api_resp_free(&r);
    const char *paths[1] = {path};
    int errors = lds_test_validate_glb(paths, 1);
    LDS_CHECK(errors <= 0);
    printf("multipart upload %s: ready, texture carried\n", id);
    json_decref(record);
    json_decref(j);
}

int main(void)
{
    api_env_init(&env, "api_upload_flow");
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char modeler[128], studio[128], partner[128], ops[128];
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("studio", "pixel", studio, sizeof(studio)), ==, 0);
    LDS_CHECK_INT(api_key_create("partner", "museum", partner, sizeof(partner)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);
    LDS_CHECK(strncmp(modeler, "lds_", 4) == 0 && strcmp(modeler, ops) != 0);

    /* the model: the corpus bunny when present, else a generated sphere */
    char model[1200], name[64];
    if (lds_test_shared("corpus/scans/stanford-bunny.obj", model, sizeof(model)) != NULL) {
        snprintf(name, sizeof(name), "stanford-bunny.obj");
    } else {
        snprintf(model, sizeof(model), "%s/sphere.ply", env.dir);
        snprintf(name, sizeof(name), "sphere.ply");
        LDS_CHECK_INT(api_write_sphere(model, 1, 80), ==, 0);
    }
    api_resp r;
    int status = api_curl(&env, &r, modeler,
                          "--data-binary '@%s' '%s/v1/assets?filename=%s&title=Bunny&license=CC-BY-4.0&"
                          "category=scan&tags=rabbit;scan&description=A%%20range%%20scan'",
                          model, env.base, name);
    LDS_CHECK_INT(status, ==, 202);
    json_t *accepted = api_json(&r);
    api_resp_free(&r);
    const char *id = json_string_value(json_object_get(json_object_get(accepted, "asset"), "id"));
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(accepted, "asset"), "status")), "queued");
    LDS_CHECK(json_string_value(json_object_get(json_object_get(accepted, "job"), "id")) != NULL);
    if (id == NULL)
        return lds_test_result();
    printf("uploaded %s as %s\n", name, id);

    int saw_progress = 0;
    json_t *record = api_wait_asset(&env, modeler, id, 60, &saw_progress);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    LDS_CHECK(saw_progress > 0);
    json_t *progress = json_object_get(record, "progress");
    LDS_CHECK_STR(json_string_value(json_object_get(progress, "stage")), "done");
    LDS_CHECK(json_number_value(json_object_get(progress, "fraction")) == 1.0);
    printf("progress %s\n", saw_progress == 2 ? "seen while processing" : "only seen at the end (a fast job)");
    LDS_CHECK_STR(json_string_value(json_object_get(record, "id")), id);
    json_t *meta = json_object_get(record, "metadata");
    LDS_CHECK_STR(json_string_value(json_object_get(meta, "title")), "Bunny");
    LDS_CHECK_STR(json_string_value(json_object_get(meta, "license")), "CC-BY-4.0");
    LDS_CHECK_STR(json_string_value(json_object_get(meta, "description")), "A range scan");
    json_t *manifest = json_object_get(record, "manifest");
    LDS_CHECK(json_is_object(manifest));

    /* studios read ready assets (and download them); partners do not see modelers' assets */
    LDS_CHECK_INT(api_curl(&env, &r, studio, "'%s/v1/assets/%s'", env.base, id), ==, 200);
    api_resp_free(&r);
    LDS_CHECK_INT(api_curl(&env, &r, partner, "'%s/v1/assets/%s'", env.base, id), ==, 403);
    LDS_CHECK(api_is_error_body(&r));
    api_resp_free(&r);
    LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/v1/assets/%s'", env.base, id), ==, 200);
    api_resp_free(&r);

    char lod0[1200] = "";
    if (manifest) {
        check_lods(studio, id, manifest, lod0, sizeof(lod0));
        check_certificate(modeler, id);
        if (lod0[0])
            check_caching_and_ranges(studio, id, lod0);
        else
            LDS_CHECK(lod0[0] != 0);
    }
    json_decref(record);
    json_decref(accepted);

    check_multipart(modeler);

    /* the log has both entries */
    LDS_CHECK_INT(api_tree_size(&env), ==, lds_test_shared("corpus/textured/spot", model, sizeof(model)) ? 2 : 1);
    api_env_stop(&env);
    return lds_test_result();
}
