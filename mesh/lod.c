/* lod.c: the primitives of the LOD chain: optimising a model for the GPU, and simplifying it.
 *
 * Optimisation is per submesh: vertex cache order (meshopt_optimizeVertexCache, Kapoulkine's
 * variant of Forsyth 2006), then vertex fetch order (vertices renumbered by first use, unused ones
 * dropped). Point clouds are sorted along a space-filling curve (meshopt_spatialSortRemap), which
 * is what makes them compress.
 *
 * Simplification is edge collapse under quadric error metrics (Garland & Heckbert 1997) as
 * meshoptimizer 0.18 implements it. All triangle submeshes go to meshopt_simplify in one index
 * buffer: it finds vertices that share a position but differ in attributes (UV seams, and material
 * boundaries, where two submeshes' vertices coincide) and only collapses them in pairs along the
 * seam, so seams stay closed, and the error budget goes where the error is smallest whatever the
 * submesh. Each collapse keeps an endpoint, and a seam's partner vertex is taken from the same
 * submesh, so every triangle stays inside one submesh's vertex range (checked when splitting).
 * When topology (or the error bound) stops it short of the target, and only where sloppy
 * clustering is allowed (lds_mesh_sloppy_allowed: a bare surface such as an untextured scan, or an
 * explicit choice), each submesh over its proportional share goes through meshopt_simplifySloppy
 * (vertex clustering, Rossignac & Borrel 1993), which always gets there; on a model with UVs,
 * normals, colours or several materials it would smear them across the surface, so the result
 * stays where the precise simplifier stopped (the chain policy in lod_chain.c then ends the chain).
 * Point clouds go through meshopt_simplifyPoints with the same fraction.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <meshoptimizer.h>

#include "mesh.h"
#include "mesh_internal.h"

/* The new content of one source submesh, in indices local to its source vertex range. */
typedef struct part {
    uint32_t *indices; /* triangles (owned) */
    size_t index_count;
    uint32_t *points;  /* point clouds: kept vertices (owned) */
    size_t point_count;
    int is_points;
} part;

static void parts_free(part *parts, size_t count)
{
    for (size_t i = 0; parts && i < count; i++) {
        free(parts[i].indices);
        free(parts[i].points);
    }
    free(parts);
}

static char *dup_string(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Copies materials, textures and the scene (deep). */
static lds_status copy_materials(lds_mesh_model *dst, const lds_mesh_model *src)
{
    if (src->material_count) {
        dst->materials = calloc(src->material_count, sizeof(lds_mesh_material));
        if (dst->materials == NULL)
            return LDS_ENOMEM;
        for (size_t i = 0; i < src->material_count; i++, dst->material_count++)
            if (lds_mesh_material_copy(&dst->materials[i], &src->materials[i]) != LDS_OK)
                return LDS_ENOMEM;
    }
    if (src->texture_count) {
        dst->textures = calloc(src->texture_count, sizeof(lds_mesh_texture));
        if (dst->textures == NULL)
            return LDS_ENOMEM;
        dst->texture_count = src->texture_count;
        for (size_t i = 0; i < src->texture_count; i++) {
            const lds_mesh_texture *t = &src->textures[i];
            dst->textures[i] = *t;
            dst->textures[i].name = dup_string(t->name);
            dst->textures[i].data = NULL;
            if (t->data && t->size) {
                if ((dst->textures[i].data = malloc(t->size)) == NULL)
                    return LDS_ENOMEM;
                memcpy(dst->textures[i].data, t->data, t->size);
            }
            if (t->name && !dst->textures[i].name)
                return LDS_ENOMEM;
        }
    }
    if (src->scene && (dst->scene = strdup(src->scene)) == NULL)
        return LDS_ENOMEM;
    return LDS_OK;
}

/* Builds dst's geometry from src and the parts: per submesh, vertex cache order, then vertices
 * renumbered in first-use order with unused ones dropped (or spatially sorted for point clouds).
 * Empty submeshes are dropped. Takes the parts' index arrays over (reorders them in place). */
/* Drops triangles two of whose corners share a position (simplification can collapse a triangle
 * across a seam, and the sloppy simplifier makes such slivers): encoders such as Draco refuse them
 * and they draw nothing. positions are the submesh's own. Returns the new index count. */
static size_t drop_degenerate(const float *positions, uint32_t *indices, size_t index_count)
{
    size_t kept = 0;
    for (size_t i = 0; i + 2 < index_count; i += 3) {
        const float *a = positions + 3 * (size_t)indices[i], *b = positions + 3 * (size_t)indices[i + 1],
                    *c = positions + 3 * (size_t)indices[i + 2];
        if (memcmp(a, b, 3 * sizeof(float)) == 0 || memcmp(b, c, 3 * sizeof(float)) == 0 ||
            memcmp(a, c, 3 * sizeof(float)) == 0)
            continue;
        memmove(indices + kept, indices + i, 3 * sizeof(uint32_t));
        kept += 3;
    }
    return kept;
}

static lds_status build_geometry(const lds_mesh_model *src, part *parts, lds_mesh_model *dst)
{
    size_t submesh_count = src->submesh_count;
    uint32_t **remaps = calloc(submesh_count ? submesh_count : 1, sizeof(uint32_t *));
    size_t *new_counts = calloc(submesh_count ? submesh_count : 1, sizeof(size_t));
    lds_status st = LDS_ENOMEM;
    if (remaps == NULL || new_counts == NULL)
        goto out;

    size_t total_vertices = 0, total_indices = 0, kept = 0;
    for (size_t s = 0; s < submesh_count; s++) {
        const lds_mesh_submesh *sm = &src->submeshes[s];
        part *p = &parts[s];
        if (p->is_points) {
            if (p->point_count == 0)
                continue;
            float *gathered = malloc(p->point_count * 3 * sizeof(float));
            remaps[s] = malloc(p->point_count * sizeof(uint32_t));
            if (gathered == NULL || remaps[s] == NULL) {
                free(gathered);
                goto out;
            }
            for (size_t i = 0; i < p->point_count; i++)
                memcpy(gathered + 3 * i, src->positions + 3 * ((size_t)sm->vertex_offset + p->points[i]),
                       3 * sizeof(float));
            meshopt_spatialSortRemap(remaps[s], gathered, p->point_count, 3 * sizeof(float));
            free(gathered);
            new_counts[s] = p->point_count;
        } else {
            p->index_count = drop_degenerate(src->positions + 3 * (size_t)sm->vertex_offset, p->indices, p->index_count);
            if (p->index_count == 0)
                continue;
            meshopt_optimizeVertexCache(p->indices, p->indices, p->index_count, sm->vertex_count);
            if ((remaps[s] = malloc((size_t)sm->vertex_count * sizeof(uint32_t))) == NULL)
                goto out;
            new_counts[s] = meshopt_optimizeVertexFetchRemap(remaps[s], p->indices, p->index_count, sm->vertex_count);
            total_indices += p->index_count;
        }
        total_vertices += new_counts[s];
        kept++;
    }
    if (total_vertices > UINT32_MAX || total_indices > UINT32_MAX) {
        st = LDS_ELIMIT;
        goto out;
    }
    if ((st = lds_mesh_model_alloc_like(dst, src, total_vertices, total_indices)) != LDS_OK)
        goto out;
    free(dst->submeshes);
    dst->submesh_count = 0;
    if ((dst->submeshes = calloc(kept ? kept : 1, sizeof(lds_mesh_submesh))) == NULL) {
        st = LDS_ENOMEM;
        goto out;
    }

    size_t vertex_base = 0, index_base = 0;
    for (size_t s = 0; s < submesh_count; s++) {
        if (remaps[s] == NULL)
            continue;
        const lds_mesh_submesh *sm = &src->submeshes[s];
        part *p = &parts[s];
        if (p->is_points) {
            for (size_t i = 0; i < p->point_count; i++)
                lds_mesh_vertex_copy(dst, vertex_base + remaps[s][i], src, (size_t)sm->vertex_offset + p->points[i]);
        } else {
            for (uint32_t v = 0; v < sm->vertex_count; v++)
                if (remaps[s][v] != ~0u)
                    lds_mesh_vertex_copy(dst, vertex_base + remaps[s][v], src, (size_t)sm->vertex_offset + v);
            for (size_t i = 0; i < p->index_count; i++)
                dst->indices[index_base + i] = (uint32_t)vertex_base + remaps[s][p->indices[i]];
        }
        lds_mesh_submesh *out_sm = &dst->submeshes[dst->submesh_count++];
        out_sm->vertex_offset = (uint32_t)vertex_base;
        out_sm->vertex_count = (uint32_t)new_counts[s];
        out_sm->index_offset = (uint32_t)index_base;
        out_sm->index_count = p->is_points ? 0 : (uint32_t)p->index_count;
        out_sm->material = sm->material;
        out_sm->primitive = sm->primitive;
        vertex_base += new_counts[s];
        index_base += out_sm->index_count;
    }
    st = LDS_OK;
out:
    for (size_t s = 0; remaps && s < submesh_count; s++)
        free(remaps[s]);
    free(remaps);
    free(new_counts);
    return st;
}

/* Each submesh's own content, as parts. */
static lds_status identity_parts(const lds_mesh_model *model, part **out)
{
    part *parts = calloc(model->submesh_count ? model->submesh_count : 1, sizeof(part));
    if (parts == NULL)
        return LDS_ENOMEM;
    for (size_t s = 0; s < model->submesh_count; s++) {
        const lds_mesh_submesh *sm = &model->submeshes[s];
        part *p = &parts[s];
        if (sm->index_count == 0) {
            p->is_points = 1;
            p->point_count = sm->vertex_count;
            if (sm->vertex_count && (p->points = malloc((size_t)sm->vertex_count * sizeof(uint32_t))) == NULL)
                goto fail;
            for (uint32_t v = 0; v < sm->vertex_count; v++)
                p->points[v] = v;
        } else {
            p->index_count = sm->index_count;
            if ((p->indices = malloc((size_t)sm->index_count * sizeof(uint32_t))) == NULL)
                goto fail;
            for (uint32_t i = 0; i < sm->index_count; i++)
                p->indices[i] = model->indices[sm->index_offset + i] - sm->vertex_offset;
        }
    }
    *out = parts;
    return LDS_OK;
fail:
    parts_free(parts, model->submesh_count);
    return LDS_ENOMEM;
}

lds_status lds_mesh_optimize(lds_mesh_model *model, lds_error *err)
{
    if (model == NULL)
        return lds_error_set(err, LDS_EINVAL, "optimize: no model");
    part *parts = NULL;
    size_t submesh_count = model->submesh_count;
    lds_mesh_model *tmp = lds_mesh_model_create();
    lds_status st = tmp ? identity_parts(model, &parts) : LDS_ENOMEM;
    if (st == LDS_OK)
        st = build_geometry(model, parts, tmp);
    if (st == LDS_OK) {
        /* Move the new geometry into model; materials, textures and warnings stay. */
        lds_mesh_model_take_geometry(model, tmp);
    }
    parts_free(parts, submesh_count);
    lds_mesh_model_destroy(tmp);
    if (st != LDS_OK)
        return lds_error_set(err, st, "optimize: %s", lds_status_message(st));
    return LDS_OK;
}

typedef struct range {
    uint32_t begin, end; /* vertex range */
    size_t submesh;
} range;

static int range_cmp(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* The range holding vertex v, or NULL. */
static const range *range_find(const range *ranges, size_t count, uint32_t v)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ranges[mid].end <= v)
            lo = mid + 1;
        else if (ranges[mid].begin > v)
            hi = mid;
        else
            return &ranges[mid];
    }
    return NULL;
}

/* Splits the simplified index buffer back into submeshes (local indices). A triangle that would
 * straddle two submeshes is dropped; meshopt's seam handling should never produce one. */
static lds_status split_parts(const lds_mesh_model *src, const uint32_t *indices, size_t index_count, part *parts)
{
    range *ranges = malloc((src->submesh_count ? src->submesh_count : 1) * sizeof(range));
    size_t *counts = calloc(src->submesh_count ? src->submesh_count : 1, sizeof(size_t));
    lds_status st = LDS_ENOMEM;
    if (ranges == NULL || counts == NULL)
        goto out;
    size_t range_count = 0;
    for (size_t s = 0; s < src->submesh_count; s++) {
        const lds_mesh_submesh *sm = &src->submeshes[s];
        if (sm->index_count == 0 || sm->vertex_count == 0)
            continue;
        ranges[range_count++] = (range){sm->vertex_offset, sm->vertex_offset + sm->vertex_count, s};
    }
    qsort(ranges, range_count, sizeof(range), range_cmp);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i + 2 < index_count; i += 3) {
            const range *r = range_find(ranges, range_count, indices[i]);
            if (r == NULL || indices[i + 1] < r->begin || indices[i + 1] >= r->end || indices[i + 2] < r->begin ||
                indices[i + 2] >= r->end)
                continue;
            part *p = &parts[r->submesh];
            if (pass == 0) {
                counts[r->submesh] += 3;
                continue;
            }
            for (int k = 0; k < 3; k++)
                p->indices[p->index_count++] = indices[i + k] - r->begin;
        }
        if (pass == 0)
            for (size_t s = 0; s < src->submesh_count; s++)
                if (counts[s] && (parts[s].indices = malloc(counts[s] * sizeof(uint32_t))) == NULL)
                    goto out;
    }
    st = LDS_OK;
out:
    free(ranges);
    free(counts);
    return st;
}

static size_t scaled(size_t count, double fraction)
{
    double v = floor((double)count * fraction + 0.5);
    return v < 1 ? 1 : (size_t)v;
}

int lds_mesh_sloppy_allowed(const lds_mesh_model *model, lds_mesh_sloppy sloppy)
{
    if (sloppy != LDS_MESH_SLOPPY_AUTO)
        return sloppy == LDS_MESH_SLOPPY_ALLOW;
    if (model->uvs || model->uvs1 || model->normals || model->tangents || model->colors || model->joints ||
        model->texture_count > 0)
        return 0;
    for (size_t s = 1; s < model->submesh_count; s++)
        if (model->submeshes[s].material != model->submeshes[0].material)
            return 0;
    return 1;
}

/* meshopt's error unit is the largest side of the bounding box; ours is its diagonal. */
static float meshopt_error_bound(const lds_mesh_model *m, double relative_to_diagonal)
{
    if (relative_to_diagonal <= 0)
        return FLT_MAX;
    float lo[3] = {FLT_MAX, FLT_MAX, FLT_MAX}, hi[3] = {-FLT_MAX, -FLT_MAX, -FLT_MAX};
    for (size_t v = 0; v < m->vertex_count; v++)
        for (int k = 0; k < 3; k++) {
            lo[k] = fminf(lo[k], m->positions[3 * v + k]);
            hi[k] = fmaxf(hi[k], m->positions[3 * v + k]);
        }
    double d[3] = {hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]};
    double extent = fmax(d[0], fmax(d[1], d[2])), diagonal = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (!(extent > 0))
        return FLT_MAX;
    return (float)(relative_to_diagonal * diagonal / extent);
}

lds_status lds_mesh_simplify(const lds_mesh_model *src, size_t target_triangles, lds_mesh_model **out,
                             double *error, lds_error *err)
{
    lds_mesh_simplify_options options = {0, LDS_MESH_SLOPPY_AUTO};
    return lds_mesh_simplify_with(src, target_triangles, &options, out, error, err);
}

lds_status lds_mesh_simplify_with(const lds_mesh_model *src, size_t target_triangles,
                                  const lds_mesh_simplify_options *options, lds_mesh_model **out, double *error,
                                  lds_error *err)
{
    if (src == NULL || out == NULL || options == NULL)
        return lds_error_set(err, LDS_EINVAL, "simplify: no model");
    *out = NULL;
    if (error)
        *error = 0;
    size_t triangles = src->index_count / 3, points = 0;
    for (size_t s = 0; s < src->submesh_count; s++)
        if (src->submeshes[s].index_count == 0)
            points += src->submeshes[s].vertex_count;
    if (triangles == 0 && points == 0)
        return lds_error_set(err, LDS_ENOGEOM, "simplify: the model has no triangles and no points");
    if (src->submesh_count == 0 || src->positions == NULL)
        return lds_error_set(err, LDS_EINVAL, "simplify: the model has no submeshes (not validated?)");
    double fraction = (double)target_triangles / (double)(triangles ? triangles : points);
    if (fraction > 1)
        fraction = 1;

    lds_status st = LDS_ENOMEM;
    double t_start = lds_time_ms(), t_simplified = t_start, t_built = t_start;
    uint32_t *simplified = NULL, *scratch = NULL;
    lds_mesh_model *model = NULL;
    part *parts = calloc(src->submesh_count ? src->submesh_count : 1, sizeof(part));
    if (parts == NULL)
        goto out;

    if (triangles) {
        size_t target = scaled(triangles, fraction);
        if ((simplified = malloc(src->index_count * sizeof(uint32_t))) == NULL)
            goto out;
        float bound = meshopt_error_bound(src, options->target_error);
        size_t count = meshopt_simplify(simplified, src->indices, src->index_count, src->positions, src->vertex_count,
                                        3 * sizeof(float), target * 3, bound, 0, NULL);
        st = split_parts(src, simplified, count, parts);
        free(simplified);
        simplified = NULL;
        if (st != LDS_OK)
            goto out;
        st = LDS_ENOMEM;
        if (count / 3 > target + target / 20 && lds_mesh_sloppy_allowed(src, options->sloppy)) {
            /* Stuck on topology: each submesh over its share goes through the sloppy simplifier. */
            for (size_t s = 0; s < src->submesh_count; s++) {
                const lds_mesh_submesh *sm = &src->submeshes[s];
                part *p = &parts[s];
                if (sm->index_count == 0 || p->index_count == 0)
                    continue;
                size_t share = scaled(sm->index_count / 3, fraction);
                if (p->index_count / 3 <= share + share / 20)
                    continue;
                free(scratch);
                if ((scratch = malloc(p->index_count * sizeof(uint32_t))) == NULL)
                    goto out;
                size_t n = meshopt_simplifySloppy(scratch, p->indices, p->index_count,
                                                  src->positions + 3 * (size_t)sm->vertex_offset, sm->vertex_count,
                                                  3 * sizeof(float), share * 3, bound, NULL);
                if (n == 0)
                    continue; /* too coarse to cluster: keep what the precise pass left */
                uint32_t *swap = p->indices;
                p->indices = scratch;
                p->index_count = n;
                scratch = swap;
            }
        }
    }
    for (size_t s = 0; s < src->submesh_count; s++) {
        const lds_mesh_submesh *sm = &src->submeshes[s];
        if (sm->index_count != 0 || sm->vertex_count == 0)
            continue;
        part *p = &parts[s];
        size_t target = scaled(sm->vertex_count, fraction);
        p->is_points = 1;
        if ((p->points = malloc(target * sizeof(uint32_t))) == NULL)
            goto out;
        if (target >= sm->vertex_count) {
            for (uint32_t v = 0; v < sm->vertex_count; v++)
                p->points[v] = v;
            p->point_count = sm->vertex_count;
        } else {
            p->point_count = meshopt_simplifyPoints(p->points, src->positions + 3 * (size_t)sm->vertex_offset,
                                                    sm->vertex_count, 3 * sizeof(float), target);
        }
    }

    t_simplified = lds_time_ms();
    if ((model = lds_mesh_model_create()) == NULL)
        goto out;
    if ((st = build_geometry(src, parts, model)) != LDS_OK || (st = copy_materials(model, src)) != LDS_OK)
        goto out;
    t_built = lds_time_ms();
    if (model->vertex_count == 0) {
        /* A model this small collapses to nothing at the target: it cannot get simpler, keep it. */
        parts_free(parts, src->submesh_count);
        parts = NULL;
        lds_mesh_model_destroy(model);
        model = lds_mesh_model_create();
        if (model == NULL || (st = identity_parts(src, &parts)) != LDS_OK ||
            (st = build_geometry(src, parts, model)) != LDS_OK || (st = copy_materials(model, src)) != LDS_OK) {
            st = st == LDS_OK ? LDS_ENOMEM : st;
            goto out;
        }
    }
    if (error) {
        double mean;
        if ((st = lds_mesh_deviation(src, model, error, &mean, err)) != LDS_OK)
            goto out;
    }
    lds_log_debug("simplify: %zu -> %zu triangles: simplify %.0f ms, optimize %.0f ms, deviation %.0f ms", triangles,
                  model->index_count / 3, t_simplified - t_start, t_built - t_simplified, lds_time_ms() - t_built);
    *out = model;
    model = NULL;
    st = LDS_OK;
out:
    free(simplified);
    free(scratch);
    parts_free(parts, src->submesh_count);
    lds_mesh_model_destroy(model);
    if (st != LDS_OK)
        return lds_error_set(err, st, "simplify: %s", lds_status_message(st));
    return LDS_OK;
}
