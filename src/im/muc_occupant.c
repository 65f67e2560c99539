/*
 * One room's occupant table (XEP-0045 §7.2.3: the room sends every
 * occupant's presence at our join; a big room sends thousands). An array
 * of occupants with a seeded hash index by nick (index.h), so a presence
 * costs O(1) expected and a join of n occupants O(n): no linear scan per
 * stanza, and no precomputed nicks that collide (the key is drawn from
 * the conn's random source). Removal moves the last occupant into the
 * hole; order is therefore not kept, which the API says.
 */
#include <string.h>

#include "base/mem.h"
#include "im/muc_int.h"
#include "im/presence.h"

static const char *occ_key(const void *ctx, size_t i)
{
    const xt_muc_occ_table *t = ctx;
    if (t->probes)
        (*t->probes)++;
    return t->v[i].view.nick;
}

void xt_muc_occ_init(xt_muc_occ_table *t, const xt_mem *mem, xt_random_fn fn, void *ud,
                     uint64_t *probes)
{
    *t = (xt_muc_occ_table){.mem = mem, .probes = probes};
    xt_index_init(&t->ix, fn, ud);
}

static void occ_clear(const xt_mem *mem, xt_muc_occ *o)
{
    xt_free(mem, o->jid);
    xt_free(mem, o->real_jid);
    xt_free(mem, o->status);
}

void xt_muc_occ_free(xt_muc_occ_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        occ_clear(t->mem, &t->v[i]);
    xt_free(t->mem, t->v);
    xt_index_free(t->mem, &t->ix);
    t->v = NULL;
    t->n = t->cap = 0;
}

xt_muc_occ *xt_muc_occ_find(const xt_muc_occ_table *t, const char *nick)
{
    size_t i = xt_index_find(&t->ix, nick, occ_key, t);
    return i == XT_INDEX_NONE ? NULL : &t->v[i];
}

/* "room/nick" in one allocation; *nick_at gets the nick's offset. */
static char *occ_jid(const xt_mem *mem, const char *room, const char *nick, size_t *nick_at)
{
    size_t rl = strlen(room), nl = strlen(nick);
    char *s = xt_malloc(mem, rl + nl + 2);
    if (!s)
        return NULL;
    memcpy(s, room, rl);
    s[rl] = '/';
    memcpy(s + rl + 1, nick, nl + 1);
    *nick_at = rl + 1;
    return s;
}

/* The views point at the occupants' own strings: after the array moved
 * (grown) they are still right, since only the struct moved. */
int xt_muc_occ_add(xt_muc_occ_table *t, const char *room, const char *nick, xt_muc_occ **out)
{
    if (t->n >= XT_MUC_MAX_OCCUPANTS)
        return XT_ETOOBIG;
    if (XT_GROW(t->mem, t->v, t->cap, t->n + 1, 8))
        return XT_ENOMEM;
    size_t at;
    char *jid = occ_jid(t->mem, room, nick, &at);
    if (!jid)
        return XT_ENOMEM;
    xt_muc_occ *o = &t->v[t->n];
    *o = (xt_muc_occ){.jid = jid};
    o->view = (xt_muc_occupant){.jid = jid, .nick = jid + at};
    if (xt_index_add(t->mem, &t->ix, t->n, occ_key, t)) {
        xt_free(t->mem, jid);
        return XT_ENOMEM;
    }
    t->n++;
    *out = o;
    return 0;
}

int xt_muc_occ_rename(xt_muc_occ_table *t, xt_muc_occ *o, const char *room, const char *nick)
{
    size_t at, i = (size_t)(o - t->v);
    char *jid = occ_jid(t->mem, room, nick, &at);
    if (!jid)
        return XT_ENOMEM;
    xt_index_del(&t->ix, i, occ_key, t);
    char *old = o->jid;
    o->jid = jid;
    o->view.jid = jid;
    o->view.nick = jid + at;
    /* Cannot fail: the index just lost a member, so it does not grow,
     * and its table (with its key) exists. */
    (void)xt_index_add(t->mem, &t->ix, i, occ_key, t);
    xt_free(t->mem, old);
    return 0;
}

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

int xt_muc_occ_set_strings(xt_muc_occ_table *t, xt_muc_occ *o, const char *real_jid,
                           const char *status)
{
    if (!same(real_jid, o->real_jid)) {
        char *r = NULL;
        if (real_jid && !(r = xt_strdup(t->mem, real_jid)))
            return XT_ENOMEM;
        xt_free(t->mem, o->real_jid);
        o->real_jid = r;
    }
    if (!same(status, o->status)) {
        char *s = NULL;
        if (status && !(s = xt_presence_status_copy(t->mem, status)))
            return XT_ENOMEM;
        xt_free(t->mem, o->status);
        o->status = s;
    }
    o->view.real_jid = o->real_jid;
    o->view.status = o->status;
    return 0;
}

void xt_muc_occ_remove(xt_muc_occ_table *t, xt_muc_occ *o)
{
    size_t i = (size_t)(o - t->v), last = t->n - 1;
    xt_index_del(&t->ix, i, occ_key, t);
    occ_clear(t->mem, o);
    if (i != last) {
        t->v[i] = t->v[last];
        xt_index_moved(&t->ix, last, i, occ_key, t);
    }
    t->n--;
}
