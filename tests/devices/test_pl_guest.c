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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_pl011),
        cmocka_unit_test(test_guest_pl031),
        cmocka_unit_test(test_guest_pl061),
        cmocka_unit_test(test_guest_sp804),
        cmocka_unit_test(test_guest_watchdog),
    };
    return cmocka_run_group_tests_name("pl_guest", tests, NULL, NULL);
}
