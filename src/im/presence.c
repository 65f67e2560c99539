/* The presence table (RFC 6121 §4); see presence.h. */
#include "im/presence.h"

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
