/* gltf_internal.h: the data layer of the native glTF 2.0 reader (gltf_access.c), shared with the
 * scene layer (import_gltf.c). Not part of mesh.h's API.
 *
 * A gltf_doc owns the parsed JSON, the binary chunk of a GLB, the buffers (loaded on first use
 * from the chunk, a data: URI or a sidecar) and the bufferViews decoded from
 * EXT_meshopt_compression. Every offset, length, stride and count read from the file is checked
 * before use; nothing is read outside a buffer and no allocation exceeds what the file's bytes and
 * the import limits allow. */
#ifndef LDS_GLTF_INTERNAL_H
#define LDS_GLTF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "import_internal.h"

typedef struct gltf_bytes {
    const unsigned char *data; /* NULL until loaded */
    size_t size;
    unsigned char *owned; /* what to free (data itself, or NULL when data points into the GLB) */
    int state;            /* 0 not tried, 1 loaded, -1 failed (missing, malformed) */
} gltf_bytes;

typedef struct gltf_doc {
    const lds_import_ctx *ctx;
    json_t *root;
    const unsigned char *bin; /* GLB binary chunk, NULL for .gltf */
    size_t bin_size;
    size_t buffer_count, view_count;
    gltf_bytes *buffers;
    gltf_bytes *views; /* meshopt-decoded views (others read straight from their buffer) */
    uint64_t max_elements; /* cap on one accessor's count (from the limits) */
    size_t decoded_bytes;  /* total bytes of decoded views, capped */
    int used_meshopt;
    int legacy; /* glTF 1.0: left to Assimp */
} gltf_doc;

/* Parses the container (GLB or JSON text) into doc (zeroed first). A glTF 1.0 file sets
 * doc->legacy and returns LDS_OK without going further. */
lds_status lds_gltf_open(gltf_doc *doc, const lds_import_ctx *ctx, const unsigned char *data, size_t size,
                         lds_error *err);
void lds_gltf_close(gltf_doc *doc);

/* Member helpers: the i-th element of root[key] (NULL when absent or not an object), and typed
 * reads with a default. */
json_t *lds_gltf_item(const gltf_doc *doc, const char *key, size_t i);
size_t lds_gltf_count(const gltf_doc *doc, const char *key);
/* An integer member in [min, max]: *out gets it or dflt when absent; -1 when present but
 * malformed or out of range. */
int lds_gltf_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t dflt, int64_t *out);
/* A number member (finite), or dflt when absent; -1 when malformed. */
int lds_gltf_number(const json_t *obj, const char *key, double dflt, double *out);
/* A number array of exactly n entries, or keeps out when absent; -1 when malformed. */
int lds_gltf_numbers(const json_t *obj, const char *key, size_t n, float *out);

/* The bytes of bufferView `view` (after meshopt decoding when compressed), with its stride (0 when
 * none given). LDS_EFORMAT naming the file when out of range, undecodable, or when its
 * buffer is missing. */
lds_status lds_gltf_view(gltf_doc *doc, int64_t view, const unsigned char **data, size_t *size, size_t *stride,
                         lds_error *err);

/* Accessor metadata. */
typedef struct gltf_accessor {
    size_t count;
    int components;     /* 1 SCALAR .. 4 VEC4, 16 MAT4 */
    int component_type; /* 5120..5126 */
    int normalized;
} gltf_accessor;
lds_status lds_gltf_accessor_info(gltf_doc *doc, int64_t index, gltf_accessor *info, lds_error *err);

/* Reads accessor `index` as floats: width floats per element (components beyond the accessor's
 * are filled from fill[], extra ones dropped), normalized integers mapped to [0,1] or [-1,1]
 * (glTF 3.11), sparse substitution applied. out holds info.count * width floats. */
lds_status lds_gltf_read_floats(gltf_doc *doc, int64_t index, int width, const float *fill, float *out,
                                lds_error *err);
/* Reads a SCALAR unsigned-integer accessor (indices) into out (info.count entries). */
lds_status lds_gltf_read_indices(gltf_doc *doc, int64_t index, uint32_t *out, lds_error *err);

/* Decodes an RFC 2397 data: URI with ;base64 into a malloc'd buffer. -1 when malformed. */
int lds_gltf_data_uri(const char *uri, unsigned char **data, size_t *size, char *mime, size_t mime_size);
/* Percent-decodes a relative URI into out (NUL-terminated); -1 when malformed or too long. */
int lds_gltf_uri_path(const char *uri, char *out, size_t out_size);

/* gltf_scene.c: 1 when the file has skins, animations, lights, GPU instancing or variant mappings,
 * whose scene the model keeps. */
int lds_gltf_scene_wanted(const gltf_doc *doc);
/* One primitive instance of the model (its submesh's "primitive" entry in the kept scene). */
typedef struct gltf_scene_primitive {
    const json_t *primitive; /* the glTF primitive */
    int64_t node;            /* the node drawing it */
    size_t mesh;             /* the node's glTF mesh */
    int baked;               /* 1: its vertices carry matrix (the node's world transform) */
    double matrix[16];
} gltf_scene_primitive;
/* Fills model->scene (mesh.h) from the file; roots are the scene's root node indices, prims the
 * model's primitive instances in submesh order. */
lds_status lds_gltf_scene_build(gltf_doc *doc, const json_t *roots, const gltf_scene_primitive *prims,
                                size_t prim_count, lds_mesh_model *model, lds_error *err);

#endif
