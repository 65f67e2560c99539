/*
 * xtalk/client.h -- the transport: DNS (c-ares), TCP and TLS (OpenSSL over
 * memory BIOs) driving an xt_conn, run by any event loop.
 *
 * Three objects:
 *
 *   xt_ctx     what clients share: the allocator, the TLS contexts (one
 *              per trust setting, reference-counted), the TLS handshake
 *              limiter and the DNS servers to ask (each connection attempt
 *              has its own short-lived c-ares channel, which needs no
 *              sharing). Optional: a client made without one makes and owns
 *              a private context.
 *   xt_client  one XMPP connection: an xt_conn plus its sockets. It does
 *              no waiting of its own. It tells the application what to
 *              wait for through four hooks (below), and the application
 *              calls xt_client_on_fd / xt_client_on_timer when that happens.
 *   xt_loop    the built-in epoll loop (Linux): application fds and timers,
 *              and clients attached with xt_loop_add_client, which it runs
 *              through exactly those public hooks. It is one way to drive a
 *              client, not a requirement: include/xtalk/adapters/libuv.h
 *              is another, and a few dozen lines make one for any loop.
 *
 * Driving a client from your own loop (as hiredis's adapters and curl's
 * CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION):
 *
 *   xt_client_new(NULL, conn_opts, &cl);   // an xt_conn_opts (conn.h)
 *   xt_client_set_hooks(cl, my_watch, my_unwatch, my_timer, my_cleanup, me);
 *   xt_client_connect(cl);
 *   my_watch(me, fd, ev)      -> watch fd for ev (XT_IO_READ|XT_IO_WRITE)
 *   my_unwatch(me, fd)        -> stop watching fd (it is closed next)
 *   my_timer(me, at)          -> call xt_client_on_timer at time `at`
 *   fd ready                  -> xt_client_on_fd(cl, fd, XT_IO_READ..., xt_now_ms())
 *   timer due                 -> xt_client_on_timer(cl, xt_now_ms())
 *
 * All times are xt_now_ms()'s clock: CLOCK_MONOTONIC in milliseconds.
 *
 * Sending. Functions of the client's xt_conn (xt_conn_send_message, ...)
 * never write to a socket: they queue the bytes and return. The client
 * writes them, and re-arms its fd interest and timer, when it next runs:
 * at once when the send happened inside one of this client's own
 * callbacks (xt_conn handlers it runs), else at the next xt_client_on_fd /
 * xt_client_on_timer / xt_client_flush. So after calling into a client's
 * conn from anywhere else (your own fd or timer callback, another
 * client's handler, main()), call xt_client_flush(cl, xt_now_ms()).
 * xt_loop does this for its clients after your fd and timer callbacks
 * (see xt_loop_run_once); other drivers must do it themselves.
 *
 * Threads. No hidden threads and no global state. An xt_ctx and every
 * client using it (and their conns) belong to one thread at a time: the
 * context's reference count, TLS context list and limiter are not
 * locked. An xt_loop and the clients attached to it belong to the thread
 * running the loop. Independent contexts (each with its own clients and
 * loop) may run on different threads at once. Hooks and handlers run on
 * the thread that made the call into the client.
 *
 * Freeing. xt_client_free any time (also from its own handlers: the free
 * then happens when the client returns to you); it calls unwatch for each
 * fd it watches, then cleanup. xt_loop_free detaches the clients still
 * attached (they get no more hooks; free them yourself, before or after).
 * xt_ctx_free drops the caller's reference: the context lives on until
 * its last client is freed, so the three may be freed in any order.
 *
 * Certificates (RFC 6125, RFC 7590): the chain must lead to a trusted root
 * (the system store unless XT_CLIENT_NO_SYSTEM_CA, plus the ca_file), and
 * the certificate must name the JID's domain (DNS-ID; SNI carries the
 * domain). TLS 1.2 is the minimum. With a pin set the pin decides
 * instead: a certificate whose SHA-256 matches is accepted even when its
 * chain is not trusted (that is what pinning a self-signed server means),
 * and one that does not match is refused even when its chain is trusted.
 * Failures end the connection with XT_ECERT and a detail saying why.
 */
#ifndef XTALK_CLIENT_H
#define XTALK_CLIENT_H

#include <poll.h>

#include "common.h"
#include "conn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xt_ctx xt_ctx;
typedef struct xt_loop xt_loop;
typedef struct xt_client xt_client;

/* CLOCK_MONOTONIC in milliseconds: the clock of every time in this header. */
XT_EXTERN uint64_t xt_now_ms(void);

/* --- the context ----------------------------------------------------------- */

/* A context with the allocator mem (copied; NULL = malloc). Returns 0,
 * XT_EINVAL (out NULL) or XT_ENOMEM. The caller holds one reference. */
XT_EXTERN int xt_ctx_new(const xt_mem *mem, xt_ctx **out);
/* Drops the caller's reference; the context is freed once no client uses
 * it either. NULL is a no-op. */
XT_EXTERN void xt_ctx_free(xt_ctx *ctx);
/* At most n TLS handshakes at once among the context's clients (0 = no
 * limit; default 64). The others wait, connected, and get a slot in the
 * order they asked as handshakes end (succeed, fail, or their client is
 * freed). A herd of clients connecting together (a bot farm starting,
 * every session after a server restart) then neither holds a TLS
 * handshake's buffers (~30 KiB each) all at once nor starves the loop,
 * and each handshake ends sooner. Raising n wakes waiting clients at
 * once. XT_EINVAL for a NULL ctx. */
XT_EXTERN int xt_ctx_set_max_handshakes(xt_ctx *ctx, unsigned n);

/* The DNS servers the context's clients ask (SRV and address lookups),
 * instead of /etc/resolv.conf's: a comma-separated list of IPv4 or
 * [IPv6] addresses, each with an optional :port ("192.0.2.53",
 * "127.0.0.1:5353,[::1]:53"). Copied; NULL = the system's again. Applies
 * to connection attempts started afterwards. /etc/hosts is still read
 * first. XT_EINVAL (ctx NULL or a malformed list), XT_ENOMEM, XT_EDNS
 * (the resolver library cannot be set up). */
XT_EXTERN int xt_ctx_set_dns_servers(xt_ctx *ctx, const char *servers);

/* --- the client ------------------------------------------------------------ */

/* Creates a client. ctx NULL: the client makes and owns a private
 * context, with conn's allocator (xt_conn_opts_new's mem). Else it takes
 * a reference on ctx (and uses ctx's allocator for itself). conn
 * configures the xt_conn: xt_conn_new copies it (strings and password
 * too; the conn allocates with conn's allocator), so it may be freed once
 * this returns; its XT_CONN_DIRECT_TLS flag also chooses the transport
 * (XEP-0368 direct TLS). Nothing happens until xt_client_connect. Returns
 * 0; XT_EINVAL (out or conn NULL, or see xt_conn_new), XT_ENOMEM. */
XT_EXTERN int xt_client_new(xt_ctx *ctx, const xt_conn_opts *conn, xt_client **out);
/* Closes its sockets (unwatch hook for each first), calls the cleanup
 * hook, frees the xt_conn and drops its context reference. NULL is a
 * no-op. From one of the client's own handlers the free happens when the
 * client's call (on_fd / on_timer / flush / connect) returns; not from a
 * handler run by your own direct call into its xt_conn. */
XT_EXTERN void xt_client_free(xt_client *cl);
/* The protocol connection, owned by the client (valid until
 * xt_client_free): register handlers and send through it. */
XT_EXTERN xt_conn *xt_client_conn(xt_client *cl);

/*
 * Settings: each is called before xt_client_connect (XT_ESTATE after) and
 * returns 0, XT_EINVAL (cl NULL, or a bad value named below) or
 * XT_ENOMEM. Strings are copied: the caller's may go away after the call.
 */

/* xt_client_set_flags */
enum {
    XT_CLIENT_NO_SYSTEM_CA = 1u << 0, /* trust only the ca_file / pin */
    /* Do not verify the certificate at all. Insecure; for tests only. */
    XT_CLIENT_INSECURE_NO_VERIFY = 1u << 1,
};

/* Connect to host (name or IP literal), skipping SRV; port 0 = 5222 (5223
 * for direct TLS). host NULL (the default) = SRV lookup of the JID's
 * domain: _xmpps-client._tcp (XEP-0368) for direct TLS, else both
 * services (RFC 6120 §3.2.1); no records -> the domain itself (§3.2.2).
 * XT_EINVAL for "". */
XT_EXTERN int xt_client_set_server(xt_client *cl, const char *host, uint16_t port);
/* A PEM file trusted in addition to the system store; NULL = none. The
 * file is opened at xt_client_connect (which then fails with XT_EINVAL
 * and a detail when it cannot be read) and parsed once the first
 * ClientHello has left, while it is on its way (a file without a
 * certificate then ends the connection: XT_EV_DISCONNECTED, XT_EINVAL
 * and the same detail). */
XT_EXTERN int xt_client_set_ca_file(xt_client *cl, const char *path);
/* Hex SHA-256 of the server's leaf certificate (DER), colons allowed
 * (`openssl x509 -fingerprint -sha256` form); NULL = none. See the top.
 * XT_EINVAL for anything but 64 hex digits (with colons or spaces). */
XT_EXTERN int xt_client_set_pin(xt_client *cl, const char *sha256_hex);
/* XT_CLIENT_* flags (replaces the previous value). */
XT_EXTERN int xt_client_set_flags(xt_client *cl, unsigned flags);
/* Per address; also bounds name resolution and the TLS handshake (with
 * the wait for a handshake slot). 0 = 10000 (the default). */
XT_EXTERN int xt_client_set_connect_timeout(xt_client *cl, uint32_t ms);
/* Automatic reconnection, off by default. When on, a disconnection with
 * retry=1 is followed by xt_conn_reset and a new connection (DNS, TCP,
 * TLS, then XEP-0198 resumption when possible) after a delay drawn
 * uniformly from [min, min(max, min * 2^attempt)] (exponential backoff,
 * full jitter; attempt resets once online). XT_EV_DISCONNECTED is still
 * emitted every time, with retry_in_ms set. Never after a clean close,
 * authentication, certificate or policy failure. A see-other-host
 * redirect is followed once (to its host; the TLS name stays the JID's
 * domain). min_ms 0 = 500, max_ms 0 = 60000; max below min is raised to
 * min. With reconnection off or on, one new connection may still follow
 * as part of the login: when a server refused the channel binding xtalk
 * had to guess and ended the stream instead of letting the login retry
 * without it on the same stream (XT_EV_DISCONNECTED with XT_EAUTH,
 * retry=1 and retry_in_ms set; see the README's channel-binding rules). */
XT_EXTERN int xt_client_set_reconnect(xt_client *cl, int on, uint32_t min_ms, uint32_t max_ms);

/*
 * The hooks. xt_client_set_hooks is called once, before xt_client_connect
 * (XT_ESTATE after, or when hooks are set already; XT_EINVAL when watch,
 * unwatch or timer is NULL; cleanup may be NULL). ud is passed to each.
 * They run inside the client's calls (connect, on_fd, on_timer, flush,
 * free) and must not call into the client or its conn; record what they
 * say and act on it from your loop.
 *
 * watch(ud, fd, events): watch fd for events (XT_IO_READ and/or
 *   XT_IO_WRITE), replacing what was asked for fd before. Called on every
 *   change of interest and for each new fd. events 0: nothing is wanted
 *   but errors and hang-ups (a loop that cannot wait for only those may
 *   stop watching fd until the next watch).
 * unwatch(ud, fd): stop watching fd. Always before the fd is closed, so
 *   a later fd with the same number is a new one (watch again).
 * timer(ud, at_ms): call xt_client_on_timer at time at_ms (xt_now_ms
 *   clock; at or before now = as soon as possible), replacing the
 *   previous timer; -1 = no timer. The timer is one-shot: after
 *   xt_client_on_timer the client announces its next one (or -1) again.
 * cleanup(ud): the client is being freed; no hook runs after this.
 *
 * All five NULL removes the hooks, at any time (the driver is going away:
 * xt_loop_free does this); the client is then driven by nobody.
 */
enum {
    XT_IO_READ = 1u << 0,  /* readable / POLLIN */
    XT_IO_WRITE = 1u << 1, /* writable / POLLOUT */
    XT_IO_ERROR = 1u << 2, /* error or hang-up / POLLERR, POLLHUP: for xt_client_on_fd */
};
typedef void (*xt_watch_fn)(void *ud, int fd, unsigned events);
typedef void (*xt_unwatch_fn)(void *ud, int fd);
typedef void (*xt_timer_set_fn)(void *ud, int64_t at_ms);
typedef void (*xt_cleanup_fn)(void *ud);
XT_EXTERN int xt_client_set_hooks(xt_client *cl, xt_watch_fn watch, xt_unwatch_fn unwatch,
                                  xt_timer_set_fn timer, xt_cleanup_fn cleanup, void *ud);

/* Called when the client has fed its conn everything one readiness of
 * the socket brought (every event that caused was delivered) and before
 * it writes what the conn queued meanwhile, including the XEP-0198 <a/>
 * that tells the server which of those stanzas we have handled. An
 * application that keeps what it receives in batches (one store
 * transaction per read burst, output flushed once per burst) ends its
 * batch here, so that no stanza is acknowledged before it is kept: the
 * server would not send it again after a crash. fn may send through the
 * conn (it goes out with the rest) and must not free the client. One per
 * client: a second call replaces the first; fn NULL removes it. Any time;
 * XT_EINVAL for cl NULL. */
typedef void (*xt_input_done_fn)(xt_client *cl, void *ud);
XT_EXTERN int xt_client_set_input_done(xt_client *cl, xt_input_done_fn fn, void *ud);

/* Starts DNS, TCP, TLS and the stream. Progress and failure arrive as
 * xt_conn events (XT_EV_ONLINE, XT_EV_DISCONNECTED with the XT_E* code
 * and the detail as its text). Once per client. The hooks announce the
 * first fds and timer before this returns. A negative return means
 * nothing started and no event follows: XT_EINVAL (cl NULL, or the
 * ca_file unreadable: see xt_client_errdetail), XT_ESTATE (called
 * twice, or no hooks set), XT_EDNS (the resolver cannot be set up),
 * XT_ENOMEM. */
XT_EXTERN int xt_client_connect(xt_client *cl);

/* fd, one the client asked to watch, is ready: events is what happened
 * (XT_IO_READ, XT_IO_WRITE, XT_IO_ERROR). The client reads, writes and
 * runs due timers, handlers run inside, and the hooks announce the new
 * interest before it returns. An fd it does not watch (any more) is
 * ignored. Returns 0, XT_EINVAL (cl NULL) or XT_ESTATE (called from one
 * of its own handlers or hooks). Failures of the connection itself are
 * never returned here: they arrive as XT_EV_DISCONNECTED. */
XT_EXTERN int xt_client_on_fd(xt_client *cl, int fd, unsigned events, uint64_t now_ms);
/* The timer is due: runs what is due at now_ms, writes what is queued,
 * and announces the next timer. Calling it early is harmless. Returns
 * as xt_client_on_fd. */
XT_EXTERN int xt_client_on_timer(xt_client *cl, uint64_t now_ms);
/* After sending through the client's conn from outside its callbacks:
 * writes what the socket takes now and announces the new fd interest
 * and timer. The same as xt_client_on_timer; returns as it does. */
XT_EXTERN int xt_client_flush(xt_client *cl, uint64_t now_ms);

/* Cancels automatic reconnection for good (e.g. the application is
 * shutting down after a disconnection): 1 if a reconnect was pending
 * (the client is now done), 0 if not, XT_EINVAL for NULL. The pending
 * timer is withdrawn through the timer hook. */
XT_EXTERN int xt_client_stop_reconnect(xt_client *cl);
/* Connects again now (a user's "reconnect"): while a reconnection waits
 * for its backoff delay, it starts at once; after a disconnection that
 * was not going to be retried (a conflict, a refused login), a new
 * connection starts as after a retryable one (XEP-0198 resumption when
 * the server still holds the session). Events as for any reconnection.
 * 0 when started, XT_ESTATE while connecting or connected, before
 * xt_client_connect, or from the client's own handlers; XT_EINVAL for
 * NULL. */
XT_EXTERN int xt_client_reconnect_now(xt_client *cl);
/* 1 from xt_client_connect until the connection is over for good
 * (disconnected, sockets closed, no reconnect pending), else 0. */
XT_EXTERN int xt_client_active(const xt_client *cl);
/* Detail of the last transport error (TLS verify reason, DNS error), or
 * "". Owned by the client: valid until its next call that can fail (a
 * const getter such as this one does not count) or xt_client_free. */
XT_EXTERN const char *xt_client_errdetail(const xt_client *cl);
/* Lowercase hex SHA-256 of the server's leaf certificate (64 chars, the
 * pin format) once the server presented it, also when it was then
 * refused (so an application can offer to pin it), else NULL. Valid as
 * xt_client_errdetail's. */
XT_EXTERN const char *xt_client_peer_sha256(const xt_client *cl);

/* --- the built-in loop (epoll) ---------------------------------------------- */

/* A loop with the allocator mem (copied; NULL = malloc). XT_EINVAL (out
 * NULL), XT_ENOMEM, XT_EIO (epoll_create1 failed). */
XT_EXTERN int xt_loop_new(const xt_mem *mem, xt_loop **out);
/* Frees the loop; attached clients are detached (see the top), not
 * freed. Never from a loop callback. NULL is a no-op. */
XT_EXTERN void xt_loop_free(xt_loop *loop);
/* Runs cl through the hooks (xt_client_set_hooks with the loop's own):
 * before xt_client_connect and once per client. XT_EINVAL (NULL),
 * XT_ESTATE (connected or hooks already set), XT_ENOMEM. The client
 * leaves the loop when it is freed. */
XT_EXTERN int xt_loop_add_client(xt_loop *loop, xt_client *cl);
/* Runs until xt_loop_stop() or until nothing is left to wait for: no
 * client with an fd or a timer, no application fd, no timer. Returns 0,
 * XT_EINVAL, XT_ESTATE (re-entered from a callback), XT_EIO (epoll
 * failed), XT_ENOMEM. */
XT_EXTERN int xt_loop_run(xt_loop *loop);
/* One iteration, waiting at most timeout_ms (-1 = until something
 * happens): ready fds, then due timers. Its cost is the number of ready
 * fds and due timers, not the number of clients; except that after an
 * iteration in which your fd or timer callbacks ran, every attached
 * client is flushed (xt_client_flush: they may have sent something).
 * Returns as xt_loop_run. */
XT_EXTERN int xt_loop_run_once(xt_loop *loop, int timeout_ms);
/* Makes xt_loop_run return after the current iteration. Safe from callbacks. */
XT_EXTERN void xt_loop_stop(xt_loop *loop);
/* xt_now_ms(); the loop argument is unused. */
XT_EXTERN uint64_t xt_loop_now(const xt_loop *loop);

/* Application fds: cb is called with the ready events as poll(2) revents
 * (POLLIN, POLLOUT, POLLERR, POLLHUP); events is POLLIN and/or POLLOUT.
 * Returns an id > 0, XT_EINVAL (bad argument, or fd already added),
 * XT_ENOMEM. mod/remove: XT_ENOTFOUND for an unknown id. The loop never
 * closes fds; remove an fd before closing it. */
typedef void (*xt_fd_fn)(xt_loop *loop, int fd, short revents, void *ud);
XT_EXTERN int xt_loop_add_fd(xt_loop *loop, int fd, short events, xt_fd_fn cb, void *ud);
XT_EXTERN int xt_loop_mod_fd(xt_loop *loop, int id, short events);
XT_EXTERN int xt_loop_remove_fd(xt_loop *loop, int id);
/* One-shot timer after delay_ms. Returns an id > 0, XT_EINVAL, XT_ENOMEM.
 * Timers due at the same time run in creation order; one added from a
 * timer callback with delay 0 runs in the next iteration. cancel:
 * XT_ENOTFOUND once it ran. */
typedef void (*xt_timer_fn)(xt_loop *loop, void *ud);
XT_EXTERN int xt_loop_add_timer(xt_loop *loop, uint64_t delay_ms, xt_timer_fn cb, void *ud);
XT_EXTERN int xt_loop_cancel_timer(xt_loop *loop, int id);

/*
 * What a loop callback may do (fd and timer callbacks, and xt_conn
 * handlers run by an attached client): add, modify and remove fds and
 * timers, create clients and add them, free clients (its own included),
 * call any xt_conn function, and stop the loop. It must not free the
 * loop or call xt_loop_run / xt_loop_run_once (XT_ESTATE).
 */

#ifdef __cplusplus
}
#endif
#endif
