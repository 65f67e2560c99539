/*
 * XEP-0172 User Nickname (v1.1): the nickname a user chose for itself,
 * published with PEP (personal eventing) or carried in a subscription request or
 * a message. A name to show when the roster has none; never a proof of
 * identity (§6: anyone may claim any nickname).
 */
#include <string.h>

#include "im/msgext.h"
#include "xtalk/pep.h"

#define XT_NS_NICK   "http://jabber.org/protocol/nick"
#define XT_NS_PUBSUB "http://jabber.org/protocol/pubsub"

int xt_conn_nick_fetch(xt_conn *c, const char *jid, xt_iq_fn cb, void *ud)
{
    /* §4.5: the last published item only. */
    return xt_pep_items(c, jid, XT_NS_NICK, 1, cb, ud);
}

const char *xt_nick_of(const xt_stanza *st)
{
    if (!st)
        return NULL;
    /* A pubsub items result (or event): pubsub/items/item/nick. */
    const xt_stanza *ps = xt_stanza_child(st, "pubsub", XT_NS_PUBSUB);
    if (!ps)
        ps = xt_stanza_child(st, "event", XT_NS_PUBSUB "#event");
    const xt_stanza *items = ps ? xt_stanza_child(ps, "items", NULL) : NULL;
    const xt_stanza *item = items ? xt_stanza_child(items, "item", NULL) : NULL;
    /* Or directly in a <presence type='subscribe'/> or <message/> (§4.1, §4.2). */
    const xt_stanza *nick = xt_stanza_child(item ? item : st, "nick", XT_NS_NICK);
    const char *t = nick ? xt_stanza_text(nick) : NULL;
    return t && *t ? t : NULL;
}

int xt_conn_nick_publish(xt_conn *c, const char *nick, xt_iq_fn cb, void *ud)
{
    if (!c || !nick || !*nick || !xt_im_text_ok(nick))
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    /* §4.5: publish to our own PEP node (no 'to'). */
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *ps = NULL, *pub = NULL, *item = NULL;
    int rc = iq && !xt_stanza_set_attr(iq, "type", "set") &&
                     (ps = xt_stanza_add_child(iq, "pubsub", XT_NS_PUBSUB)) &&
                     (pub = xt_stanza_add_child(ps, "publish", NULL)) &&
                     !xt_stanza_set_attr(pub, "node", XT_NS_NICK) &&
                     (item = xt_stanza_add_child(pub, "item", NULL)) &&
                     xt_stanza_add_text_child(item, "nick", XT_NS_NICK, nick)
                 ? 0
                 : XT_ENOMEM;
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, cb, ud);
    xt_stanza_free(iq);
    return rc;
}
