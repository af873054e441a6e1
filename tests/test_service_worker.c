/* test_service_worker.c: workers and the notary service as real processes around a real
 * redis-server on a private socket. The pipeline and the log writer are small deterministic
 * stand-ins (the real ones live in ingest/pipeline.c and proto/; test_service_e2e runs those) so
 * that this test exercises exactly the service: blob fetch, certificates through the notary
 * stream, atomic publish, progress, idempotent re-runs, a worker killed -9 mid-job, bad input,
 * retries to the dead letters, reprocessing that names the previous certificate. */
#include <errno.h>
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

static char home[1024], url[1200], blobs[1100];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void path_in_home(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", home, name);
}

static int exists_in_home(const char *name)
{
    char p[1200];
    path_in_home(p, sizeof(p), name);
    return access(p, F_OK) == 0;
}

static void touch_in_home(const char *name)
{
    char p[1200];
    path_in_home(p, sizeof(p), name);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0)
        close(fd);
}

static void append_line(const char *name, const char *line)
{
    char p[1200];
    path_in_home(p, sizeof(p), name);
    FILE *f = fopen(p, "a");
    if (f) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
}

static size_t count_lines(const char *name)
{
    char p[1200];
    path_in_home(p, sizeof(p), name);
    FILE *f = fopen(p, "r");
    if (f == NULL)
        return 0;
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* The log stand-in: one line per distinct statement (sha256), like the real notary's dedupe. */
static lds_status test_certify(void *ctx, const char *statement, size_t size, char **bundle, uint64_t *log_index,
                               lds_error *err)
{
    unsigned char digest[LDS_SHA256_BYTES];
    char hex[LDS_SHA256_HEX];
    lds_sha256_buffer(statement, size, digest);
    lds_hex_encode(digest, sizeof(digest), hex);
    char p[1200];
    path_in_home(p, sizeof(p), "log.txt");
    FILE *f = fopen(p, "r");
    uint64_t index = 0, found = UINT64_MAX;
    char line[128];
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, hex, 64) == 0)
            found = index;
        index++;
    }
    if (f)
        fclose(f);
    if (found == UINT64_MAX) {
        append_line("log.txt", hex);
        found = index;
    }
    *log_index = found;
    json_t *b = json_pack("{s:s, s:I, s:s%}", "statement_sha256", hex, "index", (json_int_t)found, "statement",
                          statement, size);
    *bundle = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    return LDS_OK;
}

/* The pipeline stand-in: "LOD0" is the input reversed, the statement names the input's digest,
 * the time and the previous certificate. "bad*" files are bad input, "flaky*" fail with EIO; with
 * home/slow present the first run stops for a long time (to be killed) after home/started. */
static lds_status test_pipeline(const lds_pipeline_options *options, const char *const *files, size_t file_count,
                                const char *out_dir, json_t **manifest, lds_error *err)
{
    append_line("pipeline_runs.txt", lds_path_basename(files[0]));
    if (strncmp(lds_path_basename(files[0]), "bad", 3) == 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: not a model", lds_path_basename(files[0]));
    if (strncmp(lds_path_basename(files[0]), "flaky", 5) == 0)
        return lds_error_set(err, LDS_EIO, "%s: the disk hiccuped", lds_path_basename(files[0]));
    options->progress(options->progress_ctx, "import", 0.1);
    if (exists_in_home("slow") && !exists_in_home("slept")) {
        touch_in_home("slept");
        touch_in_home("started");
        for (int i = 0; i < 600; i++) /* signals cut one sleep short, not all of them */
            sleep_ms(100);
    }
    unsigned char *data = NULL;
    size_t size = 0;
    lds_status status = lds_file_read(files[0], 0, &data, &size, err);
    if (status != LDS_OK)
        return status;
    for (size_t i = 0; i < size / 2; i++) {
        unsigned char t = data[i];
        data[i] = data[size - 1 - i];
        data[size - 1 - i] = t;
    }
    char path[2048];
    snprintf(path, sizeof(path), "%s/lod0.glb", out_dir);
    status = lds_file_write_atomic(path, data, size, err);
    unsigned char digest[LDS_SHA256_BYTES];
    char hex[LDS_SHA256_HEX];
    lds_sha256_buffer(data, size, digest);
    lds_hex_encode(digest, sizeof(digest), hex);
    free(data);
    options->progress(options->progress_ctx, "certify", 0.8);
    char *previous = NULL;
    size_t previous_size = 0;
    if (status == LDS_OK && options->previous_certificate_path)
        status = lds_file_read(options->previous_certificate_path, 0, (unsigned char **)&previous, &previous_size, err);
    char statement[4096];
    snprintf(statement, sizeof(statement), "{\"lod0\":\"%s\",\"title\":\"%s\",\"time\":\"%s\",\"previous\":%zu}", hex,
             options->title ? options->title : "", options->time ? options->time : "", previous_size);
    free(previous);
    char *bundle = NULL;
    uint64_t index = 0;
    if (status == LDS_OK)
        status = options->certify(options->certify_ctx, statement, strlen(statement), &bundle, &index, err);
    if (status == LDS_OK) {
        snprintf(path, sizeof(path), "%s/certificate.json", out_dir);
        status = lds_file_write_atomic(path, bundle, strlen(bundle), err);
    }
    free(bundle);
    if (status != LDS_OK)
        return status;
    *manifest = json_pack("{s:i, s:[{s:i, s:{s:{s:s, s:s}}}], s:{s:s, s:I}}", "manifest", 1, "lods", "level", 0,
                          "files", "glb", "path", "lod0.glb", "sha256", hex, "certificate", "path", "certificate.json",
                          "log_index", (json_int_t)index);
    snprintf(path, sizeof(path), "%s/manifest.json", out_dir);
    char *text = json_dumps(*manifest, JSON_COMPACT);
    status = lds_file_write_atomic(path, text, strlen(text), err);
    free(text);
    return status;
}

static volatile sig_atomic_t child_stop;
static void on_term(int sig)
{
    child_stop = 1;
}

static pid_t start_child(int notary)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    signal(SIGTERM, on_term);
    lds_error err;
    lds_error_clear(&err);
    lds_status status;
    if (notary) {
        lds_notary_service_options options;
        lds_notary_service_options_init(&options);
        options.redis_url = url;
        options.lease_ms = 2000;
        options.certify = test_certify;
        status = lds_notary_service_run(&options, &child_stop, &err);
    } else {
        lds_worker_options options;
        lds_worker_options_init(&options);
        options.redis_url = url;
        options.blob_root = blobs;
        options.queue.visibility_ms = 1000;
        options.queue.max_attempts = 2;
        options.queue.backoff_ms = 50;
        options.notary_timeout_ms = 20000;
        options.pipeline_run = test_pipeline;
        options.grace_ms = 300;
        status = lds_worker_run(&options, &child_stop, &err);
    }
    if (status != LDS_OK)
        fprintf(stderr, "child: %s\n", err.message);
    _exit(status == LDS_OK ? 0 : 1);
}

static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static char *write_model(const char *name, const char *content)
{
    static char path[1200];
    path_in_home(path, sizeof(path), name);
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_write_atomic(path, content, strlen(content), &err), &err);
    return path;
}

static void submit(lds_redis *r, const char *name, const char *content, char *asset, char *job)
{
    lds_error err;
    lds_error_clear(&err);
    const char *paths[1] = {write_model(name, content)};
    json_t *metadata = json_pack("{s:s}", "title", name);
    LDS_CHECK_OK(lds_assets_submit_paths(r, blobs, paths, 1, metadata, "tester", asset, job, &err), &err);
    json_decref(metadata);
}

/* Waits (up to 40 s) until field (e.g. "status") of the record is one of the wanted values. */
static json_t *wait_record(lds_redis *r, const char *asset, const char *want1, const char *want2)
{
    for (int i = 0; i < 400; i++) {
        json_t *record = NULL;
        lds_error err;
        lds_error_clear(&err);
        if (lds_assets_get(r, asset, &record, &err) == LDS_OK) {
            const char *status = json_string_value(json_object_get(record, "status"));
            if (status && (strcmp(status, want1) == 0 || (want2 && strcmp(status, want2) == 0)))
                return record;
        }
        json_decref(record);
        sleep_ms(100);
    }
    fprintf(stderr, "asset %s never reached %s\n", asset, want1);
    lds_test_failures++;
    return NULL;
}

/* Waits (up to 30 s) until no job is queued or in flight (the ack follows the publish). */
static void wait_idle(lds_redis *r)
{
    for (int i = 0; i < 300; i++) {
        json_t *stats = NULL;
        lds_queue_stats(r, &stats, NULL);
        json_t *streams = json_object_get(stats, "streams");
        long long busy = json_integer_value(json_object_get(stats, "in_flight_total")) +
                         json_integer_value(json_object_get(json_object_get(streams, "high"), "depth")) +
                         json_integer_value(json_object_get(json_object_get(streams, "low"), "depth"));
        json_decref(stats);
        if (busy == 0)
            return;
        sleep_ms(100);
    }
}

static void check_ready(lds_redis *r, json_t *record, const char *content)
{
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    LDS_CHECK(json_is_null(json_object_get(record, "error")));
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(record, "progress"), "stage")), "done");
    const char *id = json_string_value(json_object_get(record, "id"));
    char blob[LDS_SHA256_HEX];
    LDS_CHECK_OK(lds_assets_output(r, id, "lod0.glb", blob, &err), &err);
    unsigned char *data = NULL;
    size_t size = 0;
    LDS_CHECK_OK(lds_blob_get_buffer(blobs, blob, 0, &data, &size, &err), &err);
    size_t n = strlen(content);
    LDS_CHECK_INT(size, ==, n);
    for (size_t i = 0; data && i < n && i < size; i++)
        if (data[i] != (unsigned char)content[n - 1 - i]) {
            LDS_CHECK(!"lod0 content");
            break;
        }
    free(data);
    /* Outputs are stored uncompressed, to be served as they are. */
    char path[1400];
    int compressed = 1;
    LDS_CHECK_OK(lds_blob_locate(blobs, blob, path, sizeof(path), &compressed, NULL, &err), &err);
    LDS_CHECK_INT(compressed, ==, 0);
    LDS_CHECK_OK(lds_assets_output(r, id, "certificate.json", blob, &err), &err);
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(record, "certificate"), "blob")), blob);
    LDS_CHECK(json_is_object(json_object_get(record, "manifest")));
}

int main(void)
{
    lds_redis *r = NULL;
    lds_redis_server *server = lds_test_redis_start("service_worker", home, sizeof(home), &r);
    if (server == NULL)
        return lds_test_result();
    snprintf(blobs, sizeof(blobs), "%s/blobs", home);
    snprintf(url, sizeof(url), "%s", lds_redis_server_url(server));
    lds_error err;
    lds_error_clear(&err);

    pid_t notary = start_child(1);
    pid_t worker = start_child(0);

    /* 1. Upload -> ready, outputs in the blob store, one log entry. */
    char asset_a[LDS_ID_MAX], job_a[LDS_ID_MAX];
    const char *content_a = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n";
    submit(r, "tri.obj", content_a, asset_a, job_a);
    json_t *record = wait_record(r, asset_a, "ready", "failed");
    if (record)
        check_ready(r, record, content_a);
    json_decref(record);
    LDS_CHECK_INT(count_lines("log.txt"), ==, 1);
    LDS_CHECK_INT(count_lines("pipeline_runs.txt"), ==, 1);

    /* 2. The same job again (a crash after publishing, before the ack): acknowledged, not re-run. */
    lds_job again;
    memset(&again, 0, sizeof(again));
    snprintf(again.id, sizeof(again.id), "%s", job_a);
    snprintf(again.asset_id, sizeof(again.asset_id), "%s", asset_a);
    LDS_CHECK_OK(lds_redis_command(r, NULL, &err, "HGET lds:asset:%s accepted", asset_a), &err);
    json_t *rec = NULL;
    LDS_CHECK_OK(lds_assets_get(r, asset_a, &rec, &err), &err);
    snprintf(again.time, sizeof(again.time), "%s", json_string_value(json_object_get(rec, "accepted")));
    json_decref(rec);
    LDS_CHECK_OK(lds_queue_enqueue(r, &again, &err), &err);
    /* A new job for the same deposit (crash before publishing): runs again, logs nothing new. */
    lds_job rerun = again;
    rerun.id[0] = 0;
    LDS_CHECK_OK(lds_queue_enqueue(r, &rerun, &err), &err);
    for (int i = 0; i < 300 && count_lines("pipeline_runs.txt") < 2; i++)
        sleep_ms(100);
    record = wait_record(r, asset_a, "ready", NULL);
    json_decref(record);
    wait_idle(r);
    LDS_CHECK_INT(count_lines("pipeline_runs.txt"), ==, 2);
    LDS_CHECK_INT(count_lines("log.txt"), ==, 1);

    /* 3. kill -9 of the worker mid-job: reclaimed by the next worker, completed once, logged once. */
    touch_in_home("slow");
    char asset_b[LDS_ID_MAX], job_b[LDS_ID_MAX];
    const char *content_b = "v 0 0 0\nv 2 0 0\nv 0 2 0\nf 1 2 3\n";
    submit(r, "big.obj", content_b, asset_b, job_b);
    for (int i = 0; i < 400 && !exists_in_home("started"); i++)
        sleep_ms(100);
    LDS_CHECK(exists_in_home("started"));
    json_t *mid = NULL;
    LDS_CHECK_OK(lds_assets_get(r, asset_b, &mid, &err), &err);
    LDS_CHECK_STR(json_string_value(json_object_get(mid, "status")), "processing");
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(mid, "progress"), "stage")), "import");
    json_decref(mid);
    kill(worker, SIGKILL);
    waitpid(worker, NULL, 0);
    worker = start_child(0);
    record = wait_record(r, asset_b, "ready", "failed");
    if (record)
        check_ready(r, record, content_b);
    json_decref(record);
    LDS_CHECK_INT(count_lines("log.txt"), ==, 2);
    wait_idle(r);
    json_t *stats = NULL;
    LDS_CHECK_OK(lds_queue_stats(r, &stats, &err), &err);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(stats, "counters"), "reclaimed")), >=, 1);
    LDS_CHECK_INT(json_integer_value(json_object_get(stats, "in_flight_total")), ==, 0);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(stats, "durations"), "job"),
                                                     "count")),
                  ==, 3);
    json_decref(stats);

    /* 4. Bad input fails at once with the reason; no retries, no dead letter. */
    char asset_c[LDS_ID_MAX], job_c[LDS_ID_MAX];
    submit(r, "bad.obj", "garbage", asset_c, job_c);
    record = wait_record(r, asset_c, "failed", "ready");
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(record, "error"), "code")), "EFORMAT");
    LDS_CHECK(strstr(json_string_value(json_object_get(json_object_get(record, "error"), "message")), "bad.obj"));
    json_decref(record);

    /* 5. A transient failure is retried (2 attempts here), then dead-lettered with the error; ops
     * retry puts it back to queued. */
    char asset_d[LDS_ID_MAX], job_d[LDS_ID_MAX];
    submit(r, "flaky.obj", "v 0 0 0\n", asset_d, job_d);
    record = wait_record(r, asset_d, "failed", "ready");
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(record, "error"), "code")), "EIO");
    json_decref(record);
    json_t *dead = NULL;
    LDS_CHECK_OK(lds_queue_dead_list(r, 0, &dead, &err), &err);
    LDS_CHECK_INT(json_array_size(dead), ==, 1);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(dead, 0), "asset")), asset_d);
    LDS_CHECK_INT(json_integer_value(json_object_get(json_array_get(dead, 0), "attempts")), ==, 2);
    json_decref(dead);
    size_t flaky_runs = 0;
    {
        char p[1200];
        path_in_home(p, sizeof(p), "pipeline_runs.txt");
        char *out = NULL;
        lds_test_run(&out, "grep -c flaky '%s'", p);
        flaky_runs = out ? (size_t)atoi(out) : 0;
        free(out);
    }
    LDS_CHECK_INT(flaky_runs, ==, 2);

    /* 6. Reprocessing: low priority, new outputs, a new log entry naming the previous certificate. */
    json_t *before = NULL;
    LDS_CHECK_OK(lds_assets_get(r, asset_a, &before, &err), &err);
    const char *old_cert = json_string_value(json_object_get(json_object_get(before, "certificate"), "blob"));
    lds_reprocess_selection selection;
    memset(&selection, 0, sizeof(selection));
    const char *ids[2] = {asset_a, asset_c};
    selection.asset_ids = ids;
    selection.asset_count = 2;
    size_t queued = 0;
    json_t *jobs = NULL;
    LDS_CHECK_OK(lds_reprocess_enqueue(r, &selection, &queued, &jobs, &err), &err);
    LDS_CHECK_INT(queued, ==, 1); /* the failed asset is skipped */
    const char *reprocess_job = json_string_value(json_object_get(json_array_get(jobs, 0), "job"));
    json_t *after = NULL;
    for (int i = 0; i < 400; i++) {
        json_decref(after);
        after = NULL;
        lds_assets_get(r, asset_a, &after, NULL);
        json_t *rp = json_object_get(after, "reprocess");
        if (rp && strcmp(json_string_value(json_object_get(rp, "status")), "done") == 0)
            break;
        sleep_ms(100);
    }
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(after, "reprocess"), "status")), "done");
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(after, "reprocess"), "job")), reprocess_job);
    LDS_CHECK_STR(json_string_value(json_object_get(after, "status")), "ready");
    const char *new_cert = json_string_value(json_object_get(json_object_get(after, "certificate"), "blob"));
    LDS_CHECK(old_cert && new_cert && strcmp(old_cert, new_cert) != 0);
    LDS_CHECK_INT(count_lines("log.txt"), ==, 3);
    unsigned char *bundle = NULL;
    size_t bundle_size = 0;
    LDS_CHECK_OK(lds_blob_get_buffer(blobs, new_cert, 0, &bundle, &bundle_size, &err), &err);
    LDS_CHECK(bundle && strstr((char *)bundle, "\\\"previous\\\":0") == NULL); /* it read the old one */
    free(bundle);
    json_decref(before);
    json_decref(after);
    json_decref(jobs);

    /* 7. SIGTERM mid-job: after the grace period the job is handed back, and the next worker
     * finishes it at once (no visibility timeout to wait out). */
    char p1[1200], p2[1200];
    path_in_home(p1, sizeof(p1), "slept");
    path_in_home(p2, sizeof(p2), "started");
    unlink(p1);
    unlink(p2);
    char asset_e[LDS_ID_MAX], job_e[LDS_ID_MAX];
    const char *content_e = "v 0 0 0\nv 3 0 0\nv 0 3 0\nf 1 2 3\n";
    submit(r, "long.obj", content_e, asset_e, job_e);
    for (int i = 0; i < 400 && !exists_in_home("started"); i++)
        sleep_ms(100);
    LDS_CHECK(exists_in_home("started"));
    kill(worker, SIGTERM);
    long long released = 0;
    for (int i = 0; i < 100 && released == 0; i++) {
        sleep_ms(100);
        json_t *s = NULL;
        lds_queue_stats(r, &s, NULL);
        released = json_integer_value(json_object_get(json_object_get(s, "counters"), "released"));
        json_decref(s);
    }
    LDS_CHECK_INT(released, ==, 1);
    kill(worker, SIGKILL); /* still sleeping in the stand-in; the supervisor would do this */
    waitpid(worker, NULL, 0);
    worker = start_child(0);
    record = wait_record(r, asset_e, "ready", "failed");
    if (record)
        check_ready(r, record, content_e);
    json_decref(record);
    LDS_CHECK_INT(count_lines("log.txt"), ==, 4);

    stop_child(worker);
    stop_child(notary);
    /* The notary released its lease on SIGTERM. */
    lds_redis_reply *lease = NULL;
    LDS_CHECK_OK(lds_redis_command(r, &lease, &err, "EXISTS lds:{n}:lease"), &err);
    LDS_CHECK_INT(lease ? lease->integer : -1, ==, 0);
    lds_redis_reply_free(lease);
    lds_redis_close(r);
    lds_redis_server_stop(server);
    return lds_test_result();
}
