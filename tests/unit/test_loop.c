/* Unit tests: the poll loop (timers, fds, stop, changes from callbacks)
 * and clients driven by it against loopback sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "xtalk/client.h"

typedef struct rec {
    xt_loop *loop;
    int order[16];
    int n;
    int other_id;
} rec;

typedef struct tag {
    rec *r;
    int v;
} tag;

static void on_timer(xt_loop *loop, void *ud)
{
    (void)loop;
    tag *t = ud;
    t->r->order[t->r->n++] = t->v;
}

static void test_timer_order(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    rec r = {.loop = loop};
    tag t30 = {&r, 30}, t10 = {&r, 10}, t20 = {&r, 20}, tx = {&r, 99}, t20b = {&r, 21};
    assert_true(xt_loop_add_timer(loop, 30, on_timer, &t30) > 0);
    assert_true(xt_loop_add_timer(loop, 10, on_timer, &t10) > 0);
    int idx = xt_loop_add_timer(loop, 15, on_timer, &tx);
    assert_true(idx > 0);
    assert_true(xt_loop_add_timer(loop, 20, on_timer, &t20) > 0);
    assert_true(xt_loop_add_timer(loop, 20, on_timer, &t20b) > 0); /* same delay: creation order */
    assert_int_equal(xt_loop_cancel_timer(loop, idx), 0);
    assert_int_equal(xt_loop_cancel_timer(loop, idx), XT_ENOTFOUND);
    uint64_t start = xt_loop_now(loop);
    assert_int_equal(xt_loop_run(loop), 0); /* returns when no timer is left */
    uint64_t took = xt_loop_now(loop) - start;
    assert_int_equal(r.n, 4);
    assert_int_equal(r.order[0], 10);
    assert_int_equal(r.order[1], 20);
    assert_int_equal(r.order[2], 21);
    assert_int_equal(r.order[3], 30);
    assert_true(took >= 30);
    assert_true(took < 1000);
    xt_loop_free(loop);
}

/* A timer re-arming itself with delay 0 runs once per iteration, so
 * fds still get polled. */
static int rearms;
static void rearm(xt_loop *loop, void *ud)
{
    (void)ud;
    if (++rearms < 1000)
        xt_loop_add_timer(loop, 0, rearm, NULL);
}

static void test_timer_rearm(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    rearms = 0;
    xt_loop_add_timer(loop, 0, rearm, NULL);
    assert_int_equal(xt_loop_run_once(loop, 0), 0);
    assert_int_equal(rearms, 1);
    assert_int_equal(xt_loop_run(loop), 0);
    assert_int_equal(rearms, 1000);
    xt_loop_free(loop);
}

typedef struct pipe_ctx {
    int fds[2];
    int id;
    char got[32];
    size_t n;
    int calls;
} pipe_ctx;

static void on_readable(xt_loop *loop, int fd, short revents, void *ud)
{
    pipe_ctx *p = ud;
    assert_true(revents & POLLIN);
    p->calls++;
    ssize_t r = read(fd, p->got + p->n, sizeof p->got - 1 - p->n);
    if (r > 0)
        p->n += (size_t)r;
    if (p->n >= 5)
        assert_int_equal(xt_loop_remove_fd(loop, p->id), 0); /* removing itself */
}

static void write_hello(xt_loop *loop, void *ud)
{
    (void)loop;
    pipe_ctx *p = ud;
    assert_int_equal(write(p->fds[1], "hello", 5), 5);
}

static void test_fd(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    pipe_ctx p = {0};
    assert_int_equal(pipe(p.fds), 0);
    p.id = xt_loop_add_fd(loop, p.fds[0], POLLIN, on_readable, &p);
    assert_true(p.id > 0);
    xt_loop_add_timer(loop, 10, write_hello, &p);
    assert_int_equal(xt_loop_run(loop), 0); /* ends: fd removed, no timers */
    assert_int_equal(p.n, 5);
    assert_memory_equal(p.got, "hello", 5);
    assert_int_equal(xt_loop_remove_fd(loop, p.id), XT_ENOTFOUND);
    assert_int_equal(xt_loop_mod_fd(loop, p.id, POLLIN), XT_ENOTFOUND);

    /* mod_fd: switched off, a readable fd does not call back. */
    p.n = 0;
    p.calls = 0;
    p.id = xt_loop_add_fd(loop, p.fds[0], POLLIN, on_readable, &p);
    assert_int_equal(xt_loop_mod_fd(loop, p.id, 0), 0);
    assert_int_equal(write(p.fds[1], "x", 1), 1);
    assert_int_equal(xt_loop_run_once(loop, 20), 0);
    assert_int_equal(p.calls, 0);
    assert_int_equal(xt_loop_mod_fd(loop, p.id, POLLIN), 0);
    assert_int_equal(xt_loop_run_once(loop, 1000), 0);
    assert_int_equal(p.calls, 1);
    assert_int_equal(xt_loop_remove_fd(loop, p.id), 0);
    close(p.fds[0]);
    close(p.fds[1]);
    xt_loop_free(loop);
}

static void do_stop(xt_loop *loop, void *ud)
{
    (void)ud;
    xt_loop_stop(loop);
}

static void never(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)loop, (void)fd, (void)revents;
    int *calls = ud;
    (*calls)++;
}

static void test_stop(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    int fds[2], calls = 0;
    assert_int_equal(pipe(fds), 0);
    int id = xt_loop_add_fd(loop, fds[0], POLLIN, never, &calls);
    xt_loop_add_timer(loop, 20, do_stop, NULL);
    uint64_t start = xt_loop_now(loop);
    assert_int_equal(xt_loop_run(loop), 0); /* an fd is left: only stop ends it */
    assert_true(xt_loop_now(loop) - start >= 20);
    assert_int_equal(calls, 0);
    xt_loop_remove_fd(loop, id);
    close(fds[0]);
    close(fds[1]);
    xt_loop_free(loop);
    xt_loop_free(NULL);
}

/* --- clients over loopback ------------------------------------------------- */

typedef struct watch {
    int disconnected, error, online;
    char text[300];
    xt_client *cl;
    int free_in_handler;
} watch;

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)c;
    watch *w = ud;
    if (ev->type == XT_EV_ONLINE)
        w->online = 1;
    if (ev->type == XT_EV_DISCONNECTED) {
        w->disconnected++;
        w->error = ev->u.disconnected.error;
        snprintf(w->text, sizeof w->text, "%s", ev->u.disconnected.text ? ev->u.disconnected.text : "");
        if (w->free_in_handler)
            xt_client_free(w->cl);
    }
}

/* A port nothing listens on: bind, read the port, close. */
static uint16_t closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    return ntohs(a.sin_port);
}

/* Options for the test account; freed at the end of main (the clients
 * copied them). mem: the allocator of the conns made from them. */
static xt_conn_opts *made_opts[16];
static size_t n_made_opts;

static xt_conn_opts *alice_opts(const xt_mem *mem, unsigned flags)
{
    xt_conn_opts *o = NULL;
    if (xt_conn_opts_new(mem, &o) != 0 || xt_conn_opts_set_jid(o, "alice@localhost") != 0 ||
        xt_conn_opts_set_password(o, "pw") != 0 || xt_conn_opts_set_flags(o, flags) != 0) {
        xt_conn_opts_free(o);
        return NULL; /* an allocation failed: xt_client_new refuses NULL */
    }
    if (!mem) {
        assert_true(n_made_opts < sizeof made_opts / sizeof *made_opts);
        made_opts[n_made_opts++] = o;
    }
    return o;
}

static void free_made_opts(void)
{
    while (n_made_opts)
        xt_conn_opts_free(made_opts[--n_made_opts]);
}

static xt_client *make_client(xt_loop *loop, const char *host, uint16_t port, watch *w, unsigned conn_flags)
{
    xt_client_config cfg = {
        .conn = alice_opts(NULL, conn_flags),
        .host = host,
        .port = port,
        .connect_timeout_ms = 2000,
    };
    xt_client *cl;
    assert_int_equal(xt_client_new(loop, &cfg, &cl), 0);
    assert_true(xt_conn_on(xt_client_conn(cl), XT_EV_ALL, on_event, w) > 0);
    w->cl = cl;
    return cl;
}

static void test_client_refused(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    watch w = {0};
    uint16_t port = closed_port();
    xt_client *cl = make_client(loop, "127.0.0.1", port, &w, 0);
    assert_int_equal(xt_loop_run(loop), 0); /* nothing active: returns at once */
    assert_int_equal(xt_client_connect(cl), 0);
    assert_int_equal(xt_client_connect(cl), XT_ESTATE);
    assert_int_equal(xt_loop_run(loop), 0);
    assert_int_equal(w.disconnected, 1);
    assert_int_equal(w.error, XT_ECONNECT);
    char want[64];
    snprintf(want, sizeof want, "connect to 127.0.0.1:%u: Connection refused", port);
    assert_string_equal(xt_client_errdetail(cl), want);
    assert_non_null(strstr(w.text, "Connection refused"));
    assert_null(xt_client_peer_sha256(cl));
    xt_client_free(cl);
    xt_loop_free(loop);
}

static void test_client_bad_ca(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    xt_client_config cfg = {
        .conn = alice_opts(NULL, 0),
        .host = "127.0.0.1",
        .ca_file = "/nonexistent/ca.pem",
    };
    xt_client *cl;
    assert_int_equal(xt_client_new(loop, &cfg, &cl), 0);
    assert_int_equal(xt_client_connect(cl), XT_EINVAL);
    assert_non_null(strstr(xt_client_errdetail(cl), "/nonexistent/ca.pem"));
    /* Freed with the loop. */
    xt_loop_free(loop);
}

/* A "server" that accepts and answers garbage: the stream fails with an
 * XML error, the client closes, and freeing from the handler is safe. */
typedef struct fake_server {
    int lfd, cfd, id;
    const char *reply;
} fake_server;

static void on_accept(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)revents;
    fake_server *s = ud;
    s->cfd = accept(fd, NULL, NULL);
    assert_true(s->cfd >= 0);
    if (*s->reply)
        assert_true(write(s->cfd, s->reply, strlen(s->reply)) > 0);
    else
        shutdown(s->cfd, SHUT_WR);
    xt_loop_remove_fd(loop, s->id);
}

static uint16_t listen_loopback(fake_server *s)
{
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    socklen_t len = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &len);
    s->cfd = -1;
    return ntohs(a.sin_port);
}

static void run_fake(const char *reply, unsigned conn_flags, int expect, int free_in_handler)
{
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    fake_server s = {.reply = reply};
    uint16_t port = listen_loopback(&s);
    s.id = xt_loop_add_fd(loop, s.lfd, POLLIN, on_accept, &s);
    watch w = {.free_in_handler = free_in_handler};
    xt_client *cl = make_client(loop, "localhost", port, &w, conn_flags);
    assert_int_equal(xt_client_connect(cl), 0);
    xt_loop_add_timer(loop, 5000, do_stop, NULL); /* a hang fails below */
    uint64_t start = xt_loop_now(loop);
    while (!w.disconnected && xt_loop_now(loop) - start < 5000)
        assert_int_equal(xt_loop_run_once(loop, 100), 0);
    assert_int_equal(w.disconnected, 1);
    assert_int_equal(w.error, expect);
    if (!free_in_handler)
        xt_client_free(cl);
    if (s.cfd >= 0)
        close(s.cfd);
    close(s.lfd);
    xt_loop_free(loop);
}

/* The loop is replaceable: a client driven by the application's own
 * poll() through xt_client_pollfds / xt_client_deadline /
 * xt_client_process only (the xt_loop is just where it is registered;
 * xt_loop_run is never called). The fake server answers with garbage,
 * so the client must resolve, connect, write its header, read, fail and
 * report, all through the external loop. */
static void test_external_loop(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    fake_server s = {.reply = "<not-a-stream/>"};
    uint16_t port = listen_loopback(&s);
    watch w = {0};
    xt_client *cl = make_client(loop, "127.0.0.1", port, &w, 0);
    assert_int_equal(xt_client_connect(cl), 0);
    struct pollfd fds[16];
    int rounds = 0;
    while (!w.disconnected && rounds++ < 500) {
        size_t n = xt_client_pollfds(cl, fds, 15);
        assert_true(n <= 15);
        fds[n] = (struct pollfd){.fd = s.cfd < 0 ? s.lfd : -1, .events = POLLIN};
        int64_t dl = xt_client_deadline(cl);
        uint64_t now = xt_loop_now(loop);
        int timeout = dl < 0 ? 100 : (dl <= (int64_t)now ? 0 : (int)(dl - (int64_t)now));
        if (timeout > 100)
            timeout = 100;
        assert_true(poll(fds, n + 1, timeout) >= 0);
        if (fds[n].revents & POLLIN) {
            s.cfd = accept(s.lfd, NULL, NULL);
            assert_true(s.cfd >= 0);
            assert_true(write(s.cfd, s.reply, strlen(s.reply)) > 0);
        }
        assert_true(xt_client_process(cl, fds, n, xt_loop_now(loop)) >= 0);
    }
    assert_int_equal(w.disconnected, 1);
    assert_int_equal(w.error, XT_EXML);
    /* The client wrote its stream header before failing. */
    char buf[512];
    ssize_t got = read(s.cfd, buf, sizeof buf - 1);
    assert_true(got > 0);
    buf[got] = 0;
    assert_non_null(strstr(buf, "<stream:stream"));
    xt_client_free(cl);
    close(s.cfd);
    close(s.lfd);
    xt_loop_free(loop);
}

static void test_client_garbage(void **state)
{
    (void)state;
    run_fake("this is not XML at all <<<", 0, XT_EXML, 0);
    run_fake("this is not XML at all <<<", 0, XT_EXML, 1);
}

static void test_client_eof(void **state)
{
    (void)state;
    run_fake("", 0, XT_ECLOSED, 0);
}

static void test_client_tls_garbage(void **state)
{
    (void)state;
    /* Direct TLS to something that is not TLS. */
    run_fake("HTTP/1.0 400 Bad Request\r\n\r\n", XT_CONN_DIRECT_TLS, XT_ETLS, 1);
}

/* --- reconnection ------------------------------------------------------------ */

/* A server that accepts any number of connections, answers each with
 * `reply` (empty: closes at once) and counts them. */
typedef struct multi_server {
    int lfd, id, accepts;
    int fds[16];
    const char *reply;
} multi_server;

static void multi_accept(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)loop;
    (void)revents;
    multi_server *m = ud;
    int c = accept(fd, NULL, NULL);
    assert_true(c >= 0);
    assert_true(m->accepts < 16);
    m->fds[m->accepts++] = c;
    if (*m->reply)
        assert_true(write(c, m->reply, strlen(m->reply)) > 0);
    shutdown(c, SHUT_WR);
}

static uint16_t multi_listen(xt_loop *loop, multi_server *m)
{
    fake_server f;
    uint16_t port = listen_loopback(&f);
    m->lfd = f.lfd;
    m->id = xt_loop_add_fd(loop, m->lfd, POLLIN, multi_accept, m);
    assert_true(m->id > 0);
    return port;
}

static void multi_close(multi_server *m)
{
    for (int i = 0; i < m->accepts; i++)
        close(m->fds[i]);
    close(m->lfd);
}

typedef struct rwatch {
    int n;          /* disconnections seen */
    int errors[16], retry[16];
    uint32_t in_ms[16];
    int stop_after;
    xt_client *cl;
} rwatch;

static void on_rev(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)c;
    rwatch *w = ud;
    if (ev->type != XT_EV_DISCONNECTED || w->n >= 16)
        return;
    w->errors[w->n] = ev->u.disconnected.error;
    w->retry[w->n] = ev->u.disconnected.retry;
    w->in_ms[w->n] = ev->u.disconnected.retry_in_ms;
    if (++w->n >= w->stop_after)
        assert_int_equal(xt_client_stop_reconnect(w->cl), 1);
}

/* A server that hangs up at once: every disconnection is retryable, the
 * client connects again (a new TCP connection each time) after a backoff
 * within the configured bounds, the event says when, and
 * xt_client_stop_reconnect ends it (xt_loop_run returns: nothing left). */
static void test_client_reconnect(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    multi_server m = {.reply = ""};
    uint16_t port = multi_listen(loop, &m);
    xt_client_config cfg = {
        .conn = alice_opts(NULL, 0),
        .host = "127.0.0.1",
        .port = port,
        .connect_timeout_ms = 2000,
        .reconnect = 1,
        .reconnect_min_ms = 5,
        .reconnect_max_ms = 40,
    };
    xt_client *cl;
    assert_int_equal(xt_client_new(loop, &cfg, &cl), 0);
    rwatch w = {.stop_after = 5, .cl = cl};
    assert_true(xt_conn_on(xt_client_conn(cl), XT_EV_ALL, on_rev, &w) > 0);
    assert_int_equal(xt_client_connect(cl), 0);
    int timer = xt_loop_add_timer(loop, 10000, do_stop, NULL); /* a hang fails below */
    while (w.n < 5 && xt_loop_run_once(loop, 100) == 0)
        ;
    assert_int_equal(w.n, 5);
    xt_loop_cancel_timer(loop, timer);
    xt_loop_remove_fd(loop, m.id);
    assert_int_equal(xt_loop_run(loop), 0); /* the client is done: returns */
    assert_int_equal(m.accepts, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(w.errors[i], XT_ECLOSED);
        assert_int_equal(w.retry[i], 1);
        /* Backoff: [min, min(max, min * 2^attempt)]. */
        uint32_t cap = 5u << i;
        if (cap > 40)
            cap = 40;
        assert_true(w.in_ms[i] >= 5 && w.in_ms[i] <= cap);
    }
    xt_client_free(cl);
    multi_close(&m);
    xt_loop_free(loop);
}

/* see-other-host is followed once, to the host it names; a failure that
 * is not retryable (here: the policy-violation stream error) ends it. */
static void test_client_redirect(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    multi_server b = {.reply = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                               "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
                               "<stream:error><policy-violation "
                               "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"};
    uint16_t pb = multi_listen(loop, &b);
    static char redir[512];
    snprintf(redir, sizeof redir,
             "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
             "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:error>"
             "<see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>127.0.0.1:%u"
             "</see-other-host></stream:error>",
             pb);
    multi_server a = {.reply = redir};
    uint16_t pa = multi_listen(loop, &a);
    xt_client_config cfg = {
        .conn = alice_opts(NULL, 0),
        .host = "127.0.0.1",
        .port = pa,
        .connect_timeout_ms = 2000,
        .reconnect = 1,
        .reconnect_min_ms = 5,
        .reconnect_max_ms = 10,
    };
    xt_client *cl;
    assert_int_equal(xt_client_new(loop, &cfg, &cl), 0);
    rwatch w = {.stop_after = 100, .cl = cl};
    assert_true(xt_conn_on(xt_client_conn(cl), XT_EV_ALL, on_rev, &w) > 0);
    assert_int_equal(xt_client_connect(cl), 0);
    int timer = xt_loop_add_timer(loop, 10000, do_stop, NULL);
    while (w.n < 2 && xt_loop_run_once(loop, 100) == 0)
        ;
    xt_loop_cancel_timer(loop, timer);
    xt_loop_remove_fd(loop, a.id);
    xt_loop_remove_fd(loop, b.id);
    assert_int_equal(xt_loop_run(loop), 0); /* no reconnect pending: returns */
    assert_int_equal(w.n, 2);
    assert_int_equal(w.errors[0], XT_EREDIRECT);
    assert_int_equal(w.retry[0], 1);
    assert_true(w.in_ms[0] > 0);
    assert_int_equal(w.errors[1], XT_ESTREAM);
    assert_int_equal(w.retry[1], 0);
    assert_int_equal(w.in_ms[1], 0);
    assert_int_equal(a.accepts, 1);
    assert_int_equal(b.accepts, 1);
    assert_int_equal(xt_client_stop_reconnect(cl), 0);
    xt_client_free(cl);
    multi_close(&a);
    multi_close(&b);
    xt_loop_free(loop);
}

/* --- the handshake cap ------------------------------------------------------ */

/* A plain TCP server that accepts up to 4 connections and only notes which
 * of them have sent something (a ClientHello: the clients use direct TLS). */
typedef struct hs_server {
    int lfd, lid;
    int cfd[4], cid[4];
    int got[4];
    int n;
} hs_server;

static void hs_io(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)loop, (void)revents;
    hs_server *s = ud;
    for (int i = 0; i < s->n; i++)
        if (s->cfd[i] == fd) {
            char buf[4096];
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0)
                s->got[i] = 1;
            else if (s->cid[i]) {
                xt_loop_remove_fd(loop, s->cid[i]);
                s->cid[i] = 0;
            }
        }
}

static void hs_accept(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)revents;
    hs_server *s = ud;
    int c = accept(fd, NULL, NULL);
    assert_true(c >= 0 && s->n < 4);
    fcntl(c, F_SETFL, O_NONBLOCK);
    s->cfd[s->n] = c;
    s->cid[s->n] = xt_loop_add_fd(loop, c, POLLIN, hs_io, s);
    s->n++;
}

static int hs_total(const hs_server *s)
{
    int t = 0;
    for (int i = 0; i < s->n; i++)
        t += s->got[i];
    return t;
}

/* With one slot, the second client says nothing until the first one's
 * handshake is over (here: the server hangs up on it); then it goes. */
static void test_handshake_cap(void **state)
{
    (void)state;
    assert_int_equal(xt_loop_set_max_handshakes(NULL, 1), XT_EINVAL);
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    assert_int_equal(xt_loop_set_max_handshakes(loop, 1), 0);
    hs_server s = {0};
    fake_server f;
    uint16_t port = listen_loopback(&f);
    s.lfd = f.lfd;
    s.lid = xt_loop_add_fd(loop, s.lfd, POLLIN, hs_accept, &s);
    xt_client_config cfg = {
        .conn = alice_opts(NULL, XT_CONN_DIRECT_TLS),
        .host = "127.0.0.1",
        .port = port,
        .flags = XT_CLIENT_NO_SYSTEM_CA,
        .connect_timeout_ms = 5000,
    };
    xt_client *a, *b;
    watch wa = {0}, wb = {0};
    assert_int_equal(xt_client_new(loop, &cfg, &a), 0);
    assert_int_equal(xt_client_new(loop, &cfg, &b), 0);
    assert_true(xt_conn_on(xt_client_conn(a), XT_EV_ALL, on_event, &wa) > 0);
    assert_true(xt_conn_on(xt_client_conn(b), XT_EV_ALL, on_event, &wb) > 0);
    assert_int_equal(xt_client_connect(a), 0);
    assert_int_equal(xt_client_connect(b), 0);
    uint64_t start = xt_loop_now(loop);
    /* Both connect; only one ClientHello arrives, and stays the only one. */
    while ((s.n < 2 || hs_total(&s) < 1) && xt_loop_now(loop) - start < 3000)
        assert_int_equal(xt_loop_run_once(loop, 50), 0);
    assert_int_equal(s.n, 2);
    uint64_t t = xt_loop_now(loop);
    while (xt_loop_now(loop) - t < 200)
        assert_int_equal(xt_loop_run_once(loop, 50), 0);
    assert_int_equal(hs_total(&s), 1);
    assert_int_equal(wa.disconnected + wb.disconnected, 0);
    /* The server hangs up on the one that spoke: its handshake fails,
     * the slot frees, the other one speaks. */
    int first = s.got[0] ? 0 : 1;
    xt_loop_remove_fd(loop, s.cid[first]);
    s.cid[first] = 0;
    close(s.cfd[first]);
    t = xt_loop_now(loop);
    while (hs_total(&s) < 2 && xt_loop_now(loop) - t < 3000)
        assert_int_equal(xt_loop_run_once(loop, 50), 0);
    assert_int_equal(s.got[1 - first], 1);
    assert_int_equal(wa.disconnected + wb.disconnected, 1);
    assert_int_equal(wa.disconnected ? wa.error : wb.error, XT_ETLS);
    xt_client_free(a);
    xt_client_free(b);
    for (int i = 0; i < s.n; i++) {
        if (s.cid[i])
            xt_loop_remove_fd(loop, s.cid[i]);
        if (i != first)
            close(s.cfd[i]);
    }
    xt_loop_remove_fd(loop, s.lid);
    close(s.lfd);
    xt_loop_free(loop);
}

/* --- TLS through the client: an in-process server on a loop fd ---------- */

typedef struct tls_server {
    SSL_CTX *ctx;
    SSL *ssl;
    int lfd, cfd, lid, cid;
    int handshaken;
    const char *reply;
} tls_server;

static X509 *self_signed(EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, key, EVP_sha256());
    return x;
}

static void tls_server_io(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)loop, (void)fd, (void)revents;
    tls_server *s = ud;
    ERR_clear_error();
    if (!s->handshaken) {
        int r = SSL_accept(s->ssl);
        if (r == 1) {
            s->handshaken = 1;
        } else if (SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_READ) {
            xt_loop_remove_fd(loop, s->cid); /* the client refused us */
            s->cid = 0;
            return;
        }
    }
    if (s->handshaken) {
        char buf[4096];
        size_t n;
        /* The client's stream header arrives: answer with junk. */
        if (SSL_read_ex(s->ssl, buf, sizeof buf, &n) == 1 && s->reply) {
            SSL_write(s->ssl, s->reply, (int)strlen(s->reply));
            s->reply = NULL;
        }
    }
    ERR_clear_error();
}

static void tls_server_accept(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)revents;
    tls_server *s = ud;
    s->cfd = accept(fd, NULL, NULL);
    assert_true(s->cfd >= 0);
    fcntl(s->cfd, F_SETFL, O_NONBLOCK);
    s->ssl = SSL_new(s->ctx);
    SSL_set_fd(s->ssl, s->cfd);
    s->cid = xt_loop_add_fd(loop, s->cfd, POLLIN, tls_server_io, s);
    xt_loop_remove_fd(loop, s->lid);
}

static void run_tls(EVP_PKEY *key, X509 *cert, const char *pin, int expect, const char *want_detail,
                    int want_handshake, char fp_out[65])
{
    tls_server s = {.reply = "definitely not <xml"};
    s.ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(s.ctx, cert);
    SSL_CTX_use_PrivateKey(s.ctx, key);
    fake_server fs = {0};
    uint16_t port = listen_loopback(&fs);
    s.lfd = fs.lfd;

    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    s.lid = xt_loop_add_fd(loop, s.lfd, POLLIN, tls_server_accept, &s);
    watch w = {0};
    xt_client_config cfg = {
        .conn = alice_opts(NULL, XT_CONN_DIRECT_TLS),
        .host = "127.0.0.1",
        .port = port,
        .pin_sha256 = pin,
        .flags = XT_CLIENT_NO_SYSTEM_CA,
        .connect_timeout_ms = 3000,
    };
    xt_client *cl;
    assert_int_equal(xt_client_new(loop, &cfg, &cl), 0);
    assert_true(xt_conn_on(xt_client_conn(cl), XT_EV_ALL, on_event, &w) > 0);
    assert_int_equal(xt_client_connect(cl), 0);
    uint64_t start = xt_loop_now(loop);
    while (!w.disconnected && xt_loop_now(loop) - start < 5000)
        assert_int_equal(xt_loop_run_once(loop, 100), 0);
    assert_int_equal(w.disconnected, 1);
    assert_int_equal(w.error, expect);
    if (want_detail)
        assert_non_null(strstr(w.text, want_detail));
    assert_non_null(xt_client_peer_sha256(cl));
    if (fp_out)
        snprintf(fp_out, 65, "%s", xt_client_peer_sha256(cl));
    if (want_handshake)
        assert_true(s.handshaken);
    else if (!pin)
        assert_false(s.handshaken);
    xt_client_free(cl);
    /* Drain: the client is gone; nothing of ours is active. */
    while (xt_loop_run_once(loop, 0) == 0 && xt_loop_now(loop) - start < 6000 && s.cid) {
        xt_loop_remove_fd(loop, s.cid);
        s.cid = 0;
    }
    SSL_free(s.ssl);
    SSL_CTX_free(s.ctx);
    if (s.cfd >= 0)
        close(s.cfd);
    close(s.lfd);
    xt_loop_free(loop);
}

static void test_client_tls(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = self_signed(key);
    /* Self-signed and not pinned: refused, with the fingerprint to pin. */
    char fp[65];
    run_tls(key, cert, NULL, XT_ECERT, "self-signed", 0, fp);
    assert_int_equal(strlen(fp), 64);
    /* Pinned: TLS comes up, the stream header goes out encrypted, and the
     * server's junk comes back decrypted to the XML parser. */
    run_tls(key, cert, fp, XT_EXML, NULL, 1, NULL);
    /* A wrong pin is refused. */
    char wrong[65];
    memcpy(wrong, fp, sizeof wrong);
    wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
    run_tls(key, cert, wrong, XT_ECERT, "pinned", 0, NULL);
    X509_free(cert);
    EVP_PKEY_free(key);
}

/* --- allocation failures ------------------------------------------------- */

typedef struct failmem {
    long countdown; /* fail when it reaches 0; < 0 never */
    long allocs;
    int fired;
} failmem;

static void *fm_malloc(size_t n, void *ud)
{
    failmem *f = ud;
    f->allocs++;
    if (f->countdown >= 0 && f->countdown-- == 0) {
        f->fired = 1;
        if (getenv("FM_TRAP"))
            __builtin_trap();
        return NULL;
    }
    return malloc(n);
}

static void *fm_realloc(void *p, size_t n, void *ud)
{
    failmem *f = ud;
    f->allocs++;
    if (f->countdown >= 0 && f->countdown-- == 0) {
        f->fired = 1;
        if (getenv("FM_TRAP"))
            __builtin_trap();
        return NULL;
    }
    return realloc(p, n);
}

static void fm_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* The refused-connection scenario once per allocation, failing that one:
 * every path must end cleanly (an error code, or a disconnect event), and
 * the sanitizer build checks that nothing leaks. Debugging one case:
 * FM_ONLY=k runs only allocation k, FM_TRAP=1 traps there (for gdb). */
static void test_client_alloc_failures(void **state)
{
    (void)state;
    uint16_t port = closed_port();
    long total = -1;
    for (long k = 0;; k++) {
        failmem f = {.countdown = total < 0 ? -1 : k};
        if (getenv("FM_ONLY") && total >= 0 && k != atol(getenv("FM_ONLY")))
            f.countdown = -1;
        xt_mem mem = {fm_malloc, fm_realloc, fm_free, &f};
        xt_loop *loop = NULL;
        if (xt_loop_new(&mem, &loop) < 0) {
            assert_null(loop);
            continue;
        }
        watch w = {0};
        /* Made with the failing allocator too (it is the conn's). */
        xt_conn_opts *opts = alice_opts(&mem, 0);
        xt_client_config cfg = {
            .conn = opts,
            .host = "127.0.0.1",
            .port = port,
            .connect_timeout_ms = 2000,
        };
        xt_client *cl = NULL;
        if (xt_client_new(loop, &cfg, &cl) == 0) {
            assert_true(xt_conn_on(xt_client_conn(cl), XT_EV_ALL, on_event, &w) > 0 || f.fired);
            if (xt_client_connect(cl) == 0) {
                uint64_t start = xt_loop_now(loop);
                /* A loop iteration may fail with XT_ENOMEM itself; the
                 * next one then carries on. */
                while (!w.disconnected && xt_loop_now(loop) - start < 3000)
                    (void)xt_loop_run_once(loop, 100);
                if (!w.disconnected)
                    fprintf(stderr, "allocation %ld of %ld: no disconnect\n", k, total);
                {
                    assert_int_equal(w.disconnected, 1);
                    assert_true(w.error < 0);
                }
            }
        } else {
            assert_null(cl);
        }
        xt_conn_opts_free(opts);
        xt_loop_free(loop);
        if (total < 0) {
            total = f.allocs; /* the dry run counted them */
            k = -1;
            continue;
        }
        if (k >= total)
            break;
    }
    assert_true(total > 5);
}

int main(void)
{
    /* The in-process TLS server writes with write(2): a client that
     * already hung up must not kill the test. (The library itself never
     * raises SIGPIPE: it sends with MSG_NOSIGNAL.) */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_order),
        cmocka_unit_test(test_timer_rearm),
        cmocka_unit_test(test_fd),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_client_refused),
        cmocka_unit_test(test_client_bad_ca),
        cmocka_unit_test(test_client_garbage),
        cmocka_unit_test(test_external_loop),
        cmocka_unit_test(test_client_eof),
        cmocka_unit_test(test_client_reconnect),
        cmocka_unit_test(test_client_redirect),
        cmocka_unit_test(test_client_tls_garbage),
        cmocka_unit_test(test_client_tls),
        cmocka_unit_test(test_handshake_cap),
        cmocka_unit_test(test_client_alloc_failures),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free_made_opts();
    return rc;
}
