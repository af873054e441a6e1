/*
 * common.h: what every lodestone library shares: status codes and errors, growable byte buffers
 * with caps, file helpers, SHA-256, logging, time.
 *
 * Error convention (STYLE.md): a function that can fail returns lds_status and fills an lds_error
 * whose message names the thing and the reason. The first error set wins, so the root cause
 * survives unwinding. Libraries never exit.
 */
#ifndef LDS_COMMON_H
#define LDS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* (code, name, message). Values are never renumbered; add new codes at the end. */
#define LDS_STATUS_MAP(XX)                                              \
    XX(OK, 0, "ok")                                                     \
    XX(EINVAL, 1, "invalid argument")                                   \
    XX(ENOMEM, 2, "out of memory")                                      \
    XX(EIO, 3, "input/output error")                                    \
    XX(ENOENT, 4, "not found")                                          \
    XX(EFORMAT, 5, "unsupported or malformed format")                   \
    XX(ETRUNC, 6, "truncated")                                          \
    XX(ENOGEOM, 7, "no geometry")                                       \
    XX(ELIMIT, 8, "over a limit")                                       \
    XX(ECRASH, 9, "parser crashed")                                     \
    XX(ETIMEOUT, 10, "timed out")                                       \
    XX(EVERIFY, 11, "verification failed")                              \
    XX(EEXIST, 12, "already exists")                                    \
    XX(EREDIS, 13, "redis error")                                       \
    XX(EPERM, 14, "permission denied")                                  \
    XX(EUNAVAIL, 15, "service unavailable")                             \
    XX(EINTERNAL, 16, "internal error")

typedef enum lds_status {
#define LDS_XX_ENUM(code, value, msg) LDS_##code = value,
    LDS_STATUS_MAP(LDS_XX_ENUM)
#undef LDS_XX_ENUM
} lds_status;

/* Short stable name ("EFORMAT") and generic message of a status. Never NULL. */
const char *lds_status_name(lds_status status);
const char *lds_status_message(lds_status status);

#define LDS_ERROR_MESSAGE_MAX 512

typedef struct lds_error {
    lds_status code;
    char message[LDS_ERROR_MESSAGE_MAX];
} lds_error;

/* Resets err to LDS_OK with an empty message. err may be NULL. */
void lds_error_clear(lds_error *err);
/* Sets err unless it already holds an error (first error wins); returns code. err may be NULL. */
lds_status lds_error_set(lds_error *err, lds_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
lds_status lds_error_setv(lds_error *err, lds_status code, const char *fmt, va_list ap);

/* ---- growable byte buffer with a cap ---- */
typedef struct lds_buf {
    unsigned char *data;
    size_t size;
    size_t capacity;
    size_t max; /* hard cap on size; 0 means SIZE_MAX */
} lds_buf;

void lds_buf_init(lds_buf *buf, size_t max);
void lds_buf_cleanup(lds_buf *buf);
/* Ensures room for extra more bytes; LDS_ELIMIT past the cap, LDS_ENOMEM on allocation failure. */
lds_status lds_buf_reserve(lds_buf *buf, size_t extra);
lds_status lds_buf_append(lds_buf *buf, const void *data, size_t size);
/* Appends size zero bytes, returning where they start in *out (valid until the next growth). */
lds_status lds_buf_grow(lds_buf *buf, size_t size, unsigned char **out);
lds_status lds_buf_printf(lds_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of the data (caller frees with free()); the buffer is left empty. */
unsigned char *lds_buf_detach(lds_buf *buf, size_t *size);

/* ---- files ---- */
/* Reads a whole file into a malloc'd buffer (NUL-terminated beyond *size). Files over max bytes
 * fail with LDS_ELIMIT. Errors name the path. Caller frees *data. */
lds_status lds_file_read(const char *path, size_t max, unsigned char **data, size_t *size, lds_error *err);
/* Writes data to path (create or truncate), without fsync: for outputs whose completion is
 * signalled by a later atomic write. */
lds_status lds_file_write(const char *path, const void *data, size_t size, lds_error *err);
/* Writes data to path atomically: temp file in the same directory, fsync, rename, fsync dir. */
lds_status lds_file_write_atomic(const char *path, const void *data, size_t size, lds_error *err);
/* Writes all of data to fd, retrying short writes and EINTR. LDS_EIO on failure, errno kept. */
lds_status lds_write_all(int fd, const void *data, size_t size);
/* mkdir -p with mode 0755 (or mode). */
lds_status lds_dir_create(const char *path, int mode, lds_error *err);
/* fsyncs a directory so that a rename inside it is durable. */
lds_status lds_dir_sync(const char *path, lds_error *err);
/* Last path component (pointer into path). */
const char *lds_path_basename(const char *path);
/* Lower-case extension without the dot into out ("" if none). */
void lds_path_extension(const char *path, char *out, size_t out_size);

/* ---- hashing (SHA-256: OpenSSL) ---- */
#define LDS_SHA256_BYTES 32
#define LDS_SHA256_HEX 65 /* 64 hex digits and NUL */

typedef struct lds_sha256 {
    unsigned char opaque[128] __attribute__((aligned(16))); /* SHA256_CTX */
} lds_sha256;

/* Must be called once before hashing or signing; thread-safe, idempotent. */
lds_status lds_crypto_init(void);
void lds_sha256_init(lds_sha256 *ctx);
void lds_sha256_update(lds_sha256 *ctx, const void *data, size_t size);
void lds_sha256_final(lds_sha256 *ctx, unsigned char out[LDS_SHA256_BYTES]);
void lds_sha256_buffer(const void *data, size_t size, unsigned char out[LDS_SHA256_BYTES]);
lds_status lds_sha256_file(const char *path, unsigned char out[LDS_SHA256_BYTES], uint64_t *size, lds_error *err);
/* Lower-case hex of size bytes into out (2*size+1 bytes). */
void lds_hex_encode(const unsigned char *data, size_t size, char *out);
/* Decodes exactly size bytes from hex; LDS_EFORMAT on bad input. */
lds_status lds_hex_decode(const char *hex, unsigned char *out, size_t size);

/* ---- logging to stderr; level from LODESTONE_LOG (error|warn|info|debug), default warn ---- */
typedef enum { LDS_LOG_ERROR, LDS_LOG_WARN, LDS_LOG_INFO, LDS_LOG_DEBUG } lds_log_level;
void lds_log(lds_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define lds_log_error(...) lds_log(LDS_LOG_ERROR, __VA_ARGS__)
#define lds_log_warn(...) lds_log(LDS_LOG_WARN, __VA_ARGS__)
#define lds_log_info(...) lds_log(LDS_LOG_INFO, __VA_ARGS__)
#define lds_log_debug(...) lds_log(LDS_LOG_DEBUG, __VA_ARGS__)

/* ---- time ---- */
/* Monotonic milliseconds (for durations). */
double lds_time_ms(void);
/* Wall-clock milliseconds since the Unix epoch (for timestamps stored or compared across hosts). */
int64_t lds_wall_ms(void);
/* Sleeps ms milliseconds; returns early when a signal arrives, so that loops see a stop flag. */
void lds_sleep_ms(long ms);
/* Current UTC time as RFC 3339 "2026-11-25T12:00:00Z" into out (at least 21 bytes). */
void lds_time_rfc3339(char *out, size_t out_size);

/* The data directory: $LODESTONE_HOME or "./lodestone-data". Never NULL. */
const char *lds_home_dir(void);

/* ---- limits on hostile input (DESIGN.md 7; limits.c) ----
 * Safe defaults, each overridable by an environment variable holding a number with an optional
 * K/M/G/T suffix (powers of 1024): LODESTONE_MAX_UPLOAD_BYTES, LODESTONE_MAX_TRIANGLES,
 * LODESTONE_MAX_PARSE_MEMORY, LODESTONE_MAX_PARSE_SECONDS, LODESTONE_MAX_PARSE_CPU_SECONDS,
 * LODESTONE_MAX_ARCHIVE_MEMBERS, LODESTONE_MAX_DEPOSIT_BYTES, LODESTONE_MAX_COMPRESSION_RATIO,
 * LODESTONE_MAX_PATH_LENGTH, LODESTONE_MAX_JOB_SECONDS (all read through settings.c). */
typedef struct lds_limits {
    uint64_t upload_bytes;           /* one uploaded file or archive, and each sidecar: 2 GiB */
    uint64_t triangles;              /* per model: 100M */
    uint64_t parse_memory_bytes;     /* address space a parser may add: 4 GiB */
    unsigned parse_seconds;          /* wall clock per parse: 60 */
    unsigned parse_cpu_seconds;      /* CPU per parse: 120 */
    uint64_t archive_members;        /* members of one deposit: 10000 */
    uint64_t deposit_expanded_bytes; /* all members of one deposit expanded: 4 GiB */
    unsigned compression_ratio;      /* per member expanded:compressed, the zip-bomb guard: 100 */
    unsigned path_length;            /* bytes of a member path: 1024 */
    unsigned job_seconds;            /* wall clock for all of one model's pipeline: 600 */
} lds_limits;

/* Fills the defaults above. */
void lds_limits_init(lds_limits *limits);
/* Fills the defaults, then applies the environment variables that are set. A malformed or zero
 * value is an LDS_EINVAL naming the variable; limits then holds the defaults for it. */
lds_status lds_limits_from_env(lds_limits *limits, lds_error *err);
/* Parses "4G", "512M", "100" (K/M/G/T are powers of 1024) into *value; LDS_EINVAL if malformed,
 * zero or over 2^62. */
lds_status lds_limits_parse_size(const char *text, uint64_t *value);

/* ---- settings: every LODESTONE_* environment variable (settings.c) ----
 * One table lists each variable with its kind, default and range; one strict parser reads them.
 * Sizes take K/M/G/T (powers of 1024: LODESTONE_MAX_UPLOAD_BYTES=1K is 1024), counts K/M/G
 * (powers of 1000), durations ms/s/m/h/d (a plain number is in the unit the name ends with, _MS,
 * _SECONDS or _DAYS), booleans 1/0/true/false/yes/no/on/off. Unset or empty means the default. A malformed
 * or out-of-range value is LDS_EINVAL with a message naming the variable (never echoing a TEXT
 * value: LODESTONE_KEY is a secret). name must be in the table (asserted). Thread-safe. */

/* Checks every LODESTONE_* variable in the environment; the first malformed one is the error.
 * Unknown LODESTONE_* names are logged as warnings. The CLI calls this before any command. */
lds_status lds_settings_check(lds_error *err);
/* A size (bytes) or a count. */
lds_status lds_setting_u64(const char *name, uint64_t *value, lds_error *err);
/* A duration, in milliseconds. */
lds_status lds_setting_ms(const char *name, uint64_t *ms, lds_error *err);
lds_status lds_setting_bool(const char *name, int *value, lds_error *err);
/* The index of the value in the variable's list of choices. */
lds_status lds_setting_enum(const char *name, unsigned *index, lds_error *err);
/* Parses a duration ("1500ms", "30s", "10m", "2h", "90d"; a plain number is in plain_unit, "ms", "s" or "d")
 * into *ms; LDS_EINVAL if malformed. For command-line options that take the same syntax. */
lds_status lds_duration_parse(const char *text, const char *plain_unit, uint64_t *ms);
/* A text setting (path, URL, address): NULL when unset, empty or malformed. */
const char *lds_setting_text(const char *name);
/* For callers that cannot fail (a config init): the value, or the default when malformed (which
 * lds_settings_check has already refused in the CLI). */
uint64_t lds_setting_u64_or_default(const char *name);
uint64_t lds_setting_ms_or_default(const char *name);

/* ---- fork beside other threads (fork.c) ----
 * Under the sanitizers a child forked while another thread is inside the allocator can hang on its
 * locks. There, threads that run beside forks hold lds_fork_lock while they allocate, lds_fork
 * forks under it, and the pipeline keeps its work on one thread; elsewhere these are plain fork and
 * no-ops. */
#if defined(__SANITIZE_ADDRESS__)
#define LDS_FORK_NEEDS_QUIET 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LDS_FORK_NEEDS_QUIET 1
#endif
#endif
#ifndef LDS_FORK_NEEDS_QUIET
#define LDS_FORK_NEEDS_QUIET 0
#endif
void lds_fork_lock(void);
void lds_fork_unlock(void);
pid_t lds_fork(void);

/* ---- time budget of one run (watchdog.c) ----
 * After ms, a thread of the watchdog calls expire(ctx), which is expected to end the run (record
 * the failure, then _exit): a stuck stage cannot be asked to stop. Between hold and release the
 * expiry waits (for sections that must not be cut: a log append, a publish); expire is called with
 * the watchdog locked, so a hold taken after it never returns. Thread-safe; stop (accepts NULL)
 * cancels a watchdog that has not fired and frees it. */
typedef struct lds_watchdog lds_watchdog;
lds_status lds_watchdog_start(uint64_t ms, void (*expire)(void *ctx), void *ctx, lds_watchdog **out, lds_error *err);
void lds_watchdog_hold(lds_watchdog *watchdog);
void lds_watchdog_release(lds_watchdog *watchdog);
void lds_watchdog_stop(lds_watchdog *watchdog);

/* ==== Service: Redis connection and blob store (common/redis.c, common/blob.c) ====
 * Added for issue 4. hiredis and libzstd types stop in those two files. */

/* ---- Redis (hiredis 0.14) ----
 * One lds_redis is one connection: not thread-safe, use one per thread (or lock around it).
 * Commands that fail on the wire (connection lost) return LDS_EUNAVAIL and the next command
 * reconnects; Redis error replies return LDS_EREDIS with Redis's message. */
typedef struct lds_redis lds_redis;

typedef enum lds_redis_reply_type {
    LDS_REDIS_NIL,
    LDS_REDIS_INTEGER,
    LDS_REDIS_STRING, /* bulk string */
    LDS_REDIS_STATUS, /* simple string, e.g. "OK" */
    LDS_REDIS_ARRAY,
    LDS_REDIS_ERROR
} lds_redis_reply_type;

typedef struct lds_redis_reply {
    lds_redis_reply_type type;
    long long integer;
    char *str; /* NUL-terminated copy (binary safe with len) for STRING, STATUS, ERROR */
    size_t len;
    struct lds_redis_reply *element; /* ARRAY: element[0..elements) */
    size_t elements;
} lds_redis_reply;

/* Connects. url NULL means $LODESTONE_REDIS_URL, and when that is unset too the embedded server of
 * the data directory (lds_redis_embedded_url), which is started (detached, left running)
 * if it does not answer. URLs: redis://[[user]:password@]host[:port][/db], unix:///path[?db=N].
 * Caller closes with lds_redis_close (accepts NULL). */
lds_status lds_redis_connect(const char *url, lds_redis **out, lds_error *err);
void lds_redis_close(lds_redis *redis);
/* Gives every command of this connection a read/write timeout (kept across reconnects), after
 * which it fails with LDS_EUNAVAIL instead of waiting on a stalled server. For connections that
 * issue no blocking commands (BLPOP, XREADGROUP BLOCK) longer than it; 0 turns it off. */
void lds_redis_set_timeout(lds_redis *redis, int timeout_ms);
/* Sends one command given as argv (binary safe) and reads its reply. reply may be NULL (reply
 * discarded); otherwise the caller frees *reply with lds_redis_reply_free. An error reply is
 * LDS_EREDIS with the message and *reply NULL. */
lds_status lds_redis_command_argv(lds_redis *redis, lds_redis_reply **reply, lds_error *err, int argc,
                                  const char *const *argv, const size_t *argv_len);
/* Same with a hiredis format string: %s (C string), %b (pointer, size_t), %lld, %d, %%. */
lds_status lds_redis_command(lds_redis *redis, lds_redis_reply **reply, lds_error *err, const char *fmt, ...);
void lds_redis_reply_free(lds_redis_reply *reply);
/* The string of a STRING/STATUS reply or of element i of an ARRAY reply; NULL otherwise. */
const char *lds_redis_reply_str(const lds_redis_reply *reply);

/* The URL of home's embedded server: its files are in home/redis, its socket in a short runtime
 * folder ($XDG_RUNTIME_DIR or /tmp, then lodestone-<uid>/, one name per home), so that a deep
 * data directory still fits a Unix socket path. Makes the runtime folder (0700) if needed. */
lds_status lds_redis_embedded_url(const char *home, char *url, size_t url_size, lds_error *err);

/* The embedded redis-server: started by `lodestone serve` as its child on the Unix socket of
 * lds_redis_embedded_url, with its files in home/redis/ (AOF on, appendfsync always, port 0). If a server already answers on that socket it
 * is used and not owned (stop leaves it running). Caller stops with lds_redis_server_stop. */
typedef struct lds_redis_server lds_redis_server;
lds_status lds_redis_server_start(const char *home, lds_redis_server **out, lds_error *err);
/* Stops an owned server (SIGTERM: Redis flushes the AOF; then waits) and frees. Accepts NULL. */
void lds_redis_server_stop(lds_redis_server *server);
/* For an owned server: when it has exited, reaps it and starts it again on the same files (AOF
 * replayed), *restarted = 1. Call it periodically from the owner; LDS_OK and nothing to do while it
 * runs or when the server is not owned. */
lds_status lds_redis_server_check(lds_redis_server *server, int *restarted, lds_error *err);
/* The server's pid (0 when not owned) and its connection URL ("unix:///.../redis.sock"). */
int lds_redis_server_pid(const lds_redis_server *server);
const char *lds_redis_server_url(const lds_redis_server *server);

/* ---- blob store: content-addressed files under root/ab/cdef... (sha256 of the content) ----
 * root NULL means lds_home_dir()/blobs. Writes are durable when they return: temp file, fsync,
 * rename, fsync of the directory. Compressed blobs (zstd) are stored as ...<hex>.zst and read
 * back decompressed; the id is always the sha256 of the uncompressed bytes. Thread-safe (no
 * shared state). */
#define LDS_BLOB_COMPRESS 1u

/* Push-style put for data that arrives in pieces (an HTTP upload): create, write any number of
 * times, then finish (durable on return, fills id and *size) or abort. Either one frees the
 * writer; abort accepts NULL. A write past max (0: no cap) fails with LDS_ELIMIT; the caller then
 * aborts. One writer is used by one thread at a time; writers are independent. */
typedef struct lds_blob_writer lds_blob_writer;
lds_status lds_blob_writer_create(const char *root, unsigned flags, uint64_t max, lds_blob_writer **out,
                                  lds_error *err);
lds_status lds_blob_writer_write(lds_blob_writer *writer, const void *data, size_t size, lds_error *err);
lds_status lds_blob_writer_finish(lds_blob_writer *writer, char id[LDS_SHA256_HEX], uint64_t *size, lds_error *err);
void lds_blob_writer_abort(lds_blob_writer *writer);
/* Streams from fd (read to EOF, never whole in memory) into the store; fills id (65 bytes: hex
 * and NUL) and *size (uncompressed bytes, may be NULL). max caps the size (0: no cap). */
lds_status lds_blob_put_fd(const char *root, int fd, unsigned flags, uint64_t max, char id[LDS_SHA256_HEX],
                           uint64_t *size, lds_error *err);
lds_status lds_blob_put_file(const char *root, const char *path, unsigned flags, char id[LDS_SHA256_HEX],
                             uint64_t *size, lds_error *err);
lds_status lds_blob_put_buffer(const char *root, const void *data, size_t size, unsigned flags,
                               char id[LDS_SHA256_HEX], lds_error *err);
/* Where blob id is stored (path, at least PATH_MAX bytes is safe), whether it is compressed and
 * its stored size. LDS_ENOENT when absent. For serving uncompressed blobs directly (sendfile). */
lds_status lds_blob_locate(const char *root, const char *id, char *path, size_t path_size, int *compressed,
                           uint64_t *stored_size, lds_error *err);
/* Copies blob id (decompressed) to dest_path (written atomically), verifying its sha256 and,
 * when expected_size is not UINT64_MAX, its length. LDS_EVERIFY on a mismatch. */
lds_status lds_blob_get_file(const char *root, const char *id, uint64_t expected_size, const char *dest_path,
                             lds_error *err);
/* Reads blob id into memory (caller frees *data, NUL-terminated beyond *size), verified as above;
 * blobs over max bytes fail with LDS_ELIMIT. */
lds_status lds_blob_get_buffer(const char *root, const char *id, size_t max, unsigned char **data, size_t *size,
                               lds_error *err);
/* True when id is 64 lower-case hex digits. */
int lds_blob_id_valid(const char *id);

#ifdef __cplusplus
}
#endif
#endif
