/*
 * shape.c: the robust shape fingerprint "lds-shape-1:<base64url>" and its comparison.
 *
 * Method: shape distributions, R. Osada, T. Funkhouser, B. Chazelle, D. Dobkin, "Shape
 * Distributions", ACM Transactions on Graphics 21(4), 2002: histograms of simple geometric
 * functions of random surface points. We keep three of their distributions,
 *   D1  distance from the centroid to a random surface point,
 *   D2  distance between two random surface points,
 *   A3  angle between three random surface points,
 * and add the ratios of the principal second moments of the surface (lambda2/lambda1,
 * lambda3/lambda1), the rotation-invariant part of the inertia tensor used by moment-based
 * descriptors (e.g. Paquet et al., "Description of shape information for 2-D and 3-D objects",
 * Signal Processing: Image Communication 16, 2000).
 *
 * Invariance: the centroid and the RMS radius R (square root of the trace of the covariance) are
 * computed exactly from the triangles (area-weighted surface integrals, not samples), distances
 * are divided by R, so the descriptor ignores rigid motion and uniform scale. Sampling is
 * area-weighted, so it ignores how the surface is tessellated (remeshing, simplification, split
 * or welded vertices). Histograms are compared with the earth mover's distance (L1 between
 * cumulative histograms, Rubner et al. 2000), which degrades gracefully when noise or
 * quantisation shifts mass to a neighbouring bin, where bin-to-bin distances jump.
 *
 * Determinism: every triangle draws its samples from a generator seeded by a hash of its own
 * corner coordinates (rotation-canonical), and the samples are sorted before the pair and triple
 * draws, which use a fixed seed. The same geometry in any vertex or face order therefore gives
 * the same string, and any run on any machine with IEEE doubles gives the same bytes.
 *
 * Encoding (84 bytes, 112 base64url characters after the prefix):
 *   [0..1]    lambda2/lambda1, lambda3/lambda1, times 255
 *   [2..33]   D1, 32 bins over [0, 2.5 R)   (the last bin also holds everything beyond)
 *   [34..65]  D2, 32 bins over [0, 4 R)
 *   [66..83]  A3, 18 bins over [0, pi]
 * Each histogram is scaled so that its largest bin is 255.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "shape_internal.h"

#define SHAPE_PREFIX "lds-shape-1:"
#define SHAPE_SAMPLES 32768      /* expected surface samples */
#define SHAPE_SAMPLES_CAP 131072 /* hard cap on samples kept (tiny probability to reach it) */
#define SHAPE_PAIRS (1u << 20)   /* D2 pairs */
#define SHAPE_TRIPLES (1u << 18) /* A3 triples */
#define SHAPE_SEED 0x6c6f6465736f6e65ull /* "lodesone" */

_Static_assert(LDS_SHAPE_BYTES % 3 == 0, "base64 groups of 3 bytes");

#define D1_RANGE 2.5
#define D2_RANGE 4.0

/* ---- random numbers (splitmix64 and uniform01 in shape_internal.h) ---- */

static uint32_t uniform_index(uint64_t *state, uint32_t n)
{
    return (uint32_t)(((lds_shape_splitmix64(state) >> 32) * (uint64_t)n) >> 32);
}

static uint64_t hash_floats(const float *v, size_t count)
{
    uint64_t h = SHAPE_SEED;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        float f = v[i] == 0.0f ? 0.0f : v[i]; /* -0 and +0 are the same point */
        memcpy(&bits, &f, sizeof bits);
        h ^= bits;
        h = lds_shape_splitmix64(&h);
    }
    return h;
}

/* ---- surface moments and samples ---- */

static int compare_floats3(const float *p, const float *q)
{
    for (int k = 0; k < 3; k++) {
        if (p[k] < q[k])
            return -1;
        if (p[k] > q[k])
            return 1;
    }
    return 0;
}

typedef struct shape_samples {
    double *points; /* 3 per sample */
    size_t count, capacity;
} shape_samples;

static int samples_push(shape_samples *s, double x, double y, double z)
{
    if (s->count == s->capacity) {
        if (s->capacity >= SHAPE_SAMPLES_CAP)
            return 0; /* full: ignore further samples */
        size_t capacity = s->capacity ? s->capacity * 2 : 1024;
        double *points = realloc(s->points, capacity * 3 * sizeof(double));
        if (points == NULL)
            return -1;
        s->points = points;
        s->capacity = capacity;
    }
    s->points[3 * s->count + 0] = x;
    s->points[3 * s->count + 1] = y;
    s->points[3 * s->count + 2] = z;
    s->count++;
    return 0;
}

static int compare_points(const void *a, const void *b)
{
    const double *p = a, *q = b;
    for (int k = 0; k < 3; k++) {
        if (p[k] < q[k])
            return -1;
        if (p[k] > q[k])
            return 1;
    }
    return 0;
}

/* Moments: m0 = total weight, m1 = first moment, m2 = second moment (symmetric 3x3, row-major). */
typedef struct shape_moments {
    double m0, m1[3], m2[9];
} shape_moments;

static void triangle_corners(const lds_mesh_model *model, size_t t, const float *corner[3])
{
    for (int k = 0; k < 3; k++)
        corner[k] = model->positions + 3 * (size_t)model->indices[3 * t + k];
}

static double triangle_area(const float *a, const float *b, const float *c)
{
    double u[3], v[3];
    for (int k = 0; k < 3; k++) {
        u[k] = (double)b[k] - a[k];
        v[k] = (double)c[k] - a[k];
    }
    double nx = u[1] * v[2] - u[2] * v[1], ny = u[2] * v[0] - u[0] * v[2], nz = u[0] * v[1] - u[1] * v[0];
    return 0.5 * sqrt(nx * nx + ny * ny + nz * nz);
}

/* Surface integrals over one triangle of area A with corners v0..v2:
 *   int 1 = A, int x = A (v0+v1+v2)/3, int x x^T = A/12 (sum vi vi^T + s s^T), s = v0+v1+v2. */
static void moments_add_triangle(shape_moments *m, const float *corner[3], double area)
{
    double s[3];
    for (int k = 0; k < 3; k++)
        s[k] = (double)corner[0][k] + corner[1][k] + corner[2][k];
    m->m0 += area;
    for (int k = 0; k < 3; k++)
        m->m1[k] += area * s[k] / 3.0;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            double sum = s[r] * s[c];
            for (int i = 0; i < 3; i++)
                sum += (double)corner[i][r] * corner[i][c];
            m->m2[3 * r + c] += area / 12.0 * sum;
        }
}

static void moments_add_point(shape_moments *m, const float *p)
{
    m->m0 += 1.0;
    for (int r = 0; r < 3; r++) {
        m->m1[r] += p[r];
        for (int c = 0; c < 3; c++)
            m->m2[3 * r + c] += (double)p[r] * p[c];
    }
}

/* Eigenvalues of a symmetric 3x3 matrix by cyclic Jacobi rotations, sorted descending. */
static void symmetric_eigenvalues(const double in[9], double out[3])
{
    double a[3][3];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            a[r][c] = in[3 * r + c];
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        double diag = fabs(a[0][0]) + fabs(a[1][1]) + fabs(a[2][2]);
        if (off <= 1e-15 * diag || off == 0.0)
            break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                if (a[p][q] == 0.0)
                    continue;
                double theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < 3; k++) { /* A = J^T A J */
                    double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; k++) {
                    double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
            }
    }
    double e[3] = {a[0][0], a[1][1], a[2][2]};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (e[j] > e[i]) {
                double t = e[i];
                e[i] = e[j];
                e[j] = t;
            }
    for (int i = 0; i < 3; i++)
        out[i] = e[i] > 0 ? e[i] : 0.0;
}

/* Samples the model: area-weighted on triangles, or a subset of the points of a point cloud.
 * Each triangle gets floor(n) samples plus one with probability frac(n), n = N area / total. */
static lds_status sample_model(const lds_mesh_model *model, shape_moments *moments, shape_samples *samples,
                               lds_error *err)
{
    size_t triangle_count = model->index_count / 3;
    memset(moments, 0, sizeof *moments);
    if (triangle_count > 0) {
        for (size_t t = 0; t < triangle_count; t++) {
            const float *corner[3];
            triangle_corners(model, t, corner);
            double area = triangle_area(corner[0], corner[1], corner[2]);
            if (isfinite(area) && area > 0)
                moments_add_triangle(moments, corner, area);
        }
        if (!(moments->m0 > 0) || !isfinite(moments->m0))
            return lds_error_set(err, LDS_ENOGEOM, "no surface area to describe");
        double per_area = SHAPE_SAMPLES / moments->m0;
        for (size_t t = 0; t < triangle_count; t++) {
            const float *corner[3];
            triangle_corners(model, t, corner);
            double area = triangle_area(corner[0], corner[1], corner[2]);
            if (!(isfinite(area) && area > 0))
                continue;
            /* rotation-canonical corner order so the seed ignores which corner comes first */
            int first = 0;
            for (int k = 1; k < 3; k++)
                if (compare_floats3(corner[k], corner[first]) < 0)
                    first = k;
            float key[9];
            for (int k = 0; k < 3; k++)
                memcpy(key + 3 * k, corner[(first + k) % 3], 3 * sizeof(float));
            uint64_t state = hash_floats(key, 9);
            double expected = area * per_area;
            double whole = floor(expected);
            size_t count = (size_t)whole + (lds_shape_uniform01(&state) < expected - whole ? 1 : 0);
            for (size_t i = 0; i < count; i++) {
                double r1 = sqrt(lds_shape_uniform01(&state)), r2 = lds_shape_uniform01(&state);
                double w0 = 1.0 - r1, w1 = r1 * (1.0 - r2), w2 = r1 * r2;
                const float *a = key, *b = key + 3, *c = key + 6;
                if (samples_push(samples, w0 * a[0] + w1 * b[0] + w2 * c[0], w0 * a[1] + w1 * b[1] + w2 * c[1],
                                 w0 * a[2] + w1 * b[2] + w2 * c[2]) != 0)
                    return lds_error_set(err, LDS_ENOMEM, "out of memory sampling the surface");
            }
        }
    } else {
        size_t point_count = model->vertex_count;
        if (point_count == 0)
            return lds_error_set(err, LDS_ENOGEOM, "no geometry to describe");
        double keep = point_count <= SHAPE_SAMPLES ? 1.0 : (double)SHAPE_SAMPLES / (double)point_count;
        for (size_t i = 0; i < point_count; i++) {
            const float *p = model->positions + 3 * i;
            moments_add_point(moments, p);
            uint64_t state = hash_floats(p, 3);
            if (keep >= 1.0 || lds_shape_uniform01(&state) < keep)
                if (samples_push(samples, p[0], p[1], p[2]) != 0)
                    return lds_error_set(err, LDS_ENOMEM, "out of memory sampling the points");
        }
    }
    if (samples->count < 3)
        return lds_error_set(err, LDS_ENOGEOM, "too little geometry to describe");
    qsort(samples->points, samples->count, 3 * sizeof(double), compare_points);
    return LDS_OK;
}

/* ---- the descriptor ---- */

static void histogram_add(double *bins, int bin_count, double value, double range)
{
    int bin = (int)(value / range * bin_count);
    if (bin < 0)
        bin = 0;
    if (bin >= bin_count)
        bin = bin_count - 1;
    bins[bin] += 1.0;
}

static void histogram_quantize(const double *bins, int bin_count, uint8_t *out)
{
    double max = 0;
    for (int i = 0; i < bin_count; i++)
        if (bins[i] > max)
            max = bins[i];
    for (int i = 0; i < bin_count; i++)
        out[i] = max > 0 ? (uint8_t)lround(bins[i] / max * 255.0) : 0;
}

lds_status lds_shape_descriptor_compute(const lds_mesh_model *model, lds_shape_descriptor *out, lds_error *err)
{
    shape_moments m;
    shape_samples samples = {0};
    lds_status status = sample_model(model, &m, &samples, err);
    if (status != LDS_OK)
        goto out;

    double centroid[3], cov[9];
    for (int k = 0; k < 3; k++)
        centroid[k] = m.m1[k] / m.m0;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
            cov[3 * r + c] = m.m2[3 * r + c] / m.m0 - centroid[r] * centroid[c];
    double lambda[3];
    symmetric_eigenvalues(cov, lambda);
    double radius = sqrt(lambda[0] + lambda[1] + lambda[2]);
    if (!(radius > 0) || !isfinite(radius)) {
        status = lds_error_set(err, LDS_ENOGEOM, "geometry has no extent to describe");
        goto out;
    }
    memset(out, 0, sizeof *out);
    out->bytes[0] = (uint8_t)lround(lambda[1] / lambda[0] * 255.0);
    out->bytes[1] = (uint8_t)lround(lambda[2] / lambda[0] * 255.0);

    double d1[LDS_SHAPE_D1_BINS] = {0}, d2[LDS_SHAPE_D2_BINS] = {0}, a3[LDS_SHAPE_A3_BINS] = {0};
    const double *p = samples.points;
    uint32_t n = (uint32_t)samples.count;
    for (uint32_t i = 0; i < n; i++) {
        double dx = p[3 * i] - centroid[0], dy = p[3 * i + 1] - centroid[1], dz = p[3 * i + 2] - centroid[2];
        histogram_add(d1, LDS_SHAPE_D1_BINS, sqrt(dx * dx + dy * dy + dz * dz) / radius, D1_RANGE);
    }
    uint64_t state = SHAPE_SEED;
    for (uint32_t k = 0; k < SHAPE_PAIRS; k++) {
        uint32_t i = uniform_index(&state, n), j = uniform_index(&state, n);
        if (i == j)
            continue;
        double dx = p[3 * i] - p[3 * j], dy = p[3 * i + 1] - p[3 * j + 1], dz = p[3 * i + 2] - p[3 * j + 2];
        histogram_add(d2, LDS_SHAPE_D2_BINS, sqrt(dx * dx + dy * dy + dz * dz) / radius, D2_RANGE);
    }
    for (uint32_t k = 0; k < SHAPE_TRIPLES; k++) {
        uint32_t i = uniform_index(&state, n), j = uniform_index(&state, n), l = uniform_index(&state, n);
        if (i == j || j == l || i == l)
            continue;
        double u[3], v[3], uu = 0, vv = 0, uv = 0;
        for (int c = 0; c < 3; c++) {
            u[c] = p[3 * i + c] - p[3 * j + c];
            v[c] = p[3 * l + c] - p[3 * j + c];
            uu += u[c] * u[c];
            vv += v[c] * v[c];
            uv += u[c] * v[c];
        }
        if (!(uu > 0 && vv > 0))
            continue;
        double cosine = uv / sqrt(uu * vv);
        if (cosine > 1)
            cosine = 1;
        if (cosine < -1)
            cosine = -1;
        histogram_add(a3, LDS_SHAPE_A3_BINS, acos(cosine), M_PI);
    }
    histogram_quantize(d1, LDS_SHAPE_D1_BINS, out->bytes + LDS_SHAPE_D1_OFFSET);
    histogram_quantize(d2, LDS_SHAPE_D2_BINS, out->bytes + LDS_SHAPE_D2_OFFSET);
    histogram_quantize(a3, LDS_SHAPE_A3_BINS, out->bytes + LDS_SHAPE_A3_OFFSET);
out:
    free(samples.points);
    return status;
}

/* ---- text form ---- */

static const char base64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int base64url_value(char c)
{
    const char *p = c ? strchr(base64url, c) : NULL;
    return p ? (int)(p - base64url) : -1;
}

void lds_shape_descriptor_format(const lds_shape_descriptor *d, char out[LDS_MESH_SHAPE_FP_MAX])
{
    size_t o = strlen(SHAPE_PREFIX);
    memcpy(out, SHAPE_PREFIX, o);
    for (size_t i = 0; i < LDS_SHAPE_BYTES; i += 3) { /* LDS_SHAPE_BYTES is a multiple of 3 */
        uint32_t v = (uint32_t)d->bytes[i] << 16 | (uint32_t)d->bytes[i + 1] << 8 | d->bytes[i + 2];
        for (int k = 3; k >= 0; k--)
            out[o++] = base64url[(v >> (6 * k)) & 63];
    }
    out[o] = '\0';
}

lds_status lds_shape_descriptor_parse(const char *text, lds_shape_descriptor *d, lds_error *err)
{
    size_t prefix = strlen(SHAPE_PREFIX);
    if (text == NULL || strncmp(text, SHAPE_PREFIX, prefix) != 0)
        return lds_error_set(err, LDS_EFORMAT, "shape fingerprint does not start with \"%s\"", SHAPE_PREFIX);
    const char *body = text + prefix;
    if (strlen(body) != LDS_SHAPE_BYTES / 3 * 4)
        return lds_error_set(err, LDS_EFORMAT, "shape fingerprint has %zu characters after the prefix, expected %d",
                             strlen(body), LDS_SHAPE_BYTES / 3 * 4);
    for (size_t i = 0, o = 0; i < LDS_SHAPE_BYTES / 3 * 4; i += 4) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            int x = base64url_value(body[i + k]);
            if (x < 0)
                return lds_error_set(err, LDS_EFORMAT, "shape fingerprint has a bad character at %zu", prefix + i + k);
            v = v << 6 | (uint32_t)x;
        }
        d->bytes[o++] = (uint8_t)(v >> 16);
        d->bytes[o++] = (uint8_t)(v >> 8);
        d->bytes[o++] = (uint8_t)v;
    }
    return LDS_OK;
}

/* ---- comparison ---- */

/* Normalised cumulative histogram, each step scaled by 1 / (bin_count * tolerance): the L1
 * distance between two of these is the earth mover's distance between the histograms, as a
 * fraction of their range, divided by the tolerance. */
static void histogram_cdf(const uint8_t *bins, int bin_count, double tolerance, double *out)
{
    double sum = 0, cdf = 0;
    for (int i = 0; i < bin_count; i++)
        sum += bins[i];
    for (int i = 0; i < bin_count; i++) {
        cdf += sum > 0 ? bins[i] / sum : 1.0 / bin_count;
        out[i] = cdf / (bin_count * tolerance);
    }
}

/* Each component's distance is divided by its tolerance (how far near copies drift: sampling
 * noise, 0.1% noise, quantisation, a quarter of the triangles) and the sum is the distance d.
 * similarity = exp(-d / scale), and a match is d <= LDS_SHAPE_MATCH_DISTANCE.
 * Calibration (tests/test_shape_corpus.c and an assimp-testmodels sweep): all homer remeshes and
 * corpus near copies have similarity >= 0.85 (d <= 0.2 typically); over 414 near copies of the 63
 * assimp-testmodels with >= 1000 triangles 96% stay under d = 1.2, the failures being noise far
 * above the edge length of dense meshes and 1/4 simplification of low-poly models; the closest
 * distinct objects are at d >= 1.78. The threshold is d = 1.2 (similarity 0.75). */
static const double shape_tolerance[LDS_SHAPE_COMPONENTS] = {0.05, 0.015, 0.015, 0.015};
#define SHAPE_MATCH_SIMILARITY 0.75

static const struct {
    int offset, bins;
} shape_histograms[3] = {
    {LDS_SHAPE_D1_OFFSET, LDS_SHAPE_D1_BINS},
    {LDS_SHAPE_D2_OFFSET, LDS_SHAPE_D2_BINS},
    {LDS_SHAPE_A3_OFFSET, LDS_SHAPE_A3_BINS},
};

void lds_shape_descriptor_vector(const lds_shape_descriptor *d, double out[LDS_SHAPE_VECTOR_DIM])
{
    out[0] = d->bytes[0] / 255.0 / shape_tolerance[0];
    out[1] = d->bytes[1] / 255.0 / shape_tolerance[0];
    for (int h = 0; h < 3; h++)
        histogram_cdf(d->bytes + shape_histograms[h].offset, shape_histograms[h].bins, shape_tolerance[h + 1],
                      out + shape_histograms[h].offset);
}

void lds_shape_descriptor_distances(const lds_shape_descriptor *a, const lds_shape_descriptor *b,
                                    double out[LDS_SHAPE_COMPONENTS])
{
    double va[LDS_SHAPE_VECTOR_DIM], vb[LDS_SHAPE_VECTOR_DIM];
    lds_shape_descriptor_vector(a, va);
    lds_shape_descriptor_vector(b, vb);
    out[0] = (fabs(va[0] - vb[0]) + fabs(va[1] - vb[1])) * shape_tolerance[0];
    for (int h = 0; h < 3; h++) {
        double sum = 0;
        for (int i = 0; i < shape_histograms[h].bins; i++)
            sum += fabs(va[shape_histograms[h].offset + i] - vb[shape_histograms[h].offset + i]);
        out[h + 1] = sum * shape_tolerance[h + 1];
    }
}

double lds_shape_descriptor_distance(const lds_shape_descriptor *a, const lds_shape_descriptor *b)
{
    double va[LDS_SHAPE_VECTOR_DIM], vb[LDS_SHAPE_VECTOR_DIM], sum = 0;
    lds_shape_descriptor_vector(a, va);
    lds_shape_descriptor_vector(b, vb);
    for (int i = 0; i < LDS_SHAPE_VECTOR_DIM; i++)
        sum += fabs(va[i] - vb[i]);
    return sum;
}

double lds_shape_descriptor_similarity(const lds_shape_descriptor *a, const lds_shape_descriptor *b)
{
    /* exp(-d / scale) with scale chosen so that d = LDS_SHAPE_MATCH_DISTANCE gives SHAPE_MATCH_SIMILARITY */
    double scale = LDS_SHAPE_MATCH_DISTANCE / -log(SHAPE_MATCH_SIMILARITY);
    return exp(-lds_shape_descriptor_distance(a, b) / scale);
}

int lds_shape_descriptor_match(const lds_shape_descriptor *a, const lds_shape_descriptor *b)
{
    return lds_shape_descriptor_distance(a, b) <= LDS_SHAPE_MATCH_DISTANCE;
}

/* ---- public API ---- */

lds_status lds_mesh_fingerprint_shape(const lds_mesh_model *model, char out[LDS_MESH_SHAPE_FP_MAX], lds_error *err)
{
    lds_shape_descriptor d;
    out[0] = '\0';
    lds_status status = lds_shape_descriptor_compute(model, &d, err);
    if (status != LDS_OK)
        return status;
    lds_shape_descriptor_format(&d, out);
    return LDS_OK;
}

lds_status lds_mesh_shape_compare(const char *a, const char *b, double *similarity, int *match, lds_error *err)
{
    lds_shape_descriptor da, db;
    lds_status status = lds_shape_descriptor_parse(a, &da, err);
    if (status == LDS_OK)
        status = lds_shape_descriptor_parse(b, &db, err);
    if (status != LDS_OK)
        return status;
    double s = lds_shape_descriptor_similarity(&da, &db);
    if (similarity)
        *similarity = s;
    if (match)
        *match = lds_shape_descriptor_match(&da, &db);
    return LDS_OK;
}
