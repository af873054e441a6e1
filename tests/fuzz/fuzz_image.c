/* fuzz_image.c: the image decoders through lds_mesh_image_decode (PNG, JPEG, WebP by signature),
 * with small limits; a decoded image is also resized, to exercise odd sizes. */
#include <stddef.h>
#include <stdint.h>

#include "mesh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lds_mesh_image_limits limits = {2048, 2048, 1u << 20};
    lds_mesh_image image, small;
    lds_error err;
    lds_error_clear(&err);
    if (lds_mesh_image_decode("fuzz", data, size, &limits, &image, &err) == LDS_OK) {
        if (lds_mesh_image_resize(&image, image.width / 3 + 1, image.height / 2 + 1, LDS_MESH_IMAGE_SRGB, &small,
                                  &err) == LDS_OK)
            lds_mesh_image_cleanup(&small);
        lds_mesh_image_cleanup(&image);
    }
    return 0;
}
