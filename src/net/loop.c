/*
 * The built-in loop: epoll, application fds and one-shot timers, and
 * clients run through their public hooks (client.h) like any other loop
 * would run them.
 *
 * Cost per iteration: the ready fds and the due timers, never the
 * number of clients (an idle client costs nothing until its timer is
 * due). The one exception is said in client.h: after application
 * callbacks ran, every client is flushed, since one of them may have
 * sent through a conn and the client cannot know.
 *
 * Records that callbacks remove (an fd watch, a freed client) may still
 * be named by an event of the current epoll_wait batch: they are marked
 * dead and freed when the iteration ends, and dispatch skips dead ones.
 * So nothing is freed under a running callback.
 *
 * Timers: two binary min-heaps on (due, seq), one of values for the
 * application's timers and one of client records that know their own
 * index (a client re-arms at every call: O(log n) each, no search).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/mem.h"
#include "net/loop.h"
#include "xtalk/client.h"

typedef struct lclient lclient;

typedef struct watch {
    int fd;
    int id; /* application fd id; 0 for a client's fd */
    int dead;
    int always;   /* a regular file (epoll refuses it): ready at every iteration, as poll says */
    short events; /* application: poll events */
    xt_fd_fn cb;
    void *ud;
    lclient *lc; /* a client's fd */
    struct watch *next_dead;
} watch;

struct lclient {
    xt_loop *loop;
    xt_client *cl;
    uint64_t due, seq;
    size_t hidx; /* in loop->cheap while armed */
    int armed, dead;
    lclient *prev, *next, *next_dead;
};

typedef struct app_timer {
    uint64_t due;
    uint64_t seq; /* ties break by creation order */
    int id;
    xt_timer_fn cb;
    void *ud;
} app_timer;

struct xt_loop {
    xt_mem memv;
    const xt_mem *mem;
    int epfd;
    watch **byfd; /* live watches by fd number */
    size_t cap_byfd;
    size_t nwatches; /* live ones */
    watch **apps;    /* live application fds, for lookups by id */
    size_t napps, cap_apps;
    size_t nalways; /* application fds with .always */
    watch *dead_watches;
    lclient *clients, *clients_tail, *dead_clients;
    app_timer *timers; /* binary min-heap on (due, seq) */
    size_t ntimers, cap_timers;
    lclient **cheap; /* the clients' timers, a min-heap on (due, seq) */
    size_t ncheap, cap_cheap;
    uint64_t seq;
    int next_id;
    int depth;      /* > 0 while dispatching */
    uint64_t calls; /* into clients: xt_loop_client_calls */
    int stop;
};

uint64_t xt_loop_now(const xt_loop *loop)
{
    (void)loop;
    return xt_clock_ms();
}

void xt_loop_stop(xt_loop *loop)
{
    if (loop)
        loop->stop = 1;
}

int xt_loop_new(const xt_mem *mem, xt_loop **out)
{
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    xt_loop *l = xt_calloc(mem, 1, sizeof *l);
    if (!l)
        return XT_ENOMEM;
    if (mem) {
        l->memv = *mem;
        l->mem = &l->memv;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        int e = errno;
        xt_free(l->mem, l);
        return e == ENOMEM ? XT_ENOMEM : XT_EIO;
    }
    *out = l;
    return 0;
}

static void sweep(xt_loop *loop)
{
    while (loop->dead_watches) {
        watch *w = loop->dead_watches;
        loop->dead_watches = w->next_dead;
        xt_free(loop->mem, w);
    }
    while (loop->dead_clients) {
        lclient *lc = loop->dead_clients;
        loop->dead_clients = lc->next_dead;
        if (lc->prev)
            lc->prev->next = lc->next;
        else
            loop->clients = lc->next;
        if (lc->next)
            lc->next->prev = lc->prev;
        else
            loop->clients_tail = lc->prev;
        xt_free(loop->mem, lc);
    }
}

void xt_loop_free(xt_loop *loop)
{
    if (!loop)
        return;
    /* Clients stay alive, undriven: they must not call our hooks. */
    for (lclient *lc = loop->clients; lc; lc = lc->next) {
        if (!lc->dead) {
            (void)xt_client_set_hooks(lc->cl, NULL, NULL, NULL, NULL, NULL);
            lc->dead = 1;
            lc->next_dead = loop->dead_clients;
            loop->dead_clients = lc;
        }
    }
    for (size_t i = 0; i < loop->cap_byfd; i++)
        if (loop->byfd[i])
            xt_free(loop->mem, loop->byfd[i]);
    sweep(loop);
    close(loop->epfd);
    xt_free(loop->mem, loop->byfd);
    xt_free(loop->mem, loop->apps);
    xt_free(loop->mem, loop->timers);
    xt_free(loop->mem, loop->cheap);
    xt_free(loop->mem, loop);
}

/* --- fd watches ------------------------------------------------------------ */

static uint32_t to_epoll(short ev)
{
    return (ev & POLLIN ? EPOLLIN : 0u) | (ev & POLLOUT ? EPOLLOUT : 0u);
}

static short from_epoll(uint32_t ev)
{
    return (short)((ev & EPOLLIN ? POLLIN : 0) | (ev & EPOLLOUT ? POLLOUT : 0) |
                   (ev & EPOLLERR ? POLLERR : 0) | (ev & EPOLLHUP ? POLLHUP : 0));
}

static void kill_watch(xt_loop *loop, watch *w)
{
    if (loop->byfd[w->fd] == w)
        loop->byfd[w->fd] = NULL;
    loop->nwatches--;
    if (w->always)
        loop->nalways--;
    w->dead = 1;
    if (loop->depth) {
        w->next_dead = loop->dead_watches;
        loop->dead_watches = w;
    } else {
        xt_free(loop->mem, w);
    }
}

/* Registers a new watch for w->fd with epoll events ev. */
static int add_watch(xt_loop *loop, watch *w, uint32_t ev)
{
    size_t need = (size_t)w->fd + 1;
    if (need > loop->cap_byfd) {
        size_t cap = loop->cap_byfd ? loop->cap_byfd : 64;
        while (cap < need)
            cap *= 2;
        watch **nb = xt_realloc(loop->mem, loop->byfd, cap * sizeof *nb);
        if (!nb)
            return XT_ENOMEM;
        memset(nb + loop->cap_byfd, 0, (cap - loop->cap_byfd) * sizeof *nb);
        loop->byfd = nb;
        loop->cap_byfd = cap;
    }
    if (loop->byfd[w->fd])
        return XT_EINVAL; /* one watch per fd */
    struct epoll_event e = {.events = ev, .data.ptr = w};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, w->fd, &e) < 0) {
        /* EPERM: a regular file or directory. poll(2) calls those always
         * ready; an application fd keeps that meaning here. */
        if (errno != EPERM || w->lc)
            return errno == ENOMEM || errno == ENOSPC ? XT_ENOMEM : XT_EINVAL;
        w->always = 1;
        loop->nalways++;
    }
    loop->byfd[w->fd] = w;
    loop->nwatches++;
    return 0;
}

static int new_id(xt_loop *loop)
{
    if (loop->next_id == INT32_MAX)
        loop->next_id = 0;
    return ++loop->next_id;
}

int xt_loop_add_fd(xt_loop *loop, int fd, short events, xt_fd_fn cb, void *ud)
{
    if (!loop || fd < 0 || !cb)
        return XT_EINVAL;
    if (XT_GROW(loop->mem, loop->apps, loop->cap_apps, loop->napps + 1, 8))
        return XT_ENOMEM;
    watch *w = xt_calloc(loop->mem, 1, sizeof *w);
    if (!w)
        return XT_ENOMEM;
    *w = (watch){.fd = fd, .id = new_id(loop), .events = events, .cb = cb, .ud = ud};
    int rc = add_watch(loop, w, to_epoll(events));
    if (rc < 0) {
        xt_free(loop->mem, w);
        return rc;
    }
    loop->apps[loop->napps++] = w;
    return w->id;
}

static size_t find_app(const xt_loop *loop, int id)
{
    for (size_t i = 0; id > 0 && i < loop->napps; i++)
        if (loop->apps[i]->id == id)
            return i;
    return SIZE_MAX;
}

int xt_loop_mod_fd(xt_loop *loop, int id, short events)
{
    size_t i = loop ? find_app(loop, id) : SIZE_MAX;
    if (i == SIZE_MAX)
        return XT_ENOTFOUND;
    watch *w = loop->apps[i];
    struct epoll_event e = {.events = to_epoll(events), .data.ptr = w};
    if (!w->always && epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &e) < 0)
        return XT_EIO;
    w->events = events;
    return 0;
}

int xt_loop_remove_fd(xt_loop *loop, int id)
{
    size_t i = loop ? find_app(loop, id) : SIZE_MAX;
    if (i == SIZE_MAX)
        return XT_ENOTFOUND;
    watch *w = loop->apps[i];
    loop->apps[i] = loop->apps[--loop->napps];
    if (!w->always)
        (void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    kill_watch(loop, w);
    return 0;
}

/* Application fds that are always ready and wanted: 1 if any. */
static int always_ready(const xt_loop *loop)
{
    for (size_t i = 0; loop->nalways && i < loop->napps; i++)
        if (loop->apps[i]->always && (loop->apps[i]->events & (POLLIN | POLLOUT)))
            return 1;
    return 0;
}

/* --- application timers ---------------------------------------------------- */

static int timer_less(const app_timer *a, const app_timer *b)
{
    return a->due != b->due ? a->due < b->due : a->seq < b->seq;
}

static void heap_up(app_timer *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!timer_less(&h[i], &h[p]))
            break;
        app_timer t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static void heap_down(app_timer *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && timer_less(&h[l], &h[m]))
            m = l;
        if (r < n && timer_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        app_timer t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_remove(xt_loop *loop, size_t i)
{
    loop->timers[i] = loop->timers[--loop->ntimers];
    if (i < loop->ntimers) {
        heap_down(loop->timers, loop->ntimers, i);
        heap_up(loop->timers, i);
    }
}

int xt_loop_add_timer(xt_loop *loop, uint64_t delay_ms, xt_timer_fn cb, void *ud)
{
    if (!loop || !cb)
        return XT_EINVAL;
    if (XT_GROW(loop->mem, loop->timers, loop->cap_timers, loop->ntimers + 1, 8))
        return XT_ENOMEM;
    uint64_t now = xt_clock_ms();
    int id = new_id(loop);
    loop->timers[loop->ntimers] =
        (app_timer){.due = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms,
                    .seq = loop->seq++,
                    .id = id,
                    .cb = cb,
                    .ud = ud};
    heap_up(loop->timers, loop->ntimers++);
    return id;
}

int xt_loop_cancel_timer(xt_loop *loop, int id)
{
    for (size_t i = 0; loop && id > 0 && i < loop->ntimers; i++) {
        if (loop->timers[i].id == id) {
            heap_remove(loop, i);
            return 0;
        }
    }
    return XT_ENOTFOUND;
}

/* --- the clients' timers ----------------------------------------------------- */

static int lc_less(const lclient *a, const lclient *b)
{
    return a->due != b->due ? a->due < b->due : a->seq < b->seq;
}

static void cheap_set(xt_loop *loop, size_t i, lclient *lc)
{
    loop->cheap[i] = lc;
    lc->hidx = i;
}

static void cheap_up(xt_loop *loop, size_t i)
{
    lclient *lc = loop->cheap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!lc_less(lc, loop->cheap[p]))
            break;
        cheap_set(loop, i, loop->cheap[p]);
        i = p;
    }
    cheap_set(loop, i, lc);
}

static void cheap_down(xt_loop *loop, size_t i)
{
    lclient *lc = loop->cheap[i];
    size_t n = loop->ncheap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = l;
        if (l >= n)
            break;
        if (r < n && lc_less(loop->cheap[r], loop->cheap[l]))
            m = r;
        if (!lc_less(loop->cheap[m], lc))
            break;
        cheap_set(loop, i, loop->cheap[m]);
        i = m;
    }
    cheap_set(loop, i, lc);
}

static void cheap_remove(xt_loop *loop, lclient *lc)
{
    if (!lc->armed)
        return;
    lc->armed = 0;
    size_t i = lc->hidx;
    lclient *last = loop->cheap[--loop->ncheap];
    if (i < loop->ncheap) {
        cheap_set(loop, i, last);
        cheap_down(loop, i);
        cheap_up(loop, last->hidx);
    }
}

/* --- clients: the hooks -------------------------------------------------------- */

static void hook_watch(void *ud, int fd, unsigned events)
{
    lclient *lc = ud;
    xt_loop *loop = lc->loop;
    uint32_t ev = (events & XT_IO_READ ? EPOLLIN : 0u) | (events & XT_IO_WRITE ? EPOLLOUT : 0u);
    watch *w = fd >= 0 && (size_t)fd < loop->cap_byfd ? loop->byfd[fd] : NULL;
    if (w && w->lc == lc) {
        struct epoll_event e = {.events = ev, .data.ptr = w};
        (void)epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &e);
        return;
    }
    if (w)
        return; /* someone else's fd (an application fd left unremoved): not ours to take */
    if (!(w = xt_calloc(loop->mem, 1, sizeof *w)))
        return; /* the client's timers still bound the wait: it fails, not hangs */
    *w = (watch){.fd = fd, .lc = lc};
    if (add_watch(loop, w, ev) < 0)
        xt_free(loop->mem, w);
}

static void hook_unwatch(void *ud, int fd)
{
    lclient *lc = ud;
    xt_loop *loop = lc->loop;
    watch *w = fd >= 0 && (size_t)fd < loop->cap_byfd ? loop->byfd[fd] : NULL;
    if (!w || w->lc != lc)
        return;
    (void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    kill_watch(loop, w);
}

static void hook_timer(void *ud, int64_t at)
{
    lclient *lc = ud;
    xt_loop *loop = lc->loop;
    if (at < 0) {
        cheap_remove(loop, lc);
        return;
    }
    if (!lc->armed) {
        /* Room was made when the client was added: this never fails. */
        lc->armed = 1;
        lc->hidx = loop->ncheap++;
        loop->cheap[lc->hidx] = lc;
    }
    lc->due = (uint64_t)at;
    lc->seq = loop->seq++;
    cheap_down(loop, lc->hidx);
    cheap_up(loop, lc->hidx);
}

static void hook_cleanup(void *ud)
{
    lclient *lc = ud;
    xt_loop *loop = lc->loop;
    cheap_remove(loop, lc);
    lc->dead = 1;
    lc->next_dead = loop->dead_clients;
    loop->dead_clients = lc;
    if (!loop->depth)
        sweep(loop);
}

int xt_loop_add_client(xt_loop *loop, xt_client *cl)
{
    if (!loop || !cl)
        return XT_EINVAL;
    size_t n = 0;
    for (lclient *l = loop->clients; l; l = l->next)
        n++;
    /* The heap has room for every client, so arming a timer (inside a
     * hook, which cannot fail) never allocates. */
    if (XT_GROW(loop->mem, loop->cheap, loop->cap_cheap, n + 1, 8))
        return XT_ENOMEM;
    lclient *lc = xt_calloc(loop->mem, 1, sizeof *lc);
    if (!lc)
        return XT_ENOMEM;
    lc->loop = loop;
    lc->cl = cl;
    int rc = xt_client_set_hooks(cl, hook_watch, hook_unwatch, hook_timer, hook_cleanup, lc);
    if (rc < 0) {
        xt_free(loop->mem, lc);
        return rc;
    }
    lc->prev = loop->clients_tail;
    if (loop->clients_tail)
        loop->clients_tail->next = lc;
    else
        loop->clients = lc;
    loop->clients_tail = lc;
    return 0;
}

/* --- running ------------------------------------------------------------------- */

static void flush_clients(xt_loop *loop, uint64_t now)
{
    for (lclient *lc = loop->clients; lc; lc = lc->next)
        if (!lc->dead) {
            loop->calls++;
            (void)xt_client_flush(lc->cl, now);
        }
}

int xt_loop_run_once(xt_loop *loop, int timeout_ms)
{
    if (!loop)
        return XT_EINVAL;
    if (loop->depth)
        return XT_ESTATE; /* re-entered from a callback */
    uint64_t now = xt_clock_ms();
    int64_t wake = -1;
    if (loop->ntimers)
        wake = (int64_t)loop->timers[0].due;
    if (loop->ncheap && (wake < 0 || loop->cheap[0]->due < (uint64_t)wake))
        wake = (int64_t)loop->cheap[0]->due;
    int wait = timeout_ms;
    if (loop->nalways && always_ready(loop))
        wait = 0;
    if (wake >= 0) {
        uint64_t rel = (uint64_t)wake > now ? (uint64_t)wake - now : 0;
        if (wait < 0 || rel < (uint64_t)wait)
            wait = rel > INT32_MAX ? INT32_MAX : (int)rel;
    }
    struct epoll_event ev[64];
    int n = epoll_wait(loop->epfd, ev, 64, wait);
    if (n < 0) {
        if (errno != EINTR)
            return XT_EIO;
        n = 0;
    }
    now = xt_clock_ms();
    int app_ran = 0;

    loop->depth++;
    for (int i = 0; i < n; i++) {
        watch *w = ev[i].data.ptr;
        if (w->dead)
            continue; /* removed by an earlier callback of this batch */
        if (w->lc) {
            unsigned io = (ev[i].events & EPOLLIN ? XT_IO_READ : 0u) |
                          (ev[i].events & EPOLLOUT ? XT_IO_WRITE : 0u) |
                          (ev[i].events & (EPOLLERR | EPOLLHUP) ? XT_IO_ERROR : 0u);
            loop->calls++;
            (void)xt_client_on_fd(w->lc->cl, w->fd, io, now);
        } else {
            w->cb(loop, w->fd, from_epoll(ev[i].events), w->ud);
            app_ran = 1;
        }
    }
    /* Regular files, ready by definition. Callbacks may change the
     * array: walk a count taken now, re-checking the bound. */
    for (size_t i = 0, n0 = loop->nalways ? loop->napps : 0; i < n0 && i < loop->napps; i++) {
        watch *w = loop->apps[i];
        short rev = (short)(w->events & (POLLIN | POLLOUT));
        if (w->always && !w->dead && rev) {
            w->cb(loop, w->fd, rev, w->ud);
            app_ran = 1;
        }
    }
    /* Timers due now, but not ones armed while running these (a timer
     * re-arming itself with delay 0 must not starve the fds). */
    uint64_t limit = loop->seq;
    while (loop->ncheap && loop->cheap[0]->due <= now && loop->cheap[0]->seq < limit) {
        lclient *lc = loop->cheap[0];
        cheap_remove(loop, lc);
        loop->calls++;
        (void)xt_client_on_timer(lc->cl, now);
    }
    while (loop->ntimers && loop->timers[0].due <= now && loop->timers[0].seq < limit) {
        app_timer t = loop->timers[0];
        heap_remove(loop, 0);
        t.cb(loop, t.ud);
        app_ran = 1;
    }
    if (app_ran)
        flush_clients(loop, now);
    loop->depth--;
    sweep(loop);
    return 0;
}

uint64_t xt_loop_client_calls(const xt_loop *loop)
{
    return loop->calls;
}

static int anything_left(const xt_loop *loop)
{
    return loop->nwatches || loop->ntimers || loop->ncheap;
}

int xt_loop_run(xt_loop *loop)
{
    if (!loop)
        return XT_EINVAL;
    if (loop->depth)
        return XT_ESTATE;
    loop->stop = 0;
    /* What the application queued before running goes out first. */
    loop->depth++;
    flush_clients(loop, xt_clock_ms());
    loop->depth--;
    sweep(loop);
    while (!loop->stop && anything_left(loop)) {
        int rc = xt_loop_run_once(loop, -1);
        if (rc < 0)
            return rc;
    }
    loop->stop = 0;
    return 0;
}
