/*
 * chat_cmd.h -- the slash commands of `xtalk chat`: their table (name,
 * arguments, one-line help), splitting an input line into command and
 * arguments, and Tab completion of command names and JIDs. Pure; no
 * curses. tests/unit/test_chat_cmd.c. Running them is chat_input.c's.
 */
#ifndef XT_CLI_CHAT_CMD_H
#define XT_CLI_CHAT_CMD_H

#include <stddef.h>

typedef enum xt_chat_cmd_id {
    XT_CHAT_CMD_NONE = 0,
    XT_CHAT_CMD_MSG,
    XT_CHAT_CMD_ADD,
    XT_CHAT_CMD_REMOVE,
    XT_CHAT_CMD_APPROVE,
    XT_CHAT_CMD_DENY,
    XT_CHAT_CMD_STATUS,
    XT_CHAT_CMD_CLOSE,
    XT_CHAT_CMD_HISTORY,
    XT_CHAT_CMD_SEARCH,
    XT_CHAT_CMD_WINDOWS,
    XT_CHAT_CMD_BELL,
    XT_CHAT_CMD_RECONNECT,
    XT_CHAT_CMD_ME,
    XT_CHAT_CMD_REACT,
    XT_CHAT_CMD_BLOCK,
    XT_CHAT_CMD_UNBLOCK,
    XT_CHAT_CMD_INFO,
    /* Group chat (chat_room.c). */
    XT_CHAT_CMD_JOIN,
    XT_CHAT_CMD_PART,
    XT_CHAT_CMD_NICK,
    XT_CHAT_CMD_TOPIC,
    XT_CHAT_CMD_INVITE,
    XT_CHAT_CMD_KICK,
    XT_CHAT_CMD_BAN,
    XT_CHAT_CMD_OCCUPANTS,
    XT_CHAT_CMD_BOOKMARK,
    XT_CHAT_CMD_HELP,
    XT_CHAT_CMD_QUIT,
    XT_CHAT_CMD_COUNT_
} xt_chat_cmd_id;

typedef struct xt_chat_cmd_info {
    const char *name; /* without the slash */
    const char *args; /* for /help */
    const char *help;
    int jid_arg;      /* the first argument is a JID (completed from the roster) */
} xt_chat_cmd_info;

const xt_chat_cmd_info *xt_chat_cmd_info_of(xt_chat_cmd_id id);

/*
 * Splits a line starting with '/': the command (a unique prefix of a
 * name is accepted: "/q" is /quit), *arg1 the first word after it, *rest
 * everything after the first word (blanks trimmed), both pointing into
 * `line` as offsets, and NUL-terminated copies written into buf (size
 * len: line's length + 2 is enough). Returns the command, or
 * XT_CHAT_CMD_NONE for an unknown or ambiguous name ("//x" is not a
 * command: the caller sends "/x").
 */
xt_chat_cmd_id xt_chat_cmd_parse(const char *line, char *buf, size_t len, const char **arg1,
                                 const char **rest);

/*
 * Completion. cands[0..n) are the candidates; the ones starting with
 * `prefix` match. Writes the longest common prefix of the matches into
 * out (size outlen, truncated at a UTF-8 boundary) and returns the number
 * of matches; *first gets the index of the first match.
 */
size_t xt_chat_complete(const char *prefix, const char *const *cands, size_t n, char *out,
                        size_t outlen, size_t *first);

/*
 * Who a JID argument names (/msg, /remove, /approve...): contacts[0..n)
 * are the known JIDs with their roster names (name may be NULL). In this
 * order, the first rule that matches decides:
 *   1. the JID itself (ASCII case ignored);
 *   2. a name, whole (ASCII case ignored);
 *   3. the start of a name or of a JID (ASCII case ignored).
 * A rule matching one contact resolves; matching several is ambiguous.
 * Writes up to max matching indexes into idx (in contacts' order) and
 * returns how many matched: 1 resolved, > 1 ambiguous, 0 none (then the
 * caller may take arg as a JID of someone not in the roster).
 */
typedef struct xt_chat_name {
    const char *jid, *name;
} xt_chat_name;

size_t xt_chat_resolve(const char *arg, const xt_chat_name *contacts, size_t n, size_t *idx,
                       size_t max);

/* The command names with their slash ("/msg", ...), for completion. */
const char *const *xt_chat_cmd_names(size_t *n);

#endif
