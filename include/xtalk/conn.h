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
 *   xt_conn_new(&cfg, &c); xt_conn_on(c, XT_EV_ALL, handler, ud);
 *   xt_conn_start(c, now);            // direct TLS: after xt_conn_tls_ready
 *   loop:
 *     while ((n = xt_conn_pending(c, &p)) > 0) { write p,n; xt_conn_consume(c, w); }
 *     read bytes -> xt_conn_feed(c, buf, len, now);  EOF -> xt_conn_eof(c, code, now)
 *     at xt_conn_deadline(c) -> xt_conn_tick(c, now)
 *
 * Handlers run inside feed/tick/eof/tls_ready. A handler may call any
 * xt_conn function on the same connection (send, iq, on/off, close)
 * except xt_conn_free; free the connection after the driving call returns.
 * Times are milliseconds on any monotonic clock the driver chooses.
 */
#ifndef XTALK_CONN_H
#define XTALK_CONN_H

#include "common.h"
#include "stanza.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xt_conn xt_conn;

/* xt_conn_config.flags */
enum {
    XT_CONN_DIRECT_TLS = 1u << 0,   /* transport is TLS from the first byte (XEP-0368) */
    /* Allow the stream to continue without TLS if the server offers none.
     * Insecure: everything is readable on the wire and a SCRAM exchange
     * can be attacked offline; PLAIN is still never used without TLS.
     * Off by default. */
    XT_CONN_INSECURE_ALLOW_PLAINTEXT = 1u << 1,
    XT_CONN_NO_ROSTER = 1u << 2,    /* do not fetch the roster on login */
    XT_CONN_NO_PRESENCE = 1u << 3,  /* do not send initial presence on login */
    XT_CONN_ALLOW_PLAIN_MECH = 1u << 4, /* reserved: PLAIN is allowed over TLS by default */
    XT_CONN_NO_PLAIN_MECH = 1u << 5,/* never use SASL PLAIN, even over TLS */
    /* Do not use XEP-0198 stream management even when the server offers
     * it (acks then come from XEP-0199 pings; no resumption). */
    XT_CONN_NO_SM = 1u << 6,
    /* Do not pipeline the login: wait for each step's answer and for the
     * stream features before sending the next request, as RFC 6120's
     * examples do. By default the conn sends <starttls/> with the first
     * stream header, its first SASL message with the post-TLS header
     * (when sasl_hint allows), and the bind request, roster query and
     * initial presence with the post-auth header; a server handles them
     * in order, and the features are still checked when they arrive. */
    XT_CONN_NO_PIPELINING = 1u << 7,
};

typedef struct xt_conn_config {
    const char *jid;       /* account JID; a resource part is the requested resource */
    const char *password;  /* copied; kept for xt_conn_reset, wiped by xt_conn_free */
    const char *resource;  /* requested resource; NULL = JID's or server-assigned */
    unsigned flags;
    size_t max_stanza_size;     /* bytes; 0 = 1 MiB */
    unsigned max_depth;         /* element nesting; 0 = 64 */
    uint32_t iq_timeout_ms;     /* default IQ timeout; 0 = 30000 */
    uint32_t ping_interval_ms;  /* idle time before a keepalive ping; 0 = 60000, UINT32_MAX = never */
    uint32_t ping_timeout_ms;   /* no answer to keepalive -> disconnect; 0 = 30000 */
    uint32_t negotiation_timeout_ms; /* start -> online; 0 = 60000 */
    /* Initial presence (unless XT_CONN_NO_PRESENCE). */
    int initial_show;           /* an xt_show value; 0 = available */
    const char *initial_status; /* NULL = none */
    int initial_priority;
    const xt_mem *mem;          /* NULL = malloc */
    xt_log_fn log;              /* NULL = silent */
    void *log_ud;
    /* Acknowledgements (XT_EV_ACKED). With XEP-0198 the conn asks the
     * server for an ack (<r/>) once ack_every stanzas are unacked, and
     * ack_delay_ms after the last stanza sent (before going idle);
     * without SM it sends a XEP-0199 ping ack_delay_ms after the last
     * message (or after ack_every messages): its answer acks every
     * message sent before it. */
    uint32_t ack_every;         /* stanzas; 0 = 10 */
    uint32_t ack_delay_ms;      /* 0 = 100 */
    /* An ack request (<r/> or the ack ping) unanswered this long means
     * the connection is dead: XT_ETIMEOUT, retryable. 0 = ping_timeout_ms. */
    uint32_t ack_timeout_ms;
    /* Most stanzas kept for re-sending (XEP-0198 unacked queue); sends
     * fail with XT_ETOOBIG while it is full. 0 = 5000. */
    uint32_t sm_max_unacked;
    /* What xt_conn_sasl_hint returned after an earlier login to this
     * account: the server's SASL offer (and, after SCRAM, the salt and
     * iteration count it gave, public values). With it the first SASL
     * message goes out with the post-TLS stream header instead of a round
     * trip later (only SCRAM, only over TLS), and SCRAM's costly Hi() runs
     * at a tick while the driver waits for the server. The choice is made as if the
     * server had offered exactly this, and checked against the real
     * offer when it arrives: if it differs (the server changed, or
     * someone strips mechanisms), that exchange is abandoned and the
     * right one started, costing a round trip, never security.
     * NULL = wait for the server's offer. Copied. */
    const char *sasl_hint;
} xt_conn_config;

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

typedef enum xt_show {
    XT_SHOW_AVAILABLE = 0,
    XT_SHOW_CHAT,
    XT_SHOW_AWAY,
    XT_SHOW_XA,
    XT_SHOW_DND,
    XT_SHOW_UNAVAILABLE,
} xt_show;

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
    XT_EV_ALL = 0x1ffu,
} xt_event_type;

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
} xt_message;

typedef struct xt_presence {
    const char *from;       /* full JID */
    const char *type;       /* NULL = available, "unavailable", "error" */
    const char *show;       /* NULL, "chat", "away", "xa", "dnd" */
    const char *status;
    int priority;
    const xt_stanza *stanza;
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
     * a server name that does not exist (XT_ENONAME). */
    int retry;
    /* Set by an xt_client with reconnect on: it connects again in this
     * many ms (0 = it will not). */
    uint32_t retry_in_ms;
} xt_disconnected;

typedef struct xt_acked {
    const char *id;         /* the stanza id of the acknowledged <message> */
} xt_acked;

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
    } u;
} xt_event;

/* Event handler. Pointers in *ev are valid only during the call. */
typedef void (*xt_handler_fn)(xt_conn *c, const xt_event *ev, void *ud);

/* IQ completion: status 0 = type result, XT_ESTANZA = type error
 * (reply holds the error), XT_ETIMEOUT, XT_ECLOSED. reply may be NULL. */
typedef void (*xt_iq_fn)(xt_conn *c, int status, const xt_stanza *reply, void *ud);

/* Channel binding data from the driver's TLS layer (RFC 5929, RFC 9266). */
typedef struct xt_tls_info {
    const char *cb_type;   /* "tls-exporter" or "tls-server-end-point"; NULL = none */
    const uint8_t *cb_data;
    size_t cb_len;
    int tls13;             /* 1 when TLS 1.3 */
} xt_tls_info;

/* --- lifetime ----------------------------------------------------------- */

/* Copies cfg. Returns 0 and *out, or XT_EJID (bad cfg->jid), XT_EINVAL, XT_ENOMEM. */
XT_EXTERN int xt_conn_new(const xt_conn_config *cfg, xt_conn **out);
/* Wipes secrets and frees. Pending IQ callbacks are NOT called. NULL is a no-op. */
XT_EXTERN void xt_conn_free(xt_conn *c);

/* --- driving ------------------------------------------------------------ */

/* Begins the stream: queues the stream header and arms the negotiation
 * timeout. With DIRECT_TLS the header goes out once both this and
 * xt_conn_tls_ready have been called, in either order. */
XT_EXTERN int xt_conn_start(xt_conn *c, uint64_t now_ms);
/* Before xt_conn_start: whether the transport is TLS from the first byte
 * (1) or the stream negotiates STARTTLS (0), overriding XT_CONN_DIRECT_TLS
 * for this connection. For drivers that choose per SRV target (XEP-0368).
 * XT_ESTATE once started. */
XT_EXTERN int xt_conn_set_direct_tls(xt_conn *c, int on);
/* Received plaintext bytes. A negative return means the stream failed;
 * XT_EV_DISCONNECTED has been emitted and closing bytes may be pending. */
XT_EXTERN int xt_conn_feed(xt_conn *c, const void *data, size_t len, uint64_t now_ms);
/* Bytes waiting to be sent: returns the count and sets *data (valid until
 * the next call into this connection). */
XT_EXTERN size_t xt_conn_pending(xt_conn *c, const uint8_t **data);
/* Marks n pending bytes as written. */
XT_EXTERN void xt_conn_consume(xt_conn *c, size_t n);
/* The driver finished the TLS handshake. info may be NULL (no channel binding). */
XT_EXTERN int xt_conn_tls_ready(xt_conn *c, const xt_tls_info *info, uint64_t now_ms);
/* The transport closed (error 0) or failed (XT_E*). Emits XT_EV_DISCONNECTED
 * if the stream was not already closed. */
XT_EXTERN int xt_conn_eof(xt_conn *c, int error, const char *detail, uint64_t now_ms);
/* After XT_EV_DISCONNECTED: puts the connection back to XT_STATE_NEW so
 * the driver can connect again (new transport, then xt_conn_start).
 * Handlers, roster, configuration and the XEP-0198 state (session id,
 * counters, unacked stanzas) are kept: after authentication the conn
 * resumes the session (<resume/>), or on failure binds a new one and
 * re-sends the unacked messages itself. XT_ESTATE unless closed. */
XT_EXTERN int xt_conn_reset(xt_conn *c);
/* Runs timers: IQ timeouts, keepalive, negotiation timeout, acks. */
XT_EXTERN int xt_conn_tick(xt_conn *c, uint64_t now_ms);
/* Absolute time of the next timer, or -1 when none. */
XT_EXTERN int64_t xt_conn_deadline(const xt_conn *c);

XT_EXTERN xt_conn_state xt_conn_get_state(const xt_conn *c);
/* The last error's detail (stream error text, SASL condition, ...) or "". */
XT_EXTERN const char *xt_conn_errdetail(const xt_conn *c);
/* Bound full JID once online, else NULL. */
XT_EXTERN const char *xt_conn_bound_jid(const xt_conn *c);
/* Server domain (the JID's domainpart): the TLS name and the stream's 'to'. */
XT_EXTERN const char *xt_conn_domain(const xt_conn *c);
/* The SASL mechanism used, once authenticated, else NULL. */
XT_EXTERN const char *xt_conn_mechanism(const xt_conn *c);
/* Once the server's SASL offer has been seen: that offer, a short
 * printable string to keep per account (it holds no secret) and pass as
 * xt_conn_config.sasl_hint next time; NULL before. Valid until the conn
 * is reset or freed. */
XT_EXTERN const char *xt_conn_sasl_hint(const xt_conn *c);

/* --- handlers ----------------------------------------------------------- */

/* Registers fn for the events in mask. Returns an id > 0, or < 0 on error. */
XT_EXTERN int xt_conn_on(xt_conn *c, unsigned mask, xt_handler_fn fn, void *ud);
/* Removes the handler with this id. XT_ENOTFOUND if unknown. */
XT_EXTERN int xt_conn_off(xt_conn *c, int id);

/* --- sending ------------------------------------------------------------ */

/* Serializes st and queues it. st is not taken. XT_ESTATE unless online. */
XT_EXTERN int xt_conn_send(xt_conn *c, const xt_stanza *st);
/* Sends <message>. type NULL = "chat". If id_out is not NULL, the stanza
 * id (at most 63 chars) is copied there. body and thread may be NULL.
 * The message carries <origin-id xmlns='urn:xmpp:sid:0' id='ID'/> with
 * its stanza id (XEP-0359), and XT_EV_ACKED with that id follows once the
 * server has it. XT_ETOOBIG while the unacked queue is full. */
XT_EXTERN int xt_conn_send_message(xt_conn *c, const char *to, const char *type,
                                   const char *body, const char *thread, char id_out[64]);
/* The same with a caller-chosen stanza id (1..63 chars, e.g. an outbox
 * entry re-sent after a crash with the id it had). The id is also the
 * XEP-0359 <origin-id/> of the message, as with xt_conn_send_message. */
XT_EXTERN int xt_conn_send_message_id(xt_conn *c, const char *to, const char *type,
                                      const char *body, const char *thread, const char *id);
/* 1 when the conn holds the <message> with this id and will deliver it
 * itself: XT_EV_ACKED follows (unless the conn is freed first), also
 * across xt_conn_reset when XEP-0198 was in use. 0 otherwise: after a
 * disconnect without SM, unacked messages are the application's to
 * re-send. */
XT_EXTERN int xt_conn_is_unacked(const xt_conn *c, const char *id);
/* 1 when XEP-0198 stream management is enabled on the current stream. */
XT_EXTERN int xt_conn_sm_enabled(const xt_conn *c);
/* Broadcast presence. show XT_SHOW_UNAVAILABLE sends type='unavailable'. */
XT_EXTERN int xt_conn_send_presence(xt_conn *c, xt_show show, const char *status, int priority);
/* Subscription presence to a bare JID: "subscribe", "subscribed"
 * (approve), "unsubscribe", "unsubscribed" (deny / revoke). */
XT_EXTERN int xt_conn_subscription(xt_conn *c, const char *to, const char *type);
/* Sends an IQ (type get/set) and calls cb on its answer or timeout. An id
 * is assigned if st has none. timeout_ms 0 = config default. */
XT_EXTERN int xt_conn_iq(xt_conn *c, const xt_stanza *st, uint32_t timeout_ms, xt_iq_fn cb, void *ud);
/* XEP-0199 ping; to NULL pings the server. */
XT_EXTERN int xt_conn_ping(xt_conn *c, const char *to, xt_iq_fn cb, void *ud);
/* Roster set (add/update) and remove (RFC 6121 §2.3, §2.5). cb may be NULL. */
XT_EXTERN int xt_conn_roster_set(xt_conn *c, const char *jid, const char *name,
                                 const char *const *groups, size_t ngroups, xt_iq_fn cb, void *ud);
XT_EXTERN int xt_conn_roster_remove(xt_conn *c, const char *jid, xt_iq_fn cb, void *ud);
/* Sends unavailable presence and </stream:stream>; XT_EV_DISCONNECTED
 * follows when the server closes its side, at the driver's EOF, or after
 * ping_timeout_ms without either (error 0 in all three cases). Before the
 * stream is open it ends at once. XT_ESTATE when already closed. */
XT_EXTERN int xt_conn_close(xt_conn *c);

/* --- state ------------------------------------------------------------- */

/* 1 once the roster result arrived. */
XT_EXTERN int xt_conn_roster_loaded(const xt_conn *c);
XT_EXTERN size_t xt_conn_roster_count(const xt_conn *c);
/* Item i in roster order (i < count); valid until the next call into c. */
XT_EXTERN const xt_roster_item *xt_conn_roster_item(const xt_conn *c, size_t i);
/* Available resources of a bare JID: count, and item i (valid until the
 * next call into c); from is the full JID. */
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
