/*
 * Mentions (issue 16): a groupchat body that names our nick in the room
 * as a word is a highlight. Case-insensitive with full Unicode case
 * folding and NFC (so "JÜRGEN", "jürgen" and a decomposed "jürgen" all
 * match "Jürgen"); a word boundary is the text's edge or a character
 * that is not a letter, digit or '_' on the side where the nick itself
 * starts or ends with one (so "[bot]" matches in "hi [bot]!" and "bob"
 * does not match in "bobby" or "bob_2").
 */
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "im/muc_int.h"

static int word_char(ucs4_t u)
{
    return u == '_' || uc_is_alnum(u);
}

/* The character ending just before p (s <= p), or 0 at the start. */
static ucs4_t char_before(const uint8_t *s, const uint8_t *p)
{
    ucs4_t u = 0;
    return p > s && u8_prev(&u, p, s) ? u : 0;
}

static ucs4_t char_at(const uint8_t *p, const uint8_t *end)
{
    ucs4_t u = 0;
    if (p >= end)
        return 0;
    u8_mbtouc(&u, p, (size_t)(end - p));
    return u;
}

static int find_word(const uint8_t *t, size_t tn, const uint8_t *k, size_t kn)
{
    if (!kn || kn > tn)
        return 0;
    ucs4_t first = char_at(k, k + kn), last = char_before(k, k + kn);
    int need_left = word_char(first), need_right = word_char(last);
    const uint8_t *end = t + tn;
    for (const uint8_t *p = t; (size_t)(end - p) >= kn; p++) {
        if (memcmp(p, k, kn) != 0)
            continue;
        if (need_left && word_char(char_before(t, p)))
            continue;
        if (need_right && word_char(char_at(p + kn, end)))
            continue;
        return 1;
    }
    return 0;
}

int xt_muc_mentions(const char *text, const char *nick)
{
    if (!text || !nick || !*nick)
        return 0;
    size_t tn = strlen(text), kn = strlen(nick);
    /* Checked UTF-8 only (the parser checked received text; a caller's
     * could be anything). */
    if (u8_check((const uint8_t *)text, tn) || u8_check((const uint8_t *)nick, kn))
        return 0;
    /* Folded into stack buffers; libunistring mallocs only for a result
     * that does not fit (a body of more than a few hundred bytes). */
    uint8_t kb[256], tb[1024];
    size_t fkn = sizeof kb, ftn = sizeof tb;
    uint8_t *fk = u8_casefold((const uint8_t *)nick, kn, NULL, UNINORM_NFC, kb, &fkn);
    uint8_t *ft = fk ? u8_casefold((const uint8_t *)text, tn, NULL, UNINORM_NFC, tb, &ftn) : NULL;
    int hit = ft && find_word(ft, ftn, fk, fkn);
    if (fk != kb)
        free(fk);
    if (ft != tb)
        free(ft);
    return hit;
}
