/* Unit tests: the chat's slash command parsing and Tab completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat_cmd.h"

static xt_chat_cmd_id parse(const char *line, const char **a1, const char **rest)
{
    static char buf[512];
    return xt_chat_cmd_parse(line, buf, sizeof buf, a1, rest);
}

static void test_parse(void **state)
{
    const char *a1, *rest;
    (void)state;
    assert_int_equal(parse("/msg bob@x.org  hello  there ", &a1, &rest), XT_CHAT_CMD_MSG);
    assert_string_equal(a1, "bob@x.org");
    assert_string_equal(rest, "hello  there");
    assert_int_equal(parse("/quit", &a1, &rest), XT_CHAT_CMD_QUIT);
    assert_string_equal(a1, "");
    assert_string_equal(rest, "");
    /* A unique prefix works; an ambiguous one does not. */
    assert_int_equal(parse("/q", &a1, &rest), XT_CHAT_CMD_QUIT);
    assert_int_equal(parse("/se foo", &a1, &rest), XT_CHAT_CMD_SEARCH);
    assert_int_equal(parse("/s foo", &a1, &rest), XT_CHAT_CMD_NONE); /* search, status */
    assert_int_equal(parse("/nope", &a1, &rest), XT_CHAT_CMD_NONE);
    assert_int_equal(parse("//msg", &a1, &rest), XT_CHAT_CMD_NONE);
    assert_int_equal(parse("/", &a1, &rest), XT_CHAT_CMD_NONE);
    assert_int_equal(parse("hello", &a1, &rest), XT_CHAT_CMD_NONE);
    assert_int_equal(parse("/status away gone fishing", &a1, &rest), XT_CHAT_CMD_STATUS);
    assert_string_equal(a1, "away");
    assert_string_equal(rest, "gone fishing");
    /* Too small a buffer: refused, not overrun. */
    char small[4];
    assert_int_equal(xt_chat_cmd_parse("/msg a@b", small, sizeof small, &a1, &rest),
                     XT_CHAT_CMD_NONE);
    /* Every command has a help line. */
    for (int i = 1; i < XT_CHAT_CMD_COUNT_; i++) {
        const xt_chat_cmd_info *in = xt_chat_cmd_info_of((xt_chat_cmd_id)i);
        assert_non_null(in);
        assert_true(strlen(in->help) > 0);
    }
    assert_null(xt_chat_cmd_info_of(XT_CHAT_CMD_NONE));
}

static void test_complete(void **state)
{
    char out[64];
    size_t first = 99, n;
    (void)state;
    const char *const *names = xt_chat_cmd_names(&n);
    assert_int_equal(n, XT_CHAT_CMD_COUNT_ - 1);

    assert_int_equal(xt_chat_complete("/se", names, n, out, sizeof out, &first), 1);
    assert_string_equal(out, "/search");
    assert_string_equal(names[first], "/search");
    /* Ambiguous: the common prefix. */
    assert_int_equal(xt_chat_complete("/s", names, n, out, sizeof out, &first), 3); /* search, status, save */
    assert_string_equal(out, "/s");
    assert_int_equal(xt_chat_complete("/x", names, n, out, sizeof out, &first), 0);
    assert_string_equal(out, "");

    const char *jids[] = {"bob@example.org", "bobby@example.org", "carol@example.org",
                          "b\xc3\xa9la@example.org", "b\xc3\xa8ne@example.org"};
    assert_int_equal(xt_chat_complete("bo", jids, 5, out, sizeof out, &first), 2);
    assert_string_equal(out, "bob");
    assert_int_equal(xt_chat_complete("c", jids, 5, out, sizeof out, &first), 1);
    assert_string_equal(out, "carol@example.org");
    assert_int_equal(first, 2);
    /* The common prefix never ends inside a UTF-8 sequence (é and è share
     * their first byte). */
    assert_int_equal(xt_chat_complete("b\xc3", jids, 5, out, sizeof out, &first), 2);
    assert_string_equal(out, "b\xc3");
    assert_int_equal(xt_chat_complete("", jids + 3, 2, out, sizeof out, &first), 2);
    assert_string_equal(out, "b");
    /* A small output buffer truncates. */
    assert_int_equal(xt_chat_complete("c", jids, 5, out, 6, &first), 1);
    assert_string_equal(out, "carol");
}

/* Issue 13 item 2: a roster name or an unambiguous prefix is a JID. */
static void test_resolve(void **state)
{
    static const xt_chat_name k[] = {
        {"bob@localhost", "Bob"},     {"bobby@example.org", "Robert"},
        {"carol@localhost", NULL},    {"dave@localhost", "Bobcat"},
        {"erin@example.org", "Erin"}, {"frank@example.org", "Erin"},
    };
    size_t n = sizeof k / sizeof k[0], idx[8];
    (void)state;

    /* The JID itself, any ASCII case. */
    assert_int_equal(xt_chat_resolve("carol@localhost", k, n, idx, 8), 1);
    assert_int_equal(idx[0], 2);
    assert_int_equal(xt_chat_resolve("Carol@LOCALHOST", k, n, idx, 8), 1);
    assert_int_equal(idx[0], 2);
    /* A whole name beats prefixes of others ("Bob" starts "Bobcat" and
     * "bobby@..." too). */
    assert_int_equal(xt_chat_resolve("Bob", k, n, idx, 8), 1);
    assert_int_equal(idx[0], 0);
    assert_int_equal(xt_chat_resolve("bob", k, n, idx, 8), 1);
    assert_int_equal(idx[0], 0);
    /* Unambiguous prefixes of a name or a JID. */
    assert_int_equal(xt_chat_resolve("Rob", k, n, idx, 8), 1);
    assert_int_equal(idx[0], 1);
    assert_int_equal(xt_chat_resolve("car", k, n, idx, 8), 1);
    assert_int_equal(idx[0], 2);
    assert_int_equal(xt_chat_resolve("bobc", k, n, idx, 8), 1);
    assert_int_equal(idx[0], 3);
    /* Ambiguous: every match, in order. */
    assert_int_equal(xt_chat_resolve("bo", k, n, idx, 8), 3);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 1);
    assert_int_equal(idx[2], 3);
    assert_int_equal(xt_chat_resolve("Erin", k, n, idx, 8), 2); /* two named Erin */
    /* More matches than room: the count is still right, idx not overrun. */
    assert_int_equal(xt_chat_resolve("bo", k, n, idx, 1), 3);
    /* Nothing, or an empty argument. */
    assert_int_equal(xt_chat_resolve("zed", k, n, idx, 8), 0);
    assert_int_equal(xt_chat_resolve("", k, n, idx, 8), 0);
    assert_int_equal(xt_chat_resolve("bob", k, 0, idx, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
