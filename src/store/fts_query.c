/*
 * User search text -> FTS5 query. FTS5's query language has operators
 * (AND, OR, NOT, NEAR, parentheses, column filters, ^, +, *) and a bare
 * quote makes the query malformed; user text must never reach it as
 * syntax. So every word is wrapped in a string ("..." with " doubled),
 * which FTS5 treats as a phrase of its tokens and never as an operator,
 * followed by * (prefix match, so "hel" finds "hello"). Words made only
 * of ASCII punctuation are dropped: they produce no token and an empty
 * phrase would match nothing or, as a prefix, be rejected.
 */
#include <ctype.h>
#include <string.h>

#include "base/mem.h"
#include "store_int.h"

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *xt_fts_query(const xt_mem *mem, const char *text)
{
    size_t n = text ? strlen(text) : 0;
    /* Worst case: every byte a quote (doubled) in one word, plus
     * per-word overhead "", *, space: 3n + 4 bounds it. */
    if (n > (SIZE_MAX - 4) / 3)
        return NULL;
    char *out = xt_malloc(mem, 3 * n + 4);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        while (i < n && is_space((unsigned char)text[i]))
            i++;
        size_t start = i;
        int wordy = 0;
        while (i < n && !is_space((unsigned char)text[i])) {
            unsigned char c = (unsigned char)text[i];
            if (c >= 0x80 || isalnum(c))
                wordy = 1;
            i++;
        }
        if (i == start || !wordy)
            continue;
        if (o)
            out[o++] = ' ';
        out[o++] = '"';
        for (size_t k = start; k < i; k++) {
            if (text[k] == '"')
                out[o++] = '"';
            out[o++] = text[k];
        }
        out[o++] = '"';
        out[o++] = '*';
    }
    out[o] = '\0';
    return out;
}
