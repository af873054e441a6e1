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

#ifdef __cplusplus
}
#endif
#endif
