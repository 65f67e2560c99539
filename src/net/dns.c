/* c-ares resolution driven by the caller's loop (see dns.h). */
#include "net/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <ares.h>

#include "base/mem.h"

typedef struct dns_sock {
    int fd;
    short events;
} dns_sock;

struct xt_dns {
    ares_channel ch;  /* NULL until a query needs it */
    const xt_mem *mem;
    uint32_t timeout_ms;
    dns_sock *socks;
    size_t nsocks, cap;
    int outstanding;  /* queries whose callback has not run */
    int dying;        /* xt_dns_free in progress: swallow callbacks */
    xt_dns_watch_fn watch;
    void *watch_ud;
    char *servers;    /* xt_dns_set_servers; NULL = resolv.conf's */
};

typedef struct dns_req {
    xt_dns *d;
    xt_dns_srv_fn srv_cb;
    xt_dns_addr_fn addr_cb;
    void *ud;
    uint16_t port;
    uint8_t direct_tls;
} dns_req;

static int map_status(int st)
{
    if (st == ARES_ETIMEOUT)
        return XT_ETIMEOUT;
    if (st == ARES_ENOMEM)
        return XT_ENOMEM;
    if (st == ARES_ENOTFOUND || st == ARES_ENODATA || st == ARES_ENONAME)
        return XT_ENOTFOUND;
    return XT_EDNS;
}

/* c-ares tells us which sockets it wants polled (ARES_OPT_SOCK_STATE_CB). */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    xt_dns *d = data;
    size_t i;
    for (i = 0; i < d->nsocks && d->socks[i].fd != fd; i++)
        ;
    if (!readable && !writable) {
        /* c-ares says so before it closes the socket: the watcher hears
         * it while the fd number is still this socket's. */
        if (i < d->nsocks) {
            d->socks[i] = d->socks[--d->nsocks];
            if (d->watch)
                d->watch(d->watch_ud, fd, 0);
        }
        return;
    }
    if (i == d->nsocks) {
        if (XT_GROW(d->mem, d->socks, d->cap, d->nsocks + 1, 4))
            return; /* the query then times out: reported, not a crash */
        d->socks[d->nsocks++].fd = fd;
    }
    d->socks[i].events = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    if (d->watch)
        d->watch(d->watch_ud, fd, (readable ? 1u : 0u) | (writable ? 2u : 0u));
}

void xt_dns_set_watch(xt_dns *d, xt_dns_watch_fn fn, void *ud)
{
    d->watch = fn;
    d->watch_ud = ud;
}

int xt_dns_new(const xt_mem *mem, uint32_t timeout_ms, xt_dns **out)
{
    *out = NULL;
    xt_dns *d = xt_calloc(mem, 1, sizeof *d);
    if (!d)
        return XT_ENOMEM;
    d->mem = mem;
    d->timeout_ms = timeout_ms ? timeout_ms : 3000;
    *out = d;
    return 0;
}

/* The c-ares channel, made on the first query that needs one: a channel
 * costs some 70 KiB (its query tables) and reads resolv.conf, which a
 * connection to an IP literal never needs. */
static int channel(xt_dns *d)
{
    if (d->ch)
        return 0;
    struct ares_options o;
    memset(&o, 0, sizeof o);
    o.sock_state_cb = sock_state;
    o.sock_state_cb_data = d;
    o.timeout = (int)d->timeout_ms;
    o.tries = 2;
    /* Files first so "localhost" and /etc/hosts names never reach the network. */
    o.lookups = (char *)(uintptr_t) "fb";
    int st = ares_init_options(&d->ch, &o,
                               ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                                   ARES_OPT_LOOKUPS);
    if (st != ARES_SUCCESS) {
        d->ch = NULL;
        return st == ARES_ENOMEM ? XT_ENOMEM : XT_EDNS;
    }
    if (d->servers && (st = ares_set_servers_ports_csv(d->ch, d->servers)) != ARES_SUCCESS) {
        ares_destroy(d->ch);
        d->ch = NULL;
        return st == ARES_ENOMEM ? XT_ENOMEM : XT_EDNS;
    }
    return 0;
}

int xt_dns_set_servers(xt_dns *d, const char *csv)
{
    char *dup = NULL;
    if (csv && !(dup = xt_strdup(d->mem, csv)))
        return XT_ENOMEM;
    xt_free(d->mem, d->servers);
    d->servers = dup;
    return 0;
}

int xt_dns_check_servers(const char *csv)
{
    /* c-ares parses the list into a channel: a throwaway one, made
     * without reading resolv.conf's servers (one placeholder). */
    struct ares_options o;
    memset(&o, 0, sizeof o);
    struct in_addr lo = {.s_addr = htonl(INADDR_LOOPBACK)};
    o.servers = &lo;
    o.nservers = 1;
    ares_channel ch;
    int st = ares_init_options(&ch, &o, ARES_OPT_SERVERS);
    if (st != ARES_SUCCESS)
        return st == ARES_ENOMEM ? XT_ENOMEM : XT_EDNS;
    st = ares_set_servers_ports_csv(ch, csv);
    ares_destroy(ch);
    return st == ARES_SUCCESS ? 0 : st == ARES_ENOMEM ? XT_ENOMEM : XT_EINVAL;
}

void xt_dns_free(xt_dns *d)
{
    if (!d)
        return;
    d->dying = 1;
    /* Unwatched before ares_destroy closes them. */
    while (d->watch && d->nsocks)
        d->watch(d->watch_ud, d->socks[--d->nsocks].fd, 0);
    if (d->ch)
        ares_destroy(d->ch); /* runs pending callbacks with ARES_EDESTRUCTION */
    xt_free(d->mem, d->socks);
    xt_free(d->mem, d->servers);
    xt_free(d->mem, d);
}

/* --- SRV ------------------------------------------------------------------- */

static void srv_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    dns_req *r = arg;
    xt_dns *d = r->d;
    d->outstanding--;
    if (d->dying || status == ARES_EDESTRUCTION) {
        xt_free(d->mem, r);
        return;
    }
    struct ares_srv_reply *srv = NULL;
    if (status == ARES_SUCCESS)
        status = ares_parse_srv_reply(abuf, alen, &srv);
    if (status != ARES_SUCCESS) {
        r->srv_cb(r->ud, map_status(status), NULL, 0, ares_strerror(status));
        xt_free(d->mem, r);
        return;
    }
    size_t n = 0;
    for (struct ares_srv_reply *s = srv; s; s = s->next)
        n++;
    xt_srv_target *t = xt_calloc(d->mem, n ? n : 1, sizeof *t);
    int rc = t ? 0 : XT_ENOMEM;
    size_t k = 0;
    for (struct ares_srv_reply *s = srv; s && !rc; s = s->next) {
        if (!(t[k].host = xt_strdup(d->mem, s->host))) {
            rc = XT_ENOMEM;
            break;
        }
        t[k].port = s->port;
        t[k].priority = s->priority;
        t[k].weight = s->weight;
        t[k].direct_tls = r->direct_tls;
        k++;
    }
    ares_free_data(srv);
    if (rc)
        r->srv_cb(r->ud, rc, NULL, 0, "out of memory");
    else if (k == 0)
        r->srv_cb(r->ud, XT_ENOTFOUND, NULL, 0, "no SRV records");
    /* RFC 2782: a lone target of "." means "decidedly not available"
     * (c-ares gives the root name as ""). */
    else if (k == 1 && (t[0].host[0] == '\0' || strcmp(t[0].host, ".") == 0))
        r->srv_cb(r->ud, XT_EUNSUPPORTED, NULL, 0, "service not offered (SRV target \".\")");
    else
        r->srv_cb(r->ud, 0, t, k, "");
    for (size_t i = 0; t && i < k; i++)
        xt_free(d->mem, t[i].host);
    xt_free(d->mem, t);
    xt_free(d->mem, r);
}

int xt_dns_srv(xt_dns *d, const char *name, int direct_tls, xt_dns_srv_fn cb, void *ud)
{
    int rc = channel(d);
    if (rc < 0)
        return rc;
    dns_req *r = xt_calloc(d->mem, 1, sizeof *r);
    if (!r)
        return XT_ENOMEM;
    *r = (dns_req){.d = d, .srv_cb = cb, .ud = ud, .direct_tls = (uint8_t)!!direct_tls};
    d->outstanding++;
    ares_query(d->ch, name, ns_c_in, ns_t_srv, srv_done, r);
    return 0;
}

/* --- A/AAAA ---------------------------------------------------------------- */

static void addr_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    (void)timeouts;
    dns_req *r = arg;
    xt_dns *d = r->d;
    d->outstanding--;
    if (d->dying || status == ARES_EDESTRUCTION) {
        ares_freeaddrinfo(res);
        xt_free(d->mem, r);
        return;
    }
    size_t n = 0;
    if (status == ARES_SUCCESS && res)
        for (struct ares_addrinfo_node *a = res->nodes; a; a = a->ai_next)
            if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
                (size_t)a->ai_addrlen <= sizeof(struct sockaddr_storage))
                n++;
    xt_addr *v = n ? xt_calloc(d->mem, n, sizeof *v) : NULL;
    if (status != ARES_SUCCESS || !n) {
        /* XT_ENOTFOUND (the name has no address: an answer, not a
         * failure to get one) lets the client tell a definite failure
         * from a transient one. */
        int code = status == ARES_SUCCESS ? XT_EDNS : map_status(status);
        r->addr_cb(r->ud, code, NULL, 0, status == ARES_SUCCESS ? "no addresses" : ares_strerror(status));
    } else if (!v) {
        r->addr_cb(r->ud, XT_ENOMEM, NULL, 0, "out of memory");
    } else {
        size_t k = 0;
        for (struct ares_addrinfo_node *a = res->nodes; a; a = a->ai_next) {
            if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
                (size_t)a->ai_addrlen > sizeof(struct sockaddr_storage))
                continue;
            memcpy(&v[k].ss, a->ai_addr, (size_t)a->ai_addrlen);
            v[k].len = (socklen_t)a->ai_addrlen;
            if (a->ai_family == AF_INET)
                ((struct sockaddr_in *)(void *)&v[k].ss)->sin_port = htons(r->port);
            else
                ((struct sockaddr_in6 *)(void *)&v[k].ss)->sin6_port = htons(r->port);
            k++;
        }
        r->addr_cb(r->ud, 0, v, k, "");
    }
    xt_free(d->mem, v);
    ares_freeaddrinfo(res);
    xt_free(d->mem, r);
}

/* An IP literal is its own answer (as c-ares would give it, without a
 * channel): one address, the callback before returning. */
static int literal(xt_dns *d, const char *host, uint16_t port, xt_dns_addr_fn cb, void *ud)
{
    xt_addr a;
    memset(&a, 0, sizeof a);
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&a.ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&a.ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.len = sizeof *v6;
    } else {
        return 0;
    }
    (void)d;
    cb(ud, 0, &a, 1, "");
    return 1;
}

int xt_dns_addrs(xt_dns *d, const char *host, uint16_t port, xt_dns_addr_fn cb, void *ud)
{
    if (literal(d, host, port, cb, ud))
        return 0;
    int rc = channel(d);
    if (rc < 0)
        return rc;
    dns_req *r = xt_calloc(d->mem, 1, sizeof *r);
    if (!r)
        return XT_ENOMEM;
    *r = (dns_req){.d = d, .addr_cb = cb, .ud = ud, .port = port};
    struct ares_addrinfo_hints h;
    memset(&h, 0, sizeof h);
    h.ai_family = AF_UNSPEC;
    h.ai_socktype = SOCK_STREAM;
    d->outstanding++;
    ares_getaddrinfo(d->ch, host, NULL, &h, addr_done, r);
    return 0;
}

/* --- driving --------------------------------------------------------------- */

int xt_dns_busy(const xt_dns *d)
{
    return d->outstanding > 0;
}

size_t xt_dns_pollfds(const xt_dns *d, struct pollfd *fds, size_t max)
{
    for (size_t i = 0; i < d->nsocks && i < max; i++)
        fds[i] = (struct pollfd){.fd = d->socks[i].fd, .events = d->socks[i].events};
    return d->nsocks;
}

int64_t xt_dns_deadline(const xt_dns *d, uint64_t now_ms)
{
    if (!d->outstanding || !d->ch)
        return -1;
    struct timeval tv;
    if (!ares_timeout(d->ch, NULL, &tv))
        return -1;
    /* Rounded up: waking a millisecond early would spin. */
    uint64_t ms = (uint64_t)tv.tv_sec * 1000u + ((uint64_t)tv.tv_usec + 999u) / 1000u;
    return (int64_t)(now_ms + ms);
}

void xt_dns_process(xt_dns *d, const struct pollfd *fds, size_t n)
{
    if (!d->ch)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!fds[i].revents)
            continue;
        size_t k;
        for (k = 0; k < d->nsocks && d->socks[k].fd != fds[i].fd; k++)
            ;
        if (k == d->nsocks)
            continue;
        ares_socket_t rfd = fds[i].revents & (POLLIN | POLLERR | POLLHUP) ? fds[i].fd : ARES_SOCKET_BAD;
        ares_socket_t wfd = fds[i].revents & POLLOUT ? fds[i].fd : ARES_SOCKET_BAD;
        ares_process_fd(d->ch, rfd, wfd);
    }
    /* Expired timeouts (and nothing else). */
    ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

/* --- RFC 2782 ordering ----------------------------------------------------- */

static int by_priority(const void *a, const void *b)
{
    const xt_srv_target *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    /* Zero weights first within a priority (RFC 2782, "Weight"). */
    return (x->weight != 0) - (y->weight != 0);
}

void xt_srv_order(xt_srv_target *t, size_t n, uint32_t (*rnd)(uint32_t bound, void *ud), void *ud)
{
    if (n < 2)
        return;
    qsort(t, n, sizeof *t, by_priority);
    for (size_t start = 0; start < n;) {
        size_t end = start;
        while (end < n && t[end].priority == t[start].priority)
            end++;
        /* Weighted selection without replacement: pick a running-sum
         * position, move the chosen entry to the front, repeat. */
        for (size_t i = start; i + 1 < end; i++) {
            uint32_t sum = 0;
            for (size_t j = i; j < end; j++)
                sum += t[j].weight;
            uint32_t pick = rnd(sum, ud);
            if (pick > sum)
                pick = sum;
            uint32_t run = 0;
            size_t j;
            for (j = i; j < end; j++) {
                run += t[j].weight;
                if (run >= pick)
                    break;
            }
            if (j == end)
                j = end - 1;
            if (j != i) {
                xt_srv_target tmp = t[j];
                memmove(&t[i + 1], &t[i], (j - i) * sizeof *t);
                t[i] = tmp;
            }
        }
        start = end;
    }
}
