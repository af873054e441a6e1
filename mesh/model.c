/* model.c: the in-memory model's lifecycle and its validation, the gate every imported or
 * sandbox-returned model passes before anything trusts it. */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mesh.h"
#include "mesh_internal.h"

const lds_mesh_attribute lds_mesh_attributes[LDS_MESH_ATTRIBUTE_COUNT] = {
    [LDS_MESH_ATTR_NORMALS] = {"NORMAL", offsetof(lds_mesh_model, normals), 3},
    [LDS_MESH_ATTR_UVS] = {"TEXCOORD_0", offsetof(lds_mesh_model, uvs), 2},
    [LDS_MESH_ATTR_COLORS] = {"COLOR_0", offsetof(lds_mesh_model, colors), 4},
    [LDS_MESH_ATTR_UVS1] = {"TEXCOORD_1", offsetof(lds_mesh_model, uvs1), 2},
    [LDS_MESH_ATTR_TANGENTS] = {"TANGENT", offsetof(lds_mesh_model, tangents), 4},
    [LDS_MESH_ATTR_JOINTS] = {"JOINTS_0", offsetof(lds_mesh_model, joints), 4},
    [LDS_MESH_ATTR_WEIGHTS] = {"WEIGHTS_0", offsetof(lds_mesh_model, weights), 4},
};

void lds_mesh_material_init(lds_mesh_material *m)
{
    memset(m, 0, sizeof(*m));
    for (int c = 0; c < 4; c++)
        m->base_color[c] = 1.0f;
    m->metallic = 1.0f;
    m->roughness = 1.0f;
    m->emissive_strength = 1.0f;
    m->alpha_mode = LDS_MESH_ALPHA_OPAQUE;
    m->alpha_cutoff = 0.5f;
    for (int s = 0; s < LDS_MESH_MAP_COUNT; s++) {
        m->maps[s].texture = -1;
        m->maps[s].scale = 1.0f;
        m->maps[s].transform.scale[0] = m->maps[s].transform.scale[1] = 1.0f;
        m->maps[s].transform.tex_coord = -1;
    }
}

void lds_mesh_material_cleanup(lds_mesh_material *m)
{
    if (m == NULL)
        return;
    free(m->name);
    free(m->extensions);
    m->name = m->extensions = NULL;
}

lds_status lds_mesh_material_copy(lds_mesh_material *dst, const lds_mesh_material *src)
{
    *dst = *src;
    dst->name = src->name ? strdup(src->name) : NULL;
    dst->extensions = src->extensions ? strdup(src->extensions) : NULL;
    if ((src->name && !dst->name) || (src->extensions && !dst->extensions)) {
        lds_mesh_material_cleanup(dst);
        return LDS_ENOMEM;
    }
    return LDS_OK;
}

static void free_attributes(lds_mesh_model *model)
{
    free(model->positions);
    model->positions = NULL;
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++) {
        float **slot = lds_mesh_attribute_slot(model, a);
        free(*slot);
        *slot = NULL;
    }
}

lds_mesh_model *lds_mesh_model_create(void)
{
    return calloc(1, sizeof(lds_mesh_model));
}

void lds_mesh_model_destroy(lds_mesh_model *model)
{
    if (model == NULL)
        return;
    free_attributes(model);
    free(model->indices);
    free(model->submeshes);
    for (size_t i = 0; i < model->material_count; i++)
        lds_mesh_material_cleanup(&model->materials[i]);
    free(model->materials);
    for (size_t i = 0; i < model->texture_count; i++) {
        free(model->textures[i].name);
        free(model->textures[i].data);
    }
    free(model->textures);
    for (size_t i = 0; i < model->warning_count; i++)
        free(model->warnings[i]);
    free(model->warnings);
    free(model->scene);
    free(model);
}

static void *alloc_array(size_t count, size_t size)
{
    if (count == 0)
        return NULL;
    if (count > SIZE_MAX / size)
        return NULL;
    return calloc(count, size);
}

lds_status lds_mesh_model_alloc(lds_mesh_model *model, size_t vertex_count, size_t index_count, int with_normals,
                                int with_uvs, int with_colors)
{
    free_attributes(model);
    free(model->indices);
    model->positions = alloc_array(vertex_count, 3 * sizeof(float));
    model->normals = with_normals ? alloc_array(vertex_count, 3 * sizeof(float)) : NULL;
    model->uvs = with_uvs ? alloc_array(vertex_count, 2 * sizeof(float)) : NULL;
    model->colors = with_colors ? alloc_array(vertex_count, 4 * sizeof(float)) : NULL;
    model->indices = alloc_array(index_count, sizeof(uint32_t));
    model->vertex_count = vertex_count;
    model->index_count = index_count;
    if ((vertex_count && (!model->positions || (with_normals && !model->normals) || (with_uvs && !model->uvs) ||
                          (with_colors && !model->colors))) ||
        (index_count && !model->indices))
        return LDS_ENOMEM;
    return LDS_OK;
}

lds_status lds_mesh_model_alloc_attribute(lds_mesh_model *model, unsigned a)
{
    assert(a < LDS_MESH_ATTRIBUTE_COUNT);
    float **slot = lds_mesh_attribute_slot(model, a);
    free(*slot);
    *slot = alloc_array(model->vertex_count, lds_mesh_attributes[a].width * sizeof(float));
    return *slot || model->vertex_count == 0 ? LDS_OK : LDS_ENOMEM;
}

lds_status lds_mesh_model_alloc_like(lds_mesh_model *dst, const lds_mesh_model *like, size_t vertex_count,
                                     size_t index_count)
{
    lds_status st = lds_mesh_model_alloc(dst, vertex_count, index_count, like->normals != NULL, like->uvs != NULL,
                                         like->colors != NULL);
    for (unsigned a = LDS_MESH_ATTR_COLORS + 1; st == LDS_OK && a < LDS_MESH_ATTRIBUTE_COUNT; a++)
        if (lds_mesh_attribute_data(like, a))
            st = lds_mesh_model_alloc_attribute(dst, a);
    return st;
}

void lds_mesh_model_take_geometry(lds_mesh_model *dst, lds_mesh_model *src)
{
    free_attributes(dst);
    free(dst->indices);
    free(dst->submeshes);
    dst->vertex_count = src->vertex_count;
    dst->positions = src->positions;
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++) {
        *lds_mesh_attribute_slot(dst, a) = lds_mesh_attribute_data(src, a);
        *lds_mesh_attribute_slot(src, a) = NULL;
    }
    dst->index_count = src->index_count;
    dst->indices = src->indices;
    dst->submesh_count = src->submesh_count;
    dst->submeshes = src->submeshes;
    src->positions = NULL;
    src->indices = NULL;
    src->submeshes = NULL;
    src->vertex_count = src->index_count = src->submesh_count = 0;
}

static void *dup_bytes(const void *src, size_t size)
{
    if (src == NULL || size == 0)
        return NULL;
    void *p = malloc(size);
    if (p)
        memcpy(p, src, size);
    return p;
}

static char *dup_string(const char *s)
{
    return s ? strdup(s) : NULL;
}

lds_mesh_model *lds_mesh_model_clone(const lds_mesh_model *m)
{
    lds_mesh_model *c = lds_mesh_model_create();
    if (c == NULL)
        return NULL;
    size_t nv = m->vertex_count;
    int failed = 0;
    c->vertex_count = nv;
    c->index_count = m->index_count;
    c->positions = dup_bytes(m->positions, nv * 3 * sizeof(float));
    failed |= nv && !c->positions;
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++) {
        const float *src = lds_mesh_attribute_data(m, a);
        float **dst = lds_mesh_attribute_slot(c, a);
        *dst = dup_bytes(src, nv * lds_mesh_attributes[a].width * sizeof(float));
        failed |= src && nv && !*dst;
    }
    c->indices = dup_bytes(m->indices, m->index_count * sizeof(uint32_t));
    c->submesh_count = m->submesh_count;
    c->submeshes = dup_bytes(m->submeshes, m->submesh_count * sizeof(lds_mesh_submesh));
    if (m->material_count && (c->materials = calloc(m->material_count, sizeof(lds_mesh_material))) != NULL)
        for (size_t i = 0; i < m->material_count; i++, c->material_count++)
            if (lds_mesh_material_copy(&c->materials[i], &m->materials[i]) != LDS_OK) {
                failed = 1;
                break;
            }
    c->texture_count = m->texture_count;
    c->textures = dup_bytes(m->textures, m->texture_count * sizeof(lds_mesh_texture));
    for (size_t i = 0; c->textures && i < m->texture_count; i++) {
        c->textures[i].name = dup_string(m->textures[i].name);
        c->textures[i].data = dup_bytes(m->textures[i].data, m->textures[i].size);
        failed |= (m->textures[i].name && !c->textures[i].name) ||
                  (m->textures[i].data && m->textures[i].size && !c->textures[i].data);
    }
    c->warning_count = m->warning_count;
    c->warnings = dup_bytes(m->warnings, m->warning_count * sizeof(char *));
    for (size_t i = 0; c->warnings && i < m->warning_count; i++)
        failed |= (c->warnings[i] = dup_string(m->warnings[i])) == NULL;
    failed |= m->scene && (c->scene = dup_string(m->scene)) == NULL;
    failed |= (m->index_count && !c->indices) || (m->submesh_count && !c->submeshes) ||
              (m->material_count && !c->materials) || (m->texture_count && !c->textures) ||
              (m->warning_count && !c->warnings);
    if (failed) {
        if (!c->textures)
            c->texture_count = 0;
        if (!c->warnings)
            c->warning_count = 0;
        lds_mesh_model_destroy(c);
        return NULL;
    }
    return c;
}

lds_status lds_mesh_model_warn(lds_mesh_model *model, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < model->warning_count; i++)
        if (strcmp(model->warnings[i], text) == 0)
            return LDS_OK;
    char **w = realloc(model->warnings, (model->warning_count + 1) * sizeof(char *));
    if (w == NULL)
        return LDS_ENOMEM;
    model->warnings = w;
    if ((w[model->warning_count] = strdup(text)) == NULL)
        return LDS_ENOMEM;
    model->warning_count++;
    return LDS_OK;
}

size_t lds_mesh_triangle_count(const lds_mesh_model *model)
{
    return model->index_count / 3;
}

static lds_status check_finite(const float *values, size_t count, size_t stride, const char *what, const char *name,
                               lds_error *err)
{
    if (values == NULL)
        return LDS_OK;
    for (size_t i = 0; i < count * stride; i++)
        if (!isfinite(values[i]))
            return lds_error_set(err, LDS_EFORMAT, "%s: vertex %zu has a non-finite %s", name, i / stride, what);
    return LDS_OK;
}

/* Every textureInfo in a material's extension JSON (a member named "...Texture" holding
 * {"index": N}, the glTF naming rule) names a model texture. */
static int extension_textures_ok(const json_t *value, size_t texture_count, int depth)
{
    if (depth > 32)
        return 0;
    if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++)
            if (!extension_textures_ok(json_array_get(value, i), texture_count, depth + 1))
                return 0;
        return 1;
    }
    if (!json_is_object(value))
        return 1;
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)value, key, item)
    {
        size_t len = strlen(key);
        json_t *index = json_object_get(item, "index");
        if (len >= 7 && strcmp(key + len - 7, "Texture") == 0 && json_is_object(item) &&
            (!json_is_integer(index) || json_integer_value(index) < 0 ||
             (uint64_t)json_integer_value(index) >= texture_count))
            return 0;
        if (!extension_textures_ok(item, texture_count, depth + 1))
            return 0;
    }
    return 1;
}

static lds_status validate_material(const lds_mesh_model *m, size_t i, const char *name, lds_error *err)
{
    const lds_mesh_material *mat = &m->materials[i];
    for (int s = 0; s < LDS_MESH_MAP_COUNT; s++) {
        const lds_mesh_texture_ref *ref = &mat->maps[s];
        int t = ref->texture;
        if (t < -1 || (t >= 0 && (size_t)t >= m->texture_count))
            return lds_error_set(err, LDS_EFORMAT, "%s: material %zu uses texture %d of %zu", name, i, t,
                                 m->texture_count);
        if (ref->tex_coord < 0 || ref->tex_coord > 1 || ref->transform.tex_coord < -1 ||
            ref->transform.tex_coord > 1 || !isfinite(ref->scale) || !isfinite(ref->transform.offset[0]) ||
            !isfinite(ref->transform.offset[1]) || !isfinite(ref->transform.rotation) ||
            !isfinite(ref->transform.scale[0]) || !isfinite(ref->transform.scale[1]))
            return lds_error_set(err, LDS_EFORMAT, "%s: material %zu has a malformed texture slot %d", name, i, s);
    }
    float factors[] = {mat->base_color[0], mat->base_color[1], mat->base_color[2], mat->base_color[3],
                       mat->metallic, mat->roughness, mat->emissive[0], mat->emissive[1], mat->emissive[2],
                       mat->emissive_strength, mat->alpha_cutoff};
    for (size_t k = 0; k < sizeof(factors) / sizeof(factors[0]); k++)
        if (!isfinite(factors[k]))
            return lds_error_set(err, LDS_EFORMAT, "%s: material %zu has a non-finite factor", name, i);
    if (mat->alpha_mode < LDS_MESH_ALPHA_OPAQUE || mat->alpha_mode > LDS_MESH_ALPHA_BLEND)
        return lds_error_set(err, LDS_EFORMAT, "%s: material %zu has alpha mode %d", name, i, (int)mat->alpha_mode);
    if (mat->extensions) {
        json_t *ext = json_loads(mat->extensions, JSON_REJECT_DUPLICATES, NULL);
        int ok = json_is_object(ext) && extension_textures_ok(ext, m->texture_count, 0);
        json_decref(ext);
        if (!ok)
            return lds_error_set(err, LDS_EFORMAT, "%s: material %zu has malformed extensions", name, i);
    }
    return LDS_OK;
}

lds_status lds_mesh_model_validate(const lds_mesh_model *m, const char *name, lds_error *err)
{
    if (m->vertex_count == 0)
        return lds_error_set(err, LDS_ENOGEOM, "%s: no geometry (no vertices)", name);
    if (m->vertex_count > UINT32_MAX)
        return lds_error_set(err, LDS_ELIMIT, "%s: %zu vertices is over the limit", name, m->vertex_count);
    if (m->positions == NULL)
        return lds_error_set(err, LDS_EFORMAT, "%s: vertices without positions", name);
    if (m->index_count % 3 != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: %zu indices is not a whole number of triangles", name,
                             m->index_count);
    if (m->index_count && m->indices == NULL)
        return lds_error_set(err, LDS_EFORMAT, "%s: missing index buffer", name);
    if (m->submesh_count == 0 || m->submeshes == NULL)
        return lds_error_set(err, LDS_EFORMAT, "%s: no submeshes", name);
    if (m->material_count == 0 || m->materials == NULL)
        return lds_error_set(err, LDS_EFORMAT, "%s: no materials", name);
    lds_status st;
    if ((st = check_finite(m->positions, m->vertex_count, 3, "position", name, err)) != LDS_OK)
        return st;
    for (unsigned a = 0; a < LDS_MESH_ATTRIBUTE_COUNT; a++)
        if ((st = check_finite(lds_mesh_attribute_data(m, a), m->vertex_count, lds_mesh_attributes[a].width,
                               lds_mesh_attributes[a].name, name, err)) != LDS_OK)
            return st;
    if ((m->joints == NULL) != (m->weights == NULL))
        return lds_error_set(err, LDS_EFORMAT, "%s: joints without weights or weights without joints", name);
    for (size_t i = 0; m->joints && i < m->vertex_count * 4; i++)
        if (!(m->joints[i] >= 0.0f && m->joints[i] <= 65535.0f && m->joints[i] == floorf(m->joints[i])))
            return lds_error_set(err, LDS_EFORMAT, "%s: vertex %zu has joint index %g", name, i / 4,
                                 (double)m->joints[i]);
    uint64_t vertices_seen = 0, indices_seen = 0;
    for (size_t s = 0; s < m->submesh_count; s++) {
        const lds_mesh_submesh *sm = &m->submeshes[s];
        uint64_t vend = (uint64_t)sm->vertex_offset + sm->vertex_count;
        uint64_t iend = (uint64_t)sm->index_offset + sm->index_count;
        if (vend > m->vertex_count || iend > m->index_count || sm->index_count % 3 != 0)
            return lds_error_set(err, LDS_EFORMAT, "%s: submesh %zu is out of range", name, s);
        if (sm->material >= m->material_count)
            return lds_error_set(err, LDS_EFORMAT, "%s: submesh %zu uses material %u of %zu", name, s, sm->material,
                                 m->material_count);
        for (uint32_t i = 0; i < sm->index_count; i++) {
            uint32_t v = m->indices[sm->index_offset + i];
            if (v < sm->vertex_offset || v >= vend)
                return lds_error_set(err, LDS_EFORMAT, "%s: index %u uses vertex %u of %zu", name,
                                     sm->index_offset + i, v, m->vertex_count);
        }
        vertices_seen += sm->vertex_count;
        indices_seen += sm->index_count;
    }
    if (indices_seen != m->index_count)
        return lds_error_set(err, LDS_EFORMAT, "%s: submeshes cover %llu of %zu indices", name,
                             (unsigned long long)indices_seen, m->index_count);
    if (vertices_seen > m->vertex_count)
        return lds_error_set(err, LDS_EFORMAT, "%s: submesh vertex ranges overlap", name);
    for (size_t i = 0; i < m->material_count; i++)
        if ((st = validate_material(m, i, name, err)) != LDS_OK)
            return st;
    return LDS_OK;
}

int lds_mesh_transform_vertices(float *positions, float *normals, float *tangents, size_t count,
                                const double *matrix)
{
    const double *x = matrix;
    double det = x[0] * (x[5] * x[10] - x[9] * x[6]) - x[4] * (x[1] * x[10] - x[9] * x[2]) +
                 x[8] * (x[1] * x[6] - x[5] * x[2]);
    /* normal matrix: the inverse transpose of the upper 3x3 is its cofactor matrix over det */
    double nm[9] = {x[5] * x[10] - x[6] * x[9], x[6] * x[8] - x[4] * x[10], x[4] * x[9] - x[5] * x[8],
                    x[2] * x[9] - x[1] * x[10], x[0] * x[10] - x[2] * x[8], x[1] * x[8] - x[0] * x[9],
                    x[1] * x[6] - x[2] * x[5], x[2] * x[4] - x[0] * x[6], x[0] * x[5] - x[1] * x[4]};
    for (size_t v = 0; v < count; v++) {
        float *p = positions + 3 * v;
        double px = p[0], py = p[1], pz = p[2];
        for (int r = 0; r < 3; r++)
            p[r] = (float)(x[r] * px + x[4 + r] * py + x[8 + r] * pz + x[12 + r]);
        float *vecs[2] = {normals ? normals + 3 * v : NULL, tangents ? tangents + 4 * v : NULL};
        for (int k = 0; k < 2; k++) {
            float *n = vecs[k];
            if (n == NULL)
                continue;
            double nx = n[0], ny = n[1], nz = n[2], o[3];
            for (int r = 0; r < 3; r++)
                o[r] = k == 0 ? nm[r] * nx + nm[3 + r] * ny + nm[6 + r] * nz : x[r] * nx + x[4 + r] * ny + x[8 + r] * nz;
            double len = sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]);
            if (len > 0 && isfinite(len))
                for (int r = 0; r < 3; r++)
                    n[r] = (float)(o[r] / len);
        }
    }
    return det < 0;
}
