/* cmd_compare.c: `lodestone compare` (not built yet). */
#include <string.h>

#include "cli.h"

int lds_cmd_compare(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0)
        return 0;
    return lds_cli_fail("compare", "not implemented yet");
}
