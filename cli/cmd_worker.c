/* cmd_worker.c: `lodestone worker`: worker processes (and optionally the notary) against an
 * existing Redis and blob store; `serve` runs the same pool. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ingest.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lodestone worker [--concurrency N] [--notary]\n"
            "Runs N worker processes (default 1) that take jobs from the Redis queue, run the pipeline\n"
            "and publish the results; --notary also runs a notary (the single writer of the log; it\n"
            "stands by while another holds the lease). SIGTERM/SIGINT: finish the current jobs (hand\n"
            "them back after LODESTONE_WORKER_GRACE_MS, default 30000) and exit.\n"
            "Redis: $LODESTONE_REDIS_URL, or the embedded server of $LODESTONE_HOME (started if needed).\n"
            "Tuning: LODESTONE_VISIBILITY_MS, LODESTONE_MAX_ATTEMPTS, LODESTONE_BACKOFF_MS.\n");
}

int lds_cmd_worker(int argc, char **argv)
{
    lds_service_options options;
    lds_service_options_init(&options);
    options.worker_count = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc) {
            long n = strtol(argv[++i], NULL, 10);
            if (n < 1 || n > 256)
                return lds_cli_usage_error("worker", "--concurrency %s: expected 1 to 256", argv[i]);
            options.worker_count = (size_t)n;
        } else if (strcmp(argv[i], "--notary") == 0) {
            options.run_notary = 1;
        } else {
            return lds_cli_usage_error("worker", "unexpected argument '%s'", argv[i]);
        }
    }
    /* Fail early (and start the embedded Redis once) rather than in every child. */
    int rc = lds_cli_probe_queue();
    if (rc != 0)
        return rc;
    lds_cli_catch_stop_signals(1);
    lds_error err;
    lds_error_clear(&err);
    if (lds_service_run(&options, &lds_cli_stop, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    return 0;
}
