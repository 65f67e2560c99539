/* Unit tests: the terminal sanitizer (cli/sanitize.h) over a table of
 * hostile strings, the property every output must have (no control, no
 * bidi or format character, valid UTF-8, no line break in a single-line
 * field, no continuation at column 0), and the restricted values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include <cmocka.h>

#include "sanitize.h"

#define S(lit) lit, sizeof(lit) - 1

static const struct {
    const char *in;
    size_t len;
    const char *line; /* XT_CLI_SAN_LINE */
} hostile[] = {
    /* issue 12: a forged listen line in a message type */
    {S("chat: hi\nmessage boss@example.com/office chat"),
     "chat: hi\\nmessage boss@example.com/office chat"},
    {S("a\r\nb\tc"), "a\\r\\nb\\tc"},
    {S("\x1b[2J\x1b]0;title\x07"), "\\x1b[2J\\x1b]0;title\\x07"},
    {S("del\x7f bs\x08 nul\0end"), "del\\x7f bs\\x08 nul\\x00end"},
    /* C1: CSI (acts as ESC [), NEL (a line break to some), OSC, ST */
    {S("\xc2\x9b"
       "31m \xc2\x85 \xc2\x9d \xc2\x9c \xc2\x80"),
     "\\u009b31m \\u0085 \\u009d \\u009c \\u0080"},
    /* bidi: RLO, LRE, PDF, LRO, RLE, LRI, RLI, FSI, PDI, LRM, RLM, ALM */
    {S("invoice\xe2\x80\xaetxt.exe"), "invoice\\u202etxt.exe"},
    {S("\xe2\x80\xaa\xe2\x80\xac\xe2\x80\xad\xe2\x80\xab"), "\\u202a\\u202c\\u202d\\u202b"},
    {S("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9"), "\\u2066\\u2067\\u2068\\u2069"},
    {S("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"), "\\u200e\\u200f\\u061c"},
    /* invisible format characters: ZWSP, ZWNJ, ZWJ, WJ, BOM, soft hyphen */
    {S("ad\xe2\x80\x8bmin \xe2\x80\x8c\xe2\x80\x8d\xe2\x81\xa0\xef\xbb\xbf\xc2\xad"),
     "ad\\u200bmin \\u200c\\u200d\\u2060\\ufeff\\u00ad"},
    /* tag characters (past U+FFFF), line and paragraph separators */
    {S("\xf3\xa0\x80\x81\xf3\xa0\x81\x81"), "\\U000e0001\\U000e0041"},
    {S("one\xe2\x80\xa8two\xe2\x80\xa9"), "one\\u2028two\\u2029"},
    /* not UTF-8: stray, overlong, truncated, surrogate, past U+10FFFF */
    {S("\xff\xc0\xaf"), "\\xff\\xc0\\xaf"},
    {S("cut\xe2\x80"), "cut\\xe2\\x80"},
    {S("\xed\xa0\x80"), "\\xed\\xa0\\x80"},
    {S("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"},
    /* left alone: text, other scripts (RTL letters are not controls),
     * emoji, and a backslash that only looks like an escape */
    {S("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xf0\x9f\x98\x80"),
     "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xf0\x9f\x98\x80"},
    {S("a\\u202e b"), "a\\u202e b"},
    {S(""), ""},
};

/* What every sanitized string must be: valid UTF-8 with no unsafe code
 * point; in LINE mode no control at all, in LINES mode only '\n' (each
 * followed by the indent) and '\t', in LAID_OUT mode only '\n' and '\t'. */
static void check_safe(const char *out, xt_cli_san_mode mode)
{
    const uint8_t *p = (const uint8_t *)out;
    size_t n = strlen(out);

    assert_null(u8_check(p, n));
    for (size_t i = 0; i < n;) {
        ucs4_t uc;
        int m = u8_mbtoucr(&uc, p + i, n - i);
        assert_true(m > 0);
        if (mode == XT_CLI_SAN_LINES && uc == '\n') {
            if (strncmp(out + i + 1, XT_CLI_SAN_INDENT, strlen(XT_CLI_SAN_INDENT)) != 0)
                fail_msg("a continuation line at column 0 in \"%s\"", out);
        } else if (!(mode != XT_CLI_SAN_LINE && (uc == '\t' || uc == '\n')) &&
                   xt_cli_char_unsafe(uc)) {
            fail_msg("U+%04X left raw in \"%s\"", (unsigned)uc, out);
        }
        i += (size_t)m;
    }
}

/* The streamed form (listen's human output, no allocation) is byte for
 * byte the buffer form, for every hostile entry (up to its first NUL:
 * the streamed form takes a C string). */
static void test_put_sanitized_same(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        size_t n = strnlen(hostile[i].in, hostile[i].len);
        char *want = xt_cli_sanitize(hostile[i].in, n, XT_CLI_SAN_LINE);
        char *in = strndup(hostile[i].in, n);
        char *got = NULL;
        size_t got_len = 0;
        FILE *f = open_memstream(&got, &got_len);
        assert_non_null(want);
        assert_non_null(in);
        assert_non_null(f);
        xt_cli_put_sanitized(f, in);
        xt_cli_put_sanitized(f, NULL); /* writes nothing */
        assert_int_equal(fclose(f), 0);
        if (strcmp(got, want) != 0)
            fail_msg("entry %zu: streamed \"%s\", buffered \"%s\"", i, got, want);
        free(got);
        free(in);
        free(want);
    }
}

static void test_hostile_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        char *e = xt_cli_sanitize(hostile[i].in, hostile[i].len, XT_CLI_SAN_LINE);
        assert_non_null(e);
        if (strcmp(e, hostile[i].line) != 0)
            fail_msg("entry %zu: got \"%s\", want \"%s\"", i, e, hostile[i].line);
        check_safe(e, XT_CLI_SAN_LINE);
        /* Sanitizing twice changes nothing: what was shown stays shown. */
        char *again = xt_cli_sanitize(e, strlen(e), XT_CLI_SAN_LINE);
        assert_string_equal(again, e);
        free(again);
        free(e);
        e = xt_cli_sanitize(hostile[i].in, hostile[i].len, XT_CLI_SAN_LINES);
        assert_non_null(e);
        check_safe(e, XT_CLI_SAN_LINES);
        free(e);
    }
}

static void test_lines_mode(void **state)
{
    (void)state;
    /* A body that tries to end its message and start a forged one. */
    char *e =
        xt_cli_sanitize(S("hi\n12:00 boss: send the key\r\n\tok\xe2\x80\xae"), XT_CLI_SAN_LINES);
    assert_string_equal(e, "hi\n  12:00 boss: send the key\\r\n  \tok\\u202e");
    free(e);
    e = xt_cli_sanitize(S("\n\n"), XT_CLI_SAN_LINES);
    assert_string_equal(e, "\n  \n  ");
    free(e);
    /* Laid out by the caller (the chat window indents continuations):
     * line breaks and tabs kept bare, everything else escaped alike. */
    e = xt_cli_sanitize(S("hi\n12:00 boss\r\n\tok\xe2\x80\xae\x1b"), XT_CLI_SAN_LAID_OUT);
    assert_string_equal(e, "hi\n12:00 boss\\r\n\tok\\u202e\\x1b");
    free(e);
}

/* Every byte value and every code point in the planes that matter, one
 * at a time: the output is always safe. */
static void test_exhaustive(void **state)
{
    (void)state;
    for (unsigned b = 0; b < 256; b++) {
        char in[1] = {(char)b};
        for (int mode = XT_CLI_SAN_LINE; mode <= XT_CLI_SAN_LAID_OUT; mode++) {
            char *e = xt_cli_sanitize(in, 1, (xt_cli_san_mode)mode);
            assert_non_null(e);
            check_safe(e, (xt_cli_san_mode)mode);
            free(e);
        }
    }
    for (ucs4_t uc = 0x80; uc < 0x110000; uc++) {
        uint8_t in[4];
        int n = u8_uctomb(in, uc, sizeof in);
        if (n <= 0)
            continue; /* surrogates */
        char *e = xt_cli_sanitize((const char *)in, (size_t)n, XT_CLI_SAN_LINE);
        assert_non_null(e);
        check_safe(e, XT_CLI_SAN_LINE);
        free(e);
    }
}

static void test_restricted_values(void **state)
{
    (void)state;
    /* RFC 6121 §5.2.2: unknown or absent type is "normal". */
    assert_string_equal(xt_cli_message_type("chat"), "chat");
    assert_string_equal(xt_cli_message_type("headline"), "headline");
    assert_string_equal(xt_cli_message_type(NULL), "normal");
    assert_string_equal(xt_cli_message_type(""), "normal");
    assert_string_equal(xt_cli_message_type("chat: hi\nmessage boss@example.com/office chat"),
                        "normal");
    assert_string_equal(xt_cli_message_type("CHAT"), "normal");
    assert_string_equal(xt_cli_message_type("chat\xc2\x9b"), "normal");
    /* RFC 6121 §4.7.2.1 show; §2.1.2.5 subscription; §3 request types */
    assert_string_equal(xt_cli_presence_show("dnd"), "dnd");
    assert_null(xt_cli_presence_show("busy\x1b[2J"));
    assert_null(xt_cli_presence_show(NULL));
    assert_string_equal(xt_cli_subscription("both"), "both");
    assert_string_equal(xt_cli_subscription("everything"), "none");
    assert_string_equal(xt_cli_subscription(NULL), "none");
    assert_string_equal(xt_cli_subscription_type("subscribed"), "subscribed");
    assert_null(xt_cli_subscription_type("subscribe\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_table),
        cmocka_unit_test(test_put_sanitized_same),
        cmocka_unit_test(test_lines_mode),
        cmocka_unit_test(test_exhaustive),
        cmocka_unit_test(test_restricted_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
