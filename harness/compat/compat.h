/*
 * compat.h - static migration-compatibility checker over -dump-vmstate JSON.
 *
 * Compares two description dumps (vmstress's `dump-vmstate`, or QEMU's
 * `-dump-vmstate` for any architecture) for one direction of migration:
 * a stream saved by SRC loaded by DST. Each difference becomes a fact with
 * a grade and a reason; the direction's verdict is its worst grade. The
 * rules and the comparison with QEMU's vmstate-static-checker.py are in
 * docs/compat.md. Only differences are facts: two identical dumps give no
 * fact and the verdict "yes".
 */
#ifndef VMSTRESS_COMPAT_H
#define VMSTRESS_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* In order of severity: a direction's verdict is the most severe grade of
 * its facts. no-idea ranks above probably-yes (nothing vouches for it) and
 * below probably-no (nothing speaks against it). */
typedef enum CompatGrade {
    COMPAT_YES = 0,
    COMPAT_PROBABLY_YES,
    COMPAT_NO_IDEA,
    COMPAT_PROBABLY_NO,
    COMPAT_NO,
    COMPAT_N_GRADES
} CompatGrade;

/* "yes", "probably-yes", "no-idea", "probably-no", "no". */
const char *compat_grade_name(CompatGrade g);
/* The exit status that stands for a verdict: 0 yes and probably-yes,
 * 3 probably-no, 4 no, 5 no-idea (2 stays for usage and input errors). */
int compat_grade_exit(CompatGrade g);

typedef struct CompatFact {
    CompatGrade grade;
    const char *kind;   /* static: "machine", "section", "version", "minimum_version",
                           "description", "field", "size", "field_exists", "num",
                           "info", "flags", "subsection" */
    char *section;      /* top-level key (device type), "" for the machine */
    char *path;         /* field path inside it, e.g. "timer.limit",
                           "pl031/tick-offset.tick_offset"; "" for the section itself */
    char *reason;       /* one sentence: why this grade */
} CompatFact;

typedef struct CompatReport {
    CompatFact *facts;
    size_t n, cap;
    CompatGrade verdict;
    size_t sections;    /* sections present on both sides and compared */
} CompatReport;

/* More fields than any real description has (QEMU's longest list is a few
 * hundred); compat_validate refuses a longer list. */
#define COMPAT_MAX_FIELDS 4096

/* Check that a parsed dump has the -dump-vmstate shape. On failure, writes
 * "at <JSON path>: <what is wrong>" (e.g. "at $.pl011.Description.Fields[3]:
 * 'size' is not an integer") to err and returns false. compat_check assumes
 * both dumps passed this. */
bool compat_validate(const json_t *dump, char *err, size_t errn);

/* The machine type a dump was written for ($.vmschkmachine.Name), or NULL. */
const char *compat_machine(const json_t *dump);

/* One direction: a stream saved under SRC's descriptions, loaded by DST's.
 * Appends facts to r (zero-initialise it first) and sets r->verdict. */
void compat_check(const json_t *src, const json_t *dst, CompatReport *r);
void compat_report_free(CompatReport *r);

/* The report as a JSON object {"verdict", "exit", "sections", "facts": [...]}. */
json_t *compat_report_json(const CompatReport *r);

#endif
