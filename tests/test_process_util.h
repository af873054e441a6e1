/* test_process_util.h: reading back what `lodestone process` wrote (manifest.json and the LOD
 * files), for the process tests. Failures are LDS_CHECKs that name the output directory. */
#ifndef LDS_TEST_PROCESS_UTIL_H
#define LDS_TEST_PROCESS_UTIL_H

#include <stddef.h>

#include <jansson.h>

/* Runs `LODESTONE_HOME=home lodestone process ARGS` (ARGS already quoted), returns its exit status;
 * stdout+stderr into *output when output is not NULL. */
int proc_run(char **output, const char *home, const char *args);

/* dir/manifest.json parsed, or NULL (a failed check). */
json_t *proc_load_manifest(const char *dir);

/* Every field of DESIGN.md 6.2 is there with its type (certificate only when certified). */
void proc_check_manifest(const json_t *manifest, const char *what, int certified);

typedef struct proc_lod_stats {
    size_t levels;
    size_t files;      /* LOD files read back */
    size_t images;     /* smallest count of embedded images over the files */
} proc_lod_stats;

/* For each level and each of its files: the file exists with the manifest's bytes and sha256, it
 * parses, every Draco primitive and meshopt view decodes (test_glb_check), and the decoded
 * triangle (points for a point cloud) and vertex counts are the level's (Draco: a few more
 * vertices where its edgebreaker splits non-manifold ones). Paths are appended to
 * paths (the caller frees them) for one validator run. */
void proc_check_lods(const json_t *manifest, const char *dir, const char *what, char **paths, size_t *path_count,
                     size_t path_capacity, proc_lod_stats *stats);

#endif
