/*
 * ingest.h: the pipeline of one model (DESIGN.md section 4), and (below) the job queue on Redis,
 * workers, archive deposits and reprocessing.
 */
#ifndef LDS_INGEST_H
#define LDS_INGEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common.h"
#include "mesh.h"
#include "sandbox.h"
#include "valuation.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LDS_PIPELINE_VERSION "lodestone-pipeline/1"
#define LDS_PIPELINE_MAX_LODS 16
#define LDS_PIPELINE_MAX_FILES 64 /* a model and its sidecars */

/* Issues the certificate for a statement (offline: the notary in-process; service: through the
 * notary stream). Returns the bundle JSON (caller frees) and its log index. */
typedef lds_status (*lds_pipeline_certify_fn)(void *ctx, const char *statement_json, size_t statement_size,
                                              char **bundle_json, uint64_t *log_index, lds_error *err);
/* Called at each stage with the overall fraction done in 0..1. */
typedef void (*lds_pipeline_progress_fn)(void *ctx, const char *stage, double fraction);

/* One stored shape that matches the shape being processed (lds_pipeline_similar_fn, the shape
 * index below). Strings are truncated to fit. */
typedef struct lds_shape_match {
    char asset[128]; /* asset id (service) or name (offline index) */
    char title[128]; /* may be empty */
    char owner[128]; /* its owner: API key id (service) or metadata owner (offline); may be empty */
    double similarity; /* as lds_mesh_shape_compare */
    int match;         /* lds_mesh_shape_compare's verdict */
} lds_shape_match;
/* Finds stored shapes matching fingerprint: at most max into matches, most similar first, only
 * those whose compare verdict is a match. */
typedef lds_status (*lds_pipeline_similar_fn)(void *ctx, const char *shape_fingerprint, lds_shape_match *matches,
                                              size_t max, size_t *count, lds_error *err);

typedef struct lds_pipeline_options {
    double lod_fractions[LDS_PIPELINE_MAX_LODS]; /* of LOD0's triangles; default 0.5 .25 .125 .0625 */
    size_t lod_count;
    lds_mesh_chain_options chain; /* the chain policy: error budget, sloppy clustering (zero: defaults) */
    int texture_lods;             /* resize each level's textures to its coverage (default 1) */
    int generate_normals;         /* give a model without normals generated ones (default 1) */
    int draco, meshopt; /* encode these besides plain GLB (default both) */
    lds_mesh_quantization quantization;
    int use_sandbox; /* default 1 */
    int thumbnail_size; /* turntable thumbnails of LOD0, this many pixels square; 0: none (default 512) */
    lds_sandbox_limits limits;
    /* Wall-clock budget of the whole run (0: none; lds_pipeline_limits_from_env sets
     * LODESTONE_MAX_JOB_SECONDS). The pipeline does not enforce it: its callers run an
     * lds_watchdog with it (`lodestone process`, the worker), since a stuck stage cannot be asked. */
    unsigned job_seconds;
    /* metadata (all may be NULL) */
    const char *title, *owner, *license, *category, *description;
    const char *claimed_owner; /* a display name the uploader typed when owner is their account */
    const char *tags; /* separated by ';' or ',' */
    const char *source_kind, *accession, *capture_method;
    const char *const *parent_paths; /* parent certificate files (--parent) */
    size_t parent_count;
    const char *time; /* RFC 3339 deposit time; NULL: now */
    const char *previous_certificate_path; /* reprocessing */
    /* certification; NULL certify means no certificate (manifest "certificate": null) */
    lds_pipeline_certify_fn certify;
    void *certify_ctx;
    lds_pipeline_progress_fn progress;
    void *progress_ctx;
    /* duplicate detection: after fingerprinting, each match returned by similar whose owner is not
     * similar_owner (NULL: owner; NULL and "" are the same) becomes a possible_duplicate warning in
     * the report. NULL similar: no lookup. An error from it fails the run. */
    lds_pipeline_similar_fn similar;
    void *similar_ctx;
    const char *similar_owner;
} lds_pipeline_options;

/* Fills the defaults above. */
void lds_pipeline_options_init(lds_pipeline_options *options);
/* Sets options->limits from the environment (LODESTONE_MAX_TRIANGLES, _PARSE_MEMORY, _PARSE_SECONDS,
 * ...: common's lds_limits_from_env); a malformed value is an error naming the variable. */
lds_status lds_pipeline_limits_from_env(lds_pipeline_options *options, lds_error *err);

/* Runs the whole pipeline on files[0] (the model; further files are sidecars that must sit in its
 * directory) and writes out_dir/manifest.json, the LOD files and certificate.json. On success
 * *manifest (may be NULL) receives the manifest (caller json_decref's it). Errors name the file. */
lds_status lds_pipeline_run(const lds_pipeline_options *options, const char *const *files, size_t file_count,
                            const char *out_dir, json_t **manifest, lds_error *err);

/* Texture LODs of one pipeline run (texture_lod.c): each level's textures resized so that texel
 * density follows the level's screen coverage (lds_mesh_texture_lod_size), filtered in the colour
 * space of their slot (normal maps renormalised), re-encoded in their own format; decoding and
 * encoding run sandboxed (lds_sandbox_run_work). A size is made once and shared by the levels that
 * need it. Not thread-safe. */
typedef struct lds_texture_lods lds_texture_lods;
/* lod0 must outlive the object and keep its textures. */
lds_status lds_texture_lods_create(const lds_mesh_model *lod0, const lds_sandbox_limits *limits, int use_sandbox,
                                   lds_texture_lods **out, lds_error *err);
void lds_texture_lods_destroy(lds_texture_lods *t);
/* Replaces level's textures (copies of LOD0's, same indices) with their sizes for coverage. A
 * texture that cannot be re-encoded, or whose smaller version would not be smaller in bytes,
 * keeps LOD0's bytes (logged). *bytes receives the level's total texture bytes. */
lds_status lds_texture_lods_apply(lds_texture_lods *t, lds_mesh_model *level, double coverage, uint64_t *bytes,
                                  lds_error *err);
/* Total encoded texture bytes of a model. */
uint64_t lds_texture_bytes(const lds_mesh_model *model);

/* Parses "0.5,0.25" into options->lod_fractions (each in (0,1), strictly falling). */
lds_status lds_pipeline_parse_lods(lds_pipeline_options *options, const char *text, lds_error *err);

/* ------------------------------------------------------------------------------------------------
 * Archive deposits (archive.c, archive_manifest.c; added by the sandbox branch, issue 5)
 *
 * An archive (zip, tar, tar.gz, tar.zst, 7z) is walked as a stream: members are handed to a sink
 * as bytes, never extracted by name. Members with absolute paths, "..", links, devices or fifos,
 * names that are not UTF-8 or too long, encrypted members and duplicate names refuse the whole
 * archive; so does crossing a limit (member count, expanded bytes, per-member compression ratio),
 * at the moment it is crossed. A root manifest.csv or manifest.json maps model files to metadata.
 * --------------------------------------------------------------------------------------------- */

/* Metadata of one model. Every string is owned and may be NULL (not given). */
typedef struct lds_manifest_entry {
    char *file; /* member path of the model, normalised ("scans/bust.ply") */
    char *title, *license, *owner, *accession, *capture_method;
    char **tags; /* owned strings */
    size_t tag_count;
} lds_manifest_entry;

typedef struct lds_manifest {
    lds_manifest_entry *entries;
    size_t entry_count;
    char **warnings; /* unknown columns or keys (owned) */
    size_t warning_count;
} lds_manifest;

/* Parses a manifest with columns file,title,license,owner,accession,capture_method,tags (any order,
 * header row required, RFC 4180 quoting, tags separated by ';'). name is used in errors ("manifest.csv:
 * row 3: ..."). At most max_entries rows (0: 10000). On error *out is left empty. */
lds_status lds_manifest_parse_csv(const char *name, const char *data, size_t size, size_t max_entries,
                                  lds_manifest *out, lds_error *err);
/* Same from JSON: [{"file": ..., "title": ..., "tags": ["a", "b"] or "a;b"}, ...]. */
lds_status lds_manifest_parse_json(const char *name, const char *data, size_t size, size_t max_entries,
                                   lds_manifest *out, lds_error *err);
void lds_manifest_entry_cleanup(lds_manifest_entry *entry);
void lds_manifest_cleanup(lds_manifest *manifest);

/* Normalises an archive member name: drops "." and empty components; refuses (returns LDS_EPERM
 * with *why set) absolute paths, "..", backslashes, control characters, invalid UTF-8 and names
 * longer than max_length bytes. out gets the normalised path ("" for the root). */
lds_status lds_archive_check_path(const char *name, size_t max_length, char *out, size_t out_size, const char **why);

/* Where accepted members go. begin() starts a member at its normalised path, write() gets its
 * bytes in order, end() closes it: ok=1 complete, ok=0 discard it (the walk failed mid-member).
 * After a failed walk the caller discards what the sink kept. */
typedef struct lds_archive_sink {
    void *ctx;
    lds_status (*begin)(void *ctx, const char *path, lds_error *err);
    lds_status (*write)(void *ctx, const void *data, size_t size, lds_error *err);
    lds_status (*end)(void *ctx, int ok, lds_error *err);
} lds_archive_sink;

/* One model of the deposit with its sidecars (files in its directory or below that the model may
 * refer to: .mtl, .bin, textures) and its metadata (from the manifest, else defaults). */
typedef struct lds_archive_item {
    char *file;       /* the model member (owned) */
    char **sidecars;  /* owned */
    size_t sidecar_count;
    lds_manifest_entry meta; /* meta.file == file; title defaults to the file name without extension */
    int in_manifest;
} lds_archive_item;

typedef struct lds_archive_result {
    lds_archive_item *items; /* sorted by file */
    size_t item_count;
    char **warnings; /* "scans/x.ply: not in the manifest; default metadata", ... (owned) */
    size_t warning_count;
    uint64_t member_count, expanded_bytes;
} lds_archive_result;

/* Walks the archive at path (name in errors: its base name) under limits (NULL: defaults), giving
 * each accepted member to sink (may be NULL: only check and list), and fills *result (the caller
 * calls lds_archive_result_cleanup, also after a failure). */
lds_status lds_archive_walk(const char *path, const lds_limits *limits, const lds_archive_sink *sink,
                            lds_archive_result *result, lds_error *err);
/* Same from memory; name is used in errors. */
lds_status lds_archive_walk_memory(const char *name, const void *data, size_t size, const lds_limits *limits,
                                   const lds_archive_sink *sink, lds_archive_result *result, lds_error *err);
void lds_archive_result_cleanup(lds_archive_result *result);

/* A sink writing members under an existing directory: subdirectories created as needed, never
 * following a symlink, never overwriting a file. */
typedef struct lds_archive_dir_sink {
    int root_fd, dir_fd, file_fd;
    char name[256];
} lds_archive_dir_sink;
lds_status lds_archive_dir_sink_init(lds_archive_dir_sink *ds, const char *dir, lds_error *err);
lds_archive_sink lds_archive_dir_sink_get(lds_archive_dir_sink *ds);
void lds_archive_dir_sink_cleanup(lds_archive_dir_sink *ds);

/* ==== Service (issue 4): asset records, the job queue, workers, the notary service,
 * reprocessing. ingest/assets.c, queue.c, worker.c, notary_service.c, reprocess.c.
 *
 * Redis keys (DESIGN.md 6.5; the queue's keys share the hash tag {q}, the notary's {n}):
 *   lds:asset:<id>            hash: the asset record (fields below)
 *   lds:assets                zset: every asset id, scored by acceptance time (ms)
 *   lds:owner:<key>           zset: the asset ids an uploader (owner_key) submitted, same scores
 *   lds:{q}:jobs:high / :low  streams of Job messages (proto/jobs.proto), consumer group "workers";
 *                             uploads go high, reprocessing low; workers read high first
 *   lds:{q}:delayed           zset: jobs waiting for a retry, scored by due time (ms)
 *   lds:{q}:dead              stream: jobs out of attempts, with their last error
 *   lds:{q}:stats             hash: counters (enqueued, completed, retried, dead, failed, reclaimed)
 *   lds:{n}:requests          stream of certificate requests, group "notary"
 *   lds:{n}:reply:<request>   list: the notary's reply (BLPOP by the waiting worker)
 *   lds:{n}:lease, lds:{n}:fence   the notary's lease and fencing counter
 *
 * Threading: every call takes an lds_redis connection, which is not thread-safe: use one per
 * thread (an HTTP server: one per handler thread, or a pool). Nothing here keeps a pointer to its
 * arguments past the call. Returned json_t objects belong to the caller (json_decref). */

#define LDS_ID_MAX 48 /* asset and job ids: 32 hex digits and a prefix, NUL included */

/* A fresh random id: prefix ("a_" assets, "j_" jobs) and 32 hex digits. Thread-safe. */
void lds_ingest_new_id(const char *prefix, char *out, size_t out_size);

/* ---- asset records ---- */

/* One original file of an upload, already in the blob store (lds_blob_put_*, compressed). */
typedef struct lds_asset_file {
    const char *name;    /* base name as uploaded, e.g. "bust.obj"; a sidecar of a deposit may be a
                          * normalised relative path below the model's directory ("textures/a.png";
                          * see lds_assets_file_name_valid) */
    const char *blob_id; /* sha256 hex */
    uint64_t bytes;      /* uncompressed size */
} lds_asset_file;

typedef struct lds_asset_submission {
    const lds_asset_file *files; /* files[0] is the model, the rest its sidecars (.mtl, .bin, textures) */
    size_t file_count;
    /* Optional string members: title, owner, license, category, description, tags ("a;b"),
     * source_kind ("upload" default, or "deposit"), accession, capture_method. Borrowed. */
    json_t *metadata;
    const char *owner_key; /* who uploaded (API key id, or NULL); modelers see their own assets */
    /* The account of that key (its name): the owner certificates state. NULL: none (CLI, tests);
     * the metadata's owner is then stated as the owner. */
    const char *owner_account;
    /* Idempotency (both or neither): a client's key, already scoped to its API key (the caller
     * builds "<owner_key>:<sha256 of the header>"), and a digest of the request. A second write
     * with the same key and digest answers the first one's ids and writes nothing; the same key
     * with another digest is LDS_EEXIST. Mappings expire after LDS_ASSETS_IDEMPOTENCY_TTL_MS. */
    const char *idempotency_key;
    const char *request_digest;
    /* Ids chosen beforehand (a deposit's plan), NULL: new ones. A record that exists under
     * asset_id is not written again. */
    const char *asset_id, *job_id;
} lds_asset_submission;

#define LDS_ASSETS_IDEMPOTENCY_PREFIX "lds:idem:"
#define LDS_ASSETS_IDEMPOTENCY_TTL_MS (7 * 24 * 3600 * 1000LL)

/* Checks the files of an upload before anything is stored: each name valid
 * (lds_assets_file_name_valid) and given once. LDS_EINVAL naming the file otherwise. */
lds_status lds_assets_validate(const lds_asset_file *files, size_t count, lds_error *err);
/* The first half of lds_assets_submit: validates, then writes the record (status "queued"), its
 * index entries and the idempotency mapping in one step, marking it unqueued (lds:assets:unqueued)
 * until lds_assets_record_enqueue. *replayed (may be NULL) is 1 when nothing was written because
 * the same asset id or idempotency key was written before (the ids are then the earlier ones). */
lds_status lds_assets_record_write(lds_redis *redis, const lds_asset_submission *submission, char *asset_id,
                                   char *job_id, int *replayed, lds_error *err);
/* The second half: enqueues the job of a record marked unqueued and unmarks it; does nothing for
 * a record whose job was enqueued already. *enqueued (may be NULL) is 1 when it enqueued. */
lds_status lds_assets_record_enqueue(lds_redis *redis, const char *asset_id, int *enqueued, lds_error *err);
/* The recovery sweep: enqueues the job of every record marked unqueued for over grace_ms (its
 * writer crashed between record and job). *requeued counts them. */
lds_status lds_assets_sweep(lds_redis *redis, int64_t grace_ms, size_t *requeued, lds_error *err);

#define LDS_ASSET_FILE_NAME_MAX 1024
/* True when name is a normalised relative path (no "..", ".", empty component, leading '/',
 * backslash or control character; valid UTF-8; under LDS_ASSET_FILE_NAME_MAX bytes). */
int lds_assets_file_name_valid(const char *name);

/* Accepts an upload: writes the record (status "queued") and enqueues its job at high priority.
 * Durable on return (the blobs must have been stored already; the record and the job are in a
 * Redis with AOF). Fills asset_id and job_id (LDS_ID_MAX bytes each). */
lds_status lds_assets_submit(lds_redis *redis, const lds_asset_submission *submission, char *asset_id,
                             char *job_id, lds_error *err);
/* Convenience for the CLI and tests: stores the files (compressed) in the blob store at blob_root
 * (NULL: home/blobs), then lds_assets_submit. */
lds_status lds_assets_submit_paths(lds_redis *redis, const char *blob_root, const char *const *paths, size_t count,
                                   json_t *metadata, const char *owner_key, char *asset_id, char *job_id,
                                   lds_error *err);

/* Reads the record as JSON: {"id", "status": "queued|processing|ready|failed", "progress": {"stage",
 * "fraction"}, "manifest": {...}|null, "error": {"code", "message"}|null, "metadata", "files":
 * [{"name", "sha256", "bytes"}], "owner_key", "accepted", "updated", "job", "version",
 * "outputs": {"lod0.glb": "<blob id>", ...}, "certificate": {"blob", "log_index"}|null,
 * "reprocess": {"status", "job", "error"}|absent}. LDS_ENOENT when there is no such asset. */
lds_status lds_assets_get(lds_redis *redis, const char *asset_id, json_t **record, lds_error *err);
/* Reads only the named fields of the record (at most 32; JSON fields parsed as in
 * lds_assets_get, absent ones left out): the cheap read of hot paths such as file serving, which
 * needs "status", "owner_key" and "outputs" but not the manifest. LDS_ENOENT when there is no
 * such asset (none of the fields exists). */
lds_status lds_assets_get_fields(lds_redis *redis, const char *asset_id, const char *const *fields, size_t count,
                                 json_t **record, lds_error *err);
/* The blob id of one output file of a ready asset ("lod0.draco.glb", "certificate.json", as named
 * in the manifest); LDS_ENOENT when the asset or the file does not exist. Serve it with
 * lds_blob_locate (outputs are stored uncompressed). */
lds_status lds_assets_output(lds_redis *redis, const char *asset_id, const char *name, char blob_id[LDS_SHA256_HEX],
                             lds_error *err);
/* Asset ids, newest first: all of them (owner_key NULL) or one uploader's; *ids is a JSON array
 * of strings, *total (may be NULL) the count before offset/limit. */
lds_status lds_assets_list(lds_redis *redis, const char *owner_key, size_t offset, size_t limit, json_t **ids,
                           size_t *total, lds_error *err);
/* Record updates used by the worker. error may be NULL. */
lds_status lds_assets_set_status(lds_redis *redis, const char *asset_id, const char *status, const lds_error *error,
                                 lds_error *err);
lds_status lds_assets_set_progress(lds_redis *redis, const char *asset_id, const char *stage, double fraction,
                                   lds_error *err);
/* Publishes a finished job in one atomic record update: manifest, outputs (name -> blob id),
 * certificate, status "ready", done job id. The previous outputs' blobs stay in the store. */
lds_status lds_assets_publish(lds_redis *redis, const char *asset_id, const char *job_id, json_t *manifest,
                              json_t *outputs, lds_error *err);

/* ---- the job queue ---- */

typedef enum lds_job_kind { LDS_JOB_UPLOAD = 0, LDS_JOB_REPROCESS = 1 } lds_job_kind;
typedef enum lds_queue_priority { LDS_QUEUE_HIGH = 0, LDS_QUEUE_LOW = 1 } lds_queue_priority;

typedef struct lds_job {
    char id[LDS_ID_MAX];
    char asset_id[LDS_ID_MAX];
    lds_job_kind kind;
    lds_queue_priority priority;
    unsigned attempt;    /* 0 on the first run */
    int64_t enqueued_ms; /* wall clock */
    char time[40];       /* RFC 3339 certificate time, the same on every re-run */
    char last_error_code[24];
    char last_error[LDS_ERROR_MESSAGE_MAX];
} lds_job;

typedef struct lds_queue_config {
    int64_t visibility_ms;  /* a claimed job silent this long is reclaimed (default 60000) */
    unsigned max_attempts;  /* runs before the dead-letter stream (default 5) */
    int64_t backoff_ms;     /* delay before the first retry, doubling each time (default 2000) */
    int64_t backoff_max_ms; /* (default 300000) */
} lds_queue_config;

/* Defaults, overridden by LODESTONE_VISIBILITY_MS, LODESTONE_MAX_ATTEMPTS, LODESTONE_BACKOFF_MS. */
void lds_queue_config_init(lds_queue_config *config);

typedef struct lds_job_claim {
    lds_job job;
    char stream_id[48];  /* the entry in its stream */
    char consumer[128];  /* who holds it */
    unsigned deliveries; /* times delivered (>1 after a reclaim) */
    int reclaimed;       /* taken over from a consumer that went silent */
} lds_job_claim;

/* Creates the streams and consumer groups (idempotent; the other calls do it when needed). */
lds_status lds_queue_setup(lds_redis *redis, lds_error *err);
/* Adds job to its priority's stream. An empty job->id gets a fresh one, enqueued_ms is set. */
lds_status lds_queue_enqueue(lds_redis *redis, lds_job *job, lds_error *err);
/* Takes the next job for consumer: first one whose holder went silent for visibility_ms
 * (XAUTOCLAIM), then new ones, high priority first, blocking up to block_ms (0: do not block).
 * *claimed is 0 when there was none. Jobs delivered more than max_attempts times without an
 * answer (they crash their workers) go to the dead-letter stream instead. */
lds_status lds_queue_claim(lds_redis *redis, const lds_queue_config *config, const char *consumer, int block_ms,
                           lds_job_claim *claim, int *claimed, lds_error *err);
/* Resets the job's idle time so that it is not reclaimed; *owned (may be NULL) is 0 when another
 * consumer has taken it over meanwhile (the caller may finish, the results are idempotent). */
lds_status lds_queue_heartbeat(lds_redis *redis, const lds_job_claim *claim, int *owned, lds_error *err);
/* Done: acknowledges and deletes the entry. */
lds_status lds_queue_ack(lds_redis *redis, const lds_job_claim *claim, lds_error *err);
/* Failed: schedules a retry after the backoff (*retry_ms, may be NULL) or, after the last attempt
 * or with permanent set, moves it to the dead-letter stream with the error (*dead). */
lds_status lds_queue_fail(lds_redis *redis, const lds_queue_config *config, const lds_job_claim *claim,
                          const lds_error *error, int permanent, int *dead, int64_t *retry_ms, lds_error *err);
/* Hands the job back for another worker at once (SIGTERM), without counting an attempt. */
lds_status lds_queue_release(lds_redis *redis, const lds_job_claim *claim, lds_error *err);
/* Adds one finished job's stage durations (ms) to the totals that lds_queue_stats reports. */
lds_status lds_queue_record_durations(lds_redis *redis, json_t *timings_ms, double job_ms, lds_error *err);
/* Removes consumers of the group that hold nothing and were idle for idle_ms (dead workers). */
lds_status lds_queue_prune_consumers(lds_redis *redis, int64_t idle_ms, size_t *removed, lds_error *err);
/* Moves due jobs from the delayed set to their streams (any worker runs this). */
lds_status lds_queue_promote(lds_redis *redis, size_t *moved, lds_error *err);
/* {"streams": {"high": {"depth", "in_flight"}, "low": {...}}, "in_flight_total", "delayed", "dead",
 *  "consumers_busy", "counters": {"enqueued", "completed", "retried", "dead", "failed", "reclaimed",
 *  "released"}, "durations": {"<stage>": {"sum_ms", "count"}} (from the manifests' timings_ms and
 *  "job" for the whole job), "in_flight": [{"id", "priority", "job", "asset", "attempt", "consumer",
 *  "idle_ms", "deliveries"}]} (in_flight lists at most 100 per stream). For `queue` and /metrics. */
lds_status lds_queue_stats(lds_redis *redis, json_t **stats, lds_error *err);
/* Dead letters, oldest first: [{"id", "job", "asset", "kind", "attempts", "code", "message", "failed_at"}]. */
lds_status lds_queue_dead_list(lds_redis *redis, size_t limit, json_t **list, lds_error *err);
/* Re-enqueues (attempt 0) or deletes the dead letter whose entry id or job id is id, or all of
 * them when id is NULL; *count (may be NULL) receives how many. LDS_ENOENT when id matches none. */
lds_status lds_queue_dead_retry(lds_redis *redis, const char *id, size_t *count, lds_error *err);
lds_status lds_queue_dead_drop(lds_redis *redis, const char *id, size_t *count, lds_error *err);

/* ---- the notary service: the single writer of the transparency log ---- */

typedef struct lds_notary_service_options {
    const char *redis_url; /* NULL: lds_redis_connect's default */
    const char *home;      /* data directory for lds_notary_open (NULL: lds_home_dir()) */
    int64_t lease_ms;      /* lease length (default 10000, LODESTONE_NOTARY_LEASE_MS); renewed at a third */
    /* Certifies one statement; NULL: lds_notary_open(home) + lds_notary_certify. */
    lds_pipeline_certify_fn certify;
    void *certify_ctx;
} lds_notary_service_options;

void lds_notary_service_options_init(lds_notary_service_options *options);
/* Runs the notary until *stop: waits for the lease (SET NX PX), then serves lds:{n}:requests,
 * checking its fencing token against the lease before each append. Blocks. */
lds_status lds_notary_service_run(const lds_notary_service_options *options, volatile sig_atomic_t *stop,
                                  lds_error *err);
/* Client side: asks the notary to certify and waits up to timeout_ms for the bundle (caller frees
 * *bundle_json). Matches lds_pipeline_certify_fn when wrapped (ctx = the connection). */
lds_status lds_notary_request(lds_redis *redis, const char *statement_json, size_t statement_size, int timeout_ms,
                              char **bundle_json, uint64_t *log_index, lds_error *err);

/* ---- workers ---- */

typedef struct lds_worker_options {
    const char *redis_url;   /* NULL: lds_redis_connect's default */
    const char *blob_root;   /* NULL: home/blobs */
    const char *scratch_dir; /* NULL: home/tmp */
    const char *name;        /* consumer name prefix (NULL: hostname); pid is appended */
    lds_queue_config queue;
    int notary_timeout_ms;  /* default 120000 */
    int grace_ms;           /* after *stop, hand the current job back after this long (default 30000) */
    size_t max_jobs;        /* return after this many jobs (0: until *stop) */
    const lds_pipeline_options *pipeline; /* LODs, formats, limits (NULL: defaults) */
    /* The pipeline to run (NULL: lds_pipeline_run); same contract. Lets tests run the service
     * around a small deterministic stand-in. */
    lds_status (*pipeline_run)(const lds_pipeline_options *options, const char *const *files, size_t file_count,
                               const char *out_dir, json_t **manifest, lds_error *err);
} lds_worker_options;

void lds_worker_options_init(lds_worker_options *options);
/* The worker loop in this thread until *stop (or max_jobs): claim, run the pipeline, publish,
 * acknowledge; promotes due retries. Returns LDS_OK when stopped. */
lds_status lds_worker_run(const lds_worker_options *options, volatile sig_atomic_t *stop, lds_error *err);

/* ---- recovery after crashes: the sweep and blob collection (recovery.c) ---- */

typedef struct lds_recovery_options {
    const char *redis_url;     /* NULL: lds_redis_connect's default */
    const char *blob_root;     /* NULL: home/blobs */
    int64_t sweep_grace_ms;    /* markers older than this are finished (LODESTONE_SWEEP_GRACE_MS, 30000) */
    int64_t sweep_interval_ms; /* (LODESTONE_SWEEP_INTERVAL_MS, 15000) */
    int64_t blob_grace_ms;     /* unreferenced blobs older than this go (LODESTONE_BLOB_GRACE_MS, 24 h) */
    int64_t gc_interval_ms;    /* (LODESTONE_GC_INTERVAL_MS, 1 h; 0: never) */
} lds_recovery_options;

/* Defaults, then the variables above (a malformed one is LDS_EINVAL naming it). */
lds_status lds_recovery_options_from_env(lds_recovery_options *options, lds_error *err);
/* One sweep: lds_deposit_sweep, then lds_assets_sweep. */
lds_status lds_recovery_sweep(lds_redis *redis, int64_t grace_ms, size_t *requeued, size_t *finished, lds_error *err);

typedef struct lds_blob_gc_report {
    size_t named;   /* distinct blob ids records and plans name (with repeats) */
    size_t kept;    /* old enough but named */
    size_t young;   /* inside the grace period */
    size_t removed;
    uint64_t removed_bytes;
} lds_blob_gc_report;

/* Removes the blobs under blob_root (NULL: home/blobs) older than grace_ms that no asset record or
 * deposit plan names. A Redis error stops it before anything is removed. */
lds_status lds_blob_gc(lds_redis *redis, const char *blob_root, int64_t grace_ms, lds_blob_gc_report *report,
                       lds_error *err);
/* The pool's recovery process: a sweep at start and every sweep_interval_ms, blob collection
 * every gc_interval_ms, until *stop. Redis trouble is logged and retried. */
lds_status lds_recovery_run(const lds_recovery_options *options, volatile sig_atomic_t *stop, lds_error *err);

/* ---- the process pool: workers and the notary (`lodestone worker`, `lodestone serve`) ---- */

typedef struct lds_service_options {
    lds_worker_options worker;
    size_t worker_count; /* worker processes (default 2) */
    int run_notary;      /* also run a notary process (it stands by unless it gets the lease) */
    lds_notary_service_options notary;
    int run_recovery;    /* also run the recovery process (sweep, blob collection) */
    lds_recovery_options recovery;
} lds_service_options;

/* For a forked child: asks the kernel for SIGTERM when its parent dies (PR_SET_PDEATHSIG), and
 * raises it at once when parent is gone already. */
void lds_service_die_with_parent(pid_t parent);

void lds_service_options_init(lds_service_options *options);
/* Forks worker_count worker processes (and the notary), restarts any that dies, and on *stop sends
 * them SIGTERM, waits up to worker.grace_ms + 5 s, then SIGKILLs what is left. The children install
 * their own SIGTERM/SIGINT handlers. Blocks; call it from a single-threaded process. */
lds_status lds_service_run(const lds_service_options *options, volatile sig_atomic_t *stop, lds_error *err);

/* ---- the shape index (shape_store.c) ----
 *
 *   lds:shape:<bucket key>   set of asset ids whose shape fingerprint is stored under that key
 *                            (keys from lds_mesh_shape_bucket_keys, probe 0)
 *   lds:asset:<id> "shape"   the fingerprint, in the asset record
 * A lookup reads the sets of the query's probe keys (one SMEMBERS each, so that the sets may live in
 * different Cluster slots), then compares the fingerprint of each candidate that is ready. */

#define LDS_SHAPE_CANDIDATES_MAX 10000 /* candidates compared per lookup at most */

/* Stores asset_id's fingerprint in its record and adds the id to its bucket sets; a fingerprint
 * stored before under other keys is removed from them first. Idempotent. */
lds_status lds_shape_index_add(lds_redis *redis, const char *asset_id, const char *fingerprint, lds_error *err);
/* Ready assets sharing a bucket with fingerprint, most similar first, at most max into hits;
 * exclude_id (may be NULL) is left out; with near_too, candidates that are not a match are kept
 * too (match = 0). *candidates (may be NULL) receives how many were compared. */
lds_status lds_shape_index_lookup(lds_redis *redis, const char *fingerprint, const char *exclude_id, int near_too,
                                  lds_shape_match *hits, size_t max, size_t *count, size_t *candidates,
                                  lds_error *err);

/* ---- reprocessing ---- */

typedef struct lds_reprocess_selection {
    int all;
    const char *const *asset_ids;
    size_t asset_count;
    const char *older_than; /* pipeline version, e.g. "lodestone-pipeline/2": assets made by an older one */
} lds_reprocess_selection;

/* Enqueues a low-priority reprocess job for each selected asset that is ready (others are
 * skipped); *queued receives the count, *jobs (may be NULL) [{"asset", "job"}]. */
lds_status lds_reprocess_enqueue(lds_redis *redis, const lds_reprocess_selection *selection, size_t *queued,
                                 json_t **jobs, lds_error *err);

/* ---- archive deposits in the service (deposit.c; branch deposits, issue 5) ----
 *   lds:deposit:<id>  hash: id, name, owner_key, account, accepted, items (JSON [{"file", "asset"}]),
 *                     warnings (JSON [text]), plan (JSON [{"file", "asset", "job", "files",
 *                     "metadata"}]: written before any item, so a crash leaves a plan to finish)
 *   lds:deposits:unfinished  zset: deposits whose items are not all written (the sweep's work)
 *   lds:deposits      zset: every deposit id, scored by acceptance time (ms) */

typedef struct lds_deposit_request {
    const char *archive_path; /* the uploaded archive (a temp file) */
    const char *name;         /* its name as uploaded, used in errors and the record (NULL: base name) */
    const char *blob_root;    /* NULL: home/blobs */
    const char *scratch_dir;  /* members are staged here one at a time (NULL: home/tmp) */
    const lds_limits *limits; /* NULL: lds_limits_init defaults */
    const char *owner_key;    /* the depositor's key id: owner_key of every asset */
    const char *owner_account; /* the depositor's account: the stated owner of every asset */
    /* Idempotency, as in lds_asset_submission: the scoped key and a digest of the request. */
    const char *idempotency_key;
    const char *request_digest;
} lds_deposit_request;

/* Writes the items of a deposit's plan that are not written yet (each asset once, under the ids
 * the plan chose) and enqueues their jobs; then the deposit is finished (off
 * lds:deposits:unfinished). Idempotent. LDS_ENOENT for an unknown deposit. */
lds_status lds_deposit_finish(lds_redis *redis, const char *deposit_id, lds_error *err);
/* The recovery sweep for deposits: finishes every deposit unfinished for over grace_ms (its
 * writer crashed after the deposit record, before all its items). *finished counts them. */
lds_status lds_deposit_sweep(lds_redis *redis, int64_t grace_ms, size_t *finished, lds_error *err);
/* A retry of an earlier deposit (its Idempotency-Key matched): finishes it and fills *summary as
 * lds_deposit_create does. Caller decrefs. */
lds_status lds_deposit_replay(lds_redis *redis, const char *deposit_id, json_t **summary, lds_error *err);

void lds_deposit_request_init(lds_deposit_request *request);
/* Walks the archive once to check it (a refused archive writes nothing; the error names the
 * member and the reason: LDS_EPERM hostile member, LDS_ELIMIT over a limit, LDS_EFORMAT not an
 * archive or a bad manifest, LDS_ENOGEOM no model in it), then again storing the members that
 * belong to models in the blob store, submits one asset per model (metadata from the manifest,
 * source_kind "deposit", "deposit": id) and writes the deposit record. Fills deposit_id and
 * *summary (may be NULL): {"id", "name", "items": [{"file", "asset"}], "warnings": [...]}. */
lds_status lds_deposit_create(lds_redis *redis, const lds_deposit_request *request, char deposit_id[LDS_ID_MAX],
                              json_t **summary, lds_error *err);
/* {"id", "name", "owner_key", "accepted", "status": "processing|done|failed", "items": [{"file",
 * "asset", "status", "error": {"code", "message"}|null}], "counts": {"items", "ready", "failed",
 * "pending"}, "error": {"code", "message"}|null, "warnings"}. Status: processing while an item is
 * queued or processing, then failed when every item failed, else done (error says how many
 * failed). LDS_ENOENT when there is no such deposit. */
lds_status lds_deposit_get(lds_redis *redis, const char *deposit_id, json_t **deposit, lds_error *err);

/* ---- the catalogue (catalogue.c): an index of ready assets in Redis under lds:{cat}: ---- */

/* Whether an SPDX licence id is an open one (CC0, CC-BY*): open to every studio. */
int lds_catalogue_license_open(const char *license);
/* Indexes (or re-indexes) a ready asset: its catalogue item, filter sets, text-search words,
 * orders, certificate log index and the derivative links of its certificate's parents (read
 * from the blob store at blob_root, NULL: home/blobs). An asset that is not ready is left out. */
lds_status lds_catalogue_index(lds_redis *redis, const char *blob_root, const char *asset_id, lds_error *err);
/* Indexes every ready asset (after an upgrade); *indexed counts the assets looked at. */
lds_status lds_catalogue_reindex(lds_redis *redis, const char *blob_root, size_t *indexed, lds_error *err);
/* The score of sort=value (the valuation calls it when it re-scores; indexing reads the record's
 * valuation.score) and a popularity bump of sort=popular. Assets not indexed are left alone. */
lds_status lds_catalogue_set_value(lds_redis *redis, const char *asset_id, double value, lds_error *err);
lds_status lds_catalogue_bump(lds_redis *redis, const char *asset_id, double amount, lds_error *err);

typedef struct lds_catalogue_query_args {
    const char *text;                   /* q: every word must match (title, tags, description, prefixes) */
    const char *category, *tag, *license, *owner; /* exact, case-insensitive; license "open": CC0/CC-BY* */
    long long max_triangles;            /* -1: none */
    const char *sort;                   /* recent (default), value, popular */
    size_t limit;                       /* 0: 20; at most 100 */
    const char *cursor;                 /* "next" of the previous page, or NULL */
    const char *only_owner;             /* visibility: only this owner's assets (NULL: all) */
} lds_catalogue_query_args;
/* {"items": [{"id", "title", "category", "tags", "license", "owner", "triangles", "thumbnail"}],
 * "next": cursor|null}. LDS_EINVAL (message for the client) for a bad sort, limit or cursor. */
lds_status lds_catalogue_query(lds_redis *redis, const lds_catalogue_query_args *args, json_t **result,
                               lds_error *err);
/* The indexed items of ids, in order (null for an id not indexed); they also hold "description",
 * "parents" (certificate log indices) and "log_index". Caller decrefs *items. */
lds_status lds_catalogue_items(lds_redis *redis, const char *const *ids, size_t count, json_t **items,
                               lds_error *err);
/* The parents ([{"log_index", "asset"|null}], from the certificate) and derivatives (asset ids
 * whose certificates name this one) of an indexed asset. Caller decrefs both. */
lds_status lds_catalogue_lineage(lds_redis *redis, const char *asset_id, json_t **parents, json_t **derivatives,
                                 lds_error *err);
/* Theme collections: create (fills id; assets is a JSON array of asset ids, checked by the
 * caller), get ({"id", "title", "description", "assets", "creator", "created"}; LDS_ENOENT), list
 * (newest first, at most limit). */
lds_status lds_collection_create(lds_redis *redis, const char *title, const char *description, json_t *assets,
                                 const char *creator, char id[LDS_ID_MAX], lds_error *err);
lds_status lds_collection_get(lds_redis *redis, const char *id, json_t **collection, lds_error *err);
lds_status lds_collection_list(lds_redis *redis, size_t limit, json_t **collections, lds_error *err);

/* ---- licences (licenses.c): lds:license:<asset>, holder account -> licence ---- */

int lds_license_tier_valid(const char *tier);
/* Parses an RFC 3339 date-time or full-date into Unix milliseconds; 0 when malformed. */
int lds_rfc3339_parse(const char *text, int64_t *ms);
/* Grants (or replaces) holder's licence on an asset (expires NULL: never); *license is the stored
 * licence (caller decrefs). LDS_EINVAL with the reason for a bad holder, tier or expiry. */
lds_status lds_license_grant(lds_redis *redis, const char *asset_id, const char *holder, const char *tier,
                             const char *expires, const char *granted_by, json_t **license, lds_error *err);
/* The licences of an asset (holder NULL: all; else only that holder's), each with "active". */
lds_status lds_license_list(lds_redis *redis, const char *asset_id, const char *holder, json_t **licenses,
                            lds_error *err);
/* *covered = 1 when holder has an active (unexpired) licence on the asset. */
lds_status lds_license_covers(lds_redis *redis, const char *asset_id, const char *holder, int *covered,
                              lds_error *err);
/* ---- protected previews (previews.c; DESIGN.md 6.7) ---- */
struct lds_preview_keys;

typedef struct lds_preview_settings {
    uint64_t max_triangles; /* LODESTONE_PREVIEW_MAX_TRIANGLES, default 20000 */
    int max_texture;        /* LODESTONE_PREVIEW_MAX_TEXTURE (pixels), default 512 */
    int position_bits;      /* 11 */
    uint64_t ttl_seconds;   /* LODESTONE_PREVIEW_TTL, default and at most 900 */
} lds_preview_settings;
/* Defaults, then the environment; a malformed value is LDS_EINVAL naming the variable. */
lds_status lds_preview_settings_from_env(lds_preview_settings *settings, lds_error *err);

typedef struct lds_preview_viewer {
    const char *account; /* the API key's name */
    const char *key_id;  /* the key's id (16 hex) */
    const char *role;
} lds_preview_viewer;

/* Issues a preview of a ready asset (its full record, as lds_assets_get): picks the LOD, records
 * the preview in Redis and signs its token. *out (caller decrefs): {"token", "expires",
 * "preview", "issued", "lod"}. The caller has checked that the viewer may see the asset. */
lds_status lds_preview_issue(lds_redis *redis, const struct lds_preview_keys *keys,
                             const lds_preview_settings *settings, const json_t *record,
                             const lds_preview_viewer *viewer, json_t **out, lds_error *err);

typedef enum lds_preview_verdict {
    LDS_PREVIEW_VALID,
    LDS_PREVIEW_INVALID,     /* missing, malformed, tampered, unknown: 401 */
    LDS_PREVIEW_EXPIRED,     /* 401 */
    LDS_PREVIEW_OTHER_ASSET, /* a valid token of another asset: 403 */
    LDS_PREVIEW_UNAVAILABLE  /* Redis did not answer: 503 */
} lds_preview_verdict;
/* Checks a token for asset: signature, claims, expiry, scope, and the issued record, which comes
 * back in *preview (caller decrefs; NULL unless valid). */
lds_status lds_preview_check(lds_redis *redis, const struct lds_preview_keys *keys, const char *token,
                             const char *asset, lds_preview_verdict *verdict, json_t **preview, lds_error *err);
/* The watermarked preview GLB (meshopt) of an issued preview, appended to glb. Thread-safe. */
lds_status lds_preview_render(const char *blob_root, const struct lds_preview_keys *keys, const json_t *preview,
                              lds_buf *glb, lds_error *err);
/* Traces a suspect model against every preview issued for asset: *out (caller decrefs) is
 * {"asset", "viewer", "preview", "score", "p_value", "alpha", "previews", ...} with viewer and
 * preview null unless the best score's Bonferroni-corrected p-value is under alpha. */
lds_status lds_preview_trace(lds_redis *redis, const char *blob_root, const struct lds_preview_keys *keys,
                             const char *asset, const lds_mesh_model *suspect, double alpha, json_t **out,
                             lds_error *err);
/* Frees the cached preview bases that are not in use (tests, leak checks). */
void lds_preview_cache_clear(void);
/* ---- valuation in the service (valuation_store.c; issue 11): usage events, decayed signals,
 * re-scoring, model versions. Keys:
 *   lds:{v}:events (stream, group "valuation"), lds:valuation:seen:<hash> (event id dedup),
 *   lds:asset:<id> "signals" / "rarity" / "valuation", lds:valuation:market:<category|*>,
 *   lds:valuation:assets:<category|*> (supply), lds:valuation:model (current model JSON),
 *   lds:valuation:models (hash: version number -> model), lds:valuation:model_version. */

/* Adds checked events to the events stream atomically (one script), attributed to account;
 * an event whose id this account sent before is counted in *duplicates and not added. */
lds_status lds_valuation_events_submit(lds_redis *redis, const char *account, const lds_valuation_event *events,
                                       size_t count, size_t *accepted, size_t *duplicates, lds_error *err);
/* Creates the events stream and its group (idempotent). */
lds_status lds_valuation_events_setup(lds_redis *redis, lds_error *err);
/* One aggregator round: takes entries other aggregators left (idle 30 s) or new ones (blocking up to
 * block_ms), applies each exactly once to the asset's signals and the markets, and re-scores the
 * assets touched. *applied gets the count. */
lds_status lds_valuation_aggregate(lds_redis *redis, const char *consumer, int block_ms, double half_life_days,
                                   size_t *applied, lds_error *err);
/* Recomputes and stores an asset's valuation as of now_ms (nothing for an asset not ready). */
lds_status lds_valuation_rescore(lds_redis *redis, const lds_valuation_model *model, const char *asset,
                                 double half_life_days, int64_t now_ms, lds_error *err);
/* The first score, computed from the manifest the worker is about to publish (so that the record
 * carries a valuation from the moment it is ready): rarity from the shape index, the asset counted
 * in its category's supply, then the valuation stored. */
lds_status lds_valuation_publish(lds_redis *redis, const char *asset, json_t *manifest, lds_error *err);
/* Re-scores every published asset with model (after a refit); *count gets how many. */
lds_status lds_valuation_rescore_all(lds_redis *redis, const lds_valuation_model *model, size_t *count,
                                     lds_error *err);
/* The current model: lds:valuation:model, else home/valuation-model.json (home NULL:
 * lds_home_dir()), else the built-in prior. redis may be NULL (offline). */
lds_status lds_valuation_store_model_load(lds_redis *redis, const char *home, lds_valuation_model *model,
                                          lds_error *err);
/* Stores a fitted model as the next version (named "lds-value-1/fit-N" in model->version; *version = N). */
lds_status lds_valuation_store_model_save(lds_redis *redis, lds_valuation_model *model, long *version,
                                          lds_error *err);
/* Training rows from the recorded purchases: one per ready asset with purchases, its mean realised
 * log price, weight min(purchases, 5). Caller frees *rows. */
lds_status lds_valuation_store_rows(lds_redis *redis, lds_valuation_row **rows, size_t *count, lds_error *err);
/* The aggregator as a thread (each worker process runs one) until *stop or join. */
typedef struct lds_valuation_aggregator lds_valuation_aggregator;
lds_status lds_valuation_aggregator_start(const char *redis_url, volatile sig_atomic_t *stop,
                                          lds_valuation_aggregator **out, lds_error *err);
void lds_valuation_aggregator_join(lds_valuation_aggregator *aggregator);

#ifdef __cplusplus
}
#endif
#endif
