/* test_service_e2e.c: `lodestone serve` with the real pipeline and the real notary, its own
 * embedded Redis under a private LODESTONE_HOME in the build tree.
 *
 * 8 uploads are acknowledged, then everything is killed -9 at once (serve, its workers and notary,
 * and Redis); serve is started again and every upload must end ready with exactly one log entry
 * each (tree size 8). On the way a worker is killed -9 in the middle of a job (its job is
 * reclaimed and completes once). Then the LODs must validate (Khronos validator),
 * every certificate must verify (signature, log inclusion), and SIGTERM must stop serve and its Redis. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "testlib.h"

#define UPLOADS 8

static char home[1024], url[1200];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A UV sphere with its own resolution and squash, so that every model is distinct. */
static void write_sphere(const char *path, int stacks, int slices, double squash)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        exit(1);
    }
    for (int i = 0; i <= stacks; i++) {
        double th = M_PI * i / stacks;
        for (int j = 0; j < slices; j++) {
            double ph = 2 * M_PI * j / slices;
            fprintf(f, "v %.6f %.6f %.6f\n", sin(th) * cos(ph), squash * cos(th), sin(th) * sin(ph));
        }
    }
    for (int i = 0; i < stacks; i++)
        for (int j = 0; j < slices; j++) {
            int a = i * slices + j + 1, b = i * slices + (j + 1) % slices + 1, c = a + slices, d = b + slices;
            fprintf(f, "f %d %d %d\nf %d %d %d\n", a, c, b, b, c, d);
        }
    fclose(f);
}

static pid_t start_serve(const char *log_name)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0); /* one group: serve, its pool, workers and notary (Redis has its own) */
        char log_path[1200];
        snprintf(log_path, sizeof(log_path), "%s/%s", home, log_name);
        if (freopen(log_path, "w", stderr) == NULL)
            _exit(126);
        execl(lds_test_bin(), "lodestone", "serve", "--workers", "2", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

static lds_redis *wait_redis(void)
{
    for (int i = 0; i < 300; i++) {
        lds_redis *r = NULL;
        lds_error err;
        lds_error_clear(&err);
        if (lds_redis_connect(url, &r, &err) == LDS_OK) {
            if (lds_redis_command(r, NULL, &err, "PING") == LDS_OK)
                return r;
            lds_redis_close(r);
        }
        sleep_ms(100);
    }
    fprintf(stderr, "redis never came up on %s\n", url);
    exit(1);
}

static long long redis_pid(lds_redis *r)
{
    lds_redis_reply *reply = NULL;
    long long pid = 0;
    if (lds_redis_command(r, &reply, NULL, "INFO server") == LDS_OK && reply->str) {
        const char *p = strstr(reply->str, "process_id:");
        if (p)
            pid = atoll(p + strlen("process_id:"));
    }
    lds_redis_reply_free(reply);
    return pid;
}

/* Kills -9 the worker holding a job, if one is in flight within ~10 s. Returns 1 if it did. */
static int kill_a_busy_worker(lds_redis *r)
{
    for (int i = 0; i < 200; i++) {
        json_t *stats = NULL;
        if (lds_queue_stats(r, &stats, NULL) == LDS_OK) {
            json_t *first = json_array_get(json_object_get(stats, "in_flight"), 0);
            const char *consumer = json_string_value(json_object_get(first, "consumer"));
            const char *dash = consumer ? strrchr(consumer, '-') : NULL;
            if (dash && atoi(dash + 1) > 0) {
                int pid = atoi(dash + 1);
                fprintf(stderr, "killing worker %d mid-job %s\n", pid,
                        json_string_value(json_object_get(first, "job")));
                kill(pid, SIGKILL);
                json_decref(stats);
                return 1;
            }
        }
        json_decref(stats);
        sleep_ms(50);
    }
    return 0;
}

int main(void)
{
    lds_test_service_env("service_e2e", home, sizeof(home), url, sizeof(url));
    setenv("LODESTONE_VISIBILITY_MS", "3000", 1);
    setenv("LODESTONE_NOTARY_LEASE_MS", "2000", 1);
    lds_error err;
    lds_error_clear(&err);

    char paths[UPLOADS][1200];
    for (int i = 0; i < UPLOADS; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/model%d.obj", home, i);
        write_sphere(paths[i], 40 + 10 * i, 60 + 8 * i, 1.0 + 0.1 * i);
    }

    /* Round 1: accept 8 uploads, then kill everything -9. */
    pid_t serve = start_serve("serve1.log");
    lds_redis *r = wait_redis();
    char assets[UPLOADS][LDS_ID_MAX], jobs[UPLOADS][LDS_ID_MAX];
    for (int i = 0; i < UPLOADS; i++) {
        const char *one[1] = {paths[i]};
        json_t *metadata = json_pack("{s:s, s:s, s:s}", "title", lds_path_basename(paths[i]), "license", "CC-BY-4.0",
                                     "owner", "tester");
        LDS_CHECK_OK(lds_assets_submit_paths(r, NULL, one, 1, metadata, "key-e2e", assets[i], jobs[i], &err), &err);
        json_decref(metadata);
    }
    long long rpid = redis_pid(r);
    LDS_CHECK_INT(rpid, >, 0);
    kill(-serve, SIGKILL);
    if (rpid > 0)
        kill((pid_t)rpid, SIGKILL);
    waitpid(serve, NULL, 0);
    lds_redis_close(r);
    sleep_ms(200);

    /* Round 2: restart; a worker is killed mid-job; all 8 end ready. */
    serve = start_serve("serve2.log");
    r = wait_redis();
    int killed = kill_a_busy_worker(r);
    fprintf(stderr, "killed a worker mid-job: %s\n", killed ? "yes" : "no (all jobs were done already)");
    json_t *records[UPLOADS] = {0};
    for (int i = 0; i < UPLOADS; i++) {
        for (int t = 0; t < 900; t++) {
            json_t *record = NULL;
            if (lds_assets_get(r, assets[i], &record, NULL) == LDS_OK) {
                const char *status = json_string_value(json_object_get(record, "status"));
                if (status && (strcmp(status, "ready") == 0 || strcmp(status, "failed") == 0)) {
                    records[i] = record;
                    break;
                }
            }
            json_decref(record);
            sleep_ms(100);
        }
        LDS_CHECK(records[i] != NULL);
        if (records[i] == NULL)
            fprintf(stderr, "asset %s never finished\n", assets[i]);
    }
    int seen[UPLOADS] = {0};
    for (int i = 0; i < UPLOADS; i++) {
        if (records[i] == NULL)
            continue;
        LDS_CHECK_STR(json_string_value(json_object_get(records[i], "status")), "ready");
        json_t *index = json_object_get(json_object_get(records[i], "certificate"), "log_index");
        LDS_CHECK(json_is_integer(index));
        long long k = json_integer_value(index);
        LDS_CHECK(k >= 0 && k < UPLOADS);
        if (k >= 0 && k < UPLOADS)
            seen[k]++;
    }
    for (int k = 0; k < UPLOADS; k++)
        LDS_CHECK_INT(seen[k], ==, 1);
    /* The log holds exactly 8 entries: its checkpoint's tree size (second line of the note). */
    char *out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "'%s' log checkpoint", lds_test_bin()), ==, 0);
    const char *line2 = out ? strchr(out, '\n') : NULL;
    LDS_CHECK_INT(line2 ? atoll(line2 + 1) : -1, ==, UPLOADS);
    free(out);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' log verify >/dev/null", lds_test_bin()), ==, 0);

    /* Every LOD file validates; every certificate verifies against the model. */
    const char *glbs[64];
    char glb_paths[64][1400];
    size_t glb_count = 0;
    for (int i = 0; i < UPLOADS; i++) {
        if (records[i] == NULL)
            continue;
        json_t *outputs = json_object_get(records[i], "outputs");
        const char *name;
        json_t *blob;
        json_object_foreach(outputs, name, blob)
        {
            size_t n = strlen(name);
            if (n > 4 && strcmp(name + n - 4, ".glb") == 0 && strncmp(name, "lod0", 4) == 0 && glb_count < 64) {
                LDS_CHECK_OK(lds_blob_locate(NULL, json_string_value(blob), glb_paths[glb_count], 1400, NULL, NULL,
                                             &err),
                             &err);
                glbs[glb_count] = glb_paths[glb_count];
                glb_count++;
            }
        }
        char cert[LDS_SHA256_HEX], cert_path[1400];
        LDS_CHECK_OK(lds_assets_output(r, assets[i], "certificate.json", cert, &err), &err);
        LDS_CHECK_OK(lds_blob_locate(NULL, cert, cert_path, sizeof(cert_path), NULL, NULL, &err), &err);
        LDS_CHECK_INT(lds_test_run(NULL, "'%s' verify '%s' >/dev/null", lds_test_bin(), cert_path), ==, 0);
    }
    LDS_CHECK_INT(glb_count, ==, 3 * UPLOADS);
    lds_test_check_valid_glb(glbs, glb_count);
    json_t *stats = NULL;
    LDS_CHECK_OK(lds_queue_stats(r, &stats, &err), &err);
    LDS_CHECK_INT(json_integer_value(json_object_get(stats, "dead")), ==, 0);
    json_t *durations = json_object_get(stats, "durations");
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(durations, "job"), "count")), >=, UPLOADS);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(durations, "lods"), "count")), >=, UPLOADS);
    char *text = json_dumps(durations, JSON_COMPACT);
    fprintf(stderr, "durations: %s\n", text ? text : "");
    free(text);
    json_decref(stats);

    /* Reprocess everything at low priority through the ops command; each new certificate is a new
     * log entry (tree size doubles) and verifies; the outputs were replaced. */
    char *rp = NULL;
    LDS_CHECK_INT(lds_test_run(&rp, "LODESTONE_REDIS_URL='%s' '%s' reprocess --all --wait --json 2>/dev/null", url,
                               lds_test_bin()),
                  ==, 0);
    json_t *rpj = rp ? json_loads(rp, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    LDS_CHECK_INT(json_integer_value(json_object_get(rpj, "queued")), ==, UPLOADS);
    json_decref(rpj);
    free(rp);
    for (int i = 0; i < UPLOADS; i++) {
        json_t *after = NULL;
        LDS_CHECK_OK(lds_assets_get(r, assets[i], &after, &err), &err);
        LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(after, "reprocess"), "status")), "done");
        const char *old_cert = json_string_value(json_object_get(json_object_get(records[i], "certificate"), "blob"));
        const char *new_cert = json_string_value(json_object_get(json_object_get(after, "certificate"), "blob"));
        LDS_CHECK(old_cert && new_cert && strcmp(old_cert, new_cert) != 0);
        char cert_path[1400];
        if (new_cert && lds_blob_locate(NULL, new_cert, cert_path, sizeof(cert_path), NULL, NULL, &err) == LDS_OK)
            LDS_CHECK_INT(lds_test_run(NULL, "'%s' verify '%s' >/dev/null", lds_test_bin(), cert_path), ==, 0);
        json_decref(after);
    }
    out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "'%s' log checkpoint", lds_test_bin()), ==, 0);
    line2 = out ? strchr(out, '\n') : NULL;
    LDS_CHECK_INT(line2 ? atoll(line2 + 1) : -1, ==, 2 * UPLOADS);
    free(out);
    for (int i = 0; i < UPLOADS; i++)
        json_decref(records[i]);

    /* SIGTERM stops serve, its workers and its Redis. */
    lds_redis_close(r);
    kill(serve, SIGTERM);
    int st = 0;
    waitpid(serve, &st, 0);
    LDS_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    lds_redis *gone = NULL;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_redis_connect(url, &gone, &err), ==, LDS_EUNAVAIL);
    lds_redis_close(gone);
    return lds_test_result();
}
