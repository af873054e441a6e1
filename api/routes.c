/*
 * routes.c: the handlers of API v1 (DESIGN.md 6.6, proto/openapi.yaml).
 *
 * Uploads are streamed to temp files under home/tmp (raw body, or each file part of a
 * multipart/form-data body), capped by max_upload_bytes (413 up front from Content-Length, or as
 * soon as the cap is crossed), then moved into the blob store (fsynced) and submitted: the 202
 * goes out only after the blobs and the record are durable.
 *
 * Access: ops see everything; modelers and partners see their own assets (owner_key = their
 * key); studios see ready assets.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api_internal.h"
#include "ingest.h"
#include "proto.h"

#define MAX_PARTS LDS_PIPELINE_MAX_FILES
#define MAX_METADATA_BYTES (64u << 10)

/* Model formats we accept: the native readers and what Assimp 5.2 imports. Sidecars (.mtl,
 * .bin, images) ride along in multipart uploads. */
static const char *const model_extensions[] = {
    "ply", "stl", "obj", "glb", "gltf", "fbx", "off", "dae", "3ds", "ase", "ifc", "xgl", "zgl", "lwo", "lws", "lxo",
    "ac", "ac3d", "acc", "ms3d", "cob", "scn", "x", "md2", "md3", "md5mesh", "mdl", "hmp", "nff", "raw", "smd",
    "ter", "irrmesh", "irr", "q3o", "q3s", "b3d", "3d", "uc", "blend", "mesh.xml", "ogex", "3mf", "amf", "x3d",
    "x3db", "wrl", "sib", "m3d", "iqm", "csm", "bvh", "mdc", "dxf", "pk3", "bsp", "ndo", "vta", "nfg"};

static int model_extension(const char *name)
{
    char ext[16];
    lds_path_extension(name, ext, sizeof(ext));
    for (size_t i = 0; i < sizeof(model_extensions) / sizeof(model_extensions[0]); i++)
        if (strcmp(ext, model_extensions[i]) == 0)
            return 1;
    return 0;
}

/* A file name from a client: a base name of printable characters, not "." or "..". */
static int name_ok(const char *name)
{
    if (name == NULL || *name == 0 || strlen(name) > 255 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == '/' || *p == '\\' || *p == 0x7f)
            return 0;
    return 1;
}

/* ---- multipart state ---- */

typedef struct part {
    char name[256];
    char path[PATH_MAX];
    int fd;
    uint64_t bytes;
} part;

/* The body's delimiters checked as they stream by (RFC 2046 section 5.1.1): each CRLF "--"
 * boundary must be followed by CRLF (transport padding allowed before it) or by "--" (the close
 * delimiter), and the body must contain the close delimiter. The post processor is lenient about
 * both; a body it would cut differently than a strict reader is refused instead. */
#define BOUNDARY_MAX 70
typedef struct boundary_scan {
    char delimiter[BOUNDARY_MAX + 5]; /* CRLF "--" boundary */
    size_t length;
    char tail[BOUNDARY_MAX + 5 + 80]; /* the last bytes seen (a delimiter may straddle chunks) */
    size_t tail_size;
    int closed, broken;
} boundary_scan;

typedef struct multipart {
    part parts[MAX_PARTS];
    size_t count;
    lds_buf metadata;
    boundary_scan scan;
    char error[256]; /* first problem, answered when the body is complete */
    unsigned error_status;
} multipart;

static void multipart_fail(multipart *m, unsigned status, const char *message)
{
    if (m->error_status == 0) {
        m->error_status = status;
        snprintf(m->error, sizeof(m->error), "%s", message);
    }
}

/* The boundary parameter of a multipart Content-Type (quoted or not); 0 when absent or too long. */
static int boundary_init(boundary_scan *b, const char *content_type)
{
    const char *p = content_type;
    while (*p && strncasecmp(p, "boundary=", 9) != 0)
        p++;
    if (*p == 0)
        return 0;
    p += 9;
    size_t n;
    if (*p == '"') {
        p++;
        const char *q = strchr(p, '"');
        if (q == NULL)
            return 0;
        n = (size_t)(q - p);
    } else {
        n = strcspn(p, "; \t");
    }
    if (n == 0 || n > BOUNDARY_MAX)
        return 0;
    memcpy(b->delimiter, "\r\n--", 4);
    memcpy(b->delimiter + 4, p, n);
    b->length = n + 4;
    memcpy(b->tail, "\r\n", 2); /* the first delimiter may open the body, without a CRLF before it */
    b->tail_size = 2;
    return 1;
}

/* What follows a delimiter at text[i] (i is just past it): 1 close, 0 part, -1 broken, 2 unknown
 * yet (the rest has not arrived). */
static int delimiter_kind(const char *text, size_t size, size_t i)
{
    if (i + 2 > size)
        return 2;
    if (text[i] == '-' && text[i + 1] == '-')
        return 1;
    while (i < size && (text[i] == ' ' || text[i] == '\t'))
        i++;
    if (i + 2 > size)
        return 2;
    return text[i] == '\r' && text[i + 1] == '\n' ? 0 : -1;
}

static void boundary_feed(boundary_scan *b, const char *data, size_t size)
{
    if (b->closed || b->broken || b->length == 0)
        return; /* after the close delimiter comes the epilogue, which is ignored */
    /* scan tail + data in windows small enough for a stack buffer */
    while (size > 0 && !b->closed && !b->broken) {
        char window[sizeof(b->tail) + 4096];
        size_t take = size < 4096 ? size : 4096;
        memcpy(window, b->tail, b->tail_size);
        memcpy(window + b->tail_size, data, take);
        size_t total = b->tail_size + take, keep_from = total > b->length + 80 ? total - (b->length + 80) : 0;
        for (size_t i = 0; i + b->length <= total; i++) {
            if (memcmp(window + i, b->delimiter, b->length) != 0)
                continue;
            int kind = delimiter_kind(window, total, i + b->length);
            if (kind == 2) { /* undecided: keep from this delimiter on */
                keep_from = i;
                break;
            }
            if (kind < 0)
                b->broken = 1;
            if (kind == 1)
                b->closed = 1;
            if (kind != 0)
                break;
            i += b->length - 1;
        }
        if (total - keep_from > sizeof(b->tail))
            keep_from = total - sizeof(b->tail);
        b->tail_size = total - keep_from;
        memmove(b->tail, window + keep_from, b->tail_size);
        data += take;
        size -= take;
    }
}

static int open_temp(lds_api *api, char *path, size_t size)
{
    if (snprintf(path, size, "%s/upload.XXXXXX", api->tmp) >= (int)size)
        return -1;
    return mkstemp(path);
}

typedef struct post_ctx {
    lds_api *api;
    api_request *req;
} post_ctx;

static enum MHD_Result post_iterate(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                    const char *content_type, const char *transfer_encoding, const char *data,
                                    uint64_t off, size_t size)
{
    api_request *req = cls;
    multipart *m = req->multipart;
    lds_api *api = ((post_ctx *)((char *)m + sizeof(multipart)))->api;
    if (m->error_status)
        return MHD_YES;
    if (filename == NULL) { /* a plain field: only "metadata" is read */
        if (key && strcmp(key, "metadata") == 0 && size > 0 && lds_buf_append(&m->metadata, data, size) != LDS_OK)
            multipart_fail(m, 413, "the metadata part is over 64 KiB");
        return MHD_YES;
    }
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    if (off == 0 || m->count == 0 || strcmp(m->parts[m->count - 1].name, base) != 0) {
        if (!name_ok(base)) {
            multipart_fail(m, 400, "a file part has an unacceptable file name");
            return MHD_YES;
        }
        if (m->count == MAX_PARTS) {
            multipart_fail(m, 413, "more than 64 files in one upload");
            return MHD_YES;
        }
        part *p = &m->parts[m->count];
        snprintf(p->name, sizeof(p->name), "%s", base);
        p->fd = open_temp(api, p->path, sizeof(p->path));
        p->bytes = 0;
        if (p->fd < 0) {
            multipart_fail(m, 503, "cannot store the upload");
            return MHD_YES;
        }
        m->count++;
    }
    part *p = &m->parts[m->count - 1];
    if (size > 0 && lds_write_all(p->fd, data, size) != LDS_OK)
        multipart_fail(m, 503, "cannot store the upload");
    p->bytes += size;
    return MHD_YES;
}

void api_request_cleanup(api_request *req)
{
    if (req->post)
        MHD_destroy_post_processor(req->post);
    req->post = NULL;
    multipart *m = req->multipart;
    if (m) {
        for (size_t i = 0; i < m->count; i++) {
            if (m->parts[i].fd >= 0)
                close(m->parts[i].fd);
            unlink(m->parts[i].path);
        }
        lds_buf_cleanup(&m->metadata);
        free(m);
        req->multipart = NULL;
    }
}

/* ---- access ---- */

static int is_role(const api_request *req, const char *role)
{
    return strcmp(req->who.role, role) == 0;
}

int api_asset_visible(const api_request *req, const char *owner, const char *status)
{
    if (is_role(req, "ops"))
        return 1;
    if ((is_role(req, "modeler") || is_role(req, "partner")) && owner && strcmp(owner, req->who.key_id) == 0)
        return 1;
    return is_role(req, "studio") && status && strcmp(status, "ready") == 0;
}

/* 0 when the principal may see an asset of this owner and status; otherwise the response was
 * queued into *ret. */
static int deny(struct MHD_Connection *c, api_request *req, const char *owner, const char *status,
                enum MHD_Result *ret)
{
    if (api_asset_visible(req, owner, status))
        return 0;
    *ret = api_respond_error(c, req, 403, "forbidden", "asset %s: not visible to this key", req->id);
    return 1;
}

static int deny_record(struct MHD_Connection *c, api_request *req, json_t *record, enum MHD_Result *ret)
{
    return deny(c, req, json_string_value(json_object_get(record, "owner_key")),
                json_string_value(json_object_get(record, "status")), ret);
}

/* Output lookups (asset, file name -> blob, owner, status) cached per server thread for
 * OUTPUT_CACHE_MS, like the key cache of auth.c: file serving then costs no Redis round trip
 * (which, with Redis on the same cores, was most of the cost of a small LOD). A cached entry is
 * a consistent snapshot: after reprocessing, a reader gets the old or the new file (the old
 * blobs stay in the store) for at most that long, never a mix. Only found outputs are cached. */
#define OUTPUT_CACHE_SLOTS 256
#define OUTPUT_CACHE_MS 1000.0

typedef struct output_entry {
    char asset[LDS_ID_MAX];
    char name[32];
    char blob[LDS_SHA256_HEX];
    char owner[LDS_SHA256_HEX];
    char status[16];
    double expires;
} output_entry;

static __thread output_entry output_cache[OUTPUT_CACHE_SLOTS];

static output_entry *output_slot(const char *asset, const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = asset; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &output_cache[h % OUTPUT_CACHE_SLOTS];
}

/* ---- body handling ---- */

enum MHD_Result api_body_begin(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (req->route == API_ROUTE_NOT_FOUND)
        return api_defer_error(c, req, 404, "not_found", "no such route");
    if (req->route != API_ROUTE_ASSETS_POST && req->route != API_ROUTE_OPS_REPROCESS &&
        req->route != API_ROUTE_DEPOSITS_POST && req->route != API_ROUTE_OPS_TRACE)
        return MHD_YES;
    if (!req->who.authenticated)
        return api_defer_error(c, req, 401, "unauthorized", "a valid API key is required (Authorization: Bearer)");
    if (req->route == API_ROUTE_ASSETS_POST && is_role(req, "studio"))
        return api_defer_error(c, req, 403, "forbidden", "studio keys cannot upload");
    if (req->route == API_ROUTE_OPS_REPROCESS && !is_role(req, "ops"))
        return api_defer_error(c, req, 403, "forbidden", "reprocessing needs an ops key");
    if (req->route == API_ROUTE_OPS_TRACE) {
        if (!is_role(req, "ops"))
            return api_defer_error(c, req, 403, "forbidden", "tracing needs an ops key");
        const char *filename = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filename");
        if (filename == NULL || !name_ok(filename) || !model_extension(filename))
            return api_defer_error(c, req, 400, "bad_request", "?filename=NAME with a model extension is required");
        return api_upload_to_temp(api, c, req, filename);
    }
    if (req->route != API_ROUTE_ASSETS_POST && req->route != API_ROUTE_DEPOSITS_POST)
        return MHD_YES; /* small JSON bodies go to req->body (capped at 1 MiB) */

    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (length && strtoull(length, NULL, 10) > api->max_upload_bytes)
        return api_defer_error(c, req, 413, "too_large", "upload of %s bytes is over the limit of %llu bytes", length,
                               (unsigned long long)api->max_upload_bytes);
    if (req->route == API_ROUTE_DEPOSITS_POST) /* archive deposits: api/deposits.c */
        return api_deposit_body_begin(api, c, req);
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (type && strncasecmp(type, "multipart/form-data", 19) == 0) {
        req->multipart = calloc(1, sizeof(multipart) + sizeof(post_ctx));
        if (req->multipart == NULL)
            return MHD_NO;
        multipart *m = req->multipart;
        lds_buf_init(&m->metadata, MAX_METADATA_BYTES);
        if (!boundary_init(&m->scan, type))
            return api_defer_error(c, req, 400, "bad_request", "multipart/form-data without a usable boundary");
        post_ctx *ctx = (post_ctx *)((char *)m + sizeof(multipart));
        ctx->api = api;
        ctx->req = req;
        req->post = MHD_create_post_processor(c, 64 * 1024, post_iterate, req);
        if (req->post == NULL)
            return api_defer_error(c, req, 400, "bad_request", "malformed multipart/form-data body");
        return MHD_YES;
    }
    const char *filename = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filename");
    if (filename == NULL || !name_ok(filename))
        return api_defer_error(c, req, 400, "bad_request",
                                 "a raw upload needs ?filename=NAME (a file name without '/')");
    if (!model_extension(filename))
        return api_defer_error(c, req, 415, "unsupported_media_type", "%s: not a model format lodestone reads",
                                 filename);
    req->body_fd = open_temp(api, req->body_path, sizeof(req->body_path));
    if (req->body_fd < 0)
        return api_defer_error(c, req, 503, "unavailable", "cannot store the upload: %s", strerror(errno));
    return MHD_YES;
}

/* A raw body to a temp file under home/tmp (deposits.c uses it too): then api_body_chunk streams
 * it there under the upload cap. */
enum MHD_Result api_upload_to_temp(lds_api *api, struct MHD_Connection *c, api_request *req, const char *filename)
{
    if (!name_ok(filename))
        return api_defer_error(c, req, 400, "bad_request", "?filename=NAME must be a file name without '/'");
    req->body_fd = open_temp(api, req->body_path, sizeof(req->body_path));
    if (req->body_fd < 0)
        return api_defer_error(c, req, 503, "unavailable", "cannot store the upload: %s", strerror(errno));
    return MHD_YES;
}

enum MHD_Result api_body_chunk(lds_api *api, struct MHD_Connection *c, api_request *req, const char *data, size_t size)
{
    req->body_bytes += size;
    if (req->body_bytes > api->max_upload_bytes) {
        /* Over the cap (chunked, or a false Content-Length): stop storing; the 413 goes out once
         * the rest is drained (api_defer_error). */
        api_request_cleanup(req);
        if (req->body_fd >= 0) {
            close(req->body_fd);
            req->body_fd = -1;
        }
        return api_defer_error(c, req, 413, "too_large", "upload is over the limit of %llu bytes",
                               (unsigned long long)api->max_upload_bytes);
    }
    if (req->post) {
        multipart *m = req->multipart;
        boundary_feed(&m->scan, data, size);
        /* after a problem the rest is read (the answer comes at the end) but no longer parsed */
        if (m->error_status == 0 && MHD_post_process(req->post, data, size) != MHD_YES)
            multipart_fail(m, 400, "malformed multipart/form-data body");
        return MHD_YES;
    }
    if (req->body_fd >= 0) {
        if (lds_write_all(req->body_fd, data, size) != LDS_OK)
            return api_defer_error(c, req, 503, "unavailable", "cannot store the upload: %s", strerror(errno));
        return MHD_YES;
    }
    if (lds_buf_append(&req->body, data, size) != LDS_OK)
        return api_defer_error(c, req, 413, "too_large", "request body over 1 MiB");
    return MHD_YES;
}

/* ---- handlers ---- */

/* The metadata given in the query string. A value that is not UTF-8 is refused: *bad names the
 * field (NULL when all are good), never silently dropped. */
static json_t *metadata_from_query(struct MHD_Connection *c, const char **bad)
{
    static const char *const keys[] = {"title", "owner", "license", "category", "tags", "description",
                                       "accession", "capture_method", "parents"};
    json_t *meta = json_object();
    *bad = NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, keys[i]);
        if (v == NULL || *v == 0)
            continue;
        json_t *value = json_string(v); /* NULL when v is not valid UTF-8 */
        if (value == NULL && *bad == NULL)
            *bad = keys[i];
        json_object_set_new(meta, keys[i], value);
    }
    return meta;
}

/* The digest an Idempotency-Key is stored with: the metadata and every file's name and content. */
static lds_status upload_digest(json_t *meta, const lds_asset_file *files, const char *const *paths, size_t count,
                                char hex[LDS_SHA256_HEX], lds_error *err)
{
    lds_sha256 ctx;
    lds_sha256_init(&ctx);
    char *text = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        return lds_error_set(err, LDS_ENOMEM, "upload: out of memory");
    lds_sha256_update(&ctx, "upload\n", 7);
    lds_sha256_update(&ctx, text, strlen(text) + 1);
    free(text);
    for (size_t i = 0; i < count; i++) {
        unsigned char digest[LDS_SHA256_BYTES];
        lds_status st = lds_sha256_file(paths[i], digest, NULL, err);
        if (st != LDS_OK)
            return st;
        lds_sha256_update(&ctx, files[i].name, strlen(files[i].name) + 1);
        lds_sha256_update(&ctx, digest, sizeof(digest));
    }
    api_digest_hex(&ctx, hex);
    return LDS_OK;
}

static enum MHD_Result post_asset(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    lds_error err;
    lds_error_clear(&err);
    lds_asset_file files[MAX_PARTS];
    char ids[MAX_PARTS][LDS_SHA256_HEX];
    const char *paths[MAX_PARTS];
    size_t count = 0;
    const char *bad_field;
    json_t *meta = metadata_from_query(c, &bad_field);
    multipart *m = req->multipart;
    enum MHD_Result ret;
    if (bad_field) {
        json_decref(meta);
        return api_respond_error(c, req, 400, "bad_request", "metadata field '%s' is not valid UTF-8", bad_field);
    }

    if (m) {
        if (req->post && m->error_status == 0)
            MHD_post_process(req->post, NULL, 0);
        if (m->scan.broken)
            multipart_fail(m, 400, "malformed multipart body: a delimiter line is followed by other text "
                                   "(a part breaks the boundary)");
        else if (!m->scan.closed)
            multipart_fail(m, 400, "malformed multipart body: it ends without its closing boundary");
        if (m->error_status) {
            json_decref(meta);
            return api_respond_error(c, req, m->error_status, m->error_status == 413   ? "too_large"
                                     : m->error_status == 503 ? "unavailable"
                                                              : "bad_request",
                                     "%s", m->error);
        }
        if (m->metadata.size > 0) {
            json_error_t jerr;
            json_t *extra = json_loadb((const char *)m->metadata.data, m->metadata.size, 0, &jerr);
            if (!json_is_object(extra)) {
                json_decref(extra);
                json_decref(meta);
                return api_respond_error(c, req, 400, "bad_request", "metadata part: not a JSON object (%s)", jerr.text);
            }
            json_object_update(meta, extra);
            json_decref(extra);
        }
        /* the model first: the first part with a model extension */
        size_t model = m->count;
        for (size_t i = 0; i < m->count && model == m->count; i++)
            if (model_extension(m->parts[i].name))
                model = i;
        if (m->count == 0 || model == m->count) {
            json_decref(meta);
            return api_respond_error(c, req, m->count ? 415 : 400, m->count ? "unsupported_media_type" : "bad_request",
                                     m->count ? "no file part is a model format lodestone reads"
                                              : "multipart upload without a file part");
        }
        paths[count] = m->parts[model].path;
        files[count++] = (lds_asset_file){m->parts[model].name, NULL, m->parts[model].bytes};
        for (size_t i = 0; i < m->count; i++)
            if (i != model) {
                paths[count] = m->parts[i].path;
                files[count++] = (lds_asset_file){m->parts[i].name, NULL, m->parts[i].bytes};
            }
    } else {
        paths[count] = req->body_path;
        files[count++] = (lds_asset_file){MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filename"), NULL,
                                          req->body_bytes};
        if (req->body_bytes == 0) {
            json_decref(meta);
            return api_respond_error(c, req, 400, "bad_request", "%s: empty upload", files[0].name);
        }
    }
    /* Everything is checked before anything is stored: a refused upload leaves no blob. */
    if (lds_assets_validate(files, count, &err) != LDS_OK) {
        json_decref(meta);
        return api_respond_error(c, req, 400, "bad_request", "%s", err.message);
    }
    char idem[API_IDEMPOTENCY_MAX], digest[LDS_SHA256_HEX] = "";
    int has_idem = api_idempotency_key(c, req, idem, &ret);
    if (has_idem < 0) {
        json_decref(meta);
        return ret;
    }
    if (has_idem && upload_digest(meta, files, paths, count, digest, &err) != LDS_OK) {
        json_decref(meta);
        return api_respond_status(c, req, &err);
    }
    char first[LDS_ID_MAX];
    if (has_idem && api_idempotency_conflict(api, idem, digest, first, sizeof(first))) {
        json_decref(meta);
        return api_respond_error(c, req, 422, "idempotency_conflict",
                                 "this Idempotency-Key was used for a different upload (asset %s)", first);
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t size = 0;
        if (lds_blob_put_file(api->blobs, paths[i], LDS_BLOB_COMPRESS, ids[i], &size, &err) != LDS_OK) {
            json_decref(meta);
            return api_respond_status(c, req, &err);
        }
        files[i].blob_id = ids[i];
        files[i].bytes = size;
    }
    lds_redis *redis = api_redis(api, &err);
    char asset_id[LDS_ID_MAX], job_id[LDS_ID_MAX];
    lds_asset_submission sub = {.files = files, .file_count = count, .metadata = meta, .owner_key = req->who.key_id};
    sub.owner_account = req->who.name;
    sub.idempotency_key = has_idem ? idem : NULL;
    sub.request_digest = has_idem ? digest : NULL;
    lds_status st = redis ? lds_assets_record_write(redis, &sub, asset_id, job_id, NULL, &err) : err.code;
    if (st == LDS_OK)
        st = lds_assets_record_enqueue(redis, asset_id, NULL, &err);
    json_decref(meta);
    if (st == LDS_EEXIST) /* the same key raced in with another body */
        return api_respond_error(c, req, 422, "idempotency_conflict", "%s", err.message);
    if (st != LDS_OK)
        return api_respond_status(c, req, &err);
    ret = api_respond_json(c, req, 202,
                           json_pack("{s:{s:s,s:s},s:{s:s}}", "asset", "id", asset_id, "status", "queued", "job", "id",
                                     job_id));
    return ret;
}

/* Loads the record (all of it, or only the fields named when fields is not NULL; they must
 * include "status" and "owner_key" for the access check) and checks access. */
static enum MHD_Result load_record(lds_api *api, struct MHD_Connection *c, api_request *req, const char *const *fields,
                                   size_t field_count, json_t **record, enum MHD_Result *ret)
{
    lds_error err;
    lds_error_clear(&err);
    *record = NULL;
    if (!req->who.authenticated) {
        *ret = api_respond_error(c, req, 401, "unauthorized", "a valid API key is required (Authorization: Bearer)");
        return MHD_NO;
    }
    lds_redis *redis = api_redis(api, &err);
    lds_status st = redis == NULL ? err.code
                    : fields   ? lds_assets_get_fields(redis, req->id, fields, field_count, record, &err)
                               : lds_assets_get(redis, req->id, record, &err);
    if (st != LDS_OK) {
        if (err.code == LDS_ENOENT)
            *ret = api_respond_error(c, req, 404, "not_found", "no asset %s", req->id);
        else
            *ret = api_respond_status(c, req, &err);
        return MHD_NO;
    }
    if (deny_record(c, req, *record, ret)) {
        json_decref(*record);
        *record = NULL;
        return MHD_NO;
    }
    return MHD_YES;
}

enum MHD_Result api_load_record(lds_api *api, struct MHD_Connection *c, api_request *req, json_t **record,
                                enum MHD_Result *ret)
{
    return load_record(api, c, req, NULL, 0, record, ret);
}

/* Duplicate warnings in a report name the matching asset (its id and title) only to a reader who
 * may see that asset; anyone else learns only that the model matches one already registered. */
static void redact_duplicates(lds_api *api, api_request *req, json_t *manifest)
{
    json_t *issues = json_object_get(json_object_get(manifest, "report"), "issues");
    size_t i;
    json_t *issue;
    json_array_foreach(issues, i, issue)
    {
        const char *code = json_string_value(json_object_get(issue, "code"));
        if (code == NULL || strcmp(code, "possible_duplicate") != 0)
            continue;
        const char *other = json_string_value(json_object_get(issue, "asset"));
        static const char *const fields[] = {"status", "owner_key"};
        json_t *record = NULL;
        lds_error err;
        lds_error_clear(&err);
        lds_redis *redis = api_redis(api, &err);
        int visible = other && redis && lds_assets_get_fields(redis, other, fields, 2, &record, &err) == LDS_OK &&
                      api_asset_visible(req, json_string_value(json_object_get(record, "owner_key")),
                                        json_string_value(json_object_get(record, "status")));
        json_decref(record);
        if (visible)
            continue;
        char message[128];
        snprintf(message, sizeof(message), "the shape matches a model already registered (similarity %.3f)",
                 json_number_value(json_object_get(issue, "similarity")));
        json_object_del(issue, "asset");
        json_object_set_new(issue, "message", json_string(message));
    }
}

static enum MHD_Result get_asset(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    json_t *record;
    enum MHD_Result ret;
    if (load_record(api, c, req, NULL, 0, &record, &ret) != MHD_YES)
        return ret;
    json_t *out = json_object();
    const char *keys[] = {"id", "status", "progress", "manifest", "error", "metadata", "accepted", "updated", "valuation"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(record, keys[i]);
        json_object_set(out, keys[i], v ? v : json_null());
    }
    json_decref(record);
    redact_duplicates(api, req, json_object_get(out, "manifest"));
    return api_respond_json(c, req, 200, out);
}

/* Serves one output file of a ready asset. */
static enum MHD_Result get_output(lds_api *api, struct MHD_Connection *c, api_request *req, const char *name,
                                  const char *type)
{
    char path[PATH_MAX], etag[LDS_SHA256_HEX];
    int compressed = 0;
    uint64_t size;
    lds_error err;
    lds_error_clear(&err);
    enum MHD_Result ret;
    output_entry *cached = output_slot(req->id, name);
    if (req->who.authenticated && strcmp(cached->asset, req->id) == 0 && strcmp(cached->name, name) == 0 &&
        cached->expires > lds_time_ms()) {
        if (deny(c, req, cached->owner[0] ? cached->owner : NULL, cached->status, &ret))
            return ret;
        if (lds_blob_locate(api->blobs, cached->blob, path, sizeof(path), &compressed, &size, &err) == LDS_OK &&
            !compressed)
            return api_respond_file(c, req, path, cached->blob, type);
        cached->expires = 0; /* gone from the store: ask Redis */
    }
    /* the hot path of file serving: not the whole record (its manifest is large) */
    static const char *const fields[] = {"status", "owner_key", "outputs"};
    json_t *record;
    if (load_record(api, c, req, fields, 3, &record, &ret) != MHD_YES)
        return ret;
    const char *status = json_string_value(json_object_get(record, "status"));
    const char *blob = json_string_value(json_object_get(json_object_get(record, "outputs"), name));
    if (blob == NULL) {
        int ready = status && strcmp(status, "ready") == 0;
        ret = ready ? api_respond_error(c, req, 404, "not_found", "asset %s has no %s", req->id, name)
                    : api_respond_error(c, req, 409, "not_ready", "asset %s is %s, not ready", req->id,
                                        status ? status : "unknown");
        json_decref(record);
        return ret;
    }
    snprintf(etag, sizeof(etag), "%s", blob);
    if (lds_blob_locate(api->blobs, etag, path, sizeof(path), &compressed, &size, &err) != LDS_OK || compressed) {
        json_decref(record);
        return api_respond_error(c, req, 404, "not_found", "%s of asset %s is missing from the blob store", name,
                                 req->id);
    }
    const char *owner = json_string_value(json_object_get(record, "owner_key"));
    if (strlen(req->id) < sizeof(cached->asset) && strlen(name) < sizeof(cached->name) &&
        strlen(status ? status : "") < sizeof(cached->status)) {
        memcpy(cached->asset, req->id, strlen(req->id) + 1); /* lengths checked above */
        memcpy(cached->name, name, strlen(name) + 1);
        snprintf(cached->blob, sizeof(cached->blob), "%s", etag);
        snprintf(cached->owner, sizeof(cached->owner), "%s", owner ? owner : "");
        snprintf(cached->status, sizeof(cached->status), "%s", status ? status : "");
        cached->expires = lds_time_ms() + OUTPUT_CACHE_MS;
    }
    json_decref(record);
    return api_respond_file(c, req, path, etag, type);
}

static enum MHD_Result get_lod(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    /* a plain decimal: digits only, no sign, no spaces, no leading zero */
    size_t digits = strspn(req->sub, "0123456789");
    long level = digits >= 1 && digits <= 2 && req->sub[digits] == 0 && !(digits == 2 && req->sub[0] == '0')
                     ? strtol(req->sub, NULL, 10)
                     : -1;
    if (level < 0 || level > 64)
        return api_respond_error(c, req, 400, "bad_request", "LOD level '%s' is not a number from 0 to 64", req->sub);
    const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    const char *suffix;
    if (format == NULL || strcmp(format, "glb") == 0)
        suffix = ".glb";
    else if (strcmp(format, "draco") == 0)
        suffix = ".draco.glb";
    else if (strcmp(format, "meshopt") == 0)
        suffix = ".meshopt.glb";
    else
        return api_respond_error(c, req, 400, "bad_request", "format '%s': expected glb, draco or meshopt", format);
    char name[64];
    snprintf(name, sizeof(name), "lod%ld%s", level, suffix);
    enum MHD_Result ret;
    if (api_lod_denied(api, c, req, &ret))
        return ret;
    return get_output(api, c, req, name, "model/gltf-binary");
}

/* GET /v1/assets/{id}/thumbnails/{n}: a turntable view (PNG) for whoever may see the asset. */
static enum MHD_Result get_thumbnail(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    char *end;
    long n = strtol(req->sub, &end, 10);
    if (*req->sub == 0 || *end || n < 0 || n >= LDS_THUMBNAIL_VIEWS)
        return api_respond_error(c, req, 400, "bad_request", "thumbnail '%s': expected 0 to %d", req->sub,
                                 LDS_THUMBNAIL_VIEWS - 1);
    char name[32];
    snprintf(name, sizeof(name), "thumb%ld.png", n);
    return get_output(api, c, req, name, "image/png");
}

static enum MHD_Result get_queues(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return api_respond_error(c, req, 401, "unauthorized", "a valid API key is required (Authorization: Bearer)");
    if (!is_role(req, "ops"))
        return api_respond_error(c, req, 403, "forbidden", "queue figures need an ops key");
    lds_error err;
    lds_error_clear(&err);
    json_t *stats = NULL;
    lds_redis *redis = api_redis(api, &err);
    if (redis == NULL || lds_queue_stats(redis, &stats, &err) != LDS_OK)
        return api_respond_status(c, req, &err);
    return api_respond_json(c, req, 200, stats);
}

static enum MHD_Result post_reprocess(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    json_error_t jerr;
    json_t *body = req->body.size ? json_loadb((const char *)req->body.data, req->body.size, 0, &jerr) : json_object();
    if (!json_is_object(body)) {
        json_decref(body);
        return api_respond_error(c, req, 400, "bad_request", "body: expected a JSON object");
    }
    const char *ids[1024];
    lds_reprocess_selection sel = {0};
    sel.all = json_is_true(json_object_get(body, "all"));
    sel.older_than = json_string_value(json_object_get(body, "older_than"));
    json_t *assets = json_object_get(body, "assets");
    size_t i;
    json_t *v;
    if (json_array_size(assets) > sizeof(ids) / sizeof(ids[0])) {
        json_decref(body);
        return api_respond_error(c, req, 413, "too_large", "body: at most %zu asset ids per request",
                                 sizeof(ids) / sizeof(ids[0]));
    }
    json_array_foreach(assets, i, v)
    {
        if (!json_is_string(v)) {
            json_decref(body);
            return api_respond_error(c, req, 400, "bad_request", "body: \"assets\" must hold asset id strings");
        }
        ids[sel.asset_count++] = json_string_value(v);
    }
    sel.asset_ids = ids;
    if (!sel.all && sel.asset_count == 0 && sel.older_than == NULL) {
        json_decref(body);
        return api_respond_error(c, req, 400, "bad_request",
                                 "body: give {\"all\": true}, {\"assets\": [ids]} or {\"older_than\": VERSION}");
    }
    lds_error err;
    lds_error_clear(&err);
    size_t queued = 0;
    json_t *jobs = NULL;
    lds_redis *redis = api_redis(api, &err);
    lds_status st = redis ? lds_reprocess_enqueue(redis, &sel, &queued, &jobs, &err) : err.code;
    json_decref(body);
    if (st != LDS_OK)
        return api_respond_status(c, req, &err);
    return api_respond_json(c, req, 202, json_pack("{s:I,s:o}", "queued", (json_int_t)queued, "jobs", jobs));
}

/* Bare: {"status": "ok"} or 503 {"status": "unavailable"}, nothing more (load balancers need no
 * more, and anyone may ask). With an ops key: what is up and what is not. */
static enum MHD_Result get_health(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    int up = redis != NULL && lds_redis_command(redis, NULL, &err, "PING") == LDS_OK;
    if (!req->who.authenticated || !is_role(req, "ops"))
        return api_respond_json(c, req, up ? 200 : 503, json_pack("{s:s}", "status", up ? "ok" : "unavailable"));
    if (!up)
        lds_log_warn("healthz: %s", err.message);
    return api_respond_json(c, req, up ? 200 : 503,
                            json_pack("{s:s,s:s}", "status", up ? "ok" : "unavailable", "redis", up ? "ok" : "down"));
}

static void metrics_queue(lds_api *api, lds_buf *out)
{
    lds_error err;
    lds_error_clear(&err);
    json_t *stats = NULL;
    lds_redis *redis = api_redis(api, &err);
    if (redis == NULL || lds_queue_stats(redis, &stats, &err) != LDS_OK) {
        lds_buf_printf(out, "lodestone_redis_up 0\n");
        return;
    }
    lds_buf_printf(out, "lodestone_redis_up 1\n# TYPE lodestone_queue_depth gauge\n");
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(stats, "streams"), name, v)
    {
        lds_buf_printf(out, "lodestone_queue_depth{priority=\"%s\"} %lld\n", name,
                       (long long)json_integer_value(json_object_get(v, "depth")));
        lds_buf_printf(out, "lodestone_queue_in_flight{priority=\"%s\"} %lld\n", name,
                       (long long)json_integer_value(json_object_get(v, "in_flight")));
    }
    lds_buf_printf(out, "# TYPE lodestone_queue_delayed gauge\nlodestone_queue_delayed %lld\n",
                   (long long)json_integer_value(json_object_get(stats, "delayed")));
    lds_buf_printf(out, "# TYPE lodestone_dead_letters gauge\nlodestone_dead_letters %lld\n",
                   (long long)json_integer_value(json_object_get(stats, "dead")));
    lds_buf_printf(out, "# HELP lodestone_job_stage_seconds Time spent in each pipeline stage by finished jobs.\n"
                        "# TYPE lodestone_job_stage_seconds summary\n");
    json_object_foreach(json_object_get(stats, "durations"), name, v)
    {
        lds_buf_printf(out, "lodestone_job_stage_seconds_sum{stage=\"%s\"} %.3f\n", name,
                       json_number_value(json_object_get(v, "sum_ms")) / 1000.0);
        lds_buf_printf(out, "lodestone_job_stage_seconds_count{stage=\"%s\"} %lld\n", name,
                       (long long)json_integer_value(json_object_get(v, "count")));
    }
    json_object_foreach(json_object_get(stats, "counters"), name, v)
    {
        if (json_is_integer(v))
            lds_buf_printf(out, "lodestone_jobs_total{event=\"%s\"} %lld\n", name, (long long)json_integer_value(v));
        else if (json_is_string(v))
            lds_buf_printf(out, "lodestone_jobs_total{event=\"%s\"} %s\n", name, json_string_value(v));
    }
    json_decref(stats);
}

static enum MHD_Result get_metrics(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return api_respond_error(c, req, 401, "unauthorized", "metrics need an ops key (Authorization: Bearer)");
    if (!is_role(req, "ops"))
        return api_respond_error(c, req, 403, "forbidden", "metrics need an ops key");
    lds_buf out;
    lds_buf_init(&out, 4 << 20);
    api_metrics_render(api, &out);
    metrics_queue(api, &out);
    enum MHD_Result ret = api_respond_text(c, req, 200, "text/plain; version=0.0.4", out.data ? (char *)out.data : "",
                                           out.size);
    lds_buf_cleanup(&out);
    return ret;
}

enum MHD_Result api_dispatch(lds_api *api, struct MHD_Connection *c, api_request *req, const char *method)
{
    switch (req->route) {
    case API_ROUTE_HEALTHZ: return get_health(api, c, req);
    case API_ROUTE_METRICS: return get_metrics(api, c, req);
    case API_ROUTE_ASSETS_POST: return post_asset(api, c, req);
    case API_ROUTE_ASSET_GET: return get_asset(api, c, req);
    case API_ROUTE_ASSET_LOD: return get_lod(api, c, req);
    case API_ROUTE_ASSET_CERT: return get_output(api, c, req, "certificate.json", "application/json");
    case API_ROUTE_ASSET_SIMILAR: return api_get_similar(api, c, req);
    case API_ROUTE_ASSET_THUMBNAIL: return get_thumbnail(api, c, req);
    case API_ROUTE_CATALOGUE:
    case API_ROUTE_CATALOGUE_PAGE:
    case API_ROUTE_ASSET_LICENSES_GET:
    case API_ROUTE_ASSET_LICENSES_POST:
    case API_ROUTE_ASSET_LINEAGE:
    case API_ROUTE_COLLECTIONS_POST:
    case API_ROUTE_COLLECTIONS_GET:
    case API_ROUTE_COLLECTION_GET: return api_catalogue_route(api, c, req); /* catalogue.c */
    case API_ROUTE_ASSET_VALUATION: return api_get_valuation(api, c, req); /* valuation_routes.c */
    case API_ROUTE_EVENTS_POST: return api_post_events(api, c, req);
    case API_ROUTE_OPS_QUEUES: return get_queues(api, c, req);
    case API_ROUTE_OPS_REPROCESS: return post_reprocess(api, c, req);
    case API_ROUTE_ASSET_PREVIEW: return api_preview_post(api, c, req); /* previews.c */
    case API_ROUTE_PREVIEW_MODEL: return api_preview_model(api, c, req);
    case API_ROUTE_PREVIEW_VIEWER: return api_preview_viewer(api, c, req);
    case API_ROUTE_WEB: return api_web_get(api, c, req);
    case API_ROUTE_OPS_TRACE:
        if (!req->who.authenticated)
            return api_respond_error(c, req, 401, "unauthorized", "a valid API key is required (Authorization: Bearer)");
        return api_ops_trace(api, c, req);
    case API_ROUTE_DEPOSITS_POST: return api_deposit_post(api, c, req); /* deposits.c */
    case API_ROUTE_DEPOSIT_GET: return api_deposit_get(api, c, req);
    case API_ROUTE_LOG_CHECKPOINT:
    case API_ROUTE_LOG_KEY:
    case API_ROUTE_LOG_PROOF:
    case API_ROUTE_LOG_CONSISTENCY: return api_log_route(api, c, req);
    default: return api_respond_error(c, req, 404, "not_found", "no route for %s %s", method, "this path");
    }
}
