/*
 * deposits.c: archive deposits over HTTP (issue 5; DESIGN.md 6.6, proto/openapi.yaml).
 *
 *   POST /v1/deposits?filename=NAME   raw archive body (partner or ops keys), streamed to a temp
 *                                     file under the upload cap by routes.c's body handling; the
 *                                     archive is walked up front (lds_deposit_create): refused
 *                                     archives get 413 (a limit) or 422 (hostile member, not an
 *                                     archive, no model), accepted ones 202 {"deposit": {"id",
 *                                     "items"}} once every item's record and job are durable.
 *   GET /v1/deposits/{id}             {"status", "items": [{"file", "asset", "status", "error"}],
 *                                     "error", ...}: the depositor's key or ops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api_internal.h"
#include "ingest.h"

static const char *const archive_suffixes[] = {".zip", ".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst", ".7z",
                                               ".tar.xz", ".txz", ".tar.bz2", ".tbz2"};

static int archive_name(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(archive_suffixes) / sizeof(archive_suffixes[0]); i++) {
        size_t k = strlen(archive_suffixes[i]);
        if (n > k && strcasecmp(name + n - k, archive_suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

static int may_deposit(const api_request *req)
{
    return strcmp(req->who.role, "partner") == 0 || strcmp(req->who.role, "ops") == 0;
}

enum MHD_Result api_deposit_body_begin(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!may_deposit(req))
        return api_defer_error(c, req, 403, "forbidden", "only partner and ops keys may deposit archives");
    const char *filename = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filename");
    if (filename == NULL || !archive_name(filename))
        return api_defer_error(c, req, 415, "unsupported_media_type",
                               "a deposit needs ?filename=NAME naming a zip, tar, tar.gz, tar.zst or 7z archive");
    return api_upload_to_temp(api, c, req, filename);
}

/* 202 {"deposit": {"id", "items", "warnings"}} from a summary (stolen). */
static enum MHD_Result respond_deposit(struct MHD_Connection *c, api_request *req, json_t *summary)
{
    json_t *body = json_pack("{s:{s:O,s:O,s:O}}", "deposit", "id", json_object_get(summary, "id"), "items",
                             json_object_get(summary, "items"), "warnings", json_object_get(summary, "warnings"));
    json_decref(summary);
    return api_respond_json(c, req, 202, body);
}

/* The digest an Idempotency-Key is stored with: the archive's name and content. */
static lds_status deposit_digest(const char *filename, const char *path, char hex[LDS_SHA256_HEX], lds_error *err)
{
    unsigned char content[LDS_SHA256_BYTES];
    lds_status st = lds_sha256_file(path, content, NULL, err);
    if (st != LDS_OK)
        return st;
    lds_sha256 ctx;
    lds_sha256_init(&ctx);
    lds_sha256_update(&ctx, "deposit\n", 8);
    lds_sha256_update(&ctx, filename, strlen(filename) + 1);
    lds_sha256_update(&ctx, content, sizeof(content));
    api_digest_hex(&ctx, hex);
    return LDS_OK;
}

/* 1 with the deposit id when this (scoped) key names an earlier deposit. */
static int earlier_deposit(lds_redis *redis, const char *idem, char *id, size_t size)
{
    lds_redis_reply *reply = NULL;
    if (lds_redis_command(redis, &reply, NULL, "HGET " LDS_ASSETS_IDEMPOTENCY_PREFIX "%s deposit", idem) != LDS_OK)
        return 0;
    int found = reply->type == LDS_REDIS_STRING && reply->str && *reply->str;
    if (found)
        snprintf(id, size, "%s", reply->str);
    lds_redis_reply_free(reply);
    return found;
}

enum MHD_Result api_deposit_post(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    const char *filename = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filename");
    if (req->body_fd < 0 || req->body_bytes == 0 || filename == NULL)
        return api_respond_error(c, req, 400, "bad_request", "%s: empty deposit", filename ? filename : "archive");
    lds_error err;
    lds_error_clear(&err);
    lds_limits limits;
    if (lds_limits_from_env(&limits, &err) != LDS_OK)
        lds_log_warn("deposit: %s; using the default", err.message);
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    if (redis == NULL)
        return api_respond_status(c, req, &err);
    lds_deposit_request request;
    lds_deposit_request_init(&request);
    request.archive_path = req->body_path;
    request.name = filename;
    request.blob_root = api->blobs;
    request.scratch_dir = api->tmp;
    request.limits = &limits;
    request.owner_key = req->who.key_id;
    request.owner_account = req->who.name;
    char idem[API_IDEMPOTENCY_MAX], digest[LDS_SHA256_HEX], earlier[LDS_ID_MAX];
    enum MHD_Result ret;
    int has_idem = api_idempotency_key(c, req, idem, &ret);
    if (has_idem < 0)
        return ret;
    if (has_idem) {
        if (deposit_digest(filename, req->body_path, digest, &err) != LDS_OK)
            return api_respond_status(c, req, &err);
        request.idempotency_key = idem;
        request.request_digest = digest;
        if (api_idempotency_conflict(api, idem, digest, earlier, sizeof(earlier)))
            return api_respond_error(c, req, 422, "idempotency_conflict",
                                     "this Idempotency-Key was used for a different deposit (%s)", earlier);
        if (earlier_deposit(redis, idem, earlier, sizeof(earlier))) {
            /* a retry: the same deposit, finished if the first request was cut short */
            json_t *summary = NULL;
            if (lds_deposit_replay(redis, earlier, &summary, &err) != LDS_OK)
                return api_respond_status(c, req, &err);
            return respond_deposit(c, req, summary);
        }
    }
    char id[LDS_ID_MAX];
    json_t *summary = NULL;
    double start = lds_time_ms();
    lds_status st = lds_deposit_create(redis, &request, id, &summary, &err);
    if (st == LDS_EEXIST && has_idem)
        return api_respond_error(c, req, 422, "idempotency_conflict", "%s", err.message);
    if (st != LDS_OK) {
        lds_log_info("deposit %s refused in %.0f ms: %s", filename, lds_time_ms() - start, err.message);
        switch (st) {
        case LDS_EPERM: return api_respond_error(c, req, 422, "refused", "%s", err.message);
        case LDS_EFORMAT:
        case LDS_ETRUNC:
        case LDS_ENOGEOM: return api_respond_error(c, req, 422, "unprocessable", "%s", err.message);
        case LDS_ELIMIT: return api_respond_error(c, req, 413, "too_large", "%s", err.message);
        default: return api_respond_status(c, req, &err);
        }
    }
    return respond_deposit(c, req, summary);
}

enum MHD_Result api_deposit_get(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return api_respond_error(c, req, 401, "unauthorized", "a valid API key is required (Authorization: Bearer)");
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    json_t *deposit = NULL;
    if (redis == NULL || lds_deposit_get(redis, req->id, &deposit, &err) != LDS_OK) {
        if (err.code == LDS_ENOENT)
            return api_respond_error(c, req, 404, "not_found", "no deposit %s", req->id);
        return api_respond_status(c, req, &err);
    }
    const char *owner = json_string_value(json_object_get(deposit, "owner_key"));
    if (strcmp(req->who.role, "ops") != 0 && (owner == NULL || strcmp(owner, req->who.key_id) != 0)) {
        json_decref(deposit);
        return api_respond_error(c, req, 403, "forbidden", "deposit %s: not visible to this key", req->id);
    }
    return api_respond_json(c, req, 200, deposit);
}
