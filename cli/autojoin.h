/*
 * autojoin.h -- the bookmarks with autojoin (xtalk/bookmarks.h), joined by
 * listen and bot at every new session beside their --join rooms (issue
 * 16). A bookmark's nick, else --nick, else the account's localpart; its
 * password (never shown). A room also given with --join is left to that.
 */
#ifndef XT_CLI_AUTOJOIN_H
#define XT_CLI_AUTOJOIN_H

#include "room.h"
#include "xtalk/muc.h"

/* Joins one room: the command's own way (bot: xt_muc_join; listen:
 * room_sync.h). o->history is the command's to choose. */
typedef void (*xt_cli_autojoin_fn)(xt_conn *c, const char *room, const xt_muc_join_opts *o,
                                   void *ud);

/* Fetches the bookmarks; calls join for each autojoin one not among
 * skip[0..nskip). nick_opt and account_jid as xt_cli_room_parse; both are
 * copied. A failed fetch is only said with -v (verbose): an account
 * without bookmarks is the common case. 0 or an xt error. */
int xt_cli_autojoin(xt_conn *c, const xt_cli_room *skip, size_t nskip, const char *nick_opt,
                    const char *account_jid, int verbose, xt_cli_autojoin_fn join, void *ud);

#endif
