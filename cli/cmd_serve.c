/* cmd_serve.c: `lodestone serve`: the whole service on one machine, as a supervisor.
 *
 * Order of start: the API's port is bound first (a second serve on a busy port fails before it
 * starts anything), then Redis (embedded under $LODESTONE_HOME/redis unless LODESTONE_REDIS_URL
 * is set), then the pool process (workers, notary, recovery), then the API threads. Every child
 * dies with serve, even on kill -9 (PR_SET_PDEATHSIG: Redis and the pool with serve, workers and
 * the notary with the pool). While running, serve restarts a pool or an embedded Redis that died,
 * after a doubling delay. SIGINT/SIGTERM stops them in reverse order (API, workers and notary,
 * then Redis), so that workers can still hand their jobs back. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "api.h"
#include "ingest.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lodestone serve [--workers N] [--no-notary]\n"
            "Runs the HTTP API (LODESTONE_LISTEN, default 127.0.0.1:8080), N worker processes\n"
            "(default 2), the notary and the recovery process (sweep, blob collection). With\n"
            "LODESTONE_REDIS_URL unset it starts its own redis-server with its files in\n"
            "$LODESTONE_HOME/redis (AOF, appendfsync always) and its socket in a short runtime folder\n"
            "($XDG_RUNTIME_DIR or /tmp), restarts it if it dies and stops it on exit.\n"
            "--no-notary: the notary runs elsewhere (`lodestone worker --notary`).\n");
}

/* The pool runs in its own process, forked before the API starts threads; it dies with us. */
static pid_t start_pool(const lds_service_options *options, int listen_fd)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    close(listen_fd); /* the port is the API's */
    lds_cli_catch_stop_signals(0); /* SIGINT: the parent decides when we stop */
    lds_cli_stop = 0;
    lds_service_die_with_parent(parent);
    lds_error err;
    lds_error_clear(&err);
    lds_status status = lds_service_run(options, &lds_cli_stop, &err);
    if (status != LDS_OK)
        lds_log_error("serve: %s", err.message);
    _exit(status == LDS_OK ? 0 : 1);
}

typedef struct supervised {
    pid_t pid;
    double started_ms, backoff_ms;
} supervised;

static double next_backoff(const supervised *s)
{
    if (lds_time_ms() - s->started_ms > 60000.0 || s->backoff_ms < 1000.0)
        return 1000.0;
    return s->backoff_ms * 2 > 30000.0 ? 30000.0 : s->backoff_ms * 2;
}

/* Until a stop signal: restarts the pool and the embedded Redis when they die. */
static void supervise(const lds_service_options *options, int listen_fd, supervised *pool, lds_redis_server *server)
{
    double redis_retry_ms = 0, redis_backoff_ms = 1000.0;
    while (!lds_cli_stop) {
        int st;
        if (pool->pid > 0 && waitpid(pool->pid, &st, WNOHANG) == pool->pid) {
            pool->backoff_ms = next_backoff(pool);
            lds_log_error("serve: the worker pool %d exited; restarting it in %.0f s", (int)pool->pid,
                          pool->backoff_ms / 1000.0);
            pool->pid = 0;
        }
        if (pool->pid == 0 && lds_time_ms() - pool->started_ms >= pool->backoff_ms) {
            pool->pid = start_pool(options, listen_fd);
            pool->started_ms = lds_time_ms();
            if (pool->pid < 0) {
                lds_log_error("serve: fork: %s", strerror(errno));
                pool->pid = 0;
            }
        }
        if (server && lds_time_ms() >= redis_retry_ms) {
            lds_error err;
            lds_error_clear(&err);
            int restarted = 0;
            if (lds_redis_server_check(server, &restarted, &err) != LDS_OK) {
                lds_log_error("serve: %s; retrying in %.0f s", err.message, redis_backoff_ms / 1000.0);
                redis_retry_ms = lds_time_ms() + redis_backoff_ms;
                redis_backoff_ms = redis_backoff_ms * 2 > 30000.0 ? 30000.0 : redis_backoff_ms * 2;
            } else if (restarted) {
                lds_log_warn("serve: redis-server restarted (pid %d)", lds_redis_server_pid(server));
                redis_backoff_ms = 1000.0;
            }
        }
        lds_sleep_ms(200);
    }
}

int lds_cmd_serve(int argc, char **argv)
{
    lds_service_options options;
    lds_service_options_init(&options);
    options.run_notary = 1;
    options.run_recovery = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            long n = strtol(argv[++i], NULL, 10);
            if (n < 0 || n > 256)
                return lds_cli_usage_error("serve", "--workers %s: expected 0 to 256", argv[i]);
            options.worker_count = (size_t)n;
        } else if (strcmp(argv[i], "--no-notary") == 0) {
            options.run_notary = 0;
        } else {
            return lds_cli_usage_error("serve", "unexpected argument '%s'", argv[i]);
        }
    }
    lds_error err;
    lds_error_clear(&err);
    if (lds_recovery_options_from_env(&options.recovery, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    lds_cli_catch_stop_signals(1);

    /* 1. the port, before anything starts */
    int listen_fd = -1;
    if (lds_api_listen(NULL, &listen_fd, &err) != LDS_OK)
        return lds_cli_fail("serve", "%s (is another serve running?); nothing was started", err.message);

    /* 2. Redis */
    lds_redis_server *server = NULL;
    const char *url = lds_setting_text("LODESTONE_REDIS_URL");
    if (url == NULL || *url == 0) {
        if (lds_dir_create(lds_home_dir(), 0700, &err) != LDS_OK ||
            lds_redis_server_start(lds_home_dir(), &server, &err) != LDS_OK) {
            close(listen_fd);
            return lds_cli_fail_error(&err);
        }
        /* Children (pool, API handlers) find the server through the variable. */
        setenv("LODESTONE_REDIS_URL", lds_redis_server_url(server), 1);
    }
    int rc = lds_cli_probe_queue();
    if (rc != 0) {
        close(listen_fd);
        lds_redis_server_stop(server);
        return rc;
    }
    fprintf(stderr, "lodestone serve: redis %s, %zu workers%s\n", lds_setting_text("LODESTONE_REDIS_URL"),
            options.worker_count, options.run_notary ? ", notary" : "");

    /* 3. the pool, 4. the API */
    supervised pool = {start_pool(&options, listen_fd), lds_time_ms(), 1000.0};
    if (pool.pid < 0) {
        close(listen_fd);
        rc = lds_cli_fail("serve", "fork: %s", strerror(errno));
    } else {
        lds_api_config config = {0};
        config.listen_fd = listen_fd;
        lds_api *api = NULL;
        if (lds_api_start(&config, &api, &err) != LDS_OK) {
            close(listen_fd);
            rc = lds_cli_fail_error(&err);
        } else {
            const char *listen = lds_setting_text("LODESTONE_LISTEN");
            const char *colon = listen ? strrchr(listen, ':') : NULL;
            int host_len = colon ? (int)(colon - listen) : 0;
            fprintf(stderr, "lodestone serve: listening on http://%.*s:%u\n", host_len ? host_len : 9,
                    host_len ? listen : "127.0.0.1", lds_api_port(api));
            supervise(&options, listen_fd, &pool, server);
            lds_api_stop(api);
        }
        if (pool.pid > 0) {
            kill(pool.pid, SIGTERM);
            while (waitpid(pool.pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
    }
    lds_redis_server_stop(server);
    return rc;
}
