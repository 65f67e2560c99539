/*
 * bench/tls_floor.c -- the floor of bench/run's login row (3): the least
 * any XMPP client must do before it can say anything, on OpenSSL alone
 * (no libxtalk, no XML parser, no SASL), timed from process start like
 * bench/xt_client's login.
 *
 *   tls_floor direct|starttls HOST PORT CA [DOMAIN]
 *
 * direct (XEP-0368): TCP connect; a TLS 1.3 handshake verified against
 * the CA file for DOMAIN (default localhost; SNI and the name checked);
 * then a stream header, read until the stream features end
 * (</stream:features>). starttls (RFC 6120 §5.4): the plaintext header
 * and <starttls/> in one write, read until <proceed/>, then the same
 * handshake, header and features. Prints "online" and exits (bench/run
 * times it to that line).
 *
 * So on the wire: direct TLS 2 round trips (the handshake, one
 * exchange), STARTTLS 3 (<proceed/> first). What xtalk's login does
 * beyond this (SASL2 with FAST, Bind2, the roster, the presence) travels
 * in the same flights, so the difference between the two rows is work,
 * not round trips: the client's, and the server's answering more.
 *
 * Done the way xtalk does what is the same: TCP_NODELAY (the header goes
 * right behind the handshake's Finished, not held by Nagle's algorithm
 * for the Finished's ACK) and quick ACKs while logging in (a server with
 * Nagle on, as Prosody is, waits for the ACK of its first write before
 * its second); blocking I/O, since one connection is all there is.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static char default_domain[] = "localhost";
static char *domain = default_domain; /* not const: SSL_set_tlsext_host_name's macro casts */

static int die(const char *what)
{
    fprintf(stderr, "tls_floor: %s", what);
    unsigned long e = ERR_get_error();
    if (e)
        fprintf(stderr, ": %s", ERR_reason_error_string(e));
    fputc('\n', stderr);
    return 1;
}

static int tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *a;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        struct timeval tv = {.tv_sec = 10}; /* a stalled server ends the run, not the bench */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    return fd;
}

static void quickack(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

/* Reads (through ssl, or the plain socket when ssl is NULL) until `end`
 * appears in what came. 0, or -1 on EOF, error or a full buffer. */
static int read_until(int fd, SSL *ssl, const char *end)
{
    static char buf[65536];
    size_t n = 0;
    for (;;) {
        int r = ssl ? SSL_read(ssl, buf + n, (int)(sizeof buf - 1 - n))
                    : (int)read(fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0)
            return -1;
        quickack(fd);
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, end))
            return 0;
        if (n == sizeof buf - 1)
            return -1;
    }
}

static int write_all(int fd, SSL *ssl, const char *s)
{
    size_t len = strlen(s);
    if (ssl) {
        size_t w = 0;
        return SSL_write_ex(ssl, s, len, &w) == 1 && w == len ? 0 : -1;
    }
    return write(fd, s, len) == (ssize_t)len ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6 || (strcmp(argv[1], "direct") && strcmp(argv[1], "starttls"))) {
        fputs("usage: tls_floor direct|starttls HOST PORT CA [DOMAIN]\n", stderr);
        return 2;
    }
    int direct = strcmp(argv[1], "direct") == 0;
    if (argc == 6)
        domain = argv[5];
    char header[512];
    snprintf(header, sizeof header,
             "<?xml version='1.0'?><stream:stream to='%s' version='1.0' xml:lang='en' "
             "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
             domain);

    int fd = tcp_connect(argv[2], argv[3]);
    if (fd < 0)
        return die("cannot connect");
    if (!direct) {
        char first[600];
        snprintf(first, sizeof first, "%s<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
                 header);
        if (write_all(fd, NULL, first) || read_until(fd, NULL, "<proceed"))
            return die("no <proceed/>");
    }

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_load_verify_locations(ctx, argv[4], NULL))
        return die("cannot set up TLS");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    static const unsigned char alpn[] = "\x0bxmpp-client"; /* XEP-0368 §4 */
    if (!ssl || !SSL_set_fd(ssl, fd) || !SSL_set1_host(ssl, domain) ||
        !SSL_set_tlsext_host_name(ssl, domain) ||
        (direct && SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1) != 0))
        return die("cannot set up TLS");
    if (SSL_connect(ssl) != 1 || SSL_get_verify_result(ssl) != X509_V_OK)
        return die("TLS handshake failed");
    if (write_all(fd, ssl, header) || read_until(fd, ssl, "</stream:features>"))
        return die("no stream features");
    puts("online");
    fflush(stdout);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return 0;
}
