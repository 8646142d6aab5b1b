/* cli_common.c - helpers shared by subcommands. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "savevm.h"

#ifndef VMSTRESS_GUEST_DIR
#define VMSTRESS_GUEST_DIR "guest"
#endif

const char *cli_program = "vmstress";

const char *cli_guest_dir(void)
{
    const char *dir = getenv("VMSTRESS_GUEST_DIR");
    return dir && *dir ? dir : VMSTRESS_GUEST_DIR;
}

bool cli_guest_path(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s.elf", cli_guest_dir(), name);
    if (access(out, R_OK) == 0)
        return true;
    fprintf(stderr, "vmstress: no guest program '%s' (looked for %s; build it, or pass --firmware)\n",
            name, out);
    return false;
}

bool cli_read_file(const char *cmd, const char *path, uint8_t **buf, size_t *len)
{
    VmsMsg why;
    if (!vms_read_input(path, CLI_STREAM_MAX, buf, len, &why)) {
        fprintf(stderr, "vmstress %s: %s\n", cmd, why.text);
        return false;
    }
    return true;
}

bool cli_add_plant(const char *cmd, const char **plants, size_t max, size_t *n, const char *arg)
{
    if (*n == max) {
        fprintf(stderr, "vmstress %s: too many --plant options (at most %zu)\n", cmd, max);
        return false;
    }
    plants[(*n)++] = arg;
    return true;
}

void cli_options_begin(void)
{
    optind = 1;
    opterr = 0;
}

int cli_bad_option(const char *cmd, char **argv)
{
    fprintf(stderr, "vmstress %s: unknown option or missing value '%s' (see --help)\n", cmd, argv[optind - 1]);
    return 2;
}

bool cli_no_arguments(const char *cmd, int argc, char **argv)
{
    if (optind >= argc)
        return true;
    fprintf(stderr, "vmstress %s: unexpected argument '%s' (see --help)\n", cmd, argv[optind]);
    return false;
}

#define GUEST_PREFIX "guest/"

const char *cli_firmware_name(const char *path, char *out, size_t n)
{
    char dir[PATH_MAX], file[PATH_MAX];
    size_t dl;
    /* Compare real paths, so "./build/default/guest/../guest/all.elf" is found too. */
    if (realpath(cli_guest_dir(), dir) && realpath(path, file) && (dl = strlen(dir)) &&
        !strncmp(file, dir, dl) && file[dl] == '/')
        snprintf(out, n, GUEST_PREFIX "%s", file + dl + 1);
    else
        snprintf(out, n, "%s", path);
    return out;
}

const char *cli_firmware_path(const char *name, char *out, size_t n)
{
    if (!strncmp(name, GUEST_PREFIX, strlen(GUEST_PREFIX)))
        snprintf(out, n, "%s/%s", cli_guest_dir(), name + strlen(GUEST_PREFIX));
    else
        snprintf(out, n, "%s", name);
    return out;
}

bool cli_parse_duration(const char *s, double *out)
{
    static const struct { char unit; uint64_t secs; } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 } };
    char *end;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    uint64_t mul = 0;
    if (s[0] >= '0' && s[0] <= '9' && !errno) {
        if (!*end)
            mul = 1;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !mul; i++)
            if (end[0] == units[i].unit && !end[1])
                mul = units[i].secs;
    }
    if (!mul || v == 0 || v > UINT32_MAX / mul) {
        fprintf(stderr, "vmstress: --duration wants a positive time like 90, 30s, 10m or 1h, got '%s'\n", s);
        return false;
    }
    *out = (double)(v * mul);
    return true;
}

void cli_catch_stop_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
