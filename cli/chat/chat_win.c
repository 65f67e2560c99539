/* Conversation windows: buffers of lines, unread counts, scroll-back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
#include "chat_room.h"
#include "chat_text.h"
#include "chat_time.h"
#include "../sanitize.h"

#define HISTORY_PAGE 50

void xt_chat_win_free(xt_chat_win *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nlines; i++) {
        free(w->lines[i].text);
        free(w->lines[i].body);
        xt_chat_reacts_free(w->lines[i].reacts);
    }
    free(w->lines);
    free(w->peer);
    xt_chatstates_free(w->cs);
    xt_chat_room_free(w->room);
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

/* "STAMP who: body" as wide characters (chat_time.h: the date too when
 * not today, or always in full). who and body may come from the
 * network (a roster name, a message, history): sanitize.h shows them, the
 * name on one line, the body's line breaks kept: the window draws each
 * continuation line under the text (xt_chat_wrap_indent), so no line of a
 * body can pass for another message's "HH:MM who:". */
static wchar_t *format_line(int64_t ts_ms, xt_chat_time_style style, const char *who,
                            const char *body, size_t *n)
{
    char hm[XT_CHAT_STAMP_MAX];
    xt_chat_time_stamp(ts_ms, xt_chat_now_ms(), style, hm, sizeof hm);
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

/* Puts an already formatted line at index at. */
static xt_chat_line *put_line(xt_chat_win *w, size_t at, xt_chat_line line)
{
    if (w->nlines == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        xt_chat_line *l = realloc(w->lines, cap * sizeof *l);
        if (!l) {
            free(line.text);
            return NULL;
        }
        w->lines = l;
        w->cap = cap;
    }
    memmove(w->lines + at + 1, w->lines + at, (w->nlines - at) * sizeof line);
    w->lines[at] = line;
    w->nlines++;
    return &w->lines[at];
}

static xt_chat_line *insert_line(xt_chat_win *w, size_t at, int kind, int64_t ts_ms,
                                 xt_chat_time_style style, const char *who, const char *body,
                                 int64_t hist_id)
{
    xt_chat_line line = {
        .hist_id = hist_id, .kind = kind, .ts_ms = ts_ms, .day = xt_chat_day(ts_ms)};
    line.text = format_line(ts_ms, style, who, body, &line.len);
    if (!line.text)
        return NULL;
    /* The body ends the text, whatever precedes it (time, date, who). */
    size_t nb = 0;
    wchar_t *wb = xt_chat_utf8_decode(body, strlen(body), &nb);
    line.body_off = wb && nb <= line.len ? line.len - nb : 0;
    free(wb);
    return put_line(w, at, line);
}

/* The day separator for ts_ms's day, at index at. Only conversation
 * windows have them: the console mixes notices and search results, in
 * no date order. */
static void insert_day_mark(xt_chat_win *w, size_t at, int64_t ts_ms)
{
    char label[XT_CHAT_DAY_LABEL_MAX];
    xt_chat_line line = {.kind = XT_CHAT_LINE_MARK, .day = 0};
    xt_chat_day_label(ts_ms, label, sizeof label);
    if ((line.text = xt_chat_utf8_decode(label, strlen(label), &line.len)))
        (void)put_line(w, at, line);
}

/* The nearest dated line from index i going by step (-1: up, +1: down);
 * NULL when there is none. */
static const xt_chat_line *near_dated(const xt_chat_win *w, size_t i, int step)
{
    for (; i < w->nlines; i += (size_t)step)
        if (w->lines[i].day)
            return &w->lines[i];
    return NULL;
}

static xt_chat_line *append(xt_chat_win *w, int kind, int64_t ts_ms, xt_chat_time_style style,
                            const char *who, const char *body, int64_t hist_id)
{
    if (w->peer && w->nlines) {
        const xt_chat_line *prev = near_dated(w, w->nlines - 1, -1);
        int32_t day = xt_chat_day(ts_ms);
        if (prev && day && prev->day != day)
            insert_day_mark(w, w->nlines, ts_ms);
    }
    return insert_line(w, w->nlines, kind, ts_ms, style, who, body, hist_id);
}

xt_chat_line *xt_chat_win_add(xt_chat_win *w, int kind, int64_t ts_ms, const char *who,
                              const char *body, int64_t hist_id)
{
    return append(w, kind, ts_ms, XT_CHAT_TIME_SHORT, who, body, hist_id);
}

xt_chat_line *xt_chat_win_add_full(xt_chat_win *w, int kind, int64_t ts_ms, const char *who,
                                   const char *body, int64_t hist_id)
{
    return append(w, kind, ts_ms, XT_CHAT_TIME_FULL, who, body, hist_id);
}

/* Replaces the last l->suffix_len characters of l->text by " " + the
 * ns characters of ws (ns 0: none). 0 or -1 (unchanged). */
static int put_suffix(xt_chat_line *l, const wchar_t *ws, size_t ns)
{
    size_t base = l->len - l->suffix_len, add = ns ? ns + 1 : 0;
    wchar_t *t = realloc(l->text, (base + add + 1) * sizeof *t);
    if (!t)
        return -1;
    if (ns) {
        t[base] = L' ';
        memcpy(t + base + 1, ws, ns * sizeof *t);
    }
    t[base + add] = L'\0';
    l->text = t;
    l->len = base + add;
    l->suffix_len = add;
    return 0;
}

int xt_chat_win_set_body(xt_chat *c, xt_chat_win *w, size_t i, const char *who, const char *body)
{
    (void)c;
    if (i >= w->nlines)
        return -1;
    xt_chat_line *l = &w->lines[i];
    size_t n = 0;
    wchar_t *text = format_line(l->ts_ms, XT_CHAT_TIME_SHORT, who, body, &n);
    size_t nb = 0;
    wchar_t *wb = text ? xt_chat_utf8_decode(body, strlen(body), &nb) : NULL;
    if (!wb) {
        free(text);
        return -1;
    }
    free(wb);
    /* The reactions stay with the message (the suffix after the body). */
    xt_chat_line nl = {.text = text, .len = n};
    size_t ns = l->suffix_len ? l->suffix_len - 1 : 0;
    if (ns && put_suffix(&nl, l->text + l->len - ns, ns) != 0) {
        free(nl.text);
        return -1;
    }
    free(l->text);
    l->text = nl.text;
    l->len = nl.len;
    l->suffix_len = nl.suffix_len;
    l->body_off = nb <= n ? n - nb : 0;
    return 0;
}

int xt_chat_win_set_suffix(xt_chat_win *w, size_t i, const char *suffix)
{
    if (i >= w->nlines)
        return -1;
    size_t ns = 0;
    wchar_t *ws = NULL;
    if (suffix && *suffix) {
        /* From the network (emoji a contact sent): shown escaped, one line. */
        char *san = xt_cli_sanitize(suffix, strlen(suffix), XT_CLI_SAN_LINE);
        ws = san ? xt_chat_utf8_decode(san, strlen(san), &ns) : NULL;
        free(san);
        if (!ws)
            return -1;
    }
    int rc = put_suffix(&w->lines[i], ws, ns);
    free(ws);
    return rc;
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
    const char *body = m->body;
    char *action = NULL;
    if (o->w->room) {
        /* A room's line is its sender's nick, ours too (chat_room.c):
         * the occupant JID's resource. */
        const char *slash = m->from ? strchr(m->from, '/') : NULL;
        who = slash && slash[1] ? slash + 1 : "?";
        size_t n = strlen(who) + strlen(body) + 4;
        if (strncmp(body, "/me ", 4) == 0 && (action = malloc(n))) { /* XEP-0245 */
            snprintf(action, n, "* %s %s", who, body + 4);
            body = action;
            who = NULL;
        }
    }
    /* Newest first: each one goes above the previous, and a day
     * separator between it and a line of a later day below it. */
    xt_chat_line *l = insert_line(o->w, 0, m->outgoing ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN,
                                  m->ts_ms, XT_CHAT_TIME_SHORT, who, body, m->id);
    free(action);
    if (l) {
        /* The id it was stored with (origin-id, else the stanza id): what
         * reactions and corrections name, and what tells an archive copy
         * of it apart (xt_chat_win_archived). */
        if (m->stanza_id && strlen(m->stanza_id) < sizeof o->w->lines[0].id)
            snprintf(o->w->lines[0].id, sizeof o->w->lines[0].id, "%s", m->stanza_id);
        o->count++;
        const xt_chat_line *below = near_dated(o->w, 1, 1);
        if (below && o->w->lines[0].day && below->day != o->w->lines[0].day)
            insert_day_mark(o->w, 1, below->ts_ms);
    }
    o->w->oldest_id = m->id;
    return 0;
}

/* The oldest dated line's time, 0 when none. */
static int64_t oldest_ts(const xt_chat_win *w)
{
    const xt_chat_line *l = near_dated(w, 0, 1);
    return l ? l->ts_ms : 0;
}

/* Past the store: ask the server's archive for the n messages before
 * what the window shows (XEP-0313, backward from an archive id this
 * conversation reached before, else from the oldest line's time). The
 * lines arrive later (xt_chat_win_archived). */
static void fetch_archive(xt_chat *c, xt_chat_win *w, size_t n)
{
    if (w->mam_tag || w->mam_done || !c->conn || !c->online)
        return;
    char *before = NULL, end[40] = "";
    if (c->acct.store)
        (void)xt_store_archive_pos_get(c->acct.store, c->account, w->peer, &before);
    xt_mam_query q = {.with = w->peer,
                      .before_id = before ? before : "",
                      .max_total = (uint32_t)n,
                      .page_size = (uint32_t)n};
    int64_t ts = oldest_ts(w);
    if (!before && ts > 0) {
        /* XEP-0082 UTC, a millisecond before the oldest line shown. */
        time_t secs = (time_t)((ts - 1) / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        size_t k = strftime(end, sizeof end, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(end + k, sizeof end - k, ".%03dZ", (int)((ts - 1) % 1000));
        q.end = end;
    }
    int tag = xt_mam_fetch(c->conn, &q);
    free(before);
    if (tag > 0) {
        w->mam_tag = tag;
        w->mam_at = 0;
        w->mam_seen = 0;
    } else if (tag == XT_EUNSUPPORTED) {
        w->mam_done = 1; /* no archive on this server */
    }
}

size_t xt_chat_win_load_stored(xt_chat *c, xt_chat_win *w, size_t n)
{
    struct older o = {c, w, 0};
    char key[3200];
    /* A private conversation with an occupant is in neither. */
    if (!w->peer || w->pm || w->hist_done || !c->hist)
        return 0;
    const char *peer = w->peer;
    if (w->room) { /* kept apart from the conversations (chat_history.h) */
        if (xt_chat_hist_room_key(w->peer, key, sizeof key) != 0) {
            w->hist_done = 1;
            return 0;
        }
        peer = key;
    }
    /* Before the first load, start from the oldest live line stored. */
    int64_t before = w->oldest_id;
    if (before == 0)
        for (size_t i = 0; i < w->nlines && !before; i++)
            before = w->lines[i].hist_id;
    if (xt_chat_hist_page(c->hist, peer, before, n, older_fn, &o) < 0 || o.count < n)
        w->hist_done = 1;
    return o.count;
}

size_t xt_chat_win_load_older(xt_chat *c, xt_chat_win *w, size_t n)
{
    if (!w->peer || w->pm)
        return 0;
    /* The store first, then the archive: our own for a conversation, the
     * room's for a room (chat_room.c). */
    size_t got = w->hist_done ? 0 : xt_chat_win_load_stored(c, w, n);
    if (got < n) {
        if (w->room)
            xt_chat_room_fetch_older(c, w, n - got);
        else
            fetch_archive(c, w, n - got);
    }
    return got;
}

void xt_chat_win_archived(xt_chat *c, xt_chat_win *w, const xt_message *m)
{
    const char *mid = NULL;
    if (!w->room) {
        /* The archive's copy of a line the window shows already: the fetch
         * starts a moment before the oldest line's local time, and the
         * archive's stamps (whole seconds on Prosody) may come before it. */
        mid = m->origin_id ? m->origin_id : m->id;
        /* Where the next scroll-back continues, shown or not (archive
         * order: the first of a backward page is its oldest). A room's
         * scroll-back goes on from its oldest line instead. */
        if (++w->mam_seen == 1 && c->acct.store && m->stanza_id)
            (void)xt_store_archive_pos_set(c->acct.store, c->account, w->peer, m->stanza_id);
        for (size_t i = 0; mid && i < w->nlines; i++)
            if (w->lines[i].id[0] && strcmp(w->lines[i].id, mid) == 0)
                return;
    }
    int out = m->direction == XT_DIR_OUT || (w->room && m->from_self);
    /* A room's line is its sender's nick (chat_room.c). */
    const char *who = w->room ? (m->nick ? m->nick : "?")
                      : out   ? "me"
                              : xt_chat_display_name(c, w->peer);
    int64_t ts = m->timestamp_ms ? m->timestamp_ms : xt_chat_now_ms();
    /* A backward page comes oldest first: each below the previous one,
     * all above what the window had. */
    xt_chat_line *l = insert_line(w, w->mam_at, out ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN, ts,
                                  XT_CHAT_TIME_SHORT, who, m->body, 0);
    if (l) {
        /* A room's lines keep the room's archive id (the next scroll-back
         * goes on from the oldest: xt_chat_room_fetch_older); a
         * conversation's keep the message id the check above compares. */
        const char *keep = w->room ? m->stanza_id : mid;
        if (keep && strlen(keep) < sizeof l->id)
            snprintf(l->id, sizeof l->id, "%s", keep);
        w->mam_at++;
    }
    c->dirty = 1;
}

void xt_chat_win_archive_done(xt_chat *c, xt_chat_win *w, const xt_archive_event *a)
{
    w->mam_tag = 0;
    if (a->status || a->count == 0 || a->complete)
        w->mam_done = 1;
    if (a->status)
        xt_chat_infof(c, XT_CHAT_LINE_ERROR, "%s: the server's archive could not be read: %s",
                      w->peer, xt_strerror(a->status));
    else
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "%s: %zu older messages from the server's archive%s",
                      w->peer, a->count, w->mam_done ? " (all)" : "");
    /* The console is not in view: the status bar says it too. */
    snprintf(c->hint, sizeof c->hint, "%zu older messages from the server's archive%s",
             a->status ? (size_t)0 : a->count, w->mam_done ? " (all)" : "");
}

xt_chat_win *xt_chat_win_open(xt_chat *c, const char *peer, size_t *idx)
{
    xt_chat_win *w = xt_chat_win_find(c, peer, idx);
    if (w)
        return w;
    if ((w = xt_chat_win_open_empty(c, peer, idx)))
        xt_chat_win_load_older(c, w, HISTORY_PAGE);
    return w;
}

xt_chat_win *xt_chat_win_open_empty(xt_chat *c, const char *peer, size_t *idx)
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
    c->dirty = 1;
    return w;
}

void xt_chat_win_close(xt_chat *c, size_t idx)
{
    if (idx == 0 || idx >= c->nwins)
        return;
    xt_chat_feat_close_win(c, idx);
    xt_chat_room_closing(c, c->wins[idx]); /* a room is left */
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
    xt_chat_feat_switch(c, c->cur, idx);
    c->cur = idx;
    c->wins[idx]->unread = 0;
    c->wins[idx]->mentions = 0;
    c->roster_focus = 0;
    c->dirty = 1;
}
