/*
 * chat_room_int.h -- what chat_room.c and chat_room_cmd.c share: a room
 * window's state and the helpers both use. Private to chat_room*.c.
 */
#ifndef XT_CLI_CHAT_ROOM_INT_H
#define XT_CLI_CHAT_ROOM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "chat.h"

struct xt_chat_room {
    char *nick;     /* the nick asked for (the room may assign another) */
    char *password; /* the room's, as typed (wiped when freed); NULL none */
    int want;       /* the user wants to be in: joined again after a new session */
    int joined;     /* our self-presence came (XT_EV_MUC_JOINED) */
    int conflicts;  /* nick conflicts on this join: the first retries with nick_ */
    size_t caught;  /* messages the running catch-up (room_sync.h) showed */
    int64_t since_ms; /* a room without an archive: the history asked since (0: all) */
};

/* Replaces *dst with a copy of s (NULL: none); the old string is wiped
 * first (it may be a password). */
void xt_chat_room_set_str(char **dst, const char *s);
/* A status line in window w (NULL: the current one); an error is
 * repeated on the status bar. */
void xt_chat_room_note(xt_chat *c, xt_chat_win *w, int kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* room's window, NULL when none is open (or it is not a room's). */
xt_chat_win *xt_chat_room_win(xt_chat *c, const char *room, size_t *idx);
/* room's window, opened (with its state) when there is none. */
xt_chat_win *xt_chat_room_open_win(xt_chat *c, const char *room, size_t *idx);
/* Joins room as w->room->nick (with its password), saying so in w. */
int xt_chat_room_join(xt_chat *c, xt_chat_win *w, const char *room);
/* Our nick where none is given: the account's local part. */
void xt_chat_room_default_nick(const xt_chat *c, char *buf, size_t len);

#endif
