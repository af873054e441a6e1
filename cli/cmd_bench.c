/* cmd_bench.c: `lodestone bench` (not built yet). */
#include <string.h>

#include "cli.h"

int lds_cmd_bench(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0)
        return 0;
    return lds_cli_fail("bench", "not implemented yet");
}
