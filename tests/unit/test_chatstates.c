/*
 * The XEP-0085 timers (xt_chatstates): what to send when, driven only by
 * the times passed in (sans-I/O).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xtalk/im.h"

static const xt_message with_state = {.body = "hi", .chatstate = XT_CHATSTATE_ACTIVE};
static const xt_message without_state = {.body = "hi"};

/* Before the contact showed support, only <active/> inside our messages;
 * no standalone notification, no timer. */
static void test_unknown_support(void **state)
{
    (void)state;
    xt_chatstates *cs = NULL;
    assert_int_equal(xt_chatstates_new(NULL, &cs), 0);
    assert_int_equal(xt_chatstates_input(cs, 1000, 0), XT_CHATSTATE_NONE);
    assert_int_equal(xt_chatstates_deadline(cs), -1);
    assert_int_equal(xt_chatstates_message(cs, 2000), XT_CHATSTATE_ACTIVE);
    /* §5.1: the reply has no chat state: nothing more, not even active. */
    xt_chatstates_received(cs, &without_state);
    assert_int_equal(xt_chatstates_input(cs, 3000, 0), XT_CHATSTATE_NONE);
    assert_int_equal(xt_chatstates_message(cs, 4000), XT_CHATSTATE_NONE);
    assert_int_equal(xt_chatstates_close(cs, 5000), XT_CHATSTATE_NONE);
    xt_chatstates_free(cs);
}

/* The XEP's timeline: composing, paused after 30 s without typing,
 * inactive after 2 min without interaction, gone after 10 min; no
 * standalone state twice in a row. */
static void test_timeline(void **state)
{
    (void)state;
    xt_chatstates *cs = NULL;
    assert_int_equal(xt_chatstates_new(NULL, &cs), 0);
    xt_chatstates_received(cs, &with_state);
    assert_int_equal(xt_chatstates_input(cs, 1000, 0), XT_CHATSTATE_COMPOSING);
    assert_int_equal(xt_chatstates_input(cs, 2000, 0), XT_CHATSTATE_NONE); /* no repeat */
    assert_int_equal(xt_chatstates_deadline(cs), 2000 + 30000);
    assert_int_equal(xt_chatstates_tick(cs, 31999), XT_CHATSTATE_NONE);
    assert_int_equal(xt_chatstates_tick(cs, 32000), XT_CHATSTATE_PAUSED);
    assert_int_equal(xt_chatstates_current(cs), XT_CHATSTATE_PAUSED);
    /* Typing again: composing again. */
    assert_int_equal(xt_chatstates_input(cs, 40000, 0), XT_CHATSTATE_COMPOSING);
    /* The message carries active. */
    assert_int_equal(xt_chatstates_message(cs, 41000), XT_CHATSTATE_ACTIVE);
    assert_int_equal(xt_chatstates_deadline(cs), 41000 + 120000);
    assert_int_equal(xt_chatstates_tick(cs, 161000), XT_CHATSTATE_INACTIVE);
    assert_int_equal(xt_chatstates_deadline(cs), 41000 + 600000);
    assert_int_equal(xt_chatstates_tick(cs, 641000), XT_CHATSTATE_GONE);
    assert_int_equal(xt_chatstates_deadline(cs), -1);
    /* Coming back: active. */
    assert_int_equal(xt_chatstates_touch(cs, 700000), XT_CHATSTATE_ACTIVE);
    /* A deleted draft after composing: active again. */
    assert_int_equal(xt_chatstates_input(cs, 701000, 0), XT_CHATSTATE_COMPOSING);
    assert_int_equal(xt_chatstates_input(cs, 702000, 1), XT_CHATSTATE_ACTIVE);
    assert_int_equal(xt_chatstates_close(cs, 703000), XT_CHATSTATE_GONE);
    assert_int_equal(xt_chatstates_deadline(cs), -1);
    xt_chatstates_free(cs);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(xt_chatstate_name(XT_CHATSTATE_COMPOSING), "composing");
    assert_null(xt_chatstate_name(XT_CHATSTATE_NONE));
    assert_null(xt_chatstate_name((xt_chatstate)99));
    xt_chatstates_free(NULL);
    assert_int_equal(xt_chatstates_new(NULL, NULL), XT_EINVAL);
    assert_int_equal(xt_chatstates_tick(NULL, 1), XT_CHATSTATE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_support),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
