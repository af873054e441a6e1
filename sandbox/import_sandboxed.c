/* import_sandboxed.c: lds_sandbox_import_file, the one entry point `process` and the workers use
 * to parse a model file from outside: the parent reads the file and serves sidecars from its
 * directory only; the parse itself runs in the sandbox (sandbox_run.c). */
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

lds_status lds_sandbox_import_file(const char *path, const lds_sandbox_limits *limits, int use_sandbox,
                                   lds_mesh_model **out, lds_error *err)
{
    *out = NULL;
    uint64_t max_bytes = limits && limits->max_file_bytes ? limits->max_file_bytes : 2048ull * 1024 * 1024;
    unsigned char *data = NULL;
    size_t size = 0;
    lds_status st = lds_file_read(path, (size_t)max_bytes, &data, &size, err);
    if (st != LDS_OK)
        return st;
    char dir[4096];
    const char *base = lds_path_basename(path);
    size_t dir_length = (size_t)(base - path);
    if (dir_length == 0) {
        strcpy(dir, ".");
    } else if (dir_length < sizeof(dir)) {
        memcpy(dir, path, dir_length);
        dir[dir_length] = '\0';
    } else {
        free(data);
        return lds_error_set(err, LDS_ELIMIT, "%s: path too long", path);
    }
    lds_mesh_dir_reader dir_reader;
    lds_mesh_dir_reader_init(&dir_reader, dir, (size_t)max_bytes);
    lds_mesh_reader reader = lds_mesh_dir_reader_get(&dir_reader);
    if (use_sandbox)
        st = lds_sandbox_run(base, data, size, &reader, limits, lds_mesh_import, out, err);
    else
        st = lds_sandbox_run_in_process(base, data, size, &reader, limits, lds_mesh_import, out, err);
    free(data);
    return st;
}
