/*
 * xtalk/client.h -- the transport: DNS (c-ares), TCP, TLS (OpenSSL over
 * memory BIOs) and a poll()-based loop driving xt_conn objects.
 *
 * An xt_loop runs any number of xt_client objects (and application fds
 * and timers) in one thread. A client can also be driven by another loop:
 * xt_client_pollfds() gives the fds and events it wants, xt_client_deadline()
 * its next timer, and xt_client_process() does the work; xt_loop itself is
 * built on exactly these three calls.
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
/* Runs until xt_loop_stop() or until nothing is left to wait for. */
XT_EXTERN int xt_loop_run(xt_loop *loop);
/* One iteration, waiting at most timeout_ms (-1 = until something happens). */
XT_EXTERN int xt_loop_run_once(xt_loop *loop, int timeout_ms);
/* Makes xt_loop_run return after the current iteration. Safe from callbacks. */
XT_EXTERN void xt_loop_stop(xt_loop *loop);
/* The loop's monotonic clock in milliseconds. */
XT_EXTERN uint64_t xt_loop_now(const xt_loop *loop);

/* Application fds: cb is called with the poll revents. Returns an id > 0. */
typedef void (*xt_fd_fn)(xt_loop *loop, int fd, short revents, void *ud);
XT_EXTERN int xt_loop_add_fd(xt_loop *loop, int fd, short events, xt_fd_fn cb, void *ud);
XT_EXTERN int xt_loop_mod_fd(xt_loop *loop, int id, short events);
XT_EXTERN int xt_loop_remove_fd(xt_loop *loop, int id);
/* One-shot timer after delay_ms. Returns an id > 0. */
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
    xt_conn_config conn;       /* copied; set conn.flags XT_CONN_DIRECT_TLS for direct TLS */
    const char *host;          /* connect here, skipping SRV; NULL = SRV lookup */
    uint16_t port;             /* with host; 0 = 5222 (5223 for direct TLS) */
    const char *ca_file;       /* PEM file trusted in addition to the system store */
    const char *pin_sha256;    /* hex SHA-256 of the server certificate (DER); NULL = none */
    unsigned flags;
    uint32_t connect_timeout_ms; /* per address; 0 = 10000 */
} xt_client_config;

/* Creates a client attached to loop; nothing happens until xt_client_connect. */
XT_EXTERN int xt_client_new(xt_loop *loop, const xt_client_config *cfg, xt_client **out);
/* Detaches and frees (closes sockets, frees the xt_conn). NULL is a no-op.
 * Not from inside one of this client's callbacks. */
XT_EXTERN void xt_client_free(xt_client *cl);
/* The protocol connection: register handlers and send through it. */
XT_EXTERN xt_conn *xt_client_conn(xt_client *cl);
/* Starts DNS, TCP, TLS and the stream. Progress and failure arrive as
 * xt_conn events (XT_EV_ONLINE, XT_EV_DISCONNECTED with the XT_E* code). */
XT_EXTERN int xt_client_connect(xt_client *cl);
/* Detail of the last transport error (TLS verify reason, DNS error), or "". */
XT_EXTERN const char *xt_client_errdetail(const xt_client *cl);
/* Hex SHA-256 of the server certificate once TLS is up, else NULL. */
XT_EXTERN const char *xt_client_peer_sha256(const xt_client *cl);

/* External-loop integration. pollfds fills at most max entries and
 * returns how many it needs (call again with more room if larger). */
XT_EXTERN size_t xt_client_pollfds(xt_client *cl, struct pollfd *fds, size_t max);
XT_EXTERN int64_t xt_client_deadline(const xt_client *cl); /* absolute ms, -1 = none */
XT_EXTERN int xt_client_process(xt_client *cl, const struct pollfd *fds, size_t n, uint64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif
