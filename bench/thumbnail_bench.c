/* thumbnail_bench.c: the CPU time of the turntable thumbnails (8 views, 512 px, PNG) per model,
 * split into rendering and PNG encoding, median of a few runs (thread CPU time, so that the
 * figure means something on a loaded machine). Usage: lds_thumbnail_bench [--runs N] [--out DIR]
 * MODEL...; one line per model, then the median over the models. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mesh.h"

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), compare);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
    int runs = 3, first = 1;
    const char *out_dir = NULL;
    while (first < argc && strncmp(argv[first], "--", 2) == 0 && first + 1 < argc) {
        if (strcmp(argv[first], "--runs") == 0)
            runs = atoi(argv[first + 1]);
        else if (strcmp(argv[first], "--out") == 0)
            out_dir = argv[first + 1];
        first += 2;
    }
    if (first >= argc || runs < 1 || runs > 50) {
        fprintf(stderr, "usage: lds_thumbnail_bench [--runs N] [--out DIR] MODEL...\n");
        return 2;
    }
    double totals[256];
    int models = 0;
    printf("%-28s %10s %10s %12s %12s %12s\n", "model", "triangles", "textures", "render_ms", "png_ms", "total_ms");
    for (int a = first; a < argc && models < 256; a++) {
        lds_error err;
        lds_error_clear(&err);
        lds_mesh_model *model = NULL;
        if (lds_mesh_import_file(argv[a], 0, NULL, &model, &err) != LDS_OK) {
            fprintf(stderr, "%s: %s\n", argv[a], err.message);
            continue;
        }
        double render[50], png[50], total[50];
        for (int r = 0; r < runs; r++) {
            lds_buf pngs[LDS_THUMBNAIL_VIEWS];
            for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++)
                lds_buf_init(&pngs[i], 64u << 20);
            double t0 = cpu_ms();
            if (lds_mesh_thumbnails(model, LDS_THUMBNAIL_SIZE, pngs, &err) != LDS_OK) {
                fprintf(stderr, "%s: %s\n", argv[a], err.message);
                return 1;
            }
            total[r] = cpu_ms() - t0;
            /* the encoding alone: decode the PNGs back and encode them again */
            double enc = 0;
            for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++) {
                lds_mesh_image image;
                lds_buf again;
                lds_buf_init(&again, 64u << 20);
                lds_mesh_image_decode("thumb.png", pngs[i].data, pngs[i].size, NULL, &image, &err);
                double t1 = cpu_ms();
                lds_mesh_image_encode(&image, LDS_MESH_IMAGE_PNG, NULL, &again, &err);
                enc += cpu_ms() - t1;
                lds_mesh_image_cleanup(&image);
                lds_buf_cleanup(&again);
            }
            png[r] = enc;
            render[r] = total[r] - enc;
            if (out_dir && r == 0)
                for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++) {
                    char path[4096];
                    const char *base = strrchr(argv[a], '/');
                    snprintf(path, sizeof(path), "%s/%s.%d.png", out_dir, base ? base + 1 : argv[a], i);
                    lds_file_write_atomic(path, pngs[i].data, pngs[i].size, &err);
                }
            for (int i = 0; i < LDS_THUMBNAIL_VIEWS; i++)
                lds_buf_cleanup(&pngs[i]);
        }
        const char *base = strrchr(argv[a], '/');
        double t = median(total, runs);
        printf("%-28s %10zu %10zu %12.1f %12.1f %12.1f\n", base ? base + 1 : argv[a], lds_mesh_triangle_count(model),
               model->texture_count, median(render, runs), median(png, runs), t);
        totals[models++] = t;
        lds_mesh_model_destroy(model);
    }
    if (models)
        printf("median over %d models: %.1f ms CPU for 8 views of 512x512 (render + PNG)\n", models,
               median(totals, models));
    return 0;
}
