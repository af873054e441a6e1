/* tlog.c: the transparency log's storage under home/log, built to survive a crash at any point.
 *
 *   entries     append-only records: u32 big-endian length, then the leaf data (a DSSE PAE)
 *   index       append-only 40-byte records: leaf hash SHA-256(0x00 || data), then the u64
 *               big-endian offset in entries just past the record
 *   checkpoint  the signed checkpoint (C2SP tlog-checkpoint) of the published size, replaced
 *               atomically (temp file, fsync, rename, fsync dir)
 *   lock        flock(2) target: one writer at a time, across processes
 *
 * An append writes the entry and fsyncs, writes the index record and fsyncs, and only then
 * publishes the new size by replacing the checkpoint. A crash leaves at most a torn tail past
 * the published size, which the next writer truncates. Readers (the audit) need no lock: they
 * read the checkpoint first and then only the published prefix, which never changes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto_internal.h"

#define INDEX_RECORD 40
#define HASH LDS_MERKLE_HASH_BYTES

struct lds_tlog {
    char dir[PATH_MAX], entries_path[PATH_MAX], index_path[PATH_MAX], checkpoint_path[PATH_MAX];
    int lock_fd, entries_fd, index_fd;
    char origin[LDS_NOTE_NAME_MAX];
    lds_note_verifier verifier;
    unsigned char secret_key[LDS_ED25519_SECRET_BYTES];
    lds_merkle_tree *tree;
    uint64_t entries_end; /* offset just past the last published entry */
    uint64_t *slots;      /* dedupe: open addressing over leaf hashes, value = index + 1 */
    size_t slot_count;
    char *checkpoint; /* the published checkpoint note */
};

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static lds_status pwrite_all(int fd, const void *data, size_t size, uint64_t offset, const char *path, lds_error *err)
{
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t n = pwrite(fd, p, size, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lds_error_set(err, LDS_EIO, "%s: write: %s", path, strerror(errno));
        p += n;
        size -= (size_t)n;
        offset += (uint64_t)n;
    }
    return LDS_OK;
}

/* 0 ok, 1 short (end of file), -1 error (errno). */
static int pread_all(int fd, void *data, size_t size, uint64_t offset)
{
    unsigned char *p = data;
    while (size > 0) {
        ssize_t n = pread(fd, p, size, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 1;
        p += n;
        size -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

static uint64_t file_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* ---- dedupe table ---- */
static uint64_t slot_key(const unsigned char *hash)
{
    uint64_t v;
    memcpy(&v, hash, sizeof(v));
    return v;
}

static int dedupe_find(const lds_tlog *log, const unsigned char hash[HASH], uint64_t *index)
{
    if (log->slot_count == 0)
        return 0;
    size_t mask = log->slot_count - 1;
    for (size_t i = slot_key(hash) & mask;; i = (i + 1) & mask) {
        uint64_t v = log->slots[i];
        if (v == 0)
            return 0;
        if (memcmp(lds_merkle_tree_leaf(log->tree, v - 1), hash, HASH) == 0) {
            *index = v - 1;
            return 1;
        }
    }
}

static void dedupe_place(uint64_t *slots, size_t count, const unsigned char *hash, uint64_t value)
{
    size_t mask = count - 1;
    size_t i = slot_key(hash) & mask;
    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = value;
}

static lds_status dedupe_add(lds_tlog *log, uint64_t index, lds_error *err)
{
    uint64_t size = lds_merkle_tree_size(log->tree);
    if ((size + 1) * 2 > log->slot_count) {
        size_t count = log->slot_count ? log->slot_count * 2 : 1024;
        uint64_t *slots = calloc(count, sizeof(*slots));
        if (slots == NULL)
            return lds_error_set(err, LDS_ENOMEM, "%s: out of memory for the dedupe table", log->dir);
        for (size_t i = 0; i < log->slot_count; i++)
            if (log->slots[i])
                dedupe_place(slots, count, lds_merkle_tree_leaf(log->tree, log->slots[i] - 1), log->slots[i]);
        free(log->slots);
        log->slots = slots;
        log->slot_count = count;
    }
    dedupe_place(log->slots, log->slot_count, lds_merkle_tree_leaf(log->tree, index), index + 1);
    return LDS_OK;
}

/* ---- loading the published state ---- */
static lds_status reset_state(lds_tlog *log, lds_error *err)
{
    lds_merkle_tree_destroy(log->tree);
    log->tree = NULL;
    free(log->slots);
    log->slots = NULL;
    log->slot_count = 0;
    log->entries_end = 0;
    free(log->checkpoint);
    log->checkpoint = NULL;
    return lds_merkle_tree_create(&log->tree, err);
}

static lds_status publish(lds_tlog *log, lds_error *err)
{
    uint64_t size = lds_merkle_tree_size(log->tree);
    unsigned char root[HASH];
    char *note = NULL;
    lds_status status = lds_merkle_tree_root(log->tree, size, root, err);
    if (status == LDS_OK)
        status = lds_checkpoint_sign(log->origin, size, root, log->verifier.key_id, log->secret_key, &note, err);
    if (status == LDS_OK)
        status = lds_file_write_atomic(log->checkpoint_path, note, strlen(note), err);
    if (status != LDS_OK) {
        free(note);
        return status;
    }
    free(log->checkpoint);
    log->checkpoint = note;
    return LDS_OK;
}

/* With the lock held: catch up with the published checkpoint and cut any torn tail. */
static lds_status load_locked(lds_tlog *log, lds_error *err)
{
    unsigned char *note = NULL;
    size_t note_size = 0;
    lds_error read_err;
    lds_error_clear(&read_err);
    lds_status status = lds_file_read(log->checkpoint_path, LDS_NOTE_MAX, &note, &note_size, &read_err);
    if (status == LDS_ENOENT) {
        if (file_size(log->index_fd) > 0 || file_size(log->entries_fd) > 0)
            return lds_error_set(err, LDS_EVERIFY, "%s: missing, but the log holds entries", log->checkpoint_path);
        if ((status = reset_state(log, err)) != LDS_OK)
            return status;
        if (ftruncate(log->index_fd, 0) != 0 || ftruncate(log->entries_fd, 0) != 0)
            return lds_error_set(err, LDS_EIO, "%s: truncate: %s", log->dir, strerror(errno));
        return publish(log, err);
    }
    if (status != LDS_OK)
        return lds_error_set(err, status, "%s", read_err.message);
    if (log->checkpoint && strcmp(log->checkpoint, (const char *)note) == 0 && log->tree) {
        free(note); /* nothing new published */
    } else {
        lds_checkpoint cp;
        lds_error cp_err;
        lds_error_clear(&cp_err);
        if (lds_checkpoint_verify((const char *)note, note_size, &log->verifier, &cp, &cp_err) != LDS_OK) {
            free(note);
            return lds_error_set(err, LDS_EVERIFY, "%s: %s", log->checkpoint_path, cp_err.message);
        }
        if (strcmp(cp.origin, log->origin) != 0) {
            free(note);
            return lds_error_set(err, LDS_EVERIFY, "%s: origin \"%s\" is not this log's \"%s\"", log->checkpoint_path,
                                 cp.origin, log->origin);
        }
        if (log->tree == NULL || cp.size < lds_merkle_tree_size(log->tree))
            if ((status = reset_state(log, err)) != LDS_OK) {
                free(note);
                return status;
            }
        uint64_t have = lds_merkle_tree_size(log->tree);
        if (file_size(log->index_fd) / INDEX_RECORD < cp.size) {
            free(note);
            return lds_error_set(err, LDS_EVERIFY, "%s: holds %llu records, the checkpoint publishes %llu",
                                 log->index_path, (unsigned long long)(file_size(log->index_fd) / INDEX_RECORD),
                                 (unsigned long long)cp.size);
        }
        unsigned char record[INDEX_RECORD];
        for (uint64_t i = have; i < cp.size; i++) {
            if (pread_all(log->index_fd, record, sizeof(record), i * INDEX_RECORD) != 0) {
                free(note);
                return lds_error_set(err, LDS_EIO, "%s: read record %llu: %s", log->index_path,
                                     (unsigned long long)i, strerror(errno));
            }
            uint64_t end = get_u64(record + HASH);
            if (end < log->entries_end + 4 || end - log->entries_end - 4 > LDS_LOG_ENTRY_MAX) {
                free(note);
                return lds_error_set(err, LDS_EVERIFY, "%s: record %llu has a bad entry offset", log->index_path,
                                     (unsigned long long)i);
            }
            if ((status = lds_merkle_tree_append(log->tree, record, err)) != LDS_OK ||
                (status = dedupe_add(log, i, err)) != LDS_OK) {
                free(note);
                return status;
            }
            log->entries_end = end;
        }
        unsigned char root[HASH];
        lds_merkle_tree_root(log->tree, cp.size, root, NULL);
        if (memcmp(root, cp.root, HASH) != 0) {
            free(note);
            reset_state(log, NULL);
            return lds_error_set(err, LDS_EVERIFY, "%s: the root of its %llu leaves is not the checkpoint's root",
                                 log->index_path, (unsigned long long)cp.size);
        }
        free(log->checkpoint);
        log->checkpoint = (char *)note;
    }
    uint64_t size = lds_merkle_tree_size(log->tree);
    if (file_size(log->entries_fd) < log->entries_end)
        return lds_error_set(err, LDS_EVERIFY, "%s: %llu bytes, the published entries end at %llu",
                             log->entries_path, (unsigned long long)file_size(log->entries_fd),
                             (unsigned long long)log->entries_end);
    /* A torn append past the published size: cut it. */
    if (file_size(log->index_fd) > size * INDEX_RECORD) {
        lds_log_info("%s: truncating a torn tail of %llu bytes", log->index_path,
                     (unsigned long long)(file_size(log->index_fd) - size * INDEX_RECORD));
        if (ftruncate(log->index_fd, (off_t)(size * INDEX_RECORD)) != 0 || fsync(log->index_fd) != 0)
            return lds_error_set(err, LDS_EIO, "%s: truncate: %s", log->index_path, strerror(errno));
    }
    if (file_size(log->entries_fd) > log->entries_end) {
        lds_log_info("%s: truncating a torn tail of %llu bytes", log->entries_path,
                     (unsigned long long)(file_size(log->entries_fd) - log->entries_end));
        if (ftruncate(log->entries_fd, (off_t)log->entries_end) != 0 || fsync(log->entries_fd) != 0)
            return lds_error_set(err, LDS_EIO, "%s: truncate: %s", log->entries_path, strerror(errno));
    }
    return LDS_OK;
}

static lds_status lock(lds_tlog *log, lds_error *err)
{
    while (flock(log->lock_fd, LOCK_EX) != 0)
        if (errno != EINTR)
            return lds_error_set(err, LDS_EIO, "%s/lock: %s", log->dir, strerror(errno));
    return LDS_OK;
}

static void unlock(lds_tlog *log)
{
    flock(log->lock_fd, LOCK_UN);
}

lds_status lds_tlog_open(const char *dir, const char *origin, uint32_t key_id,
                        const unsigned char public_key[LDS_ED25519_PUBLIC_BYTES],
                        const unsigned char secret_key[LDS_ED25519_SECRET_BYTES], lds_tlog **out, lds_error *err)
{
    *out = NULL;
    lds_status status = lds_dir_create(dir, 0755, err);
    if (status != LDS_OK)
        return status;
    lds_tlog *log = calloc(1, sizeof(*log));
    if (log == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", dir);
    log->lock_fd = log->entries_fd = log->index_fd = -1;
    snprintf(log->dir, sizeof(log->dir), "%s", dir);
    snprintf(log->entries_path, sizeof(log->entries_path), "%s/entries", dir);
    snprintf(log->index_path, sizeof(log->index_path), "%s/index", dir);
    snprintf(log->checkpoint_path, sizeof(log->checkpoint_path), "%s/checkpoint", dir);
    snprintf(log->origin, sizeof(log->origin), "%s", origin);
    snprintf(log->verifier.name, sizeof(log->verifier.name), "%s", origin);
    log->verifier.key_id = key_id;
    memcpy(log->verifier.public_key, public_key, LDS_ED25519_PUBLIC_BYTES);
    memcpy(log->secret_key, secret_key, LDS_ED25519_SECRET_BYTES);
    char lock_path[PATH_MAX + 8];
    snprintf(lock_path, sizeof(lock_path), "%s/lock", dir);
    log->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    log->entries_fd = open(log->entries_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    log->index_fd = open(log->index_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (log->lock_fd < 0 || log->entries_fd < 0 || log->index_fd < 0) {
        status = lds_error_set(err, LDS_EIO, "%s: cannot open the log files: %s", dir, strerror(errno));
        lds_tlog_close(log);
        return status;
    }
    status = lds_tlog_refresh(log, err);
    if (status != LDS_OK) {
        lds_tlog_close(log);
        return status;
    }
    *out = log;
    return LDS_OK;
}

void lds_tlog_close(lds_tlog *log)
{
    if (log == NULL)
        return;
    if (log->lock_fd >= 0)
        close(log->lock_fd);
    if (log->entries_fd >= 0)
        close(log->entries_fd);
    if (log->index_fd >= 0)
        close(log->index_fd);
    lds_merkle_tree_destroy(log->tree);
    free(log->slots);
    free(log->checkpoint);
    lds_proto_wipe(log->secret_key, sizeof(log->secret_key));
    free(log);
}

lds_status lds_tlog_refresh(lds_tlog *log, lds_error *err)
{
    lds_status status = lock(log, err);
    if (status != LDS_OK)
        return status;
    status = load_locked(log, err);
    unlock(log);
    return status;
}

lds_status lds_tlog_append(lds_tlog *log, const void *data, size_t size, uint64_t *index, lds_error *err)
{
    if (size > LDS_LOG_ENTRY_MAX)
        return lds_error_set(err, LDS_ELIMIT, "%s: entry of %zu bytes, over the %u-byte cap", log->dir, size,
                             LDS_LOG_ENTRY_MAX);
    unsigned char leaf[HASH];
    lds_merkle_leaf_hash(data, size, leaf);
    lds_status status = lock(log, err);
    if (status != LDS_OK)
        return status;
    status = load_locked(log, err);
    if (status != LDS_OK)
        goto out;
    if (dedupe_find(log, leaf, index))
        goto out; /* already logged: the same entry, so re-runs are idempotent */
    uint64_t n = lds_merkle_tree_size(log->tree);
    unsigned char header[4] = {(unsigned char)(size >> 24), (unsigned char)(size >> 16), (unsigned char)(size >> 8),
                               (unsigned char)size};
    unsigned char record[INDEX_RECORD];
    uint64_t end = log->entries_end + 4 + size;
    memcpy(record, leaf, HASH);
    put_u64(record + HASH, end);
    /* 1. the entry, durably; 2. its index record, durably; 3. publish the new size. */
    if ((status = pwrite_all(log->entries_fd, header, 4, log->entries_end, log->entries_path, err)) != LDS_OK ||
        (status = pwrite_all(log->entries_fd, data, size, log->entries_end + 4, log->entries_path, err)) != LDS_OK)
        goto out;
    if (fdatasync(log->entries_fd) != 0) {
        status = lds_error_set(err, LDS_EIO, "%s: fsync: %s", log->entries_path, strerror(errno));
        goto out;
    }
    if ((status = pwrite_all(log->index_fd, record, sizeof(record), n * INDEX_RECORD, log->index_path, err)) !=
        LDS_OK)
        goto out;
    if (fdatasync(log->index_fd) != 0) {
        status = lds_error_set(err, LDS_EIO, "%s: fsync: %s", log->index_path, strerror(errno));
        goto out;
    }
    if ((status = lds_merkle_tree_append(log->tree, leaf, err)) != LDS_OK ||
        (status = dedupe_add(log, n, err)) != LDS_OK) {
        reset_state(log, NULL);
        goto out;
    }
    uint64_t old_end = log->entries_end;
    log->entries_end = end;
    status = publish(log, err);
    if (status != LDS_OK) {
        /* Not published: forget the in-memory append; the next load truncates the tail. */
        log->entries_end = old_end;
        reset_state(log, NULL);
        goto out;
    }
    *index = n;
out:
    unlock(log);
    return status;
}

lds_status lds_tlog_checkpoint(lds_tlog *log, char **note, lds_error *err)
{
    *note = NULL;
    lds_status status = lds_tlog_refresh(log, err);
    if (status != LDS_OK)
        return status;
    *note = strdup(log->checkpoint);
    return *note ? LDS_OK : lds_error_set(err, LDS_ENOMEM, "%s: out of memory", log->dir);
}

const lds_merkle_tree *lds_tlog_tree(const lds_tlog *log)
{
    return log->tree;
}

/* ---- audit ---- */
/* Checks that data is a DSSE v1 PAE: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
static int pae_check(const unsigned char *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    if (size < 7 || memcmp(p, "DSSEv1 ", 7) != 0)
        return -1;
    p += 7;
    for (int field = 0; field < 2; field++) {
        uint64_t len = 0;
        const char *start = p;
        while (p < end && *p >= '0' && *p <= '9' && p - start < 19)
            len = len * 10 + (uint64_t)(*p++ - '0');
        if (p == start || p >= end || *p != ' ' || (start[0] == '0' && p - start > 1))
            return -1;
        p++;
        if (len > (uint64_t)(end - p))
            return -1;
        if (field == 0) {
            p += len;
            if (p >= end || *p != ' ')
                return -1;
            p++;
        } else if (len != (uint64_t)(end - p)) {
            return -1;
        }
    }
    return 0;
}

lds_status lds_log_audit(const char *home, lds_log_audit_result *out, lds_error *err)
{
    memset(out, 0, sizeof(*out));
    char path[PATH_MAX], index_path[PATH_MAX], entries_path[PATH_MAX];
    unsigned char *text = NULL, *entry = NULL;
    size_t text_size = 0;
    lds_merkle_tree *tree = NULL;
    int index_fd = -1, entries_fd = -1;
    lds_note_verifier verifier;
    lds_checkpoint cp;
    lds_error sub;
    lds_error_clear(&sub);

    snprintf(path, sizeof(path), "%s/keys/notary.pub", home);
    lds_status status = lds_file_read(path, 4096, &text, &text_size, err);
    if (status != LDS_OK)
        goto out;
    if (lds_note_verifier_parse((const char *)text, text_size, &verifier, &sub) != LDS_OK) {
        status = lds_error_set(err, LDS_EVERIFY, "%s: %s", path, sub.message);
        goto out;
    }
    free(text);
    text = NULL;
    snprintf(path, sizeof(path), "%s/log/checkpoint", home);
    snprintf(index_path, sizeof(index_path), "%s/log/index", home);
    snprintf(entries_path, sizeof(entries_path), "%s/log/entries", home);
    status = lds_file_read(path, LDS_NOTE_MAX, &text, &text_size, &sub);
    if (status == LDS_ENOENT) {
        /* Nothing was ever published (a writer stopped before its first checkpoint): fine as long
         * as nothing was logged either. */
        struct stat st;
        if ((stat(index_path, &st) == 0 && st.st_size > 0) || (stat(entries_path, &st) == 0 && st.st_size > 0)) {
            status = lds_error_set(err, LDS_EVERIFY, "%s: missing, but the log holds entries", path);
            goto out;
        }
        lds_sha256_buffer("", 0, out->root);
        status = LDS_OK;
        goto out;
    }
    if (status != LDS_OK) {
        status = lds_error_set(err, status, "%s", sub.message);
        goto out;
    }
    if (lds_checkpoint_verify((const char *)text, text_size, &verifier, &cp, &sub) != LDS_OK) {
        status = lds_error_set(err, LDS_EVERIFY, "%s: %s", path, sub.message);
        goto out;
    }
    if (strcmp(cp.origin, verifier.name) != 0) {
        status = lds_error_set(err, LDS_EVERIFY, "%s: origin \"%s\" is not the key's name \"%s\"", path, cp.origin,
                               verifier.name);
        goto out;
    }
    index_fd = open(index_path, O_RDONLY | O_CLOEXEC);
    entries_fd = open(entries_path, O_RDONLY | O_CLOEXEC);
    if (index_fd < 0 || entries_fd < 0) {
        status = lds_error_set(err, LDS_EVERIFY, "%s: %s", index_fd < 0 ? index_path : entries_path, strerror(errno));
        goto out;
    }
    uint64_t index_size = file_size(index_fd), entries_size = file_size(entries_fd);
    if (index_size / INDEX_RECORD < cp.size) {
        status = lds_error_set(err, LDS_EVERIFY, "%s: holds %llu records, the checkpoint publishes %llu", index_path,
                               (unsigned long long)(index_size / INDEX_RECORD), (unsigned long long)cp.size);
        goto out;
    }
    if ((status = lds_merkle_tree_create(&tree, err)) != LDS_OK)
        goto out;
    entry = malloc(LDS_LOG_ENTRY_MAX);
    if (entry == NULL) {
        status = lds_error_set(err, LDS_ENOMEM, "audit: out of memory");
        goto out;
    }
    uint64_t offset = 0;
    for (uint64_t i = 0; i < cp.size; i++) {
        unsigned char header[4], record[INDEX_RECORD], leaf[HASH];
        if (pread_all(entries_fd, header, 4, offset) != 0) {
            status = lds_error_set(err, LDS_EVERIFY, "%s: entry %llu: cut short at byte %llu", entries_path,
                                   (unsigned long long)i, (unsigned long long)offset);
            goto out;
        }
        uint32_t size = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 | (uint32_t)header[2] << 8 | header[3];
        if (size > LDS_LOG_ENTRY_MAX || pread_all(entries_fd, entry, size, offset + 4) != 0) {
            status = lds_error_set(err, LDS_EVERIFY, "%s: entry %llu: length %u at byte %llu runs past the file",
                                   entries_path, (unsigned long long)i, size, (unsigned long long)offset);
            goto out;
        }
        if (pae_check(entry, size) != 0) {
            status = lds_error_set(err, LDS_EVERIFY, "%s: entry %llu (byte %llu) is not a DSSE PAE", entries_path,
                                   (unsigned long long)i, (unsigned long long)offset);
            goto out;
        }
        offset += 4 + (uint64_t)size;
        if (pread_all(index_fd, record, sizeof(record), i * INDEX_RECORD) != 0) {
            status = lds_error_set(err, LDS_EIO, "%s: record %llu: %s", index_path, (unsigned long long)i,
                                   strerror(errno));
            goto out;
        }
        lds_merkle_leaf_hash(entry, size, leaf);
        if (memcmp(leaf, record, HASH) != 0) {
            status = lds_error_set(err, LDS_EVERIFY, "%s: entry %llu (byte %llu) does not hash to record %llu of %s",
                                   entries_path, (unsigned long long)i, (unsigned long long)(offset - 4 - size),
                                   (unsigned long long)i, index_path);
            goto out;
        }
        if (get_u64(record + HASH) != offset) {
            status = lds_error_set(err, LDS_EVERIFY, "%s: record %llu: entry end %llu, the entries file says %llu",
                                   index_path, (unsigned long long)i, (unsigned long long)get_u64(record + HASH),
                                   (unsigned long long)offset);
            goto out;
        }
        if ((status = lds_merkle_tree_append(tree, leaf, err)) != LDS_OK)
            goto out;
    }
    lds_merkle_tree_root(tree, cp.size, out->root, NULL);
    if (memcmp(out->root, cp.root, HASH) != 0) {
        status = lds_error_set(err, LDS_EVERIFY, "%s: the root of the %llu logged entries is not the signed root", path,
                               (unsigned long long)cp.size);
        goto out;
    }
    out->tree_size = cp.size;
    out->entry_bytes = offset;
    out->tail_bytes = (index_size - cp.size * INDEX_RECORD) + (entries_size - offset);
out:
    if (index_fd >= 0)
        close(index_fd);
    if (entries_fd >= 0)
        close(entries_fd);
    free(text);
    free(entry);
    lds_merkle_tree_destroy(tree);
    return status;
}
