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
#define KEY_UNQUEUED "lds:assets:unqueued" /* zset: records whose job is not enqueued yet */

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

lds_status lds_assets_validate(const lds_asset_file *files, size_t count, lds_error *err)
{
    if (count == 0)
        return lds_error_set(err, LDS_EINVAL, "upload: no files");
    for (size_t i = 0; i < count; i++) {
        const lds_asset_file *f = &files[i];
        if (!file_name_valid(f->name))
            return lds_error_set(err, LDS_EINVAL, "upload: file name '%.100s' is not a plain file name",
                                 f->name ? f->name : "");
        for (size_t j = 0; j < i; j++)
            if (strcmp(files[j].name, f->name) == 0)
                return lds_error_set(err, LDS_EINVAL, "upload: file name %s given twice", f->name);
    }
    return LDS_OK;
}

/* Writes the record, its index entries, the unqueued marker and the idempotency mapping in one
 * step; a second write of the same asset id, or of the same idempotency key and digest, writes
 * nothing and answers the first one's ids. KEYS: record, index, owner index, unqueued,
 * idempotency. ARGV: asset, job, accepted_ms, digest ('' none), has owner, ttl ms, fields...
 * Returns {"new"|"exists"|"replay"|"conflict", asset, job}. */
static const char *const SCRIPT_RECORD =
    "if ARGV[4] ~= '' then\n"
    "  local m = redis.call('HMGET', KEYS[5], 'digest', 'asset', 'job')\n"
    "  if m[1] then\n"
    "    if m[1] ~= ARGV[4] then return {'conflict', m[2], m[3]} end\n"
    "    return {'replay', m[2], m[3]}\n"
    "  end\n"
    "end\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  return {'exists', ARGV[1], redis.call('HGET', KEYS[1], 'job') or ARGV[2]}\n"
    "end\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 7))\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])\n"
    "if ARGV[5] == '1' then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) end\n"
    "redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])\n"
    "if ARGV[4] ~= '' then\n"
    "  redis.call('HSET', KEYS[5], 'digest', ARGV[4], 'asset', ARGV[1], 'job', ARGV[2])\n"
    "  redis.call('PEXPIRE', KEYS[5], tonumber(ARGV[6]))\n"
    "end\n"
    "return {'new', ARGV[1], ARGV[2]}\n";

/* The JSON texts of a submission's metadata (string members only) and file list; NULL on ENOMEM. */
static void submission_texts(const lds_asset_submission *submission, char **metadata_text, char **files_text)
{
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
    *metadata_text = json_dumps(metadata, JSON_COMPACT | JSON_SORT_KEYS);
    *files_text = json_dumps(files, JSON_COMPACT);
    json_decref(metadata);
    json_decref(files);
}

/* Runs SCRIPT_RECORD for job (ids set); *state: 0 new, 1 an earlier write (same id or key). */
static lds_status record_write(lds_redis *redis, const lds_asset_submission *submission, lds_job *job,
                               int *replayed, lds_error *err)
{
    char *metadata_text = NULL, *files_text = NULL;
    submission_texts(submission, &metadata_text, &files_text);
    if (metadata_text == NULL || files_text == NULL) {
        free(metadata_text);
        free(files_text);
        return lds_error_set(err, LDS_ENOMEM, "upload: out of memory");
    }
    char key[LDS_ID_MAX + 16], owner_index[320], idem_key[320], accepted_ms[24], ttl[24];
    snprintf(key, sizeof(key), RECORD_PREFIX "%s", job->asset_id);
    const char *owner = submission->owner_key ? submission->owner_key : "";
    snprintf(owner_index, sizeof(owner_index), "lds:owner:%.256s", *owner ? owner : "-");
    const char *idem = submission->idempotency_key;
    snprintf(idem_key, sizeof(idem_key), "%s%.256s", LDS_ASSETS_IDEMPOTENCY_PREFIX, idem ? idem : "-");
    snprintf(accepted_ms, sizeof(accepted_ms), "%lld", (long long)lds_wall_ms());
    snprintf(ttl, sizeof(ttl), "%lld", (long long)LDS_ASSETS_IDEMPOTENCY_TTL_MS);
    const char *account = submission->owner_account ? submission->owner_account : "";
    const char *argv[] = {"EVAL", SCRIPT_RECORD, "5", key, KEY_INDEX, owner_index, KEY_UNQUEUED, idem_key,
                          job->asset_id, job->id, accepted_ms,
                          idem && submission->request_digest ? submission->request_digest : "",
                          *owner ? "1" : "0", ttl,
                          "id", job->asset_id, "status", "queued", "owner_key", owner, "account", account,
                          "accepted", job->time, "accepted_ms", accepted_ms, "updated", job->time, "job", job->id,
                          "metadata", metadata_text, "files", files_text,
                          "progress", "{\"stage\":\"queued\",\"fraction\":0}"};
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command_argv(redis, &reply, err, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL);
    free(metadata_text);
    free(files_text);
    if (status != LDS_OK)
        return status;
    const char *state = reply->type == LDS_REDIS_ARRAY && reply->elements == 3 ? reply->element[0].str : NULL;
    if (state == NULL || reply->element[1].str == NULL || reply->element[2].str == NULL) {
        status = lds_error_set(err, LDS_EREDIS, "upload: unexpected answer writing the record of %s", job->asset_id);
    } else if (strcmp(state, "conflict") == 0) {
        status = lds_error_set(err, LDS_EEXIST,
                               "Idempotency-Key already used for a different request (asset %s)",
                               reply->element[1].str);
    } else {
        *replayed = strcmp(state, "new") != 0;
        snprintf(job->asset_id, sizeof(job->asset_id), "%s", reply->element[1].str);
        snprintf(job->id, sizeof(job->id), "%s", reply->element[2].str);
    }
    lds_redis_reply_free(reply);
    return status;
}

/* Deposit items wait in the low stream: a partner's 2,000-model archive does not put every
 * modeler's upload behind it (workers take the high stream first). */
static int from_deposit(const char *metadata_text)
{
    json_t *metadata = metadata_text ? json_loads(metadata_text, 0, NULL) : NULL;
    const char *kind = json_string_value(json_object_get(metadata, "source_kind"));
    int deposit = kind && strcmp(kind, "deposit") == 0;
    json_decref(metadata);
    return deposit;
}

lds_status lds_assets_record_enqueue(lds_redis *redis, const char *asset_id, int *enqueued, lds_error *err)
{
    if (enqueued)
        *enqueued = 0;
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(redis, &reply, err, "ZSCORE " KEY_UNQUEUED " %s", asset_id);
    int marked = status == LDS_OK && reply->type == LDS_REDIS_STRING;
    lds_redis_reply_free(reply);
    if (status != LDS_OK || !marked)
        return status; /* its job was enqueued already */
    reply = NULL;
    status = lds_redis_command(redis, &reply, err, "HMGET " RECORD_PREFIX "%s job accepted metadata", asset_id);
    const char *job_id = status == LDS_OK && reply->elements == 3 ? reply->element[0].str : NULL;
    lds_job job;
    memset(&job, 0, sizeof(job));
    if (status == LDS_OK && job_id != NULL) {
        snprintf(job.id, sizeof(job.id), "%s", job_id);
        snprintf(job.asset_id, sizeof(job.asset_id), "%s", asset_id);
        snprintf(job.time, sizeof(job.time), "%s", reply->element[1].str ? reply->element[1].str : "");
        job.kind = LDS_JOB_UPLOAD;
        job.priority = from_deposit(reply->element[2].str) ? LDS_QUEUE_LOW : LDS_QUEUE_HIGH;
    }
    lds_redis_reply_free(reply);
    /* Enqueue, then unmark: a crash between the two leaves a second copy of the same job, which
     * the worker only acknowledges (done_job) or runs to the same result (the notary logs an
     * identical statement once); the other order could lose the job. */
    if (status == LDS_OK && job.id[0])
        status = lds_queue_enqueue(redis, &job, err);
    if (status == LDS_OK)
        status = lds_redis_command(redis, NULL, err, "ZREM " KEY_UNQUEUED " %s", asset_id);
    if (status == LDS_OK && enqueued)
        *enqueued = job.id[0] != 0;
    return status;
}

lds_status lds_assets_record_write(lds_redis *redis, const lds_asset_submission *submission, char *asset_id,
                                   char *job_id, int *replayed, lds_error *err)
{
    lds_status status = lds_assets_validate(submission->files, submission->file_count, err);
    for (size_t i = 0; status == LDS_OK && i < submission->file_count; i++)
        if (!lds_blob_id_valid(submission->files[i].blob_id))
            status = lds_error_set(err, LDS_EINVAL, "upload: %s: bad blob id", submission->files[i].name);
    if (status != LDS_OK)
        return status;
    lds_job job;
    memset(&job, 0, sizeof(job));
    if (submission->asset_id)
        snprintf(job.asset_id, sizeof(job.asset_id), "%s", submission->asset_id);
    else
        lds_ingest_new_id("a_", job.asset_id, sizeof(job.asset_id));
    if (submission->job_id)
        snprintf(job.id, sizeof(job.id), "%s", submission->job_id);
    else
        lds_ingest_new_id("j_", job.id, sizeof(job.id));
    lds_time_rfc3339(job.time, sizeof(job.time));
    int again = 0;
    status = record_write(redis, submission, &job, &again, err);
    if (status == LDS_OK) {
        snprintf(asset_id, LDS_ID_MAX, "%s", job.asset_id);
        snprintf(job_id, LDS_ID_MAX, "%s", job.id);
        if (replayed)
            *replayed = again;
    }
    return status;
}

lds_status lds_assets_submit(lds_redis *redis, const lds_asset_submission *submission, char *asset_id,
                             char *job_id, lds_error *err)
{
    /* Order: the record first (marked unqueued), then the job; a job never names a missing
     * record, and a record left without its job is found by lds_assets_sweep. */
    lds_status status = lds_assets_record_write(redis, submission, asset_id, job_id, NULL, err);
    if (status == LDS_OK)
        status = lds_assets_record_enqueue(redis, asset_id, NULL, err);
    return status;
}

lds_status lds_assets_sweep(lds_redis *redis, int64_t grace_ms, size_t *requeued, lds_error *err)
{
    *requeued = 0;
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(redis, &reply, err, "ZRANGEBYSCORE " KEY_UNQUEUED " -inf %lld LIMIT 0 1000",
                                          (long long)(lds_wall_ms() - grace_ms));
    for (size_t i = 0; status == LDS_OK && reply->type == LDS_REDIS_ARRAY && i < reply->elements; i++) {
        const char *id = reply->element[i].str;
        if (id == NULL)
            continue;
        int enqueued = 0;
        status = lds_assets_record_enqueue(redis, id, &enqueued, err);
        if (status == LDS_OK && enqueued) {
            lds_log_warn("sweep: asset %s had a record but no job (a crash between the two); re-queued", id);
            (*requeued)++;
        }
    }
    lds_redis_reply_free(reply);
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
        lds_asset_submission submission = {.files = files, .file_count = count, .metadata = metadata,
                                           .owner_key = owner_key};
        status = lds_assets_submit(redis, &submission, asset_id, job_id, err);
    }
    free(files);
    free(ids);
    return status;
}

static const char *const JSON_FIELDS[] = {"metadata", "files",       "progress", "manifest", "outputs",
                                          "certificate", "error", "reprocess", "signals", "valuation"};

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
