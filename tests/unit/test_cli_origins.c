/* cli/origins.c: who sent which message id (forged retractions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "origins.h"

static void test_same_other_unknown(void **state)
{
    (void)state;
    xt_cli_origins *o = xt_cli_origins_new();
    assert_non_null(o);
    xt_message m = {.from = "Carol@Example.com/phone", .id = "s1", .origin_id = "o1"};
    xt_cli_origins_add(o, &m);
    /* Any resource of the same bare JID, any case of the domain. */
    assert_int_equal(xt_cli_origins_check(o, "carol@example.com/laptop", "o1"),
                     XT_CLI_ORIGIN_SAME);
    assert_int_equal(xt_cli_origins_check(o, "carol@example.com", "s1"), XT_CLI_ORIGIN_SAME);
    /* Someone else naming carol's message: a forgery. */
    assert_int_equal(xt_cli_origins_check(o, "mallory@example.com/x", "o1"),
                     XT_CLI_ORIGIN_OTHER);
    assert_int_equal(xt_cli_origins_check(o, "mallory@example.com/x", "nope"),
                     XT_CLI_ORIGIN_UNKNOWN);
    /* Ids are per sender: mallory's own message with the same id is his. */
    xt_message m2 = {.from = "mallory@example.com/x", .id = "o1"};
    xt_cli_origins_add(o, &m2);
    assert_int_equal(xt_cli_origins_check(o, "mallory@example.com", "o1"), XT_CLI_ORIGIN_SAME);
    assert_int_equal(xt_cli_origins_check(o, "carol@example.com", "o1"), XT_CLI_ORIGIN_SAME);
    /* An invalid sender is never the sender; bad input never crashes. */
    assert_int_equal(xt_cli_origins_check(o, "@@", "o1"), XT_CLI_ORIGIN_OTHER);
    assert_int_equal(xt_cli_origins_check(o, "carol@example.com", NULL), XT_CLI_ORIGIN_UNKNOWN);
    assert_int_equal(xt_cli_origins_check(NULL, "carol@example.com", "o1"),
                     XT_CLI_ORIGIN_UNKNOWN);
    xt_cli_origins_free(o);
}

/* The record is bounded: the oldest ids fall out (unknown, not wrong). */
static void test_bounded(void **state)
{
    (void)state;
    xt_cli_origins *o = xt_cli_origins_new();
    char id[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof id, "m%d", i);
        xt_cli_origins_add_id(o, "a@example.com", id);
    }
    assert_int_equal(xt_cli_origins_check(o, "b@example.com", "m1"), XT_CLI_ORIGIN_UNKNOWN);
    assert_int_equal(xt_cli_origins_check(o, "a@example.com", "m4999"), XT_CLI_ORIGIN_SAME);
    xt_cli_origins_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_other_unknown),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
