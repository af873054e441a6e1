/* test_process_outliers.c: geometry that used to make `lodestone process` spin (issue 9, Hangs):
 * a binary PLY surface with one vertex thrown 1e3, 1e9 and 1e30 times its diagonal away (a
 * photogrammetry outlier), the same surface with one byte of one coordinate flipped, a model whose
 * triangles all fall in one cell of an area-sized grid, and a fan of long slivers. Each run has
 * LODESTONE_MAX_JOB_SECONDS as its budget and `timeout` far above it as a backstop: the outcome
 * asserted is that every file is processed (exit 0, a manifest with its LODs), never killed. Then
 * the budget itself: a model too big for a 1 s budget fails with a message naming the limit. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define BUDGET_SECONDS 120
#define BACKSTOP_SECONDS 400
#define SIDE 400 /* heightfields of 318,402 triangles: the old grid's cost grew with the square */

typedef struct model {
    float *v;
    uint32_t *f;
    size_t vertices, faces;
} model;

static void write_ply(const char *path, const model *m)
{
    FILE *out = fopen(path, "wb");
    if (out == NULL) {
        fprintf(stderr, "%s: cannot write\n", path);
        exit(1);
    }
    fprintf(out, "ply\nformat binary_little_endian 1.0\nelement vertex %zu\nproperty float x\nproperty float y\n"
                 "property float z\n", m->vertices);
    if (m->faces)
        fprintf(out, "element face %zu\nproperty list uchar uint vertex_indices\n", m->faces);
    fprintf(out, "end_header\n");
    fwrite(m->v, sizeof(float), 3 * m->vertices, out);
    for (size_t i = 0; i < m->faces; i++) {
        unsigned char three = 3;
        fwrite(&three, 1, 1, out);
        fwrite(m->f + 3 * i, sizeof(uint32_t), 3, out);
    }
    fclose(out);
}

/* An n x n heightfield over [0,1]^2 (a wavy scan-like surface). */
static model heightfield(size_t n)
{
    model m = {malloc(3 * n * n * sizeof(float)), malloc(6 * (n - 1) * (n - 1) * sizeof(uint32_t)), n * n, 0};
    for (size_t y = 0; y < n; y++)
        for (size_t x = 0; x < n; x++) {
            float *p = m.v + 3 * (y * n + x);
            p[0] = (float)x / (float)(n - 1);
            p[1] = (float)y / (float)(n - 1);
            p[2] = 0.1f * sinf(6 * p[0]) * cosf(5 * p[1]);
        }
    for (size_t y = 0; y + 1 < n; y++)
        for (size_t x = 0; x + 1 < n; x++) {
            uint32_t a = (uint32_t)(y * n + x), b = a + 1, c = a + (uint32_t)n, d = c + 1;
            uint32_t *f = m.f + 3 * m.faces;
            f[0] = a, f[1] = b, f[2] = d, f[3] = a, f[4] = d, f[5] = c;
            m.faces += 2;
        }
    return m;
}

/* Runs process on path under the budget; returns the exit status, output in *out. */
static int process(const char *dir, const char *path, const char *name, const char *budget, char **out)
{
    return lds_test_run(out,
                        "LODESTONE_HOME='%s/home' LODESTONE_MAX_JOB_SECONDS=%s timeout -s KILL %d '%s' process '%s' "
                        "-o '%s/out-%s' --no-certificate 2>&1",
                        dir, budget, BACKSTOP_SECONDS, lds_test_bin(), path, dir, name);
}

static void expect_processed(const char *dir, const char *name, const model *m)
{
    char path[1200], budget[32];
    snprintf(path, sizeof(path), "%s/%s.ply", dir, name);
    snprintf(budget, sizeof(budget), "%d", BUDGET_SECONDS);
    write_ply(path, m);
    char *out = NULL;
    int rc = process(dir, path, name, budget, &out);
    if (rc != 0) {
        fprintf(stderr, "%s: lodestone process exited %d%s: %s\n", name, rc,
                rc == 137 ? " (killed by the backstop: it hung)" : "", out ? out : "");
        lds_test_failures++;
    } else {
        char manifest[1300];
        snprintf(manifest, sizeof(manifest), "%s/out-%s/manifest.json", dir, name);
        char *check = NULL;
        rc = lds_test_run(&check, "python3 -c \"import json,sys; m=json.load(open('%s')); "
                                  "print(len(m['lods']))\"", manifest);
        LDS_CHECK_INT(rc, ==, 0);
        LDS_CHECK(check && atoi(check) >= 1);
        free(check);
    }
    free(out);
}

static void test_outliers(const char *dir)
{
    static const double factors[] = {1e3, 1e9, 1e30};
    static const char *const names[] = {"outlier1e3", "outlier1e9", "outlier1e30"};
    for (int i = 0; i < 3; i++) {
        model m = heightfield(SIDE);
        float *p = m.v + 3 * (SIDE / 2 * SIDE + SIDE / 2); /* a vertex in the middle, thrown far up */
        p[2] = (float)(factors[i] * sqrt(2.0));
        expect_processed(dir, names[i], &m);
        free(m.v);
        free(m.f);
    }
}

/* A scanned point cloud (the heightfield's vertices, no faces) with one point thrown away. */
static void test_cloud(const char *dir)
{
    model m = heightfield(SIDE);
    m.faces = 0;
    m.v[3 * 777 + 0] = 3e9f;
    expect_processed(dir, "cloud", &m);
    free(m.v);
    free(m.f);
}

/* The exponent byte of one coordinate flipped, as a bad disk sector or transfer would do it. */
static void test_flipped_byte(const char *dir)
{
    model m = heightfield(SIDE);
    unsigned char *bytes = (unsigned char *)(m.v + 3 * (SIDE / 3 * SIDE + SIDE / 2) + 1);
    bytes[3] ^= 0x5c;
    expect_processed(dir, "flipped", &m);
    free(m.v);
    free(m.f);
}

/* 20,000 tiny triangles in a 1e-4 cluster and four huge ones around it: the huge ones hold
 * nearly all the area, so a grid sized from the mean area puts the whole cluster in one cell. */
static void test_one_cell(const char *dir)
{
    model c = heightfield(100);
    for (size_t i = 0; i < c.vertices; i++)
        for (int k = 0; k < 3; k++)
            c.v[3 * i + k] *= 1e-4f;
    model m = {realloc(c.v, 3 * (c.vertices + 8) * sizeof(float)), realloc(c.f, 3 * (c.faces + 4) * sizeof(uint32_t)),
               c.vertices, c.faces};
    static const float far[8][3] = {{-1e3f, -1e3f, -1}, {1e3f, -1e3f, -1}, {1e3f, 1e3f, -1}, {-1e3f, 1e3f, -1},
                                    {-1e3f, -1e3f, 1},  {1e3f, -1e3f, 1},  {1e3f, 1e3f, 1},  {-1e3f, 1e3f, 1}};
    for (int i = 0; i < 8; i++)
        memcpy(m.v + 3 * (m.vertices + (size_t)i), far[i], sizeof(far[i]));
    uint32_t base = (uint32_t)m.vertices;
    uint32_t quads[4][3] = {{0, 1, 2}, {0, 2, 3}, {4, 6, 5}, {4, 7, 6}};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++)
            m.f[3 * (m.faces + (size_t)i) + k] = base + quads[i][k];
    m.vertices += 8;
    m.faces += 4;
    expect_processed(dir, "onecell", &m);
    free(m.v);
    free(m.f);
}

/* 20,000 long slivers through the centre of a sphere, between antipodal points: every one spans
 * the whole model, so no grid cell is small around any of them. */
static void test_slivers(const char *dir)
{
    size_t n = 20000;
    model m = {malloc(9 * n * sizeof(float)), malloc(3 * n * sizeof(uint32_t)), 3 * n, n};
    uint64_t state = 12345;
    for (size_t i = 0; i < n; i++) {
        float d[3];
        for (int k = 0; k < 3; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            d[k] = (float)((double)(state >> 11) / 9007199254740992.0 * 2 - 1);
        }
        float len = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) + 1e-6f;
        float *v = m.v + 9 * i;
        for (int k = 0; k < 3; k++) {
            v[k] = d[k] / len;
            v[3 + k] = -d[k] / len;
            v[6 + k] = d[k] / len + (k == 0 ? 1e-3f : 0);
        }
        for (int k = 0; k < 3; k++)
            m.f[3 * i + k] = (uint32_t)(3 * i + (size_t)k);
    }
    expect_processed(dir, "slivers", &m);
    free(m.v);
    free(m.f);
}

/* A model that takes longer than a 1 s budget (3.9M triangles: parse, clean, LODs, three
 * encodings) fails with the limit in its message, exit 1, not a signal. */
static void test_budget(const char *dir)
{
    model m = heightfield(1400);
    char path[1200];
    snprintf(path, sizeof(path), "%s/big.ply", dir);
    write_ply(path, &m);
    free(m.v);
    free(m.f);
    char *out = NULL;
    int rc = process(dir, path, "big", "1", &out);
    LDS_CHECK_INT(rc, ==, 1);
    if (out == NULL || strstr(out, "time limit") == NULL || strstr(out, "LODESTONE_MAX_JOB_SECONDS") == NULL)
        LDS_CHECK_STR(out, "lodestone: big.ply: time limit of 1 s exceeded (... LODESTONE_MAX_JOB_SECONDS ...)");
    free(out);
}

int main(int argc, char **argv)
{
    const char *dir = lds_test_tmpdir("process_outliers");
    const char *only = argc > 1 ? argv[1] : "";
    if (!*only || strcmp(only, "outliers") == 0)
        test_outliers(dir);
    if (!*only || strcmp(only, "cloud") == 0)
        test_cloud(dir);
    if (!*only || strcmp(only, "flipped") == 0)
        test_flipped_byte(dir);
    if (!*only || strcmp(only, "onecell") == 0)
        test_one_cell(dir);
    if (!*only || strcmp(only, "slivers") == 0)
        test_slivers(dir);
    if (!*only || strcmp(only, "budget") == 0)
        test_budget(dir);
    return lds_test_result();
}
