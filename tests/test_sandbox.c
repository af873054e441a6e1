/* test_sandbox.c: the sandbox's child and parent with parsers written here to misbehave on
 * purpose: a crash, an endless loop, a memory blow-up, forbidden system calls, a lying model.
 * Each must come back as an error naming the file, and this process must live on. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"
#include "testlib.h"

/* One triangle, or a grid of n*n quads when data says "grid N". */
static lds_mesh_model *make_model(size_t grid)
{
    lds_mesh_model *m = lds_mesh_model_create();
    size_t nv = grid ? (grid + 1) * (grid + 1) : 3, ni = grid ? grid * grid * 6 : 3;
    if (lds_mesh_model_alloc(m, nv, ni, 1, 1, 0) != LDS_OK)
        return m;
    if (grid == 0) {
        float p[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
        memcpy(m->positions, p, sizeof(p));
        for (uint32_t i = 0; i < 3; i++)
            m->indices[i] = i;
    } else {
        for (size_t y = 0; y <= grid; y++)
            for (size_t x = 0; x <= grid; x++) {
                size_t v = y * (grid + 1) + x;
                m->positions[3 * v] = (float)x, m->positions[3 * v + 1] = (float)y;
            }
        size_t k = 0;
        for (size_t y = 0; y < grid; y++)
            for (size_t x = 0; x < grid; x++) {
                uint32_t a = (uint32_t)(y * (grid + 1) + x), b = a + 1, c = a + (uint32_t)grid + 1, d = c + 1;
                uint32_t q[6] = {a, b, d, a, d, c};
                memcpy(m->indices + k, q, sizeof(q));
                k += 6;
            }
    }
    for (size_t v = 0; v < nv; v++)
        m->normals[3 * v + 2] = 1;
    m->submesh_count = 1;
    m->submeshes = calloc(1, sizeof(lds_mesh_submesh));
    m->submeshes[0] = (lds_mesh_submesh){0, (uint32_t)nv, 0, (uint32_t)ni, 0, 0};
    m->material_count = 1;
    m->materials = calloc(1, sizeof(lds_mesh_material));
    lds_mesh_material_init(&m->materials[0]);
    m->materials[0].name = strdup("stone");
    lds_mesh_model_warn(m, "made by the test");
    return m;
}

static lds_status parse_good(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                             const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    size_t grid = 0;
    if (size > 5 && memcmp(data, "grid ", 5) == 0)
        grid = (size_t)atoi((const char *)data + 5);
    lds_mesh_model *m = make_model(grid);
    /* A sidecar through the parent: becomes a texture. */
    unsigned char *tex = NULL;
    size_t tex_size = 0;
    if (sidecars && sidecars->read(sidecars->ctx, "skin.png", &tex, &tex_size) == 0) {
        m->texture_count = 1;
        m->textures = calloc(1, sizeof(lds_mesh_texture));
        m->textures[0].name = strdup("skin.png");
        strcpy(m->textures[0].mime, "image/png");
        m->textures[0].data = tex;
        m->textures[0].size = tex_size;
        m->materials[0].maps[LDS_MESH_MAP_BASE_COLOR].texture = 0;
    }
    if (sidecars && sidecars->read(sidecars->ctx, "../../etc/passwd", &tex, &tex_size) == 0)
        return lds_error_set(err, LDS_EINTERNAL, "%s: the parent served a file outside the directory", name);
    *out = m;
    return LDS_OK;
}

/* Logging from inside the child (time formatting reads the time zone) must not trip the filter. */
static lds_status parse_logs(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                             const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    lds_log_error("%s: a message from inside the sandbox (expected in this test)", name);
    return parse_good(name, data, size, NULL, limits, out, err);
}

static lds_status parse_segv(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                             const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    volatile int *p = (volatile int *)(uintptr_t)(size & 0); /* NULL the optimiser cannot see */
    *p = 42;
    return LDS_OK;
}

static lds_status parse_abort(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                              const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    abort();
}

static lds_status parse_loop(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                             const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    for (volatile unsigned long i = 0;; i++) {
    }
    return LDS_OK;
}

static lds_status parse_sleep(const char *name, const unsigned char *data, size_t size,
                              const lds_mesh_reader *sidecars, const lds_mesh_limits *limits, lds_mesh_model **out,
                              lds_error *err)
{
    for (;;)
        sleep(100);
    return LDS_OK;
}

#if !defined(__SANITIZE_ADDRESS__) /* ASan reserves terabytes of address space: no memory limit there */
/* Allocates and touches memory until malloc fails, as a parser following a lying header would. */
static lds_status parse_hog(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                            const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    for (;;) {
        char *p = malloc(16u << 20);
        if (p == NULL)
            return lds_error_set(err, LDS_ENOMEM, "%s: out of memory", name);
        memset(p, 1, 16u << 20);
    }
}
#endif

static lds_status parse_open(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                             const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    int fd = open("/etc/hostname", O_RDONLY);
    return lds_error_set(err, LDS_EINTERNAL, "%s: open returned %d: the filter let it through", name, fd);
}

static lds_status parse_socket(const char *name, const unsigned char *data, size_t size,
                               const lds_mesh_reader *sidecars, const lds_mesh_limits *limits, lds_mesh_model **out,
                               lds_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    return lds_error_set(err, LDS_EINTERNAL, "%s: socket returned %d: the filter let it through", name, fd);
}

static lds_status parse_fork(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                             const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    return lds_error_set(err, LDS_EINTERNAL, "%s: fork returned %d: the filter let it through", name, (int)pid);
}

static lds_status parse_exec(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                             const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    char *argv[] = {"/bin/true", NULL};
    execv("/bin/true", argv);
    return lds_error_set(err, LDS_EINTERNAL, "%s: execv returned: the filter let it through", name);
}

static void *thread_body(void *arg)
{
    *(int *)arg = 7;
    return NULL;
}

/* Threads are allowed (some importers use them). */
static lds_status parse_threads(const char *name, const unsigned char *data, size_t size,
                                const lds_mesh_reader *sidecars, const lds_mesh_limits *limits, lds_mesh_model **out,
                                lds_error *err)
{
    pthread_t t;
    int value = 0;
    if (pthread_create(&t, NULL, thread_body, &value) != 0)
        return lds_error_set(err, LDS_EINTERNAL, "%s: pthread_create failed", name);
    pthread_join(t, NULL);
    if (value != 7)
        return lds_error_set(err, LDS_EINTERNAL, "%s: the thread did not run", name);
    return parse_good(name, data, size, NULL, limits, out, err);
}

static lds_status parse_nan(const char *name, const unsigned char *data, size_t size, const lds_mesh_reader *sidecars,
                            const lds_mesh_limits *limits, lds_mesh_model **out, lds_error *err)
{
    lds_mesh_model *m = make_model(0);
    m->positions[4] = NAN;
    *out = m;
    return LDS_OK;
}

static lds_status parse_bad_index(const char *name, const unsigned char *data, size_t size,
                                  const lds_mesh_reader *sidecars, const lds_mesh_limits *limits, lds_mesh_model **out,
                                  lds_error *err)
{
    lds_mesh_model *m = make_model(0);
    m->indices[2] = 99;
    *out = m;
    return LDS_OK;
}

static lds_status parse_format_error(const char *name, const unsigned char *data, size_t size,
                                     const lds_mesh_reader *sidecars, const lds_mesh_limits *limits,
                                     lds_mesh_model **out, lds_error *err)
{
    return lds_error_set(err, LDS_ETRUNC, "%s: truncated at byte %zu", name, size);
}

/* A parent-side reader serving one file. */
static int test_reader(void *ctx, const char *name, unsigned char **data, size_t *size)
{
    if (strcmp(name, "skin.png") != 0)
        return -1;
    *size = 100000; /* bigger than a socket buffer */
    *data = malloc(*size);
    for (size_t i = 0; i < *size; i++)
        (*data)[i] = (unsigned char)(i * 7);
    return 0;
}

static lds_status run(const char *name, lds_sandbox_parse_fn parse, const lds_sandbox_limits *limits,
                      lds_mesh_model **model, lds_error *err)
{
    static const unsigned char bytes[] = "solid test";
    lds_mesh_reader reader = {NULL, test_reader};
    lds_error_clear(err);
    *model = NULL;
    return lds_sandbox_run(name, bytes, sizeof(bytes), &reader, limits, parse, model, err);
}

static void expect_error(const char *name, lds_sandbox_parse_fn parse, const lds_sandbox_limits *limits,
                         lds_status code, const char *message)
{
    lds_mesh_model *model = NULL;
    lds_error err;
    lds_status st = run(name, parse, limits, &model, &err);
    fprintf(stderr, "%s -> %s: %s\n", name, lds_status_name(st), err.message);
    LDS_CHECK_INT(st, ==, code);
    LDS_CHECK(model == NULL);
    if (strstr(err.message, message) == NULL) {
        fprintf(stderr, "  expected \"%s\" in the message\n", message);
        lds_test_failures++;
    }
    LDS_CHECK(strncmp(err.message, name, strlen(name)) == 0);
}

/* The kept glTF scene and the submeshes' scene primitives cross the wire (model_wire.c). */
static void test_wire_scene(void)
{
    lds_mesh_model *m = make_model(3), *back = NULL;
    m->scene = strdup("{\"roots\":[0],\"nodes\":[{\"mesh\":0}]}");
    m->submeshes[0].primitive = 7;
    lds_buf buf;
    lds_buf_init(&buf, 0);
    lds_error err;
    LDS_CHECK_OK(lds_sandbox_encode_model(m, &buf), &err);
    LDS_CHECK_OK(lds_sandbox_decode_model("scene.glb", buf.data, buf.size, &back, &err), &err);
    if (back) {
        LDS_CHECK_STR(back->scene, m->scene);
        LDS_CHECK_INT(back->submeshes[0].primitive, ==, 7);
    }
    lds_mesh_model_destroy(back);
    lds_mesh_model_destroy(m);
    lds_buf_cleanup(&buf);
}

int main(void)
{
    lds_sandbox_limits limits;
    memset(&limits, 0, sizeof(limits));
    limits.wall_seconds = 2;
    test_wire_scene();

    /* A good parse, with a sidecar served by the parent and a refused one. */
    lds_mesh_model *model = NULL;
    lds_error err;
    LDS_CHECK_OK(run("good.ply", parse_good, &limits, &model, &err), &err);
    if (model) {
        LDS_CHECK_INT(model->vertex_count, ==, 3);
        LDS_CHECK_INT(model->texture_count, ==, 1);
        LDS_CHECK_INT(model->textures[0].size, ==, 100000);
        LDS_CHECK_INT(model->textures[0].data[99999], ==, (unsigned char)(99999 * 7));
        LDS_CHECK_STR(model->materials[0].name, "stone");
        LDS_CHECK_INT(model->warning_count, ==, 1);
        lds_mesh_model_destroy(model);
    }
    /* A big model crosses the socket intact (many socket buffers). */
    static const unsigned char grid[] = "grid 400";
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_sandbox_run("grid.ply", grid, sizeof(grid), NULL, &limits, parse_good, &model, &err), &err);
    if (model) {
        LDS_CHECK_INT(model->vertex_count, ==, 401 * 401);
        LDS_CHECK_INT(lds_mesh_triangle_count(model), ==, 400 * 400 * 2);
        LDS_CHECK(model->positions[3 * (401 * 401 - 1)] == 400.0f);
        lds_mesh_model_destroy(model);
    }
    LDS_CHECK_OK(run("logs.ply", parse_logs, &limits, &model, &err), &err);
    lds_mesh_model_destroy(model);
    LDS_CHECK_OK(run("threads.ply", parse_threads, &limits, &model, &err), &err);
    lds_mesh_model_destroy(model);

    /* Errors from the parser come through as they are. */
    expect_error("short.ply", parse_format_error, &limits, LDS_ETRUNC, "short.ply: truncated at byte 11");
    /* Crashes. */
#if defined(__SANITIZE_ADDRESS__) /* ASan's SEGV handler makes calls the filter forbids */
    expect_error("crash.ply", parse_segv, &limits, LDS_ECRASH, "forbidden system call");
#else
    expect_error("crash.ply", parse_segv, &limits, LDS_ECRASH, "parser crashed (SIGSEGV)");
#endif
    expect_error("abort.obj", parse_abort, &limits, LDS_ECRASH, "parser crashed (SIGABRT)");
    /* Time: wall clock (sleeping uses no CPU) and CPU. */
    limits.wall_seconds = 1;
    expect_error("sleep.stl", parse_sleep, &limits, LDS_ELIMIT, "exceeded the 1 s parse time limit");
    expect_error("loop.stl", parse_loop, &limits, LDS_ELIMIT, "exceeded the 1 s parse time limit");
    limits.wall_seconds = 10;
    limits.cpu_seconds = 1;
    expect_error("spin.stl", parse_loop, &limits, LDS_ELIMIT, "exceeded the 1 s parse CPU time limit");
    limits.cpu_seconds = 0;
    limits.wall_seconds = 5;
    /* Memory. */
#if !defined(__SANITIZE_ADDRESS__)
    limits.memory_bytes = 256ull << 20;
    expect_error("bomb.ply", parse_hog, &limits, LDS_ELIMIT, "exceeded the 256 MiB parse memory limit");
    limits.memory_bytes = 0;
#endif
    /* The filter: the child dies on the first forbidden call. */
    expect_error("open.obj", parse_open, &limits, LDS_ECRASH, "forbidden system call");
    expect_error("socket.obj", parse_socket, &limits, LDS_ECRASH, "forbidden system call");
    expect_error("fork.obj", parse_fork, &limits, LDS_ECRASH, "forbidden system call");
    expect_error("exec.obj", parse_exec, &limits, LDS_ECRASH, "forbidden system call");
    /* A lying model is caught by the parent's validation. */
    expect_error("nan.ply", parse_nan, &limits, LDS_EFORMAT, "non-finite position");
    expect_error("index.ply", parse_bad_index, &limits, LDS_EFORMAT, "uses vertex 99 of 3");
    /* Over the triangle limit. */
    limits.mesh.max_triangles = 100;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_sandbox_run("big.ply", grid, sizeof(grid), NULL, &limits, parse_good, &model, &err), ==,
                  LDS_ELIMIT);
    LDS_CHECK(strstr(err.message, "big.ply: 320000 triangles is over the limit of 100") != NULL);
    limits.mesh.max_triangles = 0;
    /* In-process (--no-sandbox) gives the same model. */
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_sandbox_run_in_process("good.ply", grid, sizeof(grid), NULL, &limits, parse_good, &model, &err),
                 &err);
    lds_mesh_model_destroy(model);

    /* Overhead per parse (reported, never asserted). */
    static const unsigned char one[] = "x";
    const int rounds = 40;
    double t0 = lds_time_ms();
    for (int i = 0; i < rounds; i++) {
        lds_sandbox_run("tiny.ply", one, sizeof(one), NULL, &limits, parse_good, &model, &err);
        lds_mesh_model_destroy(model);
    }
    double t1 = lds_time_ms();
    for (int i = 0; i < rounds; i++) {
        lds_sandbox_run_in_process("tiny.ply", one, sizeof(one), NULL, &limits, parse_good, &model, &err);
        lds_mesh_model_destroy(model);
    }
    double t2 = lds_time_ms();
    fprintf(stderr, "sandbox overhead: %.2f ms per parse (sandboxed %.2f ms, in-process %.3f ms)\n",
            (t1 - t0 - (t2 - t1)) / rounds, (t1 - t0) / rounds, (t2 - t1) / rounds);
    return lds_test_result();
}
