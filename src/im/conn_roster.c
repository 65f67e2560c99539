/*
 * The roster on the connection (RFC 6121 §2): the fetch at login, pushes
 * (checked to come from our own account, §2.1.6), roster set and remove,
 * and the public getters. The list itself is roster.c's.
 */
#include <string.h>

#include "base/mem.h"
#include "core/stream.h"
#include "im/conn_int.h"
#include "xtalk/jid.h"

static void roster_result(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)ud;
    if (status) {
        if (status != XT_ECLOSED)
            xt_stream_logf(&c->s, XT_LOG_WARN, "roster request failed: %s", xt_strerror(status));
        return;
    }
    int rc = xt_roster_replace(&c->roster, xt_stanza_child(reply, "query", XT_NS_ROSTER));
    if (rc) {
        xt_stream_fail(&c->s, rc, NULL, NULL, "out of memory while loading the roster", NULL);
        return;
    }
    if (c->roster.skipped)
        xt_stream_logf(&c->s, XT_LOG_WARN, "roster: %zu items past the first %d were ignored",
                       c->roster.skipped, XT_ROSTER_MAX);
    xt_event ev = {.type = XT_EV_ROSTER, .u.roster = {.loaded = 1}};
    xt_conn_emit(c, &ev);
}

int xt_im_request_roster(xt_conn *c)
{
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    int rc = iq && !xt_stanza_set_attr(iq, "type", "get") &&
                     xt_stanza_add_child(iq, "query", XT_NS_ROSTER)
                 ? 0
                 : XT_ENOMEM;
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, roster_result, NULL);
    xt_stanza_free(iq);
    return rc;
}

int xt_im_on_roster_iq(xt_conn *c, const xt_stanza *iq)
{
    const xt_stanza *q = xt_stanza_child(iq, "query", XT_NS_ROSTER);
    const char *type = xt_stanza_attr(iq, "type");
    if (!q || !type || strcmp(type, "set") != 0)
        return 0;
    /* RFC 6121 §2.1.6: a push is only legitimate from our own account
     * (no 'from', or our bare JID). Anyone else is trying to rewrite our
     * roster: ignore it. */
    const char *from = xt_stanza_attr(iq, "from");
    if (from) {
        xt_jid *j = NULL;
        int rc = xt_jid_parse(c->s.mem, from, &j, NULL);
        if (rc == XT_ENOMEM)
            return rc;
        int ok = !rc && !xt_jid_resource(j) && strcmp(xt_jid_bare(j), xt_stream_bare(&c->s)) == 0;
        xt_jid_free(j);
        if (!ok) {
            xt_stream_logf(&c->s, XT_LOG_WARN, "ignored a roster push from %s", from);
            return 1;
        }
    }
    /* §2.1.6: exactly one item; otherwise bad-request. */
    const xt_stanza *item = NULL;
    size_t nitems = 0;
    for (const xt_stanza *i = xt_stanza_first_child(q); i; i = xt_stanza_next_sibling(i))
        if (strcmp(xt_stanza_name(i), "item") == 0 && strcmp(xt_stanza_ns(i), XT_NS_ROSTER) == 0) {
            item = i;
            nitems++;
        }
    xt_roster_entry e;
    int rc = nitems == 1 ? xt_roster_parse_item(c->s.mem, item, &e) : XT_EJID;
    if (rc == XT_ENOMEM)
        return rc;
    if (rc) {
        rc = xt_stream_reply_error(&c->s, iq, "modify", "bad-request");
        return rc ? rc : 1;
    }
    const xt_roster_item *view = NULL;
    rc = xt_roster_apply(&c->roster, &e, &view);
    if (rc == XT_ETOOBIG) {
        xt_stream_logf(&c->s, XT_LOG_WARN,
                       "roster push ignored: the roster holds %d items, the most kept",
                       XT_ROSTER_MAX);
        rc = xt_stream_reply_error(&c->s, iq, "wait", "resource-constraint");
        return rc ? rc : 1;
    }
    if (!rc)
        rc = xt_stream_reply_result(&c->s, iq);
    if (rc)
        return rc;
    /* A removed contact's presence is no longer ours to keep (the table
     * holds roster contacts only, conn_presence.c). */
    if (strcmp(view->subscription, "remove") == 0)
        xt_presence_remove(&c->presence, view->jid, NULL);
    xt_event ev = {.type = XT_EV_ROSTER, .u.roster = {.loaded = 0, .item = view}};
    xt_conn_emit(c, &ev);
    return 1;
}

/* RFC 6121 §2.3 (set) and §2.5 (remove): one item in a roster set. */
static int roster_change(xt_conn *c, const char *jid, const char *name, const char *const *groups,
                         size_t ngroups, int remove, xt_iq_fn cb, void *ud)
{
    if (!c || !jid || (ngroups && !groups))
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    if ((name && !xt_im_text_ok(name)))
        return XT_EINVAL;
    for (size_t i = 0; i < ngroups; i++)
        if (!groups[i] || !*groups[i] || !xt_im_text_ok(groups[i]))
            return XT_EINVAL;
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c->s.mem, jid, &j, NULL);
    if (rc)
        return rc;
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *q = iq ? xt_stanza_add_child(iq, "query", XT_NS_ROSTER) : NULL;
    xt_stanza *it = q ? xt_stanza_add_child(q, "item", NULL) : NULL;
    int ok = it && !xt_stanza_set_attr(iq, "type", "set") &&
             !xt_stanza_set_attr(it, "jid", xt_jid_bare(j));
    xt_jid_free(j);
    if (ok && remove)
        ok = !xt_stanza_set_attr(it, "subscription", "remove");
    if (ok && !remove && name)
        ok = !xt_stanza_set_attr(it, "name", name);
    for (size_t i = 0; ok && !remove && i < ngroups; i++)
        ok = xt_stanza_add_text_child(it, "group", NULL, groups[i]) != NULL;
    rc = ok ? xt_stream_iq(&c->s, iq, 0, cb, ud) : XT_ENOMEM;
    xt_stanza_free(iq);
    return rc;
}

int xt_conn_roster_set(xt_conn *c, const char *jid, const char *name, const char *const *groups,
                       size_t ngroups, xt_iq_fn cb, void *ud)
{
    return roster_change(c, jid, name, groups, ngroups, 0, cb, ud);
}

int xt_conn_roster_remove(xt_conn *c, const char *jid, xt_iq_fn cb, void *ud)
{
    return roster_change(c, jid, NULL, NULL, 0, 1, cb, ud);
}

int xt_conn_roster_loaded(const xt_conn *c)
{
    return c ? c->roster.loaded : 0;
}

size_t xt_conn_roster_count(const xt_conn *c)
{
    return c ? c->roster.n : 0;
}

const xt_roster_item *xt_conn_roster_item(const xt_conn *c, size_t i)
{
    return c && i < c->roster.n ? &c->roster.v[i].view : NULL;
}
