/* queue.c: the job queue on Redis Streams (DESIGN.md 6.5; Redis 7.0 for XAUTOCLAIM).
 *
 * Two streams, lds:{q}:jobs:high (uploads) and lds:{q}:jobs:low (reprocessing), read through the
 * consumer group "workers". An entry stays in the group's pending list (PEL) while a worker holds
 * it; its idle time is the lease: a worker that goes silent for visibility_ms loses the job to the
 * next XAUTOCLAIM, and heartbeats (XCLAIM by the same consumer, JUSTID) reset the idle time. Entries
 * are deleted when acknowledged, so XLEN - PEL is the backlog. Failures go to the delayed zset
 * (score = due time, member = priority digit ':' Job) with exponential backoff, and after the last
 * attempt to the dead-letter stream with the error. Every multi-step change is one Lua script,
 * so a crash between steps cannot lose or duplicate a job; all keys share the hash tag {q}.
 * Payloads are lds.Job messages (proto/jobs.proto, protobuf-c). */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ingest.h"
#include "jobs.pb-c.h"

#define KEY_HIGH "lds:{q}:jobs:high"
#define KEY_LOW "lds:{q}:jobs:low"
#define KEY_DELAYED "lds:{q}:delayed"
#define KEY_DEAD "lds:{q}:dead"
#define KEY_STATS "lds:{q}:stats"
#define KEY_DURATIONS "lds:{q}:durations"
#define GROUP "workers"
#define DEAD_SCAN_MAX 100000

static const char *stream_key(lds_queue_priority priority)
{
    return priority == LDS_QUEUE_LOW ? KEY_LOW : KEY_HIGH;
}

void lds_queue_config_init(lds_queue_config *config)
{
    config->visibility_ms = (int64_t)lds_setting_ms_or_default("LODESTONE_VISIBILITY_MS");
    config->backoff_ms = (int64_t)lds_setting_ms_or_default("LODESTONE_BACKOFF_MS");
    config->backoff_max_ms = 300000;
    config->max_attempts = (unsigned)lds_setting_u64_or_default("LODESTONE_MAX_ATTEMPTS");
}

/* ---- ids and payloads ---- */

void lds_ingest_new_id(const char *prefix, char *out, size_t out_size)
{
    unsigned char bytes[16];
    size_t got = 0;
    while (got < sizeof(bytes)) {
        ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    char hex[33];
    lds_hex_encode(bytes, sizeof(bytes), hex);
    snprintf(out, out_size, "%s%s", prefix, hex);
}

static lds_status job_encode(const lds_job *job, unsigned char **data, size_t *size, lds_error *err)
{
    Lds__Job msg = LDS__JOB__INIT;
    msg.job_id = (char *)job->id;
    msg.asset_id = (char *)job->asset_id;
    msg.kind = job->kind == LDS_JOB_REPROCESS ? LDS__JOB__KIND__REPROCESS : LDS__JOB__KIND__UPLOAD;
    msg.attempt = job->attempt;
    msg.priority = (uint32_t)job->priority;
    msg.enqueued_ms = job->enqueued_ms;
    msg.time = (char *)job->time;
    msg.last_error_code = (char *)job->last_error_code;
    msg.last_error_message = (char *)job->last_error;
    *size = lds__job__get_packed_size(&msg);
    *data = malloc(*size + 1);
    if (*data == NULL)
        return lds_error_set(err, LDS_ENOMEM, "job %s: out of memory", job->id);
    lds__job__pack(&msg, *data);
    return LDS_OK;
}

static lds_status job_decode(const void *data, size_t size, lds_job *job, lds_error *err)
{
    memset(job, 0, sizeof(*job));
    Lds__Job *msg = lds__job__unpack(NULL, size, data);
    if (msg == NULL)
        return lds_error_set(err, LDS_EFORMAT, "queue: a job payload of %zu bytes does not parse", size);
    snprintf(job->id, sizeof(job->id), "%s", msg->job_id);
    snprintf(job->asset_id, sizeof(job->asset_id), "%s", msg->asset_id);
    job->kind = msg->kind == LDS__JOB__KIND__REPROCESS ? LDS_JOB_REPROCESS : LDS_JOB_UPLOAD;
    job->attempt = msg->attempt;
    job->priority = msg->priority ? LDS_QUEUE_LOW : LDS_QUEUE_HIGH;
    job->enqueued_ms = msg->enqueued_ms;
    snprintf(job->time, sizeof(job->time), "%s", msg->time);
    snprintf(job->last_error_code, sizeof(job->last_error_code), "%s", msg->last_error_code);
    snprintf(job->last_error, sizeof(job->last_error), "%s", msg->last_error_message);
    lds__job__free_unpacked(msg, NULL);
    return LDS_OK;
}

/* The value of field name in a flat [field, value, ...] array reply. */
static const lds_redis_reply *field_of(const lds_redis_reply *fields, const char *name)
{
    if (fields == NULL || fields->type != LDS_REDIS_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i].str && strcmp(fields->element[i].str, name) == 0)
            return &fields->element[i + 1];
    return NULL;
}

/* ---- scripts ---- */

/* KEYS: stream, stats. ARGV: id. */
static const char *const SCRIPT_ACK =
    "local n = redis.call('XACK', KEYS[1], 'workers', ARGV[1])\n"
    "redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "if n > 0 then redis.call('HINCRBY', KEYS[2], 'completed', 1) end\n"
    "return n\n";

/* KEYS: stream, delayed, dead, stats. ARGV: id, consumer, mode, due_ms, member, payload, code,
 * message, asset, job, now. Returns 0 when the consumer no longer holds the entry. */
static const char *const SCRIPT_FAIL =
    "local p = redis.call('XPENDING', KEYS[1], 'workers', ARGV[1], ARGV[1], 1)\n"
    "if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end\n"
    "redis.call('XACK', KEYS[1], 'workers', ARGV[1])\n"
    "redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "if ARGV[3] == 'retry' then\n"
    "  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])\n"
    "  redis.call('HINCRBY', KEYS[4], 'retried', 1)\n"
    "else\n"
    "  redis.call('XADD', KEYS[3], '*', 'job', ARGV[6], 'code', ARGV[7], 'message', ARGV[8],\n"
    "             'asset', ARGV[9], 'job_id', ARGV[10], 'failed_at', ARGV[11])\n"
    "  redis.call('HINCRBY', KEYS[4], 'dead', 1)\n"
    "end\n"
    "return 1\n";

/* KEYS: stream. ARGV: id, consumer. */
static const char *const SCRIPT_HEARTBEAT =
    "local p = redis.call('XPENDING', KEYS[1], 'workers', ARGV[1], ARGV[1], 1)\n"
    "if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end\n"
    "redis.call('XCLAIM', KEYS[1], 'workers', ARGV[2], 0, ARGV[1], 'JUSTID')\n"
    "return 1\n";

/* KEYS: stream, stats. ARGV: id, consumer, payload. */
static const char *const SCRIPT_RELEASE =
    "local p = redis.call('XPENDING', KEYS[1], 'workers', ARGV[1], ARGV[1], 1)\n"
    "if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end\n"
    "redis.call('XACK', KEYS[1], 'workers', ARGV[1])\n"
    "redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "redis.call('XADD', KEYS[1], '*', 'job', ARGV[3])\n"
    "redis.call('HINCRBY', KEYS[2], 'released', 1)\n"
    "return 1\n";

/* KEYS: delayed, high, low. ARGV: now, limit. */
static const char *const SCRIPT_PROMOTE =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))\n"
    "for _, m in ipairs(due) do\n"
    "  local stream = KEYS[2]\n"
    "  if string.sub(m, 1, 1) == '1' then stream = KEYS[3] end\n"
    "  redis.call('XADD', stream, '*', 'job', string.sub(m, 3))\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "end\n"
    "return #due\n";

/* KEYS: dead, stream. ARGV: dead id, payload. */
static const char *const SCRIPT_DEAD_RETRY =
    "if redis.call('XDEL', KEYS[1], ARGV[1]) == 1 then\n"
    "  redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

/* ---- setup and enqueue ---- */

lds_status lds_queue_setup(lds_redis *redis, lds_error *err)
{
    const char *keys[2] = {KEY_HIGH, KEY_LOW};
    for (int i = 0; i < 2; i++) {
        lds_error inner;
        lds_error_clear(&inner);
        lds_status status = lds_redis_command(redis, NULL, &inner, "XGROUP CREATE %s " GROUP " 0 MKSTREAM", keys[i]);
        if (status == LDS_EREDIS && strstr(inner.message, "BUSYGROUP"))
            continue;
        if (status != LDS_OK)
            return lds_error_set(err, status, "%s", inner.message);
    }
    return LDS_OK;
}

lds_status lds_queue_enqueue(lds_redis *redis, lds_job *job, lds_error *err)
{
    if (job->id[0] == 0)
        lds_ingest_new_id("j_", job->id, sizeof(job->id));
    job->enqueued_ms = lds_wall_ms();
    unsigned char *payload = NULL;
    size_t size = 0;
    lds_status status = job_encode(job, &payload, &size, err);
    if (status != LDS_OK)
        return status;
    status = lds_queue_setup(redis, err);
    if (status == LDS_OK)
        status = lds_redis_command(redis, NULL, err, "XADD %s * job %b", stream_key(job->priority), payload, size);
    if (status == LDS_OK)
        lds_redis_command(redis, NULL, NULL, "HINCRBY " KEY_STATS " enqueued 1");
    free(payload);
    return status;
}

/* ---- claiming ---- */

/* Fills claim from one [id, [field, value...]] stream entry. */
static lds_status claim_from_entry(const lds_redis_reply *entry, lds_queue_priority priority, lds_job_claim *claim,
                                   lds_error *err)
{
    if (entry->type != LDS_REDIS_ARRAY || entry->elements < 2 || entry->element[0].str == NULL)
        return lds_error_set(err, LDS_EREDIS, "queue: unexpected stream entry shape");
    snprintf(claim->stream_id, sizeof(claim->stream_id), "%s", entry->element[0].str);
    const lds_redis_reply *payload = field_of(&entry->element[1], "job");
    if (payload == NULL || payload->str == NULL)
        return lds_error_set(err, LDS_EFORMAT, "queue: entry %s of %s has no job", claim->stream_id,
                             stream_key(priority));
    lds_status status = job_decode(payload->str, payload->len, &claim->job, err);
    claim->job.priority = priority;
    return status;
}

static lds_status run_script(lds_redis *redis, lds_redis_reply **reply, lds_error *err, const char *script, int nkeys,
                             const char *const *keys, int nargs, const char *const *args, const size_t *arg_lens)
{
    const char *argv[24];
    size_t lens[24];
    char numkeys[8];
    snprintf(numkeys, sizeof(numkeys), "%d", nkeys);
    int argc = 0;
    argv[argc] = "EVAL";
    lens[argc++] = 4;
    argv[argc] = script;
    lens[argc++] = strlen(script);
    argv[argc] = numkeys;
    lens[argc++] = strlen(numkeys);
    for (int i = 0; i < nkeys; i++) {
        argv[argc] = keys[i];
        lens[argc++] = strlen(keys[i]);
    }
    for (int i = 0; i < nargs; i++) {
        argv[argc] = args[i];
        lens[argc++] = arg_lens && arg_lens[i] != (size_t)-1 ? arg_lens[i] : strlen(args[i]);
    }
    return lds_redis_command_argv(redis, reply, err, argc, argv, lens);
}

/* Moves an entry that keeps crashing its workers to the dead-letter stream. */
static lds_status bury(lds_redis *redis, lds_job_claim *claim, const char *why, lds_error *err)
{
    lds_error error;
    lds_error_clear(&error);
    lds_error_set(&error, LDS_ECRASH, "%s", why);
    lds_queue_config config;
    lds_queue_config_init(&config);
    return lds_queue_fail(redis, &config, claim, &error, 1, NULL, NULL, err);
}

/* XAUTOCLAIM one entry idle for visibility_ms from stream. */
static lds_status reclaim(lds_redis *redis, const lds_queue_config *config, const char *consumer,
                          lds_queue_priority priority, lds_job_claim *claim, int *claimed, lds_error *err)
{
    const char *key = stream_key(priority);
    for (int round = 0; round < 8; round++) {
        lds_redis_reply *reply = NULL;
        lds_status status = lds_redis_command(redis, &reply, err, "XAUTOCLAIM %s " GROUP " %s %lld 0-0 COUNT 1", key,
                                              consumer, (long long)config->visibility_ms);
        if (status != LDS_OK)
            return status;
        if (reply->type != LDS_REDIS_ARRAY || reply->elements < 2 || reply->element[1].type != LDS_REDIS_ARRAY ||
            reply->element[1].elements == 0) {
            lds_redis_reply_free(reply);
            return LDS_OK;
        }
        memset(claim, 0, sizeof(*claim));
        status = claim_from_entry(&reply->element[1].element[0], priority, claim, err);
        lds_redis_reply_free(reply);
        snprintf(claim->consumer, sizeof(claim->consumer), "%s", consumer);
        claim->reclaimed = 1;
        if (status == LDS_EFORMAT) {
            /* An entry we cannot read would be reclaimed forever: drop it, loudly. */
            lds_log_error("%s", err ? err->message : "queue: unreadable entry");
            lds_redis_command(redis, NULL, NULL, "XACK %s " GROUP " %s", key, claim->stream_id);
            lds_redis_command(redis, NULL, NULL, "XDEL %s %s", key, claim->stream_id);
            return status;
        }
        if (status != LDS_OK)
            return status;
        lds_redis_reply *pending = NULL;
        status = lds_redis_command(redis, &pending, err, "XPENDING %s " GROUP " %s %s 1", key, claim->stream_id,
                                   claim->stream_id);
        if (status != LDS_OK)
            return status;
        if (pending->type == LDS_REDIS_ARRAY && pending->elements == 1 && pending->element[0].elements >= 4)
            claim->deliveries = (unsigned)pending->element[0].element[3].integer;
        lds_redis_reply_free(pending);
        lds_redis_command(redis, NULL, NULL, "HINCRBY " KEY_STATS " reclaimed 1");
        lds_log_warn("queue: reclaimed job %s (asset %s) from a silent worker, delivery %u", claim->job.id,
                     claim->job.asset_id, claim->deliveries);
        if (claim->deliveries > config->max_attempts) {
            char why[160];
            snprintf(why, sizeof(why), "delivered %u times without an answer: its workers died", claim->deliveries);
            status = bury(redis, claim, why, err);
            if (status != LDS_OK)
                return status;
            continue;
        }
        *claimed = 1;
        return LDS_OK;
    }
    return LDS_OK;
}

/* Reads new entries. With block_ms > 0 waits on both streams. */
static lds_status read_new(lds_redis *redis, const char *consumer, int block_ms, lds_job_claim *claim, int *claimed,
                           lds_error *err)
{
    lds_redis_reply *reply = NULL;
    lds_status status;
    if (block_ms > 0)
        status = lds_redis_command(redis, &reply, err,
                                   "XREADGROUP GROUP " GROUP " %s COUNT 1 BLOCK %d STREAMS " KEY_HIGH " " KEY_LOW
                                   " > >",
                                   consumer, block_ms);
    else
        status = lds_redis_command(redis, &reply, err,
                                   "XREADGROUP GROUP " GROUP " %s COUNT 1 STREAMS " KEY_HIGH " " KEY_LOW " > >",
                                   consumer);
    if (status != LDS_OK)
        return status;
    /* Reply: [[stream, [[id, fields]]], ...]; COUNT is per stream, so both may answer. */
    lds_job_claim extra;
    int have_extra = 0;
    if (reply->type == LDS_REDIS_ARRAY) {
        for (size_t s = 0; s < reply->elements && status == LDS_OK; s++) {
            const lds_redis_reply *stream = &reply->element[s];
            if (stream->elements < 2 || stream->element[1].elements == 0 || stream->element[0].str == NULL)
                continue;
            lds_queue_priority priority = strcmp(stream->element[0].str, KEY_LOW) == 0 ? LDS_QUEUE_LOW : LDS_QUEUE_HIGH;
            lds_job_claim got;
            memset(&got, 0, sizeof(got));
            snprintf(got.consumer, sizeof(got.consumer), "%s", consumer);
            got.deliveries = 1;
            status = claim_from_entry(&stream->element[1].element[0], priority, &got, err);
            if (status != LDS_OK)
                break;
            if (!*claimed) {
                *claim = got;
                *claimed = 1;
            } else if (got.job.priority == LDS_QUEUE_HIGH) {
                extra = *claim;
                *claim = got;
                have_extra = 1;
            } else {
                extra = got;
                have_extra = 1;
            }
        }
    }
    lds_redis_reply_free(reply);
    if (have_extra) /* the low-priority one goes back, at the end of its stream */
        lds_queue_release(redis, &extra, NULL);
    return status;
}

lds_status lds_queue_claim(lds_redis *redis, const lds_queue_config *config, const char *consumer, int block_ms,
                           lds_job_claim *claim, int *claimed, lds_error *err)
{
    *claimed = 0;
    memset(claim, 0, sizeof(*claim));
    lds_status status = lds_queue_setup(redis, err);
    for (int p = 0; p < 2 && status == LDS_OK && !*claimed; p++)
        status = reclaim(redis, config, consumer, (lds_queue_priority)p, claim, claimed, err);
    if (status == LDS_EFORMAT)
        return LDS_OK; /* dropped; the caller claims again */
    if (status != LDS_OK || *claimed)
        return status;
    status = read_new(redis, consumer, 0, claim, claimed, err);
    if (status == LDS_OK && !*claimed && block_ms > 0)
        status = read_new(redis, consumer, block_ms, claim, claimed, err);
    return status;
}

/* ---- finishing ---- */

lds_status lds_queue_heartbeat(lds_redis *redis, const lds_job_claim *claim, int *owned, lds_error *err)
{
    const char *keys[1] = {stream_key(claim->job.priority)};
    const char *args[2] = {claim->stream_id, claim->consumer};
    lds_redis_reply *reply = NULL;
    lds_status status = run_script(redis, &reply, err, SCRIPT_HEARTBEAT, 1, keys, 2, args, NULL);
    if (status == LDS_OK && owned)
        *owned = reply->integer == 1;
    lds_redis_reply_free(reply);
    return status;
}

lds_status lds_queue_ack(lds_redis *redis, const lds_job_claim *claim, lds_error *err)
{
    const char *keys[2] = {stream_key(claim->job.priority), KEY_STATS};
    const char *args[1] = {claim->stream_id};
    return run_script(redis, NULL, err, SCRIPT_ACK, 2, keys, 1, args, NULL);
}

lds_status lds_queue_fail(lds_redis *redis, const lds_queue_config *config, const lds_job_claim *claim,
                          const lds_error *error, int permanent, int *dead, int64_t *retry_ms, lds_error *err)
{
    lds_job next = claim->job;
    next.attempt = claim->job.attempt + 1;
    snprintf(next.last_error_code, sizeof(next.last_error_code), "%s", lds_status_name(error->code));
    snprintf(next.last_error, sizeof(next.last_error), "%s", error->message);
    int to_dead = permanent || next.attempt >= config->max_attempts;
    int64_t delay = config->backoff_ms;
    for (unsigned i = 1; i < next.attempt && delay < config->backoff_max_ms; i++)
        delay *= 2;
    if (delay > config->backoff_max_ms)
        delay = config->backoff_max_ms;
    unsigned char *payload = NULL;
    size_t size = 0;
    lds_status status = job_encode(&next, &payload, &size, err);
    if (status != LDS_OK)
        return status;
    unsigned char *member = malloc(size + 2);
    if (member == NULL) {
        free(payload);
        return lds_error_set(err, LDS_ENOMEM, "queue: out of memory");
    }
    member[0] = next.priority == LDS_QUEUE_LOW ? '1' : '0';
    member[1] = ':';
    memcpy(member + 2, payload, size);
    char due[24], now[24];
    int64_t t = lds_wall_ms();
    snprintf(due, sizeof(due), "%lld", (long long)(t + delay));
    snprintf(now, sizeof(now), "%lld", (long long)t);
    const char *keys[4] = {stream_key(claim->job.priority), KEY_DELAYED, KEY_DEAD, KEY_STATS};
    const char *args[11] = {claim->stream_id, claim->consumer, to_dead ? "dead" : "retry", due, (const char *)member,
                            (const char *)payload, next.last_error_code, next.last_error, next.asset_id, next.id, now};
    size_t lens[11] = {(size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1, size + 2, size, (size_t)-1, (size_t)-1,
                       (size_t)-1, (size_t)-1, (size_t)-1};
    lds_redis_reply *reply = NULL;
    status = run_script(redis, &reply, err, SCRIPT_FAIL, 4, keys, 11, args, lens);
    if (status == LDS_OK && reply->integer == 0)
        lds_log_warn("queue: job %s was taken over by another worker; its failure is not recorded", claim->job.id);
    lds_redis_reply_free(reply);
    free(member);
    free(payload);
    if (dead)
        *dead = to_dead;
    if (retry_ms)
        *retry_ms = to_dead ? -1 : delay;
    return status;
}

lds_status lds_queue_release(lds_redis *redis, const lds_job_claim *claim, lds_error *err)
{
    unsigned char *payload = NULL;
    size_t size = 0;
    lds_status status = job_encode(&claim->job, &payload, &size, err);
    if (status != LDS_OK)
        return status;
    const char *keys[2] = {stream_key(claim->job.priority), KEY_STATS};
    const char *args[3] = {claim->stream_id, claim->consumer, (const char *)payload};
    size_t lens[3] = {(size_t)-1, (size_t)-1, size};
    status = run_script(redis, NULL, err, SCRIPT_RELEASE, 2, keys, 3, args, lens);
    free(payload);
    return status;
}

lds_status lds_queue_promote(lds_redis *redis, size_t *moved, lds_error *err)
{
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)lds_wall_ms());
    const char *keys[3] = {KEY_DELAYED, KEY_HIGH, KEY_LOW};
    const char *args[2] = {now, "100"};
    lds_redis_reply *reply = NULL;
    lds_status status = run_script(redis, &reply, err, SCRIPT_PROMOTE, 3, keys, 2, args, NULL);
    if (moved)
        *moved = status == LDS_OK ? (size_t)reply->integer : 0;
    lds_redis_reply_free(reply);
    return status;
}

/* ---- ops: stats and dead letters ---- */

static long long command_integer(lds_redis *redis, lds_status *status, lds_error *err, const char *fmt, const char *key)
{
    if (*status != LDS_OK)
        return 0;
    lds_redis_reply *reply = NULL;
    *status = lds_redis_command(redis, &reply, err, fmt, key);
    long long value = *status == LDS_OK && reply->type == LDS_REDIS_INTEGER ? reply->integer : 0;
    lds_redis_reply_free(reply);
    return value;
}

lds_status lds_queue_stats(lds_redis *redis, json_t **stats, lds_error *err)
{
    *stats = NULL;
    lds_status status = lds_queue_setup(redis, err);
    json_t *out = json_object(), *streams = json_object(), *in_flight = json_array(), *counters = json_object();
    json_t *consumers = json_object();
    json_object_set_new(out, "streams", streams);
    long long total_flight = 0;
    for (int p = 0; p < 2 && status == LDS_OK; p++) {
        const char *key = stream_key((lds_queue_priority)p);
        long long length = command_integer(redis, &status, err, "XLEN %s", key);
        lds_redis_reply *pending = NULL;
        if (status == LDS_OK)
            status = lds_redis_command(redis, &pending, err, "XPENDING %s " GROUP " - + 100", key);
        long long flight = 0;
        if (status == LDS_OK && pending->type == LDS_REDIS_ARRAY) {
            for (size_t i = 0; i < pending->elements; i++) {
                const lds_redis_reply *e = &pending->element[i];
                if (e->elements < 4)
                    continue;
                flight++;
                json_t *item = json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", e->element[0].str, "priority",
                                         p ? "low" : "high", "consumer", e->element[1].str, "idle_ms",
                                         (json_int_t)e->element[2].integer, "deliveries",
                                         (json_int_t)e->element[3].integer);
                json_object_set_new(consumers, e->element[1].str, json_true());
                lds_redis_reply *entry = NULL;
                if (lds_redis_command(redis, &entry, NULL, "XRANGE %s %s %s", key, e->element[0].str,
                                      e->element[0].str) == LDS_OK &&
                    entry->type == LDS_REDIS_ARRAY && entry->elements == 1) {
                    lds_job_claim c;
                    memset(&c, 0, sizeof(c));
                    if (claim_from_entry(&entry->element[0], (lds_queue_priority)p, &c, NULL) == LDS_OK) {
                        json_object_set_new(item, "job", json_string(c.job.id));
                        json_object_set_new(item, "asset", json_string(c.job.asset_id));
                        json_object_set_new(item, "attempt", json_integer(c.job.attempt));
                    }
                }
                lds_redis_reply_free(entry);
                json_array_append_new(in_flight, item);
            }
        }
        /* XPENDING with a range stops at 100; the summary form counts them all. */
        lds_redis_reply_free(pending);
        pending = NULL;
        if (status == LDS_OK && lds_redis_command(redis, &pending, NULL, "XPENDING %s " GROUP, key) == LDS_OK &&
            pending->type == LDS_REDIS_ARRAY && pending->elements >= 1)
            flight = pending->element[0].integer;
        lds_redis_reply_free(pending);
        total_flight += flight;
        json_object_set_new(streams, p ? "low" : "high",
                            json_pack("{s:I, s:I}", "depth", (json_int_t)(length - flight), "in_flight",
                                      (json_int_t)flight));
    }
    long long delayed = command_integer(redis, &status, err, "ZCARD %s", KEY_DELAYED);
    long long dead = command_integer(redis, &status, err, "XLEN %s", KEY_DEAD);
    lds_redis_reply *hash = NULL;
    if (status == LDS_OK)
        status = lds_redis_command(redis, &hash, err, "HGETALL %s", KEY_STATS);
    if (status == LDS_OK && hash->type == LDS_REDIS_ARRAY)
        for (size_t i = 0; i + 1 < hash->elements; i += 2)
            json_object_set_new(counters, hash->element[i].str, json_integer(atoll(hash->element[i + 1].str)));
    lds_redis_reply_free(hash);
    hash = NULL;
    json_t *durations = json_object();
    if (status == LDS_OK)
        status = lds_redis_command(redis, &hash, err, "HGETALL %s", KEY_DURATIONS);
    if (status == LDS_OK && hash->type == LDS_REDIS_ARRAY)
        for (size_t i = 0; i + 1 < hash->elements; i += 2) {
            /* fields "<stage>:sum" and "<stage>:count" */
            const char *field = hash->element[i].str, *colon = field ? strrchr(field, ':') : NULL;
            if (colon == NULL)
                continue;
            char stage[64];
            snprintf(stage, sizeof(stage), "%.*s", (int)(colon - field), field);
            json_t *entry = json_object_get(durations, stage);
            if (entry == NULL) {
                entry = json_pack("{s:f, s:I}", "sum_ms", 0.0, "count", (json_int_t)0);
                json_object_set_new(durations, stage, entry);
            }
            if (strcmp(colon + 1, "sum") == 0)
                json_object_set_new(entry, "sum_ms", json_real(atof(hash->element[i + 1].str)));
            else
                json_object_set_new(entry, "count", json_integer(atoll(hash->element[i + 1].str)));
        }
    lds_redis_reply_free(hash);
    json_object_set_new(out, "durations", durations);
    json_object_set_new(out, "in_flight_total", json_integer(total_flight));
    json_object_set_new(out, "delayed", json_integer(delayed));
    json_object_set_new(out, "dead", json_integer(dead));
    json_object_set_new(out, "consumers_busy", json_integer((json_int_t)json_object_size(consumers)));
    json_object_set_new(out, "counters", counters);
    json_object_set_new(out, "in_flight", in_flight);
    json_decref(consumers);
    if (status != LDS_OK) {
        json_decref(out);
        return status;
    }
    *stats = out;
    return LDS_OK;
}

/* Calls fn on each dead letter (up to DEAD_SCAN_MAX) whose entry id or job id is id (all: NULL). */
typedef lds_status (*dead_fn)(lds_redis *redis, const char *dead_id, const lds_job *job, lds_error *err);

static lds_status dead_each(lds_redis *redis, const char *id, dead_fn fn, size_t *count, lds_error *err)
{
    if (count)
        *count = 0;
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(redis, &reply, err, "XRANGE " KEY_DEAD " - + COUNT %d", DEAD_SCAN_MAX);
    if (status != LDS_OK)
        return status;
    size_t done = 0;
    for (size_t i = 0; i < reply->elements && status == LDS_OK; i++) {
        const lds_redis_reply *entry = &reply->element[i];
        if (entry->elements < 2 || entry->element[0].str == NULL)
            continue;
        const lds_redis_reply *payload = field_of(&entry->element[1], "job");
        lds_job job;
        if (payload == NULL || job_decode(payload->str, payload->len, &job, NULL) != LDS_OK)
            memset(&job, 0, sizeof(job));
        if (id && strcmp(id, entry->element[0].str) != 0 && strcmp(id, job.id) != 0)
            continue;
        status = fn(redis, entry->element[0].str, payload ? &job : NULL, err);
        if (status == LDS_OK)
            done++;
    }
    lds_redis_reply_free(reply);
    if (count)
        *count = done;
    if (status == LDS_OK && id && done == 0)
        return lds_error_set(err, LDS_ENOENT, "dead letter %s: no such entry or job", id);
    return status;
}

static lds_status dead_retry_one(lds_redis *redis, const char *dead_id, const lds_job *job_in, lds_error *err)
{
    if (job_in == NULL)
        return lds_error_set(err, LDS_EFORMAT, "dead letter %s: no readable job to retry", dead_id);
    lds_job job = *job_in;
    job.attempt = 0;
    job.enqueued_ms = lds_wall_ms();
    unsigned char *payload = NULL;
    size_t size = 0;
    lds_status status = job_encode(&job, &payload, &size, err);
    if (status != LDS_OK)
        return status;
    const char *keys[2] = {KEY_DEAD, stream_key(job.priority)};
    const char *args[2] = {dead_id, (const char *)payload};
    size_t lens[2] = {(size_t)-1, size};
    status = run_script(redis, NULL, err, SCRIPT_DEAD_RETRY, 2, keys, 2, args, lens);
    free(payload);
    if (status == LDS_OK && job.kind == LDS_JOB_UPLOAD)
        lds_assets_set_status(redis, job.asset_id, "queued", NULL, NULL);
    return status;
}

static lds_status dead_drop_one(lds_redis *redis, const char *dead_id, const lds_job *job, lds_error *err)
{
    return lds_redis_command(redis, NULL, err, "XDEL " KEY_DEAD " %s", dead_id);
}

lds_status lds_queue_dead_retry(lds_redis *redis, const char *id, size_t *count, lds_error *err)
{
    lds_status status = lds_queue_setup(redis, err);
    return status == LDS_OK ? dead_each(redis, id, dead_retry_one, count, err) : status;
}

lds_status lds_queue_dead_drop(lds_redis *redis, const char *id, size_t *count, lds_error *err)
{
    return dead_each(redis, id, dead_drop_one, count, err);
}

lds_status lds_queue_dead_list(lds_redis *redis, size_t limit, json_t **list, lds_error *err)
{
    *list = NULL;
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(redis, &reply, err, "XRANGE " KEY_DEAD " - + COUNT %lld",
                                          (long long)(limit ? limit : DEAD_SCAN_MAX));
    if (status != LDS_OK)
        return status;
    json_t *out = json_array();
    for (size_t i = 0; i < reply->elements; i++) {
        const lds_redis_reply *entry = &reply->element[i];
        if (entry->elements < 2 || entry->element[0].str == NULL)
            continue;
        const lds_redis_reply *fields = &entry->element[1], *v;
        lds_job job;
        memset(&job, 0, sizeof(job));
        if ((v = field_of(fields, "job")) != NULL)
            job_decode(v->str, v->len, &job, NULL);
        const lds_redis_reply *code = field_of(fields, "code"), *message = field_of(fields, "message"),
                              *failed = field_of(fields, "failed_at");
        json_array_append_new(
            out, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:I}", "id", entry->element[0].str, "job", job.id,
                           "asset", job.asset_id, "kind", job.kind == LDS_JOB_REPROCESS ? "reprocess" : "upload",
                           "attempts", (int)job.attempt, "code", code && code->str ? code->str : "", "message",
                           message && message->str ? message->str : "", "failed_at",
                           (json_int_t)(failed && failed->str ? atoll(failed->str) : 0)));
    }
    lds_redis_reply_free(reply);
    *list = out;
    return LDS_OK;
}

/* ---- metrics and housekeeping ---- */

lds_status lds_queue_record_durations(lds_redis *redis, json_t *timings_ms, double job_ms, lds_error *err)
{
    lds_status status = lds_redis_command(redis, NULL, err, "HINCRBYFLOAT " KEY_DURATIONS " job:sum %.3f", job_ms);
    if (status == LDS_OK)
        status = lds_redis_command(redis, NULL, err, "HINCRBY " KEY_DURATIONS " job:count 1");
    const char *stage;
    json_t *value;
    json_object_foreach(timings_ms, stage, value)
    {
        if (status != LDS_OK || !json_is_number(value) || strlen(stage) > 48 || strchr(stage, ':'))
            continue;
        status = lds_redis_command(redis, NULL, err, "HINCRBYFLOAT " KEY_DURATIONS " %s:sum %.3f", stage,
                                   json_number_value(value));
        if (status == LDS_OK)
            status = lds_redis_command(redis, NULL, err, "HINCRBY " KEY_DURATIONS " %s:count 1", stage);
    }
    return status;
}

lds_status lds_queue_prune_consumers(lds_redis *redis, int64_t idle_ms, size_t *removed, lds_error *err)
{
    if (removed)
        *removed = 0;
    const char *keys[2] = {KEY_HIGH, KEY_LOW};
    lds_status status = LDS_OK;
    for (int k = 0; k < 2 && status == LDS_OK; k++) {
        lds_redis_reply *reply = NULL;
        status = lds_redis_command(redis, &reply, err, "XINFO CONSUMERS %s " GROUP, keys[k]);
        if (status != LDS_OK)
            break;
        for (size_t i = 0; i < reply->elements && status == LDS_OK; i++) {
            const lds_redis_reply *c = &reply->element[i];
            const lds_redis_reply *name = field_of(c, "name"), *pending = field_of(c, "pending"),
                                  *idle = field_of(c, "idle");
            if (!name || !name->str || !pending || !idle)
                continue;
            /* The PEL check and the delete are one script: a consumer that claimed meanwhile stays. */
            if (pending->integer == 0 && idle->integer >= idle_ms) {
                static const char *const script =
                    "for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], 'workers')) do\n"
                    "  if c[2] == ARGV[1] and c[4] == 0 then\n"
                    "    return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], 'workers', ARGV[1])\n"
                    "  end\n"
                    "end\n"
                    "return -1\n";
                lds_redis_reply *gone = NULL;
                status = lds_redis_command(redis, &gone, err, "EVAL %s 1 %s %s", script, keys[k], name->str);
                if (status == LDS_OK && gone->type == LDS_REDIS_INTEGER && gone->integer >= 0 && removed)
                    (*removed)++;
                lds_redis_reply_free(gone);
            }
        }
        lds_redis_reply_free(reply);
    }
    return status;
}
