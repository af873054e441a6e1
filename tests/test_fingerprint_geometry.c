/* test_fingerprint_geometry.c: lds_mesh_fingerprint_geometry against a plain reference written
 * from the definition at the top of mesh/fingerprint.c (comparison sorts, no hashing tricks), and
 * its invariances: vertex order, face order, corner rotation, welded vs split vertices,
 * attributes, submesh split, cleaning; and its sensitivity: one ulp, one flipped triangle. */
#include <math.h>

#include "mesh.h"
#include "testlib.h"

/* Also computed by a 15-line Python script from the definition in mesh/fingerprint.c. */
#define GOLDEN_CUBE "lds-geom-1:43646bee336a28a0a740b8207134d0d883d07b2f1258d757e87e4c575df21b81"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}
static float rng_unit(void)
{
    return (float)(rng() % 1000000) / 1000000.0f;
}

static lds_mesh_model *model_new(size_t vertices, size_t indices, int normals, int uvs)
{
    lds_mesh_model *m = lds_mesh_model_create();
    LDS_CHECK_INT(lds_mesh_model_alloc(m, vertices, indices, normals, uvs, 0), ==, LDS_OK);
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&m->materials[0]);
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0].vertex_count = (uint32_t)vertices;
    m->submeshes[0].index_count = (uint32_t)indices;
    return m;
}

/* A jittered height field of n x n quads: welded, open, with a few negative coordinates. */
static lds_mesh_model *terrain(int n)
{
    lds_mesh_model *m = model_new((size_t)(n + 1) * (n + 1), (size_t)n * n * 6, 0, 0);
    for (int y = 0; y <= n; y++)
        for (int x = 0; x <= n; x++) {
            float *p = m->positions + ((size_t)y * (n + 1) + x) * 3;
            p[0] = (float)x - n / 2.0f;
            p[1] = (float)y * 0.75f - n / 3.0f;
            p[2] = rng_unit() - 0.5f;
        }
    uint32_t *i = m->indices;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            uint32_t a = (uint32_t)(y * (n + 1) + x), b = a + 1, c = a + (uint32_t)n + 1, d = c + 1;
            *i++ = a, *i++ = b, *i++ = d;
            *i++ = a, *i++ = d, *i++ = c;
        }
    return m;
}

static void fingerprint(const lds_mesh_model *m, char out[LDS_MESH_GEOMETRY_FP_MAX])
{
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_fingerprint_geometry(m, out, &err), &err);
}

/* ---- the reference: the definition, done the slow obvious way ---- */

static uint32_t key_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u == 0x80000000u ? 0 : u;
}
static int cmp_words(const uint32_t *a, const uint32_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}
static int cmp3(const void *a, const void *b)
{
    return cmp_words(a, b, 3);
}
static int cmp9(const void *a, const void *b)
{
    return cmp_words(a, b, 9);
}
static void put_u64(lds_sha256 *c, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    lds_sha256_update(c, b, 8);
}
static void put_u32s(lds_sha256 *c, const uint32_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b[4] = {(unsigned char)w[i], (unsigned char)(w[i] >> 8), (unsigned char)(w[i] >> 16),
                              (unsigned char)(w[i] >> 24)};
        lds_sha256_update(c, b, 4);
    }
}
static size_t unique_sorted(uint32_t *recs, size_t n, int words, int (*cmp)(const void *, const void *))
{
    qsort(recs, n, (size_t)words * 4, cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || cmp_words(recs + (u - 1) * words, recs + i * words, words) != 0)
            memmove(recs + u++ * words, recs + i * words, (size_t)words * 4);
    return u;
}

static void reference(const lds_mesh_model *m, char out[LDS_MESH_GEOMETRY_FP_MAX])
{
    uint32_t *tris = malloc((m->index_count / 3 + 1) * 9 * 4), *pos = malloc((m->index_count + 1) * 3 * 4);
    uint32_t *pts = malloc((m->vertex_count + 1) * 3 * 4);
    size_t t_n = 0, p_n = 0;
    for (size_t s = 0; s < m->submesh_count; s++) {
        const lds_mesh_submesh *sm = &m->submeshes[s];
        if (sm->index_count == 0) {
            for (uint32_t v = sm->vertex_offset; v < sm->vertex_offset + sm->vertex_count; v++, p_n++)
                for (int k = 0; k < 3; k++)
                    pts[p_n * 3 + k] = key_of(m->positions[v * 3 + k]);
            continue;
        }
        for (uint32_t t = 0; t < sm->index_count; t += 3) {
            uint32_t c[3][3];
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++)
                    c[j][k] = key_of(m->positions[m->indices[sm->index_offset + t + j] * 3 + k]);
            if (!cmp3(c[0], c[1]) || !cmp3(c[1], c[2]) || !cmp3(c[0], c[2]))
                continue;
            int f = 0;
            for (int j = 1; j < 3; j++)
                if (cmp3(c[j], c[f]) < 0)
                    f = j;
            uint32_t *r = tris + t_n * 9;
            for (int j = 0; j < 3; j++)
                memcpy(r + j * 3, c[(f + j) % 3], 12);
            float a[3], b[3], d[3];
            memcpy(a, r, 12), memcpy(b, r + 3, 12), memcpy(d, r + 6, 12);
            double ux = (double)b[0] - a[0], uy = (double)b[1] - a[1], uz = (double)b[2] - a[2];
            double vx = (double)d[0] - a[0], vy = (double)d[1] - a[1], vz = (double)d[2] - a[2];
            if (uy * vz - uz * vy == 0.0 && uz * vx - ux * vz == 0.0 && ux * vy - uy * vx == 0.0)
                continue;
            t_n++;
        }
    }
    t_n = unique_sorted(tris, t_n, 9, cmp9);
    memcpy(pos, tris, t_n * 9 * 4);
    size_t u = unique_sorted(pos, t_n * 3, 3, cmp3);
    p_n = unique_sorted(pts, p_n, 3, cmp3);
    lds_sha256 c;
    lds_sha256_init(&c);
    lds_sha256_update(&c, "lds-geom-1", 10);
    put_u64(&c, u);
    put_u32s(&c, pos, u * 3);
    put_u64(&c, t_n);
    for (size_t i = 0; i < t_n * 3; i++) {
        uint32_t *hit = bsearch(tris + i * 3, pos, u, 12, cmp3);
        uint32_t index = (uint32_t)((size_t)(hit - pos) / 3);
        put_u32s(&c, &index, 1);
    }
    put_u64(&c, p_n);
    put_u32s(&c, pts, p_n * 3);
    unsigned char d[32];
    lds_sha256_final(&c, d);
    strcpy(out, "lds-geom-1:");
    lds_hex_encode(d, 32, out + 11);
    free(tris);
    free(pos);
    free(pts);
}

/* ---- transformations that must not change the fingerprint ---- */

static void shuffle_vertices(lds_mesh_model *m)
{
    const lds_mesh_submesh *sm = &m->submeshes[0];
    uint32_t n = sm->vertex_count, *perm = malloc(n * 4);
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = rng() % (i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    float *old = malloc(n * 12);
    memcpy(old, m->positions, n * 12);
    for (uint32_t i = 0; i < n; i++)
        memcpy(m->positions + perm[i] * 3, old + i * 3, 12);
    for (size_t i = 0; i < m->index_count; i++)
        m->indices[i] = perm[m->indices[i]];
    free(old);
    free(perm);
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

static void rotate_corners(lds_mesh_model *m)
{
    for (size_t t = 0; t < m->index_count / 3; t++) {
        uint32_t *c = m->indices + t * 3, r = (uint32_t)(t % 3), o[3] = {c[0], c[1], c[2]};
        for (int k = 0; k < 3; k++)
            c[k] = o[(k + r) % 3];
    }
}

/* Every triangle gets its own three vertices (STL style), with random normals and UVs; the
 * triangles go to `parts` submeshes. */
static lds_mesh_model *unweld(const lds_mesh_model *m, int parts)
{
    size_t n = m->index_count;
    lds_mesh_model *u = model_new(n, n, 1, 1);
    free(u->submeshes);
    u->submesh_count = (size_t)parts;
    u->submeshes = calloc((size_t)parts, sizeof(lds_mesh_submesh));
    size_t tris = n / 3, at = 0;
    for (int p = 0; p < parts; p++) {
        size_t count = tris / parts + ((size_t)p < tris % parts);
        u->submeshes[p] = (lds_mesh_submesh){(uint32_t)(at * 3), (uint32_t)(count * 3), (uint32_t)(at * 3),
                                             (uint32_t)(count * 3), 0, 0};
        at += count;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(u->positions + i * 3, m->positions + m->indices[i] * 3, 12);
        for (int k = 0; k < 3; k++)
            u->normals[i * 3 + k] = rng_unit();
        u->uvs[i * 2] = rng_unit();
        u->indices[i] = (uint32_t)i;
    }
    return u;
}

static void test_invariance(void)
{
    char base[LDS_MESH_GEOMETRY_FP_MAX], fp[LDS_MESH_GEOMETRY_FP_MAX], ref[LDS_MESH_GEOMETRY_FP_MAX];
    lds_mesh_model *m = terrain(40);
    m->positions[5 * 3 + 2] = -0.0f; /* normalised to +0.0 */
    fingerprint(m, base);
    LDS_CHECK_INT(strlen(base), ==, 11 + 64);
    LDS_CHECK(strncmp(base, "lds-geom-1:", 11) == 0);
    reference(m, ref);
    LDS_CHECK_STR(base, ref);
    m->positions[5 * 3 + 2] = 0.0f;
    fingerprint(m, fp);
    LDS_CHECK_STR(fp, base);

    shuffle_vertices(m);
    fingerprint(m, fp);
    LDS_CHECK_STR(fp, base);
    shuffle_faces(m);
    fingerprint(m, fp);
    LDS_CHECK_STR(fp, base);
    rotate_corners(m);
    fingerprint(m, fp);
    LDS_CHECK_STR(fp, base);

    for (int parts = 1; parts <= 3; parts++) {
        lds_mesh_model *u = unweld(m, parts);
        fingerprint(u, fp);
        LDS_CHECK_STR(fp, base);
        /* and after cleaning (which welds what it can and keeps attributes) */
        lds_error err;
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_mesh_clean(u, NULL, &err), &err);
        fingerprint(u, fp);
        LDS_CHECK_STR(fp, base);
        lds_mesh_model_destroy(u);
    }

    /* Degenerate and duplicate triangles change nothing, and cleaning them away changes nothing. */
    lds_mesh_model *d = model_new(m->vertex_count + 3, m->index_count + 12, 0, 0);
    memcpy(d->positions, m->positions, m->vertex_count * 12);
    memcpy(d->indices, m->indices, m->index_count * 4);
    float line[9] = {100, 0, 0, 101, 1, 1, 102, 2, 2};
    memcpy(d->positions + m->vertex_count * 3, line, sizeof(line));
    uint32_t v = (uint32_t)m->vertex_count;
    uint32_t extra[12] = {0, 0, 1, v, v + 1, v + 2, m->indices[3], m->indices[4], m->indices[5],
                          m->indices[7], m->indices[8], m->indices[6]};
    memcpy(d->indices + m->index_count, extra, sizeof(extra));
    fingerprint(d, fp);
    LDS_CHECK_STR(fp, base);
    reference(d, ref);
    LDS_CHECK_STR(fp, ref);
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_clean(d, NULL, &err), &err);
    fingerprint(d, fp);
    LDS_CHECK_STR(fp, base);
    lds_mesh_model_destroy(d);

    /* A reverse-wound twin is geometry: it changes the fingerprint. */
    d = model_new(m->vertex_count, m->index_count + 3, 0, 0);
    memcpy(d->positions, m->positions, m->vertex_count * 12);
    memcpy(d->indices, m->indices, m->index_count * 4);
    d->indices[m->index_count] = m->indices[0];
    d->indices[m->index_count + 1] = m->indices[2];
    d->indices[m->index_count + 2] = m->indices[1];
    fingerprint(d, fp);
    LDS_CHECK(strcmp(fp, base) != 0);
    reference(d, ref);
    LDS_CHECK_STR(fp, ref);
    lds_mesh_model_destroy(d);

    /* Unused vertices do not count. */
    d = model_new(m->vertex_count + 1, m->index_count, 0, 0);
    memcpy(d->positions, m->positions, m->vertex_count * 12);
    memcpy(d->indices, m->indices, m->index_count * 4);
    d->positions[m->vertex_count * 3] = 1234.5f;
    fingerprint(d, fp);
    LDS_CHECK_STR(fp, base);
    lds_mesh_model_destroy(d);
    lds_mesh_model_destroy(m);
}

static void test_sensitivity(void)
{
    char base[LDS_MESH_GEOMETRY_FP_MAX], fp[LDS_MESH_GEOMETRY_FP_MAX], ref[LDS_MESH_GEOMETRY_FP_MAX];
    lds_mesh_model *m = terrain(20);
    fingerprint(m, base);
    for (int k = 0; k < 3; k++) {
        size_t at = (size_t)(rng() % m->vertex_count) * 3 + (size_t)k;
        float old = m->positions[at];
        m->positions[at] = nextafterf(old, INFINITY);
        fingerprint(m, fp);
        LDS_CHECK(strcmp(fp, base) != 0);
        reference(m, ref);
        LDS_CHECK_STR(fp, ref);
        m->positions[at] = old;
    }
    fingerprint(m, fp);
    LDS_CHECK_STR(fp, base);
    /* Flip the winding of one triangle. */
    uint32_t t = m->indices[10];
    m->indices[10] = m->indices[11];
    m->indices[11] = t;
    fingerprint(m, fp);
    LDS_CHECK(strcmp(fp, base) != 0);
    reference(m, ref);
    LDS_CHECK_STR(fp, ref);
    lds_mesh_model_destroy(m);
}

static void test_point_clouds(void)
{
    char a[LDS_MESH_GEOMETRY_FP_MAX], b[LDS_MESH_GEOMETRY_FP_MAX], ref[LDS_MESH_GEOMETRY_FP_MAX];
    lds_mesh_model *m = model_new(1000, 0, 0, 0);
    for (size_t i = 0; i < 1000 * 3; i++)
        m->positions[i] = rng_unit() * 10 - 5;
    fingerprint(m, a);
    reference(m, ref);
    LDS_CHECK_STR(a, ref);
    /* reversed order and a repeated point: same set */
    lds_mesh_model *r = model_new(1001, 0, 1, 0);
    for (size_t i = 0; i < 1000; i++)
        memcpy(r->positions + i * 3, m->positions + (999 - i) * 3, 12);
    memcpy(r->positions + 1000 * 3, m->positions, 12);
    fingerprint(r, b);
    LDS_CHECK_STR(a, b);
    r->positions[7] = nextafterf(r->positions[7], 0);
    fingerprint(r, b);
    LDS_CHECK(strcmp(a, b) != 0);
    lds_mesh_model_destroy(r);
    lds_mesh_model_destroy(m);

    /* Nothing to hash. */
    m = model_new(3, 3, 0, 0);
    m->indices[0] = 0, m->indices[1] = 1, m->indices[2] = 2; /* all at the origin */
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_mesh_fingerprint_geometry(m, a, &err), ==, LDS_ENOGEOM);
    lds_mesh_model_destroy(m);
}

/* Random soups with shared vertices, repeated triangles and coincident positions, against the
 * reference; several submeshes. */
static void test_random_against_reference(void)
{
    for (int round = 0; round < 20; round++) {
        size_t nv = 3 + rng() % 300, nt = 1 + rng() % 600;
        lds_mesh_model *m = model_new(nv, nt * 3, 0, 0);
        for (size_t i = 0; i < nv * 3; i++)
            m->positions[i] = (float)(rng() % 7) - 3.0f + (rng() % 4 == 0 ? 0.5f : 0.0f);
        free(m->submeshes);
        m->submesh_count = 2;
        m->submeshes = calloc(2, sizeof(lds_mesh_submesh));
        size_t split_v = nv / 2, split_t = nt / 2;
        m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)split_v, 0, (uint32_t)(split_t * 3), 0, 0};
        m->submeshes[1] = (lds_mesh_submesh){(uint32_t)split_v, (uint32_t)(nv - split_v), (uint32_t)(split_t * 3),
                                             (uint32_t)((nt - split_t) * 3), 0, 0};
        if (split_v == 0)
            m->submeshes[0].index_count = 0, m->submeshes[1].index_offset = 0,
            m->submeshes[1].index_count = (uint32_t)(nt * 3);
        for (size_t t = 0; t < nt; t++) {
            int s = t * 3 >= m->submeshes[1].index_offset;
            const lds_mesh_submesh *sm = &m->submeshes[s];
            for (int k = 0; k < 3; k++)
                m->indices[t * 3 + k] = sm->vertex_offset + rng() % sm->vertex_count;
        }
        char fp[LDS_MESH_GEOMETRY_FP_MAX], ref[LDS_MESH_GEOMETRY_FP_MAX];
        lds_error err;
        lds_error_clear(&err);
        lds_status st = lds_mesh_fingerprint_geometry(m, fp, &err);
        reference(m, ref);
        if (st == LDS_OK)
            LDS_CHECK_STR(fp, ref);
        lds_mesh_model_destroy(m);
    }
}

/* Pins the definition: a unit cube's fingerprint must never change (a change is version 2). */
static void test_golden(void)
{
    static const float corners[8][3] = {{-1, -1, -1}, {1, -1, -1}, {1, 1, -1}, {-1, 1, -1},
                                        {-1, -1, 1},  {1, -1, 1},  {1, 1, 1},  {-1, 1, 1}};
    static const uint32_t faces[36] = {0, 2, 1, 0, 3, 2, 4, 5, 6, 4, 6, 7, 0, 1, 5, 0, 5, 4,
                                       2, 3, 7, 2, 7, 6, 1, 2, 6, 1, 6, 5, 0, 4, 7, 0, 7, 3};
    lds_mesh_model *m = model_new(8, 36, 0, 0);
    memcpy(m->positions, corners, sizeof(corners));
    memcpy(m->indices, faces, sizeof(faces));
    char fp[LDS_MESH_GEOMETRY_FP_MAX], ref[LDS_MESH_GEOMETRY_FP_MAX];
    fingerprint(m, fp);
    reference(m, ref);
    LDS_CHECK_STR(fp, ref);
    LDS_CHECK_STR(fp, GOLDEN_CUBE);
    lds_mesh_model_destroy(m);
}

int main(void)
{
    test_golden();
    LDS_CHECK_INT(lds_crypto_init(), ==, LDS_OK);
    test_invariance();
    test_sensitivity();
    test_point_clouds();
    test_random_against_reference();
    return lds_test_result();
}
