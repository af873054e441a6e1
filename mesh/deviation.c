/* deviation.c: how far one surface is from another, for the LOD errors in manifest.json.
 *
 * The measure is the symmetric Hausdorff distance of the two surfaces as estimated by Metro
 * (Cignoni, Rocchini & Scopigno 1998): points sampled uniformly by area on each surface, and for
 * each point the exact distance to the nearest triangle of the other surface (closest point on a
 * triangle after Ericson, "Real-Time Collision Detection" 5.1.5). Nearest triangles are found in a
 * uniform grid stored as a spatial hash (Teschner et al. 2003), visiting only the cells closer than
 * the best distance found so far; LOD deviations are far smaller than a cell, so a query touches one
 * cell or two. Sampling is systematic over the cumulative area with a fixed seed, so the same pair of
 * models always gives the same figure. Point clouds are compared point to point with the same grid.
 *
 * Bounded work whatever the geometry. One vertex flipped to 1e30 (a scan's outlier) must not
 * stretch the grid until the real surface sits in one cell, nor make a query walk millions of
 * empty rings. So the grid covers robust bounds (percentiles of a vertex sample, widened), and
 * its cell comes from the median edge of a sample, not the mean area that outlier slivers
 * dominate; elements reaching outside that box (and triangles spanning too many cells) go to a
 * list every query tests. A query outside the box adds its distance to the box to the ring bound
 * (the projection on a convex set is no farther from any point inside it). Every query has a
 * fixed work budget (cells visited plus elements tested): when it runs out the query keeps the
 * best distance found, an upper bound, so a pathological model gives a conservative figure in
 * bounded time, deterministically (no clocks).
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

#define SAMPLES_MIN 4096u
#define SAMPLES_MAX 65536u
#define MAX_CELLS_PER_TRIANGLE 512u /* bigger triangles are tested by every query instead */
#define QUERY_WORK_MAX 2048u        /* cells visited plus elements tested, per query */
#define MEASURE_WORK_PER_SAMPLE 128u /* mean budget per sample of one direction (typical: 25-30) */
#define MEASURE_WORK_MIN (1ull << 20)
#define SAMPLE_STRIDE 1000003u      /* a prime: samples are visited in this stride's order */
#define FALLBACK_ELEMENTS 64u       /* a query that found nothing in its budget tests this many */
#define ROBUST_SAMPLE 4096u         /* vertices (and triangles) sampled for the robust bounds and edge */
#define GRID_CELLS_PER_SIDE 1024.0f /* the robust extent is at most this many cells */

typedef struct surface {
    const float *positions;
    size_t vertex_count;
    const uint32_t *indices; /* NULL: the surface is the point set of its vertices */
    size_t element_count;    /* triangles, or points */
} surface;

typedef struct grid {
    float origin[3];
    float cell;            /* edge of a cubic cell */
    float inv_cell;
    int32_t dims[3];
    float last[3];         /* dims - 1, as floats */
    uint32_t bucket_mask;  /* buckets - 1 (a power of two) */
    uint32_t *bucket_start; /* bucket_mask + 2 entries */
    uint32_t *entries;      /* element ids, grouped by bucket */
    uint32_t *oversized;    /* elements tested by every query: too big, or reaching outside the box */
    size_t oversized_count;
    float box_lo[3], box_hi[3]; /* elements inside this box are in cells */
    uint32_t *stamp;        /* per element: last query that tested it */
    uint32_t query;
} grid;

static uint64_t rng_next(uint64_t *state) /* splitmix64 */
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float rng_unit(uint64_t *state)
{
    return (float)(rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

static double triangle_area(const float *a, const float *b, const float *c)
{
    double e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    double e2[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    double n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
    return 0.5 * sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
}

static double surface_area(const surface *s)
{
    double area = 0;
    for (size_t t = 0; t < s->element_count; t++) {
        const uint32_t *tri = s->indices + 3 * t;
        area += triangle_area(s->positions + 3 * tri[0], s->positions + 3 * tri[1], s->positions + 3 * tri[2]);
    }
    return area;
}

static void bounds(const surface *s, float lo[3], float hi[3])
{
    for (int k = 0; k < 3; k++) {
        lo[k] = FLT_MAX;
        hi[k] = -FLT_MAX;
    }
    for (size_t v = 0; v < s->vertex_count; v++)
        for (int k = 0; k < 3; k++) {
            float x = s->positions[3 * v + k];
            lo[k] = x < lo[k] ? x : lo[k];
            hi[k] = x > hi[k] ? x : hi[k];
        }
}

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Per axis, the 1st to 99th percentile of a strided sample of the vertices, widened by half its
 * extent each side and kept within the true bounds lo..hi: the box the grid covers. */
static lds_status robust_bounds(const surface *s, const float lo[3], const float hi[3], float box_lo[3],
                                float box_hi[3])
{
    size_t step = s->vertex_count / ROBUST_SAMPLE + 1, count = 0;
    float *values = malloc(3 * ROBUST_SAMPLE * sizeof(float));
    if (values == NULL)
        return LDS_ENOMEM;
    for (size_t v = 0; v < s->vertex_count && count < ROBUST_SAMPLE; v += step, count++)
        for (int k = 0; k < 3; k++)
            values[k * ROBUST_SAMPLE + count] = s->positions[3 * v + k];
    for (int k = 0; k < 3; k++) {
        float *axis = values + k * ROBUST_SAMPLE;
        qsort(axis, count, sizeof(float), compare_floats);
        float p1 = axis[count / 100], p99 = axis[count - 1 - count / 100];
        float widen = 0.5f * (p99 - p1);
        box_lo[k] = p1 - widen > lo[k] ? p1 - widen : lo[k];
        box_hi[k] = p99 + widen < hi[k] ? p99 + widen : hi[k];
        if (!(box_lo[k] <= box_hi[k]) || !isfinite(box_lo[k]) || !isfinite(box_hi[k]))
            box_lo[k] = box_hi[k] = isfinite(p1) ? p1 : 0;
    }
    free(values);
    return LDS_OK;
}

static int inside_box(const float *p, const float lo[3], const float hi[3])
{
    return p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1] && p[2] >= lo[2] && p[2] <= hi[2];
}

/* Whether element e lies wholly in the box (NaN coordinates do not). */
static int element_inside(const surface *s, size_t e, const float lo[3], const float hi[3])
{
    if (s->indices == NULL)
        return inside_box(s->positions + 3 * e, lo, hi);
    const uint32_t *tri = s->indices + 3 * e;
    for (int c = 0; c < 3; c++)
        if (!inside_box(s->positions + 3 * (size_t)tri[c], lo, hi))
            return 0;
    return 1;
}

/* The median edge length over a strided sample of the triangles inside the box (0 if none, or for
 * points: their typical spacing is estimated by the caller). */
static double median_edge(const surface *s, const float lo[3], const float hi[3])
{
    if (s->indices == NULL || s->element_count == 0)
        return 0;
    float *edges = malloc(3 * ROBUST_SAMPLE * sizeof(float));
    if (edges == NULL)
        return 0;
    size_t step = s->element_count / ROBUST_SAMPLE + 1, count = 0;
    for (size_t t = 0; t < s->element_count; t += step) {
        if (!element_inside(s, t, lo, hi))
            continue;
        const uint32_t *tri = s->indices + 3 * t;
        for (int c = 0; c < 3; c++) {
            const float *a = s->positions + 3 * (size_t)tri[c], *b = s->positions + 3 * (size_t)tri[(c + 1) % 3];
            double dx = (double)a[0] - b[0], dy = (double)a[1] - b[1], dz = (double)a[2] - b[2];
            double len = sqrt(dx * dx + dy * dy + dz * dz);
            if (len > 0)
                edges[count++] = (float)len;
        }
    }
    double median = 0;
    if (count) {
        qsort(edges, count, sizeof(float), compare_floats);
        median = edges[count / 2];
    }
    free(edges);
    return median;
}

/* The cell's linear index folded into the table: neighbouring cells land in neighbouring buckets,
 * which keeps building and querying cache-friendly; cells a table size apart share a bucket, which
 * only adds candidates. */
static inline uint32_t cell_hash(const grid *g, int32_t x, int32_t y, int32_t z)
{
    return (uint32_t)(((uint64_t)z * (uint64_t)g->dims[1] + (uint64_t)y) * (uint64_t)g->dims[0] + (uint64_t)x) &
           g->bucket_mask;
}

static inline int32_t cell_coord(const grid *g, float x, int k)
{
    float f = (x - g->origin[k]) * g->inv_cell;
    if (!(f >= 0))
        return 0;
    return f >= g->last[k] ? g->dims[k] - 1 : (int32_t)f;
}

/* The cell range [lo, hi] of element e's bounding box. */
static inline void element_cells(const grid *g, const surface *s, size_t e, int32_t lo[3], int32_t hi[3])
{
    if (s->indices == NULL) {
        for (int k = 0; k < 3; k++)
            lo[k] = hi[k] = cell_coord(g, s->positions[3 * e + k], k);
        return;
    }
    const uint32_t *tri = s->indices + 3 * e;
    const float *a = s->positions + 3 * (size_t)tri[0], *b = s->positions + 3 * (size_t)tri[1],
                *c = s->positions + 3 * (size_t)tri[2];
    for (int k = 0; k < 3; k++) {
        float mn = a[k] < b[k] ? a[k] : b[k], mx = a[k] < b[k] ? b[k] : a[k];
        mn = c[k] < mn ? c[k] : mn;
        mx = c[k] > mx ? c[k] : mx;
        lo[k] = cell_coord(g, mn, k);
        hi[k] = cell_coord(g, mx, k);
    }
}

static void grid_cleanup(grid *g)
{
    free(g->bucket_start);
    free(g->entries);
    free(g->oversized);
    free(g->stamp);
    memset(g, 0, sizeof(*g));
}

/* Whether element e goes to the list every query tests rather than into cells. */
static inline int element_oversized(const grid *g, const surface *s, size_t e, int32_t a[3], int32_t b[3])
{
    if (!element_inside(s, e, g->box_lo, g->box_hi))
        return 1;
    element_cells(g, s, e, a, b);
    uint64_t cells = (uint64_t)(b[0] - a[0] + 1) * (uint64_t)(b[1] - a[1] + 1) * (uint64_t)(b[2] - a[2] + 1);
    return cells > MAX_CELLS_PER_TRIANGLE;
}

/* Builds the grid over the robust box of s (box_lo..box_hi) with cells of about `cell` (at least
 * the box's extent / GRID_CELLS_PER_SIDE). Entries are placed by a counting sort over the hash
 * buckets. */
static lds_status grid_build(grid *g, const surface *s, const float box_lo[3], const float box_hi[3], float cell)
{
    memset(g, 0, sizeof(*g));
    const float *lo = box_lo, *hi = box_hi;
    memcpy(g->box_lo, box_lo, sizeof(g->box_lo));
    memcpy(g->box_hi, box_hi, sizeof(g->box_hi));
    float extent = fmaxf(hi[0] - lo[0], fmaxf(hi[1] - lo[1], hi[2] - lo[2]));
    if (!(cell > extent / GRID_CELLS_PER_SIDE))
        cell = extent / GRID_CELLS_PER_SIDE;
    if (!(cell > 0) || !isfinite(cell))
        cell = 1.0f;
    g->cell = cell;
    g->inv_cell = 1.0f / cell;
    for (int k = 0; k < 3; k++) {
        g->origin[k] = lo[k];
        g->dims[k] = (int32_t)((hi[k] - lo[k]) / cell) + 1;
        g->last[k] = (float)(g->dims[k] - 1);
    }
    size_t n = s->element_count;
    uint32_t buckets = 1024;
    uint64_t total_cells = (uint64_t)g->dims[0] * (uint64_t)g->dims[1] * (uint64_t)g->dims[2];
    while (buckets < total_cells && buckets < 2 * n && buckets < (1u << 30))
        buckets <<= 1;
    g->bucket_mask = buckets - 1;
    g->stamp = calloc(n ? n : 1, sizeof(uint32_t));
    g->bucket_start = calloc((size_t)buckets + 1, sizeof(uint32_t));
    if (g->stamp == NULL || g->bucket_start == NULL)
        return LDS_ENOMEM;

    /* Pass 1: count entries per bucket; pass 2: place them (counting sort). */
    uint64_t entry_count = 0;
    size_t oversized = 0;
    for (size_t e = 0; e < n; e++) {
        int32_t a[3], b[3];
        if (element_oversized(g, s, e, a, b)) {
            oversized++;
            continue;
        }
        entry_count += (uint64_t)(b[0] - a[0] + 1) * (uint64_t)(b[1] - a[1] + 1) * (uint64_t)(b[2] - a[2] + 1);
        for (int32_t z = a[2]; z <= b[2]; z++)
            for (int32_t y = a[1]; y <= b[1]; y++)
                for (int32_t x = a[0]; x <= b[0]; x++)
                    g->bucket_start[cell_hash(g, x, y, z) + 1]++;
    }
    if (entry_count > UINT32_MAX)
        return LDS_ELIMIT;
    g->entries = malloc((entry_count ? entry_count : 1) * sizeof(uint32_t));
    g->oversized = malloc((oversized ? oversized : 1) * sizeof(uint32_t));
    if (!g->entries || !g->oversized)
        return LDS_ENOMEM;
    for (uint32_t i = 0; i < buckets; i++)
        g->bucket_start[i + 1] += g->bucket_start[i];
    /* Fill using bucket_start[h] as the cursor, then shift back. */
    for (size_t e = 0; e < n; e++) {
        int32_t a[3], b[3];
        if (element_oversized(g, s, e, a, b)) {
            g->oversized[g->oversized_count++] = (uint32_t)e;
            continue;
        }
        for (int32_t z = a[2]; z <= b[2]; z++)
            for (int32_t y = a[1]; y <= b[1]; y++)
                for (int32_t x = a[0]; x <= b[0]; x++)
                    g->entries[g->bucket_start[cell_hash(g, x, y, z)]++] = (uint32_t)e;
    }
    for (uint32_t i = buckets; i > 0; i--)
        g->bucket_start[i] = g->bucket_start[i - 1];
    g->bucket_start[0] = 0;
    return LDS_OK;
}

/* Squared distance from p to triangle abc (Ericson 5.1.5, by Voronoi regions). */
static float point_triangle_sq(const float *p, const float *a, const float *b, const float *c)
{
    float ab[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    float ac[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    float ap[3] = {p[0] - a[0], p[1] - a[1], p[2] - a[2]};
    float d1 = ab[0] * ap[0] + ab[1] * ap[1] + ab[2] * ap[2];
    float d2 = ac[0] * ap[0] + ac[1] * ap[1] + ac[2] * ap[2];
    float q[3];
    if (d1 <= 0 && d2 <= 0) {
        memcpy(q, a, sizeof(q));
        goto done;
    }
    float bp[3] = {p[0] - b[0], p[1] - b[1], p[2] - b[2]};
    float d3 = ab[0] * bp[0] + ab[1] * bp[1] + ab[2] * bp[2];
    float d4 = ac[0] * bp[0] + ac[1] * bp[1] + ac[2] * bp[2];
    if (d3 >= 0 && d4 <= d3) {
        memcpy(q, b, sizeof(q));
        goto done;
    }
    float vc = d1 * d4 - d3 * d2;
    if (vc <= 0 && d1 >= 0 && d3 <= 0) {
        float v = d1 / (d1 - d3);
        for (int k = 0; k < 3; k++)
            q[k] = a[k] + v * ab[k];
        goto done;
    }
    float cp[3] = {p[0] - c[0], p[1] - c[1], p[2] - c[2]};
    float d5 = ab[0] * cp[0] + ab[1] * cp[1] + ab[2] * cp[2];
    float d6 = ac[0] * cp[0] + ac[1] * cp[1] + ac[2] * cp[2];
    if (d6 >= 0 && d5 <= d6) {
        memcpy(q, c, sizeof(q));
        goto done;
    }
    float vb = d5 * d2 - d1 * d6;
    if (vb <= 0 && d2 >= 0 && d6 <= 0) {
        float w = d2 / (d2 - d6);
        for (int k = 0; k < 3; k++)
            q[k] = a[k] + w * ac[k];
        goto done;
    }
    float va = d3 * d6 - d5 * d4;
    if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0) {
        float w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        for (int k = 0; k < 3; k++)
            q[k] = b[k] + w * (c[k] - b[k]);
        goto done;
    }
    float denom = va + vb + vc;
    if (!(denom != 0)) { /* degenerate triangle: distance to its first corner */
        memcpy(q, a, sizeof(q));
        goto done;
    }
    float v = vb / denom, w = vc / denom;
    for (int k = 0; k < 3; k++)
        q[k] = a[k] + ab[k] * v + ac[k] * w;
done:;
    float dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
    return dx * dx + dy * dy + dz * dz;
}

/* Squared distance from p to element e, or `best` when the element's bounding box is already
 * no closer than that (most candidates end there, for a fraction of the exact test). */
static inline float element_distance_sq(const surface *s, uint32_t e, const float *p, float best)
{
    if (s->indices == NULL) {
        const float *q = s->positions + 3 * (size_t)e;
        float dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
        return dx * dx + dy * dy + dz * dz;
    }
    const uint32_t *tri = s->indices + 3 * (size_t)e;
    const float *a = s->positions + 3 * (size_t)tri[0], *b = s->positions + 3 * (size_t)tri[1],
                *c = s->positions + 3 * (size_t)tri[2];
    float box = 0;
    for (int k = 0; k < 3; k++) {
        float lo = a[k] < b[k] ? a[k] : b[k], hi = a[k] < b[k] ? b[k] : a[k];
        lo = c[k] < lo ? c[k] : lo;
        hi = c[k] > hi ? c[k] : hi;
        float gap = p[k] < lo ? lo - p[k] : p[k] > hi ? p[k] - hi : 0;
        box += gap * gap;
    }
    if (box >= best)
        return best;
    return point_triangle_sq(p, a, b, c);
}

/* Distance along one axis from coordinate x to cell index i (0 inside it). */
static inline float axis_gap(const grid *g, float x, int32_t i, int k)
{
    float lo = g->origin[k] + (float)i * g->cell;
    if (x < lo)
        return lo - x;
    float hi = lo + g->cell;
    return x > hi ? x - hi : 0;
}

/* Tests the elements of cell (x, y, z); *work counts the cell and each element tested. */
static inline void visit_cell(grid *g, const surface *s, const float *p, int32_t x, int32_t y, int32_t z, float *best,
                              uint32_t *work)
{
    uint32_t h = cell_hash(g, x, y, z);
    for (uint32_t i = g->bucket_start[h]; i < g->bucket_start[h + 1] && *work < QUERY_WORK_MAX; i++) {
        uint32_t e = g->entries[i];
        if (g->stamp[e] == g->query)
            continue;
        g->stamp[e] = g->query;
        (*work)++;
        float d = element_distance_sq(s, e, p, *best);
        if (d < *best)
            *best = d;
    }
}

/* Tests the elements of the every-query list from *next on, while the work stays under limit. */
static void visit_oversized(grid *g, const surface *s, const float *p, size_t *next, uint32_t limit, float *best,
                            uint32_t *work)
{
    for (; *next < g->oversized_count && *work < limit; (*next)++, (*work)++) {
        float d = element_distance_sq(s, g->oversized[*next], p, *best);
        if (d < *best)
            *best = d;
    }
}

/* Squared distance from p to the grid's box (0 inside). */
static float box_gap_sq(const grid *g, const float *p)
{
    float sum = 0;
    for (int k = 0; k < 3; k++) {
        float hi = g->origin[k] + (float)g->dims[k] * g->cell;
        float gap = p[k] < g->origin[k] ? g->origin[k] - p[k] : p[k] > hi ? p[k] - hi : 0;
        sum += gap * gap;
    }
    return sum;
}

/* Visits the cells of ring r (Chebyshev distance r from cell c) closer than *best. */
static void visit_ring(grid *g, const surface *s, const float *p, const int32_t c[3], int32_t r, float *best,
                       uint32_t *work)
{
    int32_t z0 = c[2] - r > 0 ? c[2] - r : 0, z1 = c[2] + r < g->dims[2] - 1 ? c[2] + r : g->dims[2] - 1;
    int32_t y0 = c[1] - r > 0 ? c[1] - r : 0, y1 = c[1] + r < g->dims[1] - 1 ? c[1] + r : g->dims[1] - 1;
    int32_t x0 = c[0] - r > 0 ? c[0] - r : 0, x1 = c[0] + r < g->dims[0] - 1 ? c[0] + r : g->dims[0] - 1;
    for (int32_t z = z0; z <= z1 && *work < QUERY_WORK_MAX; z++) {
        float gz = axis_gap(g, p[2], z, 2);
        int zedge = (z == c[2] - r || z == c[2] + r);
        for (int32_t y = y0; y <= y1 && *work < QUERY_WORK_MAX; y++) {
            float gy = axis_gap(g, p[1], y, 1);
            int yedge = zedge || (y == c[1] - r || y == c[1] + r);
            float gyz = gy * gy + gz * gz;
            (*work)++; /* a row costs, and so does each cell of it considered */
            if (gyz >= *best)
                continue;
            if (yedge) {
                for (int32_t x = x0; x <= x1 && *work < QUERY_WORK_MAX; x++, (*work)++) {
                    float gx = axis_gap(g, p[0], x, 0);
                    if (gx * gx + gyz < *best)
                        visit_cell(g, s, p, x, y, z, best, work);
                }
            } else { /* interior row of the shell: only its two ends are on ring r */
                int32_t xs[2] = {c[0] - r, c[0] + r};
                for (int j = 0; j < (r > 0 ? 2 : 1); j++) {
                    int32_t x = xs[j];
                    if (x < 0 || x >= g->dims[0])
                        continue;
                    float gx = axis_gap(g, p[0], x, 0);
                    if (gx * gx + gyz < *best)
                        visit_cell(g, s, p, x, y, z, best, work);
                }
            }
        }
    }
}

/* Squared distance from p to the nearest element of s: half the budget on the every-query list,
 * then rings of cells around p's cell, skipping cells farther than the best so far, until no
 * unvisited cell can be closer or the budget is spent; then the rest of the list. A query that
 * found nothing within its budget tests a strided sample of the elements: an upper bound. */
static float grid_nearest_sq(grid *g, const surface *s, const float *p, uint32_t *work_out)
{
    if (++g->query == 0) {
        memset(g->stamp, 0, (s->element_count ? s->element_count : 1) * sizeof(uint32_t));
        g->query = 1;
    }
    float best = FLT_MAX;
    uint32_t work = 0;
    size_t next = 0;
    visit_oversized(g, s, p, &next, QUERY_WORK_MAX / 2, &best, &work);
    int32_t c[3];
    for (int k = 0; k < 3; k++)
        c[k] = cell_coord(g, p[k], k);
    int32_t max_ring = g->dims[0];
    if (g->dims[1] > max_ring)
        max_ring = g->dims[1];
    if (g->dims[2] > max_ring)
        max_ring = g->dims[2];
    float outside_sq = box_gap_sq(g, p);
    for (int32_t r = 0; r <= max_ring && work < QUERY_WORK_MAX; r++) {
        /* Every cell of ring r is at least (r - 1) cells from p's (clamped) cell along some axis. */
        float bound = r > 0 ? (float)(r - 1) * g->cell : 0;
        if (outside_sq + bound * bound >= best)
            break;
        visit_ring(g, s, p, c, r, &best, &work);
    }
    visit_oversized(g, s, p, &next, QUERY_WORK_MAX, &best, &work);
    if (best == FLT_MAX && s->element_count > 0) {
        size_t step = s->element_count / FALLBACK_ELEMENTS + 1;
        for (size_t e = 0; e < s->element_count; e += step) {
            float d = element_distance_sq(s, (uint32_t)e, p, best);
            if (d < best)
                best = d;
        }
        work += FALLBACK_ELEMENTS;
    }
    *work_out = work;
    return best;
}

/* Up to `count` points on s, uniform by area (systematic over the cumulative area with a seeded
 * offset), or every k-th point of a point set. Returns the number written to out (3 floats each). */
static size_t sample_points(const surface *s, double s_area, size_t count, float *out)
{
    uint64_t rng = 0x6c6f646573746f6eull; /* "lodeston" */
    size_t n = 0;
    if (s->indices == NULL) {
        size_t step = s->element_count / count + 1;
        for (size_t v = 0; v < s->element_count && n < count; v += step, n++)
            memcpy(out + 3 * n, s->positions + 3 * v, 3 * sizeof(float));
        return n;
    }
    if (!(s_area > 0))
        return 0;
    double step = s_area / (double)count;
    double next = step * rng_unit(&rng), acc = 0;
    for (size_t e = 0; e < s->element_count && n < count; e++) {
        const uint32_t *tri = s->indices + 3 * e;
        const float *a = s->positions + 3 * tri[0], *b = s->positions + 3 * tri[1], *c = s->positions + 3 * tri[2];
        acc += triangle_area(a, b, c);
        while (next < acc && n < count) {
            float r1 = sqrtf(rng_unit(&rng)), r2 = rng_unit(&rng);
            float wa = 1 - r1, wb = r1 * (1 - r2), wc = r1 * r2;
            for (int k = 0; k < 3; k++)
                out[3 * n + k] = wa * a[k] + wb * b[k] + wc * c[k];
            n++;
            next += step;
        }
    }
    return n;
}

/* Accumulates the distances of the points to t through grid g. */
static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Accumulates the distances of the points to t through grid g; returns how many were measured.
 * The points are visited in a strided order that spreads over the whole surface, and the
 * measurement stops when its work budget (MEASURE_WORK_PER_SAMPLE per point) is spent: a model on which every query is expensive is
 * measured on a spread-out subset of its samples (the sampled fallback) in bounded time. */
static size_t point_distances(const float *points, size_t count, const surface *t, grid *g, double *max_sq,
                              double *sum)
{
    size_t stride = count > 1 && gcd(SAMPLE_STRIDE % count, count) == 1 ? SAMPLE_STRIDE % count : 1;
    uint64_t total = 0, budget = MEASURE_WORK_MIN + (uint64_t)MEASURE_WORK_PER_SAMPLE * count;
    size_t done = 0;
    for (size_t j = 0, i = 0; j < count && total < budget; j++, done++) {
        uint32_t work;
        double d = grid_nearest_sq(g, t, points + 3 * i, &work);
        total += work;
        *max_sq = d > *max_sq ? d : *max_sq;
        *sum += sqrt(d);
        i = (i + stride) % count;
    }
    lds_log_debug("deviation: %zu of %zu samples measured, %.1f work each", done, count,
                  done ? (double)total / (double)done : 0.0);
    return done;
}

static size_t sample_count(size_t elements, size_t cap)
{
    size_t n = elements * 2;
    return n < SAMPLES_MIN ? SAMPLES_MIN : n > cap ? cap : n;
}

/* What a grid over a surface needs from it: the robust box and the typical edge (points: the
 * spacing they would have covering the box's largest face). */
typedef struct surface_scale {
    float box_lo[3], box_hi[3];
    double edge;
} surface_scale;

static lds_status scale_measure(const surface *s, surface_scale *scale)
{
    float lo[3], hi[3];
    bounds(s, lo, hi);
    if (robust_bounds(s, lo, hi, scale->box_lo, scale->box_hi) != LDS_OK)
        return LDS_ENOMEM;
    scale->edge = median_edge(s, scale->box_lo, scale->box_hi);
    if (!(scale->edge > 0)) {
        double diag = 0;
        for (int k = 0; k < 3; k++)
            diag += ((double)scale->box_hi[k] - scale->box_lo[k]) * ((double)scale->box_hi[k] - scale->box_lo[k]);
        scale->edge = sqrt(diag) / sqrt((double)(s->element_count ? s->element_count : 1));
    }
    return LDS_OK;
}

/* A cell of about 1.5 typical edges of the grid's surface, but no smaller than half the query
 * surface's: deviations of a simplification are of the order of the coarse edges. */
static float cell_size(const surface_scale *grid_side, const surface_scale *query_side)
{
    double cell = 1.5 * grid_side->edge;
    if (cell < 0.5 * query_side->edge)
        cell = 0.5 * query_side->edge;
    if (!(cell > 0) || !isfinite(cell))
        cell = 1;
    return (float)cell;
}

static void make_surface(const lds_mesh_model *m, int as_points, surface *s)
{
    s->positions = m->positions;
    s->vertex_count = m->vertex_count;
    s->indices = as_points ? NULL : m->indices;
    s->element_count = as_points ? m->vertex_count : m->index_count / 3;
}

/* The reference side, kept across measurements: its grids (as triangles and as points), its
 * samples, its diagonal. */
struct lds_mesh_deviation_ref {
    const lds_mesh_model *model;
    surface tris, points;
    double area;
    double diag;
    grid tri_grid, point_grid; /* built on first use */
    surface_scale tri_scale, point_scale;
    int tri_grid_built, point_grid_built;
    float *tri_samples, *point_samples;
    size_t tri_sample_count, point_sample_count;
    size_t max_samples;
};

lds_status lds_mesh_deviation_ref_create(const lds_mesh_model *a, lds_mesh_deviation_ref **out, lds_error *err)
{
    *out = NULL;
    if (a == NULL || a->vertex_count == 0 || a->positions == NULL)
        return lds_error_set(err, LDS_ENOGEOM, "deviation: the reference model has no vertices");
    lds_mesh_deviation_ref *ref = calloc(1, sizeof(*ref));
    if (ref == NULL)
        return lds_error_set(err, LDS_ENOMEM, "deviation: out of memory");
    ref->model = a;
    ref->max_samples = SAMPLES_MAX;
    make_surface(a, 1, &ref->points);
    make_surface(a, 0, &ref->tris);
    float lo[3], hi[3];
    bounds(&ref->points, lo, hi);
    ref->diag = sqrt((double)(hi[0] - lo[0]) * (hi[0] - lo[0]) + (double)(hi[1] - lo[1]) * (hi[1] - lo[1]) +
                     (double)(hi[2] - lo[2]) * (hi[2] - lo[2]));
    ref->area = a->index_count >= 3 ? surface_area(&ref->tris) : 0;
    if (scale_measure(&ref->points, &ref->point_scale) != LDS_OK ||
        (a->index_count >= 3 && scale_measure(&ref->tris, &ref->tri_scale) != LDS_OK)) {
        free(ref);
        return lds_error_set(err, LDS_ENOMEM, "deviation: out of memory");
    }
    *out = ref;
    return LDS_OK;
}

void lds_mesh_deviation_ref_destroy(lds_mesh_deviation_ref *ref)
{
    if (ref == NULL)
        return;
    grid_cleanup(&ref->tri_grid);
    grid_cleanup(&ref->point_grid);
    free(ref->tri_samples);
    free(ref->point_samples);
    free(ref);
}

void lds_mesh_deviation_ref_set_samples(lds_mesh_deviation_ref *ref, size_t max_samples)
{
    ref->max_samples = max_samples < SAMPLES_MIN ? SAMPLES_MIN : max_samples;
    free(ref->tri_samples);
    free(ref->point_samples);
    ref->tri_samples = ref->point_samples = NULL;
}

/* The other side of a measurement: b's grid, queried with the reference's samples. */
typedef struct other_side {
    const surface *b;
    const surface_scale *scale;
    float cell;
    const float *samples;
    size_t sample_count;
    double max_sq, sum;
    size_t measured;
    lds_status status;
} other_side;

static void *other_side_run(void *arg)
{
    other_side *o = arg;
    grid g;
    double t0 = lds_time_ms();
    o->status = grid_build(&g, o->b, o->scale->box_lo, o->scale->box_hi, o->cell);
    double t1 = lds_time_ms();
    if (o->status == LDS_OK)
        o->measured = point_distances(o->samples, o->sample_count, o->b, &g, &o->max_sq, &o->sum);
    lds_log_debug("deviation: grid on %zu elements %.0f ms, %zu samples %.0f ms", o->b->element_count, t1 - t0,
                  o->sample_count, lds_time_ms() - t1);
    grid_cleanup(&g);
    return NULL;
}

lds_status lds_mesh_deviation_measure(lds_mesh_deviation_ref *ref, const lds_mesh_model *b, double *max_error,
                                      double *mean_error, lds_error *err)
{
    if (ref == NULL || b == NULL || max_error == NULL)
        return lds_error_set(err, LDS_EINVAL, "deviation: missing model");
    *max_error = 0;
    if (mean_error)
        *mean_error = 0;
    if (b->vertex_count == 0 || b->positions == NULL)
        return lds_error_set(err, LDS_ENOGEOM, "deviation: the measured model has no vertices");
    int as_points = ref->model->index_count < 3 || b->index_count < 3;
    surface sb;
    make_surface(b, as_points, &sb);
    const surface *sa = as_points ? &ref->points : &ref->tris;
    double area_a = as_points ? 0 : ref->area, area_b = as_points ? 0 : surface_area(&sb);
    grid *ga = as_points ? &ref->point_grid : &ref->tri_grid;
    int *built = as_points ? &ref->point_grid_built : &ref->tri_grid_built;
    const surface_scale *scale_a = as_points ? &ref->point_scale : &ref->tri_scale;
    surface_scale scale_b;
    float **a_samples = as_points ? &ref->point_samples : &ref->tri_samples;
    size_t *a_sample_count = as_points ? &ref->point_sample_count : &ref->tri_sample_count;
    lds_status st = LDS_OK;
    float *b_samples = NULL;

    /* The reference's samples and grid are made once, on first use. */
    if (*a_samples == NULL) {
        size_t count = sample_count(sa->element_count, ref->max_samples);
        if ((*a_samples = malloc(count * 3 * sizeof(float))) == NULL) {
            st = LDS_ENOMEM;
            goto out;
        }
        *a_sample_count = sample_points(sa, area_a, count, *a_samples);
    }
    if (!*built) {
        double t0 = lds_time_ms();
        /* cells sized for the reference alone, so the grid serves every level */
        if ((st = grid_build(ga, sa, scale_a->box_lo, scale_a->box_hi, cell_size(scale_a, scale_a))) != LDS_OK)
            goto out;
        *built = 1;
        lds_log_debug("deviation: reference grid on %zu elements %.0f ms", sa->element_count, lds_time_ms() - t0);
    }
    size_t count = sample_count(sb.element_count, ref->max_samples);
    if ((b_samples = malloc(count * 3 * sizeof(float))) == NULL) {
        st = LDS_ENOMEM;
        goto out;
    }
    size_t b_sample_count = sample_points(&sb, area_b, count, b_samples);
    if ((st = scale_measure(&sb, &scale_b)) != LDS_OK)
        goto out;

    /* The two directions are independent: b's grid is built and queried on a second thread when
     * one starts, while this one queries the reference's grid. */
    other_side other = {&sb, &scale_b, cell_size(&scale_b, scale_a), *a_samples,
                        *a_sample_count, 0, 0, 0, LDS_OK};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, other_side_run, &other) == 0;
    double max_sq = 0, sum = 0, t0 = lds_time_ms();
    size_t measured = point_distances(b_samples, b_sample_count, sa, ga, &max_sq, &sum);
    lds_log_debug("deviation: %zu samples on the reference grid %.0f ms", b_sample_count, lds_time_ms() - t0);
    if (threaded)
        pthread_join(thread, NULL);
    else
        other_side_run(&other);
    if ((st = other.status) != LDS_OK)
        goto out;
    max_sq = other.max_sq > max_sq ? other.max_sq : max_sq;
    size_t samples = measured + other.measured;
    if (ref->diag > 0) {
        *max_error = sqrt(max_sq) / ref->diag;
        if (mean_error && samples)
            *mean_error = (sum + other.sum) / (double)samples / ref->diag;
    }
out:
    free(b_samples);
    if (st != LDS_OK)
        return lds_error_set(err, st, "deviation: %s while building the search grid", lds_status_message(st));
    return LDS_OK;
}

lds_status lds_mesh_deviation(const lds_mesh_model *a, const lds_mesh_model *b, double *max_error,
                              double *mean_error, lds_error *err)
{
    if (a == NULL || b == NULL || max_error == NULL)
        return lds_error_set(err, LDS_EINVAL, "deviation: missing model");
    lds_mesh_deviation_ref *ref = NULL;
    lds_status st = lds_mesh_deviation_ref_create(a, &ref, err);
    if (st == LDS_OK)
        st = lds_mesh_deviation_measure(ref, b, max_error, mean_error, err);
    lds_mesh_deviation_ref_destroy(ref);
    return st;
}
