/* import_sandboxed.c: placeholder until the sandbox lands: parses in-process. */
#include "sandbox.h"

lds_status lds_sandbox_import_file(const char *path, const lds_sandbox_limits *limits, int use_sandbox,
                                   lds_mesh_model **out, lds_error *err)
{
    (void)use_sandbox;
    return lds_mesh_import_file(path, limits ? (size_t)limits->max_file_bytes : 0, limits ? &limits->mesh : NULL, out,
                                err);
}
