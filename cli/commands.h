/*
 * commands.h -- one entry point per xtalk command (cmd_*.c). Each takes
 * the parsed command line and returns the process exit code.
 */
#ifndef XT_CLI_COMMANDS_H
#define XT_CLI_COMMANDS_H

#include "args.h"

int xt_cli_cmd_send(const xt_cli_args *a);
int xt_cli_cmd_roster(const xt_cli_args *a);
int xt_cli_cmd_listen(const xt_cli_args *a);
int xt_cli_cmd_bot(const xt_cli_args *a);
int xt_cli_cmd_manage(const xt_cli_args *a); /* add, remove, approve, deny */
int xt_cli_cmd_status(const xt_cli_args *a);
int xt_cli_cmd_chat(const xt_cli_args *a); /* chat.c */
int xt_cli_cmd_history(const xt_cli_args *a);
int xt_cli_cmd_block(const xt_cli_args *a); /* block, unblock, blocklist */
int xt_cli_cmd_info(const xt_cli_args *a);
int xt_cli_cmd_rooms(const xt_cli_args *a); /* rooms, bookmark add|remove */

/*
 * Checks a JID given as a command argument (target.c). Returns 0 and (if
 * out is not NULL) a malloc'd normalized copy (the bare JID when `bare`),
 * or an exit code after printing "xtalk: CMD: invalid JID ...".
 */
int xt_cli_check_target(const char *cmd, const char *jid, int bare, char **out);

#endif
