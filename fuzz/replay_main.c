/*
 * replay_main.c - the plain driver: main() for builds without a fuzzing
 * engine (gcc default and asan builds). Every file of the given files and
 * folders goes through LLVMFuzzerTestOneInput once; a finding aborts, so
 * ctest fails. This is how seeds and regressions are replayed in CI.
 *
 *   fuzz_load [-v] FILE|DIR...
 */
#include <stdio.h>
#include <string.h>

#include "replay.h"

int main(int argc, char **argv)
{
    fz_replay_init(&argc, &argv);
    int first = 1, verbose = 0;
    if (argc > 1 && !strcmp(argv[1], "-v")) {
        verbose = 1;
        first = 2;
    }
    if (argc <= first || !strcmp(argv[first], "--help") || !strcmp(argv[first], "-h")) {
        fprintf(argc <= first ? stderr : stdout,
                "usage: %s [-v] FILE|DIR...\n"
                "Runs every input once through the target (no fuzzing); a finding aborts.\n",
                argv[0]);
        return argc <= first ? 2 : 0;
    }
    long n = fz_replay_paths(argv + first, argc - first, verbose);
    if (n < 0)
        return 2;
    printf("%s: %ld inputs replayed, no findings\n", argv[0], n);
    return 0;
}
