/*
 * licenses.c: licences granted by the marketplace (issue 12): lds:license:<asset> is a hash from
 * the holder (an account: an API key's name) to the licence as JSON
 * {"holder", "tier", "expires", "granted", "granted_by"}. A holder has at most one licence per
 * asset; granting again replaces it (a renewal or an upgrade of tier).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"

static const char *const tiers[] = {"editorial", "standard", "enterprise"};

int lds_license_tier_valid(const char *tier)
{
    for (size_t i = 0; tier && i < sizeof(tiers) / sizeof(tiers[0]); i++)
        if (strcmp(tier, tiers[i]) == 0)
            return 1;
    return 0;
}

static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

/* RFC 3339 section 5.6 date-time (fractional seconds ignored) or a full-date (midnight UTC). */
int lds_rfc3339_parse(const char *text, int64_t *ms)
{
    int year, month, day, hour = 0, minute = 0, second = 0, off_h = 0, off_m = 0, sign = 0;
    size_t n = text ? strlen(text) : 0;
    if (n < 10 || !digits(text, 4, &year) || text[4] != '-' || !digits(text + 5, 2, &month) || text[7] != '-' ||
        !digits(text + 8, 2, &day) || month < 1 || month > 12 || day < 1 || day > 31)
        return 0;
    const char *p = text + 10;
    if (*p) {
        if ((*p != 'T' && *p != 't') || strlen(p) < 9 || !digits(p + 1, 2, &hour) || p[3] != ':' ||
            !digits(p + 4, 2, &minute) || p[6] != ':' || !digits(p + 7, 2, &second) || hour > 23 || minute > 59 ||
            second > 60)
            return 0;
        p += 9;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return 0;
            while (isdigit((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z')
            p++;
        else if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &off_h) && p[3] == ':' &&
                 digits(p + 4, 2, &off_m) && off_h < 24 && off_m < 60) {
            sign = *p == '+' ? 1 : -1;
            p += 6;
        } else
            return 0;
        if (*p)
            return 0;
    }
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - sign * (off_h * 3600 + off_m * 60)) * 1000;
    return 1;
}

lds_status lds_license_grant(lds_redis *redis, const char *asset_id, const char *holder, const char *tier,
                             const char *expires, const char *granted_by, json_t **license, lds_error *err)
{
    *license = NULL;
    int64_t ms;
    if (holder == NULL || *holder == 0 || strlen(holder) > 127)
        return lds_error_set(err, LDS_EINVAL, "holder: expected an account name of 1 to 127 bytes");
    if (!lds_license_tier_valid(tier))
        return lds_error_set(err, LDS_EINVAL, "tier '%.40s': expected editorial, standard or enterprise",
                             tier ? tier : "");
    if (expires && !lds_rfc3339_parse(expires, &ms))
        return lds_error_set(err, LDS_EINVAL, "expires '%.60s': expected an RFC 3339 date-time", expires);
    char now[40];
    lds_time_rfc3339(now, sizeof(now));
    json_t *l = json_pack("{s:s,s:s,s:s,s:s,s:s}", "asset", asset_id, "holder", holder, "tier", tier, "granted",
                          now, "granted_by", granted_by ? granted_by : "");
    json_object_set_new(l, "expires", expires ? json_string(expires) : json_null());
    char *text = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
    lds_status st = text ? lds_redis_command(redis, NULL, err, "HSET lds:license:%s %s %s", asset_id, holder, text)
                         : lds_error_set(err, LDS_ENOMEM, "licence: out of memory");
    free(text);
    if (st != LDS_OK) {
        json_decref(l);
        return st;
    }
    lds_catalogue_bump(redis, asset_id, 1, NULL); /* popularity: best effort */
    *license = l;
    return LDS_OK;
}

lds_status lds_license_list(lds_redis *redis, const char *asset_id, const char *holder, json_t **licenses,
                            lds_error *err)
{
    *licenses = NULL;
    lds_redis_reply *reply = NULL;
    lds_status st = holder ? lds_redis_command(redis, &reply, err, "HMGET lds:license:%s %s", asset_id, holder)
                           : lds_redis_command(redis, &reply, err, "HVALS lds:license:%s", asset_id);
    if (st != LDS_OK)
        return st;
    json_t *list = json_array();
    for (size_t i = 0; reply->type == LDS_REDIS_ARRAY && i < reply->elements; i++) {
        json_t *l = reply->element[i].str ? json_loads(reply->element[i].str, 0, NULL) : NULL;
        if (l == NULL)
            continue;
        int64_t ms;
        const char *expires = json_string_value(json_object_get(l, "expires"));
        json_object_set_new(l, "active", json_boolean(expires == NULL ||
                                                      (lds_rfc3339_parse(expires, &ms) && ms > lds_wall_ms())));
        json_array_append_new(list, l);
    }
    lds_redis_reply_free(reply);
    *licenses = list;
    return LDS_OK;
}

lds_status lds_license_covers(lds_redis *redis, const char *asset_id, const char *holder, int *covered,
                              lds_error *err)
{
    *covered = 0;
    json_t *list = NULL;
    lds_status st = lds_license_list(redis, asset_id, holder, &list, err);
    if (st != LDS_OK)
        return st;
    *covered = json_is_true(json_object_get(json_array_get(list, 0), "active"));
    json_decref(list);
    return LDS_OK;
}
