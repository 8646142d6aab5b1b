/*
 * afl_main.c - AFL++ persistent-mode driver (VMSTRESS_AFL, afl-clang-fast).
 *
 * Test cases come through shared memory (__AFL_FUZZ_TESTCASE_BUF) and one
 * process runs up to 10000 of them (__AFL_LOOP); targets reset everything
 * they touch per input (mach_load resets the machine), which AFL++'s
 * stability figure confirms. Initialisation (board, firmware) happens once,
 * before the fork server starts (__AFL_INIT).
 *
 * Outside afl-fuzz, file and folder arguments are replayed like the plain
 * driver, so `fuzz_load crash-file` reproduces a finding with this binary.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__AFL_FUZZ_INIT();

int main(int argc, char **argv)
{
    fz_replay_init(&argc, &argv);
    if (argc > 1) {
        long n = fz_replay_paths(argv + 1, argc - 1, 0);
        return n < 0 ? 2 : 0;
    }
    /* Build the machine(s) before forking: an empty input is rejected at
     * once but makes the target allocate what it keeps. */
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
#ifdef __AFL_HAVE_MANUAL_CONTROL
    __AFL_INIT();
#endif
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(10000)) {
        int len = __AFL_FUZZ_TESTCASE_LEN;
        LLVMFuzzerTestOneInput(buf, (size_t)len);
    }
    return 0;
}
