/*
 * xtalk/client.h -- the transport: DNS (c-ares), TCP, TLS (OpenSSL over
 * memory BIOs) and a poll()-based loop driving xt_conn objects.
 *
 * An xt_loop runs any number of xt_client objects (and application fds
 * and timers) in one thread. A client can also be driven by another loop:
 * xt_client_pollfds() gives the fds and events it wants, xt_client_deadline()
 * its next timer, and xt_client_process() does the work; xt_loop itself is
 * built on exactly these three calls. All times are xt_loop_now()'s clock
 * (CLOCK_MONOTONIC, milliseconds).
 *
 * What a callback may do (fd and timer callbacks, and xt_conn handlers run
 * by a client inside the loop): add, modify and remove fds and timers,
 * create clients, free clients (its own included: the free then happens
 * when the client's processing returns), call any xt_conn function, and
 * stop the loop. It must not free the loop or call xt_loop_run /
 * xt_loop_run_once (XT_ESTATE).
 *
 * Certificates (RFC 6125, RFC 7590): the chain must lead to a trusted root
 * (the system store unless XT_CLIENT_NO_SYSTEM_CA, plus ca_file), and the
 * certificate must name the JID's domain (DNS-ID; SNI carries the domain).
 * TLS 1.2 is the minimum. With pin_sha256 set the pin decides instead: a
 * certificate whose SHA-256 matches is accepted even when its chain is not
 * trusted (that is what pinning a self-signed server means), and one that
 * does not match is refused even when its chain is trusted. Failures end
 * the connection with XT_ECERT and a detail saying why and what to do.
 */
#ifndef XTALK_CLIENT_H
#define XTALK_CLIENT_H

#include <poll.h>

#include "common.h"
#include "conn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xt_loop xt_loop;
typedef struct xt_client xt_client;

/* --- the loop ------------------------------------------------------------ */

XT_EXTERN int xt_loop_new(const xt_mem *mem, xt_loop **out);
/* Frees the loop; clients still attached are freed too. NULL is a no-op. */
XT_EXTERN void xt_loop_free(xt_loop *loop);
/* Runs until xt_loop_stop() or until nothing is left to wait for: no
 * client between xt_client_connect and its disconnection, no fd, no timer. */
XT_EXTERN int xt_loop_run(xt_loop *loop);
/* One iteration, waiting at most timeout_ms (-1 = until something happens). */
XT_EXTERN int xt_loop_run_once(xt_loop *loop, int timeout_ms);
/* At most n TLS handshakes at once among the loop's clients (0 = no
 * limit; default 64): the others wait, connected, for a slot. A herd of
 * clients connecting together (a bot farm starting, every session after
 * a server restart) then neither holds a TLS handshake's buffers (~30
 * KiB each) all at once nor starves the loop; each handshake also ends
 * sooner. XT_EINVAL for a NULL loop. */
XT_EXTERN int xt_loop_set_max_handshakes(xt_loop *loop, unsigned n);
/* Makes xt_loop_run return after the current iteration. Safe from callbacks. */
XT_EXTERN void xt_loop_stop(xt_loop *loop);
/* The loop's monotonic clock in milliseconds. */
XT_EXTERN uint64_t xt_loop_now(const xt_loop *loop);

/* Application fds: cb is called with the poll revents. Returns an id > 0.
 * mod/remove: XT_ENOTFOUND for an unknown id. The loop never closes fds. */
typedef void (*xt_fd_fn)(xt_loop *loop, int fd, short revents, void *ud);
XT_EXTERN int xt_loop_add_fd(xt_loop *loop, int fd, short events, xt_fd_fn cb, void *ud);
XT_EXTERN int xt_loop_mod_fd(xt_loop *loop, int id, short events);
XT_EXTERN int xt_loop_remove_fd(xt_loop *loop, int id);
/* One-shot timer after delay_ms. Returns an id > 0. Timers due at the same
 * time run in creation order; one added from a timer callback with delay 0
 * runs in the next iteration. cancel: XT_ENOTFOUND once it ran. */
typedef void (*xt_timer_fn)(xt_loop *loop, void *ud);
XT_EXTERN int xt_loop_add_timer(xt_loop *loop, uint64_t delay_ms, xt_timer_fn cb, void *ud);
XT_EXTERN int xt_loop_cancel_timer(xt_loop *loop, int id);

/* --- the client ---------------------------------------------------------- */

/* xt_client_config.flags */
enum {
    XT_CLIENT_NO_SYSTEM_CA = 1u << 0, /* trust only ca_file / pin */
    /* Do not verify the certificate at all. Insecure; for tests only. */
    XT_CLIENT_INSECURE_NO_VERIFY = 1u << 1,
};

typedef struct xt_client_config {
    /* The connection's options (required; XT_CONN_DIRECT_TLS in its flags
     * for direct TLS). Not taken: xt_client_new copies them into its
     * xt_conn (which uses their allocator), so they may be freed after. */
    const xt_conn_opts *conn;
    /* Connect here (name or IP literal), skipping SRV; NULL = SRV lookup of
     * the JID's domain: _xmpps-client._tcp (XEP-0368) when conn's flags have
     * XT_CONN_DIRECT_TLS, else _xmpp-client._tcp (RFC 6120 §3.2.1); no
     * records -> the domain itself on port 5222 / 5223 (§3.2.2). */
    const char *host;
    uint16_t port;             /* with host; 0 = 5222 (5223 for direct TLS) */
    const char *ca_file;       /* PEM file trusted in addition to the system store */
    /* hex SHA-256 of the server's leaf certificate (DER), colons allowed
     * (openssl x509 -fingerprint -sha256 form); NULL = none. See above. */
    const char *pin_sha256;
    unsigned flags;
    /* per address; also bounds name resolution and the TLS handshake; 0 = 10000 */
    uint32_t connect_timeout_ms;
    /* Automatic reconnection: 0 = off. When on, a disconnection with
     * retry=1 is followed by xt_conn_reset and a new connection (DNS, TCP,
     * TLS, then XEP-0198 resumption when possible) after a delay drawn
     * uniformly from [min, min(max, min * 2^attempt)] (exponential
     * backoff, full jitter; attempt resets once online). XT_EV_DISCONNECTED
     * is still emitted every time, with retry_in_ms set. Never after a
     * clean close, authentication, certificate or policy failure. A
     * see-other-host redirect is followed once (to its host; the TLS name
     * stays the JID's domain). */
    int reconnect;
    uint32_t reconnect_min_ms; /* 0 = 500 */
    uint32_t reconnect_max_ms; /* 0 = 60000 */
} xt_client_config;

/* Creates a client attached to loop; nothing happens until xt_client_connect. */
XT_EXTERN int xt_client_new(xt_loop *loop, const xt_client_config *cfg, xt_client **out);
/* Detaches and frees (closes sockets, frees the xt_conn). NULL is a no-op.
 * Safe at any time from the loop's callbacks (see above); not from a
 * handler that your own direct call into the xt_conn is running. */
XT_EXTERN void xt_client_free(xt_client *cl);
/* The protocol connection: register handlers and send through it. */
XT_EXTERN xt_conn *xt_client_conn(xt_client *cl);
/* Starts DNS, TCP, TLS and the stream. Progress and failure arrive as
 * xt_conn events (XT_EV_ONLINE, XT_EV_DISCONNECTED with the XT_E* code and
 * the detail as its text). Once per client. A negative return means
 * nothing started and no event follows: XT_ESTATE (called twice),
 * XT_EINVAL (ca_file unreadable: see xt_client_errdetail), XT_ENOMEM. */
XT_EXTERN int xt_client_connect(xt_client *cl);
/* Cancels automatic reconnection for good (e.g. the application is
 * shutting down after a disconnection): 1 if a reconnect was pending
 * (the client is now done), 0 if not. */
XT_EXTERN int xt_client_stop_reconnect(xt_client *cl);
/* Detail of the last transport error (TLS verify reason, DNS error), or "". */
XT_EXTERN const char *xt_client_errdetail(const xt_client *cl);
/* Lowercase hex SHA-256 of the server's leaf certificate (64 chars, the
 * pin_sha256 format) once the server presented it, also when it was then
 * refused (so an application can offer to pin it), else NULL. */
XT_EXTERN const char *xt_client_peer_sha256(const xt_client *cl);

/* External-loop integration. pollfds fills at most max entries and
 * returns how many it needs (call again with more room if larger); the set
 * changes as the client moves on (resolver sockets, then its TCP socket),
 * so ask again before every wait. process takes the revents of those fds
 * (others are ignored) and runs due timers; call it when any fd is ready
 * or the deadline (0 = now) has passed. */
XT_EXTERN size_t xt_client_pollfds(xt_client *cl, struct pollfd *fds, size_t max);
XT_EXTERN int64_t xt_client_deadline(const xt_client *cl); /* absolute ms, -1 = none */
XT_EXTERN int xt_client_process(xt_client *cl, const struct pollfd *fds, size_t n, uint64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
