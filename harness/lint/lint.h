/*
 * lint.h - descriptions checked against the structs they describe, and
 * declared ranges checked against what loads accept (prefix lint_).
 *
 * The round-trip oracles judge only the states a workload reaches: a field
 * saved narrower than its member, or an array described one element short,
 * goes unnoticed while the guest never sets the high bits or the last
 * element. Lint compares every member of a part's member table with the
 * fields that carry it, whatever the values:
 *
 *   uncovered       a compared member no field carries, not declared
 *                   host-only, volatile or derived (with a reason)
 *   narrow / wide   a field element narrower or wider than the member's
 *   short-array / long-array   fewer or more elements than the member has
 *   signedness      a signed codec on an unsigned member, or the reverse
 *   equal-on-state  an *_EQUAL codec on a member the guest can change
 *                   (EQUAL belongs on configuration, declared host-only)
 *   derived-source  a derived member naming a source the table lacks
 *   index-no-range  an index or count member (by name, or the count of a
 *                   variable array) without a declared range
 *   range-not-enforced   a load accepted a value outside a declared range
 *
 * The last one is a probe, not a reading of tables: the part's state is
 * loaded from a real stream, one ranged element is set just outside its
 * range, saved and loaded again; the load must refuse it. The stress loop
 * runs the same probe, and it and every fuzz target check after each
 * accepted load that every ranged member is in range.
 */
#ifndef VMSTRESS_LINT_H
#define VMSTRESS_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "machine.h"

typedef struct LintFinding {
    char part[48];          /* the compared part: "pl011.0", "cpu", "arm_timer.1" */
    char member[64];        /* the member concerned */
    char field[64];         /* the field concerned, "" if none */
    const char *rule;       /* one of the rule names above */
    char detail[200];
    char value[32];         /* range-not-enforced: the value accepted, else "" */
} LintFinding;

typedef void LintSink(void *opaque, const LintFinding *f);

/* One line: "lint: <part> member <m> [field <f>]: <rule>: <detail>". */
int lint_format(const LintFinding *f, char *buf, size_t n);

/* The table checks for one part (no probing). Returns the number of findings. */
size_t lint_part(const MachShadow *sh, LintSink *sink, void *opaque);

/* Every distinct description and member table of m once (parts sharing
 * both, like the four arm_timer sections, are checked at the first). */
size_t lint_machine(Machine *m, LintSink *sink, void *opaque);

/*
 * The range probe: for every ranged element of every part of m, load
 * `stream` into m, set the element to lo-1 and to hi+1 (where the type can
 * hold them), save and load again: the save or the load must fail, or the
 * loaded value be back in range. m is left at power-on. Returns the number
 * of findings; a stream that does not load is one finding (rule "probe").
 */
size_t lint_probe_ranges(Machine *m, const void *stream, size_t len, LintSink *sink, void *opaque);

/* The same probe from m's own current state (saved first; a save that
 * fails is one finding, rule "probe"). */
size_t lint_probe_machine(Machine *m, LintSink *sink, void *opaque);

/* After an accepted load: false with f filled (rule range-not-enforced) if
 * a ranged member of m holds a value outside its range. */
bool lint_loaded_in_range(Machine *m, LintFinding *f);

/* The same check for a caller that checks after every load (the stress
 * loop): the ranged members of a machine's parts, found once from the
 * parts' pointers (mach_shadow, looked up once), so that each check reads
 * only those members and hands out no pointer again. */
typedef struct LintRanged {
    const MachShadow *part;
    const DevMember *member;
} LintRanged;
typedef struct LintRanges {
    LintRanged *at;
    size_t n;
} LintRanges;
/* parts: n_parts pointers, mach_shadow(m, i) in order; they must outlive r. */
void lint_ranges_init(LintRanges *r, const MachShadow *const *parts, size_t n_parts);
bool lint_ranges_hold(const LintRanges *r, LintFinding *f);
void lint_ranges_free(LintRanges *r);

#endif
