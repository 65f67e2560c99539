/*
 * TLS client over memory buffers: ciphertext in / ciphertext out on one
 * side, plaintext in / out on the other. No socket, no loop, no clock,
 * so it can be driven by any loop and tested against an in-process
 * server.
 *
 * An xt_tls_ctx (one SSL_CTX with its trust store) is shared by every
 * connection that uses the same trust settings: the roots a chain needed
 * stay in its store for the next connection, and an SSL_CTX costs ~5 M
 * instructions to make. xt_ctx caches and reference-counts them.
 *
 * Verification (RFC 6125 DNS-ID, RFC 7590 for XMPP): chain to a trusted
 * root (system store and/or ca_file) and the certificate's names must
 * match the JID's domain. With a pin (hex SHA-256 of the leaf's DER) the
 * chain need not be trusted: the leaf must match the pin, and a mismatch
 * is refused even for a trusted chain.
 */
#ifndef XT_NET_TLS_H
#define XT_NET_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/conn.h"

struct ssl_ctx_st; /* OpenSSL's SSL_CTX, without its headers here */

typedef struct xt_tls_ctx xt_tls_ctx;
typedef struct xt_tls xt_tls;

/* A context whose trust store will be the system store unless
 * no_system_ca (its hashed directory, read lazily: only the issuers a
 * chain names; the bundle file only where no directory is hashed or
 * SSL_CERT_FILE names another file, see add_system_store), plus ca_file
 * (PEM) when not NULL. Only the settings here, no OpenSSL call: the
 * SSL_CTX is made by xt_tls_ctx_prepare, the store filled by
 * xt_tls_ctx_load_trust. XT_EINVAL with a detail in err when ca_file
 * cannot be opened; XT_ENOMEM. */
int xt_tls_ctx_new(const xt_mem *mem, const char *ca_file, int no_system_ca,
                   xt_tls_ctx **out, char *err, size_t errlen);
void xt_tls_ctx_free(xt_tls_ctx *ctx);
/* Makes the OpenSSL context (SSL_CTX_new and its settings), once per
 * context: ~2 M instructions, and as the process's first use of OpenSSL
 * its initialisation, provider and random generator set-up too (~8.6 M
 * more), none of which a stream header needs. A client calls this while the network is
 * busy: once its TCP connect is under way (direct TLS) or its first
 * flight is written (STARTTLS) (issue 14); xt_tls_new and
 * xt_tls_ctx_load_trust call it themselves if nobody did. 0, or XT_ENOMEM
 * (not final: a later call tries again). */
int xt_tls_ctx_prepare(xt_tls_ctx *ctx);
/* Fills the trust store, once per context (later calls return the first
 * call's result). Parsing a CA file costs ~2.5 M instructions, the first
 * certificate parse in the process included; a client calls this right
 * after its ClientHello left, so that it runs while the hello is on its
 * way instead of before it (issue 14); xt_tls_handshake calls it itself
 * before it reads the server's answer if nobody did. XT_EINVAL with a
 * detail in err when ca_file holds no certificate; XT_ENOMEM. */
int xt_tls_ctx_load_trust(xt_tls_ctx *ctx, char *err, size_t errlen);
/* The trust part of xt_tls_ctx_new on any OpenSSL context: the same
 * system store (unless no_system_ca) and ca_file, so that HTTP transfers
 * (http.c, on libcurl's context) trust exactly what the XMPP connection
 * trusts. Errors as xt_tls_ctx_new. */
int xt_tls_add_trust(struct ssl_ctx_st *sc, const char *ca_file, int no_system_ca, char *err,
                     size_t errlen);
/* 1 when ctx was made from exactly these settings (the loop's cache key). */
int xt_tls_ctx_matches(const xt_tls_ctx *ctx, const char *ca_file, int no_system_ca);

typedef struct xt_tls_opts {
    const char *host;       /* the name to verify and send as SNI (the JID's domain) */
    const char *pin_sha256; /* hex, colons allowed; NULL = none */
    int alpn_xmpp;          /* offer ALPN "xmpp-client" (XEP-0368 direct TLS) */
    int no_verify;          /* accept any certificate (tests only) */
} xt_tls_opts;

/* 0 when pin_sha256 is 64 hex digits (colons or spaces between them
 * allowed), else XT_EINVAL. */
int xt_tls_pin_check(const char *pin_sha256);

/* XT_EINVAL for a malformed pin, XT_ENOMEM, XT_ETLS. ctx must outlive t. */
int xt_tls_new(xt_tls_ctx *ctx, const xt_mem *mem, const xt_tls_opts *o, xt_tls **out);
void xt_tls_free(xt_tls *t);

/* Ciphertext received from the network: room to write into (up to one
 * full record), then the number of bytes written there; commit after
 * every xt_tls_in_space, 0 too (an empty buffer is released then, so an
 * idle connection keeps none). Room is 0 when the buffer is full (read
 * plaintext with xt_tls_read / xt_tls_handshake to drain it) or when it
 * could not be allocated (those calls then fail with XT_ENOMEM). */
size_t xt_tls_in_space(xt_tls *t, uint8_t **p);
void xt_tls_in_commit(xt_tls *t, size_t n);
/* Copies as much of data as fits; returns how much. */
size_t xt_tls_feed(xt_tls *t, const void *data, size_t len);

/* Ciphertext to send: a contiguous chunk, then how many bytes of it were
 * written (the buffer is released once drained). */
size_t xt_tls_out_peek(xt_tls *t, const uint8_t **p);
void xt_tls_out_consume(xt_tls *t, size_t n);
size_t xt_tls_out_pending(const xt_tls *t);
/* Bytes allocated for ciphertext buffers right now (0 when idle). */
size_t xt_tls_buffered(const xt_tls *t);

/* Drives the handshake: 0 done (and verified), 1 needs more I/O,
 * XT_ECERT / XT_ETLS / XT_ENOMEM with xt_tls_detail(). */
int xt_tls_handshake(xt_tls *t);
/* Plaintext out of the connection. 0 with *got = 0 means more ciphertext
 * is needed; XT_ECLOSED when the peer sent close_notify; XT_ETLS,
 * XT_ENOMEM. */
int xt_tls_read(xt_tls *t, void *buf, size_t cap, size_t *got);
/* Encrypts up to n bytes; *wrote may be less (0 when the ciphertext
 * buffer is full: drain it and call again with the same bytes). XT_ETLS,
 * XT_ENOMEM. */
int xt_tls_write(xt_tls *t, const void *data, size_t n, size_t *wrote);
/* Queues close_notify (RFC 8446 §6.1). */
void xt_tls_shutdown(xt_tls *t);

/* Channel bindings (see xt_tls_info: RFC 9266 tls-exporter on TLS 1.3,
 * RFC 5929 tls-unique on TLS 1.2 with the extended master secret, and
 * tls-server-end-point on both) and whether the certificate was
 * verified. Pointers live as long as t. */
void xt_tls_get_info(xt_tls *t, xt_tls_info *info);
/* SHA-256 of the leaf certificate (32 bytes), NULL before it was seen. */
const uint8_t *xt_tls_peer_sha256(const xt_tls *t);
/* Why the last call failed, or "". */
const char *xt_tls_detail(const xt_tls *t);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void xt_tls_hex(const uint8_t *p, size_t n, char *out);

#endif
