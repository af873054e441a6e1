/* hash.c: SHA-256 (FIPS 180-4) and hex encoding. SHA-256 is OpenSSL's: it uses the CPU's SHA
 * extensions, about 8x faster here than libsodium's portable code, and the pipeline hashes every
 * original and every output file. Its low-level SHA256_CTX API needs no allocation, so an
 * lds_sha256 can be dropped on any error path. libsodium (initialised here) serves signatures. */
#define OPENSSL_API_COMPAT 0x10101000L
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <sodium.h>

#include "common.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((lds_sha256 *)0)->opaque), "lds_sha256 too small for SHA256_CTX");

lds_status lds_crypto_init(void)
{
    return sodium_init() < 0 ? LDS_EINTERNAL : LDS_OK;
}

void lds_sha256_init(lds_sha256 *ctx)
{
    SHA256_Init((SHA256_CTX *)ctx->opaque);
}

void lds_sha256_update(lds_sha256 *ctx, const void *data, size_t size)
{
    SHA256_Update((SHA256_CTX *)ctx->opaque, data, size);
}

void lds_sha256_final(lds_sha256 *ctx, unsigned char out[LDS_SHA256_BYTES])
{
    SHA256_Final(out, (SHA256_CTX *)ctx->opaque);
}

void lds_sha256_buffer(const void *data, size_t size, unsigned char out[LDS_SHA256_BYTES])
{
    SHA256(data, size, out);
}

lds_status lds_sha256_file(const char *path, unsigned char out[LDS_SHA256_BYTES], uint64_t *size, lds_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lds_error_set(err, errno == ENOENT ? LDS_ENOENT : LDS_EIO, "%s: %s", path, strerror(errno));
    lds_sha256 ctx;
    lds_sha256_init(&ctx);
    unsigned char chunk[1 << 16];
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(saved));
        }
        if (n == 0)
            break;
        lds_sha256_update(&ctx, chunk, (size_t)n);
        total += (uint64_t)n;
    }
    close(fd);
    lds_sha256_final(&ctx, out);
    if (size)
        *size = total;
    return LDS_OK;
}

void lds_hex_encode(const unsigned char *data, size_t size, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * size] = 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

lds_status lds_hex_decode(const char *hex, unsigned char *out, size_t size)
{
    if (strlen(hex) != 2 * size)
        return LDS_EFORMAT;
    for (size_t i = 0; i < size; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return LDS_EFORMAT;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return LDS_OK;
}
