/* blob.c: the content-addressed blob store (libzstd's types stop in this file).
 *
 * A blob's id is the SHA-256 of its bytes; it lives at root/ab/cdef... (ab = the first two hex
 * digits), or root/ab/cdef....zst when stored compressed (one zstd frame with the content size in
 * its header). Writes stream through a temp file in root/tmp (same filesystem), are fsynced, renamed
 * into place and the directory fsynced: the order that makes a blob survive a crash once the call
 * returns. Equal content is stored once. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "common.h"

#define CHUNK (1u << 20)
#define ZSTD_LEVEL 3

int lds_blob_id_valid(const char *id)
{
    if (id == NULL)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return id[64] == 0;
}

static void root_dir(const char *root, char *out, size_t size)
{
    if (root)
        snprintf(out, size, "%s", root);
    else
        snprintf(out, size, "%s/blobs", lds_home_dir());
}

static ssize_t read_some(int fd, void *data, size_t size)
{
    for (;;) {
        ssize_t n = read(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

struct lds_blob_writer {
    char base[PATH_MAX];
    char tmp[PATH_MAX + 32];
    int fd;
    int compress;
    uint64_t max, total;
    lds_sha256 sha;
    ZSTD_CCtx *cctx;
    unsigned char *out_buf;
    size_t out_cap;
};

void lds_blob_writer_abort(lds_blob_writer *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    ZSTD_freeCCtx(w->cctx);
    free(w->out_buf);
    free(w);
}

lds_status lds_blob_writer_create(const char *root, unsigned flags, uint64_t max, lds_blob_writer **out,
                                  lds_error *err)
{
    *out = NULL;
    lds_blob_writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return lds_error_set(err, LDS_ENOMEM, "blob store: out of memory");
    w->fd = -1;
    w->max = max;
    w->compress = (flags & LDS_BLOB_COMPRESS) != 0;
    root_dir(root, w->base, sizeof(w->base));
    char tmpdir[PATH_MAX + 8];
    snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", w->base);
    /* Blobs are the originals of private uploads: 0600 files in 0700 folders. */
    lds_status status = lds_dir_create(tmpdir, 0700, err);
    if (status == LDS_OK && chmod(w->base, 0700) != 0)
        status = lds_error_set(err, LDS_EIO, "%s: %s", w->base, strerror(errno));
    if (status != LDS_OK) {
        lds_blob_writer_abort(w);
        return status;
    }
    snprintf(w->tmp, sizeof(w->tmp), "%s/put-XXXXXX", tmpdir);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        status = lds_error_set(err, LDS_EIO, "%s: %s", w->tmp, strerror(errno));
        lds_blob_writer_abort(w);
        return status;
    }
    if (w->compress) {
        w->out_cap = ZSTD_CStreamOutSize();
        w->out_buf = malloc(w->out_cap);
        w->cctx = ZSTD_createCCtx();
        if (w->out_buf == NULL || w->cctx == NULL) {
            lds_blob_writer_abort(w);
            return lds_error_set(err, LDS_ENOMEM, "blob store: out of memory");
        }
        ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
        ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    }
    lds_sha256_init(&w->sha);
    *out = w;
    return LDS_OK;
}

/* Compresses (or copies) data into the temp file; end finishes the zstd frame. */
static lds_status writer_push(lds_blob_writer *w, const void *data, size_t size, int end, lds_error *err)
{
    if (!w->compress) {
        if (size && lds_write_all(w->fd, data, size) != LDS_OK)
            return lds_error_set(err, LDS_EIO, "%s: %s", w->tmp, strerror(errno));
        return LDS_OK;
    }
    ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer zin = {data, size, 0};
    for (;;) {
        ZSTD_outBuffer zout = {w->out_buf, w->out_cap, 0};
        size_t left = ZSTD_compressStream2(w->cctx, &zout, &zin, mode);
        if (ZSTD_isError(left))
            return lds_error_set(err, LDS_EIO, "blob store: zstd: %s", ZSTD_getErrorName(left));
        if (zout.pos && lds_write_all(w->fd, w->out_buf, zout.pos) != LDS_OK)
            return lds_error_set(err, LDS_EIO, "%s: %s", w->tmp, strerror(errno));
        if (end ? left == 0 : zin.pos == zin.size)
            return LDS_OK;
    }
}

lds_status lds_blob_writer_write(lds_blob_writer *w, const void *data, size_t size, lds_error *err)
{
    if (w->max && (w->total + size > w->max || w->total + size < w->total))
        return lds_error_set(err, LDS_ELIMIT, "blob store: input over the limit of %llu bytes",
                             (unsigned long long)w->max);
    w->total += size;
    lds_sha256_update(&w->sha, data, size);
    return writer_push(w, data, size, 0, err);
}

lds_status lds_blob_writer_finish(lds_blob_writer *w, char id[LDS_SHA256_HEX], uint64_t *size, lds_error *err)
{
    lds_status status = writer_push(w, NULL, 0, 1, err);
    if (status != LDS_OK) {
        lds_blob_writer_abort(w);
        return status;
    }
    unsigned char digest[LDS_SHA256_BYTES];
    lds_sha256_final(&w->sha, digest);
    lds_hex_encode(digest, sizeof(digest), id);
    if (size)
        *size = w->total;
    char dir[PATH_MAX + 8], path[PATH_MAX + 96], raw_path[PATH_MAX + 96];
    snprintf(dir, sizeof(dir), "%s/%.2s", w->base, id);
    snprintf(raw_path, sizeof(raw_path), "%s/%s", dir, id + 2);
    snprintf(path, sizeof(path), "%s/%s%s", dir, id + 2, w->compress ? ".zst" : "");
    /* Stored already: the uncompressed form serves every reader; the compressed form serves all but
     * those who asked for an uncompressed copy (served files). */
    if (file_exists(raw_path) || file_exists(path)) {
        /* Touched: a blob stored again is new to the collector's grace period (ingest's blob GC
         * spares blobs younger than that while their record is being written). */
        utimensat(AT_FDCWD, file_exists(raw_path) ? raw_path : path, NULL, 0);
        lds_blob_writer_abort(w);
        return LDS_OK;
    }
    if (fsync(w->fd) != 0) {
        status = lds_error_set(err, LDS_EIO, "%s: fsync: %s", w->tmp, strerror(errno));
        lds_blob_writer_abort(w);
        return status;
    }
    status = lds_dir_create(dir, 0700, err);
    if (status == LDS_OK && (fchmod(w->fd, 0600) != 0 || rename(w->tmp, path) != 0))
        status = lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    if (status != LDS_OK) {
        lds_blob_writer_abort(w);
        return status;
    }
    close(w->fd);
    w->fd = -1; /* renamed: nothing to remove */
    status = lds_dir_sync(dir, err);
    if (status == LDS_OK)
        status = lds_dir_sync(w->base, err);
    lds_blob_writer_abort(w);
    return status;
}

lds_status lds_blob_put_fd(const char *root, int fd, unsigned flags, uint64_t max, char id[LDS_SHA256_HEX],
                           uint64_t *size, lds_error *err)
{
    lds_blob_writer *w = NULL;
    lds_status status = lds_blob_writer_create(root, flags, max, &w, err);
    if (status != LDS_OK)
        return status;
    unsigned char *buf = malloc(CHUNK);
    if (buf == NULL) {
        lds_blob_writer_abort(w);
        return lds_error_set(err, LDS_ENOMEM, "blob store: out of memory");
    }
    for (;;) {
        ssize_t n = read_some(fd, buf, CHUNK);
        if (n < 0) {
            status = lds_error_set(err, LDS_EIO, "blob store: reading the input: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        status = lds_blob_writer_write(w, buf, (size_t)n, err);
        if (status != LDS_OK)
            break;
    }
    free(buf);
    if (status != LDS_OK) {
        lds_blob_writer_abort(w);
        return status;
    }
    return lds_blob_writer_finish(w, id, size, err);
}

lds_status lds_blob_put_file(const char *root, const char *path, unsigned flags, char id[LDS_SHA256_HEX],
                             uint64_t *size, lds_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lds_error_set(err, errno == ENOENT ? LDS_ENOENT : LDS_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lds_error_set(err, LDS_EINVAL, "%s: not a regular file", path);
    }
    lds_error inner;
    lds_error_clear(&inner);
    lds_status status = lds_blob_put_fd(root, fd, flags, 0, id, size, &inner);
    close(fd);
    if (status != LDS_OK)
        return lds_error_set(err, status, "%s: %s", path, inner.message);
    return LDS_OK;
}

lds_status lds_blob_put_buffer(const char *root, const void *data, size_t size, unsigned flags,
                               char id[LDS_SHA256_HEX], lds_error *err)
{
    /* Through a pipe would need a thread; a memfd keeps one code path for all puts. */
    char base[PATH_MAX], tmpdir[PATH_MAX + 8], tmp[PATH_MAX + 32];
    root_dir(root, base, sizeof(base));
    snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", base);
    lds_status status = lds_dir_create(tmpdir, 0700, err);
    if (status != LDS_OK)
        return status;
    snprintf(tmp, sizeof(tmp), "%s/buf-XXXXXX", tmpdir);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", tmp, strerror(errno));
    unlink(tmp);
    if (lds_write_all(fd, data, size) != LDS_OK || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return lds_error_set(err, LDS_EIO, "%s: %s", tmp, strerror(errno));
    }
    status = lds_blob_put_fd(root, fd, flags, 0, id, NULL, err);
    close(fd);
    return status;
}

lds_status lds_blob_locate(const char *root, const char *id, char *path, size_t path_size, int *compressed,
                           uint64_t *stored_size, lds_error *err)
{
    if (!lds_blob_id_valid(id))
        return lds_error_set(err, LDS_EINVAL, "blob id '%.80s': expected 64 lower-case hex digits", id ? id : "");
    char base[PATH_MAX];
    root_dir(root, base, sizeof(base));
    for (int z = 0; z < 2; z++) {
        snprintf(path, path_size, "%s/%.2s/%s%s", base, id, id + 2, z ? ".zst" : "");
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (compressed)
                *compressed = z;
            if (stored_size)
                *stored_size = (uint64_t)st.st_size;
            return LDS_OK;
        }
    }
    return lds_error_set(err, LDS_ENOENT, "blob %s: not in the store %s", id, base);
}

/* Streams blob id (decompressed) into out (fd) or into buf, hashing and counting as it goes. */
static lds_status blob_stream(const char *root, const char *id, uint64_t expected_size, uint64_t max, int out,
                              lds_buf *buf, lds_error *err)
{
    char path[PATH_MAX + 96];
    int compressed = 0;
    lds_status status = lds_blob_locate(root, id, path, sizeof(path), &compressed, NULL, err);
    if (status != LDS_OK)
        return status;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    unsigned char *in_buf = malloc(CHUNK);
    size_t out_cap = ZSTD_DStreamOutSize();
    unsigned char *out_buf = compressed ? malloc(out_cap) : NULL;
    ZSTD_DCtx *dctx = compressed ? ZSTD_createDCtx() : NULL;
    if (in_buf == NULL || (compressed && (out_buf == NULL || dctx == NULL))) {
        status = lds_error_set(err, LDS_ENOMEM, "blob store: out of memory");
        goto out;
    }
    lds_sha256 sha;
    lds_sha256_init(&sha);
    uint64_t total = 0;
    size_t frame_left = 1;
    for (;;) {
        ssize_t n = read_some(fd, in_buf, CHUNK);
        if (n < 0) {
            status = lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0 && (!compressed || frame_left == 0))
            break;
        ZSTD_inBuffer zin = {in_buf, (size_t)n, 0};
        /* zstd may hold input it has taken but not decoded yet (the frame's checksum): at EOF call it
         * with no input until it says the frame is done or stops making progress. */
        int out_full = 0, at_eof = n == 0, eof_calls = 0;
        while (compressed ? (zin.pos < zin.size || (frame_left != 0 && (out_full || (at_eof && eof_calls++ < 4))))
                          : zin.pos == 0) {
            const unsigned char *chunk = in_buf;
            size_t chunk_size = (size_t)n;
            if (compressed) {
                ZSTD_outBuffer zout = {out_buf, out_cap, 0};
                frame_left = ZSTD_decompressStream(dctx, &zout, &zin);
                if (ZSTD_isError(frame_left)) {
                    status = lds_error_set(err, LDS_EVERIFY, "%s: zstd: %s", path, ZSTD_getErrorName(frame_left));
                    goto out;
                }
                chunk = out_buf;
                chunk_size = zout.pos;
                out_full = zout.pos == zout.size;
            } else {
                zin.pos = 1;
            }
            total += chunk_size;
            if ((max && total > max) || (expected_size != UINT64_MAX && total > expected_size)) {
                status = max && total > max
                             ? lds_error_set(err, LDS_ELIMIT, "blob %s: over the limit of %llu bytes", id,
                                             (unsigned long long)max)
                             : lds_error_set(err, LDS_EVERIFY, "blob %s: longer than the expected %llu bytes", id,
                                             (unsigned long long)expected_size);
                goto out;
            }
            lds_sha256_update(&sha, chunk, chunk_size);
            if (out >= 0 && chunk_size && lds_write_all(out, chunk, chunk_size) != LDS_OK) {
                status = lds_error_set(err, LDS_EIO, "blob %s: writing the copy: %s", id, strerror(errno));
                goto out;
            }
            if (buf && chunk_size && lds_buf_append(buf, chunk, chunk_size) != LDS_OK) {
                status = lds_error_set(err, LDS_ENOMEM, "blob %s: out of memory", id);
                goto out;
            }
        }
        if (at_eof)
            break;
    }
    if (compressed && frame_left != 0) {
        status = lds_error_set(err, LDS_EVERIFY, "%s: truncated zstd frame (%zu more bytes expected after %llu)", path, frame_left, (unsigned long long)total);
        goto out;
    }
    if (expected_size != UINT64_MAX && total != expected_size) {
        status = lds_error_set(err, LDS_EVERIFY, "blob %s: %llu bytes, expected %llu", id, (unsigned long long)total,
                               (unsigned long long)expected_size);
        goto out;
    }
    unsigned char digest[LDS_SHA256_BYTES];
    char hex[LDS_SHA256_HEX];
    lds_sha256_final(&sha, digest);
    lds_hex_encode(digest, sizeof(digest), hex);
    if (strcmp(hex, id) != 0)
        status = lds_error_set(err, LDS_EVERIFY, "blob %s: content hashes to %s (corrupt store file %s)", id, hex,
                               path);
out:
    close(fd);
    ZSTD_freeDCtx(dctx);
    free(in_buf);
    free(out_buf);
    return status;
}

lds_status lds_blob_get_file(const char *root, const char *id, uint64_t expected_size, const char *dest_path,
                             lds_error *err)
{
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", dest_path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", tmp, strerror(errno));
    lds_status status = blob_stream(root, id, expected_size, 0, fd, NULL, err);
    if (status == LDS_OK && (fchmod(fd, 0644) != 0 || rename(tmp, dest_path) != 0))
        status = lds_error_set(err, LDS_EIO, "%s: %s", dest_path, strerror(errno));
    close(fd);
    if (status != LDS_OK)
        unlink(tmp);
    return status;
}

lds_status lds_blob_get_buffer(const char *root, const char *id, size_t max, unsigned char **data, size_t *size,
                               lds_error *err)
{
    *data = NULL;
    *size = 0;
    lds_buf buf;
    lds_buf_init(&buf, 0);
    lds_status status = blob_stream(root, id, UINT64_MAX, max, -1, &buf, err);
    if (status == LDS_OK && lds_buf_append(&buf, "", 1) != LDS_OK)
        status = lds_error_set(err, LDS_ENOMEM, "blob %s: out of memory", id);
    if (status != LDS_OK) {
        lds_buf_cleanup(&buf);
        return status;
    }
    size_t n;
    *data = lds_buf_detach(&buf, &n);
    *size = n - 1;
    return LDS_OK;
}
