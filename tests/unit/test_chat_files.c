/* Unit tests: chat's path arguments (/upload PATH, /save N PATH) and their
 * Tab completion, names with blanks, quotes and backslashes included: what
 * the completion writes, the argument parser reads back as the name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "chat_files.h"

static char dir[256];

static void touch(const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/xt_chat_files_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    touch("my file.txt");
    touch("it's \"quoted\".txt");
    touch("back\\slash");
    char p[512];
    snprintf(p, sizeof p, "%s/my folder", dir);
    return mkdir(p, 0700);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static size_t complete(const char *word, char ***out)
{
    char w[512];
    snprintf(w, sizeof w, "%s/%s", dir, word);
    return xt_chat_files_complete_path(w, out);
}

static void free_all(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Completion's word read back by the /upload parser names the file. */
static void assert_round_trip(const char *cand, const char *name)
{
    char path[4096], want[512];
    char typed[4200];
    snprintf(typed, sizeof typed, "%s ", cand); /* completion's blank after it */
    assert_int_equal(xt_chat_files_path_arg(typed, path, sizeof path), 0);
    snprintf(want, sizeof want, "%s/%s", dir, name);
    assert_string_equal(path, want);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
}

static void test_complete_blanks(void **state)
{
    (void)state;
    char **v;
    char want[512];
    /* Two names start "my ": both, escaped, the folder with its '/'. */
    size_t n = complete("my", &v);
    assert_int_equal(n, 2);
    snprintf(want, sizeof want, "%s/my\\ file.txt", dir);
    assert_string_equal(v[0], want);
    snprintf(want, sizeof want, "%s/my\\ folder/", dir);
    assert_string_equal(v[1], want);
    assert_round_trip(v[0], "my file.txt");
    free_all(v, n);
    /* The word as completion left it (escaped blank) goes on completing. */
    n = complete("my\\ fi", &v);
    assert_int_equal(n, 1);
    snprintf(want, sizeof want, "%s/my\\ file.txt", dir);
    assert_string_equal(v[0], want);
    free_all(v, n);
    /* Quotes and backslashes are escaped too, and read back. */
    n = complete("it", &v);
    assert_int_equal(n, 1);
    snprintf(want, sizeof want, "%s/it\\'s\\ \\\"quoted\\\".txt", dir);
    assert_string_equal(v[0], want);
    assert_round_trip(v[0], "it's \"quoted\".txt");
    free_all(v, n);
    n = complete("back", &v);
    assert_int_equal(n, 1);
    assert_round_trip(v[0], "back\\slash");
    free_all(v, n);
    assert_int_equal(complete("nothing", &v), 0);
    assert_null(v);
}

static void test_path_arg(void **state)
{
    (void)state;
    char out[64];
    /* Typed by hand, blanks unescaped: the whole argument is the path. */
    assert_int_equal(xt_chat_files_path_arg("a plain name.txt", out, sizeof out), 0);
    assert_string_equal(out, "a plain name.txt");
    /* Trailing blanks are completion's, unless escaped. */
    assert_int_equal(xt_chat_files_path_arg("x.txt  ", out, sizeof out), 0);
    assert_string_equal(out, "x.txt");
    assert_int_equal(xt_chat_files_path_arg("x\\ ", out, sizeof out), 0);
    assert_string_equal(out, "x ");
    /* A backslash before anything else is a character of the name. */
    assert_int_equal(xt_chat_files_path_arg("a\\b", out, sizeof out), 0);
    assert_string_equal(out, "a\\b");
    assert_int_equal(xt_chat_files_path_arg("a\\\\b", out, sizeof out), 0);
    assert_string_equal(out, "a\\b");
    setenv("HOME", "/home/h", 1);
    assert_int_equal(xt_chat_files_path_arg("~/my\\ doc", out, sizeof out), 0);
    assert_string_equal(out, "/home/h/my doc");
    /* Too long for the buffer: refused, not cut. */
    assert_int_equal(xt_chat_files_path_arg("0123456789", out, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_complete_blanks, setup, teardown),
        cmocka_unit_test(test_path_arg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
