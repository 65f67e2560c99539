/*
 * dedup.h -- drop a message already seen (listen, bot).
 *
 * A resend after a drop (the sender's outbox after a crash, XEP-0198
 * re-sending after a failed resume, the server re-delivering) carries the
 * same XEP-0359 ids, so a repeat is recognized by, for the sender's bare
 * JID: its origin-id; without one, the stanza-id our server stamped;
 * with neither, the stanza's id attribute together with a hash of the
 * body, since clients that count ids from 1 per session would otherwise
 * lose real messages. One key per message, the first of these it has:
 * every copy of a message carries what the first carried (the server
 * re-delivers the same stanza; a sender re-sends with the same
 * origin-id, while our server stamps each copy with a new stanza-id, so
 * that one could not tell them apart anyway). Stores written when both
 * the origin-id and the stanza-id were recorded still match on the
 * origin-id.
 *
 * With a store the record is persistent (a restart still recognizes
 * repeats) and bounded (xt_seen_check_add prunes); without, it is a ring
 * of the last 8192 keys in memory.
 */
#ifndef XT_CLI_DEDUP_H
#define XT_CLI_DEDUP_H

#include "xtalk/conn.h"
#include "xtalk/store.h"

typedef struct xt_cli_dedup xt_cli_dedup;

/* st may be NULL (memory only); it is not taken. account is copied. */
xt_cli_dedup *xt_cli_dedup_new(xt_store *st, const char *account);
/* Commits an open batch (see xt_cli_dedup_end_burst), then frees. */
void xt_cli_dedup_free(xt_cli_dedup *d);
/* 1: a repeat, drop it. 0: new (now recorded), or nothing to tell it by.
 * A store error is treated as new (better shown twice than lost) and
 * sets *err_detail, if not NULL, for a warning. */
int xt_cli_dedup_check(xt_cli_dedup *d, const xt_message *m, const char **err_detail);

/*
 * Batches (listen): after xt_cli_dedup_set_batched(d, 1), the records of
 * the messages checked until xt_cli_dedup_end_burst are written in one
 * store transaction (a relaxed one: no fsync, see xt_store_begin_relaxed)
 * instead of one each; a repeat within the burst is still seen (the
 * transaction sees its own rows).
 *
 * When a message counts as seen: only once it was shown. The caller shows
 * each new message (into stdout's buffer), and at the end of the read
 * burst, before the server is told the burst was handled (the XEP-0198
 * <a/>, xt_client_set_input_done), flushes what it showed and then ends
 * the burst here. A crash before the flush: nothing committed, nothing
 * acknowledged, so the server sends the messages again and they are shown
 * once. A crash between the flush and the commit: shown, and shown again
 * when re-sent (better twice than lost). After the commit, a re-sent copy
 * is a repeat. Recording a message as seen before it is shown (the
 * unbatched order) could lose it to a crash in between.
 */
void xt_cli_dedup_set_batched(xt_cli_dedup *d, int on);
/* Commits the burst's records. 0, or -1 with *err_detail set (the
 * records are lost: repeats of those messages may show again). */
int xt_cli_dedup_end_burst(xt_cli_dedup *d, const char **err_detail);
/* Drops the burst's records instead (what was printed could not be
 * written out: those messages were not shown, so not seen). */
void xt_cli_dedup_abandon_burst(xt_cli_dedup *d);

#endif
