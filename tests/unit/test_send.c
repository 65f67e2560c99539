/* Unit tests: the send path's shortcuts give what the general code gives.
 *  - xt_im_write_message (src/im/message.c) writes the bytes
 *    xt_stanza_serialize writes for the tree xt_conn_send_message used
 *    to build, for awkward bodies, threads, addresses and ids;
 *  - xt_stream_next_id (src/core/stream.c) writes what "%s%llu" would;
 *  - xt_conn_send_message on an online connection: the wire bytes, the
 *    same refusals as before (bad JID, bad text), every id unique. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "canned_login.h"
#include "im/conn_int.h"
#include "xml/serialize.h"
#include "xtalk/conn.h"
#include "xtalk/jid.h"
#include "xtalk/stanza.h"

/* The tree send_message built before the direct writer, serialized. */
static char *tree_bytes(const xt_im_message_out *m)
{
    xt_stanza *st = xt_stanza_new(NULL, "message", XT_NS_CLIENT);
    xt_stanza *o = NULL;
    assert_non_null(st);
    assert_int_equal(xt_stanza_set_attr(st, "to", m->to), 0);
    assert_int_equal(xt_stanza_set_attr(st, "type", m->type), 0);
    assert_int_equal(xt_stanza_set_attr(st, "id", m->id), 0);
    if (m->body)
        assert_non_null(xt_stanza_add_text_child(st, "body", NULL, m->body));
    if (m->thread)
        assert_non_null(xt_stanza_add_text_child(st, "thread", NULL, m->thread));
    assert_non_null(o = xt_stanza_add_child(st, "origin-id", "urn:xmpp:sid:0"));
    assert_int_equal(xt_stanza_set_attr(o, "id", m->id), 0);
    xt_buf b;
    xt_buf_init(&b, NULL);
    assert_int_equal(xt_stanza_serialize(st, XT_NS_CLIENT, &b), 0);
    char *s = strdup(xt_buf_cstr(&b));
    xt_buf_free(&b);
    xt_stanza_free(st);
    return s;
}

static char *writer_bytes(const xt_im_message_out *m)
{
    xt_buf b;
    xt_buf_init(&b, NULL);
    assert_int_equal(xt_im_write_message(&b, m), 0);
    char *s = strdup(xt_buf_cstr(&b));
    xt_buf_free(&b);
    return s;
}

static void test_writer_matches_tree(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        NULL,
        "",
        "hello",
        "a & b < c > d",
        "quotes ' and \" stay in text",
        "line\r\nbreaks\nand\ttabs\r",
        "&amp; already escaped &#13; stays literal",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 non-ASCII",
        "]]> and <![CDATA[ x ]]>",
        "   ",
        "\xef\xbf\xbd\xc2\x85 U+FFFD, NEL",
    };
    static const char *const threads[] = {NULL, "", "e0ffe42b28561960", "t'h\"r&e<a>d\r\n\t"};
    static const char *const tos[] = {
        "juliet@example.com",
        "example.com",
        "romeo@example.net/orchard",
        "a@b/res with ' \" & < > \t\n\r inside",
        "j\xc3\xbcliet@ex\xc3\xa4mple.com/\xe2\x99\x9e",
    };
    static const char *const ids[] = {"t1", "0123456789ab-18446744073709551615",
                                      "id'\"&<>\t\n\r x"};
    static const char *const types[] = {"chat", "normal", "groupchat", "headline"};
    int cases = 0;
    for (size_t b = 0; b < sizeof bodies / sizeof *bodies; b++)
        for (size_t t = 0; t < sizeof threads / sizeof *threads; t++)
            for (size_t j = 0; j < sizeof tos / sizeof *tos; j++)
                for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
                    xt_im_message_out m = {
                        .to = tos[j],
                        .to_len = strlen(tos[j]),
                        .type = types[(b + t + j + i) % 4],
                        .id = ids[i],
                        .id_len = strlen(ids[i]),
                        .body = bodies[b],
                        .thread = threads[t],
                    };
                    char *want = tree_bytes(&m);
                    char *got = writer_bytes(&m);
                    if (strcmp(want, got) != 0)
                        fail_msg("body %zu thread %zu to %zu id %zu:\n tree   %s\n writer %s", b, t,
                                 j, i, want, got);
                    free(want);
                    free(got);
                    cases++;
                }
    assert_int_equal(cases, 11 * 4 * 5 * 3);

    /* One spelled out, so a change to both at once is caught too. */
    xt_im_message_out m = {.to = "a@b/x'y",
                           .to_len = 7,
                           .type = "chat",
                           .id = "t7",
                           .id_len = 2,
                           .body = "1 < 2 & \r",
                           .thread = NULL};
    char *got = writer_bytes(&m);
    assert_string_equal(got, "<message to='a@b/x&apos;y' type='chat' id='t7'><body>1 &lt; 2 "
                             "&amp; &#13;</body><origin-id xmlns='urn:xmpp:sid:0' "
                             "id='t7'/></message>");
    free(got);
}

/* The writer appends to what is already there, across buffer growth. */
static void test_writer_appends(void **state)
{
    (void)state;
    xt_buf b;
    xt_buf_init(&b, NULL);
    assert_int_equal(xt_buf_append(&b, "X", 1), 0);
    char body[3000];
    for (size_t i = 0; i < sizeof body - 1; i++)
        body[i] = "ab&<"[i % 4];
    body[sizeof body - 1] = '\0';
    xt_im_message_out m = {
        .to = "x@y", .to_len = 3, .type = "chat", .id = "i", .id_len = 1, .body = body};
    assert_int_equal(xt_im_write_message(&b, &m), 0);
    char *want = tree_bytes(&m);
    const char *got = xt_buf_cstr(&b);
    assert_int_equal(got[0], 'X');
    assert_string_equal(got + 1, want);
    free(want);
    xt_buf_free(&b);
}

static void test_next_id(void **state)
{
    (void)state;
    static xt_stream s; /* next_id reads only the prefix and the counter */
    static const char *const prefixes[] = {"", "t", "0123456789ab-", "22characters-long-pfx-"};
    static const uint64_t starts[] = {0, 8, 98, 999, 9999999999ULL, UINT64_MAX - 3};
    for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++) {
        memset(&s, 0, sizeof s);
        xt_stream_set_test_id_prefix(&s, prefixes[p]);
        for (size_t k = 0; k < sizeof starts / sizeof *starts; k++) {
            s.id_counter = starts[k];
            for (int n = 0; n < 3; n++) {
                char got[64], want[64];
                xt_stream_next_id(&s, got);
                snprintf(want, sizeof want, "%s%llu", prefixes[p],
                         (unsigned long long)s.id_counter);
                assert_string_equal(got, want);
            }
        }
    }
}

/* ---- a connection online (login of tests/transcripts/_login.inc) ---- */

static void drain(xt_conn *c)
{
    const uint8_t *p;
    size_t n;
    while ((n = xt_conn_pending(c, &p)) > 0)
        xt_conn_consume(c, n);
}

static xt_conn *online(const char *prefix)
{
    xt_conn *c = xt_test_online_conn(prefix, NULL, NULL);
    assert_non_null(c);
    return c;
}

static size_t pending(xt_conn *c)
{
    const uint8_t *p;
    return xt_conn_pending(c, &p);
}

static char *take(xt_conn *c)
{
    const uint8_t *p;
    size_t n = xt_conn_pending(c, &p);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, p, n);
    s[n] = '\0';
    xt_conn_consume(c, n);
    return s;
}

static void test_send_message_wire(void **state)
{
    (void)state;
    xt_conn *c = online("t");
    char id[64];
    /* The address is prepared on the way out: the fast path (ASCII,
     * case, trailing dot) and the full one (non-ASCII) alike. */
    assert_int_equal(xt_conn_send_message(c, "Juliet@Example.COM.", "chat", "hi & bye", NULL, id),
                     0);
    assert_string_equal(id, "t4");
    char *out = take(c);
    assert_string_equal(out, "<message to='juliet@example.com' type='chat' id='t4'><body>hi &amp; "
                             "bye</body><origin-id xmlns='urn:xmpp:sid:0' id='t4'/></message>");
    free(out);
    assert_int_equal(
        xt_conn_send_message(c, "J\xc3\x9cLIET@example.com/Balcony", NULL, NULL, "th", id), 0);
    out = take(c);
    assert_string_equal(out, "<message to='j\xc3\xbcliet@example.com/Balcony' type='chat' "
                             "id='t5'><thread>th</thread><origin-id xmlns='urn:xmpp:sid:0' "
                             "id='t5'/></message>");
    free(out);
    assert_int_equal(xt_conn_send_message_id(c, "a@b.c/r'&", "normal", "x", NULL, "my'id"), 0);
    out = take(c);
    assert_string_equal(out, "<message to='a@b.c/r&apos;&amp;' type='normal' id='my&apos;id'>"
                             "<body>x</body><origin-id xmlns='urn:xmpp:sid:0' "
                             "id='my&apos;id'/></message>");
    free(out);

    /* Refusals as before: the JID error of xt_jid_parse, nothing sent,
     * no id used up. */
    static const char *const bad_jids[] = {"",      "@example.com",    "juliet@",  "a@b/",
                                           "a b@c", "juliet@exa_mple", "a@-b.com", "x@[::1"};
    for (size_t i = 0; i < sizeof bad_jids / sizeof *bad_jids; i++) {
        xt_jid *j = NULL;
        int want = xt_jid_parse(NULL, bad_jids[i], &j, NULL);
        assert_int_not_equal(want, 0);
        assert_int_equal(xt_conn_send_message(c, bad_jids[i], "chat", "x", NULL, NULL), want);
        assert_int_equal(pending(c), 0);
    }
    assert_int_equal(xt_conn_send_message(c, "a@b", "chat", "bad \x01 char", NULL, NULL),
                     XT_EINVAL);
    assert_int_equal(xt_conn_send_message(c, "a@b", "chat", "bad \xc3", NULL, NULL), XT_EINVAL);
    assert_int_equal(xt_conn_send_message(c, "a@b", "chat", NULL, "\x02", NULL), XT_EINVAL);
    assert_int_equal(xt_conn_send_message(c, "a@b", "weird", "x", NULL, NULL), XT_EINVAL);
    assert_int_equal(pending(c), 0);
    assert_int_equal(xt_conn_send_message(c, "a@b", "chat", "x", NULL, id), 0);
    assert_string_equal(id, "t6");
    /* Awaiting its ack (an ack ping follows ack_every messages). */
    assert_true(xt_conn_is_unacked(c, "t6"));
    xt_conn_free(c);
}

/* Real (random) prefixes: "hhhhhhhhhhhh-N", distinct across connections,
 * every id of a connection distinct. */
static void test_ids_unique(void **state)
{
    (void)state;
    xt_conn *a = online(NULL), *b = online(NULL);
    char ia[64], ib[64];
    unsigned long long prev = 0;
    assert_string_not_equal(a->s.id_prefix, b->s.id_prefix);
    assert_int_equal(strlen(a->s.id_prefix), 13);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(xt_conn_send_message(a, "x@y", "chat", "m", NULL, ia), 0);
        assert_int_equal(xt_conn_send_message(b, "x@y", "chat", "m", NULL, ib), 0);
        assert_string_not_equal(ia, ib);
        assert_memory_equal(ia, a->s.id_prefix, 13);
        /* The counter part only grows (the ack ping IQ takes one too). */
        char *end = NULL;
        unsigned long long v = strtoull(ia + 13, &end, 10);
        assert_true(*end == '\0' && v > prev);
        prev = v;
        drain(a);
        drain(b);
    }
    xt_conn_free(a);
    xt_conn_free(b);
}

static int iq_calls, iq_status;

static void count_iq(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)c;
    (void)reply;
    (void)ud;
    iq_calls++;
    iq_status = status;
}

/* xt_conn_iq's documented codes (conn.h): XT_EINVAL, XT_ETOOBIG (the
 * output is full), XT_ESTATE; the callback never runs for a refused
 * request and runs exactly once (XT_ECLOSED) for an accepted one when the
 * stream ends. */
static void test_iq_errors(void **state)
{
    (void)state;
    xt_conn *c = online(NULL);
    drain(c);
    xt_stanza *msg = xt_stanza_new(NULL, "message", XT_NS_CLIENT);
    xt_stanza *res = xt_stanza_new(NULL, "iq", XT_NS_CLIENT);
    xt_stanza *get = xt_stanza_new(NULL, "iq", XT_NS_CLIENT);
    assert_int_equal(xt_stanza_set_attr(res, "type", "result"), 0);
    assert_int_equal(xt_stanza_set_attr(get, "type", "get"), 0);
    assert_non_null(xt_stanza_add_child(get, "ping", "urn:xmpp:ping"));
    iq_calls = 0;
    assert_int_equal(xt_conn_iq(NULL, get, 0, count_iq, NULL), XT_EINVAL);
    assert_int_equal(xt_conn_iq(c, NULL, 0, count_iq, NULL), XT_EINVAL);
    assert_int_equal(xt_conn_iq(c, msg, 0, count_iq, NULL), XT_EINVAL);
    assert_int_equal(xt_conn_iq(c, res, 0, count_iq, NULL), XT_EINVAL);
    assert_int_equal(pending(c), 0);
    /* A peer that stops reading: the output fills up (16 MiB). */
    size_t big = (size_t)1 << 20;
    char *body = malloc(big + 1);
    assert_non_null(body);
    memset(body, 'x', big);
    body[big] = '\0';
    int rc = 0;
    for (int i = 0; i < 40 && rc == 0; i++)
        rc = xt_conn_send_message(c, "a@b", "chat", body, NULL, NULL);
    free(body);
    assert_int_equal(rc, XT_ETOOBIG);
    /* Up to the last few bytes, with <presence/>s (smaller than the IQ). */
    xt_stanza *pres = xt_stanza_new(NULL, "presence", XT_NS_CLIENT);
    while ((rc = xt_conn_send(c, pres)) == 0)
        ;
    xt_stanza_free(pres);
    assert_int_equal(rc, XT_ETOOBIG);
    assert_int_equal(xt_conn_iq(c, get, 0, count_iq, NULL), XT_ETOOBIG);
    drain(c);
    assert_int_equal(xt_conn_iq(c, get, 0, count_iq, NULL), 0);
    assert_int_equal(iq_calls, 0);
    assert_int_equal(xt_conn_eof(c, XT_EIO, "gone", 5), XT_EIO);
    assert_int_equal(iq_calls, 1);
    assert_int_equal(iq_status, XT_ECLOSED);
    assert_int_equal(xt_conn_iq(c, get, 0, count_iq, NULL), XT_ESTATE);
    assert_int_equal(iq_calls, 1);
    xt_stanza_free(msg);
    xt_stanza_free(res);
    xt_stanza_free(get);
    xt_conn_free(c);
}

/* XEP-0198 queue entries are one block (bytes, then the id): every mix
 * of data and id comes back intact and is freed once (ASan run). */
static void test_sm_entries(void **state)
{
    (void)state;
    xt_sm_queue q = {0};
    for (int i = 0; i < 40; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        const char *data = i % 4 == 1 ? NULL : "<message id='x'/>";
        size_t len = i % 4 == 3 ? 0 : (data ? strlen(data) : 0);
        assert_int_equal(xt_sm_queue_push(NULL, &q, data, len, i % 4 == 2 ? NULL : id), 0);
    }
    assert_true(xt_sm_queue_has(&q, "m39"));
    assert_false(xt_sm_queue_has(&q, "m38")); /* pushed without an id */
    xt_sm_entry e;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(xt_sm_queue_pop(&q, &e), 1);
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        if (i % 4 == 2)
            assert_null(e.msg_id);
        else
            assert_string_equal(e.msg_id, id);
        if (i % 4 == 1) {
            assert_null(e.data);
        } else {
            assert_non_null(e.data);
            assert_int_equal(e.len, i % 4 == 3 ? 0 : 17);
            if (e.len)
                assert_memory_equal(e.data, "<message id='x'/>", 17);
        }
        xt_sm_entry_done(NULL, &e);
    }
    assert_int_equal(xt_sm_queue_push(NULL, &q, NULL, 0, NULL), 0);
    xt_sm_queue_free(NULL, &q); /* the other 21 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_matches_tree),
        cmocka_unit_test(test_writer_appends),
        cmocka_unit_test(test_next_id),
        cmocka_unit_test(test_send_message_wire),
        cmocka_unit_test(test_ids_unique),
        cmocka_unit_test(test_iq_errors),
        cmocka_unit_test(test_sm_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
