/* test_lod.c: the LOD chain primitives on synthetic meshes: optimisation keeps the geometry, the
 * chain 1/2..1/16 hits its targets with rising errors, UV seams and material boundaries stay
 * closed, point clouds simplify, the deviation measure is right on a known case. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "testlib.h"

/* ---- synthetic models ---- */

static void normalize3(float *v)
{
    float l = sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    v[0] /= l, v[1] /= l, v[2] /= l;
}

/* Unit icosphere subdivided `levels` times (20 * 4^levels triangles), welded, one submesh.
 * With bumps, a low-frequency radial wave so the surface has curvature to preserve. */
static lds_mesh_model *make_sphere(int levels, int bumps)
{
    const float t = 1.618034f;
    float base[12][3] = {{-1, t, 0}, {1, t, 0}, {-1, -t, 0}, {1, -t, 0}, {0, -1, t}, {0, 1, t},
                         {0, -1, -t}, {0, 1, -t}, {t, 0, -1}, {t, 0, 1}, {-t, 0, -1}, {-t, 0, 1}};
    uint32_t faces[20][3] = {{0, 11, 5}, {0, 5, 1}, {0, 1, 7}, {0, 7, 10}, {0, 10, 11}, {1, 5, 9}, {5, 11, 4},
                             {11, 10, 2}, {10, 7, 6}, {7, 1, 8}, {3, 9, 4}, {3, 4, 2}, {3, 2, 6}, {3, 6, 8},
                             {3, 8, 9}, {4, 9, 5}, {2, 4, 11}, {6, 2, 10}, {8, 6, 7}, {9, 8, 1}};
    size_t tri_count = 20, vert_count = 12;
    size_t max_tris = 20u << (2 * levels), max_verts = max_tris / 2 + 2;
    float *pos = malloc(max_verts * 3 * sizeof(float));
    uint32_t *idx = malloc(max_tris * 3 * sizeof(uint32_t));
    for (int i = 0; i < 12; i++) {
        memcpy(pos + 3 * i, base[i], sizeof(base[i]));
        normalize3(pos + 3 * i);
    }
    memcpy(idx, faces, sizeof(faces));
    /* midpoint cache: edge (a,b) -> vertex, in a simple open-addressing table */
    size_t table_size = 1;
    while (table_size < max_tris * 4)
        table_size <<= 1;
    uint64_t *keys = malloc(table_size * sizeof(uint64_t));
    uint32_t *vals = malloc(table_size * sizeof(uint32_t));
    for (int l = 0; l < levels; l++) {
        memset(keys, 0xff, table_size * sizeof(uint64_t));
        uint32_t *next = malloc(tri_count * 4 * 3 * sizeof(uint32_t));
        for (size_t f = 0; f < tri_count; f++) {
            uint32_t v[3] = {idx[3 * f], idx[3 * f + 1], idx[3 * f + 2]}, m[3];
            for (int e = 0; e < 3; e++) {
                uint32_t a = v[e], b = v[(e + 1) % 3];
                uint64_t key = a < b ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
                size_t h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (table_size - 1);
                while (keys[h] != UINT64_MAX && keys[h] != key)
                    h = (h + 1) & (table_size - 1);
                if (keys[h] != key) {
                    keys[h] = key;
                    vals[h] = (uint32_t)vert_count;
                    for (int k = 0; k < 3; k++)
                        pos[3 * vert_count + k] = (pos[3 * a + k] + pos[3 * b + k]) * 0.5f;
                    normalize3(pos + 3 * vert_count);
                    vert_count++;
                }
                m[e] = vals[h];
            }
            uint32_t out[12] = {v[0], m[0], m[2], v[1], m[1], m[0], v[2], m[2], m[1], m[0], m[1], m[2]};
            memcpy(next + 12 * f, out, sizeof(out));
        }
        free(idx);
        idx = next;
        tri_count *= 4;
    }
    free(keys);
    free(vals);
    if (bumps)
        for (size_t i = 0; i < vert_count; i++) {
            float *p = pos + 3 * i;
            float r = 1.0f + 0.08f * sinf(5 * p[0]) * cosf(4 * p[1]) + 0.04f * sinf(7 * p[2]);
            p[0] *= r, p[1] *= r, p[2] *= r;
        }
    lds_mesh_model *m = lds_mesh_model_create();
    lds_mesh_model_alloc(m, vert_count, tri_count * 3, 0, 0, 0);
    memcpy(m->positions, pos, vert_count * 3 * sizeof(float));
    memcpy(m->indices, idx, tri_count * 3 * sizeof(uint32_t));
    free(pos);
    free(idx);
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)vert_count, 0, (uint32_t)(tri_count * 3), 0, 0};
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&m->materials[0]);
    for (int k = 0; k < 4; k++)
        m->materials[0].base_color[k] = 1;
    return m;
}

/* Splits a welded one-submesh model in two submeshes by the sign of z of each triangle's centroid
 * (two materials); vertices on the boundary are duplicated, as importers split by material. */
static lds_mesh_model *split_two_materials(const lds_mesh_model *src)
{
    size_t nt = src->index_count / 3;
    uint32_t *map = malloc(src->vertex_count * sizeof(uint32_t));
    lds_mesh_model *m = lds_mesh_model_create();
    lds_mesh_model_alloc(m, src->vertex_count * 2, src->index_count, 0, 0, 0);
    m->submesh_count = 2;
    m->submeshes = calloc(2, sizeof(lds_mesh_submesh));
    size_t vbase = 0, ibase = 0;
    for (int side = 0; side < 2; side++) {
        memset(map, 0xff, src->vertex_count * sizeof(uint32_t));
        size_t v0 = vbase, i0 = ibase;
        for (size_t t = 0; t < nt; t++) {
            const uint32_t *tri = src->indices + 3 * t;
            float cz = src->positions[3 * tri[0] + 2] + src->positions[3 * tri[1] + 2] + src->positions[3 * tri[2] + 2];
            if ((cz >= 0) != (side == 0))
                continue;
            for (int k = 0; k < 3; k++) {
                if (map[tri[k]] == UINT32_MAX) {
                    map[tri[k]] = (uint32_t)vbase;
                    memcpy(m->positions + 3 * vbase, src->positions + 3 * tri[k], 3 * sizeof(float));
                    vbase++;
                }
                m->indices[ibase++] = map[tri[k]];
            }
        }
        m->submeshes[side] = (lds_mesh_submesh){(uint32_t)v0, (uint32_t)(vbase - v0), (uint32_t)i0,
                                                (uint32_t)(ibase - i0), (uint32_t)side, 0};
    }
    m->vertex_count = vbase;
    free(map);
    m->material_count = 2;
    m->materials = calloc(2, sizeof(lds_mesh_material));
    for (int i = 0; i < 2; i++) {
        lds_mesh_material_init(&m->materials[i]);
        m->materials[i].base_color[0] = (float)i;
        m->materials[i].base_color[3] = 1;
    }
    return m;
}

/* An open cylinder (radius 1, height 2) of n x n quads with UVs wrapping around: the column of
 * vertices at angle 0 exists twice, with u = 0 and u = 1 (a UV seam). */
static lds_mesh_model *make_seam_cylinder(int n)
{
    size_t verts = (size_t)(n + 1) * (n + 1), tris = (size_t)n * n * 2;
    lds_mesh_model *m = lds_mesh_model_create();
    lds_mesh_model_alloc(m, verts, tris * 3, 0, 1, 0);
    for (int j = 0; j <= n; j++)
        for (int i = 0; i <= n; i++) {
            size_t v = (size_t)j * (n + 1) + i;
            double a = 2 * M_PI * i / n;
            float r = 1.0f + 0.05f * sinf((float)(3 * a)) * cosf(3.0f * j / n);
            m->positions[3 * v] = i == n ? r : r * (float)cos(a);
            m->positions[3 * v + 1] = i == n ? 0 : r * (float)sin(a);
            m->positions[3 * v + 2] = 2.0f * j / n;
            m->uvs[2 * v] = (float)i / n;
            m->uvs[2 * v + 1] = (float)j / n;
        }
    /* the seam column must be bit-identical in position to column 0 */
    for (int j = 0; j <= n; j++)
        memcpy(m->positions + 3 * ((size_t)j * (n + 1) + n), m->positions + 3 * ((size_t)j * (n + 1)),
               3 * sizeof(float));
    size_t k = 0;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++) {
            uint32_t a = (uint32_t)(j * (n + 1) + i), b = a + 1, c = a + (uint32_t)n + 1, d = c + 1;
            uint32_t q[6] = {a, b, d, a, d, c};
            memcpy(m->indices + k, q, sizeof(q));
            k += 6;
        }
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)verts, 0, (uint32_t)(tris * 3), 0, 0};
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&m->materials[0]);
    m->materials[0].base_color[3] = 1;
    return m;
}

static lds_mesh_model *make_points(size_t count)
{
    lds_mesh_model *m = lds_mesh_model_create();
    lds_mesh_model_alloc(m, count, 0, 0, 0, 1);
    uint64_t s = 12345;
    for (size_t i = 0; i < count; i++) {
        float v[3];
        for (int k = 0; k < 3; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            v[k] = (float)((s >> 33) / 2147483648.0) * 2 - 1;
        }
        normalize3(v);
        memcpy(m->positions + 3 * i, v, sizeof(v));
        for (int k = 0; k < 4; k++)
            m->colors[4 * i + k] = 0.5f;
    }
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)count, 0, 0, 0, 0};
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&m->materials[0]);
    return m;
}

/* ---- helpers ---- */

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Edges used by exactly one triangle, with vertices identified by position (so a seam or a
 * material boundary that stays closed contributes none). Counts those with an endpoint whose z
 * is strictly inside (zmin, zmax) when zmin < zmax, else all. */
static size_t open_edges_by_position(const lds_mesh_model *m, float zmin, float zmax)
{
    /* canonical vertex per position: sort-free O(n^2) is too slow; use a hash of the bits */
    size_t n = m->vertex_count, size = 1;
    while (size < n * 2)
        size <<= 1;
    uint32_t *slot = malloc(size * sizeof(uint32_t)), *canon = malloc(n * sizeof(uint32_t));
    memset(slot, 0xff, size * sizeof(uint32_t));
    for (size_t v = 0; v < n; v++) {
        uint32_t bits[3];
        memcpy(bits, m->positions + 3 * v, sizeof(bits));
        size_t h = (bits[0] * 73856093u ^ bits[1] * 19349663u ^ bits[2] * 83492791u) & (size - 1);
        while (slot[h] != UINT32_MAX && memcmp(m->positions + 3 * slot[h], m->positions + 3 * v, 12) != 0)
            h = (h + 1) & (size - 1);
        if (slot[h] == UINT32_MAX)
            slot[h] = (uint32_t)v;
        canon[v] = slot[h];
    }
    size_t ne = m->index_count;
    uint64_t *edges = malloc(ne * sizeof(uint64_t));
    for (size_t t = 0; t < ne / 3; t++)
        for (int e = 0; e < 3; e++) {
            uint32_t a = canon[m->indices[3 * t + e]], b = canon[m->indices[3 * t + (e + 1) % 3]];
            edges[3 * t + e] = a < b ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
        }
    qsort(edges, ne, sizeof(uint64_t), cmp_u64);
    size_t open = 0;
    for (size_t i = 0; i < ne;) {
        size_t j = i;
        while (j < ne && edges[j] == edges[i])
            j++;
        if (j - i == 1) {
            uint32_t a = (uint32_t)(edges[i] >> 32), b = (uint32_t)edges[i];
            float za = m->positions[3 * a + 2], zb = m->positions[3 * b + 2];
            int inside = (za > zmin && za < zmax) || (zb > zmin && zb < zmax);
            if (!(zmin < zmax) || inside)
                open++;
        }
        i = j;
    }
    free(slot);
    free(canon);
    free(edges);
    return open;
}

static void check_valid(const lds_mesh_model *m, const char *name)
{
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_model_validate(m, name, &err), &err);
}

/* ---- tests ---- */

static void test_deviation_known(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *a = make_sphere(5, 0);
    lds_mesh_model *b = lds_mesh_model_clone(a);
    double max = -1, mean = -1;
    LDS_CHECK_OK(lds_mesh_deviation(a, b, &max, &mean, &err), &err);
    fprintf(stderr, "identical: max %g mean %g\n", max, mean);
    LDS_CHECK(max < 1e-6 && mean < 1e-7);
    for (size_t i = 0; i < b->vertex_count * 3; i++)
        b->positions[i] *= 1.01f;
    LDS_CHECK_OK(lds_mesh_deviation(a, b, &max, &mean, &err), &err);
    double expected = 0.01 / (2 * sqrt(3.0) * 0.99); /* bbox of the icosphere is about 2x2x2 */
    fprintf(stderr, "scaled sphere: max %.6f mean %.6f expected about %.6f\n", max, mean, expected);
    LDS_CHECK(max > expected * 0.9 && max < expected * 1.15);
    LDS_CHECK(mean > expected * 0.85 && mean <= max);
    lds_mesh_model_destroy(a);
    lds_mesh_model_destroy(b);

    /* points against points */
    lds_mesh_model *p = make_points(5000), *q = make_points(5000);
    LDS_CHECK_OK(lds_mesh_deviation(p, q, &max, NULL, &err), &err);
    LDS_CHECK(max == 0);
    lds_mesh_model_destroy(p);
    lds_mesh_model_destroy(q);
}

static void test_optimize(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *m = make_sphere(4, 1);
    lds_mesh_model *orig = lds_mesh_model_clone(m);
    LDS_CHECK_OK(lds_mesh_optimize(m, &err), &err);
    check_valid(m, "optimized sphere");
    LDS_CHECK_INT(m->index_count, ==, orig->index_count);
    LDS_CHECK_INT(m->vertex_count, ==, orig->vertex_count);
    double max = -1;
    LDS_CHECK_OK(lds_mesh_optimize(m, &err), &err); /* idempotent enough to run twice */
    LDS_CHECK_OK(lds_mesh_deviation(orig, m, &max, NULL, &err), &err);
    fprintf(stderr, "optimized vs original: max %g\n", max);
    LDS_CHECK(max < 1e-6);
    /* the order changed: the first triangle is no longer the first generated one */
    LDS_CHECK(memcmp(m->indices, orig->indices, m->index_count * 4) != 0);
    lds_mesh_model_destroy(orig);
    lds_mesh_model_destroy(m);

    /* unused vertices are dropped, ranges stay consistent */
    lds_mesh_model *small = make_sphere(3, 0);
    lds_mesh_model *two = split_two_materials(small);
    lds_mesh_model_destroy(small);
    size_t verts = two->vertex_count;
    two->index_count -= 3;
    two->submeshes[1].index_count -= 3;
    LDS_CHECK_OK(lds_mesh_optimize(two, &err), &err);
    check_valid(two, "two materials, optimized");
    LDS_CHECK_INT(two->submesh_count, ==, 2);
    LDS_CHECK(two->vertex_count <= verts);
    lds_mesh_model_destroy(two);
}

/* The chain 1/2, 1/4, 1/8, 1/16, each level from the previous one. */
static void check_chain(lds_mesh_model *lod0, const char *name, double tolerance)
{
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_optimize(lod0, &err), &err);
    size_t base = lds_mesh_triangle_count(lod0);
    const lds_mesh_model *prev = lod0;
    lds_mesh_model *levels[4] = {0};
    double last_error = 0;
    lds_mesh_deviation_ref *ref = NULL;
    LDS_CHECK_OK(lds_mesh_deviation_ref_create(lod0, &ref, &err), &err);
    for (int l = 0; l < 4; l++) {
        size_t target = base >> (l + 1);
        double step_error = -1, error = -1, mean = -1;
        LDS_CHECK_OK(lds_mesh_simplify(prev, target, &levels[l], &step_error, &err), &err);
        if (levels[l] == NULL)
            return;
        check_valid(levels[l], name);
        size_t got = lds_mesh_triangle_count(levels[l]);
        LDS_CHECK_OK(lds_mesh_deviation(lod0, levels[l], &error, &mean, &err), &err);
        /* the reusable reference gives the same figures */
        double ref_error = -1, ref_mean = -1;
        LDS_CHECK_OK(lds_mesh_deviation_measure(ref, levels[l], &ref_error, &ref_mean, &err), &err);
        LDS_CHECK(fabs(ref_error - error) <= 1e-9 && fabs(ref_mean - mean) <= 1e-9);
        fprintf(stderr, "%s lod%d: %zu triangles (target %zu), %zu vertices, step error %.5f, error %.5f mean %.6f\n",
                name, l + 1, got, target, levels[l]->vertex_count, step_error, error, mean);
        LDS_CHECK(got <= target + (size_t)(target * tolerance) + 1);
        LDS_CHECK(got + (size_t)(target * tolerance) + 1 >= target);
        LDS_CHECK(got < lds_mesh_triangle_count(prev));
        LDS_CHECK(error > last_error);
        LDS_CHECK(step_error > 0 && step_error <= error * 1.5 + 1e-9);
        LDS_CHECK(error < 0.05);
        last_error = error;
        prev = levels[l];
    }
    for (int l = 0; l < 4; l++)
        lds_mesh_model_destroy(levels[l]);
    lds_mesh_deviation_ref_destroy(ref);
}

static void test_chain_sphere(void)
{
    lds_mesh_model *m = make_sphere(6, 1); /* 81,920 triangles */
    check_chain(m, "sphere", 0.02);
    lds_mesh_model_destroy(m);
}

static void test_uv_seam(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *m = make_seam_cylinder(64);
    LDS_CHECK_INT(open_edges_by_position(m, 0, 2), ==, 0);
    check_chain(m, "seam cylinder", 0.05);
    lds_mesh_model *lod = NULL;
    LDS_CHECK_OK(lds_mesh_simplify(m, lds_mesh_triangle_count(m) / 8, &lod, NULL, &err), &err);
    if (lod == NULL)
        return;
    check_valid(lod, "seam cylinder lod");
    /* the seam stays closed: no open edge away from the two rims */
    LDS_CHECK_INT(open_edges_by_position(lod, 0, 2), ==, 0);
    /* and its UVs stay split: no triangle spans more than half the texture in u */
    size_t spanning = 0;
    for (size_t t = 0; t < lod->index_count / 3; t++) {
        float u0 = lod->uvs[2 * lod->indices[3 * t]], u1 = lod->uvs[2 * lod->indices[3 * t + 1]],
              u2 = lod->uvs[2 * lod->indices[3 * t + 2]];
        float lo = fminf(u0, fminf(u1, u2)), hi = fmaxf(u0, fmaxf(u1, u2));
        spanning += hi - lo > 0.5f;
    }
    LDS_CHECK_INT(spanning, ==, 0);
    lds_mesh_model_destroy(lod);
    lds_mesh_model_destroy(m);
}

static void test_two_materials(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *welded = make_sphere(5, 1);
    lds_mesh_model *m = split_two_materials(welded);
    lds_mesh_model_destroy(welded);
    check_valid(m, "two materials");
    LDS_CHECK_INT(open_edges_by_position(m, 1, 0), ==, 0);
    check_chain(m, "two materials", 0.05);
    lds_mesh_model *lod = NULL;
    LDS_CHECK_OK(lds_mesh_simplify(m, lds_mesh_triangle_count(m) / 10, &lod, NULL, &err), &err);
    if (lod == NULL)
        return;
    check_valid(lod, "two materials lod");
    LDS_CHECK_INT(lod->submesh_count, ==, 2);
    LDS_CHECK_INT(lod->material_count, ==, 2);
    if (lod->submesh_count == 2) {
        LDS_CHECK_INT(lod->submeshes[0].material, ==, 0);
        LDS_CHECK_INT(lod->submeshes[1].material, ==, 1);
        /* shares stay roughly proportional (each hemisphere is half) */
        LDS_CHECK(lod->submeshes[0].index_count > lod->index_count / 4);
        LDS_CHECK(lod->submeshes[1].index_count > lod->index_count / 4);
    }
    /* the material boundary stays closed: the sphere has no open edge */
    LDS_CHECK_INT(open_edges_by_position(lod, 1, 0), ==, 0);
    lds_mesh_model_destroy(lod);
    lds_mesh_model_destroy(m);
}

static void test_points(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *m = make_points(20000);
    check_valid(m, "points");
    LDS_CHECK_OK(lds_mesh_optimize(m, &err), &err);
    check_valid(m, "points optimized");
    LDS_CHECK_INT(m->vertex_count, ==, 20000);
    lds_mesh_model *lod = NULL;
    double error = -1;
    LDS_CHECK_OK(lds_mesh_simplify(m, 2000, &lod, &error, &err), &err);
    if (lod == NULL)
        return;
    check_valid(lod, "points lod");
    fprintf(stderr, "points: %zu of 20000 kept, error %.5f\n", lod->vertex_count, error);
    LDS_CHECK(lod->vertex_count <= 2000 && lod->vertex_count >= 1500);
    LDS_CHECK_INT(lod->index_count, ==, 0);
    LDS_CHECK(lod->colors != NULL);
    LDS_CHECK(error > 0 && error < 0.2);
    lds_mesh_model_destroy(lod);
    lds_mesh_model_destroy(m);
}

/* A triangle soup (no shared vertices): the precise simplifier cannot collapse it to the target,
 * the sloppy fallback must. */
static void test_sloppy_fallback(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *welded = make_sphere(5, 1);
    size_t nt = welded->index_count / 3;
    lds_mesh_model *soup = lds_mesh_model_create();
    lds_mesh_model_alloc(soup, nt * 3, nt * 3, 0, 0, 0);
    for (size_t i = 0; i < nt * 3; i++) {
        memcpy(soup->positions + 3 * i, welded->positions + 3 * welded->indices[i], 12);
        /* nudge so no two corners share a position: nothing is a seam, everything is a border */
        soup->positions[3 * i] += 1e-4f * (float)(i % 3);
        soup->indices[i] = (uint32_t)i;
    }
    soup->submesh_count = 1;
    soup->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    soup->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)(nt * 3), 0, (uint32_t)(nt * 3), 0, 0};
    soup->material_count = 1;
    soup->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&soup->materials[0]);
    lds_mesh_model *lod = NULL;
    double error = -1;
    LDS_CHECK_OK(lds_mesh_simplify(soup, nt / 16, &lod, &error, &err), &err);
    if (lod) {
        check_valid(lod, "soup lod");
        fprintf(stderr, "soup: %zu of %zu triangles (target %zu), error %.5f\n", lds_mesh_triangle_count(lod), nt,
                nt / 16, error);
        LDS_CHECK(lds_mesh_triangle_count(lod) <= nt / 16 + nt / 16 / 20 + 1);
        LDS_CHECK(lds_mesh_triangle_count(lod) > 0);
    }
    lds_mesh_model_destroy(lod);
    lds_mesh_model_destroy(soup);
    lds_mesh_model_destroy(welded);
}

/* Runs the chain policy 1/2..1/16 below m (optimised in place) and returns the number of levels
 * kept; each kept level is valid, smaller, within the budget, with falling coverage. */
static size_t run_chain(lds_mesh_model *m, const lds_mesh_chain_options *options, const char *name, char *reason,
                        size_t reason_size)
{
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_optimize(m, &err), &err);
    lds_mesh_chain *chain = NULL;
    LDS_CHECK_OK(lds_mesh_chain_create(m, options, &chain, &err), &err);
    if (chain == NULL)
        return 0;
    double budget = lds_mesh_chain_get_options(chain)->max_error, coverage = 1.0;
    size_t base = lds_mesh_triangle_count(m), kept = 0;
    const lds_mesh_model *previous = m;
    lds_mesh_model *levels[4] = {0};
    for (int l = 0; l < 4; l++) {
        lds_mesh_chain_level info;
        LDS_CHECK_OK(lds_mesh_chain_next(chain, previous, base >> (l + 1), &levels[l], &info, &err), &err);
        if (levels[l] == NULL)
            break;
        check_valid(levels[l], name);
        fprintf(stderr, "%s chain lod%d: %zu triangles, error %.4f, coverage %.4f\n", name, l + 1,
                lds_mesh_triangle_count(levels[l]), info.error, info.screen_coverage);
        LDS_CHECK(lds_mesh_triangle_count(levels[l]) <= lds_mesh_triangle_count(previous) * 0.8);
        LDS_CHECK(info.error <= budget);
        LDS_CHECK(info.screen_coverage <= coverage && info.screen_coverage > 0);
        coverage = info.screen_coverage;
        previous = levels[l];
        kept++;
    }
    snprintf(reason, reason_size, "%s", lds_mesh_chain_end_reason(chain));
    LDS_CHECK((kept < 4) == (reason[0] != 0));
    if (reason[0])
        fprintf(stderr, "%s chain: %s\n", name, reason);
    for (int l = 0; l < 4; l++)
        lds_mesh_model_destroy(levels[l]);
    lds_mesh_chain_destroy(chain);
    return kept;
}

/* The policy: a smooth sphere keeps its four levels; an icosahedron (20 triangles) ends before a
 * level that would deviate past the budget, never with a 2-triangle level; a textured soup that
 * the precise simplifier cannot reduce ends (no sloppy clustering smearing its UVs), and the same
 * soup without attributes does get its sloppy levels, as does the textured one when asked. */
static void test_chain_policy(void)
{
    char reason[512];
    lds_mesh_model *sphere = make_sphere(5, 1);
    LDS_CHECK_INT(run_chain(sphere, NULL, "sphere", reason, sizeof(reason)), ==, 4);
    lds_mesh_model_destroy(sphere);

    lds_mesh_model *ico = make_sphere(0, 0);
    LDS_CHECK_INT(run_chain(ico, NULL, "icosahedron", reason, sizeof(reason)), ==, 0);
    LDS_CHECK(strstr(reason, "budget") != NULL || strstr(reason, "stalled") != NULL);
    lds_mesh_model_destroy(ico);

    /* a tight budget ends a chain that a loose one lets through */
    lds_mesh_model *bumpy = make_sphere(4, 1);
    lds_mesh_chain_options tight = {0.002, 0, 0, LDS_MESH_SLOPPY_AUTO};
    size_t tight_levels = run_chain(bumpy, &tight, "tight budget", reason, sizeof(reason));
    LDS_CHECK(tight_levels < 4);
    LDS_CHECK(strstr(reason, "over the budget") != NULL || strstr(reason, "stalled") != NULL);
    lds_mesh_model_destroy(bumpy);

    for (int variant = 0; variant < 3; variant++) {
        lds_mesh_model *welded = make_sphere(4, 1);
        size_t nt = welded->index_count / 3;
        lds_mesh_model *soup = lds_mesh_model_create();
        lds_mesh_model_alloc(soup, nt * 3, nt * 3, 0, variant != 0, 0);
        for (size_t i = 0; i < nt * 3; i++) {
            memcpy(soup->positions + 3 * i, welded->positions + 3 * welded->indices[i], 12);
            soup->positions[3 * i] += 1e-4f * (float)(i % 3);
            if (soup->uvs)
                soup->uvs[2 * i] = (float)(i % 3) * 0.5f, soup->uvs[2 * i + 1] = (float)(i % 7) / 7.0f;
            soup->indices[i] = (uint32_t)i;
        }
        soup->submesh_count = 1;
        soup->submeshes = calloc(1, sizeof(lds_mesh_submesh));
        soup->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)(nt * 3), 0, (uint32_t)(nt * 3), 0, 0};
        soup->material_count = 1;
        soup->materials = calloc(1, sizeof(lds_mesh_material));
        lds_mesh_material_init(&soup->materials[0]);
        lds_mesh_chain_options o = {0, 0, 0, variant == 2 ? LDS_MESH_SLOPPY_ALLOW : LDS_MESH_SLOPPY_AUTO};
        const char *names[] = {"bare soup", "textured soup", "textured soup, sloppy allowed"};
        size_t kept = run_chain(soup, &o, names[variant], reason, sizeof(reason));
        if (variant == 1) {
            LDS_CHECK_INT(kept, ==, 0);
            LDS_CHECK(strstr(reason, "stalled") != NULL && strstr(reason, "UV seams") != NULL);
        } else {
            LDS_CHECK(kept >= 1);
        }
        lds_mesh_model_destroy(soup);
        lds_mesh_model_destroy(welded);
    }
}

/* Generated normals: a smooth sphere gets radial normals and no splits; a cube (8 welded corners)
 * gets its 6 face normals on 24 vertices, split at its 90 degree edges. */
static void test_generate_normals(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *sphere = make_sphere(3, 0);
    free(sphere->normals);
    sphere->normals = NULL;
    size_t verts = sphere->vertex_count, added = 99;
    LDS_CHECK_OK(lds_mesh_generate_normals(sphere, LDS_MESH_CREASE_DEGREES, &added, &err), &err);
    LDS_CHECK_INT(added, ==, 0);
    LDS_CHECK_INT(sphere->vertex_count, ==, verts);
    check_valid(sphere, "sphere with generated normals");
    double worst = 1;
    for (size_t v = 0; sphere->normals && v < sphere->vertex_count; v++) {
        float p[3];
        memcpy(p, sphere->positions + 3 * v, sizeof(p));
        normalize3(p);
        const float *n = sphere->normals + 3 * v;
        worst = fmin(worst, p[0] * n[0] + p[1] * n[1] + p[2] * n[2]);
    }
    LDS_CHECK(worst > 0.99);
    lds_mesh_model_destroy(sphere);

    static const float corners[8][3] = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0},
                                        {0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 1}};
    static const uint32_t faces[12][3] = {{0, 2, 1}, {0, 3, 2}, {4, 5, 6}, {4, 6, 7}, {0, 1, 5}, {0, 5, 4},
                                          {2, 3, 7}, {2, 7, 6}, {1, 2, 6}, {1, 6, 5}, {0, 4, 7}, {0, 7, 3}};
    lds_mesh_model *cube = lds_mesh_model_create();
    lds_mesh_model_alloc(cube, 8, 36, 0, 0, 0);
    memcpy(cube->positions, corners, sizeof(corners));
    memcpy(cube->indices, faces, sizeof(faces));
    cube->submesh_count = 1;
    cube->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    cube->submeshes[0] = (lds_mesh_submesh){0, 8, 0, 36, 0, 0};
    cube->material_count = 1;
    cube->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&cube->materials[0]);
    LDS_CHECK_OK(lds_mesh_generate_normals(cube, LDS_MESH_CREASE_DEGREES, &added, &err), &err);
    LDS_CHECK_INT(cube->vertex_count, ==, 24);
    LDS_CHECK_INT(added, ==, 16);
    check_valid(cube, "cube with generated normals");
    for (size_t t = 0; cube->normals && t < 12; t++)
        for (int k = 0; k < 3; k++) {
            const float *n = cube->normals + 3 * cube->indices[3 * t + k];
            LDS_CHECK(fabsf(fabsf(n[0]) + fabsf(n[1]) + fabsf(n[2]) - 1.0f) < 1e-6f); /* an axis */
        }
    lds_mesh_model_destroy(cube);
}

static void test_bad_input(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *empty = lds_mesh_model_create(), *out = NULL;
    LDS_CHECK(lds_mesh_simplify(empty, 10, &out, NULL, &err) == LDS_ENOGEOM);
    LDS_CHECK(out == NULL);
    LDS_CHECK(strstr(err.message, "simplify") != NULL);
    lds_mesh_model_destroy(empty);

    /* a model too small for the target comes back whole rather than empty */
    lds_mesh_model *tiny = make_sphere(0, 0), *lod = NULL; /* an icosahedron, 20 triangles */
    LDS_CHECK_OK(lds_mesh_simplify(tiny, 1, &lod, NULL, &err), &err);
    if (lod) {
        check_valid(lod, "icosahedron lod");
        LDS_CHECK(lds_mesh_triangle_count(lod) > 0);
    }
    lds_mesh_model_destroy(lod);
    lds_mesh_model_destroy(tiny);
}

int main(void)
{
    test_deviation_known();
    test_optimize();
    test_chain_sphere();
    test_uv_seam();
    test_two_materials();
    test_points();
    test_sloppy_fallback();
    test_chain_policy();
    test_generate_normals();
    test_bad_input();
    return lds_test_result();
}
