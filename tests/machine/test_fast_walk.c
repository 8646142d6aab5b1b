/*
 * test_fast_walk.c - the walker's fast path agrees with its general path.
 *
 * The engine moves plain fields without the general path when nothing
 * watches the walk: by the description's compiled plan where the walk has
 * one (a registry's: vmstate.c, "plans"), else field by field (vmstate.c,
 * "fast paths"); a leaf observer turns both off. So two machines of one board, one with a no-op
 * observer, must load every stream alike (the same outcome, the same
 * one-line error) and then save the same bytes. Streams: every file under
 * corpus/ (whole streams, and section bodies, which are also loaded into
 * every section of the default machine directly), each also cut short and
 * with one byte flipped at spread offsets; and the default machine saved
 * at several points of the `all` workload. Every save is also made into
 * outputs bounded below its length, where plans find no room and hand
 * over to the general path: the same error line.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "machine.h"

enum { CUTS = 8, FLIPS = 8, LIMITS = 4 };

static void noop_observe(void *o, const VmsDesc *d, const VmsField *f, uint32_t i, const void *pv,
                         size_t size, bool loading)
{
    (void)o, (void)d, (void)f, (void)i, (void)pv, (void)size, (void)loading;
}

/* Twin machines of one board: [0] takes the fast path, [1] the general one. */
typedef struct Pair {
    Machine *m[2];
    VmsOut out[2];
    size_t checks;
} Pair;

static void pair_init(Pair *p, const char *board)
{
    VmsMsg why = { { 0 } };
    const Board *b = mach_board_find(board);
    assert_non_null(b);
    for (int k = 0; k < 2; k++) {
        p->m[k] = mach_new(b, &why);
        assert_non_null(p->m[k]);
        vms_out_init(&p->out[k], 0);
    }
    mach_registry(p->m[1])->observe = noop_observe;
    p->checks = 0;
}

static void pair_free(Pair *p)
{
    for (int k = 0; k < 2; k++) {
        mach_free(p->m[k]);
        vms_out_free(&p->out[k]);
    }
}

static void error_line(bool ok, const VmsError *e, char *line, size_t n)
{
    if (ok)
        snprintf(line, n, "ok");
    else
        vms_error_format(e, line, n);
}

/* Both machines save into outputs bounded below the stream's length
 * (len bytes), at spread limits and within 4 bytes of it: the plans'
 * segments then find no room and hand over to the general path, which
 * must fail at the same place, with the same line. */
static void same_save_limited(Pair *p, size_t len, const char *what)
{
    for (int i = 0; i < LIMITS + 4; i++) {
        size_t limit = i < LIMITS ? len * (size_t)(i + 1) / (LIMITS + 1) : len - (size_t)(i - LIMITS) - 1;
        char line[2][VMS_ERROR_LINE_MAX];
        for (int k = 0; k < 2; k++) {
            VmsError e;
            VmsOut o;
            VmsSaveOpts opts = { .no_vmdesc = true };
            vms_out_init(&o, limit ? limit : 1);
            bool ok = mach_save(p->m[k], &o, &opts, &e);
            error_line(ok, &e, line[k], sizeof(line[k]));
            vms_out_free(&o);
        }
        if (strcmp(line[0], line[1]))
            fail_msg("%s, output limit %zu: save says '%s' on the fast path, '%s' on the general one", what,
                     limit, line[0], line[1]);
        p->checks++;
    }
}

/* Both machines save; the same outcome and, saved, the same bytes. */
static void same_save(Pair *p, const char *what)
{
    char line[2][VMS_ERROR_LINE_MAX];
    bool ok[2];
    for (int k = 0; k < 2; k++) {
        VmsError e;
        VmsSaveOpts opts = { .no_vmdesc = true };
        vms_out_reset(&p->out[k]);
        ok[k] = mach_save(p->m[k], &p->out[k], &opts, &e);
        error_line(ok[k], &e, line[k], sizeof(line[k]));
    }
    if (strcmp(line[0], line[1]))
        fail_msg("%s: save says '%s' on the fast path, '%s' on the general one", what, line[0], line[1]);
    if (ok[0] && (p->out[0].len != p->out[1].len || memcmp(p->out[0].buf, p->out[1].buf, p->out[0].len)))
        fail_msg("%s: the fast and the general path save different bytes", what);
    p->checks++;
    if (ok[0])
        same_save_limited(p, p->out[0].len, what);
}

/* A whole stream into both machines: the same outcome, then the same state. */
static void same_load(Pair *p, const uint8_t *b, size_t n, const char *what)
{
    char line[2][VMS_ERROR_LINE_MAX];
    for (int k = 0; k < 2; k++) {
        VmsError e;
        bool ok = mach_load(p->m[k], b, n, &e);
        error_line(ok, &e, line[k], sizeof(line[k]));
    }
    if (strcmp(line[0], line[1]))
        fail_msg("%s: load says '%s' on the fast path, '%s' on the general one", what, line[0], line[1]);
    same_save(p, what);
}

/* A section body straight into section i of both (from power-on). */
static void same_body(Pair *p, size_t i, const uint8_t *b, size_t n, const char *what)
{
    char line[2][VMS_ERROR_LINE_MAX];
    for (int k = 0; k < 2; k++) {
        mach_reset(p->m[k]);
        VmsRegistry *r = mach_registry(p->m[k]);
        const VmsSection *s = &r->sec[i];
        VmsError e;
        VmsIn in;
        vms_in_init(&in, b, n);
        VmsCtx c = { .err = &e, .section = s->idstr, .instance = s->instance_id,
                     .observe = r->observe, .members = s->members, .plans = &r->plans };
        bool ok = vms_load_state(&c, &in, s->vmsd, s->opaque, s->vmsd->version_id);
        error_line(ok, &e, line[k], sizeof(line[k]));
        if (ok)
            snprintf(line[k] + 2, sizeof(line[k]) - 2, " at %zu", in.pos);
    }
    if (strcmp(line[0], line[1]))
        fail_msg("%s into section %zu: '%s' on the fast path, '%s' on the general one", what, i, line[0],
                 line[1]);
    same_save(p, what);
}

typedef void Check(Pair *p, const uint8_t *b, size_t n, const char *what);

static void check_stream(Pair *p, const uint8_t *b, size_t n, const char *what)
{
    same_load(p, b, n, what);
}

static void check_body(Pair *p, const uint8_t *b, size_t n, const char *what)
{
    size_t sections = mach_registry(p->m[0])->n;
    for (size_t i = 0; i < sections; i++)
        same_body(p, i, b, n, what);
}

/* The input, cut short and with one bit flipped, at spread offsets. */
static void variants(Pair *p, const uint8_t *b, size_t n, const char *name, Check *check)
{
    char what[512];
    check(p, b, n, name);
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    for (int i = 1; i <= CUTS; i++) {
        size_t at = n * (size_t)i / (CUTS + 1);
        snprintf(what, sizeof(what), "%s cut at %zu", name, at);
        check(p, b, at, what);
    }
    for (int i = 0; i < FLIPS && n; i++) {
        size_t at = n * (size_t)(2 * i + 1) / (2 * FLIPS);
        memcpy(c, b, n);
        c[at] ^= (uint8_t)(1u << (i % 8));
        snprintf(what, sizeof(what), "%s flipped at %zu", name, at);
        check(p, c, n, what);
    }
    free(c);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    assert_non_null(b);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every regular file under dir (not digests, not gzipped), in name order. */
static void each_file(Pair *whole, Pair *bodies, const char *dir, size_t *files)
{
    struct dirent **ents;
    int k = scandir(dir, &ents, NULL, by_name);
    assert_true(k >= 0);
    for (int i = 0; i < k; i++) {
        const char *nm = ents[i]->d_name;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, nm);
        struct stat st;
        size_t len = strlen(nm);
        bool skip = nm[0] == '.' || (len > 3 && !strcmp(nm + len - 3, ".gz")) ||
                    (len > 7 && !strcmp(nm + len - 7, ".digest"));
        if (!skip && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            each_file(whole, bodies, path, files);
        } else if (!skip && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            size_t n;
            uint8_t *b = read_file(path, &n);
            char type[64];
            /* A whole stream goes to the board it names; anything else is a body. */
            if (vms_stream_machine_type(b, n, type, sizeof(type)) && mach_board_find(type)) {
                Pair p;
                pair_init(&p, type);
                variants(&p, b, n, path, check_stream);
                whole->checks += p.checks;
                pair_free(&p);
            } else {
                variants(bodies, b, n, path, check_body);
            }
            free(b);
            (*files)++;
        }
        free(ents[i]);
    }
    free(ents);
}

static void fast_walk_corpus(void **state)
{
    (void)state;
    Pair whole = { .checks = 0 }, bodies;
    pair_init(&bodies, "vmstress-m0");
    size_t files = 0;
    each_file(&whole, &bodies, VMSTRESS_SOURCE_DIR "/corpus", &files);
    assert_true(files > 50);
    printf("corpus: %zu files, %zu stream checks, %zu body checks\n", files, whole.checks, bodies.checks);
    pair_free(&bodies);
}

/* The default machine saved along the `all` workload, both ways, loaded
 * both ways. */
static void fast_walk_workload(void **state)
{
    (void)state;
    Pair p;
    pair_init(&p, "vmstress-m0");
    VmsMsg why = { { 0 } };
    for (int k = 0; k < 2; k++) {
        assert_true(mach_load_elf(p.m[k], VMSTRESS_GUEST_DIR "/all.elf", &why));
        mach_reset(p.m[k]);
    }
    for (int step = 0; step < 8; step++) {
        for (int k = 0; k < 2; k++)
            mach_run(p.m[k], 250000 + 77777 * (uint64_t)step);
        char what[64];
        snprintf(what, sizeof(what), "all.elf step %d", step);
        same_save(&p, what);
        size_t n = p.out[0].len;
        uint8_t *b = malloc(n);
        assert_non_null(b);
        memcpy(b, p.out[0].buf, n);
        variants(&p, b, n, what, check_stream);
        /* Back to where the twins were, to run on alike. */
        same_load(&p, b, n, what);
        free(b);
    }
    pair_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_walk_corpus),
        cmocka_unit_test(fast_walk_workload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
