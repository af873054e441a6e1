/* valuation_routes.c: usage events in, valuations out (DESIGN.md 6.6; valuation/ and
 * ingest/valuation_store.c do the work).
 *
 *   POST /v1/events                 a JSON array of {"asset", "type", "price", "currency", "at", "id"}
 *                                   -> 202 {"accepted": n, "duplicates": d}. Every event is checked
 *                                   before any is kept: the first bad one is a 400 naming its index
 *                                   and field, and nothing of the request is kept. Studios send their
 *                                   own views, downloads and purchases of assets they can see; ops
 *                                   send anything (imports, favourites from the storefront).
 *   GET /v1/assets/{id}/valuation   the latest valuation as stored by the aggregator (the same bytes
 *                                   until an event or a refit changes it); 409 before the first score.
 */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "ingest.h"
#include "valuation.h"

#define EVENTS_MAX 1000

static enum MHD_Result refuse(struct MHD_Connection *c, api_request *req, unsigned status, const char *code,
                              size_t index, const char *field, const char *message)
{
    json_t *body = json_pack("{s:{s:s,s:s,s:I,s:s}}", "error", "code", code, "message", message, "index",
                             (json_int_t)index, "field", field);
    return api_respond_json(c, req, status, body);
}

/* Checks that each event's asset exists (and, for studios, is visible: ready). */
static enum MHD_Result check_assets(lds_api *api, struct MHD_Connection *c, api_request *req,
                                    const lds_valuation_event *events, size_t count, int *ok)
{
    *ok = 0;
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    if (redis == NULL)
        return api_respond_status(c, req, &err);
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && strcmp(events[i].asset, events[i - 1].asset) == 0)
            continue;
        lds_redis_reply *reply = NULL;
        if (lds_redis_command(redis, &reply, &err, "HMGET lds:asset:%s status owner_key", events[i].asset) != LDS_OK)
            return api_respond_status(c, req, &err);
        const char *status = reply->type == LDS_REDIS_ARRAY && reply->elements == 2 ? reply->element[0].str : NULL;
        const char *owner = status ? reply->element[1].str : NULL;
        char message[300];
        enum MHD_Result ret = MHD_YES;
        int bad = 0;
        if (status == NULL) {
            snprintf(message, sizeof(message), "event %zu: field asset: no asset %.128s", i, events[i].asset);
            ret = refuse(c, req, 400, "bad_request", i, "asset", message);
            bad = 1;
        } else if (!api_asset_visible(req, owner, status)) {
            snprintf(message, sizeof(message), "event %zu: field asset: asset %.128s is not visible to this key", i,
                     events[i].asset);
            ret = refuse(c, req, 403, "forbidden", i, "asset", message);
            bad = 1;
        }
        lds_redis_reply_free(reply);
        if (bad)
            return ret;
    }
    *ok = 1;
    return MHD_YES;
}

enum MHD_Result api_post_events(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return api_respond_error(c, req, 401, "unauthorized", "a valid API key is required (Authorization: Bearer)");
    int ops = strcmp(req->who.role, "ops") == 0, studio = strcmp(req->who.role, "studio") == 0;
    if (!ops && !studio)
        return api_respond_error(c, req, 403, "forbidden", "usage events come from studio or ops keys");
    json_error_t jerr;
    json_t *body = req->body.size ? json_loadb((const char *)req->body.data, req->body.size, 0, &jerr) : NULL;
    if (!json_is_array(body)) {
        json_decref(body);
        return api_respond_error(c, req, 400, "bad_request", "body: expected a JSON array of events");
    }
    size_t count = json_array_size(body);
    if (count > EVENTS_MAX) {
        json_decref(body);
        return api_respond_error(c, req, 413, "too_large", "body: at most %d events per request", EVENTS_MAX);
    }
    lds_valuation_event *events = calloc(count ? count : 1, sizeof(*events));
    if (events == NULL) {
        json_decref(body);
        return api_respond_error(c, req, 503, "unavailable", "out of memory");
    }
    int64_t now = lds_wall_ms();
    enum MHD_Result ret = MHD_YES;
    int ok = 1;
    for (size_t i = 0; i < count && ok; i++) {
        lds_error err;
        lds_error_clear(&err);
        const char *field;
        if (lds_valuation_event_parse(json_array_get(body, i), i, now, &events[i], &field, &err) != LDS_OK) {
            ret = refuse(c, req, 400, "bad_request", i, field, err.message);
            ok = 0;
        } else if (studio && events[i].type == LDS_VALUATION_FAVORITE) {
            ret = refuse(c, req, 403, "forbidden", i, "type",
                         "studio keys send their own views, downloads and purchases; favourites come from ops");
            ok = 0;
        }
    }
    json_decref(body);
    if (ok)
        ret = check_assets(api, c, req, events, count, &ok);
    if (ok) {
        lds_error err;
        lds_error_clear(&err);
        size_t accepted = 0, duplicates = 0;
        lds_redis *redis = api_redis(api, &err);
        if (redis == NULL ||
            lds_valuation_events_submit(redis, req->who.name, events, count, &accepted, &duplicates, &err) != LDS_OK)
            ret = api_respond_status(c, req, &err);
        else
            ret = api_respond_json(c, req, 202, json_pack("{s:I,s:I}", "accepted", (json_int_t)accepted, "duplicates",
                                                          (json_int_t)duplicates));
    }
    free(events);
    return ret;
}

enum MHD_Result api_get_valuation(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    json_t *record;
    enum MHD_Result ret;
    if (api_load_record(api, c, req, &record, &ret) != MHD_YES)
        return ret;
    const char *status = json_string_value(json_object_get(record, "status"));
    char status_copy[32];
    snprintf(status_copy, sizeof(status_copy), "%s", status ? status : "unknown");
    json_decref(record);
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    lds_redis_reply *reply = NULL;
    if (redis == NULL || lds_redis_command(redis, &reply, &err, "HGET lds:asset:%s valuation", req->id) != LDS_OK)
        return api_respond_status(c, req, &err);
    if (reply->type != LDS_REDIS_STRING) {
        lds_redis_reply_free(reply);
        return api_respond_error(c, req, 409, "not_ready", "asset %s is %s: it has no valuation yet", req->id,
                                 status_copy);
    }
    ret = api_respond_text(c, req, 200, "application/json", reply->str, reply->len);
    lds_redis_reply_free(reply);
    return ret;
}
