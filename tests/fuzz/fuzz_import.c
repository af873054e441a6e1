/* fuzz_import.c: the importers through lds_mesh_import, in process (the fuzzer is the sandbox
 * here); the first byte picks the format by name: PLY, STL, OBJ, GLB. */
#include <stddef.h>
#include <stdint.h>

#include "mesh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"fuzz.ply", "fuzz.stl", "fuzz.obj", "fuzz.glb"};
    if (size == 0)
        return 0;
    lds_mesh_limits limits = {1u << 20, 1u << 20};
    lds_mesh_model *model = NULL;
    lds_error err;
    lds_error_clear(&err);
    if (lds_mesh_import(names[data[0] & 3], data + 1, size - 1, NULL, &limits, &model, &err) == LDS_OK)
        lds_mesh_model_validate(model, "fuzz", &err);
    lds_mesh_model_destroy(model);
    return 0;
}
