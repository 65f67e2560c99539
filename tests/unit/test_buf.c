/* Unit tests: the growable buffer and XML escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/mem.h"
#include "failmem.h"

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
    /* truncate: relative to the unconsumed head, never grows. */
    assert_int_equal(xt_buf_append_str(&b, "xyz"), 0);
    xt_buf_consume(&b, 1);
    assert_int_equal(xt_buf_append_str(&b, "123"), 0);
    xt_buf_truncate(&b, 2);
    assert_int_equal(xt_buf_size(&b), 2);
    assert_memory_equal(xt_buf_head(&b), "yz", 2);
    xt_buf_truncate(&b, 5);
    assert_int_equal(xt_buf_size(&b), 2);
    /* truncate_wipe zeroes what it cuts off (a secret's tail). */
    assert_int_equal(xt_buf_append_str(&b, "pw"), 0);
    const uint8_t *tail = xt_buf_head(&b) + 2;
    xt_buf_truncate_wipe(&b, 2);
    assert_int_equal(xt_buf_size(&b), 2);
    assert_int_equal(tail[0], 0);
    assert_int_equal(tail[1], 0);
    xt_buf_consume(&b, 2);
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

/* The plain byte-at-a-time escaping rules, as the reference. */
static void ref_escape(char *out, const unsigned char *s, size_t n, int attr)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *r = NULL;
        switch (s[i]) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '\r': r = "&#13;"; break;
        case '"': r = attr ? "&quot;" : NULL; break;
        case '\'': r = attr ? "&apos;" : NULL; break;
        case '\n': r = attr ? "&#10;" : NULL; break;
        case '\t': r = attr ? "&#9;" : NULL; break;
        }
        if (r) {
            memcpy(out + o, r, strlen(r));
            o += strlen(r);
        } else {
            out[o++] = (char)s[i];
        }
    }
    out[o] = '\0';
}

/* The word-at-a-time skip never misses a special byte: every byte value
 * at every position of strings of 1..24 bytes (across the 8-byte words
 * and the tail), then pseudo-random strings rich in specials. */
static void test_escape_words(void **state)
{
    (void)state;
    unsigned char in[64];
    char want[64 * 6 + 1];
    xt_buf b;
    xt_buf_init(&b, NULL);
    for (int attr = 0; attr < 2; attr++) {
        for (size_t n = 1; n <= 24; n++) {
            for (size_t pos = 0; pos < n; pos++) {
                for (int v = 1; v < 256; v++) {
                    memset(in, 'a', n);
                    in[pos] = (unsigned char)v;
                    ref_escape(want, in, n, attr);
                    xt_buf_clear(&b);
                    assert_int_equal(xt_buf_append_escaped(&b, (const char *)in, n, attr), 0);
                    assert_string_equal(xt_buf_cstr(&b), want);
                }
            }
        }
        static const char alpha[] = "ab &<>\"'\r\n\t#%=?\x80\xc3\xa9\x08\x0f.";
        uint32_t x = 7;
        for (int k = 0; k < 20000; k++) {
            x = x * 1103515245u + 12345u;
            size_t n = (x >> 16) % 40;
            for (size_t i = 0; i < n; i++) {
                x = x * 1103515245u + 12345u;
                in[i] = (unsigned char)alpha[(x >> 16) % (sizeof alpha - 1)];
            }
            ref_escape(want, in, n, attr);
            xt_buf_clear(&b);
            assert_int_equal(xt_buf_append_escaped(&b, (const char *)in, n, attr), 0);
            assert_string_equal(xt_buf_cstr(&b), want);
        }
    }
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

/* XT_GROW: doubling from `first`, no-op when it fits, XT_ENOMEM with the
 * array untouched on overflow or a failed allocation. */
static void test_grow(void **state)
{
    (void)state;
    int *v = NULL;
    size_t cap = 0;
    assert_int_equal(XT_GROW(NULL, v, cap, 0, 4), 0);
    assert_null(v);
    assert_int_equal(XT_GROW(NULL, v, cap, 1, 4), 0);
    assert_int_equal(cap, 4);
    v[3] = 7;
    assert_int_equal(XT_GROW(NULL, v, cap, 4, 4), 0);
    assert_int_equal(cap, 4); /* fits */
    assert_int_equal(XT_GROW(NULL, v, cap, 5, 4), 0);
    assert_int_equal(cap, 8);
    assert_int_equal(XT_GROW(NULL, v, cap, 33, 4), 0);
    assert_int_equal(cap, 64);
    assert_int_equal(v[3], 7); /* contents kept */
    int *old = v;
    assert_int_equal(XT_GROW(NULL, v, cap, SIZE_MAX / 2, 4), XT_ENOMEM);
    assert_ptr_equal(v, old);
    assert_int_equal(cap, 64);
    xt_free(NULL, v);
    char *bytes = NULL;
    size_t bcap = 0;
    assert_int_equal(XT_GROW(NULL, bytes, bcap, SIZE_MAX, 4), XT_ENOMEM); /* doubling overflows */
    assert_null(bytes);
    assert_int_equal(bcap, 0);

    v = NULL;
    cap = 0;
    xt_test_alloc_count = 0;
    xt_test_fail_at = 1;
    assert_int_equal(XT_GROW(&xt_test_failing_mem, v, cap, 3, 2), XT_ENOMEM);
    assert_null(v);
    assert_int_equal(cap, 0);
    xt_test_fail_at = 0;
    assert_int_equal(XT_GROW(&xt_test_failing_mem, v, cap, 3, 2), 0);
    assert_int_equal(cap, 4);
    xt_free(&xt_test_failing_mem, v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_consume),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_words),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
