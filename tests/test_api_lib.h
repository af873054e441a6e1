/* test_api_lib.h: what the HTTP API tests (test_api_*.c) share: a private redis-server (Unix
 * socket under the test's tmp dir, AOF, appendfsync always) and `lodestone serve` as real
 * processes in their own process groups, HTTP through the curl command line, and generated test
 * models. Everything started is killed when the test exits, however it exits: an atexit handler,
 * signal handlers, and a reaper process that kills the recorded process groups when the test's
 * end of a pipe closes (the test was killed -9 or crashed). */
#ifndef LDS_TEST_API_LIB_H
#define LDS_TEST_API_LIB_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "testlib.h"

typedef struct api_env {
    char name[64];
    char dir[1024];      /* the test's tmp dir */
    char home[1100];     /* LODESTONE_HOME */
    char redis_dir[1100];
    char sock[1200];
    char url[1300];      /* LODESTONE_REDIS_URL */
    char base[64];       /* http://127.0.0.1:PORT */
    unsigned port;
    pid_t redis_pid;
    pid_t serve_pid;     /* also the process group of serve, its pool and workers */
    const char *serve_env[8]; /* extra NAME=VALUE for serve (static strings) */
    int workers;         /* --workers (0: the default, -1: none) */
} api_env;

typedef struct api_resp {
    int status; /* HTTP status, 0 when curl failed */
    char *body;
    size_t size;
    char *headers;
} api_resp;

/* Skips (77) when redis-server or curl is missing; makes the tmp dir, sets LODESTONE_HOME and
 * LODESTONE_REDIS_URL for this process and its children, starts the reaper. */
void api_env_init(api_env *e, const char *name);
/* Starts redis-server (reusing redis_dir and its AOF) and waits until it answers PING. */
int api_redis_start(api_env *e);
/* `lodestone keys init` (the notary key, before serve starts so that no two processes race). */
int api_keys_init(api_env *e);
/* Starts `lodestone serve` on 127.0.0.1:0, reads the port from its log, waits for /healthz 200. */
int api_serve_start(api_env *e);
/* api_redis_start, api_keys_init and api_serve_start: 0 when all three succeeded. */
int api_env_start(api_env *e);
/* SIGTERM serve and wait (then SIGKILL its group); SIGTERM redis and wait. */
void api_serve_stop(api_env *e);
void api_redis_stop(api_env *e);
/* kill -9 of serve's whole process group (serve, pool, workers, notary) / of redis-server. */
void api_serve_kill9(api_env *e);
void api_redis_kill9(api_env *e);
/* Stops everything (used at exit too). */
void api_env_stop(api_env *e);

/* `lodestone keys create --role ROLE --name NAME`: the key into out. Returns 0 on success. */
int api_key_create(const char *role, const char *name, char *out, size_t size);

/* Runs curl -s with the response body, headers and status captured; args is the rest of the
 * command line (shell syntax: the URL and options, quoted by the caller). key NULL: no
 * Authorization header. Returns the status. */
int api_curl(api_env *e, api_resp *r, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* api_curl for one request: method, path under e->base ("/v1/..."), key (NULL: none), body_path
 * (NULL: no body; otherwise sent raw as application/octet-stream). Returns the status. */
int api_request(api_env *e, api_resp *r, const char *method, const char *path, const char *key,
                const char *body_path);
void api_resp_free(api_resp *r);
/* The value of a response header (case-insensitive name, last occurrence) into out, or NULL. */
const char *api_header(const api_resp *r, const char *name, char *out, size_t size);
/* The body parsed as JSON (caller decrefs), NULL when it is not JSON. */
json_t *api_json(const api_resp *r);
/* True when the body is {"error": {"code": string, "message": string}}. */
int api_is_error_body(const api_resp *r);

/* Polls GET /v1/assets/{id} until its status is ready or failed (or timeout_s passes). Returns
 * the last record (caller decrefs; NULL if none); *saw_progress (may be NULL) is 2 when a poll
 * before the end showed a progress object with a stage, 1 when only the final record did. */
json_t *api_wait_asset(api_env *e, const char *key, const char *id, int timeout_s, int *saw_progress);

/* The tree size in GET /v1/log/checkpoint (-1 on error). */
long api_tree_size(api_env *e);

/* Writes a closed bumpy UV sphere as an ASCII PLY: about 4*n*n triangles; seed varies the
 * shape (so that every seed is a different model). Returns 0 on success. */
int api_write_sphere(const char *path, unsigned seed, int n);

/* Uploads a file as a raw body: returns the status; asset/job ids (may be NULL) filled on 202. */
int api_upload(api_env *e, const char *key, const char *path, const char *filename, char *asset, char *job);

void api_sleep_ms(long ms);

#endif
