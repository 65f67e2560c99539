/*
 * XEP-0184 Message Delivery Receipts (v1.4.0): parsing <request/> and
 * <received/>, answering requests, the XT_EV_RECEIPT event. Requesting
 * one is xt_message_extras.request_receipt (message.c writes it).
 */
#include <string.h>

#include "core/jid_int.h"
#include "im/msgext.h"
#include "xtalk/disco.h"

int xt_conn_set_receipt_policy(xt_conn *c, xt_receipt_policy policy)
{
    if (!c || (policy != XT_RECEIPTS_AUTHORIZED && policy != XT_RECEIPTS_ALWAYS &&
               policy != XT_RECEIPTS_NEVER))
        return XT_EINVAL;
    c->receipts = policy;
    return 0;
}

/* §8: a receipt tells the sender we are online, so by default only
 * those who may see our presence get one: a roster item with
 * subscription from/both, or our own account (another of our devices). */
static int authorized(xt_conn *c, const char *from)
{
    xt_jid *j = NULL;
    if (xt_jid_parse(c->s.mem, from, &j, NULL))
        return 0;
    const char *bare = xt_jid_bare(j);
    int ok = strcmp(bare, xt_stream_bare(&c->s)) == 0;
    if (!ok) {
        size_t i = xt_roster_find(&c->roster, bare);
        if (i != XT_INDEX_NONE) {
            const char *sub = c->roster.v[i].view.subscription;
            ok = strcmp(sub, "from") == 0 || strcmp(sub, "both") == 0;
        }
    }
    xt_jid_free(j);
    return ok;
}

int xt_im_receipts_supported(const xt_conn *c, const char *to)
{
    if (!strchr(to, '/'))
        return 1; /* a bare JID (or a domain): §5.1 allows asking */
    const char *const *f = NULL;
    size_t n = xt_conn_caps_features(c, to, &f);
    if (n == 0)
        return 1; /* caps not known (yet): ask; an answer shows support */
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i], XT_NS_RECEIPTS) == 0)
            return 1;
    return 0;
}

int xt_im_receipt_answer(xt_conn *c, const xt_message *m)
{
    /* §5.1: a request without an id cannot be answered (the receipt
     * names it); §5.3/§5.4: never for groupchat or error messages; a
     * message from nobody (the server itself) has nobody to tell. */
    if (!m->receipt_request || !m->id || !*m->id || !m->from || c->receipts == XT_RECEIPTS_NEVER ||
        strcmp(m->type, "groupchat") == 0 || strcmp(m->type, "error") == 0 || !xt_im_id_ok(m->id))
        return 0;
    if (c->receipts == XT_RECEIPTS_AUTHORIZED && !authorized(c, m->from)) {
        xt_stream_logf(&c->s, XT_LOG_DEBUG,
                       "receipt request from %s not answered: not allowed "
                       "to see our presence (XEP-0184 §8)",
                       m->from);
        return 0;
    }
    /* §5.1, example 4: <message to id><received id/></message>, the type
     * mirrored so a client filtering by type sees it in the same chat. */
    xt_stanza *st = xt_stanza_new(c->s.mem, "message", XT_NS_CLIENT);
    char id[64];
    xt_stream_next_id(&c->s, id);
    xt_stanza *r = NULL;
    int rc = st && !xt_stanza_set_attr(st, "to", m->from) &&
                     (strcmp(m->type, "normal") == 0 || !xt_stanza_set_attr(st, "type", m->type)) &&
                     !xt_stanza_set_attr(st, "id", id) &&
                     (r = xt_stanza_add_child(st, "received", XT_NS_RECEIPTS)) &&
                     !xt_stanza_set_attr(r, "id", m->id)
                 ? 0
                 : XT_ENOMEM;
    if (!rc)
        rc = xt_stream_send(&c->s, st);
    xt_stanza_free(st);
    if (rc)
        /* A receipt not sent is a receipt the sender waits for longer:
         * not a reason to end the stream. */
        xt_stream_logf(&c->s, XT_LOG_WARN, "receipt to %s not sent: %s", m->from, xt_strerror(rc));
    return 0;
}
