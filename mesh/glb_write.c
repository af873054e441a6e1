/*
 * glb_write.c: lds_mesh_write_glb, the model as one binary glTF 2.0 file (glTF 2.0 spec, "GLB File
 * Format Specification") in three encodings:
 *   plain   float attributes, uint16 indices when a primitive has at most 65535 vertices (65535
 *           itself is the primitive-restart value) else uint32;
 *   draco   KHR_draco_mesh_compression: each triangle primitive compressed by mesh/draco.cpp, its
 *           accessors without bufferView and counted from what Draco encoded. The extension allows
 *           only TRIANGLES and TRIANGLE_STRIP, so point primitives stay plain in these files;
 *   meshopt EXT_meshopt_compression + KHR_mesh_quantization (mesh/meshopt_encode.c): compressed
 *           views in the GLB binary chunk (buffer 0), their uncompressed layout in a data-less
 *           fallback buffer 1, as the extension's "Fallback buffers" section describes.
 *
 * One mesh, one primitive per submesh, each with its own slice of every vertex attribute (the
 * submesh's vertex range) so indices are local and Draco gets per-primitive data. Materials are
 * metallic-roughness with metallic 0; referenced textures with a PNG or JPEG signature are
 * embedded as images in the binary chunk, others are skipped and the factor remains.
 *
 * Determinism: JSON objects keep insertion order (JSON_PRESERVE_ORDER), numbers print with
 * jansson's fixed "%.17g", no time or address reaches the output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "draco_shim.h"
#include "glb_scene.h"
#include "mesh.h"
#include "mesh_internal.h"
#include "meshopt_encode.h"

#define GLB_MAX_BYTES ((size_t)UINT32_MAX - 64) /* GLB lengths are uint32 */

/* Draco speed: 0 smallest/slowest .. 10 fastest. 3 is draco_encoder's default (-cl 7): the same bytes
 * on the scans; 5 is ~15% larger and barely faster (edgebreaker valence coding stops at 5). */
#define DRACO_ENCODE_SPEED 3
#define DRACO_DECODE_SPEED 3

enum { CT_BYTE = 5120, CT_UNSIGNED_BYTE = 5121, CT_UNSIGNED_SHORT = 5123, CT_UNSIGNED_INT = 5125, CT_FLOAT = 5126 };
enum { TARGET_ARRAY_BUFFER = 34962, TARGET_ELEMENT_ARRAY_BUFFER = 34963 };

typedef struct writer {
    const lds_mesh_model *model;
    lds_mesh_encoding encoding;
    int position_bits, normal_bits, uv_bits;
    json_t *buffer_views, *accessors, *primitives, *materials, *textures, *images;
    lds_buf bin;          /* buffer 0: the GLB binary chunk */
    size_t fallback_size; /* meshopt: byteLength of the data-less fallback buffer 1 */
    json_t *samplers, *used; /* used: extension names for extensionsUsed */
    int *image_map;       /* model texture -> glTF image, -1 unused/skipped, -2 not yet seen */
    float pos_origin[3], pos_step;     /* meshopt position dequantisation (the node transform) */
    float uv_origin[2], uv_extent[2];  /* meshopt texture-coordinate range */
    uint32_t *local;      /* scratch: one primitive's indices made relative to its vertex range */
    unsigned char *scratch;
    size_t scratch_size;
    uint16_t *skin_joints; /* scratch: one primitive's JOINTS_0 */
    float *skin_weights;   /* scratch: one primitive's WEIGHTS_0, renormalised */
    uint32_t *primitive_ids; /* scene primitive of each written primitive (model->scene) */
    double *unbake;          /* lds_glb_scene_unbake's, per scene primitive */
    size_t unbake_count;
    float *local_vertices;   /* scratch: one primitive's positions, normals, tangents in its node's space */
    int used_draco, used_meshopt;
    int oom;           /* a jansson call failed: out of memory */
    lds_status failed; /* first failure of a helper that returns an index */
    lds_error *err;
} writer;

/* ---- small JSON helpers: failures only set w->oom, checked once at the end ---- */

static void set(writer *w, json_t *object, const char *key, json_t *value)
{
    if (json_object_set_new(object, key, value) != 0)
        w->oom = 1;
}

static int append(writer *w, json_t *array, json_t *value)
{
    if (json_array_append_new(array, value) != 0) {
        w->oom = 1;
        return -1;
    }
    return (int)json_array_size(array) - 1;
}

static json_t *float_array(writer *w, const double *values, int count)
{
    json_t *a = json_array();
    for (int i = 0; i < count; i++)
        append(w, a, json_real(values[i]));
    return a;
}

static void *scratch(writer *w, size_t size)
{
    if (size > w->scratch_size) {
        unsigned char *p = realloc(w->scratch, size);
        if (p == NULL) {
            lds_error_set(w->err, LDS_ENOMEM, "glb: out of memory for %zu bytes", size);
            w->failed = LDS_ENOMEM;
            return NULL;
        }
        w->scratch = p;
        w->scratch_size = size;
    }
    return w->scratch;
}

/* ---- buffer views and accessors ---- */

static int fail(writer *w, lds_status status, size_t size)
{
    if (w->failed == LDS_OK)
        w->failed = status;
    lds_error_set(w->err, status, "glb: binary chunk of %zu bytes over its cap (%zu) or out of memory", size,
                  w->bin.max);
    return -1;
}

/* Appends data to the binary chunk (4-byte aligned) as a new bufferView; returns its index or -1. */
static int add_view(writer *w, const void *data, size_t size, int target, int stride)
{
    unsigned char *pad;
    lds_status s = lds_buf_grow(&w->bin, (4 - w->bin.size % 4) % 4, &pad);
    size_t offset = w->bin.size;
    if (s != LDS_OK || (s = lds_buf_append(&w->bin, data, size)) != LDS_OK)
        return fail(w, s, offset + size);
    json_t *v = json_object();
    set(w, v, "buffer", json_integer(0));
    set(w, v, "byteOffset", json_integer((json_int_t)offset));
    set(w, v, "byteLength", json_integer((json_int_t)size));
    if (stride)
        set(w, v, "byteStride", json_integer(stride));
    if (target)
        set(w, v, "target", json_integer(target));
    return append(w, w->buffer_views, v);
}

/* A view whose data is meshopt-compressed in buffer 0 [offset, offset + length) and whose
 * uncompressed layout (count elements of stride bytes) lives in the fallback buffer 1. */
static int add_meshopt_view(writer *w, size_t offset, size_t length, size_t count, int stride, const char *mode,
                            const char *filter, int target)
{
    size_t fallback_offset = (w->fallback_size + 3) & ~(size_t)3;
    w->fallback_size = fallback_offset + count * (size_t)stride;
    json_t *ext = json_object();
    set(w, ext, "buffer", json_integer(0));
    set(w, ext, "byteOffset", json_integer((json_int_t)offset));
    set(w, ext, "byteLength", json_integer((json_int_t)length));
    set(w, ext, "byteStride", json_integer(stride));
    set(w, ext, "mode", json_string(mode));
    set(w, ext, "count", json_integer((json_int_t)count));
    if (filter)
        set(w, ext, "filter", json_string(filter));
    json_t *exts = json_object();
    set(w, exts, "EXT_meshopt_compression", ext);
    json_t *v = json_object();
    set(w, v, "buffer", json_integer(1));
    set(w, v, "byteOffset", json_integer((json_int_t)fallback_offset));
    set(w, v, "byteLength", json_integer((json_int_t)(count * (size_t)stride)));
    if (target == TARGET_ARRAY_BUFFER)
        set(w, v, "byteStride", json_integer(stride)); /* index views must not have a stride */
    set(w, v, "target", json_integer(target));
    set(w, v, "extensions", exts);
    w->used_meshopt = 1;
    return append(w, w->buffer_views, v);
}

typedef struct bounds {
    int count; /* components, 0 for no min/max */
    int integer;
    double min[4], max[4];
} bounds;

/* view -1 leaves bufferView out (Draco accessors). */
static int add_accessor(writer *w, int view, int component_type, size_t count, const char *type, int normalized,
                        const bounds *b)
{
    json_t *a = json_object();
    if (view >= 0)
        set(w, a, "bufferView", json_integer(view));
    set(w, a, "componentType", json_integer(component_type));
    if (normalized)
        set(w, a, "normalized", json_true());
    set(w, a, "count", json_integer((json_int_t)count));
    set(w, a, "type", json_string(type));
    if (b && b->count) {
        json_t *mn = json_array(), *mx = json_array();
        for (int i = 0; i < b->count; i++) {
            append(w, mn, b->integer ? json_integer((json_int_t)b->min[i]) : json_real(b->min[i]));
            append(w, mx, b->integer ? json_integer((json_int_t)b->max[i]) : json_real(b->max[i]));
        }
        set(w, a, "min", mn);
        set(w, a, "max", mx);
    }
    return append(w, w->accessors, a);
}

static void float_bounds(const float *values, size_t count, int components, bounds *b)
{
    b->count = components;
    b->integer = 0;
    for (int c = 0; c < components; c++) {
        float mn = values[c], mx = values[c];
        for (size_t i = 1; i < count; i++) {
            float v = values[(size_t)components * i + c];
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        b->min[c] = mn;
        b->max[c] = mx;
    }
}

/* ---- textures and materials ---- */

static const char *sniff_mime(const lds_mesh_texture *t)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (t->data == NULL)
        return NULL;
    if (t->size >= 8 && memcmp(t->data, png, 8) == 0)
        return "image/png";
    if (t->size >= 3 && t->data[0] == 0xff && t->data[1] == 0xd8 && t->data[2] == 0xff)
        return "image/jpeg";
    return NULL;
}

/* Records an extension name for extensionsUsed (first use order). */
static void use_extension(writer *w, const char *name)
{
    for (size_t i = 0; i < json_array_size(w->used); i++)
        if (strcmp(json_string_value(json_array_get(w->used, i)), name) == 0)
            return;
    json_t *s = json_string(name);
    if (s == NULL || json_array_append_new(w->used, s) != 0)
        w->oom = 1;
}

/* glTF image index for model texture t, embedding it on first use; -1 when it can't be. */
static int image_for(writer *w, int t)
{
    const lds_mesh_model *m = w->model;
    if (t < 0 || (size_t)t >= m->texture_count)
        return -1;
    if (w->image_map[t] != -2)
        return w->image_map[t];
    w->image_map[t] = -1;
    const lds_mesh_texture *tex = &m->textures[t];
    const char *mime = sniff_mime(tex);
    /* The data must be what the declared type says (the validator checks the signature). */
    if (mime == NULL || (tex->mime[0] && strcmp(tex->mime, mime) != 0))
        return -1;
    int view = add_view(w, tex->data, tex->size, 0, 0);
    if (view < 0)
        return -1;
    json_t *image = json_object();
    json_t *name = tex->name ? json_string(tex->name) : NULL; /* NULL also for invalid UTF-8 */
    if (name)
        set(w, image, "name", name);
    set(w, image, "bufferView", json_integer(view));
    set(w, image, "mimeType", json_string(mime));
    w->image_map[t] = append(w, w->images, image);
    return w->image_map[t];
}

/* The glTF sampler for s (deduplicated), -1 when s says nothing. */
static int sampler_for(writer *w, const lds_mesh_sampler *s)
{
    if (s == NULL || (!s->mag_filter && !s->min_filter && !s->wrap_s && !s->wrap_t))
        return -1;
    const char *keys[4] = {"magFilter", "minFilter", "wrapS", "wrapT"};
    int values[4] = {s->mag_filter, s->min_filter, s->wrap_s, s->wrap_t};
    json_t *sampler = json_object();
    for (int k = 0; k < 4; k++)
        if (values[k])
            set(w, sampler, keys[k], json_integer(values[k]));
    for (size_t i = 0; i < json_array_size(w->samplers); i++)
        if (json_equal(json_array_get(w->samplers, i), sampler)) {
            json_decref(sampler);
            return (int)i;
        }
    return append(w, w->samplers, sampler);
}

/* The glTF texture showing model texture t through sampler s (deduplicated); -1 when t can't be
 * embedded. */
static int texture_for(writer *w, int t, const lds_mesh_sampler *s)
{
    int image = image_for(w, t);
    if (image < 0)
        return -1;
    int sampler = sampler_for(w, s);
    json_t *texture = json_object();
    if (sampler >= 0)
        set(w, texture, "sampler", json_integer(sampler));
    set(w, texture, "source", json_integer(image));
    for (size_t i = 0; i < json_array_size(w->textures); i++)
        if (json_equal(json_array_get(w->textures, i), texture)) {
            json_decref(texture);
            return (int)i;
        }
    return append(w, w->textures, texture);
}

/* KHR_texture_transform of a slot, composed with the meshopt dequantisation of TEXCOORD_0
 * (uv = origin + scale_q * q) when the slot reads quantised UVs:
 * T(o) R(r) S(s) T(origin) S(q) = T(o + R S origin) R(r) S(s q). NULL when neither applies. */
static json_t *texture_transform(writer *w, const lds_mesh_texture_ref *ref)
{
    const lds_mesh_texture_transform *t = &ref->transform;
    int set_used = t->present && t->tex_coord >= 0 ? t->tex_coord : ref->tex_coord;
    int quantised = w->encoding == LDS_MESH_ENCODING_MESHOPT && w->model->uvs && set_used == 0;
    if (!t->present && !quantised)
        return NULL;
    double offset[2] = {0, 0}, scale[2] = {1, 1}, rotation = 0;
    if (t->present) {
        offset[0] = t->offset[0], offset[1] = t->offset[1];
        scale[0] = t->scale[0], scale[1] = t->scale[1];
        rotation = t->rotation;
    }
    if (quantised) {
        double sx = scale[0] * w->uv_origin[0], sy = scale[1] * w->uv_origin[1];
        double c = cos(rotation), s = sin(rotation);
        /* KHR_texture_transform's rotation matrix: [c s; -s c] applied to (u, v) */
        offset[0] += c * sx + s * sy;
        offset[1] += -s * sx + c * sy;
        scale[0] *= lds_meshopt_uv_scale(w->uv_extent[0], w->uv_bits);
        scale[1] *= lds_meshopt_uv_scale(w->uv_extent[1], w->uv_bits);
    }
    json_t *tt = json_object();
    if (offset[0] != 0 || offset[1] != 0)
        set(w, tt, "offset", float_array(w, offset, 2));
    if (rotation != 0)
        set(w, tt, "rotation", json_real(rotation));
    if (scale[0] != 1 || scale[1] != 1)
        set(w, tt, "scale", float_array(w, scale, 2));
    if (t->present && t->tex_coord >= 0)
        set(w, tt, "texCoord", json_integer(t->tex_coord));
    use_extension(w, "KHR_texture_transform");
    return tt;
}

/* A textureInfo for a slot, or NULL when the slot is empty or its image can't be embedded.
 * scale_key: "scale" (normal) or "strength" (occlusion), else NULL. */
static json_t *texture_info(writer *w, const lds_mesh_texture_ref *ref, const char *scale_key)
{
    if (ref->texture < 0)
        return NULL;
    int texture = texture_for(w, ref->texture, &ref->sampler);
    if (texture < 0)
        return NULL;
    json_t *info = json_object();
    set(w, info, "index", json_integer(texture));
    if (ref->tex_coord == 1 && w->model->uvs1)
        set(w, info, "texCoord", json_integer(1));
    if (scale_key && ref->scale != 1.0f && isfinite(ref->scale))
        set(w, info, scale_key,
            json_real(strcmp(scale_key, "strength") == 0 ? (ref->scale < 0 ? 0 : ref->scale > 1 ? 1 : ref->scale)
                                                          : ref->scale));
    json_t *tt = texture_transform(w, ref);
    if (tt) {
        json_t *exts = json_object();
        set(w, exts, "KHR_texture_transform", tt);
        set(w, info, "extensions", exts);
    }
    return info;
}

static double unit_clamp(float v, double fallback)
{
    if (!(v >= 0.0f && v <= 1.0f))
        return v > 1.0f ? 1.0 : v < 0.0f ? 0.0 : fallback;
    return v;
}

/* An extension textureInfo's KHR_texture_transform, rewritten when the meshopt encoding quantises
 * the UV set it reads (as texture_info does for the core slots). */
static void extension_transform(writer *w, json_t *info)
{
    if (w->encoding != LDS_MESH_ENCODING_MESHOPT || w->model->uvs == NULL)
        return;
    lds_mesh_texture_ref ref;
    memset(&ref, 0, sizeof(ref));
    ref.transform.scale[0] = ref.transform.scale[1] = 1.0f;
    ref.transform.tex_coord = -1;
    json_t *tc = json_object_get(info, "texCoord");
    ref.tex_coord = json_is_integer(tc) ? (int)json_integer_value(tc) : 0;
    json_t *exts = json_object_get(info, "extensions");
    json_t *tt = json_object_get(exts, "KHR_texture_transform");
    if (json_is_object(tt)) {
        json_t *o = json_object_get(tt, "offset"), *sc = json_object_get(tt, "scale");
        json_t *r = json_object_get(tt, "rotation"), *t = json_object_get(tt, "texCoord");
        ref.transform.present = 1;
        for (int k = 0; k < 2; k++) {
            if (json_is_number(json_array_get(o, (size_t)k)))
                ref.transform.offset[k] = (float)json_number_value(json_array_get(o, (size_t)k));
            if (json_is_number(json_array_get(sc, (size_t)k)))
                ref.transform.scale[k] = (float)json_number_value(json_array_get(sc, (size_t)k));
        }
        ref.transform.rotation = json_is_number(r) ? (float)json_number_value(r) : 0.0f;
        ref.transform.tex_coord = json_is_integer(t) ? (int)json_integer_value(t) : -1;
    }
    json_t *composed = texture_transform(w, &ref);
    if (composed == NULL)
        return;
    if (!json_is_object(exts)) {
        exts = json_object();
        set(w, info, "extensions", exts);
    }
    set(w, exts, "KHR_texture_transform", composed);
}

/* Maps the model texture indices in a material extension's textureInfos ("...Texture" members)
 * back to glTF textures (dropping those that can't be embedded), and records every extension
 * named inside (KHR_texture_transform on those textureInfos). */
static void extension_textures(writer *w, json_t *value, int depth)
{
    if (depth > 16)
        return;
    if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++)
            extension_textures(w, json_array_get(value, i), depth + 1);
        return;
    }
    if (!json_is_object(value))
        return;
    const char *key;
    json_t *item;
    void *tmp;
    json_object_foreach_safe(value, tmp, key, item)
    {
        size_t len = strlen(key);
        if (strcmp(key, "extensions") == 0 && json_is_object(item)) {
            const char *name;
            json_t *ignored;
            json_object_foreach(item, name, ignored) use_extension(w, name);
        }
        if (len >= 7 && strcmp(key + len - 7, "Texture") == 0 && json_is_object(item)) {
            json_t *index = json_object_get(item, "index");
            int texture = json_is_integer(index) && json_integer_value(index) >= 0 &&
                                  json_integer_value(index) <= INT32_MAX
                              ? texture_for(w, (int)json_integer_value(index), NULL)
                              : -1;
            if (texture < 0 || json_object_set_new(item, "index", json_integer(texture)) != 0) {
                json_object_del(value, key);
                continue;
            }
            extension_transform(w, item);
            extension_textures(w, item, depth + 1);
            continue;
        }
        extension_textures(w, item, depth + 1);
    }
}

/* The material's "extensions" object: its carried extensions plus emissive strength; NULL if
 * none. */
static json_t *material_extensions(writer *w, const lds_mesh_material *mat)
{
    json_t *exts = mat->extensions ? json_loads(mat->extensions, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(exts)) {
        json_decref(exts);
        exts = NULL;
    }
    if (exts) {
        extension_textures(w, exts, 0);
        const char *name;
        json_t *ignored;
        json_object_foreach(exts, name, ignored) use_extension(w, name);
    }
    if (mat->emissive_strength != 1.0f && mat->emissive_strength >= 0 && isfinite(mat->emissive_strength)) {
        json_t *es = json_object();
        set(w, es, "emissiveStrength", json_real(mat->emissive_strength));
        if (exts == NULL)
            exts = json_object();
        set(w, exts, "KHR_materials_emissive_strength", es);
        use_extension(w, "KHR_materials_emissive_strength");
    }
    if (exts && json_object_size(exts) == 0) {
        json_decref(exts);
        exts = NULL;
    }
    return exts;
}

static void set_if(writer *w, json_t *object, const char *key, json_t *value)
{
    if (value)
        set(w, object, key, value);
}

static void write_material(writer *w, const lds_mesh_material *mat)
{
    json_t *jm = json_object();
    json_t *name = mat->name ? json_string(mat->name) : NULL;
    set_if(w, jm, "name", name);
    json_t *pbr = json_object();
    double factor[4];
    int all_one = 1;
    for (int c = 0; c < 4; c++) {
        factor[c] = unit_clamp(mat->base_color[c], 1.0);
        all_one &= factor[c] == 1.0;
    }
    if (!all_one)
        set(w, pbr, "baseColorFactor", float_array(w, factor, 4));
    set_if(w, pbr, "baseColorTexture", texture_info(w, &mat->maps[LDS_MESH_MAP_BASE_COLOR], NULL));
    double metallic = unit_clamp(mat->metallic, 1.0), roughness = unit_clamp(mat->roughness, 1.0);
    if (metallic != 1.0)
        set(w, pbr, "metallicFactor", json_real(metallic));
    if (roughness != 1.0)
        set(w, pbr, "roughnessFactor", json_real(roughness));
    set_if(w, pbr, "metallicRoughnessTexture", texture_info(w, &mat->maps[LDS_MESH_MAP_METALLIC_ROUGHNESS], NULL));
    set(w, jm, "pbrMetallicRoughness", pbr);
    set_if(w, jm, "normalTexture", texture_info(w, &mat->maps[LDS_MESH_MAP_NORMAL], "scale"));
    set_if(w, jm, "occlusionTexture", texture_info(w, &mat->maps[LDS_MESH_MAP_OCCLUSION], "strength"));
    set_if(w, jm, "emissiveTexture", texture_info(w, &mat->maps[LDS_MESH_MAP_EMISSIVE], NULL));
    double emissive[3];
    int any = 0;
    for (int c = 0; c < 3; c++) {
        emissive[c] = unit_clamp(mat->emissive[c], 0.0);
        any |= emissive[c] != 0.0;
    }
    if (any)
        set(w, jm, "emissiveFactor", float_array(w, emissive, 3));
    if (mat->alpha_mode == LDS_MESH_ALPHA_MASK) {
        set(w, jm, "alphaMode", json_string("MASK"));
        if (mat->alpha_cutoff != 0.5f && mat->alpha_cutoff >= 0 && isfinite(mat->alpha_cutoff))
            set(w, jm, "alphaCutoff", json_real(mat->alpha_cutoff));
    } else if (mat->alpha_mode == LDS_MESH_ALPHA_BLEND) {
        set(w, jm, "alphaMode", json_string("BLEND"));
    }
    if (mat->double_sided)
        set(w, jm, "doubleSided", json_true());
    set_if(w, jm, "extensions", material_extensions(w, mat));
    append(w, w->materials, jm);
}

static void write_materials(writer *w)
{
    for (size_t i = 0; i < w->model->material_count; i++)
        write_material(w, &w->model->materials[i]);
}

/* ---- one primitive per submesh ---- */

typedef struct slice {
    size_t vertex_count, index_count;
    const float *positions, *normals, *uvs, *colors, *uvs1, *tangents;
    const uint16_t *joints;  /* JOINTS_0, NULL without a skin */
    const float *weights;    /* WEIGHTS_0 summing to 1, with joints */
    const uint32_t *indices; /* local, NULL for points */
} slice;

/* One plain float or integer attribute: its view and accessor. */
static lds_status plain_attribute(writer *w, json_t *attributes, const char *name, const void *data, size_t count,
                                  int component_type, const char *type, int components)
{
    size_t bytes = count * (size_t)components * (component_type == CT_FLOAT ? 4 : 2);
    int view = add_view(w, data, bytes, TARGET_ARRAY_BUFFER, 0);
    if (view < 0)
        return w->failed;
    set(w, attributes, name, json_integer(add_accessor(w, view, component_type, count, type, 0, NULL)));
    return LDS_OK;
}

static lds_status write_plain(writer *w, const slice *s, json_t *attributes, int *indices)
{
    bounds b;
    int view, acc;
    size_t n = s->vertex_count;
    float_bounds(s->positions, n, 3, &b);
    if ((view = add_view(w, s->positions, n * 12, TARGET_ARRAY_BUFFER, 0)) < 0)
        return w->failed;
    acc = add_accessor(w, view, CT_FLOAT, n, "VEC3", 0, &b);
    set(w, attributes, "POSITION", json_integer(acc));
    struct { const void *data; const char *name, *type; int components, component_type; } attrs[] = {
        {s->normals, "NORMAL", "VEC3", 3, CT_FLOAT},   {s->uvs, "TEXCOORD_0", "VEC2", 2, CT_FLOAT},
        {s->colors, "COLOR_0", "VEC4", 4, CT_FLOAT},   {s->uvs1, "TEXCOORD_1", "VEC2", 2, CT_FLOAT},
        {s->tangents, "TANGENT", "VEC4", 4, CT_FLOAT}, {s->joints, "JOINTS_0", "VEC4", 4, CT_UNSIGNED_SHORT},
        {s->weights, "WEIGHTS_0", "VEC4", 4, CT_FLOAT}};
    for (size_t k = 0; k < sizeof(attrs) / sizeof(attrs[0]); k++) {
        lds_status st = attrs[k].data ? plain_attribute(w, attributes, attrs[k].name, attrs[k].data, n,
                                                        attrs[k].component_type, attrs[k].type, attrs[k].components)
                                      : LDS_OK;
        if (st != LDS_OK)
            return st;
    }
    *indices = -1;
    if (s->indices) {
        if (n <= 65535) {
            uint16_t *short_indices = scratch(w, s->index_count * sizeof(uint16_t));
            if (short_indices == NULL)
                return LDS_ENOMEM;
            for (size_t i = 0; i < s->index_count; i++)
                short_indices[i] = (uint16_t)s->indices[i];
            view = add_view(w, short_indices, s->index_count * 2, TARGET_ELEMENT_ARRAY_BUFFER, 0);
        } else {
            view = add_view(w, s->indices, s->index_count * 4, TARGET_ELEMENT_ARRAY_BUFFER, 0);
        }
        if (view < 0)
            return w->failed;
        *indices = add_accessor(w, view, n <= 65535 ? CT_UNSIGNED_SHORT : CT_UNSIGNED_INT, s->index_count, "SCALAR",
                                0, NULL);
    }
    return LDS_OK;
}

static lds_status write_draco(writer *w, const slice *s, json_t *attributes, int *indices, json_t *primitive)
{
    lds_draco_input in = {
        .vertex_count = s->vertex_count,
        .positions = s->positions,
        .normals = s->normals,
        .uvs = s->uvs,
        .colors = s->colors,
        .uvs1 = s->uvs1,
        .tangents = s->tangents,
        .joints = s->joints,
        .weights = s->weights,
        .index_count = s->index_count,
        .indices = s->indices,
        .position_bits = w->position_bits,
        .normal_bits = w->normal_bits,
        .uv_bits = w->uv_bits,
        .encode_speed = DRACO_ENCODE_SPEED,
        .decode_speed = DRACO_DECODE_SPEED,
    };
    lds_draco_output out;
    lds_status st = lds_draco_encode(&in, &out, w->err);
    if (st != LDS_OK)
        return st;
    int view = add_view(w, out.data, out.size, 0, 0);
    free(out.data);
    if (view < 0)
        return w->failed;
    bounds b;
    float_bounds(s->positions, s->vertex_count, 3, &b);
    json_t *ids = json_object();
    set(w, attributes, "POSITION", json_integer(add_accessor(w, -1, CT_FLOAT, out.point_count, "VEC3", 0, &b)));
    set(w, ids, "POSITION", json_integer(out.position_id));
    if (s->normals) {
        set(w, attributes, "NORMAL", json_integer(add_accessor(w, -1, CT_FLOAT, out.point_count, "VEC3", 0, NULL)));
        set(w, ids, "NORMAL", json_integer(out.normal_id));
    }
    if (s->uvs) {
        set(w, attributes, "TEXCOORD_0",
            json_integer(add_accessor(w, -1, CT_FLOAT, out.point_count, "VEC2", 0, NULL)));
        set(w, ids, "TEXCOORD_0", json_integer(out.uv_id));
    }
    if (s->colors) {
        set(w, attributes, "COLOR_0",
            json_integer(add_accessor(w, -1, CT_UNSIGNED_BYTE, out.point_count, "VEC4", 1, NULL)));
        set(w, ids, "COLOR_0", json_integer(out.color_id));
    }
    if (s->uvs1) {
        set(w, attributes, "TEXCOORD_1",
            json_integer(add_accessor(w, -1, CT_FLOAT, out.point_count, "VEC2", 0, NULL)));
        set(w, ids, "TEXCOORD_1", json_integer(out.uv1_id));
    }
    if (s->tangents) {
        set(w, attributes, "TANGENT", json_integer(add_accessor(w, -1, CT_FLOAT, out.point_count, "VEC4", 0, NULL)));
        set(w, ids, "TANGENT", json_integer(out.tangent_id));
    }
    if (s->joints) {
        set(w, attributes, "JOINTS_0",
            json_integer(add_accessor(w, -1, CT_UNSIGNED_SHORT, out.point_count, "VEC4", 0, NULL)));
        set(w, ids, "JOINTS_0", json_integer(out.joints_id));
        set(w, attributes, "WEIGHTS_0", json_integer(add_accessor(w, -1, CT_FLOAT, out.point_count, "VEC4", 0, NULL)));
        set(w, ids, "WEIGHTS_0", json_integer(out.weights_id));
    }
    *indices = add_accessor(w, -1, out.point_count <= 65535 ? CT_UNSIGNED_SHORT : CT_UNSIGNED_INT,
                            out.face_count * 3, "SCALAR", 0, NULL);
    json_t *ext = json_object();
    set(w, ext, "bufferView", json_integer(view));
    set(w, ext, "attributes", ids);
    json_t *exts = json_object();
    set(w, exts, "KHR_draco_mesh_compression", ext);
    set(w, primitive, "extensions", exts);
    w->used_draco = 1;
    return LDS_OK;
}

/* Positions: uint16 x4 (stride 8: vertex elements are 4-byte aligned) on the model's grid. */
static lds_status meshopt_positions(writer *w, const slice *s, json_t *attributes)
{
    size_t n = s->vertex_count, offset, length;
    lds_status st;
    uint16_t *q = scratch(w, n * 8 + 8);
    if (q == NULL)
        return LDS_ENOMEM;
    uint16_t qmin[3], qmax[3];
    lds_meshopt_quantize_positions(s->positions, n, w->pos_origin, w->pos_step, q, qmin, qmax);
    if ((st = lds_meshopt_compress_attributes(q, n, 8, &w->bin, &offset, &length, w->err)) != LDS_OK)
        return st;
    bounds b = {.count = 3, .integer = 1};
    for (int c = 0; c < 3; c++) {
        b.min[c] = qmin[c];
        b.max[c] = qmax[c];
    }
    int view = add_meshopt_view(w, offset, length, n, 8, "ATTRIBUTES", NULL, TARGET_ARRAY_BUFFER);
    set(w, attributes, "POSITION", json_integer(add_accessor(w, view, CT_UNSIGNED_SHORT, n, "VEC3", 0, &b)));
    return LDS_OK;
}

static lds_status write_meshopt(writer *w, const slice *s, json_t *attributes, int *indices)
{
    size_t n = s->vertex_count, offset, length;
    lds_status st;
    int view;
    if (w->model->scene) {
        /* A kept scene: float positions, as the node transforms are the input's own. */
        bounds b;
        float_bounds(s->positions, n, 3, &b);
        if ((st = lds_meshopt_compress_attributes(s->positions, n, 12, &w->bin, &offset, &length, w->err)) != LDS_OK)
            return st;
        view = add_meshopt_view(w, offset, length, n, 12, "ATTRIBUTES", NULL, TARGET_ARRAY_BUFFER);
        set(w, attributes, "POSITION", json_integer(add_accessor(w, view, CT_FLOAT, n, "VEC3", 0, &b)));
    } else if ((st = meshopt_positions(w, s, attributes)) != LDS_OK) {
        return st;
    }
    if (s->normals) {
        int8_t *oct = scratch(w, n * 4 + 4);
        if (oct == NULL)
            return LDS_ENOMEM;
        int bits = w->normal_bits > 8 ? 8 : w->normal_bits;
        if ((st = lds_meshopt_encode_normals(s->normals, n, bits, oct, w->err)) != LDS_OK)
            return st;
        if ((st = lds_meshopt_compress_attributes(oct, n, 4, &w->bin, &offset, &length, w->err)) != LDS_OK)
            return st;
        view = add_meshopt_view(w, offset, length, n, 4, "ATTRIBUTES", "OCTAHEDRAL", TARGET_ARRAY_BUFFER);
        set(w, attributes, "NORMAL", json_integer(add_accessor(w, view, CT_BYTE, n, "VEC3", 1, NULL)));
    }
    if (s->uvs) {
        uint16_t *uv = scratch(w, n * 4 + 4);
        if (uv == NULL)
            return LDS_ENOMEM;
        lds_meshopt_quantize_uvs(s->uvs, n, w->uv_origin, w->uv_extent, w->uv_bits, uv);
        if ((st = lds_meshopt_compress_attributes(uv, n, 4, &w->bin, &offset, &length, w->err)) != LDS_OK)
            return st;
        view = add_meshopt_view(w, offset, length, n, 4, "ATTRIBUTES", NULL, TARGET_ARRAY_BUFFER);
        set(w, attributes, "TEXCOORD_0",
            json_integer(add_accessor(w, view, CT_UNSIGNED_SHORT, n, "VEC2", 1, NULL)));
    }
    if (s->colors) {
        uint8_t *rgba = scratch(w, n * 4 + 4);
        if (rgba == NULL)
            return LDS_ENOMEM;
        lds_meshopt_quantize_colors(s->colors, n, rgba);
        if ((st = lds_meshopt_compress_attributes(rgba, n, 4, &w->bin, &offset, &length, w->err)) != LDS_OK)
            return st;
        view = add_meshopt_view(w, offset, length, n, 4, "ATTRIBUTES", NULL, TARGET_ARRAY_BUFFER);
        set(w, attributes, "COLOR_0", json_integer(add_accessor(w, view, CT_UNSIGNED_BYTE, n, "VEC4", 1, NULL)));
    }
    /* the second UV set, tangents and weights stay float (KHR_mesh_quantization allows it), joints
     * uint16, compressed */
    struct { const void *data; const char *name, *type; int stride, component_type; } extra[] = {
        {s->uvs1, "TEXCOORD_1", "VEC2", 8, CT_FLOAT}, {s->tangents, "TANGENT", "VEC4", 16, CT_FLOAT},
        {s->joints, "JOINTS_0", "VEC4", 8, CT_UNSIGNED_SHORT}, {s->weights, "WEIGHTS_0", "VEC4", 16, CT_FLOAT}};
    for (size_t k = 0; k < sizeof(extra) / sizeof(extra[0]); k++) {
        if (extra[k].data == NULL)
            continue;
        if ((st = lds_meshopt_compress_attributes(extra[k].data, n, (size_t)extra[k].stride, &w->bin, &offset,
                                                  &length, w->err)) != LDS_OK)
            return st;
        view = add_meshopt_view(w, offset, length, n, extra[k].stride, "ATTRIBUTES", NULL, TARGET_ARRAY_BUFFER);
        set(w, attributes, extra[k].name,
            json_integer(add_accessor(w, view, extra[k].component_type, n, extra[k].type, 0, NULL)));
    }
    *indices = -1;
    if (s->indices) {
        if ((st = lds_meshopt_compress_triangles(s->indices, s->index_count, n, &w->bin, &offset, &length,
                                                 w->err)) != LDS_OK)
            return st;
        int stride = n <= 65535 ? 2 : 4;
        view = add_meshopt_view(w, offset, length, s->index_count, stride, "TRIANGLES", NULL,
                                TARGET_ELEMENT_ARRAY_BUFFER);
        *indices = add_accessor(w, view, stride == 2 ? CT_UNSIGNED_SHORT : CT_UNSIGNED_INT, s->index_count, "SCALAR",
                                0, NULL);
    }
    return LDS_OK;
}

/* The slice's JOINTS_0 as uint16 and WEIGHTS_0 renormalised to sum 1 (simplification blends
 * nothing, but the input's may not sum to 1 exactly; a vertex without weight goes whole to its
 * first joint), in the writer's skin scratch arrays. */
static lds_status skin_arrays(writer *w, slice *s, size_t vertex_offset)
{
    const lds_mesh_model *m = w->model;
    size_t n = s->vertex_count;
    uint16_t *j = realloc(w->skin_joints, 4 * n * sizeof(uint16_t) + 8);
    if (j != NULL)
        w->skin_joints = j;
    float *wt = j ? realloc(w->skin_weights, 4 * n * sizeof(float) + 16) : NULL;
    if (wt == NULL)
        return lds_error_set(w->err, LDS_ENOMEM, "glb: out of memory for %zu skinned vertices", n);
    w->skin_weights = wt;
    const float *js = m->joints + 4 * vertex_offset, *ws = m->weights + 4 * vertex_offset;
    for (size_t v = 0; v < n; v++) {
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            j[4 * v + k] = (uint16_t)js[4 * v + k];
            sum += ws[4 * v + k] > 0 ? ws[4 * v + k] : 0;
        }
        for (int k = 0; k < 4; k++)
            wt[4 * v + k] = sum > 0 ? (float)((ws[4 * v + k] > 0 ? ws[4 * v + k] : 0) / sum) : (k == 0);
    }
    s->joints = j;
    s->weights = wt;
    return LDS_OK;
}

/* A kept scene's primitive whose vertices carry its node's world transform: the slice's positions,
 * normals and tangents taken back to the node's space (writer scratch), winding restored. */
static lds_status unbake(writer *w, slice *s, const double *inverse)
{
    size_t n = s->vertex_count;
    float *v = realloc(w->local_vertices, n * 10 * sizeof(float) + 4);
    if (v == NULL)
        return lds_error_set(w->err, LDS_ENOMEM, "glb: out of memory for %zu vertices", n);
    w->local_vertices = v;
    float *normals = s->normals ? v + 3 * n : NULL, *tangents = s->tangents ? v + 6 * n : NULL;
    memcpy(v, s->positions, 3 * n * sizeof(float));
    if (normals)
        memcpy(normals, s->normals, 3 * n * sizeof(float));
    if (tangents)
        memcpy(tangents, s->tangents, 4 * n * sizeof(float));
    if (lds_mesh_transform_vertices(v, normals, tangents, n, inverse) && s->indices)
        for (size_t t = 0; t + 2 < s->index_count; t += 3) {
            uint32_t *tri = (uint32_t *)(uintptr_t)(s->indices + t); /* the writer's own w->local */
            uint32_t b = tri[1];
            tri[1] = tri[2], tri[2] = b;
        }
    s->positions = v, s->normals = normals, s->tangents = tangents;
    return LDS_OK;
}

static lds_status write_submesh(writer *w, size_t index, const lds_mesh_submesh *sm)
{
    const lds_mesh_model *m = w->model;
    if ((uint64_t)sm->vertex_offset + sm->vertex_count > m->vertex_count ||
        (uint64_t)sm->index_offset + sm->index_count > m->index_count || sm->index_count % 3 != 0)
        return lds_error_set(w->err, LDS_EINVAL, "glb: submesh %zu has ranges outside the model", index);
    if (m->material_count > 0 && sm->material >= m->material_count)
        return lds_error_set(w->err, LDS_EINVAL, "glb: submesh %zu uses material %u of %zu", index, sm->material,
                             m->material_count);
    size_t n = sm->vertex_count, vo = sm->vertex_offset;
    slice s = {
        .vertex_count = n,
        .index_count = sm->index_count,
        .positions = m->positions + 3 * vo,
        .normals = m->normals ? m->normals + 3 * vo : NULL,
        .uvs = m->uvs ? m->uvs + 2 * vo : NULL,
        .colors = m->colors ? m->colors + 4 * vo : NULL,
        .uvs1 = m->uvs1 ? m->uvs1 + 2 * vo : NULL,
        .tangents = m->tangents ? m->tangents + 4 * vo : NULL,
    };
    lds_status st;
    if (m->joints && m->weights && (st = skin_arrays(w, &s, vo)) != LDS_OK)
        return st;
    if (sm->index_count > 0) {
        uint32_t *local = realloc(w->local, sm->index_count * sizeof(uint32_t));
        if (local == NULL)
            return lds_error_set(w->err, LDS_ENOMEM, "glb: out of memory for %u indices", sm->index_count);
        w->local = local;
        const uint32_t *src = m->indices + sm->index_offset;
        for (size_t i = 0; i < sm->index_count; i++) {
            uint32_t v = src[i] - (uint32_t)vo; /* wraps below vo: caught by the range check */
            if (src[i] < vo || v >= n)
                return lds_error_set(w->err, LDS_EINVAL, "glb: submesh %zu index %zu is vertex %u outside [%zu, %zu)",
                                     index, i, src[i], vo, vo + n);
            local[i] = v;
        }
        s.indices = local;
    }
    if (w->unbake && sm->primitive < w->unbake_count && w->unbake[17 * sm->primitive] != 0 &&
        (st = unbake(w, &s, w->unbake + 17 * sm->primitive + 1)) != LDS_OK)
        return st;

    json_t *primitive = json_object(), *attributes = json_object();
    int indices = -1;
    if (w->encoding == LDS_MESH_ENCODING_MESHOPT)
        st = write_meshopt(w, &s, attributes, &indices);
    else if (w->encoding == LDS_MESH_ENCODING_DRACO && s.indices)
        st = write_draco(w, &s, attributes, &indices, primitive);
    else
        st = write_plain(w, &s, attributes, &indices);
    /* attributes go first in the object: insertion order is output order */
    json_t *ordered = json_object();
    set(w, ordered, "attributes", attributes);
    if (indices >= 0)
        set(w, ordered, "indices", json_integer(indices));
    if (m->material_count > 0)
        set(w, ordered, "material", json_integer(sm->material));
    if (!s.indices)
        set(w, ordered, "mode", json_integer(0)); /* POINTS */
    json_t *exts = json_object_get(primitive, "extensions");
    if (exts)
        set(w, ordered, "extensions", json_incref(exts));
    json_decref(primitive);
    if (w->primitive_ids)
        w->primitive_ids[json_array_size(w->primitives)] = sm->primitive;
    append(w, w->primitives, ordered);
    return st;
}

/* ---- meshopt quantisation grids shared by all primitives ---- */

static void meshopt_grids(writer *w)
{
    const lds_mesh_model *m = w->model;
    float mn[3], mx[3];
    for (int c = 0; c < 3; c++)
        mn[c] = mx[c] = m->positions[c];
    for (size_t i = 1; i < m->vertex_count; i++)
        for (int c = 0; c < 3; c++) {
            float v = m->positions[3 * i + c];
            mn[c] = v < mn[c] ? v : mn[c];
            mx[c] = v > mx[c] ? v : mx[c];
        }
    float extent = 0;
    for (int c = 0; c < 3; c++) {
        w->pos_origin[c] = mn[c];
        extent = mx[c] - mn[c] > extent ? mx[c] - mn[c] : extent;
    }
    /* One uniform step keeps normals valid under the node's scale. */
    w->pos_step = extent > 0 ? extent / (float)((1u << w->position_bits) - 1) : 1.0f;
    if (m->uvs && m->vertex_count > 0) {
        float umn[2] = {m->uvs[0], m->uvs[1]}, umx[2] = {m->uvs[0], m->uvs[1]};
        for (size_t i = 1; i < m->vertex_count; i++)
            for (int c = 0; c < 2; c++) {
                float v = m->uvs[2 * i + c];
                umn[c] = v < umn[c] ? v : umn[c];
                umx[c] = v > umx[c] ? v : umx[c];
            }
        for (int c = 0; c < 2; c++) {
            w->uv_origin[c] = umn[c];
            w->uv_extent[c] = umx[c] - umn[c];
        }
    }
}

static int clamp_bits(int bits, int fallback, int max)
{
    if (bits <= 0)
        return fallback;
    return bits > max ? max : bits;
}

static json_t *string_array(writer *w, const char *const *names, size_t count)
{
    json_t *a = json_array();
    for (size_t i = 0; i < count; i++)
        append(w, a, json_string(names[i]));
    return a;
}

/* The flattened model's scene: one node drawing one mesh (with meshopt's dequantisation). */
static void flat_scene(writer *w, json_t *root)
{
    set(w, root, "scene", json_integer(0));
    json_t *scene = json_object(), *scenes = json_array(), *nodes = json_array(), *node = json_object();
    json_t *scene_nodes = json_array();
    append(w, scene_nodes, json_integer(0));
    set(w, scene, "nodes", scene_nodes);
    append(w, scenes, scene);
    set(w, root, "scenes", scenes);
    set(w, node, "mesh", json_integer(0));
    if (w->used_meshopt) {
        double translation[3] = {w->pos_origin[0], w->pos_origin[1], w->pos_origin[2]};
        double scale[3] = {w->pos_step, w->pos_step, w->pos_step};
        set(w, node, "translation", float_array(w, translation, 3));
        set(w, node, "scale", float_array(w, scale, 3));
    }
    append(w, nodes, node);
    set(w, root, "nodes", nodes);
    json_t *mesh = json_object(), *meshes = json_array();
    set(w, mesh, "primitives", json_incref(w->primitives));
    append(w, meshes, mesh);
    set(w, root, "meshes", meshes);
}

/* lds_glb_scene_sink: scene data (inverse bind matrices, keyframes, instance transforms) as plain
 * float accessors in buffer 0, in every encoding. */
static int scene_accessor(void *ctx, const float *data, size_t count, int components, const char *type, int with_bounds)
{
    writer *w = ctx;
    int view = add_view(w, data, count * (size_t)components * sizeof(float), 0, 0);
    if (view < 0)
        return -1;
    bounds b = {0};
    if (with_bounds && components <= 4)
        float_bounds(data, count, components, &b);
    return add_accessor(w, view, CT_FLOAT, count, type, 0, &b);
}

/* Assembles the JSON document and appends header, JSON chunk and BIN chunk to out. */
static lds_status finish(writer *w, const char *generator, lds_buf *out)
{
    lds_status st = LDS_OK;
    json_t *scene_part = json_object();
    if (w->model->scene && scene_part) {
        lds_glb_scene_sink sink = {w, scene_accessor};
        st = lds_glb_scene_write(w->model->scene, w->primitives, w->primitive_ids, &sink, scene_part, w->used,
                                 w->err);
    }
    if (st != LDS_OK || scene_part == NULL) {
        json_decref(scene_part);
        return scene_part ? st : lds_error_set(w->err, LDS_ENOMEM, "glb: out of memory");
    }
    json_t *root = json_object();
    json_t *asset = json_object();
    set(w, asset, "version", json_string("2.0"));
    json_t *gen = json_string(generator && generator[0] ? generator : "lodestone");
    set(w, asset, "generator", gen ? gen : json_string("lodestone"));
    set(w, root, "asset", asset);

    const char *required[4];
    size_t required_count = 0;
    if (w->used_draco)
        required[required_count++] = "KHR_draco_mesh_compression";
    if (w->used_meshopt) {
        required[required_count++] = "EXT_meshopt_compression";
        required[required_count++] = "KHR_mesh_quantization";
    }
    for (size_t i = 0; i < required_count; i++)
        use_extension(w, required[i]);
    if (json_array_size(w->used))
        set(w, root, "extensionsUsed", json_incref(w->used));
    if (required_count)
        set(w, root, "extensionsRequired", string_array(w, required, required_count));

    if (w->model->scene)
        st = json_object_update(root, scene_part) == 0 ? LDS_OK : LDS_ENOMEM;
    else
        flat_scene(w, root);
    if (json_array_size(w->materials))
        set(w, root, "materials", json_incref(w->materials));
    if (json_array_size(w->textures))
        set(w, root, "textures", json_incref(w->textures));
    if (json_array_size(w->samplers))
        set(w, root, "samplers", json_incref(w->samplers));
    if (json_array_size(w->images))
        set(w, root, "images", json_incref(w->images));
    set(w, root, "accessors", json_incref(w->accessors));
    if (json_array_size(w->buffer_views))
        set(w, root, "bufferViews", json_incref(w->buffer_views));
    json_t *buffers = json_array();
    if (w->bin.size) {
        json_t *b0 = json_object();
        set(w, b0, "byteLength", json_integer((json_int_t)w->bin.size));
        append(w, buffers, b0);
    }
    if (w->used_meshopt) {
        json_t *b1 = json_object(), *ext = json_object(), *exts = json_object();
        set(w, b1, "byteLength", json_integer((json_int_t)w->fallback_size));
        set(w, ext, "fallback", json_true());
        set(w, exts, "EXT_meshopt_compression", ext);
        set(w, b1, "extensions", exts);
        append(w, buffers, b1);
    }
    set(w, root, "buffers", buffers);

    json_decref(scene_part);
    char *text = w->oom || st != LDS_OK ? NULL : json_dumps(root, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(root);
    if (text == NULL)
        return lds_error_set(w->err, LDS_ENOMEM, "glb: out of memory building the JSON chunk");
    size_t json_size = strlen(text), json_padded = (json_size + 3) & ~(size_t)3;
    size_t bin_padded = (w->bin.size + 3) & ~(size_t)3;
    size_t total = 12 + 8 + json_padded + (w->bin.size ? 8 + bin_padded : 0);
    if (total > GLB_MAX_BYTES) {
        free(text);
        return lds_error_set(w->err, LDS_ELIMIT, "glb: %zu bytes, over the 4 GiB GLB limit", total);
    }
    unsigned char *p;
    if ((st = lds_buf_grow(out, total, &p)) != LDS_OK) {
        free(text);
        return lds_error_set(w->err, st, "glb: %zu bytes do not fit the output buffer", total);
    }
    uint32_t header[5] = {0x46546C67u /* glTF */, 2, (uint32_t)total, (uint32_t)json_padded, 0x4E4F534Au /* JSON */};
    memcpy(p, header, sizeof(header)); /* GLB is little-endian, as are our targets */
    memcpy(p + 20, text, json_size);
    memset(p + 20 + json_size, ' ', json_padded - json_size);
    free(text);
    if (w->bin.size) {
        uint32_t chunk[2] = {(uint32_t)bin_padded, 0x004E4942u /* BIN */};
        unsigned char *q = p + 20 + json_padded;
        memcpy(q, chunk, sizeof(chunk));
        memcpy(q + 8, w->bin.data, w->bin.size); /* padding bytes are already zero */
    }
    return LDS_OK;
}

lds_status lds_mesh_write_glb(const lds_mesh_model *model, lds_mesh_encoding encoding,
                              const lds_mesh_quantization *quantization, const char *generator, lds_buf *out,
                              lds_error *err)
{
    if (model->vertex_count == 0 || model->positions == NULL)
        return lds_error_set(err, LDS_ENOGEOM, "glb: the model has no vertices");
    if (encoding != LDS_MESH_ENCODING_PLAIN && encoding != LDS_MESH_ENCODING_DRACO &&
        encoding != LDS_MESH_ENCODING_MESHOPT)
        return lds_error_set(err, LDS_EINVAL, "glb: unknown encoding %d", (int)encoding);
    lds_mesh_quantization defaults = LDS_MESH_QUANTIZATION_DEFAULT;
    const lds_mesh_quantization *qz = quantization ? quantization : &defaults;
    /* meshopt stores positions and UVs in uint16, Draco accepts up to 30 bits */
    int max_bits = encoding == LDS_MESH_ENCODING_MESHOPT ? 16 : 30;
    writer w = {
        .model = model,
        .encoding = encoding,
        .position_bits = clamp_bits(qz->position_bits, defaults.position_bits, max_bits),
        .normal_bits = clamp_bits(qz->normal_bits, defaults.normal_bits, max_bits),
        .uv_bits = clamp_bits(qz->uv_bits, defaults.uv_bits, max_bits),
        .buffer_views = json_array(),
        .accessors = json_array(),
        .primitives = json_array(),
        .materials = json_array(),
        .textures = json_array(),
        .images = json_array(),
        .samplers = json_array(),
        .used = json_array(),
        .err = err,
    };
    lds_buf_init(&w.bin, out->max ? out->max : GLB_MAX_BYTES);
    lds_status st = LDS_OK;
    w.image_map = malloc((model->texture_count + 1) * sizeof(int));
    if (model->scene && ((w.primitive_ids = calloc(model->submesh_count + 1, sizeof(uint32_t))) == NULL ||
                         lds_glb_scene_unbake(model->scene, &w.unbake_count, &w.unbake, err) != LDS_OK))
        w.oom = 1;
    if (w.image_map == NULL || w.oom || !w.buffer_views || !w.accessors || !w.primitives || !w.materials || !w.textures ||
        !w.images || !w.samplers || !w.used) {
        st = lds_error_set(err, LDS_ENOMEM, "glb: out of memory");
        goto out;
    }
    for (size_t i = 0; i < model->texture_count; i++)
        w.image_map[i] = -2;
    if (encoding == LDS_MESH_ENCODING_MESHOPT)
        meshopt_grids(&w);
    write_materials(&w);
    if (w.failed != LDS_OK) {
        st = w.failed;
        goto out;
    }
    if (model->submesh_count == 0) {
        /* No submeshes: the whole model is one primitive (a point cloud when it has no indices). */
        lds_mesh_submesh all = {0, (uint32_t)model->vertex_count, 0, (uint32_t)model->index_count, 0, 0};
        if (model->vertex_count > UINT32_MAX || model->index_count > UINT32_MAX)
            st = lds_error_set(err, LDS_ELIMIT, "glb: %zu vertices over the limit", model->vertex_count);
        else
            st = write_submesh(&w, 0, &all);
    } else {
        for (size_t i = 0; i < model->submesh_count && st == LDS_OK; i++)
            if (model->submeshes[i].vertex_count > 0)
                st = write_submesh(&w, i, &model->submeshes[i]);
    }
    if (st == LDS_OK && json_array_size(w.primitives) == 0)
        st = lds_error_set(err, LDS_ENOGEOM, "glb: no submesh has vertices");
    if (st == LDS_OK)
        st = finish(&w, generator, out);
out:
    json_decref(w.buffer_views);
    json_decref(w.accessors);
    json_decref(w.primitives);
    json_decref(w.materials);
    json_decref(w.textures);
    json_decref(w.images);
    json_decref(w.samplers);
    json_decref(w.used);
    free(w.image_map);
    free(w.local);
    free(w.scratch);
    free(w.skin_joints);
    free(w.skin_weights);
    free(w.primitive_ids);
    free(w.unbake);
    free(w.local_vertices);
    lds_buf_cleanup(&w.bin);
    return st;
}
