/* test_thumbnail.c: the turntable thumbnails (mesh/thumbnail.c) of a generated textured sphere
 * (left half of the texture red, right half blue) and of a point cloud: 8 PNGs of 512x512 that
 * decode, with a transparent background, the model covering a sane share of the frame, both
 * texture colours visible, shading (not a flat silhouette), and the same bytes on a second run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "testlib.h"

/* A UV sphere of n x 2n quads with normals and UVs, textured by tex. */
static lds_mesh_model *textured_sphere(int n, const lds_buf *png)
{
    lds_mesh_model *m = lds_mesh_model_create();
    size_t rows = (size_t)n + 1, cols = 2 * (size_t)n + 1;
    if (m == NULL || lds_mesh_model_alloc(m, rows * cols, (size_t)n * 2 * (size_t)n * 6, 1, 1, 0) != LDS_OK)
        return NULL;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double theta = M_PI * (double)i / (double)n, phi = M_PI * (double)j / (double)n;
            size_t v = i * cols + j;
            float p[3] = {(float)(sin(theta) * cos(phi)), (float)cos(theta), (float)(sin(theta) * sin(phi))};
            memcpy(&m->positions[3 * v], p, sizeof(p));
            memcpy(&m->normals[3 * v], p, sizeof(p));
            m->uvs[2 * v] = (float)j / (float)(cols - 1);
            m->uvs[2 * v + 1] = (float)i / (float)(rows - 1);
        }
    size_t k = 0;
    for (size_t i = 0; i < (size_t)n; i++)
        for (size_t j = 0; j + 1 < cols; j++) {
            uint32_t a = (uint32_t)(i * cols + j), b = a + 1, c = (uint32_t)((i + 1) * cols + j), d = c + 1;
            uint32_t quad[6] = {a, c, b, b, c, d};
            memcpy(&m->indices[k], quad, sizeof(quad));
            k += 6;
        }
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->materials = calloc(1, sizeof(lds_mesh_material));
    m->textures = calloc(1, sizeof(lds_mesh_texture));
    if (!m->submeshes || !m->materials || !m->textures)
        return NULL;
    m->submesh_count = m->material_count = m->texture_count = 1;
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)m->vertex_count, 0, (uint32_t)m->index_count, 0, 0};
    lds_mesh_material_init(&m->materials[0]);
    m->materials[0].metallic = 0;
    m->materials[0].maps[LDS_MESH_MAP_BASE_COLOR].texture = 0;
    m->textures[0].name = strdup("halves.png");
    m->textures[0].data = malloc(png->size);
    memcpy(m->textures[0].data, png->data, png->size);
    m->textures[0].size = png->size;
    snprintf(m->textures[0].mime, sizeof(m->textures[0].mime), "image/png");
    return m;
}

typedef struct stats {
    double coverage;
    size_t red, blue, opaque;
    int corners_clear;
    double luma_spread;
} stats;

static stats measure(const lds_buf *png)
{
    stats s = {0};
    lds_mesh_image img;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_image_decode("thumb.png", png->data, png->size, NULL, &img, &err), &err);
    if (img.rgba == NULL)
        return s;
    LDS_CHECK_INT(img.width, ==, LDS_THUMBNAIL_SIZE);
    LDS_CHECK_INT(img.height, ==, LDS_THUMBNAIL_SIZE);
    size_t covered = 0, total = (size_t)img.width * (size_t)img.height;
    double lo = 1e9, hi = -1;
    for (size_t i = 0; i < total; i++) {
        const unsigned char *p = &img.rgba[4 * i];
        if (p[3] > 0)
            covered++;
        if (p[3] < 255)
            continue;
        s.opaque++;
        if (p[0] > 100 && p[0] > 3 * p[2] && p[0] > 3 * p[1])
            s.red++;
        if (p[2] > 100 && p[2] > 3 * p[0] && p[2] > 3 * p[1])
            s.blue++;
        double luma = 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
        lo = luma < lo ? luma : lo;
        hi = luma > hi ? luma : hi;
    }
    size_t w = (size_t)img.width;
    s.corners_clear = img.rgba[3] == 0 && img.rgba[4 * (w - 1) + 3] == 0 && img.rgba[4 * (total - 1) + 3] == 0 &&
                      img.rgba[4 * (total - w) + 3] == 0;
    s.coverage = (double)covered / (double)total;
    s.luma_spread = hi - lo;
    lds_mesh_image_cleanup(&img);
    return s;
}

static void render_all(const lds_mesh_model *m, lds_buf pngs[LDS_THUMBNAIL_VIEWS])
{
    lds_error err;
    lds_error_clear(&err);
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++)
        lds_buf_init(&pngs[i], 16u << 20);
    LDS_CHECK_OK(lds_mesh_thumbnails(m, LDS_THUMBNAIL_SIZE, pngs, &err), &err);
}

static void free_all(lds_buf pngs[LDS_THUMBNAIL_VIEWS])
{
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++)
        lds_buf_cleanup(&pngs[i]);
}

static void check_textured(void)
{
    /* the texture: left half red, right half blue */
    lds_mesh_image tex = {64, 64, malloc(64 * 64 * 4)};
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 64; x++) {
            unsigned char *p = &tex.rgba[4 * (y * 64 + x)];
            p[0] = x < 32 ? 230 : 10;
            p[1] = 10;
            p[2] = x < 32 ? 10 : 230;
            p[3] = 255;
        }
    lds_buf png;
    lds_buf_init(&png, 1 << 20);
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_image_encode(&tex, LDS_MESH_IMAGE_PNG, NULL, &png, &err), &err);
    free(tex.rgba);
    lds_mesh_model *m = textured_sphere(24, &png);
    lds_buf_cleanup(&png);
    LDS_CHECK(m != NULL);
    if (m == NULL)
        return;
    lds_buf first[LDS_THUMBNAIL_VIEWS], second[LDS_THUMBNAIL_VIEWS];
    render_all(m, first);
    size_t views_with_both = 0;
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++) {
        stats s = measure(&first[i]);
        printf("view %d: %zu bytes, coverage %.3f, red %zu, blue %zu, luma spread %.0f\n", i, first[i].size,
               s.coverage, s.red, s.blue, s.luma_spread);
        LDS_CHECK(s.coverage > 0.15 && s.coverage < 0.8); /* the sphere fills its bounding circle */
        LDS_CHECK(s.corners_clear);                        /* transparent background */
        LDS_CHECK(s.luma_spread > 40);                     /* lit, not a flat silhouette */
        LDS_CHECK(s.red + s.blue > s.opaque / 4);           /* the texture's colours, not grey */
        views_with_both += s.red > 1000 && s.blue > 1000;
    }
    LDS_CHECK_INT(views_with_both, >=, 2); /* the turntable shows both halves side by side */
    render_all(m, second);
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++) {
        LDS_CHECK_INT(first[i].size, ==, second[i].size);
        LDS_CHECK(first[i].size == second[i].size && memcmp(first[i].data, second[i].data, first[i].size) == 0);
    }
    free_all(first);
    free_all(second);
    lds_mesh_model_destroy(m);
}

static void check_points(void)
{
    lds_mesh_model *m = lds_mesh_model_create();
    LDS_CHECK(m != NULL && lds_mesh_model_alloc(m, 2000, 0, 0, 0, 0) == LDS_OK);
    uint64_t seed = 12345;
    for (size_t i = 0; i < 2000; i++) { /* points on a unit sphere */
        float p[3], n2 = 0;
        for (int k = 0; k < 3; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            p[k] = (float)((double)(seed >> 11) / 9007199254740992.0 * 2 - 1);
            n2 += p[k] * p[k];
        }
        for (int k = 0; k < 3; k++)
            m->positions[3 * i + k] = p[k] / sqrtf(n2 > 1e-6f ? n2 : 1);
    }
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->materials = calloc(1, sizeof(lds_mesh_material));
    m->submesh_count = m->material_count = 1;
    m->submeshes[0] = (lds_mesh_submesh){0, 2000, 0, 0, 0, 0};
    lds_mesh_material_init(&m->materials[0]);
    lds_buf pngs[LDS_THUMBNAIL_VIEWS];
    render_all(m, pngs);
    stats s = measure(&pngs[0]);
    printf("points: coverage %.3f\n", s.coverage);
    LDS_CHECK(s.coverage > 0.02 && s.coverage < 0.8);
    LDS_CHECK(s.corners_clear);
    free_all(pngs);
    lds_mesh_model_destroy(m);
}

int main(void)
{
    check_textured();
    check_points();
    return lds_test_result();
}
