/* weld.c: the position weld and the small sorts shared by report.c and fingerprint.c
 * (see mesh_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "mesh_internal.h"

int lds_mesh_compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void lds_mesh_sort_u64(uint64_t *e, size_t n)
{
    if (n > 24) {
        qsort(e, n, sizeof(uint64_t), lds_mesh_compare_u64);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t x = e[i];
        size_t j = i;
        for (; j > 0 && e[j - 1] > x; j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

/* One hash pass: the table holds, per slot, the first vertex seen with that position. The table
 * is far bigger than the caches, so vertices go WELD_BATCH at a time: their slots are prefetched,
 * then the vertices those slots name, and only then compared, so that the cache misses overlap. */
size_t lds_mesh_weld_positions(const lds_mesh_model *m, const uint8_t *take, size_t take_count, uint32_t *ids)
{
    enum { WELD_BATCH = 32 };
    size_t table_size = 16;
    while (table_size < take_count * 2)
        table_size <<= 1;
    uint32_t *table = malloc(table_size * sizeof(uint32_t)); /* a vertex holding the position */
    if (table == NULL)
        return SIZE_MAX;
    memset(table, 0xff, table_size * sizeof(uint32_t));
    size_t unique = 0, mask = table_size - 1, slots[WELD_BATCH];
    uint32_t batch[WELD_BATCH], keys[WELD_BATCH][3];
    for (size_t v = 0; v < m->vertex_count;) {
        int n = 0;
        for (; v < m->vertex_count && n < WELD_BATCH; v++) {
            if (!take[v])
                continue;
            const float *p = m->positions + v * 3;
            for (int k = 0; k < 3; k++)
                keys[n][k] = lds_mesh_float_key(p[k]);
            slots[n] = (size_t)lds_mesh_position_hash(keys[n][0], keys[n][1], keys[n][2]) & mask;
            __builtin_prefetch(&table[slots[n]]);
            batch[n++] = (uint32_t)v;
        }
        for (int j = 0; j < n; j++) {
            uint32_t owner = table[slots[j]];
            if (owner != UINT32_MAX) {
                __builtin_prefetch(m->positions + (size_t)owner * 3);
                __builtin_prefetch(&ids[owner]);
            }
        }
        for (int j = 0; j < n; j++) {
            size_t slot = slots[j];
            for (;;) {
                uint32_t owner = table[slot];
                if (owner == UINT32_MAX) {
                    table[slot] = batch[j];
                    ids[batch[j]] = (uint32_t)unique++;
                    break;
                }
                const float *q = m->positions + (size_t)owner * 3;
                if (lds_mesh_float_key(q[0]) == keys[j][0] && lds_mesh_float_key(q[1]) == keys[j][1] &&
                    lds_mesh_float_key(q[2]) == keys[j][2]) {
                    ids[batch[j]] = ids[owner];
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
    }
    free(table);
    return unique;
}
