/* import_gltf.c: the native glTF 2.0 reader (.glb, and .gltf with its .bin and images as sidecars
 * through the import's lds_mesh_reader), the scene layer over gltf_access.c.
 *
 * glTF 1.0 files go to Assimp. What it makes of a glTF 2.0 file (spec sections 3.5-3.9):
 * - the default scene (or the first, or every root node when there is no scene) is walked; each
 *   node's mesh instance becomes one submesh per primitive, positions, normals and tangents in
 *   world space (normals by the inverse transpose; winding flipped under a mirroring transform).
 *   Skinned primitives stay in their bind pose (the node transform does not apply to them).
 *   A file with skins, animations, lights, GPU instancing or variant mappings also keeps its scene
 *   (gltf_scene.c): the nodes in model->scene, each instance naming its node and world matrix;
 * - TRIANGLES, TRIANGLE_STRIP and TRIANGLE_FAN become triangle lists, POINTS point clouds; LINES,
 *   LINE_LOOP and LINE_STRIP are dropped with a warning;
 * - attributes POSITION, NORMAL, TEXCOORD_0/1, COLOR_0, TANGENT, JOINTS_0, WEIGHTS_0 in any
 *   accessor form; KHR_draco_mesh_compression primitives decoded by mesh/draco.cpp;
 * - materials whole (metallic-roughness, emissive + strength, alpha, double-sided, five slots with
 *   texCoord, sampler and KHR_texture_transform), other material extensions as JSON text with
 *   their texture references remapped to model textures;
 * - images embedded (bufferView, data: URI) or external (a sidecar); a missing image is a warning
 *   and the slot stays empty, so the material keeps its factors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draco_shim.h"
#include "gltf_internal.h"
#include "mesh_internal.h"

#define MAX_NODES_DEPTH 256

enum { MODE_POINTS = 0, MODE_LINES = 1, MODE_LINE_LOOP = 2, MODE_LINE_STRIP = 3, MODE_TRIANGLES = 4,
       MODE_STRIP = 5, MODE_FAN = 6 };

/* One primitive drawn at one place. */
typedef struct instance {
    const json_t *primitive;
    double matrix[16]; /* column-major world transform */
    int skinned;
    size_t mesh, index;          /* for messages, and the kept scene */
    int64_t node;
    size_t vertex_count, index_count; /* planned */
    int64_t mode;
} instance;

typedef struct scene {
    gltf_doc doc;
    lds_mesh_model *model;
    instance *instances;
    size_t instance_count, instance_cap;
    unsigned char *visited; /* per node */
    int *texture_map;       /* glTF texture -> model texture; -2 not yet loaded, -1 unusable */
    size_t texture_count;
    size_t default_material; /* SIZE_MAX until needed */
    unsigned attributes;     /* bit a: some primitive has lds_mesh_attributes[a] */
    int keep_scene;          /* instance i is the kept scene's primitive i */
    lds_error *err;
} scene;

/* ---- matrices ---- */

static void mat_identity(double *m)
{
    memset(m, 0, 16 * sizeof(double));
    m[0] = m[5] = m[10] = m[15] = 1.0;
}

static void mat_mul(const double *a, const double *b, double *out)
{
    double r[16];
    for (int c = 0; c < 4; c++)
        for (int row = 0; row < 4; row++) {
            double s = 0;
            for (int k = 0; k < 4; k++)
                s += a[k * 4 + row] * b[c * 4 + k];
            r[c * 4 + row] = s;
        }
    memcpy(out, r, sizeof(r));
}

/* The node's local transform: matrix, or T * R * S. */
static int node_matrix(const json_t *node, double *m)
{
    float mat[16], t[3] = {0, 0, 0}, r[4] = {0, 0, 0, 1}, s[3] = {1, 1, 1};
    mat_identity(m);
    if (json_object_get(node, "matrix")) {
        if (lds_gltf_numbers(node, "matrix", 16, mat) != 0)
            return -1;
        for (int i = 0; i < 16; i++)
            m[i] = mat[i];
        return 0;
    }
    if (lds_gltf_numbers(node, "translation", 3, t) || lds_gltf_numbers(node, "rotation", 4, r) ||
        lds_gltf_numbers(node, "scale", 3, s))
        return -1;
    double x = r[0], y = r[1], z = r[2], w = r[3];
    double n = sqrt(x * x + y * y + z * z + w * w);
    if (n > 0)
        x /= n, y /= n, z /= n, w /= n;
    double rot[9] = {1 - 2 * (y * y + z * z), 2 * (x * y + z * w),     2 * (x * z - y * w),
                     2 * (x * y - z * w),     1 - 2 * (x * x + z * z), 2 * (y * z + x * w),
                     2 * (x * z + y * w),     2 * (y * z - x * w),     1 - 2 * (x * x + y * y)};
    for (int c = 0; c < 3; c++)
        for (int row = 0; row < 3; row++)
            m[c * 4 + row] = rot[c * 3 + row] * s[c];
    m[12] = t[0], m[13] = t[1], m[14] = t[2];
    return 0;
}

/* ---- the scene walk: collects the primitive instances ---- */

static lds_status add_instances(scene *sc, const json_t *mesh, size_t mesh_index, const double *matrix, int skinned)
{
    json_t *primitives = json_object_get(mesh, "primitives");
    for (size_t p = 0; p < json_array_size(primitives); p++) {
        json_t *prim = json_array_get(primitives, p);
        if (!json_is_object(prim))
            return lds_error_set(sc->err, LDS_EFORMAT, "%s: mesh %zu primitive %zu is not an object",
                                 sc->doc.ctx->name, mesh_index, p);
        if (sc->instance_count == sc->instance_cap) {
            size_t cap = sc->instance_cap ? sc->instance_cap * 2 : 16;
            if (cap > 1000000)
                return lds_error_set(sc->err, LDS_ELIMIT, "%s: over a million primitive instances",
                                     sc->doc.ctx->name);
            instance *grown = realloc(sc->instances, cap * sizeof(instance));
            if (grown == NULL)
                return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", sc->doc.ctx->name);
            sc->instances = grown;
            sc->instance_cap = cap;
        }
        instance *in = &sc->instances[sc->instance_count++];
        memset(in, 0, sizeof(*in));
        in->primitive = prim;
        memcpy(in->matrix, matrix, sizeof(in->matrix));
        in->skinned = skinned;
        in->mesh = mesh_index;
        in->index = p;
    }
    return LDS_OK;
}

static lds_status walk_node(scene *sc, int64_t index, const double *parent, int depth)
{
    const char *name = sc->doc.ctx->name;
    size_t node_count = lds_gltf_count(&sc->doc, "nodes");
    json_t *node = index >= 0 && (uint64_t)index < node_count ? lds_gltf_item(&sc->doc, "nodes", (size_t)index) : NULL;
    if (node == NULL)
        return lds_error_set(sc->err, LDS_EFORMAT, "%s: node %lld does not exist", name, (long long)index);
    if (sc->visited[index] || depth > MAX_NODES_DEPTH) {
        lds_mesh_model_warn(sc->model, "%s: node %lld is reached twice (a cycle or a shared child); skipped", name,
                            (long long)index);
        return LDS_OK;
    }
    sc->visited[index] = 1;
    double local[16], world[16];
    if (node_matrix(node, local) != 0)
        return lds_error_set(sc->err, LDS_EFORMAT, "%s: node %lld has a malformed transform", name, (long long)index);
    mat_mul(parent, local, world);
    int64_t mesh;
    if (lds_gltf_int(node, "mesh", 0, INT32_MAX, -1, &mesh) != 0)
        return lds_error_set(sc->err, LDS_EFORMAT, "%s: node %lld has a malformed mesh", name, (long long)index);
    if (mesh >= 0) {
        json_t *m = lds_gltf_item(&sc->doc, "meshes", (size_t)mesh);
        if (m == NULL)
            return lds_error_set(sc->err, LDS_EFORMAT, "%s: node %lld uses mesh %lld that does not exist", name,
                                 (long long)index, (long long)mesh);
        size_t first = sc->instance_count;
        lds_status st = add_instances(sc, m, (size_t)mesh, world, json_object_get(node, "skin") != NULL);
        if (st != LDS_OK)
            return st;
        for (size_t i = first; i < sc->instance_count; i++)
            sc->instances[i].node = index;
    }
    json_t *children = json_object_get(node, "children");
    for (size_t c = 0; c < json_array_size(children); c++) {
        json_t *child = json_array_get(children, c);
        if (!json_is_integer(child))
            return lds_error_set(sc->err, LDS_EFORMAT, "%s: node %lld has a malformed child", name, (long long)index);
        lds_status st = walk_node(sc, json_integer_value(child), world, depth + 1);
        if (st != LDS_OK)
            return st;
    }
    return LDS_OK;
}

/* The root nodes: the default scene's, else the first scene's, else every node that is nobody's
 * child. *out is a new JSON array of node indices. */
static lds_status root_nodes(scene *sc, json_t **out)
{
    size_t node_count = lds_gltf_count(&sc->doc, "nodes");
    int64_t scene_index;
    if (lds_gltf_int(sc->doc.root, "scene", 0, INT32_MAX, 0, &scene_index) != 0)
        return lds_error_set(sc->err, LDS_EFORMAT, "%s: malformed default scene", sc->doc.ctx->name);
    json_t *s = lds_gltf_item(&sc->doc, "scenes", (size_t)scene_index);
    if (s != NULL) {
        json_t *nodes = json_object_get(s, "nodes");
        for (size_t i = 0; i < json_array_size(nodes); i++)
            if (!json_is_integer(json_array_get(nodes, i)))
                return lds_error_set(sc->err, LDS_EFORMAT, "%s: scene node %zu is malformed", sc->doc.ctx->name, i);
        *out = json_is_array(nodes) ? json_incref(nodes) : json_array();
    } else {
        unsigned char *is_child = calloc(node_count + 1, 1);
        *out = json_array();
        if (is_child == NULL || *out == NULL) {
            free(is_child);
            json_decref(*out);
            return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", sc->doc.ctx->name);
        }
        for (size_t i = 0; i < node_count; i++) {
            json_t *children = json_object_get(lds_gltf_item(&sc->doc, "nodes", i), "children");
            for (size_t c = 0; c < json_array_size(children); c++) {
                json_int_t k = json_integer_value(json_array_get(children, c));
                if (k >= 0 && (size_t)k < node_count)
                    is_child[k] = 1;
            }
        }
        for (size_t i = 0; i < node_count; i++)
            if (!is_child[i])
                json_array_append_new(*out, json_integer((json_int_t)i));
        free(is_child);
    }
    return *out ? LDS_OK : lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", sc->doc.ctx->name);
}

/* Flattened: every primitive instance of the root nodes' subtrees, in world space. */
static lds_status walk_scene(scene *sc, const json_t *roots)
{
    size_t node_count = lds_gltf_count(&sc->doc, "nodes");
    if ((sc->visited = calloc(node_count + 1, 1)) == NULL)
        return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", sc->doc.ctx->name);
    double identity[16];
    mat_identity(identity);
    lds_status st = LDS_OK;
    for (size_t i = 0; i < json_array_size(roots) && st == LDS_OK; i++)
        st = walk_node(sc, json_integer_value(json_array_get(roots, i)), identity, 0);
    return st;
}

/* ---- materials and textures ---- */

/* Loads image `index` as a model texture: its bufferView, its data: URI, or its file through the
 * sidecar reader (missing: a texture without data and a warning, from lds_import_texture_file). */
static lds_status load_image(scene *sc, const json_t *image, size_t index, int *out)
{
    const char *name = sc->doc.ctx->name;
    const char *uri = json_string_value(json_object_get(image, "uri"));
    const char *label = json_string_value(json_object_get(image, "name"));
    const char *mime = json_string_value(json_object_get(image, "mimeType"));
    char tex_name[256];
    const char *ext = mime && strcmp(mime, "image/jpeg") == 0 ? ".jpg" : mime && strcmp(mime, "image/webp") == 0 ? ".webp" : ".png";
    snprintf(tex_name, sizeof(tex_name), "%.200s#%zu%s", label && label[0] ? label : "image", index, ext);
    int64_t view;
    lds_status st;
    *out = -1;
    if (uri && strncmp(uri, "data:", 5) != 0) {
        char path[1024];
        if (lds_gltf_uri_path(uri, path, sizeof(path)) != 0) {
            lds_mesh_model_warn(sc->model, "%s: image %zu has a malformed URI; its slots are left empty", name, index);
            return LDS_OK;
        }
        return lds_import_texture_file(sc->doc.ctx, sc->model, path, out);
    }
    unsigned char *decoded = NULL;
    const unsigned char *bytes = NULL;
    size_t size = 0, stride;
    lds_error ignored = {0};
    if (uri) {
        if (lds_gltf_data_uri(uri, &decoded, &size, NULL, 0) == 0)
            bytes = decoded;
    } else if (lds_gltf_int(image, "bufferView", 0, INT32_MAX, -1, &view) == 0 && view >= 0 &&
               lds_gltf_view(&sc->doc, view, &bytes, &size, &stride, &ignored) != LDS_OK) {
        bytes = NULL;
    }
    if (bytes == NULL) {
        lds_mesh_model_warn(sc->model, "%s: image %zu is missing or unreadable; its slots are left empty", name, index);
        return LDS_OK;
    }
    st = lds_import_texture_bytes(sc->model, tex_name, bytes, size, out);
    free(decoded);
    return st;
}

/* The model texture of glTF texture `index` (loading its image on first use), or -1 with a
 * warning when it has no usable image. */
static lds_status texture_of(scene *sc, int64_t index, int *out, lds_mesh_sampler *sampler)
{
    const char *name = sc->doc.ctx->name;
    *out = -1;
    json_t *tex = index >= 0 && (uint64_t)index < sc->texture_count ? lds_gltf_item(&sc->doc, "textures", (size_t)index)
                                                                     : NULL;
    if (tex == NULL) {
        lds_mesh_model_warn(sc->model, "%s: texture %lld does not exist; the slot is left empty", name, (long long)index);
        return LDS_OK;
    }
    int64_t s, v;
    json_t *smp = lds_gltf_int(tex, "sampler", 0, INT32_MAX, -1, &s) == 0 && s >= 0
                      ? lds_gltf_item(&sc->doc, "samplers", (size_t)s) : NULL;
    memset(sampler, 0, sizeof(*sampler));
    if (smp) {
        sampler->mag_filter = lds_gltf_int(smp, "magFilter", 9728, 9729, 0, &v) == 0 ? (int)v : 0;
        sampler->min_filter = lds_gltf_int(smp, "minFilter", 9728, 9987, 0, &v) == 0 && (v <= 9729 || v >= 9984)
                                  ? (int)v : 0;
        sampler->wrap_s = lds_gltf_int(smp, "wrapS", 10497, 33648, 0, &v) == 0 &&
                                  (v == 10497 || v == 33071 || v == 33648) ? (int)v : 0;
        sampler->wrap_t = lds_gltf_int(smp, "wrapT", 10497, 33648, 0, &v) == 0 &&
                                  (v == 10497 || v == 33071 || v == 33648) ? (int)v : 0;
    }
    if (sc->texture_map[index] != -2) {
        *out = sc->texture_map[index];
        return LDS_OK;
    }
    sc->texture_map[index] = -1;
    int64_t source;
    json_t *exts = json_object_get(tex, "extensions");
    if (lds_gltf_int(tex, "source", 0, INT32_MAX, -1, &source) != 0 || source < 0) {
        /* no core image: EXT_texture_webp carries one we keep as bytes */
        json_t *webp = json_object_get(exts, "EXT_texture_webp");
        if (lds_gltf_int(webp, "source", 0, INT32_MAX, -1, &source) != 0 || source < 0) {
            lds_mesh_model_warn(sc->model, "%s: texture %lld has no image we can read; the slot is left empty", name,
                                (long long)index);
            return LDS_OK;
        }
    }
    json_t *image = lds_gltf_item(&sc->doc, "images", (size_t)source);
    if (image == NULL) {
        lds_mesh_model_warn(sc->model, "%s: texture %lld uses image %lld that does not exist", name, (long long)index,
                            (long long)source);
        return LDS_OK;
    }
    lds_status st = load_image(sc, image, (size_t)source, &sc->texture_map[index]);
    *out = sc->texture_map[index];
    return st;
}

/* A textureInfo (with its texture's sampler and KHR_texture_transform) into ref. scale_key names
 * normalTexture's "scale" / occlusionTexture's "strength" (NULL for the others). */
static lds_status read_texture_ref(scene *sc, const json_t *info, const char *scale_key, size_t material,
                                   lds_mesh_texture_ref *ref)
{
    if (info == NULL)
        return LDS_OK;
    const char *name = sc->doc.ctx->name;
    int64_t index, tex_coord;
    double scale = 1.0;
    if (!json_is_object(info) || lds_gltf_int(info, "index", 0, INT32_MAX, -1, &index) != 0 || index < 0 ||
        lds_gltf_int(info, "texCoord", 0, INT32_MAX, 0, &tex_coord) != 0 ||
        (scale_key && lds_gltf_number(info, scale_key, 1.0, &scale) != 0)) {
        lds_mesh_model_warn(sc->model, "%s: material %zu has a malformed texture reference; the slot is left empty",
                            name, material);
        return LDS_OK;
    }
    if (tex_coord > 1) {
        lds_mesh_model_warn(sc->model, "%s: material %zu uses TEXCOORD_%lld; only sets 0 and 1 are kept", name,
                            material, (long long)tex_coord);
        tex_coord = 0;
    }
    lds_status st = texture_of(sc, index, &ref->texture, &ref->sampler);
    if (st != LDS_OK || ref->texture < 0)
        return st;
    ref->tex_coord = (int)tex_coord;
    ref->scale = (float)scale;
    json_t *tt = json_object_get(json_object_get(info, "extensions"), "KHR_texture_transform");
    if (json_is_object(tt)) {
        lds_mesh_texture_transform *t = &ref->transform;
        double rotation;
        int64_t tc;
        if (lds_gltf_numbers(tt, "offset", 2, t->offset) || lds_gltf_numbers(tt, "scale", 2, t->scale) ||
            lds_gltf_number(tt, "rotation", 0.0, &rotation) || lds_gltf_int(tt, "texCoord", 0, 1, -1, &tc)) {
            lds_mesh_model_warn(sc->model, "%s: material %zu has a malformed KHR_texture_transform; ignored", name,
                                material);
            t->offset[0] = t->offset[1] = 0.0f;
            t->scale[0] = t->scale[1] = 1.0f;
            return LDS_OK;
        }
        t->present = 1;
        t->rotation = (float)rotation;
        t->tex_coord = (int)tc;
    }
    return LDS_OK;
}

/* Remaps every textureInfo (a member named "...Texture" holding {"index": N}) inside a material
 * extension to the model's texture, dropping those whose image is unusable. */
static lds_status remap_extension_textures(scene *sc, json_t *value, int depth)
{
    if (depth > 16)
        return LDS_OK;
    if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++) {
            lds_status st = remap_extension_textures(sc, json_array_get(value, i), depth + 1);
            if (st != LDS_OK)
                return st;
        }
        return LDS_OK;
    }
    if (!json_is_object(value))
        return LDS_OK;
    const char *key;
    json_t *item;
    void *tmp;
    json_object_foreach_safe(value, tmp, key, item)
    {
        size_t len = strlen(key);
        int64_t index;
        if (len >= 7 && strcmp(key + len - 7, "Texture") == 0 && json_is_object(item)) {
            int texture = -1;
            lds_mesh_sampler sampler;
            lds_status st = LDS_OK;
            if (lds_gltf_int(item, "index", 0, INT32_MAX, -1, &index) == 0 && index >= 0)
                st = texture_of(sc, index, &texture, &sampler);
            if (st != LDS_OK)
                return st;
            if (texture < 0 || json_object_set_new(item, "index", json_integer(texture)) != 0)
                json_object_del(value, key);
            continue;
        }
        lds_status st = remap_extension_textures(sc, item, depth + 1);
        if (st != LDS_OK)
            return st;
    }
    return LDS_OK;
}

static lds_status read_extensions(scene *sc, const json_t *material, size_t index, lds_mesh_material *m)
{
    json_t *exts = json_object_get(material, "extensions");
    if (!json_is_object(exts) || json_object_size(exts) == 0)
        return LDS_OK;
    json_t *copy = json_deep_copy(exts);
    if (copy == NULL)
        return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", sc->doc.ctx->name);
    double strength;
    json_t *es = json_object_get(copy, "KHR_materials_emissive_strength");
    if (es && lds_gltf_number(es, "emissiveStrength", 1.0, &strength) == 0 && strength >= 0) {
        m->emissive_strength = (float)strength;
        json_object_del(copy, "KHR_materials_emissive_strength");
    }
    lds_status st = remap_extension_textures(sc, copy, 0);
    if (st == LDS_OK && json_object_size(copy) > 0 &&
        (m->extensions = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
        st = lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory for material %zu's extensions", sc->doc.ctx->name,
                           index);
    json_decref(copy);
    return st;
}

static lds_status read_material(scene *sc, size_t index, lds_mesh_material *m)
{
    const char *name = sc->doc.ctx->name;
    json_t *mat = lds_gltf_item(&sc->doc, "materials", index);
    lds_mesh_material_init(m);
    if (mat == NULL)
        return lds_error_set(sc->err, LDS_EFORMAT, "%s: material %zu is not an object", name, index);
    const char *label = json_string_value(json_object_get(mat, "name"));
    if (label && (m->name = strdup(label)) == NULL)
        return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", name);
    json_t *pbr = json_object_get(mat, "pbrMetallicRoughness");
    double metallic, roughness, cutoff;
    const char *alpha = json_string_value(json_object_get(mat, "alphaMode"));
    if (lds_gltf_numbers(pbr, "baseColorFactor", 4, m->base_color) ||
        lds_gltf_number(pbr, "metallicFactor", 1.0, &metallic) || lds_gltf_number(pbr, "roughnessFactor", 1.0, &roughness) ||
        lds_gltf_numbers(mat, "emissiveFactor", 3, m->emissive) || lds_gltf_number(mat, "alphaCutoff", 0.5, &cutoff)) {
        lds_mesh_model_warn(sc->model, "%s: material %zu has malformed factors; defaults used", name, index);
        metallic = roughness = 1.0, cutoff = 0.5;
    }
    m->metallic = (float)metallic;
    m->roughness = (float)roughness;
    m->alpha_cutoff = (float)cutoff;
    m->alpha_mode = alpha && strcmp(alpha, "MASK") == 0    ? LDS_MESH_ALPHA_MASK
                    : alpha && strcmp(alpha, "BLEND") == 0 ? LDS_MESH_ALPHA_BLEND
                                                           : LDS_MESH_ALPHA_OPAQUE;
    m->double_sided = json_is_true(json_object_get(mat, "doubleSided"));
    lds_status st;
    if ((st = read_texture_ref(sc, json_object_get(pbr, "baseColorTexture"), NULL, index,
                               &m->maps[LDS_MESH_MAP_BASE_COLOR])) != LDS_OK ||
        (st = read_texture_ref(sc, json_object_get(pbr, "metallicRoughnessTexture"), NULL, index,
                               &m->maps[LDS_MESH_MAP_METALLIC_ROUGHNESS])) != LDS_OK ||
        (st = read_texture_ref(sc, json_object_get(mat, "normalTexture"), "scale", index,
                               &m->maps[LDS_MESH_MAP_NORMAL])) != LDS_OK ||
        (st = read_texture_ref(sc, json_object_get(mat, "occlusionTexture"), "strength", index,
                               &m->maps[LDS_MESH_MAP_OCCLUSION])) != LDS_OK ||
        (st = read_texture_ref(sc, json_object_get(mat, "emissiveTexture"), NULL, index,
                               &m->maps[LDS_MESH_MAP_EMISSIVE])) != LDS_OK)
        return st;
    return read_extensions(sc, mat, index, m);
}

static lds_status read_materials(scene *sc)
{
    size_t count = lds_gltf_count(&sc->doc, "materials");
    if (count > 65536)
        return lds_error_set(sc->err, LDS_ELIMIT, "%s: %zu materials is over the limit", sc->doc.ctx->name, count);
    if (count == 0)
        return LDS_OK;
    lds_mesh_model *model = sc->model;
    if ((model->materials = calloc(count, sizeof(lds_mesh_material))) == NULL)
        return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", sc->doc.ctx->name);
    for (size_t i = 0; i < count; i++) {
        model->material_count = i + 1;
        lds_status st = read_material(sc, i, &model->materials[i]);
        if (st != LDS_OK)
            return st;
    }
    return LDS_OK;
}

/* ---- primitives ---- */

/* The attribute table index of a glTF attribute name, or -1 for one the model does not keep. */
static int attribute_slot(const char *semantic)
{
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++)
        if (strcmp(semantic, lds_mesh_attributes[a].name) == 0)
            return (int)a;
    return -1;
}

static const json_t *draco_ext(const instance *in)
{
    json_t *d = json_object_get(json_object_get(in->primitive, "extensions"), "KHR_draco_mesh_compression");
    return json_is_object(d) ? d : NULL;
}

/* Triangles a primitive of `count` indices makes in `mode`. */
static size_t triangles_of(int64_t mode, size_t count)
{
    if (mode == MODE_TRIANGLES)
        return count / 3;
    return count >= 3 ? count - 2 : 0;
}

/* Counts one instance's vertices and indices, and which attributes it has. vertex_count 0 means
 * the primitive is skipped (with a warning). */
static lds_status plan_instance(scene *sc, instance *in)
{
    const char *name = sc->doc.ctx->name;
    json_t *attrs = json_object_get(in->primitive, "attributes");
    int64_t position, indices;
    gltf_accessor info;
    lds_status st;
    if (lds_gltf_int(in->primitive, "mode", 0, 6, MODE_TRIANGLES, &in->mode) != 0 ||
        lds_gltf_int(attrs, "POSITION", 0, INT32_MAX, -1, &position) != 0 ||
        lds_gltf_int(in->primitive, "indices", 0, INT32_MAX, -1, &indices) != 0)
        return lds_error_set(sc->err, LDS_EFORMAT, "%s: mesh %zu primitive %zu is malformed", name, in->mesh, in->index);
    if (in->mode >= MODE_LINES && in->mode <= MODE_LINE_STRIP) {
        lds_mesh_model_warn(sc->model, "%s: line primitives are not kept (mesh %zu)", name, in->mesh);
        return LDS_OK;
    }
    if (position < 0) {
        lds_mesh_model_warn(sc->model, "%s: mesh %zu primitive %zu has no POSITION; skipped", name, in->mesh, in->index);
        return LDS_OK;
    }
    size_t vertices, index_count;
    const json_t *draco = draco_ext(in);
    if (draco == NULL) {
        if ((st = lds_gltf_accessor_info(&sc->doc, position, &info, sc->err)) != LDS_OK)
            return st;
        vertices = info.count;
        index_count = vertices;
        if (indices >= 0) {
            if ((st = lds_gltf_accessor_info(&sc->doc, indices, &info, sc->err)) != LDS_OK)
                return st;
            index_count = info.count;
        }
    } else {
        /* Draco's own counts come from the decode; the accessors state them too (the spec requires
         * them to agree), which is what the plan trusts. */
        if ((st = lds_gltf_accessor_info(&sc->doc, position, &info, sc->err)) != LDS_OK)
            return st;
        vertices = info.count;
        index_count = vertices;
        if (indices >= 0 && (st = lds_gltf_accessor_info(&sc->doc, indices, &info, sc->err)) == LDS_OK)
            index_count = info.count;
        else if (st != LDS_OK)
            return st;
    }
    if (draco && in->mode != MODE_POINTS)
        in->mode = MODE_TRIANGLES; /* Draco decodes to a triangle list */
    in->vertex_count = vertices;
    in->index_count = in->mode == MODE_POINTS ? 0 : triangles_of(in->mode, index_count) * 3;
    if (in->mode != MODE_POINTS && in->index_count == 0) {
        in->vertex_count = 0;
        return LDS_OK;
    }
    const char *key;
    json_t *value;
    json_object_foreach(attrs, key, value)
    {
        int a = attribute_slot(key);
        if (a >= 0)
            sc->attributes |= 1u << a;
    }
    return LDS_OK;
}

/* Indices of a strip or fan (or a list) as a triangle list into out (in->index_count entries),
 * checked against the vertex count; winding flipped when flip. */
static lds_status triangulate(scene *sc, const instance *in, const uint32_t *src, uint32_t base, int flip,
                              uint32_t *out)
{
    size_t tris = in->index_count / 3;
    for (size_t t = 0; t < tris; t++) {
        uint32_t a, b, c;
        if (in->mode == MODE_TRIANGLES) /* glTF 2.0 section 3.7.2.1 */
            a = src[3 * t], b = src[3 * t + 1], c = src[3 * t + 2];
        else if (in->mode == MODE_STRIP)
            a = src[t], b = src[t + 1 + (t & 1)], c = src[t + 2 - (t & 1)];
        else
            a = src[t + 1], b = src[t + 2], c = src[0];
        if (a >= in->vertex_count || b >= in->vertex_count || c >= in->vertex_count)
            return lds_error_set(sc->err, LDS_EFORMAT, "%s: mesh %zu primitive %zu index %u is over its %zu vertices",
                                 sc->doc.ctx->name, in->mesh, in->index, a >= in->vertex_count ? a : b >= in->vertex_count ? b : c,
                                 in->vertex_count);
        out[3 * t] = base + a;
        out[3 * t + 1] = base + (flip ? c : b);
        out[3 * t + 2] = base + (flip ? b : c);
    }
    return LDS_OK;
}

/* Defaults of attributes a primitive lacks but the model has: white, +X tangents, no weights. */
static const float attribute_fill[LDS_MESH_ATTRIBUTE_COUNT][4] = {
    [LDS_MESH_ATTR_COLORS] = {1, 1, 1, 1},
    [LDS_MESH_ATTR_TANGENTS] = {1, 0, 0, 1},
};

/* Reads the vertex attributes of one instance into the model at vertex `base`, from its accessors
 * or its Draco buffer. */
static lds_status read_attributes(scene *sc, const instance *in, size_t base, const lds_draco_mesh *draco)
{
    const char *name = sc->doc.ctx->name;
    lds_mesh_model *m = sc->model;
    json_t *attrs = json_object_get(in->primitive, "attributes");
    json_t *draco_attrs = json_object_get(draco_ext(in), "attributes");
    static const float fill3[4] = {0, 0, 0, 1};
    for (int a = -1; a < LDS_MESH_ATTRIBUTE_COUNT; a++) {
        float *dst = a < 0 ? m->positions : lds_mesh_attribute_data(m, (unsigned)a);
        if (dst == NULL)
            continue;
        const char *semantic = a < 0 ? "POSITION" : lds_mesh_attributes[a].name;
        int width = a < 0 ? 3 : (int)lds_mesh_attributes[a].width;
        const float *fill = a < 0 ? fill3 : attribute_fill[a];
        dst += base * (size_t)width;
        int64_t accessor, id;
        gltf_accessor info;
        lds_status st;
        if (lds_gltf_int(attrs, semantic, 0, INT32_MAX, -1, &accessor) != 0 || accessor < 0) {
            for (size_t v = 0; v < in->vertex_count; v++)
                memcpy(dst + v * (size_t)width, fill, (size_t)width * sizeof(float));
            continue;
        }
        if (draco && lds_gltf_int(draco_attrs, semantic, 0, INT32_MAX, -1, &id) == 0 && id >= 0) {
            lds_error derr = {0};
            if ((st = lds_draco_decode_attribute(draco, (int)id, width, fill, dst, &derr)) != LDS_OK)
                return lds_error_set(sc->err, st, "%s: mesh %zu %s: %s", name, in->mesh, semantic, derr.message);
        } else if ((st = lds_gltf_accessor_info(&sc->doc, accessor, &info, sc->err)) == LDS_OK) {
            if (info.count != in->vertex_count)
                return lds_error_set(sc->err, LDS_EFORMAT, "%s: mesh %zu primitive %zu has %zu %s values for %zu "
                                     "vertices", name, in->mesh, in->index, info.count, semantic, in->vertex_count);
            st = lds_gltf_read_floats(&sc->doc, accessor, width, fill, dst, sc->err);
        }
        if (st != LDS_OK)
            return st;
    }
    return LDS_OK;
}

/* Applies the instance's world matrix to its vertices [base, base + count). Returns whether the
 * transform mirrors (negative determinant). */
static int transform_vertices(lds_mesh_model *m, const instance *in, size_t base)
{
    return lds_mesh_transform_vertices(m->positions + 3 * base, m->normals ? m->normals + 3 * base : NULL,
                                       m->tangents ? m->tangents + 4 * base : NULL, in->vertex_count, in->matrix);
}

static int is_identity(const double *m)
{
    double id[16];
    mat_identity(id);
    return memcmp(m, id, sizeof(id)) == 0;
}

/* Fills one planned instance into the model at (vertex base, index base) and its submesh. */
static lds_status fill_instance(scene *sc, instance *in, size_t vbase, size_t ibase, lds_mesh_submesh *sm)
{
    const char *name = sc->doc.ctx->name;
    lds_mesh_model *m = sc->model;
    lds_draco_mesh *draco = NULL;
    uint32_t *src = NULL;
    lds_status st = LDS_OK;
    const json_t *ext = draco_ext(in);
    int64_t indices;
    lds_gltf_int(in->primitive, "indices", 0, INT32_MAX, -1, &indices);
    size_t src_count = in->vertex_count;
    if (ext) {
        int64_t view;
        const unsigned char *data;
        size_t size, stride, points, faces;
        if (lds_gltf_int(ext, "bufferView", 0, INT32_MAX, -1, &view) != 0 || view < 0)
            return lds_error_set(sc->err, LDS_EFORMAT, "%s: mesh %zu has a malformed Draco extension", name, in->mesh);
        if ((st = lds_gltf_view(&sc->doc, view, &data, &size, &stride, sc->err)) != LDS_OK)
            return st;
        lds_error derr = {0};
        if ((st = lds_draco_decode(data, size, &draco, &points, &faces, &derr)) != LDS_OK)
            return lds_error_set(sc->err, st, "%s: mesh %zu primitive %zu: %s", name, in->mesh, in->index,
                                 derr.message);
        if (points != in->vertex_count || (in->mode != MODE_POINTS && faces * 3 != in->index_count))
            st = lds_error_set(sc->err, LDS_EFORMAT, "%s: mesh %zu primitive %zu: Draco holds %zu points and %zu "
                               "faces, the accessors say %zu and %zu indices", name, in->mesh, in->index, points, faces,
                               in->vertex_count, in->index_count);
        src_count = faces * 3;
        if (st == LDS_OK && (src = malloc((src_count ? src_count : 1) * sizeof(uint32_t))) == NULL)
            st = lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", name);
        if (st == LDS_OK && (st = lds_draco_decode_indices(draco, src, &derr)) != LDS_OK)
            st = lds_error_set(sc->err, st, "%s: mesh %zu: %s", name, in->mesh, derr.message);
    } else if (in->mode != MODE_POINTS) {
        gltf_accessor info = {.count = in->vertex_count};
        if (indices >= 0)
            st = lds_gltf_accessor_info(&sc->doc, indices, &info, sc->err);
        src_count = info.count;
        if (st == LDS_OK && (src = malloc(src_count * sizeof(uint32_t))) == NULL)
            st = lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", name);
        if (st == LDS_OK && indices >= 0)
            st = lds_gltf_read_indices(&sc->doc, indices, src, sc->err);
        for (size_t i = 0; st == LDS_OK && indices < 0 && i < src_count; i++)
            src[i] = (uint32_t)i;
    }
    if (st == LDS_OK)
        st = read_attributes(sc, in, vbase, draco);
    int flip = 0;
    if (st == LDS_OK && !in->skinned && !is_identity(in->matrix))
        flip = transform_vertices(m, in, vbase);
    if (st == LDS_OK && in->mode != MODE_POINTS)
        st = triangulate(sc, in, src, (uint32_t)vbase, flip, m->indices + ibase);
    free(src);
    lds_draco_mesh_destroy(draco);
    if (st != LDS_OK)
        return st;
    sm->vertex_offset = (uint32_t)vbase;
    sm->vertex_count = (uint32_t)in->vertex_count;
    sm->index_offset = (uint32_t)ibase;
    sm->index_count = (uint32_t)in->index_count;
    return LDS_OK;
}

/* ---- the model ---- */

static lds_status material_of(scene *sc, const instance *in, uint32_t *out)
{
    int64_t material;
    lds_mesh_model *m = sc->model;
    if (lds_gltf_int(in->primitive, "material", 0, INT32_MAX, -1, &material) == 0 && material >= 0 &&
        (uint64_t)material < m->material_count) {
        *out = (uint32_t)material;
        return LDS_OK;
    }
    if (material >= 0)
        lds_mesh_model_warn(m, "%s: mesh %zu uses material %lld that does not exist; the default is used",
                            sc->doc.ctx->name, in->mesh, (long long)material);
    if (sc->default_material == SIZE_MAX) {
        if (lds_import_add_material(m, NULL, &sc->default_material) != LDS_OK)
            return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", sc->doc.ctx->name);
        m->materials[sc->default_material].metallic = 1.0f; /* glTF's default material */
    }
    *out = (uint32_t)sc->default_material;
    return LDS_OK;
}

static lds_status build_model(scene *sc)
{
    const lds_import_ctx *ctx = sc->doc.ctx;
    uint64_t vertices = 0, indices = 0;
    size_t kept = 0;
    lds_status st;
    for (size_t i = 0; i < sc->instance_count; i++) {
        if ((st = plan_instance(sc, &sc->instances[i])) != LDS_OK)
            return st;
        vertices += sc->instances[i].vertex_count;
        indices += sc->instances[i].index_count;
        kept += sc->instances[i].vertex_count > 0;
        if ((st = lds_import_check_limits(ctx, vertices, indices / 3, sc->err)) != LDS_OK)
            return st;
    }
    if (vertices == 0)
        return lds_error_set(sc->err, LDS_ENOGEOM, "%s: no triangles or points in the default scene", ctx->name);
    if (vertices > UINT32_MAX || indices > UINT32_MAX)
        return lds_error_set(sc->err, LDS_ELIMIT, "%s: over 4G vertices or indices", ctx->name);
    lds_mesh_model *m = sc->model;
    unsigned a = sc->attributes;
    if (((a & (1u << LDS_MESH_ATTR_JOINTS)) != 0) != ((a & (1u << LDS_MESH_ATTR_WEIGHTS)) != 0))
        a &= ~((1u << LDS_MESH_ATTR_JOINTS) | (1u << LDS_MESH_ATTR_WEIGHTS)); /* one without the other is useless */
    st = lds_mesh_model_alloc(m, (size_t)vertices, (size_t)indices, (a >> LDS_MESH_ATTR_NORMALS) & 1,
                              (a >> LDS_MESH_ATTR_UVS) & 1, (a >> LDS_MESH_ATTR_COLORS) & 1);
    for (unsigned k = LDS_MESH_ATTR_COLORS + 1; st == LDS_OK && k < LDS_MESH_ATTRIBUTE_COUNT; k++)
        if (a & (1u << k))
            st = lds_mesh_model_alloc_attribute(m, k);
    if (st != LDS_OK || (m->submeshes = calloc(kept, sizeof(lds_mesh_submesh))) == NULL)
        return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory for %llu vertices", ctx->name,
                             (unsigned long long)vertices);
    size_t vbase = 0, ibase = 0;
    for (size_t i = 0; i < sc->instance_count; i++) {
        instance *in = &sc->instances[i];
        if (in->vertex_count == 0)
            continue;
        lds_mesh_submesh *sm = &m->submeshes[m->submesh_count];
        sm->primitive = sc->keep_scene ? (uint32_t)i : 0;
        if ((st = fill_instance(sc, in, vbase, ibase, sm)) != LDS_OK ||
            (st = material_of(sc, in, &sm->material)) != LDS_OK)
            return st;
        m->submesh_count++;
        vbase += in->vertex_count;
        ibase += in->index_count;
    }
    return LDS_OK;
}

/* The kept scene (gltf_scene.c), its primitives being the instances. */
static lds_status keep_scene(scene *sc, const json_t *roots)
{
    gltf_scene_primitive *prims = calloc(sc->instance_count + 1, sizeof(*prims));
    if (prims == NULL)
        return lds_error_set(sc->err, LDS_ENOMEM, "%s: out of memory", sc->doc.ctx->name);
    for (size_t i = 0; i < sc->instance_count; i++) {
        const instance *in = &sc->instances[i];
        prims[i] = (gltf_scene_primitive){.primitive = in->primitive, .node = in->node, .mesh = in->mesh,
                                          .baked = !in->skinned && !is_identity(in->matrix)};
        memcpy(prims[i].matrix, in->matrix, sizeof(in->matrix));
    }
    lds_status st = lds_gltf_scene_build(&sc->doc, roots, prims, sc->instance_count, sc->model, sc->err);
    free(prims);
    return st;
}

/* Refuses files that require an extension whose data we cannot read. */
static lds_status check_required(scene *sc)
{
    static const char *const known[] = {"KHR_draco_mesh_compression", "EXT_meshopt_compression",
                                        "KHR_meshopt_compression",    "KHR_mesh_quantization",
                                        "KHR_texture_transform",      "KHR_materials_emissive_strength",
                                        "EXT_texture_webp",           "KHR_materials_unlit"};
    json_t *required = json_object_get(sc->doc.root, "extensionsRequired");
    for (size_t i = 0; i < json_array_size(required); i++) {
        const char *ext = json_string_value(json_array_get(required, i));
        int ok = 0;
        for (size_t k = 0; ext && k < sizeof(known) / sizeof(known[0]); k++)
            ok |= strcmp(ext, known[k]) == 0;
        if (!ok)
            lds_mesh_model_warn(sc->model, "%s: requires the extension %s, which is not read; the result may differ",
                                sc->doc.ctx->name, ext ? ext : "(malformed)");
    }
    return LDS_OK;
}

lds_status lds_import_gltf(const lds_import_ctx *ctx, const unsigned char *data, size_t size, lds_mesh_model *model,
                           lds_error *err)
{
    scene sc;
    memset(&sc, 0, sizeof(sc));
    sc.model = model;
    sc.err = err;
    sc.default_material = SIZE_MAX;
    lds_status st = lds_gltf_open(&sc.doc, ctx, data, size, err);
    if (st == LDS_OK && sc.doc.legacy) {
        lds_gltf_close(&sc.doc);
        return lds_import_assimp(ctx, data, size, model, err);
    }
    if (st == LDS_OK) {
        sc.texture_count = lds_gltf_count(&sc.doc, "textures");
        if ((sc.texture_map = malloc((sc.texture_count + 1) * sizeof(int))) == NULL)
            st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", ctx->name);
        for (size_t i = 0; i < sc.texture_count && st == LDS_OK; i++)
            sc.texture_map[i] = -2;
    }
    if (st == LDS_OK)
        st = check_required(&sc);
    json_t *roots = NULL;
    int keep = st == LDS_OK && lds_gltf_scene_wanted(&sc.doc);
    sc.keep_scene = keep;
    if (st == LDS_OK)
        st = root_nodes(&sc, &roots);
    if (st == LDS_OK)
        st = walk_scene(&sc, roots);
    if (st == LDS_OK)
        st = read_materials(&sc);
    if (st == LDS_OK)
        st = build_model(&sc);
    if (st == LDS_OK && keep)
        st = keep_scene(&sc, roots);
    json_decref(roots);
    free(sc.instances);
    free(sc.visited);
    free(sc.texture_map);
    lds_gltf_close(&sc.doc);
    return st;
}
