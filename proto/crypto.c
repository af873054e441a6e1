/* crypto.c: Ed25519 (RFC 8032) and base64 (RFC 4648 section 4) through libsodium. libsodium stops
 * here; the rest of proto/ sees only these functions. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto_internal.h"

_Static_assert(crypto_sign_PUBLICKEYBYTES == LDS_ED25519_PUBLIC_BYTES, "ed25519 public key size");
_Static_assert(crypto_sign_SECRETKEYBYTES == LDS_ED25519_SECRET_BYTES, "ed25519 secret key size");
_Static_assert(crypto_sign_SEEDBYTES == LDS_ED25519_SEED_BYTES, "ed25519 seed size");
_Static_assert(crypto_sign_BYTES == LDS_ED25519_SIG_BYTES, "ed25519 signature size");

void lds_ed25519_seed_keypair(const unsigned char seed[LDS_ED25519_SEED_BYTES],
                              unsigned char public_key[LDS_ED25519_PUBLIC_BYTES],
                              unsigned char secret_key[LDS_ED25519_SECRET_BYTES])
{
    crypto_sign_seed_keypair(public_key, secret_key, seed);
}

void lds_ed25519_random_seed(unsigned char seed[LDS_ED25519_SEED_BYTES])
{
    randombytes_buf(seed, LDS_ED25519_SEED_BYTES);
}

void lds_ed25519_sign(const void *message, size_t size, const unsigned char secret_key[LDS_ED25519_SECRET_BYTES],
                      unsigned char sig[LDS_ED25519_SIG_BYTES])
{
    crypto_sign_detached(sig, NULL, message, size, secret_key);
}

int lds_ed25519_verify(const void *message, size_t size, const unsigned char sig[LDS_ED25519_SIG_BYTES],
                       const unsigned char public_key[LDS_ED25519_PUBLIC_BYTES])
{
    return crypto_sign_verify_detached(sig, message, size, public_key) == 0;
}

void lds_proto_wipe(void *data, size_t size)
{
    sodium_memzero(data, size);
}

/* size bytes as base64 of a libsodium variant, NUL-terminated, malloc'd (NULL on out of memory). */
static char *base64_encode(const void *data, size_t size, int variant)
{
    size_t out_size = sodium_base64_encoded_len(size, variant);
    char *out = malloc(out_size);
    if (out == NULL)
        return NULL;
    sodium_bin2base64(out, out_size, data, size, variant);
    return out;
}

char *lds_base64_encode(const void *data, size_t size)
{
    return base64_encode(data, size, sodium_base64_VARIANT_ORIGINAL);
}

int lds_base64_decode(const char *text, size_t length, unsigned char *out, size_t max, size_t *out_size)
{
    const char *end = NULL;
    size_t decoded = 0;
    /* The padded variant requires '=' padding; libsodium also rejects non-zero unused bits, so
     * every encoding has exactly one accepted spelling. */
    if (length % 4 != 0)
        return -1;
    /* libsodium 1.0.18 decodes some bytes with the top bit set as base64 digits ("\xd1UFB" is
     * accepted), so check the alphabet first: one spelling per value. */
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '='))
            return -1;
    }
    if (sodium_base642bin(out, max, text, length, NULL, &decoded, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    if (end != text + length)
        return -1;
    *out_size = decoded;
    return 0;
}

char *lds_base64url_encode(const void *data, size_t size)
{
    return base64_encode(data, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int lds_base64url_decode(const char *text, size_t length, unsigned char *out, size_t max, size_t *out_size)
{
    const char *end = NULL;
    size_t decoded = 0;
    if (length % 4 == 1) /* no byte string encodes to that length */
        return -1;
    for (size_t i = 0; i < length; i++) { /* the alphabet first (see lds_base64_decode) */
        unsigned char c = (unsigned char)text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return -1;
    }
    if (sodium_base642bin(out, max, text, length, NULL, &decoded, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) !=
        0)
        return -1;
    if (end != text + length)
        return -1;
    *out_size = decoded;
    return 0;
}

void lds_blake2b(unsigned char *out, size_t out_size, const void *data, size_t size, const unsigned char *key,
                 size_t key_size)
{
    crypto_generichash(out, out_size, data, size, key, key ? key_size : 0);
}

void lds_random_bytes(void *out, size_t size)
{
    randombytes_buf(out, size);
}
