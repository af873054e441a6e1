/* lod_chain.c: the LOD chain's policy (mesh.h): which simplified levels are worth keeping and
 * when the chain must end instead of breaking a level.
 *
 * As gltfpack does, the chain never forces a level: each level is simplified from the previous one
 * with meshopt's error bound set to what is left of the budget, and sloppy clustering only where it
 * cannot smear attributes (lod.c). A level is kept when
 *   1. it removes at least min_reduction of the previous level's triangles (a level that barely
 *      shrinks is not worth a download: simplification stalled on seams, borders or the bound), and
 *   2. its measured error, the sampled Hausdorff distance to LOD0 relative to LOD0's diagonal
 *      (deviation.c), stays within max_error. A point cloud's error is its sampling gap, which a
 *      viewer covers with larger points: point clouds are measured but not held to the budget.
 * Otherwise the chain ends and the reason says which rule stopped it.
 *
 * Screen coverage: a model whose diagonal spans a share c of a viewport h pixels high shows an error
 * e (relative to the diagonal) as e * c * h pixels, so the level is good to one pixel while
 * c <= 1 / (e * h). */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

struct lds_mesh_chain {
    const lds_mesh_model *lod0;
    lds_mesh_chain_options options;
    lds_mesh_deviation_ref *ref; /* LOD0's sampled surface, built on the first measurement */
    size_t level;                /* levels returned so far */
    double last_error, last_coverage;
    char end_reason[384];
};

static size_t size_of(const lds_mesh_model *m)
{
    size_t triangles = lds_mesh_triangle_count(m);
    return triangles ? triangles : m->vertex_count;
}

lds_status lds_mesh_chain_create(const lds_mesh_model *lod0, const lds_mesh_chain_options *options,
                                 lds_mesh_chain **out, lds_error *err)
{
    assert(lod0 != NULL && out != NULL);
    *out = NULL;
    lds_mesh_chain *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return lds_error_set(err, LDS_ENOMEM, "LOD chain: out of memory");
    if (options)
        c->options = *options;
    if (!(c->options.max_error > 0))
        c->options.max_error = LDS_MESH_CHAIN_MAX_ERROR;
    if (!(c->options.min_reduction > 0 && c->options.min_reduction < 1))
        c->options.min_reduction = LDS_MESH_CHAIN_MIN_REDUCTION;
    if (c->options.viewport_height <= 0)
        c->options.viewport_height = LDS_MESH_CHAIN_VIEWPORT;
    c->lod0 = lod0;
    c->last_coverage = 1.0;
    lds_status st = lds_mesh_deviation_ref_create(lod0, &c->ref, err);
    if (st != LDS_OK) {
        free(c);
        return st;
    }
    *out = c;
    return LDS_OK;
}

void lds_mesh_chain_destroy(lds_mesh_chain *chain)
{
    if (chain == NULL)
        return;
    lds_mesh_deviation_ref_destroy(chain->ref);
    free(chain);
}

const char *lds_mesh_chain_end_reason(const lds_mesh_chain *chain)
{
    return chain->end_reason;
}

const lds_mesh_chain_options *lds_mesh_chain_get_options(const lds_mesh_chain *chain)
{
    return &chain->options;
}

/* Why simplification stalled, for the reason: what holds the collapses back. */
static const char *stall_cause(const lds_mesh_model *m, const lds_mesh_chain_options *o)
{
    if (lds_mesh_sloppy_allowed(m, o->sloppy))
        return "the error budget";
    if (m->uvs)
        return "UV seams and the error budget (no sloppy clustering on a textured model)";
    if (m->submesh_count > 1)
        return "material borders and the error budget (no sloppy clustering across materials)";
    return "the error budget (no sloppy clustering on a model with normals or colours)";
}

static lds_status chain_end(lds_mesh_chain *c, lds_mesh_model **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static lds_status chain_end(lds_mesh_chain *c, lds_mesh_model **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->end_reason, sizeof(c->end_reason), fmt, ap);
    va_end(ap);
    lds_mesh_model_destroy(*out);
    *out = NULL;
    return LDS_OK;
}

lds_status lds_mesh_chain_next(lds_mesh_chain *c, const lds_mesh_model *previous, size_t target,
                               lds_mesh_model **out, lds_mesh_chain_level *level, lds_error *err)
{
    assert(c != NULL && previous != NULL && out != NULL && level != NULL);
    *out = NULL;
    memset(level, 0, sizeof(*level));
    if (c->end_reason[0])
        return LDS_OK;
    const lds_mesh_chain_options *o = &c->options;
    size_t before = size_of(previous), index = c->level + 1;
    const char *unit = lds_mesh_triangle_count(previous) ? "triangles" : "points";
    if (target < 1 || target >= before)
        return chain_end(c, out, "level %zu: %zu %s cannot be simplified to %zu", index, before, unit, target);

    /* 1. simplify, no collapse past the budget (meshopt's estimate, against the previous level) */
    double t = lds_time_ms();
    lds_mesh_simplify_options so = {o->max_error, o->sloppy};
    lds_status st = lds_mesh_simplify_with(previous, target, &so, out, NULL, err);
    level->simplify_ms = lds_time_ms() - t;
    if (st == LDS_ENOGEOM)
        return chain_end(c, out, "level %zu: %zu %s cannot be simplified further", index, before, unit);
    if (st != LDS_OK)
        return st;

    /* 2. worth a download? */
    size_t after = size_of(*out);
    if ((double)after > (1.0 - o->min_reduction) * (double)before)
        return chain_end(c, out,
                         "level %zu: simplification stalled at %zu of %zu %s (target %zu), held by %s; "
                         "a level must remove at least %.0f%%",
                         index, after, before, unit, target, stall_cause(previous, o), o->min_reduction * 100);

    /* 3. faithful enough? */
    t = lds_time_ms();
    double error = 0;
    st = lds_mesh_deviation_measure(c->ref, *out, &error, NULL, err);
    level->measure_ms = lds_time_ms() - t;
    if (st != LDS_OK) {
        lds_mesh_model_destroy(*out);
        *out = NULL;
        return st;
    }
    if (error > o->max_error && lds_mesh_triangle_count(previous) > 0)
        return chain_end(c, out, "level %zu: %zu %s would deviate %.2f%% of the diagonal from LOD0, over the budget "
                         "of %.2f%%", index, after, unit, error * 100, o->max_error * 100);

    /* 4. kept: its screen coverage */
    double coverage = error > 0 ? 1.0 / (error * o->viewport_height) : 1.0;
    if (coverage > c->last_coverage)
        coverage = c->last_coverage;
    level->error = error;
    level->screen_coverage = coverage;
    c->last_error = error;
    c->last_coverage = coverage;
    c->level = index;
    return LDS_OK;
}
