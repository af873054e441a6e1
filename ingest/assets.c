/* assets.c: asset records, hashes lds:asset:<id> (DESIGN.md 6.5), and accepting uploads.
 *
 * Scalar fields are strings; structured ones (metadata, files, progress, manifest, outputs,
 * certificate, error, reprocess) are JSON text, so that one HSET publishes a whole result and a
 * reader never sees half of one. lds:assets (zset by acceptance time) lists every asset for
 * reprocessing; lds:owner:<key> (zset) lists an uploader's assets for the API. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"

#define RECORD_PREFIX "lds:asset:"
#define KEY_INDEX "lds:assets"
#define FIELDS_MAX 32

static int asset_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n >= LDS_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') || id[i] == '_' || id[i] == '-'))
            return 0;
    return 1;
}

int lds_assets_file_name_valid(const char *name)
{
    /* a normalised relative path (deposits keep a sidecar's place below its model: "textures/a.png") */
    char normal[LDS_ASSET_FILE_NAME_MAX];
    const char *why;
    return name && *name && strlen(name) < sizeof(normal) &&
           lds_archive_check_path(name, sizeof(normal) - 1, normal, sizeof(normal), &why) == LDS_OK &&
           strcmp(normal, name) == 0;
}

static int file_name_valid(const char *name)
{
    return lds_assets_file_name_valid(name);
}

/* HSET key f1 v1 f2 v2 ... from parallel arrays (values are C strings). */
static lds_status hset(lds_redis *redis, const char *key, const char *const *fields, const char *const *values,
                       size_t count, lds_error *err)
{
    const char *argv[2 + 2 * FIELDS_MAX];
    if (count > FIELDS_MAX)
        return lds_error_set(err, LDS_EINTERNAL, "asset record: too many fields");
    size_t argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = key;
    for (size_t i = 0; i < count; i++) {
        argv[argc++] = fields[i];
        argv[argc++] = values[i];
    }
    return lds_redis_command_argv(redis, NULL, err, (int)argc, argv, NULL);
}

lds_status lds_assets_submit(lds_redis *redis, const lds_asset_submission *submission, char *asset_id,
                             char *job_id, lds_error *err)
{
    if (submission->file_count == 0)
        return lds_error_set(err, LDS_EINVAL, "upload: no files");
    for (size_t i = 0; i < submission->file_count; i++) {
        const lds_asset_file *f = &submission->files[i];
        if (!file_name_valid(f->name))
            return lds_error_set(err, LDS_EINVAL, "upload: file name '%.100s' is not a plain file name",
                                 f->name ? f->name : "");
        if (!lds_blob_id_valid(f->blob_id))
            return lds_error_set(err, LDS_EINVAL, "upload: %s: bad blob id", f->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(submission->files[j].name, f->name) == 0)
                return lds_error_set(err, LDS_EINVAL, "upload: file name %s given twice", f->name);
    }
    json_t *metadata = json_object();
    if (submission->metadata && json_is_object(submission->metadata)) {
        const char *k;
        json_t *v;
        json_object_foreach(submission->metadata, k, v) if (json_is_string(v))
            json_object_set(metadata, k, v);
    }
    json_t *files = json_array();
    for (size_t i = 0; i < submission->file_count; i++)
        json_array_append_new(files, json_pack("{s:s, s:s, s:I}", "name", submission->files[i].name, "sha256",
                                               submission->files[i].blob_id, "bytes",
                                               (json_int_t)submission->files[i].bytes));
    char *metadata_text = json_dumps(metadata, JSON_COMPACT | JSON_SORT_KEYS);
    char *files_text = json_dumps(files, JSON_COMPACT);
    json_decref(metadata);
    json_decref(files);

    lds_job job;
    memset(&job, 0, sizeof(job));
    lds_ingest_new_id("a_", job.asset_id, sizeof(job.asset_id));
    lds_ingest_new_id("j_", job.id, sizeof(job.id));
    job.kind = LDS_JOB_UPLOAD;
    job.priority = LDS_QUEUE_HIGH;
    lds_time_rfc3339(job.time, sizeof(job.time));
    int64_t accepted_ms = lds_wall_ms();
    char key[LDS_ID_MAX + 16], accepted_ms_text[24];
    snprintf(key, sizeof(key), RECORD_PREFIX "%s", job.asset_id);
    snprintf(accepted_ms_text, sizeof(accepted_ms_text), "%lld", (long long)accepted_ms);
    const char *fields[] = {"id",  "status",   "owner_key", "accepted", "accepted_ms", "updated",
                            "job", "metadata", "files",     "progress",  "account"};
    const char *values[] = {job.asset_id, "queued",          submission->owner_key ? submission->owner_key : "",
                            job.time,     accepted_ms_text,  job.time,
                            job.id,       metadata_text,     files_text,
                            "{\"stage\":\"queued\",\"fraction\":0}",
                            submission->owner_account ? submission->owner_account : ""};
    lds_status status = LDS_OK;
    if (metadata_text == NULL || files_text == NULL)
        status = lds_error_set(err, LDS_ENOMEM, "upload: out of memory");
    /* Order: the record first, then the job; a job never names a missing record. */
    if (status == LDS_OK)
        status = hset(redis, key, fields, values, sizeof(fields) / sizeof(fields[0]), err);
    if (status == LDS_OK)
        status = lds_redis_command(redis, NULL, err, "ZADD " KEY_INDEX " %s %s", accepted_ms_text, job.asset_id);
    if (status == LDS_OK && submission->owner_key && *submission->owner_key)
        status = lds_redis_command(redis, NULL, err, "ZADD lds:owner:%s %s %s", submission->owner_key,
                                   accepted_ms_text, job.asset_id);
    if (status == LDS_OK)
        status = lds_queue_enqueue(redis, &job, err);
    free(metadata_text);
    free(files_text);
    if (status == LDS_OK) {
        snprintf(asset_id, LDS_ID_MAX, "%s", job.asset_id);
        snprintf(job_id, LDS_ID_MAX, "%s", job.id);
    }
    return status;
}

lds_status lds_assets_submit_paths(lds_redis *redis, const char *blob_root, const char *const *paths, size_t count,
                                   json_t *metadata, const char *owner_key, char *asset_id, char *job_id,
                                   lds_error *err)
{
    if (count == 0 || count > LDS_PIPELINE_MAX_FILES)
        return lds_error_set(err, LDS_EINVAL, "upload: %zu files (1 to %d)", count, LDS_PIPELINE_MAX_FILES);
    lds_asset_file *files = calloc(count, sizeof(*files));
    char(*ids)[LDS_SHA256_HEX] = calloc(count, LDS_SHA256_HEX);
    lds_status status = files && ids ? LDS_OK : lds_error_set(err, LDS_ENOMEM, "upload: out of memory");
    for (size_t i = 0; i < count && status == LDS_OK; i++) {
        status = lds_blob_put_file(blob_root, paths[i], LDS_BLOB_COMPRESS, ids[i], &files[i].bytes, err);
        files[i].name = lds_path_basename(paths[i]);
        files[i].blob_id = ids[i];
    }
    if (status == LDS_OK) {
        lds_asset_submission submission = {files, count, metadata, owner_key, NULL};
        status = lds_assets_submit(redis, &submission, asset_id, job_id, err);
    }
    free(files);
    free(ids);
    return status;
}

static const char *const JSON_FIELDS[] = {"metadata", "files",       "progress", "manifest", "outputs",
                                          "certificate", "error", "reprocess"};

lds_status lds_assets_get(lds_redis *redis, const char *asset_id, json_t **record, lds_error *err)
{
    *record = NULL;
    if (!asset_id_valid(asset_id))
        return lds_error_set(err, LDS_ENOENT, "asset %.60s: no such asset", asset_id ? asset_id : "");
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(redis, &reply, err, "HGETALL " RECORD_PREFIX "%s", asset_id);
    if (status != LDS_OK)
        return status;
    if (reply->type != LDS_REDIS_ARRAY || reply->elements == 0) {
        lds_redis_reply_free(reply);
        return lds_error_set(err, LDS_ENOENT, "asset %s: no such asset", asset_id);
    }
    json_t *out = json_object();
    json_object_set_new(out, "manifest", json_null());
    json_object_set_new(out, "error", json_null());
    json_object_set_new(out, "certificate", json_null());
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *field = reply->element[i].str, *value = reply->element[i + 1].str;
        if (field == NULL || value == NULL)
            continue;
        int is_json = 0;
        for (size_t j = 0; j < sizeof(JSON_FIELDS) / sizeof(JSON_FIELDS[0]); j++)
            is_json |= strcmp(field, JSON_FIELDS[j]) == 0;
        if (strcmp(field, "accepted_ms") == 0 || strcmp(field, "done_job") == 0)
            continue;
        json_t *v = is_json ? json_loadb(value, reply->element[i + 1].len, 0, NULL) : json_string(value);
        json_object_set_new(out, field, v ? v : json_null());
    }
    lds_redis_reply_free(reply);
    *record = out;
    return LDS_OK;
}

lds_status lds_assets_get_fields(lds_redis *redis, const char *asset_id, const char *const *fields, size_t count,
                                 json_t **record, lds_error *err)
{
    *record = NULL;
    if (!asset_id_valid(asset_id))
        return lds_error_set(err, LDS_ENOENT, "asset %.60s: no such asset", asset_id ? asset_id : "");
    if (count == 0 || count > 32)
        return lds_error_set(err, LDS_EINVAL, "asset %s: between 1 and 32 fields can be read at once", asset_id);
    char key[LDS_ID_MAX + 16];
    snprintf(key, sizeof(key), RECORD_PREFIX "%s", asset_id);
    const char *argv[34];
    argv[0] = "HMGET";
    argv[1] = key;
    for (size_t i = 0; i < count; i++)
        argv[2 + i] = fields[i];
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command_argv(redis, &reply, err, (int)count + 2, argv, NULL);
    if (status != LDS_OK)
        return status;
    json_t *out = json_object();
    size_t found = 0;
    for (size_t i = 0; reply->type == LDS_REDIS_ARRAY && i < reply->elements && i < count; i++) {
        const lds_redis_reply *v = &reply->element[i];
        if (v->type != LDS_REDIS_STRING || v->str == NULL)
            continue;
        int is_json = 0;
        for (size_t j = 0; j < sizeof(JSON_FIELDS) / sizeof(JSON_FIELDS[0]); j++)
            is_json |= strcmp(fields[i], JSON_FIELDS[j]) == 0;
        json_t *value = is_json ? json_loadb(v->str, v->len, 0, NULL) : json_string(v->str);
        json_object_set_new(out, fields[i], value ? value : json_null());
        found++;
    }
    lds_redis_reply_free(reply);
    if (found == 0) {
        json_decref(out);
        return lds_error_set(err, LDS_ENOENT, "asset %s: no such asset", asset_id);
    }
    *record = out;
    return LDS_OK;
}

lds_status lds_assets_output(lds_redis *redis, const char *asset_id, const char *name, char blob_id[LDS_SHA256_HEX],
                             lds_error *err)
{
    if (!asset_id_valid(asset_id))
        return lds_error_set(err, LDS_ENOENT, "asset %.60s: no such asset", asset_id ? asset_id : "");
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(redis, &reply, err, "HGET " RECORD_PREFIX "%s outputs", asset_id);
    if (status != LDS_OK)
        return status;
    json_t *outputs = reply->str ? json_loadb(reply->str, reply->len, 0, NULL) : NULL;
    lds_redis_reply_free(reply);
    const char *id = json_string_value(json_object_get(outputs, name));
    if (id && lds_blob_id_valid(id))
        snprintf(blob_id, LDS_SHA256_HEX, "%s", id);
    else
        status = lds_error_set(err, LDS_ENOENT, "asset %s: no output %.100s", asset_id, name);
    json_decref(outputs);
    return status;
}

lds_status lds_assets_set_status(lds_redis *redis, const char *asset_id, const char *status_text,
                                 const lds_error *error, lds_error *err)
{
    char key[LDS_ID_MAX + 16], now[40];
    snprintf(key, sizeof(key), RECORD_PREFIX "%s", asset_id);
    lds_time_rfc3339(now, sizeof(now));
    char *error_text = NULL;
    if (error && error->code != LDS_OK) {
        json_t *e = json_pack("{s:s, s:s}", "code", lds_status_name(error->code), "message", error->message);
        error_text = json_dumps(e, JSON_COMPACT);
        json_decref(e);
    }
    /* Never creates a record: a status for an asset that is gone is dropped. */
    static const char *const script =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
        "redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated', ARGV[2])\n"
        "if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[3]) end\n"
        "return 1\n";
    lds_status status = lds_redis_command(redis, NULL, err, "EVAL %s 1 %s %s %s %s", script, key, status_text, now,
                                          error_text ? error_text : "");
    free(error_text);
    return status;
}

lds_status lds_assets_set_progress(lds_redis *redis, const char *asset_id, const char *stage, double fraction,
                                   lds_error *err)
{
    json_t *p = json_pack("{s:s, s:f}", "stage", stage ? stage : "", "fraction", fraction);
    char *text = json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(3));
    json_decref(p);
    lds_status status = lds_redis_command(redis, NULL, err, "HSET " RECORD_PREFIX "%s progress %s", asset_id,
                                          text ? text : "{}");
    free(text);
    return status;
}

lds_status lds_assets_publish(lds_redis *redis, const char *asset_id, const char *job_id, json_t *manifest,
                              json_t *outputs, lds_error *err)
{
    char key[LDS_ID_MAX + 16], now[40];
    snprintf(key, sizeof(key), RECORD_PREFIX "%s", asset_id);
    lds_time_rfc3339(now, sizeof(now));
    json_t *cert_info = json_object_get(manifest, "certificate");
    json_t *certificate = json_null();
    const char *cert_blob = json_string_value(json_object_get(outputs, "certificate.json"));
    if (json_is_object(cert_info) && cert_blob)
        certificate = json_pack("{s:s, s:O}", "blob", cert_blob, "log_index",
                                json_object_get(cert_info, "log_index") ? json_object_get(cert_info, "log_index")
                                                                         : json_null());
    char *manifest_text = json_dumps(manifest, JSON_COMPACT);
    char *outputs_text = json_dumps(outputs, JSON_COMPACT | JSON_SORT_KEYS);
    char *cert_text = json_dumps(certificate, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(certificate);
    lds_status status = LDS_OK;
    if (!manifest_text || !outputs_text || !cert_text)
        status = lds_error_set(err, LDS_ENOMEM, "asset %s: out of memory", asset_id);
    /* One script: readers see the old result or the new one, never a mix. */
    static const char *const script =
        "redis.call('HSET', KEYS[1], 'status', 'ready', 'manifest', ARGV[1], 'outputs', ARGV[2],\n"
        "  'certificate', ARGV[3], 'done_job', ARGV[4], 'version', ARGV[5], 'updated', ARGV[6],\n"
        "  'progress', '{\"stage\":\"done\",\"fraction\":1}')\n"
        "redis.call('HDEL', KEYS[1], 'error')\n"
        "return 1\n";
    if (status == LDS_OK)
        status = lds_redis_command(redis, NULL, err, "EVAL %s 1 %s %s %s %s %s %s %s", script, key, manifest_text,
                                   outputs_text, cert_text, job_id, LDS_PIPELINE_VERSION, now);
    free(manifest_text);
    free(outputs_text);
    free(cert_text);
    return status;
}

lds_status lds_assets_list(lds_redis *redis, const char *owner_key, size_t offset, size_t limit, json_t **ids,
                           size_t *total, lds_error *err)
{
    *ids = NULL;
    char key[320];
    if (owner_key)
        snprintf(key, sizeof(key), "lds:owner:%.256s", owner_key);
    else
        snprintf(key, sizeof(key), KEY_INDEX);
    lds_redis_reply *reply = NULL;
    if (limit == 0)
        limit = 100;
    lds_status status = lds_redis_command(redis, &reply, err, "ZREVRANGE %s %lld %lld", key, (long long)offset,
                                          (long long)(offset + limit - 1));
    if (status != LDS_OK)
        return status;
    json_t *list = json_array();
    for (size_t i = 0; i < reply->elements; i++)
        if (reply->element[i].str)
            json_array_append_new(list, json_string(reply->element[i].str));
    lds_redis_reply_free(reply);
    if (total) {
        reply = NULL;
        status = lds_redis_command(redis, &reply, err, "ZCARD %s", key);
        *total = status == LDS_OK ? (size_t)reply->integer : 0;
        lds_redis_reply_free(reply);
    }
    if (status != LDS_OK) {
        json_decref(list);
        return status;
    }
    *ids = list;
    return LDS_OK;
}
