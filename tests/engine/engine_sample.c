/*
 * engine_sample.c - write a compound stream (every field kind, nested
 * subsections, NULL pointers, timers, a clock) to argv[1] and check that it
 * loads back into a fresh machine with identical state. The file is what
 * QEMU's scripts/analyze-migration.py is run on.
 */
#include "fixture.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT\n", argv[0]);
        return 2;
    }
    TMachine src, dst;
    tmachine_init(&src, true, 7);
    tmachine_init(&dst, false, 0);
    VmsOut out;
    vms_out_init(&out, 0);
    VmsError err;
    char line[512];
    int rc = 1;
    if (!vms_save(&src.reg, &out, NULL, &err)) {
        vms_error_format(&err, line, sizeof(line));
        fprintf(stderr, "save failed: %s\n", line);
        goto done;
    }
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(out.buf, 1, out.len, f) != out.len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", argv[1]);
        goto done;
    }
    if (!vms_load(&dst.reg, out.buf, out.len, &err)) {
        vms_error_format(&err, line, sizeof(line));
        fprintf(stderr, "load failed: %s\n", line);
        goto done;
    }
    const char *diff = tmachine_diff(&src, &dst);
    if (diff) {
        fprintf(stderr, "state differs after load: %s\n", diff);
        goto done;
    }
    printf("wrote %zu bytes to %s; loads back identically\n", out.len, argv[1]);
    rc = 0;
done:
    vms_out_free(&out);
    tmachine_fini(&src);
    tmachine_fini(&dst);
    return rc;
}
