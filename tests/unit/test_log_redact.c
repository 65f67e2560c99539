/* Unit tests: secrets kept out of the traffic log (src/core/log_redact.c).
 * The stanzas are the ones the library writes and reads (XEP-0045's and
 * XEP-0402's examples, as the transcripts in tests/transcripts have them);
 * the transcripts check the whole path (`!LOG:` lines in muc_join.txt,
 * muc_invite.txt, muc_owner.txt, muc_moderation.txt, bookmarks_*.txt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failmem.h"
#include "core/log_redact.h"

/* in redacted becomes want (NULL: left as it is, no copy made). */
static void check(const char *in, const char *want)
{
    char *out = (char *)1;
    assert_int_equal(xt_log_redact(NULL, in, &out), 0);
    if (!want) {
        assert_null(out);
        return;
    }
    assert_non_null(out);
    assert_string_equal(out, want);
    xt_free(NULL, out);
}

static void test_nothing_to_hide(void **state)
{
    (void)state;
    check("<message to='a@b'><body>hello</body></message>", NULL);
    /* The word alone, or an empty password, hides nothing. */
    check("<message to='a@b'><body>my password is long</body></message>", NULL);
    check("<presence to='r@c/n'><x xmlns='http://jabber.org/protocol/muc'><password/></x>"
          "</presence>",
          NULL);
    check("", NULL);
}

static void test_join_password(void **state)
{
    (void)state;
    /* XEP-0045 §7.2.6 */
    check("<presence to='coven@chat.example.com/thirdwitch'><x "
          "xmlns='http://jabber.org/protocol/muc'><password>cauldronburn</password>"
          "<history maxstanzas='0'/></x></presence>",
          "<presence to='coven@chat.example.com/thirdwitch'><x "
          "xmlns='http://jabber.org/protocol/muc'><password>[redacted]</password>"
          "<history maxstanzas='0'/></x></presence>");
    /* Escaped text, and two secrets in one chunk. */
    check("<a><password>x&lt;y&amp;</password><b/><password xmlns='p'>z</password></a>",
          "<a><password>[redacted]</password><b/><password xmlns='p'>[redacted]</password></a>");
}

static void test_bookmarks(void **state)
{
    (void)state;
    /* XEP-0402 §3 (PEP) and XEP-0048 §3.2 (private storage). */
    check("<iq type='set' id='t5'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish "
          "node='urn:xmpp:bookmarks:1'><item id='team@muc.example.org'><conference "
          "xmlns='urn:xmpp:bookmarks:1' autojoin='true' name='Team'><nick>me</nick>"
          "<password>hunter2</password></conference></item></publish></pubsub></iq>",
          "<iq type='set' id='t5'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish "
          "node='urn:xmpp:bookmarks:1'><item id='team@muc.example.org'><conference "
          "xmlns='urn:xmpp:bookmarks:1' autojoin='true' name='Team'><nick>me</nick>"
          "<password>[redacted]</password></conference></item></publish></pubsub></iq>");
}

static void test_direct_invitation_attribute(void **state)
{
    (void)state;
    /* XEP-0249 §3: the password is an attribute; either quote. */
    check("<message><x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit' "
          "password='cauldronburn' reason='Hey'/></message>",
          "<message><x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit' "
          "password='[redacted]' reason='Hey'/></message>");
    check("<x password=\"it's\" a='1'/>", "<x password=\"[redacted]\" a='1'/>");
    /* A namespaced attribute as the serializer prefixes it. */
    check("<x xmlns:a0='urn:x' a0:password='s'/>", "<x xmlns:a0='urn:x' a0:password='[redacted]'/>");
    /* A '>' inside a quoted value does not end the tag. */
    check("<x reason='a>b' password='s'>t</x>", "<x reason='a>b' password='[redacted]'>t</x>");
}

static void test_config_form(void **state)
{
    (void)state;
    /* XEP-0045 §10.2: our submitted form names the field only by var
     * (XEP-0004 §3.2 lets a submission leave the type out)... */
    check("<x xmlns='jabber:x:data' type='submit'><field "
          "var='muc#roomconfig_passwordprotectedroom'><value>1</value></field><field "
          "var='muc#roomconfig_roomsecret'><value>cauldronburn</value></field><field "
          "var='muc#roomconfig_roomname'><value>Coven</value></field></x>",
          "<x xmlns='jabber:x:data' type='submit'><field "
          "var='muc#roomconfig_passwordprotectedroom'><value>1</value></field><field "
          "var='muc#roomconfig_roomsecret'><value>[redacted]</value></field><field "
          "var='muc#roomconfig_roomname'><value>Coven</value></field></x>");
    /* ...the room's form types it text-private, whatever its var. */
    check("<x xmlns='jabber:x:data' type='form'><field type='text-private' var='other'>"
          "<value>s1</value><value>s2</value></field><field type='text-single' var='n'>"
          "<value>visible</value></field><field type='text-private' var='e'/></x>",
          "<x xmlns='jabber:x:data' type='form'><field type='text-private' var='other'>"
          "<value>[redacted]</value><value>[redacted]</value></field><field "
          "type='text-single' var='n'><value>visible</value></field><field "
          "type='text-private' var='e'/></x>");
}

static void test_cut_chunks(void **state)
{
    (void)state;
    /* A chunk logged in part: a secret cut off is hidden to the end. */
    check("<presence><x><password>cauldr", "<presence><x><password>[redacted]");
    check("<x password='cauldr", "<x password='[redacted]");
    check("<x><field var='muc#roomconfig_roomsecret'><value>cau",
          "<x><field var='muc#roomconfig_roomsecret'><value>[redacted]");
    /* Cut inside a tag before any secret: nothing to hide. */
    check("<x><password", NULL);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    const char *in = "<x><password>cauldronburn</password><y password='s'/></x>";
    for (long k = 1;; k++) {
        xt_test_fail_at = k;
        xt_test_alloc_count = 0;
        char *out = (char *)1;
        int rc = xt_log_redact(&xt_test_failing_mem, in, &out);
        xt_test_fail_at = 0;
        if (rc == 0) {
            assert_non_null(out);
            assert_null(strstr(out, "cauldronburn"));
            xt_free(&xt_test_failing_mem, out);
            break;
        }
        /* A failed allocation: nothing to log, no secret handed back. */
        assert_int_equal(rc, XT_ENOMEM);
        assert_null(out);
        assert_true(k < 50);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_to_hide),
        cmocka_unit_test(test_join_password),
        cmocka_unit_test(test_bookmarks),
        cmocka_unit_test(test_direct_invitation_attribute),
        cmocka_unit_test(test_config_form),
        cmocka_unit_test(test_cut_chunks),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
