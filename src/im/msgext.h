/*
 * im/msgext.h -- the message features (include/xtalk/im.h) inside the IM
 * layer: each parses its part of a received <message/> into the
 * xt_message, and emits its own event after XT_EV_MESSAGE. One file per
 * feature: receipts.c, chatstate.c, correction.c, reactions.c,
 * retraction.c; message.c calls them in this order.
 */
#ifndef XT_IM_MSGEXT_H
#define XT_IM_MSGEXT_H

#include "im/conn_int.h"
#include "xtalk/im.h"

#define XT_NS_RECEIPTS   "urn:xmpp:receipts"
#define XT_NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define XT_NS_CORRECT    "urn:xmpp:message-correct:0"
#define XT_NS_REACTIONS  "urn:xmpp:reactions:0"
#define XT_NS_RETRACT    "urn:xmpp:message-retract:1"
#define XT_NS_RETRACT0   "urn:xmpp:message-retract:0"
#define XT_NS_FASTEN     "urn:xmpp:fasten:0"
#define XT_NS_HINTS      "urn:xmpp:hints"

/* What the message carries beyond xt_message's fields, for the events. */
typedef struct xt_im_ext {
    const xt_stanza *reactions; /* XEP-0444 <reactions/>, or NULL */
    const char *retract_id;     /* XEP-0424: the message retracted, or NULL */
    /* XEP-0045 <x xmlns='...muc#user'/> (invitations, a private message
     * through a room) and XEP-0249 <x xmlns='jabber:x:conference'/>, for
     * muc_message.c and muc_invite.c; NULL when absent. */
    const xt_stanza *muc_user, *conference;
} xt_im_ext;

/* Fills the feature fields of m (m->body already set) and *x from st
 * (any <message/>: live, or the inner one of a carbon or an archive
 * result), in one pass over its children: the receive path's cost.
 * No allocation. */
void xt_im_message_features(const xt_stanza *st, xt_message *m, xt_im_ext *x);
/* Emits XT_EV_RECEIPT / CHATSTATE / REACTION / RETRACTION for m (after
 * its XT_EV_MESSAGE). */
void xt_im_message_feature_events(xt_conn *c, const xt_message *m, const xt_im_ext *x);
/* Answers m's receipt request when the policy allows (live messages
 * only: the caller decides). Negative only for a failure that must end
 * the stream (none today: a refused answer is logged and dropped). */
int xt_im_receipt_answer(xt_conn *c, const xt_message *m);
/* XT_RECEIPT_AUTO: 0 only when `to` (prepared) is a full JID whose
 * verified caps lack receipts. */
int xt_im_receipts_supported(const xt_conn *c, const char *to);

/* Per-feature parts, for message.c and the tests. */
/* The state a chat-states child `ch` names; NONE for another name. */
xt_chatstate xt_im_chatstate_of(const xt_stanza *ch);
/* The id a retraction child names, or NULL: XEP-0424 v0.4
 * <retract xmlns=':1' id/>, or the earlier <apply-to id><retract
 * xmlns=':0'/></apply-to> (XEP-0422) still sent by clients. */
const char *xt_im_retraction_of(const xt_stanza *ch);
/* XEP-0308: the id a <replace/> child names, or NULL; XEP-0245: 1 when
 * body is a /me action. */
const char *xt_im_correction_of(const xt_stanza *ch);
int xt_im_me_parse(const char *body);
/* Up to max reaction strings of a <reactions/> element into v; *id the
 * message they react to. -1 without an id. */
int xt_im_reactions_parse(const xt_stanza *rs, const char **id, const char **v, size_t max);

/* XEP-0191 pushes: 1 handled, 0 not ours, negative = fail the stream. */
int xt_im_on_blocking_iq(xt_conn *c, const xt_stanza *iq);
void xt_im_blocking_free(xt_conn *c);
/* XEP-0352: after a new session, the inactive state again. */
int xt_im_csi_online(xt_conn *c);

/* 1..63 XML-safe characters (an id fit for id_out[64] and an attribute). */
int xt_im_id_ok(const char *id);

#endif
