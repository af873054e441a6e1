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
    uint32_t *oversized;    /* triangles tested by every query */
    size_t oversized_count;
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

/* Builds the grid over s with cells of about `cell` (clamped so the grid stays within 2^20 cells a
 * side). Entries are placed by a counting sort over the hash buckets. */
static lds_status grid_build(grid *g, const surface *s, float cell)
{
    memset(g, 0, sizeof(*g));
    float lo[3], hi[3];
    bounds(s, lo, hi);
    float extent = fmaxf(hi[0] - lo[0], fmaxf(hi[1] - lo[1], hi[2] - lo[2]));
    if (!(cell > extent / 1048576.0f))
        cell = extent / 1048576.0f;
    if (!(cell > 0))
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
        element_cells(g, s, e, a, b);
        uint64_t cells = (uint64_t)(b[0] - a[0] + 1) * (uint64_t)(b[1] - a[1] + 1) * (uint64_t)(b[2] - a[2] + 1);
        if (cells > MAX_CELLS_PER_TRIANGLE) {
            oversized++;
            continue;
        }
        entry_count += cells;
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
        element_cells(g, s, e, a, b);
        uint64_t cells = (uint64_t)(b[0] - a[0] + 1) * (uint64_t)(b[1] - a[1] + 1) * (uint64_t)(b[2] - a[2] + 1);
        if (cells > MAX_CELLS_PER_TRIANGLE) {
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

static inline void visit_cell(grid *g, const surface *s, const float *p, int32_t x, int32_t y, int32_t z, float *best)
{
    uint32_t h = cell_hash(g, x, y, z);
    for (uint32_t i = g->bucket_start[h]; i < g->bucket_start[h + 1]; i++) {
        uint32_t e = g->entries[i];
        if (g->stamp[e] == g->query)
            continue;
        g->stamp[e] = g->query;
        float d = element_distance_sq(s, e, p, *best);
        if (d < *best)
            *best = d;
    }
}

/* Squared distance from p to the nearest element of s: rings of cells around p's cell, skipping
 * cells farther than the best so far, until no unvisited cell can be closer. */
static float grid_nearest_sq(grid *g, const surface *s, const float *p)
{
    if (++g->query == 0) {
        memset(g->stamp, 0, (s->element_count ? s->element_count : 1) * sizeof(uint32_t));
        g->query = 1;
    }
    float best = FLT_MAX;
    for (size_t i = 0; i < g->oversized_count; i++) {
        float d = element_distance_sq(s, g->oversized[i], p, best);
        if (d < best)
            best = d;
    }
    int32_t c[3];
    for (int k = 0; k < 3; k++)
        c[k] = cell_coord(g, p[k], k);
    int32_t max_ring = g->dims[0];
    if (g->dims[1] > max_ring)
        max_ring = g->dims[1];
    if (g->dims[2] > max_ring)
        max_ring = g->dims[2];
    for (int32_t r = 0; r <= max_ring; r++) {
        /* Every cell of ring r is at least (r - 1) cells away along some axis. */
        float bound = r > 0 ? (float)(r - 1) * g->cell : 0;
        if (bound * bound >= best)
            break;
        int32_t z0 = c[2] - r > 0 ? c[2] - r : 0, z1 = c[2] + r < g->dims[2] - 1 ? c[2] + r : g->dims[2] - 1;
        int32_t y0 = c[1] - r > 0 ? c[1] - r : 0, y1 = c[1] + r < g->dims[1] - 1 ? c[1] + r : g->dims[1] - 1;
        int32_t x0 = c[0] - r > 0 ? c[0] - r : 0, x1 = c[0] + r < g->dims[0] - 1 ? c[0] + r : g->dims[0] - 1;
        for (int32_t z = z0; z <= z1; z++) {
            float gz = axis_gap(g, p[2], z, 2);
            int zedge = (z == c[2] - r || z == c[2] + r);
            for (int32_t y = y0; y <= y1; y++) {
                float gy = axis_gap(g, p[1], y, 1);
                int yedge = zedge || (y == c[1] - r || y == c[1] + r);
                float gyz = gy * gy + gz * gz;
                if (gyz >= best)
                    continue;
                if (yedge) {
                    for (int32_t x = x0; x <= x1; x++) {
                        float gx = axis_gap(g, p[0], x, 0);
                        if (gx * gx + gyz < best)
                            visit_cell(g, s, p, x, y, z, &best);
                    }
                } else { /* interior row of the shell: only its two ends are on ring r */
                    int32_t xs[2] = {c[0] - r, c[0] + r};
                    for (int j = 0; j < (r > 0 ? 2 : 1); j++) {
                        int32_t x = xs[j];
                        if (x < 0 || x >= g->dims[0])
                            continue;
                        float gx = axis_gap(g, p[0], x, 0);
                        if (gx * gx + gyz < best)
                            visit_cell(g, s, p, x, y, z, &best);
                    }
                }
            }
        }
    }
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
static void point_distances(const float *points, size_t count, const surface *t, grid *g, double *max_sq,
                            double *sum)
{
    for (size_t i = 0; i < count; i++) {
        double d = grid_nearest_sq(g, t, points + 3 * i);
        *max_sq = d > *max_sq ? d : *max_sq;
        *sum += sqrt(d);
    }
}

static size_t sample_count(size_t elements, size_t cap)
{
    size_t n = elements * 2;
    return n < SAMPLES_MIN ? SAMPLES_MIN : n > cap ? cap : n;
}

/* A cell of about 1.5 mean edges of the grid's surface, but no smaller than half the coarser
 * one's: deviations of a simplification are of the order of the coarse edges. */
static float cell_size(const surface *grid_surface, double grid_area, const surface *query, double query_area,
                       float diag)
{
    double edge_grid, edge_query;
    if (grid_surface->indices == NULL || query->indices == NULL) {
        /* Points: spacing from the bbox, as if they covered its largest face. */
        edge_grid = diag / sqrt((double)(grid_surface->element_count ? grid_surface->element_count : 1));
        edge_query = diag / sqrt((double)(query->element_count ? query->element_count : 1));
    } else {
        edge_grid = 1.52 * sqrt(grid_area / (double)(grid_surface->element_count ? grid_surface->element_count : 1));
        edge_query = 1.52 * sqrt(query_area / (double)(query->element_count ? query->element_count : 1));
    }
    double cell = 1.5 * edge_grid;
    if (cell < 0.5 * edge_query)
        cell = 0.5 * edge_query;
    if (!(cell > 0))
        cell = diag > 0 ? diag / 64 : 1;
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
    double b_area;
    float cell;
    const float *samples;
    size_t sample_count;
    double max_sq, sum;
    lds_status status;
} other_side;

static void *other_side_run(void *arg)
{
    other_side *o = arg;
    grid g;
    double t0 = lds_time_ms();
    o->status = grid_build(&g, o->b, o->cell);
    double t1 = lds_time_ms();
    if (o->status == LDS_OK)
        point_distances(o->samples, o->sample_count, o->b, &g, &o->max_sq, &o->sum);
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
        if ((st = grid_build(ga, sa, cell_size(sa, area_a, sa, area_a, (float)ref->diag))) != LDS_OK)
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

    /* The two directions are independent: b's grid is built and queried on a second thread when
     * one starts, while this one queries the reference's grid. */
    other_side other = {&sb, area_b, cell_size(&sb, area_b, sa, area_a, (float)ref->diag), *a_samples,
                        *a_sample_count, 0, 0, LDS_OK};
    pthread_t thread;
    int threaded = pthread_create(&thread, NULL, other_side_run, &other) == 0;
    double max_sq = 0, sum = 0, t0 = lds_time_ms();
    point_distances(b_samples, b_sample_count, sa, ga, &max_sq, &sum);
    lds_log_debug("deviation: %zu samples on the reference grid %.0f ms", b_sample_count, lds_time_ms() - t0);
    if (threaded)
        pthread_join(thread, NULL);
    else
        other_side_run(&other);
    if ((st = other.status) != LDS_OK)
        goto out;
    max_sq = other.max_sq > max_sq ? other.max_sq : max_sq;
    size_t samples = b_sample_count + *a_sample_count;
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
