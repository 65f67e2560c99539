/*
 * Unit tests: the XMPP stream parser. The RFC 6120 §11 cases come from
 * ../shared/vectors/xml-restrictions.txt (format documented in its
 * header); every row runs fed whole and fed one byte at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/mem.h"
#include "vectors.h"
#include "xml/parser.h"
#include "xml/serialize.h"
#include "xml/stanza_int.h"
#include "xtalk/stanza.h"

/* ---- allocator: counts, fails the Nth call, tracks peak bytes ---- */

typedef struct counter {
    long fail_at; /* 1-based call to fail; 0 = never */
    long calls;
    long live;
    size_t bytes;
    size_t peak;
} counter;

#define CHDR 16

static void *c_realloc(void *p, size_t n, void *ud)
{
    counter *c = ud;
    if (c->fail_at && ++c->calls == c->fail_at)
        return NULL;
    if (!c->fail_at)
        c->calls++;
    size_t old = 0;
    unsigned char *raw = p ? (unsigned char *)p - CHDR : NULL;
    if (raw)
        memcpy(&old, raw, sizeof old);
    unsigned char *r = realloc(raw, n + CHDR);
    if (!r)
        return NULL;
    if (!p)
        c->live++;
    memcpy(r, &n, sizeof n);
    c->bytes = c->bytes - old + n;
    if (c->bytes > c->peak)
        c->peak = c->bytes;
    return r + CHDR;
}

static void *c_malloc(size_t n, void *ud)
{
    return c_realloc(NULL, n, ud);
}

static void c_free(void *p, void *ud)
{
    counter *c = ud;
    if (!p)
        return;
    unsigned char *raw = (unsigned char *)p - CHDR;
    size_t old;
    memcpy(&old, raw, sizeof old);
    c->bytes -= old;
    c->live--;
    free(raw);
}

static xt_mem counting(counter *c)
{
    return (xt_mem){.malloc = c_malloc, .realloc = c_realloc, .free = c_free, .ud = c};
}

/* ---- a recording run ---- */

typedef struct run {
    int opened, closed, stanzas;
    xt_stanza *first;   /* first stanza, kept for checks */
    xt_stanza *header;  /* copy of the stream header */
    char content_ns[128];
    xt_buf log;         /* every stanza serialized, one per line */
    int stop_open;      /* stream_open returns this */
    int stop_at;        /* stanza callback number stop_at returns 7 */
    xt_parser *p;       /* for the re-entrancy tests */
    int reenter;        /* 1: reset, 2: feed, 3: free, from the stanza callback */
    int reenter_rc;
} run;

static int on_open(void *ud, const xt_stanza *h, const char *content_ns)
{
    run *r = ud;
    r->opened++;
    xt_stanza_free(r->header);
    r->header = xt_stanza_copy(h);
    snprintf(r->content_ns, sizeof r->content_ns, "%s", content_ns);
    return r->stop_open;
}

static int on_stanza(void *ud, xt_stanza *st)
{
    run *r = ud;
    r->stanzas++;
    if (xt_stanza_serialize(st, r->content_ns, &r->log) == 0)
        xt_buf_append_byte(&r->log, '\n');
    if (!r->first)
        r->first = st;
    else
        xt_stanza_free(st);
    if (r->reenter == 1)
        r->reenter_rc = xt_parser_reset(r->p);
    else if (r->reenter == 2)
        r->reenter_rc = xt_parser_feed(r->p, "<a/>", 4);
    else if (r->reenter == 3)
        xt_parser_free(r->p);
    return r->stop_at && r->stanzas == r->stop_at ? 7 : 0;
}

static int on_close(void *ud)
{
    run *r = ud;
    r->closed++;
    return 0;
}

static const xt_parser_callbacks cbs = {.stream_open = on_open, .stanza = on_stanza, .stream_close = on_close};

static void run_init(run *r)
{
    memset(r, 0, sizeof *r);
    xt_buf_init(&r->log, NULL);
}

static void run_clear(run *r)
{
    xt_stanza_free(r->first);
    xt_stanza_free(r->header);
    xt_buf_free(&r->log);
    memset(r, 0, sizeof *r);
}

static const char *run_log(run *r)
{
    const char *s = xt_buf_cstr(&r->log);
    assert_non_null(s);
    return s;
}

/* Feeds `len` bytes in pieces of `chunk` (0 = all at once); stops at the
 * first non-zero return. */
static int feed(xt_parser *p, const void *data, size_t len, size_t chunk)
{
    const char *d = data;
    if (chunk == 0)
        return xt_parser_feed(p, d, len);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        int rc = xt_parser_feed(p, d + off, n);
        if (rc)
            return rc;
    }
    return 0;
}

static int feed_str(xt_parser *p, const char *s)
{
    return xt_parser_feed(p, s, strlen(s));
}

/* ---- the vector file (loaded by vectors.c) ---- */

typedef xt_xmlr_row row;
static xt_xmlr vx;
#define rows          (vx.rows)
#define nrows         (vx.n)
#define stream_header (vx.header)

static int load_vectors(void **state)
{
    (void)state;
    return xt_test_xmlr_load(&vx);
}

static int free_vectors(void **state)
{
    (void)state;
    xt_test_xmlr_free(&vx);
    return 0;
}

/* The bytes the client receives for a row. */
static uint8_t *row_stream(const row *r, size_t *len)
{
    size_t hl = strcmp(r->context, "doc") == 0 ? 0 : strlen(stream_header);
    if (hl == 0)
        assert_string_equal(r->context, "doc");
    else
        assert_true(strcmp(r->context, "stream") == 0 || strcmp(r->context, "body") == 0);
    uint8_t *s = malloc(hl + r->len + 1);
    assert_non_null(s);
    memcpy(s, stream_header, hl);
    memcpy(s + hl, r->input, r->len);
    s[hl + r->len] = '\0'; /* for strstr in the checks; not fed */
    *len = hl + r->len;
    return s;
}

static int is_reject(const char *expect)
{
    return strcmp(expect, "restricted-xml") == 0 || strcmp(expect, "not-well-formed") == 0 ||
           strcmp(expect, "unsupported-encoding") == 0 || strcmp(expect, "invalid-namespace") == 0 ||
           strcmp(expect, "unsupported-stanza-type") == 0 || strcmp(expect, "reject") == 0;
}

/* The conditions the file accepts for a MUST-reject expectation. */
static int cond_acceptable(const char *expect, const char *cond)
{
    if (!cond)
        return 0;
    if (strcmp(expect, "restricted-xml") == 0)
        return strcmp(cond, "restricted-xml") == 0 || strcmp(cond, "bad-format") == 0;
    if (strcmp(expect, "unsupported-encoding") == 0)
        return strcmp(cond, "unsupported-encoding") == 0 || strcmp(cond, "not-well-formed") == 0;
    if (strcmp(expect, "not-well-formed") == 0 || strcmp(expect, "invalid-namespace") == 0)
        return strcmp(cond, expect) == 0;
    return 1; /* "reject", "unsupported-stanza-type": any condition */
}

/* What the notes of accept rows say, where it can be checked. */
static void check_accept_note(const row *r, run *rr)
{
    const xt_stanza *m = rr->first;
    const char *id = r->id;
    if (strcmp(r->context, "body") == 0) {
        /* body rows: the body text is the raw bytes between the tags */
        const char *b = strstr((const char *)r->input, "<body>");
        const char *e = strstr((const char *)r->input, "</body>");
        assert_true(b && e);
        b += 6;
        const char *got = xt_stanza_child_text(m, "body", NULL);
        assert_non_null(got);
        if (strlen(got) != (size_t)(e - b) || memcmp(got, b, (size_t)(e - b)) != 0)
            fail_msg("%s: body text differs", id);
        assert_string_equal(xt_stanza_attr(m, "from"), "romeo@example.net/orchard");
    }
    if (strcmp(id, "ok-predefined-entities-text") == 0)
        assert_string_equal(xt_stanza_child_text(m, "body", NULL), "<>&'\"");
    else if (strcmp(id, "ok-predefined-entities-attr") == 0)
        assert_string_equal(xt_stanza_attr(m, "id"), "\"'<>&");
    else if (strcmp(id, "ok-char-refs") == 0)
        assert_string_equal(xt_stanza_child_text(m, "body", NULL), "Hi\xf0\x9f\x98\x80");
    else if (strcmp(id, "ok-cdata") == 0)
        assert_string_equal(xt_stanza_child_text(m, "body", NULL), "<b>&amp;</b>");
    else if (strcmp(id, "ok-ns-scoping") == 0) {
        xt_stanza *x = xt_stanza_child(m, "x", "urn:example");
        assert_non_null(x);
        xt_stanza *y = xt_stanza_child(x, "y", "urn:example");
        assert_non_null(y);
        assert_non_null(xt_stanza_child(y, "z", "c"));
        assert_non_null(xt_stanza_child(x, "z", "b"));
        assert_null(xt_stanza_child(x, "z", "c"));
    } else if (strcmp(id, "ok-xml-lang") == 0) {
        assert_string_equal(xt_stanza_attr(m, "xml:lang"), "fr");
        assert_string_equal(xt_stanza_child_text(m, "body", NULL), "salut");
    } else if (strcmp(id, "ok-gt-in-attr") == 0) {
        assert_string_equal(xt_stanza_attr(m, "id"), "a>b");
        assert_string_equal(xt_stanza_child_text(m, "body", NULL), "1 > 0");
    } else if (strcmp(id, "ok-attr-normalisation") == 0) {
        assert_string_equal(xt_stanza_attr(m, "id"), "a b c");
    }
}

static void run_row(const row *r, size_t chunk)
{
    size_t len;
    uint8_t *in = row_stream(r, &len);
    int policy = strcmp(r->expect, "policy") == 0;
    counter c = {0};
    xt_mem mem = counting(&c);
    xt_parser_limits lim = {.max_stanza = 4096, .max_depth = 16};
    run rr;
    run_init(&rr);
    xt_parser *p = xt_parser_new(&mem, &cbs, &rr, policy ? &lim : NULL);
    assert_non_null(p);
    int rc = feed(p, in, len, chunk);
    const char *cond = xt_parser_condition(p);
    const char *mode = chunk ? "byte-at-a-time" : "whole";
    int doc = strcmp(r->context, "doc") == 0;

    if (is_reject(r->expect)) {
        if (rc != XT_EXML || !cond_acceptable(r->expect, cond))
            fail_msg("%s (%s): expected %s, got rc %d condition %s (%s)", r->id, mode, r->expect, rc,
                     cond ? cond : "none", xt_parser_detail(p));
        if (rr.stanzas != 0 || (doc && rr.opened != 0))
            fail_msg("%s (%s): rejected input was delivered", r->id, mode);
        /* failed for good */
        assert_int_equal(feed_str(p, " "), rc);
    } else if (policy) {
        if (rc != XT_ETOOBIG || !cond || strcmp(cond, "policy-violation") != 0)
            fail_msg("%s (%s): expected policy-violation, got rc %d condition %s", r->id, mode, rc,
                     cond ? cond : "none");
        if (rr.stanzas != 0)
            fail_msg("%s (%s): oversized stanza delivered", r->id, mode);
        /* bounded memory: a few times the 4 KiB limit, not the 1 MB input */
        if (c.peak > 128 * 1024)
            fail_msg("%s (%s): peak memory %zu bytes", r->id, mode, c.peak);
    } else if (strcmp(r->expect, "accept") == 0 || strcmp(r->expect, "accept-recommended") == 0 ||
               strcmp(r->expect, "edge") == 0) {
        /* edge (enc-utf8-bom): we accept a leading BOM, see parser.h */
        if (rc != 0)
            fail_msg("%s (%s): rejected: %s (%s)", r->id, mode, cond ? cond : "?", xt_parser_detail(p));
        assert_int_equal(rr.opened, 1);
        assert_string_equal(xt_stanza_ns(rr.header), XT_NS_STREAMS);
        assert_string_equal(xt_stanza_name(rr.header), "stream");
        if (strstr((const char *)in, "id='s1'"))
            assert_string_equal(xt_stanza_attr(rr.header, "id"), "s1");
        if (strstr((const char *)in, "xmlns='jabber:client'"))
            assert_string_equal(rr.content_ns, "jabber:client");
        if (doc) {
            assert_int_equal(rr.stanzas, 0);
        } else {
            if (rr.stanzas != 1)
                fail_msg("%s (%s): %d stanzas delivered", r->id, mode, rr.stanzas);
            assert_string_equal(xt_stanza_ns(rr.first), "jabber:client");
            check_accept_note(r, &rr);
        }
    } else {
        fail_msg("%s: unknown expectation %s", r->id, r->expect);
    }
    xt_parser_free(p);
    run_clear(&rr);
    assert_int_equal(c.live, 0);
    free(in);
}

static void test_vectors(void **state)
{
    (void)state;
    size_t n_reject = 0, n_accept = 0, n_policy = 0;
    for (size_t i = 0; i < nrows; i++) {
        run_row(&rows[i], 0);
        run_row(&rows[i], 1);
        if (is_reject(rows[i].expect))
            n_reject++;
        else if (strcmp(rows[i].expect, "policy") == 0)
            n_policy++;
        else
            n_accept++;
    }
    /* the file was really read */
    assert_true(n_reject > 40 && n_accept > 15 && n_policy >= 5);
}

/* Both feeding modes give the same condition. */
static void test_vectors_same_condition(void **state)
{
    (void)state;
    for (size_t i = 0; i < nrows; i++) {
        if (!is_reject(rows[i].expect))
            continue;
        size_t len;
        uint8_t *in = row_stream(&rows[i], &len);
        char cond[2][64];
        for (int m = 0; m < 2; m++) {
            xt_parser *p = xt_parser_new(NULL, NULL, NULL, NULL);
            feed(p, in, len, m ? 1 : 0);
            snprintf(cond[m], sizeof cond[m], "%s", xt_parser_condition(p));
            xt_parser_free(p);
        }
        if (strcmp(cond[0], cond[1]) != 0)
            fail_msg("%s: %s whole, %s byte-at-a-time", rows[i].id, cond[0], cond[1]);
        free(in);
    }
}

/* ---- stream mechanics ---- */

static const char HDR[] = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                          "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' "
                          "id='abc' version='1.0' xml:lang='en'>";
static const char BODY[] =
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
    "</stream:features>"
    "<message from='a@b/c' to='d@e' type='chat' id='1' xml:lang='fr'>"
    "<body>caf\xc3\xa9 &lt;&amp;&gt; &#x1F600; <![CDATA[<x>]]>\r\nline</body>"
    "<x xmlns='urn:x' xmlns:p='urn:p' p:a='1'><y>t<z/>u</y></x></message>\n  \t"
    "<iq type='result' id='r1'/>"
    "</stream:stream>";

static char *full_stream(size_t *len)
{
    size_t a = strlen(HDR), b = strlen(BODY);
    char *s = malloc(a + b + 1);
    assert_non_null(s);
    memcpy(s, HDR, a);
    memcpy(s + a, BODY, b + 1);
    *len = a + b;
    return s;
}

static const char FULL_LOG[] =
    "<features xmlns='http://etherx.jabber.org/streams'>"
    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></features>\n";

static void test_full_stream(void **state)
{
    (void)state;
    size_t len;
    char *s = full_stream(&len);
    for (int m = 0; m < 2; m++) {
        run r;
        run_init(&r);
        xt_parser *p = xt_parser_new(NULL, &cbs, &r, NULL);
        assert_int_equal(feed(p, s, len, m ? 1 : 0), 0);
        assert_int_equal(xt_parser_consumed(p), m ? 1 : len);
        assert_null(xt_parser_condition(p));
        assert_string_equal(xt_parser_detail(p), "");
        assert_int_equal(r.opened, 1);
        assert_int_equal(r.stanzas, 3);
        assert_int_equal(r.closed, 1);
        assert_string_equal(r.content_ns, "jabber:client");
        assert_string_equal(xt_stanza_attr(r.header, "from"), "example.com");
        assert_string_equal(xt_stanza_attr(r.header, "id"), "abc");
        assert_string_equal(xt_stanza_attr(r.header, "version"), "1.0");
        assert_string_equal(xt_stanza_attr(r.header, "xml:lang"), "en");
        /* features are in the streams namespace, not jabber:client */
        assert_string_equal(xt_stanza_name(r.first), "features");
        assert_string_equal(xt_stanza_ns(r.first), XT_NS_STREAMS);
        const char *log = run_log(&r);
        assert_memory_equal(log, FULL_LOG, strlen(FULL_LOG));
        assert_string_equal(log + strlen(FULL_LOG),
                            "<message from='a@b/c' to='d@e' type='chat' id='1' xml:lang='fr'>"
                            "<body>caf\xc3\xa9 &lt;&amp;&gt; \xf0\x9f\x98\x80 &lt;x&gt;\nline</body>"
                            "<x xmlns='urn:x' xmlns:a0='urn:p' a0:a='1'><y>t<z/>u</y></x></message>\n"
                            "<iq type='result' id='r1'/>\n");
        /* after the close, nothing but whitespace may follow */
        assert_int_equal(feed_str(p, "\n "), 0);
        assert_int_equal(feed_str(p, "<message/>"), XT_EXML);
        assert_string_equal(xt_parser_condition(p), "not-well-formed");
        xt_parser_free(p);
        run_clear(&r);
    }
    free(s);
}

/* Every prefix is fine and delivers a prefix of the stanzas; every split
 * into two feeds gives the same result as one feed. */
static void test_prefixes_and_splits(void **state)
{
    (void)state;
    size_t len;
    char *s = full_stream(&len);
    run whole;
    run_init(&whole);
    xt_parser *p = xt_parser_new(NULL, &cbs, &whole, NULL);
    assert_int_equal(feed(p, s, len, 0), 0);
    xt_parser_free(p);
    const char *want = run_log(&whole);

    for (size_t k = 0; k <= len; k++) {
        run r;
        run_init(&r);
        p = xt_parser_new(NULL, &cbs, &r, NULL);
        int rc = feed(p, s, k, 0);
        if (rc)
            fail_msg("prefix %zu: %s", k, xt_parser_condition(p));
        const char *got = run_log(&r);
        if (strncmp(want, got, strlen(got)) != 0)
            fail_msg("prefix %zu delivered something else: %s", k, got);
        assert_int_equal(r.closed, k == len);
        /* the rest in a second feed */
        assert_int_equal(feed(p, s + k, len - k, 0), 0);
        assert_string_equal(run_log(&r), want);
        assert_int_equal(r.closed, 1);
        xt_parser_free(p);
        run_clear(&r);
    }
    run_clear(&whole);
    free(s);
}

/* Text split across feeds and entity references is one text node. */
static void test_text_coalesced(void **state)
{
    (void)state;
    run r;
    run_init(&r);
    xt_parser *p = xt_parser_new(NULL, &cbs, &r, NULL);
    assert_int_equal(feed_str(p, HDR), 0);
    const char *m = "<message><body>a&amp;b\nc&#65;d\r\ne<![CDATA[f]]>g</body></message>";
    assert_int_equal(feed(p, m, strlen(m), 1), 0);
    assert_int_equal(r.stanzas, 1);
    xt_stanza *body = xt_stanza_child(r.first, "body", NULL);
    assert_int_equal(body->ntext, 1);
    assert_string_equal(xt_stanza_text(body), "a&b\ncAd\nefg");
    xt_parser_free(p);
    run_clear(&r);
}

static void test_two_stanzas_one_feed_and_keepalives(void **state)
{
    (void)state;
    run r;
    run_init(&r);
    xt_parser_limits lim = {.max_stanza = 64};
    xt_parser *p = xt_parser_new(NULL, &cbs, &r, &lim);
    /* The header is smaller than 64 bytes here. */
    const char *h = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>";
    assert_true(strlen(h) <= 64);
    assert_int_equal(feed_str(p, h), 0);
    assert_string_equal(r.content_ns, "");
    /* 10000 keepalives, far beyond the 64-byte limit in total */
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(feed_str(p, " "), 0);
        assert_int_equal(feed_str(p, i % 2 ? "\n" : "\r\n"), 0);
    }
    assert_int_equal(feed_str(p, "<a xmlns='urn:a'/>\n<b xmlns='urn:b'>x</b>\t"), 0);
    assert_int_equal(r.stanzas, 2);
    assert_string_equal(run_log(&r), "<a xmlns='urn:a'/>\n<b xmlns='urn:b'>x</b>\n");
    assert_int_equal(r.closed, 0);
    xt_parser_free(p);
    run_clear(&r);
}

/* A stanza of exactly max_stanza bytes passes; one byte more fails. */
static void test_size_boundary(void **state)
{
    (void)state;
    const size_t max = 1000;
    static const char pre[] = "<message><body>", post[] = "</body></message>";
    char *st = malloc(max + 2);
    for (int extra = 0; extra <= 1; extra++) {
        size_t len = max + (size_t)extra;
        size_t xs = len - strlen(pre) - strlen(post);
        memcpy(st, pre, strlen(pre));
        memset(st + strlen(pre), 'x', xs);
        memcpy(st + strlen(pre) + xs, post, strlen(post));
        for (size_t chunk = 0; chunk <= 7; chunk += 7) {
            run r;
            run_init(&r);
            xt_parser_limits lim = {.max_stanza = max};
            xt_parser *p = xt_parser_new(NULL, &cbs, &r, &lim);
            assert_int_equal(feed_str(p, HDR), 0);
            assert_int_equal(feed_str(p, "\n  "), 0);
            /* twice in one buffer: the limit is per stanza */
            char *two = malloc(2 * len);
            memcpy(two, st, len);
            memcpy(two + len, st, len);
            int rc = feed(p, two, 2 * len, chunk);
            if (extra == 0) {
                assert_int_equal(rc, 0);
                assert_int_equal(r.stanzas, 2);
                assert_int_equal(strlen(xt_stanza_child_text(r.first, "body", NULL)), xs);
            } else {
                assert_int_equal(rc, XT_ETOOBIG);
                assert_int_equal(r.stanzas, 0);
                assert_string_equal(xt_parser_condition(p), "policy-violation");
                assert_int_equal(feed_str(p, "<a/>"), XT_ETOOBIG);
            }
            free(two);
            xt_parser_free(p);
            run_clear(&r);
        }
    }
    free(st);
}

/* Big start tags trickled a byte at a time: up to the deferral threshold
 * (16 KiB) the stanza comes out with its last byte; above it expat's
 * reparse deferral may hold the tail until more input arrives, but the
 * stanza does arrive and the attribute is intact. */
static void test_trickled_big_tag(void **state)
{
    (void)state;
    const size_t sizes[] = {10 * 1024, 200 * 1024};
    for (size_t i = 0; i < 2; i++) {
        size_t n = sizes[i];
        char *m = malloc(n + 32);
        strcpy(m, "<message id='");
        memset(m + 13, 'a', n);
        strcpy(m + 13 + n, "'/>");
        size_t len = strlen(m);
        run r;
        run_init(&r);
        xt_parser *p = xt_parser_new(NULL, &cbs, &r, NULL);
        assert_int_equal(feed_str(p, HDR), 0);
        assert_int_equal(feed(p, m, len, 1), 0);
        size_t extra = 0;
        while (r.stanzas == 0 && extra < 2 * len) {
            assert_int_equal(feed_str(p, " "), 0);
            extra++;
        }
        if (i == 0)
            assert_int_equal(extra, 0);
        print_message("%zu-byte tag: delivered after %zu more bytes\n", len, extra);
        assert_int_equal(r.stanzas, 1);
        assert_int_equal(strlen(xt_stanza_attr(r.first, "id")), n);
        xt_parser_free(p);
        run_clear(&r);
        free(m);
    }
}

static void test_depth_boundary(void **state)
{
    (void)state;
    xt_parser_limits lim = {.max_depth = 4};
    const char *ok = "<a><b><c><d/></c></b></a>";
    const char *deep = "<a><b><c><d><e/></d></c></b></a>";
    for (size_t chunk = 0; chunk <= 1; chunk++) {
        run r;
        run_init(&r);
        xt_parser *p = xt_parser_new(NULL, &cbs, &r, &lim);
        assert_int_equal(feed_str(p, HDR), 0);
        assert_int_equal(feed(p, ok, strlen(ok), chunk), 0);
        assert_int_equal(r.stanzas, 1);
        assert_int_equal(feed(p, deep, strlen(deep), chunk), XT_ETOOBIG);
        assert_string_equal(xt_parser_condition(p), "policy-violation");
        assert_int_equal(r.stanzas, 1);
        xt_parser_free(p);
        run_clear(&r);
    }
}

/* A callback stops parsing: the value comes back, the rest is not parsed,
 * consumed says where the rest starts; reset starts a new stream. */
static void test_stop_consumed_reset(void **state)
{
    (void)state;
    run r;
    run_init(&r);
    r.stop_at = 2;
    xt_parser *p = xt_parser_new(NULL, &cbs, &r, NULL);
    const char *feats = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>";
    const char *proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s%s\x16\x03\x01<junk", HDR, feats, proceed);
    assert_int_equal(feed_str(p, buf), 7);
    assert_int_equal(r.stanzas, 2);
    size_t at = strlen(HDR) + strlen(feats) + strlen(proceed);
    assert_int_equal(xt_parser_consumed(p), at);
    assert_memory_equal(buf + at, "\x16\x03\x01", 3);
    assert_null(xt_parser_condition(p));
    /* stopped until reset */
    assert_int_equal(feed_str(p, "<a/>"), XT_ESTATE);

    assert_int_equal(xt_parser_reset(p), 0);
    r.stop_at = 0;
    const char *h2 = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='second'>";
    assert_int_equal(feed_str(p, h2), 0);
    assert_int_equal(r.opened, 2);
    assert_string_equal(xt_stanza_attr(r.header, "id"), "second");
    assert_int_equal(feed_str(p, "<message><body>after</body></message>"), 0);
    assert_int_equal(r.stanzas, 3);

    /* stream_open can stop too; consumed ends at the header */
    assert_int_equal(xt_parser_reset(p), 0);
    r.stop_open = 5;
    snprintf(buf, sizeof buf, "%s<message/>", h2);
    assert_int_equal(feed_str(p, buf), 5);
    assert_int_equal(xt_parser_consumed(p), strlen(h2));
    assert_int_equal(r.stanzas, 3);

    /* reset after an error clears it; a partial stanza is dropped */
    assert_int_equal(xt_parser_reset(p), 0);
    r.stop_open = 0;
    assert_int_equal(feed_str(p, h2), 0);
    assert_int_equal(feed_str(p, "<message><body>partial"), 0);
    assert_int_equal(xt_parser_reset(p), 0);
    assert_int_equal(feed_str(p, HDR), 0);
    assert_int_equal(feed_str(p, "<!-- c -->"), XT_EXML);
    assert_string_equal(xt_parser_condition(p), "restricted-xml");
    assert_non_null(strstr(xt_parser_detail(p), "comment"));
    assert_int_equal(feed_str(p, "<message/>"), XT_EXML);
    assert_int_equal(xt_parser_reset(p), 0);
    assert_null(xt_parser_condition(p));
    assert_int_equal(feed_str(p, HDR), 0);
    assert_int_equal(feed_str(p, "<message/>"), 0);
    assert_int_equal(r.stanzas, 4);
    xt_parser_free(p);
    run_clear(&r);
}

static void test_reentrancy(void **state)
{
    (void)state;
    for (int mode = 1; mode <= 3; mode++) {
        run r;
        run_init(&r);
        r.reenter = mode;
        xt_parser *p = xt_parser_new(NULL, &cbs, &r, NULL);
        r.p = p;
        assert_int_equal(feed_str(p, HDR), 0);
        int rc = feed_str(p, "<message/><message/>");
        if (mode == 3) {
            /* freed from the callback: the free happened on unwinding */
            assert_int_equal(rc, XT_ECANCELED);
            assert_int_equal(r.stanzas, 1);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(r.reenter_rc, XT_ESTATE);
            assert_int_equal(r.stanzas, 2);
            xt_parser_free(p);
        }
        run_clear(&r);
    }
}

static void test_misc_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *cond;
    } cases[] = {
        /* stream element without its namespace; unbound prefix */
        {"<stream xmlns='jabber:client'>", "invalid-namespace"},
        {"<stream:stream xmlns='jabber:client'>", "not-well-formed"},
        {"<?xml version='1.0' encoding='US-ASCII'?><stream/>", "unsupported-encoding"},
        {"<?xml version='2.0'?><stream/>", "unsupported-version"},
        /* UTF-16 is never auto-detected */
        {"\xff\xfe<\0s\0", "unsupported-encoding"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t chunk = 0; chunk <= 1; chunk++) {
            xt_parser *p = xt_parser_new(NULL, NULL, NULL, NULL);
            size_t len = strlen(cases[i].in);
            if (i == 4)
                len = 6;
            assert_int_equal(feed(p, cases[i].in, len, chunk), XT_EXML);
            if (strcmp(xt_parser_condition(p), cases[i].cond) != 0)
                fail_msg("case %zu: %s, want %s", i, xt_parser_condition(p), cases[i].cond);
            xt_parser_free(p);
        }
    }
    xt_parser_free(NULL);
    assert_int_equal(xt_parser_feed(NULL, "x", 1), XT_EINVAL);
    assert_int_equal(xt_parser_reset(NULL), XT_EINVAL);
    assert_null(xt_parser_condition(NULL));
}

/* The hot path: once warmed up, a typical message stanza costs one
 * allocation (its arena chunk), nothing else. */
static void test_allocations_per_stanza(void **state)
{
    (void)state;
    counter c = {0};
    xt_mem mem = counting(&c);
    run r;
    run_init(&r);
    xt_parser *p = xt_parser_new(&mem, &cbs, &r, NULL);
    assert_int_equal(feed_str(p, HDR), 0);
    const char *m = "<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' "
                    "id='ktx72v49'><body>Art thou not Romeo, and a Montague?</body>"
                    "<active xmlns='http://jabber.org/protocol/chatstates'/></message>";
    for (int i = 0; i < 3; i++)
        assert_int_equal(feed_str(p, m), 0);
    long before = c.calls;
    for (int i = 0; i < 100; i++)
        assert_int_equal(feed_str(p, m), 0);
    print_message("allocations per stanza: %.2f\n", (double)(c.calls - before) / 100);
    assert_int_equal(c.calls - before, 100);
    assert_int_equal(r.stanzas, 103);
    xt_parser_free(p);
    run_clear(&r);
    assert_int_equal(c.live, 0);
}

/* A large stanza fed in one piece (a 16 KiB TLS record, a big roster, a
 * long body) does not leave the parser holding its size afterwards:
 * expat's input buffer and the text scratch go back to a few KiB. */
static void test_memory_after_big_stanza(void **state)
{
    (void)state;
    counter c = {0};
    xt_mem mem = counting(&c);
    run r;
    run_init(&r);
    xt_parser *p = xt_parser_new(&mem, &cbs, &r, NULL);
    assert_int_equal(feed_str(p, HDR), 0);
    const char *small = "<message to='romeo@example.net' type='chat'><body>hi</body></message>";
    assert_int_equal(feed_str(p, small), 0);
    assert_int_equal(feed_str(p, small), 0);
    size_t base = c.bytes;

    size_t body = 60000;
    xt_buf big;
    xt_buf_init(&big, NULL);
    assert_int_equal(xt_buf_append_str(&big, "<message to='romeo@example.net' type='chat'><body>"), 0);
    for (size_t i = 0; i < body; i++)
        assert_int_equal(xt_buf_append_byte(&big, (uint8_t)('a' + i % 26)), 0);
    assert_int_equal(xt_buf_append_str(&big, "</body></message>"), 0);
    assert_int_equal(xt_parser_feed(p, (const char *)xt_buf_head(&big), xt_buf_size(&big)), 0);
    assert_true(c.peak > base + body); /* the body was held while parsing */
    assert_int_equal(feed_str(p, small), 0);
    assert_int_equal(r.stanzas, 4);
    print_message("parser memory: %zu before, %zu after a %zu-byte body\n", base, c.bytes, body);
    assert_true(c.bytes <= base + 8192);
    xt_buf_free(&big);
    xt_parser_free(p);
    run_clear(&r);
    assert_int_equal(c.live, 0);
}

/* Suspending (dropping expat) wherever possible, between any two feeds,
 * changes nothing in what is parsed: same stanzas, same namespaces, the
 * stream close still matched to its start tag, the same errors. */
static void test_suspend_resume(void **state)
{
    (void)state;
    size_t len;
    char *s = full_stream(&len);
    run plain;
    run_init(&plain);
    xt_parser *p = xt_parser_new(NULL, &cbs, &plain, NULL);
    assert_int_equal(feed(p, s, len, 0), 0);
    xt_parser_free(p);
    assert_int_equal(plain.stanzas, 3);
    assert_int_equal(plain.closed, 1);

    static const size_t chunks[] = {1, 7, 64};
    for (size_t k = 0; k < 3; k++) {
        run r;
        run_init(&r);
        p = xt_parser_new(NULL, &cbs, &r, NULL);
        int suspended = 0;
        assert_int_equal(xt_parser_suspend(p), 0); /* before the stream opened */
        for (size_t off = 0; off < len; off += chunks[k]) {
            size_t n = len - off < chunks[k] ? len - off : chunks[k];
            assert_int_equal(xt_parser_feed(p, s + off, n), 0);
            int rc = xt_parser_suspend(p);
            suspended += rc;
            if (rc)
                assert_int_equal(xt_parser_suspend(p), 0); /* already */
        }
        if (chunks[k] == 1)
            assert_true(suspended >= 3); /* after each of the three stanzas */
        assert_int_equal(r.opened, 1);
        assert_int_equal(r.stanzas, 3);
        assert_int_equal(r.closed, 1);
        assert_int_equal(xt_buf_size(&r.log), xt_buf_size(&plain.log));
        assert_memory_equal(xt_buf_head(&r.log), xt_buf_head(&plain.log), xt_buf_size(&plain.log));
        xt_parser_free(p);
        run_clear(&r);
    }

    /* Another prefix for the stream namespace and a prefixed child
     * namespace declared on the stream element, used after a resume. */
    run r;
    run_init(&r);
    p = xt_parser_new(NULL, &cbs, &r, NULL);
    assert_int_equal(feed_str(p, "<s:stream xmlns:s='http://etherx.jabber.org/streams' "
                                 "xmlns='jabber:client' xmlns:db='jabber:server:dialback'>"
                                 "<s:features/>"), 0);
    assert_int_equal(xt_parser_suspend(p), 1);
    assert_int_equal(feed_str(p, "<db:result from='a'/><message><body>x</body></message>"), 0);
    assert_int_equal(xt_parser_suspend(p), 1);
    assert_int_equal(feed_str(p, " "), 0); /* a keepalive */
    assert_int_equal(xt_parser_suspend(p), 1);
    assert_int_equal(feed_str(p, "<message"), 0);
    assert_int_equal(xt_parser_suspend(p), 0); /* mid-stanza */
    assert_int_equal(feed_str(p, "/></s:stream>"), 0);
    assert_int_equal(r.stanzas, 4);
    assert_int_equal(r.closed, 1);
    assert_non_null(strstr((const char *)xt_buf_cstr(&r.log),
                           "<result xmlns='jabber:server:dialback' from='a'/>"));
    xt_parser_free(p);
    run_clear(&r);

    /* Errors after a resume are still errors, at stream offsets; a reset
     * after a suspend starts a clean stream. */
    run_init(&r);
    p = xt_parser_new(NULL, &cbs, &r, NULL);
    assert_int_equal(feed_str(p, HDR), 0);
    assert_int_equal(xt_parser_suspend(p), 1);
    assert_int_equal(feed_str(p, "<!-- no -->"), XT_EXML);
    assert_string_equal(xt_parser_condition(p), "restricted-xml");
    assert_int_equal(xt_parser_suspend(p), 0);
    assert_int_equal(xt_parser_reset(p), 0);
    assert_int_equal(feed_str(p, HDR), 0);
    assert_int_equal(xt_parser_suspend(p), 1);
    assert_int_equal(xt_parser_reset(p), 0);
    assert_int_equal(feed_str(p, HDR), 0);
    assert_int_equal(feed_str(p, "<iq type='get' id='1'/>"), 0);
    assert_int_equal(r.opened, 3);
    assert_int_equal(r.stanzas, 1);
    xt_parser_free(p);
    run_clear(&r);
    run_clear(&plain);
    free(s);
}

/* A suspended parser holds a small fraction of a live one; every
 * allocation of the resume failing in turn is a clean XT_ENOMEM. */
static void test_suspend_memory_and_failure(void **state)
{
    (void)state;
    counter c = {0};
    xt_mem mem = counting(&c);
    run r;
    run_init(&r);
    xt_parser *p = xt_parser_new(&mem, &cbs, &r, NULL);
    assert_int_equal(feed_str(p, HDR), 0);
    assert_int_equal(feed_str(p, "<message><body>hi</body></message>"), 0);
    size_t live = c.bytes;
    assert_int_equal(xt_parser_suspend(p), 1);
    print_message("parser memory: %zu live, %zu suspended\n", live, c.bytes);
    assert_true(c.bytes * 4 < live);
    xt_parser_free(p);
    run_clear(&r);
    assert_int_equal(c.live, 0);

    int completed = 0;
    for (long n = 1; n < 1000 && !completed; n++) {
        counter f = {0};
        xt_mem fm = counting(&f);
        run_init(&r);
        p = xt_parser_new(&fm, &cbs, &r, NULL);
        assert_int_equal(feed_str(p, HDR), 0);
        assert_int_equal(xt_parser_suspend(p), 1);
        f.fail_at = f.calls + n;
        int rc = feed_str(p, "<message><body>hi</body></message>");
        if (rc == 0) {
            completed = 1;
            assert_int_equal(r.stanzas, 1);
        } else {
            assert_int_equal(rc, XT_ENOMEM);
            assert_string_equal(xt_parser_condition(p), "resource-constraint");
        }
        xt_parser_free(p);
        run_clear(&r);
        assert_int_equal(f.live, 0);
    }
    assert_true(completed);
}

/* Every allocation failing in turn, fed whole and byte by byte: a clean
 * XT_ENOMEM / resource-constraint or success, never a leak (ASan). */
static void test_alloc_failure(void **state)
{
    (void)state;
    size_t len;
    char *s = full_stream(&len);
    for (size_t chunk = 0; chunk <= 1; chunk++) {
        long n;
        for (n = 1; n < 100000; n++) {
            counter c = {.fail_at = n};
            xt_mem mem = counting(&c);
            run r;
            run_init(&r);
            xt_parser *p = xt_parser_new(&mem, &cbs, &r, NULL);
            int rc = XT_ENOMEM;
            if (p) {
                rc = feed(p, s, len, chunk);
                if (rc) {
                    if (rc != XT_ENOMEM)
                        fail_msg("fail_at %ld chunk %zu: rc %d %s (%s)", n, chunk, rc,
                                 xt_parser_condition(p), xt_parser_detail(p));
                    assert_string_equal(xt_parser_condition(p), "resource-constraint");
                    assert_int_equal(feed_str(p, " "), XT_ENOMEM);
                    /* a reset recovers (it may itself hit the failure: it did not, the
                     * failed call was counted already) */
                    assert_int_equal(xt_parser_reset(p), 0);
                    assert_int_equal(feed_str(p, HDR), 0);
                }
                xt_parser_free(p);
            }
            run_clear(&r);
            assert_int_equal(c.live, 0);
            if (rc == 0 && c.calls < n)
                break; /* ran to the end without meeting the failure */
        }
        assert_true(n < 100000);
        assert_true(n > 5);
    }
    free(s);
}

/* A start tag of countless attributes, refused by the cap on expat's own
 * heap, leaves expat holding far more than a new stream's cap allows
 * (its attribute array, its input buffer): the reset must still give a
 * working parser (it once failed with XT_ENOMEM, and the client's
 * reconnect after such a server never happened), and give that memory
 * back. */
static void test_reset_after_attribute_flood(void **state)
{
    (void)state;
    counter c = {0};
    xt_mem m = counting(&c);
    run r;
    run_init(&r);
    xt_parser *p = xt_parser_new(&m, &cbs, &r, NULL);
    size_t base = c.bytes;
    char *big = malloc(600000);
    size_t n = (size_t)sprintf(big, "<stream:features");
    for (int i = 0; n < 512 * 1024; i++)
        n += (size_t)sprintf(big + n, " a%d=''", i);
    sprintf(big + n, "/>");
    assert_int_equal(feed_str(p, HDR), 0);
    assert_int_equal(feed_str(p, big), XT_ETOOBIG);
    assert_string_equal(xt_parser_condition(p), "policy-violation");
    size_t held = c.bytes - base;
    assert_int_equal(xt_parser_reset(p), 0);
    print_message("expat held %zu bytes after the flood, %zu after the reset\n", held,
                  c.bytes - base);
    assert_true(c.bytes - base < held / 4);
    assert_int_equal(feed_str(p, HDR), 0);
    assert_int_equal(feed_str(p, "<message><body>after</body></message>"), 0);
    assert_int_equal(r.stanzas, 1);
    free(big);
    xt_parser_free(p);
    run_clear(&r);
    assert_int_equal(c.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_vectors_same_condition),
        cmocka_unit_test(test_full_stream),
        cmocka_unit_test(test_prefixes_and_splits),
        cmocka_unit_test(test_text_coalesced),
        cmocka_unit_test(test_two_stanzas_one_feed_and_keepalives),
        cmocka_unit_test(test_size_boundary),
        cmocka_unit_test(test_depth_boundary),
        cmocka_unit_test(test_trickled_big_tag),
        cmocka_unit_test(test_stop_consumed_reset),
        cmocka_unit_test(test_reset_after_attribute_flood),
        cmocka_unit_test(test_reentrancy),
        cmocka_unit_test(test_misc_rejects),
        cmocka_unit_test(test_allocations_per_stanza),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_memory_after_big_stanza),
        cmocka_unit_test(test_suspend_resume),
        cmocka_unit_test(test_suspend_memory_and_failure),
    };
    return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
