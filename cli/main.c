/* xtalk: an XMPP client for the command line. See xtalk(1). */
#include <signal.h>
#include <stdio.h>

#include "args.h"
#include "commands.h"
#include "report.h"
#include "xtalk/common.h"

int main(int argc, char **argv)
{
    xt_cli_args a;
    char err[512];
    int rc;

    /* Write errors (a closed pipe) are handled where they happen; a
     * signal would kill us before a clean stream close. */
    signal(SIGPIPE, SIG_IGN);

    rc = xt_cli_args_parse(argc, argv, &a, err, sizeof err);
    if (rc != 0) {
        xt_cli_errorf("%s", err);
        return rc;
    }
    if (a.version) {
        printf("xtalk %s (libxtalk %s)\n", XT_VERSION_STRING, xt_version());
        return fflush(stdout) == 0 ? XT_CLI_EXIT_OK : XT_CLI_EXIT_ERROR;
    }
    if (a.help || a.cmd == XT_CLI_CMD_HELP) {
        xt_cli_cmd cmd = a.cmd;
        if (cmd == XT_CLI_CMD_HELP)
            cmd = a.help_topic ? xt_cli_cmd_lookup(a.help_topic) : XT_CLI_CMD_NONE;
        xt_cli_help(stdout, cmd);
        return fflush(stdout) == 0 ? XT_CLI_EXIT_OK : XT_CLI_EXIT_ERROR;
    }
    switch (a.cmd) {
    case XT_CLI_CMD_SEND:
        return xt_cli_cmd_send(&a);
    case XT_CLI_CMD_ROSTER:
        return xt_cli_cmd_roster(&a);
    case XT_CLI_CMD_LISTEN:
        return xt_cli_cmd_listen(&a);
    case XT_CLI_CMD_BOT:
        return xt_cli_cmd_bot(&a);
    case XT_CLI_CMD_ADD:
    case XT_CLI_CMD_REMOVE:
    case XT_CLI_CMD_APPROVE:
    case XT_CLI_CMD_DENY:
        return xt_cli_cmd_manage(&a);
    case XT_CLI_CMD_STATUS:
        return xt_cli_cmd_status(&a);
    case XT_CLI_CMD_CHAT:
        return xt_cli_cmd_chat(&a);
    case XT_CLI_CMD_HISTORY:
        return xt_cli_cmd_history(&a);
    case XT_CLI_CMD_BLOCK:
    case XT_CLI_CMD_UNBLOCK:
    case XT_CLI_CMD_BLOCKLIST:
        return xt_cli_cmd_block(&a);
    case XT_CLI_CMD_INFO:
        return xt_cli_cmd_info(&a);
    case XT_CLI_CMD_ROOMS:
    case XT_CLI_CMD_BOOKMARK:
        return xt_cli_cmd_rooms(&a);
    default:
        xt_cli_errorf("no command given (see 'xtalk --help')");
        return XT_CLI_EXIT_USAGE;
    }
}
