/* test_sandbox_hostile.c: the hostile set through lds_sandbox_import_file (issue 5): every file of
 * assimp-testmodels' invalid/ folders, truncations and byte flips of real files, lying headers,
 * NaN coordinates, indices out of range, empty and random files, a zip bomb inside a 3MF. Each
 * must end in an error (or, for a mutated file that still makes sense, a valid model), never a
 * signal to this process, and every error must name the file. The set (hostile_set.c, its wide
 * form) is generated at test time. */
#include "hostile_set.h"
#include "sandbox.h"
#include "testlib.h"

static lds_sandbox_limits limits;
static const char *tmp;
static int parsed, refused, crashed;

/* must_fail: 1 the file must be refused, 0 either outcome is fine. */
static void try_file(const char *path, int must_fail)
{
    lds_mesh_model *model = NULL;
    lds_error err;
    lds_error_clear(&err);
    lds_status st = lds_sandbox_import_file(path, &limits, 1, &model, &err);
    const char *base = lds_path_basename(path);
    if (st == LDS_OK) {
        parsed++;
        LDS_CHECK(model != NULL);
        if (must_fail) {
            fprintf(stderr, "%s: parsed, but it should have been refused\n", path);
            lds_test_failures++;
        }
        lds_mesh_model_destroy(model);
        return;
    }
    refused++;
    LDS_CHECK(model == NULL);
    if (st == LDS_ECRASH) {
        crashed++;
        fprintf(stderr, "  %s\n", err.message);
    }
    if (strstr(err.message, base) == NULL) {
        fprintf(stderr, "%s: the error does not name the file: %s: %s\n", path, lds_status_name(st), err.message);
        lds_test_failures++;
    }
}

int main(void)
{
    tmp = lds_test_tmpdir("sandbox_hostile");
    memset(&limits, 0, sizeof(limits));
    limits.wall_seconds = 20;
    limits.memory_bytes = 1024ull << 20;

    lds_hostile_file *files = NULL;
    size_t count = lds_hostile_make(tmp, 24, 1, &files);
    LDS_CHECK(count > 0);
    for (size_t i = 0; i < count; i++) /* the importer reads the no-geometry ones; the pipeline refuses them */
        try_file(files[i].path, files[i].must_fail && !files[i].no_geometry);
    free(files);
    fprintf(stderr, "hostile set: %d parsed, %d refused (%d parser crashes contained)\n", parsed, refused, crashed);
    return lds_test_result();
}
