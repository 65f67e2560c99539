/* SipHash-c-d; see siphash.h. */
#include "base/siphash.h"

#include <string.h>

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

/* Eight bytes as a little-endian word (the paper, §2): one load on a
 * little-endian machine, where the byte-by-byte loop it replaced cost
 * about 30 instructions a word (the store hashes every received
 * message's record, issue 14). */
static inline uint64_t le64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
#else
    uint64_t w = 0;
    for (int k = 0; k < 8; k++)
        w |= (uint64_t)p[k] << (8 * k);
    return w;
#endif
}

/* The message as little-endian 64-bit words, the last one padded with
 * zeros and carrying len mod 256 in its top byte (the paper, §2). */
uint64_t xt_siphash(const uint64_t key[2], const void *data, size_t len, int c, int d)
{
    const unsigned char *p = data;
    uint64_t v0 = key[0] ^ 0x736f6d6570736575ull, v1 = key[1] ^ 0x646f72616e646f6dull;
    uint64_t v2 = key[0] ^ 0x6c7967656e657261ull, v3 = key[1] ^ 0x7465646279746573ull;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i <= full; i += 8) {
        uint64_t m = 0;
        if (i < full) {
            m = le64(p + i);
        } else {
            for (size_t k = 0; k < len - full; k++)
                m |= (uint64_t)p[i + k] << (8 * k);
            m |= (uint64_t)(len & 0xff) << 56;
        }
        v3 ^= m;
        for (int r = 0; r < c; r++)
            SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}
