/* test_shape.c: the shape fingerprint, compare and the shape index on synthetic meshes:
 * determinism, invariance to rigid motion, scale, vertex and face order, tessellation, and
 * separation of distinct primitives. Real files are in test_shape_corpus.c. */
#include <math.h>
#include <stdint.h>

#include "mesh.h"
#include "testlib.h"

/* A parametric surface (u, v in [0,1]) tessellated as a grid of nu x nv quads. */
typedef void (*surface_fn)(double u, double v, const double *param, double out[3]);

static void torus(double u, double v, const double *p, double out[3])
{
    double a = 2 * M_PI * u, b = 2 * M_PI * v;
    out[0] = (p[0] + p[1] * cos(b)) * cos(a);
    out[1] = (p[0] + p[1] * cos(b)) * sin(a);
    out[2] = p[1] * sin(b);
}

static void ellipsoid(double u, double v, const double *p, double out[3])
{
    double a = 2 * M_PI * u, b = M_PI * v;
    out[0] = p[0] * sin(b) * cos(a);
    out[1] = p[1] * sin(b) * sin(a);
    out[2] = p[2] * cos(b);
}

static void cylinder(double u, double v, const double *p, double out[3]) /* open tube */
{
    double a = 2 * M_PI * u;
    out[0] = p[0] * cos(a);
    out[1] = p[0] * sin(a);
    out[2] = p[1] * (v - 0.5);
}

static void wavy(double u, double v, const double *p, double out[3]) /* a bumpy sheet */
{
    out[0] = u;
    out[1] = v;
    out[2] = p[0] * sin(6 * u) * cos(4 * v);
}

static lds_mesh_model *make_surface(surface_fn fn, const double *param, int nu, int nv)
{
    lds_mesh_model *m = lds_mesh_model_create();
    size_t vertex_count = (size_t)(nu + 1) * (nv + 1), index_count = (size_t)nu * nv * 6;
    if (m == NULL || lds_mesh_model_alloc(m, vertex_count, index_count, 0, 0, 0) != LDS_OK)
        abort();
    m->vertex_count = vertex_count;
    m->index_count = index_count;
    for (int j = 0; j <= nv; j++)
        for (int i = 0; i <= nu; i++) {
            double p[3];
            fn((double)i / nu, (double)j / nv, param, p);
            for (int k = 0; k < 3; k++)
                m->positions[3 * (j * (nu + 1) + i) + k] = (float)p[k];
        }
    size_t o = 0;
    for (int j = 0; j < nv; j++)
        for (int i = 0; i < nu; i++) {
            uint32_t a = (uint32_t)(j * (nu + 1) + i), b = a + 1, c = a + (uint32_t)nu + 1, d = c + 1;
            uint32_t tri[6] = {a, b, d, a, d, c};
            memcpy(m->indices + o, tri, sizeof tri);
            o += 6;
        }
    return m;
}

static uint64_t rng_state = 42;
static double rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Rotation about a random axis, scale s, translation t. */
static void rigid_scale(lds_mesh_model *m, double s, double tx, double ty, double tz)
{
    double angles[3];
    for (int k = 0; k < 3; k++)
        angles[k] = rnd() * 6.28;
    double t[3] = {tx, ty, tz};
    lds_test_similarity_transform(m->positions, m->vertex_count, angles, s, t);
}

static void shuffle_faces_and_rotate_corners(lds_mesh_model *m)
{
    size_t triangles = m->index_count / 3;
    for (size_t i = triangles - 1; i > 0; i--) {
        size_t j = (size_t)(rnd() * (double)(i + 1));
        uint32_t t[3];
        memcpy(t, m->indices + 3 * i, sizeof t);
        memcpy(m->indices + 3 * i, m->indices + 3 * j, sizeof t);
        memcpy(m->indices + 3 * j, t, sizeof t);
    }
    for (size_t i = 0; i < triangles; i++) {
        uint32_t *t = m->indices + 3 * i, first = t[0];
        t[0] = t[1];
        t[1] = t[2];
        t[2] = first;
    }
}

static double similarity(const char *a, const char *b, int *match)
{
    lds_error err = {0};
    double s = -1;
    LDS_CHECK_OK(lds_mesh_shape_compare(a, b, &s, match, &err), &err);
    return s;
}

static void fingerprint(const lds_mesh_model *m, char out[LDS_MESH_SHAPE_FP_MAX])
{
    lds_error err = {0};
    LDS_CHECK_OK(lds_mesh_fingerprint_shape(m, out, &err), &err);
}

static void test_format_and_determinism(void)
{
    const double param[2] = {1.0, 0.4};
    lds_mesh_model *m = make_surface(torus, param, 64, 32);
    char a[LDS_MESH_SHAPE_FP_MAX], b[LDS_MESH_SHAPE_FP_MAX];
    fingerprint(m, a);
    fingerprint(m, b);
    LDS_CHECK_STR(a, b);
    LDS_CHECK(strncmp(a, "lds-shape-1:", 12) == 0);
    LDS_CHECK_INT(strlen(a), <, 200);
    printf("torus: %s (%zu characters)\n", a, strlen(a));
    int match = 0;
    LDS_CHECK(similarity(a, b, &match) == 1.0);
    LDS_CHECK(match);

    /* the same geometry with faces shuffled and corners rotated: the very same string */
    lds_mesh_model *shuffled = lds_mesh_model_clone(m);
    shuffle_faces_and_rotate_corners(shuffled);
    fingerprint(shuffled, b);
    LDS_CHECK_STR(a, b);
    lds_mesh_model_destroy(shuffled);
    lds_mesh_model_destroy(m);
}

static void test_invariance(void)
{
    const double param[3] = {1.0, 0.6, 0.3};
    lds_mesh_model *m = make_surface(ellipsoid, param, 96, 48);
    char base[LDS_MESH_SHAPE_FP_MAX], other[LDS_MESH_SHAPE_FP_MAX];
    fingerprint(m, base);
    const double scales[] = {0.001, 1.0, 37.0, 1000.0};
    for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++) {
        lds_mesh_model *c = lds_mesh_model_clone(m);
        rigid_scale(c, scales[i], 3 * scales[i], -5 * scales[i], 2 * scales[i]);
        fingerprint(c, other);
        int match = 0;
        double s = similarity(base, other, &match);
        if (!match || s < 0.85)
            fprintf(stderr, "scale %g: similarity %.3f match %d\n", scales[i], s, match);
        LDS_CHECK(match);
        LDS_CHECK(s >= 0.85);
        lds_mesh_model_destroy(c);
    }
    /* another tessellation of the same surface (remeshing) */
    lds_mesh_model *coarse = make_surface(ellipsoid, param, 40, 20);
    fingerprint(coarse, other);
    int match = 0;
    double s = similarity(base, other, &match);
    printf("ellipsoid 96x48 vs 40x20: similarity %.3f\n", s);
    LDS_CHECK(match);
    lds_mesh_model_destroy(coarse);
    lds_mesh_model_destroy(m);
}

static void test_distinct(void)
{
    const double torus_fat[2] = {1.0, 0.5}, torus_thin[2] = {1.0, 0.15}, sphere[3] = {1, 1, 1},
                 egg[3] = {1, 1, 1.6}, tube[2] = {1.0, 3.0}, sheet[1] = {0.15};
    struct {
        const char *name;
        surface_fn fn;
        const double *param;
    } shapes[] = {
        {"fat torus", torus, torus_fat}, {"thin torus", torus, torus_thin}, {"sphere", ellipsoid, sphere},
        {"egg", ellipsoid, egg},         {"tube", cylinder, tube},          {"sheet", wavy, sheet},
    };
    enum { N = sizeof shapes / sizeof shapes[0] };
    char fp[N][LDS_MESH_SHAPE_FP_MAX];
    for (int i = 0; i < N; i++) {
        lds_mesh_model *m = make_surface(shapes[i].fn, shapes[i].param, 80, 40);
        fingerprint(m, fp[i]);
        lds_mesh_model_destroy(m);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            int match = 1;
            double s = similarity(fp[i], fp[j], &match);
            if (match)
                fprintf(stderr, "%s and %s match (similarity %.3f)\n", shapes[i].name, shapes[j].name, s);
            LDS_CHECK(!match);
        }

    /* the index: every shape finds itself and a remeshed copy of itself, first */
    lds_error err = {0};
    lds_mesh_shape_index *index = lds_mesh_shape_index_create();
    LDS_CHECK(index != NULL);
    for (int i = 0; i < N; i++)
        LDS_CHECK_OK(lds_mesh_shape_index_add(index, shapes[i].name, fp[i], &err), &err);
    LDS_CHECK_INT(lds_mesh_shape_index_size(index), ==, N);
    for (int i = 0; i < N; i++) {
        lds_mesh_model *m = make_surface(shapes[i].fn, shapes[i].param, 61, 29);
        char query[LDS_MESH_SHAPE_FP_MAX];
        fingerprint(m, query);
        lds_mesh_model_destroy(m);
        lds_mesh_shape_hit hits[8];
        size_t hit_count = 0, candidates = 0;
        LDS_CHECK_OK(lds_mesh_shape_index_query(index, query, hits, 8, &hit_count, &candidates, &err), &err);
        LDS_CHECK_INT(hit_count, >=, 1);
        if (hit_count >= 1) {
            LDS_CHECK_STR(hits[0].id, shapes[i].name);
            LDS_CHECK(hits[0].match);
        }
    }
    lds_mesh_shape_index_destroy(index);
}

static void test_bucket_keys(void)
{
    const double param[2] = {1.0, 0.4};
    lds_mesh_model *m = make_surface(torus, param, 64, 32);
    char fp[LDS_MESH_SHAPE_FP_MAX];
    fingerprint(m, fp);
    lds_mesh_model_destroy(m);
    char store[LDS_MESH_SHAPE_PROBES_MAX][LDS_MESH_SHAPE_KEY_MAX], probe[LDS_MESH_SHAPE_PROBES_MAX][LDS_MESH_SHAPE_KEY_MAX];
    size_t store_count = 0, probe_count = 0;
    lds_error err = {0};
    LDS_CHECK_OK(lds_mesh_shape_bucket_keys(fp, 0, store, &store_count, &err), &err);
    LDS_CHECK_OK(lds_mesh_shape_bucket_keys(fp, 1, probe, &probe_count, &err), &err);
    LDS_CHECK_INT(store_count, ==, LDS_MESH_SHAPE_TABLES);
    LDS_CHECK_INT(probe_count, <=, LDS_MESH_SHAPE_PROBES_MAX);
    printf("bucket key: %s (%zu probes)\n", store[0], probe_count);
    /* every stored key is among the probes */
    for (size_t i = 0; i < store_count; i++) {
        int found = 0;
        for (size_t j = 0; j < probe_count; j++)
            found |= strcmp(store[i], probe[j]) == 0;
        LDS_CHECK(found);
    }
}

static void test_bad_input(void)
{
    lds_error err = {0};
    double s;
    int match;
    LDS_CHECK_INT(lds_mesh_shape_compare("lds-geom-1:00", "lds-shape-1:AAAA", &s, &match, &err), ==, LDS_EFORMAT);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_mesh_shape_compare("lds-shape-1:AAAA", "lds-shape-1:AAAA", &s, &match, &err), ==, LDS_EFORMAT);
    printf("bad fingerprint: %s\n", err.message);

    /* no area: a degenerate triangle, and an empty model */
    lds_mesh_model *m = lds_mesh_model_create();
    LDS_CHECK(lds_mesh_model_alloc(m, 3, 3, 0, 0, 0) == LDS_OK);
    m->vertex_count = 3;
    m->index_count = 3;
    for (int i = 0; i < 3; i++)
        m->indices[i] = (uint32_t)i;
    char fp[LDS_MESH_SHAPE_FP_MAX];
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_mesh_fingerprint_shape(m, fp, &err), ==, LDS_ENOGEOM);
    lds_mesh_model_destroy(m);

    /* a point cloud is sampled from its points */
    const double param[2] = {1.0, 0.4};
    lds_mesh_model *cloud = make_surface(torus, param, 200, 100);
    cloud->index_count = 0;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_fingerprint_shape(cloud, fp, &err), &err);
    lds_mesh_model_destroy(cloud);
}

int main(void)
{
    test_format_and_determinism();
    test_invariance();
    test_distinct();
    test_bucket_keys();
    test_bad_input();
    return lds_test_result();
}
