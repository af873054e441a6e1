/* test_process_cli.c: the `lodestone process` command line through the real binary, on models the
 * test writes itself (an ASCII PLY sphere, an ASCII PLY point cloud): --help, exit codes and
 * messages for a missing file, no -o, bad --lods; --lods 0.5 gives two levels; --no-draco and
 * --no-meshopt leave out those files and manifest entries; --json prints the manifest; a point
 * cloud becomes POINTS GLBs that validate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_process_util.h"
#include "testlib.h"

static char root[1024], home[1100];

static int run(char **out, const char *fmt, const char *a, const char *b)
{
    char args[8192];
    snprintf(args, sizeof(args), fmt, a, b);
    return proc_run(out, home, args);
}

/* A UV sphere of radius 1: 48 x 24 quads as triangles, poles welded. */
static void write_sphere(const char *path)
{
    const int slices = 48, stacks = 24;
    FILE *f = fopen(path, "w");
    LDS_CHECK(f != NULL);
    if (f == NULL)
        exit(lds_test_result());
    int vertices = 2 + slices * (stacks - 1), faces = 2 * slices * (stacks - 1);
    fprintf(f, "ply\nformat ascii 1.0\nelement vertex %d\nproperty float x\nproperty float y\nproperty float z\n"
               "element face %d\nproperty list uchar int vertex_indices\nend_header\n",
            vertices, faces);
    const double pi = 3.14159265358979323846;
    fprintf(f, "0 0 1\n0 0 -1\n");
    for (int s = 1; s < stacks; s++)
        for (int i = 0; i < slices; i++) {
            double th = pi * s / stacks, ph = 2 * pi * i / slices;
            fprintf(f, "%.6f %.6f %.6f\n", sin(th) * cos(ph), sin(th) * sin(ph), cos(th));
        }
#define RING(s, i) (2 + ((s) - 1) * slices + ((i) % slices))
    for (int i = 0; i < slices; i++) {
        fprintf(f, "3 0 %d %d\n", RING(1, i), RING(1, i + 1));
        fprintf(f, "3 1 %d %d\n", RING(stacks - 1, i + 1), RING(stacks - 1, i));
    }
    for (int s = 1; s < stacks - 1; s++)
        for (int i = 0; i < slices; i++) {
            fprintf(f, "3 %d %d %d\n", RING(s, i), RING(s + 1, i), RING(s + 1, i + 1));
            fprintf(f, "3 %d %d %d\n", RING(s, i), RING(s + 1, i + 1), RING(s, i + 1));
        }
#undef RING
    fclose(f);
}

/* 2000 points, vertices only (no face element), spread over a box by a fixed LCG. */
static void write_points(const char *path, int count)
{
    FILE *f = fopen(path, "w");
    LDS_CHECK(f != NULL);
    if (f == NULL)
        exit(lds_test_result());
    fprintf(f, "ply\nformat ascii 1.0\nelement vertex %d\nproperty float x\nproperty float y\nproperty float z\n"
               "end_header\n",
            count);
    unsigned long long state = 12345;
    for (int i = 0; i < count; i++) {
        double c[3];
        for (int k = 0; k < 3; k++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            c[k] = (double)(state >> 11) / 9007199254740992.0;
        }
        fprintf(f, "%.6f %.6f %.6f\n", c[0] * 2, c[1], c[2] * 0.5);
    }
    fclose(f);
}

static int exists(const char *dir, const char *name)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void help_and_errors(const char *sphere)
{
    char *out = NULL;
    LDS_CHECK_INT(proc_run(&out, home, "--help 2>/dev/null"), ==, 0);
    const char *documented[] = {"-o", "--lods", "--no-draco", "--no-meshopt", "--json", "--title", "--owner",
                                "--license", "--category", "--tags", "--description", "--help"};
    for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++)
        if (strstr(out, documented[i]) == NULL) {
            fprintf(stderr, "--help does not document %s\n", documented[i]);
            LDS_CHECK(strstr(out, documented[i]) != NULL);
        }
    free(out);

    char missing[1200], dir[1200], expected[2600];
    snprintf(missing, sizeof(missing), "%s/no-such-model.ply", root);
    snprintf(dir, sizeof(dir), "%s/missing", root);
    LDS_CHECK_INT(run(&out, "'%s' -o '%s' 2>&1 >/dev/null", missing, dir), ==, 1);
    snprintf(expected, sizeof(expected), "lodestone: %s: No such file or directory\n", missing);
    LDS_CHECK_STR(out, expected);
    free(out);
    /* a directory is not a model: exit 1 naming it */
    LDS_CHECK_INT(run(&out, "'%s' -o '%s' 2>&1 >/dev/null", root, dir), ==, 1);
    LDS_CHECK(strstr(out, root) != NULL);
    free(out);

    LDS_CHECK_INT(run(&out, "'%s' 2>&1 >/dev/null%s", sphere, ""), ==, 2); /* no -o */
    LDS_CHECK(strstr(out, "-o") != NULL);
    free(out);
    LDS_CHECK_INT(run(NULL, "-o '%s' 2>/dev/null%s", dir, ""), ==, 2);    /* no file */
    LDS_CHECK_INT(run(NULL, "'%s' -o '%s' --bogus-option 2>/dev/null", sphere, dir), ==, 2);
    const char *bad_lods[] = {"abc", "1.5", "0", "-0.5", "0.25,0.5", "0.5;0.25", "0.5,,x"};
    for (size_t i = 0; i < sizeof(bad_lods) / sizeof(bad_lods[0]); i++) {
        char args[4096];
        snprintf(args, sizeof(args), "'%s' -o '%s' --lods '%s' 2>&1 >/dev/null", sphere, dir, bad_lods[i]);
        int rc = proc_run(&out, home, args);
        if (rc != 2)
            fprintf(stderr, "--lods '%s' exited %d: %s\n", bad_lods[i], rc, out);
        LDS_CHECK_INT(rc, ==, 2);
        LDS_CHECK(strstr(out, "--lods") != NULL);
        free(out);
    }
    LDS_CHECK(!exists(dir, "manifest.json"));
}

static void options(const char *sphere)
{
    char dir[1200], *out = NULL;
    /* --lods 0.5: LOD0 and one level, three formats each; --json prints the manifest written */
    snprintf(dir, sizeof(dir), "%s/half", root);
    LDS_CHECK_INT(run(&out, "'%s' -o '%s' --lods 0.5 --no-certificate --json 2>/dev/null", sphere, dir), ==, 0);
    json_t *printed = json_loads(out ? out : "", 0, NULL);
    LDS_CHECK(printed != NULL);
    free(out);
    json_t *m = proc_load_manifest(dir);
    if (m && printed) {
        LDS_CHECK(json_equal(m, printed));
        proc_check_manifest(m, "--lods 0.5", 0);
        json_t *lods = json_object_get(m, "lods");
        LDS_CHECK_INT(json_array_size(lods), ==, 2);
        json_int_t t0 = json_integer_value(json_object_get(json_array_get(lods, 0), "triangles"));
        json_int_t t1 = json_integer_value(json_object_get(json_array_get(lods, 1), "triangles"));
        LDS_CHECK_INT(t0, ==, 2 * 48 * 23);
        LDS_CHECK(t1 < t0 && fabs((double)t1 / (double)t0 - 0.5) <= 0.5 * 0.15);
        LDS_CHECK(exists(dir, "lod1.meshopt.glb") && !exists(dir, "lod2.glb"));
        LDS_CHECK(!exists(dir, "certificate.json"));
    }
    json_decref(m);
    json_decref(printed);

    /* the default chain: five levels */
    snprintf(dir, sizeof(dir), "%s/default", root);
    LDS_CHECK_INT(run(&out, "'%s' -o '%s' --no-certificate 2>&1", sphere, dir), ==, 0);
    LDS_CHECK(strstr(out, "lod") != NULL || strstr(out, "level") != NULL); /* the summary table */
    free(out);
    m = proc_load_manifest(dir);
    LDS_CHECK_INT(json_array_size(json_object_get(m, "lods")), ==, 5);
    json_decref(m);

    /* --no-draco, --no-meshopt, both */
    const char *flags[] = {"--no-draco", "--no-meshopt", "--no-draco --no-meshopt"};
    for (int f = 0; f < 3; f++) {
        snprintf(dir, sizeof(dir), "%s/without%d", root, f);
        char args[4096];
        snprintf(args, sizeof(args), "'%s' -o '%s' --no-certificate %s >/dev/null 2>&1", sphere, dir, flags[f]);
        LDS_CHECK_INT(proc_run(NULL, home, args), ==, 0);
        int draco = f == 1, meshopt = f == 0;
        m = proc_load_manifest(dir);
        json_t *lods = json_object_get(m, "lods"), *lod;
        LDS_CHECK_INT(json_array_size(lods), ==, 5);
        size_t l;
        json_array_foreach(lods, l, lod)
        {
            json_t *files = json_object_get(lod, "files");
            char name[64];
            LDS_CHECK(json_object_get(files, "glb") != NULL);
            LDS_CHECK((json_object_get(files, "draco") != NULL) == draco);
            LDS_CHECK((json_object_get(files, "meshopt") != NULL) == meshopt);
            snprintf(name, sizeof(name), "lod%zu.glb", l);
            LDS_CHECK(exists(dir, name));
            snprintf(name, sizeof(name), "lod%zu.draco.glb", l);
            LDS_CHECK(exists(dir, name) == draco);
            snprintf(name, sizeof(name), "lod%zu.meshopt.glb", l);
            LDS_CHECK(exists(dir, name) == meshopt);
        }
        if (m)
            proc_check_manifest(m, flags[f], 0);
        json_decref(m);
    }
}

int main(void)
{
    snprintf(root, sizeof(root), "%s", lds_test_tmpdir("process_cli"));
    snprintf(home, sizeof(home), "%s/home", root);
    char sphere[1200], points[1200];
    snprintf(sphere, sizeof(sphere), "%s/sphere.ply", root);
    snprintf(points, sizeof(points), "%s/points.ply", root);
    write_sphere(sphere);
    write_points(points, 2000);

    help_and_errors(sphere);
    options(sphere);

    /* the sphere and a point cloud: every file read back, and validated in one run */
    char *paths[64];
    size_t path_count = 0;
    const char *inputs[2] = {sphere, points};
    for (int i = 0; i < 2; i++) {
        char dir[1300];
        snprintf(dir, sizeof(dir), "%s/full%d", root, i);
        char *full_out = NULL;
        int full_rc = run(&full_out, "'%s' -o '%s' --no-certificate 2>&1", inputs[i], dir);
        if (full_rc != 0)
            fprintf(stderr, "process %s exited %d:\n%s\n", inputs[i], full_rc, full_out ? full_out : "");
        free(full_out);
        LDS_CHECK_INT(full_rc, ==, 0);
        json_t *m = proc_load_manifest(dir);
        if (m == NULL)
            continue;
        proc_check_manifest(m, inputs[i], 0);
        proc_lod_stats stats;
        proc_check_lods(m, dir, lds_path_basename(inputs[i]), paths, &path_count, 64, &stats);
        json_t *report = json_object_get(m, "report"), *lods = json_object_get(m, "lods");
        if (i == 1) {
            LDS_CHECK_INT(json_integer_value(json_object_get(report, "triangles")), ==, 0);
            LDS_CHECK_INT(json_integer_value(json_object_get(report, "points")), ==, 2000);
            LDS_CHECK_INT(json_integer_value(json_object_get(json_array_get(lods, 0), "vertices")), ==, 2000);
            /* points thin out along the chain */
            LDS_CHECK(json_array_size(lods) >= 3);
            printf("point cloud:");
            for (size_t l = 0; l < json_array_size(lods); l++) {
                json_int_t v = json_integer_value(json_object_get(json_array_get(lods, l), "vertices"));
                printf(" L%zu %lld", l, (long long)v);
                if (l > 0)
                    LDS_CHECK(v < json_integer_value(json_object_get(json_array_get(lods, l - 1), "vertices")));
            }
            printf("\n");
        } else {
            LDS_CHECK_INT(stats.files, ==, 15);
        }
        json_decref(m);
    }
    printf("validating %zu GLB files\n", path_count);
    lds_test_check_valid_glb((const char *const *)paths, path_count);
    for (size_t i = 0; i < path_count; i++)
        free(paths[i]);
    return lds_test_result();
}
