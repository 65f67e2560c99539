/* Unit tests: dropping repeated messages (dedup.h): the key chosen per
 * message, and listen's batches (one store transaction per read burst,
 * committed once the burst was shown, dropped when it could not be). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dedup.h"
#include "store/store_int.h" /* xt_seen_count */

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/xt_dedup_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/x.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static xt_store *open_store(void)
{
    xt_store *st = NULL;
    assert_int_equal(xt_store_open(path, NULL, &st), 0);
    return st;
}

static xt_message m_(const char *from, const char *origin, const char *sid, const char *id,
                     const char *body)
{
    return (xt_message){.from = from,
                        .origin_id = origin,
                        .stanza_id = sid,
                        .id = id,
                        .body = body,
                        .type = "chat"};
}

/* One key per message: the origin-id when there is one (a re-sent copy
 * has a new stanza-id), else the stanza-id, else id + body. The sender
 * is keyed by its bare JID, whatever its resource or case. */
static void test_keys(void **state)
{
    (void)state;
    xt_store *st = open_store();
    xt_cli_dedup *d = xt_cli_dedup_new(st, "bob@localhost");
    assert_non_null(d);
    xt_message a = m_("alice@localhost/phone", "o1", "s1", "1", "hi");
    assert_int_equal(xt_cli_dedup_check(d, &a, NULL), 0);
    xt_message resent = m_("Alice@LOCALHOST/laptop", "o1", "s2", "1", "hi");
    assert_int_equal(xt_cli_dedup_check(d, &resent, NULL), 1);
    xt_message no_origin = m_("alice@localhost/phone", NULL, "s9", "2", "x");
    assert_int_equal(xt_cli_dedup_check(d, &no_origin, NULL), 0);
    assert_int_equal(xt_cli_dedup_check(d, &no_origin, NULL), 1);
    /* Same id, other body: a client counting ids from 1 each session. */
    xt_message c1 = m_("carol@localhost/x", NULL, NULL, "1", "first");
    xt_message c2 = m_("carol@localhost/x", NULL, NULL, "1", "second");
    assert_int_equal(xt_cli_dedup_check(d, &c1, NULL), 0);
    assert_int_equal(xt_cli_dedup_check(d, &c2, NULL), 0);
    assert_int_equal(xt_cli_dedup_check(d, &c2, NULL), 1);
    /* The same origin-id from another sender is another message. */
    xt_message other = m_("carol@localhost/x", "o1", NULL, NULL, "hi");
    assert_int_equal(xt_cli_dedup_check(d, &other, NULL), 0);
    /* Nothing to tell it by: new, every time. */
    xt_message bare = m_("carol@localhost/x", NULL, NULL, NULL, "?");
    assert_int_equal(xt_cli_dedup_check(d, &bare, NULL), 0);
    assert_int_equal(xt_cli_dedup_check(d, &bare, NULL), 0);
    xt_cli_dedup_free(d);
    xt_store_close(st);
}

/* Batched: a repeat inside the burst is caught; another handle (the next
 * run) sees the records only after xt_cli_dedup_end_burst; an abandoned
 * burst leaves no record; freeing commits an open burst. */
static void test_bursts(void **state)
{
    (void)state;
    xt_store *st = open_store();
    xt_store *next_run = open_store();
    xt_cli_dedup *d = xt_cli_dedup_new(st, "bob@localhost");
    xt_cli_dedup *later = xt_cli_dedup_new(next_run, "bob@localhost");
    assert_non_null(d);
    assert_non_null(later);
    xt_cli_dedup_set_batched(d, 1);
    xt_message a = m_("alice@localhost/r", "b1", NULL, NULL, "x");
    xt_message b = m_("alice@localhost/r", "b2", NULL, NULL, "y");
    assert_int_equal(xt_cli_dedup_check(d, &a, NULL), 0);
    assert_int_equal(xt_cli_dedup_check(d, &a, NULL), 1);
    assert_int_equal(xt_seen_count(next_run), 0);
    const char *err = NULL;
    assert_int_equal(xt_cli_dedup_end_burst(d, &err), 0);
    assert_null(err);
    assert_int_equal(xt_seen_count(next_run), 1);
    assert_int_equal(xt_cli_dedup_end_burst(d, &err), 0); /* none open: nothing */

    assert_int_equal(xt_cli_dedup_check(d, &b, NULL), 0);
    xt_cli_dedup_abandon_burst(d); /* not shown: not seen */
    assert_int_equal(xt_seen_count(next_run), 1);
    assert_int_equal(xt_cli_dedup_check(later, &b, NULL), 0);
    assert_int_equal(xt_cli_dedup_check(later, &a, NULL), 1);

    xt_message c = m_("alice@localhost/r", "b3", NULL, NULL, "z");
    assert_int_equal(xt_cli_dedup_check(d, &c, NULL), 0);
    xt_cli_dedup_free(d); /* commits */
    assert_int_equal(xt_cli_dedup_check(later, &c, NULL), 1);
    xt_cli_dedup_free(later);
    xt_store_close(next_run);
    xt_store_close(st);
}

/* Without a store: a ring in memory; batches change nothing there. */
static void test_memory(void **state)
{
    (void)state;
    xt_cli_dedup *d = xt_cli_dedup_new(NULL, "bob@localhost");
    assert_non_null(d);
    xt_cli_dedup_set_batched(d, 1);
    xt_message a = m_("alice@localhost/r", "m1", NULL, NULL, "x");
    assert_int_equal(xt_cli_dedup_check(d, &a, NULL), 0);
    assert_int_equal(xt_cli_dedup_end_burst(d, NULL), 0);
    assert_int_equal(xt_cli_dedup_check(d, &a, NULL), 1);
    xt_cli_dedup_free(d);
    xt_cli_dedup_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bursts, setup, teardown),
        cmocka_unit_test(test_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
