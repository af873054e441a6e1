/*
 * clean.c: lds_mesh_clean, the cleanup every model gets before its report, fingerprint and LODs.
 *
 * Within each submesh: vertices whose attributes are all bit-identical are welded (-0.0 is first
 * rewritten as +0.0 in every attribute so that bit-identical means equal; one hash pass over all
 * attributes; meshopt_generateVertexRemapMulti would do but asserts on vertex counts that are not a
 * multiple of 3 when given no index buffer); then triangles are dropped when
 *  - degenerate: two corners are the same welded vertex, or the triangle has zero area, tested
 *    exactly as fingerprint.c does, by the one rule of mesh_internal.h (corners rotated so the
 *    smallest position in (x, y, z)-bits order comes first, cross product (b - a) x (c - a) in
 *    double exactly zero), so that the geometry fingerprint is the same before and after cleaning;
 *  - an exact duplicate: the same three welded vertices in the same cyclic order as a triangle
 *    kept before it (a reverse-wound twin is different geometry and is kept);
 * and vertices no kept triangle uses are removed. Point-cloud submeshes (no indices) are welded.
 * Vertices and triangles keep their relative order. A submesh left with no triangles is removed.
 * The result is written to fresh arrays (submesh ranges may come in any order) and swapped in.
 * When nothing is left (every triangle degenerate) the model has no vertices and no submeshes and
 * the call still succeeds: the caller, who knows the file's name, reports it (and the report says
 * no_geometry).
 */
#include <stdlib.h>
#include <string.h>

#include "mesh_internal.h"

#define PREFETCH_AHEAD 8 /* triangles */

static void normalise_zero(float *values, size_t count)
{
    if (values == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        if (values[i] == 0.0f)
            values[i] = 0.0f;
}

/* The cyclic rotation of t that starts at its smallest index (winding kept). */
static void rotate_to_min(const uint32_t *t, uint32_t *out)
{
    int start = (t[1] < t[0] && t[1] < t[2]) ? 1 : (t[2] < t[0] && t[2] < t[1]) ? 2 : 0;
    out[0] = t[start];
    out[1] = t[(start + 1) % 3];
    out[2] = t[(start + 2) % 3];
}

static int same_vertex(const lds_mesh_model *m, size_t a, size_t b)
{
    if (memcmp(m->positions + a * 3, m->positions + b * 3, 3 * sizeof(float)) != 0)
        return 0;
    for (unsigned k = 0; k < LDS_MESH_ATTRIBUTE_COUNT; k++) {
        const float *d = lds_mesh_attribute_data(m, k);
        size_t w = lds_mesh_attributes[k].width;
        if (d && memcmp(d + a * w, d + b * w, w * sizeof(float)) != 0)
            return 0;
    }
    return 1;
}

static uint64_t mix_floats(uint64_t h, const float *values, int count)
{
    for (int i = 0; i < count; i++) {
        h = (h ^ lds_mesh_float_key(values[i])) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return h;
}

static uint64_t vertex_hash(const lds_mesh_model *m, size_t v)
{
    uint64_t h = mix_floats(0x2545F4914F6CDD1Dull, m->positions + v * 3, 3);
    for (unsigned k = 0; k < LDS_MESH_ATTRIBUTE_COUNT; k++) {
        const float *d = lds_mesh_attribute_data(m, k);
        unsigned w = lds_mesh_attributes[k].width;
        if (d)
            h = mix_floats(h, d + v * w, (int)w);
    }
    return h ^ (h >> 32);
}

/*
 * Welds the vertices [vo, vo + vc) whose attributes are all bit-identical: remap[i] receives the
 * unique id of vertex vo + i (ids numbered in order of first appearance) and first[id] its first
 * vertex. table (at least 2 * vc slots) holds the first vertex's offset i. The table is far bigger
 * than the caches, so vertices go WELD_BATCH at a time: their slots are prefetched, then the
 * vertices those slots name, and only then compared, so that the cache misses overlap.
 */
static size_t weld_vertices(const lds_mesh_model *m, uint32_t vo, uint32_t vc, uint32_t *table, uint32_t *remap,
                            uint32_t *first)
{
    enum { WELD_BATCH = 32 };
    size_t size = 16;
    while (size < (size_t)vc * 2)
        size <<= 1;
    memset(table, 0xff, size * sizeof(uint32_t));
    size_t unique = 0, mask = size - 1, slots[WELD_BATCH];
    for (uint32_t base = 0; base < vc; base += WELD_BATCH) {
        uint32_t n = vc - base < WELD_BATCH ? vc - base : WELD_BATCH;
        for (uint32_t j = 0; j < n; j++) {
            slots[j] = (size_t)vertex_hash(m, (size_t)vo + base + j) & mask;
            __builtin_prefetch(&table[slots[j]]);
        }
        for (uint32_t j = 0; j < n; j++) {
            uint32_t f = table[slots[j]];
            if (f != UINT32_MAX) {
                __builtin_prefetch(m->positions + ((size_t)vo + f) * 3);
                __builtin_prefetch(&remap[f]);
            }
        }
        for (uint32_t j = 0; j < n; j++) {
            uint32_t i = base + j;
            size_t slot = slots[j];
            for (;;) {
                uint32_t f = table[slot];
                if (f == UINT32_MAX) {
                    table[slot] = i;
                    first[unique] = vo + i;
                    remap[i] = (uint32_t)unique++;
                    break;
                }
                if (same_vertex(m, (size_t)vo + f, (size_t)vo + i)) {
                    remap[i] = remap[f];
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
    }
    return unique;
}

lds_status lds_mesh_clean(lds_mesh_model *m, lds_mesh_report *report, lds_error *err)
{
    lds_status st = LDS_OK;
    uint32_t *remap = NULL, *first = NULL, *final = NULL, *table = NULL, *indices = NULL;
    lds_mesh_model fresh = {0}; /* the cleaned vertices, indices and submeshes */
    lds_mesh_submesh *submeshes = NULL;
    uint64_t degenerate = 0, duplicate = 0;

    size_t max_vertices = 1, max_triangles = 1;
    for (size_t s = 0; s < m->submesh_count; s++) {
        const lds_mesh_submesh *sm = &m->submeshes[s];
        if ((uint64_t)sm->vertex_offset + sm->vertex_count > m->vertex_count ||
            (uint64_t)sm->index_offset + sm->index_count > m->index_count || sm->index_count % 3 != 0)
            return lds_error_set(err, LDS_EINVAL, "clean: submesh %zu is out of range", s);
        const uint32_t *idx = sm->index_count ? m->indices + sm->index_offset : NULL;
        for (uint32_t i = 0; i < sm->index_count; i++)
            if (idx[i] < sm->vertex_offset || idx[i] - sm->vertex_offset >= sm->vertex_count)
                return lds_error_set(err, LDS_EINVAL, "clean: index %u uses vertex %u outside submesh %zu",
                                     sm->index_offset + i, idx[i], s);
        if (sm->vertex_count > max_vertices)
            max_vertices = sm->vertex_count;
        if (sm->index_count / 3 > max_triangles)
            max_triangles = sm->index_count / 3;
    }
    normalise_zero(m->positions, m->vertex_count * 3);
    for (unsigned k = 0; k < LDS_MESH_ATTRIBUTE_COUNT; k++)
        normalise_zero(lds_mesh_attribute_data(m, k), m->vertex_count * lds_mesh_attributes[k].width);

    size_t table_size = 16; /* the weld's hash table, then the duplicate chains (next) */
    while (table_size < max_triangles || table_size < max_vertices * 2)
        table_size <<= 1;
    size_t nv = m->vertex_count ? m->vertex_count : 1;
    remap = malloc(max_vertices * sizeof(uint32_t));
    first = malloc(max_vertices * sizeof(uint32_t));
    final = malloc(max_vertices * sizeof(uint32_t));
    table = malloc(table_size * sizeof(uint32_t));
    lds_status alloc = lds_mesh_model_alloc_like(&fresh, m, nv, m->index_count ? m->index_count : 1);
    indices = fresh.indices;
    fresh.indices = NULL;
    submeshes = malloc((m->submesh_count ? m->submesh_count : 1) * sizeof(lds_mesh_submesh));
    if (!remap || !first || !final || !table || alloc != LDS_OK || !submeshes) {
        st = lds_error_set(err, LDS_ENOMEM, "clean: out of memory for %zu vertices", m->vertex_count);
        goto out;
    }

    size_t out_vertices = 0, out_indices = 0, out_submeshes = 0;
    for (size_t s = 0; s < m->submesh_count; s++) {
        const lds_mesh_submesh *sm = &m->submeshes[s];
        uint32_t vo = sm->vertex_offset, vc = sm->vertex_count;
        if (vc == 0)
            continue;
        size_t unique = weld_vertices(m, vo, vc, table, remap, first);

        /* Triangles, written as welded ids (relative to the submesh) into indices at out_indices.
         * Duplicates share their smallest vertex: chains per smallest vertex (head, next) find
         * them, with the locality of the mesh's own order rather than a hash table's. */
        uint32_t *tri_out = indices + out_indices;
        size_t kept = 0;
        size_t triangle_count = sm->index_count / 3;
        uint32_t *head = final, *next = table; /* final is free until the vertices are renumbered */
        memset(head, 0xff, unique * sizeof(uint32_t));
        const uint32_t *idx = triangle_count ? m->indices + sm->index_offset : NULL;
        for (size_t t = 0; t < triangle_count; t++) {
            /* Faces in shuffled order miss the cache at every step: prefetch the remap entries two
             * strides ahead, and what they lead to (chain heads, positions) one stride ahead. */
            if (t + 2 * PREFETCH_AHEAD < triangle_count)
                for (int k = 0; k < 3; k++)
                    __builtin_prefetch(&remap[idx[(t + 2 * PREFETCH_AHEAD) * 3 + k] - vo]);
            if (t + PREFETCH_AHEAD < triangle_count)
                for (int k = 0; k < 3; k++) {
                    uint32_t w = idx[(t + PREFETCH_AHEAD) * 3 + k];
                    __builtin_prefetch(&head[remap[w - vo]]);
                    __builtin_prefetch(m->positions + (size_t)w * 3);
                }
            uint32_t a = remap[idx[t * 3] - vo], b = remap[idx[t * 3 + 1] - vo], c = remap[idx[t * 3 + 2] - vo];
            /* welded vertices share their position bits, so the corners' own positions do */
            if (a == b || b == c || a == c ||
                lds_mesh_triangle_is_flat(m->positions + (size_t)idx[t * 3] * 3, m->positions + (size_t)idx[t * 3 + 1] * 3,
                                 m->positions + (size_t)idx[t * 3 + 2] * 3)) {
                degenerate++;
                continue;
            }
            uint32_t tri[3] = {a, b, c}, key[3];
            rotate_to_min(tri, key);
            int dup = 0;
            for (uint32_t j = head[key[0]]; j != UINT32_MAX && !dup; j = next[j]) {
                uint32_t o[3];
                rotate_to_min(tri_out + (size_t)j * 3, o);
                dup = o[1] == key[1] && o[2] == key[2];
            }
            if (dup) {
                duplicate++;
                continue;
            }
            next[kept] = head[key[0]];
            head[key[0]] = (uint32_t)kept;
            tri_out[kept * 3] = a;
            tri_out[kept * 3 + 1] = b;
            tri_out[kept * 3 + 2] = c;
            kept++;
        }
        if (triangle_count && kept == 0)
            continue; /* every triangle dropped: the submesh goes */

        /* Vertices: the used ones in order of first appearance, renumbered from out_vertices. */
        uint32_t used = 0;
        if (triangle_count) {
            memset(final, 0xff, unique * sizeof(uint32_t));
            for (size_t i = 0; i < kept * 3; i++)
                final[tri_out[i]] = 0;
            for (size_t u = 0; u < unique; u++)
                if (final[u] == 0)
                    final[u] = used++;
        } else {
            for (size_t u = 0; u < unique; u++)
                final[u] = used++;
        }
        for (size_t u = 0; u < unique; u++)
            if (final[u] != UINT32_MAX)
                lds_mesh_vertex_copy(&fresh, out_vertices + final[u], m, first[u]);
        for (size_t i = 0; i < kept * 3; i++)
            tri_out[i] = (uint32_t)out_vertices + final[tri_out[i]];

        lds_mesh_submesh *o = &submeshes[out_submeshes++];
        o->vertex_offset = (uint32_t)out_vertices;
        o->vertex_count = used;
        o->index_offset = (uint32_t)out_indices;
        o->index_count = (uint32_t)(kept * 3);
        o->material = sm->material;
        o->primitive = sm->primitive;
        out_vertices += used;
        out_indices += kept * 3;
    }

    fresh.vertex_count = out_vertices;
    fresh.index_count = out_indices;
    fresh.indices = indices;
    fresh.submesh_count = out_submeshes;
    fresh.submeshes = submeshes;
    lds_mesh_model_take_geometry(m, &fresh);
    indices = NULL;
    submeshes = NULL;
    if (report) {
        report->degenerate_triangles += degenerate;
        report->duplicate_triangles += duplicate;
    }
out:
    free(remap);
    free(first);
    free(final);
    free(table);
    free(indices);
    free(submeshes);
    lds_mesh_model_take_geometry(&fresh, &(lds_mesh_model){0}); /* frees what was not moved */
    return st;
}
