/*
 * sync.h -- keeping this device in step with the account's others
 * (every command with a store): the conn is primed from the store with
 * the XEP-0313 archive position and the XEP-0115 caps verified before,
 * and what the session learns goes back into the store. Only listen and
 * chat catch up at login (session.h: sync); the others move the position
 * with the live messages they saw.
 *
 * The position is saved only after the command has handled the messages
 * up to it (call xt_cli_sync_event after the command's own handler), so
 * a run that dies mid-catch-up fetches the rest next time, never skips.
 */
#ifndef XT_CLI_SYNC_H
#define XT_CLI_SYNC_H

#include "xtalk/conn.h"
#include "xtalk/store.h"

/* Before connecting. st NULL: nothing to prime (a first-run window each
 * time). Failures are ignored: they cost a bigger catch-up, not a loss. */
void xt_cli_sync_prime(xt_conn *c, xt_store *st, const char *account);
/* After the command handled ev: records caps and the archive position. */
void xt_cli_sync_event(xt_conn *c, xt_store *st, const char *account, const xt_event *ev);

#endif
