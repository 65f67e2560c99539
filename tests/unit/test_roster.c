/*
 * The IM models on their own: the roster (RFC 6121 §2) and the presence
 * table (§4). Their protocol side is covered by the transcripts in
 * test_stream.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "im/presence.h"
#include "im/roster.h"
#include "xtalk/stanza.h"

static xt_stanza *item(xt_stanza *q, const char *jid, const char *name, const char *sub,
                       const char *ask)
{
    xt_stanza *it = xt_stanza_add_child(q, "item", NULL);
    assert_non_null(it);
    if (jid)
        assert_int_equal(xt_stanza_set_attr(it, "jid", jid), 0);
    if (name)
        assert_int_equal(xt_stanza_set_attr(it, "name", name), 0);
    if (sub)
        assert_int_equal(xt_stanza_set_attr(it, "subscription", sub), 0);
    if (ask)
        assert_int_equal(xt_stanza_set_attr(it, "ask", ask), 0);
    return it;
}

static void test_replace(void **state)
{
    (void)state;
    xt_roster r;
    xt_roster_init(&r, NULL);
    xt_stanza *q = xt_stanza_new(NULL, "query", XT_NS_ROSTER);
    xt_stanza *a = item(q, "Juliet@Example.COM", "Juliet", "both", NULL);
    assert_non_null(xt_stanza_add_text_child(a, "group", NULL, "Friends"));
    assert_non_null(xt_stanza_add_text_child(a, "group", NULL, ""));
    assert_non_null(xt_stanza_add_text_child(a, "group", NULL, "Family"));
    item(q, "nurse@example.com", NULL, "bogus", "bogus"); /* -> none, no ask */
    item(q, NULL, "no jid", "both", NULL);                /* skipped */
    item(q, "a@@b", NULL, NULL, NULL);                    /* invalid: skipped */
    item(q, "full@example.com/res", NULL, NULL, NULL);    /* not bare: skipped */
    item(q, "gone@example.com", NULL, "remove", NULL);    /* not an item state */
    item(q, "romeo@example.net", NULL, "to", "subscribe");
    item(q, "juliet@example.com", "Juliet again", "from", NULL);     /* duplicate replaces */
    assert_non_null(xt_stanza_add_child(q, "other", "urn:example")); /* ignored */

    assert_int_equal(xt_roster_replace(&r, q), 0);
    assert_true(r.loaded);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.v[0].view.jid, "juliet@example.com");
    assert_string_equal(r.v[0].view.name, "Juliet again");
    assert_string_equal(r.v[0].view.subscription, "from");
    assert_int_equal(r.v[0].view.ngroups, 0);
    assert_string_equal(r.v[1].view.jid, "nurse@example.com");
    assert_string_equal(r.v[1].view.subscription, "none");
    assert_null(r.v[1].view.ask);
    assert_null(r.v[1].view.name);
    assert_string_equal(r.v[2].view.subscription, "to");
    assert_string_equal(r.v[2].view.ask, "subscribe");

    /* A new result replaces everything; NULL = empty roster. */
    assert_int_equal(xt_roster_replace(&r, NULL), 0);
    assert_int_equal(r.n, 0);
    xt_stanza_free(q);
    xt_roster_free(&r);
}

static void test_groups(void **state)
{
    (void)state;
    xt_stanza *q = xt_stanza_new(NULL, "query", XT_NS_ROSTER);
    xt_stanza *a = item(q, "juliet@example.com", NULL, NULL, NULL);
    assert_non_null(xt_stanza_add_text_child(a, "group", NULL, "Friends"));
    assert_non_null(xt_stanza_add_text_child(a, "group", NULL, ""));
    assert_non_null(xt_stanza_add_text_child(a, "group", NULL, "Family"));
    xt_roster_entry e;
    assert_int_equal(xt_roster_parse_item(NULL, a, &e), 0);
    assert_int_equal(e.view.ngroups, 2);
    assert_string_equal(e.view.groups[0], "Friends");
    assert_string_equal(e.view.groups[1], "Family");
    assert_string_equal(e.view.subscription, "none");
    xt_roster_entry_free(NULL, &e);
    xt_stanza_free(q);
}

static void test_apply(void **state)
{
    (void)state;
    xt_roster r;
    xt_roster_init(&r, NULL);
    xt_stanza *q = xt_stanza_new(NULL, "query", XT_NS_ROSTER);
    xt_stanza *i1 = item(q, "a@example.com", "A", "none", NULL);
    xt_stanza *i2 = item(q, "b@example.com", NULL, "both", NULL);
    xt_stanza *i3 = item(q, "A@example.com", "A2", "to", NULL);
    xt_stanza *i4 = item(q, "a@example.com", NULL, "remove", NULL);
    xt_stanza *i5 = item(q, "nobody@example.com", NULL, "remove", NULL);
    const xt_roster_item *v = NULL;
    xt_roster_entry e;
    for (int k = 0; k < 20; k++) { /* grows past the first capacity */
        char jid[64];
        snprintf(jid, sizeof jid, "c%d@example.com", k);
        xt_stanza *x = item(q, jid, NULL, NULL, NULL);
        assert_int_equal(xt_roster_parse_item(NULL, x, &e), 0);
        assert_int_equal(xt_roster_apply(&r, &e, &v), 0);
    }
    assert_int_equal(r.n, 20);
    assert_int_equal(xt_roster_parse_item(NULL, i1, &e), 0);
    assert_int_equal(xt_roster_apply(&r, &e, &v), 0);
    assert_string_equal(v->name, "A");
    assert_int_equal(xt_roster_parse_item(NULL, i2, &e), 0);
    assert_int_equal(xt_roster_apply(&r, &e, &v), 0);
    assert_int_equal(r.n, 22);
    assert_int_equal(xt_roster_parse_item(NULL, i3, &e), 0); /* update, normalized match */
    assert_int_equal(xt_roster_apply(&r, &e, &v), 0);
    assert_int_equal(r.n, 22);
    assert_string_equal(v->name, "A2");
    assert_string_equal(v->subscription, "to");
    assert_int_equal(xt_roster_parse_item(NULL, i4, &e), 0);
    assert_int_equal(xt_roster_apply(&r, &e, &v), 0);
    assert_int_equal(r.n, 21);
    assert_string_equal(v->jid, "a@example.com");
    assert_string_equal(v->subscription, "remove");
    for (size_t k = 0; k < r.n; k++)
        assert_string_not_equal(r.v[k].jid, "a@example.com");
    assert_int_equal(xt_roster_parse_item(NULL, i5, &e), 0); /* unknown: no change */
    assert_int_equal(xt_roster_apply(&r, &e, &v), 0);
    assert_int_equal(r.n, 21);
    assert_string_equal(v->jid, "nobody@example.com");
    xt_stanza_free(q);
    xt_roster_free(&r);
}

static void test_presence_table(void **state)
{
    (void)state;
    xt_presence_table t;
    xt_presence_init(&t, NULL);
    assert_int_equal(xt_presence_set(&t, "j@e", "j@e/a", "away", "hi", 5), 0);
    assert_int_equal(xt_presence_set(&t, "j@e", "j@e/b", NULL, NULL, 0), 0);
    assert_int_equal(xt_presence_set(&t, "r@e", "r@e/x", "dnd", NULL, -1), 0);
    assert_int_equal(xt_presence_set(&t, "j@e", "j@e/a", "xa", "later", 1), 0); /* update */
    assert_int_equal(xt_presence_count(&t, "j@e"), 2);
    const xt_presence *p = xt_presence_at(&t, "j@e", 0);
    assert_string_equal(p->from, "j@e/a");
    assert_string_equal(p->show, "xa");
    assert_string_equal(p->status, "later");
    assert_int_equal(p->priority, 1);
    assert_null(xt_presence_at(&t, "j@e", 2));
    assert_string_equal(xt_presence_at(&t, "r@e", 0)->from, "r@e/x");
    xt_presence_remove(&t, "j@e", "j@e/a");
    assert_int_equal(xt_presence_count(&t, "j@e"), 1);
    assert_int_equal(xt_presence_set(&t, "j@e", "j@e/c", NULL, NULL, 0), 0);
    xt_presence_remove(&t, "j@e", NULL); /* bare: all resources */
    assert_int_equal(xt_presence_count(&t, "j@e"), 0);
    assert_int_equal(xt_presence_count(&t, "r@e"), 1);
    for (int k = 0; k < 40; k++) {
        char full[32];
        snprintf(full, sizeof full, "m@e/%d", k);
        assert_int_equal(xt_presence_set(&t, "m@e", full, NULL, NULL, 0), 0);
    }
    assert_int_equal(xt_presence_count(&t, "m@e"), 40);
    xt_presence_clear(&t);
    assert_int_equal(xt_presence_count(&t, "r@e"), 0);
    xt_presence_free(&t);

    assert_string_equal(xt_presence_norm_show("dnd"), "dnd");
    assert_null(xt_presence_norm_show("online"));
    assert_null(xt_presence_norm_show(NULL));
    assert_int_equal(xt_presence_parse_priority("-128"), -128);
    assert_int_equal(xt_presence_parse_priority("127"), 127);
    assert_int_equal(xt_presence_parse_priority("128"), 0);
    assert_int_equal(xt_presence_parse_priority("5x"), 0);
    assert_int_equal(xt_presence_parse_priority(""), 0);
    assert_int_equal(xt_presence_parse_priority(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_presence_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
