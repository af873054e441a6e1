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

/* Finds the one lds:apikey:<hash> whose hash starts with key_id (16 hex, as records and logs
 * name keys) into redis_key. */
static lds_status key_find(lds_redis *redis, const char *key_id, char *redis_key, size_t size, lds_error *err)
{
    size_t n = key_id ? strlen(key_id) : 0;
    int hex = n >= 8 && n < LDS_SHA256_HEX;
    for (size_t i = 0; hex && i < n; i++)
        hex = (key_id[i] >= '0' && key_id[i] <= '9') || (key_id[i] >= 'a' && key_id[i] <= 'f');
    if (!hex)
        return lds_error_set(err, LDS_EINVAL, "key id '%.70s': expected 8 to 64 lower-case hex digits (keys list)",
                             key_id ? key_id : "");
    char cursor[32] = "0";
    size_t found = 0;
    do {
        lds_redis_reply *page = NULL;
        lds_status st = lds_redis_command(redis, &page, err, "SCAN %s MATCH lds:apikey:%s* COUNT 1000", cursor, key_id);
        if (st != LDS_OK)
            return st;
        snprintf(cursor, sizeof(cursor), "%s", page->elements == 2 && page->element[0].str ? page->element[0].str : "0");
        for (size_t i = 0; page->elements == 2 && i < page->element[1].elements; i++)
            if (found++ == 0)
                snprintf(redis_key, size, "%s", page->element[1].element[i].str);
        lds_redis_reply_free(page);
    } while (strcmp(cursor, "0") != 0);
    if (found == 0)
        return lds_error_set(err, LDS_ENOENT, "no API key with id %s", key_id);
    if (found > 1)
        return lds_error_set(err, LDS_EINVAL, "key id %s names %zu keys; give more digits", key_id, found);
    return LDS_OK;
}

lds_status lds_api_key_revoke(const char *redis_url, const char *key_id, lds_error *err)
{
    lds_redis *redis = NULL;
    char redis_key[128];
    lds_status st = lds_redis_connect(redis_url, &redis, err);
    if (st == LDS_OK)
        st = key_find(redis, key_id, redis_key, sizeof(redis_key), err);
    if (st == LDS_OK)
        st = lds_redis_command(redis, NULL, err, "DEL %s", redis_key);
    lds_redis_close(redis);
    return st;
}

lds_status lds_api_key_list(const char *redis_url, json_t **keys, lds_error *err)
{
    *keys = NULL;
    lds_redis *redis = NULL;
    lds_status st = lds_redis_connect(redis_url, &redis, err);
    json_t *list = json_array();
    char cursor[32] = "0";
    while (st == LDS_OK) {
        lds_redis_reply *page = NULL;
        if ((st = lds_redis_command(redis, &page, err, "SCAN %s MATCH lds:apikey:* COUNT 1000", cursor)) != LDS_OK)
            break;
        snprintf(cursor, sizeof(cursor), "%s", page->elements == 2 && page->element[0].str ? page->element[0].str : "0");
        for (size_t i = 0; st == LDS_OK && page->elements == 2 && i < page->element[1].elements; i++) {
            const char *redis_key = page->element[1].element[i].str;
            lds_redis_reply *r = NULL;
            st = lds_redis_command(redis, &r, err, "HMGET %s role name created", redis_key);
            if (st == LDS_OK && r->elements == 3 && redis_key && strlen(redis_key) >= 11 + 16) {
                char id[17];
                memcpy(id, redis_key + 11, 16);
                id[16] = 0;
                json_array_append_new(list, json_pack("{s:s,s:s?,s:s?,s:s?}", "id", id, "role", r->element[0].str,
                                                      "account", r->element[1].str, "created", r->element[2].str));
            }
            lds_redis_reply_free(r);
        }
        lds_redis_reply_free(page);
        if (strcmp(cursor, "0") == 0)
            break;
    }
    lds_redis_close(redis);
    if (st != LDS_OK) {
        json_decref(list);
        return st;
    }
    *keys = list;
    return LDS_OK;
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
