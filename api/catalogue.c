/*
 * catalogue.c: the buyer's side of API v1 (issue 12, DESIGN.md 6.7): the catalogue
 * (GET /v1/assets), licences (GET/POST /v1/assets/{id}/licenses) and the entitlement rule of
 * full LODs, lineage (GET /v1/assets/{id}/lineage), theme collections (/v1/collections) and the
 * demo catalogue page (GET /catalogue). The index itself is ingest/catalogue.c.
 *
 * Who sees what in the catalogue follows the asset rule of routes.c: ops and studios every
 * listed (ready) asset, modelers and partners their own account's.
 */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "ingest.h"

#define COLLECTION_ASSETS_MAX 500
#define COLLECTIONS_LIST_MAX 200

static int is_role(const api_request *req, const char *role)
{
    return strcmp(req->who.role, role) == 0;
}

static const char *arg(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result unauthorized(struct MHD_Connection *c, api_request *req)
{
    return api_respond_error(c, req, 401, "unauthorized", "a valid API key is required (Authorization: Bearer)");
}

/* Whether the caller sees an indexed catalogue item (doc from lds_catalogue_items). */
static int item_visible(const api_request *req, json_t *doc)
{
    if (!json_is_object(doc))
        return 0;
    if (is_role(req, "ops") || is_role(req, "studio"))
        return 1;
    const char *owner = json_string_value(json_object_get(doc, "owner"));
    return owner && strcmp(owner, req->who.name) == 0;
}

/* Parses a non-negative integer argument; 0 when malformed. */
static int integer_arg(const char *text, long long max, long long *out)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == 0 || *end || v < 0 || v > max)
        return 0;
    *out = v;
    return 1;
}

static enum MHD_Result get_catalogue(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return unauthorized(c, req);
    lds_catalogue_query_args q = {0};
    q.text = arg(c, "q");
    q.category = arg(c, "category");
    q.tag = arg(c, "tag");
    q.license = arg(c, "license");
    q.owner = arg(c, "owner");
    q.sort = arg(c, "sort");
    q.cursor = arg(c, "cursor");
    q.max_triangles = -1;
    long long v;
    const char *text = arg(c, "limit");
    if (text) {
        if (!integer_arg(text, 100, &v) || v == 0)
            return api_respond_error(c, req, 400, "bad_request", "limit '%.40s': expected 1 to 100", text);
        q.limit = (size_t)v;
    }
    if ((text = arg(c, "max_triangles")) != NULL) {
        if (!integer_arg(text, 1LL << 40, &v))
            return api_respond_error(c, req, 400, "bad_request", "max_triangles '%.40s': expected a count", text);
        q.max_triangles = v;
    }
    if (!is_role(req, "ops") && !is_role(req, "studio"))
        q.only_owner = req->who.name;
    lds_error err;
    lds_error_clear(&err);
    json_t *result = NULL;
    lds_redis *redis = api_redis(api, &err);
    lds_status st = redis ? lds_catalogue_query(redis, &q, &result, &err) : err.code;
    if (st == LDS_EINVAL)
        return api_respond_error(c, req, 400, "bad_request", "%s", err.message);
    if (st != LDS_OK)
        return api_respond_status(c, req, &err);
    return api_respond_json(c, req, 200, result);
}

/* ---- licences ---- */

/* Whether the caller owns the asset of record (its account, or the key that uploaded it). */
static int owns(const api_request *req, json_t *record)
{
    const char *account = json_string_value(json_object_get(record, "account"));
    const char *key = json_string_value(json_object_get(record, "owner_key"));
    return (account && *account && strcmp(account, req->who.name) == 0) ||
           (key && *key && strcmp(key, req->who.key_id) == 0);
}

static enum MHD_Result post_license(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return unauthorized(c, req);
    if (!is_role(req, "ops"))
        return api_respond_error(c, req, 403, "forbidden", "granting licences needs an ops key");
    json_t *record;
    enum MHD_Result ret;
    if (api_load_record(api, c, req, &record, &ret) != MHD_YES)
        return ret;
    json_decref(record);
    json_error_t jerr;
    json_t *body = json_loadb(req->body.data ? (const char *)req->body.data : "", req->body.size, 0, &jerr);
    json_t *expires = json_object_get(body, "expires");
    if (!json_is_object(body) || !json_is_string(json_object_get(body, "holder")) ||
        !json_is_string(json_object_get(body, "tier")) || (expires && !json_is_string(expires) && !json_is_null(expires))) {
        json_decref(body);
        return api_respond_error(c, req, 400, "bad_request",
                                 "body: expected {\"holder\": ACCOUNT, \"tier\": \"editorial|standard|enterprise\", "
                                 "\"expires\"?: RFC 3339}");
    }
    lds_error err;
    lds_error_clear(&err);
    json_t *license = NULL;
    lds_redis *redis = api_redis(api, &err);
    lds_status st = redis ? lds_license_grant(redis, req->id, json_string_value(json_object_get(body, "holder")),
                                              json_string_value(json_object_get(body, "tier")),
                                              json_string_value(expires), req->who.name, &license, &err)
                          : err.code;
    json_decref(body);
    if (st == LDS_EINVAL)
        return api_respond_error(c, req, 400, "bad_request", "%s", err.message);
    if (st != LDS_OK)
        return api_respond_status(c, req, &err);
    return api_respond_json(c, req, 201, license);
}

static enum MHD_Result get_licenses(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    json_t *record;
    enum MHD_Result ret;
    if (api_load_record(api, c, req, &record, &ret) != MHD_YES)
        return ret;
    /* ops and the owner see every licence of the asset, others only their own */
    const char *holder = is_role(req, "ops") || owns(req, record) ? NULL : req->who.name;
    json_decref(record);
    lds_error err;
    lds_error_clear(&err);
    json_t *licenses = NULL;
    lds_redis *redis = api_redis(api, &err);
    if (redis == NULL || lds_license_list(redis, req->id, holder, &licenses, &err) != LDS_OK)
        return api_respond_status(c, req, &err);
    return api_respond_json(c, req, 200, json_pack("{s:s,s:o}", "asset", req->id, "licenses", licenses));
}

int api_lod_denied(lds_api *api, struct MHD_Connection *c, api_request *req, enum MHD_Result *ret)
{
    if (!req->who.authenticated || !is_role(req, "studio"))
        return 0; /* the visibility rule decides (others see only their own, ops everything) */
    static const char *const fields[] = {"status", "owner_key", "account", "metadata"};
    lds_error err;
    lds_error_clear(&err);
    json_t *record = NULL;
    lds_redis *redis = api_redis(api, &err);
    lds_status st = redis ? lds_assets_get_fields(redis, req->id, fields, 4, &record, &err) : err.code;
    if (st == LDS_ENOENT)
        return 0; /* answered as not found */
    if (st != LDS_OK) {
        *ret = api_respond_status(c, req, &err);
        return 1;
    }
    const char *text = json_string_value(json_object_get(json_object_get(record, "metadata"), "license"));
    int covered = lds_catalogue_license_open(text) || owns(req, record);
    char license[64] = "";
    if (text)
        snprintf(license, sizeof(license), "%s", text);
    json_decref(record);
    if (!covered && lds_license_covers(redis, req->id, req->who.name, &covered, &err) != LDS_OK) {
        *ret = api_respond_status(c, req, &err);
        return 1;
    }
    if (covered)
        return 0;
    *ret = api_respond_error(c, req, 403, "license_required",
                             "asset %s: full LODs need a licence for account %s (its licence %s is not open); "
                             "POST /v1/assets/%s/preview shows it",
                             req->id, req->who.name, license[0] ? license : "is unspecified and", req->id);
    return 1;
}

/* ---- lineage ---- */

/* [{"asset", "title", "log_index"}] of ids the caller sees; others keep only their log index. */
static json_t *lineage_entries(lds_redis *redis, const api_request *req, json_t *ids, json_t *log_indices,
                               lds_error *err)
{
    size_t n = json_array_size(ids);
    const char **list = calloc(n + 1, sizeof(*list));
    json_t *items = NULL, *out = json_array();
    for (size_t i = 0; list && i < n; i++)
        list[i] = json_string_value(json_array_get(ids, i)) ? json_string_value(json_array_get(ids, i)) : "";
    if (list == NULL || lds_catalogue_items(redis, list, n, &items, err) != LDS_OK) {
        free(list);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *doc = json_array_get(items, i);
        json_t *index = log_indices ? json_array_get(log_indices, i) : json_object_get(doc, "log_index");
        int visible = item_visible(req, doc);
        json_array_append_new(out, json_pack("{s:o,s:o,s:O}", "asset", visible ? json_string(list[i]) : json_null(),
                                             "title", visible && json_object_get(doc, "title")
                                                          ? json_deep_copy(json_object_get(doc, "title"))
                                                          : json_null(),
                                             "log_index", index ? index : json_null()));
    }
    free(list);
    json_decref(items);
    return out;
}

static enum MHD_Result get_lineage(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    json_t *record;
    enum MHD_Result ret;
    if (api_load_record(api, c, req, &record, &ret) != MHD_YES)
        return ret;
    json_decref(record);
    lds_error err;
    lds_error_clear(&err);
    json_t *parents = NULL, *derivatives = NULL;
    lds_redis *redis = api_redis(api, &err);
    if (redis == NULL || lds_catalogue_lineage(redis, req->id, &parents, &derivatives, &err) != LDS_OK)
        return api_respond_status(c, req, &err);
    json_t *parent_ids = json_array(), *parent_indices = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(parents, i, p)
    {
        json_array_append(parent_ids, json_object_get(p, "asset"));
        json_array_append(parent_indices, json_object_get(p, "log_index"));
    }
    json_t *parent_out = lineage_entries(redis, req, parent_ids, parent_indices, &err);
    json_t *derived_out = parent_out ? lineage_entries(redis, req, derivatives, NULL, &err) : NULL;
    json_decref(parents);
    json_decref(derivatives);
    json_decref(parent_ids);
    json_decref(parent_indices);
    if (derived_out == NULL) {
        json_decref(parent_out);
        return api_respond_status(c, req, &err);
    }
    return api_respond_json(c, req, 200,
                            json_pack("{s:s,s:o,s:o}", "asset", req->id, "parents", parent_out, "derivatives",
                                      derived_out));
}

/* ---- collections ---- */

/* Checks a collection body: a title, an optional description, 1..COLLECTION_ASSETS_MAX distinct
 * asset ids of the catalogue that the creator sees. 0 with the response queued otherwise. */
static int collection_body_ok(lds_redis *redis, struct MHD_Connection *c, api_request *req, json_t *body,
                              enum MHD_Result *ret)
{
    json_t *assets = json_object_get(body, "assets"), *description = json_object_get(body, "description");
    const char *title = json_string_value(json_object_get(body, "title"));
    if (!json_is_object(body) || title == NULL || *title == 0 || strlen(title) > 200 ||
        (description && !json_is_string(description) && !json_is_null(description)) || !json_is_array(assets) ||
        json_array_size(assets) == 0 || json_array_size(assets) > COLLECTION_ASSETS_MAX) {
        *ret = api_respond_error(c, req, 400, "bad_request",
                                 "body: expected {\"title\": 1-200 bytes, \"description\"?: string, \"assets\": "
                                 "[1 to %d asset ids]}",
                                 COLLECTION_ASSETS_MAX);
        return 0;
    }
    size_t n = json_array_size(assets), i;
    const char **ids = calloc(n, sizeof(*ids));
    json_t *items = NULL, *v;
    lds_error err;
    lds_error_clear(&err);
    json_array_foreach(assets, i, v) if (ids) ids[i] = json_is_string(v) ? json_string_value(v) : NULL;
    for (i = 0; ids && i < n; i++) {
        int duplicate = 0;
        for (size_t j = 0; ids[i] && j < i; j++)
            duplicate |= ids[j] && strcmp(ids[i], ids[j]) == 0;
        if (ids[i] == NULL || *ids[i] == 0 || strlen(ids[i]) >= LDS_ID_MAX || duplicate) {
            *ret = api_respond_error(c, req, 400, "bad_request", "body: assets[%zu] is %s", i,
                                     duplicate ? "given twice" : "not an asset id");
            free(ids);
            return 0;
        }
    }
    if (ids == NULL || lds_catalogue_items(redis, ids, n, &items, &err) != LDS_OK) {
        if (ids == NULL)
            lds_error_set(&err, LDS_ENOMEM, "collection: out of memory");
        *ret = api_respond_status(c, req, &err);
        free(ids);
        return 0;
    }
    int ok = 1;
    for (i = 0; i < n && ok; i++)
        if (!item_visible(req, json_array_get(items, i))) {
            *ret = api_respond_error(c, req, 422, "unknown_asset",
                                     "assets[%zu]: %s is not a catalogue asset this key may list", i, ids[i]);
            ok = 0;
        }
    json_decref(items);
    free(ids);
    return ok;
}

static enum MHD_Result post_collection(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return unauthorized(c, req);
    if (!is_role(req, "partner") && !is_role(req, "ops"))
        return api_respond_error(c, req, 403, "forbidden", "collections are made by partner and ops keys");
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    if (redis == NULL)
        return api_respond_status(c, req, &err);
    json_error_t jerr;
    json_t *body = json_loadb(req->body.data ? (const char *)req->body.data : "", req->body.size, 0, &jerr);
    enum MHD_Result ret;
    if (!collection_body_ok(redis, c, req, body, &ret)) {
        json_decref(body);
        return ret;
    }
    char id[LDS_ID_MAX];
    lds_status st = lds_collection_create(redis, json_string_value(json_object_get(body, "title")),
                                          json_string_value(json_object_get(body, "description")),
                                          json_object_get(body, "assets"), req->who.name, id, &err);
    json_decref(body);
    json_t *collection = NULL;
    if (st == LDS_OK)
        st = lds_collection_get(redis, id, &collection, &err);
    if (st != LDS_OK)
        return api_respond_status(c, req, &err);
    return api_respond_json(c, req, 201, collection);
}

/* Replaces the collection's "assets" by those the caller sees; with_items adds their catalogue
 * items as "items". */
static lds_status collection_filter(lds_redis *redis, const api_request *req, json_t *collection, int with_items,
                                    lds_error *err)
{
    json_t *assets = json_object_get(collection, "assets");
    size_t n = json_array_size(assets);
    const char **ids = calloc(n + 1, sizeof(*ids));
    if (ids == NULL)
        return lds_error_set(err, LDS_ENOMEM, "collection: out of memory");
    for (size_t i = 0; i < n; i++)
        ids[i] = json_string_value(json_array_get(assets, i)) ? json_string_value(json_array_get(assets, i)) : "";
    json_t *items = NULL;
    lds_status st = lds_catalogue_items(redis, ids, n, &items, err);
    if (st == LDS_OK) {
        json_t *visible = json_array(), *visible_items = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *doc = json_array_get(items, i);
            if (!item_visible(req, doc))
                continue;
            json_array_append_new(visible, json_string(ids[i]));
            json_object_del(doc, "description");
            json_object_del(doc, "parents");
            json_object_del(doc, "log_index");
            json_array_append(visible_items, doc);
        }
        json_object_set_new(collection, "assets", visible);
        if (with_items)
            json_object_set_new(collection, "items", visible_items);
        else
            json_decref(visible_items);
    }
    json_decref(items);
    free(ids);
    return st;
}

static enum MHD_Result get_collections(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return unauthorized(c, req);
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    json_t *list = NULL;
    if (redis == NULL || lds_collection_list(redis, COLLECTIONS_LIST_MAX, &list, &err) != LDS_OK)
        return api_respond_status(c, req, &err);
    size_t i;
    json_t *collection;
    json_array_foreach(list, i, collection) if (collection_filter(redis, req, collection, 0, &err) != LDS_OK)
    {
        json_decref(list);
        return api_respond_status(c, req, &err);
    }
    return api_respond_json(c, req, 200, json_pack("{s:o}", "collections", list));
}

static enum MHD_Result get_collection(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    if (!req->who.authenticated)
        return unauthorized(c, req);
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    json_t *collection = NULL;
    lds_status st = redis ? lds_collection_get(redis, req->id, &collection, &err) : err.code;
    if (st == LDS_ENOENT)
        return api_respond_error(c, req, 404, "not_found", "no collection %s", req->id);
    if (st == LDS_OK)
        st = collection_filter(redis, req, collection, 1, &err);
    if (st != LDS_OK) {
        json_decref(collection);
        return api_respond_status(c, req, &err);
    }
    return api_respond_json(c, req, 200, collection);
}

/* ---- the demo page ---- */

extern const char lds_catalogue_page_html[];
extern const size_t lds_catalogue_page_html_size;

static enum MHD_Result get_catalogue_page(struct MHD_Connection *c, api_request *req)
{
    return api_respond_text(c, req, 200, "text/html; charset=utf-8", lds_catalogue_page_html,
                            lds_catalogue_page_html_size);
}

enum MHD_Result api_catalogue_route(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    switch (req->route) {
    case API_ROUTE_CATALOGUE: return get_catalogue(api, c, req);
    case API_ROUTE_CATALOGUE_PAGE: return get_catalogue_page(c, req);
    case API_ROUTE_ASSET_LICENSES_POST: return post_license(api, c, req);
    case API_ROUTE_ASSET_LICENSES_GET: return get_licenses(api, c, req);
    case API_ROUTE_ASSET_LINEAGE: return get_lineage(api, c, req);
    case API_ROUTE_COLLECTIONS_POST: return post_collection(api, c, req);
    case API_ROUTE_COLLECTIONS_GET: return get_collections(api, c, req);
    case API_ROUTE_COLLECTION_GET: return get_collection(api, c, req);
    default: return api_respond_error(c, req, 404, "not_found", "no such route");
    }
}
