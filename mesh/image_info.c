/* image_info.c: image type and size from the first bytes of PNG and JPEG files, without decoding.
 * PNG: the IHDR chunk follows the 8-byte signature (ISO/IEC 15948 section 11.2.2).
 * JPEG: walk the marker segments to the first SOFn frame header (ITU T.81 section B.2.2). */
#include <string.h>

#include "import_internal.h"

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

void lds_image_info(const unsigned char *data, size_t size, char mime[32], int *width, int *height)
{
    static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    mime[0] = '\0';
    *width = *height = 0;
    if (data == NULL)
        return;
    if (size >= 8 && memcmp(data, png_signature, 8) == 0) {
        strcpy(mime, "image/png");
        if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
            unsigned long w = be32(data + 16), h = be32(data + 20);
            if (w > 0 && h > 0 && w <= 0x7fffffff && h <= 0x7fffffff) {
                *width = (int)w;
                *height = (int)h;
            }
        }
        return;
    }
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
        strcpy(mime, "image/jpeg");
        size_t pos = 2;
        while (pos + 4 <= size) {
            if (data[pos] != 0xff)
                return;
            unsigned marker = data[pos + 1];
            if (marker == 0xff) { /* fill byte */
                pos++;
                continue;
            }
            if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
                pos += 2; /* markers without a length */
                continue;
            }
            if (marker == 0xd9 || marker == 0xda)
                return; /* end of image or start of scan before any frame header */
            unsigned length = be16(data + pos + 2);
            if (length < 2)
                return;
            int is_sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
            if (is_sof) {
                if (pos + 9 > size)
                    return;
                *height = (int)be16(data + pos + 5);
                *width = (int)be16(data + pos + 7);
                return;
            }
            pos += 2 + (size_t)length;
        }
    }
}
