/*
 * xtalk add / remove / approve / deny: roster and subscription changes
 * (RFC 6121 §2.3 roster set, §2.5 roster remove, §3.1 subscribe, §3.1.4
 * subscribed, §3.2/§3.3 unsubscribed). Each waits for the server: the IQ
 * result for roster changes, a ping round trip after presence stanzas
 * (which have no answer of their own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "session.h"
#include "text.h"

struct manage {
    const xt_cli_args *a;
    const char *cmd;
    char *jid; /* bare, normalized */
    char what[600];
};

static void on_subscribe_acked(xt_cli_session *s, void *ud)
{
    (void)ud;
    xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

static void on_roster_set(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    xt_cli_session *s = ud;
    struct manage *m = xt_cli_session_ud(s);

    if (status != 0) {
        xt_cli_session_iq_failed(s, m->what, status, reply);
        return;
    }
    if (m->a->cmd == XT_CLI_CMD_REMOVE) {
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
        return;
    }
    /* add: now ask to see the contact's presence. */
    int rc = xt_conn_subscription(c, m->jid, "subscribe");
    if (rc < 0) {
        xt_cli_session_fail(s, xt_cli_exit_for(rc, 1),
                            "%s: cannot send the subscription "
                            "request: %s",
                            m->what, xt_strerror(rc));
        return;
    }
    snprintf(m->what, sizeof m->what, "the subscription request to %s", m->jid);
    xt_cli_session_ack(s, m->what, on_subscribe_acked, m);
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct manage *m = ud;
    xt_conn *c = xt_cli_session_conn(s);
    int rc;

    switch (m->a->cmd) {
    case XT_CLI_CMD_ADD:
        snprintf(m->what, sizeof m->what, "add: cannot add %s to the roster", m->jid);
        rc = xt_conn_roster_set(c, m->jid, m->a->text, m->a->ngroups ? m->a->groups : NULL,
                                m->a->ngroups, on_roster_set, s);
        break;
    case XT_CLI_CMD_REMOVE:
        snprintf(m->what, sizeof m->what, "remove: cannot remove %s from the roster", m->jid);
        rc = xt_conn_roster_remove(c, m->jid, on_roster_set, s);
        break;
    default: {
        int approve = m->a->cmd == XT_CLI_CMD_APPROVE;
        rc = xt_conn_subscription(c, m->jid, approve ? "subscribed" : "unsubscribed");
        snprintf(m->what, sizeof m->what, "%s: the %s for %s", m->cmd,
                 approve ? "approval" : "refusal", m->jid);
        if (rc == 0)
            xt_cli_session_ack(s, m->what, on_subscribe_acked, m);
        break;
    }
    }
    if (rc < 0)
        xt_cli_session_fail(s, xt_cli_exit_for(rc, 1), "%s: %s", m->what, xt_strerror(rc));
}

int xt_cli_cmd_manage(const xt_cli_args *a)
{
    struct manage m = {.a = a, .cmd = xt_cli_cmd_name(a->cmd)};
    int rc;

    /* Roster items and subscriptions are about bare JIDs (RFC 6121 §2.1.1). */
    rc = xt_cli_check_target(m.cmd, a->target, 1, &m.jid);
    if (rc == 0 && a->text && xt_cli_text_ok(a->text) != 0) {
        xt_cli_errorf("%s: the name is not valid UTF-8 text", m.cmd);
        rc = XT_CLI_EXIT_USAGE;
    }
    for (size_t i = 0; rc == 0 && i < a->ngroups; i++) {
        if (xt_cli_text_ok(a->groups[i]) != 0) {
            xt_cli_errorf("%s: the group name '%s' is not valid UTF-8 text", m.cmd, a->groups[i]);
            rc = XT_CLI_EXIT_USAGE;
        }
    }
    if (rc == 0) {
        xt_cli_session_params p = {
            .conn_flags = XT_CONN_NO_ROSTER | XT_CONN_NO_PRESENCE,
            .interrupt_exit = XT_CLI_EXIT_ERROR,
            .reconnect = XT_CLI_RECONNECT_LOGIN,
            .on_online = on_online,
            .ud = &m,
        };
        rc = xt_cli_session_errand(a, &p);
    }
    free(m.jid);
    return rc;
}
