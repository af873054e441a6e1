/* shape_store.c: the shape index of the service on Redis (DESIGN.md 6.3 and 6.5).
 *
 * mesh/shape_index.c hashes a shape fingerprint to locality-sensitive bucket keys: one key to
 * store it under, and the probe keys whose union holds every stored fingerprint that matches.
 * Here a bucket is a Redis set of asset ids, lds:shape:<key>, and the fingerprint itself is the
 * field "shape" of the asset record. A lookup reads the probe sets one by one (SMEMBERS: no
 * multi-key command, so the sets may sit in different Cluster slots), merges the ids, then reads
 * each candidate's fingerprint, owner and status and compares: the work is proportional to the
 * bucket sizes, not to the catalogue.
 *
 * The worker adds an asset before it publishes the result, and a lookup only keeps candidates
 * whose status is ready, so a crash between the two leaves nothing wrong behind (the re-run adds
 * the same members again). */
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

#define SHAPE_PREFIX "lds:shape:"

static lds_status store_keys(const char *fingerprint, char keys[][LDS_MESH_SHAPE_KEY_MAX], size_t *count,
                             lds_error *err)
{
    return lds_mesh_shape_bucket_keys(fingerprint, 0, keys, count, err);
}

lds_status lds_shape_index_add(lds_redis *redis, const char *asset_id, const char *fingerprint, lds_error *err)
{
    char keys[LDS_MESH_SHAPE_PROBES_MAX][LDS_MESH_SHAPE_KEY_MAX];
    size_t count = 0;
    lds_status st = store_keys(fingerprint, keys, &count, err);
    if (st != LDS_OK)
        return st;

    /* A fingerprint stored before (an older pipeline) leaves the buckets it no longer belongs to. */
    lds_redis_reply *old = NULL;
    if ((st = lds_redis_command(redis, &old, err, "HGET lds:asset:%s shape", asset_id)) != LDS_OK)
        return st;
    const char *previous = lds_redis_reply_str(old);
    if (previous && strcmp(previous, fingerprint) != 0) {
        char old_keys[LDS_MESH_SHAPE_PROBES_MAX][LDS_MESH_SHAPE_KEY_MAX];
        size_t old_count = 0;
        lds_error ignored;
        lds_error_clear(&ignored);
        if (store_keys(previous, old_keys, &old_count, &ignored) == LDS_OK)
            for (size_t i = 0; i < old_count && st == LDS_OK; i++) {
                int still = 0;
                for (size_t j = 0; j < count; j++)
                    still |= strcmp(old_keys[i], keys[j]) == 0;
                if (!still)
                    st = lds_redis_command(redis, NULL, err, "SREM " SHAPE_PREFIX "%s %s", old_keys[i], asset_id);
            }
    }
    lds_redis_reply_free(old);
    if (st == LDS_OK)
        st = lds_redis_command(redis, NULL, err, "HSET lds:asset:%s shape %s", asset_id, fingerprint);
    for (size_t i = 0; i < count && st == LDS_OK; i++)
        st = lds_redis_command(redis, NULL, err, "SADD " SHAPE_PREFIX "%s %s", keys[i], asset_id);
    return st;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_hits(const void *a, const void *b)
{
    const lds_shape_match *x = a, *y = b;
    if (x->match != y->match)
        return y->match - x->match;
    if (x->similarity != y->similarity)
        return x->similarity < y->similarity ? 1 : -1;
    return strcmp(x->asset, y->asset);
}

/* The merged, deduplicated ids of the probe sets (strings owned by the array). */
typedef struct id_set {
    char **ids;
    size_t count, capacity;
} id_set;

static void id_set_cleanup(id_set *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->ids[i]);
    free(s->ids);
    memset(s, 0, sizeof(*s));
}

static lds_status id_set_add(id_set *s, const char *id, lds_error *err)
{
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? 2 * s->capacity : 64;
        char **ids = realloc(s->ids, capacity * sizeof(char *));
        if (ids == NULL)
            return lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
        s->ids = ids;
        s->capacity = capacity;
    }
    if ((s->ids[s->count] = strdup(id)) == NULL)
        return lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
    s->count++;
    return LDS_OK;
}

/* Reads the probe sets; stops adding at LDS_SHAPE_CANDIDATES_MAX ids (before deduplication the
 * cap counts members, which errs on the side of fewer). */
static lds_status collect(lds_redis *redis, const char *fingerprint, const char *exclude_id, id_set *s,
                          lds_error *err)
{
    char keys[LDS_MESH_SHAPE_PROBES_MAX][LDS_MESH_SHAPE_KEY_MAX];
    size_t count = 0;
    lds_status st = lds_mesh_shape_bucket_keys(fingerprint, 1, keys, &count, err);
    int capped = 0;
    for (size_t k = 0; k < count && st == LDS_OK && !capped; k++) {
        lds_redis_reply *members = NULL;
        if ((st = lds_redis_command(redis, &members, err, "SMEMBERS " SHAPE_PREFIX "%s", keys[k])) != LDS_OK)
            break;
        for (size_t i = 0; members->type == LDS_REDIS_ARRAY && i < members->elements && st == LDS_OK; i++) {
            const char *id = members->element[i].str;
            if (id == NULL || (exclude_id && strcmp(id, exclude_id) == 0))
                continue;
            if (s->count >= LDS_SHAPE_CANDIDATES_MAX) {
                capped = 1;
                break;
            }
            st = id_set_add(s, id, err);
        }
        lds_redis_reply_free(members);
    }
    if (capped)
        lds_log_warn("shape index: more than %d candidates for one lookup; the rest are not compared",
                     LDS_SHAPE_CANDIDATES_MAX);
    if (st == LDS_OK && s->count > 1) {
        qsort(s->ids, s->count, sizeof(char *), compare_ids);
        size_t unique = 1;
        for (size_t i = 1; i < s->count; i++) {
            if (strcmp(s->ids[i], s->ids[unique - 1]) == 0)
                free(s->ids[i]);
            else
                s->ids[unique++] = s->ids[i];
        }
        s->count = unique;
    }
    return st;
}

/* The title of a record's metadata JSON text, or "". */
static void metadata_title(const char *text, char *out, size_t size)
{
    out[0] = 0;
    if (text == NULL)
        return;
    json_t *metadata = json_loads(text, 0, NULL);
    const char *title = json_string_value(json_object_get(metadata, "title"));
    if (title)
        snprintf(out, size, "%s", title);
    json_decref(metadata);
}

lds_status lds_shape_index_lookup(lds_redis *redis, const char *fingerprint, const char *exclude_id, int near_too,
                                  lds_shape_match *hits, size_t max, size_t *count, size_t *candidates,
                                  lds_error *err)
{
    *count = 0;
    if (candidates)
        *candidates = 0;
    id_set ids = {0};
    lds_shape_match *found = NULL;
    size_t found_count = 0;
    lds_status st = collect(redis, fingerprint, exclude_id, &ids, err);
    if (st == LDS_OK && ids.count > 0 && (found = calloc(ids.count, sizeof(*found))) == NULL)
        st = lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
    size_t compared = 0;
    for (size_t i = 0; i < ids.count && st == LDS_OK; i++) {
        lds_redis_reply *r = NULL;
        if ((st = lds_redis_command(redis, &r, err, "HMGET lds:asset:%s shape owner_key status metadata",
                                    ids.ids[i])) != LDS_OK)
            break;
        const char *shape = r->elements == 4 ? r->element[0].str : NULL;
        const char *owner = r->elements == 4 ? r->element[1].str : NULL;
        const char *status = r->elements == 4 ? r->element[2].str : NULL;
        if (shape && status && strcmp(status, "ready") == 0) {
            double similarity = 0.0;
            int match = 0;
            lds_error ignored;
            lds_error_clear(&ignored);
            compared++;
            /* A fingerprint of another version does not compare: not a candidate. */
            if (lds_mesh_shape_compare(fingerprint, shape, &similarity, &match, &ignored) == LDS_OK &&
                (match || near_too)) {
                lds_shape_match *h = &found[found_count++];
                snprintf(h->asset, sizeof(h->asset), "%s", ids.ids[i]);
                snprintf(h->owner, sizeof(h->owner), "%s", owner ? owner : "");
                metadata_title(r->element[3].str, h->title, sizeof(h->title));
                h->similarity = similarity;
                h->match = match;
            }
        }
        lds_redis_reply_free(r);
    }
    if (st == LDS_OK) {
        if (found_count > 1)
            qsort(found, found_count, sizeof(*found), compare_hits);
        for (size_t i = 0; i < found_count && i < max; i++)
            hits[(*count)++] = found[i];
        if (candidates)
            *candidates = compared;
    }
    free(found);
    id_set_cleanup(&ids);
    return st;
}
