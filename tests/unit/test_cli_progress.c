/*
 * cli/progress.c: the progress line's numbers (size units, percentage,
 * rate, ETA), its width bound, and silence when stderr is no terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "progress.h"

static void test_sizes(void **state)
{
    (void)state;
    char b[32];
    xt_cli_format_size(b, sizeof b, 0);
    assert_string_equal(b, "0 B");
    xt_cli_format_size(b, sizeof b, 999);
    assert_string_equal(b, "999 B");
    xt_cli_format_size(b, sizeof b, 1500);
    assert_string_equal(b, "1.5 kB");
    xt_cli_format_size(b, sizeof b, 10 * 1000 * 1000);
    assert_string_equal(b, "10 MB");
    xt_cli_format_size(b, sizeof b, 512000000);
    assert_string_equal(b, "512 MB");
    xt_cli_format_size(b, sizeof b, UINT64_MAX);
    assert_non_null(strstr(b, "TB"));
}

static void test_line(void **state)
{
    (void)state;
    char b[512];
    /* 4.5 MB of 10 MB in 2 s: 2.2 MB/s, 5.5 MB left: ETA 0:02. */
    xt_cli_progress_format(b, sizeof b, "cat.png", 4500000, 10000000, 2000, 100);
    assert_non_null(strstr(b, "cat.png"));
    assert_non_null(strstr(b, " 45%"));
    assert_non_null(strstr(b, "4.5 MB / 10 MB"));
    assert_non_null(strstr(b, "2.2 MB/s"));
    assert_non_null(strstr(b, "ETA 0:02"));
    assert_non_null(strstr(b, "[##"));
    /* No rate before half a second; never wider than the terminal. */
    xt_cli_progress_format(b, sizeof b, "cat.png", 100, 10000000, 100, 30);
    assert_null(strstr(b, "/s"));
    assert_true(strlen(b) < 30);
    /* Hours. */
    xt_cli_progress_format(b, sizeof b, "big.iso", 1000, 100000000, 10000, 200);
    assert_non_null(strstr(b, "ETA 277:46:30"));
    /* Done: 100%, no ETA. */
    xt_cli_progress_format(b, sizeof b, "a", 10, 10, 1000, 80);
    assert_non_null(strstr(b, "100%"));
    assert_null(strstr(b, "ETA"));
}

static void test_not_a_terminal(void **state)
{
    (void)state;
    /* Under meson the test's stderr is a pipe or a file: nothing drawn
     * (run by hand on a terminal, the bar is drawn and cleared). */
    xt_cli_progress p;
    xt_cli_progress_start(&p, "/tmp/x", 100, 0);
    if (isatty(2))
        skip();
    assert_null(p.out);
    xt_cli_progress_update(&p, 50, 1000);
    assert_int_equal(p.drawn, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_not_a_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
