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

#ifdef __cplusplus
}
#endif
#endif
