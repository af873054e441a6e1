/*
 * draco_shim.h: the C face of mesh/draco.cpp, the one C++ file of lodestone. Draco's types and
 * exceptions stop there; callers see plain arrays, lds_status and lds_error.
 *
 * Internal to mesh/ (glb_write.c) and its tests; not part of mesh.h.
 */
#ifndef LDS_DRACO_SHIM_H
#define LDS_DRACO_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One glTF primitive to compress. Arrays are borrowed, never kept. */
typedef struct lds_draco_input {
    size_t vertex_count;
    const float *positions; /* 3 per vertex, required */
    const float *normals;   /* 3 per vertex or NULL */
    const float *uvs;       /* 2 per vertex or NULL */
    const float *colors;    /* 4 per vertex in 0..1 or NULL; stored as normalized uint8 */
    const float *uvs1;      /* 2 per vertex (TEXCOORD_1) or NULL; quantised like uvs */
    const float *tangents;  /* 4 per vertex or NULL; a GENERIC float attribute */
    const uint16_t *joints; /* 4 per vertex (JOINTS_0) or NULL; a GENERIC uint16 attribute */
    const float *weights;   /* 4 per vertex (WEIGHTS_0), with joints; a GENERIC float attribute */
    size_t index_count;     /* multiple of 3; 0 makes a point cloud */
    const uint32_t *indices; /* relative to this vertex slice (0..vertex_count-1) */
    int position_bits, normal_bits, uv_bits; /* quantisation, 1..30 */
    int encode_speed, decode_speed;          /* Draco speed options 0 (smallest) .. 10 (fastest) */
} lds_draco_input;

/* The encoded primitive. Draco unique ids go into the glTF extension's "attributes" map. */
typedef struct lds_draco_output {
    unsigned char *data; /* malloc'd, the caller frees */
    size_t size;
    size_t point_count; /* points in the decoded geometry: the accessors' count */
    size_t face_count;  /* triangles in the decoded geometry (0 for point clouds) */
    int position_id, normal_id, uv_id, color_id, uv1_id, tangent_id; /* -1 when absent */
    int joints_id, weights_id;                                       /* -1 when absent */
} lds_draco_output;

/* Compresses one primitive (welding equal attribute values the way draco_encoder does) into
 * out (zeroed first). Thread-safe. LDS_ENOMEM / LDS_EINTERNAL with a message on failure. */
lds_status lds_draco_encode(const lds_draco_input *in, lds_draco_output *out, lds_error *err);

/* Decodes a Draco buffer (mesh or point cloud) and reports its point and face counts. When
 * positions is not NULL it receives a malloc'd array of 3 floats per point (caller frees).
 * For tests and checks; bad input is LDS_EFORMAT, never a crash. */
lds_status lds_draco_decode_counts(const unsigned char *data, size_t size, size_t *point_count,
                                   size_t *face_count, float **positions, lds_error *err);

/* A decoded Draco geometry (KHR_draco_mesh_compression input), read through the calls below. */
typedef struct lds_draco_mesh lds_draco_mesh;
/* Decodes a Draco buffer; *point_count and *face_count receive its size (faces 0 for a point
 * cloud). Bad input is LDS_EFORMAT, never a crash. The caller destroys *out. */
lds_status lds_draco_decode(const unsigned char *data, size_t size, lds_draco_mesh **out, size_t *point_count,
                            size_t *face_count, lds_error *err);
/* The faces as 3 point indices each (face_count * 3 entries). */
lds_status lds_draco_decode_indices(const lds_draco_mesh *mesh, uint32_t *out, lds_error *err);
/* The attribute with Draco unique id `id` as width floats per point (normalized integers mapped to
 * 0..1 / -1..1; components the attribute lacks taken from fill). LDS_ENOENT when absent. */
lds_status lds_draco_decode_attribute(const lds_draco_mesh *mesh, int id, int width, const float *fill, float *out,
                                      lds_error *err);
/* Accepts NULL. */
void lds_draco_mesh_destroy(lds_draco_mesh *mesh);

#ifdef __cplusplus
}
#endif
#endif
