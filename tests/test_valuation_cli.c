/* test_valuation_cli.c: `lodestone process` + `lodestone value` on a clean sphere and on the same
 * sphere with holes and flipped duplicate faces (the broken one scores lower on quality; the
 * contributions add up; two runs print the same bytes), and `lodestone valuation fit --history` on
 * a generated listings file with missing and malformed fields (fitted; bad lines reported by
 * number; missing fields not fatal; a second fit of the same file gives the same model), then
 * `value --listing` with the fitted model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"

/* A UV sphere as ASCII PLY; broken: every 7th face left out (holes) and every 5th face repeated
 * with its winding flipped. */
static int write_sphere(const char *path, int broken)
{
    const int rings = 24, sectors = 48;
    int faces = 0, total = 0;
    for (int r = 0; r < rings; r++)
        for (int s = 0; s < sectors; s++)
            for (int t = 0; t < 2; t++, total++)
                faces += broken ? (total % 7 != 0) + (total % 5 == 0) : 1;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int vertices = (rings + 1) * (sectors + 1);
    fprintf(f, "ply\nformat ascii 1.0\nelement vertex %d\nproperty float x\nproperty float y\nproperty float z\n"
               "element face %d\nproperty list uchar int vertex_indices\nend_header\n", vertices, faces);
    for (int r = 0; r <= rings; r++)
        for (int s = 0; s <= sectors; s++) {
            double th = M_PI * r / rings, ph = 2 * M_PI * s / sectors;
            fprintf(f, "%.6f %.6f %.6f\n", sin(th) * cos(ph), cos(th), sin(th) * sin(ph));
        }
    total = 0;
    for (int r = 0; r < rings; r++)
        for (int s = 0; s < sectors; s++) {
            int a = r * (sectors + 1) + s, b = a + sectors + 1;
            int tri[2][3] = {{a, b, a + 1}, {a + 1, b, b + 1}};
            for (int t = 0; t < 2; t++, total++) {
                if (!broken || total % 7 != 0)
                    fprintf(f, "3 %d %d %d\n", tri[t][0], tri[t][1], tri[t][2]);
                if (broken && total % 5 == 0)
                    fprintf(f, "3 %d %d %d\n", tri[t][0], tri[t][2], tri[t][1]);
            }
        }
    fclose(f);
    return 0;
}

static json_t *value_of(const char *dir, const char *metadata)
{
    char *out = NULL;
    int rc = lds_test_run(&out, "'%s' value '%s/manifest.json' --metadata '%s' --as-of 2026-12-01 2>&1", lds_test_bin(),
                          dir, metadata);
    LDS_CHECK_INT(rc, ==, 0);
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    if (j == NULL)
        fprintf(stderr, "value printed: %s\n", out ? out : "(nothing)");
    free(out);
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

static void check_adds_up(json_t *v)
{
    static const char *const names[] = {"quality", "completeness", "provenance", "rarity", "engagement", "sales",
                                        "demand"};
    double sum = 0;
    for (size_t i = 0; i < 7; i++)
        sum += factor(v, names[i], "contribution");
    double score = json_number_value(json_object_get(v, "score"));
    if (fabs(sum - score) > 1e-6)
        fprintf(stderr, "contributions %.6f vs score %.6f\n", sum, score);
    LDS_CHECK(fabs(sum - score) < 1e-6);
}

static void test_broken_mesh(const char *tmp)
{
    char clean[1200], broken[1200], meta[1200];
    snprintf(clean, sizeof(clean), "%s/clean.ply", tmp);
    snprintf(broken, sizeof(broken), "%s/broken.ply", tmp);
    snprintf(meta, sizeof(meta), "%s/meta.json", tmp);
    LDS_CHECK_INT(write_sphere(clean, 0), ==, 0);
    LDS_CHECK_INT(write_sphere(broken, 1), ==, 0);
    FILE *f = fopen(meta, "w");
    fprintf(f, "{\"title\": \"Ball\", \"description\": \"A sphere for the valuation test suite\", "
               "\"tags\": [\"ball\", \"sphere\"], \"license\": \"CC-BY-4.0\", \"category\": \"prop\"}\n");
    fclose(f);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' process '%s' -o '%s/clean' > /dev/null 2>&1", lds_test_bin(), clean, tmp),
                  ==, 0);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' process '%s' -o '%s/broken' > /dev/null 2>&1", lds_test_bin(), broken, tmp),
                  ==, 0);
    char dir[1300];
    snprintf(dir, sizeof(dir), "%s/clean", tmp);
    json_t *vc = value_of(dir, meta), *vc2 = value_of(dir, meta);
    snprintf(dir, sizeof(dir), "%s/broken", tmp);
    json_t *vb = value_of(dir, meta);
    LDS_CHECK(vc && vb && vc2);
    if (!vc || !vb || !vc2)
        return;
    double qc = factor(vc, "quality", "value"), qb = factor(vb, "quality", "value");
    fprintf(stderr, "quality: clean %.4f, broken %.4f\n", qc, qb);
    LDS_CHECK(qb < qc);
    check_adds_up(vc);
    check_adds_up(vb);
    char *t1 = json_dumps(vc, JSON_SORT_KEYS), *t2 = json_dumps(vc2, JSON_SORT_KEYS);
    LDS_CHECK_STR(t1, t2);
    free(t1);
    free(t2);
    json_decref(vc);
    json_decref(vc2);
    json_decref(vb);
}

/* A listings history: priced lines from a known structure, some with fields missing, 3 malformed. */
static void write_history(const char *path)
{
    static const char *const cats[] = {"character", "prop", "vehicle"};
    FILE *f = fopen(path, "w");
    unsigned seed = 3;
    for (int i = 0; i < 150; i++) {
        const char *cat = cats[i % 3];
        double tri = exp(7 + 5.0 * rand_r(&seed) / RAND_MAX);
        int rigged = rand_r(&seed) % 3 == 0, pbr = rand_r(&seed) % 2;
        double price = exp(1.5 + (i % 3) * 0.7 + 0.2 * log(tri) + 0.5 * rigged + 0.3 * pbr +
                           0.2 * ((double)rand_r(&seed) / RAND_MAX - 0.5));
        if (i == 20)
            fprintf(f, "{\"id\": \"x20\", \"category\": \"prop\", \"triangles\": \"lots\", \"price\": 5}\n");
        else if (i == 40)
            fprintf(f, "{\"id\": \"x40\", \"category\": \"prop\", \"price\": 5\n");
        else if (i == 60)
            fprintf(f, "{\"id\": \"x60\", \"published\": \"someday\", \"price\": 5}\n");
        else if (i % 10 == 0) /* views, pbr, published missing: unknown, not zero */
            fprintf(f, "{\"id\": \"L%d\", \"category\": \"%s\", \"triangles\": %.0f, \"rigged\": %s, \"price\": %.2f}\n",
                    i, cat, tri, rigged ? "true" : "false", price);
        else
            fprintf(f, "{\"id\": \"L%d\", \"category\": \"%s\", \"title\": \"t\", \"tags\": [\"a\"], \"triangles\": %.0f, "
                       "\"rigged\": %s, \"pbr\": %s, \"views\": %d, \"published\": \"2025-0%d-1%d\", \"price\": %.2f, "
                       "\"currency\": \"USD\", \"extra\": {\"ignored\": true}}\n",
                    i, cat, tri, rigged ? "true" : "false", pbr ? "true" : "false", 100 + i, 1 + i % 9, i % 10, price);
    }
    fprintf(f, "{\"id\": \"free\", \"category\": \"prop\", \"triangles\": 500, \"price\": 0}\n");
    fclose(f);
}

static void test_fit_history(const char *tmp)
{
    char history[1200], listing[1200];
    snprintf(history, sizeof(history), "%s/history.jsonl", tmp);
    snprintf(listing, sizeof(listing), "%s/listing.json", tmp);
    write_history(history);
    char *out = NULL;
    int rc = lds_test_run(&out, "LODESTONE_HOME='%s/home' LODESTONE_REDIS_URL= '%s' valuation fit --history '%s' "
                                "--as-of 2026-12-01 2>&1", tmp, lds_test_bin(), history);
    LDS_CHECK_INT(rc, ==, 0);
    fprintf(stderr, "%s", out ? out : "");
    LDS_CHECK(out && strstr(out, "line 21: field triangles") != NULL);
    LDS_CHECK(out && strstr(out, "line 41: not JSON") != NULL);
    LDS_CHECK(out && strstr(out, "line 61: field published") != NULL);
    LDS_CHECK(out && strstr(out, "\"malformed\":3") != NULL);
    LDS_CHECK(out && strstr(out, "\"unpriced\":1") != NULL);
    LDS_CHECK(out && strstr(out, "\"rows\":147") != NULL);
    LDS_CHECK(out && strstr(out, "\"version\":\"lds-value-1/fit-1\"") != NULL);
    free(out);
    /* the same history fitted again: the same model, byte for byte, under the next version */
    rc = lds_test_run(NULL, "LODESTONE_HOME='%s/home' LODESTONE_REDIS_URL= '%s' valuation fit --history '%s' "
                            "--as-of 2026-12-01 > /dev/null 2>&1 && cd '%s/home/valuation-models' && "
                            "sed 's/fit-2/fit-1/' fit-2.json | cmp -s - fit-1.json", tmp, lds_test_bin(), history, tmp);
    LDS_CHECK_INT(rc, ==, 0);
    FILE *f = fopen(listing, "w");
    fprintf(f, "{\"id\": \"new\", \"category\": \"vehicle\", \"triangles\": 50000, \"rigged\": true, \"pbr\": true}\n");
    fclose(f);
    rc = lds_test_run(&out, "LODESTONE_HOME='%s/home' '%s' value --listing '%s' --as-of 2026-12-01 2>&1", tmp,
                      lds_test_bin(), listing);
    LDS_CHECK_INT(rc, ==, 0);
    json_t *v = out ? json_loads(out, 0, NULL) : NULL;
    LDS_CHECK(v != NULL);
    double mid = json_number_value(json_object_get(json_object_get(v, "price"), "mid"));
    double expect = exp(1.5 + 1.4 + 0.2 * log(50000) + 0.8);
    fprintf(stderr, "value --listing: mid %.2f, structure %.2f: %s\n", mid, expect, out ? out : "");
    LDS_CHECK(fabs(log(mid / expect)) < 0.3);
    LDS_CHECK_STR(json_string_value(json_object_get(v, "model")), "lds-value-1/fit-2");
    json_decref(v);
    free(out);
}

int main(void)
{
    const char *tmp = lds_test_tmpdir("valuation_cli");
    test_broken_mesh(tmp);
    test_fit_history(tmp);
    return lds_test_result();
}
