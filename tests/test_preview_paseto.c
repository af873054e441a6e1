/* test_preview_paseto.c: PASETO v4.public (proto/paseto.c) against the specification's official
 * test vectors (paseto-standard/test-vectors, v4.json: 4-S-1..3 and 4-F-1..3) and PASERK k4.pid
 * (k4.pid-1); then tampering, footers and the preview keys of a data directory. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto.h"
#include "testlib.h"

static const char *const PUBLIC_KEY = "1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2";
static const char *const SECRET_KEY = "b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a3774"
                                      "1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2";
static const char *const PAYLOAD = "{\"data\":\"this is a signed message\",\"exp\":\"2022-01-01T00:00:00+00:00\"}";
static const char *const KID = "{\"kid\":\"zVhMiPBP9fRf2snEcT7gFTioeA9COcNy9DfgL1W60haN\"}";

typedef struct vector {
    const char *name, *token, *footer, *implicit;
    int expect_fail;
} vector;

static const vector vectors[] = {
    {"4-S-1",
     "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAyMi0wMS0wMVQwMDowMDowMCswMDowMCJ9bg_"
     "XBBzds8lTZShVlwwKSgeKpLT3yukTw6JUz3W4h_ExsQV-P0V54zemZDcAxFaSeef1QlXEFtkqxT1ciiQEDA",
     "", "", 0},
    {"4-S-2",
     "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAyMi0wMS0wMVQwMDowMDowMCswMDowMCJ9v3Jt8mx_"
     "TdM2ceTGoqwrh4yDFn0XsHvvV_D0DtwQxVrJEBMl0F2caAdgnpKlt4p7xBnx1HcO-SPo8FPp214HDw."
     "eyJraWQiOiJ6VmhNaVBCUDlmUmYyc25FY1Q3Z0ZUaW9lQTlDT2NOeTlEZmdMMVc2MGhhTiJ9",
     NULL, "", 0},
    {"4-S-3",
     "v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAyMi0wMS0wMVQwMDowMDowMCswMDowMCJ9NPWciuD3d0o5eX"
     "JXG5pJy-DiVEoyPYWs1YSTwWHNJq6DZD3je5gf-0M4JR9ipdUSJbIovzmBECeaWmaqcaP0DQ."
     "eyJraWQiOiJ6VmhNaVBCUDlmUmYyc25FY1Q3Z0ZUaW9lQTlDT2NOeTlEZmdMMVc2MGhhTiJ9",
     NULL, "{\"test-vector\":\"4-S-3\"}", 0},
    {"4-F-1",
     "v4.local.vngXfCISbnKgiP6VWGuOSlYrFYU300fy9ijW33rznDYgxHNPwWluAY2Bgb0z54CUs6aYYkIJ-bOOOmJHPuX_34Agt_"
     "IPlNdGDpRdGNnBz2MpWJvB3cttheEc1uyCEYltj7wBQQYX.YXJiaXRyYXJ5LXN0cmluZy10aGF0LWlzbid0LWpzb24",
     "arbitrary-string-that-isn't-json", "{\"test-vector\":\"4-F-1\"}", 1},
    {"4-F-2",
     "v4.public.eyJpbnZhbGlkIjoidGhpcyBzaG91bGQgbmV2ZXIgZGVjb2RlIn22Sp4gjCaUw0c7EH84ZSm_jN_Qr41MrgLNu5LIBCzUr1pn3Z-"
     "Wukg9h3ceplWigpoHaTLcwxj0NsI1vjTh67YB.eyJraWQiOiJ6VmhNaVBCUDlmUmYyc25FY1Q3Z0ZUaW9lQTlDT2NOeTlEZmdMMVc2MGhhTiJ9",
     NULL, "{\"test-vector\":\"4-F-2\"}", 1},
    {"4-F-3",
     "v3.local.23e_2PiqpQBPvRFKzB0zHhjmxK3sKo2grFZRRLM-U7L0a8uHxuF9RlVz3Ic6WmdUUWTxCaYycwWV1yM8gKbZB2JhygDMKvHQ7eBf8GtF0r3"
     "K0Q_gF1PXOxcOgztak1eD1dPe9rLVMSgR0nHJXeIGYVuVrVoLWQ.YXJiaXRyYXJ5LXN0cmluZy10aGF0LWlzbid0LWpzb24",
     "arbitrary-string-that-isn't-json", "{\"test-vector\":\"4-F-3\"}", 1},
};

static int verifies(const unsigned char pk[32], const char *token, const char *footer, const char *implicit)
{
    lds_error err;
    lds_error_clear(&err);
    unsigned char *m = NULL;
    size_t size = 0;
    lds_status st = lds_paseto_v4_verify(pk, token, strlen(token), footer, footer ? strlen(footer) : 0, implicit,
                                         strlen(implicit), &m, &size, &err);
    int ok = st == LDS_OK && size == strlen(PAYLOAD) && memcmp(m, PAYLOAD, size) == 0;
    LDS_CHECK(st == LDS_OK || (m == NULL && err.code == LDS_EVERIFY));
    free(m);
    return ok;
}

static void official_vectors(void)
{
    unsigned char pk[32], sk[64];
    LDS_CHECK(lds_hex_decode(PUBLIC_KEY, pk, 32) == LDS_OK && lds_hex_decode(SECRET_KEY, sk, 64) == LDS_OK);
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const vector *v = &vectors[i];
        const char *footer = v->footer ? v->footer : KID;
        int ok = verifies(pk, v->token, footer, v->implicit);
        if (ok != !v->expect_fail)
            fprintf(stderr, "vector %s: verified %d, expected %d\n", v->name, ok, !v->expect_fail);
        LDS_CHECK_INT(ok, ==, !v->expect_fail);
        if (v->expect_fail)
            continue;
        lds_error err;
        lds_error_clear(&err);
        char *token = NULL;
        LDS_CHECK_OK(lds_paseto_v4_sign(sk, PAYLOAD, strlen(PAYLOAD), footer, strlen(footer), v->implicit,
                                        strlen(v->implicit), &token, &err),
                     &err);
        LDS_CHECK_STR(token, v->token); /* Ed25519 is deterministic: the same bytes */
        free(token);
    }
    unsigned char zero[32] = {0};
    char pid[LDS_PASERK_PID_MAX];
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_paserk_pid(zero, pid, &err), &err);
    LDS_CHECK_STR(pid, "k4.pid.S_XQmeEwHbbvRmiyfXfHYpLGjXGzjTRSDoT1YtTakWFE");
}

static void tampering(void)
{
    unsigned char pk[32];
    LDS_CHECK(lds_hex_decode(PUBLIC_KEY, pk, 32) == LDS_OK);
    const char *good = vectors[1].token;
    LDS_CHECK(verifies(pk, good, KID, ""));
    LDS_CHECK(verifies(pk, good, NULL, "")); /* any footer: still the signed one */
    LDS_CHECK(!verifies(pk, good, "{\"kid\":\"other\"}", ""));
    LDS_CHECK(!verifies(pk, good, KID, "{\"assertion\":1}"));
    size_t n = strlen(good);
    char *copy = malloc(n + 2);
    for (size_t i = 0; i < n; i++) { /* every single-character change fails */
        memcpy(copy, good, n + 1);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        if (verifies(pk, copy, NULL, "")) {
            fprintf(stderr, "a change at byte %zu still verified\n", i);
            LDS_CHECK(0);
            break;
        }
    }
    memcpy(copy, good, n + 1);
    copy[n] = '=', copy[n + 1] = 0; /* padding is not base64url as PASETO has it */
    LDS_CHECK(!verifies(pk, copy, NULL, ""));
    copy[strchr(good + 10, '.') - good] = 0; /* footer dropped */
    LDS_CHECK(!verifies(pk, copy, NULL, ""));
    free(copy);
    LDS_CHECK(!verifies(pk, "v4.public.", NULL, ""));
    LDS_CHECK(!verifies(pk, "v4.public.AAAA", NULL, ""));
}

static void preview_keys(void)
{
    const char *home = lds_test_tmpdir("preview_paseto");
    lds_error err;
    lds_error_clear(&err);
    lds_preview_keys *keys = NULL, *again = NULL;
    LDS_CHECK_OK(lds_preview_keys_open(home, &keys, &err), &err);
    LDS_CHECK_OK(lds_preview_keys_open(home, &again, &err), &err);
    if (keys == NULL || again == NULL)
        return;
    LDS_CHECK_STR(lds_preview_keys_id(keys), lds_preview_keys_id(again));
    LDS_CHECK_STR(lds_preview_keys_watermark_id(keys), lds_preview_keys_watermark_id(again));
    char path[2048];
    struct stat st;
    snprintf(path, sizeof(path), "%s/keys/preview.key", home);
    LDS_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    snprintf(path, sizeof(path), "%s/keys/watermark.key", home);
    LDS_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    char *token = NULL, *claims = NULL;
    LDS_CHECK_OK(lds_preview_token_sign(keys, "{\"jti\":\"x\"}", &token, &err), &err);
    LDS_CHECK_OK(lds_preview_token_verify(again, token, &claims, &err), &err);
    LDS_CHECK_STR(claims, "{\"jti\":\"x\"}");
    unsigned char a[32], b[32], c[32];
    lds_preview_watermark_seed(keys, "p1", a);
    lds_preview_watermark_seed(again, "p1", b);
    lds_preview_watermark_seed(keys, "p2", c);
    LDS_CHECK(memcmp(a, b, 32) == 0 && memcmp(a, c, 32) != 0);
    free(token);
    free(claims);
    lds_preview_keys_close(keys);
    lds_preview_keys_close(again);
}

int main(void)
{
    LDS_CHECK(lds_crypto_init() == LDS_OK);
    official_vectors();
    tampering();
    preview_keys();
    return lds_test_result();
}
