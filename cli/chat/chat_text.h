/*
 * chat_text.h -- text for the terminal: UTF-8 <-> wide characters, the
 * column width of a character, and wrapping a message into rows of a
 * given width. Pure functions (no curses); tests/unit/test_chat_text.c.
 *
 * Widths follow wcwidth() in the current locale (the program sets it
 * from the environment); a character the terminal cannot show (control,
 * unassigned: wcwidth < 0) is drawn as U+FFFD and counts 1 column.
 */
#ifndef XT_CLI_CHAT_TEXT_H
#define XT_CLI_CHAT_TEXT_H

#include <stddef.h>
#include <wchar.h>

/* Decodes UTF-8; invalid sequences become U+FFFD, one per bad byte.
 * Returns a malloc'd NUL-terminated array and its length in *n, or NULL
 * on allocation failure. */
wchar_t *xt_chat_utf8_decode(const char *s, size_t len, size_t *n);
/* Encodes n characters (invalid code points become U+FFFD). malloc'd
 * NUL-terminated string, or NULL on allocation failure. */
char *xt_chat_utf8_encode(const wchar_t *w, size_t n);

/* The character shown for c (U+FFFD for what wcwidth refuses; '\n' and
 * '\t' are the caller's business) and its width (0, 1 or 2). */
wchar_t xt_chat_glyph(wchar_t c);
int xt_chat_wcwidth(wchar_t c);
/* Sum of xt_chat_wcwidth over w[0..n). */
size_t xt_chat_width(const wchar_t *w, size_t n);

/*
 * Breaks w[0..n) into rows of at most `width` columns (width >= 1):
 * at '\n' always, else after the last blank that fits, else just before
 * the character that would overflow (a 2-column character never sits
 * across the edge). starts[i] receives the offset where row i begins;
 * row i ends at starts[i+1] (or n), and a row's trailing '\n' is not
 * shown. Returns the number of rows (at least 1), even when more than
 * max (then only max starts are written).
 */
size_t xt_chat_wrap(const wchar_t *w, size_t n, size_t width, size_t *starts, size_t max);

/*
 * The indent of a message's continuation rows in a window `width` wide
 * whose text starts at column body_col: under the text; where that is
 * more than half the width, 2 columns (0 below 4), never column 0, so
 * a body's line can never pass for another message's "HH:MM who:".
 */
size_t xt_chat_cont_indent(size_t body_col, size_t width);

/*
 * The same as xt_chat_wrap, with every row after the first `indent`
 * columns narrower (width - indent), drawn under the message text rather
 * than under its time and sender (indent as xt_chat_cont_indent gives).
 */
size_t xt_chat_wrap_indent(const wchar_t *w, size_t n, size_t width, size_t indent, size_t *starts,
                           size_t max);

/* Offset into w where the last `cols` columns start (for showing the end
 * of a text that is too wide). */
size_t xt_chat_tail(const wchar_t *w, size_t n, size_t cols);

#endif
