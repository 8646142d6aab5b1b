/* program.c - decode and generate fuzz_roundtrip programs; see program.h. */
#include "program.h"

#include "fuzz.h"

static unsigned count_inputs(const DevType *t)
{
    unsigned n = 0;
    while (t->inputs && t->inputs[n])
        n++;
    return n ? n : 1;
}

void fz_prog_init(FzProg *g, const uint8_t *p, size_t n, const Board *board)
{
    *g = (FzProg){ .p = p, .n = n, .board = board };
    while (board->devices[g->n_devs].type)
        g->n_devs++;
    for (size_t i = 0; i < g->n_devs && g->n_input_devs < 32; i++) {
        const DevType *t = dev_type_find(board->devices[i].type);
        if (t && t->input) {
            g->input_dev[g->n_input_devs] = (unsigned)i;
            g->input_ch[g->n_input_devs++] = count_inputs(t);
        }
    }
}

static uint32_t take(FzProg *g, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v = v << 8 | (g->pos < g->n ? g->p[g->pos++] : 0);
    return v;
}

static unsigned size_of(uint8_t op)
{
    unsigned s = (op >> 3) & 3;
    return s == 1 ? 1 : s == 2 ? 2 : 4;
}

static uint32_t mmio_addr(FzProg *g, uint8_t dev, uint16_t off, unsigned size)
{
    if (dev == 0xff || !g->n_devs)
        return (MACH_PERIPH_BASE + off) & ~(uint32_t)(size - 1);
    uint32_t base = g->board->devices[dev % g->n_devs].base;
    return base + ((off & 0xfffu) & ~(uint32_t)(size - 1));
}

int fz_prog_next(FzProg *g, FzOp *op)
{
    if (g->pos >= g->n || g->ops >= FZ_PROG_MAX_OPS || g->cycles >= FZ_PROG_MAX_CYCLES)
        return 0;
    g->ops++;
    uint8_t b = (uint8_t)take(g, 1);
    *op = (FzOp){ 0 };
    switch (b % 8) {
    case 0:
    case 1:
        op->kind = FZ_OP_WRITE;
        op->size = size_of(b);
        {
            uint8_t dev = (uint8_t)take(g, 1);
            uint16_t off = (uint16_t)take(g, 2);
            op->addr = mmio_addr(g, dev, off, op->size);
        }
        op->value = take(g, 4);
        break;
    case 2:
        op->kind = FZ_OP_READ;
        op->size = size_of(b);
        {
            uint8_t dev = (uint8_t)take(g, 1);
            uint16_t off = (uint16_t)take(g, 2);
            op->addr = mmio_addr(g, dev, off, op->size);
        }
        break;
    case 3: {
        op->kind = FZ_OP_INPUT;
        uint8_t dev = (uint8_t)take(g, 1), ch = (uint8_t)take(g, 1);
        op->value = take(g, 4);
        if (!g->n_input_devs) /* nothing takes input: a no-op run */
            return op->kind = FZ_OP_RUN, op->cycles = 0, 1;
        unsigned k = dev % g->n_input_devs;
        op->dev = g->input_dev[k];
        op->ch = ch % g->input_ch[k];
        break;
    }
    case 4:
        op->kind = FZ_OP_IDLE;
        op->cycles = (uint64_t)take(g, 2) * 16;
        break;
    case 5:
        op->kind = FZ_OP_RUN;
        op->cycles = (uint64_t)take(g, 2) * 4;
        break;
    case 6:
        op->kind = FZ_OP_CHECKPOINT;
        break;
    default:
        op->kind = FZ_OP_RUN;
        op->cycles = (uint64_t)((b >> 3) + 1) * 64;
        break;
    }
    if (g->cycles + op->cycles > FZ_PROG_MAX_CYCLES)
        op->cycles = FZ_PROG_MAX_CYCLES - g->cycles;
    g->cycles += op->cycles;
    return 1;
}

static void put(VmsOut *o, uint32_t v, unsigned bytes)
{
    while (bytes--)
        vms_out_u8(o, (uint8_t)(v >> (8 * bytes)));
}

void fz_prog_random(uint64_t *rng, const Board *board, unsigned n_ops, VmsOut *out)
{
    size_t n_devs = 0;
    while (board->devices[n_devs].type)
        n_devs++;
    for (unsigned i = 0; i < n_ops; i++) {
        uint64_t r = fz_rng(rng);
        uint8_t dev = (uint8_t)(n_devs ? (r >> 8) % n_devs : 0);
        uint16_t reg = (uint16_t)(((r >> 16) % 20) * 4); /* the registers live low */
        if ((r >> 40) % 16 == 0)
            reg = (uint16_t)(0xfe0 + ((r >> 44) % 8) * 4); /* ID registers */
        switch (r % 10) {
        case 0: case 1: case 2: /* word write */
            put(out, 0, 1); put(out, dev, 1); put(out, reg, 2);
            put(out, (uint32_t)(fz_rng(rng) & ((r >> 50) % 2 ? 0xffu : 0xffffffffu)), 4);
            break;
        case 3: case 4: /* word read */
            put(out, 2, 1); put(out, dev, 1); put(out, reg, 2);
            break;
        case 5: /* input */
            put(out, 3, 1); put(out, (uint32_t)(r >> 24), 1); put(out, (uint32_t)(r >> 32), 1);
            put(out, (uint32_t)fz_rng(rng) & 0xff, 4);
            break;
        case 6: /* idle up to ~16k cycles */
            put(out, 4, 1); put(out, (uint32_t)((r >> 20) % 1024), 2);
            break;
        case 7: case 8: /* runs */
            put(out, 5, 1); put(out, (uint32_t)((r >> 20) % 4096), 2);
            break;
        default:
            put(out, 6, 1);
            break;
        }
    }
}
