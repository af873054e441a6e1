/* test_preview_watermark.c: the preview watermark in process (sandbox/preview*.c): 24 viewers'
 * previews of a generated bumpy ellipsoid; each attacked copy (rigid motion and scale, noise,
 * simplification to half, re-quantisation, all of them at once) is traced to its viewer with
 * p < 1e-6 after Bonferroni over the 24, and neither the clean base nor the LOD it came from
 * accuses anyone. Scores are printed as a table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "testlib.h"

#define VIEWERS 24
#define ALPHA 1e-6

/* A closed bumpy ellipsoid: about 4 n^2 triangles. */
static lds_mesh_model *ellipsoid(int n)
{
    int sectors = 2 * n;
    size_t vertices = 2 + (size_t)(n - 1) * sectors, triangles = 2 * (size_t)sectors * (size_t)(n - 1);
    lds_mesh_model *m = lds_mesh_model_create();
    if (m == NULL || lds_mesh_model_alloc(m, vertices, 3 * triangles, 0, 0, 0) != LDS_OK)
        return NULL;
    const double pi = 3.14159265358979323846;
    size_t v = 0, t = 0;
    for (int i = 0; i <= n; i++) {
        double theta = pi * i / n;
        for (int j = 0; j < ((i == 0 || i == n) ? 1 : sectors); j++) {
            double phi = 2 * pi * j / sectors;
            double r = 1.0 + 0.08 * sin(5 * theta + 0.3) * cos(3 * phi + 0.5) + 0.04 * sin(11 * phi);
            m->positions[3 * v] = (float)(1.6 * r * sin(theta) * cos(phi));
            m->positions[3 * v + 1] = (float)(1.0 * r * sin(theta) * sin(phi));
            m->positions[3 * v + 2] = (float)(0.7 * r * cos(theta) + 0.1 * sin(theta) * cos(phi));
            v++;
        }
    }
    for (int j = 0; j < sectors; j++) {
        uint32_t a = (uint32_t)(1 + j), b = (uint32_t)(1 + (j + 1) % sectors);
        m->indices[t++] = 0, m->indices[t++] = a, m->indices[t++] = b;
    }
    for (int i = 0; i < n - 2; i++)
        for (int j = 0; j < sectors; j++) {
            uint32_t v00 = (uint32_t)(1 + i * sectors + j), v01 = (uint32_t)(1 + i * sectors + (j + 1) % sectors);
            uint32_t v10 = v00 + (uint32_t)sectors, v11 = v01 + (uint32_t)sectors;
            m->indices[t++] = v00, m->indices[t++] = v10, m->indices[t++] = v11;
            m->indices[t++] = v00, m->indices[t++] = v11, m->indices[t++] = v01;
        }
    uint32_t last = (uint32_t)(1 + (n - 2) * sectors), bottom = (uint32_t)(vertices - 1);
    for (int j = 0; j < sectors; j++)
        m->indices[t++] = bottom, m->indices[t++] = last + (uint32_t)((j + 1) % sectors), m->indices[t++] = last + (uint32_t)j;
    m->index_count = t;
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)vertices, 0, (uint32_t)t, 0, 0};
    lds_mesh_material_init(&m->materials[0]);
    return m;
}

static unsigned long long rng_state = 88172645463325252ull;
static double uniform(void)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double gaussian(void)
{
    return sqrt(-2 * log(uniform() + 1e-300)) * cos(6.283185307179586 * uniform());
}

static void rigid_and_scale(lds_mesh_model *m)
{
    double a = 0.7, b = -1.1, c = 2.3, s = 3.7; /* rotation about x then z, then scale and move */
    for (size_t v = 0; v < m->vertex_count; v++) {
        float *p = m->positions + 3 * v;
        double y = cos(a) * p[1] - sin(a) * p[2], z = sin(a) * p[1] + cos(a) * p[2], x = p[0];
        double x2 = cos(b) * x - sin(b) * y, y2 = sin(b) * x + cos(b) * y;
        p[0] = (float)(s * x2 + c), p[1] = (float)(s * y2 - 4), p[2] = (float)(s * z + 0.5);
    }
}

static void noise(lds_mesh_model *m, double sigma)
{
    for (size_t v = 0; v < 3 * m->vertex_count; v++)
        m->positions[v] = (float)(m->positions[v] + sigma * gaussian());
}

static void requantise(lds_mesh_model *m, int bits)
{
    float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
    for (size_t v = 0; v < m->vertex_count; v++)
        for (int a = 0; a < 3; a++) {
            lo[a] = fminf(lo[a], m->positions[3 * v + a]);
            hi[a] = fmaxf(hi[a], m->positions[3 * v + a]);
        }
    for (size_t v = 0; v < m->vertex_count; v++)
        for (int a = 0; a < 3; a++) {
            double step = (hi[a] - lo[a]) / ((1 << bits) - 1);
            m->positions[3 * v + a] = (float)(lo[a] + step * nearbyint((m->positions[3 * v + a] - lo[a]) / step));
        }
}

/* Scores every viewer's key; returns the best viewer when it stands out (p < ALPHA), else -1. */
static int trace(const lds_preview_base *base, const lds_mesh_model *suspect, unsigned char seeds[][32],
                 double *best_score, double *p_out)
{
    lds_error err;
    lds_error_clear(&err);
    double responses[256];
    lds_preview_alignment info;
    lds_status st = lds_preview_measure(base, suspect, responses, &info, &err);
    LDS_CHECK_OK(st, &err);
    if (st != LDS_OK)
        return -2;
    int best = -1;
    *best_score = -1e9;
    for (int i = 0; i < VIEWERS; i++) {
        double t = lds_preview_score(base, responses, seeds[i]);
        if (t > *best_score)
            *best_score = t, best = i;
    }
    *p_out = lds_preview_p_value(*best_score, VIEWERS);
    return *p_out < ALPHA ? best : -1;
}

/* The diagonal of a model's bounding box. */
static double diagonal(const lds_mesh_model *m)
{
    float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f};
    for (size_t v = 0; v < m->vertex_count; v++)
        for (int a = 0; a < 3; a++) {
            lo[a] = fminf(lo[a], m->positions[3 * v + a]);
            hi[a] = fmaxf(hi[a], m->positions[3 * v + a]);
        }
    return sqrt((hi[0] - lo[0]) * (hi[0] - lo[0]) + (hi[1] - lo[1]) * (hi[1] - lo[1]) + (hi[2] - lo[2]) * (hi[2] - lo[2]));
}

/* Every attack on two viewers' previews of lod, then the clean base and the LOD itself. */
static void attack_model(const char *name, const lds_mesh_model *lod)
{
    lds_error err;
    lds_error_clear(&err);
    lds_preview_base *base = NULL;
    LDS_CHECK_OK(lds_preview_base_create(lod, NULL, &base, &err), &err);
    if (base == NULL)
        return;
    const lds_mesh_model *bm = lds_preview_base_model(base);
    LDS_CHECK_INT(lds_mesh_triangle_count(bm), <=, 20000);
    printf("\n%s: base %zu triangles, %zu vertices, %zu chips, step %.6f, amplitude %.6f (diagonal %.4f)\n", name,
           lds_mesh_triangle_count(bm), bm->vertex_count, lds_preview_base_chips(base), lds_preview_base_step(base),
           lds_preview_base_amplitude(base), diagonal(bm));
    unsigned char seeds[VIEWERS][32];
    for (int i = 0; i < VIEWERS; i++) {
        char id[32];
        snprintf(id, sizeof(id), "viewer-%d", i);
        lds_sha256_buffer(id, strlen(id), seeds[i]);
    }
    const char *attacks[] = {"none", "rigid+scale", "noise 0.05% diag", "simplify 0.5", "requantise 10 bits",
                             "all of them"};
    int n_attacks = (int)(sizeof(attacks) / sizeof(attacks[0]));
    double diag = diagonal(bm);
    printf("%-20s %-8s %-8s %8s %10s\n", "attack", "viewer", "found", "score", "p");
    for (int a = 0; a < n_attacks; a++)
        for (int viewer = 0; viewer < VIEWERS; viewer += 13) {
            lds_mesh_model *m = NULL;
            LDS_CHECK_OK(lds_preview_embed(base, seeds[viewer], &m, &err), &err);
            if (a == 3 || a == 5) {
                lds_mesh_model *half = NULL;
                LDS_CHECK_OK(lds_mesh_simplify(m, lds_mesh_triangle_count(m) / 2, &half, NULL, &err), &err);
                lds_mesh_model_destroy(m);
                m = half;
            }
            if (a == 2 || a == 5)
                noise(m, 0.0005 * diag);
            if (a == 4 || a == 5)
                requantise(m, 10);
            if (a == 1 || a == 5)
                rigid_and_scale(m);
            double score, p;
            int found = trace(base, m, seeds, &score, &p);
            printf("%-20s %-8d %-8d %8.2f %10.3g\n", attacks[a], viewer, found, score, p);
            LDS_CHECK_INT(found, ==, viewer);
            lds_mesh_model_destroy(m);
        }
    double score, p;
    int found = trace(base, bm, seeds, &score, &p);
    printf("%-20s %-8s %-8d %8.2f %10.3g\n", "clean base", "-", found, score, p);
    LDS_CHECK_INT(found, ==, -1);
    found = trace(base, lod, seeds, &score, &p);
    printf("%-20s %-8s %-8d %8.2f %10.3g\n", "clean LOD", "-", found, score, p);
    LDS_CHECK_INT(found, ==, -1);
    lds_preview_base_destroy(base);
}

/* Texture slots over the cap are emptied, those within it kept. */
static void texture_cap(void)
{
    lds_mesh_model *m = ellipsoid(20);
    lds_error err;
    lds_error_clear(&err);
    m->textures = calloc(2, sizeof(lds_mesh_texture));
    m->texture_count = 2;
    m->textures[0].width = m->textures[0].height = 1024;
    m->textures[1].width = m->textures[1].height = 256;
    m->materials[0].maps[LDS_MESH_MAP_BASE_COLOR].texture = 0;
    m->materials[0].maps[LDS_MESH_MAP_EMISSIVE].texture = 1;
    lds_preview_base *base = NULL;
    LDS_CHECK_OK(lds_preview_base_create(m, NULL, &base, &err), &err);
    if (base) {
        const lds_mesh_material *mat = &lds_preview_base_model(base)->materials[0];
        LDS_CHECK_INT(mat->maps[LDS_MESH_MAP_BASE_COLOR].texture, ==, -1);
        LDS_CHECK_INT(mat->maps[LDS_MESH_MAP_EMISSIVE].texture, ==, 1);
    }
    lds_preview_base_destroy(base);
    lds_mesh_model_destroy(m);
}

int main(void)
{
    lds_crypto_init();
    lds_mesh_model *lod = ellipsoid(110); /* ~48k triangles */
    LDS_CHECK(lod != NULL);
    if (lod)
        attack_model("generated ellipsoid", lod);
    lds_mesh_model_destroy(lod);
    texture_cap();
    char path[4096];
    if (lds_test_shared("corpus/scans/stanford-bunny.obj", path, sizeof(path))) { /* a real scan, when there */
        lds_error err;
        lds_error_clear(&err);
        lds_mesh_model *bunny = NULL;
        LDS_CHECK_OK(lds_mesh_import_file(path, 0, NULL, &bunny, &err), &err);
        if (bunny)
            attack_model("stanford-bunny.obj", bunny);
        lds_mesh_model_destroy(bunny);
    }
    return lds_test_result();
}
