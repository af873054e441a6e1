/* test_proto_cert.c: certificates and the log end to end through the library: statements are
 * deterministic, every bundle verifies, every single-bit change anywhere in a bundle is rejected,
 * every flipped bit of the log's storage fails the audit, old checkpoints stay consistent with
 * the growing log, re-certifying returns the same entry, two writers share one log. */
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_proto_util.h"

static char home[1024], home2[1024];

static void statements(void)
{
    char *a = sample_statement(1, NULL), *b = sample_statement(1, NULL), *c = sample_statement(2, NULL);
    LDS_CHECK_STR(a, b);
    LDS_CHECK(strcmp(a, c) != 0);
    json_t *root = json_loads(a, 0, NULL);
    LDS_CHECK(root != NULL);
    LDS_CHECK_STR(json_string_value(json_object_get(root, "_type")), LDS_CERT_STATEMENT_TYPE);
    LDS_CHECK_STR(json_string_value(json_object_get(root, "predicateType")), LDS_CERT_PREDICATE_TYPE);
    json_t *subjects = json_object_get(root, "subject");
    LDS_CHECK_INT(json_array_size(subjects), ==, 3);
    LDS_CHECK_STR(json_string_value(json_object_get(json_array_get(subjects, 2), "name")), "geometry");
    json_t *predicate = json_object_get(root, "predicate");
    LDS_CHECK_STR(json_string_value(json_object_get(predicate, "license")), "CC-BY-4.0");
    LDS_CHECK_STR(json_string_value(json_object_get(json_object_get(predicate, "source"), "kind")), "deposit");
    json_decref(root);

    /* bad input is refused with a reason */
    lds_cert_fields f = {.geometry_fingerprint = "lds-geom-1:abc"};
    char *json = NULL;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_cert_statement_build(&f, &json, &err), ==, LDS_EINVAL);
    LDS_CHECK(strstr(err.message, "geometry") != NULL);
    const char *parents[] = {"{not json"};
    f.geometry_fingerprint = "lds-geom-1:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    f.parent_bundles = parents;
    f.parent_count = 1;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_cert_statement_build(&f, &json, &err), ==, LDS_EFORMAT);
    LDS_CHECK(strstr(err.message, "parent certificate 1") != NULL);
    free(a);
    free(b);
    free(c);
}

/* Single-bit changes of every byte (all 8 bits, or one rotating bit) must be rejected. Returns the number accepted. */
static int mutate_all(const char *bundle, const char *pub, int all_bits, int *tried)
{
    size_t size = strlen(bundle);
    char *copy = malloc(size + 1);
    int accepted = 0;
    for (size_t i = 0; i < size; i++)
        for (int bit = all_bits ? 0 : (int)(i % 8); bit < (all_bits ? 8 : (int)(i % 8) + 1); bit++) {
            memcpy(copy, bundle, size + 1);
            copy[i] = (char)(copy[i] ^ (1 << bit));
            lds_error err;
            if (verify_with(copy, size, pub, &err) == LDS_OK) {
                if (accepted < 10)
                    fprintf(stderr, "accepted: byte %zu ('%c') ^ 0x%02x\n", i, bundle[i], 1 << bit);
                accepted++;
            } else if (err.message[0] == 0) {
                fprintf(stderr, "rejected without a reason: byte %zu\n", i);
                lds_test_failures++;
            }
            (*tried)++;
        }
    free(copy);
    return accepted;
}

static int audit_ok(void)
{
    lds_log_audit_result r;
    lds_error err;
    lds_error_clear(&err);
    return lds_log_audit(home, &r, &err) == LDS_OK;
}

/* Flips bits of every byte of home/rel in place (all 8 bits, or one rotating bit when all_bits
 * is 0) and checks that the audit fails each time. */
static void flip_storage(const char *rel, int all_bits, int *tried)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", home, rel);
    int fd = open(path, O_RDWR);
    LDS_CHECK(fd >= 0);
    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    int missed = 0;
    for (off_t i = 0; i < size; i++)
        for (int bit = all_bits ? 0 : (int)(i % 8); bit < (all_bits ? 8 : (int)(i % 8) + 1); bit++) {
            unsigned char byte, flipped;
            if (pread(fd, &byte, 1, i) != 1)
                break;
            flipped = (unsigned char)(byte ^ (1 << bit));
            if (pwrite(fd, &flipped, 1, i) != 1)
                break;
            if (audit_ok()) {
                if (missed < 5)
                    fprintf(stderr, "%s: flip of byte %lld bit %d not caught\n", rel, (long long)i, bit);
                missed++;
            }
            if (pwrite(fd, &byte, 1, i) != 1)
                break;
            (*tried)++;
        }
    close(fd);
    LDS_CHECK(audit_ok());
    LDS_CHECK_INT(missed, ==, 0);
}

int main(void)
{
    lds_crypto_init();
    snprintf(home, sizeof(home), "%s", lds_test_tmpdir("proto_cert"));
    snprintf(home2, sizeof(home2), "%s", lds_test_tmpdir("proto_cert_other"));
    statements();

    lds_error err;
    lds_error_clear(&err);
    lds_notary *notary = NULL, *other = NULL;
    LDS_CHECK_OK(lds_notary_open(home, &notary, &err), &err);
    LDS_CHECK_OK(lds_notary_open(home2, &other, &err), &err);
    if (notary == NULL || other == NULL)
        return lds_test_result();
    char key_path[2048];
    snprintf(key_path, sizeof(key_path), "%s/keys/notary.key", home);
    struct stat st;
    LDS_CHECK(stat(key_path, &st) == 0 && (st.st_mode & 0777) == 0600);
    const char *pub = lds_notary_verifier_key(notary);
    const char *other_pub = lds_notary_verifier_key(other);

    enum { COUNT = 6 };
    char *bundles[COUNT + 1], *checkpoints[COUNT];
    for (int i = 0; i < COUNT; i++) {
        char *statement = sample_statement(i, i > 0 ? bundles[i - 1] : NULL);
        uint64_t index = 99;
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_notary_certify(notary, statement, strlen(statement), &bundles[i], &index, &err), &err);
        LDS_CHECK_INT(index, ==, i);
        LDS_CHECK_OK(lds_notary_checkpoint(notary, &checkpoints[i], &err), &err);
        lds_cert_info info;
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_cert_verify(bundles[i], strlen(bundles[i]), pub, strlen(pub), &info, &err), &err);
        LDS_CHECK_INT(info.log_index, ==, i);
        LDS_CHECK_INT(info.tree_size, ==, i + 1);
        LDS_CHECK_STR(info.statement_json, statement);
        LDS_CHECK(strncmp(info.geometry, "lds-geom-1:", 11) == 0);
        lds_cert_info_cleanup(&info);
        /* another notary's key does not verify it */
        LDS_CHECK_INT(verify_with(bundles[i], strlen(bundles[i]), other_pub, &err), ==, LDS_EVERIFY);
        free(statement);
    }
    /* the derivative names its parent */
    {
        lds_cert_info info;
        LDS_CHECK_OK(lds_cert_verify(bundles[3], strlen(bundles[3]), pub, strlen(pub), &info, &err), &err);
        json_t *root = json_loads(info.statement_json, 0, NULL);
        json_t *parent = json_array_get(json_object_get(json_object_get(root, "predicate"), "parents"), 0);
        LDS_CHECK_INT(json_integer_value(json_object_get(parent, "logIndex")), ==, 2);
        LDS_CHECK_STR(json_string_value(json_object_get(parent, "origin")), lds_notary_origin(notary));
        json_decref(root);
        lds_cert_info_cleanup(&info);
    }
    /* earlier bundles still verify against their own checkpoints */
    for (int i = 0; i < COUNT; i++)
        LDS_CHECK_OK(verify_with(bundles[i], strlen(bundles[i]), pub, &err), &err);

    /* re-certifying an identical statement returns the same entry and does not grow the log */
    {
        char *statement = sample_statement(2, bundles[1]);
        uint64_t index = 99, size = 0;
        LDS_CHECK_OK(lds_notary_certify(notary, statement, strlen(statement), &bundles[COUNT], &index, &err), &err);
        LDS_CHECK_INT(index, ==, 2);
        LDS_CHECK_OK(lds_notary_size(notary, &size, &err), &err);
        LDS_CHECK_INT(size, ==, COUNT);
        LDS_CHECK_OK(verify_with(bundles[COUNT], strlen(bundles[COUNT]), pub, &err), &err);
        free(statement);
    }

    /* every old checkpoint is consistent with the current log; a foreign one is not */
    for (int i = 0; i < COUNT; i++) {
        char *json = NULL;
        lds_checkpoint old_cp, new_cp;
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_notary_check_consistency(notary, checkpoints[i], strlen(checkpoints[i]), &old_cp, &new_cp,
                                                  &json, &err),
                     &err);
        LDS_CHECK_INT(old_cp.size, ==, i + 1);
        LDS_CHECK_INT(new_cp.size, ==, COUNT);
        free(json);
    }
    {
        char *foreign = NULL, *json = NULL;
        LDS_CHECK_OK(lds_notary_checkpoint(other, &foreign, &err), &err);
        lds_error_clear(&err);
        LDS_CHECK_INT(lds_notary_check_consistency(notary, foreign, strlen(foreign), NULL, NULL, &json, &err), ==,
                      LDS_EVERIFY);
        printf("foreign checkpoint: %s\n", err.message);
        free(foreign);
    }

    /* a second writer on the same log (another process in real life) sees and extends it */
    {
        lds_notary *second = NULL;
        LDS_CHECK_OK(lds_notary_open(home, &second, &err), &err);
        char *statement = sample_statement(100, NULL), *bundle = NULL;
        uint64_t index = 0;
        LDS_CHECK_OK(lds_notary_certify(second, statement, strlen(statement), &bundle, &index, &err), &err);
        LDS_CHECK_INT(index, ==, COUNT);
        free(bundle);
        free(statement);
        statement = sample_statement(101, NULL);
        LDS_CHECK_OK(lds_notary_certify(notary, statement, strlen(statement), &bundle, &index, &err), &err);
        LDS_CHECK_INT(index, ==, COUNT + 1);
        LDS_CHECK_OK(verify_with(bundle, strlen(bundle), pub, &err), &err);
        free(bundle);
        free(statement);
        lds_notary_close(second);
    }

    /* tampering with any bit of a bundle is caught */
    int tried = 0, accepted = 0;
    accepted += mutate_all(bundles[0], pub, 1, &tried);
    accepted += mutate_all(bundles[4], pub, 0, &tried);
    LDS_CHECK_INT(accepted, ==, 0);
    printf("bundle tampering: %d single-bit changes over %zu + %zu bytes, %d accepted\n", tried, strlen(bundles[0]),
           strlen(bundles[4]), accepted);
    {
        lds_error_clear(&err);
        char *copy = strdup(bundles[4]);
        char *p = strstr(copy, "\"index\":4");
        LDS_CHECK(p != NULL);
        if (p)
            p[8] = '3';
        LDS_CHECK_INT(verify_with(copy, strlen(copy), pub, &err), ==, LDS_EVERIFY);
        printf("index changed: %s\n", err.message);
        free(copy);
    }

    /* tampering with any bit of the log's storage is caught by the audit */
    LDS_CHECK(audit_ok());
    tried = 0;
    flip_storage("log/index", 1, &tried);
    flip_storage("log/checkpoint", 1, &tried);
    flip_storage("keys/notary.pub", 1, &tried);
    flip_storage("log/entries", 0, &tried);
    printf("storage tampering: %d bit flips, all caught\n", tried);

    for (int i = 0; i <= COUNT; i++)
        free(bundles[i]);
    for (int i = 0; i < COUNT; i++)
        free(checkpoints[i]);
    lds_notary_close(notary);
    lds_notary_close(other);
    return lds_test_result();
}
