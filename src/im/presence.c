/* The presence table (RFC 6121 §4); see presence.h. */
#include "im/presence.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static const char *contact_key(const void *ctx, size_t i)
{
    return ((const xt_presence_table *)ctx)->v[i].bare;
}

void xt_presence_init(xt_presence_table *t, const xt_mem *mem)
{
    *t = (xt_presence_table){.mem = mem};
}

static void entry_free(const xt_mem *mem, xt_pres_entry *e)
{
    xt_free(mem, e->full);
    xt_free(mem, e->status);
}

static void contact_free(const xt_mem *mem, xt_pres_contact *k)
{
    for (size_t i = 0; i < k->n; i++)
        entry_free(mem, &k->res[i]);
    xt_free(mem, k->res);
    xt_free(mem, k->bare);
}

void xt_presence_clear(xt_presence_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        contact_free(t->mem, &t->v[i]);
    t->n = t->total = 0;
    xt_index_free(t->mem, &t->ix);
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

static xt_pres_contact *find_contact(const xt_presence_table *t, const char *bare)
{
    size_t k = xt_index_find(&t->ix, bare, contact_key, t);
    return k == XT_INDEX_NONE ? NULL : &t->v[k];
}

char *xt_presence_status_copy(const xt_mem *mem, const char *status)
{
    size_t n = strnlen(status, XT_PRESENCE_MAX_STATUS + 1);
    if (n > XT_PRESENCE_MAX_STATUS) {
        n = XT_PRESENCE_MAX_STATUS;
        while (n && ((unsigned char)status[n] & 0xC0) == 0x80)
            n--;
    }
    return xt_strndup(mem, status, n);
}

/* Removes contact k (empty or not) and moves the last one into its place. */
static void drop_contact(xt_presence_table *t, size_t k)
{
    xt_index_del(&t->ix, k, contact_key, t);
    t->total -= t->v[k].n;
    contact_free(t->mem, &t->v[k]);
    if (k != t->n - 1) {
        t->v[k] = t->v[t->n - 1];
        xt_index_moved(&t->ix, t->n - 1, k, contact_key, t);
    }
    t->n--;
}

int xt_presence_set(xt_presence_table *t, const char *bare, const char *full, const char *show,
                    const char *status, int priority)
{
    xt_pres_contact *k = find_contact(t, bare);
    size_t r = 0;
    while (k && r < k->n && strcmp(k->res[r].full, full))
        r++;
    int is_new = !k || r == k->n;
    if (is_new && (t->total >= XT_PRESENCE_MAX_TOTAL || (k && k->n >= XT_PRESENCE_MAX_RESOURCES)))
        return XT_ETOOBIG;
    char *st = NULL;
    if (status && !(st = xt_presence_status_copy(t->mem, status)))
        return XT_ENOMEM;
    if (!k) {
        if (XT_GROW(t->mem, t->v, t->cap, t->n + 1, 4))
            goto nomem;
        xt_pres_contact nk = {.bare = xt_strdup(t->mem, bare)};
        if (!nk.bare)
            goto nomem;
        t->v[t->n] = nk;
        if (xt_index_add(t->mem, &t->ix, t->n, contact_key, t)) {
            xt_free(t->mem, nk.bare);
            goto nomem;
        }
        k = &t->v[t->n++];
    }
    if (is_new) {
        char *f = NULL;
        if (XT_GROW(t->mem, k->res, k->cap, k->n + 1, 2) || !(f = xt_strdup(t->mem, full))) {
            if (!k->n) /* the contact made above for it */
                drop_contact(t, (size_t)(k - t->v));
            goto nomem;
        }
        k->res[k->n++] = (xt_pres_entry){.full = f};
        t->total++;
    }
    xt_pres_entry *e = &k->res[r];
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
nomem:
    xt_free(t->mem, st);
    return XT_ENOMEM;
}

void xt_presence_remove(xt_presence_table *t, const char *bare, const char *full)
{
    size_t ki = xt_index_find(&t->ix, bare, contact_key, t);
    if (ki == XT_INDEX_NONE)
        return;
    xt_pres_contact *k = &t->v[ki];
    if (full) {
        size_t r = 0;
        while (r < k->n && strcmp(k->res[r].full, full))
            r++;
        if (r == k->n)
            return;
        entry_free(t->mem, &k->res[r]);
        /* Keeps arrival order (the views point at the entries' strings,
         * not into the entries, so moving them is safe). */
        memmove(&k->res[r], &k->res[r + 1], (k->n - r - 1) * sizeof *k->res);
        k->n--;
        t->total--;
        if (k->n)
            return;
    }
    drop_contact(t, ki);
}

size_t xt_presence_count(const xt_presence_table *t, const char *bare)
{
    const xt_pres_contact *k = find_contact(t, bare);
    return k ? k->n : 0;
}

const xt_presence *xt_presence_at(const xt_presence_table *t, const char *bare, size_t i)
{
    const xt_pres_contact *k = find_contact(t, bare);
    return k && i < k->n ? &k->res[i].view : NULL;
}
