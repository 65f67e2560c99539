/*
 * XEP-0045 status codes (§15.6) and the <x xmlns='...muc#user'/> payload
 * of a room's presence and messages: items, reasons, actors, <destroy/>.
 *
 * Each code means something only in the contexts the registry lists for
 * it (§15.6.2): 307 (kicked) on an available presence, or 110 (self) in
 * a message, is noise or an attack, and is dropped here so no caller can
 * act on it.
 */
#include <stdio.h>
#include <string.h>

#include "im/muc_int.h"

typedef struct code_def {
    int code;
    unsigned bit;
    unsigned char avail, unavail, message; /* contexts it is defined for */
} code_def;

static const code_def codes[] = {
    {100, XT_MUC_ST_NON_ANONYMOUS, 1, 0, 1},  {104, XT_MUC_ST_CONFIG_CHANGED, 0, 0, 1},
    {110, XT_MUC_ST_SELF, 1, 1, 0},           {170, XT_MUC_ST_LOGGED, 1, 0, 1},
    {171, XT_MUC_ST_UNLOGGED, 0, 0, 1},       {172, XT_MUC_ST_NON_ANONYMOUS, 0, 0, 1},
    {173, XT_MUC_ST_SEMI_ANONYMOUS, 0, 0, 1}, {201, XT_MUC_ST_CREATED, 1, 0, 0},
    {210, XT_MUC_ST_NICK_ASSIGNED, 1, 0, 0},  {301, XT_MUC_ST_BANNED, 0, 1, 0},
    {303, XT_MUC_ST_NICK_CHANGED, 0, 1, 0},   {307, XT_MUC_ST_KICKED, 0, 1, 0},
    {321, XT_MUC_ST_AFFIL_REMOVED, 0, 1, 0},  {322, XT_MUC_ST_MEMBERS_ONLY, 0, 1, 0},
    {332, XT_MUC_ST_SHUTDOWN, 0, 1, 0},       {333, XT_MUC_ST_TECHNICAL, 0, 1, 0},
};

static unsigned code_bit(const char *s)
{
    /* Three digits exactly: "0307" or "307x" are not codes. */
    if (!s || strlen(s) != 3)
        return 0;
    int v = 0;
    for (int i = 0; i < 3; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (codes[i].code == v)
            return codes[i].bit;
    return 0;
}

unsigned xt_muc_status_filter(unsigned bits, xt_muc_ctx ctx)
{
    unsigned ok = 0;
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        const code_def *d = &codes[i];
        int allowed = ctx == XT_MUC_CTX_AVAILABLE     ? d->avail
                      : ctx == XT_MUC_CTX_UNAVAILABLE ? d->unavail
                                                      : d->message;
        if (allowed)
            ok |= d->bit;
    }
    return bits & ok;
}

void xt_muc_user_parse(const xt_stanza *st, xt_muc_user_x *u)
{
    *u = (xt_muc_user_x){0};
    u->x = xt_stanza_child(st, "x", XT_NS_MUC_USER);
    if (!u->x)
        return;
    int seen_item = 0;
    for (const xt_stanza *ch = xt_stanza_first_child(u->x); ch; ch = xt_stanza_next_sibling(ch)) {
        if (strcmp(xt_stanza_ns(ch), XT_NS_MUC_USER) != 0)
            continue;
        const char *name = xt_stanza_name(ch);
        if (strcmp(name, "status") == 0) {
            u->codes |= code_bit(xt_stanza_attr(ch, "code"));
        } else if (strcmp(name, "item") == 0 && !seen_item) {
            /* §7.2.3: one item per presence; the first counts. */
            seen_item = 1;
            u->item_jid = xt_stanza_attr(ch, "jid");
            u->item_nick = xt_stanza_attr(ch, "nick");
            u->item_role = xt_stanza_attr(ch, "role");
            u->item_affiliation = xt_stanza_attr(ch, "affiliation");
            u->reason = xt_stanza_child_text(ch, "reason", XT_NS_MUC_USER);
            const xt_stanza *a = xt_stanza_child(ch, "actor", XT_NS_MUC_USER);
            if (a)
                u->actor = xt_stanza_attr(a, "nick") ? xt_stanza_attr(a, "nick")
                                                     : xt_stanza_attr(a, "jid");
        } else if (strcmp(name, "destroy") == 0 && !u->destroy) {
            /* §10.9: the alternate venue and the owner's reason. */
            u->destroy = ch;
            u->destroy_jid = xt_stanza_attr(ch, "jid");
            u->destroy_reason = xt_stanza_child_text(ch, "reason", XT_NS_MUC_USER);
            u->destroy_password = xt_stanza_child_text(ch, "password", XT_NS_MUC_USER);
        }
    }
}

static const char *const role_names[] = {"none", "visitor", "participant", "moderator"};
static const char *const affil_names[] = {"none", "outcast", "member", "admin", "owner"};

xt_muc_role xt_muc_role_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof role_names / sizeof *role_names; i++)
        if (strcmp(s, role_names[i]) == 0)
            return (xt_muc_role)i;
    return XT_MUC_ROLE_NONE;
}

xt_muc_affiliation xt_muc_affiliation_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof affil_names / sizeof *affil_names; i++)
        if (strcmp(s, affil_names[i]) == 0)
            return (xt_muc_affiliation)i;
    return XT_MUC_AFFIL_NONE;
}

const char *xt_muc_role_name(xt_muc_role r)
{
    return (unsigned)r < sizeof role_names / sizeof *role_names ? role_names[r] : "none";
}

const char *xt_muc_affiliation_name(xt_muc_affiliation a)
{
    return (unsigned)a < sizeof affil_names / sizeof *affil_names ? affil_names[a] : "none";
}

const char *xt_muc_left_name(xt_muc_left_why why)
{
    switch (why) {
    case XT_MUC_LEFT_SELF:
        return "self";
    case XT_MUC_LEFT_KICKED:
        return "kicked";
    case XT_MUC_LEFT_BANNED:
        return "banned";
    case XT_MUC_LEFT_AFFILIATION:
        return "affiliation";
    case XT_MUC_LEFT_MEMBERS_ONLY:
        return "members-only";
    case XT_MUC_LEFT_SHUTDOWN:
        return "shutdown";
    case XT_MUC_LEFT_ERROR:
        return "error";
    case XT_MUC_LEFT_DESTROYED:
        return "destroyed";
    case XT_MUC_LEFT_DISCONNECTED:
        return "disconnected";
    }
    return "self";
}

void xt_muc_join_error_message(char *out, size_t size, const char *room, const char *nick,
                               const char *cond, const char *text)
{
    /* §7.2.4-§7.2.11: the conditions a room answers a join with. */
    const char *c = cond ? cond : "";
    const char *n = nick ? nick : "";
    int len;
    if (strcmp(c, "conflict") == 0)
        len =
            snprintf(out, size, "nick '%s' is already in use in %s: choose another nick", n, room);
    else if (strcmp(c, "not-authorized") == 0)
        len = snprintf(out, size, "%s needs a password (the one given is wrong or missing)", room);
    else if (strcmp(c, "registration-required") == 0)
        len = snprintf(out, size, "%s is members-only and we are not a member", room);
    else if (strcmp(c, "forbidden") == 0)
        len = snprintf(out, size, "we are banned from %s", room);
    else if (strcmp(c, "service-unavailable") == 0)
        len = snprintf(out, size, "%s is full (its maximum number of occupants is reached)", room);
    else if (strcmp(c, "item-not-found") == 0)
        len = snprintf(out, size, "%s does not exist (or is locked while its owner configures it)",
                       room);
    else if (strcmp(c, "not-allowed") == 0)
        len = snprintf(out, size, "%s does not exist and this service does not let us create it",
                       room);
    else if (strcmp(c, "not-acceptable") == 0)
        len = snprintf(out, size, "nick '%s' is not allowed in %s (reserved, or not acceptable)", n,
                       room);
    else
        len = snprintf(out, size, "%s refused the join: %s", room, *c ? c : "an error");
    if (text && len >= 0 && (size_t)len < size)
        snprintf(out + len, size - (size_t)len, " (the room says: %s)", text);
}
