/*
 * valuation.h: what a model is worth (DESIGN.md sections 2 and 4 step 8): a value score 0-100
 * explained as the sum of seven factor contributions, and a price band from a hedonic log-price
 * ridge regression with category priors and empirical-Bayes shrinkage of the asset's own sales.
 *
 * Pure computation: no Redis, no clock, no files. State goes in and out as structs or JSON (the
 * service keeps it in Redis: ingest/valuation_store.c), so the same inputs give the same answer,
 * byte for byte. Every function is thread-safe (no shared state).
 *
 * Factors (each a value in [0, 1], documented with its checks in features.c and score.c):
 *   quality       the marketplace checker's list on the report: open edges, non-manifold edges,
 *                 flipped faces, degenerate faces, duplicate faces, UVs, normals, PBR texture
 *                 slots, missing textures, triangle budget for the category
 *   completeness  title, description, tags, licence, category
 *   provenance    certificate in the transparency log, partner deposit with accession number,
 *                 lineage (declared parents, or no possible duplicate of someone else's shape)
 *   rarity        1 - similarity to the nearest other shape in the shape index
 *   engagement    decayed views, downloads, favourites with Bayesian-averaged conversion rates
 *   sales         decayed purchase count (realised prices move the price, not the score)
 *   demand        the category's decayed sales per asset against the whole catalogue's
 * Score weights are versioned (LDS_VALUATION_WEIGHTS_VERSION); contributions = weight * value.
 */
#ifndef LDS_VALUATION_H
#define LDS_VALUATION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LDS_VALUATION_WEIGHTS_VERSION "lds-value-1"
#define LDS_VALUATION_CURRENCY "USD"
#define LDS_VALUATION_HALF_LIFE_DAYS 90.0 /* default; LODESTONE_VALUATION_HALF_LIFE_DAYS */
#define LDS_VALUATION_CATEGORY_MAX 64      /* categories a model knows (others use the global prior) */
#define LDS_VALUATION_NAME_MAX 48

typedef enum lds_valuation_factor {
    LDS_VALUATION_QUALITY,
    LDS_VALUATION_COMPLETENESS,
    LDS_VALUATION_PROVENANCE,
    LDS_VALUATION_RARITY,
    LDS_VALUATION_ENGAGEMENT,
    LDS_VALUATION_SALES,
    LDS_VALUATION_DEMAND,
    LDS_VALUATION_FACTOR_COUNT
} lds_valuation_factor;

/* "quality", "completeness", ... */
const char *lds_valuation_factor_name(lds_valuation_factor factor);
/* The score weight of a factor (they add up to 100). */
double lds_valuation_factor_weight(lds_valuation_factor factor);

/* ---- the characteristics of one asset. Unknown numbers are NaN, unknown flags -1: never 0. ---- */
typedef struct lds_valuation_item {
    char category[LDS_VALUATION_NAME_MAX]; /* lower-case; "" unknown */
    double triangles, vertices;
    int has_uvs, has_normals, pbr, rigged, animated;
    double textures;  /* texture images */
    double pbr_slots; /* distinct PBR slots with a texture (base colour, metallic-roughness, normal,
                         occlusion, emissive), 0-5 */
    double formats;   /* file formats offered */
    /* report checks (counts) */
    double open_edges, non_manifold_edges, flipped_edges, degenerate_faces, duplicate_faces, missing_textures;
    /* metadata */
    int has_title, has_description, has_license, open_license; /* open: CC0 or CC-BY* */
    double tag_count;
    /* provenance */
    int certified, accession, lineage_declared, possible_duplicate;
    double rarity; /* 1 - similarity to the nearest other shape */
    /* listing totals as a marketplace shows them (not decayed) */
    double views, favorites, downloads;
    double age_days; /* since published */
    /* words of the title and tags ("low poly", "game ready", "4k" say what sellers charge for),
     * hashed into LDS_VALUATION_WORD_BUCKETS buckets; at most LDS_VALUATION_WORDS_MAX kept */
    uint16_t words[32];
    size_t word_count;
} lds_valuation_item;

#define LDS_VALUATION_WORDS_MAX 32
#define LDS_VALUATION_WORD_BUCKETS 128

/* Every field unknown. */
void lds_valuation_item_init(lds_valuation_item *item);
/* From a processed model: manifest.json (its report, metadata, certificate) and optional extra
 * metadata (title, description, tags, license, category, accession, parents, formats: may be NULL)
 * overriding the manifest's. */
void lds_valuation_item_from_manifest(lds_valuation_item *item, const json_t *manifest, const json_t *metadata);
/* From one listing of a marketplace export: {"id", "category", "title", "tags": [..], "license",
 * "triangles", "vertices", "has_uvs", "textures", "pbr", "rigged", "animated", "formats": [..],
 * "published": "YYYY-MM-DD", "views", "favorites", "downloads", "price", "currency"}; now_ms is the
 * reference time for the age. Unknown keys are ignored; a missing or null field stays unknown;
 * numbers may be numeric strings ("1,234", "$19.99") and flags "yes"/"no"; a field of the wrong type
 * or out of range is an LDS_EFORMAT naming it (name: "line 12"). *price (may be NULL) gets the price
 * (NaN when absent), currency (may be NULL, 8 bytes) its upper-cased currency ("" when absent). */
lds_status lds_valuation_item_from_listing(lds_valuation_item *item, const json_t *listing, int64_t now_ms,
                                           const char *name, double *price, char *currency, lds_error *err);

/* ---- usage signals: exponentially decayed counters (half-life by the event's own time) ---- */

/* A counter decayed to `at`: its value at time T >= at is value * 2^(-(T - at) / half_life). */
typedef struct lds_valuation_counter {
    double value;
    int64_t at_ms; /* 0: empty */
} lds_valuation_counter;

typedef struct lds_valuation_signals {
    lds_valuation_counter views, downloads, favorites, purchases;
    lds_valuation_counter log_price; /* decayed sum of log(price) over purchases */
    lds_valuation_counter log_price_sq; /* decayed sum of log(price)^2: the spread of own prices */
    double total_views, total_downloads, total_favorites, total_purchases; /* undecayed */
    int64_t last_event_ms;
} lds_valuation_signals;

typedef enum lds_valuation_event_type {
    LDS_VALUATION_VIEW,
    LDS_VALUATION_DOWNLOAD,
    LDS_VALUATION_FAVORITE,
    LDS_VALUATION_PURCHASE
} lds_valuation_event_type;

typedef struct lds_valuation_event {
    char id[129];     /* optional dedup id ("" none) */
    char asset[128];
    lds_valuation_event_type type;
    double price;     /* purchases: > 0 in USD */
    int64_t at_ms;
} lds_valuation_event;

/* "view", "download", "favorite", "purchase". */
const char *lds_valuation_event_type_name(lds_valuation_event_type type);
/* Parses and checks one event of a POST /v1/events body (index names it in errors: "event 3:
 * field price: ..."). Fields: asset (required), type (required), price and currency (purchases
 * only, both required, currency USD), at (RFC 3339, default now_ms; at most 10 minutes ahead of
 * now_ms), id (optional, 1-128 printable characters). Unknown fields are refused. *field gets the
 * name of the offending field. */
lds_status lds_valuation_event_parse(const json_t *value, size_t index, int64_t now_ms, lds_valuation_event *event,
                                     const char **field, lds_error *err);
/* The event as JSON (for the stream), and back. */
json_t *lds_valuation_event_to_json(const lds_valuation_event *event);
lds_status lds_valuation_event_from_json(const json_t *value, lds_valuation_event *event, lds_error *err);

/* Adds weight at time at_ms to a counter (any order of arrival gives the same value up to
 * rounding). half_life_days > 0. */
void lds_valuation_counter_add(lds_valuation_counter *counter, double weight, int64_t at_ms, double half_life_days);
/* The counter's value at now_ms (a counter newer than now_ms is not grown back). */
double lds_valuation_counter_at(const lds_valuation_counter *counter, int64_t now_ms, double half_life_days);
/* Applies one event to an asset's signals. */
void lds_valuation_signals_apply(lds_valuation_signals *signals, const lds_valuation_event *event,
                                 double half_life_days);
json_t *lds_valuation_signals_to_json(const lds_valuation_signals *signals);
/* Empty signals for NULL or a malformed value. */
void lds_valuation_signals_from_json(lds_valuation_signals *signals, const json_t *value);

/* A category's (or the whole catalogue's) market: decayed purchases and its supply of assets. */
typedef struct lds_valuation_market {
    lds_valuation_counter purchases;
    double supply;
} lds_valuation_market;
json_t *lds_valuation_market_to_json(const lds_valuation_market *market);
void lds_valuation_market_from_json(lds_valuation_market *market, const json_t *value);

/* ---- the price model ---- */

#define LDS_VALUATION_BASE_FEATURES 26
#define LDS_VALUATION_INTERACTIONS 4 /* per category: log triangles, pbr, rigged, log views */
#define LDS_VALUATION_DIM_MAX                                                                          \
    (1 + LDS_VALUATION_BASE_FEATURES + LDS_VALUATION_CATEGORY_MAX * (1 + LDS_VALUATION_INTERACTIONS) + \
     LDS_VALUATION_WORD_BUCKETS)

typedef struct lds_valuation_model {
    char version[64]; /* "lds-value-1/prior" for the built-in model, "lds-value-1/fit-N" */
    char currency[8]; /* of its prices: USD, or the single currency of the history it was fitted on */
    size_t category_count;
    char categories[LDS_VALUATION_CATEGORY_MAX][LDS_VALUATION_NAME_MAX]; /* sorted */
    size_t word_buckets;              /* 0 (the prior) or LDS_VALUATION_WORD_BUCKETS */
    size_t dim;                       /* 1 + base + categories * (1 + interactions) + word buckets */
    double beta[LDS_VALUATION_DIM_MAX]; /* on standardised features; beta[0] the intercept */
    double mean[LDS_VALUATION_DIM_MAX], scale[LDS_VALUATION_DIM_MAX];
    double band_low, band_high; /* quantiles of out-of-fold log residuals */
    double coverage;            /* the band's stated coverage (0.8) */
    double shrink_k;            /* own-sales shrinkage: weight n / (n + k) */
    double lambda;              /* ridge penalty chosen by cross-validation */
    /* fit statistics */
    size_t rows;
    double rmse, cv_rmse, r2, cv_coverage;
} lds_valuation_model;

/* The built-in prior model (marketplace price-tier advice turned into coefficients), used when
 * no model was fitted. */
void lds_valuation_model_prior(lds_valuation_model *model);

/* One training row: the item and its log price (realised or listed), with a weight. */
typedef struct lds_valuation_row {
    lds_valuation_item item;
    double log_price;
    double weight;
} lds_valuation_row;

/* Fits the hedonic ridge regression on rows (at least 20), choosing the penalty by 5-fold
 * cross-validation (folds by row index, so deterministic) and the band from out-of-fold residuals.
 * version names the result; its currency is USD (the caller may set another). */
lds_status lds_valuation_model_fit(const lds_valuation_row *rows, size_t count, const char *version,
                                   lds_valuation_model *model, lds_error *err);
json_t *lds_valuation_model_to_json(const lds_valuation_model *model);
lds_status lds_valuation_model_from_json(const json_t *value, lds_valuation_model *model, lds_error *err);

/* ---- the answer ---- */

typedef struct lds_valuation_context {
    const lds_valuation_signals *signals; /* NULL: none */
    const lds_valuation_market *category;  /* NULL: unknown */
    const lds_valuation_market *catalogue; /* NULL: unknown */
    int64_t now_ms;                        /* the time the answer is for */
    double half_life_days;                 /* 0: default */
} lds_valuation_context;

typedef struct lds_valuation_factor_result {
    double value;        /* 0..1 */
    double contribution; /* to the score (rounded to 0.01) */
    double price_effect; /* multiplicative effect on the mid price against an average listing */
    char explanation[512];
} lds_valuation_factor_result;

typedef struct lds_valuation_result {
    double score; /* sum of the rounded contributions */
    double low, mid, high; /* in the model's currency, rounded to cents */
    char currency[8];
    double confidence;     /* 0..1 */
    double predicted_mid;  /* the regression's mid before own-sales shrinkage */
    double own_weight;     /* n / (n + k) */
    lds_valuation_factor_result factors[LDS_VALUATION_FACTOR_COUNT];
    char model[64];
} lds_valuation_result;

/* Values an item. Deterministic. */
void lds_valuation_compute(const lds_valuation_model *model, const lds_valuation_item *item,
                           const lds_valuation_context *context, lds_valuation_result *result);
/* {"score", "price": {"currency", "low", "mid", "high"}, "confidence", "factors": [{"name",
 * "contribution", "value", "price_effect", "explanation"}], "model", "as_of"}. */
json_t *lds_valuation_result_to_json(const lds_valuation_result *result, int64_t as_of_ms);
/* Compact text of the JSON above with fixed precision (the bytes served). Caller frees. */
char *lds_valuation_result_dumps(const lds_valuation_result *result, int64_t as_of_ms);

/* The half-life from LODESTONE_VALUATION_HALF_LIFE_DAYS (default 90); a malformed value is an
 * LDS_EINVAL naming the variable. */
lds_status lds_valuation_half_life_from_env(double *days, lds_error *err);

/* Parses RFC 3339 ("2026-01-02T03:04:05Z", offsets, fractions) or a date "2026-01-02" into ms
 * since the epoch; LDS_EFORMAT when malformed. */
lds_status lds_valuation_parse_time(const char *text, int64_t *ms);

#ifdef __cplusplus
}
#endif
#endif
