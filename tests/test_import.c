/* test_import.c: the importers on small files made here: PLY (binary LE/BE, ASCII, tristrips,
 * point clouds), STL (binary, ASCII), OBJ with MTL and texture through a reader, glTF through
 * Assimp with its .bin served by the reader; hostile input: every truncated prefix in an exactly
 * sized buffer (ASan sees overreads), NaN coordinates and out-of-range indices rejected with the
 * file named, a PLY header promising 2e9 vertices, limits; the directory reader's confinement. */
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import_internal.h"
#include "mesh.h"
#include "testlib.h"

/* ---- an in-memory sidecar reader: named byte strings ---- */
typedef struct memfile { const char *name; const void *data; size_t size; } memfile;
typedef struct memdir { const memfile *files; size_t count; int requests; } memdir;

static int memdir_read(void *ctx, const char *name, unsigned char **data, size_t *size)
{
    memdir *d = ctx;
    d->requests++;
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->files[i].name, name) == 0) {
            *data = malloc(d->files[i].size + 1);
            memcpy(*data, d->files[i].data, d->files[i].size);
            *size = d->files[i].size;
            return 0;
        }
    return -1;
}

static lds_status import_bytes(const char *name, const void *data, size_t size, memdir *dir, lds_mesh_model **out,
                               lds_error *err)
{
    lds_mesh_reader reader = {dir, memdir_read};
    lds_error_clear(err);
    return lds_mesh_import(name, data, size, dir ? &reader : NULL, NULL, out, err);
}

/* ---- building binary test files ---- */
typedef struct bytes { unsigned char data[4096]; size_t size; } bytes;

static void put(bytes *b, const void *p, size_t n)
{
    memcpy(b->data + b->size, p, n);
    b->size += n;
}
static void put_str(bytes *b, const char *s) { put(b, s, strlen(s)); }
static void put_f32(bytes *b, float f, int big_endian)
{
    unsigned char x[4];
    memcpy(x, &f, 4);
    if (big_endian) {
        unsigned char y[4] = {x[3], x[2], x[1], x[0]};
        put(b, y, 4);
    } else {
        put(b, x, 4);
    }
}
static void put_i32(bytes *b, int32_t v, int big_endian)
{
    float f;
    memcpy(&f, &v, 4);
    put_f32(b, f, big_endian);
}
static void put_u8(bytes *b, unsigned v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }

static const float quad[4][3] = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}};

/* A unit quad as two triangles (one quad face) with normals and colours; bad_index puts vertex 7
 * in the face, nan_x makes x of vertex 2 NaN. */
static void make_ply(bytes *b, int big_endian, int bad_index, int nan_x)
{
    b->size = 0;
    put_str(b, big_endian ? "ply\nformat binary_big_endian 1.0\n" : "ply\nformat binary_little_endian 1.0\n");
    put_str(b, "comment made by test_import\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
               "property float nx\nproperty float ny\nproperty float nz\nproperty uchar red\nproperty uchar green\n"
               "property uchar blue\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n");
    for (int i = 0; i < 4; i++) {
        put_f32(b, i == 2 && nan_x ? NAN : quad[i][0], big_endian);
        put_f32(b, quad[i][1], big_endian);
        put_f32(b, quad[i][2], big_endian);
        put_f32(b, 0, big_endian);
        put_f32(b, 0, big_endian);
        put_f32(b, 2, big_endian); /* not unit: import normalises */
        put_u8(b, 255);
        put_u8(b, 0);
        put_u8(b, (unsigned)(i * 85));
    }
    put_u8(b, 4);
    for (int i = 0; i < 4; i++)
        put_i32(b, bad_index && i == 3 ? 7 : i, big_endian);
}

static void make_stl(bytes *b)
{
    b->size = 0;
    unsigned char header[80] = "binary STL made by test_import";
    put(b, header, 80);
    uint32_t count = 2;
    put(b, &count, 4);
    const int tris[2][3] = {{0, 1, 2}, {0, 2, 3}};
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < 3; k++)
            put_f32(b, k == 2 ? 1.0f : 0.0f, 0);
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < 3; k++)
                put_f32(b, quad[tris[t][v]][k], 0);
        put_u8(b, 0);
        put_u8(b, 0);
    }
}

static const char obj_text[] =
    "# two quads in two groups\nmtllib two.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 2 0 0\nv 2 1 0\n"
    "vt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nvn 0 0 1\n"
    "o first\nusemtl red\nf 1/1/1 2/2/1 3/3/1 4/4/1\n"
    "o second\nusemtl textured\nf -5/-4/-1 -2/-3/-1 -1/-2/-1 -4/-1/-1\n";
static const char mtl_text[] = "newmtl red\nKd 1 0 0\nd 0.5\nnewmtl textured\nKd 1 1 1\nmap_Kd -s 1 1 1 tex.png\n";
/* 1x1 PNG header (signature + IHDR): enough for the size sniffing */
static const unsigned char png_bytes[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                          0, 0, 2, 0, 0, 0, 1, 0, 8, 6, 0, 0, 0};

static void check_error_names(lds_status st, const lds_error *err, const char *name, lds_status want)
{
    LDS_CHECK_INT(st, ==, want);
    LDS_CHECK(strstr(err->message, name) != NULL);
    printf("  rejected as expected: %s\n", err->message);
}

static void test_ply(void)
{
    bytes b;
    lds_error err;
    lds_mesh_model *m = NULL;
    for (int be = 0; be < 2; be++) {
        make_ply(&b, be, 0, 0);
        LDS_CHECK_OK(import_bytes(be ? "be.ply" : "le.ply", b.data, b.size, NULL, &m, &err), &err);
        if (m == NULL)
            continue;
        LDS_CHECK_INT(lds_mesh_triangle_count(m), ==, 2);
        LDS_CHECK_INT(m->vertex_count, ==, 4);
        LDS_CHECK(m->normals && fabsf(m->normals[2] - 1.0f) < 1e-6f);
        LDS_CHECK(m->colors && fabsf(m->colors[4 * 3 + 2] - 1.0f) < 1e-6f && m->colors[3] == 1.0f);
        LDS_CHECK(m->positions[3 * 2] == 1.0f && m->positions[3 * 2 + 1] == 1.0f);
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    const char ascii[] = "ply\nformat ascii 1.0\nelement vertex 4\nproperty double x\nproperty double y\n"
                         "property double z\nproperty float u\nproperty float v\nelement face 2\n"
                         "property list uchar uint vertex_indices\nend_header\n"
                         "0 0 0 0 0\n1 0 0 1 0\n1 1 0 1 1\n0 1 0 0 1\n3 0 1 2\n3 0 2 3\n";
    LDS_CHECK_OK(import_bytes("ascii.ply", ascii, sizeof(ascii) - 1, NULL, &m, &err), &err);
    if (m) {
        LDS_CHECK_INT(lds_mesh_triangle_count(m), ==, 2);
        LDS_CHECK(m->uvs && m->uvs[1] == 1.0f && m->uvs[2 * 2 + 1] == 0.0f); /* v flipped to glTF */
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    /* strips: 0 1 2 3 is two triangles (the second flipped), -1 restarts, 0 0 1 is degenerate */
    const char strips[] = "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\n"
                          "property float z\nelement tristrips 1\nproperty list int int vertex_indices\nend_header\n"
                          "0 0 0\n1 0 0\n0 1 0\n1 1 0\n8 0 1 2 3 -1 0 0 1\n";
    LDS_CHECK_OK(import_bytes("strips.ply", strips, sizeof(strips) - 1, NULL, &m, &err), &err);
    if (m) {
        LDS_CHECK_INT(lds_mesh_triangle_count(m), ==, 2);
        const uint32_t want[6] = {0, 1, 2, 2, 1, 3};
        LDS_CHECK(m->index_count == 6 && memcmp(m->indices, want, sizeof(want)) == 0);
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    const char points[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                          "property float z\nend_header\n0 0 0\n1 0 0\n0 1 0"; /* no final newline */
    LDS_CHECK_OK(import_bytes("points.ply", points, sizeof(points) - 1, NULL, &m, &err), &err);
    if (m) {
        LDS_CHECK_INT(m->index_count, ==, 0);
        LDS_CHECK(m->submesh_count == 1 && m->submeshes[0].vertex_count == 3);
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    make_ply(&b, 0, 1, 0);
    check_error_names(import_bytes("bad-index.ply", b.data, b.size, NULL, &m, &err), &err, "bad-index.ply", LDS_EFORMAT);
    make_ply(&b, 0, 0, 1);
    check_error_names(import_bytes("nan.ply", b.data, b.size, NULL, &m, &err), &err, "nan.ply", LDS_EFORMAT);
    LDS_CHECK(strstr(err.message, "non-finite") != NULL);
    /* a header promising 2e9 vertices fails before allocating anything */
    const char huge[] = "ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\nproperty float x\n"
                        "property float y\nproperty float z\nend_header\n\0\0\0\0\0\0\0\0\0\0\0\0";
    check_error_names(import_bytes("huge.ply", huge, sizeof(huge) - 1, NULL, &m, &err), &err, "huge.ply", LDS_ETRUNC);
    LDS_CHECK(strstr(err.message, "2000000000") != NULL);
    const char huge_ascii[] = "ply\nformat ascii 1.0\nelement vertex 2000000000\nproperty float x\n"
                              "property float y\nproperty float z\nend_header\n0 0 0\n";
    check_error_names(import_bytes("huge-ascii.ply", huge_ascii, sizeof(huge_ascii) - 1, NULL, &m, &err), &err,
                      "huge-ascii.ply", LDS_ETRUNC);
    LDS_CHECK(m == NULL);
}

static void test_stl(void)
{
    bytes b;
    lds_error err;
    lds_mesh_model *m = NULL;
    make_stl(&b);
    LDS_CHECK_OK(import_bytes("quad.stl", b.data, b.size, NULL, &m, &err), &err);
    if (m) {
        LDS_CHECK_INT(lds_mesh_triangle_count(m), ==, 2);
        LDS_CHECK(m->positions[3 * 4] == 1.0f && m->positions[3 * 4 + 1] == 1.0f);
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    const char ascii[] = "solid q\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 1 1 0\nendloop\n"
                         "endfacet\nfacet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 1 0\n  vertex 0 1 0\n"
                         " endloop\nendfacet\nendsolid q\n";
    LDS_CHECK_OK(import_bytes("ascii.stl", ascii, sizeof(ascii) - 1, NULL, &m, &err), &err);
    if (m) {
        LDS_CHECK_INT(lds_mesh_triangle_count(m), ==, 2);
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    const char nan_stl[] = "solid q\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 1 NaN 0\n"
                           "endloop\nendfacet\nendsolid q\n";
    check_error_names(import_bytes("nan.stl", nan_stl, sizeof(nan_stl) - 1, NULL, &m, &err), &err, "nan.stl",
                      LDS_EFORMAT);
}

static void test_obj(void)
{
    lds_error err;
    lds_mesh_model *m = NULL;
    const memfile files[] = {{"two.mtl", mtl_text, sizeof(mtl_text) - 1}, {"tex.png", png_bytes, sizeof(png_bytes)}};
    memdir dir = {files, 2, 0};
    LDS_CHECK_OK(import_bytes("two.obj", obj_text, sizeof(obj_text) - 1, &dir, &m, &err), &err);
    if (m) {
        LDS_CHECK_INT(lds_mesh_triangle_count(m), ==, 4);
        LDS_CHECK_INT(m->submesh_count, ==, 2);
        LDS_CHECK_INT(m->vertex_count, ==, 8); /* 4 distinct corners per group */
        LDS_CHECK(m->uvs && m->normals);
        LDS_CHECK_INT(m->material_count, ==, 2);
        LDS_CHECK_INT(m->texture_count, ==, 1);
        LDS_CHECK_INT(m->warning_count, ==, 0);
        if (m->material_count == 2 && m->submesh_count == 2) {
            const lds_mesh_material *red = &m->materials[m->submeshes[0].material];
            const lds_mesh_material *tex = &m->materials[m->submeshes[1].material];
            LDS_CHECK_STR(red->name, "red");
            LDS_CHECK(red->base_color[0] == 1.0f && red->base_color[1] == 0.0f && red->base_color[3] == 0.5f);
            LDS_CHECK_INT(red->maps[LDS_MESH_MAP_BASE_COLOR].texture, ==, -1);
            LDS_CHECK_INT(tex->maps[LDS_MESH_MAP_BASE_COLOR].texture, ==, 0);
            /* negative indices: the second quad is vertices 2, 5, 6, 3 (1-based) */
            const lds_mesh_submesh *s = &m->submeshes[1];
            const float *p = &m->positions[3 * (size_t)m->indices[s->index_offset + 1]];
            LDS_CHECK(p[0] == 2.0f && p[1] == 0.0f);
        }
        if (m->texture_count == 1) {
            LDS_CHECK_STR(m->textures[0].name, "tex.png");
            LDS_CHECK_STR(m->textures[0].mime, "image/png");
            LDS_CHECK_INT(m->textures[0].width, ==, 512);
            LDS_CHECK_INT(m->textures[0].height, ==, 256);
        }
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    /* without the texture: a warning, the texture kept as missing */
    memdir no_texture = {files, 1, 0};
    LDS_CHECK_OK(import_bytes("two.obj", obj_text, sizeof(obj_text) - 1, &no_texture, &m, &err), &err);
    if (m) {
        LDS_CHECK_INT(m->warning_count, ==, 1);
        LDS_CHECK(m->texture_count == 1 && m->textures[0].data == NULL);
        if (m->warning_count)
            LDS_CHECK(strstr(m->warnings[0], "tex.png") != NULL);
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    const char bad[] = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n";
    check_error_names(import_bytes("bad-index.obj", bad, sizeof(bad) - 1, NULL, &m, &err), &err, "bad-index.obj",
                      LDS_EFORMAT);
    const char nan[] = "v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n";
    check_error_names(import_bytes("nan.obj", nan, sizeof(nan) - 1, NULL, &m, &err), &err, "nan.obj", LDS_EFORMAT);
    const char inf[] = "v 0 0 0\nv 1e39 0 0\nv 0 1 0\nf 1 2 3\n";
    check_error_names(import_bytes("inf.obj", inf, sizeof(inf) - 1, NULL, &m, &err), &err, "inf.obj", LDS_EFORMAT);
    /* limits */
    lds_mesh_limits limits = {.max_triangles = 3};
    lds_error_clear(&err);
    lds_mesh_reader reader = {&dir, memdir_read};
    check_error_names(lds_mesh_import("two.obj", (const unsigned char *)obj_text, sizeof(obj_text) - 1, &reader,
                                      &limits, &m, &err),
                      &err, "two.obj", LDS_ELIMIT);
}

static void test_obj_default_material(void)
{
    const char text[] = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nusemtl red\nf 3 2 1\n";
    const memfile files[] = {{"x.mtl", mtl_text, sizeof(mtl_text) - 1}};
    memdir dir = {files, 1, 0};
    lds_error err;
    lds_mesh_model *m = NULL;
    LDS_CHECK_OK(import_bytes("default.obj", text, sizeof(text) - 1, &dir, &m, &err), &err);
    if (m) {
        LDS_CHECK_INT(m->submesh_count, ==, 2);
        LDS_CHECK_INT(m->material_count, ==, 2);
        if (m->submesh_count == 2)
            LDS_CHECK(m->submeshes[0].material != m->submeshes[1].material);
        lds_mesh_model_destroy(m);
    }
}

static void test_gltf_through_assimp(void)
{
    const char gltf[] =
        "{\"asset\":{\"version\":\"2.0\"},\"buffers\":[{\"uri\":\"tri.bin\",\"byteLength\":36}],"
        "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":0,\"byteLength\":36}],"
        "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":3,\"type\":\"VEC3\","
        "\"min\":[0,0,0],\"max\":[1,1,0]}],\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0}}]}],"
        "\"nodes\":[{\"children\":[1],\"translation\":[10,0,0]},{\"mesh\":0,\"scale\":[2,2,2]}],"
        "\"scenes\":[{\"nodes\":[0]}],\"scene\":0}";
    const float tri[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
    const memfile files[] = {{"tri.bin", tri, sizeof(tri)}};
    memdir dir = {files, 1, 0};
    lds_error err;
    lds_mesh_model *m = NULL;
    LDS_CHECK_OK(import_bytes("tri.gltf", gltf, sizeof(gltf) - 1, &dir, &m, &err), &err);
    LDS_CHECK_INT(dir.requests, >=, 1);
    if (m) {
        LDS_CHECK_INT(lds_mesh_triangle_count(m), ==, 1);
        /* world space: scale 2 then translate 10 */
        LDS_CHECK(m->positions[3] == 12.0f && m->positions[7] == 2.0f);
        lds_mesh_model_destroy(m);
        m = NULL;
    }
    memdir empty = {files, 0, 0};
    lds_status st = import_bytes("tri.gltf", gltf, sizeof(gltf) - 1, &empty, &m, &err);
    check_error_names(st, &err, "tri.gltf", LDS_EFORMAT);
    LDS_CHECK(strstr(err.message, "tri.bin") != NULL);
}

/* Every prefix of a good file, in a buffer of exactly that size: fails cleanly or succeeds. */
static void truncations(const char *name, const void *data, size_t size)
{
    size_t ok = 0;
    for (size_t n = 1; n <= size; n++) {
        unsigned char *copy = malloc(n);
        memcpy(copy, data, n);
        lds_mesh_model *m = NULL;
        lds_error err;
        lds_error_clear(&err);
        lds_status st = lds_mesh_import(name, copy, n, NULL, NULL, &m, &err);
        if (st == LDS_OK) {
            ok++;
            LDS_CHECK(m != NULL);
        } else {
            LDS_CHECK(m == NULL && err.message[0] != '\0');
        }
        lds_mesh_model_destroy(m);
        free(copy);
    }
    printf("  %s: %zu prefixes, %zu import\n", name, size, ok);
}

static void test_truncations(void)
{
    bytes b;
    make_ply(&b, 0, 0, 0);
    truncations("cut.ply", b.data, b.size);
    make_ply(&b, 1, 0, 0);
    truncations("cut-be.ply", b.data, b.size);
    make_stl(&b);
    truncations("cut.stl", b.data, b.size);
    truncations("cut.obj", obj_text, sizeof(obj_text) - 1);
    const char ascii[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                         "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
                         "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n";
    truncations("cut-ascii.ply", ascii, sizeof(ascii) - 1);
}

/* Deterministic byte mutations of a good file (a small fuzz corpus replayed on every run). */
static void mutations(const char *name, const void *data, size_t size, unsigned seed)
{
    static const unsigned char values[] = {0, 1, 0x7f, 0x80, 0xff, '-', '/', ' ', '\n', '9', 'e', '.'};
    size_t ok = 0;
    for (int round = 0; round < 1500; round++) {
        unsigned char *copy = malloc(size);
        memcpy(copy, data, size);
        int flips = 1 + (int)(seed % 4);
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % size;
            seed = seed * 1103515245u + 12345u;
            copy[at] = (seed >> 16) & 1 ? values[(seed >> 8) % sizeof(values)] : (unsigned char)(seed >> 20);
        }
        lds_mesh_model *m = NULL;
        lds_error err;
        lds_error_clear(&err);
        if (lds_mesh_import(name, copy, size, NULL, NULL, &m, &err) == LDS_OK)
            ok++;
        else
            LDS_CHECK(m == NULL && err.message[0] != '\0');
        lds_mesh_model_destroy(m);
        free(copy);
    }
    printf("  %s: 1500 mutations, %zu import\n", name, ok);
}

static void test_mutations(void)
{
    bytes b;
    make_ply(&b, 0, 0, 0);
    mutations("fuzz.ply", b.data, b.size, 1);
    make_stl(&b);
    mutations("fuzz.stl", b.data, b.size, 2);
    mutations("fuzz.obj", obj_text, sizeof(obj_text) - 1, 3);
    const char ascii[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                         "property float z\nelement tristrips 1\nproperty list uchar int vertex_indices\nend_header\n"
                         "0 0 0\n1 0 0\n0 1 0\n4 0 1 2 -1\n";
    mutations("fuzz-ascii.ply", ascii, sizeof(ascii) - 1, 4);
}

static void test_dir_reader(void)
{
    const char *dir = lds_test_tmpdir("import_dir_reader");
    char path[2048], outside[2048];
    snprintf(path, sizeof(path), "%s/model", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/model/sub", dir);
    mkdir(path, 0755);
    lds_error err;
    lds_error_clear(&err);
    snprintf(path, sizeof(path), "%s/model/a.mtl", dir);
    LDS_CHECK_OK(lds_file_write_atomic(path, "newmtl a\n", 9, &err), &err);
    snprintf(path, sizeof(path), "%s/model/sub/b.png", dir);
    LDS_CHECK_OK(lds_file_write_atomic(path, "png", 3, &err), &err);
    snprintf(outside, sizeof(outside), "%s/secret.txt", dir);
    LDS_CHECK_OK(lds_file_write_atomic(outside, "secret", 6, &err), &err);
    snprintf(path, sizeof(path), "%s/model/link.txt", dir);
    LDS_CHECK(symlink(outside, path) == 0);
    snprintf(path, sizeof(path), "%s/model/inside.mtl", dir);
    LDS_CHECK(symlink("a.mtl", path) == 0);
    snprintf(path, sizeof(path), "%s/model", dir);
    lds_mesh_dir_reader dr;
    lds_mesh_dir_reader_init(&dr, path, 1024);
    lds_mesh_reader r = lds_mesh_dir_reader_get(&dr);
    unsigned char *data = NULL;
    size_t size = 0;
    LDS_CHECK_INT(r.read(r.ctx, "a.mtl", &data, &size), ==, 0);
    LDS_CHECK(size == 9 && data && memcmp(data, "newmtl a\n", 9) == 0);
    free(data);
    LDS_CHECK_INT(r.read(r.ctx, "./sub/b.png", &data, &size), ==, 0);
    free(data);
    LDS_CHECK_INT(r.read(r.ctx, "sub\\b.png", &data, &size), ==, 0);
    free(data);
    LDS_CHECK_INT(r.read(r.ctx, "inside.mtl", &data, &size), ==, 0); /* a link that stays inside */
    free(data);
    LDS_CHECK_INT(r.read(r.ctx, "link.txt", &data, &size), ==, -1);
    LDS_CHECK_INT(r.read(r.ctx, "../secret.txt", &data, &size), ==, -1);
    LDS_CHECK_INT(r.read(r.ctx, "sub/../a.mtl", &data, &size), ==, -1);
    LDS_CHECK_INT(r.read(r.ctx, outside, &data, &size), ==, -1);
    LDS_CHECK_INT(r.read(r.ctx, "C:\\a.mtl", &data, &size), ==, -1);
    LDS_CHECK_INT(r.read(r.ctx, "missing.png", &data, &size), ==, -1);
    LDS_CHECK_INT(r.read(r.ctx, "sub", &data, &size), ==, -1); /* a directory */
    lds_mesh_dir_reader_init(&dr, path, 4);
    LDS_CHECK_INT(r.read(r.ctx, "a.mtl", &data, &size), ==, -1); /* over max_bytes */
}

static void test_image_info(void)
{
    char mime[32];
    int w, h;
    lds_image_info(png_bytes, sizeof(png_bytes), mime, &w, &h);
    LDS_CHECK_STR(mime, "image/png");
    LDS_CHECK(w == 512 && h == 256);
    const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 4, 'J', 'F', 0xff, 0xc0, 0, 11, 8, 300 >> 8, 300 & 255,
                                  0, 200, 3, 1, 0x22, 0};
    lds_image_info(jpeg, sizeof(jpeg), mime, &w, &h);
    LDS_CHECK_STR(mime, "image/jpeg");
    LDS_CHECK(w == 200 && h == 300);
    for (size_t n = 0; n <= sizeof(jpeg); n++) { /* prefixes: no overread, no garbage size */
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, jpeg, n);
        lds_image_info(copy, n, mime, &w, &h);
        LDS_CHECK((w == 0 && h == 0) || (w == 200 && h == 300));
        free(copy);
    }
    lds_image_info((const unsigned char *)"GIF89a", 6, mime, &w, &h);
    LDS_CHECK(mime[0] == '\0' && w == 0);
}

int main(void)
{
    test_ply();
    test_stl();
    test_obj();
    test_obj_default_material();
    test_gltf_through_assimp();
    test_truncations();
    test_mutations();
    test_dir_reader();
    test_image_info();
    return lds_test_result();
}
