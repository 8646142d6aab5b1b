/*
 * device.h - what a device model provides, and what the machine provides to it
 * (prefix dev_ / DEV_).
 *
 * A device is a state struct plus a DevType: a few functions (realize,
 * reset, MMIO, host-side input) and two tables. The VmsDesc says what is
 * migrated; the DevMember table lists every member of the state struct, so
 * the round-trip loop can compare twins member by member and name a member
 * that no description field carries ("field forgotten in the description").
 * Members that legitimately differ between twins (pointers, callbacks,
 * caches) are declared host-only or volatile, each with a reason; nothing is
 * skipped silently.
 *
 * Devices register themselves in devices/devices.def; the harness never
 * names a device.
 */
#ifndef VMSTRESS_DEVICE_H
#define VMSTRESS_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "members.h"
#include "vclock.h"
#include "vmstate.h"

typedef struct Machine Machine;
typedef struct Device Device;

/* ------------------------------------------------------------ MMIO */

/* What a byte or halfword read at `offset` sees of the 32-bit register that
 * holds `word` (APB registers are words; narrow reads take a slice). */
static inline uint32_t dev_narrow_read(uint32_t word, uint32_t offset, unsigned size)
{
    word >>= 8 * (offset & 3);
    return size >= 4 ? word : word & ((1u << (8 * size)) - 1);
}

typedef struct DevMmioOps {
    /* offset is relative to the region base; size is 1, 2 or 4. */
    uint32_t (*read)(void *s, uint32_t offset, unsigned size);
    void (*write)(void *s, uint32_t offset, uint32_t value, unsigned size);
} DevMmioOps;

/* ------------------------------------------------------ register tables */

/*
 * A guest-visible register, as data, for the loop's register explorer
 * (harness/loop/explore.c): between checkpoints it writes registers of a
 * copy of the machine and checkpoints that copy, steering each write toward
 * the bits of `field` not yet seen as 0 or as 1 at a save. A register whose
 * write stores nothing (a read-only register) is not listed.
 */
typedef struct DevReg {
    const char *name;           /* the TRM's name: "CR", "LCR_H" */
    uint32_t offset;            /* from the device's MMIO base */
    uint8_t width;              /* access size in bytes: 1, 2 or 4 */
    uint32_t writable;          /* the bits a write stores or acts on */
    /* "description/field" that stores the written bits at the same
     * positions (element 0 of an array), or NULL: written at random. */
    const char *field;
    /* A value with a meaning of its own (an unlock key), written half the
     * time instead of a steered one; 0 for none. */
    uint32_t key;
    const char *effects;        /* side effects of a write, for people; NULL: none */
    /* Host inputs reach the device only when (value & input_mask) ==
     * input_value (a receiver enabled, a FIFO on): before a burst of host
     * inputs the explorer writes such values. input_mask 0: no condition. */
    uint32_t input_mask, input_value;
} DevReg;

#define DEV_REG(nm, off, w, mask, fld, k, fx) { (nm), (off), (w), (mask), (fld), (k), (fx), 0, 0 }
/* A register that gates the device's host inputs. */
#define DEV_REG_INPUT(nm, off, w, mask, fld, in_mask, in_value, fx) \
    { (nm), (off), (w), (mask), (fld), 0, (fx), (in_mask), (in_value) }
#define DEV_REGS_END { NULL, 0, 0, 0, NULL, 0, NULL, 0, 0 }

/* --------------------------------------------------------- device types */

#define DEV_MAX_IRQS 4
#define DEV_MAX_PROPS 6

typedef struct DevProp {
    const char *name;
    uint32_t value;
} DevProp;

typedef struct DevType {
    const char *name;               /* QOM-style type name: "pl011"; the -dump-vmstate key */
    const char *summary;            /* one line for --help and docs */
    size_t state_size;
    const VmsDesc *vmsd;            /* registered as section "<vmsd->name>", next free instance */
    const DevMember *members;       /* every member of the state struct */
    /* Other descriptions the device registers as sections of their own in
     * realize (QEMU's SP804 registers two "arm_timer" sections). NULL-terminated. */
    const VmsDesc *const *extra_vmsds;
    /* Bind to the machine: map MMIO, initialise timers, register extra
     * sections. The state is zeroed before; reset is called after. */
    bool (*realize)(Device *dev, void *s, VmsMsg *why);
    /* Power-on state of everything the guest can observe. Keeps host-only members. */
    void (*reset)(void *s);
    /* Host-side input (UART receive byte, GPIO input pins); NULL if none. */
    void (*input)(void *s, unsigned channel, uint32_t value);
    const char *const *inputs;      /* channel names, NULL-terminated, or NULL */
    /* An SSI (SPI) slave: exchange one frame (the reply), and follow its
     * chip select. NULL if the device is not one. See dev_ssi_transfer. */
    uint32_t (*ssi_transfer)(void *s, uint32_t out);
    void (*ssi_select)(void *s, bool selected);
    /* Its writable registers, DEV_REGS_END-terminated; NULL: never explored. */
    const DevReg *regs;
} DevType;

/* The registry of all device types, from devices/devices.def. */
extern const DevType *const dev_types[];
extern const size_t dev_n_types;
/* Test-only variants (planted bugs): defined only by test binaries that link some. */
extern const DevType *dev_test_types[];
/* Test-only description variants for sections that are not devices (the
 * core's): {section idstr, variant name, description}. Same rule. */
typedef struct DevTestDesc {
    const char *section;
    const char *name;
    const VmsDesc *vmsd;
} DevTestDesc;
extern DevTestDesc dev_test_descs[];
const DevTestDesc *dev_test_desc_find(const char *name);
const DevType *dev_type_find(const char *name);

/* ---------------------------------------------- what the machine offers */

/* The board lays devices out: type, base address, IRQ lines, properties. */
typedef struct DevConfig {
    const char *type;
    uint32_t base;
    int irq[DEV_MAX_IRQS];          /* NVIC external IRQ numbers, -1 for unused */
    DevProp props[DEV_MAX_PROPS];   /* {NULL, 0}-terminated */
    /* The first machine version with this device (a MACH_VERSION, machine.h);
     * 0: every version. A new version adds devices at the end of a layout,
     * so older layouts stay a prefix of it. */
    unsigned since;
} DevConfig;

Machine *dev_machine(Device *dev);
const char *dev_name(const Device *dev);         /* "pl011.0": type and per-type index */
VClock *dev_clock(Device *dev);
/* A property: the layout's value, else the machine type's compat default
 * (MachCompat), else dflt. */
uint32_t dev_prop(const Device *dev, const char *name, uint32_t dflt);
/* Save the device's own section at `version` of its description instead of
 * the newest (from realize): a compat property keeps an older machine
 * type's stream format (fields of later versions are not sent). */
void dev_set_save_version(Device *dev, int version);
/* Map `size` bytes at config base + offset. */
bool dev_map_mmio(Device *dev, uint32_t offset, uint32_t size, const DevMmioOps *ops, void *s);
/* Drive output line n (index into the config's irq[]). Edges are recorded for the oracle. */
void dev_set_irq(Device *dev, unsigned n, bool level);
/* Register another section (idstr = vmsd name, next free instance id). */
bool dev_register_section(Device *dev, const VmsDesc *vmsd, void *opaque,
                          const DevMember *members, size_t size, const char *shadow_name);

/* Guest-visible output, compared between twins as it happens. */
typedef enum DevOutKind {
    DEV_OUT_DATA = 1,   /* a byte or word sent out (UART transmit) */
    DEV_OUT_PINS,       /* output pin levels changed (GPIO data & direction) */
    DEV_OUT_RESET,      /* the device requested a system reset (watchdog) */
} DevOutKind;
void dev_output(Device *dev, DevOutKind kind, unsigned channel, uint32_t value);
/* Ask for a system reset at the next instruction boundary (watchdog). */
void dev_request_reset(Device *dev, const char *why);

/* Guest memory as a bus master sees it (DMA, descriptor rings, linked-list
 * items). The one way a device reads or writes guest memory: writes go
 * through the machine's single RAM write path, so every byte a device
 * stores is seen by whatever tracks guest RAM (the dirty log). Flash reads
 * like RAM and refuses writes; anything outside flash and SRAM (MMIO
 * included) fails, as a bus error would, and nothing is transferred.
 * Returns false, with no byte moved, on any part of the range that fails. */
bool dev_mem_read(Device *dev, uint32_t addr, void *buf, size_t len);
bool dev_mem_write(Device *dev, uint32_t addr, const void *buf, size_t len);

/* Device-owned memory with a dirty log, like SRAM's (machine.h, "tracked
 * memory"): a large buffer of the device's state (a disk image, a flash
 * array), registered from realize. The machine keeps one dirty byte per
 * MACH_PAGE_SIZE page of it, with the same readers as SRAM's log, so the
 * round-trip loop compares and copies only the pages written since its
 * last checkpoint. The device marks every byte it writes there with
 * dev_mark_dirty, on every path (MMIO, timers, DMA into it, load hooks);
 * the machine marks all of it when it zeroes it (every reset: power-on and
 * system, but not mach_reset_keep_ram, which keeps it as it keeps SRAM)
 * or a load reaches its section (the section of the part it is, or of
 * the part it lies in). So the device's reset hook must not touch it.
 * When the buffer is exactly a section of its own (registered with
 * dev_register_section, opaque = buf, size = size), a stream may leave that
 * section out (VmsSaveOpts.omit_set) and a destination keep the buffer
 * (mach_load_keep_ram). False if size is 0, it overlaps tracked memory, or
 * out of memory. */
bool dev_track_memory(Device *dev, void *buf, size_t size);
/* Mark [p, p + len) of a buffer dev_track_memory registered (aborts on
 * an address outside tracked memory: a write nothing would see). */
void dev_mark_dirty(Device *dev, const void *p, size_t len);

/* The SSI bus a master (an SSP) drives: its slaves are the devices of the
 * board whose "ssi-bus" property equals the master's base address, so the
 * board wires them as data and neither device names the other. A frame goes
 * to every slave; the replies are ORed (0 with no slave). Chip select is
 * the master's to drive. */
uint32_t dev_ssi_transfer(Device *master, uint32_t out);
void dev_ssi_select(Device *master, bool selected);

/* One bus access of `size` bytes (1, 2 or 4) as a bus master makes it: what
 * a DMA controller uses for an element whose source or destination may be a
 * peripheral register (a UART's or SSP's data register), since MMIO is not
 * memory and dev_mem_* refuse it. Flash, SRAM and devices are reached as
 * the core reaches them; an SRAM write on this path is still seen by
 * whatever tracks guest RAM, because the machine's bus write is the same
 * single path. False on a bus error (nothing unmapped is touched). */
bool dev_bus_read(Device *dev, uint32_t addr, unsigned size, uint32_t *val);
bool dev_bus_write(Device *dev, uint32_t addr, unsigned size, uint32_t val);

#endif
