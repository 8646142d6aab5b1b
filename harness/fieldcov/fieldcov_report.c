/*
 * fieldcov_report.c - field-coverage reports: the summary table, the
 * self-contained HTML page, the lcov tracefile (one line per field), the
 * ratchet baseline and its check.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fieldcov_impl.h"

static const char *reason_for(const void *reasons, const char *desc, const char *field)
{
    if (!reasons)
        return NULL;
    char key[400];
    snprintf(key, sizeof(key), "%s/%s", desc, field);
    return json_string_value(json_object_get((const json_t *)reasons, key));
}

static double pct(size_t a, size_t b) { return b ? 100.0 * (double)a / (double)b : 100.0; }

/* ------------------------------------------------------------ bits */

/* The union of the masks of reasons keyed "<prefix>0xMASK". */
static uint64_t reason_masks(const void *reasons, const char *prefix)
{
    size_t n = strlen(prefix);
    uint64_t m = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)reasons, key, v) {
        if (strncmp(key, prefix, n) || !json_is_string(v))
            continue;
        char *end;
        errno = 0;
        uint64_t x = strtoull(key + n, &end, 16);
        if (!errno && end != key + n && !*end)
            m |= x;
    }
    return m;
}

/* The bits of element slot e a reason explains: all of them for a
 * "desc/field" reason, else the masks of "desc/field:0xMASK" (every
 * element) and "desc/field[e]:0xMASK" reasons. */
static uint64_t explained_bits(const void *reasons, const char *desc, const char *field, uint32_t e)
{
    if (!reasons)
        return 0;
    if (reason_for(reasons, desc, field))
        return ~0ull;
    char prefix[400];
    snprintf(prefix, sizeof(prefix), "%s/%s:", desc, field);
    uint64_t m = reason_masks(reasons, prefix);
    snprintf(prefix, sizeof(prefix), "%s/%s[%u]:", desc, field, e);
    return m | reason_masks(reasons, prefix);
}

static uint64_t popcount64(uint64_t x) { return (uint64_t)__builtin_popcountll(x); }

/* One element slot of a STATE field's total, as the bit walk sees it. */
typedef struct BitSlot {
    const char *desc, *field;
    uint32_t elem, n_elems, width;
    uint64_t never0, never1;    /* bits never seen as 0 / as 1 */
    uint64_t explained;         /* bits a reason explains */
} BitSlot;

/* Call fn for every element slot of every STATE field with bit data. */
static void walk_bits(const Fcov *fc, const void *reasons, void (*fn)(const BitSlot *s, void *opaque),
                      void *opaque)
{
    for (size_t i = 0; i < fc->n_descs; i++)
        for (size_t k = 0; k < fc->descs[i].n_fields; k++) {
            const FcovField *f = &fc->descs[i].fields[k];
            if (f->role != FCOV_ROLE_STATE)
                continue;
            FcovStats t;
            fcov_field_total(f, &t);
            uint64_t w = fcov_width_mask(t.bit_width);
            for (uint32_t e = 0; e < t.bit_elems; e++) {
                BitSlot s = { fc->descs[i].name, f->name, e, t.bit_elems, t.bit_width,
                              w & ~t.seen0[e], w & ~t.seen1[e],
                              explained_bits(reasons, fc->descs[i].name, f->name, e) };
                fn(&s, opaque);
            }
        }
}

static void count_slot(const BitSlot *s, void *opaque)
{
    FcovBits *b = opaque;
    uint64_t unseen = s->never0 | s->never1;
    b->bits += s->width;
    b->both += s->width - popcount64(unseen);
    b->unseen += popcount64(unseen);
    b->unexplained += popcount64(unseen & ~s->explained);
}

void fcov_bit_counts(const Fcov *fc, const void *reasons, FcovBits *out)
{
    memset(out, 0, sizeof(*out));
    walk_bits(fc, reasons, count_slot, out);
}

/* One line per element slot with bits unseen as 0 or 1 that no reason explains. */
static void print_slot(const BitSlot *s, void *opaque)
{
    uint64_t n0 = s->never0 & ~s->explained, n1 = s->never1 & ~s->explained;
    if (!(n0 | n1))
        return;
    char idx[24] = "";
    if (s->n_elems > 1)
        snprintf(idx, sizeof(idx), "[%u%s]", s->elem, s->elem == FCOV_BIT_ELEMS - 1 ? "+" : "");
    fprintf(opaque, "  %s/%s%s: never 0 0x%" PRIx64 ", never 1 0x%" PRIx64 "\n", s->desc, s->field, idx, n0, n1);
}

/* Never-covered fields whose recorded reason says no guest can reach them. */
static size_t count_unreachable(const Fcov *fc, const void *reasons)
{
    size_t n = 0;
    for (size_t i = 0; i < fc->n_descs; i++)
        for (size_t k = 0; k < fc->descs[i].n_fields; k++) {
            const FcovField *f = &fc->descs[i].fields[k];
            const char *why = reason_for(reasons, fc->descs[i].name, f->name);
            n += f->role == FCOV_ROLE_STATE && !fcov_field_covered(f) && why &&
                 !strncmp(why, "unreachable:", 12);
        }
    return n;
}

/* ------------------------------------------------------------ summary */

void fcov_print_summary(const Fcov *fc, FILE *out, const void *reasons)
{
    size_t nf, nc;
    fprintf(out, "%-34s %7s %9s %7s\n", "description", "fields", "non-reset", "%");
    for (size_t i = 0; i < fc->n_descs; i++) {
        const FcovDesc *d = &fc->descs[i];
        fcov_count(fc, d, &nf, &nc);
        if (!nf)
            continue;
        fprintf(out, "%-34s %7zu %9zu %6.1f%%\n", d->name, nf, nc, pct(nc, nf));
    }
    fcov_count(fc, NULL, &nf, &nc);
    fprintf(out, "%-34s %7zu %9zu %6.1f%%\n", "total", nf, nc, pct(nc, nf));
    size_t unr = count_unreachable(fc, reasons);
    if (unr)
        fprintf(out, "%-34s %7zu %9zu %6.1f%%\n", "total reachable", nf - unr, nc, pct(nc, nf - unr));
    uint64_t l[FCOV_NSRC], a[FCOV_NSRC];
    fcov_load_counts(fc, l, a);
    fprintf(out, "loads: stress %" PRIu64 " (%" PRIu64 " accepted), fuzz/replay %" PRIu64 " (%" PRIu64
                 " accepted)\n",
            l[FCOV_SRC_STRESS], a[FCOV_SRC_STRESS], l[FCOV_SRC_FUZZ], a[FCOV_SRC_FUZZ]);
    if (nc < nf) {
        fprintf(out, "never covered (no non-reset value saved):\n");
        for (size_t i = 0; i < fc->n_descs; i++) {
            const FcovDesc *d = &fc->descs[i];
            for (size_t k = 0; k < d->n_fields; k++) {
                const FcovField *f = &d->fields[k];
                if (f->role != FCOV_ROLE_STATE || fcov_field_covered(f))
                    continue;
                const char *why = reason_for(reasons, d->name, f->name);
                fprintf(out, "  %s/%s%s%s\n", d->name, f->name, why ? "  -- " : "  -- (no reason recorded)",
                        why ? why : "");
            }
        }
    }
    bool head = false;
    for (size_t i = 0; i < fc->n_descs; i++)
        for (size_t k = 0; k < fc->descs[i].n_fields; k++) {
            const FcovField *f = &fc->descs[i].fields[k];
            const char *why = reason_for(reasons, fc->descs[i].name, f->name);
            if (!fcov_field_covered(f) || !why || !strncmp(why, "rare:", 5))
                continue;
            if (!head)
                fprintf(out, "covered now, but a reason says otherwise (remove the stale reason):\n");
            head = true;
            fprintf(out, "  %s/%s\n", fc->descs[i].name, f->name);
        }
    head = false;
    for (size_t i = 0; i < fc->n_descs; i++) {
        const FcovDesc *d = &fc->descs[i];
        if (!d->subsection || (d->needed && d->not_needed))
            continue;
        if (!head)
            fprintf(out, "subsections not seen both needed and not needed:\n");
        head = true;
        fprintf(out, "  %s: needed %" PRIu64 ", not needed %" PRIu64 ", seen on load %" PRIu64 "\n",
                d->name, d->needed, d->not_needed, d->sub_loaded);
    }
    FcovBits b;
    fcov_bit_counts(fc, reasons, &b);
    fprintf(out, "bits: %" PRIu64 " of %" PRIu64 " seen both as 0 and as 1 (%.1f%%); %" PRIu64
                 " unseen, %" PRIu64 " of them unexplained\n",
            b.both, b.bits, pct(b.both, b.bits), b.unseen, b.unexplained);
    if (b.unseen > b.unexplained)
        fprintf(out, "bits no reason declares: %" PRIu64 " of %" PRIu64 " seen both as 0 and as 1 (%.1f%%)\n",
                b.both, b.both + b.unexplained, pct(b.both, b.both + b.unexplained));
    if (b.unexplained) {
        fprintf(out, "bits unseen as 0 or as 1 with no reason recorded:\n");
        walk_bits(fc, reasons, print_slot, out);
    }
}

/* ------------------------------------------------------------ HTML */

static void html_esc(FILE *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '&': fputs("&amp;", o); break;
        case '"': fputs("&quot;", o); break;
        default: fputc(*s, o);
        }
    }
}

static void distinct_text(const FcovStats *s, char *b, size_t n)
{
    snprintf(b, n, "%" PRIu32 "%s", s->n_distinct, s->distinct_more ? "+" : "");
}

static void rejected_text(const FcovStats *s, char *b, size_t n)
{
    size_t w = 0;
    b[0] = 0;
    for (int k = 0; k < FCOV_NREJ && w < n; k++)
        if (s->rejected[k])
            w += (size_t)snprintf(b + w, n - w, "%s%s %" PRIu64, w ? ", " : "", fcov_rej_names[k],
                                  s->rejected[k]);
}

static void versions_text(const int *v, int nv, char *b, size_t n)
{
    size_t w = 0;
    b[0] = 0;
    for (int i = 0; i < nv && w < n; i++)
        w += (size_t)snprintf(b + w, n - w, "%s%d", i ? "," : "", v[i]);
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>vmstress field coverage</title>\n<style>\n"
    "body{font:13px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
    "table{border-collapse:collapse;margin-bottom:2em}\n"
    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "th{background:#eee;cursor:pointer;position:sticky;top:0}\n"
    "th:after{content:' \\2195';color:#999}\n"
    "tr.never td{background:#fdd}\n"
    "tr.other td{color:#888}\n"
    ".bar{display:inline-block;height:9px;background:#4a4;vertical-align:middle}\n"
    "code{font-size:12px}\n"
    "</style></head><body>\n";

static const char html_script[] =
    "<script>\n"
    "/* Click a header to sort its table by that column (again: reverse). */\n"
    "document.querySelectorAll('table.sort').forEach(function(t){\n"
    " t.querySelectorAll('th').forEach(function(th,col){\n"
    "  th.addEventListener('click',function(){\n"
    "   var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);\n"
    "   var dir=th.dataset.dir==='a'?-1:1;th.dataset.dir=dir===1?'a':'d';\n"
    "   rows.sort(function(a,b){\n"
    "    var x=a.cells[col].dataset.v!==undefined?a.cells[col].dataset.v:a.cells[col].textContent;\n"
    "    var y=b.cells[col].dataset.v!==undefined?b.cells[col].dataset.v:b.cells[col].textContent;\n"
    "    var nx=parseFloat(x),ny=parseFloat(y);\n"
    "    if(!isNaN(nx)&&!isNaN(ny)&&String(nx)===x.trim()&&String(ny)===y.trim())return dir*(nx-ny);\n"
    "    return dir*x.localeCompare(y);});\n"
    "   rows.forEach(function(r){body.appendChild(r);});});});});\n"
    "</script>\n";

static void td_num(FILE *o, uint64_t v) { fprintf(o, "<td class=n>%" PRIu64 "</td>", v); }

static void html_field_row(FILE *o, const Fcov *fc, const FcovDesc *d, const FcovField *f,
                           const void *reasons)
{
    FcovStats t;
    fcov_field_total(f, &t);
    bool state = f->role == FCOV_ROLE_STATE, cov = fcov_field_covered(f);
    fprintf(o, "<tr class=\"%s\">", !state ? "other" : cov ? "ok" : "never");
    fputs("<td>", o);
    html_esc(o, d->name);
    fputs("</td><td><code>", o);
    html_esc(o, f->name);
    fputs("</code></td><td>", o);
    html_esc(o, f->kind);
    fputs("</td>", o);
    td_num(o, t.saved);
    td_num(o, t.nonreset);
    double p = t.saved ? 100.0 * (double)t.nonreset / (double)t.saved : 0.0;
    fprintf(o, "<td class=n data-v=\"%.1f\">%.1f%%</td>", p, p);
    char b[160];
    distinct_text(&t, b, sizeof(b));
    fprintf(o, "<td class=n data-v=\"%" PRIu32 "\">%s</td>", t.n_distinct + (t.distinct_more ? 1 : 0), b);
    for (int k = 0; k < FCOV_NSRC; k++) {
        td_num(o, t.loaded[k]);
        td_num(o, t.accepted[k]);
    }
    rejected_text(&t, b, sizeof(b));
    fputs("<td>", o);
    html_esc(o, b);
    fputs("</td><td>", o);
    /* Per instance: non-reset saves / saves. */
    for (size_t j = 0; j < f->n_inst; j++) {
        fprintf(o, "%s", j ? "; " : "");
        const char *nm = fcov_inst_name(fc, f->inst[j].inst);
        html_esc(o, *nm ? nm : "(other)");
        fprintf(o, " %" PRIu64 "/%" PRIu64, f->inst[j].st.nonreset, f->inst[j].st.saved);
    }
    fputs("</td><td>", o);
    const char *why = reason_for(reasons, d->name, f->name);
    if (state && !cov)
        html_esc(o, why ? why : "no reason recorded");
    else if (!state)
        html_esc(o, f->role == FCOV_ROLE_STRUCT     ? "nested: counted in its own description"
                    : f->role == FCOV_ROLE_VALIDATE ? "validator: no bytes on the wire"
                                                    : "padding: always zero");
    fputs("</td></tr>\n", o);
}

bool fcov_write_html(const Fcov *fc, const char *path, const void *reasons, char *err, size_t errlen)
{
    FILE *o = fopen(path, "w");
    if (!o) {
        fcov_errf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return false;
    }
    size_t nf, nc;
    fcov_count(fc, NULL, &nf, &nc);
    uint64_t l[FCOV_NSRC], a[FCOV_NSRC];
    fcov_load_counts(fc, l, a);
    fputs(html_head, o);
    size_t unr = count_unreachable(fc, reasons);
    char reach[96] = "";
    if (unr)
        snprintf(reach, sizeof(reach), " (%.1f%% of the %zu not marked unreachable)", pct(nc, nf - unr),
                 nf - unr);
    fprintf(o, "<h1>Field coverage</h1>\n<p><b>%zu of %zu</b> state fields (%.1f%%) were saved with a "
               "value different from their reset value%s. Loads: stress %" PRIu64 " (%" PRIu64
               " accepted), fuzz/replay %" PRIu64 " (%" PRIu64 " accepted). Rows in red never "
               "left their reset value. Click a column header to sort.</p>\n",
            nc, nf, pct(nc, nf), reach, l[0], a[0], l[1], a[1]);

    fputs("<h2>Descriptions</h2>\n<table class=sort id=descs><thead><tr><th>description</th>"
          "<th>version</th><th>fields</th><th>non-reset</th><th>%</th><th>coverage</th>"
          "<th>versions saved</th><th>versions loaded</th><th>subsection: needed / not needed / "
          "seen on load</th><th>rejected (not tied to a field)</th></tr></thead><tbody>\n", o);
    for (size_t i = 0; i < fc->n_descs; i++) {
        const FcovDesc *d = &fc->descs[i];
        fcov_count(fc, d, &nf, &nc);
        double p = pct(nc, nf);
        char vs[64], vl[64], rj[160];
        versions_text(d->versions_saved, d->n_saved_versions, vs, sizeof(vs));
        versions_text(d->versions_loaded, d->n_loaded_versions, vl, sizeof(vl));
        FcovStats rs;
        memset(&rs, 0, sizeof(rs));
        memcpy(rs.rejected, d->rejected, sizeof(rs.rejected));
        rejected_text(&rs, rj, sizeof(rj));
        fprintf(o, "<tr class=\"%s\"><td>", !nf ? "other" : nc < nf ? "never" : "ok");
        html_esc(o, d->name);
        fprintf(o, "</td><td class=n>%d (min %d)</td><td class=n>%zu</td><td class=n>%zu</td>",
                d->version_id, d->minimum_version_id, nf, nc);
        if (nf)
            fprintf(o, "<td class=n data-v=\"%.1f\">%.1f%%</td><td data-v=\"%.1f\"><span class=bar "
                       "style=\"width:%dpx\"></span></td>", p, p, p, (int)p);
        else
            fputs("<td class=n data-v=\"-1\">-</td><td data-v=\"-1\">no state fields</td>", o);
        fprintf(o, "<td>%s</td><td>%s</td><td>", vs, vl);
        if (d->subsection)
            fprintf(o, "%" PRIu64 " / %" PRIu64 " / %" PRIu64, d->needed, d->not_needed, d->sub_loaded);
        fputs("</td><td>", o);
        html_esc(o, rj);
        fputs("</td></tr>\n", o);
    }
    fputs("</tbody></table>\n", o);

    fputs("<h2>Fields</h2>\n<table class=sort id=fields><thead><tr><th>description</th><th>field</th>"
          "<th>kind</th><th>saved</th><th>non-reset</th><th>% non-reset</th><th>distinct</th>"
          "<th>loaded (stress)</th><th>accepted (stress)</th><th>loaded (fuzz)</th>"
          "<th>accepted (fuzz)</th><th>rejected by</th><th>instances: non-reset/saved</th>"
          "<th>note</th></tr></thead><tbody>\n", o);
    for (size_t i = 0; i < fc->n_descs; i++)
        for (size_t k = 0; k < fc->descs[i].n_fields; k++)
            html_field_row(o, fc, &fc->descs[i], &fc->descs[i].fields[k], reasons);
    fputs("</tbody></table>\n", o);
    fputs(html_script, o);
    fputs("</body></html>\n", o);
    if (fclose(o) != 0) {
        fcov_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ lcov */

/* A description name as a file name: '/' (subsections) becomes '.'. */
static void safe_name(const char *s, char *b, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        b[i] = (s[i] == '/' || s[i] == ' ') ? '.' : s[i];
    b[i] = 0;
}

static bool mkdir_p(const char *path)
{
    char b[PATH_MAX];
    snprintf(b, sizeof(b), "%s", path);
    for (char *p = b + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(b, 0755) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(b, 0755) == 0 || errno == EEXIST;
}

bool fcov_write_lcov(const Fcov *fc, const char *info_path, const char *src_dir, char *err, size_t errlen)
{
    char dir[PATH_MAX], abs[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/vmstate", src_dir);
    if (!mkdir_p(dir) || !realpath(dir, abs)) {
        fcov_errf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        return false;
    }
    FILE *o = fopen(info_path, "w");
    if (!o) {
        fcov_errf(err, errlen, "%s: cannot write: %s", info_path, strerror(errno));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < fc->n_descs && ok; i++) {
        const FcovDesc *d = &fc->descs[i];
        char nm[256], src[PATH_MAX + 300];
        safe_name(d->name, nm, sizeof(nm));
        snprintf(src, sizeof(src), "%s/%s", abs, nm);
        /* The pseudo source: line n is field n, so genhtml shows names. */
        FILE *s = fopen(src, "w");
        if (!s) {
            fcov_errf(err, errlen, "%s: cannot write: %s", src, strerror(errno));
            ok = false;
            break;
        }
        for (size_t k = 0; k < d->n_fields; k++) {
            const FcovField *f = &d->fields[k];
            FcovStats t;
            fcov_field_total(f, &t);
            char dv[32];
            distinct_text(&t, dv, sizeof(dv));
            if (f->role == FCOV_ROLE_STATE)
                fprintf(s, "%-28s %-20s saved %" PRIu64 ", non-reset %" PRIu64 ", distinct %s\n", f->name,
                        f->kind, t.saved, t.nonreset, dv);
            else
                fprintf(s, "%-28s %-20s (%s: not counted)\n", f->name, f->kind, fcov_role_names[f->role]);
        }
        ok = fclose(s) == 0;
        size_t nf, nc;
        fcov_count(fc, d, &nf, &nc);
        fprintf(o, "TN:field_coverage\nSF:%s\n", src);
        for (size_t k = 0; k < d->n_fields; k++) {
            const FcovField *f = &d->fields[k];
            if (f->role != FCOV_ROLE_STATE)
                continue;
            FcovStats t;
            fcov_field_total(f, &t);
            fprintf(o, "DA:%zu,%" PRIu64 "\n", k + 1, t.nonreset);
        }
        fprintf(o, "LF:%zu\nLH:%zu\nend_of_record\n", nf, nc);
    }
    if (fclose(o) != 0 && ok) {
        fcov_errf(err, errlen, "%s: write failed: %s", info_path, strerror(errno));
        ok = false;
    }
    return ok;
}

/* ------------------------------------------------------------ ratchet */

bool fcov_write_baseline(const Fcov *fc, const char *path, uint64_t min_nonreset, char *err,
                         size_t errlen)
{
    json_t *list = json_array();
    for (size_t i = 0; i < fc->n_descs; i++)
        for (size_t k = 0; k < fc->descs[i].n_fields; k++) {
            const FcovField *f = &fc->descs[i].fields[k];
            FcovStats t;
            fcov_field_total(f, &t);
            if (f->role != FCOV_ROLE_STATE || !t.nonreset || t.nonreset < min_nonreset)
                continue;
            char key[400];
            snprintf(key, sizeof(key), "%s/%s", fc->descs[i].name, f->name);
            json_array_append_new(list, json_string(key));
        }
    json_t *root = json_pack("{sssIsIso}", "format", "vmstress-field-coverage-baseline", "fields",
                             (json_int_t)json_array_size(list), "min_nonreset", (json_int_t)min_nonreset,
                             "covered", list);
    bool ok = json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER) == 0;
    json_decref(root);
    if (!ok)
        fcov_errf(err, errlen, "%s: cannot write", path);
    return ok;
}

static const FcovField *find_key(const Fcov *fc, const char *key)
{
    for (size_t i = 0; i < fc->n_descs; i++) {
        const FcovDesc *d = &fc->descs[i];
        size_t n = strlen(d->name);
        if (strncmp(key, d->name, n) || key[n] != '/')
            continue;
        const FcovField *f = fcov_find_field(d, key + n + 1);
        if (f)
            return f;
    }
    return NULL;
}

long fcov_ratchet(const Fcov *fc, const char *baseline_path, FILE *out, char *err, size_t errlen)
{
    VmsMsg why;
    json_t *b = vms_read_json(baseline_path, 0, &why);
    if (!b) {
        fcov_errf(err, errlen, "%s", why.text);
        return -1;
    }
    const json_t *list = json_object_get(b, "covered");
    if (!json_is_array(list)) {
        fcov_errf(err, errlen, "%s: 'covered' is not an array", baseline_path);
        json_decref(b);
        return -1;
    }
    long lost = 0;
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x) {
        const char *key = json_string_value(x);
        if (!key) {
            fcov_errf(err, errlen, "%s: covered[%zu] is not a string", baseline_path, i);
            json_decref(b);
            return -1;
        }
        const FcovField *f = find_key(fc, key);
        if (f && fcov_field_covered(f))
            continue;
        lost++;
        fprintf(out, "lost: %s %s\n", key,
                f ? "was covered in the baseline, now never leaves its reset value"
                  : "was covered in the baseline, is not in the data (renamed or removed?)");
    }
    json_decref(b);
    return lost;
}
