/* test_lod_corpus.c: the LOD chain on the corpus scans (real meshes with holes, slivers and
 * non-manifold bits): each level from the previous one hits 1/2, 1/4, 1/8, 1/16 of LOD0 within 5%,
 * the deviation from LOD0 rises along the chain and stays small, every level validates. Skips when
 * ../shared/corpus is absent. */
#include <stdio.h>
#include <string.h>

#include "mesh.h"
#include "testlib.h"

static void check_scan(const char *relative)
{
    char path[4096];
    if (lds_test_shared(relative, path, sizeof(path)) == NULL)
        lds_test_skip("no ../shared corpus");
    lds_error err;
    lds_error_clear(&err);
    lds_mesh_model *lod0 = NULL;
    LDS_CHECK_OK(lds_mesh_import_file(path, 0, NULL, &lod0, &err), &err);
    if (lod0 == NULL)
        return;
    LDS_CHECK_OK(lds_mesh_optimize(lod0, &err), &err);
    LDS_CHECK_OK(lds_mesh_model_validate(lod0, relative, &err), &err);
    size_t base = lds_mesh_triangle_count(lod0);
    LDS_CHECK(base > 50000);
    lds_mesh_model *levels[4] = {0};
    const lds_mesh_model *prev = lod0;
    double last = 0;
    lds_mesh_deviation_ref *ref = NULL;
    LDS_CHECK_OK(lds_mesh_deviation_ref_create(lod0, &ref, &err), &err);
    for (int l = 0; l < 4; l++) {
        size_t target = base >> (l + 1);
        double t0 = lds_time_ms();
        LDS_CHECK_OK(lds_mesh_simplify(prev, target, &levels[l], NULL, &err), &err);
        if (levels[l] == NULL)
            break;
        double t1 = lds_time_ms(), error = -1, mean = -1;
        LDS_CHECK_OK(lds_mesh_deviation_measure(ref, levels[l], &error, &mean, &err), &err);
        size_t got = lds_mesh_triangle_count(levels[l]);
        fprintf(stderr, "%s lod%d: %zu triangles (target %zu), error %.5f, mean %.6f (simplify %.0f ms, deviation %.0f ms)\n",
                relative, l + 1, got, target, error, mean, t1 - t0, lds_time_ms() - t1);
        LDS_CHECK_OK(lds_mesh_model_validate(levels[l], relative, &err), &err);
        LDS_CHECK(got <= target + target / 20 + 1);
        LDS_CHECK(got + target / 20 + 1 >= target);
        LDS_CHECK(error > last);
        LDS_CHECK(error < 0.02);
        last = error;
        prev = levels[l];
    }
    for (int l = 0; l < 4; l++)
        lds_mesh_model_destroy(levels[l]);
    lds_mesh_deviation_ref_destroy(ref);
    lds_mesh_model_destroy(lod0);
}

int main(void)
{
    check_scan("corpus/scans/nefertiti.obj");
    check_scan("corpus/scans/igea.ply");
    check_scan("corpus/scans/horse.ply");
    check_scan("corpus/scans/stanford-bunny.obj");
    return lds_test_result();
}
