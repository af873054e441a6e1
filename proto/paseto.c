/*
 * paseto.c: PASETO version 4, purpose "public" (the PASETO specification, "Version 4" and
 * "Common": PAE, base64url without padding, footers, implicit assertions), and the preview keys:
 * the Ed25519 key pair that signs preview tokens (home/keys/preview.key, stored like the notary's
 * key) and the secret that keys the preview watermarks (home/keys/watermark.key).
 *
 * Sign:   m2 = PAE("v4.public.", m, f, i); sig = Ed25519(sk, m2);
 *         token = "v4.public." || b64url(m || sig) [|| "." || b64url(f) when f is not empty]
 * Verify: the header first, then the footer (constant-time compare when one is expected), then
 *         the signature over the same PAE; the message is returned only after it verifies.
 * Key ids are PASERK "k4.pid" (BLAKE2b-264 of "k4.pid." || the k4.public PASERK of the key).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "proto_internal.h"

#define HEADER "v4.public."
#define HEADER_LEN 10
#define MAX_TOKEN 8192

/* PAE (PASETO "Common": pre-authentication encoding): LE64(count), then LE64(len) || piece for
 * each piece, with the top bit of every LE64 cleared. */
static lds_status pae(lds_buf *out, size_t count, const void *const *pieces, const size_t *sizes)
{
    unsigned char le[8];
    for (size_t k = 0; k <= count; k++) {
        uint64_t n = k == 0 ? count : sizes[k - 1];
        for (int b = 0; b < 8; b++)
            le[b] = (unsigned char)(n >> (8 * b));
        le[7] &= 0x7f;
        lds_status st = lds_buf_append(out, le, 8);
        if (st == LDS_OK && k > 0 && sizes[k - 1] > 0)
            st = lds_buf_append(out, pieces[k - 1], sizes[k - 1]);
        if (st != LDS_OK)
            return st;
    }
    return LDS_OK;
}

static lds_status pae_v4(lds_buf *out, const void *m, size_t m_size, const void *f, size_t f_size, const void *i,
                         size_t i_size)
{
    const void *pieces[4] = {HEADER, m, f, i};
    size_t sizes[4] = {HEADER_LEN, m_size, f_size, i_size};
    return pae(out, 4, pieces, sizes);
}

lds_status lds_paseto_v4_sign(const unsigned char secret_key[64], const void *message, size_t message_size,
                              const void *footer, size_t footer_size, const void *implicit, size_t implicit_size,
                              char **token, lds_error *err)
{
    *token = NULL;
    if (message_size > MAX_TOKEN || footer_size > MAX_TOKEN || implicit_size > MAX_TOKEN)
        return lds_error_set(err, LDS_ELIMIT, "paseto: message, footer or assertion over %d bytes", MAX_TOKEN);
    lds_buf m2, body;
    lds_buf_init(&m2, 0);
    lds_buf_init(&body, 0);
    char *b64 = NULL, *f64 = NULL;
    lds_status st = pae_v4(&m2, message, message_size, footer, footer_size, implicit, implicit_size);
    unsigned char sig[LDS_ED25519_SIG_BYTES];
    if (st == LDS_OK) {
        lds_ed25519_sign(m2.data, m2.size, secret_key, sig);
        st = lds_buf_append(&body, message, message_size);
    }
    if (st == LDS_OK)
        st = lds_buf_append(&body, sig, sizeof(sig));
    if (st == LDS_OK && ((b64 = lds_base64url_encode(body.data, body.size)) == NULL ||
                         (footer_size > 0 && (f64 = lds_base64url_encode(footer, footer_size)) == NULL)))
        st = LDS_ENOMEM;
    if (st == LDS_OK) {
        size_t n = HEADER_LEN + strlen(b64) + (f64 ? 1 + strlen(f64) : 0) + 1;
        if ((*token = malloc(n)) == NULL)
            st = LDS_ENOMEM;
        else
            snprintf(*token, n, "%s%s%s%s", HEADER, b64, f64 ? "." : "", f64 ? f64 : "");
    }
    free(b64);
    free(f64);
    lds_buf_cleanup(&m2);
    lds_buf_cleanup(&body);
    return st == LDS_OK ? LDS_OK : lds_error_set(err, st, "paseto: cannot build the token (%s)", lds_status_message(st));
}

lds_status lds_paseto_v4_verify(const unsigned char public_key[32], const char *token, size_t token_size,
                                const void *footer, size_t footer_size, const void *implicit, size_t implicit_size,
                                unsigned char **message, size_t *message_size, lds_error *err)
{
    *message = NULL;
    *message_size = 0;
    if (token_size > MAX_TOKEN)
        return lds_error_set(err, LDS_EVERIFY, "token: longer than %d bytes", MAX_TOKEN);
    if (token_size < HEADER_LEN || memcmp(token, HEADER, HEADER_LEN) != 0)
        return lds_error_set(err, LDS_EVERIFY, "token: not a v4.public PASETO");
    const char *body = token + HEADER_LEN;
    const char *dot = memchr(body, '.', token_size - HEADER_LEN);
    size_t body_len = dot ? (size_t)(dot - body) : token_size - HEADER_LEN;
    size_t f64_len = dot ? token_size - HEADER_LEN - body_len - 1 : 0;
    if (dot && (f64_len == 0 || memchr(dot + 1, '.', f64_len) != NULL))
        return lds_error_set(err, LDS_EVERIFY, "token: malformed footer");
    unsigned char *raw = malloc(token_size), *foot = malloc(token_size + 1);
    lds_buf m2;
    lds_buf_init(&m2, 0);
    size_t raw_size = 0, foot_size = 0;
    lds_status st = LDS_OK;
    if (raw == NULL || foot == NULL)
        st = lds_error_set(err, LDS_ENOMEM, "token: out of memory");
    else if (lds_base64url_decode(body, body_len, raw, token_size, &raw_size) != 0 ||
             raw_size < LDS_ED25519_SIG_BYTES ||
             (dot && lds_base64url_decode(dot + 1, f64_len, foot, token_size, &foot_size) != 0))
        st = lds_error_set(err, LDS_EVERIFY, "token: not base64url");
    else if (footer != NULL && (foot_size != footer_size || sodium_memcmp(foot, footer, footer_size) != 0))
        st = lds_error_set(err, LDS_EVERIFY, "token: unexpected footer");
    else if (pae_v4(&m2, raw, raw_size - LDS_ED25519_SIG_BYTES, foot, foot_size, implicit, implicit_size) != LDS_OK)
        st = lds_error_set(err, LDS_ENOMEM, "token: out of memory");
    else if (!lds_ed25519_verify(m2.data, m2.size, raw + raw_size - LDS_ED25519_SIG_BYTES, public_key))
        st = lds_error_set(err, LDS_EVERIFY, "token: bad signature");
    lds_buf_cleanup(&m2);
    free(foot);
    if (st != LDS_OK) {
        free(raw);
        return st;
    }
    *message_size = raw_size - LDS_ED25519_SIG_BYTES;
    raw[*message_size] = 0; /* the signature's room: the message comes back NUL-terminated */
    *message = raw;
    return LDS_OK;
}

lds_status lds_paserk_pid(const unsigned char public_key[32], char out[LDS_PASERK_PID_MAX], lds_error *err)
{
    char *key64 = lds_base64url_encode(public_key, 32);
    if (key64 == NULL)
        return lds_error_set(err, LDS_ENOMEM, "paserk: out of memory");
    char text[128];
    int n = snprintf(text, sizeof(text), "k4.pid.k4.public.%s", key64);
    free(key64);
    unsigned char digest[33];
    lds_blake2b(digest, sizeof(digest), text, (size_t)n, NULL, 0);
    char *d64 = lds_base64url_encode(digest, sizeof(digest));
    if (d64 == NULL)
        return lds_error_set(err, LDS_ENOMEM, "paserk: out of memory");
    snprintf(out, LDS_PASERK_PID_MAX, "k4.pid.%s", d64);
    free(d64);
    return LDS_OK;
}

/* ---- the preview keys ---- */

struct lds_preview_keys {
    unsigned char public_key[LDS_ED25519_PUBLIC_BYTES];
    unsigned char secret_key[LDS_ED25519_SECRET_BYTES];
    char pid[LDS_PASERK_PID_MAX];
    char footer[LDS_PASERK_PID_MAX + 16];
    unsigned char watermark[32];
    char watermark_id[17];
};

/* Reads home/keys/watermark.key (64 hex digits), creating it on first use: a finished temp file
 * linked into place, so that racing creators agree on one. */
static lds_status watermark_key(const char *home, unsigned char key[32], lds_error *err)
{
    char path[PATH_MAX], tmp[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/keys/watermark.key", home);
    if (access(path, F_OK) != 0) {
        unsigned char fresh[32];
        char hex[66];
        lds_random_bytes(fresh, sizeof(fresh));
        lds_hex_encode(fresh, sizeof(fresh), hex);
        lds_proto_wipe(fresh, sizeof(fresh));
        hex[64] = '\n';
        snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
        int fd = mkstemp(tmp);
        if (fd < 0)
            return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
        int ok = fchmod(fd, 0600) == 0 && write(fd, hex, 65) == 65 && fsync(fd) == 0;
        close(fd);
        lds_proto_wipe(hex, sizeof(hex));
        if (ok && link(tmp, path) != 0 && errno != EEXIST)
            ok = 0;
        unlink(tmp);
        if (!ok)
            return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
        return lds_error_set(err, LDS_EPERM, "%s: readable by others (mode %03o); chmod 600 it", path,
                             (unsigned)(st.st_mode & 0777));
    unsigned char *text = NULL;
    size_t size = 0;
    lds_status s = lds_file_read(path, 256, &text, &size, err);
    if (s != LDS_OK)
        return s;
    char hex[65];
    while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == '\r' || text[size - 1] == ' '))
        size--;
    if (size == 64)
        memcpy(hex, text, 64);
    hex[64] = 0;
    if (size != 64 || lds_hex_decode(hex, key, 32) != LDS_OK)
        s = lds_error_set(err, LDS_EFORMAT, "%s: expected 64 hex digits", path);
    lds_proto_wipe(hex, sizeof(hex));
    lds_proto_wipe(text, size);
    free(text);
    return s;
}

lds_status lds_preview_keys_open(const char *home, lds_preview_keys **out, lds_error *err)
{
    *out = NULL;
    if (lds_crypto_init() != LDS_OK)
        return lds_error_set(err, LDS_EINTERNAL, "libsodium: initialisation failed");
    lds_preview_keys *k = sodium_malloc(sizeof(*k));
    if (k == NULL)
        return lds_error_set(err, LDS_ENOMEM, "keys: out of memory");
    memset(k, 0, sizeof(*k));
    char keyid[256];
    lds_status st = lds_signing_key_open(home, "preview", "lodestone-preview", k->public_key, k->secret_key, keyid,
                                         sizeof(keyid), err);
    if (st == LDS_OK)
        st = lds_paserk_pid(k->public_key, k->pid, err);
    if (st == LDS_OK)
        st = watermark_key(home, k->watermark, err);
    if (st != LDS_OK) {
        lds_preview_keys_close(k);
        return st;
    }
    snprintf(k->footer, sizeof(k->footer), "{\"kid\":\"%s\"}", k->pid);
    unsigned char digest[LDS_SHA256_BYTES];
    lds_sha256_buffer(k->watermark, sizeof(k->watermark), digest);
    lds_hex_encode(digest, 8, k->watermark_id);
    *out = k;
    return LDS_OK;
}

void lds_preview_keys_close(lds_preview_keys *keys)
{
    if (keys)
        sodium_free(keys); /* zeroes the memory */
}

const char *lds_preview_keys_id(const lds_preview_keys *keys)
{
    return keys->pid;
}

const char *lds_preview_keys_watermark_id(const lds_preview_keys *keys)
{
    return keys->watermark_id;
}

lds_status lds_preview_token_sign(const lds_preview_keys *keys, const char *claims, char **token, lds_error *err)
{
    return lds_paseto_v4_sign(keys->secret_key, claims, strlen(claims), keys->footer, strlen(keys->footer), NULL, 0,
                              token, err);
}

lds_status lds_preview_token_verify(const lds_preview_keys *keys, const char *token, char **claims, lds_error *err)
{
    unsigned char *message = NULL;
    size_t size = 0;
    lds_status st = lds_paseto_v4_verify(keys->public_key, token, strlen(token), keys->footer, strlen(keys->footer),
                                         NULL, 0, &message, &size, err);
    if (st == LDS_OK && memchr(message, 0, size) != NULL) {
        free(message);
        return lds_error_set(err, LDS_EVERIFY, "token: claims hold a NUL byte");
    }
    *claims = (char *)message;
    return st;
}

void lds_preview_watermark_seed(const lds_preview_keys *keys, const char *preview_id, unsigned char seed[32])
{
    lds_blake2b(seed, 32, preview_id, strlen(preview_id), keys->watermark, sizeof(keys->watermark));
}
