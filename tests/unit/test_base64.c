/* Unit tests: strict RFC 4648 base64 (src/core/base64.c), driven by the
 * base64 vectors of ../shared/vectors/sasl-misc.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "vectors.h"
#include "base/buf.h"
#include "core/base64.h"

static json_t *load_vectors(void)
{
    json_t *root = xt_test_load_json("sasl-misc.json");
    if (!root)
        fail_msg("cannot load the sasl-misc.json vectors");
    return root;
}

static void check_pair(const uint8_t *raw, size_t rawlen, const char *b64)
{
    xt_buf b;
    xt_buf_init(&b, NULL);
    assert_int_equal(xt_base64_encode(&b, raw, rawlen), 0);
    assert_int_equal(xt_buf_size(&b), strlen(b64));
    if (rawlen)
        assert_memory_equal(xt_buf_head(&b), b64, strlen(b64));
    xt_buf_clear(&b);
    assert_int_equal(xt_base64_decode(&b, b64, strlen(b64)), 0);
    assert_int_equal(xt_buf_size(&b), rawlen);
    if (rawlen)
        assert_memory_equal(xt_buf_head(&b), raw, rawlen);
    xt_buf_free(&b);
}

static void test_rfc4648(void **state)
{
    (void)state;
    json_t *root = load_vectors();
    json_t *arr = json_object_get(json_object_get(root, "base64"), "rfc4648_section10_base64");
    assert_true(json_array_size(arr) >= 7);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *in = json_string_value(json_object_get(v, "input"));
        const char *out = json_string_value(json_object_get(v, "base64"));
        assert_non_null(in);
        assert_non_null(out);
        check_pair((const uint8_t *)in, strlen(in), out);
    }
    json_decref(root);
}

static void test_peer_cases(void **state)
{
    (void)state;
    json_t *root = load_vectors();
    json_t *arr = json_object_get(json_object_get(root, "base64"), "peer_cases");
    assert_true(json_array_size(arr) >= 6);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        xt_buf raw;
        xt_buf_init(&raw, NULL);
        const char *hex = json_string_value(json_object_get(v, "raw_hex"));
        const char *txt = json_string_value(json_object_get(v, "raw"));
        if (hex)
            xt_test_hex_to_buf(&raw, hex);
        else {
            assert_non_null(txt);
            assert_int_equal(xt_buf_append_str(&raw, txt), 0);
        }
        check_pair(xt_buf_head(&raw), xt_buf_size(&raw),
                   json_string_value(json_object_get(v, "base64")));
        xt_buf_free(&raw);
    }
    json_decref(root);
}

static void test_strict_edges(void **state)
{
    (void)state;
    json_t *root = load_vectors();
    json_t *arr = json_object_get(json_object_get(root, "base64"), "strict_decoder_edge_cases");
    assert_true(json_array_size(arr) >= 16);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *in = json_string_value(json_object_get(v, "input"));
        const char *expect = json_string_value(json_object_get(v, "expect"));
        assert_non_null(in);
        assert_non_null(expect);
        xt_buf b;
        xt_buf_init(&b, NULL);
        int rc = xt_base64_decode(&b, in, strlen(in));
        if (strcmp(expect, "accept") == 0) {
            if (rc != 0)
                fail_msg("rejected %s (%s)", in, json_string_value(json_object_get(v, "why")));
            xt_buf want;
            xt_buf_init(&want, NULL);
            xt_test_hex_to_buf(&want, json_string_value(json_object_get(v, "decoded_hex")));
            assert_int_equal(xt_buf_size(&b), xt_buf_size(&want));
            if (xt_buf_size(&want))
                assert_memory_equal(xt_buf_head(&b), xt_buf_head(&want), xt_buf_size(&want));
            xt_buf_free(&want);
        } else {
            if (rc != XT_EPROTO)
                fail_msg("accepted \"%s\" (%s)", in, json_string_value(json_object_get(v, "why")));
            /* A rejected input appends nothing. */
            assert_int_equal(xt_buf_size(&b), 0);
        }
        xt_buf_free(&b);
    }
    /* "=" alone (RFC 6120 empty response) is the caller's business. */
    xt_buf b;
    xt_buf_init(&b, NULL);
    assert_int_equal(xt_base64_decode(&b, "=", 1), XT_EPROTO);
    xt_buf_free(&b);
    json_decref(root);
}

static void test_all_bytes_roundtrip(void **state)
{
    (void)state;
    uint8_t raw[256];
    for (int i = 0; i < 256; i++)
        raw[i] = (uint8_t)i;
    for (size_t n = 0; n <= sizeof raw; n += 1) {
        xt_buf e, d;
        xt_buf_init(&e, NULL);
        xt_buf_init(&d, NULL);
        assert_int_equal(xt_base64_encode(&e, raw, n), 0);
        assert_int_equal(xt_buf_size(&e), (n + 2) / 3 * 4);
        assert_int_equal(xt_base64_decode(&d, (const char *)xt_buf_head(&e), xt_buf_size(&e)), 0);
        assert_int_equal(xt_buf_size(&d), n);
        if (n)
            assert_memory_equal(xt_buf_head(&d), raw, n);
        xt_buf_free(&e);
        xt_buf_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648),
        cmocka_unit_test(test_peer_cases),
        cmocka_unit_test(test_strict_edges),
        cmocka_unit_test(test_all_bytes_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
