/*
 * im/muc_int.h -- XEP-0045 rooms inside the IM layer (internal).
 *
 * The conn keeps one xt_muc_room per room we are in or joining, found by
 * its bare JID through a seeded hash index (index.h), each with its
 * occupant table (muc_occupant.c, hashed by nick the same way: a room of
 * 10,000 occupants costs O(1) per presence, not O(n)). The files:
 *   muc.c           the rooms table, join / leave / nick / presence, getters
 *   muc_occupant.c  one room's occupant table
 *   muc_status.c    status codes (§15.6) and the <x muc#user/> payload
 *   muc_presence.c  a room's presence -> occupant changes and room events
 *   muc_message.c   groupchat and private messages, reflections, subject
 *   muc_mention.c   our nick named in a body
 *   muc_invite.c    mediated (§7.8) and direct (XEP-0249) invitations
 *   muc_admin.c     roles, affiliations, owner forms, destroy, room disco
 *
 * Invariants. A room pointer stays valid until the room is removed; the
 * table holds pointers, so joining another room (a grown array) moves no
 * room. A removed room leaves the table (and its index) at once, so a
 * handler may join the same room again right away; but it is never freed
 * while handlers run (c->handlers.emitting): it waits on the dead list
 * for xt_muc_gc at the next entry with no emit running, so the pointers
 * an event carries stay good for every handler of that event. After any
 * emit, code re-finds its room by JID.
 */
#ifndef XT_IM_MUC_INT_H
#define XT_IM_MUC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "im/index.h"
#include "xtalk/jid.h"
#include "xtalk/muc.h"

struct xt_conn;

/* One occupant as stored; view's strings point into these fields. */
typedef struct xt_muc_occ {
    char *jid;      /* room@service/nick; view.nick points after the '/' */
    char *real_jid; /* NULL when hidden */
    char *status;
    xt_muc_occupant view;
} xt_muc_occ;

typedef struct xt_muc_occ_table {
    xt_muc_occ *v;
    size_t n, cap;
    xt_index ix;    /* by nick */
    const xt_mem *mem;
    /* Key reads by the index (tests count them: a join of n occupants
     * must cost O(n) of them, issue 16). */
    uint64_t *probes;
} xt_muc_occ_table;

/* How many of our sent ids and of the room's stanza-ids a room remembers
 * (reflections come back within seconds; a history replay at a rejoin
 * overlaps at most the room's history size, 20 by default in Prosody and
 * ejabberd). */
#define XT_MUC_SENT_RING 64
#define XT_MUC_SEEN_RING 512

typedef struct xt_muc_room {
    char *jid;          /* bare, prepared */
    char *nick;         /* ours (what the room confirmed, or asked for while joining) */
    char *pending_nick; /* a nick change in flight, else NULL */
    char *password;     /* for a rejoin; wiped when freed */
    char *subject;
    xt_muc_state state;
    unsigned flags;     /* XT_MUC_ST_* the room said about itself */
    int reserved;       /* the join asked to configure a created room itself */
    int leaving;        /* our unavailable presence was sent */
    int dead;           /* removed while handlers ran: freed by xt_muc_gc */
    struct xt_muc_room *next_dead;
    xt_muc_occ_table occ;
    struct {
        char id[XT_MUC_SENT_RING][64]; /* ids (= origin-ids) of our groupchat messages */
        size_t next;
    } sent;
    struct {
        char *id[XT_MUC_SEEN_RING]; /* room stanza-ids delivered, a ring */
        size_t next;
        xt_index ix;
    } seen;
    struct {
        uint64_t last;   /* when the room last sent us anything (or we joined) */
        uint32_t token;  /* the ping in flight (its IQ's ud), 0 = none */
        uint64_t due;    /* in flight: when to try again if unanswered */
    } ping;              /* XEP-0410 self-ping (muc_selfping.c) */
} xt_muc_room;

typedef struct xt_muc_pending xt_muc_pending; /* an owner form in flight (muc_admin.c) */

/* XEP-0410 tuning kept on the conn (xt_muc_selfping_set); zero = defaults. */
typedef struct xt_muc_selfping {
    uint32_t quiet_ms, timeout_ms;
    uint32_t next_token;
} xt_muc_selfping;

typedef struct xt_muc_rooms {
    xt_muc_room **v;
    size_t n, cap;
    xt_index ix; /* by bare JID */
    xt_muc_room *dead; /* removed while handlers ran, to free (next_dead) */
    xt_muc_pending *pending;
    xt_muc_selfping selfping;
    uint64_t probes; /* key reads of every occupant index (tests) */
} xt_muc_rooms;

/* --- muc.c ----------------------------------------------------------------- */
void xt_muc_init(struct xt_conn *c);
void xt_muc_free(struct xt_conn *c);
/* The room with this prepared bare JID, or NULL. */
xt_muc_room *xt_muc_find(const struct xt_conn *c, const char *bare);
/* The live room for any form of a room JID, or NULL. */
xt_muc_room *xt_muc_lookup(const struct xt_conn *c, const char *room);
/* Takes room out of the table; freed at once, or by xt_muc_gc when
 * handlers run. */
void xt_muc_remove(struct xt_conn *c, xt_muc_room *r);
/* Frees the removed rooms once no handler runs. */
void xt_muc_gc(struct xt_conn *c);
/* Emits ev with .u.muc = m, then re-finds the room (NULL when gone). */
xt_muc_room *xt_muc_emit(struct xt_conn *c, xt_event_type type, xt_muc_event *m);
/* The stream ended (sm: a resumption may keep the rooms) and a session
 * came up (resumed or new). */
void xt_muc_disconnected(struct xt_conn *c, int resumable);
void xt_muc_online(struct xt_conn *c, int resumed);
/* The occupant JID room/nick, checked and prepared (free with xt_jid_free).
 * 0; XT_EJID; XT_ENOMEM. */
int xt_muc_occupant_jid(const struct xt_conn *c, const char *room, const char *nick,
                        xt_jid **out);
/* 1 when the room's stanza-id was delivered before (a repeat to drop);
 * else remembers it and returns 0. */
int xt_muc_seen(struct xt_conn *c, xt_muc_room *r, const char *id);
/* Every room is gone: XT_EV_MUC_LEFT (disconnected) for each. */
void xt_muc_drop_all(struct xt_conn *c);

/* --- muc_occupant.c ----------------------------------------------------------- */
void xt_muc_occ_init(xt_muc_occ_table *t, const xt_mem *mem, xt_random_fn fn, void *ud,
                     uint64_t *probes);
void xt_muc_occ_free(xt_muc_occ_table *t);
/* The occupant with this nick, or NULL. */
xt_muc_occ *xt_muc_occ_find(const xt_muc_occ_table *t, const char *nick);
/* A new occupant (its nick not in the table): XT_ETOOBIG at the cap,
 * XT_ENOMEM. room is the bare room JID. */
int xt_muc_occ_add(xt_muc_occ_table *t, const char *room, const char *nick, xt_muc_occ **out);
/* Renames o (the new nick not in the table). 0 or XT_ENOMEM (unchanged). */
int xt_muc_occ_rename(xt_muc_occ_table *t, xt_muc_occ *o, const char *room, const char *nick);
/* Sets the real JID (NULL = hidden) and status (NULL = none). */
int xt_muc_occ_set_strings(xt_muc_occ_table *t, xt_muc_occ *o, const char *real_jid,
                           const char *status);
void xt_muc_occ_remove(xt_muc_occ_table *t, xt_muc_occ *o);

/* --- muc_status.c -------------------------------------------------------------- */
/* What a <x xmlns='...muc#user'/> says (pointers into the stanza). */
typedef struct xt_muc_user_x {
    const xt_stanza *x;        /* NULL when the stanza has none */
    const char *item_jid, *item_nick, *item_role, *item_affiliation;
    const char *reason, *actor;
    const xt_stanza *destroy;  /* <destroy/> */
    const char *destroy_jid, *destroy_reason, *destroy_password;
    unsigned codes;            /* every known code present, as XT_MUC_ST_* (unfiltered) */
} xt_muc_user_x;
/* Where a status code appears; codes outside the registry's contexts
 * (§15.6.2) for it are dropped. */
typedef enum xt_muc_ctx {
    XT_MUC_CTX_AVAILABLE,   /* an available presence */
    XT_MUC_CTX_UNAVAILABLE, /* an unavailable presence */
    XT_MUC_CTX_MESSAGE,     /* a message from the room itself */
} xt_muc_ctx;
void xt_muc_user_parse(const xt_stanza *st, xt_muc_user_x *u);
unsigned xt_muc_status_filter(unsigned codes, xt_muc_ctx ctx);
xt_muc_role xt_muc_role_parse(const char *s);
xt_muc_affiliation xt_muc_affiliation_parse(const char *s);
/* A person-readable sentence for a join refusal. */
void xt_muc_join_error_message(char *out, size_t size, const char *room, const char *nick,
                               const char *condition, const char *text);

/* --- muc_presence.c --------------------------------------------------------------- */
/* A presence from a room we are in or joining: 1 handled (no roster
 * presence event), 0 not a room's, negative: fail the stream. */
int xt_muc_on_presence(struct xt_conn *c, const xt_stanza *st, const char *bare,
                       const char *nick);

/* --- muc_message.c ------------------------------------------------------------------ */
/* Before XT_EV_MESSAGE (live messages only): fills m's room fields.
 * Returns 1 when the message was consumed here (a subject, a room
 * notice, an invitation, a repeat), 0 to deliver it, negative to fail
 * the stream. */
int xt_muc_on_message(struct xt_conn *c, const xt_stanza *st, xt_message *m,
                      const xt_stanza *muc_user, const xt_stanza *conference);
/* Remembers an id we sent to room (reflection matching). */
void xt_muc_sent(xt_muc_room *r, const char *id);

/* --- muc_invite.c --------------------------------------------------------------------- */
/* An invitation or a decline in a message (its muc#user and conference
 * <x/> children, found by the features pass): 1 (handled, event
 * emitted), 0. */
int xt_muc_on_invite(struct xt_conn *c, const xt_stanza *st, const char *from,
                     const xt_stanza *user, const xt_stanza *direct);

/* --- muc_selfping.c ------------------------------------------------------------------ */
/* A stanza arrived: a room that sent it is not quiet. */
void xt_muc_selfping_rx(struct xt_conn *c, const xt_stanza *st);
/* Sends the pings that are due; -1 or the next time one is. */
int xt_muc_selfping_tick(struct xt_conn *c, uint64_t now);
int64_t xt_muc_selfping_deadline(const struct xt_conn *c);

/* --- muc_mam.c ------------------------------------------------------------------------ */
/* A result of a room's archive (m->stanza_id_by the room): fills m's room
 * fields when we are in the room; 1 when the room delivered that
 * stanza-id before (drop it), 0 to deliver, negative: fail the stream. */
int xt_muc_on_archived(struct xt_conn *c, xt_message *m);

/* --- muc_admin.c --------------------------------------------------------------------- */
void xt_muc_pending_free_all(struct xt_conn *c);

#endif
