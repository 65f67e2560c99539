/*
 * xml/utf8.h -- UTF-8 validation for the XML layer (internal).
 *
 * RFC 6120 §11.6 allows only UTF-8 on the wire. Two checks live here:
 * a streaming validator the stream parser runs over every received byte
 * (so a bad sequence maps to <unsupported-encoding/> and is caught at the
 * exact byte, whatever the chunking), and a whole-string check the stanza
 * API runs over strings an application hands in (so the serializer never
 * emits XML a server would kill the stream for).
 */
#ifndef XT_XML_UTF8_H
#define XT_XML_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* State carried between chunks: bytes still expected in the current
 * sequence and the allowed range of the next one (RFC 3629 §4 table,
 * which excludes overlongs, surrogates and code points past U+10FFFF). */
typedef struct xt_utf8 {
    uint8_t need;
    uint8_t lo;
    uint8_t hi;
} xt_utf8;

static inline void xt_utf8_init(xt_utf8 *u)
{
    *u = (xt_utf8){.need = 0, .lo = 0x80, .hi = 0xBF};
}

/*
 * Validates s[0..n) as the continuation of the stream `u` has seen so far.
 * Returns n when every byte is acceptable (a sequence may be left open for
 * the next chunk), else the index of the first bad byte; `u` then reflects
 * the bytes before it.
 */
size_t xt_utf8_scan(xt_utf8 *u, const uint8_t *s, size_t n);

/*
 * 1 when s[0..n) is complete, valid UTF-8 and every character is an XML 1.0
 * Char (XML 1.0 §2.2: TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD,
 * U+10000-U+10FFFF); 0 otherwise.
 */
int xt_xml_chars_valid(const char *s, size_t n);

#endif
