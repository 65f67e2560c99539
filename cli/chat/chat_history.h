/*
 * chat_history.h -- `xtalk chat`'s glue to the local store (xtalk/store.h):
 * the message history (every message sent and received), its full-text
 * search, and the outbox of messages not yet acknowledged by the server.
 * The store is the account's (xt_cli_account_open: --store FILE, else
 * $XDG_DATA_HOME/xtalk/xtalk.db, the same one every command uses). When
 * there is none, chat runs without history: every call here takes a NULL
 * xt_chat_hist and does nothing.
 */
#ifndef XT_CLI_CHAT_HISTORY_H
#define XT_CLI_CHAT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/store.h"

typedef struct xt_chat_hist xt_chat_hist;

typedef struct xt_chat_hmsg {
    int64_t id;
    const char *peer, *from, *body, *stanza_id;
    int outgoing;
    int64_t ts_ms;
} xt_chat_hmsg;

/* Return non-zero to stop. */
typedef int (*xt_chat_hist_fn)(const xt_chat_hmsg *m, void *ud);

/* The history of account (its key) in st, which must outlive it. NULL
 * without a store or memory. */
xt_chat_hist *xt_chat_hist_open(xt_store *st, const char *account);
void xt_chat_hist_close(xt_chat_hist *h);

/* Wall-clock ms since the epoch. */
int64_t xt_chat_now_ms(void);

/* A room's messages are kept apart from the conversations: their peer
 * is "muc:" and the room's bare JID (a key no bare JID can be, as the
 * archive positions' room keys), their sender the occupant JID
 * room@service/nick (the nick kept), their stanza_id the room's archive
 * id (XEP-0359 'by' the room: where scroll-back goes on in its archive).
 * Writes the key into buf; 0, or -1 when it does not fit. */
#define XT_CHAT_HIST_ROOM_PREFIX "muc:"
int xt_chat_hist_room_key(const char *room, char *buf, size_t len);
/* The room of a key made so, NULL for a conversation's peer. */
const char *xt_chat_hist_key_room(const char *peer);

/* Stores a message; returns its id (> 0) or 0 when not stored. */
int64_t xt_chat_hist_add(xt_chat_hist *h, const char *peer, const char *from, const char *body,
                         const char *stanza_id, int outgoing, int64_t ts_ms);
/* Newest first, ids < before_id (<= 0: from the newest). < 0 on error. */
int xt_chat_hist_page(xt_chat_hist *h, const char *peer, int64_t before_id, size_t limit,
                      xt_chat_hist_fn fn, void *ud);
int xt_chat_hist_search(xt_chat_hist *h, const char *text, size_t limit, xt_chat_hist_fn fn,
                        void *ud);

/* The outbox: add before sending, remove once acknowledged. */
int xt_chat_outbox_add(xt_chat_hist *h, const char *to, const char *body, const char *id);
int xt_chat_outbox_remove(xt_chat_hist *h, const char *id);
typedef int (*xt_chat_outbox_fn)(const char *to, const char *body, const char *id, void *ud);
int xt_chat_outbox_list(xt_chat_hist *h, xt_chat_outbox_fn fn, void *ud);

#endif
