/* cli.h: the subcommands of the single `lodestone` binary and the helpers they share.
 * Only cli/ decides to exit; commands return the process exit code: 0 ok, 1 failure, 2 usage. */
#ifndef LDS_CLI_H
#define LDS_CLI_H

#include <signal.h>

#include "common.h"

/* Prints "lodestone: <what>: <why>" to stderr and returns 1. */
int lds_cli_fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "lodestone: <error message>" for an lds_error and returns 1. */
int lds_cli_fail_error(const lds_error *err);
/* Prints "lodestone <command>: <why>" and a hint to use --help, returns 2. */
int lds_cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Installs handlers that set *lds_cli_stop (SIGTERM always, SIGINT when catch_int). */
extern volatile sig_atomic_t lds_cli_stop;
void lds_cli_catch_stop_signals(int catch_int);
/* Connects to the configured Redis (starting the embedded one if needed) and creates the queue's
 * streams, so that a service command fails at once with a clear message; returns 0 or the exit
 * code of the failure. */
int lds_cli_probe_queue(void);
/* True when stderr is a terminal (progress lines are shown only then). */
int lds_cli_is_tty(void);

/* Writes s as a JSON string literal (quoted, escaped) to out. */
void lds_cli_json_string(FILE *out, const char *s);
/* Imports, cleans and fingerprints one model file (cmd_fingerprint.c). Errors start with path.
 * geometry and shape hold LDS_MESH_GEOMETRY_FP_MAX and LDS_MESH_SHAPE_FP_MAX bytes. */
lds_status lds_cli_fingerprint_file(const char *path, char *geometry, char *shape, lds_error *err);

int lds_cmd_process(int argc, char **argv);
int lds_cmd_fingerprint(int argc, char **argv);
int lds_cmd_compare(int argc, char **argv);
int lds_cmd_verify(int argc, char **argv);
int lds_cmd_keys(int argc, char **argv);
int lds_cmd_log(int argc, char **argv);
int lds_cmd_serve(int argc, char **argv);
int lds_cmd_worker(int argc, char **argv);
int lds_cmd_deposit(int argc, char **argv);
int lds_cmd_reprocess(int argc, char **argv);
int lds_cmd_queue(int argc, char **argv);
int lds_cmd_bench(int argc, char **argv);
int lds_cmd_trace(int argc, char **argv);
int lds_cmd_valuation(int argc, char **argv);
int lds_cmd_value(int argc, char **argv);
int lds_cmd_recover(int argc, char **argv);
int lds_cmd_catalogue(int argc, char **argv);
int lds_cmd_licenses(int argc, char **argv);

#endif
