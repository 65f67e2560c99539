/*
 * account.h -- the account a run acts for, opened the same way by every
 * connecting command (chat included): the settings with the password
 * (settings.h), the account key that keys every row of the store
 * (xt_cli_bare: the bare JID as RFC 7622 prepares it), and the store
 * itself (outbox.h: --store FILE, $XDG_DATA_HOME/xtalk/xtalk.db, or none
 * with --no-store). The session (session.h) reads and saves the SASL hint
 * there; commands keep their outbox, dedup record and history there.
 * Without a configured resource, the run takes the installation's stable
 * one (resource.h).
 */
#ifndef XT_CLI_ACCOUNT_H
#define XT_CLI_ACCOUNT_H

#include "args.h"
#include "settings.h"
#include "xtalk/store.h"

/* The account a run acts for. */
typedef struct xt_cli_account {
    xt_cli_settings set;
    xt_store *store;     /* NULL with --no-store, or an optional store that failed */
    char *key;           /* the store's account key (xt_cli_bare of set.jid) */
    char store_err[512]; /* why store is NULL when an optional store failed */
    int resource_lock;   /* holds the installation resource's slot (resource.h); -1 */
} xt_cli_account;

/* Settings (with the password), the account key and the store. With
 * store_optional, a store that cannot be opened leaves store NULL and the
 * reason in store_err (printed as a warning unless quiet); otherwise it
 * is an error. Returns 0 or an exit code (the error printed). Close acct
 * in both cases. */
int xt_cli_account_open(const xt_cli_args *a, int store_optional, int quiet, xt_cli_account *acct);
void xt_cli_account_close(xt_cli_account *acct);

#endif
