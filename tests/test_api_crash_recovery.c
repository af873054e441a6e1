/* test_api_crash_recovery.c: durability of acknowledged uploads through real crashes.
 * 1. Eight uploads are acknowledged (202); while jobs are in flight the whole process tree is
 *    killed -9 at once: `lodestone serve`, its worker pool, the workers, the notary, and the
 *    redis-server. Redis (same AOF directory) and serve are restarted: all eight assets end
 *    ready with exactly one log entry each (tree size 8, distinct indexes, `lodestone log
 *    verify` and every certificate verify).
 * 2. One worker is killed -9 in the middle of a job (found as the consumer holding the job in
 *    /v1/ops/queues, checked to be a child of serve's pool): the job is reclaimed after the
 *    visibility timeout (LODESTONE_VISIBILITY_MS=3000 here) and completes exactly once. */
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>

#include "ingest.h"
#include "test_api_lib.h"

#define UPLOADS 8

static api_env env;

static pid_t parent_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char buf[512];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* after "pid (comm)" */
    int ppid = -1;
    if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
        return -1;
    return (pid_t)ppid;
}

static json_t *queues(const char *ops)
{
    api_resp r;
    json_t *j = api_curl(&env, &r, ops, "'%s/v1/ops/queues'", env.base) == 200 ? api_json(&r) : NULL;
    api_resp_free(&r);
    return j;
}

static long long counter(json_t *stats, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(stats, "counters"), name));
}

/* Waits for every asset to be ready; checks tree size, distinct log indexes, certificates. */
static void check_all_ready(const char *key, char ids[][LDS_ID_MAX], int count, long want_tree)
{
    int seen[64] = {0};
    char pub[1200];
    snprintf(pub, sizeof(pub), "%s/keys/notary.pub", env.home);
    for (int i = 0; i < count; i++) {
        json_t *record = api_wait_asset(&env, key, ids[i], 90, NULL);
        const char *status = json_string_value(json_object_get(record, "status"));
        LDS_CHECK_STR(status, "ready");
        if (status && strcmp(status, "ready") != 0)
            fprintf(stderr, "asset %s: %s\n", ids[i], json_dumps(record, JSON_COMPACT));
        json_decref(record);
        api_resp r;
        LDS_CHECK_INT(api_curl(&env, &r, key, "'%s/v1/assets/%s/certificate'", env.base, ids[i]), ==, 200);
        json_t *cert = api_json(&r);
        json_t *index = json_object_get(json_object_get(cert, "log"), "index");
        LDS_CHECK(json_is_integer(index));
        if (json_is_integer(index) && json_integer_value(index) >= 0 && json_integer_value(index) < 64)
            seen[json_integer_value(index)]++;
        json_decref(cert);
        char path[1200];
        snprintf(path, sizeof(path), "%s/cert%d.json", env.dir, i);
        lds_error err;
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_file_write_atomic(path, r.body ? r.body : "", r.size, &err), &err);
        LDS_CHECK_INT(lds_test_run(NULL, "'%s' verify '%s' --key '%s' >/dev/null 2>&1", lds_test_bin(), path, pub), ==,
                      0);
        api_resp_free(&r);
    }
    LDS_CHECK_INT(api_tree_size(&env), ==, want_tree);
    for (long i = 0; i < want_tree && i < 64; i++)
        if (seen[i] > 1)
            LDS_CHECK_INT(seen[i], ==, 1);
    char *out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "'%s' log verify 2>&1", lds_test_bin()), ==, 0);
    printf("log verify: %s", out ? out : "");
    free(out);
}

int main(void)
{
    api_env_init(&env, "api_crash_recovery");
    static const char visibility[] = "LODESTONE_VISIBILITY_MS=3000";
    env.serve_env[0] = visibility;
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char modeler[128], ops[128];
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);

    /* ---- 1. kill -9 of everything with acknowledged uploads in flight ---- */
    char ids[UPLOADS][LDS_ID_MAX];
    for (int i = 0; i < UPLOADS; i++) {
        char path[1200], name[64];
        snprintf(name, sizeof(name), "crash%d.ply", i);
        snprintf(path, sizeof(path), "%s/%s", env.dir, name);
        LDS_CHECK_INT(api_write_sphere(path, 200 + (unsigned)i, 110), ==, 0);
        ids[i][0] = 0;
        LDS_CHECK_INT(api_upload(&env, modeler, path, name, ids[i], NULL), ==, 202);
    }
    /* a job is claimed (the workers started at once; this only makes sure) */
    json_t *stats = NULL;
    for (int i = 0; i < 300; i++) {
        json_decref(stats);
        stats = queues(ops);
        if (json_integer_value(json_object_get(stats, "in_flight_total")) > 0)
            break;
        api_sleep_ms(50);
    }
    long long done_before = counter(stats, "completed");
    printf("killing everything with %lld in flight, %lld of %d completed\n",
           (long long)json_integer_value(json_object_get(stats, "in_flight_total")), done_before, UPLOADS);
    if (done_before >= UPLOADS)
        printf("note: every job finished before the kill; the restart is checked all the same\n");
    json_decref(stats);
    api_serve_kill9(&env);
    api_redis_kill9(&env);

    LDS_CHECK_INT(api_redis_start(&env), ==, 0);
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    check_all_ready(modeler, ids, UPLOADS, UPLOADS);

    /* ---- 2. kill -9 of one worker in the middle of a job ---- */
    stats = queues(ops);
    long long completed = counter(stats, "completed");
    json_decref(stats);
    char heavy[1200], heavy_id[LDS_ID_MAX] = "";
    snprintf(heavy, sizeof(heavy), "%s/heavy.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(heavy, 999, 260), ==, 0); /* ~270k triangles: a job of seconds */
    LDS_CHECK_INT(api_upload(&env, modeler, heavy, "heavy.ply", heavy_id, NULL), ==, 202);
    pid_t victim = 0;
    for (int i = 0; i < 600 && victim == 0; i++) {
        stats = queues(ops);
        size_t k;
        json_t *item;
        json_array_foreach(json_object_get(stats, "in_flight"), k, item)
        {
            const char *asset = json_string_value(json_object_get(item, "asset"));
            const char *consumer = json_string_value(json_object_get(item, "consumer"));
            const char *dash = consumer ? strrchr(consumer, '-') : NULL;
            if (asset && strcmp(asset, heavy_id) == 0 && dash)
                victim = (pid_t)atol(dash + 1);
        }
        json_decref(stats);
        if (victim == 0)
            api_sleep_ms(50);
    }
    LDS_CHECK(victim > 0);
    if (victim > 0) {
        pid_t pool = parent_of(victim);
        LDS_CHECK(pool > 0 && parent_of(pool) == env.serve_pid); /* a worker of serve's pool */
        if (pool > 0 && parent_of(pool) == env.serve_pid) {
            printf("killing worker %d (pool %d) in the middle of %s\n", (int)victim, (int)pool, heavy_id);
            LDS_CHECK_INT(kill(victim, SIGKILL), ==, 0);
        }
    }
    json_t *record = api_wait_asset(&env, modeler, heavy_id, 90, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_decref(record);
    api_sleep_ms(500); /* a duplicate completion, if any, would show up here */
    stats = queues(ops);
    LDS_CHECK_INT(counter(stats, "completed"), ==, completed + 1);
    LDS_CHECK_INT(json_integer_value(json_object_get(stats, "in_flight_total")), ==, 0);
    LDS_CHECK_INT(json_integer_value(json_object_get(stats, "dead")), ==, 0);
    json_decref(stats);
    LDS_CHECK_INT(api_tree_size(&env), ==, UPLOADS + 1);
    char *out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "'%s' log verify 2>&1", lds_test_bin()), ==, 0);
    free(out);
    char log[1200];
    snprintf(log, sizeof(log), "grep -c 'killed by signal' '%s/serve.log'", env.dir);
    LDS_CHECK_INT(lds_test_run(NULL, "%s >/dev/null", log), ==, 0); /* the pool saw it and restarted it */
    api_env_stop(&env);
    return lds_test_result();
}
