/* test_clean_perf.c: clean, report and geometry fingerprint on a 1.6M-triangle mesh (a jittered
 * height field, 895 x 895 quads), in coherent and shuffled face order and split STL-style. Prints
 * medians of 3 of thread CPU ms and the fingerprint rate; checks results, never times (label: slow). */
#include <math.h>
#include <time.h>

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
    lds_mesh_material_init(&m->materials[0]);
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)nv, 0, (uint32_t)(tris * 3), 0, 0};
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

/* The corpus scan (plain "v x y z" / "f a b c" OBJ), subdivided 1:4 twice (edge midpoints computed
 * the same way from both sides, so they weld bit-identically) and cleaned: ~1.6M triangles, the
 * kind of dense scan bench/ builds. NULL when the corpus is absent. */
static lds_mesh_model *dense_scan(const char *relative)
{
    char path[4096];
    if (lds_test_shared(relative, path, sizeof(path)) == NULL)
        return NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t nv = 0, nt = 0, cap_v = 1 << 16, cap_t = 1 << 16;
    float *pos = malloc(cap_v * 12);
    uint32_t *tri = malloc(cap_t * 12);
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == 'v' && line[1] == ' ') {
            if (nv == cap_v)
                pos = realloc(pos, (cap_v *= 2) * 12);
            sscanf(line + 2, "%f %f %f", &pos[nv * 3], &pos[nv * 3 + 1], &pos[nv * 3 + 2]);
            nv++;
        } else if (line[0] == 'f' && line[1] == ' ') {
            unsigned a, b, c;
            if (sscanf(line + 2, "%u %u %u", &a, &b, &c) != 3 || !a || !b || !c || a > nv || b > nv || c > nv)
                continue;
            if (nt == cap_t)
                tri = realloc(tri, (cap_t *= 2) * 12);
            tri[nt * 3] = a - 1, tri[nt * 3 + 1] = b - 1, tri[nt * 3 + 2] = c - 1;
            nt++;
        }
    }
    fclose(f);
    for (int level = 0; level < 2; level++) {
        float *np = malloc((nv + nt * 3) * 12);
        uint32_t *ntri = malloc(nt * 4 * 12);
        memcpy(np, pos, nv * 12);
        size_t at = nv;
        for (size_t t = 0; t < nt; t++) {
            uint32_t c[3] = {tri[t * 3], tri[t * 3 + 1], tri[t * 3 + 2]}, mid[3];
            for (int k = 0; k < 3; k++) {
                uint32_t a = c[k] < c[(k + 1) % 3] ? c[k] : c[(k + 1) % 3];
                uint32_t b = c[k] < c[(k + 1) % 3] ? c[(k + 1) % 3] : c[k];
                for (int j = 0; j < 3; j++)
                    np[at * 3 + j] = (pos[a * 3 + j] + pos[b * 3 + j]) * 0.5f;
                mid[k] = (uint32_t)at++;
            }
            uint32_t out[12] = {c[0], mid[0], mid[2], mid[0], c[1], mid[1], mid[2], mid[1], c[2], mid[0], mid[1], mid[2]};
            memcpy(ntri + t * 12, out, sizeof(out));
        }
        free(pos);
        free(tri);
        pos = np;
        tri = ntri;
        nv = at;
        nt *= 4;
    }
    lds_mesh_model *m = lds_mesh_model_create();
    LDS_CHECK_INT(lds_mesh_model_alloc(m, nv, nt * 3, 0, 0, 0), ==, LDS_OK);
    memcpy(m->positions, pos, nv * 12);
    memcpy(m->indices, tri, nt * 12);
    free(pos);
    free(tri);
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&m->materials[0]);
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)nv, 0, (uint32_t)(nt * 3), 0, 0};
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_clean(m, NULL, &err), &err);
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

/* CPU time of this thread: the machine is shared, so wall time says more about the neighbours. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double median3(double a, double b, double c)
{
    return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

static void measure(const char *label, lds_mesh_model *m, char fp[LDS_MESH_GEOMETRY_FP_MAX], uint64_t components)
{
    double t_clean[3], t_report[3], t_fp[3];
    lds_error err;
    lds_error_clear(&err);
    for (int run = 0; run < 3; run++) {
        double t0 = cpu_ms();
        LDS_CHECK_OK(lds_mesh_fingerprint_geometry(m, fp, &err), &err);
        t_fp[run] = cpu_ms() - t0;
    }
    lds_mesh_model *cleaned = NULL;
    for (int run = 0; run < 3; run++) {
        lds_mesh_model *c = lds_mesh_model_clone(m);
        lds_mesh_report r;
        memset(&r, 0, sizeof(r));
        double t0 = cpu_ms();
        LDS_CHECK_OK(lds_mesh_clean(c, &r, &err), &err);
        t_clean[run] = cpu_ms() - t0;
        t0 = cpu_ms();
        LDS_CHECK_OK(lds_mesh_report_compute(c, &r, &err), &err);
        t_report[run] = cpu_ms() - t0;
        LDS_CHECK_INT(r.triangles, ==, m->index_count / 3);
        if (components)
            LDS_CHECK_INT(r.components, ==, components);
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
    measure("welded, coherent order", m, a, 1);
    shuffle_faces(m);
    measure("welded, shuffled faces", m, b, 1);
    lds_mesh_model_destroy(m);
    m = terrain(895, 1);
    measure("split (STL-style) + normals", m, c, 1);
    lds_mesh_model_destroy(m);
    LDS_CHECK_STR(a, b);
    LDS_CHECK_STR(a, c);
    m = dense_scan("corpus/scans/nefertiti.obj");
    if (m != NULL) {
        measure("nefertiti x16 (scan order)", m, a, 0);
        shuffle_faces(m);
        measure("nefertiti x16, shuffled", m, b, 0);
        LDS_CHECK_STR(a, b);
        lds_mesh_model_destroy(m);
    }
    return lds_test_result();
}
