/* test_process_texture_lod.c: `lodestone process` on a textured model it builds (a UV sphere in
 * OBJ with a 1024 px PNG base colour texture): the chain keeps its levels, every level states a
 * screen coverage that falls along the chain, each level's texture_bytes never grows, the last
 * level carries a small fraction of LOD0's texture bytes, its embedded texture is at most half
 * LOD0's size and at least 64 px, every GLB validates, normals are generated and reported; with --no-texture-lods every level keeps
 * LOD0's texture; with --max-error tiny the chain ends and says why. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "test_process_util.h"
#include "testlib.h"

static char root[1024], home[1100];

static void write_textured_sphere(const char *dir)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/ball.obj", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "mtllib ball.mtl\nusemtl skin\n");
    const int slices = 64, stacks = 32;
    for (int j = 0; j <= stacks; j++)
        for (int i = 0; i <= slices; i++) {
            double u = (double)i / slices, v = (double)j / stacks;
            double th = u * 2 * M_PI, ph = v * M_PI;
            double r = 1.0 + 0.05 * sin(5 * th) * sin(3 * ph);
            fprintf(f, "v %.6f %.6f %.6f\nvt %.6f %.6f\n", r * sin(ph) * cos(th), r * cos(ph), r * sin(ph) * sin(th), u,
                    1 - v);
        }
    for (int j = 0; j < stacks; j++)
        for (int i = 0; i < slices; i++) {
            int a = j * (slices + 1) + i + 1, b = a + 1, c = a + slices + 1, d = c + 1;
            fprintf(f, "f %d/%d %d/%d %d/%d\nf %d/%d %d/%d %d/%d\n", a, a, c, c, b, b, b, b, c, c, d, d);
        }
    fclose(f);
    snprintf(path, sizeof(path), "%s/ball.mtl", dir);
    f = fopen(path, "w");
    fprintf(f, "newmtl skin\nKd 1 1 1\nmap_Kd ball.png\n");
    fclose(f);

    lds_mesh_image img = {1024, 1024, malloc(1024 * 1024 * 4)};
    uint32_t state = 12345;
    for (int i = 0; i < 1024 * 1024; i++) {
        state = state * 1664525u + 1013904223u;
        unsigned char *p = img.rgba + (size_t)i * 4;
        p[0] = (unsigned char)((i % 1024) / 4), p[1] = (unsigned char)((i / 1024) / 4);
        p[2] = (unsigned char)(state >> 24 & 0x3f), p[3] = 255;
    }
    lds_buf png;
    lds_buf_init(&png, 0);
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_image_encode(&img, LDS_MESH_IMAGE_PNG, NULL, &png, &err), &err);
    snprintf(path, sizeof(path), "%s/ball.png", dir);
    LDS_CHECK_OK(lds_file_write(path, png.data, png.size, &err), &err);
    lds_buf_cleanup(&png);
    lds_mesh_image_cleanup(&img);
}

/* The width of the first texture embedded in a GLB (0 when none). */
static int glb_texture_width(const char *path)
{
    lds_mesh_model *m = NULL;
    lds_error err;
    lds_error_clear(&err);
    LDS_CHECK_OK(lds_mesh_import_file(path, 0, NULL, &m, &err), &err);
    int w = m && m->texture_count ? m->textures[0].width : 0;
    lds_mesh_model_destroy(m);
    return w;
}

static json_t *process(const char *out, const char *flags)
{
    char args[4096];
    snprintf(args, sizeof(args), "'%s/ball.obj' -o '%s/%s' --no-certificate --no-shape-index %s >/dev/null 2>&1", root,
             root, out, flags);
    LDS_CHECK_INT(proc_run(NULL, home, args), ==, 0);
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s/%s", root, out);
    return proc_load_manifest(dir);
}

int main(void)
{
    snprintf(root, sizeof(root), "%s", lds_test_tmpdir("process_texture_lod"));
    snprintf(home, sizeof(home), "%s/home", root);
    write_textured_sphere(root);

    json_t *m = process("lods", "");
    json_t *lods = json_object_get(m, "lods");
    size_t n = json_array_size(lods);
    LDS_CHECK(n >= 4);
    double coverage = 2;
    json_int_t previous_bytes = -1, lod0_bytes = 0;
    const char *paths[64];
    char names[64][1300];
    size_t path_count = 0;
    for (size_t l = 0; l < n; l++) {
        json_t *lod = json_array_get(lods, l);
        double c = json_number_value(json_object_get(lod, "screen_coverage"));
        json_int_t bytes = json_integer_value(json_object_get(lod, "texture_bytes"));
        printf("level %zu: %lld triangles, error %.4f, coverage %.4f, texture bytes %lld\n", l,
               (long long)json_integer_value(json_object_get(lod, "triangles")),
               json_number_value(json_object_get(lod, "error")), c, (long long)bytes);
        LDS_CHECK(c > 0 && c <= coverage);
        coverage = c;
        if (l == 0)
            lod0_bytes = bytes;
        LDS_CHECK(bytes > 0);
        LDS_CHECK(previous_bytes < 0 || bytes <= previous_bytes);
        previous_bytes = bytes;
        const char *formats[] = {"glb", "draco", "meshopt"};
        for (int f = 0; f < 3 && path_count < 64; f++) {
            const char *rel = json_string_value(
                json_object_get(json_object_get(json_object_get(lod, "files"), formats[f]), "path"));
            if (rel == NULL)
                continue;
            snprintf(names[path_count], sizeof(names[path_count]), "%s/lods/%s", root, rel);
            paths[path_count] = names[path_count];
            path_count++;
        }
    }
    LDS_CHECK(n == 0 || previous_bytes * 4 < lod0_bytes);
    if (n >= 2) {
        char last[1300], first[1300];
        snprintf(first, sizeof(first), "%s/lods/lod0.glb", root);
        snprintf(last, sizeof(last), "%s/lods/lod%zu.glb", root, n - 1);
        int w0 = glb_texture_width(first), wl = glb_texture_width(last);
        printf("embedded texture: %d px at LOD0, %d px at LOD%zu\n", w0, wl, n - 1);
        LDS_CHECK_INT(w0, ==, 1024);
        LDS_CHECK(wl >= 64 && wl <= 512);
    }
    lds_test_check_valid_glb(paths, path_count);
    /* the OBJ has no normals: generated, and the report says so */
    int generated = 0;
    size_t i;
    json_t *issue;
    json_array_foreach(json_object_get(json_object_get(m, "report"), "issues"), i, issue)
        generated |= strcmp(json_string_value(json_object_get(issue, "code")), "normals_generated") == 0 &&
                     strcmp(json_string_value(json_object_get(issue, "severity")), "info") == 0;
    LDS_CHECK(generated);
    LDS_CHECK(json_is_true(json_object_get(json_object_get(m, "report"), "has_normals")));
    json_decref(m);

    m = process("same", "--no-texture-lods");
    lods = json_object_get(m, "lods");
    for (size_t l = 1; l < json_array_size(lods); l++)
        LDS_CHECK_INT(json_integer_value(json_object_get(json_array_get(lods, l), "texture_bytes")), ==,
                      json_integer_value(json_object_get(json_array_get(lods, 0), "texture_bytes")));
    json_decref(m);

    m = process("tight", "--max-error 0.0001");
    LDS_CHECK(json_array_size(json_object_get(m, "lods")) < 5);
    const char *end = json_string_value(json_object_get(json_object_get(m, "chain"), "end"));
    LDS_CHECK(end != NULL && (strstr(end, "budget") != NULL || strstr(end, "stalled") != NULL));
    json_decref(m);
    return lds_test_result();
}
