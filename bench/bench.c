/* bench.c: `lodestone bench`: the pipeline against gltfpack and draco_encoder on the same dense
 * inputs, in one run, one table (DESIGN.md section 8, issue 2 item 8).
 *
 * 1. Dense inputs: a corpus scan, welded by position, subdivided 1-to-4 at edge midpoints N times
 *    with each new midpoint moved along its face normal by up to 2% of its edge (fixed seed, so
 *    the surface is not trivially flat and every run gets the same bytes). nefertiti's 100k
 *    triangles give 1.6M (2 levels) and 6.4M (3 levels). Written as binary PLY (for lodestone and
 *    draco_encoder) and OBJ (gltfpack reads no PLY) into the work directory, outside the timings.
 * 2. Timed, medians of R runs, each child measured by wait4's rusage (wall time, peak RSS):
 *    (a) lodestone process IN -o DIR (4 levels x 3 formats);
 *    (b) the peer script doing less: gltfpack -si r -noq and -si r -cc for each level, gltfpack -cc
 *        and draco_encoder for LOD0;
 *    (c) the pair: one gltfpack -si 0.5 plus one draco_encoder.
 * 3. Sizes: our Draco LOD0 against draco_encoder at the same bits (-qp 14 -qn 10 -qt 12), our
 *    meshopt LOD0 against gltfpack -cc.
 * 4. LOD error at equal triangle count: our lodN.glb and gltfpack's -si outputs, each measured
 *    against the dense input with lds_mesh_deviation.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <meshoptimizer.h>

#include "common.h"
#include "mesh.h"

#define MAX_RUNS 9
#define LEVELS 4
static const double level_fraction[LEVELS] = {0.5, 0.25, 0.125, 0.0625};
static const char *level_text[LEVELS] = {"0.5", "0.25", "0.125", "0.0625"};

#define MAX_PROCESS_ARGS 8

typedef struct options {
    const char *corpus, *work, *lodestone, *scan;
    int quick, runs, errors_only;
    const char *process_args[MAX_PROCESS_ARGS]; /* extra arguments for lodestone process */
    int process_arg_count;
} options;

/* ---- dense inputs ---- */

typedef struct dense {
    float *positions;
    size_t vertex_count;
    uint32_t *indices;
    size_t index_count;
} dense;

static void dense_free(dense *d)
{
    free(d->positions);
    free(d->indices);
    memset(d, 0, sizeof(*d));
}

/* All triangles of the model in one list, vertices welded by position. */
static int dense_from_model(const lds_mesh_model *m, dense *d)
{
    memset(d, 0, sizeof(*d));
    uint32_t *remap = malloc(m->vertex_count * sizeof(uint32_t));
    d->indices = malloc(m->index_count * sizeof(uint32_t));
    d->positions = malloc(m->vertex_count * 3 * sizeof(float));
    if (!remap || !d->indices || !d->positions) {
        free(remap);
        dense_free(d);
        return -1;
    }
    d->vertex_count = meshopt_generateVertexRemap(remap, m->indices, m->index_count, m->positions, m->vertex_count,
                                                  3 * sizeof(float));
    meshopt_remapIndexBuffer(d->indices, m->indices, m->index_count, remap);
    meshopt_remapVertexBuffer(d->positions, m->positions, m->vertex_count, 3 * sizeof(float), remap);
    d->index_count = m->index_count;
    free(remap);
    return 0;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One 1-to-4 midpoint subdivision with a seeded displacement of the new vertices. */
static int subdivide(dense *d, uint64_t seed)
{
    size_t tri_count = d->index_count / 3;
    size_t edge_estimate = tri_count * 3 / 2 + 16;
    size_t table = 1;
    while (table < edge_estimate * 2)
        table <<= 1;
    uint64_t *keys = malloc(table * sizeof(uint64_t));
    uint32_t *vals = malloc(table * sizeof(uint32_t));
    float *pos = malloc((d->vertex_count + tri_count * 3) * 3 * sizeof(float));
    uint32_t *idx = malloc(tri_count * 12 * sizeof(uint32_t));
    if (!keys || !vals || !pos || !idx) {
        free(keys), free(vals), free(pos), free(idx);
        return -1;
    }
    memset(keys, 0xff, table * sizeof(uint64_t));
    memcpy(pos, d->positions, d->vertex_count * 3 * sizeof(float));
    size_t vc = d->vertex_count;
    for (size_t f = 0; f < tri_count; f++) {
        const uint32_t *v = d->indices + 3 * f;
        const float *p0 = pos + 3 * (size_t)v[0], *p1 = pos + 3 * (size_t)v[1], *p2 = pos + 3 * (size_t)v[2];
        float e1[3] = {p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]}, e2[3] = {p2[0] - p0[0], p2[1] - p0[1], p2[2] - p0[2]};
        float n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
        float nl = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (nl > 0)
            n[0] /= nl, n[1] /= nl, n[2] /= nl;
        uint32_t m[3];
        for (int e = 0; e < 3; e++) {
            uint32_t a = v[e], b = v[(e + 1) % 3];
            uint64_t key = a < b ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
            size_t h = (size_t)mix64(key) & (table - 1);
            while (keys[h] != UINT64_MAX && keys[h] != key)
                h = (h + 1) & (table - 1);
            if (keys[h] != key) {
                keys[h] = key;
                vals[h] = (uint32_t)vc;
                const float *pa = pos + 3 * (size_t)a, *pb = pos + 3 * (size_t)b;
                float len = sqrtf((pa[0] - pb[0]) * (pa[0] - pb[0]) + (pa[1] - pb[1]) * (pa[1] - pb[1]) +
                                  (pa[2] - pb[2]) * (pa[2] - pb[2]));
                float u = (float)(mix64(key ^ seed) >> 40) / 16777216.0f * 2 - 1;
                for (int k = 0; k < 3; k++)
                    pos[3 * vc + k] = (pa[k] + pb[k]) * 0.5f + n[k] * 0.02f * len * u;
                vc++;
            }
            m[e] = vals[h];
        }
        uint32_t out[12] = {v[0], m[0], m[2], v[1], m[1], m[0], v[2], m[2], m[1], m[0], m[1], m[2]};
        memcpy(idx + 12 * f, out, sizeof(out));
    }
    free(keys);
    free(vals);
    free(d->positions);
    free(d->indices);
    d->positions = pos;
    d->vertex_count = vc;
    d->indices = idx;
    d->index_count = tri_count * 12;
    return 0;
}

static int write_ply(const dense *d, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    fprintf(f,
            "ply\nformat binary_little_endian 1.0\ncomment lodestone bench dense input\nelement vertex %zu\n"
            "property float x\nproperty float y\nproperty float z\nelement face %zu\n"
            "property list uchar int vertex_indices\nend_header\n",
            d->vertex_count, d->index_count / 3);
    fwrite(d->positions, sizeof(float), d->vertex_count * 3, f);
    unsigned char rec[13];
    rec[0] = 3;
    for (size_t i = 0; i < d->index_count; i += 3) {
        memcpy(rec + 1, d->indices + i, 12);
        fwrite(rec, 1, sizeof(rec), f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int write_obj(const dense *d, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof(buf));
    for (size_t i = 0; i < d->vertex_count; i++)
        fprintf(f, "v %.9g %.9g %.9g\n", d->positions[3 * i], d->positions[3 * i + 1], d->positions[3 * i + 2]);
    for (size_t i = 0; i < d->index_count; i += 3)
        fprintf(f, "f %u %u %u\n", d->indices[i] + 1, d->indices[i + 1] + 1, d->indices[i + 2] + 1);
    return fclose(f) == 0 ? 0 : -1;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Makes WORK/<scan>-x<4^levels>.{ply,obj}; reuses them when present (same seed, same bytes). */
static int make_dense(const options *o, int levels, char *ply, char *obj, size_t size, size_t *triangles)
{
    char src[PATH_MAX], stem[256];
    snprintf(src, sizeof(src), "%s/scans/%s", o->corpus, o->scan);
    snprintf(stem, sizeof(stem), "%s", o->scan);
    char *dot = strrchr(stem, '.');
    if (dot)
        *dot = 0;
    snprintf(ply, size, "%s/%s-x%d.ply", o->work, stem, 1 << (2 * levels));
    snprintf(obj, size, "%s/%s-x%d.obj", o->work, stem, 1 << (2 * levels));
    lds_mesh_model *m = NULL;
    lds_error err;
    lds_error_clear(&err);
    if (file_exists(ply) && file_exists(obj)) {
        /* count triangles from the PLY header */
        FILE *f = fopen(ply, "rb");
        char line[256];
        *triangles = 0;
        while (f && fgets(line, sizeof(line), f) && strncmp(line, "end_header", 10) != 0)
            if (sscanf(line, "element face %zu", triangles) == 1)
                break;
        if (f)
            fclose(f);
        return 0;
    }
    fprintf(stderr, "bench: building %s (%d subdivision levels of %s)\n", ply, levels, src);
    if (lds_mesh_import_file(src, 0, NULL, &m, &err) != LDS_OK) {
        fprintf(stderr, "bench: %s\n", err.message);
        return -1;
    }
    dense d;
    int rc = dense_from_model(m, &d);
    lds_mesh_model_destroy(m);
    for (int l = 0; rc == 0 && l < levels; l++)
        rc = subdivide(&d, 0x6c6f6465ull + (uint64_t)l);
    if (rc == 0)
        rc = write_ply(&d, ply);
    if (rc == 0)
        rc = write_obj(&d, obj);
    *triangles = d.index_count / 3;
    dense_free(&d);
    if (rc != 0)
        fprintf(stderr, "bench: cannot write %s or %s: %s\n", ply, obj, strerror(errno));
    return rc;
}

/* ---- running and measuring ---- */

typedef struct measure {
    double seconds;
    long peak_kb;
    int failed;
} measure;

/* Runs argv with stdout and stderr into log; wall time and peak RSS from wait4. */
static measure run(char *const argv[], const char *log)
{
    measure m = {0, 0, 1};
    double t0 = lds_time_ms();
    pid_t pid = fork();
    if (pid < 0)
        return m;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    m.seconds = (lds_time_ms() - t0) / 1000.0;
    m.peak_kb = ru.ru_maxrss;
    m.failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (m.failed) {
        fprintf(stderr, "bench: failed (status %d):", status);
        for (int i = 0; argv[i]; i++)
            fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, " (see %s)\n", log);
    }
    return m;
}

/* Adds a step of a script: times add, peaks take the max. */
static void accumulate(measure *total, measure step)
{
    total->seconds += step.seconds;
    total->peak_kb = step.peak_kb > total->peak_kb ? step.peak_kb : total->peak_kb;
    total->failed |= step.failed;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of the runs' times and of their peaks (separately). */
static measure median(const measure *runs, int count)
{
    double t[MAX_RUNS], p[MAX_RUNS];
    measure m = {0, 0, 0};
    for (int i = 0; i < count; i++) {
        t[i] = runs[i].seconds;
        p[i] = (double)runs[i].peak_kb;
        m.failed |= runs[i].failed;
    }
    qsort(t, (size_t)count, sizeof(double), cmp_double);
    qsort(p, (size_t)count, sizeof(double), cmp_double);
    m.seconds = count % 2 ? t[count / 2] : (t[count / 2 - 1] + t[count / 2]) / 2;
    m.peak_kb = (long)(count % 2 ? p[count / 2] : (p[count / 2 - 1] + p[count / 2]) / 2);
    return m;
}

static int mkdirs(const char *path)
{
    lds_error err;
    lds_error_clear(&err);
    return lds_dir_create(path, 0755, &err) == LDS_OK ? 0 : -1;
}

/* ---- the LOD error comparison ---- */

static lds_mesh_model *load(const char *path)
{
    lds_mesh_model *m = NULL;
    lds_error err;
    lds_error_clear(&err);
    if (lds_mesh_import_file(path, 0, NULL, &m, &err) != LDS_OK) {
        fprintf(stderr, "bench: %s\n", err.message);
        return NULL;
    }
    return m;
}

static void ratio_text(char *out, size_t size, double a, double b)
{
    if (a > 0 && b > 0)
        snprintf(out, size, "%.2fx", a / b);
    else
        snprintf(out, size, "-");
}

/* The timed part: R runs of (a), (b) and (c), then the timing table. Returns lodestone's medians. */
static measure timed_runs(const options *o, char *ply, char *obj, char *ours, char *peer,
                          char *pair, const char *log, size_t triangles, int levels)
{
    measure m_ours[MAX_RUNS], m_peer[MAX_RUNS], m_gltfpack[MAX_RUNS], m_draco[MAX_RUNS], m_pair[MAX_RUNS];
    char out_a[PATH_MAX + 128], out_b[PATH_MAX + 128];
    for (int r = 0; r < o->runs; r++) {
        fprintf(stderr, "bench: %zu triangles, run %d of %d\n", triangles, r + 1, o->runs);
        /* (a) lodestone, with the peers' attributes: they add no normals to a scan without them */
        char *a_argv[7 + MAX_PROCESS_ARGS] = {(char *)o->lodestone, "process", ply, "-o", ours, "--no-normals"};
        for (int i = 0; i < o->process_arg_count; i++)
            a_argv[6 + i] = (char *)o->process_args[i];
        a_argv[6 + o->process_arg_count] = NULL;
        m_ours[r] = run(a_argv, log);

        /* (b) the peer script */
        measure total = {0, 0, 0};
        for (int l = 0; l < LEVELS; l++) {
            snprintf(out_a, sizeof(out_a), "%s/lod%d.glb", peer, l + 1);
            char *noq[] = {"gltfpack", "-i", obj, "-o", out_a, "-si", (char *)level_text[l], "-noq", NULL};
            accumulate(&total, run(noq, log));
            snprintf(out_b, sizeof(out_b), "%s/lod%d.cc.glb", peer, l + 1);
            char *cc[] = {"gltfpack", "-i", obj, "-o", out_b, "-si", (char *)level_text[l], "-cc", NULL};
            accumulate(&total, run(cc, log));
        }
        snprintf(out_a, sizeof(out_a), "%s/lod0.cc.glb", peer);
        char *cc0[] = {"gltfpack", "-i", obj, "-o", out_a, "-cc", NULL};
        accumulate(&total, run(cc0, log));
        snprintf(out_b, sizeof(out_b), "%s/lod0.drc", peer);
        char *drc0[] = {"draco_encoder", "-i", ply, "-o", out_b, "-qp", "14", "-qn", "10", "-qt", "12", NULL};
        accumulate(&total, run(drc0, log));
        m_peer[r] = total;

        /* (c) the pair */
        snprintf(out_a, sizeof(out_a), "%s/si05.glb", pair);
        char *si[] = {"gltfpack", "-i", obj, "-o", out_a, "-si", "0.5", NULL};
        m_gltfpack[r] = run(si, log);
        snprintf(out_b, sizeof(out_b), "%s/lod0.drc", pair);
        char *drc[] = {"draco_encoder", "-i", ply, "-o", out_b, "-qp", "14", "-qn", "10", "-qt", "12", NULL};
        m_draco[r] = run(drc, log);
        m_pair[r] = (measure){0, 0, 0};
        accumulate(&m_pair[r], m_gltfpack[r]);
        accumulate(&m_pair[r], m_draco[r]);
    }
    measure ours_m = median(m_ours, o->runs), peer_m = median(m_peer, o->runs), pair_m = median(m_pair, o->runs),
            gltfpack_m = median(m_gltfpack, o->runs), draco_m = median(m_draco, o->runs);

    char ratio[32];
    printf("\n== %s x%d: %zu triangles; medians of %d run(s); ratios are peer / lodestone unless noted\n", o->scan,
           1 << (2 * levels), triangles, o->runs);
    printf("%-44s %9s %9s %s\n", "", "time s", "peak MB", "");
    printf("%-44s %9.2f %9.0f %s\n", "lodestone process (4 LODs x 3 formats)", ours_m.seconds, ours_m.peak_kb / 1024.0,
           ours_m.failed ? "FAILED" : "");
    ratio_text(ratio, sizeof(ratio), peer_m.seconds, ours_m.seconds);
    printf("%-44s %9.2f %9.0f speedup %s (bar 1.5x)%s\n", "peer script (10 commands)", peer_m.seconds,
           peer_m.peak_kb / 1024.0, ratio, peer_m.failed ? " FAILED" : "");
    printf("%-44s %9.2f %9.0f\n", "gltfpack -si 0.5", gltfpack_m.seconds, gltfpack_m.peak_kb / 1024.0);
    printf("%-44s %9.2f %9.0f\n", "draco_encoder -qp 14 -qn 10 -qt 12", draco_m.seconds, draco_m.peak_kb / 1024.0);
    ratio_text(ratio, sizeof(ratio), ours_m.seconds, pair_m.seconds);
    printf("%-44s %9.2f %9s lodestone / pair %s (bar <= 1.5x)\n", "pair: gltfpack -si 0.5 + draco_encoder",
           pair_m.seconds, "", ratio);
    ratio_text(ratio, sizeof(ratio), (double)ours_m.peak_kb, (double)gltfpack_m.peak_kb);
    printf("%-44s %9s %9s %s (bar <= 2x)\n", "peak memory lodestone / gltfpack -si 0.5", "", "", ratio);

    return ours_m;
}

static int bench_input(const options *o, int levels)
{
    char ply[PATH_MAX], obj[PATH_MAX], dir[PATH_MAX + 64], log[PATH_MAX + 64];
    size_t triangles = 0;
    if (make_dense(o, levels, ply, obj, sizeof(ply), &triangles) != 0)
        return 1;
    snprintf(dir, sizeof(dir), "%s/run-x%d", o->work, 1 << (2 * levels));
    snprintf(log, sizeof(log), "%s/run-x%d.log", o->work, 1 << (2 * levels));
    mkdirs(dir);
    if (!o->errors_only)
        unlink(log);
    char ours[PATH_MAX + 80], peer[PATH_MAX + 80], pair[PATH_MAX + 80];
    snprintf(ours, sizeof(ours), "%s/lodestone", dir);
    snprintf(peer, sizeof(peer), "%s/peer", dir);
    snprintf(pair, sizeof(pair), "%s/pair", dir);
    mkdirs(ours);
    mkdirs(peer);
    mkdirs(pair);

    measure ours_m = {0, 0, 0};
    if (!o->errors_only) {
        ours_m = timed_runs(o, ply, obj, ours, peer, pair, log, triangles, levels);
    } else {
        printf("\n== %s x%d: %zu triangles; LOD errors of an earlier run\n", o->scan, 1 << (2 * levels), triangles);
    }
    char ratio[32];
    /* sizes */
    char f_ours[PATH_MAX + 128], f_peer[PATH_MAX + 128];
    snprintf(f_ours, sizeof(f_ours), "%s/lod0.draco.glb", ours);
    snprintf(f_peer, sizeof(f_peer), "%s/lod0.drc", peer);
    long long s_ours = file_size(f_ours), s_peer = file_size(f_peer);
    ratio_text(ratio, sizeof(ratio), (double)s_ours, (double)s_peer);
    printf("%-44s %9lld %9lld lodestone / draco_encoder %s (bar <= 1.05x)\n", "Draco LOD0 bytes: lodestone, draco_encoder",
           s_ours, s_peer, ratio);
    snprintf(f_ours, sizeof(f_ours), "%s/lod0.meshopt.glb", ours);
    snprintf(f_peer, sizeof(f_peer), "%s/lod0.cc.glb", peer);
    s_ours = file_size(f_ours), s_peer = file_size(f_peer);
    ratio_text(ratio, sizeof(ratio), (double)s_ours, (double)s_peer);
    printf("%-44s %9lld %9lld lodestone / gltfpack %s (bar <= 1.10x)\n", "meshopt LOD0 bytes: lodestone, gltfpack -cc",
           s_ours, s_peer, ratio);

    /* LOD error against the dense input */
    lds_mesh_model *input = load(ply);
    if (input == NULL)
        return 1;
    printf("LOD error vs the dense input (relative to its diagonal; max = Hausdorff from 1M samples a side, mean = mean distance)\n");
    printf("%-6s %10s %10s %10s %10s %8s %10s %10s %8s\n", "level", "tris ours", "tris gltfp", "max ours", "max gltfp",
           "ratio", "mean ours", "mean gltfp", "ratio");
    lds_mesh_deviation_ref *ref = NULL;
    lds_error ref_err;
    lds_error_clear(&ref_err);
    if (lds_mesh_deviation_ref_create(input, &ref, &ref_err) != LDS_OK) {
        fprintf(stderr, "bench: %s\n", ref_err.message);
        lds_mesh_model_destroy(input);
        return 1;
    }
    /* a million samples a side: at the default 64k the max moves by +-30% between equally good LODs */
    lds_mesh_deviation_ref_set_samples(ref, 1000000);
    for (int l = 0; l < LEVELS; l++) {
        snprintf(f_ours, sizeof(f_ours), "%s/lod%d.glb", ours, l + 1);
        snprintf(f_peer, sizeof(f_peer), "%s/lod%d.glb", peer, l + 1);
        lds_mesh_model *a = load(f_ours), *b = load(f_peer);
        double max_a = 0, mean_a = 0, max_b = 0, mean_b = 0;
        lds_error err;
        lds_error_clear(&err);
        if (a && lds_mesh_deviation_measure(ref, a, &max_a, &mean_a, &err) != LDS_OK)
            fprintf(stderr, "bench: %s: %s\n", f_ours, err.message);
        if (b && lds_mesh_deviation_measure(ref, b, &max_b, &mean_b, &err) != LDS_OK)
            fprintf(stderr, "bench: %s: %s\n", f_peer, err.message);
        char r_max[32], r_mean[32];
        ratio_text(r_max, sizeof(r_max), max_a, max_b);
        ratio_text(r_mean, sizeof(r_mean), mean_a, mean_b);
        printf("lod%-3d %10zu %10zu %10.6f %10.6f %8s %10.7f %10.7f %8s\n", l + 1, a ? lds_mesh_triangle_count(a) : 0,
               b ? lds_mesh_triangle_count(b) : 0, max_a, max_b, r_max, mean_a, mean_b, r_mean);
        lds_mesh_model_destroy(a);
        lds_mesh_model_destroy(b);
    }
    printf("(level fractions %.4g..%.4g of LOD0; bar: ours no worse than 1.25x gltfpack -si)\n", level_fraction[0],
           level_fraction[LEVELS - 1]);
    lds_mesh_deviation_ref_destroy(ref);
    lds_mesh_model_destroy(input);
    fflush(stdout);
    return ours_m.failed ? 1 : 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: lodestone bench [--quick] [--corpus DIR] [--work DIR] [--runs N] [--scan FILE] [--process-arg ARG]\n"
               "  Builds dense inputs from a corpus scan by subdivision (1.6M and 6.4M triangles; --quick: one\n"
               "  400k-triangle input, one run), then times lodestone process, the gltfpack/draco_encoder\n"
               "  script and the gltfpack -si 0.5 + draco_encoder pair, and prints one table.\n"
               "  --corpus DIR  corpus root with scans/ (default ../shared/corpus of the source tree)\n"
               "  --work DIR    where dense inputs and outputs go (default: bench-work next to this program)\n"
               "  --runs N      runs per measurement, median taken (default 3)\n"
               "  --scan FILE   scan under scans/ (default nefertiti.obj)\n"
               "  --errors-only only the LOD error table, on the outputs of an earlier run in --work\n"
               "  --process-arg ARG  extra argument for lodestone process (repeatable), e.g. --no-certificate\n");
}

int main(int argc, char **argv)
{
    static char work[PATH_MAX + 32], lodestone[PATH_MAX + 32], self[PATH_MAX];
    options o = {LDS_BENCH_CORPUS, NULL, NULL, "nefertiti.obj", 0, 3, 0, {0}, 0};
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = 0;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    snprintf(work, sizeof(work), "%s/bench-work", self);
    snprintf(lodestone, sizeof(lodestone), "%s/../cli/lodestone", self);
    o.work = work;
    o.lodestone = lodestone;
    int runs_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--quick") == 0) {
            o.quick = 1;
        } else if (strcmp(a, "--errors-only") == 0) {
            o.errors_only = 1;
        } else if (i + 1 < argc && strcmp(a, "--corpus") == 0) {
            o.corpus = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--work") == 0) {
            o.work = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--lodestone") == 0) {
            o.lodestone = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--process-arg") == 0) {
            if (o.process_arg_count == MAX_PROCESS_ARGS) {
                fprintf(stderr, "lodestone bench: at most %d --process-arg\n", MAX_PROCESS_ARGS);
                return 2;
            }
            o.process_args[o.process_arg_count++] = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--scan") == 0) {
            o.scan = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--runs") == 0) {
            o.runs = atoi(argv[++i]);
            runs_set = 1;
            if (o.runs < 1 || o.runs > MAX_RUNS) {
                fprintf(stderr, "lodestone bench: --runs: between 1 and %d\n", MAX_RUNS);
                return 2;
            }
        } else {
            fprintf(stderr, "lodestone bench: unknown argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (o.quick && !runs_set)
        o.runs = 1;
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof(probe), "%s/scans/%s", o.corpus, o.scan);
    if (!file_exists(probe)) {
        fprintf(stderr, "lodestone bench: %s: no such scan (use --corpus DIR)\n", probe);
        return 1;
    }
    if (access(o.lodestone, X_OK) != 0) {
        fprintf(stderr, "lodestone bench: %s: not executable (use --lodestone PATH)\n", o.lodestone);
        return 1;
    }
    if (mkdirs(o.work) != 0) {
        fprintf(stderr, "lodestone bench: %s: cannot create the work directory\n", o.work);
        return 1;
    }
    /* lodestone process certifies: keep its key and log in the work directory, not in the caller's */
    char home[PATH_MAX + 64];
    snprintf(home, sizeof(home), "%s/lodestone-home", o.work);
    setenv("LODESTONE_HOME", home, 1);
    int rc = 0;
    if (o.quick)
        rc |= bench_input(&o, 1);
    else {
        rc |= bench_input(&o, 2);
        rc |= bench_input(&o, 3);
    }
    return rc;
}
