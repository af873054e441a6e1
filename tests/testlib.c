/* testlib.c: see testlib.h. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/file.h>
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

/* The stand-in corpus (tests/make_corpus.py) under the build tree, made once: the first test to
 * need it makes it under a lock while the others wait. Returns its root or NULL. */
static const char *standin_corpus(void)
{
    static const char root[] = LDS_BINARY_DIR "/tests/corpus-standin";
    if (access(root, R_OK) == 0)
        return root;
    int lock = open(LDS_BINARY_DIR "/tests/corpus-standin.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        if (lock >= 0)
            close(lock);
        return NULL;
    }
    if (access(root, R_OK) != 0 &&
        lds_test_run(NULL, "rm -rf '%s.tmp' && python3 '%s/tests/make_corpus.py' '%s.tmp' && mv '%s.tmp' '%s'", root,
                     LDS_SOURCE_DIR, root, root, root) != 0)
        fprintf(stderr, "tests/make_corpus.py failed: no stand-in corpus\n");
    close(lock);
    return access(root, R_OK) == 0 ? root : NULL;
}

const char *lds_test_shared(const char *relative, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s/%s", LDS_SHARED_DIR, relative);
    if (access(out, R_OK) == 0)
        return out;
    /* Without ../shared the corpus is the stand-in: same names, formats and counts. */
    if (strncmp(relative, "corpus", 6) != 0 || (relative[6] != '/' && relative[6] != 0))
        return NULL;
    const char *root = standin_corpus();
    if (root == NULL)
        return NULL;
    snprintf(out, out_size, "%s%s", root, relative + 6);
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

/* One validator run over paths[0..count): its error count, or -1 when the output misses files. */
static int validate_batch(const char *const *paths, size_t count)
{
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

int lds_test_validate_glb(const char *const *paths, size_t count)
{
    const char *validator = getenv("LDS_VALIDATOR");
    char pkg[1024];
    snprintf(pkg, sizeof(pkg), "%s/package.json", validator ? validator : "");
    if (validator == NULL || access(pkg, R_OK) != 0)
        return -1;
    /* batches of 16, so a deep checkout's paths keep each command under lds_test_run's cap */
    int errors = 0;
    for (size_t i = 0; i < count; i += 16)
        errors += validate_batch(paths + i, count - i < 16 ? count - i : 16);
    return errors;
}

void lds_test_check_valid_glb(const char *const *paths, size_t count)
{
    int errors = lds_test_validate_glb(paths, count);
    if (errors < 0) {
        if (getenv("LDS_ALLOW_NO_VALIDATOR")) {
            printf("validator missing: not validated (LDS_ALLOW_NO_VALIDATOR)\n");
            return;
        }
        fprintf(stderr, "the Khronos glTF validator is not installed (scripts/setup.sh)\n");
    }
    LDS_CHECK_INT(errors, ==, 0);
}

void lds_test_service_env(const char *name, char *home, size_t home_size, char *url, size_t url_size)
{
    if (lds_test_run(NULL, "command -v redis-server >/dev/null") != 0)
        lds_test_skip("redis-server is not installed");
    lds_crypto_init();
    signal(SIGPIPE, SIG_IGN);
    snprintf(home, home_size, "%s", lds_test_tmpdir(name));
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_redis_embedded_url(home, url, url_size, &err), &err);
    setenv("LODESTONE_HOME", home, 1);
    unsetenv("LODESTONE_REDIS_URL");
    setenv("LODESTONE_LISTEN", "127.0.0.1:0", 1); /* any free port: tests run side by side */
}

int lds_test_have_tools(const char *const *names, size_t count)
{
    int all = 1;
    for (size_t i = 0; i < count; i++)
        if (lds_test_run(NULL, "command -v '%s' >/dev/null", names[i]) != 0) {
            fprintf(stderr, "%s is missing (scripts/setup.sh installs it)\n", names[i]);
            LDS_CHECK(0);
            all = 0;
        }
    return all;
}

lds_redis_server *lds_test_redis_start(const char *name, char *home, size_t home_size, lds_redis **conn)
{
    if (lds_test_run(NULL, "command -v redis-server >/dev/null") != 0)
        lds_test_skip("redis-server is not installed");
    lds_crypto_init();
    signal(SIGPIPE, SIG_IGN); /* writes to a killed Redis fail with EPIPE instead */
    snprintf(home, home_size, "%s", lds_test_tmpdir(name));
    setenv("LODESTONE_HOME", home, 1);
    lds_error err;
    lds_error_clear(&err);
    lds_redis_server *server = NULL;
    LDS_CHECK_OK(lds_redis_server_start(home, &server, &err), &err);
    if (conn) {
        *conn = NULL;
        if (server)
            LDS_CHECK_OK(lds_redis_connect(lds_redis_server_url(server), conn, &err), &err);
    }
    return server;
}

void lds_test_similarity_transform(float *positions, size_t vertex_count, const double angles[3], double scale,
                                   const double translation[3])
{
    double cx = cos(angles[0]), sx = sin(angles[0]), cy = cos(angles[1]), sy = sin(angles[1]);
    double cz = cos(angles[2]), sz = sin(angles[2]);
    double r[9] = {cy * cz, -cy * sz, sy, sx * sy * cz + cx * sz, -sx * sy * sz + cx * cz, -sx * cy,
                   -cx * sy * cz + sx * sz, cx * sy * sz + sx * cz, cx * cy};
    for (size_t i = 0; i < vertex_count; i++) {
        float *p = positions + 3 * i;
        double q[3];
        for (int k = 0; k < 3; k++)
            q[k] = scale * (r[3 * k] * p[0] + r[3 * k + 1] * p[1] + r[3 * k + 2] * p[2]) + translation[k];
        for (int k = 0; k < 3; k++)
            p[k] = (float)q[k];
    }
}

long long lds_test_shape_index_members(lds_redis *r)
{
    lds_redis_reply *keys = NULL;
    lds_error err;
    lds_error_clear(&err);
    long long total = 0;
    LDS_CHECK_OK(lds_redis_command(r, &keys, &err, "KEYS lds:shape:*"), &err);
    for (size_t i = 0; keys && i < keys->elements; i++) {
        lds_redis_reply *n = NULL;
        if (lds_redis_command(r, &n, &err, "SCARD %s", keys->element[i].str) == LDS_OK)
            total += n->integer;
        lds_redis_reply_free(n);
    }
    lds_redis_reply_free(keys);
    return total;
}
