/* fuzz_sandbox_wire.c: the parent-side reader of the sandboxed child's model (model_wire.c) and
 * the validation after it: what a compromised child could send. A valid model with a kept glTF
 * scene is also written as a GLB, which parses the scene text (glb_scene.c). */
#include <stddef.h>
#include <stdint.h>

#include "sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lds_mesh_model *model = NULL;
    lds_error err;
    lds_error_clear(&err);
    if (lds_sandbox_decode_model("fuzz.ply", data, size, &model, &err) == LDS_OK) {
        if (lds_mesh_model_validate(model, "fuzz.ply", &err) == LDS_OK && model->scene) {
            lds_buf glb;
            lds_buf_init(&glb, (size_t)1 << 26);
            lds_mesh_write_glb(model, LDS_MESH_ENCODING_PLAIN, NULL, "fuzz", &glb, &err);
            lds_buf_cleanup(&glb);
        }
        lds_buf out;
        lds_buf_init(&out, 0);
        lds_sandbox_encode_model(model, &out); /* round trip must not crash either */
        lds_buf_cleanup(&out);
        lds_mesh_model_destroy(model);
    }
    return 0;
}
