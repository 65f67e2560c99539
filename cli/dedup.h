/*
 * dedup.h -- drop a message already seen (listen, bot).
 *
 * A resend after a drop (the sender's outbox after a crash, XEP-0198
 * re-sending after a failed resume, the server re-delivering) carries the
 * same XEP-0359 ids, so a repeat is recognized by, for the sender's bare
 * JID: its origin-id; without one, the stanza-id our server stamped and
 * the stanza's id attribute together with a hash of the body (with the id
 * alone, clients that count ids from 1 per session would lose real
 * messages); any of these seen before makes it a repeat. The same message
 * coming live, as a carbon, from offline storage or from the archive
 * (issue 15) shares one of these: sent carbons and archived messages of
 * ours are keyed under our own bare JID (xt_cli_dedup_own).
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
/* Records a message we are sending with this id (its XEP-0359
 * origin-id): its archived copy or carbon, keyed under our own bare JID,
 * is then a repeat. 0, or < 0 on a store error. */
int xt_cli_dedup_own(xt_cli_dedup *d, const char *id);

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
