/* The presence table (RFC 6121 §4); see presence.h. */
#include "im/presence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void xt_presence_init(xt_presence_table *t, const xt_mem *mem)
{
    *t = (xt_presence_table){.mem = mem};
}

static void entry_free(const xt_mem *mem, xt_pres_entry *e)
{
    xt_free(mem, e->bare);
    xt_free(mem, e->full);
    xt_free(mem, e->status);
}

void xt_presence_clear(xt_presence_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        entry_free(t->mem, &t->v[i]);
    t->n = 0;
}

void xt_presence_free(xt_presence_table *t)
{
    xt_presence_clear(t);
    xt_free(t->mem, t->v);
    t->v = NULL;
    t->cap = 0;
}

const char *xt_presence_norm_show(const char *show)
{
    static const char *const known[] = {"chat", "away", "xa", "dnd"};
    for (size_t i = 0; show && i < sizeof known / sizeof *known; i++)
        if (strcmp(show, known[i]) == 0)
            return known[i];
    return NULL;
}

int xt_presence_parse_priority(const char *s)
{
    if (!s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < -128 || v > 127)
        return 0;
    return (int)v;
}

int xt_presence_set(xt_presence_table *t, const char *bare, const char *full, const char *show,
                    const char *status, int priority)
{
    char *st = NULL;
    if (status && !(st = xt_strdup(t->mem, status)))
        return XT_ENOMEM;
    size_t k = 0;
    while (k < t->n && strcmp(t->v[k].full, full))
        k++;
    if (k == t->n) {
        /* Small first: most tables hold a handful of resources. */
        if (XT_GROW(t->mem, t->v, t->cap, t->n + 1, 2)) {
            xt_free(t->mem, st);
            return XT_ENOMEM;
        }
        xt_pres_entry e = {.bare = xt_strdup(t->mem, bare), .full = xt_strdup(t->mem, full)};
        if (!e.bare || !e.full) {
            entry_free(t->mem, &e);
            xt_free(t->mem, st);
            return XT_ENOMEM;
        }
        t->v[t->n++] = e;
    }
    xt_pres_entry *e = &t->v[k];
    xt_free(t->mem, e->status);
    e->status = st;
    e->view = (xt_presence){
        .from = e->full,
        .type = NULL,
        .show = show,
        .status = e->status,
        .priority = priority,
    };
    return 0;
}

void xt_presence_remove(xt_presence_table *t, const char *bare, const char *full)
{
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        int hit = full ? strcmp(t->v[i].full, full) == 0 : strcmp(t->v[i].bare, bare) == 0;
        if (hit)
            entry_free(t->mem, &t->v[i]);
        else
            t->v[w++] = t->v[i];
    }
    t->n = w;
}

size_t xt_presence_count(const xt_presence_table *t, const char *bare)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += strcmp(t->v[i].bare, bare) == 0;
    return n;
}

const xt_presence *xt_presence_at(const xt_presence_table *t, const char *bare, size_t i)
{
    for (size_t k = 0; k < t->n; k++)
        if (strcmp(t->v[k].bare, bare) == 0 && i-- == 0)
            return &t->v[k].view;
    return NULL;
}

/* --- the connection's side: events and sending ------------------------------ */

#include "im/conn_int.h"

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
    const char *status = xt_stanza_child_text(st, "status", XT_NS_CLIENT);
    xt_event ev = {0};
    if (!type || strcmp(type, "unavailable") == 0 || strcmp(type, "error") == 0) {
        const char *show = xt_presence_norm_show(xt_stanza_child_text(st, "show", XT_NS_CLIENT));
        int prio = xt_presence_parse_priority(xt_stanza_child_text(st, "priority", XT_NS_CLIENT));
        if (!type) {
            rc = xt_presence_set(&c->presence, xt_jid_bare(j), xt_jid_full(j), show, status, prio);
        } else if (strcmp(type, "unavailable") == 0) {
            /* §4.5.3: from a bare JID it ends every resource. */
            xt_presence_remove(&c->presence, xt_jid_bare(j),
                               xt_jid_resource(j) ? xt_jid_full(j) : NULL);
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
