/* test_proto_merkle.c: RFC 9162 trees and proofs. Without arguments: roots against a naive
 * recursive MTH, every inclusion and consistency proof of every tree up to 70 leaves generated
 * and verified, and every single-bit change to a proof rejected. With "vectors": every file of
 * ../shared/vectors/merkle (transparency-dev test data) through the verifiers: the happy paths
 * accepted, every mutation rejected. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "testlib.h"

#define H LDS_MERKLE_HASH_BYTES

static void naive_mth(unsigned char (*leaves)[H], uint64_t n, unsigned char out[H])
{
    if (n == 0) {
        lds_sha256_buffer("", 0, out);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], H);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    unsigned char l[H], r[H];
    naive_mth(leaves, k, l);
    naive_mth(leaves + k, n - k, r);
    lds_merkle_node_hash(l, r, out);
}

static lds_proto_bytes view(const unsigned char *p, size_t n)
{
    return (lds_proto_bytes){p, n};
}

static void self_test(void)
{
    enum { N = 70 };
    static unsigned char leaves[N][H];
    static unsigned char proof[LDS_MERKLE_PROOF_MAX][H];
    lds_proto_bytes views[LDS_MERKLE_PROOF_MAX];
    lds_merkle_tree *tree = NULL;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_merkle_tree_create(&tree, &err), &err);
    for (int i = 0; i < N; i++) {
        char data[32];
        snprintf(data, sizeof(data), "leaf %d", i);
        lds_merkle_leaf_hash(data, strlen(data), leaves[i]);
        LDS_CHECK_OK(lds_merkle_tree_append(tree, leaves[i], &err), &err);
    }
    /* RFC 6962 / 9162 reference: the empty tree and the leaf hash of "" */
    unsigned char root[H], expect[H];
    char hex[LDS_SHA256_HEX];
    LDS_CHECK_OK(lds_merkle_tree_root(tree, 0, root, &err), &err);
    lds_hex_encode(root, H, hex);
    LDS_CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    lds_merkle_leaf_hash("", 0, root);
    lds_hex_encode(root, H, hex);
    LDS_CHECK_STR(hex, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");

    int inclusion = 0, consistency = 0, rejected = 0, accepted_mutants = 0;
    for (uint64_t n = 1; n <= N; n++) {
        naive_mth(leaves, n, expect);
        LDS_CHECK_OK(lds_merkle_tree_root(tree, n, root, &err), &err);
        LDS_CHECK(memcmp(root, expect, H) == 0);
        for (uint64_t m = 0; m < n; m++) {
            size_t count = 0;
            LDS_CHECK_OK(lds_merkle_tree_inclusion_proof(tree, m, n, proof, &count, &err), &err);
            for (size_t i = 0; i < count; i++)
                views[i] = view(proof[i], H);
            lds_error verr;
            lds_error_clear(&verr);
            lds_status s = lds_merkle_verify_inclusion(m, n, view(leaves[m], H), views, count, view(root, H), &verr);
            if (s != LDS_OK)
                fprintf(stderr, "inclusion %llu/%llu: %s\n", (unsigned long long)m, (unsigned long long)n,
                        verr.message);
            LDS_CHECK_INT(s, ==, LDS_OK);
            inclusion++;
            /* wrong index, each flipped bit of a sample of proof bytes */
            LDS_CHECK_INT(lds_merkle_verify_inclusion(m ^ 1, n, view(leaves[m], H), views, count, view(root, H), NULL),
                          !=, LDS_OK);
            /* (A size with the same path shape verifies too: the signed checkpoint binds the size.) */
            for (size_t i = 0; i < count; i++)
                for (int byte = 0; byte < H; byte += 7) {
                    proof[i][byte] ^= 0x10;
                    if (lds_merkle_verify_inclusion(m, n, view(leaves[m], H), views, count, view(root, H), NULL) ==
                        LDS_OK)
                        accepted_mutants++;
                    else
                        rejected++;
                    proof[i][byte] ^= 0x10;
                }
        }
        for (uint64_t m = 1; m <= n; m++) {
            size_t count = 0;
            unsigned char old_root[H];
            LDS_CHECK_OK(lds_merkle_tree_root(tree, m, old_root, &err), &err);
            LDS_CHECK_OK(lds_merkle_tree_consistency_proof(tree, m, n, proof, &count, &err), &err);
            for (size_t i = 0; i < count; i++)
                views[i] = view(proof[i], H);
            lds_error verr;
            lds_error_clear(&verr);
            lds_status s = lds_merkle_verify_consistency(m, n, views, count, view(old_root, H), view(root, H), &verr);
            if (s != LDS_OK)
                fprintf(stderr, "consistency %llu->%llu: %s\n", (unsigned long long)m, (unsigned long long)n,
                        verr.message);
            LDS_CHECK_INT(s, ==, LDS_OK);
            consistency++;
            for (size_t i = 0; i < count; i++) {
                proof[i][i % H] ^= 0x01;
                if (lds_merkle_verify_consistency(m, n, views, count, view(old_root, H), view(root, H), NULL) == LDS_OK)
                    accepted_mutants++;
                else
                    rejected++;
                proof[i][i % H] ^= 0x01;
            }
            if (m < n) { /* a proof for another old size must fail */
                LDS_CHECK_INT(lds_merkle_verify_consistency(m, n, views, count > 0 ? count - 1 : 0, view(old_root, H),
                                                            view(root, H), NULL),
                              !=, LDS_OK);
            }
        }
    }
    LDS_CHECK_INT(accepted_mutants, ==, 0);
    printf("merkle: %d inclusion and %d consistency proofs verified, %d mutated proofs rejected\n", inclusion,
           consistency, rejected);
    lds_merkle_tree_destroy(tree);
}

/* ---- the shared vectors ---- */
/* jansson keeps integers in long long; leafIdx may be 2^64-1, so read the integers as text. */
static int text_u64(const char *text, const char *key, uint64_t *out)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":", key);
    const char *p = strstr(text, pattern);
    if (p == NULL)
        return -1;
    p += strlen(pattern);
    while (*p == ' ')
        p++;
    char *end = NULL;
    errno = 0;
    *out = strtoull(p, &end, 10);
    return errno || end == p ? -1 : 0;
}

typedef struct decoded {
    unsigned char bytes[4][256];
    size_t size[4];
    unsigned char proof[LDS_MERKLE_PROOF_MAX][256];
    lds_proto_bytes views[LDS_MERKLE_PROOF_MAX];
    size_t count;
} decoded;

static int b64(const char *in, unsigned char *out, size_t *size)
{
    /* a small independent decoder, so the test does not lean on the code under test */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        const char *at = strchr(alphabet, *p);
        if (at == NULL)
            return -1;
        acc = acc << 6 | (unsigned)(at - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= 256)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    *size = n;
    return 0;
}

static int decode_proof(json_t *array, decoded *d)
{
    d->count = 0;
    if (json_is_null(array) || array == NULL)
        return 0;
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item)
    {
        size_t size = 0;
        if (i >= LDS_MERKLE_PROOF_MAX || b64(json_string_value(item), d->proof[i], &size) != 0)
            return -1;
        d->views[i] = view(d->proof[i], size);
        d->count = i + 1;
    }
    return 0;
}

static int run_dir(const char *dir, int consistency, int *accepted, int *rejected)
{
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return 0;
    int files = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR) {
            files += run_dir(path, consistency, accepted, rejected);
            continue;
        }
        unsigned char *text = NULL;
        size_t size = 0;
        lds_error err;
        lds_error_clear(&err);
        if (lds_file_read(path, 1 << 20, &text, &size, &err) != LDS_OK) {
            fprintf(stderr, "%s\n", err.message);
            lds_test_failures++;
            continue;
        }
        json_error_t jerr;
        json_t *root = json_loads((const char *)text, JSON_DECODE_INT_AS_REAL, &jerr);
        if (root == NULL) {
            fprintf(stderr, "%s: %s\n", path, jerr.text);
            lds_test_failures++;
            free(text);
            continue;
        }
        int want_err = json_is_true(json_object_get(root, "wantErr"));
        decoded *d = calloc(1, sizeof(*d));
        lds_status s;
        if (consistency) {
            uint64_t size1 = 0, size2 = 0;
            LDS_CHECK(text_u64((const char *)text, "size1", &size1) == 0);
            LDS_CHECK(text_u64((const char *)text, "size2", &size2) == 0);
            LDS_CHECK(b64(json_string_value(json_object_get(root, "root1")), d->bytes[0], &d->size[0]) == 0);
            LDS_CHECK(b64(json_string_value(json_object_get(root, "root2")), d->bytes[1], &d->size[1]) == 0);
            LDS_CHECK(decode_proof(json_object_get(root, "proof"), d) == 0);
            s = lds_merkle_verify_consistency(size1, size2, d->views, d->count, view(d->bytes[0], d->size[0]),
                                              view(d->bytes[1], d->size[1]), &err);
        } else {
            uint64_t index = 0, tree_size = 0;
            LDS_CHECK(text_u64((const char *)text, "leafIdx", &index) == 0);
            LDS_CHECK(text_u64((const char *)text, "treeSize", &tree_size) == 0);
            LDS_CHECK(b64(json_string_value(json_object_get(root, "root")), d->bytes[0], &d->size[0]) == 0);
            LDS_CHECK(b64(json_string_value(json_object_get(root, "leafHash")), d->bytes[1], &d->size[1]) == 0);
            LDS_CHECK(decode_proof(json_object_get(root, "proof"), d) == 0);
            s = lds_merkle_verify_inclusion(index, tree_size, view(d->bytes[1], d->size[1]), d->views, d->count,
                                            view(d->bytes[0], d->size[0]), &err);
        }
        if ((s == LDS_OK) == want_err) {
            fprintf(stderr, "%s: %s (wantErr %d): %s\n", path, s == LDS_OK ? "accepted" : "rejected", want_err,
                    err.message);
            lds_test_failures++;
        }
        if (s == LDS_OK)
            (*accepted)++;
        else
            (*rejected)++;
        files++;
        free(d);
        json_decref(root);
        free(text);
    }
    closedir(dh);
    return files;
}

static void vectors(void)
{
    char dir[4096];
    if (lds_test_shared("vectors/merkle", dir, sizeof(dir)) == NULL)
        lds_test_skip("../shared/vectors/merkle is not there");
    char sub[4200];
    int accepted = 0, rejected = 0;
    snprintf(sub, sizeof(sub), "%s/inclusion", dir);
    int files = run_dir(sub, 0, &accepted, &rejected);
    snprintf(sub, sizeof(sub), "%s/consistency", dir);
    files += run_dir(sub, 1, &accepted, &rejected);
    LDS_CHECK_INT(files, >, 100);
    printf("merkle vectors: %d files, %d accepted, %d rejected\n", files, accepted, rejected);
}

int main(int argc, char **argv)
{
    lds_crypto_init();
    if (argc > 1 && strcmp(argv[1], "vectors") == 0)
        vectors();
    else
        self_test();
    return lds_test_result();
}
