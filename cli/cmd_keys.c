/* cmd_keys.c: `lodestone keys init` (the notary's signing key) and `lodestone keys create` (API
 * keys for the HTTP service, stored hashed in Redis). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "api.h"
#include "proto.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: lodestone keys init [--name NAME]\n"
                 "       lodestone keys create --role modeler|studio|partner|ops [--name ACCOUNT]\n"
                 "       lodestone keys list\n"
                 "       lodestone keys revoke KEY_ID\n\n"
                 "init    creates the notary's Ed25519 key pair in $LODESTONE_HOME/keys unless it exists:\n"
                 "        notary.key (private, mode 0600) and notary.pub, the verifier key in C2SP\n"
                 "        signed-note form <name>+<hex key id>+<base64(0x01 || public key)>, which is\n"
                 "        printed. NAME is the key name and the log's origin (default\n"
                 "        $LODESTONE_LOG_ORIGIN or lodestone.example/log). Give notary.pub to anyone who\n"
                 "        verifies certificates.\n"
                 "create  makes an API key for the HTTP service (printed once, stored hashed). The key\n"
                 "        belongs to the account ACCOUNT (default: the role): certificates name it as owner.\n"
                 "list    one JSON line per key: {\"id\", \"role\", \"account\", \"created\"}; the id is\n"
                 "        a prefix of the key's hash (as the access log names keys), never the key.\n"
                 "revoke  deletes the key with that id (8 or more of its hex digits); the service stops\n"
                 "        accepting it within 5 s.\n");
}

static int keys_init(int argc, char **argv)
{
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else {
            return lds_cli_usage_error("keys init", "unexpected argument '%s'", argv[i]);
        }
    }
    const char *home = lds_home_dir();
    lds_error err;
    lds_error_clear(&err);
    char *verifier_key = NULL;
    int created = 0;
    if (lds_notary_keys_init(home, name, &verifier_key, &created, &err) != LDS_OK)
        return lds_cli_fail("keys init", "%s", err.message);
    fprintf(stderr, "lodestone: keys init: %s %s/keys/notary.key and notary.pub\n",
            created ? "created" : "kept the existing", home);
    printf("%s\n", verifier_key);
    free(verifier_key);
    return 0;
}

/* ---- API keys for the HTTP service, stored hashed in Redis ---- */
static int keys_create(int argc, char **argv)
{
    const char *role = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc) {
            role = argv[++i];
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else {
            return lds_cli_usage_error("keys create", "unexpected argument '%s'", argv[i]);
        }
    }
    if (role == NULL)
        return lds_cli_usage_error("keys create", "--role modeler|studio|partner|ops is required");
    lds_error err;
    lds_error_clear(&err);
    char key[LDS_API_KEY_MAX];
    if (lds_api_key_create(NULL, role, name, key, &err) != LDS_OK)
        return lds_cli_fail("keys create", "%s", err.message);
    fprintf(stderr, "lodestone: keys create: a %s key%s%s; it is shown only now\n", role, name ? " for " : "",
            name ? name : "");
    printf("%s\n", key);
    return 0;
}

static int keys_list(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc > 1)
        return lds_cli_usage_error("keys list", "unexpected argument '%s'", argv[1]);
    lds_error err;
    lds_error_clear(&err);
    json_t *keys = NULL;
    if (lds_api_key_list(NULL, &keys, &err) != LDS_OK)
        return lds_cli_fail("keys list", "%s", err.message);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        char *line = json_dumps(k, JSON_COMPACT);
        if (line)
            printf("%s\n", line);
        free(line);
    }
    json_decref(keys);
    return 0;
}

static int keys_revoke(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc != 2)
        return lds_cli_usage_error("keys revoke", "expected one KEY_ID (from `lodestone keys list`)");
    lds_error err;
    lds_error_clear(&err);
    if (lds_api_key_revoke(NULL, argv[1], &err) != LDS_OK)
        return lds_cli_fail("keys revoke", "%s", err.message);
    fprintf(stderr, "lodestone: keys revoke: key %s revoked\n", argv[1]);
    return 0;
}

int lds_cmd_keys(int argc, char **argv)
{
    if (argc < 2)
        return lds_cli_usage_error("keys", "expected a subcommand: init, create, list or revoke");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "init") == 0)
        return keys_init(argc - 1, argv + 1);
    if (strcmp(argv[1], "create") == 0)
        return keys_create(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return keys_list(argc - 1, argv + 1);
    if (strcmp(argv[1], "revoke") == 0)
        return keys_revoke(argc - 1, argv + 1);
    return lds_cli_usage_error("keys", "unknown subcommand '%s'", argv[1]);
}
