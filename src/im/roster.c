/* The roster (RFC 6121 §2); see roster.h. */
#include "im/roster.h"

#include <string.h>

#include "base/mem.h"
#include "xtalk/jid.h"

void xt_roster_init(xt_roster *r, const xt_mem *mem)
{
    *r = (xt_roster){.mem = mem};
}

void xt_roster_entry_free(const xt_mem *mem, xt_roster_entry *e)
{
    xt_free(mem, e->jid);
    xt_free(mem, e->name);
    for (size_t i = 0; i < e->ngroups; i++)
        xt_free(mem, e->groups[i]);
    xt_free(mem, e->groups);
    memset(e, 0, sizeof *e);
}

static void free_entries(const xt_mem *mem, xt_roster_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xt_roster_entry_free(mem, &v[i]);
    xt_free(mem, v);
}

void xt_roster_free(xt_roster *r)
{
    free_entries(r->mem, r->v, r->n);
    xt_roster_entry_free(r->mem, &r->removed);
    r->v = NULL;
    r->n = r->cap = 0;
}

/* §2.1.2.5: the subscription states; anything else reads as "none". */
static const char *norm_subscription(const char *s)
{
    static const char *const known[] = {"none", "to", "from", "both", "remove"};
    for (size_t i = 0; s && i < sizeof known / sizeof *known; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return "none";
}

int xt_roster_parse_item(const xt_mem *mem, const xt_stanza *item, xt_roster_entry *e)
{
    memset(e, 0, sizeof *e);
    const char *jid = xt_stanza_attr(item, "jid");
    if (!jid)
        return XT_EJID;
    xt_jid *j = NULL;
    int rc = xt_jid_parse(mem, jid, &j, NULL);
    if (rc)
        return rc;
    /* §2.1.2.3: roster items are bare JIDs. */
    if (xt_jid_resource(j)) {
        xt_jid_free(j);
        return XT_EJID;
    }
    e->jid = xt_strdup(mem, xt_jid_bare(j));
    xt_jid_free(j);
    const char *name = xt_stanza_attr(item, "name");
    if (!e->jid || (name && *name && !(e->name = xt_strdup(mem, name))))
        goto nomem;
    size_t ng = 0;
    for (const xt_stanza *g = xt_stanza_first_child(item); g; g = xt_stanza_next_sibling(g))
        if (strcmp(xt_stanza_name(g), "group") == 0)
            ng++;
    if (ng) {
        e->groups = xt_calloc(mem, ng, sizeof *e->groups);
        if (!e->groups)
            goto nomem;
        for (const xt_stanza *g = xt_stanza_first_child(item); g; g = xt_stanza_next_sibling(g)) {
            if (strcmp(xt_stanza_name(g), "group"))
                continue;
            const char *t = xt_stanza_text(g);
            if (!t)
                goto nomem;
            if (!*t)
                continue; /* §2.1.2.4: an empty group name is meaningless */
            if (!(e->groups[e->ngroups] = xt_strdup(mem, t)))
                goto nomem;
            e->ngroups++;
        }
    }
    const char *ask = xt_stanza_attr(item, "ask");
    e->view = (xt_roster_item){
        .jid = e->jid,
        .name = e->name,
        .subscription = norm_subscription(xt_stanza_attr(item, "subscription")),
        .ask = ask && strcmp(ask, "subscribe") == 0 ? "subscribe" : NULL,
        .groups = (const char *const *)e->groups,
        .ngroups = e->ngroups,
    };
    return 0;
nomem:
    xt_roster_entry_free(mem, e);
    return XT_ENOMEM;
}

int xt_roster_replace(xt_roster *r, const xt_stanza *query)
{
    size_t cap = 0;
    for (const xt_stanza *i = query ? xt_stanza_first_child(query) : NULL; i;
         i = xt_stanza_next_sibling(i))
        cap++;
    xt_roster_entry *v = cap ? xt_calloc(r->mem, cap, sizeof *v) : NULL;
    if (cap && !v)
        return XT_ENOMEM;
    size_t n = 0;
    for (const xt_stanza *i = query ? xt_stanza_first_child(query) : NULL; i;
         i = xt_stanza_next_sibling(i)) {
        if (strcmp(xt_stanza_name(i), "item") || strcmp(xt_stanza_ns(i), XT_NS_ROSTER))
            continue;
        int rc = xt_roster_parse_item(r->mem, i, &v[n]);
        if (rc == XT_ENOMEM) {
            free_entries(r->mem, v, n);
            return rc;
        }
        if (rc || strcmp(v[n].view.subscription, "remove") == 0) {
            xt_roster_entry_free(r->mem, &v[n]);
            continue; /* bad items are skipped, not fatal */
        }
        /* A duplicate JID replaces the earlier one (a server bug, but the
         * roster must stay a set). */
        size_t k = 0;
        while (k < n && strcmp(v[k].jid, v[n].jid))
            k++;
        if (k < n) {
            xt_roster_entry_free(r->mem, &v[k]);
            v[k] = v[n];
            memset(&v[n], 0, sizeof v[n]);
            continue;
        }
        n++;
    }
    free_entries(r->mem, r->v, r->n);
    r->v = v;
    r->n = n;
    r->cap = cap;
    r->loaded = 1;
    return 0;
}

int xt_roster_apply(xt_roster *r, xt_roster_entry *e, const xt_roster_item **view)
{
    size_t k = 0;
    while (k < r->n && strcmp(r->v[k].jid, e->jid))
        k++;
    if (strcmp(e->view.subscription, "remove") == 0) {
        if (k < r->n) {
            xt_roster_entry_free(r->mem, &r->v[k]);
            memmove(&r->v[k], &r->v[k + 1], (r->n - k - 1) * sizeof *r->v);
            r->n--;
        }
        xt_roster_entry_free(r->mem, &r->removed);
        r->removed = *e;
        memset(e, 0, sizeof *e);
        *view = &r->removed.view;
        return 0;
    }
    if (k < r->n) {
        xt_roster_entry_free(r->mem, &r->v[k]);
        r->v[k] = *e;
        memset(e, 0, sizeof *e);
        *view = &r->v[k].view;
        return 0;
    }
    if (XT_GROW(r->mem, r->v, r->cap, r->n + 1, 4)) {
        xt_roster_entry_free(r->mem, e);
        return XT_ENOMEM;
    }
    r->v[r->n] = *e;
    memset(e, 0, sizeof *e);
    *view = &r->v[r->n++].view;
    return 0;
}
