/* Unit tests: UTF-8 and XML character validation of outgoing text (the
 * escaping of incoming text is test_cli_sanitize.c's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void ok(const char *s, size_t len)
{
    const char *why = NULL;
    size_t off = 99;
    if (xt_cli_text_check(s, len, &why, &off) != 0)
        fail_msg("rejected (%s at %zu)", why, off);
}

static void bad(const char *s, size_t len, size_t want_off, const char *want_why)
{
    const char *why = NULL;
    size_t off = 99;
    assert_int_equal(xt_cli_text_check(s, len, &why, &off), -1);
    assert_int_equal(off, want_off);
    assert_non_null(why);
    if (!strstr(why, want_why))
        fail_msg("reason '%s' does not contain '%s'", why, want_why);
}

static void test_valid(void **state)
{
    (void)state;
    ok("", 0);
    ok("hello", 5);
    ok("tab\tnew\nline\r\n", 14);
    ok("caf\xc3\xa9", 5);              /* U+00E9 */
    ok("\xe6\x97\xa5\xe6\x9c\xac", 6); /* CJK */
    ok("\xf0\x9f\x98\x80", 4);         /* U+1F600 */
    ok("\xf4\x8f\xbf\xbf", 4);         /* U+10FFFF, the last code point */
    ok("\xef\xbf\xbd", 3);             /* U+FFFD */
    ok("\xc2\x85", 2);                 /* U+0085 is an XML Char */
    ok("\x7f", 1);                     /* DEL is an XML 1.0 Char */
    assert_int_equal(xt_cli_text_ok("plain \xc3\xa9"), 0);
}

static void test_invalid(void **state)
{
    (void)state;
    bad("a\xff", 2, 1, "invalid UTF-8");
    bad("ab\x80", 3, 2, "invalid UTF-8");           /* lone continuation */
    bad("\xc3", 1, 0, "invalid UTF-8");             /* truncated */
    bad("x\xe6\x97", 3, 1, "invalid UTF-8");        /* truncated 3-byte */
    bad("\xc0\x80", 2, 0, "invalid UTF-8");         /* overlong NUL */
    bad("\xe0\x80\xaf", 3, 0, "invalid UTF-8");     /* overlong '/' */
    bad("\xed\xa0\x80", 3, 0, "invalid UTF-8");     /* surrogate U+D800 */
    bad("\xf4\x90\x80\x80", 4, 0, "invalid UTF-8"); /* past U+10FFFF */
    bad("\xf8\x88\x80\x80\x80", 5, 0, "invalid UTF-8");
    bad("ok\0no", 5, 2, "NUL");
    bad("bell\x07", 5, 4, "control character");
    bad("\x1b[31m", 5, 0, "control character");
    bad("caf\xc3\xa9\x0b", 6, 5, "control character");
    bad("\xef\xbf\xbe", 3, 0, "non-character");  /* U+FFFE */
    bad("a\xef\xbf\xbf", 4, 1, "non-character"); /* U+FFFF */
    assert_int_equal(xt_cli_text_ok("bad \xff"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
