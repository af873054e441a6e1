/*
 * features.c: an asset's characteristics (lds_valuation_item) from a processed model's manifest or
 * from a marketplace listing, and the parsing of times.
 *
 * An unknown characteristic stays unknown (NaN or -1): a listing without "views" is not a listing
 * with no views, and the model fills an unknown with the training mean (model.c), never with 0.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "valuation.h"

void lds_valuation_item_init(lds_valuation_item *item)
{
    memset(item, 0, sizeof(*item));
    item->triangles = item->vertices = NAN;
    item->has_uvs = item->has_normals = item->pbr = item->rigged = item->animated = -1;
    item->textures = item->pbr_slots = item->formats = NAN;
    item->open_edges = item->non_manifold_edges = item->flipped_edges = NAN;
    item->degenerate_faces = item->duplicate_faces = item->missing_textures = NAN;
    item->has_title = item->has_description = item->has_license = item->open_license = -1;
    item->tag_count = NAN;
    item->certified = item->accession = item->lineage_declared = item->possible_duplicate = -1;
    item->rarity = NAN;
    item->views = item->favorites = item->downloads = item->age_days = NAN;
}

static void set_category(lds_valuation_item *item, const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p && n + 1 < sizeof(item->category); p++)
        item->category[n++] = (char)tolower((unsigned char)*p);
    item->category[n] = 0;
}

static int license_open(const char *license)
{
    return strncasecmp(license, "CC0", 3) == 0 || strncasecmp(license, "CC-BY", 5) == 0 ||
           strncasecmp(license, "CC BY", 5) == 0;
}

static double tag_count_of(const json_t *tags)
{
    if (json_is_array(tags))
        return (double)json_array_size(tags);
    if (!json_is_string(tags))
        return NAN;
    const char *s = json_string_value(tags);
    double n = 0;
    int in = 0;
    for (; *s; s++) {
        int sep = *s == ';' || *s == ',';
        if (!sep && !isspace((unsigned char)*s) && !in) {
            n++;
            in = 1;
        } else if (sep) {
            in = 0;
        }
    }
    return n;
}

/* Adds the words of text (lower-case runs of letters and digits, 2 characters or more) to the
 * item's hashed words (FNV-1a into LDS_VALUATION_WORD_BUCKETS), each bucket once. */
static void add_words(lds_valuation_item *item, const char *text)
{
    while (*text && item->word_count < LDS_VALUATION_WORDS_MAX) {
        while (*text && !isalnum((unsigned char)*text))
            text++;
        uint32_t h = 2166136261u;
        size_t n = 0;
        for (; isalnum((unsigned char)*text); text++, n++)
            h = (h ^ (unsigned char)tolower((unsigned char)*text)) * 16777619u;
        if (n < 2)
            continue;
        uint16_t bucket = (uint16_t)(h % LDS_VALUATION_WORD_BUCKETS);
        size_t i = 0;
        while (i < item->word_count && item->words[i] != bucket)
            i++;
        if (i == item->word_count)
            item->words[item->word_count++] = bucket;
    }
}

/* Metadata fields shared by manifests and listings. */
static void apply_metadata(lds_valuation_item *item, const json_t *meta)
{
    if (!json_is_object(meta))
        return;
    const char *s;
    if ((s = json_string_value(json_object_get(meta, "title"))) != NULL) {
        item->has_title = *s != 0;
        add_words(item, s);
    }
    if ((s = json_string_value(json_object_get(meta, "description"))) != NULL)
        item->has_description = strlen(s) >= 20;
    if ((s = json_string_value(json_object_get(meta, "license"))) != NULL) {
        item->has_license = *s != 0;
        item->open_license = *s != 0 && license_open(s);
    }
    if ((s = json_string_value(json_object_get(meta, "category"))) != NULL)
        set_category(item, s);
    json_t *tags = json_object_get(meta, "tags");
    if (tags && !json_is_null(tags))
        item->tag_count = tag_count_of(tags);
    if (json_is_string(tags))
        add_words(item, json_string_value(tags));
    size_t t;
    json_t *tag;
    json_array_foreach(tags, t, tag)
    {
        if (json_is_string(tag))
            add_words(item, json_string_value(tag));
    }
    if ((s = json_string_value(json_object_get(meta, "accession"))) != NULL)
        item->accession = *s != 0;
    json_t *parents = json_object_get(meta, "parents");
    if (json_is_array(parents))
        item->lineage_declared = json_array_size(parents) > 0;
    json_t *formats = json_object_get(meta, "formats");
    if (json_is_array(formats) || json_is_string(formats))
        item->formats = tag_count_of(formats);
}

/* The leading count of an issue message ("10 edges join ..."), NAN when it has none. */
static double issue_count(const json_t *issues, const char *code)
{
    size_t i;
    json_t *issue;
    json_array_foreach(issues, i, issue)
    {
        const char *c = json_string_value(json_object_get(issue, "code"));
        const char *m = json_string_value(json_object_get(issue, "message"));
        if (c && strcmp(c, code) == 0)
            return m && isdigit((unsigned char)*m) ? strtod(m, NULL) : 1.0;
    }
    return 0.0;
}

static double number_or_nan(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int flag_or_unknown(const json_t *v)
{
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* PBR slots from the report: textures with a "slot" field when the reader gives one, otherwise
 * guessed from the texture names the way marketplace checkers do (…_normal, …_roughness). */
static double pbr_slots_of(const json_t *textures)
{
    static const char *const slot_words[5][4] = {{"base", "albedo", "diffuse", "color"},
                                                 {"rough", "metal", "orm", "spec"},
                                                 {"normal", "nrm", "bump", "_n."},
                                                 {"occlusion", "_ao", "ambient", "cavity"},
                                                 {"emiss", "glow", "emit", "light"}};
    int seen[5] = {0};
    size_t i;
    json_t *t;
    json_array_foreach(textures, i, t)
    {
        if (json_is_true(json_object_get(t, "missing")))
            continue;
        const char *slot = json_string_value(json_object_get(t, "slot"));
        const char *name = slot ? slot : json_string_value(json_object_get(t, "name"));
        char lower[256];
        size_t n = 0;
        for (const char *p = name ? name : ""; *p && n + 1 < sizeof(lower); p++)
            lower[n++] = (char)tolower((unsigned char)*p);
        lower[n] = 0;
        int matched = 0;
        for (int s = 1; s < 5; s++)
            for (int w = 0; w < 4; w++)
                if (strstr(lower, slot_words[s][w]) && !matched) {
                    seen[s] = 1;
                    matched = 1;
                }
        if (!matched)
            seen[0] = 1; /* an image that is not a named map is the base colour */
    }
    return seen[0] + seen[1] + seen[2] + seen[3] + seen[4];
}

void lds_valuation_item_from_manifest(lds_valuation_item *item, const json_t *manifest, const json_t *metadata)
{
    lds_valuation_item_init(item);
    const json_t *report = json_object_get(manifest, "report");
    item->triangles = number_or_nan(json_object_get(report, "triangles"));
    item->vertices = number_or_nan(json_object_get(report, "vertices"));
    item->has_uvs = flag_or_unknown(json_object_get(report, "has_uvs"));
    item->has_normals = flag_or_unknown(json_object_get(report, "has_normals"));
    json_t *textures = json_object_get(report, "textures");
    if (json_is_array(textures)) {
        item->textures = (double)json_array_size(textures);
        item->pbr_slots = pbr_slots_of(textures);
        item->pbr = item->pbr_slots >= 2;
    }
    item->open_edges = number_or_nan(json_object_get(report, "boundary_edges"));
    item->non_manifold_edges = number_or_nan(json_object_get(report, "non_manifold_edges"));
    item->degenerate_faces = number_or_nan(json_object_get(report, "degenerate_triangles"));
    item->duplicate_faces = number_or_nan(json_object_get(report, "duplicate_triangles"));
    json_t *issues = json_object_get(report, "issues");
    if (json_is_array(issues)) {
        item->flipped_edges = issue_count(issues, "inconsistent_winding");
        item->missing_textures = issue_count(issues, "missing_texture");
        item->possible_duplicate = issue_count(issues, "possible_duplicate") > 0;
    }
    json_t *skins = json_object_get(report, "skins");
    if (skins)
        item->rigged = json_is_array(skins) ? json_array_size(skins) > 0 : json_is_true(skins);
    json_t *animations = json_object_get(report, "animations");
    if (animations)
        item->animated = json_is_array(animations) ? json_array_size(animations) > 0 : json_is_true(animations);
    json_t *lods = json_object_get(manifest, "lods");
    if (json_is_array(lods) && json_array_size(lods) > 0)
        item->formats = (double)json_object_size(json_object_get(json_array_get(lods, 0), "files"));
    json_t *cert = json_object_get(manifest, "certificate");
    if (manifest)
        item->certified = json_is_object(cert) && json_is_integer(json_object_get(cert, "log_index"));
    item->accession = 0;
    item->lineage_declared = 0;
    item->has_title = item->has_description = item->has_license = 0;
    item->open_license = 0;
    item->tag_count = 0; /* a processed model's metadata is all there is: absent means none */
    apply_metadata(item, json_object_get(manifest, "metadata"));
    apply_metadata(item, metadata);
}

/* ---- listings ---- */

/* A number, or a string holding one as exports write them ("1,234", "$19.99", " 12 "); NAN when
 * the string is not a number. */
static double number_text(const char *s)
{
    char digits[64];
    size_t n = 0;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '$')
        s++;
    for (; *s && n + 1 < sizeof(digits); s++)
        if (*s != ',')
            digits[n++] = *s;
    digits[n] = 0;
    while (n > 0 && isspace((unsigned char)digits[n - 1]))
        digits[--n] = 0;
    char *end;
    double v = strtod(digits, &end);
    return n > 0 && *end == 0 ? v : NAN;
}

static lds_status want_number(const json_t *listing, const char *key, double min, double *out, const char *name,
                              lds_error *err)
{
    json_t *v = json_object_get(listing, key);
    if (v == NULL || json_is_null(v) || (json_is_string(v) && *json_string_value(v) == 0))
        return LDS_OK;
    double x = json_is_number(v) ? json_number_value(v) : json_is_string(v) ? number_text(json_string_value(v)) : NAN;
    if (!isfinite(x) || x < min)
        return lds_error_set(err, LDS_EFORMAT, "%s: field %s: expected a number >= %g", name, key, min);
    *out = x;
    return LDS_OK;
}

static lds_status want_flag(const json_t *listing, const char *key, int *out, const char *name, lds_error *err)
{
    static const char *const yes[] = {"true", "yes", "y", "1"}, *const no[] = {"false", "no", "n", "0"};
    json_t *v = json_object_get(listing, key);
    if (v == NULL || json_is_null(v))
        return LDS_OK;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return LDS_OK;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = (int)json_integer_value(v);
        return LDS_OK;
    }
    for (size_t i = 0; json_is_string(v) && i < 4; i++) {
        if (strcasecmp(json_string_value(v), yes[i]) == 0) {
            *out = 1;
            return LDS_OK;
        }
        if (strcasecmp(json_string_value(v), no[i]) == 0) {
            *out = 0;
            return LDS_OK;
        }
    }
    return lds_error_set(err, LDS_EFORMAT, "%s: field %s: expected true or false", name, key);
}

static lds_status want_string(const json_t *listing, const char *key, const char *name, lds_error *err)
{
    json_t *v = json_object_get(listing, key);
    if (v != NULL && !json_is_null(v) && !json_is_string(v))
        return lds_error_set(err, LDS_EFORMAT, "%s: field %s: expected a string", name, key);
    return LDS_OK;
}

static lds_status listing_counts(lds_valuation_item *item, const json_t *listing, const char *name, lds_error *err)
{
    lds_status st = LDS_OK;
    if (st == LDS_OK)
        st = want_number(listing, "triangles", 0, &item->triangles, name, err);
    if (st == LDS_OK)
        st = want_number(listing, "vertices", 0, &item->vertices, name, err);
    if (st == LDS_OK)
        st = want_number(listing, "views", 0, &item->views, name, err);
    if (st == LDS_OK)
        st = want_number(listing, "favorites", 0, &item->favorites, name, err);
    if (st == LDS_OK)
        st = want_number(listing, "downloads", 0, &item->downloads, name, err);
    if (st == LDS_OK)
        st = want_flag(listing, "has_uvs", &item->has_uvs, name, err);
    if (st == LDS_OK)
        st = want_flag(listing, "pbr", &item->pbr, name, err);
    if (st == LDS_OK)
        st = want_flag(listing, "rigged", &item->rigged, name, err);
    if (st == LDS_OK)
        st = want_flag(listing, "animated", &item->animated, name, err);
    json_t *textures = json_object_get(listing, "textures");
    if (st == LDS_OK && textures && !json_is_null(textures)) {
        if (json_is_boolean(textures))
            item->textures = json_is_true(textures) ? 1 : 0;
        else if (json_is_array(textures))
            item->textures = (double)json_array_size(textures);
        else
            st = want_number(listing, "textures", 0, &item->textures, name, err);
    }
    return st;
}

lds_status lds_valuation_item_from_listing(lds_valuation_item *item, const json_t *listing, int64_t now_ms,
                                           const char *name, double *price, char *currency_out, lds_error *err)
{
    lds_valuation_item_init(item);
    if (price)
        *price = NAN;
    if (currency_out)
        currency_out[0] = 0;
    if (!json_is_object(listing))
        return lds_error_set(err, LDS_EFORMAT, "%s: expected a JSON object", name);
    static const char *const strings[] = {"id", "category", "title", "license", "published", "currency",
                                          "description"};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (want_string(listing, strings[i], name, err) != LDS_OK)
            return err->code;
    json_t *tags = json_object_get(listing, "tags");
    if (tags && !json_is_null(tags) && !json_is_array(tags) && !json_is_string(tags))
        return lds_error_set(err, LDS_EFORMAT, "%s: field tags: expected an array of strings", name);
    json_t *formats = json_object_get(listing, "formats");
    if (formats && !json_is_null(formats) && !json_is_array(formats) && !json_is_string(formats))
        return lds_error_set(err, LDS_EFORMAT, "%s: field formats: expected an array of strings", name);
    if (listing_counts(item, listing, name, err) != LDS_OK)
        return err->code;
    apply_metadata(item, listing);
    const char *published = json_string_value(json_object_get(listing, "published"));
    if (published) {
        int64_t ms;
        if (lds_valuation_parse_time(published, &ms) != LDS_OK)
            return lds_error_set(err, LDS_EFORMAT, "%s: field published: '%.40s' is not a date (YYYY-MM-DD)", name,
                                 published);
        item->age_days = now_ms > ms ? (double)(now_ms - ms) / 86400000.0 : 0.0;
    }
    double listed = NAN;
    if (want_number(listing, "price", 0, &listed, name, err) != LDS_OK)
        return err->code;
    const char *currency = json_string_value(json_object_get(listing, "currency"));
    if (currency && *currency) {
        size_t n = strlen(currency);
        if (n > 7)
            return lds_error_set(err, LDS_EFORMAT, "%s: field currency: expected a code such as USD", name);
        for (size_t i = 0; currency_out && i <= n; i++)
            currency_out[i] = (char)toupper((unsigned char)currency[i]);
    }
    if (price)
        *price = listed;
    return LDS_OK;
}

/* ---- time ---- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

lds_status lds_valuation_parse_time(const char *text, int64_t *ms)
{
    static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (text == NULL || strlen(text) < 10 || !digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &mo) ||
        text[7] != '-' || !digits(text + 8, 2, &d))
        return LDS_EFORMAT;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1])
        return LDS_EFORMAT;
    const char *p = text + 10;
    int64_t frac_ms = 0, offset_s = 0;
    if (*p) {
        if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) ||
            p[6] != ':' || !digits(p + 7, 2, &s) || h > 23 || mi > 59 || s > 60)
            return LDS_EFORMAT;
        p += 9;
        if (*p == '.') {
            int scale = 100, n = 0;
            for (p++; isdigit((unsigned char)*p); p++, n++) {
                frac_ms += (*p - '0') * scale;
                scale /= 10;
            }
            if (n == 0)
                return LDS_EFORMAT;
        }
        int oh, om;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om)) {
            offset_s = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
            p += 6;
        } else {
            return LDS_EFORMAT;
        }
        if (*p)
            return LDS_EFORMAT;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
    *ms = secs * 1000 + frac_ms;
    return LDS_OK;
}

lds_status lds_valuation_half_life_from_env(double *days, lds_error *err)
{
    *days = LDS_VALUATION_HALF_LIFE_DAYS;
    const char *text = getenv("LODESTONE_VALUATION_HALF_LIFE_DAYS");
    if (text == NULL)
        return LDS_OK;
    char *end;
    double v = strtod(text, &end);
    if (*text == 0 || *end || !isfinite(v) || v <= 0 || v > 36500)
        return lds_error_set(err, LDS_EINVAL, "LODESTONE_VALUATION_HALF_LIFE_DAYS '%.40s': expected days in (0, 36500]",
                             text);
    *days = v;
    return LDS_OK;
}
