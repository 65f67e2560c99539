/*
 * store/seen_set.h -- the repeat record's memory side (internal): a set
 * of 64-bit keyed hashes, one per message seen (xt_seen_check_add).
 *
 * Why in memory: a received message's record used to be an INSERT OR
 * IGNORE into a table with a unique (account, sender, id) index, ~12,000
 * instructions a message for `listen` (issue 14), more than the whole
 * rest of the client above expat. The set answers "seen?" in a few dozen
 * instructions; the store writes the new hashes of a batch as one row
 * (store.c, seen_set table), so the disk side costs one insert per read
 * burst, not per message.
 *
 * The hashes are SipHash-1-3 under a key kept in the store file (so they
 * mean the same in every process and after a restart), which neither a
 * server nor a sender knows: nobody can craft ids that fill one probe
 * run, nor a message that collides with one already seen (dropping it);
 * an accidental collision among the cap of 200,000 records drops a new
 * message with a probability of about 1e-14.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), a power-of-two table at most half full. 0 marks an empty
 * slot, so a hash of 0 is stored as 1 (xt_seen_set_norm): one more
 * collision in 2^64.
 */
#ifndef XT_STORE_SEEN_SET_H
#define XT_STORE_SEEN_SET_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/common.h"

typedef struct xt_seen_set {
    uint64_t *slot;
    size_t cap, n; /* cap a power of two (or 0), n members */
} xt_seen_set;

/* The value a hash is stored as (0 is the empty slot). */
static inline uint64_t xt_seen_set_norm(uint64_t h)
{
    return h ? h : 1;
}

/* An all-zero xt_seen_set is a valid empty set. */
void xt_seen_set_free(const xt_mem *mem, xt_seen_set *s);
/* 1 when h (normalized) is a member. */
int xt_seen_set_has(const xt_seen_set *s, uint64_t h);
/* Adds h: 1 added, 0 already a member, XT_ENOMEM (the set unchanged). */
int xt_seen_set_add(const xt_mem *mem, xt_seen_set *s, uint64_t h);
/* Makes room for n more members at once (loading a record): 0 or
 * XT_ENOMEM (the set unchanged). */
int xt_seen_set_reserve(const xt_mem *mem, xt_seen_set *s, size_t more);
/* Removes h if a member. */
void xt_seen_set_del(xt_seen_set *s, uint64_t h);

#endif
