/* UTF-8 validation; see utf8.h. */
#include "xml/utf8.h"

#include <string.h>

/* Starts a sequence at lead byte c; 0 if c cannot start one (RFC 3629 §4). */
static int utf8_lead(xt_utf8 *u, uint8_t c)
{
    u->lo = 0x80;
    u->hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        u->need = 1;
    } else if (c == 0xE0) {
        u->need = 2;
        u->lo = 0xA0; /* no overlong 3-byte forms */
    } else if (c == 0xED) {
        u->need = 2;
        u->hi = 0x9F; /* no surrogates U+D800-U+DFFF */
    } else if (c >= 0xE1 && c <= 0xEF) {
        u->need = 2;
    } else if (c == 0xF0) {
        u->need = 3;
        u->lo = 0x90; /* no overlong 4-byte forms */
    } else if (c >= 0xF1 && c <= 0xF3) {
        u->need = 3;
    } else if (c == 0xF4) {
        u->need = 3;
        u->hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0; /* 0x80-0xC1 (stray continuation, overlong lead), 0xF5-0xFF */
    }
    return 1;
}

size_t xt_utf8_scan(xt_utf8 *u, const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (u->need == 0) {
            /* ASCII fast path, 32 then eight bytes at a time: most XMPP
             * traffic (every received byte passes here, tests/perf). */
            while (n - i >= 32) {
                uint64_t w[4];
                memcpy(w, s + i, 32);
                if ((w[0] | w[1] | w[2] | w[3]) & UINT64_C(0x8080808080808080))
                    break;
                i += 32;
            }
            while (n - i >= 8) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (w & UINT64_C(0x8080808080808080))
                    break;
                i += 8;
            }
            if (i == n)
                break;
            uint8_t c = s[i];
            if (c < 0x80) {
                i++;
                continue;
            }
            if (!utf8_lead(u, c))
                return i;
        } else {
            uint8_t c = s[i];
            if (c < u->lo || c > u->hi)
                return i;
            u->lo = 0x80;
            u->hi = 0xBF;
            u->need--;
        }
        i++;
    }
    return n;
}

int xt_xml_chars_valid(const char *str, size_t n)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < n) {
        /* Fast path, eight bytes at a time: printable ASCII (no byte with
         * the high bit, none below 0x20) is the common case. The borrow
         * trick flags every word holding a byte < 0x20; such a word (and
         * any non-ASCII one) takes the exact byte-wise path below. */
        while (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t low = (w - UINT64_C(0x2020202020202020)) & ~w;
            if ((w | low) & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i == n)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return 0;
            i++;
            continue;
        }
        xt_utf8 u;
        if (!utf8_lead(&u, c))
            return 0;
        size_t len = (size_t)u.need + 1;
        if (n - i < len || xt_utf8_scan(&u, s + i + 1, len - 1) != len - 1)
            return 0;
        /* U+FFFE and U+FFFF are valid UTF-8 but not XML Chars. */
        if (c == 0xEF && s[i + 1] == 0xBF && (s[i + 2] == 0xBE || s[i + 2] == 0xBF))
            return 0;
        i += len;
    }
    return 1;
}
