/*
 * tests/unit/test_hostile.c -- a hostile server against the sans-I/O
 * core (issue 12, "every cost bounded and linear"): each test plays the
 * server's side of an attack and asserts a bound stated next to it, in
 * deterministic measures (live heap bytes through a counting allocator,
 * table sizes, stanza counts), never in wall time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xtalk/conn.h"

/* --- a counting allocator: live bytes and their peak ------------------- */

typedef struct {
    size_t live, peak;
} heap_count;

/* Each block carries its size in front (max_align_t keeps alignment). */
typedef union {
    size_t n;
    max_align_t align;
} hdr;

static void *c_malloc(size_t n, void *ud)
{
    heap_count *h = ud;
    hdr *p = malloc(sizeof(hdr) + n);
    if (!p)
        return NULL;
    p->n = n;
    h->live += n;
    if (h->live > h->peak)
        h->peak = h->live;
    return p + 1;
}

static void c_free(void *ptr, void *ud)
{
    heap_count *h = ud;
    if (!ptr)
        return;
    hdr *p = (hdr *)ptr - 1;
    h->live -= p->n;
    free(p);
}

static void *c_realloc(void *ptr, size_t n, void *ud)
{
    heap_count *h = ud;
    if (!ptr)
        return c_malloc(n, ud);
    hdr *p = (hdr *)ptr - 1;
    size_t old = p->n;
    hdr *q = realloc(p, sizeof(hdr) + n);
    if (!q)
        return NULL;
    q->n = n;
    h->live = h->live - old + n;
    if (h->live > h->peak)
        h->peak = h->live;
    return q + 1;
}

/* --- the server's half of a login --------------------------------------- */

#define HDR(id)                                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                                   \
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' version='1.0' "            \
    "xml:lang='en' id='" id "'>"

typedef struct {
    int disconnected, error;
    char condition[64], text[512];
    size_t presences;
} seen;

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)c;
    seen *s = ud;
    if (ev->type == XT_EV_DISCONNECTED) {
        s->disconnected++;
        s->error = ev->u.disconnected.error;
        snprintf(s->condition, sizeof s->condition, "%s",
                 ev->u.disconnected.condition ? ev->u.disconnected.condition : "");
        snprintf(s->text, sizeof s->text, "%s",
                 ev->u.disconnected.text ? ev->u.disconnected.text : "");
    } else if (ev->type == XT_EV_PRESENCE) {
        s->presences++;
    }
}

static size_t consume(xt_conn *c)
{
    const uint8_t *p;
    size_t n, total = 0;
    while ((n = xt_conn_pending(c, &p)) > 0) {
        xt_conn_consume(c, n);
        total += n;
    }
    return total;
}

static int feed(xt_conn *c, const char *s, uint64_t now)
{
    int rc = xt_conn_feed(c, s, strlen(s), now);
    consume(c);
    if (rc >= 0 && xt_conn_get_state(c) == XT_STATE_TLS && xt_conn_tls_ready(c, NULL, now) != 0)
        return -1;
    consume(c);
    return rc < 0 ? rc : 0;
}

/* Reads the id='...' of the n-th <iq in `out` (1-based), into id. */
static void nth_iq_id(const char *out, int n, char *id, size_t idlen)
{
    const char *p = out;
    for (int i = 0; i < n; i++) {
        p = strstr(p, "<iq");
        assert_non_null(p);
        p += 3;
    }
    const char *q = strstr(p, "id='");
    assert_non_null(q);
    q += 4;
    const char *e = strchr(q, '\'');
    assert_non_null(e);
    assert_true((size_t)(e - q) < idlen);
    memcpy(id, q, (size_t)(e - q));
    id[e - q] = '\0';
}

/* Everything the conn wrote, as a string (the caller frees). */
static char *take_output(xt_conn *c)
{
    const uint8_t *p;
    size_t n, len = 0;
    char *all = calloc(1, 1);
    while ((n = xt_conn_pending(c, &p)) > 0) {
        all = realloc(all, len + n + 1);
        memcpy(all + len, p, n);
        len += n;
        all[len] = '\0';
        xt_conn_consume(c, n);
    }
    return all;
}

/* Like online(), but reads the bind and roster ids from the output
 * (generated ids carry random digits) and finishes the login. */
static xt_conn *login(xt_conn_opts *o, int sm, const char *roster_xml, seen *ev)
{
    xt_conn *c = NULL;
    assert_int_equal(xt_conn_opts_set_jid(o, "user@example.com"), 0);
    assert_int_equal(xt_conn_opts_set_password(o, "pencil"), 0);
    assert_int_equal(xt_conn_opts_set_resource(o, "laptop"), 0);
    /* RFC 6120 order: the bind IQ follows the features it answers. */
    assert_int_equal(xt_conn_opts_set_flags(o, XT_CONN_NO_PIPELINING), 0);
    assert_int_equal(xt_conn_new(o, &c), 0);
    assert_true(xt_conn_on(c, XT_EV_ALL, on_event, ev) >= 0);
    assert_int_equal(xt_conn_start(c, 1), 0);
    consume(c);
    const char *server[] = {
        HDR("s1"),
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        HDR("s2"),
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
        "</mechanism></mechanisms></stream:features>",
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    };
    for (size_t i = 0; i < sizeof server / sizeof *server; i++)
        assert_int_equal(feed(c, server[i], 1), 0);
    /* The post-auth header and features: the bind IQ (and, pipelined,
     * the roster query) are in the output after these. */
    assert_int_equal(xt_conn_feed(c, HDR("s3"), strlen(HDR("s3")), 1), 0);
    const char *features =
        sm ? "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
             "<sm xmlns='urn:xmpp:sm:3'/></stream:features>"
           : "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
    assert_int_equal(xt_conn_feed(c, features, strlen(features), 1), 0);
    char *out = take_output(c);
    char bind_id[128], buf[4096];
    nth_iq_id(out, 1, bind_id, sizeof bind_id);
    free(out);
    snprintf(buf, sizeof buf,
             "<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>"
             "user@example.com/laptop</jid></bind></iq>",
             bind_id);
    assert_int_equal(xt_conn_feed(c, buf, strlen(buf), 1), 0);
    out = take_output(c);
    char *roster = strstr(out, "jabber:iq:roster");
    assert_non_null(roster);
    /* The roster query is the <iq just before its namespace. */
    char *iq = roster;
    while (iq > out && strncmp(iq, "<iq", 3) != 0)
        iq--;
    char roster_id[128];
    nth_iq_id(iq, 1, roster_id, sizeof roster_id);
    free(out);
    if (sm)
        assert_int_equal(
            feed(c, "<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/>", 1), 0);
    char *big = malloc(strlen(roster_xml) + 512);
    sprintf(big, "<iq type='result' id='%s'><query xmlns='jabber:iq:roster'>%s</query></iq>",
            roster_id, roster_xml);
    assert_int_equal(feed(c, big, 1), 0);
    free(big);
    assert_int_equal(xt_conn_get_state(c), XT_STATE_ONLINE);
    assert_int_equal(xt_conn_sm_enabled(c), sm);
    return c;
}

static xt_conn_opts *counted_opts(heap_count *h)
{
    xt_mem mem = {c_malloc, c_realloc, c_free, h};
    xt_conn_opts *o = NULL;
    assert_int_equal(xt_conn_opts_new(&mem, &o), 0);
    /* No keepalive ping in the way of what is measured. */
    assert_int_equal(xt_conn_opts_set_keepalive(o, UINT32_MAX, 0), 0);
    return o;
}

/*
 * Issue 12 item 4: a server that sends IQ gets and <a h='0'/> forever.
 * Each get is owed an automatic reply (service-unavailable, RFC 6120
 * §8.4); before the fix those replies went into the XEP-0198 queue
 * without its bound and the empty acks kept the session alive (300,000
 * entries, 60 MB). Bound: the stream ends with policy-violation once
 * sm_max_unacked (here 500) stanzas wait, after at most that many gets,
 * and the live heap never exceeds 500 entries of at most 512 bytes each
 * above what the login left.
 */
static void test_sm_flood_of_gets(void **state)
{
    (void)state;
    enum { MAX_UNACKED = 500, ROUNDS = 20000 };
    heap_count h = {0};
    seen ev = {0};
    xt_conn_opts *o = counted_opts(&h);
    assert_int_equal(xt_conn_opts_set_sm_queue(o, MAX_UNACKED), 0);
    xt_conn *c = login(o, 1, "", &ev);
    xt_conn_opts_free(o);
    size_t base = h.live;
    h.peak = h.live;
    int i;
    char buf[256];
    for (i = 0; i < ROUNDS && !ev.disconnected; i++) {
        snprintf(buf, sizeof buf,
                 "<iq type='get' id='q%d' from='example.com'><x xmlns='urn:example:what'/></iq>"
                 "<a xmlns='urn:xmpp:sm:3' h='0'/><r xmlns='urn:xmpp:sm:3'/>",
                 i);
        (void)xt_conn_feed(c, buf, strlen(buf), 2 + (uint64_t)i);
        consume(c);
    }
    assert_int_equal(ev.disconnected, 1);
    assert_true(i <= MAX_UNACKED + 1);
    assert_int_equal(ev.error, XT_ETOOBIG);
    assert_string_equal(ev.condition, "policy-violation");
    assert_non_null(strstr(ev.text, "unacknowledged"));
    assert_int_equal(xt_conn_get_state(c), XT_STATE_CLOSED);
    assert_true(h.peak - base <= (size_t)MAX_UNACKED * 512);
    xt_conn_free(c);
    assert_int_equal(h.live, 0);
}

/*
 * Issue 12 item 4, the other half: an <a/> that acknowledges nothing
 * does not answer our <r/>. Ten messages make the conn ask (<r/>, ack
 * every 10); the server answers only <a h='0'/>, every second. The
 * conn must give up at the ack timeout (here 5 s) with XT_ETIMEOUT.
 */
static void test_sm_empty_acks_do_not_answer(void **state)
{
    (void)state;
    heap_count h = {0};
    seen ev = {0};
    xt_conn_opts *o = counted_opts(&h);
    assert_int_equal(xt_conn_opts_set_acks(o, 10, 100, 5000), 0);
    xt_conn *c = login(o, 1, "", &ev);
    xt_conn_opts_free(o);
    /* The login's roster query and presence are unacked: ack them. */
    assert_int_equal(feed(c, "<a xmlns='urn:xmpp:sm:3' h='2'/>", 1), 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(xt_conn_send_message(c, "juliet@example.com", "chat", "hi", NULL, NULL), 0);
    char *out = take_output(c);
    assert_non_null(strstr(out, "<r xmlns='urn:xmpp:sm:3'/>"));
    free(out);
    uint64_t t = 2;
    for (; t < 20000 && !ev.disconnected; t += 1000) {
        (void)feed(c, "<a xmlns='urn:xmpp:sm:3' h='2'/>", t);
        (void)xt_conn_tick(c, t);
        consume(c);
    }
    assert_int_equal(ev.disconnected, 1);
    assert_int_equal(ev.error, XT_ETIMEOUT);
    assert_true(t <= 1 + 5000 + 2000);
    xt_conn_free(c);

    /* Progress is an answer: an ack covering the ten clears the wait. */
    memset(&ev, 0, sizeof ev);
    o = counted_opts(&h);
    assert_int_equal(xt_conn_opts_set_acks(o, 10, 100, 5000), 0);
    c = login(o, 1, "", &ev);
    xt_conn_opts_free(o);
    for (int i = 0; i < 10; i++)
        assert_int_equal(xt_conn_send_message(c, "juliet@example.com", "chat", "hi", NULL, NULL), 0);
    consume(c);
    assert_int_equal(feed(c, "<a xmlns='urn:xmpp:sm:3' h='12'/>", 2), 0);
    assert_int_equal(xt_conn_tick(c, 60000), 0);
    assert_int_equal(ev.disconnected, 0);
    assert_int_equal(xt_conn_get_state(c), XT_STATE_ONLINE);
    xt_conn_free(c);
    assert_int_equal(h.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sm_flood_of_gets),
        cmocka_unit_test(test_sm_empty_acks_do_not_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
