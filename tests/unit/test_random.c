/* Unit tests: the library's random bytes (base/random.c): the kernel's
 * source and its loop, the fallback to OpenSSL, and that a failure
 * leaves nothing of what was drawn. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/random.h"

static int all_are(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

/* The default source: the bytes come, and two draws differ (a 2^-256
 * chance of a false failure). */
static void test_default_source(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    assert_int_equal(xt_random_bytes(NULL, NULL, a, sizeof a), 0);
    assert_int_equal(xt_random_bytes(NULL, NULL, b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    /* Larger than one getrandom(2) of the urandom pool guarantees
     * (256 bytes without interruption): the loop fills it all. */
    static uint8_t big[1 << 16];
    memset(big, 0, sizeof big);
    assert_int_equal(xt_random_bytes(NULL, NULL, big, sizeof big), 0);
    assert_false(all_are(big + sizeof big - 64, 64, 0));
    assert_int_equal(xt_random_bytes(NULL, NULL, NULL, 0), 0);
}

/* A scripted getrandom(2): each call takes the next step. A step is a
 * count of bytes to give (each byte its running position + 1), or an
 * errno to fail with (negative). */
static const int *script;
static size_t step, given;

static ssize_t fake_getrandom(void *buf, size_t n, unsigned flags)
{
    assert_int_equal(flags, 0); /* the urandom source, blocking at boot only */
    int s = script[step++];
    if (s < 0) {
        errno = -s;
        return -1;
    }
    size_t k = (size_t)s < n ? (size_t)s : n;
    for (size_t i = 0; i < k; i++)
        ((uint8_t *)buf)[i] = (uint8_t)(++given);
    return (ssize_t)k;
}

static void run_script(const int *s)
{
    script = s;
    step = given = 0;
}

/* Short reads and EINTR: called again until the buffer is full, every
 * byte from the source in order. */
static void test_short_reads_and_eintr(void **state)
{
    (void)state;
    static const int s[] = {5, -EINTR, 1, -EINTR, -EINTR, 100};
    run_script(s);
    uint8_t buf[20];
    memset(buf, 0xAA, sizeof buf);
    assert_int_equal(xt_random_os(fake_getrandom, buf, sizeof buf), 0);
    assert_int_equal(step, 6);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], i + 1);
}

/* No such system call (an old kernel, a seccomp sandbox): the rest
 * comes from OpenSSL's generator, and what the kernel gave is kept. */
static void test_enosys_falls_back(void **state)
{
    (void)state;
    static const int s[] = {4, -ENOSYS};
    run_script(s);
    uint8_t buf[48];
    memset(buf, 0, sizeof buf);
    assert_int_equal(xt_random_os(fake_getrandom, buf, sizeof buf), 0);
    assert_int_equal(step, 2);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(buf[i], i + 1);
    assert_false(all_are(buf + 4, sizeof buf - 4, 0)); /* RAND_bytes filled the rest */

    static const int first[] = {-ENOSYS};
    run_script(first);
    memset(buf, 0, sizeof buf);
    assert_int_equal(xt_random_os(fake_getrandom, buf, sizeof buf), 0);
    assert_false(all_are(buf, sizeof buf, 0));
}

/* Any other failure, after a partial read too: XT_ENOMEM and nothing
 * left in the buffer of what was drawn (no half-random nonce is used). */
static void test_failure_wipes(void **state)
{
    (void)state;
    static const int eio[] = {7, -EIO};
    static const int efault[] = {-EFAULT};
    static const int zero[] = {3, 0}; /* never from getrandom: no spinning on it */
    const int *cases[] = {eio, efault, zero};
    for (size_t c = 0; c < 3; c++) {
        run_script(cases[c]);
        uint8_t buf[16];
        memset(buf, 0xAA, sizeof buf);
        assert_int_equal(xt_random_os(fake_getrandom, buf, sizeof buf), XT_ENOMEM);
        assert_true(all_are(buf, sizeof buf, 0));
    }
}

/* The application's source (xt_conn_opts_set_random) is used as given;
 * when it fails the buffer is wiped. */
static int app_calls;
static int app_source(void *ud, uint8_t *buf, size_t len)
{
    app_calls++;
    memset(buf, 0x5A, len);
    return *(const int *)ud;
}

static void test_application_source(void **state)
{
    (void)state;
    uint8_t buf[8];
    int ok = XT_RANDOM_OK, failed = XT_RANDOM_FAILED;
    app_calls = 0;
    assert_int_equal(xt_random_bytes(app_source, &ok, buf, sizeof buf), 0);
    assert_true(all_are(buf, sizeof buf, 0x5A));
    assert_int_equal(xt_random_bytes(app_source, &failed, buf, sizeof buf), XT_ENOMEM);
    assert_true(all_are(buf, sizeof buf, 0));
    assert_int_equal(app_calls, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_source),
        cmocka_unit_test(test_short_reads_and_eintr),
        cmocka_unit_test(test_enosys_falls_back),
        cmocka_unit_test(test_failure_wipes),
        cmocka_unit_test(test_application_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
