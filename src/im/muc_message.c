/*
 * A room's messages: groupchat (XEP-0045 §7.4) with the reflection of
 * our own, the subject (§8.1), the room's own notices (§10.2.1 status
 * codes 104, 170-174), and private messages through a room (§7.5).
 * Sending: xt_muc_send, xt_muc_send_private, xt_muc_set_subject.
 *
 * Our own messages. The room sends every groupchat message back to its
 * sender. We recognise ours by the nick it comes from (the room's word:
 * only our own session holds our nick) and match it with what we sent by
 * its XEP-0359 origin-id (or, from a room that drops origin-id, the
 * stanza id) so the application can tell "the room has it". Repeats are
 * dropped: a room stanza-id (XEP-0359 §4, 'by' the room) seen before, or
 * a second reflection of one of our ids.
 */
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "im/muc_int.h"

void xt_muc_sent(xt_muc_room *r, const char *id)
{
    size_t n = strlen(id);
    if (!n || n >= sizeof r->sent.id[0])
        return;
    memcpy(r->sent.id[r->sent.next], id, n + 1);
    r->sent.next = (r->sent.next + 1) % XT_MUC_SENT_RING;
}

/* 1 when id is one we sent to r and had no reflection for yet (it is
 * then marked reflected: a second copy is a repeat, -1). 0: not ours. */
static int match_sent(xt_muc_room *r, const char *id)
{
    if (!id || !*id)
        return 0;
    for (size_t i = 0; i < XT_MUC_SENT_RING; i++) {
        char *s = r->sent.id[i];
        if (s[0] == '\x01' && strcmp(s + 1, id) == 0)
            return -1;
        if (s[0] && strcmp(s, id) == 0) {
            /* Marked by a leading byte no id can hold (ids are XML text). */
            size_t n = strlen(s);
            if (n + 1 < sizeof r->sent.id[i]) {
                memmove(s + 1, s, n + 1);
                s[0] = '\x01';
            }
            return 1;
        }
    }
    return 0;
}

/* The <stanza-id/> the room stamped (XEP-0359 §4: 'by' is the room's bare
 * JID; one from anyone else may be forged), or NULL. */
static const char *room_stanza_id(const xt_stanza *st, const char *room)
{
    for (const xt_stanza *ch = xt_stanza_first_child(st); ch; ch = xt_stanza_next_sibling(ch)) {
        if (strcmp(xt_stanza_name(ch), "stanza-id") != 0 || strcmp(xt_stanza_ns(ch), XT_NS_SID))
            continue;
        const char *by = xt_stanza_attr(ch, "by");
        if (by && xt_jid_str_bare_equal(by, room)) {
            const char *id = xt_stanza_attr(ch, "id");
            if (id && *id)
                return id;
        }
    }
    return NULL;
}

static int on_room_notice(xt_conn *c, xt_muc_room *r, const xt_stanza *st)
{
    xt_muc_user_x u;
    xt_muc_user_parse(st, &u);
    unsigned codes = xt_muc_status_filter(u.codes, XT_MUC_CTX_MESSAGE);
    if (!codes)
        return 0;
    if (codes & XT_MUC_ST_LOGGED)
        r->flags = (r->flags & ~(unsigned)XT_MUC_ST_UNLOGGED) | XT_MUC_ST_LOGGED;
    if (codes & XT_MUC_ST_UNLOGGED)
        r->flags &= ~(unsigned)XT_MUC_ST_LOGGED;
    if (codes & XT_MUC_ST_NON_ANONYMOUS)
        r->flags = (r->flags & ~(unsigned)XT_MUC_ST_SEMI_ANONYMOUS) | XT_MUC_ST_NON_ANONYMOUS;
    if (codes & XT_MUC_ST_SEMI_ANONYMOUS)
        r->flags = (r->flags & ~(unsigned)XT_MUC_ST_NON_ANONYMOUS) | XT_MUC_ST_SEMI_ANONYMOUS;
    xt_muc_event m = {.room = r->jid, .status = codes, .stanza = st};
    xt_muc_emit(c, XT_EV_MUC_CONFIG, &m);
    return 0;
}

static int on_subject(xt_conn *c, xt_muc_room *r, const char *nick, const char *subject)
{
    char *s = xt_strdup(c->s.mem, subject);
    if (!s)
        return XT_ENOMEM;
    xt_free(c->s.mem, r->subject);
    r->subject = *s ? s : NULL;
    if (!*s)
        xt_free(c->s.mem, s);
    xt_muc_event m = {.room = r->jid};
    m.u.subject.subject = subject;
    m.u.subject.nick = nick;
    xt_muc_emit(c, XT_EV_MUC_SUBJECT, &m);
    return 0;
}

int xt_muc_on_message(xt_conn *c, const xt_stanza *st, xt_message *m, const xt_stanza *muc_user,
                      const xt_stanza *conference)
{
    if ((muc_user || conference) && xt_muc_on_invite(c, st, m->from, muc_user, conference))
        return xt_stream_is_closed(&c->s) ? 0 : 1;
    if (!c->muc.n || !m->from)
        return 0;
    xt_muc_gc(c);
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c->s.mem, m->from, &j, NULL);
    if (rc)
        return rc == XT_ENOMEM ? rc : 0;
    xt_muc_room *r = xt_muc_find(c, xt_jid_bare(j));
    const char *nick = xt_jid_resource(j);
    int groupchat = strcmp(m->type, "groupchat") == 0;
    if (!r || (!groupchat && !nick && strcmp(m->type, "error") != 0)) {
        xt_jid_free(j);
        return 0;
    }
    /* From here m->nick points into the stanza's own 'from' (after the
     * '/'), which lives as long as the event: the prepared resource in j
     * is freed on return. */
    const char *slash = strchr(m->from, '/');
    m->room = r->jid;
    m->nick = nick && slash ? slash + 1 : NULL;
    if (!groupchat) {
        /* §7.5: a private message (or an error) from an occupant. */
        xt_jid_free(j);
        return 0;
    }
    if (!nick) {
        /* The room itself speaks: a notice (status codes) or its subject. */
        rc = on_room_notice(c, r, st);
        if (!rc && (r = xt_muc_find(c, xt_jid_bare(j))) && m->subject && !m->body)
            rc = on_subject(c, r, NULL, m->subject);
        xt_jid_free(j);
        return rc < 0 ? rc : (m->body ? 0 : 1);
    }
    if (m->subject && !m->body) {
        /* §8.1: a subject change (also the one sent last at our join). */
        rc = on_subject(c, r, m->nick, m->subject);
        xt_jid_free(j);
        return rc < 0 ? rc : 1;
    }
    const char *sid = room_stanza_id(st, r->jid);
    if (sid) {
        m->stanza_id = sid;
        m->stanza_id_by = r->jid;
        if (xt_muc_seen(c, r, sid)) {
            xt_jid_free(j);
            return 1; /* delivered before (a history replay at a rejoin) */
        }
    }
    m->from_self = strcmp(nick, r->nick) == 0;
    if (m->from_self) {
        int mt = match_sent(r, m->origin_id);
        if (!mt)
            mt = match_sent(r, m->id);
        if (mt < 0) {
            xt_jid_free(j);
            return 1; /* a second reflection of one message */
        }
    } else {
        m->mention = xt_muc_mentions(m->body, r->nick);
    }
    xt_jid_free(j);
    return 0;
}

/* --- sending ------------------------------------------------------------------------ */

static int joined_room(xt_conn *c, const char *room, xt_muc_room **out)
{
    if (!c || !room)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    xt_muc_gc(c);
    *out = xt_muc_lookup(c, room);
    return *out && (*out)->state == XT_MUC_JOINED ? 0 : XT_ENOTFOUND;
}

int xt_muc_send_ex(xt_conn *c, const char *room, const char *body, const char *id,
                   const xt_message_extras *x, char id_out[64])
{
    xt_muc_room *r;
    int rc = joined_room(c, room, &r);
    if (rc)
        return rc;
    if (!body)
        return XT_EINVAL;
    char sent[64];
    rc = xt_conn_send_message_ex(c, r->jid, "groupchat", body, NULL, id, x, sent);
    if (rc)
        return rc;
    xt_muc_sent(r, sent);
    if (id_out)
        memcpy(id_out, sent, strlen(sent) + 1);
    return 0;
}

int xt_muc_send(xt_conn *c, const char *room, const char *body, char id_out[64])
{
    return xt_muc_send_ex(c, room, body, NULL, NULL, id_out);
}

int xt_muc_send_private(xt_conn *c, const char *room, const char *nick, const char *body,
                        char id_out[64])
{
    xt_muc_room *r;
    int rc = joined_room(c, room, &r);
    if (rc)
        return rc;
    if (!nick || !*nick || !body)
        return XT_EINVAL;
    xt_jid *to = NULL;
    if ((rc = xt_muc_occupant_jid(c, r->jid, nick, &to)) != 0)
        return rc;
    rc = xt_im_send_private(c, xt_jid_full(to), body, id_out);
    xt_jid_free(to);
    return rc;
}

int xt_muc_set_subject(xt_conn *c, const char *room, const char *subject)
{
    xt_muc_room *r;
    int rc = joined_room(c, room, &r);
    if (rc)
        return rc;
    if (!subject || !xt_im_text_ok(subject))
        return XT_EINVAL;
    char id[64];
    xt_stream_next_id(&c->s, id);
    xt_stanza *msg = xt_stanza_new(c->s.mem, "message", XT_NS_CLIENT);
    int ok = msg && !xt_stanza_set_attr(msg, "to", r->jid) &&
             !xt_stanza_set_attr(msg, "type", "groupchat") && !xt_stanza_set_attr(msg, "id", id) &&
             xt_stanza_add_text_child(msg, "subject", NULL, subject);
    rc = ok ? xt_stream_send(&c->s, msg) : XT_ENOMEM;
    xt_stanza_free(msg);
    return rc;
}
