/*
 * fuzz_decode.c - target fuzz_decode: the input is any QEMU migration
 * stream, decoded through its own vmdescription (engine/decode.h).
 *
 * A rejected stream must come with a non-empty one-line reason. An accepted
 * one must keep the decoder's promises: leaves inside the input, in stream
 * order without overlap, bytes pointing at their offset, and every path
 * found again by vdec_find (at that leaf, or at a later one of the same
 * path, as for a RAM page sent twice). Crashes, sanitizer reports, leaks
 * and aborts are findings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

#define MAX_INPUT (1u << 20)

static void broken(const char *what, size_t i)
{
    fprintf(stderr, "fuzz_decode: %s (leaf %zu)\n", what, i);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    VmsMsg why = { "" };
    Vdec *d = vdec_decode(data, size, &why);
    if (!d) {
        if (!why.text[0] || strchr(why.text, '\n'))
            broken("a rejection without a one-line reason", 0);
        return 0;
    }
    size_t end = 0;
    for (size_t i = 0; i < vdec_count(d); i++) {
        const VdecLeaf *l = vdec_leaf(d, i);
        if (l->offset < end || l->offset > size || l->size > size - l->offset)
            broken("a leaf out of order or outside the input", i);
        if (l->bytes != data + l->offset || !l->path[0] || !l->type)
            broken("a leaf without bytes, path or type", i);
        const VdecLeaf *f = vdec_find(d, l->path);
        if (!f || f < l || strcmp(f->path, l->path))
            broken("a path vdec_find does not find", i);
        char text[160];
        vdec_leaf_format(l, 16, text, sizeof(text));
        end = l->offset + l->size;
    }
    vdec_free(d);
    return 0;
}
