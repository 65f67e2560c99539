/* Command-line parsing for xtalk. */
#include "args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xtalk/conn.h"

static const char *const cmd_names[XT_CLI_CMD_COUNT_] = {
    [XT_CLI_CMD_NONE] = "",         [XT_CLI_CMD_SEND] = "send",
    [XT_CLI_CMD_ROSTER] = "roster", [XT_CLI_CMD_LISTEN] = "listen",
    [XT_CLI_CMD_BOT] = "bot",       [XT_CLI_CMD_ADD] = "add",
    [XT_CLI_CMD_REMOVE] = "remove", [XT_CLI_CMD_APPROVE] = "approve",
    [XT_CLI_CMD_DENY] = "deny",     [XT_CLI_CMD_STATUS] = "status",
    [XT_CLI_CMD_CHAT] = "chat",     [XT_CLI_CMD_BLOCK] = "block",
    [XT_CLI_CMD_UNBLOCK] = "unblock", [XT_CLI_CMD_BLOCKLIST] = "blocklist",
    [XT_CLI_CMD_INFO] = "info",
    [XT_CLI_CMD_HELP] = "help",
    [XT_CLI_CMD_HISTORY] = "history",
    [XT_CLI_CMD_GET] = "get",
    [XT_CLI_CMD_ROOMS] = "rooms",
    [XT_CLI_CMD_BOOKMARK] = "bookmark",
    [XT_CLI_CMD_PROFILE] = "profile",
};

const char *xt_cli_cmd_name(xt_cli_cmd cmd)
{
    return cmd >= 0 && cmd < XT_CLI_CMD_COUNT_ ? cmd_names[cmd] : "";
}

xt_cli_cmd xt_cli_cmd_lookup(const char *name)
{
    for (int i = 1; i < XT_CLI_CMD_COUNT_; i++)
        if (strcmp(name, cmd_names[i]) == 0)
            return (xt_cli_cmd)i;
    return XT_CLI_CMD_NONE;
}

int xt_cli_parse_show(const char *s, int *show)
{
    static const struct {
        const char *name;
        int show;
    } t[] = {
        {"available", XT_SHOW_AVAILABLE},
        {"online", XT_SHOW_AVAILABLE},
        {"chat", XT_SHOW_CHAT},
        {"away", XT_SHOW_AWAY},
        {"xa", XT_SHOW_XA},
        {"dnd", XT_SHOW_DND},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (strcmp(s, t[i].name) == 0) {
            *show = t[i].show;
            return 0;
        }
    }
    return -1;
}

#define BIT(c) (1u << (c))
#define CONN_CMDS                                                                                  \
    (BIT(XT_CLI_CMD_SEND) | BIT(XT_CLI_CMD_ROSTER) | BIT(XT_CLI_CMD_LISTEN) |                      \
     BIT(XT_CLI_CMD_BOT) | BIT(XT_CLI_CMD_ADD) | BIT(XT_CLI_CMD_REMOVE) |                          \
     BIT(XT_CLI_CMD_APPROVE) | BIT(XT_CLI_CMD_DENY) | BIT(XT_CLI_CMD_STATUS) |                    \
     BIT(XT_CLI_CMD_CHAT) | BIT(XT_CLI_CMD_BLOCK) | BIT(XT_CLI_CMD_UNBLOCK) |                      \
     BIT(XT_CLI_CMD_BLOCKLIST) | BIT(XT_CLI_CMD_INFO) | BIT(XT_CLI_CMD_HISTORY) |                 \
     BIT(XT_CLI_CMD_ROOMS) | BIT(XT_CLI_CMD_BOOKMARK) |                \
     BIT(XT_CLI_CMD_PROFILE))
#define ALL_CMDS 0xffffffffu

enum opt_id {
    O_HELP,
    O_VERSION,
    O_VERBOSE,
    O_JID,
    O_SERVER,
    O_CA_FILE,
    O_PIN,
    O_DIRECT_TLS,
    O_RESOURCE,
    O_CONFIG,
    O_TIMEOUT,
    O_INSECURE,
    O_ALLOW_DOWNGRADE,
    O_LINES,
    O_WAIT_REPLY,
    O_RECEIPT,
    O_JSON,
    O_WAIT,
    O_STATUS,
    O_STATUS_MESSAGE,
    O_PRIORITY,
    O_COUNT,
    O_ECHO,
    O_EXEC,
    O_EXEC_TIMEOUT,
    O_GROUP,
    O_STORE,
    O_NO_STORE,
    O_QUEUE,
    O_NO_RECONNECT,
    O_KEEPALIVE,
    O_FLUSH,
    O_SINCE,
    O_LIMIT,
    O_OUTPUT,
    O_FORCE,
    O_NAME,
    O_FILE,
    O_TYPE,
    O_NICK,
    O_AUTOJOIN,
    O_MUC,
    O_JOIN,
    O_ROOM_PASSWORD_FILE,
    O_SELFPING,
    O_PM,
    O_EMAIL,
    O_URL,
    O_NOTE,
    O_COUNT_
};

enum { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

/* The line commands that stay online long enough to need a keepalive. */
#define XT_CLI_LONG_CMDS (BIT(XT_CLI_CMD_SEND) | BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT))

static const struct opt {
    const char *name;
    char short_name;
    int arg;
    unsigned cmds;
} opts[O_COUNT_] = {
    [O_HELP] = {"help", 'h', ARG_NONE, ALL_CMDS},
    [O_VERSION] = {"version", 0, ARG_NONE, ALL_CMDS},
    [O_VERBOSE] = {"verbose", 'v', ARG_NONE, ALL_CMDS},
    [O_JID] = {"jid", 0, ARG_REQUIRED, CONN_CMDS},
    [O_SERVER] = {"server", 0, ARG_REQUIRED, CONN_CMDS},
    /* get: the same CA file (and config file) as the account's XMPP
     * connection, the same TLS rules for HTTPS. */
    [O_CA_FILE] = {"ca-file", 0, ARG_REQUIRED, CONN_CMDS | BIT(XT_CLI_CMD_GET)},
    [O_PIN] = {"pin", 0, ARG_REQUIRED, CONN_CMDS},
    [O_DIRECT_TLS] = {"direct-tls", 0, ARG_NONE, CONN_CMDS},
    [O_RESOURCE] = {"resource", 0, ARG_REQUIRED, CONN_CMDS},
    [O_CONFIG] = {"config", 0, ARG_REQUIRED, CONN_CMDS | BIT(XT_CLI_CMD_GET)},
    [O_TIMEOUT] = {"timeout", 0, ARG_REQUIRED, CONN_CMDS | BIT(XT_CLI_CMD_GET)},
    [O_INSECURE] = {"insecure-allow-plaintext", 0, ARG_NONE, CONN_CMDS},
    [O_ALLOW_DOWNGRADE] = {"allow-downgrade", 0, ARG_NONE, CONN_CMDS},
    [O_LINES] = {"lines", 0, ARG_NONE, BIT(XT_CLI_CMD_SEND)},
    [O_WAIT_REPLY] = {"wait-reply", 0, ARG_OPTIONAL, BIT(XT_CLI_CMD_SEND)},
    [O_RECEIPT] = {"receipt", 0, ARG_OPTIONAL, BIT(XT_CLI_CMD_SEND)},
    [O_JSON] = {"json", 0, ARG_NONE,
                BIT(XT_CLI_CMD_ROSTER) | BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BLOCKLIST) |
                    BIT(XT_CLI_CMD_INFO) | BIT(XT_CLI_CMD_HISTORY) | BIT(XT_CLI_CMD_ROOMS) |
                        BIT(XT_CLI_CMD_PROFILE)},
    [O_WAIT] = {"wait", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_ROSTER) | BIT(XT_CLI_CMD_INFO)},
    [O_STATUS] = {"status", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT)},
    [O_STATUS_MESSAGE] = {"status-message", 0, ARG_REQUIRED,
                          BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT)},
    [O_PRIORITY] = {"priority", 0, ARG_REQUIRED,
                    BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT) | BIT(XT_CLI_CMD_STATUS)},
    [O_COUNT] = {"count", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT)},
    [O_ECHO] = {"echo", 0, ARG_NONE, BIT(XT_CLI_CMD_BOT)},
    [O_EXEC] = {"exec", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_BOT)},
    [O_EXEC_TIMEOUT] = {"exec-timeout", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_BOT)},
    [O_GROUP] = {"group", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_ADD)},
    /* Every connecting command keeps its account's SASL hint there. */
    [O_STORE] = {"store", 0, ARG_REQUIRED, CONN_CMDS},
    [O_NO_STORE] = {"no-store", 0, ARG_NONE, CONN_CMDS},
    [O_QUEUE] = {"queue", 0, ARG_NONE, BIT(XT_CLI_CMD_SEND)},
    [O_NO_RECONNECT] = {"no-reconnect", 0, ARG_NONE, BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT)},
    [O_KEEPALIVE] = {"keepalive", 0, ARG_REQUIRED, XT_CLI_LONG_CMDS},
    [O_FLUSH] = {"flush", 0, ARG_NONE, BIT(XT_CLI_CMD_SEND)},
    [O_SINCE] = {"since", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_HISTORY)},
    [O_LIMIT] = {"limit", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_HISTORY)},
    [O_OUTPUT] = {"output", 'o', ARG_REQUIRED, BIT(XT_CLI_CMD_GET)},
    [O_FORCE] = {"force", 0, ARG_NONE, BIT(XT_CLI_CMD_GET)},
    [O_NAME] = {"name", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_BOOKMARK) | BIT(XT_CLI_CMD_PROFILE)},
    [O_AUTOJOIN] = {"autojoin", 0, ARG_NONE, BIT(XT_CLI_CMD_BOOKMARK)},
    [O_FILE] = {"file", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_SEND)},
    [O_TYPE] = {"type", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_SEND)},
    /* Group chat (issue 16). */
    [O_MUC] = {"muc", 0, ARG_NONE, BIT(XT_CLI_CMD_SEND)},
    [O_NICK] = {"nick", 0, ARG_REQUIRED,
                BIT(XT_CLI_CMD_SEND) | BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT) |
                    BIT(XT_CLI_CMD_BOOKMARK) | BIT(XT_CLI_CMD_PROFILE)},
    [O_JOIN] = {"join", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT)},
    [O_SELFPING] = {"selfping", 0, ARG_REQUIRED,
                    BIT(XT_CLI_CMD_LISTEN) | BIT(XT_CLI_CMD_BOT) | BIT(XT_CLI_CMD_CHAT)},
    [O_ROOM_PASSWORD_FILE] = {"room-password-file", 0, ARG_REQUIRED,
                              BIT(XT_CLI_CMD_SEND) | BIT(XT_CLI_CMD_LISTEN) |
                                  BIT(XT_CLI_CMD_BOT)},
    [O_PM] = {"pm", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_SEND)},
    /* profile (our vCard; --nick too) */
    [O_EMAIL] = {"email", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_PROFILE)},
    [O_URL] = {"url", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_PROFILE)},
    [O_NOTE] = {"note", 0, ARG_REQUIRED, BIT(XT_CLI_CMD_PROFILE)},
};

/* Strict decimal: digits only (a leading '-' only when min < 0), in range. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;

    if (!*s || (*s == '-' && min >= 0) || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int apply(xt_cli_args *a, int id, const char *val, char *err, size_t errlen)
{
    long v;
    const char *name = opts[id].name;

#define NUM(min, max, what)                                                                        \
    do {                                                                                           \
        if (parse_long(val, (min), (max), &v) != 0) {                                              \
            snprintf(err, errlen, "--%s: '%s' is not %s", name, val, (what));                      \
            return XT_CLI_EXIT_USAGE;                                                              \
        }                                                                                          \
    } while (0)

    switch (id) {
    case O_HELP:
        a->help = 1;
        break;
    case O_VERSION:
        a->version = 1;
        break;
    case O_VERBOSE:
        a->verbose++;
        break;
    case O_JID:
        a->jid = val;
        break;
    case O_SERVER:
        a->server = val;
        break;
    case O_CA_FILE:
        a->ca_file = val;
        break;
    case O_PIN:
        a->pin = val;
        break;
    case O_DIRECT_TLS:
        a->direct_tls = 1;
        break;
    case O_RESOURCE:
        a->resource = val;
        break;
    case O_CONFIG:
        a->config = val;
        break;
    case O_TIMEOUT:
        NUM(1, 86400, "a number of seconds from 1 to 86400");
        a->timeout_s = (unsigned)v;
        break;
    case O_INSECURE:
        a->insecure_plaintext = 1;
        break;
    case O_ALLOW_DOWNGRADE:
        a->allow_downgrade = 1;
        break;
    case O_LINES:
        a->lines = 1;
        break;
    case O_WAIT_REPLY:
        a->wait_reply = 1;
        if (val) {
            NUM(1, 86400, "a number of seconds from 1 to 86400");
            a->wait_reply_s = (unsigned)v;
        }
        break;
    case O_RECEIPT:
        a->receipt = 1;
        if (val) {
            NUM(1, 86400, "a number of seconds from 1 to 86400");
            a->receipt_s = (unsigned)v;
        }
        break;
    case O_JSON:
        a->json = 1;
        break;
    case O_WAIT:
        NUM(0, 600000, "a number of milliseconds from 0 to 600000");
        a->wait_ms = (unsigned)v;
        a->wait_set = 1;
        break;
    case O_STATUS:
        if (xt_cli_parse_show(val, &a->show) != 0) {
            snprintf(err, errlen,
                     "--status: unknown value '%s' (use available, chat, away, xa or dnd)", val);
            return XT_CLI_EXIT_USAGE;
        }
        break;
    case O_STATUS_MESSAGE:
        a->status_message = val;
        break;
    case O_PRIORITY:
        NUM(-128, 127, "a priority from -128 to 127");
        a->priority = (int)v;
        break;
    case O_COUNT:
        NUM(1, 1000000000L, "a positive count");
        a->count = (unsigned long)v;
        break;
    case O_ECHO:
        a->echo = 1;
        break;
    case O_EXEC:
        a->exec_cmd = val;
        break;
    case O_EXEC_TIMEOUT:
        NUM(1, 86400, "a number of seconds from 1 to 86400");
        a->exec_timeout_s = (unsigned)v;
        break;
    case O_GROUP:
        if (a->ngroups >= XT_CLI_MAX_GROUPS) {
            snprintf(err, errlen, "--group: at most %d groups", XT_CLI_MAX_GROUPS);
            return XT_CLI_EXIT_USAGE;
        }
        if (!*val) {
            snprintf(err, errlen, "--group: the group name is empty");
            return XT_CLI_EXIT_USAGE;
        }
        a->groups[a->ngroups++] = val;
        break;
    case O_STORE:
        if (!*val) {
            snprintf(err, errlen, "--store: the file name is empty");
            return XT_CLI_EXIT_USAGE;
        }
        a->store = val;
        break;
    case O_NO_STORE:
        a->no_store = 1;
        break;
    case O_QUEUE:
        a->queue = 1;
        break;
    case O_NO_RECONNECT:
        a->no_reconnect = 1;
        break;
    case O_KEEPALIVE:
        NUM(1, 3600, "a number of seconds from 1 to 3600");
        a->keepalive_s = (unsigned)v;
        break;
    case O_FLUSH:
        a->flush = 1;
        break;
    case O_SINCE:
        if (!*val) {
            snprintf(err, errlen, "--since: give a time (2026-01-31 or 2026-01-31T12:00:00Z) or "
                                  "an archive id");
            return XT_CLI_EXIT_USAGE;
        }
        a->since = val;
        break;
    case O_LIMIT:
        NUM(1, 100000, "a count from 1 to 100000");
        a->limit = (unsigned)v;
        break;
    case O_OUTPUT:
        if (!*val) {
            snprintf(err, errlen, "--output: the file name is empty (\"-\" is stdout)");
            return XT_CLI_EXIT_USAGE;
        }
        a->output = val;
        break;
    case O_FORCE:
        a->force = 1;
        break;
    case O_NAME: /* a bookmark's name (bookmark add) or ours (profile) */
        a->bm_name = a->profile_name = val;
        break;
    case O_FILE:
        a->file = val;
        break;
    case O_TYPE:
        a->file_type = val;
        break;
    case O_MUC:
        a->muc = 1;
        break;
    case O_NICK:
        if (!*val) {
            snprintf(err, errlen, "--nick: the nick is empty");
            return XT_CLI_EXIT_USAGE;
        }
        a->nick = val;
        break;
    case O_AUTOJOIN:
        a->autojoin = 1;
        break;
    case O_SELFPING:
        NUM(1, 86400, "a number of seconds from 1 to 86400");
        a->selfping_s = (unsigned)v;
        break;
    case O_JOIN:
        if (a->njoins >= XT_CLI_MAX_JOINS) {
            snprintf(err, errlen, "--join: at most %d rooms", XT_CLI_MAX_JOINS);
            return XT_CLI_EXIT_USAGE;
        }
        if (!*val) {
            snprintf(err, errlen, "--join: give a room as ROOM@SERVICE or ROOM@SERVICE/NICK");
            return XT_CLI_EXIT_USAGE;
        }
        a->joins[a->njoins++] = val;
        break;
    case O_PM:
        if (!*val) {
            snprintf(err, errlen, "--pm: the nick is empty");
            return XT_CLI_EXIT_USAGE;
        }
        a->pm = val;
        break;
    case O_ROOM_PASSWORD_FILE:
        if (!*val) {
            snprintf(err, errlen, "--room-password-file: the file name is empty");
            return XT_CLI_EXIT_USAGE;
        }
        a->room_password_file = val;
        break;
    case O_EMAIL:
        a->profile_email = val;
        break;
    case O_URL:
        a->profile_url = val;
        break;
    case O_NOTE:
        a->profile_note = val;
        break;
    default:
        break;
    }
#undef NUM
    return 0;
}

/* Checks positionals and option combinations once the command is known. */
static int check(xt_cli_args *a, const char *const *pos, size_t npos, char *err, size_t errlen)
{
    const char *cmd = xt_cli_cmd_name(a->cmd);
    size_t min = 0, max = 0;
    const char *what = "";

    switch (a->cmd) {
    case XT_CLI_CMD_SEND:
        min = a->flush ? 0 : 1; /* --flush: only what the outbox holds */
        max = a->flush ? 0 : 2;
        what = "JID [TEXT]";
        break;
    case XT_CLI_CMD_ADD:
        min = 1;
        max = 2;
        what = "JID [NAME]";
        break;
    case XT_CLI_CMD_REMOVE:
    case XT_CLI_CMD_APPROVE:
    case XT_CLI_CMD_DENY:
    case XT_CLI_CMD_BLOCK:
    case XT_CLI_CMD_UNBLOCK:
    case XT_CLI_CMD_INFO:
    case XT_CLI_CMD_HISTORY:
        min = 1;
        max = 1;
        what = "JID";
        break;
    case XT_CLI_CMD_STATUS:
        min = 1;
        max = 2;
        what = "SHOW [MESSAGE]";
        break;
    case XT_CLI_CMD_HELP:
        min = 0;
        max = 1;
        what = "[COMMAND]";
        break;
    case XT_CLI_CMD_GET:
        min = 1;
        max = 1;
        what = "URL";
        break;
    case XT_CLI_CMD_BOOKMARK:
        min = 2;
        max = 2;
        what = "add|remove ROOM";
        break;
    default:
        break;
    }
    if (npos < min || npos > max) {
        if (max == 0)
            snprintf(err, errlen, "%s: unexpected argument '%s'", cmd, pos[0]);
        else if (npos < min)
            snprintf(err, errlen, "%s: missing argument: %s %s", cmd, cmd, what);
        else
            snprintf(err, errlen, "%s: too many arguments (usage: %s %s)%s", cmd, cmd, what,
                     a->cmd == XT_CLI_CMD_SEND ? "; quote TEXT that has spaces" : "");
        return XT_CLI_EXIT_USAGE;
    }
    switch (a->cmd) {
    case XT_CLI_CMD_SEND:
        a->target = npos > 0 ? pos[0] : NULL;
        a->text = npos > 1 ? pos[1] : NULL;
        if (a->flush && (a->no_store || a->lines || a->wait_reply || a->queue || a->receipt)) {
            snprintf(err, errlen, "send: --flush only sends what the outbox holds; it takes no "
                                  "JID, --lines, --wait-reply, --receipt, --queue or --no-store");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->lines && a->text) {
            snprintf(err, errlen, "send: --lines reads the messages from stdin; do not give TEXT");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->text && !*a->text) {
            snprintf(err, errlen, "send: the message is empty; give a non-empty TEXT");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->file_type && !a->file) {
            snprintf(err, errlen, "send: --type is the content type of --file PATH; give --file");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->file && (a->text || a->lines || a->flush || a->queue)) {
            snprintf(err, errlen, "send: --file sends the file's URL as the message; it takes "
                                  "no TEXT, --lines, --flush or --queue");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->file && a->muc) {
            /* Not yet: send --muc's room flow (cmd_send_muc.c) has no upload step. */
            snprintf(err, errlen, "send: --file to a room (--muc) is not supported yet; send the "
                                  "file to a JID");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->file && !*a->file) {
            snprintf(err, errlen, "send: --file needs a PATH");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->muc && (a->flush || a->queue || a->wait_reply || a->receipt)) {
            snprintf(err, errlen, "send: --muc sends to a room while joined; it takes no --flush, "
                                  "--queue, --wait-reply or --receipt");
            return XT_CLI_EXIT_USAGE;
        }
        if (!a->muc && (a->nick || a->room_password_file || a->pm)) {
            snprintf(err, errlen, "send: --nick, --pm and --room-password-file go with --muc ROOM");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->queue && (a->no_store || a->wait_reply || a->receipt)) {
            snprintf(err, errlen, "send: --queue needs the store and cannot wait for a reply "
                                  "or a receipt; drop --no-store / --wait-reply / --receipt");
            return XT_CLI_EXIT_USAGE;
        }
        break;
    case XT_CLI_CMD_ADD:
        a->target = pos[0];
        a->text = npos > 1 ? pos[1] : NULL;
        break;
    case XT_CLI_CMD_REMOVE:
    case XT_CLI_CMD_APPROVE:
    case XT_CLI_CMD_DENY:
    case XT_CLI_CMD_BLOCK:
    case XT_CLI_CMD_UNBLOCK:
    case XT_CLI_CMD_INFO:
    case XT_CLI_CMD_HISTORY:
    case XT_CLI_CMD_GET:
        a->target = pos[0];
        break;
    case XT_CLI_CMD_STATUS:
        if (xt_cli_parse_show(pos[0], &a->show) != 0) {
            snprintf(err, errlen,
                     "status: unknown SHOW '%s' (use available, chat, away, xa or dnd)", pos[0]);
            return XT_CLI_EXIT_USAGE;
        }
        a->status_message = npos > 1 ? pos[1] : NULL;
        break;
    case XT_CLI_CMD_HELP:
        a->help_topic = npos > 0 ? pos[0] : NULL;
        if (a->help_topic && xt_cli_cmd_lookup(a->help_topic) == XT_CLI_CMD_NONE) {
            snprintf(err, errlen, "help: unknown command '%s'", a->help_topic);
            return XT_CLI_EXIT_USAGE;
        }
        break;
    case XT_CLI_CMD_BOOKMARK:
        a->subcmd = pos[0];
        a->target = pos[1];
        if (strcmp(a->subcmd, "add") && strcmp(a->subcmd, "remove")) {
            snprintf(err, errlen, "bookmark: unknown action '%s' (use add or remove)", a->subcmd);
            return XT_CLI_EXIT_USAGE;
        }
        if (!strcmp(a->subcmd, "remove") && (a->bm_name || a->nick || a->autojoin)) {
            snprintf(err, errlen, "bookmark: --name, --nick and --autojoin go with add");
            return XT_CLI_EXIT_USAGE;
        }
        break;
    case XT_CLI_CMD_BOT:
        if (!a->echo == !a->exec_cmd) {
            snprintf(err, errlen, "bot: give exactly one of --echo or --exec CMD");
            return XT_CLI_EXIT_USAGE;
        }
        if (a->exec_cmd && !*a->exec_cmd) {
            snprintf(err, errlen, "bot: --exec needs a non-empty command");
            return XT_CLI_EXIT_USAGE;
        }
        break;
    default:
        break;
    }
    return 0;
}

int xt_cli_args_parse(int argc, char *const argv[], xt_cli_args *a, char *err, size_t errlen)
{
    const char *pos[4];
    size_t npos = 0;
    unsigned long long seen = 0;
    int only_pos = 0, rc;

    memset(a, 0, sizeof *a);
    a->timeout_s = XT_CLI_DEFAULT_TIMEOUT_S;
    a->wait_reply_s = XT_CLI_DEFAULT_WAIT_REPLY_S;
    a->receipt_s = XT_CLI_DEFAULT_RECEIPT_S;
    a->wait_ms = XT_CLI_DEFAULT_ROSTER_WAIT_MS;
    a->exec_timeout_s = XT_CLI_DEFAULT_EXEC_TIMEOUT_S;
    a->show = XT_SHOW_AVAILABLE;
    err[0] = '\0';

    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];

        if (only_pos || s[0] != '-' || s[1] == '\0') {
            if (a->cmd == XT_CLI_CMD_NONE) {
                a->cmd = xt_cli_cmd_lookup(s);
                if (a->cmd == XT_CLI_CMD_NONE) {
                    snprintf(err, errlen, "unknown command '%s' (see 'xtalk --help')", s);
                    return XT_CLI_EXIT_USAGE;
                }
            } else if (npos < sizeof pos / sizeof pos[0]) {
                pos[npos++] = s;
            } else {
                snprintf(err, errlen, "%s: too many arguments", xt_cli_cmd_name(a->cmd));
                return XT_CLI_EXIT_USAGE;
            }
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (s[1] != '-') {
            /* Short options: flags may be bundled (-vv); one taking a
             * value (-o FILE, -oFILE) ends the bundle. */
            for (const char *c = s + 1; *c; c++) {
                int id = -1;
                for (int k = 0; k < O_COUNT_; k++)
                    if (opts[k].short_name && opts[k].short_name == *c)
                        id = k;
                if (id < 0) {
                    snprintf(err, errlen, "unknown option '-%c' (see 'xtalk --help')", *c);
                    return XT_CLI_EXIT_USAGE;
                }
                const char *val = NULL;
                if (opts[id].arg == ARG_REQUIRED) {
                    if (c[1])
                        val = c + 1;
                    else if (i + 1 < argc)
                        val = argv[++i];
                    else {
                        snprintf(err, errlen, "option -%c needs a value", *c);
                        return XT_CLI_EXIT_USAGE;
                    }
                }
                seen |= 1ull << id;
                if ((rc = apply(a, id, val, err, errlen)) != 0)
                    return rc;
                if (val)
                    break;
            }
            continue;
        }
        const char *name = s + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int id = -1;
        for (int k = 0; k < O_COUNT_; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
                id = k;
        if (id < 0) {
            snprintf(err, errlen, "unknown option '--%.*s' (see 'xtalk --help')", (int)nlen, name);
            return XT_CLI_EXIT_USAGE;
        }
        const char *val = NULL;
        if (opts[id].arg == ARG_NONE && eq) {
            snprintf(err, errlen, "option --%s takes no value", opts[id].name);
            return XT_CLI_EXIT_USAGE;
        }
        if (opts[id].arg == ARG_OPTIONAL && eq) {
            val = eq + 1;
        } else if (opts[id].arg == ARG_REQUIRED) {
            if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                snprintf(err, errlen, "option --%s needs a value", opts[id].name);
                return XT_CLI_EXIT_USAGE;
            }
        }
        seen |= 1ull << id;
        if ((rc = apply(a, id, val, err, errlen)) != 0)
            return rc;
    }

    /* Options given before the command are checked now that it is known. */
    for (int k = 0; k < O_COUNT_; k++) {
        if (!(seen & (1ull << k)))
            continue;
        if (a->cmd == XT_CLI_CMD_NONE ? !(opts[k].cmds == ALL_CMDS)
                                      : !(opts[k].cmds & BIT(a->cmd))) {
            if (a->cmd == XT_CLI_CMD_NONE)
                snprintf(err, errlen, "option --%s needs a command (see 'xtalk --help')",
                         opts[k].name);
            else
                snprintf(err, errlen, "%s: option --%s does not apply here (see 'xtalk %s --help')",
                         xt_cli_cmd_name(a->cmd), opts[k].name, xt_cli_cmd_name(a->cmd));
            return XT_CLI_EXIT_USAGE;
        }
    }
    if (a->help || a->version)
        return 0;
    if (a->cmd == XT_CLI_CMD_NONE) {
        snprintf(err, errlen, "no command given (see 'xtalk --help')");
        return XT_CLI_EXIT_USAGE;
    }
    return check(a, pos, npos, err, errlen);
}
