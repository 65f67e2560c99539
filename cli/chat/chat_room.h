/*
 * chat_room.h -- group chat in `xtalk chat` (issue 16): room windows on
 * the library's room API (xtalk/muc.h). A room window's peer is the
 * room's bare JID; a private conversation with an occupant is a window
 * of its own whose peer is the occupant JID (room@service/nick).
 *
 *   chat_room.c     joining (nick conflicts, passwords, bookmarks' autojoin;
 *                   the archive catch-up is room_sync.h's, shared with
 *                   listen), the room's events as status lines, groupchat
 *                   and private messages (room lines kept in the store),
 *                   scroll-back from the store then the room's archive,
 *                   rejoining after a new session
 *   chat_room_cmd.c the room commands (/join /part /nick /topic /invite
 *                   /kick /ban /occupants /bookmark)
 *   chat_room_ui.c  the occupant pane, the title with the subject, Tab's
 *                   nick completion, the prompts' input line
 *   chat_room_text.c  their pure parts (unit-tested)
 *
 * Our own groupchat messages are shown once, from the room's reflection
 * (XEP-0045 §7.4; the library flags it from_self): what the room did not
 * reflect, the room does not have.
 */
#ifndef XT_CLI_CHAT_ROOM_H
#define XT_CLI_CHAT_ROOM_H

#include <stddef.h>

#include "chat.h"
#include "chat_cmd.h"
#include "xtalk/muc.h"

/* What the input line asks for instead of a message (xt_chat.rooms.prompt). */
enum {
    XT_CHAT_PROMPT_NONE = 0,
    XT_CHAT_PROMPT_PASSWORD, /* a room's password: never shown, never in the input history */
    XT_CHAT_PROMPT_NICK,     /* another nick: the one asked for is taken */
};

typedef struct xt_chat_room xt_chat_room;
void xt_chat_room_free(xt_chat_room *r);
/* Quitting: the prompt's and Tab's state (xt_chat.rooms) freed. */
void xt_chat_rooms_free(xt_chat *c);

/* XT_EV_MUC_* events. */
void xt_chat_room_event(xt_chat *c, const xt_event *ev);
/* An XT_EV_MESSAGE with m->room set (groupchat, or private from an
 * occupant): 1 when shown (or dropped) here. */
int xt_chat_room_message(xt_chat *c, const xt_message *m);
/* A room's join or catch-up could not be made (room_sync.h's note: an
 * error line in the room's window). */
void xt_chat_room_sync_note(const char *room, const char *text, void *ud);
/* The join's catch-up from the room's archive (room_sync.h) ended: says
 * what it brought in room's window. */
void xt_chat_room_caught_up(xt_chat *c, const char *room, const xt_archive_event *a);
/* A new (not resumed) session: the rooms whose windows are open are
 * joined again (the server dropped us from them with the old session);
 * at the first, the bookmarks with autojoin (XEP-0402 / XEP-0048) are. */
void xt_chat_room_online(xt_chat *c);
/* Scrolling back in a room window past what the store has: up to n
 * older messages from the room's archive (XEP-0313 §6), before the oldest
 * line's room stanza-id; they arrive as xt_chat_win_archived lines. */
void xt_chat_room_fetch_older(xt_chat *c, xt_chat_win *w, size_t n);
/* A room command (XT_CHAT_CMD_JOIN...): 1 when id is one. */
int xt_chat_room_command(xt_chat *c, xt_chat_cmd_id id, const char *a1, const char *rest);
/* Enter while a prompt asks (a password, a nick): 1 when the line was
 * its answer. The line and the input are wiped: neither goes into the
 * input history. */
int xt_chat_room_prompted(xt_chat *c, char *line);
/* Sending body to peer: 1 when peer is a room window (a groupchat
 * message: its line comes with the reflection) or a private one. */
int xt_chat_room_send(xt_chat *c, const char *peer, const char *body);
/* Esc at a prompt: cancels it. 1 when there was one. */
int xt_chat_room_prompt_cancel(xt_chat *c);
/* The current window is closing: a room is left first. */
void xt_chat_room_closing(xt_chat *c, xt_chat_win *w);

/* chat_room_ui.c (curses) */
/* Tab in a room window (not on a command): completes an occupant's
 * nick, cycling on each further Tab. 1 when it was a room window. */
int xt_chat_room_complete(xt_chat *c);
/* The title of a room window: "[N] room@service (as nick): subject"; of
 * a private one: "[N] nick: private, in room@service". */
void xt_chat_room_title(xt_chat *c, const xt_chat_win *w, char *buf, size_t len);
/* Draws the occupant pane of window w at column x, rows top..top+rows. */
void xt_chat_room_draw_pane(xt_chat *c, const xt_chat_win *w, int top, int rows, int x, int width);
/* The occupants of room sorted for display (role, then nick): a malloc'd
 * array of n pointers valid until the conn changes; NULL when none. */
const xt_muc_occupant **xt_chat_room_sorted(xt_chat *c, const char *room, size_t *n);
/* A room window's short name in the window list: the room's local part
 * ("team" for team@conference.example.org); a private one's: the nick. */
const char *xt_chat_room_win_name(const xt_chat_win *w);
/* The input line's prompt during a room prompt ("" when none), and
 * whether the typed text is hidden. */
const char *xt_chat_room_prompt_text(const xt_chat *c, int *hidden);

#endif
