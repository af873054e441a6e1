/* cmd_fingerprint.c: `lodestone fingerprint` (not built yet). */
#include <string.h>

#include "cli.h"

int lds_cmd_fingerprint(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0)
        return 0;
    return lds_cli_fail("fingerprint", "not implemented yet");
}
