/* cmd_serve.c: `lodestone serve`: the whole service on one machine. Brings up Redis (embedded
 * under $LODESTONE_HOME/redis unless LODESTONE_REDIS_URL is set), a process that supervises the
 * workers and the notary, and the HTTP API; SIGINT/SIGTERM stops them in reverse order (API,
 * workers and notary, then Redis), so that workers can still hand their jobs back. */
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
            "(default 2) and the notary. With LODESTONE_REDIS_URL unset it starts its own redis-server\n"
            "with its files in $LODESTONE_HOME/redis (AOF, appendfsync always) and its socket in a short\n"
            "runtime folder ($XDG_RUNTIME_DIR or /tmp), and stops it on exit.\n"
            "--no-notary: the notary runs elsewhere (`lodestone worker --notary`).\n");
}

/* The pool runs in its own process, forked before the API starts threads. */
static pid_t start_pool(const lds_service_options *options)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    lds_cli_catch_stop_signals(0); /* SIGINT: the parent decides when we stop */
    lds_cli_stop = 0;
    lds_error err;
    lds_error_clear(&err);
    lds_status status = lds_service_run(options, &lds_cli_stop, &err);
    if (status != LDS_OK)
        lds_log_error("serve: %s", err.message);
    _exit(status == LDS_OK ? 0 : 1);
}

int lds_cmd_serve(int argc, char **argv)
{
    lds_service_options options;
    lds_service_options_init(&options);
    options.run_notary = 1;
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
    lds_cli_catch_stop_signals(1);

    lds_error err;
    lds_error_clear(&err);
    lds_redis_server *server = NULL;
    const char *url = getenv("LODESTONE_REDIS_URL");
    if (url == NULL || *url == 0) {
        if (lds_dir_create(lds_home_dir(), 0755, &err) != LDS_OK ||
            lds_redis_server_start(lds_home_dir(), &server, &err) != LDS_OK)
            return lds_cli_fail_error(&err);
        /* Children (pool, API handlers) find the server through the variable. */
        setenv("LODESTONE_REDIS_URL", lds_redis_server_url(server), 1);
    }
    int rc = lds_cli_probe_queue();
    if (rc != 0) {
        lds_redis_server_stop(server);
        return rc;
    }
    fprintf(stderr, "lodestone serve: redis %s, %zu workers%s\n", getenv("LODESTONE_REDIS_URL"),
            options.worker_count, options.run_notary ? ", notary" : "");

    pid_t pool = start_pool(&options);
    if (pool < 0) {
        rc = lds_cli_fail("serve", "fork: %s", strerror(errno));
    } else {
        /* The API runs in this process until a signal, or until the pool dies (then uploads
         * would be accepted that nothing processes). */
        lds_api_config config = {0};
        lds_api *api = NULL;
        if (lds_api_start(&config, &api, &err) != LDS_OK) {
            rc = lds_cli_fail_error(&err);
        } else {
            const char *listen = getenv("LODESTONE_LISTEN");
            const char *colon = listen ? strrchr(listen, ':') : NULL;
            int host_len = colon ? (int)(colon - listen) : 0;
            fprintf(stderr, "lodestone serve: listening on http://%.*s:%u\n", host_len ? host_len : 9,
                    host_len ? listen : "127.0.0.1", lds_api_port(api));
            while (!lds_cli_stop) {
                int st;
                if (waitpid(pool, &st, WNOHANG) == pool) {
                    rc = lds_cli_fail("serve", "the worker pool exited; stopping");
                    pool = -1;
                    break;
                }
                lds_sleep_ms(200);
            }
            lds_api_stop(api);
        }
        if (pool > 0) {
            kill(pool, SIGTERM);
            while (waitpid(pool, NULL, 0) < 0 && errno == EINTR) {
            }
        }
    }
    lds_redis_server_stop(server);
    return rc;
}
