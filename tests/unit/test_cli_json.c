/* Unit tests: the JSON Lines writer: escaping (quotes, backslash,
 * control characters), non-ASCII passthrough, invalid UTF-8, nesting;
 * every produced line is checked by parsing it back with jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "json.h"

/* Writes {"k": s} and returns the text (static buffer). */
static const char *one(const char *s, size_t len)
{
    static char out[1024];
    xt_cli_json j;
    xt_cli_json_init(&j);
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_strn(&j, "k", s, len);
    xt_cli_json_end(&j);
    const char *t = xt_cli_json_text(&j, NULL);
    assert_non_null(t);
    snprintf(out, sizeof out, "%s", t);
    xt_cli_json_free(&j);
    return out;
}

/* Parses text back and checks member k equals want (len bytes). */
static void roundtrip(const char *text, const char *want, size_t len)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fail_msg("not valid JSON: %s (%s)", text, e.text);
    json_t *k = json_object_get(v, "k");
    assert_non_null(k);
    assert_int_equal(json_string_length(k), len);
    assert_memory_equal(json_string_value(k), want, len);
    json_decref(v);
}

static void test_escaping(void **state)
{
    (void)state;
    assert_string_equal(one("plain", 5), "{\"k\":\"plain\"}");
    assert_string_equal(one("say \"hi\"", 8), "{\"k\":\"say \\\"hi\\\"\"}");
    assert_string_equal(one("a\\b", 3), "{\"k\":\"a\\\\b\"}");
    assert_string_equal(one("l1\nl2\r\t", 7), "{\"k\":\"l1\\nl2\\r\\t\"}");
    assert_string_equal(one("\b\f", 2), "{\"k\":\"\\b\\f\"}");
    assert_string_equal(one("\x01\x1f\x7f", 3), "{\"k\":\"\\u0001\\u001f\\u007f\"}");
    assert_string_equal(one("nul\0x", 5), "{\"k\":\"nul\\u0000x\"}");
    assert_string_equal(one("/", 1), "{\"k\":\"/\"}");

    const char *tricky = "q\" b\\ n\n c\x01 e\x1b[31m";
    roundtrip(one(tricky, strlen(tricky)), tricky, strlen(tricky));
}

/* Every byte value at every offset of a 40-byte run of plain text: the
 * vector scan (json.c plain_run: 16 bytes a step with SSE2, else 8) stops
 * for each byte the byte-wise rules escape, wherever it falls in a step
 * or in the tail after the last whole one. */
static void test_escaping_every_offset(void **state)
{
    (void)state;
    for (int c = 1; c < 256; c++) {
        for (size_t at = 0; at < 40; at++) {
            char in[40];
            memset(in, 'a', sizeof in);
            in[at] = (char)c;
            char want[64];
            int plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
            if (plain)
                snprintf(want, sizeof want, "%c", c);
            else if (c == '"' || c == '\\')
                snprintf(want, sizeof want, "\\%c", c);
            else if (c == '\n')
                snprintf(want, sizeof want, "\\n");
            else if (c == '\r')
                snprintf(want, sizeof want, "\\r");
            else if (c == '\t')
                snprintf(want, sizeof want, "\\t");
            else if (c == '\b')
                snprintf(want, sizeof want, "\\b");
            else if (c == '\f')
                snprintf(want, sizeof want, "\\f");
            else if (c < 0x80)
                snprintf(want, sizeof want, "\\u%04x", c);
            else
                snprintf(want, sizeof want, "\\ufffd"); /* a lone byte: not UTF-8 */
            char expect[192];
            const char *as = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
            snprintf(expect, sizeof expect, "{\"k\":\"%.*s%s%.*s\"}", (int)at, as, want,
                     (int)(39 - at), as);
            assert_string_equal(one(in, sizeof in), expect);
        }
    }
}

/* Strings of every length up to 40 with one byte to escape at every
 * offset: the tail after the last 16-byte step (json.c copy_tail: two
 * overlapping 8- or 4-byte words, or bytes) finds it wherever it is. */
static void test_escaping_every_length(void **state)
{
    (void)state;
    static const struct {
        char c;
        const char *esc;
    } odd[] = {{'\x01', "\\u0001"}, {'\x1f', "\\u001f"}, {'"', "\\\""},  {'\\', "\\\\"},
               {'\x7f', "\\u007f"}, {'\x80', "\\ufffd"}, {'\xff', "\\ufffd"}, {'z', "z"}};
    for (size_t len = 1; len <= 40; len++) {
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof odd / sizeof *odd; k++) {
                char in[40], expect[128];
                memset(in, 'a', sizeof in);
                in[at] = odd[k].c;
                snprintf(expect, sizeof expect, "{\"k\":\"%.*s%s%.*s\"}", (int)at,
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", odd[k].esc,
                         (int)(len - at - 1), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
                assert_string_equal(one(in, len), expect);
            }
        }
    }
}

/* The literal-key form writes what the plain one does, escaping the
 * value the same way; a NULL value omits the member. */
static void test_literal_key(void **state)
{
    (void)state;
    xt_cli_json a, b;
    xt_cli_json_init(&a);
    xt_cli_json_init(&b);
    const char *v = "tab\there \"q\" \xe2\x80\xae bidi \xff and a long plain tail of text";
    xt_cli_json_obj(&a, NULL);
    xt_cli_json_obj(&b, NULL);
    xt_cli_json_str(&a, "k", v);
    xt_cli_json_str_lit(&b, "k", v);
    xt_cli_json_str(&a, "stanza_id", "x");
    xt_cli_json_str_lit(&b, "stanza_id", "x");
    xt_cli_json_str_lit(&b, "none", NULL);
    xt_cli_json_end(&a);
    xt_cli_json_end(&b);
    assert_string_equal(xt_cli_json_text(&a, NULL), xt_cli_json_text(&b, NULL));
    xt_cli_json_free(&a);
    xt_cli_json_free(&b);
}

static void test_non_ascii(void **state)
{
    (void)state;
    /* UTF-8 passes through byte for byte (RFC 8259 §8.1). */
    const char *s = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xd7\xa9\xd7\x9c";
    char want[256];
    snprintf(want, sizeof want, "{\"k\":\"%s\"}", s);
    assert_string_equal(one(s, strlen(s)), want);
    roundtrip(one(s, strlen(s)), s, strlen(s));

    /* Invalid UTF-8 becomes U+FFFD so the line stays valid JSON. */
    assert_string_equal(one("a\xff"
                            "b",
                            3),
                        "{\"k\":\"a\\ufffdb\"}");
    assert_string_equal(one("\xc3", 1), "{\"k\":\"\\ufffd\"}");            /* truncated */
    assert_string_equal(one("\xc0\x80", 2), "{\"k\":\"\\ufffd\\ufffd\"}"); /* overlong */
    assert_string_equal(one("\xed\xa0\x80", 3),
                        "{\"k\":\"\\ufffd\\ufffd\\ufffd\"}"); /* surrogate */
    roundtrip(one("x\xfe", 2), "x\xef\xbf\xbd", 4);
}

/* What a terminal would act on or hide is escaped though JSON allows it
 * raw (issue 12: `listen --json | jq -r .body` reached the terminal):
 * C1 controls, bidi controls, format characters, U+2028/9; a surrogate
 * pair past U+FFFF. Parsed back, the value is the original text. */
static void test_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"\xc2\x9b"
         "31m\xc2\x85",
         "{\"k\":\"\\u009b31m\\u0085\"}"},
        {"exe\xe2\x80\xaetxt", "{\"k\":\"exe\\u202etxt\"}"},
        {"\xe2\x81\xa6\xe2\x81\xa9\xe2\x80\x8f", "{\"k\":\"\\u2066\\u2069\\u200f\"}"},
        {"a\xe2\x80\x8b"
         "b\xef\xbb\xbf",
         "{\"k\":\"a\\u200bb\\ufeff\"}"},
        {"\xe2\x80\xa8\xe2\x80\xa9", "{\"k\":\"\\u2028\\u2029\"}"},
        {"tag\xf3\xa0\x81\x81", "{\"k\":\"tag\\udb40\\udc41\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got = one(cases[i].in, strlen(cases[i].in));
        assert_string_equal(got, cases[i].want);
        roundtrip(got, cases[i].in, strlen(cases[i].in));
    }
}

static void test_structure(void **state)
{
    (void)state;
    xt_cli_json j;
    const char *groups[] = {"Friends", "W\xc3\xb6rk"};

    xt_cli_json_init(&j);
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_str(&j, "event", "roster");
    xt_cli_json_str(&j, "name", NULL); /* absent: omitted */
    xt_cli_json_int(&j, "priority", -5);
    xt_cli_json_bool(&j, "online", 1);
    xt_cli_json_arr(&j, "groups");
    for (size_t i = 0; i < 2; i++)
        xt_cli_json_str(&j, NULL, groups[i]);
    xt_cli_json_end(&j);
    xt_cli_json_arr(&j, "empty");
    xt_cli_json_end(&j);
    xt_cli_json_arr(&j, "resources");
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_str(&j, "jid", "a@b/c");
    xt_cli_json_end(&j);
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_end(&j);
    xt_cli_json_end(&j);
    xt_cli_json_end(&j);
    assert_string_equal(xt_cli_json_text(&j, NULL),
                        "{\"event\":\"roster\",\"priority\":-5,\"online\":true,"
                        "\"groups\":[\"Friends\",\"W\xc3\xb6rk\"],\"empty\":[],"
                        "\"resources\":[{\"jid\":\"a@b/c\"},{}]}");

    /* write_line: the text, one newline, and a reset for the next line. */
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(xt_cli_json_write_line(&j, f), 0);
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_str(&j, "k", "two");
    xt_cli_json_end(&j);
    assert_int_equal(xt_cli_json_write_line(&j, f), 0);
    rewind(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t e;
        json_t *v = json_loads(line, 0, &e);
        assert_non_null(v);
        json_decref(v);
        assert_non_null(strchr(line, '\n'));
        n++;
    }
    assert_int_equal(n, 2);
    fclose(f);

    /* Unbalanced containers are refused, not written half. */
    f = tmpfile();
    xt_cli_json_obj(&j, NULL);
    assert_int_equal(xt_cli_json_write_line(&j, f), -1);
    assert_int_equal(ftell(f), 0);
    xt_cli_json_end(&j); /* nothing open after the reset */
    assert_null(xt_cli_json_text(&j, NULL));
    xt_cli_json_reset(&j);
    /* Two top-level values on one line are refused. */
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_end(&j);
    xt_cli_json_obj(&j, NULL);
    assert_null(xt_cli_json_text(&j, NULL));
    fclose(f);
    xt_cli_json_free(&j);
}

static void test_long(void **state)
{
    (void)state;
    /* Growth past the initial buffer, with escapes at the boundaries. */
    size_t n = 100000;
    char *s = malloc(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(i % 3 == 0 ? '"' : i % 3 == 1 ? 'x' : '\n');
    xt_cli_json j;
    xt_cli_json_init(&j);
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_strn(&j, "k", s, n);
    xt_cli_json_end(&j);
    size_t len;
    const char *t = xt_cli_json_text(&j, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    roundtrip(t, s, n);
    xt_cli_json_free(&j);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping), cmocka_unit_test(test_escaping_every_offset),
        cmocka_unit_test(test_non_ascii), cmocka_unit_test(test_literal_key),
        cmocka_unit_test(test_escaping_every_length),
        cmocka_unit_test(test_hostile),  cmocka_unit_test(test_structure),
        cmocka_unit_test(test_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
