/* redis.c: the Redis connection (hiredis 0.14; its types stop in this file) and the embedded
 * redis-server of the data directory.
 *
 * URL forms: redis://[[user]:password@]host[:port][/db] and unix:///path[?db=N] (the redis-cli
 * conventions). The embedded server runs on home/redis/redis.sock with port 0 (no TCP), AOF on and
 * appendfsync always (DESIGN.md 6.5: an acknowledged upload is on disk), so every write command's
 * reply is sent only after its AOF record is fsynced. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "common.h"

#define REDIS_URL_MAX 1024
#define CONNECT_TIMEOUT_S 5

struct lds_redis {
    redisContext *ctx;
    char host[256];
    int port;
    char socket_path[PATH_MAX];
    char user[128];
    char password[256];
    int db;
    int timeout_ms; /* read/write timeout of commands, 0: none (reapplied on reconnect) */
};

struct lds_redis_server {
    pid_t pid; /* 0 when not owned */
    char url[PATH_MAX + 16];
    char home[PATH_MAX];
};

/* ---- URL parsing ---- */

static lds_status parse_url(lds_redis *r, const char *url, lds_error *err)
{
    r->port = 6379;
    r->db = 0;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *path = url + 7;
        const char *query = strchr(path, '?');
        size_t len = query ? (size_t)(query - path) : strlen(path);
        if (len == 0 || len >= sizeof(r->socket_path))
            return lds_error_set(err, LDS_EINVAL, "redis url %s: bad socket path", url);
        memcpy(r->socket_path, path, len);
        r->socket_path[len] = 0;
        if (query && strncmp(query, "?db=", 4) == 0)
            r->db = atoi(query + 4);
        return LDS_OK;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return lds_error_set(err, LDS_EINVAL, "redis url %s: expected redis:// or unix://", url);
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            size_t ulen = (size_t)(colon - p), plen = (size_t)(at - colon - 1);
            if (ulen >= sizeof(r->user) || plen >= sizeof(r->password))
                return lds_error_set(err, LDS_EINVAL, "redis url: credentials too long");
            memcpy(r->user, p, ulen);
            r->user[ulen] = 0;
            memcpy(r->password, colon + 1, plen);
            r->password[plen] = 0;
        } else {
            size_t plen = (size_t)(at - p);
            if (plen >= sizeof(r->password))
                return lds_error_set(err, LDS_EINVAL, "redis url: password too long");
            memcpy(r->password, p, plen);
            r->password[plen] = 0;
        }
        p = at + 1;
    }
    size_t hlen = strcspn(p, ":/");
    if (hlen == 0 || hlen >= sizeof(r->host))
        return lds_error_set(err, LDS_EINVAL, "redis url %s: bad host", url);
    memcpy(r->host, p, hlen);
    r->host[hlen] = 0;
    p += hlen;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port <= 0 || port > 65535)
            return lds_error_set(err, LDS_EINVAL, "redis url %s: bad port", url);
        r->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1])
        r->db = atoi(p + 1);
    return LDS_OK;
}

/* ---- replies ---- */

static lds_status copy_reply(const redisReply *in, lds_redis_reply *out)
{
    memset(out, 0, sizeof(*out));
    switch (in->type) {
    case REDIS_REPLY_INTEGER:
        out->type = LDS_REDIS_INTEGER;
        out->integer = in->integer;
        return LDS_OK;
    case REDIS_REPLY_NIL:
        out->type = LDS_REDIS_NIL;
        return LDS_OK;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out->type = in->type == REDIS_REPLY_STRING   ? LDS_REDIS_STRING
                    : in->type == REDIS_REPLY_STATUS ? LDS_REDIS_STATUS
                                                     : LDS_REDIS_ERROR;
        out->str = malloc(in->len + 1);
        if (out->str == NULL)
            return LDS_ENOMEM;
        memcpy(out->str, in->str, in->len);
        out->str[in->len] = 0;
        out->len = in->len;
        return LDS_OK;
    case REDIS_REPLY_ARRAY:
        out->type = LDS_REDIS_ARRAY;
        if (in->elements == 0)
            return LDS_OK;
        out->element = calloc(in->elements, sizeof(*out->element));
        if (out->element == NULL)
            return LDS_ENOMEM;
        out->elements = in->elements;
        for (size_t i = 0; i < in->elements; i++)
            if (copy_reply(in->element[i], &out->element[i]) != LDS_OK)
                return LDS_ENOMEM;
        return LDS_OK;
    default:
        out->type = LDS_REDIS_NIL;
        return LDS_OK;
    }
}

static void reply_cleanup(lds_redis_reply *reply)
{
    free(reply->str);
    for (size_t i = 0; i < reply->elements; i++)
        reply_cleanup(&reply->element[i]);
    free(reply->element);
}

void lds_redis_reply_free(lds_redis_reply *reply)
{
    if (reply == NULL)
        return;
    reply_cleanup(reply);
    free(reply);
}

const char *lds_redis_reply_str(const lds_redis_reply *reply)
{
    if (reply && (reply->type == LDS_REDIS_STRING || reply->type == LDS_REDIS_STATUS))
        return reply->str;
    return NULL;
}

/* ---- connection ---- */

static const char *where(const lds_redis *r, char *buf, size_t size)
{
    if (r->socket_path[0])
        snprintf(buf, size, "redis unix:%s", r->socket_path);
    else
        snprintf(buf, size, "redis %s:%d", r->host, r->port);
    return buf;
}

/* Runs a command on a fresh context during setup (AUTH, SELECT). */
static lds_status setup_command(lds_redis *r, lds_error *err, int argc, const char **argv)
{
    char w[PATH_MAX + 32];
    redisReply *reply = redisCommandArgv(r->ctx, argc, argv, NULL);
    if (reply == NULL)
        return lds_error_set(err, LDS_EUNAVAIL, "%s: %s: %s", where(r, w, sizeof(w)), argv[0], r->ctx->errstr);
    lds_status status = LDS_OK;
    if (reply->type == REDIS_REPLY_ERROR)
        status = lds_error_set(err, LDS_EREDIS, "%s: %s: %s", where(r, w, sizeof(w)), argv[0], reply->str);
    freeReplyObject(reply);
    return status;
}

static lds_status reconnect(lds_redis *r, lds_error *err)
{
    char w[PATH_MAX + 32];
    if (r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    struct timeval tv = {CONNECT_TIMEOUT_S, 0};
    r->ctx = r->socket_path[0] ? redisConnectUnixWithTimeout(r->socket_path, tv)
                               : redisConnectWithTimeout(r->host, r->port, tv);
    if (r->ctx == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: cannot allocate a connection", where(r, w, sizeof(w)));
    if (r->ctx->err) {
        lds_status status = lds_error_set(err, LDS_EUNAVAIL, "%s: %s", where(r, w, sizeof(w)), r->ctx->errstr);
        redisFree(r->ctx);
        r->ctx = NULL;
        return status;
    }
    if (r->timeout_ms > 0) {
        struct timeval command_tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
        redisSetTimeout(r->ctx, command_tv);
    }
    lds_status status = LDS_OK;
    if (r->password[0]) {
        const char *argv[3] = {"AUTH", r->user[0] ? r->user : r->password, r->password};
        status = setup_command(r, err, r->user[0] ? 3 : 2, argv);
    }
    if (status == LDS_OK && r->db != 0) {
        char db[16];
        snprintf(db, sizeof(db), "%d", r->db);
        const char *argv[2] = {"SELECT", db};
        status = setup_command(r, err, 2, argv);
    }
    if (status != LDS_OK) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    return status;
}

void lds_redis_set_timeout(lds_redis *redis, int timeout_ms)
{
    redis->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
    if (redis->ctx && redis->timeout_ms > 0) {
        struct timeval tv = {redis->timeout_ms / 1000, (redis->timeout_ms % 1000) * 1000};
        redisSetTimeout(redis->ctx, tv);
    }
}

static lds_status connect_url(const char *url, lds_redis **out, lds_error *err)
{
    lds_redis *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return lds_error_set(err, LDS_ENOMEM, "redis: out of memory");
    lds_status status = parse_url(r, url, err);
    if (status == LDS_OK)
        status = reconnect(r, err);
    if (status != LDS_OK) {
        lds_redis_close(r);
        return status;
    }
    *out = r;
    return LDS_OK;
}

void lds_redis_close(lds_redis *redis)
{
    if (redis == NULL)
        return;
    if (redis->ctx)
        redisFree(redis->ctx);
    free(redis);
}

static lds_status finish_reply(lds_redis *r, redisReply *raw, lds_redis_reply **reply, const char *name,
                               lds_error *err)
{
    char w[PATH_MAX + 32];
    if (reply)
        *reply = NULL;
    if (raw == NULL) {
        /* The connection is broken; drop it so that the next command reconnects. */
        lds_status status = lds_error_set(err, LDS_EUNAVAIL, "%s: %s: %s", where(r, w, sizeof(w)), name,
                                          r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
        redisFree(r->ctx);
        r->ctx = NULL;
        return status;
    }
    lds_status status = LDS_OK;
    if (raw->type == REDIS_REPLY_ERROR) {
        status = lds_error_set(err, LDS_EREDIS, "%s: %s: %s", where(r, w, sizeof(w)), name, raw->str);
    } else if (reply) {
        lds_redis_reply *copy = calloc(1, sizeof(*copy));
        if (copy == NULL || copy_reply(raw, copy) != LDS_OK) {
            lds_redis_reply_free(copy);
            status = lds_error_set(err, LDS_ENOMEM, "%s: %s: out of memory for the reply", where(r, w, sizeof(w)),
                                   name);
        } else {
            *reply = copy;
        }
    }
    freeReplyObject(raw);
    return status;
}

lds_status lds_redis_command_argv(lds_redis *redis, lds_redis_reply **reply, lds_error *err, int argc,
                                  const char *const *argv, const size_t *argv_len)
{
    if (reply)
        *reply = NULL;
    if (redis->ctx == NULL) {
        lds_status status = reconnect(redis, err);
        if (status != LDS_OK)
            return status;
    }
    redisReply *raw = redisCommandArgv(redis->ctx, argc, (const char **)argv, argv_len);
    char name[32];
    snprintf(name, sizeof(name), "%.*s", argv_len ? (int)(argv_len[0] < 31 ? argv_len[0] : 31) : 31, argv[0]);
    return finish_reply(redis, raw, reply, name, err);
}

lds_status lds_redis_command(lds_redis *redis, lds_redis_reply **reply, lds_error *err, const char *fmt, ...)
{
    if (reply)
        *reply = NULL;
    if (redis->ctx == NULL) {
        lds_status status = reconnect(redis, err);
        if (status != LDS_OK)
            return status;
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *raw = redisvCommand(redis->ctx, fmt, ap);
    va_end(ap);
    char name[32];
    size_t n = strcspn(fmt, " ");
    snprintf(name, sizeof(name), "%.*s", (int)(n < 31 ? n : 31), fmt);
    return finish_reply(redis, raw, reply, name, err);
}

/* ---- the embedded server ---- */

/* The embedded server's files stay in home/redis; its socket goes to a short runtime folder,
 * because a Unix socket path holds at most 107 bytes and a data directory may be deep:
 * $XDG_RUNTIME_DIR (or /tmp)/lodestone-<uid>/<16 hex of SHA-256(real path of home)>.sock. The
 * folder is made 0700 and must be ours and a real directory (not a link another user planted). */
static lds_status embedded_paths(const char *home, char *dir, size_t dir_size, char *sock, size_t sock_size,
                                 lds_error *err)
{
    snprintf(dir, dir_size, "%s/redis", home);
    const char *base = getenv("XDG_RUNTIME_DIR");
    if (base == NULL || *base != '/' || strlen(base) > 48)
        base = "/tmp";
    char runtime[80];
    snprintf(runtime, sizeof(runtime), "%s/lodestone-%u", base, (unsigned)getuid());
    if (mkdir(runtime, 0700) != 0 && errno != EEXIST)
        return lds_error_set(err, LDS_EIO, "%s: %s", runtime, strerror(errno));
    struct stat st;
    if (lstat(runtime, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0)
        return lds_error_set(err, LDS_EIO, "%s: not a private directory of this user", runtime);
    char real[PATH_MAX];
    const char *key = realpath(home, real) ? real : home;
    unsigned char digest[LDS_SHA256_BYTES];
    char hex[2 * LDS_SHA256_BYTES + 1];
    lds_sha256_buffer(key, strlen(key), digest);
    lds_hex_encode(digest, LDS_SHA256_BYTES, hex);
    snprintf(sock, sock_size, "%s/%.16s.sock", runtime, hex);
    return LDS_OK;
}

lds_status lds_redis_embedded_url(const char *home, char *url, size_t url_size, lds_error *err)
{
    char dir[PATH_MAX], sock[PATH_MAX];
    lds_status status = embedded_paths(home, dir, sizeof(dir), sock, sizeof(sock), err);
    if (status == LDS_OK)
        snprintf(url, url_size, "unix://%s", sock);
    return status;
}

/* True when a server answers PING on the socket. */
static int socket_alive(const char *sock)
{
    struct timeval tv = {1, 0};
    redisContext *ctx = redisConnectUnixWithTimeout(sock, tv);
    if (ctx == NULL)
        return 0;
    int alive = 0;
    if (!ctx->err) {
        redisReply *reply = redisCommand(ctx, "PING");
        /* LOADING (replaying the AOF) is alive but not ready; callers wait on PONG. */
        alive = reply && reply->type == REDIS_REPLY_STATUS;
        if (reply)
            freeReplyObject(reply);
    }
    redisFree(ctx);
    return alive;
}

static pid_t spawn_server(const char *dir, const char *sock, int detach, lds_error *err)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        lds_error_set(err, LDS_EIO, "redis-server: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        if (detach) {
            setsid();
            if (fork() != 0)
                _exit(0);
        } else {
            /* an owned server dies with its owner (`serve`), even on kill -9 */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(0);
            setpgid(0, 0); /* a terminal's Ctrl-C reaches us, and we stop it after our workers */
        }
        /* Nothing of ours leaks into the server: a detached server outlives us, and an inherited
         * pipe would keep a reader of our output waiting. */
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        char logfile[PATH_MAX + 16];
        snprintf(logfile, sizeof(logfile), "%s/redis.log", dir);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
               "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--save", "",
               "--logfile", logfile, "--protected-mode", "yes", (char *)NULL);
        _exit(127);
    }
    if (detach) {
        int st;
        waitpid(pid, &st, 0);
    }
    return pid;
}

/* Starts the server if it does not answer; waits (up to 30 s) until it does. Serialised by a lock
 * file so that two lodestone processes do not both start one. *started_pid is the child's pid
 * when we started it attached, 0 otherwise. */
static lds_status ensure_server(const char *home, int detach, pid_t *started_pid, lds_error *err)
{
    char dir[PATH_MAX], sock[PATH_MAX], lockpath[PATH_MAX + 16];
    *started_pid = 0;
    lds_status status = embedded_paths(home, dir, sizeof(dir), sock, sizeof(sock), err);
    if (status != LDS_OK)
        return status;
    if (socket_alive(sock))
        return LDS_OK;
    status = lds_dir_create(dir, 0700, err);
    if (status != LDS_OK)
        return status;
    snprintf(lockpath, sizeof(lockpath), "%s/start.lock", dir);
    int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0)
        return lds_error_set(err, LDS_EIO, "%s: %s", lockpath, strerror(errno));
    while (flock(lock, LOCK_EX) != 0 && errno == EINTR) {
    }
    if (!socket_alive(sock)) {
        /* A server that is replaying its AOF accepts connections but answers LOADING: wait on it
         * rather than starting a second one. */
        struct timeval tv = {1, 0};
        redisContext *probe = redisConnectUnixWithTimeout(sock, tv);
        int listening = probe && !probe->err;
        if (probe)
            redisFree(probe);
        pid_t pid = 0;
        if (!listening) {
            unlink(sock); /* stale socket of a dead server */
            pid = spawn_server(dir, sock, detach, err);
            if (pid < 0) {
                close(lock);
                return LDS_EIO;
            }
        }
        int ready = 0;
        for (int i = 0; i < 3000 && !ready; i++) {
            ready = socket_alive(sock);
            if (!ready) {
                if (pid > 0 && !detach && waitpid(pid, NULL, WNOHANG) == pid) {
                    close(lock);
                    return lds_error_set(err, LDS_EUNAVAIL,
                                         "redis-server exited at start (is it installed? see %s/redis.log)", dir);
                }
                lds_sleep_ms(10);
            }
        }
        if (!ready) {
            if (pid > 0 && !detach) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
            }
            close(lock);
            return lds_error_set(err, LDS_EUNAVAIL, "redis-server on %s did not answer within 30 s (see %s/redis.log)",
                                 sock, dir);
        }
        if (!detach)
            *started_pid = pid;
    }
    close(lock);
    return LDS_OK;
}

lds_status lds_redis_connect(const char *url, lds_redis **out, lds_error *err)
{
    *out = NULL;
    if (url == NULL)
        url = lds_setting_text("LODESTONE_REDIS_URL");
    if (url && *url)
        return connect_url(url, out, err);
    const char *home = lds_home_dir();
    pid_t pid;
    lds_status status = ensure_server(home, 1, &pid, err);
    if (status != LDS_OK)
        return status;
    char full[PATH_MAX + 16];
    status = lds_redis_embedded_url(home, full, sizeof(full), err);
    return status != LDS_OK ? status : connect_url(full, out, err);
}

lds_status lds_redis_server_start(const char *home, lds_redis_server **out, lds_error *err)
{
    *out = NULL;
    lds_redis_server *server = calloc(1, sizeof(*server));
    if (server == NULL)
        return lds_error_set(err, LDS_ENOMEM, "redis-server: out of memory");
    pid_t pid;
    lds_status status = ensure_server(home, 0, &pid, err);
    if (status != LDS_OK) {
        free(server);
        return status;
    }
    server->pid = pid;
    snprintf(server->home, sizeof(server->home), "%s", home);
    status = lds_redis_embedded_url(home, server->url, sizeof(server->url), err);
    if (status != LDS_OK) {
        lds_redis_server_stop(server);
        return status;
    }
    *out = server;
    return LDS_OK;
}

void lds_redis_server_stop(lds_redis_server *server)
{
    if (server == NULL)
        return;
    if (server->pid > 0) {
        kill(server->pid, SIGTERM);
        int st;
        while (waitpid(server->pid, &st, 0) < 0 && errno == EINTR) {
        }
    }
    free(server);
}

lds_status lds_redis_server_check(lds_redis_server *server, int *restarted, lds_error *err)
{
    *restarted = 0;
    if (server == NULL || server->pid <= 0)
        return LDS_OK;
    int st;
    pid_t dead = waitpid(server->pid, &st, WNOHANG);
    if (dead != server->pid)
        return LDS_OK;
    lds_log_warn("redis-server %d %s %d; restarting it", (int)dead, WIFSIGNALED(st) ? "killed by signal" : "exited with",
                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    server->pid = 0;
    pid_t pid = 0;
    lds_status status = ensure_server(server->home, 0, &pid, err);
    if (status == LDS_OK) {
        server->pid = pid;
        *restarted = 1;
    }
    return status;
}

int lds_redis_server_pid(const lds_redis_server *server)
{
    return server ? (int)server->pid : 0;
}

const char *lds_redis_server_url(const lds_redis_server *server)
{
    return server->url;
}
