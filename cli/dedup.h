/*
 * dedup.h -- drop a message already seen (listen, bot).
 *
 * A resend after a drop (the sender's outbox after a crash, XEP-0198
 * re-sending after a failed resume, the server re-delivering) carries the
 * same XEP-0359 ids, so a repeat is recognized by, for the sender's bare
 * JID: its origin-id, or the stanza-id our server stamped, or (no
 * origin-id given) the stanza's id attribute together with a hash of the
 * body (with the id alone, clients that count ids from 1 per session
 * would lose real messages). Any one key seen before makes it a repeat.
 * The same message coming live, as a carbon, from offline storage or
 * from the archive (issue 15) shares one of these: sent carbons and
 * archived messages of ours are keyed under our own bare JID.
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
void xt_cli_dedup_free(xt_cli_dedup *d);
/* 1: a repeat, drop it. 0: new (now recorded), or nothing to tell it by.
 * A store error is treated as new (better shown twice than lost) and
 * sets *err_detail, if not NULL, for a warning. */
int xt_cli_dedup_check(xt_cli_dedup *d, const xt_message *m, const char **err_detail);
/* Records a message we are sending with this id (its XEP-0359
 * origin-id): its archived copy or carbon, keyed under our own bare JID,
 * is then a repeat. 0, or < 0 on a store error. */
int xt_cli_dedup_own(xt_cli_dedup *d, const char *id);

#endif
