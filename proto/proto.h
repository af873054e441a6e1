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
    /* A display name the uploader typed, stated apart from owner (which the service sets to the
     * authenticated account) as "claimed_owner": nobody vouched for it. NULL: none. */
    const char *claimed_owner;
} lds_cert_fields;

/* Builds the in-toto Statement v1 JSON (deterministic: same fields, same bytes). Parent bundles
 * that do not parse are an error naming the parent. Caller frees *json. */
lds_status lds_cert_statement_build(const lds_cert_fields *fields, char **json, lds_error *err);

/* The log indices of the parent certificates named in a bundle's statement (predicate.parents,
 * derivative works): at most max into indices, *count set. The bundle is parsed, not verified. */
lds_status lds_cert_parent_indices(const char *bundle, size_t bundle_size, uint64_t *indices, size_t max,
                                   size_t *count, lds_error *err);

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

/* Returns the current signed checkpoint (C2SP tlog-checkpoint signed note text; caller frees). */
lds_status lds_notary_checkpoint(lds_notary *notary, char **note, lds_error *err);
/* The notary's verifier key, "<name>+<hex key id>+<base64(0x01 || public key)>" (owned by the
 * notary), and the log's origin line (the key name). */
const char *lds_notary_verifier_key(const lds_notary *notary);
const char *lds_notary_origin(const lds_notary *notary);
/* Current tree size (after picking up appends by other processes). */
lds_status lds_notary_size(lds_notary *notary, uint64_t *size, lds_error *err);

/* ---- RFC 9162 Merkle trees over SHA-256 (merkle.c) ---- */
#define LDS_MERKLE_HASH_BYTES 32
#define LDS_MERKLE_PROOF_MAX 128 /* longest inclusion or consistency proof for 64-bit sizes */

/* A read-only byte string (hash values of untrusted length come in this form). */
typedef struct lds_proto_bytes {
    const unsigned char *data;
    size_t size;
} lds_proto_bytes;

/* Leaf hash SHA-256(0x00 || data) and node hash SHA-256(0x01 || left || right). */
void lds_merkle_leaf_hash(const void *data, size_t size, unsigned char out[LDS_MERKLE_HASH_BYTES]);
void lds_merkle_node_hash(const unsigned char left[LDS_MERKLE_HASH_BYTES],
                          const unsigned char right[LDS_MERKLE_HASH_BYTES], unsigned char out[LDS_MERKLE_HASH_BYTES]);

/* RFC 9162 2.1.3.2: does proof show leaf_hash at index in the tree of tree_size leaves with
 * root? LDS_OK or LDS_EVERIFY with the reason. Every hash must be 32 bytes. */
lds_status lds_merkle_verify_inclusion(uint64_t index, uint64_t tree_size, lds_proto_bytes leaf_hash,
                                       const lds_proto_bytes *proof, size_t proof_count, lds_proto_bytes root,
                                       lds_error *err);
/* RFC 9162 2.1.4.2: does proof show that the tree (size2, root2) extends (size1, root1)? Equal
 * sizes need an empty proof and equal roots; size1 == 0 is refused (a proof from the empty tree
 * proves nothing). LDS_OK or LDS_EVERIFY with the reason. */
lds_status lds_merkle_verify_consistency(uint64_t size1, uint64_t size2, const lds_proto_bytes *proof,
                                         size_t proof_count, lds_proto_bytes root1, lds_proto_bytes root2,
                                         lds_error *err);

/* An in-memory tree: leaf hashes plus every complete subtree hash, so roots and proofs for any
 * size up to the current one cost O(log^2 n) hashes. Not thread-safe. */
typedef struct lds_merkle_tree lds_merkle_tree;
lds_status lds_merkle_tree_create(lds_merkle_tree **out, lds_error *err);
void lds_merkle_tree_destroy(lds_merkle_tree *tree);
uint64_t lds_merkle_tree_size(const lds_merkle_tree *tree);
lds_status lds_merkle_tree_append(lds_merkle_tree *tree, const unsigned char leaf_hash[LDS_MERKLE_HASH_BYTES],
                                  lds_error *err);
/* Leaf hash at index (< size), owned by the tree, valid until the next append. */
const unsigned char *lds_merkle_tree_leaf(const lds_merkle_tree *tree, uint64_t index);
/* Root of the first tree_size leaves (tree_size <= size; 0 gives SHA-256 of nothing). */
lds_status lds_merkle_tree_root(const lds_merkle_tree *tree, uint64_t tree_size,
                                unsigned char out[LDS_MERKLE_HASH_BYTES], lds_error *err);
/* RFC 9162 2.1.3.1 and 2.1.4.1; proof has room for LDS_MERKLE_PROOF_MAX hashes. */
lds_status lds_merkle_tree_inclusion_proof(const lds_merkle_tree *tree, uint64_t index, uint64_t tree_size,
                                           unsigned char proof[][LDS_MERKLE_HASH_BYTES], size_t *count,
                                           lds_error *err);
lds_status lds_merkle_tree_consistency_proof(const lds_merkle_tree *tree, uint64_t size1, uint64_t size2,
                                             unsigned char proof[][LDS_MERKLE_HASH_BYTES], size_t *count,
                                             lds_error *err);

/* ---- C2SP signed notes and tlog checkpoints (note.c) ---- */
#define LDS_NOTE_NAME_MAX 256
#define LDS_NOTE_MAX (64 * 1024) /* cap on a signed note's size */

/* An Ed25519 signed-note verifier key, parsed from "<name>+<hex key id>+<base64(0x01 || key)>". */
typedef struct lds_note_verifier {
    char name[LDS_NOTE_NAME_MAX];
    uint32_t key_id; /* first 4 bytes, big-endian, of SHA-256(name || 0x0A || 0x01 || key) */
    unsigned char public_key[32];
} lds_note_verifier;

/* Parses a verifier key (one line; surrounding white space ignored). Checks that the key id is
 * the one the name and key give. */
lds_status lds_note_verifier_parse(const char *text, size_t size, lds_note_verifier *out, lds_error *err);
/* Verifies a signed note: well-formed per C2SP signed-note, and a signature line by the
 * verifier's name and key id that verifies; signatures of other keys are ignored. On success
 * *text_size is the length of the signed text (including its last newline). */
lds_status lds_note_verify(const char *note, size_t size, const lds_note_verifier *verifier, size_t *text_size,
                           lds_error *err);

typedef struct lds_checkpoint {
    char origin[LDS_NOTE_NAME_MAX];
    uint64_t size;
    unsigned char root[LDS_MERKLE_HASH_BYTES];
} lds_checkpoint;

/* Verifies a C2SP tlog-checkpoint signed note and parses its body (origin, decimal size without
 * leading zeros, base64 root of 32 bytes, optional extension lines). */
lds_status lds_checkpoint_verify(const char *note, size_t size, const lds_note_verifier *verifier,
                                 lds_checkpoint *out, lds_error *err);

/* ---- certificate bundles: verification by anyone (cert.c) ---- */
#define LDS_CERT_MEDIA_TYPE "application/vnd.lodestone.certificate+json;version=1"
#define LDS_CERT_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define LDS_CERT_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define LDS_CERT_PREDICATE_TYPE "https://lodestone.example/birth-certificate/v1"
#define LDS_CERT_MAX (16 * 1024 * 1024) /* cap on a bundle's size */

typedef struct lds_cert_info {
    uint64_t log_index, tree_size;
    char origin[LDS_NOTE_NAME_MAX];
    char geometry[96];    /* "lds-geom-1:<hex>" from the geometry subject, "" if none */
    char *statement_json; /* the verified in-toto Statement (malloc'd, NUL-terminated) */
    size_t statement_size;
} lds_cert_info;
void lds_cert_info_cleanup(lds_cert_info *info);

/* Verifies a certificate bundle against a verifier key (the text of a .pub file): the DSSE
 * signature over the PAE, the statement's types, the inclusion of SHA-256(0x00 || PAE) at
 * log.index by log.inclusionProof under the checkpoint's root, and the checkpoint's signature.
 * LDS_OK, or LDS_EVERIFY / LDS_EFORMAT with the exact reason. info may be NULL; when given it is
 * filled on success (caller cleans up) and zeroed on failure. */
lds_status lds_cert_verify(const char *bundle, size_t bundle_size, const char *verifier_key, size_t key_size,
                           lds_cert_info *info, lds_error *err);

/* ---- the log's storage (tlog.c) ---- */
typedef struct lds_log_audit_result {
    uint64_t tree_size;     /* published size (from the checkpoint) */
    uint64_t entry_bytes;   /* bytes of published entries */
    uint64_t tail_bytes;    /* unpublished bytes past the published size (a torn append) */
    unsigned char root[LDS_MERKLE_HASH_BYTES];
} lds_log_audit_result;

/* Audits home/log read-only, without the writer's lock: verifies the checkpoint's signature with
 * home/keys/notary.pub, re-reads every entry and index record, recomputes every leaf hash and the
 * root, and compares. A log that never published a checkpoint and holds nothing audits as empty.
 * LDS_OK or LDS_EVERIFY naming the file, the entry and the reason. */
lds_status lds_log_audit(const char *home, lds_log_audit_result *out, lds_error *err);

/* Creates the notary key pair in home/keys (notary.key mode 0600, notary.pub) unless present;
 * name NULL means $LODESTONE_LOG_ORIGIN or "lodestone.example/log". *created says whether it was
 * made now. *verifier_key (caller frees) is the .pub text without newline. */
lds_status lds_notary_keys_init(const char *home, const char *name, char **verifier_key, int *created,
                                lds_error *err);

/* Proofs against the current log, for `lodestone log`: consistency from size1 to size2 and
 * inclusion of index in the tree of tree_size (both <= current size). proof has room for
 * LDS_MERKLE_PROOF_MAX hashes. */
lds_status lds_notary_consistency_proof(lds_notary *notary, uint64_t size1, uint64_t size2,
                                        unsigned char proof[][LDS_MERKLE_HASH_BYTES], size_t *count, lds_error *err);
/* `lodestone log consistency`: verifies old_note (a checkpoint signed by this notary's key), proves
 * that the current log extends it, and verifies that proof. old_cp and new_cp may be NULL. On
 * success *json (caller frees) is {"origin","size1","size2","consistencyProof":[base64...],
 * "checkpoint"}. An old size of 0 is extended by any log whose empty-tree root matches. */
lds_status lds_notary_check_consistency(lds_notary *notary, const char *old_note, size_t old_size,
                                        lds_checkpoint *old_cp, lds_checkpoint *new_cp, char **json, lds_error *err);
/* `lodestone log proof`: {"origin","index","treeSize","leafHash","inclusionProof":[base64...],
 * "checkpoint"} for entry index in the current tree (caller frees *json). */
lds_status lds_notary_inclusion_json(lds_notary *notary, uint64_t index, char **json, lds_error *err);
/* For GET /v1/log/consistency: {"origin","from","treeSize","consistencyProof":[base64...],
 * "checkpoint"} from size1 to the current tree, proof and checkpoint from one snapshot (caller
 * frees *json). LDS_EINVAL when size1 is 0 or beyond the tree. */
lds_status lds_notary_consistency_json(lds_notary *notary, uint64_t size1, char **json, lds_error *err);
lds_status lds_notary_inclusion_proof(lds_notary *notary, uint64_t index, uint64_t tree_size,
                                      unsigned char leaf_hash[LDS_MERKLE_HASH_BYTES],
                                      unsigned char proof[][LDS_MERKLE_HASH_BYTES], size_t *count, lds_error *err);

/* ---- PASETO v4.public (paseto.c; the PASETO specification, version 4) ----
 * Tokens for previews (DESIGN.md 6.7). The raw functions follow the specification's
 * sign/verify exactly (footer and implicit assertion may be empty: size 0); the official test
 * vectors check them. */
lds_status lds_paseto_v4_sign(const unsigned char secret_key[64], const void *message, size_t message_size,
                              const void *footer, size_t footer_size, const void *implicit, size_t implicit_size,
                              char **token, lds_error *err);
/* footer NULL: any footer (it is still signed); otherwise it must be exactly footer. On success
 * *message (caller frees) is NUL-terminated beyond *message_size. LDS_EVERIFY for any token that
 * is malformed, of another version or purpose, or does not verify. */
lds_status lds_paseto_v4_verify(const unsigned char public_key[32], const char *token, size_t token_size,
                                const void *footer, size_t footer_size, const void *implicit, size_t implicit_size,
                                unsigned char **message, size_t *message_size, lds_error *err);
/* The PASERK "k4.pid" key id of an Ed25519 public key. */
#define LDS_PASERK_PID_MAX 64
lds_status lds_paserk_pid(const unsigned char public_key[32], char out[LDS_PASERK_PID_MAX], lds_error *err);

/* The preview keys of a data directory: home/keys/preview.key (Ed25519, made and stored like the
 * notary's key, name "lodestone-preview") signs tokens whose footer is {"kid": <k4.pid>};
 * home/keys/watermark.key (32 random bytes, hex, mode 0600) keys the watermarks. Both are
 * created on first use. Thread-safe once open (read only). Close with lds_preview_keys_close. */
typedef struct lds_preview_keys lds_preview_keys;
lds_status lds_preview_keys_open(const char *home, lds_preview_keys **out, lds_error *err);
void lds_preview_keys_close(lds_preview_keys *keys); /* accepts NULL */
const char *lds_preview_keys_id(const lds_preview_keys *keys);           /* "k4.pid.…" */
const char *lds_preview_keys_watermark_id(const lds_preview_keys *keys); /* 16 hex: SHA-256 of the key */
/* Signs claims (a JSON object's text) into a token (caller frees). */
lds_status lds_preview_token_sign(const lds_preview_keys *keys, const char *claims, char **token, lds_error *err);
/* Verifies a token of these keys; *claims (caller frees) is the signed JSON text. Checks no claim. */
lds_status lds_preview_token_verify(const lds_preview_keys *keys, const char *token, char **claims, lds_error *err);
/* The watermark seed of a preview: BLAKE2b-256 keyed with the watermark key over the preview id. */
void lds_preview_watermark_seed(const lds_preview_keys *keys, const char *preview_id, unsigned char seed[32]);

#ifdef __cplusplus
}
#endif
#endif
