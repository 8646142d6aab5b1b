/*
 * asan_options.c - ASan defaults for every fuzz binary (ASAN_OPTIONS set by
 * the user still wins: the runtime reads these first, then the variable).
 *
 * quarantine_size_mb=16: a load frees a stream's worth of small blocks
 * (the vmdescription's JSON, staging buffers), and libFuzzer allocates and
 * frees a copy of every input. With ASan's default 256 MiB quarantine,
 * freed memory is not reused until 256 MiB later, so nearly every
 * allocation lands on pages never touched before: profiles of
 * fuzz_baseline_load showed about a third of the time in page faults and
 * in clearing fresh pages. 16 MiB still holds the blocks freed by the last
 * several thousand inputs, far more than any use-after-free in one input's
 * load, save and run can reach back, and halves the time per input
 * (docs/fuzzing.md, "Throughput").
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
