/* worker.c: the stateless worker loop (DESIGN.md 2 and 4).
 *
 * Each job: read the asset record, fetch the originals from the blob store into a scratch
 * directory, run lds_pipeline_run with the notary service as its certifier and the shape index
 * (shape_store.c) as its duplicate lookup, store every output as an uncompressed blob (served as
 * is), add the shape to the index, publish the manifest and outputs in one record update, and
 * acknowledge. Everything the job needs is in Redis and the blob store, so any worker anywhere can
 * run it, and re-running it gives the same result: the certificate time is the job's (the asset's
 * acceptance time), so the statement is the same and the notary answers with the entry it already
 * logged; a job whose result is already published (done_job) is only acknowledged.
 *
 * A heartbeat thread (its own connection) keeps the job's lease while the pipeline runs and writes
 * progress; after *stop it waits grace_ms for the job to end, then hands it back to the queue. */
#define _GNU_SOURCE /* nftw's FTW_PHYS, FTW_DEPTH */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"

#define PROGRESS_MIN_MS 500.0

void lds_worker_options_init(lds_worker_options *options)
{
    memset(options, 0, sizeof(*options));
    lds_queue_config_init(&options->queue);
    options->notary_timeout_ms = 120000;
    options->grace_ms = (int)lds_setting_ms_or_default("LODESTONE_WORKER_GRACE_MS");
}

typedef struct job_run {
    const lds_worker_options *options;
    lds_redis *redis; /* the loop's connection: records, certificate requests */
    lds_redis *beat;  /* the heartbeat thread's, shared with progress under lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    lds_job_claim claim;
    volatile sig_atomic_t *stop;
    int finished;    /* set by the loop: the heartbeat thread ends */
    int handed_back; /* set by the heartbeat thread */
    char last_stage[32];
    double last_fraction, last_progress_ms;
    double started_ms; /* when the job was claimed */
    uint64_t budget_ms;     /* LODESTONE_MAX_JOB_SECONDS (0: none) */
    lds_watchdog *watchdog; /* the running job's budget */
    const char *scratch;    /* the running job's scratch directory */
} job_run;

/* ---- scratch directories ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- heartbeat and progress ---- */

static void *heartbeat_main(void *arg)
{
    job_run *run = arg;
    int64_t interval = run->options->queue.visibility_ms / 3;
    if (interval < 50)
        interval = 50;
    double stop_seen = 0, last_beat = lds_time_ms();
    pthread_mutex_lock(&run->lock);
    while (!run->finished) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long step_ms = 200;
        until.tv_sec += step_ms / 1000;
        until.tv_nsec += (step_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&run->cond, &run->lock, &until);
        if (run->finished)
            break;
        double now = lds_time_ms();
        if (*run->stop && stop_seen == 0)
            stop_seen = now;
        if (stop_seen && now - stop_seen >= run->options->grace_ms) {
            lds_error err;
            lds_error_clear(&err);
            lds_fork_lock();
            lds_status released = lds_queue_release(run->beat, &run->claim, &err);
            lds_fork_unlock();
            if (released == LDS_OK) {
                run->handed_back = 1;
                lds_log_warn("worker: job %s handed back after %d ms of shutdown grace", run->claim.job.id,
                             run->options->grace_ms);
                break;
            }
        }
        if (now - last_beat >= (double)interval) {
            lds_error err;
            lds_error_clear(&err);
            int owned = 1;
            lds_fork_lock();
            lds_status beat = lds_queue_heartbeat(run->beat, &run->claim, &owned, &err);
            lds_fork_unlock();
            if (beat != LDS_OK)
                lds_log_warn("worker: heartbeat for job %s: %s", run->claim.job.id, err.message);
            else if (!owned)
                lds_log_warn("worker: job %s was taken over by another worker", run->claim.job.id);
            last_beat = now;
        }
    }
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

static void progress_cb(void *ctx, const char *stage, double fraction)
{
    job_run *run = ctx;
    pthread_mutex_lock(&run->lock);
    double now = lds_time_ms();
    int changed = strncmp(run->last_stage, stage ? stage : "", sizeof(run->last_stage) - 1) != 0;
    if (changed || now - run->last_progress_ms >= PROGRESS_MIN_MS || fraction >= 1.0) {
        snprintf(run->last_stage, sizeof(run->last_stage), "%s", stage ? stage : "");
        run->last_fraction = fraction;
        run->last_progress_ms = now;
        lds_error err;
        lds_error_clear(&err);
        if (lds_assets_set_progress(run->beat, run->claim.job.asset_id, stage, fraction, &err) != LDS_OK)
            lds_log_warn("worker: progress of %s: %s", run->claim.job.asset_id, err.message);
    }
    pthread_mutex_unlock(&run->lock);
}

static lds_status certify_cb(void *ctx, const char *statement, size_t size, char **bundle, uint64_t *index,
                             lds_error *err)
{
    job_run *run = ctx;
    lds_watchdog_hold(run->watchdog); /* a certificate asked for is waited for */
    lds_status st = lds_notary_request(run->redis, statement, size, run->options->notary_timeout_ms, bundle, index,
                                       err);
    lds_watchdog_release(run->watchdog);
    return st;
}

/* Near shapes from the Redis shape index, leaving out the asset being (re)processed. */
static lds_status similar_cb(void *ctx, const char *fingerprint, lds_shape_match *matches, size_t max, size_t *count,
                             lds_error *err)
{
    job_run *run = ctx;
    return lds_shape_index_lookup(run->redis, fingerprint, run->claim.job.asset_id, 0, matches, max, count, NULL,
                                  err);
}

/* ---- one job ---- */

/* Failures that are the service's own (their messages name server paths, sockets, blobs). */
static int service_trouble(lds_status code)
{
    return code == LDS_EIO || code == LDS_ENOENT || code == LDS_EREDIS || code == LDS_EUNAVAIL ||
           code == LDS_EINTERNAL || code == LDS_ENOMEM;
}

/* Bad input fails at once; everything else (I/O, Redis, the notary, timeouts) is retried. */
static int permanent_failure(lds_status code)
{
    switch (code) {
    case LDS_EINVAL:
    case LDS_EFORMAT:
    case LDS_ETRUNC:
    case LDS_ENOGEOM:
    case LDS_ELIMIT:
    case LDS_ECRASH:
    case LDS_EVERIFY:
    case LDS_EEXIST:
    case LDS_EPERM:
        return 1;
    default:
        return 0;
    }
}

static void set_reprocess(lds_redis *redis, const lds_job *job, const char *state, const lds_error *error);

/* The job's time budget is spent (a stage that does not end): the job fails for good, to the
 * dead letters with the reason, on a connection of its own (the loop's is in use), and the worker
 * process exits so that nothing it was doing goes on; its supervisor starts a fresh one. */
static void job_budget_expired(void *ctx)
{
    job_run *run = ctx;
    const lds_job *job = &run->claim.job;
    lds_error reason, err;
    lds_error_clear(&reason);
    lds_error_clear(&err);
    lds_error_set(&reason, LDS_ETIMEOUT,
                  "time limit of %llu s exceeded (LODESTONE_MAX_JOB_SECONDS): processing was stopped and will not "
                  "be retried",
                  (unsigned long long)(run->budget_ms / 1000));
    lds_redis *redis = NULL;
    int dead = 0;
    if (lds_redis_connect(run->options->redis_url, &redis, &err) == LDS_OK) {
        lds_redis_set_timeout(redis, 5000);
        if (lds_queue_fail(redis, &run->options->queue, &run->claim, &reason, 1, &dead, NULL, &err) == LDS_OK) {
            if (job->kind == LDS_JOB_UPLOAD)
                lds_assets_set_status(redis, job->asset_id, "failed", &reason, NULL);
            else
                set_reprocess(redis, job, "failed", &reason);
        }
    }
    lds_redis_close(redis);
    if (err.code != LDS_OK)
        lds_log_error("worker %d: job %s: recording the time-out: %s (it will be reclaimed)", (int)getpid(), job->id,
                      err.message);
    lds_log_error("worker %d: job %s (asset %s): %s; this worker exits", (int)getpid(), job->id, job->asset_id,
                  reason.message);
    if (run->scratch)
        remove_tree(run->scratch);
    _exit(3);
}

static void set_reprocess(lds_redis *redis, const lds_job *job, const char *state, const lds_error *error)
{
    json_t *r = json_pack("{s:s, s:s}", "status", state, "job", job->id);
    if (error && error->code != LDS_OK)
        json_object_set_new(r, "error",
                            json_pack("{s:s, s:s}", "code", lds_status_name(error->code), "message", error->message));
    char *text = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    if (text)
        lds_redis_command(redis, NULL, NULL, "HSET lds:asset:%s reprocess %s", job->asset_id, text);
    free(text);
}

/* Stores every file of out_dir as a blob; fills outputs (name -> blob id). */
static lds_status store_outputs(const lds_worker_options *options, const char *out_dir, json_t *outputs,
                                lds_error *err)
{
    DIR *dir = opendir(out_dir);
    if (dir == NULL)
        return lds_error_set(err, LDS_EIO, "%s: %s", out_dir, strerror(errno));
    lds_status status = LDS_OK;
    struct dirent *entry;
    while (status == LDS_OK && (entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 512];
        snprintf(path, sizeof(path), "%s/%s", out_dir, entry->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        char id[LDS_SHA256_HEX];
        status = lds_blob_put_file(options->blob_root, path, 0, id, NULL, err);
        if (status == LDS_OK)
            json_object_set_new(outputs, entry->d_name, json_string(id));
    }
    closedir(dir);
    return status;
}

static const char *meta(json_t *metadata, const char *key)
{
    const char *v = json_string_value(json_object_get(metadata, key));
    return v && *v ? v : NULL;
}

/* Error messages go to the asset record, which clients read: they name the uploaded file
 * ("x.ply: not a PLY file"), not the worker's scratch path. */
static void strip_scratch(char *message, const char *scratch)
{
    char prefix[PATH_MAX + 8];
    static const char *const subdirs[] = {"/in/", "/out/", "/"};
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        snprintf(prefix, sizeof(prefix), "%s%s", scratch, subdirs[i]);
        size_t n = strlen(prefix);
        char *p;
        while ((p = strstr(message, prefix)) != NULL)
            memmove(p, p + n, strlen(p + n) + 1);
    }
}

#define PARENTS_MAX 16

/* The certificates of the parent assets named in the upload's metadata ("parents": asset ids
 * separated by ',', ';' or spaces) copied to scratch for the pipeline: a derivative work's
 * certificate names them, and the catalogue's lineage follows. A parent that is missing or has
 * no certificate fails the job. */
static lds_status fetch_parents(job_run *run, const char *text, const char scratch[PATH_MAX],
                                char storage[][PATH_MAX + 32], const char **paths, size_t *count, lds_error *err)
{
    *count = 0;
    char id[LDS_ID_MAX];
    while (text && *text) {
        size_t len = strcspn(text, ",; ");
        if (len >= sizeof(id))
            return lds_error_set(err, LDS_EINVAL, "metadata parents: '%.40s...' is not an asset id", text);
        if (len > 0) {
            memcpy(id, text, len);
            id[len] = 0;
            if (*count == PARENTS_MAX)
                return lds_error_set(err, LDS_ELIMIT, "metadata parents: more than %d", PARENTS_MAX);
            static const char *const fields[] = {"status", "certificate"};
            json_t *parent = NULL;
            lds_status st = lds_assets_get_fields(run->redis, id, fields, 2, &parent, err);
            const char *blob =
                json_string_value(json_object_get(json_object_get(parent, "certificate"), "blob"));
            if (st == LDS_OK && blob == NULL)
                st = lds_error_set(err, LDS_EINVAL, "parent asset %s has no certificate", id);
            else if (st == LDS_ENOENT)
                st = lds_error_set(err, LDS_EINVAL, "parent asset %s does not exist", id);
            snprintf(storage[*count], PATH_MAX + 32, "%s/parent-%zu.json", scratch, *count);
            if (st == LDS_OK)
                st = lds_blob_get_file(run->options->blob_root, blob, UINT64_MAX, storage[*count], err);
            json_decref(parent);
            if (st != LDS_OK)
                return st;
            paths[*count] = storage[*count];
            (*count)++;
        }
        text += len;
        if (*text)
            text++;
    }
    return LDS_OK;
}

/* Runs the pipeline for the claimed job; on success the record is published. */
static lds_status run_pipeline(job_run *run, json_t *record, const char scratch[PATH_MAX], lds_error *err)
{
    const lds_worker_options *options = run->options;
    const lds_job *job = &run->claim.job;
    char in_dir[PATH_MAX + 8], out_dir[PATH_MAX + 8];
    snprintf(in_dir, sizeof(in_dir), "%s/in", scratch);
    snprintf(out_dir, sizeof(out_dir), "%s/out", scratch);
    remove_tree(scratch);
    lds_status status = lds_dir_create(in_dir, 0700, err);
    if (status == LDS_OK)
        status = lds_dir_create(out_dir, 0700, err);
    if (status != LDS_OK)
        return status;

    json_t *files = json_object_get(record, "files");
    size_t count = json_array_size(files);
    if (count == 0)
        return lds_error_set(err, LDS_EINVAL, "asset %s: the record names no files", job->asset_id);
    char **paths = calloc(count, sizeof(char *));
    if (paths == NULL)
        return lds_error_set(err, LDS_ENOMEM, "worker: out of memory");
    progress_cb(run, "fetch", 0.0);
    for (size_t i = 0; i < count && status == LDS_OK; i++) {
        json_t *f = json_array_get(files, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *blob = json_string_value(json_object_get(f, "sha256"));
        json_t *bytes = json_object_get(f, "bytes");
        if (name == NULL || blob == NULL || !lds_assets_file_name_valid(name)) {
            status = lds_error_set(err, LDS_EINVAL, "asset %s: file %zu of the record is malformed", job->asset_id, i);
            break;
        }
        paths[i] = malloc(2 * PATH_MAX);
        if (paths[i] == NULL) {
            status = lds_error_set(err, LDS_ENOMEM, "worker: out of memory");
            break;
        }
        snprintf(paths[i], 2 * PATH_MAX, "%s/%s", in_dir, name);
        const char *slash = strrchr(name, '/'); /* a deposit's sidecar below the model: its directory */
        if (slash) {
            char sub[2 * PATH_MAX];
            snprintf(sub, sizeof(sub), "%s/%.*s", in_dir, (int)(slash - name), name);
            if ((status = lds_dir_create(sub, 0700, err)) != LDS_OK)
                break;
        }
        status = lds_blob_get_file(options->blob_root, blob,
                                   json_is_integer(bytes) ? (uint64_t)json_integer_value(bytes) : UINT64_MAX, paths[i],
                                   err);
    }

    lds_pipeline_options pipeline;
    if (options->pipeline) {
        pipeline = *options->pipeline;
    } else {
        lds_pipeline_options_init(&pipeline);
        if (status == LDS_OK)
            status = lds_pipeline_limits_from_env(&pipeline, err);
    }
    json_t *metadata = json_object_get(record, "metadata");
    pipeline.title = meta(metadata, "title");
    /* The owner stated is the account that uploaded (authenticated); what the uploader typed as
     * owner is only a claim. Records without an account (CLI submissions) state the typed owner. */
    const char *account = json_string_value(json_object_get(record, "account"));
    const char *typed_owner = meta(metadata, "owner");
    pipeline.owner = account && *account ? account : typed_owner;
    pipeline.claimed_owner = account && *account && typed_owner && strcmp(typed_owner, account) != 0 ? typed_owner
                                                                                                     : NULL;
    pipeline.license = meta(metadata, "license");
    pipeline.category = meta(metadata, "category");
    pipeline.description = meta(metadata, "description");
    pipeline.tags = meta(metadata, "tags");
    pipeline.source_kind = meta(metadata, "source_kind") ? meta(metadata, "source_kind") : "upload";
    pipeline.accession = meta(metadata, "accession");
    pipeline.capture_method = meta(metadata, "capture_method");
    pipeline.time = job->time[0] ? job->time : json_string_value(json_object_get(record, "accepted"));
    pipeline.certify = certify_cb;
    pipeline.certify_ctx = run;
    pipeline.progress = progress_cb;
    pipeline.progress_ctx = run;
    pipeline.similar = similar_cb;
    pipeline.similar_ctx = run;
    pipeline.similar_owner = json_string_value(json_object_get(record, "owner_key"));
    if (pipeline.similar_owner == NULL)
        pipeline.similar_owner = "";
    char previous[PATH_MAX + 32];
    const char *previous_blob = json_string_value(json_object_get(json_object_get(record, "certificate"), "blob"));
    if (status == LDS_OK && job->kind == LDS_JOB_REPROCESS && previous_blob) {
        snprintf(previous, sizeof(previous), "%s/previous-certificate.json", scratch);
        status = lds_blob_get_file(options->blob_root, previous_blob, UINT64_MAX, previous, err);
        pipeline.previous_certificate_path = previous;
    }

    char parent_storage[PARENTS_MAX][PATH_MAX + 32];
    const char *parent_paths[PARENTS_MAX];
    if (status == LDS_OK)
        status = fetch_parents(run, meta(metadata, "parents"), scratch, parent_storage, parent_paths,
                               &pipeline.parent_count, err);
    pipeline.parent_paths = parent_paths;

    json_t *manifest = NULL;
    if (status == LDS_OK)
        status = (options->pipeline_run ? options->pipeline_run : lds_pipeline_run)(
            &pipeline, (const char *const *)paths, count, out_dir, &manifest, err);
    lds_watchdog_hold(run->watchdog); /* finished in time: publishing is not cut short */
    json_t *outputs = json_object();
    if (status == LDS_OK) {
        progress_cb(run, "publish", 0.99);
        status = store_outputs(options, out_dir, outputs, err);
    }
    pthread_mutex_lock(&run->lock);
    int handed_back = run->handed_back;
    pthread_mutex_unlock(&run->lock);
    /* Indexed before it is published: lookups only keep ready assets, and a re-run adds it again. */
    const char *shape = json_string_value(json_object_get(json_object_get(manifest, "fingerprint"), "shape"));
    if (status == LDS_OK && !handed_back && shape && *shape)
        status = lds_shape_index_add(run->redis, job->asset_id, shape, err);
    if (status == LDS_OK && !handed_back) { /* the first score: a failure leaves it for the next event */
        lds_error value_err;
        lds_error_clear(&value_err);
        if (lds_valuation_publish(run->redis, job->asset_id, manifest, &value_err) != LDS_OK)
            lds_log_warn("worker: valuation of %s: %s", job->asset_id, value_err.message);
    }
    if (status == LDS_OK && !handed_back)
        status = lds_assets_publish(run->redis, job->asset_id, job->id, manifest, outputs, err);
    if (status == LDS_OK && !handed_back) {
        lds_error index_err;
        lds_error_clear(&index_err);
        if (lds_catalogue_index(run->redis, options->blob_root, job->asset_id, &index_err) != LDS_OK)
            lds_log_warn("worker: asset %s is ready but not in the catalogue: %s (lodestone catalogue reindex)",
                         job->asset_id, index_err.message);
    }
    if (status == LDS_OK && !handed_back)
        lds_queue_record_durations(run->redis, json_object_get(manifest, "timings_ms"), lds_time_ms() - run->started_ms,
                                   NULL);
    json_decref(outputs);
    json_decref(manifest);
    for (size_t i = 0; i < count; i++)
        free(paths[i]);
    free(paths);
    return status;
}

static void process(job_run *run, lds_error *loop_err)
{
    const lds_worker_options *options = run->options;
    const lds_job *job = &run->claim.job;
    lds_error err;
    lds_error_clear(&err);
    json_t *record = NULL;
    lds_status status = lds_assets_get(run->redis, job->asset_id, &record, &err);
    if (status == LDS_ENOENT) {
        lds_log_warn("worker: job %s names asset %s, which does not exist; dropped", job->id, job->asset_id);
        lds_queue_ack(run->redis, &run->claim, NULL);
        return;
    }
    if (status != LDS_OK) {
        lds_error_set(loop_err, status, "%s", err.message);
        return; /* Redis trouble: the job is reclaimed later */
    }
    lds_redis_reply *done = NULL;
    if (lds_redis_command(run->redis, &done, NULL, "HGET lds:asset:%s done_job", job->asset_id) == LDS_OK &&
        lds_redis_reply_str(done) && strcmp(lds_redis_reply_str(done), job->id) == 0) {
        lds_log_info("worker: job %s was already published; acknowledging", job->id);
        lds_redis_reply_free(done);
        json_decref(record);
        lds_queue_ack(run->redis, &run->claim, NULL);
        return;
    }
    lds_redis_reply_free(done);
    if (job->kind == LDS_JOB_UPLOAD)
        lds_assets_set_status(run->redis, job->asset_id, "processing", NULL, NULL);
    else
        set_reprocess(run->redis, job, "processing", NULL);

    pthread_t beat;
    run->finished = 0;
    run->handed_back = 0;
    run->last_stage[0] = 0;
    run->last_progress_ms = 0;
    int beating = pthread_create(&beat, NULL, heartbeat_main, run) == 0;

    char base[PATH_MAX / 2], scratch[PATH_MAX];
    if (options->scratch_dir)
        snprintf(base, sizeof(base), "%s", options->scratch_dir);
    else
        snprintf(base, sizeof(base), "%s/tmp", lds_home_dir());
    snprintf(scratch, sizeof(scratch), "%s/%s-%d", base, job->id, (int)getpid());
    double started = lds_time_ms();
    run->started_ms = started;
    run->scratch = scratch;
    run->watchdog = NULL;
    if (run->budget_ms)
        status = lds_watchdog_start(run->budget_ms, job_budget_expired, run, &run->watchdog, &err);
    if (status == LDS_OK)
        status = run_pipeline(run, record, scratch, &err);
    lds_watchdog_stop(run->watchdog);
    run->watchdog = NULL;
    run->scratch = NULL;
    remove_tree(scratch);
    if (status != LDS_OK)
        strip_scratch(err.message, scratch);
    char model_name[256];
    const char *first_name = json_string_value(json_object_get(json_array_get(json_object_get(record, "files"), 0), "name"));
    snprintf(model_name, sizeof(model_name), "%s", first_name ? first_name : job->asset_id);
    json_decref(record);

    if (beating) {
        pthread_mutex_lock(&run->lock);
        run->finished = 1;
        pthread_cond_signal(&run->cond);
        pthread_mutex_unlock(&run->lock);
        pthread_join(beat, NULL);
    }
    if (run->handed_back)
        return;
    if (status == LDS_OK) {
        lds_error ack_err;
        lds_error_clear(&ack_err);
        if (lds_queue_ack(run->redis, &run->claim, &ack_err) != LDS_OK)
            lds_log_warn("worker: ack of job %s: %s (it will be re-run and found published)", job->id,
                         ack_err.message);
        if (job->kind == LDS_JOB_REPROCESS)
            set_reprocess(run->redis, job, "done", NULL);
        lds_log_info("worker: job %s (asset %s) done in %.0f ms", job->id, job->asset_id, lds_time_ms() - started);
        return;
    }
    int permanent = permanent_failure(status);
    lds_log_warn("worker: job %s (asset %s) attempt %u failed: %s", job->id, job->asset_id, job->attempt + 1,
                 err.message);
    int dead = 0;
    lds_error fail_err;
    lds_error_clear(&fail_err);
    if (permanent) {
        /* The upload itself is bad: the modeler is told, ops are not paged. */
        dead = 1;
        if (lds_queue_ack(run->redis, &run->claim, &fail_err) != LDS_OK)
            lds_log_warn("worker: %s", fail_err.message);
        lds_redis_command(run->redis, NULL, NULL, "HINCRBY lds:{q}:stats failed 1");
    } else if (lds_queue_fail(run->redis, &options->queue, &run->claim, &err, 0, &dead, NULL, &fail_err) != LDS_OK) {
        lds_log_warn("worker: %s (the job will be reclaimed)", fail_err.message);
        return;
    }
    /* The record is read by the uploader: a bad upload's reason is theirs (it names their file),
     * but the service's own trouble (I/O, a missing blob, Redis) names server paths and is for
     * ops, who have it in the log and the dead letter. */
    lds_error shown;
    lds_error_clear(&shown);
    if (service_trouble(err.code))
        lds_error_set(&shown, err.code, "%s: the service could not process this upload (%s); the operators have "
                                        "the details", model_name, lds_status_message(err.code));
    else
        shown = err;
    if (job->kind == LDS_JOB_UPLOAD)
        lds_assets_set_status(run->redis, job->asset_id, dead ? "failed" : "queued", &shown, NULL);
    else
        set_reprocess(run->redis, job, dead ? "failed" : "retrying", &shown);
}

lds_status lds_worker_run(const lds_worker_options *options, volatile sig_atomic_t *stop, lds_error *err)
{
    job_run run;
    memset(&run, 0, sizeof(run));
    run.options = options;
    run.stop = stop;
    pthread_mutex_init(&run.lock, NULL);
    pthread_cond_init(&run.cond, NULL);
    /* A malformed LODESTONE_MAX_* stops the worker here, not every job it would take. */
    lds_limits limits;
    lds_status status = lds_limits_from_env(&limits, err);
    run.budget_ms = 1000ull * (options->pipeline ? options->pipeline->job_seconds : limits.job_seconds);
    if (status == LDS_OK)
        status = lds_redis_connect(options->redis_url, &run.redis, err);
    if (status == LDS_OK)
        status = lds_redis_connect(options->redis_url, &run.beat, err);
    /* Usage events are applied by a thread of every worker process (valuation_store.c). */
    lds_valuation_aggregator *aggregator = NULL;
    if (status == LDS_OK)
        status = lds_valuation_aggregator_start(options->redis_url, stop, &aggregator, err);
    char consumer[128], host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    snprintf(consumer, sizeof(consumer), "%s-%d", options->name ? options->name : host, (int)getpid());
    size_t jobs = 0;
    double last_prune = 0;
    while (status == LDS_OK && !*stop && (options->max_jobs == 0 || jobs < options->max_jobs)) {
        lds_error inner;
        lds_error_clear(&inner);
        lds_queue_promote(run.redis, NULL, NULL);
        if (lds_time_ms() - last_prune > 60000.0) { /* forget workers gone for 10 minutes */
            lds_queue_prune_consumers(run.redis, 600000, NULL, NULL);
            last_prune = lds_time_ms();
        }
        int claimed = 0;
        lds_status st = lds_queue_claim(run.redis, &options->queue, consumer, 1000, &run.claim, &claimed, &inner);
        if (st != LDS_OK) {
            lds_log_warn("worker %s: %s; retrying", consumer, inner.message);
            lds_sleep_ms(1000);
            continue;
        }
        if (!claimed)
            continue;
        if (*stop) { /* the stop came while we waited for this job: it goes back at once */
            lds_queue_release(run.redis, &run.claim, NULL);
            break;
        }
        lds_log_info("worker %s: job %s (asset %s, %s, attempt %u%s)", consumer, run.claim.job.id,
                     run.claim.job.asset_id, run.claim.job.kind == LDS_JOB_REPROCESS ? "reprocess" : "upload",
                     run.claim.job.attempt + 1, run.claim.reclaimed ? ", reclaimed" : "");
        process(&run, &inner);
        if (inner.code != LDS_OK)
            lds_log_warn("worker %s: %s", consumer, inner.message);
        jobs++;
    }
    lds_valuation_aggregator_join(aggregator);
    lds_redis_close(run.redis);
    lds_redis_close(run.beat);
    pthread_mutex_destroy(&run.lock);
    pthread_cond_destroy(&run.cond);
    return status;
}

/* ---- the process pool ---- */

static volatile sig_atomic_t child_stop;

static void on_child_signal(int sig)
{
    child_stop = 1;
}

void lds_service_options_init(lds_service_options *options)
{
    memset(options, 0, sizeof(*options));
    lds_worker_options_init(&options->worker);
    lds_notary_service_options_init(&options->notary);
    lds_error ignored; /* `serve` reads the variables strictly itself */
    lds_error_clear(&ignored);
    if (lds_recovery_options_from_env(&options->recovery, &ignored) != LDS_OK)
        lds_recovery_options_from_env(&options->recovery, NULL);
    options->worker_count = 2;
}

enum { CHILD_WORKER, CHILD_NOTARY, CHILD_RECOVERY };
static const char *const child_names[] = {"worker", "notary", "recovery"};

/* The child dies with its parent (the pool, which dies with `serve`): no orphan keeps working on
 * the queue or the log after the process that supervises it is gone. */
void lds_service_die_with_parent(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) /* the parent died before prctl */
        raise(SIGTERM);
}

/* Returns the child's pid or -1. */
static pid_t spawn_child(const lds_service_options *options, int kind)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_child_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    child_stop = 0;
    lds_service_die_with_parent(parent);
    lds_error err;
    lds_error_clear(&err);
    lds_status status = kind == CHILD_NOTARY     ? lds_notary_service_run(&options->notary, &child_stop, &err)
                        : kind == CHILD_RECOVERY ? lds_recovery_run(&options->recovery, &child_stop, &err)
                                                 : lds_worker_run(&options->worker, &child_stop, &err);
    if (status != LDS_OK)
        lds_log_error("%s %d: %s", child_names[kind], (int)getpid(), err.message);
    _exit(status == LDS_OK ? 0 : 1);
}

lds_status lds_service_run(const lds_service_options *options, volatile sig_atomic_t *stop, lds_error *err)
{
    size_t count = options->worker_count + (options->run_notary ? 1 : 0) + (options->run_recovery ? 1 : 0);
    if (options->worker_count + (options->run_notary ? 1 : 0) == 0)
        return lds_error_set(err, LDS_EINVAL, "service: nothing to run (no workers, no notary)");
    pid_t *pids = calloc(count, sizeof(pid_t));
    double *started = calloc(count, sizeof(double));
    double *backoff = calloc(count, sizeof(double));
    if (pids == NULL || started == NULL || backoff == NULL) {
        free(pids);
        free(started);
        free(backoff);
        return lds_error_set(err, LDS_ENOMEM, "service: out of memory");
    }
    lds_status status = LDS_OK;
    while (!*stop) {
        for (size_t i = 0; i < count; i++) {
            if (pids[i] > 0)
                continue;
            int kind = i < options->worker_count                              ? CHILD_WORKER
                       : options->run_notary && i == options->worker_count ? CHILD_NOTARY
                                                                            : CHILD_RECOVERY;
            /* A child that keeps dying is restarted after a doubling delay (1 s to 30 s). */
            if (started[i] > 0 && lds_time_ms() - started[i] < backoff[i])
                continue;
            pids[i] = spawn_child(options, kind);
            started[i] = lds_time_ms();
            if (pids[i] < 0) {
                lds_log_error("service: fork: %s", strerror(errno));
                pids[i] = 0;
            } else {
                lds_log_info("service: %s %d started", child_names[kind], (int)pids[i]);
            }
        }
        int st;
        pid_t dead = waitpid(-1, &st, WNOHANG);
        if (dead > 0) {
            for (size_t i = 0; i < count; i++)
                if (pids[i] == dead) {
                    pids[i] = 0;
                    /* a child that ran for a minute starts over at 1 s */
                    backoff[i] = lds_time_ms() - started[i] > 60000.0 ? 1000.0
                                 : backoff[i] < 1000.0               ? 1000.0
                                                                     : (backoff[i] * 2 > 30000.0 ? 30000.0 : backoff[i] * 2);
                    if (!*stop)
                        lds_log_warn("service: process %d %s %d; restarting", (int)dead,
                                     WIFSIGNALED(st) ? "killed by signal" : "exited with",
                                     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                }
            continue;
        }
        lds_sleep_ms(100);
    }
    free(backoff);
    /* Workers first, the notary after them: a worker that finishes its job in the grace period
     * still waits for its certificate, which a notary stopped at the same time never sends. */
    for (int phase = 0; phase < 2; phase++) {
        size_t first = phase == 0 ? 0 : options->worker_count, end = phase == 0 ? options->worker_count : count;
        /* phase 1: the notary and the recovery process */
        for (size_t i = first; i < end; i++)
            if (pids[i] > 0)
                kill(pids[i], SIGTERM);
        double deadline = lds_time_ms() + (phase == 0 ? options->worker.grace_ms : 0) + 5000.0;
        for (;;) {
            size_t alive = 0;
            for (size_t i = first; i < end; i++) {
                if (pids[i] <= 0)
                    continue;
                if (waitpid(pids[i], NULL, WNOHANG) == pids[i])
                    pids[i] = 0;
                else
                    alive++;
            }
            if (alive == 0)
                break;
            if (lds_time_ms() > deadline) {
                for (size_t i = first; i < end; i++)
                    if (pids[i] > 0) {
                        lds_log_warn("service: process %d did not stop; killing it", (int)pids[i]);
                        kill(pids[i], SIGKILL);
                        waitpid(pids[i], NULL, 0);
                        pids[i] = 0;
                    }
                break;
            }
            lds_sleep_ms(50);
        }
    }
    free(pids);
    free(started);
    return status;
}
