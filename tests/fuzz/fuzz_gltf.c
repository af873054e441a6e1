/* fuzz_gltf.c: the native glTF 2.0 reader through lds_mesh_import, in process. The first byte
 * picks the name (bit 0: .glb or .gltf); sidecars (external buffers and images) all read as the
 * same small file, so that URIs lead somewhere. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

static int fuzz_read(void *ctx, const char *name, unsigned char **data, size_t *size)
{
    static const unsigned char file[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    (void)ctx;
    if (strstr(name, "missing") != NULL)
        return -1;
    *data = malloc(sizeof(file));
    if (*data == NULL)
        return -1;
    memcpy(*data, file, sizeof(file));
    *size = sizeof(file);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    lds_mesh_limits limits = {1u << 20, 1u << 20};
    lds_mesh_reader reader = {NULL, fuzz_read};
    lds_mesh_model *model = NULL;
    lds_error err;
    lds_error_clear(&err);
    if (lds_mesh_import(data[0] & 1 ? "fuzz.gltf" : "fuzz.glb", data + 1, size - 1, &reader, &limits, &model,
                        &err) == LDS_OK) {
        lds_buf out;
        lds_buf_init(&out, 64u << 20);
        lds_mesh_write_glb(model, LDS_MESH_ENCODING_PLAIN, NULL, "fuzz", &out, &err);
        lds_buf_cleanup(&out);
    }
    lds_mesh_model_destroy(model);
    return 0;
}
