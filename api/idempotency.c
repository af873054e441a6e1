/*
 * idempotency.c: the Idempotency-Key request header (IETF draft-ietf-httpapi-idempotency-key-header)
 * on POST /v1/assets and POST /v1/deposits.
 *
 * A client that lost the answer to a POST (a crash, a dropped connection) sends it again with the
 * same key: it gets the same asset or deposit and the same 202, and nothing is created twice. The
 * key is scoped to the API key that sent it (another client's identical key is another key), and
 * stored with a digest of the request (what was sent: file names and contents, metadata), so that
 * the same key with a different request is refused (422) instead of answered with the wrong asset.
 * The mapping itself is written by ingest/ in the same step as the record it names.
 */
#include <string.h>

#include "api_internal.h"
#include "ingest.h"

#define KEY_HEADER_MAX 255

int api_idempotency_key(struct MHD_Connection *c, api_request *req, char scoped[API_IDEMPOTENCY_MAX],
                        enum MHD_Result *ret)
{
    scoped[0] = 0;
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    if (key == NULL)
        return 0;
    size_t n = strlen(key);
    int ok = n > 0 && n <= KEY_HEADER_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = key[i] > 0x20 && key[i] < 0x7f;
    if (!ok) {
        *ret = api_respond_error(c, req, 400, "bad_request",
                                 "Idempotency-Key: 1 to %d printable ASCII characters without spaces", KEY_HEADER_MAX);
        return -1;
    }
    unsigned char digest[LDS_SHA256_BYTES];
    char hex[LDS_SHA256_HEX];
    lds_sha256_buffer(key, n, digest);
    lds_hex_encode(digest, sizeof(digest), hex);
    snprintf(scoped, API_IDEMPOTENCY_MAX, "%s:%s", req->who.key_id, hex);
    return 1;
}

int api_idempotency_conflict(lds_api *api, const char *scoped, const char *digest, char *first_id, size_t first_size)
{
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    lds_redis_reply *reply = NULL;
    if (redis == NULL || lds_redis_command(redis, &reply, &err, "HMGET " LDS_ASSETS_IDEMPOTENCY_PREFIX "%s digest asset",
                                           scoped) != LDS_OK)
        return 0; /* cannot tell here: the write that follows checks again */
    int conflict = reply->type == LDS_REDIS_ARRAY && reply->elements == 2 && reply->element[0].str &&
                   strcmp(reply->element[0].str, digest) != 0;
    if (conflict && first_id)
        snprintf(first_id, first_size, "%s", reply->element[1].str ? reply->element[1].str : "");
    lds_redis_reply_free(reply);
    return conflict;
}

void api_digest_hex(lds_sha256 *ctx, char hex[LDS_SHA256_HEX])
{
    unsigned char digest[LDS_SHA256_BYTES];
    lds_sha256_final(ctx, digest);
    lds_hex_encode(digest, sizeof(digest), hex);
}
