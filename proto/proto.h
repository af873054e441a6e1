/*
 * proto.h: formats other programs read. Certificates (DSSE envelope holding an in-toto Statement
 * v1), the transparency log (RFC 9162 Merkle tree over SHA-256, C2SP signed-note checkpoints,
 * inclusion and consistency proofs), and the notary that is the log's single writer.
 * DESIGN.md section 6.4.
 */
#ifndef LDS_PROTO_H
#define LDS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- what a birth certificate states ---- */
typedef struct lds_cert_digest {
    const char *name;       /* file name, e.g. "bust.ply" or "lod0.draco.glb" */
    const char *sha256_hex; /* 64 lower-case hex digits */
} lds_cert_digest;

typedef struct lds_cert_fields {
    const lds_cert_digest *sources; /* the original files: in-toto subjects */
    size_t source_count;
    const char *geometry_fingerprint; /* "lds-geom-1:<hex>": a subject of its own */
    const char *shape_fingerprint;    /* may be NULL */
    const char *owner, *license, *title, *description, *category; /* may be NULL */
    const char *const *tags;
    size_t tag_count;
    const char *source_kind;    /* "upload" or "deposit" */
    const char *accession;      /* may be NULL */
    const char *capture_method; /* may be NULL */
    const char *const *parent_bundles; /* parent certificate bundles (JSON text) for derivative works */
    size_t parent_count;
    const lds_cert_digest *lods; /* LOD file digests */
    size_t lod_count;
    const char *pipeline_version;
    const char *time; /* RFC 3339; the deposit's acceptance time, so re-runs state the same thing */
    const char *previous_certificate; /* reprocessing: the bundle this one supersedes, or NULL */
} lds_cert_fields;

/* Builds the in-toto Statement v1 JSON (deterministic: same fields, same bytes). Parent bundles
 * that do not parse are an error naming the parent. Caller frees *json. */
lds_status lds_cert_statement_build(const lds_cert_fields *fields, char **json, lds_error *err);

/* ---- the notary: the single writer of the log ---- */
typedef struct lds_notary lds_notary;

/* Opens the notary under home (the data directory): the key pair in home/keys (created on first
 * use, private key mode 0600, verifier key home/keys/notary.pub) and the log in home/log, locked
 * for exclusive appends. Caller closes. */
lds_status lds_notary_open(const char *home, lds_notary **out, lds_error *err);
void lds_notary_close(lds_notary *notary);

/* Signs the statement into a DSSE envelope, appends its PAE to the log (durably: write, fsync,
 * then publish) unless the identical PAE is already logged (then returns that entry), and
 * returns the certificate bundle JSON (caller frees) and its log index. */
lds_status lds_notary_certify(lds_notary *notary, const char *statement_json, size_t statement_size, char **bundle_json,
                              uint64_t *log_index, lds_error *err);

#ifdef __cplusplus
}
#endif
#endif
