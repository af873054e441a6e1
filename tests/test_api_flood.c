/* test_api_flood.c: connection floods against the real service (issue 9, Denial of service).
 *  1. 1,000 idle connections from one address (127.0.0.2) and 1,000 more spread over 50 others
 *     (127.0.1.x): a client that used its key before still gets /healthz 200, and so does an
 *     unknown client on a fresh address while the table has room (per-address limit).
 *  2. Connections that trickle their request head a byte at a time are closed by the server
 *     (LODESTONE_REQUEST_HEAD_MS=2000 here), and /metrics counts them.
 *  3. An upload without a key that announces 64 MiB gets its 401 before sending a byte of body.
 * No timed assertions: every wait is a bound far above the expected outcome. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "raw_socket.h"
#include "test_api_lib.h"

#define FLOOD 1000

static api_env env;

static void test_idle_flood(const char *modeler)
{
    api_resp r;
    /* this client is established: it presented a key */
    LDS_CHECK_INT(api_curl(&env, &r, modeler, "'%s/v1/log/checkpoint'", env.base), ==, 200);
    api_resp_free(&r);
    int *fds = malloc(2 * FLOOD * sizeof(int));
    size_t open_count = 0;
    for (int i = 0; i < FLOOD; i++) {
        int fd = raw_connect(env.port, "127.0.0.2");
        if (fd >= 0)
            fds[open_count++] = fd;
    }
    for (int i = 0; i < FLOOD; i++) {
        char source[32];
        snprintf(source, sizeof(source), "127.0.1.%d", 1 + i % 50);
        int fd = raw_connect(env.port, source);
        if (fd >= 0)
            fds[open_count++] = fd;
    }
    printf("%zu idle connections opened\n", open_count);
    api_sleep_ms(500); /* let the server accept (or refuse) them all */
    int status = api_curl(&env, &r, NULL, "--interface 127.0.0.1 '%s/healthz'", env.base);
    LDS_CHECK_INT(status, ==, 200);
    api_resp_free(&r);
    status = api_curl(&env, &r, modeler, "'%s/v1/log/checkpoint'", env.base);
    LDS_CHECK_INT(status, ==, 200);
    api_resp_free(&r);
    for (size_t i = 0; i < open_count; i++)
        close(fds[i]);
    free(fds);
}

static void test_trickle(const char *ops)
{
    static const char head[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int fds[5];
    for (int i = 0; i < 5; i++)
        fds[i] = raw_connect(env.port, "127.0.0.3");
    /* one byte every 200 ms from each: the head never ends before the server gives up */
    int closed = 0;
    for (size_t b = 0; b < sizeof(head) - 1 && closed < 5; b++) {
        closed = 0;
        for (int i = 0; i < 5; i++)
            if (fds[i] < 0 || raw_send(fds[i], head + b, 1) != 0)
                closed++;
        api_sleep_ms(200);
    }
    /* whatever was not noticed on send: the server closed it (a read ends without an answer) */
    for (int i = 0; i < 5; i++) {
        if (fds[i] < 0)
            continue;
        char buf[256];
        long n = raw_read_all(fds[i], buf, sizeof(buf), 30);
        LDS_CHECK(n < 0 || strncmp(buf, "HTTP/1.1 408", 12) == 0);
        close(fds[i]);
    }
    api_resp r;
    LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/metrics'", env.base), ==, 200);
    const char *line = r.body ? strstr(r.body, "\nlodestone_http_slow_heads_total ") : NULL;
    LDS_CHECK(line != NULL && atoi(line + strlen("\nlodestone_http_slow_heads_total ")) >= 5);
    api_resp_free(&r);
}

static void test_unauthenticated_body(void)
{
    static const char request[] = "POST /v1/assets?filename=a.ply HTTP/1.1\r\nHost: localhost\r\n"
                                  "Content-Type: application/octet-stream\r\nContent-Length: 67108864\r\n\r\n";
    int fd = raw_connect(env.port, NULL);
    LDS_CHECK(fd >= 0);
    LDS_CHECK_INT(raw_send(fd, request, sizeof(request) - 1), ==, 0);
    char answer[4096];
    long n = raw_read_all(fd, answer, sizeof(answer), 30);
    LDS_CHECK(n > 0);
    if (n <= 0 || strncmp(answer, "HTTP/1.1 401", 12) != 0)
        LDS_CHECK_STR(n > 0 ? answer : "(nothing: the server waited for the body)", "HTTP/1.1 401 ...");
    close(fd);
}

int main(void)
{
    raw_raise_file_limit();
    api_env_init(&env, "api_flood");
    static const char head[] = "LODESTONE_REQUEST_HEAD_MS=2000";
    env.serve_env[0] = head;
    env.workers = -1;
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    char modeler[128], ops[128];
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);
    test_unauthenticated_body();
    test_idle_flood(modeler);
    test_trickle(ops);
    api_env_stop(&env);
    return lds_test_result();
}
