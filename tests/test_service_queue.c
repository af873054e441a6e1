/* test_service_queue.c: the blob store and the job queue against a real redis-server that the test
 * starts on a private Unix socket under the build tree (skipped when redis-server is missing).
 * Cases: blob round trip and corruption; enqueue/claim/ack; a job held by a killed consumer is
 * reclaimed; heartbeats keep a job; retry with backoff, dead letter, `lodestone queue retry` round
 * trip; priorities; Redis killed and restarted keeps every acknowledged write (AOF). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "testlib.h"

static char home[1024];
static char url[1200];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static lds_redis *connect_or_die(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_redis *r = NULL;
    if (lds_redis_connect(url, &r, &err) != LDS_OK) {
        fprintf(stderr, "connect %s: %s\n", url, err.message);
        exit(1);
    }
    return r;
}

static lds_job make_job(const char *asset, lds_queue_priority priority)
{
    lds_job job;
    memset(&job, 0, sizeof(job));
    snprintf(job.asset_id, sizeof(job.asset_id), "%s", asset);
    job.priority = priority;
    job.kind = priority == LDS_QUEUE_LOW ? LDS_JOB_REPROCESS : LDS_JOB_UPLOAD;
    snprintf(job.time, sizeof(job.time), "2026-01-01T00:00:00Z");
    return job;
}

static long long stat_of(lds_redis *r, const char *path1, const char *path2)
{
    lds_error err;
    lds_error_clear(&err);
    json_t *stats = NULL;
    LDS_CHECK_OK(lds_queue_stats(r, &stats, &err), &err);
    json_t *v = json_object_get(stats, path1);
    if (path2)
        v = json_object_get(v, path2);
    long long n = json_integer_value(v);
    json_decref(stats);
    return n;
}

static void test_blobs(void)
{
    lds_error err;
    lds_error_clear(&err);
    char root[1100];
    snprintf(root, sizeof(root), "%s/blobs", home);
    /* 3 MB of compressible but not trivial bytes, streamed from a file. */
    size_t size = 3u << 20;
    unsigned char *data = malloc(size);
    for (size_t i = 0; i < size; i++)
        data[i] = (unsigned char)((i * 2654435761u) >> 13) & 0x3f;
    char src[1200];
    snprintf(src, sizeof(src), "%s/source.bin", home);
    LDS_CHECK_OK(lds_file_write_atomic(src, data, size, &err), &err);
    unsigned char digest[LDS_SHA256_BYTES];
    char expect[LDS_SHA256_HEX];
    lds_sha256_buffer(data, size, digest);
    lds_hex_encode(digest, sizeof(digest), expect);

    for (int compress = 0; compress < 2; compress++) {
        char id[LDS_SHA256_HEX];
        uint64_t got_size = 0;
        LDS_CHECK_OK(lds_blob_put_file(root, src, compress ? LDS_BLOB_COMPRESS : 0, id, &got_size, &err), &err);
        LDS_CHECK_STR(id, expect);
        LDS_CHECK_INT(got_size, ==, size);
        char path[1400];
        int compressed = -1;
        uint64_t stored = 0;
        LDS_CHECK_OK(lds_blob_locate(root, id, path, sizeof(path), &compressed, &stored, &err), &err);
        LDS_CHECK_INT(compressed, ==, 0); /* the raw copy of round 0 serves both */
        unsigned char *back = NULL;
        size_t back_size = 0;
        LDS_CHECK_OK(lds_blob_get_buffer(root, id, 0, &back, &back_size, &err), &err);
        LDS_CHECK_INT(back_size, ==, size);
        LDS_CHECK(back && memcmp(back, data, size) == 0);
        free(back);
    }
    /* A compressed-only blob: stored smaller, read back identical, checked on length and hash. */
    data[0] ^= 1;
    char zid[LDS_SHA256_HEX];
    LDS_CHECK_OK(lds_blob_put_buffer(root, data, size, LDS_BLOB_COMPRESS, zid, &err), &err);
    char zpath[1400];
    int compressed = 0;
    uint64_t stored = 0;
    LDS_CHECK_OK(lds_blob_locate(root, zid, zpath, sizeof(zpath), &compressed, &stored, &err), &err);
    LDS_CHECK_INT(compressed, ==, 1);
    LDS_CHECK_INT(stored, <, size / 2);
    char dest[1200];
    snprintf(dest, sizeof(dest), "%s/copy.bin", home);
    LDS_CHECK_OK(lds_blob_get_file(root, zid, size, dest, &err), &err);
    unsigned char *copy = NULL;
    size_t copy_size = 0;
    LDS_CHECK_OK(lds_file_read(dest, 0, &copy, &copy_size, &err), &err);
    LDS_CHECK(copy_size == size && memcmp(copy, data, size) == 0);
    free(copy);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_blob_get_file(root, zid, size + 1, dest, &err), ==, LDS_EVERIFY);
    /* Flip a byte of a raw blob on disk: the read must say so. */
    char rpath[1400];
    LDS_CHECK_OK(lds_blob_locate(root, expect, rpath, sizeof(rpath), NULL, NULL, &err), &err);
    chmod(rpath, 0644);
    int fd = open(rpath, O_RDWR);
    unsigned char byte = 0x55;
    LDS_CHECK(fd >= 0 && pwrite(fd, &byte, 1, 1000) == 1);
    close(fd);
    lds_error_clear(&err);
    unsigned char *bad = NULL;
    size_t bad_size = 0;
    LDS_CHECK_INT(lds_blob_get_buffer(root, expect, 0, &bad, &bad_size, &err), ==, LDS_EVERIFY);
    LDS_CHECK(strstr(err.message, "corrupt") != NULL);
    free(bad);
    /* No temp file is left behind. */
    char *out = NULL;
    lds_test_run(&out, "ls -A '%s/tmp' | wc -l", root);
    LDS_CHECK_INT(atoi(out ? out : "-1"), ==, 0);
    free(out);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_blob_locate(root, "00", zpath, sizeof(zpath), NULL, NULL, &err), ==, LDS_EINVAL);
    /* The push-style writer (HTTP uploads): pieces in, the same id as a one-shot put. */
    lds_blob_writer *w = NULL;
    LDS_CHECK_OK(lds_blob_writer_create(root, LDS_BLOB_COMPRESS, size, &w, &err), &err);
    for (size_t off = 0; w && off < size; off += 65521)
        LDS_CHECK_OK(lds_blob_writer_write(w, data + off, off + 65521 < size ? 65521 : size - off, &err), &err);
    char wid[LDS_SHA256_HEX];
    uint64_t wsize = 0;
    if (w)
        LDS_CHECK_OK(lds_blob_writer_finish(w, wid, &wsize, &err), &err);
    LDS_CHECK_STR(wid, zid);
    LDS_CHECK_INT(wsize, ==, size);
    /* Over its cap: ELIMIT, and abort leaves nothing behind. */
    LDS_CHECK_OK(lds_blob_writer_create(root, 0, 1000, &w, &err), &err);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_blob_writer_write(w, data, 1001, &err), ==, LDS_ELIMIT);
    lds_blob_writer_abort(w);
    out = NULL;
    lds_test_run(&out, "ls -A '%s/tmp' | wc -l", root);
    LDS_CHECK_INT(atoi(out ? out : "-1"), ==, 0);
    free(out);
    free(data);
}

static void test_enqueue_claim_ack(lds_redis *r, const lds_queue_config *config)
{
    lds_error err;
    lds_error_clear(&err);
    lds_job job = make_job("a_one", LDS_QUEUE_HIGH);
    LDS_CHECK_OK(lds_queue_enqueue(r, &job, &err), &err);
    LDS_CHECK(strncmp(job.id, "j_", 2) == 0);
    LDS_CHECK_INT(stat_of(r, "in_flight_total", NULL), ==, 0);
    lds_job_claim claim;
    int claimed = 0;
    LDS_CHECK_OK(lds_queue_claim(r, config, "consumer-a", 0, &claim, &claimed, &err), &err);
    LDS_CHECK_INT(claimed, ==, 1);
    LDS_CHECK_STR(claim.job.id, job.id);
    LDS_CHECK_STR(claim.job.asset_id, "a_one");
    LDS_CHECK_STR(claim.job.time, "2026-01-01T00:00:00Z");
    LDS_CHECK_INT(stat_of(r, "in_flight_total", NULL), ==, 1);
    int again = 0;
    lds_job_claim other;
    LDS_CHECK_OK(lds_queue_claim(r, config, "consumer-b", 0, &other, &again, &err), &err);
    LDS_CHECK_INT(again, ==, 0);
    LDS_CHECK_OK(lds_queue_ack(r, &claim, &err), &err);
    LDS_CHECK_INT(stat_of(r, "in_flight_total", NULL), ==, 0);
    json_t *stats = NULL;
    LDS_CHECK_OK(lds_queue_stats(r, &stats, &err), &err);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(stats, "streams"), "high"),
                                                     "depth")),
                  ==, 0);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(stats, "counters"), "completed")), ==, 1);
    json_decref(stats);
}

/* A child process claims a job and is killed -9; the job comes back to another consumer. */
static void test_reclaim_killed(lds_redis *r)
{
    lds_error err;
    lds_error_clear(&err);
    lds_queue_config config;
    lds_queue_config_init(&config);
    config.visibility_ms = 300;
    lds_job job = make_job("a_killed", LDS_QUEUE_HIGH);
    LDS_CHECK_OK(lds_queue_enqueue(r, &job, &err), &err);
    int pipefd[2];
    LDS_CHECK(pipe(pipefd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        lds_redis *mine = connect_or_die();
        lds_job_claim claim;
        int claimed = 0;
        lds_error e;
        lds_error_clear(&e);
        lds_queue_claim(mine, &config, "doomed", 0, &claim, &claimed, &e);
        char c = claimed ? 'y' : 'n';
        if (write(pipefd[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c = 0;
    LDS_CHECK(read(pipefd[0], &c, 1) == 1);
    LDS_CHECK(c == 'y');
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pipefd[0]);
    close(pipefd[1]);
    lds_job_claim claim;
    int claimed = 0;
    for (int i = 0; i < 200 && !claimed; i++) {
        LDS_CHECK_OK(lds_queue_claim(r, &config, "survivor", 0, &claim, &claimed, &err), &err);
        if (!claimed)
            sleep_ms(100);
    }
    LDS_CHECK_INT(claimed, ==, 1);
    LDS_CHECK_STR(claim.job.id, job.id);
    LDS_CHECK_INT(claim.reclaimed, ==, 1);
    LDS_CHECK_INT(claim.deliveries, ==, 2);
    /* Heartbeats keep it: another consumer does not get it while the holder beats. */
    config.visibility_ms = 3000;
    for (int i = 0; i < 40; i++) {
        int owned = 0;
        LDS_CHECK_OK(lds_queue_heartbeat(r, &claim, &owned, &err), &err);
        LDS_CHECK_INT(owned, ==, 1);
        sleep_ms(100);
    }
    lds_job_claim stolen;
    int got = 0;
    LDS_CHECK_OK(lds_queue_claim(r, &config, "thief", 0, &stolen, &got, &err), &err);
    LDS_CHECK_INT(got, ==, 0);
    LDS_CHECK_OK(lds_queue_ack(r, &claim, &err), &err);
}

static void test_retry_dead(lds_redis *r)
{
    lds_error err;
    lds_error_clear(&err);
    lds_queue_config config;
    lds_queue_config_init(&config);
    config.max_attempts = 3;
    config.backoff_ms = 50;
    lds_job job = make_job("a_flaky", LDS_QUEUE_HIGH);
    LDS_CHECK_OK(lds_queue_enqueue(r, &job, &err), &err);
    int64_t expected_delay = 50;
    for (unsigned attempt = 0; attempt < 3; attempt++) {
        lds_job_claim claim;
        int claimed = 0;
        for (int i = 0; i < 200 && !claimed; i++) {
            LDS_CHECK_OK(lds_queue_promote(r, NULL, &err), &err);
            LDS_CHECK_OK(lds_queue_claim(r, &config, "w", 0, &claim, &claimed, &err), &err);
            if (!claimed)
                sleep_ms(20);
        }
        LDS_CHECK_INT(claimed, ==, 1);
        LDS_CHECK_INT(claim.job.attempt, ==, attempt);
        if (attempt > 0)
            LDS_CHECK_STR(claim.job.last_error_code, "EIO");
        lds_error failure;
        lds_error_clear(&failure);
        lds_error_set(&failure, LDS_EIO, "disk on fire (attempt %u)", attempt);
        int dead = -1;
        int64_t retry_ms = 0;
        LDS_CHECK_OK(lds_queue_fail(r, &config, &claim, &failure, 0, &dead, &retry_ms, &err), &err);
        LDS_CHECK_INT(dead, ==, attempt == 2);
        if (attempt < 2) {
            LDS_CHECK_INT(retry_ms, ==, expected_delay);
            LDS_CHECK_INT(stat_of(r, "delayed", NULL), ==, 1);
            expected_delay *= 2;
        }
    }
    LDS_CHECK_INT(stat_of(r, "dead", NULL), ==, 1);
    LDS_CHECK_INT(stat_of(r, "delayed", NULL), ==, 0);
    json_t *list = NULL;
    LDS_CHECK_OK(lds_queue_dead_list(r, 0, &list, &err), &err);
    LDS_CHECK_INT(json_array_size(list), ==, 1);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "job")), job.id);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "code")), "EIO");
    LDS_CHECK(strstr(json_string_value(json_object_get(json_array_get(list, 0), "message")), "attempt 2") != NULL);
    json_decref(list);

    /* The ops command line: `queue --json` shows it, `queue retry JOB` puts it back. */
    char *out = NULL;
    int rc = lds_test_run(&out, "LODESTONE_REDIS_URL='%s' '%s' queue --json", url, lds_test_bin());
    LDS_CHECK_INT(rc, ==, 0);
    json_t *shown = out ? json_loads(out, 0, NULL) : NULL;
    LDS_CHECK_INT(json_integer_value(json_object_get(shown, "dead")), ==, 1);
    LDS_CHECK_INT(json_array_size(json_object_get(shown, "dead_letters")), ==, 1);
    json_decref(shown);
    free(out);
    out = NULL;
    rc = lds_test_run(&out, "LODESTONE_REDIS_URL='%s' '%s' queue retry %s", url, lds_test_bin(), job.id);
    LDS_CHECK_INT(rc, ==, 0);
    free(out);
    LDS_CHECK_INT(stat_of(r, "dead", NULL), ==, 0);
    lds_job_claim claim;
    int claimed = 0;
    LDS_CHECK_OK(lds_queue_claim(r, &config, "w", 0, &claim, &claimed, &err), &err);
    LDS_CHECK_INT(claimed, ==, 1);
    LDS_CHECK_STR(claim.job.id, job.id);
    LDS_CHECK_INT(claim.job.attempt, ==, 0);
    /* A permanent failure goes straight to the dead letters; `queue drop --all` empties them. */
    lds_error failure;
    lds_error_clear(&failure);
    lds_error_set(&failure, LDS_EFORMAT, "not a model");
    int dead = 0;
    LDS_CHECK_OK(lds_queue_fail(r, &config, &claim, &failure, 1, &dead, NULL, &err), &err);
    LDS_CHECK_INT(dead, ==, 1);
    rc = lds_test_run(NULL, "LODESTONE_REDIS_URL='%s' '%s' queue drop --all", url, lds_test_bin());
    LDS_CHECK_INT(rc, ==, 0);
    LDS_CHECK_INT(stat_of(r, "dead", NULL), ==, 0);
    rc = lds_test_run(NULL, "LODESTONE_REDIS_URL='%s' '%s' queue retry j_nosuchjob 2>/dev/null", url, lds_test_bin());
    LDS_CHECK_INT(rc, ==, 1);
}

static void test_priorities(lds_redis *r, const lds_queue_config *config)
{
    lds_error err;
    lds_error_clear(&err);
    lds_job low = make_job("a_low", LDS_QUEUE_LOW);
    lds_job high1 = make_job("a_high1", LDS_QUEUE_HIGH);
    lds_job high2 = make_job("a_high2", LDS_QUEUE_HIGH);
    LDS_CHECK_OK(lds_queue_enqueue(r, &low, &err), &err);
    LDS_CHECK_OK(lds_queue_enqueue(r, &high1, &err), &err);
    LDS_CHECK_OK(lds_queue_enqueue(r, &high2, &err), &err);
    const char *order[3] = {"a_high1", "a_high2", "a_low"};
    for (int i = 0; i < 3; i++) {
        lds_job_claim claim;
        int claimed = 0;
        LDS_CHECK_OK(lds_queue_claim(r, config, "w", 100, &claim, &claimed, &err), &err);
        LDS_CHECK_INT(claimed, ==, 1);
        LDS_CHECK_STR(claim.job.asset_id, order[i]);
        LDS_CHECK_INT(claim.job.priority, ==, i == 2 ? LDS_QUEUE_LOW : LDS_QUEUE_HIGH);
        LDS_CHECK_OK(lds_queue_ack(r, &claim, &err), &err);
    }
}

/* Acknowledged writes survive kill -9 of Redis (appendfsync always). */
static lds_redis_server *test_restart(lds_redis *r, lds_redis_server *server, const lds_queue_config *config)
{
    lds_error err;
    lds_error_clear(&err);
    char path[1200];
    snprintf(path, sizeof(path), "%s/model.obj", home);
    const char *obj = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n";
    LDS_CHECK_OK(lds_file_write_atomic(path, obj, strlen(obj), &err), &err);
    char asset[LDS_ID_MAX], job[LDS_ID_MAX], blobs[1100];
    snprintf(blobs, sizeof(blobs), "%s/blobs", home);
    const char *paths[1] = {path};
    json_t *metadata = json_pack("{s:s, s:s}", "title", "Triangle", "license", "CC-BY-4.0");
    LDS_CHECK_OK(lds_assets_submit_paths(r, blobs, paths, 1, metadata, "key-1", asset, job, &err), &err);
    json_decref(metadata);
    for (int i = 0; i < 4; i++) {
        lds_job extra = make_job("a_more", LDS_QUEUE_LOW);
        LDS_CHECK_OK(lds_queue_enqueue(r, &extra, &err), &err);
    }
    lds_job_claim claim;
    int claimed = 0;
    LDS_CHECK_OK(lds_queue_claim(r, config, "holder", 0, &claim, &claimed, &err), &err);
    LDS_CHECK_STR(claim.job.asset_id, asset);

    kill(lds_redis_server_pid(server), SIGKILL);
    lds_redis_server_stop(server); /* reaps the killed server and frees */
    lds_redis_server *fresh = NULL;
    LDS_CHECK_OK(lds_redis_server_start(home, &fresh, &err), &err);
    /* The old connection reconnects on its own after one failed command. */
    lds_error_clear(&err);
    lds_redis_command(r, NULL, &err, "PING");
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_redis_command(r, NULL, &err, "PING"), &err);
    json_t *record = NULL;
    LDS_CHECK_OK(lds_assets_get(r, asset, &record, &err), &err);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "queued");
    LDS_CHECK_STR(json_string_value(json_object_get(record, "job")), job);
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(record, "metadata"), "title")), "Triangle");
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(record, "files"), 0), "name")),
                  "model.obj");
    json_decref(record);
    LDS_CHECK_INT(stat_of(r, "in_flight_total", NULL), ==, 1);
    json_t *stats = NULL;
    LDS_CHECK_OK(lds_queue_stats(r, &stats, &err), &err);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(stats, "streams"), "low"),
                                                     "depth")),
                  ==, 4);
    json_decref(stats);
    /* Consumers that hold nothing are pruned; the one holding a job is kept. */
    lds_job_claim held;
    int got = 0;
    lds_job keep = make_job("a_keep", LDS_QUEUE_HIGH);
    LDS_CHECK_OK(lds_queue_enqueue(r, &keep, &err), &err);
    LDS_CHECK_OK(lds_queue_claim(r, config, "keeper", 0, &held, &got, &err), &err);
    LDS_CHECK_OK(lds_queue_ack(r, &claim, &err), &err);
    size_t removed = 0;
    LDS_CHECK_OK(lds_queue_prune_consumers(r, 0, &removed, &err), &err);
    LDS_CHECK_INT(removed, >=, 3);
    lds_redis_reply *consumers = NULL;
    LDS_CHECK_OK(lds_redis_command(r, &consumers, &err, "XINFO CONSUMERS lds:{q}:jobs:high workers"), &err);
    LDS_CHECK_INT(consumers ? consumers->elements : 0, ==, 1);
    lds_redis_reply_free(consumers);
    LDS_CHECK_OK(lds_queue_ack(r, &held, &err), &err);
    json_t *ids = NULL;
    size_t total = 0;
    LDS_CHECK_OK(lds_assets_list(r, "key-1", 0, 10, &ids, &total, &err), &err);
    LDS_CHECK_INT(total, ==, 1);
    LDS_CHECK_STR(json_string_value(json_array_get(ids, 0)), asset);
    json_decref(ids);
    lds_error_clear(&err);
    json_t *none = NULL;
    LDS_CHECK_INT(lds_assets_get(r, "a_nosuch", &none, &err), ==, LDS_ENOENT);
    return fresh;
}

/* LODESTONE_REDIS_URL forms: TCP with a password and a db number; a wrong password is a clear
 * error. Uses a throwaway server on a port derived from our pid (skipped if it does not start). */
static void test_tcp_url(void)
{
    int port = 20000 + (int)(getpid() % 20000);
    if (lds_test_run(NULL, "redis-server --port %d --bind 127.0.0.1 --requirepass s3cret --save '' "
                           "--appendonly no --daemonize yes --pidfile '%s/tcp.pid' --logfile '%s/tcp.log'",
                     port, home, home) != 0) {
        fprintf(stderr, "tcp redis did not start; TCP URL case skipped\n");
        return;
    }
    char tcp_url[128];
    lds_error err;
    lds_error_clear(&err);
    lds_redis *r = NULL;
    snprintf(tcp_url, sizeof(tcp_url), "redis://:s3cret@127.0.0.1:%d/3", port);
    for (int i = 0; i < 50 && lds_redis_connect(tcp_url, &r, &err) != LDS_OK; i++) {
        lds_error_clear(&err);
        sleep_ms(100);
    }
    LDS_CHECK(r != NULL);
    if (r) {
        LDS_CHECK_OK(lds_redis_command(r, NULL, &err, "SET lds:probe 1"), &err);
        lds_redis_reply *reply = NULL;
        LDS_CHECK_OK(lds_redis_command(r, &reply, &err, "CLIENT INFO"), &err);
        LDS_CHECK(reply && reply->str && strstr(reply->str, " db=3 "));
        lds_redis_reply_free(reply);
        snprintf(tcp_url, sizeof(tcp_url), "redis://:wrong@127.0.0.1:%d", port);
        lds_redis *bad = NULL;
        lds_error_clear(&err);
        LDS_CHECK_INT(lds_redis_connect(tcp_url, &bad, &err), ==, LDS_EREDIS);
        LDS_CHECK(strstr(err.message, "AUTH") != NULL);
        lds_redis_close(bad);
        lds_redis_command(r, NULL, NULL, "SHUTDOWN NOSAVE");
        lds_redis_close(r);
    }
    lds_redis *bad = NULL;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_redis_connect("http://nope", &bad, &err), ==, LDS_EINVAL);
}

int main(void)
{
    lds_redis_server *server = lds_test_redis_start("service_queue", home, sizeof(home), NULL);
    test_blobs();
    test_tcp_url();
    if (server == NULL)
        return lds_test_result();
    LDS_CHECK_INT(lds_redis_server_pid(server), >, 0);
    snprintf(url, sizeof(url), "%s", lds_redis_server_url(server));
    lds_redis *r = connect_or_die();
    lds_queue_config config;
    lds_queue_config_init(&config);

    test_enqueue_claim_ack(r, &config);
    test_reclaim_killed(r);
    test_retry_dead(r);
    test_priorities(r, &config);
    server = test_restart(r, server, &config);

    lds_redis_close(r);
    lds_redis_server_stop(server);
    return lds_test_result();
}
