/*
 * core/fast.h -- the HT-* SASL mechanisms of XEP-0484 FAST (defined in
 * draft-schmaus-kitten-sasl-ht): a token the server issued stands in for
 * the password in one message each way, optionally bound to the TLS
 * channel. Pure functions over bytes (crypto from OpenSSL 3); the stream
 * (stream_sasl2.c) does the XML and base64.
 *
 * Names are HT-<HASH>-<CB>: HASH SHA-256 or SHA-512, CB one of
 *   EXPR  tls-exporter (RFC 9266; TLS 1.3),
 *   UNIQ  tls-unique (RFC 5929 §3; TLS 1.2 only),
 *   ENDP  tls-server-end-point (RFC 5929 §4; binds the certificate only),
 *   NONE  no binding.
 */
#ifndef XT_CORE_FAST_H
#define XT_CORE_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define XT_NS_FAST "urn:xmpp:fast:0"

/* The channel-binding type a mechanism needs: "" for -NONE, NULL when the
 * name is not an HT mechanism we implement. */
const char *xt_fast_cb_type(const char *mech);

/* Preference among HT mechanisms (higher is better, 0 = unknown): a
 * binding to this connection (EXPR, UNIQ) before the certificate (ENDP)
 * before none; within one binding SHA-512 before SHA-256. */
int xt_fast_rank(const char *mech);

/* The initial response: authcid NUL HMAC(token, "Initiator" || cb)
 * (the draft's §3.1). 0, XT_EINVAL (unknown mechanism), XT_ENOMEM. */
int xt_fast_initial(const char *mech, const char *authcid, const char *token, const uint8_t *cb,
                    size_t cblen, xt_buf *out);

/* The server's additional data on success must be HMAC(token,
 * "Responder" || cb): it proves the server knew the token (mutual
 * authentication). 0 when it does, XT_EDOWNGRADE when not (or missing),
 * XT_EINVAL for an unknown mechanism. Constant-time comparison. */
int xt_fast_verify(const char *mech, const char *token, const uint8_t *cb, size_t cblen,
                   const uint8_t *data, size_t len);

#endif
