/*
 * xtalk block / unblock / blocklist: XEP-0191 Blocking Command. Each
 * waits for the server's answer (an IQ result, §3.2-§3.4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "report.h"
#include "sanitize.h"
#include "session.h"
#include "xtalk/im.h"

struct block {
    const xt_cli_args *a;
    const char *cmd;
    char *jid; /* normalized, any form (a domain, bare or full JID) */
    char what[600];
};

static void print_list(xt_cli_session *s, xt_conn *c, struct block *b)
{
    size_t n = xt_conn_blocklist_count(c);
    int ok = 1;
    if (b->a->json) {
        xt_cli_json j;
        xt_cli_json_init(&j);
        xt_cli_json_obj(&j, NULL);
        xt_cli_json_arr(&j, "blocked");
        for (size_t i = 0; i < n; i++)
            xt_cli_json_str(&j, NULL, xt_conn_blocklist_at(c, i));
        xt_cli_json_end(&j);
        xt_cli_json_end(&j);
        ok = xt_cli_json_write_line(&j, stdout) == 0;
        xt_cli_json_free(&j);
    } else {
        for (size_t i = 0; i < n && ok; i++) {
            xt_cli_put_sanitized(stdout, xt_conn_blocklist_at(c, i));
            ok = fputc('\n', stdout) != EOF;
        }
        if (fflush(stdout) == EOF)
            ok = 0;
    }
    if (ok)
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
    else
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "blocklist: cannot write to stdout");
}

static void on_result(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    xt_cli_session *s = ud;
    struct block *b = xt_cli_session_ud(s);

    if (status != 0) {
        xt_cli_session_iq_failed(s, b->what, status, reply);
        return;
    }
    if (b->a->cmd == XT_CLI_CMD_BLOCKLIST)
        print_list(s, c, b);
    else
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct block *b = ud;
    xt_conn *c = xt_cli_session_conn(s);
    const char *one[1] = {b->jid};
    int rc;

    switch (b->a->cmd) {
    case XT_CLI_CMD_BLOCK:
        snprintf(b->what, sizeof b->what, "block: cannot block %s", b->jid);
        rc = xt_conn_block(c, one, 1, on_result, s);
        break;
    case XT_CLI_CMD_UNBLOCK:
        snprintf(b->what, sizeof b->what, "unblock: cannot unblock %s", b->jid);
        rc = xt_conn_unblock(c, one, 1, on_result, s);
        break;
    default:
        snprintf(b->what, sizeof b->what, "blocklist: cannot get the blocklist");
        rc = xt_conn_blocklist_fetch(c, on_result, s);
        break;
    }
    if (rc < 0)
        xt_cli_session_fail(s, xt_cli_exit_for(rc, 1), "%s: %s", b->what, xt_strerror(rc));
}

int xt_cli_cmd_block(const xt_cli_args *a)
{
    struct block b = {.a = a, .cmd = xt_cli_cmd_name(a->cmd)};
    int rc = 0;

    /* §3.1: any JID form; the full JID is kept as given (prepared). */
    if (a->cmd != XT_CLI_CMD_BLOCKLIST)
        rc = xt_cli_check_target(b.cmd, a->target, 0, &b.jid);
    if (rc == 0) {
        xt_cli_session_params p = {
            .conn_flags = XT_CONN_NO_ROSTER | XT_CONN_NO_PRESENCE,
            .interrupt_exit = XT_CLI_EXIT_ERROR,
            .reconnect = XT_CLI_RECONNECT_LOGIN,
            .on_online = on_online,
            .ud = &b,
        };
        rc = xt_cli_session_errand(a, &p);
    }
    free(b.jid);
    return rc;
}
