/* Unit tests: the file helpers of src/im/oob.c (xt_file_url_check,
 * xt_file_name) on hostile input; the parsing of XEP-0066 and XEP-0447 in
 * messages is played by tests/transcripts/oob.txt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xtalk/im.h"

static void test_url_check(void **state)
{
    (void)state;
    assert_int_equal(xt_file_url_check("https://u.example/a/b.png"), 0);
    assert_int_equal(xt_file_url_check("HTTPS://u.example/a"), 0);
    assert_int_equal(xt_file_url_check("http://u.example/a"), XT_FILE_HTTP);
    assert_int_equal(xt_file_url_check("javascript:alert(1)"), XT_FILE_UNSAFE_SCHEME);
    assert_int_equal(xt_file_url_check(" https://u.example/"),
                     XT_FILE_UNSAFE_SCHEME | XT_FILE_BAD_CHARS);
    assert_int_equal(xt_file_url_check("file:///etc/passwd"), XT_FILE_UNSAFE_SCHEME);
    assert_int_equal(xt_file_url_check("https:/x"), XT_FILE_UNSAFE_SCHEME);
    assert_int_equal(xt_file_url_check("https://u.example/\x1b[2J"), XT_FILE_BAD_CHARS);
    assert_int_equal(xt_file_url_check("https://u.example/a\nmessage forged"), XT_FILE_BAD_CHARS);
    assert_int_equal(xt_file_url_check("https://u.example/\xe2\x80\xae"
                                       "gnp.exe"),
                     XT_FILE_BAD_CHARS);
    assert_int_equal(xt_file_url_check("https://u.example/\x7f"), XT_FILE_BAD_CHARS);
    assert_true(xt_file_url_check(NULL) & XT_FILE_UNSAFE);
}

static void name_is(const char *name, const char *url, const char *want)
{
    char out[300];
    int n = xt_file_name(name, url, out, sizeof out);
    assert_true(n > 0);
    assert_string_equal(out, want);
    assert_int_equal((size_t)n, strlen(want));
}

static void test_name(void **state)
{
    (void)state;
    name_is(NULL, "https://u.example/abc/photo%20one.jpg", "photo one.jpg");
    name_is(NULL, "https://u.example/abc/r%C3%A9sum%C3%A9.pdf?x=1#top", "résumé.pdf");
    /* The sender's name wins; both are made one harmless component. */
    name_is("a.txt", "https://u.example/b.txt", "a.txt");
    name_is("", "https://u.example/b.txt", "b.txt");
    name_is("../../etc/passwd", NULL, "_._.._etc_passwd");
    name_is(NULL, "https://u.example/x/..%2F..%2F.bashrc", "_._.._.bashrc");
    name_is(NULL, "https://u.example/%2e%2e", "_.");
    name_is(NULL, "https://u.example/-rf", "_rf");
    name_is(NULL, "https://u.example/a%00b%0a%1b[2J", "a_b__[2J");
    name_is(NULL, "https://u.example/a%5Cb", "a_b");
    /* Bidi override, zero width space, C1 control, a stray byte. */
    name_is(NULL, "https://u.example/photo%E2%80%AEgnp.exe", "photo_gnp.exe");
    name_is(NULL, "https://u.example/a%E2%80%8Bb%C2%9Bc%FFd", "a_b_c_d");
    /* Nothing usable: "file". */
    name_is(NULL, "https://u.example/", "file");
    name_is(NULL, "https://u.example", "file");
    name_is(NULL, "https://u.example/dir/?q=1", "file");
    name_is(NULL, "javascript:alert(1)", "file");
    /* Malformed escapes stay as they are. */
    name_is(NULL, "https://u.example/100%25%zz%4", "100%%zz%4");
}

static void test_name_bounds(void **state)
{
    (void)state;
    /* A huge path: at most 255 bytes, and never past out. */
    size_t n = 100000;
    char *url = malloc(n + 32);
    assert_non_null(url);
    strcpy(url, "https://u.example/");
    memset(url + 18, 'a', n);
    url[18 + n] = '\0';
    char out[300];
    assert_int_equal(xt_file_name(NULL, url, out, sizeof out), 255);
    assert_int_equal(strlen(out), 255);
    char small[10];
    assert_int_equal(xt_file_name(NULL, url, small, sizeof small), 9);
    assert_string_equal(small, "aaaaaaaaa");
    free(url);
    /* Cut at a character: "ééééé" (10 bytes) into 9 bytes keeps 4. */
    assert_int_equal(
        xt_file_name("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL, small, sizeof small), 8);
    assert_int_equal(xt_file_name(NULL, NULL, out, sizeof out), XT_EINVAL);
    assert_int_equal(xt_file_name("a", NULL, out, 4), XT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_name_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
