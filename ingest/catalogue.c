/*
 * catalogue.c: the buyer's catalogue in Redis (issue 12): an index kept when an asset becomes
 * ready, queried with filters, text search and stable cursor pagination; theme collections; and
 * lineage from the certificates' parents. RediSearch is not available, so the index is plain
 * Redis: one sorted set per order and one set per filter value, intersected by a Lua script.
 *
 * Keys share the hash tag {cat} so that every script touches one Redis Cluster slot:
 *   lds:{cat}:item:<id>    hash: doc (the catalogue item, JSON), seq, triangles, sets (JSON list
 *                          of the filter sets holding the id, for re-indexing)
 *   lds:{cat}:recent       zset id -> seq (the order of first indexing: new assets go in front)
 *   lds:{cat}:value        zset id -> valuation score (0 when none)
 *   lds:{cat}:popular      zset id -> popularity (licences granted, lds_catalogue_bump)
 *   lds:{cat}:f:<kind>:<v> set of ids: kind category, tag, license, owner, word (text search:
 *                          words of title, tags and description and their prefixes of 3+ bytes)
 *   lds:{cat}:log          hash certificate log index -> asset id
 *   lds:{cat}:derivs:<id>  zset of the assets whose certificate names id's as a parent (by seq)
 *   lds:{cat}:coll:<id>    hash of a collection; lds:{cat}:colls zset of collections by seq
 *
 * Pagination: the cursor is the (score, id) of the last item of the page in the chosen order
 * (score descending, then id descending, as ZREVRANGEBYSCORE orders ties). The next page starts
 * strictly after it, so assets added meanwhile never cause a duplicate or a gap among the others:
 * in "recent" order they all land before the cursor.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "ingest.h"
#include "proto.h"

#define CAT "lds:{cat}:"
#define WORDS_MAX 600     /* indexed words (with prefixes) per asset */
#define WORD_BYTES 32     /* longer words are cut */
#define PARENTS_MAX 16
#define QUERY_WORDS_MAX 8

static const char index_script[] =
    "local p, id = 'lds:{cat}:', ARGV[1]\n"
    "local doc = cjson.decode(ARGV[2])\n"
    "local ik = p .. 'item:' .. id\n"
    "local old = redis.call('HGET', ik, 'sets')\n"
    "if old then for _, k in ipairs(cjson.decode(old)) do redis.call('SREM', k, id) end end\n"
    "local seq = redis.call('HGET', ik, 'seq')\n"
    "if not seq then seq = redis.call('INCR', p .. 'seq') end\n"
    "local sets = {}\n"
    "for _, k in ipairs(cjson.decode(ARGV[3])) do redis.call('SADD', k, id); sets[#sets + 1] = k end\n"
    "redis.call('HSET', ik, 'doc', ARGV[4], 'seq', seq, 'triangles', doc.triangles, 'sets', cjson.encode(sets))\n"
    "redis.call('ZADD', p .. 'recent', seq, id)\n"
    "redis.call('ZADD', p .. 'value', doc.value, id)\n"
    "redis.call('ZADD', p .. 'popular', 'NX', 0, id)\n"
    "if doc.log_index >= 0 then redis.call('HSET', p .. 'log', doc.log_index, id) end\n"
    "for _, idx in ipairs(doc.parents) do\n"
    "  local parent = redis.call('HGET', p .. 'log', idx)\n"
    "  if parent and parent ~= id then redis.call('ZADD', p .. 'derivs:' .. parent, seq, id) end\n"
    "end\n"
    "return seq\n";

/* KEYS[1] order zset, KEYS[2] temp key, KEYS[3..] filter sets. ARGV: cursor score ('' none),
 * cursor id, limit, max triangles (-1 none). Returns {next score, next id, doc...}. */
static const char query_script[] =
    "local src, limit, maxtri = KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4])\n"
    "local cs, cm = ARGV[1], ARGV[2]\n"
    "local csn = tonumber(cs)\n"
    "if #KEYS > 2 then\n"
    "  for i = 3, #KEYS do if redis.call('EXISTS', KEYS[i]) == 0 then return {'', ''} end end\n"
    "  local args = {'ZINTERSTORE', KEYS[2], #KEYS - 1, KEYS[1]}\n"
    "  for i = 3, #KEYS do args[#args + 1] = KEYS[i] end\n"
    "  args[#args + 1] = 'WEIGHTS'; args[#args + 1] = 1\n"
    "  for i = 3, #KEYS do args[#args + 1] = 0 end\n"
    "  redis.call(unpack(args))\n"
    "  src = KEYS[2]\n"
    "end\n"
    "local out, picked, offset = {'', ''}, {}, 0\n"
    "local max = '+inf'\n"
    "if cs ~= '' then max = cs end\n"
    "while #picked <= limit do\n"
    "  local batch = redis.call('ZREVRANGEBYSCORE', src, max, '-inf', 'WITHSCORES', 'LIMIT', offset, 256)\n"
    "  if #batch == 0 then break end\n"
    "  offset = offset + #batch / 2\n"
    "  for i = 1, #batch, 2 do\n"
    "    local m, s = batch[i], batch[i + 1]\n"
    "    local ok = not (csn and tonumber(s) == csn and m >= cm)\n"
    "    if ok and maxtri >= 0 then\n"
    "      local t = tonumber(redis.call('HGET', 'lds:{cat}:item:' .. m, 'triangles') or '0')\n"
    "      ok = t <= maxtri\n"
    "    end\n"
    "    if ok then picked[#picked + 1] = {m, s} end\n"
    "    if #picked > limit then break end\n"
    "  end\n"
    "end\n"
    "if src ~= KEYS[1] then redis.call('DEL', src) end\n"
    "for i = 1, math.min(limit, #picked) do\n"
    "  out[#out + 1] = redis.call('HGET', 'lds:{cat}:item:' .. picked[i][1], 'doc') or '{}'\n"
    "end\n"
    "if #picked > limit then out[1] = picked[limit][2]; out[2] = picked[limit][1] end\n"
    "return out\n";

/* ---- words ---- */

typedef struct word_list {
    char (*words)[WORD_BYTES + 1];
    size_t count, max;
} word_list;

static void words_add(word_list *list, const char *word, size_t len)
{
    if (len > WORD_BYTES)
        len = WORD_BYTES;
    for (size_t i = 0; i < list->count; i++)
        if (strlen(list->words[i]) == len && memcmp(list->words[i], word, len) == 0)
            return;
    if (list->count == list->max)
        return;
    memcpy(list->words[list->count], word, len);
    list->words[list->count++][len] = 0;
}

/* Lower-case ASCII letters and digits (bytes >= 0x80, UTF-8, kept as they are) make words;
 * anything else separates them. Words of one byte are left out; with_prefixes adds each word's
 * prefixes of 3 bytes and more. */
static void words_of(const char *text, word_list *list, int with_prefixes)
{
    char word[WORD_BYTES + 1];
    size_t len = 0;
    for (const unsigned char *p = (const unsigned char *)(text ? text : "");; p++) {
        int inside = *p && (isalnum(*p) || *p >= 0x80);
        if (inside) {
            if (len < WORD_BYTES)
                word[len++] = (char)(*p >= 0x80 ? *p : tolower(*p));
            continue;
        }
        if (len >= 2) {
            if (with_prefixes)
                for (size_t n = 3; n < len; n++)
                    words_add(list, word, n);
            words_add(list, word, len);
        }
        len = 0;
        if (*p == 0)
            break;
    }
}

static void lower_copy(char *out, size_t size, const char *in)
{
    size_t n = 0;
    for (; in && in[n] && n + 1 < size; n++)
        out[n] = (char)tolower((unsigned char)in[n]);
    out[n] = 0;
}

int lds_catalogue_license_open(const char *license)
{
    if (license == NULL)
        return 0;
    return strcasecmp(license, "CC0") == 0 || strncasecmp(license, "CC0-", 4) == 0 ||
           strcasecmp(license, "CC-BY") == 0 || strncasecmp(license, "CC-BY-", 6) == 0;
}

/* ---- indexing ---- */

static const char *meta_string(json_t *metadata, const char *key)
{
    const char *v = json_string_value(json_object_get(metadata, key));
    return v && *v ? v : NULL;
}

/* Tags from the metadata text ("a; b, c"): trimmed, lower case, no duplicates. */
static json_t *tags_of(const char *text)
{
    json_t *tags = json_array();
    char tag[64];
    while (text && *text) {
        size_t len = strcspn(text, ";,");
        const char *start = text;
        size_t n = len;
        while (n && isspace((unsigned char)*start))
            start++, n--;
        while (n && isspace((unsigned char)start[n - 1]))
            n--;
        if (n && n < sizeof(tag)) {
            for (size_t i = 0; i < n; i++)
                tag[i] = (char)tolower((unsigned char)start[i]);
            tag[n] = 0;
            int seen = 0;
            for (size_t i = 0; i < json_array_size(tags) && !seen; i++)
                seen = strcmp(json_string_value(json_array_get(tags, i)), tag) == 0;
            if (!seen && json_array_size(tags) < 64)
                json_array_append_new(tags, json_string(tag));
        }
        text += len;
        if (*text)
            text++;
    }
    return tags;
}

/* The parents' log indices from the asset's certificate (none without one). */
static lds_status certificate_parents(const char *blob_root, json_t *record, uint64_t *indices, size_t *count,
                                      lds_error *err)
{
    *count = 0;
    const char *blob = json_string_value(json_object_get(json_object_get(record, "certificate"), "blob"));
    if (blob == NULL)
        return LDS_OK;
    unsigned char *data = NULL;
    size_t size = 0;
    lds_status st = lds_blob_get_buffer(blob_root, blob, LDS_CERT_MAX, &data, &size, err);
    if (st == LDS_OK)
        st = lds_cert_parent_indices((const char *)data, size, indices, PARENTS_MAX, count, err);
    free(data);
    return st;
}

/* The catalogue item (what GET /v1/assets lists) of a ready record. */
static json_t *item_of(json_t *record, const char *id)
{
    json_t *metadata = json_object_get(record, "metadata");
    json_t *report = json_object_get(json_object_get(record, "manifest"), "report");
    json_t *outputs = json_object_get(record, "outputs");
    const char *owner = json_string_value(json_object_get(record, "account"));
    char thumbnail[LDS_ID_MAX + 48];
    snprintf(thumbnail, sizeof(thumbnail), "/v1/assets/%s/thumbnails/0", id);
    json_t *item = json_object();
    json_object_set_new(item, "id", json_string(id));
    json_object_set_new(item, "title", meta_string(metadata, "title") ? json_string(meta_string(metadata, "title"))
                                                                     : json_null());
    json_object_set_new(item, "category", meta_string(metadata, "category")
                                              ? json_string(meta_string(metadata, "category"))
                                              : json_null());
    json_object_set_new(item, "tags", tags_of(meta_string(metadata, "tags")));
    json_object_set_new(item, "license", meta_string(metadata, "license")
                                             ? json_string(meta_string(metadata, "license"))
                                             : json_null());
    json_object_set_new(item, "owner", owner && *owner ? json_string(owner) : json_null());
    json_object_set_new(item, "triangles",
                        json_integer(json_integer_value(json_object_get(report, "triangles"))));
    json_object_set_new(item, "thumbnail",
                        json_object_get(outputs, "thumb0.png") ? json_string(thumbnail) : json_null());
    return item;
}

static double value_of(json_t *record)
{
    json_t *valuation = json_object_get(record, "valuation");
    if (json_is_string(valuation)) { /* stored as JSON text */
        json_t *parsed = json_loads(json_string_value(valuation), 0, NULL);
        double v = json_number_value(json_object_get(parsed, "score"));
        json_decref(parsed);
        return v;
    }
    return json_number_value(json_object_get(valuation, "score"));
}

/* The filter sets of an item: category, tags, licence (and "open"), owner, words. */
static json_t *sets_of(json_t *item, json_t *metadata)
{
    json_t *sets = json_array();
    char key[WORD_BYTES + 160], value[128];
    static const char *const kinds[] = {"category", "license", "owner"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = json_string_value(json_object_get(item, kinds[i]));
        if (v == NULL)
            continue;
        lower_copy(value, sizeof(value), v);
        snprintf(key, sizeof(key), CAT "f:%s:%s", kinds[i], value);
        json_array_append_new(sets, json_string(key));
    }
    if (lds_catalogue_license_open(json_string_value(json_object_get(item, "license"))))
        json_array_append_new(sets, json_string(CAT "f:license:open"));
    size_t i;
    json_t *tag;
    json_array_foreach(json_object_get(item, "tags"), i, tag)
    {
        snprintf(key, sizeof(key), CAT "f:tag:%s", json_string_value(tag));
        json_array_append_new(sets, json_string(key));
    }
    word_list words = {calloc(WORDS_MAX, WORD_BYTES + 1), 0, WORDS_MAX};
    if (words.words) {
        words_of(json_string_value(json_object_get(item, "title")), &words, 1);
        words_of(meta_string(metadata, "tags"), &words, 1);
        words_of(meta_string(metadata, "description"), &words, 1);
        for (size_t w = 0; w < words.count; w++) {
            snprintf(key, sizeof(key), CAT "f:word:%s", words.words[w]);
            json_array_append_new(sets, json_string(key));
        }
        free(words.words);
    }
    return sets;
}

lds_status lds_catalogue_index(lds_redis *redis, const char *blob_root, const char *asset_id, lds_error *err)
{
    json_t *record = NULL;
    lds_status st = lds_assets_get(redis, asset_id, &record, err);
    if (st != LDS_OK)
        return st;
    const char *status = json_string_value(json_object_get(record, "status"));
    if (status == NULL || strcmp(status, "ready") != 0) {
        json_decref(record);
        return LDS_OK; /* only ready assets are listed */
    }
    uint64_t parents[PARENTS_MAX];
    size_t parent_count = 0;
    st = certificate_parents(blob_root, record, parents, &parent_count, err);
    if (st != LDS_OK) {
        json_decref(record);
        return st;
    }
    json_t *item = item_of(record, asset_id);
    json_t *log_index = json_object_get(json_object_get(record, "certificate"), "log_index");
    json_t *control = json_pack("{s:I,s:f,s:I,s:[]}", "triangles", json_integer_value(json_object_get(item, "triangles")),
                                "value", value_of(record), "log_index",
                                json_is_integer(log_index) ? json_integer_value(log_index) : (json_int_t)-1, "parents");
    for (size_t i = 0; i < parent_count; i++)
        json_array_append_new(json_object_get(control, "parents"), json_integer((json_int_t)parents[i]));
    json_t *sets = sets_of(item, json_object_get(record, "metadata"));
    json_t *doc = json_deep_copy(item);
    json_object_set(doc, "description", json_object_get(json_object_get(record, "metadata"), "description")
                                            ? json_object_get(json_object_get(record, "metadata"), "description")
                                            : json_null());
    json_object_set_new(doc, "parents", json_deep_copy(json_object_get(control, "parents")));
    json_object_set_new(doc, "log_index", json_integer(json_integer_value(json_object_get(control, "log_index"))));
    char *control_text = json_dumps(control, JSON_COMPACT);
    char *sets_text = json_dumps(sets, JSON_COMPACT);
    char *doc_text = json_dumps(doc, JSON_COMPACT);
    if (control_text && sets_text && doc_text)
        st = lds_redis_command(redis, NULL, err, "EVAL %s 0 %s %s %s %s", index_script, asset_id, control_text,
                               sets_text, doc_text);
    else
        st = lds_error_set(err, LDS_ENOMEM, "catalogue: out of memory");
    free(control_text);
    free(sets_text);
    free(doc_text);
    json_decref(control);
    json_decref(sets);
    json_decref(doc);
    json_decref(item);
    json_decref(record);
    return st;
}

lds_status lds_catalogue_reindex(lds_redis *redis, const char *blob_root, size_t *indexed, lds_error *err)
{
    *indexed = 0;
    for (size_t offset = 0;; offset += 500) {
        json_t *ids = NULL;
        lds_status st = lds_assets_list(redis, NULL, offset, 500, &ids, NULL, err);
        if (st != LDS_OK)
            return st;
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
            if ((st = lds_catalogue_index(redis, blob_root, json_string_value(id), err)) != LDS_OK &&
                st != LDS_ENOENT) {
                json_decref(ids);
                return st;
            }
            (*indexed)++;
        }
        size_t n = json_array_size(ids);
        json_decref(ids);
        if (n < 500)
            return LDS_OK;
    }
}

lds_status lds_catalogue_set_value(lds_redis *redis, const char *asset_id, double value, lds_error *err)
{
    return lds_redis_command(redis, NULL, err, "ZADD " CAT "value XX %.17g %s", value, asset_id);
}

lds_status lds_catalogue_bump(lds_redis *redis, const char *asset_id, double amount, lds_error *err)
{
    return lds_redis_command(redis, NULL, err, "ZADD " CAT "popular XX INCR %.17g %s", amount, asset_id);
}

/* ---- queries ---- */

static void cursor_encode(const char *score, const char *id, char *out, size_t size)
{
    char text[LDS_ID_MAX + 64];
    snprintf(text, sizeof(text), "%s~%s", score, id);
    lds_hex_encode((const unsigned char *)text, strlen(text), out); /* out holds 2 * strlen + 1 */
    (void)size;
}

/* Parses a cursor into its score and id; 0 when malformed. */
static int cursor_decode(const char *cursor, char *score, size_t score_size, char *id, size_t id_size)
{
    size_t n = strlen(cursor);
    char text[LDS_ID_MAX + 64];
    if (n == 0 || n % 2 || n / 2 >= sizeof(text))
        return 0;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (!isxdigit((unsigned char)cursor[2 * i]) || !isxdigit((unsigned char)cursor[2 * i + 1]) ||
            sscanf(cursor + 2 * i, "%2x", &v) != 1)
            return 0;
        text[i] = (char)v;
    }
    text[n / 2] = 0;
    char *tilde = strchr(text, '~');
    if (tilde == NULL || (size_t)(tilde - text) >= score_size || strlen(tilde + 1) >= id_size || tilde[1] == 0)
        return 0;
    *tilde = 0;
    char *end;
    strtod(text, &end);
    if (*text == 0 || *end)
        return 0;
    for (const char *p = tilde + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
            return 0;
    memcpy(score, text, strlen(text) + 1); /* lengths checked above */
    memcpy(id, tilde + 1, strlen(tilde + 1) + 1);
    return 1;
}

static void add_filter(const char **keys, char (*storage)[WORD_BYTES + 160], size_t *count, const char *kind,
                       const char *value)
{
    char lower[128];
    lower_copy(lower, sizeof(lower), value);
    snprintf(storage[*count], sizeof(storage[0]), CAT "f:%s:%s", kind, lower);
    keys[*count + 2] = storage[*count];
    (*count)++;
}

lds_status lds_catalogue_query(lds_redis *redis, const lds_catalogue_query_args *q, json_t **result, lds_error *err)
{
    *result = NULL;
    const char *orders[] = {"recent", "value", "popular"};
    const char *sort = q->sort && *q->sort ? q->sort : "recent";
    int known = 0;
    for (size_t i = 0; i < 3; i++)
        known |= strcmp(sort, orders[i]) == 0;
    if (!known)
        return lds_error_set(err, LDS_EINVAL, "sort '%.40s': expected recent, value or popular", sort);
    size_t limit = q->limit ? q->limit : 20;
    if (limit > 100)
        return lds_error_set(err, LDS_EINVAL, "limit %zu: at most 100", limit);
    char score[64] = "", last[LDS_ID_MAX] = "";
    if (q->cursor && *q->cursor && !cursor_decode(q->cursor, score, sizeof(score), last, sizeof(last)))
        return lds_error_set(err, LDS_EINVAL, "cursor '%.60s' is not one this server gave", q->cursor);

    enum { FILTERS_MAX = 8 + QUERY_WORDS_MAX };
    char storage[FILTERS_MAX][WORD_BYTES + 160];
    const char *keys[FILTERS_MAX + 2];
    size_t filters = 0;
    char order_key[64], temp_key[64], nonce[17];
    unsigned char random[8];
    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
        return lds_error_set(err, LDS_EIO, "catalogue: no randomness available");
    lds_hex_encode(random, sizeof(random), nonce);
    snprintf(order_key, sizeof(order_key), CAT "%s", sort);
    snprintf(temp_key, sizeof(temp_key), CAT "tmp:%s", nonce);
    keys[0] = order_key;
    keys[1] = temp_key;
    if (q->category && *q->category)
        add_filter(keys, storage, &filters, "category", q->category);
    if (q->tag && *q->tag)
        add_filter(keys, storage, &filters, "tag", q->tag);
    if (q->license && *q->license)
        add_filter(keys, storage, &filters, "license", q->license);
    if (q->owner && *q->owner)
        add_filter(keys, storage, &filters, "owner", q->owner);
    if (q->only_owner)
        add_filter(keys, storage, &filters, "owner", q->only_owner); /* "": a set that never exists */
    word_list words = {calloc(QUERY_WORDS_MAX, WORD_BYTES + 1), 0, QUERY_WORDS_MAX};
    if (words.words == NULL)
        return lds_error_set(err, LDS_ENOMEM, "catalogue: out of memory");
    words_of(q->text, &words, 0);
    for (size_t i = 0; i < words.count; i++)
        add_filter(keys, storage, &filters, "word", words.words[i]);
    free(words.words);

    char limit_text[24], tri_text[24];
    snprintf(limit_text, sizeof(limit_text), "%zu", limit);
    snprintf(tri_text, sizeof(tri_text), "%lld", q->max_triangles < 0 ? -1LL : (long long)q->max_triangles);
    const char *argv[6 + FILTERS_MAX + 2 + 4];
    int argc = 0;
    char numkeys[8];
    snprintf(numkeys, sizeof(numkeys), "%zu", filters + 2);
    argv[argc++] = "EVAL";
    argv[argc++] = query_script;
    argv[argc++] = numkeys;
    for (size_t i = 0; i < filters + 2; i++)
        argv[argc++] = keys[i];
    argv[argc++] = score;
    argv[argc++] = last;
    argv[argc++] = limit_text;
    argv[argc++] = tri_text;
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command_argv(redis, &reply, err, argc, argv, NULL);
    if (st != LDS_OK)
        return st;
    json_t *items = json_array();
    for (size_t i = 2; reply->type == LDS_REDIS_ARRAY && i < reply->elements; i++) {
        json_t *doc = json_loads(reply->element[i].str ? reply->element[i].str : "{}", 0, NULL);
        if (doc == NULL)
            continue;
        json_object_del(doc, "description");
        json_object_del(doc, "parents");
        json_object_del(doc, "log_index");
        json_array_append_new(items, doc);
    }
    json_t *next = json_null();
    const char *next_score = reply->elements >= 2 ? reply->element[0].str : NULL;
    const char *next_id = reply->elements >= 2 ? reply->element[1].str : NULL;
    if (next_score && *next_score && next_id && *next_id) {
        char cursor[2 * (LDS_ID_MAX + 64) + 1];
        cursor_encode(next_score, next_id, cursor, sizeof(cursor));
        next = json_string(cursor);
    }
    lds_redis_reply_free(reply);
    *result = json_pack("{s:o,s:o}", "items", items, "next", next);
    return LDS_OK;
}

lds_status lds_catalogue_items(lds_redis *redis, const char *const *ids, size_t count, json_t **items,
                               lds_error *err)
{
    *items = json_array();
    for (size_t i = 0; i < count; i++) {
        lds_redis_reply *reply = NULL;
        lds_status st = lds_redis_command(redis, &reply, err, "HGET " CAT "item:%s doc", ids[i]);
        if (st != LDS_OK) {
            json_decref(*items);
            *items = NULL;
            return st;
        }
        json_t *doc = lds_redis_reply_str(reply) ? json_loads(lds_redis_reply_str(reply), 0, NULL) : NULL;
        lds_redis_reply_free(reply);
        json_array_append_new(*items, doc ? doc : json_null());
    }
    return LDS_OK;
}

/* ---- lineage ---- */

lds_status lds_catalogue_lineage(lds_redis *redis, const char *asset_id, json_t **parents, json_t **derivatives,
                                 lds_error *err)
{
    *parents = NULL;
    *derivatives = NULL;
    json_t *self = NULL;
    lds_status st = lds_catalogue_items(redis, &asset_id, 1, &self, err);
    if (st != LDS_OK)
        return st;
    json_t *doc = json_array_get(self, 0);
    json_t *list = json_array();
    size_t i;
    json_t *index;
    json_array_foreach(json_object_get(doc, "parents"), i, index)
    {
        lds_redis_reply *reply = NULL;
        if ((st = lds_redis_command(redis, &reply, err, "HGET " CAT "log %lld", (long long)json_integer_value(index))) !=
            LDS_OK)
            break;
        const char *parent = lds_redis_reply_str(reply);
        json_array_append_new(list, json_pack("{s:I,s:o}", "log_index", json_integer_value(index), "asset",
                                              parent ? json_string(parent) : json_null()));
        lds_redis_reply_free(reply);
    }
    json_decref(self);
    lds_redis_reply *reply = NULL;
    if (st == LDS_OK)
        st = lds_redis_command(redis, &reply, err, "ZRANGE " CAT "derivs:%s 0 999", asset_id);
    if (st != LDS_OK) {
        json_decref(list);
        return st;
    }
    json_t *derived = json_array();
    for (size_t k = 0; reply->type == LDS_REDIS_ARRAY && k < reply->elements; k++)
        if (reply->element[k].str)
            json_array_append_new(derived, json_string(reply->element[k].str));
    lds_redis_reply_free(reply);
    *parents = list;
    *derivatives = derived;
    return LDS_OK;
}

/* ---- collections ---- */

lds_status lds_collection_create(lds_redis *redis, const char *title, const char *description, json_t *assets,
                                 const char *creator, char id[LDS_ID_MAX], lds_error *err)
{
    char now[40];
    lds_time_rfc3339(now, sizeof(now));
    lds_ingest_new_id("c_", id, LDS_ID_MAX);
    char *assets_text = json_dumps(assets, JSON_COMPACT);
    if (assets_text == NULL)
        return lds_error_set(err, LDS_ENOMEM, "collection: out of memory");
    static const char script[] = "local seq = redis.call('INCR', 'lds:{cat}:seq')\n"
                                 "redis.call('HSET', KEYS[1], 'id', ARGV[1], 'title', ARGV[2], 'description', ARGV[3],\n"
                                 "  'assets', ARGV[4], 'creator', ARGV[5], 'created', ARGV[6], 'seq', seq)\n"
                                 "redis.call('ZADD', KEYS[2], seq, ARGV[1])\n"
                                 "return seq\n";
    char key[LDS_ID_MAX + 24];
    snprintf(key, sizeof(key), CAT "coll:%s", id);
    lds_status st = lds_redis_command(redis, NULL, err, "EVAL %s 2 %s " CAT "colls %s %s %s %s %s %s", script, key, id,
                                      title, description ? description : "", assets_text, creator, now);
    free(assets_text);
    return st;
}

static json_t *collection_of(const lds_redis_reply *reply)
{
    json_t *c = json_object();
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *k = reply->element[i].str, *v = reply->element[i + 1].str;
        if (k == NULL || v == NULL || strcmp(k, "seq") == 0)
            continue;
        if (strcmp(k, "assets") == 0)
        {
            json_t *assets = json_loads(v, 0, NULL);
            json_object_set_new(c, k, assets ? assets : json_array());
        }
        else
            json_object_set_new(c, k, json_string(v));
    }
    return c;
}

lds_status lds_collection_get(lds_redis *redis, const char *id, json_t **collection, lds_error *err)
{
    *collection = NULL;
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "HGETALL " CAT "coll:%s", id);
    if (st != LDS_OK)
        return st;
    if (reply->type != LDS_REDIS_ARRAY || reply->elements == 0) {
        lds_redis_reply_free(reply);
        return lds_error_set(err, LDS_ENOENT, "no collection %.100s", id);
    }
    *collection = collection_of(reply);
    lds_redis_reply_free(reply);
    return LDS_OK;
}

lds_status lds_collection_list(lds_redis *redis, size_t limit, json_t **collections, lds_error *err)
{
    *collections = NULL;
    lds_redis_reply *reply = NULL;
    lds_status st = lds_redis_command(redis, &reply, err, "ZREVRANGE " CAT "colls 0 %lld", (long long)limit - 1);
    if (st != LDS_OK)
        return st;
    json_t *list = json_array();
    for (size_t i = 0; reply->type == LDS_REDIS_ARRAY && i < reply->elements && st == LDS_OK; i++) {
        json_t *c = NULL;
        if (reply->element[i].str && (st = lds_collection_get(redis, reply->element[i].str, &c, err)) == LDS_OK)
            json_array_append_new(list, c);
    }
    lds_redis_reply_free(reply);
    if (st != LDS_OK) {
        json_decref(list);
        return st;
    }
    *collections = list;
    return LDS_OK;
}
