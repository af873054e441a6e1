/* test_api_lib.c: see test_api_lib.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "test_api_lib.h"

static api_env *current;
static int reaper_fd = -1;

void api_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- the reaper: kills the recorded process groups when the test's pipe end closes ---- */

static void reaper_main(int fd)
{
    pid_t groups[64];
    size_t count = 0;
    char line[64];
    size_t used = 0;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (c != '\n') {
            if (used < sizeof(line) - 1)
                line[used++] = c;
            continue;
        }
        line[used] = 0;
        used = 0;
        pid_t pid = (pid_t)atol(line + 1);
        if (pid <= 1)
            continue;
        if (line[0] == '+' && count < 64) {
            groups[count++] = pid;
        } else if (line[0] == '-') {
            for (size_t i = 0; i < count; i++)
                if (groups[i] == pid)
                    groups[i] = groups[--count];
        }
    }
    for (size_t i = 0; i < count; i++)
        kill(-groups[i], SIGKILL);
    _exit(0);
}

static void reaper_start(void)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        close(fds[1]);
        setsid(); /* out of the test's group: a group kill of the test leaves the reaper to act */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        reaper_main(fds[0]);
    }
    close(fds[0]);
    reaper_fd = fds[1];
    fcntl(reaper_fd, F_SETFD, FD_CLOEXEC); /* children must not hold it open */
}

static void reaper_note(char sign, pid_t pid)
{
    if (reaper_fd < 0)
        return;
    char line[32];
    int n = snprintf(line, sizeof(line), "%c%d\n", sign, (int)pid);
    if (write(reaper_fd, line, (size_t)n) != n)
        perror("reaper");
}

static void on_fatal_signal(int sig)
{
    /* async-signal-safe: kill the groups, leave the rest to the reaper */
    if (current) {
        if (current->serve_pid > 0)
            kill(-current->serve_pid, SIGKILL);
        if (current->redis_pid > 0)
            kill(-current->redis_pid, SIGKILL);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void at_exit(void)
{
    if (current)
        api_env_stop(current);
}

void api_env_init(api_env *e, const char *name)
{
    memset(e, 0, sizeof(*e));
    if (lds_test_run(NULL, "command -v redis-server >/dev/null 2>&1") != 0)
        lds_test_skip("redis-server is not installed");
    if (lds_test_run(NULL, "command -v curl >/dev/null 2>&1") != 0)
        lds_test_skip("curl is not installed");
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->dir, sizeof(e->dir), "%s", lds_test_tmpdir(name));
    snprintf(e->home, sizeof(e->home), "%s/home", e->dir);
    snprintf(e->redis_dir, sizeof(e->redis_dir), "%s/redis", e->dir);
    mkdir(e->home, 0755);
    /* The socket goes where the embedded server's would (a short runtime folder), so a deep
     * build tree works. */
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK(lds_redis_embedded_url(e->home, e->url, sizeof(e->url), &err) == LDS_OK);
    snprintf(e->sock, sizeof(e->sock), "%s", e->url + strlen("unix://"));
    mkdir(e->redis_dir, 0700);
    setenv("LODESTONE_HOME", e->home, 1);
    setenv("LODESTONE_REDIS_URL", e->url, 1);
    unsetenv("LODESTONE_LISTEN");
    current = e;
    reaper_start();
    atexit(at_exit);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int redis_ping(const char *url)
{
    lds_error err;
    lds_error_clear(&err);
    lds_redis *r = NULL;
    if (lds_redis_connect(url, &r, &err) != LDS_OK)
        return 0;
    int ok = lds_redis_command(r, NULL, &err, "PING") == LDS_OK;
    lds_redis_close(r);
    return ok;
}

int api_redis_start(api_env *e)
{
    unlink(e->sock);
    char log[1300];
    snprintf(log, sizeof(log), "%s/redis.log", e->redis_dir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", e->sock, "--unixsocketperm", "700",
               "--dir", e->redis_dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
               "--daemonize", "no", "--logfile", log, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    e->redis_pid = pid;
    reaper_note('+', pid);
    for (int i = 0; i < 3000; i++) {
        if (redis_ping(e->url))
            return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "redis-server exited at start (see %s)\n", log);
            reaper_note('-', pid);
            e->redis_pid = 0;
            return -1;
        }
        api_sleep_ms(10);
    }
    fprintf(stderr, "redis-server did not answer within 30 s\n");
    return -1;
}

int api_keys_init(api_env *e)
{
    return lds_test_run(NULL, "'%s' keys init >/dev/null 2>&1", lds_test_bin());
}

int api_serve_start(api_env *e)
{
    char log[1200];
    snprintf(log, sizeof(log), "%s/serve.log", e->dir);
    struct stat st;
    off_t offset = stat(log, &st) == 0 ? st.st_size : 0;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("LODESTONE_LISTEN", "127.0.0.1:0", 1);
        for (size_t i = 0; i < sizeof(e->serve_env) / sizeof(e->serve_env[0]) && e->serve_env[i]; i++)
            putenv((char *)e->serve_env[i]);
        char workers[16];
        snprintf(workers, sizeof(workers), "%d", e->workers < 0 ? 0 : e->workers);
        if (e->workers != 0)
            execl(lds_test_bin(), "lodestone", "serve", "--workers", workers, (char *)NULL);
        else
            execl(lds_test_bin(), "lodestone", "serve", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    e->serve_pid = pid;
    reaper_note('+', pid);
    e->port = 0;
    for (int i = 0; i < 3000 && e->port == 0; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "lodestone serve exited at start (see %s)\n", log);
            reaper_note('-', pid);
            e->serve_pid = 0;
            return -1;
        }
        FILE *f = fopen(log, "r");
        if (f) {
            fseeko(f, offset, SEEK_SET);
            char line[512];
            while (fgets(line, sizeof(line), f)) {
                const char *p = strstr(line, "listening on http://127.0.0.1:");
                if (p)
                    e->port = (unsigned)atoi(p + strlen("listening on http://127.0.0.1:"));
            }
            fclose(f);
        }
        if (e->port == 0)
            api_sleep_ms(10);
    }
    if (e->port == 0) {
        fprintf(stderr, "lodestone serve did not report its port within 30 s\n");
        return -1;
    }
    snprintf(e->base, sizeof(e->base), "http://127.0.0.1:%u", e->port);
    for (int i = 0; i < 300; i++) {
        api_resp r;
        int status = api_curl(e, &r, NULL, "'%s/healthz'", e->base);
        api_resp_free(&r);
        if (status == 200)
            return 0;
        api_sleep_ms(100);
    }
    fprintf(stderr, "lodestone serve: /healthz did not answer 200 within 30 s\n");
    return -1;
}

int api_env_start(api_env *e)
{
    return api_redis_start(e) == 0 && api_keys_init(e) == 0 && api_serve_start(e) == 0 ? 0 : -1;
}

/* Waits up to ms for pid to exit; 1 when it did. */
static int wait_exit(pid_t pid, long ms)
{
    for (long waited = 0; waited <= ms; waited += 20) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return 1;
        api_sleep_ms(20);
    }
    return 0;
}

void api_serve_stop(api_env *e)
{
    if (e->serve_pid <= 0)
        return;
    kill(e->serve_pid, SIGTERM);
    if (!wait_exit(e->serve_pid, 20000))
        fprintf(stderr, "lodestone serve did not stop within 20 s of SIGTERM; killing it\n");
    kill(-e->serve_pid, SIGKILL); /* anything left in its group */
    waitpid(e->serve_pid, NULL, WNOHANG);
    reaper_note('-', e->serve_pid);
    e->serve_pid = 0;
}

void api_serve_kill9(api_env *e)
{
    if (e->serve_pid <= 0)
        return;
    kill(-e->serve_pid, SIGKILL);
    wait_exit(e->serve_pid, 10000);
    reaper_note('-', e->serve_pid);
    e->serve_pid = 0;
}

void api_redis_stop(api_env *e)
{
    if (e->redis_pid <= 0)
        return;
    kill(e->redis_pid, SIGTERM);
    if (!wait_exit(e->redis_pid, 20000))
        kill(-e->redis_pid, SIGKILL);
    wait_exit(e->redis_pid, 5000);
    reaper_note('-', e->redis_pid);
    e->redis_pid = 0;
}

void api_redis_kill9(api_env *e)
{
    if (e->redis_pid <= 0)
        return;
    kill(-e->redis_pid, SIGKILL);
    wait_exit(e->redis_pid, 10000);
    reaper_note('-', e->redis_pid);
    e->redis_pid = 0;
}

void api_env_stop(api_env *e)
{
    api_serve_stop(e);
    api_redis_stop(e);
}

int api_key_create(const char *role, const char *name, char *out, size_t size)
{
    char *text = NULL;
    int rc = lds_test_run(&text, "'%s' keys create --role %s --name '%s' 2>/dev/null", lds_test_bin(), role, name);
    out[0] = 0;
    if (rc == 0 && text) {
        size_t n = strcspn(text, "\r\n");
        if (n < size) {
            memcpy(out, text, n);
            out[n] = 0;
        }
    }
    free(text);
    return rc == 0 && out[0] ? 0 : -1;
}

/* ---- HTTP through curl ---- */

int api_curl(api_env *e, api_resp *r, const char *key, const char *fmt, ...)
{
    memset(r, 0, sizeof(*r));
    char args[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    char body[1200], headers[1200];
    snprintf(body, sizeof(body), "%s/curl.body", e->dir);
    snprintf(headers, sizeof(headers), "%s/curl.headers", e->dir);
    unlink(body);
    unlink(headers);
    char auth[256] = "";
    if (key)
        snprintf(auth, sizeof(auth), "-H 'Authorization: Bearer %s'", key);
    char *out = NULL;
    lds_test_run(&out, "curl -s --max-time 120 -o '%s' -D '%s' -w '%%{http_code}' %s %s", body, headers, auth, args);
    r->status = out ? atoi(out) : 0;
    free(out);
    unsigned char *data = NULL;
    size_t size = 0;
    lds_error err;
    lds_error_clear(&err);
    if (lds_file_read(body, 0, &data, &size, &err) == LDS_OK) {
        char *text = realloc(data, size + 1);
        if (text) {
            text[size] = 0;
            r->body = text;
            r->size = size;
        } else {
            free(data);
        }
    }
    data = NULL;
    if (lds_file_read(headers, 0, &data, &size, &err) == LDS_OK) {
        char *text = realloc(data, size + 1);
        if (text) {
            text[size] = 0;
            r->headers = text;
        } else {
            free(data);
        }
    }
    return r->status;
}

int api_request(api_env *e, api_resp *r, const char *method, const char *path, const char *key,
                const char *body_path)
{
    if (body_path)
        return api_curl(e, r, key, "-X %s --data-binary '@%s' -H 'Content-Type: application/octet-stream' '%s%s'",
                        method, body_path, e->base, path);
    return api_curl(e, r, key, "-X %s '%s%s'", method, e->base, path);
}

void api_resp_free(api_resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

const char *api_header(const api_resp *r, const char *name, char *out, size_t size)
{
    const char *found = NULL;
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t vlen = (size_t)(line + len - v);
            while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
                vlen--;
            if (vlen >= size)
                vlen = size - 1;
            memcpy(out, v, vlen);
            out[vlen] = 0;
            found = out;
        }
        line = end ? end + 1 : line + len;
    }
    return found;
}

json_t *api_json(const api_resp *r)
{
    if (r->body == NULL)
        return NULL;
    json_error_t jerr;
    return json_loadb(r->body, r->size, 0, &jerr);
}

int api_is_error_body(const api_resp *r)
{
    json_t *j = api_json(r);
    json_t *e = json_object_get(j, "error");
    int ok = json_is_string(json_object_get(e, "code")) && json_is_string(json_object_get(e, "message")) &&
             json_string_length(json_object_get(e, "message")) > 0;
    if (!ok)
        fprintf(stderr, "not a JSON error body: %s\n", r->body ? r->body : "(none)");
    json_decref(j);
    return ok;
}

json_t *api_wait_asset(api_env *e, const char *key, const char *id, int timeout_s, int *saw_progress)
{
    json_t *record = NULL;
    if (saw_progress)
        *saw_progress = 0;
    double deadline = lds_time_ms() + timeout_s * 1000.0;
    while (lds_time_ms() < deadline) {
        api_resp r;
        api_curl(e, &r, key, "'%s/v1/assets/%s'", e->base, id);
        json_decref(record);
        record = r.status == 200 ? api_json(&r) : NULL;
        api_resp_free(&r);
        const char *status = json_string_value(json_object_get(record, "status"));
        json_t *progress = json_object_get(record, "progress");
        int final = status && (strcmp(status, "ready") == 0 || strcmp(status, "failed") == 0);
        if (saw_progress && json_is_string(json_object_get(progress, "stage")) && *saw_progress < 2)
            *saw_progress = final ? 1 : 2;
        if (final)
            return record;
        api_sleep_ms(150);
    }
    fprintf(stderr, "asset %s did not end ready or failed within %d s\n", id, timeout_s);
    return record;
}

long api_tree_size(api_env *e)
{
    api_resp r;
    long size = -1;
    if (api_curl(e, &r, NULL, "'%s/v1/log/checkpoint'", e->base) == 200 && r.body) {
        const char *nl = strchr(r.body, '\n');
        if (nl)
            size = atol(nl + 1);
    }
    api_resp_free(&r);
    return size;
}

int api_write_sphere(const char *path, unsigned seed, int n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int sectors = 2 * n;
    long vertices = 2 + (long)(n - 1) * sectors;
    long faces = 2L * sectors + 2L * (n - 2) * sectors;
    fprintf(f, "ply\nformat ascii 1.0\ncomment lodestone test sphere %u\nelement vertex %ld\n"
               "property float x\nproperty float y\nproperty float z\nelement face %ld\n"
               "property list uchar int vertex_indices\nend_header\n",
            seed, vertices, faces);
    double a = 3 + seed % 5, b = 2 + (seed / 5) % 4, phase = seed * 0.37;
    const double pi = 3.14159265358979323846;
    fprintf(f, "0 0 %.6f\n", 1.0 + 0.05 * sin(phase));
    for (int i = 1; i < n; i++) {
        double theta = pi * i / n;
        for (int j = 0; j < sectors; j++) {
            double phi = 2 * pi * j / sectors;
            double radius = 1.0 + 0.12 * sin(a * theta + phase) * cos(b * phi + phase * 0.7);
            fprintf(f, "%.6f %.6f %.6f\n", radius * sin(theta) * cos(phi), radius * sin(theta) * sin(phi),
                    radius * cos(theta));
        }
    }
    fprintf(f, "0 0 %.6f\n", -1.0 - 0.05 * cos(phase));
    long bottom = vertices - 1;
    for (int j = 0; j < sectors; j++) /* top fan */
        fprintf(f, "3 0 %d %d\n", 1 + j, 1 + (j + 1) % sectors);
    for (int i = 0; i < n - 2; i++)
        for (int j = 0; j < sectors; j++) {
            long v00 = 1 + (long)i * sectors + j, v01 = 1 + (long)i * sectors + (j + 1) % sectors;
            long v10 = v00 + sectors, v11 = v01 + sectors;
            fprintf(f, "3 %ld %ld %ld\n3 %ld %ld %ld\n", v00, v10, v11, v00, v11, v01);
        }
    long last = 1 + (long)(n - 2) * sectors;
    for (int j = 0; j < sectors; j++) /* bottom fan */
        fprintf(f, "3 %ld %ld %ld\n", bottom, last + (j + 1) % sectors, last + j);
    return fclose(f) == 0 ? 0 : -1;
}

int api_upload(api_env *e, const char *key, const char *path, const char *filename, char *asset, char *job)
{
    api_resp r;
    int status = api_curl(e, &r, key, "--data-binary '@%s' -H 'Content-Type: application/octet-stream' "
                                      "'%s/v1/assets?filename=%s&title=Test%%20model&license=CC0-1.0'",
                          path, e->base, filename);
    if (status == 202) {
        json_t *j = api_json(&r);
        const char *a = json_string_value(json_object_get(json_object_get(j, "asset"), "id"));
        const char *b = json_string_value(json_object_get(json_object_get(j, "job"), "id"));
        if (asset)
            snprintf(asset, LDS_ID_MAX, "%s", a ? a : "");
        if (job)
            snprintf(job, LDS_ID_MAX, "%s", b ? b : "");
        json_decref(j);
    } else {
        fprintf(stderr, "upload of %s: %d %s\n", filename, status, r.body ? r.body : "");
    }
    api_resp_free(&r);
    return status;
}
