/*
 * sandbox.h: parsing untrusted model files in a locked-down child process (DESIGN.md 4 step 2, 7).
 */
#ifndef LDS_SANDBOX_H
#define LDS_SANDBOX_H

#include "common.h"
#include "mesh.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lds_sandbox_limits {
    uint64_t memory_bytes;   /* address-space limit of the parser; 0: 4 GiB */
    unsigned cpu_seconds;    /* 0: 120 */
    unsigned wall_seconds;   /* 0: 60 */
    uint64_t max_file_bytes; /* model file and each sidecar; 0: 2 GiB */
    lds_mesh_limits mesh;
} lds_sandbox_limits;

/* Imports path (sidecars read from its directory) and returns a validated model the caller
 * destroys. With use_sandbox, the parse runs in a child process under rlimits and seccomp;
 * crashes, limits and time-outs become errors naming the file. */
lds_status lds_sandbox_import_file(const char *path, const lds_sandbox_limits *limits, int use_sandbox,
                                   lds_mesh_model **out, lds_error *err);

/* ---- added by the sandbox branch (issue 5) ---- */

/* Fills sandbox limits from the configured limits (common.h). */
void lds_sandbox_limits_from(lds_sandbox_limits *out, const lds_limits *limits);

/* A parser run inside the child; lds_mesh_import has exactly this signature. */
typedef lds_status (*lds_sandbox_parse_fn)(const char *name, const unsigned char *data, size_t size,
                                           const lds_mesh_reader *sidecars, const lds_mesh_limits *limits,
                                           lds_mesh_model **out, lds_error *err);

/* Runs parse(name, data, size, ...) in a child process under the limits and the seccomp filter and
 * returns its model, decoded and validated, in *out (the caller destroys it). data stays owned by
 * the caller (the child sees it through fork's copy-on-write memory, never the filesystem).
 * sidecars (may be NULL) is called in the PARENT when the child asks for a sidecar file; each
 * reply is capped at limits->max_file_bytes. name is used in every error message. Thread-safe:
 * each call forks its own child. */
lds_status lds_sandbox_run(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                           const lds_sandbox_limits *limits, lds_sandbox_parse_fn parse, lds_mesh_model **out,
                           lds_error *err);

/* The same without a child: parse, validate and check the limits in this process (the
 * `--no-sandbox` debugging path, and fuzzing). */
lds_status lds_sandbox_run_in_process(const char *name, const unsigned char *data, size_t size,
                                      const lds_mesh_reader *sidecars, const lds_sandbox_limits *limits,
                                      lds_sandbox_parse_fn parse, lds_mesh_model **out, lds_error *err);

/* Hostile-input work other than parsing a model (decoding and re-encoding images): work(ctx, data,
 * size, out, err) appends its result to out. With use_sandbox it runs in a child under the same
 * limits, rlimits and seccomp filter as a parse (ctx and data are seen through fork's
 * copy-on-write memory; the work may not open files), and *result receives its bytes, which the
 * caller must still treat as untrusted (parse them with caps) and frees with lds_buf_cleanup;
 * without, it runs in this process. name is used in every error message. Thread-safe. */
typedef lds_status (*lds_sandbox_work_fn)(void *ctx, const unsigned char *data, size_t size, lds_buf *out,
                                          lds_error *err);
lds_status lds_sandbox_run_work(const char *name, const unsigned char *data, size_t size,
                                const lds_sandbox_limits *limits, int use_sandbox, lds_sandbox_work_fn work, void *ctx,
                                lds_buf *result, lds_error *err);

/* The model wire format from the child to the parent (exposed for fuzzing and tests).
 * encode appends model to out. decode parses at most what data holds, allocating nothing beyond
 * what the bytes justify, and returns a model (caller destroys) that still has to be validated. */
lds_status lds_sandbox_encode_model(const lds_mesh_model *model, lds_buf *out);
lds_status lds_sandbox_decode_model(const char *name, const unsigned char *data, size_t size, lds_mesh_model **out,
                                    lds_error *err);

/* ---- protected previews (preview.c, preview_align.c; DESIGN.md 6.7) ----
 * A preview is a LOD simplified to a triangle cap, with textures over a size cap dropped and its
 * positions snapped to a coarse grid (the "base"), plus a forensic watermark: a smooth
 * displacement along the base's normals, alpha * sum_k c_k w_k(x), where w_k is a partition of
 * unity over K seeds spread on the surface and c_k = +-1 chips drawn from the preview's seed
 * (a keyed hash of its id). It is added after the snapping and snapped again, with alpha a few
 * grid steps, so that the coarse quantisation cannot erase it.
 * Tracing is non-blind: a suspect file is aligned with the base (principal axes, then ICP with
 * scale), its displacements along the base's normals are averaged per seed into K responses, and
 * each candidate key is scored by the normalised correlation T = sum c_k b_k / |b| (b centred).
 * For a key independent of the suspect, P(T >= t) <= exp(-t^2/2) (Hoeffding's bound for
 * Rademacher sums), whatever the suspect: that bounds the probability of a false accusation. */
#define LDS_PREVIEW_SEED_BYTES 32

typedef struct lds_preview_params {
    uint64_t max_triangles; /* 0: 20000 */
    int max_texture;        /* largest side in pixels of a kept texture; 0: 512 */
    int position_bits;      /* the coarse grid: 2^bits steps over the largest extent; 0: 11 */
    double strength;        /* watermark amplitude in grid steps; 0: 1.5 */
} lds_preview_params;

typedef struct lds_preview_base lds_preview_base;
/* Builds the base of a preview from a LOD (read only) and the watermark basis on it.
 * Deterministic: the same LOD and parameters give the same base, chips and scores. Models
 * without triangles are LDS_ENOGEOM. The caller destroys *out. */
lds_status lds_preview_base_create(const lds_mesh_model *lod, const lds_preview_params *params,
                                   lds_preview_base **out, lds_error *err);
void lds_preview_base_destroy(lds_preview_base *base); /* accepts NULL */
const lds_mesh_model *lds_preview_base_model(const lds_preview_base *base);
size_t lds_preview_base_chips(const lds_preview_base *base);
/* The grid step and the watermark amplitude, in model units. */
double lds_preview_base_step(const lds_preview_base *base);
double lds_preview_base_amplitude(const lds_preview_base *base);
/* A watermarked copy of the base for seed; the caller destroys *out. */
lds_status lds_preview_embed(const lds_preview_base *base, const unsigned char seed[LDS_PREVIEW_SEED_BYTES],
                             lds_mesh_model **out, lds_error *err);

typedef struct lds_preview_alignment {
    double scale;        /* suspect units -> base units */
    double residual;     /* RMS distance of matched vertices after alignment, over the base's diagonal */
    size_t used;         /* suspect vertices that fell on the base */
    size_t vertices;     /* suspect vertices */
} lds_preview_alignment;
/* Aligns suspect (read only) with the base and fills responses[lds_preview_base_chips(base)].
 * info may be NULL. LDS_ENOGEOM when too little of the suspect matches the base. */
lds_status lds_preview_measure(const lds_preview_base *base, const lds_mesh_model *suspect, double *responses,
                               lds_preview_alignment *info, lds_error *err);
/* The score T of a seed against measured responses (0 when they are all equal). */
double lds_preview_score(const lds_preview_base *base, const double *responses,
                         const unsigned char seed[LDS_PREVIEW_SEED_BYTES]);
/* Hoeffding's one-sided bound exp(-T^2/2) (1 for T <= 0), times tests (Bonferroni), capped at 1. */
double lds_preview_p_value(double score, size_t tests);

#ifdef __cplusplus
}
#endif
#endif
