/* fs.c: whole-file reads with a cap, and durable atomic writes (temp file, fsync, rename, fsync
 * the directory), the order that makes a write survive a crash. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

lds_status lds_file_read(const char *path, size_t max, unsigned char **data, size_t *size, lds_error *err)
{
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lds_error_set(err, errno == ENOENT ? LDS_ENOENT : LDS_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    lds_status status = LDS_OK;
    unsigned char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        status = lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        status = lds_error_set(err, LDS_EINVAL, "%s: is a directory", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        status = lds_error_set(err, LDS_EINVAL, "%s: not a regular file", path);
        goto out;
    }
    if (max && (uint64_t)st.st_size > max) {
        status = lds_error_set(err, LDS_ELIMIT, "%s: %lld bytes is over the limit of %zu bytes", path,
                               (long long)st.st_size, max);
        goto out;
    }
    size_t want = (size_t)st.st_size;
    buf = malloc(want + 1);
    if (buf == NULL) {
        status = lds_error_set(err, LDS_ENOMEM, "%s: out of memory for %zu bytes", path, want);
        goto out;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            status = lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    *data = buf;
    *size = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return status;
}

lds_status lds_write_all(int fd, const void *data, size_t size)
{
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* no progress: fail rather than spin */
            return LDS_EIO;
        }
        p += n;
        size -= (size_t)n;
    }
    return LDS_OK;
}

lds_status lds_file_write(const char *path, const void *data, size_t size, lds_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    if (lds_write_all(fd, data, size) != LDS_OK) {
        int saved = errno;
        close(fd);
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(saved));
    }
    if (close(fd) != 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    return LDS_OK;
}

lds_status lds_dir_sync(const char *path, lds_error *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0 && saved != EINVAL)
        return lds_error_set(err, LDS_EIO, "%s: fsync: %s", path, strerror(saved));
    return LDS_OK;
}

lds_status lds_file_write_atomic(const char *path, const void *data, size_t size, lds_error *err)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return lds_error_set(err, LDS_EINVAL, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    if (lds_write_all(fd, data, size) != LDS_OK) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(saved));
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || close(fd) != 0) {
        int saved = errno;
        unlink(tmp);
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(saved));
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return lds_error_set(err, LDS_EIO, "%s: rename: %s", path, strerror(saved));
    }
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    return lds_dir_sync(dir, err);
}

lds_status lds_dir_create(const char *path, int mode, lds_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return lds_error_set(err, LDS_EINVAL, "%s: path too long", path);
    if (mode == 0)
        mode = 0755;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
            return lds_error_set(err, LDS_EIO, "%s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
        return lds_error_set(err, LDS_EIO, "%s: %s", tmp, strerror(errno));
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
        return lds_error_set(err, LDS_EIO, "%s: not a directory", tmp);
    return LDS_OK;
}

const char *lds_path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void lds_path_extension(const char *path, char *out, size_t out_size)
{
    const char *base = lds_path_basename(path);
    const char *dot = strrchr(base, '.');
    size_t i = 0;
    if (dot != NULL && dot != base) {
        for (dot++; *dot && i + 1 < out_size; dot++)
            out[i++] = (char)((*dot >= 'A' && *dot <= 'Z') ? *dot + 32 : *dot);
    }
    if (out_size)
        out[i] = 0;
}

const char *lds_home_dir(void)
{
    const char *home = lds_setting_text("LODESTONE_HOME");
    return home ? home : "./lodestone-data";
}
