/*
 * xtalk/pep.h -- XEP-0163 Personal Eventing Protocol basics: publish an
 * item to a node of our own account, fetch a node's items from any
 * account. Notifications of contacts' nodes arrive as XT_EV_MESSAGE (no
 * body; the <event xmlns='http://jabber.org/protocol/pubsub#event'/> is
 * in xt_message.stanza) once we announce interest: add the feature
 * "NODE+notify" with xt_conn_opts_add_feature (XEP-0163 §4, through our
 * XEP-0115 caps). Whether the account has PEP: the identity
 * pubsub/pep in xt_conn_account_info.
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
