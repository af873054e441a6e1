/* cmd_log.c: `lodestone log checkpoint | consistency OLD | verify | proof INDEX`, the
 * transparency log seen from the command line (DESIGN.md 6.4). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "proto.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lodestone log checkpoint\n"
            "       lodestone log consistency OLD_CHECKPOINT_FILE\n"
            "       lodestone log verify\n"
            "       lodestone log proof INDEX\n\n"
            "The transparency log in $LODESTONE_HOME/log (RFC 9162 Merkle tree, C2SP checkpoints).\n"
            "checkpoint   prints the current signed checkpoint (save it to check consistency later)\n"
            "consistency  checks OLD_CHECKPOINT_FILE's signature, proves that the current log extends\n"
            "             it, verifies the proof and prints it as JSON; exit 1 if it does not\n"
            "verify       audits the storage: re-reads every entry, recomputes every hash and the root,\n"
            "             checks the checkpoint's signature; exit 1 naming the first fault\n"
            "proof        prints the inclusion proof of entry INDEX in the current tree as JSON\n");
}

static int open_notary(const char *what, lds_notary **notary)
{
    lds_error err;
    lds_error_clear(&err);
    if (lds_notary_open(lds_home_dir(), notary, &err) != LDS_OK) {
        lds_cli_fail(what, "%s", err.message);
        return 1;
    }
    return 0;
}

static int log_checkpoint(void)
{
    lds_notary *notary = NULL;
    if (open_notary("log checkpoint", &notary))
        return 1;
    lds_error err;
    lds_error_clear(&err);
    char *note = NULL;
    int rc = 0;
    if (lds_notary_checkpoint(notary, &note, &err) != LDS_OK)
        rc = lds_cli_fail("log checkpoint", "%s", err.message);
    else
        fputs(note, stdout);
    free(note);
    lds_notary_close(notary);
    return rc;
}

static int log_consistency(const char *old_path)
{
    lds_error err;
    lds_error_clear(&err);
    unsigned char *old = NULL;
    size_t old_size = 0;
    if (lds_file_read(old_path, LDS_NOTE_MAX, &old, &old_size, &err) != LDS_OK)
        return lds_cli_fail("log consistency", "%s", err.message);
    lds_notary *notary = NULL;
    if (open_notary("log consistency", &notary)) {
        free(old);
        return 1;
    }
    char *json = NULL;
    lds_checkpoint old_cp, new_cp;
    int rc = 0;
    if (lds_notary_check_consistency(notary, (const char *)old, old_size, &old_cp, &new_cp, &json, &err) != LDS_OK) {
        rc = lds_cli_fail("log consistency", "%s: %s", old_path, err.message);
    } else {
        printf("%s\n", json);
        fprintf(stderr, "lodestone: log consistency: the log at size %llu extends %s (size %llu)\n",
                (unsigned long long)new_cp.size, old_path, (unsigned long long)old_cp.size);
    }
    free(json);
    free(old);
    lds_notary_close(notary);
    return rc;
}

static int log_verify(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_log_audit_result result;
    if (lds_crypto_init() != LDS_OK)
        return lds_cli_fail("log verify", "libsodium: initialisation failed");
    if (lds_log_audit(lds_home_dir(), &result, &err) != LDS_OK)
        return lds_cli_fail("log verify", "%s", err.message);
    char root[LDS_SHA256_HEX];
    lds_hex_encode(result.root, sizeof(result.root), root);
    printf("ok: %llu entries, %llu bytes, root %s, checkpoint signature valid\n", (unsigned long long)result.tree_size,
           (unsigned long long)result.entry_bytes, root);
    if (result.tail_bytes)
        printf("note: %llu unpublished bytes past the checkpoint (an interrupted append; the next append cuts "
               "them)\n",
               (unsigned long long)result.tail_bytes);
    return 0;
}

static int log_proof(const char *text)
{
    char *end = NULL;
    errno = 0;
    unsigned long long index = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-')
        return lds_cli_usage_error("log proof", "INDEX '%s' is not a number", text);
    lds_notary *notary = NULL;
    if (open_notary("log proof", &notary))
        return 1;
    lds_error err;
    lds_error_clear(&err);
    char *json = NULL;
    int rc = 0;
    if (lds_notary_inclusion_json(notary, index, &json, &err) != LDS_OK)
        rc = lds_cli_fail("log proof", "%s", err.message);
    else
        printf("%s\n", json);
    free(json);
    lds_notary_close(notary);
    return rc;
}

int lds_cmd_log(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    if (argc < 2)
        return lds_cli_usage_error("log", "expected a subcommand: checkpoint, consistency, verify or proof");
    const char *sub = argv[1];
    if (strcmp(sub, "checkpoint") == 0 && argc == 2)
        return log_checkpoint();
    if (strcmp(sub, "verify") == 0 && argc == 2)
        return log_verify();
    if (strcmp(sub, "consistency") == 0 && argc == 3)
        return log_consistency(argv[2]);
    if (strcmp(sub, "proof") == 0 && argc == 3)
        return log_proof(argv[2]);
    if (strcmp(sub, "checkpoint") == 0 || strcmp(sub, "verify") == 0 || strcmp(sub, "consistency") == 0 ||
        strcmp(sub, "proof") == 0)
        return lds_cli_usage_error("log", "wrong arguments for '%s'", sub);
    return lds_cli_usage_error("log", "unknown subcommand '%s'", sub);
}
