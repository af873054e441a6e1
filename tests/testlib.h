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

/* A path under ../shared (the corpus, the vectors) or NULL when it is not there. Without
 * ../shared, "corpus" and "corpus/..." name the stand-in corpus that tests/make_corpus.py makes
 * (once, under the build tree): the scans, spot and the homer remeshes with the same names, formats
 * and counts, made of parametric shapes; the pbr/ assets have no stand-in here. */
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

/* lds_test_validate_glb, as a check: any error fails; a missing validator fails too, unless
 * LDS_ALLOW_NO_VALIDATOR is set (then it says so and passes). */
void lds_test_check_valid_glb(const char *const *paths, size_t count);

/* The preamble of the tests that talk to Redis directly: skips (77) without redis-server;
 * lds_crypto_init, SIGPIPE ignored, a fresh tmp dir for name into home (also LODESTONE_HOME), and
 * lds_redis_server_start there (a failed check and NULL when it does not start). When conn is not
 * NULL, a connection to it into *conn (NULL after a failed check). Stop with lds_redis_server_stop.
 * (HTTP tests against `lodestone serve` use test_api_lib.h.) */
lds_redis_server *lds_test_redis_start(const char *name, char *home, size_t home_size, lds_redis **conn);

/* The preamble of the tests that run `lodestone serve` with its embedded Redis themselves: skips
 * (77) without redis-server; lds_crypto_init, SIGPIPE ignored, a fresh tmp dir for name into home
 * (also LODESTONE_HOME), the embedded Redis's URL into url, any free port for LODESTONE_LISTEN. */
void lds_test_service_env(const char *name, char *home, size_t home_size, char *url, size_t url_size);

/* Whether every program in names is on the PATH (or an existing path): a missing one is a failed
 * check naming it (scripts/setup.sh installs them all), and 0 is returned. */
int lds_test_have_tools(const char *const *names, size_t count);

/* p -> scale * R * p + translation on every position, R the rotation by angles[0..2] (radians)
 * about x, y and z: a similarity transform, for invariance tests. */
void lds_test_similarity_transform(float *positions, size_t vertex_count, const double angles[3], double scale,
                                   const double translation[3]);

/* Members over every lds:shape:* set of the shape index (ingest/shape_store.c) in Redis. */
long long lds_test_shape_index_members(lds_redis *redis);

#endif
