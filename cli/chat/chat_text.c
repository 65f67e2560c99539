/* UTF-8, character widths and wrapping for the chat screen. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* wcwidth */
#endif
#include "chat_text.h"

#include <stdint.h>
#include <stdlib.h>

wchar_t *xt_chat_utf8_decode(const char *s, size_t len, size_t *n)
{
    const unsigned char *p = (const unsigned char *)s;
    wchar_t *w = malloc((len + 1) * sizeof *w);
    size_t o = 0, i = 0;

    if (!w)
        return NULL;
    while (i < len) {
        uint32_t c = p[i], min;
        size_t need;
        if (c < 0x80) {
            w[o++] = (wchar_t)c;
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            need = 1, c &= 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2, c &= 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3, c &= 0x07, min = 0x10000;
        } else {
            w[o++] = 0xfffd;
            i++;
            continue;
        }
        size_t k;
        for (k = 1; k <= need; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
                break;
            c = (c << 6) | (p[i + k] & 0x3f);
        }
        if (k <= need || c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            w[o++] = 0xfffd;
            i++;
            continue;
        }
        w[o++] = (wchar_t)c;
        i += need + 1;
    }
    w[o] = 0;
    if (n)
        *n = o;
    return w;
}

char *xt_chat_utf8_encode(const wchar_t *w, size_t n)
{
    char *s = malloc(n * 4 + 1);
    size_t o = 0;

    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)w[i];
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            c = 0xfffd;
        if (c < 0x80) {
            s[o++] = (char)c;
        } else if (c < 0x800) {
            s[o++] = (char)(0xc0 | (c >> 6));
            s[o++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            s[o++] = (char)(0xe0 | (c >> 12));
            s[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
            s[o++] = (char)(0x80 | (c & 0x3f));
        } else {
            s[o++] = (char)(0xf0 | (c >> 18));
            s[o++] = (char)(0x80 | ((c >> 12) & 0x3f));
            s[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
            s[o++] = (char)(0x80 | (c & 0x3f));
        }
    }
    s[o] = 0;
    return s;
}

wchar_t xt_chat_glyph(wchar_t c)
{
    return wcwidth(c) < 0 ? (wchar_t)0xfffd : c;
}

int xt_chat_wcwidth(wchar_t c)
{
    int w = wcwidth(c);
    return w < 0 ? 1 : w > 2 ? 2 : w;
}

size_t xt_chat_width(const wchar_t *w, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n; i++)
        cols += (size_t)xt_chat_wcwidth(w[i]);
    return cols;
}

size_t xt_chat_wrap(const wchar_t *w, size_t n, size_t width, size_t *starts, size_t max)
{
    return xt_chat_wrap_indent(w, n, width, 0, starts, max);
}

size_t xt_chat_cont_indent(size_t body_col, size_t width)
{
    /* Continuation rows need room for at least half the text. */
    if (body_col * 2 <= width)
        return body_col;
    return width >= 4 ? 2 : 0;
}

size_t xt_chat_wrap_indent(const wchar_t *w, size_t n, size_t width, size_t indent, size_t *starts,
                           size_t max)
{
    size_t rows = 0, i = 0;

    if (width < 1)
        width = 1;
    if (indent >= width)
        indent = 0;
    for (;;) {
        if (rows < max)
            starts[rows] = i;
        size_t room = rows > 0 ? width - indent : width;
        rows++;
        size_t cols = 0, j = i, brk = 0;
        while (j < n && w[j] != L'\n') {
            size_t cw = (size_t)xt_chat_wcwidth(w[j]);
            if (cols + cw > room && j > i)
                break;
            cols += cw;
            j++;
            if (w[j - 1] == L' ')
                brk = j; /* a row may end after this blank */
        }
        if (j >= n)
            break;
        if (w[j] == L'\n') {
            i = j + 1;
            continue;
        }
        /* Overflow: break after the last blank if there was one, but
         * never leave an empty row behind. */
        if (w[j] == L' ')
            brk = j; /* the blank that overflows ends the row */
        i = brk > i ? brk : j;
        /* A blank that would start the next row is swallowed. */
        while (i < n && w[i] == L' ')
            i++;
        if (i >= n)
            break;
    }
    return rows;
}

size_t xt_chat_tail(const wchar_t *w, size_t n, size_t cols)
{
    size_t used = 0, i = n;
    while (i > 0) {
        size_t cw = (size_t)xt_chat_wcwidth(w[i - 1]);
        if (used + cw > cols)
            break;
        used += cw;
        i--;
    }
    return i;
}
