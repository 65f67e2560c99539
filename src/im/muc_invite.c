/*
 * Invitations: XEP-0045 §7.8.2 mediated ones (through the room, which
 * adds the password and vouches for the room; a decline goes back the
 * same way) and XEP-0249 direct ones (straight from a person; the IM
 * compliance suite wants them for an IM client). Received ones become XT_EV_MUC_INVITE;
 * accepting is joining (xt_muc_join with the room and password).
 */
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "im/muc_int.h"

#define LIT_TRUE(s) ((s) && (strcmp((s), "true") == 0 || strcmp((s), "1") == 0))

/* The prepared bare form of a room JID into a new xt_jid, or NULL. */
static xt_jid *room_of(xt_conn *c, const char *s)
{
    xt_jid *j = NULL;
    if (!s || xt_jid_parse(c->s.mem, s, &j, NULL))
        return NULL;
    if (!xt_jid_local(j) || xt_jid_resource(j)) {
        xt_jid_free(j);
        return NULL;
    }
    return j;
}

int xt_muc_on_invite(xt_conn *c, const xt_stanza *st, const char *from, const xt_stanza *user,
                     const xt_stanza *direct)
{
    if (!from)
        return 0;
    const char *type = xt_stanza_attr(st, "type");
    if (type && strcmp(type, "error") == 0)
        return 0; /* a bounce of our own invitation */
    xt_muc_event m = {.stanza = st};
    xt_jid *room = NULL;
    const xt_stanza *inv = user ? xt_stanza_child(user, "invite", XT_NS_MUC_USER) : NULL;
    const xt_stanza *dec = user && !inv ? xt_stanza_child(user, "decline", XT_NS_MUC_USER) : NULL;
    if (inv || dec) {
        /* §7.8.2: from the room's bare JID; the person is in 'from' of
         * the inner element. */
        const xt_stanza *e = inv ? inv : dec;
        room = room_of(c, from);
        const char *who = xt_stanza_attr(e, "from");
        if (!room || !who)
            goto not_ours;
        m.u.invite.kind = inv ? XT_MUC_INVITE_MEDIATED : XT_MUC_INVITE_DECLINED;
        m.u.invite.from = who;
        m.u.invite.reason = xt_stanza_child_text(e, "reason", XT_NS_MUC_USER);
        m.u.invite.password = inv ? xt_stanza_child_text(user, "password", XT_NS_MUC_USER) : NULL;
        const xt_stanza *cont = inv ? xt_stanza_child(inv, "continue", XT_NS_MUC_USER) : NULL;
        if (cont) {
            m.u.invite.is_continue = 1;
            m.u.invite.thread = xt_stanza_attr(cont, "thread");
        }
    } else if (direct) {
        /* XEP-0249 §2: the room is the 'jid' attribute. */
        room = room_of(c, xt_stanza_attr(direct, "jid"));
        if (!room)
            goto not_ours;
        m.u.invite.kind = XT_MUC_INVITE_DIRECT;
        m.u.invite.from = from;
        m.u.invite.reason = xt_stanza_attr(direct, "reason");
        m.u.invite.password = xt_stanza_attr(direct, "password");
        m.u.invite.is_continue = LIT_TRUE(xt_stanza_attr(direct, "continue"));
        m.u.invite.thread = xt_stanza_attr(direct, "thread");
    } else {
        return 0;
    }
    m.room = xt_jid_bare(room);
    xt_event ev = {.type = XT_EV_MUC_INVITE, .u.muc = &m};
    xt_conn_emit(c, &ev);
    xt_jid_free(room);
    return 1;
not_ours:
    xt_jid_free(room);
    return 0;
}

/* <message to=TO id><x xmlns=NS ...>CHILD</x></message>, sent. */
static int send_x(xt_conn *c, const char *to, const char *ns, xt_stanza **x_out, xt_stanza **msg)
{
    char id[64];
    xt_stream_next_id(&c->s, id);
    *msg = xt_stanza_new(c->s.mem, "message", XT_NS_CLIENT);
    int ok = *msg && !xt_stanza_set_attr(*msg, "to", to) && !xt_stanza_set_attr(*msg, "id", id) &&
             (*x_out = xt_stanza_add_child(*msg, "x", ns)) != NULL;
    return ok ? 0 : XT_ENOMEM;
}

static int check(xt_conn *c, const char *room, const char *jid, xt_jid **rj, xt_jid **pj)
{
    *rj = *pj = NULL;
    if (!c || !room || !jid)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    if (!(*rj = room_of(c, room)))
        return XT_EJID;
    int rc = xt_jid_parse(c->s.mem, jid, pj, NULL);
    if (rc) {
        xt_jid_free(*rj);
        *rj = NULL;
    }
    return rc;
}

/* Mediated invite or decline: <x muc#user><ELEM to=JID><reason/></ELEM></x>. */
static int mediated(xt_conn *c, const char *room, const char *jid, const char *reason,
                    const char *elem)
{
    if (reason && !xt_im_text_ok(reason))
        return XT_EINVAL;
    xt_jid *rj, *pj;
    int rc = check(c, room, jid, &rj, &pj);
    if (rc)
        return rc;
    xt_stanza *msg = NULL, *x = NULL, *e = NULL;
    rc = send_x(c, xt_jid_bare(rj), XT_NS_MUC_USER, &x, &msg);
    if (!rc && (!(e = xt_stanza_add_child(x, elem, NULL)) ||
                xt_stanza_set_attr(e, "to", xt_jid_full(pj)) ||
                (reason && !xt_stanza_add_text_child(e, "reason", NULL, reason))))
        rc = XT_ENOMEM;
    if (!rc)
        rc = xt_stream_send(&c->s, msg);
    xt_stanza_free(msg);
    xt_jid_free(rj);
    xt_jid_free(pj);
    return rc;
}

int xt_muc_invite(xt_conn *c, const char *room, const char *jid, const char *reason)
{
    return mediated(c, room, jid, reason, "invite");
}

int xt_muc_decline(xt_conn *c, const char *room, const char *inviter, const char *reason)
{
    return mediated(c, room, inviter, reason, "decline");
}

int xt_muc_invite_direct(xt_conn *c, const char *room, const char *jid, const char *reason,
                         const char *password)
{
    if ((reason && !xt_im_text_ok(reason)) || (password && !xt_im_text_ok(password)))
        return XT_EINVAL;
    xt_jid *rj, *pj;
    int rc = check(c, room, jid, &rj, &pj);
    if (rc)
        return rc;
    xt_stanza *msg = NULL, *x = NULL;
    rc = send_x(c, xt_jid_full(pj), XT_NS_CONFERENCE, &x, &msg);
    if (!rc && (xt_stanza_set_attr(x, "jid", xt_jid_bare(rj)) ||
                (password && xt_stanza_set_attr(x, "password", password)) ||
                (reason && xt_stanza_set_attr(x, "reason", reason))))
        rc = XT_ENOMEM;
    if (!rc)
        rc = xt_stream_send(&c->s, msg);
    xt_stanza_free(msg);
    xt_jid_free(rj);
    xt_jid_free(pj);
    return rc;
}
