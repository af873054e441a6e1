/* archive.c: walking an archive deposit (zip, tar, tar.gz, tar.zst, 7z) through libarchive,
 * which is wrapped here only.
 *
 * Members are streamed to the caller's sink in 64 KiB blocks; nothing is extracted by name. The
 * walk refuses the whole archive at the first hostile member (absolute path, "..", link, device,
 * fifo, encrypted, bad name) and stops the moment a limit is crossed: member count, total expanded
 * bytes, or a member expanding more than the allowed ratio against the compressed bytes consumed
 * while it was read (the zip-bomb guard; libarchive's archive_filter_bytes(a, -1) counts the raw
 * bytes consumed). After the walk, models are grouped with their sidecars and matched to the root
 * manifest. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ingest.h"

#define BLOCK_BYTES (64u * 1024)
#define MANIFEST_MAX_BYTES (16u * 1024 * 1024)
#define RATIO_FLOOR_BYTES (1024u * 1024) /* members up to this size are never ratio bombs */

/* Extensions of model files (what becomes an item); everything else is a sidecar. */
static const char *const model_extensions[] = {
    "ply", "stl", "obj", "glb", "gltf", "fbx", "dae", "3ds", "3mf", "off", "x3d", "x3db", "wrl", "amf",
    "ase", "blend", "lwo", "lws", "md2", "md3", "md5mesh", "ms3d", "x", "ac", "ac3d", "cob", "dxf", "ifc",
    "iqm", "irrmesh", "lxo", "mdl", "nff", "q3o", "q3s", "raw", "smd", "ter", "xgl", "zgl", "ogex", "b3d",
    "bvh", "csm", "hmp", "m3d", "mesh", "pk3", "sib", "assbin", "usdz", "e57", "xyz", "pts",
};

static int is_model(const char *path)
{
    char ext[16];
    lds_path_extension(path, ext, sizeof(ext));
    for (size_t i = 0; i < sizeof(model_extensions) / sizeof(model_extensions[0]); i++)
        if (strcmp(ext, model_extensions[i]) == 0)
            return 1;
    return 0;
}

typedef struct walk_state {
    const char *name; /* the archive, for messages */
    lds_limits limits;
    uint64_t archive_bytes;
    const lds_archive_sink *sink;
    char **members; /* accepted regular files, normalised */
    size_t member_count, member_capacity;
    size_t *slots; /* open-addressing set over members (index + 1; 0 empty) */
    size_t slot_count;
    lds_buf manifest;
    char manifest_kind[8]; /* "csv", "json" or "" */
    lds_archive_result *result;
} walk_state;

static lds_status result_warn(lds_archive_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static lds_status result_warn(lds_archive_result *r, const char *fmt, ...)
{
    if (r->warning_count >= 1000)
        return LDS_OK;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    char **w = realloc(r->warnings, (r->warning_count + 1) * sizeof(char *));
    if (w == NULL)
        return LDS_ENOMEM;
    r->warnings = w;
    if ((w[r->warning_count] = strdup(text)) == NULL)
        return LDS_ENOMEM;
    r->warning_count++;
    return LDS_OK;
}

void lds_archive_result_cleanup(lds_archive_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->item_count; i++) {
        lds_archive_item *it = &r->items[i];
        free(it->file);
        for (size_t j = 0; j < it->sidecar_count; j++)
            free(it->sidecars[j]);
        free(it->sidecars);
        lds_manifest_entry_cleanup(&it->meta);
    }
    free(r->items);
    for (size_t i = 0; i < r->warning_count; i++)
        free(r->warnings[i]);
    free(r->warnings);
    memset(r, 0, sizeof(*r));
}

static const char *entry_kind(mode_t type)
{
    switch (type) {
    case AE_IFLNK: return "a symbolic link";
    case AE_IFCHR: return "a character device";
    case AE_IFBLK: return "a block device";
    case AE_IFIFO: return "a fifo";
    case AE_IFSOCK: return "a socket";
    default: return "not a regular file";
    }
}

/* Reads the current member's data, to the sink and/or the manifest buffer, enforcing the limits. */
static lds_status read_member(walk_state *w, struct archive *a, const char *path, int to_sink, lds_buf *capture,
                              lds_error *err)
{
    unsigned char *buf = malloc(BLOCK_BYTES);
    if (buf == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", w->name);
    int64_t consumed_start = archive_filter_bytes(a, -1);
    uint64_t expanded = 0;
    lds_status st = LDS_OK;
    int begun = 0;
    lds_error sink_err;
    lds_error_clear(&sink_err);
    if (to_sink && w->sink && w->sink->begin) {
        st = w->sink->begin(w->sink->ctx, path, &sink_err);
        if (st != LDS_OK)
            goto out;
        begun = 1;
    }
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, BLOCK_BYTES);
        if (n == 0)
            break;
        if (n < 0) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: member %s: %s", w->name, path,
                               archive_error_string(a) ? archive_error_string(a) : "cannot read");
            goto out;
        }
        expanded += (uint64_t)n;
        w->result->expanded_bytes += (uint64_t)n;
        if (w->result->expanded_bytes > w->limits.deposit_expanded_bytes) {
            st = lds_error_set(err, LDS_ELIMIT, "%s: expands past the %llu MiB limit of a deposit (at member %s)",
                               w->name, (unsigned long long)(w->limits.deposit_expanded_bytes >> 20), path);
            goto out;
        }
        if (expanded > RATIO_FLOOR_BYTES) {
            int64_t consumed = archive_filter_bytes(a, -1) - consumed_start;
            uint64_t compressed = consumed > 0 ? (uint64_t)consumed : 1;
            uint64_t ratio = w->limits.compression_ratio;
            if (expanded / ratio > compressed || expanded / ratio > w->archive_bytes) {
                st = lds_error_set(err, LDS_ELIMIT,
                                   "%s: member %s expands more than %u:1 (a compression bomb?); refused", w->name,
                                   path, w->limits.compression_ratio);
                goto out;
            }
        }
        if (capture && (st = lds_buf_append(capture, buf, (size_t)n)) != LDS_OK) {
            st = lds_error_set(err, LDS_ELIMIT, "%s: %s is over %u MiB", w->name, path, MANIFEST_MAX_BYTES >> 20);
            goto out;
        }
        if (begun && w->sink->write && (st = w->sink->write(w->sink->ctx, buf, (size_t)n, &sink_err)) != LDS_OK)
            goto out;
    }
out:
    if (begun && w->sink->end) {
        lds_status end = w->sink->end(w->sink->ctx, st == LDS_OK, &sink_err);
        if (st == LDS_OK)
            st = end;
    }
    if (sink_err.code != LDS_OK)
        lds_error_set(err, sink_err.code, "%s: member %s: %s", w->name, path, sink_err.message);
    free(buf);
    return st;
}

static uint64_t hash_path(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* 1 if path was already accepted. Keeps the set at most half full. */
static int seen_member(walk_state *w, const char *path)
{
    if (w->slot_count == 0)
        return 0;
    for (size_t i = hash_path(path) & (w->slot_count - 1);; i = (i + 1) & (w->slot_count - 1)) {
        if (w->slots[i] == 0)
            return 0;
        if (strcmp(w->members[w->slots[i] - 1], path) == 0)
            return 1;
    }
}

static int index_members(walk_state *w)
{
    if (2 * (w->member_count + 1) > w->slot_count) {
        size_t count = w->slot_count ? w->slot_count * 2 : 256;
        size_t *slots = calloc(count, sizeof(size_t));
        if (slots == NULL)
            return -1;
        free(w->slots);
        w->slots = slots;
        w->slot_count = count;
        for (size_t m = 0; m < w->member_count; m++) {
            size_t i = hash_path(w->members[m]) & (count - 1);
            while (slots[i])
                i = (i + 1) & (count - 1);
            slots[i] = m + 1;
        }
    } else if (w->member_count > 0) {
        size_t m = w->member_count - 1, i = hash_path(w->members[m]) & (w->slot_count - 1);
        while (w->slots[i])
            i = (i + 1) & (w->slot_count - 1);
        w->slots[i] = m + 1;
    }
    return 0;
}

static lds_status add_member(walk_state *w, const char *path, lds_error *err)
{
    if (seen_member(w, path))
        return lds_error_set(err, LDS_EPERM, "%s: member %s appears twice; refused", w->name, path);
    if (w->member_count == w->member_capacity) {
        size_t cap = w->member_capacity ? w->member_capacity * 2 : 64;
        char **m = realloc(w->members, cap * sizeof(char *));
        if (m == NULL)
            return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", w->name);
        w->members = m;
        w->member_capacity = cap;
    }
    if ((w->members[w->member_count] = strdup(path)) == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", w->name);
    w->member_count++;
    if (index_members(w) != 0)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", w->name);
    return LDS_OK;
}

static lds_status walk_entries(walk_state *w, struct archive *a, lds_error *err)
{
    size_t path_max = w->limits.path_length;
    char *path = malloc(path_max + 2);
    if (path == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", w->name);
    lds_status st = LDS_OK;
    uint64_t index = 0;
    for (;;) {
        struct archive_entry *e;
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: %s", w->name,
                               archive_error_string(a) ? archive_error_string(a) : "not a readable archive");
            break;
        }
        index++;
        if (index > w->limits.archive_members) {
            st = lds_error_set(err, LDS_ELIMIT, "%s: more than %llu members", w->name,
                               (unsigned long long)w->limits.archive_members);
            break;
        }
        const char *raw = archive_entry_pathname(e);
        if (raw == NULL)
            raw = archive_entry_pathname_utf8(e);
        const char *why = NULL;
        if (lds_archive_check_path(raw, path_max, path, path_max + 2, &why) != LDS_OK) {
            if (raw && why && strcmp(why, "name is not valid UTF-8") != 0 && strlen(raw) < 300)
                st = lds_error_set(err, LDS_EPERM, "%s: member %s: %s; refused", w->name, raw, why);
            else
                st = lds_error_set(err, LDS_EPERM, "%s: member %llu: %s; refused", w->name,
                                   (unsigned long long)index, why ? why : "bad name");
            break;
        }
        mode_t type = archive_entry_filetype(e);
        if (archive_entry_hardlink(e) != NULL) {
            st = lds_error_set(err, LDS_EPERM, "%s: member %s is a hard link; refused", w->name, path);
            break;
        }
        if (archive_entry_symlink(e) != NULL || type == AE_IFLNK) {
            st = lds_error_set(err, LDS_EPERM, "%s: member %s is a symbolic link; refused", w->name, path);
            break;
        }
        if (type == AE_IFDIR)
            continue;
        if (type != AE_IFREG) {
            st = lds_error_set(err, LDS_EPERM, "%s: member %s is %s; refused", w->name, path, entry_kind(type));
            break;
        }
        if (archive_entry_is_encrypted(e)) {
            st = lds_error_set(err, LDS_EPERM, "%s: member %s is encrypted; refused", w->name, path);
            break;
        }
        if (path[0] == '\0') {
            st = lds_error_set(err, LDS_EPERM, "%s: member %llu has an empty name; refused", w->name,
                               (unsigned long long)index);
            break;
        }
        int is_csv = strcmp(path, "manifest.csv") == 0, is_json = strcmp(path, "manifest.json") == 0;
        if (is_csv || is_json) {
            if (w->manifest_kind[0]) {
                st = lds_error_set(err, LDS_EFORMAT, "%s: more than one manifest at the root", w->name);
                break;
            }
            strcpy(w->manifest_kind, is_csv ? "csv" : "json");
            st = read_member(w, a, path, 0, &w->manifest, err);
        } else {
            if ((st = add_member(w, path, err)) == LDS_OK)
                st = read_member(w, a, path, 1, NULL, err);
        }
        if (st != LDS_OK)
            break;
        w->result->member_count++;
    }
    free(path);
    return st;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_entry_files(const void *a, const void *b)
{
    return strcmp(((const lds_manifest_entry *)a)->file, ((const lds_manifest_entry *)b)->file);
}

/* Length of the directory part of path ("a/b/c.obj" -> 3, "c.obj" -> 0). */
static size_t dir_length(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) : 0;
}

/* Fills meta with defaults: the title is the file name without its extension. */
static lds_status default_meta(lds_manifest_entry *meta, const char *file)
{
    const char *base = lds_path_basename(file);
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    meta->title = strndup(base, n);
    return meta->title ? LDS_OK : LDS_ENOMEM;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static lds_status copy_meta(lds_manifest_entry *dst, const lds_manifest_entry *src)
{
    dst->title = dup_or_null(src->title);
    dst->license = dup_or_null(src->license);
    dst->owner = dup_or_null(src->owner);
    dst->accession = dup_or_null(src->accession);
    dst->capture_method = dup_or_null(src->capture_method);
    if (src->tag_count) {
        dst->tags = calloc(src->tag_count, sizeof(char *));
        if (dst->tags == NULL)
            return LDS_ENOMEM;
        for (size_t i = 0; i < src->tag_count; i++)
            if ((dst->tags[dst->tag_count++] = strdup(src->tags[i])) == NULL)
                return LDS_ENOMEM;
    }
    return LDS_OK;
}

/* Groups members into items and applies the manifest. */
static lds_status build_items(walk_state *w, lds_error *err)
{
    lds_archive_result *r = w->result;
    if (w->member_count > 1)
        qsort(w->members, w->member_count, sizeof(char *), compare_strings);
    for (size_t i = 1; i < w->member_count; i++) {
        const char *prev = w->members[i - 1], *cur = w->members[i];
        size_t n = strlen(prev);
        if (strcmp(prev, cur) == 0)
            return lds_error_set(err, LDS_EPERM, "%s: member %s appears twice; refused", w->name, cur);
        if (strncmp(prev, cur, n) == 0 && cur[n] == '/')
            return lds_error_set(err, LDS_EPERM, "%s: member %s is both a file and a directory; refused", w->name,
                                 prev);
    }
    lds_manifest manifest;
    memset(&manifest, 0, sizeof(manifest));
    int have_manifest = w->manifest_kind[0] != '\0';
    if (have_manifest) {
        char mname[512];
        snprintf(mname, sizeof(mname), "%s: manifest.%s", w->name, w->manifest_kind);
        const char *text = w->manifest.data ? (const char *)w->manifest.data : "";
        lds_status st = strcmp(w->manifest_kind, "csv") == 0
                            ? lds_manifest_parse_csv(mname, text, w->manifest.size, (size_t)w->limits.archive_members,
                                                     &manifest, err)
                            : lds_manifest_parse_json(mname, text, w->manifest.size,
                                                      (size_t)w->limits.archive_members, &manifest, err);
        if (st != LDS_OK)
            return st;
        for (size_t i = 0; i < manifest.warning_count; i++)
            result_warn(r, "%s", manifest.warnings[i]);
    }
    lds_status st = LDS_OK;
    size_t models = 0;
    for (size_t i = 0; i < w->member_count; i++)
        models += is_model(w->members[i]);
    if (models) {
        r->items = calloc(models, sizeof(lds_archive_item));
        if (r->items == NULL) {
            st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", w->name);
            goto out;
        }
    }
    char *used = calloc(manifest.entry_count + 1, 1);
    if (used == NULL) {
        st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", w->name);
        goto out;
    }
    for (size_t i = 0; i < w->member_count; i++) {
        const char *m = w->members[i];
        if (!is_model(m))
            continue;
        lds_archive_item *it = &r->items[r->item_count++];
        if ((it->file = strdup(m)) == NULL || (it->meta.file = strdup(m)) == NULL) {
            st = LDS_ENOMEM;
            break;
        }
        lds_manifest_entry key = {.file = (char *)m};
        lds_manifest_entry *found = manifest.entry_count ? bsearch(&key, manifest.entries, manifest.entry_count,
                                                                   sizeof(lds_manifest_entry), compare_entry_files)
                                                         : NULL;
        if (found) {
            used[found - manifest.entries] = 1;
            it->in_manifest = 1;
            st = copy_meta(&it->meta, found);
            if (st == LDS_OK && it->meta.title == NULL)
                st = default_meta(&it->meta, m);
        } else {
            st = default_meta(&it->meta, m);
            if (st == LDS_OK && have_manifest)
                st = result_warn(r, "%s: not in the manifest; default metadata", m);
        }
        if (st != LDS_OK)
            break;
    }
    if (st == LDS_OK && !have_manifest && r->item_count)
        st = result_warn(r, "%s: no manifest.csv or manifest.json at the root; default metadata for all %zu items",
                         w->name, r->item_count);
    for (size_t i = 0; st == LDS_OK && i < manifest.entry_count; i++)
        if (!used[i])
            st = result_warn(r, "%s: listed in the manifest but not a model in the archive", manifest.entries[i].file);
    free(used);
    /* Sidecars: a non-model member belongs to the models of the nearest directory at or above its
     * own that has models ("textures/skin.png" next to "bust.obj"). */
    for (size_t i = 0; st == LDS_OK && i < w->member_count; i++) {
        const char *m = w->members[i];
        if (is_model(m))
            continue;
        size_t dl = dir_length(m);
        int attached = 0;
        for (;;) {
            for (size_t k = 0; st == LDS_OK && k < r->item_count; k++) {
                lds_archive_item *it = &r->items[k];
                if (dir_length(it->file) != dl || strncmp(it->file, m, dl) != 0)
                    continue;
                attached = 1;
                if (it->sidecar_count + 1 >= LDS_PIPELINE_MAX_FILES) { /* the pipeline takes 64 files */
                    st = result_warn(r, "%s: left out of %s, which has %d files beside it already", m, it->file,
                                     LDS_PIPELINE_MAX_FILES - 1);
                    continue;
                }
                char **s = realloc(it->sidecars, (it->sidecar_count + 1) * sizeof(char *));
                if (s == NULL || (s[it->sidecar_count] = strdup(m)) == NULL) {
                    if (s)
                        it->sidecars = s;
                    st = LDS_ENOMEM;
                    break;
                }
                it->sidecars = s;
                it->sidecar_count++;
            }
            if (attached || dl == 0 || st != LDS_OK)
                break;
            while (dl > 0 && m[dl - 1] != '/')
                dl--;
            if (dl > 0)
                dl--; /* drop the slash: the parent directory */
        }
        if (st == LDS_OK && !attached)
            st = result_warn(r, "%s: not part of any model; ignored", m);
    }
    if (st == LDS_ENOMEM)
        st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", w->name);
out:
    lds_manifest_cleanup(&manifest);
    return st;
}

static lds_status walk(walk_state *w, struct archive *a, lds_error *err)
{
    lds_status st = walk_entries(w, a, err);
    if (st == LDS_OK)
        st = build_items(w, err);
    return st;
}

static struct archive *open_reader(void)
{
    struct archive *a = archive_read_new();
    if (a == NULL)
        return NULL;
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_format_7zip(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_bzip2(a);
    return a;
}

static lds_status walk_common(const char *name, const char *path, const void *data, size_t size,
                              const lds_limits *limits, const lds_archive_sink *sink, lds_archive_result *result,
                              lds_error *err)
{
    memset(result, 0, sizeof(*result));
    walk_state w;
    memset(&w, 0, sizeof(w));
    w.name = name;
    if (limits)
        w.limits = *limits;
    else
        lds_limits_init(&w.limits);
    if (w.limits.compression_ratio == 0)
        w.limits.compression_ratio = 100;
    if (w.limits.path_length == 0)
        w.limits.path_length = 1024;
    w.sink = sink;
    w.result = result;
    lds_buf_init(&w.manifest, MANIFEST_MAX_BYTES);
    struct archive *a = open_reader();
    if (a == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
    lds_status st;
    int rc;
    if (path) {
        struct stat sb;
        if (stat(path, &sb) != 0) {
            st = lds_error_set(err, errno == ENOENT ? LDS_ENOENT : LDS_EIO, "%s: %s", name, strerror(errno));
            goto out;
        }
        if (!S_ISREG(sb.st_mode)) {
            st = lds_error_set(err, LDS_EINVAL, "%s: not a regular file", name);
            goto out;
        }
        w.archive_bytes = (uint64_t)sb.st_size;
        if (limits && w.archive_bytes > limits->upload_bytes) {
            st = lds_error_set(err, LDS_ELIMIT, "%s: %llu bytes is over the upload limit", name,
                               (unsigned long long)w.archive_bytes);
            goto out;
        }
        rc = archive_read_open_filename(a, path, BLOCK_BYTES);
    } else {
        w.archive_bytes = size;
        rc = archive_read_open_memory(a, data, size);
    }
    if (rc != ARCHIVE_OK) {
        st = lds_error_set(err, LDS_EFORMAT, "%s: not a supported archive (zip, tar, tar.gz, tar.zst, 7z): %s", name,
                           archive_error_string(a) ? archive_error_string(a) : "unknown format");
        goto out;
    }
    st = walk(&w, a, err);
out:
    archive_read_free(a);
    for (size_t i = 0; i < w.member_count; i++)
        free(w.members[i]);
    free(w.members);
    free(w.slots);
    lds_buf_cleanup(&w.manifest);
    return st;
}

lds_status lds_archive_walk(const char *path, const lds_limits *limits, const lds_archive_sink *sink,
                            lds_archive_result *result, lds_error *err)
{
    return walk_common(lds_path_basename(path), path, NULL, 0, limits, sink, result, err);
}

lds_status lds_archive_walk_memory(const char *name, const void *data, size_t size, const lds_limits *limits,
                                   const lds_archive_sink *sink, lds_archive_result *result, lds_error *err)
{
    return walk_common(name, NULL, data, size, limits, sink, result, err);
}

/* ---- the directory sink ---- */

static lds_status dir_begin(void *ctx, const char *path, lds_error *err)
{
    lds_archive_dir_sink *ds = ctx;
    int dir = dup(ds->root_fd);
    if (dir < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (slash == NULL)
            break;
        char component[256];
        size_t n = (size_t)(slash - p);
        if (n == 0 || n >= sizeof(component)) {
            close(dir);
            return lds_error_set(err, LDS_EPERM, "%s: path component too long", path);
        }
        memcpy(component, p, n);
        component[n] = '\0';
        if (mkdirat(dir, component, 0755) != 0 && errno != EEXIST) {
            close(dir);
            return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
        }
        int next = openat(dir, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(dir);
        if (next < 0)
            return lds_error_set(err, LDS_EIO, "%s: %s", path, strerror(errno));
        dir = next;
        p = slash + 1;
    }
    if (strlen(p) >= sizeof(ds->name)) {
        close(dir);
        return lds_error_set(err, LDS_EPERM, "%s: file name too long", path);
    }
    strcpy(ds->name, p);
    ds->file_fd = openat(dir, p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (ds->file_fd < 0) {
        int e = errno;
        close(dir);
        return lds_error_set(err, e == EEXIST ? LDS_EEXIST : LDS_EIO, "%s: %s", path, strerror(e));
    }
    ds->dir_fd = dir;
    return LDS_OK;
}

static lds_status dir_write(void *ctx, const void *data, size_t size, lds_error *err)
{
    lds_archive_dir_sink *ds = ctx;
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t n = write(ds->file_fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return lds_error_set(err, LDS_EIO, "%s: %s", ds->name, strerror(errno));
        p += n;
        size -= (size_t)n;
    }
    return LDS_OK;
}

static lds_status dir_end(void *ctx, int ok, lds_error *err)
{
    lds_archive_dir_sink *ds = ctx;
    lds_status st = LDS_OK;
    if (ds->file_fd >= 0 && close(ds->file_fd) != 0 && ok)
        st = lds_error_set(err, LDS_EIO, "%s: %s", ds->name, strerror(errno));
    ds->file_fd = -1;
    if (!ok && ds->dir_fd >= 0)
        unlinkat(ds->dir_fd, ds->name, 0);
    if (ds->dir_fd >= 0)
        close(ds->dir_fd);
    ds->dir_fd = -1;
    return st;
}

lds_status lds_archive_dir_sink_init(lds_archive_dir_sink *ds, const char *dir, lds_error *err)
{
    memset(ds, 0, sizeof(*ds));
    ds->dir_fd = ds->file_fd = -1;
    ds->root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ds->root_fd < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", dir, strerror(errno));
    return LDS_OK;
}

lds_archive_sink lds_archive_dir_sink_get(lds_archive_dir_sink *ds)
{
    lds_archive_sink sink = {ds, dir_begin, dir_write, dir_end};
    return sink;
}

void lds_archive_dir_sink_cleanup(lds_archive_dir_sink *ds)
{
    if (ds == NULL)
        return;
    if (ds->file_fd >= 0)
        close(ds->file_fd);
    if (ds->dir_fd >= 0)
        close(ds->dir_fd);
    if (ds->root_fd >= 0)
        close(ds->root_fd);
    ds->root_fd = ds->dir_fd = ds->file_fd = -1;
}
