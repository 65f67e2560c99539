/*
 * XEP-0172 User Nickname (v1.1): the nickname a user chose for itself,
 * published with PEP (personal eventing) or carried in a subscription request or
 * a message. A name to show when the roster has none; never a proof of
 * identity (§6: anyone may claim any nickname).
 */
#include <string.h>

#include "base/mem.h"
#include "core/jid_int.h"
#include "im/conn_int.h"
#include "im/msgext.h"
#include "xtalk/pep.h"

/* A nickname longer than this is not a name to show: cut at a character
 * boundary (XEP-0172 sets no limit; a terminal line does). */
#define NICK_MAX_BYTES 256

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

/* <publish-options/> asking for the node's access model (XEP-0060
 * §7.1.5): the publish fails rather than widen or narrow
 * an existing node's audience unasked. */
static int access_options(xt_stanza *ps, const char *model)
{
    xt_stanza *po = xt_stanza_add_child(ps, "publish-options", NULL);
    xt_stanza *x = po ? xt_stanza_add_child(po, "x", "jabber:x:data") : NULL;
    xt_stanza *ft = x ? xt_stanza_add_child(x, "field", NULL) : NULL;
    xt_stanza *am = ft ? xt_stanza_add_child(x, "field", NULL) : NULL;
    if (!am || xt_stanza_set_attr(x, "type", "submit") || xt_stanza_set_attr(ft, "var", "FORM_TYPE") ||
        xt_stanza_set_attr(ft, "type", "hidden") ||
        !xt_stanza_add_text_child(ft, "value", NULL, XT_NS_PUBSUB "#publish-options") ||
        xt_stanza_set_attr(am, "var", "pubsub#access_model") ||
        !xt_stanza_add_text_child(am, "value", NULL, model))
        return XT_ENOMEM;
    return 0;
}

int xt_conn_nick_publish(xt_conn *c, const char *nick, xt_iq_fn cb, void *ud)
{
    if (!c || !nick || !*nick || !xt_im_text_ok(nick))
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    /* §4.5: publish to our own PEP node (no 'to'), for those who see our
     * presence (the access model XEP-0163 §5 makes the default, asked for
     * explicitly: a node an older client made open stays refused). */
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *ps = NULL, *pub = NULL, *item = NULL;
    int rc = iq && !xt_stanza_set_attr(iq, "type", "set") &&
                     (ps = xt_stanza_add_child(iq, "pubsub", XT_NS_PUBSUB)) &&
                     (pub = xt_stanza_add_child(ps, "publish", NULL)) &&
                     !xt_stanza_set_attr(pub, "node", XT_NS_NICK) &&
                     (item = xt_stanza_add_child(pub, "item", NULL)) &&
                     !xt_stanza_set_attr(item, "id", "current") &&
                     xt_stanza_add_text_child(item, "nick", XT_NS_NICK, nick) &&
                     !access_options(ps, "presence")
                 ? 0
                 : XT_ENOMEM;
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, cb, ud);
    xt_stanza_free(iq);
    return rc;
}

/* --- the table of contacts' nicknames (from PEP notifications) ----------- */

static const char *nick_key(const void *ctx, size_t i)
{
    return ((const xt_nick_entry *)ctx)[i].jid;
}

static void forget(xt_nick_table *t, const xt_mem *mem, size_t k)
{
    xt_index_del(&t->ix, k, nick_key, t->v);
    xt_free(mem, t->v[k].jid);
    xt_free(mem, t->v[k].nick);
    if (k != t->n - 1) {
        t->v[k] = t->v[t->n - 1];
        xt_index_moved(&t->ix, t->n - 1, k, nick_key, t->v);
    }
    t->n--;
}

/* A copy of text cut to NICK_MAX_BYTES on a UTF-8 boundary. */
static char *nick_copy(const xt_mem *mem, const char *text)
{
    size_t n = strnlen(text, NICK_MAX_BYTES + 1);
    if (n > NICK_MAX_BYTES) {
        n = NICK_MAX_BYTES;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    char *d = xt_malloc(mem, n + 1);
    if (d) {
        memcpy(d, text, n);
        d[n] = '\0';
    }
    return d;
}

int xt_nick_note(xt_conn *c, const char *jid, const xt_stanza *payload)
{
    xt_nick_table *t = &c->nicks;
    const xt_mem *mem = c->s.mem;
    size_t k = xt_index_find(&t->ix, jid, nick_key, t->v);
    /* §4.5: the item holds <nick/>; an empty one (or none) clears it. */
    const xt_stanza *nick =
        payload && strcmp(xt_stanza_name(payload), "nick") == 0 &&
                strcmp(xt_stanza_ns(payload), XT_NS_NICK) == 0
            ? payload
            : NULL;
    const char *text = nick ? xt_stanza_text(nick) : NULL;
    if (nick && !text)
        return XT_ENOMEM;
    if (!text || !*text) {
        if (k != XT_INDEX_NONE)
            forget(t, mem, k);
        return 0;
    }
    char *copy = nick_copy(mem, text);
    if (!copy)
        return XT_ENOMEM;
    if (k != XT_INDEX_NONE) {
        xt_free(mem, t->v[k].nick);
        t->v[k].nick = copy;
        return 0;
    }
    if (t->n >= XT_NICK_MAX) { /* unreachable while senders are the roster's */
        xt_free(mem, copy);
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        xt_nick_entry *v = xt_realloc(mem, t->v, cap * sizeof *v);
        if (!v) {
            xt_free(mem, copy);
            return XT_ENOMEM;
        }
        t->v = v;
        t->cap = cap;
    }
    char *j = xt_strdup(mem, jid);
    if (!j) {
        xt_free(mem, copy);
        return XT_ENOMEM;
    }
    t->v[t->n] = (xt_nick_entry){.jid = j, .nick = copy};
    if (xt_index_add(mem, &t->ix, t->n, nick_key, t->v)) {
        xt_free(mem, j);
        xt_free(mem, copy);
        return XT_ENOMEM;
    }
    t->n++;
    return 0;
}

const char *xt_conn_nick(const xt_conn *c, const char *jid)
{
    if (!c || !jid || !c->nicks.n)
        return NULL;
    /* The table is keyed by prepared bare JIDs: look up as given first
     * (the common case: a JID the library handed out), else prepared. */
    size_t k = xt_index_find(&c->nicks.ix, jid, nick_key, c->nicks.v);
    if (k == XT_INDEX_NONE) {
        xt_jid *j = NULL;
        if (xt_jid_parse(c->s.mem, jid, &j, NULL) == 0) {
            k = xt_index_find(&c->nicks.ix, xt_jid_bare(j), nick_key, c->nicks.v);
            xt_jid_free(j);
        }
    }
    return k == XT_INDEX_NONE ? NULL : c->nicks.v[k].nick;
}

void xt_nick_free(xt_conn *c)
{
    xt_nick_table *t = &c->nicks;
    for (size_t i = 0; i < t->n; i++) {
        xt_free(c->s.mem, t->v[i].jid);
        xt_free(c->s.mem, t->v[i].nick);
    }
    xt_free(c->s.mem, t->v);
    xt_index_free(c->s.mem, &t->ix);
    *t = (xt_nick_table){0};
}
