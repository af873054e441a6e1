/* test_glb.c: lds_mesh_write_glb on synthetic models (a textured two-material cube, a point cloud,
 * a grid over 65535 vertices) in all three encodings: every file validates with the Khronos
 * validator, Draco and meshopt data decode to the stated counts, output is deterministic, bad
 * models fail with a status. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "draco_shim.h"
#include "mesh.h"
#include "test_glb_check.h"
#include "testlib.h"

/* ---- a real PNG, made here: zlib stored blocks, CRC-32 and Adler-32 (RFC 1950/1951, PNG spec) ---- */

static uint32_t crc32_png(const unsigned char *p, size_t n, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void put32be(lds_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    lds_buf_append(b, x, 4);
}

static void png_chunk(lds_buf *b, const char *type, const unsigned char *data, size_t n)
{
    put32be(b, (uint32_t)n);
    size_t start = b->size;
    lds_buf_append(b, type, 4);
    if (n)
        lds_buf_append(b, data, n);
    put32be(b, crc32_png(b->data + start, n + 4, 0));
}

static unsigned char *make_png(int width, int height, size_t *size)
{
    lds_buf raw, z, png;
    lds_buf_init(&raw, 0);
    lds_buf_init(&z, 0);
    lds_buf_init(&png, 0);
    for (int y = 0; y < height; y++) {
        unsigned char filter = 0;
        lds_buf_append(&raw, &filter, 1);
        for (int x = 0; x < width; x++) {
            unsigned char rgb[3] = {(unsigned char)(x * 255 / width), (unsigned char)(y * 255 / height), 128};
            lds_buf_append(&raw, rgb, 3);
        }
    }
    unsigned char zh[2] = {0x78, 0x01};
    lds_buf_append(&z, zh, 2);
    uint32_t a = 1, bsum = 0;
    for (size_t i = 0; i < raw.size; i++) {
        a = (a + raw.data[i]) % 65521;
        bsum = (bsum + a) % 65521;
    }
    for (size_t off = 0; off < raw.size || off == 0; off += 65535) {
        size_t n = raw.size - off > 65535 ? 65535 : raw.size - off;
        unsigned char hdr[5] = {(unsigned char)(off + n >= raw.size), (unsigned char)n, (unsigned char)(n >> 8),
                                (unsigned char)~n, (unsigned char)(~n >> 8)};
        lds_buf_append(&z, hdr, 5);
        lds_buf_append(&z, raw.data + off, n);
        if (off + n >= raw.size)
            break;
    }
    put32be(&z, (bsum << 16) | a);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    lds_buf_append(&png, sig, 8);
    unsigned char ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0};
    ihdr[2] = (unsigned char)(width >> 8), ihdr[3] = (unsigned char)width;
    ihdr[6] = (unsigned char)(height >> 8), ihdr[7] = (unsigned char)height;
    png_chunk(&png, "IHDR", ihdr, 13);
    png_chunk(&png, "IDAT", z.data, z.size);
    png_chunk(&png, "IEND", NULL, 0);
    lds_buf_cleanup(&raw);
    lds_buf_cleanup(&z);
    return lds_buf_detach(&png, size);
}

/* ---- models ---- */

static void add_materials(lds_mesh_model *m, size_t count)
{
    m->material_count = count;
    m->materials = calloc(count, sizeof(lds_mesh_material));
    for (size_t i = 0; i < count; i++) {
        lds_mesh_material_init(&m->materials[i]);
        for (int c = 0; c < 4; c++)
            m->materials[i].base_color[c] = 1.0f;
    }
}

/* A unit cube, 4 vertices per face with normals, UVs and colours; faces 0-2 use material 0 (PNG
 * texture), faces 3-5 material 1 (red factor, and a texture with no data that must be skipped). */
static lds_mesh_model *make_cube(void)
{
    lds_mesh_model *m = lds_mesh_model_create();
    LDS_CHECK(lds_mesh_model_alloc(m, 24, 36, 1, 1, 1) == LDS_OK);
    static const float axes[6][3][3] = {
        {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},  {{-1, 0, 0}, {0, 0, 1}, {0, 1, 0}}, {{0, 1, 0}, {0, 0, 1}, {1, 0, 0}},
        {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}, {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}},  {{0, 0, -1}, {0, 1, 0}, {1, 0, 0}},
    };
    static const float corner[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
    for (int f = 0; f < 6; f++) {
        for (int k = 0; k < 4; k++) {
            int v = 4 * f + k;
            for (int c = 0; c < 3; c++) {
                m->positions[3 * v + c] = 0.5f * (axes[f][0][c] + corner[k][0] * axes[f][1][c] + corner[k][1] * axes[f][2][c]);
                m->normals[3 * v + c] = axes[f][0][c];
            }
            m->uvs[2 * v] = (corner[k][0] + 1) / 2;
            m->uvs[2 * v + 1] = (corner[k][1] + 1) / 2;
            m->colors[4 * v] = (float)f / 5, m->colors[4 * v + 1] = (float)k / 3;
            m->colors[4 * v + 2] = 0.5f, m->colors[4 * v + 3] = 1.0f;
        }
        /* winding: counter-clockwise seen from outside when (u x v) = n */
        uint32_t *t = m->indices + 6 * f, b = 4 * f;
        float cr[3] = {axes[f][1][1] * axes[f][2][2] - axes[f][1][2] * axes[f][2][1],
                       axes[f][1][2] * axes[f][2][0] - axes[f][1][0] * axes[f][2][2],
                       axes[f][1][0] * axes[f][2][1] - axes[f][1][1] * axes[f][2][0]};
        int same = cr[0] * axes[f][0][0] + cr[1] * axes[f][0][1] + cr[2] * axes[f][0][2] > 0;
        uint32_t q[6] = {b, b + 1, b + 2, b, b + 2, b + 3};
        if (!same) {
            uint32_t r[6] = {b, b + 2, b + 1, b, b + 3, b + 2};
            memcpy(q, r, sizeof(q));
        }
        memcpy(t, q, sizeof(q));
    }
    m->submesh_count = 2;
    m->submeshes = calloc(2, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, 12, 0, 18, 0, 0};
    m->submeshes[1] = (lds_mesh_submesh){12, 12, 18, 18, 1, 0};
    add_materials(m, 2);
    m->materials[0].name = strdup("textured");
    m->materials[0].maps[LDS_MESH_MAP_BASE_COLOR].texture = 0;
    m->materials[1].name = strdup("red");
    m->materials[1].base_color[1] = m->materials[1].base_color[2] = 0.1f;
    m->materials[1].maps[LDS_MESH_MAP_BASE_COLOR].texture = 1;
    m->materials[1].double_sided = 1;
    m->texture_count = 2;
    m->textures = calloc(2, sizeof(lds_mesh_texture));
    m->textures[0].name = strdup("checker.png");
    strcpy(m->textures[0].mime, "image/png");
    m->textures[0].data = make_png(16, 8, &m->textures[0].size);
    m->textures[0].width = 16, m->textures[0].height = 8;
    m->textures[1].name = strdup("missing.jpg"); /* no data: skipped, material keeps its factor */
    return m;
}

static lds_mesh_model *make_points(size_t count)
{
    lds_mesh_model *m = lds_mesh_model_create();
    LDS_CHECK(lds_mesh_model_alloc(m, count, 0, 0, 0, 1) == LDS_OK);
    for (size_t i = 0; i < count; i++) {
        double t = (double)i * 0.1;
        m->positions[3 * i] = (float)(cos(t) * (1 + t * 0.01));
        m->positions[3 * i + 1] = (float)(sin(t) * (1 + t * 0.01));
        m->positions[3 * i + 2] = (float)(t * 0.02);
        for (int c = 0; c < 4; c++)
            m->colors[4 * i + c] = c == 3 ? 1.0f : (float)((i * (c + 1)) % 256) / 255.0f;
    }
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)count, 0, 0, 0, 0};
    add_materials(m, 1);
    return m;
}

/* A wavy height field of side x side vertices with normals and UVs running 0..3 (tiled). */
static lds_mesh_model *make_grid(int side)
{
    lds_mesh_model *m = lds_mesh_model_create();
    size_t nv = (size_t)side * side, nt = 2 * (size_t)(side - 1) * (side - 1);
    LDS_CHECK(lds_mesh_model_alloc(m, nv, 3 * nt, 1, 1, 0) == LDS_OK);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            size_t v = (size_t)y * side + x;
            double u = (double)x / (side - 1), w = (double)y / (side - 1);
            double h = 0.05 * sin(u * 20) * cos(w * 17);
            m->positions[3 * v] = (float)u;
            m->positions[3 * v + 1] = (float)h;
            m->positions[3 * v + 2] = (float)w;
            double dx = 0.05 * 20 * cos(u * 20) * cos(w * 17), dz = -0.05 * 17 * sin(u * 20) * sin(w * 17);
            double len = sqrt(dx * dx + 1 + dz * dz);
            m->normals[3 * v] = (float)(-dx / len);
            m->normals[3 * v + 1] = (float)(1 / len);
            m->normals[3 * v + 2] = (float)(-dz / len);
            m->uvs[2 * v] = (float)(3 * u);
            m->uvs[2 * v + 1] = (float)(3 * w);
        }
    uint32_t *t = m->indices;
    for (int y = 0; y + 1 < side; y++)
        for (int x = 0; x + 1 < side; x++) {
            uint32_t a = (uint32_t)(y * side + x), b = a + 1, c = a + (uint32_t)side, d = c + 1;
            *t++ = a, *t++ = c, *t++ = b;
            *t++ = b, *t++ = c, *t++ = d;
        }
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)nv, 0, (uint32_t)(3 * nt), 0, 0};
    add_materials(m, 1);
    m->texture_count = 1;
    m->textures = calloc(1, sizeof(lds_mesh_texture));
    m->textures[0].name = strdup("tile.png");
    m->textures[0].data = make_png(4, 4, &m->textures[0].size); /* mime unknown: sniffed */
    m->materials[0].maps[LDS_MESH_MAP_BASE_COLOR].texture = 0;
    return m;
}

static const char *encoding_name[3] = {"plain", "draco", "meshopt"};

/* Writes model in all three encodings, checks each, saves it and collects the path. */
static void write_all(const char *dir, const char *name, const lds_mesh_model *model, const char **paths,
                      size_t *path_count, size_t triangles, size_t points)
{
    lds_mesh_quantization q = LDS_MESH_QUANTIZATION_DEFAULT;
    for (int e = 0; e < 3; e++) {
        lds_buf a, b;
        lds_error err;
        lds_error_clear(&err);
        lds_buf_init(&a, 0);
        lds_buf_init(&b, 0);
        LDS_CHECK_OK(lds_mesh_write_glb(model, (lds_mesh_encoding)e, &q, "lodestone test", &a, &err), &err);
        LDS_CHECK_OK(lds_mesh_write_glb(model, (lds_mesh_encoding)e, &q, "lodestone test", &b, &err), &err);
        /* determinism: same input, same bytes */
        LDS_CHECK_INT(a.size, ==, b.size);
        LDS_CHECK(a.size == b.size && memcmp(a.data, b.data, a.size) == 0);
        char what[256];
        snprintf(what, sizeof(what), "%s.%s.glb", name, encoding_name[e]);
        glb_summary s;
        glb_check(what, a.data, a.size, model, &s);
        LDS_CHECK_INT(s.triangles, ==, triangles);
        LDS_CHECK_INT(s.points, ==, points);
        /* the cube's and the grid's PNGs are embedded; the cube's data-less texture is skipped */
        LDS_CHECK_INT(s.images, ==, model->texture_count ? 1 : 0);
        if (e == LDS_MESH_ENCODING_DRACO)
            LDS_CHECK_INT(s.draco_primitives, ==, triangles ? model->submesh_count : 0);
        if (e == LDS_MESH_ENCODING_MESHOPT) {
            LDS_CHECK(s.meshopt_views > 0);
            if (model->normals)
                LDS_CHECK_INT(s.checked_normals, ==, model->submesh_count);
            if (model->uvs)
                LDS_CHECK(s.checked_uvs > 0); /* primitives whose material has a texture */
        }
        /* plain is exact; the quantised encodings stay within a few grid steps of 14 bits */
        double tolerance = e == LDS_MESH_ENCODING_PLAIN ? 0.0 : 4.0 / (1 << 14) * 3.0;
        if (s.max_position_error > tolerance)
            fprintf(stderr, "%s: position error %g over %g\n", what, s.max_position_error, tolerance);
        LDS_CHECK(s.max_position_error <= tolerance);
        printf("%-24s %8zu bytes (json %zu, bin %zu)\n", what, a.size, s.json_bytes, s.bin_bytes);
        paths[(*path_count)++] = glb_save(dir, what, a.data, a.size);
        lds_buf_cleanup(&a);
        lds_buf_cleanup(&b);
    }
}

static void test_draco_shim_points(void)
{
    /* the shim also encodes point clouds (draco::PointCloud), although glTF files keep points plain */
    lds_mesh_model *m = make_points(500);
    lds_draco_input in = {.vertex_count = 500, .positions = m->positions, .colors = m->colors, .position_bits = 14,
                          .normal_bits = 10, .uv_bits = 12, .encode_speed = 5, .decode_speed = 5};
    lds_draco_output out;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_draco_encode(&in, &out, &err), &err);
    size_t points = 0, faces = 1;
    LDS_CHECK_OK(lds_draco_decode_counts(out.data, out.size, &points, &faces, NULL, &err), &err);
    LDS_CHECK_INT(points, ==, 500);
    LDS_CHECK_INT(out.point_count, ==, 500);
    LDS_CHECK_INT(faces, ==, 0);
    /* a corrupt buffer is an error, not a crash */
    lds_error_clear(&err);
    LDS_CHECK(lds_draco_decode_counts(out.data, out.size / 2, &points, &faces, NULL, &err) != LDS_OK);
    free(out.data);
    lds_mesh_model_destroy(m);
}

static void test_bad_models(void)
{
    lds_error err;
    lds_buf out;
    lds_buf_init(&out, 0);
    lds_mesh_model *empty = lds_mesh_model_create();
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_mesh_write_glb(empty, LDS_MESH_ENCODING_PLAIN, NULL, NULL, &out, &err), ==, LDS_ENOGEOM);
    lds_mesh_model_destroy(empty);

    lds_mesh_model *cube = make_cube();
    cube->indices[20] = 3; /* submesh 1 owns vertices 12..23 */
    for (int e = 0; e < 3; e++) {
        lds_error_clear(&err);
        LDS_CHECK_INT(lds_mesh_write_glb(cube, (lds_mesh_encoding)e, NULL, NULL, &out, &err), ==, LDS_EINVAL);
        LDS_CHECK(strstr(err.message, "submesh 1") != NULL);
    }
    lds_mesh_model_destroy(cube);

    /* a capped output buffer: a clear error, not an overflow */
    cube = make_cube();
    lds_buf small;
    lds_buf_init(&small, 100);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_mesh_write_glb(cube, LDS_MESH_ENCODING_PLAIN, NULL, NULL, &small, &err), ==, LDS_ELIMIT);
    lds_buf_cleanup(&small);
    lds_mesh_model_destroy(cube);
    lds_buf_cleanup(&out);
}

int main(void)
{
    const char *dir = lds_test_tmpdir("glb");
    const char *paths[16];
    size_t count = 0;

    lds_mesh_model *cube = make_cube();
    write_all(dir, "cube", cube, paths, &count, 12, 0);
    lds_mesh_model_destroy(cube);

    lds_mesh_model *points = make_points(2000);
    write_all(dir, "points", points, paths, &count, 0, 2000);
    lds_mesh_model_destroy(points);

    lds_mesh_model *grid = make_grid(300); /* 90,000 vertices: uint32 indices */
    write_all(dir, "grid", grid, paths, &count, 2 * 299 * 299, 0);
    lds_mesh_model_destroy(grid);

    test_draco_shim_points();
    test_bad_models();
    lds_test_check_valid_glb(paths, count);
    return lds_test_result();
}
