/*
 * core/stream.h -- the sans-I/O client stream (internal): RFC 6120
 * negotiation (STARTTLS, SASL, bind, legacy session), stream errors and
 * close, IQ tracking, keepalive, negotiation timeout. The IM layer
 * (src/im/conn.c) embeds an xt_stream in its xt_conn and gets stanzas and
 * lifecycle events through xt_stream_hooks.
 *
 * Bytes in: xt_stream_feed. Bytes out: s->out (bounded by XT_OUT_LIMIT so
 * a peer that stops reading cannot make us grow without bound). Time in:
 * every entry point takes `now`; xt_stream_deadline says when to tick.
 */
#ifndef XT_CORE_STREAM_H
#define XT_CORE_STREAM_H

#include <stdint.h>

#include "base/buf.h"
#include "core/iq.h"
#include "core/sasl.h"
#include "core/scram.h"
#include "core/sm.h"
#include "xml/parser.h"
#include "xtalk/conn.h"
#include "xtalk/jid.h"

#define XT_NS_TLS           "urn:ietf:params:xml:ns:xmpp-tls"
#define XT_NS_SASL          "urn:ietf:params:xml:ns:xmpp-sasl"
#define XT_NS_BIND          "urn:ietf:params:xml:ns:xmpp-bind"
#define XT_NS_SESSION       "urn:ietf:params:xml:ns:xmpp-session"
#define XT_NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define XT_NS_STANZA_ERRORS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define XT_NS_PING          "urn:xmpp:ping"
#define XT_NS_SASL2         "urn:xmpp:sasl:2" /* XEP-0388 */
#define XT_NS_BIND2         "urn:xmpp:bind:0" /* XEP-0386 */

/* Most bytes queued for the peer before sends fail with XT_ETOOBIG. */
#define XT_OUT_LIMIT ((size_t)16 << 20)

/* Finer than xt_conn_state: what we are waiting for. */
typedef enum xt_phase {
    XT_PH_NEW = 0,
    XT_PH_FEATURES, /* header sent, waiting for <stream:features/> */
    XT_PH_PROCEED,  /* <starttls/> sent */
    XT_PH_TLS,      /* waiting for xt_stream_tls_ready */
    XT_PH_SASL,     /* <auth/> sent */
    XT_PH_RESUME,   /* XEP-0198 <resume/> sent */
    XT_PH_BIND,     /* bind IQ sent */
    XT_PH_SESSION,  /* legacy session IQ sent */
    XT_PH_ONLINE,
    XT_PH_CLOSING, /* our </stream:stream> sent */
    XT_PH_CLOSED,
} xt_phase;

/* How a session came online (the `online` hook). */
typedef enum xt_online_kind {
    XT_ONLINE_NEW = 0,       /* bound: the IM layer sends its login stanzas now */
    XT_ONLINE_RESUMED,       /* XEP-0198 resumption: nothing to send again */
    XT_ONLINE_NEW_PIPELINED, /* bound; the login stanzas already went out (`login` hook) */
} xt_online_kind;

/* Calls from the stream up to the IM layer. `ud` is hooks_ud. */
typedef struct xt_stream_hooks {
    /* <proceed/> arrived: the driver must start TLS (XT_EV_STARTTLS). */
    void (*starttls)(void *ud);
    /* Bound (and session established): the IM layer sends its login
     * stanzas unless `kind` says otherwise, and emits XT_EV_ONLINE.
     * Negative = fail the stream. */
    int (*online)(void *ud, const char *jid, xt_online_kind kind);
    /* The bind request just went out pipelined with the post-auth stream
     * header: the IM layer may send its login stanzas (roster query,
     * initial presence) now, a round trip before the binding is
     * confirmed (the server handles them after the bind, in order). */
    int (*login)(void *ud);
    /* The server acknowledged the <message> with this id. */
    void (*acked)(void *ud, const char *id);
    /* The stream ended; called exactly once. */
    void (*disconnected)(void *ud, const xt_disconnected *d);
    /* Every received message/presence/iq, before the stream handles it.
     * Negative = fail the stream with that code. */
    int (*stanza)(void *ud, const xt_stanza *st);
    /* An IQ get/set the stream does not handle itself: 1 = handled (the
     * hook replied or deliberately ignored it), 0 = unknown (the stream
     * answers service-unavailable), negative = fail the stream. */
    int (*iq_request)(void *ud, const xt_stanza *iq);
    /* XEP-0484: the server issued a FAST token (mechanism, token,
     * expiry as sent), or refused the one we used (token NULL: forget
     * it). Strings valid during the call; token is secret. */
    void (*fast_token)(void *ud, const char *mech, const char *token, const char *expiry);
} xt_stream_hooks;

/* What the stream needs from xt_conn_opts (see the setters in
 * xtalk/conn.h for meanings and defaults; 0 = default). Strings are
 * borrowed for the duration of xt_stream_init, which copies them. */
typedef struct xt_stream_config {
    const xt_mem *mem;
    unsigned flags;
    const char *jid;      /* required, already checked by the opts */
    const char *password; /* required */
    const char *resource; /* NULL = the JID's */
    size_t max_stanza_size;
    unsigned max_depth;
    unsigned max_attrs, max_children; /* per element */
    uint32_t iq_timeout_ms, ping_interval_ms, ping_timeout_ms, negotiation_timeout_ms;
    uint32_t ack_every, ack_delay_ms, ack_timeout_ms, sm_max_unacked;
    uint32_t scram_max_iterations; /* 0 = scram.h's default per hash */
    xt_log_fn log;
    void *log_ud;
    const char *sasl_hint;
    xt_random_fn random; /* NULL = the system's (base/random.h) */
    void *random_ud;
    const char *id_prefix; /* NULL = "" */
    /* XEP-0388 <user-agent/>: id (NULL = no SASL2 user agent, hence no
     * FAST), software and device names (NULL = none). */
    const char *ua_id, *ua_software, *ua_device;
    /* XEP-0484: a token from an earlier login and its mechanism. */
    const char *fast_mech, *fast_token;
} xt_stream_config;

/* A stream restart (RFC 6120 §4.3.3) recorded inside a parser callback,
 * acted on once the parser has returned. */
typedef enum xt_restart {
    XT_RESTART_NONE = 0,
    XT_RESTART_TLS,  /* <proceed/>: the driver starts TLS, then a new stream */
    XT_RESTART_SASL, /* <success/>: a new stream over the same TLS (§6.4.6) */
} xt_restart;

/* A pipelined <auth/> (sent from the hint) against the real features. */
typedef enum xt_early_auth {
    XT_EARLY_AUTH_OK = 0,  /* none, or it is what the features call for */
    XT_EARLY_AUTH_STALE,   /* not what they call for: abort it at its challenge */
    XT_EARLY_AUTH_ABORTED, /* <abort/> sent: its <failure/> starts auth.next */
} xt_early_auth;

/* Configuration, fixed by xt_stream_init (flags also by set_direct_tls). */
typedef struct xt_stream_cfg {
    unsigned flags;
    xt_jid *jid;    /* the account JID as configured */
    char *password; /* kept for xt_stream_reset, wiped by cleanup */
    char *resource; /* requested resource or NULL */
    uint32_t iq_timeout, ping_interval, ping_timeout, nego_timeout;
    uint32_t ack_every, ack_delay, ack_timeout, max_unacked;
    uint32_t scram_max_iterations;
    xt_log_fn log;
    void *log_ud;
    xt_random_fn random; /* NULL = the system's (base/random.h) */
    void *random_ud;
    xt_parser_limits limits;
    char *test_nonce; /* transcript tests: fixed SCRAM nonce */
} xt_stream_cfg;

/* SASL (stream_sasl.c). */
typedef struct xt_stream_auth {
    xt_sasl *sasl;
    char mech[32]; /* the mechanism that succeeded */
    int done;      /* SASL succeeded */
    xt_early_auth early;
    xt_sasl *next; /* the exchange the features call for, once the stale one is gone */
    char *hint;    /* the server's SASL offer last time (xt_conn_opts_set_sasl_hint) */
    char *offer;   /* the server's SASL offer, as xt_conn_sasl_hint gives it */
    /* SaltedPassword kept across connections (RFC 5802 §5.1), secret;
     * precompute: the hint named the salt, Hi() runs at the next tick
     * (a moment the driver has nothing to send) instead of when the
     * challenge arrives. */
    xt_scram_salted salted;
    int precompute;
    /* The server refused the channel binding we guessed (it listed no
     * types) in a way that allows one retry without binding (see
     * cb_refusal in stream_sasl.c): every later exchange of this conn
     * binds nothing and says 'y'. Survives xt_stream_reset. */
    int cb_refused;
    /* That retry is in flight on the stream the refusal came on (RFC 6120
     * §6.4.5); should the server end the stream instead of answering,
     * the end is reported as the refusal, retryable on a new connection
     * (xt_stream_sasl_retry_lost). Cleared by its answer and by reset. */
    int cb_retry;
    int hint_nocb; /* the hint has "nocb:" (xt_stream_sasl_hint_nocb) */
    /* Mechanism pinning: the strongest login that succeeded before (the
     * hint's "pin:MECH[:CBTYPE]"), its xt_sasl_strength (0 = none), and
     * whether the hint's server offered SCRAM (then PLAIN is a downgrade). */
    char pin[64]; /* MECH[:CBTYPE] */
    int pin_strength;
    int hint_scram;
} xt_stream_auth;

/* XEP-0388 SASL2, XEP-0386 Bind2 and XEP-0484 FAST (stream_sasl2.c). */
typedef struct xt_stream_sasl2 {
    /* configuration: the user agent */
    char *ua_id, *ua_software, *ua_device;
    char *token;        /* the FAST token to use (secret); NULL = none */
    char fast_mech[32]; /* its mechanism */
    int hint;           /* the hint says the server offered SASL2 */
    int active;         /* the exchange in progress is SASL2 */
    int fast;           /* ... with the FAST token (auth.sasl is NULL) */
    int fast_early;     /* that FAST <authenticate/> went ahead of the features */
    int bind_inline;    /* our <authenticate/> carries a Bind2 <bind/> */
    int bound;          /* <bound/> came: no bind IQ on this stream */
    int hint_carbons;   /* the hint says Bind2 lists XEP-0280 carbons inline */
    int carbons;        /* our <bind/> enables carbons (XEP-0386 inline) */
    int carbons_on;     /* ... and it bound us: carbons are on, no IQ */
    char req_mech[32];  /* the token we ask for ("" = none) */
} xt_stream_sasl2;

/* One channel binding from the driver's TLS (copied). */
typedef struct xt_stream_cb {
    char type[24];
    uint8_t data[64];
    size_t len;
} xt_stream_cb;

/* The driver's TLS: whether the stream is protected, whether its
 * certificate was verified, its channel bindings (cb[0] the default,
 * used when the server lists no types). */
typedef struct xt_stream_tls {
    int on;
    int verified;
    xt_stream_cb cb[4];
    size_t ncb;
} xt_stream_tls;

/* Resource binding (stream_bind.c) and what the post-auth features said. */
typedef struct xt_stream_bind {
    char *jid; /* bound full JID */
    int session_needed;
    int retried;
    int sm_offered; /* the post-auth features offer XEP-0198 */
    /* The last 'from' found valid (stream_addr.c): a conversation's
     * stanzas repeat it, and a byte compare is cheaper than preparing. */
    char last_from[128];
    int csi_offered; /* ... and XEP-0352 client state indication */
} xt_stream_bind;

/* Pipelining (see send_opening): what went out before the features that
 * would normally allow it; checked when they arrive. */
typedef struct xt_stream_pipe {
    int early;      /* <starttls/>, <auth/> or the bind IQ is ahead of the features */
    int login_sent; /* the login stanzas went out behind the early bind */
    int login_now;  /* they are being written behind a FAST <authenticate/> */
} xt_stream_pipe;

/* The clock and the timers. */
typedef struct xt_stream_time {
    uint64_t now;
    uint64_t last_rx;
    uint64_t nego_deadline;  /* 0 = not armed */
    uint64_t ka_deadline;    /* keepalive ping outstanding until then; 0 = none */
    uint64_t close_deadline; /* CLOSING: give up waiting for the server's close */
} xt_stream_time;

/* How the stream ended. */
typedef struct xt_stream_err {
    int code;
    char condition[64];
    char detail[512];
    int retry; /* set just before xt_stream_fail: retryable whatever the code */
} xt_stream_err;

typedef struct xt_stream {
    xt_mem mem_copy;
    const xt_mem *mem; /* &mem_copy, or NULL for malloc */
    xt_conn *owner;    /* handed to IQ callbacks; opaque here */
    xt_stream_hooks hooks;
    void *hooks_ud;
    xt_stream_cfg cfg;

    /* runtime */
    xt_parser *parser;
    xt_buf out;     /* bytes for the driver */
    xt_buf scratch; /* one serialized stanza before it joins `out` */
    xt_phase phase;
    xt_restart restart;
    int in_feed;
    int header_sent;
    int close_sent;
    xt_stream_tls tls;
    xt_stream_auth auth;
    xt_stream_sasl2 sasl2;
    xt_stream_pipe pipe;
    xt_stream_bind bind;
    xt_sm sm;           /* survives xt_stream_reset */
    xt_sm_queue resend; /* after a failed resumption: messages to send again */

    xt_iq_table iqs;
    char id_prefix[40]; /* the application's prefix, 12 random hex digits, '-' */
    size_t id_prefix_len;
    uint64_t id_counter;

    xt_stream_time t;
    xt_stream_err err;
} xt_stream;

/* Copies cfg. 0, XT_EJID, XT_EINVAL or XT_ENOMEM (then call xt_stream_cleanup). */
int xt_stream_init(xt_stream *s, const xt_stream_config *cfg, xt_conn *owner,
                   const xt_stream_hooks *hooks, void *hooks_ud);
/* Wipes secrets, frees everything; pending IQ callbacks are not called. */
void xt_stream_cleanup(xt_stream *s);
/* CLOSED -> NEW for a new connection, keeping configuration, password
 * and the XEP-0198 state. XT_ESTATE unless closed. */
int xt_stream_reset(xt_stream *s);
/* 1 when a <message> with this id awaits its ack and will be delivered
 * by the stream (see xt_conn_is_unacked). */
int xt_stream_is_unacked(const xt_stream *s, const char *id);

int xt_stream_start(xt_stream *s, uint64_t now);
/* Before start: direct TLS (1) or STARTTLS (0). XT_ESTATE after. */
int xt_stream_set_direct_tls(xt_stream *s, int on);
int xt_stream_feed(xt_stream *s, const void *data, size_t len, uint64_t now);
int xt_stream_tls_ready(xt_stream *s, const xt_tls_info *info, uint64_t now);
int xt_stream_eof(xt_stream *s, int error, const char *detail, uint64_t now);
int xt_stream_tick(xt_stream *s, uint64_t now);
/* See xt_conn_trim. */
void xt_stream_trim(xt_stream *s);
int64_t xt_stream_deadline(const xt_stream *s);
xt_conn_state xt_stream_state(const xt_stream *s);
/* `unavailable`: precede the close tag with <presence type='unavailable'/>. */
int xt_stream_close(xt_stream *s, int unavailable);

/* Serializes st (in jabber:client) into the output. XT_ESTATE when the
 * stream is not open for stanzas, XT_ETOOBIG when the output is full. */
int xt_stream_send(xt_stream *s, const xt_stanza *st);
/* Writes one stanza into the output: write(out, ud) appends its bytes
 * (jabber:client as the default namespace, as xt_stanza_serialize would)
 * and returns 0 or an error; on error the output is cut back, so nothing
 * half-written is sent. The stanza is then tracked like one given to
 * xt_stream_send (XEP-0198 queue or ack ping by `name` and `id`) and
 * logged. Same errors as xt_stream_send, plus write's. For hot paths
 * that need no tree (xt_conn_send_message). */
typedef int (*xt_stanza_writer)(xt_buf *out, const void *ud);
int xt_stream_send_written(xt_stream *s, xt_stanza_writer write, const void *ud, const char *name,
                           const char *id);
/* Writes a top-level element that is not a stanza (a nonza, such as
 * XEP-0352's <active/>): not counted or queued by XEP-0198. XT_ESTATE
 * when the stream is not open for stanzas. */
int xt_stream_send_nonza(xt_stream *s, const char *xml);
/* Sends an IQ get/set and tracks it. If st has no id one is assigned (on
 * a copy). The reply is expected from st's 'to'. timeout_ms 0 = default. */
int xt_stream_iq(xt_stream *s, const xt_stanza *st, uint32_t timeout_ms, xt_iq_fn fn, void *ud);
/* A fresh stanza id: random per-connection prefix + counter. */
void xt_stream_next_id(xt_stream *s, char out[64]);
/* Answers an IQ get/set with an empty result or with a stanza error
 * (RFC 6120 §8.3.2: error type and defined condition). */
int xt_stream_reply_result(xt_stream *s, const xt_stanza *iq);
int xt_stream_reply_error(xt_stream *s, const xt_stanza *iq, const char *type, const char *cond);

/* Read-only views for the IM layer (which never writes stream fields). */
static inline int xt_stream_is_online(const xt_stream *s)
{
    return s->phase == XT_PH_ONLINE;
}
static inline int xt_stream_csi_offered(const xt_stream *s)
{
    return s->bind.csi_offered;
}
static inline int xt_stream_is_closed(const xt_stream *s)
{
    return s->phase == XT_PH_CLOSED;
}
static inline unsigned xt_stream_flags(const xt_stream *s)
{
    return s->cfg.flags;
}

/* 1 when this session's Bind2 request enabled XEP-0280 carbons inline
 * and bound us (the im layer then sends no <enable/> IQ). */
int xt_stream_sasl2_carbons_on(const xt_stream *s);

/* The last error's detail, or "". */
static inline const char *xt_stream_errdetail(const xt_stream *s)
{
    return s->err.detail;
}
/* The bound full JID while online or closing, else NULL. */
static inline const char *xt_stream_bound(const xt_stream *s)
{
    return s->phase == XT_PH_ONLINE || s->phase == XT_PH_CLOSING ? s->bind.jid : NULL;
}
/* The server's SASL offer as hint text, NULL before it was seen. */
static inline const char *xt_stream_sasl_offer(const xt_stream *s)
{
    return s->auth.offer;
}
/* The mechanism that succeeded, NULL before. */
static inline const char *xt_stream_mechanism(const xt_stream *s)
{
    return s->auth.mech[0] ? s->auth.mech : NULL;
}
static inline int xt_stream_sm_enabled(const xt_stream *s)
{
    return s->sm.state != XT_SM_OFF;
}
/* The bytes waiting for the driver, and taking n of them. */
static inline size_t xt_stream_pending(const xt_stream *s, const uint8_t **data)
{
    *data = xt_buf_head(&s->out);
    return xt_buf_size(&s->out);
}
static inline void xt_stream_consume(xt_stream *s, size_t n)
{
    xt_buf_consume(&s->out, n);
}

/* The account's bare JID and domain (normalized). */
const char *xt_stream_bare(const xt_stream *s);
const char *xt_stream_domain(const xt_stream *s);

/* Fails the stream: records the error, optionally queues
 * <stream:error><cond/></stream:error> (stream_cond not NULL) and our
 * </stream:stream>, completes pending IQs with XT_ECLOSED and calls the
 * disconnected hook. No-op when already closed. Returns `error`. */
int xt_stream_fail(xt_stream *s, int error, const char *stream_cond, const char *condition,
                   const char *text, const char *redirect);

void xt_stream_logf(xt_stream *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tests only: fixed SCRAM client nonce / id prefix for deterministic transcripts. */
int xt_stream_set_test_nonce(xt_stream *s, const char *nonce);
void xt_stream_set_test_id_prefix(xt_stream *s, const char *prefix);
/* Tests only: set both XEP-0198 counters (h in, and acked = sent out) to
 * v, to exercise the wrap at 2^32. Only with an empty unacked queue. */
int xt_stream_sm_preset(xt_stream *s, uint32_t h_in, uint32_t h_out);

#endif
