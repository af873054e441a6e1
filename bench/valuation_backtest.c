/*
 * valuation_backtest.c: a market simulation to backtest valuation/ (issue 11 item 6).
 *
 * Each asset gets characteristics (category, triangles, UVs, PBR, rig, animation, tags, quality
 * checks) and a hidden appeal. Its list price follows a hedonic structure plus appeal plus noise;
 * each day it draws views (more with appeal), favourites and downloads (rates rising with appeal),
 * and purchases (rising with appeal, falling with price) at a realised price around the list price
 * (discounts and bundles: log-normal). Events feed the decayed signals by their own day.
 *
 * Fit on the first part (purchases recorded by day SPLIT: each asset's mean realised log price, as
 * `valuation fit` does from the service), value every asset as of day SPLIT with its signals and
 * markets, then compare with the second part: Spearman between predicted value (score, and mid
 * price) and later sales (revenue), the median |log(predicted mid / realised price)| over later
 * purchases, and the share of later purchases whose realised price falls inside the band against
 * the band's stated coverage.
 *
 * usage: lds_valuation_backtest [ASSETS] [SEED]     (defaults 3000, 1)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valuation.h"

#define DAYS 720
#define SPLIT 360
#define DAY_MS 86400000LL
#define EPOCH_MS 1700000000000LL
#define HALF_LIFE 90.0

typedef struct cat_spec {
    const char *name;
    double log10_tri, base_price, rig_p, pbr_p;
} cat_spec;

static const cat_spec cats[] = {{"character", 4.5, 45, 0.55, 0.6}, {"vehicle", 4.9, 60, 0.05, 0.65},
                                {"prop", 3.4, 9, 0.02, 0.45},      {"architecture", 4.6, 30, 0, 0.35},
                                {"furniture", 3.9, 15, 0, 0.55},  {"weapon", 3.9, 20, 0.1, 0.7},
                                {"creature", 4.6, 55, 0.6, 0.55}, {"scan", 5.8, 25, 0, 0.3}};
#define CATS (sizeof(cats) / sizeof(cats[0]))

typedef struct asset {
    lds_valuation_item item;
    int cat;
    double appeal, list_price;
    lds_valuation_signals signals; /* events up to SPLIT */
    double later_revenue, later_log_sum;
    size_t later_count;
} asset;

/* xorshift64* and helpers: a fixed sequence for a seed */
static uint64_t rng_state;
static double uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((rng_state * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}
static double gauss(void)
{
    double u = uniform() + 1e-12, v = uniform();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}
static unsigned poisson(double lambda)
{
    if (lambda > 30) {
        double x = lambda + sqrt(lambda) * gauss();
        return x < 0 ? 0 : (unsigned)(x + 0.5);
    }
    double l = exp(-lambda), p = 1;
    unsigned k = 0;
    do {
        k++;
        p *= uniform();
    } while (p > l);
    return k - 1;
}

static void make_asset(asset *a)
{
    a->cat = (int)(uniform() * CATS);
    const cat_spec *c = &cats[a->cat];
    lds_valuation_item *it = &a->item;
    lds_valuation_item_init(it);
    snprintf(it->category, sizeof(it->category), "%s", c->name);
    a->appeal = gauss();
    it->triangles = floor(pow(10, c->log10_tri + 0.1 * a->appeal + 0.45 * gauss()));
    it->rigged = uniform() < c->rig_p;
    it->animated = it->rigged && uniform() < 0.5;
    it->pbr = uniform() < c->pbr_p + 0.1 * a->appeal;
    it->has_uvs = it->pbr || uniform() < 0.8;
    it->has_normals = 1;
    it->textures = it->pbr ? 3 + floor(uniform() * 3) : floor(uniform() * 2);
    it->pbr_slots = it->pbr ? 3 : it->textures > 0;
    it->formats = 1 + floor(uniform() * 4);
    it->tag_count = floor(uniform() * 10);
    it->has_title = it->has_license = 1;
    it->has_description = uniform() < 0.7;
    it->open_license = uniform() < 0.15;
    it->certified = 1;
    it->accession = 0;
    it->possible_duplicate = uniform() < 0.05;
    it->lineage_declared = 0;
    it->rarity = fmin(1, fmax(0, 0.5 + 0.2 * gauss()));
    double q = 0.15 * gauss();
    it->open_edges = q < -0.15 ? floor(it->triangles * 0.01) : 0;
    it->non_manifold_edges = it->flipped_edges = it->degenerate_faces = it->duplicate_faces = 0;
    it->missing_textures = 0;
    double logp = log(c->base_price) + 0.2 * log(it->triangles / pow(10, c->log10_tri)) + 0.5 * it->rigged +
                  0.25 * it->animated + 0.25 * it->pbr + 0.05 * it->formats + 0.45 * a->appeal -
                  0.4 * it->open_license + 0.35 * gauss();
    a->list_price = exp(logp);
}

/* One day of one asset's market: events, applied to the signals before SPLIT, counted after. */
static void simulate_day(asset *a, int day, lds_valuation_market *markets, lds_valuation_market *all)
{
    int64_t at = EPOCH_MS + day * DAY_MS + (int64_t)(uniform() * DAY_MS);
    double views = poisson(6.0 * exp(0.7 * a->appeal));
    double favs = poisson(views * 0.02 * exp(0.6 * a->appeal));
    double dls = poisson(views * 0.03 * exp(0.5 * a->appeal));
    /* buyers: appeal up, price (against what the market expects of such a model) down */
    double buy_rate = 0.004 * exp(0.8 * a->appeal - 0.3 * log(a->list_price / cats[a->cat].base_price));
    unsigned buys = poisson(views * buy_rate);
    if (day < SPLIT) {
        lds_valuation_counter_add(&a->signals.views, views, at, HALF_LIFE);
        lds_valuation_counter_add(&a->signals.favorites, favs, at, HALF_LIFE);
        lds_valuation_counter_add(&a->signals.downloads, dls, at, HALF_LIFE);
        a->signals.total_views += views;
        a->signals.total_favorites += favs;
        a->signals.total_downloads += dls;
    }
    for (unsigned b = 0; b < buys; b++) {
        double price = a->list_price * exp(0.12 * gauss() - 0.05);
        if (day < SPLIT) {
            lds_valuation_event e = {.type = LDS_VALUATION_PURCHASE, .price = price, .at_ms = at};
            lds_valuation_signals_apply(&a->signals, &e, HALF_LIFE);
            lds_valuation_counter_add(&markets[a->cat].purchases, 1, at, HALF_LIFE);
            lds_valuation_counter_add(&all->purchases, 1, at, HALF_LIFE);
        } else {
            a->later_revenue += price;
            a->later_log_sum += log(price);
            a->later_count++;
        }
    }
}

static int compare_index_value(const void *x, const void *y, void *values)
{
    const double *v = values;
    double a = v[*(const size_t *)x], b = v[*(const size_t *)y];
    return a < b ? -1 : a > b;
}

static const double *sort_values;
static int compare_by_value(const void *x, const void *y)
{
    return compare_index_value(x, y, (void *)sort_values);
}

static void ranks(const double *v, size_t n, double *r)
{
    size_t *order = malloc(n * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_values = v;
    qsort(order, n, sizeof(size_t), compare_by_value);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[order[j + 1]] == v[order[i]])
            j++;
        for (size_t k = i; k <= j; k++)
            r[order[k]] = (i + j) / 2.0;
        i = j + 1;
    }
    free(order);
}

static double spearman(const double *a, const double *b, size_t n)
{
    double *ra = malloc(n * sizeof(double)), *rb = malloc(n * sizeof(double));
    ranks(a, n, ra);
    ranks(b, n, rb);
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += ra[i];
        mb += rb[i];
    }
    ma /= n;
    mb /= n;
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    free(ra);
    free(rb);
    return sab / sqrt(saa * sbb);
}

static int compare_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 3000;
    rng_state = 0x9E3779B97F4A7C15ull * (argc > 2 ? strtoull(argv[2], NULL, 10) : 1);
    asset *assets = calloc(n, sizeof(asset));
    lds_valuation_market markets[CATS], all;
    memset(markets, 0, sizeof(markets));
    memset(&all, 0, sizeof(all));
    for (size_t i = 0; i < n; i++) {
        make_asset(&assets[i]);
        markets[assets[i].cat].supply++;
        all.supply++;
    }
    for (int day = 0; day < DAYS; day++)
        for (size_t i = 0; i < n; i++)
            simulate_day(&assets[i], day, markets, &all);

    /* fit on the first part: assets with purchases, their mean realised log price */
    lds_valuation_row *rows = calloc(n, sizeof(*rows));
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const lds_valuation_signals *s = &assets[i].signals;
        if (s->total_purchases == 0)
            continue;
        rows[count].item = assets[i].item;
        rows[count].item.views = s->total_views;
        rows[count].item.favorites = s->total_favorites;
        rows[count].item.downloads = s->total_downloads;
        rows[count].log_price = s->log_price.value / s->purchases.value;
        rows[count].weight = fmin(s->total_purchases, 5.0);
        count++;
    }
    lds_valuation_model model;
    lds_error err;
    lds_error_clear(&err);
    if (lds_valuation_model_fit(rows, count, "backtest", &model, &err) != LDS_OK) {
        fprintf(stderr, "fit: %s\n", err.message);
        return 1;
    }
    /* value as of SPLIT, compare with the second part */
    double *score = malloc(n * sizeof(double)), *mid = malloc(n * sizeof(double)), *revenue = malloc(n * sizeof(double));
    double *abs_log = malloc(n * sizeof(double)), *prior_mid = malloc(n * sizeof(double));
    size_t priced = 0, later_purchases = 0, inside = 0;
    int64_t as_of = EPOCH_MS + SPLIT * DAY_MS;
    lds_valuation_model prior;
    lds_valuation_model_prior(&prior);
    for (size_t i = 0; i < n; i++) {
        asset *a = &assets[i];
        lds_valuation_item item = a->item;
        item.views = a->signals.total_views;
        item.favorites = a->signals.total_favorites;
        item.downloads = a->signals.total_downloads;
        lds_valuation_context ctx = {&a->signals, &markets[a->cat], &all, as_of, HALF_LIFE};
        lds_valuation_result r, rp;
        lds_valuation_compute(&model, &item, &ctx, &r);
        lds_valuation_compute(&prior, &item, &ctx, &rp);
        score[i] = r.score;
        mid[i] = r.mid;
        prior_mid[i] = rp.mid;
        revenue[i] = a->later_revenue;
        if (a->later_count) {
            abs_log[priced++] = fabs(log(r.mid) - a->later_log_sum / a->later_count);
            later_purchases += a->later_count;
        }
    }
    /* band coverage over individual later purchases: re-simulate nothing; use each asset's mean and
     * count its purchases by their realised prices (kept as sums only), so count per asset around
     * the list price: draw them again from the same distribution with a fresh stream */
    uint64_t saved = rng_state;
    rng_state = 0xC0FFEEull;
    size_t cold_inside = 0;
    double *cold_abs = malloc(n * sizeof(double));
    size_t cold_priced = 0;
    for (size_t i = 0; i < n; i++) {
        lds_valuation_item item = assets[i].item;
        item.views = assets[i].signals.total_views;
        item.favorites = assets[i].signals.total_favorites;
        item.downloads = assets[i].signals.total_downloads;
        lds_valuation_context ctx = {&assets[i].signals, &markets[assets[i].cat], &all, as_of, HALF_LIFE};
        lds_valuation_result r;
        lds_valuation_compute(&model, &item, &ctx, &r);
        /* cold: the same asset valued from its characteristics and usage, its own sales withheld */
        lds_valuation_signals cold = assets[i].signals;
        memset(&cold.purchases, 0, sizeof(cold.purchases));
        memset(&cold.log_price, 0, sizeof(cold.log_price));
        memset(&cold.log_price_sq, 0, sizeof(cold.log_price_sq));
        lds_valuation_context cold_ctx = ctx;
        cold_ctx.signals = &cold;
        lds_valuation_result rc;
        lds_valuation_compute(&model, &item, &cold_ctx, &rc);
        if (assets[i].later_count)
            cold_abs[cold_priced++] = fabs(log(rc.mid) - assets[i].later_log_sum / assets[i].later_count);
        for (size_t k = 0; k < assets[i].later_count; k++) {
            double price = assets[i].list_price * exp(0.12 * gauss() - 0.05);
            inside += price >= r.low && price <= r.high;
            cold_inside += price >= rc.low && price <= rc.high;
        }
    }
    rng_state = saved;
    qsort(abs_log, priced, sizeof(double), compare_double);
    printf("market backtest: %zu assets, %d days, fit on days 0-%d (%zu assets with purchases), predict days %d-%d\n",
           n, DAYS, SPLIT - 1, count, SPLIT, DAYS - 1);
    printf("fit: cv_rmse %.3f, r2 %.3f, band x%.2f..x%.2f (stated %.0f%%), lambda %g, k %.2f\n", model.cv_rmse, model.r2,
           exp(model.band_low), exp(model.band_high), 100 * model.coverage, model.lambda, model.shrink_k);
    printf("Spearman(score, later revenue)        %.3f\n", spearman(score, revenue, n));
    printf("Spearman(mid price, later revenue)    %.3f\n", spearman(mid, revenue, n));
    printf("Spearman(prior mid, later revenue)    %.3f  (built-in prior, for reference)\n",
           spearman(prior_mid, revenue, n));
    printf("median |log(mid / later realised)|    %.3f  (%zu assets with later purchases)\n",
           priced ? abs_log[priced / 2] : NAN, priced);
    printf("band coverage of later purchases      %.3f  (%zu purchases; stated %.2f)\n",
           later_purchases ? (double)inside / later_purchases : NAN, later_purchases, model.coverage);
    qsort(cold_abs, cold_priced, sizeof(double), compare_double);
    printf("cold (own sales withheld): median |log| %.3f, band coverage %.3f\n",
           cold_priced ? cold_abs[cold_priced / 2] : NAN, later_purchases ? (double)cold_inside / later_purchases : NAN);
    free(cold_abs);
    free(assets);
    free(rows);
    free(score);
    free(mid);
    free(revenue);
    free(abs_log);
    free(prior_mid);
    return 0;
}
