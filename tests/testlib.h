/* testlib.h: the small harness our CTest executables share. A failing check prints the
 * expression and both values, and the test exits 1 at the end. Exit code 77 means skipped. */
#ifndef LDS_TESTLIB_H
#define LDS_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

extern int lds_test_failures;

#define LDS_CHECK(cond)                                                                  \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
            lds_test_failures++;                                                         \
        }                                                                                \
    } while (0)

#define LDS_CHECK_INT(a, op, b)                                                                    \
    do {                                                                                           \
        long long lds_a_ = (long long)(a), lds_b_ = (long long)(b);                                \
        if (!(lds_a_ op lds_b_)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s %s %s (%lld vs %lld)\n", __FILE__, __LINE__, #a, \
                    #op, #b, lds_a_, lds_b_);                                                      \
            lds_test_failures++;                                                                   \
        }                                                                                          \
    } while (0)

#define LDS_CHECK_STR(a, b)                                                                           \
    do {                                                                                              \
        const char *lds_a_ = (a), *lds_b_ = (b);                                                      \
        if (lds_a_ == NULL || lds_b_ == NULL || strcmp(lds_a_, lds_b_) != 0) {                        \
            fprintf(stderr, "%s:%d: check failed: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, __LINE__, #a, \
                    #b, lds_a_ ? lds_a_ : "(null)", lds_b_ ? lds_b_ : "(null)");                      \
            lds_test_failures++;                                                                      \
        }                                                                                             \
    } while (0)

/* Checks that an lds_status is LDS_OK, printing the error message otherwise. */
#define LDS_CHECK_OK(status, err)                                                                 \
    do {                                                                                          \
        lds_status lds_s_ = (status);                                                             \
        if (lds_s_ != LDS_OK) {                                                                   \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #status,           \
                    lds_status_name(lds_s_), (err)->message);                                      \
            lds_test_failures++;                                                                  \
        }                                                                                         \
    } while (0)

/* Exit code for main(): 1 when any check failed. */
int lds_test_result(void);
/* Prints "SKIP: why" and exits 77 (CTest reports the test as skipped). */
void lds_test_skip(const char *why) __attribute__((noreturn));

/* A path under ../shared (the corpus, the vectors) or NULL when shared/ is not there. */
const char *lds_test_shared(const char *relative, char *out, size_t out_size);
/* The lodestone binary ($LODESTONE_BIN). */
const char *lds_test_bin(void);
/* A fresh empty directory under the build tree for this test; returns its path (static). */
const char *lds_test_tmpdir(const char *name);
/* Runs a shell command (printf-style); returns its exit status (or 128+signal). Output captured
 * into *output (malloc'd, may be NULL) when output is not NULL. */
int lds_test_run(char **output, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs the Khronos glTF Validator on the GLB files; returns the total error count (-1 when the
 * validator is not installed) and prints its messages. */
int lds_test_validate_glb(const char *const *paths, size_t count);

/* ---- a private service (added by the deposits branch) ----
 * `lodestone serve` with LODESTONE_HOME=home (its own embedded redis-server on a Unix socket under
 * home) on a free loopback port, in its own process group. The test process gets LODESTONE_HOME
 * and LODESTONE_LISTEN set too, so that `lodestone keys create` and the like reach the same Redis.
 * Skips (exit 77) when redis-server or curl is missing. */
typedef struct lds_test_service {
    int pid;
    unsigned port;
    char home[1024];
    char url[64]; /* "http://127.0.0.1:PORT" */
} lds_test_service;
/* Starts it (home is created; `keys init` run) and waits until /healthz answers (up to 60 s).
 * Returns 0, or -1 with a message (the log is home/serve.log). */
int lds_test_service_start(lds_test_service *s, const char *home, unsigned workers);
/* SIGTERM, then SIGKILL of the process group after 30 s; stops the embedded redis-server if it is
 * still up. Safe to call twice. */
void lds_test_service_stop(lds_test_service *s);
/* Creates an API key of role ("partner", "ops", ...) into key (80 bytes). Returns 0 or -1. */
int lds_test_service_key(const lds_test_service *s, const char *role, char key[80]);
/* An HTTP request through curl: method, url (full), key (NULL: no Authorization), body_path (NULL:
 * no body; otherwise sent raw). Returns the status code (0 when curl failed) and the body in *body
 * (malloc'd); body NULL discards the response body. */
int lds_test_http(char **body, const char *method, const char *url, const char *key, const char *body_path);

#endif
