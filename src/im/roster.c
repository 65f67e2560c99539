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

static const char *entry_key(const void *ctx, size_t i)
{
    return ((const xt_roster_entry *)ctx)[i].jid;
}

size_t xt_roster_find(const xt_roster *r, const char *jid)
{
    return xt_index_find(&r->ix, jid, entry_key, r->v);
}

void xt_roster_free(xt_roster *r)
{
    xt_index_free(r->mem, &r->ix);
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
    size_t cap = 0, skipped = 0;
    for (const xt_stanza *i = query ? xt_stanza_first_child(query) : NULL; i;
         i = xt_stanza_next_sibling(i))
        cap++;
    if (cap > XT_ROSTER_MAX)
        cap = XT_ROSTER_MAX;
    xt_roster_entry *v = cap ? xt_calloc(r->mem, cap, sizeof *v) : NULL;
    if (cap && !v)
        return XT_ENOMEM;
    xt_index ix;
    xt_index_init(&ix, r->ix.random, r->ix.random_ud);
    size_t n = 0;
    for (const xt_stanza *i = query ? xt_stanza_first_child(query) : NULL; i;
         i = xt_stanza_next_sibling(i)) {
        if (strcmp(xt_stanza_name(i), "item") || strcmp(xt_stanza_ns(i), XT_NS_ROSTER))
            continue;
        if (n == XT_ROSTER_MAX) {
            skipped++;
            continue;
        }
        int rc = xt_roster_parse_item(r->mem, i, &v[n]);
        if (rc == XT_ENOMEM) {
            xt_index_free(r->mem, &ix);
            free_entries(r->mem, v, n);
            return rc;
        }
        if (rc || strcmp(v[n].view.subscription, "remove") == 0) {
            xt_roster_entry_free(r->mem, &v[n]);
            continue; /* bad items are skipped, not fatal */
        }
        /* A duplicate JID replaces the earlier one (a server bug, but the
         * roster must stay a set). */
        size_t k = xt_index_find(&ix, v[n].jid, entry_key, v);
        if (k != XT_INDEX_NONE) {
            /* Same key: the index entry for k stays right. */
            xt_roster_entry_free(r->mem, &v[k]);
            v[k] = v[n];
            memset(&v[n], 0, sizeof v[n]);
            continue;
        }
        if (xt_index_add(r->mem, &ix, n, entry_key, v)) {
            xt_index_free(r->mem, &ix);
            free_entries(r->mem, v, n + 1);
            return XT_ENOMEM;
        }
        n++;
    }
    free_entries(r->mem, r->v, r->n);
    xt_index_free(r->mem, &r->ix);
    r->ix = ix;
    r->v = v;
    r->n = n;
    r->cap = cap;
    r->skipped = skipped;
    r->loaded = 1;
    return 0;
}

int xt_roster_apply(xt_roster *r, xt_roster_entry *e, const xt_roster_item **view)
{
    size_t k = xt_roster_find(r, e->jid);
    if (k == XT_INDEX_NONE)
        k = r->n;
    if (strcmp(e->view.subscription, "remove") == 0) {
        if (k < r->n) {
            xt_index_del(&r->ix, k, entry_key, r->v);
            xt_roster_entry_free(r->mem, &r->v[k]);
            memmove(&r->v[k], &r->v[k + 1], (r->n - k - 1) * sizeof *r->v);
            r->n--;
            /* Positions after k moved down by one. */
            for (size_t i = k; i < r->n; i++)
                xt_index_moved(&r->ix, i + 1, i, entry_key, r->v);
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
    if (r->n >= XT_ROSTER_MAX) {
        xt_roster_entry_free(r->mem, e);
        return XT_ETOOBIG;
    }
    if (XT_GROW(r->mem, r->v, r->cap, r->n + 1, 4)) {
        xt_roster_entry_free(r->mem, e);
        return XT_ENOMEM;
    }
    r->v[r->n] = *e;
    if (xt_index_add(r->mem, &r->ix, r->n, entry_key, r->v)) {
        xt_roster_entry_free(r->mem, e);
        return XT_ENOMEM;
    }
    memset(e, 0, sizeof *e);
    *view = &r->v[r->n++].view;
    return 0;
}
