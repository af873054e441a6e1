/* cmd_trace.c: `lodestone trace SUSPECT --asset ID`: which viewer's preview a leaked file came
 * from (DESIGN.md 6.7). Reads the issued previews from Redis, the LODs from the blob store and
 * the watermark key from $LODESTONE_HOME/keys; the suspect is parsed in the sandbox. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ingest.h"
#include "proto.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: lodestone trace SUSPECT --asset ID [--json] [--alpha P] [--no-sandbox]\n\n"
                 "Aligns SUSPECT (any model format) with the asset's preview base (principal axes, then\n"
                 "ICP with scale), correlates its displacements with the watermark of every preview issued\n"
                 "for the asset, and names the viewer whose preview it is when the best score's p-value,\n"
                 "Bonferroni-corrected over all those previews, is under P (default 1e-6); otherwise\n"
                 "nobody. --json prints {\"asset\", \"viewer\", \"preview\", \"score\", \"p_value\", ...}.\n"
                 "Redis: $LODESTONE_REDIS_URL, or the embedded server of $LODESTONE_HOME.\n");
}

int lds_cmd_trace(int argc, char **argv)
{
    const char *suspect_path = NULL, *asset = NULL;
    int json = 0, use_sandbox = 1;
    double alpha = 1e-6;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--asset") == 0 && i + 1 < argc) {
            asset = argv[++i];
        } else if (strcmp(argv[i], "--alpha") == 0 && i + 1 < argc) {
            char *end;
            alpha = strtod(argv[++i], &end);
            if (*end || !(alpha > 0 && alpha < 1))
                return lds_cli_usage_error("trace", "--alpha: expected a probability between 0 and 1");
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--no-sandbox") == 0) {
            use_sandbox = 0;
        } else if (argv[i][0] == '-' || suspect_path) {
            return lds_cli_usage_error("trace", "unexpected argument '%s'", argv[i]);
        } else {
            suspect_path = argv[i];
        }
    }
    if (suspect_path == NULL || asset == NULL)
        return lds_cli_usage_error("trace", "a SUSPECT file and --asset ID are required");
    lds_error err;
    lds_error_clear(&err);
    lds_limits limits;
    if (lds_limits_from_env(&limits, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    lds_sandbox_limits sl;
    lds_sandbox_limits_from(&sl, &limits);
    lds_mesh_model *suspect = NULL;
    if (lds_sandbox_import_file(suspect_path, &sl, use_sandbox, &suspect, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    char blobs[4096];
    snprintf(blobs, sizeof(blobs), "%s/blobs", lds_home_dir());
    lds_preview_keys *keys = NULL;
    lds_redis *redis = NULL;
    json_t *out = NULL;
    lds_status st = lds_preview_keys_open(lds_home_dir(), &keys, &err);
    if (st == LDS_OK)
        st = lds_redis_connect(NULL, &redis, &err);
    if (st == LDS_OK)
        st = lds_preview_trace(redis, blobs, keys, asset, suspect, alpha, &out, &err);
    lds_mesh_model_destroy(suspect);
    lds_redis_close(redis);
    lds_preview_keys_close(keys);
    lds_preview_cache_clear();
    if (st != LDS_OK)
        return lds_cli_fail("trace", "%s", err.message);
    if (json) {
        char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else if (json_is_string(json_object_get(out, "viewer"))) {
        printf("%s: leaked by %s (preview %s issued %s), score %.2f, p = %.3g over %lld previews\n", suspect_path,
               json_string_value(json_object_get(out, "viewer")), json_string_value(json_object_get(out, "preview")),
               json_string_value(json_object_get(out, "issued")), json_real_value(json_object_get(out, "score")),
               json_real_value(json_object_get(out, "p_value")),
               (long long)json_integer_value(json_object_get(out, "previews")));
    } else {
        printf("%s: no viewer stands out (best score %.2f, p = %.3g over %lld previews)\n", suspect_path,
               json_real_value(json_object_get(out, "score")), json_real_value(json_object_get(out, "p_value")),
               (long long)json_integer_value(json_object_get(out, "previews")));
    }
    json_decref(out);
    return 0;
}
