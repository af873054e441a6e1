/*
 * fingerprint.c: the exact geometry fingerprint "lds-geom-1:<64 hex>" (DESIGN.md 6.3).
 *
 * Definition, version 1. The fingerprint is the SHA-256 (FIPS 180-4) of a canonical byte stream
 * built from the model's world-space positions only:
 *
 *  1. Positions are the float32 bit patterns, with -0.0 read as +0.0 (validated models hold no
 *     NaN). Positions are compared by these bits, so welded and split (STL-style) vertices give the
 *     same triangles; normals, UVs, colours, materials, vertex order and the submesh split play no
 *     part.
 *  2. Positions are ordered lexicographically on (x bits, y bits, z bits) as unsigned 32-bit
 *     integers. This is a canonical order, not numeric order (negative values sort last).
 *  3. Every triangle of every indexed submesh is taken as its three corner positions, rotated so
 *     that the smallest corner comes first; the winding is kept, so flipping a triangle changes the
 *     fingerprint.
 *  4. Dropped, consistently with lds_mesh_clean (so a model has the same fingerprint before and
 *     after cleaning): triangles with two equal corners; triangles of zero area, i.e. whose cross
 *     product (b - a) x (c - a) of the rotated corners, computed in double from the float
 *     coordinates, is exactly the zero vector; and duplicates, i.e. a rotated triangle equal to
 *     one already kept (the reverse-wound twin of a triangle is not a duplicate and is kept).
 *  5. The kept triangles are written in indexed form: P is the sorted set of distinct positions
 *     they use and each triangle becomes the triple of its corners' indices into P. The triples
 *     are sorted lexicographically (the same order as sorting the rotated position triples, since
 *     index order is position order). This carries exactly the information of the sorted list of
 *     rotated position triples in about half the bytes, which matters: hashing is the largest cost.
 *  6. Point clouds (submeshes with no indices) add Q, the sorted set of their distinct positions.
 *
 * The stream, all integers little-endian:
 *     "lds-geom-1" (10 ASCII bytes)
 *     u64 |P|, then |P| x (u32 x, u32 y, u32 z)
 *     u64 T,   then T x (u32 i0, u32 i1, u32 i2)      indices into P
 *     u64 |Q|, then |Q| x (u32 x, u32 y, u32 z)
 *
 * Implementation: one hash pass welds positions, LSD radix sorts (11-bit digits, passes whose
 * digit is constant skipped) order the positions and the triangles, so the whole is linear in the
 * input and has no comparison sort.
 */
#include <stdlib.h>
#include <string.h>

#include "mesh_internal.h"


#define FP_PREFIX "lds-geom-1"
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define PREFETCH_AHEAD 8 /* triangles */

/*
 * LSD radix sort of n records of `words` uint32 each. keys lists the key words from the least to the
 * most significant; only the low key_bits of each key word are looked at. The result ends in *a
 * (the two buffers may be swapped). Returns -1 on out of memory.
 */
static int radix_sort(uint32_t **a, uint32_t **tmp, size_t n, size_t words, const int *keys, int key_count,
                      uint32_t key_bits)
{
    if (n < 2)
        return 0;
    int digits = (int)((key_bits + RADIX_BITS - 1) / RADIX_BITS);
    int passes = digits * key_count;
    size_t *hist = calloc((size_t)passes * RADIX_SIZE, sizeof(size_t));
    if (hist == NULL)
        return -1;
    const uint32_t *src = *a;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *rec = src + i * words;
        for (int k = 0; k < key_count; k++) {
            uint32_t w = rec[keys[k]];
            for (int d = 0; d < digits; d++)
                hist[((size_t)(k * digits + d) << RADIX_BITS) + ((w >> (d * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
        }
    }
    for (int k = 0; k < key_count; k++) {
        for (int d = 0; d < digits; d++) {
            size_t *h = hist + ((size_t)(k * digits + d) << RADIX_BITS);
            uint32_t first = (src[keys[k]] >> (d * RADIX_BITS)) & (RADIX_SIZE - 1);
            if (h[first] == n)
                continue; /* every record has this digit: the pass would not move anything */
            size_t sum = 0;
            for (uint32_t b = 0; b < RADIX_SIZE; b++) {
                size_t c = h[b];
                h[b] = sum;
                sum += c;
            }
            const uint32_t *in = *a;
            uint32_t *out = *tmp;
            int word = keys[k], shift = d * RADIX_BITS;
            if (words == 3) {
                for (size_t i = 0; i < n; i++) {
                    const uint32_t *rec = in + i * 3;
                    uint32_t *dst = out + h[(rec[word] >> shift) & (RADIX_SIZE - 1)]++ * 3;
                    dst[0] = rec[0];
                    dst[1] = rec[1];
                    dst[2] = rec[2];
                }
            } else {
                for (size_t i = 0; i < n; i++) {
                    const uint32_t *rec = in + i * words;
                    memcpy(out + h[(rec[word] >> shift) & (RADIX_SIZE - 1)]++ * words, rec, words * sizeof(uint32_t));
                }
            }
            uint32_t *swap = *a;
            *a = *tmp;
            *tmp = swap;
        }
    }
    free(hist);
    return 0;
}

/* Hashes uint32 words little-endian. */
static void hash_words(lds_sha256 *ctx, const uint32_t *words, size_t count)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    unsigned char chunk[4096];
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t w = words[i];
        chunk[used++] = (unsigned char)w;
        chunk[used++] = (unsigned char)(w >> 8);
        chunk[used++] = (unsigned char)(w >> 16);
        chunk[used++] = (unsigned char)(w >> 24);
        if (used == sizeof(chunk)) {
            lds_sha256_update(ctx, chunk, used);
            used = 0;
        }
    }
    lds_sha256_update(ctx, chunk, used);
#else
    lds_sha256_update(ctx, words, count * sizeof(uint32_t));
#endif
}

static void hash_count(lds_sha256 *ctx, uint64_t count)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(count >> (8 * i));
    lds_sha256_update(ctx, le, sizeof(le));
}

/* A position record: the keys of p, then payload. */
static void put_record(uint32_t *k, const float *p, uint32_t payload)
{
    k[0] = lds_mesh_float_key(p[0]);
    k[1] = lds_mesh_float_key(p[1]);
    k[2] = lds_mesh_float_key(p[2]);
    k[3] = payload;
}

static int compare_yz(const void *a, const void *b)
{
    const uint32_t *p = a, *q = b;
    if (p[1] != q[1])
        return p[1] < q[1] ? -1 : 1;
    return p[2] < q[2] ? -1 : p[2] > q[2];
}

/*
 * Sorts n position records (words >= 3 uint32: x, y, z bits, then payload) in (x, y, z) order:
 * an LSD radix sort on x (three passes), then each run of equal x sorted on (y, z), by radix for
 * long runs (grids share x along whole columns) and by comparison for short ones. Result in *a.
 */
static int sort_positions(uint32_t **a, uint32_t **tmp, size_t n, size_t words)
{
    static const int x_key[1] = {0};
    static const int yz_keys[2] = {2, 1};
    if (radix_sort(a, tmp, n, words, x_key, 1, 32) != 0)
        return -1;
    uint32_t *r = *a;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && r[j * words] == r[i * words])
            j++;
        size_t run = j - i;
        if (run > 256) {
            uint32_t *sub = r + i * words, *sub_tmp = *tmp + i * words;
            if (radix_sort(&sub, &sub_tmp, run, words, yz_keys, 2, 32) != 0)
                return -1;
            if (sub != r + i * words)
                memcpy(r + i * words, sub, run * words * sizeof(uint32_t));
        } else if (run > 1) {
            qsort(r + i * words, run, words * sizeof(uint32_t), compare_yz);
        }
        i = j;
    }
    return 0;
}

lds_status lds_mesh_fingerprint_geometry(const lds_mesh_model *m, char out[LDS_MESH_GEOMETRY_FP_MAX],
                                         lds_error *err)
{
    lds_status st = LDS_OK;
    uint8_t *take = NULL;
    uint32_t *ids = NULL, *keys = NULL, *keys_tmp = NULL, *tris = NULL, *tris_tmp = NULL, *points = NULL;
    out[0] = '\0';
    if (m->vertex_count > UINT32_MAX)
        return lds_error_set(err, LDS_ELIMIT, "fingerprint: %zu vertices is over the limit", m->vertex_count);

    size_t tri_count = 0, point_count = 0;
    take = calloc(m->vertex_count ? m->vertex_count : 1, 1);
    if (take == NULL)
        goto nomem;
    for (size_t s = 0; s < m->submesh_count; s++) {
        const lds_mesh_submesh *sm = &m->submeshes[s];
        if ((uint64_t)sm->vertex_offset + sm->vertex_count > m->vertex_count ||
            (uint64_t)sm->index_offset + sm->index_count > m->index_count) {
            st = lds_error_set(err, LDS_EINVAL, "fingerprint: submesh %zu is out of range", s);
            goto out;
        }
        if (sm->index_count == 0) {
            point_count += sm->vertex_count;
            continue;
        }
        tri_count += sm->index_count / 3;
        memset(take + sm->vertex_offset, 1, sm->vertex_count);
    }
    if (tri_count == 0 && point_count == 0) {
        st = lds_error_set(err, LDS_ENOGEOM, "fingerprint: no triangles and no points");
        goto out;
    }

    /* 1. Rank the positions triangles may use: sort the vertices by position; equal positions
     *    (welded or split vertices alike) get the same rank, ranks follow the canonical order. */
    size_t unique = 0;
    ids = malloc((m->vertex_count ? m->vertex_count : 1) * sizeof(uint32_t));
    if (ids == NULL)
        goto nomem;
    if (tri_count) {
        size_t n = 0;
        for (size_t v = 0; v < m->vertex_count; v++)
            n += take[v];
        keys = malloc((n ? n : 1) * 4 * sizeof(uint32_t));
        keys_tmp = malloc((n ? n : 1) * 4 * sizeof(uint32_t));
        if (keys == NULL || keys_tmp == NULL)
            goto nomem;
        /* Split (STL-style) input holds each position about six times: weld by hash first so
         * that only distinct positions are sorted. Indexed input is sorted directly. */
        int welded_first = n > tri_count;
        size_t records = 0;
        if (welded_first) {
            size_t welded = lds_mesh_weld_positions(m, take, n, ids);
            if (welded == SIZE_MAX)
                goto nomem;
            /* records hold (x, y, z, id), one per distinct position: ids count up in order of
             * first appearance, so a vertex whose id is the next one is its position's first */
            for (size_t v = 0; v < m->vertex_count && records < welded; v++) {
                if (!take[v] || ids[v] != records)
                    continue;
                put_record(keys + records * 4, m->positions + v * 3, (uint32_t)records);
                records++;
            }
        } else {
            for (size_t v = 0; v < m->vertex_count; v++) {
                if (!take[v])
                    continue;
                put_record(keys + records++ * 4, m->positions + v * 3, (uint32_t)v); /* (x, y, z, vertex) */
            }
        }
        if (sort_positions(&keys, &keys_tmp, records, 4) != 0)
            goto nomem;
        /* Distinct positions, packed 3 words each at the front of keys (in place: unique <= i);
         * the rank of each vertex, directly or through its hash id. */
        uint32_t *rank = keys_tmp;
        for (size_t i = 0; i < records; i++) {
            uint32_t *k = keys + i * 4;
            if (unique == 0 || k[0] != keys[(unique - 1) * 3] || k[1] != keys[(unique - 1) * 3 + 1] ||
                k[2] != keys[(unique - 1) * 3 + 2]) {
                uint32_t x = k[0], y = k[1], z = k[2];
                keys[unique * 3] = x;
                keys[unique * 3 + 1] = y;
                keys[unique * 3 + 2] = z;
                unique++;
            }
            if (welded_first)
                rank[k[3]] = (uint32_t)(unique - 1);
            else
                ids[k[3]] = (uint32_t)(unique - 1);
        }
        if (welded_first)
            for (size_t v = 0; v < m->vertex_count; v++)
                if (take[v])
                    ids[v] = rank[ids[v]];
    }

    /* 2. Triangles as rotated rank triples; drop repeated corners and zero area. */
    size_t kept = 0;
    if (tri_count) {
        tris = malloc(tri_count * 3 * sizeof(uint32_t));
        tris_tmp = malloc(tri_count * sizeof(uint64_t));
        if (tris == NULL || tris_tmp == NULL)
            goto nomem;
        for (size_t s = 0; s < m->submesh_count; s++) {
            const lds_mesh_submesh *sm = &m->submeshes[s];
            const uint32_t *idx = m->indices + sm->index_offset;
            uint64_t vend = (uint64_t)sm->vertex_offset + sm->vertex_count;
            for (uint32_t t = 0; t + 2 < sm->index_count; t += 3) {
                if (t + 3 * PREFETCH_AHEAD + 2 < sm->index_count) /* faces in shuffled order miss the cache */
                    for (int k = 0; k < 3; k++) {
                        uint32_t w = idx[t + 3 * PREFETCH_AHEAD + k];
                        if (w < m->vertex_count) {
                            __builtin_prefetch(&ids[w]);
                            __builtin_prefetch(m->positions + (size_t)w * 3);
                        }
                    }
                uint32_t v0 = idx[t], v1 = idx[t + 1], v2 = idx[t + 2];
                if (v0 < sm->vertex_offset || v0 >= vend || v1 < sm->vertex_offset || v1 >= vend ||
                    v2 < sm->vertex_offset || v2 >= vend) {
                    st = lds_error_set(err, LDS_EINVAL, "fingerprint: index %u is outside submesh %zu",
                                       sm->index_offset + t, s);
                    goto out;
                }
                uint32_t r0 = ids[v0], r1 = ids[v1], r2 = ids[v2];
                if (r0 == r1 || r1 == r2 || r0 == r2)
                    continue;
                if (r1 < r0 && r1 < r2) {
                    uint32_t tr = r0, tv = v0;
                    r0 = r1, r1 = r2, r2 = tr;
                    v0 = v1, v1 = v2, v2 = tv;
                } else if (r2 < r0 && r2 < r1) {
                    uint32_t tr = r2, tv = v2;
                    r2 = r1, r1 = r0, r0 = tr;
                    v2 = v1, v1 = v0, v0 = tv;
                }
                if (lds_mesh_triangle_is_flat_rotated(m->positions + (size_t)v0 * 3, m->positions + (size_t)v1 * 3,
                                     m->positions + (size_t)v2 * 3))
                    continue;
                uint32_t *dst = tris + kept * 3;
                dst[0] = r0;
                dst[1] = r1;
                dst[2] = r2;
                kept++;
            }
        }
        /* 3. Sort: a counting sort on the first corner's rank (linear), then each bucket (about two
         *    triangles per position) on the other two ranks; drop duplicates as they come out. */
        size_t *start = calloc(unique + 1, sizeof(size_t));
        uint64_t *rest = (uint64_t *)tris_tmp; /* r1 << 32 | r2, bucketed by r0 */
        uint32_t *renumber = keys_tmp;         /* free again: only positions are kept, in keys */
        if (start == NULL)
            goto nomem;
        for (size_t i = 0; i < kept; i++)
            start[tris[i * 3] + 1]++;
        for (size_t r = 0; r < unique; r++)
            start[r + 1] += start[r];
        for (size_t i = 0; i < kept; i++) {
            const uint32_t *t = tris + i * 3;
            rest[start[t[0]]++] = ((uint64_t)t[1] << 32) | t[2];
        }
        memset(renumber, 0xff, unique * sizeof(uint32_t));
        size_t distinct = 0, begin = 0;
        for (size_t r = 0; r < unique; r++) {
            size_t end = start[r];
            if (end == begin)
                continue;
            lds_mesh_sort_u64(rest + begin, end - begin);
            for (size_t i = begin; i < end; i++) {
                if (i > begin && rest[i] == rest[i - 1])
                    continue;
                uint32_t *t = tris + distinct++ * 3;
                t[0] = (uint32_t)r;
                t[1] = (uint32_t)(rest[i] >> 32);
                t[2] = (uint32_t)rest[i];
                renumber[t[0]] = renumber[t[1]] = renumber[t[2]] = 0;
            }
            begin = end;
        }
        free(start);
        kept = distinct;
        /* Renumber the positions still used so that P holds only those (order kept). */
        uint32_t used = 0;
        for (size_t r = 0; r < unique; r++) {
            if (renumber[r] == 0) {
                renumber[r] = used;
                memmove(keys + (size_t)used * 3, keys + r * 3, 3 * sizeof(uint32_t));
                used++;
            }
        }
        for (size_t i = 0; i < kept * 3; i++)
            tris[i] = renumber[tris[i]];
        unique = used;
    }

    /* 4. Point clouds: the sorted set of their positions. */
    size_t point_unique = 0;
    if (point_count) {
        points = malloc(point_count * 3 * sizeof(uint32_t));
        uint32_t *points_tmp = malloc(point_count * 3 * sizeof(uint32_t));
        if (points == NULL || points_tmp == NULL) {
            free(points_tmp);
            goto nomem;
        }
        size_t n = 0;
        for (size_t s = 0; s < m->submesh_count; s++) {
            const lds_mesh_submesh *sm = &m->submeshes[s];
            if (sm->index_count != 0)
                continue;
            for (uint32_t v = sm->vertex_offset; v < sm->vertex_offset + sm->vertex_count; v++) {
                const float *p = m->positions + (size_t)v * 3;
                points[n * 3] = lds_mesh_float_key(p[0]);
                points[n * 3 + 1] = lds_mesh_float_key(p[1]);
                points[n * 3 + 2] = lds_mesh_float_key(p[2]);
                n++;
            }
        }
        int sorted = sort_positions(&points, &points_tmp, n, 3);
        free(points_tmp);
        if (sorted != 0)
            goto nomem;
        for (size_t i = 0; i < n; i++) {
            const uint32_t *p = points + i * 3;
            if (point_unique > 0) {
                const uint32_t *prev = points + (point_unique - 1) * 3;
                if (prev[0] == p[0] && prev[1] == p[1] && prev[2] == p[2])
                    continue;
            }
            memmove(points + point_unique * 3, p, 3 * sizeof(uint32_t));
            point_unique++;
        }
    }
    if (kept == 0 && point_unique == 0) {
        st = lds_error_set(err, LDS_ENOGEOM, "fingerprint: all %zu triangles are degenerate", tri_count);
        goto out;
    }

    lds_sha256 ctx;
    unsigned char digest[LDS_SHA256_BYTES];
    lds_sha256_init(&ctx);
    lds_sha256_update(&ctx, FP_PREFIX, strlen(FP_PREFIX));
    hash_count(&ctx, kept ? unique : 0);
    if (kept)
        hash_words(&ctx, keys, unique * 3);
    hash_count(&ctx, kept);
    if (kept)
        hash_words(&ctx, tris, kept * 3);
    hash_count(&ctx, point_unique);
    if (point_unique)
        hash_words(&ctx, points, point_unique * 3);
    lds_sha256_final(&ctx, digest);
    memcpy(out, FP_PREFIX ":", sizeof(FP_PREFIX ":"));
    lds_hex_encode(digest, sizeof(digest), out + strlen(FP_PREFIX ":"));
    goto out;

nomem:
    st = lds_error_set(err, LDS_ENOMEM, "fingerprint: out of memory for %zu vertices", m->vertex_count);
out:
    free(take);
    free(ids);
    free(keys);
    free(keys_tmp);
    free(tris);
    free(tris_tmp);
    free(points);
    return st;
}
