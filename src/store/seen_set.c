/* The repeat record's set of hashes; see seen_set.h. */
#include "store/seen_set.h"

#include "base/mem.h"

void xt_seen_set_free(const xt_mem *mem, xt_seen_set *s)
{
    xt_free(mem, s->slot);
    *s = (xt_seen_set){0};
}

/* The hashes are uniform already (keyed SipHash): the low bits index. */
static size_t home(const xt_seen_set *s, uint64_t h)
{
    return (size_t)h & (s->cap - 1);
}

int xt_seen_set_has(const xt_seen_set *s, uint64_t h)
{
    if (!s->cap)
        return 0;
    h = xt_seen_set_norm(h);
    for (size_t p = home(s, h);; p = (p + 1) & (s->cap - 1)) {
        if (s->slot[p] == h)
            return 1;
        if (!s->slot[p])
            return 0;
    }
}

static int grow(const xt_mem *mem, xt_seen_set *s, size_t want)
{
    size_t ncap = s->cap ? s->cap : 64;
    while (want * 2 > ncap) {
        if (ncap > SIZE_MAX / 2 / sizeof(uint64_t))
            return XT_ENOMEM;
        ncap *= 2;
    }
    if (ncap == s->cap)
        return 0;
    uint64_t *ns = xt_calloc(mem, ncap, sizeof *ns);
    if (!ns)
        return XT_ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t h = s->slot[i];
        if (!h)
            continue;
        size_t p = (size_t)h & (ncap - 1);
        while (ns[p])
            p = (p + 1) & (ncap - 1);
        ns[p] = h;
    }
    xt_free(mem, s->slot);
    s->slot = ns;
    s->cap = ncap;
    return 0;
}

int xt_seen_set_reserve(const xt_mem *mem, xt_seen_set *s, size_t more)
{
    if (more > SIZE_MAX / 4 - s->n)
        return XT_ENOMEM;
    return grow(mem, s, s->n + more);
}

int xt_seen_set_add(const xt_mem *mem, xt_seen_set *s, uint64_t h)
{
    if ((s->n + 1) * 2 > s->cap && grow(mem, s, s->n + 1) < 0)
        return XT_ENOMEM;
    h = xt_seen_set_norm(h);
    size_t p = home(s, h);
    for (; s->slot[p]; p = (p + 1) & (s->cap - 1))
        if (s->slot[p] == h)
            return 0;
    s->slot[p] = h;
    s->n++;
    return 1;
}

void xt_seen_set_del(xt_seen_set *s, uint64_t h)
{
    if (!s->cap)
        return;
    h = xt_seen_set_norm(h);
    size_t m = s->cap - 1, p = home(s, h);
    for (; s->slot[p] != h; p = (p + 1) & m)
        if (!s->slot[p])
            return;
    /* Backward shift: move up each later member of the run whose home
     * is not between the hole and it (cyclically), so no probe for it
     * stops early at the hole. */
    for (size_t q = (p + 1) & m;; q = (q + 1) & m) {
        uint64_t v = s->slot[q];
        if (!v)
            break;
        size_t hq = (size_t)v & m;
        if (((q - hq) & m) >= ((q - p) & m)) {
            s->slot[p] = v;
            p = q;
        }
    }
    s->slot[p] = 0;
    s->n--;
}
