/*
 * args.h -- the xtalk command line: commands, options and their checks.
 * Pure parsing, no I/O; the strings in xt_cli_args point into argv.
 *
 * Options may appear before or after the command name, in any order;
 * "--" ends the options. Long options take their argument as
 * "--opt VALUE" or "--opt=VALUE"; --wait-reply's and --receipt's argument
 * is optional and only given as "--wait-reply=SECONDS". -v may be repeated (-vv).
 */
#ifndef XT_CLI_ARGS_H
#define XT_CLI_ARGS_H

#include <stddef.h>
#include <stdio.h>

typedef enum xt_cli_cmd {
    XT_CLI_CMD_NONE = 0,
    XT_CLI_CMD_SEND,
    XT_CLI_CMD_ROSTER,
    XT_CLI_CMD_LISTEN,
    XT_CLI_CMD_BOT,
    XT_CLI_CMD_ADD,
    XT_CLI_CMD_REMOVE,
    XT_CLI_CMD_APPROVE,
    XT_CLI_CMD_DENY,
    XT_CLI_CMD_STATUS,
    XT_CLI_CMD_CHAT,
    XT_CLI_CMD_BLOCK,
    XT_CLI_CMD_UNBLOCK,
    XT_CLI_CMD_BLOCKLIST,
    XT_CLI_CMD_INFO,
    XT_CLI_CMD_HELP,
    XT_CLI_CMD_HISTORY,
    XT_CLI_CMD_ROOMS,    /* the bookmarks (cmd_rooms.c) */
    XT_CLI_CMD_BOOKMARK, /* bookmark add|remove ROOM (cmd_rooms.c) */
    XT_CLI_CMD_COUNT_
} xt_cli_cmd;

#define XT_CLI_MAX_GROUPS 32
#define XT_CLI_MAX_JOINS  32

/* Defaults, also shown in --help and the man page. */
#define XT_CLI_DEFAULT_TIMEOUT_S      30
#define XT_CLI_DEFAULT_WAIT_REPLY_S   10
#define XT_CLI_DEFAULT_RECEIPT_S      10
#define XT_CLI_DEFAULT_ROSTER_WAIT_MS 150
#define XT_CLI_DEFAULT_EXEC_TIMEOUT_S 10
#define XT_CLI_DEFAULT_HISTORY_LIMIT  50

typedef struct xt_cli_args {
    xt_cli_cmd cmd;
    int help, version, verbose;

    /* connection options, every connecting command */
    const char *jid, *server, *ca_file, *pin, *resource, *config;
    int direct_tls;
    int insecure_plaintext;
    int allow_downgrade;
    unsigned timeout_s;

    /* send */
    int lines;
    int wait_reply;
    unsigned wait_reply_s;
    int receipt; /* --receipt: wait for XEP-0184 receipts */
    unsigned receipt_s;

    /* roster, listen */
    int json;
    unsigned wait_ms; /* roster --wait */
    int wait_set;     /* --wait given (it overrides the config's roster_wait) */

    /* listen, bot, status: own presence */
    int show;                   /* an xt_show value */
    const char *status_message; /* NULL = none */
    int priority;
    unsigned long count; /* listen/bot --count; 0 = unlimited */

    /* bot */
    int echo;
    const char *exec_cmd;
    unsigned exec_timeout_s;

    /* every connecting command: the local store (session.h: xt_cli_account) */
    const char *store; /* --store FILE; NULL = $XDG_DATA_HOME/xtalk/xtalk.db */
    int no_store;      /* --no-store */
    int queue;         /* send --queue */
    int flush;         /* send --flush: only the outbox's messages */
    int no_reconnect;  /* listen/bot --no-reconnect */
    unsigned keepalive_s; /* --keepalive: ping after this idle time, dead after as long; 0 = default */
    unsigned selfping_s;  /* listen/bot --selfping: room quiet spell before a self-ping; 0 = default */

    /* history */
    const char *since;    /* --since TIME|ID; NULL = the newest messages */
    unsigned limit;       /* --limit N; 0 = XT_CLI_DEFAULT_HISTORY_LIMIT */

    /* group chat (issue 16): send --muc, listen --join */
    int muc;                        /* send --muc: the target is a room */
    const char *nick;               /* --nick: our nick (default: the JID's localpart) */
    const char *joins[XT_CLI_MAX_JOINS]; /* listen --join ROOM[/NICK] */
    size_t njoins;
    const char *room_password_file; /* --room-password-file (else XTALK_ROOM_PASSWORD) */
    const char *pm;                 /* send --muc --pm NICK: a private message to NICK */

    /* add */
    const char *groups[XT_CLI_MAX_GROUPS];
    size_t ngroups;

    /* bookmark add (--nick above) */
    const char *bm_name; /* --name */
    int autojoin;        /* --autojoin */

    /* positionals */
    const char *subcmd;     /* bookmark: "add" or "remove" */
    const char *target;     /* JID for send/add/remove/approve/deny */
    const char *text;       /* send TEXT, add NAME */
    const char *help_topic; /* help COMMAND */
} xt_cli_args;

/*
 * Parses argv[1..argc). Returns 0, or XT_CLI_EXIT_USAGE with a message
 * (no "xtalk: " prefix) in err. With --help or --version set, the
 * command's own requirements (positionals) are not checked.
 */
int xt_cli_args_parse(int argc, char *const argv[], xt_cli_args *a, char *err, size_t errlen);

/* "send", "roster", ...; "" for NONE. */
const char *xt_cli_cmd_name(xt_cli_cmd cmd);
/* Command by name, or XT_CLI_CMD_NONE. */
xt_cli_cmd xt_cli_cmd_lookup(const char *name);

/* "available"/"online", "chat", "away", "xa", "dnd" -> xt_show value;
 * 0 on success, -1 if unknown. */
int xt_cli_parse_show(const char *s, int *show);

/* Prints the help of cmd (XT_CLI_CMD_NONE/HELP: the overview); help.c. */
void xt_cli_help(FILE *out, xt_cli_cmd cmd);

#endif
