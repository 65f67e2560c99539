/*
 * XEP-0410 (v1.1.0) MUC Self-Ping: after a quiet spell, ping our own
 * occupant JID; an answer saying we are not an occupant makes us join
 * again (xtalk/selfping.h has the whole contract).
 *
 * State lives on each room (xt_muc_room.ping) and the tuning on the rooms
 * table. A ping's IQ carries a token, not a room pointer, as its ud: the
 * room may be left and freed before the answer (or the timeout) comes,
 * and a token that finds no room is simply dropped. Nothing is allocated
 * per ping, so nothing leaks when the conn is freed with pings in flight.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "im/muc_int.h"
#include "xtalk/selfping.h"

#define XT_NS_PING "urn:xmpp:ping"

static uint32_t quiet_ms(const xt_conn *c)
{
    uint32_t q = c->muc.selfping.quiet_ms;
    return q ? q : XT_SELFPING_DEFAULT_QUIET_MS;
}

static uint32_t timeout_ms(const xt_conn *c)
{
    uint32_t t = c->muc.selfping.timeout_ms;
    return t ? t : XT_SELFPING_DEFAULT_TIMEOUT_MS;
}

int xt_muc_selfping_set(xt_conn *c, uint32_t quiet, uint32_t timeout)
{
    if (!c || (quiet && timeout > quiet))
        return XT_EINVAL;
    c->muc.selfping.quiet_ms = quiet;
    c->muc.selfping.timeout_ms = timeout;
    return 0;
}

static int live(const xt_muc_room *r)
{
    return r && !r->dead && !r->leaving && r->state == XT_MUC_JOINED;
}

void xt_muc_selfping_rx(xt_conn *c, const xt_stanza *st)
{
    if (!c->muc.n)
        return; /* the common case costs one test */
    const char *from = xt_stanza_attr(st, "from");
    const char *slash = from ? strchr(from, '/') : NULL;
    size_t len = slash ? (size_t)(slash - from) : from ? strlen(from) : 0;
    char bare[1024];
    if (!len || len >= sizeof bare)
        return;
    memcpy(bare, from, len);
    bare[len] = '\0';
    /* Rooms are keyed prepared; a service writes its JIDs prepared, and
     * one that does not only costs an early ping. */
    xt_muc_room *r = xt_muc_find(c, bare);
    if (r && !r->dead)
        r->ping.last = c->s.t.now;
}

static xt_muc_room *by_token(xt_conn *c, uint32_t token)
{
    for (size_t i = 0; i < c->muc.n; i++)
        if (c->muc.v[i]->ping.token == token && !c->muc.v[i]->dead)
            return c->muc.v[i];
    return NULL;
}

/* The RFC 6120 §8.3.3 condition of an error reply, or NULL. */
static const char *condition(const xt_stanza *reply)
{
    const xt_stanza *e = reply ? xt_stanza_child(reply, "error", NULL) : NULL;
    for (const xt_stanza *ch = e ? xt_stanza_first_child(e) : NULL; ch;
         ch = xt_stanza_next_sibling(ch))
        if (strcmp(xt_stanza_ns(ch), XT_NS_STANZA_ERRORS) == 0 &&
            strcmp(xt_stanza_name(ch), "text"))
            return xt_stanza_name(ch);
    return NULL;
}

/* §3.2: which answers mean we are still in the room. */
static int still_joined(const char *cond)
{
    static const char *const joined[] = {
        "service-unavailable",     /* a client of ours that does not do ping */
        "feature-not-implemented", /* the same */
    };
    /* item-not-found is not among them: §3.2 reads it as our nick changed
     * by another client of ours, but Prosody and ejabberd answer it for a
     * room that no longer exists (a restarted service that kept no
     * non-persistent room), the case self-ping is for. Joining again
     * under our nick is harmless in the rare first case (the room treats
     * it as a nick change back) and the only way out of the second. */
    for (size_t i = 0; i < sizeof joined / sizeof *joined; i++)
        if (strcmp(cond, joined[i]) == 0)
            return 1;
    return 0;
}

/* §3.2: answers that say nothing either way (the service is out of reach). */
static int unknown(const char *cond)
{
    return strcmp(cond, "remote-server-not-found") == 0 ||
           strcmp(cond, "remote-server-timeout") == 0;
}

/* We are out of r: tell the application, forget the room, join again. */
static void rejoin(xt_conn *c, xt_muc_room *r, const char *cond)
{
    char *room = xt_strdup(c->s.mem, r->jid);
    char *nick = xt_strdup(c->s.mem, r->nick);
    int had_pw = r->password != NULL;
    char *pw = had_pw ? xt_strdup(c->s.mem, r->password) : NULL;
    char reason[128];
    snprintf(reason, sizeof reason, "self-ping: %s", cond);
    xt_muc_event m = {.room = r->jid, .u.left = {.why = XT_MUC_LEFT_ERROR, .reason = reason}};
    r = xt_muc_emit(c, XT_EV_MUC_LEFT, &m);
    if (r)
        xt_muc_remove(c, r);
    /* A handler may have joined it again itself, or closed the conn. */
    if (room && nick && (!had_pw || pw) && !xt_muc_lookup(c, room) && xt_stream_is_online(&c->s)) {
        xt_muc_join_opts o = {.nick = nick, .password = pw, .history = XT_MUC_HISTORY_NONE};
        (void)xt_muc_join(c, room, &o); /* a failure is the join's: nothing to add */
    }
    xt_free(c->s.mem, room);
    xt_free(c->s.mem, nick);
    xt_free_secret(c->s.mem, pw);
}

static void on_pong(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    xt_muc_room *r = by_token(c, (uint32_t)(uintptr_t)ud);
    if (!r)
        return; /* left meanwhile */
    r->ping.token = 0;
    const char *cond = status == XT_ESTANZA ? condition(reply) : NULL;
    if (status == 0 || (cond && still_joined(cond))) {
        r->ping.last = c->s.t.now;
        return;
    }
    if (status != XT_ESTANZA || !cond || unknown(cond)) {
        /* A timeout, the stream's end, an error without a condition:
         * nothing is known; try again after the timeout (§3.2). */
        r->ping.last = c->s.t.now - quiet_ms(c) + timeout_ms(c);
        return;
    }
    if (r->state == XT_MUC_JOINED && !r->leaving)
        rejoin(c, r, cond);
}

static xt_stanza *build_ping(xt_stanza *iq, const void *arg)
{
    (void)arg;
    return xt_stanza_add_child(iq, "ping", XT_NS_PING);
}

static int send_ping(xt_conn *c, xt_muc_room *r)
{
    xt_jid *to = NULL;
    int rc = xt_muc_occupant_jid(c, r->jid, r->nick, &to);
    if (rc)
        return rc;
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    rc = iq && !xt_stanza_set_attr(iq, "type", "get") &&
                 !xt_stanza_set_attr(iq, "to", xt_jid_full(to)) && build_ping(iq, NULL)
             ? 0
             : XT_ENOMEM;
    xt_jid_free(to);
    uint32_t token = ++c->muc.selfping.next_token;
    if (!token) /* 0 means none */
        token = ++c->muc.selfping.next_token;
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, timeout_ms(c), on_pong, (void *)(uintptr_t)token);
    xt_stanza_free(iq);
    if (!rc)
        r->ping.token = token;
    return rc;
}

int xt_muc_selfping_tick(xt_conn *c, uint64_t now)
{
    if (c->muc.selfping.quiet_ms == UINT32_MAX || !xt_stream_is_online(&c->s))
        return 0;
    for (size_t i = 0; i < c->muc.n; i++) {
        xt_muc_room *r = c->muc.v[i];
        if (!live(r) || r->ping.token)
            continue;
        if (!r->ping.last) {
            r->ping.last = now; /* joined since the last tick */
            continue;
        }
        if (now - r->ping.last < quiet_ms(c))
            continue;
        int rc = send_ping(c, r);
        if (rc == XT_ENOMEM)
            return rc;
        r->ping.last = now; /* also on a failed send: no busy loop */
    }
    return 0;
}

int64_t xt_muc_selfping_deadline(const xt_conn *c)
{
    if (c->muc.selfping.quiet_ms == UINT32_MAX || !xt_stream_is_online(&c->s))
        return -1;
    int64_t best = -1;
    for (size_t i = 0; i < c->muc.n; i++) {
        const xt_muc_room *r = c->muc.v[i];
        if (!live(r) || r->ping.token)
            continue;
        /* A room joined since the last tick: a tick now starts its clock. */
        int64_t at = r->ping.last ? (int64_t)(r->ping.last + quiet_ms(c)) : (int64_t)c->s.t.now;
        if (best < 0 || at < best)
            best = at;
    }
    return best;
}
