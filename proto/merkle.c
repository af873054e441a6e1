/* merkle.c: Merkle hash trees as RFC 9162 (Certificate Transparency v2) section 2.1 defines them
 * over SHA-256: MTH({}) = SHA-256(), leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || l || r),
 * a tree of n leaves splits at the largest power of two below n. Proof generation follows
 * 2.1.3.1 (PATH) and 2.1.4.1 (PROOF/SUBPROOF); verification follows 2.1.3.2 and 2.1.4.2.
 *
 * The in-memory tree keeps level l as the hashes of the complete subtrees of 2^l leaves, so a
 * subtree hash is a lookup when complete and a fold of O(log n) lookups on the right edge. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto_internal.h"

#define HASH LDS_MERKLE_HASH_BYTES
#define LEVELS 64

void lds_merkle_leaf_hash(const void *data, size_t size, unsigned char out[HASH])
{
    static const unsigned char prefix = 0x00;
    lds_sha256 ctx;
    lds_sha256_init(&ctx);
    lds_sha256_update(&ctx, &prefix, 1);
    lds_sha256_update(&ctx, data, size);
    lds_sha256_final(&ctx, out);
}

void lds_merkle_node_hash(const unsigned char left[HASH], const unsigned char right[HASH], unsigned char out[HASH])
{
    unsigned char block[1 + 2 * HASH];
    block[0] = 0x01;
    memcpy(block + 1, left, HASH);
    memcpy(block + 1 + HASH, right, HASH);
    lds_sha256_buffer(block, sizeof(block), out);
}

static int same_hash(lds_proto_bytes a, const unsigned char b[HASH])
{
    return a.size == HASH && sodium_memcmp(a.data, b, HASH) == 0;
}

lds_status lds_merkle_verify_inclusion(uint64_t index, uint64_t tree_size, lds_proto_bytes leaf_hash,
                                       const lds_proto_bytes *proof, size_t proof_count, lds_proto_bytes root,
                                       lds_error *err)
{
    if (index >= tree_size)
        return lds_error_set(err, LDS_EVERIFY, "inclusion proof: index %llu is not below tree size %llu",
                             (unsigned long long)index, (unsigned long long)tree_size);
    if (leaf_hash.size != HASH)
        return lds_error_set(err, LDS_EVERIFY, "inclusion proof: leaf hash has %zu bytes, not %d", leaf_hash.size,
                             HASH);
    if (root.size != HASH)
        return lds_error_set(err, LDS_EVERIFY, "inclusion proof: root hash has %zu bytes, not %d", root.size, HASH);
    uint64_t fn = index, sn = tree_size - 1;
    unsigned char r[HASH];
    memcpy(r, leaf_hash.data, HASH);
    for (size_t i = 0; i < proof_count; i++) {
        if (proof[i].size != HASH)
            return lds_error_set(err, LDS_EVERIFY, "inclusion proof: hash %zu has %zu bytes, not %d", i,
                                 proof[i].size, HASH);
        if (sn == 0)
            return lds_error_set(err, LDS_EVERIFY, "inclusion proof: %zu hashes, longer than the path of leaf %llu",
                                 proof_count, (unsigned long long)index);
        if ((fn & 1) || fn == sn) {
            lds_merkle_node_hash(proof[i].data, r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            lds_merkle_node_hash(r, proof[i].data, r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return lds_error_set(err, LDS_EVERIFY, "inclusion proof: %zu hashes, shorter than the path of leaf %llu",
                             proof_count, (unsigned long long)index);
    if (!same_hash(root, r))
        return lds_error_set(err, LDS_EVERIFY,
                             "inclusion proof: computed root does not match the root of tree size %llu",
                             (unsigned long long)tree_size);
    return LDS_OK;
}

lds_status lds_merkle_verify_consistency(uint64_t size1, uint64_t size2, const lds_proto_bytes *proof,
                                         size_t proof_count, lds_proto_bytes root1, lds_proto_bytes root2,
                                         lds_error *err)
{
    if (size1 > size2)
        return lds_error_set(err, LDS_EVERIFY, "consistency proof: old size %llu is larger than new size %llu",
                             (unsigned long long)size1, (unsigned long long)size2);
    if (size1 == 0)
        return lds_error_set(err, LDS_EVERIFY, "consistency proof: from the empty tree proves nothing");
    if (size1 == size2) {
        if (proof_count != 0)
            return lds_error_set(err, LDS_EVERIFY, "consistency proof: sizes are equal but the proof is not empty");
        if (root1.size != root2.size || sodium_memcmp(root1.data, root2.data, root1.size) != 0)
            return lds_error_set(err, LDS_EVERIFY, "consistency proof: sizes are equal but the roots differ");
        return LDS_OK;
    }
    if (proof_count == 0)
        return lds_error_set(err, LDS_EVERIFY, "consistency proof: empty");
    if (root1.size != HASH || root2.size != HASH)
        return lds_error_set(err, LDS_EVERIFY, "consistency proof: a root hash is not %d bytes", HASH);
    for (size_t i = 0; i < proof_count; i++)
        if (proof[i].size != HASH)
            return lds_error_set(err, LDS_EVERIFY, "consistency proof: hash %zu has %zu bytes, not %d", i,
                                 proof[i].size, HASH);
    /* 2.1.4.2: when size1 is a power of two, the old root is the first node of the path. */
    size_t next = 0;
    unsigned char fr[HASH], sr[HASH];
    if ((size1 & (size1 - 1)) == 0)
        memcpy(fr, root1.data, HASH);
    else
        memcpy(fr, proof[next++].data, HASH);
    memcpy(sr, fr, HASH);
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; next < proof_count; next++) {
        const unsigned char *c = proof[next].data;
        if (sn == 0)
            return lds_error_set(err, LDS_EVERIFY, "consistency proof: %zu hashes, longer than needed", proof_count);
        if ((fn & 1) || fn == sn) {
            lds_merkle_node_hash(c, fr, fr);
            lds_merkle_node_hash(c, sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            lds_merkle_node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return lds_error_set(err, LDS_EVERIFY, "consistency proof: %zu hashes, shorter than needed", proof_count);
    if (!same_hash(root1, fr))
        return lds_error_set(err, LDS_EVERIFY, "consistency proof: does not lead to the old root (size %llu)",
                             (unsigned long long)size1);
    if (!same_hash(root2, sr))
        return lds_error_set(err, LDS_EVERIFY, "consistency proof: does not lead to the new root (size %llu)",
                             (unsigned long long)size2);
    return LDS_OK;
}

/* ---- the in-memory tree ---- */
struct lds_merkle_tree {
    lds_buf levels[LEVELS]; /* level l: floor(size / 2^l) hashes */
    uint64_t size;
};

lds_status lds_merkle_tree_create(lds_merkle_tree **out, lds_error *err)
{
    lds_merkle_tree *tree = calloc(1, sizeof(*tree));
    *out = tree;
    if (tree == NULL)
        return lds_error_set(err, LDS_ENOMEM, "merkle tree: out of memory");
    for (int l = 0; l < LEVELS; l++)
        lds_buf_init(&tree->levels[l], 0);
    return LDS_OK;
}

void lds_merkle_tree_destroy(lds_merkle_tree *tree)
{
    if (tree == NULL)
        return;
    for (int l = 0; l < LEVELS; l++)
        lds_buf_cleanup(&tree->levels[l]);
    free(tree);
}

uint64_t lds_merkle_tree_size(const lds_merkle_tree *tree)
{
    return tree->size;
}

static const unsigned char *level_hash(const lds_merkle_tree *tree, int level, uint64_t k)
{
    return tree->levels[level].data + k * HASH;
}

lds_status lds_merkle_tree_append(lds_merkle_tree *tree, const unsigned char leaf_hash[HASH], lds_error *err)
{
    unsigned char cur[HASH];
    memcpy(cur, leaf_hash, HASH);
    uint64_t k = tree->size;
    int level = 0;
    for (;;) {
        if (lds_buf_append(&tree->levels[level], cur, HASH) != LDS_OK)
            return lds_error_set(err, LDS_ENOMEM, "merkle tree: out of memory at %llu leaves",
                                 (unsigned long long)tree->size);
        if (!(k & 1) || level + 1 >= LEVELS)
            break;
        lds_merkle_node_hash(level_hash(tree, level, k - 1), cur, cur);
        k >>= 1;
        level++;
    }
    tree->size++;
    return LDS_OK;
}

const unsigned char *lds_merkle_tree_leaf(const lds_merkle_tree *tree, uint64_t index)
{
    return index < tree->size ? level_hash(tree, 0, index) : NULL;
}

static uint64_t split_point(uint64_t n) /* largest power of two below n (n >= 2) */
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* MTH(D[lo:hi]) for lo < hi <= size. */
static void subtree_hash(const lds_merkle_tree *tree, uint64_t lo, uint64_t hi, unsigned char out[HASH])
{
    uint64_t n = hi - lo;
    if ((n & (n - 1)) == 0 && lo % n == 0) {
        int level = 0;
        while ((UINT64_C(1) << level) < n)
            level++;
        memcpy(out, level_hash(tree, level, lo >> level), HASH);
        return;
    }
    uint64_t k = split_point(n);
    unsigned char left[HASH], right[HASH];
    subtree_hash(tree, lo, lo + k, left);
    subtree_hash(tree, lo + k, hi, right);
    lds_merkle_node_hash(left, right, out);
}

lds_status lds_merkle_tree_root(const lds_merkle_tree *tree, uint64_t tree_size, unsigned char out[HASH],
                                lds_error *err)
{
    if (tree_size > tree->size)
        return lds_error_set(err, LDS_EINVAL, "merkle tree: size %llu is past the %llu leaves",
                             (unsigned long long)tree_size, (unsigned long long)tree->size);
    if (tree_size == 0)
        lds_sha256_buffer("", 0, out);
    else
        subtree_hash(tree, 0, tree_size, out);
    return LDS_OK;
}

/* PATH(m, D[lo:hi]), deepest first. */
static void path(const lds_merkle_tree *tree, uint64_t m, uint64_t lo, uint64_t hi, unsigned char proof[][HASH],
                 size_t *count)
{
    uint64_t n = hi - lo;
    if (n <= 1)
        return;
    uint64_t k = split_point(n);
    if (m < k) {
        path(tree, m, lo, lo + k, proof, count);
        subtree_hash(tree, lo + k, hi, proof[(*count)++]);
    } else {
        path(tree, m - k, lo + k, hi, proof, count);
        subtree_hash(tree, lo, lo + k, proof[(*count)++]);
    }
}

lds_status lds_merkle_tree_inclusion_proof(const lds_merkle_tree *tree, uint64_t index, uint64_t tree_size,
                                           unsigned char proof[][HASH], size_t *count, lds_error *err)
{
    *count = 0;
    if (tree_size > tree->size || index >= tree_size)
        return lds_error_set(err, LDS_EINVAL, "merkle tree: no leaf %llu in a tree of size %llu (log has %llu)",
                             (unsigned long long)index, (unsigned long long)tree_size,
                             (unsigned long long)tree->size);
    path(tree, index, 0, tree_size, proof, count);
    return LDS_OK;
}

/* SUBPROOF(m, D[lo:hi], b), deepest first. */
static void subproof(const lds_merkle_tree *tree, uint64_t m, uint64_t lo, uint64_t hi, int complete,
                     unsigned char proof[][HASH], size_t *count)
{
    uint64_t n = hi - lo;
    if (m == n) {
        if (!complete)
            subtree_hash(tree, lo, hi, proof[(*count)++]);
        return;
    }
    uint64_t k = split_point(n);
    if (m <= k) {
        subproof(tree, m, lo, lo + k, complete, proof, count);
        subtree_hash(tree, lo + k, hi, proof[(*count)++]);
    } else {
        subproof(tree, m - k, lo + k, hi, 0, proof, count);
        subtree_hash(tree, lo, lo + k, proof[(*count)++]);
    }
}

lds_status lds_merkle_tree_consistency_proof(const lds_merkle_tree *tree, uint64_t size1, uint64_t size2,
                                             unsigned char proof[][HASH], size_t *count, lds_error *err)
{
    *count = 0;
    if (size2 > tree->size || size1 > size2)
        return lds_error_set(err, LDS_EINVAL, "merkle tree: no consistency proof from size %llu to %llu (log has %llu)",
                             (unsigned long long)size1, (unsigned long long)size2, (unsigned long long)tree->size);
    if (size1 == 0 || size1 == size2)
        return LDS_OK;
    subproof(tree, size1, 0, size2, 1, proof, count);
    return LDS_OK;
}
