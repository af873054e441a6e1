/*
 * previews.c: issuing, checking and rendering protected previews, and tracing leaks
 * (DESIGN.md 6.7; the geometry is sandbox/preview*.c, the tokens proto/paseto.c).
 *
 * Redis: lds:preview:<id> is a hash {asset, account, key, role, issued, issued_ms, expires,
 * watermark_key, lod, lod_blob, max_triangles, max_texture, position_bits} kept for good (a leak
 * may surface years later); lds:asset-previews:<asset> is a sorted set of preview ids by issue
 * time. A token's claims: {"iss": "lodestone", "sub": account, "asset", "jti": preview id,
 * "iat", "exp"} (RFC 3339 UTC), footer {"kid": <k4.pid of the preview key>}.
 *
 * Preview bases are rebuilt from the recorded LOD blob (deterministic), and cached per process
 * (a few, reference counted) since every preview of an asset shares one.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ingest.h"
#include "proto.h"
#include "sandbox.h"

#define PREVIEW_PREFIX "lds:preview:"
#define ASSET_PREVIEWS_PREFIX "lds:asset-previews:"
#define MAX_LOD_BYTES (512u << 20)
#define CACHE_SLOTS 8
#define MAX_TRACE_PREVIEWS 100000

/* ---- settings ---- */

lds_status lds_preview_settings_from_env(lds_preview_settings *s, lds_error *err)
{
    memset(s, 0, sizeof(*s));
    s->position_bits = 11;
    uint64_t texture = 0, ttl_ms = 0;
    lds_status st = lds_setting_u64("LODESTONE_PREVIEW_MAX_TRIANGLES", &s->max_triangles, err);
    if (st == LDS_OK)
        st = lds_setting_u64("LODESTONE_PREVIEW_MAX_TEXTURE", &texture, err);
    if (st == LDS_OK)
        st = lds_setting_ms("LODESTONE_PREVIEW_TTL", &ttl_ms, err);
    s->max_texture = (int)texture;
    s->ttl_seconds = ttl_ms / 1000;
    return st;
}

/* ---- time ---- */

static void rfc3339(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_rfc3339(const char *text, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int used = 0;
    if (text == NULL || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                               &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 20 || text[used] != 0)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return 0;
}

/* ---- issuing ---- */

/* The LOD a preview is cut from: the smallest level that still has at least max_triangles (the
 * least work to simplify from), or level 0 when every level has fewer. */
static lds_status choose_lod(const json_t *record, uint64_t max_triangles, int *level, const char **blob,
                             lds_error *err)
{
    const json_t *lods = json_object_get(json_object_get(record, "manifest"), "lods");
    const json_t *outputs = json_object_get(record, "outputs");
    *level = -1;
    json_int_t best = -1;
    size_t i;
    const json_t *lod;
    json_array_foreach(lods, i, lod)
    {
        json_int_t tris = json_integer_value(json_object_get(lod, "triangles"));
        if (*level < 0 || (tris >= (json_int_t)max_triangles && (best < (json_int_t)max_triangles || tris < best))) {
            *level = (int)json_integer_value(json_object_get(lod, "level"));
            best = tris;
        }
    }
    char name[32];
    snprintf(name, sizeof(name), "lod%d.glb", *level < 0 ? 0 : *level);
    *blob = json_string_value(json_object_get(outputs, name));
    if (*level < 0 || *blob == NULL || best <= 0)
        return lds_error_set(err, LDS_ENOGEOM, "asset %s: no LOD with triangles to preview",
                             json_string_value(json_object_get(record, "id")));
    return LDS_OK;
}

lds_status lds_preview_issue(lds_redis *redis, const lds_preview_keys *keys, const lds_preview_settings *settings,
                             const json_t *record, const lds_preview_viewer *viewer, json_t **out, lds_error *err)
{
    *out = NULL;
    const char *asset = json_string_value(json_object_get(record, "id"));
    int level;
    const char *blob;
    lds_status st = choose_lod(record, settings->max_triangles, &level, &blob, err);
    if (st != LDS_OK)
        return st;
    unsigned char random[16];
    char id[33], issued[32], expires[32], claims_text[1024];
    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
        return lds_error_set(err, LDS_EIO, "preview: no randomness available");
    lds_hex_encode(random, sizeof(random), id);
    time_t now = time(NULL);
    rfc3339(now, issued);
    rfc3339(now + (time_t)settings->ttl_seconds, expires);
    json_t *claims = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "iss", "lodestone", "sub", viewer->account, "asset", asset,
                               "jti", id, "iat", issued, "exp", expires);
    char *text = claims ? json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(claims);
    if (text == NULL || strlen(text) >= sizeof(claims_text)) {
        free(text);
        return lds_error_set(err, LDS_EINVAL, "preview: claims too long");
    }
    snprintf(claims_text, sizeof(claims_text), "%s", text);
    free(text);
    char *token = NULL;
    if ((st = lds_preview_token_sign(keys, claims_text, &token, err)) != LDS_OK)
        return st;
    char level_text[16], ms[32], tris[32], tex[16], bits[16];
    snprintf(level_text, sizeof(level_text), "%d", level);
    snprintf(ms, sizeof(ms), "%lld", (long long)lds_wall_ms());
    snprintf(tris, sizeof(tris), "%llu", (unsigned long long)settings->max_triangles);
    snprintf(tex, sizeof(tex), "%d", settings->max_texture);
    snprintf(bits, sizeof(bits), "%d", settings->position_bits);
    const char *argv[] = {"HSET", NULL, "asset", asset, "account", viewer->account, "key", viewer->key_id,
                          "role", viewer->role, "issued", issued, "issued_ms", ms, "expires", expires,
                          "watermark_key", lds_preview_keys_watermark_id(keys), "lod", level_text,
                          "lod_blob", blob, "max_triangles", tris, "max_texture", tex, "position_bits", bits};
    char key[96];
    snprintf(key, sizeof(key), PREVIEW_PREFIX "%s", id);
    argv[1] = key;
    st = lds_redis_command_argv(redis, NULL, err, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL);
    if (st == LDS_OK)
        st = lds_redis_command(redis, NULL, err, "ZADD " ASSET_PREVIEWS_PREFIX "%s %s %s", asset, ms, id);
    if (st == LDS_OK)
        *out = json_pack("{s:s,s:s,s:s,s:s,s:i}", "token", token, "expires", expires, "preview", id, "issued", issued,
                         "lod", level);
    free(token);
    return st == LDS_OK && *out == NULL ? lds_error_set(err, LDS_ENOMEM, "preview: out of memory") : st;
}

/* ---- checking ---- */

static json_t *hash_to_json(const lds_redis_reply *reply)
{
    json_t *o = json_object();
    for (size_t i = 0; reply && reply->type == LDS_REDIS_ARRAY && i + 1 < reply->elements; i += 2)
        if (reply->element[i].type == LDS_REDIS_STRING && reply->element[i + 1].type == LDS_REDIS_STRING)
            json_object_set_new(o, reply->element[i].str, json_string(reply->element[i + 1].str));
    return o;
}

static lds_status preview_record(lds_redis *redis, const char *id, json_t **out, lds_error *err)
{
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "HGETALL " PREVIEW_PREFIX "%s", id);
    if (st != LDS_OK)
        return st;
    *out = hash_to_json(reply);
    lds_redis_reply_free(reply);
    if (json_object_size(*out) == 0) {
        json_decref(*out);
        *out = NULL;
        return lds_error_set(err, LDS_ENOENT, "preview %s: not issued here", id);
    }
    json_object_set_new(*out, "id", json_string(id));
    return LDS_OK;
}

lds_status lds_preview_check(lds_redis *redis, const lds_preview_keys *keys, const char *token, const char *asset,
                             lds_preview_verdict *verdict, json_t **preview, lds_error *err)
{
    *preview = NULL;
    *verdict = LDS_PREVIEW_INVALID;
    char *text = NULL;
    if (token == NULL || *token == 0)
        return lds_error_set(err, LDS_EVERIFY, "no token: add ?token=");
    if (lds_preview_token_verify(keys, token, &text, err) != LDS_OK)
        return LDS_EVERIFY;
    json_t *claims = json_loads(text, 0, NULL);
    free(text);
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    const char *claimed = json_string_value(json_object_get(claims, "asset"));
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    time_t exp, iat, now = time(NULL);
    lds_status st = LDS_OK;
    if (!sub || !claimed || !jti || strlen(jti) > 64 ||
        parse_rfc3339(json_string_value(json_object_get(claims, "exp")), &exp) != 0 ||
        parse_rfc3339(json_string_value(json_object_get(claims, "iat")), &iat) != 0 || exp - iat > 900 ||
        iat > now + 60)
        st = lds_error_set(err, LDS_EVERIFY, "token: claims are not those of a preview");
    else if (exp <= now)
        *verdict = LDS_PREVIEW_EXPIRED, st = lds_error_set(err, LDS_EVERIFY, "token: expired at %s",
                                                           json_string_value(json_object_get(claims, "exp")));
    else if (strcmp(claimed, asset) != 0)
        *verdict = LDS_PREVIEW_OTHER_ASSET,
        st = lds_error_set(err, LDS_EPERM, "token: issued for asset %s, not %s", claimed, asset);
    else if ((st = preview_record(redis, jti, preview, err)) == LDS_ENOENT)
        st = lds_error_set(err, LDS_EVERIFY, "token: preview %s is not on record", jti);
    else if (st == LDS_OK && strcmp(json_string_value(json_object_get(*preview, "asset")), asset) != 0)
        st = lds_error_set(err, LDS_EVERIFY, "token: preview %s is of another asset", jti);
    if (st == LDS_OK)
        *verdict = LDS_PREVIEW_VALID;
    else if (st != LDS_EVERIFY && st != LDS_EPERM)
        *verdict = LDS_PREVIEW_UNAVAILABLE; /* Redis */
    json_decref(claims);
    if (st != LDS_OK) {
        json_decref(*preview);
        *preview = NULL;
    }
    return st;
}

/* ---- bases (cached) ---- */

typedef struct cache_slot {
    char key[160];
    lds_preview_base *base;
    int users;
    uint64_t used;
} cache_slot;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_slot cache[CACHE_SLOTS];
static uint64_t cache_clock;

static lds_status params_of(const json_t *preview, lds_preview_params *p, const char **blob, lds_error *err)
{
    memset(p, 0, sizeof(*p));
    const char *tris = json_string_value(json_object_get(preview, "max_triangles"));
    const char *tex = json_string_value(json_object_get(preview, "max_texture"));
    const char *bits = json_string_value(json_object_get(preview, "position_bits"));
    *blob = json_string_value(json_object_get(preview, "lod_blob"));
    if (!tris || !tex || !bits || !*blob || !lds_blob_id_valid(*blob))
        return lds_error_set(err, LDS_EFORMAT, "preview %s: incomplete record",
                             json_string_value(json_object_get(preview, "id")));
    p->max_triangles = strtoull(tris, NULL, 10);
    p->max_texture = atoi(tex);
    p->position_bits = atoi(bits);
    return LDS_OK;
}

/* Textures over the cap are made smaller the way the LOD chain makes its texture LODs (decoded,
 * resized and re-encoded in the sandbox), halving them as often as the largest needs, so the
 * preview keeps its look; what still exceeds the cap (a texture that could not be re-encoded) is
 * dropped by lds_preview_base_create. *lod is replaced when anything was resized. */
static lds_status shrink_textures(lds_mesh_model **lod, int max_texture, lds_error *err)
{
    int largest = 0;
    for (size_t i = 0; i < (*lod)->texture_count; i++) {
        const lds_mesh_texture *t = &(*lod)->textures[i];
        largest = t->width > largest ? t->width : largest;
        largest = t->height > largest ? t->height : largest;
    }
    int halvings = 0;
    for (int side = largest; max_texture > 0 && side > max_texture; side = (side + 1) / 2)
        halvings++;
    if (halvings == 0)
        return LDS_OK;
    lds_limits limits;
    lds_status st = lds_limits_from_env(&limits, err);
    if (st != LDS_OK)
        return st;
    lds_sandbox_limits sandbox_limits;
    lds_sandbox_limits_from(&sandbox_limits, &limits);
    lds_texture_lods *lods = NULL;
    lds_mesh_model *smaller = lds_mesh_model_clone(*lod);
    uint64_t bytes = 0;
    st = smaller ? lds_texture_lods_create(*lod, &sandbox_limits, 1, &lods, err)
                 : lds_error_set(err, LDS_ENOMEM, "preview: out of memory");
    if (st == LDS_OK)
        st = lds_texture_lods_apply(lods, smaller, 1.0 / (double)(1u << halvings), &bytes, err);
    lds_texture_lods_destroy(lods);
    if (st != LDS_OK) {
        lds_mesh_model_destroy(smaller);
        return st;
    }
    lds_mesh_model_destroy(*lod);
    *lod = smaller;
    return LDS_OK;
}

static lds_status build_base(const char *blobs, const char *blob, const lds_preview_params *p,
                             lds_preview_base **out, lds_error *err)
{
    unsigned char *data = NULL;
    size_t size = 0;
    lds_mesh_model *lod = NULL;
    lds_status st = lds_blob_get_buffer(blobs, blob, MAX_LOD_BYTES, &data, &size, err);
    if (st == LDS_OK)
        st = lds_mesh_import("lod.glb", data, size, NULL, NULL, &lod, err);
    free(data);
    if (st == LDS_OK)
        st = shrink_textures(&lod, p->max_texture, err);
    if (st == LDS_OK)
        st = lds_preview_base_create(lod, p, out, err);
    lds_mesh_model_destroy(lod);
    return st;
}

/* A base from the cache (built on a miss); give it back with base_release. */
static lds_status base_acquire(const char *blobs, const json_t *preview, lds_preview_base **out, lds_error *err)
{
    lds_preview_params p;
    const char *blob;
    lds_status st = params_of(preview, &p, &blob, err);
    if (st != LDS_OK)
        return st;
    char key[160];
    snprintf(key, sizeof(key), "%s/%llu/%d/%d", blob, (unsigned long long)p.max_triangles, p.max_texture,
             p.position_bits);
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].base && strcmp(cache[i].key, key) == 0) {
            cache[i].users++;
            cache[i].used = ++cache_clock;
            *out = cache[i].base;
            pthread_mutex_unlock(&cache_lock);
            return LDS_OK;
        }
    pthread_mutex_unlock(&cache_lock);
    lds_preview_base *base = NULL;
    if ((st = build_base(blobs, blob, &p, &base, err)) != LDS_OK)
        return st;
    pthread_mutex_lock(&cache_lock);
    int victim = -1;
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].users == 0 && (victim < 0 || cache[i].used < cache[victim].used))
            victim = i;
    if (victim >= 0) {
        lds_preview_base_destroy(cache[victim].base);
        snprintf(cache[victim].key, sizeof(cache[victim].key), "%s", key);
        cache[victim].base = base;
        cache[victim].users = 1;
        cache[victim].used = ++cache_clock;
    }
    pthread_mutex_unlock(&cache_lock);
    *out = base; /* with every slot busy, an uncached base that base_release frees */
    return LDS_OK;
}

static void base_release(lds_preview_base *base)
{
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].base == base) {
            cache[i].users--;
            pthread_mutex_unlock(&cache_lock);
            return;
        }
    pthread_mutex_unlock(&cache_lock);
    lds_preview_base_destroy(base);
}

void lds_preview_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].users == 0) {
            lds_preview_base_destroy(cache[i].base);
            memset(&cache[i], 0, sizeof(cache[i]));
        }
    pthread_mutex_unlock(&cache_lock);
}

/* ---- rendering ---- */

lds_status lds_preview_render(const char *blobs, const lds_preview_keys *keys, const json_t *preview, lds_buf *glb,
                              lds_error *err)
{
    lds_preview_base *base = NULL;
    lds_status st = base_acquire(blobs, preview, &base, err);
    if (st != LDS_OK)
        return st;
    unsigned char seed[32];
    lds_preview_watermark_seed(keys, json_string_value(json_object_get(preview, "id")), seed);
    lds_mesh_model *marked = NULL;
    st = lds_preview_embed(base, seed, &marked, err);
    base_release(base);
    lds_mesh_quantization q = LDS_MESH_QUANTIZATION_DEFAULT;
    q.normal_bits = 8;
    q.uv_bits = 10;
    if (st == LDS_OK)
        st = lds_mesh_write_glb(marked, LDS_MESH_ENCODING_MESHOPT, &q, "lodestone preview", glb, err);
    lds_mesh_model_destroy(marked);
    return st;
}

/* ---- tracing ---- */

static lds_status previews_of(lds_redis *redis, const char *asset, json_t **ids, lds_error *err)
{
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "ZRANGE " ASSET_PREVIEWS_PREFIX "%s 0 %d", asset,
                                      MAX_TRACE_PREVIEWS - 1);
    if (st != LDS_OK)
        return st;
    *ids = json_array();
    for (size_t i = 0; reply && reply->type == LDS_REDIS_ARRAY && i < reply->elements; i++)
        if (reply->element[i].type == LDS_REDIS_STRING)
            json_array_append_new(*ids, json_string(reply->element[i].str));
    lds_redis_reply_free(reply);
    return LDS_OK;
}

typedef struct trace_best {
    double score;
    json_t *preview;
} trace_best;

/* Measures the suspect against the base of each group of previews sharing one, scoring every
 * preview of the group; keeps the best. */
static lds_status score_all(lds_redis *redis, const char *blobs, const lds_preview_keys *keys, json_t *ids,
                            const lds_mesh_model *suspect, trace_best *best, json_t *notes, lds_error *err)
{
    json_t *records = json_array();
    size_t i;
    json_t *v;
    lds_status st = LDS_OK;
    json_array_foreach(ids, i, v)
    {
        json_t *r = NULL;
        if ((st = preview_record(redis, json_string_value(v), &r, err)) != LDS_OK)
            break;
        json_array_append_new(records, r);
    }
    char *done = calloc(json_array_size(records) + 1, 1);
    for (size_t a = 0; st == LDS_OK && a < json_array_size(records); a++) {
        if (done[a])
            continue;
        json_t *first = json_array_get(records, a);
        lds_preview_base *base = NULL;
        double responses[256];
        lds_error local;
        lds_error_clear(&local);
        lds_status m = base_acquire(blobs, first, &base, &local);
        if (m == LDS_OK)
            m = lds_preview_measure(base, suspect, responses, NULL, &local);
        const char *lod_blob = json_string_value(json_object_get(first, "lod_blob"));
        for (size_t b = a; b < json_array_size(records); b++) {
            json_t *r = json_array_get(records, b);
            const char *rb = json_string_value(json_object_get(r, "lod_blob"));
            if (done[b] || !rb || !lod_blob || strcmp(rb, lod_blob) != 0 ||
                !json_equal(json_object_get(r, "max_triangles"), json_object_get(first, "max_triangles")))
                continue;
            done[b] = 1;
            if (m != LDS_OK)
                continue;
            const char *wm = json_string_value(json_object_get(r, "watermark_key"));
            if (!wm || strcmp(wm, lds_preview_keys_watermark_id(keys)) != 0)
                continue; /* marked with a key we no longer hold */
            unsigned char seed[32];
            lds_preview_watermark_seed(keys, json_string_value(json_object_get(r, "id")), seed);
            double t = lds_preview_score(base, responses, seed);
            if (best->preview == NULL || t > best->score) {
                json_decref(best->preview);
                best->preview = json_incref(r);
                best->score = t;
            }
        }
        if (m != LDS_OK)
            json_array_append_new(notes, json_string(local.message));
        if (base)
            base_release(base);
    }
    free(done);
    json_decref(records);
    return st;
}

lds_status lds_preview_trace(lds_redis *redis, const char *blobs, const lds_preview_keys *keys, const char *asset,
                             const lds_mesh_model *suspect, double alpha, json_t **out, lds_error *err)
{
    *out = NULL;
    json_t *ids = NULL;
    lds_status st = previews_of(redis, asset, &ids, err);
    if (st != LDS_OK)
        return st;
    trace_best best = {0, NULL};
    json_t *notes = json_array();
    st = score_all(redis, blobs, keys, ids, suspect, &best, notes, err);
    size_t tests = json_array_size(ids);
    json_decref(ids);
    if (st != LDS_OK) {
        json_decref(best.preview);
        json_decref(notes);
        return st;
    }
    double p = best.preview ? lds_preview_p_value(best.score, tests) : 1;
    *out = json_pack("{s:s}", "asset", asset);
    if (best.preview && p < alpha) {
        json_object_set(*out, "viewer", json_object_get(best.preview, "account"));
        json_object_set(*out, "preview", json_object_get(best.preview, "id"));
        json_object_set(*out, "issued", json_object_get(best.preview, "issued"));
        json_object_set(*out, "key", json_object_get(best.preview, "key"));
    } else {
        json_object_set_new(*out, "viewer", json_null());
        json_object_set_new(*out, "preview", json_null());
    }
    json_object_set_new(*out, "score", json_real(best.preview ? best.score : 0));
    json_object_set_new(*out, "p_value", json_real(p));
    json_object_set_new(*out, "alpha", json_real(alpha));
    json_object_set_new(*out, "previews", json_integer((json_int_t)tests));
    if (best.preview && !(p < alpha))
        json_object_set(*out, "closest", json_object_get(best.preview, "account"));
    if (json_array_size(notes))
        json_object_set(*out, "notes", notes);
    json_decref(notes);
    json_decref(best.preview);
    return LDS_OK;
}
