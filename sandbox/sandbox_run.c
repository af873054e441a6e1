/* sandbox_run.c: parsing untrusted bytes in a locked-down child process (DESIGN.md 4 step 2, 7).
 *
 * The parent forks; the child sees the model bytes through fork's copy-on-write memory and never
 * touches the filesystem. Before parsing, the child drops to a few descriptors (its end of a
 * socketpair, /dev/null on stdin/stdout, stderr), sets rlimits (address space, CPU, file size 0,
 * no core, few descriptors) and installs a seccomp filter (seccomp_filter.c) that kills it on
 * open, socket, execve, fork... Sidecar files (.mtl, .bin, textures) are requested from the parent
 * over the socket, and the parent serves them through the caller's reader, capped. The child sends
 * back the model in the flat format of model_wire.c, which the parent decodes with caps and
 * validates. The parent alone keeps the clock: past the wall-clock limit it SIGKILLs the child.
 * Other hostile-input work (decoding and re-encoding images) runs through the same child with
 * lds_sandbox_run_work: the child sends back the work's bytes instead of a model.
 *
 * Messages on the socket: u32 type, u32 zero, u64 payload length, payload. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "sandbox_internal.h"

#define MIB (1024ull * 1024)
#define DEFAULT_MEMORY (4096 * MIB)
#define DEFAULT_CPU 120u
#define DEFAULT_WALL 60u
#define DEFAULT_FILE_BYTES (2048 * MIB)
#define NAME_MAX_BYTES 4096u
#define MESSAGE_MAX_BYTES 4096u
#define CHILD_FD 3

enum { MSG_READ = 1, MSG_DATA = 2, MSG_MISSING = 3, MSG_MODEL = 4, MSG_ERROR = 5 };

typedef struct msg_header {
    uint32_t type, zero;
    uint64_t length;
} msg_header;

#if defined(__SANITIZE_ADDRESS__)
#define LDS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LDS_UNDER_ASAN 1
#endif
#endif
#ifndef LDS_UNDER_ASAN
#define LDS_UNDER_ASAN 0
#endif

void lds_sandbox_limits_from(lds_sandbox_limits *out, const lds_limits *limits)
{
    memset(out, 0, sizeof(*out));
    out->memory_bytes = limits->parse_memory_bytes;
    out->cpu_seconds = limits->parse_cpu_seconds;
    out->wall_seconds = limits->parse_seconds;
    out->max_file_bytes = limits->upload_bytes;
    out->mesh.max_triangles = limits->triangles;
}

typedef struct resolved_limits {
    uint64_t memory_bytes, max_file_bytes;
    unsigned cpu_seconds, wall_seconds;
} resolved_limits;

static resolved_limits resolve(const lds_sandbox_limits *limits)
{
    resolved_limits r = {DEFAULT_MEMORY, DEFAULT_FILE_BYTES, DEFAULT_CPU, DEFAULT_WALL};
    if (limits) {
        if (limits->memory_bytes)
            r.memory_bytes = limits->memory_bytes;
        if (limits->max_file_bytes)
            r.max_file_bytes = limits->max_file_bytes;
        if (limits->cpu_seconds)
            r.cpu_seconds = limits->cpu_seconds;
        if (limits->wall_seconds)
            r.wall_seconds = limits->wall_seconds;
    }
    return r;
}

/* ------------------------------------------------------------------------------------------------
 * Child
 * --------------------------------------------------------------------------------------------- */

static int child_write_all(const void *data, size_t size)
{
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t n = send(CHILD_FD, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static int child_read_all(void *data, size_t size)
{
    unsigned char *p = data;
    while (size > 0) {
        ssize_t n = read(CHILD_FD, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static int child_send(uint32_t type, const void *a, size_t a_size, const void *b, size_t b_size)
{
    msg_header h = {type, 0, (uint64_t)a_size + b_size};
    if (child_write_all(&h, sizeof(h)) != 0 || (a_size && child_write_all(a, a_size) != 0) ||
        (b_size && child_write_all(b, b_size) != 0))
        return -1;
    return 0;
}

static void child_fail(lds_status code, const char *message)
{
    uint32_t c = (uint32_t)code;
    size_t n = strlen(message);
    if (n > MESSAGE_MAX_BYTES - 4)
        n = MESSAGE_MAX_BYTES - 4;
    child_send(MSG_ERROR, &c, sizeof(c), message, n);
    _exit(0);
}

/* The reader the parser sees inside the child: asks the parent. */
static int child_sidecar_read(void *ctx, const char *name, unsigned char **data, size_t *size)
{
    uint64_t max = *(const uint64_t *)ctx;
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_BYTES)
        return -1;
    msg_header h;
    if (child_send(MSG_READ, name, n, NULL, 0) != 0 || child_read_all(&h, sizeof(h)) != 0)
        _exit(3); /* the parent is gone or broke the protocol */
    if (h.type == MSG_MISSING)
        return -1;
    if (h.type != MSG_DATA || h.length > max)
        _exit(3);
    unsigned char *p = malloc(h.length ? (size_t)h.length : 1);
    if (p == NULL)
        child_fail(LDS_ENOMEM, "out of memory receiving a sidecar file");
    if (child_read_all(p, (size_t)h.length) != 0)
        _exit(3);
    *data = p;
    *size = (size_t)h.length;
    return 0;
}

/* Address space already mapped (fork copied the parent's), so that the limit is on what the
 * parser adds. */
static uint64_t current_address_space(void)
{
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char text[128];
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    return strtoull(text, NULL, 10) * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void child_setup_descriptors(int sock, int other)
{
    close(other);
    if (sock != CHILD_FD) {
        if (dup2(sock, CHILD_FD) < 0)
            _exit(4);
        close(sock);
    }
    /* Everything else the parent had open (other sockets, the data directory...) goes. */
    if (close_range(CHILD_FD + 1, ~0u, 0) != 0)
        for (int fd = CHILD_FD + 1; fd < 65536; fd++)
            close(fd);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1); /* a parser printing must not corrupt the parent's stdout */
        if (devnull > 2 && devnull != CHILD_FD)
            close(devnull);
    }
}

static void child_setup_signals(void)
{
    static const int reset[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGXCPU, SIGXFSZ, SIGTERM, SIGINT};
    for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
        signal(reset[i], SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

static void child_setup_limits(const resolved_limits *lim)
{
    struct rlimit rl;
    if (!LDS_UNDER_ASAN) { /* ASan reserves terabytes of shadow: an address-space limit kills it */
        uint64_t base = current_address_space();
        rl.rlim_cur = rl.rlim_max = (rlim_t)(base + lim->memory_bytes);
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            child_fail(LDS_EINTERNAL, "cannot set the memory limit");
    }
    rl.rlim_cur = lim->cpu_seconds;
    rl.rlim_max = (rlim_t)lim->cpu_seconds + 1; /* SIGXCPU first, SIGKILL a second later */
    setrlimit(RLIMIT_CPU, &rl);
    rl.rlim_cur = rl.rlim_max = 0;
    setrlimit(RLIMIT_FSIZE, &rl);
    setrlimit(RLIMIT_CORE, &rl);
    rl.rlim_cur = rl.rlim_max = CHILD_FD + 1;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* What the child runs once locked down: a parser (whose model it encodes) or a work function. */
typedef struct child_job {
    const char *name;
    const unsigned char *data;
    size_t size;
    lds_mesh_limits mesh_limits;
    lds_sandbox_parse_fn parse;
    lds_sandbox_work_fn work;
    void *work_ctx;
} child_job;

static void child_main(int sock, int other, const child_job *job, const resolved_limits *lim)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    child_setup_signals();
    child_setup_descriptors(sock, other);
    child_setup_limits(lim);
    /* Lazy initialisations that read files must happen before the filter: the time zone (strftime
     * in lds_log calls tzset, which opens /etc/localtime the first time), jansson's hash seed. */
    tzset();
    lds_mesh_import_prepare();
    /* A child forked from a worker thread allocates from that thread's malloc arena, and glibc
     * reads /proc/sys/vm/overcommit_memory the first time it shrinks such an arena's heap: no
     * trimming in the child (it is short-lived), so no open() behind the filter. */
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    if (lds_sandbox_seccomp_install() != 0)
        child_fail(LDS_EINTERNAL, "cannot install the seccomp filter");

    lds_error err;
    lds_error_clear(&err);
    lds_buf out;
    lds_buf_init(&out, 0);
    lds_status st;
    if (job->work) {
        st = job->work(job->work_ctx, job->data, job->size, &out, &err);
        if (st != LDS_OK)
            child_fail(st, err.message[0] ? err.message : lds_status_message(st));
    } else {
        uint64_t max_file = lim->max_file_bytes;
        lds_mesh_reader reader = {&max_file, child_sidecar_read};
        lds_mesh_model *model = NULL;
        st = job->parse(job->name, job->data, job->size, &reader, &job->mesh_limits, &model, &err);
        if (st != LDS_OK || model == NULL) {
            if (st == LDS_OK)
                st = LDS_EINTERNAL;
            child_fail(st, err.message[0] ? err.message : lds_status_message(st));
        }
        st = lds_sandbox_encode_model(model, &out);
        if (st != LDS_OK)
            child_fail(st, "cannot encode the parsed model");
    }
    if (child_send(MSG_MODEL, out.data, out.size, NULL, 0) != 0)
        _exit(3);
    _exit(0);
}

/* ------------------------------------------------------------------------------------------------
 * Parent
 * --------------------------------------------------------------------------------------------- */

enum { IO_OK = 0, IO_EOF = -1, IO_TIMEOUT = -2 };

static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - lds_time_ms();
        if (left <= 0)
            return IO_TIMEOUT;
        struct pollfd p = {fd, events, 0};
        int rc = poll(&p, 1, left > 1e9 ? 1000000000 : (int)left + 1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return IO_EOF;
        if (rc > 0)
            return IO_OK;
    }
}

static int parent_read(int fd, void *data, size_t size, double deadline)
{
    unsigned char *p = data;
    while (size > 0) {
        ssize_t n = recv(fd, p, size, MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            size -= (size_t)n;
            continue;
        }
        if (n == 0)
            return IO_EOF;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return IO_EOF;
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc != IO_OK)
            return rc;
    }
    return IO_OK;
}

static int parent_write(int fd, const void *data, size_t size, double deadline)
{
    const unsigned char *p = data;
    while (size > 0) {
        ssize_t n = send(fd, p, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            size -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return IO_EOF;
        int rc = wait_fd(fd, POLLOUT, deadline);
        if (rc != IO_OK)
            return rc;
    }
    return IO_OK;
}

/* Reads a payload of length bytes, growing the buffer as bytes arrive (a child that announces
 * gigabytes and sends nothing costs nothing). */
static int parent_read_payload(int fd, uint64_t length, lds_buf *out, double deadline)
{
    while (out->size < length) {
        size_t chunk = length - out->size < MIB ? (size_t)(length - out->size) : (size_t)MIB;
        unsigned char *p;
        if (lds_buf_grow(out, chunk, &p) != LDS_OK)
            return IO_EOF;
        int rc = parent_read(fd, p, chunk, deadline);
        if (rc != IO_OK)
            return rc;
    }
    return IO_OK;
}

static const char *signal_name(int sig, char *buf, size_t size)
{
    static const struct { int sig; const char *name; } names[] = {
        {SIGSEGV, "SIGSEGV"}, {SIGBUS, "SIGBUS"}, {SIGFPE, "SIGFPE"}, {SIGILL, "SIGILL"}, {SIGABRT, "SIGABRT"},
        {SIGSYS, "SIGSYS"}, {SIGKILL, "SIGKILL"}, {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGTERM, "SIGTERM"},
        {SIGTRAP, "SIGTRAP"}, {SIGPIPE, "SIGPIPE"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].sig == sig)
            return names[i].name;
    snprintf(buf, size, "signal %d", sig);
    return buf;
}

static lds_status serve_sidecar(int fd, const lds_mesh_reader *sidecars, uint64_t name_length, uint64_t max_bytes,
                                double deadline, const char *name)
{
    char request[NAME_MAX_BYTES + 1];
    if (name_length == 0 || name_length > NAME_MAX_BYTES)
        return LDS_EFORMAT;
    int rc = parent_read(fd, request, (size_t)name_length, deadline);
    if (rc != IO_OK)
        return rc == IO_TIMEOUT ? LDS_ETIMEOUT : LDS_EIO;
    request[name_length] = '\0';
    unsigned char *data = NULL;
    size_t size = 0;
    int found = strlen(request) == name_length && sidecars != NULL && sidecars->read != NULL &&
                sidecars->read(sidecars->ctx, request, &data, &size) == 0;
    if (found && size > max_bytes) {
        lds_log_warn("%s: sidecar %s is over the %llu byte limit; refused", name, request,
                     (unsigned long long)max_bytes);
        found = 0;
    }
    msg_header h = {found ? MSG_DATA : MSG_MISSING, 0, found ? (uint64_t)size : 0};
    rc = parent_write(fd, &h, sizeof(h), deadline);
    if (rc == IO_OK && found)
        rc = parent_write(fd, data, size, deadline);
    free(data);
    return rc == IO_OK ? LDS_OK : rc == IO_TIMEOUT ? LDS_ETIMEOUT : LDS_EIO;
}

static lds_status parent_loop(int fd, const char *name, const lds_mesh_reader *sidecars, const resolved_limits *lim,
                              double deadline, lds_buf *model_bytes, lds_error *child_err, int *got_model)
{
    for (;;) {
        msg_header h;
        int rc = parent_read(fd, &h, sizeof(h), deadline);
        if (rc == IO_TIMEOUT)
            return LDS_ETIMEOUT;
        if (rc != IO_OK)
            return LDS_EIO; /* the child died: its wait status says why */
        switch (h.type) {
        case MSG_READ: {
            lds_status st = serve_sidecar(fd, sidecars, h.length, lim->max_file_bytes, deadline, name);
            if (st != LDS_OK)
                return st;
            break;
        }
        case MSG_MODEL:
            /* A model cannot be larger than the memory its parser had. */
            if (h.length > lim->memory_bytes)
                return LDS_EFORMAT;
            rc = parent_read_payload(fd, h.length, model_bytes, deadline);
            if (rc != IO_OK)
                return rc == IO_TIMEOUT ? LDS_ETIMEOUT : LDS_EIO;
            *got_model = 1;
            return LDS_OK;
        case MSG_ERROR: {
            char text[MESSAGE_MAX_BYTES + 1];
            uint32_t code;
            if (h.length < 4 || h.length > MESSAGE_MAX_BYTES)
                return LDS_EFORMAT;
            if (parent_read(fd, text, (size_t)h.length, deadline) != IO_OK)
                return LDS_EIO;
            memcpy(&code, text, 4);
            text[h.length] = '\0';
            for (char *c = text + 4; *c; c++)
                if ((unsigned char)*c < 0x20)
                    *c = ' ';
            child_err->code = code >= 1 && code <= LDS_EINTERNAL ? (lds_status)code : LDS_EINTERNAL;
            size_t n = strlen(text + 4);
            if (n >= sizeof(child_err->message))
                n = sizeof(child_err->message) - 1;
            memcpy(child_err->message, text + 4, n);
            child_err->message[n] = '\0';
            return LDS_OK;
        }
        default:
            return LDS_EFORMAT;
        }
    }
}

static lds_status check_model_limits(const lds_mesh_model *m, const char *name, const lds_sandbox_limits *limits,
                                     lds_error *err)
{
    uint64_t max_tri = limits && limits->mesh.max_triangles ? limits->mesh.max_triangles : 100000000ull;
    uint64_t max_vert = limits && limits->mesh.max_vertices ? limits->mesh.max_vertices : 100000000ull;
    if (lds_mesh_triangle_count(m) > max_tri)
        return lds_error_set(err, LDS_ELIMIT, "%s: %zu triangles is over the limit of %llu", name,
                             lds_mesh_triangle_count(m), (unsigned long long)max_tri);
    if (m->vertex_count > max_vert)
        return lds_error_set(err, LDS_ELIMIT, "%s: %zu vertices is over the limit of %llu", name, m->vertex_count,
                             (unsigned long long)max_vert);
    return LDS_OK;
}

static lds_status run_in_process(const char *name, const unsigned char *data, size_t size,
                                 const lds_mesh_reader *sidecars, const lds_sandbox_limits *limits,
                                 lds_sandbox_parse_fn parse, lds_mesh_model **out, lds_error *err)
{
    lds_mesh_model *model = NULL;
    lds_status st = parse(name, data, size, sidecars, limits ? &limits->mesh : NULL, &model, err);
    if (st == LDS_OK && model == NULL)
        st = lds_error_set(err, LDS_EINTERNAL, "%s: the parser returned no model", name);
    if (st == LDS_OK)
        st = lds_mesh_model_validate(model, name, err);
    if (st == LDS_OK)
        st = check_model_limits(model, name, limits, err);
    if (st != LDS_OK) {
        lds_mesh_model_destroy(model);
        return st;
    }
    *out = model;
    return LDS_OK;
}

/* Runs job in a child under the limits and returns its bytes in *result (capped at the child's
 * memory). Failures are errors naming the file. */
static lds_status sandbox_exec(const child_job *job, const lds_mesh_reader *sidecars, const lds_sandbox_limits *limits,
                               lds_buf *result, lds_error *err)
{
    const char *name = job->name;
    resolved_limits lim = resolve(limits);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return lds_error_set(err, LDS_EIO, "%s: cannot create the sandbox socket: %s", name, strerror(errno));
    double start = lds_time_ms();
    double deadline = start + 1000.0 * lim.wall_seconds;
    pid_t pid = lds_fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return lds_error_set(err, LDS_EIO, "%s: cannot start the sandbox: %s", name, strerror(e));
    }
    if (pid == 0)
        child_main(sv[1], sv[0], job, &lim); /* never returns */
    close(sv[1]);

    lds_buf_init(result, (size_t)lim.memory_bytes);
    lds_error child_err;
    lds_error_clear(&child_err);
    int got_model = 0;
    lds_status loop = parent_loop(sv[0], name, sidecars, &lim, deadline, result, &child_err, &got_model);
    close(sv[0]);
    /* Whatever happened, the child's work is over: kill it (harmless if it is exiting) and reap. */
    kill(pid, SIGKILL);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    pid_t w;
    do
        w = wait4(pid, &status, 0, &ru);
    while (w < 0 && errno == EINTR);
    double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);

    lds_status st = LDS_OK;
    unsigned long long memory_mib = (unsigned long long)(lim.memory_bytes / MIB);
    if (got_model) {
        st = LDS_OK;
    } else if (child_err.code != LDS_OK) {
        if (child_err.code == LDS_ENOMEM)
            st = lds_error_set(err, LDS_ELIMIT, "%s: exceeded the %llu MiB parse memory limit", name, memory_mib);
        else
            st = lds_error_set(err, child_err.code, "%s", child_err.message);
    } else if (loop == LDS_ETIMEOUT) {
        st = lds_error_set(err, LDS_ELIMIT, "%s: exceeded the %u s parse time limit", name, lim.wall_seconds);
    } else if (w == pid && WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        char buf[32];
        if (sig == SIGXCPU || (sig == SIGKILL && cpu >= lim.cpu_seconds))
            st = lds_error_set(err, LDS_ELIMIT, "%s: exceeded the %u s parse CPU time limit", name, lim.cpu_seconds);
        else if (sig == SIGSYS)
            st = lds_error_set(err, LDS_ECRASH, "%s: parser made a forbidden system call and was killed (SIGSYS)",
                               name);
        else if (sig == SIGKILL)
            st = lds_error_set(err, LDS_ECRASH, "%s: parser was killed (SIGKILL; out of memory?)", name);
        else
            st = lds_error_set(err, LDS_ECRASH, "%s: parser crashed (%s)", name, signal_name(sig, buf, sizeof(buf)));
    } else if (loop == LDS_EFORMAT) {
        st = lds_error_set(err, LDS_ECRASH, "%s: parser broke the sandbox protocol", name);
    } else if (w == pid && WIFEXITED(status)) {
        st = lds_error_set(err, LDS_ECRASH, "%s: parser exited (status %d) without a result", name,
                           WEXITSTATUS(status));
    } else {
        st = lds_error_set(err, LDS_ECRASH, "%s: parser ended without a result", name);
    }
    lds_log_debug("%s: sandboxed work took %.1f ms (child CPU %.3f s)", name, lds_time_ms() - start, cpu);
    if (st != LDS_OK)
        lds_buf_cleanup(result);
    return st;
}

lds_status lds_sandbox_run(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                           const lds_sandbox_limits *limits, lds_sandbox_parse_fn parse, lds_mesh_model **out,
                           lds_error *err)
{
    *out = NULL;
    child_job job = {name, data, size, limits ? limits->mesh : (lds_mesh_limits){0, 0}, parse, NULL, NULL};
    lds_buf model_bytes;
    lds_status st = sandbox_exec(&job, sidecars, limits, &model_bytes, err);
    if (st != LDS_OK)
        return st;
    st = lds_sandbox_decode_model(name, model_bytes.data, model_bytes.size, out, err);
    lds_buf_cleanup(&model_bytes);
    if (st == LDS_OK)
        st = lds_mesh_model_validate(*out, name, err);
    if (st == LDS_OK)
        st = check_model_limits(*out, name, limits, err);
    if (st != LDS_OK) {
        lds_mesh_model_destroy(*out);
        *out = NULL;
    }
    return st;
}

lds_status lds_sandbox_run_work(const char *name, const unsigned char *data, size_t size,
                                const lds_sandbox_limits *limits, int use_sandbox, lds_sandbox_work_fn work, void *ctx,
                                lds_buf *result, lds_error *err)
{
    if (!use_sandbox) {
        lds_buf_init(result, 0);
        lds_status st = work(ctx, data, size, result, err);
        if (st != LDS_OK)
            lds_buf_cleanup(result);
        return st;
    }
    child_job job = {name, data, size, {0, 0}, NULL, work, ctx};
    return sandbox_exec(&job, NULL, limits, result, err);
}

lds_status lds_sandbox_run_in_process(const char *name, const unsigned char *data, size_t size,
                                      const lds_mesh_reader *sidecars, const lds_sandbox_limits *limits,
                                      lds_sandbox_parse_fn parse, lds_mesh_model **out, lds_error *err)
{
    *out = NULL;
    return run_in_process(name, data, size, sidecars, limits, parse, out, err);
}
