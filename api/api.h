/*
 * api.h: the HTTP API v1 (DESIGN.md 6.6) on libmicrohttpd, JSON with jansson.
 *
 * One lds_api is one listening server with its own thread pool. Handlers talk to Redis through a
 * connection per server thread, and read files from the blob store; they hold no other state, so
 * any number of API processes can run against one Redis and blob store.
 */
#ifndef LDS_API_H
#define LDS_API_H

#include <stdint.h>

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lds_api_config {
    const char *listen;        /* "HOST:PORT"; NULL: $LODESTONE_LISTEN or 127.0.0.1:8080 */
    const char *home;          /* data directory; NULL: lds_home_dir() */
    const char *redis_url;     /* NULL: $LODESTONE_REDIS_URL or the embedded server */
    uint64_t max_upload_bytes; /* 0: $LODESTONE_MAX_UPLOAD_BYTES or 2 GiB */
    unsigned threads;          /* 0: 4 */
    int listen_fd;             /* > 0: a socket from lds_api_listen, used instead of listen (and closed on stop) */
} lds_api_config;

/* Binds and listens on listen ("HOST:PORT"; NULL: $LODESTONE_LISTEN or 127.0.0.1:8080) now, so that
 * a busy port is found before anything else starts. *fd is close-on-exec. */
lds_status lds_api_listen(const char *listen, int *fd, lds_error *err);

typedef struct lds_api lds_api;

/* Starts listening; returns once the socket is bound. The caller stops it with lds_api_stop. */
lds_status lds_api_start(const lds_api_config *config, lds_api **out, lds_error *err);
/* The bound port (useful with port 0). */
unsigned lds_api_port(const lds_api *api);
/* Stops the server (finishing requests in flight) and frees it. Accepts NULL. */
void lds_api_stop(lds_api *api);

/* ---- API keys (stored hashed in Redis: lds:apikey:<sha256 hex>) ---- */
#define LDS_API_KEY_MAX 64
/* Roles: "modeler", "studio", "partner", "ops". Creates a key, prints nothing, returns it in key
 * (shown once: only its hash is stored). */
lds_status lds_api_key_create(const char *redis_url, const char *role, const char *name, char key[LDS_API_KEY_MAX],
                              lds_error *err);

/* Every API key as [{"id" (16 hex of its hash: how records and the access log name it), "role",
 * "account", "created"}], never a key (only hashes are stored). Caller decrefs *keys. */
lds_status lds_api_key_list(const char *redis_url, json_t **keys, lds_error *err);
/* Deletes the key whose id (a prefix of its hash, at least 8 hex digits) is key_id: it stops
 * working within the API's key cache time (5 s). LDS_ENOENT for none, LDS_EINVAL for an
 * ambiguous prefix. */
lds_status lds_api_key_revoke(const char *redis_url, const char *key_id, lds_error *err);

#ifdef __cplusplus
}
#endif
#endif
