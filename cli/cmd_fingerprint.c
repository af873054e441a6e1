/* cmd_fingerprint.c: `lodestone fingerprint FILE...`: one JSON line per file with its exact
 * geometry fingerprint and its robust shape fingerprint (DESIGN.md 6.1, 6.3). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mesh.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: lodestone fingerprint FILE...\n\n"
                 "Imports each model, cleans it (welds bit-identical vertices, drops degenerate and duplicate\n"
                 "triangles) and prints one JSON object per line:\n"
                 "  {\"file\": \"bust.ply\", \"geometry\": \"lds-geom-1:<hex>\", \"shape\": \"lds-shape-1:<text>\"}\n"
                 "or {\"file\": ..., \"error\": \"why\"} for a file that fails. Exit status 1 if any failed.\n"
                 "`lodestone compare A B` compares two models' shapes.\n");
}

void lds_cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

lds_status lds_cli_fingerprint_file(const char *path, char *geometry, char *shape, lds_error *err)
{
    lds_mesh_model *model = NULL;
    lds_error inner = {0};
    lds_status status = lds_mesh_import_file(path, 0, NULL, &model, &inner);
    if (status == LDS_OK)
        status = lds_mesh_clean(model, NULL, &inner);
    if (status == LDS_OK)
        status = lds_mesh_fingerprint_geometry(model, geometry, &inner);
    if (status == LDS_OK)
        status = lds_mesh_fingerprint_shape(model, shape, &inner);
    lds_mesh_model_destroy(model);
    if (status != LDS_OK) {
        /* name the file once: importers already start their messages with it */
        const char *why = inner.message[0] ? inner.message : lds_status_message(status);
        const char *base = lds_path_basename(path);
        size_t skip = 0;
        if (strncmp(why, path, strlen(path)) == 0 && strncmp(why + strlen(path), ": ", 2) == 0)
            skip = strlen(path) + 2;
        else if (strncmp(why, base, strlen(base)) == 0 && strncmp(why + strlen(base), ": ", 2) == 0)
            skip = strlen(base) + 2;
        lds_error_set(err, status, "%s: %s", path, why + skip);
    }
    return status;
}

int lds_cmd_fingerprint(int argc, char **argv)
{
    int first = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--") == 0) {
            first = i + 1;
            break;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return lds_cli_usage_error("fingerprint", "unknown option %s", argv[i]);
    }
    if (first >= argc)
        return lds_cli_usage_error("fingerprint", "no FILE given");
    int failed = 0;
    for (int i = first; i < argc; i++) {
        char geometry[LDS_MESH_GEOMETRY_FP_MAX], shape[LDS_MESH_SHAPE_FP_MAX];
        lds_error err = {0};
        fputs("{\"file\": ", stdout);
        lds_cli_json_string(stdout, argv[i]);
        if (lds_cli_fingerprint_file(argv[i], geometry, shape, &err) == LDS_OK) {
            printf(", \"geometry\": \"%s\", \"shape\": \"%s\"}\n", geometry, shape);
        } else {
            /* the JSON error is the reason; the file is already the "file" member */
            const char *why = err.message + strlen(argv[i]) + 2;
            fputs(", \"error\": ", stdout);
            lds_cli_json_string(stdout, why);
            fputs("}\n", stdout);
            fflush(stdout);
            lds_cli_fail_error(&err);
            failed = 1;
        }
        fflush(stdout);
    }
    return failed;
}
