/*
 * preview.c: the base of a protected preview and its forensic watermark (sandbox.h, DESIGN.md
 * 6.7). Non-blind spread-spectrum watermarking of meshes in the spirit of Praun, Hoppe and
 * Finkelstein, "Robust mesh watermarking" (SIGGRAPH 1999): smooth, localised basis functions on
 * the surface, each displaced along the normals by a +-1 chip of the key; detection compares the
 * suspect with the original and correlates per basis function.
 *
 * Here the basis functions are a partition of unity over K seeds chosen by farthest-point
 * sampling on the base's vertices: w_k(x) = b_k(x) / sum_j b_j(x) with the bump
 * b_k(x) = (1 - (d/R)^2)^2 for d = |x - seed_k| < R, R = 1.5 times the covering radius. The
 * displacement alpha * sum_k c_k w_k(x) is smooth (its slope is about alpha / R), and alpha is a
 * few grid steps so that snapping to the grid again leaves it intact on average over the
 * vertices of each seed.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_internal.h"

#define DEFAULT_MAX_TRIANGLES 20000
#define DEFAULT_MAX_TEXTURE 512
#define DEFAULT_POSITION_BITS 11
#define DEFAULT_STRENGTH 1.5
#define MAX_CHIPS 256
#define MIN_CHIPS 16
#define VERTICES_PER_CHIP 40
#define SUPPORT_FACTOR 1.5

/* ---- the coarse grid ---- */

static void snap(const lds_preview_base *b, float *p)
{
    for (int a = 0; a < 3; a++)
        p[a] = (float)(b->origin[a] + b->step * nearbyint((p[a] - b->origin[a]) / b->step));
}

static void grid_setup(lds_preview_base *b, int bits)
{
    const lds_mesh_model *m = b->model;
    double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t v = 0; v < m->vertex_count; v++)
        for (int a = 0; a < 3; a++) {
            lo[a] = fmin(lo[a], m->positions[3 * v + a]);
            hi[a] = fmax(hi[a], m->positions[3 * v + a]);
        }
    double extent = fmax(hi[0] - lo[0], fmax(hi[1] - lo[1], hi[2] - lo[2]));
    memcpy(b->origin, lo, sizeof(lo));
    b->step = extent > 0 ? extent / (double)((1u << bits) - 1) : 1.0;
    b->diagonal = sqrt((hi[0] - lo[0]) * (hi[0] - lo[0]) + (hi[1] - lo[1]) * (hi[1] - lo[1]) +
                       (hi[2] - lo[2]) * (hi[2] - lo[2]));
}

/* Area-weighted vertex normals of the (snapped) base: the watermark's directions. */
static lds_status directions(lds_preview_base *b)
{
    const lds_mesh_model *m = b->model;
    b->direction = calloc(3 * m->vertex_count, sizeof(double));
    if (b->direction == NULL)
        return LDS_ENOMEM;
    for (size_t t = 0; t + 2 < m->index_count; t += 3) {
        const float *p0 = m->positions + 3 * m->indices[t], *p1 = m->positions + 3 * m->indices[t + 1],
                    *p2 = m->positions + 3 * m->indices[t + 2];
        double e1[3] = {p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]};
        double e2[3] = {p2[0] - p0[0], p2[1] - p0[1], p2[2] - p0[2]};
        double n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
        for (int c = 0; c < 3; c++)
            for (int a = 0; a < 3; a++)
                b->direction[3 * m->indices[t + c] + a] += n[a];
    }
    for (size_t v = 0; v < m->vertex_count; v++) {
        double *d = b->direction + 3 * v;
        double len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        for (int a = 0; a < 3; a++)
            d[a] = len > 0 ? d[a] / len : 0;
    }
    return LDS_OK;
}

/* ---- the basis: seeds by farthest-point sampling, then per-vertex weights (CSR) ---- */

static double dist2(const float *a, const float *b)
{
    double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
    return dx * dx + dy * dy + dz * dz;
}

static lds_status basis(lds_preview_base *b, uint32_t *seeds, double *radius)
{
    const lds_mesh_model *m = b->model;
    size_t n = m->vertex_count;
    double *nearest = malloc(n * sizeof(double));
    if (nearest == NULL)
        return LDS_ENOMEM;
    for (size_t v = 0; v < n; v++)
        nearest[v] = INFINITY;
    uint32_t next = 0;
    for (size_t k = 0; k < b->chips; k++) {
        seeds[k] = next;
        double far = -1;
        for (size_t v = 0; v < n; v++) {
            double d = dist2(m->positions + 3 * v, m->positions + 3 * (size_t)seeds[k]);
            if (d < nearest[v])
                nearest[v] = d;
            if (nearest[v] > far) {
                far = nearest[v];
                next = (uint32_t)v;
            }
        }
    }
    double cover = 0;
    for (size_t v = 0; v < n; v++)
        cover = fmax(cover, nearest[v]);
    free(nearest);
    *radius = SUPPORT_FACTOR * sqrt(cover);
    if (*radius <= 0)
        *radius = b->step;
    return LDS_OK;
}

static lds_status weights(lds_preview_base *b, const uint32_t *seeds, double radius)
{
    const lds_mesh_model *m = b->model;
    size_t n = m->vertex_count, used = 0, capacity = n * 4;
    b->weight_start = malloc((n + 1) * sizeof(uint32_t));
    b->weight_chip = malloc(capacity * sizeof(uint32_t));
    b->weight_value = malloc(capacity * sizeof(float));
    if (!b->weight_start || !b->weight_chip || !b->weight_value)
        return LDS_ENOMEM;
    double r2 = radius * radius;
    for (size_t v = 0; v < n; v++) {
        b->weight_start[v] = (uint32_t)used;
        size_t first = used;
        double total = 0;
        for (size_t k = 0; k < b->chips; k++) {
            double d = dist2(m->positions + 3 * v, m->positions + 3 * (size_t)seeds[k]) / r2;
            if (d >= 1)
                continue;
            if (used == capacity) {
                capacity *= 2;
                uint32_t *c = realloc(b->weight_chip, capacity * sizeof(uint32_t));
                if (c)
                    b->weight_chip = c;
                float *w = realloc(b->weight_value, capacity * sizeof(float));
                if (w)
                    b->weight_value = w;
                if (!c || !w)
                    return LDS_ENOMEM;
            }
            double bump = (1 - d) * (1 - d);
            b->weight_chip[used] = (uint32_t)k;
            b->weight_value[used++] = (float)bump;
            total += bump;
        }
        for (size_t i = first; i < used; i++)
            b->weight_value[i] = (float)(b->weight_value[i] / total);
    }
    b->weight_start[n] = (uint32_t)used;
    return LDS_OK;
}

/* ---- the base ---- */

/* Texture slots over the cap (or of unknown size) are emptied, leaving the material's factors;
 * material extensions go too (their textures would escape the cap). */
static void cap_textures(lds_mesh_model *m, int max_texture)
{
    for (size_t i = 0; i < m->material_count; i++) {
        lds_mesh_material *mat = &m->materials[i];
        for (int k = 0; k < LDS_MESH_MAP_COUNT; k++) {
            int t = mat->maps[k].texture;
            if (t < 0 || (size_t)t >= m->texture_count)
                continue;
            const lds_mesh_texture *tex = &m->textures[t];
            if (tex->width <= 0 || tex->height <= 0 || tex->width > max_texture || tex->height > max_texture)
                mat->maps[k].texture = -1;
        }
        free(mat->extensions);
        mat->extensions = NULL;
    }
}

static lds_status base_model(const lds_mesh_model *lod, const lds_preview_params *p, lds_mesh_model **out,
                             lds_error *err)
{
    *out = NULL;
    if (lod->index_count < 3)
        return lds_error_set(err, LDS_ENOGEOM, "preview: the model has no triangles");
    if (lds_mesh_triangle_count(lod) > p->max_triangles)
        return lds_mesh_simplify(lod, p->max_triangles, out, NULL, err);
    *out = lds_mesh_model_clone(lod);
    return *out ? LDS_OK : lds_error_set(err, LDS_ENOMEM, "preview: out of memory");
}

lds_status lds_preview_base_create(const lds_mesh_model *lod, const lds_preview_params *params,
                                   lds_preview_base **out, lds_error *err)
{
    *out = NULL;
    lds_preview_params p = params ? *params : (lds_preview_params){0};
    p.max_triangles = p.max_triangles ? p.max_triangles : DEFAULT_MAX_TRIANGLES;
    p.max_texture = p.max_texture > 0 ? p.max_texture : DEFAULT_MAX_TEXTURE;
    p.position_bits = p.position_bits > 0 ? p.position_bits : DEFAULT_POSITION_BITS;
    p.strength = p.strength > 0 ? p.strength : DEFAULT_STRENGTH;
    if (p.position_bits < 6 || p.position_bits > 16)
        return lds_error_set(err, LDS_EINVAL, "preview: position bits %d outside 6..16", p.position_bits);
    lds_preview_base *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return lds_error_set(err, LDS_ENOMEM, "preview: out of memory");
    lds_status st = base_model(lod, &p, &b->model, err);
    uint32_t *seeds = NULL;
    if (st == LDS_OK) {
        cap_textures(b->model, p.max_texture);
        grid_setup(b, p.position_bits);
        b->amplitude = p.strength * b->step;
        for (size_t v = 0; v < b->model->vertex_count; v++)
            snap(b, b->model->positions + 3 * v);
        size_t chips = b->model->vertex_count / VERTICES_PER_CHIP;
        b->chips = chips < MIN_CHIPS ? MIN_CHIPS : chips > MAX_CHIPS ? MAX_CHIPS : chips;
        if (b->chips > b->model->vertex_count)
            st = lds_error_set(err, LDS_ENOGEOM, "preview: %zu vertices are too few to carry a watermark",
                               b->model->vertex_count);
    }
    double radius = 0, mean[3], cov[9];
    if (st == LDS_OK && ((seeds = malloc(b->chips * sizeof(uint32_t))) == NULL || directions(b) != LDS_OK ||
                         basis(b, seeds, &radius) != LDS_OK || weights(b, seeds, radius) != LDS_OK ||
                         preview_grid_build(&b->grid, b->model->positions, b->model->vertex_count) != LDS_OK))
        st = lds_error_set(err, LDS_ENOMEM, "preview: out of memory");
    free(seeds);
    if (st == LDS_OK) {
        preview_moments(b->model, mean, cov);
        memcpy(b->mean, mean, sizeof(mean));
        preview_eigen3(cov, b->eigen, b->axes);
        *out = b;
        return LDS_OK;
    }
    lds_preview_base_destroy(b);
    return st;
}

void lds_preview_base_destroy(lds_preview_base *base)
{
    if (base == NULL)
        return;
    lds_mesh_model_destroy(base->model);
    free(base->direction);
    free(base->weight_start);
    free(base->weight_chip);
    free(base->weight_value);
    preview_grid_cleanup(&base->grid);
    free(base);
}

const lds_mesh_model *lds_preview_base_model(const lds_preview_base *base)
{
    return base->model;
}

size_t lds_preview_base_chips(const lds_preview_base *base)
{
    return base->chips;
}

double lds_preview_base_step(const lds_preview_base *base)
{
    return base->step;
}

double lds_preview_base_amplitude(const lds_preview_base *base)
{
    return base->amplitude;
}

/* ---- chips, embedding, scores ---- */

/* c_k = +-1 from bit k of SHA-256(seed || counter) blocks. */
static void chips_of(const unsigned char seed[LDS_PREVIEW_SEED_BYTES], size_t count, signed char *chips)
{
    unsigned char block[LDS_SHA256_BYTES];
    for (size_t k = 0; k < count; k++) {
        if (k % 256 == 0) {
            unsigned char input[LDS_PREVIEW_SEED_BYTES + 4];
            memcpy(input, seed, LDS_PREVIEW_SEED_BYTES);
            uint32_t counter = (uint32_t)(k / 256);
            for (int i = 0; i < 4; i++)
                input[LDS_PREVIEW_SEED_BYTES + i] = (unsigned char)(counter >> (8 * i));
            lds_sha256_buffer(input, sizeof(input), block);
        }
        size_t bit = k % 256;
        chips[k] = (block[bit / 8] >> (bit % 8)) & 1 ? 1 : -1;
    }
}

lds_status lds_preview_embed(const lds_preview_base *base, const unsigned char seed[LDS_PREVIEW_SEED_BYTES],
                             lds_mesh_model **out, lds_error *err)
{
    signed char chips[MAX_CHIPS];
    chips_of(seed, base->chips, chips);
    lds_mesh_model *m = lds_mesh_model_clone(base->model);
    if (m == NULL)
        return lds_error_set(err, LDS_ENOMEM, "preview: out of memory");
    for (size_t v = 0; v < m->vertex_count; v++) {
        double d = 0;
        for (uint32_t i = base->weight_start[v]; i < base->weight_start[v + 1]; i++)
            d += chips[base->weight_chip[i]] * (double)base->weight_value[i];
        float *p = m->positions + 3 * v;
        for (int a = 0; a < 3; a++)
            p[a] = (float)(p[a] + base->amplitude * d * base->direction[3 * v + a]);
        snap(base, p);
    }
    *out = m;
    return LDS_OK;
}

double lds_preview_score(const lds_preview_base *base, const double *responses,
                         const unsigned char seed[LDS_PREVIEW_SEED_BYTES])
{
    signed char chips[MAX_CHIPS];
    chips_of(seed, base->chips, chips);
    double mean = 0;
    for (size_t k = 0; k < base->chips; k++)
        mean += responses[k];
    mean /= (double)base->chips;
    double dot = 0, norm = 0;
    for (size_t k = 0; k < base->chips; k++) {
        double r = responses[k] - mean;
        dot += chips[k] * r;
        norm += r * r;
    }
    return norm > 0 ? dot / sqrt(norm) : 0;
}

double lds_preview_p_value(double score, size_t tests)
{
    if (score <= 0)
        return 1;
    double p = exp(-score * score / 2) * (double)(tests ? tests : 1);
    return p < 1 ? p : 1;
}
