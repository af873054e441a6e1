/* shape_internal.h: the decoded shape descriptor shared by shape.c (compute, format, compare) and
 * shape_index.c (locality-sensitive hashing). Not part of the public API. */
#ifndef LDS_SHAPE_INTERNAL_H
#define LDS_SHAPE_INTERNAL_H

#include <stdint.h>

#include "mesh.h"

#define LDS_SHAPE_D1_BINS 32
#define LDS_SHAPE_D2_BINS 32
#define LDS_SHAPE_A3_BINS 18
#define LDS_SHAPE_D1_OFFSET 2
#define LDS_SHAPE_D2_OFFSET (LDS_SHAPE_D1_OFFSET + LDS_SHAPE_D1_BINS)
#define LDS_SHAPE_A3_OFFSET (LDS_SHAPE_D2_OFFSET + LDS_SHAPE_D2_BINS)
#define LDS_SHAPE_BYTES (LDS_SHAPE_A3_OFFSET + LDS_SHAPE_A3_BINS)
/* distance components: moment ratios, D1, D2, A3 */
#define LDS_SHAPE_COMPONENTS 4

typedef struct lds_shape_descriptor {
    uint8_t bytes[LDS_SHAPE_BYTES];
} lds_shape_descriptor;

/* splitmix64 (Steele, Lea, Flood 2014): the next number of the sequence that *state seeds; the
 * random numbers of the descriptor's sampling and of the index's projections. */
static inline uint64_t lds_shape_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double lds_shape_uniform01(uint64_t *state)
{
    return (double)(lds_shape_splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

lds_status lds_shape_descriptor_compute(const lds_mesh_model *model, lds_shape_descriptor *out, lds_error *err);
void lds_shape_descriptor_format(const lds_shape_descriptor *d, char out[LDS_MESH_SHAPE_FP_MAX]);
lds_status lds_shape_descriptor_parse(const char *text, lds_shape_descriptor *d, lds_error *err);
/* The descriptor as a point in a space where lds_shape_descriptor_distance is the L1 distance:
 * moment ratios and cumulative histograms, each divided by its tolerance. */
#define LDS_SHAPE_VECTOR_DIM LDS_SHAPE_BYTES
#define LDS_SHAPE_VECTOR_D1 LDS_SHAPE_D1_OFFSET /* where each cumulative histogram starts */
#define LDS_SHAPE_VECTOR_D2 LDS_SHAPE_D2_OFFSET
#define LDS_SHAPE_VECTOR_A3 LDS_SHAPE_A3_OFFSET
#define LDS_SHAPE_MATCH_DISTANCE 1.2
void lds_shape_descriptor_vector(const lds_shape_descriptor *d, double out[LDS_SHAPE_VECTOR_DIM]);
/* Per-component distances, each in 0..1 (see shape.c). */
void lds_shape_descriptor_distances(const lds_shape_descriptor *a, const lds_shape_descriptor *b,
                                    double out[LDS_SHAPE_COMPONENTS]);
/* Weighted distance: 0 for identical descriptors; near copies stay well under 1.2 (see shape.c). */
double lds_shape_descriptor_distance(const lds_shape_descriptor *a, const lds_shape_descriptor *b);
/* 1 for identical descriptors, falling towards 0; 0.75 at the match threshold. */
double lds_shape_descriptor_similarity(const lds_shape_descriptor *a, const lds_shape_descriptor *b);
/* The calibrated verdict. */
int lds_shape_descriptor_match(const lds_shape_descriptor *a, const lds_shape_descriptor *b);

#endif
