/*
 * cmd_decode.c - `vmstress decode FILE [--json]`: every leaf of any QEMU
 * migration stream (QEMU's or vmstress's), named through the stream's own
 * vmdescription trailer (see engine/decode.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decode.h"

/* Text output elides the middle of longer values (a RAM page is 1-4 KiB). */
#define TEXT_MAX_BYTES 32

static const char decode_usage[] =
    "usage: vmstress decode FILE [--json]\n"
    "\n"
    "Decode a migration stream written by QEMU or by vmstress, driven by the\n"
    "stream's own JSON vmdescription trailer: one line per leaf with its path\n"
    "(section.instance/field[index]/subsection/field; RAM pages as\n"
    "ram/BLOCK@0xADDR), stream offset, size, type and value (integers in\n"
    "decimal and hex, anything else in hex, elided past 32 bytes).\n"
    "\n"
    "  --json   one JSON object instead: page_size, a list of leaves with\n"
    "           path, offset, size, type, hex (all bytes) and int (integers),\n"
    "           and a list of sections with idstr, instance_id, version_id\n"
    "           and offset (of the section's type byte)\n"
    "  --help   this text\n"
    "\n"
    "Exit status: 0 decoded; 2 on a usage error or a malformed stream (one line\n"
    "on stderr naming the offset and what is wrong).\n";

static json_t *leaf_json(const VdecLeaf *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(l->path));
    json_object_set_new(o, "offset", json_integer((json_int_t)l->offset));
    json_object_set_new(o, "size", json_integer((json_int_t)l->size));
    json_object_set_new(o, "type", json_string(l->type));
    char *hex = malloc(2 * l->size + 1);
    if (hex) {
        for (size_t i = 0; i < l->size; i++)
            snprintf(hex + 2 * i, 3, "%02x", l->bytes[i]);
        hex[2 * l->size] = '\0';
        json_object_set_new(o, "hex", json_string(hex));
        free(hex);
    }
    bool sign;
    uint64_t v;
    if (vdec_leaf_int(l, &sign, &v)) {
        /* JSON integers are signed 64-bit: a uint64 above that is a string. */
        if (sign || v <= INT64_MAX)
            json_object_set_new(o, "int", json_integer((json_int_t)v));
        else {
            char s[24];
            snprintf(s, sizeof(s), "%" PRIu64, v);
            json_object_set_new(o, "int", json_string(s));
        }
    }
    return o;
}

static int print_json(const Vdec *d)
{
    json_t *root = json_object(), *leaves = json_array();
    json_object_set_new(root, "page_size", json_integer(vdec_page_size(d)));
    for (size_t i = 0; i < vdec_count(d); i++)
        json_array_append_new(leaves, leaf_json(vdec_leaf(d, i)));
    json_object_set_new(root, "leaves", leaves);
    json_t *secs = json_array();
    for (size_t i = 0; i < vdec_section_count(d); i++) {
        const VdecSection *s = vdec_section(d, i);
        json_t *o = json_object();
        json_object_set_new(o, "idstr", json_string(s->idstr));
        json_object_set_new(o, "instance_id", json_integer(s->instance_id));
        json_object_set_new(o, "version_id", json_integer(s->version_id));
        json_object_set_new(o, "offset", json_integer((json_int_t)s->header));
        json_array_append_new(secs, o);
    }
    json_object_set_new(root, "sections", secs);
    int rc = json_dumpf(root, stdout, JSON_COMPACT);
    json_decref(root);
    return rc == 0 && putchar('\n') != EOF ? 0 : 2;
}

static int print_text(const Vdec *d)
{
    char value[4 * TEXT_MAX_BYTES + 64];
    for (size_t i = 0; i < vdec_count(d); i++) {
        const VdecLeaf *l = vdec_leaf(d, i);
        vdec_leaf_format(l, TEXT_MAX_BYTES, value, sizeof(value));
        if (printf("%s offset=%zu size=%zu %s %s\n", l->path, l->offset, l->size, l->type,
                   value) < 0)
            return 2;
    }
    return 0;
}

int cmd_decode(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(decode_usage, stdout);
            return 0;
        }
        if (c != 'j') {
            fprintf(stderr, "vmstress decode: unknown option '%s' (see vmstress decode --help)\n",
                    argv[optind - 1]);
            return 2;
        }
        json = true;
    }
    if (argc - optind != 1) {
        fprintf(stderr, "vmstress decode: %s (see vmstress decode --help)\n",
                argc == optind ? "missing FILE" : "too many arguments");
        return 2;
    }
    const char *path = argv[optind];
    uint8_t *buf;
    size_t len;
    if (!cli_read_file("decode", path, &buf, &len))
        return 2;
    VmsMsg why = { "" };
    Vdec *d = vdec_decode(buf, len, &why);
    int st = 2;
    if (!d)
        fprintf(stderr, "vmstress decode: %s: %s\n", path, why.text);
    else
        st = json ? print_json(d) : print_text(d);
    if (st == 2 && d)
        fprintf(stderr, "vmstress decode: cannot write the output\n");
    vdec_free(d);
    free(buf);
    return st;
}
