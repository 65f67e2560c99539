/*
 * The search fold: what the history's full-text index sees of a text, and
 * what a search term is turned into before it is looked up.
 *
 * Why: the index is FTS5's trigram tokenizer (substrings in every script:
 * "世界" inside "你好世界", an emoji inside a sentence), which folds case
 * but, in SQLite 3.40 (Debian 12), not diacritics (its remove_diacritics
 * option came in 3.45). A search for "creme" must still find "Crème", so
 * the text is folded here, the same way for the index and for the query:
 * canonical decomposition (NFD), the combining marks of U+0300..U+036F
 * dropped (the accents of Latin, Greek and Cyrillic letters), then
 * recomposition (NFC). Only that block goes: the marks of other scripts
 * carry meaning (Japanese dakuten: "が" is not "か"; Hangul syllables,
 * decomposed by NFD, come back whole).
 *
 * The trigram index sees xt_store_fts_text: the fold with a blank in
 * front and ASCII blanks made spaces, so " ok" (a trigram) finds the
 * words that begin with a two-letter ASCII term (fts_query.c). The
 * history triggers call it as the SQL function xt_fts_text(), registered
 * on every connection xt_store_open makes; the index's 'delete' entries
 * recompute it from the old row, so it must stay deterministic (it is:
 * Unicode's canonical decompositions are stable).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "store_int.h"

static int combining_accent(ucs4_t c)
{
    return c >= 0x300 && c <= 0x36f; /* Combining Diacritical Marks */
}

char *xt_store_fold(const char *s, size_t n, size_t *outlen)
{
    size_t dn = 0, rn = 0, o = 0;
    uint8_t *d, *r;

    /* No byte >= 0x80: nothing to decompose. */
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    if (i == n || !(d = u8_normalize(UNINORM_NFD, (const uint8_t *)s, n, NULL, &dn))) {
        /* ASCII, or not valid UTF-8 (EILSEQ; the store is given XML text,
         * so only a caller's bug): the text as it is. ENOMEM too ends
         * here, and the copy below then fails as well. */
        char *copy = malloc(n + 1);
        if (!copy)
            return NULL;
        memcpy(copy, s, n);
        copy[n] = '\0';
        *outlen = n;
        return copy;
    }
    for (size_t k = 0; k < dn;) {
        ucs4_t c;
        int len = u8_mbtouc(&c, d + k, dn - k);
        if (!combining_accent(c)) {
            memmove(d + o, d + k, (size_t)len);
            o += (size_t)len;
        }
        k += (size_t)len;
    }
    r = o ? u8_normalize(UNINORM_NFC, d, o, NULL, &rn) : NULL;
    free(d);
    if (o && !r)
        return NULL;
    char *out = malloc(rn + 1);
    if (out) {
        if (rn)
            memcpy(out, r, rn);
        out[rn] = '\0';
        *outlen = rn;
    }
    free(r);
    return out;
}

char *xt_store_fts_text(const char *s, size_t n, size_t *outlen)
{
    size_t fn = 0;
    char *f = xt_store_fold(s, n, &fn), *out;
    if (!f)
        return NULL;
    if (fn == SIZE_MAX || !(out = malloc(fn + 2))) {
        free(f);
        return NULL;
    }
    out[0] = ' ';
    for (size_t i = 0; i < fn; i++) {
        char c = f[i];
        out[i + 1] = c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ? ' ' : c;
    }
    out[fn + 1] = '\0';
    *outlen = fn + 1;
    free(f);
    return out;
}

size_t xt_store_utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    return chars;
}

/*
 * The short-term index's text. A trigram index finds nothing shorter than
 * three characters, yet a Chinese or Japanese word is often one or two
 * and an emoji is one: for every run of non-ASCII characters this lists
 * each character and each pair of neighbours as a word of its own
 * ("你好世界" -> "你 好 你好 世 好世 界 世界"), lowercased (Greek,
 * Cyrillic), so FTS5's ascii tokenizer (every non-ASCII character is part
 * of a word, ASCII blanks separate) indexes them and a one- or
 * two-character term is one token lookup. ASCII text adds nothing: short
 * ASCII terms are looked for another way (fts_query.c).
 */
char *xt_store_grams(const char *s, size_t n, size_t *outlen)
{
    size_t ln = 0, o = 0;
    uint8_t *low;
    char *out;

    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    if (i == n) {
        if (!(out = malloc(1)))
            return NULL;
        out[0] = '\0';
        *outlen = 0;
        return out;
    }
    if (!(low = u8_tolower((const uint8_t *)s, n, NULL, NULL, NULL, &ln)))
        return NULL;
    /* Each character of L bytes appears three times at most (alone, in
     * the pair before it, in the pair after), each time followed by one
     * blank: 3L + 3 <= 6L bytes, and a NUL. */
    if (ln > (SIZE_MAX - 1) / 6 || !(out = malloc(6 * ln + 1))) {
        free(low);
        return NULL;
    }
    for (size_t k = 0; k < ln;) {
        if (low[k] < 0x80) {
            k++;
            continue;
        }
        size_t start = k, prev = k, cur;
        /* One run: k walks its characters; prev is the one before. */
        while (k < ln && low[k] >= 0x80) {
            ucs4_t c;
            int len = u8_mbtouc(&c, low + k, ln - k);
            cur = k;
            memcpy(out + o, low + cur, (size_t)len);
            o += (size_t)len;
            out[o++] = ' ';
            if (cur > start) {
                memcpy(out + o, low + prev, (size_t)len + (cur - prev));
                o += (size_t)len + (cur - prev);
                out[o++] = ' ';
            }
            prev = cur;
            k += (size_t)len;
        }
    }
    if (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    *outlen = o;
    free(low);
    return out;
}

int xt_store_is_gram_term(const char *s, size_t n)
{
    size_t chars = xt_store_utf8_chars(s, n);
    if (chars == 0 || chars > 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x80)
            return 0;
    return 1;
}
