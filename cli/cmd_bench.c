/* cmd_bench.c: `lodestone bench`: runs the benchmark program built in bench/ (lds_bench), handing
 * it this binary as the lodestone to measure. See bench/bench.c for what it measures. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_ARGS 64

int lds_cmd_bench(int argc, char **argv)
{
    char self[PATH_MAX], dir[PATH_MAX], program[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return lds_cli_fail("bench", "cannot find the lodestone binary");
    self[n] = 0;
    memcpy(dir, self, (size_t)n + 1);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    const char *env = lds_setting_text("LODESTONE_BENCH");
    if (env)
        snprintf(program, sizeof(program), "%s", env);
    else
        snprintf(program, sizeof(program), "%s/../bench/lds_bench", dir);
    if (access(program, X_OK) != 0)
        return lds_cli_fail("bench", "%s: benchmark program not built (build the bench/ target or set LODESTONE_BENCH)",
                            program);
    if (argc > MAX_ARGS)
        return lds_cli_usage_error("bench", "too many arguments");
    char *args[MAX_ARGS + 4];
    int k = 0;
    args[k++] = program;
    args[k++] = "--lodestone";
    args[k++] = self;
    for (int i = 1; i < argc; i++)
        args[k++] = argv[i];
    args[k] = NULL;
    fflush(NULL);
    execv(program, args);
    return lds_cli_fail("bench", "%s: cannot run it", program);
}
