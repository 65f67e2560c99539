/* Unit tests: XEP-0484 FAST's HT-* mechanisms (src/core/fast.c). The
 * expected HMACs are computed here with OpenSSL's one-shot EVP_Q_mac
 * over the draft's framing (authcid NUL HMAC(token, "Initiator" || cb);
 * the server's HMAC(token, "Responder" || cb)), a second path to the
 * same values; the stream transcripts (fast_*.txt) use them on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "core/fast.h"
#include "xtalk/common.h"

static const char token[] = "secret-token:fast-T0K3N";
static const uint8_t cb[] = "EXPORTER-DATA-0123456789abcdefgh";

static size_t mac(const char *digest, const char *label, const uint8_t *data, size_t len,
                  uint8_t *out)
{
    uint8_t msg[256];
    size_t ll = strlen(label), n = 0;
    memcpy(msg, label, ll);
    if (len) /* data is NULL for -NONE: memcpy's pointers must not be */
        memcpy(msg + ll, data, len);
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, token, strlen(token), msg, ll + len,
                              out, 64, &n));
    return n;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(xt_fast_cb_type("HT-SHA-256-EXPR"), "tls-exporter");
    assert_string_equal(xt_fast_cb_type("HT-SHA-256-UNIQ"), "tls-unique");
    assert_string_equal(xt_fast_cb_type("HT-SHA-512-ENDP"), "tls-server-end-point");
    assert_string_equal(xt_fast_cb_type("HT-SHA-256-NONE"), "");
    assert_null(xt_fast_cb_type("HT-SHA-1-NONE"));
    assert_null(xt_fast_cb_type("HT-SHA-256-EXPRX"));
    assert_null(xt_fast_cb_type("SCRAM-SHA-1"));
    assert_null(xt_fast_cb_type(NULL));
    /* A binding to the connection first, then the certificate, then none. */
    assert_true(xt_fast_rank("HT-SHA-256-EXPR") > xt_fast_rank("HT-SHA-256-ENDP"));
    assert_true(xt_fast_rank("HT-SHA-256-UNIQ") > xt_fast_rank("HT-SHA-512-ENDP"));
    assert_true(xt_fast_rank("HT-SHA-256-ENDP") > xt_fast_rank("HT-SHA-512-NONE"));
    assert_true(xt_fast_rank("HT-SHA-512-EXPR") > xt_fast_rank("HT-SHA-256-EXPR"));
    assert_int_equal(xt_fast_rank("PLAIN"), 0);
}

static void check(const char *mech, const char *digest, const uint8_t *data, size_t len)
{
    uint8_t want[64], resp[64];
    size_t n = mac(digest, "Initiator", data, len, want);
    xt_buf b;
    xt_buf_init(&b, NULL);
    assert_int_equal(xt_fast_initial(mech, "user", token, data, len, &b), 0);
    assert_int_equal(xt_buf_size(&b), 5 + n);
    assert_memory_equal(xt_buf_head(&b), "user\0", 5);
    assert_memory_equal(xt_buf_head(&b) + 5, want, n);
    xt_buf_free(&b);
    size_t rn = mac(digest, "Responder", data, len, resp);
    assert_int_equal(xt_fast_verify(mech, token, data, len, resp, rn), 0);
    resp[0] ^= 1;
    assert_int_equal(xt_fast_verify(mech, token, data, len, resp, rn), XT_EDOWNGRADE);
    resp[0] ^= 1;
    assert_int_equal(xt_fast_verify(mech, token, data, len, resp, rn - 1), XT_EDOWNGRADE);
    assert_int_equal(xt_fast_verify(mech, token, data, len, NULL, 0), XT_EDOWNGRADE);
    /* The initiator's value is not the responder's (no reflection). */
    assert_int_equal(xt_fast_verify(mech, token, data, len, want, n), XT_EDOWNGRADE);
}

static void test_exchange(void **state)
{
    (void)state;
    check("HT-SHA-256-EXPR", "SHA256", cb, sizeof cb - 1);
    check("HT-SHA-256-NONE", "SHA256", NULL, 0);
    check("HT-SHA-512-UNIQ", "SHA512", cb, 12);
    xt_buf b;
    xt_buf_init(&b, NULL);
    assert_int_equal(xt_fast_initial("SCRAM-SHA-1", "user", token, NULL, 0, &b), XT_EINVAL);
    assert_int_equal(xt_fast_initial("HT-SHA-256-NONE", "", token, NULL, 0, &b), XT_EINVAL);
    assert_int_equal(xt_fast_initial("HT-SHA-256-NONE", "user", "", NULL, 0, &b), XT_EINVAL);
    assert_int_equal(xt_buf_size(&b), 0);
    xt_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_exchange),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
