/* test_import_corpus.c: the corpus scans import with the triangle counts of
 * ../shared/corpus/README.md, spot.obj keeps its texture and UVs, and the import time of each scan
 * is printed (a measurement, never asserted). Skips when shared/ is absent. */
#include "mesh.h"
#include "testlib.h"

static lds_mesh_model *import(const char *relative, double *ms)
{
    char path[4096];
    if (lds_test_shared(relative, path, sizeof(path)) == NULL)
        return NULL;
    lds_mesh_model *model = NULL;
    lds_error err;
    lds_error_clear(&err);
    double best = 1e30;
    for (int run = 0; run < 3; run++) { /* best of 3: the file cache is warm after the first */
        lds_mesh_model_destroy(model);
        model = NULL;
        double start = lds_time_ms();
        lds_status st = lds_mesh_import_file(path, 0, NULL, &model, &err);
        double took = lds_time_ms() - start;
        best = took < best ? took : best;
        LDS_CHECK_OK(st, &err);
        if (st != LDS_OK)
            return NULL;
    }
    *ms = best;
    return model;
}

static void check_scan(const char *relative, size_t triangles)
{
    double ms = 0;
    lds_mesh_model *model = import(relative, &ms);
    LDS_CHECK(model != NULL);
    if (model == NULL)
        return;
    LDS_CHECK_INT(lds_mesh_triangle_count(model), ==, triangles);
    printf("import %-28s %9zu triangles %8zu vertices %8.1f ms\n", relative, lds_mesh_triangle_count(model),
           model->vertex_count, ms);
    lds_mesh_model_destroy(model);
}

int main(void)
{
    char probe[4096];
    if (lds_test_shared("corpus/scans/igea.ply", probe, sizeof(probe)) == NULL)
        lds_test_skip("../shared/corpus is not there");
    check_scan("corpus/scans/igea.ply", 268686);
    check_scan("corpus/scans/stanford-bunny.obj", 69451);
    check_scan("corpus/scans/nefertiti.obj", 99938);
    check_scan("corpus/scans/horse.ply", 96966);

    double ms = 0;
    lds_mesh_model *spot = import("corpus/textured/spot/spot.obj", &ms);
    LDS_CHECK(spot != NULL);
    if (spot) {
        printf("import spot.obj: %zu triangles, %zu textures in %.1f ms\n", lds_mesh_triangle_count(spot),
               spot->texture_count, ms);
        LDS_CHECK_INT(lds_mesh_triangle_count(spot), ==, 2 * 2928);
        LDS_CHECK(spot->uvs != NULL);
        LDS_CHECK_INT(spot->texture_count, ==, 1);
        LDS_CHECK_INT(spot->warning_count, ==, 0);
        LDS_CHECK_INT(spot->material_count, >=, 1);
        if (spot->texture_count == 1) {
            const lds_mesh_texture *t = &spot->textures[0];
            LDS_CHECK_STR(t->name, "spot_texture.png");
            LDS_CHECK_STR(t->mime, "image/png");
            LDS_CHECK(t->data != NULL);
            LDS_CHECK_INT(t->size, ==, 78699);
            LDS_CHECK_INT(t->width, ==, 1024);
            LDS_CHECK_INT(t->height, ==, 1024);
        }
        int textured = 0;
        for (size_t s = 0; s < spot->submesh_count; s++)
            textured += spot->materials[spot->submeshes[s].material].maps[LDS_MESH_MAP_BASE_COLOR].texture == 0;
        LDS_CHECK_INT(textured, >=, 1);
        /* UVs about the unit square (the file has a few just outside) and not all the same */
        float umin = 1e9f, umax = -1e9f;
        for (size_t v = 0; spot->uvs && v < spot->vertex_count; v++) {
            LDS_CHECK(spot->uvs[2 * v + 1] >= -0.1f && spot->uvs[2 * v + 1] <= 1.1f);
            umin = spot->uvs[2 * v] < umin ? spot->uvs[2 * v] : umin;
            umax = spot->uvs[2 * v] > umax ? spot->uvs[2 * v] : umax;
        }
        LDS_CHECK(umax - umin > 0.5f);
        lds_mesh_model_destroy(spot);
    }

    /* an OFF goes through Assimp */
    lds_mesh_model *homer = import("corpus/remeshed/homer/homer.off", &ms);
    LDS_CHECK(homer != NULL);
    if (homer) {
        printf("import homer.off (Assimp): %zu triangles in %.1f ms\n", lds_mesh_triangle_count(homer), ms);
        LDS_CHECK_INT(lds_mesh_triangle_count(homer), >, 10000);
        lds_mesh_model_destroy(homer);
    }
    return lds_test_result();
}
