/* texture_lod.c: each LOD level's textures at the size its screen coverage needs (ingest.h).
 *
 * The size rule and the colour space of each slot are mesh/'s (lds_mesh_texture_lod_size,
 * lds_mesh_texture_space); decoding, resizing and encoding are mesh/image.c's, run in the sandbox
 * child because the image bytes come from the upload. The child's output is untrusted too: it must
 * sniff as the format asked for, or the level keeps LOD0's bytes. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

#define SIZES_PER_TEXTURE 16

typedef struct sized {
    int width, height;
    unsigned char *data; /* owned; NULL: this size could not be made (use LOD0's) */
    size_t size;
} sized;

typedef struct texture_cache {
    sized sizes[SIZES_PER_TEXTURE];
    size_t count;
} texture_cache;

struct lds_texture_lods {
    const lds_mesh_model *lod0;
    lds_sandbox_limits limits;
    int use_sandbox;
    texture_cache *cache; /* one per LOD0 texture */
};

/* The sandboxed step: decode, resize, encode. */
typedef struct reencode_job {
    const char *name;
    int width, height;
    lds_mesh_image_space space;
    lds_mesh_image_format format;
    lds_mesh_image_encode_options options;
} reencode_job;

static lds_status reencode_work(void *ctx, const unsigned char *data, size_t size, lds_buf *out, lds_error *err)
{
    const reencode_job *job = ctx;
    return lds_mesh_image_reencode(job->name, data, size, NULL, job->width, job->height, job->space, job->format,
                                   &job->options, out, err);
}

uint64_t lds_texture_bytes(const lds_mesh_model *model)
{
    uint64_t total = 0;
    for (size_t i = 0; i < model->texture_count; i++)
        total += model->textures[i].data ? model->textures[i].size : 0;
    return total;
}

lds_status lds_texture_lods_create(const lds_mesh_model *lod0, const lds_sandbox_limits *limits, int use_sandbox,
                                   lds_texture_lods **out, lds_error *err)
{
    lds_texture_lods *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->cache = calloc(lod0->texture_count ? lod0->texture_count : 1, sizeof(texture_cache))) == NULL) {
        free(t);
        return lds_error_set(err, LDS_ENOMEM, "texture LODs: out of memory");
    }
    t->lod0 = lod0;
    if (limits)
        t->limits = *limits;
    t->use_sandbox = use_sandbox;
    *out = t;
    return LDS_OK;
}

void lds_texture_lods_destroy(lds_texture_lods *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->lod0->texture_count; i++)
        for (size_t k = 0; k < t->cache[i].count; k++)
            free(t->cache[i].sizes[k].data);
    free(t->cache);
    free(t);
}

/* LOD0's texture i at width x height: from the cache, or made now (sandboxed). NULL data when it
 * cannot be made or would not be smaller. */
static const sized *texture_at(lds_texture_lods *t, size_t i, int width, int height, lds_error *err)
{
    texture_cache *c = &t->cache[i];
    for (size_t k = 0; k < c->count; k++)
        if (c->sizes[k].width == width && c->sizes[k].height == height)
            return &c->sizes[k];
    if (c->count == SIZES_PER_TEXTURE)
        return NULL;
    const lds_mesh_texture *src = &t->lod0->textures[i];
    sized *s = &c->sizes[c->count++];
    s->width = width;
    s->height = height;
    lds_mesh_image_format format = lds_mesh_image_sniff(src->data, src->size);
    lds_mesh_image_space space = lds_mesh_texture_space(t->lod0, i);
    reencode_job job = {src->name ? src->name : "texture", width, height, space, format,
                        {0, 0, space != LDS_MESH_IMAGE_SRGB}};
    lds_buf result;
    lds_error e;
    lds_error_clear(&e);
    lds_status st = lds_sandbox_run_work(job.name, src->data, src->size, &t->limits, t->use_sandbox, reencode_work,
                                         &job, &result, &e);
    if (st != LDS_OK) {
        lds_log_warn("%s: texture LOD %dx%d kept at full size: %s", job.name, width, height, e.message);
        return s;
    }
    if (lds_mesh_image_sniff(result.data, result.size) != format)
        lds_log_warn("%s: texture LOD %dx%d: the encoder's output is not %s", job.name, width, height,
                     lds_mesh_image_mime(format));
    else if (result.size >= src->size)
        lds_log_debug("%s: texture LOD %dx%d is not smaller than the original", job.name, width, height);
    else
        s->data = lds_buf_detach(&result, &s->size);
    lds_buf_cleanup(&result);
    (void)err;
    return s;
}

lds_status lds_texture_lods_apply(lds_texture_lods *t, lds_mesh_model *level, double coverage, uint64_t *bytes,
                                  lds_error *err)
{
    for (size_t i = 0; i < level->texture_count && i < t->lod0->texture_count; i++) {
        const lds_mesh_texture *src = &t->lod0->textures[i];
        lds_mesh_texture *dst = &level->textures[i];
        if (src->data == NULL || src->width <= 0 || src->height <= 0 ||
            lds_mesh_image_sniff(src->data, src->size) == LDS_MESH_IMAGE_UNKNOWN)
            continue;
        int w, h;
        lds_mesh_texture_lod_size(src->width, src->height, coverage, &w, &h);
        if (w == src->width && h == src->height)
            continue;
        const sized *s = texture_at(t, i, w, h, err);
        if (s == NULL || s->data == NULL)
            continue;
        unsigned char *copy = malloc(s->size);
        if (copy == NULL)
            return lds_error_set(err, LDS_ENOMEM, "texture LODs: out of memory");
        memcpy(copy, s->data, s->size);
        free(dst->data);
        dst->data = copy;
        dst->size = s->size;
        dst->width = w;
        dst->height = h;
    }
    *bytes = lds_texture_bytes(level);
    return LDS_OK;
}
