/* A hash index over string-keyed arrays; see index.h. */
#include "im/index.h"

#include <string.h>

#include "base/mem.h"
#include "base/random.h"
#include "base/siphash.h"

static size_t hash(const xt_index *ix, const char *s)
{
    return (size_t)xt_siphash(ix->key, s, strlen(s), 1, 3);
}

void xt_index_init(xt_index *ix, xt_random_fn fn, void *ud)
{
    *ix = (xt_index){.random = fn, .random_ud = ud};
}

void xt_index_free(const xt_mem *mem, xt_index *ix)
{
    xt_free(mem, ix->slot);
    xt_index_init(ix, ix->random, ix->random_ud);
}

/* A new table of ncap slots, with a new key when the index had none
 * (rehashing into a grown table keeps the key: the members move with
 * it). NULL on failure. */
static uint32_t *new_table(const xt_mem *mem, xt_index *ix, size_t ncap)
{
    if (!ix->slot && xt_random_bytes(ix->random, ix->random_ud, ix->key, sizeof ix->key) != 0)
        return NULL;
    return xt_calloc(mem, ncap, sizeof(uint32_t));
}

size_t xt_index_find(const xt_index *ix, const char *key, xt_index_key_fn kf, const void *ctx)
{
    if (!ix->cap)
        return XT_INDEX_NONE;
    size_t m = ix->cap - 1;
    for (size_t p = hash(ix, key) & m;; p = (p + 1) & m) {
        uint32_t v = ix->slot[p];
        if (!v)
            return XT_INDEX_NONE;
        if (strcmp(kf(ctx, v - 1), key) == 0)
            return v - 1;
    }
}

static void place(const xt_index *ix, uint32_t *slot, size_t cap, const char *key, size_t i)
{
    size_t m = cap - 1, p = hash(ix, key) & m;
    while (slot[p])
        p = (p + 1) & m;
    slot[p] = (uint32_t)(i + 1);
}

int xt_index_add(const xt_mem *mem, xt_index *ix, size_t i, xt_index_key_fn kf, const void *ctx)
{
    if (i >= UINT32_MAX - 1)
        return XT_ENOMEM;
    if ((ix->n + 1) * 2 > ix->cap) {
        size_t ncap = ix->cap ? ix->cap * 2 : 16;
        uint32_t *ns = new_table(mem, ix, ncap);
        if (!ns)
            return XT_ENOMEM;
        for (size_t k = 0; k < ix->cap; k++)
            if (ix->slot[k])
                place(ix, ns, ncap, kf(ctx, ix->slot[k] - 1), ix->slot[k] - 1);
        xt_free(mem, ix->slot);
        ix->slot = ns;
        ix->cap = ncap;
    }
    place(ix, ix->slot, ix->cap, kf(ctx, i), i);
    ix->n++;
    return 0;
}

/* The slot holding position i (found through its key), or cap. */
static size_t slot_of(const xt_index *ix, size_t i, xt_index_key_fn kf, const void *ctx)
{
    if (!ix->cap)
        return 0;
    size_t m = ix->cap - 1;
    for (size_t p = hash(ix, kf(ctx, i)) & m;; p = (p + 1) & m) {
        if (!ix->slot[p])
            return ix->cap;
        if (ix->slot[p] == i + 1)
            return p;
    }
}

void xt_index_del(xt_index *ix, size_t i, xt_index_key_fn kf, const void *ctx)
{
    size_t p = slot_of(ix, i, kf, ctx);
    if (p >= ix->cap)
        return;
    ix->n--;
    /* Backward-shift deletion: move later members of the probe run into
     * the hole unless their home slot lies cyclically in (hole, j]. */
    size_t m = ix->cap - 1;
    for (;;) {
        size_t j = p;
        for (;;) {
            j = (j + 1) & m;
            if (!ix->slot[j]) {
                ix->slot[p] = 0;
                return;
            }
            size_t home = hash(ix, kf(ctx, ix->slot[j] - 1)) & m;
            int stays = p <= j ? (p < home && home <= j) : (p < home || home <= j);
            if (!stays)
                break;
        }
        ix->slot[p] = ix->slot[j];
        p = j;
    }
}

void xt_index_moved(xt_index *ix, size_t from, size_t to, xt_index_key_fn kf, const void *ctx)
{
    if (!ix->cap)
        return;
    size_t m = ix->cap - 1;
    for (size_t p = hash(ix, kf(ctx, to)) & m; ix->slot[p]; p = (p + 1) & m)
        if (ix->slot[p] == from + 1) {
            ix->slot[p] = (uint32_t)(to + 1);
            return;
        }
}

int xt_index_rebuild(const xt_mem *mem, xt_index *ix, size_t n, xt_index_key_fn kf, const void *ctx)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    if (cap != ix->cap) {
        xt_index_free(mem, ix);
        if (!(ix->slot = new_table(mem, ix, cap)))
            return XT_ENOMEM;
        ix->cap = cap;
    } else {
        memset(ix->slot, 0, cap * sizeof *ix->slot);
    }
    ix->n = n;
    for (size_t i = 0; i < n; i++)
        place(ix, ix->slot, ix->cap, kf(ctx, i), i);
    return 0;
}
