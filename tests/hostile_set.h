/* hostile_set.h: the hostile files of issue 5, written at test time into a directory, for the
 * acceptance tests through the sandbox, `lodestone process` and the service
 * (test_sandbox_hostile.c, test_process_hostile.c, test_service_hostile.c). */
#ifndef LDS_HOSTILE_SET_H
#define LDS_HOSTILE_SET_H

#include <stddef.h>

typedef struct lds_hostile_file {
    char path[1024];
    char name[256]; /* base name, which errors must mention */
    int must_fail;  /* 1: must be refused; 0: a mutation that may still be a valid model */
    int no_geometry; /* 1: it imports, the pipeline refuses it (nothing to process) */
} lds_hostile_file;

/* Writes the set into dir and lists it in *files (caller frees): lying PLY headers (2 billion
 * vertices or faces), NaN/Inf coordinates, out-of-range indices, empty and random files of many
 * extensions, a zip bomb inside a 3MF, copies of every file of assimp-testmodels' invalid/
 * folders, and truncations and byte flips of a real PLY, OBJ and GLB (mutations per source each).
 * wide: 1 adds empty and random files of seven rarer extensions (blend, x, md5mesh, ...) and
 * mutations of five more sources (ASCII PLY, STL, 3DS, OFF, DAE): for the in-process sandbox test,
 * where each file is cheap. Returns the count, or 0 when the set could not be built. */
size_t lds_hostile_make(const char *dir, size_t mutations, int wide, lds_hostile_file **files);

#endif
