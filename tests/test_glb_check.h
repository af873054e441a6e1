/* test_glb_check.h: reading back the GLBs lds_mesh_write_glb writes, for the glb tests. */
#ifndef LDS_TEST_GLB_CHECK_H
#define LDS_TEST_GLB_CHECK_H

#include <stddef.h>

#include "mesh.h"

typedef struct glb_summary {
    size_t triangles, points;   /* from the accessors (TRIANGLES index count / 3, POINTS vertex count) */
    size_t draco_primitives;    /* primitives decoded with Draco */
    size_t meshopt_views;       /* bufferViews decoded with meshopt */
    size_t json_bytes, bin_bytes;
    size_t images;              /* embedded images (bufferView + mimeType) */
    size_t checked_normals, checked_uvs; /* meshopt primitives whose normals / UVs were decoded and compared */
    double max_position_error;  /* largest decoded-vs-model position difference (meshopt, Draco) */
} glb_summary;

/* Parses a GLB (header, chunks, JSON), checks buffer lengths and alignment, decodes every Draco
 * primitive (lds_draco_decode_counts) and meshopt view (meshopt_decodeVertexBuffer/IndexBuffer)
 * and checks the decoded counts against the accessors. When model is not NULL, decoded
 * positions are compared with the model's (primitive i is submesh i). Failures are LDS_CHECKs. */
void glb_check(const char *what, const unsigned char *data, size_t size, const lds_mesh_model *model,
               glb_summary *summary);

/* Writes data to dir/name; returns the path (static buffer rotated over 64 entries). */
const char *glb_save(const char *dir, const char *name, const unsigned char *data, size_t size);

#endif
