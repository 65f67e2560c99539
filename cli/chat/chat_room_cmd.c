/*
 * The room commands of `xtalk chat` (chat_room.h): /join /part /nick
 * /topic /invite /kick /ban /occupants /bookmark. Each acts through the
 * library (xtalk/muc.h, xtalk/bookmarks.h); what the room answers comes
 * back as events (chat_room.c) or, for a refusal, as a line here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "chat_room.h"
#include "chat_room_int.h"
#include "chat_room_text.h"
#include "../outbox.h"
#include "../room_sync.h"
#include "xtalk/bookmarks.h"

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
    xt_chat_win *w = xt_chat_room_win(q->c, room, NULL);
    char why[512];
    (void)conn;

    if (status == XT_ESTANZA) {
        xt_cli_stanza_error(reply, why, sizeof why);
        xt_chat_room_note(q->c, w, XT_CHAT_LINE_ERROR, "could not %s %s: the room said %s", q->what,
                          nick, why);
    } else if (status == XT_ETIMEOUT) {
        xt_chat_room_note(q->c, w, XT_CHAT_LINE_ERROR, "could not %s %s: the room did not answer",
                          q->what, nick);
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
        xt_chat_room_note(c, NULL, XT_CHAT_LINE_INFO, "%s", what);
    else if (status != XT_ECLOSED)
        xt_chat_room_note(c, NULL, XT_CHAT_LINE_ERROR, "bookmark not changed: %s",
                          xt_strerror(status));
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
        xt_chat_room_note(c, NULL, XT_CHAT_LINE_ERROR,
                          "/%s works in a room window (/join ROOM first)", cmd);
        return NULL;
    }
    if (joined && (!c->online || !w->room->joined)) {
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "/%s: you are not in %s now", cmd, w->peer);
        return NULL;
    }
    return w;
}

static void cmd_join(xt_chat *c, const char *arg)
{
    const char *why = NULL;
    size_t idx;

    if (!*arg) {
        xt_chat_room_note(c, NULL, XT_CHAT_LINE_ERROR, "usage: /join ROOM@SERVICE[/NICK]");
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
        xt_chat_room_note(
            c, NULL, XT_CHAT_LINE_ERROR,
            "'%s' is not a room: give its address, like room@conference.example.org%s%s", a,
            why ? ": " : "", why ? why : "");
        free(a);
        return;
    }
    xt_chat_win *w = xt_chat_win_find(c, room, NULL);
    if (w && !w->room) {
        xt_chat_room_note(c, NULL, XT_CHAT_LINE_ERROR,
                          "%s is open as a conversation: /close it first", room);
    } else if (!c->online) {
        xt_chat_room_note(c, NULL, XT_CHAT_LINE_ERROR, "not connected: try again once online");
    } else if ((w = xt_chat_room_open_win(c, room, &idx))) {
        xt_chat_switch(c, idx);
        xt_chat_room *r = w->room;
        if (r->joined && nick && r->nick && strcmp(nick, r->nick) != 0) {
            int e = xt_muc_set_nick(c->conn, room, nick); /* §7.6 */
            if (e < 0)
                xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "nick not changed: %s", xt_strerror(e));
        } else if (r->joined) {
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "you are in %s as %s", room, r->nick);
        } else {
            /* No nick given: the account's local part. */
            char local[1024];
            xt_chat_room_default_nick(c, local, sizeof local);
            xt_chat_room_set_str(&r->nick, nick ? nick : local);
            r->conflicts = 0;
            if (r->nick)
                xt_chat_room_join(c, w, room);
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
    xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%zu in %s", n, w->peer);
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
        xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "%s", buf);
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
        xt_cli_room_sync_forget(c->rooms.sync, w->peer); /* no catch-up any more */
        if (c->online && xt_muc_room_state(c->conn, w->peer) != XT_MUC_NOT_JOINED) {
            /* The whole text is the reason. */
            char why[2048];
            snprintf(why, sizeof why, "%s%s%s", a1, *rest ? " " : "", rest);
            e = xt_muc_leave(c->conn, w->peer, *why ? why : NULL);
        } else {
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "you are not in %s", w->peer);
        }
        break;
    case XT_CHAT_CMD_NICK:
        if (!(w = cur_room(c, "nick", 1)))
            return 1;
        if (!*a1)
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "your nick in %s: %s", w->peer,
                              w->room->nick);
        else
            e = xt_muc_set_nick(c->conn, w->peer, a1);
        break;
    case XT_CHAT_CMD_TOPIC: {
        if (!(w = cur_room(c, "topic", 1)))
            return 1;
        if (!*a1) {
            const char *s = xt_muc_subject(c->conn, w->peer);
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "subject: %s", s && *s ? s : "(none)");
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
            xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "usage: /invite JID [REASON]");
            return 1;
        }
        /* XEP-0249: straight to the invitee, with the password we know
         * (XEP-0479 asks for direct invitations). */
        if ((e = xt_muc_invite_direct(c->conn, w->peer, a1, reason, w->room->password)) == 0)
            xt_chat_room_note(c, w, XT_CHAT_LINE_INFO, "invited %s to %s", a1, w->peer);
        break;
    case XT_CHAT_CMD_KICK:
    case XT_CHAT_CMD_BAN: {
        int kick = id == XT_CHAT_CMD_KICK;
        if (!(w = cur_room(c, kick ? "kick" : "ban", 1)))
            return 1;
        if (!*a1) {
            xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "usage: /%s NICK [REASON]",
                              kick ? "kick" : "ban");
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
                xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR,
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
            xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "/bookmark: not connected");
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
        xt_chat_room_note(c, w, XT_CHAT_LINE_ERROR, "failed: %s", xt_strerror(e));
    return 1;
}
