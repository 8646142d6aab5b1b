/* fuzz_common.c - shared pieces of the fuzz targets; see fuzz.h. */
#include "fuzz.h"
#include "lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fz_finding(const char *target, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vmstress %s: FINDING: ", target);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

static void setup_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void setup_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vmstress fuzz: setup: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* Planted binaries name their variant here (planted_load.c). A weak
 * declaration, not a definition: a weak "= NULL" definition of a const
 * lets the compiler fold NULL into every read, so planted_load.c's strong
 * definition would never be seen. Undefined here, its address is NULL. */
extern const char *const fz_builtin_plant __attribute__((weak));

/* "base=variant" for a planted variant: the base is the shipped type whose
 * description has the variant's name (a variant keeps its stream name). */
static char *plant_override(const char *variant)
{
    const DevTestDesc *d = dev_test_desc_find(variant);
    if (d) {    /* a variant of a core section's description */
        size_t n = strlen(d->section) + strlen(variant) + 2;
        char *o = malloc(n);
        if (!o)
            abort();
        snprintf(o, n, "%s=%s", d->section, variant);
        return o;
    }
    const DevType *v = dev_type_find(variant);
    if (!v || !v->vmsd)
        setup_fail("unknown planted variant '%s'", variant);
    for (size_t i = 0; i < dev_n_types; i++)
        if (dev_types[i] != v && dev_types[i]->vmsd && !strcmp(dev_types[i]->vmsd->name, v->vmsd->name)) {
            size_t n = strlen(dev_types[i]->name) + strlen(variant) + 2;
            char *o = malloc(n);
            if (!o)
                abort();
            snprintf(o, n, "%s=%s", dev_types[i]->name, variant);
            return o;
        }
    setup_fail("planted variant '%s': no shipped device has description '%s'", variant, v->vmsd->name);
}

const char *const *fz_overrides(const char *extra, size_t *n)
{
    static char *list[16];
    static size_t count;
    static bool done;
    if (!done) {
        done = true;
        const char *env = getenv("VMSTRESS_FUZZ_OVERRIDES");
        char *copy = env ? strdup(env) : NULL, *save = NULL;
        for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && count < 14;
             tok = strtok_r(NULL, ",", &save))
            list[count++] = tok;
        const char *plant = getenv("VMSTRESS_PLANT");
        if (!plant || !*plant)
            plant = &fz_builtin_plant ? fz_builtin_plant : NULL;
        if (plant && *plant)
            list[count++] = plant_override(plant);
        if (extra)
            list[count++] = strdup(extra);
    }
    *n = count;
    return (const char *const *)list;
}

/* The fuzz board with device types replaced per "base=variant". Kept
 * for the process: machines point at their board. */
static const Board *board_with(const char *const *ov, size_t n_ov)
{
    /* VMSTRESS_FUZZ_BOARD: another machine type, e.g. a versioned one
     * whose release a user wants fuzzed (its streams name that type). */
    const char *name = getenv("VMSTRESS_FUZZ_BOARD");
    if (!name || !*name)
        name = FZ_BOARD;
    const Board *base = mach_board_find(name);
    if (!base)
        setup_fail("no board '%s' (VMSTRESS_FUZZ_BOARD)", name);
    if (!n_ov)
        return base;
    size_t n = 0;
    while (base->devices[n].type)
        n++;
    DevConfig *devs = calloc(n + 1, sizeof(*devs));
    Board *b = calloc(1, sizeof(*b));
    if (!devs || !b)
        abort();
    memcpy(devs, base->devices, (n + 1) * sizeof(*devs));
    for (size_t k = 0; k < n_ov; k++) {
        const char *eq = strchr(ov[k], '=');
        size_t len = eq ? (size_t)(eq - ov[k]) : 0;
        bool used = false;
        if (!eq || !dev_type_find(eq + 1))
            setup_fail("bad override '%s': want BASE=VARIANT with a known variant", ov[k]);
        for (size_t i = 0; i < n; i++)
            if (strlen(devs[i].type) == len && !strncmp(devs[i].type, ov[k], len)) {
                devs[i].type = eq + 1;
                used = true;
            }
        if (!used)
            setup_fail("override '%s': the board has no such device", ov[k]);
    }
    *b = *base;
    b->devices = devs;
    return b;
}

Machine *fz_machine_new(const char *const *ov, size_t n_ov)
{
    VmsMsg why = { { 0 } };
    Machine *m = mach_new(board_with(ov, n_ov), &why);
    if (!m)
        setup_fail("cannot build the board: %s", why.text);
    if (!mach_load_image(m, fz_firmware, fz_firmware_len, &why))
        setup_fail("embedded firmware '%s': %s", fz_firmware_name, why.text);
    mach_set_console(m, NULL);
    mach_reset(m);
    return m;
}

/* The bytes vms_error_format copies as they are: printable ASCII but the
 * backslash (escape_into writes every other byte as \xNN). */
#define VERBATIM " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`" \
                 "abcdefghijklmnopqrstuvwxyz{|}~"

static bool verbatim(const char *s) { return !s[strspn(s, VERBATIM)]; }

void fz_check_rejected(const char *target, const VmsError *e)
{
    char line[512];
    if (e->cls == VMS_ERR_NONE)
        fz_finding(target, "load failed without an error class");
    if (!e->msg[0])
        fz_finding(target, "load failed (%s) without a message", vms_error_class_name(e->cls));
    /* Section, field and message made only of bytes the formatting copies
     * as they are, inside its fixed one-line template, cannot make a line
     * break: most errors. Only the others (bytes it must escape) are
     * formatted and looked at, which spares most rejected inputs four
     * snprintf calls under ASan. */
    if (verbatim(e->section) && verbatim(e->field) && verbatim(e->msg))
        return;
    int n = vms_error_format(e, line, sizeof(line));
    if (n <= 0 || strchr(line, '\n'))
        fz_finding(target, "load error does not format as one line: '%s'", line);
}

static void save_or_die(const char *target, Machine *m, VmsOut *o, const char *when)
{
    VmsError err;
    VmsSaveOpts opts = { .no_vmdesc = true };
    vms_out_reset(o);
    if (!mach_save(m, o, &opts, &err)) {
        char line[512];
        vms_error_format(&err, line, sizeof(line));
        fz_finding(target, "save %s failed: %s", when, line);
    }
}

/* Read every register a driver might (the first 256 bytes and the ID
 * block of each device, or of device `only` when it is >= 0), so that a
 * loaded index or count that escaped its validator is used at once, where
 * the sanitizers see it. */
static void read_registers(Machine *m, int only)
{
    for (size_t i = 0; i < mach_n_devices(m); i++) {
        if (only >= 0 && i != (size_t)only)
            continue;
        uint32_t base = mach_device_base(m, i), v;
        for (uint32_t off = 0; off < 0x100; off += 4)
            mach_bus_read(m, base + off, 4, &v);
        for (uint32_t off = 0xfe0; off < 0x1000; off += 4)
            mach_bus_read(m, base + off, 4, &v);
    }
}

void fz_check_fixpoint(const char *target, Machine *m, uint64_t cycles, int device, VmsOut *s1,
                       VmsOut *s2)
{
    /* Declared ranges are an oracle of their own: a value the load should
     * have refused is a finding even where no sanitizer would notice its use
     * (an index one past an array, still inside the struct). */
    LintFinding lf;
    if (!lint_loaded_in_range(m, &lf)) {
        char line[512];
        lint_format(&lf, line, sizeof(line));
        fz_finding(target, "%s", line);
    }
    read_registers(m, device);
    mach_run(m, cycles);
    save_or_die(target, m, s1, "after an accepted load and a run");
    VmsError err;
    if (!mach_load(m, s1->buf, s1->len, &err)) {
        char line[512];
        vms_error_format(&err, line, sizeof(line));
        fz_finding(target, "the machine's own stream was rejected: %s", line);
    }
    save_or_die(target, m, s2, "after reloading its own stream");
    if (s1->len != s2->len || memcmp(s1->buf, s2->buf, s1->len) != 0) {
        size_t n = s1->len < s2->len ? s1->len : s2->len, off = 0;
        while (off < n && s1->buf[off] == s2->buf[off])
            off++;
        VmsMap map;
        vms_map_init(&map);
        VmsOut t;
        vms_out_init(&t, 0);
        VmsSaveOpts opts = { .no_vmdesc = true, .map = &map };
        const VmsSpan *sp = mach_save(m, &t, &opts, &err) ? vms_map_find(&map, off) : NULL;
        VmsRegistry *r = mach_registry(m);
        const char *sec = sp && sp->section >= 0 && (size_t)sp->section < r->n
                              ? r->sec[sp->section].idstr : "(framing)";
        char path[200];
        snprintf(path, sizeof(path), "%s", sp ? sp->path : "-");
        vms_out_free(&t);
        vms_map_free(&map);
        fz_finding(target, "save, load, save is not a fixpoint: streams of %zu and %zu bytes differ "
                   "at offset %zu (section '%s' field '%s': 0x%02x then 0x%02x)",
                   s1->len, s2->len, off, sec, path, off < s1->len ? s1->buf[off] : 0,
                   off < s2->len ? s2->buf[off] : 0);
    }
    /* Back to power-on, where a rejected load leaves the machine too: the
     * next input's load then takes the same path whatever ran before it
     * (no reset first), so coverage is a function of the input alone. */
    mach_reset(m);
}

bool fz_frame_prefix(VmsOut *out, const char *mt, const char *idstr, uint32_t section_id,
                     uint32_t instance, uint32_t version)
{
    /* The configuration section is whatever the engine writes for an empty
     * registry of this machine type, minus its EOF byte. */
    VmsRegistry r;
    VmsError err;
    VmsSaveOpts opts = { .no_vmdesc = true };
    vms_registry_init(&r, mt);
    size_t start = out->len;
    bool ok = vms_save(&r, out, &opts, &err);
    vms_registry_free(&r);
    if (!ok || out->len == start)
        return false;
    out->len--; /* drop EOF */
    size_t idlen = strlen(idstr);
    return idlen < 256 && vms_out_u8(out, VMS_SEC_FULL) && vms_out_be32(out, section_id) &&
           vms_out_u8(out, (uint8_t)idlen) && vms_out_bytes(out, idstr, idlen) &&
           vms_out_be32(out, instance) && vms_out_be32(out, version);
}

bool fz_frame_suffix(VmsOut *out, uint32_t section_id)
{
    return vms_out_u8(out, VMS_SEC_FOOTER) && vms_out_be32(out, section_id) &&
           vms_out_u8(out, VMS_SEC_EOF);
}
