/*
 * savevm.c - the section registry, whole QEMU-format streams, and dumps. See savevm.h.
 *
 * The configuration section is itself a description ("configuration" v1:
 * a uint32 length and a VBUFFER of that many name bytes), so it is saved,
 * loaded, bounds-checked and described in the JSON by the same engine as
 * every device; only the machine-type comparison is done here.
 */
#include "savevm.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDSTR_MAX 127   /* analyze-migration.py reads the length as a signed byte */

/* ------------------------------------------------------------ configuration */

typedef struct ConfigState {
    uint32_t len;
    uint8_t name[sizeof(((VmsRegistry *)0)->machine_type)];
} ConfigState;

static const VmsField config_fields[] = {
    VMS_UINT32(len, ConfigState),
    VMS_VBUFFER_UINT32(name, ConfigState, len, sizeof(((ConfigState *)0)->name)),
    VMS_END_OF_LIST(),
};

static const VmsDesc config_desc = {
    .name = "configuration",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = config_fields,
};

/* ------------------------------------------------------------ registry */

void vms_registry_init(VmsRegistry *r, const char *machine_type)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->machine_type, sizeof(r->machine_type), "%s", machine_type ? machine_type : "");
    r->page_size = 4096;
}

void vms_registry_free(VmsRegistry *r)
{
    free(r->sec);
    vms_plans_free(&r->plans);
    r->sec = NULL;
    r->n = r->cap = 0;
}

VmsSection *vms_registry_find(VmsRegistry *r, const char *idstr, uint32_t instance_id)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->sec[i].instance_id == instance_id && strcmp(r->sec[i].idstr, idstr) == 0)
            return &r->sec[i];
    return NULL;
}

VmsSection *vms_register(VmsRegistry *r, const char *idstr, int instance_id,
                         const VmsDesc *vmsd, void *opaque)
{
    size_t idlen = strlen(idstr);
    if (idlen == 0 || idlen >= sizeof(r->sec[0].idstr) || idlen > IDSTR_MAX || !vmsd)
        return NULL;
    uint32_t inst;
    if (instance_id < 0) {
        /* Next free number for this idstr: one past the highest in use. */
        inst = 0;
        for (size_t i = 0; i < r->n; i++)
            if (strcmp(r->sec[i].idstr, idstr) == 0 && r->sec[i].instance_id >= inst)
                inst = r->sec[i].instance_id + 1;
    } else {
        inst = (uint32_t)instance_id;
        if (vms_registry_find(r, idstr, inst))
            return NULL;
    }
    if (!vms_grow((void **)&r->sec, &r->cap, r->n, sizeof(*r->sec)))
        return NULL;
    VmsSection *s = &r->sec[r->n];
    memset(s, 0, sizeof(*s));
    memcpy(s->idstr, idstr, idlen + 1);
    s->instance_id = inst;
    s->section_id = (uint32_t)r->n;
    s->vmsd = vmsd;
    s->opaque = opaque;
    _Static_assert(sizeof(s->hdr) == 10 + sizeof(s->idstr), "a section header holds its idstr");
    s->hdr[0] = VMS_SEC_FULL;
    vms_put_be32(s->hdr + 1, s->section_id);
    s->hdr[5] = (uint8_t)idlen;
    memcpy(s->hdr + 6, s->idstr, idlen);
    vms_put_be32(s->hdr + 6 + idlen, s->instance_id);
    s->hdr_len = (uint8_t)(10 + idlen);
    r->n++;
    return s;
}

/* ------------------------------------------------------------ errors */

bool vms_stream_fail(VmsError *e, VmsErrClass cls, const char *section, int64_t instance,
                     size_t offset, const char *fmt, ...)
{
    e->cls = cls;
    snprintf(e->section, sizeof(e->section), "%s", section ? section : "");
    e->instance = section ? instance : -1;
    e->field[0] = 0;
    e->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vms_error_vmsg(e, fmt, ap);
    va_end(ap);
    return false;
}

/* ------------------------------------------------------------ save */

/*
 * analyze-migration.py finds the JSON by the last NUL byte in the file and
 * the first '{' after it, so the be32 length must contain a zero byte and no
 * 0x7b after its last zero. Lengths under 16 MiB always start with a zero.
 */
static bool trailer_len_ok(uint32_t len)
{
    uint8_t b[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                     (uint8_t)len };
    int last_zero = -1;
    for (int i = 0; i < 4; i++)
        if (b[i] == 0)
            last_zero = i;
    if (last_zero < 0)
        return false;
    for (int i = last_zero + 1; i < 4; i++)
        if (b[i] == 0x7b)
            return false;
    return true;
}

static bool save_trailer(VmsOut *out, json_t *root, VmsError *err)
{
    char *js = json_dumps(root, JSON_COMPACT);
    if (!js)
        return vms_stream_fail(err, VMS_ERR_LIMIT, NULL, -1, out->len,
                           "cannot serialise the vmdescription");
    size_t n = strlen(js);
    size_t padded = n;
    while (padded < UINT32_MAX && !trailer_len_ok((uint32_t)padded))
        padded++;
    bool ok = padded < (1u << 24) && vms_out_u8(out, VMS_SEC_VMDESCRIPTION) &&
              vms_out_be32(out, (uint32_t)padded) && vms_out_bytes(out, js, n);
    for (size_t i = n; ok && i < padded; i++)
        ok = vms_out_u8(out, ' ');
    free(js);
    if (!ok)
        return vms_stream_fail(err, VMS_ERR_LIMIT, NULL, -1, out->len,
                           "vmdescription does not fit the output limit");
    return true;
}

static void map_tag(VmsMap *map, size_t from, int32_t section)
{
    for (size_t i = from; map && i < map->n; i++)
        map->spans[i].section = section;
}

/* Section i, walked with c (save_sections sets what every section of the
 * save shares; the rest is set here). */
static bool save_section(VmsRegistry *r, size_t i, VmsOut *out, VmsCtx *c, json_t *jdevs)
{
    VmsSection *s = &r->sec[i];
    VmsError *err = c->err;
    VmsMap *map = c->map;
    size_t start = out->len;
    int version = s->version_id ? s->version_id : s->vmsd->version_id;
    /* The header in one write (the checkpoint path saves ~20 sections, four
     * times): the part vms_register built, then the version. */
    uint8_t *dst = vms_out_room(out, s->hdr_len + 4u > 32u ? s->hdr_len + 4u : 32u);
    if (dst) {
        /* Most headers fit in 32 bytes: a fixed-size copy (no call); the
         * bytes after the version lie beyond the output's length. */
        if (s->hdr_len <= 28)
            memcpy(dst, s->hdr, 32);
        else
            memcpy(dst, s->hdr, s->hdr_len);
        vms_put_be32(dst + s->hdr_len, (uint32_t)version);
        vms_out_advance(out, s->hdr_len + 4u);
    } else if (!vms_out_bytes(out, s->hdr, s->hdr_len) || !vms_out_be32(out, (uint32_t)version)) {
        return vms_stream_fail(err, VMS_ERR_LIMIT, s->idstr, s->instance_id, start,
                           "output over its limit");
    }
    json_t *jd = NULL;
    if (jdevs) {
        jd = json_object();
        json_object_set_new(jd, "name", json_string(s->idstr));
        json_object_set_new(jd, "instance_id", json_integer(s->instance_id));
        json_array_append_new(jdevs, jd);
    }
    c->section = s->idstr;
    c->instance = s->instance_id;
    c->vmdesc = jd;
    c->version = version;
    c->plan_ref = &s->plan_ref[0];
    size_t first_span = map ? map->n : 0;
    if (!vms_save_state(c, out, s->vmsd, s->opaque))
        return false;
    map_tag(map, first_span, (int32_t)i);
    size_t fpos = out->len;
    uint8_t foot[5] = { VMS_SEC_FOOTER };
    dst = vms_out_room(out, 5);
    if (dst) {
        dst[0] = VMS_SEC_FOOTER;
        vms_put_be32(dst + 1, s->section_id);
        vms_out_advance(out, 5);
        return true;
    }
    vms_put_be32(foot + 1, s->section_id);
    if (!vms_out_bytes(out, foot, sizeof(foot)))
        return vms_stream_fail(err, VMS_ERR_LIMIT, s->idstr, s->instance_id, fpos,
                           "output over its limit");
    return true;
}

static bool save_config(VmsRegistry *r, VmsOut *out, VmsMap *map, json_t *jconf, VmsError *err)
{
    ConfigState cs;
    memset(&cs, 0, sizeof(cs));
    cs.len = (uint32_t)strlen(r->machine_type);
    memcpy(cs.name, r->machine_type, cs.len);
    VmsCtx cc = { .err = err, .section = "configuration", .instance = 0, .map = map,
                  .vmdesc = jconf };
    return vms_save_state(&cc, out, &config_desc, &cs);
}

/* The stream's first bytes, field by field: magic, version, and the
 * configuration section through its description's walk. */
static bool save_header_fields(VmsRegistry *r, VmsOut *out, VmsMap *map, json_t *jconf, VmsError *err)
{
    if (!(vms_out_be32(out, VMS_FILE_MAGIC) && vms_out_be32(out, VMS_FILE_VERSION) &&
          vms_out_u8(out, VMS_SEC_CONFIGURATION)))
        return vms_stream_fail(err, VMS_ERR_LIMIT, NULL, -1, out->len, "output over its limit");
    return save_config(r, out, map, jconf, err);
}

/*
 * Those bytes depend on the machine type alone, and the checkpoint path
 * saves five times: written once by save_header_fields into r->prefix,
 * and again only when r->machine_type no longer matches the copy they were
 * written from. NULL if they cannot be (then each save writes them).
 */
static const uint8_t *save_prefix(VmsRegistry *r)
{
    _Static_assert(sizeof(r->prefix_type) == sizeof(r->machine_type), "the type is kept whole");
    if (r->prefix_len && !memcmp(r->prefix_type, r->machine_type, sizeof(r->prefix_type)))
        return r->prefix;
    VmsOut o;
    VmsError e;
    vms_out_init(&o, sizeof(r->prefix));
    bool ok = save_header_fields(r, &o, NULL, NULL, &e);
    if (ok) {
        memcpy(r->prefix, o.buf, o.len);
        r->prefix_len = (uint8_t)o.len;
        memcpy(r->prefix_type, r->machine_type, sizeof(r->prefix_type));
    }
    vms_out_free(&o);
    return ok ? r->prefix : NULL;
}

static bool save_header(VmsRegistry *r, VmsOut *out, VmsMap *map, json_t *jconf, VmsError *err)
{
    /* In one copy when nothing records the configuration (a map's spans, the
     * trailer's description) and there is room; otherwise field by field,
     * which grows the output or fails where it always has. */
    const uint8_t *prefix = !map && !jconf ? save_prefix(r) : NULL;
    uint8_t *dst = prefix ? vms_out_room(out, sizeof(r->prefix)) : NULL;
    if (dst) {
        /* A fixed-size copy (no call); the bytes after the prefix lie
         * beyond the output's length. */
        memcpy(dst, prefix, sizeof(r->prefix));
        vms_out_advance(out, r->prefix_len);
        return true;
    }
    return save_header_fields(r, out, map, jconf, err);
}

/* The sections, EOF and (with root) the trailer. */
static bool save_sections(VmsRegistry *r, VmsOut *out, const VmsSaveOpts *opts, json_t *root,
                          VmsError *err)
{
    VmsMap *map = opts ? opts->map : NULL;
    const bool *omit_set = opts ? opts->omit_set : NULL;
    json_t *jdevs = root ? json_object_get(root, "devices") : NULL;
    bool ok = true;
    size_t *at = opts ? opts->sec_start : NULL;
    /* What every section's walk shares, set once per save. */
    VmsCtx c = {
        .err = err, .map = map, .observe = r->observe, .obs_opaque = r->obs_opaque,
        .observe_event = r->observe_event, .plans = &r->plans,
    };
    for (size_t i = 0; ok && i < r->n; i++) {
        const VmsSection *s = &r->sec[i];
        if (at)
            at[i] = SIZE_MAX;
        /* As in QEMU, a top-level needed() that says no skips the whole section. */
        if ((s->vmsd->needed && !s->vmsd->needed(s->opaque)) || (omit_set && omit_set[i]))
            continue;
        if (at)
            at[i] = out->len;
        ok = save_section(r, i, out, &c, jdevs);
    }
    if (at)
        at[r->n] = out->len;
    if (ok && !vms_out_u8(out, VMS_SEC_EOF))
        ok = vms_stream_fail(err, VMS_ERR_LIMIT, NULL, -1, out->len, "output over its limit");
    if (ok && root)
        ok = save_trailer(out, root, err);
    return ok;
}

/* The trailer's skeleton: configuration, page_size, an empty devices list. */
static json_t *trailer_root(VmsRegistry *r, const VmsSaveOpts *opts)
{
    if (opts && opts->no_vmdesc)
        return NULL;
    json_t *root = json_object();
    json_object_set_new(root, "configuration", json_object());
    json_object_set_new(root, "page_size",
                        json_integer(opts && opts->page_size ? opts->page_size : r->page_size));
    json_object_set_new(root, "devices", json_array());
    return root;
}

bool vms_save(VmsRegistry *r, VmsOut *out, const VmsSaveOpts *opts, VmsError *err)
{
    VmsError scratch;
    if (!err)
        err = &scratch;
    vms_error_clear(err);
    json_t *root = trailer_root(r, opts);
    bool ok = save_header(r, out, opts ? opts->map : NULL,
                          root ? json_object_get(root, "configuration") : NULL, err) &&
              save_sections(r, out, opts, root, err);
    json_decref(root);
    return ok;
}

bool vms_save_begin(VmsRegistry *r, VmsOut *out, VmsError *err)
{
    VmsError scratch;
    if (!err)
        err = &scratch;
    vms_error_clear(err);
    return save_header(r, out, NULL, NULL, err);
}

bool vms_save_end(VmsRegistry *r, VmsOut *out, const VmsSaveOpts *opts, VmsError *err)
{
    VmsError scratch;
    if (!err)
        err = &scratch;
    vms_error_clear(err);
    json_t *root = trailer_root(r, opts);
    bool ok = true;
    if (root) {
        /* The configuration's description, from a throw-away save of it. */
        VmsOut tmp;
        vms_out_init(&tmp, 0);
        ok = save_config(r, &tmp, NULL, json_object_get(root, "configuration"), err);
        vms_out_free(&tmp);
    }
    ok = ok && save_sections(r, out, opts, root, err);
    json_decref(root);
    return ok;
}

/* ------------------------------------------------------------ load */

typedef struct Loader {
    VmsRegistry *r;
    VmsIn in;
    VmsError *err;
    uint8_t *seen;      /* per registry section: already loaded */
    enum { RAM_NONE, RAM_STARTED, RAM_ENDED } ram_state;
    uint32_t ram_sid;   /* the section id the stream gave "ram" */
    VmsRamLoad ram;
} Loader;

/* A short read while parsing framing: name the offset of the read that failed. */
static bool truncated(Loader *L, const char *section, int64_t instance, const char *what)
{
    return vms_stream_fail(L->err, VMS_ERR_TRUNCATED, section, instance, L->in.fail_pos,
                       "stream ends inside %s", what);
}

static bool load_header(Loader *L)
{
    uint32_t magic, version;
    if (!vms_in_be32(&L->in, &magic))
        return truncated(L, NULL, -1, "the file magic");
    if (magic != VMS_FILE_MAGIC)
        return vms_stream_fail(L->err, VMS_ERR_FORMAT, NULL, -1, 0,
                           "not a migration stream (magic 0x%08x)", magic);
    if (!vms_in_be32(&L->in, &version))
        return truncated(L, NULL, -1, "the file version");
    if (version != VMS_FILE_VERSION)
        return vms_stream_fail(L->err, VMS_ERR_VERSION, NULL, -1, 4,
                           "unsupported stream version %u (want %u)", version,
                           VMS_FILE_VERSION);
    return true;
}

static bool load_config(Loader *L)
{
    size_t pos = L->in.pos;
    uint8_t t;
    if (!vms_in_u8(&L->in, &t))
        return truncated(L, "configuration", 0, "the configuration section");
    if (t != VMS_SEC_CONFIGURATION)
        return vms_stream_fail(L->err, VMS_ERR_CONFIG, "configuration", 0, pos,
                           "configuration section missing (type byte 0x%02x)", t);
    ConfigState cs;
    memset(&cs, 0, sizeof(cs));
    VmsCtx c = { .err = L->err, .section = "configuration", .instance = 0 };
    size_t body = L->in.pos;
    if (!vms_load_state(&c, &L->in, &config_desc, &cs, config_desc.version_id))
        return false;
    const char *mt = L->r->machine_type;
    if (cs.len != strlen(mt) || memcmp(cs.name, mt, cs.len) != 0)
        return vms_stream_fail(L->err, VMS_ERR_CONFIG, "configuration", 0, body,
                           "machine type '%.*s' does not match '%s'", (int)cs.len,
                           (const char *)cs.name, mt);
    return true;
}

static bool load_footer(Loader *L, const char *idstr, int64_t inst, uint32_t sid);

/* The section (idstr, inst) of a record: our streams number sections by
 * registration, so the record's section id is first tried as an index
 * (an idstr and instance name one section at most, so a hit is the
 * answer); any other stream (QEMU's, a reordered or fuzzed one) is
 * looked up by name. */
static VmsSection *find_section(VmsRegistry *r, uint32_t sid, const char *idstr, size_t idlen,
                                uint32_t inst)
{
    if (sid < r->n) {
        VmsSection *s = &r->sec[sid];
        if (s->instance_id == inst && idlen < sizeof(s->idstr) && !memcmp(s->idstr, idstr, idlen + 1))
            return s;
    }
    return vms_registry_find(r, idstr, inst);
}

/* The section whose saved header (vms_register's bytes, then a version)
 * starts the record at tpos, by the record's section id; NULL: none, and
 * the header is parsed field by field. */
static VmsSection *header_match(Loader *L, size_t tpos)
{
    const VmsIn *in = &L->in;
    if (in->failed || in->len - tpos < 5)
        return NULL;
    uint32_t sid = vms_get_be32(in->buf + tpos + 1);
    if (sid >= L->r->n)
        return NULL;
    VmsSection *s = &L->r->sec[sid];
    if (in->len - tpos < s->hdr_len + 4u || memcmp(in->buf + tpos, s->hdr, s->hdr_len))
        return NULL;
    return s;
}

static bool load_full_section(Loader *L, size_t tpos)
{
    VmsIn *in = &L->in;
    uint32_t sid, inst, ver;
    uint8_t idlen;
    char name[256];
    const char *idstr = name;
    size_t vpos;
    VmsSection *s = header_match(L, tpos);
    if (s) {
        /* The header its section would have saved (our own streams). */
        sid = s->section_id;
        inst = s->instance_id;
        idstr = s->idstr;
        vpos = tpos + s->hdr_len;
        ver = vms_get_be32(in->buf + vpos);
        in->pos = vpos + 4;
    } else {
        if (!vms_in_be32(in, &sid) || !vms_in_u8(in, &idlen))
            return truncated(L, NULL, -1, "a section header");
        if (!vms_in_bytes(in, name, idlen))
            return truncated(L, NULL, -1, "a section name");
        name[idlen] = 0;
        if (!vms_in_be32(in, &inst))
            return truncated(L, idstr, -1, "a section header");
        vpos = in->pos;
        if (!vms_in_be32(in, &ver))
            return truncated(L, idstr, inst, "a section header");
        s = strlen(idstr) == idlen ? find_section(L->r, sid, idstr, idlen, inst) : NULL;
        if (!s)
            return vms_stream_fail(L->err, VMS_ERR_UNKNOWN, idstr, inst, tpos,
                               "unknown section or instance '%s' %u", idstr, inst);
    }
    size_t idx = (size_t)(s - L->r->sec);
    if (L->seen[idx])
        return vms_stream_fail(L->err, VMS_ERR_DUPLICATE, idstr, inst, tpos,
                           "section '%s' %u appears twice", idstr, inst);
    L->seen[idx] = 1;
    s->loaded = true;
    const VmsDesc *d = s->vmsd;
    if (ver > (uint32_t)d->version_id || (int64_t)ver < d->minimum_version_id)
        return vms_stream_fail(L->err, VMS_ERR_VERSION, idstr, inst, vpos,
                           "section version %u outside [%d, %d]", ver, d->minimum_version_id,
                           d->version_id);
    VmsCtx c = { .err = L->err, .section = s->idstr, .instance = inst,
                 .observe = L->r->observe, .obs_opaque = L->r->obs_opaque,
                 .observe_event = L->r->observe_event, .members = s->members,
                 .plans = &L->r->plans, .plan_ref = &s->plan_ref[1] };
    return vms_load_state(&c, in, d, s->opaque, (int)ver) && load_footer(L, idstr, inst, sid);
}

static bool load_footer(Loader *L, const char *idstr, int64_t inst, uint32_t sid)
{
    VmsIn *in = &L->in;
    size_t fpos = in->pos;
    uint8_t t;
    uint32_t fid;
    if (!in->failed && in->len - fpos >= 5 && in->buf[fpos] == VMS_SEC_FOOTER &&
        vms_get_be32(in->buf + fpos + 1) == sid) {
        in->pos = fpos + 5;     /* the footer expected, in one look */
        return true;
    }
    if (!vms_in_u8(in, &t))
        return truncated(L, idstr, inst, "a section footer");
    if (t != VMS_SEC_FOOTER)
        return vms_stream_fail(L->err, VMS_ERR_FORMAT, idstr, inst, fpos,
                           "missing section footer (byte 0x%02x)", t);
    if (!vms_in_be32(in, &fid))
        return truncated(L, idstr, inst, "a section footer");
    if (fid != sid)
        return vms_stream_fail(L->err, VMS_ERR_FORMAT, idstr, inst, fpos,
                           "footer section id %u does not match %u", fid, sid);
    return true;
}

/* One chunk of the iterative RAM section (START, PART or END). */
static bool load_ram_chunk(Loader *L, size_t tpos, uint8_t type)
{
    VmsIn *in = &L->in;
    uint32_t sid, inst, ver;
    if (type == VMS_SEC_START) {
        uint8_t idlen;
        char idstr[256];
        if (!vms_in_be32(in, &sid) || !vms_in_u8(in, &idlen) || !vms_in_bytes(in, idstr, idlen))
            return truncated(L, NULL, -1, "a section header");
        idstr[idlen] = 0;
        if (!vms_in_be32(in, &inst) || !vms_in_be32(in, &ver))
            return truncated(L, idstr, -1, "a section header");
        if (strlen(idstr) != idlen || strcmp(idstr, VMS_RAM_IDSTR) || inst != 0)
            return vms_stream_fail(L->err, VMS_ERR_UNKNOWN, idstr, inst, tpos,
                               "unknown iterative section '%s' %u", idstr, inst);
        if (ver != VMS_RAM_VERSION)
            return vms_stream_fail(L->err, VMS_ERR_VERSION, idstr, inst, tpos,
                               "ram section version %u (want %u)", ver, VMS_RAM_VERSION);
        if (L->ram_state != RAM_NONE)
            return vms_stream_fail(L->err, VMS_ERR_DUPLICATE, idstr, inst, tpos,
                               "ram section started twice");
        L->ram_state = RAM_STARTED;
        L->ram_sid = sid;
        L->r->ram->loaded = true;
    } else {
        if (!vms_in_be32(in, &sid))
            return truncated(L, VMS_RAM_IDSTR, 0, "a section header");
        if (L->ram_state != RAM_STARTED || sid != L->ram_sid)
            return vms_stream_fail(L->err, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, tpos,
                               "%s chunk of section %u, which no open ram section has",
                               type == VMS_SEC_END ? "END" : "PART", sid);
        if (type == VMS_SEC_END)
            L->ram_state = RAM_ENDED;
    }
    return vms_ram_load_chunk(L->r->ram, in, &L->ram, type == VMS_SEC_START, L->err) &&
           load_footer(L, VMS_RAM_IDSTR, 0, sid);
}

static bool load_trailer(Loader *L)
{
    VmsIn *in = &L->in;
    size_t pos = in->pos;
    if (vms_in_left(in) == 0)
        return true;
    uint8_t t;
    uint32_t jlen;
    vms_in_u8(in, &t);
    if (t != VMS_SEC_VMDESCRIPTION)
        return vms_stream_fail(L->err, VMS_ERR_FORMAT, NULL, -1, pos,
                           "trailing bytes after EOF (byte 0x%02x)", t);
    if (!vms_in_be32(in, &jlen))
        return truncated(L, NULL, -1, "the vmdescription length");
    size_t jpos = in->pos;
    if (jlen > VMS_VMDESC_MAX)
        return vms_stream_fail(L->err, VMS_ERR_LIMIT, NULL, -1, jpos - 4,
                           "vmdescription of %u bytes exceeds the limit of %u", jlen, VMS_VMDESC_MAX);
    if (jlen > vms_in_left(in))
        return vms_stream_fail(L->err, VMS_ERR_TRUNCATED, NULL, -1, jpos,
                           "vmdescription of %u bytes but only %zu left", jlen,
                           vms_in_left(in));
    if (L->r->check_vmdesc) {
        json_error_t je;
        json_t *j = json_loadb((const char *)in->buf + jpos, jlen, 0, &je);
        bool obj = j && json_is_object(j);
        json_decref(j);
        if (!obj)
            return vms_stream_fail(L->err, VMS_ERR_FORMAT, NULL, -1, jpos,
                               "malformed vmdescription JSON: %s", j ? "not an object" : je.text);
    }
    vms_in_skip(in, jlen);
    if (vms_in_left(in))
        return vms_stream_fail(L->err, VMS_ERR_FORMAT, NULL, -1, in->pos,
                           "%zu trailing bytes after the vmdescription", vms_in_left(in));
    return true;
}

bool vms_load(VmsRegistry *r, const void *buf, size_t len, VmsError *err)
{
    VmsError scratch;
    uint8_t seen_small[256];
    Loader L = { .r = r, .err = err ? err : &scratch };
    vms_error_clear(L.err);
    vms_in_init(&L.in, buf, len);
    if (r->n <= sizeof(seen_small)) {
        memset(seen_small, 0, sizeof(seen_small));
        L.seen = seen_small;
    } else if (!(L.seen = calloc(r->n, 1))) {
        return vms_stream_fail(L.err, VMS_ERR_LIMIT, NULL, -1, 0, "out of memory");
    }
    bool ok = load_header(&L) && load_config(&L);
    while (ok) {
        size_t tpos = L.in.pos;
        uint8_t t;
        if (!vms_in_u8(&L.in, &t)) {
            ok = truncated(&L, NULL, -1, "the section list (no EOF marker)");
        } else if (t == VMS_SEC_EOF) {
            if (L.ram_state == RAM_STARTED)
                ok = vms_stream_fail(L.err, VMS_ERR_FORMAT, VMS_RAM_IDSTR, 0, tpos,
                                 "EOF with the ram section never ended (no END chunk)");
            else
                ok = load_trailer(&L);
            break;
        } else if (t == VMS_SEC_FULL) {
            ok = load_full_section(&L, tpos);
        } else if (r->ram && (t == VMS_SEC_START || t == VMS_SEC_PART || t == VMS_SEC_END)) {
            ok = load_ram_chunk(&L, tpos, t);
        } else {
            ok = vms_stream_fail(L.err, VMS_ERR_FORMAT, NULL, -1, tpos,
                             "unknown or unsupported section type 0x%02x", t);
        }
    }
    if (L.seen != seen_small)
        free(L.seen);
    if (r->observe_event)
        r->observe_event(r->obs_opaque, VMS_OBS_LOAD_END, NULL, 0, ok ? NULL : L.err);
    return ok;
}

/* ------------------------------------------------------------ dumps */

void *vms_dump_desc_as(const VmsDesc *d, void *opaque, int version)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "version_id", json_integer(version));
    json_object_set_new(o, "minimum_version_id", json_integer(d->minimum_version_id));
    json_t *fa = json_array();
    for (const VmsField *f = d->fields; f && !(f->flags & VMS_END); f++) {
        /* VALIDATE entries are not state; a field of a later version is not sent. */
        if ((f->flags & VMS_MUST_EXIST) || f->version_id > version)
            continue;
        json_t *fo = json_object();
        json_object_set_new(fo, "field", json_string(f->name));
        json_object_set_new(fo, "version_id", json_integer(f->version_id));
        json_object_set_new(fo, "field_exists", json_boolean(f->field_exists != NULL || f->validate != NULL));
        json_object_set_new(fo, "size", json_integer((json_int_t)f->size));
        if (f->vmsd)
            json_object_set_new(fo, "Description", vms_dump_desc(f->vmsd));
        json_array_append_new(fa, fo);
    }
    if (d->fields && !(d->fields[0].flags & VMS_END))
        json_object_set_new(o, "Fields", fa);
    else
        json_decref(fa);
    json_t *sa = json_array();
    for (const VmsDesc *const *sp = d->subsections; sp && *sp; sp++)
        if (!opaque || !(*sp)->needed_is_config || (*sp)->needed(opaque))
            json_array_append_new(sa, vms_dump_desc(*sp));
    if (json_array_size(sa))
        json_object_set_new(o, "Subsections", sa);
    else
        json_decref(sa);
    return o;
}

void *vms_dump_desc(const VmsDesc *d)
{
    return vms_dump_desc_as(d, NULL, d->version_id);
}

void *vms_dump_descriptions(const char *machine_type, const VmsDumpEntry *e, size_t n)
{
    json_t *root = json_object();
    json_t *m = json_object();
    json_object_set_new(m, "Name", json_string(machine_type));
    json_object_set_new(root, "vmschkmachine", m);
    for (size_t i = 0; i < n; i++) {
        int version = e[i].version ? e[i].version : e[i].vmsd->version_id;
        json_t *t = json_object();
        json_object_set_new(t, "Name", json_string(e[i].type_name));
        json_object_set_new(t, "version_id", json_integer(version));
        json_object_set_new(t, "minimum_version_id",
                            json_integer(e[i].vmsd->minimum_version_id));
        json_object_set_new(t, "Description", vms_dump_desc_as(e[i].vmsd, e[i].opaque, version));
        json_object_set_new(root, e[i].type_name, t);
    }
    return root;
}

bool vms_json_write_file(void *json, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = json_dumpf(json, f, JSON_INDENT(2)) == 0 && fputc('\n', f) != EOF;
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------ input files */

static const char *file_kind(mode_t mode)
{
    return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device"
         : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket" : "not a regular file";
}

FILE *vms_open_input(const char *path, VmsMsg *why)
{
    if (!strcmp(path, "-"))
        return stdin;
    /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        vms_fail(why, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        vms_fail(why, "%s: is %s, not a regular file", path, file_kind(st.st_mode));
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        vms_fail(why, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

bool vms_read_input(const char *path, size_t max, uint8_t **buf, size_t *len, VmsMsg *why)
{
    *buf = NULL;
    *len = 0;
    FILE *f = vms_open_input(path, why);
    if (!f)
        return false;
    uint8_t *b = malloc(max ? max : 1);
    size_t n = b ? fread(b, 1, max, f) : 0;
    bool too_big = b && n == max && fgetc(f) != EOF, bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!b || too_big || bad) {
        if (too_big)
            vms_fail(why, "%s: larger than %zu bytes", path, max);
        else
            vms_fail(why, "%s: %s", path, !b ? "out of memory" : "read error");
        free(b);
        return false;
    }
    *buf = b;
    *len = n;
    return true;
}

json_t *vms_read_json(const char *path, size_t flags, VmsMsg *why)
{
    uint8_t *buf;
    size_t len;
    if (!vms_read_input(path, VMS_JSON_INPUT_MAX, &buf, &len, why))
        return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)buf, len, flags, &je);
    free(buf);
    if (!j)
        vms_fail(why, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    return j;
}

const char *vms_stream_machine_type(const uint8_t *b, size_t len, char *name, size_t n)
{
    VmsIn in;
    uint32_t magic, version, l;
    uint8_t t;
    vms_in_init(&in, b, len);
    if (!vms_in_be32(&in, &magic) || magic != VMS_FILE_MAGIC || !vms_in_be32(&in, &version) ||
        !vms_in_u8(&in, &t) || t != VMS_SEC_CONFIGURATION || !vms_in_be32(&in, &l) || l == 0 || l >= n ||
        !vms_in_bytes(&in, name, l))
        return NULL;
    name[l] = 0;
    return name;
}
