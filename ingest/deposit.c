/* deposit.c: archive deposits in the service (issue 5, DESIGN.md 4 step 2 and 6.6).
 *
 * An uploaded archive is walked twice. The first walk only checks it (names, links, devices,
 * limits, the manifest) and writes nothing, so a refused archive costs no disk at all. The second
 * walk streams each member that belongs to a model, one at a time, through a temp file in the
 * scratch directory into the blob store (compressed); members that belong to no model are read
 * and dropped. Each model becomes an asset (lds_assets_submit) with its manifest metadata and
 * source_kind "deposit", owned by the depositor's key. The deposit record is a hash
 * lds:deposit:<id> (fields id, name, owner_key, accepted, items: JSON [{"file", "asset"}],
 * warnings: JSON [text]); lds:deposits (zset by acceptance time) lists them. Item statuses are
 * read from the asset records when the deposit is read, so nothing has to update the deposit. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"

#define DEPOSIT_PREFIX "lds:deposit:"
#define DEPOSIT_INDEX "lds:deposits"
#define DEPOSIT_UNFINISHED "lds:deposits:unfinished" /* zset: deposits whose items are not all written */
#define TAGS_MAX_BYTES 4096

/* ---- the storing sink ---- */

typedef struct stored_member {
    char *path;
    char blob[LDS_SHA256_HEX];
    uint64_t bytes;
} stored_member;

typedef struct store_sink {
    const char *blob_root;
    const char *scratch;
    char **wanted; /* sorted member paths that belong to a model */
    size_t wanted_count;
    stored_member *stored; /* in the order of wanted (index = position in wanted) */
    int current;           /* index into wanted, -1: discarding this member */
    int fd;
    char temp[PATH_MAX];
} store_sink;

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int wanted_index(const store_sink *s, const char *path)
{
    char *const key = (char *)path;
    char **hit = s->wanted_count ? bsearch(&key, s->wanted, s->wanted_count, sizeof(char *), compare_paths) : NULL;
    return hit ? (int)(hit - s->wanted) : -1;
}

static lds_status sink_begin(void *ctx, const char *path, lds_error *err)
{
    store_sink *s = ctx;
    s->current = wanted_index(s, path);
    s->fd = -1;
    if (s->current < 0)
        return LDS_OK;
    if (snprintf(s->temp, sizeof(s->temp), "%s/deposit-member.XXXXXX", s->scratch) >= (int)sizeof(s->temp))
        return lds_error_set(err, LDS_EINVAL, "scratch directory path too long");
    s->fd = mkostemp(s->temp, O_CLOEXEC);
    if (s->fd < 0)
        return lds_error_set(err, LDS_EIO, "cannot create a temp file in %s: %s", s->scratch, strerror(errno));
    return LDS_OK;
}

static lds_status sink_write(void *ctx, const void *data, size_t size, lds_error *err)
{
    store_sink *s = ctx;
    const char *p = data;
    while (s->fd >= 0 && size > 0) {
        ssize_t n = write(s->fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lds_error_set(err, LDS_EIO, "cannot stage the member: %s", strerror(errno));
        p += n;
        size -= (size_t)n;
    }
    return LDS_OK;
}

static lds_status sink_end(void *ctx, int ok, lds_error *err)
{
    store_sink *s = ctx;
    if (s->fd < 0)
        return LDS_OK;
    lds_status st = LDS_OK;
    if (ok) {
        stored_member *m = &s->stored[s->current];
        if (lseek(s->fd, 0, SEEK_SET) != 0)
            st = lds_error_set(err, LDS_EIO, "cannot read back the staged member: %s", strerror(errno));
        else
            st = lds_blob_put_fd(s->blob_root, s->fd, LDS_BLOB_COMPRESS, 0, m->blob, &m->bytes, err);
    }
    close(s->fd);
    unlink(s->temp);
    s->fd = -1;
    return st;
}

/* ---- helpers ---- */

static char *join_tags(const lds_manifest_entry *meta)
{
    lds_buf b;
    lds_buf_init(&b, TAGS_MAX_BYTES);
    for (size_t i = 0; i < meta->tag_count; i++)
        if (lds_buf_printf(&b, "%s%s", i ? ";" : "", meta->tags[i]) != LDS_OK)
            break; /* the rest of an absurd tag list is dropped */
    if (b.size == 0) {
        lds_buf_cleanup(&b);
        return NULL;
    }
    char *out = strndup((const char *)b.data, b.size);
    lds_buf_cleanup(&b);
    return out;
}

static void set_string(json_t *obj, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(obj, key, json_string(value));
}

static int deposit_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 3 || n >= LDS_ID_MAX || strncmp(id, "d_", 2) != 0)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

void lds_deposit_request_init(lds_deposit_request *request)
{
    memset(request, 0, sizeof(*request));
}

/* The plan entry of one item whose files are stored: {"file", "asset", "job", "files": [{"name",
 * "sha256", "bytes"}], "metadata": {...}}, ids chosen now so that finishing the plan twice
 * writes each asset once. */
static json_t *plan_item(const lds_deposit_request *request, const char *deposit_id, const lds_archive_item *it,
                         const store_sink *sink, json_t *warnings, lds_error *err)
{
    size_t total = 1 + it->sidecar_count;
    json_t *files = json_array();
    for (size_t k = 0; k < total; k++) {
        const char *path = k == 0 ? it->file : it->sidecars[k - 1];
        int idx = wanted_index(sink, path);
        if (idx < 0 || !lds_blob_id_valid(sink->stored[idx].blob)) {
            lds_error_set(err, LDS_EINTERNAL, "%s: member %s was not stored", request->name, path);
            json_decref(files);
            return NULL;
        }
        /* Named relative to the model's directory (sidecars sit in it or below, archive.c). */
        const char *base = k == 0 ? lds_path_basename(path) : path + (lds_path_basename(it->file) - it->file);
        int duplicate = 0;
        size_t j;
        json_t *f;
        json_array_foreach(files, j, f) duplicate |= strcmp(json_string_value(json_object_get(f, "name")), base) == 0;
        if (duplicate) {
            char text[1024];
            snprintf(text, sizeof(text), "%s: sidecar %s has the same name as another file of the model; left out",
                     it->file, path);
            json_array_append_new(warnings, json_string(text));
            continue;
        }
        json_array_append_new(files, json_pack("{s:s,s:s,s:I}", "name", base, "sha256", sink->stored[idx].blob,
                                               "bytes", (json_int_t)sink->stored[idx].bytes));
    }
    json_t *meta = json_object();
    const lds_manifest_entry *m = &it->meta;
    set_string(meta, "title", m->title);
    set_string(meta, "license", m->license);
    set_string(meta, "owner", m->owner);
    set_string(meta, "accession", m->accession);
    set_string(meta, "capture_method", m->capture_method);
    char *tags = join_tags(m);
    set_string(meta, "tags", tags);
    free(tags);
    set_string(meta, "source_kind", "deposit");
    set_string(meta, "deposit", deposit_id);
    set_string(meta, "deposit_file", it->file);
    char asset_id[LDS_ID_MAX], job_id[LDS_ID_MAX];
    lds_ingest_new_id("a_", asset_id, sizeof(asset_id));
    lds_ingest_new_id("j_", job_id, sizeof(job_id));
    return json_pack("{s:s,s:s,s:s,s:o,s:o}", "file", it->file, "asset", asset_id, "job", job_id, "files", files,
                     "metadata", meta);
}

/* Writes the asset of one plan entry (once: its ids were chosen in the plan) and enqueues its job. */
static lds_status submit_planned(lds_redis *redis, const char *owner_key, const char *account, json_t *entry,
                                 lds_error *err)
{
    json_t *files = json_object_get(entry, "files");
    size_t count = json_array_size(files);
    lds_asset_file *list = calloc(count ? count : 1, sizeof(*list));
    if (list == NULL)
        return lds_error_set(err, LDS_ENOMEM, "deposit: out of memory");
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        list[i].name = json_string_value(json_object_get(f, "name"));
        list[i].blob_id = json_string_value(json_object_get(f, "sha256"));
        list[i].bytes = (uint64_t)json_integer_value(json_object_get(f, "bytes"));
    }
    lds_asset_submission sub = {.files = list, .file_count = count, .metadata = json_object_get(entry, "metadata"),
                                .owner_key = owner_key};
    sub.owner_account = account && *account ? account : NULL;
    sub.asset_id = json_string_value(json_object_get(entry, "asset"));
    sub.job_id = json_string_value(json_object_get(entry, "job"));
    char asset_id[LDS_ID_MAX], job_id[LDS_ID_MAX];
    lds_status st = sub.asset_id && sub.job_id ? LDS_OK : lds_error_set(err, LDS_EFORMAT, "deposit: a plan entry without ids");
    if (st == LDS_OK)
        st = lds_assets_record_write(redis, &sub, asset_id, job_id, NULL, err);
    if (st == LDS_OK)
        st = lds_assets_record_enqueue(redis, asset_id, NULL, err);
    free(list);
    return st;
}

lds_status lds_deposit_finish(lds_redis *redis, const char *deposit_id, lds_error *err)
{
    if (!deposit_id_valid(deposit_id))
        return lds_error_set(err, LDS_ENOENT, "no deposit %.60s", deposit_id ? deposit_id : "");
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "HMGET " DEPOSIT_PREFIX "%s plan owner_key account",
                                      deposit_id);
    if (st != LDS_OK)
        return st;
    const char *plan_text = reply->elements == 3 ? lds_redis_reply_str(&reply->element[0]) : NULL;
    json_t *plan = plan_text ? json_loads(plan_text, 0, NULL) : NULL;
    char owner[LDS_ID_MAX] = "", account[256] = "";
    if (reply->elements == 3 && lds_redis_reply_str(&reply->element[1]))
        snprintf(owner, sizeof(owner), "%s", lds_redis_reply_str(&reply->element[1]));
    if (reply->elements == 3 && lds_redis_reply_str(&reply->element[2]))
        snprintf(account, sizeof(account), "%s", lds_redis_reply_str(&reply->element[2]));
    lds_redis_reply_free(reply);
    size_t i;
    json_t *entry;
    json_array_foreach(plan, i, entry)
    {
        if ((st = submit_planned(redis, owner, account, entry, err)) != LDS_OK)
            break;
    }
    json_decref(plan);
    /* every item is written: the deposit no longer needs the sweep (its plan stays for audits) */
    if (st == LDS_OK)
        st = lds_redis_command(redis, NULL, err, "ZREM " DEPOSIT_UNFINISHED " %s", deposit_id);
    return st;
}

lds_status lds_deposit_sweep(lds_redis *redis, int64_t grace_ms, size_t *finished, lds_error *err)
{
    *finished = 0;
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "ZRANGEBYSCORE " DEPOSIT_UNFINISHED " -inf %lld LIMIT 0 100",
                                      (long long)(lds_wall_ms() - grace_ms));
    for (size_t i = 0; st == LDS_OK && reply->type == LDS_REDIS_ARRAY && i < reply->elements; i++) {
        const char *id = reply->element[i].str;
        if (id == NULL)
            continue;
        st = lds_deposit_finish(redis, id, err);
        if (st == LDS_ENOENT) { /* a marker without its deposit */
            lds_error_clear(err);
            st = lds_redis_command(redis, NULL, err, "ZREM " DEPOSIT_UNFINISHED " %s", id);
        } else if (st == LDS_OK) {
            lds_log_warn("sweep: deposit %s was accepted but not all its items were written; finished", id);
            (*finished)++;
        }
    }
    lds_redis_reply_free(reply);
    return st;
}

/* Writes the deposit record (its plan included) before any of its items, with its index entries,
 * its unfinished marker and the idempotency mapping, in one step. KEYS: record, index,
 * unfinished, idempotency. ARGV: id, score, digest ('' none), ttl ms, fields... Returns {"new"|
 * "replay"|"conflict", id}. */
static const char *const SCRIPT_DEPOSIT =
    "if ARGV[3] ~= '' then\n"
    "  local m = redis.call('HMGET', KEYS[4], 'digest', 'deposit')\n"
    "  if m[1] then\n"
    "    if m[1] ~= ARGV[3] then return {'conflict', m[2]} end\n"
    "    return {'replay', m[2]}\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 5))\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
    "redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])\n"
    "if ARGV[3] ~= '' then\n"
    "  redis.call('HSET', KEYS[4], 'digest', ARGV[3], 'deposit', ARGV[1])\n"
    "  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[4]))\n"
    "end\n"
    "return {'new', ARGV[1]}\n";

/* Writes the record of deposit id (plan and items from plan); on a replay of its idempotency key,
 * id becomes the earlier deposit's. */
static lds_status record_deposit(lds_redis *redis, const lds_deposit_request *request, const char *name, char *id,
                                 json_t *plan, json_t *warnings, int *replayed, lds_error *err)
{
    json_t *items = json_array();
    size_t i;
    json_t *entry;
    json_array_foreach(plan, i, entry) json_array_append_new(
        items, json_pack("{s:O,s:O}", "file", json_object_get(entry, "file"), "asset", json_object_get(entry, "asset")));
    char accepted[40], key[LDS_ID_MAX + 16], score[24], ttl[24], idem_key[320];
    lds_time_rfc3339(accepted, sizeof(accepted));
    snprintf(key, sizeof(key), DEPOSIT_PREFIX "%s", id);
    snprintf(score, sizeof(score), "%lld", (long long)lds_wall_ms());
    snprintf(ttl, sizeof(ttl), "%lld", (long long)LDS_ASSETS_IDEMPOTENCY_TTL_MS);
    const char *idem = request->idempotency_key;
    snprintf(idem_key, sizeof(idem_key), LDS_ASSETS_IDEMPOTENCY_PREFIX "%.256s", idem ? idem : "-");
    char *items_text = json_dumps(items, JSON_COMPACT);
    char *warnings_text = json_dumps(warnings, JSON_COMPACT);
    char *plan_text = json_dumps(plan, JSON_COMPACT);
    json_decref(items);
    lds_status st = LDS_OK;
    lds_redis_reply *reply = NULL;
    if (items_text == NULL || warnings_text == NULL || plan_text == NULL) {
        st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
    } else {
        const char *argv[] = {"EVAL", SCRIPT_DEPOSIT, "4", key, DEPOSIT_INDEX, DEPOSIT_UNFINISHED, idem_key, id, score,
                              idem && request->request_digest ? request->request_digest : "", ttl,
                              "id", id, "name", name, "owner_key", request->owner_key ? request->owner_key : "",
                              "account", request->owner_account ? request->owner_account : "",
                              "accepted", accepted, "items", items_text, "warnings", warnings_text,
                              "plan", plan_text};
        st = lds_redis_command_argv(redis, &reply, err, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL);
    }
    if (st == LDS_OK) {
        const char *state = reply->type == LDS_REDIS_ARRAY && reply->elements == 2 ? reply->element[0].str : NULL;
        if (state == NULL || reply->element[1].str == NULL)
            st = lds_error_set(err, LDS_EREDIS, "%s: unexpected answer writing deposit %s", name, id);
        else if (strcmp(state, "conflict") == 0)
            st = lds_error_set(err, LDS_EEXIST, "Idempotency-Key already used for a different deposit (%s)",
                               reply->element[1].str);
        else {
            *replayed = strcmp(state, "new") != 0;
            snprintf(id, LDS_ID_MAX, "%s", reply->element[1].str);
        }
    }
    lds_redis_reply_free(reply);
    free(items_text);
    free(warnings_text);
    free(plan_text);
    return st;
}

/* {"id", "name", "items": [{"file", "asset"}], "warnings"} of a deposit read back (lds_deposit_get). */
static json_t *deposit_summary(json_t *deposit)
{
    json_t *items = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(deposit, "items"), i, item) json_array_append_new(
        items, json_pack("{s:O,s:O}", "file", json_object_get(item, "file"), "asset", json_object_get(item, "asset")));
    json_t *name = json_object_get(deposit, "name");
    return json_pack("{s:O,s:O,s:o,s:O}", "id", json_object_get(deposit, "id"), "name", name ? name : json_null(),
                     "items", items, "warnings", json_object_get(deposit, "warnings"));
}

lds_status lds_deposit_replay(lds_redis *redis, const char *deposit_id, json_t **summary, lds_error *err)
{
    *summary = NULL;
    lds_status st = lds_deposit_finish(redis, deposit_id, err);
    json_t *deposit = NULL;
    if (st == LDS_OK)
        st = lds_deposit_get(redis, deposit_id, &deposit, err);
    if (st == LDS_OK)
        *summary = deposit_summary(deposit);
    json_decref(deposit);
    return st;
}

lds_status lds_deposit_create(lds_redis *redis, const lds_deposit_request *request, char deposit_id[LDS_ID_MAX],
                              json_t **summary, lds_error *err)
{
    if (summary)
        *summary = NULL;
    const char *name = request->name ? request->name : lds_path_basename(request->archive_path);
    lds_limits limits;
    if (request->limits)
        limits = *request->limits;
    else
        lds_limits_init(&limits);
    char scratch[PATH_MAX];
    if (request->scratch_dir)
        snprintf(scratch, sizeof(scratch), "%s", request->scratch_dir);
    else
        snprintf(scratch, sizeof(scratch), "%s/tmp", lds_home_dir());

    /* 1. check only: a refused archive writes nothing */
    lds_archive_result checked;
    memset(&checked, 0, sizeof(checked));
    lds_status st = lds_archive_walk(request->archive_path, &limits, NULL, &checked, err);
    if (st == LDS_OK && checked.item_count == 0)
        st = lds_error_set(err, LDS_ENOGEOM, "%s: no model files in the archive (%llu members)", name,
                           (unsigned long long)checked.member_count);
    if (st != LDS_OK) {
        /* walk errors name the archive by its path's base name (a temp file): use the upload's */
        const char *tmpname = lds_path_basename(request->archive_path);
        size_t tl = strlen(tmpname);
        if (request->name && strncmp(err->message, tmpname, tl) == 0 && err->message[tl] == ':') {
            char message[LDS_ERROR_MESSAGE_MAX];
            snprintf(message, sizeof(message), "%s%s", request->name, err->message + tl);
            snprintf(err->message, sizeof(err->message), "%s", message);
        }
        lds_archive_result_cleanup(&checked);
        return st;
    }

    /* 2. store the members that belong to a model */
    store_sink sink;
    memset(&sink, 0, sizeof(sink));
    sink.blob_root = request->blob_root;
    sink.scratch = scratch;
    sink.fd = -1;
    size_t wanted = 0;
    for (size_t i = 0; i < checked.item_count; i++)
        wanted += 1 + checked.items[i].sidecar_count;
    sink.wanted = calloc(wanted, sizeof(char *));
    sink.stored = calloc(wanted, sizeof(stored_member));
    if (sink.wanted == NULL || sink.stored == NULL)
        st = lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
    for (size_t i = 0; st == LDS_OK && i < checked.item_count; i++) {
        sink.wanted[sink.wanted_count++] = checked.items[i].file;
        for (size_t k = 0; k < checked.items[i].sidecar_count; k++)
            sink.wanted[sink.wanted_count++] = checked.items[i].sidecars[k];
    }
    if (st == LDS_OK && sink.wanted_count > 1) {
        /* a sidecar may serve several models of one directory: keep each path once */
        qsort(sink.wanted, sink.wanted_count, sizeof(char *), compare_paths);
        size_t n = 1;
        for (size_t i = 1; i < sink.wanted_count; i++)
            if (strcmp(sink.wanted[i], sink.wanted[n - 1]) != 0)
                sink.wanted[n++] = sink.wanted[i];
        sink.wanted_count = n;
    }
    lds_archive_sink archive_sink = {&sink, sink_begin, sink_write, sink_end};
    lds_archive_result stored;
    memset(&stored, 0, sizeof(stored));
    if (st == LDS_OK)
        st = lds_archive_walk(request->archive_path, &limits, &archive_sink, &stored, err);
    lds_archive_result_cleanup(&stored);

    /* 3. the deposit record with its plan (one asset per model, ids chosen), then the assets:
     * a crash in between leaves a deposit that its retry or the sweep finishes (lds_deposit_finish) */
    json_t *items = json_array(), *warnings = json_array();
    for (size_t i = 0; i < checked.warning_count; i++)
        json_array_append_new(warnings, json_string(checked.warnings[i]));
    char id[LDS_ID_MAX];
    lds_ingest_new_id("d_", id, sizeof(id));
    for (size_t i = 0; st == LDS_OK && i < checked.item_count; i++) {
        json_t *entry = plan_item(request, id, &checked.items[i], &sink, warnings, err);
        if (entry == NULL)
            st = err->code != LDS_OK ? err->code : lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
        else
            json_array_append_new(items, entry);
    }
    int replayed = 0;
    if (st == LDS_OK)
        st = record_deposit(redis, request, name, id, items, warnings, &replayed, err);
    if (st == LDS_OK)
        st = lds_deposit_finish(redis, id, err);
    if (st == LDS_OK) {
        snprintf(deposit_id, LDS_ID_MAX, "%s", id);
        if (summary && replayed) {
            json_t *earlier = NULL;
            st = lds_deposit_get(redis, id, &earlier, err);
            if (st == LDS_OK) {
                *summary = deposit_summary(earlier);
                json_decref(earlier);
            }
        } else if (summary) {
            json_t *listed = json_array();
            size_t k;
            json_t *entry;
            json_array_foreach(items, k, entry) json_array_append_new(
                listed, json_pack("{s:O,s:O}", "file", json_object_get(entry, "file"), "asset",
                                  json_object_get(entry, "asset")));
            *summary = json_pack("{s:s,s:s,s:o,s:O}", "id", id, "name", name, "items", listed, "warnings", warnings);
        }
    }
    json_decref(items);
    json_decref(warnings);
    free(sink.wanted);
    free(sink.stored);
    lds_archive_result_cleanup(&checked);
    return st;
}

lds_status lds_deposit_get(lds_redis *redis, const char *deposit_id, json_t **deposit, lds_error *err)
{
    *deposit = NULL;
    if (!deposit_id_valid(deposit_id))
        return lds_error_set(err, LDS_ENOENT, "no deposit %.60s", deposit_id ? deposit_id : "");
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "HMGET " DEPOSIT_PREFIX "%s id name owner_key accepted items "
                                                          "warnings",
                                      deposit_id);
    if (st != LDS_OK)
        return st;
    if (reply->type != LDS_REDIS_ARRAY || reply->elements != 6 || lds_redis_reply_str(&reply->element[0]) == NULL) {
        lds_redis_reply_free(reply);
        return lds_error_set(err, LDS_ENOENT, "no deposit %s", deposit_id);
    }
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(deposit_id));
    const char *keys[] = {"name", "owner_key", "accepted"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = lds_redis_reply_str(&reply->element[i + 1]);
        json_object_set_new(out, keys[i], v ? json_string(v) : json_null());
    }
    const char *items_text = lds_redis_reply_str(&reply->element[4]);
    const char *warnings_text = lds_redis_reply_str(&reply->element[5]);
    json_t *items = items_text ? json_loads(items_text, 0, NULL) : NULL;
    json_t *warnings = warnings_text ? json_loads(warnings_text, 0, NULL) : NULL;
    lds_redis_reply_free(reply);
    if (!json_is_array(items))
        items = (json_decref(items), json_array());
    json_object_set_new(out, "warnings", json_is_array(warnings) ? warnings : (json_decref(warnings), json_array()));

    size_t pending = 0, ready = 0, failed = 0, index;
    json_t *item;
    json_array_foreach(items, index, item)
    {
        const char *asset = json_string_value(json_object_get(item, "asset"));
        const char *status = "unknown";
        json_t *error = json_null();
        lds_redis_reply *r = NULL;
        if (asset && (st = lds_redis_command(redis, &r, err, "HMGET lds:asset:%s status error", asset)) != LDS_OK)
            break;
        if (r && r->type == LDS_REDIS_ARRAY && r->elements == 2) {
            if (lds_redis_reply_str(&r->element[0]))
                status = lds_redis_reply_str(&r->element[0]);
            const char *e = lds_redis_reply_str(&r->element[1]);
            json_t *parsed = e && *e ? json_loads(e, 0, NULL) : NULL;
            if (json_is_object(parsed))
                error = parsed;
            else
                json_decref(parsed);
        }
        json_object_set_new(item, "status", json_string(status));
        json_object_set_new(item, "error", error);
        if (strcmp(status, "ready") == 0)
            ready++;
        else if (strcmp(status, "failed") == 0)
            failed++;
        else
            pending++;
        lds_redis_reply_free(r); /* status points into it */
    }
    if (st != LDS_OK) {
        json_decref(items);
        json_decref(out);
        return st;
    }
    size_t total = json_array_size(items);
    const char *status = pending ? "processing" : (failed == total ? "failed" : "done");
    json_object_set_new(out, "status", json_string(status));
    json_object_set_new(out, "counts", json_pack("{s:I,s:I,s:I,s:I}", "items", (json_int_t)total, "ready",
                                                 (json_int_t)ready, "failed", (json_int_t)failed, "pending",
                                                 (json_int_t)pending));
    if (pending == 0 && failed > 0) {
        char text[128];
        snprintf(text, sizeof(text), "%zu of %zu items failed", failed, total);
        json_object_set_new(out, "error", json_pack("{s:s,s:s}", "code", "items_failed", "message", text));
    } else {
        json_object_set_new(out, "error", json_null());
    }
    json_object_set_new(out, "items", items);
    *deposit = out;
    return LDS_OK;
}
