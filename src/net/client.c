/*
 * xt_client: drives one xt_conn over DNS -> TCP -> TLS.
 *
 * Phases: RESOLVE (SRV, then the addresses of one target at a time) ->
 * CONNECT (each address in turn, each with connect_timeout_ms) -> TLS
 * (direct TLS, or after XT_EV_STARTTLS) -> STREAM -> LINGER (flush the
 * closing bytes, bounded) -> DONE. Only a failure to connect moves on to
 * the next address or target (RFC 6120 §3.2.1 step 6); once the stream
 * started, a failure ends the connection.
 *
 * DNS callbacks only record results; advance() acts on them after
 * xt_dns_process returns, so no callback ever re-enters the resolver.
 *
 * Driving (client.h): every entry point (connect, on_fd, on_timer,
 * flush, stop_reconnect) ends in sync(), which tells the application
 * through the hooks what changed: the socket's interest, the timer. The
 * socket is unwatched in close_socket() before close(2); c-ares' sockets
 * through the resolver's watch callback, which c-ares calls before it
 * closes one. Nothing here polls: the built-in loop is one user of these
 * hooks among others.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/random.h"
#include "net/ctx.h"
#include "net/dns.h"
#include "net/loop.h"
#include "net/tcp.h"
#include "net/tls.h"

/* P_WAIT: disconnected, reconnecting at phase_deadline (reconnect on). */
enum phase { P_IDLE, P_RESOLVE, P_CONNECT, P_TLS, P_STREAM, P_LINGER, P_DONE, P_WAIT };

#define XT_LINGER_MS 2000u      /* time to flush closing bytes */
#define XT_CLOSE_WAIT_MS 5000u  /* time for the server's </stream:stream> */
#define XT_READ_BUDGET (256u * 1024u) /* per process call: fairness between clients */
/* Quiet this long (nothing received or sent), an online connection gives
 * back what it holds only for traffic (xt_conn_trim): about 10 KiB of
 * parser state, which a later stanza rebuilds in microseconds. */
#define XT_TRIM_IDLE_MS 1000u

/* What the application was last told through the hooks. */
typedef struct client_hooks {
    xt_watch_fn watch;
    xt_unwatch_fn unwatch;
    xt_timer_set_fn timer;
    xt_cleanup_fn cleanup;
    void *ud;
    int fd;             /* our socket as last watched; -1 = not watched */
    unsigned events;    /* its XT_IO_* interest */
    int64_t timer_at;   /* the timer announced (-1 = none) */
    uint8_t timer_known;/* 0: announce the timer whatever it is (one-shot spent) */
} client_hooks;

struct xt_client {
    xt_ctx *ctx;              /* one reference held */
    const xt_mem *mem;
    xt_conn *conn;
    char *host, *ca_file, *pin;
    uint16_t port;
    unsigned flags;
    uint32_t connect_timeout;
    uint8_t direct_tls;       /* the current target's transport */
    uint8_t direct_only;      /* XT_CONN_DIRECT_TLS: never STARTTLS */

    enum phase phase;
    uint64_t phase_deadline;  /* 0 = none */
    uint64_t close_deadline;  /* waiting for the server's stream close */
    uint64_t trim_at;         /* xt_conn_trim when quiet until then; 0 = done */

    /* resolution */
    xt_dns *dns;
    int srv_pending;
    int srv_unavailable;      /* a "." answer (RFC 2782) */
    xt_srv_target *targets;
    size_t ntargets, cap_targets, target_i;
    int addr_done, addr_status;
    xt_addr *addrs;
    size_t naddrs, addr_i;
    int fail_code;            /* last connect failure, reported when all fail */
    int targets_ready;        /* targets list final (SRV done or fallback) */

    /* transport */
    int fd;
    xt_tls_ctx *tls_ctx;
    xt_tls *tls;
    uint8_t tls_up;           /* handshake finished */
    uint8_t tls_shut;         /* close_notify queued */
    uint8_t want_starttls;    /* XT_EV_STARTTLS seen */
    /* Connected and waiting for a handshake slot, and for which kind of
     * TLS: the transport's first bytes (XEP-0368) or after <proceed/>. */
    enum { TLS_NOT_WAITING = 0, TLS_WAIT_DIRECT, TLS_WAIT_STARTTLS } tls_wait;
    xt_slot tslot;            /* our place in the context's handshake limiter */
    uint8_t started;          /* xt_client_connect succeeded */
    uint8_t disconnected;     /* XT_EV_DISCONNECTED seen */
    uint8_t sock_dead;        /* the socket failed: close without flushing */
    uint8_t busy;             /* inside a call that runs handlers */
    uint8_t free_pending;
    int handler;
    xt_log_fn log;
    void *log_ud;
    char *detail;
    char peer_hex[65];

    /* reconnection */
    int reconnect;
    uint32_t backoff_min, backoff_max;
    unsigned attempt;         /* consecutive retries since last online */
    uint8_t retry_pending;    /* the last disconnection will be retried */
    uint8_t login_retry;      /* ... as part of the login, reconnect on or off */
    uint8_t redirected;       /* a see-other-host was followed since online */
    uint32_t retry_delay;
    char *redir_host;         /* see-other-host target for the next connection */
    uint16_t redir_port;

    client_hooks hk;
    xt_input_done_fn input_done; /* xt_client_set_input_done */
    void *input_done_ud;
    uint8_t fed;              /* pump_in fed the conn since input_done last ran */
};

static void sync_hooks(xt_client *cl);

static void set_detail(xt_client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_detail(xt_client *cl, const char *fmt, ...)
{
    char tmp[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    xt_free(cl->mem, cl->detail);
    cl->detail = xt_strdup(cl->mem, tmp);
}

static void logf_(xt_client *cl, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_(xt_client *cl, int level, const char *fmt, ...)
{
    if (!cl->log)
        return;
    char tmp[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    cl->log(cl->log_ud, level, tmp);
}

/* --- lifetime -------------------------------------------------------------- */

static void on_conn_event(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)c;
    xt_client *cl = ud;
    if (ev->type == XT_EV_STARTTLS) {
        cl->want_starttls = 1;
    } else if (ev->type == XT_EV_DISCONNECTED) {
        cl->disconnected = 1;
    } else if (ev->type == XT_EV_ONLINE) {
        cl->attempt = 0;
        cl->redirected = 0;
    }
}

static uint32_t srv_rand(uint32_t bound, void *ud);

/* "host", "host:port", "[v6]:port" (RFC 6120 §4.9.3.19). 0 or -1. */
static int parse_redirect(xt_client *cl, const char *to)
{
    char h[300];
    uint16_t port = cl->direct_only ? 5223 : 5222;
    const char *colon = NULL;
    if (to[0] == '[') {
        const char *e = strchr(to, ']');
        if (!e || (size_t)(e - to - 1) >= sizeof h)
            return -1;
        memcpy(h, to + 1, (size_t)(e - to - 1));
        h[e - to - 1] = 0;
        colon = e[1] == ':' ? e + 1 : NULL;
    } else {
        colon = strrchr(to, ':');
        size_t n = colon ? (size_t)(colon - to) : strlen(to);
        if (n >= sizeof h)
            return -1;
        memcpy(h, to, n);
        h[n] = 0;
    }
    if (colon) {
        char *end;
        unsigned long v = strtoul(colon + 1, &end, 10);
        if (*end || v == 0 || v > 65535)
            return -1;
        port = (uint16_t)v;
    }
    if (!h[0])
        return -1;
    char *dup = xt_strdup(cl->mem, h);
    if (!dup)
        return -1;
    xt_free(cl->mem, cl->redir_host);
    cl->redir_host = dup;
    cl->redir_port = port;
    return 0;
}

/* Called by the xt_conn just before it emits XT_EV_DISCONNECTED: decides
 * whether and when to connect again, so the event can say so. */
static uint32_t plan_retry(void *ud, const xt_disconnected *d)
{
    xt_client *cl = ud;
    cl->retry_pending = cl->login_retry = 0;
    if (!d->retry || cl->free_pending)
        return 0;
    if (d->error == XT_EAUTH) {
        /* The only retryable authentication failure: the server refused
         * the channel binding we had to guess and ended the stream
         * instead of letting the login try again without binding on it
         * (stream_sasl.c). Part of this login, not a reconnection: now,
         * and whether or not reconnecting is on (issue 11). */
        cl->retry_pending = cl->login_retry = 1;
        cl->retry_delay = 1;
        return cl->retry_delay;
    }
    if (!cl->reconnect)
        return 0;
    if (d->error == XT_EREDIRECT) {
        /* Followed once per successful session: a loop of redirects ends. */
        if (cl->redirected || !d->redirect || parse_redirect(cl, d->redirect))
            return 0;
        cl->redirected = 1;
        cl->retry_pending = 1;
        cl->retry_delay = 1;
        return cl->retry_delay;
    }
    /* Exponential backoff with full jitter over [min, min * 2^attempt],
     * bounded by max. */
    uint64_t cap = (uint64_t)cl->backoff_min << (cl->attempt < 20 ? cl->attempt : 20);
    if (cap > cl->backoff_max)
        cap = cl->backoff_max;
    if (cap < cl->backoff_min)
        cap = cl->backoff_min;
    uint32_t span = (uint32_t)(cap - cl->backoff_min);
    cl->retry_delay = cl->backoff_min + (span ? srv_rand(span, NULL) : 0);
    if (cl->retry_delay == 0)
        cl->retry_delay = 1;
    if (cl->attempt < 64)
        cl->attempt++;
    cl->retry_pending = 1;
    return cl->retry_delay;
}

static int active(const xt_client *cl)
{
    return cl->phase != P_IDLE && cl->phase != P_DONE;
}

int xt_client_active(const xt_client *cl)
{
    return cl ? active(cl) : 0;
}

/* A queued handshake slot became ours (from another client's call, or
 * xt_ctx_set_max_handshakes): ask to run now; the ClientHello goes out
 * from our own xt_client_on_timer, never from the caller's stack. */
static void slot_granted(xt_slot *s)
{
    xt_client *cl = (xt_client *)(void *)((char *)s - offsetof(xt_client, tslot));
    cl->hk.timer_known = 0;
    if (!cl->busy)
        sync_hooks(cl);
}

/* Everything client.c needs from the conn options, in one place: the
 * transport choice and the log callback. The conn copies the options and
 * allocates with theirs. */
static int make_conn(xt_client *cl, const xt_conn_opts *conn)
{
    cl->log = xt_conn_opts_get_log(conn, &cl->log_ud);
    cl->direct_tls = (xt_conn_opts_get_flags(conn) & XT_CONN_DIRECT_TLS) != 0;
    cl->direct_only = cl->direct_tls;
    return xt_conn_new(conn, &cl->conn);
}

int xt_client_new(xt_ctx *ctx, const xt_conn_opts *conn, xt_client **out)
{
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    if (!conn)
        return XT_EINVAL;
    int rc;
    if (ctx)
        xt_ctx_ref(ctx);
    else if ((rc = xt_ctx_new(xt_conn_opts_get_mem(conn), &ctx)) < 0)
        return rc; /* a private context: ours is its only reference */
    const xt_mem *mem = xt_ctx_mem(ctx);
    xt_client *cl = xt_calloc(mem, 1, sizeof *cl);
    if (!cl) {
        xt_ctx_free(ctx);
        return XT_ENOMEM;
    }
    cl->ctx = ctx;
    cl->mem = mem;
    cl->fd = -1;
    cl->hk.fd = -1;
    cl->hk.timer_at = -1;
    cl->hk.timer_known = 1;
    cl->tslot.granted = slot_granted;
    cl->connect_timeout = 10000;
    cl->backoff_min = 500;
    cl->backoff_max = 60000;
    if ((rc = make_conn(cl, conn)) < 0)
        goto fail;
    cl->port = cl->direct_tls ? 5223 : 5222;
    /* Ours first, so the transport state is updated before the
     * application's handlers see the event. */
    rc = xt_conn_on(cl->conn, XT_EV_STARTTLS | XT_EV_DISCONNECTED | XT_EV_ONLINE, on_conn_event,
                    cl);
    if (rc < 0)
        goto fail;
    cl->handler = rc;
    xt_conn_set_retry_planner(cl->conn, plan_retry, cl);
    *out = cl;
    return 0;
fail:
    xt_conn_free(cl->conn);
    xt_free(mem, cl);
    xt_ctx_free(ctx);
    return rc;
}

/* --- settings --------------------------------------------------------------- */

static int settable(const xt_client *cl)
{
    return !cl ? XT_EINVAL : cl->started ? XT_ESTATE : 0;
}

/* Replaces *slot with a copy of v (NULL clears). */
static int set_str(xt_client *cl, char **slot, const char *v, int secret)
{
    char *dup = NULL;
    if (v && !(dup = xt_strdup(cl->mem, v)))
        return XT_ENOMEM;
    if (secret)
        xt_free_secret(cl->mem, *slot);
    else
        xt_free(cl->mem, *slot);
    *slot = dup;
    return 0;
}

int xt_client_set_server(xt_client *cl, const char *host, uint16_t port)
{
    int rc = settable(cl);
    if (rc < 0)
        return rc;
    if (host && !*host)
        return XT_EINVAL;
    if ((rc = set_str(cl, &cl->host, host, 0)) < 0)
        return rc;
    cl->port = port ? port : (cl->direct_only ? 5223 : 5222);
    return 0;
}

int xt_client_set_ca_file(xt_client *cl, const char *path)
{
    int rc = settable(cl);
    return rc < 0 ? rc : set_str(cl, &cl->ca_file, path, 0);
}

int xt_client_set_pin(xt_client *cl, const char *sha256_hex)
{
    int rc = settable(cl);
    if (rc < 0)
        return rc;
    if (sha256_hex && xt_tls_pin_check(sha256_hex) < 0)
        return XT_EINVAL;
    return set_str(cl, &cl->pin, sha256_hex, 1);
}

int xt_client_set_flags(xt_client *cl, unsigned flags)
{
    int rc = settable(cl);
    if (rc < 0)
        return rc;
    cl->flags = flags;
    return 0;
}

int xt_client_set_connect_timeout(xt_client *cl, uint32_t ms)
{
    int rc = settable(cl);
    if (rc < 0)
        return rc;
    cl->connect_timeout = ms ? ms : 10000;
    return 0;
}

int xt_client_set_reconnect(xt_client *cl, int on, uint32_t min_ms, uint32_t max_ms)
{
    int rc = settable(cl);
    if (rc < 0)
        return rc;
    cl->reconnect = on != 0;
    cl->backoff_min = min_ms ? min_ms : 500;
    cl->backoff_max = max_ms ? max_ms : 60000;
    if (cl->backoff_max < cl->backoff_min)
        cl->backoff_max = cl->backoff_min;
    return 0;
}

int xt_client_set_input_done(xt_client *cl, xt_input_done_fn fn, void *ud)
{
    if (!cl)
        return XT_EINVAL;
    cl->input_done = fn;
    cl->input_done_ud = ud;
    return 0;
}

int xt_client_set_hooks(xt_client *cl, xt_watch_fn watch, xt_unwatch_fn unwatch,
                        xt_timer_set_fn timer, xt_cleanup_fn cleanup, void *ud)
{
    if (cl && !watch && !unwatch && !timer && !cleanup) {
        /* Removal, at any time: the driver is going away (xt_loop_free). */
        cl->hk = (client_hooks){.fd = -1, .timer_at = -1, .timer_known = 1};
        return 0;
    }
    int rc = settable(cl);
    if (rc < 0)
        return rc;
    if (!watch || !unwatch || !timer)
        return XT_EINVAL;
    if (cl->hk.watch)
        return XT_ESTATE;
    cl->hk.watch = watch;
    cl->hk.unwatch = unwatch;
    cl->hk.timer = timer;
    cl->hk.cleanup = cleanup;
    cl->hk.ud = ud;
    return 0;
}

static void free_targets(xt_client *cl)
{
    for (size_t i = 0; i < cl->ntargets; i++)
        xt_free(cl->mem, cl->targets[i].host);
    xt_free(cl->mem, cl->targets);
    cl->targets = NULL;
    cl->ntargets = cl->cap_targets = 0;
    xt_free(cl->mem, cl->addrs);
    cl->addrs = NULL;
    cl->naddrs = 0;
}

static void close_socket(xt_client *cl)
{
    if (cl->fd >= 0) {
        /* Before close(2): once closed, the number may come back at once
         * (our next address's socket, c-ares, the application). */
        if (cl->hk.fd == cl->fd && cl->hk.unwatch)
            cl->hk.unwatch(cl->hk.ud, cl->fd);
        cl->hk.fd = -1;
        close(cl->fd);
    }
    cl->fd = -1;
}

/* The resolver's sockets, as c-ares opens, changes and closes them. */
static void dns_watch(void *ud, int fd, unsigned events)
{
    xt_client *cl = ud;
    if (!cl->hk.watch)
        return;
    if (events)
        cl->hk.watch(cl->hk.ud, fd, (events & 1u ? XT_IO_READ : 0u) | (events & 2u ? XT_IO_WRITE : 0u));
    else
        cl->hk.unwatch(cl->hk.ud, fd);
}

static void release_transport(xt_client *cl)
{
    cl->tls_wait = TLS_NOT_WAITING;
    /* Every end of a handshake passes here (failure, free, reconnect):
     * the slot, held or queued, goes back. */
    xt_ctx_slot_release(cl->ctx, &cl->tslot);
    close_socket(cl);
    xt_tls_free(cl->tls);
    cl->tls = NULL;
    xt_ctx_tls_release(cl->ctx, cl->tls_ctx);
    cl->tls_ctx = NULL;
    xt_dns_free(cl->dns);
    cl->dns = NULL;
    free_targets(cl);
}

static void really_free(xt_client *cl)
{
    release_transport(cl); /* unwatches every fd before closing it */
    if (cl->hk.cleanup)
        cl->hk.cleanup(cl->hk.ud);
    xt_conn_free(cl->conn);
    xt_free(cl->mem, cl->host);
    xt_free(cl->mem, cl->ca_file);
    xt_free_secret(cl->mem, cl->pin);
    xt_free(cl->mem, cl->detail);
    xt_free(cl->mem, cl->redir_host);
    xt_ctx *ctx = cl->ctx;
    xt_free(cl->mem, cl);
    xt_ctx_free(ctx); /* last: the allocator may be the context's */
}

void xt_client_free(xt_client *cl)
{
    if (!cl)
        return;
    if (cl->busy) {
        cl->free_pending = 1; /* from one of its own handlers: after it returns */
        return;
    }
    really_free(cl);
}

xt_conn *xt_client_conn(xt_client *cl)
{
    return cl ? cl->conn : NULL;
}

const char *xt_client_errdetail(const xt_client *cl)
{
    return cl && cl->detail ? cl->detail : "";
}

const char *xt_client_peer_sha256(const xt_client *cl)
{
    return cl && cl->peer_hex[0] ? cl->peer_hex : NULL;
}

/* --- failure and closing --------------------------------------------------- */

/* The transport failed: tell the xt_conn (it emits XT_EV_DISCONNECTED
 * with code and detail) and drop the socket. */
static void fail(xt_client *cl, int code, const char *detail, uint64_t now)
{
    if (detail && detail != cl->detail)
        set_detail(cl, "%s", detail);
    cl->sock_dead = 1;
    cl->disconnected = 1;
    (void)xt_conn_eof(cl->conn, code, detail, now);
    release_transport(cl);
    cl->phase = P_DONE;
}

/* --- resolution ------------------------------------------------------------ */

/* A "." answer (RFC 2782) ends the search only for the service we would
 * otherwise fall back to: _xmpps-client saying "." while STARTTLS is
 * allowed only means "no direct TLS here" (XEP-0368 §3). */
static void srv_result(xt_client *cl, int status, xt_srv_target *t, size_t n, int final_service)
{
    cl->srv_pending--;
    if (status == XT_EUNSUPPORTED && final_service)
        cl->srv_unavailable = 1;
    if (status < 0 || !n)
        return;
    if (cl->ntargets + n > cl->cap_targets) {
        size_t cap = cl->ntargets + n;
        xt_srv_target *nt = xt_realloc(cl->mem, cl->targets, cap * sizeof *nt);
        if (!nt)
            return; /* treated as no records: the fallback still works */
        cl->targets = nt;
        cl->cap_targets = cap;
    }
    for (size_t i = 0; i < n; i++) {
        cl->targets[cl->ntargets++] = t[i];
        t[i].host = NULL; /* taken */
    }
}

static void srv_cb(void *ud, int status, xt_srv_target *t, size_t n, const char *why)
{
    (void)why;
    srv_result(ud, status, t, n, 1);
}

/* The _xmpps-client answer when STARTTLS targets are wanted too. */
static void srv_direct_cb(void *ud, int status, xt_srv_target *t, size_t n, const char *why)
{
    (void)why;
    srv_result(ud, status, t, n, 0);
}

static void addr_cb(void *ud, int status, const xt_addr *a, size_t n, const char *why)
{
    xt_client *cl = ud;
    cl->addr_done = 1;
    cl->addr_status = status;
    xt_free(cl->mem, cl->addrs);
    cl->addrs = NULL;
    cl->naddrs = cl->addr_i = 0;
    if (status < 0) {
        set_detail(cl, "cannot resolve %s: %s", cl->targets[cl->target_i].host, why);
        return;
    }
    if (!(cl->addrs = xt_calloc(cl->mem, n, sizeof *a))) {
        cl->addr_status = XT_ENOMEM;
        set_detail(cl, "out of memory");
        return;
    }
    memcpy(cl->addrs, a, n * sizeof *a);
    cl->naddrs = n;
}

/* RFC 2782's weighted pick. The system's generator (base/random.h):
 * thread-safe, no hidden static state shared between loops in different
 * threads, and no OpenSSL set-up before the first byte is sent. */
static uint32_t srv_rand(uint32_t bound, void *ud)
{
    (void)ud;
    uint32_t r = 0;
    if (xt_random_bytes(NULL, NULL, &r, sizeof r) != 0)
        r = (uint32_t)xt_clock_ms();
    return bound == UINT32_MAX ? r : r % (bound + 1);
}

static int add_target(xt_client *cl, const char *host, uint16_t port, int direct)
{
    if (XT_GROW(cl->mem, cl->targets, cl->cap_targets, cl->ntargets + 1, 2))
        return XT_ENOMEM;
    char *h = xt_strdup(cl->mem, host);
    if (!h)
        return XT_ENOMEM;
    cl->targets[cl->ntargets++] = (xt_srv_target){.host = h, .port = port, .direct_tls = (uint8_t)direct};
    return 0;
}

/* xt_dns_addrs could not start: no memory, or no resolver (the c-ares
 * channel is made on the first lookup that needs one). */
static void start_addr_failed(xt_client *cl, int rc, uint64_t now)
{
    fail(cl, rc == XT_ENOMEM ? XT_ENOMEM : XT_EDNS,
         rc == XT_ENOMEM ? "out of memory" : "cannot set up the resolver", now);
}

static int start_addr(xt_client *cl)
{
    cl->addr_done = 0;
    xt_srv_target *t = &cl->targets[cl->target_i];
    cl->direct_tls = t->direct_tls; /* XEP-0368: each target its transport */
    return xt_dns_addrs(cl->dns, t->host, t->port, addr_cb, cl);
}

static void start_connect(xt_client *cl, uint64_t now);
static void prepare_tls(xt_client *cl, uint64_t now);

/* Moves through the phases that wait on resolver results. */
static void advance(xt_client *cl, uint64_t now)
{
    if (cl->phase != P_RESOLVE || cl->srv_pending > 0)
        return;
    if (!cl->targets_ready) {
        cl->targets_ready = 1;
        if (cl->ntargets == 0) {
            const char *domain = xt_conn_domain(cl->conn);
            if (cl->srv_unavailable) {
                char d[300];
                snprintf(d, sizeof d, "%s does not offer XMPP %s (its SRV record's target is \".\")",
                         domain, cl->direct_tls ? "over direct TLS" : "client service");
                fail(cl, XT_EDNS, d, now);
                return;
            }
            /* RFC 6120 §3.2.2: no SRV records, fall back to the domain. */
            if (add_target(cl, domain, cl->port, cl->direct_tls) < 0) {
                fail(cl, XT_ENOMEM, "out of memory", now);
                return;
            }
            logf_(cl, XT_LOG_DEBUG, "no SRV records, trying %s:%u", domain, cl->port);
        } else if (!cl->host) {
            xt_srv_order(cl->targets, cl->ntargets, srv_rand, NULL);
        }
        cl->target_i = 0;
        int rc = start_addr(cl);
        if (rc < 0) {
            start_addr_failed(cl, rc, now);
            return;
        }
    }
    while (cl->phase == P_RESOLVE && cl->addr_done) {
        if (cl->addr_status == 0) {
            cl->addr_i = 0;
            start_connect(cl, now);
            return;
        }
        if (cl->addr_status == XT_ENOMEM) {
            fail(cl, XT_ENOMEM, cl->detail, now);
            return;
        }
        if (++cl->target_i >= cl->ntargets) {
            /* No such name is an answer: retrying asks the same question
             * (XT_ENONAME is not retryable); the rest may pass. */
            fail(cl,
                 cl->addr_status == XT_ETIMEOUT    ? XT_ETIMEOUT
                 : cl->addr_status == XT_ENOTFOUND ? XT_ENONAME
                                                   : XT_EDNS,
                 cl->detail, now);
            return;
        }
        int rc = start_addr(cl);
        if (rc < 0) {
            start_addr_failed(cl, rc, now);
            return;
        }
    }
}

/* --- connecting ------------------------------------------------------------ */

static void begin_tls(xt_client *cl, uint64_t now, int direct);
static void step_tls(xt_client *cl, uint64_t now);
static void start_tls(xt_client *cl, uint64_t now, int direct);
static void flush(xt_client *cl, uint64_t now);

/* The next address, then the next target; fails when none is left. */
static void next_address(xt_client *cl, uint64_t now)
{
    close_socket(cl);
    cl->addr_i++;
    if (cl->addr_i < cl->naddrs) {
        start_connect(cl, now);
        return;
    }
    if (cl->target_i + 1 < cl->ntargets) {
        cl->target_i++;
        cl->phase = P_RESOLVE;
        int rc = start_addr(cl);
        if (rc < 0)
            start_addr_failed(cl, rc, now);
        else
            advance(cl, now);
        return;
    }
    fail(cl, cl->fail_code ? cl->fail_code : XT_ECONNECT, cl->detail, now);
}

static void start_connect(xt_client *cl, uint64_t now)
{
    const xt_addr *a = &cl->addrs[cl->addr_i];
    char d[256], as[80];
    int rc = xt_tcp_connect((const struct sockaddr *)&a->ss, a->len, &cl->fd, d, sizeof d);
    if (rc < 0) {
        set_detail(cl, "%s", d);
        cl->fail_code = rc == XT_ENOMEM ? XT_ENOMEM : XT_ECONNECT;
        next_address(cl, now);
        return;
    }
    xt_tcp_addr_str((const struct sockaddr *)&a->ss, as, sizeof as);
    logf_(cl, XT_LOG_INFO, "connecting to %s", as);
    cl->phase = P_CONNECT;
    cl->phase_deadline = now + cl->connect_timeout;
    /* Direct TLS: the ClientHello is the first byte, and its context is
     * made while the TCP handshake is under way. */
    if (cl->direct_tls)
        prepare_tls(cl, now);
}

static void connected(xt_client *cl, uint64_t now)
{
    /* The resolver is done for good: free it now (never from its callback:
     * we get here from socket readiness or from advance()). */
    xt_dns_free(cl->dns);
    cl->dns = NULL;
    free_targets(cl);
    cl->phase_deadline = 0;
    int rc = xt_conn_set_direct_tls(cl->conn, cl->direct_tls);
    if (rc == 0)
        rc = xt_conn_start(cl->conn, now);
    if (rc < 0) {
        fail(cl, rc, xt_conn_errdetail(cl->conn), now);
        return;
    }
    if (cl->direct_tls) {
        start_tls(cl, now, 1);
    } else {
        cl->phase = P_STREAM;
        flush(cl, now);
        /* STARTTLS: the stream header (and <starttls/> with a hint) are
         * out; the TLS context is made while they travel. */
        if (cl->phase == P_STREAM)
            prepare_tls(cl, now);
    }
}

/* --- TLS ------------------------------------------------------------------- */

/* The OpenSSL part of the shared TLS context (SSL_CTX_new, and as the
 * process's first use of OpenSSL its provider and random generator
 * set-up: 10.6 M instructions, a few ms), made once the first bytes are
 * under way, not in begin(): nothing before the first byte needs it
 * (issue 14). begin() took the context (settings only, the CA file
 * opened), so a file that cannot be read still fails xt_client_connect;
 * this can only run out of memory, which ends the connection as begin()
 * did: XT_ENOMEM, "out of memory". A no-op once made (for every client
 * sharing the context). */
static void prepare_tls(xt_client *cl, uint64_t now)
{
    if (cl->tls_ctx && xt_tls_ctx_prepare(cl->tls_ctx) < 0)
        fail(cl, XT_ENOMEM, "out of memory", now);
}

static void begin_tls(xt_client *cl, uint64_t now, int direct)
{
    xt_tls_opts o = {
        .host = xt_conn_domain(cl->conn),
        .pin_sha256 = cl->pin,
        .alpn_xmpp = direct,
        .no_verify = (cl->flags & XT_CLIENT_INSECURE_NO_VERIFY) != 0,
    };
    int rc = xt_tls_new(cl->tls_ctx, cl->mem, &o, &cl->tls);
    if (rc < 0) {
        fail(cl, rc == XT_ENOMEM ? XT_ENOMEM : XT_ETLS,
             rc == XT_EINVAL ? "invalid pin (expected 64 hex digits of SHA-256)" : "cannot set up TLS", now);
        return;
    }
    cl->phase = P_TLS;
    cl->phase_deadline = now + cl->connect_timeout;
}

/* The ClientHello, once the loop has a handshake slot; until then the
 * client waits connected (nothing to send: the server waits for us). */
static void start_tls(xt_client *cl, uint64_t now, int direct)
{
    if (!xt_ctx_slot_take(cl->ctx, &cl->tslot)) {
        if (!cl->tls_wait)
            logf_(cl, XT_LOG_DEBUG, "waiting for a TLS handshake slot");
        /* slot_granted wakes us when one is ours: no polling. */
        cl->tls_wait = direct ? TLS_WAIT_DIRECT : TLS_WAIT_STARTTLS;
        cl->phase = P_TLS;
        if (!cl->phase_deadline)
            cl->phase_deadline = now + cl->connect_timeout;
        return;
    }
    cl->tls_wait = TLS_NOT_WAITING;
    begin_tls(cl, now, direct);
    if (cl->phase != P_TLS)
        return;
    step_tls(cl, now); /* the ClientHello */
    if (cl->phase != P_DONE)
        flush(cl, now);
    /* The trust store only now (the CA file parsed: ~2.5 M instructions,
     * a millisecond or more before the first byte otherwise): no
     * certificate can come before the hello just written is answered, so
     * this runs while it is on its way (issue 14). */
    if (cl->phase == P_TLS && cl->tls && !cl->tls_up) {
        char e[512];
        int rc = xt_tls_ctx_load_trust(cl->tls_ctx, e, sizeof e);
        if (rc < 0)
            fail(cl, rc, e, now);
    }
}

static void note_peer(xt_client *cl)
{
    const uint8_t *fp = cl->tls ? xt_tls_peer_sha256(cl->tls) : NULL;
    if (fp)
        xt_tls_hex(fp, 32, cl->peer_hex);
}

/* Runs the handshake as far as the bytes allow. */
static void step_tls(xt_client *cl, uint64_t now)
{
    int rc = xt_tls_handshake(cl->tls);
    note_peer(cl);
    if (rc == 1)
        return;
    if (rc < 0) {
        /* Send our alert / close_notify if the socket takes it. */
        const uint8_t *p;
        size_t n = xt_tls_out_peek(cl->tls, &p), w = 0;
        if (n)
            (void)xt_tcp_write(cl->fd, p, n, &w, NULL, 0);
        fail(cl, rc, xt_tls_detail(cl->tls), now);
        return;
    }
    cl->tls_up = 1;
    xt_ctx_slot_release(cl->ctx, &cl->tslot); /* the next waiter's turn */
    cl->phase = P_STREAM;
    cl->phase_deadline = 0;
    xt_tls_info info;
    xt_tls_get_info(cl->tls, &info);
    logf_(cl, XT_LOG_INFO, "TLS %s established", info.tls13 ? "1.3" : "1.2");
    rc = xt_conn_tls_ready(cl->conn, &info, now);
    if (rc < 0 && !cl->disconnected)
        fail(cl, rc, xt_conn_errdetail(cl->conn), now);
}

/* --- the byte pump --------------------------------------------------------- */

/* Writes what the socket takes: TLS records first, then xt_conn's queue. */
static void flush(xt_client *cl, uint64_t now)
{
    char d[256];
    if (cl->tls_wait)
        return; /* only a ClientHello may come next */
    while (cl->fd >= 0) {
        size_t progress = 0;
        if (cl->tls) {
            const uint8_t *p;
            size_t n;
            while ((n = xt_tls_out_peek(cl->tls, &p)) > 0) {
                size_t w = 0;
                if (xt_tcp_write(cl->fd, p, n, &w, d, sizeof d) < 0) {
                    fail(cl, XT_EIO, d, now);
                    return;
                }
                xt_tls_out_consume(cl->tls, w);
                progress += w;
                if (w)
                    cl->trim_at = now + XT_TRIM_IDLE_MS;
                if (w < n)
                    return; /* socket full: POLLOUT */
            }
            if (!cl->tls_up)
                return; /* handshake bytes only */
        }
        const uint8_t *p;
        size_t n = xt_conn_pending(cl->conn, &p), w = 0;
        if (!n)
            return;
        if (cl->tls) {
            int rc = xt_tls_write(cl->tls, p, n, &w);
            if (rc < 0) {
                fail(cl, rc, xt_tls_detail(cl->tls), now);
                return;
            }
        } else if (xt_tcp_write(cl->fd, p, n, &w, d, sizeof d) < 0) {
            fail(cl, XT_EIO, d, now);
            return;
        }
        xt_conn_consume(cl->conn, w);
        progress += w;
        if (w)
            cl->trim_at = now + XT_TRIM_IDLE_MS;
        if (!progress)
            return;
        if (!cl->tls && w < n)
            return;
    }
}

/* EOF from the server: clean if we were closing, else an error the
 * application should hear about. */
static void peer_closed(xt_client *cl, uint64_t now)
{
    cl->sock_dead = 1;
    xt_conn_state st = xt_conn_get_state(cl->conn);
    if (st == XT_STATE_CLOSING || st == XT_STATE_CLOSED) {
        if (!cl->disconnected)
            (void)xt_conn_eof(cl->conn, 0, NULL, now);
        cl->disconnected = 1;
        return;
    }
    fail(cl, XT_ECLOSED, "the server closed the connection", now);
}

/* Socket -> (TLS) -> xt_conn. */
static void pump_in(xt_client *cl, uint64_t now)
{
    uint8_t buf[16384];
    char d[256];
    size_t budget = XT_READ_BUDGET;
    while (cl->fd >= 0 && budget && !cl->disconnected) {
        size_t got = 0;
        int rc;
        if (cl->tls) {
            uint8_t *room;
            size_t cap = xt_tls_in_space(cl->tls, &room);
            rc = cap ? xt_tcp_read(cl->fd, room, cap, &got, d, sizeof d) : 0;
            xt_tls_in_commit(cl->tls, got); /* 0 too: releases an empty buffer */
        } else {
            rc = xt_tcp_read(cl->fd, buf, sizeof buf, &got, d, sizeof d);
        }
        int eof = rc == XT_ECLOSED;
        if (rc < 0 && !eof) {
            fail(cl, XT_EIO, d, now);
            return;
        }
        budget -= got < budget ? got : budget;
        if (got)
            cl->trim_at = now + XT_TRIM_IDLE_MS;
        /* While logging in, ACK at once. A receiver may delay its ACK
         * (RFC 1122 §4.2.3.2; Linux: 40 ms once the connection looks
         * interactive), and a server with Nagle's algorithm on (Prosody's
         * default) holds its next small write until the last one is
         * ACKed: every login exchange it answers in two writes (the TLS
         * 1.3 session tickets, then the stream features and the SASL
         * challenge) stalled 40 ms, a third of `xtalk send` on loopback
         * (issue 14). Only until online: an idle session must not change
         * what the server's traffic costs it. */
        if (got && xt_conn_get_state(cl->conn) != XT_STATE_ONLINE)
            xt_tcp_quickack(cl->fd);

        if (cl->tls && !cl->tls_up) {
            step_tls(cl, now);
            if (cl->phase == P_DONE)
                return;
            flush(cl, now);
        }
        if (cl->tls && cl->tls_up) {
            for (;;) {
                size_t pt = 0;
                int r = xt_tls_read(cl->tls, buf, sizeof buf, &pt);
                if (r == XT_ECLOSED) {
                    peer_closed(cl, now);
                    return;
                }
                if (r < 0) {
                    fail(cl, r == XT_ENOMEM ? XT_ENOMEM : XT_ETLS, xt_tls_detail(cl->tls), now);
                    return;
                }
                if (!pt)
                    break;
                cl->fed = 1;
                if (xt_conn_feed(cl->conn, buf, pt, now) < 0 || cl->disconnected)
                    return;
            }
        } else if (!cl->tls && got) {
            cl->fed = 1;
            if (xt_conn_feed(cl->conn, buf, got, now) < 0 || cl->disconnected)
                return;
            if (cl->want_starttls) {
                /* RFC 6120 §5.4.3.3: after <proceed/> the next bytes are the
                 * TLS handshake; nothing else may be in this buffer. */
                cl->want_starttls = 0;
                start_tls(cl, now, 0);
                if (cl->phase == P_DONE || cl->tls_wait)
                    return;
                continue;
            }
        }
        if (eof) {
            if (cl->tls && !cl->tls_up)
                fail(cl, XT_ETLS, "the server closed the connection during the TLS handshake", now);
            else
                peer_closed(cl, now);
            return;
        }
        if (!got)
            return; /* EAGAIN */
    }
}

/* --- the driver interface -------------------------------------------------- */

static int begin(xt_client *cl);

int xt_client_connect(xt_client *cl)
{
    if (!cl)
        return XT_EINVAL;
    if (cl->started || !cl->hk.watch)
        return XT_ESTATE; /* twice, or nobody would drive it */
    cl->busy = 1;
    int rc = begin(cl);
    if (rc == 0)
        cl->started = 1;
    cl->busy = 0;
    if (cl->free_pending) {
        really_free(cl);
        return rc;
    }
    sync_hooks(cl);
    return rc;
}

int xt_client_stop_reconnect(xt_client *cl)
{
    if (!cl)
        return XT_EINVAL;
    cl->reconnect = 0;
    int waiting = cl->phase == P_WAIT || cl->retry_pending;
    cl->retry_pending = cl->login_retry = 0;
    if (cl->phase == P_WAIT) {
        cl->phase = P_DONE;
        cl->phase_deadline = 0;
    }
    if (!cl->busy)
        sync_hooks(cl); /* withdraws the reconnect timer */
    return waiting;
}

static void reconnect_now(xt_client *cl);

int xt_client_reconnect_now(xt_client *cl)
{
    if (!cl)
        return XT_EINVAL;
    if (cl->busy || !cl->started || cl->free_pending ||
        (cl->phase != P_WAIT && cl->phase != P_DONE))
        return XT_ESTATE;
    /* P_DONE also covers a stop_reconnect'ed wait: the user asks anyway. */
    cl->busy = 1;
    reconnect_now(cl);
    cl->busy = 0;
    sync_hooks(cl); /* the old wait's timer goes, the new sockets come */
    return 0;
}

/* A new connection after a retryable disconnection: the xt_conn goes back
 * to NEW (keeping its XEP-0198 state) and everything below it starts over:
 * DNS, TCP, TLS. */
static void reconnect_now(xt_client *cl)
{
    cl->retry_pending = cl->login_retry = 0;
    release_transport(cl);
    cl->disconnected = cl->sock_dead = cl->tls_up = cl->tls_shut = cl->want_starttls = 0;
    cl->srv_pending = cl->srv_unavailable = cl->targets_ready = 0;
    cl->addr_done = cl->addr_status = cl->fail_code = 0;
    cl->target_i = cl->addr_i = 0;
    cl->close_deadline = cl->phase_deadline = cl->trim_at = 0;
    cl->direct_tls = cl->direct_only;
    cl->peer_hex[0] = 0;
    cl->phase = P_IDLE;
    int rc = xt_conn_reset(cl->conn);
    if (rc < 0) {
        /* The conn stays closed: its disconnection was reported already. */
        logf_(cl, XT_LOG_ERROR, "cannot reconnect: %s", xt_strerror(rc));
        release_transport(cl);
        cl->phase = P_DONE;
        return;
    }
    rc = begin(cl);
    if (rc < 0) {
        /* The conn is new again: the application hears of this attempt's
         * end (a disconnection, not retried), or it would wait for an
         * attempt that never runs. */
        logf_(cl, XT_LOG_ERROR, "cannot reconnect: %s", xt_strerror(rc));
        fail(cl, rc, cl->detail && *cl->detail ? cl->detail : xt_strerror(rc), xt_clock_ms());
    }
}

static int begin(xt_client *cl)
{
    char err[300];
    /* The shared context's settings only (the CA file opened, to refuse
     * an unreadable one here); its OpenSSL part comes once the first
     * bytes are under way (prepare_tls). */
    int rc = xt_ctx_tls(cl->ctx, cl->ca_file, (cl->flags & XT_CLIENT_NO_SYSTEM_CA) != 0,
                             &cl->tls_ctx, err, sizeof err);
    if (rc < 0) {
        set_detail(cl, "%s", rc == XT_ENOMEM ? "out of memory" : err);
        return rc;
    }
    uint32_t dns_timeout = cl->connect_timeout / 4;
    dns_timeout = dns_timeout < 500 ? 500 : dns_timeout > 3000 ? 3000 : dns_timeout;
    if ((rc = xt_dns_new(cl->mem, dns_timeout, &cl->dns)) < 0) {
        set_detail(cl, "cannot set up the resolver");
        release_transport(cl);
        return rc;
    }
    xt_dns_set_watch(cl->dns, dns_watch, cl);
    if (xt_ctx_dns_servers(cl->ctx) && (rc = xt_dns_set_servers(cl->dns, xt_ctx_dns_servers(cl->ctx))) < 0) {
        set_detail(cl, "out of memory");
        release_transport(cl);
        return rc;
    }
    uint64_t now = xt_clock_ms();
    cl->phase = P_RESOLVE;
    /* Resolution as a whole gets the connect timeout. */
    cl->phase_deadline = now + cl->connect_timeout;
    if (cl->redir_host) {
        /* see-other-host, once: that host; the TLS name stays the JID's
         * domain (begin_tls), so a redirect cannot change whom we trust. */
        logf_(cl, XT_LOG_INFO, "following the redirect to %s:%u", cl->redir_host, cl->redir_port);
        rc = add_target(cl, cl->redir_host, cl->redir_port, cl->direct_tls);
        xt_free(cl->mem, cl->redir_host);
        cl->redir_host = NULL;
    } else if (cl->host) {
        rc = add_target(cl, cl->host, cl->port, cl->direct_tls);
    } else {
        /* RFC 6120 §3.2.1 and XEP-0368 §3: both services, merged by
         * priority and weight, each target keeping its transport; only
         * _xmpps-client when direct TLS is all we may use. */
        char name[600];
        const char *domain = xt_conn_domain(cl->conn);
        snprintf(name, sizeof name, "_xmpps-client._tcp.%s", domain);
        cl->srv_pending = 1;
        rc = xt_dns_srv(cl->dns, name, 1, cl->direct_only ? srv_cb : srv_direct_cb, cl);
        if (rc < 0) {
            cl->srv_pending = 0;
        } else if (!cl->direct_only) {
            snprintf(name, sizeof name, "_xmpp-client._tcp.%s", domain);
            cl->srv_pending++;
            rc = xt_dns_srv(cl->dns, name, 0, srv_cb, cl);
            if (rc < 0) {
                cl->srv_pending--; /* the direct-TLS query still runs */
                rc = 0;
            }
        }
    }
    if (rc < 0) {
        set_detail(cl, "%s", rc == XT_ENOMEM ? "out of memory" : "cannot set up the resolver");
        release_transport(cl);
        cl->phase = P_IDLE;
        return rc;
    }
    /* c-ares may have answered already (IP literals, /etc/hosts). */
    advance(cl, now);
    return 0;
}

/* The socket's interest: the XT_IO_* events we wait for. */
static unsigned want_events(const xt_client *cl)
{
    const uint8_t *p;
    if (cl->tls_wait)
        return 0; /* waiting for a handshake slot: only errors and hang-ups */
    if (cl->phase == P_CONNECT || cl->phase == P_LINGER)
        return XT_IO_WRITE; /* lingering: only flushing; a hang-up still arrives */
    if ((cl->tls && xt_tls_out_pending(cl->tls)) ||
        ((!cl->tls || cl->tls_up) && xt_conn_pending(cl->conn, &p) > 0))
        return XT_IO_READ | XT_IO_WRITE;
    return XT_IO_READ;
}

/* Absolute ms of the next thing to do, -1 = none. */
static int64_t next_deadline(const xt_client *cl, uint64_t now)
{
    if (!active(cl))
        return -1;
    int64_t d = -1;
#define XT_MIN_DEADLINE(x)                                                                         \
    do {                                                                                           \
        int64_t v_ = (x);                                                                          \
        if (v_ >= 0 && (d < 0 || v_ < d))                                                          \
            d = v_;                                                                                \
    } while (0)
    if (cl->disconnected && cl->phase != P_LINGER)
        return (int64_t)now; /* closed from outside a client call: tidy up now */
    if (cl->tls_wait && cl->tslot.state == XT_SLOT_HELD)
        return (int64_t)now; /* a slot was granted: the ClientHello goes now */
    if (cl->phase_deadline)
        XT_MIN_DEADLINE((int64_t)cl->phase_deadline);
    if (cl->close_deadline)
        XT_MIN_DEADLINE((int64_t)cl->close_deadline);
    if (cl->dns)
        XT_MIN_DEADLINE(xt_dns_deadline(cl->dns, now));
    if (cl->phase == P_TLS || cl->phase == P_STREAM)
        XT_MIN_DEADLINE(xt_conn_deadline(cl->conn));
    if (cl->phase == P_STREAM && cl->trim_at)
        XT_MIN_DEADLINE((int64_t)cl->trim_at);
#undef XT_MIN_DEADLINE
    return d;
}

/* Tells the application what changed since it was last told: the
 * socket's interest (a new socket is watched here; a closed one was
 * unwatched by close_socket) and the timer. */
static void sync_hooks(xt_client *cl)
{
    client_hooks *h = &cl->hk;
    if (!h->watch)
        return;
    if (cl->fd >= 0) {
        unsigned ev = want_events(cl);
        if (h->fd != cl->fd || h->events != ev) {
            h->fd = cl->fd;
            h->events = ev;
            h->watch(h->ud, cl->fd, ev);
        }
    }
    int64_t d = next_deadline(cl, xt_clock_ms());
    if (!h->timer_known || d != h->timer_at) {
        h->timer_known = 1;
        h->timer_at = d;
        h->timer(h->ud, d);
    }
}

/* After handlers ran: close when the stream ended, bound the wait for the
 * server's close. */
static void after_events(xt_client *cl, uint64_t now)
{
    if (cl->phase == P_DONE)
        return;
    if (cl->disconnected && cl->phase != P_LINGER) {
        if (cl->sock_dead || cl->fd < 0) {
            release_transport(cl);
            cl->phase = P_DONE;
            return;
        }
        /* Flush the closing bytes (stream error, </stream:stream>), then
         * close_notify, within XT_LINGER_MS. */
        cl->phase = P_LINGER;
        cl->phase_deadline = now + XT_LINGER_MS;
        cl->close_deadline = 0;
    }
    if (cl->phase == P_LINGER) {
        const uint8_t *p;
        flush(cl, now);
        if (cl->phase == P_DONE)
            return;
        if (cl->tls && cl->tls_up && !cl->tls_shut && xt_conn_pending(cl->conn, &p) == 0) {
            /* After the last XML, never before: SSL_write fails once
             * close_notify is queued (RFC 8446 §6.1). */
            xt_tls_shutdown(cl->tls);
            cl->tls_shut = 1;
            flush(cl, now);
            if (cl->phase == P_DONE)
                return;
        }
        int left = (cl->tls && xt_tls_out_pending(cl->tls)) ||
                   ((!cl->tls || cl->tls_up) && xt_conn_pending(cl->conn, &p) > 0);
        if (!left || now >= cl->phase_deadline) {
            release_transport(cl);
            cl->phase = P_DONE;
        }
        return;
    }
    if (cl->phase == P_STREAM && xt_conn_get_state(cl->conn) == XT_STATE_CLOSING) {
        if (!cl->close_deadline)
            cl->close_deadline = now + XT_CLOSE_WAIT_MS;
    }
}

/* One run of the client: fds[0..n) are ready (n 0: a timer or a flush). */
static int run(xt_client *cl, const struct pollfd *fds, size_t n, uint64_t now)
{
    if (!cl)
        return XT_EINVAL;
    if (cl->busy)
        return XT_ESTATE;
    cl->busy = 1;
    short rev = 0;
    for (size_t i = 0; i < n && cl->fd >= 0; i++)
        if (fds[i].fd == cl->fd)
            rev |= fds[i].revents;

    if (cl->disconnected && cl->phase < P_TLS && cl->phase != P_IDLE) {
        /* The application closed the xt_conn before the transport was up. */
        release_transport(cl);
        cl->phase = P_DONE;
    }
    if (cl->phase == P_LINGER && (rev & (POLLERR | POLLHUP))) {
        release_transport(cl);
        cl->phase = P_DONE;
    }

    switch (cl->phase) {
    case P_RESOLVE:
        if (cl->dns)
            xt_dns_process(cl->dns, fds, n);
        advance(cl, now);
        if (cl->phase == P_RESOLVE && cl->phase_deadline && now >= cl->phase_deadline) {
            set_detail(cl, "resolving %s timed out", cl->host ? cl->host : xt_conn_domain(cl->conn));
            fail(cl, XT_ETIMEOUT, cl->detail, now);
        }
        break;
    case P_CONNECT:
        /* Asked again: a driver may hand us an event of a closed socket
         * whose number this one reuses; only a real writability (or an
         * error) ends the connect. */
        if (rev && poll(&(struct pollfd){.fd = cl->fd, .events = POLLOUT}, 1, 0) <= 0)
            rev = 0;
        if (rev) {
            char d[256];
            const xt_addr *a = &cl->addrs[cl->addr_i];
            if (xt_tcp_connected(cl->fd, (const struct sockaddr *)&a->ss, d, sizeof d) == 0) {
                connected(cl, now);
            } else {
                set_detail(cl, "%s", d);
                cl->fail_code = XT_ECONNECT;
                next_address(cl, now);
            }
        } else if (now >= cl->phase_deadline) {
            char as[80];
            const xt_addr *a = &cl->addrs[cl->addr_i];
            xt_tcp_addr_str((const struct sockaddr *)&a->ss, as, sizeof as);
            set_detail(cl, "connect to %s: timed out after %u ms", as, (unsigned)cl->connect_timeout);
            cl->fail_code = XT_ETIMEOUT;
            next_address(cl, now);
        }
        break;
    case P_LINGER:
        break; /* after_events flushes */
    case P_TLS:
    case P_STREAM:
        if (cl->tls_wait && !cl->disconnected && !(rev & (POLLHUP | POLLERR)))
            start_tls(cl, now, cl->tls_wait == TLS_WAIT_DIRECT);
        if (rev & (POLLIN | POLLHUP | POLLERR))
            pump_in(cl, now);
        if (cl->fed) {
            /* Before anything the conn queued while fed leaves: see
             * xt_client_set_input_done. Also after a failure mid-burst
             * (the events before it were delivered). */
            cl->fed = 0;
            if (cl->input_done)
                cl->input_done(cl, cl->input_done_ud);
        }
        if (cl->phase == P_TLS && !cl->disconnected && cl->phase_deadline && now >= cl->phase_deadline)
            fail(cl, XT_ETIMEOUT, "TLS handshake timed out", now);
        if ((cl->phase == P_STREAM || cl->phase == P_TLS) && !cl->disconnected) {
            int64_t d = xt_conn_deadline(cl->conn);
            if (d >= 0 && (uint64_t)d <= now) {
                /* What is ready goes out first: a tick may do slow work
                 * (SCRAM's Hi() ahead of the challenge) while we wait. */
                flush(cl, now);
                if (cl->phase == P_STREAM || cl->phase == P_TLS)
                    (void)xt_conn_tick(cl->conn, now);
            }
        }
        if (cl->close_deadline && now >= cl->close_deadline && !cl->disconnected) {
            cl->close_deadline = 0;
            /* The server never answered our </stream:stream>. */
            (void)xt_conn_eof(cl->conn, 0, NULL, now);
            cl->disconnected = 1;
        }
        if (cl->phase == P_TLS || cl->phase == P_STREAM)
            flush(cl, now);
        if (cl->phase == P_STREAM && !cl->disconnected && cl->trim_at && now >= cl->trim_at) {
            cl->trim_at = 0;
            xt_conn_trim(cl->conn);
        }
        break;
    case P_WAIT:
        if (now >= cl->phase_deadline)
            reconnect_now(cl);
        break;
    case P_IDLE:
    case P_DONE:
        break;
    }
    after_events(cl, now);
    if (cl->phase == P_DONE && cl->retry_pending && (cl->reconnect || cl->login_retry) &&
        !cl->free_pending) {
        logf_(cl, XT_LOG_INFO, "reconnecting in %u ms", (unsigned)cl->retry_delay);
        release_transport(cl);
        cl->retry_pending = 0;
        cl->disconnected = 0;
        cl->phase = P_WAIT;
        cl->phase_deadline = now + cl->retry_delay;
    }
    cl->busy = 0;
    if (cl->free_pending)
        really_free(cl);
    else
        sync_hooks(cl);
    return 0;
}

int xt_client_on_fd(xt_client *cl, int fd, unsigned events, uint64_t now_ms)
{
    short rev = (short)((events & XT_IO_READ ? POLLIN : 0) | (events & XT_IO_WRITE ? POLLOUT : 0) |
                        (events & XT_IO_ERROR ? POLLERR | POLLHUP : 0));
    struct pollfd p = {.fd = fd, .revents = rev};
    return run(cl, &p, 1, now_ms);
}

int xt_client_on_timer(xt_client *cl, uint64_t now_ms)
{
    if (cl && !cl->busy)
        cl->hk.timer_known = 0; /* spent: the next one is announced whatever it is */
    return run(cl, NULL, 0, now_ms);
}

int xt_client_flush(xt_client *cl, uint64_t now_ms)
{
    return run(cl, NULL, 0, now_ms);
}
