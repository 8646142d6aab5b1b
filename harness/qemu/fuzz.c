/*
 * fuzz.c - vmstress qemu fuzz: QEMU's loader fed real streams of a board,
 * mutated leaf by leaf through their own vmdescription (decode.h), one
 * fresh `-incoming` process per input. See docs/qemu.md, "The loader fuzzer".
 *
 * An input is a base stream (saved by the board's workload at a
 * checkpoint) plus a short list of edits: replace bytes [off, off+len) of
 * the base with new bytes. Value edits keep the size (the trailer still
 * describes the stream, so what QEMU saves again can be compared leaf by
 * leaf); at most one structural edit (a section dropped or repeated, a
 * subsection dropped, the stream cut short) comes last. Keeping the edits,
 * rather than only the bytes, is what lets a finding be minimised leaf by
 * leaf: revert one edit, run again, keep it reverted if the finding stays.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "decode.h"
#include "mutate.h"
#include "qemu_int.h"
#include "savevm.h"

#define BASES 4             /* streams saved at these hits of checkpoint() */
static const unsigned base_hits[BASES] = { 1, 2, 4, 8 };
#define EDITS_MAX 8
#define SKIP_MAX 256        /* leaves a base stream's own reload changes */
#define POOL 3              /* destinations started ahead of their input */

typedef struct Edit {
    size_t off, len;        /* bytes of the base replaced */
    uint8_t bytes[16];      /* by these (n of them) */
    size_t n;
    char what[160];         /* for the description: leaf path and change */
    bool framing;           /* a structural edit (mutate_structure) */
} Edit;

typedef struct Input {
    unsigned base;
    Edit edit[EDITS_MAX];
    size_t n;
} Input;

typedef enum { OUT_ACCEPTED, OUT_REJECTED, OUT_NOT_COMPARED, OUT_STUCK, OUT_FINDING, OUT_INTERRUPTED } OutKind;

typedef struct Outcome {
    OutKind kind;
    char finding[24];       /* crash, hang, not-preserved, save-failed */
    char key[400];          /* what makes two findings the same */
    char where[128];        /* section or leaf, for the signature and the description */
    char detail[400];
    size_t offset, size;    /* not-preserved: the first differing leaf in the input */
} Outcome;

typedef struct Base {
    uint8_t *buf;
    size_t len;
    Vdec *dec;
    size_t *cand;           /* mutable leaves (not RAM pages), by index */
    size_t n_cand;
} Base;

typedef struct Fuzz {
    const QdrvFuzzConfig *cfg;
    QdrvSetup s;
    char tmp[256];
    uint32_t cp;
    Base base[BASES];
    unsigned n_base;
    char *skip[SKIP_MAX];   /* leaves that differ after reloading an unmutated base */
    size_t n_skip;
    uint64_t rng;
    QdrvFuzzStats *st;
    char outdir[600];
    QdrvTwin pool[POOL];    /* destinations started ahead (pid 0: none) */
    unsigned next;          /* the pool's oldest, taken next */
    uint64_t *seen;         /* hashes of the inputs run (0: a free slot) */
    size_t n_seen, cap_seen;
} Fuzz;

/* ------------------------------------------------------------ applying edits */

static int by_offset_desc(const void *a, const void *b)
{
    const Edit *x = a, *y = b;
    return x->off < y->off ? 1 : x->off > y->off ? -1 : 0;
}

/* The input's bytes: edits applied from the last offset back, so earlier
 * offsets stay valid. */
static uint8_t *materialise(const Fuzz *f, const Input *in, size_t *len)
{
    const Base *b = &f->base[in->base];
    Edit sorted[EDITS_MAX];
    memcpy(sorted, in->edit, in->n * sizeof(Edit));
    qsort(sorted, in->n, sizeof(Edit), by_offset_desc);
    size_t cap = b->len + 64, n = b->len;
    uint8_t *out = malloc(cap);
    memcpy(out, b->buf, n);
    for (size_t i = 0; i < in->n; i++) {
        const Edit *e = &sorted[i];
        if (e->off + e->len > n)
            continue;
        /* n == SIZE_MAX: the range, then itself again. */
        const uint8_t *with = e->bytes;
        size_t wn = e->n, tail = n - e->off - e->len;
        uint8_t *rep = NULL;
        if (e->n == SIZE_MAX) {
            rep = malloc(2 * e->len);
            memcpy(rep, out + e->off, e->len);
            memcpy(rep + e->len, out + e->off, e->len);
            with = rep;
            wn = 2 * e->len;
        }
        if (n - e->len + wn > cap)
            out = realloc(out, cap = n - e->len + wn);
        memmove(out + e->off + wn, out + e->off + e->len, tail);
        memcpy(out + e->off, with, wn);
        free(rep);
        n = e->off + wn + tail;
    }
    *len = n;
    return out;
}

static bool overlaps(const Input *in, size_t off, size_t len)
{
    for (size_t i = 0; i < in->n; i++) {
        const Edit *e = &in->edit[i];
        if (off < e->off + (e->len ? e->len : 1) && e->off < off + (len ? len : 1))
            return true;
    }
    return false;
}

static Edit *add_edit(Input *in, size_t off, size_t len)
{
    if (in->n == EDITS_MAX || overlaps(in, off, len))
        return NULL;
    Edit *e = &in->edit[in->n++];
    memset(e, 0, sizeof(*e));
    e->off = off;
    e->len = len;
    return e;
}

static void put_be(uint8_t *p, size_t size, uint64_t v)
{
    for (size_t i = size; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

/* ------------------------------------------------------------ mutations */

static uint64_t rnd(Fuzz *f, uint64_t n) { return vmut_below(&f->rng, n); }

/* A leaf's value: boundaries, bit flips and small steps (vmut_value), or
 * the same leaf's value in another base stream. */
static void mutate_leaf(Fuzz *f, Input *in)
{
    const Base *b = &f->base[in->base];
    if (!b->n_cand)
        return;
    const VdecLeaf *l = vdec_leaf(b->dec, b->cand[rnd(f, b->n_cand)]);
    if (!l->size)
        return;
    if (rnd(f, 4) == 0) {
        const Base *o = &f->base[rnd(f, f->n_base)];
        const VdecLeaf *ol = o->dec ? vdec_find(o->dec, l->path) : NULL;
        if (ol && ol->size == l->size && ol->size <= sizeof(((Edit *)0)->bytes) && memcmp(ol->bytes, l->bytes, l->size)) {
            Edit *e = add_edit(in, l->offset, l->size);
            if (e) {
                memcpy(e->bytes, ol->bytes, ol->size);
                e->n = ol->size;
                snprintf(e->what, sizeof(e->what), "%.120s from another checkpoint", l->path);
            }
            return;
        }
    }
    bool is_signed;
    uint64_t old;
    if (l->size <= 8 && vdec_leaf_int(l, &is_signed, &old)) {
        uint64_t v = vmut_value(&f->rng, old, (unsigned)l->size, 0);
        Edit *e = add_edit(in, l->offset, l->size);
        if (e) {
            put_be(e->bytes, l->size, v);
            e->n = l->size;
            char val[64];
            VdecLeaf nl = *l;
            nl.bytes = e->bytes;
            vdec_leaf_format(&nl, 8, val, sizeof(val));
            snprintf(e->what, sizeof(e->what), "%.110s = %.40s", l->path, val);
        }
        return;
    }
    /* A buffer or another type: one byte, flipped or replaced. */
    size_t k = rnd(f, l->size);
    Edit *e = add_edit(in, l->offset + k, 1);
    if (e) {
        e->bytes[0] = rnd(f, 2) ? (uint8_t)vmut_rng(&f->rng) : (uint8_t)(l->bytes[k] ^ (1u << rnd(f, 8)));
        e->n = 1;
        snprintf(e->what, sizeof(e->what), "%.110s byte %zu = 0x%02x", l->path, k, e->bytes[0]);
    }
}

/* Offset of a section header's version id: type, section id, idstr, instance. */
static size_t version_offset(const VdecSection *s) { return s->header + 1 + 4 + 1 + strlen(s->idstr) + 4; }

/* Top-level subsection headers of a section: a 0x05 byte that no leaf
 * covers, followed by a length and a name. Each runs to the next header or
 * the footer. */
static size_t subsections(const Base *b, const VdecSection *s, size_t *start, size_t max)
{
    size_t n = 0, li = 0, nl = vdec_count(b->dec);
    while (li < nl && vdec_leaf(b->dec, li)->offset < s->body)
        li++;
    for (size_t off = s->body; off + 2 < s->footer && n < max; off++) {
        while (li < nl && vdec_leaf(b->dec, li)->offset + vdec_leaf(b->dec, li)->size <= off)
            li++;
        const VdecLeaf *l = li < nl ? vdec_leaf(b->dec, li) : NULL;
        if (l && l->offset <= off)
            continue;
        size_t len = b->buf[off + 1];
        if (b->buf[off] != 5 || !len || off + 2 + len + 4 > s->footer)
            continue;
        bool name = true;
        for (size_t i = 0; i < len && name; i++)
            name = isprint(b->buf[off + 2 + i]);
        if (name)
            start[n++] = off;
    }
    return n;
}

/* The framing: a section's version id or footer, a section dropped or
 * repeated, a subsection dropped, the stream cut short. */
static void mutate_structure(Fuzz *f, Input *in)
{
    size_t before = in->n;
    const Base *b = &f->base[in->base];
    size_t ns = vdec_section_count(b->dec);
    if (!ns)
        return;
    const VdecSection *s = vdec_section(b->dec, rnd(f, ns));
    Edit *e;
    switch (rnd(f, 6)) {
    case 0:
        if ((e = add_edit(in, version_offset(s), 4))) {
            uint32_t v = (uint32_t[]){ s->version_id + 1, s->version_id - 1, 0, (uint32_t)vmut_rng(&f->rng) }[rnd(f, 4)];
            put_be(e->bytes, 4, v);
            e->n = 4;
            snprintf(e->what, sizeof(e->what), "section %.80s.%u version %u -> %u", s->idstr, s->instance_id,
                     s->version_id, v);
        }
        break;
    case 1:
        if ((e = add_edit(in, s->footer + 1, 4))) {
            put_be(e->bytes, 4, s->section_id + 1);
            e->n = 4;
            snprintf(e->what, sizeof(e->what), "section %.80s.%u footer names section %u", s->idstr,
                     s->instance_id, s->section_id + 1);
        }
        break;
    case 2:
        if ((e = add_edit(in, s->header, s->end - s->header))) {
            e->n = 0;
            snprintf(e->what, sizeof(e->what), "section %.80s.%u dropped", s->idstr, s->instance_id);
        }
        break;
    case 3:
        if ((e = add_edit(in, s->header, s->end - s->header))) {
            e->n = SIZE_MAX;
            snprintf(e->what, sizeof(e->what), "section %.80s.%u sent twice", s->idstr, s->instance_id);
        }
        break;
    case 4: {
        size_t start[16], n = subsections(b, s, start, 16);
        if (!n)
            break;
        size_t k = rnd(f, n), end = k + 1 < n ? start[k + 1] : s->footer;
        if ((e = add_edit(in, start[k], end - start[k]))) {
            e->n = 0;
            snprintf(e->what, sizeof(e->what), "section %.80s.%u subsection %.*s dropped", s->idstr,
                     s->instance_id, (int)b->buf[start[k] + 1], (const char *)b->buf + start[k] + 2);
        }
        break;
    }
    default: {
        size_t at = s->header + rnd(f, b->len - s->header);
        if ((e = add_edit(in, at, b->len - at))) {
            e->n = 0;
            snprintf(e->what, sizeof(e->what), "stream cut at byte %zu of %zu (in or after %.80s.%u)", at, b->len,
                     s->idstr, s->instance_id);
        }
    }
    }
    if (in->n > before)
        in->edit[before].framing = true;
}

static void mutate(Fuzz *f, Input *in)
{
    memset(in, 0, sizeof(*in));
    in->base = (unsigned)rnd(f, f->n_base);
    for (uint64_t k = 1 + rnd(f, 3); k--;)
        mutate_leaf(f, in);
    if (rnd(f, 4) == 0)
        mutate_structure(f, in);
}

/* ------------------------------------------------------------ one execution */

static bool skip_leaf(void *ctx, const char *path)
{
    const Fuzz *f = ctx;
    for (size_t i = 0; i < f->n_skip; i++)
        if (!strcmp(f->skip[i], path))
            return true;
    return false;
}

static void add_skip(void *ctx, const char *path)
{
    Fuzz *f = ctx;
    if (f->n_skip < SKIP_MAX && !skip_leaf(f, path))
        f->skip[f->n_skip++] = strdup(path);
}

/* A leaf path without its indices and its section's instance number, so
 * one field of one device type is one signature. */
static void field_of(const char *path, char *out, size_t n)
{
    size_t k = 0, slash = strcspn(path, "/");
    for (const char *p = path; *p && k + 1 < n; p++) {
        if (*p == '[') {
            p += strcspn(p, "]");
            if (!*p)
                break;
            continue;
        }
        if (*p == '.' && (size_t)(p - path) < slash && isdigit((unsigned char)p[1])) {
            p += strspn(p + 1, "0123456789");
            continue;
        }
        out[k++] = *p;
    }
    out[k] = 0;
}

/* The source file an assertion or error names ("../hw/sd/sd.c:297: ..."
 * gives "sd.c"), else the stage: where a crash belongs. */
static void source_of(const char *msg, const char *stage, char *out, size_t n)
{
    for (const char *p = strstr(msg, ".c:"); p; p = strstr(p + 1, ".c:")) {
        const char *b = p;
        while (b > msg && (isalnum((unsigned char)b[-1]) || b[-1] == '_' || b[-1] == '-'))
            b--;
        if (b < p) {
            snprintf(out, n, "%.*s.c", (int)(p - b), b);
            return;
        }
    }
    snprintf(out, n, "%s", stage);
}

static void finding(Outcome *o, const char *kind, const char *where, const char *key, const char *detail)
{
    o->kind = OUT_FINDING;
    snprintf(o->finding, sizeof(o->finding), "%s", kind);
    snprintf(o->where, sizeof(o->where), "%s", where);
    snprintf(o->key, sizeof(o->key), "%s: %s", kind, key);
    snprintf(o->detail, sizeof(o->detail), "%s", detail);
}

/* The process ended or hangs: a crash (signal), a hang (still alive), or a
 * clean rejection (an exit status and a message). */
static void judge_death(QdrvTwin *t, const char *stage, const QdrvErr *e, Outcome *o)
{
    for (int i = 0; i < 500 && qdrv_alive(t->pid, NULL); i++)
        usleep(2000);
    bool hung = qdrv_alive(t->pid, NULL);
    qdrv_twin_stop(t);
    /* Our own signal handler killed it: never a finding. */
    if (qdrv_interrupted()) {
        o->kind = OUT_INTERRUPTED;
        return;
    }
    char errlog[600], last[300], how[64];
    snprintf(errlog, sizeof(errlog), "%s/stderr.log", t->dir);
    qdrv_tail_of(errlog, last, sizeof(last));
    qdrv_describe_status(t->status, how, sizeof(how));
    char detail[400];
    if (hung) {
        snprintf(detail, sizeof(detail), "QEMU stopped answering %s (%.200s); killed", stage, e->text);
        finding(o, "hang", stage, stage, detail);
    } else if (WIFSIGNALED(t->status)) {
        snprintf(detail, sizeof(detail), "QEMU died %s (%s): %.300s", stage, how, last[0] ? last : "(no message)");
        char key[400], where[64];
        snprintf(key, sizeof(key), "%s %.300s", how, last);
        source_of(last, stage, where, sizeof(where));
        finding(o, "crash", where, key, detail);
    } else if (!strcmp(stage, "loading")) {
        o->kind = OUT_REJECTED;
        snprintf(o->detail, sizeof(o->detail), "%s: %.300s", how, last);
    } else {
        snprintf(detail, sizeof(detail), "QEMU ended %.40s after an accepted load (%.40s): %.250s", stage, how, last);
        char key[400];
        snprintf(key, sizeof(key), "%s %.300s", stage, last);
        finding(o, "exit", stage, key, detail);
    }
}

static bool is_bool(const VdecLeaf *l) { return l && !strcmp(l->type, "bool"); }

/* ------------------------------------------------------------ the pool */

/* Starting QEMU is most of an execution's cost, so POOL destinations are
 * started ahead with `-incoming defer`, each in its own folder: while one
 * loads and saves an input, the next ones are starting. Each is still one
 * PID, tracked, ended by qdrv_twin_stop and never reused for a second
 * input. */
static bool pool_fill(Fuzz *f, QdrvErr *e)
{
    for (unsigned i = 0; i < POOL; i++) {
        QdrvTwin *t = &f->pool[i];
        if (t->pid > 0)
            continue;
        memset(t, 0, sizeof(*t));
        t->qmp.fd = t->gdb.fd = -1;
        snprintf(t->name, sizeof(t->name), "d%u", i);
        snprintf(t->dir, sizeof(t->dir), "%.240s/d%u", f->tmp, i);
        if (mkdir(t->dir, 0700) && errno != EEXIST) {
            snprintf(e->text, sizeof(e->text), "cannot create %.250s: %s", t->dir, strerror(errno));
            return false;
        }
        char log[300];
        snprintf(log, sizeof(log), "%s/stderr.log", t->dir);
        unlink(log);
        snprintf(log, sizeof(log), "%s/uart.log", t->dir);
        unlink(log);
        if (!qdrv_twin_spawn_deferred(t, &f->s, e))
            return false;
    }
    return true;
}

/* The oldest destination, its pool slot refilled first. */
static QdrvTwin *pool_take(Fuzz *f, QdrvErr *e)
{
    if (!pool_fill(f, e))
        return NULL;
    QdrvTwin *t = &f->pool[f->next];
    f->next = (f->next + 1) % POOL;
    return t;
}

static void pool_stop(Fuzz *f)
{
    for (unsigned i = 0; i < POOL; i++)
        qdrv_twin_stop(&f->pool[i]);
}

/* ------------------------------------------------------------ inputs already run */

static uint64_t fnv64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h ? h : 1;
}

/* Record an input's bytes; false if the same bytes were run already (a
 * mutant can repeat one: a value the leaf already had, the same edits
 * drawn twice). Open addressing, kept at most half full. */
static bool first_time(Fuzz *f, const uint8_t *buf, size_t len)
{
    if (2 * (f->n_seen + 1) > f->cap_seen) {
        size_t cap = f->cap_seen ? 2 * f->cap_seen : 1024;
        uint64_t *t = calloc(cap, sizeof(uint64_t));
        for (size_t i = 0; i < f->cap_seen; i++)
            for (size_t k = f->seen[i] % cap; f->seen[i]; k = (k + 1) % cap)
                if (!t[k]) {
                    t[k] = f->seen[i];
                    break;
                }
        free(f->seen);
        f->seen = t;
        f->cap_seen = cap;
    }
    uint64_t h = fnv64(buf, len);
    size_t k = h % f->cap_seen;
    for (; f->seen[k]; k = (k + 1) % f->cap_seen)
        if (f->seen[k] == h)
            return false;
    f->seen[k] = h;
    f->n_seen++;
    return true;
}

/* Feed one stream to a fresh QEMU; judge what happens. `learn`: record the
 * leaves that differ after the reload as skipped (an unmutated base). */
static void run_one(Fuzz *f, const uint8_t *buf, size_t len, bool learn, Outcome *o)
{
    memset(o, 0, sizeof(*o));
    if (qdrv_interrupted()) {
        o->kind = OUT_INTERRUPTED;
        return;
    }
    char in[600];
    snprintf(in, sizeof(in), "%s/in.bin", f->tmp);
    QdrvErr e = { "" };
    if (!qdrv_write_file(f->tmp, "in.bin", buf, len)) {
        finding(o, "setup", "", "cannot write the input", in);
        return;
    }
    QdrvTwin *t = pool_take(f, &e);
    if (!t) {
        finding(o, "setup", "", "cannot start QEMU", e.text);
        return;
    }
    if (!qdrv_twin_load_deferred(t, &f->s, in, &e)) {
        judge_death(t, "loading", &e, o);
        return;
    }
    uint8_t *out = NULL;
    size_t olen = 0;
    if (!qdrv_twin_save(t, &f->s, &out, &olen, &e)) {
        if (qdrv_alive(t->pid, NULL) && strstr(e.text, "migration: ") == e.text) {
            qdrv_twin_stop(t);
            char key[400];
            snprintf(key, sizeof(key), "%.300s", e.text);
            finding(o, "save-failed", "save", key, e.text);
        } else {
            judge_death(t, "saving again", &e, o);
        }
        return;
    }
    /* Accepted but not preserved: the save after the load must give back
     * the input, outside the volatile leaves and those an unmutated base
     * already changes. An input without a consistent trailer (a structural
     * edit) is not compared. */
    VmsMsg why;
    Vdec *din = vdec_decode(buf, len, &why);
    QdrvDiffHooks h = { learn ? NULL : skip_leaf, learn ? add_skip : NULL, f };
    QdrvDiff d;
    o->kind = OUT_ACCEPTED;
    if (!din) {
        o->kind = OUT_NOT_COMPARED;
    } else if (!qdrv_stream_diff_with(buf, len, out, olen, &h, &d, &e)) {
        finding(o, "not-preserved", "save", "the stream saved after the load does not decode", e.text);
    } else if (!learn && d.differs && !strcmp(d.a, "(absent)")) {
        /* A section the input lacks: loaded without it, the device keeps
         * its power-on state, which the save then carries. One signature
         * for all sections: it is one property of the loader. */
        char detail[400];
        snprintf(detail, sizeof(detail), "accepted without section %.100s; saved again, it carries %u leaf(s) "
                 "the input did not, first %.120s = %.40s (its power-on state)", d.section, d.count,
                 d.path, d.b);
        finding(o, "not-preserved", "missing-section", "a section missing from the stream is accepted", detail);
    } else if (!learn && d.differs && is_bool(vdec_find(din, d.path))) {
        /* QEMU reads a bool as a byte and keeps only whether it is zero,
         * for every bool of every device: one signature. */
        char detail[400];
        snprintf(detail, sizeof(detail), "bool %.200s loaded from %.40s, saved as %.40s (%u leaf(s) differ)", d.path,
                 d.a, d.b, d.count);
        finding(o, "not-preserved", "bool", "a bool leaf other than 0 or 1 comes back normalised", detail);
        o->offset = d.stream_offset;
        o->size = 1;
    } else if (!learn && d.differs) {
        char field[VDEC_PATH_MAX], detail[400];
        field_of(d.path, field, sizeof(field));
        snprintf(detail, sizeof(detail), "loaded, then saved %u leaf(s) differently, first %.200s: %.40s -> %.40s",
                 d.count, d.path, d.a, d.b);
        finding(o, "not-preserved", field, field, detail);
        const VdecLeaf *l = vdec_find(din, d.path);
        o->offset = d.stream_offset;
        o->size = l ? l->size : 1;
    }
    vdec_free(din);
    free(out);
    if (o->kind == OUT_FINDING) {
        qdrv_twin_stop(t);
        return;
    }
    /* Then the guest runs on to its next checkpoint() on the loaded state:
     * a device that dies on it is a finding; a guest that does not get
     * there (a mutated CPU or device state can stop it) is not. */
    if (!qdrv_gdb_break(&t->gdb, f->cp, true, &e) || !qdrv_twin_next(t, f->cp, true, 2000, &e)) {
        if (qdrv_alive(t->pid, NULL)) {
            o->kind = o->kind == OUT_ACCEPTED ? OUT_STUCK : o->kind;
            qdrv_twin_stop(t);
        } else {
            judge_death(t, "running the loaded guest", &e, o);
        }
        return;
    }
    qdrv_twin_stop(t);
}

/* ------------------------------------------------------------ signatures and files */

static uint32_t fnv32(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

/* <kind>-<where>-<hash of the key>, in characters safe in a file name. */
static void signature(const Outcome *o, char *out, size_t n)
{
    char where[64];
    size_t k = 0;
    for (const char *p = o->where; *p && k + 1 < sizeof(where); p++)
        where[k++] = isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-' ? *p : '_';
    where[k] = 0;
    snprintf(out, n, "%s-%s-%08x", o->finding, where, fnv32(o->key));
}

static bool same_finding(const Outcome *a, const Outcome *b)
{
    return a->kind == OUT_FINDING && b->kind == OUT_FINDING && !strcmp(a->key, b->key);
}

static void run_input(Fuzz *f, const Input *in, Outcome *o)
{
    size_t len;
    uint8_t *buf = materialise(f, in, &len);
    run_one(f, buf, len, false, o);
    free(buf);
}

/* Leaf-wise (drop one edit at a time while the finding stays), then
 * byte-wise within the remaining value edits (revert one byte at a time),
 * under the configured time bound. */
static void minimise(Fuzz *f, Input *in, const Outcome *want)
{
    Outcome o;
    for (size_t i = in->n; i-- > 0 && !qdrv_interrupted();) {
        Input t = *in;
        memmove(&t.edit[i], &t.edit[i + 1], (t.n - i - 1) * sizeof(Edit));
        t.n--;
        run_input(f, &t, &o);
        f->st->min_execs++;
        if (same_finding(&o, want))
            *in = t;
    }
    double t0 = qdrv_now_s();
    if (qdrv_interrupted())
        return;
    const Base *b = &f->base[in->base];
    for (size_t i = 0; i < in->n && qdrv_now_s() - t0 < f->cfg->minimise_s; i++) {
        Edit *e = &in->edit[i];
        if (e->n != e->len || e->n < 2)
            continue;
        for (size_t k = 0; k < e->n && qdrv_now_s() - t0 < f->cfg->minimise_s && !qdrv_interrupted(); k++) {
            if (e->bytes[k] == b->buf[e->off + k])
                continue;
            Input t = *in;
            t.edit[i].bytes[k] = b->buf[e->off + k];
            run_input(f, &t, &o);
            f->st->min_execs++;
            if (same_finding(&o, want))
                *in = t;
        }
    }
}

static bool exists(const char *path)
{
    struct stat sb;
    return !stat(path, &sb);
}

/* A finding: deduplicated by signature (in this run and in the folder),
 * minimised, written as <signature>.bin and a one-line <signature>.txt. */
static void record(Fuzz *f, Input *in, const Outcome *o)
{
    QdrvFuzzStats *st = f->st;
    char sig[112];
    signature(o, sig, sizeof(sig));
    for (size_t i = 0; i < st->n_findings; i++)
        if (!strcmp(st->finding[i].signature, sig))
            return;
    if (st->n_findings == QDRV_FUZZ_FINDINGS_MAX)
        return;
    /* Confirmed first: the same input again must give the same finding (a
     * wait that timed out on a busy machine would not). */
    Outcome again;
    run_input(f, in, &again);
    st->min_execs++;
    if (!same_finding(&again, o)) {
        st->unconfirmed++;
        return;
    }
    QdrvFuzzFinding *fd = &st->finding[st->n_findings++];
    memset(fd, 0, sizeof(*fd));
    snprintf(fd->signature, sizeof(fd->signature), "%s", sig);
    snprintf(fd->kind, sizeof(fd->kind), "%s", o->finding);
    char path[800];
    snprintf(path, sizeof(path), "%s/%s.bin", f->outdir, sig);
    if ((fd->known = exists(path))) {
        snprintf(fd->line, sizeof(fd->line), "%s", o->detail);
        return;
    }
    minimise(f, in, o);
    char edits[400] = "";
    size_t k = 0;
    for (size_t i = 0; i < in->n && k < sizeof(edits); i++)
        k += (size_t)snprintf(edits + k, sizeof(edits) - k, "%s%s", i ? "; " : "", in->edit[i].what);
    /* Accepted but not preserved: the leaf that came back different is
     * either one the input changed (QEMU normalised or recomputed it on
     * load) or another one (derived from what the input changed). */
    const char *cls = "";
    bool framing = false;
    for (size_t i = 0; i < in->n; i++)
        framing |= in->edit[i].framing;
    if (!strcmp(o->finding, "not-preserved") && in->n && strcmp(o->where, "missing-section")) {
        /* Offsets are the base's: after a framing edit they no longer say
         * which leaf was edited. */
        cls = framing ? " [after a framing edit]" : " [another leaf than the mutated ones changed]";
        for (size_t i = 0; i < in->n && !framing; i++)
            if (o->offset < in->edit[i].off + in->edit[i].len && in->edit[i].off < o->offset + o->size)
                cls = " [the mutated leaf itself came back different]";
    }
    snprintf(fd->line, sizeof(fd->line), "%.180s%s; input: checkpoint stream %u%s%.130s", o->detail, cls,
             base_hits[in->base], in->n ? " with " : " unmutated", edits);
    size_t len;
    uint8_t *buf = materialise(f, in, &len);
    char leaf[128], line[sizeof(fd->line) + 2];
    snprintf(leaf, sizeof(leaf), "%s.bin", sig);
    qdrv_write_file(f->outdir, leaf, buf, len);
    snprintf(leaf, sizeof(leaf), "%s.txt", sig);
    snprintf(line, sizeof(line), "%s\n", fd->line);
    qdrv_write_file(f->outdir, leaf, line, strlen(line));
    free(buf);
}

/* ------------------------------------------------------------ set-up */

/* RAM pages are opaque to the loader; an unused buffer (VMSTATE_UNUSED) is
 * skipped on load and written as zeros on save by definition, so changing
 * one only ever shows that. */
static bool mutable_leaf(const VdecLeaf *l)
{
    return strcmp(l->type, "ram-page") && strcmp(l->type, "ram-zero") && strcmp(l->type, "unused_buffer");
}

/* The next base (its bytes in place): decoded, its mutable leaves listed. */
static bool base_adopt(Fuzz *f, QdrvErr *e)
{
    Base *b = &f->base[f->n_base];
    VmsMsg why;
    if (!(b->dec = vdec_decode(b->buf, b->len, &why))) {
        snprintf(e->text, sizeof(e->text), "the board's own stream does not decode: %.250s", why.text);
        return false;
    }
    b->cand = malloc((vdec_count(b->dec) + 1) * sizeof(size_t));
    for (size_t k = 0; k < vdec_count(b->dec); k++)
        if (mutable_leaf(vdec_leaf(b->dec, k)))
            b->cand[b->n_cand++] = k;
    f->n_base++;
    return true;
}

/* The base streams: the workload run to a few hits of checkpoint(),
 * saved by migrate there, runstate rewritten to "paused" (what every
 * destination gets, docs/qemu.md). */
static bool make_bases(Fuzz *f, QdrvErr *e)
{
    QdrvTwin t;
    memset(&t, 0, sizeof(t));
    t.qmp.fd = t.gdb.fd = -1;
    snprintf(t.name, sizeof(t.name), "src");
    snprintf(t.dir, sizeof(t.dir), "%.240s", f->tmp);
    bool ok = qdrv_twin_start(&t, &f->s, NULL, e) && qdrv_gdb_break(&t.gdb, f->cp, true, e);
    ok = ok && qdrv_qemu_version(&t.qmp, f->st->version, sizeof(f->st->version), e);
    unsigned hit = 0;
    for (int i = 0; ok && i < BASES; i++) {
        Base *b = &f->base[i];
        for (; ok && hit < base_hits[i]; hit++)
            ok = qdrv_twin_next(&t, f->cp, hit > 0, f->s.timeout_ms, e);
        ok = ok && qdrv_twin_save(&t, &f->s, &b->buf, &b->len, e) && qdrv_twin_resume_onto(&t, e) &&
             qdrv_stream_set_runstate(b->buf, b->len, "paused", e);
        ok = ok && base_adopt(f, e);
    }
    if (!ok) {
        char m[sizeof(e->text)];
        snprintf(m, sizeof(m), "making the board's streams: %.280s", e->text);
        snprintf(e->text, sizeof(e->text), "%s", m);
    }
    qdrv_twin_stop(&t);
    return ok;
}

/* bases: make the base streams (the fuzzer, and a replay of
 * not-preserved findings, which needs what their reload changes). */
static bool fuzz_init(Fuzz *f, const QdrvSetup *s, QdrvFuzzStats *st, bool bases, QdrvErr *e)
{
    f->s = *s;
    f->s.image = NULL;
    f->st = st;
    if (!qdrv_elf_symbol(s->firmware, "checkpoint", &f->cp, e))
        return false;
    if (!qdrv_make_tmpdir(f->tmp, sizeof(f->tmp), "vmstress-qfuzz", e))
        return false;
    return !bases || make_bases(f, e);
}

static void fuzz_free(Fuzz *f)
{
    pool_stop(f);
    free(f->seen);
    for (int i = 0; i < BASES; i++) {
        free(f->base[i].buf);
        vdec_free(f->base[i].dec);
        free(f->base[i].cand);
    }
    for (size_t i = 0; i < f->n_skip; i++)
        free(f->skip[i]);
    if (f->tmp[0])
        qdrv_rmtree(f->tmp);
}

/* Each unmutated base once: the leaves its own reload changes are skipped
 * afterwards (they are the board's fixpoint findings, `vmstress qemu run`'s
 * business); a base that already fails is a finding of its own. */
static void learn_bases(Fuzz *f, bool keep)
{
    for (unsigned i = 0; i < BASES; i++) {
        Outcome o;
        run_one(f, f->base[i].buf, f->base[i].len, true, &o);
        if (keep && o.kind == OUT_FINDING) {
            Input in = { .base = i };
            record(f, &in, &o);
        }
    }
}

int qdrv_fuzz(const QdrvFuzzConfig *c, QdrvFuzzStats *st, QdrvErr *e)
{
    memset(st, 0, sizeof(*st));
    Fuzz f;
    memset(&f, 0, sizeof(f));
    f.cfg = c;
    f.rng = c->seed;
    snprintf(f.outdir, sizeof(f.outdir), "%.400s/qemu-%.100s", c->results, c->setup.machine);
    if ((mkdir(c->results, 0755) && errno != EEXIST) || (mkdir(f.outdir, 0755) && errno != EEXIST)) {
        snprintf(e->text, sizeof(e->text), "cannot create %.250s: %s", f.outdir, strerror(errno));
        return 2;
    }
    if (!fuzz_init(&f, &c->setup, st, true, e)) {
        fuzz_free(&f);
        return 2;
    }
    double t0 = qdrv_now_s();
    learn_bases(&f, true);
    int rc = 0;
    while (qdrv_now_s() - t0 < c->seconds) {
        if (qdrv_interrupted()) {
            snprintf(e->text, sizeof(e->text), "interrupted after %llu inputs", (unsigned long long)st->execs);
            rc = 2;
            break;
        }
        Input in;
        mutate(&f, &in);
        size_t len;
        uint8_t *buf = materialise(&f, &in, &len);
        bool fresh = first_time(&f, buf, len);
        Outcome o;
        if (fresh)
            run_one(&f, buf, len, false, &o);
        free(buf);
        if (!fresh) {
            st->duplicates++;
            continue;
        }
        st->execs++;
        switch (o.kind) {
        case OUT_ACCEPTED: st->accepted++; break;
        case OUT_REJECTED: st->rejected++; break;
        case OUT_NOT_COMPARED: st->not_compared++; break;
        case OUT_STUCK: st->guest_stuck++; break;
        case OUT_FINDING: st->finding_execs++; record(&f, &in, &o); break;
        case OUT_INTERRUPTED: break;
        }
        st->seconds = qdrv_now_s() - t0;
        if (c->progress)
            fprintf(c->progress, "\rqemu fuzz %s: %llu inputs, %.1f/s, %zu finding(s)", c->setup.machine,
                    (unsigned long long)st->execs, st->execs / (st->seconds > 0 ? st->seconds : 1), st->n_findings);
    }
    if (c->progress)
        fputc('\n', c->progress);
    st->seconds = qdrv_now_s() - t0;
    fuzz_free(&f);
    for (size_t i = 0; i < st->n_findings && rc == 0; i++)
        rc = !st->finding[i].known;
    return rc;
}

/* ------------------------------------------------------------ the mutator alone */

uint8_t *qdrv_fuzz_mutant(const uint8_t *const *bases, const size_t *lens, size_t n, uint64_t seed, size_t *len,
                          bool *structural, char *what, size_t whatn, QdrvErr *e)
{
    Fuzz f;
    memset(&f, 0, sizeof(f));
    f.rng = seed;
    bool ok = n > 0 && n <= BASES;
    if (!ok)
        snprintf(e->text, sizeof(e->text), "between 1 and %d base streams, not %zu", BASES, n);
    for (size_t i = 0; ok && i < n; i++) {
        f.base[i].buf = malloc(lens[i] ? lens[i] : 1);
        memcpy(f.base[i].buf, bases[i], lens[i]);
        f.base[i].len = lens[i];
        ok = base_adopt(&f, e);
    }
    uint8_t *out = NULL;
    if (ok) {
        Input in;
        mutate(&f, &in);
        out = materialise(&f, &in, len);
        *structural = false;
        size_t k = 0;
        what[0] = 0;
        for (size_t i = 0; i < in.n; i++) {
            *structural |= in.edit[i].framing;
            if (k < whatn)
                k += (size_t)snprintf(what + k, whatn - k, "%s%s", i ? "; " : "", in.edit[i].what);
        }
    }
    fuzz_free(&f);
    return out;
}

/* ------------------------------------------------------------ replay */

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n > k && !strcmp(s + n - k, suf);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

/* The signature one stream gives now ("rejected", "no finding" when it
 * gives none). */
static void replay_one(Fuzz *f, const uint8_t *buf, size_t len, char *sig, size_t n)
{
    Outcome o;
    if (!buf) {
        snprintf(sig, n, "unreadable");
        return;
    }
    run_one(f, buf, len, false, &o);
    if (o.kind == OUT_FINDING)
        signature(&o, sig, n);
    else
        snprintf(sig, n, "%s", o.kind == OUT_REJECTED ? "rejected" : "no finding");
}

int qdrv_fuzz_replay(const QdrvSetup *s, const char *dir, FILE *out, QdrvErr *e)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, by_name);
    if (n < 0) {
        snprintf(e->text, sizeof(e->text), "cannot read %.250s: %s", dir, strerror(errno));
        return 2;
    }
    Fuzz f;
    memset(&f, 0, sizeof(f));
    QdrvFuzzStats st;
    memset(&st, 0, sizeof(st));
    QdrvFuzzConfig c = { .setup = *s };
    f.cfg = &c;
    int rc = fuzz_init(&f, s, &st, false, e) ? 0 : 2;
    bool learnt = false;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (rc != 2 && has_suffix(name, ".bin")) {
            char path[800], sig[112], want[256];
            snprintf(path, sizeof(path), "%s/%s", dir, name);
            snprintf(want, sizeof(want), "%.*s", (int)(strlen(name) - 4), name);
            size_t len;
            uint8_t *buf = qdrv_read_all(path, &len);
            replay_one(&f, buf, len, sig, sizeof(sig));
            /* The leaves an unmutated reload changes are learnt only when
             * a not-preserved finding needs them: they are skipped when
             * it was recorded, and making the base streams costs a QEMU
             * run and four loads. */
            if (strcmp(sig, want) && !strncmp(want, "not-preserved", 13) && !learnt && buf) {
                learnt = true;
                if (!make_bases(&f, e)) {
                    rc = 2;
                    free(buf);
                    break;
                }
                learn_bases(&f, false);
                replay_one(&f, buf, len, sig, sizeof(sig));
            }
            free(buf);
            bool same = !strcmp(sig, want);
            fprintf(out, "%s: %s%s\n", name, same ? "still happens" : "CHANGED, now ", same ? "" : sig);
            rc |= !same;
        }
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    fuzz_free(&f);
    return rc;
}
