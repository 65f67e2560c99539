/*
 * Presence on the connection (RFC 6121 §3, §4): received presence into
 * the table (presence.c) and the XT_EV_PRESENCE / XT_EV_SUBSCRIPTION
 * events, broadcast and subscription presence out, and the table's
 * public getters.
 */
#include <stdio.h>
#include <string.h>

#include "im/conn_int.h"

/* Issue 12 item 7: the table keeps the presence of roster contacts and
 * of our own account's other resources only. Anyone else's (directed
 * presence, or a server inventing 100,000 senders) still reaches the
 * event, but costs no memory that outlives the stanza. */
static int keeps(const xt_conn *c, const char *bare)
{
    return strcmp(bare, xt_stream_bare(&c->s)) == 0 ||
           xt_roster_find(&c->roster, bare) != XT_INDEX_NONE;
}

int xt_im_on_presence(xt_conn *c, const xt_stanza *st)
{
    const char *type = xt_stanza_attr(st, "type");
    const char *from = xt_stanza_attr(st, "from");
    if (!from)
        return 0; /* nothing to attribute it to */
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c->s.mem, from, &j, NULL);
    if (rc)
        return rc == XT_ENOMEM ? rc : 0;
    /* XEP-0045: a room's presence is about its occupants, not a contact:
     * the room takes it (muc_presence.c), the roster never sees it. */
    if (c->muc.n) {
        rc = xt_muc_on_presence(c, st, xt_jid_bare(j), xt_jid_resource(j));
        if (rc) {
            xt_jid_free(j);
            return rc < 0 ? rc : 0;
        }
    }
    const char *status = xt_stanza_child_text(st, "status", XT_NS_CLIENT);
    xt_event ev = {0};
    if (!type || strcmp(type, "unavailable") == 0 || strcmp(type, "error") == 0) {
        int known = keeps(c, xt_jid_bare(j));
        const char *show = xt_presence_norm_show(xt_stanza_child_text(st, "show", XT_NS_CLIENT));
        int prio = xt_presence_parse_priority(xt_stanza_child_text(st, "priority", XT_NS_CLIENT));
        if (!type) {
            if (known)
                rc = xt_presence_set(&c->presence, xt_jid_bare(j), xt_jid_full(j), show, status,
                                     prio);
            if (rc == XT_ETOOBIG) {
                /* A limit of presence.h: the event still goes out, the
                 * table just does not grow. */
                xt_stream_logf(&c->s, XT_LOG_DEBUG,
                               "presence of %s not kept: at most %d resources per contact, %d in "
                               "all",
                               xt_jid_full(j), XT_PRESENCE_MAX_RESOURCES, XT_PRESENCE_MAX_TOTAL);
                rc = 0;
            }
        } else if (strcmp(type, "unavailable") == 0) {
            /* §4.5.3: from a bare JID it ends every resource. */
            xt_presence_remove(&c->presence, xt_jid_bare(j),
                               xt_jid_resource(j) ? xt_jid_full(j) : NULL);
            xt_caps_forget(c, xt_jid_full(j));
        }
        if (!rc) {
            ev.type = XT_EV_PRESENCE;
            ev.u.presence = (xt_presence){
                .from = xt_jid_full(j),
                .type = type,
                .show = type ? NULL : show,
                .status = status,
                .priority = prio,
                .stanza = st,
                .from_contact = known,
            };
        }
    } else if (strcmp(type, "subscribe") == 0 || strcmp(type, "subscribed") == 0 ||
               strcmp(type, "unsubscribe") == 0 || strcmp(type, "unsubscribed") == 0) {
        /* §3: subscription requests and their answers are about bare JIDs. */
        ev.type = XT_EV_SUBSCRIPTION;
        ev.u.subscription = (xt_subscription){
            .from = xt_jid_bare(j),
            .type = type,
            .status = status,
            .stanza = st,
        };
    }
    if (ev.type)
        xt_conn_emit(c, &ev);
    /* XEP-0115: then learn (and verify) what the sender can do. */
    if (!rc && !type && !xt_stream_is_closed(&c->s))
        rc = xt_caps_on_presence(c, xt_jid_full(j), st);
    xt_jid_free(j);
    return rc;
}

static const char *const show_names[] = {NULL, "chat", "away", "xa", "dnd"};

int xt_im_send_presence(xt_conn *c, xt_show show, const char *status, int priority)
{
    char prio[8];
    snprintf(prio, sizeof prio, "%d", priority);
    xt_stanza *p = xt_stanza_new(c->s.mem, "presence", XT_NS_CLIENT);
    int ok = p != NULL;
    if (ok && show == XT_SHOW_UNAVAILABLE)
        ok = !xt_stanza_set_attr(p, "type", "unavailable");
    else if (ok && show > XT_SHOW_AVAILABLE && show < XT_SHOW_UNAVAILABLE)
        ok = xt_stanza_add_text_child(p, "show", NULL, show_names[show]) != NULL;
    if (ok && status)
        ok = xt_stanza_add_text_child(p, "status", NULL, status) != NULL;
    if (ok && priority && show != XT_SHOW_UNAVAILABLE)
        ok = xt_stanza_add_text_child(p, "priority", NULL, prio) != NULL;
    /* XEP-0115 §4: every available presence says what we can do. */
    if (ok && show != XT_SHOW_UNAVAILABLE)
        ok = !xt_caps_add_to_presence(c, p);
    int rc = ok ? xt_stream_send(&c->s, p) : XT_ENOMEM;
    xt_stanza_free(p);
    if (!rc)
        c->available = show != XT_SHOW_UNAVAILABLE;
    return rc;
}

int xt_conn_send_presence(xt_conn *c, xt_show show, const char *status, int priority)
{
    if (!c)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    if (show < XT_SHOW_AVAILABLE || show > XT_SHOW_UNAVAILABLE || priority < -128 ||
        priority > 127 || (status && !xt_im_text_ok(status)))
        return XT_EINVAL;
    return xt_im_send_presence(c, show, status, priority);
}

int xt_conn_subscription(xt_conn *c, const char *to, const char *type)
{
    if (!c || !to || !type)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    if (strcmp(type, "subscribe") && strcmp(type, "subscribed") && strcmp(type, "unsubscribe") &&
        strcmp(type, "unsubscribed"))
        return XT_EINVAL;
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c->s.mem, to, &j, NULL);
    if (rc)
        return rc;
    xt_stanza *p = xt_stanza_new(c->s.mem, "presence", XT_NS_CLIENT);
    /* RFC 6121 §3.1.1: subscription stanzas go to the bare JID. */
    rc = p && !xt_stanza_set_attr(p, "to", xt_jid_bare(j)) && !xt_stanza_set_attr(p, "type", type)
             ? 0
             : XT_ENOMEM;
    xt_jid_free(j);
    if (!rc)
        rc = xt_stream_send(&c->s, p);
    xt_stanza_free(p);
    return rc;
}

/* Normalizes the caller's bare JID for lookups; NULL when invalid. */
static xt_jid *lookup_jid(const xt_conn *c, const char *bare)
{
    xt_jid *j = NULL;
    if (!c || !bare || xt_jid_parse(c->s.mem, bare, &j, NULL))
        return NULL;
    return j;
}

size_t xt_conn_presence_count(const xt_conn *c, const char *bare_jid)
{
    xt_jid *j = lookup_jid(c, bare_jid);
    size_t n = j ? xt_presence_count(&c->presence, xt_jid_bare(j)) : 0;
    xt_jid_free(j);
    return n;
}

const xt_presence *xt_conn_presence_at(const xt_conn *c, const char *bare_jid, size_t i)
{
    xt_jid *j = lookup_jid(c, bare_jid);
    const xt_presence *p = j ? xt_presence_at(&c->presence, xt_jid_bare(j), i) : NULL;
    xt_jid_free(j);
    return p;
}
