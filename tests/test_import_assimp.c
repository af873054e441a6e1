/* test_import_assimp.c: every model of Debian's assimp-testmodels (outside invalid/) that Assimp
 * itself imports with at least one triangle goes through lds_mesh_import_file without a crash,
 * and at least 95% succeed; the failures are printed with their messages. Each model runs in a
 * forked child so a crash (ours or Assimp's) is counted, not fatal, and a hang is cut at 60 s. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "import_internal.h"
#include "mesh.h"
#include "testlib.h"

static char **paths;
static size_t path_count, path_capacity;

static int collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    if (type != FTW_F || strstr(path, "/invalid/") != NULL)
        return 0;
    if (path_count == path_capacity) {
        path_capacity = path_capacity ? 2 * path_capacity : 256;
        paths = realloc(paths, path_capacity * sizeof(char *));
    }
    paths[path_count++] = strdup(path);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Child: 2 = Assimp itself reads no triangles (not counted), 0 = imported, 1 = failed. */
static int run_one(const char *path, int fd)
{
    uint64_t triangles = 0, vertices = 0;
    if (lds_import_assimp_reference(path, &triangles, &vertices) != LDS_OK || triangles == 0)
        return 2;
    lds_mesh_model *model = NULL;
    lds_error err;
    lds_error_clear(&err);
    lds_status st = lds_mesh_import_file(path, 0, NULL, &model, &err);
    char line[1024];
    int n = st == LDS_OK ? snprintf(line, sizeof(line), "%llu %zu", (unsigned long long)triangles,
                                    lds_mesh_triangle_count(model))
                         : snprintf(line, sizeof(line), "%s", err.message);
    if (write(fd, line, (size_t)n) < 0)
        return 1;
    lds_mesh_model_destroy(model);
    return st == LDS_OK ? 0 : 1;
}

int main(void)
{
    if (access(LDS_ASSIMP_MODELS, R_OK) != 0)
        lds_test_skip("assimp-testmodels is not installed");
    nftw(LDS_ASSIMP_MODELS, collect, 16, FTW_PHYS);
    qsort(paths, path_count, sizeof(char *), by_name);
    size_t eligible = 0, passed = 0, crashed = 0;
    for (size_t i = 0; i < path_count; i++) {
        int pipefd[2];
        if (pipe(pipefd) != 0)
            return 1;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(pipefd[0]);
            alarm(60);
            _exit(run_one(paths[i], pipefd[1]));
        }
        close(pipefd[1]);
        char message[1100] = "";
        size_t got = 0;
        ssize_t r;
        while (got < sizeof(message) - 1 && (r = read(pipefd[0], message + got, sizeof(message) - 1 - got)) > 0)
            got += (size_t)r;
        message[got] = '\0';
        close(pipefd[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
            continue;
        eligible++;
        const char *rel = paths[i] + strlen(LDS_ASSIMP_MODELS) + 1;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            passed++;
            continue;
        }
        if (WIFSIGNALED(status)) {
            crashed++;
            printf("CRASH %s: signal %d%s\n", rel, WTERMSIG(status), WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
        } else {
            printf("FAIL  %s: %s\n", rel, message);
        }
    }
    double rate = eligible ? 100.0 * (double)passed / (double)eligible : 0.0;
    printf("assimp-testmodels: %zu files, %zu that Assimp reads with triangles, %zu imported (%.1f%%), %zu crashed\n",
           path_count, eligible, passed, rate, crashed);
    LDS_CHECK(eligible > 100);
    LDS_CHECK(rate >= 95.0);
    LDS_CHECK_INT(crashed, ==, 0);
    for (size_t i = 0; i < path_count; i++)
        free(paths[i]);
    free(paths);
    return lds_test_result();
}
