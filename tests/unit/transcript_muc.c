/* The group chat part of the transcript runner; see transcript_muc.h. */
#include "transcript_muc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *p;
    size_t n, size;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (o->n >= o->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->p + o->n, o->size - o->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->n = o->n + (size_t)k < o->size ? o->n + (size_t)k : o->size - 1;
}

static void field(out *o, const char *key, const char *v)
{
    if (v)
        put(o, " %s=%s", key, v);
}

static void codes(out *o, unsigned st)
{
    static const struct {
        unsigned bit;
        int code;
    } map[] = {
        {XT_MUC_ST_NON_ANONYMOUS, 100}, {XT_MUC_ST_CONFIG_CHANGED, 104},
        {XT_MUC_ST_SELF, 110},          {XT_MUC_ST_LOGGED, 170},
        {XT_MUC_ST_UNLOGGED, 171},      {XT_MUC_ST_SEMI_ANONYMOUS, 173},
        {XT_MUC_ST_CREATED, 201},       {XT_MUC_ST_NICK_ASSIGNED, 210},
        {XT_MUC_ST_BANNED, 301},        {XT_MUC_ST_NICK_CHANGED, 303},
        {XT_MUC_ST_KICKED, 307},        {XT_MUC_ST_AFFIL_REMOVED, 321},
        {XT_MUC_ST_MEMBERS_ONLY, 322},  {XT_MUC_ST_SHUTDOWN, 332},
        {XT_MUC_ST_TECHNICAL, 333},
    };
    if (!st)
        return;
    put(o, " status=");
    int first = 1;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
        if (st & map[i].bit) {
            put(o, "%s%d", first ? "" : ",", map[i].code);
            first = 0;
        }
    }
}

static const char *change_name(xt_muc_change ch)
{
    switch (ch) {
    case XT_MUC_OCC_JOIN:
        return "join";
    case XT_MUC_OCC_LEAVE:
        return "leave";
    case XT_MUC_OCC_NICK:
        return "nick";
    case XT_MUC_OCC_ROLE:
        return "role";
    case XT_MUC_OCC_AFFILIATION:
        return "affiliation";
    case XT_MUC_OCC_PRESENCE:
        return "presence";
    }
    return "?";
}

int tr_muc_describe(const xt_event *ev, char *buf, size_t size)
{
    out o = {.p = buf, .size = size};
    const xt_muc_event *m = ev->u.muc;
    switch (ev->type) {
    case XT_EV_MUC_JOINED:
        put(&o, "muc_joined room=%s", m->room);
        field(&o, "nick", m->u.joined.nick);
        if (m->u.joined.created)
            put(&o, " created=1");
        break;
    case XT_EV_MUC_JOIN_FAILED:
        put(&o, "muc_join_failed room=%s", m->room);
        field(&o, "nick", m->u.join_failed.nick);
        field(&o, "condition", m->u.join_failed.condition);
        if (m->u.join_failed.nick_change)
            put(&o, " nick_change=1");
        field(&o, "text", m->u.join_failed.text);
        field(&o, "message", m->u.join_failed.message);
        return 1; /* no status: the message is last */
    case XT_EV_MUC_OCCUPANT: {
        const xt_muc_occupant *p = m->u.occupant.occupant;
        put(&o, "muc_occupant room=%s change=%s", m->room, change_name(m->u.occupant.change));
        field(&o, "nick", p->nick);
        field(&o, "old_nick", m->u.occupant.old_nick);
        field(&o, "role", xt_muc_role_name(p->role));
        field(&o, "affiliation", xt_muc_affiliation_name(p->affiliation));
        if (m->u.occupant.change == XT_MUC_OCC_ROLE)
            field(&o, "old_role", xt_muc_role_name(m->u.occupant.old_role));
        field(&o, "jid", p->real_jid);
        field(&o, "show", p->show);
        field(&o, "pstatus", p->status);
        if (p->self)
            put(&o, " self=1");
        field(&o, "reason", m->u.occupant.reason);
        field(&o, "actor", m->u.occupant.actor);
        break;
    }
    case XT_EV_MUC_SUBJECT:
        put(&o, "muc_subject room=%s", m->room);
        field(&o, "subject", m->u.subject.subject);
        field(&o, "by", m->u.subject.nick);
        break;
    case XT_EV_MUC_LEFT:
        put(&o, "muc_left room=%s why=%s", m->room, xt_muc_left_name(m->u.left.why));
        field(&o, "reason", m->u.left.reason);
        field(&o, "actor", m->u.left.actor);
        field(&o, "alternate", m->u.left.alternate);
        field(&o, "password", m->u.left.password);
        break;
    case XT_EV_MUC_INVITE:
        put(&o, "muc_invite room=%s kind=%s", m->room,
            m->u.invite.kind == XT_MUC_INVITE_MEDIATED ? "mediated"
            : m->u.invite.kind == XT_MUC_INVITE_DIRECT ? "direct"
                                                       : "declined");
        field(&o, "from", m->u.invite.from);
        field(&o, "reason", m->u.invite.reason);
        field(&o, "password", m->u.invite.password);
        if (m->u.invite.is_continue)
            put(&o, " continue=1");
        field(&o, "thread", m->u.invite.thread);
        break;
    case XT_EV_MUC_CONFIG:
        put(&o, "muc_config room=%s", m->room);
        break;
    default:
        return 0;
    }
    codes(&o, m->status);
    return 1;
}

/* Splits off the next space-separated word of *p (NULL at the end). */
static char *word(char **p)
{
    char *w = *p;
    if (!w || !*w)
        return NULL;
    char *sp = strchr(w, ' ');
    if (sp) {
        *sp = '\0';
        *p = sp + 1;
    } else {
        *p = NULL;
    }
    return w;
}

static const char *dash(const char *s)
{
    return s && strcmp(s, "-") != 0 ? s : NULL;
}

static int check(xt_conn *c, char *rest, char *err, size_t errsize)
{
    /* muc_check ROOM key=value...: state, nick, occupants, subject (the
     * rest of the line),
     * occupant=NICK:ROLE:AFFIL[:JID], no_occupant=NICK, rooms */
    char *room = word(&rest);
    char *kv;
    while ((kv = word(&rest)) != NULL) {
        char *v = strchr(kv, '=');
        if (!v)
            continue;
        *v++ = '\0';
        if (strcmp(kv, "subject") == 0 && rest) {
            rest[-1] = ' '; /* the subject is the rest of the line */
            rest = NULL;
        }
        char got[1200] = "";
        if (strcmp(kv, "state") == 0) {
            xt_muc_state s = xt_muc_room_state(c, room);
            snprintf(got, sizeof got, "%s",
                     s == XT_MUC_JOINED    ? "joined"
                     : s == XT_MUC_JOINING ? "joining"
                                           : "none");
        } else if (strcmp(kv, "nick") == 0) {
            snprintf(got, sizeof got, "%s", xt_muc_nick(c, room) ? xt_muc_nick(c, room) : "-");
        } else if (strcmp(kv, "occupants") == 0) {
            snprintf(got, sizeof got, "%zu", xt_muc_occupant_count(c, room));
        } else if (strcmp(kv, "rooms") == 0) {
            snprintf(got, sizeof got, "%zu", xt_muc_room_count(c));
        } else if (strcmp(kv, "subject") == 0) {
            snprintf(got, sizeof got, "%s",
                     xt_muc_subject(c, room) ? xt_muc_subject(c, room) : "-");
        } else if (strcmp(kv, "occupant") == 0 || strcmp(kv, "no_occupant") == 0) {
            char *colon = strchr(v, ':');
            char nick[1100];
            snprintf(nick, sizeof nick, "%.*s", colon ? (int)(colon - v) : (int)strlen(v), v);
            const xt_muc_occupant *p = xt_muc_occupant_find(c, room, nick);
            if (kv[0] == 'n') {
                snprintf(got, sizeof got, "%s", p ? "present" : v);
            } else if (p) {
                snprintf(got, sizeof got, "%s:%s:%s%s%s", p->nick, xt_muc_role_name(p->role),
                         xt_muc_affiliation_name(p->affiliation), p->real_jid ? ":" : "",
                         p->real_jid ? p->real_jid : "");
            }
        } else {
            snprintf(err, errsize, "muc_check: unknown key %s", kv);
            return 1;
        }
        if (strcmp(got, v) != 0) {
            snprintf(err, errsize, "muc_check %s %s: got '%.200s', expected '%.200s'", room, kv,
                     got, v);
            return 1;
        }
    }
    return 0;
}

int tr_muc_call(xt_conn *c, const char *verb, char *rest, xt_iq_fn iq_cb, void *ud, int *rc,
                char *err, size_t errsize)
{
    if (strncmp(verb, "muc_", 4) != 0)
        return 0;
    const char *v = verb + 4;
    if (strcmp(v, "check") == 0) {
        *rc = 0;
        if (check(c, rest, err, errsize))
            *rc = 1;
        return 1;
    }
    char *room = word(&rest);
    if (strcmp(v, "join") == 0) {
        /* muc_join ROOM NICK [password=PW] [history=none|N] [reserved] */
        xt_muc_join_opts o = {.nick = word(&rest)};
        char *kv;
        while ((kv = word(&rest)) != NULL) {
            if (strncmp(kv, "password=", 9) == 0) {
                o.password = kv + 9;
            } else if (strcmp(kv, "history=none") == 0) {
                o.history = XT_MUC_HISTORY_NONE;
            } else if (strncmp(kv, "history=", 8) == 0) {
                o.history = XT_MUC_HISTORY_LIMITS;
                o.max_stanzas = (uint32_t)atoi(kv + 8);
            } else if (strncmp(kv, "seconds=", 8) == 0) {
                o.history = XT_MUC_HISTORY_LIMITS;
                o.seconds = (uint32_t)atoi(kv + 8);
            } else if (strcmp(kv, "reserved") == 0) {
                o.reserved_room = 1;
            } else if (strncmp(kv, "status=", 7) == 0) {
                o.status = kv + 7;
            }
        }
        *rc = xt_muc_join(c, dash(room), &o);
    } else if (strcmp(v, "leave") == 0) {
        *rc = xt_muc_leave(c, room, rest);
    } else if (strcmp(v, "nick") == 0) {
        *rc = xt_muc_set_nick(c, room, rest);
    } else if (strcmp(v, "away") == 0) {
        *rc = xt_muc_set_presence(c, room, XT_SHOW_AWAY, rest);
    } else if (strcmp(v, "send") == 0) {
        char id[64] = "";
        *rc = xt_muc_send(c, room, rest, id);
    } else if (strcmp(v, "pm") == 0) {
        char *nick = word(&rest);
        *rc = xt_muc_send_private(c, room, nick, rest, NULL);
    } else if (strcmp(v, "subject") == 0) {
        *rc = xt_muc_set_subject(c, room, rest ? rest : "");
    } else if (strcmp(v, "kick") == 0) {
        char *nick = word(&rest);
        *rc = xt_muc_kick(c, room, nick, rest, iq_cb, ud);
    } else if (strcmp(v, "ban") == 0) {
        char *jid = word(&rest);
        *rc = xt_muc_ban(c, room, jid, rest, iq_cb, ud);
    } else if (strcmp(v, "role") == 0) {
        char *nick = word(&rest), *role = word(&rest);
        xt_muc_role r = XT_MUC_ROLE_NONE;
        for (int i = 0; i <= XT_MUC_ROLE_MODERATOR; i++)
            if (role && strcmp(role, xt_muc_role_name((xt_muc_role)i)) == 0)
                r = (xt_muc_role)i;
        *rc = xt_muc_set_role(c, room, nick, r, rest, iq_cb, ud);
    } else if (strcmp(v, "affil") == 0) {
        char *jid = word(&rest), *a = word(&rest);
        xt_muc_affiliation af = XT_MUC_AFFIL_NONE;
        for (int i = 0; i <= XT_MUC_AFFIL_OWNER; i++)
            if (a && strcmp(a, xt_muc_affiliation_name((xt_muc_affiliation)i)) == 0)
                af = (xt_muc_affiliation)i;
        *rc = xt_muc_set_affiliation(c, room, jid, af, rest, iq_cb, ud);
    } else if (strcmp(v, "invite") == 0 || strcmp(v, "decline") == 0 ||
               strcmp(v, "invite_direct") == 0) {
        char *jid = word(&rest);
        *rc = v[0] == 'd'     ? xt_muc_decline(c, room, jid, rest)
              : strlen(v) > 6 ? xt_muc_invite_direct(c, room, jid, rest, NULL)
                              : xt_muc_invite(c, room, jid, rest);
    } else if (strcmp(v, "instant") == 0) {
        *rc = xt_muc_create_instant(c, room, iq_cb, ud);
    } else if (strcmp(v, "destroy") == 0) {
        char *alt = word(&rest);
        *rc = xt_muc_destroy(c, room, rest, dash(alt), iq_cb, ud);
    } else if (strcmp(v, "config") == 0) {
        /* muc_config ROOM members_only=0|1 password=PW|- persistent=0|1 VAR=VALUE */
        xt_muc_config *cfg = NULL;
        *rc = xt_muc_config_new(NULL, &cfg);
        char *kv;
        while (!*rc && (kv = word(&rest)) != NULL) {
            char *val = strchr(kv, '=');
            if (!val)
                continue;
            *val++ = '\0';
            if (strcmp(kv, "members_only") == 0)
                *rc = xt_muc_config_members_only(cfg, atoi(val));
            else if (strcmp(kv, "persistent") == 0)
                *rc = xt_muc_config_persistent(cfg, atoi(val));
            else if (strcmp(kv, "password") == 0)
                *rc = xt_muc_config_password(cfg, dash(val));
            else
                *rc = xt_muc_config_set_field(cfg, kv, val);
        }
        if (!*rc)
            *rc = xt_muc_configure(c, room, cfg, iq_cb, ud);
        xt_muc_config_free(cfg);
    } else {
        snprintf(err, errsize, "unknown CALL %s", verb);
        *rc = 1;
    }
    return 1;
}
