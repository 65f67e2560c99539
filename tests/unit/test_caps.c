/* XEP-0115 verification strings and hashes (src/im/caps.c) against the
 * published vectors in ../shared/vectors/caps.json (XEP-0115 §5.2, §5.3
 * and nbxmpp's processing cases), loaded from the file, not re-typed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vectors.h"
#include "xml/parser.h"
#include "xtalk/disco.h"

static int got_stanza(void *ud, xt_stanza *st)
{
    *(xt_stanza **)ud = st;
    return 0;
}

static int got_open(void *ud, const xt_stanza *h, const char *ns)
{
    (void)ud;
    (void)h;
    (void)ns;
    return 0;
}

/* The vector's <query/> as a tree, parsed as a stream child would be. */
static xt_stanza *parse_query(const char *xml)
{
    xt_stanza *st = NULL;
    xt_parser_callbacks cb = {.stream_open = got_open, .stanza = got_stanza};
    xt_parser *p = xt_parser_new(NULL, &cb, &st, NULL);
    assert_non_null(p);
    static const char open[] = "<stream:stream xmlns='jabber:client' "
                               "xmlns:stream='http://etherx.jabber.org/streams'>";
    assert_int_equal(xt_parser_feed(p, open, sizeof open - 1), 0);
    assert_int_equal(xt_parser_feed(p, xml, strlen(xml)), 0);
    xt_parser_free(p);
    assert_non_null(st);
    return st;
}

static void test_cases(void **state)
{
    (void)state;
    json_t *j = xt_test_load_json("caps.json");
    assert_non_null(j);
    json_t *cases = json_object_get(json_object_get(j, "xep0115"), "cases");
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        xt_stanza *q = parse_query(xt_test_jstr(c, "disco_info_xml"));
        char ver[96];
        assert_int_equal(xt_caps_hash(q, xt_test_jstr(c, "hash"), ver, sizeof ver), 0);
        if (strcmp(ver, xt_test_jstr(c, "ver")) != 0)
            fail_msg("%s: ver %s, expected %s", xt_test_jstr(c, "id"), ver, xt_test_jstr(c, "ver"));
        xt_stanza_free(q);
        n++;
    }
    assert_true(n >= 2);
    json_decref(j);
}

static void test_processing(void **state)
{
    (void)state;
    json_t *j = xt_test_load_json("caps.json");
    assert_non_null(j);
    json_t *cases = json_object_get(json_object_get(j, "xep0115"), "processing");
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        xt_stanza *q = parse_query(xt_test_jstr(c, "disco_info_xml"));
        char ver[96];
        int rc = xt_caps_hash(q, "sha-1", ver, sizeof ver);
        const char *id = xt_test_jstr(c, "id");
        if (strcmp(xt_test_jstr(c, "expect"), "ill-formed") == 0) {
            if (rc != XT_EPROTO)
                fail_msg("%s: %d, expected XT_EPROTO (ill-formed)", id, rc);
        } else if (rc != 0 || strcmp(ver, xt_test_jstr(c, "ver")) != 0) {
            fail_msg("%s: rc %d ver %s, expected %s", id, rc, rc ? "-" : ver,
                     xt_test_jstr(c, "ver"));
        }
        xt_stanza_free(q);
        n++;
    }
    assert_true(n >= 5);
    json_decref(j);
}

static void test_args(void **state)
{
    (void)state;
    xt_stanza *q = parse_query("<query xmlns='http://jabber.org/protocol/disco#info'/>");
    char ver[96], small[8];
    assert_int_equal(xt_caps_hash(NULL, "sha-1", ver, sizeof ver), XT_EINVAL);
    assert_int_equal(xt_caps_hash(q, "md5", ver, sizeof ver), XT_EINVAL);
    assert_int_equal(xt_caps_hash(q, "sha-1", small, sizeof small), XT_EINVAL);
    /* The empty string's SHA-1. */
    assert_int_equal(xt_caps_hash(q, "sha-1", ver, sizeof ver), 0);
    assert_string_equal(ver, "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    assert_int_equal(xt_caps_hash(q, "sha-256", ver, sizeof ver), 0);
    assert_string_equal(ver, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    xt_stanza_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_processing),
        cmocka_unit_test(test_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
