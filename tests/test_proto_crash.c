/* test_proto_crash.c: the log survives crashes. A child process appends in a loop and is killed
 * with SIGKILL at random moments; after each kill the audit passes (a torn tail is reported, not
 * an error), reopening cuts the tail, and appends continue with the next index. Torn writes are
 * also simulated directly: garbage appended to the entries and index files, a half-written index
 * record. Damage inside the published part (a truncated index) is an audit failure. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_proto_util.h"

static char home[1024];

static int audit(lds_log_audit_result *r, lds_error *err)
{
    lds_error_clear(err);
    return lds_log_audit(home, r, err) == LDS_OK;
}

static void append_file(const char *rel, const void *data, size_t size)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", home, rel);
    int fd = open(path, O_WRONLY | O_APPEND);
    LDS_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
    if (fd >= 0)
        close(fd);
}

static uint64_t certify(int seed, const char *pub)
{
    lds_error err;
    lds_error_clear(&err);
    lds_notary *notary = NULL;
    LDS_CHECK_OK(lds_notary_open(home, &notary, &err), &err);
    if (notary == NULL)
        return UINT64_MAX;
    char *statement = sample_statement(seed, NULL), *bundle = NULL;
    uint64_t index = UINT64_MAX;
    LDS_CHECK_OK(lds_notary_certify(notary, statement, strlen(statement), &bundle, &index, &err), &err);
    if (bundle)
        LDS_CHECK_OK(verify_with(bundle, strlen(bundle), pub, &err), &err);
    free(statement);
    free(bundle);
    lds_notary_close(notary);
    return index;
}

int main(void)
{
    lds_crypto_init();
    snprintf(home, sizeof(home), "%s", lds_test_tmpdir("proto_crash"));
    lds_error err;
    lds_error_clear(&err);
    char *pub = NULL;
    int created = 0;
    LDS_CHECK_OK(lds_notary_keys_init(home, NULL, &pub, &created, &err), &err);
    LDS_CHECK_INT(created, ==, 1);
    if (pub == NULL)
        return lds_test_result();
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    lds_log_audit_result r;

    /* 1. kill -9 a writer at random points */
    uint64_t size = 0;
    int tails = 0;
    for (int round = 0; round < 12; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            lds_notary *notary = NULL;
            lds_error cerr;
            lds_error_clear(&cerr);
            if (lds_notary_open(home, &notary, &cerr) != LDS_OK)
                _exit(2);
            for (int i = 0;; i++) {
                char *statement = sample_statement(1000 * (round + 1) + i, NULL), *bundle = NULL;
                uint64_t index;
                if (lds_notary_certify(notary, statement, strlen(statement), &bundle, &index, &cerr) != LDS_OK)
                    _exit(3);
                free(statement);
                free(bundle);
            }
        }
        usleep((useconds_t)(rand() % 40000));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        LDS_CHECK(WIFSIGNALED(status)); /* it was still appending, not failed */
        LDS_CHECK(audit(&r, &err));
        if (err.message[0])
            fprintf(stderr, "round %d: %s\n", round, err.message);
        LDS_CHECK_INT(r.tree_size, >=, size);
        if (r.tail_bytes)
            tails++;
        size = r.tree_size;
        /* reopen and append: the next index, and the tail is gone */
        uint64_t index = certify(round, pub);
        LDS_CHECK_INT(index, ==, size);
        LDS_CHECK(audit(&r, &err));
        LDS_CHECK_INT(r.tail_bytes, ==, 0);
        LDS_CHECK_INT(r.tree_size, ==, size + 1);
        size = r.tree_size;
    }
    printf("crash: 12 kills, log at %llu entries, %d kills left a torn tail\n", (unsigned long long)size, tails);

    /* 2. torn writes, simulated: garbage past the published end of both files */
    static const char garbage[] = "\x00\x00\x10\x00torn write garbage";
    append_file("log/entries", garbage, sizeof(garbage));
    append_file("log/index", garbage, 17); /* not even a whole record */
    LDS_CHECK(audit(&r, &err));
    LDS_CHECK_INT(r.tree_size, ==, size);
    LDS_CHECK_INT(r.tail_bytes, ==, sizeof(garbage) + 17);
    LDS_CHECK_INT(certify(900000, pub), ==, size);
    size++;
    LDS_CHECK(audit(&r, &err));
    LDS_CHECK_INT(r.tail_bytes, ==, 0);
    LDS_CHECK_INT(r.tree_size, ==, size);

    /* 3. an entry and index record written but never published (crash before the checkpoint) */
    append_file("log/entries", "\x00\x00\x00\x05hello", 9);
    unsigned char record[40] = {0};
    append_file("log/index", record, sizeof(record));
    LDS_CHECK(audit(&r, &err));
    LDS_CHECK_INT(r.tail_bytes, ==, 49);
    /* dedupe still answers from the published log, and the next append reuses the space */
    LDS_CHECK_INT(certify(900000, pub), ==, size - 1);
    LDS_CHECK_INT(certify(900001, pub), ==, size);
    size++;
    LDS_CHECK(audit(&r, &err));
    LDS_CHECK_INT(r.tail_bytes, ==, 0);

    /* 4. damage inside the published part is not a torn tail: the audit and the writer refuse */
    char path[2048];
    snprintf(path, sizeof(path), "%s/log/index", home);
    LDS_CHECK(truncate(path, (off_t)(size * 40 - 3)) == 0);
    LDS_CHECK(!audit(&r, &err));
    printf("truncated index: %s\n", err.message);
    lds_notary *notary = NULL;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_notary_open(home, &notary, &err), ==, LDS_EVERIFY);
    printf("writer on a truncated index: %s\n", err.message);
    lds_notary_close(notary);
    free(pub);
    return lds_test_result();
}
