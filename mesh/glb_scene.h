/* glb_scene.h: writing a model's kept glTF scene (model->scene, mesh.h) into a GLB's JSON, for
 * glb_write.c. Not part of mesh.h's API. */
#ifndef LDS_GLB_SCENE_H
#define LDS_GLB_SCENE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mesh.h"

/* How the scene writer stores accessor data: count elements of `components` floats of glTF type
 * `type` as a new accessor (with min/max when bounds), returning its index or -1 (failure). */
typedef struct lds_glb_scene_sink {
    void *ctx;
    int (*accessor)(void *ctx, const float *data, size_t count, int components, const char *type, int bounds);
} lds_glb_scene_sink;

/* Fills out with the GLB's "scene", "scenes", "nodes", "meshes", "skins", "animations", "cameras"
 * and root "extensions" from scene_text. primitives holds the written primitives in order;
 * primitive_ids[i] is the scene primitive (its glTF mesh and extensions) of primitives[i]. The
 * names of the extensions written are appended to used (when not there yet). LDS_EFORMAT when
 * the scene text is malformed, LDS_ENOMEM. */
lds_status lds_glb_scene_write(const char *scene_text, json_t *primitives, const uint32_t *primitive_ids,
                               const lds_glb_scene_sink *sink, json_t *out, json_t *used, lds_error *err);

/* Per scene primitive entry (*count of them), 17 doubles in a new array *unbake: a flag (1 when the
 * entry's vertices carry a baked world matrix) and that matrix's inverse (column-major), which
 * gives the node's local geometry back. */
lds_status lds_glb_scene_unbake(const char *scene_text, size_t *count, double **unbake, lds_error *err);

#endif
