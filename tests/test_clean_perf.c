/* test_clean_perf.c: clean, report and geometry fingerprint on a 1.6M-triangle mesh (a jittered
 * height field, 895 x 895 quads), in coherent and shuffled face order and split STL-style. Prints
 * medians of 3 in ms and the fingerprint rate; checks results, never times (label: slow). */
#include <math.h>

#include "mesh.h"
#include "testlib.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static lds_mesh_model *terrain(int n, int split)
{
    size_t tris = (size_t)n * n * 2;
    rng_state = 0x2545F4914F6CDD1Dull;
    lds_mesh_model *m = lds_mesh_model_create();
    size_t nv = split ? tris * 3 : (size_t)(n + 1) * (n + 1);
    LDS_CHECK_INT(lds_mesh_model_alloc(m, nv, tris * 3, split, 0, 0), ==, LDS_OK);
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    m->materials[0].texture = -1;
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)nv, 0, (uint32_t)(tris * 3), 0};
    float *grid = malloc((size_t)(n + 1) * (n + 1) * 12);
    for (int y = 0; y <= n; y++)
        for (int x = 0; x <= n; x++) {
            float *p = grid + ((size_t)y * (n + 1) + x) * 3;
            p[0] = (float)x / n;
            p[1] = (float)y / n;
            p[2] = (float)(rng() % 100000) / 1e7f;
        }
    uint32_t *i = m->indices;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            uint32_t a = (uint32_t)(y * (n + 1) + x), b = a + 1, c = a + (uint32_t)n + 1, d = c + 1;
            *i++ = a, *i++ = b, *i++ = d;
            *i++ = a, *i++ = d, *i++ = c;
        }
    if (split) {
        for (size_t k = 0; k < tris * 3; k++) {
            memcpy(m->positions + k * 3, grid + (size_t)m->indices[k] * 3, 12);
            m->normals[k * 3 + 2] = 1.0f;
            m->indices[k] = (uint32_t)k;
        }
    } else {
        memcpy(m->positions, grid, nv * 12);
    }
    free(grid);
    return m;
}

static void shuffle_faces(lds_mesh_model *m)
{
    size_t n = m->index_count / 3;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rng() % (i + 1);
        uint32_t t[3];
        memcpy(t, m->indices + i * 3, 12);
        memcpy(m->indices + i * 3, m->indices + j * 3, 12);
        memcpy(m->indices + j * 3, t, 12);
    }
}

static double median3(double a, double b, double c)
{
    return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

static void measure(const char *label, lds_mesh_model *m, char fp[LDS_MESH_GEOMETRY_FP_MAX])
{
    double t_clean[3], t_report[3], t_fp[3];
    lds_error err;
    lds_error_clear(&err);
    for (int run = 0; run < 3; run++) {
        double t0 = lds_time_ms();
        LDS_CHECK_OK(lds_mesh_fingerprint_geometry(m, fp, &err), &err);
        t_fp[run] = lds_time_ms() - t0;
    }
    lds_mesh_model *cleaned = NULL;
    for (int run = 0; run < 3; run++) {
        lds_mesh_model *c = lds_mesh_model_clone(m);
        lds_mesh_report r;
        memset(&r, 0, sizeof(r));
        double t0 = lds_time_ms();
        LDS_CHECK_OK(lds_mesh_clean(c, &r, &err), &err);
        t_clean[run] = lds_time_ms() - t0;
        t0 = lds_time_ms();
        LDS_CHECK_OK(lds_mesh_report_compute(c, &r, &err), &err);
        t_report[run] = lds_time_ms() - t0;
        LDS_CHECK_INT(r.triangles, ==, m->index_count / 3);
        LDS_CHECK_INT(r.components, ==, 1);
        lds_mesh_report_cleanup(&r);
        if (cleaned == NULL)
            cleaned = c;
        else
            lds_mesh_model_destroy(c);
    }
    char after[LDS_MESH_GEOMETRY_FP_MAX];
    LDS_CHECK_OK(lds_mesh_fingerprint_geometry(cleaned, after, &err), &err);
    LDS_CHECK_STR(after, fp);
    lds_mesh_model_destroy(cleaned);
    double f = median3(t_fp[0], t_fp[1], t_fp[2]);
    printf("%-28s %zu tris %zu verts: fingerprint %.1f ms (%.1fM tris/s), clean %.1f ms, report %.1f ms\n", label,
           m->index_count / 3, m->vertex_count, f, m->index_count / 3 / f / 1000.0,
           median3(t_clean[0], t_clean[1], t_clean[2]), median3(t_report[0], t_report[1], t_report[2]));
}

int main(void)
{
    LDS_CHECK_INT(lds_crypto_init(), ==, LDS_OK);
    char a[LDS_MESH_GEOMETRY_FP_MAX], b[LDS_MESH_GEOMETRY_FP_MAX], c[LDS_MESH_GEOMETRY_FP_MAX];
    lds_mesh_model *m = terrain(895, 0);
    measure("welded, coherent order", m, a);
    shuffle_faces(m);
    measure("welded, shuffled faces", m, b);
    lds_mesh_model_destroy(m);
    m = terrain(895, 1);
    measure("split (STL-style) + normals", m, c);
    lds_mesh_model_destroy(m);
    LDS_CHECK_STR(a, b);
    LDS_CHECK_STR(a, c);
    return lds_test_result();
}
