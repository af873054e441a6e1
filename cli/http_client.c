/* http_client.c: see http_client.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_client.h"

#define HEAD_MAX (64u << 10)

typedef struct conn {
    int fd;
    int timeout_ms;
    const char *url; /* for messages */
} conn;

static lds_status wait_fd(conn *c, short events, lds_error *err)
{
    struct pollfd p = {c->fd, events, 0};
    for (;;) {
        int n = poll(&p, 1, c->timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lds_error_set(err, LDS_EIO, "%s: poll: %s", c->url, strerror(errno));
        if (n == 0)
            return lds_error_set(err, LDS_ETIMEOUT, "%s: no answer within %d s", c->url, c->timeout_ms / 1000);
        return LDS_OK;
    }
}

static lds_status send_all(conn *c, const void *data, size_t size, lds_error *err)
{
    const char *p = data;
    while (size > 0) {
        lds_status st = wait_fd(c, POLLOUT, err);
        if (st != LDS_OK)
            return st;
        ssize_t n = send(c->fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return lds_error_set(err, LDS_EIO, "%s: send: %s", c->url, strerror(errno));
        p += n;
        size -= (size_t)n;
    }
    return LDS_OK;
}

/* Reads what is there (blocking up to the timeout); 0 bytes at EOF. */
static lds_status recv_some(conn *c, char *buf, size_t size, size_t *got, lds_error *err)
{
    for (;;) {
        lds_status st = wait_fd(c, POLLIN, err);
        if (st != LDS_OK)
            return st;
        ssize_t n = recv(c->fd, buf, size, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return lds_error_set(err, LDS_EIO, "%s: recv: %s", c->url, strerror(errno));
        *got = (size_t)n;
        return LDS_OK;
    }
}

/* "http://host[:port][/prefix]" -> host, port, prefix (without trailing slash). */
static lds_status parse_url(const char *url, char *host, size_t host_size, char *port, size_t port_size,
                            char *prefix, size_t prefix_size, lds_error *err)
{
    if (strncmp(url, "http://", 7) != 0)
        return lds_error_set(err, LDS_EINVAL, "%s: only http:// URLs are supported", url);
    const char *p = url + 7, *slash = strchr(p, '/');
    size_t authority = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = NULL;
    if (p[0] == '[') { /* [v6]:port */
        const char *close = memchr(p, ']', authority);
        if (close == NULL)
            return lds_error_set(err, LDS_EINVAL, "%s: bad IPv6 address", url);
        if ((size_t)(close - p - 1) >= host_size)
            return lds_error_set(err, LDS_EINVAL, "%s: host too long", url);
        snprintf(host, host_size, "%.*s", (int)(close - p - 1), p + 1);
        colon = close + 1 < p + authority && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(p, ':', authority);
        size_t hl = colon ? (size_t)(colon - p) : authority;
        if (hl == 0 || hl >= host_size)
            return lds_error_set(err, LDS_EINVAL, "%s: bad host", url);
        snprintf(host, host_size, "%.*s", (int)hl, p);
    }
    if (colon) {
        size_t pl = (size_t)(p + authority - colon - 1);
        if (pl == 0 || pl >= port_size)
            return lds_error_set(err, LDS_EINVAL, "%s: bad port", url);
        snprintf(port, port_size, "%.*s", (int)pl, colon + 1);
    } else {
        snprintf(port, port_size, "80");
    }
    const char *path = slash ? slash : "";
    size_t len = strlen(path);
    while (len > 0 && path[len - 1] == '/')
        len--;
    if (len >= prefix_size)
        return lds_error_set(err, LDS_EINVAL, "%s: path too long", url);
    snprintf(prefix, prefix_size, "%.*s", (int)len, path);
    return LDS_OK;
}

static lds_status connect_to(conn *c, const char *host, const char *port, lds_error *err)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return lds_error_set(err, LDS_EUNAVAIL, "%s: cannot resolve %s: %s", c->url, host, gai_strerror(rc));
    lds_status st = LDS_EUNAVAIL;
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai && st != LDS_OK; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (c->fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            st = LDS_OK;
            break;
        }
        if (errno == EINPROGRESS) {
            lds_error tmp;
            lds_error_clear(&tmp);
            int so = 0;
            socklen_t len = sizeof(so);
            if (wait_fd(c, POLLOUT, &tmp) == LDS_OK && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so, &len) == 0 &&
                so == 0) {
                st = LDS_OK;
                break;
            }
            last_errno = so ? so : ETIMEDOUT;
        } else {
            last_errno = errno;
        }
        close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    if (st != LDS_OK)
        return lds_error_set(err, LDS_EUNAVAIL, "%s: cannot connect: %s (is `lodestone serve` running?)", c->url,
                             strerror(last_errno ? last_errno : ECONNREFUSED));
    return LDS_OK;
}

/* Decodes a chunked body in place; -1 when malformed. */
static int dechunk(lds_buf *b)
{
    char *in = (char *)b->data;
    size_t n = b->size, r = 0, w = 0;
    for (;;) {
        char *end;
        if (r >= n)
            return -1;
        unsigned long long len = strtoull(in + r, &end, 16);
        char *eol = memchr(in + r, '\n', n - r);
        if (eol == NULL || end == in + r)
            return -1;
        r = (size_t)(eol - in) + 1;
        if (len == 0)
            break;
        if (len > n - r)
            return -1;
        memmove(in + w, in + r, (size_t)len);
        w += (size_t)len;
        r += (size_t)len;
        if (r < n && in[r] == '\r')
            r++;
        if (r < n && in[r] == '\n')
            r++;
    }
    b->size = w;
    if (b->data)
        b->data[w] = 0;
    return 0;
}

void lds_http_response_cleanup(lds_http_response *response)
{
    lds_buf_cleanup(&response->body);
}

lds_status lds_http_request(const char *base_url, const char *method, const char *target, const char *key,
                            const char *body_path, int timeout_ms, lds_http_response *response, lds_error *err)
{
    response->status = 0;
    lds_buf_init(&response->body, LDS_HTTP_MAX_RESPONSE + 1);
    char host[256], port[16], prefix[1024];
    lds_status st = parse_url(base_url, host, sizeof(host), port, sizeof(port), prefix, sizeof(prefix), err);
    if (st != LDS_OK)
        return st;
    conn c = {-1, timeout_ms > 0 ? timeout_ms : 30000, base_url};
    int body_fd = -1;
    uint64_t body_size = 0;
    if (body_path) {
        body_fd = open(body_path, O_RDONLY | O_CLOEXEC);
        struct stat sb;
        if (body_fd < 0 || fstat(body_fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            st = lds_error_set(err, LDS_EIO, "%s: %s", body_path, body_fd < 0 ? strerror(errno) : "not a regular file");
            if (body_fd >= 0)
                close(body_fd);
            return st;
        }
        body_size = (uint64_t)sb.st_size;
    }
    st = connect_to(&c, host, port, err);
    lds_buf head;
    lds_buf_init(&head, HEAD_MAX);
    char *buf = malloc(64 * 1024);
    if (st == LDS_OK && buf == NULL)
        st = lds_error_set(err, LDS_ENOMEM, "out of memory");
    if (st == LDS_OK) {
        int bad = lds_buf_printf(&head, "%s %s%s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: lodestone/" LDS_VERSION
                                        "\r\nAccept: application/json\r\nConnection: close\r\n",
                                 method, prefix, target, host, port) != LDS_OK;
        if (key && *key)
            bad |= lds_buf_printf(&head, "Authorization: Bearer %s\r\n", key) != LDS_OK;
        if (body_path)
            bad |= lds_buf_printf(&head, "Content-Type: application/octet-stream\r\nContent-Length: %llu\r\n",
                                  (unsigned long long)body_size) != LDS_OK;
        bad |= lds_buf_printf(&head, "\r\n") != LDS_OK;
        st = bad ? lds_error_set(err, LDS_EINVAL, "%s: request too long", base_url)
                 : send_all(&c, head.data, head.size, err);
    }
    for (uint64_t sent = 0; st == LDS_OK && body_path && sent < body_size;) {
        ssize_t n = read(body_fd, buf, 64 * 1024);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            st = lds_error_set(err, LDS_EIO, "%s: %s", body_path, n < 0 ? strerror(errno) : "shrank while sending");
            break;
        }
        st = send_all(&c, buf, (size_t)n, err);
        sent += (uint64_t)n;
        if (st == LDS_EIO && (errno == EPIPE || errno == ECONNRESET)) {
            /* the server answered early (413, 403...): read its answer below */
            lds_error_clear(err);
            st = LDS_OK;
            break;
        }
    }
    /* the response: status line and headers, then the body to EOF */
    lds_buf in;
    lds_buf_init(&in, HEAD_MAX + LDS_HTTP_MAX_RESPONSE);
    while (st == LDS_OK) {
        size_t got = 0;
        st = recv_some(&c, buf, 64 * 1024, &got, err);
        if (st != LDS_OK || got == 0)
            break;
        if (lds_buf_append(&in, buf, got) != LDS_OK)
            st = lds_error_set(err, LDS_ELIMIT, "%s: response over %u MiB", base_url, LDS_HTTP_MAX_RESPONSE >> 20);
    }
    if (st == LDS_OK) {
        char *text = (char *)in.data;
        char *end = text ? memmem(text, in.size, "\r\n\r\n", 4) : NULL;
        int status = 0;
        if (end == NULL || sscanf(text, "HTTP/1.%*d %d", &status) != 1 || status < 100 || status > 999) {
            st = lds_error_set(err, LDS_EFORMAT, "%s: not an HTTP response", base_url);
        } else {
            response->status = status;
            *end = 0;
            int chunked = 0;
            long long length = -1;
            for (char *line = strstr(text, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
                if (strncasecmp(line + 2, "Transfer-Encoding:", 18) == 0 && strcasestr(line + 2, "chunked"))
                    chunked = 1;
                if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
                    length = atoll(line + 17);
            }
            size_t offset = (size_t)(end + 4 - text), size = in.size - offset;
            if (length >= 0 && (uint64_t)length < size)
                size = (size_t)length;
            if (size > LDS_HTTP_MAX_RESPONSE)
                st = lds_error_set(err, LDS_ELIMIT, "%s: response over %u MiB", base_url, LDS_HTTP_MAX_RESPONSE >> 20);
            else if (size > 0)
                st = lds_buf_append(&response->body, in.data + offset, size);
            if (st == LDS_OK && size > 0)
                st = lds_buf_append(&response->body, "", 1);
            if (st == LDS_OK && size > 0)
                response->body.size--; /* NUL terminated beyond size */
            if (st == LDS_OK && chunked && dechunk(&response->body) != 0)
                st = lds_error_set(err, LDS_EFORMAT, "%s: malformed chunked response", base_url);
        }
    }
    lds_buf_cleanup(&in);
    lds_buf_cleanup(&head);
    free(buf);
    if (c.fd >= 0)
        close(c.fd);
    if (body_fd >= 0)
        close(body_fd);
    return st;
}

int lds_http_query_escape(const char *s, char *out, size_t out_size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                    *p == '_' || *p == '.' || *p == '~';
        if (o + (plain ? 1 : 3) >= out_size)
            return -1;
        if (plain) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = 0;
    return 0;
}
