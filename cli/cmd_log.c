/* cmd_log.c: `lodestone log` (not built yet). */
#include <string.h>

#include "cli.h"

int lds_cmd_log(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0)
        return 0;
    return lds_cli_fail("log", "not implemented yet");
}
