/* api_internal.h: what the files of api/ share (not a public header). */
#ifndef LDS_API_INTERNAL_H
#define LDS_API_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api.h"
#include "common.h"
#include "ingest.h"

/* An upload over the cap is read and discarded up to this many bytes past the cap so that the
 * client gets the 413 (not a connection reset); beyond it the connection is cut. */
#define API_DRAIN_MAX_BYTES (64ull << 20)
#define API_REDIS_TIMEOUT_MS 5000 /* handlers issue no blocking commands */

/* Routes, also the label of the requests counter in /metrics. */
#define API_ROUTES(XX)                                   \
    XX(NOT_FOUND, "not_found")                           \
    XX(HEALTHZ, "healthz")                               \
    XX(METRICS, "metrics")                               \
    XX(ASSETS_POST, "assets_post")                       \
    XX(ASSET_GET, "asset_get")                           \
    XX(ASSET_LOD, "asset_lod")                           \
    XX(ASSET_CERT, "asset_certificate")                  \
    XX(ASSET_SIMILAR, "asset_similar")                   \
    XX(ASSET_VALUATION, "asset_valuation")               \
    XX(EVENTS_POST, "events_post")                       \
    XX(LOG_CHECKPOINT, "log_checkpoint")                 \
    XX(LOG_KEY, "log_key")                               \
    XX(LOG_PROOF, "log_proof")                           \
    XX(LOG_CONSISTENCY, "log_consistency")               \
    XX(DEPOSITS_POST, "deposits_post")                   \
    XX(DEPOSIT_GET, "deposit_get")                       \
    XX(OPS_QUEUES, "ops_queues")                         \
    XX(OPS_REPROCESS, "ops_reprocess")                   \
    XX(CATALOGUE, "catalogue")                           \
    XX(CATALOGUE_PAGE, "catalogue_page")                 \
    XX(ASSET_LICENSES_GET, "asset_licenses_get")         \
    XX(ASSET_LICENSES_POST, "asset_licenses_post")       \
    XX(ASSET_LINEAGE, "asset_lineage")                   \
    XX(ASSET_THUMBNAIL, "asset_thumbnail")               \
    XX(COLLECTIONS_POST, "collections_post")             \
    XX(COLLECTIONS_GET, "collections_get")               \
    XX(COLLECTION_GET, "collection_get")                     \
    XX(ASSET_PREVIEW, "asset_preview")                   \
    XX(PREVIEW_MODEL, "preview_model")                   \
    XX(PREVIEW_VIEWER, "preview_viewer")                 \
    XX(WEB, "web")                                       \
    XX(OPS_TRACE, "ops_trace")

typedef enum api_route {
#define API_XX_ENUM(name, label) API_ROUTE_##name,
    API_ROUTES(API_XX_ENUM)
#undef API_XX_ENUM
        API_ROUTE_COUNT
} api_route;

typedef struct api_principal {
    int authenticated;
    char role[16]; /* modeler, studio, partner, ops */
    char name[128];
    char key_id[17]; /* first 16 hex of the key hash, names the key in records */
} api_principal;

/* One request: routing, the principal, and the body streamed to a temp file or a capped buffer. */
typedef struct api_request {
    api_route route;
    char id[128];     /* {id} path segment */
    char sub[128];    /* {level} or {index} */
    char path[512];   /* the file under /web/ */
    double start_ms;
    unsigned status;  /* the status sent, for metrics */
    int responded;    /* a response was queued early (error before the body) */
    api_principal who;
    /* body */
    int body_fd;      /* temp file for uploads, -1 otherwise */
    char body_path[PATH_MAX];
    uint64_t body_bytes;
    /* An error found before the body was read, answered once the body is drained (a response
     * queued mid-body makes MHD close the connection with unread data: the client sees a reset,
     * not the error). Draining stops at drain_until bytes, where the error goes out at once. */
    unsigned deferred_status; /* 0: none */
    char deferred_code[32];
    char deferred_message[512];
    uint64_t drain_until;
    lds_buf body;     /* small bodies (JSON), capped */
    struct MHD_PostProcessor *post; /* multipart uploads */
    void *multipart;  /* multipart state (routes.c) */
} api_request;

/* The connection guard (guard.c): per-address and global connection limits with room kept for
 * established clients, and a deadline for each request head. */
typedef struct api_guard api_guard;
typedef struct api_conn api_conn;
/* Reads LODESTONE_MAX_CONNECTIONS, _PER_CLIENT and LODESTONE_REQUEST_HEAD_MS; starts the reaper. */
lds_status api_guard_create(api_guard **out, lds_error *err);
/* After the daemon has stopped. Accepts NULL. */
void api_guard_destroy(api_guard *guard);
/* The daemon's accept policy (cls: the guard) and MHD_OPTION_NOTIFY_CONNECTION callback. */
enum MHD_Result api_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void api_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);
unsigned api_guard_daemon_limit(const api_guard *guard);
/* The request head is in (authenticated: its address is an established client now). */
void api_guard_head_done(api_guard *guard, struct MHD_Connection *connection, int authenticated);
/* A response is done: on a kept-alive connection the next head is awaited from now. */
void api_guard_request_done(api_guard *guard, struct MHD_Connection *connection);
/* MHD_OPTION_UNESCAPE_CALLBACK: percent-decoding that remembers a decoded NUL byte in the
 * connection's request target (cls: the guard); api_guard_take_nul tells and forgets it. */
size_t api_guard_unescape(void *cls, struct MHD_Connection *connection, char *text);
int api_guard_take_nul(api_guard *guard, struct MHD_Connection *connection);
void api_guard_metrics(api_guard *guard, uint64_t *open, uint64_t *refused, uint64_t *reaped);

/* Per-key quotas (quota.c): LODESTONE_QUOTA_REQUESTS_PER_MINUTE, _UPLOADS_PER_MINUTE. */
typedef struct api_quota api_quota;
lds_status api_quota_create(api_quota **out, lds_error *err);
void api_quota_destroy(api_quota *quota); /* accepts NULL */
/* Counts one request of key_id (an upload or deposit when upload); 0 when within the quota,
 * otherwise the seconds until the window ends (Retry-After), and the request is not counted. */
unsigned api_quota_charge(api_quota *quota, const char *key_id, int upload);
uint64_t api_quota_refused(api_quota *quota);

struct lds_api {
    struct MHD_Daemon *daemon;
    api_guard *guard;
    api_quota *quota;
    char home[PATH_MAX];
    char blobs[PATH_MAX];
    char tmp[PATH_MAX];
    char redis_url[PATH_MAX];
    uint64_t max_upload_bytes;
    unsigned port;
    pthread_key_t redis_key;
    pthread_mutex_t log_lock;   /* guards notary: a read-only user of the log */
    struct lds_notary *notary; /* opened on first use */
    pthread_mutex_t preview_lock; /* guards preview_keys (opened on first use) */
    struct lds_preview_keys *preview_keys;
    lds_preview_settings preview_settings;
    char web_root[PATH_MAX];      /* LODESTONE_WEB_ROOT: three.js for the viewer page */
    int access_fd;              /* home/access.log, -1 when it cannot be opened */
    pthread_mutex_t metrics_lock;
    uint64_t requests_by_status[API_ROUTE_COUNT][500]; /* index status - 100 */
    uint64_t aborted_by_route[API_ROUTE_COUNT];
};

/* Responses (server.c). body is stolen. They record the status for metrics. */
enum MHD_Result api_respond_json(struct MHD_Connection *c, api_request *req, unsigned status, json_t *body);
enum MHD_Result api_respond_error(struct MHD_Connection *c, api_request *req, unsigned status, const char *code,
                                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
enum MHD_Result api_respond_text(struct MHD_Connection *c, api_request *req, unsigned status, const char *type,
                                 const char *text, size_t size);
/* Answers an error found before or while reading a request body: at once when the client has no
 * valid key, there is no body to come, the client waits for "100 Continue", or the body is over
 * API_DRAIN_MAX_BYTES; otherwise
 * after draining the body (see deferred_status). */
enum MHD_Result api_defer_error(struct MHD_Connection *c, api_request *req, unsigned status, const char *code,
                                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Serves a file with a strong ETag (the content's sha256), If-None-Match (304) and Range (206). */
enum MHD_Result api_respond_file(struct MHD_Connection *c, api_request *req, const char *path, const char *sha256,
                                 const char *type);
/* Queues a response built by the caller (destroyed here), recording the status for metrics. */
enum MHD_Result api_queue_response(struct MHD_Connection *c, api_request *req, unsigned status,
                                   struct MHD_Response *r);
/* Maps an lds_status from a lower layer to an HTTP error response. */
enum MHD_Result api_respond_status(struct MHD_Connection *c, api_request *req, const lds_error *err);

/* The Redis connection of the calling server thread (connected lazily); NULL with err set. */
struct lds_redis *api_redis(lds_api *api, lds_error *err);

/* Auth (auth.c): fills req->who from the Authorization header; 1 for a known key, 0 when absent or
 * unknown, -1 when the key store (Redis) cannot be reached. */
int api_authenticate(lds_api *api, struct MHD_Connection *c, api_principal *who);

/* Route handlers (routes.c). Called once the body is complete. */
enum MHD_Result api_dispatch(lds_api *api, struct MHD_Connection *c, api_request *req, const char *method);
/* Called at the first call of a request with a body: may respond early (413, 415, 401...). */
enum MHD_Result api_body_begin(lds_api *api, struct MHD_Connection *c, api_request *req);
/* Streams a chunk of the body. */
enum MHD_Result api_body_chunk(lds_api *api, struct MHD_Connection *c, api_request *req, const char *data,
                               size_t size);
/* Frees route-specific request state. */
void api_request_cleanup(api_request *req);

/* A raw body to a temp file (routes.c): checks the file name, opens req->body_fd. */
enum MHD_Result api_upload_to_temp(lds_api *api, struct MHD_Connection *c, api_request *req, const char *filename);
/* Archive deposits (deposits.c): POST /v1/deposits (body begin, then the handler) and GET. */
enum MHD_Result api_deposit_body_begin(lds_api *api, struct MHD_Connection *c, api_request *req);
enum MHD_Result api_deposit_post(lds_api *api, struct MHD_Connection *c, api_request *req);
enum MHD_Result api_deposit_get(lds_api *api, struct MHD_Connection *c, api_request *req);

/* Idempotency-Key (idempotency.c). api_idempotency_key: 0 when the request has none, 1 with
 * scoped = "<key id>:<sha256 of the header>" (the key lds_asset_submission takes), -1 when the
 * header is malformed (the 400 queued into *ret). api_idempotency_conflict: 1 when scoped was used
 * before for a request with another digest (the first request's asset or deposit id into
 * first_id), 0 otherwise or when Redis cannot tell. api_digest_hex finishes a request digest. */
#define API_IDEMPOTENCY_MAX 96
int api_idempotency_key(struct MHD_Connection *c, api_request *req, char scoped[API_IDEMPOTENCY_MAX],
                        enum MHD_Result *ret);
int api_idempotency_conflict(lds_api *api, const char *scoped, const char *digest, char *first_id, size_t first_size);
void api_digest_hex(lds_sha256 *ctx, char hex[LDS_SHA256_HEX]);

/* The log routes (log_routes.c): checkpoint, key, proof, consistency. */
enum MHD_Result api_log_route(lds_api *api, struct MHD_Connection *c, api_request *req);
void api_log_close(lds_api *api);

/* Access to assets (routes.c): whether the principal may see an asset with this owner key and
 * status (ops all, modelers and partners their own, studios ready ones); api_load_record reads
 * the record of req->id and applies that rule (MHD_YES with *record, or the 401/403/404 response
 * queued into *ret). */
int api_asset_visible(const api_request *req, const char *owner, const char *status);
enum MHD_Result api_load_record(lds_api *api, struct MHD_Connection *c, api_request *req, json_t **record,
                                enum MHD_Result *ret);
/* GET /v1/assets/{id}/similar (similar.c). */
enum MHD_Result api_get_similar(lds_api *api, struct MHD_Connection *c, api_request *req);

/* The catalogue, licences, lineage, collections and the catalogue page (catalogue.c). */
enum MHD_Result api_catalogue_route(lds_api *api, struct MHD_Connection *c, api_request *req);
/* The licence rule of full LODs: 1 with a 403 license_required (or an error) queued into *ret when
 * a studio has no licence covering asset req->id and it is not under an open licence; 0 to go on. */
int api_lod_denied(lds_api *api, struct MHD_Connection *c, api_request *req, enum MHD_Result *ret);
/* Previews (previews.c): POST /v1/assets/{id}/preview, the token-scoped model and viewer page,
 * the static three.js files under /web/, POST /v1/ops/trace. */
enum MHD_Result api_preview_post(lds_api *api, struct MHD_Connection *c, api_request *req);
enum MHD_Result api_preview_model(lds_api *api, struct MHD_Connection *c, api_request *req);
enum MHD_Result api_preview_viewer(lds_api *api, struct MHD_Connection *c, api_request *req);
enum MHD_Result api_web_get(lds_api *api, struct MHD_Connection *c, api_request *req);
enum MHD_Result api_ops_trace(lds_api *api, struct MHD_Connection *c, api_request *req);
/* POST /v1/events and GET /v1/assets/{id}/valuation (valuation_routes.c). */
enum MHD_Result api_post_events(lds_api *api, struct MHD_Connection *c, api_request *req);
enum MHD_Result api_get_valuation(lds_api *api, struct MHD_Connection *c, api_request *req);

/* Metrics text (metrics in server.c, queue figures from Redis in routes.c). */
void api_metrics_render(lds_api *api, lds_buf *out);

#endif
