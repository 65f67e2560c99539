/*
 * A growable byte buffer with a read offset: the output queue of a
 * connection, the scratch space of the serializer. Grows geometrically,
 * compacts consumed bytes lazily, never shrinks below its first size.
 */
#ifndef XT_BASE_BUF_H
#define XT_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xtalk/common.h"

typedef struct xt_buf {
    uint8_t *data;
    size_t off;   /* first unconsumed byte */
    size_t len;   /* end of data */
    size_t cap;
    size_t limit; /* 0 = unlimited; appends past it fail with XT_ETOOBIG */
    const xt_mem *mem;
} xt_buf;

void xt_buf_init(xt_buf *b, const xt_mem *mem);
void xt_buf_free(xt_buf *b);
/* Wipes the whole allocation (for buffers that held secrets), then frees. */
void xt_buf_free_wipe(xt_buf *b);
int xt_buf_reserve(xt_buf *b, size_t extra);
/* The out-of-line part of xt_buf_append: grows (or compacts) first. */
int xt_buf_append_slow(xt_buf *b, const void *p, size_t n);
/* 1 when n more bytes fit without growing and within the limit. */
static inline int xt_buf_fits(const xt_buf *b, size_t n)
{
    return n <= b->cap - b->len && (!b->limit || b->len - b->off + n <= b->limit);
}
/* Appends are on every hot path (serializer, output queue): the common
 * case, room already there, is inline. */
static inline int xt_buf_append(xt_buf *b, const void *p, size_t n)
{
    if (n && xt_buf_fits(b, n)) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return 0;
    }
    return xt_buf_append_slow(b, p, n);
}
static inline int xt_buf_append_str(xt_buf *b, const char *s)
{
    return xt_buf_append(b, s, strlen(s));
}
static inline int xt_buf_append_byte(xt_buf *b, uint8_t c)
{
    if (xt_buf_fits(b, 1)) {
        b->data[b->len++] = c;
        return 0;
    }
    return xt_buf_append_slow(b, &c, 1);
}
/* Appends XML-escaped text: & < > and CR always; " ' TAB LF too when attr
 * is set (as character references), so the text round-trips. */
int xt_buf_append_escaped(xt_buf *b, const char *s, size_t n, int attr);
static inline size_t xt_buf_size(const xt_buf *b) { return b->len - b->off; }
/* An empty buffer may have no allocation yet: NULL + 0 is undefined
 * behaviour in C (UBSan reports it), so offset only a real pointer. */
static inline const uint8_t *xt_buf_head(const xt_buf *b)
{
    return b->off ? b->data + b->off : b->data;
}
void xt_buf_consume(xt_buf *b, size_t n);
void xt_buf_clear(xt_buf *b);
/* Cuts the unconsumed data back to its first n bytes (n <= size): takes
 * back what was appended after a size was noted. */
void xt_buf_truncate(xt_buf *b, size_t n);
/* The same, wiping the bytes cut off (they held part of a secret). */
void xt_buf_truncate_wipe(xt_buf *b, size_t n);
/* NUL-terminates (not counted in size) and returns the bytes; NULL on ENOMEM. */
char *xt_buf_cstr(xt_buf *b);

#endif
