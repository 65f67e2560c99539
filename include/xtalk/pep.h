/*
 * xtalk/pep.h -- XEP-0163 Personal Eventing Protocol: publish an item to
 * a node of our own account, fetch a node's items from any account, and
 * receive contacts' notifications as XT_EV_PEP events.
 *
 * Interest. A PEP service sends a contact's notifications for node N
 * once our caps (XEP-0115) list the feature "N+notify" (XEP-0163 §4):
 * xt_conn_opts_add_pep_notify(opts, N) before xt_conn_new. Whether the
 * account has PEP: the identity pubsub/pep in xt_conn_account_info.
 *
 * Notifications. Each <message/> carrying <event xmlns=pubsub#event/>
 * is still an XT_EV_MESSAGE (no body); then one XT_EV_PEP follows per
 * item published or retracted, or per purge or delete of a node. The
 * publisher is the message's sender, never a claim inside it (an item's
 * 'publisher' attribute is ignored): a PEP node lives at its owner's bare
 * JID (XEP-0163 §4.3, §7.1), so a notification is accepted only from a
 * bare JID that is our own account (or no 'from': our server on its
 * behalf) or a roster contact. One from a full JID, a domain or a
 * stranger is dropped (logged): anyone can send a message that looks
 * like a notification, and a stranger's "nickname" must not rename a
 * contact. Without the roster (XT_CONN_NO_ROSTER) only our own account's
 * are accepted. Carbons and archive results never count as notifications.
 *
 * Nicknames (XEP-0172). Items of the node http://jabber.org/protocol/nick
 * keep a per-contact table: xt_conn_nick looks it up (a retraction, purge
 * or delete forgets the entry). A nickname is a claim, not an identity
 * (XEP-0172 §6): show it as such (the roster name comes first).
 */
#ifndef XTALK_PEP_H
#define XTALK_PEP_H

#include "common.h"
#include "conn.h"
#include "stanza.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XT_NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define XT_NS_PUBSUB_EVENT "http://jabber.org/protocol/pubsub#event"
#define XT_NS_NICK "http://jabber.org/protocol/nick"

/* What a notification says happened (XEP-0060 §7.1-§8.5 event payloads). */
typedef enum xt_pep_kind {
    XT_PEP_ITEM = 0, /* an item was published (payload: its element, if sent) */
    XT_PEP_RETRACT,  /* an item was retracted (item_id) */
    XT_PEP_PURGE,    /* every item of the node was removed */
    XT_PEP_DELETE,   /* the node was deleted */
} xt_pep_kind;

/* XT_EV_PEP (.pep): valid during the callback only. */
typedef struct xt_pep_event {
    const char *from;         /* the publisher: a bare JID (ours, or a roster contact's) */
    const char *node;         /* the node */
    xt_pep_kind kind;
    const char *item_id;      /* ITEM/RETRACT: the item's id, NULL when it has none */
    const xt_stanza *payload; /* ITEM: the item's payload element, NULL when not sent */
    const xt_stanza *stanza;  /* the whole <message/> */
} xt_pep_event;

/* "item", "retract", "purge", "delete" (a static string). */
XT_EXTERN const char *xt_pep_kind_name(xt_pep_kind k);

/* Announces interest in node's notifications: adds the caps feature
 * "node+notify" (XEP-0163 §4; xt_conn_opts_add_feature, a no-op when
 * there). XT_EINVAL (NULL, empty or not XML-safe), XT_ETOOBIG, XT_ENOMEM. */
XT_EXTERN int xt_conn_opts_add_pep_notify(xt_conn_opts *o, const char *node);

/* The nickname (XEP-0172) the bare JID jid last published, as the PEP
 * notifications this conn received say; NULL when none is known. Valid
 * until the next event or call on c. */
XT_EXTERN const char *xt_conn_nick(const xt_conn *c, const char *jid);

/* Publishes payload (copied; one element, its own namespace) as item
 * item_id (NULL = the server picks one) of our node `node` (created on
 * first use, XEP-0163 §3). cb as with xt_conn_iq. 0; XT_EINVAL (NULL
 * node or payload, text not XML-safe), and the errors of xt_conn_iq. */
XT_EXTERN int xt_pep_publish(xt_conn *c, const char *node, const char *item_id,
                             const xt_stanza *payload, xt_iq_fn cb, void *ud);
/* Asks jid's (NULL = our own) node for its newest max_items items (0 =
 * all the service gives); the reply's <pubsub><items/> holds them
 * (XEP-0060 §6.5). The errors of xt_conn_iq, XT_EJID, XT_EINVAL. */
XT_EXTERN int xt_pep_items(xt_conn *c, const char *jid, const char *node, uint32_t max_items,
                           xt_iq_fn cb, void *ud);

#ifdef __cplusplus
}
#endif
#endif
