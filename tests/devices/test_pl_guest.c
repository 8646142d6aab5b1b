/*
 * test_pl_guest.c - the guest drivers' self-tests (guest/test_<device>.c) on
 * the default board: each must print its checks through UART0 and exit 0.
 * The PL011 test waits for host input; it gets "ping" once it prompts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "machine.h"

#define SLICE 1000000ull            /* 10 virtual ms */
#define MAX_SLICES 2000             /* 20 virtual seconds */

typedef struct Console {
    char text[8192];
    size_t n;
} Console;

static void console_sink(void *opaque, const MachEvent *ev)
{
    Console *c = opaque;
    bool uart = ev->kind == MACH_EV_DATA && ev->source == 0;    /* UART0 is device 0 */
    if ((uart || ev->kind == MACH_EV_CONSOLE) && c->n + 1 < sizeof(c->text)) {
        c->text[c->n++] = (char)ev->value;
        c->text[c->n] = 0;
    }
}

/* Run a program to its exit; feed `input` to UART0 after `prompt` appears. */
static void run_guest(const char *program, const char *prompt, const char *input, Console *con)
{
    VmsMsg why = { { 0 } };
    Machine *m = mach_new(mach_board_find("vmstress-m0"), &why);
    if (!m)
        fail_msg("mach_new: %s", why.text);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", VMSTRESS_GUEST_DIR, program);
    if (!mach_load_elf(m, path, &why))
        fail_msg("%s", why.text);
    mach_reset(m);
    memset(con, 0, sizeof(*con));
    mach_set_event_sink(m, console_sink, con);
    bool fed = prompt == NULL;
    for (int i = 0; i < MAX_SLICES && mach_state(m) != CPU_HALTED; i++) {
        mach_run(m, SLICE);
        if (!fed && strstr(con->text, prompt)) {
            for (const char *p = input; *p; p++)
                assert_true(mach_input(m, 0, 0, (uint8_t)*p));
            fed = true;
        }
    }
    printf("%s", con->text);
    assert_int_equal(mach_state(m), CPU_HALTED);
    assert_int_equal(mach_exit_code(m), 0);
    mach_free(m);
}

static void test_guest_pl011(void **state)
{
    Console con;
    run_guest("test_pl011.elf", "pl011: rx>\n", "ping", &con);
    assert_non_null(strstr(con.text, "pl011: loopback polled and by interrupt checked\n"));
    assert_non_null(strstr(con.text, "pl011: overrun checked\n"));
    assert_non_null(strstr(con.text, "pl011: host receive checked\n"));
    assert_non_null(strstr(con.text, "pl011: selftest passed (0 failures)\n"));
    /* Loopback bytes never reach the line. */
    assert_null(strstr(con.text, "loop!"));
}

static void test_guest_pl031(void **state)
{
    Console con;
    run_guest("test_pl031.elf", NULL, NULL, &con);
    assert_non_null(strstr(con.text, "pl031: match interrupt checked\n"));
    assert_non_null(strstr(con.text, "pl031: selftest passed (0 failures)\n"));
}

static void test_guest_pl061(void **state)
{
    Console con;
    run_guest("test_pl061.elf", NULL, NULL, &con);
    assert_non_null(strstr(con.text, "pl061: GPIO0 registers, data masking, edge and level interrupts checked\n"));
    assert_non_null(strstr(con.text, "pl061: GPIO1 (Luminary) registers, lock/commit, data masking, edge and level interrupts checked\n"));
    assert_non_null(strstr(con.text, "pl061: selftest passed (0 failures)\n"));
}

static void test_guest_sp804(void **state)
{
    Console con;
    run_guest("test_sp804.elf", NULL, NULL, &con);
    /* Both timers of both SP804s interrupted, twice each. */
    assert_non_null(strstr(con.text, "sp804: selftest passed (2+2 interrupts)\n"));
}

static void test_guest_watchdog(void **state)
{
    Console con;
    run_guest("test_watchdog.elf", NULL, NULL, &con);
    assert_non_null(strstr(con.text, "watchdog: selftest passed (3 kicks)\n"));
}

static void test_guest_pl080(void **state)
{
    Console con;
    run_guest("test_pl080.elf", NULL, NULL, &con);
    /* A line sent by DMA to the UART's data register, then the checks:
     * three items with an interrupt each, one bus error. */
    assert_non_null(strstr(con.text, "pl080: dma to uart\n"));
    assert_non_null(strstr(con.text, "pl080: selftest passed (3 tc, 1 error interrupts)\n"));
}

static void test_guest_pl022(void **state)
{
    Console con;
    run_guest("test_pl022.elf", NULL, NULL, &con);
    assert_non_null(strstr(con.text, "pl022: selftest passed\n"));
    assert_null(strstr(con.text, "FAIL"));
}

/* The default board up to (not including) its first device of `type`:
 * a machine type without the devices added from there on. */
static Board board_without(const char *type, DevConfig *devs, size_t cap)
{
    const Board *d = mach_board_find("vmstress-m0");
    size_t n = 0;
    while (d->devices[n].type && strcmp(d->devices[n].type, type) != 0 && n + 1 < cap) {
        devs[n] = d->devices[n];
        n++;
    }
    assert_non_null(d->devices[n].type);     /* the type is on the default board */
    devs[n] = (DevConfig){ .type = NULL };
    Board b = *d;
    b.devices = devs;
    return b;
}

/* `all` probes for the PL080 and PL022 (rt_probe_read32): on a board
 * without them the probe's bus fault is absorbed and the workload runs on. */
static void test_guest_all_without_dma_ssp(void **state)
{
    DevConfig devs[32];
    Board b = board_without("pl080", devs, 32);
    VmsMsg why = { { 0 } };
    Machine *m = mach_new(&b, &why);
    if (!m)
        fail_msg("mach_new: %s", why.text);
    char path[512];
    snprintf(path, sizeof(path), "%s/all.elf", VMSTRESS_GUEST_DIR);
    if (!mach_load_elf(m, path, &why))
        fail_msg("%s", why.text);
    mach_reset(m);
    Console con;
    memset(&con, 0, sizeof(con));
    mach_set_event_sink(m, console_sink, &con);
    for (int i = 0; i < 30 && mach_state(m) != CPU_HALTED && mach_state(m) != CPU_LOCKUP; i++)
        mach_run(m, SLICE);
    printf("%s", con.text);
    assert_true(mach_state(m) == CPU_RUNNING || mach_state(m) == CPU_SLEEPING);
    assert_non_null(strstr(con.text, "all: start\n"));
    assert_non_null(strstr(con.text, "all: 4096 "));
    assert_null(strstr(con.text, "rt: unexpected exception"));
    mach_free(m);
}

static void test_guest_virtblk(void **state)
{
    Console con;
    run_guest("test_virtblk.elf", NULL, NULL, &con);
    assert_non_null(strstr(con.text, "virtblk: write, read back and zero sector checked\n"));
    assert_non_null(strstr(con.text, "virtblk: two requests in flight checked\n"));
    assert_non_null(strstr(con.text, "virtblk: every sector written and read back\n"));
    assert_non_null(strstr(con.text, "virtblk: error status and flush checked ("));
    assert_non_null(strstr(con.text, "virtblk: selftest passed (0 failures)\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_pl011),
        cmocka_unit_test(test_guest_pl031),
        cmocka_unit_test(test_guest_pl061),
        cmocka_unit_test(test_guest_sp804),
        cmocka_unit_test(test_guest_watchdog),
        cmocka_unit_test(test_guest_pl080),
        cmocka_unit_test(test_guest_pl022),
        cmocka_unit_test(test_guest_all_without_dma_ssp),
        cmocka_unit_test(test_guest_virtblk),
    };
    return cmocka_run_group_tests_name("pl_guest", tests, NULL, NULL);
}
