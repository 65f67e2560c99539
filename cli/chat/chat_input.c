/*
 * Keys and commands of `xtalk chat`. Keys are read in batches (everything
 * stdin has). What is a paste is the terminal's word: with bracketed
 * paste (xterm mode 2004, chat_ui.c) a line break between \e[200~ and
 * \e[201~ goes into the line, so a multi-line paste is one message, and
 * every other Enter sends, however quickly the next key follows it. Only
 * on a terminal without the mode is an Enter followed by more input in
 * the same batch taken for a pasted line break. Alt-Enter inserts one.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dedup.h"
#include "chat.h"
#include "chat_files.h"
#include "chat_cmd.h"
#include "chat_room.h"
#include "chat_room_text.h"
#include "chat_text.h"
#include "../outbox.h"
#include "../text.h"

#define KEY_BATCH 4096
#define CTRL(k) ((k) & 0x1f)

struct key {
    int fn; /* KEY_CODE_YES: a curses function key */
    wint_t ch;
};

/* Notices. The status bar is one row shared with the window list, so
 * nothing is said only there but a few words: an error or a long notice
 * goes in full into the current window (whichever the user looks at),
 * and the bar repeats the start of it until the next key (chat_ui.c
 * keeps the window list visible and cuts the notice to what is left). */
/* A printf format (clang's -Wformat-nonliteral needs to know it is one). */
__attribute__((format(printf, 4, 0)))
static void say(xt_chat *c, int kind, int in_window, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    if (n >= sizeof c->hint) { /* the bar shows far less anyway; cut on a character */
        n = sizeof c->hint - 1;
        while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(c->hint, buf, n);
    c->hint[n] = 0;
    if (in_window)
        xt_chat_win_add(c->wins[c->cur], kind, xt_chat_now_ms(), NULL, buf, 0);
    c->dirty = 1;
}

#define XT_CHAT_SAY(name, kind, in_window)                                                         \
    static void name(xt_chat *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));      \
    static void name(xt_chat *c, const char *fmt, ...)                                             \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        say(c, kind, in_window, fmt, ap);                                                          \
        va_end(ap);                                                                                \
    }
XT_CHAT_SAY(hintf, XT_CHAT_LINE_ERROR, 1) /* errors: window and bar */
XT_CHAT_SAY(notef, XT_CHAT_LINE_INFO, 1)  /* information: window and bar */
XT_CHAT_SAY(barf, XT_CHAT_LINE_INFO, 0)   /* a few words: the bar only */

/* A normalized bare JID (malloc'd) or NULL with a hint. */
static char *bare_of(xt_chat *c, const char *s)
{
    const char *why = NULL;
    char *out;

    if (!*s) {
        hintf(c, "give a JID, like user@example.org");
        return NULL;
    }
    if (!(out = xt_cli_bare(s, &why)))
        hintf(c, "invalid JID '%s': %s", s, why ? why : "?");
    return out;
}

/* The JID a command's argument names (malloc'd), or NULL with the reason
 * shown: a contact's JID, its roster name, or an unambiguous start of
 * either (xt_chat_resolve); pending subscription requests count as
 * contacts. An argument matching nobody is taken as a JID if it has an
 * '@' or a '.', so a stranger can be written to (and /add takes any
 * JID as given); a bare word ("Bob" with no such contact) is refused
 * rather than sent to the server named "bob". */
static char *resolve_jid(xt_chat *c, const char *arg, int literal)
{
    if (literal || !*arg)
        return bare_of(c, arg);
    size_t n = c->ncontacts + c->nsubs, idx[16];
    xt_chat_name *k = malloc((n ? n : 1) * sizeof *k);
    if (!k) {
        hintf(c, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < c->ncontacts; i++)
        k[i] = (xt_chat_name){c->contacts[i].jid, c->contacts[i].name};
    for (size_t i = 0; i < c->nsubs; i++)
        k[c->ncontacts + i] = (xt_chat_name){c->subs[i], NULL};
    size_t m = xt_chat_resolve(arg, k, n, idx, sizeof idx / sizeof idx[0]);
    char *out = NULL;
    if (m == 1) {
        out = strdup(k[idx[0]].jid);
    } else if (m > 1) {
        char list[1024];
        size_t o = 0;
        for (size_t i = 0; i < m && i < sizeof idx / sizeof idx[0] && o < sizeof list - 1; i++) {
            int w = k[idx[i]].name
                        ? snprintf(list + o, sizeof list - o, "%s%s (%s)", i ? ", " : "",
                                   k[idx[i]].name, k[idx[i]].jid)
                        : snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", k[idx[i]].jid);
            if (w < 0)
                break;
            o += (size_t)w;
            if (o >= sizeof list) { /* cut: snprintf kept it terminated */
                o = sizeof list - 1;
                break;
            }
        }
        hintf(c, "'%s' is ambiguous: %zu contacts match: %s%s", arg, m, list,
              m > sizeof idx / sizeof idx[0] ? ", ..." : "");
    } else if (strchr(arg, '@') || strchr(arg, '.')) {
        out = bare_of(c, arg);
    } else {
        hintf(c,
              "no contact named '%s' (give a name from the roster or a JID, like "
              "user@example.org)",
              arg);
    }
    free(k);
    return out;
}

static int need_online(xt_chat *c)
{
    if (c->online && c->conn)
        return 1;
    hintf(c, "not connected: try again once online");
    return 0;
}

/* --- sending ---------------------------------------------------------------- */

/* Sends with the message's own id, which is also its XEP-0359 origin-id
 * and its outbox key: a re-send after a drop carries the same id, so the
 * receiver can drop the repeat. */
static int send_now(xt_chat *c, const char *to, const char *body, const char *id,
                    const char *oob_url)
{
    /* With a receipt request and our chat state (chat_features.c). */
    xt_message_extras x = {.oob_url = oob_url};
    xt_chat_feat_extras(c, to, &x);
    return xt_conn_send_message_ex(c->conn, to, "chat", body, NULL, id, &x, NULL);
}

static void mark_sent(xt_chat *c, const char *peer, const char *id)
{
    xt_chat_win *w = xt_chat_win_find(c, peer, NULL);
    if (!w)
        return;
    for (size_t i = w->nlines; i > 0; i--) {
        if (w->lines[i - 1].queued && strcmp(w->lines[i - 1].id, id) == 0) {
            w->lines[i - 1].queued = 0;
            c->dirty = 1;
        }
    }
}

void xt_chat_send_text(xt_chat *c, const char *peer, const char *body)
{
    xt_chat_send_text_oob(c, peer, body, NULL);
}

void xt_chat_send_text_oob(xt_chat *c, const char *peer, const char *body, const char *oob_url)
{
    char id[64];
    size_t idx;

    if (xt_cli_text_ok(body) != 0) {
        hintf(c, "not sent: the text holds characters XMPP cannot carry");
        return;
    }
    if (xt_chat_room_send(c, peer, body)) /* a room, or one of its occupants */
        return;
    xt_chat_win *w = xt_chat_win_open(c, peer, &idx);
    if (!w) {
        hintf(c, "out of memory");
        return;
    }
    /* The one id generator (outbox.h): random, never rand(). */
    if (xt_cli_new_id(id) != 0) {
        hintf(c, "not sent: no random bytes for a message id");
        return;
    }
    int64_t ts = xt_chat_now_ms();
    int64_t hid = xt_chat_hist_add(c->hist, peer, c->account, body, id, 1, ts);
    /* Its archived copy (the next login's catch-up) or its carbon is not
     * news: it is in the history already. */
    (void)xt_cli_dedup_own(c->dedup, id);
    /* XEP-0245: our own "/me waves" shows as "* me waves". */
    int me = strncmp(body, "/me ", 4) == 0;
    size_t alen = strlen(body) + 4;
    char *action = me ? malloc(alen) : NULL;
    if (action)
        snprintf(action, alen, "* me %s", body + 4);
    xt_chat_line *l = xt_chat_win_add(w, XT_CHAT_LINE_OUT, ts, action ? NULL : "me",
                                      action ? action : body, hid);
    free(action);
    if (l) {
        snprintf(l->id, sizeof l->id, "%s", id);
        l->body = strdup(body); /* for Up-arrow's correction; NULL: not correctable */
    }
    /* Into the store's outbox BEFORE the stream sees it; it leaves the
     * outbox only at XT_EV_ACKED (the server holds it), so a message the
     * connection loses is sent again after reconnecting. */
    int stored = c->hist && xt_chat_outbox_add(c->hist, peer, body, id) == 0;
    if (c->online && send_now(c, peer, body, id, oob_url) >= 0) {
        w->scroll = 0;
        c->dirty = 1;
        return;
    }
    /* Offline: keep it for the reconnection. */
    if (l)
        l->queued = 1;
    /* Without a store, in memory. */
    if (!stored) {
        struct xt_chat_pending *p = realloc(c->pend, (c->npend + 1) * sizeof *p);
        if (p) {
            c->pend = p;
            p[c->npend].to = strdup(peer);
            p[c->npend].body = strdup(body);
            if (p[c->npend].to && p[c->npend].body)
                c->npend++;
            else
                free(p[c->npend].to), free(p[c->npend].body);
        }
    }
    xt_chat_queue_count(c);
    barf(c, "queued: goes out once online");
}

/* Called once per new session: everything still in the outbox (typed
 * offline, or sent but never acknowledged) goes out again with its id. */
static int flush_one(const char *to, const char *body, const char *id, void *ud)
{
    xt_chat *c = ud;
    /* Held by the library (XEP-0198: resumed, or re-sent after a new
     * session): it sends and acknowledges it itself; once is enough. */
    if (!xt_conn_is_unacked(c->conn, id) && send_now(c, to, body, id, NULL) < 0)
        return 1;
    mark_sent(c, to, id);
    return 0;
}

static int count_one(const char *to, const char *body, const char *id, void *ud)
{
    (void)to, (void)body, (void)id;
    (*(size_t *)ud)++;
    return 0;
}

void xt_chat_queue_count(xt_chat *c)
{
    size_t n = c->npend;
    if (c->hist)
        (void)xt_chat_outbox_list(c->hist, count_one, &n);
    if (n != c->nqueued)
        c->dirty = 1;
    c->nqueued = n;
}

void xt_chat_acked(xt_chat *c, const char *id)
{
    if (c->hist && id)
        (void)xt_chat_outbox_remove(c->hist, id);
}

void xt_chat_flush_queue(xt_chat *c)
{
    if (!c->online)
        return;
    if (c->hist)
        xt_chat_outbox_list(c->hist, flush_one, c);
    size_t i = 0;
    for (; i < c->npend; i++) {
        char id[64];
        if (xt_cli_new_id(id) != 0 || send_now(c, c->pend[i].to, c->pend[i].body, id, NULL) < 0)
            break;
        xt_chat_win *w = xt_chat_win_find(c, c->pend[i].to, NULL);
        for (size_t k = 0; w && k < w->nlines; k++)
            w->lines[k].queued = 0;
        free(c->pend[i].to);
        free(c->pend[i].body);
    }
    if (i > 0) { /* memmove of a NULL array, even for 0 bytes, is undefined */
        memmove(c->pend, c->pend + i, (c->npend - i) * sizeof *c->pend);
        c->npend -= i;
    }
    c->dirty = 1;
}

/* --- commands ------------------------------------------------------------- */

static void show_help(xt_chat *c)
{
    for (int i = 1; i < XT_CHAT_CMD_COUNT_; i++) {
        const xt_chat_cmd_info *in = xt_chat_cmd_info_of((xt_chat_cmd_id)i);
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "/%s %s  -- %s", in->name, in->args, in->help);
    }
    static const char *const keys[] = {
        "Keys: Enter send | Alt-Enter new line | Tab complete | Up/Down input history",
        "PgUp/PgDn scroll back | a paste (even of several lines) is one message",
        "Alt-0..9 window | Ctrl-N/Ctrl-P next/previous window | Alt-A or Ctrl-X next unread",
        "Ctrl-R roster (arrows, Enter opens) | Ctrl-A/E/B/F, Alt-B/F move | Ctrl-W, Alt-D words",
        "Ctrl-K/Ctrl-U kill to end/start | Ctrl-L redraw | Ctrl-Z suspend | Ctrl-C or /quit leave",
        "Presence: + available  * chat  ~ away  % xa  ! dnd  - offline",
        "Rooms: Tab completes a nick (again: the next) | Alt-O occupant pane | (5 @2): 2 name you",
        "Occupants: @ moderator  - visitor (no voice); ~ owner  & admin  + member  ! outcast",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "%s", keys[i]);
    xt_chat_switch(c, 0);
}

static int search_fn(const xt_chat_hmsg *m, void *ud)
{
    xt_chat *c = ud;
    char who[600];
    const char *room = xt_chat_hist_key_room(m->peer);
    if (room) { /* a room's line: the room, then its sender's nick */
        const char *slash = m->from ? strchr(m->from, '/') : NULL;
        snprintf(who, sizeof who, "%s %s %s", room, m->outgoing ? "<" : ">",
                 slash && slash[1] ? slash + 1 : "?");
    } else {
        snprintf(who, sizeof who, "%s %s %s", m->peer, m->outgoing ? "<" : ">",
                 m->outgoing ? "me" : xt_chat_display_name(c, m->peer));
    }
    /* The full date and time: results span years (issue 13 item 6). */
    xt_chat_line *l = xt_chat_win_add_full(
        c->wins[0], m->outgoing ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN, m->ts_ms, who, m->body, 0);
    return l ? 0 : 1;
}

static void do_search(xt_chat *c, const char *text)
{
    if (!*text) {
        hintf(c, "/search TEXT");
        return;
    }
    if (!c->hist) {
        hintf(c, "no history store: search is not available");
        return;
    }
    xt_chat_infof(c, XT_CHAT_LINE_MARK, "-- search: %s --", text);
    size_t before = c->wins[0]->nlines;
    int rc = xt_chat_hist_search(c->hist, text, 100, search_fn, c);
    size_t found = c->wins[0]->nlines - before;
    if (rc < 0)
        xt_chat_infof(c, XT_CHAT_LINE_ERROR, "search failed: %s", xt_strerror(rc));
    else
        xt_chat_infof(c, XT_CHAT_LINE_MARK, "-- %zu found (newest first) --", found);
    c->wins[0]->scroll = 0;
    xt_chat_switch(c, 0);
}

static void answer_sub(xt_chat *c, const char *jid, int allow)
{
    if (!need_online(c))
        return;
    xt_conn_subscription(c->conn, jid, allow ? "subscribed" : "unsubscribed");
    if (allow) {
        const xt_chat_contact *k = xt_chat_contact_find(c, jid);
        /* Mutual by default, as most clients do. */
        if (!k || (strcmp(k->sub, "to") != 0 && strcmp(k->sub, "both") != 0 && !k->ask))
            xt_conn_subscription(c->conn, jid, "subscribe");
    }
    for (size_t i = 0; i < c->nsubs; i++) {
        if (strcmp(c->subs[i], jid) == 0) {
            free(c->subs[i]);
            memmove(c->subs + i, c->subs + i + 1, (c->nsubs - i - 1) * sizeof *c->subs);
            c->nsubs--;
            break;
        }
    }
    xt_chat_infof(c, XT_CHAT_LINE_INFO, "%s %s", allow ? "approved" : "denied", jid);
    c->dirty = 1;
}

/* A roster change's answer (RFC 6121 §2.3, §2.5): an error says the
 * server's condition and text. */
struct roster_req {
    xt_chat *c;
    char what[16];
    char jid[];
};

static void on_roster_reply(xt_conn *conn, int status, const xt_stanza *reply, void *ud)
{
    struct roster_req *r = ud;
    char why[512];
    (void)conn;

    if (status == XT_ESTANZA) {
        xt_cli_stanza_error(reply, why, sizeof why);
        hintf(r->c, "could not %s %s: the server said %s", r->what, r->jid, why);
    } else if (status == XT_ETIMEOUT) {
        hintf(r->c, "could not %s %s: the server did not answer", r->what, r->jid);
    } else if (status == 0) {
        notef(r->c, "%s %s", strcmp(r->what, "add") == 0 ? "added" : "removed", r->jid);
    }
    /* XT_ECLOSED: the connection went; the session says so itself. */
    free(r);
}

static struct roster_req *roster_req(xt_chat *c, const char *what, const char *jid)
{
    struct roster_req *r = malloc(sizeof *r + strlen(jid) + 1);
    if (r) {
        r->c = c;
        snprintf(r->what, sizeof r->what, "%s", what);
        memcpy(r->jid, jid, strlen(jid) + 1);
    }
    return r;
}

static void run_command(xt_chat *c, const char *line)
{
    size_t len = strlen(line) + 2;
    char *buf = malloc(len);
    const char *a1, *rest;
    char *jid = NULL;

    if (!buf)
        return;
    xt_chat_cmd_id id = xt_chat_cmd_parse(line, buf, len, &a1, &rest);
    const xt_chat_cmd_info *in = xt_chat_cmd_info_of(id);
    /* /add names someone new: its argument is a JID as written. */
    if (in && in->jid_arg && !(jid = resolve_jid(c, a1, id == XT_CHAT_CMD_ADD)))
        goto out;
    switch (id) {
    case XT_CHAT_CMD_MSG: {
        size_t idx;
        if (!xt_chat_win_open(c, jid, &idx))
            break;
        xt_chat_switch(c, idx);
        if (*rest)
            xt_chat_send_text(c, jid, rest);
        break;
    }
    case XT_CHAT_CMD_ADD: {
        if (!need_online(c))
            break;
        struct roster_req *r = roster_req(c, "add", jid);
        if (!r) {
            hintf(c, "out of memory");
            break;
        }
        int e = xt_conn_roster_set(c->conn, jid, *rest ? rest : NULL, NULL, 0, on_roster_reply, r);
        if (e < 0) {
            free(r);
            hintf(c, "could not add %s: %s", jid, xt_strerror(e));
        } else if ((e = xt_conn_subscription(c->conn, jid, "subscribe")) < 0) {
            hintf(c, "could not ask %s for its presence: %s", jid, xt_strerror(e));
        } else {
            notef(c, "adding %s; asked to see its presence", jid);
        }
        break;
    }
    case XT_CHAT_CMD_REMOVE: {
        if (!need_online(c))
            break;
        struct roster_req *r = roster_req(c, "remove", jid);
        int e = r ? xt_conn_roster_remove(c->conn, jid, on_roster_reply, r) : XT_ENOMEM;
        if (e < 0) {
            free(r);
            hintf(c, "could not remove %s: %s", jid, xt_strerror(e));
        }
        break;
    }
    case XT_CHAT_CMD_APPROVE:
    case XT_CHAT_CMD_DENY:
        answer_sub(c, jid, id == XT_CHAT_CMD_APPROVE);
        break;
    case XT_CHAT_CMD_STATUS: {
        int show;
        if (xt_cli_parse_show(a1, &show) != 0) {
            hintf(c, "/status available|chat|away|xa|dnd [MESSAGE]");
            break;
        }
        c->show = show;
        free(c->status_msg);
        c->status_msg = *rest ? strdup(rest) : NULL;
        if (need_online(c))
            xt_conn_send_presence(c->conn, (xt_show)show, c->status_msg, 0);
        notef(c, "you are %s%s%s", xt_chat_show_name(show), *rest ? ": " : "", rest);
        break;
    }
    case XT_CHAT_CMD_CLOSE:
        if (c->cur == 0)
            hintf(c, "the console cannot be closed (/quit leaves)");
        else
            xt_chat_win_close(c, c->cur);
        break;
    case XT_CHAT_CMD_HISTORY: {
        long n = *a1 ? strtol(a1, NULL, 10) : 50;
        xt_chat_win *w = c->wins[c->cur];
        if (!w->peer || n <= 0 || n > 100000) {
            hintf(c, "/history [N] in a conversation window");
            break;
        }
        size_t got = xt_chat_win_load_older(c, w, (size_t)n);
        notef(c, "%zu older messages loaded%s", got, w->hist_done ? " (all)" : "");
        break;
    }
    case XT_CHAT_CMD_SEARCH: {
        /* The whole text after /search, not just its first word. */
        const char *t = line + 1;
        while (*t && *t != ' ')
            t++;
        while (*t == ' ')
            t++;
        do_search(c, t);
        break;
    }
    case XT_CHAT_CMD_WINDOWS:
        for (size_t i = 0; i < c->nwins; i++)
            xt_chat_infof(c, XT_CHAT_LINE_INFO, "%zu: %s%s", i,
                          c->wins[i]->peer ? c->wins[i]->peer : "console",
                          c->wins[i]->unread ? " (unread)" : "");
        xt_chat_switch(c, 0);
        break;
    case XT_CHAT_CMD_BELL:
        if (strcmp(a1, "on") == 0 || strcmp(a1, "off") == 0)
            c->bell = strcmp(a1, "on") == 0;
        notef(c, "bell %s", c->bell ? "on" : "off");
        break;
    case XT_CHAT_CMD_ME: {
        /* XEP-0245: the body is the line itself, "/me ACTION". */
        const char *act = line + 1;
        while (*act && *act != ' ' && *act != '\t')
            act++;
        while (*act == ' ' || *act == '\t')
            act++;
        if (!c->wins[c->cur]->peer)
            hintf(c, "/me works in a conversation");
        else if (!*act)
            hintf(c, "usage: /me ACTION");
        else {
            size_t n = strlen(act) + 5;
            char *body = malloc(n);
            if (body) {
                snprintf(body, n, "/me %s", act);
                xt_chat_send_text(c, c->wins[c->cur]->peer, body);
                free(body);
            }
        }
        break;
    }
    case XT_CHAT_CMD_REACT:
        xt_chat_feat_react(c, a1);
        break;
    case XT_CHAT_CMD_OPEN:
        xt_chat_files_open(c, a1);
        break;
    case XT_CHAT_CMD_SAVE:
        xt_chat_files_save(c, a1, rest);
        break;
    case XT_CHAT_CMD_UPLOAD: {
        /* The path is all of the line after the command: blanks kept. */
        const char *path = line + 1;
        while (*path && *path != ' ' && *path != '\t')
            path++;
        while (*path == ' ' || *path == '\t')
            path++;
        xt_chat_files_upload(c, path);
        break;
    }
    case XT_CHAT_CMD_INFO:
        if (*a1)
            jid = resolve_jid(c, a1, 0);
        else if (c->wins[c->cur]->peer)
            jid = strdup(c->wins[c->cur]->peer);
        else
            hintf(c, "usage: /info JID (or use it in a conversation)");
        if (jid && need_online(c))
            xt_chat_feat_info(c, jid);
        break;
    case XT_CHAT_CMD_BLOCK:
    case XT_CHAT_CMD_UNBLOCK: {
        int block = id == XT_CHAT_CMD_BLOCK;
        if (*a1)
            jid = resolve_jid(c, a1, 1);
        else if (c->wins[c->cur]->peer)
            jid = strdup(c->wins[c->cur]->peer);
        else
            hintf(c, "usage: /%s JID (or use it in a conversation)", block ? "block" : "unblock");
        if (!jid || !need_online(c))
            break;
        const char *one[1] = {jid};
        int e = block ? xt_conn_block(c->conn, one, 1, NULL, NULL)
                      : xt_conn_unblock(c->conn, one, 1, NULL, NULL);
        if (e < 0)
            hintf(c, "cannot %s %s: %s", block ? "block" : "unblock", jid, xt_strerror(e));
        else
            notef(c, "%s %s", block ? "blocked" : "unblocked", jid);
        break;
    }
    case XT_CHAT_CMD_RECONNECT: {
        /* The library's reconnection, started now: the one code path
         * for every reconnection (XEP-0198 resumption included). */
        int e = xt_cli_session_reconnect(c->s);
        if (e == XT_ESTATE)
            notef(c, "%s", c->online ? "already online" : "already connecting");
        else if (e < 0)
            hintf(c, "cannot reconnect: %s", xt_strerror(e));
        else {
            snprintf(c->conn_text, sizeof c->conn_text, "connecting");
            notef(c, "connecting again");
        }
        break;
    }
    case XT_CHAT_CMD_HELP:
        show_help(c);
        break;
    case XT_CHAT_CMD_QUIT:
        xt_chat_quit(c);
        break;
    default:
        /* The room commands (chat_room.c); /invite's JID resolved above. */
        if (!xt_chat_room_command(c, id, jid ? jid : a1, rest))
            hintf(c, "unknown command '%s' (/help lists them; // sends a line starting with /)",
                  line);
        break;
    }
out:
    free(jid);
    free(buf);
}

static void submit(xt_chat *c)
{
    char *line = xt_chat_edit_text(&c->edit);
    if (!line)
        return;
    /* A prompt's answer (a room's password) never reaches the history. */
    if (xt_chat_room_prompted(c, line)) {
        free(line);
        return;
    }
    if (!*line) {
        free(line);
        return;
    }
    xt_chat_edit_hist_add(&c->edit, line);
    xt_chat_edit_clear(&c->edit);
    if (c->correcting[0] && xt_chat_feat_submit_correction(c, line)) {
        free(line);
        return;
    }
    if (line[0] == '/' && line[1] != '/') {
        run_command(c, line);
    } else if (!c->wins[c->cur]->peer) {
        hintf(c, "this is the console: open a conversation with /msg JID or Ctrl-R");
    } else {
        xt_chat_send_text(c, c->wins[c->cur]->peer, line[0] == '/' ? line + 1 : line);
    }
    free(line);
}

/* --- completion ------------------------------------------------------------- */

static void complete(xt_chat *c)
{
    xt_chat_edit *e = &c->edit;
    size_t ws = e->cur;
    while (ws > 0 && e->buf[ws - 1] != L' ')
        ws--;
    char *word = xt_chat_utf8_encode(e->buf + ws, e->cur - ws);
    char *line = xt_chat_edit_text(e);
    const char **cands = NULL;
    size_t n = 0, first = 0;
    char common[512];
    char **paths = NULL; /* path completion's names (cands points into them) */
    size_t paths_n = 0;

    if (!word || !line || xt_chat_room_complete(c)) /* nicks, in a room */
        goto out;
    if (ws == 0 && line[0] == '/') {
        cands = malloc(XT_CHAT_CMD_COUNT_ * sizeof *cands);
        const char *const *names = xt_chat_cmd_names(&n);
        if (!cands)
            goto out;
        memcpy(cands, names, n * sizeof *cands);
    } else {
        /* A JID argument: the second word of a command taking one. */
        char buf[600];
        const char *a1, *rest;
        size_t words = 0;
        for (size_t i = 0; i < ws; i++)
            if (e->buf[i] != L' ' && (i == 0 || e->buf[i - 1] == L' '))
                words++;
        snprintf(buf, sizeof buf, "%s", line);
        char *sp = strchr(buf, ' ');
        if (sp)
            *sp = 0;
        char pbuf[sizeof buf + 2];
        const xt_chat_cmd_info *in =
            xt_chat_cmd_info_of(xt_chat_cmd_parse(buf, pbuf, sizeof pbuf, &a1, &rest));
        if (in && in->path_arg && words == (size_t)in->path_arg) {
            /* /upload PATH, /save N PATH: the file system's names. */
            paths_n = xt_chat_files_complete_path(word, &paths);
            if (paths_n && !(cands = malloc(paths_n * sizeof *cands)))
                goto out;
            for (n = 0; n < paths_n; n++)
                cands[n] = paths[n];
            goto complete;
        }
        if (words != 1 || !in || !in->jid_arg)
            goto out;
        cands = malloc((c->ncontacts + c->nsubs + 1) * sizeof *cands);
        if (!cands)
            goto out;
        for (size_t i = 0; i < c->ncontacts; i++)
            cands[n++] = c->contacts[i].jid;
        for (size_t i = 0; i < c->nsubs; i++)
            cands[n++] = c->subs[i];
    }
complete:;
    size_t m = xt_chat_complete(word, cands, n, common, sizeof common, &first);
    if (m == 0) {
        barf(c, "no completion");
        goto out;
    }
    c->edit.cur = ws;
    c->dirty = 1; /* a lone match says nothing on the bar: redraw the input */
    xt_chat_edit_delete_word_fwd(e); /* the rest of the word goes too */
    xt_chat_edit_insert_utf8(e, common);
    /* A directory completed: its entries come next, no blank. */
    if (m == 1 && !(paths && *common && common[strlen(common) - 1] == '/'))
        xt_chat_edit_insert(e, L" ", 1);
    else {
        char list[512];
        size_t o = 0;
        for (size_t i = first; i < n && o < sizeof list - 80; i++)
            if (strncmp(cands[i], word, strlen(word)) == 0)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s ", cands[i]);
        notef(c, "%s", list);
    }
out:
    for (size_t i = 0; i < paths_n; i++)
        free(paths[i]);
    free(paths);
    free(cands);
    free(word);
    free(line);
}

/* --- keys ------------------------------------------------------------------- */

static void next_unread(xt_chat *c)
{
    for (size_t k = 1; k <= c->nwins; k++) {
        size_t i = (c->cur + k) % c->nwins;
        if (c->wins[i]->unread) {
            xt_chat_switch(c, i);
            return;
        }
    }
    barf(c, "nothing unread");
}

static void scroll_by(xt_chat *c, int up)
{
    xt_chat_win *w = c->wins[c->cur];
    size_t page = LINES > 6 ? (size_t)LINES - 5 : 1;
    if (up) {
        /* Count rows of everything loaded; near the top, load older. */
        size_t rows = 0;
        xt_chat_layout lay;
        xt_chat_layout_of(COLS, w->room && c->rooms.pane, &lay);
        int width = lay.conv_w;
        for (size_t i = 0; i < w->nlines; i++) {
            size_t dummy[1];
            rows += xt_chat_wrap(w->lines[i].text, w->lines[i].len, width > 0 ? (size_t)width : 1,
                                 dummy, 0);
        }
        if (w->scroll + 2 * page >= rows)
            xt_chat_win_load_older(c, w, 100);
        w->scroll += page;
    } else {
        w->scroll = w->scroll > page ? w->scroll - page : 0;
    }
    c->dirty = 1;
}

static void roster_key(xt_chat *c, const struct key *k)
{
    if (k->fn && k->ch == KEY_UP && c->roster_sel > 0)
        c->roster_sel--;
    else if (k->fn && k->ch == KEY_DOWN && c->roster_sel + 1 < c->ncontacts)
        c->roster_sel++;
    else if ((!k->fn && (k->ch == L'\r' || k->ch == L'\n')) || (k->fn && k->ch == KEY_ENTER)) {
        size_t idx;
        if (c->roster_sel < c->ncontacts &&
            xt_chat_win_open(c, c->contacts[c->roster_sel].jid, &idx))
            xt_chat_switch(c, idx);
    } else if (!k->fn && (k->ch == 27 || k->ch == CTRL('r')))
        c->roster_focus = 0;
    c->dirty = 1;
}

static void alt_key(xt_chat *c, wint_t ch)
{
    if ((ch == L'y' || ch == L'n') && c->nsubs > 0) {
        /* The subscription prompt (chat_ui.c shows it on the status bar). */
        char *j = strdup(c->subs[0]);
        if (j)
            answer_sub(c, j, ch == L'y');
        free(j);
    } else if (ch >= L'0' && ch <= L'9')
        xt_chat_switch(c, (size_t)(ch - L'0'));
    else if (ch == L'a')
        next_unread(c);
    else if (ch == L'o') /* the occupant pane of room windows */
        c->rooms.pane = !c->rooms.pane;
    else if (ch == L'b')
        xt_chat_edit_word_left(&c->edit);
    else if (ch == L'f')
        xt_chat_edit_word_right(&c->edit);
    else if (ch == L'd')
        xt_chat_edit_delete_word_fwd(&c->edit);
    else if (ch == 127 || ch == 8)
        xt_chat_edit_delete_word_back(&c->edit);
    else if (ch == L'\r' || ch == L'\n')
        xt_chat_edit_insert(&c->edit, L"\n", 1); /* Alt-Enter: a new line */
}

/* A key inside a bracketed paste: text, never a command key. A pasted
 * CR LF is one line break. */
static void paste_key(xt_chat *c, const struct key *k)
{
    int cr = c->paste_cr;
    c->paste_cr = 0;
    if (k->fn)
        return;
    if (k->ch == L'\r' || k->ch == L'\n') {
        if (k->ch == L'\n' && cr)
            return;
        c->paste_cr = k->ch == L'\r';
        xt_chat_edit_insert(&c->edit, L"\n", 1);
    } else if (k->ch == L'\t' || k->ch >= 32) {
        wchar_t w = (wchar_t)k->ch;
        if (k->ch != 127)
            xt_chat_edit_insert(&c->edit, &w, 1);
    }
    c->dirty = 1;
}

static void key(xt_chat *c, const struct key *k, int more)
{
    xt_chat_edit *e = &c->edit;
    wint_t ch = k->ch;

    if (c->roster_focus) {
        roster_key(c, k);
        return;
    }
    if (k->fn) {
        switch (ch) {
        case KEY_LEFT: xt_chat_edit_left(e); break;
        case KEY_RIGHT: xt_chat_edit_right(e); break;
        case KEY_HOME: xt_chat_edit_home(e); break;
        case KEY_END: xt_chat_edit_end(e); break;
        case KEY_UP:
            /* XEP-0308: Up on an empty input edits our last message;
             * Up again (or with text) is the input history. */
            if (!xt_chat_feat_start_correction(c)) {
                c->correcting[0] = 0;
                xt_chat_edit_hist_prev(e);
            }
            break;
        case KEY_DOWN: xt_chat_edit_hist_next(e); break;
        case KEY_BACKSPACE: xt_chat_edit_backspace(e); break;
        case KEY_DC: xt_chat_edit_delete(e); break;
        case KEY_PPAGE: scroll_by(c, 1); break;
        case KEY_NPAGE: scroll_by(c, 0); break;
        case KEY_ENTER: submit(c); break;
        case KEY_F(2): c->roster_focus = 1; break;
        case KEY_SUSPEND:
            xt_chat_ui_suspend(c);
            break;
        default: break;
        }
        c->dirty = 1;
        return;
    }
    switch (ch) {
    case L'\r':
    case L'\n':
        if (more)
            xt_chat_edit_insert(e, L"\n", 1); /* pasted: part of the message */
        else
            submit(c);
        break;
    case 127:
    case CTRL('h'): xt_chat_edit_backspace(e); break;
    case CTRL('a'): xt_chat_edit_home(e); break;
    case CTRL('e'): xt_chat_edit_end(e); break;
    case CTRL('b'): xt_chat_edit_left(e); break;
    case CTRL('f'): xt_chat_edit_right(e); break;
    case CTRL('d'): xt_chat_edit_delete(e); break;
    case CTRL('w'): xt_chat_edit_delete_word_back(e); break;
    case CTRL('k'): xt_chat_edit_kill_end(e); break;
    case CTRL('u'): xt_chat_edit_kill_start(e); break;
    case CTRL('n'): xt_chat_switch(c, (c->cur + 1) % c->nwins); break;
    case CTRL('p'): xt_chat_switch(c, (c->cur + c->nwins - 1) % c->nwins); break;
    case CTRL('x'): next_unread(c); break;
    case CTRL('r'): c->roster_focus = c->ncontacts > 0; break;
    case CTRL('l'): clearok(curscr, TRUE); break;
    case CTRL('c'): xt_chat_quit(c); break;
    case CTRL('z'):
        xt_chat_ui_suspend(c);
        break;
    case L'\t': complete(c); return;
    case 27: /* Esc alone: a prompt (a room's password, a nick) is cancelled */
        (void)xt_chat_room_prompt_cancel(c);
        break;
    default:
        if (ch >= 32 && ch != 127) {
            wchar_t w = (wchar_t)ch;
            xt_chat_edit_insert(e, &w, 1);
        }
        break;
    }
    c->dirty = 1;
}

void xt_chat_input_ready(xt_chat *c)
{
    static struct key keys[KEY_BATCH];
    size_t n = 0;
    wint_t ch;
    int r;

    while (n < KEY_BATCH && (r = get_wch(&ch)) != ERR) {
        keys[n].fn = r == KEY_CODE_YES;
        keys[n].ch = ch;
        n++;
    }
    if (n > 0)
        c->hint[0] = 0;
    for (size_t i = 0; i < n && !xt_cli_session_finishing(c->s); i++) {
        if (keys[i].fn &&
            (keys[i].ch == XT_CHAT_KEY_PASTE_BEGIN || keys[i].ch == XT_CHAT_KEY_PASTE_END)) {
            c->paste_bracketed = 1; /* the terminal brackets: no guessing */
            c->in_paste = keys[i].ch == XT_CHAT_KEY_PASTE_BEGIN;
            c->paste_cr = 0;
            continue;
        }
        if (keys[i].fn &&
            (keys[i].ch == XT_CHAT_KEY_FOCUS_IN || keys[i].ch == XT_CHAT_KEY_FOCUS_OUT)) {
            xt_chat_feat_focus(c, keys[i].ch == XT_CHAT_KEY_FOCUS_IN);
            continue;
        }
        if (c->in_paste) {
            paste_key(c, &keys[i]);
            continue;
        }
        /* ESC + key = Alt-key (how terminals send Meta). */
        if (!keys[i].fn && keys[i].ch == 27 && i + 1 < n && !keys[i + 1].fn &&
            keys[i + 1].ch != 27 && !c->roster_focus) {
            alt_key(c, keys[++i].ch);
            c->dirty = 1;
            continue;
        }
        /* Without bracketed paste, more input in the same read as an
         * Enter is the only sign of a paste. */
        key(c, &keys[i], !c->paste_bracketed && i + 1 < n);
    }
    if (!xt_cli_session_finishing(c->s))
        xt_chat_feat_after_keys(c);
}
