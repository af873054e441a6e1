/*
 * log_routes.c: the transparency log over HTTP: the signed checkpoint, the verifier key,
 * inclusion proofs and consistency proofs (RFC 9162 2.1.3, 2.1.4). The API reads the log files
 * the notary writes (proto/ picks up other processes' appends); it never appends.
 */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "proto.h"

void api_log_close(lds_api *api)
{
    lds_notary_close(api->notary);
    api->notary = NULL;
}


static enum MHD_Result log_route_locked(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    lds_error err;
    lds_error_clear(&err);
    if (api->notary == NULL && lds_notary_open(api->home, &api->notary, &err) != LDS_OK)
        return api_respond_status(c, req, &err);
    if (req->route == API_ROUTE_LOG_KEY) {
        const char *key = lds_notary_verifier_key(api->notary);
        return api_respond_text(c, req, 200, "text/plain; charset=utf-8", key, strlen(key));
    }
    char *text = NULL;
    if (req->route == API_ROUTE_LOG_CHECKPOINT) {
        if (lds_notary_checkpoint(api->notary, &text, &err) != LDS_OK)
            return api_respond_status(c, req, &err);
        enum MHD_Result ret = api_respond_text(c, req, 200, "text/plain; charset=utf-8", text, strlen(text));
        free(text);
        return ret;
    }
    if (req->route == API_ROUTE_LOG_PROOF) {
        char *end;
        unsigned long long index = strtoull(req->sub, &end, 10);
        if (*req->sub == 0 || *end)
            return api_respond_error(c, req, 400, "bad_request", "log index '%s' is not a number", req->sub);
        if (lds_notary_inclusion_json(api->notary, index, &text, &err) != LDS_OK) {
            if (err.code == LDS_EINVAL)
                err.code = LDS_ENOENT; /* beyond the tree */
            return api_respond_status(c, req, &err);
        }
        enum MHD_Result ret = api_respond_text(c, req, 200, "application/json", text, strlen(text));
        free(text);
        return ret;
    }
    /* consistency?from=N */
    const char *from = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from");
    char *end = NULL;
    unsigned long long size1 = from ? strtoull(from, &end, 10) : 0;
    if (from == NULL || *from == 0 || *end || size1 == 0)
        return api_respond_error(c, req, 400, "bad_request", "consistency needs ?from=N with N >= 1");
    if (lds_notary_consistency_json(api->notary, size1, &text, &err) != LDS_OK)
        return api_respond_status(c, req, &err);
    enum MHD_Result ret = api_respond_text(c, req, 200, "application/json", text, strlen(text));
    free(text);
    return ret;
}

enum MHD_Result api_log_route(lds_api *api, struct MHD_Connection *c, api_request *req)
{
    pthread_mutex_lock(&api->log_lock);
    enum MHD_Result ret = log_route_locked(api, c, req);
    pthread_mutex_unlock(&api->log_lock);
    return ret;
}
