/* Unit tests: the growable buffer and XML escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/mem.h"

static void test_append_consume(void **state)
{
    (void)state;
    xt_buf b;
    xt_buf_init(&b, NULL);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(xt_buf_append_str(&b, "abc"), 0);
    assert_int_equal(xt_buf_size(&b), 3000);
    xt_buf_consume(&b, 2999);
    assert_int_equal(xt_buf_size(&b), 1);
    assert_memory_equal(xt_buf_head(&b), "c", 1);
    xt_buf_consume(&b, 10);
    assert_int_equal(xt_buf_size(&b), 0);
    xt_buf_free(&b);
}

static void test_escape(void **state)
{
    (void)state;
    xt_buf b;
    xt_buf_init(&b, NULL);
    const char *in = "a<b>&\"c'";
    assert_int_equal(xt_buf_append_escaped(&b, in, strlen(in), 0), 0);
    assert_string_equal(xt_buf_cstr(&b), "a&lt;b&gt;&amp;\"c'");
    xt_buf_clear(&b);
    assert_int_equal(xt_buf_append_escaped(&b, in, strlen(in), 1), 0);
    assert_string_equal(xt_buf_cstr(&b), "a&lt;b&gt;&amp;&quot;c&apos;");
    /* What a parser would normalise away becomes a character reference:
     * CR everywhere, TAB and LF inside attribute values. */
    xt_buf_clear(&b);
    assert_int_equal(xt_buf_append_escaped(&b, "a\rb\nc\td", 7, 0), 0);
    assert_string_equal(xt_buf_cstr(&b), "a&#13;b\nc\td");
    xt_buf_clear(&b);
    assert_int_equal(xt_buf_append_escaped(&b, "a\rb\nc\td", 7, 1), 0);
    assert_string_equal(xt_buf_cstr(&b), "a&#13;b&#10;c&#9;d");
    xt_buf_free(&b);
}

static void test_limit(void **state)
{
    (void)state;
    xt_buf b;
    xt_buf_init(&b, NULL);
    b.limit = 10;
    assert_int_equal(xt_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(xt_buf_append(&b, "x", 1), XT_ETOOBIG);
    xt_buf_consume(&b, 5);
    assert_int_equal(xt_buf_append(&b, "xyz", 3), 0);
    assert_int_equal(xt_buf_size(&b), 8);
    xt_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_consume),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
