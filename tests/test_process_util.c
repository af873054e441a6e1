/* test_process_util.c: see test_process_util.h. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_glb_check.h"
#include "test_process_util.h"
#include "testlib.h"

int proc_run(char **output, const char *home, const char *args)
{
    return lds_test_run(output, "LODESTONE_HOME='%s' '%s' process %s", home, lds_test_bin(), args);
}

json_t *proc_load_manifest(const char *dir)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    json_error_t jerr;
    json_t *m = json_load_file(path, 0, &jerr);
    if (m == NULL)
        fprintf(stderr, "%s: %s (line %d)\n", path, jerr.text, jerr.line);
    LDS_CHECK(m != NULL);
    return m;
}

/* ---- the manifest's shape (DESIGN.md 6.2) ---- */

static const char *where;

#define FIELD_CHECK(cond, key)                                                                        \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            fprintf(stderr, "%s: manifest field %s: check failed: %s\n", where, key, #cond);          \
            lds_test_failures++;                                                                      \
        }                                                                                             \
    } while (0)

static json_t *need(const json_t *o, const char *key, json_type type)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL) {
        fprintf(stderr, "%s: manifest field %s is missing\n", where, key);
        lds_test_failures++;
        return NULL;
    }
    int ok = json_typeof(v) == type || (type == JSON_REAL && json_is_integer(v)) ||
             (type == JSON_TRUE && json_is_boolean(v));
    if (!ok) {
        fprintf(stderr, "%s: manifest field %s has JSON type %d, wants %d\n", where, key, json_typeof(v), type);
        lds_test_failures++;
        return NULL;
    }
    return v;
}

static void need_count(const json_t *o, const char *key)
{
    json_t *v = need(o, key, JSON_INTEGER);
    FIELD_CHECK(v == NULL || json_integer_value(v) >= 0, key);
}

static int is_sha256(const char *s)
{
    if (s == NULL || strlen(s) != 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return 0;
    return 1;
}

static void need_vec3(const json_t *o, const char *key)
{
    json_t *v = need(o, key, JSON_ARRAY);
    FIELD_CHECK(v == NULL || json_array_size(v) == 3, key);
    for (size_t i = 0; v && i < json_array_size(v); i++)
        FIELD_CHECK(json_is_number(json_array_get(v, i)), key);
}

static void need_file(const json_t *o, const char *key)
{
    json_t *f = need(o, key, JSON_OBJECT);
    if (f == NULL)
        return;
    need(f, "path", JSON_STRING);
    need_count(f, "bytes");
    json_t *sha = need(f, "sha256", JSON_STRING);
    FIELD_CHECK(sha == NULL || is_sha256(json_string_value(sha)), key);
}

void proc_check_manifest(const json_t *m, const char *what, int certified)
{
    where = what;
    json_t *version = need(m, "manifest", JSON_INTEGER);
    FIELD_CHECK(version == NULL || json_integer_value(version) == 1, "manifest");

    json_t *source = need(m, "source", JSON_OBJECT);
    if (source) {
        json_t *files = need(source, "files", JSON_ARRAY);
        FIELD_CHECK(files == NULL || json_array_size(files) >= 1, "source.files");
        for (size_t i = 0; files && i < json_array_size(files); i++) {
            json_t *f = json_array_get(files, i);
            need(f, "name", JSON_STRING);
            need_count(f, "bytes");
            json_t *sha = need(f, "sha256", JSON_STRING);
            FIELD_CHECK(sha == NULL || is_sha256(json_string_value(sha)), "source.files.sha256");
        }
        need(source, "format", JSON_STRING);
    }

    json_t *r = need(m, "report", JSON_OBJECT);
    if (r) {
        const char *counts[] = {"triangles", "vertices", "points", "meshes", "materials", "components",
                                "boundary_edges", "non_manifold_edges", "degenerate_triangles",
                                "duplicate_triangles"};
        for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
            need_count(r, counts[i]);
        json_t *bbox = need(r, "bbox", JSON_OBJECT);
        if (bbox) {
            need_vec3(bbox, "min");
            need_vec3(bbox, "max");
        }
        json_t *diag = need(r, "diagonal", JSON_REAL);
        FIELD_CHECK(diag == NULL || json_number_value(diag) >= 0, "diagonal");
        json_t *area = need(r, "surface_area", JSON_REAL);
        FIELD_CHECK(area == NULL || json_number_value(area) >= 0, "surface_area");
        json_t *volume = json_object_get(r, "volume");
        FIELD_CHECK(volume != NULL && (json_is_null(volume) || json_is_number(volume)), "volume");
        need(r, "has_normals", JSON_TRUE);
        need(r, "has_uvs", JSON_TRUE);
        need(r, "has_colors", JSON_TRUE);
        json_t *textures = need(r, "textures", JSON_ARRAY);
        for (size_t i = 0; textures && i < json_array_size(textures); i++) {
            json_t *t = json_array_get(textures, i);
            need(t, "name", JSON_STRING);
            need_count(t, "width");
            need_count(t, "height");
            need_count(t, "bytes");
        }
        json_t *issues = need(r, "issues", JSON_ARRAY);
        for (size_t i = 0; issues && i < json_array_size(issues); i++) {
            json_t *is = json_array_get(issues, i);
            need(is, "code", JSON_STRING);
            json_t *sev = need(is, "severity", JSON_STRING);
            const char *s = sev ? json_string_value(sev) : "";
            FIELD_CHECK(strcmp(s, "info") == 0 || strcmp(s, "warning") == 0 || strcmp(s, "error") == 0,
                        "issues.severity");
            need(is, "message", JSON_STRING);
        }
    }

    json_t *fp = need(m, "fingerprint", JSON_OBJECT);
    if (fp) {
        json_t *g = need(fp, "geometry", JSON_STRING), *s = need(fp, "shape", JSON_STRING);
        FIELD_CHECK(g == NULL || strncmp(json_string_value(g), "lds-geom-1:", 11) == 0, "fingerprint.geometry");
        FIELD_CHECK(s == NULL || strncmp(json_string_value(s), "lds-shape-1:", 12) == 0, "fingerprint.shape");
    }

    json_t *lods = need(m, "lods", JSON_ARRAY);
    FIELD_CHECK(lods == NULL || json_array_size(lods) >= 1, "lods");
    for (size_t i = 0; lods && i < json_array_size(lods); i++) {
        json_t *l = json_array_get(lods, i);
        json_t *level = need(l, "level", JSON_INTEGER);
        FIELD_CHECK(level == NULL || json_integer_value(level) == (json_int_t)i, "lods.level");
        need_count(l, "triangles");
        need_count(l, "vertices");
        json_t *e = need(l, "error", JSON_REAL);
        FIELD_CHECK(e == NULL || json_number_value(e) >= 0, "lods.error");
        json_t *files = need(l, "files", JSON_OBJECT);
        if (files) {
            need_file(files, "glb");
            const char *key;
            json_t *v;
            json_object_foreach(files, key, v)
            {
                FIELD_CHECK(strcmp(key, "glb") == 0 || strcmp(key, "draco") == 0 || strcmp(key, "meshopt") == 0,
                            key);
                need_file(files, key);
            }
        }
    }

    json_t *enc = need(m, "encoding", JSON_OBJECT);
    if (enc) {
        need_count(enc, "position_bits");
        need_count(enc, "normal_bits");
        need_count(enc, "uv_bits");
    }
    if (certified) {
        json_t *c = need(m, "certificate", JSON_OBJECT);
        if (c) {
            json_t *p = need(c, "path", JSON_STRING);
            FIELD_CHECK(p == NULL || strcmp(json_string_value(p), "certificate.json") == 0, "certificate.path");
            need_count(c, "log_index");
        }
    }
    json_t *t = need(m, "timings_ms", JSON_OBJECT);
    if (t) {
        const char *stages[] = {"import", "report", "fingerprint", "lods", "encode", "total"};
        for (size_t i = 0; i < 6; i++) {
            json_t *v = need(t, stages[i], JSON_REAL);
            FIELD_CHECK(v == NULL || json_number_value(v) >= 0, stages[i]);
        }
    }
}

/* ---- the LOD files ---- */

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Vertices of a GLB as its accessors state them: the POSITION counts of every primitive. */
static size_t glb_vertex_count(const unsigned char *data, size_t size)
{
    if (size < 20 || 20 + (size_t)rd32(data + 12) > size)
        return 0;
    json_t *root = json_loadb((const char *)data + 20, rd32(data + 12), 0, NULL);
    size_t total = 0;
    json_t *accessors = json_object_get(root, "accessors"), *mesh;
    size_t m;
    json_array_foreach(json_object_get(root, "meshes"), m, mesh)
    {
        json_t *prim;
        size_t p;
        json_array_foreach(json_object_get(mesh, "primitives"), p, prim)
        {
            json_t *pos = json_object_get(json_object_get(prim, "attributes"), "POSITION");
            if (json_is_integer(pos))
                total += (size_t)json_integer_value(
                    json_object_get(json_array_get(accessors, (size_t)json_integer_value(pos)), "count"));
        }
    }
    json_decref(root);
    return total;
}

void proc_check_lods(const json_t *m, const char *dir, const char *what, char **paths, size_t *path_count,
                     size_t path_capacity, proc_lod_stats *stats)
{
    memset(stats, 0, sizeof(*stats));
    stats->images = SIZE_MAX;
    int point_cloud = json_integer_value(json_object_get(json_object_get(m, "report"), "triangles")) == 0;
    json_t *lods = json_object_get(m, "lods"), *lod;
    size_t i;
    json_array_foreach(lods, i, lod)
    {
        stats->levels++;
        size_t triangles = (size_t)json_integer_value(json_object_get(lod, "triangles"));
        size_t vertices = (size_t)json_integer_value(json_object_get(lod, "vertices"));
        const char *format;
        json_t *file;
        json_object_foreach(json_object_get(lod, "files"), format, file)
        {
            const char *name = json_string_value(json_object_get(file, "path"));
            if (name == NULL)
                continue;
            char path[2048], label[2300];
            snprintf(path, sizeof(path), "%s/%s", dir, name);
            snprintf(label, sizeof(label), "%s: %s", what, name);
            unsigned char *data = NULL;
            size_t size = 0;
            lds_error err;
            lds_error_clear(&err);
            LDS_CHECK_OK(lds_file_read(path, (size_t)1 << 31, &data, &size, &err), &err);
            if (data == NULL)
                continue;
            stats->files++;
            LDS_CHECK_INT(size, ==, json_integer_value(json_object_get(file, "bytes")));
            unsigned char digest[LDS_SHA256_BYTES];
            char hex[LDS_SHA256_HEX];
            lds_sha256_buffer(data, size, digest);
            lds_hex_encode(digest, sizeof(digest), hex);
            LDS_CHECK_STR(hex, json_string_value(json_object_get(file, "sha256")));
            glb_summary s;
            glb_check(label, data, size, NULL, &s);
            if (point_cloud) {
                LDS_CHECK_INT(s.triangles, ==, 0);
                LDS_CHECK_INT(s.points, ==, vertices);
            } else {
                LDS_CHECK_INT(s.triangles, ==, triangles);
                LDS_CHECK_INT(s.points, ==, 0);
            }
            /* Draco decodes to the accessor counts (checked by glb_check). Its edgebreaker splits
             * non-manifold vertices and re-splits vertices along attribute seams, so a Draco file
             * may hold more points than the level: up to 1.2% more on the corpus scans with their
             * own normals, up to 31% more where normals were generated with crease splits (the
             * level's split vertices are welded by position and split again per corner); the
             * other files hold exactly the level's. */
            size_t stated = glb_vertex_count(data, size);
            if (strcmp(format, "draco") == 0 && !point_cloud) {
                LDS_CHECK_INT(stated, >=, vertices);
                LDS_CHECK_INT(stated, <=, vertices + vertices / 2 + 16);
            } else {
                LDS_CHECK_INT(stated, ==, vertices);
            }
            /* KHR_draco_mesh_compression covers triangles only: point clouds stay plain there */
            if (strcmp(format, "draco") == 0)
                LDS_CHECK(point_cloud ? s.draco_primitives == 0 : s.draco_primitives > 0);
            if (strcmp(format, "meshopt") == 0)
                LDS_CHECK(s.meshopt_views > 0);
            if (s.images < stats->images)
                stats->images = s.images;
            if (*path_count < path_capacity)
                paths[(*path_count)++] = strdup(path);
            free(data);
        }
    }
    if (stats->images == SIZE_MAX)
        stats->images = 0;
}
