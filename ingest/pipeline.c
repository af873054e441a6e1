/*
 * pipeline.c: the pipeline of one model, DESIGN.md section 4: parse (sandboxed), clean and report,
 * fingerprint (and ask the caller's shape index for duplicates of other owners), LOD chain, encode
 * every level three ways, certify, write the manifest.
 *
 * Concurrency: the calling thread builds the LOD chain level by level (each level is simplified
 * from the previous one), and encoder threads pick up (level, format) tasks as soon as a level is
 * published, so encoding level k overlaps simplifying level k+1. Each encoder task writes its file
 * and hashes it, so at most one encoded buffer per thread is alive. Output bytes do not depend on
 * scheduling.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest.h"
#include "proto.h"

#define FORMAT_COUNT 3
static const char *const format_names[FORMAT_COUNT] = {"glb", "draco", "meshopt"};
static const char *const format_suffix[FORMAT_COUNT] = {".glb", ".draco.glb", ".meshopt.glb"};
static const lds_mesh_encoding format_encoding[FORMAT_COUNT] = {LDS_MESH_ENCODING_PLAIN, LDS_MESH_ENCODING_DRACO,
                                                                LDS_MESH_ENCODING_MESHOPT};

#define MAX_PARENT_BYTES (4u << 20)
/* Tasks per level: one per format and, for LOD0 only, an extra one: the report and fingerprints
 * (the other levels' deviation from LOD0 is measured by the chain policy before they are kept,
 * mesh/lod_chain.c). They are handed out in this order:
 * the extra task first (the report is on the critical path), Draco last (its encoder is the
 * heaviest in memory; handing it out late keeps it from peaking beside the largest simplify). */
#define TASKS_PER_LEVEL (FORMAT_COUNT + 1)
#define TASK_EXTRA FORMAT_COUNT
static const int task_order[TASKS_PER_LEVEL] = {TASK_EXTRA, 0, 2, 1};

void lds_pipeline_options_init(lds_pipeline_options *o)
{
    memset(o, 0, sizeof(*o));
    static const double defaults[] = {0.5, 0.25, 0.125, 0.0625};
    o->lod_count = sizeof(defaults) / sizeof(defaults[0]);
    memcpy(o->lod_fractions, defaults, sizeof(defaults));
    o->draco = 1;
    o->meshopt = 1;
    o->quantization = (lds_mesh_quantization)LDS_MESH_QUANTIZATION_DEFAULT;
    o->use_sandbox = 1;
    o->texture_lods = 1;
    o->generate_normals = 1;
    o->source_kind = "upload";
    o->thumbnail_size = LDS_THUMBNAIL_SIZE;
}

lds_status lds_pipeline_limits_from_env(lds_pipeline_options *o, lds_error *err)
{
    lds_limits limits;
    lds_status st = lds_limits_from_env(&limits, err);
    if (st == LDS_OK) {
        lds_sandbox_limits_from(&o->limits, &limits);
        o->job_seconds = limits.job_seconds;
    }
    return st;
}

lds_status lds_pipeline_parse_lods(lds_pipeline_options *o, const char *text, lds_error *err)
{
    size_t count = 0;
    const char *p = text;
    double previous = 1.0;
    if (strcmp(text, "none") == 0 || *text == 0) {
        o->lod_count = 0;
        return LDS_OK;
    }
    while (*p) {
        char *end = NULL;
        errno = 0;
        double f = strtod(p, &end);
        if (end == p || errno != 0 || !(f > 0.0 && f < 1.0))
            return lds_error_set(err, LDS_EINVAL, "--lods: '%s': each fraction must be a number between 0 and 1", text);
        if (f >= previous)
            return lds_error_set(err, LDS_EINVAL, "--lods: '%s': fractions must fall along the chain", text);
        if (count == LDS_PIPELINE_MAX_LODS)
            return lds_error_set(err, LDS_EINVAL, "--lods: at most %d levels", LDS_PIPELINE_MAX_LODS);
        o->lod_fractions[count++] = f;
        previous = f;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return lds_error_set(err, LDS_EINVAL, "--lods: '%s': expected a comma-separated list", text);
    }
    o->lod_count = count;
    return LDS_OK;
}

/* ---- encoder tasks ---- */

typedef struct level_output {
    lds_mesh_model *model; /* owned; freed once all its formats are encoded */
    int pending;           /* references left: tasks to run, plus the simplifier */
    int extra;             /* its extra task (analysis or measurement) is wanted */
    size_t triangles, vertices;
    double error, screen_coverage;
    uint64_t texture_bytes; /* the level's embedded textures */
    struct {
        int wanted;
        char name[64];
        uint64_t bytes;
        char sha256[LDS_SHA256_HEX];
    } files[FORMAT_COUNT];
} level_output;

typedef struct encoder {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    const lds_pipeline_options *options;
    const char *out_dir;
    level_output *levels;
    size_t level_count;
    size_t published; /* levels whose model is ready */
    int closed;       /* no more levels will be published */
    size_t next_task; /* next (level * TASKS_PER_LEVEL + task) to hand out */
    lds_error err;    /* first failure of any task */
    /* LOD0's analysis, written by its extra task */
    lds_mesh_report *report;
    char *geometry, *shape;
    double report_ms, fingerprint_ms;
    json_t *thumbnails; /* the manifest's "thumbnails", written by LOD0's extra task */
    double thumbnail_ms;
    double encode_ms; /* summed encoder time */
} encoder;

/* Takes the next task; returns 0 when none is left. Called with the lock held. */
static int encoder_take(encoder *e, size_t *level, int *task)
{
    for (;;) {
        while (e->next_task < e->published * TASKS_PER_LEVEL) {
            size_t t = e->next_task++;
            size_t l = t / TASKS_PER_LEVEL;
            int f = task_order[t % TASKS_PER_LEVEL];
            if (f == TASK_EXTRA ? e->levels[l].extra : e->levels[l].files[f].wanted) {
                *level = l;
                *task = f;
                return 1;
            }
        }
        if (e->closed || e->err.code != LDS_OK)
            return 0;
        pthread_cond_wait(&e->ready, &e->lock);
    }
}

static lds_status encode_one(encoder *e, level_output *lv, int format, lds_error *err)
{
    char path[PATH_MAX];
    lds_buf glb;
    lds_buf_init(&glb, 0);
    lds_status st = lds_mesh_write_glb(lv->model, format_encoding[format], &e->options->quantization,
                                       "lodestone " LDS_VERSION, &glb, err);
    if (st == LDS_OK) {
        unsigned char digest[LDS_SHA256_BYTES];
        lds_sha256_buffer(glb.data, glb.size, digest);
        lds_hex_encode(digest, sizeof(digest), lv->files[format].sha256);
        lv->files[format].bytes = glb.size;
        snprintf(path, sizeof(path), "%s/%s", e->out_dir, lv->files[format].name);
        st = lds_file_write(path, glb.data, glb.size, err);
    }
    lds_buf_cleanup(&glb);
    return st;
}

/* Drops one reference to a level's model (one per format to encode, one for the simplifier that
 * derives the next level from it); the last one frees it. LOD0 belongs to the caller. */
static void level_release_locked(level_output *lv, size_t level)
{
    if (--lv->pending == 0 && level > 0) {
        lds_mesh_model_destroy(lv->model);
        lv->model = NULL;
    }
}

static void encoder_release(encoder *e, size_t level)
{
    pthread_mutex_lock(&e->lock);
    level_release_locked(&e->levels[level], level);
    pthread_mutex_unlock(&e->lock);
}

/* LOD0's report and fingerprints: they only read the model, so they run beside the chain. */
/* The turntable thumbnails are rendered in the sandbox (they decode the model's textures, hostile
 * input): the child sees the model through fork's copy-on-write memory and answers the PNGs, each
 * as a 4-byte little-endian length and its bytes. */
typedef struct thumbnail_job {
    const lds_mesh_model *model;
    int size;
} thumbnail_job;

#define THUMBNAIL_MAX_BYTES (32u << 20)

static lds_status thumbnail_work(void *ctx, const unsigned char *data, size_t size, lds_buf *out, lds_error *err)
{
    const thumbnail_job *job = ctx;
    lds_buf pngs[LDS_THUMBNAIL_VIEWS];
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++)
        lds_buf_init(&pngs[i], THUMBNAIL_MAX_BYTES);
    lds_status st = lds_mesh_thumbnails(job->model, job->size, pngs, err);
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS && st == LDS_OK; i++) {
        unsigned char length[4] = {(unsigned char)pngs[i].size, (unsigned char)(pngs[i].size >> 8),
                                   (unsigned char)(pngs[i].size >> 16), (unsigned char)(pngs[i].size >> 24)};
        st = lds_buf_append(out, length, 4);
        if (st == LDS_OK)
            st = lds_buf_append(out, pngs[i].data, pngs[i].size);
        if (st != LDS_OK)
            lds_error_set(err, st, "thumbnails: cannot hand back %zu bytes", pngs[i].size);
    }
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++)
        lds_buf_cleanup(&pngs[i]);
    return st;
}

/* Checks the child's answer (untrusted: lengths within what it sent, each a PNG) and writes
 * thumb<i>.png in out_dir with its manifest entry into list. */
static lds_status thumbnails_store(encoder *e, const lds_buf *answer, json_t *list, lds_error *err)
{
    size_t offset = 0;
    for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++) {
        const unsigned char *p = answer->data + offset;
        if (answer->size - offset < 4)
            return lds_error_set(err, LDS_EFORMAT, "thumbnails: the renderer's answer is truncated");
        size_t length = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
        offset += 4;
        if (length > answer->size - offset || length > THUMBNAIL_MAX_BYTES ||
            lds_mesh_image_sniff(answer->data + offset, length) != LDS_MESH_IMAGE_PNG)
            return lds_error_set(err, LDS_EFORMAT, "thumbnails: view %d of the renderer's answer is not a PNG", i);
        char name[32], path[PATH_MAX], hex[LDS_SHA256_HEX];
        unsigned char digest[LDS_SHA256_BYTES];
        snprintf(name, sizeof(name), "thumb%d.png", i);
        snprintf(path, sizeof(path), "%s/%s", e->out_dir, name);
        lds_status st = lds_file_write_atomic(path, answer->data + offset, length, err);
        if (st != LDS_OK)
            return st;
        lds_sha256_buffer(answer->data + offset, length, digest);
        lds_hex_encode(digest, sizeof(digest), hex);
        offset += length;
        json_array_append_new(list, json_pack("{s:s,s:I,s:s,s:i,s:i,s:f,s:f}", "path", name, "bytes",
                                              (json_int_t)length, "sha256", hex, "width", e->options->thumbnail_size,
                                              "height", e->options->thumbnail_size, "yaw",
                                              (double)lds_mesh_thumbnail_yaw(i), "pitch", (double)LDS_THUMBNAIL_PITCH));
    }
    return LDS_OK;
}

/* The turntable thumbnails of LOD0 (thumb<i>.png in out_dir) and their manifest entries. A
 * failure (the renderer over the sandbox's limits) leaves the asset without thumbnails and a
 * warning in the log, not failed. */
static lds_status write_thumbnails(encoder *e, const lds_mesh_model *model, lds_error *err)
{
    double t = lds_time_ms();
    thumbnail_job job = {model, e->options->thumbnail_size};
    static const char name[] = "thumbnails";
    lds_buf answer;
    lds_buf_init(&answer, 0);
    lds_status st = lds_sandbox_run_work(name, (const unsigned char *)name, sizeof(name) - 1, &e->options->limits,
                                         e->options->use_sandbox, thumbnail_work, &job, &answer, err);
    json_t *list = json_array();
    if (st == LDS_OK)
        st = thumbnails_store(e, &answer, list, err);
    lds_buf_cleanup(&answer);
    if (st == LDS_OK) {
        e->thumbnails = list;
    } else {
        lds_log_warn("%s: no thumbnails: %s", e->out_dir, err->message);
        json_decref(list);
        lds_error_clear(err);
        for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++) { /* none rather than some */
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/thumb%d.png", e->out_dir, i);
            unlink(path);
        }
    }
    e->thumbnail_ms = lds_time_ms() - t;
    return LDS_OK;
}

static lds_status analyse_lod0(encoder *e, level_output *lv, lds_error *err)
{
    double t = lds_time_ms();
    lds_status st = lds_mesh_report_compute(lv->model, e->report, err);
    e->report_ms += lds_time_ms() - t;
    t = lds_time_ms();
    if (st == LDS_OK)
        st = lds_mesh_fingerprint_geometry(lv->model, e->geometry, err);
    if (st == LDS_OK)
        st = lds_mesh_fingerprint_shape(lv->model, e->shape, err);
    e->fingerprint_ms = lds_time_ms() - t;
    if (st == LDS_OK && e->options->thumbnail_size > 0)
        st = write_thumbnails(e, lv->model, err);
    return st;
}

static void encoder_work(encoder *e)
{
    size_t level;
    int task;
    pthread_mutex_lock(&e->lock);
    while (encoder_take(e, &level, &task)) {
        level_output *lv = &e->levels[level];
        pthread_mutex_unlock(&e->lock);
        lds_error err;
        lds_error_clear(&err);
        double start = lds_time_ms();
        assert(task != TASK_EXTRA || level == 0);
        lds_status st = task != TASK_EXTRA ? encode_one(e, lv, task, &err) : analyse_lod0(e, lv, &err);
        double ms = lds_time_ms() - start;
        pthread_mutex_lock(&e->lock);
        if (task != TASK_EXTRA)
            e->encode_ms += ms;
        if (st != LDS_OK && e->err.code == LDS_OK)
            e->err = err;
        level_release_locked(lv, level);
        pthread_cond_broadcast(&e->ready);
    }
    pthread_mutex_unlock(&e->lock);
}

static void *encoder_thread(void *arg)
{
    encoder_work(arg);
    return NULL;
}

static void encoder_publish(encoder *e, size_t level, lds_mesh_model *model)
{
    level_output *lv = &e->levels[level];
    pthread_mutex_lock(&e->lock);
    lv->model = model;
    lv->triangles = lds_mesh_triangle_count(model);
    lv->vertices = model->vertex_count;
    e->published = level + 1;
    pthread_cond_broadcast(&e->ready);
    pthread_mutex_unlock(&e->lock);
}

/* ---- JSON helpers ---- */

static json_t *vec3_json(const float v[3])
{
    return json_pack("[f,f,f]", (double)v[0], (double)v[1], (double)v[2]);
}

static json_t *report_json(const lds_mesh_report *r)
{
    json_t *textures = json_array();
    for (size_t i = 0; i < r->texture_count; i++)
        json_array_append_new(textures, json_pack("{s:s?,s:i,s:i,s:I,s:b}", "name", r->textures[i].name, "width",
                                                  r->textures[i].width, "height", r->textures[i].height, "bytes",
                                                  (json_int_t)r->textures[i].bytes, "missing", r->textures[i].missing));
    json_t *issues = json_array();
    for (size_t i = 0; i < r->issue_count; i++)
        json_array_append_new(issues, json_pack("{s:s,s:s,s:s?}", "code", r->issues[i].code, "severity",
                                                r->issues[i].severity, "message", r->issues[i].message));
    json_t *j = json_object();
    json_object_set_new(j, "triangles", json_integer((json_int_t)r->triangles));
    json_object_set_new(j, "vertices", json_integer((json_int_t)r->vertices));
    json_object_set_new(j, "points", json_integer((json_int_t)r->points));
    json_object_set_new(j, "meshes", json_integer((json_int_t)r->meshes));
    json_object_set_new(j, "materials", json_integer((json_int_t)r->materials));
    json_object_set_new(j, "bbox", json_pack("{s:o,s:o}", "min", vec3_json(r->bbox_min), "max", vec3_json(r->bbox_max)));
    json_object_set_new(j, "diagonal", json_real(r->diagonal));
    json_object_set_new(j, "surface_area", json_real(r->surface_area));
    json_object_set_new(j, "volume", r->has_volume ? json_real(r->volume) : json_null());
    json_object_set_new(j, "components", json_integer((json_int_t)r->components));
    json_object_set_new(j, "boundary_edges", json_integer((json_int_t)r->boundary_edges));
    json_object_set_new(j, "non_manifold_edges", json_integer((json_int_t)r->non_manifold_edges));
    json_object_set_new(j, "degenerate_triangles", json_integer((json_int_t)r->degenerate_triangles));
    json_object_set_new(j, "duplicate_triangles", json_integer((json_int_t)r->duplicate_triangles));
    json_object_set_new(j, "has_normals", json_boolean(r->has_normals));
    json_object_set_new(j, "has_uvs", json_boolean(r->has_uvs));
    json_object_set_new(j, "has_colors", json_boolean(r->has_colors));
    json_object_set_new(j, "textures", textures);
    json_object_set_new(j, "issues", issues);
    return j;
}

static const char *source_format(const char *path)
{
    static __thread char ext[16];
    lds_path_extension(path, ext, sizeof(ext));
    return ext;
}

static void progress(const lds_pipeline_options *o, const char *stage, double fraction)
{
    if (o->progress)
        o->progress(o->progress_ctx, stage, fraction);
}

/* Splits "a;b, c" into trimmed tags (pointers into a copy the caller frees). */
static size_t split_tags(const char *text, char **copy, const char **tags, size_t max)
{
    *copy = NULL;
    if (text == NULL || *text == 0)
        return 0;
    *copy = strdup(text);
    if (*copy == NULL)
        return 0;
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(*copy, ";,", &save); t && n < max; t = strtok_r(NULL, ";,", &save)) {
        while (*t == ' ')
            t++;
        char *end = t + strlen(t);
        while (end > t && end[-1] == ' ')
            *--end = 0;
        if (*t)
            tags[n++] = t;
    }
    return n;
}

typedef struct source_file {
    const char *path;
    uint64_t bytes;
    char sha256[LDS_SHA256_HEX];
} source_file;

static lds_status certify(const lds_pipeline_options *o, const source_file *sources, size_t source_count,
                          const char *geometry, const char *shape, const level_output *levels, size_t level_count,
                          const char *out_dir, json_t *manifest, lds_error *err)
{
    lds_status st = LDS_OK;
    lds_cert_digest src[LDS_PIPELINE_MAX_FILES];
    lds_cert_digest lods[LDS_PIPELINE_MAX_LODS * FORMAT_COUNT + FORMAT_COUNT];
    char *parents[16] = {0};
    char *tag_copy = NULL, *statement = NULL, *bundle = NULL, *previous = NULL;
    const char *tags[64];
    size_t lod_count = 0, n;
    uint64_t index = 0;
    char when[32], path[PATH_MAX];

    if (source_count > LDS_PIPELINE_MAX_FILES || o->parent_count > 16)
        return lds_error_set(err, LDS_ELIMIT, "certificate: too many source files or parents");
    for (size_t i = 0; i < source_count; i++)
        src[i] = (lds_cert_digest){lds_path_basename(sources[i].path), sources[i].sha256};
    for (size_t l = 0; l < level_count; l++)
        for (int f = 0; f < FORMAT_COUNT; f++)
            if (levels[l].files[f].wanted)
                lods[lod_count++] = (lds_cert_digest){levels[l].files[f].name, levels[l].files[f].sha256};
    for (size_t i = 0; i < o->parent_count; i++) {
        size_t size;
        if ((st = lds_file_read(o->parent_paths[i], MAX_PARENT_BYTES, (unsigned char **)&parents[i], &size, err)) !=
            LDS_OK)
            goto out;
    }
    if (o->previous_certificate_path) {
        size_t size;
        if ((st = lds_file_read(o->previous_certificate_path, MAX_PARENT_BYTES, (unsigned char **)&previous, &size,
                                err)) != LDS_OK)
            goto out;
    }
    n = split_tags(o->tags, &tag_copy, tags, 64);
    if (o->time == NULL)
        lds_time_rfc3339(when, sizeof(when));
    lds_cert_fields fields = {
        .sources = src,
        .source_count = source_count,
        .geometry_fingerprint = geometry,
        .shape_fingerprint = shape,
        .owner = o->owner,
        .license = o->license,
        .title = o->title,
        .description = o->description,
        .category = o->category,
        .tags = tags,
        .tag_count = n,
        .source_kind = o->source_kind ? o->source_kind : "upload",
        .accession = o->accession,
        .capture_method = o->capture_method,
        .parent_bundles = (const char *const *)parents,
        .parent_count = o->parent_count,
        .lods = lods,
        .lod_count = lod_count,
        .pipeline_version = LDS_PIPELINE_VERSION,
        .time = o->time ? o->time : when,
        .previous_certificate = previous,
        .claimed_owner = o->claimed_owner,
    };
    if ((st = lds_cert_statement_build(&fields, &statement, err)) != LDS_OK)
        goto out;
    if ((st = o->certify(o->certify_ctx, statement, strlen(statement), &bundle, &index, err)) != LDS_OK)
        goto out;
    snprintf(path, sizeof(path), "%s/certificate.json", out_dir);
    if ((st = lds_file_write(path, bundle, strlen(bundle), err)) != LDS_OK)
        goto out;
    json_object_set_new(manifest, "certificate",
                        json_pack("{s:s,s:I}", "path", "certificate.json", "log_index", (json_int_t)index));
out:
    for (size_t i = 0; i < 16; i++)
        free(parents[i]);
    free(previous);
    free(tag_copy);
    free(statement);
    free(bundle);
    return st;
}

/* ---- duplicate detection ---- */

#define MAX_SIMILAR 16

static int same_owner(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Asks the index for matches of shape; keeps those of other owners in dups (*dup_count). */
static lds_status find_duplicates(const lds_pipeline_options *o, const char *name, const char *shape,
                                  lds_shape_match *dups, size_t *dup_count, lds_error *err)
{
    *dup_count = 0;
    if (o->similar == NULL)
        return LDS_OK;
    lds_shape_match matches[MAX_SIMILAR];
    size_t count = 0;
    lds_status st = o->similar(o->similar_ctx, shape, matches, MAX_SIMILAR, &count, err);
    if (st != LDS_OK) {
        char reason[LDS_ERROR_MESSAGE_MAX];
        snprintf(reason, sizeof(reason), "%s", err->message);
        lds_error_clear(err);
        return lds_error_set(err, st, "%s: shape index lookup: %s", name, reason);
    }
    const char *me = o->similar_owner ? o->similar_owner : o->owner;
    for (size_t i = 0; i < count && i < MAX_SIMILAR; i++)
        if (matches[i].match && !same_owner(matches[i].owner, me))
            dups[(*dup_count)++] = matches[i];
    return LDS_OK;
}

static void add_duplicate_issues(json_t *issues, const lds_shape_match *dups, size_t dup_count)
{
    for (size_t i = 0; i < dup_count; i++) {
        char message[512];
        snprintf(message, sizeof(message), "the shape matches %s%s%s%s of another owner (similarity %.3f)",
                 dups[i].asset, dups[i].title[0] ? " (\"" : "", dups[i].title, dups[i].title[0] ? "\")" : "",
                 dups[i].similarity);
        json_array_append_new(issues, json_pack("{s:s,s:s,s:s,s:s,s:f}", "code", "possible_duplicate", "severity",
                                                "warning", "message", message, "asset", dups[i].asset, "similarity",
                                                dups[i].similarity));
    }
}

static json_t *lods_json(const level_output *levels, size_t level_count)
{
    json_t *lods = json_array();
    for (size_t l = 0; l < level_count; l++) {
        const level_output *lv = &levels[l];
        json_t *files = json_object();
        for (int f = 0; f < FORMAT_COUNT; f++)
            if (lv->files[f].wanted)
                json_object_set_new(files, format_names[f],
                                    json_pack("{s:s,s:I,s:s}", "path", lv->files[f].name, "bytes",
                                              (json_int_t)lv->files[f].bytes, "sha256", lv->files[f].sha256));
        json_array_append_new(lods, json_pack("{s:i,s:I,s:I,s:f,s:f,s:I,s:o}", "level", (int)l, "triangles",
                                              (json_int_t)lv->triangles, "vertices", (json_int_t)lv->vertices, "error",
                                              lv->error, "screen_coverage", lv->screen_coverage, "texture_bytes",
                                              (json_int_t)lv->texture_bytes, "files", files));
    }
    return lods;
}

/* The chain below LOD0 (published as level 0): each level simplified from the previous one under
 * the chain policy (mesh/lod_chain.c) and published to the encoders as soon as it is kept. When
 * the policy ends the chain early, note receives why (for the report). */
/* A model without normals gets them (area-weighted, split at creases), and the report says so.
 * *model becomes the model with normals; *bare keeps the one without, which the chain simplifies
 * (generated crease splits would hold the simplifier back like seams; each level gets its own). */
static lds_status add_normals(lds_mesh_model **model, lds_mesh_model **bare, lds_mesh_report *report, lds_error *err)
{
    size_t added = 0;
    lds_mesh_model *with = lds_mesh_model_clone(*model);
    if (with == NULL)
        return lds_error_set(err, LDS_ENOMEM, "normals: out of memory");
    lds_status st = lds_mesh_generate_normals(with, LDS_MESH_CREASE_DEGREES, &added, err);
    if (st != LDS_OK || with->normals == NULL) { /* point submeshes: left as they are */
        lds_mesh_model_destroy(with);
        return st;
    }
    *bare = *model;
    *model = with;
    return lds_mesh_report_add_issue(report, "normals_generated", "info",
                                     "the model has no normals: generated (area-weighted, split at %.0f degrees; "
                                     "%zu vertices added at creases)",
                                     LDS_MESH_CREASE_DEGREES, added);
}

/* A level to publish: the chain's level itself, or, when normals are generated, a copy with them
 * (the chain goes on from the level without). */
static lds_status level_for_publishing(lds_mesh_model *level, int generate, lds_mesh_model **out, lds_error *err)
{
    *out = level;
    if (!generate)
        return LDS_OK;
    size_t added;
    if ((*out = lds_mesh_model_clone(level)) == NULL)
        return lds_error_set(err, LDS_ENOMEM, "normals: out of memory");
    lds_status st = lds_mesh_generate_normals(*out, LDS_MESH_CREASE_DEGREES, &added, err);
    if (st != LDS_OK) {
        lds_mesh_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

static lds_status build_chain(const lds_pipeline_options *o, const lds_mesh_chain_options *chain_options, encoder *enc,
                              const lds_mesh_model *lod0, const lds_mesh_model *bare, char *note, size_t note_size,
                              double *ms_deviation, lds_error *err)
{
    lds_mesh_model *bare_level = NULL; /* the last bare level, when normals are generated */
    lds_mesh_chain *chain = NULL;
    lds_texture_lods *textures = NULL;
    lds_status st = lds_mesh_chain_create(lod0, chain_options, &chain, err);
    if (st == LDS_OK && o->texture_lods && lod0->texture_count)
        st = lds_texture_lods_create(lod0, &o->limits, o->use_sandbox, &textures, err);
    size_t base = lds_mesh_triangle_count(lod0) ? lds_mesh_triangle_count(lod0) : lod0->vertex_count;
    const lds_mesh_model *previous = bare ? bare : lod0;
    size_t last = 0; /* the last level published */
    enc->levels[0].screen_coverage = 1.0;
    enc->levels[0].texture_bytes = lds_texture_bytes(lod0);
    for (size_t l = 1; st == LDS_OK && l < enc->level_count; l++) {
        size_t target = (size_t)((double)base * o->lod_fractions[l - 1] + 0.5);
        lds_mesh_model *lod = NULL;
        lds_mesh_chain_level info;
        progress(o, "lods", 0.35 + 0.5 * (double)l / (double)enc->level_count);
        if ((st = lds_mesh_chain_next(chain, previous, target, &lod, &info, err)) != LDS_OK)
            break;
        *ms_deviation += info.measure_ms;
        if (lod == NULL) {
            snprintf(note, note_size, "the LOD chain stops at level %zu: %s", last, lds_mesh_chain_end_reason(chain));
            break;
        }
        lds_mesh_model *published = NULL;
        if ((st = level_for_publishing(lod, bare != NULL, &published, err)) != LDS_OK) {
            lds_mesh_model_destroy(lod);
            break;
        }
        enc->levels[l].error = info.error;
        enc->levels[l].screen_coverage = info.screen_coverage;
        enc->levels[l].texture_bytes = lds_texture_bytes(published);
        if (textures && (st = lds_texture_lods_apply(textures, published, info.screen_coverage,
                                                     &enc->levels[l].texture_bytes, err)) != LDS_OK) {
            if (published != lod)
                lds_mesh_model_destroy(published);
            lds_mesh_model_destroy(lod);
            break;
        }
        encoder_release(enc, l - 1); /* the simplifier is done with the previous level */
        encoder_publish(enc, l, published);
        if (bare) { /* the chain goes on from the bare level, which it owns */
            lds_mesh_model_destroy(bare_level);
            bare_level = lod;
        }
        previous = lod; /* alive until released above on the next turn (or owned as bare_level) */
        last = l;
    }
    if (chain)
        encoder_release(enc, last);
    lds_mesh_chain_destroy(chain);
    lds_texture_lods_destroy(textures);
    lds_mesh_model_destroy(bare_level);
    return st;
}

/* The chain policy in force and how the chain ended (null: every level asked for was made). */
static json_t *chain_json(const lds_mesh_chain_options *c, const char *note)
{
    static const char *const sloppy[] = {"auto", "never", "allow"};
    return json_pack("{s:f,s:f,s:i,s:s,s:s?}", "max_error", c->max_error > 0 ? c->max_error : LDS_MESH_CHAIN_MAX_ERROR,
                     "min_reduction", c->min_reduction > 0 ? c->min_reduction : LDS_MESH_CHAIN_MIN_REDUCTION,
                     "viewport_height", c->viewport_height > 0 ? c->viewport_height : LDS_MESH_CHAIN_VIEWPORT,
                     "sloppy", sloppy[c->sloppy], "end", note[0] ? note : NULL);
}

static int cpu_count(void)
{
    if (LDS_FORK_NEEDS_QUIET) /* fork.c: no pool thread may allocate while a stage forks its sandbox */
        return 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 16 ? 16 : (int)n);
}

lds_status lds_pipeline_run(const lds_pipeline_options *o, const char *const *files, size_t file_count,
                            const char *out_dir, json_t **manifest_out, lds_error *err)
{
    lds_status st = LDS_OK;
    lds_mesh_model *model = NULL;
    lds_mesh_report report;
    encoder enc;
    pthread_t threads[16];
    int thread_count = 0;
    json_t *manifest = NULL;
    source_file sources[LDS_PIPELINE_MAX_FILES];
    char geometry[LDS_MESH_GEOMETRY_FP_MAX] = "", shape[LDS_MESH_SHAPE_FP_MAX] = "";
    char path[PATH_MAX];
    char chain_note[640] = "";
    lds_shape_match dups[MAX_SIMILAR];
    size_t dup_count = 0;
    double t0 = lds_time_ms(), t;
    double ms_import, ms_report, ms_fingerprint, ms_lods = 0, ms_deviation = 0;
    lds_mesh_chain_options chain_options;
    lds_mesh_model *bare = NULL; /* LOD0 without the normals generated for it: what the chain simplifies */
    const char *name;

    memset(&report, 0, sizeof(report));
    memset(&enc, 0, sizeof(enc));
    pthread_mutex_init(&enc.lock, NULL);
    pthread_cond_init(&enc.ready, NULL);
    if (manifest_out)
        *manifest_out = NULL;
    if (file_count == 0)
        return lds_error_set(err, LDS_EINVAL, "no input file");
    if (file_count > LDS_PIPELINE_MAX_FILES)
        return lds_error_set(err, LDS_ELIMIT, "%zu files: at most %d per model", file_count, LDS_PIPELINE_MAX_FILES);
    name = lds_path_basename(files[0]);

    /* 1. stage: digests of the originals (also proves they are readable) */
    progress(o, "stage", 0.0);
    for (size_t i = 0; i < file_count; i++) {
        sources[i].path = files[i];
        unsigned char digest[LDS_SHA256_BYTES];
        if ((st = lds_sha256_file(files[i], digest, &sources[i].bytes, err)) != LDS_OK)
            goto out;
        lds_hex_encode(digest, sizeof(digest), sources[i].sha256);
    }
    if ((st = lds_dir_create(out_dir, 0755, err)) != LDS_OK)
        goto out;

    /* 2. parse, sandboxed */
    progress(o, "import", 0.02);
    t = lds_time_ms();
    if ((st = lds_sandbox_import_file(files[0], &o->limits, o->use_sandbox, &model, err)) != LDS_OK)
        goto out;
    ms_import = lds_time_ms() - t;

    /* 3. clean and report */
    progress(o, "report", 0.2);
    t = lds_time_ms();
    if ((st = lds_mesh_clean(model, &report, err)) != LDS_OK)
        goto out;
    if (model->vertex_count == 0) {
        st = lds_error_set(err, LDS_ENOGEOM, "%s: no geometry left after cleanup", name);
        goto out;
    }
    chain_options = o->chain;

    ms_report = lds_time_ms() - t;

    /* 4, 5 and 6. The report and fingerprints of LOD0, the LOD chain, and the encodings: levels
     * are handed to the task pool as they become ready. */
    progress(o, "lods", 0.3);
    t = lds_time_ms();
    if ((st = lds_mesh_optimize(model, err)) != LDS_OK)
        goto out;
    if (o->generate_normals && model->normals == NULL && model->index_count > 0 &&
        (st = add_normals(&model, &bare, &report, err)) != LDS_OK)
        goto out;
    enc.options = o;
    enc.out_dir = out_dir;
    enc.report = &report;
    enc.geometry = geometry;
    enc.shape = shape;
    enc.level_count = 1 + o->lod_count;
    enc.levels = calloc(enc.level_count, sizeof(level_output));
    if (enc.levels == NULL) {
        st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
        goto out;
    }
    for (size_t l = 0; l < enc.level_count; l++) {
        enc.levels[l].extra = l == 0;
        enc.levels[l].pending = 1 + enc.levels[l].extra; /* the simplifier's reference and the extra task */
        int wanted[FORMAT_COUNT] = {1, o->draco, o->meshopt};
        for (int f = 0; f < FORMAT_COUNT; f++) {
            enc.levels[l].files[f].wanted = wanted[f];
            enc.levels[l].pending += wanted[f];
            snprintf(enc.levels[l].files[f].name, sizeof(enc.levels[l].files[f].name), "lod%zu%s", l,
                     format_suffix[f]);
        }
    }
    thread_count = cpu_count() - 1; /* the calling thread works too (encoder_work below) */
    for (int i = 0; i < thread_count; i++)
        if (pthread_create(&threads[i], NULL, encoder_thread, &enc) != 0) {
            thread_count = i;
            break;
        }
    encoder_publish(&enc, 0, model);
    st = build_chain(o, &chain_options, &enc, model, bare, chain_note, sizeof(chain_note), &ms_deviation, err);
    pthread_mutex_lock(&enc.lock);
    enc.closed = 1;
    pthread_cond_broadcast(&enc.ready);
    pthread_mutex_unlock(&enc.lock);
    ms_lods = lds_time_ms() - t;
    progress(o, "encode", 0.85);
    encoder_work(&enc); /* the calling thread helps with what is left */
    for (int i = 0; i < thread_count; i++)
        pthread_join(threads[i], NULL);
    if (st == LDS_OK && enc.err.code != LDS_OK) {
        lds_error_set(err, enc.err.code, "%s", enc.err.message);
        st = enc.err.code;
    }
    if (st != LDS_OK)
        goto out;
    ms_report += enc.report_ms;
    ms_fingerprint = enc.fingerprint_ms;
    t = lds_time_ms();
    if ((st = find_duplicates(o, name, shape, dups, &dup_count, err)) != LDS_OK)
        goto out;
    ms_fingerprint += lds_time_ms() - t;

    /* 7. manifest and certificate */
    progress(o, "certify", 0.95);
    manifest = json_object();
    json_object_set_new(manifest, "manifest", json_integer(1));
    {
        json_t *srcs = json_array();
        for (size_t i = 0; i < file_count; i++)
            json_array_append_new(srcs, json_pack("{s:s,s:I,s:s}", "name", lds_path_basename(files[i]), "bytes",
                                                  (json_int_t)sources[i].bytes, "sha256", sources[i].sha256));
        json_object_set_new(manifest, "source", json_pack("{s:o,s:s}", "files", srcs, "format", source_format(files[0])));
    }
    json_object_set_new(manifest, "report", report_json(&report));
    if (chain_note[0])
        json_array_append_new(json_object_get(json_object_get(manifest, "report"), "issues"),
                              json_pack("{s:s,s:s,s:s}", "code", "lod_chain_short", "severity", "info", "message",
                                        chain_note));
    add_duplicate_issues(json_object_get(json_object_get(manifest, "report"), "issues"), dups, dup_count);
    json_object_set_new(manifest, "fingerprint", json_pack("{s:s,s:s}", "geometry", geometry, "shape", shape));
    json_object_set_new(manifest, "lods", lods_json(enc.levels, enc.published));
    json_object_set_new(manifest, "chain", chain_json(&chain_options, chain_note));
    json_object_set_new(manifest, "thumbnails", enc.thumbnails ? enc.thumbnails : json_array());
    enc.thumbnails = NULL;
    json_object_set_new(manifest, "encoding",
                        json_pack("{s:i,s:i,s:i}", "position_bits", o->quantization.position_bits, "normal_bits",
                                  o->quantization.normal_bits, "uv_bits", o->quantization.uv_bits));
    {
        json_t *meta = json_object();
        const char *keys[] = {"title", "owner", "claimed_owner", "license", "category", "description", "tags"};
        const char *values[] = {o->title, o->owner, o->claimed_owner, o->license, o->category, o->description, o->tags};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (values[i])
                json_object_set_new(meta, keys[i], json_string(values[i]));
        json_object_set_new(manifest, "metadata", meta);
    }
    if (o->certify) {
        if ((st = certify(o, sources, file_count, geometry, shape, enc.levels, enc.published, out_dir, manifest,
                          err)) != LDS_OK)
            goto out;
    } else {
        json_object_set_new(manifest, "certificate", json_null());
    }
    json_object_set_new(manifest, "timings_ms",
                        json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "import", ms_import, "report", ms_report, "fingerprint",
                                  ms_fingerprint, "lods", ms_lods, "encode", enc.encode_ms, "total", lds_time_ms() - t0));
    json_object_set_new(json_object_get(manifest, "timings_ms"), "deviation", json_real(ms_deviation));
    json_object_set_new(json_object_get(manifest, "timings_ms"), "thumbnails", json_real(enc.thumbnail_ms));
    {
        char *text = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text == NULL) {
            st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
            goto out;
        }
        snprintf(path, sizeof(path), "%s/manifest.json", out_dir);
        st = lds_file_write_atomic(path, text, strlen(text), err);
        free(text);
        if (st != LDS_OK)
            goto out;
    }
    progress(o, "done", 1.0);
    if (manifest_out) {
        *manifest_out = manifest;
        manifest = NULL;
    }
out:
    if (st != LDS_OK && err && strstr(err->message, name) == NULL) {
        /* stages past the import report on the model, not the file: name it (issue 5) */
        char message[2 * LDS_ERROR_MESSAGE_MAX];
        snprintf(message, sizeof(message), "%s: %s", name, err->message);
        snprintf(err->message, sizeof(err->message), "%.*s", (int)sizeof(err->message) - 1, message);
    }
    json_decref(manifest);
    json_decref(enc.thumbnails);
    if (enc.levels) {
        for (size_t l = 1; l < enc.level_count; l++)
            lds_mesh_model_destroy(enc.levels[l].model);
        free(enc.levels);
    }
    lds_mesh_model_destroy(model);
    lds_mesh_model_destroy(bare);
    lds_mesh_report_cleanup(&report);
    pthread_mutex_destroy(&enc.lock);
    pthread_cond_destroy(&enc.ready);
    return st;
}
