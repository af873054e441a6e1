/* recovery.c: what puts the service right after a crash, in the background of the pool.
 *
 * The sweep: a writer that dies between an asset's record and its job leaves the record on
 * lds:assets:unqueued, and one that dies between a deposit's record (its plan) and its last item
 * leaves the deposit on lds:deposits:unfinished (assets.c, deposit.c). Markers older than a grace
 * period (longer than any live writer takes between the two steps) are finished here: the job
 * enqueued, the remaining items written. Each step is idempotent, so a sweep racing a slow writer
 * or a client's retry writes nothing twice.
 *
 * Blob collection: blobs that no record names (a refused or abandoned upload, outputs replaced by
 * reprocessing) are removed once older than their own grace period. Referenced means named by an
 * asset record (files, outputs, certificate) or a deposit's plan; jobs name assets, so a job's
 * blobs are its record's. A blob stored again is touched (common/blob.c), and a record is written
 * within the grace period of its blobs' put, so a blob about to be named is never young enough to
 * lose. Any Redis error stops a collection before it removes anything. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"

static lds_status env_ms(const char *name, int64_t *value, lds_error *err)
{
    uint64_t ms;
    lds_status st = lds_setting_ms(name, &ms, err); /* its default when unset (common/settings.c) */
    if (st == LDS_OK)
        *value = (int64_t)ms;
    return st;
}

lds_status lds_recovery_options_from_env(lds_recovery_options *options, lds_error *err)
{
    memset(options, 0, sizeof(*options));
    options->sweep_grace_ms = 30000;
    options->sweep_interval_ms = 15000;
    options->blob_grace_ms = 24 * 3600 * 1000LL;
    options->gc_interval_ms = 3600 * 1000LL;
    lds_status st = env_ms("LODESTONE_SWEEP_GRACE_MS", &options->sweep_grace_ms, err);
    if (st == LDS_OK)
        st = env_ms("LODESTONE_SWEEP_INTERVAL_MS", &options->sweep_interval_ms, err);
    if (st == LDS_OK)
        st = env_ms("LODESTONE_BLOB_GRACE_MS", &options->blob_grace_ms, err);
    if (st == LDS_OK)
        st = env_ms("LODESTONE_GC_INTERVAL_MS", &options->gc_interval_ms, err);
    return st;
}

/* ---- the set of referenced blob ids ---- */

typedef struct id_list {
    char (*ids)[LDS_SHA256_HEX];
    size_t count, capacity;
} id_list;

static lds_status id_add(id_list *l, const char *id, lds_error *err)
{
    if (id == NULL || !lds_blob_id_valid(id))
        return LDS_OK;
    if (l->count == l->capacity) {
        size_t capacity = l->capacity ? 2 * l->capacity : 1024;
        void *grown = realloc(l->ids, capacity * LDS_SHA256_HEX);
        if (grown == NULL)
            return lds_error_set(err, LDS_ENOMEM, "blob collection: out of memory");
        l->ids = grown;
        l->capacity = capacity;
    }
    memcpy(l->ids[l->count++], id, LDS_SHA256_HEX);
    return LDS_OK;
}

static int compare_ids(const void *a, const void *b)
{
    return memcmp(a, b, LDS_SHA256_HEX);
}

/* Adds the blob ids a JSON text names: "sha256" of file lists (records, plans), values of an
 * outputs object, "blob" of a certificate. */
static lds_status add_named(id_list *l, const char *text, size_t size, lds_error *err)
{
    json_t *j = text ? json_loadb(text, size, 0, NULL) : NULL;
    lds_status st = LDS_OK;
    if (json_is_array(j)) { /* a file list, or a plan of items each with a file list */
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            st = id_add(l, json_string_value(json_object_get(v, "sha256")), err);
            size_t k;
            json_t *f;
            json_array_foreach(json_object_get(v, "files"), k, f) if (st == LDS_OK) st =
                id_add(l, json_string_value(json_object_get(f, "sha256")), err);
            if (st != LDS_OK)
                break;
        }
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) if (st == LDS_OK) st = id_add(l, json_string_value(v), err);
        if (st == LDS_OK)
            st = id_add(l, json_string_value(json_object_get(j, "blob")), err);
    }
    json_decref(j);
    return st;
}

/* SCANs keys matching pattern and adds what the given hash fields name. */
static lds_status collect_named(lds_redis *redis, const char *pattern, const char *const *fields, int field_count,
                                id_list *l, lds_error *err)
{
    char cursor[32] = "0";
    do {
        lds_redis_reply *page = NULL;
        lds_status st = lds_redis_command(redis, &page, err, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (st != LDS_OK)
            return st;
        if (page->type != LDS_REDIS_ARRAY || page->elements != 2 || page->element[0].str == NULL) {
            lds_redis_reply_free(page);
            return lds_error_set(err, LDS_EREDIS, "blob collection: unexpected SCAN answer");
        }
        snprintf(cursor, sizeof(cursor), "%s", page->element[0].str);
        const lds_redis_reply *keys = &page->element[1];
        for (size_t i = 0; st == LDS_OK && i < keys->elements; i++) {
            lds_redis_reply *r = NULL;
            const char *argv[8] = {"HMGET", keys->element[i].str};
            assert(field_count <= 6);
            for (int f = 0; f < field_count; f++)
                argv[2 + f] = fields[f];
            st = lds_redis_command_argv(redis, &r, err, 2 + field_count, argv, NULL);
            for (size_t k = 0; st == LDS_OK && r->type == LDS_REDIS_ARRAY && k < r->elements; k++)
                if (r->element[k].str)
                    st = add_named(l, r->element[k].str, r->element[k].len, err);
            lds_redis_reply_free(r);
        }
        lds_redis_reply_free(page);
        if (st != LDS_OK)
            return st;
    } while (strcmp(cursor, "0") != 0);
    return LDS_OK;
}

/* Removes unreferenced blobs older than the grace period from one fan-out folder root/xx. */
static void collect_folder(const char *folder, const char *prefix, const id_list *named, int64_t grace_ms,
                           lds_blob_gc_report *report)
{
    DIR *d = opendir(folder);
    if (d == NULL)
        return;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d)) != NULL) {
        char id[LDS_SHA256_HEX + 8], path[PATH_MAX + 300];
        size_t n = strlen(e->d_name);
        if (n != 62 && !(n == 66 && strcmp(e->d_name + 62, ".zst") == 0))
            continue;
        snprintf(id, sizeof(id), "%s%.62s", prefix, e->d_name);
        if (!lds_blob_id_valid(id))
            continue;
        snprintf(path, sizeof(path), "%s/%s", folder, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if ((int64_t)(now - st.st_mtime) * 1000 < grace_ms) {
            report->young++;
        } else if (bsearch(id, named->ids, named->count, LDS_SHA256_HEX, compare_ids)) {
            report->kept++;
        } else if (unlink(path) == 0) {
            report->removed++;
            report->removed_bytes += (uint64_t)st.st_size;
        }
    }
    closedir(d);
}

lds_status lds_blob_gc(lds_redis *redis, const char *blob_root, int64_t grace_ms, lds_blob_gc_report *report,
                       lds_error *err)
{
    memset(report, 0, sizeof(*report));
    id_list named = {0};
    static const char *const record_fields[] = {"files", "outputs", "certificate"};
    static const char *const deposit_fields[] = {"plan"};
    lds_status st = collect_named(redis, "lds:asset:*", record_fields, 3, &named, err);
    if (st == LDS_OK)
        st = collect_named(redis, "lds:deposit:*", deposit_fields, 1, &named, err);
    if (st != LDS_OK) {
        free(named.ids);
        return st; /* never remove on a partial view */
    }
    if (named.count > 1)
        qsort(named.ids, named.count, LDS_SHA256_HEX, compare_ids);
    report->named = named.count;
    char root[PATH_MAX];
    snprintf(root, sizeof(root), "%s", blob_root ? blob_root : "");
    if (blob_root == NULL)
        snprintf(root, sizeof(root), "%s/blobs", lds_home_dir());
    for (int i = 0; i < 256; i++) {
        char prefix[3], folder[PATH_MAX + 8];
        snprintf(prefix, sizeof(prefix), "%02x", i);
        snprintf(folder, sizeof(folder), "%s/%s", root, prefix);
        collect_folder(folder, prefix, &named, grace_ms, report);
    }
    free(named.ids);
    return LDS_OK;
}

lds_status lds_recovery_sweep(lds_redis *redis, int64_t grace_ms, size_t *requeued, size_t *finished, lds_error *err)
{
    lds_status st = lds_deposit_sweep(redis, grace_ms, finished, err); /* its items land on the asset sweep's list */
    if (st == LDS_OK)
        st = lds_assets_sweep(redis, grace_ms, requeued, err);
    return st;
}

lds_status lds_recovery_run(const lds_recovery_options *options, volatile sig_atomic_t *stop, lds_error *err)
{
    lds_redis *redis = NULL;
    double next_sweep = 0, next_gc = lds_time_ms() + (double)options->gc_interval_ms;
    while (!*stop) {
        lds_error inner;
        lds_error_clear(&inner);
        if (redis == NULL && lds_redis_connect(options->redis_url, &redis, &inner) != LDS_OK) {
            lds_log_warn("recovery: %s; retrying", inner.message);
            lds_sleep_ms(1000);
            continue;
        }
        lds_status st = LDS_OK;
        if (lds_time_ms() >= next_sweep) { /* at start, then periodically */
            size_t requeued = 0, finished = 0;
            st = lds_recovery_sweep(redis, options->sweep_grace_ms, &requeued, &finished, &inner);
            next_sweep = lds_time_ms() + (double)options->sweep_interval_ms;
        }
        if (st == LDS_OK && options->gc_interval_ms > 0 && lds_time_ms() >= next_gc) {
            lds_blob_gc_report report;
            st = lds_blob_gc(redis, options->blob_root, options->blob_grace_ms, &report, &inner);
            if (st == LDS_OK && report.removed)
                lds_log_info("recovery: removed %zu unreferenced blobs (%llu bytes)", report.removed,
                             (unsigned long long)report.removed_bytes);
            next_gc = lds_time_ms() + (double)options->gc_interval_ms;
        }
        if (st != LDS_OK) {
            lds_log_warn("recovery: %s", inner.message);
            lds_redis_close(redis); /* reconnect: Redis may have restarted */
            redis = NULL;
        }
        for (int i = 0; i < 10 && !*stop; i++)
            lds_sleep_ms(100);
    }
    lds_redis_close(redis);
    (void)err;
    return LDS_OK;
}
