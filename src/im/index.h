/*
 * im/index.h -- a hash index over an array of string-keyed entries
 * (internal): finds an entry's position by its key in O(1) expected, so
 * tables a server fills (the roster, the presence table) never cost a
 * linear scan per stanza (issue 12: O(n^2) lookups).
 *
 * The index stores positions only; the keys stay in the caller's array
 * and are read back through key_fn(ctx, i). Open addressing with linear
 * probing and backward-shift deletion (no tombstones), a power-of-two
 * table kept at most half full. The caller keeps it in step: add after
 * appending, del before freeing an entry's key, moved after moving one.
 * Positions are below 2^32 - 1 (the tables are capped far lower).
 *
 * Hash flooding (issue 12 item 5): the hash is SipHash-1-3 (base/siphash.h) under a key
 * of 128 bits drawn per table from the conn's random source
 * (xt_conn_opts_set_random) when the table is first allocated, so a
 * server cannot precompute keys that share a probe run (with the
 * unseeded FNV-1a used before, 100,000 crafted presence keys would all
 * land in a few runs: quadratic). Every table using this is also capped
 * (presence.h, roster.h).
 */
#ifndef XT_IM_INDEX_H
#define XT_IM_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/common.h"

#define XT_INDEX_NONE ((size_t)-1)

typedef const char *(*xt_index_key_fn)(const void *ctx, size_t i);

typedef struct xt_index {
    uint32_t *slot; /* position + 1; 0 = empty */
    size_t cap, n;  /* cap a power of two (or 0), n live */
    uint64_t key[2];     /* SipHash key, valid while slot is allocated */
    xt_random_fn random; /* where keys come from (NULL = the system's, base/random.h) */
    void *random_ud;
} xt_index;

/* An empty index drawing its keys from fn(ud) (NULL = the system's,
 * base/random.h). An all-zero xt_index is a valid empty index using it. */
void xt_index_init(xt_index *ix, xt_random_fn fn, void *ud);
/* Frees the table; the index stays usable (empty, same random source;
 * a new table gets a new key). */
void xt_index_free(const xt_mem *mem, xt_index *ix);
/* The position whose key is `key`, or XT_INDEX_NONE. */
size_t xt_index_find(const xt_index *ix, const char *key, xt_index_key_fn kf, const void *ctx);
/* Indexes position i (its key must not be indexed yet). 0 or XT_ENOMEM
 * (the index is unchanged then; also when the random source fails). */
int xt_index_add(const xt_mem *mem, xt_index *ix, size_t i, xt_index_key_fn kf, const void *ctx);
/* Unindexes position i (its key still readable). */
void xt_index_del(xt_index *ix, size_t i, xt_index_key_fn kf, const void *ctx);
/* The entry at `from` now lives at `to` (its key readable at `to`). */
void xt_index_moved(xt_index *ix, size_t from, size_t to, xt_index_key_fn kf, const void *ctx);
/* Forgets everything and indexes positions 0..n-1. 0 or XT_ENOMEM (the
 * index is then empty: finds fail until a rebuild succeeds). */
int xt_index_rebuild(const xt_mem *mem, xt_index *ix, size_t n, xt_index_key_fn kf,
                     const void *ctx);

#endif
