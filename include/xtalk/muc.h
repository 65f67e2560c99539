/*
 * xtalk/muc.h -- group chat: XEP-0045 Multi-User Chat rooms on an
 * xt_conn, with XEP-0249 direct invitations and XEP-0359 ids.
 *
 * Rooms are keyed by their bare JID (room@service, any form: it is
 * prepared per RFC 7622) on the conn: xt_muc_join() enters one, the conn
 * keeps its state (our nick, the occupant table, the subject) and routes
 * the room's presence and groupchat messages to it instead of the roster
 * and presence table. Everything is sans-I/O like xtalk/conn.h: calls
 * queue stanzas, and what the room answers arrives as events while the
 * driver feeds bytes.
 *
 * Events (xt_conn_on masks; ev->u.muc points at an xt_muc_event):
 *   XT_EV_MUC_JOINED       our self-presence (status 110) arrived: we are in;
 *                          the occupants the room sent before it are in the table
 *   XT_EV_MUC_JOIN_FAILED  the room refused us (nick conflict, password,
 *                          members-only, banned, ...): .condition and .error
 *   XT_EV_MUC_OCCUPANT     someone (us too, .self) entered, left, changed nick,
 *                          role, affiliation or presence
 *   XT_EV_MUC_SUBJECT      the room's subject (also the one sent at join)
 *   XT_EV_MUC_LEFT         we are out: our leave, kicked, banned, removed,
 *                          room destroyed or shut down (.why, .reason)
 *   XT_EV_MUC_INVITE       an invitation to a room (mediated XEP-0045 §7.8.2 or
 *                          direct XEP-0249), or the decline of one we sent
 *   XT_EV_MUC_CONFIG       the room says its configuration changed (104, 170-174)
 * Groupchat messages, and private messages from an occupant, stay
 * XT_EV_MESSAGE, with xt_message.room / .nick / .mention / .from_self set.
 *
 * Our own messages. The room reflects every groupchat message to all
 * occupants, the sender included (§7.4). xt_muc_send() remembers each id
 * it sent (also the XEP-0359 origin-id); the reflection carrying it (or,
 * from a room that drops origin-id, the same id) arrives as XT_EV_MESSAGE
 * with from_self = 1, once: a repeat of a message already delivered
 * (same room stanza-id, XEP-0359 'by' the room) is dropped, so a room
 * history overlapping what we saw is not shown twice. A sender that
 * never sees its reflection should not assume the room has the message.
 *
 * Mentions: xt_message.mention is 1 when a groupchat body names our nick
 * in the room as a word (bounded by non-letters/digits or the text's
 * ends), case-insensitively with Unicode case folding.
 *
 * Status codes (§15.6) are interpreted into XT_MUC_ST_* bits, and only on
 * the stanzas the registry defines them for (a 307 on an available
 * presence, a 110 in a message, means nothing and is ignored).
 *
 * Limits: at most XT_MUC_MAX_ROOMS joined rooms and XT_MUC_MAX_OCCUPANTS
 * occupants per room (a hostile room's flood stops growing the table;
 * events still go out). Occupant lookups are hashed (seeded SipHash): a
 * room of 10,000 occupants joins in linear time.
 *
 * Lifetimes: as xtalk/conn.h. Pointers in an xt_muc_event are valid
 * during the handler only; those from the getters until the conn changes.
 * Strings passed in are copied. A disconnect leaves every room (the
 * server dropped us): XT_EV_MUC_LEFT with why XT_MUC_LEFT_DISCONNECTED;
 * rejoining after a reconnect is the application's (the rooms it wants
 * are its own state; a resumed XEP-0198 session keeps them joined).
 */
#ifndef XTALK_MUC_H
#define XTALK_MUC_H

#include "common.h"
#include "conn.h"
#include "disco.h"
#include "im.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XT_NS_MUC        "http://jabber.org/protocol/muc"
#define XT_NS_MUC_USER   "http://jabber.org/protocol/muc#user"
#define XT_NS_MUC_ADMIN  "http://jabber.org/protocol/muc#admin"
#define XT_NS_MUC_OWNER  "http://jabber.org/protocol/muc#owner"
#define XT_NS_CONFERENCE "jabber:x:conference" /* XEP-0249 */

#define XT_MUC_MAX_ROOMS     1024
#define XT_MUC_MAX_OCCUPANTS 100000

/* --- roles, affiliations, status codes -------------------------------------- */

/* XEP-0045 §5.1. */
typedef enum xt_muc_role {
    XT_MUC_ROLE_NONE = 0,
    XT_MUC_ROLE_VISITOR,
    XT_MUC_ROLE_PARTICIPANT,
    XT_MUC_ROLE_MODERATOR,
} xt_muc_role;

/* XEP-0045 §5.2. */
typedef enum xt_muc_affiliation {
    XT_MUC_AFFIL_NONE = 0,
    XT_MUC_AFFIL_OUTCAST,
    XT_MUC_AFFIL_MEMBER,
    XT_MUC_AFFIL_ADMIN,
    XT_MUC_AFFIL_OWNER,
} xt_muc_affiliation;

/* "none", "visitor", "participant", "moderator" / "none", "outcast",
 * "member", "admin", "owner": static strings ("none" for an unknown value). */
XT_EXTERN const char *xt_muc_role_name(xt_muc_role r);
XT_EXTERN const char *xt_muc_affiliation_name(xt_muc_affiliation a);

/* Interpreted status codes (XEP-0045 §15.6), as bits of .status. */
enum {
    XT_MUC_ST_SELF = 1u << 0,           /* 110: this presence is about us */
    XT_MUC_ST_NON_ANONYMOUS = 1u << 1,  /* 100 (or 172): everyone sees real JIDs */
    XT_MUC_ST_LOGGED = 1u << 2,         /* 170: the room is publicly logged */
    XT_MUC_ST_CREATED = 1u << 3,        /* 201: a new room was created by joining */
    XT_MUC_ST_NICK_ASSIGNED = 1u << 4,  /* 210: the service changed our nick */
    XT_MUC_ST_BANNED = 1u << 5,         /* 301: banned (affiliation outcast) */
    XT_MUC_ST_NICK_CHANGED = 1u << 6,   /* 303: nick change (new one in the item) */
    XT_MUC_ST_KICKED = 1u << 7,         /* 307: kicked (role none) */
    XT_MUC_ST_AFFIL_REMOVED = 1u << 8,  /* 321: removed by an affiliation change */
    XT_MUC_ST_MEMBERS_ONLY = 1u << 9,   /* 322: removed: the room became members-only */
    XT_MUC_ST_SHUTDOWN = 1u << 10,      /* 332: removed: the service shuts down */
    XT_MUC_ST_TECHNICAL = 1u << 11,     /* 333: removed for technical reasons (an error) */
    XT_MUC_ST_CONFIG_CHANGED = 1u << 12,/* 104: a non-privacy configuration change */
    XT_MUC_ST_UNLOGGED = 1u << 13,      /* 171: logging turned off */
    XT_MUC_ST_SEMI_ANONYMOUS = 1u << 14,/* 173: real JIDs visible to moderators only */
};

/* --- occupants ----------------------------------------------------------------- */

typedef struct xt_muc_occupant {
    const char *nick;     /* the resourcepart of jid */
    const char *jid;      /* the occupant JID: room@service/nick */
    const char *real_jid; /* the item's jid when the room shows it to us; NULL else */
    xt_muc_role role;
    xt_muc_affiliation affiliation;
    const char *show;   /* NULL = available, or "chat", "away", "xa", "dnd" */
    const char *status; /* NULL when none (cut to 1 KiB) */
    int self;           /* 1 for our own occupant */
} xt_muc_occupant;

/* Room state, as xt_muc_room_state says it. */
typedef enum xt_muc_state {
    XT_MUC_NOT_JOINED = 0, /* unknown room, or left */
    XT_MUC_JOINING,        /* join presence sent, no self-presence yet */
    XT_MUC_JOINED,
} xt_muc_state;

/* --- joining and leaving ------------------------------------------------------ */

/* How much of the room's history to ask for at join (§7.2.13). */
typedef enum xt_muc_history {
    XT_MUC_HISTORY_DEFAULT = 0, /* no <history/>: the room's default */
    XT_MUC_HISTORY_NONE,        /* maxstanzas='0': none (e.g. send-and-leave, or an archive) */
    XT_MUC_HISTORY_LIMITS,      /* the limits below (each 0 / NULL = not sent) */
} xt_muc_history;

/* Join options; zero-initialize (fields may be added at the end later). */
typedef struct xt_muc_join_opts {
    const char *nick;     /* required: 1..1023 bytes, a valid resourcepart */
    const char *password; /* room password (§7.2.6), NULL = none. Copied, wiped when freed */
    xt_muc_history history;
    uint32_t max_stanzas; /* LIMITS: maxstanzas */
    uint32_t max_chars;   /* LIMITS: maxchars */
    uint32_t seconds;     /* LIMITS: seconds */
    const char *since;    /* LIMITS: since (XEP-0082 DateTime) */
    xt_show show;         /* our presence in the room (default available) */
    const char *status;   /* NULL = none */
    /* 1: when the join creates the room (201), leave it locked for the
     * application to configure (xt_muc_configure) instead of accepting
     * the default configuration as an instant room (§10.1.2). */
    int reserved_room;
} xt_muc_join_opts;

/*
 * Enters room (a bare JID) as o->nick: sends our presence to room/nick
 * with <x xmlns='http://jabber.org/protocol/muc'/> (password, history).
 * XT_EV_MUC_JOINED follows, or XT_EV_MUC_JOIN_FAILED. When the join
 * created the room (201) the conn makes it an instant room (submits the
 * empty configuration form, §10.1.2) unless o->reserved_room. Joining a
 * room we are in (or joining) again with another nick is a nick change.
 * 0; XT_EINVAL (NULL, no nick, text that is not XML-safe, a bad history);
 * XT_EJID (room not a bare JID, nick not a resourcepart); XT_ESTATE (not
 * online); XT_ETOOBIG (XT_MUC_MAX_ROOMS); XT_ENOMEM.
 */
XT_EXTERN int xt_muc_join(xt_conn *c, const char *room, const xt_muc_join_opts *o);
/* Leaves room (§7.14): unavailable presence with status (NULL = none).
 * XT_EV_MUC_LEFT (why XT_MUC_LEFT_SELF) follows when the room confirms,
 * at once when we were not joined yet. 0; XT_EINVAL; XT_ENOTFOUND (not in
 * that room); XT_ESTATE; XT_ENOMEM. */
XT_EXTERN int xt_muc_leave(xt_conn *c, const char *room, const char *status);
/* Changes our nick in room (§7.6); the room answers with XT_EV_MUC_OCCUPANT
 * (XT_MUC_OCC_NICK, self), or a failure as XT_EV_MUC_JOIN_FAILED with
 * .nick_change set (conflict: the old nick stays). Errors as xt_muc_leave,
 * XT_EJID for a bad nick. */
XT_EXTERN int xt_muc_set_nick(xt_conn *c, const char *room, const char *nick);
/* Our presence in room (§7.7): show and status (NULL = none). Errors as
 * xt_muc_leave, XT_EINVAL for a bad show or status. */
XT_EXTERN int xt_muc_set_presence(xt_conn *c, const char *room, xt_show show, const char *status);

/* --- messages ----------------------------------------------------------------- */

/* A groupchat message to the room (§7.4). id_out (may be NULL) gets its
 * id, also its XEP-0359 origin-id: the reflection comes back with it as
 * XT_EV_MESSAGE from_self. XT_EV_ACKED follows when our server has it.
 * XT_ENOTFOUND (not joined); the errors of xt_conn_send_message. */
XT_EXTERN int xt_muc_send(xt_conn *c, const char *room, const char *body, char id_out[64]);
/* As xt_muc_send with a caller-chosen id (1..63 XML-safe characters:
 * an outbox entry re-sent) and extras (xtalk/im.h; receipts are never
 * requested in groupchat). x may be NULL. */
XT_EXTERN int xt_muc_send_ex(xt_conn *c, const char *room, const char *body, const char *id,
                             const xt_message_extras *x, char id_out[64]);
/* A private message to the occupant room/nick (§7.5): type chat, with
 * <x xmlns='http://jabber.org/protocol/muc#user'/>. XT_ENOTFOUND (not
 * joined); XT_EJID (bad nick); the errors of xt_conn_send_message. */
XT_EXTERN int xt_muc_send_private(xt_conn *c, const char *room, const char *nick,
                                  const char *body, char id_out[64]);
/* Sets the subject (§8.1): a groupchat message with only <subject/>
 * ("" clears it). XT_EV_MUC_SUBJECT follows when the room accepts it.
 * Errors as xt_muc_send. */
XT_EXTERN int xt_muc_set_subject(xt_conn *c, const char *room, const char *subject);

/* --- state ------------------------------------------------------------------- */

/* The state of room (any form); XT_MUC_NOT_JOINED for NULL or unknown. */
XT_EXTERN xt_muc_state xt_muc_room_state(const xt_conn *c, const char *room);
/* Rooms we are in or joining: count, and the bare JID of room i (valid
 * until the conn changes; NULL past the end). */
XT_EXTERN size_t xt_muc_room_count(const xt_conn *c);
XT_EXTERN const char *xt_muc_room_at(const xt_conn *c, size_t i);
/* Our nick in room, NULL when not in it. Valid until the conn changes. */
XT_EXTERN const char *xt_muc_nick(const xt_conn *c, const char *room);
/* The room's subject, NULL when none seen. Valid until the conn changes. */
XT_EXTERN const char *xt_muc_subject(const xt_conn *c, const char *room);
/* XT_MUC_ST_* bits the room said about itself (100, 170, 171, 173...). */
XT_EXTERN unsigned xt_muc_room_flags(const xt_conn *c, const char *room);
/* Occupants present (us included once joined): count, and occupant i in
 * no particular order (valid until the conn changes; NULL past the end). */
XT_EXTERN size_t xt_muc_occupant_count(const xt_conn *c, const char *room);
XT_EXTERN const xt_muc_occupant *xt_muc_occupant_at(const xt_conn *c, const char *room, size_t i);
/* The occupant with this nick (exact, as the room wrote it), or NULL. */
XT_EXTERN const xt_muc_occupant *xt_muc_occupant_find(const xt_conn *c, const char *room,
                                                      const char *nick);
/* 1 when text names nick as a word, case-insensitively (the test used for
 * xt_message.mention). 0 also for NULLs and an empty nick. */
XT_EXTERN int xt_muc_mentions(const char *text, const char *nick);

/* --- moderation (§8, §9) ------------------------------------------------------ */
/* Each is a muc#admin IQ to the room; cb gets its result (XT_ESTANZA: the
 * room refused, e.g. not-allowed or forbidden, with the <error/> in
 * reply). reason may be NULL. The errors of xt_conn_iq, XT_EJID,
 * XT_EINVAL for an unknown role/affiliation or non-XML-safe text. */

/* Sets nick's role: NONE kicks (§8.2), VISITOR revokes voice, PARTICIPANT
 * grants it, MODERATOR (§9.6). */
XT_EXTERN int xt_muc_set_role(xt_conn *c, const char *room, const char *nick, xt_muc_role role,
                              const char *reason, xt_iq_fn cb, void *ud);
XT_EXTERN int xt_muc_kick(xt_conn *c, const char *room, const char *nick, const char *reason,
                          xt_iq_fn cb, void *ud);
/* Sets a (bare) real JID's affiliation: OUTCAST bans (§9.1), MEMBER,
 * ADMIN, OWNER, NONE. */
XT_EXTERN int xt_muc_set_affiliation(xt_conn *c, const char *room, const char *jid,
                                     xt_muc_affiliation affiliation, const char *reason,
                                     xt_iq_fn cb, void *ud);
XT_EXTERN int xt_muc_ban(xt_conn *c, const char *room, const char *jid, const char *reason,
                         xt_iq_fn cb, void *ud);

/* --- invitations --------------------------------------------------------------- */

/* Mediated invitation (§7.8.2): through the room, which adds the password
 * for us. reason may be NULL. Errors as xt_muc_send, XT_EJID for jid. */
XT_EXTERN int xt_muc_invite(xt_conn *c, const char *room, const char *jid, const char *reason);
/* Declines a mediated invitation (§7.8.2): to the inviter's JID (the
 * event's .from) through the room. */
XT_EXTERN int xt_muc_decline(xt_conn *c, const char *room, const char *inviter,
                             const char *reason);
/* XEP-0249 direct invitation: a message straight to jid with <x
 * xmlns='jabber:x:conference' jid=room/>, password and reason optional.
 * The errors of xt_conn_send_message, XT_EJID. Accepting one is joining:
 * xt_muc_join with the event's room and password. */
XT_EXTERN int xt_muc_invite_direct(xt_conn *c, const char *room, const char *jid,
                                   const char *reason, const char *password);

/* --- owners: creation and configuration (§10) --------------------------------- */

/* Accepts the default configuration of a room we created (201) and
 * unlocks it: an empty submitted form (§10.1.2). Done by the conn itself
 * unless the join asked for a reserved room. The errors of xt_conn_iq. */
XT_EXTERN int xt_muc_create_instant(xt_conn *c, const char *room, xt_iq_fn cb, void *ud);

/* Configuration changes to submit (§10.2): an opaque set of muc#roomconfig
 * fields. Only the fields set are changed; the others keep the values
 * the room's form has. */
typedef struct xt_muc_config xt_muc_config;
/* 0 and *out; XT_EINVAL; XT_ENOMEM. mem NULL = malloc. */
XT_EXTERN int xt_muc_config_new(const xt_mem *mem, xt_muc_config **out);
XT_EXTERN void xt_muc_config_free(xt_muc_config *cfg);
/* muc#roomconfig_membersonly. 0; XT_EINVAL; XT_ENOMEM (each setter). */
XT_EXTERN int xt_muc_config_members_only(xt_muc_config *cfg, int on);
/* muc#roomconfig_passwordprotectedroom and _roomsecret: password NULL
 * turns protection off. Copied, wiped when freed. */
XT_EXTERN int xt_muc_config_password(xt_muc_config *cfg, const char *password);
/* muc#roomconfig_persistentroom. */
XT_EXTERN int xt_muc_config_persistent(xt_muc_config *cfg, int on);
/* Any field by its var: value replaces the form's value(s); called again
 * for the same var it adds a value (list-multi, jid-multi). XT_EINVAL for
 * a var or value that is not XML-safe. */
XT_EXTERN int xt_muc_config_set_field(xt_muc_config *cfg, const char *var, const char *value);
/* Fetches the room's configuration form (§10.2), applies cfg to it and
 * submits it; cb gets the submission's result (XT_ESTANZA: refused, e.g.
 * forbidden for a non-owner; XT_EPROTO: the room sent no form). cfg is
 * copied. The errors of xt_conn_iq, XT_EJID. */
XT_EXTERN int xt_muc_configure(xt_conn *c, const char *room, const xt_muc_config *cfg,
                               xt_iq_fn cb, void *ud);
/* Destroys the room (§10.9); reason and alternate (a room JID for the
 * occupants to go to) may be NULL. The errors of xt_conn_iq, XT_EJID. */
XT_EXTERN int xt_muc_destroy(xt_conn *c, const char *room, const char *reason,
                             const char *alternate, xt_iq_fn cb, void *ud);

/* --- discovery (§6) ------------------------------------------------------------- */

/* The rooms of a MUC service: its disco#items (§6.3). */
XT_EXTERN int xt_muc_list_rooms(xt_conn *c, const char *service, xt_disco_items_fn cb, void *ud);
/* A room's disco#info (§6.4): its features; read them with
 * xt_muc_info_flags. */
XT_EXTERN int xt_muc_room_info(xt_conn *c, const char *room, xt_disco_info_fn cb, void *ud);
/* XT_MUC_FEAT_* bits for the muc_* features info lists. */
enum {
    XT_MUC_FEAT_MUC = 1u << 0,              /* http://jabber.org/protocol/muc */
    XT_MUC_FEAT_PASSWORD = 1u << 1,         /* muc_passwordprotected */
    XT_MUC_FEAT_MEMBERS_ONLY = 1u << 2,     /* muc_membersonly */
    XT_MUC_FEAT_PERSISTENT = 1u << 3,       /* muc_persistent */
    XT_MUC_FEAT_NON_ANONYMOUS = 1u << 4,    /* muc_nonanonymous */
    XT_MUC_FEAT_SEMI_ANONYMOUS = 1u << 5,   /* muc_semianonymous */
    XT_MUC_FEAT_MODERATED = 1u << 6,        /* muc_moderated */
    XT_MUC_FEAT_PUBLIC = 1u << 7,           /* muc_public */
    XT_MUC_FEAT_HIDDEN = 1u << 8,           /* muc_hidden */
    XT_MUC_FEAT_MAM = 1u << 9,              /* urn:xmpp:mam:2: the room keeps an archive */
    XT_MUC_FEAT_STANZA_ID = 1u << 10,       /* urn:xmpp:sid:0 */
};
XT_EXTERN unsigned xt_muc_info_flags(const xt_disco_info *info);

/* --- events ------------------------------------------------------------------ */

/* XT_EV_MUC_OCCUPANT: what changed. */
typedef enum xt_muc_change {
    XT_MUC_OCC_JOIN = 1,   /* entered (at our join: each occupant already there) */
    XT_MUC_OCC_LEAVE,      /* left, kicked, banned or removed (.status, .reason) */
    XT_MUC_OCC_NICK,       /* nick change: .old_nick -> occupant->nick (303) */
    XT_MUC_OCC_ROLE,       /* role changed (with or without the affiliation) */
    XT_MUC_OCC_AFFILIATION,/* affiliation changed, role the same */
    XT_MUC_OCC_PRESENCE,   /* show / status changed */
} xt_muc_change;

/* XT_EV_MUC_LEFT: why we are out of the room. */
typedef enum xt_muc_left_why {
    XT_MUC_LEFT_SELF = 1,     /* we left (xt_muc_leave) */
    XT_MUC_LEFT_KICKED,       /* 307 */
    XT_MUC_LEFT_BANNED,       /* 301 */
    XT_MUC_LEFT_AFFILIATION,  /* 321: no longer a member */
    XT_MUC_LEFT_MEMBERS_ONLY, /* 322 */
    XT_MUC_LEFT_SHUTDOWN,     /* 332 */
    XT_MUC_LEFT_ERROR,        /* 333, or an error presence from the room */
    XT_MUC_LEFT_DESTROYED,    /* <destroy/>: .alternate, .reason */
    XT_MUC_LEFT_DISCONNECTED, /* our stream ended (not a resumption) */
} xt_muc_left_why;

/* "self", "kicked", "banned", "affiliation", "members-only", "shutdown",
 * "error", "destroyed", "disconnected": static strings. */
XT_EXTERN const char *xt_muc_left_name(xt_muc_left_why why);

/* XT_EV_MUC_INVITE: what arrived. */
typedef enum xt_muc_invite_kind {
    XT_MUC_INVITE_MEDIATED = 1, /* §7.8.2, from the room on behalf of .from */
    XT_MUC_INVITE_DIRECT,       /* XEP-0249, straight from .from */
    XT_MUC_INVITE_DECLINED,     /* §7.8.2: .from declined our invitation */
} xt_muc_invite_kind;

typedef struct xt_muc_event {
    const char *room;       /* bare room JID */
    unsigned status;        /* XT_MUC_ST_* interpreted from the stanza */
    const xt_stanza *stanza;/* the stanza that caused it (NULL: a disconnect) */
    union {
        /* XT_EV_MUC_JOINED */
        struct {
            const char *nick; /* ours, as the room says (210: it may differ) */
            int created;      /* 201: the join created the room */
        } joined;
        /* XT_EV_MUC_JOIN_FAILED */
        struct {
            const char *nick;      /* the nick we asked for */
            const char *condition; /* RFC 6120 §8.3.3: "conflict", "not-authorized",
                                      "registration-required", "forbidden",
                                      "service-unavailable", "item-not-found",
                                      "not-allowed", "not-acceptable", ... */
            const char *text;      /* the room's <text/>, NULL when none */
            /* A clear message for a person: "nick 'x' is already in use in
             * room@service", "room@service needs a password" ... */
            const char *message;
            int nick_change;       /* 1: a nick change failed; we are still in */
        } join_failed;
        /* XT_EV_MUC_OCCUPANT */
        struct {
            xt_muc_change change;
            const xt_muc_occupant *occupant; /* as it is now (LEAVE: as it was) */
            const char *old_nick;            /* NICK */
            xt_muc_role old_role;            /* ROLE */
            xt_muc_affiliation old_affiliation;
            const char *reason, *actor;      /* kick/ban/role change: item's <reason/>, <actor nick/> */
        } occupant;
        /* XT_EV_MUC_SUBJECT */
        struct {
            const char *subject; /* "" = none */
            const char *nick;    /* who set it, NULL when the room did */
        } subject;
        /* XT_EV_MUC_LEFT */
        struct {
            xt_muc_left_why why;
            const char *reason, *actor; /* NULL when none */
            const char *alternate;      /* DESTROYED: the venue to go to, NULL if none */
            const char *password;       /* DESTROYED: its password, NULL if none */
        } left;
        /* XT_EV_MUC_INVITE */
        struct {
            xt_muc_invite_kind kind;
            const char *from;     /* who invites (or declines): a real JID */
            const char *reason;   /* NULL when none */
            const char *password; /* NULL when none */
            const char *thread;   /* XEP-0249 continue: the 1:1 thread, else NULL */
            int is_continue;      /* XEP-0249 continue='true' */
        } invite;
    } u;
} xt_muc_event;

#ifdef __cplusplus
}
#endif
#endif
