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

#ifdef __cplusplus
}
#endif
#endif
