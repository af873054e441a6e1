/* import_assimp.c: every format Assimp reads, through its C API. The one file that includes
 * Assimp's headers.
 *
 * Assimp never touches the filesystem here: an aiFileIO serves the main file from memory and
 * fetches sidecars (.mtl, .bin, textures, ...) through the lds_mesh_reader, so the importer can
 * run in a sandbox without open(). Post-processing is aiProcess_Triangulate only (no
 * JoinIdenticalVertices: clean.c welds, ~5x faster). The scene graph is flattened: every
 * (node, mesh) instance becomes a submesh in world space, positions by the accumulated node
 * transform and normals by its inverse transpose; mirrored instances get their winding flipped. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <assimp/cfileio.h>
#include <assimp/cimport.h>
#include <assimp/config.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>

#include "import_internal.h"

#define MAX_SIDECARS 256
#define MAX_INSTANCES (1u << 20)
#define MAX_DEPTH 256

/* ---- in-memory file system ------------------------------------------------------------------- */

typedef struct sidecar {
    char *name;
    unsigned char *data; /* NULL when missing */
    size_t size;
} sidecar;

typedef struct memfs {
    const lds_import_ctx *ctx;
    const char *main_name;
    const unsigned char *main_data;
    size_t main_size;
    sidecar files[MAX_SIDECARS];
    size_t file_count;
} memfs;

typedef struct memfile {
    const unsigned char *data;
    size_t size, pos;
} memfile;

static size_t mem_read(struct aiFile *f, char *buffer, size_t size, size_t count)
{
    memfile *m = (memfile *)f->UserData;
    if (size == 0 || count == 0)
        return 0;
    size_t items = (m->size - m->pos) / size;
    if (items > count)
        items = count;
    memcpy(buffer, m->data + m->pos, items * size);
    m->pos += items * size;
    return items;
}

static size_t mem_write(struct aiFile *f, const char *buffer, size_t size, size_t count)
{
    return 0;
}

static size_t mem_tell(struct aiFile *f)
{
    return ((memfile *)f->UserData)->pos;
}

static size_t mem_size(struct aiFile *f)
{
    return ((memfile *)f->UserData)->size;
}

static void mem_flush(struct aiFile *f)
{
}

static enum aiReturn mem_seek(struct aiFile *f, size_t offset, enum aiOrigin origin)
{
    memfile *m = (memfile *)f->UserData;
    size_t base = origin == aiOrigin_SET ? 0 : origin == aiOrigin_CUR ? m->pos : m->size;
    size_t target = base + offset; /* offsets before base arrive wrapped; unsigned arithmetic undoes it */
    if (target > m->size)
        return aiReturn_FAILURE;
    m->pos = target;
    return aiReturn_SUCCESS;
}

/* Assimp asks for sidecars by paths it builds from the main file's name: "./x.mtl", "x.bin",
 * or with a directory the model wrote. Leading "./" and "/" are dropped before asking the reader,
 * which does its own confinement. */
static const char *strip_prefix(const char *path)
{
    for (;;) {
        if (path[0] == '.' && (path[1] == '/' || path[1] == '\\'))
            path += 2;
        else if (path[0] == '/' || path[0] == '\\')
            path += 1;
        else
            return path;
    }
}

static struct aiFile *mem_open(struct aiFileIO *io, const char *path, const char *mode)
{
    memfs *fs = (memfs *)io->UserData;
    if (path == NULL || mode == NULL || strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+'))
        return NULL;
    const char *name = strip_prefix(path);
    const unsigned char *data = NULL;
    size_t size = 0;
    if (strcmp(name, fs->main_name) == 0) {
        data = fs->main_data;
        size = fs->main_size;
    } else {
        sidecar *found = NULL;
        for (size_t i = 0; i < fs->file_count && !found; i++)
            if (strcmp(fs->files[i].name, name) == 0)
                found = &fs->files[i];
        if (found == NULL) {
            if (fs->file_count >= MAX_SIDECARS)
                return NULL;
            found = &fs->files[fs->file_count];
            if ((found->name = strdup(name)) == NULL)
                return NULL;
            fs->file_count++;
            found->data = NULL;
            found->size = 0;
            const lds_mesh_reader *r = fs->ctx->reader;
            if (r && r->read && r->read(r->ctx, name, &found->data, &found->size) != 0) {
                found->data = NULL;
                found->size = 0;
            }
        }
        if (found->data == NULL)
            return NULL;
        data = found->data;
        size = found->size;
    }
    struct aiFile *f = calloc(1, sizeof(struct aiFile));
    memfile *m = calloc(1, sizeof(memfile));
    if (f == NULL || m == NULL) {
        free(f);
        free(m);
        return NULL;
    }
    m->data = data;
    m->size = size;
    f->ReadProc = mem_read;
    f->WriteProc = mem_write;
    f->TellProc = mem_tell;
    f->FileSizeProc = mem_size;
    f->SeekProc = mem_seek;
    f->FlushProc = mem_flush;
    f->UserData = (aiUserData)m;
    return f;
}

static void mem_close(struct aiFileIO *io, struct aiFile *f)
{
    if (f) {
        free(f->UserData);
        free(f);
    }
}

/* ---- scene flattening ------------------------------------------------------------------------ */

typedef struct instance {
    unsigned mesh;
    struct aiMatrix4x4 world;
} instance;

typedef struct flatten {
    const struct aiScene *scene;
    const lds_import_ctx *ctx;
    lds_error *err;
    instance *instances;
    size_t count, capacity;
    uint64_t vertices, triangles;
    uint32_t *mesh_triangles; /* per scene mesh */
    int *mesh_kind;           /* 0 skipped (lines), 1 triangles, 2 points */
} flatten;

static struct aiMatrix4x4 mat_mul(const struct aiMatrix4x4 *a, const struct aiMatrix4x4 *b)
{
    const float *x = &a->a1, *y = &b->a1;
    struct aiMatrix4x4 r;
    float *o = &r.a1;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            o[4 * i + j] = x[4 * i] * y[j] + x[4 * i + 1] * y[4 + j] + x[4 * i + 2] * y[8 + j] + x[4 * i + 3] * y[12 + j];
    return r;
}

static lds_status walk(flatten *f, const struct aiNode *node, const struct aiMatrix4x4 *parent, int depth)
{
    if (node == NULL) /* Assimp's RAW reader leaves holes in mChildren */
        return LDS_OK;
    if (depth > MAX_DEPTH)
        return lds_error_set(f->err, LDS_ELIMIT, "%s: scene graph deeper than %d nodes", f->ctx->name, MAX_DEPTH);
    struct aiMatrix4x4 world = mat_mul(parent, &node->mTransformation);
    for (unsigned i = 0; i < node->mNumMeshes; i++) {
        unsigned mi = node->mMeshes[i];
        if (mi >= f->scene->mNumMeshes || f->mesh_kind[mi] == 0)
            continue;
        const struct aiMesh *mesh = f->scene->mMeshes[mi];
        if (f->count >= MAX_INSTANCES)
            return lds_error_set(f->err, LDS_ELIMIT, "%s: more than %u mesh instances", f->ctx->name, MAX_INSTANCES);
        f->vertices += mesh->mNumVertices;
        f->triangles += f->mesh_triangles[mi];
        lds_status st = lds_import_check_limits(f->ctx, f->vertices, f->triangles, f->err);
        if (st != LDS_OK)
            return st;
        if (f->count == f->capacity) {
            size_t grown = f->capacity ? f->capacity * 2 : 64;
            instance *in = realloc(f->instances, grown * sizeof(instance));
            if (in == NULL)
                return LDS_ENOMEM;
            f->instances = in;
            f->capacity = grown;
        }
        f->instances[f->count++] = (instance){mi, world};
    }
    for (unsigned i = 0; i < node->mNumChildren; i++) {
        lds_status st = walk(f, node->mChildren[i], &world, depth + 1);
        if (st != LDS_OK)
            return st;
    }
    return LDS_OK;
}

/* Cofactor matrix of the upper 3x3 (det * inverse transpose), sign-corrected: the direction of
 * the normal transform; normals are renormalised by import.c. */
static void normal_matrix(const struct aiMatrix4x4 *m, float n[9], double *det)
{
    double a = m->a1, b = m->a2, c = m->a3, d = m->b1, e = m->b2, f = m->b3, g = m->c1, h = m->c2, i = m->c3;
    double cof[9] = {e * i - f * h, f * g - d * i, d * h - e * g, c * h - b * i, a * i - c * g,
                     b * g - a * h, b * f - c * e, c * d - a * f, a * e - b * d};
    *det = a * cof[0] + b * cof[1] + c * cof[2];
    double s = *det < 0 ? -1.0 : 1.0;
    for (int k = 0; k < 9; k++)
        n[k] = (float)(cof[k] * s);
}

/* Face normals summed per vertex for a mesh that has none while others do. */
static void compute_normals(float *normals, const float *positions, const uint32_t *indices, size_t index_count,
                            uint32_t first_vertex, uint32_t vertex_count)
{
    for (size_t i = 0; i + 2 < index_count; i += 3) {
        const float *a = &positions[3 * (size_t)indices[i]], *b = &positions[3 * (size_t)indices[i + 1]],
                    *c = &positions[3 * (size_t)indices[i + 2]];
        float u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
        float n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 3; j++)
                normals[3 * (size_t)indices[i + k] + j] += n[j];
    }
    (void)first_vertex;
    (void)vertex_count;
}

/* Loads the first texture of `type` of a material (embedded "*N", a file name one of the scene's
 * textures carries, or a sidecar file) into *index; stays -1 when there is none. */
static lds_status material_texture(const lds_import_ctx *ctx, const struct aiScene *scene,
                                   const struct aiMaterial *mat, enum aiTextureType type, lds_mesh_model *model,
                                   int *index)
{
    struct aiString path;
    if (aiGetMaterialTexture(mat, type, 0, &path, NULL, NULL, NULL, NULL, NULL, NULL) != aiReturn_SUCCESS ||
        path.length == 0)
        return LDS_OK;
    lds_status st;
    /* embedded: "*N", or a file name that one of the scene's textures carries */
    const struct aiTexture *embedded = NULL;
    char embedded_name[64];
    if (path.data[0] == '*') {
        long n = strtol(path.data + 1, NULL, 10);
        if (n >= 0 && (unsigned long)n < scene->mNumTextures)
            embedded = scene->mTextures[n];
        const char *hint = embedded ? embedded->achFormatHint : "";
        snprintf(embedded_name, sizeof(embedded_name), "embedded%ld%s%.8s", n, hint[0] ? "." : "", hint);
    } else {
        const char *want = strrchr(path.data, '/') ? strrchr(path.data, '/') + 1 : path.data;
        for (unsigned t = 0; t < scene->mNumTextures && !embedded; t++) {
            const char *have = scene->mTextures[t]->mFilename.data;
            const char *base = strrchr(have, '/') ? strrchr(have, '/') + 1 : have;
            if (scene->mTextures[t]->mFilename.length && strcmp(base, want) == 0)
                embedded = scene->mTextures[t];
        }
        snprintf(embedded_name, sizeof(embedded_name), "%.63s", want);
    }
    if (embedded) {
        if (embedded->mHeight != 0) {
            lds_mesh_model_warn(model, "%s: embedded texture %s is raw pixels; not carried", ctx->name, path.data);
            return LDS_OK;
        }
        const char *tex_name = embedded->mFilename.length ? embedded->mFilename.data : embedded_name;
        st = lds_import_texture_bytes(model, tex_name, (const unsigned char *)embedded->pcData, embedded->mWidth,
                                      index);
    } else if (path.data[0] == '*') {
        lds_mesh_model_warn(model, "%s: embedded texture %s is missing", ctx->name, path.data);
        st = LDS_OK;
    } else {
        st = lds_import_texture_file(ctx, model, path.data, index);
    }
    return st;
}

static lds_status convert_materials(const lds_import_ctx *ctx, const struct aiScene *scene, lds_mesh_model *model)
{
    lds_status st;
    for (unsigned i = 0; i < scene->mNumMaterials; i++) {
        const struct aiMaterial *mat = scene->mMaterials[i];
        struct aiString name;
        size_t index;
        int has_name = aiGetMaterialString(mat, AI_MATKEY_NAME, &name) == aiReturn_SUCCESS;
        if ((st = lds_import_add_material(model, has_name ? name.data : NULL, &index)) != LDS_OK)
            return st;
        lds_mesh_material *m = &model->materials[index];
        struct aiColor4D color;
        if (aiGetMaterialColor(mat, AI_MATKEY_BASE_COLOR, &color) == aiReturn_SUCCESS) {
            m->base_color[0] = color.r, m->base_color[1] = color.g, m->base_color[2] = color.b, m->base_color[3] = color.a;
        } else if (aiGetMaterialColor(mat, AI_MATKEY_COLOR_DIFFUSE, &color) == aiReturn_SUCCESS) {
            m->base_color[0] = color.r, m->base_color[1] = color.g, m->base_color[2] = color.b;
            ai_real opacity;
            unsigned one = 1;
            if (aiGetMaterialFloatArray(mat, AI_MATKEY_OPACITY, &opacity, &one) == aiReturn_SUCCESS)
                m->base_color[3] = (float)opacity;
        }
        for (int k = 0; k < 4; k++)
            if (!(m->base_color[k] >= 0.0f && m->base_color[k] <= 1.0f))
                m->base_color[k] = isfinite(m->base_color[k]) && m->base_color[k] > 1.0f ? 1.0f : 0.0f;
        int two_sided = 0;
        unsigned one = 1;
        if (aiGetMaterialIntegerArray(mat, AI_MATKEY_TWOSIDED, &two_sided, &one) == aiReturn_SUCCESS)
            m->double_sided = two_sided != 0;
        ai_real f;
        unsigned one_f = 1;
        if (aiGetMaterialFloatArray(mat, AI_MATKEY_METALLIC_FACTOR, &f, &one_f) == aiReturn_SUCCESS && f >= 0 && f <= 1)
            m->metallic = (float)f;
        if (aiGetMaterialFloatArray(mat, AI_MATKEY_ROUGHNESS_FACTOR, &f, &one_f) == aiReturn_SUCCESS && f >= 0 && f <= 1)
            m->roughness = (float)f;
        if (aiGetMaterialColor(mat, AI_MATKEY_COLOR_EMISSIVE, &color) == aiReturn_SUCCESS)
            for (int k = 0; k < 3; k++) {
                float e = k == 0 ? color.r : k == 1 ? color.g : color.b;
                m->emissive[k] = e >= 0.0f && e <= 1.0f ? e : e > 1.0f ? 1.0f : 0.0f;
            }
        /* the slots, each from the first texture type that has one */
        static const struct { int slot; enum aiTextureType types[3]; } slots[] = {
            {LDS_MESH_MAP_BASE_COLOR, {aiTextureType_BASE_COLOR, aiTextureType_DIFFUSE, aiTextureType_NONE}},
            {LDS_MESH_MAP_NORMAL, {aiTextureType_NORMALS, aiTextureType_NORMAL_CAMERA, aiTextureType_NONE}},
            {LDS_MESH_MAP_EMISSIVE, {aiTextureType_EMISSIVE, aiTextureType_EMISSION_COLOR, aiTextureType_NONE}},
            {LDS_MESH_MAP_OCCLUSION, {aiTextureType_AMBIENT_OCCLUSION, aiTextureType_LIGHTMAP, aiTextureType_NONE}},
        };
        for (size_t k = 0; k < sizeof(slots) / sizeof(slots[0]); k++)
            for (int t = 0; t < 3 && slots[k].types[t] != aiTextureType_NONE && m->maps[slots[k].slot].texture < 0; t++)
                if ((st = material_texture(ctx, scene, mat, slots[k].types[t], model, &m->maps[slots[k].slot].texture)) !=
                    LDS_OK)
                    return st;
        if (m->maps[LDS_MESH_MAP_EMISSIVE].texture >= 0 && !m->emissive[0] && !m->emissive[1] && !m->emissive[2])
            m->emissive[0] = m->emissive[1] = m->emissive[2] = 1.0f;
        struct aiString path;
        if (aiGetMaterialTexture(mat, aiTextureType_METALNESS, 0, &path, NULL, NULL, NULL, NULL, NULL, NULL) ==
                aiReturn_SUCCESS ||
            aiGetMaterialTexture(mat, aiTextureType_DIFFUSE_ROUGHNESS, 0, &path, NULL, NULL, NULL, NULL, NULL, NULL) ==
                aiReturn_SUCCESS)
            lds_mesh_model_warn(model, "%s: separate metalness or roughness maps are not carried (glTF packs both in "
                                "one texture)", ctx->name);
    }
    return LDS_OK;
}

static lds_status convert(const lds_import_ctx *ctx, const struct aiScene *scene, lds_mesh_model *model,
                          lds_error *err)
{
    flatten f = {.scene = scene, .ctx = ctx, .err = err};
    lds_status st = LDS_OK;
    unsigned mesh_count = scene->mNumMeshes;
    f.mesh_triangles = calloc(mesh_count + 1, sizeof(uint32_t));
    f.mesh_kind = calloc(mesh_count + 1, sizeof(int));
    if (!f.mesh_triangles || !f.mesh_kind) {
        st = LDS_ENOMEM;
        goto out;
    }
    int with_normals = 0, with_uvs = 0, with_colors = 0;
    for (unsigned i = 0; i < mesh_count; i++) {
        const struct aiMesh *mesh = scene->mMeshes[i];
        if (mesh == NULL || mesh->mNumVertices == 0 || mesh->mVertices == NULL)
            continue;
        uint32_t triangles = 0, points = 0;
        for (unsigned k = 0; k < mesh->mNumFaces; k++) {
            const struct aiFace *face = &mesh->mFaces[k];
            int ok = 1;
            for (unsigned j = 0; j < face->mNumIndices; j++)
                ok &= face->mIndices[j] < mesh->mNumVertices;
            if (!ok) {
                st = lds_error_set(err, LDS_EFORMAT, "%s: mesh %u face %u uses a vertex out of range", ctx->name, i, k);
                goto out;
            }
            triangles += face->mNumIndices == 3;
            points += face->mNumIndices == 1;
        }
        f.mesh_triangles[i] = triangles;
        f.mesh_kind[i] = triangles ? 1 : (points || mesh->mNumFaces == 0) ? 2 : 0;
        if (f.mesh_kind[i] == 0)
            continue;
        with_normals |= mesh->mNormals != NULL;
        with_uvs |= mesh->mTextureCoords[0] != NULL;
        with_colors |= mesh->mColors[0] != NULL;
    }
    if (scene->mRootNode) {
        struct aiMatrix4x4 identity = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        if ((st = walk(&f, scene->mRootNode, &identity, 0)) != LDS_OK)
            goto out;
    }
    if (f.count == 0) {
        st = lds_error_set(err, LDS_ENOGEOM, "%s: no triangles or points in the scene", ctx->name);
        goto out;
    }
    if ((st = convert_materials(ctx, scene, model)) != LDS_OK)
        goto out;
    if (model->material_count == 0 && (st = lds_import_add_material(model, NULL, NULL)) != LDS_OK)
        goto out;
    if ((st = lds_mesh_model_alloc(model, (size_t)f.vertices, (size_t)f.triangles * 3, with_normals, with_uvs,
                                   with_colors)) != LDS_OK)
        goto out;
    if ((model->submeshes = calloc(f.count, sizeof(lds_mesh_submesh))) == NULL) {
        st = LDS_ENOMEM;
        goto out;
    }
    size_t vbase = 0, ibase = 0;
    for (size_t n = 0; n < f.count; n++) {
        const instance *in = &f.instances[n];
        const struct aiMesh *mesh = scene->mMeshes[in->mesh];
        const struct aiMatrix4x4 *w = &in->world;
        float nm[9];
        double det;
        normal_matrix(w, nm, &det);
        size_t nv = mesh->mNumVertices;
        for (size_t v = 0; v < nv; v++) {
            const struct aiVector3D *p = &mesh->mVertices[v];
            float *o = &model->positions[3 * (vbase + v)];
            o[0] = w->a1 * p->x + w->a2 * p->y + w->a3 * p->z + w->a4;
            o[1] = w->b1 * p->x + w->b2 * p->y + w->b3 * p->z + w->b4;
            o[2] = w->c1 * p->x + w->c2 * p->y + w->c3 * p->z + w->c4;
            if (mesh->mNormals) {
                const struct aiVector3D *q = &mesh->mNormals[v];
                float *on = &model->normals[3 * (vbase + v)];
                on[0] = nm[0] * q->x + nm[1] * q->y + nm[2] * q->z;
                on[1] = nm[3] * q->x + nm[4] * q->y + nm[5] * q->z;
                on[2] = nm[6] * q->x + nm[7] * q->y + nm[8] * q->z;
            }
            if (with_uvs && mesh->mTextureCoords[0]) {
                model->uvs[2 * (vbase + v)] = mesh->mTextureCoords[0][v].x;
                model->uvs[2 * (vbase + v) + 1] = 1.0f - mesh->mTextureCoords[0][v].y; /* Assimp v up, glTF down */
            }
            float *oc = with_colors ? &model->colors[4 * (vbase + v)] : NULL;
            if (oc && mesh->mColors[0]) {
                const struct aiColor4D *c = &mesh->mColors[0][v];
                oc[0] = c->r, oc[1] = c->g, oc[2] = c->b, oc[3] = c->a;
            } else if (oc) {
                oc[0] = oc[1] = oc[2] = oc[3] = 1.0f;
            }
        }
        lds_mesh_submesh *sm = &model->submeshes[model->submesh_count++];
        sm->vertex_offset = (uint32_t)vbase;
        sm->vertex_count = (uint32_t)nv;
        sm->index_offset = (uint32_t)ibase;
        sm->material = mesh->mMaterialIndex < model->material_count ? mesh->mMaterialIndex : 0;
        if (f.mesh_kind[in->mesh] == 1) {
            uint32_t *idx = &model->indices[ibase];
            size_t k = 0;
            for (unsigned fi = 0; fi < mesh->mNumFaces; fi++) {
                const struct aiFace *face = &mesh->mFaces[fi];
                if (face->mNumIndices != 3)
                    continue;
                idx[k] = (uint32_t)(vbase + face->mIndices[0]);
                idx[k + 1] = (uint32_t)(vbase + face->mIndices[det < 0 ? 2 : 1]);
                idx[k + 2] = (uint32_t)(vbase + face->mIndices[det < 0 ? 1 : 2]);
                k += 3;
            }
            sm->index_count = (uint32_t)k;
            if (with_normals && !mesh->mNormals)
                compute_normals(model->normals, model->positions, idx, k, (uint32_t)vbase, (uint32_t)nv);
            ibase += k;
        }
        vbase += nv;
    }
out:
    free(f.instances);
    free(f.mesh_triangles);
    free(f.mesh_kind);
    return st;
}

lds_status lds_import_assimp(const lds_import_ctx *ctx, const unsigned char *data, size_t size,
                             lds_mesh_model *model, lds_error *err)
{
    memfs *fs = calloc(1, sizeof(memfs));
    if (fs == NULL)
        return LDS_ENOMEM;
    const char *base = ctx->name;
    for (const char *p = ctx->name; *p; p++)
        if (*p == '/')
            base = p + 1;
    fs->ctx = ctx;
    fs->main_name = base;
    fs->main_data = data;
    fs->main_size = size;
    struct aiFileIO io = {mem_open, mem_close, (aiUserData)fs};
    struct aiPropertyStore *props = aiCreatePropertyStore();
    aiSetImportPropertyInteger(props, AI_CONFIG_IMPORT_NO_SKELETON_MESHES, 1);
    const struct aiScene *scene = aiImportFileExWithProperties(base, aiProcess_Triangulate, &io, props);
    aiReleasePropertyStore(props);
    lds_status st;
    if (scene == NULL) {
        const char *why = aiGetErrorString();
        st = lds_error_set(err, LDS_EFORMAT, "%s: %s", ctx->name, why && why[0] ? why : "Assimp could not read it");
    } else {
        st = convert(ctx, scene, model, err);
        aiReleaseImport(scene);
    }
    for (size_t i = 0; i < fs->file_count; i++) {
        free(fs->files[i].name);
        free(fs->files[i].data);
    }
    free(fs);
    return st;
}

lds_status lds_import_assimp_reference(const char *path, uint64_t *triangles, uint64_t *vertices)
{
    struct aiPropertyStore *props = aiCreatePropertyStore();
    aiSetImportPropertyInteger(props, AI_CONFIG_IMPORT_NO_SKELETON_MESHES, 1);
    const struct aiScene *scene = aiImportFileExWithProperties(path, aiProcess_Triangulate, NULL, props);
    aiReleasePropertyStore(props);
    *triangles = *vertices = 0;
    if (scene == NULL)
        return LDS_EFORMAT;
    for (unsigned i = 0; i < scene->mNumMeshes; i++) {
        const struct aiMesh *mesh = scene->mMeshes[i];
        if (mesh == NULL)
            continue;
        *vertices += mesh->mNumVertices;
        for (unsigned k = 0; k < mesh->mNumFaces; k++)
            *triangles += mesh->mFaces[k].mNumIndices == 3;
    }
    aiReleaseImport(scene);
    return LDS_OK;
}
