/*
 * Name resolution with c-ares, driven by the caller's loop: the session
 * exposes its sockets (xt_dns_pollfds) and its next timeout
 * (xt_dns_deadline), and xt_dns_process does the work. c-ares tells us
 * which sockets it wants through ARES_OPT_SOCK_STATE_CB; no nested
 * select() anywhere.
 *
 * One session per connection attempt: it lives only while resolving, so
 * thousands of established connections hold no resolver state. The c-ares
 * channel (some 70 KiB) is made on the first query that needs it: an IP
 * literal is answered without one.
 *
 * XMPP service location: RFC 6120 §3.2.1 (_xmpp-client._tcp SRV,
 * STARTTLS) and XEP-0368 (_xmpps-client._tcp SRV, direct TLS), ordered
 * by RFC 2782 (priority, then weighted random); §3.2.2 falls back to the
 * domain itself on port 5222.
 */
#ifndef XT_NET_DNS_H
#define XT_NET_DNS_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "xtalk/common.h"

typedef struct xt_dns xt_dns;

typedef struct xt_srv_target {
    char *host;           /* owned by whoever holds the array */
    uint16_t port, priority, weight;
    uint8_t direct_tls;   /* from _xmpps-client (XEP-0368) */
} xt_srv_target;

typedef struct xt_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} xt_addr;

/* SRV answer. status 0: n >= 1 targets (array valid during the call; the
 * callee may take t[i].host and set it to NULL). XT_ENOTFOUND: no records
 * (NXDOMAIN, NODATA). XT_EUNSUPPORTED: a single record with target "."
 * (RFC 2782: the service is decidedly not available). XT_EDNS / XT_ETIMEOUT:
 * the lookup failed. why is a human-readable reason. */
typedef void (*xt_dns_srv_fn)(void *ud, int status, xt_srv_target *t, size_t n, const char *why);
/* Address answer: status 0 with n >= 1 addresses in the resolver's
 * preferred order (RFC 6724), port filled in; else XT_EDNS / XT_ETIMEOUT. */
typedef void (*xt_dns_addr_fn)(void *ud, int status, const xt_addr *a, size_t n, const char *why);

/* timeout_ms: per try; 0 = 3000. XT_ENOMEM. */
int xt_dns_new(const xt_mem *mem, uint32_t timeout_ms, xt_dns **out);
/* The name servers to ask, as c-ares's ares_set_servers_ports_csv takes
 * them ("192.0.2.1,[2001:db8::1]:5353,127.0.0.1:5300"); copied; NULL =
 * resolv.conf's. Before the first query. XT_ENOMEM. */
int xt_dns_set_servers(xt_dns *d, const char *csv);
/* 0 when csv is a list xt_dns_set_servers can use, else XT_EINVAL
 * (XT_ENOMEM, XT_EDNS when c-ares cannot be set up at all). */
int xt_dns_check_servers(const char *csv);
/* Cancels everything; no callback runs after (or during) this call.
 * Not from inside one of this session's callbacks. NULL is a no-op. */
void xt_dns_free(xt_dns *d);

/* name is queried as given ("_xmpp-client._tcp.example.org"). Both
 * queries: XT_ENOMEM, or XT_EDNS when the resolver cannot be set up
 * (resolver configuration); no callback then. */
int xt_dns_srv(xt_dns *d, const char *name, int direct_tls, xt_dns_srv_fn cb, void *ud);
/* A/AAAA (AF_UNSPEC) of host; IP literals and /etc/hosts are answered
 * without a query (an IP literal before this returns). */
int xt_dns_addrs(xt_dns *d, const char *host, uint16_t port, xt_dns_addr_fn cb, void *ud);

/* Told of every change to the sockets c-ares wants watched: events
 * 1 = read, 2 = write, both; 0 = no longer watched, said before the
 * socket is closed (also by xt_dns_free). Runs inside xt_dns_* calls. */
typedef void (*xt_dns_watch_fn)(void *ud, int fd, unsigned events);
void xt_dns_set_watch(xt_dns *d, xt_dns_watch_fn fn, void *ud);

/* 1 while a query is outstanding. */
int xt_dns_busy(const xt_dns *d);
/* Fills at most max entries; returns the number needed. */
size_t xt_dns_pollfds(const xt_dns *d, struct pollfd *fds, size_t max);
/* Absolute time (ms, caller's clock) of c-ares' next timeout, -1 = none. */
int64_t xt_dns_deadline(const xt_dns *d, uint64_t now_ms);
/* Handles readiness of this session's fds among fds[0..n) and expired
 * timeouts. Callbacks run from here. */
void xt_dns_process(xt_dns *d, const struct pollfd *fds, size_t n);

/* RFC 2782 order, in place: ascending priority; within a priority, a
 * weighted random permutation (weight 0 entries first get little chance,
 * as the RFC says). rnd returns a uniform value in [0, bound]. */
void xt_srv_order(xt_srv_target *t, size_t n, uint32_t (*rnd)(uint32_t bound, void *ud), void *ud);

#endif
