/*
 * cmd_info.c - what this build is and what it holds: `vmstress --version`
 * and `vmstress list`. Everything listed comes from the registries (boards,
 * device types) and the build's guest folder, so a new device or program
 * shows up without touching this file.
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_version.h"   /* generated at build time (version.cmake) */
#include "machine.h"

void cli_print_version(FILE *f)
{
    fprintf(f, "%s %s%s%s\n", cli_program, VMSTRESS_VERSION, VMSTRESS_GIT_DESCRIBE[0] ? " (git " : "",
            VMSTRESS_GIT_DESCRIBE[0] ? VMSTRESS_GIT_DESCRIBE ")" : "");
}

static const char list_usage[] =
    "usage: vmstress list [boards|machine-types|workloads|devices]\n"
    "\n"
    "Print what this build holds, one item a line under a heading: boards\n"
    "(--board), machine types (the name a stream's configuration section\n"
    "carries; versioned ones keep their format across releases, an alias such\n"
    "as vmstress-m0 stands for the newest and promises nothing), workloads (the guest programs of the build, for --workload;\n"
    "$VMSTRESS_GUEST_DIR overrides where they are looked for) and device\n"
    "types (from devices/devices.def). With a word, only that list.\n"
    "\n"
    "Exit status: 0 listed; 2 on a usage error.\n";

static void list_boards(void)
{
    for (size_t i = 0; mach_boards[i]; i++)
        printf("  %-20s %s\n", mach_boards[i]->name, mach_boards[i]->summary);
}

/* Every machine type a stream may name, then the aliases: an alias names
 * no stream of its own, it stands for the newest type carrying it. */
static void list_machine_types(void)
{
    for (size_t i = 0; mach_boards[i]; i++) {
        const Board *b = mach_boards[i];
        if (b->version)
            printf("  %-20s versioned: release %u.%u's devices and format, in every later release\n",
                   b->name, b->version / 1000, b->version % 1000);
        else
            printf("  %-20s unversioned (promises nothing across releases)\n", b->name);
    }
    for (size_t i = 0; mach_boards[i]; i++) {
        const Board *b = mach_boards[i];
        if (b->alias && mach_board_find(b->alias) == b)
            printf("  %-20s alias of %s (newest; promises nothing across releases)\n", b->alias, b->name);
    }
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_elf(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 4 && !strcmp(d->d_name + n - 4, ".elf");
}

/* The programs of one guest folder, "<prefix><stem>" each, sorted. */
static void list_elves(const char *dir, const char *prefix, const char *note)
{
    struct dirent **names;
    int n = scandir(dir, &names, is_elf, by_name);
    for (int i = 0; i < n; i++) {
        printf("  %s%.*s%s\n", prefix, (int)(strlen(names[i]->d_name) - 4), names[i]->d_name, note);
        free(names[i]);
    }
    if (n > 0)
        free(names);
}

static void list_workloads(void)
{
    char small[4096];
    const char *dir = cli_guest_dir();
    snprintf(small, sizeof(small), "%s/small", dir);
    list_elves(dir, "", "");
    list_elves(small, "small/", "  (built for vmstress-m0-small)");
}

static void list_devices(void)
{
    for (size_t i = 0; i < dev_n_types; i++)
        printf("  %-20s %s\n", dev_types[i]->name, dev_types[i]->summary ? dev_types[i]->summary : "");
}

static const struct {
    const char *name;
    void (*print)(void);
} lists[] = {
    { "boards", list_boards },
    { "machine-types", list_machine_types },
    { "workloads", list_workloads },
    { "devices", list_devices },
};

int cmd_list(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--help")) {
        fputs(list_usage, stdout);
        return 0;
    }
    if (argc > 2) {
        fprintf(stderr, "vmstress list: want at most one list name, got '%s' (see --help)\n", argv[2]);
        return 2;
    }
    bool found = false;
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (argc == 2 && strcmp(argv[1], lists[i].name))
            continue;
        found = true;
        printf("%s:\n", lists[i].name);
        lists[i].print();
    }
    if (!found) {
        fprintf(stderr, "vmstress list: unknown list '%s' (boards, machine-types, workloads, devices)\n", argv[1]);
        return 2;
    }
    return 0;
}
