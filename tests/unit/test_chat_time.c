/* Unit tests: the chat's time stamps and day separators (TZ=UTC, a fixed
 * "now"; issue 13 item 6). */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "chat.h"
#include "chat_time.h"
#include "chat_text.h"

/* 2026-12-01 22:30:15 UTC, a Tuesday. */
#define NOW_MS 1796164215000LL
#define DAY_MS 86400000LL

static void test_stamp_short(void **state)
{
    (void)state;
    char b[XT_CHAT_STAMP_MAX];
    /* Today: the time alone, even just after midnight. */
    assert_string_equal(xt_chat_time_stamp(NOW_MS, NOW_MS, XT_CHAT_TIME_SHORT, b, sizeof b),
                        "22:30");
    assert_string_equal(xt_chat_time_stamp(NOW_MS - 22 * 3600000LL - 30 * 60000LL, NOW_MS,
                                           XT_CHAT_TIME_SHORT, b, sizeof b),
                        "00:00");
    /* One minute before today began: yesterday, with its date. */
    assert_string_equal(xt_chat_time_stamp(NOW_MS - 22 * 3600000LL - 31 * 60000LL, NOW_MS,
                                           XT_CHAT_TIME_SHORT, b, sizeof b),
                        "2026-11-30 23:59");
    /* The same day of another year is not today. */
    assert_string_equal(
        xt_chat_time_stamp(NOW_MS - 365 * DAY_MS, NOW_MS, XT_CHAT_TIME_SHORT, b, sizeof b),
        "2025-12-01 22:30");
    /* A clock that is behind: a message "from tomorrow" has its date. */
    assert_string_equal(
        xt_chat_time_stamp(NOW_MS + DAY_MS, NOW_MS, XT_CHAT_TIME_SHORT, b, sizeof b),
        "2026-12-02 22:30");
}

static void test_stamp_full(void **state)
{
    (void)state;
    char b[XT_CHAT_STAMP_MAX];
    assert_string_equal(xt_chat_time_stamp(NOW_MS, NOW_MS, XT_CHAT_TIME_FULL, b, sizeof b),
                        "2026-12-01 22:30:15");
    assert_string_equal(
        xt_chat_time_stamp(NOW_MS - 3 * DAY_MS + 999, NOW_MS, XT_CHAT_TIME_FULL, b, sizeof b),
        "2026-11-28 22:30:15");
    /* Before 1970: floor, not truncation, of the milliseconds. */
    assert_string_equal(xt_chat_time_stamp(-1, NOW_MS, XT_CHAT_TIME_FULL, b, sizeof b),
                        "1969-12-31 23:59:59");
    /* Too small a buffer: cut, never overrun. */
    char tiny[4];
    xt_chat_time_stamp(NOW_MS, NOW_MS, XT_CHAT_TIME_FULL, tiny, sizeof tiny);
    assert_true(strlen(tiny) < sizeof tiny);
}

static void test_day(void **state)
{
    (void)state;
    char b[XT_CHAT_DAY_LABEL_MAX];
    assert_int_equal(xt_chat_day(NOW_MS), 20261201);
    assert_int_equal(xt_chat_day(NOW_MS - 22 * 3600000LL - 30 * 60000LL), 20261201);
    assert_int_equal(xt_chat_day(NOW_MS - 22 * 3600000LL - 31 * 60000LL), 20261130);
    assert_string_equal(xt_chat_day_label(NOW_MS, b, sizeof b), "--- Tuesday 2026-12-01 ---");
    assert_string_equal(xt_chat_day_label(NOW_MS - DAY_MS, b, sizeof b),
                        "--- Monday 2026-11-30 ---");
}

static char *line_text(const xt_chat_win *w, size_t i)
{
    return xt_chat_utf8_encode(w->lines[i].text, w->lines[i].len);
}

/* A conversation window puts a separator where the day changes, and only
 * there; the console has none. */
static void test_window_separators(void **state)
{
    (void)state;
    char peer[] = "bob@localhost";
    xt_chat_win w = {.peer = peer};
    int64_t d1 = NOW_MS - 2 * DAY_MS, d2 = NOW_MS - DAY_MS;
    assert_non_null(xt_chat_win_add(&w, XT_CHAT_LINE_IN, d1, "bob", "one", 1));
    assert_non_null(xt_chat_win_add(&w, XT_CHAT_LINE_OUT, d1 + 60000, "me", "two", 2));
    assert_non_null(xt_chat_win_add(&w, XT_CHAT_LINE_IN, d2, "bob", "three", 3));
    assert_non_null(xt_chat_win_add(&w, XT_CHAT_LINE_IN, d2 + 1000, "bob", "four", 4));
    assert_int_equal(w.nlines, 5);
    char *t = line_text(&w, 2);
    assert_string_equal(t, "--- Monday 2026-11-30 ---");
    free(t);
    assert_int_equal(w.lines[2].kind, XT_CHAT_LINE_MARK);
    t = line_text(&w, 0);
    assert_string_equal(t, "2026-11-29 22:30 bob: one"); /* not today: dated */
    free(t);
    t = line_text(&w, 3);
    assert_string_equal(t, "2026-11-30 22:30 bob: three");
    free(t);
    /* Full stamps (search results) in the console: no separators. */
    xt_chat_win con = {0};
    assert_non_null(xt_chat_win_add_full(&con, XT_CHAT_LINE_IN, d1, "bob", "one", 0));
    assert_non_null(xt_chat_win_add_full(&con, XT_CHAT_LINE_IN, d2, "bob", "x", 0));
    assert_int_equal(con.nlines, 2);
    t = line_text(&con, 1);
    assert_string_equal(t, "2026-11-30 22:30:15 bob: x");
    free(t);
    for (size_t i = 0; i < w.nlines; i++)
        free(w.lines[i].text);
    free(w.lines);
    for (size_t i = 0; i < con.nlines; i++)
        free(con.lines[i].text);
    free(con.lines);
}

int main(void)
{
    /* The fixed clock's zone and the C locale's weekday names. */
    setenv("TZ", "UTC", 1);
    tzset();
    setlocale(LC_ALL, "C");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp_short),
        cmocka_unit_test(test_stamp_full),
        cmocka_unit_test(test_day),
        cmocka_unit_test(test_window_separators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
