/*
 * bench/strophe_client.c -- bench/xt_client.c written on libstrophe, the
 * peer in the comparison. Same modes, arguments and output. "Online" is
 * the same point as xtalk's: bound, roster loaded, initial presence sent
 * (roster query and presence go out together on connect, as profanity
 * does). The sender keeps at most 100 stanzas queued and ends with a ping
 * whose answer proves the server has every message.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

#include "common.h"

static xmpp_ctx_t *ctx;
static long target, done_count, online_count, failed, sent;
static const char *send_to;
static int mode_send, mode_recv, mode_hold, stop;

static int ping_result(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    (void)conn;
    (void)st;
    (void)ud;
    done_count = sent;
    stop = 1;
    return 0;
}

static void pump(xmpp_conn_t *conn)
{
    char id[32];
    while (sent < target && xmpp_conn_send_queue_len(conn) < 100) {
        snprintf(id, sizeof id, "m%ld", sent);
        xmpp_stanza_t *m = xmpp_message_new(ctx, "chat", send_to, id);
        xmpp_message_set_body(m, bench_body);
        xmpp_send(conn, m);
        xmpp_stanza_release(m);
        if (++sent == target) {
            xmpp_stanza_t *iq = xmpp_iq_new(ctx, "get", "done-ping");
            xmpp_stanza_t *p = xmpp_stanza_new(ctx);
            xmpp_stanza_set_name(p, "ping");
            xmpp_stanza_set_ns(p, "urn:xmpp:ping");
            xmpp_stanza_add_child(iq, p);
            xmpp_stanza_release(p);
            xmpp_id_handler_add(conn, ping_result, "done-ping", NULL);
            xmpp_send(conn, iq);
            xmpp_stanza_release(iq);
        }
    }
}

static int roster_result(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    (void)st;
    (void)ud;
    online_count++;
    if (!mode_hold) {
        printf("online\n");
        fflush(stdout);
    }
    if (mode_send)
        pump(conn);
    if ((!mode_send && !mode_recv && !mode_hold) || (mode_recv && target == 0))
        stop = 1;
    if (mode_hold && online_count + failed == target)
        stop = 1;
    return 0;
}

static int msg_handler(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    (void)conn;
    (void)ud;
    char *body = xmpp_message_get_body(st);
    if (body && mode_recv && ++done_count == target)
        stop = 1;
    xmpp_free(ctx, body);
    return 1;
}

/* Every connection made, for the close at the end. */
static xmpp_conn_t **conns;
static size_t nconns, conns_cap;
static int closing;
static long to_close;

static void conn_handler(xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
                         xmpp_stream_error_t *se, void *ud)
{
    (void)se;
    (void)ud;
    if (status == XMPP_CONN_CONNECT) {
        xmpp_stanza_t *iq = xmpp_iq_new(ctx, "get", "roster1");
        xmpp_stanza_t *q = xmpp_stanza_new(ctx);
        xmpp_stanza_set_name(q, "query");
        xmpp_stanza_set_ns(q, "jabber:iq:roster");
        xmpp_stanza_add_child(iq, q);
        xmpp_stanza_release(q);
        xmpp_id_handler_add(conn, roster_result, "roster1", NULL);
        xmpp_send(conn, iq);
        xmpp_stanza_release(iq);
        xmpp_stanza_t *pres = xmpp_presence_new(ctx);
        xmpp_send(conn, pres);
        xmpp_stanza_release(pres);
        return;
    }
    if (closing) {
        if (--to_close <= 0)
            stop = 1;
        return;
    }
    fprintf(stderr, "disconnected: %d\n", error);
    failed++;
    if (!mode_hold || online_count + failed == target)
        stop = 1;
}

static int send_timer(xmpp_conn_t *conn, void *ud)
{
    (void)ud;
    if (online_count)
        pump(conn);
    return 1;
}

static void start(const char *jid, const char *pw, const char *host, int port, const char *ca,
                  int direct)
{
    xmpp_conn_t *conn = xmpp_conn_new(ctx);
    if (nconns == conns_cap) {
        size_t cap = conns_cap ? conns_cap * 2 : 16;
        xmpp_conn_t **n = realloc(conns, cap * sizeof *n);
        if (!n)
            exit(1);
        conns = n;
        conns_cap = cap;
    }
    conns[nconns++] = conn;
    xmpp_conn_set_jid(conn, jid);
    xmpp_conn_set_pass(conn, pw);
    xmpp_conn_set_cafile(conn, ca);
    long fl = XMPP_CONN_FLAG_MANDATORY_TLS;
    if (direct)
        fl = XMPP_CONN_FLAG_LEGACY_SSL;
    xmpp_conn_set_flags(conn, fl);
    xmpp_handler_add(conn, msg_handler, NULL, "message", NULL, NULL);
    if (mode_send)
        xmpp_timed_handler_add(conn, send_timer, 1, NULL);
    if (xmpp_connect_client(conn, host, (unsigned short)port, conn_handler, NULL) != XMPP_EOK) {
        fprintf(stderr, "connect failed\n");
        exit(1);
    }
}

/* hold with INFLIGHT > 0: at most that many logins at a time (as in
 * bench/xt_client.c). */
static long hold_started;
static bench_hold hold;

static void hold_more(void)
{
    while (mode_hold && hold_started < target &&
           (hold.inflight == 0 || hold_started - online_count - failed < hold.inflight)) {
        char jid[256];
        snprintf(jid, sizeof jid, "%s%ld@localhost", hold.prefix, hold_started++);
        start(jid, hold.pw, hold.host, hold.port, hold.ca, 0);
    }
}

static void run(void)
{
    while (!stop) {
        xmpp_run_once(ctx, 100);
        hold_more();
    }
}

/* Done: close every stream that is up and wait for the ends, as
 * bench/xt_client.c does. libstrophe negotiates XEP-0198 with resumption
 * too: an exit without closing leaves the session hibernating on the
 * server, which then stores its unacknowledged messages offline, and the
 * next run gets them. */
static void close_all(void)
{
    closing = 1;
    for (size_t i = 0; i < nconns; i++)
        if (xmpp_conn_is_connected(conns[i])) {
            xmpp_disconnect(conns[i]);
            to_close++;
        }
    stop = to_close == 0;
    while (!stop)
        xmpp_run_once(ctx, 100);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: see bench/xt_client.c\n");
        return 2;
    }
    const char *mode = argv[1];
    /* libstrophe writes with write(2): a server that closed first must
     * not kill the process (any application on it has to do this). */
    signal(SIGPIPE, SIG_IGN);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    double t0 = bench_now_s();
    if (strcmp(mode, "login") == 0) {
        start(argv[2], argv[3], argv[4], atoi(argv[5]), argv[6],
              argc > 7 && strcmp(argv[7], "direct") == 0);
        run();
        close_all();
        return online_count == 1 ? 0 : 1;
    }
    if (strcmp(mode, "hold") == 0 && argc >= 8) {
        mode_hold = 1;
        bench_hold_args(argc, argv, &hold);
        target = hold.n;
        long before = bench_rss_kb();
        double c0 = bench_cpu_s();
        hold_more();
        run();
        printf("rss_kb_before=%ld rss_kb_after=%ld cpu_s=%.3f wall_s=%.3f online=%ld\n", before,
               bench_rss_kb(), bench_cpu_s() - c0, bench_now_s() - t0, online_count);
        fflush(stdout);
        close_all();
        return online_count == target ? 0 : 1;
    }
    if ((strcmp(mode, "recv") == 0 || strcmp(mode, "send") == 0) && argc >= 8) {
        mode_recv = mode[0] == 'r';
        mode_send = !mode_recv;
        target = atol(argv[7]);
        send_to = argc > 8 ? argv[8] : NULL;
        if (mode_send && !send_to)
            return 2;
        start(argv[2], argv[3], argv[4], atoi(argv[5]), argv[6], 0);
        run();
        close_all();
        printf("cpu_s=%.3f done=%ld\n", bench_cpu_s(), done_count);
        fflush(stdout);
        return done_count == target ? 0 : 1;
    }
    fprintf(stderr, "bad mode\n");
    return 2;
}
