/* similar.c: GET /v1/assets/{id}/similar: the nearest shapes of a ready asset, from the shape
 * index on Redis (ingest/shape_store.c), restricted to the assets the caller may see.
 *
 *   {"asset": id, "similar": [{"asset", "similarity", "match"}, ...]}
 *
 * Matches first, then near shapes that share a bucket but do not match, each group most similar
 * first; ?limit=N (1 to 100, default 20). 404 unknown asset, 409 not ready. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "ingest.h"

#define SIMILAR_DEFAULT 20
#define SIMILAR_LIMIT 100
#define SIMILAR_SCAN 1000 /* hits read before the visibility filter */

enum MHD_Result api_get_similar(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    long limit = SIMILAR_DEFAULT;
    const char *limit_text = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    if (limit_text) {
        char *end;
        limit = strtol(limit_text, &end, 10);
        if (*limit_text == 0 || *end || limit < 1 || limit > SIMILAR_LIMIT)
            return api_respond_error(c, req, 400, "bad_request", "limit '%.40s': expected 1 to %d", limit_text,
                                     SIMILAR_LIMIT);
    }
    json_t *record;
    enum MHD_Result ret;
    if (api_load_record(api, c, req, &record, &ret) != MHD_YES)
        return ret;
    const char *status = json_string_value(json_object_get(record, "status"));
    const char *shape = json_string_value(json_object_get(record, "shape"));
    if (shape == NULL)
        shape = json_string_value(json_object_get(json_object_get(json_object_get(record, "manifest"), "fingerprint"),
                                                  "shape"));
    if (status == NULL || strcmp(status, "ready") != 0 || shape == NULL) {
        ret = api_respond_error(c, req, 409, "not_ready", "asset %s is %s, not ready", req->id,
                                status ? status : "unknown");
        json_decref(record);
        return ret;
    }
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    lds_shape_match *hits = calloc(SIMILAR_SCAN, sizeof(*hits));
    size_t count = 0;
    if (hits == NULL)
        lds_error_set(&err, LDS_ENOMEM, "similar: out of memory");
    else if (redis)
        lds_shape_index_lookup(redis, shape, req->id, 1, hits, SIMILAR_SCAN, &count, NULL, &err);
    json_decref(record);
    if (err.code != LDS_OK) {
        free(hits);
        return api_respond_status(c, req, &err);
    }
    json_t *similar = json_array();
    for (size_t i = 0; i < count && json_array_size(similar) < (size_t)limit; i++)
        if (api_asset_visible(req, hits[i].owner, "ready")) /* the index only returns ready assets */
            json_array_append_new(similar, json_pack("{s:s, s:f, s:b}", "asset", hits[i].asset, "similarity",
                                                     hits[i].similarity, "match", hits[i].match));
    free(hits);
    return api_respond_json(c, req, 200, json_pack("{s:s, s:o}", "asset", req->id, "similar", similar));
}
