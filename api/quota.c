/* quota.c: per-key request quotas (issue 9, Denial of service): fixed one-minute windows counted in
 * this process (the API is one process), LODESTONE_QUOTA_REQUESTS_PER_MINUTE for every request of
 * a key and LODESTONE_QUOTA_UPLOADS_PER_MINUTE for uploads and deposits. Past either the request
 * is answered 429 with Retry-After (the seconds left in the window), before its body is read.
 * Ops keys are not rationed (server.c).
 * The table is a fixed array probed linearly; an entry from an older window is free, so it never
 * grows with the number of keys. */
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#define QUOTA_SLOTS 4096
#define QUOTA_PROBES 16

typedef struct quota_entry {
    char key_id[17];
    int64_t window; /* minute number */
    uint64_t requests, uploads;
} quota_entry;

struct api_quota {
    pthread_mutex_t lock;
    uint64_t requests_max, uploads_max;
    uint64_t refused; /* for /metrics */
    quota_entry slots[QUOTA_SLOTS];
};

lds_status api_quota_create(api_quota **out, lds_error *err)
{
    *out = NULL;
    api_quota *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return lds_error_set(err, LDS_ENOMEM, "api: out of memory");
    lds_status st;
    if ((st = lds_setting_u64("LODESTONE_QUOTA_REQUESTS_PER_MINUTE", &q->requests_max, err)) != LDS_OK ||
        (st = lds_setting_u64("LODESTONE_QUOTA_UPLOADS_PER_MINUTE", &q->uploads_max, err)) != LDS_OK) {
        free(q);
        return st;
    }
    pthread_mutex_init(&q->lock, NULL);
    *out = q;
    return LDS_OK;
}

void api_quota_destroy(api_quota *q)
{
    if (q == NULL)
        return;
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static size_t slot_of(const char *key_id)
{
    uint32_t h = 2166136261u;
    for (const char *p = key_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % QUOTA_SLOTS;
}

unsigned api_quota_charge(api_quota *q, const char *key_id, int upload)
{
    int64_t now_ms = lds_wall_ms(), window = now_ms / 60000;
    unsigned retry = (unsigned)((60000 - now_ms % 60000 + 999) / 1000);
    pthread_mutex_lock(&q->lock);
    quota_entry *e = NULL;
    size_t first = slot_of(key_id);
    for (size_t i = 0; i < QUOTA_PROBES && e == NULL; i++) {
        quota_entry *s = &q->slots[(first + i) % QUOTA_SLOTS];
        if (s->window == window && strcmp(s->key_id, key_id) == 0)
            e = s;
    }
    for (size_t i = 0; i < QUOTA_PROBES && e == NULL; i++) {
        quota_entry *s = &q->slots[(first + i) % QUOTA_SLOTS];
        if (s->window != window) { /* free: from an older window */
            memset(s, 0, sizeof(*s));
            snprintf(s->key_id, sizeof(s->key_id), "%s", key_id);
            s->window = window;
            e = s;
        }
    }
    unsigned answer = 0;
    if (e == NULL) {
        answer = retry; /* more than QUOTA_PROBES busy keys collide here this minute: wait */
    } else if (e->requests + 1 > q->requests_max || (upload && e->uploads + 1 > q->uploads_max)) {
        answer = retry;
    } else {
        e->requests++;
        e->uploads += upload != 0;
    }
    if (answer)
        q->refused++;
    pthread_mutex_unlock(&q->lock);
    return answer;
}

uint64_t api_quota_refused(api_quota *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t n = q->refused;
    pthread_mutex_unlock(&q->lock);
    return n;
}
