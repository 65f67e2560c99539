/* Slash commands: table, parsing, completion. */
#include "chat_cmd.h"

#include <string.h>
#include <strings.h>

static const xt_chat_cmd_info cmds[XT_CHAT_CMD_COUNT_] = {
    [XT_CHAT_CMD_MSG] = {"msg", "JID [TEXT]", "open a conversation (and send TEXT)", 1, 0},
    [XT_CHAT_CMD_ADD] = {"add", "JID [NAME]", "add a contact and ask to see its presence", 1, 0},
    [XT_CHAT_CMD_REMOVE] = {"remove", "JID", "remove a contact", 1, 0},
    [XT_CHAT_CMD_APPROVE] = {"approve", "JID", "let JID see your presence", 1, 0},
    [XT_CHAT_CMD_DENY] = {"deny", "JID", "refuse (or revoke) JID's subscription", 1, 0},
    [XT_CHAT_CMD_STATUS] = {"status", "available|chat|away|xa|dnd [MESSAGE]", "set your presence",
                            0, 0},
    [XT_CHAT_CMD_CLOSE] = {"close", "", "close this conversation", 0, 0},
    [XT_CHAT_CMD_HISTORY] = {"history", "[N]", "load N older messages here (default 50)", 0, 0},
    [XT_CHAT_CMD_SEARCH] = {"search", "TEXT", "search every conversation's history", 0, 0},
    [XT_CHAT_CMD_WINDOWS] = {"windows", "", "list the open windows", 0, 0},
    [XT_CHAT_CMD_BELL] = {"bell", "on|off", "ring the terminal bell on new messages", 0, 0},
    [XT_CHAT_CMD_RECONNECT] = {"reconnect", "", "connect again now (offline: no waiting)", 0, 0},
    [XT_CHAT_CMD_ME] = {"me", "ACTION", "say what you do: \"* you ACTION\" (XEP-0245)", 0, 0},
    [XT_CHAT_CMD_REACT] = {"react", "[EMOJI]", "react to the last message here (XEP-0444); "
                                               "none removes yours", 0, 0},
    [XT_CHAT_CMD_BLOCK] = {"block", "[JID]", "block JID (default: this conversation's) (XEP-0191)",
                           0, 0},
    [XT_CHAT_CMD_UNBLOCK] = {"unblock", "[JID]", "unblock JID (default: this conversation's)", 0, 0},
    [XT_CHAT_CMD_INFO] = {"info", "[JID]",
                          "name, nickname, resources and their clients' features", 0, 0},
    [XT_CHAT_CMD_OPEN] = {"open", "N", "open received file N in the desktop's viewer (xdg-open), "
                                       "else show its URL", 0, 0},
    [XT_CHAT_CMD_SAVE] = {"save", "N [PATH]", "download received file N (to PATH, a directory "
                                              "or a file; default: its name here)", 0, 2},
    [XT_CHAT_CMD_UPLOAD] = {"upload", "PATH", "send a file here (HTTP File Upload, XEP-0363)", 0,
                            1},
    [XT_CHAT_CMD_JOIN] = {"join", "ROOM@SERVICE[/NICK]",
                          "enter a room (XEP-0045); a password is asked for when needed", 0, 0},
    [XT_CHAT_CMD_PART] = {"part", "[REASON]", "leave this room (the window stays)", 0, 0},
    [XT_CHAT_CMD_NICK] = {"nick", "NICK", "change your nick in this room", 0, 0},
    [XT_CHAT_CMD_TOPIC] = {"topic", "[TEXT]", "show or set this room's subject", 0, 0},
    [XT_CHAT_CMD_INVITE] = {"invite", "JID [REASON]", "invite JID to this room (XEP-0249)", 1, 0},
    [XT_CHAT_CMD_KICK] = {"kick", "NICK [REASON]", "kick NICK out of this room", 0, 0},
    [XT_CHAT_CMD_BAN] = {"ban", "NICK|JID [REASON]", "ban NICK's address from this room", 0, 0},
    [XT_CHAT_CMD_OCCUPANTS] = {"occupants", "[on|off]",
                               "list who is here; on|off: the occupant pane (Alt-O)", 0, 0},
    [XT_CHAT_CMD_BOOKMARK] = {"bookmark", "[remove]",
                              "bookmark this room, joined at start (XEP-0402); remove: unmark", 0, 0},
    [XT_CHAT_CMD_HELP] = {"help", "", "commands and keys", 0, 0},
    [XT_CHAT_CMD_QUIT] = {"quit", "", "leave", 0, 0},
};

static const char *const names[XT_CHAT_CMD_COUNT_ - 1] = {
    "/msg",     "/add",     "/remove",  "/approve",   "/deny",      "/status", "/close",
    "/history", "/search",  "/windows", "/bell",      "/reconnect", "/me",     "/react",
    "/block",   "/unblock", "/info",    "/open",      "/save",      "/upload", "/join",
    "/part",    "/nick",    "/topic",   "/invite",    "/kick",      "/ban",    "/occupants",
    "/bookmark", "/help",   "/quit",
};

const xt_chat_cmd_info *xt_chat_cmd_info_of(xt_chat_cmd_id id)
{
    return id > XT_CHAT_CMD_NONE && id < XT_CHAT_CMD_COUNT_ ? &cmds[id] : NULL;
}

const char *const *xt_chat_cmd_names(size_t *n)
{
    *n = sizeof names / sizeof names[0];
    return names;
}

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

xt_chat_cmd_id xt_chat_cmd_parse(const char *line, char *buf, size_t len, const char **arg1,
                                 const char **rest)
{
    size_t i = 1, n = 0, o = 0;
    xt_chat_cmd_id found = XT_CHAT_CMD_NONE;

    *arg1 = *rest = "";
    if (line[0] != '/' || line[1] == '/' || len < strlen(line) + 2)
        return XT_CHAT_CMD_NONE;
    while (line[i] && !blank(line[i]))
        i++;
    n = i - 1;
    if (n == 0)
        return XT_CHAT_CMD_NONE;
    for (int c = 1; c < XT_CHAT_CMD_COUNT_; c++) {
        if (strlen(cmds[c].name) < n || strncmp(cmds[c].name, line + 1, n) != 0)
            continue;
        if (strlen(cmds[c].name) == n) { /* exact beats prefix */
            found = (xt_chat_cmd_id)c;
            break;
        }
        if (found != XT_CHAT_CMD_NONE)
            return XT_CHAT_CMD_NONE; /* ambiguous */
        found = (xt_chat_cmd_id)c;
    }
    if (found == XT_CHAT_CMD_NONE)
        return found;
    while (blank(line[i]))
        i++;
    /* arg1: the first word */
    size_t a = i;
    while (line[i] && !blank(line[i]))
        i++;
    memcpy(buf, line + a, i - a);
    buf[i - a] = 0;
    *arg1 = buf;
    o = i - a + 1;
    while (blank(line[i]))
        i++;
    /* rest: after the first word, trailing blanks trimmed */
    size_t r = strlen(line + i);
    while (r > 0 && blank(line[i + r - 1]))
        r--;
    memcpy(buf + o, line + i, r);
    buf[o + r] = 0;
    *rest = buf + o;
    return found;
}

/* One rule of xt_chat_resolve over every contact. */
static size_t resolve_rule(int rule, const char *arg, const xt_chat_name *k, size_t n, size_t *idx,
                           size_t max)
{
    size_t alen = strlen(arg), count = 0;

    for (size_t i = 0; i < n; i++) {
        const char *name = k[i].name;
        int hit;
        if (rule == 1)
            hit = strcasecmp(k[i].jid, arg) == 0;
        else if (rule == 2)
            hit = name && strcasecmp(name, arg) == 0;
        else
            hit = strncasecmp(k[i].jid, arg, alen) == 0 ||
                  (name && strncasecmp(name, arg, alen) == 0);
        if (!hit)
            continue;
        if (count < max)
            idx[count] = i;
        count++;
    }
    return count;
}

size_t xt_chat_resolve(const char *arg, const xt_chat_name *contacts, size_t n, size_t *idx,
                       size_t max)
{
    if (!*arg)
        return 0;
    for (int rule = 1; rule <= 3; rule++) {
        size_t m = resolve_rule(rule, arg, contacts, n, idx, max);
        if (m > 0)
            return m;
    }
    return 0;
}

size_t xt_chat_complete(const char *prefix, const char *const *cands, size_t n, char *out,
                        size_t outlen, size_t *first)
{
    size_t plen = strlen(prefix), count = 0, common = 0;
    const char *best = NULL;

    for (size_t i = 0; i < n; i++) {
        if (strncmp(cands[i], prefix, plen) != 0)
            continue;
        if (!best) {
            best = cands[i];
            common = strlen(best);
            if (first)
                *first = i;
        } else {
            size_t k = 0;
            while (k < common && cands[i][k] == best[k])
                k++;
            common = k;
        }
        count++;
    }
    if (outlen == 0)
        return count;
    if (!best) {
        out[0] = 0;
        return 0;
    }
    if (common >= outlen)
        common = outlen - 1;
    /* Never cut inside a UTF-8 sequence. */
    while (common > plen && ((unsigned char)best[common] & 0xc0) == 0x80)
        common--;
    memcpy(out, best, common);
    out[common] = 0;
    return count;
}
