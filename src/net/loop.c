/*
 * The poll() loop: clients, application fds and one-shot timers in one
 * thread.
 *
 * Callbacks (fd, timer, and xt_conn handlers run by clients) may add and
 * remove fds and timers, create and free clients (including the one
 * whose handler is running: its free is deferred until it returns), and
 * stop the loop. They must not free the loop or re-enter xt_loop_run.
 * Removal during an iteration only empties a slot; slots are compacted
 * when the iteration ends, so nothing moves under a running callback.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "net/loop.h"

typedef struct loop_fd {
    int id;      /* 0 = removed */
    int fd;
    short events;
    xt_fd_fn cb;
    void *ud;
} loop_fd;

typedef struct loop_timer {
    uint64_t due;
    uint64_t seq; /* ties break by creation order */
    int id;
    xt_timer_fn cb;
    void *ud;
} loop_timer;

typedef struct loop_ctx {
    xt_tls_ctx *ctx;
    unsigned refs;
} loop_ctx;

typedef struct client_range {
    size_t start, n;
} client_range;

struct xt_loop {
    xt_mem memv;
    const xt_mem *mem;
    xt_client **clients; /* NULL slots are freed clients awaiting compaction */
    size_t nclients, cap_clients;
    loop_fd *fds;
    size_t nfds, cap_fds;
    loop_timer *timers;  /* binary min-heap on (due, seq) */
    size_t ntimers, cap_timers;
    loop_ctx *ctxs;
    size_t nctxs, cap_ctxs;
    struct pollfd *pfds;
    size_t cap_pfds;
    client_range *ranges;
    size_t cap_ranges;
    uint64_t seq;
    int next_id;
    size_t tls_busy, tls_cap; /* handshakes running, at most */
    uint64_t tls_counted_at;  /* when tls_busy was last counted */
    int depth;                /* > 0 while dispatching */
    int dirty;                /* slots were emptied during dispatch */
    int stop;
};

uint64_t xt_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
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
    l->tls_cap = 64;
    *out = l;
    return 0;
}

void xt_loop_free(xt_loop *loop)
{
    if (!loop)
        return;
    /* Clients detach themselves (and release their TLS contexts). */
    while (loop->nclients) {
        xt_client *cl = loop->clients[loop->nclients - 1];
        if (cl)
            xt_client_free(cl); /* detach swaps it out */
        else
            loop->nclients--;
    }
    for (size_t i = 0; i < loop->nctxs; i++)
        xt_tls_ctx_free(loop->ctxs[i].ctx);
    xt_free(loop->mem, loop->clients);
    xt_free(loop->mem, loop->fds);
    xt_free(loop->mem, loop->timers);
    xt_free(loop->mem, loop->ctxs);
    xt_free(loop->mem, loop->pfds);
    xt_free(loop->mem, loop->ranges);
    xt_free(loop->mem, loop);
}

const xt_mem *xt_loop_mem(const xt_loop *loop)
{
    return loop->mem;
}

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

/* --- shared TLS contexts --------------------------------------------------- */

int xt_loop_tls_ctx(xt_loop *loop, const char *ca_file, int no_system_ca, xt_tls_ctx **out,
                    char *err, size_t errlen)
{
    for (size_t i = 0; i < loop->nctxs; i++) {
        if (xt_tls_ctx_matches(loop->ctxs[i].ctx, ca_file, no_system_ca)) {
            loop->ctxs[i].refs++;
            *out = loop->ctxs[i].ctx;
            return 0;
        }
    }
    if (xt_grow(loop->mem, (void **)&loop->ctxs, &loop->cap_ctxs, loop->nctxs + 1,
                sizeof *loop->ctxs, 8))
        return XT_ENOMEM;
    int rc = xt_tls_ctx_new(loop->mem, ca_file, no_system_ca, out, err, errlen);
    if (rc < 0)
        return rc;
    loop->ctxs[loop->nctxs++] = (loop_ctx){.ctx = *out, .refs = 1};
    return 0;
}

void xt_loop_tls_ctx_release(xt_loop *loop, xt_tls_ctx *ctx)
{
    for (size_t i = 0; ctx && i < loop->nctxs; i++) {
        if (loop->ctxs[i].ctx != ctx)
            continue;
        if (--loop->ctxs[i].refs == 0) {
            xt_tls_ctx_free(ctx);
            loop->ctxs[i] = loop->ctxs[--loop->nctxs];
        }
        return;
    }
}

/* --- clients --------------------------------------------------------------- */

int xt_loop_set_max_handshakes(xt_loop *loop, unsigned n)
{
    if (!loop)
        return XT_EINVAL;
    loop->tls_cap = n;
    return 0;
}

static int tls_slot_free(const xt_loop *loop)
{
    return !loop->tls_cap || loop->tls_busy < loop->tls_cap;
}

static void count_handshakes(xt_loop *loop, uint64_t now)
{
    loop->tls_busy = 0;
    for (size_t i = 0; i < loop->nclients; i++)
        if (loop->clients[i] && xt_client_handshaking(loop->clients[i]))
            loop->tls_busy++;
    loop->tls_counted_at = now;
}

int xt_loop_tls_slot(xt_loop *loop)
{
    if (!tls_slot_free(loop)) {
        /* Handshakes may have ended since the count (an application
         * driving clients without xt_loop_run_once): count again, at most
         * once a millisecond. */
        uint64_t now = xt_clock_ms();
        if (now != loop->tls_counted_at)
            count_handshakes(loop, now);
        if (!tls_slot_free(loop))
            return 0;
    }
    loop->tls_busy++;
    return 1;
}

int xt_loop_attach(xt_loop *loop, xt_client *cl)
{
    if (xt_grow(loop->mem, (void **)&loop->clients, &loop->cap_clients, loop->nclients + 1,
                sizeof *loop->clients, 8))
        return XT_ENOMEM;
    xt_client_set_slot(cl, loop->nclients);
    loop->clients[loop->nclients++] = cl;
    return 0;
}

void xt_loop_detach(xt_loop *loop, size_t slot)
{
    if (slot >= loop->nclients)
        return;
    if (loop->depth) {
        loop->clients[slot] = NULL;
        loop->dirty = 1;
        return;
    }
    /* Not iterating: swap the last one in. */
    loop->clients[slot] = loop->clients[--loop->nclients];
    if (slot < loop->nclients)
        xt_client_set_slot(loop->clients[slot], slot);
}

static void compact(xt_loop *loop)
{
    size_t k = 0;
    for (size_t i = 0; i < loop->nclients; i++) {
        if (!loop->clients[i])
            continue;
        loop->clients[k] = loop->clients[i];
        xt_client_set_slot(loop->clients[k], k);
        k++;
    }
    loop->nclients = k;
    k = 0;
    for (size_t i = 0; i < loop->nfds; i++)
        if (loop->fds[i].id)
            loop->fds[k++] = loop->fds[i];
    loop->nfds = k;
    loop->dirty = 0;
}

/* --- application fds ------------------------------------------------------- */

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
    if (xt_grow(loop->mem, (void **)&loop->fds, &loop->cap_fds, loop->nfds + 1,
                sizeof *loop->fds, 8))
        return XT_ENOMEM;
    int id = new_id(loop);
    loop->fds[loop->nfds++] = (loop_fd){.id = id, .fd = fd, .events = events, .cb = cb, .ud = ud};
    return id;
}

static loop_fd *find_fd(xt_loop *loop, int id)
{
    for (size_t i = 0; id > 0 && i < loop->nfds; i++)
        if (loop->fds[i].id == id)
            return &loop->fds[i];
    return NULL;
}

int xt_loop_mod_fd(xt_loop *loop, int id, short events)
{
    loop_fd *f = loop ? find_fd(loop, id) : NULL;
    if (!f)
        return XT_ENOTFOUND;
    f->events = events;
    return 0;
}

int xt_loop_remove_fd(xt_loop *loop, int id)
{
    loop_fd *f = loop ? find_fd(loop, id) : NULL;
    if (!f)
        return XT_ENOTFOUND;
    f->id = 0;
    if (loop->depth)
        loop->dirty = 1;
    else
        compact(loop);
    return 0;
}

/* --- timers ---------------------------------------------------------------- */

static int timer_less(const loop_timer *a, const loop_timer *b)
{
    return a->due != b->due ? a->due < b->due : a->seq < b->seq;
}

static void heap_up(loop_timer *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!timer_less(&h[i], &h[p]))
            break;
        loop_timer t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static void heap_down(loop_timer *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && timer_less(&h[l], &h[m]))
            m = l;
        if (r < n && timer_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        loop_timer t = h[i];
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
    if (xt_grow(loop->mem, (void **)&loop->timers, &loop->cap_timers, loop->ntimers + 1,
                sizeof *loop->timers, 8))
        return XT_ENOMEM;
    uint64_t now = xt_clock_ms();
    int id = new_id(loop);
    loop->timers[loop->ntimers] = (loop_timer){
        .due = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms,
        .seq = loop->seq++, .id = id, .cb = cb, .ud = ud};
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

/* --- running --------------------------------------------------------------- */

static int anything_left(const xt_loop *loop)
{
    if (loop->ntimers)
        return 1;
    for (size_t i = 0; i < loop->nfds; i++)
        if (loop->fds[i].id)
            return 1;
    for (size_t i = 0; i < loop->nclients; i++)
        if (loop->clients[i] && xt_client_active(loop->clients[i]))
            return 1;
    return 0;
}

int xt_loop_run_once(xt_loop *loop, int timeout_ms)
{
    if (!loop)
        return XT_EINVAL;
    if (loop->depth)
        return XT_ESTATE; /* re-entered from a callback */
    size_t nclients = loop->nclients, nfds = loop->nfds, n = 0;
    if (xt_grow(loop->mem, (void **)&loop->ranges, &loop->cap_ranges, nclients,
                sizeof *loop->ranges, 8))
        return XT_ENOMEM;
    uint64_t now = xt_clock_ms();
    int64_t wake = -1;

    /* One pass: each client's fds and deadline, and the handshakes
     * running (xt_loop_tls_slot's count). */
    size_t busy = 0;
    int waiting = 0;
    for (size_t i = 0; i < nclients; i++) {
        xt_client *cl = loop->clients[i];
        if (cl) {
            busy += (size_t)xt_client_handshaking(cl);
            waiting |= xt_client_tls_waiting(cl);
        }
        size_t need = xt_client_pollfds(cl, loop->pfds ? loop->pfds + n : NULL,
                                        loop->cap_pfds - n);
        if (n + need > loop->cap_pfds) {
            if (xt_grow(loop->mem, (void **)&loop->pfds, &loop->cap_pfds, n + need + nfds,
                        sizeof *loop->pfds, 8))
                return XT_ENOMEM;
            need = xt_client_pollfds(cl, loop->pfds + n, loop->cap_pfds - n);
        }
        loop->ranges[i] = (client_range){.start = n, .n = need};
        n += need;
        int64_t d = xt_client_deadline(cl);
        if (d >= 0 && (wake < 0 || d < wake))
            wake = d;
    }
    loop->tls_busy = busy;
    loop->tls_counted_at = now;
    if (waiting && tls_slot_free(loop))
        wake = (int64_t)now; /* a free handshake slot and a client waiting for one */
    if (xt_grow(loop->mem, (void **)&loop->pfds, &loop->cap_pfds, n + nfds, sizeof *loop->pfds, 8))
        return XT_ENOMEM;
    size_t fd_start = n;
    for (size_t i = 0; i < nfds; i++)
        loop->pfds[n++] = (struct pollfd){.fd = loop->fds[i].fd, .events = loop->fds[i].events};
    if (loop->ntimers && (wake < 0 || loop->timers[0].due < (uint64_t)wake))
        wake = (int64_t)loop->timers[0].due;

    int wait = timeout_ms;
    if (wake >= 0) {
        uint64_t rel = (uint64_t)wake > now ? (uint64_t)wake - now : 0;
        if (wait < 0 || rel < (uint64_t)wait)
            wait = rel > INT32_MAX ? INT32_MAX : (int)rel;
    }
    int pr = poll(loop->pfds, (nfds_t)n, wait);
    if (pr < 0) {
        if (errno != EINTR)
            return XT_EIO;
        for (size_t i = 0; i < n; i++)
            loop->pfds[i].revents = 0;
    }
    now = xt_clock_ms();

    loop->depth++;
    for (size_t i = 0; i < nclients; i++) {
        xt_client *cl = loop->clients[i];
        if (!cl)
            continue; /* freed by an earlier callback in this iteration */
        client_range r = loop->ranges[i];
        int ready = 0;
        for (size_t k = 0; k < r.n && !ready; k++)
            ready = loop->pfds[r.start + k].revents != 0;
        int64_t d = xt_client_deadline(cl);
        int slot = xt_client_tls_waiting(cl) && tls_slot_free(loop);
        if (ready || slot || (d >= 0 && (uint64_t)d <= now))
            (void)xt_client_process(cl, loop->pfds + r.start, r.n, now);
    }
    for (size_t i = 0; i < nfds; i++) {
        struct pollfd *p = &loop->pfds[fd_start + i];
        loop_fd *f = &loop->fds[i];
        /* id check: removed (and maybe re-added elsewhere) since poll. */
        if (p->revents && f->id && f->fd == p->fd)
            f->cb(loop, f->fd, p->revents, f->ud);
    }
    /* Timers due now, but not ones added while running these (a timer
     * re-arming itself with delay 0 must not starve the poll). */
    uint64_t limit = loop->seq;
    while (loop->ntimers && loop->timers[0].due <= now && loop->timers[0].seq < limit) {
        loop_timer t = loop->timers[0];
        heap_remove(loop, 0);
        t.cb(loop, t.ud);
    }
    loop->depth--;
    if (loop->dirty)
        compact(loop);
    return 0;
}

int xt_loop_run(xt_loop *loop)
{
    if (!loop)
        return XT_EINVAL;
    loop->stop = 0;
    while (!loop->stop && anything_left(loop)) {
        int rc = xt_loop_run_once(loop, -1);
        if (rc < 0)
            return rc;
    }
    loop->stop = 0;
    return 0;
}
