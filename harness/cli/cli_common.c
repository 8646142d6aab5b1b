/* cli_common.c - helpers shared by subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

#ifndef VMSTRESS_GUEST_DIR
#define VMSTRESS_GUEST_DIR "guest"
#endif

bool cli_guest_path(const char *name, char *out, size_t n)
{
    const char *dir = getenv("VMSTRESS_GUEST_DIR");
    if (!dir || !*dir)
        dir = VMSTRESS_GUEST_DIR;
    snprintf(out, n, "%s/%s.elf", dir, name);
    if (access(out, R_OK) == 0)
        return true;
    fprintf(stderr, "vmstress: no guest program '%s' (looked for %s; build it, or pass --firmware)\n",
            name, out);
    return false;
}
