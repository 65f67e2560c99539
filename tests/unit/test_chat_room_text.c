/* Unit tests: room windows' pure parts (chat_room_text.h): nick
 * completion, the occupant list, the layout, unread labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat_room_text.h"

static void test_nick_complete(void **state)
{
    const char *const nicks[] = {"bob", "Alice", "alfred", "al", "carol", "ALBERT"};
    const size_t n = sizeof nicks / sizeof nicks[0];
    const char *nick;
    (void)state;

    /* Case-insensitive order, whatever the table's order. */
    assert_int_equal(xt_chat_nick_complete("al", nicks, n, 0, &nick), 4);
    assert_string_equal(nick, "al");
    assert_int_equal(xt_chat_nick_complete("al", nicks, n, 1, &nick), 4);
    assert_string_equal(nick, "ALBERT");
    assert_int_equal(xt_chat_nick_complete("al", nicks, n, 2, &nick), 4);
    assert_string_equal(nick, "alfred");
    assert_int_equal(xt_chat_nick_complete("al", nicks, n, 3, &nick), 4);
    assert_string_equal(nick, "Alice");
    /* The cycle wraps round. */
    assert_int_equal(xt_chat_nick_complete("al", nicks, n, 4, &nick), 4);
    assert_string_equal(nick, "al");
    /* Case ignored in the prefix too. */
    assert_int_equal(xt_chat_nick_complete("CA", nicks, n, 0, &nick), 1);
    assert_string_equal(nick, "carol");
    /* None: NULL. An empty prefix: everyone. */
    assert_int_equal(xt_chat_nick_complete("zed", nicks, n, 0, &nick), 0);
    assert_null(nick);
    assert_int_equal(xt_chat_nick_complete("", nicks, n, 0, &nick), 6);
    assert_string_equal(nick, "al");
    assert_int_equal(xt_chat_nick_complete("x", NULL, 0, 0, &nick), 0);
    /* Ties in case: byte order decides, so the cycle is stable. */
    const char *const twins[] = {"eve", "Eve", "EVE"};
    assert_int_equal(xt_chat_nick_complete("e", twins, 3, 0, &nick), 3);
    assert_string_equal(nick, "EVE");
    assert_int_equal(xt_chat_nick_complete("e", twins, 3, 2, &nick), 3);
    assert_string_equal(nick, "eve");
}

static void test_nick_insertion(void **state)
{
    char out[16];
    (void)state;
    assert_int_equal(xt_chat_nick_insertion("alice", 1, out, sizeof out), 7);
    assert_string_equal(out, "alice: ");
    assert_int_equal(xt_chat_nick_insertion("alice", 0, out, sizeof out), 6);
    assert_string_equal(out, "alice ");
    /* Cut on a character, never inside one. */
    char small[4];
    assert_int_equal(xt_chat_nick_insertion("ab\xc3\xa9z", 1, small, sizeof small), 2);
    assert_string_equal(small, "ab");
    assert_int_equal(xt_chat_nick_insertion("ab", 1, small, sizeof small), 3);
    assert_string_equal(small, "ab:");
    assert_int_equal(xt_chat_nick_insertion("x", 1, out, 0), 0);
}

static void test_occupants(void **state)
{
    char m[3];
    (void)state;
    assert_true(xt_chat_role_rank("moderator") < xt_chat_role_rank("participant"));
    assert_true(xt_chat_role_rank("participant") < xt_chat_role_rank("visitor"));
    assert_true(xt_chat_role_rank("visitor") < xt_chat_role_rank("none"));
    assert_int_equal(xt_chat_role_rank(NULL), xt_chat_role_rank("bogus"));
    /* Role first, then the nick without case. */
    assert_true(xt_chat_occ_cmp("moderator", "zed", "participant", "amy") < 0);
    assert_true(xt_chat_occ_cmp("participant", "amy", "participant", "Bob") < 0);
    assert_true(xt_chat_occ_cmp("visitor", "amy", "participant", "zed") > 0);
    assert_int_equal(xt_chat_occ_cmp("participant", "amy", "participant", "amy"), 0);
    xt_chat_occ_marker("moderator", "owner", m);
    assert_string_equal(m, "@~");
    xt_chat_occ_marker("participant", "member", m);
    assert_string_equal(m, " +");
    xt_chat_occ_marker("visitor", "none", m);
    assert_string_equal(m, "- ");
    xt_chat_occ_marker("moderator", "admin", m);
    assert_string_equal(m, "@&");
    xt_chat_occ_marker(NULL, NULL, m);
    assert_string_equal(m, "  ");
}

static void test_layout(void **state)
{
    xt_chat_layout l;
    (void)state;
    /* Without the occupant pane: the roster rule of old. */
    xt_chat_layout_of(80, 0, &l);
    assert_int_equal(l.roster_w, 20);
    assert_int_equal(l.conv_x, 20);
    assert_int_equal(l.conv_w, 60);
    assert_int_equal(l.occ_w, 0);
    xt_chat_layout_of(200, 0, &l);
    assert_int_equal(l.roster_w, 32);
    xt_chat_layout_of(40, 0, &l);
    assert_int_equal(l.roster_w, 0);
    assert_int_equal(l.conv_w, 40);
    /* With it: a fifth, 12..24, at the right edge. */
    xt_chat_layout_of(80, 1, &l);
    assert_int_equal(l.occ_w, 16);
    assert_int_equal(l.occ_x, 64);
    assert_int_equal(l.conv_x, 20);
    assert_int_equal(l.conv_w, 44);
    xt_chat_layout_of(200, 1, &l);
    assert_int_equal(l.occ_w, 24);
    assert_int_equal(l.conv_x + l.conv_w, l.occ_x);
    /* Narrow: the pane gives way before the conversation gets small. */
    xt_chat_layout_of(59, 1, &l);
    assert_int_equal(l.occ_w, 0);
    assert_int_equal(l.conv_w, 59 - l.roster_w);
    for (int cols = 20; cols < 300; cols++) {
        xt_chat_layout_of(cols, 1, &l);
        assert_true(l.conv_w >= 20);
        assert_int_equal(l.roster_w + l.conv_w + l.occ_w, cols);
    }
}

static void test_unread_label(void **state)
{
    char out[32];
    (void)state;
    assert_int_equal(xt_chat_unread_label(0, 0, out, sizeof out), 0);
    assert_string_equal(out, "");
    xt_chat_unread_label(5, 0, out, sizeof out);
    assert_string_equal(out, "(5)");
    xt_chat_unread_label(5, 2, out, sizeof out);
    assert_string_equal(out, "(5 @2)");
    char small[4];
    assert_int_equal(xt_chat_unread_label(123, 0, small, sizeof small), 3);
    assert_string_equal(small, "(12");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nick_complete), cmocka_unit_test(test_nick_insertion),
        cmocka_unit_test(test_occupants),     cmocka_unit_test(test_layout),
        cmocka_unit_test(test_unread_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
