/* reprocess.c: re-running the pipeline over ready assets after an upgrade (ops).
 *
 * Each selected asset gets a low-priority job (uploads go first). The worker replaces the outputs
 * atomically (new blobs first, then one record update) and asks for a certificate that names the
 * previous one; the job carries one time for the whole batch, so a re-run after a crash states the
 * same thing and the notary logs it once. */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

#define BATCH 1000

/* The number after the last '/' of "lodestone-pipeline/N"; 0 when there is none. */
static long version_number(const char *version)
{
    const char *slash = version ? strrchr(version, '/') : NULL;
    return slash ? strtol(slash + 1, NULL, 10) : 0;
}

static lds_status consider(lds_redis *redis, const char *asset_id, const lds_reprocess_selection *selection,
                           const char *time, size_t *queued, json_t *jobs, lds_error *err)
{
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(redis, &reply, err, "HMGET lds:asset:%s status version", asset_id);
    if (status != LDS_OK)
        return status;
    const char *state = reply->elements == 2 ? reply->element[0].str : NULL;
    const char *version = reply->elements == 2 ? reply->element[1].str : NULL;
    const char *skip = NULL;
    if (state == NULL)
        skip = "no such asset";
    else if (strcmp(state, "ready") != 0)
        skip = "not ready";
    else if (selection->older_than && version_number(version) >= version_number(selection->older_than))
        skip = "not older";
    if (skip) {
        if (jobs && !selection->all && !selection->older_than)
            json_array_append_new(jobs, json_pack("{s:s, s:s}", "asset", asset_id, "skipped", skip));
        lds_redis_reply_free(reply);
        return LDS_OK;
    }
    lds_redis_reply_free(reply);
    lds_job job;
    memset(&job, 0, sizeof(job));
    snprintf(job.asset_id, sizeof(job.asset_id), "%s", asset_id);
    job.kind = LDS_JOB_REPROCESS;
    job.priority = LDS_QUEUE_LOW;
    snprintf(job.time, sizeof(job.time), "%s", time);
    status = lds_queue_enqueue(redis, &job, err);
    if (status != LDS_OK)
        return status;
    char text[160];
    snprintf(text, sizeof(text), "{\"status\":\"queued\",\"job\":\"%s\"}", job.id);
    lds_redis_command(redis, NULL, NULL, "HSET lds:asset:%s reprocess %s", asset_id, text);
    (*queued)++;
    if (jobs)
        json_array_append_new(jobs, json_pack("{s:s, s:s}", "asset", asset_id, "job", job.id));
    return LDS_OK;
}

lds_status lds_reprocess_enqueue(lds_redis *redis, const lds_reprocess_selection *selection, size_t *queued,
                                 json_t **jobs, lds_error *err)
{
    *queued = 0;
    if (jobs)
        *jobs = NULL;
    if (!selection->all && !selection->older_than && selection->asset_count == 0)
        return lds_error_set(err, LDS_EINVAL, "reprocess: select --all, --asset ID or --older-than VERSION");
    json_t *list = json_array();
    char time[40];
    lds_time_rfc3339(time, sizeof(time));
    lds_status status = LDS_OK;
    if (selection->asset_count) {
        for (size_t i = 0; i < selection->asset_count && status == LDS_OK; i++)
            status = consider(redis, selection->asset_ids[i], selection, time, queued, list, err);
    } else {
        /* Every asset, in acceptance order, a batch at a time (the index may be large). */
        for (long long start = 0; status == LDS_OK; start += BATCH) {
            lds_redis_reply *reply = NULL;
            status = lds_redis_command(redis, &reply, err, "ZRANGE lds:assets %lld %lld", start, start + BATCH - 1);
            if (status != LDS_OK)
                break;
            size_t n = reply->elements;
            for (size_t i = 0; i < n && status == LDS_OK; i++)
                if (reply->element[i].str)
                    status = consider(redis, reply->element[i].str, selection, time, queued, list, err);
            lds_redis_reply_free(reply);
            if (n < BATCH)
                break;
        }
    }
    if (status == LDS_OK && jobs)
        *jobs = json_incref(list);
    json_decref(list);
    return status;
}
