/*
 * meshopt_encode.c: the quantisation KHR_mesh_quantization allows and meshoptimizer's codecs as
 * EXT_meshopt_compression specifies them (attribute codec, triangle codec, octahedral filter;
 * spec: KhronosGroup/glTF extensions/2.0/Vendor/EXT_meshopt_compression, bitstream Appendix A/B).
 * The layout follows what gltfpack writes: integer positions dequantised by the node transform,
 * int8 octahedral normals, normalized uint16 texture coordinates with KHR_texture_transform.
 */
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include <meshoptimizer.h>

#include "meshopt_encode.h"

/* EXT_meshopt_compression's triangle bitstream is index codec version 1 (header 0xe1); the
 * library's version is a process-wide setting, so set it once. */
static pthread_once_t index_version_once = PTHREAD_ONCE_INIT;
static void set_index_version(void)
{
    meshopt_encodeIndexVersion(1);
}

static lds_status append_aligned(lds_buf *bin, size_t bound, unsigned char **dst, size_t *offset, lds_error *err)
{
    size_t pad = (4 - bin->size % 4) % 4;
    unsigned char *p;
    lds_status s = lds_buf_grow(bin, pad, &p);
    if (s == LDS_OK)
        s = lds_buf_reserve(bin, bound);
    if (s != LDS_OK)
        return lds_error_set(err, s, "meshopt: output of %zu bytes over the buffer cap or out of memory",
                             bin->size + bound);
    *offset = bin->size;
    *dst = bin->data + bin->size;
    return LDS_OK;
}

lds_status lds_meshopt_compress_attributes(const void *elements, size_t count, size_t stride, lds_buf *bin,
                                           size_t *offset, size_t *length, lds_error *err)
{
    assert(stride % 4 == 0 && stride <= 256);
    size_t bound = meshopt_encodeVertexBufferBound(count, stride);
    unsigned char *dst = NULL;
    lds_status s = append_aligned(bin, bound, &dst, offset, err);
    if (s != LDS_OK)
        return s;
    size_t size = meshopt_encodeVertexBuffer(dst, bound, elements, count, stride);
    if (size == 0)
        return lds_error_set(err, LDS_EINTERNAL, "meshopt: vertex encoding of %zu elements failed", count);
    bin->size += size;
    *length = size;
    return LDS_OK;
}

lds_status lds_meshopt_compress_triangles(const uint32_t *indices, size_t index_count, size_t vertex_count,
                                          lds_buf *bin, size_t *offset, size_t *length, lds_error *err)
{
    assert(index_count % 3 == 0);
    pthread_once(&index_version_once, set_index_version);
    size_t bound = meshopt_encodeIndexBufferBound(index_count, vertex_count);
    unsigned char *dst = NULL;
    lds_status s = append_aligned(bin, bound, &dst, offset, err);
    if (s != LDS_OK)
        return s;
    size_t size = meshopt_encodeIndexBuffer(dst, bound, indices, index_count);
    if (size == 0)
        return lds_error_set(err, LDS_EINTERNAL, "meshopt: index encoding of %zu indices failed", index_count);
    bin->size += size;
    *length = size;
    return LDS_OK;
}

void lds_meshopt_quantize_positions(const float *positions, size_t count, const float origin[3], float step,
                                    uint16_t *out, uint16_t qmin[3], uint16_t qmax[3])
{
    float inv = step > 0 ? 1.0f / step : 0.0f;
    for (int c = 0; c < 3; c++) {
        qmin[c] = UINT16_MAX;
        qmax[c] = 0;
    }
    for (size_t i = 0; i < count; i++) {
        for (int c = 0; c < 3; c++) {
            float q = (positions[3 * i + c] - origin[c]) * inv + 0.5f;
            q = q < 0 ? 0 : q > 65535.0f ? 65535.0f : q;
            uint16_t v = (uint16_t)q;
            out[4 * i + c] = v;
            if (v < qmin[c])
                qmin[c] = v;
            if (v > qmax[c])
                qmax[c] = v;
        }
        out[4 * i + 3] = 0;
    }
    if (count == 0)
        for (int c = 0; c < 3; c++)
            qmin[c] = 0;
}

lds_status lds_meshopt_encode_normals(const float *normals, size_t count, int bits, int8_t *out, lds_error *err)
{
    assert(bits >= 1 && bits <= 8);
    float *unit = malloc((count ? count : 1) * 4 * sizeof(float));
    if (unit == NULL)
        return lds_error_set(err, LDS_ENOMEM, "meshopt: out of memory for %zu normals", count);
    for (size_t i = 0; i < count; i++) {
        float x = normals[3 * i], y = normals[3 * i + 1], z = normals[3 * i + 2];
        float len = sqrtf(x * x + y * y + z * z);
        float inv = len > 0 ? 1.0f / len : 0.0f;
        if (len == 0)
            z = inv = 1.0f; /* a zero normal has no direction; store +Z rather than garbage */
        unit[4 * i] = x * inv;
        unit[4 * i + 1] = y * inv;
        unit[4 * i + 2] = z * inv;
        unit[4 * i + 3] = 0;
    }
    meshopt_encodeFilterOct(out, count, 4, bits, unit);
    free(unit);
    return LDS_OK;
}

void lds_meshopt_quantize_uvs(const float *uvs, size_t count, const float origin[2], const float extent[2], int bits,
                              uint16_t *out)
{
    assert(bits >= 1 && bits <= 16);
    float levels = (float)((1u << bits) - 1);
    float inv[2];
    for (int c = 0; c < 2; c++)
        inv[c] = extent[c] > 0 ? levels / extent[c] : 0.0f;
    for (size_t i = 0; i < count; i++)
        for (int c = 0; c < 2; c++) {
            float q = (uvs[2 * i + c] - origin[c]) * inv[c] + 0.5f;
            q = q < 0 ? 0 : q > levels ? levels : q;
            out[2 * i + c] = (uint16_t)q;
        }
}

double lds_meshopt_uv_scale(float extent, int bits)
{
    if (!(extent > 0))
        return 1.0;
    return (double)extent * 65535.0 / (double)((1u << bits) - 1);
}

void lds_meshopt_quantize_colors(const float *colors, size_t count, uint8_t *out)
{
    for (size_t i = 0; i < 4 * count; i++) {
        float c = colors[i];
        c = !(c > 0) ? 0 : c > 1 ? 1 : c; /* NaN goes to 0 */
        out[i] = (uint8_t)(c * 255.0f + 0.5f);
    }
}
