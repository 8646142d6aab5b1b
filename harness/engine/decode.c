/*
 * decode.c - decode a QEMU migration stream through its own vmdescription. See decode.h.
 *
 * Two passes over the bytes, both linear: find the trailer from the end
 * (it must end exactly at the end of the buffer), then walk the sections
 * from the start, looking each FULL section up in the trailer and reading
 * its fields as the trailer lists them. The walk must arrive at the EOF
 * byte exactly where the trailer begins, so a trailer that does not match
 * the stream cannot go unnoticed.
 */
#include "decode.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "savevm.h"

/* RAM record flags (the low bits of each be64 page address). */
enum {
    RAM_FULL = 0x01,        /* obsolete */
    RAM_ZERO = 0x02,
    RAM_MEM_SIZE = 0x04,
    RAM_PAGE = 0x08,
    RAM_EOS = 0x10,
    RAM_CONTINUE = 0x20,
    RAM_XBZRLE = 0x40,
    RAM_HOOK = 0x80,
    RAM_COMPRESS = 0x100,
    RAM_MULTIFD_FLUSH = 0x200,
};
#define RAM_BLOCKS_MAX 4096
#define IDSTR_MAX 256

/* Paths live in large chunks: one allocation per 64 KiB, not per leaf. */
typedef struct Chunk {
    struct Chunk *next;
    size_t used, cap;
    char data[];
} Chunk;
#define CHUNK_MIN (64u << 10)

struct Vdec {
    Chunk *paths;
    VdecLeaf *leaf;
    size_t n, cap;
    VdecSection *sec;
    size_t nsec, seccap;
    const VdecLeaf **sorted; /* leaves by path, then by stream order */
    json_t *root;       /* the trailer; leaf types point into it */
    uint32_t page_size;
};

typedef struct RamBlock {
    char name[IDSTR_MAX];
    uint64_t length;
} RamBlock;

typedef struct Dec {
    const uint8_t *buf;
    size_t end;         /* where the trailer starts: nothing is read past it */
    size_t pos;
    size_t max_leaves;
    Vdec *out;
    VmsMsg *why;
    char path[VDEC_PATH_MAX];
    size_t plen;
    RamBlock *blocks;
    size_t nblocks;
    long cur_block;     /* the block a CONTINUE page belongs to, -1 if none */
    bool ram_started;
    uint32_t ram_section_id;
} Dec;

static bool fail(Dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(Dec *d, const char *fmt, ...)
{
    char text[sizeof(d->why->text)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return vms_fail(d->why, "offset %zu: %s", d->pos, text);
}

/* ------------------------------------------------------------ bytes */

static bool need(Dec *d, size_t n, const char *what)
{
    if (d->end - d->pos < n)
        return fail(d, "truncated: %s needs %zu bytes, %zu left before the trailer", what, n,
                    d->end - d->pos);
    return true;
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static bool get(Dec *d, size_t n, uint64_t *v, const char *what)
{
    if (!need(d, n, what))
        return false;
    *v = be(d->buf + d->pos, n);
    d->pos += n;
    return true;
}

/* A u8-counted name (section idstr, RAM block, subsection) into out. */
static bool get_name(Dec *d, char *out, size_t cap, const char *what)
{
    uint64_t len;
    if (!get(d, 1, &len, what) || !need(d, (size_t)len, what))
        return false;
    if (len == 0 || len >= cap)
        return fail(d, "%s of length %u", what, (unsigned)len);
    memcpy(out, d->buf + d->pos, (size_t)len);
    out[len] = '\0';
    if (memchr(out, '\0', (size_t)len))
        return fail(d, "%s contains a NUL byte", what);
    d->pos += (size_t)len;
    return true;
}

/* ------------------------------------------------------------ paths, leaves */

static size_t push(Dec *d, bool slash, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Append a component (after '/' if slash and the path is not empty); returns
 * the length to pop back to, or SIZE_MAX if the path would be too long. */
static size_t push(Dec *d, bool slash, const char *fmt, ...)
{
    size_t mark = d->plen, at = d->plen;
    if (slash && at > 0) {
        if (at + 1 >= sizeof(d->path))
            return SIZE_MAX;
        d->path[at++] = '/';
    }
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(d->path + at, sizeof(d->path) - at, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof(d->path) - at) {
        d->path[mark] = '\0';
        return SIZE_MAX;
    }
    d->plen = at + (size_t)k;
    return mark;
}

static void pop(Dec *d, size_t mark)
{
    d->plen = mark;
    d->path[mark] = '\0';
}

static bool too_long(Dec *d)
{
    return fail(d, "field path longer than %d bytes", VDEC_PATH_MAX - 1);
}

static char *keep_path(Vdec *o, const char *p, size_t n)
{
    Chunk *c = o->paths;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > CHUNK_MIN ? n + 1 : CHUNK_MIN;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->next = o->paths;
        c->used = 0;
        c->cap = cap;
        o->paths = c;
    }
    char *s = c->data + c->used;
    memcpy(s, p, n + 1);
    c->used += n + 1;
    return s;
}

/* The next size bytes are the leaf named by the current path. */
static bool emit(Dec *d, size_t size, const char *type)
{
    if (!need(d, size, d->path))
        return false;
    Vdec *o = d->out;
    if (o->n >= d->max_leaves)
        return fail(d, "more than %zu leaves: the trailer describes more than the stream holds",
                    d->max_leaves);
    char *p = vms_grow((void **)&o->leaf, &o->cap, o->n, sizeof(*o->leaf))
                  ? keep_path(o, d->path, d->plen) : NULL;
    if (!p)
        return fail(d, "out of memory");
    o->leaf[o->n++] = (VdecLeaf){ .path = p, .offset = d->pos, .size = size,
                                  .bytes = d->buf + d->pos, .type = type };
    d->pos += size;
    return true;
}

/* ------------------------------------------------------------ trailer-driven fields */

static bool json_count(Dec *d, json_t *o, const char *key, bool required, size_t *v)
{
    json_t *j = json_object_get(o, key);
    if (!j && !required) {
        *v = SIZE_MAX;
        return true;
    }
    if (!json_is_integer(j) || json_integer_value(j) < 0 ||
        (uint64_t)json_integer_value(j) > (uint64_t)SIZE_MAX / 2)
        return fail(d, "vmdescription: '%s' of %s is missing or not a count", key,
                    d->plen ? d->path : "a section");
    *v = (size_t)json_integer_value(j);
    return true;
}

static bool decode_desc(Dec *d, json_t *desc, int depth);

/* One element of a field: a nested description, or a leaf of `size` bytes. */
static bool decode_element(Dec *d, json_t *f, const char *type, size_t size, int depth)
{
    json_t *child = json_object_get(f, "struct");
    /* WITH_TMP writes the child's keys into the field object itself. */
    if (!child && !strcmp(type, "tmp") && json_object_get(f, "fields"))
        child = f;
    if (!child)
        return emit(d, size, type);
    size_t start = d->pos;
    if (!decode_desc(d, child, depth + 1))
        return false;
    if (d->pos - start != size)
        return fail(d, "'%s' took %zu bytes, the vmdescription says %zu", d->path,
                    d->pos - start, size);
    return true;
}

static bool decode_field(Dec *d, json_t *f, int depth)
{
    const char *name = json_string_value(json_object_get(f, "name"));
    const char *type = json_string_value(json_object_get(f, "type"));
    size_t size, array_len, index;
    if (!name || !type)
        return fail(d, "vmdescription: a field of '%s' has no name or type", d->path);
    if (!json_count(d, f, "size", true, &size) || !json_count(d, f, "array_len", false, &array_len) ||
        !json_count(d, f, "index", false, &index))
        return false;
    size_t n = array_len == SIZE_MAX ? 1 : array_len;
    for (size_t i = 0; i < n; i++) {
        size_t mark = array_len != SIZE_MAX ? push(d, true, "%s[%zu]", name, i)
                      : index != SIZE_MAX   ? push(d, true, "%s[%zu]", name, index)
                                            : push(d, true, "%s", name);
        if (mark == SIZE_MAX)
            return too_long(d);
        if (!decode_element(d, f, type, size, depth))
            return false;
        pop(d, mark);
    }
    return true;
}

static bool decode_subsection(Dec *d, json_t *s, int depth)
{
    const char *name = json_string_value(json_object_get(s, "vmsd_name"));
    size_t version;
    if (!name || !json_count(d, s, "version", true, &version))
        return fail(d, "vmdescription: a subsection of '%s' has no vmsd_name or version",
                    d->path);
    uint64_t marker, v;
    char got[IDSTR_MAX];
    if (!get(d, 1, &marker, "subsection marker"))
        return false;
    if (marker != VMS_SEC_SUBSECTION)
        return fail(d, "expected subsection '%s' (0x05), found 0x%02x", name, (unsigned)marker);
    if (!get_name(d, got, sizeof(got), "subsection name") || !get(d, 4, &v, "subsection version"))
        return false;
    if (strcmp(got, name) != 0 || v != version)
        return fail(d, "subsection '%s' v%llu where the vmdescription has '%s' v%zu", got,
                    (unsigned long long)v, name, version);
    size_t mark = push(d, true, "%s", name);
    if (mark == SIZE_MAX)
        return too_long(d);
    bool ok = decode_desc(d, s, depth + 1);
    pop(d, mark);
    return ok;
}

/* A description object: "fields", then the optional "subsections", in order. */
static bool decode_desc(Dec *d, json_t *desc, int depth)
{
    if (depth > VDEC_DEPTH_MAX)
        return fail(d, "vmdescription nested deeper than %d at '%s'", VDEC_DEPTH_MAX, d->path);
    json_t *fields = json_object_get(desc, "fields");
    json_t *subs = json_object_get(desc, "subsections");
    if (!json_is_array(fields) || (subs && !json_is_array(subs)))
        return fail(d, "vmdescription: '%s' has no fields list", d->plen ? d->path : "a section");
    size_t i;
    json_t *x;
    json_array_foreach(fields, i, x) {
        if (!json_is_object(x))
            return fail(d, "vmdescription: a field of '%s' is not an object", d->path);
        if (!decode_field(d, x, depth))
            return false;
    }
    json_array_foreach(subs, i, x) {
        if (!json_is_object(x))
            return fail(d, "vmdescription: a subsection of '%s' is not an object", d->path);
        if (!decode_subsection(d, x, depth))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------ configuration */

/* QEMU 7.2 does not describe the configuration in the trailer: it is a
 * be32 length and the machine name, then optional subsections whose layout
 * is fixed (target page bits; capabilities; uuid). */
static bool decode_config_fixed(Dec *d)
{
    size_t mark = push(d, false, "configuration");
    if (!need(d, 4, "configuration length"))
        return false;
    uint64_t len = be(d->buf + d->pos, 4);
    size_t m = push(d, true, "len");
    if (!emit(d, 4, "uint32"))
        return false;
    pop(d, m);
    m = push(d, true, "name");
    if (!emit(d, (size_t)len, "buffer"))
        return false;
    pop(d, m);
    uint8_t t;
    while (d->pos < d->end && (t = d->buf[d->pos]) == VMS_SEC_SUBSECTION) {
        char name[IDSTR_MAX];
        uint64_t v, count;
        d->pos++;
        if (!get_name(d, name, sizeof(name), "configuration subsection name") ||
            !get(d, 4, &v, "subsection version"))
            return false;
        m = push(d, true, "%s", name);
        bool ok;
        if (!strcmp(name, "configuration/target-page-bits")) {
            ok = push(d, true, "target_page_bits") != SIZE_MAX && emit(d, 4, "uint32");
        } else if (!strcmp(name, "configuration/uuid")) {
            ok = push(d, true, "uuid") != SIZE_MAX && emit(d, 16, "buffer");
        } else if (!strcmp(name, "configuration/capabilities")) {
            ok = need(d, 4, "capability count");
            count = ok ? be(d->buf + d->pos, 4) : 0;
            size_t c = push(d, true, "caps_count");
            ok = ok && emit(d, 4, "uint32");
            pop(d, c);
            for (uint64_t i = 0; ok && i < count; i++) {
                c = push(d, true, "capabilities[%llu]", (unsigned long long)i);
                ok = need(d, 1, "capability") && emit(d, 1u + d->buf[d->pos], "capability");
                pop(d, c);
            }
        } else {
            return fail(d, "unknown configuration subsection '%s'", name);
        }
        if (!ok)
            return false;
        pop(d, m);
    }
    pop(d, mark);
    return true;
}

/* ------------------------------------------------------------ ram */

static long ram_block(const Dec *d, const char *name)
{
    for (size_t i = 0; i < d->nblocks; i++)
        if (!strcmp(d->blocks[i].name, name))
            return (long)i;
    return -1;
}

static bool ram_block_list(Dec *d, uint64_t total)
{
    if (d->nblocks)
        return fail(d, "RAM block list sent twice");
    while (total > 0) {
        if (d->nblocks == RAM_BLOCKS_MAX)
            return fail(d, "more than %d RAM blocks", RAM_BLOCKS_MAX);
        RamBlock *b = realloc(d->blocks, (d->nblocks + 1) * sizeof(*b));
        if (!b)
            return fail(d, "out of memory");
        d->blocks = b;
        b = &d->blocks[d->nblocks];
        if (!get_name(d, b->name, sizeof(b->name), "RAM block name"))
            return false;
        if (ram_block(d, b->name) >= 0)
            return fail(d, "RAM block '%s' listed twice", b->name);
        if (!need(d, 8, "RAM block length"))
            return false;
        b->length = be(d->buf + d->pos, 8);
        if (b->length > total)
            return fail(d, "RAM block '%s' of 0x%llx bytes overruns the total left, 0x%llx",
                        b->name, (unsigned long long)b->length, (unsigned long long)total);
        size_t m = push(d, false, "ram/%s", b->name);
        if (m == SIZE_MAX)
            return too_long(d);
        if (!emit(d, 8, "ram-block"))
            return false;
        pop(d, m);
        total -= b->length;
        d->nblocks++;
    }
    return true;
}

static bool ram_page(Dec *d, uint64_t addr, unsigned flags, uint32_t ps)
{
    if (!(flags & RAM_CONTINUE)) {
        char name[IDSTR_MAX];
        if (!get_name(d, name, sizeof(name), "RAM block name"))
            return false;
        d->cur_block = ram_block(d, name);
        if (d->cur_block < 0)
            return fail(d, "page of unknown RAM block '%s'", name);
    } else if (d->cur_block < 0) {
        return fail(d, "CONTINUE page with no block before it");
    }
    const RamBlock *b = &d->blocks[d->cur_block];
    if (addr >= b->length || b->length - addr < ps)
        return fail(d, "page 0x%llx outside RAM block '%s' (0x%llx bytes)",
                    (unsigned long long)addr, b->name, (unsigned long long)b->length);
    size_t m = push(d, false, "ram/%s@0x%llx", b->name, (unsigned long long)addr);
    if (m == SIZE_MAX)
        return too_long(d);
    bool ok = (flags & RAM_ZERO) ? emit(d, 1, "ram-zero") : emit(d, ps, "ram-page");
    pop(d, m);
    return ok;
}

/* One chunk of the ram section: records until EOS. */
static bool decode_ram(Dec *d, uint32_t ps)
{
    if (ps < 1024 || ps > 65536 || (ps & (ps - 1)))
        return fail(d, "RAM section with a vmdescription page_size of %u", ps);
    for (;;) {
        size_t at = d->pos;
        uint64_t v;
        if (!get(d, 8, &v, "RAM record"))
            return false;
        unsigned flags = (unsigned)(v & (ps - 1));
        uint64_t addr = v & ~(uint64_t)(ps - 1);
        unsigned known = RAM_ZERO | RAM_MEM_SIZE | RAM_PAGE | RAM_EOS | RAM_CONTINUE;
        if (flags & ~known) {
            d->pos = at;
            return fail(d, "RAM record with flags 0x%x this decoder does not support "
                        "(XBZRLE, compression, hooks, multifd or unknown)", flags & ~known);
        }
        if (flags & RAM_MEM_SIZE) {
            if (flags != RAM_MEM_SIZE)
                return fail(d, "RAM block list with other flags (0x%x)", flags);
            if (!ram_block_list(d, addr))
                return false;
        } else if (flags & RAM_EOS) {
            if (flags != RAM_EOS || addr != 0)
                return fail(d, "RAM end-of-section record with flags 0x%x address 0x%llx", flags,
                            (unsigned long long)addr);
            return true;
        } else if (!!(flags & RAM_ZERO) + !!(flags & RAM_PAGE) != 1) {
            return fail(d, "RAM record with flags 0x%x is neither a page nor a zero page", flags);
        } else if (!ram_page(d, addr, flags, ps)) {
            return false;
        }
    }
}

/* ------------------------------------------------------------ sections */

static json_t *find_device(json_t *devs, const char *idstr, uint64_t instance)
{
    size_t i;
    json_t *x;
    json_array_foreach(devs, i, x) {
        const char *name = json_string_value(json_object_get(x, "name"));
        json_t *inst = json_object_get(x, "instance_id");
        if (name && !strcmp(name, idstr) && json_is_integer(inst) &&
            (uint64_t)json_integer_value(inst) == instance)
            return x;
    }
    return NULL;
}

/* Record the section whose header started at `header` and whose footer is next. */
static bool note_section(Dec *d, const char *idstr, uint64_t inst, uint64_t version, uint64_t id,
                         size_t header, size_t body)
{
    Vdec *o = d->out;
    /* Each section takes at least 19 bytes, so this is bounded by the stream. */
    char *name = vms_grow((void **)&o->sec, &o->seccap, o->nsec, sizeof(*o->sec))
                     ? keep_path(o, idstr, strlen(idstr)) : NULL;
    if (!name)
        return fail(d, "out of memory");
    o->sec[o->nsec++] = (VdecSection){ .idstr = name, .instance_id = (uint32_t)inst,
                                       .version_id = (uint32_t)version,
                                       .section_id = (uint32_t)id, .header = header,
                                       .body = body, .footer = d->pos, .end = d->pos + 5 };
    return true;
}

static bool footer(Dec *d, uint64_t id)
{
    uint64_t t, got;
    if (!get(d, 1, &t, "section footer"))
        return false;
    if (t != VMS_SEC_FOOTER) {
        d->pos--;
        return fail(d, "expected the footer of section %llu (0x7e), found 0x%02x: "
                    "the section holds more than the vmdescription says", (unsigned long long)id,
                    (unsigned)t);
    }
    if (!get(d, 4, &got, "section footer id"))
        return false;
    if (got != id)
        return fail(d, "footer of section %llu carries id %llu", (unsigned long long)id,
                    (unsigned long long)got);
    return true;
}

static bool decode_full(Dec *d, json_t *devs, uint8_t type, uint32_t ps)
{
    uint64_t id, inst, version;
    char idstr[IDSTR_MAX];
    size_t header = d->pos - 1;
    if (!get(d, 4, &id, "section id") || !get_name(d, idstr, sizeof(idstr), "section name") ||
        !get(d, 4, &inst, "instance id") || !get(d, 4, &version, "section version"))
        return false;
    size_t body = d->pos;
    if (!strcmp(idstr, "ram") && inst == 0) {
        if (type != VMS_SEC_START || d->ram_started)
            return fail(d, "ram section sent as type 0x%02x%s", type,
                        d->ram_started ? " a second time" : "");
        d->ram_started = true;
        d->ram_section_id = (uint32_t)id;
        return decode_ram(d, ps) && note_section(d, idstr, inst, version, id, header, body) &&
               footer(d, id);
    }
    if (type == VMS_SEC_START)
        return fail(d, "iterative section '%s' this decoder does not know", idstr);
    json_t *dev = find_device(devs, idstr, inst);
    if (!dev)
        return fail(d, "section '%s' instance %llu has no entry in the vmdescription", idstr,
                    (unsigned long long)inst);
    json_t *jv = json_object_get(dev, "version");
    if (jv && (!json_is_integer(jv) || (uint64_t)json_integer_value(jv) != version))
        return fail(d, "section '%s' has version %llu, its vmdescription another", idstr,
                    (unsigned long long)version);
    size_t mark = push(d, false, "%s.%llu", idstr, (unsigned long long)inst);
    if (mark == SIZE_MAX)
        return too_long(d);
    if (!decode_desc(d, dev, 0))
        return false;
    pop(d, mark);
    return note_section(d, idstr, inst, version, id, header, body) && footer(d, id);
}

static bool decode_sections(Dec *d, json_t *root)
{
    json_t *devs = json_object_get(root, "devices");
    json_t *jps = json_object_get(root, "page_size");
    if (!json_is_array(devs))
        return fail(d, "vmdescription has no devices list");
    uint32_t ps = json_is_integer(jps) && json_integer_value(jps) > 0 &&
                          json_integer_value(jps) <= 65536
                      ? (uint32_t)json_integer_value(jps) : 0;
    uint64_t v;
    if (!get(d, 4, &v, "magic"))
        return false;
    if (v != VMS_FILE_MAGIC)
        return fail(d, "not a migration stream (magic 0x%08llx)", (unsigned long long)v);
    if (!get(d, 4, &v, "stream version"))
        return false;
    if (v != VMS_FILE_VERSION)
        return fail(d, "stream version %llu (only 3 is decoded)", (unsigned long long)v);
    for (bool first = true;; first = false) {
        uint64_t t;
        if (!get(d, 1, &t, "section type"))
            return false;
        switch (t) {
        case VMS_SEC_EOF:
            if (d->pos != d->end)
                return fail(d, "%zu bytes between EOF and the vmdescription", d->end - d->pos);
            return true;
        case VMS_SEC_CONFIGURATION: {
            if (!first)
                return fail(d, "configuration section after other sections");
            json_t *conf = json_object_get(root, "configuration");
            if (!conf)
            {
                if (!decode_config_fixed(d))
                    return false;
                break;
            }
            size_t mark = push(d, false, "configuration");
            if (!decode_desc(d, conf, 0))
                return false;
            pop(d, mark);
            break;
        }
        case VMS_SEC_START:
        case VMS_SEC_FULL:
            if (!decode_full(d, devs, (uint8_t)t, ps))
                return false;
            break;
        case VMS_SEC_PART:
        case VMS_SEC_END:
            if (!get(d, 4, &v, "section id"))
                return false;
            if (!d->ram_started || v != d->ram_section_id)
                return fail(d, "continuation of section %llu, which no ram section started",
                            (unsigned long long)v);
            if (!decode_ram(d, ps) || !footer(d, v))
                return false;
            break;
        case VMS_SEC_COMMAND: {
            uint64_t cmd, len;
            if (!get(d, 2, &cmd, "command") || !get(d, 2, &len, "command length"))
                return false;
            if (cmd == 7)   /* PACKAGED: a nested stream follows outside len */
                return fail(d, "packaged (postcopy) command not supported");
            if (!need(d, (size_t)len, "command data"))
                return false;
            d->pos += (size_t)len;
            break;
        }
        default:
            d->pos--;
            return fail(d, "unknown section type 0x%02x", (unsigned)t);
        }
    }
}

/* ------------------------------------------------------------ trailer */

/* The trailer is 0x06 | be32 L | L bytes of JSON, ending the buffer. JSON
 * has no raw 0x06 byte, so the first position that fits is the only
 * candidate that can be followed by a whole JSON text. */
static bool find_trailer(Dec *d, size_t len, size_t *at)
{
    size_t lo = len > (size_t)VDEC_TRAILER_MAX + 5 ? len - VDEC_TRAILER_MAX - 5 : 8;
    for (size_t p = lo; p + 6 <= len; p++)
        if (d->buf[p] == VMS_SEC_VMDESCRIPTION && d->buf[p + 5] == '{' &&
            be(d->buf + p + 1, 4) == len - p - 5) {
            *at = p;
            return true;
        }
    d->pos = len;
    return fail(d, "no vmdescription trailer (0x06, be32 length, JSON of at most %u bytes) "
                "ends the stream", VDEC_TRAILER_MAX);
}

/* By path, then stream order (the leaves are one array in stream order). */
static int cmp_path(const void *a, const void *b)
{
    const VdecLeaf *l = *(const VdecLeaf *const *)a, *m = *(const VdecLeaf *const *)b;
    int c = strcmp(l->path, m->path);
    return c ? c : (l > m) - (l < m);
}

Vdec *vdec_decode(const uint8_t *buf, size_t len, VmsMsg *why)
{
    Vdec *o = calloc(1, sizeof(*o));
    Dec d = { .buf = buf, .out = o, .why = why, .cur_block = -1 };
    VmsMsg scratch;
    if (!d.why)
        d.why = &scratch;
    if (!o) {
        vms_fail(d.why, "out of memory");
        return NULL;
    }
    size_t at = 0;
    bool ok = buf && len >= 8 && find_trailer(&d, len, &at);
    if (!buf || len < 8)
        ok = vms_fail(d.why, "offset 0: %zu bytes is too short for a migration stream", len);
    if (ok) {
        json_error_t je;
        o->root = json_loadb((const char *)buf + at + 5, len - at - 5, 0, &je);
        if (!json_is_object(o->root)) {
            d.pos = at + 5 + (je.position > 0 ? (size_t)je.position : 0);
            ok = fail(&d, "vmdescription is not a JSON object: %s", o->root ? "" : je.text);
        }
    }
    if (ok) {
        json_t *jps = json_object_get(o->root, "page_size");
        o->page_size = json_is_integer(jps) && json_integer_value(jps) > 0 &&
                               json_integer_value(jps) <= 65536
                           ? (uint32_t)json_integer_value(jps) : 0;
        d.end = at;
        d.max_leaves = 2 * len + 4096;
        ok = decode_sections(&d, o->root);
    }
    if (ok && !(o->sorted = malloc((o->n ? o->n : 1) * sizeof(*o->sorted))))
        ok = vms_fail(d.why, "out of memory");
    free(d.blocks);
    if (!ok) {
        vdec_free(o);
        return NULL;
    }
    for (size_t i = 0; i < o->n; i++)
        o->sorted[i] = &o->leaf[i];
    qsort(o->sorted, o->n, sizeof(*o->sorted), cmp_path);
    return o;
}

/* ------------------------------------------------------------ access */

size_t vdec_count(const Vdec *d)
{
    return d ? d->n : 0;
}

const VdecLeaf *vdec_leaf(const Vdec *d, size_t i)
{
    return d && i < d->n ? &d->leaf[i] : NULL;
}

const VdecLeaf *vdec_find(const Vdec *d, const char *path)
{
    if (!d || !path)
        return NULL;
    /* The last of equal paths: the first index whose path is greater, minus one. */
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(d->sorted[mid]->path, path) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || strcmp(d->sorted[lo - 1]->path, path) != 0)
        return NULL;
    return d->sorted[lo - 1];
}

size_t vdec_section_count(const Vdec *d)
{
    return d ? d->nsec : 0;
}

const VdecSection *vdec_section(const Vdec *d, size_t i)
{
    return d && i < d->nsec ? &d->sec[i] : NULL;
}

const VdecSection *vdec_section_find(const Vdec *d, const char *idstr, uint32_t instance_id)
{
    for (size_t i = 0; d && idstr && i < d->nsec; i++)
        if (d->sec[i].instance_id == instance_id && !strcmp(d->sec[i].idstr, idstr))
            return &d->sec[i];
    return NULL;
}

uint32_t vdec_page_size(const Vdec *d)
{
    return d ? d->page_size : 0;
}

void vdec_free(Vdec *d)
{
    if (!d)
        return;
    for (Chunk *c = d->paths, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(d->leaf);
    free(d->sec);
    free(d->sorted);
    json_decref(d->root);
    free(d);
}

/* ------------------------------------------------------------ values */

bool vdec_leaf_int(const VdecLeaf *l, bool *is_signed, uint64_t *v)
{
    static const char *const unsigned_types[] = { "bool", "uint8", "uint16", "uint32", "uint64",
                                                  "uint8 equal", "uint16 equal", "uint32 equal",
                                                  "ram-block" };
    static const char *const signed_types[] = { "int8", "int16", "int32", "int64",
                                                "int32 equal", "int64 equal", "int32 le" };
    if (!l || !l->type || !(l->size == 1 || l->size == 2 || l->size == 4 || l->size == 8))
        return false;
    bool sign = false, found = false;
    for (size_t i = 0; i < sizeof(unsigned_types) / sizeof(*unsigned_types); i++)
        found |= !strcmp(l->type, unsigned_types[i]);
    for (size_t i = 0; !found && i < sizeof(signed_types) / sizeof(*signed_types); i++)
        found = sign = !strcmp(l->type, signed_types[i]);
    if (!found)
        return false;
    uint64_t x = be(l->bytes, l->size);
    if (sign && l->size < 8 && (x >> (8 * l->size - 1)) & 1)
        x |= ~(uint64_t)0 << (8 * l->size);
    if (is_signed)
        *is_signed = sign;
    *v = x;
    return true;
}

int vdec_leaf_format(const VdecLeaf *l, size_t max_bytes, char *buf, size_t n)
{
    bool sign;
    uint64_t v;
    if (vdec_leaf_int(l, &sign, &v)) {
        unsigned w = (unsigned)(2 * l->size);
        if (sign)
            return snprintf(buf, n, "%lld (0x%0*llx)", (long long)v, w,
                            (unsigned long long)(l->size < 8 ? v & ((1ull << (8 * l->size)) - 1) : v));
        return snprintf(buf, n, "%llu (0x%0*llx)", (unsigned long long)v, w, (unsigned long long)v);
    }
    size_t k = 0, total = 0;
    if (n)
        buf[0] = '\0';
    for (size_t i = 0; i < l->size; i++) {
        if (max_bytes && l->size > max_bytes && i == max_bytes / 2) {
            size_t skip = l->size - max_bytes;
            int w = snprintf(buf + k, n > k ? n - k : 0, "...(%zu bytes)...", skip);
            total += (size_t)w;
            k = total < n ? total : (n ? n - 1 : 0);
            i += skip - 1;
            continue;
        }
        int w = snprintf(buf + k, n > k ? n - k : 0, "%02x", l->bytes[i]);
        total += (size_t)w;
        k = total < n ? total : (n ? n - 1 : 0);
    }
    return (int)total;
}
