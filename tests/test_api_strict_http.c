/* test_api_strict_http.c: strict HTTP parsing (issue 9, Strict HTTP), over raw sockets where curl
 * will not send the request: two different Content-Length headers, Content-Length with chunked,
 * NUL in the path or a query value (%00), LOD levels that are not plain decimals, Range values that
 * overflow, multipart bodies without their closing boundary or with a part that breaks it,
 * invalid UTF-8 in metadata, and an aborted upload (not counted as a 500 in /metrics). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "raw_socket.h"
#include "test_api_lib.h"

static api_env env;
static char modeler[128], ops[128];

/* Sends head (with "Authorization: Bearer <modeler>" added after the request line) plus body;
 * checks the status and, for errors, a JSON error body. */
static void expect(const char *what, const char *request_line, const char *headers, const char *body, size_t body_size,
                   int want)
{
    char request[16384];
    int n = snprintf(request, sizeof(request), "%s\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n%s\r\n",
                     request_line, modeler, headers);
    if (body_size && (size_t)n + body_size < sizeof(request)) {
        memcpy(request + n, body, body_size);
        n += (int)body_size;
    }
    char answer[8192];
    int status = raw_request(env.port, request, (size_t)n, answer, sizeof(answer));
    if (status != want) {
        fprintf(stderr, "%s: status %d, expected %d; answer:\n%s\n", what, status, want, answer);
        lds_test_failures++;
        return;
    }
    if (want >= 400 && want != 416 && strstr(answer, "\"error\"") == NULL) {
        fprintf(stderr, "%s: the %d has no JSON error body:\n%s\n", what, want, answer);
        lds_test_failures++;
    }
}

static void test_framing(void)
{
    expect("two Content-Length", "POST /v1/assets?filename=a.ply HTTP/1.1",
           "Content-Type: application/octet-stream\r\nContent-Length: 5\r\nContent-Length: 10\r\nConnection: close\r\n",
           "hello", 5, 400);
    expect("Content-Length with chunked", "POST /v1/assets?filename=a.ply HTTP/1.1",
           "Content-Type: application/octet-stream\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
           "Connection: close\r\n",
           "5\r\nhello\r\n0\r\n\r\n", 15, 400);
    expect("escaped NUL in the path", "GET /v1/assets/a_1%00x HTTP/1.1", "Connection: close\r\n", NULL, 0, 400);
    expect("escaped NUL in a query value", "GET /v1/assets/a_1?x=a%00b HTTP/1.1", "Connection: close\r\n", NULL, 0,
           400);
}

static void test_levels_and_ranges(const char *asset)
{
    static const char *const bad_levels[] = {"+1", "-0", "0x1", "1e0", "%201", "1%20", "001", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_levels) / sizeof(bad_levels[0]); i++) {
        char line[512], what[64];
        snprintf(line, sizeof(line), "GET /v1/assets/%s/lods/%s HTTP/1.1", asset, bad_levels[i]);
        snprintf(what, sizeof(what), "LOD level %s", bad_levels[i]);
        expect(what, line, "Connection: close\r\n", NULL, 0, 400);
    }
    char line[512];
    snprintf(line, sizeof(line), "GET /v1/assets/%s/lods/1 HTTP/1.1", asset);
    expect("a plain level", line, "Connection: close\r\n", NULL, 0, 200);
    expect("Range start overflows", line, "Range: bytes=99999999999999999999999-\r\nConnection: close\r\n", NULL, 0,
           416);
    expect("Range end overflows", line, "Range: bytes=0-99999999999999999999999\r\nConnection: close\r\n", NULL, 0,
           416);
    expect("Range suffix overflows", line, "Range: bytes=-99999999999999999999999\r\nConnection: close\r\n", NULL, 0,
           416);
    expect("a plain range", line, "Range: bytes=0-9\r\nConnection: close\r\n", NULL, 0, 206);
}

static void test_multipart(void)
{
    static const char ply[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                              "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
                              "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n";
    char body[4096], headers[256];
    /* no closing boundary */
    int n = snprintf(body, sizeof(body),
                     "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.ply\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n%s\r\n",
                     ply);
    snprintf(headers, sizeof(headers),
             "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %d\r\nConnection: close\r\n", n);
    expect("multipart without its closing boundary", "POST /v1/assets HTTP/1.1", headers, body, (size_t)n, 400);
    /* a delimiter followed by junk: the part breaks the boundary */
    n = snprintf(body, sizeof(body),
                 "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.ply\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n%s\r\n--XyZjunk\r\n"
                 "Content-Disposition: form-data; name=\"metadata\"\r\n\r\n{}\r\n--XyZ--\r\n",
                 ply);
    snprintf(headers, sizeof(headers),
             "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %d\r\nConnection: close\r\n", n);
    expect("a part that breaks the boundary", "POST /v1/assets HTTP/1.1", headers, body, (size_t)n, 400);
    /* the same, well formed: accepted */
    n = snprintf(body, sizeof(body),
                 "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.ply\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n%s\r\n--XyZ--\r\n",
                 ply);
    snprintf(headers, sizeof(headers),
             "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %d\r\nConnection: close\r\n", n);
    expect("well-formed multipart", "POST /v1/assets HTTP/1.1", headers, body, (size_t)n, 202);
    /* invalid UTF-8 in a metadata field: 400 naming it */
    snprintf(headers, sizeof(headers),
             "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\nConnection: close\r\n",
             sizeof(ply) - 1);
    char request[8192], answer[8192];
    int len = snprintf(request, sizeof(request),
                       "POST /v1/assets?filename=t.ply&title=caf%%E9 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "
                       "%s\r\n%s\r\n%s",
                       modeler, headers, ply);
    int status = raw_request(env.port, request, (size_t)len, answer, sizeof(answer));
    LDS_CHECK_INT(status, ==, 400);
    LDS_CHECK(strstr(answer, "title") != NULL);
}

/* An upload cut off by its client is not a server error. */
static void test_aborted(void)
{
    char request[1024];
    int n = snprintf(request, sizeof(request),
                     "POST /v1/assets?filename=a.ply HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\nply\nformat",
                     modeler);
    for (int i = 0; i < 3; i++) {
        int fd = raw_connect(env.port, NULL);
        LDS_CHECK(fd >= 0);
        raw_send(fd, request, (size_t)n);
        api_sleep_ms(200);
        close(fd);
    }
    /* the server notices each close when it next reads: poll (bounded) until all three are counted */
    api_resp r = {0};
    const char *aborted = NULL;
    for (int i = 0; i < 300 && aborted == NULL; i++) {
        api_resp_free(&r);
        LDS_CHECK_INT(api_curl(&env, &r, ops, "'%s/metrics'", env.base), ==, 200);
        aborted = r.body ? strstr(r.body, "lodestone_http_requests_aborted_total{route=\"assets_post\"} 3") : NULL;
        if (aborted == NULL)
            api_sleep_ms(100);
    }
    if (aborted == NULL)
        LDS_CHECK_STR(r.body, "... lodestone_http_requests_aborted_total{route=\"assets_post\"} 3 ...");
    LDS_CHECK(r.body && strstr(r.body, "status=\"500\"") == NULL);
    api_resp_free(&r);
}

int main(void)
{
    api_env_init(&env, "api_strict_http");
    env.workers = 1;
    if (api_env_start(&env) != 0) {
        fprintf(stderr, "cannot start the service\n");
        return 1;
    }
    LDS_CHECK_INT(api_key_create("modeler", "ada", modeler, sizeof(modeler)), ==, 0);
    LDS_CHECK_INT(api_key_create("ops", "oncall", ops, sizeof(ops)), ==, 0);
    char model[1200], asset[LDS_ID_MAX] = "";
    snprintf(model, sizeof(model), "%s/sphere.ply", env.dir);
    LDS_CHECK_INT(api_write_sphere(model, 4, 12), ==, 0);
    LDS_CHECK_INT(api_upload(&env, modeler, model, "sphere.ply", asset, NULL), ==, 202);
    json_t *record = api_wait_asset(&env, modeler, asset, 240, NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(record, "status")), "ready");
    json_decref(record);
    test_framing();
    test_levels_and_ranges(asset);
    test_multipart();
    test_aborted();
    api_env_stop(&env);
    return lds_test_result();
}
