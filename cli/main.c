/* main.c: `lodestone`, the one front end. Dispatches to a subcommand in cli/cmd_*.c. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ingest.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"process", lds_cmd_process, "run the whole pipeline on one model, offline"},
    {"fingerprint", lds_cmd_fingerprint, "print the geometry and shape fingerprints of models"},
    {"compare", lds_cmd_compare, "compare the shapes of two models"},
    {"verify", lds_cmd_verify, "verify a certificate (signature, log inclusion, model)"},
    {"keys", lds_cmd_keys, "the notary key; API keys: create, list, revoke"},
    {"log", lds_cmd_log, "transparency log: checkpoint, consistency, verify"},
    {"serve", lds_cmd_serve, "run the HTTP API, workers and notary (starts its own Redis)"},
    {"worker", lds_cmd_worker, "run workers against an existing Redis"},
    {"deposit", lds_cmd_deposit, "upload an archive of models with a manifest"},
    {"reprocess", lds_cmd_reprocess, "re-run the pipeline over assets (ops)"},
    {"queue", lds_cmd_queue, "show queue depths, retries, dead letters (ops)"},
    {"trace", lds_cmd_trace, "name the viewer whose preview a leaked file came from (ops)"},
    {"recover", lds_cmd_recover, "sweep records left without jobs; collect unreferenced blobs (ops)"},
    {"bench", lds_cmd_bench, "benchmark the pipeline against gltfpack and draco_encoder"},
    {"catalogue", lds_cmd_catalogue, "search the catalogue over HTTP; reindex it (ops)"},
    {"licenses", lds_cmd_licenses, "grant (ops) and list an asset's licences over HTTP"},
    {"valuation", lds_cmd_valuation, "refit the valuation model (fit --history FILE.jsonl)"},
    {"value", lds_cmd_value, "value a listing or a processed model offline"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: lodestone <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`lodestone <command> --help` describes a command. Data directory: $LODESTONE_HOME "
                 "(default ./lodestone-data).\n");
}

int lds_cli_fail(const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lodestone: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int lds_cli_fail_error(const lds_error *err)
{
    fprintf(stderr, "lodestone: %s\n", err->message[0] ? err->message : lds_status_message(err->code));
    return 1;
}

int lds_cli_usage_error(const char *command_name, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lodestone %s: ", command_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see `lodestone %s --help`)\n", command_name);
    return 2;
}

volatile sig_atomic_t lds_cli_stop;

static void on_stop_signal(int sig)
{
    lds_cli_stop = 1;
}

void lds_cli_catch_stop_signals(int catch_int)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    if (catch_int)
        sigaction(SIGINT, &sa, NULL);
    else
        signal(SIGINT, SIG_IGN);
}

int lds_cli_probe_queue(void)
{
    lds_error err;
    lds_error_clear(&err);
    lds_redis *probe = NULL;
    lds_status st = lds_redis_connect(NULL, &probe, &err);
    if (st == LDS_OK)
        st = lds_queue_setup(probe, &err);
    lds_redis_close(probe);
    return st == LDS_OK ? 0 : lds_cli_fail_error(&err);
}

int lds_cli_is_tty(void)
{
    return isatty(STDERR_FILENO);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (lds_crypto_init() != LDS_OK) {
        fprintf(stderr, "lodestone: libsodium: initialisation failed\n");
        return 1;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lodestone %s\n", LDS_VERSION);
        return 0;
    }
    lds_error err = {0};
    if (lds_settings_check(&err) != LDS_OK)
        return lds_cli_fail_error(&err);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "lodestone: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
