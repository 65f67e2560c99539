/* Unit tests: the chat's line editor and its input history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat_edit.h"

static void expect(const xt_chat_edit *e, const char *text, size_t cur)
{
    char *s = xt_chat_edit_text(e);
    assert_non_null(s);
    assert_string_equal(s, text);
    assert_int_equal(e->cur, cur);
    free(s);
}

static void test_insert_move_delete(void **state)
{
    xt_chat_edit e;
    (void)state;
    xt_chat_edit_init(&e);
    expect(&e, "", 0);
    assert_int_equal(xt_chat_edit_insert_utf8(&e, "hello wörld"), 0);
    expect(&e, "hello wörld", 11);
    xt_chat_edit_left(&e);
    xt_chat_edit_left(&e);
    xt_chat_edit_left(&e);
    xt_chat_edit_backspace(&e); /* the ö is one character */
    expect(&e, "hello wrld", 7);
    xt_chat_edit_insert_utf8(&e, "o");
    expect(&e, "hello world", 8);
    xt_chat_edit_home(&e);
    xt_chat_edit_left(&e); /* stays at 0 */
    xt_chat_edit_backspace(&e);
    xt_chat_edit_delete(&e);
    expect(&e, "ello world", 0);
    xt_chat_edit_end(&e);
    xt_chat_edit_right(&e); /* stays at the end */
    xt_chat_edit_delete(&e);
    expect(&e, "ello world", 10);
    xt_chat_edit_insert_utf8(&e, " 你好🎉");
    expect(&e, "ello world 你好🎉", 14);
    xt_chat_edit_free(&e);
}

static void test_words(void **state)
{
    xt_chat_edit e;
    (void)state;
    xt_chat_edit_init(&e);
    xt_chat_edit_insert_utf8(&e, "one  two three");
    xt_chat_edit_word_left(&e);
    assert_int_equal(e.cur, 9);
    xt_chat_edit_word_left(&e);
    assert_int_equal(e.cur, 5);
    xt_chat_edit_word_left(&e);
    assert_int_equal(e.cur, 0);
    xt_chat_edit_word_right(&e);
    assert_int_equal(e.cur, 3);
    xt_chat_edit_delete_word_fwd(&e); /* blanks then "two" */
    expect(&e, "one three", 3);
    xt_chat_edit_end(&e);
    xt_chat_edit_insert_utf8(&e, "  ");
    xt_chat_edit_delete_word_back(&e); /* blanks then "three" */
    expect(&e, "one ", 4);
    xt_chat_edit_delete_word_back(&e);
    expect(&e, "", 0);
    xt_chat_edit_delete_word_back(&e); /* nothing left: no-op */
    expect(&e, "", 0);

    xt_chat_edit_insert_utf8(&e, "abc def");
    xt_chat_edit_word_left(&e);
    xt_chat_edit_kill_end(&e);
    expect(&e, "abc ", 4);
    xt_chat_edit_insert_utf8(&e, "xyz");
    xt_chat_edit_left(&e);
    xt_chat_edit_kill_start(&e);
    expect(&e, "z", 0);
    xt_chat_edit_free(&e);
}

static void test_history(void **state)
{
    xt_chat_edit e;
    (void)state;
    xt_chat_edit_init(&e);
    xt_chat_edit_hist_prev(&e); /* empty history: nothing */
    expect(&e, "", 0);
    xt_chat_edit_hist_add(&e, "first");
    xt_chat_edit_hist_add(&e, "second");
    xt_chat_edit_hist_add(&e, "second"); /* a repeat is not stored twice */
    xt_chat_edit_hist_add(&e, "");       /* nor an empty line */
    assert_int_equal(e.nhist, 2);
    xt_chat_edit_insert_utf8(&e, "draft");
    xt_chat_edit_hist_prev(&e);
    expect(&e, "second", 6);
    xt_chat_edit_hist_prev(&e);
    expect(&e, "first", 5);
    xt_chat_edit_hist_prev(&e); /* oldest: stays */
    expect(&e, "first", 5);
    xt_chat_edit_hist_next(&e);
    expect(&e, "second", 6);
    xt_chat_edit_hist_next(&e); /* past the newest: the draft is back */
    expect(&e, "draft", 5);
    xt_chat_edit_hist_next(&e);
    expect(&e, "draft", 5);

    /* The history is bounded: the oldest lines go. */
    char line[32];
    for (int i = 0; i < XT_CHAT_HIST_MAX + 10; i++) {
        snprintf(line, sizeof line, "line %d", i);
        xt_chat_edit_hist_add(&e, line);
    }
    assert_int_equal(e.nhist, XT_CHAT_HIST_MAX);
    assert_string_equal(e.hist[0], "line 10");
    xt_chat_edit_free(&e);
}

static void test_limit(void **state)
{
    xt_chat_edit e;
    wchar_t chunk[1024];
    (void)state;
    for (size_t i = 0; i < 1024; i++)
        chunk[i] = L'x';
    xt_chat_edit_init(&e);
    size_t ok = 0;
    while (xt_chat_edit_insert(&e, chunk, 1024) == 0)
        ok++;
    assert_int_equal(ok, XT_CHAT_EDIT_MAX / 1024);
    assert_int_equal(e.len, XT_CHAT_EDIT_MAX);
    /* Multi-line paste: newlines are part of the line. */
    xt_chat_edit_clear(&e);
    xt_chat_edit_insert_utf8(&e, "a\nb");
    expect(&e, "a\nb", 3);
    xt_chat_edit_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_move_delete),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
