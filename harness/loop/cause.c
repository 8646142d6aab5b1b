/*
 * cause.c - cause before symptom: rank the members a load got wrong
 * (loop_int.h).
 *
 * A shadow diff names the first member that differs in table order, which
 * is often a symptom: a truncated register shows up as the timer derived
 * from it. Here B's stream is loaded again into a scratch machine while
 * every load hook is watched: the parts are snapshotted before each
 * pre_load and post_load and compared after it, so each member a hook
 * changes is attributed to that hook, and the value the fields had loaded
 * before it is known. Then each member that differs from the saved state
 * (A) is ranked:
 *   1 field    carried by a field, and the fields loaded a value other than
 *              the saved one (width, truncation, encoding)
 *   2 hook     a hook changed it away from the saved value (named)
 *   3 derived  not carried by any field: derived by a hook (with its
 *              declared sources) or forgotten by the description
 *
 * The same watch names the hook behind a save that changed a member (each
 * pre_save and post_save) and behind a reset that left a member away from
 * power-on (each part's reset hook, through the machine's reset observer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop_int.h"

#define SNAP_MAX_PART 4096      /* larger parts (SRAM) have no hooks to watch */
#define MAX_RECS 64

enum { RANK_FIELD = 1, RANK_HOOK, RANK_DERIVED };

typedef struct HookRec {
    size_t part;
    const DevMember *mb;
    char hook[72];              /* "post_load of 'pl031'", "reset of 'pl061.0'" */
    bool loaded_wrong;          /* before the hook it already differed from the saved value */
} HookRec;

typedef struct Causes {
    Machine *a, *s;
    uint8_t *snap;              /* every small part of s, before the hook running now */
    size_t *at;                 /* offset of part i in snap, SIZE_MAX if not kept */
    size_t n_parts;
    HookRec recs[MAX_RECS];
    size_t n_recs;
    VmsObserveEvent *keep_ev;   /* the registry's observer while watching */
    void *keep_opaque;
} Causes;

/* The compared bytes of a member: a timer's deadline only. */
static void compared(const DevMember *mb, size_t *off, size_t *size)
{
    *off = mb->offset;
    *size = mb->size;
    if (mb->kind == DEV_M_TIMER) {
        *off += offsetof(VTimer, deadline);
        *size = sizeof(int64_t);
    }
}

static bool compared_member(const DevMember *mb)
{
    return mb->kind == DEV_M_STATE || mb->kind == DEV_M_TIMER;
}

static void snapshot(Causes *c)
{
    for (size_t i = 0; i < c->n_parts; i++)
        if (c->at[i] != SIZE_MAX) {
            const MachShadow *sh = mach_shadow(c->s, i);
            memcpy(c->snap + c->at[i], sh->state, sh->size);
        }
}

static HookRec *find_rec(Causes *c, size_t part, const DevMember *mb)
{
    for (size_t i = 0; i < c->n_recs; i++)
        if (c->recs[i].part == part && c->recs[i].mb == mb)
            return &c->recs[i];
    return NULL;
}

/* After a hook: every member it changed is attributed to it (the first hook wins). */
static void attribute(Causes *c, const char *hook)
{
    for (size_t i = 0; i < c->n_parts; i++) {
        if (c->at[i] == SIZE_MAX)
            continue;
        const MachShadow *sh = mach_shadow(c->s, i), *sa = mach_shadow(c->a, i);
        const uint8_t *before = c->snap + c->at[i];
        for (const DevMember *mb = sh->members; mb && mb->name; mb++) {
            size_t off, size;
            compared(mb, &off, &size);
            if (!compared_member(mb) || !memcmp(before + off, (uint8_t *)sh->state + off, size) ||
                find_rec(c, i, mb) || c->n_recs == MAX_RECS)
                continue;
            HookRec *r = &c->recs[c->n_recs++];
            r->part = i;
            r->mb = mb;
            snprintf(r->hook, sizeof(r->hook), "%s", hook);
            r->loaded_wrong = memcmp(before + off, (const uint8_t *)sa->state + off, size) != 0;
        }
    }
}

static void on_event(void *opaque, VmsObsEvent ev, const VmsDesc *d, int version, const VmsError *err)
{
    Causes *c = opaque;
    const char *kind = NULL;
    switch (ev) {
    case VMS_OBS_PRE_LOAD_BEGIN:
    case VMS_OBS_POST_LOAD_BEGIN:
    case VMS_OBS_PRE_SAVE_BEGIN:
    case VMS_OBS_POST_SAVE_BEGIN: snapshot(c); return;
    case VMS_OBS_PRE_LOAD_END: kind = "pre_load"; break;
    case VMS_OBS_POST_LOAD_END: kind = "post_load"; break;
    case VMS_OBS_PRE_SAVE_END: kind = "pre_save"; break;
    case VMS_OBS_POST_SAVE_END: kind = "post_save"; break;
    default: return;
    }
    char hook[72];
    snprintf(hook, sizeof(hook), "%s of '%.50s'", kind, d->name);
    attribute(c, hook);
}

static void on_reset(void *opaque, const char *part, bool after)
{
    Causes *c = opaque;
    if (!after) {
        snapshot(c);
        return;
    }
    char hook[72];
    snprintf(hook, sizeof(hook), "reset of '%.50s'", part);
    attribute(c, hook);
}

/* Watch the hooks of machine s (its reset hooks too if `resets`); "loaded
 * wrong" is judged against a. */
static void watch_begin(Causes *c, Machine *a, Machine *s, bool resets)
{
    memset(c, 0, sizeof(*c));
    c->a = a;
    c->s = s;
    c->n_parts = mach_n_shadows(s);
    c->at = calloc(c->n_parts, sizeof(size_t));
    size_t total = 0;
    for (size_t i = 0; c->at && i < c->n_parts; i++) {
        size_t sz = mach_shadow(s, i)->size;
        c->at[i] = sz <= SNAP_MAX_PART ? total : SIZE_MAX;
        total += sz <= SNAP_MAX_PART ? sz : 0;
    }
    c->snap = malloc(total ? total : 1);
    if (!c->at || !c->snap)
        abort();
    VmsRegistry *reg = mach_registry(s);
    c->keep_ev = reg->observe_event;
    c->keep_opaque = reg->obs_opaque;
    reg->observe_event = on_event;
    reg->obs_opaque = c;
    if (resets)
        mach_set_reset_observer(s, on_reset, c);
}

static void watch_end(Causes *c)
{
    VmsRegistry *reg = mach_registry(c->s);
    reg->observe_event = c->keep_ev;
    reg->obs_opaque = c->keep_opaque;
    mach_set_reset_observer(c->s, NULL, NULL);
    free(c->snap);
    free(c->at);
}

/* The hook record of the member a finding names (part where, member what). */
static const HookRec *named_rec(Causes *c, const LoopFinding *f)
{
    for (size_t i = 0; i < c->n_parts; i++) {
        const MachShadow *sh = mach_shadow(c->s, i);
        const DevMember *mb = strcmp(sh->name, f->where) ? NULL : dev_member_find(sh->members, f->what);
        if (mb)
            return find_rec(c, i, mb);
    }
    return NULL;
}

/* Name the hook in the finding: its why, and its only cause. */
static void name_hook(LoopFinding *f, const char *context, const char *text)
{
    f->n_causes = 1;
    snprintf(f->causes[0], sizeof(f->causes[0]), "hook: %.40s member %.40s: %.140s", f->where, f->what, text);
    snprintf(f->detail, sizeof(f->detail), "%s member '%.40s' of %.40s: %.200s", context, f->what, f->where, text);
}

bool loop_blame_save(Machine *scratch, const void *stream, size_t len, const uint8_t *before, LoopFinding *f)
{
    VmsError err;
    if (!mach_load(scratch, stream, len, &err))
        return false;
    /* Back to the state before the save: every compared plain member as it
     * was (the stream holds what the hooks made of it). */
    for (size_t i = 0; i < mach_n_shadows(scratch); i++) {
        const MachShadow *sh = mach_shadow(scratch, i);
        for (const DevMember *mb = sh->members; mb && mb->name; mb++)
            if (mb->kind == DEV_M_STATE)
                memcpy((uint8_t *)sh->state + mb->offset, before + mb->offset, mb->size);
        before += sh->size;
    }
    Causes c;
    watch_begin(&c, scratch, scratch, false);
    VmsOut out;
    vms_out_init(&out, 0);
    VmsSaveOpts opts = { .no_vmdesc = true };
    mach_save(scratch, &out, &opts, &err);
    vms_out_free(&out);
    const HookRec *r = named_rec(&c, f);
    char text[160];
    if (r)
        snprintf(text, sizeof(text), "%s changed it (a save must change nothing)", r->hook);
    watch_end(&c);
    mach_reset(scratch);
    if (r)
        name_hook(f, "saving changed", text);
    return r != NULL;
}

bool loop_blame_reset(Machine *b, const void *stream, size_t len, LoopFinding *f)
{
    VmsError err;
    if (!mach_load(b, stream, len, &err))
        return false;
    Causes c;
    watch_begin(&c, b, b, true);
    mach_reset(b);
    const HookRec *r = named_rec(&c, f);
    char text[160];
    if (r)
        snprintf(text, sizeof(text), "%s set it to B's value, not the power-on one", r->hook);
    else
        snprintf(text, sizeof(text), "reset of '%.50s' left it as it was before the reset (no reset hook "
                 "changed it)", f->where);
    watch_end(&c);
    name_hook(f, "after reset, B differs from power-on:", text);
    return true;
}

typedef struct Ranked {
    int rank;
    size_t part;
    const DevMember *mb;
    char text[200];
} Ranked;

static int by_rank(const void *x, const void *y)
{
    const Ranked *p = x, *q = y;
    if (p->rank != q->rank)
        return p->rank - q->rank;
    return p->part != q->part ? (p->part < q->part ? -1 : 1) : (p->mb < q->mb ? -1 : p->mb > q->mb);
}

/* Rank one differing member and say why. */
static void explain(Causes *c, size_t part, const DevMember *mb, Ranked *out)
{
    const MachShadow *sh = mach_shadow(c->s, part);
    const VmsDesc *carrier_desc;
    const VmsField *carrier = loop_carrier(sh, mb, &carrier_desc);
    const HookRec *r = find_rec(c, part, mb);
    out->part = part;
    out->mb = mb;
    if (carrier && !mb->derived_from && (!r || r->loaded_wrong)) {
        out->rank = RANK_FIELD;
        snprintf(out->text, sizeof(out->text), "field '%.40s' of '%.40s' loaded a value other than the saved one "
                 "(width, truncation or encoding)", carrier->name, carrier_desc->name);
    } else if (r && !mb->derived_from) {
        out->rank = RANK_HOOK;
        snprintf(out->text, sizeof(out->text), "%s changed it after its fields had loaded the saved value",
                 r->hook);
    } else if (mb->derived_from) {
        out->rank = RANK_DERIVED;
        snprintf(out->text, sizeof(out->text), "derived from %.60s%s%s", mb->derived_from,
                 r ? " by " : " (no hook recomputed it)", r ? r->hook : "");
    } else {
        out->rank = RANK_DERIVED;
        snprintf(out->text, sizeof(out->text), "not carried by any field of description '%.40s'",
                 sh->vmsd ? sh->vmsd->name : "(none)");
    }
}

static size_t rank_all(Causes *c, Ranked *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_parts; i++) {
        const MachShadow *sa = mach_shadow(c->a, i), *ss = mach_shadow(c->s, i);
        for (const DevMember *mb = ss->members; mb && mb->name && n < max; mb++) {
            size_t off, size;
            compared(mb, &off, &size);
            if (compared_member(mb) && memcmp((uint8_t *)sa->state + off, (uint8_t *)ss->state + off, size))
                explain(c, i, mb, &out[n++]);
        }
    }
    qsort(out, n, sizeof(out[0]), by_rank);
    return n;
}

static const char *const rank_names[] = { "", "field", "hook", "derived" };

static void report(Causes *c, const Ranked *r, size_t n, LoopFinding *f)
{
    f->n_causes = 0;
    for (size_t k = 0; k < n && k < LOOP_MAX_CAUSES; k++)
        snprintf(f->causes[f->n_causes++], sizeof(f->causes[0]), "%s: %.40s member %.40s: %.110s",
                 rank_names[r[k].rank], mach_shadow(c->s, r[k].part)->name, r[k].mb->name, r[k].text);
    const MachShadow *sa = mach_shadow(c->a, r[0].part), *ss = mach_shadow(c->s, r[0].part);
    size_t off, size;
    compared(r[0].mb, &off, &size);
    snprintf(f->where, sizeof(f->where), "%s", ss->name);
    snprintf(f->what, sizeof(f->what), "%s", r[0].mb->name);
    f->instance = -1;
    loop_format_member(f->a, sizeof(f->a), (uint8_t *)sa->state + off, (uint8_t *)ss->state + off, size);
    loop_format_member(f->b, sizeof(f->b), (uint8_t *)ss->state + off, (uint8_t *)sa->state + off, size);
    snprintf(f->detail, sizeof(f->detail), "after the round trip, member '%.40s' of %.40s: %.130s", r[0].mb->name,
             ss->name, r[0].text);
}

size_t loop_rank_causes(Machine *a, Machine *scratch, const void *stream, size_t len, LoopFinding *f)
{
    Causes c;
    watch_begin(&c, a, scratch, false);
    VmsError err;
    bool loaded = mach_load(scratch, stream, len, &err);
    size_t n = 0;
    Ranked r[LOOP_MAX_CAUSES * 4];
    if (loaded && mach_n_shadows(a) == c.n_parts && (n = rank_all(&c, r, sizeof(r) / sizeof(r[0]))))
        report(&c, r, n, f);
    watch_end(&c);
    mach_reset(scratch);
    return n;
}
