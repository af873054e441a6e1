/*
 * preview_align.c: aligning a suspect file with a preview's base and measuring its watermark
 * responses (sandbox.h).
 *
 * 1. Coarse: area-weighted moments of both surfaces give centroids, principal axes and the
 *    scale (square root of the ratio of the covariance traces). Axis signs are ambiguous, so
 *    every proper rotation mapping the suspect's axes onto the base's is tried (the 4 sign
 *    flips, or all 24 signed permutations when two principal moments are within 15%).
 * 2. Fine: ICP with a similarity transform (Besl and McKay 1992; the rotation from Horn's
 *    quaternion method, 1987, and the scale in closed form), nearest base vertex per suspect
 *    vertex, the worst tenth of the pairs trimmed. The candidate with the smallest residual wins.
 * 3. Responses: each suspect vertex that lands on the base adds its offset from the nearest base
 *    vertex along that vertex's normal to the seeds of that vertex, weighted by the partition of
 *    unity; b_k is the weighted mean.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_internal.h"

#define COARSE_SAMPLES 1500
#define COARSE_ITERATIONS 12
#define FINE_SAMPLES 30000
#define FINE_ITERATIONS 30
#define TRIM 0.9
#define MAX_OFFSET 0.01 /* of the base's diagonal: farther suspect vertices are not on the base */

/* ---- moments and eigenvectors ---- */

void preview_moments(const lds_mesh_model *m, double mean[3], double cov[9])
{
    double w = 0, s1[3] = {0}, s2[9] = {0};
    if (m->index_count >= 3) {
        for (size_t t = 0; t + 2 < m->index_count; t += 3) {
            const float *p[3] = {m->positions + 3 * m->indices[t], m->positions + 3 * m->indices[t + 1],
                                 m->positions + 3 * m->indices[t + 2]};
            double e1[3], e2[3], s[3];
            for (int a = 0; a < 3; a++) {
                e1[a] = p[1][a] - p[0][a];
                e2[a] = p[2][a] - p[0][a];
                s[a] = (double)p[0][a] + p[1][a] + p[2][a];
            }
            double cx = e1[1] * e2[2] - e1[2] * e2[1], cy = e1[2] * e2[0] - e1[0] * e2[2],
                   cz = e1[0] * e2[1] - e1[1] * e2[0];
            double area = 0.5 * sqrt(cx * cx + cy * cy + cz * cz);
            w += area;
            /* uniform distribution on a triangle: E[x] = s/3, E[x x^T] = (sum v v^T + s s^T) / 12 */
            for (int a = 0; a < 3; a++) {
                s1[a] += area * s[a] / 3;
                for (int b = 0; b < 3; b++) {
                    double vv = 0;
                    for (int c = 0; c < 3; c++)
                        vv += (double)p[c][a] * p[c][b];
                    s2[3 * a + b] += area * (vv + s[a] * s[b]) / 12;
                }
            }
        }
    }
    if (w <= 0) { /* a point cloud, or only degenerate triangles */
        w = 0;
        memset(s1, 0, sizeof(s1));
        memset(s2, 0, sizeof(s2));
        for (size_t v = 0; v < m->vertex_count; v++) {
            const float *p = m->positions + 3 * v;
            w += 1;
            for (int a = 0; a < 3; a++) {
                s1[a] += p[a];
                for (int b = 0; b < 3; b++)
                    s2[3 * a + b] += (double)p[a] * p[b];
            }
        }
    }
    w = w > 0 ? w : 1;
    for (int a = 0; a < 3; a++)
        mean[a] = s1[a] / w;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            cov[3 * a + b] = s2[3 * a + b] / w - mean[a] * mean[b];
}

/* Cyclic Jacobi on a symmetric n x n matrix (n <= 4): a is destroyed, values descending,
 * vectors as columns of v. */
static void jacobi(int n, double *a, double *values, double *v)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            v[i * n + j] = i == j;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++)
                off += a[p * n + q] * a[p * n + q];
        if (off < 1e-30)
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                if (fabs(a[p * n + q]) < 1e-300)
                    continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* a = J^T a J */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) {
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    int order[4] = {0, 1, 2, 3};
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (a[order[j] * n + order[j]] > a[order[i] * n + order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    double copy[16];
    memcpy(copy, v, (size_t)(n * n) * sizeof(double));
    for (int j = 0; j < n; j++) {
        values[j] = a[order[j] * n + order[j]];
        for (int i = 0; i < n; i++)
            v[i * n + j] = copy[i * n + order[j]];
    }
}

void preview_eigen3(const double a[9], double values[3], double vectors[9])
{
    double m[9];
    memcpy(m, a, sizeof(m));
    jacobi(3, m, values, vectors);
}

/* ---- nearest points: a uniform grid of buckets ---- */

lds_status preview_grid_build(preview_grid *g, const float *points, size_t count)
{
    memset(g, 0, sizeof(*g));
    g->points = points;
    g->count = count;
    float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < count; i++)
        for (int a = 0; a < 3; a++) {
            lo[a] = fminf(lo[a], points[3 * i + a]);
            hi[a] = fmaxf(hi[a], points[3 * i + a]);
        }
    float extent = count ? fmaxf(hi[0] - lo[0], fmaxf(hi[1] - lo[1], hi[2] - lo[2])) : 1;
    int per_axis = (int)cbrt((double)count / 2.0) + 1;
    per_axis = per_axis > 96 ? 96 : per_axis;
    g->cell = extent > 0 ? extent / (float)per_axis : 1;
    size_t cells = 1;
    for (int a = 0; a < 3; a++) {
        g->origin[a] = count ? lo[a] : 0;
        g->dims[a] = count ? (int)((hi[a] - lo[a]) / g->cell) + 1 : 1;
        cells *= (size_t)g->dims[a];
    }
    g->start = calloc(cells + 1, sizeof(uint32_t));
    g->items = malloc((count ? count : 1) * sizeof(uint32_t));
    uint32_t *cell_of = malloc((count ? count : 1) * sizeof(uint32_t));
    if (!g->start || !g->items || !cell_of) {
        free(cell_of);
        preview_grid_cleanup(g);
        return LDS_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        int c[3];
        for (int a = 0; a < 3; a++) {
            c[a] = (int)((points[3 * i + a] - g->origin[a]) / g->cell);
            c[a] = c[a] < 0 ? 0 : c[a] >= g->dims[a] ? g->dims[a] - 1 : c[a];
        }
        cell_of[i] = (uint32_t)((c[2] * g->dims[1] + c[1]) * g->dims[0] + c[0]);
        g->start[cell_of[i] + 1]++;
    }
    for (size_t c = 0; c < cells; c++)
        g->start[c + 1] += g->start[c];
    for (size_t i = 0; i < count; i++)
        g->items[g->start[cell_of[i]]++] = (uint32_t)i;
    for (size_t c = cells; c > 0; c--) /* the fill advanced each start to the next cell's */
        g->start[c] = g->start[c - 1];
    g->start[0] = 0;
    free(cell_of);
    return LDS_OK;
}

void preview_grid_cleanup(preview_grid *g)
{
    free(g->start);
    free(g->items);
    g->start = NULL;
    g->items = NULL;
}

static void scan_cell(const preview_grid *g, int x, int y, int z, const double q[3], long *best, double *best_d2)
{
    size_t c = (size_t)((z * g->dims[1] + y) * g->dims[0] + x);
    for (uint32_t i = g->start[c]; i < g->start[c + 1]; i++) {
        const float *p = g->points + 3 * (size_t)g->items[i];
        double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2], d = dx * dx + dy * dy + dz * dz;
        if (d < *best_d2) {
            *best_d2 = d;
            *best = g->items[i];
        }
    }
}

long preview_grid_nearest(const preview_grid *g, const double q[3], double *d2)
{
    long best = -1;
    double best_d2 = INFINITY;
    int c[3], max_ring = 0;
    for (int a = 0; a < 3; a++) {
        c[a] = (int)floor((q[a] - g->origin[a]) / g->cell);
        c[a] = c[a] < 0 ? 0 : c[a] >= g->dims[a] ? g->dims[a] - 1 : c[a];
        max_ring = g->dims[a] > max_ring ? g->dims[a] : max_ring;
    }
    for (int r = 0; r <= max_ring; r++) {
        for (int z = c[2] - r; z <= c[2] + r; z++)
            for (int y = c[1] - r; y <= c[1] + r; y++)
                for (int x = c[0] - r; x <= c[0] + r; x++) {
                    if (x < 0 || y < 0 || z < 0 || x >= g->dims[0] || y >= g->dims[1] || z >= g->dims[2])
                        continue;
                    if (abs(x - c[0]) != r && abs(y - c[1]) != r && abs(z - c[2]) != r)
                        continue; /* inside the shell: scanned already */
                    scan_cell(g, x, y, z, q, &best, &best_d2);
                }
        double reach = (double)r * g->cell;
        if (best >= 0 && best_d2 <= reach * reach)
            break;
    }
    *d2 = best_d2;
    return best;
}

/* ---- similarity transforms: y = s R x + t ---- */

typedef struct similarity {
    double s, r[9], t[3];
} similarity;

static void apply(const similarity *x, const float *p, double out[3])
{
    for (int i = 0; i < 3; i++)
        out[i] = x->s * (x->r[3 * i] * p[0] + x->r[3 * i + 1] * p[1] + x->r[3 * i + 2] * p[2]) + x->t[i];
}

/* The similarity that best maps a[i] onto b[i] (least squares; Horn's quaternion method). */
static void fit(const double *a, const double *b, size_t n, similarity *out)
{
    double ma[3] = {0}, mb[3] = {0}, m[9] = {0}, saa = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            ma[k] += a[3 * i + k] / (double)n;
            mb[k] += b[3 * i + k] / (double)n;
        }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 3; j++) {
            saa += (a[3 * i + j] - ma[j]) * (a[3 * i + j] - ma[j]);
            for (int k = 0; k < 3; k++)
                m[3 * j + k] += (a[3 * i + j] - ma[j]) * (b[3 * i + k] - mb[k]);
        }
    double sxx = m[0], sxy = m[1], sxz = m[2], syx = m[3], syy = m[4], syz = m[5], szx = m[6], szy = m[7], szz = m[8];
    double nm[16] = {sxx + syy + szz, syz - szy, szx - sxz, sxy - syx,
                     syz - szy, sxx - syy - szz, sxy + syx, szx + sxz,
                     szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy,
                     sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz};
    double values[4], vec[16];
    jacobi(4, nm, values, vec);
    double w = vec[0], x = vec[4], y = vec[8], z = vec[12];
    double *r = out->r;
    r[0] = w * w + x * x - y * y - z * z, r[1] = 2 * (x * y - w * z), r[2] = 2 * (x * z + w * y);
    r[3] = 2 * (x * y + w * z), r[4] = w * w - x * x + y * y - z * z, r[5] = 2 * (y * z - w * x);
    r[6] = 2 * (x * z - w * y), r[7] = 2 * (y * z + w * x), r[8] = w * w - x * x - y * y + z * z;
    double sab = 0;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 3; j++) {
            double ra = 0;
            for (int k = 0; k < 3; k++)
                ra += r[3 * j + k] * (a[3 * i + k] - ma[k]);
            sab += ra * (b[3 * i + j] - mb[j]);
        }
    out->s = saa > 0 ? sab / saa : 1;
    for (int j = 0; j < 3; j++)
        out->t[j] = mb[j] - out->s * (r[3 * j] * ma[0] + r[3 * j + 1] * ma[1] + r[3 * j + 2] * ma[2]);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ICP from x over the suspect vertices in sample (count of them); returns the trimmed RMS. */
static double icp(const lds_preview_base *b, const lds_mesh_model *s, const uint32_t *sample, size_t count,
                  int iterations, similarity *x, double *work)
{
    double *src = work, *dst = work + 3 * count, *d2 = work + 6 * count, *sorted = work + 7 * count;
    double rms = INFINITY;
    for (int it = 0; it < iterations; it++) {
        for (size_t i = 0; i < count; i++) {
            double q[3];
            apply(x, s->positions + 3 * (size_t)sample[i], q);
            long near = preview_grid_nearest(&b->grid, q, &d2[i]);
            for (int a = 0; a < 3; a++) {
                src[3 * i + a] = s->positions[3 * (size_t)sample[i] + a];
                dst[3 * i + a] = b->model->positions[3 * (size_t)near + a];
            }
            sorted[i] = d2[i];
        }
        qsort(sorted, count, sizeof(double), compare_double);
        double cut = sorted[(size_t)((double)(count - 1) * TRIM)], sum = 0;
        size_t kept = 0;
        for (size_t i = 0; i < count; i++)
            if (d2[i] <= cut) {
                memmove(src + 3 * kept, src + 3 * i, 3 * sizeof(double));
                memmove(dst + 3 * kept, dst + 3 * i, 3 * sizeof(double));
                sum += d2[i];
                kept++;
            }
        rms = sqrt(sum / (double)(kept ? kept : 1));
        if (kept < 3)
            break;
        fit(src, dst, kept, x);
    }
    return rms;
}

/* Evenly spread vertex indices: at most max of them. */
static size_t pick(size_t n, size_t max, uint32_t *out)
{
    size_t count = n < max ? n : max;
    for (size_t i = 0; i < count; i++)
        out[i] = (uint32_t)((uint64_t)i * n / count);
    return count;
}

/* The coarse candidates: rotations taking the suspect's principal axes onto the base's. */
static size_t candidates(const lds_preview_base *b, const double s_mean[3], const double s_axes[9],
                         const double s_eigen[3], double scale, similarity *out)
{
    int degenerate = b->eigen[1] > 0.85 * b->eigen[0] || b->eigen[2] > 0.85 * b->eigen[1] ||
                     s_eigen[1] > 0.85 * s_eigen[0] || s_eigen[2] > 0.85 * s_eigen[1];
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    size_t n = 0;
    for (int p = 0; p < (degenerate ? 6 : 1); p++)
        for (int signs = 0; signs < 8; signs++) {
            double g[9] = {0}; /* a signed permutation */
            for (int i = 0; i < 3; i++)
                g[3 * i + perms[p][i]] = (signs >> i) & 1 ? -1 : 1;
            double bg[9] = {0}, r[9] = {0}; /* R = E_b G E_s^T */
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 3; k++)
                        bg[3 * i + j] += b->axes[3 * i + k] * g[3 * k + j];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 3; k++)
                        r[3 * i + j] += bg[3 * i + k] * s_axes[3 * j + k];
            double det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) +
                         r[2] * (r[3] * r[7] - r[4] * r[6]);
            if (det < 0)
                continue;
            similarity *x = &out[n++];
            x->s = scale;
            memcpy(x->r, r, sizeof(r));
            for (int i = 0; i < 3; i++)
                x->t[i] = b->mean[i] - scale * (r[3 * i] * s_mean[0] + r[3 * i + 1] * s_mean[1] + r[3 * i + 2] * s_mean[2]);
        }
    return n;
}

static lds_status align(const lds_preview_base *b, const lds_mesh_model *s, similarity *best, double *rms_out)
{
    double s_mean[3], s_cov[9], s_eigen[3], s_axes[9];
    preview_moments(s, s_mean, s_cov);
    preview_eigen3(s_cov, s_eigen, s_axes);
    double st = s_eigen[0] + s_eigen[1] + s_eigen[2], bt = b->eigen[0] + b->eigen[1] + b->eigen[2];
    double scale = st > 0 && bt > 0 ? sqrt(bt / st) : 1;
    size_t max = FINE_SAMPLES > COARSE_SAMPLES ? FINE_SAMPLES : COARSE_SAMPLES;
    uint32_t *sample = malloc(max * sizeof(uint32_t));
    double *work = malloc(8 * max * sizeof(double));
    if (!sample || !work) {
        free(sample);
        free(work);
        return LDS_ENOMEM;
    }
    similarity cands[48];
    size_t n = candidates(b, s_mean, s_axes, s_eigen, scale, cands);
    size_t count = pick(s->vertex_count, COARSE_SAMPLES, sample);
    double best_rms = INFINITY;
    for (size_t c = 0; c < n; c++) {
        double rms = icp(b, s, sample, count, COARSE_ITERATIONS, &cands[c], work);
        if (rms < best_rms) {
            best_rms = rms;
            *best = cands[c];
        }
    }
    count = pick(s->vertex_count, FINE_SAMPLES, sample);
    *rms_out = icp(b, s, sample, count, FINE_ITERATIONS, best, work);
    free(sample);
    free(work);
    return LDS_OK;
}

lds_status lds_preview_measure(const lds_preview_base *base, const lds_mesh_model *suspect, double *responses,
                               lds_preview_alignment *info, lds_error *err)
{
    if (suspect->vertex_count < 3 * base->chips)
        return lds_error_set(err, LDS_ENOGEOM, "suspect: %zu vertices are too few to read a watermark",
                             suspect->vertex_count);
    similarity x;
    double rms = 0;
    if (align(base, suspect, &x, &rms) != LDS_OK)
        return lds_error_set(err, LDS_ENOMEM, "trace: out of memory");
    double *weight = calloc(base->chips, sizeof(double));
    if (weight == NULL)
        return lds_error_set(err, LDS_ENOMEM, "trace: out of memory");
    memset(responses, 0, base->chips * sizeof(double));
    double limit = MAX_OFFSET * base->diagonal;
    size_t used = 0;
    for (size_t v = 0; v < suspect->vertex_count; v++) {
        double q[3], d2;
        apply(&x, suspect->positions + 3 * v, q);
        long near = preview_grid_nearest(&base->grid, q, &d2);
        if (near < 0 || d2 > limit * limit)
            continue;
        const float *p = base->model->positions + 3 * (size_t)near;
        const double *n = base->direction + 3 * (size_t)near;
        double e = (q[0] - p[0]) * n[0] + (q[1] - p[1]) * n[1] + (q[2] - p[2]) * n[2];
        for (uint32_t i = base->weight_start[near]; i < base->weight_start[near + 1]; i++) {
            responses[base->weight_chip[i]] += base->weight_value[i] * e;
            weight[base->weight_chip[i]] += base->weight_value[i];
        }
        used++;
    }
    for (size_t k = 0; k < base->chips; k++)
        responses[k] = weight[k] > 0 ? responses[k] / weight[k] : 0;
    free(weight);
    if (info) {
        info->scale = x.s;
        info->residual = base->diagonal > 0 ? rms / base->diagonal : 0;
        info->used = used;
        info->vertices = suspect->vertex_count;
    }
    if (used < 3 * base->chips)
        return lds_error_set(err, LDS_ENOGEOM, "suspect: only %zu of its %zu vertices lie on the asset", used,
                             suspect->vertex_count);
    return LDS_OK;
}
