/*
 * tests/perf/first_flight.c -- what a client does before its first byte
 * (issue 14), for tests/perf/perf_guard.py: an xt_client on the built-in
 * loop connects to a socket of this process that listens on loopback and
 * never answers; once a byte of the client's arrives, it prints "ok" and
 * exits.
 *
 *   first_flight starttls|direct
 *
 * Meant to run under `valgrind --tool=callgrind
 * --toggle-collect=xtb_region_*` with --dump-before=send (STARTTLS: the
 * stream header is the first byte) or --dump-before=connect (direct TLS:
 * the ClientHello needs the TLS context, which is made while the TCP
 * handshake runs): the first dump holds what the region did before that
 * call, the process's start-up (the dynamic linker) left out. OpenSSL's
 * first use (provider and random generator set-up, the SSL_CTX: ~10 M
 * instructions) must not be in it; the client's own work is ~0.1 M.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xtalk/xtalk.h"

#define NOINLINE __attribute__((noinline))

/* Accepts the client's connection and reads: 1 once a byte came. */
static int got_byte(int lfd, int *cfd)
{
    if (*cfd < 0) {
        *cfd = accept(lfd, NULL, NULL);
        if (*cfd < 0)
            return 0;
        fcntl(*cfd, F_SETFL, O_NONBLOCK);
    }
    char b[4096];
    return read(*cfd, b, sizeof b) > 0;
}

/* The client's life up to its first byte: making it, connecting, the
 * loop's turns. 0 when a byte came within 10 s. */
NOINLINE int xtb_region_first_flight(int direct, uint16_t port, int lfd);
NOINLINE int xtb_region_first_flight(int direct, uint16_t port, int lfd)
{
    xt_loop *loop = NULL;
    xt_conn_opts *o = NULL;
    xt_client *cl = NULL;
    int cfd = -1, ok = 0;
    if (xt_loop_new(NULL, &loop) || xt_conn_opts_new(NULL, &o) ||
        xt_conn_opts_set_jid(o, "alice@localhost") || xt_conn_opts_set_password(o, "pw") ||
        xt_conn_opts_set_flags(o, direct ? XT_CONN_DIRECT_TLS : 0) || xt_client_new(NULL, o, &cl) ||
        xt_client_set_server(cl, "127.0.0.1", port) || xt_loop_add_client(loop, cl) ||
        xt_client_connect(cl))
        goto out;
    uint64_t end = xt_now_ms() + 10000;
    while (!(ok = got_byte(lfd, &cfd)) && xt_now_ms() < end)
        (void)xt_loop_run_once(loop, 10);
out:
    xt_client_free(cl);
    xt_conn_opts_free(o);
    xt_loop_free(loop);
    if (cfd >= 0)
        close(cfd);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    int direct = argc == 2 && strcmp(argv[1], "direct") == 0;
    if (argc != 2 || (!direct && strcmp(argv[1], "starttls") != 0)) {
        fputs("usage: first_flight starttls|direct\n", stderr);
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 1) ||
        getsockname(lfd, (struct sockaddr *)&a, &len) || fcntl(lfd, F_SETFL, O_NONBLOCK)) {
        perror("first_flight: listen");
        return 1;
    }
    if (xtb_region_first_flight(direct, ntohs(a.sin_port), lfd) != 0) {
        fputs("first_flight: no byte from the client\n", stderr);
        return 1;
    }
    close(lfd);
    puts("ok");
    return 0;
}
