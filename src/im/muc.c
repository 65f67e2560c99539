/*
 * XEP-0045 rooms on the conn: the table of rooms we are in or joining,
 * entering (§7.2), leaving (§7.14), nick changes (§7.6), our presence in
 * a room (§7.7), and the public getters. What rooms send back is handled
 * in muc_presence.c and muc_message.c. See muc_int.h for the invariants.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "im/muc_int.h"

static const char *room_key(const void *ctx, size_t i)
{
    return ((const xt_muc_rooms *)ctx)->v[i]->jid;
}

static const char *seen_key(const void *ctx, size_t i)
{
    return ((const xt_muc_room *)ctx)->seen.id[i];
}

void xt_muc_init(xt_conn *c)
{
    c->muc = (xt_muc_rooms){0};
    xt_index_init(&c->muc.ix, c->s.cfg.random, c->s.cfg.random_ud);
}

static void room_free(xt_conn *c, xt_muc_room *r)
{
    const xt_mem *mem = c->s.mem;
    xt_muc_occ_free(&r->occ);
    for (size_t i = 0; i < XT_MUC_SEEN_RING; i++)
        xt_free(mem, r->seen.id[i]);
    xt_index_free(mem, &r->seen.ix);
    xt_free(mem, r->jid);
    xt_free(mem, r->nick);
    xt_free(mem, r->pending_nick);
    xt_free_secret(mem, r->password);
    xt_free(mem, r->subject);
    xt_free(mem, r);
}

void xt_muc_free(xt_conn *c)
{
    xt_muc_pending_free_all(c);
    for (size_t i = 0; i < c->muc.n; i++)
        room_free(c, c->muc.v[i]);
    while (c->muc.dead) {
        xt_muc_room *r = c->muc.dead;
        c->muc.dead = r->next_dead;
        room_free(c, r);
    }
    xt_free(c->s.mem, c->muc.v);
    xt_index_free(c->s.mem, &c->muc.ix);
    c->muc = (xt_muc_rooms){0};
}

xt_muc_room *xt_muc_find(const xt_conn *c, const char *bare)
{
    size_t i = xt_index_find(&c->muc.ix, bare, room_key, &c->muc);
    return i == XT_INDEX_NONE ? NULL : c->muc.v[i];
}

/* A room JID in prepared bare form into out (NULL when it is not a bare
 * JID with a localpart: a MUC room is always room@service, §4.2). */
static int prep_room(const xt_conn *c, const char *room, xt_jid **out)
{
    *out = NULL;
    if (!room)
        return XT_EINVAL;
    int rc = xt_jid_parse(c->s.mem, room, out, NULL);
    if (rc)
        return rc;
    if (!xt_jid_local(*out) || xt_jid_resource(*out)) {
        xt_jid_free(*out);
        *out = NULL;
        return XT_EJID;
    }
    return 0;
}

xt_muc_room *xt_muc_lookup(const xt_conn *c, const char *room)
{
    if (!c || !room)
        return NULL;
    xt_muc_room *r = xt_muc_find(c, room); /* already prepared: the common case */
    if (!r) {
        xt_jid *j = NULL;
        if (prep_room(c, room, &j))
            return NULL;
        r = xt_muc_find(c, xt_jid_bare(j));
        xt_jid_free(j);
    }
    return r;
}

/* Takes room i out of the array and the index (the last one moves in). */
static void detach(xt_conn *c, size_t i)
{
    xt_muc_rooms *t = &c->muc;
    xt_index_del(&t->ix, i, room_key, t);
    size_t last = t->n - 1;
    if (i != last) {
        t->v[i] = t->v[last];
        xt_index_moved(&t->ix, last, i, room_key, t);
    }
    t->n--;
}

void xt_muc_remove(xt_conn *c, xt_muc_room *r)
{
    r->state = XT_MUC_NOT_JOINED;
    size_t i = xt_index_find(&c->muc.ix, r->jid, room_key, &c->muc);
    if (i != XT_INDEX_NONE && c->muc.v[i] == r)
        detach(c, i);
    /* Out of the table at once (a handler may join the same room again
     * at once: a retry with another nick), freed once no handler runs. */
    if (c->handlers.emitting) {
        r->dead = 1;
        r->next_dead = c->muc.dead;
        c->muc.dead = r;
        return;
    }
    room_free(c, r);
}

void xt_muc_gc(xt_conn *c)
{
    if (c->handlers.emitting)
        return;
    while (c->muc.dead) {
        xt_muc_room *r = c->muc.dead;
        c->muc.dead = r->next_dead;
        room_free(c, r);
    }
}

xt_muc_room *xt_muc_emit(xt_conn *c, xt_event_type type, xt_muc_event *m)
{
    xt_event ev = {.type = type, .u.muc = m};
    /* The room's JID lives in the room: keep a copy to find it again
     * (a handler may have left it). */
    char stack[512];
    size_t n = strlen(m->room) + 1;
    char *key = n <= sizeof stack ? stack : xt_malloc(c->s.mem, n);
    if (key)
        memcpy(key, m->room, n);
    xt_conn_emit(c, &ev);
    xt_muc_room *r = key ? xt_muc_find(c, key) : NULL;
    if (key != stack)
        xt_free(c->s.mem, key);
    return r && !xt_stream_is_closed(&c->s) ? r : NULL;
}

/* --- sending presence to a room ------------------------------------------------ */

int xt_muc_occupant_jid(const xt_conn *c, const char *room, const char *nick, xt_jid **out)
{
    /* room is prepared bare; the nick must be a resourcepart (RFC 7622
     * §3.4): parsing "room/nick" checks and prepares it. */
    *out = NULL;
    size_t rl = strlen(room), nl = strlen(nick);
    char *full = xt_malloc(c->s.mem, rl + nl + 2);
    if (!full)
        return XT_ENOMEM;
    memcpy(full, room, rl);
    full[rl] = '/';
    memcpy(full + rl + 1, nick, nl + 1);
    int rc = xt_jid_parse(c->s.mem, full, out, NULL);
    xt_free(c->s.mem, full);
    return rc;
}

static const char *const show_names[] = {NULL, "chat", "away", "xa", "dnd"};

/* <presence to='room/nick'> with show/status, our caps, and the join's
 * <x xmlns='http://jabber.org/protocol/muc'/> when o is given (§7.2.1:
 * the element is what tells the service we speak MUC). */
static int send_room_presence(xt_conn *c, const char *room, const char *nick, xt_show show,
                              const char *status, const xt_muc_join_opts *o, const char *password)
{
    if (show > XT_SHOW_UNAVAILABLE || (int)show < 0)
        return XT_EINVAL;
    xt_jid *to = NULL;
    int rc = xt_muc_occupant_jid(c, room, nick, &to);
    if (rc)
        return rc;
    xt_stanza *p = xt_stanza_new(c->s.mem, "presence", XT_NS_CLIENT);
    int ok = p && !xt_stanza_set_attr(p, "to", xt_jid_full(to));
    xt_jid_free(to);
    if (ok && show == XT_SHOW_UNAVAILABLE)
        ok = !xt_stanza_set_attr(p, "type", "unavailable");
    else if (ok && show > XT_SHOW_AVAILABLE && show < XT_SHOW_UNAVAILABLE)
        ok = xt_stanza_add_text_child(p, "show", NULL, show_names[show]) != NULL;
    if (ok && status)
        ok = xt_stanza_add_text_child(p, "status", NULL, status) != NULL;
    if (ok && o) {
        xt_stanza *x = xt_stanza_add_child(p, "x", XT_NS_MUC);
        ok = x != NULL;
        if (ok && password) /* §7.2.6 */
            ok = xt_stanza_add_text_child(x, "password", NULL, password) != NULL;
        if (ok && o->history != XT_MUC_HISTORY_DEFAULT) {
            /* §7.2.13: limits on the history sent at join. */
            xt_stanza *h = xt_stanza_add_child(x, "history", NULL);
            char num[16];
            ok = h != NULL;
            if (ok && o->history == XT_MUC_HISTORY_NONE) {
                ok = !xt_stanza_set_attr(h, "maxstanzas", "0");
            } else if (ok) {
                if (ok && o->max_chars) {
                    snprintf(num, sizeof num, "%u", (unsigned)o->max_chars);
                    ok = !xt_stanza_set_attr(h, "maxchars", num);
                }
                if (ok && o->max_stanzas) {
                    snprintf(num, sizeof num, "%u", (unsigned)o->max_stanzas);
                    ok = !xt_stanza_set_attr(h, "maxstanzas", num);
                }
                if (ok && o->seconds) {
                    snprintf(num, sizeof num, "%u", (unsigned)o->seconds);
                    ok = !xt_stanza_set_attr(h, "seconds", num);
                }
                if (ok && o->since)
                    ok = !xt_stanza_set_attr(h, "since", o->since);
            }
        }
    }
    /* XEP-0115 §4: occupants may want to know what we can do too. */
    if (ok && show != XT_SHOW_UNAVAILABLE)
        ok = !xt_caps_add_to_presence(c, p);
    rc = ok ? xt_stream_send(&c->s, p) : XT_ENOMEM;
    xt_stanza_free(p);
    return rc;
}

/* A nick as a resourcepart: 0 or XT_EJID / XT_EINVAL / XT_ENOMEM. */
static int check_nick(const xt_conn *c, const char *nick)
{
    if (!nick || !*nick)
        return XT_EINVAL;
    xt_jid *j = NULL;
    int rc = xt_jid_build(c->s.mem, NULL, "x.invalid", nick, &j, NULL);
    xt_jid_free(j);
    return rc;
}

static int text_ok(const char *s)
{
    return !s || xt_im_text_ok(s);
}

int xt_muc_join(xt_conn *c, const char *room, const xt_muc_join_opts *o)
{
    if (!c || !room || !o || !o->nick)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    if (!text_ok(o->password) || !text_ok(o->status) || !text_ok(o->since) ||
        (unsigned)o->history > XT_MUC_HISTORY_LIMITS || o->show >= XT_SHOW_UNAVAILABLE)
        return XT_EINVAL;
    int rc = check_nick(c, o->nick);
    if (rc)
        return rc;
    xt_muc_gc(c);
    xt_jid *j = NULL;
    if ((rc = prep_room(c, room, &j)) != 0)
        return rc;
    const char *bare = xt_jid_bare(j);
    xt_muc_room *r = xt_muc_find(c, bare);
    if (r) {
        /* §7.6: presence to a new nick in a room we are in changes it. */
        rc = strcmp(r->nick, o->nick) == 0 ? 0 : xt_muc_set_nick(c, bare, o->nick);
        xt_jid_free(j);
        return rc;
    }
    if (c->muc.n >= XT_MUC_MAX_ROOMS) {
        xt_jid_free(j);
        return XT_ETOOBIG;
    }
    rc = XT_ENOMEM;
    r = xt_calloc(c->s.mem, 1, sizeof *r);
    if (!r || XT_GROW(c->s.mem, c->muc.v, c->muc.cap, c->muc.n + 1, 4))
        goto fail;
    r->jid = xt_strdup(c->s.mem, bare);
    r->nick = xt_strdup(c->s.mem, o->nick);
    if (!r->jid || !r->nick || (o->password && !(r->password = xt_strdup(c->s.mem, o->password))))
        goto fail;
    r->state = XT_MUC_JOINING;
    r->reserved = o->reserved_room != 0;
    xt_muc_occ_init(&r->occ, c->s.mem, c->s.cfg.random, c->s.cfg.random_ud, &c->muc.probes);
    xt_index_init(&r->seen.ix, c->s.cfg.random, c->s.cfg.random_ud);
    rc = send_room_presence(c, bare, o->nick, o->show, o->status, o, o->password);
    if (rc)
        goto fail;
    c->muc.v[c->muc.n] = r;
    if (xt_index_add(c->s.mem, &c->muc.ix, c->muc.n, room_key, &c->muc)) {
        /* The presence went out: the room will answer; without the room
         * in the table its answer is only a stranger's presence. */
        rc = XT_ENOMEM;
        goto fail;
    }
    c->muc.n++;
    xt_jid_free(j);
    return 0;
fail:
    if (r)
        room_free(c, r);
    xt_jid_free(j);
    return rc;
}

/* The live room for a call taking a room JID: XT_ENOTFOUND when not in it. */
static int room_for_call(xt_conn *c, const char *room, xt_muc_room **out)
{
    if (!c || !room)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    xt_muc_gc(c);
    *out = xt_muc_lookup(c, room);
    return *out ? 0 : XT_ENOTFOUND;
}

int xt_muc_leave(xt_conn *c, const char *room, const char *status)
{
    xt_muc_room *r;
    int rc = room_for_call(c, room, &r);
    if (rc)
        return rc;
    if (!text_ok(status))
        return XT_EINVAL;
    if ((rc = send_room_presence(c, r->jid, r->nick, XT_SHOW_UNAVAILABLE, status, NULL, NULL)))
        return rc;
    r->leaving = 1;
    if (r->state == XT_MUC_JOINING) {
        /* Not in yet: nothing will confirm a leave of a join the room may
         * still answer; we are out as far as the application goes. */
        xt_muc_event m = {.room = r->jid, .u.left = {.why = XT_MUC_LEFT_SELF}};
        c->handlers.emitting++; /* r (m.room) stays until the handlers are done */
        xt_muc_remove(c, r);
        xt_event ev = {.type = XT_EV_MUC_LEFT, .u.muc = &m};
        xt_conn_emit(c, &ev);
        c->handlers.emitting--;
        xt_muc_gc(c);
    }
    return 0;
}

int xt_muc_set_nick(xt_conn *c, const char *room, const char *nick)
{
    xt_muc_room *r;
    int rc = room_for_call(c, room, &r);
    if (rc)
        return rc;
    if ((rc = check_nick(c, nick)) != 0)
        return rc;
    if (r->state != XT_MUC_JOINED)
        return XT_ESTATE;
    char *p = xt_strdup(c->s.mem, nick);
    if (!p)
        return XT_ENOMEM;
    if ((rc = send_room_presence(c, r->jid, nick, XT_SHOW_AVAILABLE, NULL, NULL, NULL))) {
        xt_free(c->s.mem, p);
        return rc;
    }
    xt_free(c->s.mem, r->pending_nick);
    r->pending_nick = p;
    return 0;
}

int xt_muc_set_presence(xt_conn *c, const char *room, xt_show show, const char *status)
{
    xt_muc_room *r;
    int rc = room_for_call(c, room, &r);
    if (rc)
        return rc;
    if (show >= XT_SHOW_UNAVAILABLE || !text_ok(status))
        return XT_EINVAL;
    return send_room_presence(c, r->jid, r->nick, show, status, NULL, NULL);
}

/* --- the stream's life ------------------------------------------------------------ */

void xt_muc_drop_all(xt_conn *c)
{
    /* §7.14 does not apply: the server dropped our presence with the
     * session, so every room counts us out. */
    c->handlers.emitting++; /* every room lives until the last handler ran */
    while (c->muc.n) {
        xt_muc_room *r = c->muc.v[c->muc.n - 1];
        xt_muc_remove(c, r);
        xt_muc_event m = {.room = r->jid, .u.left = {.why = XT_MUC_LEFT_DISCONNECTED}};
        xt_event ev = {.type = XT_EV_MUC_LEFT, .u.muc = &m};
        xt_conn_emit(c, &ev);
    }
    c->handlers.emitting--;
    xt_muc_gc(c);
}

void xt_muc_disconnected(xt_conn *c, int resumable)
{
    /* XEP-0198 §5: a resumed session keeps our room presence; decide at
     * the next online. Without it the rooms are gone now. */
    if (!resumable)
        xt_muc_drop_all(c);
}

void xt_muc_online(xt_conn *c, int resumed)
{
    if (!resumed)
        xt_muc_drop_all(c);
}

/* --- getters ----------------------------------------------------------------------- */

xt_muc_state xt_muc_room_state(const xt_conn *c, const char *room)
{
    const xt_muc_room *r = xt_muc_lookup(c, room);
    return r ? r->state : XT_MUC_NOT_JOINED;
}

size_t xt_muc_room_count(const xt_conn *c)
{
    return c ? c->muc.n : 0;
}

const char *xt_muc_room_at(const xt_conn *c, size_t i)
{
    return c && i < c->muc.n ? c->muc.v[i]->jid : NULL;
}

const char *xt_muc_nick(const xt_conn *c, const char *room)
{
    const xt_muc_room *r = xt_muc_lookup(c, room);
    return r ? r->nick : NULL;
}

const char *xt_muc_subject(const xt_conn *c, const char *room)
{
    const xt_muc_room *r = xt_muc_lookup(c, room);
    return r ? r->subject : NULL;
}

unsigned xt_muc_room_flags(const xt_conn *c, const char *room)
{
    const xt_muc_room *r = xt_muc_lookup(c, room);
    return r ? r->flags : 0;
}

size_t xt_muc_occupant_count(const xt_conn *c, const char *room)
{
    const xt_muc_room *r = xt_muc_lookup(c, room);
    return r ? r->occ.n : 0;
}

const xt_muc_occupant *xt_muc_occupant_at(const xt_conn *c, const char *room, size_t i)
{
    const xt_muc_room *r = xt_muc_lookup(c, room);
    return r && i < r->occ.n ? &r->occ.v[i].view : NULL;
}

const xt_muc_occupant *xt_muc_occupant_find(const xt_conn *c, const char *room, const char *nick)
{
    const xt_muc_room *r = nick ? xt_muc_lookup(c, room) : NULL;
    const xt_muc_occ *o = r ? xt_muc_occ_find(&r->occ, nick) : NULL;
    return o ? &o->view : NULL;
}

/* --- the room's stanza-ids (XEP-0359 §4: 'by' the room) -------------------------- */

int xt_muc_seen(xt_conn *c, xt_muc_room *r, const char *id)
{
    if (xt_index_find(&r->seen.ix, id, seen_key, r) != XT_INDEX_NONE)
        return 1;
    size_t k = r->seen.next;
    if (r->seen.id[k]) {
        xt_index_del(&r->seen.ix, k, seen_key, r);
        xt_free(c->s.mem, r->seen.id[k]);
        r->seen.id[k] = NULL;
    }
    if (!(r->seen.id[k] = xt_strdup(c->s.mem, id)))
        return 0; /* not remembered: at worst a repeat is shown */
    if (xt_index_add(c->s.mem, &r->seen.ix, k, seen_key, r)) {
        xt_free(c->s.mem, r->seen.id[k]);
        r->seen.id[k] = NULL;
        return 0;
    }
    r->seen.next = (k + 1) % XT_MUC_SEEN_RING;
    return 0;
}
