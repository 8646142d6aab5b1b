/* replay.h - feed files to LLVMFuzzerTestOneInput without a fuzzing engine (prefix fz_replay). */
#ifndef VMSTRESS_FUZZ_REPLAY_H
#define VMSTRESS_FUZZ_REPLAY_H

/* Run every file named in paths[0..n) (directories: every regular file in
 * them, sorted, skipping dot files) through the target once. Returns the
 * number of inputs run, or -1 (with a message) when a path cannot be read.
 * A finding aborts the process, as under a fuzzer. */
long fz_replay_paths(char **paths, int n, int verbose);

/* Call LLVMFuzzerInitialize when the target defines one. */
void fz_replay_init(int *argc, char ***argv);

#endif
