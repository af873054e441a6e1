/* cmd_verify.c: `lodestone verify CERT [--model FILE] [--key PUB] [--json]`: checks a birth
 * certificate offline with nothing but the bundle and the notary's verifier key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "mesh.h"
#include "proto.h"
#include "sandbox.h"

/* The exact geometry fingerprint of a model file, parsed in the sandbox (the file may be hostile:
 * a suspected stolen copy), then cleaned as the pipeline cleans before fingerprinting. */
static lds_status model_fingerprint(const char *path, char out[LDS_MESH_GEOMETRY_FP_MAX], lds_error *err)
{
    lds_limits limits;
    lds_sandbox_limits sandbox_limits;
    lds_status status = lds_limits_from_env(&limits, err);
    if (status != LDS_OK)
        return status;
    lds_sandbox_limits_from(&sandbox_limits, &limits);
    lds_mesh_model *model = NULL;
    status = lds_sandbox_import_file(path, &sandbox_limits, 1, &model, err);
    if (status == LDS_OK)
        status = lds_mesh_clean(model, NULL, err);
    if (status == LDS_OK)
        status = lds_mesh_fingerprint_geometry(model, out, err);
    lds_mesh_model_destroy(model);
    return status;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lodestone verify CERT [--model FILE] [--key PUB] [--json]\n\n"
            "Verifies a certificate bundle (certificate.json): the DSSE signature over the in-toto\n"
            "statement, the inclusion of the signed bytes in the transparency log under the signed\n"
            "checkpoint, and the checkpoint's signature. Works offline.\n"
            "  --model FILE  also check that FILE's geometry is the certified one (exact fingerprint,\n"
            "                any lossless format; FILE is parsed in the sandbox)\n"
            "  --key PUB     verifier key file (default $LODESTONE_HOME/keys/notary.pub)\n"
            "  --json        print {\"valid\", \"logIndex\", \"treeSize\", \"origin\", \"geometry\"}\n"
            "Exit 0 valid, 1 invalid (the reason on stderr), 2 usage.\n");
}

int lds_cmd_verify(int argc, char **argv)
{
    const char *cert = NULL, *model = NULL, *key = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            model = argv[++i];
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            return lds_cli_usage_error("verify", "unknown option '%s'", argv[i]);
        } else if (cert == NULL) {
            cert = argv[i];
        } else {
            return lds_cli_usage_error("verify", "one certificate at a time ('%s')", argv[i]);
        }
    }
    if (cert == NULL)
        return lds_cli_usage_error("verify", "expected a certificate file");
    char default_key[4200];
    if (key == NULL) {
        snprintf(default_key, sizeof(default_key), "%s/keys/notary.pub", lds_home_dir());
        key = default_key;
    }
    lds_error err;
    lds_error_clear(&err);
    unsigned char *bundle = NULL, *pub = NULL;
    size_t bundle_size = 0, pub_size = 0;
    if (lds_file_read(key, 4096, &pub, &pub_size, &err) != LDS_OK)
        return lds_cli_fail("verify", "verifier key: %s", err.message);
    if (lds_file_read(cert, LDS_CERT_MAX, &bundle, &bundle_size, &err) != LDS_OK) {
        free(pub);
        return lds_cli_fail("verify", "%s", err.message);
    }
    lds_cert_info info;
    int rc = 0;
    if (lds_cert_verify((const char *)bundle, bundle_size, (const char *)pub, pub_size, &info, &err) != LDS_OK) {
        rc = lds_cli_fail("verify", "%s: invalid: %s", cert, err.message);
        goto out;
    }
    if (model != NULL) {
        char geometry[LDS_MESH_GEOMETRY_FP_MAX];
        if (info.geometry[0] == 0) {
            rc = lds_cli_fail("verify", "%s: invalid: the certificate states no geometry to compare --model with", cert);
            goto out;
        }
        if (model_fingerprint(model, geometry, &err) != LDS_OK) {
            rc = lds_cli_fail("verify", "%s: cannot fingerprint --model: %s", cert, err.message);
            goto out;
        }
        if (strcmp(geometry, info.geometry) != 0) {
            rc = lds_cli_fail("verify", "%s: invalid: %s has geometry %s, the certificate states %s", cert, model,
                              geometry, info.geometry);
            goto out;
        }
    }
    /* The owner is the account the service authenticated; a claimed owner is what the uploader
     * typed, which nobody vouched for. */
    json_t *statement = json_loadb(info.statement_json, info.statement_size, 0, NULL);
    json_t *predicate = json_object_get(statement, "predicate");
    const char *owner = json_string_value(json_object_get(predicate, "owner"));
    const char *claimed = json_string_value(json_object_get(predicate, "claimed_owner"));
    if (json) {
        json_t *out = json_pack("{s:b,s:I,s:I,s:s,s:s,s:b,s:s?,s:s?}", "valid", 1, "logIndex",
                                (json_int_t)info.log_index, "treeSize", (json_int_t)info.tree_size, "origin",
                                info.origin, "geometry", info.geometry, "model", model != NULL, "owner", owner,
                                "claimed_owner", claimed);
        if (out)
            json_dumpf(out, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(out);
    } else {
        printf("valid: %s: log %s entry %llu of %llu, geometry %s%s%s\n", cert, info.origin,
               (unsigned long long)info.log_index, (unsigned long long)info.tree_size,
               info.geometry[0] ? info.geometry : "(none)", model ? ", matches " : "", model ? model : "");
        if (owner)
            printf("owner: %s%s%s%s\n", owner, claimed ? " (claimed owner \"" : "", claimed ? claimed : "",
                   claimed ? "\", not verified)" : "");
    }
    json_decref(statement);
out:
    lds_cert_info_cleanup(&info);
    free(bundle);
    free(pub);
    return rc;
}
