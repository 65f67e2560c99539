/* The account a run acts for: settings, account key, store. */
#include "account.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outbox.h"
#include "report.h"
#include "resource.h"

int xt_cli_account_open(const xt_cli_args *a, int store_optional, int quiet, xt_cli_account *acct)
{
    const char *why = NULL;
    int rc;

    memset(acct, 0, sizeof *acct);
    acct->resource_lock = -1;
    rc = xt_cli_settings_get(a, &acct->set);
    if (rc != 0)
        return rc;
    if (!acct->set.resource) {
        /* No --resource, no `resource =`: the installation's own (issue
         * 13 item 7). When it cannot be had (no data directory, a
         * read-only one, every slot taken) the server chooses, as
         * before: a resource is never a reason to fail a run. */
        char *path = xt_cli_data_path("resource");
        if (path && xt_cli_make_parents(path) == 0)
            (void)xt_cli_resource_pick(path, &acct->set.resource, &acct->resource_lock);
        free(path);
    }
    if (!(acct->key = xt_cli_bare(acct->set.jid, &why))) {
        if (why && strcmp(why, "out of memory") == 0) {
            xt_cli_errorf("out of memory");
            return XT_CLI_EXIT_ERROR;
        }
        xt_cli_errorf("the account JID '%s' is not valid (%s); give it as user@domain",
                      acct->set.jid, why ? why : "?");
        return XT_CLI_EXIT_CONFIG;
    }
    rc = xt_cli_store_open(a, &acct->store, acct->store_err, sizeof acct->store_err);
    if (rc != 0 && !store_optional) {
        xt_cli_errorf("%s", acct->store_err);
        return rc;
    }
    if (rc != 0 && !quiet)
        xt_cli_errorf("warning: no store (%s); logging in without the saved server hint",
                      acct->store_err);
    return 0;
}

void xt_cli_account_close(xt_cli_account *acct)
{
    xt_cli_settings_free(&acct->set);
    xt_store_close(acct->store);
    acct->store = NULL;
    free(acct->key);
    acct->key = NULL;
    if (acct->resource_lock >= 0)
        close(acct->resource_lock);
    acct->resource_lock = -1;
}
