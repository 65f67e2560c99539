/*
 * room_sync.h -- joining rooms with their archive (issue 16, XEP-0313 §6
 * on XEP-0045): a room whose disco#info lists urn:xmpp:mam:2 is joined
 * with no history (maxstanzas='0') and then caught up from its archive
 * after the last room stanza-id this account saw there, page by page,
 * forward, in order; the library delivers each message once (its room
 * stanza-id, muc_mam.c). A room without an archive is joined with its
 * default history. The position is kept per room in the store's archive
 * positions (peer "muc:ROOM"), moved at each page's end and by live room
 * messages outside a catch-up. With no position yet (the first join),
 * the catch-up is the newest window (XT_CLI_ROOM_WINDOW messages).
 *
 * Shared by listen and chat (one catch-up, two users): listen prints the
 * catch-up's messages as they come; chat appends them to the room's
 * window and its store (xt_cli_room_sync_catchup_room tells them from a
 * scroll-back's). Any XT_EV_MUC_JOINED of a room joined here starts a
 * catch-up, so a join the library makes by itself (XEP-0410 self-ping's
 * rejoin) fetches the gap the same way.
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

/* Where failures go (a join the server never got, a catch-up that could
 * not start, a position not recorded): fn(room, text, ud); NULL (the
 * default) prints them on stderr. chat shows them in the room's window:
 * its terminal is curses'. */
typedef void (*xt_cli_room_sync_note_fn)(const char *room, const char *text, void *ud);
void xt_cli_room_sync_set_note(xt_cli_room_sync *rs, xt_cli_room_sync_note_fn fn, void *ud);

/* Asks room's disco#info, then joins as above (o copied: nick, password,
 * presence). A room with an archive is joined with no history; one
 * without it with o's history (history, max_stanzas, max_chars, seconds,
 * since): XT_MUC_HISTORY_DEFAULT for the room's default, LIMITS for a
 * bounded one. 0 or an xt error. */
int xt_cli_room_sync_join(xt_cli_room_sync *rs, xt_conn *c, const char *room,
                          const xt_muc_join_opts *o);

/* The user left room: a disco answer still on its way joins nothing, and
 * the room is no longer caught up. */
void xt_cli_room_sync_forget(xt_cli_room_sync *rs, const char *room);

/* Every event of the conn, before the command shows it: starts a
 * catch-up at XT_EV_MUC_JOINED, moves positions. */
void xt_cli_room_sync_event(xt_cli_room_sync *rs, xt_conn *c, const xt_event *ev);

/* The room whose catch-up is the archive fetch `tag` (xt_message's
 * archive_tag, xt_archive_event's tag), NULL when tag is not one of ours.
 * Valid until the next call here; ask before xt_cli_room_sync_event sees
 * the fetch's last XT_EV_ARCHIVE (it forgets the tag then). */
const char *xt_cli_room_sync_catchup_room(const xt_cli_room_sync *rs, int tag);

#endif
