/* test_api_catalogue.c: the buyer's side through real HTTP (issue 12): the catalogue's filters,
 * text search, visibility by role and cursor pagination without duplicates or gaps while assets
 * are added; licences (who grants, who sees them, the licence rule of full LODs for studios,
 * owners and open licences, expiry); theme collections; lineage from the certificates' parents;
 * thumbnails. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;
static char ops[128], studio_a[128], studio_b[128], modeler_m[128], modeler_n[128], partner[128];

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* Uploads a small sphere with metadata (query string, already URL-encoded); waits until ready
 * and listed. */
static void upload(const char *key, unsigned seed, const char *query, char asset[LDS_ID_MAX])
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/m%u.ply", env.dir, seed);
    asset[0] = 0;
    LDS_CHECK_INT(api_write_sphere(path, seed, 8), ==, 0);
    api_resp r;
    int status = api_curl(&env, &r, key,
                          "--data-binary '@%s' -H 'Content-Type: application/octet-stream' "
                          "'%s/v1/assets?filename=m%u.ply&%s'",
                          path, env.base, seed, query);
    LDS_CHECK_INT(status, ==, 202);
    json_t *j = api_json(&r);
    snprintf(asset, LDS_ID_MAX, "%s", str_or_empty(json_string_value(json_object_get(json_object_get(j, "asset"), "id"))));
    json_decref(j);
    api_resp_free(&r);
}

static void wait_ready(const char *asset)
{
    json_t *record = api_wait_asset(&env, ops, asset, 200, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_decref(record);
    /* listed right after it is published */
    for (int i = 0; i < 100; i++) {
        api_resp r;
        api_curl(&env, &r, ops, "'%s/v1/assets/%s/lineage'", env.base, asset);
        json_t *j = api_json(&r);
        int listed = json_is_array(json_object_get(j, "parents"));
        json_decref(j);
        api_resp_free(&r);
        if (listed)
            return;
        api_sleep_ms(50);
    }
}

/* GET path as key; the JSON body (caller decrefs) and the status. */
static json_t *get(const char *key, const char *path, int *status)
{
    api_resp r;
    *status = api_curl(&env, &r, key, "'%s%s'", env.base, path);
    json_t *j = api_json(&r);
    api_resp_free(&r);
    return j;
}

static json_t *post(const char *key, const char *path, const char *body, int *status)
{
    api_resp r;
    *status = api_curl(&env, &r, key, "-X POST -H 'Content-Type: application/json' --data '%s' '%s%s'", body,
                       env.base, path);
    json_t *j = api_json(&r);
    api_resp_free(&r);
    return j;
}

static const char *error_code(json_t *j)
{
    return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

/* The ids of a catalogue query's items, as one space-separated, sorted string ("" for none). */
static void ids_of(const char *key, const char *query, char *out, size_t size)
{
    char path[1024];
    snprintf(path, sizeof(path), "/v1/assets?limit=100&%s", query);
    int status;
    json_t *j = get(key, path, &status);
    LDS_CHECK_INT(status, ==, 200);
    json_t *items = json_object_get(j, "items");
    const char *ids[128];
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(items) && n < 128; i++)
        ids[n++] = json_string_value(json_object_get(json_array_get(items, i), "id"));
    for (size_t i = 1; i < n; i++) /* insertion sort */
        for (size_t k = i; k > 0 && strcmp(ids[k - 1], ids[k]) > 0; k--) {
            const char *t = ids[k];
            ids[k] = ids[k - 1];
            ids[k - 1] = t;
        }
    out[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", ids[i]);
    json_decref(j);
}

/* Sorted, space-separated list of the given ids. */
static void expect_ids(const char *key, const char *query, const char *const *want, size_t count)
{
    const char *sorted[16];
    for (size_t i = 0; i < count; i++)
        sorted[i] = want[i];
    for (size_t i = 1; i < count; i++)
        for (size_t k = i; k > 0 && strcmp(sorted[k - 1], sorted[k]) > 0; k--) {
            const char *t = sorted[k];
            sorted[k] = sorted[k - 1];
            sorted[k - 1] = t;
        }
    char expected[2048] = "", got[8192];
    for (size_t i = 0; i < count; i++)
        snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s", i ? " " : "", sorted[i]);
    ids_of(key, query, got, sizeof(got));
    if (strcmp(got, expected) != 0)
        fprintf(stderr, "query '%s'\n", query);
    LDS_CHECK_STR(got, expected);
}

static char a_bust[LDS_ID_MAX], a_crate[LDS_ID_MAX], a_horse[LDS_ID_MAX], a_amphora[LDS_ID_MAX],
    a_remix[LDS_ID_MAX], fillers[3][LDS_ID_MAX];

static void check_filters(void)
{
    const char *bust_remix[] = {a_bust, a_remix};
    expect_ids(studio_a, "q=hadrian", bust_remix, 2);
    expect_ids(studio_a, "q=Tivoli", (const char *[]){a_bust}, 1);              /* description */
    expect_ids(studio_a, "q=marb", (const char *[]){a_bust}, 1);                /* a prefix */
    expect_ids(studio_a, "q=roman%20bust", (const char *[]){a_bust}, 1);       /* every word */
    expect_ids(studio_a, "q=scifi", (const char *[]){a_crate}, 1);              /* a tag */
    expect_ids(studio_a, "q=nothing-like-it", NULL, 0);
    expect_ids(studio_a, "category=sculpture", (const char *[]){a_bust, a_horse, a_remix}, 3);
    expect_ids(studio_a, "tag=roman", (const char *[]){a_bust, a_amphora}, 2);
    expect_ids(studio_a, "license=CC0-1.0", (const char *[]){a_amphora}, 1);
    expect_ids(studio_a, "license=open&category=sculpture", (const char *[]){a_bust, a_remix}, 2);
    expect_ids(studio_a, "owner=modeler-m", (const char *[]){a_bust, a_crate}, 2);
    expect_ids(studio_a, "max_triangles=10&category=sculpture", NULL, 0);
    expect_ids(studio_a, "max_triangles=100000&category=sculpture", (const char *[]){a_bust, a_horse, a_remix}, 3);

    /* an item has the documented fields */
    int status;
    json_t *j = get(studio_a, "/v1/assets?q=tivoli", &status);
    json_t *item = json_array_get(json_object_get(j, "items"), 0);
    LDS_CHECK_STR(json_string_value(json_object_get(item, "title")), "Roman bust of Hadrian");
    LDS_CHECK_STR(json_string_value(json_object_get(item, "category")), "sculpture");
    LDS_CHECK_STR(json_string_value(json_array_get(json_object_get(item, "tags"), 1)), "roman");
    LDS_CHECK_STR(json_string_value(json_object_get(item, "license")), "CC-BY-4.0");
    LDS_CHECK_STR(json_string_value(json_object_get(item, "owner")), "modeler-m");
    LDS_CHECK_INT(json_integer_value(json_object_get(item, "triangles")), >, 100);
    LDS_CHECK(json_object_get(item, "thumbnail") != NULL);
    LDS_CHECK(json_is_null(json_object_get(j, "next")));
    json_decref(j);

    /* visibility: modelers and partners list their own account's assets, nobody without a key */
    expect_ids(modeler_m, "", (const char *[]){a_bust, a_crate}, 2);
    expect_ids(modeler_m, "q=horse", NULL, 0);
    expect_ids(partner, "", (const char *[]){a_amphora}, 1);
    j = get(NULL, "/v1/assets", &status);
    LDS_CHECK_INT(status, ==, 401);
    json_decref(j);
    static const char *const bad[] = {"/v1/assets?limit=0", "/v1/assets?limit=101", "/v1/assets?sort=cheapest",
                                      "/v1/assets?cursor=zz", "/v1/assets?cursor=31327e", "/v1/assets?max_triangles=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = get(studio_a, bad[i], &status);
        LDS_CHECK_INT(status, ==, 400);
        LDS_CHECK_STR(error_code(j), "bad_request");
        json_decref(j);
    }
}

/* Pages through the catalogue 3 at a time, adding two assets after the first page: every asset
 * listed before is seen exactly once. */
static void check_pagination(const char *const *before, size_t before_count)
{
    char seen[64][LDS_ID_MAX];
    size_t seen_count = 0;
    char cursor[512] = "";
    int pages = 0;
    char added[2][LDS_ID_MAX];
    for (;;) {
        char path[1024];
        snprintf(path, sizeof(path), "/v1/assets?limit=3%s%s", cursor[0] ? "&cursor=" : "", cursor);
        int status;
        json_t *j = get(studio_b, path, &status);
        LDS_CHECK_INT(status, ==, 200);
        json_t *items = json_object_get(j, "items");
        LDS_CHECK_INT(json_array_size(items), <=, 3);
        for (size_t i = 0; i < json_array_size(items) && seen_count < 64; i++) {
            const char *id = json_string_value(json_object_get(json_array_get(items, i), "id"));
            for (size_t k = 0; k < seen_count; k++)
                if (strcmp(seen[k], id) == 0) {
                    fprintf(stderr, "page %d: %s listed twice\n", pages, id);
                    LDS_CHECK(0);
                }
            snprintf(seen[seen_count++], LDS_ID_MAX, "%s", id);
        }
        const char *next = json_string_value(json_object_get(j, "next"));
        snprintf(cursor, sizeof(cursor), "%s", next ? next : "");
        json_decref(j);
        if (++pages == 1) {
            upload(modeler_n, 901, "title=Late%20arrival&category=filler", added[0]);
            upload(modeler_n, 902, "title=Later%20arrival&category=filler", added[1]);
            wait_ready(added[0]);
            wait_ready(added[1]);
        }
        if (!cursor[0] || pages > 20)
            break;
    }
    for (size_t i = 0; i < before_count; i++) {
        int found = 0;
        for (size_t k = 0; k < seen_count; k++)
            found |= strcmp(seen[k], before[i]) == 0;
        if (!found)
            fprintf(stderr, "%s missing from the pages\n", before[i]);
        LDS_CHECK(found);
    }
    LDS_CHECK_INT(seen_count, ==, before_count); /* the new ones went in front of the cursor */
    printf("pagination: %zu assets in %d pages, 2 added meanwhile, no duplicate or gap\n", seen_count, pages);
}

static int lod_status(const char *key, const char *asset)
{
    char path[256];
    snprintf(path, sizeof(path), "/v1/assets/%s/lods/0", asset);
    api_resp r;
    int status = api_curl(&env, &r, key, "'%s%s'", env.base, path);
    if (status == 403 && strcmp(key, modeler_n) != 0) {
        json_t *j = api_json(&r);
        LDS_CHECK_STR(error_code(j), "license_required");
        json_decref(j);
    }
    api_resp_free(&r);
    return status;
}

static void check_licenses(void)
{
    /* without a licence: studios get open and CC-BY assets, not commercial ones; owners theirs */
    LDS_CHECK_INT(lod_status(studio_a, a_crate), ==, 403);
    LDS_CHECK_INT(lod_status(studio_a, a_bust), ==, 200);
    LDS_CHECK_INT(lod_status(studio_a, a_amphora), ==, 200);
    LDS_CHECK_INT(lod_status(modeler_m, a_crate), ==, 200);
    LDS_CHECK_INT(lod_status(ops, a_crate), ==, 200);
    LDS_CHECK_INT(lod_status(modeler_n, a_crate), ==, 403); /* not theirs: not visible at all */

    char path[256];
    snprintf(path, sizeof(path), "/v1/assets/%s/licenses", a_crate);
    int status;
    const char *grant = "{\"holder\": \"studio-a\", \"tier\": \"standard\"}";
    json_decref(post(studio_a, path, grant, &status));
    LDS_CHECK_INT(status, ==, 403);
    json_decref(post(modeler_m, path, grant, &status));
    LDS_CHECK_INT(status, ==, 403);
    json_decref(post(ops, path, "{\"holder\": \"studio-a\", \"tier\": \"gold\"}", &status));
    LDS_CHECK_INT(status, ==, 400);
    json_decref(post(ops, path, "{\"holder\": \"studio-a\", \"tier\": \"standard\", \"expires\": \"soon\"}", &status));
    LDS_CHECK_INT(status, ==, 400);
    json_decref(post(ops, "/v1/assets/a_nope/licenses", grant, &status));
    LDS_CHECK_INT(status, ==, 404);
    json_t *l = post(ops, path, grant, &status);
    LDS_CHECK_INT(status, ==, 201);
    LDS_CHECK_STR(json_string_value(json_object_get(l, "holder")), "studio-a");
    LDS_CHECK_STR(json_string_value(json_object_get(l, "tier")), "standard");
    json_decref(l);
    LDS_CHECK_INT(lod_status(studio_a, a_crate), ==, 200);
    LDS_CHECK_INT(lod_status(studio_b, a_crate), ==, 403);
    /* an expired licence covers nothing */
    json_decref(post(ops, path, "{\"holder\": \"studio-b\", \"tier\": \"editorial\", \"expires\": \"2020-01-01T00:00:00Z\"}",
                     &status));
    LDS_CHECK_INT(status, ==, 201);
    LDS_CHECK_INT(lod_status(studio_b, a_crate), ==, 403);
    json_decref(post(ops, path, "{\"holder\": \"studio-b\", \"tier\": \"enterprise\", \"expires\": \"2999-01-01\"}",
                     &status));
    LDS_CHECK_INT(lod_status(studio_b, a_crate), ==, 200);
    /* who sees which licences */
    json_t *j = get(ops, path, &status);
    LDS_CHECK_INT(status, ==, 200);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "licenses")), ==, 2);
    json_decref(j);
    j = get(modeler_m, path, &status);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "licenses")), ==, 2);
    json_decref(j);
    j = get(studio_a, path, &status);
    LDS_CHECK_INT(status, ==, 200);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "licenses")), ==, 1);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "licenses"), 0), "holder")),
                  "studio-a");
    LDS_CHECK(json_is_true(json_object_get(json_array_get(json_object_get(j, "licenses"), 0), "active")));
    json_decref(j);
    j = get(modeler_n, path, &status);
    LDS_CHECK_INT(status, ==, 403);
    json_decref(j);

    /* licences make an asset popular */
    char first[8192];
    j = get(studio_a, "/v1/assets?sort=popular&limit=1", &status);
    snprintf(first, sizeof(first), "%s",
             str_or_empty(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "id"))));
    json_decref(j);
    LDS_CHECK_STR(first, a_crate);
    j = get(studio_a, "/v1/assets?sort=value&limit=3", &status);
    LDS_CHECK_INT(status, ==, 200);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "items")), ==, 3);
    json_decref(j);
}

static void check_collections(void)
{
    char body[1024];
    int status;
    snprintf(body, sizeof(body), "{\"title\": \"Roman pottery\", \"description\": \"from the stores\", \"assets\": [\"%s\"]}",
             a_amphora);
    json_t *c = post(partner, "/v1/collections", body, &status);
    LDS_CHECK_INT(status, ==, 201);
    char museum_id[LDS_ID_MAX];
    snprintf(museum_id, sizeof(museum_id), "%s", str_or_empty(json_string_value(json_object_get(c, "id"))));
    LDS_CHECK_STR(json_string_value(json_object_get(c, "creator")), "museum");
    json_decref(c);
    snprintf(body, sizeof(body), "{\"title\": \"Not mine\", \"assets\": [\"%s\"]}", a_bust);
    json_decref(post(partner, "/v1/collections", body, &status));
    LDS_CHECK_INT(status, ==, 422);
    json_decref(post(studio_a, "/v1/collections", body, &status));
    LDS_CHECK_INT(status, ==, 403);
    json_decref(post(ops, "/v1/collections", "{\"title\": \"\", \"assets\": []}", &status));
    LDS_CHECK_INT(status, ==, 400);
    snprintf(body, sizeof(body), "{\"title\": \"Sculpture\", \"assets\": [\"%s\", \"%s\"]}", a_bust, a_horse);
    c = post(ops, "/v1/collections", body, &status);
    LDS_CHECK_INT(status, ==, 201);
    char ops_id[LDS_ID_MAX], path[256];
    snprintf(ops_id, sizeof(ops_id), "%s", str_or_empty(json_string_value(json_object_get(c, "id"))));
    json_decref(c);

    json_t *j = get(studio_a, "/v1/collections", &status);
    LDS_CHECK_INT(status, ==, 200);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "collections")), ==, 2);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "collections"), 0), "id")),
                  ops_id); /* newest first */
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/collections/%s", ops_id);
    j = get(studio_a, path, &status);
    LDS_CHECK_INT(status, ==, 200);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "items")), ==, 2);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "title")),
                  "Roman bust of Hadrian");
    json_decref(j);
    j = get(modeler_m, path, &status); /* only what the caller may see */
    LDS_CHECK_INT(status, ==, 200);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "assets")), ==, 1);
    LDS_CHECK_STR(json_string_value(json_array_get(json_object_get(j, "assets"), 0)), a_bust);
    json_decref(j);
    j = get(studio_a, "/v1/collections/c_nothing", &status);
    LDS_CHECK_INT(status, ==, 404);
    json_decref(j);
}

static void check_lineage(void)
{
    char path[256];
    int status;
    snprintf(path, sizeof(path), "/v1/assets/%s/lineage", a_remix);
    json_t *j = get(studio_a, path, &status);
    LDS_CHECK_INT(status, ==, 200);
    json_t *parent = json_array_get(json_object_get(j, "parents"), 0);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "parents")), ==, 1);
    LDS_CHECK_STR(json_string_value(json_object_get(parent, "asset")), a_bust);
    LDS_CHECK(json_is_integer(json_object_get(parent, "log_index")));
    LDS_CHECK_INT(json_array_size(json_object_get(j, "derivatives")), ==, 0);
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/assets/%s/lineage", a_bust);
    j = get(studio_a, path, &status);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "parents")), ==, 0);
    LDS_CHECK_INT(json_array_size(json_object_get(j, "derivatives")), ==, 1);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "derivatives"), 0), "asset")),
                  a_remix);
    json_decref(j);
    j = get(modeler_m, path, &status); /* the remix is modeler-n's: named by its log index only */
    LDS_CHECK_INT(status, ==, 200);
    json_t *derived = json_array_get(json_object_get(j, "derivatives"), 0);
    LDS_CHECK(json_is_null(json_object_get(derived, "asset")));
    LDS_CHECK(json_is_integer(json_object_get(derived, "log_index")));
    json_decref(j);
    snprintf(path, sizeof(path), "/v1/assets/%s/lineage", a_remix);
    j = get(modeler_m, path, &status);
    LDS_CHECK_INT(status, ==, 403);
    json_decref(j);
}

/* The turntable of a listed asset: 8 PNGs in the manifest, served to whoever may see the asset,
 * each showing the model (a sane share of opaque pixels, a transparent background). */
static void check_thumbnails(void)
{
    char path[256];
    int status;
    snprintf(path, sizeof(path), "/v1/assets/%s", a_bust);
    json_t *record = get(studio_a, path, &status);
    json_t *thumbs = json_object_get(json_object_get(record, "manifest"), "thumbnails");
    LDS_CHECK_INT(json_array_size(thumbs), ==, LDS_THUMBNAIL_VIEWS);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(thumbs, 3), "path")), "thumb3.png");
    json_decref(record);
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++) {
        api_resp r;
        LDS_CHECK_INT(api_curl(&env, &r, studio_a, "'%s/v1/assets/%s/thumbnails/%d'", env.base, a_bust, i), ==, 200);
        char type[64] = "";
        api_header(&r, "Content-Type", type, sizeof(type));
        LDS_CHECK_STR(type, "image/png");
        lds_mesh_image img;
        lds_error err;
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_mesh_image_decode("thumb.png", (const unsigned char *)r.body, r.size, NULL, &img, &err),
                     &err);
        size_t opaque = 0, total = (size_t)img.width * (size_t)img.height;
        for (size_t k = 0; img.rgba && k < total; k++)
            opaque += img.rgba[4 * k + 3] == 255;
        LDS_CHECK_INT(img.width, ==, LDS_THUMBNAIL_SIZE);
        LDS_CHECK(total > 0 && opaque > total / 20 && opaque < total * 8 / 10);
        LDS_CHECK(img.rgba && img.rgba[3] == 0); /* a transparent corner */
        lds_mesh_image_cleanup(&img);
        api_resp_free(&r);
    }
    snprintf(path, sizeof(path), "/v1/assets/%s/thumbnails/0", a_crate);
    json_decref(get(modeler_n, path, &status));
    LDS_CHECK_INT(status, ==, 403);
    json_decref(get(NULL, path, &status));
    LDS_CHECK_INT(status, ==, 401);
    snprintf(path, sizeof(path), "/v1/assets/%s/thumbnails/%d", a_crate, LDS_THUMBNAIL_VIEWS);
    json_decref(get(studio_a, path, &status));
    LDS_CHECK_INT(status, ==, 400);
    snprintf(path, sizeof(path), "/v1/assets/%s/thumbnails/0", a_horse); /* no licence needed */
    json_decref(get(studio_b, path, &status));
    LDS_CHECK_INT(status, ==, 200);
}

/* `lodestone licenses` and `lodestone catalogue` against the same service, and a reindex. */
static void check_cli(void)
{
    char *out = NULL;
    int rc = lds_test_run(&out, "'%s' licenses grant %s --holder studio-c --tier editorial --url %s --key %s 2>&1",
                          lds_test_bin(), a_horse, env.base, ops);
    LDS_CHECK_INT(rc, ==, 0);
    LDS_CHECK(out && strstr(out, "studio-c holds a editorial licence") != NULL);
    free(out);
    out = NULL;
    rc = lds_test_run(&out, "'%s' licenses list %s --json --url %s --key %s", lds_test_bin(), a_horse, env.base, ops);
    LDS_CHECK_INT(rc, ==, 0);
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    LDS_CHECK_INT(json_array_size(j), ==, 1);
    json_decref(j);
    free(out);
    out = NULL;
    rc = lds_test_run(&out, "'%s' licenses grant %s --holder x --tier gold --url %s --key %s 2>&1", lds_test_bin(),
                      a_horse, env.base, ops);
    LDS_CHECK_INT(rc, ==, 1);
    free(out);
    out = NULL;
    rc = lds_test_run(&out, "LODESTONE_REDIS_URL='%s' '%s' catalogue reindex 2>&1", env.url, lds_test_bin());
    LDS_CHECK_INT(rc, ==, 0);
    free(out);
    out = NULL;
    rc = lds_test_run(&out, "'%s' catalogue --q 'roman bust' --json --url %s --key %s", lds_test_bin(), env.base,
                      studio_a);
    LDS_CHECK_INT(rc, ==, 0);
    j = out ? json_loads(out, 0, NULL) : NULL;
    LDS_CHECK_INT(json_array_size(j), ==, 1);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(j, 0), "id")), a_bust);
    json_decref(j);
    free(out);
    out = NULL;
    rc = lds_test_run(&out, "'%s' catalogue --limit 7 --json --url %s --key %s", lds_test_bin(), env.base, studio_a);
    j = out ? json_loads(out, 0, NULL) : NULL;
    LDS_CHECK_INT(json_array_size(j), ==, 7);
    json_decref(j);
    free(out);
}

int main(void)
{
    api_env_init(&env, "api_catalogue");
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    LDS_CHECK_INT(api_key_create("ops", "ops-1", ops, sizeof(ops)), ==, 0);
    LDS_CHECK_INT(api_key_create("studio", "studio-a", studio_a, sizeof(studio_a)), ==, 0);
    LDS_CHECK_INT(api_key_create("studio", "studio-b", studio_b, sizeof(studio_b)), ==, 0);
    LDS_CHECK_INT(api_key_create("modeler", "modeler-m", modeler_m, sizeof(modeler_m)), ==, 0);
    LDS_CHECK_INT(api_key_create("modeler", "modeler-n", modeler_n, sizeof(modeler_n)), ==, 0);
    LDS_CHECK_INT(api_key_create("partner", "museum", partner, sizeof(partner)), ==, 0);

    upload(modeler_m, 1,
           "title=Roman%20bust%20of%20Hadrian&tags=marble;roman;bust&category=sculpture&license=CC-BY-4.0&"
           "description=A%20marble%20portrait%20head%20found%20at%20Tivoli",
           a_bust);
    upload(modeler_m, 2,
           "title=Sci-fi%20crate&tags=props,scifi&category=props&license=LicenseRef-Commercial&"
           "description=game%20ready%20container",
           a_crate);
    upload(modeler_n, 3,
           "title=Bronze%20horse&tags=bronze;animal&category=sculpture&license=LicenseRef-Commercial&"
           "description=Equestrian%20statue%20fragment",
           a_horse);
    upload(partner, 4, "title=Amphora&tags=ceramic;roman&category=pottery&license=CC0-1.0", a_amphora);
    for (unsigned i = 0; i < 3; i++)
        upload(modeler_n, 100 + i, "title=Filler&category=filler&license=LicenseRef-Commercial", fillers[i]);
    wait_ready(a_bust);
    char query[512];
    snprintf(query, sizeof(query),
             "title=Hadrian%%20remix&category=sculpture&license=CC-BY-4.0&tags=remix&parents=%s", a_bust);
    upload(modeler_n, 5, query, a_remix);
    const char *all[8] = {a_bust, a_crate, a_horse, a_amphora, a_remix};
    for (unsigned i = 0; i < 3; i++)
        all[5 + i] = fillers[i];
    for (size_t i = 0; i < 8; i++)
        wait_ready(all[i]);

    check_filters();
    check_pagination(all, 8);
    check_licenses();
    check_collections();
    check_lineage();
    check_thumbnails();
    check_cli();
    api_env_stop(&env);
    return lds_test_result();
}
