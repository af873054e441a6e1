/* mesh_internal.h: the position rules that clean.c, report.c and fingerprint.c must share
 * (DESIGN.md 6.3: a model has the same geometry fingerprint before and after cleaning, and the
 * report's topology welds exactly the positions the fingerprint welds): position keys, the
 * canonical position order, the flat-triangle rule and the position weld (weld.c).
 * Not part of the public API. */
#ifndef LDS_MESH_INTERNAL_H
#define LDS_MESH_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "mesh.h"

/* A coordinate's key: its float32 bits, with -0.0 read as +0.0. Positions are equal when their
 * three keys are. */
static inline uint32_t lds_mesh_float_key(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    return u == 0x80000000u ? 0u : u;
}

/* -1, 0, 1 comparing two positions in the canonical order: (x, y, z) keys compared
 * lexicographically as unsigned 32-bit integers (not numeric order: negative values sort last). */
static inline int lds_mesh_position_compare(const float *a, const float *b)
{
    for (int i = 0; i < 3; i++) {
        uint32_t x = lds_mesh_float_key(a[i]), y = lds_mesh_float_key(b[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

/* Hash of a position given by its three keys (for open-addressing tables). */
static inline uint64_t lds_mesh_position_hash(uint32_t x, uint32_t y, uint32_t z)
{
    uint64_t h = ((uint64_t)x | ((uint64_t)y << 32)) * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)z * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 31;
    h *= 0xD6E8FEB86659FD93ull;
    return h ^ (h >> 32);
}

/* Zero area of a triangle whose corners are already in canonical rotation (the smallest position
 * in the canonical order first, winding kept): the cross product (b - a) x (c - a), computed in
 * double from the float coordinates, is exactly the zero vector. */
static inline int lds_mesh_triangle_is_flat_rotated(const float *a, const float *b, const float *c)
{
    double ux = (double)b[0] - a[0], uy = (double)b[1] - a[1], uz = (double)b[2] - a[2];
    double vx = (double)c[0] - a[0], vy = (double)c[1] - a[1], vz = (double)c[2] - a[2];
    return uy * vz - uz * vy == 0.0 && uz * vx - ux * vz == 0.0 && ux * vy - uy * vx == 0.0;
}

/* The same rule for corners in any rotation: rotates them canonically first. */
static inline int lds_mesh_triangle_is_flat(const float *a, const float *b, const float *c)
{
    if (lds_mesh_position_compare(b, a) < 0 && lds_mesh_position_compare(b, c) < 0) {
        const float *t = a;
        a = b, b = c, c = t;
    } else if (lds_mesh_position_compare(c, a) < 0 && lds_mesh_position_compare(c, b) < 0) {
        const float *t = c;
        c = b, b = a, a = t;
    }
    return lds_mesh_triangle_is_flat_rotated(a, b, c);
}

/* qsort comparator for uint64_t. */
int lds_mesh_compare_u64(const void *a, const void *b);

/* Sorts n uint64_t ascending: insertion sort for the short runs it is used on (edge and triangle
 * buckets of a few entries), qsort beyond. */
void lds_mesh_sort_u64(uint64_t *e, size_t n);

/* Welds by position (keys equal) the vertices marked in take (take_count of them): ids[v] receives
 * the welded id of every marked vertex v (others untouched); ids are numbered from 0 in order of
 * first appearance in vertex order. Returns the number of distinct positions, or SIZE_MAX on out
 * of memory. ids holds m->vertex_count entries. */
size_t lds_mesh_weld_positions(const lds_mesh_model *m, const uint8_t *take, size_t take_count, uint32_t *ids);

/* Transforms count vertices by the column-major affine matrix: positions by it, normals by its
 * inverse transpose, tangent directions (stride 4, w kept) by its upper 3x3, both renormalised;
 * normals and tangents may be NULL. Returns 1 when the matrix mirrors (the caller flips winding).
 * (model.c) */
int lds_mesh_transform_vertices(float *positions, float *normals, float *tangents, size_t count,
                                const double *matrix);

/* ---- vertices with all their attributes (model.c) ---- */

/* Copies vertex `from` of src to vertex `to` of dst: the position and every optional attribute dst
 * has (src has at least those). */
static inline void lds_mesh_vertex_copy(lds_mesh_model *dst, size_t to, const lds_mesh_model *src, size_t from)
{
    memcpy(dst->positions + 3 * to, src->positions + 3 * from, 3 * sizeof(float));
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++) {
        float *d = lds_mesh_attribute_data(dst, a);
        if (d) {
            unsigned w = lds_mesh_attributes[a].width;
            memcpy(d + (size_t)w * to, lds_mesh_attribute_data(src, a) + (size_t)w * from, w * sizeof(float));
        }
    }
}

/* Allocates dst's vertex and index arrays for vertex_count / index_count with the same optional
 * attributes as like (replacing dst's arrays). */
lds_status lds_mesh_model_alloc_like(lds_mesh_model *dst, const lds_mesh_model *like, size_t vertex_count,
                                     size_t index_count);

/* Moves src's vertices, indices and submeshes into dst (freeing dst's), leaving src without them;
 * dst's materials, textures and warnings stay. */
void lds_mesh_model_take_geometry(lds_mesh_model *dst, lds_mesh_model *src);

#endif
