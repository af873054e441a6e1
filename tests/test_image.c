/* test_image.c: mesh/image.c: PNG, JPEG and WebP round trips, every truncated prefix of each in an
 * exactly sized buffer, size limits checked before allocation, and the resampler's colour rules
 * (linear-light averaging, premultiplied alpha, renormalised normals, area weights). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "testlib.h"

/* A 37x23 test card: gradients, a hard edge and varying alpha (or opaque). */
static void make_card(lds_mesh_image *img, int opaque)
{
    img->width = 37;
    img->height = 23;
    img->rgba = malloc((size_t)img->width * img->height * 4);
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            unsigned char *p = img->rgba + ((size_t)y * img->width + x) * 4;
            p[0] = (unsigned char)(x * 255 / 36);
            p[1] = (unsigned char)(y * 255 / 22);
            p[2] = x < 18 ? 40 : 220;
            p[3] = opaque ? 255 : (unsigned char)(255 - (x + y) * 4);
        }
}

static double psnr(const lds_mesh_image *a, const lds_mesh_image *b, int channels)
{
    double se = 0;
    size_t n = (size_t)a->width * a->height;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < channels; c++) {
            double d = (double)a->rgba[i * 4 + c] - b->rgba[i * 4 + c];
            se += d * d;
        }
    double mse = se / ((double)n * channels);
    return mse == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / mse);
}

static void encode(const lds_mesh_image *img, lds_mesh_image_format format, const lds_mesh_image_encode_options *o,
                   lds_buf *out)
{
    lds_error err;
    lds_error_clear(&err);
    lds_buf_init(out, 0);
    LDS_CHECK_OK(lds_mesh_image_encode(img, format, o, out, &err), &err);
    LDS_CHECK_INT(lds_mesh_image_sniff(out->data, out->size), ==, format);
}

/* Every prefix shorter than the file, copied into a buffer of exactly its size, fails cleanly,
 * except that a PNG whose image data is whole decodes without its 12-byte IEND chunk (libpng's
 * simplified reader stops after the image data). */
static void check_prefixes(const char *what, const lds_buf *file)
{
    size_t whole = lds_mesh_image_sniff(file->data, file->size) == LDS_MESH_IMAGE_PNG ? file->size - 12 : file->size;
    int accepted = 0;
    for (size_t len = 0; len < file->size; len++) {
        unsigned char *copy = malloc(len ? len : 1);
        memcpy(copy, file->data, len);
        lds_mesh_image img;
        lds_error err;
        lds_error_clear(&err);
        lds_status s = lds_mesh_image_decode(what, copy, len, NULL, &img, &err);
        if (s == LDS_OK) {
            accepted += len < whole;
            lds_mesh_image_cleanup(&img);
        } else {
            LDS_CHECK(img.rgba == NULL);
            LDS_CHECK(strstr(err.message, what) != NULL);
        }
        free(copy);
    }
    if (accepted)
        fprintf(stderr, "%s: %d of %zu truncated prefixes decoded\n", what, accepted, file->size);
    LDS_CHECK_INT(accepted, ==, 0);
}

static void test_round_trips(void)
{
    lds_mesh_image card, opaque;
    make_card(&card, 0);
    make_card(&opaque, 1);
    lds_error err;
    struct {
        const char *name;
        const lds_mesh_image *img;
        lds_mesh_image_format format;
        lds_mesh_image_encode_options options;
        double min_psnr;
        int channels;
    } cases[] = {
        {"card.png", &card, LDS_MESH_IMAGE_PNG, {0, 0, 0}, 99.0, 4},
        {"opaque.png", &opaque, LDS_MESH_IMAGE_PNG, {0, 0, 0}, 99.0, 4},
        {"opaque.jpg", &opaque, LDS_MESH_IMAGE_JPEG, {0, 0, 0}, 30.0, 3},
        {"opaque444.jpg", &opaque, LDS_MESH_IMAGE_JPEG, {95, 0, 1}, 36.0, 3},
        {"lossless.webp", &card, LDS_MESH_IMAGE_WEBP, {0, 1, 0}, 99.0, 4},
        {"lossy.webp", &opaque, LDS_MESH_IMAGE_WEBP, {90, 0, 0}, 28.0, 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lds_buf file;
        encode(cases[i].img, cases[i].format, &cases[i].options, &file);
        lds_mesh_image back;
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_mesh_image_decode(cases[i].name, file.data, file.size, NULL, &back, &err), &err);
        if (back.rgba != NULL) {
            LDS_CHECK_INT(back.width, ==, 37);
            LDS_CHECK_INT(back.height, ==, 23);
            double p = psnr(cases[i].img, &back, cases[i].channels);
            if (p < cases[i].min_psnr)
                fprintf(stderr, "%s: PSNR %.1f dB under %.1f\n", cases[i].name, p, cases[i].min_psnr);
            LDS_CHECK(p >= cases[i].min_psnr);
            if (cases[i].format == LDS_MESH_IMAGE_JPEG)
                LDS_CHECK(lds_mesh_image_is_opaque(&back));
        }
        lds_mesh_image_cleanup(&back);
        check_prefixes(cases[i].name, &file);
        lds_buf_cleanup(&file);
    }
    lds_mesh_image_cleanup(&card);
    lds_mesh_image_cleanup(&opaque);
}

/* A grey image is stored as a one-channel PNG and decodes to the same RGBA. */
static void test_png_grey(void)
{
    lds_mesh_image grey = {8, 8, malloc(256)}, back;
    for (int i = 0; i < 64; i++)
        memset(grey.rgba + i * 4, i * 4, 3), grey.rgba[i * 4 + 3] = 255;
    lds_buf file;
    encode(&grey, LDS_MESH_IMAGE_PNG, NULL, &file);
    LDS_CHECK_INT(file.data[25], ==, 0); /* IHDR colour type 0: greyscale */
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_image_decode("grey.png", file.data, file.size, NULL, &back, &err), &err);
    if (back.rgba)
        LDS_CHECK(memcmp(back.rgba, grey.rgba, 256) == 0);
    lds_mesh_image_cleanup(&back);
    lds_mesh_image_cleanup(&grey);
    lds_buf_cleanup(&file);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* A PNG whose header claims 100000x100000 pixels is refused before anything is allocated; a
 * caller's limits apply to every format. */
static void test_limits(void)
{
    lds_mesh_image card, img;
    make_card(&card, 1);
    lds_error err;
    lds_buf file;
    encode(&card, LDS_MESH_IMAGE_PNG, NULL, &file);
    unsigned char *p = file.data;
    const uint32_t huge = 100000;
    for (int i = 0; i < 2; i++) {
        p[16 + i * 4] = huge >> 24, p[17 + i * 4] = (huge >> 16) & 255;
        p[18 + i * 4] = (huge >> 8) & 255, p[19 + i * 4] = huge & 255;
    }
    uint32_t crc = crc32_of(p + 12, 17);
    p[29] = crc >> 24, p[30] = (crc >> 16) & 255, p[31] = (crc >> 8) & 255, p[32] = crc & 255;
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_mesh_image_decode("huge.png", file.data, file.size, NULL, &img, &err), ==, LDS_ELIMIT);
    LDS_CHECK(strstr(err.message, "huge.png") != NULL);
    lds_buf_cleanup(&file);

    lds_mesh_image_limits small = {16, 16, 0};
    lds_mesh_image_format formats[] = {LDS_MESH_IMAGE_PNG, LDS_MESH_IMAGE_JPEG, LDS_MESH_IMAGE_WEBP};
    for (int i = 0; i < 3; i++) {
        encode(&card, formats[i], NULL, &file);
        lds_error_clear(&err);
        LDS_CHECK_INT(lds_mesh_image_decode("card", file.data, file.size, &small, &img, &err), ==, LDS_ELIMIT);
        LDS_CHECK(img.rgba == NULL);
        lds_buf_cleanup(&file);
    }
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_mesh_image_decode("junk.bin", (const unsigned char *)"GIF89a......", 12, NULL, &img, &err), ==,
                  LDS_EFORMAT);
    lds_mesh_image_cleanup(&card);
}

static void fill(lds_mesh_image *img, int w, int h)
{
    img->width = w;
    img->height = h;
    img->rgba = calloc((size_t)w * h, 4);
}

static void test_resize_colour(void)
{
    lds_error err;
    lds_mesh_image check, out;
    /* A 2x2 black/white checkerboard averages to linear 0.5: sRGB 188 (128 when filtered as data). */
    fill(&check, 2, 2);
    for (int i = 0; i < 4; i++)
        memset(check.rgba + i * 4, (i == 0 || i == 3) ? 255 : 0, 3), check.rgba[i * 4 + 3] = 255;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_image_resize(&check, 1, 1, LDS_MESH_IMAGE_SRGB, &out, &err), &err);
    LDS_CHECK_INT(out.rgba[0], ==, 188);
    LDS_CHECK_INT(out.rgba[3], ==, 255);
    lds_mesh_image_cleanup(&out);
    LDS_CHECK_OK(lds_mesh_image_resize(&check, 1, 1, LDS_MESH_IMAGE_LINEAR, &out, &err), &err);
    LDS_CHECK_INT(out.rgba[0], ==, 128);
    lds_mesh_image_cleanup(&out);
    lds_mesh_image_cleanup(&check);
    /* Transparent red next to opaque green: no red bleeds into the result. */
    fill(&check, 2, 1);
    check.rgba[0] = 255, check.rgba[1] = 0, check.rgba[2] = 0, check.rgba[3] = 0;
    check.rgba[4] = 0, check.rgba[5] = 255, check.rgba[6] = 0, check.rgba[7] = 255;
    LDS_CHECK_OK(lds_mesh_image_resize(&check, 1, 1, LDS_MESH_IMAGE_SRGB, &out, &err), &err);
    LDS_CHECK_INT(out.rgba[0], ==, 0);
    LDS_CHECK_INT(out.rgba[1], ==, 255);
    LDS_CHECK_INT(out.rgba[3], ==, 128);
    lds_mesh_image_cleanup(&out);
    lds_mesh_image_cleanup(&check);

    /* A constant image stays constant at any size, up or down, odd ratios included. */
    lds_mesh_image flat;
    fill(&flat, 7, 5);
    for (int i = 0; i < 35; i++)
        flat.rgba[i * 4] = 200, flat.rgba[i * 4 + 1] = 17, flat.rgba[i * 4 + 2] = 90, flat.rgba[i * 4 + 3] = 255;
    int sizes[][2] = {{3, 2}, {1, 1}, {7, 5}, {16, 9}, {4, 5}};
    for (int s = 0; s < 5; s++) {
        LDS_CHECK_OK(lds_mesh_image_resize(&flat, sizes[s][0], sizes[s][1], LDS_MESH_IMAGE_SRGB, &out, &err), &err);
        for (int i = 0; i < out.width * out.height; i++) {
            LDS_CHECK_INT(out.rgba[i * 4], ==, 200);
            LDS_CHECK_INT(out.rgba[i * 4 + 1], ==, 17);
            LDS_CHECK_INT(out.rgba[i * 4 + 2], ==, 90);
        }
        lds_mesh_image_cleanup(&out);
    }
    lds_mesh_image_cleanup(&flat);
}

/* Area weights: 7 -> 3 pixels of a linear ramp keeps the mean (as data). */
static void test_resize_area(void)
{
    lds_error err;
    lds_mesh_image ramp, out;
    fill(&ramp, 7, 1);
    double mean_in = 0;
    for (int x = 0; x < 7; x++) {
        ramp.rgba[x * 4] = (unsigned char)(x * 40);
        ramp.rgba[x * 4 + 3] = 255;
        mean_in += x * 40 / 7.0;
    }
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_image_resize(&ramp, 3, 1, LDS_MESH_IMAGE_LINEAR, &out, &err), &err);
    double mean_out = (out.rgba[0] + out.rgba[4] + out.rgba[8]) / 3.0;
    LDS_CHECK(fabs(mean_out - mean_in) < 1.0);
    LDS_CHECK(out.rgba[0] < out.rgba[4] && out.rgba[4] < out.rgba[8]);
    lds_mesh_image_cleanup(&out);
    lds_error_clear(&err);
    LDS_CHECK_INT(lds_mesh_image_resize(&ramp, 0, 1, LDS_MESH_IMAGE_LINEAR, &out, &err), ==, LDS_EINVAL);
    lds_mesh_image_cleanup(&ramp);
}

/* Normals averaged across a crease come back unit length. */
static void test_resize_normals(void)
{
    lds_error err;
    lds_mesh_image nm, out;
    fill(&nm, 8, 8);
    for (int i = 0; i < 64; i++) {
        double a = (i % 8) * 0.35 - 1.2, b = (i / 8) * 0.2 - 0.7;
        double n[3] = {sin(a) * cos(b), sin(b), cos(a) * cos(b)};
        for (int c = 0; c < 3; c++)
            nm.rgba[i * 4 + c] = (unsigned char)lround((n[c] * 0.5 + 0.5) * 255);
        nm.rgba[i * 4 + 3] = 255;
    }
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_image_resize(&nm, 3, 3, LDS_MESH_IMAGE_NORMAL, &out, &err), &err);
    for (int i = 0; i < 9; i++) {
        double len = 0;
        for (int c = 0; c < 3; c++) {
            double v = out.rgba[i * 4 + c] / 255.0 * 2 - 1;
            len += v * v;
        }
        LDS_CHECK(fabs(sqrt(len) - 1.0) < 0.02);
    }
    lds_mesh_image_cleanup(&out);
    lds_mesh_image_cleanup(&nm);
}

static void test_fit_and_mime(void)
{
    int w, h;
    lds_mesh_image_fit(2048, 1024, 256, &w, &h);
    LDS_CHECK_INT(w, ==, 256);
    LDS_CHECK_INT(h, ==, 128);
    lds_mesh_image_fit(100, 50, 256, &w, &h);
    LDS_CHECK_INT(w, ==, 100);
    lds_mesh_image_fit(1, 4000, 256, &w, &h);
    LDS_CHECK_INT(w, ==, 1);
    LDS_CHECK_INT(h, ==, 256);
    LDS_CHECK_STR(lds_mesh_image_mime(LDS_MESH_IMAGE_WEBP), "image/webp");
    LDS_CHECK_INT(lds_mesh_image_format_from_mime("image/jpeg"), ==, LDS_MESH_IMAGE_JPEG);
    LDS_CHECK_INT(lds_mesh_image_format_from_mime("image/gif"), ==, LDS_MESH_IMAGE_UNKNOWN);
}

/* Texture LOD sizes: halved floor(log2(1/coverage)) times, never below 64, never up. */
static void test_texture_lod_size(void)
{
    struct { int w, h; double c; int ew, eh; } cases[] = {
        {2048, 2048, 1.0, 2048, 2048}, {2048, 2048, 0.6, 2048, 2048}, {2048, 2048, 0.5, 1024, 1024},
        {2048, 2048, 0.2, 512, 512},   {2048, 2048, 0.001, 64, 64},    {2048, 512, 0.1, 256, 64},
        {100, 40, 0.25, 64, 40},       {48, 48, 0.01, 48, 48},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int w, h;
        lds_mesh_texture_lod_size(cases[i].w, cases[i].h, cases[i].c, &w, &h);
        LDS_CHECK_INT(w, ==, cases[i].ew);
        LDS_CHECK_INT(h, ==, cases[i].eh);
    }
    /* re-encoding keeps the format and gives the size asked for */
    lds_mesh_image card, back;
    make_card(&card, 1);
    lds_buf file, small;
    encode(&card, LDS_MESH_IMAGE_JPEG, NULL, &file);
    lds_buf_init(&small, 0);
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_image_reencode("card.jpg", file.data, file.size, NULL, 18, 11, LDS_MESH_IMAGE_SRGB,
                                         LDS_MESH_IMAGE_JPEG, NULL, &small, &err), &err);
    LDS_CHECK_OK(lds_mesh_image_decode("small.jpg", small.data, small.size, NULL, &back, &err), &err);
    LDS_CHECK_INT(back.width, ==, 18);
    LDS_CHECK_INT(back.height, ==, 11);
    lds_mesh_image_cleanup(&back);
    lds_buf_cleanup(&small);
    lds_buf_cleanup(&file);
    lds_mesh_image_cleanup(&card);
}

int main(void)
{
    test_round_trips();
    test_png_grey();
    test_limits();
    test_resize_colour();
    test_resize_area();
    test_resize_normals();
    test_fit_and_mime();
    test_texture_lod_size();
    return lds_test_result();
}
