/* image.c: the one wrapper of libpng (simplified API, libpng 1.6 manual section V), libjpeg-turbo
 * (libjpeg.txt: error manager with setjmp, memory source/destination) and libwebp (decode.h,
 * encode.h). Their types and error codes stop here.
 *
 * Hostile input: every decoder reads the header first and checks the size against the limits
 * before allocating the pixels; JPEG decoding caps its working memory and the number of
 * progressive scans (a scan bomb costs a full pass each, as djpeg -maxscans guards against); a
 * truncated JPEG (libjpeg only warns and pads with grey) is an error.
 *
 * Resizing is separable: each output pixel averages the source pixels its footprint covers,
 * weighted by the covered area (a box filter of the exact scale, which is what mipmap generation
 * does for integer ratios), or interpolates linearly when an axis grows. Colour is filtered in
 * linear light (IEC 61966-2-1 sRGB transfer) with alpha premultiplied, so that averaging black
 * and white gives sRGB 188, not 128, and transparent texels do not bleed their colour. Normal maps
 * are filtered as vectors and renormalised. */
#include <assert.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include "mesh.h"

#define DEFAULT_MAX_SIDE 16384u
#define DEFAULT_MAX_PIXELS (8192ull * 8192ull)
#define JPEG_MAX_SCANS 256
#define JPEG_MAX_MEMORY (512l << 20)
#define RESIZE_MAX_SIDE 65536
#define WEBP_MAX_SIDE 16383

/* ---- formats ---------------------------------------------------------------------------------- */

lds_mesh_image_format lds_mesh_image_sniff(const unsigned char *data, size_t size)
{
    static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (data == NULL)
        return LDS_MESH_IMAGE_UNKNOWN;
    if (size >= 8 && memcmp(data, png_signature, 8) == 0)
        return LDS_MESH_IMAGE_PNG;
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return LDS_MESH_IMAGE_JPEG;
    if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        return LDS_MESH_IMAGE_WEBP;
    return LDS_MESH_IMAGE_UNKNOWN;
}

const char *lds_mesh_image_mime(lds_mesh_image_format format)
{
    switch (format) {
    case LDS_MESH_IMAGE_PNG: return "image/png";
    case LDS_MESH_IMAGE_JPEG: return "image/jpeg";
    case LDS_MESH_IMAGE_WEBP: return "image/webp";
    default: return "";
    }
}

lds_mesh_image_format lds_mesh_image_format_from_mime(const char *mime)
{
    if (mime == NULL)
        return LDS_MESH_IMAGE_UNKNOWN;
    if (strcmp(mime, "image/png") == 0)
        return LDS_MESH_IMAGE_PNG;
    if (strcmp(mime, "image/jpeg") == 0)
        return LDS_MESH_IMAGE_JPEG;
    if (strcmp(mime, "image/webp") == 0)
        return LDS_MESH_IMAGE_WEBP;
    return LDS_MESH_IMAGE_UNKNOWN;
}

void lds_mesh_image_cleanup(lds_mesh_image *image)
{
    if (image == NULL)
        return;
    free(image->rgba);
    memset(image, 0, sizeof(*image));
}

int lds_mesh_image_is_opaque(const lds_mesh_image *image)
{
    size_t n = (size_t)image->width * (size_t)image->height;
    for (size_t i = 0; i < n; i++)
        if (image->rgba[i * 4 + 3] != 255)
            return 0;
    return 1;
}

void lds_mesh_image_fit(int width, int height, int max_side, int *out_width, int *out_height)
{
    assert(width > 0 && height > 0 && max_side > 0);
    int w = width, h = height;
    if (w > max_side || h > max_side) {
        if (w >= h) {
            h = (int)((double)h * max_side / w + 0.5);
            w = max_side;
        } else {
            w = (int)((double)w * max_side / h + 0.5);
            h = max_side;
        }
    }
    *out_width = w < 1 ? 1 : w;
    *out_height = h < 1 ? 1 : h;
}

/* Checks a header's size against the limits; the message names the file. */
static lds_status check_size(const char *name, unsigned long width, unsigned long height,
                             const lds_mesh_image_limits *limits, lds_error *err)
{
    uint64_t max_w = limits && limits->max_width ? limits->max_width : DEFAULT_MAX_SIDE;
    uint64_t max_h = limits && limits->max_height ? limits->max_height : DEFAULT_MAX_SIDE;
    uint64_t max_px = limits && limits->max_pixels ? limits->max_pixels : DEFAULT_MAX_PIXELS;
    if (width == 0 || height == 0)
        return lds_error_set(err, LDS_EFORMAT, "%s: image has no pixels (%lux%lu)", name, width, height);
    if (width > max_w || height > max_h || (uint64_t)width * height > max_px)
        return lds_error_set(err, LDS_ELIMIT, "%s: image is %lux%lu, over the limit of %llux%llu and %llu pixels",
                             name, width, height, (unsigned long long)max_w, (unsigned long long)max_h,
                             (unsigned long long)max_px);
    return LDS_OK;
}

static lds_status alloc_pixels(const char *name, int width, int height, lds_mesh_image *out, lds_error *err)
{
    out->rgba = malloc((size_t)width * (size_t)height * 4);
    if (out->rgba == NULL)
        return lds_error_set(err, LDS_ENOMEM, "%s: out of memory for %dx%d pixels", name, width, height);
    out->width = width;
    out->height = height;
    return LDS_OK;
}

/* ---- PNG -------------------------------------------------------------------------------------- */

static lds_status png_decode(const char *name, const unsigned char *data, size_t size,
                             const lds_mesh_image_limits *limits, lds_mesh_image *out, lds_error *err)
{
    png_image png;
    memset(&png, 0, sizeof(png));
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, data, size)) {
        lds_status status = lds_error_set(err, size < 33 ? LDS_ETRUNC : LDS_EFORMAT, "%s: bad PNG: %s", name,
                                          png.message);
        png_image_free(&png);
        return status;
    }
    lds_status status = check_size(name, png.width, png.height, limits, err);
    if (status == LDS_OK)
        status = alloc_pixels(name, (int)png.width, (int)png.height, out, err);
    if (status != LDS_OK) {
        png_image_free(&png);
        return status;
    }
    png.format = PNG_FORMAT_RGBA;
    if (!png_image_finish_read(&png, NULL, out->rgba, 0, NULL)) {
        status = lds_error_set(err, LDS_EFORMAT, "%s: bad PNG: %s", name, png.message);
        png_image_free(&png);
        lds_mesh_image_cleanup(out);
        return status;
    }
    png_image_free(&png);
    return LDS_OK;
}

/* The narrowest PNG pixel format that holds the image exactly. */
static png_uint_32 png_narrowest_format(const lds_mesh_image *image)
{
    size_t n = (size_t)image->width * (size_t)image->height;
    int opaque = 1, grey = 1;
    for (size_t i = 0; i < n && (opaque || grey); i++) {
        const unsigned char *p = image->rgba + i * 4;
        opaque &= p[3] == 255;
        grey &= p[0] == p[1] && p[1] == p[2];
    }
    if (grey)
        return opaque ? PNG_FORMAT_GRAY : PNG_FORMAT_GA;
    return opaque ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
}

static lds_status png_encode(const lds_mesh_image *image, lds_buf *out, lds_error *err)
{
    png_image png;
    memset(&png, 0, sizeof(png));
    png.version = PNG_IMAGE_VERSION;
    png.width = (png_uint_32)image->width;
    png.height = (png_uint_32)image->height;
    png.format = png_narrowest_format(image);
    size_t channels = PNG_IMAGE_PIXEL_CHANNELS(png.format), n = (size_t)image->width * (size_t)image->height;
    unsigned char *pixels = image->rgba;
    if (channels != 4) {
        pixels = malloc(n * channels);
        if (pixels == NULL)
            return lds_error_set(err, LDS_ENOMEM, "PNG encoder: out of memory");
        for (size_t i = 0; i < n; i++) {
            const unsigned char *p = image->rgba + i * 4;
            unsigned char *q = pixels + i * channels;
            if (channels <= 2) {
                q[0] = p[0];
                if (channels == 2)
                    q[1] = p[3];
            } else {
                memcpy(q, p, 3);
            }
        }
    }
    lds_status status = LDS_OK;
    png_alloc_size_t bytes = 0;
    unsigned char *dst = NULL;
    if (!png_image_write_get_memory_size(png, bytes, 0, pixels, 0, NULL))
        status = lds_error_set(err, LDS_EINTERNAL, "PNG encoder: %s", png.message);
    else if ((status = lds_buf_grow(out, bytes, &dst)) != LDS_OK)
        lds_error_set(err, status, "PNG encoder: %zu bytes over the output's cap", (size_t)bytes);
    else if (!png_image_write_to_memory(&png, dst, &bytes, 0, pixels, 0, NULL))
        status = lds_error_set(err, LDS_EINTERNAL, "PNG encoder: %s", png.message);
    else
        out->size = (size_t)(dst - out->data) + bytes; /* the second pass may be shorter */
    png_image_free(&png);
    if (pixels != image->rgba)
        free(pixels);
    return status;
}

/* ---- JPEG ------------------------------------------------------------------------------------- */

/* Everything that changes between setjmp and longjmp lives here, behind a pointer, so that it is
 * well defined after the jump (C11 7.13.2.1). */
typedef struct jpeg_state {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int truncated;
    unsigned char *mem; /* jpeg_mem_dest's buffer (encoder) */
    unsigned long mem_size;
} jpeg_state;

static void jpeg_fail(j_common_ptr cinfo)
{
    jpeg_state *st = (jpeg_state *)cinfo->err;
    cinfo->err->format_message(cinfo, st->message);
    longjmp(st->jump, 1);
}

static void jpeg_note(j_common_ptr cinfo, int level)
{
    jpeg_state *st = (jpeg_state *)cinfo->err;
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
        st->truncated = 1;
}

static void jpeg_progress(j_common_ptr cinfo)
{
    jpeg_state *st = (jpeg_state *)cinfo->err;
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        snprintf(st->message, sizeof(st->message), "more than %d progressive scans", JPEG_MAX_SCANS);
        longjmp(st->jump, 1);
    }
}

/* CMYK as Adobe writes it (inverted) or plain, to RGB in place (4 bytes a pixel). */
static void jpeg_cmyk_to_rgba(unsigned char *p, size_t pixels, int inverted)
{
    for (size_t i = 0; i < pixels; i++, p += 4) {
        unsigned c = p[0], m = p[1], y = p[2], k = p[3];
        if (!inverted)
            c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
        p[0] = (unsigned char)((c * k + 127) / 255);
        p[1] = (unsigned char)((m * k + 127) / 255);
        p[2] = (unsigned char)((y * k + 127) / 255);
        p[3] = 255;
    }
}

/* The steps that may longjmp; fails only on the limits or out of memory (err set). */
static lds_status jpeg_decode_body(j_decompress_ptr cinfo, const char *name, const lds_mesh_image_limits *limits,
                            lds_mesh_image *out, lds_error *err)
{
    jpeg_read_header(cinfo, TRUE);
    lds_status status = check_size(name, cinfo->image_width, cinfo->image_height, limits, err);
    if (status != LDS_OK)
        return status;
    int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
    jpeg_start_decompress(cinfo);
    status = alloc_pixels(name, (int)cinfo->output_width, (int)cinfo->output_height, out, err);
    if (status != LDS_OK)
        return status;
    size_t stride = (size_t)out->width * 4;
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = out->rgba + (size_t)cinfo->output_scanline * stride;
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1)
            break;
    }
    if (cmyk)
        jpeg_cmyk_to_rgba(out->rgba, (size_t)out->width * (size_t)out->height, cinfo->saw_Adobe_marker);
    if (cinfo->output_scanline == cinfo->output_height)
        jpeg_finish_decompress(cinfo);
    return LDS_OK;
}

static lds_status jpeg_decode(const char *name, const unsigned char *data, size_t size,
                              const lds_mesh_image_limits *limits, lds_mesh_image *out, lds_error *err)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_state st;
    memset(&st, 0, sizeof(st));
    cinfo.err = jpeg_std_error(&st.pub);
    st.pub.error_exit = jpeg_fail;
    st.pub.emit_message = jpeg_note;
    st.progress.progress_monitor = jpeg_progress;
    lds_status status = LDS_OK;
    if (setjmp(st.jump)) {
        status = lds_error_set(err, st.truncated ? LDS_ETRUNC : LDS_EFORMAT, "%s: bad JPEG: %s", name, st.message);
        goto out;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.mem->max_memory_to_use = JPEG_MAX_MEMORY;
    cinfo.progress = &st.progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    status = jpeg_decode_body(&cinfo, name, limits, out, err);
    if (status == LDS_OK && (st.truncated || cinfo.output_scanline < cinfo.output_height))
        status = lds_error_set(err, LDS_ETRUNC, "%s: JPEG data ends early", name);
out:
    jpeg_destroy_decompress(&cinfo);
    if (status != LDS_OK)
        lds_mesh_image_cleanup(out);
    return status;
}

static void jpeg_encode_body(j_compress_ptr cinfo, jpeg_state *st, const lds_mesh_image *image,
                            const lds_mesh_image_encode_options *options)
{
    jpeg_mem_dest(cinfo, &st->mem, &st->mem_size);
    cinfo->image_width = (JDIMENSION)image->width;
    cinfo->image_height = (JDIMENSION)image->height;
    cinfo->input_components = 4;
    cinfo->in_color_space = JCS_EXT_RGBA;
    jpeg_set_defaults(cinfo);
    int quality = options && options->quality > 0 ? options->quality : 90;
    jpeg_set_quality(cinfo, quality > 100 ? 100 : quality, TRUE);
    cinfo->optimize_coding = TRUE;
    if (options && options->full_chroma)
        for (int c = 0; c < cinfo->num_components; c++)
            cinfo->comp_info[c].h_samp_factor = cinfo->comp_info[c].v_samp_factor = 1;
    jpeg_start_compress(cinfo, TRUE);
    size_t stride = (size_t)image->width * 4;
    while (cinfo->next_scanline < cinfo->image_height) {
        JSAMPROW row = image->rgba + (size_t)cinfo->next_scanline * stride;
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
}

static lds_status jpeg_encode(const lds_mesh_image *image, const lds_mesh_image_encode_options *options, lds_buf *out,
                              lds_error *err)
{
    struct jpeg_compress_struct cinfo;
    jpeg_state st;
    memset(&st, 0, sizeof(st));
    cinfo.err = jpeg_std_error(&st.pub);
    st.pub.error_exit = jpeg_fail;
    st.pub.emit_message = jpeg_note;
    lds_status status = LDS_OK;
    if (setjmp(st.jump)) {
        status = lds_error_set(err, LDS_EINTERNAL, "JPEG encoder: %s", st.message);
        goto out;
    }
    jpeg_create_compress(&cinfo);
    jpeg_encode_body(&cinfo, &st, image, options);
    status = lds_buf_append(out, st.mem, st.mem_size);
    if (status != LDS_OK)
        lds_error_set(err, status, "JPEG encoder: %lu bytes over the output's cap", st.mem_size);
out:
    jpeg_destroy_compress(&cinfo);
    free(st.mem);
    return status;
}

/* ---- WebP ------------------------------------------------------------------------------------- */

static lds_status webp_decode(const char *name, const unsigned char *data, size_t size,
                              const lds_mesh_image_limits *limits, lds_mesh_image *out, lds_error *err)
{
    WebPBitstreamFeatures features;
    VP8StatusCode code = WebPGetFeatures(data, size, &features);
    if (code == VP8_STATUS_NOT_ENOUGH_DATA)
        return lds_error_set(err, LDS_ETRUNC, "%s: WebP data ends early", name);
    if (code != VP8_STATUS_OK)
        return lds_error_set(err, LDS_EFORMAT, "%s: bad WebP header (libwebp status %d)", name, (int)code);
    if (features.has_animation)
        return lds_error_set(err, LDS_EFORMAT, "%s: animated WebP is not a texture", name);
    lds_status status = check_size(name, (unsigned long)features.width, (unsigned long)features.height, limits, err);
    if (status == LDS_OK)
        status = alloc_pixels(name, features.width, features.height, out, err);
    if (status != LDS_OK)
        return status;
    size_t stride = (size_t)out->width * 4;
    if (WebPDecodeRGBAInto(data, size, out->rgba, stride * (size_t)out->height, (int)stride) == NULL) {
        lds_mesh_image_cleanup(out);
        return lds_error_set(err, LDS_EFORMAT, "%s: bad or truncated WebP data", name);
    }
    return LDS_OK;
}

static lds_status webp_encode(const lds_mesh_image *image, const lds_mesh_image_encode_options *options, lds_buf *out,
                              lds_error *err)
{
    if (image->width > WEBP_MAX_SIDE || image->height > WEBP_MAX_SIDE)
        return lds_error_set(err, LDS_ELIMIT, "WebP encoder: %dx%d is over WebP's %d a side", image->width,
                             image->height, WEBP_MAX_SIDE);
    uint8_t *encoded = NULL;
    int stride = image->width * 4;
    size_t size;
    if (options && options->lossless) {
        size = WebPEncodeLosslessRGBA(image->rgba, image->width, image->height, stride, &encoded);
    } else {
        int quality = options && options->quality > 0 ? options->quality : 85;
        size = WebPEncodeRGBA(image->rgba, image->width, image->height, stride, (float)(quality > 100 ? 100 : quality),
                              &encoded);
    }
    if (size == 0 || encoded == NULL) {
        WebPFree(encoded);
        return lds_error_set(err, LDS_EINTERNAL, "WebP encoder failed on %dx%d", image->width, image->height);
    }
    lds_status status = lds_buf_append(out, encoded, size);
    if (status != LDS_OK)
        lds_error_set(err, status, "WebP encoder: %zu bytes over the output's cap", size);
    WebPFree(encoded);
    return status;
}

/* ---- decode / encode -------------------------------------------------------------------------- */

lds_status lds_mesh_image_decode(const char *name, const unsigned char *data, size_t size,
                                 const lds_mesh_image_limits *limits, lds_mesh_image *out, lds_error *err)
{
    assert(name != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    switch (lds_mesh_image_sniff(data, size)) {
    case LDS_MESH_IMAGE_PNG: return png_decode(name, data, size, limits, out, err);
    case LDS_MESH_IMAGE_JPEG: return jpeg_decode(name, data, size, limits, out, err);
    case LDS_MESH_IMAGE_WEBP: return webp_decode(name, data, size, limits, out, err);
    default:
        return lds_error_set(err, size < 12 ? LDS_ETRUNC : LDS_EFORMAT, "%s: not a PNG, JPEG or WebP image (%zu bytes)",
                             name, size);
    }
}

lds_status lds_mesh_image_encode(const lds_mesh_image *image, lds_mesh_image_format format,
                                 const lds_mesh_image_encode_options *options, lds_buf *out, lds_error *err)
{
    assert(image != NULL && image->rgba != NULL && image->width > 0 && image->height > 0 && out != NULL);
    switch (format) {
    case LDS_MESH_IMAGE_PNG: return png_encode(image, out, err);
    case LDS_MESH_IMAGE_JPEG: return jpeg_encode(image, options, out, err);
    case LDS_MESH_IMAGE_WEBP: return webp_encode(image, options, out, err);
    default: return lds_error_set(err, LDS_EINVAL, "image encoder: unknown format %d", (int)format);
    }
}

/* ---- resize ----------------------------------------------------------------------------------- */

/* One axis's filter: output pixel i takes count source pixels from first, weights[offset..]. */
typedef struct axis_tap {
    int first, count;
    size_t offset;
} axis_tap;

typedef struct axis_filter {
    axis_tap *taps;
    float *weights;
} axis_filter;

static void axis_filter_cleanup(axis_filter *f)
{
    free(f->taps);
    free(f->weights);
}

static int clamp_index(int i, int n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Box of the exact footprint when shrinking (weights are the covered lengths), tent when growing. */
static int axis_filter_build(int src, int dst, axis_filter *f)
{
    double scale = (double)src / dst;
    size_t per = scale > 1.0 ? (size_t)ceil(scale) + 1 : 2;
    f->taps = calloc((size_t)dst, sizeof(*f->taps));
    f->weights = calloc((size_t)dst * per, sizeof(*f->weights));
    if (f->taps == NULL || f->weights == NULL)
        return -1;
    for (int i = 0; i < dst; i++) {
        axis_tap *t = &f->taps[i];
        t->offset = (size_t)i * per;
        float *w = f->weights + t->offset;
        if (scale > 1.0) {
            double lo = i * scale, hi = (i + 1) * scale;
            int first = (int)floor(lo), last = (int)ceil(hi) - 1;
            if (last > src - 1)
                last = src - 1;
            t->first = first;
            t->count = last - first + 1;
            assert((size_t)t->count <= per);
            for (int j = first; j <= last; j++)
                w[j - first] = (float)((fmin(hi, j + 1.0) - fmax(lo, (double)j)) / scale);
        } else {
            double center = (i + 0.5) * scale - 0.5;
            int j0 = (int)floor(center);
            float frac = (float)(center - j0);
            int a = clamp_index(j0, src), b = clamp_index(j0 + 1, src);
            t->first = a;
            t->count = b - a + 1;
            w[0] = t->count == 1 ? 1.0f : 1.0f - frac;
            if (t->count == 2)
                w[1] = frac;
        }
    }
    return 0;
}

static float srgb_to_linear(float c)
{
    return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

/* The resampler's tables and scratch rows. */
typedef struct resampler {
    lds_mesh_image_space space;
    float decode[256];     /* byte -> working value of a colour channel */
    float srgb_edges[255]; /* linear value halfway between sRGB codes i and i+1 */
    float *row;            /* one source row in working values, src width * 4 */
    float *hrow;           /* that row resampled horizontally, dst width * 4 */
    float *acc;            /* the output row being accumulated, dst width * 4 */
} resampler;

static void resampler_tables(resampler *r)
{
    for (int i = 0; i < 256; i++) {
        float c = i / 255.0f;
        r->decode[i] = r->space == LDS_MESH_IMAGE_SRGB ? srgb_to_linear(c)
                       : r->space == LDS_MESH_IMAGE_NORMAL ? c * 2.0f - 1.0f
                                                           : c;
    }
    for (int i = 0; i < 255; i++)
        r->srgb_edges[i] = srgb_to_linear((i + 0.5f) / 255.0f);
}

/* Source row y to working values: colour channels decoded, premultiplied in sRGB space. */
static void resampler_load_row(const resampler *r, const lds_mesh_image *src, int y)
{
    const unsigned char *p = src->rgba + (size_t)y * (size_t)src->width * 4;
    float *q = r->row;
    for (int x = 0; x < src->width; x++, p += 4, q += 4) {
        float a = p[3] / 255.0f;
        float k = r->space == LDS_MESH_IMAGE_SRGB ? a : 1.0f;
        q[0] = r->decode[p[0]] * k;
        q[1] = r->decode[p[1]] * k;
        q[2] = r->decode[p[2]] * k;
        q[3] = a;
    }
}

static void resampler_horizontal(const resampler *r, const axis_filter *fx, int dst_width)
{
    for (int x = 0; x < dst_width; x++) {
        const axis_tap *t = &fx->taps[x];
        const float *w = fx->weights + t->offset;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int j = 0; j < t->count; j++) {
            const float *p = r->row + (size_t)(t->first + j) * 4;
            s0 += w[j] * p[0], s1 += w[j] * p[1], s2 += w[j] * p[2], s3 += w[j] * p[3];
        }
        float *q = r->hrow + (size_t)x * 4;
        q[0] = s0, q[1] = s1, q[2] = s2, q[3] = s3;
    }
}

static unsigned char to_byte(float v)
{
    v = v * 255.0f + 0.5f;
    return (unsigned char)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : (int)v);
}

static unsigned char linear_to_srgb_byte(const resampler *r, float v)
{
    int lo = 0, hi = 255; /* the number of edges below v is the code */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (r->srgb_edges[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (unsigned char)lo;
}

/* The accumulated row to bytes: unpremultiply and encode sRGB, or renormalise normals. */
static void resampler_store_row(const resampler *r, unsigned char *dst, int dst_width)
{
    for (int x = 0; x < dst_width; x++) {
        const float *p = r->acc + (size_t)x * 4;
        unsigned char *q = dst + (size_t)x * 4;
        q[3] = to_byte(p[3]);
        if (r->space == LDS_MESH_IMAGE_SRGB) {
            float k = p[3] > 1e-6f ? 1.0f / p[3] : 0.0f;
            for (int c = 0; c < 3; c++)
                q[c] = linear_to_srgb_byte(r, p[c] * k);
        } else if (r->space == LDS_MESH_IMAGE_NORMAL) {
            float len = sqrtf(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
            float n[3] = {0.0f, 0.0f, 1.0f};
            if (len > 1e-6f)
                n[0] = p[0] / len, n[1] = p[1] / len, n[2] = p[2] / len;
            for (int c = 0; c < 3; c++)
                q[c] = to_byte(n[c] * 0.5f + 0.5f);
        } else {
            for (int c = 0; c < 3; c++)
                q[c] = to_byte(p[c]);
        }
    }
}

lds_status lds_mesh_image_resize(const lds_mesh_image *src, int width, int height, lds_mesh_image_space space,
                                 lds_mesh_image *out, lds_error *err)
{
    assert(src != NULL && src->rgba != NULL && src->width > 0 && src->height > 0 && out != NULL);
    memset(out, 0, sizeof(*out));
    if (width < 1 || height < 1 || width > RESIZE_MAX_SIDE || height > RESIZE_MAX_SIDE)
        return lds_error_set(err, LDS_EINVAL, "image resize: %dx%d is not a size (1..%d a side)", width, height,
                             RESIZE_MAX_SIDE);
    axis_filter fx = {0}, fy = {0};
    resampler r = {.space = space};
    lds_status status = LDS_OK;
    if (axis_filter_build(src->width, width, &fx) != 0 || axis_filter_build(src->height, height, &fy) != 0 ||
        (r.row = malloc((size_t)src->width * 4 * sizeof(float))) == NULL ||
        (r.hrow = malloc((size_t)width * 4 * sizeof(float))) == NULL ||
        (r.acc = malloc((size_t)width * 4 * sizeof(float))) == NULL ||
        alloc_pixels("image resize", width, height, out, err) != LDS_OK) {
        status = lds_error_set(err, LDS_ENOMEM, "image resize: out of memory for %dx%d", width, height);
        goto out;
    }
    resampler_tables(&r);
    for (int y = 0; y < height; y++) {
        const axis_tap *t = &fy.taps[y];
        const float *w = fy.weights + t->offset;
        memset(r.acc, 0, (size_t)width * 4 * sizeof(float));
        for (int j = 0; j < t->count; j++) {
            resampler_load_row(&r, src, t->first + j);
            resampler_horizontal(&r, &fx, width);
            for (size_t k = 0; k < (size_t)width * 4; k++)
                r.acc[k] += w[j] * r.hrow[k];
        }
        resampler_store_row(&r, out->rgba + (size_t)y * (size_t)width * 4, width);
    }
out:
    axis_filter_cleanup(&fx);
    axis_filter_cleanup(&fy);
    free(r.row);
    free(r.hrow);
    free(r.acc);
    if (status != LDS_OK)
        lds_mesh_image_cleanup(out);
    return status;
}

/* ---- texture LODs ----------------------------------------------------------------------------- */

lds_status lds_mesh_image_reencode(const char *name, const unsigned char *data, size_t size,
                                   const lds_mesh_image_limits *limits, int width, int height,
                                   lds_mesh_image_space space, lds_mesh_image_format format,
                                   const lds_mesh_image_encode_options *options, lds_buf *out, lds_error *err)
{
    lds_mesh_image image, small;
    lds_status st = lds_mesh_image_decode(name, data, size, limits, &image, err);
    if (st != LDS_OK)
        return st;
    if (width > image.width)
        width = image.width;
    if (height > image.height)
        height = image.height;
    if (width == image.width && height == image.height) {
        st = lds_mesh_image_encode(&image, format, options, out, err);
    } else if ((st = lds_mesh_image_resize(&image, width, height, space, &small, err)) == LDS_OK) {
        st = lds_mesh_image_encode(&small, format, options, out, err);
        lds_mesh_image_cleanup(&small);
    }
    lds_mesh_image_cleanup(&image);
    return st;
}

void lds_mesh_texture_lod_size(int width, int height, double coverage, int *out_width, int *out_height)
{
    assert(width > 0 && height > 0);
    int k = 0;
    if (coverage > 0 && coverage < 1)
        k = (int)floor(log2(1.0 / coverage) + 1e-9);
    int w = width, h = height;
    for (; k > 0 && (w > 64 || h > 64); k--) {
        w = w / 2 < 64 ? (w < 64 ? w : 64) : w / 2;
        h = h / 2 < 64 ? (h < 64 ? h : 64) : h / 2;
    }
    *out_width = w;
    *out_height = h;
}

lds_mesh_image_space lds_mesh_texture_space(const lds_mesh_model *model, size_t texture)
{
    int srgb = 0;
    for (size_t m = 0; m < model->material_count; m++) {
        const lds_mesh_material *mat = &model->materials[m];
        if (mat->maps[LDS_MESH_MAP_NORMAL].texture == (int)texture)
            return LDS_MESH_IMAGE_NORMAL;
        srgb |= mat->maps[LDS_MESH_MAP_BASE_COLOR].texture == (int)texture ||
                mat->maps[LDS_MESH_MAP_EMISSIVE].texture == (int)texture;
    }
    return srgb ? LDS_MESH_IMAGE_SRGB : LDS_MESH_IMAGE_LINEAR;
}
