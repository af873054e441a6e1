/* test_similar_index.c: the Redis shape index (ingest/shape_store.c) on a real redis-server on
 * a private socket, with the fingerprints of the corpus and of distinct assimp-testmodels
 * (`lodestone fingerprint`):
 *  - a lookup finds exactly the matches a full scan finds (recall is exact), minus the excluded
 *    id, most similar first; the homer remeshes find each other; distinct objects do not;
 *  - adding twice changes nothing; a changed fingerprint leaves its old buckets;
 *  - assets that are not ready are not returned.
 * Prints the figures: entries, candidates per query, lookup time. LDS_SIMILAR_FINGERPRINTS may
 * name a file of more `lodestone fingerprint` lines to index as well (measurement only).
 * Skips without redis-server or the corpus. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest.h"
#include "testlib.h"

#define MAX_ENTRIES 4096

typedef struct entry {
    char name[512];
    char id[LDS_ID_MAX];
    char shape[LDS_MESH_SHAPE_FP_MAX];
} entry;

static entry entries[MAX_ENTRIES];
static size_t entry_count;

static const char *corpus_files[] = {
    "corpus/remeshed/homer/homer.off", "corpus/remeshed/homer/homer_0.00235_mmgs.off",
    "corpus/remeshed/homer/homer_0.15_35.off", "corpus/remeshed/homer/homer_0.15_40.off",
    "corpus/remeshed/homer/homer_0.15_40_simplified.off", "corpus/remeshed/homer/homer_35.off",
    "corpus/remeshed/homer/homer_40.off", "corpus/scans/horse.ply", "corpus/scans/igea.ply",
    "corpus/scans/nefertiti.obj", "corpus/scans/stanford-bunny.obj", "corpus/textured/spot/spot.obj",
};
/* distinct objects (as in test_shape_corpus.c) */
static const char *assimp_files[] = {
    "OBJ/WusonOBJ.obj", "OBJ/spider.obj", "Collada/duck.dae", "COB/dwarf.cob", "MS3D/jeep1.ms3d",
    "BLEND/Suzanne_248.blend", "MD2/faerie.md2", "MD2/sydney.md2", "IQM/mrfixit.iqm", "SIB/heffalump.sib",
    "X/BCN_Epileptic.X", "glTF/CesiumMilkTruck/CesiumMilkTruck.gltf", "Collada/sphere.dae",
    "STL/3DSMaxExport.STL", "HMP/terrain.hmp", "3DS/fels.3ds", "IFC/AC14-FZK-Haus.ifc",
};

/* Runs `lodestone fingerprint` on a list of paths (shell words) and adds the results. */
static void add_fingerprints_from(const char *text)
{
    const char *line = text;
    while (line && *line && entry_count < MAX_ENTRIES) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        json_t *j = json_loadb(line, n, 0, NULL);
        const char *file = json_string_value(json_object_get(j, "file"));
        const char *shape = json_string_value(json_object_get(j, "shape"));
        if (file && shape && strlen(shape) < LDS_MESH_SHAPE_FP_MAX) {
            entry *e = &entries[entry_count];
            snprintf(e->name, sizeof(e->name), "%s", file);
            snprintf(e->id, sizeof(e->id), "t_%05zu", entry_count);
            snprintf(e->shape, sizeof(e->shape), "%s", shape);
            entry_count++;
        }
        json_decref(j);
        line = end ? end + 1 : NULL;
    }
}

static int is_homer(const entry *e)
{
    return strstr(e->name, "remeshed/homer/") != NULL;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void set_record(lds_redis *r, const entry *e, const char *status)
{
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_redis_command(r, NULL, &err, "HSET lds:asset:%s status %s owner_key %s metadata {}", e->id,
                                   status, is_homer(e) ? "homer_owner" : "other"),
                 &err);
}

int main(void)
{
    char path[4096];
    if (lds_test_shared("corpus/remeshed/homer/homer.off", path, sizeof(path)) == NULL)
        lds_test_skip("corpus not found");
    char home[1024];
    lds_redis *r = NULL;
    lds_redis_server *server = lds_test_redis_start("similar_index", home, sizeof(home), &r);

    /* fingerprints */
    lds_buf args;
    lds_buf_init(&args, 0);
    for (size_t i = 0; i < sizeof(corpus_files) / sizeof(corpus_files[0]); i++)
        if (lds_test_shared(corpus_files[i], path, sizeof(path))) {
            lds_buf_append(&args, " '", 2);
            lds_buf_append(&args, path, strlen(path));
            lds_buf_append(&args, "'", 1);
        }
    for (size_t i = 0; i < sizeof(assimp_files) / sizeof(assimp_files[0]); i++) {
        snprintf(path, sizeof(path), " '%s/%s'", LDS_ASSIMP_MODELS, assimp_files[i]);
        lds_buf_append(&args, path, strlen(path));
    }
    lds_buf_append(&args, "", 1);
    char *out = NULL;
    lds_test_run(&out, "'%s' fingerprint %s 2>/dev/null", lds_test_bin(), (const char *)args.data);
    lds_buf_cleanup(&args);
    add_fingerprints_from(out);
    free(out);
    size_t homers = 0;
    for (size_t i = 0; i < entry_count; i++)
        homers += is_homer(&entries[i]);
    LDS_CHECK_INT(homers, ==, 7);
    const char *extra = getenv("LDS_SIMILAR_FINGERPRINTS");
    if (extra && *extra) {
        unsigned char *data = NULL;
        size_t size = 0;
        lds_error err;
        lds_error_clear(&err);
        if (lds_file_read(extra, 64u << 20, &data, &size, &err) == LDS_OK) {
            char *text = malloc(size + 1);
            memcpy(text, data, size);
            text[size] = 0;
            add_fingerprints_from(text);
            free(text);
        }
        free(data);
    }

    /* redis */
    lds_error err;
    lds_error_clear(&err);
    if (server == NULL)
        return lds_test_result();
    if (r == NULL) {
        lds_redis_server_stop(server);
        return lds_test_result();
    }

    for (size_t i = 0; i < entry_count; i++) {
        set_record(r, &entries[i], "ready");
        LDS_CHECK_OK(lds_shape_index_add(r, entries[i].id, entries[i].shape, &err), &err);
    }
    long long members = lds_test_shape_index_members(r);
    LDS_CHECK_INT(members, ==, (long long)entry_count * LDS_MESH_SHAPE_TABLES);
    for (size_t i = 0; i < entry_count; i++) /* again: idempotent */
        LDS_CHECK_OK(lds_shape_index_add(r, entries[i].id, entries[i].shape, &err), &err);
    LDS_CHECK_INT(lds_test_shape_index_members(r), ==, members);

    /* every lookup against a full scan */
    static lds_shape_match hits[MAX_ENTRIES];
    double *times = calloc(entry_count, sizeof(double));
    size_t total_candidates = 0, max_candidates = 0, total_matches = 0;
    for (size_t q = 0; q < entry_count; q++) {
        size_t count = 0, candidates = 0;
        double t = lds_time_ms();
        LDS_CHECK_OK(lds_shape_index_lookup(r, entries[q].shape, entries[q].id, 0, hits, MAX_ENTRIES, &count,
                                            &candidates, &err),
                     &err);
        times[q] = lds_time_ms() - t;
        total_candidates += candidates;
        if (candidates > max_candidates)
            max_candidates = candidates;
        size_t expected = 0;
        for (size_t i = 0; i < entry_count; i++) {
            double similarity;
            int match = 0;
            if (i == q || lds_mesh_shape_compare(entries[q].shape, entries[i].shape, &similarity, &match, &err) != LDS_OK ||
                !match)
                continue;
            expected++;
            int found = 0;
            for (size_t h = 0; h < count; h++)
                found |= strcmp(hits[h].asset, entries[i].id) == 0 && fabs(hits[h].similarity - similarity) < 1e-12;
            if (!found)
                fprintf(stderr, "lookup of %s misses %s (similarity %.3f)\n", entries[q].name, entries[i].name,
                        similarity);
            LDS_CHECK(found);
        }
        LDS_CHECK_INT(count, ==, expected);
        total_matches += count;
        for (size_t h = 0; h < count; h++) {
            LDS_CHECK(hits[h].match);
            LDS_CHECK(strcmp(hits[h].asset, entries[q].id) != 0);
            if (h > 0)
                LDS_CHECK(hits[h].similarity <= hits[h - 1].similarity);
        }
        if (is_homer(&entries[q]) && q < 12) {
            size_t homer_hits = 0;
            for (size_t h = 0; h < count; h++)
                homer_hits += strstr(hits[h].owner, "homer_owner") != NULL;
            LDS_CHECK_INT(homer_hits, >=, 6); /* the six other homers */
        }
        if (!is_homer(&entries[q]) && q < 12 + sizeof(assimp_files) / sizeof(assimp_files[0]))
            for (size_t h = 0; h < count; h++)
                LDS_CHECK(strcmp(hits[h].owner, "homer_owner") != 0);
    }
    qsort(times, entry_count, sizeof(double), compare_double);
    double sum = 0;
    for (size_t i = 0; i < entry_count; i++)
        sum += times[i];
    printf("shape index on Redis: %zu entries, %zu keys per stored shape; per query: %.1f candidates (max %zu), "
           "%.2f matches; lookup median %.3f ms, mean %.3f ms, max %.3f ms\n",
           entry_count, (size_t)LDS_MESH_SHAPE_TABLES, (double)total_candidates / (double)entry_count,
           max_candidates, (double)total_matches / (double)entry_count, times[entry_count / 2],
           sum / (double)entry_count, times[entry_count - 1]);
    free(times);

    /* near_too keeps non-matching candidates; a lookup of homer with homer.off not ready */
    size_t count = 0, candidates = 0;
    LDS_CHECK_OK(lds_shape_index_lookup(r, entries[0].shape, NULL, 1, hits, MAX_ENTRIES, &count, &candidates, &err),
                 &err);
    LDS_CHECK_INT(count, ==, candidates);
    LDS_CHECK_STR(hits[0].asset, entries[0].id); /* itself, similarity 1 */
    for (size_t h = 1; h < count; h++)
        LDS_CHECK(hits[h].match <= hits[h - 1].match);
    set_record(r, &entries[0], "processing");
    LDS_CHECK_OK(lds_shape_index_lookup(r, entries[1].shape, NULL, 0, hits, MAX_ENTRIES, &count, NULL, &err), &err);
    for (size_t h = 0; h < count; h++)
        LDS_CHECK(strcmp(hits[h].asset, entries[0].id) != 0);
    set_record(r, &entries[0], "ready");

    /* a changed fingerprint leaves its old buckets: homer.off takes the bunny's shape */
    const entry *bunny = NULL;
    for (size_t i = 0; i < entry_count; i++)
        if (strstr(entries[i].name, "stanford-bunny"))
            bunny = &entries[i];
    LDS_CHECK(bunny != NULL);
    if (bunny) {
        LDS_CHECK_OK(lds_shape_index_add(r, entries[0].id, bunny->shape, &err), &err);
        LDS_CHECK_INT(lds_test_shape_index_members(r), ==, members);
        LDS_CHECK_OK(lds_shape_index_lookup(r, entries[1].shape, NULL, 1, hits, MAX_ENTRIES, &count, NULL, &err),
                     &err);
        for (size_t h = 0; h < count; h++)
            LDS_CHECK(strcmp(hits[h].asset, entries[0].id) != 0 || !hits[h].match);
        LDS_CHECK_OK(lds_shape_index_lookup(r, bunny->shape, bunny->id, 0, hits, MAX_ENTRIES, &count, NULL, &err),
                     &err);
        LDS_CHECK(count >= 1 && strcmp(hits[0].asset, entries[0].id) == 0);
    }

    /* bad fingerprints are errors, not crashes */
    LDS_CHECK(lds_shape_index_add(r, "t_bad", "lds-shape-1:nonsense", &err) != LDS_OK);
    LDS_CHECK(lds_shape_index_lookup(r, "garbage", NULL, 0, hits, MAX_ENTRIES, &count, NULL, &err) != LDS_OK);

    lds_redis_close(r);
    lds_redis_server_stop(server);
    return lds_test_result();
}
