/* Unit tests: the element tree (build, query, copy) and the serializer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/mem.h"
#include "xml/known.h"
#include "xml/parser.h"
#include "xml/serialize.h"
#include "xml/stanza_int.h"
#include "xtalk/stanza.h"

/* ---- a counting allocator that can fail the Nth allocation ---- */

typedef struct counter {
    long allocs;  /* successful malloc/realloc calls */
    long fail_at; /* 1-based index of the call to fail; 0 = never */
    long calls;
    long live;
} counter;

static void *c_malloc(size_t n, void *ud)
{
    counter *c = ud;
    if (c->fail_at && ++c->calls == c->fail_at)
        return NULL;
    c->allocs++;
    c->live++;
    return malloc(n);
}

static void *c_realloc(void *p, size_t n, void *ud)
{
    counter *c = ud;
    if (c->fail_at && ++c->calls == c->fail_at)
        return NULL;
    c->allocs++;
    if (!p)
        c->live++;
    return realloc(p, n);
}

static void c_free(void *p, void *ud)
{
    counter *c = ud;
    if (p)
        c->live--;
    free(p);
}

static xt_mem counting(counter *c)
{
    return (xt_mem){.malloc = c_malloc, .realloc = c_realloc, .free = c_free, .ud = c};
}

/* Serializes and compares, freeing the string. */
static void assert_xml(const xt_stanza *st, const char *inherited, const char *want)
{
    size_t len = 0;
    char *s = xt_stanza_to_string(st, inherited, &len);
    assert_non_null(s);
    assert_string_equal(s, want);
    assert_int_equal(len, strlen(want));
    xt_free(NULL, s);
}

static xt_stanza *sample_message(const xt_mem *mem)
{
    xt_stanza *m = xt_stanza_new(mem, "message", XT_NS_CLIENT);
    if (!m)
        return NULL;
    if (xt_stanza_set_attr(m, "to", "juliet@example.com") || xt_stanza_set_attr(m, "type", "chat") ||
        xt_stanza_set_attr(m, "id", "m1") || !xt_stanza_add_text_child(m, "body", NULL, "Art thou?") ||
        !xt_stanza_add_child(m, "active", "http://jabber.org/protocol/chatstates")) {
        xt_stanza_free(m);
        return NULL;
    }
    return m;
}

static void test_build_and_query(void **state)
{
    (void)state;
    xt_stanza *m = sample_message(NULL);
    assert_non_null(m);
    assert_string_equal(xt_stanza_name(m), "message");
    assert_string_equal(xt_stanza_ns(m), XT_NS_CLIENT);
    assert_string_equal(xt_stanza_attr(m, "to"), "juliet@example.com");
    assert_null(xt_stanza_attr(m, "from"));
    assert_null(xt_stanza_parent(m));

    xt_stanza *body = xt_stanza_child(m, "body", XT_NS_CLIENT);
    assert_non_null(body);
    assert_ptr_equal(xt_stanza_parent(body), m);
    assert_string_equal(xt_stanza_ns(body), XT_NS_CLIENT); /* NULL ns = parent's */
    assert_string_equal(xt_stanza_text(body), "Art thou?");
    assert_string_equal(xt_stanza_child_text(m, "body", NULL), "Art thou?");
    assert_null(xt_stanza_child(m, "body", "urn:other"));
    assert_null(xt_stanza_child_text(m, "subject", NULL));
    assert_ptr_equal(xt_stanza_child(m, "body", NULL), body);
    xt_stanza *act = xt_stanza_child(m, NULL, "http://jabber.org/protocol/chatstates");
    assert_non_null(act);
    assert_string_equal(xt_stanza_name(act), "active");
    assert_string_equal(xt_stanza_text(act), "");
    assert_string_equal(xt_stanza_text(m), "");

    /* iteration */
    assert_ptr_equal(xt_stanza_first_child(m), body);
    assert_ptr_equal(xt_stanza_next_sibling(body), act);
    assert_null(xt_stanza_next_sibling(act));
    assert_null(xt_stanza_first_child(act));

    const char *n, *v;
    const char *want[][2] = {{"to", "juliet@example.com"}, {"type", "chat"}, {"id", "m1"}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(xt_stanza_attr_at(m, i, &n, &v), 0);
        assert_string_equal(n, want[i][0]);
        assert_string_equal(v, want[i][1]);
    }
    assert_int_equal(xt_stanza_attr_at(m, 3, &n, &v), XT_ENOTFOUND);

    /* replace and remove */
    assert_int_equal(xt_stanza_set_attr(m, "type", "normal"), 0);
    assert_string_equal(xt_stanza_attr(m, "type"), "normal");
    assert_int_equal(xt_stanza_set_attr(m, "to", NULL), 0);
    assert_null(xt_stanza_attr(m, "to"));
    assert_int_equal(xt_stanza_attr_at(m, 0, &n, &v), 0);
    assert_string_equal(n, "type");
    assert_int_equal(xt_stanza_set_attr(m, "nope", NULL), 0);
    xt_stanza_free(m);
}

static void test_serialize_basic(void **state)
{
    (void)state;
    xt_stanza *m = sample_message(NULL);
    assert_non_null(m);
    assert_xml(m, XT_NS_CLIENT,
               "<message to='juliet@example.com' type='chat' id='m1'><body>Art thou?</body>"
               "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
    assert_xml(m, NULL,
               "<message xmlns='jabber:client' to='juliet@example.com' type='chat' id='m1'>"
               "<body>Art thou?</body>"
               "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
    /* A non-root node serializes with its parent's namespace in scope only
     * if the caller says so. */
    assert_xml(xt_stanza_child(m, "body", NULL), XT_NS_CLIENT, "<body>Art thou?</body>");
    assert_xml(xt_stanza_child(m, "body", NULL), NULL, "<body xmlns='jabber:client'>Art thou?</body>");

    /* An element without a namespace under a default one: xmlns=''. */
    xt_stanza *iq = xt_stanza_new(NULL, "iq", XT_NS_CLIENT);
    xt_stanza *q = xt_stanza_add_child(iq, "query", "jabber:iq:roster");
    assert_non_null(xt_stanza_add_child(q, "item", ""));
    assert_non_null(xt_stanza_add_child(q, "item", NULL));
    assert_xml(iq, XT_NS_CLIENT,
               "<iq><query xmlns='jabber:iq:roster'><item xmlns=''/><item/></query></iq>");
    xt_stanza *bare = xt_stanza_new(NULL, "x", NULL);
    assert_string_equal(xt_stanza_ns(bare), "");
    assert_xml(bare, NULL, "<x/>");
    assert_xml(bare, "jabber:client", "<x xmlns=''/>");
    xt_stanza_free(bare);
    xt_stanza_free(iq);
    xt_stanza_free(m);
}

static void test_escaping(void **state)
{
    (void)state;
    xt_stanza *m = xt_stanza_new(NULL, "m", "urn:a&b");
    const char *specials = "<>&'\"\r\n\t";
    assert_int_equal(xt_stanza_set_attr(m, "v", specials), 0);
    assert_int_equal(xt_stanza_add_text(m, specials, strlen(specials)), 0);
    assert_xml(m, NULL,
               "<m xmlns='urn:a&amp;b' v='&lt;&gt;&amp;&apos;&quot;&#13;&#10;&#9;'>"
               "&lt;&gt;&amp;'\"&#13;\n\t</m>");
    xt_stanza_free(m);

    /* non-ASCII passes through unchanged */
    m = xt_stanza_new(NULL, "m", NULL);
    const char *u = "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad";
    assert_int_equal(xt_stanza_set_attr(m, "u", u), 0);
    assert_int_equal(xt_stanza_add_text(m, u, strlen(u)), 0);
    assert_xml(m, NULL, "<m u='caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad'>caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad</m>");
    xt_stanza_free(m);
}

static void test_namespaced_attrs(void **state)
{
    (void)state;
    xt_stanza *m = xt_stanza_new(NULL, "message", XT_NS_CLIENT);
    assert_int_equal(xt_stanza_set_attr(m, "xml:lang", "en"), 0);
    assert_int_equal(xt_stanza_set_attr(m, "urn:x|foo", "1"), 0);
    assert_int_equal(xt_stanza_set_attr(m, "id", "2"), 0);
    assert_int_equal(xt_stanza_set_attr(m, "urn:x|bar", "3"), 0);
    assert_int_equal(xt_stanza_set_attr(m, "urn:y|foo", "4"), 0);
    assert_string_equal(xt_stanza_attr(m, "xml:lang"), "en");
    assert_string_equal(xt_stanza_attr(m, "urn:x|foo"), "1");
    assert_xml(m, XT_NS_CLIENT,
               "<message xml:lang='en' xmlns:a1='urn:x' a1:foo='1' id='2' a1:bar='3' "
               "xmlns:a4='urn:y' a4:foo='4'/>");
    /* and back through the parser to the same names */
    xt_stanza_free(m);
}

static void test_mixed_content(void **state)
{
    (void)state;
    xt_stanza *p = xt_stanza_new(NULL, "p", "http://www.w3.org/1999/xhtml");
    assert_int_equal(xt_stanza_add_text(p, "Hello ", 6), 0);
    xt_stanza *b = xt_stanza_add_text_child(p, "b", NULL, "big");
    assert_non_null(b);
    assert_int_equal(xt_stanza_add_text(p, " world", 6), 0);
    assert_string_equal(xt_stanza_text(p), "Hello  world");
    assert_int_equal(xt_stanza_add_text(p, "!", 1), 0); /* invalidates the cache */
    assert_string_equal(xt_stanza_text(p), "Hello  world!");
    assert_int_equal(p->ntext, 2);
    assert_xml(p, "http://www.w3.org/1999/xhtml", "<p>Hello <b>big</b> world!</p>");
    xt_stanza_free(p);

    /* many small appends coalesce into one run */
    xt_stanza *t = xt_stanza_new(NULL, "t", NULL);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(xt_stanza_add_text(t, i % 2 ? "b" : "a", 1), 0);
    assert_int_equal(t->ntext, 1);
    const char *s = xt_stanza_text(t);
    assert_int_equal(strlen(s), 20000);
    assert_memory_equal(s, "abab", 4);
    xt_stanza_free(t);
}

static void test_invalid_input(void **state)
{
    (void)state;
    assert_null(xt_stanza_new(NULL, "a b", NULL));
    assert_null(xt_stanza_new(NULL, "", NULL));
    assert_null(xt_stanza_new(NULL, "p:x", NULL));
    assert_null(xt_stanza_new(NULL, NULL, NULL));
    assert_null(xt_stanza_new(NULL, "x", "bad\x01ns"));
    xt_stanza *m = xt_stanza_new(NULL, "m", NULL);
    assert_int_equal(xt_stanza_set_attr(m, "xmlns", "x"), XT_EINVAL);
    assert_int_equal(xt_stanza_set_attr(m, "xmlns:p", "x"), XT_EINVAL);
    assert_int_equal(xt_stanza_set_attr(m, "a b", "x"), XT_EINVAL);
    assert_int_equal(xt_stanza_set_attr(m, "a='1'", "x"), XT_EINVAL);
    assert_int_equal(xt_stanza_set_attr(m, "|x", "x"), XT_EINVAL);
    assert_int_equal(xt_stanza_set_attr(m, "urn:x|", "x"), XT_EINVAL);
    assert_int_equal(xt_stanza_set_attr(m, "a", "ctl\x01"), XT_EINVAL);
    assert_int_equal(xt_stanza_set_attr(m, "a", "bad \xc0\xaf utf8"), XT_EINVAL);
    assert_int_equal(xt_stanza_set_attr(m, "a", "\xef\xbf\xbf"), XT_EINVAL); /* U+FFFF */
    assert_int_equal(xt_stanza_add_text(m, "\xed\xa0\x80", 3), XT_EINVAL);  /* surrogate */
    assert_int_equal(xt_stanza_add_text(m, "\xe2\x82", 2), XT_EINVAL);      /* truncated */
    assert_int_equal(xt_stanza_add_text(m, "a\0b", 3), XT_EINVAL);
    assert_null(xt_stanza_add_text_child(m, "b", NULL, "\x1f"));
    assert_null(xt_stanza_add_child(m, "<b>", NULL));
    assert_null(xt_stanza_first_child(m)); /* nothing was added */
    assert_int_equal(m->nattrs, 0);
    assert_xml(m, NULL, "<m/>");
    xt_stanza_free(m);
    xt_stanza_free(NULL);
    assert_null(xt_stanza_copy(NULL));
    assert_null(xt_stanza_to_string(NULL, NULL, NULL));
}

static void test_copy(void **state)
{
    (void)state;
    xt_stanza *m = sample_message(NULL);
    assert_int_equal(xt_stanza_set_attr(m, "xml:lang", "fr"), 0);
    assert_int_equal(xt_stanza_set_attr(m, "urn:x|a", "v"), 0);
    xt_stanza *body = xt_stanza_child(m, "body", NULL);
    assert_int_equal(xt_stanza_add_text(body, " & more", 7), 0);
    char *orig = xt_stanza_to_string(m, NULL, NULL);
    xt_stanza *c = xt_stanza_copy(m);
    assert_non_null(c);
    assert_ptr_not_equal(c, m);
    char *copy = xt_stanza_to_string(c, NULL, NULL);
    assert_string_equal(orig, copy);
    /* independent trees */
    assert_int_equal(xt_stanza_set_attr(c, "id", "other"), 0);
    assert_string_equal(xt_stanza_attr(m, "id"), "m1");
    xt_stanza_free(m);
    assert_string_equal(xt_stanza_child_text(c, "body", NULL), "Art thou? & more");

    /* a subtree becomes a root */
    xt_stanza *sub = xt_stanza_copy(xt_stanza_child(c, "body", NULL));
    assert_null(xt_stanza_parent(sub));
    assert_xml(sub, NULL, "<body xmlns='jabber:client'>Art thou? &amp; more</body>");
    /* freeing a non-root is a no-op: the tree stays usable */
    xt_stanza_free(xt_stanza_child(c, "body", NULL));
    assert_string_equal(xt_stanza_child_text(c, "body", NULL), "Art thou? & more");
    xt_stanza_free(sub);
    xt_stanza_free(c);
    xt_free(NULL, orig);
    xt_free(NULL, copy);
}

static void test_big_and_deep(void **state)
{
    (void)state;
    /* Many chunks: 5000 children with attributes and text. */
    xt_stanza *r = xt_stanza_new(NULL, "r", "urn:r");
    for (int i = 0; i < 5000; i++) {
        xt_stanza *c = xt_stanza_add_text_child(r, "c", NULL, "0123456789");
        assert_non_null(c);
        assert_int_equal(xt_stanza_set_attr(c, "n", "v"), 0);
    }
    size_t len;
    char *s = xt_stanza_to_string(r, NULL, &len);
    assert_non_null(s);
    assert_int_equal(len, strlen("<r xmlns='urn:r'>") + 5000 * strlen("<c n='v'>0123456789</c>") + 4);
    xt_free(NULL, s);
    xt_stanza_free(r);

    /* Deep: the walkers are iterative, so 100000 levels cost no stack. */
    xt_stanza *d = xt_stanza_new(NULL, "d", NULL);
    xt_stanza *cur = d;
    for (int i = 0; i < 100000; i++)
        assert_non_null(cur = xt_stanza_add_child(cur, "d", NULL));
    xt_stanza *dc = xt_stanza_copy(d);
    assert_non_null(dc);
    s = xt_stanza_to_string(dc, NULL, &len);
    assert_non_null(s);
    assert_int_equal(len, 100000 * 7 + 4);
    xt_free(NULL, s);
    xt_stanza_free(dc);
    xt_stanza_free(d);
}

static void test_serialize_reuses_buffer(void **state)
{
    (void)state;
    counter c = {0};
    xt_mem mem = counting(&c);
    xt_stanza *m = sample_message(&mem);
    assert_non_null(m);
    assert_int_equal(c.allocs, 1); /* a typical message: one arena chunk */
    xt_buf b;
    xt_buf_init(&b, &mem);
    assert_int_equal(xt_stanza_serialize(m, XT_NS_CLIENT, &b), 0);
    size_t one = xt_buf_size(&b);
    long before = c.allocs;
    xt_buf_clear(&b);
    for (int i = 0; i < 3; i++)
        assert_int_equal(xt_stanza_serialize(m, XT_NS_CLIENT, &b), 0);
    xt_buf_clear(&b);
    assert_int_equal(xt_stanza_serialize(m, XT_NS_CLIENT, &b), 0);
    long after = c.allocs;
    /* At most the growth to three stanzas' worth; then nothing. */
    assert_true(after - before <= 2);
    xt_buf_clear(&b);
    assert_int_equal(xt_stanza_serialize(m, XT_NS_CLIENT, &b), 0);
    assert_int_equal(c.allocs, after);
    assert_int_equal(xt_buf_size(&b), one);

    /* A failed serialization leaves the buffer as it was. */
    b.limit = one + 10;
    assert_int_equal(xt_stanza_serialize(m, XT_NS_CLIENT, &b), XT_ETOOBIG);
    assert_int_equal(xt_buf_size(&b), one);
    xt_buf_consume(&b, 5);
    assert_int_equal(xt_stanza_serialize(m, XT_NS_CLIENT, &b), XT_ETOOBIG);
    assert_int_equal(xt_buf_size(&b), one - 5);
    xt_buf_free(&b);
    xt_stanza_free(m);
    assert_int_equal(c.live, 0);
}

/* ---- round trip through the parser ---- */

static const char header[] =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

static int grab(void *ud, xt_stanza *st)
{
    xt_stanza **out = ud;
    assert_null(*out);
    *out = st;
    return 0;
}

static xt_stanza *parse_one(const char *xml)
{
    xt_stanza *got = NULL;
    xt_parser_callbacks cb = {.stanza = grab};
    xt_parser *p = xt_parser_new(NULL, &cb, &got, NULL);
    assert_non_null(p);
    assert_int_equal(xt_parser_feed(p, header, strlen(header)), 0);
    int rc = xt_parser_feed(p, xml, strlen(xml));
    if (rc)
        fail_msg("parse failed: %s (%s) for %s", xt_parser_condition(p), xt_parser_detail(p), xml);
    xt_parser_free(p);
    assert_non_null(got);
    return got;
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *inputs[] = {
        "<message to='a@b' type=\"chat\"><body>x &amp; y &lt; z</body></message>",
        "<message xml:lang='fr' xmlns:q='urn:q' q:attr='1'><body xml:lang='en'>hi</body></message>",
        "<iq type='result' id='r'><query xmlns='jabber:iq:roster' ver='1'>"
        "<item jid='romeo@example.net' name='R&apos;o'><group>Friends</group></item></query></iq>",
        "<message><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>"
        "<p>a<b>b</b>c<i>d</i>e</p></body></html></message>",
        "<message id='a&#9;b&#10;c&#13;d'><body>line1&#13;\nline2\r\nline3\rend</body></message>",
        "<presence><x xmlns='urn:a'><y xmlns=''/></x></presence>",
        "<message><body><![CDATA[<b>&amp;</b>]]>\xf0\x9f\x98\x80</body></message>",
        "<a:message xmlns:a='jabber:client' xmlns:b='urn:b' b:x='1' b:y='2'/>",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        xt_stanza *a = parse_one(inputs[i]);
        char *s1 = xt_stanza_to_string(a, XT_NS_CLIENT, NULL);
        assert_non_null(s1);
        xt_stanza *b = parse_one(s1);
        char *s2 = xt_stanza_to_string(b, XT_NS_CLIENT, NULL);
        if (strcmp(s1, s2) != 0)
            fail_msg("round trip %zu unstable:\n%s\n%s", i, s1, s2);
        xt_free(NULL, s1);
        xt_free(NULL, s2);
        xt_stanza_free(a);
        xt_stanza_free(b);
    }

    /* Specific values survive: CR/TAB/LF in attributes, CR in text. */
    xt_stanza *m = parse_one(inputs[4]);
    assert_string_equal(xt_stanza_attr(m, "id"), "a\tb\nc\rd");
    assert_string_equal(xt_stanza_child_text(m, "body", NULL), "line1\r\nline2\nline3\nend");
    char *s = xt_stanza_to_string(m, XT_NS_CLIENT, NULL);
    assert_string_equal(s, "<message id='a&#9;b&#10;c&#13;d'><body>line1&#13;\nline2\nline3\nend</body></message>");
    xt_free(NULL, s);
    xt_stanza_free(m);

    m = parse_one(inputs[1]);
    assert_string_equal(xt_stanza_attr(m, "xml:lang"), "fr");
    assert_string_equal(xt_stanza_attr(m, "urn:q|attr"), "1");
    s = xt_stanza_to_string(m, XT_NS_CLIENT, NULL);
    assert_string_equal(s, "<message xml:lang='fr' xmlns:a1='urn:q' a1:attr='1'><body xml:lang='en'>hi</body></message>");
    xt_free(NULL, s);
    xt_stanza_free(m);

    /* The XML namespace's names become "xml:local"; other namespaced
     * names stay "URI|local". */
    m = parse_one("<message xml:space='preserve' xmlns:p='http://www.w3.org/XML/1998/namespacex' "
                  "p:a='1' xml:lang='en'/>");
    assert_string_equal(xt_stanza_attr(m, "xml:space"), "preserve");
    assert_string_equal(xt_stanza_attr(m, "xml:lang"), "en");
    assert_string_equal(xt_stanza_attr(m, "http://www.w3.org/XML/1998/namespacex|a"), "1");
    assert_int_equal(m->nattrs, 3);
    xt_stanza_free(m);

    /* Set through the API, parsed back to the same values. */
    m = xt_stanza_new(NULL, "message", XT_NS_CLIENT);
    const char *v = "<>&'\" \r\n\t \xc3\xa9";
    assert_int_equal(xt_stanza_set_attr(m, "urn:x|v", v), 0);
    assert_int_equal(xt_stanza_add_text(m, v, strlen(v)), 0);
    s = xt_stanza_to_string(m, XT_NS_CLIENT, NULL);
    xt_stanza *back = parse_one(s);
    assert_string_equal(xt_stanza_attr(back, "urn:x|v"), v);
    assert_string_equal(xt_stanza_text(back), v);
    xt_free(NULL, s);
    xt_stanza_free(back);
    xt_stanza_free(m);
}

/* A message as Prosody delivers it to `xtalk listen` (bench/run row 6):
 * from, to, id, xml:lang, type, a body, XEP-0359's origin-id and the
 * server's stanza-id. */
static const char prosody_message[] =
    "<message from='alice@localhost/xt_client~tDa5MLjZN9pgUAND1lUQQO0m' to='bob@localhost' "
    "id='858e9d7d8c98-5' xml:lang='en' type='chat'><body>Are you coming to the meeting tomorrow "
    "at ten? Bring the printed slides and the notes, please.</body><origin-id "
    "xmlns='urn:xmpp:sid:0' id='858e9d7d8c98-5'/><stanza-id xmlns='urn:xmpp:sid:0' "
    "by='bob@localhost' id='A3sssseMx9D3vua0XAl-O3fK'/></message>";

/* Issue 14: a received message's tree is one allocation, its first
 * chunk. A second chunk (over the C library's per-thread cache size)
 * cost ~500 instructions a message in `listen`. */
static void test_message_fits_first_chunk(void **state)
{
    (void)state;
    xt_stanza *m = parse_one(prosody_message);
    assert_null(m->tree->chunks);
    /* With a longer sender and ids still (a 3-part JID, 36-byte ids). */
    xt_stanza *big = parse_one(
        "<message from='alice.wonderland@conference.example.org/Kitchen Table Laptop' "
        "to='bob.builder@example.org/xtalk.Abc123' id='0f8e2a8c-4a1b-4c7e-9a55-2b8f9d3e1c77' "
        "xml:lang='en' type='chat'><body>Are you coming to the meeting tomorrow at ten? Bring the "
        "printed slides and the notes, please.</body><origin-id xmlns='urn:xmpp:sid:0' "
        "id='0f8e2a8c-4a1b-4c7e-9a55-2b8f9d3e1c77'/><stanza-id xmlns='urn:xmpp:sid:0' "
        "by='bob.builder@example.org' id='7d1c3b2a-9e8f-4a6b-8c5d-1e2f3a4b5c6d'/></message>");
    assert_null(big->tree->chunks);
    xt_stanza_free(big);
    xt_stanza_free(m);
}

/* xml/known.h's invariant: a name equal to a table entry is that entry,
 * whichever way the tree was built, and the ids say which. */
static void test_known_names(void **state)
{
    (void)state;
    assert_null(xt_known_str(XT_K_NONE));
    assert_null(xt_known_str(XT_K_COUNT));
    for (int k = XT_K_NONE + 1; k < XT_K_COUNT; k++) {
        const char *s = xt_known_str((xt_known)k);
        assert_non_null(s);
        /* As a namespace through the API (any text is a valid one). */
        xt_stanza *e = xt_stanza_new(NULL, "e", s);
        assert_non_null(e);
        assert_int_equal(xt_stanza_ns_k(e), k);
        assert_ptr_equal(xt_stanza_ns(e), s);
        assert_int_equal(xt_stanza_name_k(e), XT_K_NONE);
        /* One byte short: another entry only if that is its string. */
        char shorter[64];
        size_t n = strlen(s);
        assert_true(n < sizeof shorter);
        memcpy(shorter, s, n - 1);
        shorter[n - 1] = '\0';
        xt_stanza *c = xt_stanza_add_child(e, "c", shorter);
        assert_non_null(c);
        xt_known ck = xt_stanza_ns_k(c);
        if (ck != XT_K_NONE)
            assert_string_equal(xt_known_str(ck), shorter);
        xt_stanza_free(e);
    }

    /* Parsed: element names, namespaces and attribute names. */
    xt_stanza *m = parse_one(prosody_message);
    assert_int_equal(xt_stanza_name_k(m), XT_K_MESSAGE);
    assert_int_equal(xt_stanza_ns_k(m), XT_K_NS_CLIENT);
    assert_string_equal(xt_stanza_attr_k(m, XT_K_FROM), "alice@localhost/xt_client~tDa5MLjZN9pgUAND1lUQQO0m");
    assert_string_equal(xt_stanza_attr_k(m, XT_K_TO), "bob@localhost");
    assert_string_equal(xt_stanza_attr_k(m, XT_K_XML_LANG), "en");
    assert_string_equal(xt_stanza_attr_k(m, XT_K_TYPE), "chat");
    assert_null(xt_stanza_attr_k(m, XT_K_BY));
    xt_stanza *body = xt_stanza_first_child(m);
    assert_int_equal(xt_stanza_name_k(body), XT_K_BODY);
    assert_int_equal(xt_stanza_ns_k(body), XT_K_NS_CLIENT);
    xt_stanza *oid = xt_stanza_next_sibling(body), *sid = xt_stanza_next_sibling(oid);
    assert_int_equal(xt_stanza_name_k(oid), XT_K_ORIGIN_ID);
    assert_int_equal(xt_stanza_ns_k(oid), XT_K_NS_SID);
    assert_int_equal(xt_stanza_name_k(sid), XT_K_STANZA_ID);
    assert_int_equal(xt_stanza_ns_k(sid), XT_K_NS_SID);
    assert_string_equal(xt_stanza_attr_k(sid, XT_K_BY), "bob@localhost");
    assert_string_equal(xt_stanza_attr_k(sid, XT_K_ID), "A3sssseMx9D3vua0XAl-O3fK");
    /* Byte for byte the same when serialized. */
    char *s = xt_stanza_to_string(m, XT_NS_CLIENT, NULL);
    assert_string_equal(s, prosody_message);
    xt_free(NULL, s);

    /* A copy, and attributes set through the API, keep the invariant. */
    xt_stanza *cp = xt_stanza_copy(m);
    assert_non_null(cp);
    assert_int_equal(xt_stanza_ns_k(xt_stanza_next_sibling(xt_stanza_first_child(cp))), XT_K_NS_SID);
    assert_string_equal(xt_stanza_attr_k(cp, XT_K_XML_LANG), "en");
    assert_int_equal(xt_stanza_set_attr(cp, "by", "x@y"), 0);
    assert_string_equal(xt_stanza_attr_k(cp, XT_K_BY), "x@y");
    assert_int_equal(xt_stanza_set_attr(cp, "xml:lang", "de"), 0);
    assert_string_equal(xt_stanza_attr_k(cp, XT_K_XML_LANG), "de");
    /* An element name outside the table, in a known namespace. */
    xt_stanza *q = xt_stanza_add_child(cp, "bodyx", NULL);
    assert_int_equal(xt_stanza_name_k(q), XT_K_NONE);
    assert_int_equal(xt_stanza_ns_k(q), XT_K_NS_CLIENT);
    xt_stanza_free(cp);
    xt_stanza_free(m);
}

/* Every allocation of build + copy + serialize failing in turn. */
static void test_alloc_failure(void **state)
{
    (void)state;
    for (long n = 1;; n++) {
        counter c = {.fail_at = n};
        xt_mem mem = counting(&c);
        int ok = 0;
        xt_stanza *m = xt_stanza_new(&mem, "message", XT_NS_CLIENT);
        xt_stanza *cp = NULL;
        char *s = NULL;
        if (m) {
            xt_stanza *last = m;
            for (int i = 0; i < 40 && last; i++) {
                last = xt_stanza_add_text_child(m, "body", NULL, "some text that takes some room here");
                if (last && xt_stanza_set_attr(last, "urn:x|k", "value value value"))
                    last = NULL;
            }
            if (last && (cp = xt_stanza_copy(m)) && (s = xt_stanza_to_string(cp, NULL, NULL)))
                ok = 1;
        }
        xt_free(&mem, s);
        xt_stanza_free(cp);
        xt_stanza_free(m);
        assert_int_equal(c.live, 0);
        if (ok) {
            assert_true(c.calls < n); /* the failure point was never reached */
            break;
        }
        assert_true(n < 10000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_query),
        cmocka_unit_test(test_serialize_basic),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_namespaced_attrs),
        cmocka_unit_test(test_mixed_content),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_big_and_deep),
        cmocka_unit_test(test_serialize_reuses_buffer),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_message_fits_first_chunk),
        cmocka_unit_test(test_known_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
