/*
 * savevm.h - sections, whole migration streams, and description dumps (prefix vms_).
 *
 * A VmsRegistry is the list of state sections of one machine: each is a
 * (idstr, instance_id) pair bound to a description and the object it
 * describes, in registration order, which is also save and load order.
 *
 * vms_save writes QEMU's stream layout:
 *   be32 0x5145564d | be32 3
 *   0x07 configuration body ("configuration" v1: be32 len, machine type name)
 *   per section: 0x04 | be32 section_id | u8 idlen idstr | be32 instance | be32 version
 *                body | 0x7e | be32 section_id
 *   0x00 (EOF)
 *   0x06 | be32 json_len | JSON vmdescription (compact; padded so
 *          scripts/analyze-migration.py finds it)
 *
 * vms_load reads the same and is strict: unknown sections, versions outside
 * a description's window, missing or mismatched footers, wrong machine type,
 * trailing garbage, and any engine error fail with a VmsError. It does not
 * undo partial loads: a failed load leaves sections half-written, and the
 * owner of the registry must reset them (the machine does; see machine.h).
 */
#ifndef VMSTRESS_SAVEVM_H
#define VMSTRESS_SAVEVM_H

#include <stdio.h>

#include <jansson.h>

#include "vmstate.h"

#define VMS_FILE_MAGIC 0x5145564du
#define VMS_FILE_VERSION 3u
enum {
    VMS_SEC_EOF = 0x00,
    VMS_SEC_START = 0x01,
    VMS_SEC_PART = 0x02,
    VMS_SEC_END = 0x03,
    VMS_SEC_FULL = 0x04,
    VMS_SEC_SUBSECTION = 0x05,
    VMS_SEC_VMDESCRIPTION = 0x06,
    VMS_SEC_CONFIGURATION = 0x07,
    VMS_SEC_COMMAND = 0x08,
    VMS_SEC_FOOTER = 0x7e,
};

/*
 * QEMU's iterative RAM section ("ram", instance 0, version 4): a START chunk
 * with the RAM block list, PART chunks of pages sent while the guest still
 * runs, an END chunk with the last pages; each ends with an EOS record and
 * the section footer (ram.c has the byte layout). Written by its owner
 * chunk by chunk (vms_ram_start, vms_ram_pages) between vms_save_begin and
 * vms_save_end; vms_load reads it into the registry's `ram`, when set. One
 * RAM block.
 */
#define VMS_RAM_IDSTR "ram"
#define VMS_RAM_VERSION 4
enum {
    VMS_RAM_ZERO = 0x02,        /* a page of one fill byte (then that byte) */
    VMS_RAM_MEM_SIZE = 0x04,    /* the block list (START only) */
    VMS_RAM_PAGE = 0x08,        /* a whole page follows */
    VMS_RAM_EOS = 0x10,         /* end of this chunk */
    VMS_RAM_CONTINUE = 0x20,    /* same block as the record before: no name */
};

typedef struct VmsRam {
    char block[64];             /* the RAM block's name */
    uint8_t *mem;
    uint64_t size;              /* a multiple of page_size */
    uint32_t page_size;         /* a power of two */
    uint32_t section_id;        /* the id our streams give the section */
    bool loaded;                /* as VmsSection.loaded: a load began its section */
} VmsRam;

bool vms_ram_start(const VmsRam *ram, VmsOut *out);
/* A PART chunk (END when end is set) with the pages whose bit is set in
 * bitmap (bit p of bitmap[p / 8]); all-zero pages go as ZERO records. */
bool vms_ram_pages(const VmsRam *ram, VmsOut *out, const uint8_t *bitmap, bool end);
/* The bytes page p takes in a chunk (record header and data). */
size_t vms_ram_page_cost(const VmsRam *ram, uint64_t page);
/* Load state across chunks, and one chunk's records up to its EOS (the
 * caller reads headers and footers). False with e filled. */
typedef struct VmsRamLoad {
    bool sized;                 /* the block list was read */
    bool have_block;            /* a record named the block (CONTINUE is legal) */
} VmsRamLoad;
bool vms_ram_load_chunk(VmsRam *ram, VmsIn *in, VmsRamLoad *st, bool start, VmsError *e);

typedef struct VmsSection {
    char idstr[80];
    uint32_t instance_id;
    uint32_t section_id;
    const VmsDesc *vmsd;
    void *opaque;
    /* Saved at this version of vmsd (0: vmsd->version_id). An older machine
     * type keeps the stream format of its release this way (VmsCtx.version). */
    int version_id;
    const struct DevMember *members;    /* optional: for load errors (VmsCtx.members) */
    /* Set by vms_register: the section's header as saved, up to its version
     * (type, section id, counted idstr, instance id), hdr_len bytes. */
    uint8_t hdr[1 + 4 + 1 + 80 + 4];
    uint8_t hdr_len;
    /* Set by vms_load when it begins a record of this section (its body
     * may be partly loaded even if the load then fails); never cleared by
     * the engine: the caller clears it to learn what the next load reached. */
    bool loaded;
    /* Engine-owned: the plans of its saves [0] and loads [1] (VmsCtx.plan_ref),
     * pointing into the registry's plans. */
    VmsPlanRef plan_ref[2];
} VmsSection;

typedef struct VmsRegistry {
    char machine_type[64];      /* sent in the configuration section */
    VmsSection *sec;
    size_t n, cap;
    uint32_t page_size;         /* reported in the vmdesc JSON */
    /* Optional observer passed to every walk (field coverage). */
    void (*observe)(void *obs_opaque, const VmsDesc *d, const VmsField *f, uint32_t index,
                    const void *pv, size_t size, bool loading);
    void *obs_opaque;
    /* Optional observer of walk decisions, passed to every walk; vms_load also
     * reports VMS_OBS_LOAD_END with its outcome (see VmsObsEvent). */
    VmsObserveEvent *observe_event;
    /* Parse the JSON vmdescription trailer on load (it must be an object).
     * Off (the default), only its framing is checked: the trailer describes
     * the stream for tools and carries no state, and parsing a hostile one
     * costs memory out of all proportion to its size. */
    bool check_vmdesc;
    /* RAM that a stream may carry in an iterative "ram" section; NULL:
     * such a section is refused as unknown. */
    VmsRam *ram;
    /* The compiled plans of its descriptions (engine-owned, built as walks
     * need them; freed by vms_registry_free). */
    VmsPlans plans;
    /* Engine-owned: a stream's first bytes (magic, version, configuration
     * section), which depend on the machine type alone, as vms_save last
     * built them from prefix_type (prefix_len 0: not yet); rebuilt when
     * machine_type no longer matches it. */
    uint8_t prefix[4 + 4 + 1 + 4 + 64];
    uint8_t prefix_len;
    char prefix_type[64];
} VmsRegistry;

/* The largest vmdescription trailer a load accepts, parsed or not. Our own
 * saves write a few KiB; QEMU's are of the same order per device. */
#define VMS_VMDESC_MAX (1u << 20)

void vms_registry_init(VmsRegistry *r, const char *machine_type);
void vms_registry_free(VmsRegistry *r);
/* instance_id < 0: the next free instance for idstr (0, 1, ... in registration order).
 * Returns the section, or NULL on a duplicate (idstr, instance). */
VmsSection *vms_register(VmsRegistry *r, const char *idstr, int instance_id,
                         const VmsDesc *vmsd, void *opaque);
VmsSection *vms_registry_find(VmsRegistry *r, const char *idstr, uint32_t instance_id);

typedef struct VmsSaveOpts {
    bool no_vmdesc;     /* omit the JSON trailer (faster; the loop's hot path) */
    VmsMap *map;        /* optional: record every leaf's stream span */
    /* Optional, r->n entries: the sections not written, by index (their
     * state travels otherwise: pre-copy's RAM, mach_omit_sram; the loop's
     * incremental checkpoints leave out every part of tracked memory). */
    const bool *omit_set;
    uint32_t page_size; /* the trailer's page_size; 0: the registry's */
    /* Optional, r->n + 1 entries: where section i's record starts in out
     * (SIZE_MAX when needed() left it out), and at [r->n] the EOF marker.
     * A section's record ends where the next one sent (or EOF) starts; a
     * destination dispatches each record by idstr and instance, so records
     * may be re-sent in another order (the loop's load-order oracle). */
    size_t *sec_start;
} VmsSaveOpts;

/* Fill `e` (class, section and instance, or -1 with no section, the byte
 * offset, the message) and return false: how the engine's stream readers
 * (savevm.c, ram.c) report a malformed stream, in one format. */
__attribute__((format(printf, 6, 7)))
bool vms_stream_fail(VmsError *e, VmsErrClass cls, const char *section, int64_t instance,
                     size_t offset, const char *fmt, ...);

bool vms_save(VmsRegistry *r, VmsOut *out, const VmsSaveOpts *opts, VmsError *err);
/* vms_save in two halves, for streams with iterative sections between
 * them: the header and configuration; then every (non-omitted) section,
 * EOF and the trailer. */
bool vms_save_begin(VmsRegistry *r, VmsOut *out, VmsError *err);
bool vms_save_end(VmsRegistry *r, VmsOut *out, const VmsSaveOpts *opts, VmsError *err);
bool vms_load(VmsRegistry *r, const void *buf, size_t len, VmsError *err);

/* QEMU -dump-vmstate shape: {"vmschkmachine": {"Name": machine}, "<type>": {...}, ...}.
 * Returns a new jansson json_t * (caller decrefs). */
typedef struct VmsDumpEntry {
    const char *type_name;      /* QOM-style type name, the top-level key */
    const VmsDesc *vmsd;
    /* Optional, to dump what one configured object sends: its state (then a
     * subsection whose needed_is_config needed() says no is left out), and
     * the version it is saved at (0: vmsd->version_id; fields of later
     * versions are left out). */
    void *opaque;
    int version;
} VmsDumpEntry;
void *vms_dump_descriptions(const char *machine_type, const VmsDumpEntry *e, size_t n);
/* The Description object for one vmsd (used by the dump and by tests). */
void *vms_dump_desc(const VmsDesc *d);
/* The same for what `opaque` sends when saved at `version` (see VmsDumpEntry). */
void *vms_dump_desc_as(const VmsDesc *d, void *opaque, int version);
/* Write a json_t to a file, 2-space indents as QEMU does; false on I/O error. */
bool vms_json_write_file(void *json, const char *path);

/* Open an input file for reading: "-" is standard input, anything else must
 * be a regular file. It is opened non-blocking and checked with fstat before
 * a byte is read, so a FIFO, a directory or a device is refused at once
 * instead of blocking or failing obscurely. NULL with a one-line reason
 * ("PATH: is a FIFO, not a regular file") in why. */
FILE *vms_open_input(const char *path, VmsMsg *why);
/* Read a whole input (as vms_open_input) of at most max bytes into a new
 * buffer (caller frees). False with a one-line reason naming path. */
bool vms_read_input(const char *path, size_t max, uint8_t **buf, size_t *len, VmsMsg *why);
/* The machine type a stream names in its configuration section (header
 * magic, version word, then the section), copied into name[n]; NULL if the
 * stream has none or it does not fit. Reads nothing else. */
const char *vms_stream_machine_type(const uint8_t *b, size_t len, char *name, size_t n);
/* A JSON input (reproducer, dump, coverage data), read as vms_read_input
 * does and parsed with jansson's flags; NULL with a one-line reason
 * ("path:line:column: what") otherwise. Caller json_decref()s it. */
#define VMS_JSON_INPUT_MAX (64u << 20)
json_t *vms_read_json(const char *path, size_t flags, VmsMsg *why);

#endif
