/* test_service_corpus.c: the shared corpus through `lodestone serve` (2 workers, embedded Redis):
 * every model (spot with its .mtl and texture as one multi-file upload) must end ready, and the
 * test prints the uploads per minute the service sustained (a measurement, not an assertion).
 * Skipped when the corpus is absent. Label slow. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "testlib.h"

#define MAX_UPLOADS 32

static char home[1024], url[1200];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void)
{
    char corpus[1024];
    if (lds_test_shared("corpus", corpus, sizeof(corpus)) == NULL)
        lds_test_skip("the shared corpus is not there");
    lds_test_service_env("service_corpus", home, sizeof(home), url, sizeof(url));
    const char *workers = getenv("LDS_TEST_WORKERS") ? getenv("LDS_TEST_WORKERS") : "2";

    /* The uploads: each scan and remeshed model alone, spot with its sidecars. */
    char files[MAX_UPLOADS][3][1500];
    size_t counts[MAX_UPLOADS], uploads = 0;
    const char *dirs[2] = {"scans", "remeshed/homer"};
    for (int d = 0; d < 2; d++) {
        char dir[1100];
        snprintf(dir, sizeof(dir), "%s/%s", corpus, dirs[d]);
        DIR *dp = opendir(dir);
        struct dirent *e;
        while (dp && (e = readdir(dp)) != NULL && uploads < MAX_UPLOADS) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(files[uploads][0], sizeof(files[0][0]), "%s/%s", dir, e->d_name);
            counts[uploads++] = 1;
        }
        if (dp)
            closedir(dp);
    }
    snprintf(files[uploads][0], sizeof(files[0][0]), "%s/textured/spot/spot.obj", corpus);
    snprintf(files[uploads][1], sizeof(files[0][0]), "%s/textured/spot/spot.mtl", corpus);
    snprintf(files[uploads][2], sizeof(files[0][0]), "%s/textured/spot/spot_texture.png", corpus);
    counts[uploads++] = 3;

    pid_t serve = fork();
    if (serve == 0) {
        char log_path[1200];
        snprintf(log_path, sizeof(log_path), "%s/serve.log", home);
        if (freopen(log_path, "w", stderr) == NULL)
            _exit(126);
        execl(lds_test_bin(), "lodestone", "serve", "--workers", workers, (char *)NULL);
        _exit(127);
    }
    lds_redis *r = NULL;
    for (int i = 0; i < 300 && r == NULL; i++) {
        lds_error e;
        lds_error_clear(&e);
        if (lds_redis_connect(url, &r, &e) != LDS_OK || lds_redis_command(r, NULL, &e, "PING") != LDS_OK) {
            lds_redis_close(r);
            r = NULL;
            sleep_ms(100);
        }
    }
    if (r == NULL) {
        kill(serve, SIGTERM);
        waitpid(serve, NULL, 0);
        fprintf(stderr, "redis never came up\n");
        return 1;
    }
    lds_error err;
    lds_error_clear(&err);
    char assets[MAX_UPLOADS][LDS_ID_MAX], jobs[MAX_UPLOADS][LDS_ID_MAX];
    double start = lds_time_ms();
    for (size_t i = 0; i < uploads; i++) {
        const char *paths[3] = {files[i][0], files[i][1], files[i][2]};
        json_t *metadata = json_pack("{s:s, s:s}", "title", lds_path_basename(files[i][0]), "license", "CC0-1.0");
        LDS_CHECK_OK(lds_assets_submit_paths(r, NULL, paths, counts[i], metadata, "corpus", assets[i], jobs[i], &err),
                     &err);
        json_decref(metadata);
    }
    double accepted = lds_time_ms();
    size_t ready = 0;
    int finished[MAX_UPLOADS] = {0};
    for (int t = 0; t < 3000 && ready < uploads; t++) {
        for (size_t i = 0; i < uploads; i++) {
            if (finished[i])
                continue;
            json_t *record = NULL;
            if (lds_assets_get(r, assets[i], &record, NULL) == LDS_OK) {
                const char *status = json_string_value(json_object_get(record, "status"));
                if (status && (strcmp(status, "ready") == 0 || strcmp(status, "failed") == 0)) {
                    finished[i] = 1;
                    ready++;
                    if (strcmp(status, "ready") != 0)
                        fprintf(stderr, "%s: %s\n", files[i][0],
                                json_string_value(json_object_get(json_object_get(record, "error"), "message")));
                    LDS_CHECK_STR(status, "ready");
                }
            }
            json_decref(record);
        }
        sleep_ms(50);
    }
    double done = lds_time_ms();
    LDS_CHECK_INT(ready, ==, uploads);
    printf("corpus: %zu uploads accepted in %.0f ms, all finished in %.0f ms with %s workers: %.1f uploads/min\n",
           uploads, accepted - start, done - start, workers, uploads * 60000.0 / (done - start));
    json_t *spot = NULL;
    LDS_CHECK_OK(lds_assets_get(r, assets[uploads - 1], &spot, &err), &err);
    LDS_CHECK_INT(json_array_size(json_object_get(spot, "files")), ==, 3);
    json_decref(spot);
    lds_redis_close(r);
    kill(serve, SIGTERM);
    int st = 0;
    waitpid(serve, &st, 0);
    LDS_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return lds_test_result();
}
