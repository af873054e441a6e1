/*
 * score.c: the seven factor values, the score and the price band.
 *
 * Score weights (LDS_VALUATION_WEIGHTS_VERSION "lds-value-1"; a change of any weight or factor
 * formula is a new version): quality 25, completeness 10, provenance 10, rarity 10, engagement 15,
 * sales 20, demand 10. Each contribution is weight * value rounded to 0.01, and the score is their
 * sum, so the contributions add up to the score exactly.
 *
 * Price: log mid = the hedonic prediction (model.c) moved towards the decayed mean log price of
 * the asset's own purchases with weight n / (n + k) (n the decayed purchase count, k the model's
 * shrinkage constant: the Bühlmann credibility weight). The band is the model's out-of-fold
 * residual quantiles around the mid, narrowed as own sales take over. Each factor's price effect
 * is exp(sum of its columns' beta * x), x standardised: its multiplicative effect against an
 * average listing; the sales effect is the shrinkage's move.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "valuation_internal.h"

static const char *const factor_names[LDS_VALUATION_FACTOR_COUNT] = {
    "quality", "completeness", "provenance", "rarity", "engagement", "sales", "demand"};
static const double factor_weights[LDS_VALUATION_FACTOR_COUNT] = {25, 10, 10, 10, 15, 20, 10};

const char *lds_valuation_factor_name(lds_valuation_factor factor)
{
    return (unsigned)factor < LDS_VALUATION_FACTOR_COUNT ? factor_names[factor] : "unknown";
}

double lds_valuation_factor_weight(lds_valuation_factor factor)
{
    return (unsigned)factor < LDS_VALUATION_FACTOR_COUNT ? factor_weights[factor] : 0.0;
}

static void say(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t size, const char *fmt, ...)
{
    if (out == NULL || size == 0)
        return;
    size_t used = strlen(out);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + used, size - used, fmt, ap);
    va_end(ap);
}

/* ---- quality: the marketplace checker ---- */

typedef struct budget {
    const char *category;
    double low, high;
} budget;

/* Triangle budgets per category (game-ready ranges as marketplace checkers state them; scans are
 * allowed dense meshes). Unknown categories get the default. */
static const budget budgets[] = {
    {"character", 2000, 150000}, {"creature", 2000, 150000}, {"prop", 100, 50000},      {"furniture", 500, 100000},
    {"vehicle", 5000, 300000},   {"weapon", 1000, 60000},    {"architecture", 500, 1000000},
    {"building", 500, 1000000},  {"plant", 500, 200000},     {"scan", 10000, 5000000},  {"heritage", 10000, 5000000},
    {"sculpture", 10000, 5000000}, {"environment", 1000, 2000000}};

static void budget_of(const char *category, double *low, double *high)
{
    *low = 200;
    *high = 1000000;
    for (size_t i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++)
        if (strcmp(category, budgets[i].category) == 0) {
            *low = budgets[i].low;
            *high = budgets[i].high;
        }
}

typedef struct checks {
    double sum, weight;
    char *explain;
    size_t size;
} checks;

static void check(checks *c, const char *name, double count, double score, double weight)
{
    c->sum += score * weight;
    c->weight += weight;
    if (isnan(count))
        say(c->explain, c->size, "%s%s %.2f", c->weight > weight ? "; " : "", name, score);
    else
        say(c->explain, c->size, "%s%s %.0f: %.2f", c->weight > weight ? "; " : "", name, count, score);
}

double val_quality(const lds_valuation_item *it, char *explain, size_t size)
{
    checks c = {0, 0, explain, size};
    double tri = it->triangles, edges = isnan(tri) ? NAN : fmax(1.0, 1.5 * tri);
    if (!isnan(it->open_edges) && !isnan(edges))
        check(&c, "open edges", it->open_edges, exp(-50.0 * it->open_edges / edges), 1.0);
    if (!isnan(it->non_manifold_edges) && !isnan(edges))
        check(&c, "non-manifold edges", it->non_manifold_edges, exp(-200.0 * it->non_manifold_edges / edges), 1.0);
    if (!isnan(it->flipped_edges) && !isnan(edges))
        check(&c, "flipped faces (edges)", it->flipped_edges, exp(-200.0 * it->flipped_edges / edges), 0.75);
    if (!isnan(it->degenerate_faces) && !isnan(tri))
        check(&c, "degenerate faces", it->degenerate_faces, exp(-100.0 * it->degenerate_faces / fmax(tri, 1)), 0.5);
    if (!isnan(it->duplicate_faces) && !isnan(tri))
        check(&c, "duplicate faces", it->duplicate_faces, exp(-100.0 * it->duplicate_faces / fmax(tri, 1)), 0.5);
    if (it->has_uvs >= 0)
        check(&c, it->has_uvs ? "UVs present" : "no UVs", NAN, it->has_uvs ? 1.0 : 0.2, 1.0);
    if (it->has_normals >= 0)
        check(&c, it->has_normals ? "normals present" : "no normals", NAN, it->has_normals ? 1.0 : 0.5, 0.5);
    if (!isnan(it->pbr_slots))
        check(&c, "PBR texture slots", it->pbr_slots, 0.2 + 0.8 * fmin(it->pbr_slots, 3.0) / 3.0, 1.0);
    else if (it->pbr >= 0)
        check(&c, it->pbr ? "PBR materials" : "no PBR materials", NAN, it->pbr ? 1.0 : 0.4, 1.0);
    if (!isnan(it->missing_textures))
        check(&c, "missing textures", it->missing_textures, it->missing_textures > 0 ? 0.3 : 1.0, 0.5);
    if (!isnan(tri) && tri > 0) {
        double low, high;
        budget_of(it->category, &low, &high);
        double off = tri < low ? log(low / tri) : tri > high ? log(tri / high) : 0.0;
        check(&c, "triangle budget", tri, exp(-off / log(10.0)), 1.0);
        say(explain, size, " (%.0f-%.0f for %s)", low, high, it->category[0] ? it->category : "any category");
    }
    if (c.weight == 0) {
        say(explain, size, "no checks known: neutral");
        return 0.5;
    }
    return c.sum / c.weight;
}

/* ---- completeness and provenance ---- */

static double known_part(int flag, double weight)
{
    return flag < 0 ? 0.5 * weight : flag ? weight : 0.0;
}

double val_completeness(const lds_valuation_item *it, char *explain, size_t size)
{
    double tags = isnan(it->tag_count) ? 0.5 : fmin(it->tag_count, 5.0) / 5.0;
    double v = known_part(it->has_title, 0.2) + known_part(it->has_description, 0.25) + 0.2 * tags +
               known_part(it->has_license, 0.2) + (it->category[0] ? 0.15 : 0.0);
    say(explain, size, "title %s; description %s; %s tags; licence %s; category %s",
        it->has_title < 0 ? "unknown" : it->has_title ? "yes" : "no",
        it->has_description < 0 ? "unknown" : it->has_description ? "yes" : "no (or under 20 characters)",
        isnan(it->tag_count) ? "unknown" : it->tag_count >= 5 ? "5+" : it->tag_count >= 1 ? "some" : "no",
        it->has_license < 0 ? "unknown" : it->has_license ? "yes" : "no", it->category[0] ? it->category : "none");
    return v;
}

double val_provenance(const lds_valuation_item *it, char *explain, size_t size)
{
    double lineage = it->lineage_declared > 0 ? 0.2 : it->possible_duplicate > 0 ? 0.0
                                                    : it->possible_duplicate == 0 ? 0.2
                                                                                  : 0.1;
    double v = known_part(it->certified, 0.5) * (it->certified < 0 ? 0.0 : 1.0) +
               (it->accession > 0 ? 0.3 : it->accession < 0 ? 0.0 : 0.0) + lineage;
    say(explain, size, "certificate in the transparency log: %s; partner deposit with accession number: %s; lineage: %s",
        it->certified < 0 ? "unknown" : it->certified ? "yes" : "no", it->accession > 0 ? "yes" : "no",
        it->lineage_declared > 0    ? "parents declared"
        : it->possible_duplicate > 0 ? "possible duplicate of another owner's shape"
        : it->possible_duplicate == 0 ? "original (no matching shape of another owner)"
                                      : "unknown");
    return v;
}

/* ---- usage factors ---- */

#define PRIOR_VIEWS 30.0
#define PRIOR_DOWNLOAD_RATE 0.05
#define PRIOR_FAVORITE_RATE 0.02

static double engagement(const lds_valuation_item *it, const lds_valuation_context *ctx, double h, char *explain,
                         size_t size)
{
    double v, d, f;
    int decayed = ctx->signals != NULL;
    if (decayed) {
        v = lds_valuation_counter_at(&ctx->signals->views, ctx->now_ms, h);
        d = lds_valuation_counter_at(&ctx->signals->downloads, ctx->now_ms, h);
        f = lds_valuation_counter_at(&ctx->signals->favorites, ctx->now_ms, h);
    } else {
        v = isnan(it->views) ? 0 : it->views;
        d = isnan(it->downloads) ? 0 : it->downloads;
        f = isnan(it->favorites) ? 0 : it->favorites;
    }
    /* Bayesian averages: PRIOR_VIEWS pseudo-views at the catalogue's rates, so that 3 views and 3
     * downloads is not "100% conversion" */
    double rd = (d + PRIOR_VIEWS * PRIOR_DOWNLOAD_RATE) / (v + PRIOR_VIEWS);
    double rf = (f + PRIOR_VIEWS * PRIOR_FAVORITE_RATE) / (v + PRIOR_VIEWS);
    double reach = 1.0 - exp2(-v / 100.0);
    double value = 0.5 * reach + 0.25 * rd / (rd + PRIOR_DOWNLOAD_RATE) + 0.25 * rf / (rf + PRIOR_FAVORITE_RATE);
    say(explain, size, "%s views %.1f, downloads %.1f, favourites %.1f; download rate %.3f and favourite rate %.3f "
        "(Bayesian averages over %.0f prior views)", decayed ? "decayed" : "listed", v, d, f, rd, rf, PRIOR_VIEWS);
    return value;
}

#define WITHIN_PRIOR_VARIANCE 0.05 /* of one asset's realised log prices, worth 2 purchases */

static double sales(const lds_valuation_context *ctx, double h, double *n, double *mean_log, double *within,
                    char *explain, size_t size)
{
    *n = 0;
    *mean_log = NAN;
    *within = WITHIN_PRIOR_VARIANCE;
    if (ctx->signals && ctx->signals->purchases.at_ms) {
        *n = lds_valuation_counter_at(&ctx->signals->purchases, ctx->now_ms, h);
        double lp = lds_valuation_counter_at(&ctx->signals->log_price, ctx->now_ms, h);
        double lp2 = lds_valuation_counter_at(&ctx->signals->log_price_sq, ctx->now_ms, h);
        *mean_log = *n > 0 ? lp / *n : NAN;
        if (*n > 0) /* decayed sum of squared deviations, shrunk to the prior spread */
            *within = (fmax(0.0, lp2 - lp * lp / *n) + 2.0 * WITHIN_PRIOR_VARIANCE) / (*n + 2.0);
    }
    double value = 1.0 - exp2(-*n / 5.0);
    if (*n > 0)
        say(explain, size, "decayed purchases %.2f (%.0f in all) at a mean realised price of %.2f", *n,
            ctx->signals->total_purchases, exp(*mean_log));
    else
        say(explain, size, "no purchases recorded");
    return value;
}

static double demand(const lds_valuation_item *it, const lds_valuation_context *ctx, double h, char *explain,
                     size_t size)
{
    if (ctx->category == NULL || ctx->catalogue == NULL || it->category[0] == 0) {
        say(explain, size, "category market unknown: neutral");
        return 0.5;
    }
    double sc = lds_valuation_counter_at(&ctx->category->purchases, ctx->now_ms, h);
    double sa = lds_valuation_counter_at(&ctx->catalogue->purchases, ctx->now_ms, h);
    if (!(sa > 1e-9) || !(ctx->catalogue->supply > 0)) {
        say(explain, size, "no recent sales in the catalogue: neutral");
        return 0.5;
    }
    /* sales per asset, the category's shrunk towards the catalogue's by 5 pseudo-assets */
    double rg = sa / ctx->catalogue->supply;
    double rc = (sc + 5.0 * rg) / (ctx->category->supply + 5.0);
    say(explain, size, "%s: decayed sales %.2f over %.0f assets against %.2f over %.0f in the catalogue",
        it->category, sc, ctx->category->supply, sa, ctx->catalogue->supply);
    return rc / (rc + rg);
}

/* ---- the answer ---- */

static double round_to(double v, double unit)
{
    double r = round(v / unit) * unit;
    return r == 0.0 ? 0.0 : r; /* no -0 */
}

/* Item-only and usage factor values with their explanations. */
static void factor_values(const lds_valuation_item *item, const lds_valuation_context *ctx, double h,
                          lds_valuation_result *r, double *n, double *mean_log, double *within)
{
    lds_valuation_factor_result *f = r->factors;
    f[LDS_VALUATION_QUALITY].value = val_quality(item, f[LDS_VALUATION_QUALITY].explanation, sizeof(f->explanation));
    f[LDS_VALUATION_COMPLETENESS].value =
        val_completeness(item, f[LDS_VALUATION_COMPLETENESS].explanation, sizeof(f->explanation));
    f[LDS_VALUATION_PROVENANCE].value =
        val_provenance(item, f[LDS_VALUATION_PROVENANCE].explanation, sizeof(f->explanation));
    f[LDS_VALUATION_RARITY].value = isnan(item->rarity) ? 0.5 : fmin(1.0, fmax(0.0, item->rarity));
    if (isnan(item->rarity))
        say(f[LDS_VALUATION_RARITY].explanation, sizeof(f->explanation), "nearest shapes unknown: neutral");
    else
        say(f[LDS_VALUATION_RARITY].explanation, sizeof(f->explanation),
            "similarity to the nearest other shape in the index %.3f", 1.0 - item->rarity);
    f[LDS_VALUATION_ENGAGEMENT].value =
        engagement(item, ctx, h, f[LDS_VALUATION_ENGAGEMENT].explanation, sizeof(f->explanation));
    f[LDS_VALUATION_SALES].value =
        sales(ctx, h, n, mean_log, within, f[LDS_VALUATION_SALES].explanation, sizeof(f->explanation));
    f[LDS_VALUATION_DEMAND].value = demand(item, ctx, h, f[LDS_VALUATION_DEMAND].explanation, sizeof(f->explanation));
}

void lds_valuation_compute(const lds_valuation_model *model, const lds_valuation_item *item,
                           const lds_valuation_context *ctx, lds_valuation_result *r)
{
    memset(r, 0, sizeof(*r));
    double h = ctx->half_life_days > 0 ? ctx->half_life_days : LDS_VALUATION_HALF_LIFE_DAYS;
    double n, mean_log, within;
    factor_values(item, ctx, h, r, &n, &mean_log, &within);
    for (int i = 0; i < LDS_VALUATION_FACTOR_COUNT; i++) {
        r->factors[i].value = round_to(r->factors[i].value, 0.0001);
        r->factors[i].contribution = round_to(factor_weights[i] * r->factors[i].value, 0.01);
        r->score += r->factors[i].contribution;
    }
    r->score = round_to(r->score, 0.01);

    double x[LDS_VALUATION_DIM_MAX], effect[LDS_VALUATION_FACTOR_COUNT] = {0};
    val_design_row(model, item, x);
    double pred = model->beta[0];
    for (size_t j = 1; j < model->dim; j++) {
        double e = model->beta[j] * x[j];
        effect[val_column_factor(model, j)] += e;
        pred += e;
    }
    r->own_weight = n > 0 && !isnan(mean_log) ? n / (n + model->shrink_k) : 0.0;
    double mid = r->own_weight > 0 ? (1.0 - r->own_weight) * pred + r->own_weight * mean_log : pred;
    effect[LDS_VALUATION_SALES] += mid - pred;
    /* the band of a new sale: the model's residual spread (tau, read off its 80% band as a normal
     * one) where the model speaks, the asset's own price spread where its sales do */
    double tau = (model->band_high - model->band_low) / (2.0 * 1.2816);
    double spread = sqrt((1.0 - r->own_weight) + r->own_weight * fmin(1.0, within / fmax(tau * tau, 1e-6)));
    r->predicted_mid = round_to(exp(pred), 0.01);
    r->mid = round_to(exp(mid), 0.01);
    r->low = round_to(exp(mid + model->band_low * spread), 0.01);
    r->high = round_to(exp(mid + model->band_high * spread), 0.01);
    double width = (model->band_high - model->band_low) * spread;
    r->confidence = round_to(fmin(0.95, fmax(0.05, 1.0 - width / 3.0)), 0.01);
    for (int i = 0; i < LDS_VALUATION_FACTOR_COUNT; i++)
        r->factors[i].price_effect = round_to(exp(effect[i]), 0.0001);
    snprintf(r->model, sizeof(r->model), "%s", model->version);
    snprintf(r->currency, sizeof(r->currency), "%s", model->currency[0] ? model->currency : LDS_VALUATION_CURRENCY);
}

static void format_time(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *lds_valuation_result_to_json(const lds_valuation_result *r, int64_t as_of_ms)
{
    json_t *factors = json_array();
    for (int i = 0; i < LDS_VALUATION_FACTOR_COUNT; i++) {
        const lds_valuation_factor_result *f = &r->factors[i];
        json_array_append_new(factors, json_pack("{s:s,s:f,s:f,s:f,s:f,s:s}", "name", factor_names[i], "contribution",
                                                 f->contribution, "value", f->value, "weight", factor_weights[i],
                                                 "price_effect", f->price_effect, "explanation", f->explanation));
    }
    char when[40];
    format_time(as_of_ms, when, sizeof(when));
    return json_pack("{s:f,s:{s:s,s:f,s:f,s:f},s:f,s:o,s:s,s:s}", "score", r->score, "price", "currency",
                     r->currency, "low", r->low, "mid", r->mid, "high", r->high, "confidence",
                     r->confidence, "factors", factors, "model", r->model, "as_of", when);
}

char *lds_valuation_result_dumps(const lds_valuation_result *r, int64_t as_of_ms)
{
    json_t *j = lds_valuation_result_to_json(r, as_of_ms);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(j);
    return text;
}
