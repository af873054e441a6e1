/*
 * auth.c: API keys. A key is "lds_" + 40 hex digits of randomness, shown once; Redis keeps only
 * its SHA-256 (lds:apikey:<hex>) with the role and name, so a leaked database leaks no key.
 * Lookups are cached per server thread for a few seconds to keep Redis off the hot path of file
 * serving; a deleted key stops working within that time.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api_internal.h"

#define CACHE_SLOTS 64
#define CACHE_SECONDS 5

static const char *const roles[] = {"modeler", "studio", "partner", "ops"};

static int role_valid(const char *role)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(role, roles[i]) == 0)
            return 1;
    return 0;
}

static void key_hash(const char *key, char hex[LDS_SHA256_HEX])
{
    unsigned char digest[LDS_SHA256_BYTES];
    lds_sha256_buffer(key, strlen(key), digest);
    lds_hex_encode(digest, sizeof(digest), hex);
}

lds_status lds_api_key_create(const char *redis_url, const char *role, const char *name, char key[LDS_API_KEY_MAX],
                              lds_error *err)
{
    if (!role_valid(role))
        return lds_error_set(err, LDS_EINVAL, "role '%s': expected modeler, studio, partner or ops", role);
    unsigned char random[20];
    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
        return lds_error_set(err, LDS_EIO, "keys: no randomness available");
    char hex[41];
    lds_hex_encode(random, sizeof(random), hex);
    snprintf(key, LDS_API_KEY_MAX, "lds_%s", hex);
    char hash[LDS_SHA256_HEX], redis_key[96], when[32];
    key_hash(key, hash);
    snprintf(redis_key, sizeof(redis_key), "lds:apikey:%s", hash);
    lds_time_rfc3339(when, sizeof(when));
    lds_redis *redis = NULL;
    lds_status st = lds_redis_connect(redis_url, &redis, err);
    if (st == LDS_OK)
        st = lds_redis_command(redis, NULL, err, "HSET %s role %s name %s created %s", redis_key, role,
                               name && *name ? name : role, when);
    lds_redis_close(redis);
    return st;
}

typedef struct cache_entry {
    char hash[LDS_SHA256_HEX];
    api_principal who;
    time_t expires;
} cache_entry;

static __thread cache_entry cache[CACHE_SLOTS];

int api_authenticate(lds_api *api, struct MHD_Connection *c, api_principal *who)
{
    memset(who, 0, sizeof(*who));
    const char *header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0)
        return 0;
    const char *key = header + 7;
    while (*key == ' ')
        key++;
    if (strlen(key) >= LDS_API_KEY_MAX || *key == 0)
        return 0;
    char hash[LDS_SHA256_HEX];
    key_hash(key, hash);
    unsigned slot = (unsigned)strtoul((char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], 0}, NULL, 16) %
                    CACHE_SLOTS;
    time_t now = time(NULL);
    if (strcmp(cache[slot].hash, hash) == 0 && cache[slot].expires > now) {
        *who = cache[slot].who;
        return who->authenticated;
    }
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = api_redis(api, &err);
    lds_redis_reply *reply = NULL;
    if (redis == NULL || lds_redis_command(redis, &reply, &err, "HMGET lds:apikey:%s role name", hash) != LDS_OK)
        return -1; /* cannot tell: the caller answers 503, not 401 */
    const char *role;
    if (reply && reply->type == LDS_REDIS_ARRAY && reply->elements == 2 && reply->element[0].type == LDS_REDIS_STRING) {
        role = reply->element[0].str;
        if (role_valid(role)) {
            who->authenticated = 1;
            snprintf(who->role, sizeof(who->role), "%s", role);
            snprintf(who->name, sizeof(who->name), "%s",
                     reply->element[1].type == LDS_REDIS_STRING ? reply->element[1].str : role);
            memcpy(who->key_id, hash, 16);
            who->key_id[16] = 0;
        }
    }
    lds_redis_reply_free(reply);
    snprintf(cache[slot].hash, sizeof(cache[slot].hash), "%s", hash);
    cache[slot].who = *who;
    cache[slot].expires = now + CACHE_SECONDS;
    return who->authenticated;
}
