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

#include "net/ctx.h"
#include "net/loop.h"
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
    /* Before the timers are added: each is due 30 ms after its own adding
     * (a slow machine, valgrind, may take milliseconds between these). */
    uint64_t start = xt_loop_now(loop);
    assert_true(xt_loop_add_timer(loop, 30, on_timer, &t30) > 0);
    assert_true(xt_loop_add_timer(loop, 10, on_timer, &t10) > 0);
    int idx = xt_loop_add_timer(loop, 15, on_timer, &tx);
    assert_true(idx > 0);
    assert_true(xt_loop_add_timer(loop, 20, on_timer, &t20) > 0);
    assert_true(xt_loop_add_timer(loop, 20, on_timer, &t20b) > 0); /* same delay: creation order */
    assert_int_equal(xt_loop_cancel_timer(loop, idx), 0);
    assert_int_equal(xt_loop_cancel_timer(loop, idx), XT_ENOTFOUND);
    assert_int_equal(xt_loop_run(loop), 0); /* returns when no timer is left */
    uint64_t took = xt_loop_now(loop) - start;
    assert_int_equal(r.n, 4);
    assert_int_equal(r.order[0], 10);
    assert_int_equal(r.order[1], 20);
    assert_int_equal(r.order[2], 21);
    assert_int_equal(r.order[3], 30);
    assert_true(took >= 30);
    assert_true(took < 10000);
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

/* A regular file (stdin redirected from one): epoll refuses it, poll(2)
 * calls it always readable; the loop keeps poll's meaning. */
static void on_file(xt_loop *loop, int fd, short revents, void *ud)
{
    pipe_ctx *p = ud;
    assert_true(revents & POLLIN);
    p->calls++;
    ssize_t r = read(fd, p->got + p->n, sizeof p->got - 1 - p->n);
    if (r > 0)
        p->n += (size_t)r;
    else
        assert_int_equal(xt_loop_remove_fd(loop, p->id), 0); /* EOF */
}

static void test_fd_regular_file(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite("from a file", 1, 11, f), 11);
    fflush(f);
    rewind(f);
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    pipe_ctx p = {0};
    p.id = xt_loop_add_fd(loop, fileno(f), POLLIN, on_file, &p);
    assert_true(p.id > 0);
    assert_int_equal(xt_loop_run(loop), 0); /* returns: removed at EOF */
    assert_int_equal(p.n, 11);
    assert_memory_equal(p.got, "from a file", 11);
    assert_true(p.calls >= 2);
    xt_loop_free(loop);
    fclose(f);
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

/* The tests' client: alice@localhost, settings from o, run by loop. */
typedef struct copts {
    const char *host;
    uint16_t port;
    unsigned conn_flags, flags;
    const char *pin, *ca;
    uint32_t timeout;
    int reconnect;
    uint32_t rmin, rmax;
    xt_ctx *ctx;
    const xt_mem *mem;
    uint32_t neg_timeout;
} copts;

static int new_client(xt_loop *loop, const copts *o, xt_client **out)
{
    /* The conn's options, made with o->mem: the conn allocates with it. */
    xt_conn_opts *cc = NULL;
    int rc = xt_conn_opts_new(o->mem, &cc);
    if (!rc)
        rc = xt_conn_opts_set_jid(cc, "alice@localhost");
    if (!rc)
        rc = xt_conn_opts_set_password(cc, "pw");
    if (!rc)
        rc = xt_conn_opts_set_flags(cc, o->conn_flags);
    if (!rc)
        rc = xt_conn_opts_set_timeouts(cc, 0, o->neg_timeout);
    if (!rc)
        rc = xt_client_new(o->ctx, cc, out);
    xt_conn_opts_free(cc); /* copied by the conn */
    if (rc < 0) {
        *out = NULL;
        return rc;
    }
    xt_client *cl = *out;
    if ((rc = xt_client_set_server(cl, o->host, o->port)) < 0 ||
        (rc = xt_client_set_ca_file(cl, o->ca)) < 0 || (rc = xt_client_set_pin(cl, o->pin)) < 0 ||
        (rc = xt_client_set_flags(cl, o->flags)) < 0 ||
        (rc = xt_client_set_connect_timeout(cl, o->timeout)) < 0 ||
        (rc = xt_client_set_reconnect(cl, o->reconnect, o->rmin, o->rmax)) < 0 ||
        (loop && (rc = xt_loop_add_client(loop, cl)) < 0)) {
        xt_client_free(cl);
        *out = NULL;
    }
    return rc;
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

static xt_client *make_client(xt_loop *loop, const char *host, uint16_t port, watch *w, unsigned conn_flags)
{
    copts cfg = {
        .conn_flags = conn_flags,
        .host = host,
        .port = port,
        .timeout = 2000,
    };
    xt_client *cl;
    assert_int_equal(new_client(loop, &cfg, &cl), 0);
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
    copts cfg = {
        .host = "127.0.0.1",
        .ca = "/nonexistent/ca.pem",
    };
    xt_client *cl;
    assert_int_equal(new_client(loop, &cfg, &cl), 0);
    assert_int_equal(xt_client_connect(cl), XT_EINVAL);
    assert_non_null(strstr(xt_client_errdetail(cl), "/nonexistent/ca.pem"));
    /* The loop may go first: the client is detached, not freed. */
    xt_loop_free(loop);
    xt_client_free(cl);
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
 * poll() through the hooks alone (no xt_loop at all; no context either:
 * the client makes its own). The fake server answers with garbage, so the
 * client must resolve, connect, write its header, read, fail and report,
 * all through the application's loop. The hooks' record checks the
 * contract: an fd is unwatched before it is closed (fcntl still works on
 * it at unwatch time), and cleanup comes last. */
typedef struct ext_loop {
    struct pollfd fds[8];
    size_t n;
    int64_t timer_at;
    int watches, unwatches, timers, cleanups;
    int unwatched_open; /* unwatch calls that found the fd still open */
} ext_loop;

static void ext_watch(void *ud, int fd, unsigned events)
{
    ext_loop *e = ud;
    assert_int_equal(e->cleanups, 0);
    e->watches++;
    size_t i;
    for (i = 0; i < e->n && e->fds[i].fd != fd; i++)
        ;
    if (i == e->n) {
        assert_true(e->n < 8);
        e->n++;
    }
    e->fds[i] = (struct pollfd){.fd = fd,
                                .events = (short)((events & XT_IO_READ ? POLLIN : 0) |
                                                  (events & XT_IO_WRITE ? POLLOUT : 0))};
}

static void ext_unwatch(void *ud, int fd)
{
    ext_loop *e = ud;
    e->unwatches++;
    if (fcntl(fd, F_GETFD) >= 0)
        e->unwatched_open++;
    for (size_t i = 0; i < e->n; i++)
        if (e->fds[i].fd == fd) {
            e->fds[i] = e->fds[--e->n];
            return;
        }
    fail_msg("unwatch of fd %d, which was not watched", fd);
}

static void ext_timer(void *ud, int64_t at)
{
    ext_loop *e = ud;
    e->timers++;
    e->timer_at = at;
}

static void ext_cleanup(void *ud)
{
    ext_loop *e = ud;
    e->cleanups++;
}

static void test_external_loop(void **state)
{
    (void)state;
    fake_server s = {.reply = "<not-a-stream/>"};
    uint16_t port = listen_loopback(&s);
    watch w = {0};
    copts o = {.host = "127.0.0.1", .port = port, .timeout = 2000};
    xt_client *cl;
    assert_int_equal(new_client(NULL, &o, &cl), 0);
    w.cl = cl;
    assert_true(xt_conn_on(xt_client_conn(cl), XT_EV_ALL, on_event, &w) > 0);
    ext_loop e = {.timer_at = -1};
    assert_int_equal(xt_client_connect(cl), XT_ESTATE); /* nobody drives it yet */
    /* Settings check what they can at once, and copy. */
    assert_int_equal(xt_client_set_pin(cl, "12:34"), XT_EINVAL);
    assert_int_equal(xt_client_set_server(cl, "", 5222), XT_EINVAL);
    assert_int_equal(xt_client_set_server(NULL, "h", 1), XT_EINVAL);
    char host[16] = "127.0.0.1";
    assert_int_equal(xt_client_set_server(cl, host, port), 0);
    memset(host, 'x', sizeof host - 1); /* the client kept its own copy */
    assert_int_equal(xt_client_set_hooks(cl, ext_watch, NULL, ext_timer, NULL, &e), XT_EINVAL);
    assert_int_equal(xt_client_set_hooks(cl, ext_watch, ext_unwatch, ext_timer, ext_cleanup, &e), 0);
    assert_int_equal(xt_client_set_hooks(cl, ext_watch, ext_unwatch, ext_timer, ext_cleanup, &e),
                     XT_ESTATE);
    assert_int_equal(xt_client_connect(cl), 0);
    assert_int_equal(xt_client_set_server(cl, "x", 1), XT_ESTATE); /* settings: before connect */
    assert_int_equal(xt_client_set_pin(cl, NULL), XT_ESTATE);
    assert_int_equal(e.n, 1); /* the socket, connecting: announced before connect returned */
    assert_true(e.fds[0].events & POLLOUT);
    int rounds = 0;
    while (!w.disconnected && rounds++ < 500) {
        struct pollfd fds[9];
        memcpy(fds, e.fds, e.n * sizeof *fds);
        size_t n = e.n;
        fds[n] = (struct pollfd){.fd = s.cfd < 0 ? s.lfd : -1, .events = POLLIN};
        uint64_t now = xt_now_ms();
        int timeout = e.timer_at < 0 ? 100 : e.timer_at <= (int64_t)now ? 0 : (int)(e.timer_at - (int64_t)now);
        if (timeout > 100)
            timeout = 100;
        assert_true(poll(fds, n + 1, timeout) >= 0);
        if (fds[n].revents & POLLIN) {
            s.cfd = accept(s.lfd, NULL, NULL);
            assert_true(s.cfd >= 0);
            assert_true(write(s.cfd, s.reply, strlen(s.reply)) > 0);
        }
        for (size_t i = 0; i < n; i++) {
            unsigned ev = (fds[i].revents & POLLIN ? XT_IO_READ : 0u) |
                          (fds[i].revents & POLLOUT ? XT_IO_WRITE : 0u) |
                          (fds[i].revents & (POLLERR | POLLHUP) ? XT_IO_ERROR : 0u);
            if (ev)
                assert_int_equal(xt_client_on_fd(cl, fds[i].fd, ev, xt_now_ms()), 0);
        }
        if (e.timer_at >= 0 && (uint64_t)e.timer_at <= xt_now_ms())
            assert_int_equal(xt_client_on_timer(cl, xt_now_ms()), 0);
    }
    assert_int_equal(w.disconnected, 1);
    assert_int_equal(w.error, XT_EXML);
    /* Over: nothing watched, no timer, each unwatch while the fd was open. */
    assert_int_equal(e.n, 0);
    assert_int_equal(e.timer_at, -1);
    assert_int_equal(e.unwatches, 1);
    assert_int_equal(e.unwatched_open, 1);
    assert_int_equal(xt_client_active(cl), 0);
    /* The client wrote its stream header before failing. */
    char buf[512];
    ssize_t got = read(s.cfd, buf, sizeof buf - 1);
    assert_true(got > 0);
    buf[got] = 0;
    assert_non_null(strstr(buf, "<stream:stream"));
    xt_client_free(cl);
    assert_int_equal(e.cleanups, 1);
    close(s.cfd);
    close(s.lfd);
}

static void test_client_garbage(void **state)
{
    (void)state;
    run_fake("this is not XML at all <<<", 0, XT_EXML, 0);
    run_fake("this is not XML at all <<<", 0, XT_EXML, 1);
}

/* xt_client_set_input_done: called after a read's events, before what
 * the conn queued meanwhile is written. The server's garbage makes the
 * conn queue a stream error and emit XT_EV_DISCONNECTED while fed; the
 * hook then sees the event delivered and the error still unsent. */
typedef struct input_rec {
    watch *w;
    int calls, disconnected_then;
    size_t pending_then;
} input_rec;

static void on_input_done(xt_client *cl, void *ud)
{
    input_rec *r = ud;
    const uint8_t *p;
    if (r->calls++ == 0) {
        r->disconnected_then = r->w->disconnected;
        r->pending_then = xt_conn_pending(xt_client_conn(cl), &p);
    }
}

static void test_client_input_done(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    fake_server s = {.reply = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "
                              "from='localhost' id='x'><bogus/>"};
    uint16_t port = listen_loopback(&s);
    s.id = xt_loop_add_fd(loop, s.lfd, POLLIN, on_accept, &s);
    watch w = {0};
    input_rec r = {.w = &w};
    xt_client *cl = make_client(loop, "localhost", port, &w, 0);
    assert_int_equal(xt_client_set_input_done(NULL, on_input_done, &r), XT_EINVAL);
    assert_int_equal(xt_client_set_input_done(cl, on_input_done, &r), 0);
    assert_int_equal(xt_client_connect(cl), 0);
    uint64_t start = xt_loop_now(loop);
    while (!w.disconnected && xt_loop_now(loop) - start < 5000)
        assert_int_equal(xt_loop_run_once(loop, 100), 0);
    assert_int_equal(w.disconnected, 1);
    assert_true(r.calls >= 1);
    assert_int_equal(r.disconnected_then, 1); /* the read's events came first */
    assert_true(r.pending_then > 0);          /* its answer had not left yet */
    /* Removed: no more calls. */
    int calls = r.calls;
    assert_int_equal(xt_client_set_input_done(cl, NULL, NULL), 0);
    (void)xt_loop_run_once(loop, 0);
    assert_int_equal(r.calls, calls);
    xt_client_free(cl);
    if (s.cfd >= 0)
        close(s.cfd);
    close(s.lfd);
    xt_loop_free(loop);
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
    copts cfg = {
        .host = "127.0.0.1",
        .port = port,
        .timeout = 2000,
        .reconnect = 1,
        .rmin = 5,
        .rmax = 40,
    };
    xt_client *cl;
    assert_int_equal(new_client(loop, &cfg, &cl), 0);
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
    copts cfg = {
        .host = "127.0.0.1",
        .port = pa,
        .timeout = 2000,
        .reconnect = 1,
        .rmin = 5,
        .rmax = 10,
    };
    xt_client *cl;
    assert_int_equal(new_client(loop, &cfg, &cl), 0);
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
    assert_int_equal(xt_ctx_set_max_handshakes(NULL, 1), XT_EINVAL);
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    xt_ctx *ctx;
    assert_int_equal(xt_ctx_new(NULL, &ctx), 0);
    assert_int_equal(xt_ctx_set_max_handshakes(ctx, 1), 0);
    hs_server s = {0};
    fake_server f;
    uint16_t port = listen_loopback(&f);
    s.lfd = f.lfd;
    s.lid = xt_loop_add_fd(loop, s.lfd, POLLIN, hs_accept, &s);
    copts cfg = {
        .conn_flags = XT_CONN_DIRECT_TLS,
        .host = "127.0.0.1",
        .port = port,
        .flags = XT_CLIENT_NO_SYSTEM_CA,
        .timeout = 5000,
        .ctx = ctx,
    };
    xt_client *a, *b;
    watch wa = {0}, wb = {0};
    assert_int_equal(new_client(loop, &cfg, &a), 0);
    assert_int_equal(new_client(loop, &cfg, &b), 0);
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
    /* The failed one gave its slot back; the one still in its handshake
     * holds it until it is freed, mid-handshake. */
    assert_int_equal(xt_ctx_slots_busy(ctx), 1);
    xt_client_free(a);
    xt_client_free(b);
    assert_int_equal(xt_ctx_slots_busy(ctx), 0);
    xt_ctx_free(ctx);
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
    copts cfg = {
        .conn_flags = XT_CONN_DIRECT_TLS,
        .host = "127.0.0.1",
        .port = port,
        .pin = pin,
        .flags = XT_CLIENT_NO_SYSTEM_CA,
        .timeout = 3000,
    };
    xt_client *cl;
    assert_int_equal(new_client(loop, &cfg, &cl), 0);
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


/* --- the context's limiter, on its own ----------------------------------- */

typedef struct fake_slot {
    xt_slot s; /* first: granted() gets &s */
    int granted;
    int order;
} fake_slot;

static int grant_seq;
static void fake_granted(xt_slot *s)
{
    fake_slot *f = (fake_slot *)(void *)s;
    f->granted++;
    f->order = ++grant_seq;
}

/* Exact counting and FIFO order: a queued slot that leaves (its client
 * freed while waiting) is never granted; a held one that is released
 * (handshake over, failed, or its client freed) goes to the first waiter;
 * raising the cap wakes waiters at once, in order; nothing is left held. */
static void test_ctx_limiter(void **state)
{
    (void)state;
    xt_ctx *ctx;
    assert_int_equal(xt_ctx_new(NULL, &ctx), 0);
    assert_int_equal(xt_ctx_set_max_handshakes(ctx, 1), 0);
    fake_slot f[5];
    memset(f, 0, sizeof f);
    for (int i = 0; i < 5; i++)
        f[i].s.granted = fake_granted;
    grant_seq = 0;
    assert_int_equal(xt_ctx_slot_take(ctx, &f[0].s), 1);
    for (int i = 1; i < 5; i++)
        assert_int_equal(xt_ctx_slot_take(ctx, &f[i].s), 0);
    assert_int_equal(xt_ctx_slot_take(ctx, &f[1].s), 0); /* asking again: still queued, once */
    assert_int_equal(xt_ctx_slots_busy(ctx), 1);
    xt_ctx_slot_release(ctx, &f[1].s); /* freed while waiting: leaves the queue */
    xt_ctx_slot_release(ctx, &f[0].s); /* the handshake ends: the next in line */
    assert_int_equal(f[1].granted, 0);
    assert_int_equal(f[2].granted, 1);
    assert_int_equal(f[3].granted + f[4].granted, 0);
    assert_int_equal(xt_ctx_slots_busy(ctx), 1);
    /* A newcomer does not jump the queue even when a slot is free. */
    assert_int_equal(xt_ctx_set_max_handshakes(ctx, 3), 0);
    assert_int_equal(f[3].order, 2);
    assert_int_equal(f[4].order, 3);
    assert_int_equal(xt_ctx_slots_busy(ctx), 3);
    fake_slot late = {.s.granted = fake_granted};
    assert_int_equal(xt_ctx_set_max_handshakes(ctx, 0), 0); /* no limit */
    assert_int_equal(xt_ctx_slot_take(ctx, &late.s), 1);
    xt_ctx_slot_release(ctx, &late.s);
    xt_ctx_slot_release(ctx, &late.s); /* twice: nothing */
    for (int i = 2; i < 5; i++)
        xt_ctx_slot_release(ctx, &f[i].s);
    assert_int_equal(xt_ctx_slots_busy(ctx), 0);
    xt_ctx_free(ctx);
    xt_ctx_free(NULL);
}

/* --- the epoll loop's cost ------------------------------------------------- */

static int wait_header(int fd, xt_loop *loop)
{
    char buf[1024];
    size_t n = 0;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    uint64_t start = xt_now_ms();
    while (xt_now_ms() - start < 10000) {
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r > 0) {
            n += (size_t)r;
            buf[n] = 0;
            if (strstr(buf, "<stream:stream"))
                return 1;
        }
        (void)xt_loop_run_once(loop, 10);
    }
    return 0;
}

/* Many idle clients cost nothing per iteration: N clients connected to
 * a server that never answers (each has sent its stream header and
 * waits). Once their one idle timer (the trim after 1 s) has run, loop
 * iterations make no call into any client; a byte for one client makes
 * exactly one call, into that client. (A poll loop visits all N every
 * iteration.) */
#define IDLE_N 100
static void test_loop_idle_cost(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    xt_ctx *ctx;
    assert_int_equal(xt_ctx_new(NULL, &ctx), 0);
    fake_server f;
    uint16_t port = listen_loopback(&f);
    assert_int_equal(listen(f.lfd, IDLE_N + 8), 0);
    static xt_client *cl[IDLE_N];
    static int sfd[IDLE_N];
    static watch w[IDLE_N];
    memset(w, 0, sizeof w);
    copts o = {.host = "127.0.0.1", .port = port, .timeout = 5000, .ctx = ctx};
    for (int i = 0; i < IDLE_N; i++) {
        assert_int_equal(new_client(loop, &o, &cl[i]), 0);
        assert_true(xt_conn_on(xt_client_conn(cl[i]), XT_EV_ALL, on_event, &w[i]) > 0);
        assert_int_equal(xt_client_connect(cl[i]), 0);
    }
    for (int i = 0; i < IDLE_N; i++) {
        sfd[i] = accept(f.lfd, NULL, NULL);
        assert_true(sfd[i] >= 0);
        assert_true(wait_header(sfd[i], loop));
    }
    /* Quiet: until an iteration that waited 1.5 s made no call at all. */
    for (int k = 0;; k++) {
        assert_true(k < 20);
        uint64_t before = xt_loop_client_calls(loop);
        assert_int_equal(xt_loop_run_once(loop, 1500), 0);
        if (xt_loop_client_calls(loop) == before)
            break;
    }
    uint64_t before = xt_loop_client_calls(loop);
    for (int k = 0; k < 1000; k++)
        assert_int_equal(xt_loop_run_once(loop, 0), 0);
    assert_int_equal(xt_loop_client_calls(loop) - before, 0);
    /* One ready fd: one call. The garbage ends that client's stream. */
    assert_int_equal(write(sfd[IDLE_N / 2], "<x", 2), 2);
    before = xt_loop_client_calls(loop);
    while (xt_loop_client_calls(loop) == before)
        assert_int_equal(xt_loop_run_once(loop, 1000), 0);
    assert_int_equal(xt_loop_client_calls(loop) - before, 1);
    for (int i = 0; i < IDLE_N; i++) {
        assert_int_equal(w[i].disconnected, 0);
        xt_client_free(cl[i]);
        close(sfd[i]);
    }
    close(f.lfd);
    xt_ctx_free(ctx);
    assert_int_equal(xt_loop_run(loop), 0); /* nothing left: returns */
    xt_loop_free(loop);
}

/* The clients' timers fire in deadline order, whatever the order they
 * were armed in (the loop's heap of client timers): four clients whose
 * negotiation times out after 400, 100, 300 and 200 ms. */
typedef struct order_rec {
    int order[4];
    int n;
} order_rec;
typedef struct order_tag {
    order_rec *r;
    int v;
} order_tag;

static void on_order(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)c;
    order_tag *t = ud;
    if (ev->type == XT_EV_DISCONNECTED) {
        assert_int_equal(ev->u.disconnected.error, XT_ETIMEOUT);
        t->r->order[t->r->n++] = t->v;
    }
}

static void test_loop_client_timer_order(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    fake_server f;
    uint16_t port = listen_loopback(&f);
    order_rec r = {0};
    static const uint32_t ms[4] = {400, 100, 300, 200};
    order_tag tags[4];
    xt_client *cl[4];
    for (int i = 0; i < 4; i++) {
        copts o = {.host = "127.0.0.1", .port = port, .timeout = 5000, .neg_timeout = ms[i]};
        tags[i] = (order_tag){&r, (int)ms[i]};
        assert_int_equal(new_client(loop, &o, &cl[i]), 0);
        assert_true(xt_conn_on(xt_client_conn(cl[i]), XT_EV_ALL, on_order, &tags[i]) > 0);
        assert_int_equal(xt_client_connect(cl[i]), 0);
    }
    uint64_t start = xt_now_ms();
    while (r.n < 4 && xt_now_ms() - start < 10000)
        assert_int_equal(xt_loop_run_once(loop, 1000), 0);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.order[0], 100);
    assert_int_equal(r.order[1], 200);
    assert_int_equal(r.order[2], 300);
    assert_int_equal(r.order[3], 400);
    for (int i = 0; i < 4; i++)
        xt_client_free(cl[i]);
    close(f.lfd);
    xt_loop_free(loop);
}

/* Hook order across reconnections, with the application's own driver:
 * the server hangs up at once, the client reconnects three times (a new
 * socket each time, usually with the number the last one had). Every
 * fd is unwatched while still open, before any watch of the next one,
 * and the watch/unwatch calls pair up. */
static void test_hooks_fd_reuse(void **state)
{
    (void)state;
    fake_server srv;
    uint16_t port = listen_loopback(&srv);
    copts o = {.host = "127.0.0.1", .port = port, .timeout = 2000, .reconnect = 1, .rmin = 1, .rmax = 2};
    xt_client *cl;
    assert_int_equal(new_client(NULL, &o, &cl), 0);
    rwatch rw = {.stop_after = 3, .cl = cl};
    assert_true(xt_conn_on(xt_client_conn(cl), XT_EV_ALL, on_rev, &rw) > 0);
    ext_loop e = {.timer_at = -1};
    assert_int_equal(xt_client_set_hooks(cl, ext_watch, ext_unwatch, ext_timer, ext_cleanup, &e), 0);
    assert_int_equal(xt_client_connect(cl), 0);
    int rounds = 0;
    while (xt_client_active(cl) && rounds++ < 2000) {
        struct pollfd fds[9];
        memcpy(fds, e.fds, e.n * sizeof *fds);
        size_t n = e.n;
        fds[n] = (struct pollfd){.fd = srv.lfd, .events = POLLIN};
        uint64_t now = xt_now_ms();
        int timeout = e.timer_at < 0 ? 100 : e.timer_at <= (int64_t)now ? 0 : (int)(e.timer_at - (int64_t)now);
        assert_true(poll(fds, n + 1, timeout > 100 ? 100 : timeout) >= 0);
        if (fds[n].revents & POLLIN)
            close(accept(srv.lfd, NULL, NULL)); /* hang up at once */
        for (size_t i = 0; i < n; i++) {
            unsigned ev = (fds[i].revents & POLLIN ? XT_IO_READ : 0u) |
                          (fds[i].revents & POLLOUT ? XT_IO_WRITE : 0u) |
                          (fds[i].revents & (POLLERR | POLLHUP) ? XT_IO_ERROR : 0u);
            /* An fd unwatched by an earlier call in this round is ignored. */
            if (ev)
                assert_int_equal(xt_client_on_fd(cl, fds[i].fd, ev, xt_now_ms()), 0);
        }
        if (e.timer_at >= 0 && (uint64_t)e.timer_at <= xt_now_ms())
            assert_int_equal(xt_client_on_timer(cl, xt_now_ms()), 0);
    }
    assert_int_equal(rw.n, 3);
    assert_int_equal(e.n, 0);
    assert_int_equal(e.unwatches, 3);      /* one socket per attempt */
    assert_int_equal(e.unwatched_open, 3); /* each before its close */
    assert_int_equal(e.timer_at, -1);
    xt_client_free(cl);
    assert_int_equal(e.cleanups, 1);
    close(srv.lfd);
}

/* --- DNS through the context ------------------------------------------------- */

/* A DNS server on a loop fd: answers _xmpp-client._tcp.<anything> with one
 * SRV record (localhost, port `port`) and every other query with
 * NXDOMAIN. */
typedef struct fake_dns {
    int fd, id;
    uint16_t port;
    int srv_answers, queries;
} fake_dns;

static void dns_io(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)loop, (void)revents;
    fake_dns *d = ud;
    uint8_t q[512], r[600];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
    if (n < 17)
        return;
    d->queries++;
    size_t i = 12;
    while (i < (size_t)n && q[i])
        i += (size_t)q[i] + 1;
    size_t qend = i + 5; /* the root label, QTYPE, QCLASS */
    assert_true(qend <= (size_t)n);
    int srv = q[i + 1] == 0 && q[i + 2] == 33 && memcmp(q + 13, "_xmpp-client", 12) == 0;
    memcpy(r, q, qend);
    r[2] = 0x81;                    /* QR, RD */
    r[3] = srv ? 0x80 : 0x83;       /* RA; NXDOMAIN unless answered */
    r[4] = 0, r[5] = 1;             /* QDCOUNT */
    r[6] = 0, r[7] = srv ? 1 : 0;   /* ANCOUNT */
    memset(r + 8, 0, 4);            /* NSCOUNT, ARCOUNT: no OPT echoed */
    size_t k = qend;
    if (srv) {
        static const uint8_t target[] = "\x09localhost";
        const uint8_t rr[] = {0xc0, 0x0c, 0, 33, 0, 1, 0, 0, 0, 60, 0, (uint8_t)(6 + sizeof target),
                              0, 0, 0, 0, (uint8_t)(d->port >> 8), (uint8_t)d->port};
        memcpy(r + k, rr, sizeof rr);
        k += sizeof rr;
        memcpy(r + k, target, sizeof target); /* with its root label */
        k += sizeof target;
        d->srv_answers++;
    }
    assert_true(sendto(fd, r, k, 0, (struct sockaddr *)&from, flen) == (ssize_t)k);
}

/* The context's DNS servers are the ones asked: a client with no host
 * looks up the SRV record of its JID's domain there (c-ares' socket
 * watched and unwatched through the client's hooks, in the epoll loop)
 * and connects to the port it names, where a fake server answers with
 * garbage. A malformed server list is refused. */
static void test_ctx_dns_servers(void **state)
{
    (void)state;
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    fake_server xs = {.reply = "<not-a-stream/>"};
    fake_dns d = {0};
    d.port = listen_loopback(&xs);
    xs.id = xt_loop_add_fd(loop, xs.lfd, POLLIN, on_accept, &xs);
    d.fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(d.fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(d.fd, (struct sockaddr *)&a, &len);
    d.id = xt_loop_add_fd(loop, d.fd, POLLIN, dns_io, &d);
    char servers[64];
    snprintf(servers, sizeof servers, "127.0.0.1:%u", ntohs(a.sin_port));
    xt_ctx *ctx;
    assert_int_equal(xt_ctx_new(NULL, &ctx), 0);
    assert_int_equal(xt_ctx_set_dns_servers(ctx, "not an address"), XT_EINVAL);
    assert_int_equal(xt_ctx_set_dns_servers(NULL, servers), XT_EINVAL);
    assert_int_equal(xt_ctx_set_dns_servers(ctx, servers), 0);

    xt_conn_opts *cc = NULL;
    assert_int_equal(xt_conn_opts_new(NULL, &cc), 0);
    assert_int_equal(xt_conn_opts_set_jid(cc, "alice@xmpp.test"), 0);
    assert_int_equal(xt_conn_opts_set_password(cc, "pw"), 0);
    xt_client *cl;
    assert_int_equal(xt_client_new(ctx, cc, &cl), 0);
    xt_conn_opts_free(cc);
    xt_ctx_free(ctx);
    assert_int_equal(xt_client_set_connect_timeout(cl, 3000), 0);
    assert_int_equal(xt_loop_add_client(loop, cl), 0);
    watch w = {.cl = cl};
    assert_true(xt_conn_on(xt_client_conn(cl), XT_EV_ALL, on_event, &w) > 0);
    assert_int_equal(xt_client_connect(cl), 0);
    uint64_t start = xt_now_ms();
    while (!w.disconnected && xt_now_ms() - start < 10000)
        assert_int_equal(xt_loop_run_once(loop, 1000), 0);
    assert_int_equal(d.srv_answers, 1);
    assert_int_equal(w.disconnected, 1);
    assert_int_equal(w.error, XT_EXML); /* it reached the SRV target's port */
    assert_true(xs.cfd >= 0);
    xt_client_free(cl);
    xt_loop_remove_fd(loop, d.id);
    close(d.fd);
    close(xs.cfd);
    close(xs.lfd);
    assert_int_equal(xt_loop_run(loop), 0); /* nothing of the client is left in the loop */
    xt_loop_free(loop);
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
        copts cfg = {
            .host = "127.0.0.1",
            .port = port,
            .timeout = 2000,
            .mem = &mem,
        };
        xt_client *cl = NULL;
        if (new_client(loop, &cfg, &cl) == 0) {
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
        xt_client_free(cl);
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
        cmocka_unit_test(test_fd_regular_file),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_client_refused),
        cmocka_unit_test(test_client_bad_ca),
        cmocka_unit_test(test_client_garbage),
        cmocka_unit_test(test_external_loop),
        cmocka_unit_test(test_client_eof),
        cmocka_unit_test(test_client_input_done),
        cmocka_unit_test(test_client_reconnect),
        cmocka_unit_test(test_client_redirect),
        cmocka_unit_test(test_client_tls_garbage),
        cmocka_unit_test(test_client_tls),
        cmocka_unit_test(test_handshake_cap),
        cmocka_unit_test(test_ctx_limiter),
        cmocka_unit_test(test_loop_idle_cost),
        cmocka_unit_test(test_loop_client_timer_order),
        cmocka_unit_test(test_hooks_fd_reuse),
        cmocka_unit_test(test_ctx_dns_servers),
        cmocka_unit_test(test_client_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
