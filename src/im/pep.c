/*
 * XEP-0163 Personal Eventing Protocol over XEP-0060 publish and items
 * requests, and the notifications contacts' PEP services send us once
 * our caps list "NODE+notify" (disco.c, caps.c announce it): checked for
 * who sent them, then one XT_EV_PEP per item.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "core/jid_int.h"
#include "im/conn_int.h"
#include "xtalk/disco.h"
#include "xtalk/pep.h"

/* Appends a deep copy of src under parent (attributes, text, children:
 * text interleaved between children is kept before them, which no PEP
 * payload or vCard depends on). */
static int copy_under(xt_stanza *parent, const xt_stanza *src, int depth)
{
    if (depth > 64)
        return XT_EINVAL;
    xt_stanza *d = xt_stanza_add_child(parent, xt_stanza_name(src), xt_stanza_ns(src));
    if (!d)
        return XT_ENOMEM;
    int rc = 0;
    for (size_t i = 0; !rc; i++) {
        const char *n, *v;
        if (xt_stanza_attr_at(src, i, &n, &v))
            break;
        rc = xt_stanza_set_attr(d, n, v);
    }
    const char *t = rc ? NULL : xt_stanza_text(src);
    if (!rc && !t)
        rc = XT_ENOMEM;
    if (!rc && *t)
        rc = xt_stanza_add_text(d, t, strlen(t));
    for (const xt_stanza *ch = xt_stanza_first_child(src); ch && !rc; ch = xt_stanza_next_sibling(ch))
        rc = copy_under(d, ch, depth + 1);
    return rc;
}

int xt_im_copy_under(xt_stanza *parent, const xt_stanza *src)
{
    return copy_under(parent, src, 0);
}

int xt_pep_publish(xt_conn *c, const char *node, const char *item_id, const xt_stanza *payload,
                   xt_iq_fn cb, void *ud)
{
    if (!c || !node || !*node || !payload || !xt_im_text_ok(node) ||
        (item_id && !xt_im_text_ok(item_id)))
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    /* XEP-0163 §3: <iq type='set'> with no 'to' publishes to our own
     * account's PEP service (the node is created on first publish). */
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *ps = iq ? xt_stanza_add_child(iq, "pubsub", XT_NS_PUBSUB) : NULL;
    xt_stanza *pub = ps ? xt_stanza_add_child(ps, "publish", NULL) : NULL;
    xt_stanza *item = pub ? xt_stanza_add_child(pub, "item", NULL) : NULL;
    int rc = item && !xt_stanza_set_attr(iq, "type", "set") &&
                     !xt_stanza_set_attr(pub, "node", node) &&
                     (!item_id || !xt_stanza_set_attr(item, "id", item_id))
                 ? 0
                 : XT_ENOMEM;
    if (!rc)
        rc = xt_im_copy_under(item, payload);
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, cb, ud);
    xt_stanza_free(iq);
    return rc;
}

struct items_query {
    const char *node;
    uint32_t max_items;
};

static xt_stanza *build_items(xt_stanza *iq, const void *arg)
{
    const struct items_query *q = arg;
    char max[16];
    snprintf(max, sizeof max, "%u", (unsigned)q->max_items);
    xt_stanza *ps = xt_stanza_add_child(iq, "pubsub", XT_NS_PUBSUB);
    xt_stanza *items = ps ? xt_stanza_add_child(ps, "items", NULL) : NULL;
    if (!items || xt_stanza_set_attr(items, "node", q->node) ||
        (q->max_items && xt_stanza_set_attr(items, "max_items", max)))
        return NULL;
    return items;
}

int xt_pep_items(xt_conn *c, const char *jid, const char *node, uint32_t max_items, xt_iq_fn cb,
                 void *ud)
{
    if (!c || !node || !*node || !xt_im_text_ok(node))
        return XT_EINVAL;
    /* XEP-0163 §7.1: a PEP node lives at the account's bare JID. */
    struct items_query q = {.node = node, .max_items = max_items};
    return xt_im_query(c, jid, 0, build_items, &q, cb, ud);
}

/* --- interest and notifications ------------------------------------------ */

int xt_conn_opts_add_pep_notify(xt_conn_opts *o, const char *node)
{
    if (!o || !node || !*node || !xt_im_text_ok(node))
        return XT_EINVAL;
    /* XEP-0163 §4: the node's name with "+notify" appended. */
    size_t n = strlen(node);
    char var[1024];
    if (n + sizeof "+notify" > sizeof var)
        return XT_ETOOBIG;
    memcpy(var, node, n);
    memcpy(var + n, "+notify", sizeof "+notify");
    return xt_conn_opts_add_feature(o, var);
}

const char *xt_pep_kind_name(xt_pep_kind k)
{
    switch (k) {
    case XT_PEP_ITEM:
        return "item";
    case XT_PEP_RETRACT:
        return "retract";
    case XT_PEP_PURGE:
        return "purge";
    case XT_PEP_DELETE:
        return "delete";
    }
    return "item";
}

/* The first element child of an <item/>: its payload (XEP-0060 §7.1.2). */
static const xt_stanza *payload_of(const xt_stanza *item)
{
    return xt_stanza_first_child(item);
}

static int one(xt_conn *c, xt_pep_event *pe)
{
    if (strcmp(pe->node, XT_NS_NICK) == 0) {
        /* Kept before the event, so a handler's xt_conn_nick sees it. */
        int rc = xt_nick_note(c, pe->from, pe->kind == XT_PEP_ITEM ? pe->payload : NULL);
        if (rc)
            return rc;
    }
    xt_event ev = {.type = XT_EV_PEP, .u.pep = pe};
    xt_conn_emit(c, &ev);
    return 0;
}

/* Parses the notification's sender into *j (its bare JID is the
 * publisher): NULL when it may publish to us, else why it is dropped. */
static const char *publisher(xt_conn *c, const char *from, xt_jid **j)
{
    /* No 'from': our server, for our own account (RFC 6120 §8.1.2.1). */
    if (!from)
        from = xt_stream_bare(&c->s);
    if (xt_jid_parse(c->s.mem, from, j, NULL))
        return "a sender that is not a JID";
    /* XEP-0163 §4.3, §7.1: notifications come from the account's bare JID,
     * the PEP service; a full JID is a client (anyone's) forging one, a
     * domain a non-PEP service. */
    if (xt_jid_resource(*j) || !xt_jid_local(*j))
        return "not from an account's bare JID (XEP-0163 §4.3)";
    if (strcmp(xt_jid_bare(*j), xt_stream_bare(&c->s)) == 0)
        return NULL;
    /* Only those we share presence with get our notifications; anyone
     * else's is unsolicited (and its "nickname" a lure). */
    if (xt_roster_find(&c->roster, xt_jid_bare(*j)) == XT_INDEX_NONE)
        return "from a JID not in the roster";
    return NULL;
}

int xt_pep_on_event(xt_conn *c, const xt_stanza *msg, const xt_stanza *evel)
{
    const char *type = xt_stanza_attr(msg, "type");
    if (type && strcmp(type, "error") == 0)
        return 0; /* a bounce of something of ours */
    const char *from = xt_stanza_attr(msg, "from");
    xt_jid *j = NULL;
    const char *why = publisher(c, from, &j);
    if (why) {
        xt_stream_logf(&c->s, XT_LOG_WARN, "dropped a PEP notification from %s: %s",
                       from ? from : "(no sender)", why);
        xt_jid_free(j);
        return 0;
    }
    int rc = 0;
    for (const xt_stanza *ch = xt_stanza_first_child(evel); ch && !rc;
         ch = xt_stanza_next_sibling(ch)) {
        const char *name = xt_stanza_name(ch), *node = xt_stanza_attr(ch, "node");
        if (!node || !*node || strcmp(xt_stanza_ns(ch), XT_NS_PUBSUB_EVENT) != 0)
            continue;
        xt_pep_event pe = {.from = xt_jid_bare(j), .node = node, .stanza = msg};
        if (strcmp(name, "items") == 0) {
            /* XEP-0060 §7.1.2.1 (items), §7.2.2.1 (retract). */
            for (const xt_stanza *it = xt_stanza_first_child(ch); it && !rc;
                 it = xt_stanza_next_sibling(it)) {
                const char *iname = xt_stanza_name(it);
                if (strcmp(xt_stanza_ns(it), XT_NS_PUBSUB_EVENT) != 0)
                    continue;
                if (strcmp(iname, "item") == 0) {
                    pe.kind = XT_PEP_ITEM;
                    pe.payload = payload_of(it);
                } else if (strcmp(iname, "retract") == 0) {
                    pe.kind = XT_PEP_RETRACT;
                    pe.payload = NULL;
                } else {
                    continue;
                }
                const char *id = xt_stanza_attr(it, "id");
                pe.item_id = id && *id ? id : NULL;
                rc = one(c, &pe);
                if (xt_stream_is_closed(&c->s))
                    break;
            }
        } else if (strcmp(name, "purge") == 0 || strcmp(name, "delete") == 0) {
            /* XEP-0060 §8.5.3, §8.4.3. */
            pe.kind = name[0] == 'p' ? XT_PEP_PURGE : XT_PEP_DELETE;
            rc = one(c, &pe);
        }
        if (xt_stream_is_closed(&c->s))
            break;
    }
    xt_jid_free(j);
    return rc;
}
