/* glb_scene.c: a model's kept glTF scene (model->scene, mesh.h; read by gltf_scene.c) written
 * back into a GLB: nodes in input order (so skins' joints, skeletons, children and animation
 * targets keep their indices), meshes regrouped from the written primitives (a mesh whose
 * primitives all vanished is left out and its nodes lose their mesh, skin and instancing), skins
 * with their inverse bind matrices, animations with their keyframes unchanged, cameras, lights
 * (KHR_lights_punctual), GPU instancing (EXT_mesh_gpu_instancing) and variants
 * (KHR_materials_variants: the root list and each primitive's mappings; materials keep their
 * indices in every writer). Every value read from the scene text is type-checked: a model that
 * came back from the sandbox is not trusted. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "glb_scene.h"

typedef struct scene_writer {
    const lds_glb_scene_sink *sink;
    json_t *used;
    int bad;  /* malformed scene */
    int oom;
} scene_writer;

static void put(scene_writer *sw, json_t *obj, const char *key, json_t *value)
{
    if (value == NULL || json_object_set_new(obj, key, value) != 0)
        sw->oom = 1;
}

static void use(scene_writer *sw, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(sw->used, i, v) {
        if (strcmp(json_string_value(v), name) == 0)
            return;
    }
    if (json_array_append_new(sw->used, json_string(name)) != 0)
        sw->oom = 1;
}

static int components_of(const char *type)
{
    static const struct { const char *name; int n; } types[] = {
        {"SCALAR", 1}, {"VEC2", 2}, {"VEC3", 3}, {"VEC4", 4}, {"MAT4", 16}};
    for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i].name) == 0)
            return types[i].n;
    return 0;
}

/* Replaces obj[key], an embedded accessor {"type", "data"}, by a written accessor's index. */
static void accessor_member(scene_writer *sw, json_t *obj, const char *key, int bounds)
{
    json_t *e = json_object_get(obj, key), *data = json_object_get(e, "data");
    const char *type = json_string_value(json_object_get(e, "type"));
    int n = components_of(type);
    size_t size = json_array_size(data);
    if (n == 0 || !json_is_array(data) || size == 0 || size % (size_t)n != 0) {
        sw->bad = 1;
        return;
    }
    float *values = malloc(size * sizeof(float));
    if (values == NULL) {
        sw->oom = 1;
        return;
    }
    for (size_t i = 0; i < size; i++) {
        json_t *v = json_array_get(data, i);
        sw->bad |= !json_is_number(v);
        values[i] = (float)json_number_value(v);
    }
    int index = sw->bad ? -1 : sw->sink->accessor(sw->sink->ctx, values, size / (size_t)n, n, type, bounds);
    free(values);
    if (index < 0)
        sw->oom |= !sw->bad;
    else
        put(sw, obj, key, json_integer(index));
}

/* One mesh per node that draws written primitives; map[n] is node n's new mesh or -1. */
static json_t *regroup_meshes(scene_writer *sw, const json_t *scene, json_t *primitives, const uint32_t *ids,
                              int *map, size_t node_count)
{
    json_t *meshes = json_array(), *entries = json_object_get(scene, "primitives");
    if (meshes == NULL) {
        sw->oom = 1;
        return NULL;
    }
    for (size_t n = 0; n < node_count; n++) {
        json_t *prims = json_array(), *name = NULL;
        for (size_t i = 0; prims && i < json_array_size(primitives); i++) {
            json_t *entry = json_array_get(entries, ids[i]);
            if (json_integer_value(json_object_get(entry, "node")) != (json_int_t)n)
                continue;
            json_t *p = json_array_get(primitives, i), *exts = json_object_get(entry, "extensions");
            json_t *mesh = json_array_get(json_object_get(scene, "meshes"),
                                          (size_t)json_integer_value(json_object_get(entry, "mesh")));
            name = name ? name : json_object_get(mesh, "name");
            if (json_object_size(exts) && !json_object_get(p, "extensions"))
                put(sw, p, "extensions", json_object());
            if (json_object_size(exts) && json_object_update(json_object_get(p, "extensions"), exts) != 0)
                sw->oom = 1;
            if (json_array_append(prims, p) != 0)
                sw->oom = 1;
        }
        map[n] = json_array_size(prims) ? (int)json_array_size(meshes) : -1;
        if (map[n] >= 0) {
            json_t *mesh = json_object();
            if (json_is_string(name))
                put(sw, mesh, "name", json_incref(name));
            put(sw, mesh, "primitives", json_incref(prims));
            if (json_array_append_new(meshes, mesh) != 0)
                sw->oom = 1;
        }
        json_decref(prims);
    }
    return meshes;
}

static void write_node(scene_writer *sw, json_t *node, int mesh_index)
{
    json_t *mesh = json_object_get(node, "mesh");
    json_t *inst = json_object_get(json_object_get(node, "extensions"), "EXT_mesh_gpu_instancing");
    if (mesh) {
        if (mesh_index < 0) {
            json_object_del(node, "mesh");
            json_object_del(node, "skin");
            if (inst)
                json_object_del(json_object_get(node, "extensions"), "EXT_mesh_gpu_instancing");
            inst = NULL;
        } else {
            put(sw, node, "mesh", json_integer(mesh_index));
        }
    }
    json_t *exts = json_object_get(node, "extensions");
    if (exts && json_object_size(exts) == 0)
        json_object_del(node, "extensions");
    if (json_object_get(exts, "KHR_lights_punctual"))
        use(sw, "KHR_lights_punctual");
    if (inst) {
        json_t *attrs = json_object_get(inst, "attributes");
        const char *key;
        json_t *value;
        void *tmp;
        json_object_foreach_safe(attrs, tmp, key, value) {
            accessor_member(sw, attrs, key, 0);
        }
        use(sw, "EXT_mesh_gpu_instancing");
    }
}

static void write_animation(scene_writer *sw, json_t *animation)
{
    size_t i;
    json_t *sampler;
    json_array_foreach(json_object_get(animation, "samplers"), i, sampler) {
        accessor_member(sw, sampler, "input", 1); /* the spec requires min/max on inputs */
        accessor_member(sw, sampler, "output", 0);
    }
}

static void write_parts(scene_writer *sw, json_t *scene, json_t *out, const int *map)
{
    size_t i;
    json_t *v;
    json_t *nodes = json_object_get(scene, "nodes"), *skins = json_object_get(scene, "skins");
    json_t *animations = json_object_get(scene, "animations");
    sw->bad |= !json_is_array(nodes) || !json_is_array(skins) || !json_is_array(animations);
    json_array_foreach(nodes, i, v) {
        sw->bad |= !json_is_object(v);
        if (json_is_object(v))
            write_node(sw, v, map[i]);
    }
    json_array_foreach(skins, i, v) {
        if (json_object_get(v, "inverseBindMatrices"))
            accessor_member(sw, v, "inverseBindMatrices", 0);
    }
    json_array_foreach(animations, i, v) {
        write_animation(sw, v);
    }
    if (json_array_size(nodes))
        put(sw, out, "nodes", json_incref(nodes));
    if (json_array_size(skins))
        put(sw, out, "skins", json_incref(skins));
    if (json_array_size(animations))
        put(sw, out, "animations", json_incref(animations));
    json_t *cameras = json_object_get(scene, "cameras");
    if (json_array_size(cameras))
        put(sw, out, "cameras", json_incref(cameras));
    json_t *exts = json_object_get(scene, "extensions");
    const char *key;
    json_object_foreach(exts, key, v) {
        use(sw, key);
    }
    if (json_object_size(exts))
        put(sw, out, "extensions", json_incref(exts));
}

lds_status lds_glb_scene_write(const char *scene_text, json_t *primitives, const uint32_t *primitive_ids,
                               const lds_glb_scene_sink *sink, json_t *out, json_t *used, lds_error *err)
{
    scene_writer sw = {.sink = sink, .used = used};
    json_t *scene = json_loads(scene_text, 0, NULL);
    size_t node_count = json_array_size(json_object_get(scene, "nodes"));
    int *map = malloc((node_count + 1) * sizeof(int));
    json_t *roots = json_object_get(scene, "roots");
    if (!json_is_object(scene) || !json_is_array(roots)) {
        sw.bad = 1;
    } else if (map == NULL) {
        sw.oom = 1;
    } else {
        size_t entries = json_array_size(json_object_get(scene, "primitives"));
        for (size_t i = 0; i < json_array_size(primitives); i++)
            sw.bad |= primitive_ids[i] >= entries;
        json_t *meshes = sw.bad ? NULL : regroup_meshes(&sw, scene, primitives, primitive_ids, map, node_count);
        if (meshes && !sw.bad) {
            put(&sw, out, "scene", json_integer(0));
            json_t *s = json_object(), *scenes = json_array();
            put(&sw, s, "nodes", json_incref(roots));
            if (json_array_append_new(scenes, s) != 0)
                sw.oom = 1;
            put(&sw, out, "scenes", scenes);
            write_parts(&sw, scene, out, map);
            put(&sw, out, "meshes", json_incref(meshes));
        }
        json_decref(meshes);
    }
    free(map);
    json_decref(scene);
    if (sw.bad)
        return lds_error_set(err, LDS_EFORMAT, "glb: the model's scene is malformed");
    if (sw.oom)
        return lds_error_set(err, LDS_ENOMEM, "glb: out of memory writing the scene");
    return LDS_OK;
}

/* The inverse of a column-major affine matrix into inv; 0 when singular. */
static int affine_inverse(const double *m, double *inv)
{
    double c[9] = {m[5] * m[10] - m[6] * m[9], m[2] * m[9] - m[1] * m[10], m[1] * m[6] - m[2] * m[5],
                   m[6] * m[8] - m[4] * m[10], m[0] * m[10] - m[2] * m[8], m[2] * m[4] - m[0] * m[6],
                   m[4] * m[9] - m[5] * m[8], m[1] * m[8] - m[0] * m[9], m[0] * m[5] - m[1] * m[4]};
    double det = m[0] * c[0] + m[4] * c[1] + m[8] * c[2];
    if (!(det != 0.0) || !isfinite(det))
        return 0;
    memset(inv, 0, 16 * sizeof(double));
    for (int col = 0; col < 3; col++)
        for (int row = 0; row < 3; row++)
            inv[col * 4 + row] = c[col * 3 + row] / det;
    for (int row = 0; row < 3; row++)
        inv[12 + row] = -(inv[row] * m[12] + inv[4 + row] * m[13] + inv[8 + row] * m[14]);
    inv[15] = 1.0;
    return 1;
}

lds_status lds_glb_scene_unbake(const char *scene_text, size_t *count, double **unbake, lds_error *err)
{
    json_t *scene = json_loads(scene_text, 0, NULL), *entries = json_object_get(scene, "primitives");
    *count = json_array_size(entries);
    *unbake = calloc(*count + 1, 17 * sizeof(double));
    for (size_t i = 0; *unbake && i < *count; i++) {
        json_t *mat = json_object_get(json_array_get(entries, i), "matrix");
        double m[16];
        if (json_array_size(mat) != 16)
            continue;
        for (int k = 0; k < 16; k++)
            m[k] = json_number_value(json_array_get(mat, (size_t)k));
        (*unbake)[17 * i] = affine_inverse(m, *unbake + 17 * i + 1);
    }
    json_decref(scene);
    if (*unbake == NULL)
        return lds_error_set(err, LDS_ENOMEM, "glb: out of memory reading the scene");
    return LDS_OK;
}
