/* guard.c: the API's defences against connection floods (issue 9, Denial of service).
 *
 * libmicrohttpd serves idle connections without a thread each (epoll), so what a flood of idle or
 * header-trickling connections exhausts is the connection table. The guard keeps it for the
 * clients that use it:
 *   - per client address, at most LODESTONE_MAX_CONNECTIONS_PER_CLIENT connections;
 *   - of LODESTONE_MAX_CONNECTIONS in all, the last tenth is kept for addresses that presented a
 *     valid key in the last ten minutes (established clients), so a flood from many addresses
 *     does not lock out the studios and museums already using the service;
 *   - a request head (request line and headers) must arrive whole within LODESTONE_REQUEST_HEAD_MS
 *     of the connection's start (or of the previous response): a reaper thread shuts down the
 *     sockets of those that trickle. libmicrohttpd's own timeout only measures inactivity, which
 *     a byte every few seconds defeats. shutdown(2), not close(2): the descriptor stays
 *     libmicrohttpd's, which closes it after telling us (MHD_CONNECTION_NOTIFY_CLOSED), and
 *     entries leave the list under the lock before that, so a reused descriptor is never hit. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "api_internal.h"

#define ESTABLISHED_SLOTS 1024
#define ESTABLISHED_MS (600.0 * 1000.0)
#define REAPER_PERIOD_MS 250

struct api_conn {
    int fd;
    unsigned char addr[16]; /* IPv4 mapped into IPv6 */
    double head_since_ms;   /* when the current request head began to be awaited */
    int head_done;
    int nul_in_target; /* a %00 was decoded in this request's target */
    api_conn *prev, *next;
};

typedef struct established {
    unsigned char addr[16];
    double seen_ms;
} established;

struct api_guard {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t reaper;
    int reaper_running, stopping;
    api_conn *conns;
    size_t count;
    uint64_t per_client, total, reserve;
    uint64_t head_ms;
    uint64_t refused, reaped; /* for /metrics */
    established seen[ESTABLISHED_SLOTS];
};

static void address_key(const struct sockaddr *sa, unsigned char out[16])
{
    memset(out, 0, 16);
    if (sa != NULL && sa->sa_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

static size_t slot_of(const unsigned char addr[16])
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h % ESTABLISHED_SLOTS;
}

/* Under the lock. */
static int is_established(const api_guard *g, const unsigned char addr[16], double now)
{
    const established *e = &g->seen[slot_of(addr)];
    return memcmp(e->addr, addr, 16) == 0 && e->seen_ms > 0 && now - e->seen_ms < ESTABLISHED_MS;
}

/* MHD_AcceptPolicyCallback: runs before a connection is set up. */
enum MHD_Result api_guard_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
    (void)len;
    api_guard *g = cls;
    unsigned char addr[16];
    address_key(sa, addr);
    double now = lds_time_ms();
    pthread_mutex_lock(&g->lock);
    size_t same = 0;
    for (const api_conn *c = g->conns; c; c = c->next)
        same += memcmp(c->addr, addr, 16) == 0;
    int ok = same < g->per_client && g->count < g->total &&
             (g->count < g->total - g->reserve || is_established(g, addr, now));
    if (!ok)
        g->refused++;
    pthread_mutex_unlock(&g->lock);
    return ok ? MHD_YES : MHD_NO;
}

/* MHD_NotifyConnectionCallback: the list of open connections. */
void api_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    api_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        api_conn *c = calloc(1, sizeof(*c));
        if (c == NULL)
            return;
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        c->fd = fd ? fd->connect_fd : -1;
        address_key(ad ? ad->client_addr : NULL, c->addr);
        c->head_since_ms = lds_time_ms();
        pthread_mutex_lock(&g->lock);
        c->next = g->conns;
        if (g->conns)
            g->conns->prev = c;
        g->conns = c;
        g->count++;
        pthread_mutex_unlock(&g->lock);
        *socket_context = c;
        return;
    }
    api_conn *c = *socket_context;
    if (c == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->count--;
    pthread_mutex_unlock(&g->lock);
    free(c);
    *socket_context = NULL;
}

static void *reaper_main(void *arg)
{
    api_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        double now = lds_time_ms();
        for (api_conn *c = g->conns; c; c = c->next)
            if (!c->head_done && c->fd >= 0 && now - c->head_since_ms > (double)g->head_ms) {
                shutdown(c->fd, SHUT_RDWR);
                c->head_done = 1; /* once */
                g->reaped++;
            }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += REAPER_PERIOD_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cond, &g->lock, &until);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* Raises the soft limit on open files to the hard one: a connection is a descriptor. */
static void raise_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

lds_status api_guard_create(api_guard **out, lds_error *err)
{
    *out = NULL;
    api_guard *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return lds_error_set(err, LDS_ENOMEM, "api: out of memory");
    lds_status st;
    if ((st = lds_setting_u64("LODESTONE_MAX_CONNECTIONS_PER_CLIENT", &g->per_client, err)) != LDS_OK ||
        (st = lds_setting_u64("LODESTONE_MAX_CONNECTIONS", &g->total, err)) != LDS_OK ||
        (st = lds_setting_ms("LODESTONE_REQUEST_HEAD_MS", &g->head_ms, err)) != LDS_OK) {
        free(g);
        return st;
    }
    g->reserve = g->total / 10;
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &attr);
    pthread_condattr_destroy(&attr);
    raise_file_limit();
    g->reaper_running = pthread_create(&g->reaper, NULL, reaper_main, g) == 0;
    if (!g->reaper_running) {
        api_guard_destroy(g);
        return lds_error_set(err, LDS_EIO, "api: cannot start the connection reaper");
    }
    *out = g;
    return LDS_OK;
}

void api_guard_destroy(api_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    if (g->reaper_running)
        pthread_join(g->reaper, NULL);
    while (g->conns) { /* the daemon is stopped first; its notifications have all come */
        api_conn *next = g->conns->next;
        free(g->conns);
        g->conns = next;
    }
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

unsigned api_guard_daemon_limit(const api_guard *g)
{
    return (unsigned)(g->total + 64); /* the daemon's own table is a little larger: ours decides */
}

void api_guard_head_done(api_guard *g, struct MHD_Connection *connection, int authenticated)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    api_conn *c = info ? info->socket_context : NULL;
    pthread_mutex_lock(&g->lock);
    if (c)
        c->head_done = 1;
    if (authenticated && c) {
        established *e = &g->seen[slot_of(c->addr)];
        memcpy(e->addr, c->addr, 16);
        e->seen_ms = lds_time_ms();
    }
    pthread_mutex_unlock(&g->lock);
}

void api_guard_request_done(api_guard *g, struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    api_conn *c = info ? info->socket_context : NULL;
    if (c == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    c->head_done = 0; /* keep-alive: the next head is awaited from now */
    c->head_since_ms = lds_time_ms();
    pthread_mutex_unlock(&g->lock);
}

static api_conn *conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

size_t api_guard_unescape(void *cls, struct MHD_Connection *connection, char *text)
{
    api_guard *g = cls;
    for (const char *p = text; (p = strchr(p, '%')) != NULL; p++)
        if (p[1] == '0' && p[2] == '0') {
            api_conn *c = conn_of(connection);
            pthread_mutex_lock(&g->lock);
            if (c)
                c->nul_in_target = 1;
            pthread_mutex_unlock(&g->lock);
            break;
        }
    return MHD_http_unescape(text);
}

int api_guard_take_nul(api_guard *g, struct MHD_Connection *connection)
{
    api_conn *c = conn_of(connection);
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&g->lock);
    int nul = c->nul_in_target;
    c->nul_in_target = 0;
    pthread_mutex_unlock(&g->lock);
    return nul;
}

void api_guard_metrics(api_guard *g, uint64_t *open, uint64_t *refused, uint64_t *reaped)
{
    pthread_mutex_lock(&g->lock);
    *open = g->count;
    *refused = g->refused;
    *reaped = g->reaped;
    pthread_mutex_unlock(&g->lock);
}
