/* test_valuation_api.c: valuation through the real API: a private redis-server, `lodestone serve`
 * (one worker, whose aggregator thread applies the events), HTTP through curl.
 *  - every published asset has a first valuation whose contributions add up to the score;
 *  - 40 fresh purchases at $80 (a studio's, with ids) lift the score and the mid price above an
 *    asset with 40 views only, and the mid lands near $80;
 *  - the same 40 purchases dated three years ago (sent by ops) lift the score and the price less;
 *  - two reads without new events are the same bytes;
 *  - a batch with a bad event is refused with its index and field, and nothing of it is kept (its
 *    event ids are still fresh afterwards); ids dedup; studios may not send favourites; unknown
 *    assets, modeler keys and missing keys are refused. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env env;

/* POSTs body (JSON text) to /v1/events; returns the status, *out the parsed answer (may be NULL). */
static int post_events(const char *key, const char *body, json_t **out)
{
    char path[1300];
    snprintf(path, sizeof(path), "%s/events.json", env.dir);
    FILE *f = fopen(path, "w");
    fputs(body, f);
    fclose(f);
    api_resp r;
    int status = api_curl(&env, &r, key, "-X POST -H 'Content-Type: application/json' --data-binary '@%s' '%s/v1/events'",
                          path, env.base);
    if (out)
        *out = api_json(&r);
    api_resp_free(&r);
    return status;
}

/* GET the valuation: the raw body into text (caller frees), parsed into the result. */
static json_t *valuation(const char *key, const char *asset, char **text)
{
    api_resp r;
    int status = api_curl(&env, &r, key, "'%s/v1/assets/%s/valuation'", env.base, asset);
    LDS_CHECK_INT(status, ==, 200);
    json_t *j = api_json(&r);
    if (text)
        *text = strdup(r.body ? r.body : "");
    api_resp_free(&r);
    return j;
}

static double factor(json_t *v, const char *name, const char *key)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(v, "factors"), i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return json_number_value(json_object_get(f, key));
    }
    return NAN;
}

static double score(json_t *v)
{
    return json_number_value(json_object_get(v, "score"));
}

static double mid(json_t *v)
{
    return json_number_value(json_object_get(json_object_get(v, "price"), "mid"));
}

static void check_adds_up(json_t *v)
{
    double sum = 0;
    size_t i, n = 0;
    json_t *f;
    json_array_foreach(json_object_get(v, "factors"), i, f)
    {
        sum += json_number_value(json_object_get(f, "contribution"));
        n++;
    }
    LDS_CHECK_INT(n, ==, 7);
    if (fabs(sum - score(v)) > 1e-6)
        fprintf(stderr, "contributions %.4f vs score %.4f\n", sum, score(v));
    LDS_CHECK(fabs(sum - score(v)) < 1e-6);
}

/* Polls until the asset's factor value satisfies value > above (60 s at most). */
static json_t *wait_factor(const char *key, const char *asset, const char *name, double above)
{
    json_t *v = NULL;
    for (int i = 0; i < 400; i++) {
        json_decref(v);
        v = valuation(key, asset, NULL);
        if (factor(v, name, "value") > above)
            return v;
        api_sleep_ms(150);
    }
    fprintf(stderr, "asset %s: factor %s stayed at %.4f\n", asset, name, factor(v, name, "value"));
    LDS_CHECK(0);
    return v;
}

static void upload_ready(const char *key, unsigned seed, char asset[LDS_ID_MAX])
{
    char path[1300];
    snprintf(path, sizeof(path), "%s/ball%u.ply", env.dir, seed);
    LDS_CHECK_INT(api_write_sphere(path, seed, 16), ==, 0);
    api_resp r;
    int status = api_curl(&env, &r, key,
                          "--data-binary '@%s' -H 'Content-Type: application/octet-stream' "
                          "'%s/v1/assets?filename=ball.ply&title=Ball&license=CC-BY-4.0&category=prop&tags=ball;toy'",
                          path, env.base);
    LDS_CHECK_INT(status, ==, 202);
    json_t *j = api_json(&r);
    snprintf(asset, LDS_ID_MAX, "%s", json_string_value(json_object_get(json_object_get(j, "asset"), "id")));
    json_decref(j);
    api_resp_free(&r);
    json_t *record = api_wait_asset(&env, key, asset, 120, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    LDS_CHECK(json_is_object(json_object_get(record, "valuation"))); /* the record carries it */
    json_decref(record);
}

/* count events of one type (purchases at $80), at a given time (NULL: now), without ids. */
static void events_of(char *out, size_t size, const char *asset, const char *type, int count, const char *at)
{
    size_t used = (size_t)snprintf(out, size, "[");
    for (int i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(out + used, size - used,
                                 "%s{\"asset\": \"%s\", \"type\": \"%s\"%s%s%s%s}", i ? "," : "", asset, type,
                                 strcmp(type, "purchase") == 0 ? ", \"price\": 80, \"currency\": \"USD\"" : "",
                                 at ? ", \"at\": \"" : "", at ? at : "", at ? "\"" : "");
    snprintf(out + strlen(out), size - strlen(out), "]");
}

/* Purchases with distinct ids "<prefix><i>" (a studio's order numbers). */
static void purchases_with_ids(char *out, size_t size, const char *asset, int count, const char *prefix)
{
    size_t used = (size_t)snprintf(out, size, "[");
    for (int i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(out + used, size - used,
                                 "%s{\"asset\": \"%s\", \"type\": \"purchase\", \"price\": 80, \"currency\": \"USD\", "
                                 "\"id\": \"%s%d\"}",
                                 i ? "," : "", asset, prefix, i);
    snprintf(out + used, size - used, "]");
}

static void test_refusals(const char *studio, const char *ops, const char *modeler, const char *asset)
{
    char body[4096];
    json_t *j = NULL;
    /* the third event is bad: 400 naming index 2 and field price; nothing kept */
    snprintf(body, sizeof(body),
             "[{\"asset\": \"%s\", \"type\": \"view\", \"id\": \"batch-0\"}, {\"asset\": \"%s\", \"type\": \"download\", "
             "\"id\": \"batch-1\"}, {\"asset\": \"%s\", \"type\": \"purchase\", \"currency\": \"USD\"}]",
             asset, asset, asset);
    LDS_CHECK_INT(post_events(studio, body, &j), ==, 400);
    json_t *e = json_object_get(j, "error");
    LDS_CHECK_INT(json_integer_value(json_object_get(e, "index")), ==, 2);
    LDS_CHECK_STR(json_string_value(json_object_get(e, "field")), "price");
    fprintf(stderr, "refused: %s\n", json_string_value(json_object_get(e, "message")));
    json_decref(j);
    /* the two good ones, alone: accepted, so the refused request kept nothing of them */
    snprintf(body, sizeof(body),
             "[{\"asset\": \"%s\", \"type\": \"view\", \"id\": \"batch-0\"}, {\"asset\": \"%s\", \"type\": \"download\", "
             "\"id\": \"batch-1\"}]", asset, asset);
    LDS_CHECK_INT(post_events(studio, body, &j), ==, 202);
    LDS_CHECK_INT(json_integer_value(json_object_get(j, "accepted")), ==, 2);
    json_decref(j);
    LDS_CHECK_INT(post_events(studio, body, &j), ==, 202); /* again: duplicates */
    LDS_CHECK_INT(json_integer_value(json_object_get(j, "accepted")), ==, 0);
    LDS_CHECK_INT(json_integer_value(json_object_get(j, "duplicates")), ==, 2);
    json_decref(j);
    snprintf(body, sizeof(body), "[{\"asset\": \"%s\", \"type\": \"favorite\"}]", asset);
    LDS_CHECK_INT(post_events(studio, body, &j), ==, 403);
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(j, "error"), "field")), "type");
    json_decref(j);
    LDS_CHECK_INT(post_events(ops, body, NULL), ==, 202); /* ops send anything */
    LDS_CHECK_INT(post_events(studio, "[{\"asset\": \"a_nosuch\", \"type\": \"view\"}]", &j), ==, 400);
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(j, "error"), "field")), "asset");
    json_decref(j);
    LDS_CHECK_INT(post_events(modeler, body, NULL), ==, 403);
    LDS_CHECK_INT(post_events(NULL, body, NULL), ==, 401);
    LDS_CHECK_INT(post_events(ops, "{\"asset\": 1}", NULL), ==, 400);
}

/* `lodestone valuation fit` against the service's Redis: recorded purchases plus a history file;
 * the new version is stored in Redis and every asset is re-scored with it. */
static void test_refit(const char *studio, const char *asset)
{
    char history[1300];
    snprintf(history, sizeof(history), "%s/history.jsonl", env.dir);
    FILE *f = fopen(history, "w");
    for (int i = 0; i < 40; i++)
        fprintf(f, "{\"id\": \"h%d\", \"category\": \"%s\", \"triangles\": %d, \"pbr\": %s, \"price\": %.2f}\n", i,
                i % 2 ? "prop" : "vehicle", 1000 + 500 * i, i % 3 ? "true" : "false", 5.0 + i * (i % 2 ? 0.5 : 2.0));
    fprintf(f, "not json\n");
    fclose(f);
    char *out = NULL;
    int rc = lds_test_run(&out, "LODESTONE_REDIS_URL='%s' '%s' valuation fit --history '%s' 2>&1", env.url,
                          lds_test_bin(), history);
    fprintf(stderr, "fit: %s", out ? out : "");
    LDS_CHECK_INT(rc, ==, 0);
    LDS_CHECK(out && strstr(out, "line 41: not JSON") != NULL);
    LDS_CHECK(out && strstr(out, "\"recorded_purchase_rows\":2") != NULL); /* A's and C's purchases */
    LDS_CHECK(out && strstr(out, "\"version\":\"lds-value-1/fit-1\"") != NULL);
    LDS_CHECK(out && strstr(out, "3 assets re-scored") != NULL);
    free(out);
    json_t *v = valuation(studio, asset, NULL); /* re-scored by the fit itself */
    LDS_CHECK_STR(json_string_value(json_object_get(v, "model")), "lds-value-1/fit-1");
    check_adds_up(v);
    json_decref(v);
}

int main(void)
{
    api_env_init(&env, "valuation_api");
    env.serve_env[0] = "LODESTONE_WORKER_GRACE_MS=2000";
    env.workers = 1;
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "the service did not start\n");
        return 1;
    }
    char modeler[128], studio[128], ops[128];
    LDS_CHECK_INT(api_key_create("modeler", "alice", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("studio", "acme-games", studio, sizeof(studio)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "ops", ops, sizeof(ops)), ==, 0);
    char a[LDS_ID_MAX], b[LDS_ID_MAX], c[LDS_ID_MAX];
    upload_ready(modeler, 1, a);
    upload_ready(modeler, 2, b);
    upload_ready(modeler, 3, c);
    json_t *a0 = valuation(studio, a, NULL), *c0 = valuation(studio, c, NULL);
    check_adds_up(a0);
    check_adds_up(c0);

    static char body[65536];
    events_of(body, sizeof(body), b, "view", 40, NULL);
    LDS_CHECK_INT(post_events(studio, body, NULL), ==, 202);
    purchases_with_ids(body, sizeof(body), a, 40, "order-");
    json_t *j = NULL;
    LDS_CHECK_INT(post_events(studio, body, &j), ==, 202);
    LDS_CHECK_INT(json_integer_value(json_object_get(j, "accepted")), ==, 40);
    json_decref(j);
    char old[40];
    time_t three_years_ago = time(NULL) - 3 * 365 * 86400;
    strftime(old, sizeof(old), "%Y-%m-%dT%H:%M:%SZ", gmtime(&three_years_ago));
    events_of(body, sizeof(body), c, "purchase", 40, old);
    LDS_CHECK_INT(post_events(ops, body, NULL), ==, 202);

    json_t *va = wait_factor(studio, a, "sales", 0.5);
    json_t *vb = wait_factor(studio, b, "engagement", factor(a0, "engagement", "value") + 0.01);
    json_t *vc = wait_factor(studio, c, "sales", 0.0);
    fprintf(stderr, "A (40 fresh purchases at $80): score %.2f -> %.2f, mid %.2f -> %.2f\n", score(a0), score(va),
            mid(a0), mid(va));
    fprintf(stderr, "B (40 views): score %.2f, mid %.2f\n", score(vb), mid(vb));
    fprintf(stderr, "C (40 purchases three years ago): score %.2f -> %.2f, mid %.2f -> %.2f\n", score(c0), score(vc),
            mid(c0), mid(vc));
    check_adds_up(va);
    check_adds_up(vb);
    check_adds_up(vc);
    LDS_CHECK(score(va) > score(vb));
    LDS_CHECK(mid(va) > mid(vb));
    LDS_CHECK(fabs(mid(va) / 80.0 - 1.0) < 0.15);
    LDS_CHECK(score(vc) - score(c0) < score(va) - score(a0));
    LDS_CHECK(fabs(log(mid(vc) / mid(c0))) < fabs(log(mid(va) / mid(a0))));

    /* the catalogue's sort=value follows the re-score: A (40 fresh purchases) comes first */
    api_resp cr;
    LDS_CHECK_INT(api_curl(&env, &cr, studio, "'%s/v1/assets?sort=value&limit=3'", env.base), ==, 200);
    json_t *listing = api_json(&cr);
    json_t *first = json_array_get(json_object_get(listing, "items"), 0);
    LDS_CHECK_STR(json_string_value(json_object_get(first, "id")), a);
    json_decref(listing);
    api_resp_free(&cr);

    /* two reads without new events: the same bytes */
    char *t1 = NULL, *t2 = NULL;
    json_decref(valuation(ops, a, &t1));
    json_decref(valuation(ops, a, &t2));
    LDS_CHECK_STR(t1, t2);
    free(t1);
    free(t2);

    test_refusals(studio, ops, modeler, b);
    test_refit(studio, a);
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, studio, "'%s/v1/assets/a_nosuch/valuation'", env.base), ==, 404);
    api_resp_free(&r);
    json_decref(a0);
    json_decref(c0);
    json_decref(va);
    json_decref(vb);
    json_decref(vc);
    api_env_stop(&env);
    return lds_test_result();
}
