/*
 * room_sync.h -- joining rooms with their archive (issue 16, XEP-0313 §6
 * on XEP-0045): a room whose disco#info lists urn:xmpp:mam:2 is joined
 * with no history (maxstanzas='0') and then caught up from its archive
 * after the last room stanza-id this account saw there, page by page,
 * forward, in order; the library delivers each message once (its room
 * stanza-id, muc_mam.c). A room without an archive is joined with its
 * default history. The position is kept per room in the store's archive
 * positions (peer "muc:ROOM"), moved at each page's end and by live room
 * messages (during a catch-up: once it is done; see on_live). With no
 * position yet (the first join), the catch-up is the newest window
 * (XT_CLI_ROOM_WINDOW messages).
 */
#ifndef XT_CLI_ROOM_SYNC_H
#define XT_CLI_ROOM_SYNC_H

#include "xtalk/muc.h"
#include "xtalk/store.h"

#define XT_CLI_ROOM_WINDOW 20

typedef struct xt_cli_room_sync xt_cli_room_sync;

/* store may be NULL (--no-store): every join is a first one. account is
 * the bare account JID (copied). NULL when out of memory. */
xt_cli_room_sync *xt_cli_room_sync_new(xt_store *store, const char *account);
void xt_cli_room_sync_free(xt_cli_room_sync *rs);

/* Asks room's disco#info, then joins as above (o copied: nick, password,
 * presence; its history is chosen here). 0 or an xt error. */
int xt_cli_room_sync_join(xt_cli_room_sync *rs, xt_conn *c, const char *room,
                          const xt_muc_join_opts *o);

/* Every event of the conn, before the command shows it: starts a
 * catch-up at XT_EV_MUC_JOINED, moves positions. */
void xt_cli_room_sync_event(xt_cli_room_sync *rs, xt_conn *c, const xt_event *ev);

#endif
