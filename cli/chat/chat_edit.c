/* The chat input line editor. */
#include "chat_edit.h"

#include <stdlib.h>
#include <string.h>

#include "chat_text.h"

void xt_chat_edit_init(xt_chat_edit *e)
{
    memset(e, 0, sizeof *e);
}

void xt_chat_edit_free(xt_chat_edit *e)
{
    free(e->buf);
    for (size_t i = 0; i < e->nhist; i++)
        free(e->hist[i]);
    free(e->hist);
    free(e->draft);
    memset(e, 0, sizeof *e);
}

static int reserve(xt_chat_edit *e, size_t need)
{
    if (need > XT_CHAT_EDIT_MAX)
        return -1;
    if (need <= e->cap)
        return 0;
    size_t cap = e->cap ? e->cap : 64;
    while (cap < need)
        cap *= 2;
    wchar_t *b = realloc(e->buf, cap * sizeof *b);
    if (!b)
        return -1;
    e->buf = b;
    e->cap = cap;
    return 0;
}

int xt_chat_edit_insert(xt_chat_edit *e, const wchar_t *w, size_t n)
{
    if (n == 0)
        return 0;
    if (reserve(e, e->len + n) != 0)
        return -1;
    memmove(e->buf + e->cur + n, e->buf + e->cur, (e->len - e->cur) * sizeof *w);
    memcpy(e->buf + e->cur, w, n * sizeof *w);
    e->len += n;
    e->cur += n;
    return 0;
}

int xt_chat_edit_insert_utf8(xt_chat_edit *e, const char *s)
{
    size_t n;
    wchar_t *w = xt_chat_utf8_decode(s, strlen(s), &n);
    if (!w)
        return -1;
    int rc = xt_chat_edit_insert(e, w, n);
    free(w);
    return rc;
}

void xt_chat_edit_clear(xt_chat_edit *e)
{
    e->len = e->cur = 0;
}

int xt_chat_edit_set_utf8(xt_chat_edit *e, const char *s)
{
    size_t len = e->len, cur = e->cur;
    xt_chat_edit_clear(e);
    if (xt_chat_edit_insert_utf8(e, s) != 0) {
        e->len = len, e->cur = cur; /* the buffer was not touched */
        return -1;
    }
    return 0;
}

void xt_chat_edit_left(xt_chat_edit *e)
{
    if (e->cur > 0)
        e->cur--;
}

void xt_chat_edit_right(xt_chat_edit *e)
{
    if (e->cur < e->len)
        e->cur++;
}

void xt_chat_edit_home(xt_chat_edit *e)
{
    e->cur = 0;
}

void xt_chat_edit_end(xt_chat_edit *e)
{
    e->cur = e->len;
}

static int blank(wchar_t c)
{
    return c == L' ' || c == L'\t' || c == L'\n';
}

static size_t word_start(const xt_chat_edit *e)
{
    size_t i = e->cur;
    while (i > 0 && blank(e->buf[i - 1]))
        i--;
    while (i > 0 && !blank(e->buf[i - 1]))
        i--;
    return i;
}

static size_t word_end(const xt_chat_edit *e)
{
    size_t i = e->cur;
    while (i < e->len && blank(e->buf[i]))
        i++;
    while (i < e->len && !blank(e->buf[i]))
        i++;
    return i;
}

void xt_chat_edit_word_left(xt_chat_edit *e)
{
    e->cur = word_start(e);
}

void xt_chat_edit_word_right(xt_chat_edit *e)
{
    e->cur = word_end(e);
}

/* Removes [a, b) and puts the cursor at a. */
static void cut(xt_chat_edit *e, size_t a, size_t b)
{
    if (a >= b)
        return;
    memmove(e->buf + a, e->buf + b, (e->len - b) * sizeof *e->buf);
    e->len -= b - a;
    e->cur = a;
}

void xt_chat_edit_backspace(xt_chat_edit *e)
{
    if (e->cur > 0)
        cut(e, e->cur - 1, e->cur);
}

void xt_chat_edit_delete(xt_chat_edit *e)
{
    if (e->cur < e->len)
        cut(e, e->cur, e->cur + 1);
}

void xt_chat_edit_delete_word_back(xt_chat_edit *e)
{
    cut(e, word_start(e), e->cur);
}

void xt_chat_edit_delete_word_fwd(xt_chat_edit *e)
{
    cut(e, e->cur, word_end(e));
}

void xt_chat_edit_kill_end(xt_chat_edit *e)
{
    cut(e, e->cur, e->len);
}

void xt_chat_edit_kill_start(xt_chat_edit *e)
{
    cut(e, 0, e->cur);
}

char *xt_chat_edit_text(const xt_chat_edit *e)
{
    return xt_chat_utf8_encode(e->buf ? e->buf : L"", e->len);
}

void xt_chat_edit_hist_add(xt_chat_edit *e, const char *line)
{
    free(e->draft);
    e->draft = NULL;
    if (*line && !(e->nhist > 0 && strcmp(e->hist[e->nhist - 1], line) == 0)) {
        char *copy = strdup(line);
        if (copy) {
            if (e->nhist == XT_CHAT_HIST_MAX) {
                free(e->hist[0]);
                memmove(e->hist, e->hist + 1, (e->nhist - 1) * sizeof *e->hist);
                e->nhist--;
            }
            if (!e->hist)
                e->hist = malloc(XT_CHAT_HIST_MAX * sizeof *e->hist);
            if (e->hist)
                e->hist[e->nhist++] = copy;
            else
                free(copy);
        }
    }
    e->hpos = e->nhist;
}

void xt_chat_edit_hist_prev(xt_chat_edit *e)
{
    if (e->hpos > e->nhist)
        e->hpos = e->nhist;
    if (e->hpos == 0)
        return;
    if (e->hpos == e->nhist) {
        free(e->draft);
        e->draft = xt_chat_edit_text(e);
        if (!e->draft)
            return;
    }
    if (xt_chat_edit_set_utf8(e, e->hist[e->hpos - 1]) == 0)
        e->hpos--;
}

void xt_chat_edit_hist_next(xt_chat_edit *e)
{
    if (e->hpos >= e->nhist)
        return;
    const char *s = e->hpos + 1 < e->nhist ? e->hist[e->hpos + 1] : e->draft ? e->draft : "";
    if (xt_chat_edit_set_utf8(e, s) == 0)
        e->hpos++;
    if (e->hpos == e->nhist) {
        free(e->draft);
        e->draft = NULL;
    }
}
