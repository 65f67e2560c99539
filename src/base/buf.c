/* Growable byte buffer; see buf.h. */
#include "base/buf.h"

#include <string.h>

#include "base/mem.h"

void xt_buf_init(xt_buf *b, const xt_mem *mem)
{
    *b = (xt_buf){.mem = mem};
}

void xt_buf_free(xt_buf *b)
{
    xt_free(b->mem, b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

void xt_buf_free_wipe(xt_buf *b)
{
    xt_wipe(b->data, b->cap);
    xt_buf_free(b);
}

int xt_buf_reserve(xt_buf *b, size_t extra)
{
    if (b->off && b->off == b->len) {
        b->off = b->len = 0;
    }
    if (extra > SIZE_MAX / 2 - b->len)
        return XT_ETOOBIG;
    if (b->limit && xt_buf_size(b) + extra > b->limit)
        return XT_ETOOBIG;
    if (b->len + extra <= b->cap)
        return 0;
    /* Reclaim consumed space first when it is at least half the buffer. */
    if (b->off && b->off >= b->cap / 2) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->len + extra <= b->cap)
            return 0;
    }
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + extra)
        ncap *= 2;
    uint8_t *n = xt_realloc(b->mem, b->data, ncap);
    if (!n)
        return XT_ENOMEM;
    b->data = n;
    b->cap = ncap;
    return 0;
}

int xt_buf_append_slow(xt_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = xt_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* Bit 0: escaped in text and attribute values; bit 1: in attribute
 * values only. */
/*
 * One pass: & < > always, " and ' in attribute values; characters an XML
 * parser would normalise away become character references: CR always
 * (XML 1.0 §2.11 end-of-line handling), TAB and LF in attribute values
 * (§3.3.3 attribute-value normalisation), so every string round-trips.
 * esc_class bit 0: special in text and attributes; bit 1: in attributes.
 */
static const uint8_t esc_class[256] = {
    ['&'] = 1, ['<'] = 1, ['>'] = 1, ['\r'] = 1,
    ['"'] = 2, ['\''] = 2, ['\n'] = 2, ['\t'] = 2,
};

/* SWAR word filter: non-zero when some byte of v is zero. Exact as an
 * existence test (a borrow only marks bytes above a real zero). */
#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
static inline uint64_t zero_byte(uint64_t v)
{
    return (v - ONES) & ~v & HIGHS;
}

int xt_buf_append_escaped(xt_buf *b, const char *s, size_t n, int attr)
{
    const uint8_t mask = attr ? 3 : 1;
    /* The word filter: a word with none of (byte | m) == c for these
     * three (m, c) pairs has no special byte and is skipped whole. Text:
     * '&', '<' or '>' (0x3C|2 == 0x3E|2), CR. Attributes, wider: " # & '
     * (0x22..0x27 | 5 == 0x27), '<' '>', 0x08..0x0F (TAB, LF, CR). A word
     * that passes is walked byte by byte with the exact table. */
    const uint64_t m1 = attr ? 5 * ONES : 0, c1 = (attr ? 0x27 : 0x26) * ONES;
    const uint64_t m2 = 2 * ONES, c2 = 0x3E * ONES;
    const uint64_t m3 = attr ? 7 * ONES : 0, c3 = (attr ? 0x0F : 0x0D) * ONES;
    /* Escaping only grows the text: room for the plain bytes up front,
     * so the runs between specials are straight copies. */
    int rc = xt_buf_reserve(b, n);
    if (rc)
        return rc;
    size_t run = 0, i = 0;
    while (i < n) {
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (zero_byte((w | m1) ^ c1) | zero_byte((w | m2) ^ c2) | zero_byte((w | m3) ^ c3))
                break;
            i += 8;
        }
        size_t end = n - i >= 8 ? i + 8 : n;
        for (; i < end; i++) {
            if (!(esc_class[(uint8_t)s[i]] & mask))
                continue;
            const char *ref;
            size_t rlen;
            switch (s[i]) {
            case '&': ref = "&amp;"; rlen = 5; break;
            case '<': ref = "&lt;"; rlen = 4; break;
            case '>': ref = "&gt;"; rlen = 4; break;
            case '"': ref = "&quot;"; rlen = 6; break;
            case '\'': ref = "&apos;"; rlen = 6; break;
            case '\r': ref = "&#13;"; rlen = 5; break;
            case '\n': ref = "&#10;"; rlen = 5; break;
            default: ref = "&#9;"; rlen = 4; break;
            }
            rc = xt_buf_append(b, s + run, i - run);
            if (!rc)
                rc = xt_buf_append(b, ref, rlen);
            if (rc)
                return rc;
            run = i + 1;
        }
    }
    return xt_buf_append(b, s + run, n - run);
}

void xt_buf_consume(xt_buf *b, size_t n)
{
    if (n > xt_buf_size(b))
        n = xt_buf_size(b);
    b->off += n;
    if (b->off == b->len)
        b->off = b->len = 0;
}

void xt_buf_clear(xt_buf *b)
{
    b->off = b->len = 0;
}

void xt_buf_truncate(xt_buf *b, size_t n)
{
    if (n < xt_buf_size(b))
        b->len = b->off + n;
}

void xt_buf_truncate_wipe(xt_buf *b, size_t n)
{
    if (n < xt_buf_size(b)) {
        xt_wipe(b->data + b->off + n, xt_buf_size(b) - n);
        b->len = b->off + n;
    }
}

char *xt_buf_cstr(xt_buf *b)
{
    if (xt_buf_reserve(b, 1))
        return NULL;
    b->data[b->len] = '\0';
    return (char *)b->data + b->off;
}
