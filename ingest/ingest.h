/*
 * ingest.h: the pipeline of one model (DESIGN.md section 4), and (below) the job queue on Redis,
 * workers, archive deposits and reprocessing.
 */
#ifndef LDS_INGEST_H
#define LDS_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common.h"
#include "mesh.h"
#include "sandbox.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LDS_PIPELINE_VERSION "lodestone-pipeline/1"
#define LDS_PIPELINE_MAX_LODS 16

/* Issues the certificate for a statement (offline: the notary in-process; service: through the
 * notary stream). Returns the bundle JSON (caller frees) and its log index. */
typedef lds_status (*lds_pipeline_certify_fn)(void *ctx, const char *statement_json, size_t statement_size,
                                              char **bundle_json, uint64_t *log_index, lds_error *err);
/* Called at each stage with the overall fraction done in 0..1. */
typedef void (*lds_pipeline_progress_fn)(void *ctx, const char *stage, double fraction);

typedef struct lds_pipeline_options {
    double lod_fractions[LDS_PIPELINE_MAX_LODS]; /* of LOD0's triangles; default 0.5 .25 .125 .0625 */
    size_t lod_count;
    int draco, meshopt; /* encode these besides plain GLB (default both) */
    lds_mesh_quantization quantization;
    int use_sandbox; /* default 1 */
    lds_sandbox_limits limits;
    /* metadata (all may be NULL) */
    const char *title, *owner, *license, *category, *description;
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
} lds_pipeline_options;

/* Fills the defaults above. */
void lds_pipeline_options_init(lds_pipeline_options *options);

/* Runs the whole pipeline on files[0] (the model; further files are sidecars that must sit in its
 * directory) and writes out_dir/manifest.json, the LOD files and certificate.json. On success
 * *manifest (may be NULL) receives the manifest (caller json_decref's it). Errors name the file. */
lds_status lds_pipeline_run(const lds_pipeline_options *options, const char *const *files, size_t file_count,
                            const char *out_dir, json_t **manifest, lds_error *err);

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

#ifdef __cplusplus
}
#endif
#endif
