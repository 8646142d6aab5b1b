/*
 * fieldcov.h - coverage by state field (prefix fcov_).
 *
 * Code coverage says which lines ran; it cannot say whether a migration test
 * ever put a non-trivial value into, say, the PL011's receive FIFO index.
 * Field coverage counts, for every field of every description:
 *
 *   saved      element saves observed (an array field counts each element);
 *   nonreset   of those, saves whose bytes differ from the reset value (what a
 *              power-on machine saves at the same place): the headline number;
 *   distinct   how many distinct values the saves took, exact up to
 *              FCOV_DISTINCT_MAX, then "FCOV_DISTINCT_MAX+";
 *   loaded     element loads, per source (stress round trips, fuzz/replays),
 *   accepted   of those, the ones in loads that were accepted as a whole;
 *   rejected   failed loads blamed on this field, by class (VALIDATE, RANGE,
 *              EQUAL, HOOK), from the VmsError's section and field path;
 *   bits       per element (up to FCOV_BIT_ELEMS; later elements share the
 *              last slot), the bits seen as 0 and seen as 1 at saves, for
 *              elements of up to 8 bytes (a bool has one bit); buffers
 *              (SRAM, FIFOs saved as bytes) are judged by value only;
 * and per description: versions saved and loaded, and for a subsection how
 * often it was needed (sent) and not needed (left out) on save, and seen on
 * load. Counts are kept per instance (the machine part the element lives in,
 * e.g. "pl061.1"), so two GPIOs are told apart; reports add instances up.
 *
 * The data is plain and mergeable: every run merges into one JSON file
 * (fcov_merge_into_file, locked), and the reports (summary table, HTML,
 * lcov tracefile with one "line" per field, ratchet) are rendered from it.
 *
 * Attaching: fcov_attach_machine() sets the observer of a machine's registry;
 * the machine must be at power-on then, because that is when the reset
 * values are captured (a snapshot of every part, after one save so pre_save
 * effects are included).
 */
#ifndef VMSTRESS_FIELDCOV_H
#define VMSTRESS_FIELDCOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmstate.h"

typedef struct Machine Machine;

#define FCOV_DISTINCT_MAX 64
#define FCOV_MAX_VERSIONS 8
#define FCOV_BIT_ELEMS 32   /* array elements with bits of their own */

typedef enum FcovSource {
    FCOV_SRC_STRESS = 0,    /* round-trip loads of the machine's own streams */
    FCOV_SRC_FUZZ,          /* fuzzed or replayed (corpus) streams */
    FCOV_NSRC
} FcovSource;

/* Load-failure classes counted per field (the others are counted per run). */
typedef enum FcovReject {
    FCOV_REJ_VALIDATE = 0,
    FCOV_REJ_RANGE,
    FCOV_REJ_EQUAL,
    FCOV_REJ_HOOK,
    FCOV_NREJ
} FcovReject;

/* What a description entry is: only STATE entries count towards coverage. */
typedef enum FcovRole {
    FCOV_ROLE_STATE = 0,    /* carries guest state */
    FCOV_ROLE_STRUCT,       /* a nested description; its own fields are counted there */
    FCOV_ROLE_VALIDATE,     /* a VALIDATE predicate: no bytes, only rejections */
    FCOV_ROLE_UNUSED,       /* VMS_UNUSED padding: always zero */
} FcovRole;

typedef struct FcovStats {
    uint64_t saved, nonreset;
    uint64_t loaded[FCOV_NSRC], accepted[FCOV_NSRC];
    uint64_t rejected[FCOV_NREJ];
    uint32_t n_distinct;
    bool distinct_more;             /* more distinct values than FCOV_DISTINCT_MAX were seen */
    uint64_t distinct[FCOV_DISTINCT_MAX]; /* the value (elements up to 8 bytes) or a hash */
    /* Bits seen at saves: bit_width bits (0: a buffer, or never saved) of
     * bit_elems element slots. */
    uint32_t bit_width, bit_elems;
    uint64_t seen0[FCOV_BIT_ELEMS], seen1[FCOV_BIT_ELEMS];
} FcovStats;

typedef struct FcovInst {
    uint32_t inst;                  /* index into Fcov.inst_names */
    FcovStats st;
} FcovInst;

typedef struct FcovField {
    char *name;                     /* unique in its description: "name", "name#2" for repeats */
    char *kind;                     /* "uint32[16]", "buffer(64)", "struct ptimer", "validate" */
    FcovRole role;
    FcovInst *inst;
    size_t n_inst;
} FcovField;

typedef struct FcovDesc {
    char *name;
    int version_id, minimum_version_id;
    bool subsection;
    uint64_t needed, not_needed, sub_loaded;    /* subsections only */
    uint64_t rejected[FCOV_NREJ];               /* failures not tied to a field (post_load) */
    int versions_saved[FCOV_MAX_VERSIONS], n_saved_versions;
    int versions_loaded[FCOV_MAX_VERSIONS], n_loaded_versions;
    FcovField *fields;
    size_t n_fields;
} FcovDesc;

typedef struct Fcov Fcov;
typedef struct FcovAttach FcovAttach;

Fcov *fcov_new(void);
void fcov_free(Fcov *fc);

/* Add a description (and its nested ones and subsections) to the field
 * universe, so reports list its fields even if nothing touched them. */
void fcov_add_desc(Fcov *fc, const VmsDesc *d);
/* Every description registered by a machine, plus every device type's. */
void fcov_add_machine(Fcov *fc, Machine *m);
/* The universe of this build: every board's machine and every device type. */
bool fcov_add_shipped(Fcov *fc, char *err, size_t errlen);

size_t fcov_n_descs(const Fcov *fc);
const FcovDesc *fcov_desc(const Fcov *fc, size_t i);
const FcovDesc *fcov_find_desc(const Fcov *fc, const char *name);
const FcovField *fcov_find_field(const FcovDesc *d, const char *name);
const char *fcov_inst_name(const Fcov *fc, uint32_t inst);
/* Sum of a field's instances (distinct values are a union). */
void fcov_field_total(const FcovField *f, FcovStats *out);
/* The statistics of one instance ("pl031.0") of a field, or NULL. */
const FcovStats *fcov_field_inst(const Fcov *fc, const FcovField *f, const char *inst);
/* All bit_width bits set (0 for 0). */
uint64_t fcov_width_mask(uint32_t width);
/* Whole-load counters: loads seen and accepted, per source. */
void fcov_load_counts(const Fcov *fc, uint64_t loads[FCOV_NSRC], uint64_t accepted[FCOV_NSRC]);

/* ------------------------------------------------------- observing */

/* A region of memory whose elements are one instance (a machine part). */
typedef struct FcovPart {
    const char *name;
    const void *base;
    size_t size;
} FcovPart;

/* FCOV_MANUAL_END: ignore the engine's end-of-load event; the caller closes
 * each load with fcov_load_end() once it knows the outcome (mach_load runs
 * whole-machine checks after the engine has accepted the stream). */
enum { FCOV_SAVES = 1u << 0, FCOV_LOADS = 1u << 1, FCOV_MANUAL_END = 1u << 2 };

/* Observe walks over objects inside `parts` (snapshotted now: their current
 * bytes are the reset values). what: FCOV_SAVES and/or FCOV_LOADS. The
 * attachment is owned by fc. Pass fcov_observe / fcov_observe_event with the
 * attachment as obs_opaque to VmsCtx or VmsRegistry. */
FcovAttach *fcov_attach(Fcov *fc, const FcovPart *parts, size_t n, FcovSource src, unsigned what);
/* Attach to a machine at power-on: parts are its shadows, observers are set
 * on its registry. */
FcovAttach *fcov_attach_machine(Fcov *fc, Machine *m, FcovSource src, unsigned what);

void fcov_observe(void *att, const VmsDesc *d, const VmsField *f, uint32_t index, const void *pv,
                  size_t size, bool loading);
void fcov_observe_event(void *att, VmsObsEvent ev, const VmsDesc *d, int version, const VmsError *err);
/* Close a load by hand (a walk with vms_load_state, which sends no LOAD_END):
 * err NULL: accepted; else the failure is blamed on a field found from
 * err->field under `root` (the description the load started at). */
void fcov_load_end(FcovAttach *a, const VmsDesc *root, const VmsError *err);

/* -------------------------------------------------- data files */

/* Merge src into dst (counts add, distinct sets unite). */
void fcov_merge(Fcov *dst, const Fcov *src);
/* jansson json_t * of the data (with a computed "summary"); caller decrefs. */
void *fcov_to_json(const Fcov *fc);
/* Merge a data object / file into fc. False with a one-line err on bad input. */
bool fcov_merge_json(Fcov *fc, const void *json, char *err, size_t errlen);
bool fcov_read_file(Fcov *fc, const char *path, char *err, size_t errlen);
bool fcov_write_file(const Fcov *fc, const char *path, char *err, size_t errlen);
/* Merge fc into the file at path (created if absent) under an exclusive
 * lock, so parallel runs can share one data file. */
bool fcov_merge_into_file(const Fcov *fc, const char *path, char *err, size_t errlen);

/* -------------------------------------------------- reports */

/* "desc/field" is covered: some instance saved a non-reset value. */
bool fcov_field_covered(const FcovField *f);
/* Counted (STATE) fields and covered ones, over one description or all (d NULL). */
void fcov_count(const Fcov *fc, const FcovDesc *d, size_t *fields, size_t *covered);

/* Bit coverage over every STATE field with bit data: bits (element slots
 * times width), bits seen both as 0 and as 1, and bits unseen as 0 or as 1
 * that no reason explains. Reasons: a "desc/field" reason explains all of a
 * field's bits; "desc/field:0xMASK" the bits of MASK in every element, and
 * "desc/field[i]:0xMASK" those of element i. */
typedef struct FcovBits {
    uint64_t bits, both, unseen, unexplained;
} FcovBits;
/* (bits - unseen + unexplained: the bits no reason declares unseeable.) */
void fcov_bit_counts(const Fcov *fc, const void *reasons, FcovBits *out);

/* reasons: a json_t * object {"desc/field": "why it is never covered",
 * "desc/field:0xMASK": "why these bits are never seen as 0 or as 1"} or NULL.
 * The summary ends with bit coverage: one line per field element with
 * unexplained unseen bits. */
void fcov_print_summary(const Fcov *fc, FILE *out, const void *reasons);
bool fcov_write_html(const Fcov *fc, const char *path, const void *reasons, char *err, size_t errlen);
/* One SF per description (a pseudo source under src_dir listing its
 * fields, one per line, written too), DA:<line>,<nonreset saves> per STATE field. */
bool fcov_write_lcov(const Fcov *fc, const char *info_path, const char *src_dir, char *err,
                     size_t errlen);
/* Baseline: {"covered": ["desc/field", ...]} of the fields covered now with
 * at least min_nonreset non-reset saves (rarely covered fields would make
 * the ratchet flaky; 1 takes every covered field). */
bool fcov_write_baseline(const Fcov *fc, const char *path, uint64_t min_nonreset, char *err,
                         size_t errlen);
/* Print one line per field covered in the baseline but not in fc. Returns
 * the number of lost fields, or -1 (err set) on a bad baseline. */
long fcov_ratchet(const Fcov *fc, const char *baseline_path, FILE *out, char *err, size_t errlen);

#endif
