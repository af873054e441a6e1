/*
 * valuation_store.c: the service side of valuation/ (DESIGN.md section 2: usage events -> Redis
 * events stream -> decayed signals, re-scoring). valuation/ does the math on structs and JSON;
 * this file moves its state in and out of Redis:
 *
 *   lds:{v}:events                  stream of accepted usage events, consumer group "valuation"
 *   lds:valuation:seen:<sha256>     dedup of event ids (per sending account), kept 400 days
 *   lds:valuation:applied:<entry>   an entry already applied (exactly-once across redeliveries)
 *   lds:asset:<id> "signals"        the asset's decayed counters (lds_valuation_signals JSON)
 *   lds:asset:<id> "rarity"         1 - similarity to the nearest other shape, set at publish
 *   lds:asset:<id> "valuation"      the latest answer, as served (compact JSON text)
 *   lds:valuation:market:<category> decayed purchases of a category ("*": the whole catalogue)
 *   lds:valuation:assets:<category> set of the category's ready assets ("*": all): the supply
 *   lds:valuation:model             the current model (JSON); lds:valuation:models hash of every
 *                                   version by number; lds:valuation:model_version the last number
 *
 * Events are applied with WATCH/MULTI (optimistic: any number of aggregators, one per worker
 * process) and re-scored at once, so a valuation follows its events within the aggregator's poll.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "valuation.h"

#define EVENTS_KEY "lds:{v}:events"
#define EVENTS_GROUP "valuation"
#define SEEN_TTL_S (400 * 86400)
#define APPLIED_TTL_S (7 * 86400)
#define BATCH 128
#define RECLAIM_IDLE_MS 30000
#define WATCH_RETRIES 20

/* ---- submitting ---- */

lds_status lds_valuation_events_submit(lds_redis *redis, const char *account, const lds_valuation_event *events,
                                       size_t count, size_t *accepted, size_t *duplicates, lds_error *err)
{
    static const char *const script =
        "local acc, dup = 0, 0\n"
        "for i = 2, #ARGV, 2 do\n"
        "  local fresh = true\n"
        "  if ARGV[i] ~= '' then fresh = redis.call('SET', ARGV[i], '1', 'NX', 'EX', ARGV[1]) end\n"
        "  if fresh then redis.call('XADD', KEYS[1], '*', 'event', ARGV[i + 1]); acc = acc + 1 else dup = dup + 1 end\n"
        "end\n"
        "return {acc, dup}\n";
    *accepted = *duplicates = 0;
    if (count == 0)
        return LDS_OK;
    size_t argc = 5 + 2 * count;
    const char **argv = calloc(argc, sizeof(char *));
    size_t *lens = calloc(argc, sizeof(size_t));
    char **owned = calloc(2 * count, sizeof(char *));
    lds_status st = argv && lens && owned ? LDS_OK : lds_error_set(err, LDS_ENOMEM, "events: out of memory");
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%d", SEEN_TTL_S);
    for (size_t i = 0; i < count && st == LDS_OK; i++) {
        json_t *j = lds_valuation_event_to_json(&events[i]);
        json_object_set_new(j, "by", json_string(account));
        owned[2 * i + 1] = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        if (events[i].id[0]) {
            lds_sha256 ctx;
            unsigned char digest[LDS_SHA256_BYTES];
            char hex[LDS_SHA256_HEX];
            lds_sha256_init(&ctx);
            lds_sha256_update(&ctx, account, strlen(account) + 1);
            lds_sha256_update(&ctx, events[i].id, strlen(events[i].id));
            lds_sha256_final(&ctx, digest);
            lds_hex_encode(digest, sizeof(digest), hex);
            owned[2 * i] = malloc(96);
            if (owned[2 * i])
                snprintf(owned[2 * i], 96, "lds:valuation:seen:%s", hex);
        } else {
            owned[2 * i] = strdup("");
        }
        if (owned[2 * i] == NULL || owned[2 * i + 1] == NULL)
            st = lds_error_set(err, LDS_ENOMEM, "events: out of memory");
    }
    if (st == LDS_OK) {
        argv[0] = "EVAL";
        argv[1] = script;
        argv[2] = "1";
        argv[3] = EVENTS_KEY;
        argv[4] = ttl;
        for (size_t i = 0; i < 2 * count; i++)
            argv[5 + i] = owned[i];
        for (size_t i = 0; i < argc; i++)
            lens[i] = strlen(argv[i]);
        lds_redis_reply *reply = NULL;
        st = lds_redis_command_argv(redis, &reply, err, (int)argc, argv, lens);
        if (st == LDS_OK && reply->type == LDS_REDIS_ARRAY && reply->elements == 2) {
            *accepted = (size_t)reply->element[0].integer;
            *duplicates = (size_t)reply->element[1].integer;
        }
        lds_redis_reply_free(reply);
    }
    for (size_t i = 0; owned && i < 2 * count; i++)
        free(owned[i]);
    free(owned);
    free(argv);
    free(lens);
    return st;
}

/* ---- the model ---- */

lds_status lds_valuation_store_model_load(lds_redis *redis, const char *home, lds_valuation_model *model,
                                          lds_error *err)
{
    lds_redis_reply *reply = NULL;
    json_t *j = NULL;
    if (redis && lds_redis_command(redis, &reply, NULL, "GET lds:valuation:model") == LDS_OK && reply->str)
        j = json_loadb(reply->str, reply->len, 0, NULL);
    lds_redis_reply_free(reply);
    if (j == NULL) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/valuation-model.json", home ? home : lds_home_dir());
        if (access(path, F_OK) == 0) {
            json_error_t jerr;
            j = json_load_file(path, 0, &jerr);
            if (j == NULL)
                return lds_error_set(err, LDS_EFORMAT, "%s: line %d: %s", path, jerr.line, jerr.text);
        }
    }
    if (j == NULL) {
        lds_valuation_model_prior(model);
        return LDS_OK;
    }
    lds_status st = lds_valuation_model_from_json(j, model, err);
    json_decref(j);
    return st;
}

lds_status lds_valuation_store_model_save(lds_redis *redis, lds_valuation_model *model, long *version,
                                          lds_error *err)
{
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "INCR lds:valuation:model_version");
    if (st != LDS_OK)
        return st;
    *version = (long)reply->integer;
    lds_redis_reply_free(reply);
    snprintf(model->version, sizeof(model->version), "%s/fit-%ld", LDS_VALUATION_WEIGHTS_VERSION, *version);
    json_t *j = lds_valuation_model_to_json(model);
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (text == NULL)
        return lds_error_set(err, LDS_ENOMEM, "model: out of memory");
    st = lds_redis_command(redis, NULL, err, "HSET lds:valuation:models %ld %s", *version, text);
    if (st == LDS_OK)
        st = lds_redis_command(redis, NULL, err, "SET lds:valuation:model %s", text);
    free(text);
    return st;
}

/* ---- reading an asset ---- */

typedef struct asset_state {
    json_t *manifest, *metadata;
    lds_valuation_signals signals;
    double rarity;
    int ready;
    char category[LDS_VALUATION_NAME_MAX];
} asset_state;

static void asset_state_cleanup(asset_state *a)
{
    json_decref(a->manifest);
    json_decref(a->metadata);
}

static json_t *reply_json(const lds_redis_reply *r)
{
    return r->type == LDS_REDIS_STRING ? json_loadb(r->str, r->len, 0, NULL) : NULL;
}

static lds_status asset_read(lds_redis *redis, const char *asset, int with_manifest, asset_state *a, lds_error *err)
{
    memset(a, 0, sizeof(*a));
    a->rarity = NAN;
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "HMGET lds:asset:%s status metadata signals rarity %s", asset,
                                      with_manifest ? "manifest" : "status");
    if (st != LDS_OK)
        return st;
    if (reply->type != LDS_REDIS_ARRAY || reply->elements != 5 || reply->element[0].type != LDS_REDIS_STRING) {
        lds_redis_reply_free(reply);
        return lds_error_set(err, LDS_ENOENT, "asset %s: no such asset", asset);
    }
    a->ready = strcmp(reply->element[0].str, "ready") == 0;
    a->metadata = reply_json(&reply->element[1]);
    json_t *signals = reply_json(&reply->element[2]);
    lds_valuation_signals_from_json(&a->signals, signals);
    json_decref(signals);
    if (reply->element[3].type == LDS_REDIS_STRING)
        a->rarity = strtod(reply->element[3].str, NULL);
    if (with_manifest)
        a->manifest = reply_json(&reply->element[4]);
    const char *cat = json_string_value(json_object_get(a->metadata, "category"));
    lds_valuation_item item;
    lds_valuation_item_init(&item);
    lds_valuation_item_from_manifest(&item, NULL, a->metadata);
    (void)cat;
    snprintf(a->category, sizeof(a->category), "%s", item.category);
    lds_redis_reply_free(reply);
    return LDS_OK;
}

static lds_status market_read(lds_redis *redis, const char *category, lds_valuation_market *m, lds_error *err)
{
    memset(m, 0, sizeof(*m));
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "GET lds:valuation:market:%s", category);
    if (st != LDS_OK)
        return st;
    json_t *j = reply_json(reply);
    lds_valuation_market_from_json(m, j);
    json_decref(j);
    lds_redis_reply_free(reply);
    st = lds_redis_command(redis, &reply, err, "SCARD lds:valuation:assets:%s", category);
    if (st == LDS_OK)
        m->supply = (double)reply->integer;
    lds_redis_reply_free(reply);
    return st;
}

/* ---- scoring ---- */

/* Values an asset from its record, or from manifest (not NULL: the one about to be published). */
static lds_status score_asset(lds_redis *redis, const lds_valuation_model *model, const char *asset,
                              const json_t *manifest, double half_life_days, int64_t now_ms, lds_error *err)
{
    asset_state a;
    lds_status st = asset_read(redis, asset, manifest == NULL, &a, err);
    if (st != LDS_OK)
        return st;
    if (manifest == NULL && (!a.ready || a.manifest == NULL)) { /* the first score comes at publish */
        asset_state_cleanup(&a);
        return LDS_OK;
    }
    lds_valuation_item item;
    lds_valuation_item_from_manifest(&item, manifest ? manifest : a.manifest, a.metadata);
    item.rarity = a.rarity;
    item.views = a.signals.total_views;
    item.favorites = a.signals.total_favorites;
    item.downloads = a.signals.total_downloads;
    lds_valuation_market category, catalogue;
    st = market_read(redis, item.category[0] ? item.category : "*", &category, err);
    if (st == LDS_OK)
        st = market_read(redis, "*", &catalogue, err);
    if (st == LDS_OK) {
        lds_valuation_context ctx = {&a.signals, item.category[0] ? &category : NULL, &catalogue, now_ms,
                                     half_life_days};
        lds_valuation_result result;
        lds_valuation_compute(model, &item, &ctx, &result);
        char *text = lds_valuation_result_dumps(&result, now_ms);
        st = text ? lds_redis_command(redis, NULL, err, "HSET lds:asset:%s valuation %s", asset, text)
                  : lds_error_set(err, LDS_ENOMEM, "valuation: out of memory");
        free(text);
        /* the catalogue's sort=value follows every re-score (an asset not indexed yet takes the
         * score from its record when it is) */
        if (st == LDS_OK)
            st = lds_catalogue_set_value(redis, asset, result.score, err);
    }
    asset_state_cleanup(&a);
    return st;
}

lds_status lds_valuation_rescore(lds_redis *redis, const lds_valuation_model *model, const char *asset,
                                 double half_life_days, int64_t now_ms, lds_error *err)
{
    return score_asset(redis, model, asset, NULL, half_life_days, now_ms, err);
}

lds_status lds_valuation_publish(lds_redis *redis, const char *asset, json_t *manifest, lds_error *err)
{
    lds_valuation_model model;
    lds_status st = lds_valuation_store_model_load(redis, NULL, &model, err);
    double half_life;
    if (st == LDS_OK)
        st = lds_valuation_half_life_from_env(&half_life, err);
    if (st != LDS_OK)
        return st;
    lds_valuation_item item;
    lds_valuation_item_from_manifest(&item, manifest, NULL);
    double rarity = 1.0;
    const char *shape = json_string_value(json_object_get(json_object_get(manifest, "fingerprint"), "shape"));
    if (shape && *shape) {
        lds_shape_match hit;
        size_t found = 0;
        if (lds_shape_index_lookup(redis, shape, asset, 1, &hit, 1, &found, NULL, err) != LDS_OK)
            return err->code;
        rarity = found ? fmax(0.0, 1.0 - hit.similarity) : 1.0;
    }
    st = lds_redis_command(redis, NULL, err, "HSET lds:asset:%s rarity %.6f", asset, rarity);
    if (st == LDS_OK)
        st = lds_redis_command(redis, NULL, err, "SADD lds:valuation:assets:* %s", asset);
    if (st == LDS_OK && item.category[0])
        st = lds_redis_command(redis, NULL, err, "SADD lds:valuation:assets:%s %s", item.category, asset);
    if (st == LDS_OK)
        st = score_asset(redis, &model, asset, manifest, half_life, lds_wall_ms(), err);
    return st;
}

/* ---- the aggregator ---- */

static lds_status market_apply(lds_redis *redis, const char *category, const lds_valuation_event *e, double h,
                               char **text, lds_error *err)
{
    lds_valuation_market m;
    lds_status st = market_read(redis, category, &m, err);
    if (st != LDS_OK)
        return st;
    lds_valuation_counter_add(&m.purchases, 1, e->at_ms, h);
    json_t *j = lds_valuation_market_to_json(&m);
    *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return *text ? LDS_OK : lds_error_set(err, LDS_ENOMEM, "events: out of memory");
}

/* Applies one stream entry exactly once (WATCH the asset and the markets, skip if already applied). */
static lds_status apply_entry(lds_redis *redis, const char *entry, const lds_valuation_event *e, double h,
                              lds_error *err)
{
    for (int attempt = 0; attempt < WATCH_RETRIES; attempt++) {
        lds_status st = lds_redis_command(redis, NULL, err, "WATCH lds:asset:%s lds:valuation:applied:%s "
                                          "lds:valuation:market:*", e->asset, entry);
        lds_redis_reply *reply = NULL;
        if (st == LDS_OK)
            st = lds_redis_command(redis, &reply, err, "EXISTS lds:valuation:applied:%s", entry);
        int done = st == LDS_OK && reply->integer > 0;
        lds_redis_reply_free(reply);
        asset_state a;
        memset(&a, 0, sizeof(a));
        if (st == LDS_OK && !done)
            st = asset_read(redis, e->asset, 0, &a, err);
        if (st != LDS_OK || done) {
            lds_redis_command(redis, NULL, NULL, "UNWATCH");
            asset_state_cleanup(&a);
            return st == LDS_ENOENT ? LDS_OK : st; /* an asset deleted since: nothing to count */
        }
        if (e->type == LDS_VALUATION_PURCHASE && a.category[0])
            lds_redis_command(redis, NULL, NULL, "WATCH lds:valuation:market:%s", a.category);
        lds_valuation_signals_apply(&a.signals, e, h);
        json_t *sj = lds_valuation_signals_to_json(&a.signals);
        char *signals = json_dumps(sj, JSON_COMPACT), *all = NULL, *cat = NULL;
        json_decref(sj);
        if (e->type == LDS_VALUATION_PURCHASE) {
            st = market_apply(redis, "*", e, h, &all, err);
            if (st == LDS_OK && a.category[0])
                st = market_apply(redis, a.category, e, h, &cat, err);
        }
        if (st == LDS_OK && signals) {
            lds_redis_command(redis, NULL, NULL, "MULTI");
            lds_redis_command(redis, NULL, NULL, "HSET lds:asset:%s signals %s", e->asset, signals);
            if (all)
                lds_redis_command(redis, NULL, NULL, "SET lds:valuation:market:* %s", all);
            if (cat)
                lds_redis_command(redis, NULL, NULL, "SET lds:valuation:market:%s %s", a.category, cat);
            lds_redis_command(redis, NULL, NULL, "SET lds:valuation:applied:%s 1 EX %d", entry, APPLIED_TTL_S);
            st = lds_redis_command(redis, &reply, err, "EXEC");
        }
        int committed = st == LDS_OK && reply && reply->type == LDS_REDIS_ARRAY;
        lds_redis_reply_free(reply);
        free(signals);
        free(all);
        free(cat);
        asset_state_cleanup(&a);
        if (st != LDS_OK || committed)
            return st;
    }
    return lds_error_set(err, LDS_EUNAVAIL, "events: entry %s kept conflicting; left for a retry", entry);
}

lds_status lds_valuation_events_setup(lds_redis *redis, lds_error *err)
{
    lds_error inner;
    lds_error_clear(&inner);
    lds_status st = lds_redis_command(redis, NULL, &inner, "XGROUP CREATE " EVENTS_KEY " " EVENTS_GROUP " 0 MKSTREAM");
    if (st == LDS_EREDIS && strstr(inner.message, "BUSYGROUP"))
        return LDS_OK;
    if (st != LDS_OK)
        return lds_error_set(err, st, "%s", inner.message);
    return LDS_OK;
}

/* The entries of an XREADGROUP or XAUTOCLAIM reply: [[id, [field, value, ...]], ...]. */
static lds_status apply_entries(lds_redis *redis, const lds_redis_reply *entries, double h, json_t *touched,
                                size_t *applied, lds_error *err)
{
    for (size_t i = 0; entries && entries->type == LDS_REDIS_ARRAY && i < entries->elements; i++) {
        const lds_redis_reply *entry = &entries->element[i];
        if (entry->type != LDS_REDIS_ARRAY || entry->elements != 2 || entry->element[0].str == NULL)
            continue;
        const char *id = entry->element[0].str;
        const lds_redis_reply *fields = &entry->element[1];
        lds_valuation_event e;
        json_t *j = fields->type == LDS_REDIS_ARRAY && fields->elements == 2 ? reply_json(&fields->element[1]) : NULL;
        lds_error bad;
        lds_error_clear(&bad);
        if (j && lds_valuation_event_from_json(j, &e, &bad) == LDS_OK) {
            lds_status st = apply_entry(redis, id, &e, h, err);
            if (st != LDS_OK) {
                json_decref(j);
                return st; /* left pending: redelivered after RECLAIM_IDLE_MS */
            }
            json_object_set_new(touched, e.asset, json_true());
            (*applied)++;
        } else {
            lds_log_warn("valuation: events entry %s is malformed; dropped", id);
        }
        json_decref(j);
        lds_redis_command(redis, NULL, NULL, "XACK " EVENTS_KEY " " EVENTS_GROUP " %s", id);
        lds_redis_command(redis, NULL, NULL, "XDEL " EVENTS_KEY " %s", id);
    }
    return LDS_OK;
}

lds_status lds_valuation_aggregate(lds_redis *redis, const char *consumer, int block_ms, double half_life_days,
                                   size_t *applied, lds_error *err)
{
    *applied = 0;
    json_t *touched = json_object();
    lds_redis_reply *reply = NULL;
    /* entries a dead aggregator held, then new ones */
    lds_status st = lds_redis_command(redis, &reply, err, "XAUTOCLAIM " EVENTS_KEY " " EVENTS_GROUP " %s %d 0-0 COUNT %d",
                                      consumer, RECLAIM_IDLE_MS, BATCH);
    if (st == LDS_EREDIS && strstr(err->message, "NOGROUP")) {
        lds_error_clear(err);
        st = lds_valuation_events_setup(redis, err);
    } else if (st == LDS_OK && reply->type == LDS_REDIS_ARRAY && reply->elements >= 2) {
        st = apply_entries(redis, &reply->element[1], half_life_days, touched, applied, err);
    }
    lds_redis_reply_free(reply);
    reply = NULL;
    if (st == LDS_OK && *applied == 0) {
        st = block_ms > 0 ? lds_redis_command(redis, &reply, err, "XREADGROUP GROUP " EVENTS_GROUP " %s COUNT %d BLOCK %d "
                                              "STREAMS " EVENTS_KEY " >", consumer, BATCH, block_ms)
                          : lds_redis_command(redis, &reply, err, "XREADGROUP GROUP " EVENTS_GROUP " %s COUNT %d "
                                              "STREAMS " EVENTS_KEY " >", consumer, BATCH);
        if (st == LDS_OK && reply->type == LDS_REDIS_ARRAY && reply->elements == 1 &&
            reply->element[0].type == LDS_REDIS_ARRAY && reply->element[0].elements == 2)
            st = apply_entries(redis, &reply->element[0].element[1], half_life_days, touched, applied, err);
        lds_redis_reply_free(reply);
    }
    if (json_object_size(touched) > 0) {
        lds_valuation_model model;
        lds_error inner;
        lds_error_clear(&inner);
        if (lds_valuation_store_model_load(redis, NULL, &model, &inner) != LDS_OK) {
            lds_log_warn("valuation: %s; using the built-in prior", inner.message);
            lds_valuation_model_prior(&model);
        }
        const char *asset;
        json_t *v;
        int64_t now = lds_wall_ms();
        json_object_foreach(touched, asset, v)
        {
            lds_error_clear(&inner);
            if (lds_valuation_rescore(redis, &model, asset, half_life_days, now, &inner) != LDS_OK)
                lds_log_warn("valuation: re-scoring %s: %s", asset, inner.message);
        }
    }
    json_decref(touched);
    return st;
}

lds_status lds_valuation_rescore_all(lds_redis *redis, const lds_valuation_model *model, size_t *count,
                                     lds_error *err)
{
    *count = 0;
    double half_life;
    lds_status st = lds_valuation_half_life_from_env(&half_life, err);
    lds_redis_reply *ids = NULL;
    if (st == LDS_OK)
        st = lds_redis_command(redis, &ids, err, "SMEMBERS lds:valuation:assets:*");
    int64_t now = lds_wall_ms();
    for (size_t i = 0; st == LDS_OK && i < ids->elements; i++)
        if (ids->element[i].str && (st = lds_valuation_rescore(redis, model, ids->element[i].str, half_life, now,
                                                               err)) == LDS_OK)
            (*count)++;
    lds_redis_reply_free(ids);
    return st;
}

/* ---- training rows from recorded purchases ---- */

lds_status lds_valuation_store_rows(lds_redis *redis, lds_valuation_row **rows, size_t *count, lds_error *err)
{
    *rows = NULL;
    *count = 0;
    lds_redis_reply *ids = NULL;
    lds_status st = lds_redis_command(redis, &ids, err, "SMEMBERS lds:valuation:assets:*");
    if (st != LDS_OK)
        return st;
    *rows = calloc(ids->elements ? ids->elements : 1, sizeof(lds_valuation_row));
    if (*rows == NULL) {
        lds_redis_reply_free(ids);
        return lds_error_set(err, LDS_ENOMEM, "fit: out of memory");
    }
    for (size_t i = 0; i < ids->elements && st == LDS_OK; i++) {
        asset_state a;
        if (asset_read(redis, ids->element[i].str, 1, &a, err) != LDS_OK) {
            lds_error_clear(err);
            continue;
        }
        if (a.ready && a.manifest && a.signals.purchases.value > 0) {
            lds_valuation_row *r = &(*rows)[(*count)++];
            lds_valuation_item_from_manifest(&r->item, a.manifest, a.metadata);
            r->item.rarity = a.rarity;
            r->item.views = a.signals.total_views;
            r->item.favorites = a.signals.total_favorites;
            r->item.downloads = a.signals.total_downloads;
            r->log_price = a.signals.log_price.value / a.signals.purchases.value;
            r->weight = fmin(a.signals.total_purchases, 5.0);
        }
        asset_state_cleanup(&a);
    }
    lds_redis_reply_free(ids);
    return st;
}

/* ---- the aggregator thread of a worker process ---- */

typedef struct aggregator {
    const char *redis_url;
    volatile sig_atomic_t *stop;
    double half_life;
    volatile sig_atomic_t quit; /* set by lds_valuation_aggregator_join */
    pthread_t thread;
} aggregator;

static void *aggregator_main(void *arg)
{
    aggregator *ag = arg;
    char consumer[128], host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    snprintf(consumer, sizeof(consumer), "%s-%d-valuation", host, (int)getpid());
    lds_redis *redis = NULL;
    while (!*ag->stop && !ag->quit) {
        lds_error err;
        lds_error_clear(&err);
        lds_fork_lock(); /* fork.c: its Redis work allocates beside the worker's sandbox forks */
        lds_status st = LDS_OK;
        if (redis == NULL && (st = lds_redis_connect(ag->redis_url, &redis, &err)) != LDS_OK) {
            lds_redis_close(redis);
            redis = NULL;
        }
        size_t applied = 0;
        if (st == LDS_OK)
            st = lds_valuation_aggregate(redis, consumer, 500, ag->half_life, &applied, &err);
        lds_fork_unlock();
        if (st != LDS_OK) {
            if (redis != NULL)
                lds_log_warn("valuation aggregator: %s", err.message);
            lds_sleep_ms(redis == NULL ? 500 : 200);
        }
    }
    lds_redis_close(redis);
    return NULL;
}

lds_status lds_valuation_aggregator_start(const char *redis_url, volatile sig_atomic_t *stop,
                                          lds_valuation_aggregator **out, lds_error *err)
{
    *out = NULL;
    aggregator *ag = calloc(1, sizeof(*ag));
    if (ag == NULL)
        return lds_error_set(err, LDS_ENOMEM, "valuation aggregator: out of memory");
    ag->redis_url = redis_url;
    ag->stop = stop;
    if (lds_valuation_half_life_from_env(&ag->half_life, err) != LDS_OK) {
        free(ag);
        return err->code;
    }
    if (pthread_create(&ag->thread, NULL, aggregator_main, ag) != 0) {
        free(ag);
        return lds_error_set(err, LDS_EINTERNAL, "valuation aggregator: cannot start a thread");
    }
    *out = (lds_valuation_aggregator *)ag;
    return LDS_OK;
}

void lds_valuation_aggregator_join(lds_valuation_aggregator *handle)
{
    aggregator *ag = (aggregator *)handle;
    if (ag == NULL)
        return;
    ag->quit = 1;
    pthread_join(ag->thread, NULL);
    free(ag);
}
