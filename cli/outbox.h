/*
 * outbox.h -- the local store as the CLI uses it: where it lives, and
 * the ids of queued messages.
 *
 * The store is $XDG_DATA_HOME/xtalk/xtalk.db (~/.local/share/xtalk/...),
 * or --store FILE; --no-store runs without one (send then keeps nothing
 * across runs, listen/bot dedup in memory only).
 */
#ifndef XT_CLI_OUTBOX_H
#define XT_CLI_OUTBOX_H

#include "args.h"
#include "xtalk/store.h"

/* Opens the store the options name (creating $XDG_DATA_HOME/xtalk with
 * mode 0700 if needed). 0 with *out NULL under --no-store; otherwise 0
 * or an exit code with the error printed. */
int xt_cli_store_open(const xt_cli_args *a, xt_store **out);

/* A fresh message id: "xt-" and 32 random hex digits (128 bits, so ids
 * never collide across runs and machines: XEP-0359 origin-id). 0 or -1. */
int xt_cli_new_id(char out[64]);

/* The bare form of a JID string (up to the '/'), malloc'd; NULL on
 * allocation failure. */
char *xt_cli_bare(const char *jid);

#endif
