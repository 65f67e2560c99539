/*
 * bench/micro.c -- instruction-count benchmarks of the receive and send
 * paths, meant to run under `valgrind --tool=callgrind
 * --toggle-collect=xtb_region_*` (bench/run does): only the region
 * functions are counted, so set-up (login, building the input bytes,
 * forking the peer) is not.
 *
 *   micro recv-xtalk N    N <message> stanzas fed through xt_conn_feed into
 *                         an xt_conn that is already online (transcript
 *                         technique: a recorded server stream, no socket),
 *                         up to the XT_EV_MESSAGE handler
 *   micro recv-expat N    the same bytes into a namespace-aware expat parser
 *                         with no-op callbacks (the floor)
 *   micro recv-strophe N  the same bytes into libstrophe: a raw xmpp_conn
 *                         (xmpp_connect_raw) reading from a forked local
 *                         sender over TCP loopback, up to its "message" handler
 *   micro send-xtalk N    xt_conn_send_message + taking the pending bytes
 *   micro send-strophe N  xmpp_message_new + set_body + xmpp_send, flushed by
 *                         xmpp_run_once to a forked sink
 *
 * Per-message cost = (count(N) - count(0)) / N, computed by bench/run and
 * by the suite's performance guard (tests/perf/perf_guard.py), which needs
 * only the xtalk and expat modes: without libstrophe (XTB_HAVE_STROPHE
 * undefined) the strophe modes are left out and the rest builds.
 * Prints one line "ok N" so the runner can check the work was done.
 */
#include <expat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef XTB_HAVE_STROPHE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <strophe.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "canned_login.h"
#include "im/conn_int.h"
#include "xtalk/conn.h"

#define NOINLINE __attribute__((noinline))

static const char STREAM_HDR[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.com' version='1.0' "
    "xml:lang='en' id='s3'>";

/* A typical chat message: ~100-byte body, a few attributes, a chat state
 * and a thread: 340-ish bytes on the wire. */
static const char BODY[] = "Are you coming to the meeting tomorrow at ten? "
                           "Bring the printed slides &amp; the notes, please.";
static int make_message(char *out, size_t cap, long i)
{
    return snprintf(out, cap,
                    "<message from='juliet@example.com/balcony' to='user@example.com/laptop' "
                    "type='chat' id='m%08ld' xml:lang='en'><body>%s</body>"
                    "<active xmlns='http://jabber.org/protocol/chatstates'/>"
                    "<thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread></message>",
                    i, BODY);
}

static char *g_msgs;
static size_t g_msgs_len;

static void build_messages(long n)
{
    char one[1024];
    int l = make_message(one, sizeof one, 0);
    g_msgs = malloc((size_t)(l + 8) * (size_t)(n + 1));
    if (!g_msgs)
        exit(1);
    g_msgs_len = 0;
    for (long i = 0; i < n; i++) {
        l = make_message(g_msgs + g_msgs_len, 1024, i);
        g_msgs_len += (size_t)l;
    }
}

static long g_count;

/* ---- xtalk ---------------------------------------------------------------- */

static void bench_handler(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)c;
    (void)ud;
    if (ev->type == XT_EV_MESSAGE && ev->u.message.body && ev->u.message.from)
        g_count++;
}

/* An xt_conn online after the login of tests/transcripts/_login.inc. */
static xt_conn *xt_online(void)
{
    xt_conn *c = xt_test_online_conn("t", bench_handler, NULL);
    if (!c) {
        fprintf(stderr, "xtalk: not online\n");
        exit(1);
    }
    return c;
}

/* What a read loop does: 4 KiB reads handed to the connection. */
NOINLINE void xtb_region_recv_xtalk(xt_conn *c, const char *d, size_t len);
NOINLINE void xtb_region_recv_xtalk(xt_conn *c, const char *d, size_t len)
{
    for (size_t off = 0; off < len; off += 4096) {
        size_t n = len - off < 4096 ? len - off : 4096;
        if (xt_conn_feed(c, d + off, n, 2) < 0) {
            fprintf(stderr, "xtalk: %s\n", xt_conn_errdetail(c));
            exit(1);
        }
    }
}

NOINLINE void xtb_region_send_xtalk(xt_conn *c, long n);
NOINLINE void xtb_region_send_xtalk(xt_conn *c, long n)
{
    for (long i = 0; i < n; i++) {
        if (xt_conn_send_message(c, "juliet@example.com", "chat", BODY, NULL, NULL) != 0)
            exit(1);
        const uint8_t *p;
        size_t k;
        while ((k = xt_conn_pending(c, &p)) > 0)
            xt_conn_consume(c, k); /* "written" */
        g_count++;
    }
}

/* ---- expat floor ---------------------------------------------------------- */

static void XMLCALL ex_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)ud;
    (void)name;
    (void)atts;
}
static void XMLCALL ex_end(void *ud, const XML_Char *name)
{
    (void)ud;
    (void)name;
}
static void XMLCALL ex_text(void *ud, const XML_Char *s, int len)
{
    (void)ud;
    (void)s;
    (void)len;
}

NOINLINE void xtb_region_recv_expat(XML_Parser p, const char *d, size_t len);
NOINLINE void xtb_region_recv_expat(XML_Parser p, const char *d, size_t len)
{
    for (size_t off = 0; off < len; off += 4096) {
        size_t n = len - off < 4096 ? len - off : 4096;
        if (XML_Parse(p, d + off, (int)n, 0) != XML_STATUS_OK) {
            fprintf(stderr, "expat: %s\n", XML_ErrorString(XML_GetErrorCode(p)));
            exit(1);
        }
    }
}

/* ---- libstrophe ----------------------------------------------------------- */
#ifdef XTB_HAVE_STROPHE

static int g_st_connected;
static void st_conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                            xmpp_stream_error_t *se, void *ud)
{
    (void)error;
    (void)se;
    (void)ud;
    if (status == XMPP_CONN_RAW_CONNECT)
        xmpp_conn_open_stream_default(conn);
    else if (status == XMPP_CONN_CONNECT)
        g_st_connected = 1;
    else if (status == XMPP_CONN_DISCONNECT || status == XMPP_CONN_FAIL)
        g_st_connected = -1;
}

/* What an application reads from a message: sender, type, id and body
 * (xtalk hands these over already extracted). */
static int st_msg_handler(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    xmpp_ctx_t *ctx = ud;
    (void)conn;
    const char *from = xmpp_stanza_get_from(st);
    (void)xmpp_stanza_get_type(st);
    (void)xmpp_stanza_get_id(st);
    char *body = xmpp_message_get_body(st);
    if (body && from)
        g_count++;
    xmpp_free(ctx, body);
    return 1;
}

NOINLINE void xtb_region_recv_strophe(xmpp_ctx_t *ctx, long n);
NOINLINE void xtb_region_recv_strophe(xmpp_ctx_t *ctx, long n)
{
    while (g_count < n && g_st_connected > 0)
        xmpp_run_once(ctx, 1000);
}

NOINLINE void xtb_region_send_strophe(xmpp_ctx_t *ctx, xmpp_conn_t *conn, long n);
NOINLINE void xtb_region_send_strophe(xmpp_ctx_t *ctx, xmpp_conn_t *conn, long n)
{
    char id[32];
    for (long i = 0; i < n; i++) {
        snprintf(id, sizeof id, "m%ld", i);
        xmpp_stanza_t *m = xmpp_message_new(ctx, "chat", "juliet@example.com", id);
        xmpp_message_set_body(m, BODY);
        xmpp_send(conn, m);
        xmpp_stanza_release(m);
        g_count++;
        if (i % 16 == 15)
            xmpp_run_once(ctx, 0); /* writes the queue out */
    }
    for (int k = 0; k < 8; k++)
        xmpp_run_once(ctx, 0);
}

/* The peer: accepts one connection, answers the stream header, then (on
 * a byte from `go`) writes `out` (may be empty) and reads until EOF. */
static pid_t spawn_peer(int lfd, int go, const char *out, size_t outlen)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int s = accept(lfd, NULL, NULL);
    if (s < 0)
        _exit(1);
    char buf[65536];
    ssize_t r = read(s, buf, sizeof buf); /* client's stream header */
    if (r <= 0)
        _exit(1);
    if (write(s, STREAM_HDR, strlen(STREAM_HDR)) < 0)
        _exit(1);
    char g;
    if (read(go, &g, 1) != 1)
        _exit(1);
    size_t off = 0;
    while (off < outlen) {
        ssize_t w = write(s, out + off, outlen - off);
        if (w <= 0)
            _exit(1);
        off += (size_t)w;
    }
    while (read(s, buf, sizeof buf) > 0) {
    }
    _exit(0);
}

static int run_strophe(int send, long n)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) != 0)
        return 1;
    int gp[2];
    if (pipe(gp) != 0)
        return 1;
    pid_t pid = spawn_peer(lfd, gp[0], send ? "" : g_msgs, send ? 0 : g_msgs_len);
    xmpp_initialize();
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    xmpp_conn_t *conn = xmpp_conn_new(ctx);
    xmpp_conn_set_jid(conn, "user@example.com");
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_DISABLE_TLS);
    xmpp_handler_add(conn, st_msg_handler, NULL, "message", NULL, ctx);
    if (xmpp_connect_raw(conn, "127.0.0.1", ntohs(a.sin_port), st_conn_handler, NULL) !=
        XMPP_EOK)
        return 1;
    while (g_st_connected == 0)
        xmpp_run_once(ctx, 1000);
    if (g_st_connected < 0)
        return 1;
    if (write(gp[1], "g", 1) != 1)
        return 1;
    if (send)
        xtb_region_send_strophe(ctx, conn, n);
    else
        xtb_region_recv_strophe(ctx, n);
    xmpp_conn_release(conn);
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    waitpid(pid, NULL, 0);
    return 0;
}
#endif /* XTB_HAVE_STROPHE */

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: micro recv-xtalk|recv-expat|recv-strophe|send-xtalk|send-strophe N\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *mode = argv[1];
    long n = atol(argv[2]);
    if (strncmp(mode, "recv-", 5) == 0)
        build_messages(n);
    if (strcmp(mode, "recv-xtalk") == 0) {
        xt_conn *c = xt_online();
        xtb_region_recv_xtalk(c, g_msgs, g_msgs_len);
        xt_conn_free(c);
    } else if (strcmp(mode, "send-xtalk") == 0) {
        xt_conn *c = xt_online();
        xtb_region_send_xtalk(c, n);
        xt_conn_free(c);
    } else if (strcmp(mode, "recv-expat") == 0) {
        XML_Parser p = XML_ParserCreateNS(NULL, '|');
        XML_SetElementHandler(p, ex_start, ex_end);
        XML_SetCharacterDataHandler(p, ex_text);
        if (XML_Parse(p, STREAM_HDR, (int)strlen(STREAM_HDR), 0) != XML_STATUS_OK)
            return 1;
        xtb_region_recv_expat(p, g_msgs, g_msgs_len);
        g_count = n;
        XML_ParserFree(p);
#ifdef XTB_HAVE_STROPHE
    } else if (strcmp(mode, "recv-strophe") == 0) {
        if (run_strophe(0, n) != 0)
            return 1;
    } else if (strcmp(mode, "send-strophe") == 0) {
        if (run_strophe(1, n) != 0)
            return 1;
#endif
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    printf("ok %ld\n", g_count);
    free(g_msgs);
    return g_count == n ? 0 : 1;
}
