/* The pending-IQ table; see iq.h. */
#include "core/iq.h"

#include <string.h>

#include "base/mem.h"
#include "xtalk/jid.h"

void xt_iq_table_init(xt_iq_table *t, const xt_mem *mem)
{
    *t = (xt_iq_table){.mem = mem};
}

void xt_iq_pending_done(const xt_mem *mem, xt_iq_pending *p)
{
    xt_free(mem, p->id);
    xt_free(mem, p->to);
    p->id = p->to = NULL;
}

void xt_iq_table_free(xt_iq_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        xt_iq_pending_done(t->mem, &t->v[i]);
    xt_free(t->mem, t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

void xt_iq_table_trim(xt_iq_table *t)
{
    if (t->n)
        return;
    xt_free(t->mem, t->v);
    t->v = NULL;
    t->cap = 0;
}

int xt_iq_add(xt_iq_table *t, const char *id, const char *to, uint64_t deadline, xt_iq_fn fn,
              void *ud)
{
    if (XT_GROW(t->mem, t->v, t->cap, t->n + 1, 2))
        return XT_ENOMEM;
    xt_iq_pending p = {.deadline = deadline, .fn = fn, .ud = ud};
    p.id = xt_strdup(t->mem, id);
    if (to)
        p.to = xt_strdup(t->mem, to);
    if (!p.id || (to && !p.to)) {
        xt_iq_pending_done(t->mem, &p);
        return XT_ENOMEM;
    }
    t->v[t->n++] = p;
    return 0;
}

/* Removes entry i keeping the order (replies usually match the oldest). */
static void take_at(xt_iq_table *t, size_t i, xt_iq_pending *out)
{
    *out = t->v[i];
    memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
    t->n--;
}

static int eq(const char *a, const char *b)
{
    return a && b && (strcmp(a, b) == 0 || xt_jid_str_equal(a, b));
}

/* RFC 6120 §10.1: a request without 'to' is handled by the server on
 * behalf of the account; its answer may carry no 'from', the bare JID or
 * the domain. Anything else is a different entity. */
static int from_matches(const xt_iq_pending *p, const char *from, const xt_iq_self *self)
{
    int to_self = !p->to || (self && (eq(p->to, self->bare) || eq(p->to, self->domain)));
    if (to_self) {
        if (!from)
            return 1;
        return self && (eq(from, self->bare) || eq(from, self->domain) ||
                        (self->full && eq(from, self->full)));
    }
    return from && eq(from, p->to);
}

int xt_iq_take(xt_iq_table *t, const char *id, const char *from, const xt_iq_self *self,
               xt_iq_pending *out)
{
    if (!id)
        return 0;
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i].id, id) == 0 && from_matches(&t->v[i], from, self)) {
            take_at(t, i, out);
            return 1;
        }
    }
    return 0;
}

int xt_iq_take_expired(xt_iq_table *t, uint64_t now, xt_iq_pending *out)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].deadline <= now) {
            take_at(t, i, out);
            return 1;
        }
    }
    return 0;
}

int xt_iq_take_any(xt_iq_table *t, xt_iq_pending *out)
{
    if (!t->n)
        return 0;
    take_at(t, 0, out);
    return 1;
}

int64_t xt_iq_deadline(const xt_iq_table *t)
{
    int64_t d = -1;
    for (size_t i = 0; i < t->n; i++) {
        int64_t v = t->v[i].deadline > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)t->v[i].deadline;
        if (d < 0 || v < d)
            d = v;
    }
    return d;
}

void xt_iq_drop_last(xt_iq_table *t)
{
    if (t->n == 0)
        return;
    t->n--;
    xt_iq_pending_done(t->mem, &t->v[t->n]);
}
