/*
 * XEP-0444 Message Reactions (v0.1.1): receiving a sender's set of
 * reactions to a message, and sending ours.
 */
#include <string.h>

#include "core/jid_int.h"
#include "im/msgext.h"

#define MAX_REACTIONS      32
#define MAX_REACTION_BYTES 64

int xt_im_reactions_parse(const xt_stanza *rs, const char **id, const char **v, size_t max)
{
    *id = xt_stanza_attr(rs, "id");
    if (!*id || !**id)
        return -1; /* §3: the id is required: no message to react to */
    size_t n = 0;
    for (const xt_stanza *r = xt_stanza_first_child(rs); r && n < max;
         r = xt_stanza_next_sibling(r)) {
        if (strcmp(xt_stanza_name(r), "reaction") != 0 ||
            strcmp(xt_stanza_ns(r), XT_NS_REACTIONS) != 0)
            continue;
        const char *t = xt_stanza_text(r);
        /* §3.2: each reaction is one emoji; an empty or oversized one is
         * nobody's reaction. Repeats count once. */
        if (!t || !*t || strlen(t) > MAX_REACTION_BYTES)
            continue;
        size_t k = 0;
        while (k < n && strcmp(v[k], t) != 0)
            k++;
        if (k == n)
            v[n++] = t;
    }
    return (int)n;
}

int xt_conn_send_reactions(xt_conn *c, const char *to, const char *type, const char *msg_id,
                           const char *const *reactions, size_t n, char id_out[64])
{
    if (!c || !to || !msg_id || (n && !reactions) || n > MAX_REACTIONS || !xt_im_id_ok(msg_id))
        return XT_EINVAL;
    if (!type)
        type = "chat";
    if (strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0 && strcmp(type, "groupchat") != 0)
        return XT_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!reactions[i] || !*reactions[i] || strlen(reactions[i]) > MAX_REACTION_BYTES ||
            !xt_im_text_ok(reactions[i]))
            return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c->s.mem, to, &j, NULL);
    if (rc)
        return rc;
    char id[64];
    xt_stream_next_id(&c->s, id);
    /* §3.1: <reactions id><reaction>..</reaction>...</reactions> plus a
     * store hint (XEP-0334) since there is no body. */
    xt_stanza *st = xt_stanza_new(c->s.mem, "message", XT_NS_CLIENT);
    xt_stanza *rs = NULL;
    rc = st && !xt_stanza_set_attr(st, "to", xt_jid_full(j)) &&
                 !xt_stanza_set_attr(st, "type", type) && !xt_stanza_set_attr(st, "id", id) &&
                 (rs = xt_stanza_add_child(st, "reactions", XT_NS_REACTIONS)) &&
                 !xt_stanza_set_attr(rs, "id", msg_id)
             ? 0
             : XT_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++)
        if (!xt_stanza_add_text_child(rs, "reaction", XT_NS_REACTIONS, reactions[i]))
            rc = XT_ENOMEM;
    if (!rc && !xt_stanza_add_child(st, "store", XT_NS_HINTS))
        rc = XT_ENOMEM;
    xt_jid_free(j);
    if (!rc)
        rc = xt_stream_send(&c->s, st);
    xt_stanza_free(st);
    if (!rc && id_out)
        memcpy(id_out, id, strlen(id) + 1);
    return rc;
}
