/*
 * Group chat in `xtalk chat` (chat_room.h): joining, the room's events
 * as status lines, messages (the commands: chat_room_cmd.c). Everything about the
 * room itself (occupants, subject, our nick, the reflection of our own
 * messages) is the library's (xtalk/muc.h); a window keeps only what the
 * user asked for: the nick, the password, whether to be in the room.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
#include "chat_room.h"
#include "chat_room_int.h"
#include "chat_room_text.h"
#include "../outbox.h"
#include "../password.h"
#include "../room_sync.h"
#include "xtalk/bookmarks.h"
#include "xtalk/jid.h"

/* How many lines a window opening shows from the store; the history a
 * room without an archive is asked for at a join (§7.2.13). */
#define STORED_PAGE 50
#define NO_ARCHIVE_HISTORY 20

void xt_chat_room_set_str(char **dst, const char *s)
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
    xt_chat_room_set_str(&r->password, NULL);
    free(r->nick);
    free(r);
}

void xt_chat_rooms_free(xt_chat *c)
{
    xt_chat_room_set_str(&c->rooms.p_room, NULL);
    xt_chat_room_set_str(&c->rooms.p_nick, NULL);
    free(c->rooms.cyc_prefix);
    free(c->rooms.cyc_ins);
    c->rooms.cyc_prefix = c->rooms.cyc_ins = NULL;
}

/* --- notices ------------------------------------------------------------------ */

/* A status line in window w; an error is repeated on the status bar
 * (a kick in a room behind another window), the comings and goings of a
 * busy room are not. */
void xt_chat_room_note(xt_chat *c, xt_chat_win *w, int kind, const char *fmt, ...)
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

xt_chat_win *xt_chat_room_win(xt_chat *c, const char *room, size_t *idx)
{
    xt_chat_win *w = room ? xt_chat_win_find(c, room, idx) : NULL;
    return w && w->room ? w : NULL;
}

/* The room window of room, opened (with its state) when there is none.
 * A new one shows the room's recent lines from the store; the join's
 * catch-up (room_sync.h) brings what came after them. */
xt_chat_win *xt_chat_room_open_win(xt_chat *c, const char *room, size_t *idx)
{
    xt_chat_win *w = xt_chat_win_open_empty(c, room, idx);
    if (w && !w->room && (w->room = calloc(1, sizeof *w->room)))
        (void)xt_chat_win_load_stored(c, w, STORED_PAGE);
    return w && w->room ? w : NULL;
}

/* " (reason)", " by actor", both or neither, for a status line. */
static void by_reason(char *buf, size_t len, const char *actor, const char *reason)
{
    snprintf(buf, len, "%s%s%s%s", actor ? " by " : "", actor ? actor : "",
             reason && *reason ? ": " : "", reason && *reason ? reason : "");
}

/* --- joining ------------------------------------------------------------------ */

/* The XEP-0082 UTC time just after the window's newest message line,
 * in ms (0 when it has none) and in buf. */
static int64_t newest_stamp(const xt_chat_win *w, char *buf, size_t len)
{
    for (size_t i = w->nlines; i-- > 0;) {
        const xt_chat_line *l = &w->lines[i];
        if ((l->kind != XT_CHAT_LINE_IN && l->kind != XT_CHAT_LINE_OUT) || l->ts_ms <= 0)
            continue;
        int64_t ms = l->ts_ms + 1;
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        if (!gmtime_r(&secs, &tm))
            return 0;
        size_t k = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
        if (k == 0 || snprintf(buf + k, len - k, ".%03dZ", (int)(ms % 1000)) >= (int)(len - k))
            return 0;
        return ms;
    }
    return 0;
}

int xt_chat_room_join(xt_chat *c, xt_chat_win *w, const char *room)
{
    xt_chat_room *r = w->room;
    /* The one join listen makes too (room_sync.h): a room with an archive
     * (its disco#info) is joined with no history and caught up from it
     * after the last room stanza-id seen (XEP-0313 §6), exactly once, in
     * order; one without is asked for some history for context
     * (§7.2.13), bounded; a rejoin's repeats are the library's to drop
     * (the room's stanza-ids, XEP-0359). */
    xt_muc_join_opts o = {.nick = r->nick,
                          .password = r->password,
                          .history = XT_MUC_HISTORY_LIMITS,
                          .max_stanzas = NO_ARCHIVE_HISTORY};
    /* Such a room's history has no ids to tell its repeats of what the
     * window shows (the store's lines, an earlier session's) by: only
     * what came after the newest of them (§7.2.13's since; our clock
     * against the room's: a message is received after its stamp). A room
     * that reads since to the whole second (Prosody) repeats that
     * second's: xt_chat_room_message drops those stamped before it. */
    char since[40];
    if ((r->since_ms = newest_stamp(w, since, sizeof since)) > 0)
        o.since = since;
    r->want = 1;
    r->joined = 0;
    int e = xt_cli_room_sync_join(c->rooms.sync, c->conn, room, &o);
    if (e < 0)
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "cannot join %s as %s: %s", room, r->nick,
                          xt_strerror(e));
    else
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "joining %s as %s", room, r->nick);
    return e;
}

static void prompt(xt_chat *c, int what, const char *room, const char *nick)
{
    c->rooms.prompt = what;
    xt_chat_room_set_str(&c->rooms.p_room, room);
    xt_chat_room_set_str(&c->rooms.p_nick, nick);
    xt_chat_edit_clear(&c->edit);
}

static void prompt_end(xt_chat *c)
{
    c->rooms.prompt = XT_CHAT_PROMPT_NONE;
    xt_chat_room_set_str(&c->rooms.p_room, NULL);
    xt_chat_room_set_str(&c->rooms.p_nick, NULL);
}

int xt_chat_room_prompt_cancel(xt_chat *c)
{
    if (!c->rooms.prompt)
        return 0;
    xt_chat_win *w = xt_chat_room_win(c, c->rooms.p_room, NULL);
    if (w) {
        w->room->want = 0;
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "not joining %s", c->rooms.p_room);
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
    xt_chat_win *w = xt_chat_room_win(c, c->rooms.p_room, NULL);
    /* Whatever was typed, a password leaves no copy behind. */
    if (c->edit.buf)
        xt_cli_wipe(c->edit.buf, c->edit.len * sizeof *c->edit.buf);
    xt_chat_edit_clear(&c->edit);
    if (!w || !c->online) {
        if (what == XT_CHAT_PROMPT_PASSWORD)
            xt_cli_wipe(line, strlen(line));
        prompt_end(c);
        xt_chat_room_note(c, NULL, XT_CHAT_LINE_ERROR, "not joined: %s",
                          c->online ? "no room" : "offline");
        return 1;
    }
    if (what == XT_CHAT_PROMPT_PASSWORD) {
        xt_chat_room_set_str(&w->room->password, line);
        xt_cli_wipe(line, strlen(line));
        xt_chat_room_set_str(&w->room->nick, c->rooms.p_nick);
    } else {
        xt_chat_room_set_str(&w->room->nick, line);
    }
    char *room = strdup(c->rooms.p_room);
    prompt_end(c);
    if (room && w->room->nick)
        xt_chat_room_join(c, w, room);
    free(room);
    return 1;
}

/* The join was refused. A nick conflict retries once with nick_, then
 * asks for another; a password room asks for its password (§7.2.6,
 * not-authorized); anything else says why, as the library words it. */
static void join_failed(xt_chat *c, const xt_muc_event *e)
{
    size_t idx;
    xt_chat_win *w = xt_chat_room_win(c, e->room, &idx);
    const char *cond = e->u.join_failed.condition ? e->u.join_failed.condition : "";
    const char *msg = e->u.join_failed.message ? e->u.join_failed.message : cond;

    if (!w)
        return;
    xt_chat_room *r = w->room;
    if (e->u.join_failed.nick_change) {
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "nick not changed: %s", msg);
        return;
    }
    r->joined = 0;
    if (strcmp(cond, "conflict") == 0) {
        const char *nick = e->u.join_failed.nick ? e->u.join_failed.nick : r->nick;
        if (r->conflicts++ == 0 && nick && strlen(nick) < 1000) {
            char next[1024];
            snprintf(next, sizeof next, "%s_", nick);
            /* Short: the window is narrow beside two panes. */
            xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "nick '%s' is taken here; trying '%s'",
                              nick, next);
            xt_chat_room_set_str(&r->nick, next);
            xt_chat_room_join(c, w, e->room);
            return;
        }
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR,
                          "nick '%s' is taken too: type another (Esc: do not join)",
                          nick ? nick : "?");
        prompt(c, XT_CHAT_PROMPT_NICK, e->room, NULL);
        xt_chat_switch(c, idx);
        return;
    }
    if (strcmp(cond, "not-authorized") == 0) {
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "%s: type it (not shown; Esc: do not join)",
                          r->password ? "that password was refused" : "the room needs a password");
        xt_chat_room_set_str(&r->password, NULL);
        prompt(c, XT_CHAT_PROMPT_PASSWORD, e->room, r->nick);
        xt_chat_switch(c, idx);
        return;
    }
    r->want = 0;
    xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "not joined: %s", msg);
}

/* Our nick where none is given: the account's local part. */
void xt_chat_room_default_nick(const xt_chat *c, char *buf, size_t len)
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
    xt_chat_win *w = xt_chat_room_open_win(c, room, &idx);
    if (!w || w->room->want)
        return;
    xt_chat_room_set_str(&w->room->nick, nick);
    xt_chat_room_set_str(&w->room->password, password);
    w->room->conflicts = 0;
    if (w->room->nick)
        xt_chat_room_join(c, w, room);
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
    xt_chat_room_default_nick(c, local, sizeof local);
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
            xt_chat_room_join(c, w, w->peer);
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
    xt_chat_win *w = xt_chat_room_win(c, e->room, NULL);
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
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s joined", o->nick);
        break;
    case XT_MUC_OCC_LEAVE:
        if (e->status & XT_MUC_ST_KICKED)
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s was kicked%s", o->nick, why);
        else if (e->status & XT_MUC_ST_BANNED)
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s was banned%s", o->nick, why);
        else if (e->status & XT_MUC_ST_AFFIL_REMOVED)
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s was removed: no longer a member%s",
                              o->nick, why);
        else if (e->status & XT_MUC_ST_MEMBERS_ONLY)
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO,
                              "%s was removed: the room is members-only now", o->nick);
        else if (e->status & XT_MUC_ST_SHUTDOWN)
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s left: the service shuts down", o->nick);
        else
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s left%s%s", o->nick,
                              o->status ? ": " : "", o->status ? o->status : "");
        break;
    case XT_MUC_OCC_NICK:
        if (o->self)
            xt_chat_room_set_str(&w->room->nick, o->nick);
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s %s now known as %s",
                          o->self ? "you" : (e->u.occupant.old_nick ? e->u.occupant.old_nick : "?"),
                          o->self ? "are" : "is", o->nick);
        break;
    case XT_MUC_OCC_ROLE:
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s %s now %s%s", who, o->self ? "are" : "is",
                          xt_muc_role_name(o->role), why);
        break;
    case XT_MUC_OCC_AFFILIATION:
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s %s now %s%s", who, o->self ? "are" : "is",
                          o->affiliation == XT_MUC_AFFIL_NONE
                              ? "no longer affiliated"
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
    xt_chat_win *w = xt_chat_room_win(c, e->room, NULL);
    char why[1200];

    if (!w)
        return;
    xt_chat_room *r = w->room;
    r->joined = 0;
    by_reason(why, sizeof why, e->u.left.actor, e->u.left.reason);
    switch (e->u.left.why) {
    case XT_MUC_LEFT_SELF:
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "you left %s", e->room);
        break;
    case XT_MUC_LEFT_DISCONNECTED:
        /* r->want stays: xt_chat_room_online joins again. */
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "out of %s: disconnected%s", e->room,
                          r->want ? " (joining again once online)" : "");
        return;
    case XT_MUC_LEFT_KICKED:
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "you were kicked from %s%s", e->room, why);
        break;
    case XT_MUC_LEFT_BANNED:
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "you were banned from %s%s", e->room, why);
        break;
    case XT_MUC_LEFT_DESTROYED:
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "%s was destroyed%s%s%s%s", e->room, why,
                          e->u.left.alternate ? "; it moved to " : "",
                          e->u.left.alternate ? e->u.left.alternate : "",
                          e->u.left.alternate ? " (/join it)" : "");
        break;
    case XT_MUC_LEFT_ERROR:
    case XT_MUC_LEFT_SHUTDOWN:
        /* Not the room's decision about us: r->want stays. A self-ping
         * that found us gone (XEP-0410) has the library join again. */
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "out of %s (%s)%s%s", e->room,
                          xt_muc_left_name(e->u.left.why), why,
                          e->u.left.reason && strncmp(e->u.left.reason, "self-ping", 9) == 0
                              ? "; joining again"
                              : "");
        return;
    default:
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "you were removed from %s (%s)%s", e->room,
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
        if (!(w = xt_chat_room_win(c, e->room, NULL)))
            break;
        w->room->joined = 1;
        w->room->want = 1; /* also a join the library made (self-ping) */
        w->room->conflicts = 0;
        w->room->caught = 0; /* its catch-up starts (room_sync.h) */
        if (e->u.joined.nick)
            xt_chat_room_set_str(&w->room->nick, e->u.joined.nick);
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "you joined %s as %s (%zu here)%s", e->room,
                          e->u.joined.nick ? e->u.joined.nick : "?",
                          xt_muc_occupant_count(c->conn, e->room),
                          e->u.joined.created ? "; the room is new: you created it" : "");
        break;
    case XT_EV_MUC_JOIN_FAILED:
        join_failed(c, e);
        break;
    case XT_EV_MUC_OCCUPANT:
        occupant(c, e);
        break;
    case XT_EV_MUC_SUBJECT:
        if (!(w = xt_chat_room_win(c, e->room, NULL)))
            break;
        if (e->u.subject.subject && *e->u.subject.subject)
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "subject: %s%s%s%s", e->u.subject.subject,
                              e->u.subject.nick ? " (set by " : "",
                              e->u.subject.nick ? e->u.subject.nick : "",
                              e->u.subject.nick ? ")" : "");
        else
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "no subject");
        break;
    case XT_EV_MUC_LEFT:
        left(c, e);
        break;
    case XT_EV_MUC_INVITE:
        if (e->u.invite.kind == XT_MUC_INVITE_DECLINED)
            xt_chat_room_note(c, xt_chat_room_win(c, e->room, NULL), XT_CHAT_LINE_INFO,
                              "%s declined your invitation to %s%s%s",
                              e->u.invite.from ? e->u.invite.from : "?", e->room,
                              e->u.invite.reason ? ": " : "",
                              e->u.invite.reason ? e->u.invite.reason : "");
        else
            xt_chat_room_note(c, NULL, XT_CHAT_LINE_INFO, "%s invites you to %s%s%s (/join %s)",
                              e->u.invite.from ? e->u.invite.from : "?", e->room,
                              e->u.invite.reason ? ": " : "",
                              e->u.invite.reason ? e->u.invite.reason : "", e->room);
        xt_chat_ui_bell(c);
        break;
    case XT_EV_MUC_CONFIG:
        if ((w = xt_chat_room_win(c, e->room, NULL)))
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "the room's configuration changed");
        break;
    default:
        break;
    }
}

/* --- messages ----------------------------------------------------------------- */

/* A line of a groupchat or private message: "nick: body", or XEP-0245's
 * "* nick action". */
static xt_chat_line *add_msg(xt_chat_win *w, int kind, int64_t ts, const char *nick,
                             const xt_message *m, const char *body, int64_t hist_id)
{
    if (m && m->me && strlen(body) > 4) {
        size_t n = strlen(nick) + strlen(body) + 4;
        char *action = malloc(n);
        xt_chat_line *l = NULL;
        if (action) {
            snprintf(action, n, "* %s %s", nick, body + 4);
            l = xt_chat_win_add(w, kind, ts, NULL, action, hist_id);
        }
        free(action);
        return l;
    }
    return xt_chat_win_add(w, kind, ts, nick, body, hist_id);
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

/* Whether one of the window's newest lines has the room's stanza-id id.
 * A catch-up starts after the position room_sync.h kept, which a message
 * that came live while the previous catch-up's last page was on its way
 * did not move: that one is in the store, shown, and fetched again; a
 * room without an archive repeats in its history what the store has. */
static int shown_recently(const xt_chat_win *w, const char *id)
{
    size_t n = 0;
    for (size_t i = w->nlines; id && i-- > 0 && n < 200;) {
        if (w->lines[i].kind != XT_CHAT_LINE_IN && w->lines[i].kind != XT_CHAT_LINE_OUT)
            continue;
        n++;
        if (strcmp(w->lines[i].id, id) == 0)
            return 1;
    }
    return 0;
}

/* Whether the window shows a message line (not only notices). */
static int has_messages(const xt_chat_win *w)
{
    for (size_t i = 0; i < w->nlines; i++)
        if (w->lines[i].kind == XT_CHAT_LINE_IN || w->lines[i].kind == XT_CHAT_LINE_OUT)
            return 1;
    return 0;
}

void xt_chat_room_sync_note(const char *room, const char *text, void *ud)
{
    xt_chat *c = ud;
    xt_chat_room_note(c, xt_chat_room_win(c, room, NULL), XT_CHAT_LINE_ERROR, "%s", text);
}

void xt_chat_room_caught_up(xt_chat *c, const char *room, const xt_archive_event *a)
{
    xt_chat_win *w = xt_chat_room_win(c, room, NULL);
    if (!w || !a->done)
        return;
    if (a->status)
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "the room's archive could not be read: %s",
                          xt_strerror(a->status));
    else if (w->room->caught)
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "caught up: %zu from the room's archive",
                          w->room->caught);
    else
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "caught up: nothing new in the room");
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
        xt_chat_room_note(c, xt_chat_room_win(c, m->room, NULL), XT_CHAT_LINE_ERROR,
                          "%s refused a message: %s", m->room, why);
        return 1;
    }
    if (m->type && strcmp(m->type, "groupchat") == 0) {
        xt_chat_win *w = xt_chat_room_win(c, m->room, &idx);
        /* A subject alone is XT_EV_MUC_SUBJECT; chat states are not shown
         * in rooms. */
        if (!w || !m->body || !*m->body)
            return 1;
        if (!m->nick) { /* the room itself speaks (§7.2.8's notices) */
            xt_chat_win_add(w, XT_CHAT_LINE_INFO, ts, NULL, m->body, 0);
            c->dirty = 1;
            return 1;
        }
        /* A catch-up's lines (room_sync.h) after a marker, once per join,
         * when the window shows lines from before. What the window has
         * already (from the store: an earlier run saw it) is not shown
         * again, be it from the archive or the room's history (delayed,
         * XEP-0203) of a room without one. */
        int caught = m->source == XT_SRC_ARCHIVE;
        if (!live && shown_recently(w, m->stanza_id))
            return 1;
        if (!live && !caught && w->room->since_ms && m->timestamp_ms < w->room->since_ms)
            return 1; /* history from before `since` (xt_chat_room_join) */
        if (caught && w->room->caught++ == 0 && has_messages(w))
            xt_chat_win_add(w, XT_CHAT_LINE_INFO, ts, NULL, "-- while you were away --", 0);
        /* Kept (chat_history.h): reopening the window shows it, and
         * scroll-back reads the store before the room's archive. Only
         * the room's own stanza-id says where it is in that archive. */
        char key[3200];
        const char *sid = m->stanza_id && m->stanza_id_by &&
                                  xt_jid_str_bare_equal(m->stanza_id_by, m->room)
                              ? m->stanza_id
                              : NULL;
        int64_t hid = xt_chat_hist_room_key(m->room, key, sizeof key) == 0
                          ? xt_chat_hist_add(c->hist, key, m->from ? m->from : m->room, m->body,
                                             sid, m->from_self, ts)
                          : 0;
        /* Ours once: the reflection is the line (the library drops a
         * repeat of it, §7.4 / XEP-0359). */
        xt_chat_line *l = add_msg(w, m->from_self ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN, ts,
                                  m->nick, m, m->body, hid);
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
    add_msg(w, out ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN, ts, out ? "me" : m->nick, m, m->body, 0);
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
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR,
                          "not sent: offline (rooms take messages only when in)");
        return 1;
    }
    if (w->room) {
        if (!w->room->joined) {
            xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "not sent: you are not in %s (/join %s)",
                              peer, peer);
            return 1;
        }
        /* The line comes with the room's reflection: only then has the
         * room got it. */
        int e = xt_muc_send(c->conn, peer, body, NULL);
        if (e < 0)
            xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "not sent: %s", xt_strerror(e));
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
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "not sent: %s", xt_strerror(e));
    else
        add_msg(w, XT_CHAT_LINE_OUT, xt_chat_now_ms(), "me", NULL, body, 0);
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
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "no older messages: %s",
                          tag == XT_EUNSUPPORTED ? "the room keeps no archive" : xt_strerror(tag));
    }
}

void xt_chat_room_closing(xt_chat *c, xt_chat_win *w)
{
    if (!w->room)
        return;
    if (c->rooms.prompt && c->rooms.p_room && strcmp(c->rooms.p_room, w->peer) == 0)
        prompt_end(c);
    xt_cli_room_sync_forget(c->rooms.sync, w->peer);
    if (c->online && xt_muc_room_state(c->conn, w->peer) != XT_MUC_NOT_JOINED)
        (void)xt_muc_leave(c->conn, w->peer, NULL);
}
