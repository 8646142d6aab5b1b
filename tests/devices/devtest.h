/*
 * devtest.h - a small harness for device tests (prefix devtest_).
 *
 * Builds a machine with a single device at DEVTEST_BASE wired to NVIC line
 * DEVTEST_IRQ, and offers register access, virtual time, host input, a log
 * of guest-visible events, save/load round trips and the hostile-stream
 * check every device runs. Every helper fails the current cmocka test on a
 * harness error, so test bodies read as the specification of the device.
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>.
 */
#ifndef VMSTRESS_DEVTEST_H
#define VMSTRESS_DEVTEST_H

#include <stdint.h>

#include "machine.h"

#define DEVTEST_BASE 0x40000000u
#define DEVTEST_IRQ 7
#define DEVTEST_NS_PER_SEC 1000000000ull
#define DEVTEST_CYCLES_PER_SEC (DEVTEST_NS_PER_SEC / VCLOCK_NS_PER_CYCLE)

typedef struct DevTest {
    Machine *m;
    Board board;
    DevConfig cfg[3];
    char type[32];
    char slave[32];             /* a device on its SSI bus (device 1), or "" */
    MachEvent *ev;              /* everything the machine reported, in order */
    size_t n_ev, cap_ev;
} DevTest;

/* props: {NULL, 0}-terminated, or NULL for the device's defaults. */
DevTest *devtest_new(const char *type, const DevProp *props);
/* The same with a device of type `slave` on its SSI bus ("ssi-bus" = DEVTEST_BASE,
 * no MMIO, no IRQ), as board index 1; migrate and hostile checks keep it. */
DevTest *devtest_new_with_slave(const char *type, const DevProp *props, const char *slave);
void devtest_free(DevTest *t);
/* cmocka teardown for tests whose setup put a DevTest in *state. */
int devtest_teardown(void **state);

uint32_t devtest_read(DevTest *t, uint32_t offset);             /* 32-bit access */
uint32_t devtest_read_n(DevTest *t, uint32_t offset, unsigned size);
void devtest_write(DevTest *t, uint32_t offset, uint32_t value);
void devtest_write_n(DevTest *t, uint32_t offset, uint32_t value, unsigned size);
void devtest_idle(DevTest *t, uint64_t cycles);
void devtest_input(DevTest *t, unsigned channel, uint32_t value);
void *devtest_state(DevTest *t);

/* Events: all of a kind, the i-th of a kind, and the IRQ line level (from
 * the last MACH_EV_IRQ event; 0 if the line never moved). */
void devtest_clear_events(DevTest *t);
size_t devtest_count(const DevTest *t, MachEventKind kind);
const MachEvent *devtest_event(const DevTest *t, MachEventKind kind, size_t i);
int devtest_irq(const DevTest *t);
/* a and b reported the same IRQ edges (level and cycle) since their last clear. */
void devtest_same_irq_events(const DevTest *a, const DevTest *b);
/* Every event (cycle, kind, channel, value) and the state digests agree. */
void devtest_same_events(const DevTest *a, const DevTest *b);

/* The eight PrimeCell/peripheral ID registers at 0xFE0..0xFFC read `id` and
 * ignore writes. */
void devtest_check_ids(DevTest *t, const uint8_t id[8]);
/* The device type's member table tiles its state struct. */
void devtest_check_members(const char *type);

/* Save the machine; the caller frees the buffer. map may be NULL. */
uint8_t *devtest_save(DevTest *t, size_t *len, VmsMap *map);
/* Save t, then load the stream into a fresh machine of the same layout
 * (which is reset first, as a migration target is). Returns the target. */
DevTest *devtest_migrate(DevTest *t);

/*
 * The hostile-stream check: save t with a map, overwrite the big-endian
 * value of the leaf whose path is `field` (e.g. "read_pos") with `value`,
 * load into a fresh machine, and require that the load fails with an error
 * whose formatted line contains `field`, and that the target is left in
 * its power-on state (same digest as a fresh machine).
 */
void devtest_hostile(DevTest *t, const char *field, uint64_t value);
/* The same, and the load's error for a closer look. */
void devtest_hostile_error(DevTest *t, const char *field, uint64_t value, VmsError *out);

/* A stream QEMU would accept but this model never writes: save t with leaf
 * `field` set to `value` and load it into a fresh machine, which must
 * accept it. Returns the target. */
DevTest *devtest_migrate_patched(DevTest *t, const char *field, uint64_t value);

/* The same with several leaves set at once, for states whose
 * fields must agree with each other (a timer's next_event and deadline);
 * the hostile form's error must name the first patch's field. */
typedef struct DevtestPatch {
    const char *field;
    uint64_t value;
} DevtestPatch;
DevTest *devtest_migrate_patches(DevTest *t, const DevtestPatch *p, size_t n);
void devtest_hostile_patches(DevTest *t, const DevtestPatch *p, size_t n, VmsError *out);

/* The value of leaf `field` (a member path such as "timer.next_event") in
 * t's stream, as the wire has it (big-endian, at most 8 bytes). */
uint64_t devtest_field(DevTest *t, const char *field);
/* Save t, load the stream into a fresh machine, save that: the two streams
 * must be byte for byte the same. */
void devtest_fixpoint(DevTest *t);

#endif
