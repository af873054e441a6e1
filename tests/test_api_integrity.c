/* test_api_integrity.c: data integrity, truth in certificates, supervision and the ops side of
 * the service (issue 9), against a real redis-server and `lodestone serve` over real HTTP
 * (test_api_lib.h). One case per run, named by argv[1]:
 *
 *   owner          a modeler key of account "alice" uploads with owner "British Museum": the signed
 *                  certificate's owner is alice, "British Museum" is only a claimed_owner; `lodestone
 *                  verify` and tests/verify_certificate.py both say so.
 *   duplicate      bob uploads a copy of alice's model: bob's report warns of a duplicate without
 *                  alice's asset id or title; an ops key reading the same report sees the id.
 *   idempotent     an upload whose 202 was lost (kill -9 of serve) retried with its Idempotency-Key
 *                  gives the same asset and job, and one log entry; the same key with another body
 *                  is refused (422) and stores nothing.
 *   rejected_blob  uploads refused for a file given twice, a bad file name or an empty body leave no
 *                  blob in the store.
 *   sweep          a record written without its job (a crash between the two) is found by the
 *                  recovery sweep when serve starts, and the asset ends ready.
 *   gc             `lodestone recover --gc` removes an unreferenced blob and keeps every blob a
 *                  record names; with the default grace period it removes nothing.
 *   deposit_crash  a deposit killed halfway (kill -9 of serve's group once a third of its items are written),
 *                  retried with its Idempotency-Key: the same deposit, each item once, one log entry
 *                  per item.
 *   orphans        kill -9 of serve alone (not its group) leaves no process of its group behind:
 *                  the pool, workers, notary, recovery process and the embedded Redis die with it.
 *   redis_restart  the embedded Redis killed -9 alone comes back by itself and the API recovers
 *                  (an upload after it ends ready).
 *   busy_port      a second serve on the port of a running one fails, naming the port, before it
 *                  starts anything (no Redis, nothing left in its process group).
 *   ops_http       /metrics needs an ops key; bare /healthz says only ok, an ops key sees details;
 *                  no response names a server path (Redis down included); blobs are 0600 in 0700
 *                  folders; `keys list` shows accounts and no key, `keys revoke` shuts a key out;
 *                  the access log says who downloaded what and never holds a key.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ingest.h"
#include "proto.h"
#include "test_api_lib.h"

static api_env env;

/* ---- helpers ---- */

/* Counts blob files under home/blobs (the fan-out folders, not tmp); with modes checked when
 * bad_modes is given (files not 0600 or folders not 0700 counted there). */
static size_t count_blobs(size_t *bad_modes)
{
    char root[1200];
    snprintf(root, sizeof(root), "%s/blobs", env.home);
    size_t count = 0;
    DIR *d = opendir(root);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strlen(e->d_name) != 2 || e->d_name[0] == '.')
            continue;
        char folder[1300];
        snprintf(folder, sizeof(folder), "%s/%.2s", root, e->d_name); /* the name is 2 characters */
        struct stat st;
        if (bad_modes && stat(folder, &st) == 0 && (st.st_mode & 0777) != 0700)
            (*bad_modes)++;
        DIR *f = opendir(folder);
        struct dirent *b;
        while (f && (b = readdir(f)) != NULL) {
            if (b->d_name[0] == '.')
                continue;
            char path[1600];
            snprintf(path, sizeof(path), "%s/%s", folder, b->d_name);
            if (bad_modes && stat(path, &st) == 0 && (st.st_mode & 0777) != 0600) {
                fprintf(stderr, "blob %s has mode %o\n", path, st.st_mode & 0777);
                (*bad_modes)++;
            }
            count++;
        }
        if (f)
            closedir(f);
    }
    closedir(d);
    return count;
}

/* Uploads path raw with extra curl arguments (headers); fills asset/job on 202. */
static int upload_with(const char *key, const char *path, const char *query, const char *extra, char *asset,
                       char *job, api_resp *keep)
{
    api_resp r;
    int status = api_curl(&env, &r, key,
                          "--data-binary '@%s' -H 'Content-Type: application/octet-stream' %s '%s/v1/assets?%s'",
                          path, extra ? extra : "", env.base, query);
    json_t *j = api_json(&r);
    if (asset)
        snprintf(asset, LDS_ID_MAX, "%s",
                 status == 202 ? json_string_value(json_object_get(json_object_get(j, "asset"), "id")) : "");
    if (job)
        snprintf(job, LDS_ID_MAX, "%s",
                 status == 202 ? json_string_value(json_object_get(json_object_get(j, "job"), "id")) : "");
    json_decref(j);
    if (keep)
        *keep = r;
    else
        api_resp_free(&r);
    return status;
}

static int wait_ready(const char *key, const char *id)
{
    json_t *record = api_wait_asset(&env, key, id, 120, NULL);
    const char *status = json_string_value(json_object_get(record, "status"));
    int ok = status && strcmp(status, "ready") == 0;
    if (!ok)
        fprintf(stderr, "asset %s: %s\n", id, status ? status : "(no record)");
    json_decref(record);
    return ok;
}

/* The verified statement's predicate of an asset's certificate (caller decrefs), with the
 * certificate saved to out_path. */
static json_t *certificate_predicate(const char *key, const char *id, const char *out_path)
{
    api_resp r;
    if (api_curl(&env, &r, key, "'%s/v1/assets/%s/certificate'", env.base, id) != 200) {
        fprintf(stderr, "certificate of %s: %d\n", id, r.status);
        api_resp_free(&r);
        return NULL;
    }
    lds_error err;
    lds_error_clear(&err);
    char pub_path[1200];
    snprintf(pub_path, sizeof(pub_path), "%s/keys/notary.pub", env.home);
    unsigned char *pub = NULL;
    size_t pub_size = 0;
    lds_cert_info info;
    memset(&info, 0, sizeof(info));
    json_t *predicate = NULL;
    if (lds_file_read(pub_path, 0, &pub, &pub_size, &err) == LDS_OK &&
        lds_cert_verify(r.body, r.size, (const char *)pub, pub_size, &info, &err) == LDS_OK) {
        json_t *statement = json_loadb(info.statement_json, info.statement_size, 0, NULL);
        predicate = json_incref(json_object_get(statement, "predicate"));
        json_decref(statement);
    } else {
        fprintf(stderr, "certificate of %s does not verify: %s\n", id, err.message);
    }
    lds_file_write(out_path, r.body, r.size, &err);
    lds_cert_info_cleanup(&info);
    free(pub);
    api_resp_free(&r);
    return predicate;
}

/* Non-zombie processes whose process group is pgid (from /proc). */
static int group_alive(pid_t pgid, int print)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int alive = 0;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], text[1024];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (n <= 0)
            continue;
        text[n] = 0;
        const char *paren = strrchr(text, ')'); /* "pid (comm) S ppid pgrp ..." */
        char state;
        int ppid, pgrp;
        if (paren && sscanf(paren + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid && state != 'Z') {
            alive++;
            if (print)
                fprintf(stderr, "left behind: %s", text);
        }
    }
    if (d)
        closedir(d);
    return alive;
}

static long long redis_pid_of(const char *url)
{
    lds_redis *r = NULL;
    lds_error err;
    lds_error_clear(&err);
    lds_redis_reply *reply = NULL;
    long long pid = -1;
    if (lds_redis_connect(url, &r, &err) == LDS_OK &&
        lds_redis_command(r, &reply, &err, "INFO server") == LDS_OK && reply->str) {
        const char *p = strstr(reply->str, "process_id:");
        if (p)
            pid = atoll(p + 11);
    }
    lds_redis_reply_free(reply);
    lds_redis_close(r);
    return pid;
}

static void start_all(void)
{
    if (api_redis_start(&env) != 0 || api_keys_init(&env) != 0 || api_serve_start(&env) != 0) {
        fprintf(stderr, "the service did not start\n");
        exit(1);
    }
}

/* ---- cases ---- */

static void case_owner(void)
{
    start_all();
    char alice[128], model[1200], cert[1200];
    LDS_CHECK_INT(api_key_create("modeler", "alice", alice, sizeof(alice)), ==, 0);
    snprintf(model, sizeof(model), "%s/vase.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 7, 12), ==, 0);
    char asset[LDS_ID_MAX];
    LDS_CHECK_INT(upload_with(alice, model, "filename=vase.ply&title=Vase&license=CC0-1.0&owner=British%20Museum",
                              NULL, asset, NULL, NULL),
                  ==, 202);
    LDS_CHECK(wait_ready(alice, asset));
    snprintf(cert, sizeof(cert), "%s/certificate.json", env.dir);
    json_t *predicate = certificate_predicate(alice, asset, cert);
    LDS_CHECK(predicate != NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(predicate, "owner")), "alice");
    LDS_CHECK_STR(json_string_value(json_object_get(predicate, "claimed_owner")), "British Museum");
    json_decref(predicate);
    /* both verifiers report the owner as the account and the typed name as a claim */
    char *out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "'%s' verify '%s' 2>&1", lds_test_bin(), cert), ==, 0);
    LDS_CHECK(out && strstr(out, "owner: alice (claimed owner \"British Museum\", not verified)"));
    if (out)
        fprintf(stderr, "lodestone verify: %s", out);
    free(out);
    out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "python3 '%s/tests/verify_certificate.py' '%s' '%s/keys/notary.pub' 2>&1",
                               LDS_SOURCE_DIR, cert, env.home),
                  ==, 0);
    LDS_CHECK(out && strstr(out, "owner: alice (claimed owner \"British Museum\", not verified)"));
    free(out);
}

/* The possible_duplicate issues of an asset's report as read with key. */
static json_t *duplicate_issues(const char *key, const char *id)
{
    api_resp r;
    api_curl(&env, &r, key, "'%s/v1/assets/%s'", env.base, id);
    json_t *j = api_json(&r);
    api_resp_free(&r);
    json_t *out = json_array();
    size_t i;
    json_t *issue;
    json_array_foreach(json_object_get(json_object_get(json_object_get(j, "manifest"), "report"), "issues"), i, issue)
    {
        const char *code = json_string_value(json_object_get(issue, "code"));
        if (code && strcmp(code, "possible_duplicate") == 0)
            json_array_append(out, issue);
    }
    json_decref(j);
    return out;
}

static void case_duplicate(void)
{
    env.workers = 1;
    start_all();
    char alice[128], bob[128], ops[128], model[1200];
    LDS_CHECK_INT(api_key_create("modeler", "alice", alice, sizeof(alice)), ==, 0);
    LDS_CHECK_INT(api_key_create("modeler", "bob", bob, sizeof(bob)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "ops", ops, sizeof(ops)), ==, 0);
    snprintf(model, sizeof(model), "%s/idol.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 11, 16), ==, 0);
    char a[LDS_ID_MAX], b[LDS_ID_MAX];
    LDS_CHECK_INT(upload_with(alice, model, "filename=idol.ply&title=Secret%20Idol&license=CC0-1.0", NULL, a, NULL,
                              NULL),
                  ==, 202);
    LDS_CHECK(wait_ready(alice, a));
    LDS_CHECK_INT(upload_with(bob, model, "filename=copy.ply&title=Copy&license=CC0-1.0", NULL, b, NULL, NULL), ==,
                  202);
    LDS_CHECK(wait_ready(bob, b));

    json_t *seen_by_bob = duplicate_issues(bob, b);
    LDS_CHECK_INT(json_array_size(seen_by_bob), ==, 1);
    char *text = json_dumps(seen_by_bob, JSON_COMPACT);
    fprintf(stderr, "bob's duplicate warning: %s\n", text ? text : "");
    LDS_CHECK(text && strstr(text, a) == NULL);              /* not alice's asset id */
    LDS_CHECK(text && strstr(text, "Secret Idol") == NULL);  /* nor its title */
    LDS_CHECK(text && strstr(text, "matches a model already registered") != NULL);
    free(text);
    json_decref(seen_by_bob);

    json_t *seen_by_ops = duplicate_issues(ops, b); /* ops may see alice's asset: named */
    LDS_CHECK_INT(json_array_size(seen_by_ops), ==, 1);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(seen_by_ops, 0), "asset")), a);
    json_decref(seen_by_ops);

    /* and bob cannot read alice's asset (the rule the warning follows) */
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, bob, "'%s/v1/assets/%s'", env.base, a), ==, 403);
    api_resp_free(&r);
}

static void case_idempotent(void)
{
    env.serve_env[0] = "LODESTONE_VISIBILITY_MS=5000"; /* the killed worker's job comes back soon */
    start_all();
    char key[128], model[1200], other[1200];
    LDS_CHECK_INT(api_key_create("modeler", "carol", key, sizeof(key)), ==, 0);
    snprintf(model, sizeof(model), "%s/bowl.ply", env.dir);
    snprintf(other, sizeof(other), "%s/cup.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 3, 12), ==, 0);
    LDS_CHECK_INT(api_write_sphere(other, 4, 12), ==, 0);
    const char *query = "filename=bowl.ply&title=Bowl&license=CC0-1.0";
    const char *header = "-H 'Idempotency-Key: upload-7f3a'";
    char first[LDS_ID_MAX], first_job[LDS_ID_MAX];
    LDS_CHECK_INT(upload_with(key, model, query, header, first, first_job, NULL), ==, 202);
    /* the 202 is lost: the service crashes before the client reads it */
    api_serve_kill9(&env);
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    char again[LDS_ID_MAX], again_job[LDS_ID_MAX];
    LDS_CHECK_INT(upload_with(key, model, query, header, again, again_job, NULL), ==, 202);
    LDS_CHECK_STR(again, first);
    LDS_CHECK_STR(again_job, first_job);
    LDS_CHECK(wait_ready(key, first));
    LDS_CHECK_INT(upload_with(key, model, query, header, again, NULL, NULL), ==, 202); /* after it is done too */
    LDS_CHECK_STR(again, first);
    /* the same key with another body: refused, nothing stored */
    size_t blobs = count_blobs(NULL);
    api_resp r;
    LDS_CHECK_INT(upload_with(key, other, "filename=cup.ply&title=Cup&license=CC0-1.0", header, NULL, NULL, &r), ==,
                  422);
    LDS_CHECK(api_is_error_body(&r));
    api_resp_free(&r);
    LDS_CHECK_INT(count_blobs(NULL), ==, blobs);
    /* another client's identical key is another key */
    char dave[128], theirs[LDS_ID_MAX];
    LDS_CHECK_INT(api_key_create("modeler", "dave", dave, sizeof(dave)), ==, 0);
    LDS_CHECK_INT(upload_with(dave, model, query, header, theirs, NULL, NULL), ==, 202);
    LDS_CHECK(strcmp(theirs, first) != 0);
    LDS_CHECK(wait_ready(dave, theirs));
    LDS_CHECK_INT(api_tree_size(&env), ==, 2); /* one log entry each: carol's retry added none */
}

static void case_rejected_blob(void)
{
    start_all();
    char key[128], model[1200], mtl[1200];
    LDS_CHECK_INT(api_key_create("modeler", "erin", key, sizeof(key)), ==, 0);
    snprintf(model, sizeof(model), "%s/jar.ply", env.dir);
    snprintf(mtl, sizeof(mtl), "%s/jar.mtl", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 5, 12), ==, 0);
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_write(mtl, "newmtl a\n", 9, &err), &err);
    LDS_CHECK_INT(count_blobs(NULL), ==, 0);
    api_resp r;
    /* a file given twice */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-F 'file=@%s;filename=jar.ply' -F 'file=@%s;filename=jar.mtl' "
                                          "-F 'file=@%s;filename=jar.mtl' '%s/v1/assets'",
                           model, mtl, mtl, env.base),
                  ==, 400);
    fprintf(stderr, "twice: %s\n", r.body ? r.body : "");
    api_resp_free(&r);
    LDS_CHECK_INT(count_blobs(NULL), ==, 0);
    /* a bad file name (a path) in a multipart part */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-F 'file=@%s;filename=jar.ply' -F 'file=@%s;filename=..' '%s/v1/assets'",
                           model, mtl, env.base),
                  ==, 400);
    api_resp_free(&r);
    LDS_CHECK_INT(count_blobs(NULL), ==, 0);
    /* no model among the parts */
    LDS_CHECK_INT(api_curl(&env, &r, key, "-F 'file=@%s;filename=jar.mtl' '%s/v1/assets'", mtl, env.base), ==, 415);
    api_resp_free(&r);
    LDS_CHECK_INT(count_blobs(NULL), ==, 0);
    /* an accepted one stores its blobs (the count works) */
    char asset[LDS_ID_MAX];
    LDS_CHECK_INT(upload_with(key, model, "filename=jar.ply&title=Jar", NULL, asset, NULL, NULL), ==, 202);
    LDS_CHECK_INT(count_blobs(NULL), >=, 1);
}

static void case_sweep(void)
{
    LDS_CHECK_INT(api_redis_start(&env), ==, 0);
    LDS_CHECK_INT(api_keys_init(&env), ==, 0);
    char key[128], model[1200];
    LDS_CHECK_INT(api_key_create("ops", "ops", key, sizeof(key)), ==, 0);
    snprintf(model, sizeof(model), "%s/orphan.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 9, 12), ==, 0);
    /* what a crash between the record and its job leaves: the record alone */
    lds_error err;
    lds_error_clear(&err);
    lds_redis *r = NULL;
    LDS_CHECK_OK(lds_redis_connect(env.url, &r, &err), &err);
    char blob[LDS_SHA256_HEX], asset[LDS_ID_MAX], job[LDS_ID_MAX];
    uint64_t bytes = 0;
    LDS_CHECK_OK(lds_blob_put_file(NULL, model, LDS_BLOB_COMPRESS, blob, &bytes, &err), &err);
    lds_asset_file file = {"orphan.ply", blob, bytes};
    json_t *meta = json_pack("{s:s}", "title", "Orphan");
    lds_asset_submission sub = {.files = &file, .file_count = 1, .metadata = meta, .owner_key = "k"};
    LDS_CHECK_OK(lds_assets_record_write(r, &sub, asset, job, NULL, &err), &err);
    json_decref(meta);
    lds_redis_reply *depth = NULL;
    LDS_CHECK_OK(lds_redis_command(r, &depth, &err, "EXISTS lds:{q}:jobs:high"), &err);
    LDS_CHECK_INT(depth ? depth->integer : -1, ==, 0); /* no job anywhere */
    lds_redis_reply_free(depth);
    lds_redis_close(r);
    /* serve's recovery process sweeps at start (grace 0 here: the crash is long past) */
    env.serve_env[0] = "LODESTONE_SWEEP_GRACE_MS=0";
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    LDS_CHECK(wait_ready(key, asset));
    api_resp resp;
    api_curl(&env, &resp, key, "'%s/v1/assets/%s'", env.base, asset);
    json_t *j = api_json(&resp);
    LDS_CHECK_STR(json_string_value(json_object_get(j, "status")), "ready");
    json_decref(j);
    api_resp_free(&resp);
    LDS_CHECK_INT(api_tree_size(&env), ==, 1);
}

static void case_gc(void)
{
    start_all();
    char key[128], model[1200], junk[1200];
    LDS_CHECK_INT(api_key_create("modeler", "gail", key, sizeof(key)), ==, 0);
    snprintf(model, sizeof(model), "%s/urn.ply", env.dir);
    snprintf(junk, sizeof(junk), "%s/junk.bin", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 13, 12), ==, 0);
    char asset[LDS_ID_MAX];
    LDS_CHECK_INT(upload_with(key, model, "filename=urn.ply&title=Urn", NULL, asset, NULL, NULL), ==, 202);
    LDS_CHECK(wait_ready(key, asset));
    size_t referenced = count_blobs(NULL); /* the original and every output */
    LDS_CHECK_INT(referenced, >=, 5);
    /* a blob nobody names: what an abandoned upload leaves */
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_write(junk, "not referenced by anything\n", 27, &err), &err);
    char junk_id[LDS_SHA256_HEX];
    LDS_CHECK_OK(lds_blob_put_file(NULL, junk, 0, junk_id, NULL, &err), &err);
    LDS_CHECK_INT(count_blobs(NULL), ==, referenced + 1);
    char *out = NULL;
    /* default grace (24 h): everything is young, nothing goes */
    LDS_CHECK_INT(lds_test_run(&out, "'%s' recover --gc", lds_test_bin()), ==, 0);
    LDS_CHECK(out && strstr(out, "\"blobs_removed\": 0"));
    free(out);
    out = NULL;
    LDS_CHECK_INT(count_blobs(NULL), ==, referenced + 1);
    /* no grace: the unreferenced blob goes, every referenced one stays */
    LDS_CHECK_INT(lds_test_run(&out, "'%s' recover --gc --grace-ms 0", lds_test_bin()), ==, 0);
    fprintf(stderr, "recover: %s", out ? out : "");
    LDS_CHECK(out && strstr(out, "\"blobs_removed\": 1,"));
    free(out);
    LDS_CHECK_INT(count_blobs(NULL), ==, referenced);
    char path[1200];
    int compressed = 0;
    LDS_CHECK(lds_blob_locate(NULL, junk_id, path, sizeof(path), &compressed, NULL, &err) == LDS_ENOENT);
    /* the asset still serves its files */
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, key, "-o /dev/null '%s/v1/assets/%s/lods/0'", env.base, asset), ==, 200);
    api_resp_free(&r);
    LDS_CHECK_INT(api_curl(&env, &r, key, "-o /dev/null '%s/v1/assets/%s/certificate'", env.base, asset), ==, 200);
    api_resp_free(&r);
}

#define DEPOSIT_ITEMS 60

static void case_deposit_crash(void)
{
    env.serve_env[0] = "LODESTONE_SWEEP_GRACE_MS=600000"; /* the retry, not the sweep, finishes it */
    env.serve_env[1] = "LODESTONE_VISIBILITY_MS=5000";    /* jobs of killed workers come back soon */
    start_all();
    char key[128], dir[1200], archive[1300];
    LDS_CHECK_INT(api_key_create("partner", "museum", key, sizeof(key)), ==, 0);
    snprintf(dir, sizeof(dir), "%s/scans", env.dir);
    mkdir(dir, 0700);
    for (int i = 0; i < DEPOSIT_ITEMS; i++) {
        char path[1400];
        snprintf(path, sizeof(path), "%s/scan%03d.ply", dir, i);
        LDS_CHECK_INT(api_write_sphere(path, 100 + (unsigned)i, 5), ==, 0);
    }
    snprintf(archive, sizeof(archive), "%s/scans.tar", env.dir);
    LDS_CHECK_INT(lds_test_run(NULL, "tar -cf '%s' -C '%s' scans", archive, env.dir), ==, 0);
    const char *header = "-H 'Idempotency-Key: deposit-2026-12-02'";

    /* 1. the deposit, with serve killed -9 as soon as its record is written */
    pid_t client = fork();
    if (client == 0) {
        api_resp r;
        api_curl(&env, &r, key, "%s --data-binary '@%s' '%s/v1/deposits?filename=scans.tar'", header, archive,
                 env.base);
        _exit(0);
    }
    lds_error err;
    lds_error_clear(&err);
    lds_redis *redis = NULL;
    LDS_CHECK_OK(lds_redis_connect(env.url, &redis, &err), &err);
    long long written = -1;
    for (int i = 0; i < 2000000 && written < 0; i++) {
        lds_redis_reply *n = NULL; /* items are written after the deposit record: kill a third in */
        if (lds_redis_command(redis, &n, &err, "ZCARD lds:assets") == LDS_OK && n->integer >= DEPOSIT_ITEMS / 3) {
            api_serve_kill9(&env);
            lds_redis_reply *c = NULL;
            lds_redis_command(redis, &c, &err, "ZCARD lds:assets");
            written = c ? c->integer : -1;
            lds_redis_reply_free(c);
        }
        lds_redis_reply_free(n);
        if (i % 1000 == 999 && waitpid(client, NULL, WNOHANG) == client) {
            fprintf(stderr, "the deposit finished before the kill\n");
            break;
        }
    }
    api_serve_kill9(&env);
    waitpid(client, NULL, 0);
    fprintf(stderr, "serve killed with %lld of %d items written\n", written, DEPOSIT_ITEMS);

    /* 2. the retry with the same key */
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, key, "%s --data-binary '@%s' '%s/v1/deposits?filename=scans.tar'", header,
                           archive, env.base),
                  ==, 202);
    json_t *j = api_json(&r);
    api_resp_free(&r);
    char deposit[LDS_ID_MAX];
    snprintf(deposit, sizeof(deposit), "%s", json_string_value(json_object_get(json_object_get(j, "deposit"), "id")));
    LDS_CHECK_INT(json_array_size(json_object_get(json_object_get(j, "deposit"), "items")), ==, DEPOSIT_ITEMS);
    json_decref(j);
    /* a second retry answers the same deposit */
    LDS_CHECK_INT(api_curl(&env, &r, key, "%s --data-binary '@%s' '%s/v1/deposits?filename=scans.tar'", header,
                           archive, env.base),
                  ==, 202);
    j = api_json(&r);
    api_resp_free(&r);
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(j, "deposit"), "id")), deposit);
    json_decref(j);

    /* 3. every item once, all ready, one log entry each */
    const char *status = NULL;
    for (int i = 0; i < 1200; i++) {
        LDS_CHECK_INT(api_curl(&env, &r, key, "'%s/v1/deposits/%s'", env.base, deposit), ==, 200);
        j = api_json(&r);
        api_resp_free(&r);
        status = json_string_value(json_object_get(j, "status"));
        int done = status && strcmp(status, "processing") != 0;
        if (done) {
            LDS_CHECK_STR(status, "done");
            LDS_CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "counts"), "ready")), ==,
                          DEPOSIT_ITEMS);
        }
        json_decref(j);
        if (done)
            break;
        api_sleep_ms(250);
    }
    lds_redis_reply *count = NULL;
    LDS_CHECK_OK(lds_redis_command(redis, &count, &err, "ZCARD lds:assets"), &err);
    LDS_CHECK_INT(count ? count->integer : -1, ==, DEPOSIT_ITEMS); /* no item twice, no stray asset */
    lds_redis_reply_free(count);
    LDS_CHECK_INT(api_tree_size(&env), ==, DEPOSIT_ITEMS);
    lds_redis_close(redis);
}

static void case_orphans(void)
{
    env.serve_env[0] = "LODESTONE_REDIS_URL="; /* its own Redis too */
    LDS_CHECK_INT(api_keys_init(&env), ==, 0);
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    pid_t group = env.serve_pid;
    int before = group_alive(group, 0);
    fprintf(stderr, "serve's group: %d processes\n", before);
    LDS_CHECK_INT(before, >=, 6); /* serve, redis, pool, 2 workers, notary (and recovery) */
    kill(env.serve_pid, SIGKILL); /* serve alone */
    waitpid(env.serve_pid, NULL, 0);
    int alive = before;
    for (int i = 0; i < 300 && alive > 0; i++) { /* children get SIGTERM and finish up */
        api_sleep_ms(100);
        alive = group_alive(group, 0);
    }
    LDS_CHECK_INT(group_alive(group, 1), ==, 0);
    env.serve_pid = 0;
}

static void case_redis_restart(void)
{
    env.serve_env[0] = "LODESTONE_REDIS_URL=";
    LDS_CHECK_INT(api_keys_init(&env), ==, 0);
    LDS_CHECK_INT(api_serve_start(&env), ==, 0);
    char url[1300];
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_redis_embedded_url(env.home, url, sizeof(url), &err), &err);
    setenv("LODESTONE_REDIS_URL", url, 1); /* for keys create and the probes below */
    char key[128], model[1200];
    LDS_CHECK_INT(api_key_create("modeler", "hana", key, sizeof(key)), ==, 0);
    long long pid = redis_pid_of(url);
    LDS_CHECK_INT(pid, >, 0);
    kill((pid_t)pid, SIGKILL);
    api_resp r;
    int status = 0;
    for (int i = 0; i < 600 && status != 200; i++) { /* 503 while it is down, then back */
        api_sleep_ms(100);
        status = api_curl(&env, &r, NULL, "'%s/healthz'", env.base);
        api_resp_free(&r);
    }
    LDS_CHECK_INT(status, ==, 200);
    long long again = redis_pid_of(url);
    fprintf(stderr, "redis-server %lld killed, %lld serving\n", pid, again);
    LDS_CHECK(again > 0 && again != pid);
    LDS_CHECK(kill((pid_t)pid, 0) != 0 && errno == ESRCH); /* reaped: no zombie */
    snprintf(model, sizeof(model), "%s/bell.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 21, 12), ==, 0);
    char asset[LDS_ID_MAX];
    /* the API's connections and the workers' reconnect */
    for (int i = 0; i < 100 && upload_with(key, model, "filename=bell.ply&title=Bell", NULL, asset, NULL, NULL) != 202;
         i++)
        api_sleep_ms(200);
    LDS_CHECK(asset[0] != 0);
    LDS_CHECK(wait_ready(key, asset));
}

static void case_busy_port(void)
{
    start_all();
    char home2[1300], log[1300], listen[64], redis_dir[1400];
    snprintf(home2, sizeof(home2), "%s/home2", env.dir);
    snprintf(log, sizeof(log), "%s/serve2.log", env.dir);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", env.port);
    snprintf(redis_dir, sizeof(redis_dir), "%s/redis", home2);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setenv("LODESTONE_HOME", home2, 1);
        setenv("LODESTONE_LISTEN", listen, 1);
        unsetenv("LODESTONE_REDIS_URL"); /* it would start its own Redis: it must not get that far */
        execl(lds_test_bin(), "lodestone", "serve", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    int st = 0;
    pid_t done = 0;
    for (int i = 0; i < 300 && done != pid; i++) {
        done = waitpid(pid, &st, WNOHANG);
        if (done != pid)
            api_sleep_ms(100);
    }
    if (done != pid) {
        kill(-pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    LDS_CHECK_INT(done, ==, pid);
    LDS_CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    char *text = NULL;
    lds_error err;
    lds_error_clear(&err);
    size_t size = 0;
    lds_file_read(log, 0, (unsigned char **)&text, &size, &err);
    fprintf(stderr, "second serve: %.*s", (int)size, text ? text : "");
    LDS_CHECK(text && strstr(text, listen) && strstr(text, "nothing was started"));
    free(text);
    struct stat sb;
    LDS_CHECK(stat(redis_dir, &sb) != 0); /* it never started a Redis */
    LDS_CHECK_INT(group_alive(pid, 1), ==, 0);
    /* the first one still serves */
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, NULL, "'%s/healthz'", env.base), ==, 200);
    api_resp_free(&r);
}

/* No response body names the test's directory (where home, blobs, sockets are). */
static void no_paths(const api_resp *r, const char *what)
{
    if (r->body && strstr(r->body, env.dir)) {
        fprintf(stderr, "%s names a server path: %s\n", what, r->body);
        LDS_CHECK(0);
    }
}

static void case_ops_http(void)
{
    start_all();
    char ops[128], modeler[128], studio[128], model[1200];
    LDS_CHECK_INT(api_key_create("ops", "night-shift", ops, sizeof(ops)), ==, 0);
    LDS_CHECK_INT(api_key_create("modeler", "ivan", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("studio", "pixelworks", studio, sizeof(studio)), ==, 0);
    api_resp r;
    /* metrics: ops only */
    LDS_CHECK_INT(api_curl(&env, &r, NULL, "'%s/metrics'", env.base), ==, 401);
    api_resp_free(&r);
    LDS_CHECK_INT(api_curl(&env, &r, modeler, "'%s/metrics'", env.base), ==, 403);
    api_resp_free(&r);
    LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/metrics'", env.base), ==, 200);
    LDS_CHECK(r.body && strstr(r.body, "lodestone_http_requests_total"));
    api_resp_free(&r);
    /* health: bare says ok and nothing more; ops sees the parts */
    LDS_CHECK_INT(api_curl(&env, &r, NULL, "'%s/healthz'", env.base), ==, 200);
    json_t *j = api_json(&r);
    LDS_CHECK_STR(json_string_value(json_object_get(j, "status")), "ok");
    LDS_CHECK_INT(json_object_size(j), ==, 1);
    json_decref(j);
    api_resp_free(&r);
    LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/healthz'", env.base), ==, 200);
    j = api_json(&r);
    LDS_CHECK_STR(json_string_value(json_object_get(j, "redis")), "ok");
    json_decref(j);
    api_resp_free(&r);

    /* an upload, a download by a studio, the access log */
    snprintf(model, sizeof(model), "%s/mask.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 31, 12), ==, 0);
    char asset[LDS_ID_MAX];
    LDS_CHECK_INT(upload_with(modeler, model, "filename=mask.ply&title=Mask&license=CC0-1.0", NULL, asset, NULL, NULL), ==, 202);
    LDS_CHECK(wait_ready(modeler, asset));
    LDS_CHECK_INT(api_curl(&env, &r, studio, "-o /dev/null '%s/v1/assets/%s/lods/1?format=meshopt'", env.base, asset),
                  ==, 200);
    api_resp_free(&r);
    size_t bad_modes = 0;
    LDS_CHECK_INT(count_blobs(&bad_modes), >=, 5);
    LDS_CHECK_INT(bad_modes, ==, 0);
    char access[1200];
    snprintf(access, sizeof(access), "%s/access.log", env.home);
    char *log = NULL;
    size_t size = 0;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_file_read(access, 0, (unsigned char **)&log, &size, &err), &err);
    int found = 0;
    for (char *line = log ? strtok(log, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        json_t *entry = json_loads(line, 0, NULL);
        const char *account = json_string_value(json_object_get(entry, "account"));
        const char *route = json_string_value(json_object_get(entry, "route"));
        const char *id = json_string_value(json_object_get(entry, "id"));
        found |= account && route && id && strcmp(account, "pixelworks") == 0 && strcmp(route, "asset_lod") == 0 &&
                 strcmp(id, asset) == 0 && json_integer_value(json_object_get(entry, "status")) == 200;
        json_decref(entry);
    }
    LDS_CHECK(found); /* who downloaded what */
    free(log);
    log = NULL;
    LDS_CHECK_OK(lds_file_read(access, 0, (unsigned char **)&log, &size, &err), &err);
    LDS_CHECK(log && strstr(log, studio) == NULL && strstr(log, ops) == NULL && strstr(log, modeler) == NULL);
    free(log);
    struct stat st;
    LDS_CHECK(stat(access, &st) == 0 && (st.st_mode & 0777) == 0600);

    /* keys list: accounts and ids, never a key; revoke shuts one out */
    char *out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "'%s' keys list", lds_test_bin()), ==, 0);
    LDS_CHECK(out && strstr(out, "\"account\":\"pixelworks\"") && strstr(out, "\"role\":\"studio\""));
    LDS_CHECK(out && strstr(out, studio) == NULL && strstr(out, ops) == NULL);
    char studio_id[17] = "";
    for (char *line = out ? strtok(out, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        json_t *k = json_loads(line, 0, NULL);
        if (json_string_value(json_object_get(k, "account")) &&
            strcmp(json_string_value(json_object_get(k, "account")), "pixelworks") == 0)
            snprintf(studio_id, sizeof(studio_id), "%s", json_string_value(json_object_get(k, "id")));
        json_decref(k);
    }
    free(out);
    LDS_CHECK_INT(strlen(studio_id), ==, 16);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' keys revoke %s 2>/dev/null", lds_test_bin(), studio_id), ==, 0);
    int status = 200;
    for (int i = 0; i < 100 && status != 401; i++) { /* the API caches keys for 5 s */
        status = api_curl(&env, &r, studio, "'%s/v1/assets/%s'", env.base, asset);
        api_resp_free(&r);
        if (status != 401)
            api_sleep_ms(200);
    }
    LDS_CHECK_INT(status, ==, 401);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' keys revoke 0000000000000000 2>/dev/null", lds_test_bin()), !=, 0);

    /* no server path in answers, Redis down included */
    api_request(&env, &r, "GET", "/v1/assets/a_none", ops, NULL);
    no_paths(&r, "unknown asset");
    api_resp_free(&r);
    api_redis_kill9(&env);
    LDS_CHECK_INT(api_curl(&env, &r, NULL, "'%s/healthz'", env.base), ==, 503);
    no_paths(&r, "/healthz with Redis down");
    j = api_json(&r);
    LDS_CHECK_STR(json_string_value(json_object_get(j, "status")), "unavailable");
    json_decref(j);
    api_resp_free(&r);
    api_curl(&env, &r, ops, "'%s/healthz'", env.base);
    no_paths(&r, "/healthz (ops) with Redis down");
    api_resp_free(&r);
    api_curl(&env, &r, ops, "'%s/v1/assets/%s'", env.base, asset);
    no_paths(&r, "an asset with Redis down");
    LDS_CHECK_INT(r.status, ==, 503);
    api_resp_free(&r);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } cases[] = {{"owner", case_owner},           {"duplicate", case_duplicate},
                 {"idempotent", case_idempotent}, {"rejected_blob", case_rejected_blob},
                 {"sweep", case_sweep},           {"gc", case_gc},
                 {"deposit_crash", case_deposit_crash}, {"orphans", case_orphans},
                 {"redis_restart", case_redis_restart}, {"busy_port", case_busy_port},
                 {"ops_http", case_ops_http}};
    if (argc != 2) {
        fprintf(stderr, "usage: test_api_integrity CASE\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (strcmp(argv[1], cases[i].name) == 0) {
            char name[64];
            snprintf(name, sizeof(name), "integrity_%s", cases[i].name);
            api_env_init(&env, name);
            cases[i].run();
            api_env_stop(&env);
            return lds_test_result();
        }
    fprintf(stderr, "test_api_integrity: no case %s\n", argv[1]);
    return 2;
}
