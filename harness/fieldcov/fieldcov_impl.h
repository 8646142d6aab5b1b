/*
 * fieldcov_impl.h - internals shared by fieldcov.c (counting, data files)
 * and fieldcov_report.c (reports). Not a public contract.
 */
#ifndef VMSTRESS_FIELDCOV_IMPL_H
#define VMSTRESS_FIELDCOV_IMPL_H

#include "fieldcov.h"
#include "savevm.h"

#define FCOV_NCLASS (VMS_ERR_CONFIG + 1)    /* every VmsErrClass */

typedef struct FcovPtr {
    const void *key;        /* a VmsDesc * or VmsField * */
    uint32_t di, fi;        /* fi == UINT32_MAX for a description */
} FcovPtr;

typedef struct FcovRef {
    uint32_t di, fi, inst;
} FcovRef;

typedef struct FcovAttPart {
    uint32_t inst;
    const uint8_t *base;
    size_t size;
    uint8_t *snap;          /* the part's bytes at power-on */
} FcovAttPart;

typedef struct FcovRec {     /* reset value of an element outside every part */
    const VmsField *f;
    uint32_t index;
    size_t size;
    uint8_t *bytes;
} FcovRec;

struct FcovAttach {
    Fcov *fc;
    FcovSource src;
    unsigned what;
    VmsRegistry *reg;       /* machine attachments: finds the section of a load error */
    FcovAttPart *parts;
    size_t n_parts;
    bool recording;         /* the power-on save: record, count nothing */
    FcovRec *rec;
    size_t n_rec, cap_rec;
    FcovRef *pending;       /* element loads of the load in progress */
    size_t n_pending, cap_pending;
    uint32_t load_inst;     /* instance of the last element loaded */
    FcovAttach *next;
};

struct Fcov {
    FcovDesc *descs;
    size_t n_descs, cap_descs;
    char **inst_names;
    size_t n_inst, cap_inst;
    FcovPtr *map;
    size_t map_cap, map_n;
    uint64_t loads[FCOV_NSRC], loads_ok[FCOV_NSRC];
    uint64_t fail_class[FCOV_NCLASS];   /* failed loads by VmsErrClass */
    FcovAttach *atts;
};

void fcov_errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint32_t fcov_intern(Fcov *fc, const char *name);
uint32_t fcov_desc_get(Fcov *fc, const char *name);
uint32_t fcov_field_get(Fcov *fc, uint32_t di, const char *name, const char *kind, FcovRole role);
FcovStats *fcov_stats(Fcov *fc, uint32_t di, uint32_t fi, uint32_t inst);
uint64_t fcov_value_key(const void *pv, size_t size);
void fcov_add_distinct(FcovStats *s, uint64_t key);
void fcov_stats_merge(FcovStats *d, const FcovStats *s);
void fcov_add_version(int *v, int *n, int version);

extern const char *const fcov_src_names[FCOV_NSRC];
extern const char *const fcov_rej_names[FCOV_NREJ];
extern const char *const fcov_role_names[4];

#endif
