/*
 * xtalk/conn.h -- the sans-I/O XMPP client connection.
 *
 * An xt_conn is the whole client protocol (RFC 6120 stream negotiation,
 * SASL, binding, RFC 6121 roster/presence/messages, IQ tracking, XEP-0199
 * ping) with no I/O: the driver feeds it received bytes and the current
 * time, takes the bytes it wants sent, and calls xt_conn_tick() at
 * xt_conn_deadline(). It never touches a socket, a clock or a thread.
 * TLS is the driver's: on XT_EV_STARTTLS the driver starts TLS on its
 * transport and then calls xt_conn_tls_ready(). All bytes exchanged with
 * the xt_conn are plaintext XML.
 *
 * Driving, in short:
 *   xt_conn_opts_new(NULL, &o); xt_conn_opts_set_jid(o, jid); xt_conn_opts_set_password(o, pw);
 *   xt_conn_new(o, &c); xt_conn_opts_free(o); xt_conn_on(c, XT_EV_ALL, handler, ud);
 *   xt_conn_start(c, now);            // direct TLS: after xt_conn_tls_ready
 *   loop:
 *     while ((n = xt_conn_pending(c, &p)) > 0) { write p,n; xt_conn_consume(c, w); }
 *     read bytes -> xt_conn_feed(c, buf, len, now);  EOF -> xt_conn_eof(c, code, now)
 *     at xt_conn_deadline(c) -> xt_conn_tick(c, now)
 *
 * Handlers and callbacks. Event handlers and IQ callbacks run inside the
 * driving calls (feed, tick, eof, tls_ready, start) and inside close
 * and send calls that end the stream; never later, never on another
 * thread. A handler may call any xt_conn function on the same connection
 * (send, iq, on/off, close, getters) except: xt_conn_free (free it after
 * the driving call returns), xt_conn_reset (XT_ESTATE until the driving
 * call has returned), and xt_conn_feed/xt_conn_tick/xt_conn_eof/
 * xt_conn_tls_ready (the stream is mid-step: feed gives XT_ESTATE; do
 * not nest the others). Times are milliseconds on any monotonic clock
 * the driver chooses.
 *
 * Errors. Every function returning int gives 0 (or a count / id where
 * said) or a negative XT_E* code, and each lists the codes it can
 * return. XT_EINVAL always includes a NULL handle or a NULL required
 * argument. A failed send leaves nothing half-written in the output.
 *
 * Lifetimes. "Valid until the conn changes" means: until the next call,
 * on the same conn, of a function that takes a non-const `xt_conn *`
 * (feed, tick, eof, tls_ready, start, consume, reset, every send/iq/
 * ping/roster/presence/close call, on/off, set_direct_tls), or its free.
 * The getters taking a `const xt_conn *` and xt_conn_pending never
 * invalidate anything. Pointers inside an xt_event are valid only during
 * the handler call; copy what you keep. Strings passed in are copied
 * (nothing the application passes is kept by reference) except the
 * callbacks' `ud` pointers, which are handed back as given.
 *
 * Threading. The library starts no thread and keeps no global mutable
 * state. One xt_conn (with everything it returns) and one xt_conn_opts
 * may be used by one thread at a time; different ones may be used by
 * different threads at once with no locking. A conn may move between
 * threads between calls. Callbacks (handlers, IQ callbacks, the log,
 * random and allocator hooks) run on the thread that made the call into
 * the library, during that call. An immutable xt_jid and a stanza tree
 * nobody modifies may be read from several threads, except
 * xt_stanza_text, which may build its result on first use.
 */
#ifndef XTALK_CONN_H
#define XTALK_CONN_H

#include "common.h"
#include "stanza.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xt_conn xt_conn;

typedef enum xt_show {
    XT_SHOW_AVAILABLE = 0,
    XT_SHOW_CHAT,
    XT_SHOW_AWAY,
    XT_SHOW_XA,
    XT_SHOW_DND,
    XT_SHOW_UNAVAILABLE,
} xt_show;

/* --- options -------------------------------------------------------------- */

/*
 * The settings of a connection: an opaque object with a setter per
 * setting, so that a setting added later changes no struct layout (the
 * ABI). Every setter copies what it is given (strings included) and
 * returns 0 or a negative XT_E* code; a refused value leaves the option
 * as it was, and xt_conn_opts_errdetail() says why. Only the JID and the
 * password are required; everything else has the default its setter
 * names. xt_conn_new() copies what it needs: the opts may be changed,
 * reused for another connection or freed right after it returns.
 */
typedef struct xt_conn_opts xt_conn_opts;

/* xt_conn_opts_set_flags */
enum {
    XT_CONN_DIRECT_TLS = 1u << 0,   /* transport is TLS from the first byte (XEP-0368) */
    /* Allow the stream to continue without TLS if the server offers none.
     * Insecure: everything is readable on the wire and a SCRAM exchange
     * can be attacked offline; PLAIN is still never used without TLS.
     * Off by default. */
    XT_CONN_INSECURE_ALLOW_PLAINTEXT = 1u << 1,
    XT_CONN_NO_ROSTER = 1u << 2,    /* do not fetch the roster on login */
    XT_CONN_NO_PRESENCE = 1u << 3,  /* do not send initial presence on login */
    /* 1u << 4 is retired (was a no-op; PLAIN is allowed over TLS unless
     * XT_CONN_NO_PLAIN_MECH): never reused. */
    XT_CONN_NO_PLAIN_MECH = 1u << 5,/* never use SASL PLAIN, even over TLS */
    /* Do not use XEP-0198 stream management even when the server offers
     * it (acks then come from XEP-0199 pings; no resumption). */
    XT_CONN_NO_SM = 1u << 6,
    /* Do not pipeline the login: wait for each step's answer and for the
     * stream features before sending the next request, as RFC 6120's
     * examples do. By default the conn sends <starttls/> with the first
     * stream header, its first SASL message with the post-TLS header
     * (when the SASL hint allows), and the bind request, roster query and
     * initial presence with the post-auth header; a server handles them
     * in order, and the features are still checked when they arrive. */
    XT_CONN_NO_PIPELINING = 1u << 7,
    /* Accept a login weaker than the SASL hint says this account had
     * before (PLAIN after SCRAM, no -PLUS after -PLUS, a weaker hash or
     * binding): see xt_conn_opts_set_sasl_hint. Off by default: such a
     * login fails with XT_EDOWNGRADE, naming what was offered. */
    XT_CONN_ALLOW_DOWNGRADE = 1u << 8,
    /* Do not use XEP-0388 SASL2 (nor Bind2 and FAST with it) even when
     * the server offers it: RFC 6120 SASL and binding only. */
    XT_CONN_NO_SASL2 = 1u << 9,
    /* Do not enable XEP-0280 message carbons even when the server offers
     * them (by default they are: messages this account sends or receives
     * on its other devices are copied here, xt_message.source). */
    XT_CONN_NO_CARBONS = 1u << 10,
    /* Do not fetch from the XEP-0313 archive at login (see xtalk/mam.h;
     * by default what arrived since the last archive id seen is fetched). */
    XT_CONN_NO_ARCHIVE_CATCHUP = 1u << 11,
};

/* A new options object with every default. mem (NULL = malloc) is copied
 * and becomes the allocator of the opts and of every xt_conn made from
 * them. 0 and *out, XT_EINVAL (out NULL), XT_ENOMEM. */
XT_EXTERN int xt_conn_opts_new(const xt_mem *mem, xt_conn_opts **out);
/* Wipes the password and frees. NULL is a no-op. */
XT_EXTERN void xt_conn_opts_free(xt_conn_opts *o);
/* Why the last setter on o failed ("" when none did): a static-size
 * string owned by o, valid until the next setter call on o or its free. */
XT_EXTERN const char *xt_conn_opts_errdetail(const xt_conn_opts *o);

/* The account JID (required): checked and prepared now (RFC 7622); a
 * resourcepart is the requested resource unless xt_conn_opts_set_resource
 * names one. XT_EJID when it is not a valid JID or has no localpart (SASL
 * needs a username), with the reason in the errdetail; XT_EINVAL (NULL),
 * XT_ENOMEM. */
XT_EXTERN int xt_conn_opts_set_jid(xt_conn_opts *o, const char *jid);
/* The password (required). Copied; every copy (the opts', each conn's)
 * is wiped when freed. A password SASL cannot use (not UTF-8, refused by
 * the OpaqueString profile) fails the login with XT_EINVAL. XT_EINVAL
 * (NULL), XT_ENOMEM. */
XT_EXTERN int xt_conn_opts_set_password(xt_conn_opts *o, const char *password);
/* The resource to request at binding (RFC 6120 §7.6); NULL or "" = the
 * JID's resourcepart, else server-assigned. XT_EJID when it is not a
 * valid resourcepart (RFC 7622 §3.4), XT_ENOMEM. */
XT_EXTERN int xt_conn_opts_set_resource(xt_conn_opts *o, const char *resource);
/* XT_CONN_* flags (replaces the set; default 0). XT_EINVAL for an unknown
 * or retired bit. */
XT_EXTERN int xt_conn_opts_set_flags(xt_conn_opts *o, unsigned flags);
/* Limits on received XML: the largest stanza in bytes (0 = 1 MiB) and
 * the deepest element nesting (0 = 64). Always 0. */
XT_EXTERN int xt_conn_opts_set_limits(xt_conn_opts *o, size_t max_stanza_size, unsigned max_depth);
/* Limits on one received element: its attributes (0 = 64) and its child
 * elements (0 = 16384). A stanza over either, or over the fixed per-stanza
 * limits (65,536 elements, 131,072 attributes, 65,536 text runs, a tree
 * of 4 times its size plus 64 KiB), ends the stream with
 * policy-violation (RFC 6120 §4.9.3.14), XT_ETOOBIG, the limit named in
 * the detail. Always 0 (XT_EINVAL for NULL). */
XT_EXTERN int xt_conn_opts_set_element_limits(xt_conn_opts *o, unsigned max_attrs,
                                              unsigned max_children);
/* Timeouts in ms: the default for an IQ (0 = 30000) and for the whole
 * negotiation from xt_conn_start to online (0 = 60000). Always 0. */
XT_EXTERN int xt_conn_opts_set_timeouts(xt_conn_opts *o, uint32_t iq_timeout_ms,
                                        uint32_t negotiation_timeout_ms);
/* Keepalive (XEP-0199): idle time before a ping (0 = 60000, UINT32_MAX =
 * never) and how long its answer may take before the connection counts as
 * dead (0 = 30000; also the wait for the server's closing tag). Always 0. */
XT_EXTERN int xt_conn_opts_set_keepalive(xt_conn_opts *o, uint32_t ping_interval_ms,
                                         uint32_t ping_timeout_ms);
/* The presence sent on login unless XT_CONN_NO_PRESENCE (RFC 6121 §4.2):
 * show (XT_SHOW_AVAILABLE..XT_SHOW_DND; default available), status
 * (copied; NULL = none) and priority (-128..127, default 0). XT_EINVAL
 * for a value out of range or a status that is not XML-safe UTF-8,
 * XT_ENOMEM. */
XT_EXTERN int xt_conn_opts_set_initial_presence(xt_conn_opts *o, xt_show show,
                                                const char *status, int priority);
/* Where the conn logs (default: nowhere). Always 0. */
XT_EXTERN int xt_conn_opts_set_log(xt_conn_opts *o, xt_log_fn fn, void *ud);
/*
 * Acknowledgements (XT_EV_ACKED). With XEP-0198 the conn asks the server
 * for an ack (<r/>) once `every` stanzas are unacked (0 = 10), and
 * delay_ms after the last stanza sent (0 = 100); without SM it sends a
 * XEP-0199 ping delay_ms after the last message (or after `every`
 * messages): its answer acks every message sent before it. An ack request
 * unanswered for timeout_ms means the connection is dead: XT_ETIMEOUT,
 * retryable (0 = the keepalive ping timeout). Always 0.
 */
XT_EXTERN int xt_conn_opts_set_acks(xt_conn_opts *o, uint32_t every, uint32_t delay_ms,
                                    uint32_t timeout_ms);
/* Most stanzas kept for re-sending (the XEP-0198 unacked queue, or the
 * messages waiting for an ack ping); sends fail with XT_ETOOBIG while it
 * is full. 0 = 5000. Always 0. */
XT_EXTERN int xt_conn_opts_set_sm_queue(xt_conn_opts *o, uint32_t max_unacked);
/*
 * What xt_conn_sasl_hint returned after an earlier login to this account:
 * the server's SASL offer (and, after SCRAM, the salt and iteration count
 * it gave, public values). With it the first SASL message goes out with
 * the post-TLS stream header instead of a round trip later (only SCRAM,
 * only over TLS), and SCRAM's costly Hi() runs at a tick while the driver
 * waits for the server. The choice is made as if the server had offered
 * exactly this, and checked against the real offer when it arrives: if it
 * differs (the server changed, or someone strips mechanisms), that
 * exchange is abandoned and the right one started, costing a round trip,
 * never security. NULL or "" = wait for the server's offer (default).
 * The hint also pins the strongest login that succeeded for the account
 * (mechanism and channel-binding type): a later login offered less
 * (PLAIN after SCRAM, no -PLUS after -PLUS, SHA-1 after SHA-256,
 * tls-server-end-point after tls-exporter or tls-unique) fails with
 * XT_EDOWNGRADE unless XT_CONN_ALLOW_DOWNGRADE; with a hint whose server
 * offered SCRAM, PLAIN is refused the same way, and with one whose server
 * offered SASL2 (XEP-0388), an offer without it. The hint also lists the
 * server's FAST mechanisms: a token for another one is not sent ahead.
 * Keep the hint per account to keep that protection. Copied. XT_ENOMEM.
 */
XT_EXTERN int xt_conn_opts_set_sasl_hint(xt_conn_opts *o, const char *hint);
/*
 * The most SCRAM iterations (PBKDF2 rounds, RFC 5802 §5.1 i=) a server
 * may ask for: a server asking more fails the login (XT_EPROTO, the count
 * and the limit in the detail) instead of costing seconds of CPU on every
 * login. 0 = the default: 600,000 for SHA-1 and SHA-256, 300,000 for
 * SHA-512 (under ~1 s each on a small machine). XT_EINVAL outside
 * 4096..10,000,000.
 */
XT_EXTERN int xt_conn_opts_set_scram_max_iterations(xt_conn_opts *o, uint32_t max_iterations);
/*
 * The source of every random byte the conn uses: the SCRAM client nonce
 * (24 bytes per exchange), the stanza id prefix (6 bytes per
 * xt_conn_new) and the hash keys of the roster and presence tables (16
 * bytes per table, when it first fills: they keep a server from
 * precomputing colliding keys). NULL (the default) = the kernel's CSPRNG
 * (getrandom(2); OpenSSL's RAND_bytes where the kernel lacks it). With a fixed
 * source a recorded exchange replays byte for byte; anything but a CSPRNG
 * outside tests makes SCRAM nonces and stanza ids guessable. fn must stay
 * callable, with ud, while any conn made from these opts lives.
 * Always 0.
 */
XT_EXTERN int xt_conn_opts_set_random(xt_conn_opts *o, xt_random_fn fn, void *ud);
/*
 * Generated stanza ids are PREFIX, then 12 hex digits drawn from the
 * random source at xt_conn_new, '-', and a per-conn counter; PREFIX is ""
 * by default. Up to 16 printable ASCII characters, none of them XML
 * special (< > & ' "). XT_EINVAL otherwise, XT_ENOMEM.
 */
XT_EXTERN int xt_conn_opts_set_id_prefix(xt_conn_opts *o, const char *prefix);
/*
 * XEP-0388 <user-agent/>: an id for this account on this device, stable
 * across runs (a UUID is the usual form), and optional software and
 * device names (NULL = none). Where the server offers SASL2 the conn
 * logs in with it (unless XT_CONN_NO_SASL2), binds inline (XEP-0386)
 * and, with an id, asks for a XEP-0484 FAST token: the server binds the
 * token to the id, so keep both together. Each string is 1..128
 * printable ASCII characters (software and device may be UTF-8 text
 * without control characters). XT_EINVAL otherwise, XT_ENOMEM. Copied.
 */
XT_EXTERN int xt_conn_opts_set_user_agent(xt_conn_opts *o, const char *id, const char *software,
                                          const char *device);
/*
 * XEP-0484 FAST: the token (and its mechanism, e.g. "HT-SHA-256-EXPR")
 * that an xt_fast_token_fn received at an earlier login with the same
 * user-agent id. It goes out right behind the post-TLS stream header, so
 * a login takes one round trip after TLS; the password is still needed
 * (a refused token falls back to it). A token whose mechanism needs a
 * channel binding this connection lacks (-EXPR over TLS 1.2) is not used.
 * NULL token = none. Copied; the copies are wiped when freed. Secret:
 * as good as the password for this server until it expires.
 * XT_EINVAL (mechanism missing or too long), XT_ENOMEM.
 */
XT_EXTERN int xt_conn_opts_set_fast_token(xt_conn_opts *o, const char *mechanism,
                                          const char *token);
/*
 * Called when the server issues a FAST token (at a password login, or a
 * rotation at a FAST login: replace the stored one) with its mechanism
 * and expiry as the server wrote it (XEP-0082, may be NULL), or when it
 * refused the token in use (token NULL: delete it). Strings valid during
 * the call; never log the token. Called from inside xt_conn_feed: the
 * callback must not free the conn.
 */
typedef void (*xt_fast_token_fn)(void *ud, const char *mechanism, const char *token,
                                 const char *expiry);
/* Registers the FAST token callback (NULL = none). Always 0. */
XT_EXTERN int xt_conn_opts_set_fast_token_cb(xt_conn_opts *o, xt_fast_token_fn fn, void *ud);
/* For drivers built on xt_conn (such as xt_client): the flags, the log
 * callback and the allocator these opts hold. NULL o gives 0 / NULL. */
XT_EXTERN unsigned xt_conn_opts_get_flags(const xt_conn_opts *o);
XT_EXTERN xt_log_fn xt_conn_opts_get_log(const xt_conn_opts *o, void **ud);
/* The allocator the opts were made with (NULL = malloc); lives as long
 * as the opts. */
XT_EXTERN const xt_mem *xt_conn_opts_get_mem(const xt_conn_opts *o);

/* Connection state, in order. */
typedef enum xt_conn_state {
    XT_STATE_NEW = 0,
    XT_STATE_STREAM,        /* stream header sent, negotiating TLS */
    XT_STATE_TLS,           /* waiting for the driver's TLS handshake */
    XT_STATE_AUTH,          /* SASL exchange */
    XT_STATE_BIND,          /* resource binding / session */
    XT_STATE_ONLINE,        /* bound; roster and presence requested */
    XT_STATE_CLOSING,       /* </stream:stream> sent */
    XT_STATE_CLOSED,        /* finished (see xt_conn_error) */
} xt_conn_state;


/* Event types; also bits for the mask of xt_conn_on. */
typedef enum xt_event_type {
    XT_EV_STARTTLS = 1u << 0,     /* driver: start TLS now, then xt_conn_tls_ready */
    XT_EV_ONLINE = 1u << 1,       /* bound; .online */
    XT_EV_ROSTER = 1u << 2,       /* roster loaded or an item changed; .roster */
    XT_EV_MESSAGE = 1u << 3,      /* .message */
    XT_EV_PRESENCE = 1u << 4,     /* a contact's presence changed; .presence */
    XT_EV_SUBSCRIPTION = 1u << 5, /* subscribe/subscribed/unsubscribe/unsubscribed; .subscription */
    XT_EV_STANZA = 1u << 6,       /* every received stanza, before the typed events; .stanza */
    XT_EV_DISCONNECTED = 1u << 7, /* the stream ended; .disconnected */
    XT_EV_ACKED = 1u << 8,        /* the server holds an outgoing message; .acked */
    /* Message features (include/xtalk/im.h). Each follows the
     * XT_EV_MESSAGE of the message that carried it. */
    XT_EV_RECEIPT = 1u << 9,      /* XEP-0184 delivery receipt; .receipt */
    XT_EV_CHATSTATE = 1u << 10,   /* XEP-0085 chat state; .chatstate */
    XT_EV_REACTION = 1u << 11,    /* XEP-0444 reactions; .reaction */
    XT_EV_RETRACTION = 1u << 12,  /* XEP-0424 retraction; .retraction */
    XT_EV_CAPS = 1u << 13,        /* a contact's verified caps (xtalk/disco.h); .caps */
    XT_EV_SERVER_INFO = 1u << 14, /* the server's or account's disco#info arrived or failed (xtalk/disco.h); .server_info */
    XT_EV_ARCHIVE = 1u << 15,     /* archive catch-up progress (xtalk/mam.h); .archive */
    /* Group chat (xtalk/muc.h), bits 16..23; each with .muc. */
    XT_EV_MUC_JOINED = 1u << 16,      /* we are in a room */
    XT_EV_MUC_JOIN_FAILED = 1u << 17, /* a room refused our join or nick change */
    XT_EV_MUC_OCCUPANT = 1u << 18,    /* an occupant entered, left or changed */
    XT_EV_MUC_SUBJECT = 1u << 19,     /* a room's subject */
    XT_EV_MUC_LEFT = 1u << 20,        /* we are out of a room (left, kicked, destroyed...) */
    XT_EV_MUC_INVITE = 1u << 21,      /* an invitation to a room, or a decline */
    XT_EV_MUC_CONFIG = 1u << 22,      /* a room's configuration changed */
    /* 1u << 23 is kept for group chat. */
    XT_EV_PEP = 1u << 24, /* a PEP notification (XEP-0163, xtalk/pep.h); .pep */
} xt_event_type;

/* Every event, for xt_conn_on's mask (an unsigned of 32 bits: outside the
 * enum, whose constants must fit an int, C11 6.7.2.2). */
#define XT_EV_ALL 0xffffffffu

/* XEP-0085 chat states; NONE = the message carries none. */
typedef enum xt_chatstate {
    XT_CHATSTATE_NONE = 0,
    XT_CHATSTATE_ACTIVE,
    XT_CHATSTATE_COMPOSING,
    XT_CHATSTATE_PAUSED,
    XT_CHATSTATE_INACTIVE,
    XT_CHATSTATE_GONE,
} xt_chatstate;

/* Where a message came from (xt_message.source). */
typedef enum xt_msg_source {
    XT_SRC_LIVE = 0,  /* routed to us now */
    XT_SRC_CARBON,    /* a XEP-0280 carbon copy (of a message to or from another device) */
    XT_SRC_ARCHIVE,   /* a XEP-0313 archive result */
    XT_SRC_OFFLINE,   /* stored by the server while we were offline (XEP-0160, with a delay) */
} xt_msg_source;

/* "live", "carbon", "archive", "offline" (a static string). */
XT_EXTERN const char *xt_msg_source_name(xt_msg_source s);

typedef enum xt_msg_direction {
    XT_DIR_IN = 0, /* to us */
    XT_DIR_OUT,    /* sent by our account (from another device, or archived) */
} xt_msg_direction;

struct xt_caps_event;
struct xt_disco_info;
struct xt_archive_event;
struct xt_file_ref;
struct xt_muc_event;
struct xt_pep_event;

typedef struct xt_message {
    const char *from, *to, *type, *id; /* type: "normal" when absent */
    const char *body, *subject, *thread, *lang; /* NULL when absent */
    const char *stamp;      /* XEP-0203 delay stamp, NULL when live */
    /* XEP-0359 unique ids, for deduplication; NULL when absent. origin_id
     * is the sender's <origin-id/> (set by the sending client: compare it
     * together with `from`); stanza_id is a <stanza-id/> whose 'by' is our
     * own bare JID (our server's archive id; others are ignored since
     * anyone could forge them). */
    const char *origin_id;
    const char *stanza_id;
    const xt_stanza *stanza;
    /* Multi-device (XEP-0280 carbons, XEP-0313 archive). For a carbon or
     * an archived message, from/to/id/body/... are those of the message
     * inside the wrapper (checked to come from our own account, XEP-0280
     * §11), and stanza is that inner <message/>. */
    xt_msg_source source;
    xt_msg_direction direction; /* XT_DIR_OUT: from/to are ours -> peer */
    /* The 'by' of stanza_id (our bare JID), NULL when stanza_id is. */
    const char *stanza_id_by;
    /* XEP-0203 delay (or the archive's) stamp in ms since the epoch; 0
     * when live or unparsable. */
    int64_t timestamp_ms;
    /* Message features (include/xtalk/im.h), parsed the same way whatever
     * the message's source (live, carbon, archive). */
    int receipt_request;    /* XEP-0184 <request/>: the sender asks for a receipt */
    const char *receipt_id; /* XEP-0184 <received id/>: the message confirmed, or NULL */
    xt_chatstate chatstate; /* XEP-0085; XT_CHATSTATE_NONE when absent */
    const char *replace_id; /* XEP-0308 <replace id/>: the message this corrects, or NULL */
    int me;                 /* XEP-0245: the body starts with "/me " */
    /* source XT_SRC_ARCHIVE: the xt_mam_fetch tag it answers, 0 for the
     * login catch-up (xtalk/mam.h). */
    int archive_tag;
    /* A file shared in the message (XEP-0066 out-of-band data, or an
     * XEP-0447 file-sharing element), NULL when none; see xtalk/im.h.
     * Lives as long as the event. */
    const struct xt_file_ref *file;
    /* Group chat (xtalk/muc.h): for a groupchat message from a room we
     * are in, or a private message from one of its occupants, the room's
     * bare JID and the sender's nick (NULL for the room itself); NULL
     * for every other message. */
    const char *room;
    const char *nick;
    int mention;   /* groupchat: the body names our nick in the room */
    int from_self; /* groupchat: the room's reflection of our own message */
} xt_message;

typedef struct xt_presence {
    const char *from;       /* full JID */
    const char *type;       /* NULL = available, "unavailable", "error" */
    const char *show;       /* NULL, "chat", "away", "xa", "dnd" */
    const char *status;
    int priority;
    const xt_stanza *stanza;
    /* 1 when from a roster contact or another resource of our account;
     * 0 for anyone else (directed presence, or a server inventing
     * senders): such presence is not kept in the table. */
    int from_contact;
} xt_presence;

typedef struct xt_subscription {
    const char *from;       /* bare JID */
    const char *type;       /* subscribe | subscribed | unsubscribe | unsubscribed */
    const char *status;
    const xt_stanza *stanza;
} xt_subscription;

typedef struct xt_roster_item {
    const char *jid;          /* bare, normalized */
    const char *name;         /* NULL when none */
    const char *subscription; /* none | to | from | both | remove */
    const char *ask;          /* "subscribe" or NULL */
    const char *const *groups;
    size_t ngroups;
} xt_roster_item;

typedef struct xt_roster_event {
    int loaded;                 /* 1: the whole roster arrived (item NULL) */
    const xt_roster_item *item; /* the item pushed (subscription "remove" when removed) */
} xt_roster_event;

typedef struct xt_disconnected {
    int error;              /* 0 = clean close, else an XT_E* code */
    const char *condition;  /* stream error / SASL failure condition, or NULL */
    const char *text;       /* human-readable detail, or NULL */
    const char *redirect;   /* see-other-host target, or NULL */
    /* 1 when connecting again may work: network errors, timeouts, TLS
     * record errors, a server closing or restarting (system-shutdown,
     * connection-timeout, reset, ...), see-other-host. 0 for a clean close
     * of ours, authentication, certificate and policy failures, conflict,
     * a server name that does not exist (XT_ENONAME), and our own
     * policy-violation of the server's negotiation (XT_ETOOBIG before
     * online: the same server would send the same again). */
    int retry;
    /* Set by an xt_client with reconnect on: it connects again in this
     * many ms (0 = it will not). */
    uint32_t retry_in_ms;
} xt_disconnected;

typedef struct xt_acked {
    const char *id;         /* the stanza id of the acknowledged <message> */
} xt_acked;

/* XEP-0184: `from` confirms it received our message `id`. */
typedef struct xt_receipt {
    const char *from, *id;
} xt_receipt;

/* XEP-0085: `from` (a full JID) is now in `state`. */
typedef struct xt_chatstate_event {
    const char *from;
    xt_chatstate state;
} xt_chatstate_event;

/* XEP-0444: the whole set of `from`'s reactions to the message `id`
 * (n 0 = all removed): it replaces the set this sender had before. */
typedef struct xt_reaction {
    const char *from, *id;
    const char *const *reactions; /* n UTF-8 strings (emoji) */
    size_t n;
} xt_reaction;

/* XEP-0424: `from` retracts its message `id` (the origin-id it sent).
 * Only a retraction from the original sender's bare JID counts: the
 * library does not know who sent `id`; the application compares (see
 * include/xtalk/im.h). */
typedef struct xt_retraction {
    const char *from, *id;
} xt_retraction;

typedef struct xt_event {
    xt_event_type type;
    union {
        struct {
            const char *jid; /* the bound full JID */
            /* 1: an XEP-0198 session was resumed (roster, presence and
             * the server-side session survived; nothing was lost). 0: a new
             * session (after xt_conn_reset: unacked messages were sent
             * again, see xt_conn_is_unacked). */
            int resumed;
        } online;
        xt_message message;
        xt_presence presence;
        xt_subscription subscription;
        xt_roster_event roster;
        const xt_stanza *stanza;
        xt_disconnected disconnected;
        xt_acked acked;
        xt_receipt receipt;
        xt_chatstate_event chatstate;
        xt_reaction reaction;
        xt_retraction retraction;
        const struct xt_caps_event *caps;
        const struct xt_disco_info *server_info;
        const struct xt_archive_event *archive;
        const struct xt_muc_event *muc; /* XT_EV_MUC_* (xtalk/muc.h) */
        const struct xt_pep_event *pep; /* XT_EV_PEP (xtalk/pep.h) */
    } u;
} xt_event;

/* Event handler. Pointers in *ev are valid only during the call. Runs
 * inside the call that caused the event (see "Handlers and callbacks"). */
typedef void (*xt_handler_fn)(xt_conn *c, const xt_event *ev, void *ud);

/* IQ completion, called exactly once per request xt_conn_iq accepted:
 * status 0 = type result, XT_ESTANZA = type error (reply holds the
 * <error/>), XT_ETIMEOUT (no answer in time; reply NULL), XT_ECLOSED
 * (the stream ended first; reply NULL). Not called for a request
 * xt_conn_iq refused, nor after xt_conn_free. reply is valid only during
 * the call. */
typedef void (*xt_iq_fn)(xt_conn *c, int status, const xt_stanza *reply, void *ud);

/*
 * Channel binding data from the driver's TLS layer, for SCRAM -PLUS
 * (RFC 5802 §6). Copied by xt_conn_tls_ready.
 *   "tls-exporter" (RFC 9266; TLS 1.3): 32 bytes of keying material
 *   exported with the label "EXPORTER-Channel-Binding" and an empty
 *   context, e.g. OpenSSL's SSL_export_keying_material(ssl, out, 32,
 *   "EXPORTER-Channel-Binding", 24, NULL, 0, 0).
 *   "tls-unique" (RFC 5929 §3; TLS 1.2 only, RFC 8446 §C.5 leaves it
 *   undefined for 1.3): the first Finished message of the latest
 *   handshake: the client's (SSL_get_finished) after a full handshake,
 *   the server's (SSL_get_peer_finished) after a resumption. Only with
 *   the extended master secret (RFC 7627 §6: without it the triple
 *   handshake attack makes it non-unique).
 *   "tls-server-end-point" (RFC 5929 §4.1): the hash of the server's leaf
 *   certificate (DER) with its signature's hash function, except that
 *   MD5 and SHA-1 become SHA-256; none for a signature without a separate
 *   hash (Ed25519, Ed448).
 * cb_type is the binding to use when the server does not list its types
 * (XEP-0440): tls-exporter on TLS 1.3, tls-unique on TLS 1.2 (else
 * tls-server-end-point); `more` holds the others the connection can give,
 * for a server that lists them. cb_type NULL (or cb_len 0) = no channel
 * binding: SCRAM is used without -PLUS, with the 'n' flag.
 */
typedef struct xt_tls_binding {
    const char *type; /* "tls-exporter", "tls-unique" or "tls-server-end-point" */
    const uint8_t *data;
    size_t len;
} xt_tls_binding;

typedef struct xt_tls_info {
    const char *cb_type;   /* the default binding (see above) or NULL */
    const uint8_t *cb_data;
    size_t cb_len;
    int tls13;             /* 1 when the connection is TLS 1.3 */
    /* Other bindings of this connection, for a server's XEP-0440 list;
     * NULL / 0 = none. */
    const xt_tls_binding *more;
    size_t nmore;
    /* 1 when the server's certificate was verified (a trusted chain and
     * the domain's name, or the pinned fingerprint). Only then does a
     * server's refusal of channel binding allow one retry without it
     * (see xt_conn_opts_set_sasl_pin and the README). */
    int verified;
} xt_tls_info;

/* --- lifetime ----------------------------------------------------------- */

/* A connection with these options: copies every setting (strings and
 * the password included) and the allocator, so opts may be freed or
 * changed at once. 0 and *out; XT_EINVAL when opts has no JID or no
 * password (or out/opts is NULL); XT_ENOMEM, also when the random source
 * fails. */
XT_EXTERN int xt_conn_new(const xt_conn_opts *opts, xt_conn **out);
/* Wipes secrets and frees everything, the conn's output included.
 * Pending IQ callbacks are NOT called. NULL is a no-op. Not from a
 * handler of this conn. */
XT_EXTERN void xt_conn_free(xt_conn *c);

/* --- driving ------------------------------------------------------------ */

/* Begins the stream: queues the stream header and arms the negotiation
 * timeout. With DIRECT_TLS the header goes out once both this and
 * xt_conn_tls_ready have been called, in either order. 0; XT_EINVAL;
 * XT_ESTATE unless new (once per connection, again after reset);
 * XT_ENOMEM / XT_ETOOBIG (the stream then ended: XT_EV_DISCONNECTED was
 * emitted). */
XT_EXTERN int xt_conn_start(xt_conn *c, uint64_t now_ms);
/* Before xt_conn_start: whether the transport is TLS from the first byte
 * (1) or the stream negotiates STARTTLS (0), overriding XT_CONN_DIRECT_TLS
 * for this connection. For drivers that choose per SRV target (XEP-0368).
 * 0; XT_EINVAL; XT_ESTATE once started. */
XT_EXTERN int xt_conn_set_direct_tls(xt_conn *c, int on);
/*
 * Received plaintext bytes (any split: a byte at a time works). 0 while
 * the stream lives (also when it ended cleanly during this call: check
 * xt_conn_get_state). Negative when the stream failed in this call, or
 * had ended before (XT_ECLOSED after a clean end): the code that ended
 * it (XT_EXML, XT_ETOOBIG,
 * XT_EPROTO, XT_ESTREAM, XT_EREDIRECT, XT_EAUTH, XT_EDOWNGRADE,
 * XT_EUNSUPPORTED, XT_ENOTLS, XT_ETLS, XT_ETIMEOUT, XT_ECLOSED,
 * XT_ENOMEM, or XT_EINVAL for a password SASL cannot use); then
 * XT_EV_DISCONNECTED has been emitted and closing bytes may be pending.
 * Without a failure: XT_EINVAL (data NULL with len > 0); XT_ESTATE before
 * xt_conn_start, while the driver's TLS handshake is awaited, or from a
 * handler of this conn's own feed.
 */
XT_EXTERN int xt_conn_feed(xt_conn *c, const void *data, size_t len, uint64_t now_ms);
/* Bytes waiting to be sent: returns the count and sets *data (valid until
 * the conn changes, see Lifetimes). 0 (and *data untouched) when c or
 * data is NULL. */
XT_EXTERN size_t xt_conn_pending(xt_conn *c, const uint8_t **data);
/* Marks n pending bytes as written (n above the count = all). */
XT_EXTERN void xt_conn_consume(xt_conn *c, size_t n);
/* The driver finished the TLS handshake; info (may be NULL: no channel
 * binding) is copied. 0; XT_EINVAL; XT_ESTATE unless the conn waits for
 * TLS (after XT_EV_STARTTLS, or with direct TLS before the header);
 * XT_ENOMEM, or XT_ETOOBIG for output it could not queue (after
 * XT_EV_STARTTLS the stream then ended). */
XT_EXTERN int xt_conn_tls_ready(xt_conn *c, const xt_tls_info *info, uint64_t now_ms);
/* The transport closed (error 0) or failed (an XT_E* code; detail, copied
 * into the disconnect text, may be NULL). Emits XT_EV_DISCONNECTED unless
 * the stream had already ended: with error 0 after our close, a clean
 * end (returns 0); else it ends with `error` (XT_ECLOSED for 0), which is
 * returned. 0 when already closed; XT_EINVAL. */
XT_EXTERN int xt_conn_eof(xt_conn *c, int error, const char *detail, uint64_t now_ms);
/* After XT_EV_DISCONNECTED: puts the connection back to XT_STATE_NEW so
 * the driver can connect again (new transport, then xt_conn_start).
 * Handlers, roster, configuration and the XEP-0198 state (session id,
 * counters, unacked stanzas) are kept: after authentication the conn
 * resumes the session (<resume/>), or on failure binds a new one and
 * re-sends the unacked messages itself. Pending output is dropped.
 * 0; XT_EINVAL; XT_ESTATE unless closed, or from a handler; XT_ENOMEM. */
XT_EXTERN int xt_conn_reset(xt_conn *c);
/* Runs timers: IQ timeouts, keepalive, negotiation timeout, acks (call
 * it at xt_conn_deadline; earlier is harmless). The stream's end always
 * shows as XT_EV_DISCONNECTED; the return value is 0 or the code of a
 * failure tick found itself (XT_ETIMEOUT, or XT_ENOMEM / XT_ETOOBIG for
 * output it could not queue), and 0 when an IQ callback run by this
 * tick ended the stream. XT_EINVAL. */
XT_EXTERN int xt_conn_tick(xt_conn *c, uint64_t now_ms);
/* Absolute time of the next timer, or -1 when none (new, closed, or c
 * NULL). May be the current time: tick as soon as the output is written. */
XT_EXTERN int64_t xt_conn_deadline(const xt_conn *c);

/* XT_STATE_CLOSED for NULL. */
XT_EXTERN xt_conn_state xt_conn_get_state(const xt_conn *c);
/* The last error's detail (stream error text, SASL condition, ...) or ""
 * (also for NULL). Valid until the conn changes. */
XT_EXTERN const char *xt_conn_errdetail(const xt_conn *c);
/* Bound full JID while online or closing, else NULL. Valid until the
 * conn changes. */
XT_EXTERN const char *xt_conn_bound_jid(const xt_conn *c);
/* Server domain (the JID's domainpart): the TLS name and the stream's
 * 'to'. Lives as long as the conn; NULL for NULL. */
XT_EXTERN const char *xt_conn_domain(const xt_conn *c);
/* The SASL mechanism used, once authenticated, else NULL. Valid until
 * the conn changes. */
XT_EXTERN const char *xt_conn_mechanism(const xt_conn *c);
/* Once the server's SASL offer has been seen: that offer, a short
 * printable string to keep per account (it holds no secret) and pass to
 * xt_conn_opts_set_sasl_hint next time; NULL before. Valid until the conn
 * changes. */
XT_EXTERN const char *xt_conn_sasl_hint(const xt_conn *c);

/* --- handlers ----------------------------------------------------------- */

/* Registers fn for the events in mask (XT_EV_* bits). Returns an id > 0;
 * XT_EINVAL (c or fn NULL, mask 0); XT_ETOOBIG (ids used up); XT_ENOMEM.
 * One added from a handler first runs for the next event. */
XT_EXTERN int xt_conn_on(xt_conn *c, unsigned mask, xt_handler_fn fn, void *ud);
/* Removes the handler with this id, also from a handler (it is not
 * called again, even for the event being dispatched). 0; XT_EINVAL;
 * XT_ENOTFOUND if unknown or already removed. */
XT_EXTERN int xt_conn_off(xt_conn *c, int id);

/* --- sending ------------------------------------------------------------ */
/*
 * Sends queue bytes in the conn's output (xt_conn_pending); nothing is
 * written anywhere before the driver takes them. Common errors of every
 * send below: XT_EINVAL (NULL or invalid arguments: text that is not XML-
 * safe UTF-8, a bad type), XT_EJID (an address that is not a JID),
 * XT_ESTATE (not online), XT_ETOOBIG (the unacked queue is full, see
 * xt_conn_opts_set_sm_queue, or 16 MiB of output are waiting: the peer
 * does not read), XT_ENOMEM. None of these ends the stream.
 */

/* Serializes st (in jabber:client) and queues it. st is not taken.
 * An <iq/> sent this way is not tracked: use xt_conn_iq. */
XT_EXTERN int xt_conn_send(xt_conn *c, const xt_stanza *st);
/* Sends <message>. type NULL = "chat" (else normal, groupchat,
 * headline). If id_out is not NULL, the stanza id (at most 63 chars) is
 * copied there. body and thread may be NULL. The message carries
 * <origin-id xmlns='urn:xmpp:sid:0' id='ID'/> with its stanza id
 * (XEP-0359), and XT_EV_ACKED with that id follows once the server has
 * it. */
XT_EXTERN int xt_conn_send_message(xt_conn *c, const char *to, const char *type,
                                   const char *body, const char *thread, char id_out[64]);
/* The same with a caller-chosen stanza id (1..63 printable characters,
 * e.g. an outbox entry re-sent after a crash with the id it had). The id
 * is also the XEP-0359 <origin-id/> of the message, as with
 * xt_conn_send_message. */
XT_EXTERN int xt_conn_send_message_id(xt_conn *c, const char *to, const char *type,
                                      const char *body, const char *thread, const char *id);
/* 1 when the conn holds the <message> with this id and will deliver it
 * itself: XT_EV_ACKED follows (unless the conn is freed first), also
 * across xt_conn_reset when XEP-0198 was in use. 0 otherwise (also for
 * NULL): after a disconnect without SM, unacked messages are the
 * application's to re-send. */
XT_EXTERN int xt_conn_is_unacked(const xt_conn *c, const char *id);
/* 1 when XEP-0198 stream management is enabled on the current stream. */
XT_EXTERN int xt_conn_sm_enabled(const xt_conn *c);
/* Broadcast presence (RFC 6121 §4.2): show XT_SHOW_UNAVAILABLE sends
 * type='unavailable'; status may be NULL; priority -128..127. */
XT_EXTERN int xt_conn_send_presence(xt_conn *c, xt_show show, const char *status, int priority);
/* Subscription presence to a bare JID (RFC 6121 §3): "subscribe",
 * "subscribed" (approve), "unsubscribe", "unsubscribed" (deny / revoke);
 * any other type is XT_EINVAL. */
XT_EXTERN int xt_conn_subscription(xt_conn *c, const char *to, const char *type);
/* Sends an IQ get/set (st is copied, not taken) and calls cb once on its
 * answer, timeout or the stream's end (see xt_iq_fn; cb may be NULL). An
 * id is assigned if st has none. The answer is only taken from st's
 * 'to' (our server or account when absent: RFC 6120 §10.1). timeout_ms
 * 0 = the default (xt_conn_opts_set_timeouts). 0; XT_EINVAL (c or st
 * NULL, or st is not an <iq/> of type get or set); XT_ESTATE (not
 * online); XT_ETOOBIG; XT_ENOMEM. On an error cb is never called. */
XT_EXTERN int xt_conn_iq(xt_conn *c, const xt_stanza *st, uint32_t timeout_ms, xt_iq_fn cb, void *ud);
/* XEP-0199 ping through xt_conn_iq; to NULL pings the server. The errors
 * of xt_conn_iq, and XT_EJID for a bad `to`. */
XT_EXTERN int xt_conn_ping(xt_conn *c, const char *to, xt_iq_fn cb, void *ud);
/* Roster set (add/update) and remove (RFC 6121 §2.3, §2.5) through
 * xt_conn_iq; cb may be NULL. name may be NULL; groups are ngroups non-
 * empty strings. The errors of the sends above. */
XT_EXTERN int xt_conn_roster_set(xt_conn *c, const char *jid, const char *name,
                                 const char *const *groups, size_t ngroups, xt_iq_fn cb, void *ud);
XT_EXTERN int xt_conn_roster_remove(xt_conn *c, const char *jid, xt_iq_fn cb, void *ud);
/* Sends unavailable presence (if we were available), a last XEP-0198
 * <a/>, and </stream:stream>; XT_EV_DISCONNECTED follows when the server
 * closes its side, at the driver's EOF, or after the keepalive ping
 * timeout without either (error 0 in all three cases). Before the stream
 * is open (or while TLS is negotiated) it ends at once, emitting
 * XT_EV_DISCONNECTED inside this call. 0 (also when already closing);
 * XT_EINVAL; XT_ESTATE when already closed; XT_ENOMEM / XT_ETOOBIG (the
 * stream then ended). */
XT_EXTERN int xt_conn_close(xt_conn *c);

/* --- state ------------------------------------------------------------- */

/* 1 once the roster result arrived. */
XT_EXTERN int xt_conn_roster_loaded(const xt_conn *c);
XT_EXTERN size_t xt_conn_roster_count(const xt_conn *c);
/* Item i in roster order (i < count, else NULL); valid until the conn
 * changes. */
XT_EXTERN const xt_roster_item *xt_conn_roster_item(const xt_conn *c, size_t i);
/* Available resources of a bare JID (any form: it is normalized; 0 / NULL
 * for an invalid one): count, and item i (valid until the conn changes);
 * from is the full JID. */
XT_EXTERN size_t xt_conn_presence_count(const xt_conn *c, const char *bare_jid);
XT_EXTERN const xt_presence *xt_conn_presence_at(const xt_conn *c, const char *bare_jid, size_t i);

/* --- for drivers ---------------------------------------------------------- */

/* A transport driving the conn (xt_client, or your own) may plan its
 * reconnection here: fn is called just before XT_EV_DISCONNECTED is
 * emitted, with the disconnection's details, and what it returns (ms;
 * 0 = no reconnect) becomes the event's retry_in_ms. fn must not call
 * into c. NULL removes it. One planner per conn: a second call replaces
 * the first (xt_client sets its own: do not replace it on a client's
 * conn). */
XT_EXTERN void xt_conn_set_retry_planner(xt_conn *c,
                                         uint32_t (*fn)(void *ud, const xt_disconnected *d),
                                         void *ud);
/* For a driver, once the connection was quiet for a while (xt_client:
 * 1 s without a byte either way): releases what an idle online
 * connection need not hold (about 10 KiB: the XML parser's expat state,
 * an empty output buffer, negotiation scratch); all of it comes back on
 * demand when traffic resumes. Nothing happens when not online. Never
 * fails; not from one of c's handlers. */
XT_EXTERN void xt_conn_trim(xt_conn *c);

#ifdef __cplusplus
}
#endif
#endif
