/*
 * xtalk/adapters/libuv.h -- run an xt_client in a libuv loop.
 *
 * Header-only (static inline), as hiredis's adapters: libxtalk itself
 * never links libuv; a program that includes this links it (pkg-config
 * libuv). It maps the client's hooks (client.h) onto libuv handles:
 *
 *   watch(fd, events) -> a uv_poll_t per fd, uv_poll_start / uv_poll_stop
 *   unwatch(fd)       -> uv_poll_stop and uv_close, before the client
 *                        closes fd (libuv must not poll a closed fd)
 *   timer(at)         -> one uv_timer_t, uv_timer_start / uv_timer_stop
 *   cleanup           -> closes the handles; the adapter's memory goes
 *                        when libuv has finished closing them
 *
 * Use:
 *   xt_client_new(NULL, &cfg, &cl);       (settings, handlers)
 *   xt_uv_attach(uv_default_loop(), cl);  before xt_client_connect
 *   xt_client_connect(cl);
 *   uv_run(uv_default_loop(), UV_RUN_DEFAULT);
 *
 * uv_run returns when the client has nothing left to wait for (no fd,
 * no timer) and nothing else of yours is active. Free the client any
 * time (from its own handlers too); run the uv loop once more afterwards
 * (uv_run(loop, UV_RUN_NOWAIT) is enough) so the handles' close callbacks
 * free the adapter. After sending through the conn from one of your own
 * libuv callbacks, call xt_client_flush(cl, xt_now_ms()) (client.h:
 * sends only queue).
 *
 * Threads: the client and the uv loop on one thread.
 */
#ifndef XTALK_ADAPTERS_LIBUV_H
#define XTALK_ADAPTERS_LIBUV_H

#include <stdlib.h>

#include <uv.h>

#include "../client.h"

typedef struct xt_uv xt_uv;

typedef struct xt_uv_fd {
    uv_poll_t poll; /* first: the handle's address is the record's */
    int fd;
    xt_uv *owner;
    struct xt_uv_fd *next;
} xt_uv_fd;

struct xt_uv {
    uv_loop_t *loop;
    xt_client *cl;
    uv_timer_t timer;
    xt_uv_fd *fds;    /* the watched fds */
    unsigned closing; /* handles whose close callback has not run yet */
    int freed;        /* cleanup ran: free once closing reaches 0 */
};

static inline void xt_uv__maybe_free(xt_uv *a)
{
    if (a->freed && a->closing == 0)
        free(a);
}

static inline void xt_uv__closed(uv_handle_t *h)
{
    xt_uv *a = (xt_uv *)h->data;
    if ((void *)h != (void *)&a->timer)
        free(h); /* an xt_uv_fd: the poll handle is its first member */
    a->closing--;
    xt_uv__maybe_free(a);
}

static inline void xt_uv__on_poll(uv_poll_t *h, int status, int events)
{
    xt_uv_fd *f = (xt_uv_fd *)(void *)h;
    unsigned ev = 0;
    if (status < 0)
        ev |= XT_IO_ERROR;
    if (events & UV_READABLE)
        ev |= XT_IO_READ;
    if (events & UV_WRITABLE)
        ev |= XT_IO_WRITE;
    if (events & UV_DISCONNECT)
        ev |= XT_IO_ERROR;
    (void)xt_client_on_fd(f->owner->cl, f->fd, ev, xt_now_ms());
}

static inline void xt_uv__on_timer(uv_timer_t *t)
{
    xt_uv *a = (xt_uv *)t->data;
    (void)xt_client_on_timer(a->cl, xt_now_ms());
}

static inline void xt_uv__watch(void *ud, int fd, unsigned events)
{
    xt_uv *a = (xt_uv *)ud;
    xt_uv_fd *f = a->fds;
    while (f && f->fd != fd)
        f = f->next;
    if (!f) {
        f = (xt_uv_fd *)calloc(1, sizeof *f);
        if (!f)
            return; /* the client's own timeouts end the wait: it fails, never hangs */
        if (uv_poll_init(a->loop, &f->poll, fd) != 0) {
            free(f);
            return;
        }
        f->poll.data = a;
        f->fd = fd;
        f->owner = a;
        f->next = a->fds;
        a->fds = f;
    }
    int uvev = (events & XT_IO_READ ? UV_READABLE | UV_DISCONNECT : 0) |
               (events & XT_IO_WRITE ? UV_WRITABLE : 0);
    /* 0: only errors matter, which libuv cannot wait for alone; the
     * client asks for more (and its timeouts run) before it needs them. */
    if (uvev)
        (void)uv_poll_start(&f->poll, uvev, xt_uv__on_poll);
    else
        (void)uv_poll_stop(&f->poll);
}

static inline void xt_uv__close_fd(xt_uv *a, xt_uv_fd *f)
{
    uv_poll_stop(&f->poll); /* off epoll now, while fd is still open */
    a->closing++;
    uv_close((uv_handle_t *)&f->poll, xt_uv__closed);
}

static inline void xt_uv__unwatch(void *ud, int fd)
{
    xt_uv *a = (xt_uv *)ud;
    for (xt_uv_fd **p = &a->fds; *p; p = &(*p)->next) {
        if ((*p)->fd == fd) {
            xt_uv_fd *f = *p;
            *p = f->next;
            xt_uv__close_fd(a, f);
            return;
        }
    }
}

static inline void xt_uv__timer(void *ud, int64_t at)
{
    xt_uv *a = (xt_uv *)ud;
    if (at < 0) {
        uv_timer_stop(&a->timer);
        return;
    }
    uint64_t now = xt_now_ms();
    uint64_t delay = (uint64_t)at > now ? (uint64_t)at - now : 0;
    uv_timer_start(&a->timer, xt_uv__on_timer, delay, 0);
}

static inline void xt_uv__cleanup(void *ud)
{
    xt_uv *a = (xt_uv *)ud;
    while (a->fds) {
        xt_uv_fd *f = a->fds;
        a->fds = f->next;
        xt_uv__close_fd(a, f);
    }
    uv_timer_stop(&a->timer);
    a->closing++;
    uv_close((uv_handle_t *)&a->timer, xt_uv__closed);
    a->freed = 1;
}

/* Runs cl in loop: before xt_client_connect, once per client. Returns 0,
 * XT_ENOMEM, XT_EIO (libuv refused the timer), or what
 * xt_client_set_hooks returns (XT_ESTATE: connected or driven already). */
static inline int xt_uv_attach(uv_loop_t *loop, xt_client *cl)
{
    xt_uv *a = (xt_uv *)calloc(1, sizeof *a);
    if (!a)
        return XT_ENOMEM;
    a->loop = loop;
    a->cl = cl;
    if (uv_timer_init(loop, &a->timer) != 0) {
        free(a);
        return XT_EIO;
    }
    a->timer.data = a;
    int rc = xt_client_set_hooks(cl, xt_uv__watch, xt_uv__unwatch, xt_uv__timer, xt_uv__cleanup, a);
    if (rc < 0) {
        a->freed = 1;
        a->closing++;
        uv_close((uv_handle_t *)&a->timer, xt_uv__closed);
    }
    return rc;
}

#endif
