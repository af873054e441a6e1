/* test_glb_corpus.c: the corpus scans (bunny, igea, spot with its texture) imported and written in
 * all three encodings: every file validates, Draco and meshopt decode to the model's counts, the
 * texture is carried, output is deterministic. Skips when ../shared/corpus is absent. */
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "test_glb_check.h"
#include "testlib.h"

static const char *const scans[] = {"scans/stanford-bunny.obj", "scans/igea.ply", "textured/spot/spot.obj"};
static const char *const encoding_name[3] = {"plain", "draco", "meshopt"};

int main(void)
{
    char path[1024];
    if (lds_test_shared("corpus/scans/igea.ply", path, sizeof(path)) == NULL)
        lds_test_skip("no ../shared/corpus");
    const char *dir = lds_test_tmpdir("glb_corpus");
    const char *paths[16];
    size_t count = 0;
    for (size_t i = 0; i < sizeof(scans) / sizeof(scans[0]); i++) {
        char rel[256];
        snprintf(rel, sizeof(rel), "corpus/%s", scans[i]);
        if (lds_test_shared(rel, path, sizeof(path)) == NULL) {
            printf("%s: absent, not tested\n", rel);
            continue;
        }
        lds_mesh_model *model = NULL;
        lds_error err;
        lds_error_clear(&err);
        LDS_CHECK_OK(lds_mesh_import_file(path, 0, NULL, &model, &err), &err);
        if (model == NULL)
            continue;
        size_t triangles = lds_mesh_triangle_count(model);
        int textured = strstr(scans[i], "spot") != NULL;
        if (textured)
            LDS_CHECK(model->texture_count > 0 && model->textures[0].data != NULL);
        for (int e = 0; e < 3; e++) {
            lds_buf a, b;
            lds_buf_init(&a, 0);
            lds_buf_init(&b, 0);
            lds_mesh_quantization q = LDS_MESH_QUANTIZATION_DEFAULT;
            double t0 = lds_time_ms();
            LDS_CHECK_OK(lds_mesh_write_glb(model, (lds_mesh_encoding)e, &q, "lodestone test", &a, &err), &err);
            double ms = lds_time_ms() - t0;
            LDS_CHECK_OK(lds_mesh_write_glb(model, (lds_mesh_encoding)e, &q, "lodestone test", &b, &err), &err);
            LDS_CHECK(a.size == b.size && memcmp(a.data, b.data, a.size) == 0);
            char name[256];
            snprintf(name, sizeof(name), "%s.%s.glb", lds_path_basename(scans[i]), encoding_name[e]);
            glb_summary s;
            glb_check(name, a.data, a.size, model, &s);
            /* Draco states what it encoded; the edgebreaker keeps every triangle of these scans */
            LDS_CHECK_INT(s.triangles, ==, triangles);
            if (e == LDS_MESH_ENCODING_DRACO)
                LDS_CHECK_INT(s.draco_primitives, ==, model->submesh_count);
            if (textured) {
                /* the PNG travels in the binary chunk of every encoding */
                LDS_CHECK(s.bin_bytes > model->textures[0].size);
                LDS_CHECK_INT(s.images, ==, 1);
            }
            printf("%-28s %8zu triangles %9zu bytes %7.1f ms\n", name, s.triangles, a.size, ms);
            paths[count++] = glb_save(dir, name, a.data, a.size);
            lds_buf_cleanup(&a);
            lds_buf_cleanup(&b);
        }
        lds_mesh_model_destroy(model);
    }
    lds_test_check_valid_glb(paths, count);
    return lds_test_result();
}
