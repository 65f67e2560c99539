/* Unit tests: the chat's UTF-8 decoding, character widths and wrapping. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat_text.h"

static int utf8_locale(void)
{
    return setlocale(LC_ALL, "C.UTF-8") != NULL || setlocale(LC_ALL, "en_US.UTF-8") != NULL;
}

static void test_decode_encode(void **state)
{
    (void)state;
    const char *s = "a\xc3\xa9\xe4\xbd\xa0\xf0\x9f\x8e\x89"; /* a é 你 🎉 */
    size_t n;
    wchar_t *w = xt_chat_utf8_decode(s, strlen(s), &n);
    assert_non_null(w);
    assert_int_equal(n, 4);
    assert_int_equal(w[0], L'a');
    assert_int_equal(w[1], 0xe9);
    assert_int_equal(w[2], 0x4f60);
    assert_int_equal(w[3], 0x1f389);
    char *back = xt_chat_utf8_encode(w, n);
    assert_string_equal(back, s);
    free(back);
    free(w);

    /* Invalid: a lone continuation, an overlong form, a surrogate, a
     * truncated sequence: one U+FFFD per bad byte, the rest kept. */
    const char *bad = "\x80x\xc0\xafy\xed\xa0\x80z\xe4\xbd";
    w = xt_chat_utf8_decode(bad, strlen(bad), &n);
    assert_non_null(w);
    size_t fffd = 0;
    for (size_t i = 0; i < n; i++)
        fffd += w[i] == 0xfffd;
    assert_true(fffd >= 4);
    assert_int_equal(w[1], L'x');
    free(w);

    /* Encoding never emits a surrogate or an out-of-range code point. */
    wchar_t odd[] = {(wchar_t)0xd800, (wchar_t)0x110000};
    back = xt_chat_utf8_encode(odd, 2);
    assert_string_equal(back, "\xef\xbf\xbd\xef\xbf\xbd");
    free(back);
}

static void test_width(void **state)
{
    (void)state;
    if (!utf8_locale())
        skip();
    assert_int_equal(xt_chat_wcwidth(L'a'), 1);
    assert_int_equal(xt_chat_wcwidth((wchar_t)0x4f60), 2);  /* CJK */
    assert_int_equal(xt_chat_wcwidth((wchar_t)0x1f389), 2); /* emoji */
    assert_int_equal(xt_chat_wcwidth((wchar_t)0x0301), 0);  /* combining acute */
    assert_int_equal(xt_chat_wcwidth((wchar_t)0x1b), 1);    /* ESC: shown as U+FFFD */
    assert_int_equal(xt_chat_glyph((wchar_t)0x1b), 0xfffd);
    wchar_t s[] = {L'a', (wchar_t)0x4f60, (wchar_t)0x597d, L'b'};
    assert_int_equal(xt_chat_width(s, 4), 6);
    assert_int_equal(xt_chat_tail(s, 4, 3), 2); /* "好b" */
    assert_int_equal(xt_chat_tail(s, 4, 4), 2); /* a 2-column char does not fit in 1 */
    assert_int_equal(xt_chat_tail(s, 4, 100), 0);
}

/* Row texts of wrapping w at width. */
static size_t rows_of(const wchar_t *w, size_t width, size_t *starts, size_t max)
{
    return xt_chat_wrap(w, wcslen(w), width, starts, max);
}

static void test_wrap(void **state)
{
    (void)state;
    size_t st[16];
    if (!utf8_locale())
        skip();

    /* Fits: one row. Empty text: one row. */
    assert_int_equal(rows_of(L"hello", 10, st, 16), 1);
    assert_int_equal(rows_of(L"", 10, st, 16), 1);
    assert_int_equal(st[0], 0);

    /* Word wrap at the last blank, the blank swallowed. */
    assert_int_equal(rows_of(L"hello world foo", 11, st, 16), 2);
    assert_int_equal(st[1], 12); /* "foo" */
    assert_int_equal(rows_of(L"hello world", 8, st, 16), 2);
    assert_int_equal(st[1], 6);

    /* No blank: hard break at the width. */
    assert_int_equal(rows_of(L"abcdefghij", 4, st, 16), 3);
    assert_int_equal(st[1], 4);
    assert_int_equal(st[2], 8);

    /* Newlines always break. */
    assert_int_equal(rows_of(L"a\nb\nc", 10, st, 16), 3);
    assert_int_equal(st[1], 2);
    assert_int_equal(st[2], 4);

    /* A double-width character never straddles the edge: 3 columns hold
     * "a" + one CJK char, the second goes to the next row. */
    wchar_t cjk[] = {L'a', (wchar_t)0x4f60, (wchar_t)0x597d, 0};
    assert_int_equal(rows_of(cjk, 3, st, 16), 2);
    assert_int_equal(st[1], 2);
    /* Width 1: a wide character still gets its own row (no endless loop). */
    assert_int_equal(rows_of(cjk, 1, st, 16), 3);

    /* More rows than room: the count is still right. */
    assert_int_equal(rows_of(L"aaaaaaaaaa", 1, st, 4), 10);
    /* Width 0 is treated as 1. */
    assert_int_equal(rows_of(L"abc", 0, st, 16), 3);
}

/* Issue 13 item 8: rows after the first are `indent` columns narrower
 * (drawn under the text, not under time and sender). */
static void test_wrap_indent(void **state)
{
    (void)state;
    size_t st[16];
    if (!utf8_locale())
        skip();
    /* "12:00 bob: " is 11 columns; width 24 leaves 13 per continuation. */
    const wchar_t *t = L"12:00 bob: aaaa bbbb cccc dddd eeee ffff";
    size_t n = wcslen(t);
    assert_int_equal(xt_chat_wrap_indent(t, n, 24, 11, st, 16), 3);
    assert_int_equal(st[1], 21); /* "cccc dddd " fits in 13, "eeee" not */
    assert_int_equal(st[2], 31);
    /* Without indent, the plain wrap: 24 columns, then the rest. */
    assert_int_equal(xt_chat_wrap_indent(t, n, 24, 0, st, 16), 2);
    assert_int_equal(xt_chat_wrap(t, n, 24, st, 16), 2);
    /* A line break in the body continues under the text too. */
    const wchar_t *m = L"12:00 bob: one\nabcdefghijklmnopq";
    assert_int_equal(xt_chat_wrap_indent(m, wcslen(m), 24, 11, st, 16), 3);
    assert_int_equal(st[1], 15);
    assert_int_equal(st[2], 28); /* 13 columns, then "opq" */
    /* An indent over half the width shrinks to 2 columns (rows stay
     * usable) but never to 0: a body's line must not start where a
     * message's "HH:MM who:" does. */
    assert_int_equal(xt_chat_cont_indent(11, 24), 11);
    assert_int_equal(xt_chat_cont_indent(21, 40), 2);
    assert_int_equal(xt_chat_cont_indent(3, 4), 2);
    assert_int_equal(xt_chat_cont_indent(3, 3), 0);
    assert_int_equal(xt_chat_wrap_indent(L"abcdefghij", 10, 4, 2, st, 16), 4); /* abcd ef gh ij */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_encode),
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_wrap_indent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
