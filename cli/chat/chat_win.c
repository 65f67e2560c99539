/* Conversation windows: buffers of lines, unread counts, scroll-back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
#include "chat_text.h"
#include "../sanitize.h"

#define HISTORY_PAGE 50

void xt_chat_win_free(xt_chat_win *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nlines; i++)
        free(w->lines[i].text);
    free(w->lines);
    free(w->peer);
    free(w);
}

xt_chat_win *xt_chat_win_find(xt_chat *c, const char *peer, size_t *idx)
{
    for (size_t i = 1; i < c->nwins; i++) {
        if (strcmp(c->wins[i]->peer, peer) == 0) {
            if (idx)
                *idx = i;
            return c->wins[i];
        }
    }
    return NULL;
}

/* "HH:MM who: body" as wide characters. who and body may come from the
 * network (a roster name, a message, history): sanitize.h shows them, the
 * name on one line, the body's line breaks kept: the window draws each
 * continuation line under the text (xt_chat_wrap_indent), so no line of a
 * body can pass for another message's "HH:MM who:". */
static wchar_t *format_line(int64_t ts_ms, const char *who, const char *body, size_t *n)
{
    time_t t = (time_t)(ts_ms / 1000);
    struct tm tm;
    char hm[8] = "--:--";
    if (localtime_r(&t, &tm))
        strftime(hm, sizeof hm, "%H:%M", &tm);
    char *sw = who ? xt_cli_sanitize(who, strlen(who), XT_CLI_SAN_LINE) : NULL;
    char *sb = xt_cli_sanitize(body, strlen(body), XT_CLI_SAN_LAID_OUT);
    wchar_t *w = NULL;
    if ((who && !sw) || !sb)
        goto out;
    size_t len = strlen(hm) + (sw ? strlen(sw) + 2 : 0) + strlen(sb) + 2;
    char *s = malloc(len);
    if (!s)
        goto out;
    snprintf(s, len, "%s %s%s%s", hm, sw ? sw : "", sw ? ": " : "", sb);
    w = xt_chat_utf8_decode(s, strlen(s), n);
    free(s);
out:
    free(sw);
    free(sb);
    return w;
}

static xt_chat_line *insert_line(xt_chat_win *w, size_t at, int kind, int64_t ts_ms,
                                 const char *who, const char *body, int64_t hist_id)
{
    if (w->nlines == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        xt_chat_line *l = realloc(w->lines, cap * sizeof *l);
        if (!l)
            return NULL;
        w->lines = l;
        w->cap = cap;
    }
    xt_chat_line line = {.hist_id = hist_id, .kind = kind};
    line.text = format_line(ts_ms, who, body, &line.len);
    if (!line.text)
        return NULL;
    /* The body ends the text, whatever precedes it (time, date, who). */
    size_t nb = 0;
    wchar_t *wb = xt_chat_utf8_decode(body, strlen(body), &nb);
    line.body_off = wb && nb <= line.len ? line.len - nb : 0;
    free(wb);
    memmove(w->lines + at + 1, w->lines + at, (w->nlines - at) * sizeof line);
    w->lines[at] = line;
    w->nlines++;
    return &w->lines[at];
}

xt_chat_line *xt_chat_win_add(xt_chat_win *w, int kind, int64_t ts_ms, const char *who,
                              const char *body, int64_t hist_id)
{
    return insert_line(w, w->nlines, kind, ts_ms, who, body, hist_id);
}

void xt_chat_infof(xt_chat *c, int kind, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* A notice is one line; its arguments (an address, an error's text)
     * may come from the network: their newlines are escaped. */
    char *line = xt_cli_sanitize(buf, strlen(buf), XT_CLI_SAN_LINE);
    xt_chat_win_add(c->wins[0], kind, xt_chat_now_ms(), NULL, line ? line : "?", 0);
    free(line);
    c->dirty = 1;
}

struct older {
    xt_chat *c;
    xt_chat_win *w;
    size_t count;
};

static int older_fn(const xt_chat_hmsg *m, void *ud)
{
    struct older *o = ud;
    const char *who = m->outgoing ? "me" : xt_chat_display_name(o->c, m->peer);
    /* Newest first: each one goes above the previous. */
    if (insert_line(o->w, 0, m->outgoing ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN, m->ts_ms, who,
                    m->body, m->id))
        o->count++;
    o->w->oldest_id = m->id;
    return 0;
}

size_t xt_chat_win_load_older(xt_chat *c, xt_chat_win *w, size_t n)
{
    struct older o = {c, w, 0};
    if (!w->peer || w->hist_done || !c->hist)
        return 0;
    /* Before the first load, start from the oldest live line stored. */
    int64_t before = w->oldest_id;
    if (before == 0)
        for (size_t i = 0; i < w->nlines && !before; i++)
            before = w->lines[i].hist_id;
    if (xt_chat_hist_page(c->hist, w->peer, before, n, older_fn, &o) < 0 || o.count < n)
        w->hist_done = 1;
    return o.count;
}

xt_chat_win *xt_chat_win_open(xt_chat *c, const char *peer, size_t *idx)
{
    xt_chat_win *w = xt_chat_win_find(c, peer, idx);
    if (w)
        return w;
    xt_chat_win **ws = realloc(c->wins, (c->nwins + 1) * sizeof *ws);
    if (!ws)
        return NULL;
    c->wins = ws;
    w = calloc(1, sizeof *w);
    if (!w || !(w->peer = strdup(peer))) {
        free(w);
        return NULL;
    }
    c->wins[c->nwins] = w;
    if (idx)
        *idx = c->nwins;
    c->nwins++;
    xt_chat_win_load_older(c, w, HISTORY_PAGE);
    c->dirty = 1;
    return w;
}

void xt_chat_win_close(xt_chat *c, size_t idx)
{
    if (idx == 0 || idx >= c->nwins)
        return;
    xt_chat_win_free(c->wins[idx]);
    memmove(c->wins + idx, c->wins + idx + 1, (c->nwins - idx - 1) * sizeof *c->wins);
    c->nwins--;
    if (c->cur >= idx && c->cur > 0)
        c->cur--;
    c->dirty = 1;
}

void xt_chat_switch(xt_chat *c, size_t idx)
{
    if (idx >= c->nwins)
        return;
    c->cur = idx;
    c->wins[idx]->unread = 0;
    c->roster_focus = 0;
    c->dirty = 1;
}
