/* test_service_notary.c: the notary service with the real log (proto/), two notary processes on a
 * real redis-server: exactly one holds the lease and appends; a holder that is paused past its
 * lease loses it to the other (a higher fencing token) and appends nothing after it resumes; a
 * holder killed -9 is replaced; identical statements are logged once. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "proto.h"
#include "testlib.h"

static char home[1024], url[1200];
static volatile sig_atomic_t child_stop;

static void on_term(int sig)
{
    child_stop = 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static pid_t start_notary(void)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    signal(SIGTERM, on_term);
    lds_notary_service_options options;
    lds_notary_service_options_init(&options);
    options.redis_url = url;
    options.home = home;
    options.lease_ms = 1000;
    lds_error err;
    lds_error_clear(&err);
    lds_status status = lds_notary_service_run(&options, &child_stop, &err);
    if (status != LDS_OK)
        fprintf(stderr, "notary: %s\n", err.message);
    _exit(status == LDS_OK ? 0 : 1);
}

/* The lease's holder pid and fencing token (0 when nobody holds it). */
static int lease_holder(lds_redis *r, long long *token)
{
    lds_redis_reply *reply = NULL;
    int pid = 0;
    *token = 0;
    if (lds_redis_command(r, &reply, NULL, "GET lds:{n}:lease") == LDS_OK && reply->str) {
        /* host:pid:random|token */
        const char *first = strchr(reply->str, ':');
        pid = first ? atoi(first + 1) : 0;
        const char *bar = strrchr(reply->str, '|');
        *token = bar ? atoll(bar + 1) : 0;
    }
    lds_redis_reply_free(reply);
    return pid;
}

static int wait_holder(lds_redis *r, long long min_token, long long *token)
{
    for (int i = 0; i < 200; i++) {
        int pid = lease_holder(r, token);
        if (pid > 0 && *token >= min_token)
            return pid;
        sleep_ms(50);
    }
    return 0;
}

static long long certify(lds_redis *r, const char *title)
{
    lds_cert_digest source = {"model.obj", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"};
    lds_cert_fields fields;
    memset(&fields, 0, sizeof(fields));
    fields.sources = &source;
    fields.source_count = 1;
    fields.geometry_fingerprint = "lds-geom-1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    fields.title = title;
    fields.source_kind = "upload";
    fields.pipeline_version = LDS_PIPELINE_VERSION;
    fields.time = "2026-01-01T00:00:00Z";
    lds_error err;
    lds_error_clear(&err);
    char *statement = NULL, *bundle = NULL;
    uint64_t index = 0;
    LDS_CHECK_OK(lds_cert_statement_build(&fields, &statement, &err), &err);
    if (statement == NULL)
        return -1;
    lds_status status = lds_notary_request(r, statement, strlen(statement), 20000, &bundle, &index, &err);
    LDS_CHECK_OK(status, &err);
    LDS_CHECK(bundle && strstr(bundle, "dsseEnvelope"));
    free(statement);
    free(bundle);
    return status == LDS_OK ? (long long)index : -1;
}

int main(void)
{
    lds_redis *r = NULL;
    lds_redis_server *server = lds_test_redis_start("service_notary", home, sizeof(home), &r);
    if (server == NULL)
        return lds_test_result();
    snprintf(url, sizeof(url), "%s", lds_redis_server_url(server));
    lds_error err;
    lds_error_clear(&err);

    pid_t a = start_notary();
    long long token = 0;
    LDS_CHECK_INT(wait_holder(r, 1, &token), ==, a);
    pid_t b = start_notary();
    LDS_CHECK_INT(certify(r, "first"), ==, 0);
    LDS_CHECK_INT(certify(r, "first"), ==, 0); /* the same statement: the same entry */
    LDS_CHECK_INT(lease_holder(r, &token), ==, a);
    LDS_CHECK_INT(token, ==, 1);

    /* A pauses past its lease: B takes over with token 2 and serves. */
    kill(a, SIGSTOP);
    LDS_CHECK_INT(wait_holder(r, 2, &token), ==, b);
    LDS_CHECK_INT(token, ==, 2);
    LDS_CHECK_INT(certify(r, "second"), ==, 1);
    /* A resumes: it finds its lease gone and appends nothing; B keeps serving. */
    kill(a, SIGCONT);
    sleep_ms(500);
    LDS_CHECK_INT(certify(r, "third"), ==, 2);
    LDS_CHECK_INT(lease_holder(r, &token), ==, b);

    /* B dies: A takes over (token 3). */
    kill(b, SIGKILL);
    waitpid(b, NULL, 0);
    LDS_CHECK_INT(wait_holder(r, 3, &token), ==, a);
    LDS_CHECK_INT(certify(r, "fourth"), ==, 3);

    kill(a, SIGTERM);
    waitpid(a, NULL, 0);
    char *out = NULL;
    LDS_CHECK_INT(lds_test_run(&out, "'%s' log checkpoint", lds_test_bin()), ==, 0);
    const char *line2 = out ? strchr(out, '\n') : NULL;
    LDS_CHECK_INT(line2 ? atoll(line2 + 1) : -1, ==, 4);
    free(out);
    LDS_CHECK_INT(lds_test_run(NULL, "'%s' log verify >/dev/null", lds_test_bin()), ==, 0);
    /* With no notary, a request times out with a clear reason. */
    char *bundle = NULL;
    uint64_t index = 0;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_notary_request(r, "{}", 2, 300, &bundle, &index, &err), ==, LDS_ETIMEOUT);
    LDS_CHECK(strstr(err.message, "notary") != NULL);
    lds_redis_close(r);
    lds_redis_server_stop(server);
    return lds_test_result();
}
