/*
 * xtalk/store.h -- the optional local store (SQLite): a durable outbox,
 * the record of messages already seen (deduplication), and the message
 * history with a full-text index.
 *
 * It also keeps what keeps several devices in sync: verified XEP-0115
 * caps and the XEP-0313 archive positions.
 *
 * One file per user (the CLI uses $XDG_DATA_HOME/xtalk/xtalk.db), WAL
 * mode, schema versioned and migrated on open. Every row belongs to an
 * account (a bare JID), so one store serves several accounts. An xt_store
 * is used from one thread; several processes may open the same file
 * (SQLite's locking, busy timeout).
 *
 * Durability contract of the outbox: a message is written (and the
 * transaction committed) BEFORE it is handed to the stream, and removed
 * only when the server has acknowledged it. After a crash, whatever is
 * still there is sent again; the XEP-0359 origin-id kept with it lets
 * receivers drop the duplicate.
 */
#ifndef XTALK_STORE_H
#define XTALK_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xt_store xt_store;

/* Opens (creating it and its schema if needed) the store at path.
 * XT_EIO with a detail (xt_store_errdetail) on failure; XT_EUNSUPPORTED
 * when the file has a newer schema than this library knows. *out is set
 * on every return but XT_ENOMEM/XT_EINVAL-for-NULL-out: after a failure it
 * is a handle good only for xt_store_errdetail and xt_store_close (as
 * sqlite3_open), so the detail can be read; always close it.
 * SQLite's own allocations do not go through mem (it has one global
 * allocator); only this handle's do.
 * The files are private (they hold history and unsent messages): the
 * database is created 0600, and its -wal/-shm take its mode; an existing
 * one of ours has group/other bits removed; XT_EIO (the detail says why
 * and what to do) for one owned by another user, another user's symlink,
 * or a directory others may write that is not sticky (/tmp-like ones
 * are accepted: there only a file's owner may replace it). */
XT_EXTERN int xt_store_open(const char *path, const xt_mem *mem, xt_store **out);
/* NULL is a no-op. */
XT_EXTERN void xt_store_close(xt_store *st);
/* The last error's detail, or "". */
XT_EXTERN const char *xt_store_errdetail(const xt_store *st);

/* Groups the writes between them in one transaction (a batch). Nested
 * calls are counted; the outermost commit commits. After a write in the
 * batch failed, the outermost commit rolls the batch back instead and
 * returns XT_EIO; xt_store_errdetail then still names the failed write's
 * cause. commit: XT_ESTATE without a begin, XT_EIO (or XT_ENOMEM) when
 * the commit itself fails (the batch is then rolled back too). */
XT_EXTERN int xt_store_begin(xt_store *st);
XT_EXTERN int xt_store_commit(xt_store *st);
/* A batch for records whose loss on power failure costs only a repeat
 * shown again (the dedup record, history): SQLite's synchronous=NORMAL,
 * so committing it syncs nothing (WAL: durable against the process's
 * crash once the commit returns, not against power failure), where
 * xt_store_begin's FULL batch syncs the WAL at every commit. Ended by
 * xt_store_commit or xt_store_rollback; a nested begin of either kind
 * inside a FULL batch counts as usual. Inside it, xt_store_begin and
 * xt_outbox_add are refused (XT_ESTATE): the outbox's promise needs
 * FULL, and the level cannot change inside a transaction. */
XT_EXTERN int xt_store_begin_relaxed(xt_store *st);
/* Abandons the batch: rolls back every write since the outermost begin,
 * whatever the nesting depth (later commits of outer levels return
 * XT_ESTATE). Leaves xt_store_errdetail as it was, so a caller giving up
 * after a failed write can still report that write's cause. 0, or
 * XT_ESTATE outside a batch, XT_EINVAL for NULL. */
XT_EXTERN int xt_store_rollback(xt_store *st);

/* --- outbox -------------------------------------------------------------- */

typedef struct xt_outbox_msg {
    int64_t seq;            /* order of insertion, unique */
    const char *account;    /* bare JID */
    const char *to;
    const char *type;       /* "chat", "normal", ... */
    const char *body;
    const char *thread;     /* NULL when none */
    const char *origin_id;  /* XEP-0359 origin-id, also used as the stanza id */
    int64_t created_ms;     /* wall-clock ms since the epoch */
} xt_outbox_msg;

/* Pointers in *m are valid only during the call. Return non-zero to stop
 * the iteration (that value is returned by the listing function). */
typedef int (*xt_outbox_fn)(const xt_outbox_msg *m, void *ud);

/* Adds a message (fields as in xt_outbox_msg; seq and created_ms are set
 * here). *seq_out, if not NULL, gets its seq. Durable when it returns 0
 * (outside a batch) or when the batch commits. */
XT_EXTERN int xt_outbox_add(xt_store *st, const xt_outbox_msg *m, int64_t *seq_out);
/* Removes the message with this origin-id (acknowledged by the server).
 * XT_ENOTFOUND when it is not there. */
XT_EXTERN int xt_outbox_remove(xt_store *st, const char *account, const char *origin_id);
/* Every queued message of the account, oldest first. */
XT_EXTERN int xt_outbox_list(xt_store *st, const char *account, xt_outbox_fn fn, void *ud);
XT_EXTERN int64_t xt_outbox_count(xt_store *st, const char *account);

/* --- the server's SASL offer ------------------------------------------------ */

/* Per account, what xt_conn_sasl_hint returned last time (pass it as
 * xt_conn_opts_set_sasl_hint: the login saves a round trip). get: *out is
 * a copy to free with the store's allocator (free() by default), NULL
 * when none is recorded; 0 or < 0 on error. */
XT_EXTERN int xt_store_sasl_hint_get(xt_store *st, const char *account, char **out);
/* set writes nothing when the account already has this hint. */
XT_EXTERN int xt_store_sasl_hint_set(xt_store *st, const char *account, const char *hint);

/* --- the user agent and its FAST token -------------------------------------- */

/* The account's XEP-0388 user-agent id (xt_conn_opts_set_user_agent):
 * made once (a random UUID) and kept, so the server sees one device.
 * *out is a copy to free with the store's allocator. 0 or < 0. */
XT_EXTERN int xt_store_user_agent_id(xt_store *st, const char *account, char **out);
/* The XEP-0484 FAST token the server bound to that id (what an
 * xt_fast_token_fn received): copies in *mechanism, *token (secret: wipe
 * before freeing) and *expiry (may be NULL; expiry itself may be NULL);
 * all NULL when none is kept. 0 or < 0. */
XT_EXTERN int xt_store_fast_token_get(xt_store *st, const char *account, char **mechanism,
                                      char **token, char **expiry);
/* Replaces it (token NULL deletes it); needs xt_store_user_agent_id first
 * (a token belongs to that id: without one nothing is written). */
XT_EXTERN int xt_store_fast_token_set(xt_store *st, const char *account, const char *mechanism,
                                      const char *token, const char *expiry);

/* --- multi-device sync --------------------------------------------------- */

/* XEP-0115 caps verified before (XT_EV_CAPS), shared by every account: a
 * ver is a hash of the features, so it means the same for anyone. set
 * records (or refreshes) one; list hands the newest `limit` (0 = all) to
 * fn, most recently seen first, to prime a conn (xt_conn_caps_add).
 * Pointers valid during the call; fn's non-zero return stops the listing
 * and is returned. Features may not contain a newline (XT_EINVAL). */
typedef int (*xt_store_caps_fn)(const char *ver, const char *const *features, size_t n, void *ud);
XT_EXTERN int xt_store_caps_set(xt_store *st, const char *ver, const char *const *features,
                                size_t n, int64_t now_ms);
XT_EXTERN int xt_store_caps_list(xt_store *st, size_t limit, xt_store_caps_fn fn, void *ud);

/* XEP-0313 archive positions per account: peer NULL or "" is the login
 * catch-up's (xt_conn_archive_position, to give back with
 * xt_conn_set_archive_position next run); a bare JID is that
 * conversation's oldest fetched id (where scrolling back continues).
 * get: *out a copy to free with the store's allocator, NULL when none. */
XT_EXTERN int xt_store_archive_pos_get(xt_store *st, const char *account, const char *peer,
                                       char **out);
XT_EXTERN int xt_store_archive_pos_set(xt_store *st, const char *account, const char *peer,
                                       const char *id);
/* Moves the position forward only: records id when order_ms (its place
 * in archive order: the archive stamp in ms, xt_conn_archive_position_ms,
 * or the local clock for a live message's id) is not older than the
 * stored one's, in one statement, so two processes of one account
 * (listen and chat, two listens) cannot move it backwards (the next
 * catch-up refetching) nor interleave a stale write. Equal orders
 * replace (archive stamps tie within a second; a refetch is harmless,
 * xt_store_message_seen). A position written by _set is unordered (any
 * advance replaces it). 1 when written (inside xt_store_begin: kept and
 * written at the commit, still only forward), 0 when the stored one is newer;
 * XT_EINVAL (order_ms <= 0, empty id), XT_EIO. */
XT_EXTERN int xt_store_archive_pos_advance(xt_store *st, const char *account, const char *peer,
                                           const char *id, int64_t order_ms);

/* --- deduplication ------------------------------------------------------- */

/* Records that a message with this id (XEP-0359 stanza-id/origin-id, or
 * the stanza id) from this sender (bare JID) was seen. Returns 1 when it
 * had been seen before (a duplicate: drop it), 0 when new, < 0 on error.
 * Entries older than a retention window are pruned, so the table stays
 * bounded. The record is a keyed 64-bit hash, also kept in this handle's
 * memory (read at the first call, and brought up to date with other
 * handles' records once per transaction): inside a batch
 * (xt_store_begin/_relaxed) a check costs no SQL and the batch's records
 * are written as one row at its commit (gone, as never seen, if it rolls
 * back); outside, each call is a small batch of its own. */
XT_EXTERN int xt_seen_check_add(xt_store *st, const char *account, const char *from_bare,
                                const char *id, int64_t now_ms);

/* --- history ------------------------------------------------------------- */

typedef struct xt_history_msg {
    int64_t id;             /* row id, increasing with insertion */
    const char *account;    /* bare JID */
    const char *peer;       /* the conversation: the other side's bare JID */
    const char *from;       /* full JID of the sender */
    const char *body;
    const char *stanza_id;  /* origin-id / id, may be NULL */
    int outgoing;           /* 1 when we sent it */
    int64_t ts_ms;          /* wall-clock ms since the epoch */
} xt_history_msg;

typedef int (*xt_history_fn)(const xt_history_msg *m, void *ud);

/* Stores a message (m->id ignored); *id_out gets its id. */
XT_EXTERN int xt_history_add(xt_store *st, const xt_history_msg *m, int64_t *id_out);
/* Up to limit messages of one conversation with id < before_id
 * (before_id <= 0: from the newest), newest first. */
XT_EXTERN int xt_history_page(xt_store *st, const char *account, const char *peer,
                              int64_t before_id, size_t limit, xt_history_fn fn, void *ud);
/* Search over all conversations of the account, newest first, up to
 * limit. The text is split at blanks into terms; a message matches when
 * it matches every term. A term of 3 characters or more matches as a
 * substring, in any script ("好世界" inside "你好世界"); so does a term of
 * 1 or 2 non-ASCII characters ("世界", an emoji). A 2-character ASCII
 * term matches the words that begin with it ("ok": "ok", "okay", not
 * "book"). All of these are indexed. Case is folded, and the accents of
 * Latin, Greek and Cyrillic letters ignored ("creme" finds "Crème").
 * Other short terms (one ASCII character; ASCII and non-ASCII mixed) are
 * compared on the rows the other terms found, or, when all terms are
 * such, on the newest 10,000 messages of the store only (the bound keeps
 * a search under 20 ms at a million messages; ASCII case is folded there,
 * accents are not). Terms of ASCII punctuation only are ignored; at most
 * 8 short terms count. FTS5 query syntax is NOT exposed: user input
 * cannot form a malformed query. */
XT_EXTERN int xt_history_search(xt_store *st, const char *account, const char *text,
                                size_t limit, xt_history_fn fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif
