/* model.c: the in-memory model's lifecycle and its validation, the gate every imported or
 * sandbox-returned model passes before anything trusts it. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

lds_mesh_model *lds_mesh_model_create(void)
{
    return calloc(1, sizeof(lds_mesh_model));
}

void lds_mesh_model_destroy(lds_mesh_model *model)
{
    if (model == NULL)
        return;
    free(model->positions);
    free(model->normals);
    free(model->uvs);
    free(model->colors);
    free(model->indices);
    free(model->submeshes);
    for (size_t i = 0; i < model->material_count; i++)
        free(model->materials[i].name);
    free(model->materials);
    for (size_t i = 0; i < model->texture_count; i++) {
        free(model->textures[i].name);
        free(model->textures[i].data);
    }
    free(model->textures);
    for (size_t i = 0; i < model->warning_count; i++)
        free(model->warnings[i]);
    free(model->warnings);
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
    free(model->positions);
    free(model->normals);
    free(model->uvs);
    free(model->colors);
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
    c->vertex_count = nv;
    c->index_count = m->index_count;
    c->positions = dup_bytes(m->positions, nv * 3 * sizeof(float));
    c->normals = dup_bytes(m->normals, nv * 3 * sizeof(float));
    c->uvs = dup_bytes(m->uvs, nv * 2 * sizeof(float));
    c->colors = dup_bytes(m->colors, nv * 4 * sizeof(float));
    c->indices = dup_bytes(m->indices, m->index_count * sizeof(uint32_t));
    c->submesh_count = m->submesh_count;
    c->submeshes = dup_bytes(m->submeshes, m->submesh_count * sizeof(lds_mesh_submesh));
    c->material_count = m->material_count;
    c->materials = dup_bytes(m->materials, m->material_count * sizeof(lds_mesh_material));
    for (size_t i = 0; c->materials && i < m->material_count; i++)
        c->materials[i].name = dup_string(m->materials[i].name);
    c->texture_count = m->texture_count;
    c->textures = dup_bytes(m->textures, m->texture_count * sizeof(lds_mesh_texture));
    for (size_t i = 0; c->textures && i < m->texture_count; i++) {
        c->textures[i].name = dup_string(m->textures[i].name);
        c->textures[i].data = dup_bytes(m->textures[i].data, m->textures[i].size);
    }
    c->warning_count = m->warning_count;
    c->warnings = dup_bytes(m->warnings, m->warning_count * sizeof(char *));
    for (size_t i = 0; c->warnings && i < m->warning_count; i++)
        c->warnings[i] = dup_string(m->warnings[i]);
    int failed = (nv && !c->positions) || (m->normals && nv && !c->normals) || (m->uvs && nv && !c->uvs) ||
                 (m->colors && nv && !c->colors) || (m->index_count && !c->indices) ||
                 (m->submesh_count && !c->submeshes) || (m->material_count && !c->materials) ||
                 (m->texture_count && !c->textures) || (m->warning_count && !c->warnings);
    if (failed) {
        if (!c->materials)
            c->material_count = 0;
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
    if ((st = check_finite(m->positions, m->vertex_count, 3, "position", name, err)) != LDS_OK ||
        (st = check_finite(m->normals, m->vertex_count, 3, "normal", name, err)) != LDS_OK ||
        (st = check_finite(m->uvs, m->vertex_count, 2, "texture coordinate", name, err)) != LDS_OK ||
        (st = check_finite(m->colors, m->vertex_count, 4, "colour", name, err)) != LDS_OK)
        return st;
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
    for (size_t i = 0; i < m->material_count; i++) {
        int t = m->materials[i].texture;
        if (t < -1 || (t >= 0 && (size_t)t >= m->texture_count))
            return lds_error_set(err, LDS_EFORMAT, "%s: material %zu uses texture %d of %zu", name, i, t,
                                 m->texture_count);
    }
    return LDS_OK;
}
