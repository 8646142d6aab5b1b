/*
 * precopy.c - live (pre-copy) migration as the loop performs it, QEMU's
 * convergence rule for `vmstress dirty`, and the dirty-log figures of
 * `run --dirty-log`. See loop.h.
 *
 * Why a separate oracle: a stop-and-copy round trip saves SRAM after the
 * guest stopped, so a write that bypasses the dirty log can never show
 * there. In a live migration the page was sent before that write and is
 * never sent again: the destination resumes with stale memory. Here the
 * pages the stream carries are compared with the source's SRAM once it has
 * stopped, and a difference names the page and the last device that wrote
 * it.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "loop_int.h"

static void set_all(uint8_t *bm, size_t pages)
{
    memset(bm, 0, (pages + 7) / 8);
    for (size_t p = 0; p < pages; p++)
        bm[p / 8] |= (uint8_t)(1u << (p % 8));
}

static bool bit(const uint8_t *bm, size_t p) { return bm[p / 8] >> (p % 8) & 1; }

/* Send the pages of bm (and remember their bytes as the destination will have them). */
static bool send_pages(const VmsRam *ram, VmsOut *out, const uint8_t *bm, bool end, uint8_t *sent,
                       uint64_t *count)
{
    size_t ps = ram->page_size, pages = (size_t)(ram->size / ps);
    for (size_t p = 0; p < pages; p++)
        if (bit(bm, p)) {
            memcpy(sent + p * ps, ram->mem + p * ps, ps);
            ++*count;
        }
    return vms_ram_pages(ram, out, bm, end);
}

static void find_stale(const VmsRam *ram, const uint8_t *sent, LoopPrecopyResult *res)
{
    size_t ps = ram->page_size, pages = (size_t)(ram->size / ps);
    for (size_t p = 0; p < pages; p++) {
        const uint8_t *x = sent + p * ps, *y = ram->mem + p * ps;
        if (!memcmp(x, y, ps))
            continue;
        size_t o = 0;
        while (x[o] == y[o])
            o++;
        res->stale_page = (long)p;
        res->stale_offset = o;
        res->stale_sent = x[o];
        res->stale_now = y[o];
        return;
    }
}

bool loop_precopy_save(Machine *m, VmsOut *out, const LoopPrecopyPlan *plan, LoopRunFn *run,
                       void *opaque, bool vmdesc, LoopPrecopyResult *res, VmsError *err)
{
    memset(res, 0, sizeof(*res));
    res->stale_page = -1;
    const VmsRam *ram = mach_ram(m);
    VmsError scratch;
    if (!err)
        err = &scratch;
    if (!ram) {
        vms_error_clear(err);
        err->cls = VMS_ERR_CONFIG;
        snprintf(err->msg, sizeof(err->msg), "SRAM is not a whole number of %u-byte pages: no live migration",
                 MACH_PAGE_SIZE);
        return false;
    }
    size_t pages = mach_n_pages(m);
    uint8_t *bm = calloc((pages + 7) / 8, 1), *sent = malloc(ram->size);
    if (!bm || !sent)
        abort();
    VmsRegistry *reg = mach_registry(m);
    vms_out_reset(out);
    /* The migration starts: the log begins afresh, and pass 1 is every page. */
    mach_dirty_sync(m, NULL, 0);
    set_all(bm, pages);
    bool ok = vms_save_begin(reg, out, err) && vms_ram_start(ram, out);
    for (unsigned k = 0; ok && k < plan->passes && k < LOOP_PRECOPY_MAX_PASSES; k++) {
        ok = send_pages(ram, out, bm, false, sent, &res->pages_sent);
        res->passes++;
        if (ok && !run(opaque, plan->slice[k])) {
            free(bm);
            free(sent);
            return false;
        }
        mach_dirty_sync(m, bm, (pages + 7) / 8);
    }
    /* The guest is stopped: the last dirty pages, then the devices. */
    uint64_t before = res->pages_sent;
    VmsSaveOpts opts = { .no_vmdesc = !vmdesc, .omit_set = mach_omit_sram(m), .page_size = MACH_PAGE_SIZE };
    ok = ok && send_pages(ram, out, bm, true, sent, &res->pages_sent) &&
         vms_save_end(reg, out, &opts, err);
    res->pages_final = res->pages_sent - before;
    if (ok)
        find_stale(ram, sent, res);
    else if (err->cls == VMS_ERR_NONE) {
        err->cls = VMS_ERR_LIMIT;
        snprintf(err->msg, sizeof(err->msg), "the pre-copy stream is over its output limit");
    }
    free(bm);
    free(sent);
    return ok;
}

/* ------------------------------------------------------ the prediction */

/* Bytes the pages of bm take on the wire, and how many there are. */
static uint64_t wire_bytes(const VmsRam *ram, const uint8_t *bm, uint64_t *n)
{
    uint64_t bytes = 0;
    *n = 0;
    for (uint64_t p = 0; p < ram->size / ram->page_size; p++)
        if (bit(bm, (size_t)p)) {
            bytes += vms_ram_page_cost(ram, p);
            ++*n;
        }
    return bytes;
}

/* Guest cycles that `bytes` take at `bandwidth` bytes/s (at least 1). */
static uint64_t transfer_cycles(uint64_t bytes, double bandwidth)
{
    double c = (double)bytes / bandwidth * LOOP_GUEST_HZ;
    return c < 1 ? 1 : c > 1e15 ? (uint64_t)1e15 : (uint64_t)c;
}

static bool guest_stopped(Machine *m)
{
    return mach_state(m) == CPU_HALTED || mach_state(m) == CPU_LOCKUP;
}

void loop_predict_precopy(Machine *m, double bandwidth, double max_downtime, unsigned max_passes,
                          LoopPrediction *p)
{
    memset(p, 0, sizeof(*p));
    VmsRam *ram = mach_ram(m);
    size_t pages = mach_n_pages(m);
    uint8_t *bm = calloc((pages + 7) / 8, 1);
    if (!bm)
        abort();
    /* Everything but RAM, as it would travel while stopped. */
    VmsOut dev;
    vms_out_init(&dev, 0);
    VmsSaveOpts opts = { .no_vmdesc = true, .omit_set = mach_omit_sram(m) };
    if (vms_save(mach_registry(m), &dev, &opts, NULL))
        p->device_bytes = dev.len;
    vms_out_free(&dev);
    double threshold = bandwidth * max_downtime;
    mach_dirty_sync(m, NULL, 0);
    set_all(bm, pages);
    uint64_t n;
    while (p->passes < max_passes) {
        uint64_t bytes = wire_bytes(ram, bm, &n);
        uint64_t cycles = transfer_cycles(bytes, bandwidth);
        p->bytes_sent += bytes;
        p->total_s += (double)cycles / LOOP_GUEST_HZ;
        p->passes++;
        uint64_t end = mach_cycles(m) + cycles;
        while (mach_cycles(m) < end && !guest_stopped(m))
            mach_run(m, end - mach_cycles(m));
        mach_dirty_sync(m, bm, (pages + 7) / 8);
        uint64_t dirty = 0;
        for (size_t q = 0; q < pages; q++)
            dirty += bit(bm, q);
        p->last_pending = dirty * ram->page_size;
        /* QEMU 7.2: stop and copy once the rest fits in the downtime. */
        if ((double)p->last_pending < threshold || guest_stopped(m)) {
            p->converged = true;
            break;
        }
    }
    uint64_t last = wire_bytes(ram, bm, &p->final_pages) + p->device_bytes;
    p->downtime_s = (double)last / bandwidth;
    if (p->converged) {
        p->bytes_sent += last;
        p->total_s += p->downtime_s;
    }
    free(bm);
}

/* ------------------------------------------------------- --dirty-log */

void loop_dirty_account(LoopDirty *d, Machine *m, uint64_t cycles)
{
    uint64_t n = mach_dirty_sync(m, NULL, 0);
    if (!d->intervals || n < d->min)
        d->min = n;
    if (n > d->max)
        d->max = n;
    d->intervals++;
    d->pages += n;
    d->cycles += cycles;
    d->page_size = MACH_PAGE_SIZE;
    d->hist[n < LOOP_DIRTY_HIST - 1 ? n : LOOP_DIRTY_HIST - 1]++;
}

void loop_dirty_merge(LoopDirty *d, const LoopDirty *src)
{
    if (!src->intervals)
        return;
    if (!d->intervals || src->min < d->min)
        d->min = src->min;
    if (src->max > d->max)
        d->max = src->max;
    d->intervals += src->intervals;
    d->pages += src->pages;
    d->cycles += src->cycles;
    d->page_size = src->page_size;
    for (unsigned k = 0; k < LOOP_DIRTY_HIST; k++)
        d->hist[k] += src->hist[k];
}

double loop_dirty_rate(const LoopDirty *d)
{
    return d->cycles ? (double)d->pages * LOOP_GUEST_HZ / (double)d->cycles : 0;
}

void loop_dirty_print(FILE *f, const LoopDirty *d)
{
    if (!d->intervals)
        return;
    double rate = loop_dirty_rate(d);
    fprintf(f, "  dirty log: %" PRIu64 " intervals of %.0f cycles on average, %.2f dirty pages per interval "
            "(min %" PRIu64 ", max %" PRIu64 ") of %u bytes; %.0f pages/s, %.0f bytes/s of guest time\n",
            d->intervals, (double)d->cycles / (double)d->intervals, (double)d->pages / (double)d->intervals,
            d->min, d->max, d->page_size, rate, rate * d->page_size);
}

void *loop_dirty_json(const LoopDirty *d)
{
    json_t *j = json_object(), *h = json_object();
    double rate = loop_dirty_rate(d);
    json_object_set_new(j, "page_size", json_integer(d->page_size));
    json_object_set_new(j, "intervals", json_integer((json_int_t)d->intervals));
    json_object_set_new(j, "interval_cycles", json_integer((json_int_t)d->cycles));
    json_object_set_new(j, "pages", json_integer((json_int_t)d->pages));
    json_object_set_new(j, "pages_per_interval_mean",
                        json_real(d->intervals ? (double)d->pages / (double)d->intervals : 0));
    json_object_set_new(j, "pages_per_interval_min", json_integer((json_int_t)d->min));
    json_object_set_new(j, "pages_per_interval_max", json_integer((json_int_t)d->max));
    json_object_set_new(j, "pages_per_second", json_real(rate));
    json_object_set_new(j, "bytes_per_second", json_real(rate * d->page_size));
    /* Intervals by their dirty page count; the last bucket is "that many or more". */
    for (unsigned k = 0; k < LOOP_DIRTY_HIST; k++)
        if (d->hist[k]) {
            char key[16];
            snprintf(key, sizeof(key), k == LOOP_DIRTY_HIST - 1 ? "%u+" : "%u", k);
            json_object_set_new(h, key, json_integer((json_int_t)d->hist[k]));
        }
    json_object_set_new(j, "pages_per_interval_histogram", h);
    return j;
}
