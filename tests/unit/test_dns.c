/* Unit tests: c-ares resolution driven by poll() through xt_dns, and the
 * RFC 2782 SRV ordering. No external network here: only loopback names,
 * IP literals and names under .invalid (RFC 6761), each bounded in time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/mem.h"
#include "net/dns.h"
#include "net/loop.h"

typedef struct result {
    int done, status, calls;
    size_t n;
    int has_v4_loopback, has_v6_loopback;
    uint16_t port;
    char why[128];
} result;

static void on_addr(void *ud, int status, const xt_addr *a, size_t n, const char *why)
{
    result *r = ud;
    r->done = 1;
    r->calls++;
    r->status = status;
    r->n = n;
    snprintf(r->why, sizeof r->why, "%s", why);
    for (size_t i = 0; i < n; i++) {
        if (a[i].ss.ss_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)&a[i].ss;
            if (in->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
                r->has_v4_loopback = 1;
            r->port = ntohs(in->sin_port);
        } else if (a[i].ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)&a[i].ss;
            if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
                r->has_v6_loopback = 1;
            r->port = ntohs(in6->sin6_port);
        }
    }
}

static void on_srv(void *ud, int status, xt_srv_target *t, size_t n, const char *why)
{
    (void)t;
    result *r = ud;
    r->done = 1;
    r->calls++;
    r->status = status;
    r->n = n;
    snprintf(r->why, sizeof r->why, "%s", why);
}

/* Drives d with poll() until r->done or limit_ms passed; returns elapsed ms. */
static uint64_t drive(xt_dns *d, result *r, uint64_t limit_ms)
{
    uint64_t start = xt_clock_ms();
    while (!r->done && xt_clock_ms() - start < limit_ms) {
        struct pollfd fds[16];
        size_t n = xt_dns_pollfds(d, fds, 16);
        assert_true(n <= 16);
        uint64_t now = xt_clock_ms();
        int64_t dl = xt_dns_deadline(d, now);
        int wait = 50;
        if (dl >= 0 && (uint64_t)dl - now < (uint64_t)wait)
            wait = dl > (int64_t)now ? (int)((uint64_t)dl - now) : 0;
        (void)poll(fds, (nfds_t)n, wait);
        xt_dns_process(d, fds, n);
    }
    return xt_clock_ms() - start;
}

static void test_localhost(void **state)
{
    (void)state;
    xt_dns *d;
    assert_int_equal(xt_dns_new(NULL, 500, &d), 0);
    result r = {0};
    assert_int_equal(xt_dns_addrs(d, "localhost", 5222, on_addr, &r), 0);
    drive(d, &r, 5000);
    assert_true(r.done);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 0);
    assert_true(r.n >= 1);
    assert_true(r.has_v4_loopback || r.has_v6_loopback);
    assert_int_equal(r.port, 5222);
    assert_false(xt_dns_busy(d));
    xt_dns_free(d);
}

static void test_literals(void **state)
{
    (void)state;
    xt_dns *d;
    assert_int_equal(xt_dns_new(NULL, 500, &d), 0);
    result r4 = {0}, r6 = {0};
    assert_int_equal(xt_dns_addrs(d, "127.0.0.1", 5223, on_addr, &r4), 0);
    assert_int_equal(xt_dns_addrs(d, "::1", 1, on_addr, &r6), 0);
    /* Answered before returning, without a resolver: no socket, no timer. */
    assert_int_equal(r4.calls, 1);
    assert_int_equal(r6.calls, 1);
    assert_false(xt_dns_busy(d));
    assert_int_equal(xt_dns_pollfds(d, NULL, 0), 0);
    assert_int_equal(xt_dns_deadline(d, 0), -1);
    drive(d, &r4, 5000);
    drive(d, &r6, 5000);
    assert_int_equal(r4.status, 0);
    assert_int_equal(r4.n, 1);
    assert_true(r4.has_v4_loopback);
    assert_int_equal(r4.port, 5223);
    assert_int_equal(r6.status, 0);
    assert_int_equal(r6.n, 1);
    assert_true(r6.has_v6_loopback);
    assert_int_equal(r6.port, 1);
    xt_dns_free(d);
}

/* A name that cannot exist (RFC 6761 .invalid). Whether the sandbox's
 * resolver answers NXDOMAIN at once or nothing answers at all, the lookup
 * must end with a failure within c-ares' bounded timeouts. */
static void test_srv_none(void **state)
{
    (void)state;
    xt_dns *d;
    assert_int_equal(xt_dns_new(NULL, 300, &d), 0);
    result r = {0};
    assert_int_equal(xt_dns_srv(d, "_xmpp-client._tcp.nonexistent.invalid", 0, on_srv, &r), 0);
    uint64_t took = drive(d, &r, 8000);
    assert_true(r.done);
    assert_true(took < 8000);
    assert_int_equal(r.calls, 1);
    assert_true(r.status == XT_ENOTFOUND || r.status == XT_EDNS || r.status == XT_ETIMEOUT);
    assert_int_equal(r.n, 0);

    result a = {0};
    assert_int_equal(xt_dns_addrs(d, "nonexistent.invalid", 5222, on_addr, &a), 0);
    drive(d, &a, 8000);
    assert_true(a.done);
    assert_true(a.status == XT_ENOTFOUND || a.status == XT_EDNS || a.status == XT_ETIMEOUT);
    assert_true(strlen(a.why) > 0);
    xt_dns_free(d);
}

/* Freeing with queries outstanding runs no callback. */
static void test_free_pending(void **state)
{
    (void)state;
    xt_dns *d;
    assert_int_equal(xt_dns_new(NULL, 300, &d), 0);
    result r = {0};
    assert_int_equal(xt_dns_srv(d, "_xmpp-client._tcp.other.invalid", 0, on_srv, &r), 0);
    xt_dns_free(d);
    assert_int_equal(r.calls, 0);
}

/* --- RFC 2782 ordering ------------------------------------------------------ */

static uint32_t rnd_zero(uint32_t bound, void *ud)
{
    (void)bound, (void)ud;
    return 0;
}

static uint32_t rnd_max(uint32_t bound, void *ud)
{
    (void)ud;
    return bound;
}

static uint32_t rnd_lcg(uint32_t bound, void *ud)
{
    uint32_t *s = ud;
    *s = *s * 1103515245u + 12345u;
    return (*s >> 8) % (bound + 1);
}

static void fill(xt_srv_target *t)
{
    static char names[5][4] = {"a", "b", "c", "d", "e"};
    /* host, priority, weight */
    const struct { int pri, w; } spec[5] = {{20, 0}, {10, 60}, {10, 0}, {10, 40}, {5, 1}};
    for (int i = 0; i < 5; i++)
        t[i] = (xt_srv_target){.host = names[i], .port = (uint16_t)(5000 + i),
                               .priority = (uint16_t)spec[i].pri, .weight = (uint16_t)spec[i].w};
}

static void test_srv_order(void **state)
{
    (void)state;
    xt_srv_target t[5];
    fill(t);
    /* rnd 0 picks the first with running sum >= 0: the zero-weight one first. */
    xt_srv_order(t, 5, rnd_zero, NULL);
    assert_string_equal(t[0].host, "e"); /* priority 5 */
    assert_string_equal(t[1].host, "c"); /* priority 10, weight 0 */
    assert_int_equal(t[2].priority, 10);
    assert_int_equal(t[3].priority, 10);
    assert_string_equal(t[4].host, "a"); /* priority 20 last */

    fill(t);
    /* rnd = bound picks the last entry of the running sum: never weight 0 first. */
    xt_srv_order(t, 5, rnd_max, NULL);
    assert_string_equal(t[0].host, "e");
    assert_int_equal(t[1].priority, 10);
    assert_true(t[1].weight > 0);
    assert_string_equal(t[3].host, "c");
    assert_string_equal(t[4].host, "a");

    /* Weighted: "b" (60) first about 60% of the time, "d" (40) about 40%. */
    uint32_t seed = 42;
    int b_first = 0, d_first = 0;
    for (int i = 0; i < 2000; i++) {
        fill(t);
        xt_srv_order(t, 5, rnd_lcg, &seed);
        assert_string_equal(t[0].host, "e");
        assert_string_equal(t[4].host, "a");
        b_first += strcmp(t[1].host, "b") == 0;
        d_first += strcmp(t[1].host, "d") == 0;
    }
    assert_true(b_first > 1000 && b_first < 1400);
    assert_true(d_first > 600 && d_first < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_localhost),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_srv_none),
        cmocka_unit_test(test_free_pending),
        cmocka_unit_test(test_srv_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
