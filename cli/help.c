/* --help texts. Keep in step with doc/xtalk.1. */
#include <stdio.h>

#include "args.h"

static const char common_opts[] =
    "Connection options (every command that connects):\n"
    "  --jid JID              account (or XTALK_JID, or 'jid' in the config)\n"
    "  --server HOST[:PORT]   connect here instead of looking up SRV records; the JID's\n"
    "                         domain stays the TLS name (or XTALK_SERVER)\n"
    "  --ca-file FILE         also trust this CA or certificate (PEM) (or XTALK_CA_FILE)\n"
    "  --pin SHA256           accept only the server certificate with this SHA-256\n"
    "  --direct-tls           TLS from the first byte (XEP-0368), default port 5223\n"
    "  --resource RES         resource to request (default: this installation's own,\n"
    "                         kept in $XDG_DATA_HOME/xtalk/resource)\n"
    "  --config FILE          config file (default $XDG_CONFIG_HOME/xtalk/config)\n"
    "  --timeout SECONDS      connect and acknowledgement deadline (default 30)\n"
    "  --store FILE           the store (default $XDG_DATA_HOME/xtalk/xtalk.db): outbox,\n"
    "                         repeats seen, history, the server's login offer\n"
    "  --no-store             use none (logins then take one round trip more)\n"
    "  --insecure-allow-plaintext\n"
    "                         go on without TLS if the server offers none (INSECURE)\n"
    "  --allow-downgrade      accept a login weaker than this account had before\n"
    "                         (PLAIN after SCRAM, no channel binding after it)\n"
    "  -v, --verbose          log the XML stream on stderr (credentials redacted)\n"
    "  -h, --help             this help\n"
    "Precedence: command line, then environment, then config file.\n"
    "The password is never taken from the command line: XTALK_PASSWORD, then\n"
    "password_command in the config, then a prompt on the terminal.\n"
    "A connection cut or refused before the login is retried with backoff until\n"
    "--timeout passes; a refused password or certificate, a policy error or a\n"
    "name that does not exist fails at once.\n";

static const char exit_codes[] =
    "Exit status:\n"
    "  0 ok   1 other error   2 usage   3 config/password   4 DNS/connect\n"
    "  5 TLS/certificate   6 authentication   7 timeout/no ack/no reply\n"
    "  8 disconnected by the server\n"
    "  group chat (send --muc): 20 nick in use or not acceptable   21 room password\n"
    "  missing or wrong   22 members-only room   23 banned   24 other refusal\n";

static const char overview[] =
    "Usage: xtalk [-v] COMMAND [OPTIONS] [ARGS]\n"
    "       xtalk --version | --help | help COMMAND\n"
    "\n"
    "An XMPP client for the command line.\n"
    "\n"
    "Commands:\n"
    "  send JID [TEXT]        send a message (TEXT or stdin); exit 0 once the server has it\n"
    "  roster                 print contacts, subscriptions and online resources\n"
    "  listen                 stay online and print messages and presence as they come\n"
    "  bot --echo|--exec CMD  answer each message, with its text or with CMD's output\n"
    "  add JID [NAME]         add a contact and ask to see its presence\n"
    "  remove JID             remove a contact\n"
    "  approve JID            let JID see your presence\n"
    "  deny JID               refuse or revoke JID's presence subscription\n"
    "  status SHOW [MESSAGE]  go online with this presence once, then exit\n"
    "  chat                   full-screen chat: roster, conversations, searchable history\n"
    "  history JID            print the server's archive of a conversation (XEP-0313)\n"
    "  block JID              block JID (XEP-0191): no stanzas either way\n"
    "  unblock JID            unblock JID\n"
    "  blocklist              print the blocked JIDs\n"
    "  info JID               a contact's name, nickname, resources and their clients\n"
    "  rooms                  print the group chat bookmarks\n"
    "  bookmark add|remove ROOM  bookmark a room (name, nick, autojoin) or drop one\n"
    "\n"
    "Run 'xtalk COMMAND --help' for a command's options. See also xtalk(1).\n"
    "\n";

static const char *const cmd_help[XT_CLI_CMD_COUNT_] = {
    [XT_CLI_CMD_SEND] =
        "Usage: xtalk send [OPTIONS] JID [TEXT]\n"
        "       xtalk send --muc [--nick NICK] ROOM@SERVICE[/NICK] [TEXT]\n"
        "       xtalk send --flush [OPTIONS]\n"
        "\n"
        "Sends TEXT to JID as a chat message; without TEXT, the whole of stdin is one\n"
        "message (trailing newlines removed). Each message is first written to the\n"
        "outbox ($XDG_DATA_HOME/xtalk/xtalk.db), then sent, and removed once the server\n"
        "acknowledges it. Exits 0 only when every message is acknowledged, including\n"
        "any an earlier run left in the outbox (killed, offline, timed out), which are\n"
        "sent first with their original ids so receivers drop repeats. A lost\n"
        "connection is retried until --timeout passes without progress (exit 7; the\n"
        "rest stays queued), and so is one cut before the login. If it never gets\n"
        "online, this run's messages are taken back out of the outbox (the exit code\n"
        "says it failed).\n"
        "\n"
        "  --lines                each stdin line is its own message (empty lines skipped);\n"
        "                         the whole batch is queued in one transaction\n"
        "  --wait-reply[=SECONDS] then wait for the next message from JID (any resource)\n"
        "                         and print its body on stdout (default 10 s; exit 7 if none);\n"
        "                         only one arriving after the message was acknowledged, in\n"
        "                         its thread (or without one, unless an earlier run's\n"
        "                         message to JID went out too)\n"
        "  --receipt[=SECONDS]    ask JID's client for a delivery receipt (XEP-0184) and,\n"
        "                         once the server has the messages, wait for one per message\n"
        "                         of this run (default 10 s; exit 7 if one is missing: the\n"
        "                         message reached the server, the recipient's client did not\n"
        "                         confirm it; it may be offline or not support receipts)\n"
        "  --queue                exit 0 once the messages are durably queued: then try to\n"
        "                         deliver for up to 5 s; what is not acknowledged by then\n"
        "                         (offline, slow server) stays queued for the next send;\n"
        "                         authentication, certificate and config errors still fail\n"
        "  --muc                  JID is a group chat room (XEP-0045): join it (no history),\n"
        "                         send, and exit 0 once the room has reflected every message\n"
        "                         back; then leave. Not queued in the outbox. A refused join\n"
        "                         exits 20-24 (see below) with the room's reason\n"
        "  --nick NICK            our nick in the room (default: the JID's localpart)\n"
        "  --pm NICK              with --muc: a private message to the occupant NICK\n"
        "                         instead (exit 0 once the room has handled it)\n"
        "  --room-password-file FILE\n"
        "                         the room's password, first line of FILE (or\n"
        "                         XTALK_ROOM_PASSWORD; never on the command line)\n"
        "  --flush                send only what the outbox holds (no JID, no TEXT);\n"
        "                         exit 0 when it is empty afterwards\n"
        "  --no-store             no outbox: nothing is kept across runs\n"
        "  --keepalive SECONDS    ping after this idle time; no answer within as long\n"
        "                         means the connection is dead (default 60)\n"
        "\n"
        "Empty messages are a usage error; text must be valid UTF-8.\n",
    [XT_CLI_CMD_ROSTER] =
        "Usage: xtalk roster [OPTIONS]\n"
        "\n"
        "Prints each contact (JID, name, subscription, groups) and its online resources\n"
        "(show, priority, status), once the server has answered a ping sent after our\n"
        "presence (contacts on this server have answered by then).\n"
        "\n"
        "  --json                 one JSON object per contact per line\n"
        "  --wait MS              then wait this long for contacts on other servers\n"
        "                         (default 150, 0 = not at all; config: roster_wait)\n",
    [XT_CLI_CMD_LISTEN] =
        "Usage: xtalk listen [OPTIONS]\n"
        "\n"
        "Stays online and prints every incoming message, presence change, subscription\n"
        "request and roster change, one per line. \"xtalk: online as JID\" on stderr\n"
        "says it is ready. SIGINT/SIGTERM close the session cleanly (exit 0); a\n"
        "disconnection that cannot be retried (authentication, conflict) exits 8.\n"
        "\n"
        "  --json                 one JSON object per line; field \"event\" is message,\n"
        "                         presence, subscription, roster, receipt (XEP-0184: from,\n"
        "                         id), chatstate (XEP-0085: from, state), reaction\n"
        "                         (XEP-0444: from, id, reactions) or retraction (XEP-0424:\n"
        "                         from, id); a message has \"replaces\" (XEP-0308: the id\n"
        "                         it corrects) and \"me\" (XEP-0245); absent fields omitted\n"
        "                         A message's \"source\" is live, carbon, archive or\n"
        "                         offline, \"direction\" in or out (sent from another\n"
        "                         device of yours), \"stanza_id\" the archive's id;\n"
        "                         \"archive\" ends the login catch-up\n"
        "  --status SHOW          own presence: available, chat, away, xa, dnd\n"
        "  --status-message TEXT  own status text\n"
        "  --priority N           own priority, -128..127 (default 0)\n"
        "  --count N              exit 0 after N messages with a body (no archive\n"
        "                         catch-up at login: the next N that arrive)\n"
        "  --join ROOM@SERVICE[/NICK]\n"
        "                         also join this group chat room (repeatable; again after\n"
        "                         each reconnect); its messages are \"type\":\"groupchat\"\n"
        "                         with \"room\", \"nick\", \"mention\" (our nick named) and\n"
        "                         \"self\" (ours, reflected); events joined, join_failed,\n"
        "                         join, leave (why: kicked, banned...; reason), nick, role,\n"
        "                         affiliation, occupant, subject, left, invite, decline\n"
        "  --nick NICK            our nick in --join rooms without /NICK (default: the\n"
        "                         JID's localpart)\n"
        "  --room-password-file FILE\n"
        "                         password for the --join rooms (or XTALK_ROOM_PASSWORD)\n"
        "  --selfping SECONDS     a room quiet this long is asked whether we are still in\n"
        "                         it (XEP-0410); if not, joined again (default 300)\n"
        "  --no-reconnect         exit on a lost connection instead of reconnecting\n"
        "  --keepalive SECONDS    ping after this idle time; no answer within as long\n"
        "                         means the connection is dead (default 60)\n"
        "  --no-store             remember repeats in memory only\n"
        "\n"
        "At login, what arrived since this installation was last online (on other\n"
        "devices, or while none was) is fetched from the server's archive (XEP-0313)\n"
        "first; \"archive\" (--json) or a note on stderr says when that is done.\n"
        "A message seen before (same XEP-0359 origin-id or stanza-id, or same id and\n"
        "text, from the same bare JID) is not printed again. A message carrying only a\n"
        "receipt, chat state, reactions or a retraction shows as that event alone. A\n"
        "retraction of a message someone else sent is a forgery: not printed, noted on\n"
        "stderr. Receipts are answered for those allowed to see our presence. A lost\n"
        "connection is\n"
        "retried with backoff, each time saying \"xtalk: reconnecting in N ms: WHY\"\n"
        "and then \"xtalk: online as JID\" (\" (resumed)\" when the session survived).\n",
    [XT_CLI_CMD_BOT] =
        "Usage: xtalk bot --echo | --exec CMD [OPTIONS]\n"
        "\n"
        "Answers each chat or normal message that has a body; never errors, messages\n"
        "without a body, or messages stored while the bot was offline. --echo answers\n"
        "with the same text; --exec runs /bin/sh -c CMD with the body on stdin and\n"
        "XTALK_FROM, XTALK_TO, XTALK_ID, XTALK_TYPE set, and answers with its stdout\n"
        "(at most 64 KiB; trailing newlines removed; nothing if empty). The message is\n"
        "never put into the command line. Answers to one sender keep their order.\n"
        "In a --join room only messages naming the bot's nick are answered, in the\n"
        "room (XTALK_TYPE=groupchat, XTALK_FROM=room/nick); private messages from its\n"
        "occupants are answered privately.\n"
        "\n"
        "  --echo                 answer with the message's own body\n"
        "  --exec CMD             answer with CMD's output; no answer if it fails\n"
        "  --exec-timeout SECONDS kill CMD's process group after this (default 10)\n"
        "  --status SHOW, --status-message TEXT, --priority N   as for listen\n"
        "  --count N              exit 0 after handling N messages\n"
        "  --join ROOM@SERVICE[/NICK]   also sit in this room (repeatable; no history)\n"
        "  --nick NICK, --room-password-file FILE   as for listen\n"
        "  --no-reconnect, --keepalive SECONDS, --selfping SECONDS, --no-store\n"
        "                         as for listen\n"
        "\n"
        "A repeated message (see listen) is never answered twice.\n",
    [XT_CLI_CMD_ADD] =
        "Usage: xtalk add [OPTIONS] JID [NAME]\n"
        "\n"
        "Adds JID to the roster (with NAME and groups) and asks to see its presence.\n"
        "\n"
        "  --group GROUP          put the contact in GROUP (repeatable)\n",
    [XT_CLI_CMD_REMOVE] =
        "Usage: xtalk remove [OPTIONS] JID\n"
        "\n"
        "Removes JID from the roster (this also cancels subscriptions both ways).\n",
    [XT_CLI_CMD_APPROVE] =
        "Usage: xtalk approve [OPTIONS] JID\n"
        "\n"
        "Allows JID to see your presence (answers or pre-approves its request).\n",
    [XT_CLI_CMD_DENY] = "Usage: xtalk deny [OPTIONS] JID\n"
                        "\n"
                        "Refuses JID's presence subscription request, or revokes one granted.\n",
    [XT_CLI_CMD_STATUS] =
        "Usage: xtalk status [OPTIONS] SHOW [MESSAGE]\n"
        "\n"
        "Goes online with this presence (available, chat, away, xa, dnd), waits for the\n"
        "server to acknowledge it, and exits (going offline again). For a lasting\n"
        "status, use 'xtalk listen --status SHOW'.\n"
        "\n"
        "  --priority N           priority, -128..127 (default 0)\n",
    [XT_CLI_CMD_BLOCK] =
        "Usage: xtalk block [OPTIONS] JID\n"
        "\n"
        "Asks the server to block JID (a full JID, a bare JID with all its resources,\n"
        "or a whole domain; XEP-0191): nothing from it reaches any of your devices, and\n"
        "nothing goes to it. Exits 0 once the server confirms.\n",
    [XT_CLI_CMD_UNBLOCK] =
        "Usage: xtalk unblock [OPTIONS] JID\n"
        "\n"
        "Removes JID from the blocklist (as written in 'xtalk blocklist'). Exits 0 once\n"
        "the server confirms.\n",
    [XT_CLI_CMD_BLOCKLIST] =
        "Usage: xtalk blocklist [OPTIONS]\n"
        "\n"
        "Prints the blocked JIDs, one per line.\n"
        "\n"
        "  --json                 one object: {\"blocked\":[JID...]}\n",
    [XT_CLI_CMD_ROOMS] =
        "Usage: xtalk rooms [OPTIONS]\n"
        "\n"
        "Prints the account's group chat bookmarks, one per line, tab-separated: ROOM,\n"
        "NAME, NICK ('-' when none), 'autojoin' or '-', and 'password' when the bookmark\n"
        "holds a room password (never the password itself). They are the XEP-0402\n"
        "bookmarks when the server keeps those in step with the older XEP-0048 ones\n"
        "(it advertises urn:xmpp:bookmarks:1#compat), else the XEP-0048 ones.\n"
        "\n"
        "  --json                 one object per bookmark: room, name, nick, autojoin,\n"
        "                         password (true/false), store (pep or private)\n",
    [XT_CLI_CMD_BOOKMARK] =
        "Usage: xtalk bookmark add [OPTIONS] ROOM [--name NAME] [--nick NICK] [--autojoin]\n"
        "       xtalk bookmark remove [OPTIONS] ROOM\n"
        "\n"
        "Adds a bookmark of ROOM (room@service), or replaces the one there with what\n"
        "the options say (a password already in it is kept; none is taken on the\n"
        "command line), or removes it (exit 1 when there is none). Exits 0 once the\n"
        "server confirms. See 'xtalk rooms --help' for where bookmarks are kept.\n"
        "\n"
        "  --name NAME            the room's name in the list\n"
        "  --nick NICK            the nickname to join with\n"
        "  --autojoin             join it at start (listen, bot, chat)\n",
    [XT_CLI_CMD_INFO] =
        "Usage: xtalk info [OPTIONS] JID\n"
        "\n"
        "Prints what can be learned about JID: the name and other fields of its vCard\n"
        "(XEP-0054), the nickname it published (XEP-0172), and each online resource\n"
        "(visible when you may see its presence) with its show, priority and status,\n"
        "and the client behind each: its identity and features (XEP-0030 disco#info;\n"
        "\"caps verified\" when its XEP-0115 caps matched them).\n"
        "\n"
        "  --json                 one object: jid, name, nickname, ..., resources[]\n"
        "  --wait MS              wait for presence until none came for MS (default 1500)\n",
    [XT_CLI_CMD_CHAT] =
        "Usage: xtalk chat [OPTIONS]\n"
        "\n"
        "A full-screen chat client: roster grouped by group with presence (+ available,\n"
        "* chat, ~ away, % xa, ! dnd, - offline), one window per conversation, a line\n"
        "editor (Enter sends, Alt-Enter inserts a line break, a paste is one message),\n"
        "slash commands (/help inside lists them and the keys; a JID argument may be a\n"
        "roster name or the start of one). Every message is kept in\n"
        "$XDG_DATA_HOME/xtalk/xtalk.db: PgUp loads older ones, /search TEXT searches\n"
        "them all (the store is the one every command uses: --store FILE;\n"
        "--no-store runs without history). A lost connection is retried like listen's\n"
        "(backoff, XEP-0198 resumption); one that cannot be retried (conflict,\n"
        "authentication) leaves chat offline. Messages typed meanwhile are queued and\n"
        "sent once online. XTALK_CHAT_BELL=0 silences the bell; NO_COLOR turns colours\n"
        "off. Needs a terminal. With no account configured, asks for the JID and offers\n"
        "to save it in the config file (mode 0600).\n",
    [XT_CLI_CMD_HISTORY] =
        "Usage: xtalk history [OPTIONS] JID\n"
        "\n"
        "Prints the conversation with JID as the server's archive (XEP-0313) holds it,\n"
        "oldest first: the newest messages, or those since a time or an archive id.\n"
        "Messages you sent (from any device) are marked as yours. Exit 1 when the\n"
        "server keeps no archive.\n"
        "\n"
        "  --since TIME|ID        from this time (2026-01-31, 2026-01-31T12:00:00Z) or\n"
        "                         after this archive id (a message's stanza_id)\n"
        "  --limit N              at most N messages (default 50)\n"
        "  --json                 one JSON object per message, as listen --json prints\n",
};

void xt_cli_help(FILE *out, xt_cli_cmd cmd)
{
    if (cmd <= XT_CLI_CMD_NONE || cmd == XT_CLI_CMD_HELP || cmd >= XT_CLI_CMD_COUNT_) {
        fputs(overview, out);
        fputs(common_opts, out);
        fputs("\nEnvironment: XTALK_JID, XTALK_SERVER, XTALK_CA_FILE, XTALK_PASSWORD,\n"
              "XDG_CONFIG_HOME.\n\n",
              out);
        fputs(exit_codes, out);
        return;
    }
    fputs(cmd_help[cmd], out);
    fputc('\n', out);
    fputs(common_opts, out);
    fputc('\n', out);
    fputs(exit_codes, out);
}
