/*
 * meshopt_encode.h: quantisation and meshoptimizer codecs for EXT_meshopt_compression +
 * KHR_mesh_quantization (mesh/meshopt_encode.c). Internal to mesh/ (glb_write.c); not part of
 * mesh.h. All functions are thread-safe and keep no pointer.
 */
#ifndef LDS_MESHOPT_ENCODE_H
#define LDS_MESHOPT_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Appends to bin, at a 4-byte aligned offset, the attribute-codec ("ATTRIBUTES") form of count
 * elements of stride bytes (stride a multiple of 4, <= 256). *offset and *length say where. */
lds_status lds_meshopt_compress_attributes(const void *elements, size_t count, size_t stride, lds_buf *bin,
                                           size_t *offset, size_t *length, lds_error *err);

/* Appends to bin, 4-byte aligned, the triangle-codec ("TRIANGLES") form of a triangle list whose
 * indices are all below vertex_count. */
lds_status lds_meshopt_compress_triangles(const uint32_t *indices, size_t index_count, size_t vertex_count,
                                          lds_buf *bin, size_t *offset, size_t *length, lds_error *err);

/* Integer positions: q = round((p - origin) / step), written as 4 uint16 per vertex (w = 0).
 * qmin/qmax receive the component-wise bounds of q. */
void lds_meshopt_quantize_positions(const float *positions, size_t count, const float origin[3], float step,
                                    uint16_t *out, uint16_t qmin[3], uint16_t qmax[3]);

/* Unit normals through the octahedral filter with bits (1..8) of precision, written as 4 int8 per
 * vertex (the "OCTAHEDRAL" filter's 4-byte layout). Allocates a scratch array: LDS_ENOMEM. */
lds_status lds_meshopt_encode_normals(const float *normals, size_t count, int bits, int8_t *out, lds_error *err);

/* Texture coordinates to bits (1..16) of precision over [origin, origin + extent], written as
 * 2 uint16 per vertex to be read as normalized: uv = q / 65535 * scale + origin with
 * scale = extent * 65535 / (2^bits - 1) (see lds_meshopt_uv_scale). */
void lds_meshopt_quantize_uvs(const float *uvs, size_t count, const float origin[2], const float extent[2], int bits,
                              uint16_t *out);
/* The KHR_texture_transform scale that undoes lds_meshopt_quantize_uvs on one axis. */
double lds_meshopt_uv_scale(float extent, int bits);

/* RGBA in 0..1 to 4 unorm8 per vertex (clamped). */
void lds_meshopt_quantize_colors(const float *colors, size_t count, uint8_t *out);

#endif
