/*
 * User search text -> what the history search runs (xt_fts_plan).
 *
 * The index is FTS5's trigram tokenizer over the folded text (fold.c), so
 * a term of 3 characters or more is a substring search in any script: the
 * term becomes a phrase of its trigrams. FTS5's query language has
 * operators (AND, OR, NOT, NEAR, parentheses, column filters, ^, +, *)
 * and a bare quote makes the query malformed; user text must never reach
 * it as syntax. So every term is wrapped in a string ("..." with "
 * doubled), which FTS5 treats as a phrase and never as an operator.
 *
 * A trigram index cannot find anything shorter than a trigram (SQLite
 * 3.40 answers such a phrase with no rows, and has no prefix query on
 * trigrams), yet a CJK word is often one or two characters and an emoji
 * is one. A 1-2 character term of non-ASCII characters is a token of the
 * short-term index (xt_store_grams: every such character and pair). A
 * 2-character ASCII term is looked up as the trigram " ok": the index's
 * text has a blank in front and ASCII blanks as spaces (xt_store_fts_text),
 * so it finds the words beginning with the term, which is what a short
 * Latin search means ("ok" finds "ok" and "okay", not "book"), in the
 * whole history. What remains (one ASCII character, "é" folded to "e";
 * ASCII and non-ASCII mixed) has no index: a LIKE pattern ('%t%', ASCII
 * case folded, \ escapes) checked on the rows an index found for the
 * other terms, or else on the newest XT_SEARCH_SCAN_ROWS rows of the
 * store (store.c; store.h says it). A non-ASCII short term also gets its
 * LIKE pattern, for when the trigram index drives.
 *
 * Terms made only of ASCII punctuation are dropped: nobody searches for
 * a lone quote, and keeping them would make "a, b" need a comma.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "store_int.h"

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void xt_fts_plan_free(const xt_mem *mem, xt_fts_plan *p)
{
    if (!p)
        return;
    xt_free(mem, p->match);
    xt_free(mem, p->grams);
    for (size_t i = 0; i < p->nlike; i++)
        xt_free(mem, p->like[i]);
    memset(p, 0, sizeof *p);
}

/* '%' term '%' with the LIKE wildcards and the escape escaped. */
static char *like_pattern(const xt_mem *mem, const char *t, size_t n)
{
    char *out = xt_malloc(mem, 2 * n + 3);
    size_t o = 0;
    if (!out)
        return NULL;
    out[o++] = '%';
    for (size_t k = 0; k < n; k++) {
        if (t[k] == '%' || t[k] == '_' || t[k] == '\\')
            out[o++] = '\\';
        out[o++] = t[k];
    }
    out[o++] = '%';
    out[o] = '\0';
    return out;
}

/* Appends "term" (quotes doubled) to an FTS5 query string. */
static int add_phrase(const xt_mem *mem, char **q, size_t *len, const char *t, size_t n)
{
    size_t need = *len + 2 * n + 4;
    char *m = xt_realloc(mem, *q, need);
    if (!m)
        return XT_ENOMEM;
    *q = m;
    if (*len)
        m[(*len)++] = ' ';
    m[(*len)++] = '"';
    for (size_t k = 0; k < n; k++) {
        if (t[k] == '"')
            m[(*len)++] = '"';
        m[(*len)++] = t[k];
    }
    m[(*len)++] = '"';
    m[*len] = '\0';
    return 0;
}

int xt_fts_plan_make(const xt_mem *mem, const char *text, xt_fts_plan *p)
{
    size_t n = text ? strlen(text) : 0, mlen = 0, glen = 0;
    int rc = 0;

    memset(p, 0, sizeof *p);
    if (!(p->match = xt_malloc(mem, 1)) || !(p->grams = xt_malloc(mem, 1))) {
        xt_fts_plan_free(mem, p);
        return XT_ENOMEM;
    }
    p->match[0] = p->grams[0] = '\0';
    for (size_t i = 0; rc == 0 && i < n;) {
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
        size_t flen = 0;
        char *folded = xt_store_fold(text + start, i - start, &flen);
        if (!folded) {
            rc = XT_ENOMEM;
            break;
        }
        size_t chars = xt_store_utf8_chars(folded, flen);
        if (chars >= 3) {
            rc = add_phrase(mem, &p->match, &mlen, folded, flen);
        } else if (chars == 2 && flen == 2) {
            /* Two ASCII characters: the word start " ok". */
            char w[3] = {' ', folded[0], folded[1]};
            rc = add_phrase(mem, &p->match, &mlen, w, 3);
        } else if (p->nlike < XT_SEARCH_MAX_SHORT) {
            /* The term as typed: LIKE runs on the stored text, unfolded. */
            if (!(p->like[p->nlike] = like_pattern(mem, text + start, i - start)))
                rc = XT_ENOMEM;
            else
                p->nlike++;
            if (rc == 0 && xt_store_is_gram_term(folded, flen)) {
                size_t gn = 0;
                char *g = xt_store_grams(folded, flen, &gn);
                /* The term's own gram is the last word: a pair, or the
                 * one character. */
                const char *w = g ? strrchr(g, ' ') : NULL;
                w = w ? w + 1 : g;
                rc = g ? add_phrase(mem, &p->grams, &glen, w, strlen(w)) : XT_ENOMEM;
                free(g);
            }
        }
        free(folded);
    }
    if (rc < 0)
        xt_fts_plan_free(mem, p);
    return rc;
}
