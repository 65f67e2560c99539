/*
 * XEP-0191 Blocking Command (v1.3): block, unblock, the blocklist, and
 * the server's pushes (§3.3, §3.4) that keep this resource's copy of
 * the list current once it has asked for it (§3.2).
 */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "core/jid_int.h"
#include "im/msgext.h"

#define XT_NS_BLOCKING "urn:xmpp:blocking"
/* A list larger than this is cut: a server cannot make us hold more. */
#define MAX_BLOCKED 10000

typedef struct blk_call {
    xt_iq_fn cb;
    void *ud;
} blk_call;

static void list_clear(xt_conn *c)
{
    for (size_t i = 0; i < c->blocked.n; i++)
        xt_free(c->s.mem, c->blocked.v[i]);
    c->blocked.n = 0;
}

void xt_im_blocking_free(xt_conn *c)
{
    list_clear(c);
    xt_free(c->s.mem, c->blocked.v);
    c->blocked.v = NULL;
    c->blocked.cap = 0;
}

/* The JID as the list keeps it: prepared (RFC 7622), any form (§3.1: a
 * domain, a bare or a full JID). NULL when invalid or out of memory. */
static char *prep(xt_conn *c, const char *jid)
{
    xt_jid *j = NULL;
    if (!jid || xt_jid_parse(c->s.mem, jid, &j, NULL))
        return NULL;
    char *s = xt_strdup(c->s.mem, xt_jid_full(j));
    xt_jid_free(j);
    return s;
}

static size_t find(const xt_conn *c, const char *p)
{
    for (size_t i = 0; i < c->blocked.n; i++)
        if (strcmp(c->blocked.v[i], p) == 0)
            return i;
    return (size_t)-1;
}

static void list_add(xt_conn *c, const char *jid)
{
    char *p = prep(c, jid);
    if (!p)
        return;
    if (find(c, p) != (size_t)-1 || c->blocked.n >= MAX_BLOCKED ||
        XT_GROW(c->s.mem, c->blocked.v, c->blocked.cap, c->blocked.n + 1, 8)) {
        xt_free(c->s.mem, p);
        return;
    }
    c->blocked.v[c->blocked.n++] = p;
}

static void list_remove(xt_conn *c, const char *jid)
{
    char *p = prep(c, jid);
    size_t i = p ? find(c, p) : (size_t)-1;
    xt_free(c->s.mem, p);
    if (i == (size_t)-1)
        return;
    xt_free(c->s.mem, c->blocked.v[i]);
    memmove(c->blocked.v + i, c->blocked.v + i + 1, (c->blocked.n - i - 1) * sizeof *c->blocked.v);
    c->blocked.n--;
}

/* Applies a <block/> or <unblock/> (ours acknowledged, or a push). */
static void apply(xt_conn *c, const xt_stanza *el, int block)
{
    int any = 0;
    for (const xt_stanza *it = xt_stanza_first_child(el); it; it = xt_stanza_next_sibling(it)) {
        if (strcmp(xt_stanza_name(it), "item") != 0)
            continue;
        any = 1;
        if (block)
            list_add(c, xt_stanza_attr(it, "jid"));
        else
            list_remove(c, xt_stanza_attr(it, "jid"));
    }
    if (!block && !any) /* §3.4: an empty <unblock/> unblocks everyone */
        list_clear(c);
}

static void on_list(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    blk_call call = *(blk_call *)ud;
    xt_free(c->s.mem, ud);
    const xt_stanza *bl = reply ? xt_stanza_child(reply, "blocklist", XT_NS_BLOCKING) : NULL;
    if (status == 0 && bl) {
        list_clear(c);
        apply(c, bl, 1);
        c->blocked.loaded = 1;
    }
    if (call.cb)
        call.cb(c, status, reply, call.ud);
}

static int send_iq(xt_conn *c, const char *type, const char *name, const char *const *jids,
                   size_t n, xt_iq_fn done, xt_iq_fn cb, void *ud)
{
    if (!c || (n && !jids))
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    for (size_t i = 0; i < n; i++) {
        xt_jid *j = NULL;
        int rc = jids[i] ? xt_jid_parse(c->s.mem, jids[i], &j, NULL) : XT_EINVAL;
        xt_jid_free(j);
        if (rc)
            return rc;
    }
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *el = NULL;
    int rc = iq && !xt_stanza_set_attr(iq, "type", type) &&
                     (el = xt_stanza_add_child(iq, name, XT_NS_BLOCKING))
                 ? 0
                 : XT_ENOMEM;
    for (size_t i = 0; !rc && i < n; i++) {
        char *p = prep(c, jids[i]);
        xt_stanza *it = p ? xt_stanza_add_child(el, "item", NULL) : NULL;
        if (!it || xt_stanza_set_attr(it, "jid", p))
            rc = XT_ENOMEM;
        xt_free(c->s.mem, p);
    }
    blk_call *call = rc ? NULL : xt_calloc(c->s.mem, 1, sizeof *call);
    if (!rc && !call)
        rc = XT_ENOMEM;
    if (!rc) {
        *call = (blk_call){.cb = cb, .ud = ud};
        rc = xt_stream_iq(&c->s, iq, 0, done, call);
        if (rc)
            xt_free(c->s.mem, call);
    }
    xt_stanza_free(iq);
    return rc;
}

int xt_conn_blocklist_fetch(xt_conn *c, xt_iq_fn cb, void *ud)
{
    return send_iq(c, "get", "blocklist", NULL, 0, on_list, cb, ud);
}

/* Ours: the server's result is the change (§3.3: it pushes it to the
 * resources that asked for the list, ours included when we did). */
static void on_change(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    blk_call call = *(blk_call *)ud;
    xt_free(c->s.mem, ud);
    if (call.cb)
        call.cb(c, status, reply, call.ud);
}

int xt_conn_block(xt_conn *c, const char *const *jids, size_t n, xt_iq_fn cb, void *ud)
{
    if (n == 0) /* §3.3: a block names at least one JID */
        return XT_EINVAL;
    return send_iq(c, "set", "block", jids, n, on_change, cb, ud);
}

int xt_conn_unblock(xt_conn *c, const char *const *jids, size_t n, xt_iq_fn cb, void *ud)
{
    return send_iq(c, "set", "unblock", jids, n, on_change, cb, ud);
}

size_t xt_conn_blocklist_count(const xt_conn *c)
{
    return c ? c->blocked.n : 0;
}

const char *xt_conn_blocklist_at(const xt_conn *c, size_t i)
{
    return c && i < c->blocked.n ? c->blocked.v[i] : NULL;
}

int xt_conn_blocklist_loaded(const xt_conn *c)
{
    return c && c->blocked.loaded;
}

int xt_conn_is_blocked(const xt_conn *c, const char *jid)
{
    if (!c || !jid)
        return 0;
    xt_jid *j = NULL;
    if (xt_jid_parse(c->s.mem, jid, &j, NULL))
        return 0;
    /* §3.1: an item blocks that full JID, the bare JID with every
     * resource, or the whole domain. */
    const char *forms[] = {xt_jid_full(j), xt_jid_bare(j), xt_jid_domain(j)};
    int hit = 0;
    for (size_t k = 0; k < 3 && !hit; k++)
        hit = forms[k] && find(c, forms[k]) != (size_t)-1;
    xt_jid_free(j);
    return hit;
}

int xt_im_on_blocking_iq(xt_conn *c, const xt_stanza *iq)
{
    const char *type = xt_stanza_attr(iq, "type");
    const xt_stanza *b = xt_stanza_child(iq, "block", XT_NS_BLOCKING);
    const xt_stanza *u = b ? NULL : xt_stanza_child(iq, "unblock", XT_NS_BLOCKING);
    if (!type || strcmp(type, "set") != 0 || (!b && !u))
        return 0;
    /* A push comes from our own account (no 'from', or our bare JID);
     * anyone else trying to edit our list is refused. */
    const char *from = xt_stanza_attr(iq, "from");
    if (from && !xt_im_is_own_bare(c, from)) {
        int rc = xt_stream_reply_error(&c->s, iq, "cancel", "service-unavailable");
        return rc ? rc : 1;
    }
    apply(c, b ? b : u, b != NULL);
    int rc = xt_stream_reply_result(&c->s, iq);
    return rc ? rc : 1;
}
