/* Non-blocking TCP (see tcp.h). */
#include "net/tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void xt_tcp_addr_str(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(out, outlen, "%s:%u", ip, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        snprintf(out, outlen, "[%s]:%u", ip, port);
    } else {
        snprintf(out, outlen, "(unknown address family %d)", sa->sa_family);
    }
}

static void say(const struct sockaddr *sa, const char *what, int err, char *detail, size_t dlen)
{
    char a[80];
    if (!dlen)
        return;
    xt_tcp_addr_str(sa, a, sizeof a);
    snprintf(detail, dlen, "%s %s: %s", what, a, strerror(err));
}

/* Dead peers (a NAT dropping state, a server that vanished) are noticed
 * by TCP keepalive after about IDLE + INTVL*CNT = 120 s even when the
 * XMPP ping is disabled. Failures here are not fatal. */
static void tune(int fd)
{
    int one = 1, idle = 60, intvl = 20, cnt = 3;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
#ifdef TCP_KEEPIDLE
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
#else
    (void)idle, (void)intvl, (void)cnt;
#endif
}

int xt_tcp_connect(const struct sockaddr *sa, socklen_t salen, int *fd, char *detail, size_t dlen)
{
    *fd = -1;
    int s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s < 0) {
        int e = errno;
        say(sa, "socket for", e, detail, dlen);
        return e == ENOMEM || e == ENOBUFS ? XT_ENOMEM : XT_ECONNECT;
    }
    if (connect(s, sa, salen) < 0 && errno != EINPROGRESS) {
        say(sa, "connect to", errno, detail, dlen);
        close(s);
        return XT_ECONNECT;
    }
    *fd = s;
    return 0;
}

int xt_tcp_connected(int fd, const struct sockaddr *sa, char *detail, size_t dlen)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        say(sa, "connect to", err, detail, dlen);
        return XT_ECONNECT;
    }
    tune(fd);
    return 0;
}

int xt_tcp_read(int fd, void *buf, size_t cap, size_t *got, char *detail, size_t dlen)
{
    *got = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, cap, 0);
        if (n > 0) {
            *got = (size_t)n;
            return 0;
        }
        if (n == 0)
            return XT_ECLOSED;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (dlen)
            snprintf(detail, dlen, "read: %s", strerror(errno));
        return XT_EIO;
    }
}

void xt_tcp_quickack(int fd)
{
#ifdef TCP_QUICKACK
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)fd;
#endif
}

int xt_tcp_write(int fd, const void *data, size_t n, size_t *wrote, char *detail, size_t dlen)
{
    *wrote = 0;
    for (;;) {
        /* MSG_NOSIGNAL: a closed peer is an error code, not a SIGPIPE that
         * kills the application. */
        ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
        if (w >= 0) {
            *wrote = (size_t)w;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (dlen)
            snprintf(detail, dlen, "write: %s", strerror(errno));
        return XT_EIO;
    }
}
