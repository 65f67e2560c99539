/*
 * base/siphash.h -- SipHash-c-d (Aumasson and Bernstein, 2012), the one
 * keyed hash of the library (internal): the im layer's hash indexes
 * (im/index.h, c 1 d 3) and the store's repeat record (xt_seen_check_add,
 * 1-3 under the store file's own key) use it, so that neither a server
 * nor a sender who does not know the key can make entries collide.
 */
#ifndef XT_BASE_SIPHASH_H
#define XT_BASE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-c-d of len bytes under key (two little-endian 64-bit words, as
 * the paper reads its 16 key bytes). The paper's 2-4 vector is in
 * tests/unit/test_hostile.c. */
uint64_t xt_siphash(const uint64_t key[2], const void *data, size_t len, int c, int d);

#endif
