/* cmd_valuation.c: `lodestone valuation fit` (refit the price model from recorded purchases and a
 * listings history) and `lodestone value` (value a listing or a processed model offline). The
 * offline model is $LODESTONE_HOME/valuation-model.json, written by fit; without it the built-in
 * prior is used. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ingest.h"
#include "valuation.h"

#define HISTORY_LINE_MAX (1u << 20)
#define REPORT_LINES_MAX 50 /* bad lines printed one by one; the rest are counted */

static void fit_usage(FILE *out)
{
    fprintf(out,
            "usage: lodestone valuation fit [--history FILE.jsonl] [--as-of DATE] [--offline]\n\n"
            "Refits the hedonic log-price model (ridge regression with category priors, penalty by 5-fold\n"
            "cross-validation, price band from out-of-fold residuals) from the purchases recorded by the\n"
            "service and from a listings export, one JSON object per line:\n"
            "  {\"id\", \"category\", \"title\", \"tags\": [..], \"license\", \"triangles\", \"vertices\", \"has_uvs\",\n"
            "   \"textures\", \"pbr\", \"rigged\", \"animated\", \"formats\": [..], \"published\": \"YYYY-MM-DD\",\n"
            "   \"views\", \"favorites\", \"downloads\", \"price\", \"currency\"}\n"
            "Unknown fields are ignored; missing ones are unknown (never 0). A malformed line is reported on\n"
            "stderr with its number and skipped; lines without a price > 0 are counted and skipped.\n"
            "The model becomes the next version: $LODESTONE_HOME/valuation-model.json (and\n"
            "valuation-models/fit-N.json), and in Redis when LODESTONE_REDIS_URL is set (unless --offline),\n"
            "where the service picks it up (every published asset is re-scored with it at once).\n"
            "Prints the fit statistics as JSON.\n"
            "  --as-of DATE   reference time for listing ages (default now)\n");
}

static void value_usage(FILE *out)
{
    fprintf(out,
            "usage: lodestone value --listing FILE.json [--model FILE] [--as-of DATE]\n"
            "       lodestone value DIR/manifest.json [--metadata FILE] [--model FILE]\n\n"
            "Values offline, printing {\"score\", \"price\": {\"currency\", \"low\", \"mid\", \"high\"}, \"confidence\",\n"
            "\"factors\": [...], \"model\", \"as_of\"}. A listing file holds one record of the shape\n"
            "`valuation fit --history` reads (or several, one per line: one answer per line, with its \"id\");\n"
            "its own price is what is predicted, so it is not used. A manifest is a processed model's\n"
            "(`lodestone process`); --metadata adds title, description, tags, license, category, accession.\n"
            "The model: --model, else $LODESTONE_HOME/valuation-model.json, else the built-in prior.\n");
}

static int parse_as_of(const char *text, int64_t *ms)
{
    if (text == NULL) {
        *ms = lds_wall_ms();
        return 0;
    }
    return lds_valuation_parse_time(text, ms) == LDS_OK ? 0 : -1;
}

typedef struct history {
    lds_valuation_row *rows;
    size_t count, capacity;
    size_t lines, bad, unpriced;
    char currency[8]; /* of the first priced line that names one; lines without one are in it */
} history;

static int history_add(history *h, const lds_valuation_item *item, double price)
{
    if (h->count == h->capacity) {
        size_t cap = h->capacity ? 2 * h->capacity : 1024;
        lds_valuation_row *rows = realloc(h->rows, cap * sizeof(*rows));
        if (rows == NULL)
            return -1;
        h->rows = rows;
        h->capacity = cap;
    }
    h->rows[h->count++] = (lds_valuation_row){*item, log(price), 1.0};
    return 0;
}

static int read_history(const char *path, int64_t now_ms, history *h)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return lds_cli_fail(path, "cannot open: %s", strerror(errno));
    char *line = malloc(HISTORY_LINE_MAX);
    if (line == NULL) {
        fclose(f);
        return lds_cli_fail(path, "out of memory");
    }
    while (fgets(line, HISTORY_LINE_MAX, f)) {
        h->lines++;
        size_t len = strlen(line);
        if (len == HISTORY_LINE_MAX - 1 && line[len - 1] != '\n') {
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            if (h->bad++ < REPORT_LINES_MAX)
                fprintf(stderr, "lodestone: %s: line %zu: longer than 1 MiB; skipped\n", path, h->lines);
            continue;
        }
        if (strspn(line, " \t\r\n") == len)
            continue;
        json_error_t jerr;
        json_t *j = json_loads(line, 0, &jerr);
        char name[64];
        snprintf(name, sizeof(name), "line %zu", h->lines);
        lds_error err;
        lds_error_clear(&err);
        lds_valuation_item item;
        double price = NAN;
        char currency[8] = "";
        if (j == NULL)
            lds_error_set(&err, LDS_EFORMAT, "line %zu: not JSON (%s)", h->lines, jerr.text);
        else
            lds_valuation_item_from_listing(&item, j, now_ms, name, &price, currency, &err);
        json_decref(j);
        if (err.code == LDS_OK && price > 0 && currency[0]) {
            if (h->currency[0] == 0)
                snprintf(h->currency, sizeof(h->currency), "%s", currency);
            else if (strcmp(currency, h->currency) != 0)
                lds_error_set(&err, LDS_EFORMAT, "line %zu: field currency: %s, but the history is in %s (prices are "
                              "not converted)", h->lines, currency, h->currency);
        }
        if (err.code != LDS_OK) {
            if (h->bad++ < REPORT_LINES_MAX)
                fprintf(stderr, "lodestone: %s: %s; skipped\n", path, err.message);
            continue;
        }
        if (!(price > 0)) {
            h->unpriced++;
            continue;
        }
        if (history_add(h, &item, price) != 0) {
            free(line);
            fclose(f);
            return lds_cli_fail(path, "out of memory");
        }
    }
    free(line);
    fclose(f);
    if (h->bad > REPORT_LINES_MAX)
        fprintf(stderr, "lodestone: %s: %zu more malformed lines skipped\n", path, h->bad - REPORT_LINES_MAX);
    return 0;
}

/* The next offline version number: one more than the highest valuation-models/fit-N.json. */
static long next_offline_version(const char *dir)
{
    long version = 1;
    char path[4200];
    for (;; version++) {
        snprintf(path, sizeof(path), "%s/fit-%ld.json", dir, version);
        if (access(path, F_OK) != 0)
            return version;
    }
}

static int store_model(lds_valuation_model *model, lds_redis *redis, lds_error *err)
{
    const char *home = lds_home_dir();
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/valuation-models", home);
    if (lds_dir_create(dir, 0755, err) != LDS_OK)
        return lds_cli_fail_error(err);
    long version = next_offline_version(dir);
    if (redis && lds_valuation_store_model_save(redis, model, &version, err) != LDS_OK)
        return lds_cli_fail_error(err);
    if (!redis)
        snprintf(model->version, sizeof(model->version), "%s/fit-%ld", LDS_VALUATION_WEIGHTS_VERSION, version);
    json_t *j = lds_valuation_model_to_json(model);
    char *text = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (text == NULL)
        return lds_cli_fail("valuation fit", "out of memory");
    snprintf(path, sizeof(path), "%s/fit-%ld.json", dir, version);
    lds_status st = lds_file_write_atomic(path, text, strlen(text), err);
    snprintf(path, sizeof(path), "%s/valuation-model.json", home);
    if (st == LDS_OK)
        st = lds_file_write_atomic(path, text, strlen(text), err);
    free(text);
    return st == LDS_OK ? 0 : lds_cli_fail_error(err);
}

static void print_fit(const lds_valuation_model *m, const history *h, size_t recorded)
{
    json_t *cats = json_array();
    for (size_t i = 0; i < m->category_count; i++)
        json_array_append_new(cats, json_string(m->categories[i]));
    json_t *out = json_pack("{s:s,s:s,s:I,s:I,s:{s:I,s:I,s:I},s:o,s:f,s:f,s:f,s:f,s:{s:f,s:f,s:f,s:f},s:f}",
                            "version", m->version, "currency", m->currency, "rows", (json_int_t)m->rows, "recorded_purchase_rows", (json_int_t)recorded,
                            "history", "lines", (json_int_t)h->lines, "malformed", (json_int_t)h->bad, "unpriced",
                            (json_int_t)h->unpriced, "categories", cats, "lambda", m->lambda, "rmse", m->rmse,
                            "cv_rmse", m->cv_rmse, "r2", m->r2, "band", "low_ratio", exp(m->band_low), "high_ratio",
                            exp(m->band_high), "coverage", m->coverage, "cv_coverage", m->cv_coverage, "shrink_k",
                            m->shrink_k);
    char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(out);
}

static int cmd_fit(int argc, char **argv)
{
    const char *history_path = NULL, *as_of = NULL;
    int offline = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fit_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc) {
            history_path = argv[++i];
        } else if (strcmp(argv[i], "--as-of") == 0 && i + 1 < argc) {
            as_of = argv[++i];
        } else if (strcmp(argv[i], "--offline") == 0) {
            offline = 1;
        } else {
            return lds_cli_usage_error("valuation fit", "unexpected argument %s", argv[i]);
        }
    }
    int64_t now_ms;
    if (parse_as_of(as_of, &now_ms) != 0)
        return lds_cli_usage_error("valuation fit", "--as-of '%s': expected YYYY-MM-DD or RFC 3339", as_of);
    history h = {0};
    lds_error err;
    lds_error_clear(&err);
    int rc = history_path ? read_history(history_path, now_ms, &h) : 0;
    if (h.currency[0] == 0)
        snprintf(h.currency, sizeof(h.currency), "%s", LDS_VALUATION_CURRENCY);
    lds_redis *redis = NULL;
    size_t recorded = 0;
    int service = !offline && getenv("LODESTONE_REDIS_URL") && *getenv("LODESTONE_REDIS_URL");
    if (rc == 0 && service && strcmp(h.currency, LDS_VALUATION_CURRENCY) != 0)
        rc = lds_cli_fail("valuation fit", "the history is in %s but the service prices in USD (use --offline)",
                          h.currency);
    if (rc == 0 && service) {
        lds_valuation_row *rows = NULL;
        if (lds_redis_connect(NULL, &redis, &err) != LDS_OK || lds_valuation_store_rows(redis, &rows, &recorded, &err) != LDS_OK)
            rc = lds_cli_fail_error(&err);
        for (size_t i = 0; rc == 0 && i < recorded; i++)
            if (history_add(&h, &rows[i].item, exp(rows[i].log_price)) == 0)
                h.rows[h.count - 1].weight = rows[i].weight;
        free(rows);
    }
    lds_valuation_model model;
    if (rc == 0 && lds_valuation_model_fit(h.rows, h.count, "pending", &model, &err) != LDS_OK)
        rc = lds_cli_fail_error(&err);
    if (rc == 0)
        snprintf(model.currency, sizeof(model.currency), "%s", h.currency);
    if (rc == 0)
        rc = store_model(&model, redis, &err);
    size_t rescored = 0; /* the service's assets carry the new version's valuation at once */
    if (rc == 0 && redis && lds_valuation_rescore_all(redis, &model, &rescored, &err) != LDS_OK)
        rc = lds_cli_fail_error(&err);
    if (rc == 0)
        print_fit(&model, &h, recorded);
    if (rc == 0 && redis)
        fprintf(stderr, "lodestone: valuation fit: %zu assets re-scored with %s\n", rescored, model.version);
    lds_redis_close(redis);
    free(h.rows);
    return rc;
}

int lds_cmd_valuation(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: lodestone valuation fit [--history FILE.jsonl]\n\n");
        fit_usage(out);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "fit") == 0)
        return cmd_fit(argc - 1, argv + 1);
    return lds_cli_usage_error("valuation", "unknown subcommand '%s' (expected fit)", argv[1]);
}

/* ---- value ---- */

static int load_model(const char *path, lds_valuation_model *model)
{
    lds_error err;
    lds_error_clear(&err);
    if (path == NULL)
        return lds_valuation_store_model_load(NULL, NULL, model, &err) == LDS_OK ? 0 : lds_cli_fail_error(&err);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (j == NULL)
        return lds_cli_fail(path, "line %d: %s", jerr.line, jerr.text);
    lds_status st = lds_valuation_model_from_json(j, model, &err);
    json_decref(j);
    return st == LDS_OK ? 0 : lds_cli_fail(path, "%s", err.message);
}

static void print_result(const lds_valuation_result *r, int64_t now_ms, const char *id)
{
    json_t *j = lds_valuation_result_to_json(r, now_ms);
    if (id)
        json_object_set_new(j, "id", json_string(id));
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(j);
}

static int value_listings(const char *path, const lds_valuation_model *model, int64_t now_ms)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return lds_cli_fail(path, "cannot open: %s", strerror(errno));
    json_error_t jerr;
    /* one record (possibly spread over lines), or one per line */
    json_t *whole = json_loadf(f, 0, &jerr);
    int rc = 0;
    if (whole) {
        lds_valuation_item item;
        lds_error err;
        lds_error_clear(&err);
        if (lds_valuation_item_from_listing(&item, whole, now_ms, path, NULL, NULL, &err) != LDS_OK)
            rc = lds_cli_fail_error(&err);
        lds_valuation_context ctx = {NULL, NULL, NULL, now_ms, 0};
        lds_valuation_result r;
        if (rc == 0) {
            lds_valuation_compute(model, &item, &ctx, &r);
            print_result(&r, now_ms, json_string_value(json_object_get(whole, "id")));
        }
        json_decref(whole);
        fclose(f);
        return rc;
    }
    rewind(f);
    char *line = malloc(HISTORY_LINE_MAX);
    size_t n = 0, bad = 0;
    while (line && fgets(line, HISTORY_LINE_MAX, f)) {
        n++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        json_t *j = json_loads(line, 0, &jerr);
        char name[64];
        snprintf(name, sizeof(name), "%s: line %zu", path, n);
        lds_valuation_item item;
        lds_error err;
        lds_error_clear(&err);
        if (j == NULL)
            lds_error_set(&err, LDS_EFORMAT, "%s: not JSON (%s)", name, jerr.text);
        else
            lds_valuation_item_from_listing(&item, j, now_ms, name, NULL, NULL, &err);
        if (err.code != LDS_OK) {
            fprintf(stderr, "lodestone: %s\n", err.message);
            bad++;
        } else {
            lds_valuation_context ctx = {NULL, NULL, NULL, now_ms, 0};
            lds_valuation_result r;
            lds_valuation_compute(model, &item, &ctx, &r);
            print_result(&r, now_ms, json_string_value(json_object_get(j, "id")));
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    return bad ? 1 : 0;
}

static int value_manifest(const char *path, const char *metadata_path, const lds_valuation_model *model, int64_t now_ms)
{
    json_error_t jerr;
    json_t *manifest = json_load_file(path, 0, &jerr);
    if (!json_is_object(manifest)) {
        json_decref(manifest);
        return lds_cli_fail(path, "not a manifest (line %d: %s)", jerr.line, jerr.text);
    }
    json_t *metadata = metadata_path ? json_load_file(metadata_path, 0, &jerr) : NULL;
    if (metadata_path && !json_is_object(metadata)) {
        json_decref(manifest);
        json_decref(metadata);
        return lds_cli_fail(metadata_path, "expected a JSON object (line %d: %s)", jerr.line, jerr.text);
    }
    lds_valuation_item item;
    lds_valuation_item_from_manifest(&item, manifest, metadata);
    lds_valuation_context ctx = {NULL, NULL, NULL, now_ms, 0};
    lds_valuation_result r;
    lds_valuation_compute(model, &item, &ctx, &r);
    print_result(&r, now_ms, NULL);
    json_decref(manifest);
    json_decref(metadata);
    return 0;
}

int lds_cmd_value(int argc, char **argv)
{
    const char *listing = NULL, *manifest = NULL, *metadata = NULL, *model_path = NULL, *as_of = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            value_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--listing") == 0 && i + 1 < argc) {
            listing = argv[++i];
        } else if (strcmp(argv[i], "--metadata") == 0 && i + 1 < argc) {
            metadata = argv[++i];
        } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            model_path = argv[++i];
        } else if (strcmp(argv[i], "--as-of") == 0 && i + 1 < argc) {
            as_of = argv[++i];
        } else if (argv[i][0] == '-' || manifest) {
            return lds_cli_usage_error("value", "unexpected argument %s", argv[i]);
        } else {
            manifest = argv[i];
        }
    }
    if ((listing == NULL) == (manifest == NULL))
        return lds_cli_usage_error("value", "give either --listing FILE or DIR/manifest.json");
    if (listing && metadata)
        return lds_cli_usage_error("value", "--metadata goes with a manifest, not --listing");
    int64_t now_ms;
    if (parse_as_of(as_of, &now_ms) != 0)
        return lds_cli_usage_error("value", "--as-of '%s': expected YYYY-MM-DD or RFC 3339", as_of);
    lds_valuation_model model;
    if (load_model(model_path, &model) != 0)
        return 1;
    return listing ? value_listings(listing, &model, now_ms) : value_manifest(manifest, metadata, &model, now_ms);
}
