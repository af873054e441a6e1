/* cert.c: birth certificates. The statement is an in-toto Statement v1
 * (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md) signed into a DSSE v1
 * envelope (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md): Ed25519 over
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 * with LEN the ASCII decimal byte count. The bundle adds the log entry: the PAE is the leaf data
 * of the RFC 9162 log, so an inclusion proof to a signed checkpoint shows the certificate was
 * published. jansson stops here. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto_internal.h"

lds_status lds_dsse_pae(const char *payload_type, const void *body, size_t body_size, lds_buf *out)
{
    lds_status status =
        lds_buf_printf(out, "DSSEv1 %zu %s %zu ", strlen(payload_type), payload_type, body_size);
    if (status == LDS_OK)
        status = lds_buf_append(out, body, body_size);
    return status;
}

/* ---- statement ---- */
static int is_hex64(const char *s)
{
    if (s == NULL || strlen(s) != 64)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* json_object_set_new that remembers a failure in *ok. */
static void set(json_t *obj, const char *key, json_t *value, int *ok)
{
    if (value == NULL || json_object_set_new(obj, key, value) != 0)
        *ok = 0;
}

static void set_string(json_t *obj, const char *key, const char *value, int *ok)
{
    if (value != NULL)
        set(obj, key, json_string(value), ok);
}

static void push(json_t *array, json_t *value, int *ok)
{
    if (value == NULL || json_array_append_new(array, value) != 0)
        *ok = 0;
}

static const char *get_string(json_t *obj, const char *key)
{
    json_t *value = json_object_get(obj, key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

/* Decodes the DSSE envelope's payload (strict base64). Caller frees *payload. */
static lds_status envelope_payload(json_t *envelope, const char *what, unsigned char **payload, size_t *size,
                                   lds_error *err)
{
    *payload = NULL;
    json_t *value = json_object_get(envelope, "payload");
    if (!json_is_string(value))
        return lds_error_set(err, LDS_EFORMAT, "%s: dsseEnvelope.payload is missing or not a string", what);
    size_t length = json_string_length(value);
    unsigned char *out = malloc(length / 4 * 3 + 1);
    if (out == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", what);
    if (lds_base64_decode(json_string_value(value), length, out, length / 4 * 3 + 1, size) != 0) {
        free(out);
        return lds_error_set(err, LDS_EFORMAT, "%s: dsseEnvelope.payload is not valid base64", what);
    }
    out[*size] = 0;
    *payload = out;
    return LDS_OK;
}

/* The geometry subject's digest of a parsed statement, or NULL. */
static const char *statement_geometry(json_t *statement)
{
    json_t *subjects = json_object_get(statement, "subject");
    size_t i;
    json_t *subject;
    json_array_foreach(subjects, i, subject)
    {
        const char *hex = get_string(json_object_get(subject, "digest"), "lds-geom-1");
        if (hex != NULL)
            return hex;
    }
    return NULL;
}

/* A reference to another certificate (a parent, or the one reprocessing supersedes): where it is
 * in the log and digests that pin it. The bundle is parsed, not verified (verify it on its own). */
static lds_status bundle_reference(const char *bundle, const char *what, json_t **out, lds_error *err)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_loads(bundle, JSON_REJECT_DUPLICATES, &jerr);
    unsigned char *payload = NULL;
    size_t payload_size = 0;
    lds_buf pae;
    lds_buf_init(&pae, 0);
    lds_status status = LDS_OK;
    if (root == NULL) {
        status = lds_error_set(err, LDS_EFORMAT, "%s: not JSON: line %d: %s", what, jerr.line, jerr.text);
        goto out;
    }
    json_t *envelope = json_object_get(root, "dsseEnvelope"), *log = json_object_get(root, "log");
    const char *payload_type = get_string(envelope, "payloadType"), *origin = get_string(log, "origin");
    json_t *index = json_object_get(log, "index");
    if (!json_is_object(envelope) || payload_type == NULL || origin == NULL || !json_is_integer(index) ||
        json_integer_value(index) < 0) {
        status = lds_error_set(err, LDS_EFORMAT, "%s: not a certificate bundle (dsseEnvelope or log missing)", what);
        goto out;
    }
    status = envelope_payload(envelope, what, &payload, &payload_size, err);
    if (status != LDS_OK)
        goto out;
    if (lds_dsse_pae(payload_type, payload, payload_size, &pae) != LDS_OK) {
        status = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", what);
        goto out;
    }
    unsigned char digest[LDS_SHA256_BYTES], leaf[LDS_MERKLE_HASH_BYTES];
    char digest_hex[LDS_SHA256_HEX], leaf_hex[LDS_SHA256_HEX];
    lds_sha256_buffer(pae.data, pae.size, digest);
    lds_merkle_leaf_hash(pae.data, pae.size, leaf);
    lds_hex_encode(digest, sizeof(digest), digest_hex);
    lds_hex_encode(leaf, sizeof(leaf), leaf_hex);
    json_t *statement = json_loadb((const char *)payload, payload_size, 0, &jerr);
    const char *geometry = statement ? statement_geometry(statement) : NULL;
    int ok = 1;
    json_t *ref = json_object();
    if (ref == NULL)
        ok = 0;
    else {
        set(ref, "logIndex", json_integer(json_integer_value(index)), &ok);
        set_string(ref, "origin", origin, &ok);
        set_string(ref, "leafHash", leaf_hex, &ok);
        set_string(ref, "envelopeSha256", digest_hex, &ok);
        if (geometry != NULL) {
            char fp[96];
            snprintf(fp, sizeof(fp), "lds-geom-1:%s", geometry);
            set_string(ref, "geometry", fp, &ok);
        }
    }
    json_decref(statement);
    if (!ok) {
        json_decref(ref);
        status = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", what);
        goto out;
    }
    *out = ref;
out:
    json_decref(root);
    free(payload);
    lds_buf_cleanup(&pae);
    return status;
}

static json_t *digest_list(const lds_cert_digest *items, size_t count, int subject, int *ok)
{
    json_t *array = json_array();
    if (array == NULL) {
        *ok = 0;
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_object();
        if (item == NULL) {
            *ok = 0;
            continue;
        }
        set_string(item, "name", items[i].name, ok);
        if (subject) {
            json_t *digest = json_object();
            if (digest)
                set_string(digest, "sha256", items[i].sha256_hex, ok);
            set(item, "digest", digest, ok);
        } else {
            set_string(item, "sha256", items[i].sha256_hex, ok);
        }
        push(array, item, ok);
    }
    return array;
}

lds_status lds_cert_statement_build(const lds_cert_fields *f, char **json, lds_error *err)
{
    *json = NULL;
    for (size_t i = 0; i < f->source_count; i++)
        if (f->sources[i].name == NULL || !is_hex64(f->sources[i].sha256_hex))
            return lds_error_set(err, LDS_EINVAL, "certificate: source %zu: needs a name and 64 lower-case hex digits",
                                 i);
    for (size_t i = 0; i < f->lod_count; i++)
        if (f->lods[i].name == NULL || !is_hex64(f->lods[i].sha256_hex))
            return lds_error_set(err, LDS_EINVAL, "certificate: LOD %zu: needs a name and 64 lower-case hex digits", i);
    const char *geometry = f->geometry_fingerprint;
    if (geometry == NULL || strncmp(geometry, "lds-geom-1:", 11) != 0 || !is_hex64(geometry + 11))
        return lds_error_set(err, LDS_EINVAL, "certificate: geometry fingerprint \"%s\" is not lds-geom-1:<64 hex>",
                             geometry ? geometry : "(none)");
    if (f->source_kind && strcmp(f->source_kind, "upload") != 0 && strcmp(f->source_kind, "deposit") != 0)
        return lds_error_set(err, LDS_EINVAL, "certificate: source kind \"%s\" is neither upload nor deposit",
                             f->source_kind);

    lds_status status = LDS_OK;
    int ok = 1;
    json_t *root = json_object(), *predicate = json_object(), *source = json_object();
    json_t *subjects = digest_list(f->sources, f->source_count, 1, &ok);
    json_t *geometry_subject = json_object(), *geometry_digest = json_object();
    if (!root || !predicate || !source || !geometry_subject || !geometry_digest) {
        json_decref(root);
        json_decref(predicate);
        json_decref(source);
        json_decref(subjects);
        json_decref(geometry_subject);
        json_decref(geometry_digest);
        return lds_error_set(err, LDS_ENOMEM, "certificate: out of memory");
    }
    set_string(geometry_subject, "name", "geometry", &ok);
    set_string(geometry_digest, "lds-geom-1", geometry + 11, &ok);
    set(geometry_subject, "digest", geometry_digest, &ok);
    push(subjects, geometry_subject, &ok);

    set_string(root, "_type", LDS_CERT_STATEMENT_TYPE, &ok);
    set(root, "subject", subjects, &ok);
    set_string(root, "predicateType", LDS_CERT_PREDICATE_TYPE, &ok);

    set_string(predicate, "owner", f->owner, &ok);
    set_string(predicate, "claimed_owner", f->claimed_owner, &ok);
    set_string(predicate, "license", f->license, &ok);
    set_string(predicate, "title", f->title, &ok);
    set_string(predicate, "description", f->description, &ok);
    set_string(predicate, "category", f->category, &ok);
    if (f->tag_count > 0) {
        json_t *tags = json_array();
        for (size_t i = 0; tags && i < f->tag_count; i++)
            push(tags, json_string(f->tags[i]), &ok);
        set(predicate, "tags", tags, &ok);
    }
    set_string(source, "kind", f->source_kind, &ok);
    set_string(source, "accession", f->accession, &ok);
    set_string(source, "captureMethod", f->capture_method, &ok);
    set(predicate, "source", source, &ok);
    json_t *fingerprints = json_object();
    if (fingerprints) {
        set_string(fingerprints, "geometry", geometry, &ok);
        set_string(fingerprints, "shape", f->shape_fingerprint, &ok);
    }
    set(predicate, "fingerprints", fingerprints, &ok);
    json_t *parents = json_array();
    for (size_t i = 0; parents && i < f->parent_count && status == LDS_OK; i++) {
        char what[64];
        snprintf(what, sizeof(what), "parent certificate %zu", i + 1);
        json_t *ref = NULL;
        status = bundle_reference(f->parent_bundles[i], what, &ref, err);
        if (status == LDS_OK)
            push(parents, ref, &ok);
    }
    set(predicate, "parents", parents, &ok);
    set(predicate, "lods", digest_list(f->lods, f->lod_count, 0, &ok), &ok);
    set_string(predicate, "pipelineVersion", f->pipeline_version, &ok);
    set_string(predicate, "time", f->time, &ok);
    if (f->previous_certificate != NULL && status == LDS_OK) {
        json_t *ref = NULL;
        status = bundle_reference(f->previous_certificate, "previous certificate", &ref, err);
        if (status == LDS_OK)
            set(predicate, "previous", ref, &ok);
    }
    set(root, "predicate", predicate, &ok);
    if (status == LDS_OK && !ok)
        status = lds_error_set(err, LDS_ENOMEM, "certificate: out of memory (or a field is not UTF-8)");
    if (status == LDS_OK) {
        *json = json_dumps(root, JSON_COMPACT);
        if (*json == NULL)
            status = lds_error_set(err, LDS_ENOMEM, "certificate: out of memory");
    }
    json_decref(root);
    return status;
}

/* ---- bundle ---- */
lds_status lds_cert_bundle_build(const char *statement, size_t statement_size, const char *keyid,
                                 const unsigned char sig[LDS_ED25519_SIG_BYTES], const char *origin,
                                 uint64_t index, uint64_t tree_size, const unsigned char (*proof)[LDS_MERKLE_HASH_BYTES],
                                 size_t proof_count, const char *checkpoint, char **bundle, lds_error *err)
{
    *bundle = NULL;
    int ok = 1;
    char *payload_b64 = lds_base64_encode(statement, statement_size);
    char *sig_b64 = lds_base64_encode(sig, LDS_ED25519_SIG_BYTES);
    json_t *root = json_object(), *envelope = json_object(), *sigs = json_array(), *sig_obj = json_object();
    json_t *log = json_object(), *proof_array = json_array();
    if (!payload_b64 || !sig_b64 || !root || !envelope || !sigs || !sig_obj || !log || !proof_array)
        ok = 0;
    if (ok) {
        set_string(root, "mediaType", LDS_CERT_MEDIA_TYPE, &ok);
        set_string(envelope, "payload", payload_b64, &ok);
        set_string(envelope, "payloadType", LDS_CERT_PAYLOAD_TYPE, &ok);
        set_string(sig_obj, "keyid", keyid, &ok);
        set_string(sig_obj, "sig", sig_b64, &ok);
        push(sigs, sig_obj, &ok);
        sig_obj = NULL;
        set(envelope, "signatures", sigs, &ok);
        sigs = NULL;
        set(root, "dsseEnvelope", envelope, &ok);
        envelope = NULL;
        set_string(log, "origin", origin, &ok);
        set(log, "index", json_integer((json_int_t)index), &ok);
        set(log, "treeSize", json_integer((json_int_t)tree_size), &ok);
        for (size_t i = 0; i < proof_count; i++) {
            char *b64 = lds_base64_encode(proof[i], LDS_MERKLE_HASH_BYTES);
            push(proof_array, b64 ? json_string(b64) : NULL, &ok);
            free(b64);
        }
        set(log, "inclusionProof", proof_array, &ok);
        proof_array = NULL;
        set_string(log, "checkpoint", checkpoint, &ok);
        set(root, "log", log, &ok);
        log = NULL;
    }
    if (ok)
        *bundle = json_dumps(root, JSON_COMPACT);
    free(payload_b64);
    free(sig_b64);
    json_decref(root);
    json_decref(envelope);
    json_decref(sigs);
    json_decref(sig_obj);
    json_decref(log);
    json_decref(proof_array);
    if (*bundle == NULL)
        return lds_error_set(err, LDS_ENOMEM, "certificate bundle: out of memory");
    return LDS_OK;
}

void lds_cert_info_cleanup(lds_cert_info *info)
{
    if (info == NULL)
        return;
    free(info->statement_json);
    memset(info, 0, sizeof(*info));
}

lds_status lds_cert_verify(const char *bundle, size_t bundle_size, const char *verifier_key, size_t key_size,
                           lds_cert_info *info, lds_error *err)
{
    if (info)
        memset(info, 0, sizeof(*info));
    lds_note_verifier verifier;
    lds_status status = lds_note_verifier_parse(verifier_key, key_size, &verifier, err);
    if (status != LDS_OK)
        return status;
    if (bundle_size > LDS_CERT_MAX)
        return lds_error_set(err, LDS_ELIMIT, "certificate: %zu bytes, over the %d-byte cap", bundle_size,
                             LDS_CERT_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(bundle, bundle_size, JSON_REJECT_DUPLICATES, &jerr), *statement = NULL;
    unsigned char *payload = NULL;
    size_t payload_size = 0;
    lds_buf pae;
    lds_buf_init(&pae, 0);
    lds_proto_bytes *proof = NULL;
    unsigned char(*proof_hashes)[LDS_MERKLE_HASH_BYTES] = NULL;
    if (root == NULL) {
        status = lds_error_set(err, LDS_EFORMAT, "certificate: not JSON: line %d column %d: %s", jerr.line,
                               jerr.column, jerr.text);
        goto out;
    }
    const char *media_type = get_string(root, "mediaType");
    if (media_type == NULL || strcmp(media_type, LDS_CERT_MEDIA_TYPE) != 0) {
        status = lds_error_set(err, LDS_EFORMAT, "certificate: mediaType is not %s", LDS_CERT_MEDIA_TYPE);
        goto out;
    }

    /* 1. the DSSE envelope and its signature */
    json_t *envelope = json_object_get(root, "dsseEnvelope");
    if (!json_is_object(envelope)) {
        status = lds_error_set(err, LDS_EFORMAT, "certificate: dsseEnvelope is missing");
        goto out;
    }
    const char *payload_type = get_string(envelope, "payloadType");
    if (payload_type == NULL || strcmp(payload_type, LDS_CERT_PAYLOAD_TYPE) != 0) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: dsseEnvelope.payloadType is not %s",
                               LDS_CERT_PAYLOAD_TYPE);
        goto out;
    }
    status = envelope_payload(envelope, "certificate", &payload, &payload_size, err);
    if (status != LDS_OK)
        goto out;
    if (lds_dsse_pae(payload_type, payload, payload_size, &pae) != LDS_OK) {
        status = lds_error_set(err, LDS_ENOMEM, "certificate: out of memory");
        goto out;
    }
    char keyid[LDS_NOTE_NAME_MAX + 16];
    snprintf(keyid, sizeof(keyid), "%s+%08x", verifier.name, (unsigned)verifier.key_id);
    json_t *signatures = json_object_get(envelope, "signatures");
    if (!json_is_array(signatures) || json_array_size(signatures) == 0) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: dsseEnvelope has no signatures");
        goto out;
    }
    int signed_by_key = 0;
    size_t i;
    json_t *item;
    json_array_foreach(signatures, i, item)
    {
        const char *id = get_string(item, "keyid"), *sig_b64 = get_string(item, "sig");
        if (id == NULL || sig_b64 == NULL) {
            status = lds_error_set(err, LDS_EFORMAT, "certificate: DSSE signature %zu lacks keyid or sig", i);
            goto out;
        }
        if (strcmp(id, keyid) != 0)
            continue;
        unsigned char sig[LDS_ED25519_SIG_BYTES + 1];
        size_t sig_size = 0;
        if (lds_base64_decode(sig_b64, strlen(sig_b64), sig, sizeof(sig), &sig_size) != 0 ||
            sig_size != LDS_ED25519_SIG_BYTES) {
            status = lds_error_set(err, LDS_EVERIFY, "certificate: DSSE signature by %s is not base64 of 64 bytes",
                                   keyid);
            goto out;
        }
        if (!lds_ed25519_verify(pae.data, pae.size, sig, verifier.public_key)) {
            status = lds_error_set(err, LDS_EVERIFY, "certificate: DSSE signature by %s does not verify", keyid);
            goto out;
        }
        signed_by_key = 1;
    }
    if (!signed_by_key) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: no DSSE signature by the key %s", keyid);
        goto out;
    }

    /* 2. the statement it signs */
    statement = json_loadb((const char *)payload, payload_size, JSON_REJECT_DUPLICATES, &jerr);
    const char *type = get_string(statement, "_type"), *predicate_type = get_string(statement, "predicateType");
    if (statement == NULL || type == NULL || strcmp(type, LDS_CERT_STATEMENT_TYPE) != 0) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: the payload is not an in-toto Statement v1");
        goto out;
    }
    if (predicate_type == NULL || strcmp(predicate_type, LDS_CERT_PREDICATE_TYPE) != 0) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: predicateType is not %s", LDS_CERT_PREDICATE_TYPE);
        goto out;
    }

    /* 3. the log entry: checkpoint signature, then inclusion of the PAE under its root */
    json_t *log = json_object_get(root, "log");
    const char *origin = get_string(log, "origin");
    json_t *index = json_object_get(log, "index"), *tree_size = json_object_get(log, "treeSize");
    json_t *proof_json = json_object_get(log, "inclusionProof"), *checkpoint = json_object_get(log, "checkpoint");
    if (!json_is_object(log) || origin == NULL || !json_is_integer(index) || !json_is_integer(tree_size) ||
        !json_is_array(proof_json) || !json_is_string(checkpoint)) {
        status = lds_error_set(err, LDS_EFORMAT,
                               "certificate: log needs origin, index, treeSize, inclusionProof and checkpoint");
        goto out;
    }
    if (json_integer_value(index) < 0 || json_integer_value(tree_size) < 1) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: log.index or log.treeSize is out of range");
        goto out;
    }
    lds_checkpoint cp;
    lds_error cp_err;
    lds_error_clear(&cp_err);
    if (lds_checkpoint_verify(json_string_value(checkpoint), json_string_length(checkpoint), &verifier, &cp,
                              &cp_err) != LDS_OK) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: log.checkpoint: %s", cp_err.message);
        goto out;
    }
    if (strcmp(cp.origin, origin) != 0) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: checkpoint origin \"%s\" is not log.origin \"%s\"",
                               cp.origin, origin);
        goto out;
    }
    if (cp.size != (uint64_t)json_integer_value(tree_size)) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: checkpoint size %llu is not log.treeSize %lld",
                               (unsigned long long)cp.size, (long long)json_integer_value(tree_size));
        goto out;
    }
    size_t proof_count = json_array_size(proof_json);
    if (proof_count > LDS_MERKLE_PROOF_MAX) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: inclusion proof has %zu hashes", proof_count);
        goto out;
    }
    proof = calloc(proof_count + 1, sizeof(*proof));
    proof_hashes = calloc(proof_count + 1, sizeof(*proof_hashes));
    if (proof == NULL || proof_hashes == NULL) {
        status = lds_error_set(err, LDS_ENOMEM, "certificate: out of memory");
        goto out;
    }
    json_array_foreach(proof_json, i, item)
    {
        size_t size = 0;
        if (!json_is_string(item) ||
            lds_base64_decode(json_string_value(item), json_string_length(item), proof_hashes[i],
                              LDS_MERKLE_HASH_BYTES, &size) != 0 ||
            size != LDS_MERKLE_HASH_BYTES) {
            status = lds_error_set(err, LDS_EVERIFY, "certificate: inclusion proof hash %zu is not base64 of 32 bytes",
                                   i);
            goto out;
        }
        proof[i].data = proof_hashes[i];
        proof[i].size = LDS_MERKLE_HASH_BYTES;
    }
    unsigned char leaf[LDS_MERKLE_HASH_BYTES];
    lds_merkle_leaf_hash(pae.data, pae.size, leaf);
    lds_error proof_err;
    lds_error_clear(&proof_err);
    if (lds_merkle_verify_inclusion((uint64_t)json_integer_value(index), cp.size,
                                    (lds_proto_bytes){leaf, sizeof(leaf)}, proof, proof_count,
                                    (lds_proto_bytes){cp.root, sizeof(cp.root)}, &proof_err) != LDS_OK) {
        status = lds_error_set(err, LDS_EVERIFY, "certificate: log entry %lld: %s",
                               (long long)json_integer_value(index), proof_err.message);
        goto out;
    }
    if (info) {
        info->log_index = (uint64_t)json_integer_value(index);
        info->tree_size = cp.size;
        snprintf(info->origin, sizeof(info->origin), "%s", cp.origin);
        const char *geometry = statement_geometry(statement);
        if (geometry)
            snprintf(info->geometry, sizeof(info->geometry), "lds-geom-1:%s", geometry);
        info->statement_json = (char *)payload;
        info->statement_size = payload_size;
        payload = NULL;
    }
out:
    json_decref(root);
    json_decref(statement);
    free(payload);
    free(proof);
    free(proof_hashes);
    lds_buf_cleanup(&pae);
    return status;
}

lds_status lds_proof_json(const char *origin, const char *a_key, uint64_t a, const char *b_key, uint64_t b,
                          const unsigned char *leaf_hash, const char *proof_key,
                          const unsigned char (*proof)[LDS_MERKLE_HASH_BYTES], size_t count, const char *checkpoint,
                          char **out, lds_error *err)
{
    *out = NULL;
    int ok = 1;
    json_t *root = json_object(), *array = json_array();
    if (root == NULL || array == NULL) {
        json_decref(root);
        json_decref(array);
        return lds_error_set(err, LDS_ENOMEM, "proof: out of memory");
    }
    set_string(root, "origin", origin, &ok);
    set(root, a_key, json_integer((json_int_t)a), &ok);
    set(root, b_key, json_integer((json_int_t)b), &ok);
    if (leaf_hash) {
        char *b64 = lds_base64_encode(leaf_hash, LDS_MERKLE_HASH_BYTES);
        set(root, "leafHash", b64 ? json_string(b64) : NULL, &ok);
        free(b64);
    }
    for (size_t i = 0; i < count; i++) {
        char *b64 = lds_base64_encode(proof[i], LDS_MERKLE_HASH_BYTES);
        push(array, b64 ? json_string(b64) : NULL, &ok);
        free(b64);
    }
    set(root, proof_key, array, &ok);
    set_string(root, "checkpoint", checkpoint, &ok);
    if (ok)
        *out = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    return *out ? LDS_OK : lds_error_set(err, LDS_ENOMEM, "proof: out of memory");
}
