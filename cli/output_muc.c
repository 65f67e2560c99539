/*
 * Group chat events for listen (issue 16), human and JSON, as output.h
 * says: one line each, network text sanitized. In JSON, an occupant's
 * entering and leaving are "event":"join" / "leave" (nick, role,
 * affiliation, jid when the room shows it), ours "joined" / "left"
 * (with why: kicked, banned, destroyed... and the reason).
 */
#include <string.h>

#include "output.h"
#include "sanitize.h"

static int finish_line(FILE *out, xt_cli_json *j)
{
    if (j)
        return xt_cli_json_put_line(j, out);
    if (fputc('\n', out) == EOF)
        return -1;
    return ferror(out) ? -1 : 0;
}

/* " key=value" in the human form, value sanitized; nothing for NULL. */
static void kv(FILE *out, const char *key, const char *value)
{
    if (!value)
        return;
    fprintf(out, " %s=", key);
    xt_cli_put_sanitized(out, value);
}

static const char *change_event(xt_muc_change ch)
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
        return "occupant";
    }
    return "occupant";
}

/* Why an occupant left, from the status codes (§15.6). */
static const char *leave_why(unsigned st)
{
    if (st & XT_MUC_ST_BANNED)
        return "banned";
    if (st & XT_MUC_ST_KICKED)
        return "kicked";
    if (st & XT_MUC_ST_AFFIL_REMOVED)
        return "affiliation";
    if (st & XT_MUC_ST_MEMBERS_ONLY)
        return "members-only";
    if (st & XT_MUC_ST_SHUTDOWN)
        return "shutdown";
    if (st & XT_MUC_ST_TECHNICAL)
        return "error";
    return NULL;
}

static int out_occupant(FILE *out, xt_cli_json *j, const xt_muc_event *m)
{
    const xt_muc_occupant *o = m->u.occupant.occupant;
    const char *ev = change_event(m->u.occupant.change);
    const char *why = m->u.occupant.change == XT_MUC_OCC_LEAVE ? leave_why(m->status) : NULL;
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", ev);
        xt_cli_json_str(j, "room", m->room);
        xt_cli_json_str(j, "nick", o->nick);
        xt_cli_json_str(j, "old_nick", m->u.occupant.old_nick);
        xt_cli_json_str(j, "role", xt_muc_role_name(o->role));
        xt_cli_json_str(j, "affiliation", xt_muc_affiliation_name(o->affiliation));
        xt_cli_json_str(j, "jid", o->real_jid);
        xt_cli_json_str(j, "show", o->show);
        xt_cli_json_str(j, "status", o->status);
        if (o->self)
            xt_cli_json_bool(j, "self", 1);
        xt_cli_json_str(j, "why", why);
        xt_cli_json_str(j, "reason", m->u.occupant.reason);
        xt_cli_json_str(j, "actor", m->u.occupant.actor);
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    fprintf(out, "%s ", ev);
    xt_cli_put_sanitized(out, m->room);
    fputc(' ', out);
    xt_cli_put_sanitized(out, o->nick);
    kv(out, "was", m->u.occupant.old_nick);
    fprintf(out, " role=%s affiliation=%s", xt_muc_role_name(o->role),
            xt_muc_affiliation_name(o->affiliation));
    kv(out, "jid", o->real_jid);
    kv(out, "show", o->show);
    if (why)
        fprintf(out, " %s", why);
    kv(out, "by", m->u.occupant.actor);
    kv(out, "reason", m->u.occupant.reason);
    return finish_line(out, NULL);
}

int xt_cli_out_muc(FILE *out, xt_cli_json *j, const xt_event *ev)
{
    const xt_muc_event *m = ev->u.muc;
    if (ev->type == XT_EV_MUC_OCCUPANT)
        return out_occupant(out, j, m);
    const char *name = NULL;
    switch (ev->type) {
    case XT_EV_MUC_JOINED:
        name = "joined";
        break;
    case XT_EV_MUC_JOIN_FAILED:
        name = "join_failed";
        break;
    case XT_EV_MUC_SUBJECT:
        name = "subject";
        break;
    case XT_EV_MUC_LEFT:
        name = "left";
        break;
    case XT_EV_MUC_INVITE:
        name = m->u.invite.kind == XT_MUC_INVITE_DECLINED ? "decline" : "invite";
        break;
    case XT_EV_MUC_CONFIG:
        name = "room_config";
        break;
    default:
        return 0;
    }
    if (j) {
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "event", name);
        xt_cli_json_str(j, "room", m->room);
    } else {
        fprintf(out, "%s ", name);
        xt_cli_put_sanitized(out, m->room);
    }
    switch (ev->type) {
    case XT_EV_MUC_JOINED:
        if (j) {
            xt_cli_json_str(j, "nick", m->u.joined.nick);
            if (m->u.joined.created)
                xt_cli_json_bool(j, "created", 1);
        } else {
            kv(out, "nick", m->u.joined.nick);
            if (m->u.joined.created)
                fputs(" created", out);
        }
        break;
    case XT_EV_MUC_JOIN_FAILED:
        if (j) {
            xt_cli_json_str(j, "nick", m->u.join_failed.nick);
            xt_cli_json_str(j, "condition", m->u.join_failed.condition);
            xt_cli_json_str(j, "error", m->u.join_failed.message);
        } else {
            fputs(": ", out);
            xt_cli_put_sanitized(out, m->u.join_failed.message);
        }
        break;
    case XT_EV_MUC_SUBJECT:
        if (j) {
            xt_cli_json_str(j, "subject", m->u.subject.subject);
            xt_cli_json_str(j, "nick", m->u.subject.nick);
        } else {
            kv(out, "by", m->u.subject.nick);
            fputs(": ", out);
            xt_cli_put_sanitized(out, m->u.subject.subject);
        }
        break;
    case XT_EV_MUC_LEFT:
        if (j) {
            xt_cli_json_str(j, "why", xt_muc_left_name(m->u.left.why));
            xt_cli_json_str(j, "reason", m->u.left.reason);
            xt_cli_json_str(j, "actor", m->u.left.actor);
            xt_cli_json_str(j, "alternate", m->u.left.alternate);
        } else {
            fprintf(out, " %s", xt_muc_left_name(m->u.left.why));
            kv(out, "by", m->u.left.actor);
            kv(out, "alternate", m->u.left.alternate);
            kv(out, "reason", m->u.left.reason);
        }
        break;
    case XT_EV_MUC_INVITE:
        if (j) {
            xt_cli_json_str(j, "from", m->u.invite.from);
            xt_cli_json_str(j, "kind",
                            m->u.invite.kind == XT_MUC_INVITE_DIRECT ? "direct" : "mediated");
            xt_cli_json_str(j, "reason", m->u.invite.reason);
            /* The password stays off the output: accepting rejoins with
             * what the user gives. Only say there is one. */
            if (m->u.invite.password)
                xt_cli_json_bool(j, "password", 1);
        } else {
            kv(out, "from", m->u.invite.from);
            kv(out, "reason", m->u.invite.reason);
        }
        break;
    default:
        break;
    }
    if (j) {
        xt_cli_json_end(j);
        return finish_line(out, j);
    }
    return finish_line(out, NULL);
}
