/*
 * A room's presence (XEP-0045 §7.2.3 occupants at our join, §7.2.2 our
 * own with 110, §7.6 nick changes with 303, §8.2 / §9.1 kicks and bans,
 * §10.9 destruction, §7.2.4-§7.2.11 join errors), turned into occupant
 * table changes and the XT_EV_MUC_* events. Presence from a room we are
 * not in never gets here: it stays a stranger's presence (conn_presence.c)
 * and changes nothing.
 */
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "im/muc_int.h"

static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Emits m for room r, then takes r out (an event that ends our stay). */
static void emit_and_drop(xt_conn *c, xt_muc_room *r, xt_event_type type, xt_muc_event *m)
{
    c->handlers.emitting++; /* r (and m's strings in it) live through the handlers */
    xt_muc_remove(c, r);
    xt_event ev = {.type = type, .u.muc = m};
    xt_conn_emit(c, &ev);
    c->handlers.emitting--;
    xt_muc_gc(c);
}

static void error_of(const xt_stanza *st, const char **cond, const char **text)
{
    *cond = *text = NULL;
    const xt_stanza *e = xt_stanza_child(st, "error", XT_NS_CLIENT);
    for (const xt_stanza *ch = e ? xt_stanza_first_child(e) : NULL; ch;
         ch = xt_stanza_next_sibling(ch)) {
        if (strcmp(xt_stanza_ns(ch), XT_NS_STANZA_ERRORS) != 0)
            continue;
        if (strcmp(xt_stanza_name(ch), "text") == 0)
            *text = xt_stanza_text(ch);
        else if (!*cond)
            *cond = xt_stanza_name(ch);
    }
}

static int on_error(xt_conn *c, xt_muc_room *r, const xt_stanza *st, const char *nick)
{
    const char *cond, *text;
    error_of(st, &cond, &text);
    char msg[512];
    xt_muc_event m = {.room = r->jid, .stanza = st};
    m.u.join_failed.condition = cond ? cond : "undefined-condition";
    m.u.join_failed.text = text;
    m.u.join_failed.message = msg;
    if (r->state == XT_MUC_JOINING) {
        m.u.join_failed.nick = r->nick;
        xt_muc_join_error_message(msg, sizeof msg, r->jid, r->nick, m.u.join_failed.condition,
                                  text);
        emit_and_drop(c, r, XT_EV_MUC_JOIN_FAILED, &m);
        return 0;
    }
    if (r->pending_nick && (!nick || same(nick, r->pending_nick))) {
        /* §7.6.3: the new nick was refused; we keep the old one. */
        char *p = r->pending_nick;
        r->pending_nick = NULL;
        m.u.join_failed.nick = p;
        m.u.join_failed.nick_change = 1;
        xt_muc_join_error_message(msg, sizeof msg, r->jid, p, m.u.join_failed.condition, text);
        xt_muc_emit(c, XT_EV_MUC_JOIN_FAILED, &m);
        xt_free(c->s.mem, p);
        return 0;
    }
    /* An error for something else we sent the room (a presence change):
     * our stay is not in question. */
    xt_stream_logf(&c->s, XT_LOG_DEBUG, "error presence from room %s: %s", r->jid,
                   m.u.join_failed.condition);
    return 0;
}

static int on_available(xt_conn *c, xt_muc_room *r, const xt_stanza *st, const char *nick,
                        const xt_muc_user_x *u)
{
    unsigned codes = xt_muc_status_filter(u->codes, XT_MUC_CTX_AVAILABLE);
    /* 110 marks us; while joining the room may also have changed our nick
     * (210). A 110 on another occupant's presence once we are in is not
     * ours (it only counts for our nick, or the one we asked to take). */
    int self = r->state == XT_MUC_JOINING ? ((codes & XT_MUC_ST_SELF) || same(nick, r->nick))
                                          : (same(nick, r->nick) || same(nick, r->pending_nick));
    if (!self)
        codes &= ~(unsigned)(XT_MUC_ST_SELF | XT_MUC_ST_CREATED | XT_MUC_ST_NICK_ASSIGNED);
    const char *show = xt_presence_norm_show(xt_stanza_child_text(st, "show", XT_NS_CLIENT));
    const char *status = xt_stanza_child_text(st, "status", XT_NS_CLIENT);
    xt_muc_role role = xt_muc_role_parse(u->item_role);
    xt_muc_affiliation aff = xt_muc_affiliation_parse(u->item_affiliation);

    xt_muc_occ *o = xt_muc_occ_find(&r->occ, nick);
    xt_muc_occ tmp = {0};
    int is_new = o == NULL, rc = 0;
    xt_muc_occupant before = o ? o->view : (xt_muc_occupant){0};
    if (!o) {
        rc = xt_muc_occ_add(&r->occ, r->jid, nick, &o);
        if (rc == XT_ETOOBIG) {
            /* A flood past XT_MUC_MAX_OCCUPANTS: the event goes out, the
             * table does not grow. */
            xt_stream_logf(&c->s, XT_LOG_DEBUG, "room %s: occupant %s not kept (at most %d)",
                           r->jid, nick, XT_MUC_MAX_OCCUPANTS);
            tmp.view.nick = nick;
            tmp.view.jid = xt_stanza_attr(st, "from");
            o = &tmp;
            rc = 0;
        } else if (rc) {
            return rc;
        }
    }
    if (o != &tmp) {
        if ((rc = xt_muc_occ_set_strings(&r->occ, o, u->item_jid, status)) != 0)
            return rc;
    } else {
        o->view.real_jid = u->item_jid;
        o->view.status = status;
    }
    o->view.show = show;
    o->view.role = role;
    o->view.affiliation = aff;
    o->view.self = self;

    xt_muc_event m = {.room = r->jid, .status = codes, .stanza = st};
    if (self && r->state == XT_MUC_JOINING) {
        /* §7.2.2: the self-presence comes last: the occupant list is
         * complete and we are in. */
        if (!same(nick, r->nick)) {
            char *n = xt_strdup(c->s.mem, nick);
            if (!n)
                return XT_ENOMEM;
            xt_free(c->s.mem, r->nick);
            r->nick = n;
        }
        r->state = XT_MUC_JOINED;
        r->flags |= codes & (XT_MUC_ST_NON_ANONYMOUS | XT_MUC_ST_LOGGED);
        m.u.joined.nick = r->nick;
        m.u.joined.created = (codes & XT_MUC_ST_CREATED) != 0;
        int create = m.u.joined.created && !r->reserved;
        if (!(r = xt_muc_emit(c, XT_EV_MUC_JOINED, &m)))
            return 0;
        /* §10.1.2: a new room is locked until its owner configures it;
         * an empty submitted form accepts the defaults (instant room). */
        if (create && (rc = xt_muc_create_instant(c, r->jid, NULL, NULL)) != 0)
            xt_stream_logf(&c->s, XT_LOG_WARN, "room %s: instant room request failed: %s", r->jid,
                           xt_strerror(rc));
        return 0;
    }
    if (self && same(nick, r->pending_nick)) {
        xt_free(c->s.mem, r->pending_nick);
        r->pending_nick = NULL;
    }
    if (is_new) {
        m.u.occupant.change = XT_MUC_OCC_JOIN;
    } else if (before.role != role) {
        m.u.occupant.change = XT_MUC_OCC_ROLE;
    } else if (before.affiliation != aff) {
        m.u.occupant.change = XT_MUC_OCC_AFFILIATION;
    } else if (!same(before.show, show) || !same(before.status, o->view.status)) {
        m.u.occupant.change = XT_MUC_OCC_PRESENCE;
    } else {
        return 0; /* nothing anyone shows changed (a caps update, a repeat) */
    }
    m.u.occupant.occupant = &o->view;
    m.u.occupant.old_role = before.role;
    m.u.occupant.old_affiliation = before.affiliation;
    m.u.occupant.reason = u->reason;
    m.u.occupant.actor = u->actor;
    xt_muc_emit(c, XT_EV_MUC_OCCUPANT, &m);
    return 0;
}

static xt_muc_left_why left_why(unsigned codes, const xt_muc_user_x *u)
{
    if (u->destroy)
        return XT_MUC_LEFT_DESTROYED;
    if (codes & XT_MUC_ST_BANNED)
        return XT_MUC_LEFT_BANNED;
    if (codes & XT_MUC_ST_KICKED)
        return XT_MUC_LEFT_KICKED;
    if (codes & XT_MUC_ST_AFFIL_REMOVED)
        return XT_MUC_LEFT_AFFILIATION;
    if (codes & XT_MUC_ST_MEMBERS_ONLY)
        return XT_MUC_LEFT_MEMBERS_ONLY;
    if (codes & XT_MUC_ST_SHUTDOWN)
        return XT_MUC_LEFT_SHUTDOWN;
    if (codes & XT_MUC_ST_TECHNICAL)
        return XT_MUC_LEFT_ERROR;
    return XT_MUC_LEFT_SELF;
}

static int on_unavailable(xt_conn *c, xt_muc_room *r, const xt_stanza *st, const char *nick,
                          const xt_muc_user_x *u)
{
    unsigned codes = xt_muc_status_filter(u->codes, XT_MUC_CTX_UNAVAILABLE);
    int self = same(nick, r->nick);
    if (!self)
        codes &= ~(unsigned)XT_MUC_ST_SELF;
    xt_muc_event m = {.room = r->jid, .status = codes, .stanza = st};
    xt_muc_occ *o = xt_muc_occ_find(&r->occ, nick);

    if ((codes & XT_MUC_ST_NICK_CHANGED) && o) {
        /* §7.6.3: unavailable for the old nick with 303 and the new one in
         * the item; the new nick's available presence follows. A 303 with
         * no usable new nick is ignored whole: taking it as a leave would
         * lose an occupant the room still has. */
        const char *nn = u->item_nick;
        xt_jid *chk = NULL;
        int bad = nn && *nn ? xt_jid_build(c->s.mem, NULL, "x.invalid", nn, &chk, NULL) : XT_EJID;
        xt_jid_free(chk);
        if (bad || xt_muc_occ_find(&r->occ, nn))
            return bad == XT_ENOMEM ? bad : 0; /* not a nick, or taken: ignore it */
        char *old = xt_strdup(c->s.mem, nick);
        char *mine = self ? xt_strdup(c->s.mem, nn) : NULL;
        int rc = !old || (self && !mine) ? XT_ENOMEM : xt_muc_occ_rename(&r->occ, o, r->jid, nn);
        if (rc) {
            xt_free(c->s.mem, old);
            xt_free(c->s.mem, mine);
            return rc;
        }
        if (self) {
            xt_free(c->s.mem, r->nick);
            r->nick = mine;
        }
        m.u.occupant.change = XT_MUC_OCC_NICK;
        m.u.occupant.occupant = &o->view;
        m.u.occupant.old_nick = old;
        m.u.occupant.old_role = o->view.role;
        m.u.occupant.old_affiliation = o->view.affiliation;
        xt_muc_emit(c, XT_EV_MUC_OCCUPANT, &m);
        xt_free(c->s.mem, old);
        return 0;
    }
    if (self) {
        m.u.left.why = left_why(codes, u);
        m.u.left.reason = u->destroy ? u->destroy_reason : u->reason;
        m.u.left.actor = u->actor;
        m.u.left.alternate = u->destroy_jid;
        m.u.left.password = u->destroy_password;
        emit_and_drop(c, r, XT_EV_MUC_LEFT, &m);
        return 0;
    }
    if (!o)
        return 0; /* someone we never saw: nothing to take out */
    m.u.occupant.change = XT_MUC_OCC_LEAVE;
    m.u.occupant.occupant = &o->view;
    m.u.occupant.old_role = o->view.role;
    m.u.occupant.old_affiliation = o->view.affiliation;
    m.u.occupant.reason = u->reason;
    m.u.occupant.actor = u->actor;
    /* The occupant stays in the table while the handlers look at it. */
    if (!(r = xt_muc_emit(c, XT_EV_MUC_OCCUPANT, &m)))
        return 0;
    if ((o = xt_muc_occ_find(&r->occ, nick)) != NULL)
        xt_muc_occ_remove(&r->occ, o);
    return 0;
}

int xt_muc_on_presence(xt_conn *c, const xt_stanza *st, const char *bare, const char *nick)
{
    xt_muc_gc(c);
    xt_muc_room *r = xt_muc_find(c, bare);
    if (!r)
        return 0;
    const char *type = xt_stanza_attr(st, "type");
    if (type && strcmp(type, "error") == 0)
        return on_error(c, r, st, nick) ? -1 : 1;
    if (type && strcmp(type, "unavailable") != 0)
        return 0; /* subscription requests are about a JID, not a room stay */
    if (!nick)
        return 1; /* the room's own presence: nothing an occupant means */
    xt_muc_user_x u;
    xt_muc_user_parse(st, &u);
    int rc = type ? on_unavailable(c, r, st, nick, &u) : on_available(c, r, st, nick, &u);
    return rc < 0 ? rc : 1;
}
