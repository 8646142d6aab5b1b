/*
 * test_compat.c - the static checker's grades, one kind of change at a time.
 *
 * Each case is a pair of small dumps (OLD, NEW) differing by one change to
 * a section "dev" (fields a and b, 4 bytes each, version 1), and the complete
 * list of facts expected in each direction with their grades: a fact too
 * many, too few or graded otherwise fails the case. The machine type is
 * versioned and the same on both sides (so it adds no fact) unless the case
 * is about it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "compat.h"

/* ------------------------------------------------------------ dump text */

#define FE(name, ver, size, exists, extra)                                                   \
    "{\"field\":\"" name "\",\"version_id\":" #ver ",\"field_exists\":" #exists              \
    ",\"size\":" #size extra "}"
#define F(name, ver, size) FE(name, ver, size, false, "")
#define DESC(name, v, min, fields, extra)                                                    \
    "{\"name\":\"" name "\",\"version_id\":" #v ",\"minimum_version_id\":" #min              \
    ",\"Fields\":[" fields "]" extra "}"
#define SEC(name, v, min, fields, extra)                                                     \
    "\"" name "\":{\"Name\":\"" name "\",\"version_id\":" #v ",\"minimum_version_id\":" #min \
    ",\"Description\":" DESC(name, v, min, fields, extra) "}"
#define DUMP_M(machine, sections) "{\"vmschkmachine\":{\"Name\":\"" machine "\"}," sections "}"
#define DUMP(sections) DUMP_M("m-1.0", sections)

#define AB F("a", 0, 4) "," F("b", 0, 4)
#define BASE DUMP(SEC("dev", 1, 1, AB, ""))
#define NESTED(v) ",\"Description\":" DESC("sub", v, 1, F("x", 0, 4), "")
#define SUBS(v, min, fields) ",\"Subsections\":[" DESC("dev/extra", v, min, fields, "") "]"

/* ------------------------------------------------------------ cases */

typedef struct Want {
    const char *kind;
    const char *path;
    CompatGrade grade;
    const char *section;
} Want;

enum { MAX_WANT = 4 };

typedef struct Case {
    const char *what;
    const char *old, *new_;
    CompatGrade fwd, bwd;   /* verdicts */
    Want f[MAX_WANT], b[MAX_WANT];  /* every fact of each direction */
} Case;

#define Y COMPAT_YES
#define PY COMPAT_PROBABLY_YES
#define NI COMPAT_NO_IDEA
#define PN COMPAT_PROBABLY_NO
#define N COMPAT_NO

static const Case cases[] = {
    { "identical dumps", BASE, BASE, Y, Y, { { 0 } }, { { 0 } } },
    { "field added under a version bump, minimum unchanged",
      BASE, DUMP(SEC("dev", 2, 1, AB "," F("c", 2, 4), "")), Y, N,
      { { "version", "", Y, "dev" }, { "field", "c", Y, "dev" } },
      { { "version", "", N, "dev" }, { "field", "c", N, "dev" } } },
    { "field appended without a version bump",
      BASE, DUMP(SEC("dev", 1, 1, AB "," F("c", 0, 4), "")), N, N,
      { { "field", "c", N, "dev" } }, { { "field", "c", N, "dev" } } },
    { "field inserted in the middle without a version bump",
      BASE, DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," F("x", 0, 4) "," F("b", 0, 4), "")), N, N,
      { { "field", "x", N, "dev" } }, { { "field", "x", N, "dev" } } },
    { "size change",
      BASE, DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," F("b", 0, 2), "")), N, N,
      { { "size", "b", N, "dev" } }, { { "size", "b", N, "dev" } } },
    { "subsection added",
      BASE, DUMP(SEC("dev", 1, 1, AB, SUBS(1, 1, F("e", 0, 4)))), Y, PY,
      { { "subsection", "dev/extra", Y, "dev" } }, { { "subsection", "dev/extra", PY, "dev" } } },
    { "subsection version bump with a new field",
      DUMP(SEC("dev", 1, 1, AB, SUBS(1, 1, F("e", 0, 4)))),
      DUMP(SEC("dev", 1, 1, AB, SUBS(2, 1, F("e", 0, 4) "," F("e2", 2, 4)))), Y, N,
      { { "version", "dev/extra", Y, "dev" }, { "field", "dev/extra.e2", Y, "dev" } },
      { { "version", "dev/extra", N, "dev" }, { "field", "dev/extra.e2", N, "dev" } } },
    { "EQUAL field",
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 4, false, ",\"info\":\"uint32 equal\""),
               "")),
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 4, false, ",\"info\":\"uint32 equal\""),
               "")), NI, NI,
      { { "info", "b", NI, "dev" } }, { { "info", "b", NI, "dev" } } },
    { "minimum version raised above the old version",
      BASE, DUMP(SEC("dev", 2, 2, AB "," F("c", 2, 4), "")), N, N,
      { { "minimum_version", "", N, "dev" }, { "field", "c", Y, "dev" } },
      { { "version", "", N, "dev" }, { "field", "c", N, "dev" } } },
    { "section-level minimum version raised (QEMU's checker misses it)",
      BASE, "{\"vmschkmachine\":{\"Name\":\"m-1.0\"},\"dev\":{\"Name\":\"dev\",\"version_id\":2,"
            "\"minimum_version_id\":2,\"Description\":" DESC("dev", 2, 1, AB "," F("c", 2, 4), "")
            "}}", N, N,
      { { "minimum_version", "", N, "dev" }, { "field", "c", Y, "dev" } },
      { { "version", "", N, "dev" }, { "field", "c", N, "dev" } } },
    { "minimum version lowered",
      BASE, DUMP(SEC("dev", 1, 0, AB, "")), Y, Y,
      { { "minimum_version", "", Y, "dev" } }, { { "minimum_version", "", Y, "dev" } } },
    { "nested description only in the destination",
      BASE, DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 8, false, NESTED(1)), "")), N, N,
      { { "description", "b", N, "dev" } }, { { "description", "b", N, "dev" } } },
    { "nested description version bump, same fields",
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 8, false, NESTED(1)), "")),
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 8, false, NESTED(2)), "")), Y, Y,
      { { "version", "b", Y, "dev" } }, { { "version", "b", Y, "dev" } } },
    { "field_exists predicate added",
      BASE, DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 4, true, ""), "")), NI, NI,
      { { "field_exists", "b", NI, "dev" } }, { { "field_exists", "b", NI, "dev" } } },
    { "existing field moved behind a version bump",
      BASE, DUMP(SEC("dev", 2, 1, F("a", 0, 4) "," F("b", 2, 4), "")), N, N,
      { { "version", "", Y, "dev" }, { "field", "b", N, "dev" } },
      { { "version", "", N, "dev" }, { "version", "b", Y, "dev" } } },
    { "field renamed, same size",
      BASE, DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," F("bb", 0, 4), "")), NI, NI,
      { { "field", "bb", NI, "dev" } }, { { "field", "b", NI, "dev" } } },
    { "field replaced by unused at the same size (QEMU's pl011 readbuff, late 2024)",
      BASE, DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," F("unused", 0, 4), "")), PY, PY,
      { { "field", "unused", PY, "dev" } }, { { "field", "b", PY, "dev" } } },
    { "a run of unused split in two",
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," F("unused", 0, 8) "," F("b", 0, 4), "")),
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," F("unused", 0, 4) "," F("unused", 0, 4) ","
               F("b", 0, 4), "")), Y, Y, { { 0 } }, { { 0 } } },
    { "a run of unused grows",
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," F("unused", 0, 4) "," F("b", 0, 4), "")),
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," F("unused", 0, 4) "," F("unused", 0, 4) ","
               F("b", 0, 4), "")), N, N,
      { { "size", "unused", N, "dev" } }, { { "size", "unused", N, "dev" } } },
    { "array length change",
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 4, false, ",\"num\":4"), "")),
      DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 4, false, ",\"num\":8"), "")), N, N,
      { { "num", "b", N, "dev" } }, { { "num", "b", N, "dev" } } },
    { "array length in one dump only",
      BASE, DUMP(SEC("dev", 1, 1, F("a", 0, 4) "," FE("b", 0, 4, false, ",\"num\":4"), "")),
      PY, PY, { { "num", "b", PY, "dev" } }, { { "num", "b", PY, "dev" } } },
    { "top-level description renamed",
      BASE, "{\"vmschkmachine\":{\"Name\":\"m-1.0\"},\"dev\":{\"Name\":\"dev\",\"version_id\":1,"
            "\"minimum_version_id\":1,\"Description\":" DESC("dev2", 1, 1, AB, "") "}}", N, N,
      { { "description", "", N, "dev" } }, { { "description", "", N, "dev" } } },
    { "section removed, another added",
      BASE, DUMP(SEC("other", 1, 1, AB, "")), PN, PN,
      { { "section", "", PN, "dev" }, { "section", "", Y, "other" } },
      { { "section", "", PN, "other" }, { "section", "", Y, "dev" } } },
    { "different machine types",
      BASE, DUMP_M("m-2.0", SEC("dev", 1, 1, AB, "")), PN, PN,
      { { "machine", "", PN, "" } }, { { "machine", "", PN, "" } } },
    { "unversioned machine type",
      DUMP_M("m", SEC("dev", 1, 1, AB, "")), DUMP_M("m", SEC("dev", 1, 1, AB, "")), PY, PY,
      { { "machine", "", PY, "" } }, { { "machine", "", PY, "" } } },
};

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("test dump does not parse: %s at column %d", e.text, e.column);
    char err[256];
    if (!compat_validate(j, err, sizeof err))
        fail_msg("test dump has a bad shape: %s", err);
    return j;
}

static void print_facts(const CompatReport *r)
{
    for (size_t i = 0; i < r->n; i++)
        print_message("  got %s %s '%s' [%s]: %s\n", compat_grade_name(r->facts[i].grade),
                      r->facts[i].section, r->facts[i].path, r->facts[i].kind,
                      r->facts[i].reason);
}

/* r must hold exactly the facts in want (in any order) and the verdict. */
static void expect(const char *what, const char *dir, const CompatReport *r, const Want *want,
                   CompatGrade verdict)
{
    bool used[64] = { false };
    size_t n = 0;
    for (; n < MAX_WANT && want[n].kind; n++) {
        const char *sec = want[n].section;
        size_t k = 0;
        while (k < r->n && (used[k] || strcmp(r->facts[k].kind, want[n].kind) ||
                            strcmp(r->facts[k].path, want[n].path) ||
                            strcmp(r->facts[k].section, sec)))
            k++;
        if (k == r->n || r->facts[k].grade != want[n].grade) {
            print_facts(r);
            fail_msg("%s, %s: want %s %s '%s' [%s], %s", what, dir,
                     compat_grade_name(want[n].grade), sec, want[n].path, want[n].kind,
                     k == r->n ? "not found" : "graded otherwise");
        }
        used[k] = true;
    }
    if (r->n != n) {
        print_facts(r);
        fail_msg("%s, %s: %zu facts, want %zu", what, dir, r->n, n);
    }
    if (r->verdict != verdict)
        fail_msg("%s, %s: verdict %s, want %s", what, dir, compat_grade_name(r->verdict),
                 compat_grade_name(verdict));
}

static void test_grades(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Case *c = &cases[i];
        json_t *old = parse(c->old), *new_ = parse(c->new_);
        CompatReport fwd = { 0 }, bwd = { 0 };
        compat_check(old, new_, &fwd);
        compat_check(new_, old, &bwd);
        expect(c->what, "forward", &fwd, c->f, c->fwd);
        expect(c->what, "backward", &bwd, c->b, c->bwd);
        compat_report_free(&fwd);
        compat_report_free(&bwd);
        json_decref(old);
        json_decref(new_);
    }
}

/* The exit status per verdict is part of the command's interface. */
static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(compat_grade_exit(COMPAT_YES), 0);
    assert_int_equal(compat_grade_exit(COMPAT_PROBABLY_YES), 0);
    assert_int_equal(compat_grade_exit(COMPAT_PROBABLY_NO), 3);
    assert_int_equal(compat_grade_exit(COMPAT_NO), 4);
    assert_int_equal(compat_grade_exit(COMPAT_NO_IDEA), 5);
}

/* ------------------------------------------------------------ shapes */

typedef struct Bad {
    const char *text;
    const char *err;    /* the whole expected message */
} Bad;

static const Bad bads[] = {
    { "[1, 2]", "at $: the dump is not a JSON object" },
    { "{\"dev\": 3}", "at $.dev: a section is not an object" },
    { "{\"vmschkmachine\": {\"Name\": 7}}", "at $.vmschkmachine: 'Name' is not a string" },
    { "{\"dev\": {\"version_id\": 1, \"minimum_version_id\": 1}}",
      "at $.dev: 'Description' is missing" },
    { DUMP(SEC("dev", 1, 1, F("a", 0, 4) ",{\"field\":\"b\",\"version_id\":0,"
                                          "\"field_exists\":false}", "")),
      "at $.dev.Description.Fields[1]: 'size' is missing" },
    { DUMP(SEC("dev", 1, 1, F("a", -1, 4), "")),
      "at $.dev.Description.Fields[0]: 'version_id' is negative" },
    { DUMP(SEC("dev", 1, 1, F("a", 0, "4"), "")),
      "at $.dev.Description.Fields[0]: 'size' is not an integer" },
    { DUMP(SEC("dev", 1, 1, AB, ",\"Subsections\":{}")),
      "at $.dev.Description: 'Subsections' is not an array" },
    { DUMP(SEC("dev", 1, 1, AB, ",\"Subsections\":[{\"name\":\"dev/x\",\"version_id\":1}]")),
      "at $.dev.Description.Subsections[0]: 'minimum_version_id' is missing" },
    { DUMP(SEC("dev", 1, 1, FE("b", 0, 8, false, ",\"Description\":[]"), "")),
      "at $.dev.Description.Fields[0]: 'Description' is not an object" },
};

static void test_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        json_t *j = json_loads(bads[i].text, 0, NULL);
        assert_non_null(j);
        char err[256] = "";
        assert_false(compat_validate(j, err, sizeof err));
        assert_string_equal(err, bads[i].err);
        json_decref(j);
    }
}

/* Descriptions nested without end are refused by depth, not followed. */
static void test_deep_nesting(void **state)
{
    (void)state;
    json_t *d = json_pack("{s:s, s:i, s:i}", "name", "x", "version_id", 0, "minimum_version_id", 0);
    for (int i = 0; i < 100; i++) {
        json_t *f = json_pack("{s:s, s:i, s:b, s:i, s:o}", "field", "f", "version_id", 0,
                              "field_exists", 0, "size", 8, "Description", d);
        d = json_pack("{s:s, s:i, s:i, s:[o]}", "name", "x", "version_id", 0,
                      "minimum_version_id", 0, "Fields", f);
    }
    json_t *dump = json_pack("{s:{s:i, s:i, s:o}}", "dev", "version_id", 0,
                             "minimum_version_id", 0, "Description", d);
    char err[1200] = "";
    assert_false(compat_validate(dump, err, sizeof err));
    assert_non_null(strstr(err, "descriptions nested deeper than 64"));
    json_decref(dump);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grades),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_deep_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
