/* gltf_scene.c: the glTF scene that the native reader keeps for skinned, animated, lit, instanced
 * or variant-mapped inputs (model->scene, described in mesh.h), so that every LOD file can carry
 * it again (glb_scene.c writes it back).
 *
 * Choice of space: the model stays what every stage expects (fingerprints, report, thumbnails, the
 * LOD error): each primitive instance in world space at the scene's rest pose, except skinned
 * primitives, which stay in their bind pose (mesh-local: glTF ignores a skinned mesh node's
 * transform, and the skin's inverse bind matrices expect the bind-pose vertices; no node transform
 * is ever baked into them). Each instance's entry in the scene names its node and, when it was
 * transformed, the world matrix baked into it; the writer (glb_scene.c) takes that matrix back out
 * so each node draws its own local geometry again, which its animations then move. A mesh that
 * several nodes draw is simplified once per instance, as in the flattened model.
 *
 * Out of scope: morph targets (a primitive's "targets", a mesh's "weights" and animation channels
 * on "weights" are dropped with a warning); accessors are kept as float data whatever their
 * component type (keyframes keep their values, inverse bind matrices are float anyway).
 */
#include <stdlib.h>
#include <string.h>

#include "gltf_internal.h"

static const char *const accessor_types[17] = {[1] = "SCALAR", [2] = "VEC2", [3] = "VEC3", [4] = "VEC4",
                                               [16] = "MAT4"};

int lds_gltf_scene_wanted(const gltf_doc *doc)
{
    if (lds_gltf_count(doc, "skins") || lds_gltf_count(doc, "animations"))
        return 1;
    json_t *used = json_object_get(doc->root, "extensionsUsed");
    for (size_t i = 0; i < json_array_size(used); i++) {
        const char *e = json_string_value(json_array_get(used, i));
        if (e && (strcmp(e, "KHR_lights_punctual") == 0 || strcmp(e, "EXT_mesh_gpu_instancing") == 0 ||
                  strcmp(e, "KHR_materials_variants") == 0))
            return 1;
    }
    return 0;
}

typedef struct builder {
    gltf_doc *doc;
    lds_mesh_model *model;
    lds_error *err;
    int dropped_morphs;
} builder;

static lds_status oom(builder *b)
{
    return lds_error_set(b->err, LDS_ENOMEM, "%s: out of memory keeping the scene", b->doc->ctx->name);
}

/* Accessor `index` as {"type", "data": [floats]}; *out NULL on failure (the error is set). */
static lds_status embed_accessor(builder *b, const json_t *index, json_t **out)
{
    *out = NULL;
    gltf_accessor info;
    lds_status st;
    if (!json_is_integer(index))
        return lds_error_set(b->err, LDS_EFORMAT, "%s: a scene accessor reference is malformed", b->doc->ctx->name);
    if ((st = lds_gltf_accessor_info(b->doc, json_integer_value(index), &info, b->err)) != LDS_OK)
        return st;
    int width = info.components;
    if (width < 1 || width > 16 || accessor_types[width] == NULL)
        return lds_error_set(b->err, LDS_EFORMAT, "%s: accessor %lld has an unsupported type for the scene",
                             b->doc->ctx->name, (long long)json_integer_value(index));
    float *values = malloc(info.count * (size_t)width * sizeof(float) + sizeof(float));
    static const float fill[16] = {0};
    if (values == NULL)
        return oom(b);
    if ((st = lds_gltf_read_floats(b->doc, json_integer_value(index), width, fill, values, b->err)) != LDS_OK) {
        free(values);
        return st;
    }
    json_t *obj = json_object(), *data = json_array();
    int bad = obj == NULL || data == NULL;
    for (size_t i = 0; !bad && i < info.count * (size_t)width; i++)
        bad |= json_array_append_new(data, json_real(values[i])) != 0;
    free(values);
    bad |= json_object_set_new(obj, "type", json_string(accessor_types[width])) != 0;
    bad |= json_object_set_new(obj, "data", data) != 0;
    if (bad) {
        json_decref(obj);
        return oom(b);
    }
    *out = obj;
    return LDS_OK;
}

/* Replaces obj[key] (an accessor index) by its data, when present. */
static lds_status embed_member(builder *b, json_t *obj, const char *key)
{
    json_t *index = json_object_get(obj, key), *embedded;
    if (index == NULL)
        return LDS_OK;
    lds_status st = embed_accessor(b, index, &embedded);
    if (st == LDS_OK && json_object_set_new(obj, key, embedded) != 0)
        st = oom(b);
    return st;
}

/* A deep copy of src keeping only the listed members. */
static json_t *pick(const json_t *src, const char *const *keys)
{
    json_t *out = json_object();
    for (size_t i = 0; out && keys[i]; i++) {
        json_t *v = json_object_get(src, keys[i]);
        if (v && json_object_set_new(out, keys[i], json_deep_copy(v)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static lds_status keep_node(builder *b, const json_t *src, json_t *nodes)
{
    static const char *const keys[] = {"name", "children", "matrix", "translation", "rotation", "scale",
                                       "mesh", "skin", "camera", NULL};
    json_t *node = pick(src, keys);
    if (node == NULL || json_array_append_new(nodes, node) != 0)
        return oom(b);
    json_t *exts = json_object_get(src, "extensions");
    json_t *light = json_object_get(exts, "KHR_lights_punctual");
    json_t *inst = json_object_get(exts, "EXT_mesh_gpu_instancing");
    if (json_object_get(src, "weights"))
        b->dropped_morphs = 1;
    if (!light && !inst)
        return LDS_OK;
    json_t *out = json_object();
    if (out == NULL || json_object_set_new(node, "extensions", out) != 0)
        return oom(b);
    if (light && json_object_set_new(out, "KHR_lights_punctual", json_deep_copy(light)) != 0)
        return oom(b);
    if (inst) {
        json_t *attrs = json_deep_copy(json_object_get(inst, "attributes")), *copy = json_object();
        if (copy == NULL || json_object_set_new(out, "EXT_mesh_gpu_instancing", copy) != 0 || attrs == NULL ||
            json_object_set_new(copy, "attributes", attrs) != 0)
            return attrs == NULL && copy ? lds_error_set(b->err, LDS_EFORMAT, "%s: malformed instancing",
                                                         b->doc->ctx->name)
                                         : oom(b);
        const char *key;
        json_t *value;
        json_object_foreach(attrs, key, value) {
            lds_status st = embed_member(b, attrs, key);
            if (st != LDS_OK)
                return st;
        }
    }
    return LDS_OK;
}

static lds_status keep_skin(builder *b, const json_t *src, json_t *skins)
{
    static const char *const keys[] = {"name", "joints", "skeleton", "inverseBindMatrices", NULL};
    json_t *skin = pick(src, keys);
    if (skin == NULL || json_array_append_new(skins, skin) != 0)
        return oom(b);
    return embed_member(b, skin, "inverseBindMatrices");
}

static lds_status keep_animation(builder *b, const json_t *src, json_t *animations)
{
    static const char *const keys[] = {"name", NULL};
    json_t *anim = pick(src, keys), *channels = json_array(), *samplers = json_array();
    if (anim == NULL || channels == NULL || samplers == NULL || json_array_append_new(animations, anim) != 0 ||
        json_object_set_new(anim, "channels", channels) != 0 || json_object_set_new(anim, "samplers", samplers) != 0)
        return oom(b);
    json_t *ch;
    size_t i;
    json_array_foreach(json_object_get(src, "channels"), i, ch) {
        const char *path = json_string_value(json_object_get(json_object_get(ch, "target"), "path"));
        if (path && strcmp(path, "weights") == 0) {
            b->dropped_morphs = 1;
            continue;
        }
        if (json_array_append_new(channels, json_deep_copy(ch)) != 0)
            return oom(b);
    }
    static const char *const sampler_keys[] = {"input", "output", "interpolation", NULL};
    json_t *sm;
    json_array_foreach(json_object_get(src, "samplers"), i, sm) {
        json_t *copy = pick(sm, sampler_keys);
        lds_status st;
        if (copy == NULL || json_array_append_new(samplers, copy) != 0)
            return oom(b);
        if ((st = embed_member(b, copy, "input")) != LDS_OK || (st = embed_member(b, copy, "output")) != LDS_OK)
            return st;
    }
    if (json_array_size(channels) == 0) /* it only morphed: glTF wants at least one channel */
        json_array_remove(animations, json_array_size(animations) - 1);
    return LDS_OK;
}

/* A number array of the matrix's 16 values. */
static json_t *matrix_json(const double *m)
{
    json_t *a = json_array();
    for (int i = 0; a && i < 16; i++)
        if (json_array_append_new(a, json_real(m[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* meshes: names; primitives: per instance its node, glTF mesh, baked world matrix and
 * KHR_materials_variants mappings. */
static lds_status keep_primitives(builder *b, json_t *scene, const gltf_scene_primitive *prims, size_t count)
{
    json_t *meshes = json_array(), *entries = json_array();
    if (meshes == NULL || entries == NULL || json_object_set_new(scene, "meshes", meshes) != 0 ||
        json_object_set_new(scene, "primitives", entries) != 0)
        return oom(b);
    for (size_t m = 0; m < lds_gltf_count(b->doc, "meshes"); m++) {
        static const char *const keys[] = {"name", NULL};
        json_t *mesh = lds_gltf_item(b->doc, "meshes", m);
        if (json_array_append_new(meshes, pick(mesh, keys)) != 0)
            return oom(b);
        b->dropped_morphs |= json_object_get(mesh, "weights") != NULL;
    }
    for (size_t i = 0; i < count; i++) {
        const gltf_scene_primitive *p = &prims[i];
        json_t *entry = json_object(), *exts = json_object();
        json_t *variants = json_object_get(json_object_get(p->primitive, "extensions"), "KHR_materials_variants");
        b->dropped_morphs |= json_object_get(p->primitive, "targets") != NULL;
        if (entry == NULL || exts == NULL || json_array_append_new(entries, entry) != 0 ||
            json_object_set_new(entry, "node", json_integer((json_int_t)p->node)) != 0 ||
            json_object_set_new(entry, "mesh", json_integer((json_int_t)p->mesh)) != 0 ||
            (p->baked && json_object_set_new(entry, "matrix", matrix_json(p->matrix)) != 0) ||
            json_object_set_new(entry, "extensions", exts) != 0 ||
            (variants && json_object_set_new(exts, "KHR_materials_variants", json_deep_copy(variants)) != 0))
            return oom(b);
    }
    return LDS_OK;
}

/* Root extensions (lights, the variants list), cameras and the scene's root nodes. */
static lds_status keep_roots(builder *b, json_t *scene, const json_t *roots)
{
    json_t *src = json_object_get(b->doc->root, "extensions");
    static const char *const ext_keys[] = {"KHR_lights_punctual", "KHR_materials_variants", NULL};
    json_t *picked = pick(src, ext_keys);
    json_t *cameras = json_object_get(b->doc->root, "cameras");
    if (picked == NULL || json_object_set_new(scene, "extensions", picked) != 0 ||
        json_object_set_new(scene, "roots", json_deep_copy(roots)) != 0 ||
        (cameras && json_object_set_new(scene, "cameras", json_deep_copy(cameras)) != 0))
        return oom(b);
    return LDS_OK;
}

lds_status lds_gltf_scene_build(gltf_doc *doc, const json_t *roots, const gltf_scene_primitive *prims,
                                size_t prim_count, lds_mesh_model *model, lds_error *err)
{
    builder b = {.doc = doc, .model = model, .err = err};
    json_t *scene = json_object(), *nodes = json_array(), *skins = json_array(), *anims = json_array();
    lds_status st = LDS_OK;
    if (scene == NULL || nodes == NULL || skins == NULL || anims == NULL ||
        json_object_set(scene, "nodes", nodes) != 0 || json_object_set(scene, "skins", skins) != 0 ||
        json_object_set(scene, "animations", anims) != 0)
        st = oom(&b);
    for (size_t i = 0; st == LDS_OK && i < lds_gltf_count(doc, "nodes"); i++)
        st = keep_node(&b, lds_gltf_item(doc, "nodes", i), nodes);
    for (size_t i = 0; st == LDS_OK && i < lds_gltf_count(doc, "skins"); i++)
        st = keep_skin(&b, lds_gltf_item(doc, "skins", i), skins);
    for (size_t i = 0; st == LDS_OK && i < lds_gltf_count(doc, "animations"); i++)
        st = keep_animation(&b, lds_gltf_item(doc, "animations", i), anims);
    if (st == LDS_OK)
        st = keep_primitives(&b, scene, prims, prim_count);
    if (st == LDS_OK)
        st = keep_roots(&b, scene, roots);
    if (st == LDS_OK && (model->scene = json_dumps(scene, JSON_PRESERVE_ORDER | JSON_COMPACT)) == NULL)
        st = oom(&b);
    if (st == LDS_OK && b.dropped_morphs)
        lds_mesh_model_warn(model, "%s: morph targets and their animation channels are not kept", doc->ctx->name);
    json_decref(nodes);
    json_decref(skins);
    json_decref(anims);
    json_decref(scene);
    return st;
}
