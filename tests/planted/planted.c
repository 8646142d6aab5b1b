/*
 * planted.c - test-only device variants, each planting one classic migration
 * bug into a shipped device, to prove that `vmstress run` catches it.
 *
 * A variant is derived at start-up from the shipped DevType by editing its
 * tables or wrapping one of its functions; no device code is copied, so the
 * variants follow the devices as they change. A plant on a core section
 * (not a device type) becomes a description variant instead. Linked only
 * into vmstress-planted, which defines the weak dev_test_types[] and
 * dev_test_descs[] the registry looks in.
 *
 * The bug kinds:
 *   missing-field   the description forgets a field ("s.f": field f of the
 *                   description of struct field s)
 *   stale-derived   post_load forgets to recompute a derived member
 *   presave-effect  pre_save changes guest-visible state
 *   needed-wrong    a subsection's needed() says no when it should say yes
 *   reset-forgets   reset leaves a member as it was
 *   timer-unarmed   a timer is not re-armed after load
 *   field-edit      a field's codec or element count differs from its member
 *                   (narrow, wide, signed, EQUAL, an array short or long)
 *   range-dropped   an index member's declared range is left out
 *   lax-validator   the load check accepts one value past the declared
 *                   range (the value stays inside the struct)
 *   irq-dropped     post_load lowers the device's interrupt line (target:
 *                   the member holding the Device pointer)
 *   field-appended  a field (a copy of the target's, named "planted") added
 *                   at the end of the description without a version bump:
 *                   invisible within one build, it breaks every stream of a
 *                   frozen release (tests/compat, compat_planted_*)
 *   unchecked-count the count of a variable array is not validated: the
 *                   VALIDATE entries that name it are dropped, and the
 *                   array is described with room for one element more
 *                   (QEMU's VMSTATE_VARRAY has no capacity of its own; the
 *                   device's validator is the only bound, and it is gone)
 *   dma-unlogged    the device also acts as a DMA engine that writes guest
 *                   memory every few thousand cycles through a TEST-ONLY
 *                   back door that skips the dirty log (target: the SRAM
 *                   offset it writes); only `run --precopy` can see it
 *   order-dependent post_load reads another device's member through the
 *                   machine and, while that reads 0 (not loaded yet),
 *                   disarms a timer (target "TIMER|TYPE.MEMBER"; the
 *                   device's Device pointer is its member "dev")
 *   deadline-relative post_load re-arms a running ptimer at now + its period
 *                   (next_event - last_event) instead of the saved absolute
 *                   deadline (target: the PTimer member)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "device.h"
#include "machine_int.h"   /* the dma-unlogged back door only */
#include "machine.h"
#include "ptimer.h"
#include "vclock.h"

typedef enum PlantKind {
    MISSING_FIELD, STALE_DERIVED, PRESAVE_EFFECT, NEEDED_WRONG, RESET_FORGETS, TIMER_UNARMED,
    FIELD_EDIT, RANGE_DROPPED, LAX_VALIDATOR, IRQ_DROPPED, FIELD_APPENDED, UNCHECKED_COUNT,
    DMA_UNLOGGED, ORDER_DEPENDENT, DEADLINE_RELATIVE,
} PlantKind;

typedef struct Plant {
    const char *name;       /* variant type name */
    const char *base;       /* shipped type */
    PlantKind kind;
    const char *target;     /* field, member or subsection name */
    /* FIELD_EDIT: the codec and element size to use instead (NULL: keep),
     * and how many elements to add to an array (may be negative). */
    const VmsInfo *info;
    size_t size;
    int num_delta;
} Plant;

#include "plants.def"      /* static const Plant plants[] = {...}; */

#define N_PLANTS (sizeof(plants) / sizeof(plants[0]))
#define MAX_FIELDS 96
#define MAX_SUBS 8
#define MAX_MEMBERS 64

typedef struct Variant {
    const Plant *plant;
    const DevType *base;            /* NULL for a core section */
    const VmsDesc *base_vmsd;
    DevType type;
    VmsDesc vmsd;
    VmsField fields[MAX_FIELDS];
    const VmsDesc *subs[MAX_SUBS + 1];
    VmsDesc sub_copy;
    VmsDesc child;                  /* MISSING_FIELD "s.f": struct s's edited description */
    VmsField child_fields[MAX_FIELDS];
    DevMember members[MAX_MEMBERS]; /* RANGE_DROPPED: the edited member table */
    const DevMember *member;        /* target member, when the bug is about one */
    const DevMember *dev_member;    /* ORDER_DEPENDENT: the Device pointer */
    char other_type[32];            /* ORDER_DEPENDENT: the device read, and its member */
    const char *other_member;
    uint8_t saved[256];             /* its bytes, kept across a reset or a load */
} Variant;

static Variant variants[N_PLANTS];
const DevType *dev_test_types[N_PLANTS + 1];
DevTestDesc dev_test_descs[N_PLANTS + 1];

/* Core sections a plant may name as its base, with their descriptions. */
static const struct {
    const char *section;
    const VmsDesc *vmsd;
} core_bases[] = {
    { "cpu", &vmsd_armv6m_cpu },
};

static const VmsDesc *core_base(const char *section)
{
    for (size_t i = 0; i < sizeof(core_bases) / sizeof(core_bases[0]); i++)
        if (!strcmp(core_bases[i].section, section))
            return core_bases[i].vmsd;
    return NULL;
}

static void die(const Plant *p, const char *what)
{
    fprintf(stderr, "planted variant %s: %s '%s' not found in %s\n", p->name, what, p->target, p->base);
    exit(2);
}

static const DevMember *find_named(const Variant *v, const char *name, size_t len)
{
    for (const DevMember *m = v->base->members; m && m->name; m++)
        if (strlen(m->name) == len && !strncmp(m->name, name, len)) {
            if (m->size > sizeof(v->saved))
                die(v->plant, "member too large");
            return m;
        }
    die(v->plant, "member");
    return NULL;
}

/* The target member: the target up to a '|' (what follows is another part). */
static const DevMember *find_member(const Variant *v)
{
    return find_named(v, v->plant->target, strcspn(v->plant->target, "|"));
}

/* One hook wrapper per kind: each kind is planted once, so the wrapper finds
 * its variant by kind. */
static Variant *by_kind(PlantKind k)
{
    for (size_t i = 0; i < N_PLANTS; i++)
        if (variants[i].plant->kind == k)
            return &variants[i];
    return NULL;
}

/* Keep and put back a member's value; a timer's value is its deadline, and
 * it is put back through the timer API so the clock's list stays sound. */
static void keep(Variant *v, void *s)
{
    memcpy(v->saved, (uint8_t *)s + v->member->offset, v->member->size);
}

static void restore(Variant *v, void *s)
{
    uint8_t *p = (uint8_t *)s + v->member->offset;
    if (v->member->kind == DEV_M_TIMER)
        vtimer_mod((VTimer *)p, ((const VTimer *)v->saved)->deadline);
    else
        memcpy(p, v->saved, v->member->size);
}

/* stale-derived: the member keeps the value it had before the load (its reset value). */
static bool stale_pre_load(void *s, int version, VmsMsg *why)
{
    Variant *v = by_kind(STALE_DERIVED);
    keep(v, s);
    return v->base_vmsd->pre_load ? v->base_vmsd->pre_load(s, version, why) : true;
}

static bool stale_post_load(void *s, int version, VmsMsg *why)
{
    Variant *v = by_kind(STALE_DERIVED);
    bool ok = v->base_vmsd->post_load ? v->base_vmsd->post_load(s, version, why) : true;
    restore(v, s);
    return ok;
}

/* presave-effect: saving flips the low bit of a guest-visible member. */
static bool effect_pre_save(void *s, VmsMsg *why)
{
    Variant *v = by_kind(PRESAVE_EFFECT);
    bool ok = v->base_vmsd->pre_save ? v->base_vmsd->pre_save(s, why) : true;
    ((uint8_t *)s)[v->member->offset] ^= 1;
    return ok;
}

/* reset-forgets: the member survives the reset. */
static void forgetful_reset(void *s)
{
    Variant *v = by_kind(RESET_FORGETS);
    keep(v, s);
    v->base->reset(s);
    restore(v, s);
}

/* timer-unarmed: after load the timer is left disarmed. */
static bool unarmed_post_load(void *s, int version, VmsMsg *why)
{
    Variant *v = by_kind(TIMER_UNARMED);
    bool ok = v->base_vmsd->post_load ? v->base_vmsd->post_load(s, version, why) : true;
    vtimer_del((VTimer *)((uint8_t *)s + v->member->offset));
    return ok;
}

/* lax-validator: the base check sees the last legal value in place of the
 * first illegal one, and the loaded value is kept. */
static bool lax_post_load(void *s, int version, VmsMsg *why)
{
    Variant *v = by_kind(LAX_VALIDATOR);
    int64_t loaded = dev_member_get(v->member, s, 0);
    if (loaded == v->member->hi + 1)
        dev_member_set(v->member, s, 0, v->member->hi);
    bool ok = v->base_vmsd->post_load(s, version, why);
    if (ok && loaded == v->member->hi + 1)
        dev_member_set(v->member, s, 0, loaded);
    return ok;
}

/* irq-dropped: after load the device's line 0 is low, whatever its state says. */
static bool irq_dropped_post_load(void *s, int version, VmsMsg *why)
{
    Variant *v = by_kind(IRQ_DROPPED);
    bool ok = v->base_vmsd->post_load ? v->base_vmsd->post_load(s, version, why) : true;
    Device *dev;
    memcpy(&dev, (uint8_t *)s + v->member->offset, sizeof(dev));
    dev_set_irq(dev, 0, false);
    return ok;
}

/* order-dependent: the other device's member, read through the machine. */
static int64_t other_member(Variant *v, void *s)
{
    Device *dev;
    memcpy(&dev, (uint8_t *)s + v->dev_member->offset, sizeof(dev));
    Machine *m = dev_machine(dev);
    for (size_t i = 0; i < mach_n_devices(m); i++) {
        const DevType *t = mach_device_type(m, i);
        const DevMember *mb = strcmp(t->name, v->other_type) ? NULL : dev_member_find(t->members, v->other_member);
        if (mb)
            return dev_member_get(mb, mach_device_state(m, i), 0);
    }
    die(v->plant, "device of the other type");
    return 0;
}

static bool order_post_load(void *s, int version, VmsMsg *why)
{
    Variant *v = by_kind(ORDER_DEPENDENT);
    bool ok = v->base_vmsd->post_load ? v->base_vmsd->post_load(s, version, why) : true;
    if (other_member(v, s) == 0)
        vtimer_del((VTimer *)((uint8_t *)s + v->member->offset));
    return ok;
}

/* deadline-relative: a running ptimer is re-armed one period from now. */
static bool relative_post_load(void *s, int version, VmsMsg *why)
{
    Variant *v = by_kind(DEADLINE_RELATIVE);
    bool ok = v->base_vmsd->post_load ? v->base_vmsd->post_load(s, version, why) : true;
    PTimer *p = (PTimer *)((uint8_t *)s + v->member->offset - offsetof(PTimer, enabled));
    if (ok && ptimer_running(p))
        vtimer_mod(&p->vt, vclock_ns(p->vt.clock) + (p->next_event - p->last_event));
    return ok;
}

static bool never_needed(void *s) { return false; }

/* Copy a field list into out[MAX_FIELDS], leaving out the field named drop. */
static void copy_field_list(const Variant *v, const VmsField *in, VmsField *out, const char *drop)
{
    size_t n = 0;
    bool dropped = false;
    for (const VmsField *f = in; !(f->flags & VMS_END); f++) {
        if (drop && !dropped && !strcmp(f->name, drop)) {
            dropped = true;
            continue;
        }
        if (n + 1 >= MAX_FIELDS)
            die(v->plant, "too many fields near");
        out[n++] = *f;
    }
    if (drop && !dropped)
        die(v->plant, "field");
    out[n] = (VmsField)VMS_END_OF_LIST();
}

/* drop is a field name, or "s.f": field f of the description of struct field s. */
static void copy_fields(Variant *v, const char *drop)
{
    const char *dot = drop ? strchr(drop, '.') : NULL;
    copy_field_list(v, v->base_vmsd->fields, v->fields, dot ? NULL : drop);
    v->vmsd.fields = v->fields;
    if (!dot)
        return;
    for (VmsField *f = v->fields; !(f->flags & VMS_END); f++)
        if ((f->flags & VMS_STRUCT) && strlen(f->name) == (size_t)(dot - drop) &&
            !strncmp(f->name, drop, (size_t)(dot - drop))) {
            v->child = *f->vmsd;
            copy_field_list(v, f->vmsd->fields, v->child_fields, dot + 1);
            v->child.fields = v->child_fields;
            f->vmsd = &v->child;
            return;
        }
    die(v->plant, "struct field");
}

static void wrong_needed(Variant *v)
{
    size_t n = 0;
    bool found = false;
    for (const VmsDesc *const *s = v->base_vmsd->subsections; s && *s; s++) {
        if (n == MAX_SUBS)
            die(v->plant, "too many subsections near");
        if (!strcmp((*s)->name, v->plant->target)) {
            v->sub_copy = **s;
            v->sub_copy.needed = never_needed;
            v->subs[n++] = &v->sub_copy;
            found = true;
        } else {
            v->subs[n++] = *s;
        }
    }
    if (!found)
        die(v->plant, "subsection");
    v->subs[n] = NULL;
    v->vmsd.subsections = v->subs;
}

static void edit_field(Variant *v)
{
    copy_fields(v, NULL);
    for (VmsField *f = v->fields; !(f->flags & VMS_END); f++)
        if (!strcmp(f->name, v->plant->target)) {
            if (v->plant->info) {
                f->info = v->plant->info;
                f->size = v->plant->size;
            }
            f->num = (uint32_t)((int)f->num + v->plant->num_delta);
            return;
        }
    die(v->plant, "field");
}

static void append_field(Variant *v)
{
    copy_fields(v, NULL);
    size_t n = 0;
    const VmsField *target = NULL;
    for (; !(v->fields[n].flags & VMS_END); n++)
        if (!strcmp(v->fields[n].name, v->plant->target))
            target = &v->fields[n];
    if (!target || n + 2 >= MAX_FIELDS)
        die(v->plant, "field (with room for one more)");
    v->fields[n] = *target;
    v->fields[n].name = "planted";
    v->fields[n + 1] = (VmsField)VMS_END_OF_LIST();
}

static void drop_range(Variant *v)
{
    size_t n = 0;
    for (const DevMember *m = v->base->members; m->name; m++) {
        if (n + 1 >= MAX_MEMBERS)
            die(v->plant, "too many members near");
        v->members[n] = *m;
        if (!strcmp(m->name, v->plant->target))
            v->members[n].ranged = false;
        n++;
    }
    v->members[n] = (DevMember)DEV_MEMBERS_END;
    v->type.members = v->members;
}

static void unchecked_count(Variant *v)
{
    size_t n = 0, target_len = strlen(v->plant->target);
    bool widened = false;
    for (const VmsField *f = v->base_vmsd->fields; !(f->flags & VMS_END); f++) {
        if ((f->flags & VMS_MUST_EXIST) && !strncmp(f->name, v->plant->target, target_len))
            continue;
        if (n + 1 >= MAX_FIELDS)
            die(v->plant, "too many fields near");
        v->fields[n] = *f;
        if ((f->flags & VMS_VARRAY_ANY) && f->num_offset == v->member->offset) {
            v->fields[n].num++;
            widened = true;
        }
        n++;
    }
    if (!widened)
        die(v->plant, "variable array counted by");
    v->fields[n] = (VmsField)VMS_END_OF_LIST();
    v->vmsd.fields = v->fields;
}

/* A plant on a core section: only description edits apply there. */
/* dma-unlogged. TEST-ONLY BACK DOOR: devices write guest memory through
 * dev_mem_write, which marks the dirty log; this writes SRAM directly, as a
 * DMA engine holding a host pointer to guest RAM would, recording itself as
 * the page's last writer (as mach_mem_write does) but leaving the page
 * clean. It exists only in vmstress-planted, to prove `run --precopy`
 * catches and names such a device. */
static void unlogged_write(Device *dev, uint32_t off, uint32_t value)
{
    Machine *m = dev_machine(dev);
    memcpy(m->sram + off, &value, sizeof(value));
    m->page_writer[off >> MACH_PAGE_BITS] = (uint16_t)dev->index;
    /* Hidden from the log's readers, not from power-on: the next
     * mach_reset must still zero the page. */
    m->mem[0].unzeroed[off >> MACH_PAGE_BITS] = 1;
}

#define DMA_PERIOD_CYCLES 3000u
#define DMA_MAX 64              /* machines a process builds (A, B, reference, re-runs) */

/* The DMA engine's own state, beside the device's (never migrated: after
 * a load it simply starts again). */
typedef struct Dma {
    void *s;                    /* the device state it belongs to */
    Device *dev;
    VTimer timer;
    uint32_t count;
} Dma;
static Dma dmas[DMA_MAX];

static Dma *dma_of(void *s)
{
    for (size_t i = 0; i < DMA_MAX; i++)
        if (dmas[i].s == s)
            return &dmas[i];
    return NULL;
}

static void dma_arm(Dma *d)
{
    VClock *c = dev_clock(d->dev);
    vtimer_mod(&d->timer, (int64_t)((c->cycles + DMA_PERIOD_CYCLES) * VCLOCK_NS_PER_CYCLE));
}

static void dma_fire(void *opaque)
{
    Dma *d = opaque;
    Variant *v = by_kind(DMA_UNLOGGED);
    uint32_t base = (uint32_t)strtoul(v->plant->target, NULL, 0);
    d->count++;
    unlogged_write(d->dev, base + (d->count * 4) % MACH_PAGE_SIZE, d->count);
    dma_arm(d);
}

static bool dma_realize(Device *dev, void *s, VmsMsg *why)
{
    Variant *v = by_kind(DMA_UNLOGGED);
    Dma *d = dma_of(s);
    if (!d)
        d = dma_of(NULL);
    if (!d) {
        fprintf(stderr, "planted variant %s: more than %d machines\n", v->plant->name, DMA_MAX);
        exit(2);
    }
    *d = (Dma){ .s = s, .dev = dev };
    vtimer_init(&d->timer, dev_clock(dev), dma_fire, d);
    return v->base->realize(dev, s, why);
}

static void dma_reset(void *s)
{
    by_kind(DMA_UNLOGGED)->base->reset(s);
    Dma *d = dma_of(s);
    d->count = 0;
    dma_arm(d);
}

static void init_core_variant(Variant *v, size_t *n_descs)
{
    if (v->plant->kind != NEEDED_WRONG && v->plant->kind != MISSING_FIELD)
        die(v->plant, "this kind needs a device type, and there is none named");
    v->vmsd = *v->base_vmsd;
    if (v->plant->kind == MISSING_FIELD)
        copy_fields(v, v->plant->target);
    else
        wrong_needed(v);
    dev_test_descs[(*n_descs)++] = (DevTestDesc){ v->plant->base, v->plant->name, &v->vmsd };
}

__attribute__((constructor)) static void planted_init(void)
{
    size_t n_types = 0, n_descs = 0;
    for (size_t i = 0; i < N_PLANTS; i++) {
        Variant *v = &variants[i];
        v->plant = &plants[i];
        v->base = dev_type_find(plants[i].base);
        v->base_vmsd = v->base ? v->base->vmsd : core_base(plants[i].base);
        if (!v->base_vmsd) {
            fprintf(stderr, "planted variant %s: no device type or core section '%s'\n",
                    plants[i].name, plants[i].base);
            exit(2);
        }
        if (!v->base) {
            init_core_variant(v, &n_descs);
            continue;
        }
        v->type = *v->base;
        v->type.name = plants[i].name;
        v->vmsd = *v->base_vmsd;        /* same name: the stream stays the device's */
        v->type.vmsd = &v->vmsd;
        switch (plants[i].kind) {
        case MISSING_FIELD: copy_fields(v, plants[i].target); break;
        case STALE_DERIVED:
            v->member = find_member(v);
            v->vmsd.pre_load = stale_pre_load;
            v->vmsd.post_load = stale_post_load;
            break;
        case PRESAVE_EFFECT: v->member = find_member(v); v->vmsd.pre_save = effect_pre_save; break;
        case NEEDED_WRONG: wrong_needed(v); break;
        case RESET_FORGETS: v->member = find_member(v); v->type.reset = forgetful_reset; break;
        case TIMER_UNARMED:
            v->member = find_member(v);
            if (v->member->kind != DEV_M_TIMER)
                die(v->plant, "timer member");
            v->vmsd.post_load = unarmed_post_load;
            break;
        case FIELD_EDIT: edit_field(v); break;
        case FIELD_APPENDED: append_field(v); break;
        case IRQ_DROPPED:
            v->member = find_member(v);
            if (v->member->kind != DEV_M_HOST || v->member->size != sizeof(Device *))
                die(v->plant, "host-only Device pointer member");
            v->vmsd.post_load = irq_dropped_post_load;
            break;
        case RANGE_DROPPED: find_member(v); drop_range(v); break;
        case UNCHECKED_COUNT: v->member = find_member(v); unchecked_count(v); break;
        case DMA_UNLOGGED: v->type.realize = dma_realize; v->type.reset = dma_reset; break;
        case ORDER_DEPENDENT: {
            v->member = find_member(v);
            v->dev_member = find_named(v, "dev", 3);
            const char *other = strchr(plants[i].target, '|');
            const char *dot = other ? strchr(other, '.') : NULL;
            if (v->member->kind != DEV_M_TIMER || !dot || (size_t)(dot - other) > sizeof(v->other_type))
                die(v->plant, "TIMER|TYPE.MEMBER in");
            snprintf(v->other_type, sizeof(v->other_type), "%.*s", (int)(dot - other - 1), other + 1);
            v->other_member = dot + 1;
            v->vmsd.post_load = order_post_load;
            break;
        }
        case DEADLINE_RELATIVE: {
            char name[64];
            snprintf(name, sizeof(name), "%s.enabled", plants[i].target);
            v->member = find_named(v, name, strlen(name));
            v->vmsd.post_load = relative_post_load;
            break;
        }
        case LAX_VALIDATOR:
            v->member = find_member(v);
            if (!v->member->ranged || !v->base_vmsd->post_load)
                die(v->plant, "ranged member with a post_load check");
            v->vmsd.post_load = lax_post_load;
            break;
        }
        dev_test_types[n_types++] = &v->type;
    }
    dev_test_types[n_types] = NULL;
    dev_test_descs[n_descs] = (DevTestDesc){ NULL, NULL, NULL };
}
