/*
 * xtalk status SHOW [MESSAGE]: go online with this presence, wait until
 * the server has processed it (a ping round trip), and leave. The
 * presence lasts only as long as the session; for a lasting one use
 * listen or bot with --status.
 */
#include "commands.h"
#include "report.h"
#include "session.h"
#include "text.h"

static void on_online(xt_cli_session *s, void *ud)
{
    (void)ud;
    /* The initial presence went out on login; the ping follows it. */
    xt_cli_session_ack(s, "status: the presence", NULL, NULL);
}

int xt_cli_cmd_status(const xt_cli_args *a)
{
    xt_cli_account acct;
    int rc;

    if (a->status_message && xt_cli_text_ok(a->status_message) != 0) {
        xt_cli_errorf("status: the message is not valid UTF-8 text");
        return XT_CLI_EXIT_USAGE;
    }
    /* The store only speeds the login up (the SASL hint): optional. */
    rc = xt_cli_account_open(a, 1, 0, &acct);
    if (rc == 0) {
        xt_cli_session_params p = {
            .conn_flags = XT_CONN_NO_ROSTER,
            .show = a->show,
            .status = a->status_message,
            .priority = a->priority,
            .interrupt_exit = XT_CLI_EXIT_ERROR,
            .reconnect = XT_CLI_RECONNECT_LOGIN,
            .on_online = on_online,
        };
        rc = xt_cli_session_run(&acct, &p);
    }
    xt_cli_account_close(&acct);
    return rc;
}
