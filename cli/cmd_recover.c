/* cmd_recover.c: `lodestone recover`: one recovery sweep and/or one blob collection now, against
 * the service's Redis and blob store (the running service does both in the background). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ingest.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: lodestone recover [--sweep] [--gc] [--grace-ms MS]\n"
                 "--sweep  enqueues the jobs of records left without one and finishes deposits left\n"
                 "         half written (by a crash), older than MS (default $LODESTONE_SWEEP_GRACE_MS)\n"
                 "--gc     removes blobs older than MS (default $LODESTONE_BLOB_GRACE_MS, 24 h) that no\n"
                 "         asset record or deposit names\n"
                 "With neither, both. Prints one JSON line of counts.\n");
}

int lds_cmd_recover(int argc, char **argv)
{
    int sweep = 0, gc = 0;
    long long grace = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--sweep") == 0) {
            sweep = 1;
        } else if (strcmp(argv[i], "--gc") == 0) {
            gc = 1;
        } else if (strcmp(argv[i], "--grace-ms") == 0 && i + 1 < argc) {
            char *end;
            grace = strtoll(argv[++i], &end, 10);
            if (*argv[i] == 0 || *end || grace < 0)
                return lds_cli_usage_error("recover", "--grace-ms %s: expected milliseconds", argv[i]);
        } else {
            return lds_cli_usage_error("recover", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!sweep && !gc)
        sweep = gc = 1;
    lds_error err;
    lds_error_clear(&err);
    lds_recovery_options options;
    if (lds_recovery_options_from_env(&options, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    lds_redis *redis = NULL;
    if (lds_redis_connect(NULL, &redis, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    size_t requeued = 0, finished = 0;
    lds_blob_gc_report report;
    memset(&report, 0, sizeof(report));
    lds_status st = LDS_OK;
    if (sweep)
        st = lds_recovery_sweep(redis, grace >= 0 ? grace : options.sweep_grace_ms, &requeued, &finished, &err);
    if (st == LDS_OK && gc)
        st = lds_blob_gc(redis, NULL, grace >= 0 ? grace : options.blob_grace_ms, &report, &err);
    lds_redis_close(redis);
    if (st != LDS_OK)
        return lds_cli_fail_error(&err);
    printf("{\"requeued\": %zu, \"deposits_finished\": %zu, \"blobs_removed\": %zu, \"bytes_removed\": %llu, "
           "\"blobs_kept\": %zu, \"blobs_young\": %zu}\n",
           requeued, finished, report.removed, (unsigned long long)report.removed_bytes, report.kept, report.young);
    return 0;
}
