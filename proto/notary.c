/* notary.c: the notary, single writer of the transparency log. Holds the Ed25519 key pair in
 * home/keys and the log in home/log; signs statements into DSSE envelopes, logs their PAE and
 * hands back certificate bundles with an inclusion proof and the signed checkpoint.
 *
 * Key files (C2SP signed-note key encodings, as golang.org/x/mod/sumdb/note writes them):
 *   notary.key  "PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>"  mode 0600
 *   notary.pub  "<name>+<hex key id>+<base64(0x01 || 32-byte public key)>" */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto_internal.h"

#define DEFAULT_ORIGIN "lodestone.example/log"
#define PRIVATE_PREFIX "PRIVATE+KEY+"

struct lds_notary {
    char name[LDS_NOTE_NAME_MAX];
    char keyid[LDS_NOTE_NAME_MAX + 16]; /* DSSE keyid: "<name>+<hex key id>" */
    char verifier_key[LDS_NOTE_NAME_MAX + 80];
    uint32_t key_id;
    unsigned char public_key[LDS_ED25519_PUBLIC_BYTES];
    unsigned char secret_key[LDS_ED25519_SECRET_BYTES];
    lds_tlog *log;
};

static lds_status format_verifier_key(const char *name, const unsigned char public_key[32], char *out,
                                      size_t out_size, lds_error *err)
{
    unsigned char key[1 + LDS_ED25519_PUBLIC_BYTES];
    key[0] = LDS_NOTE_SIG_TYPE_ED25519;
    memcpy(key + 1, public_key, LDS_ED25519_PUBLIC_BYTES);
    char *b64 = lds_base64_encode(key, sizeof(key));
    if (b64 == NULL)
        return lds_error_set(err, LDS_ENOMEM, "keys: out of memory");
    snprintf(out, out_size, "%s+%08x+%s", name, (unsigned)lds_note_key_id(name, public_key), b64);
    free(b64);
    return LDS_OK;
}

/* Parses notary.key into the name, seed-derived key pair and key id. */
static lds_status parse_private_key(const char *path, const char *text, size_t size, lds_notary *n, lds_error *err)
{
    while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == ' ' || text[size - 1] == '\r'))
        size--;
    size_t prefix = strlen(PRIVATE_PREFIX);
    if (size < prefix || memcmp(text, PRIVATE_PREFIX, prefix) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: does not start with %s", path, PRIVATE_PREFIX);
    /* The rest has the verifier key's shape, with the seed in place of the public key. */
    const char *rest = text + prefix;
    size_t rest_size = size - prefix;
    const char *plus1 = memchr(rest, '+', rest_size);
    const char *plus2 = plus1 ? memchr(plus1 + 1, '+', rest_size - (size_t)(plus1 + 1 - rest)) : NULL;
    if (plus1 == NULL || plus2 == NULL || (size_t)(plus1 - rest) >= sizeof(n->name) || plus1 == rest)
        return lds_error_set(err, LDS_EFORMAT, "%s: not PRIVATE+KEY+<name>+<key id>+<key>", path);
    memcpy(n->name, rest, (size_t)(plus1 - rest));
    n->name[plus1 - rest] = 0;
    if (lds_note_name_check(n->name) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: invalid key name", path);
    unsigned char key[1 + LDS_ED25519_SEED_BYTES + 1];
    size_t key_size = 0;
    const char *b64 = plus2 + 1;
    if (lds_base64_decode(b64, rest_size - (size_t)(b64 - rest), key, sizeof(key), &key_size) != 0 ||
        key_size != 1 + LDS_ED25519_SEED_BYTES || key[0] != LDS_NOTE_SIG_TYPE_ED25519)
        return lds_error_set(err, LDS_EFORMAT, "%s: key is not base64 of 0x01 and a 32-byte Ed25519 seed", path);
    lds_ed25519_seed_keypair(key + 1, n->public_key, n->secret_key);
    lds_proto_wipe(key, sizeof(key));
    n->key_id = lds_note_key_id(n->name, n->public_key);
    char id_hex[9];
    snprintf(id_hex, sizeof(id_hex), "%08x", (unsigned)n->key_id);
    if (plus2 - plus1 - 1 != 8 || memcmp(plus1 + 1, id_hex, 8) != 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: key id does not match the name and key", path);
    snprintf(n->keyid, sizeof(n->keyid), "%s+%s", n->name, id_hex);
    return format_verifier_key(n->name, n->public_key, n->verifier_key, sizeof(n->verifier_key), err);
}

/* Writes data to path only if path does not exist (link(2) of a finished temp file, so readers
 * never see a partial key and two racing creators agree on one). *created = 0 when it existed. */
static lds_status write_new_file(const char *path, const char *data, size_t size, int mode, int *created,
                                 lds_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return lds_error_set(err, LDS_EINVAL, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    lds_status status = LDS_OK;
    if (fchmod(fd, (mode_t)mode) != 0 || write(fd, data, size) != (ssize_t)size || fsync(fd) != 0)
        status = lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    close(fd);
    if (status == LDS_OK) {
        if (link(tmp, path) == 0)
            *created = 1;
        else if (errno == EEXIST)
            *created = 0;
        else
            status = lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    }
    unlink(tmp);
    return status;
}

static const char *default_name(void)
{
    const char *name = lds_setting_text("LODESTONE_LOG_ORIGIN");
    return name ? name : DEFAULT_ORIGIN;
}

/* Loads (creating on first use) the key pair home/keys/<stem>.key (and <stem>.pub) into n. */
static lds_status load_keys(const char *home, const char *stem, const char *name, lds_notary *n, int *created,
                            lds_error *err)
{
    char dir[PATH_MAX], key_path[PATH_MAX + 80], pub_path[PATH_MAX + 80];
    snprintf(dir, sizeof(dir), "%s/keys", home);
    snprintf(key_path, sizeof(key_path), "%s/%s.key", dir, stem);
    snprintf(pub_path, sizeof(pub_path), "%s/%s.pub", dir, stem);
    *created = 0;
    lds_status status = lds_dir_create(dir, 0700, err);
    if (status != LDS_OK)
        return status;
    if (access(key_path, F_OK) != 0) {
        if (name == NULL)
            name = default_name();
        if (lds_note_name_check(name) != 0)
            return lds_error_set(err, LDS_EINVAL, "keys: \"%s\" is not a valid key name (no spaces or '+')", name);
        unsigned char seed[1 + LDS_ED25519_SEED_BYTES], public_key[32], secret_key[64];
        seed[0] = LDS_NOTE_SIG_TYPE_ED25519;
        lds_ed25519_random_seed(seed + 1);
        lds_ed25519_seed_keypair(seed + 1, public_key, secret_key);
        char *b64 = lds_base64_encode(seed, sizeof(seed));
        lds_proto_wipe(seed, sizeof(seed));
        lds_proto_wipe(secret_key, sizeof(secret_key));
        if (b64 == NULL)
            return lds_error_set(err, LDS_ENOMEM, "keys: out of memory");
        char text[LDS_NOTE_NAME_MAX + 128];
        snprintf(text, sizeof(text), "%s%s+%08x+%s\n", PRIVATE_PREFIX, name,
                 (unsigned)lds_note_key_id(name, public_key), b64);
        lds_proto_wipe(b64, strlen(b64));
        free(b64);
        status = write_new_file(key_path, text, strlen(text), 0600, created, err);
        lds_proto_wipe(text, sizeof(text));
        if (status != LDS_OK)
            return status;
        if (*created)
            lds_dir_sync(dir, NULL);
    }
    struct stat st;
    if (stat(key_path, &st) == 0 && (st.st_mode & 077) != 0)
        return lds_error_set(err, LDS_EPERM, "%s: readable by others (mode %03o); chmod 600 it", key_path,
                             (unsigned)(st.st_mode & 0777));
    unsigned char *text = NULL;
    size_t size = 0;
    if ((status = lds_file_read(key_path, 4096, &text, &size, err)) != LDS_OK)
        return status;
    status = parse_private_key(key_path, (const char *)text, size, n, err);
    lds_proto_wipe(text, size);
    free(text);
    if (status != LDS_OK)
        return status;
    /* The verifier key is derived from the private key; (re)write it when missing. */
    unsigned char *pub = NULL;
    size_t pub_size = 0;
    lds_error pub_err;
    lds_error_clear(&pub_err);
    if (lds_file_read(pub_path, 4096, &pub, &pub_size, &pub_err) == LDS_OK) {
        lds_note_verifier v;
        int same = lds_note_verifier_parse((const char *)pub, pub_size, &v, NULL) == LDS_OK &&
                   v.key_id == n->key_id && strcmp(v.name, n->name) == 0 &&
                   memcmp(v.public_key, n->public_key, 32) == 0;
        free(pub);
        if (!same)
            return lds_error_set(err, LDS_EVERIFY, "%s: is not the public key of %s", pub_path, key_path);
    } else {
        char line[sizeof(n->verifier_key) + 2];
        snprintf(line, sizeof(line), "%s\n", n->verifier_key);
        int pub_created = 0;
        if ((status = write_new_file(pub_path, line, strlen(line), 0644, &pub_created, err)) != LDS_OK)
            return status;
        lds_dir_sync(dir, NULL);
    }
    return LDS_OK;
}

lds_status lds_notary_keys_init(const char *home, const char *name, char **verifier_key, int *created,
                                lds_error *err)
{
    *verifier_key = NULL;
    lds_status status = lds_crypto_init();
    if (status != LDS_OK)
        return lds_error_set(err, status, "libsodium: initialisation failed");
    lds_notary *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return lds_error_set(err, LDS_ENOMEM, "keys: out of memory");
    status = load_keys(home, "notary", name, n, created, err);
    if (status == LDS_OK && name != NULL && strcmp(name, n->name) != 0 && !*created)
        lds_log_warn("keys: %s/keys/notary.key already exists with the name %s", home, n->name);
    if (status == LDS_OK && (*verifier_key = strdup(n->verifier_key)) == NULL)
        status = lds_error_set(err, LDS_ENOMEM, "keys: out of memory");
    lds_proto_wipe(n, sizeof(*n));
    free(n);
    return status;
}

lds_status lds_signing_key_open(const char *home, const char *stem, const char *name,
                                unsigned char public_key[LDS_ED25519_PUBLIC_BYTES],
                                unsigned char secret_key[LDS_ED25519_SECRET_BYTES], char *keyid, size_t keyid_size,
                                lds_error *err)
{
    lds_status status = lds_crypto_init();
    if (status != LDS_OK)
        return lds_error_set(err, status, "libsodium: initialisation failed");
    lds_notary *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return lds_error_set(err, LDS_ENOMEM, "keys: out of memory");
    int created = 0;
    status = load_keys(home, stem, name, n, &created, err);
    if (status == LDS_OK) {
        if (created)
            lds_log_info("keys: created the key pair %s in %s/keys/%s.key", n->keyid, home, stem);
        memcpy(public_key, n->public_key, LDS_ED25519_PUBLIC_BYTES);
        memcpy(secret_key, n->secret_key, LDS_ED25519_SECRET_BYTES);
        snprintf(keyid, keyid_size, "%s", n->keyid);
    }
    lds_proto_wipe(n, sizeof(*n));
    free(n);
    return status;
}

lds_status lds_notary_open(const char *home, lds_notary **out, lds_error *err)
{
    *out = NULL;
    lds_status status = lds_crypto_init();
    if (status != LDS_OK)
        return lds_error_set(err, status, "libsodium: initialisation failed");
    lds_notary *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return lds_error_set(err, LDS_ENOMEM, "notary: out of memory");
    int created = 0;
    status = load_keys(home, "notary", NULL, n, &created, err);
    if (status == LDS_OK) {
        if (created)
            lds_log_info("notary: created the key pair %s in %s/keys", n->keyid, home);
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/log", home);
        status = lds_tlog_open(dir, n->name, n->key_id, n->public_key, n->secret_key, &n->log, err);
    }
    if (status != LDS_OK) {
        lds_notary_close(n);
        return status;
    }
    *out = n;
    return LDS_OK;
}

void lds_notary_close(lds_notary *notary)
{
    if (notary == NULL)
        return;
    lds_tlog_close(notary->log);
    lds_proto_wipe(notary, sizeof(*notary));
    free(notary);
}

const char *lds_notary_verifier_key(const lds_notary *notary)
{
    return notary->verifier_key;
}

const char *lds_notary_origin(const lds_notary *notary)
{
    return notary->name;
}

lds_status lds_notary_size(lds_notary *notary, uint64_t *size, lds_error *err)
{
    lds_status status = lds_tlog_refresh(notary->log, err);
    *size = status == LDS_OK ? lds_merkle_tree_size(lds_tlog_tree(notary->log)) : 0;
    return status;
}

lds_status lds_notary_checkpoint(lds_notary *notary, char **note, lds_error *err)
{
    return lds_tlog_checkpoint(notary->log, note, err);
}

lds_status lds_notary_certify(lds_notary *notary, const char *statement_json, size_t statement_size, char **bundle_json,
                              uint64_t *log_index, lds_error *err)
{
    *bundle_json = NULL;
    lds_buf pae;
    lds_buf_init(&pae, LDS_LOG_ENTRY_MAX);
    unsigned char sig[LDS_ED25519_SIG_BYTES];
    unsigned char(*proof)[LDS_MERKLE_HASH_BYTES] = NULL;
    char *checkpoint = NULL;
    uint64_t index = 0;
    lds_status status = lds_dsse_pae(LDS_CERT_PAYLOAD_TYPE, statement_json, statement_size, &pae);
    if (status != LDS_OK) {
        status = lds_error_set(err, status, "notary: statement of %zu bytes: %s", statement_size,
                               lds_status_message(status));
        goto out;
    }
    /* Ed25519 is deterministic, so a re-run signs the same PAE into the same envelope. */
    lds_ed25519_sign(pae.data, pae.size, notary->secret_key, sig);
    if ((status = lds_tlog_append(notary->log, pae.data, pae.size, &index, err)) != LDS_OK)
        goto out;
    /* The checkpoint and the proof come from one locked snapshot of the log. */
    if ((status = lds_tlog_checkpoint(notary->log, &checkpoint, err)) != LDS_OK)
        goto out;
    const lds_merkle_tree *tree = lds_tlog_tree(notary->log);
    uint64_t tree_size = lds_merkle_tree_size(tree);
    proof = malloc(LDS_MERKLE_PROOF_MAX * sizeof(*proof));
    size_t count = 0;
    if (proof == NULL) {
        status = lds_error_set(err, LDS_ENOMEM, "notary: out of memory");
        goto out;
    }
    if ((status = lds_merkle_tree_inclusion_proof(tree, index, tree_size, proof, &count, err)) != LDS_OK)
        goto out;
    status = lds_cert_bundle_build(statement_json, statement_size, notary->keyid, sig, notary->name, index, tree_size,
                                   (const unsigned char(*)[LDS_MERKLE_HASH_BYTES])proof, count, checkpoint,
                                   bundle_json, err);
    if (status == LDS_OK && log_index)
        *log_index = index;
out:
    lds_buf_cleanup(&pae);
    free(proof);
    free(checkpoint);
    return status;
}

lds_status lds_notary_consistency_proof(lds_notary *notary, uint64_t size1, uint64_t size2,
                                        unsigned char proof[][LDS_MERKLE_HASH_BYTES], size_t *count, lds_error *err)
{
    *count = 0;
    lds_status status = lds_tlog_refresh(notary->log, err);
    if (status != LDS_OK)
        return status;
    return lds_merkle_tree_consistency_proof(lds_tlog_tree(notary->log), size1, size2, proof, count, err);
}

lds_status lds_notary_inclusion_proof(lds_notary *notary, uint64_t index, uint64_t tree_size,
                                      unsigned char leaf_hash[LDS_MERKLE_HASH_BYTES],
                                      unsigned char proof[][LDS_MERKLE_HASH_BYTES], size_t *count, lds_error *err)
{
    *count = 0;
    lds_status status = lds_tlog_refresh(notary->log, err);
    if (status != LDS_OK)
        return status;
    const lds_merkle_tree *tree = lds_tlog_tree(notary->log);
    status = lds_merkle_tree_inclusion_proof(tree, index, tree_size, proof, count, err);
    if (status == LDS_OK)
        memcpy(leaf_hash, lds_merkle_tree_leaf(tree, index), LDS_MERKLE_HASH_BYTES);
    return status;
}

lds_status lds_notary_check_consistency(lds_notary *notary, const char *old_note, size_t old_size,
                                        lds_checkpoint *old_cp, lds_checkpoint *new_cp, char **json, lds_error *err)
{
    *json = NULL;
    lds_note_verifier verifier;
    lds_checkpoint old, cur;
    lds_error sub;
    lds_error_clear(&sub);
    lds_status status = lds_note_verifier_parse(notary->verifier_key, strlen(notary->verifier_key), &verifier, err);
    if (status != LDS_OK)
        return status;
    if (lds_checkpoint_verify(old_note, old_size, &verifier, &old, &sub) != LDS_OK)
        return lds_error_set(err, LDS_EVERIFY, "old checkpoint: %s", sub.message);
    if (strcmp(old.origin, notary->name) != 0)
        return lds_error_set(err, LDS_EVERIFY, "old checkpoint: origin \"%s\" is not this log's \"%s\"", old.origin,
                             notary->name);
    char *note = NULL;
    unsigned char(*proof)[LDS_MERKLE_HASH_BYTES] = NULL;
    lds_proto_bytes *views = NULL;
    size_t count = 0;
    if ((status = lds_tlog_checkpoint(notary->log, &note, err)) != LDS_OK)
        return status;
    if (lds_checkpoint_verify(note, strlen(note), &verifier, &cur, &sub) != LDS_OK) {
        status = lds_error_set(err, LDS_EVERIFY, "current checkpoint: %s", sub.message);
        goto out;
    }
    if (old.size > cur.size) {
        status = lds_error_set(err, LDS_EVERIFY,
                               "the log has %llu entries, fewer than the %llu of the old checkpoint (rolled back?)",
                               (unsigned long long)cur.size, (unsigned long long)old.size);
        goto out;
    }
    proof = malloc(LDS_MERKLE_PROOF_MAX * sizeof(*proof));
    views = calloc(LDS_MERKLE_PROOF_MAX, sizeof(*views));
    if (proof == NULL || views == NULL) {
        status = lds_error_set(err, LDS_ENOMEM, "consistency: out of memory");
        goto out;
    }
    if (old.size == 0) {
        unsigned char empty[LDS_MERKLE_HASH_BYTES];
        lds_sha256_buffer("", 0, empty);
        if (memcmp(empty, old.root, sizeof(empty)) != 0) {
            status = lds_error_set(err, LDS_EVERIFY, "old checkpoint: size 0 but not the empty tree's root");
            goto out;
        }
    } else {
        /* The proof is made from the same snapshot the current checkpoint signs. */
        const lds_merkle_tree *tree = lds_tlog_tree(notary->log);
        if (lds_merkle_tree_size(tree) != cur.size) {
            status = lds_error_set(err, LDS_EINTERNAL, "consistency: the log moved while proving; try again");
            goto out;
        }
        if ((status = lds_merkle_tree_consistency_proof(tree, old.size, cur.size, proof, &count, err)) != LDS_OK)
            goto out;
        for (size_t i = 0; i < count; i++)
            views[i] = (lds_proto_bytes){proof[i], LDS_MERKLE_HASH_BYTES};
        if (lds_merkle_verify_consistency(old.size, cur.size, views, count,
                                          (lds_proto_bytes){old.root, sizeof(old.root)},
                                          (lds_proto_bytes){cur.root, sizeof(cur.root)}, &sub) != LDS_OK) {
            status = lds_error_set(err, LDS_EVERIFY, "the current log does not extend the old checkpoint: %s",
                                   sub.message);
            goto out;
        }
    }
    status = lds_proof_json(notary->name, "size1", old.size, "size2", cur.size, NULL, "consistencyProof",
                            (const unsigned char(*)[LDS_MERKLE_HASH_BYTES])proof, count, note, json, err);
    if (status == LDS_OK) {
        if (old_cp)
            *old_cp = old;
        if (new_cp)
            *new_cp = cur;
    }
out:
    free(note);
    free(proof);
    free(views);
    return status;
}

/* An inclusion proof of entry arg, or a consistency proof from size arg, as JSON, with the
 * checkpoint of the same snapshot of the log (so that proof and checkpoint always agree, even
 * while another process appends). */
static lds_status proof_json(lds_notary *notary, int consistency, uint64_t arg, char **json, lds_error *err)
{
    *json = NULL;
    char *note = NULL;
    unsigned char(*proof)[LDS_MERKLE_HASH_BYTES] = NULL;
    size_t count = 0;
    lds_status status = lds_tlog_checkpoint(notary->log, &note, err);
    if (status != LDS_OK)
        return status;
    const lds_merkle_tree *tree = lds_tlog_tree(notary->log);
    uint64_t size = lds_merkle_tree_size(tree);
    proof = malloc(LDS_MERKLE_PROOF_MAX * sizeof(*proof));
    if (proof == NULL)
        status = lds_error_set(err, LDS_ENOMEM, "proof: out of memory");
    else if (consistency && (arg == 0 || arg > size))
        status = lds_error_set(err, LDS_EINVAL, "log: no consistency proof from size %llu (the log has %llu)",
                               (unsigned long long)arg, (unsigned long long)size);
    else if (!consistency && arg >= size)
        status = lds_error_set(err, LDS_ENOENT, "log: no entry %llu (the log has %llu)", (unsigned long long)arg,
                               (unsigned long long)size);
    else if (consistency)
        status = lds_merkle_tree_consistency_proof(tree, arg, size, proof, &count, err);
    else
        status = lds_merkle_tree_inclusion_proof(tree, arg, size, proof, &count, err);
    if (status == LDS_OK)
        status = lds_proof_json(notary->name, consistency ? "from" : "index", arg, "treeSize", size,
                                consistency ? NULL : lds_merkle_tree_leaf(tree, arg),
                                consistency ? "consistencyProof" : "inclusionProof",
                                (const unsigned char(*)[LDS_MERKLE_HASH_BYTES])proof, count, note, json, err);
    free(note);
    free(proof);
    return status;
}

lds_status lds_notary_inclusion_json(lds_notary *notary, uint64_t index, char **json, lds_error *err)
{
    return proof_json(notary, 0, index, json, err);
}

lds_status lds_notary_consistency_json(lds_notary *notary, uint64_t size1, char **json, lds_error *err)
{
    return proof_json(notary, 1, size1, json, err);
}
