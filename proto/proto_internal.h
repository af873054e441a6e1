/* proto_internal.h: what proto/'s files share and nobody else sees: libsodium's Ed25519 and
 * base64 (wrapped in crypto.c), note signing, DSSE PAE, and the log's storage (tlog.c). */
#ifndef LDS_PROTO_INTERNAL_H
#define LDS_PROTO_INTERNAL_H

#include "proto.h"

#define LDS_ED25519_PUBLIC_BYTES 32
#define LDS_ED25519_SECRET_BYTES 64
#define LDS_ED25519_SEED_BYTES 32
#define LDS_ED25519_SIG_BYTES 64
#define LDS_NOTE_SIG_TYPE_ED25519 0x01
#define LDS_LOG_ENTRY_MAX (4u * 1024 * 1024) /* cap on one logged PAE */

/* ---- crypto.c (libsodium) ---- */
void lds_ed25519_seed_keypair(const unsigned char seed[LDS_ED25519_SEED_BYTES],
                              unsigned char public_key[LDS_ED25519_PUBLIC_BYTES],
                              unsigned char secret_key[LDS_ED25519_SECRET_BYTES]);
void lds_ed25519_random_seed(unsigned char seed[LDS_ED25519_SEED_BYTES]);
void lds_ed25519_sign(const void *message, size_t size, const unsigned char secret_key[LDS_ED25519_SECRET_BYTES],
                      unsigned char sig[LDS_ED25519_SIG_BYTES]);
int lds_ed25519_verify(const void *message, size_t size, const unsigned char sig[LDS_ED25519_SIG_BYTES],
                       const unsigned char public_key[LDS_ED25519_PUBLIC_BYTES]);
void lds_proto_wipe(void *data, size_t size);
/* Standard base64 with padding (RFC 4648 section 4). Encode: malloc'd NUL-terminated string or
 * NULL when out of memory. Decode is strict (no white space, padding required, unused bits zero):
 * 0 ok, -1 malformed or longer than max. */
char *lds_base64_encode(const void *data, size_t size);
int lds_base64_decode(const char *text, size_t length, unsigned char *out, size_t max, size_t *out_size);
/* URL-safe base64 without padding (RFC 4648 section 5), as PASETO uses it: encode as above;
 * decode is strict (no '=', unused bits zero, only the URL-safe alphabet). */
char *lds_base64url_encode(const void *data, size_t size);
int lds_base64url_decode(const char *text, size_t length, unsigned char *out, size_t max, size_t *out_size);
/* BLAKE2b of data with an out_size-byte digest (16..64), optionally keyed (key NULL: unkeyed). */
void lds_blake2b(unsigned char *out, size_t out_size, const void *data, size_t size, const unsigned char *key,
                 size_t key_size);
void lds_random_bytes(void *out, size_t size);

/* ---- notary.c ---- */
/* Opens (creating on first use) an Ed25519 key pair stored like the notary's: home/keys/<stem>.key
 * (C2SP private key form, mode 0600) and <stem>.pub (the verifier key). name is the key name for a
 * new key (NULL: $LODESTONE_LOG_ORIGIN or the default). keyid receives "<name>+<hex key id>". */
lds_status lds_signing_key_open(const char *home, const char *stem, const char *name,
                                unsigned char public_key[LDS_ED25519_PUBLIC_BYTES],
                                unsigned char secret_key[LDS_ED25519_SECRET_BYTES], char *keyid, size_t keyid_size,
                                lds_error *err);

/* ---- note.c ---- */
/* Key id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4], big-endian. */
uint32_t lds_note_key_id(const char *name, const unsigned char public_key[LDS_ED25519_PUBLIC_BYTES]);
/* 0 when name is a valid key name (non-empty, no spaces or '+', no control characters). */
int lds_note_name_check(const char *name);
/* Signs text (which must end in a newline) into a signed note; caller frees *note. */
lds_status lds_note_sign(const char *text, size_t size, const char *name, uint32_t key_id,
                         const unsigned char secret_key[LDS_ED25519_SECRET_BYTES], char **note, lds_error *err);
/* The checkpoint body "<origin>\n<size>\n<base64 root>\n", signed. */
lds_status lds_checkpoint_sign(const char *origin, uint64_t size, const unsigned char root[LDS_MERKLE_HASH_BYTES],
                               uint32_t key_id, const unsigned char secret_key[LDS_ED25519_SECRET_BYTES],
                               char **note, lds_error *err);

/* ---- cert.c ---- */
/* DSSE v1 pre-authentication encoding of (type, body) appended to out. */
lds_status lds_dsse_pae(const char *payload_type, const void *body, size_t body_size, lds_buf *out);
/* Builds the bundle JSON (compact, no trailing newline; caller frees). */
lds_status lds_cert_bundle_build(const char *statement, size_t statement_size, const char *keyid,
                                 const unsigned char sig[LDS_ED25519_SIG_BYTES], const char *origin,
                                 uint64_t index, uint64_t tree_size, const unsigned char (*proof)[LDS_MERKLE_HASH_BYTES],
                                 size_t proof_count, const char *checkpoint, char **bundle, lds_error *err);

/* {"origin", <a_key>: a, <b_key>: b, ["leafHash"], <proof_key>: [base64...], "checkpoint"} */
lds_status lds_proof_json(const char *origin, const char *a_key, uint64_t a, const char *b_key, uint64_t b,
                          const unsigned char *leaf_hash, const char *proof_key,
                          const unsigned char (*proof)[LDS_MERKLE_HASH_BYTES], size_t count, const char *checkpoint,
                          char **out, lds_error *err);

/* ---- tlog.c: storage under home/log; see the top of tlog.c for the format ---- */
typedef struct lds_tlog lds_tlog;
/* Opens (creating) the log in dir. The caller supplies the signer for checkpoints. */
lds_status lds_tlog_open(const char *dir, const char *origin, uint32_t key_id,
                        const unsigned char public_key[LDS_ED25519_PUBLIC_BYTES],
                        const unsigned char secret_key[LDS_ED25519_SECRET_BYTES], lds_tlog **out, lds_error *err);
void lds_tlog_close(lds_tlog *log);
/* Takes the writer's lock (flock), picks up appends of other processes, truncates a torn tail
 * past the published size. Every call below does this itself. */
lds_status lds_tlog_refresh(lds_tlog *log, lds_error *err);
/* Appends data (unless already logged) durably and publishes a new signed checkpoint. */
lds_status lds_tlog_append(lds_tlog *log, const void *data, size_t size, uint64_t *index, lds_error *err);
/* Current checkpoint text (caller frees) and the tree (owned by the log). */
lds_status lds_tlog_checkpoint(lds_tlog *log, char **note, lds_error *err);
const lds_merkle_tree *lds_tlog_tree(const lds_tlog *log);

#endif
