/*
 * fixture.h - a compound test machine for the engine tests, the sample
 * writer and the stream benchmark: two descriptions that between them use
 * every field kind, hook and subsection shape the engine supports.
 */
#ifndef VMSTRESS_TEST_FIXTURE_H
#define VMSTRESS_TEST_FIXTURE_H

#include "devclock.h"
#include "savevm.h"
#include "vclock.h"

typedef struct TChan {
    uint32_t src;
    uint32_t dst;
    uint16_t ctl;
} TChan;

typedef struct TDev {
    bool flag;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    uint8_t eq8;
    uint16_t eq16;
    uint32_t eq32;
    int32_t eqi32;
    uint64_t eq64;
    int32_t le;
    bool bools[2];
    int8_t i8s[2];
    int16_t i16s[2];
    int32_t i32s[2];
    int64_t i64s[2];
    uint8_t u8s[3];
    uint16_t u16s[3];
    uint32_t u32s[3];
    uint64_t u64s[2];
    uint8_t n8;
    uint16_t n16;
    uint32_t n32;
    int32_t ni32;
    uint32_t va8[4];
    uint16_t va16[4];
    uint8_t va32[4];
    int64_t vai32[4];
    TChan chan[4];
    uint32_t nchan;
    TChan vchan[4];
    TChan *cp;
    TChan *cnull;
    TChan *cptrs[3];
    TChan pool[3];
    uint8_t buf[6];
    uint8_t *bufp;
    uint8_t bufp_store[5];
    uint32_t vlen;
    uint8_t vbuf[16];
    uint32_t alen;
    uint8_t *abuf;
    uint32_t late;          /* version 2 */
    uint32_t tested;        /* present when has_tested */
    bool has_tested;
    uint32_t extra;         /* subsection tdev/extra when extra_on */
    bool extra_on;
    uint16_t deep;          /* subsection tdev/extra/deep when deep != 0 */
} TDev;

typedef struct TClk {
    VTimer t;
    VTimer *tp;
    VTimer tp_obj;
    DevClock *clk;
    DevClock clk_obj;
    uint32_t ctrl;
} TClk;

extern const VmsDesc tchan_desc;
extern const VmsDesc tdev_desc;
extern const VmsDesc tclk_desc;

/* Destination state: configuration only (EQUAL values, pointers, le bound). */
void tdev_init(TDev *d);
/* Source state: configuration plus seed-dependent values in every field. */
void tdev_fill(TDev *d, uint32_t seed);
void tdev_fini(TDev *d);
void tclk_init(TClk *c, VClock *vc);
void tclk_fill(TClk *c, uint32_t seed);

typedef struct TMachine {
    VClock vc;
    TDev dev[2];
    TClk clk;
    VmsRegistry reg;
} TMachine;

/* Registry with tdev/0, tdev/1, tclk/0; filled (source) or configured only (destination). */
void tmachine_init(TMachine *m, bool fill, uint32_t seed);
void tmachine_fini(TMachine *m);
/* Field-by-field comparison; returns a description of the first difference or NULL. */
const char *tmachine_diff(const TMachine *a, const TMachine *b);

#endif
