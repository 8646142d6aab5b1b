/*
 * program.h - the byte format of fuzz_roundtrip's input: a program of
 * guest-side operations (prefix fz_prog).
 *
 * Each operation is one opcode byte followed by its operands (big-endian;
 * bytes missing at the end of the input read as zero):
 *
 *   op % 8 = 0, 1  WRITE  dev:u8 off:u16 value:u32   MMIO write
 *   op % 8 = 2     READ   dev:u8 off:u16              MMIO read (twins must agree)
 *   op % 8 = 3     INPUT  dev:u8 ch:u8 value:u32      host input (UART byte, GPIO pins)
 *   op % 8 = 4     IDLE   n:u16                        advance time n*16 cycles, core stopped
 *   op % 8 = 5     RUN    n:u16                        run the guest n*4 cycles
 *   op % 8 = 6     CHECKPOINT                          save/reset/load B, run every oracle
 *   op % 8 = 7     RUN    (op>>3)+1 times 64 cycles    a short burst, no operands
 *
 * For WRITE and READ, (op >> 3) & 3 picks the access size (1: byte, 2:
 * halfword, else word); dev picks a device of the board (dev % count) and
 * the address is its base + (off & 0xfff) aligned to the size, except that
 * dev 0xff addresses the whole peripheral window (base + off). For INPUT
 * dev counts only devices that take input.
 *
 * A program stops after FZ_PROG_MAX_OPS operations or FZ_PROG_MAX_CYCLES
 * cycles of RUN and IDLE, so every input runs in bounded time.
 */
#ifndef VMSTRESS_FUZZ_PROGRAM_H
#define VMSTRESS_FUZZ_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

#define FZ_PROG_MAX_OPS 512
#define FZ_PROG_MAX_CYCLES 2000000u

typedef enum FzOpKind {
    FZ_OP_WRITE, FZ_OP_READ, FZ_OP_INPUT, FZ_OP_IDLE, FZ_OP_RUN, FZ_OP_CHECKPOINT,
} FzOpKind;

typedef struct FzOp {
    FzOpKind kind;
    uint32_t addr;          /* WRITE, READ */
    unsigned size;          /* WRITE, READ: 1, 2 or 4 */
    uint32_t value;         /* WRITE, INPUT */
    unsigned dev, ch;       /* INPUT: board device index and channel */
    uint64_t cycles;        /* IDLE, RUN */
} FzOp;

typedef struct FzProg {
    const uint8_t *p;
    size_t n, pos;
    const Board *board;
    size_t n_devs;
    unsigned n_input_devs;
    unsigned input_dev[32]; /* board indices of devices with input */
    unsigned input_ch[32];  /* their channel counts */
    unsigned ops;
    uint64_t cycles;
} FzProg;

void fz_prog_init(FzProg *g, const uint8_t *p, size_t n, const Board *board);
/* The next operation; 0 at the end of the program. */
int fz_prog_next(FzProg *g, FzOp *op);

/* Append a random, mostly meaningful program of `n_ops` operations to out
 * (for seed corpora): register offsets, small time steps, checkpoints. */
void fz_prog_random(uint64_t *rng, const Board *board, unsigned n_ops, VmsOut *out);

#endif
