/*
 * fuzzgen.c - build-time helper for the fuzz targets, driven by the device
 * registry and the descriptions so nothing here names a device.
 *
 *   fuzzgen devices                      device types with a description, one per line
 *   fuzzgen links DIR BINARY             DIR/fuzz_load_<type> -> BINARY for every type
 *   fuzzgen dict TARGET OUT              a libFuzzer/AFL++ dictionary for TARGET
 *   fuzzgen dict-all DIR                 DIR/<target>.dict for every target
 *   fuzzgen corpus GUEST_DIR OUT_ROOT [--streams N] [--programs N] [--seed S]
 *                                        seed corpora for every target under OUT_ROOT/<target>/
 *   fuzzgen check-corpora CORPUS_ROOT    every target has a non-empty seed folder
 *   fuzzgen digests                      "<target> <digest>" of what each target's seeds
 *                                        are made from (ci/corpus regenerates on change)
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz.h"
#include "program.h"

static int usage(void)
{
    fputs("usage: fuzzgen devices | links DIR BINARY | dict TARGET OUT | dict-all DIR |\n"
          "       fuzzgen corpus GUEST_DIR OUT_ROOT [--streams N] [--programs N] [--seed S] |\n"
          "       fuzzgen check-corpora CORPUS_ROOT | digests\n", stderr);
    return 2;
}

static Machine *new_fuzz_machine(const char *elf)
{
    VmsMsg why = { { 0 } };
    Machine *m = mach_new(mach_board_find(FZ_BOARD), &why);
    if (m && elf && !mach_load_elf(m, elf, &why)) {
        mach_free(m);
        m = NULL;
    }
    if (!m) {
        fprintf(stderr, "fuzzgen: %s\n", why.text);
        exit(2);
    }
    mach_set_console(m, NULL);
    mach_reset(m);
    return m;
}

/* ------------------------------------------------------------ devices */

static int cmd_devices(void)
{
    for (size_t i = 0; i < dev_n_types; i++)
        if (dev_types[i]->vmsd)
            printf("%s\n", dev_types[i]->name);
    return 0;
}

static int cmd_links(const char *dir, const char *binary)
{
    const char *base = strrchr(binary, '/');
    base = base ? base + 1 : binary;
    for (size_t i = 0; i < dev_n_types; i++) {
        if (!dev_types[i]->vmsd)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/fuzz_load_%s", dir, dev_types[i]->name);
        if (unlink(path) != 0 && errno != ENOENT) {
            fprintf(stderr, "fuzzgen: cannot replace '%s': %s\n", path, strerror(errno));
            return 1;
        }
        if (symlink(base, path) != 0) {
            fprintf(stderr, "fuzzgen: cannot link '%s': %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------- dictionary */

typedef struct Dict {
    FILE *f;
    unsigned n;
    uint64_t seen[512];     /* hashes of the entries written */
} Dict;

static uint64_t fnv(const void *p, size_t n);

/* One entry, escaped as libFuzzer and AFL++ want; duplicates skipped. */
static void dict_add(Dict *d, const char *label, const uint8_t *p, size_t n)
{
    char text[96 * 4 + 1];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < sizeof(text); i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            text[k++] = (char)c;
        else
            k += (size_t)snprintf(text + k, sizeof(text) - k, "\\x%02x", c);
    }
    text[k] = 0;
    uint64_t h = fnv(p, n);
    for (unsigned i = 0; i < d->n; i++)
        if (d->seen[i] == h)
            return;
    if (d->n == 512)
        return;
    d->seen[d->n++] = h;
    fprintf(d->f, "%s_%u=\"%s\"\n", label, d->n, text);
}

static void dict_be32(Dict *d, const char *label, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    dict_add(d, label, b, 4);
}

/* A name with its length byte, optionally after a type byte. */
static void dict_name(Dict *d, const char *label, int type, const char *name)
{
    uint8_t b[260];
    size_t n = strlen(name), k = 0;
    if (n > 255)
        return;
    if (type >= 0)
        b[k++] = (uint8_t)type;
    b[k++] = (uint8_t)n;
    memcpy(b + k, name, n);
    dict_add(d, label, b, k + n);
}

/* Subsection headers and capacities of a description tree. */
static void dict_desc(Dict *d, const VmsDesc *desc, int depth)
{
    if (!desc || depth > 8)
        return;
    for (const VmsField *f = desc->fields; f && !(f->flags & VMS_END); f++) {
        if (f->flags & (VMS_VARRAY_ANY | VMS_VBUFFER)) {
            dict_be32(d, "capacity", f->num);
            dict_be32(d, "capacity_plus_1", f->num + 1);
        }
        if (f->flags & VMS_STRUCT)
            dict_desc(d, f->vmsd, depth + 1);
    }
    for (const VmsDesc *const *s = desc->subsections; s && *s; s++) {
        dict_name(d, "subsection", VMS_SEC_SUBSECTION, (*s)->name);
        dict_be32(d, "subsection_version", (uint32_t)(*s)->version_id);
        dict_desc(d, *s, depth + 1);
    }
}

static void dict_framing(Dict *d, const char *mt)
{
    static const uint8_t types[] = { VMS_SEC_EOF, VMS_SEC_FULL, VMS_SEC_SUBSECTION,
                                     VMS_SEC_VMDESCRIPTION, VMS_SEC_CONFIGURATION, VMS_SEC_FOOTER };
    for (size_t i = 0; i < sizeof(types); i++)
        dict_add(d, "type", &types[i], 1);
    dict_be32(d, "magic", VMS_FILE_MAGIC);
    dict_be32(d, "file_version", VMS_FILE_VERSION);
    uint8_t b[4 + 64];
    size_t n = strlen(mt);
    b[0] = b[1] = b[2] = 0;
    b[3] = (uint8_t)n;
    memcpy(b + 4, mt, n);
    dict_add(d, "machine_type", b, 4 + n);
}

static void dict_values(Dict *d)
{
    static const uint32_t v[] = { 0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        dict_be32(d, "int", v[i]);
    static const uint8_t marker = 0x30; /* NULL pointer marker */
    dict_add(d, "null_marker", &marker, 1);
}

static int cmd_dict(const char *target, const char *out)
{
    Dict *d = calloc(1, sizeof(*d));
    if (!d || !(d->f = fopen(out, "w"))) {
        fprintf(stderr, "fuzzgen: cannot write '%s'\n", out);
        free(d);
        return 1;
    }
    fprintf(d->f, "# Generated by fuzzgen from the device descriptions for %s; do not edit.\n", target);
    Machine *m = new_fuzz_machine(NULL);
    VmsRegistry *r = mach_registry(m);
    const char *dev = fz_name_suffix(target, "fuzz_load_");
    int rc = 0;
    if (!strcmp(target, "fuzz_load") || !strcmp(target, "fuzz_load_planted")) {
        dict_framing(d, r->machine_type);
        for (size_t i = 0; i < r->n; i++) {
            const VmsSection *s = &r->sec[i];
            dict_name(d, "section", -1, s->idstr);
            dict_be32(d, "section_version", (uint32_t)s->vmsd->version_id);
            if (!i || strcmp(r->sec[i - 1].idstr, s->idstr))
                dict_desc(d, s->vmsd, 0);
        }
        dict_values(d);
    } else if (dev) {
        const DevType *t = dev_type_find(dev);
        if (!t || !t->vmsd) {
            fprintf(stderr, "fuzzgen: no device type '%s'\n", dev);
            rc = 2;
        } else {
            dict_desc(d, t->vmsd, 0);
            dict_values(d);
        }
    } else if (!strcmp(target, "fuzz_roundtrip") || !strcmp(target, "fuzz_roundtrip_planted")) {
        static const uint8_t ops[][4] = { { 6 }, { 5, 0xff, 0xff }, { 4, 0xff, 0xff }, { 0xff } };
        static const size_t lens[] = { 1, 3, 3, 1 };
        for (size_t i = 0; i < 4; i++)
            dict_add(d, "op", ops[i], lens[i]);
        dict_values(d);
    } else {
        fprintf(stderr, "fuzzgen: unknown target '%s'\n", target);
        rc = 2;
    }
    mach_free(m);
    if (fclose(d->f) != 0)
        rc = 1;
    free(d);
    if (rc)
        unlink(out);
    return rc;
}

static int cmd_dict_all(const char *dir)
{
    static const char *const fixed[] = { "fuzz_load", "fuzz_load_planted", "fuzz_roundtrip",
                                         "fuzz_roundtrip_planted" };
    char path[4096], target[128];
    int rc = 0;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s.dict", dir, fixed[i]);
        rc |= cmd_dict(fixed[i], path);
    }
    for (size_t i = 0; i < dev_n_types; i++) {
        if (!dev_types[i]->vmsd)
            continue;
        snprintf(target, sizeof(target), "fuzz_load_%s", dev_types[i]->name);
        snprintf(path, sizeof(path), "%s/%s.dict", dir, target);
        rc |= cmd_dict(target, path);
    }
    return rc;
}

/* -------------------------------------------------------------- corpora */

static bool mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return false;
            *p = '/';
        }
    return mkdir(tmp, 0777) == 0 || errno == EEXIST;
}

static bool write_file(const char *root, const char *target, const char *name, const void *p, size_t n)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/%s", root, target);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = mkdirs(dir) ? fopen(path, "wb") : NULL;
    bool ok = f && fwrite(p, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "fuzzgen: cannot write '%s'\n", path);
    return ok;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

#define FNV_BASIS 0xcbf29ce484222325ull

/* FNV-1a, continued from h (FNV_BASIS to start). */
static uint64_t fnv_more(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fnv(const void *p, size_t n) { return fnv_more(FNV_BASIS, p, n); }

/* Body hashes already written per device, to keep the folders small. */
typedef struct Seen {
    uint64_t h[64][64];
    unsigned n[64];
} Seen;

static bool seen_add(Seen *s, size_t dev, uint64_t h)
{
    if (dev >= 64)
        return false;
    for (unsigned i = 0; i < s->n[dev]; i++)
        if (s->h[dev][i] == h)
            return false;
    if (s->n[dev] == 64)
        return false;
    s->h[dev][s->n[dev]++] = h;
    return true;
}

static bool corpus_workload(const char *elf, const char *stem, const char *root, unsigned streams,
                            uint64_t seed, Seen *seen, bool *trailer)
{
    Machine *m = new_fuzz_machine(elf);
    VmsRegistry *r = mach_registry(m);
    uint64_t rng = seed ^ fnv(stem, strlen(stem));
    VmsOut o;
    vms_out_init(&o, 0);
    bool ok = true;
    for (unsigned k = 0; ok && k < streams; k++) {
        mach_run(m, 2000 + fz_rng(&rng) % 400000);
        char name[320];   /* stem (< 256) + a 20-digit cycle + ".bin" */
        VmsError err;
        /* One stream in the corpus keeps its JSON trailer, so the trailer
         * parser is reached. Only one: the trailer is 9 KB the loader reads
         * but no validator looks at, so more of them would only spend
         * mutations and executions on it. */
        VmsSaveOpts opts = { .no_vmdesc = !*trailer };
        *trailer = false;
        vms_out_reset(&o);
        if (!mach_save(m, &o, &opts, &err)) {
            char line[512];
            vms_error_format(&err, line, sizeof(line));
            fprintf(stderr, "fuzzgen: %s: save failed: %s\n", stem, line);
            ok = false;
            break;
        }
        snprintf(name, sizeof(name), "%s-%" PRIu64 ".bin", stem, mach_cycles(m));
        ok = write_file(root, "fuzz_load", name, o.buf, o.len);
        for (size_t i = 0; ok && i < dev_n_types; i++) {
            const DevType *t = dev_types[i];
            VmsSection *s = t->vmsd ? vms_registry_find(r, t->vmsd->name, 0) : NULL;
            if (!s)
                continue;
            vms_out_reset(&o);
            VmsCtx c = { .err = &err, .section = s->idstr, .instance = 0 };
            if (!vms_save_state(&c, &o, s->vmsd, s->opaque))
                continue;
            if (!seen_add(seen, i, fnv(o.buf, o.len)))
                continue;
            char target[128];
            snprintf(target, sizeof(target), "fuzz_load_%s", t->name);
            ok = write_file(root, target, name, o.buf, o.len);
        }
        CpuRunState rs = mach_state(m);
        if (rs == CPU_HALTED || rs == CPU_LOCKUP)
            break;
    }
    vms_out_free(&o);
    mach_free(m);
    return ok;
}

static int cmd_corpus(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *gdir = argv[0], *root = argv[1];
    unsigned streams = 3, programs = 24;
    uint64_t seed = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--streams"))
            streams = (unsigned)strtoul(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--programs"))
            programs = (unsigned)strtoul(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 0);
        else
            return usage();
    }
    DIR *d = opendir(gdir);
    if (!d) {
        fprintf(stderr, "fuzzgen: cannot open '%s': %s\n", gdir, strerror(errno));
        return 2;
    }
    char *names[128];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 128) {
        size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".elf"))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    Seen *seen = calloc(1, sizeof(*seen));
    bool ok = seen != NULL, trailer = true;
    for (size_t i = 0; ok && i < n; i++) {
        char path[4096], stem[256];
        snprintf(path, sizeof(path), "%s/%s", gdir, names[i]);
        snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(names[i]) - 4), names[i]);
        ok = corpus_workload(path, stem, root, streams, seed, seen, &trailer);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(seen);
    const Board *b = mach_board_find(FZ_BOARD);
    uint64_t rng = seed ^ 0x70726f67ull;
    VmsOut o;
    vms_out_init(&o, 0);
    for (unsigned k = 0; ok && k < programs; k++) {
        vms_out_reset(&o);
        fz_prog_random(&rng, b, 6 + (unsigned)(fz_rng(&rng) % 40), &o);
        char name[64];
        snprintf(name, sizeof(name), "prog-%02u.bin", k);
        ok = write_file(root, "fuzz_roundtrip", name, o.buf, o.len);
    }
    vms_out_free(&o);
    if (ok)
        printf("fuzzgen: corpora for %zu workloads and %u programs in %s\n", n, programs, root);
    return ok ? 0 : 1;
}

static long count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int cmd_check(const char *root)
{
    int bad = 0;
    char dir[4096];
    const char *fixed[] = { "fuzz_load", "fuzz_roundtrip" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", root, fixed[i]);
        if (count_files(dir) <= 0) {
            fprintf(stderr, "fuzzgen: no seeds in '%s' (run ci/corpus)\n", dir);
            bad = 1;
        }
    }
    for (size_t i = 0; i < dev_n_types; i++) {
        if (!dev_types[i]->vmsd)
            continue;
        snprintf(dir, sizeof(dir), "%s/fuzz_load_%s", root, dev_types[i]->name);
        if (count_files(dir) <= 0) {
            fprintf(stderr, "fuzzgen: device '%s' has no seeds in '%s' (run ci/corpus)\n",
                    dev_types[i]->name, dir);
            bad = 1;
        }
    }
    if (!bad)
        printf("fuzzgen: every target has seeds in %s\n", root);
    return bad;
}

/* ------------------------------------------------------------ digests */

/* With its NUL, so "ab","c" and "a","bc" differ. */
static uint64_t fnv_str(uint64_t h, const char *s) { return fnv_more(h, s, strlen(s) + 1); }

/* A description as `vmstress dump-vmstate` writes it (compact, keys sorted). */
static uint64_t fnv_desc(uint64_t h, const VmsDesc *d)
{
    json_t *j = vms_dump_desc(d);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (!text) {
        fprintf(stderr, "fuzzgen: cannot dump description '%s'\n", d->name);
        exit(2);
    }
    h = fnv_str(h, text);
    free(text);
    return h;
}

/* What each checked-in corpus is made from, so ci/corpus regenerates only
 * the corpora whose inputs changed:
 *   fuzz_load_<type>  that type's section bodies: its descriptions;
 *   fuzz_load         whole streams of the fuzz board: every section of its
 *                     machine (name, instance, description) and the machine type;
 *   fuzz_roundtrip    programs that address the fuzz board: its layout.
 * What the guest firmware does is not part of it (see docs/fuzzing.md). */
static int cmd_digests(void)
{
    Machine *m = new_fuzz_machine(NULL);
    const VmsRegistry *r = mach_registry(m);
    uint64_t h = fnv_str(FNV_BASIS, r->machine_type);
    for (size_t i = 0; i < r->n; i++) {
        h = fnv_str(h, r->sec[i].idstr);
        h = fnv_more(h, &r->sec[i].instance_id, sizeof(r->sec[i].instance_id));
        h = fnv_desc(h, r->sec[i].vmsd);
    }
    printf("fuzz_load %016" PRIx64 "\n", h);
    for (size_t i = 0; i < dev_n_types; i++) {
        const DevType *t = dev_types[i];
        if (!t->vmsd)
            continue;
        h = fnv_desc(FNV_BASIS, t->vmsd);
        for (size_t k = 0; t->extra_vmsds && t->extra_vmsds[k]; k++)
            h = fnv_desc(h, t->extra_vmsds[k]);
        printf("fuzz_load_%s %016" PRIx64 "\n", t->name, h);
    }
    const Board *b = mach_board_find(FZ_BOARD);
    h = fnv_str(FNV_BASIS, b->name);
    h = fnv_more(h, &b->flash_size, sizeof(b->flash_size));
    h = fnv_more(h, &b->sram_size, sizeof(b->sram_size));
    for (const DevConfig *c = b->devices; c->type; c++) {
        h = fnv_str(h, c->type);
        h = fnv_more(h, &c->base, sizeof(c->base));
        h = fnv_more(h, c->irq, sizeof(c->irq));
        for (const DevProp *p = c->props; p < c->props + DEV_MAX_PROPS && p->name; p++) {
            h = fnv_str(h, p->name);
            h = fnv_more(h, &p->value, sizeof(p->value));
        }
    }
    printf("fuzz_roundtrip %016" PRIx64 "\n", h);
    mach_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "devices") && argc == 2)
        return cmd_devices();
    if (!strcmp(cmd, "links") && argc == 4)
        return cmd_links(argv[2], argv[3]);
    if (!strcmp(cmd, "dict") && argc == 4)
        return cmd_dict(argv[2], argv[3]);
    if (!strcmp(cmd, "dict-all") && argc == 3)
        return cmd_dict_all(argv[2]);
    if (!strcmp(cmd, "corpus"))
        return cmd_corpus(argc - 2, argv + 2);
    if (!strcmp(cmd, "check-corpora") && argc == 3)
        return cmd_check(argv[2]);
    if (!strcmp(cmd, "digests") && argc == 2)
        return cmd_digests();
    return usage();
}
