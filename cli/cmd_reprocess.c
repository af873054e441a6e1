/* cmd_reprocess.c: `lodestone reprocess`: re-run the pipeline over assets at low priority (ops). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ingest.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: lodestone reprocess --all | --asset ID... | --older-than VERSION [--wait] [--json]\n"
                 "Enqueues a low-priority job per ready asset (uploads keep going first). Each new result\n"
                 "replaces the old one atomically and its certificate names the previous one.\n"
                 "--older-than lodestone-pipeline/N selects assets made by an older pipeline (this one is "
                 LDS_PIPELINE_VERSION ").\n"
                 "--wait shows progress until the queued jobs are done.\n");
}

/* Counts the selected jobs still queued or running. */
static size_t pending_jobs(lds_redis *redis, json_t *jobs, size_t *failed)
{
    size_t pending = 0, i;
    json_t *item;
    *failed = 0;
    json_array_foreach(jobs, i, item)
    {
        const char *asset = json_string_value(json_object_get(item, "asset"));
        const char *job = json_string_value(json_object_get(item, "job"));
        if (!asset || !job)
            continue;
        json_t *record = NULL;
        if (lds_assets_get(redis, asset, &record, NULL) != LDS_OK)
            continue;
        json_t *r = json_object_get(record, "reprocess");
        const char *state = json_string_value(json_object_get(r, "status"));
        const char *rjob = json_string_value(json_object_get(r, "job"));
        if (rjob && strcmp(rjob, job) == 0 && state) {
            if (strcmp(state, "failed") == 0)
                (*failed)++;
            else if (strcmp(state, "done") != 0)
                pending++;
        }
        json_decref(record);
    }
    return pending;
}

int lds_cmd_reprocess(int argc, char **argv)
{
    lds_reprocess_selection selection;
    memset(&selection, 0, sizeof(selection));
    const char **ids = calloc((size_t)argc, sizeof(char *));
    int json = 0, wait = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            free(ids);
            return 0;
        } else if (strcmp(argv[i], "--all") == 0) {
            selection.all = 1;
        } else if (strcmp(argv[i], "--asset") == 0 && i + 1 < argc) {
            while (i + 1 < argc && argv[i + 1][0] != '-')
                ids[selection.asset_count++] = argv[++i];
        } else if (strcmp(argv[i], "--older-than") == 0 && i + 1 < argc) {
            selection.older_than = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--wait") == 0) {
            wait = 1;
        } else {
            free(ids);
            return lds_cli_usage_error("reprocess", "unexpected argument '%s'", argv[i]);
        }
    }
    selection.asset_ids = ids;
    if (!selection.all && !selection.older_than && selection.asset_count == 0) {
        free(ids);
        return lds_cli_usage_error("reprocess", "select --all, --asset ID... or --older-than VERSION");
    }
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = NULL;
    json_t *jobs = NULL;
    size_t queued = 0;
    int rc = 0;
    if (lds_redis_connect(NULL, &redis, &err) != LDS_OK ||
        lds_reprocess_enqueue(redis, &selection, &queued, &jobs, &err) != LDS_OK) {
        rc = lds_cli_fail_error(&err);
        goto out;
    }
    if (json) {
        json_t *out = json_pack("{s:I, s:O}", "queued", (json_int_t)queued, "jobs", jobs);
        char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(out);
    } else {
        printf("queued %zu reprocess job%s at low priority\n", queued, queued == 1 ? "" : "s");
    }
    if (wait && queued) {
        size_t failed = 0, pending;
        while ((pending = pending_jobs(redis, jobs, &failed)) > 0) {
            fprintf(stderr, "\rreprocess: %zu/%zu done, %zu failed", queued - pending - failed, queued, failed);
            lds_sleep_ms(1000);
        }
        fprintf(stderr, "\rreprocess: %zu/%zu done, %zu failed\n", queued - failed, queued, failed);
        if (failed)
            rc = 1;
    }
out:
    json_decref(jobs);
    lds_redis_close(redis);
    free(ids);
    return rc;
}
