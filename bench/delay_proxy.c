/*
 * bench/delay_proxy.c -- a TCP proxy on 127.0.0.1 that holds every chunk
 * DELAY_US microseconds in each direction: the network of the login
 * benchmark (bench/run, row 3).
 *
 *   delay_proxy TARGET_PORT DELAY_US [LOG]
 *       listens on an ephemeral port, prints it on a line, then forwards
 *       each accepted connection to 127.0.0.1:TARGET_PORT until killed.
 *       With LOG (a file), one line per event, for a login's timeline
 *       (bench/login_timeline.py): "TIME CONN accept", "TIME CONN c>s|s>c
 *       in LEN" when a chunk is read, "TIME CONN c>s|s>c out LEN" when it
 *       is forwarded, "TIME CONN c>s|s>c eof"; TIME is CLOCK_REALTIME in
 *       seconds (strace -ttt's clock, so the client's syscalls line up).
 *
 * One thread waiting in ppoll with a nanosecond timeout, so a chunk leaves
 * within a few microseconds of its due time. Sends block: made for the
 * few small exchanges of a login, not for bulk traffic. (The Python proxy it
 * replaces ran four threads per connection; their wakeups behind the
 * interpreter lock added 0.3-8 ms to single hops, noise in a figure
 * counted in round trips.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 256

/* A chunk waiting for its time. */
typedef struct chunk {
    struct chunk *next;
    int64_t due_ns;
    size_t len; /* 0: the source closed; shut the destination's write side */
    unsigned char data[];
} chunk;

/* One direction of a proxied connection: bytes read from `src` go to `dst`. */
typedef struct pipe_dir {
    int src, dst;
    unsigned conn;   /* connection number, for the log */
    char dir;        /* 'c': client to server; 's': server to client */
    int src_done; /* EOF or error read from src */
    chunk *head, *tail;
} pipe_dir;

static pipe_dir dirs[MAX_FDS];
static size_t ndirs;
static FILE *logfp; /* NULL: no log */

/* One timeline line; flushed at once so a killed proxy leaves it whole. */
static void logev(unsigned conn, char dir, const char *what, long len)
{
    if (!logfp)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(logfp, "%lld.%06ld %u", (long long)ts.tv_sec, ts.tv_nsec / 1000, conn);
    if (dir)
        fprintf(logfp, " %s", dir == 'c' ? "c>s" : "s>c");
    fprintf(logfp, " %s", what);
    if (len >= 0)
        fprintf(logfp, " %ld", len);
    fputc('\n', logfp);
    fflush(logfp);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void push(pipe_dir *d, const void *data, size_t len, int64_t due)
{
    chunk *c = malloc(sizeof *c + len);
    if (!c) {
        perror("delay_proxy: malloc");
        exit(1);
    }
    c->next = NULL;
    c->due_ns = due;
    c->len = len;
    memcpy(c->data, data, len);
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
}

/* Sends every chunk that is due; a failed destination drops its queue. */
static void flush_due(pipe_dir *d, int64_t now)
{
    while (d->head && d->head->due_ns <= now) {
        chunk *c = d->head;
        if (c->len == 0) {
            (void)shutdown(d->dst, SHUT_WR);
            logev(d->conn, d->dir, "eof", -1);
        } else {
            size_t off = 0;
            while (off < c->len) {
                ssize_t n = send(d->dst, c->data + off, c->len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                off += (size_t)n;
            }
            logev(d->conn, d->dir, "out", (long)off);
        }
        d->head = c->next;
        if (!d->head)
            d->tail = NULL;
        free(c);
    }
}

static int connect_target(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    nodelay(fd);
    return fd;
}

static int fd_used(int fd, size_t skip)
{
    for (size_t k = 0; k < ndirs; k++)
        if (k != skip && (dirs[k].src == fd || dirs[k].dst == fd))
            return 1;
    return 0;
}

/* Drops directions whose source ended and whose queue is empty; closes
 * each socket once no direction uses it. */
static void reap(void)
{
    for (size_t i = 0; i < ndirs;) {
        pipe_dir *d = &dirs[i];
        if (!d->src_done || d->head) {
            i++;
            continue;
        }
        if (!fd_used(d->src, i))
            close(d->src);
        if (!fd_used(d->dst, i))
            close(d->dst);
        dirs[i] = dirs[--ndirs];
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: delay_proxy TARGET_PORT DELAY_US [LOG]\n");
        return 2;
    }
    if (argc == 4 && !(logfp = fopen(argv[3], "w"))) {
        perror("delay_proxy: log");
        return 1;
    }
    long tport = strtol(argv[1], NULL, 10), delay_us = strtol(argv[2], NULL, 10);
    if (tport <= 0 || tport > 65535 || delay_us < 0) {
        fprintf(stderr, "delay_proxy: bad port or delay\n");
        return 2;
    }
    int64_t delay = (int64_t)delay_us * 1000;
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 64) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
        perror("delay_proxy: listen");
        return 1;
    }
    printf("%u\n", (unsigned)ntohs(a.sin_port));
    fflush(stdout);

    static unsigned char buf[65536];
    unsigned nconn = 0;
    for (;;) {
        struct pollfd pf[MAX_FDS + 1];
        size_t np = 0;
        pf[np++] = (struct pollfd){.fd = ls, .events = ndirs + 2 <= MAX_FDS ? POLLIN : 0};
        int64_t next = -1;
        for (size_t i = 0; i < ndirs; i++) {
            if (!dirs[i].src_done)
                pf[np++] = (struct pollfd){.fd = dirs[i].src, .events = POLLIN};
            if (dirs[i].head && (next < 0 || dirs[i].head->due_ns < next))
                next = dirs[i].head->due_ns;
        }
        struct timespec ts, *tp = NULL;
        if (next >= 0) {
            int64_t wait = next - now_ns();
            if (wait < 0)
                wait = 0;
            ts.tv_sec = (time_t)(wait / 1000000000);
            ts.tv_nsec = (long)(wait % 1000000000);
            tp = &ts;
        }
        int n = ppoll(pf, (nfds_t)np, tp, NULL);
        if (n < 0 && errno != EINTR) {
            perror("delay_proxy: ppoll");
            return 1;
        }
        int64_t now = now_ns();
        for (size_t p = 1; n > 0 && p < np; p++) {
            if (!pf[p].revents)
                continue;
            for (size_t i = 0; i < ndirs; i++) {
                if (dirs[i].src != pf[p].fd || dirs[i].src_done)
                    continue;
                ssize_t r = recv(dirs[i].src, buf, sizeof buf, 0);
                if (r < 0 && (errno == EINTR || errno == EAGAIN))
                    break;
                if (r <= 0)
                    dirs[i].src_done = 1;
                if (r > 0)
                    logev(dirs[i].conn, dirs[i].dir, "in", (long)r);
                push(&dirs[i], buf, r > 0 ? (size_t)r : 0, now + delay);
                break;
            }
        }
        if (n > 0 && (pf[0].revents & POLLIN)) {
            int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
            int u = c >= 0 ? connect_target((uint16_t)tport) : -1;
            if (u < 0) {
                if (c >= 0)
                    close(c);
            } else {
                nodelay(c);
                nconn++;
                logev(nconn, 0, "accept", -1);
                dirs[ndirs++] = (pipe_dir){.src = c, .dst = u, .conn = nconn, .dir = 'c'};
                dirs[ndirs++] = (pipe_dir){.src = u, .dst = c, .conn = nconn, .dir = 's'};
            }
        }
        now = now_ns();
        for (size_t i = 0; i < ndirs; i++)
            flush_due(&dirs[i], now);
        reap();
    }
}
