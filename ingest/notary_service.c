/* notary_service.c: the notary as a service, the single writer of the transparency log
 * (DESIGN.md 2 and 6.4), and its client.
 *
 * Workers XADD a CertifyRequest (proto/jobs.proto) to lds:{n}:requests and BLPOP the reply list
 * named in it. The notary reads the stream through the group "notary" with one fixed consumer
 * name, so that a restarted notary first re-reads what its predecessor took but never answered
 * (the log dedupes identical statements, so answering twice appends once).
 *
 * Exactly one notary: a lease key (SET NX PX, renewed at a third of its length) whose value carries
 * a fencing token from INCR lds:{n}:fence. Before each append the notary checks, in one script,
 * that the lease still holds its token and renews it; a notary that lost its lease (paused past
 * the expiry) stops appending and closes the log. On one machine the log's own file lock is the
 * last line of defence for the window between that check and the append. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "jobs.pb-c.h"
#include "proto.h"

#define KEY_REQUESTS "lds:{n}:requests"
#define KEY_LEASE "lds:{n}:lease"
#define KEY_FENCE "lds:{n}:fence"
#define REPLY_PREFIX "lds:{n}:reply:"
#define GROUP "notary"
#define CONSUMER "notary"
#define REPLY_TTL_MS 600000
#define STATEMENT_MAX (16u << 20)

void lds_notary_service_options_init(lds_notary_service_options *options)
{
    memset(options, 0, sizeof(*options));
    options->lease_ms = 10000;
    options->lease_ms = (int64_t)lds_setting_ms_or_default("LODESTONE_NOTARY_LEASE_MS");
}

/* KEYS: lease, fence. ARGV: holder, ms. Returns the new fencing token or 0. */
static const char *const SCRIPT_ACQUIRE =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "local t = redis.call('INCR', KEYS[2])\n"
    "redis.call('SET', KEYS[1], ARGV[1] .. '|' .. t, 'PX', tonumber(ARGV[2]))\n"
    "return t\n";

/* KEYS: lease. ARGV: holder|token, ms. Returns 1 while we hold it. */
static const char *const SCRIPT_RENEW =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))\n"
    "return 1\n";

/* KEYS: lease. ARGV: holder|token. */
static const char *const SCRIPT_RELEASE =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
    "return 1\n";

typedef struct service {
    const lds_notary_service_options *options;
    lds_redis *redis;
    lds_notary *notary; /* opened once we hold the lease */
    char holder[160];   /* host:pid:random */
    char lease_value[200];
    long long token;
} service;

static lds_status lease_renew(service *s, int *held, lds_error *err)
{
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(s->redis, &reply, err, "EVAL %s 1 " KEY_LEASE " %s %lld", SCRIPT_RENEW,
                                          s->lease_value, (long long)s->options->lease_ms);
    *held = status == LDS_OK && reply->integer == 1;
    lds_redis_reply_free(reply);
    return status;
}

static lds_status lease_acquire(service *s, int *held, lds_error *err)
{
    lds_redis_reply *reply = NULL;
    lds_status status = lds_redis_command(s->redis, &reply, err, "EVAL %s 2 " KEY_LEASE " " KEY_FENCE " %s %lld",
                                          SCRIPT_ACQUIRE, s->holder, (long long)s->options->lease_ms);
    *held = 0;
    if (status == LDS_OK && reply->integer > 0) {
        s->token = reply->integer;
        snprintf(s->lease_value, sizeof(s->lease_value), "%s|%lld", s->holder, s->token);
        *held = 1;
    }
    lds_redis_reply_free(reply);
    return status;
}

static lds_status certify(service *s, const char *statement, size_t size, char **bundle, uint64_t *index,
                          lds_error *err)
{
    if (s->options->certify)
        return s->options->certify(s->options->certify_ctx, statement, size, bundle, index, err);
    if (s->notary == NULL) {
        lds_status status = lds_notary_open(s->options->home ? s->options->home : lds_home_dir(), &s->notary, err);
        if (status != LDS_OK)
            return status;
    }
    return lds_notary_certify(s->notary, statement, size, bundle, index, err);
}

static lds_status send_reply(service *s, const char *reply_key, const char *request_id, lds_status code,
                             const char *message, const char *bundle, uint64_t index, lds_error *err)
{
    Lds__CertifyReply reply = LDS__CERTIFY_REPLY__INIT;
    reply.request_id = (char *)request_id;
    reply.ok = code == LDS_OK;
    if (bundle) {
        reply.bundle.data = (uint8_t *)bundle;
        reply.bundle.len = strlen(bundle);
    }
    reply.log_index = index;
    reply.error_code = (char *)(code == LDS_OK ? "" : lds_status_name(code));
    reply.error_message = (char *)(message ? message : "");
    size_t size = lds__certify_reply__get_packed_size(&reply);
    uint8_t *data = malloc(size + 1);
    if (data == NULL)
        return lds_error_set(err, LDS_ENOMEM, "notary: out of memory");
    lds__certify_reply__pack(&reply, data);
    lds_status status = lds_redis_command(s->redis, NULL, err, "LPUSH %s %b", reply_key, data, size);
    if (status == LDS_OK)
        status = lds_redis_command(s->redis, NULL, err, "PEXPIRE %s %d", reply_key, REPLY_TTL_MS);
    free(data);
    return status;
}

/* Handles one stream entry. *lost is set when the lease was lost (the entry stays pending). */
static lds_status handle_entry(service *s, const lds_redis_reply *entry, int *lost, lds_error *err)
{
    const char *id = entry->element[0].str;
    const lds_redis_reply *fields = &entry->element[1];
    const lds_redis_reply *payload = NULL;
    for (size_t i = 0; fields->type == LDS_REDIS_ARRAY && i + 1 < fields->elements; i += 2)
        if (fields->element[i].str && strcmp(fields->element[i].str, "req") == 0)
            payload = &fields->element[i + 1];
    Lds__CertifyRequest *req = payload ? lds__certify_request__unpack(NULL, payload->len, (const uint8_t *)payload->str)
                                       : NULL;
    lds_status status = LDS_OK;
    if (req == NULL || req->reply_key == NULL || strncmp(req->reply_key, REPLY_PREFIX, strlen(REPLY_PREFIX)) != 0) {
        lds_log_error("notary: request %s does not parse; dropped", id);
    } else if (req->deadline_ms && req->deadline_ms < lds_wall_ms()) {
        lds_log_warn("notary: request %s expired before it was served (its worker retries)", req->request_id);
    } else if (req->statement.len == 0 || req->statement.len > STATEMENT_MAX) {
        status = send_reply(s, req->reply_key, req->request_id, LDS_EINVAL, "notary: statement empty or too large",
                            NULL, 0, err);
    } else {
        int held = 0;
        status = lease_renew(s, &held, err);
        if (status == LDS_OK && !held) {
            *lost = 1;
            lds__certify_request__free_unpacked(req, NULL);
            return LDS_OK;
        }
        if (status == LDS_OK) {
            char *statement = malloc(req->statement.len + 1);
            char *bundle = NULL;
            uint64_t index = 0;
            lds_error cert_err;
            lds_error_clear(&cert_err);
            lds_status cert_status = LDS_ENOMEM;
            if (statement) {
                memcpy(statement, req->statement.data, req->statement.len);
                statement[req->statement.len] = 0;
                cert_status = certify(s, statement, req->statement.len, &bundle, &index, &cert_err);
            }
            if (cert_status != LDS_OK)
                lds_log_error("notary: request %s: %s", req->request_id, cert_err.message);
            status = send_reply(s, req->reply_key, req->request_id, cert_status, cert_err.message, bundle, index, err);
            free(bundle);
            free(statement);
        }
    }
    if (req)
        lds__certify_request__free_unpacked(req, NULL);
    if (status == LDS_OK) {
        lds_redis_command(s->redis, NULL, NULL, "XACK " KEY_REQUESTS " " GROUP " %s", id);
        lds_redis_command(s->redis, NULL, NULL, "XDEL " KEY_REQUESTS " %s", id);
    }
    return status;
}

/* Serves while the lease holds. Returns LDS_OK when *stop or the lease is lost. */
static lds_status serve_leased(service *s, volatile sig_atomic_t *stop, lds_error *err)
{
    int block_ms = (int)(s->options->lease_ms / 3 > 0 ? s->options->lease_ms / 3 : 1);
    const char *from = "0"; /* first our own pending entries, then new ones */
    while (!*stop) {
        int held = 0;
        lds_status status = lease_renew(s, &held, err);
        if (status != LDS_OK)
            return status;
        if (!held) {
            lds_log_warn("notary: lease lost (token %lld); no more appends", s->token);
            return LDS_OK;
        }
        lds_redis_reply *reply = NULL;
        status = lds_redis_command(s->redis, &reply, err,
                                   "XREADGROUP GROUP " GROUP " " CONSUMER " COUNT 16 BLOCK %d STREAMS " KEY_REQUESTS
                                   " %s",
                                   block_ms, from);
        if (status != LDS_OK)
            return status;
        size_t handled = 0;
        if (reply->type == LDS_REDIS_ARRAY && reply->elements > 0) {
            const lds_redis_reply *entries = &reply->element[0].element[1];
            for (size_t i = 0; i < entries->elements && status == LDS_OK && !*stop; i++) {
                const lds_redis_reply *entry = &entries->element[i];
                if (entry->type != LDS_REDIS_ARRAY || entry->elements < 2 || entry->element[1].type != LDS_REDIS_ARRAY)
                    continue; /* a pending entry deleted meanwhile */
                int lost = 0;
                status = handle_entry(s, entry, &lost, err);
                handled++;
                if (lost) {
                    lds_log_warn("notary: lease lost (token %lld); no more appends", s->token);
                    lds_redis_reply_free(reply);
                    return LDS_OK;
                }
            }
        }
        lds_redis_reply_free(reply);
        if (status != LDS_OK)
            return status;
        /* Alternate: after an idle wait for new entries, look once at our pending ones, which a
         * predecessor under the same consumer name may have taken and left (it lost the lease). */
        if (strcmp(from, "0") == 0)
            from = handled == 0 ? ">" : "0";
        else if (handled == 0)
            from = "0";
    }
    return LDS_OK;
}

lds_status lds_notary_service_run(const lds_notary_service_options *options, volatile sig_atomic_t *stop,
                                  lds_error *err)
{
    service s;
    memset(&s, 0, sizeof(s));
    s.options = options;
    char host[64] = "host", rnd[40];
    gethostname(host, sizeof(host) - 1);
    lds_ingest_new_id("", rnd, sizeof(rnd));
    snprintf(s.holder, sizeof(s.holder), "%s:%d:%.8s", host, (int)getpid(), rnd);
    lds_status status = lds_redis_connect(options->redis_url, &s.redis, err);
    if (status != LDS_OK)
        return status;
    int announced = 0;
    while (!*stop) {
        lds_error inner;
        lds_error_clear(&inner);
        lds_status st = lds_redis_command(s.redis, NULL, &inner, "XGROUP CREATE " KEY_REQUESTS " " GROUP " 0 MKSTREAM");
        if (st == LDS_EUNAVAIL) {
            lds_log_warn("%s; retrying", inner.message);
            lds_sleep_ms(1000);
            continue;
        }
        int held = 0;
        lds_error_clear(&inner);
        st = lease_acquire(&s, &held, &inner);
        if (st != LDS_OK || !held) {
            if (st != LDS_OK)
                lds_log_warn("notary: %s", inner.message);
            else if (!announced++)
                lds_log_info("notary: another notary holds the lease; standing by");
            lds_sleep_ms((long)(options->lease_ms / 3 > 0 ? options->lease_ms / 3 : 1));
            continue;
        }
        lds_log_info("notary %s: lease taken, fencing token %lld", s.holder, s.token);
        lds_error_clear(&inner);
        st = serve_leased(&s, stop, &inner);
        if (st != LDS_OK) {
            lds_log_error("notary: %s", inner.message);
            lds_sleep_ms(500);
        }
        /* Lost, stopped or failed: close the log so that the next holder can lock it. */
        lds_notary_close(s.notary);
        s.notary = NULL;
        if (*stop)
            lds_redis_command(s.redis, NULL, NULL, "EVAL %s 1 " KEY_LEASE " %s", SCRIPT_RELEASE, s.lease_value);
    }
    lds_redis_close(s.redis);
    return status;
}

lds_status lds_notary_request(lds_redis *redis, const char *statement_json, size_t statement_size, int timeout_ms,
                              char **bundle_json, uint64_t *log_index, lds_error *err)
{
    *bundle_json = NULL;
    char request_id[LDS_ID_MAX], reply_key[LDS_ID_MAX + 32];
    lds_ingest_new_id("r_", request_id, sizeof(request_id));
    snprintf(reply_key, sizeof(reply_key), REPLY_PREFIX "%s", request_id);
    Lds__CertifyRequest req = LDS__CERTIFY_REQUEST__INIT;
    req.request_id = request_id;
    req.reply_key = reply_key;
    req.statement.data = (uint8_t *)statement_json;
    req.statement.len = statement_size;
    req.deadline_ms = lds_wall_ms() + timeout_ms;
    size_t size = lds__certify_request__get_packed_size(&req);
    uint8_t *data = malloc(size + 1);
    if (data == NULL)
        return lds_error_set(err, LDS_ENOMEM, "notary request: out of memory");
    lds__certify_request__pack(&req, data);
    lds_status status = lds_redis_command(redis, NULL, err, "XADD " KEY_REQUESTS " * req %b", data, size);
    free(data);
    if (status != LDS_OK)
        return status;
    lds_redis_reply *reply = NULL;
    status = lds_redis_command(redis, &reply, err, "BLPOP %s %.3f", reply_key, timeout_ms / 1000.0);
    if (status != LDS_OK)
        return status;
    if (reply->type != LDS_REDIS_ARRAY || reply->elements != 2) {
        lds_redis_reply_free(reply);
        return lds_error_set(err, LDS_ETIMEOUT, "notary: no certificate within %d ms (is a notary running?)",
                             timeout_ms);
    }
    Lds__CertifyReply *answer =
        lds__certify_reply__unpack(NULL, reply->element[1].len, (const uint8_t *)reply->element[1].str);
    lds_redis_reply_free(reply);
    lds_redis_command(redis, NULL, NULL, "DEL %s", reply_key);
    if (answer == NULL)
        return lds_error_set(err, LDS_EFORMAT, "notary: reply to %s does not parse", request_id);
    if (!answer->ok) {
        lds_status code = LDS_EINTERNAL;
#define LDS_XX_MATCH(c, v, m)                                                                                          \
    if (strcmp(answer->error_code, #c) == 0)                                                                           \
        code = LDS_##c;
        LDS_STATUS_MAP(LDS_XX_MATCH)
#undef LDS_XX_MATCH
        status = lds_error_set(err, code == LDS_OK ? LDS_EINTERNAL : code, "notary: %s", answer->error_message);
    } else {
        *bundle_json = malloc(answer->bundle.len + 1);
        if (*bundle_json == NULL) {
            status = lds_error_set(err, LDS_ENOMEM, "notary: out of memory");
        } else {
            memcpy(*bundle_json, answer->bundle.data, answer->bundle.len);
            (*bundle_json)[answer->bundle.len] = 0;
            if (log_index)
                *log_index = answer->log_index;
        }
    }
    lds__certify_reply__free_unpacked(answer, NULL);
    return status;
}
