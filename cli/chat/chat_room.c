/*
 * Group chat in `xtalk chat` (chat_room.h): joining, the room's events
 * as status lines, messages, the room commands. Everything about the
 * room itself (occupants, subject, our nick, the reflection of our own
 * messages) is the library's (xtalk/muc.h); a window keeps only what the
 * user asked for: the nick, the password, whether to be in the room.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "chat_room.h"
#include "chat_room_text.h"
#include "../outbox.h"
#include "../password.h"
#include "xtalk/bookmarks.h"

struct xt_chat_room {
    char *nick;     /* the nick asked for (the room may assign another) */
    char *password; /* the room's, as typed (wiped when freed); NULL none */
    int want;       /* the user wants to be in: joined again after a new session */
    int joined;     /* our self-presence came (XT_EV_MUC_JOINED) */
    int conflicts;  /* nick conflicts on this join: the first retries with nick_ */
};

static void set_str(char **dst, const char *s)
{
    char *n = s ? strdup(s) : NULL;
    if (*dst && *dst != n)
        xt_cli_wipe(*dst, strlen(*dst));
    free(*dst);
    *dst = n;
}

void xt_chat_room_free(xt_chat_room *r)
{
    if (!r)
        return;
    set_str(&r->password, NULL);
    free(r->nick);
    free(r);
}

void xt_chat_rooms_free(xt_chat *c)
{
    set_str(&c->rooms.p_room, NULL);
    set_str(&c->rooms.p_nick, NULL);
    free(c->rooms.cyc_prefix);
    free(c->rooms.cyc_ins);
    c->rooms.cyc_prefix = c->rooms.cyc_ins = NULL;
}

/* --- notices ------------------------------------------------------------------ */

/* A status line in window w; an error is repeated on the status bar
 * (a kick in a room behind another window), the comings and goings of a
 * busy room are not. */
__attribute__((format(printf, 4, 5))) static void note(xt_chat *c, xt_chat_win *w, int kind,
                                                       const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!w)
        w = c->wins[c->cur];
    xt_chat_win_add(w, kind, xt_chat_now_ms(), NULL, buf, 0);
    if (kind == XT_CHAT_LINE_ERROR) {
        size_t n = strlen(buf);
        if (n >= sizeof c->hint) {
            n = sizeof c->hint - 1;
            while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
                n--;
        }
        memcpy(c->hint, buf, n);
        c->hint[n] = 0;
    }
    c->dirty = 1;
}

/* --- windows ------------------------------------------------------------------ */

static xt_chat_win *room_win(xt_chat *c, const char *room, size_t *idx)
{
    xt_chat_win *w = room ? xt_chat_win_find(c, room, idx) : NULL;
    return w && w->room ? w : NULL;
}

/* The room window of room, opened (with its state) when there is none. */
static xt_chat_win *open_room_win(xt_chat *c, const char *room, size_t *idx)
{
    xt_chat_win *w = xt_chat_win_open_empty(c, room, idx);
    if (w && !w->room)
        w->room = calloc(1, sizeof *w->room);
    return w && w->room ? w : NULL;
}

/* " (reason)", " by actor", both or neither, for a status line. */
static void by_reason(char *buf, size_t len, const char *actor, const char *reason)
{
    snprintf(buf, len, "%s%s%s%s", actor ? " by " : "", actor ? actor : "",
             reason && *reason ? ": " : "", reason && *reason ? reason : "");
}

/* --- joining ------------------------------------------------------------------ */

static int join(xt_chat *c, xt_chat_win *w, const char *room)
{
    xt_chat_room *r = w->room;
    /* Some history for context (§7.2.13); a rejoin's repeats are the
     * library's to drop (the room's stanza-ids, XEP-0359). */
    xt_muc_join_opts o = {.nick = r->nick,
                          .password = r->password,
                          .history = XT_MUC_HISTORY_LIMITS,
                          .max_stanzas = 20};
    r->want = 1;
    r->joined = 0;
    int e = xt_muc_join(c->conn, room, &o);
    if (e < 0)
        note(c, w, XT_CHAT_LINE_ERROR, "cannot join %s as %s: %s", room, r->nick, xt_strerror(e));
    else
        note(c, w, XT_CHAT_LINE_INFO, "joining %s as %s", room, r->nick);
    return e;
}

static void prompt(xt_chat *c, int what, const char *room, const char *nick)
{
    c->rooms.prompt = what;
    set_str(&c->rooms.p_room, room);
    set_str(&c->rooms.p_nick, nick);
    xt_chat_edit_clear(&c->edit);
}

static void prompt_end(xt_chat *c)
{
    c->rooms.prompt = XT_CHAT_PROMPT_NONE;
    set_str(&c->rooms.p_room, NULL);
    set_str(&c->rooms.p_nick, NULL);
}

int xt_chat_room_prompt_cancel(xt_chat *c)
{
    if (!c->rooms.prompt)
        return 0;
    xt_chat_win *w = room_win(c, c->rooms.p_room, NULL);
    if (w) {
        w->room->want = 0;
        note(c, w, XT_CHAT_LINE_INFO, "not joining %s", c->rooms.p_room);
    }
    xt_chat_edit_clear(&c->edit);
    prompt_end(c);
    return 1;
}

int xt_chat_room_prompted(xt_chat *c, char *line)
{
    if (!c->rooms.prompt)
        return 0;
    int what = c->rooms.prompt;
    xt_chat_win *w = room_win(c, c->rooms.p_room, NULL);
    /* Whatever was typed, a password leaves no copy behind. */
    if (c->edit.buf)
        xt_cli_wipe(c->edit.buf, c->edit.len * sizeof *c->edit.buf);
    xt_chat_edit_clear(&c->edit);
    if (!w || !c->online) {
        if (what == XT_CHAT_PROMPT_PASSWORD)
            xt_cli_wipe(line, strlen(line));
        prompt_end(c);
        note(c, NULL, XT_CHAT_LINE_ERROR, "not joined: %s", c->online ? "no room" : "offline");
        return 1;
    }
    if (what == XT_CHAT_PROMPT_PASSWORD) {
        set_str(&w->room->password, line);
        xt_cli_wipe(line, strlen(line));
        set_str(&w->room->nick, c->rooms.p_nick);
    } else {
        set_str(&w->room->nick, line);
    }
    char *room = strdup(c->rooms.p_room);
    prompt_end(c);
    if (room && w->room->nick)
        join(c, w, room);
    free(room);
    return 1;
}

/* The join was refused. A nick conflict retries once with nick_, then
 * asks for another; a password room asks for its password (§7.2.6,
 * not-authorized); anything else says why, as the library words it. */
static void join_failed(xt_chat *c, const xt_muc_event *e)
{
    size_t idx;
    xt_chat_win *w = room_win(c, e->room, &idx);
    const char *cond = e->u.join_failed.condition ? e->u.join_failed.condition : "";
    const char *msg = e->u.join_failed.message ? e->u.join_failed.message : cond;

    if (!w)
        return;
    xt_chat_room *r = w->room;
    if (e->u.join_failed.nick_change) {
        note(c, w, XT_CHAT_LINE_ERROR, "nick not changed: %s", msg);
        return;
    }
    r->joined = 0;
    if (strcmp(cond, "conflict") == 0) {
        const char *nick = e->u.join_failed.nick ? e->u.join_failed.nick : r->nick;
        if (r->conflicts++ == 0 && nick && strlen(nick) < 1000) {
            char next[1024];
            snprintf(next, sizeof next, "%s_", nick);
            /* Short: the window is narrow beside two panes. */
            note(c, w, XT_CHAT_LINE_ERROR, "nick '%s' is taken here; trying '%s'", nick, next);
            set_str(&r->nick, next);
            join(c, w, e->room);
            return;
        }
        note(c, w, XT_CHAT_LINE_ERROR, "nick '%s' is taken too: type another (Esc: do not join)",
             nick ? nick : "?");
        prompt(c, XT_CHAT_PROMPT_NICK, e->room, NULL);
        xt_chat_switch(c, idx);
        return;
    }
    if (strcmp(cond, "not-authorized") == 0) {
        note(c, w, XT_CHAT_LINE_ERROR, "%s: type it (not shown; Esc: do not join)",
             r->password ? "that password was refused" : "the room needs a password");
        set_str(&r->password, NULL);
        prompt(c, XT_CHAT_PROMPT_PASSWORD, e->room, r->nick);
        xt_chat_switch(c, idx);
        return;
    }
    r->want = 0;
    note(c, w, XT_CHAT_LINE_ERROR, "not joined: %s", msg);
}

/* Our nick where none is given: the account's local part. */
static void default_nick(const xt_chat *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s", c->account);
    char *at = strchr(buf, '@');
    if (at)
        *at = 0;
}

/* Opens room's window and joins it as nick (password may be NULL). */
static void join_new(xt_chat *c, const char *room, const char *nick, const char *password)
{
    size_t idx;
    xt_chat_win *w = open_room_win(c, room, &idx);
    if (!w || w->room->want)
        return;
    set_str(&w->room->nick, nick);
    set_str(&w->room->password, password);
    w->room->conflicts = 0;
    if (w->room->nick)
        join(c, w, room);
}

static void on_autojoin(xt_conn *conn, int status, const xt_bookmark_list *list, void *ud)
{
    xt_chat *c = ud;
    char local[1024];
    (void)conn;

    if (status < 0) {
        if (status != XT_ECLOSED)
            xt_chat_infof(c, XT_CHAT_LINE_ERROR, "bookmarks could not be read: %s",
                          xt_strerror(status));
        return;
    }
    default_nick(c, local, sizeof local);
    for (size_t i = 0; i < list->n; i++) {
        const xt_bookmark *b = &list->items[i];
        if (b->autojoin && b->room && !xt_chat_win_find(c, b->room, NULL))
            join_new(c, b->room, b->nick && *b->nick ? b->nick : local, b->password);
    }
}

void xt_chat_room_online(xt_chat *c)
{
    for (size_t i = 1; i < c->nwins; i++) {
        xt_chat_win *w = c->wins[i];
        if (w->room && w->room->want && w->room->nick) {
            w->room->conflicts = 0;
            join(c, w, w->peer);
        }
    }
    if (!c->rooms.autojoined) {
        int e = xt_bookmarks_fetch(c->conn, on_autojoin, c);
        c->rooms.autojoined = e == 0;
        if (e < 0)
            xt_chat_infof(c, XT_CHAT_LINE_ERROR, "bookmarks could not be read: %s", xt_strerror(e));
    }
}

/* --- events ------------------------------------------------------------------- */

static void occupant(xt_chat *c, const xt_muc_event *e)
{
    xt_chat_win *w = room_win(c, e->room, NULL);
    const xt_muc_occupant *o = e->u.occupant.occupant;
    char why[1200];

    /* The occupants already there come before our self-presence: the
     * pane lists them; a line each would bury the window. */
    if (!w || !o || !w->room->joined)
        return;
    by_reason(why, sizeof why, e->u.occupant.actor, e->u.occupant.reason);
    const char *who = o->self ? "you" : o->nick;
    switch (e->u.occupant.change) {
    case XT_MUC_OCC_JOIN:
        note(c, w, XT_CHAT_LINE_INFO, "%s joined", o->nick);
        break;
    case XT_MUC_OCC_LEAVE:
        if (e->status & XT_MUC_ST_KICKED)
            note(c, w, XT_CHAT_LINE_INFO, "%s was kicked%s", o->nick, why);
        else if (e->status & XT_MUC_ST_BANNED)
            note(c, w, XT_CHAT_LINE_INFO, "%s was banned%s", o->nick, why);
        else if (e->status & XT_MUC_ST_AFFIL_REMOVED)
            note(c, w, XT_CHAT_LINE_INFO, "%s was removed: no longer a member%s", o->nick, why);
        else if (e->status & XT_MUC_ST_MEMBERS_ONLY)
            note(c, w, XT_CHAT_LINE_INFO, "%s was removed: the room is members-only now", o->nick);
        else if (e->status & XT_MUC_ST_SHUTDOWN)
            note(c, w, XT_CHAT_LINE_INFO, "%s left: the service shuts down", o->nick);
        else
            note(c, w, XT_CHAT_LINE_INFO, "%s left%s%s", o->nick, o->status ? ": " : "",
                 o->status ? o->status : "");
        break;
    case XT_MUC_OCC_NICK:
        if (o->self)
            set_str(&w->room->nick, o->nick);
        note(c, w, XT_CHAT_LINE_INFO, "%s %s now known as %s",
             o->self ? "you" : (e->u.occupant.old_nick ? e->u.occupant.old_nick : "?"),
             o->self ? "are" : "is", o->nick);
        break;
    case XT_MUC_OCC_ROLE:
        note(c, w, XT_CHAT_LINE_INFO, "%s %s now %s%s", who, o->self ? "are" : "is",
             xt_muc_role_name(o->role), why);
        break;
    case XT_MUC_OCC_AFFILIATION:
        note(c, w, XT_CHAT_LINE_INFO, "%s %s now %s%s", who, o->self ? "are" : "is",
             o->affiliation == XT_MUC_AFFIL_NONE ? "no longer affiliated"
                                                 : xt_muc_affiliation_name(o->affiliation),
             why);
        break;
    default: /* presence: the pane shows it */
        c->dirty = 1;
        break;
    }
}

static void left(xt_chat *c, const xt_muc_event *e)
{
    xt_chat_win *w = room_win(c, e->room, NULL);
    char why[1200];

    if (!w)
        return;
    xt_chat_room *r = w->room;
    r->joined = 0;
    by_reason(why, sizeof why, e->u.left.actor, e->u.left.reason);
    switch (e->u.left.why) {
    case XT_MUC_LEFT_SELF:
        note(c, w, XT_CHAT_LINE_INFO, "you left %s", e->room);
        break;
    case XT_MUC_LEFT_DISCONNECTED:
        /* r->want stays: xt_chat_room_online joins again. */
        note(c, w, XT_CHAT_LINE_INFO, "out of %s: disconnected%s", e->room,
             r->want ? " (joining again once online)" : "");
        return;
    case XT_MUC_LEFT_KICKED:
        note(c, w, XT_CHAT_LINE_ERROR, "you were kicked from %s%s", e->room, why);
        break;
    case XT_MUC_LEFT_BANNED:
        note(c, w, XT_CHAT_LINE_ERROR, "you were banned from %s%s", e->room, why);
        break;
    case XT_MUC_LEFT_DESTROYED:
        note(c, w, XT_CHAT_LINE_ERROR, "%s was destroyed%s%s%s%s", e->room, why,
             e->u.left.alternate ? "; it moved to " : "",
             e->u.left.alternate ? e->u.left.alternate : "",
             e->u.left.alternate ? " (/join it)" : "");
        break;
    case XT_MUC_LEFT_ERROR:
    case XT_MUC_LEFT_SHUTDOWN:
        /* Not the room's decision about us: r->want stays. A self-ping
         * that found us gone (XEP-0410) has the library join again. */
        note(c, w, XT_CHAT_LINE_ERROR, "out of %s (%s)%s%s", e->room,
             xt_muc_left_name(e->u.left.why), why,
             e->u.left.reason && strncmp(e->u.left.reason, "self-ping", 9) == 0 ? "; joining again"
                                                                                : "");
        return;
    default:
        note(c, w, XT_CHAT_LINE_ERROR, "you were removed from %s (%s)%s", e->room,
             xt_muc_left_name(e->u.left.why), why);
        break;
    }
    r->want = 0;
}

void xt_chat_room_event(xt_chat *c, const xt_event *ev)
{
    const xt_muc_event *e = ev->u.muc;
    xt_chat_win *w;

    if (!e || !e->room)
        return;
    switch (ev->type) {
    case XT_EV_MUC_JOINED:
        if (!(w = room_win(c, e->room, NULL)))
            break;
        w->room->joined = 1;
        w->room->want = 1; /* also a join the library made (self-ping) */
        w->room->conflicts = 0;
        if (e->u.joined.nick)
            set_str(&w->room->nick, e->u.joined.nick);
        note(c, w, XT_CHAT_LINE_INFO, "you joined %s as %s (%zu here)%s", e->room,
             e->u.joined.nick ? e->u.joined.nick : "?", xt_muc_occupant_count(c->conn, e->room),
             e->u.joined.created ? "; the room is new: you created it" : "");
        break;
    case XT_EV_MUC_JOIN_FAILED:
        join_failed(c, e);
        break;
    case XT_EV_MUC_OCCUPANT:
        occupant(c, e);
        break;
    case XT_EV_MUC_SUBJECT:
        if (!(w = room_win(c, e->room, NULL)))
            break;
        if (e->u.subject.subject && *e->u.subject.subject)
            note(c, w, XT_CHAT_LINE_INFO, "subject: %s%s%s%s", e->u.subject.subject,
                 e->u.subject.nick ? " (set by " : "", e->u.subject.nick ? e->u.subject.nick : "",
                 e->u.subject.nick ? ")" : "");
        else
            note(c, w, XT_CHAT_LINE_INFO, "no subject");
        break;
    case XT_EV_MUC_LEFT:
        left(c, e);
        break;
    case XT_EV_MUC_INVITE:
        if (e->u.invite.kind == XT_MUC_INVITE_DECLINED)
            note(c, room_win(c, e->room, NULL), XT_CHAT_LINE_INFO,
                 "%s declined your invitation to %s%s%s", e->u.invite.from ? e->u.invite.from : "?",
                 e->room, e->u.invite.reason ? ": " : "",
                 e->u.invite.reason ? e->u.invite.reason : "");
        else
            note(c, NULL, XT_CHAT_LINE_INFO, "%s invites you to %s%s%s (/join %s)",
                 e->u.invite.from ? e->u.invite.from : "?", e->room, e->u.invite.reason ? ": " : "",
                 e->u.invite.reason ? e->u.invite.reason : "", e->room);
        xt_chat_ui_bell(c);
        break;
    case XT_EV_MUC_CONFIG:
        if ((w = room_win(c, e->room, NULL)))
            note(c, w, XT_CHAT_LINE_INFO, "the room's configuration changed");
        break;
    default:
        break;
    }
}

/* --- messages ----------------------------------------------------------------- */

/* A line of a groupchat or private message: "nick: body", or XEP-0245's
 * "* nick action". */
static xt_chat_line *add_msg(xt_chat_win *w, int kind, int64_t ts, const char *nick,
                             const xt_message *m, const char *body)
{
    if (m && m->me && strlen(body) > 4) {
        size_t n = strlen(nick) + strlen(body) + 4;
        char *action = malloc(n);
        xt_chat_line *l = NULL;
        if (action) {
            snprintf(action, n, "* %s %s", nick, body + 4);
            l = xt_chat_win_add(w, kind, ts, NULL, action, 0);
        }
        free(action);
        return l;
    }
    return xt_chat_win_add(w, kind, ts, nick, body, 0);
}

/* Counts an incoming line of window idx as unread (and a mention apart)
 * unless it is in view; a live mention rings wherever it is. */
static void incoming(xt_chat *c, xt_chat_win *w, size_t idx, int mention, int ring)
{
    if (idx != c->cur) {
        w->unread++;
        if (mention)
            w->mentions++;
    }
    if (ring)
        xt_chat_ui_bell(c);
    c->dirty = 1;
}

int xt_chat_room_message(xt_chat *c, const xt_message *m)
{
    size_t idx;
    int64_t ts = m->timestamp_ms ? m->timestamp_ms : xt_chat_now_ms();
    int live = m->timestamp_ms == 0;

    if (!m->room)
        return 0;
    if (m->type && strcmp(m->type, "error") == 0) {
        /* RFC 6120 §8.3: a message the room refused (not in it, no voice). */
        char why[512];
        xt_cli_stanza_error(m->stanza, why, sizeof why);
        note(c, room_win(c, m->room, NULL), XT_CHAT_LINE_ERROR, "%s refused a message: %s", m->room,
             why);
        return 1;
    }
    if (m->type && strcmp(m->type, "groupchat") == 0) {
        xt_chat_win *w = room_win(c, m->room, &idx);
        /* A subject alone is XT_EV_MUC_SUBJECT; chat states are not shown
         * in rooms. */
        if (!w || !m->body || !*m->body)
            return 1;
        if (!m->nick) { /* the room itself speaks (§7.2.8's notices) */
            xt_chat_win_add(w, XT_CHAT_LINE_INFO, ts, NULL, m->body, 0);
            c->dirty = 1;
            return 1;
        }
        /* Ours once: the reflection is the line (the library drops a
         * repeat of it, §7.4 / XEP-0359). */
        xt_chat_line *l =
            add_msg(w, m->from_self ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN, ts, m->nick, m, m->body);
        /* The room's archive id: where scroll-back goes on from. */
        if (l && m->stanza_id && strlen(m->stanza_id) < sizeof l->id)
            snprintf(l->id, sizeof l->id, "%s", m->stanza_id);
        if (m->from_self)
            c->dirty = 1;
        else
            incoming(c, w, idx, m->mention, m->mention && live);
        return 1;
    }
    /* A private message with an occupant (§7.5): its own window, keyed
     * by the occupant JID. */
    if (!m->nick || !m->body || !*m->body)
        return 1;
    int out = m->direction == XT_DIR_OUT;
    size_t n = strlen(m->room) + strlen(m->nick) + 2;
    char *peer = malloc(n);
    if (!peer)
        return 1;
    snprintf(peer, n, "%s/%s", m->room, m->nick);
    xt_chat_win *w = xt_chat_win_open_empty(c, peer, &idx);
    free(peer);
    if (!w)
        return 1;
    w->pm = 1;
    add_msg(w, out ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN, ts, out ? "me" : m->nick, m, m->body);
    if (!out)
        incoming(c, w, idx, 0, 1);
    return 1;
}

int xt_chat_room_send(xt_chat *c, const char *peer, const char *body)
{
    size_t idx;
    xt_chat_win *w = xt_chat_win_find(c, peer, &idx);

    if (!w || (!w->room && !w->pm))
        return 0;
    if (!c->online) {
        note(c, w, XT_CHAT_LINE_ERROR, "not sent: offline (rooms take messages only when in)");
        return 1;
    }
    if (w->room) {
        if (!w->room->joined) {
            note(c, w, XT_CHAT_LINE_ERROR, "not sent: you are not in %s (/join %s)", peer, peer);
            return 1;
        }
        /* The line comes with the room's reflection: only then has the
         * room got it. */
        int e = xt_muc_send(c->conn, peer, body, NULL);
        if (e < 0)
            note(c, w, XT_CHAT_LINE_ERROR, "not sent: %s", xt_strerror(e));
        w->scroll = 0;
        c->dirty = 1;
        return 1;
    }
    /* room@service/nick: the room's JID ends at the first '/'. */
    const char *slash = strchr(peer, '/');
    char *room = slash ? strndup(peer, (size_t)(slash - peer)) : NULL;
    int e = room ? xt_muc_send_private(c->conn, room, slash + 1, body, NULL) : XT_ENOMEM;
    free(room);
    if (e < 0)
        note(c, w, XT_CHAT_LINE_ERROR, "not sent: %s", xt_strerror(e));
    else
        add_msg(w, XT_CHAT_LINE_OUT, xt_chat_now_ms(), "me", NULL, body);
    w->scroll = 0;
    c->dirty = 1;
    return 1;
}

void xt_chat_room_fetch_older(xt_chat *c, xt_chat_win *w, size_t n)
{
    if (w->mam_tag || w->mam_done || !c->online || !c->conn)
        return;
    /* Before the oldest message line with the room's id; none yet: from
     * the newest (the library drops what the window has had live). */
    const char *before = "";
    for (size_t i = 0; i < w->nlines; i++) {
        if ((w->lines[i].kind == XT_CHAT_LINE_IN || w->lines[i].kind == XT_CHAT_LINE_OUT) &&
            w->lines[i].id[0]) {
            before = w->lines[i].id;
            break;
        }
    }
    xt_mam_query q = {.archive = w->peer,
                      .before_id = before,
                      .max_total = (uint32_t)n,
                      .page_size = (uint32_t)n};
    int tag = xt_mam_fetch(c->conn, &q);
    if (tag > 0) {
        w->mam_tag = tag;
        w->mam_at = 0;
    } else {
        w->mam_done = 1;
        note(c, w, XT_CHAT_LINE_INFO, "no older messages: %s",
             tag == XT_EUNSUPPORTED ? "the room keeps no archive" : xt_strerror(tag));
    }
}

void xt_chat_room_closing(xt_chat *c, xt_chat_win *w)
{
    if (!w->room)
        return;
    if (c->rooms.prompt && c->rooms.p_room && strcmp(c->rooms.p_room, w->peer) == 0)
        prompt_end(c);
    if (c->online && xt_muc_room_state(c->conn, w->peer) != XT_MUC_NOT_JOINED)
        (void)xt_muc_leave(c->conn, w->peer, NULL);
}

/* --- commands ------------------------------------------------------------------ */

/* A moderation request's answer (§8, §9): a refusal says the room's
 * condition and text. */
struct admin_req {
    xt_chat *c;
    char what[8];
    char room_nick[]; /* "room\0nick\0" */
};

static void on_admin_reply(xt_conn *conn, int status, const xt_stanza *reply, void *ud)
{
    struct admin_req *q = ud;
    const char *room = q->room_nick, *nick = room + strlen(room) + 1;
    xt_chat_win *w = room_win(q->c, room, NULL);
    char why[512];
    (void)conn;

    if (status == XT_ESTANZA) {
        xt_cli_stanza_error(reply, why, sizeof why);
        note(q->c, w, XT_CHAT_LINE_ERROR, "could not %s %s: the room said %s", q->what, nick, why);
    } else if (status == XT_ETIMEOUT) {
        note(q->c, w, XT_CHAT_LINE_ERROR, "could not %s %s: the room did not answer", q->what,
             nick);
    }
    /* Success shows as the occupant's leave; XT_ECLOSED: the session
     * says so itself. */
    free(q);
}

static struct admin_req *admin_req(xt_chat *c, const char *what, const char *room, const char *nick)
{
    size_t rl = strlen(room) + 1, nl = strlen(nick) + 1;
    struct admin_req *q = malloc(sizeof *q + rl + nl);
    if (q) {
        q->c = c;
        snprintf(q->what, sizeof q->what, "%s", what);
        memcpy(q->room_nick, room, rl);
        memcpy(q->room_nick + rl, nick, nl);
    }
    return q;
}

static void bookmark_done(xt_chat *c, int status, const char *what)
{
    if (status == 0)
        note(c, NULL, XT_CHAT_LINE_INFO, "%s", what);
    else if (status != XT_ECLOSED)
        note(c, NULL, XT_CHAT_LINE_ERROR, "bookmark not changed: %s", xt_strerror(status));
}

static void on_bookmarked(xt_conn *conn, int status, const xt_bookmark_list *list, void *ud)
{
    (void)conn, (void)list;
    bookmark_done(ud, status, "bookmarked: joined at start");
}

static void on_unbookmarked(xt_conn *conn, int status, const xt_bookmark_list *list, void *ud)
{
    (void)conn, (void)list;
    bookmark_done(ud, status, "bookmark removed");
}

/* The current window's room, or NULL with a hint. */
static xt_chat_win *cur_room(xt_chat *c, const char *cmd, int joined)
{
    xt_chat_win *w = c->wins[c->cur];
    if (!w->room) {
        note(c, NULL, XT_CHAT_LINE_ERROR, "/%s works in a room window (/join ROOM first)", cmd);
        return NULL;
    }
    if (joined && (!c->online || !w->room->joined)) {
        note(c, w, XT_CHAT_LINE_ERROR, "/%s: you are not in %s now", cmd, w->peer);
        return NULL;
    }
    return w;
}

static void cmd_join(xt_chat *c, const char *arg)
{
    const char *why = NULL;
    size_t idx;

    if (!*arg) {
        note(c, NULL, XT_CHAT_LINE_ERROR, "usage: /join ROOM@SERVICE[/NICK]");
        return;
    }
    char *a = strdup(arg);
    if (!a)
        return;
    char *slash = strchr(a, '/');
    const char *nick = slash && slash[1] ? slash + 1 : NULL;
    if (slash)
        *slash = 0;
    char *room = strchr(a, '@') ? xt_cli_bare(a, &why) : NULL;
    if (!room) {
        note(c, NULL, XT_CHAT_LINE_ERROR,
             "'%s' is not a room: give its address, like room@conference.example.org%s%s", a,
             why ? ": " : "", why ? why : "");
        free(a);
        return;
    }
    xt_chat_win *w = xt_chat_win_find(c, room, NULL);
    if (w && !w->room) {
        note(c, NULL, XT_CHAT_LINE_ERROR, "%s is open as a conversation: /close it first", room);
    } else if (!c->online) {
        note(c, NULL, XT_CHAT_LINE_ERROR, "not connected: try again once online");
    } else if ((w = open_room_win(c, room, &idx))) {
        xt_chat_switch(c, idx);
        xt_chat_room *r = w->room;
        if (r->joined && nick && r->nick && strcmp(nick, r->nick) != 0) {
            int e = xt_muc_set_nick(c->conn, room, nick); /* §7.6 */
            if (e < 0)
                note(c, w, XT_CHAT_LINE_ERROR, "nick not changed: %s", xt_strerror(e));
        } else if (r->joined) {
            note(c, w, XT_CHAT_LINE_INFO, "you are in %s as %s", room, r->nick);
        } else {
            /* No nick given: the account's local part. */
            char local[1024];
            default_nick(c, local, sizeof local);
            set_str(&r->nick, nick ? nick : local);
            r->conflicts = 0;
            if (r->nick)
                join(c, w, room);
        }
    }
    free(room);
    free(a);
}

/* "/occupants": one line per role, sorted as the pane sorts them. */
static void list_occupants(xt_chat *c, xt_chat_win *w)
{
    size_t n = 0;
    const xt_muc_occupant **o = xt_chat_room_sorted(c, w->peer, &n);
    note(c, w, XT_CHAT_LINE_INFO, "%zu in %s", n, w->peer);
    for (size_t i = 0; i < n;) {
        char buf[2048];
        size_t at = 0, j = i;
        xt_muc_role role = o[i]->role;
        at += (size_t)snprintf(buf, sizeof buf, "%ss:", xt_muc_role_name(role));
        for (; j < n && o[j]->role == role; j++) {
            /* The affiliation's marker before the nick (the role is the
             * line's). */
            char mark[3];
            xt_chat_occ_marker(xt_muc_role_name(o[j]->role),
                               xt_muc_affiliation_name(o[j]->affiliation), mark);
            const char *aff = mark[1] != ' ' ? mark + 1 : "";
            if (at + strlen(o[j]->nick) + 8 < sizeof buf)
                at += (size_t)snprintf(buf + at, sizeof buf - at, " %s%s%s", aff, o[j]->nick,
                                       o[j]->self ? " (you)" : "");
        }
        note(c, w, XT_CHAT_LINE_INFO, "%s", buf);
        i = j;
    }
    free(o);
}

int xt_chat_room_command(xt_chat *c, xt_chat_cmd_id id, const char *a1, const char *rest)
{
    xt_chat_win *w = NULL;
    const char *reason = *rest ? rest : NULL;
    int e = 0;

    switch (id) {
    case XT_CHAT_CMD_JOIN:
        cmd_join(c, a1);
        return 1;
    case XT_CHAT_CMD_PART:
        if (!(w = cur_room(c, "part", 0)))
            return 1;
        w->room->want = 0;
        if (c->online && xt_muc_room_state(c->conn, w->peer) != XT_MUC_NOT_JOINED) {
            /* The whole text is the reason. */
            char why[2048];
            snprintf(why, sizeof why, "%s%s%s", a1, *rest ? " " : "", rest);
            e = xt_muc_leave(c->conn, w->peer, *why ? why : NULL);
        } else {
            note(c, w, XT_CHAT_LINE_INFO, "you are not in %s", w->peer);
        }
        break;
    case XT_CHAT_CMD_NICK:
        if (!(w = cur_room(c, "nick", 1)))
            return 1;
        if (!*a1)
            note(c, w, XT_CHAT_LINE_INFO, "your nick in %s: %s", w->peer, w->room->nick);
        else
            e = xt_muc_set_nick(c->conn, w->peer, a1);
        break;
    case XT_CHAT_CMD_TOPIC: {
        if (!(w = cur_room(c, "topic", 1)))
            return 1;
        if (!*a1) {
            const char *s = xt_muc_subject(c->conn, w->peer);
            note(c, w, XT_CHAT_LINE_INFO, "subject: %s", s && *s ? s : "(none)");
            return 1;
        }
        char text[4096];
        snprintf(text, sizeof text, "%s%s%s", a1, *rest ? " " : "", rest);
        e = xt_muc_set_subject(c->conn, w->peer, text);
        break;
    }
    case XT_CHAT_CMD_INVITE:
        if (!(w = cur_room(c, "invite", 1)))
            return 1;
        if (!*a1) {
            note(c, w, XT_CHAT_LINE_ERROR, "usage: /invite JID [REASON]");
            return 1;
        }
        /* XEP-0249: straight to the invitee, with the password we know
         * (XEP-0479 asks for direct invitations). */
        if ((e = xt_muc_invite_direct(c->conn, w->peer, a1, reason, w->room->password)) == 0)
            note(c, w, XT_CHAT_LINE_INFO, "invited %s to %s", a1, w->peer);
        break;
    case XT_CHAT_CMD_KICK:
    case XT_CHAT_CMD_BAN: {
        int kick = id == XT_CHAT_CMD_KICK;
        if (!(w = cur_room(c, kick ? "kick" : "ban", 1)))
            return 1;
        if (!*a1) {
            note(c, w, XT_CHAT_LINE_ERROR, "usage: /%s NICK [REASON]", kick ? "kick" : "ban");
            return 1;
        }
        char *jid = NULL;
        if (!kick) {
            /* A ban is on the real JID (§9.1): the occupant's, when the
             * room shows it to us, or a JID given as such. */
            const xt_muc_occupant *o = xt_muc_occupant_find(c->conn, w->peer, a1);
            jid = o && o->real_jid        ? xt_cli_bare(o->real_jid, NULL)
                  : !o && strchr(a1, '@') ? xt_cli_bare(a1, NULL)
                                          : NULL;
            if (!jid) {
                note(c, w, XT_CHAT_LINE_ERROR,
                     o ? "cannot ban %s: the room does not show you its address"
                       : "no one named %s here (give a nick or an address)",
                     a1);
                return 1;
            }
        }
        struct admin_req *q = admin_req(c, kick ? "kick" : "ban", w->peer, a1);
        if (!q)
            e = XT_ENOMEM;
        else if (kick)
            e = xt_muc_kick(c->conn, w->peer, a1, reason, on_admin_reply, q);
        else
            e = xt_muc_ban(c->conn, w->peer, jid, reason, on_admin_reply, q);
        if (e < 0)
            free(q);
        free(jid);
        break;
    }
    case XT_CHAT_CMD_OCCUPANTS:
        if (strcmp(a1, "on") == 0 || strcmp(a1, "off") == 0) {
            c->rooms.pane = strcmp(a1, "on") == 0;
            c->dirty = 1;
            return 1;
        }
        if ((w = cur_room(c, "occupants", 1)))
            list_occupants(c, w);
        return 1;
    case XT_CHAT_CMD_BOOKMARK: {
        if (!(w = cur_room(c, "bookmark", 0)))
            return 1;
        int rm = strcmp(a1, "remove") == 0;
        if (!c->online) {
            note(c, w, XT_CHAT_LINE_ERROR, "/bookmark: not connected");
            return 1;
        }
        /* Joined at start, with our nick and the password we know. */
        xt_bookmark b = {
            .room = w->peer, .nick = w->room->nick, .password = w->room->password, .autojoin = 1};
        e = rm ? xt_bookmarks_remove(c->conn, w->peer, on_unbookmarked, c)
               : xt_bookmarks_set(c->conn, &b, on_bookmarked, c);
        break;
    }
    default:
        return 0;
    }
    if (e < 0)
        note(c, w, XT_CHAT_LINE_ERROR, "failed: %s", xt_strerror(e));
    return 1;
}
