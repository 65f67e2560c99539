/*
 * room.h -- what the group chat commands share (issue 16): a room target
 * ROOM@SERVICE[/NICK] with our default nick, the room password (never
 * from argv: XTALK_ROOM_PASSWORD or --room-password-file), and the exit
 * code and message for a room that refused us.
 */
#ifndef XT_CLI_ROOM_H
#define XT_CLI_ROOM_H

#include <stddef.h>

#include "args.h"
#include "xtalk/muc.h"

typedef struct xt_cli_room {
    char *room; /* prepared bare room JID */
    char *nick; /* the nick to join with */
} xt_cli_room;

/* Parses ROOM@SERVICE[/NICK]: NICK, else a->nick, else the localpart of
 * the account JID. 0, or XT_CLI_EXIT_USAGE with the reason in err. */
int xt_cli_room_parse(const char *target, const char *nick_opt, const char *account_jid,
                      xt_cli_room *out, char *err, size_t errlen);
void xt_cli_room_free(xt_cli_room *r);

/* The room password for a->room_password_file or XTALK_ROOM_PASSWORD;
 * *out NULL when neither is set. 0, or XT_CLI_EXIT_CONFIG with err.
 * Free with xt_cli_room_password_free (wiped). */
int xt_cli_room_password(const xt_cli_args *a, char **out, char *err, size_t errlen);
void xt_cli_room_password_free(char *pw);

/* The exit code for a join refusal's condition (XT_CLI_EXIT_MUC_*). */
int xt_cli_room_exit_for(const char *condition);

/* send --muc (cmd_send_muc.c): the n messages gathered by send, to the
 * room a->target; or, with up (send --file's upload, prepared), the
 * file's URL as the one message (msgs unused). Returns the exit code. */
struct xt_cli_upload;
int xt_cli_send_muc(const xt_cli_args *a, char *const *msgs, size_t n, struct xt_cli_upload *up);

#endif
