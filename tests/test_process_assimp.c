/* test_process_assimp.c: every model of Debian's assimp-testmodels (outside invalid/) that Assimp
 * itself imports with at least one triangle goes through `lodestone process` without being killed
 * by a signal or timing out; at least 95% succeed; the rest exit 1 with a message naming the file.
 * "Assimp itself imports with >= 1 triangle" is decided as the import test does, by
 * lds_import_assimp_reference, run in a child (this executable with --reference FILE) so that a
 * crash inside Assimp costs one model, not the test. Two models at a time, 60 s each. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "import_internal.h"
#include "testlib.h"

#define WORKERS 2
#define TIMEOUT_S 60

typedef struct model {
    char *path;
    int eligible;   /* Assimp reads >= 1 triangle */
    int rc;         /* process's exit status (128+signal when killed, 124 timeout) */
    char *message;  /* process's stderr when it failed */
    double ms;
} model;

static model *models;
static size_t model_count, model_capacity;
static atomic_size_t next_model;
static char self[1024], root[1024], home[1100];

static int collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (type != FTW_F || strstr(path, "/invalid/") != NULL)
        return 0;
    if (model_count == model_capacity) {
        model_capacity = model_capacity ? 2 * model_capacity : 256;
        models = realloc(models, model_capacity * sizeof(model));
    }
    models[model_count++] = (model){.path = strdup(path)};
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const model *)a)->path, ((const model *)b)->path);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        size_t i = atomic_fetch_add(&next_model, 1);
        if (i >= model_count)
            return NULL;
        model *m = &models[i];
        char *out = NULL;
        int rc = lds_test_run(&out, "timeout %d '%s' --reference '%s' 2>/dev/null", TIMEOUT_S, self, m->path);
        m->eligible = rc == 0 && out && strtoull(out, NULL, 10) > 0;
        free(out);
        if (!m->eligible)
            continue;
        char dir[1200];
        snprintf(dir, sizeof(dir), "%s/out%zu", root, i);
        double t0 = lds_time_ms();
        /* stderr only: the summary table on stdout is dropped */
        m->rc = lds_test_run(&m->message,
                             "LODESTONE_HOME='%s' timeout -s KILL %d '%s' process '%s' -o '%s' --no-certificate "
                             "2>&1 >/dev/null",
                             home, TIMEOUT_S, lds_test_bin(), m->path, dir);
        m->ms = lds_time_ms() - t0;
        lds_test_run(NULL, "rm -rf '%s'", dir);
    }
}

/* Child mode: print Assimp's own triangle count of FILE. */
static int reference(const char *path)
{
    uint64_t triangles = 0, vertices = 0;
    if (lds_import_assimp_reference(path, &triangles, &vertices) != LDS_OK)
        return 1;
    printf("%llu %llu\n", (unsigned long long)triangles, (unsigned long long)vertices);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--reference") == 0)
        return reference(argv[2]);
    if (access(LDS_ASSIMP_MODELS, R_OK) != 0)
        lds_test_skip("assimp-testmodels is not installed");
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    snprintf(root, sizeof(root), "%s", lds_test_tmpdir("process_assimp_models"));
    snprintf(home, sizeof(home), "%s/home", root);
    nftw(LDS_ASSIMP_MODELS, collect, 16, FTW_PHYS);
    qsort(models, model_count, sizeof(model), by_path);

    double t0 = lds_time_ms();
    pthread_t threads[WORKERS];
    for (int t = 0; t < WORKERS; t++)
        pthread_create(&threads[t], NULL, worker, NULL);
    for (int t = 0; t < WORKERS; t++)
        pthread_join(threads[t], NULL);

    size_t eligible = 0, passed = 0, killed = 0, unclear = 0;
    double slowest = 0;
    const char *slowest_path = "";
    for (size_t i = 0; i < model_count; i++) {
        model *m = &models[i];
        if (!m->eligible)
            continue;
        eligible++;
        const char *rel = m->path + strlen(LDS_ASSIMP_MODELS) + 1;
        if (m->ms > slowest) {
            slowest = m->ms;
            slowest_path = rel;
        }
        if (m->rc == 0) {
            passed++;
            continue;
        }
        /* the message is "lodestone: <file or name>: why" on one line */
        char *nl = m->message ? strchr(m->message, '\n') : NULL;
        if (nl && nl[1] == '\0')
            *nl = '\0';
        if (m->rc >= 124) {
            killed++;
            printf("KILLED %s: exit %d%s\n", rel, m->rc, m->rc == 124 || m->rc == 137 ? " (timeout)" : " (signal)");
            continue;
        }
        int clear = m->rc == 1 && m->message && strncmp(m->message, "lodestone: ", 11) == 0 &&
                    strstr(m->message, lds_path_basename(m->path)) != NULL;
        if (!clear)
            unclear++;
        printf("FAIL%s %s: exit %d: %s\n", clear ? "" : " (unclear)", rel, m->rc, m->message ? m->message : "");
    }
    double rate = eligible ? 100.0 * (double)passed / (double)eligible : 0.0;
    printf("assimp-testmodels: %zu files, %zu that Assimp reads with triangles, %zu processed (%.1f%%), %zu killed, "
           "%zu unclear failures; %.0f s, slowest %s %.0f ms\n",
           model_count, eligible, passed, rate, killed, unclear, (lds_time_ms() - t0) / 1000.0, slowest_path, slowest);
    LDS_CHECK(eligible > 100);
    LDS_CHECK(rate >= 95.0);
    LDS_CHECK_INT(killed, ==, 0);
    LDS_CHECK_INT(unclear, ==, 0);
    for (size_t i = 0; i < model_count; i++) {
        free(models[i].path);
        free(models[i].message);
    }
    free(models);
    return lds_test_result();
}
