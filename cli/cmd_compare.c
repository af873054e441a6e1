/* cmd_compare.c: `lodestone compare A B`: whether two models have the same exact geometry and how
 * similar their shapes are (DESIGN.md 6.1, 6.3). Exit 0 whatever the verdict. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mesh.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: lodestone compare A B\n\n"
                 "Imports and cleans both models and prints\n"
                 "  {\"same_geometry\": bool, \"similarity\": 0..1, \"match\": bool}\n"
                 "same_geometry: the exact geometry fingerprints are equal (same triangles in any order or format).\n"
                 "similarity: of the robust shape fingerprints (1 = identical); match: the calibrated verdict\n"
                 "that B is a near copy of A (moved, scaled, remeshed, simplified, quantised or noisy).\n"
                 "Exit status 0 whatever the verdict, 1 when a model cannot be read, 2 on usage errors.\n");
}

int lds_cmd_compare(int argc, char **argv)
{
    const char *files[2];
    int file_count = 0, options_done = 0;
    for (int i = 1; i < argc; i++) {
        if (!options_done && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = 1;
            continue;
        }
        if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0')
            return lds_cli_usage_error("compare", "unknown option %s", argv[i]);
        if (file_count == 2)
            return lds_cli_usage_error("compare", "expected two files, got more");
        files[file_count++] = argv[i];
    }
    if (file_count != 2)
        return lds_cli_usage_error("compare", "expected two files A and B");
    char geometry[2][LDS_MESH_GEOMETRY_FP_MAX], shape[2][LDS_MESH_SHAPE_FP_MAX];
    lds_error err = {0};
    for (int i = 0; i < 2; i++)
        if (lds_cli_fingerprint_file(files[i], geometry[i], shape[i], &err) != LDS_OK)
            return lds_cli_fail_error(&err);
    double similarity = 0;
    int match = 0;
    if (lds_mesh_shape_compare(shape[0], shape[1], &similarity, &match, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    printf("{\"same_geometry\": %s, \"similarity\": %.4f, \"match\": %s}\n",
           strcmp(geometry[0], geometry[1]) == 0 ? "true" : "false", similarity, match ? "true" : "false");
    return 0;
}
