/* testlib.c: see testlib.h. */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

int lds_test_failures;

int lds_test_result(void)
{
    if (lds_test_failures)
        fprintf(stderr, "%d check(s) failed\n", lds_test_failures);
    return lds_test_failures ? 1 : 0;
}

void lds_test_skip(const char *why)
{
    printf("SKIP: %s\n", why);
    exit(77);
}

const char *lds_test_shared(const char *relative, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s/%s", LDS_SHARED_DIR, relative);
    return access(out, R_OK) == 0 ? out : NULL;
}

const char *lds_test_bin(void)
{
    const char *bin = getenv("LODESTONE_BIN");
    return bin ? bin : LDS_BINARY_DIR "/cli/lodestone";
}

const char *lds_test_tmpdir(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/tests/tmp/%s", LDS_BINARY_DIR, name);
    char cmd[2200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot create %s\n", path);
        exit(1);
    }
    return path;
}

int lds_test_run(char **output, const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    lds_buf buf;
    lds_buf_init(&buf, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        lds_buf_append(&buf, chunk, n);
    int status = pclose(p);
    if (output)
        *output = buf.data ? (char *)lds_buf_detach(&buf, NULL) : strdup("");
    lds_buf_cleanup(&buf);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

int lds_test_validate_glb(const char *const *paths, size_t count)
{
    const char *validator = getenv("LDS_VALIDATOR");
    char pkg[1024];
    snprintf(pkg, sizeof(pkg), "%s/package.json", validator ? validator : "");
    if (validator == NULL || access(pkg, R_OK) != 0)
        return -1;
    lds_buf cmd;
    lds_buf_init(&cmd, 0);
    lds_buf_printf(&cmd, "node '%s/tools/validate.js'", LDS_SOURCE_DIR);
    for (size_t i = 0; i < count; i++)
        lds_buf_printf(&cmd, " '%s'", paths[i]);
    char *out = NULL;
    lds_test_run(&out, "%s", (char *)cmd.data);
    lds_buf_cleanup(&cmd);
    int errors = 0, files = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        const char *e = strstr(line, "\"errors\":");
        if (e == NULL)
            continue;
        files++;
        int n = atoi(e + 9);
        errors += n;
        if (n > 0)
            fprintf(stderr, "validator: %s\n", line);
    }
    free(out);
    if (files != (int)count) {
        fprintf(stderr, "validator: reported %d of %zu files\n", files, count);
        errors += (int)count - files;
    }
    return errors;
}

/* ---- a private service ---- */

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    unsigned port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int lds_test_service_start(lds_test_service *s, const char *home, unsigned workers)
{
    memset(s, 0, sizeof(*s));
    if (lds_test_run(NULL, "command -v redis-server >/dev/null && command -v curl >/dev/null") != 0)
        lds_test_skip("redis-server or curl is not installed");
    snprintf(s->home, sizeof(s->home), "%s", home);
    s->port = free_port();
    if (s->port == 0) {
        fprintf(stderr, "no free port\n");
        return -1;
    }
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", s->port);
    char listen[64], log[1100];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", s->port);
    setenv("LODESTONE_HOME", home, 1);
    setenv("LODESTONE_LISTEN", listen, 1);
    unsetenv("LODESTONE_REDIS_URL");
    if (lds_test_run(NULL, "mkdir -p '%s' && '%s' keys init >/dev/null 2>&1", home, lds_test_bin()) != 0) {
        fprintf(stderr, "lodestone keys init failed in %s\n", home);
        return -1;
    }
    snprintf(log, sizeof(log), "%s/serve.log", home);
    char count[16];
    snprintf(count, sizeof(count), "%u", workers);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        dup2(2, 1);
        execl(lds_test_bin(), "lodestone", "serve", "--workers", count, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    s->pid = pid;
    for (int i = 0; i < 600; i++) {
        char *body = NULL, url[128];
        snprintf(url, sizeof(url), "%s/healthz", s->url);
        int code = lds_test_http(&body, "GET", url, NULL, NULL);
        free(body);
        if (code == 200)
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            fprintf(stderr, "lodestone serve exited; see %s\n", log);
            lds_test_run(NULL, "tail -20 '%s' >&2", log);
            return -1;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "lodestone serve did not answer /healthz within 60 s\n");
    lds_test_service_stop(s);
    return -1;
}

void lds_test_service_stop(lds_test_service *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st, done = 0;
        for (int i = 0; i < 300 && !done; i++) {
            pid_t r = waitpid(s->pid, &st, WNOHANG);
            done = r == s->pid || (r < 0 && errno == ECHILD);
            if (!done) {
                struct timespec ts = {0, 100 * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
        kill(-s->pid, SIGKILL); /* whatever is left of its group */
        if (!done)
            waitpid(s->pid, &st, 0);
        s->pid = 0;
    }
    if (s->home[0])
        lds_test_run(NULL, "test -S '%s/redis/redis.sock' && redis-cli -s '%s/redis/redis.sock' shutdown nosave "
                           ">/dev/null 2>&1; true",
                     s->home, s->home);
}

int lds_test_service_key(const lds_test_service *s, const char *role, char key[80])
{
    char *out = NULL;
    int rc = lds_test_run(&out, "LODESTONE_HOME='%s' '%s' keys create --role %s --name test-%s 2>/dev/null", s->home,
                          lds_test_bin(), role, role);
    key[0] = 0;
    if (rc == 0 && out)
        sscanf(out, "%79s", key);
    free(out);
    return key[0] ? 0 : -1;
}

int lds_test_http(char **body, const char *method, const char *url, const char *key, const char *body_path)
{
    char auth[128] = "", data[1200] = "";
    if (key)
        snprintf(auth, sizeof(auth), "-H 'Authorization: Bearer %s'", key);
    if (body_path)
        snprintf(data, sizeof(data), "--data-binary '@%s' -H 'Content-Type: application/octet-stream'", body_path);
    char *out = NULL;
    int rc = lds_test_run(&out, "curl -s -m 120 -X %s %s %s %s -w '\\n%%{http_code}' '%s'", method, auth, data,
                          body ? "" : "-o /dev/null", url);
    int code = 0;
    if (out) {
        char *nl = strrchr(out, '\n');
        if (nl) {
            code = atoi(nl + 1);
            *nl = 0;
        }
    }
    if (rc != 0)
        code = 0;
    if (body)
        *body = out;
    else
        free(out);
    return code;
}
