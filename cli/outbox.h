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

#include <stddef.h>

#include "args.h"
#include "xtalk/store.h"

/* Opens the store the options name (creating $XDG_DATA_HOME/xtalk with
 * mode 0700 if needed). 0 with *out NULL under --no-store; otherwise 0,
 * or an exit code with the reason (and the way out: --store, --no-store)
 * in err. */
int xt_cli_store_open(const xt_cli_args *a, xt_store **out, char *err, size_t errlen);
/* $XDG_DATA_HOME/xtalk/NAME (else ~/.local/share/xtalk/NAME), malloc'd;
 * NULL with errno ENOENT when neither variable is usable, ENOMEM. */
char *xt_cli_data_path(const char *name);
/* mkdir -p, mode 0700, of the directory part of path. 0 or -1 (errno). */
int xt_cli_make_parents(char *path);

/* A fresh message id: "xt-" and 32 random hex digits (128 bits, so ids
 * never collide across runs and machines: XEP-0359 origin-id). Every id
 * the CLI puts on a message comes from here. 0, or -1 when the kernel
 * gives no random bytes (the message is then not sent: an id that could
 * repeat would make receivers drop a real message as a repeat). */
int xt_cli_new_id(char out[64]);

/* The account key of a JID: its bare JID as RFC 7622 prepares it
 * (xt_jid_parse: localpart and domain case-folded and normalized, the
 * resource dropped), malloc'd. Every command keys the store (outbox,
 * dedup record, SASL hint, history) and names peers with it, so
 * Alice@Example.ORG/x and alice@example.org are one account. NULL when
 * the JID is invalid (*why, if why is not NULL, says why) or on
 * allocation failure (*why "out of memory"). */
char *xt_cli_bare(const char *jid, const char **why);

#endif
