/*
 * model.c: the hedonic price model. log(price) = x'beta, where x holds an asset's characteristics
 * (Rosen 1974: a good's price as the sum of the implicit prices of its characteristics), fitted by
 * ridge regression (Hoerl & Kennard 1970) on standardised columns:
 *
 *   - base characteristics: log triangles with hinges at 1k, 10k, 100k, 1M (a piecewise-linear
 *     price curve), UVs, PBR, rig, animation, textures, formats, the quality/completeness/
 *     provenance/rarity factor values, tags, open licence, log views/favourites/downloads, smoothed
 *     favourite and download rates, age, views per year;
 *   - category priors: a one-hot column per category, penalised, so that a category with few
 *     listings is shrunk towards the catalogue (the ridge penalty is a Gaussian prior, the
 *     empirical-Bayes reading of which is the penalty chosen from the data by cross-validation);
 *   - per-category slopes of log triangles, PBR, rig and log views, penalised harder: a category
 *     departs from the catalogue's slope only as far as its listings support;
 *   - the words of titles and tags, hashed into 128 buckets (the hashing trick, Weinberger et al.
 *     2009), penalised like the category slopes: what "low poly", "game ready" or "4k" are worth.
 *
 * Unknown values are filled with the training mean (standardised 0), with a missing indicator
 * for triangles and views. The penalty is chosen by 5-fold cross-validation over a small grid;
 * the price band is the 10th-90th percentile of the out-of-fold residuals (stated coverage 80%).
 * Folds are by row index, so the fit is deterministic.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "valuation_internal.h"

#define FOLDS 5
#define MIN_ROWS 20
#define CATEGORY_MIN_ROWS 5
#define BAND_LOW_Q 0.10
#define BAND_HIGH_Q 0.90
#define WITHIN_VARIANCE 0.05 /* log-price variance of one asset's own sales around their mean */

/* ---- the design row ---- */

static double nan_log1p(double v)
{
    return isnan(v) ? NAN : log1p(v);
}

void val_base_features(const lds_valuation_item *it, double *f)
{
    static const double knots[4] = {6.908, 9.210, 11.513, 13.816}; /* ln 1e3, 1e4, 1e5, 1e6 */
    double lt = nan_log1p(it->triangles);
    f[0] = lt;
    for (int k = 0; k < 4; k++)
        f[1 + k] = isnan(lt) ? NAN : fmax(0.0, lt - knots[k]);
    f[5] = isnan(lt);
    f[6] = it->has_uvs < 0 ? NAN : it->has_uvs;
    f[7] = it->pbr < 0 ? NAN : it->pbr;
    f[8] = it->rigged < 0 ? NAN : it->rigged;
    f[9] = it->animated < 0 ? NAN : it->animated;
    f[10] = nan_log1p(it->textures);
    f[11] = nan_log1p(it->formats);
    f[12] = val_quality(it, NULL, 0);
    f[13] = nan_log1p(it->tag_count);
    f[14] = val_completeness(it, NULL, 0);
    f[15] = it->open_license < 0 ? NAN : it->open_license;
    f[16] = val_provenance(it, NULL, 0);
    f[17] = it->rarity;
    f[18] = nan_log1p(it->views);
    f[19] = nan_log1p(it->favorites);
    f[20] = nan_log1p(it->downloads);
    f[21] = isnan(it->views) || isnan(it->favorites) ? NAN : log((it->favorites + 1) / (it->views + 30));
    f[22] = isnan(it->views) || isnan(it->downloads) ? NAN : log((it->downloads + 1) / (it->views + 30));
    f[23] = nan_log1p(it->age_days);
    f[24] = isnan(it->views) || isnan(it->age_days) ? NAN : log1p(it->views / (it->age_days / 365.0 + 0.25));
    f[25] = isnan(it->views);
}

static const lds_valuation_factor base_factor[LDS_VALUATION_BASE_FEATURES] = {
    LDS_VALUATION_QUALITY,      LDS_VALUATION_QUALITY,      LDS_VALUATION_QUALITY,    LDS_VALUATION_QUALITY,
    LDS_VALUATION_QUALITY,      LDS_VALUATION_QUALITY,      LDS_VALUATION_QUALITY,    LDS_VALUATION_QUALITY,
    LDS_VALUATION_QUALITY,      LDS_VALUATION_QUALITY,      LDS_VALUATION_QUALITY,    LDS_VALUATION_QUALITY,
    LDS_VALUATION_QUALITY,      LDS_VALUATION_COMPLETENESS, LDS_VALUATION_COMPLETENESS, LDS_VALUATION_COMPLETENESS,
    LDS_VALUATION_PROVENANCE,   LDS_VALUATION_RARITY,       LDS_VALUATION_ENGAGEMENT, LDS_VALUATION_ENGAGEMENT,
    LDS_VALUATION_ENGAGEMENT,   LDS_VALUATION_ENGAGEMENT,   LDS_VALUATION_ENGAGEMENT, LDS_VALUATION_ENGAGEMENT,
    LDS_VALUATION_ENGAGEMENT,   LDS_VALUATION_ENGAGEMENT};
/* the base columns that get per-category slopes, and their factors */
static const int interaction_base[LDS_VALUATION_INTERACTIONS] = {0, 7, 8, 18};

static size_t words_start(const lds_valuation_model *model)
{
    return 1 + LDS_VALUATION_BASE_FEATURES + model->category_count * (1 + LDS_VALUATION_INTERACTIONS);
}

lds_valuation_factor val_column_factor(const lds_valuation_model *model, size_t column)
{
    assert(column > 0 && column < model->dim);
    if (column <= LDS_VALUATION_BASE_FEATURES)
        return base_factor[column - 1];
    if (column >= words_start(model))
        return LDS_VALUATION_COMPLETENESS; /* what the listing says of itself */
    size_t k = (column - 1 - LDS_VALUATION_BASE_FEATURES) % (1 + LDS_VALUATION_INTERACTIONS);
    return k == 0 ? LDS_VALUATION_DEMAND : base_factor[interaction_base[k - 1]];
}

static int category_index(const lds_valuation_model *model, const char *category)
{
    if (category[0] == 0)
        return -1;
    size_t lo = 0, hi = model->category_count;
    while (lo < hi) { /* categories are sorted */
        size_t mid = (lo + hi) / 2;
        int c = strcmp(model->categories[mid], category);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Raw design values: base columns raw (NaN unknown), category columns from the standardised base. */
static void raw_row(const lds_valuation_model *model, const lds_valuation_item *item, double *raw)
{
    double f[LDS_VALUATION_BASE_FEATURES];
    val_base_features(item, f);
    raw[0] = 1.0;
    for (size_t j = 0; j < LDS_VALUATION_BASE_FEATURES; j++)
        raw[1 + j] = f[j];
    int cat = category_index(model, item->category);
    for (size_t c = 0; c < model->category_count; c++) {
        size_t col = 1 + LDS_VALUATION_BASE_FEATURES + c * (1 + LDS_VALUATION_INTERACTIONS);
        double on = (int)c == cat;
        raw[col] = on;
        for (size_t k = 0; k < LDS_VALUATION_INTERACTIONS; k++) {
            size_t b = 1 + (size_t)interaction_base[k];
            double z = isnan(raw[b]) ? 0.0 : (raw[b] - model->mean[b]) / model->scale[b];
            raw[col + 1 + k] = on * z;
        }
    }
    size_t w0 = words_start(model);
    for (size_t w = 0; w < model->word_buckets; w++)
        raw[w0 + w] = 0.0;
    for (size_t i = 0; model->word_buckets && i < item->word_count; i++)
        raw[w0 + item->words[i]] = 1.0;
}

void val_design_row(const lds_valuation_model *model, const lds_valuation_item *item, double *x)
{
    raw_row(model, item, x);
    for (size_t j = 1; j < model->dim; j++)
        x[j] = isnan(x[j]) ? 0.0 : (x[j] - model->mean[j]) / model->scale[j];
}

/* ---- the prior ---- */

void lds_valuation_model_prior(lds_valuation_model *m)
{
    /* raw-unit coefficients (scale 1) around a $30 listing: mean of each column, its price slope */
    static const double mean[LDS_VALUATION_BASE_FEATURES] = {9.9, 3.0, 1.2, 0.2, 0.0, 0.0, 0.8, 0.5, 0.2,
                                                             0.1, 1.0, 1.0, 0.7, 1.5, 0.7, 0.2, 0.3, 0.5,
                                                             5.0, 2.0, 2.0, -4.0, -3.0, 5.0, 5.0, 0.0};
    static const double beta[LDS_VALUATION_BASE_FEATURES] = {0.15, 0.0, 0.0,  0.0,  0.0, 0.0, 0.2, 0.25, 0.5,
                                                             0.3,  0.1, 0.1,  0.5,  0.05, 0.3, -0.5, 0.2, 0.2,
                                                             0.05, 0.05, 0.02, 0.1, 0.05, 0.0, 0.0, 0.0};
    memset(m, 0, sizeof(*m));
    snprintf(m->version, sizeof(m->version), "%s/prior", LDS_VALUATION_WEIGHTS_VERSION);
    snprintf(m->currency, sizeof(m->currency), "%s", LDS_VALUATION_CURRENCY);
    m->dim = 1 + LDS_VALUATION_BASE_FEATURES;
    m->beta[0] = log(30.0);
    m->scale[0] = 1.0;
    for (size_t j = 0; j < LDS_VALUATION_BASE_FEATURES; j++) {
        m->mean[1 + j] = mean[j];
        m->scale[1 + j] = 1.0;
        m->beta[1 + j] = beta[j];
    }
    m->band_low = log(0.45);
    m->band_high = log(2.2);
    m->coverage = 0.8;
    m->shrink_k = 1.0;
}

/* ---- fitting ---- */

/* Solves (A) x = b for symmetric positive definite A (n x n, overwritten by its Cholesky factor). */
static int cholesky_solve(double *a, double *b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > 1e-12))
            return -1;
        d = sqrt(d);
        a[j * n + j] = d;
        for (size_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (size_t k = 0; k < j; k++)
                s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / d;
        }
    }
    for (size_t i = 0; i < n; i++) { /* L y = b */
        double s = b[i];
        for (size_t k = 0; k < i; k++)
            s -= a[i * n + k] * b[k];
        b[i] = s / a[i * n + i];
    }
    for (size_t i = n; i-- > 0;) { /* L' x = y */
        double s = b[i];
        for (size_t k = i + 1; k < n; k++)
            s -= a[k * n + i] * b[k];
        b[i] = s / a[i * n + i];
    }
    return 0;
}

typedef struct fit_work {
    size_t n, d;
    double *x;           /* n x d standardised design */
    const double *y, *w; /* targets, weights */
    double *gram[FOLDS]; /* X'WX of each fold */
    double *xty[FOLDS];
    double *a, *b;       /* scratch d x d, d */
} fit_work;

typedef struct penalty {
    double lambda, rho_cat, rho_int, rho_word; /* base penalty and the groups' multiples of it */
} penalty;

static double penalty_of(const lds_valuation_model *m, size_t j, const penalty *p)
{
    if (j == 0)
        return 0.0;
    if (j <= LDS_VALUATION_BASE_FEATURES)
        return p->lambda;
    if (j >= words_start(m))
        return p->lambda * p->rho_word;
    size_t k = (j - 1 - LDS_VALUATION_BASE_FEATURES) % (1 + LDS_VALUATION_INTERACTIONS);
    return p->lambda * (k == 0 ? p->rho_cat : p->rho_int);
}

/* Ridge on all folds except skip (FOLDS: none) into beta. */
static int ridge(const lds_valuation_model *m, fit_work *fw, int skip, const penalty *p, double *beta)
{
    size_t d = fw->d;
    memset(fw->a, 0, d * d * sizeof(double));
    memset(fw->b, 0, d * sizeof(double));
    for (int f = 0; f < FOLDS; f++) {
        if (f == skip)
            continue;
        for (size_t i = 0; i < d * d; i++)
            fw->a[i] += fw->gram[f][i];
        for (size_t i = 0; i < d; i++)
            fw->b[i] += fw->xty[f][i];
    }
    for (size_t j = 0; j < d; j++)
        fw->a[j * d + j] += penalty_of(m, j, p) + (j == 0 ? 1e-9 : 0.0);
    if (cholesky_solve(fw->a, fw->b, d) != 0)
        return -1;
    memcpy(beta, fw->b, d * sizeof(double));
    return 0;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] + (pos - (double)i) * (sorted[i + 1] - sorted[i]);
}

/* Chooses the categories (most rows first, at least CATEGORY_MIN_ROWS, then sorted by name). */
static void choose_categories(const lds_valuation_row *rows, size_t count, lds_valuation_model *m)
{
    char (*names)[LDS_VALUATION_NAME_MAX] = calloc(count, sizeof(*names));
    size_t *counts = calloc(count, sizeof(size_t));
    size_t distinct = 0;
    for (size_t i = 0; names && counts && i < count; i++) {
        const char *c = rows[i].item.category;
        if (c[0] == 0)
            continue;
        size_t k = 0;
        while (k < distinct && strcmp(names[k], c) != 0)
            k++;
        if (k == distinct && distinct < 4096)
            snprintf(names[distinct++], LDS_VALUATION_NAME_MAX, "%s", c);
        if (k < distinct)
            counts[k]++;
    }
    m->category_count = 0;
    while (m->category_count < LDS_VALUATION_CATEGORY_MAX) {
        size_t best = distinct;
        for (size_t k = 0; k < distinct; k++)
            if (counts[k] >= CATEGORY_MIN_ROWS &&
                (best == distinct || counts[k] > counts[best] ||
                 (counts[k] == counts[best] && strcmp(names[k], names[best]) < 0)))
                best = k;
        if (best == distinct)
            break;
        snprintf(m->categories[m->category_count++], LDS_VALUATION_NAME_MAX, "%s", names[best]);
        counts[best] = 0;
    }
    qsort(m->categories, m->category_count, LDS_VALUATION_NAME_MAX, (int (*)(const void *, const void *))strcmp);
    free(names);
    free(counts);
}

/* Column means (ignoring unknowns) and scales of the training rows; fills fw->x. */
static lds_status standardise(const lds_valuation_row *rows, fit_work *fw, lds_valuation_model *m, lds_error *err)
{
    size_t n = fw->n, d = fw->d;
    double *raw = fw->x;
    for (int pass = 0; pass < 2; pass++) { /* base columns first: the category columns use them */
        for (size_t i = 0; i < n; i++)
            raw_row(m, &rows[i].item, raw + i * d);
        size_t first = pass == 0 ? 1 : 1 + LDS_VALUATION_BASE_FEATURES, end = pass == 0 ? first + LDS_VALUATION_BASE_FEATURES : d;
        for (size_t j = first; j < end; j++) {
            double s = 0, s2 = 0, wsum = 0;
            for (size_t i = 0; i < n; i++) {
                double v = raw[i * d + j];
                if (!isnan(v)) {
                    s += fw->w[i] * v;
                    wsum += fw->w[i];
                }
            }
            double mean = wsum > 0 ? s / wsum : 0.0;
            for (size_t i = 0; i < n; i++) {
                double v = raw[i * d + j];
                if (!isnan(v))
                    s2 += fw->w[i] * (v - mean) * (v - mean);
            }
            m->mean[j] = mean;
            m->scale[j] = wsum > 0 && s2 / wsum > 1e-12 ? sqrt(s2 / wsum) : 1.0;
        }
    }
    m->mean[0] = 0;
    m->scale[0] = 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 1; j < d; j++) {
            double *v = &raw[i * d + j];
            *v = isnan(*v) ? 0.0 : (*v - m->mean[j]) / m->scale[j];
        }
    (void)err;
    return LDS_OK;
}

static void accumulate_grams(fit_work *fw)
{
    size_t d = fw->d;
    for (size_t i = 0; i < fw->n; i++) {
        int f = (int)(i % FOLDS);
        const double *x = fw->x + i * d;
        double w = fw->w[i];
        for (size_t a = 0; a < d; a++) {
            double wx = w * x[a];
            if (wx == 0.0)
                continue;
            fw->xty[f][a] += wx * fw->y[i];
            for (size_t b = 0; b <= a; b++)
                fw->gram[f][a * d + b] += wx * x[b];
        }
    }
    for (int f = 0; f < FOLDS; f++)
        for (size_t a = 0; a < d; a++)
            for (size_t b = a + 1; b < d; b++)
                fw->gram[f][a * d + b] = fw->gram[f][b * d + a];
}

/* Out-of-fold residuals for one penalty setting; returns the weighted mean squared error. */
static double cross_validate(const lds_valuation_model *m, fit_work *fw, const penalty *p, double *residuals,
                             double *beta)
{
    double sse = 0, wsum = 0;
    for (int f = 0; f < FOLDS; f++) {
        if (ridge(m, fw, f, p, beta) != 0)
            return INFINITY;
        for (size_t i = (size_t)f; i < fw->n; i += FOLDS) {
            double r = fw->y[i] - dot(beta, fw->x + i * fw->d, fw->d);
            residuals[i] = r;
            sse += fw->w[i] * r * r;
            wsum += fw->w[i];
        }
    }
    return wsum > 0 ? sse / wsum : INFINITY;
}

/* The penalties with the least out-of-fold error over the grid; best_res gets their residuals. */
static double choose_penalty(lds_valuation_model *m, fit_work *fw, double *residuals, double *best_res,
                             penalty *chosen)
{
    static const double lambdas[] = {1, 3, 10, 30, 100, 300};
    static const double rho_cats[] = {0.3, 1, 3};
    static const double rho_ints[] = {3, 30};
    static const double rho_words[] = {3, 30, 1000}; /* 1000: the words say nothing here */
    double best = INFINITY;
    *chosen = (penalty){10, 1, 30, 30};
    for (size_t a = 0; a < sizeof(lambdas) / sizeof(lambdas[0]); a++)
        for (size_t b = 0; b < sizeof(rho_cats) / sizeof(rho_cats[0]); b++)
            for (size_t c = 0; c < sizeof(rho_ints) / sizeof(rho_ints[0]); c++)
                for (size_t k = 0; k < sizeof(rho_words) / sizeof(rho_words[0]); k++) {
                    penalty p = {lambdas[a], rho_cats[b], rho_ints[c], rho_words[k]};
                    double mse = cross_validate(m, fw, &p, residuals, m->beta);
                    if (mse < best) {
                        best = mse;
                        *chosen = p;
                        memcpy(best_res, residuals, fw->n * sizeof(double));
                    }
                }
    return best;
}

static void fit_work_free(fit_work *fw)
{
    free(fw->x);
    for (int f = 0; f < FOLDS; f++) {
        free(fw->gram[f]);
        free(fw->xty[f]);
    }
    free(fw->a);
    free(fw->b);
}

/* Band and statistics from the chosen penalty's out-of-fold residuals. */
static void band_from_residuals(lds_valuation_model *m, const double *residuals, size_t n)
{
    double *sorted = malloc(n * sizeof(double));
    if (sorted == NULL)
        return;
    memcpy(sorted, residuals, n * sizeof(double));
    qsort(sorted, n, sizeof(double), compare_double);
    m->band_low = quantile(sorted, n, BAND_LOW_Q);
    m->band_high = quantile(sorted, n, BAND_HIGH_Q);
    m->coverage = BAND_HIGH_Q - BAND_LOW_Q;
    size_t inside = 0;
    for (size_t i = 0; i < n; i++)
        inside += residuals[i] >= m->band_low && residuals[i] <= m->band_high;
    m->cv_coverage = (double)inside / (double)n;
    free(sorted);
}

lds_status lds_valuation_model_fit(const lds_valuation_row *rows, size_t count, const char *version,
                                   lds_valuation_model *m, lds_error *err)
{
    if (count < MIN_ROWS)
        return lds_error_set(err, LDS_EINVAL, "fit: %zu priced rows; at least %d are needed", count, MIN_ROWS);
    memset(m, 0, sizeof(*m));
    snprintf(m->version, sizeof(m->version), "%s", version);
    snprintf(m->currency, sizeof(m->currency), "%s", LDS_VALUATION_CURRENCY);
    choose_categories(rows, count, m);
    m->word_buckets = LDS_VALUATION_WORD_BUCKETS;
    fit_work fw = {.n = count, .d = words_start(m) + m->word_buckets};
    m->dim = fw.d;
    double *y = malloc(count * sizeof(double)), *w = malloc(count * sizeof(double));
    double *residuals = malloc(count * sizeof(double)), *best_res = malloc(count * sizeof(double));
    fw.x = malloc(count * fw.d * sizeof(double));
    fw.a = malloc(fw.d * fw.d * sizeof(double));
    fw.b = malloc(fw.d * sizeof(double));
    int ok = y && w && residuals && best_res && fw.x && fw.a && fw.b;
    for (int f = 0; f < FOLDS && ok; f++) {
        fw.gram[f] = calloc(fw.d * fw.d, sizeof(double));
        fw.xty[f] = calloc(fw.d, sizeof(double));
        ok = fw.gram[f] && fw.xty[f];
    }
    lds_status st = LDS_OK;
    if (!ok) {
        st = lds_error_set(err, LDS_ENOMEM, "fit: out of memory for %zu rows", count);
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        y[i] = rows[i].log_price;
        w[i] = rows[i].weight > 0 ? rows[i].weight : 1.0;
    }
    fw.y = y;
    fw.w = w;
    standardise(rows, &fw, m, err);
    accumulate_grams(&fw);
    penalty chosen;
    double best = choose_penalty(m, &fw, residuals, best_res, &chosen);
    if (!isfinite(best) || ridge(m, &fw, FOLDS, &chosen, m->beta) != 0) {
        st = lds_error_set(err, LDS_EINVAL, "fit: the regression is singular");
        goto out;
    }
    m->lambda = chosen.lambda;
    m->rows = count;
    m->cv_rmse = sqrt(best);
    band_from_residuals(m, best_res, count);
    double sse = 0, sst = 0, wsum = 0, ymean = 0;
    for (size_t i = 0; i < count; i++) {
        ymean += w[i] * y[i];
        wsum += w[i];
    }
    ymean /= wsum;
    for (size_t i = 0; i < count; i++) {
        double r = y[i] - dot(m->beta, fw.x + i * fw.d, fw.d);
        sse += w[i] * r * r;
        sst += w[i] * (y[i] - ymean) * (y[i] - ymean);
    }
    m->rmse = sqrt(sse / wsum);
    m->r2 = sst > 0 ? 1.0 - sse / sst : 0.0;
    /* empirical Bayes: own sales weigh n / (n + k), k = within-asset variance / between variance */
    m->shrink_k = fmin(20.0, fmax(1.0, WITHIN_VARIANCE / fmax(best, 1e-6)));
out:
    fit_work_free(&fw);
    free(y);
    free(w);
    free(residuals);
    free(best_res);
    return st;
}

/* ---- JSON ---- */

static json_t *array_of(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

json_t *lds_valuation_model_to_json(const lds_valuation_model *m)
{
    json_t *cats = json_array();
    for (size_t i = 0; i < m->category_count; i++)
        json_array_append_new(cats, json_string(m->categories[i]));
    return json_pack("{s:s,s:s,s:s,s:o,s:I,s:I,s:o,s:o,s:o,s:{s:f,s:f,s:f},s:f,s:f,s:{s:I,s:f,s:f,s:f,s:f}}", "model",
                     "lodestone-valuation", "version", m->version, "currency", m->currency, "categories", cats, "words", (json_int_t)m->word_buckets, "dim", (json_int_t)m->dim,
                     "beta", array_of(m->beta, m->dim), "mean", array_of(m->mean, m->dim), "scale",
                     array_of(m->scale, m->dim), "band", "low", m->band_low, "high", m->band_high, "coverage",
                     m->coverage, "shrink_k", m->shrink_k, "lambda", m->lambda, "fit", "rows", (json_int_t)m->rows,
                     "rmse", m->rmse, "cv_rmse", m->cv_rmse, "r2", m->r2, "cv_coverage", m->cv_coverage);
}

static int read_array(const json_t *a, double *out, size_t n)
{
    if (!json_is_array(a) || json_array_size(a) != n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return -1;
        out[i] = json_number_value(v);
    }
    return 0;
}

lds_status lds_valuation_model_from_json(const json_t *v, lds_valuation_model *m, lds_error *err)
{
    memset(m, 0, sizeof(*m));
    const char *version = json_string_value(json_object_get(v, "version"));
    json_t *cats = json_object_get(v, "categories");
    json_t *band = json_object_get(v, "band");
    if (version == NULL || !json_is_array(cats) || json_array_size(cats) > LDS_VALUATION_CATEGORY_MAX)
        return lds_error_set(err, LDS_EFORMAT, "valuation model: no version or bad categories");
    snprintf(m->version, sizeof(m->version), "%s", version);
    const char *currency = json_string_value(json_object_get(v, "currency"));
    if (currency && (strlen(currency) == 0 || strlen(currency) >= sizeof(m->currency)))
        return lds_error_set(err, LDS_EFORMAT, "valuation model: bad currency");
    snprintf(m->currency, sizeof(m->currency), "%s", currency ? currency : LDS_VALUATION_CURRENCY);
    m->category_count = json_array_size(cats);
    for (size_t i = 0; i < m->category_count; i++) {
        const char *c = json_string_value(json_array_get(cats, i));
        if (c == NULL || strlen(c) >= LDS_VALUATION_NAME_MAX || (i > 0 && strcmp(m->categories[i - 1], c) >= 0))
            return lds_error_set(err, LDS_EFORMAT, "valuation model: category %zu malformed or out of order", i);
        snprintf(m->categories[i], LDS_VALUATION_NAME_MAX, "%s", c);
    }
    json_t *words = json_object_get(v, "words");
    m->word_buckets = json_is_integer(words) ? (size_t)json_integer_value(words) : 0;
    if (m->word_buckets != 0 && m->word_buckets != LDS_VALUATION_WORD_BUCKETS)
        return lds_error_set(err, LDS_EFORMAT, "valuation model %s: %zu word buckets, expected %d", version,
                             m->word_buckets, LDS_VALUATION_WORD_BUCKETS);
    m->dim = words_start(m) + m->word_buckets;
    if (read_array(json_object_get(v, "beta"), m->beta, m->dim) || read_array(json_object_get(v, "mean"), m->mean, m->dim) ||
        read_array(json_object_get(v, "scale"), m->scale, m->dim))
        return lds_error_set(err, LDS_EFORMAT, "valuation model %s: beta, mean or scale malformed (%zu values)",
                             version, m->dim);
    for (size_t j = 0; j < m->dim; j++)
        if (!(m->scale[j] > 0))
            return lds_error_set(err, LDS_EFORMAT, "valuation model %s: scale %zu not positive", version, j);
    m->band_low = json_number_value(json_object_get(band, "low"));
    m->band_high = json_number_value(json_object_get(band, "high"));
    m->coverage = json_number_value(json_object_get(band, "coverage"));
    m->shrink_k = json_number_value(json_object_get(v, "shrink_k"));
    m->lambda = json_number_value(json_object_get(v, "lambda"));
    if (!(m->band_low <= 0 && m->band_high >= 0 && m->coverage > 0 && m->coverage < 1 && m->shrink_k > 0))
        return lds_error_set(err, LDS_EFORMAT, "valuation model %s: band or shrinkage malformed", version);
    json_t *fit = json_object_get(v, "fit");
    m->rows = (size_t)json_integer_value(json_object_get(fit, "rows"));
    m->rmse = json_number_value(json_object_get(fit, "rmse"));
    m->cv_rmse = json_number_value(json_object_get(fit, "cv_rmse"));
    m->r2 = json_number_value(json_object_get(fit, "r2"));
    m->cv_coverage = json_number_value(json_object_get(fit, "cv_coverage"));
    return LDS_OK;
}
