/*
 * core/sasl.h -- client SASL mechanisms (internal): SCRAM-SHA-512/256/1
 * with and without -PLUS channel binding (RFC 5802, RFC 7677, RFC 5929,
 * RFC 9266), and PLAIN (RFC 4616). Works on raw bytes; the stream does the
 * base64 wrapping (RFC 6120 §6.4.2).
 */
#ifndef XT_CORE_SASL_H
#define XT_CORE_SASL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "core/scram.h"
#include "xtalk/common.h"
#include "xtalk/conn.h"

typedef struct xt_sasl xt_sasl;

typedef struct xt_sasl_params {
    const char *authcid;   /* the JID's localpart (normalized) */
    const char *password;  /* UTF-8; SASLprep/OpaqueString as far as supported */
    const char *authzid;   /* NULL (normal case) */
    int tls;               /* 1 when the stream is TLS-protected: PLAIN needs it */
    int allow_plain;       /* 0 forbids PLAIN even over TLS */
    /* Channel binding from the TLS layer (xt_tls_info): the default one,
     * used when the server lists no types (cb_type NULL = none), and the
     * others for a server that lists them. */
    const char *cb_type;   /* "tls-exporter", "tls-unique" or "tls-server-end-point" */
    const uint8_t *cb_data;
    size_t cb_len;
    const xt_tls_binding *cb_more;
    size_t cb_nmore;
    /* 1: use no binding although we have some (the one retry after a
     * server refused it, see stream_sasl.c); the flag is then 'y'. */
    int no_cb;
    /* XEP-0440: the channel-binding types the server advertised in
     * <sasl-channel-binding/>; server_cb_advertised 0 = no such element. */
    int server_cb_advertised;
    const char *const *server_cb_types;
    size_t server_cb_ntypes;
    /* Tests only: a fixed client nonce (printable, no ','); NULL = random. */
    const char *nonce;
    /* The SCRAM nonce's random source (NULL = the system's, base/random.h). */
    xt_random_fn random;
    void *random_ud;
    /* SCRAM iteration cap (0 = the default per hash, see scram.h). */
    uint32_t max_iterations;
    /* NULL, or SaltedPassword kept across exchanges (see scram.h). */
    xt_scram_salted *salted;
} xt_sasl_params;

/*
 * Picks the strongest mechanism among `offered` (names from <mechanisms/>)
 * that these params allow, in this order: SCRAM-SHA-512-PLUS,
 * SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (only with a channel binding the
 * server takes: when it lists its types (XEP-0440), the first of ours in
 * the order tls-exporter, tls-unique, tls-server-end-point that it lists;
 * without a list our default one, which the TLS version decides: see
 * xt_tls_info), SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN (only
 * over TLS and allowed). Returns 0 and *out, XT_EUNSUPPORTED when none is
 * usable, XT_EINVAL for unusable params (missing authcid, invalid UTF-8,
 * a password OpaqueString refuses), or XT_ENOMEM. Strings in params are
 * copied (the password is wiped on free).
 * GS2 channel-binding flag (RFC 5802 §6): 'p=<type>' for a -PLUS
 * mechanism; 'y' whenever we hold binding data but do not use it (the
 * server offers no -PLUS, or lists only types we lack, or no_cb): a
 * server that does support binding then sees that the client could have
 * bound and fails the exchange, which is what exposes a man in the
 * middle who stripped -PLUS; 'n' only when we have no binding data.
 */
int xt_sasl_new(const xt_mem *mem, const char *const *offered, size_t noffered,
                const xt_sasl_params *params, xt_sasl **out);
void xt_sasl_free(xt_sasl *s);

/* The chosen mechanism's name, e.g. "SCRAM-SHA-256-PLUS". */
const char *xt_sasl_mechanism(const xt_sasl *s);
/* 1 for the SCRAM family. */
int xt_sasl_is_scram(const xt_sasl *s);
/*
 * How strong a login was, for mechanism pinning (never weaker than
 * before): 0 for an unknown name; PLAIN 1; SCRAM by hash (SHA-1 2,
 * SHA-256 3, SHA-512 4); -PLUS above every plain SCRAM, by binding
 * (tls-server-end-point binds the certificate only: below tls-unique and
 * tls-exporter, which bind this connection) then hash. The order is
 * xt_sasl_new's choice order, so the strongest a server offers is what
 * we pick.
 */
int xt_sasl_strength(const char *mech, const char *cb_type);

/* The channel-binding type in use ('p'), else NULL. */
const char *xt_sasl_cb_type(const xt_sasl *s);
/* 1 when that type was our guess (the server listed no types, XEP-0440). */
int xt_sasl_cb_guessed(const xt_sasl *s);
/* The GS2 flag: 'n', 'y' or 'p'; 0 for PLAIN. */
char xt_sasl_cb_flag(const xt_sasl *s);
/* 1 when both chose the same mechanism with the same GS2 flag (so one's
 * first message is what the other would have sent, nonce aside). */
int xt_sasl_same_choice(const xt_sasl *a, const xt_sasl *b);

/* Why the last call failed (static or owned by s; valid until the next
 * call or free), e.g. the server's SCRAM e= value; NULL if none. */
const char *xt_sasl_detail(const xt_sasl *s);

/* The initial response (raw bytes) to put in <auth/>. */
int xt_sasl_initial(xt_sasl *s, xt_buf *out);

/* A <challenge/>'s raw bytes -> the <response/>'s raw bytes. XT_EPROTO on a
 * malformed or hostile challenge (nonce not extending ours, iteration
 * count too low or absurdly high, bad salt, unexpected step). */
int xt_sasl_step(xt_sasl *s, const uint8_t *challenge, size_t len, xt_buf *out);

/* <success/> with its additional data (raw bytes; len 0 when none). For
 * SCRAM, verifies the server signature: XT_EDOWNGRADE on mismatch or when
 * it is missing, XT_EPROTO if malformed, 0 when the server is proven. */
int xt_sasl_success(xt_sasl *s, const uint8_t *data, size_t len);

/*
 * What a SASL <failure/> condition (RFC 6120 §6.5) means for the user, in
 * words that name the cause and what to do (static text). Only
 * not-authorized is about the credentials; every other condition is
 * something else (the server's policy, its state, a bug on one side) and
 * its text never mentions the password. An unknown condition (or NULL)
 * gets a generic text.
 */
const char *xt_sasl_failure_reason(const char *condition);

#endif
