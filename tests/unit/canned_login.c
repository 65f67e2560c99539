/* See canned_login.h. */
#include "canned_login.h"

#include <stdio.h>
#include <string.h>

#include "im/conn_int.h"

#define HDR(id)                                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "                                   \
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' version='1.0' "            \
    "xml:lang='en' id='" id "'>"

static void consume(xt_conn *c)
{
    const uint8_t *p;
    size_t n;
    while ((n = xt_conn_pending(c, &p)) > 0)
        xt_conn_consume(c, n);
}

static int feed(xt_conn *c, const char *s)
{
    if (xt_conn_feed(c, s, strlen(s), 1) < 0)
        return -1;
    consume(c);
    /* After <proceed/>: the driver's TLS would be up now. */
    if (xt_conn_get_state(c) == XT_STATE_TLS && xt_conn_tls_ready(c, NULL, 1) != 0)
        return -1;
    consume(c);
    return 0;
}

xt_conn *xt_test_online_conn(const char *prefix, xt_handler_fn fn, void *ud)
{
    static const char *const server[] = {
        HDR("s1"),
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        HDR("s2"),
        "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
        "</mechanism></mechanisms></stream:features>",
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        HDR("s3"),
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
    };
    xt_conn_opts *o = NULL;
    xt_conn *c = NULL;
    int made = xt_conn_opts_new(NULL, &o) == 0 && xt_conn_opts_set_jid(o, "user@example.com") == 0 &&
               xt_conn_opts_set_password(o, "pencil") == 0 &&
               xt_conn_opts_set_resource(o, "laptop") == 0 && xt_conn_new(o, &c) == 0;
    xt_conn_opts_free(o);
    if (!made)
        return NULL;
    if (prefix)
        xt_conn_set_test_id_prefix(c, prefix);
    int rc = fn && xt_conn_on(c, XT_EV_ALL, fn, ud) < 0 ? -1 : 0;
    if (!rc)
        rc = xt_conn_start(c, 1);
    consume(c);
    for (size_t i = 0; !rc && i < sizeof server / sizeof *server; i++)
        rc = feed(c, server[i]);
    /* Ids 1 and 2 are the bind and roster IQs. */
    char iq[512];
    snprintf(iq, sizeof iq,
             "<iq type='result' id='%s1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>"
             "user@example.com/laptop</jid></bind></iq>",
             c->s.id_prefix);
    if (!rc)
        rc = feed(c, iq);
    snprintf(iq, sizeof iq, "<iq type='result' id='%s2'><query xmlns='jabber:iq:roster'/></iq>",
             c->s.id_prefix);
    if (!rc)
        rc = feed(c, iq);
    if (rc || xt_conn_get_state(c) != XT_STATE_ONLINE) {
        xt_conn_free(c);
        return NULL;
    }
    return c;
}
