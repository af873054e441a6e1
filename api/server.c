/*
 * server.c: the libmicrohttpd glue: a thread pool on epoll, routing of the URL to a route, the
 * request lifecycle (bodies streamed to a temp file with a cap, never whole in memory), JSON
 * errors, file responses with strong ETags and byte ranges (RFC 9110 sections 8.8.3, 13.1.2,
 * 14), and request counters for /metrics.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_internal.h"
#include "proto.h"

static const char *const route_labels[API_ROUTE_COUNT] = {
#define API_XX_LABEL(name, label) label,
    API_ROUTES(API_XX_LABEL)
#undef API_XX_LABEL
};

/* ---- responses ---- */

static enum MHD_Result queue(struct MHD_Connection *c, api_request *req, unsigned status, struct MHD_Response *r)
{
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Server", "lodestone/" LDS_VERSION);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    req->status = status;
    req->responded = 1;
    return ret;
}

enum MHD_Result api_queue_response(struct MHD_Connection *c, api_request *req, unsigned status,
                                   struct MHD_Response *r)
{
    return queue(c, req, status, r);
}

enum MHD_Result api_respond_text(struct MHD_Connection *c, api_request *req, unsigned status, const char *type,
                                 const char *text, size_t size)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(size, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r && type)
        MHD_add_response_header(r, "Content-Type", type);
    return queue(c, req, status, r);
}

enum MHD_Result api_respond_json(struct MHD_Connection *c, api_request *req, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (text == NULL) { /* a body that could not be built still gets an answer */
        static const char internal[] = "{\"error\":{\"code\":\"internal\",\"message\":\"cannot encode the response\"}}";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof(internal) - 1, (void *)internal, MHD_RESPMEM_PERSISTENT);
        if (r)
            MHD_add_response_header(r, "Content-Type", "application/json");
        return queue(c, req, 500, r);
    }
    size_t size = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(size, text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    return queue(c, req, status, r);
}

/* Replaces every byte that is not part of valid UTF-8 with '?' (JSON strings must be UTF-8; ids
 * and file names come from clients, and vsnprintf may cut a character in two). */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        int ok = n > 0;
        for (int i = 1; ok && i < n; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

enum MHD_Result api_respond_error(struct MHD_Connection *c, api_request *req, unsigned status, const char *code,
                                  const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    utf8_sanitize(message);
    json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    if (status == 401) {
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (text == NULL)
            return MHD_NO;
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (r == NULL) {
            free(text);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"lodestone\"");
        return queue(c, req, status, r);
    }
    return api_respond_json(c, req, status, body);
}

enum MHD_Result api_defer_error(struct MHD_Connection *c, api_request *req, unsigned status, const char *code,
                                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req->deferred_message, sizeof(req->deferred_message), fmt, ap);
    va_end(ap);
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    const char *chunked = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
    uint64_t declared = length ? strtoull(length, NULL, 10) : 0;
    int body_to_come = declared > req->body_bytes || chunked != NULL;
    int waits = expect && strcasecmp(expect, "100-continue") == 0 && req->body_bytes == 0;
    /* A client without a valid key gets its answer at once: its body is never read. */
    if (!req->who.authenticated || !body_to_come || waits || declared > req->body_bytes + API_DRAIN_MAX_BYTES)
        return api_respond_error(c, req, status, code, "%s", req->deferred_message);
    req->deferred_status = status;
    snprintf(req->deferred_code, sizeof(req->deferred_code), "%s", code);
    req->drain_until = req->body_bytes + API_DRAIN_MAX_BYTES;
    return MHD_YES;
}

enum MHD_Result api_respond_status(struct MHD_Connection *c, api_request *req, const lds_error *err)
{
    unsigned status = 500;
    const char *code = "internal";
    switch (err->code) {
    case LDS_ENOENT: status = 404, code = "not_found"; break;
    case LDS_EINVAL: status = 400, code = "bad_request"; break;
    case LDS_EFORMAT: case LDS_ETRUNC: case LDS_ENOGEOM: status = 422, code = "unprocessable"; break;
    case LDS_ELIMIT: status = 413, code = "too_large"; break;
    case LDS_EPERM: status = 403, code = "forbidden"; break;
    case LDS_EEXIST: status = 409, code = "conflict"; break;
    case LDS_EREDIS: case LDS_EUNAVAIL: case LDS_ETIMEOUT: status = 503, code = "unavailable"; break;
    default: break;
    }
    /* Server-side failures are logged in full and answered in general terms: their messages name
     * server paths and sockets, which are nobody's business outside. */
    if (status >= 500) {
        lds_log_warn("api: %s", err->message);
        return api_respond_error(c, req, status, code, "%s",
                                 status == 503 ? "the service is unavailable for a moment; try again"
                                               : "internal error (logged on the server)");
    }
    return api_respond_error(c, req, status, code, "%s", err->message[0] ? err->message : lds_status_message(err->code));
}

/* Parses a single "bytes=a-b" range against size. Returns 1 with [*first, *last] when it is
 * satisfiable, 0 to ignore the header (absent, several ranges, or not bytes), -1 when
 * unsatisfiable (416). */
static int parse_range(const char *header, uint64_t size, uint64_t *first, uint64_t *last)
{
    if (header == NULL || strncmp(header, "bytes=", 6) != 0 || strchr(header, ',') != NULL)
        return 0;
    const char *p = header + 6;
    char *end;
    errno = 0;
    if (*p == '-') { /* suffix: the last n bytes */
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (errno == ERANGE)
            return -1; /* a number no file can match */
        if (end == p + 1 || *end || errno || !isdigit((unsigned char)p[1]))
            return 0;
        if (n == 0 || size == 0)
            return -1;
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return 1;
    }
    if (!isdigit((unsigned char)*p))
        return 0;
    unsigned long long a = strtoull(p, &end, 10);
    if (errno == ERANGE)
        return -1;
    if (end == p || *end != '-' || errno)
        return 0;
    p = end + 1;
    unsigned long long b = size ? size - 1 : 0;
    if (*p) {
        if (!isdigit((unsigned char)*p))
            return 0;
        b = strtoull(p, &end, 10);
        if (errno == ERANGE)
            return -1;
        if (end == p || *end || errno)
            return 0;
        if (b < a)
            return 0;
    }
    if (a >= size)
        return -1;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

/* True when an If-None-Match list contains the tag (or is "*"). */
static int etag_matches(const char *header, const char *etag)
{
    if (header == NULL)
        return 0;
    if (strcmp(header, "*") == 0)
        return 1;
    size_t n = strlen(etag);
    for (const char *p = header; (p = strstr(p, etag)) != NULL; p += n) {
        char before = p == header ? ',' : p[-1];
        char after = p[n];
        /* weak comparison is what If-None-Match uses: W/"x" matches "x" */
        if ((before == ',' || before == ' ' || before == '/') && (after == 0 || after == ',' || after == ' '))
            return 1;
    }
    return 0;
}

enum MHD_Result api_respond_file(struct MHD_Connection *c, api_request *req, const char *path, const char *sha256,
                                 const char *type)
{
    char etag[LDS_SHA256_HEX + 2];
    snprintf(etag, sizeof(etag), "\"%s\"", sha256);
    if (etag_matches(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match"), etag)) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (r)
            MHD_add_response_header(r, "ETag", etag);
        return queue(c, req, 304, r);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return api_respond_error(c, req, 404, "not_found", "file is not in the blob store");
    }
    uint64_t size = (uint64_t)st.st_size, first = 0, last = size ? size - 1 : 0;
    unsigned status = 200;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
    if (if_range && strcmp(if_range, etag) != 0)
        range = NULL; /* the representation changed: send it whole */
    int ranged = parse_range(range, size, &first, &last);
    if (ranged < 0) {
        close(fd);
        char value[64];
        snprintf(value, sizeof(value), "bytes */%llu", (unsigned long long)size);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (r)
            MHD_add_response_header(r, "Content-Range", value);
        return queue(c, req, 416, r);
    }
    if (ranged > 0)
        status = 206;
    uint64_t length = size ? last - first + 1 : 0;
    /* from_fd uses sendfile where it can; MHD closes fd with the response */
    struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(length, fd, (uint64_t)first);
    if (r == NULL) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", "private, max-age=31536000, immutable");
    if (status == 206) {
        char value[96];
        snprintf(value, sizeof(value), "bytes %llu-%llu/%llu", (unsigned long long)first, (unsigned long long)last,
                 (unsigned long long)size);
        MHD_add_response_header(r, "Content-Range", value);
    }
    return queue(c, req, status, r);
}

/* ---- routing ---- */

/* Splits url into at most max segments (copied into storage). Returns the count, -1 if too many
 * or too long. */
static int split_path(const char *url, char segments[][128], int max)
{
    int n = 0;
    const char *p = url;
    while (*p == '/')
        p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n == max || len >= 128)
            return -1;
        memcpy(segments[n], p, len);
        segments[n][len] = 0;
        n++;
        p += len;
        while (*p == '/')
            p++;
    }
    return n;
}

static api_route route_of(const char *method, const char *url, api_request *req)
{
    if (strncmp(url, "/web/", 5) == 0 && strcmp(method, "GET") == 0 && strlen(url + 5) < sizeof(req->path)) {
        snprintf(req->path, sizeof(req->path), "%s", url + 5);
        return API_ROUTE_WEB;
    }
    char s[6][128];
    int n = split_path(url, s, 6);
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    if (n == 1 && get && strcmp(s[0], "healthz") == 0)
        return API_ROUTE_HEALTHZ;
    if (n == 1 && get && strcmp(s[0], "metrics") == 0)
        return API_ROUTE_METRICS;
    if (n == 1 && get && strcmp(s[0], "catalogue") == 0)
        return API_ROUTE_CATALOGUE_PAGE;
    if (n < 2 || strcmp(s[0], "v1") != 0)
        return API_ROUTE_NOT_FOUND;
    if (strcmp(s[1], "assets") == 0) {
        if (n == 2 && post)
            return API_ROUTE_ASSETS_POST;
        if (n == 2 && get)
            return API_ROUTE_CATALOGUE;
        if (n >= 3)
            snprintf(req->id, sizeof(req->id), "%s", s[2]);
        if (n == 3 && get)
            return API_ROUTE_ASSET_GET;
        if (n == 5 && get && strcmp(s[3], "lods") == 0) {
            snprintf(req->sub, sizeof(req->sub), "%s", s[4]);
            return API_ROUTE_ASSET_LOD;
        }
        if (n == 4 && get && strcmp(s[3], "certificate") == 0)
            return API_ROUTE_ASSET_CERT;
        if (n == 4 && get && strcmp(s[3], "similar") == 0)
            return API_ROUTE_ASSET_SIMILAR;
        if (n == 4 && strcmp(s[3], "licenses") == 0 && (get || post))
            return get ? API_ROUTE_ASSET_LICENSES_GET : API_ROUTE_ASSET_LICENSES_POST;
        if (n == 4 && get && strcmp(s[3], "lineage") == 0)
            return API_ROUTE_ASSET_LINEAGE;
        if (n == 5 && get && strcmp(s[3], "thumbnails") == 0) {
            snprintf(req->sub, sizeof(req->sub), "%s", s[4]);
            return API_ROUTE_ASSET_THUMBNAIL;
        }
        if (n == 4 && post && strcmp(s[3], "preview") == 0)
            return API_ROUTE_ASSET_PREVIEW;
        if (n == 5 && get && strcmp(s[3], "preview") == 0 && strcmp(s[4], "model") == 0)
            return API_ROUTE_PREVIEW_MODEL;
        if (n == 5 && get && strcmp(s[3], "preview") == 0 && strcmp(s[4], "viewer") == 0)
            return API_ROUTE_PREVIEW_VIEWER;
        if (n == 4 && get && strcmp(s[3], "valuation") == 0)
            return API_ROUTE_ASSET_VALUATION;
        return API_ROUTE_NOT_FOUND;
    }
    if (n == 2 && post && strcmp(s[1], "events") == 0)
        return API_ROUTE_EVENTS_POST;
    if (strcmp(s[1], "log") == 0 && get) {
        if (n == 3 && strcmp(s[2], "checkpoint") == 0)
            return API_ROUTE_LOG_CHECKPOINT;
        if (n == 3 && strcmp(s[2], "key") == 0)
            return API_ROUTE_LOG_KEY;
        if (n == 3 && strcmp(s[2], "consistency") == 0)
            return API_ROUTE_LOG_CONSISTENCY;
        if (n == 4 && strcmp(s[2], "proof") == 0) {
            snprintf(req->sub, sizeof(req->sub), "%s", s[3]);
            return API_ROUTE_LOG_PROOF;
        }
        return API_ROUTE_NOT_FOUND;
    }
    if (strcmp(s[1], "collections") == 0) {
        if (n == 2 && (get || post))
            return get ? API_ROUTE_COLLECTIONS_GET : API_ROUTE_COLLECTIONS_POST;
        if (n == 3 && get) {
            snprintf(req->id, sizeof(req->id), "%s", s[2]);
            return API_ROUTE_COLLECTION_GET;
        }
        return API_ROUTE_NOT_FOUND;
    }
    if (strcmp(s[1], "deposits") == 0) {
        if (n == 2 && post)
            return API_ROUTE_DEPOSITS_POST;
        if (n == 3 && get) {
            snprintf(req->id, sizeof(req->id), "%s", s[2]);
            return API_ROUTE_DEPOSIT_GET;
        }
        return API_ROUTE_NOT_FOUND;
    }
    if (n == 3 && strcmp(s[1], "ops") == 0) {
        if (get && strcmp(s[2], "queues") == 0)
            return API_ROUTE_OPS_QUEUES;
        if (post && strcmp(s[2], "reprocess") == 0)
            return API_ROUTE_OPS_REPROCESS;
        if (post && strcmp(s[2], "trace") == 0)
            return API_ROUTE_OPS_TRACE;
    }
    return API_ROUTE_NOT_FOUND;
}

/* 429 with Retry-After, at headers time (the body is not read). */
static enum MHD_Result respond_quota(struct MHD_Connection *c, api_request *req, unsigned retry, int upload)
{
    char text[256], seconds[16];
    snprintf(text, sizeof(text),
             "{\"error\":{\"code\":\"too_many_requests\",\"message\":\"this key is over its quota of %s per "
             "minute; retry in %u s\"}}",
             upload ? "uploads" : "requests", retry);
    snprintf(seconds, sizeof(seconds), "%u", retry);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    if (r) {
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "Retry-After", seconds);
    }
    return queue(c, req, 429, r);
}

/* Request framing that two readers could take differently (RFC 9112 section 6.3): several
 * Content-Length values that differ, or Content-Length with Transfer-Encoding. */
typedef struct framing {
    const char *length;
    int lengths_differ, transfer_encoding;
} framing;

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    framing *f = cls;
    if (strcasecmp(key, "Content-Length") == 0) {
        if (f->length && strcmp(f->length, value ? value : "") != 0)
            f->lengths_differ = 1;
        f->length = value ? value : "";
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding = 1;
    }
    return MHD_YES;
}

/* A 400 at headers time for what must not be read further; NULL when the head is acceptable. */
static const char *head_problem(lds_api *api, struct MHD_Connection *c)
{
    framing f = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, framing_header, &f);
    if (f.lengths_differ)
        return "the request has several different Content-Length headers";
    if (f.length && f.transfer_encoding)
        return "the request has both Content-Length and Transfer-Encoding";
    if (api_guard_take_nul(api->guard, c))
        return "the request target contains a NUL byte (%00)";
    return NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    lds_api *api = cls;
    api_request *req = *con_cls;
    if (req == NULL) {
        req = calloc(1, sizeof(*req));
        if (req == NULL)
            return MHD_NO;
        *con_cls = req;
        req->start_ms = lds_time_ms();
        req->body_fd = -1;
        lds_buf_init(&req->body, 1 << 20);
        req->route = route_of(method, url, req);
        const char *problem = head_problem(api, c);
        if (problem) {
            api_guard_head_done(api->guard, c, 0);
            return api_respond_error(c, req, 400, "bad_request", "%s", problem);
        }
        int known = api_authenticate(api, c, &req->who);
        api_guard_head_done(api->guard, c, known > 0);
        if (known > 0 && strcmp(req->who.role, "ops") != 0) { /* operators are not rationed */
            int upload = req->route == API_ROUTE_ASSETS_POST || req->route == API_ROUTE_DEPOSITS_POST;
            unsigned retry = api_quota_charge(api->quota, req->who.key_id, upload);
            if (retry)
                return respond_quota(c, req, retry, upload);
        }
        if (known < 0 && req->route != API_ROUTE_HEALTHZ && req->route != API_ROUTE_CATALOGUE_PAGE &&
            req->route != API_ROUTE_NOT_FOUND)
            return api_defer_error(c, req, 503, "unavailable", "the key store (Redis) cannot be reached; try again");
        if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
            return api_body_begin(api, c, req);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        if (req->responded)
            return MHD_YES; /* a response is queued: discard */
        if (req->deferred_status) { /* drain, then answer the error */
            req->body_bytes += size;
            if (req->body_bytes <= req->drain_until)
                return MHD_YES;
            return api_respond_error(c, req, req->deferred_status, req->deferred_code, "%s", req->deferred_message);
        }
        return api_body_chunk(api, c, req, upload_data, size);
    }
    if (req->responded)
        return MHD_YES;
    if (req->deferred_status)
        return api_respond_error(c, req, req->deferred_status, req->deferred_code, "%s", req->deferred_message);
    return api_dispatch(api, c, req, method);
}

/* The access log: one JSON line per request for an asset, its files or a deposit (who read or
 * sent what), appended to home/access.log (mode 0600). It names the account, role and key id (a
 * prefix of the key's hash), never the key. */
static void api_access_log(lds_api *api, struct MHD_Connection *c, const api_request *req, unsigned status)
{
    if (api->access_fd < 0 || req->route == API_ROUTE_HEALTHZ || req->route == API_ROUTE_METRICS ||
        req->route == API_ROUTE_NOT_FOUND)
        return;
    static const char *const labels[] = {
#define API_XX_LABEL(name, label) label,
        API_ROUTES(API_XX_LABEL)
#undef API_XX_LABEL
    };
    char when[40], client[64] = "";
    lds_time_rfc3339(when, sizeof(when));
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info && info->client_addr && info->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)info->client_addr)->sin_addr, client, sizeof(client));
    json_t *line = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s?,s:s?,s:i,s:f}", "time", when, "client", client,
                             "account", req->who.authenticated ? req->who.name : NULL, "role",
                             req->who.authenticated ? req->who.role : NULL, "key_id",
                             req->who.authenticated ? req->who.key_id : NULL, "route", labels[req->route], "id",
                             req->id[0] ? req->id : NULL, "sub", req->sub[0] ? req->sub : NULL, "status", (int)status,
                             "ms", lds_time_ms() - req->start_ms);
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(line);
    if (text) {
        size_t n = strlen(text);
        text[n] = '\n'; /* replaces the NUL: one write, appended whole (O_APPEND) */
        if (write(api->access_fd, text, n + 1) < 0)
            lds_log_warn("api: access log: %s", strerror(errno));
        free(text);
    }
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    lds_api *api = cls;
    api_request *req = *con_cls;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        api_guard_request_done(api->guard, c);
    if (req == NULL)
        return;
    unsigned status = req->status ? req->status : 500;
    pthread_mutex_lock(&api->metrics_lock);
    if (req->status == 0 && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        api->aborted_by_route[req->route]++; /* the client went away: not a server error */
    else if (status >= 100 && status < 600)
        api->requests_by_status[req->route][status - 100]++;
    pthread_mutex_unlock(&api->metrics_lock);
    /* 499 (nginx's "client closed request") for a request abandoned before any answer */
    api_access_log(api, c, req, req->status == 0 && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK ? 499 : status);
    api_request_cleanup(req);
    if (req->body_fd >= 0)
        close(req->body_fd);
    if (req->body_path[0])
        unlink(req->body_path);
    lds_buf_cleanup(&req->body);
    free(req);
    *con_cls = NULL;
}

void api_metrics_render(lds_api *api, lds_buf *out)
{
    lds_buf_printf(out, "# HELP lodestone_http_requests_total HTTP requests by route and status.\n"
                        "# TYPE lodestone_http_requests_total counter\n");
    pthread_mutex_lock(&api->metrics_lock);
    for (int r = 0; r < API_ROUTE_COUNT; r++)
        for (int s = 0; s < 500; s++)
            if (api->requests_by_status[r][s])
                lds_buf_printf(out, "lodestone_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                               route_labels[r], s + 100, (unsigned long long)api->requests_by_status[r][s]);
    lds_buf_printf(out, "# HELP lodestone_http_requests_aborted_total Requests the client abandoned before an answer.\n"
                        "# TYPE lodestone_http_requests_aborted_total counter\n");
    for (int r = 0; r < API_ROUTE_COUNT; r++)
        if (api->aborted_by_route[r])
            lds_buf_printf(out, "lodestone_http_requests_aborted_total{route=\"%s\"} %llu\n", route_labels[r],
                           (unsigned long long)api->aborted_by_route[r]);
    pthread_mutex_unlock(&api->metrics_lock);
    uint64_t open = 0, refused = 0, reaped = 0;
    api_guard_metrics(api->guard, &open, &refused, &reaped);
    lds_buf_printf(out,
                   "# HELP lodestone_http_connections Open HTTP connections.\n"
                   "# TYPE lodestone_http_connections gauge\nlodestone_http_connections %llu\n"
                   "# HELP lodestone_http_connections_refused_total Connections refused by the per-client or global limit.\n"
                   "# TYPE lodestone_http_connections_refused_total counter\nlodestone_http_connections_refused_total %llu\n"
                   "# HELP lodestone_http_slow_heads_total Connections closed because their request head was late.\n"
                   "# TYPE lodestone_http_slow_heads_total counter\nlodestone_http_slow_heads_total %llu\n",
                   (unsigned long long)open, (unsigned long long)refused, (unsigned long long)reaped);
    lds_buf_printf(out,
                   "# HELP lodestone_http_quota_refused_total Requests answered 429 (a key over its quota).\n"
                   "# TYPE lodestone_http_quota_refused_total counter\nlodestone_http_quota_refused_total %llu\n",
                   (unsigned long long)api_quota_refused(api->quota));
}

/* ---- lifecycle ---- */

static lds_status parse_listen(const char *listen, struct sockaddr_in *addr, lds_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
        return lds_error_set(err, LDS_EINVAL, "listen address '%s': expected HOST:PORT", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return lds_error_set(err, LDS_EINVAL, "listen address '%s': bad port", listen);
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &addr->sin_addr) != 1)
        return lds_error_set(err, LDS_EINVAL, "listen address '%s': host must be an IPv4 address", listen);
    return LDS_OK;
}

static const char *listen_address(const char *listen)
{
    if (listen == NULL)
        listen = lds_setting_text("LODESTONE_LISTEN");
    return listen && *listen ? listen : "127.0.0.1:8080";
}

lds_status lds_api_listen(const char *address, int *fd, lds_error *err)
{
    *fd = -1;
    const char *where = listen_address(address);
    struct sockaddr_in addr;
    lds_status st = parse_listen(where, &addr, err);
    if (st != LDS_OK)
        return st;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(s, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(s, 1024) != 0) {
        int e = errno;
        if (s >= 0)
            close(s);
        return lds_error_set(err, LDS_EIO, "cannot listen on %s: %s", where, strerror(e));
    }
    *fd = s;
    return LDS_OK;
}

static void redis_destroy(void *p)
{
    lds_redis_close(p);
}

struct lds_redis *api_redis(lds_api *api, lds_error *err)
{
    lds_redis *redis = pthread_getspecific(api->redis_key);
    if (redis)
        return redis;
    if (lds_redis_connect(api->redis_url[0] ? api->redis_url : NULL, &redis, err) != LDS_OK)
        return NULL;
    lds_redis_set_timeout(redis, API_REDIS_TIMEOUT_MS); /* a stalled Redis: 503, not a hung thread */
    pthread_setspecific(api->redis_key, redis);
    return redis;
}

lds_status lds_api_start(const lds_api_config *config, lds_api **out, lds_error *err)
{
    lds_api *api = calloc(1, sizeof(*api));
    if (api == NULL)
        return lds_error_set(err, LDS_ENOMEM, "api: out of memory");
    api->access_fd = -1;
    const char *listen = listen_address(config->listen);
    snprintf(api->home, sizeof(api->home), "%s", config->home ? config->home : lds_home_dir());
    if (snprintf(api->blobs, sizeof(api->blobs), "%s/blobs", api->home) >= (int)sizeof(api->blobs) ||
        snprintf(api->tmp, sizeof(api->tmp), "%s/tmp", api->home) >= (int)sizeof(api->tmp)) {
        free(api);
        return lds_error_set(err, LDS_EINVAL, "api: data directory path too long");
    }
    if (config->redis_url)
        snprintf(api->redis_url, sizeof(api->redis_url), "%s", config->redis_url);
    api->max_upload_bytes = config->max_upload_bytes;
    if (api->max_upload_bytes == 0) {
        lds_status st = lds_setting_u64("LODESTONE_MAX_UPLOAD_BYTES", &api->max_upload_bytes, err);
        if (st != LDS_OK) {
            free(api);
            return st;
        }
    }
    pthread_mutex_init(&api->metrics_lock, NULL);
    pthread_mutex_init(&api->log_lock, NULL);
    pthread_mutex_init(&api->preview_lock, NULL);
    const char *web_root = lds_setting_text("LODESTONE_WEB_ROOT");
    snprintf(api->web_root, sizeof(api->web_root), "%s", web_root && *web_root ? web_root : LDS_DEFAULT_WEB_ROOT);
    char access_path[PATH_MAX + 16];
    snprintf(access_path, sizeof(access_path), "%s/access.log", api->home);
    api->access_fd = open(access_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (api->access_fd < 0)
        lds_log_warn("api: %s: %s (no access log)", access_path, strerror(errno));
    pthread_key_create(&api->redis_key, redis_destroy);
    struct sockaddr_in addr;
    lds_status st;
    if ((st = parse_listen(listen, &addr, err)) != LDS_OK || (st = lds_dir_create(api->tmp, 0700, err)) != LDS_OK ||
        (st = lds_preview_settings_from_env(&api->preview_settings, err)) != LDS_OK) {
        lds_api_stop(api);
        return st;
    }
    uint64_t idle_ms;
    if ((st = lds_setting_ms("LODESTONE_IDLE_TIMEOUT_MS", &idle_ms, err)) != LDS_OK ||
        (st = api_guard_create(&api->guard, err)) != LDS_OK || (st = api_quota_create(&api->quota, err)) != LDS_OK) {
        lds_api_stop(api);
        return st;
    }
    unsigned threads = config->threads ? config->threads : 4;
    /* A socket bound by the caller (lds_api_listen) is used as it is; MHD closes it on stop. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO;
    unsigned timeout = (unsigned)((idle_ms + 999) / 1000), limit = api_guard_daemon_limit(api->guard);
    if (config->listen_fd > 0)
        api->daemon = MHD_start_daemon(
            flags, 0, api_guard_accept, api->guard, handle, api, MHD_OPTION_LISTEN_SOCKET,
            (MHD_socket)config->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED,
            completed, api, MHD_OPTION_NOTIFY_CONNECTION, api_guard_notify, api->guard, MHD_OPTION_UNESCAPE_CALLBACK,
            api_guard_unescape, api->guard, MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_LIMIT, limit,
            MHD_OPTION_END);
    else
        api->daemon = MHD_start_daemon(
            flags, 0, api_guard_accept, api->guard, handle, api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, completed, api,
            MHD_OPTION_NOTIFY_CONNECTION, api_guard_notify, api->guard, MHD_OPTION_UNESCAPE_CALLBACK,
            api_guard_unescape, api->guard, MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_LIMIT, limit,
            MHD_OPTION_END);
    if (api->daemon == NULL) {
        lds_api_stop(api);
        return lds_error_set(err, LDS_EIO, "api: cannot listen on %s (in use, or not permitted)", listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info ? info->port : ntohs(addr.sin_port);
    struct sockaddr_in bound;
    socklen_t bound_size = sizeof(bound);
    if (api->port == 0 && config->listen_fd > 0 &&
        getsockname(config->listen_fd, (struct sockaddr *)&bound, &bound_size) == 0)
        api->port = ntohs(bound.sin_port);
    *out = api;
    return LDS_OK;
}

unsigned lds_api_port(const lds_api *api)
{
    return api->port;
}

void lds_api_stop(lds_api *api)
{
    if (api == NULL)
        return;
    if (api->daemon)
        MHD_stop_daemon(api->daemon);
    api_guard_destroy(api->guard);
    api_quota_destroy(api->quota);
    pthread_key_delete(api->redis_key);
    if (api->access_fd >= 0)
        close(api->access_fd);
    api_log_close(api);
    lds_preview_keys_close(api->preview_keys);
    lds_preview_cache_clear();
    pthread_mutex_destroy(&api->preview_lock);
    pthread_mutex_destroy(&api->log_lock);
    pthread_mutex_destroy(&api->metrics_lock);
    free(api);
}
