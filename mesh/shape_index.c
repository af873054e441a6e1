/*
 * shape_index.c: finding the shapes near a fingerprint without comparing against all of them.
 *
 * Locality-sensitive hashing with random projections and multi-probe lookups (Datar, Immorlica,
 * Indyk, Mirrokni, "Locality-sensitive hashing scheme based on p-stable distributions", SoCG
 * 2004; Lv et al., "Multi-probe LSH", VLDB 2007). The descriptor is first mapped to the vector
 * space of shape.c in which the match distance is the L1 distance. Each table hashes a
 * fingerprint to SHAPE_HASHES values h_i = floor((a_i . v + b_i) / W), with coefficients a_i
 * in [-1, 1] and offsets b_i drawn once from a fixed seed. Random signs would cancel what tells
 * shapes apart (a different shape shifts a whole cumulative histogram one way), so the a_i are
 * block sums with random positive weights: the two moment ratios (sum and difference), and the
 * cumulative D1, D2 and A3 histograms, i.e. roughly their means. Because |a_i . (v - u)| <= |v - u|_1,
 * two fingerprints that match (L1 distance <= 1.2) project less than W / 2 apart on every a_i;
 * a query that probes, for each projection, its own bucket and the neighbour on the nearer side
 * therefore finds every match: recall is exact by construction, not by luck. The 2^k probes of
 * one table are the query keys; a stored fingerprint has one key per table.
 *
 * Keys are short strings ("s1:0:3,-2,5,1") so that a Redis set per key can hold asset ids.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "shape_internal.h"

#define SHAPE_HASHES 5          /* projections per table */
#define SHAPE_WIDTH 2.5         /* bucket width, more than twice LDS_SHAPE_MATCH_DISTANCE */
#define SHAPE_INDEX_SEED 0x73686170656c7368ull

_Static_assert(LDS_MESH_SHAPE_TABLES * (1 << SHAPE_HASHES) <= LDS_MESH_SHAPE_PROBES_MAX, "probe bound");

typedef struct shape_projection {
    double a[LDS_SHAPE_VECTOR_DIM];
    double b;
} shape_projection;

static shape_projection projections[LDS_MESH_SHAPE_TABLES][SHAPE_HASHES];

/* The projections are a pure function of the seed, filled once. */
static pthread_once_t projections_once = PTHREAD_ONCE_INIT;

static void projections_init(void)
{
    /* probing one neighbouring bucket must cover every match (a floating-point condition, which
     * C11 does not allow in _Static_assert) */
    assert(SHAPE_WIDTH > 2 * LDS_SHAPE_MATCH_DISTANCE);
    static const int block_start[5] = {0, 0, LDS_SHAPE_VECTOR_D1, LDS_SHAPE_VECTOR_D2, LDS_SHAPE_VECTOR_A3};
    static const int block_end[5] = {2, 2, LDS_SHAPE_VECTOR_D2, LDS_SHAPE_VECTOR_A3, LDS_SHAPE_VECTOR_DIM};
    uint64_t state = SHAPE_INDEX_SEED;
    for (int t = 0; t < LDS_MESH_SHAPE_TABLES; t++)
        for (int h = 0; h < SHAPE_HASHES; h++) {
            shape_projection *p = &projections[t][h];
            memset(p->a, 0, sizeof p->a);
            for (int i = block_start[h % 5]; i < block_end[h % 5]; i++)
                p->a[i] = 0.75 + 0.25 * lds_shape_uniform01(&state);
            if (h % 5 == 1)
                p->a[1] = -p->a[1]; /* lambda2 - lambda3 */
            p->b = lds_shape_uniform01(&state) * SHAPE_WIDTH;
        }
}

lds_status lds_mesh_shape_bucket_keys(const char *fingerprint, int probe, char keys[][LDS_MESH_SHAPE_KEY_MAX],
                                      size_t *count, lds_error *err)
{
    lds_shape_descriptor d;
    *count = 0;
    lds_status status = lds_shape_descriptor_parse(fingerprint, &d, err);
    if (status != LDS_OK)
        return status;
    pthread_once(&projections_once, projections_init);
    double v[LDS_SHAPE_VECTOR_DIM];
    lds_shape_descriptor_vector(&d, v);
    for (int t = 0; t < LDS_MESH_SHAPE_TABLES; t++) {
        long bucket[SHAPE_HASHES];
        int nearer[SHAPE_HASHES]; /* -1 or +1: the neighbouring bucket closer to the projection */
        for (int h = 0; h < SHAPE_HASHES; h++) {
            double x = 0;
            for (int i = 0; i < LDS_SHAPE_VECTOR_DIM; i++)
                x += projections[t][h].a[i] * v[i];
            x = (x + projections[t][h].b) / SHAPE_WIDTH;
            double f = floor(x);
            bucket[h] = (long)f;
            nearer[h] = x - f < 0.5 ? -1 : 1;
        }
        int variants = probe ? 1 << SHAPE_HASHES : 1;
        for (int mask = 0; mask < variants; mask++) {
            int o = snprintf(keys[*count], LDS_MESH_SHAPE_KEY_MAX, "s1:%d:", t);
            for (int h = 0; h < SHAPE_HASHES; h++)
                o += snprintf(keys[*count] + o, LDS_MESH_SHAPE_KEY_MAX - (size_t)o, "%s%ld", h ? "," : "",
                              bucket[h] + ((mask >> h) & 1 ? nearer[h] : 0));
            (*count)++;
        }
    }
    return LDS_OK;
}

/* ---- in-memory index: a chained hash table from bucket key to entry numbers ---- */

typedef struct index_entry {
    char *id;
    lds_shape_descriptor descriptor;
} index_entry;

typedef struct index_bucket {
    char key[LDS_MESH_SHAPE_KEY_MAX];
    uint32_t *entries;
    size_t count, capacity;
    struct index_bucket *next;
} index_bucket;

struct lds_mesh_shape_index {
    index_entry *entries;
    size_t entry_count, entry_capacity;
    index_bucket **slots;
    size_t slot_count, bucket_count;
};

static uint64_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return h;
}

lds_mesh_shape_index *lds_mesh_shape_index_create(void)
{
    lds_mesh_shape_index *index = calloc(1, sizeof *index);
    if (index == NULL)
        return NULL;
    index->slot_count = 1024;
    index->slots = calloc(index->slot_count, sizeof *index->slots);
    if (index->slots == NULL) {
        free(index);
        return NULL;
    }
    return index;
}

void lds_mesh_shape_index_destroy(lds_mesh_shape_index *index)
{
    if (index == NULL)
        return;
    for (size_t s = 0; s < index->slot_count; s++)
        for (index_bucket *b = index->slots[s], *next; b; b = next) {
            next = b->next;
            free(b->entries);
            free(b);
        }
    free(index->slots);
    for (size_t i = 0; i < index->entry_count; i++)
        free(index->entries[i].id);
    free(index->entries);
    free(index);
}

static index_bucket *bucket_find(const lds_mesh_shape_index *index, const char *key)
{
    for (index_bucket *b = index->slots[key_hash(key) % index->slot_count]; b; b = b->next)
        if (strcmp(b->key, key) == 0)
            return b;
    return NULL;
}

static int slots_grow(lds_mesh_shape_index *index)
{
    size_t slot_count = index->slot_count * 2;
    index_bucket **slots = calloc(slot_count, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t s = 0; s < index->slot_count; s++)
        for (index_bucket *b = index->slots[s], *next; b; b = next) {
            next = b->next;
            size_t at = key_hash(b->key) % slot_count;
            b->next = slots[at];
            slots[at] = b;
        }
    free(index->slots);
    index->slots = slots;
    index->slot_count = slot_count;
    return 0;
}

size_t lds_mesh_shape_index_size(const lds_mesh_shape_index *index)
{
    return index->entry_count;
}

lds_status lds_mesh_shape_index_add(lds_mesh_shape_index *index, const char *id, const char *fingerprint,
                                    lds_error *err)
{
    char keys[LDS_MESH_SHAPE_PROBES_MAX][LDS_MESH_SHAPE_KEY_MAX];
    size_t key_count;
    lds_shape_descriptor d;
    lds_status status = lds_shape_descriptor_parse(fingerprint, &d, err);
    if (status == LDS_OK)
        status = lds_mesh_shape_bucket_keys(fingerprint, 0, keys, &key_count, err);
    if (status != LDS_OK)
        return status;
    if (index->entry_count >= UINT32_MAX)
        return lds_error_set(err, LDS_ELIMIT, "shape index: too many entries");
    if (index->entry_count == index->entry_capacity) {
        size_t capacity = index->entry_capacity ? index->entry_capacity * 2 : 64;
        index_entry *entries = realloc(index->entries, capacity * sizeof *entries);
        if (entries == NULL)
            return lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
        index->entries = entries;
        index->entry_capacity = capacity;
    }
    char *copy = strdup(id);
    if (copy == NULL)
        return lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
    uint32_t number = (uint32_t)index->entry_count;
    for (size_t k = 0; k < key_count; k++) {
        index_bucket *b = bucket_find(index, keys[k]);
        if (b == NULL) {
            if (index->bucket_count >= index->slot_count && slots_grow(index) != 0)
                goto nomem;
            b = calloc(1, sizeof *b);
            if (b == NULL)
                goto nomem;
            memcpy(b->key, keys[k], sizeof b->key);
            size_t at = key_hash(b->key) % index->slot_count;
            b->next = index->slots[at];
            index->slots[at] = b;
            index->bucket_count++;
        }
        if (b->count == b->capacity) {
            size_t capacity = b->capacity ? b->capacity * 2 : 4;
            uint32_t *entries = realloc(b->entries, capacity * sizeof *entries);
            if (entries == NULL)
                goto nomem;
            b->entries = entries;
            b->capacity = capacity;
        }
        b->entries[b->count++] = number;
    }
    index->entries[number].id = copy;
    index->entries[number].descriptor = d;
    index->entry_count++;
    return LDS_OK;
nomem:
    /* undo the bucket insertions of this entry (they are always the last element) */
    for (size_t k = 0; k < key_count; k++) {
        index_bucket *b = bucket_find(index, keys[k]);
        if (b && b->count > 0 && b->entries[b->count - 1] == number)
            b->count--;
    }
    free(copy);
    return lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
}

static int compare_hits(const void *a, const void *b)
{
    const lds_mesh_shape_hit *x = a, *y = b;
    if (x->similarity != y->similarity)
        return x->similarity > y->similarity ? -1 : 1;
    return strcmp(x->id, y->id);
}

lds_status lds_mesh_shape_index_query(const lds_mesh_shape_index *index, const char *fingerprint,
                                      lds_mesh_shape_hit *hits, size_t max_hits, size_t *hit_count,
                                      size_t *candidates, lds_error *err)
{
    char keys[LDS_MESH_SHAPE_PROBES_MAX][LDS_MESH_SHAPE_KEY_MAX];
    size_t key_count, found = 0, compared = 0;
    lds_shape_descriptor d;
    *hit_count = 0;
    if (candidates)
        *candidates = 0;
    lds_status status = lds_shape_descriptor_parse(fingerprint, &d, err);
    if (status == LDS_OK)
        status = lds_mesh_shape_bucket_keys(fingerprint, 1, keys, &key_count, err);
    if (status != LDS_OK)
        return status;
    unsigned char *seen = calloc(index->entry_count / 8 + 1, 1);
    lds_mesh_shape_hit *all = NULL;
    size_t all_capacity = 0;
    if (seen == NULL)
        return lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
    for (size_t k = 0; k < key_count; k++) {
        const index_bucket *b = bucket_find(index, keys[k]);
        for (size_t i = 0; b && i < b->count; i++) {
            uint32_t number = b->entries[i];
            if (seen[number / 8] & (1u << (number % 8)))
                continue;
            seen[number / 8] |= (unsigned char)(1u << (number % 8));
            compared++;
            const index_entry *e = &index->entries[number];
            if (found == all_capacity) {
                size_t capacity = all_capacity ? all_capacity * 2 : 16;
                lds_mesh_shape_hit *grown = realloc(all, capacity * sizeof *grown);
                if (grown == NULL) {
                    status = lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
                    goto out;
                }
                all = grown;
                all_capacity = capacity;
            }
            all[found].id = e->id;
            all[found].similarity = lds_shape_descriptor_similarity(&d, &e->descriptor);
            all[found].match = lds_shape_descriptor_match(&d, &e->descriptor);
            found++;
        }
    }
    if (found > 0)
        qsort(all, found, sizeof *all, compare_hits);
    *hit_count = found < max_hits ? found : max_hits;
    if (*hit_count > 0)
        memcpy(hits, all, *hit_count * sizeof *hits);
    if (candidates)
        *candidates = compared;
out:
    free(all);
    free(seen);
    return status;
}
