/*
 * XEP-0163 Personal Eventing Protocol basics over XEP-0060 publish and
 * items requests. Receiving notifications needs nothing here: they are
 * messages, and interest is announced by caps (disco.c, caps.c).
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "xtalk/pep.h"

int xt_im_copy_under(xt_stanza *parent, const xt_stanza *src, int depth)
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
        rc = xt_im_copy_under(d, ch, depth + 1);
    return rc;
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
        rc = xt_im_copy_under(item, payload, 0);
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
