/*
 * bench/xt_client.c -- the xtalk side of the network benchmarks (public
 * API only: xt_loop, xt_client, xt_conn). bench/strophe_client.c is the
 * same program on libstrophe.
 *
 *   xt_client login JID PW HOST PORT CA [direct]
 *       online with the roster loaded and initial presence sent, then
 *       prints "online", then "hint=" and the server's SASL offer, and
 *       exits (bench/run times it from process start); $XTB_SASL_HINT is
 *       passed to xt_conn_opts_set_sasl_hint (the offer an earlier run saw);
 *       with $XTB_UA_ID (a XEP-0388 user-agent id) SASL2 asks for a FAST
 *       token, printed as "fast=MECH TOKEN" when one came, and
 *       $XTB_FAST="MECH TOKEN" is the token to log in with
 *       (xt_conn_opts_set_fast_token); $XTB_NO_SASL2=1 sets
 *       XT_CONN_NO_SASL2 (the RFC 6120 path on a SASL2 server); with
 *       $XTB_NO_PRESENCE=1 sets XT_CONN_NO_PRESENCE (no initial presence:
 *       what the server's handling of it adds to the login's last turn); with
 *       $XTB_LOG=1 the library's log (XML included, credentials redacted)
 *       goes to stderr, each line stamped with CLOCK_REALTIME seconds
 *       (bench/login_timeline.py lines it up with the proxy's log)
 *   xt_client hold PREFIX N PW HOST PORT CA [INFLIGHT]
 *       N sessions PREFIX0..PREFIX(N-1) in one process, all online; prints
 *       "rss_kb_before= rss_kb_after= cpu_s= wall_s= online=" and glibc's
 *       heap_inuse_kb= heap_free_kb=. All N connect at once, or with
 *       INFLIGHT > 0 at most that many logins at a time (the next starts
 *       when one is online or failed), as an application bringing up
 *       thousands of sessions would do.
 *   xt_client recv JID PW HOST PORT CA COUNT
 *       prints "online", exits after COUNT messages; prints "cpu_s="
 *   xt_client send JID PW HOST PORT CA COUNT TO
 *       sends COUNT messages to TO (as fast as the acks allow); "cpu_s="
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "xtalk/xtalk.h"

#include "common.h"

static xt_loop *loop;
static xt_ctx *ctx;
static long target, done_count, online_count, failed;
static const char *send_to;
static xt_conn *sender;
static long sent;
static char fast_token[512]; /* "MECH TOKEN" the server issued, for the next run */

static void on_fast_token(void *ud, const char *mech, const char *token, const char *expiry)
{
    (void)ud;
    (void)expiry;
    snprintf(fast_token, sizeof fast_token, "%s %s", mech, token ? token : "");
}

/* $XTB_LOG: "TIME LEVEL message" on stderr, one line per call. */
static void log_cb(void *ud, int level, const char *msg)
{
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    static const char *const names[] = {"error", "warn", "info", "debug", "in", "out"};
    fprintf(stderr, "%lld.%06ld %s %s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000,
            level >= 0 && level <= 5 ? names[level] : "?", msg);
}

/* glibc's view of the heap: bytes in use by live allocations and bytes
 * free inside the heap (freed but not returned: fragmentation), so RSS
 * growth can be split into live memory and allocator slack. */
static void heap_stats(void)
{
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    printf(" heap_inuse_kb=%zu heap_free_kb=%zu heap_mmap_kb=%zu", (mi.uordblks) / 1024,
           mi.fordblks / 1024, mi.hblkhd / 1024);
#endif
}

static void pump(void)
{
    while (sent < target) {
        int rc = xt_conn_send_message(sender, send_to, "chat", bench_body, NULL, NULL);
        if (rc == XT_ETOOBIG)
            return; /* wait for acks */
        if (rc != 0) {
            fprintf(stderr, "send: %s\n", xt_strerror(rc));
            exit(1);
        }
        sent++;
    }
}

static int mode_send, mode_recv, mode_hold;
static long hold_started;
static bench_hold hold;
static xt_client **held; /* the hold sessions, closed at the end */
static xt_client *start(const char *jid, const char *pw, const char *host, int port,
                        const char *ca, unsigned flags);

/* Starts the next hold session while fewer than INFLIGHT are logging in. */
static void hold_more(void)
{
    while (hold_started < target &&
           (hold.inflight == 0 || hold_started - online_count - failed < hold.inflight)) {
        char jid[256];
        snprintf(jid, sizeof jid, "%s%ld@localhost", hold.prefix, hold_started);
        held[hold_started++] = start(jid, hold.pw, hold.host, hold.port, hold.ca, 0);
    }
}

static void stop_cb(xt_loop *l, void *ud)
{
    (void)ud;
    xt_loop_stop(l);
}

/* Done: close the stream (unavailable presence, </stream:stream>) and
 * stop once the server has closed its side. An exit without it would
 * leave the session hibernating on the server (XEP-0198), and later
 * logins to the account would pay for every such session. */
static int closing;
static long to_close; /* closes sent, disconnections not yet seen */
static void finish(xt_conn *c)
{
    if (xt_conn_close(c) == 0) {
        closing = 1;
        to_close++;
    } else if (to_close == 0) {
        xt_loop_stop(loop);
    }
}

static void handler(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)ud;
    switch (ev->type) {
    case XT_EV_ROSTER:
        if (!ev->u.roster.loaded)
            break;
        online_count++;
        if (getenv("XTB_LOG"))
            log_cb(NULL, XT_LOG_INFO, "bench: online (roster loaded)");
        if (!mode_hold) {
            const char *hint = xt_conn_sasl_hint(c);
            printf("online\nhint=%s\nfast=%s\nmech=%s\n", hint ? hint : "", fast_token,
                   xt_conn_mechanism(c) ? xt_conn_mechanism(c) : "");
            fflush(stdout);
        }
        if (mode_send) {
            sender = c;
            pump();
        }
        if ((!mode_send && !mode_recv && !mode_hold) || (mode_recv && target == 0))
            finish(c);
        if (mode_hold && online_count + failed == target)
            xt_loop_stop(loop);
        else if (mode_hold)
            hold_more();
        break;
    case XT_EV_ACKED:
        if (mode_send) {
            done_count++;
            pump();
            if (done_count == target)
                finish(c);
        }
        break;
    case XT_EV_MESSAGE:
        if (mode_recv && ev->u.message.body && ++done_count == target)
            finish(c);
        break;
    case XT_EV_DISCONNECTED:
        if (closing) {
            if (--to_close <= 0)
                xt_loop_stop(loop);
            break;
        }
        fprintf(stderr, "disconnected: %s %s\n", xt_strerror(ev->u.disconnected.error),
                ev->u.disconnected.text ? ev->u.disconnected.text : "");
        failed++;
        if (!mode_hold || online_count + failed == target)
            xt_loop_stop(loop);
        else
            hold_more();
        break;
    default:
        break;
    }
}

static xt_client *start(const char *jid, const char *pw, const char *host, int port,
                        const char *ca, unsigned flags)
{
    xt_conn_opts *opts = NULL;
    const char *no2 = getenv("XTB_NO_SASL2"), *fast = getenv("XTB_FAST");
    if (no2 && *no2 == '1')
        flags |= XT_CONN_NO_SASL2;
    const char *np = getenv("XTB_NO_PRESENCE");
    if (np && *np == '1')
        flags |= XT_CONN_NO_PRESENCE;
    char mech[64] = "";
    const char *tok = NULL;
    if (fast && strchr(fast, ' ') && (size_t)(strchr(fast, ' ') - fast) < sizeof mech) {
        memcpy(mech, fast, (size_t)(strchr(fast, ' ') - fast));
        tok = strchr(fast, ' ') + 1;
    }
    /* login: the server's SASL offer from an earlier run (what a client
     * keeps per account; see xt_conn_sasl_hint), the user agent and the
     * FAST token an earlier run got */
    if (xt_conn_opts_new(NULL, &opts) != 0 || xt_conn_opts_set_jid(opts, jid) != 0 ||
        xt_conn_opts_set_password(opts, pw) != 0 || xt_conn_opts_set_flags(opts, flags) != 0 ||
        xt_conn_opts_set_timeouts(opts, 0, 600000) != 0 ||
        xt_conn_opts_set_sasl_hint(opts, getenv("XTB_SASL_HINT")) != 0 ||
        xt_conn_opts_set_user_agent(opts, getenv("XTB_UA_ID"), "xt_client", NULL) != 0 ||
        xt_conn_opts_set_fast_token(opts, mech, tok) != 0 ||
        xt_conn_opts_set_fast_token_cb(opts, on_fast_token, NULL) != 0)
        exit(1);
    const char *lg = getenv("XTB_LOG");
    if (lg && *lg == '1' && xt_conn_opts_set_log(opts, log_cb, NULL) != 0)
        exit(1);
    xt_client *cl;
    /* One context for all: the hold sessions share a TLS context and the
     * handshake limiter. */
    int rc = xt_client_new(ctx, opts, &cl);
    xt_conn_opts_free(opts); /* copied by the conn */
    if (rc != 0 ||
        xt_client_set_server(cl, host, (uint16_t)port) != 0 || xt_client_set_ca_file(cl, ca) != 0 ||
        xt_client_set_flags(cl, XT_CLIENT_NO_SYSTEM_CA) != 0 ||
        xt_client_set_connect_timeout(cl, 60000) != 0 || xt_loop_add_client(loop, cl) != 0)
        exit(1);
    xt_conn_on(xt_client_conn(cl), XT_EV_ALL, handler, NULL);
    if (xt_client_connect(cl) != 0) {
        fprintf(stderr, "connect: %s\n", xt_client_errdetail(cl));
        exit(1);
    }
    return cl;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: see bench/xt_client.c\n");
        return 2;
    }
    const char *mode = argv[1];
    if (xt_loop_new(NULL, &loop) != 0 || xt_ctx_new(NULL, &ctx) != 0)
        return 1;
    double t0 = bench_now_s();
    if (strcmp(mode, "login") == 0) {
        unsigned fl = argc > 7 && strcmp(argv[7], "direct") == 0 ? XT_CONN_DIRECT_TLS : 0;
        start(argv[2], argv[3], argv[4], atoi(argv[5]), argv[6], fl);
        xt_loop_run(loop);
        xt_loop_free(loop);
        return online_count == 1 ? 0 : 1;
    }
    if (strcmp(mode, "hold") == 0 && argc >= 8) {
        mode_hold = 1;
        bench_hold_args(argc, argv, &hold);
        target = hold.n;
        long before = bench_rss_kb();
        double c0 = bench_cpu_s();
        held = calloc(target > 0 ? (size_t)target : 1, sizeof *held);
        if (!held)
            return 1;
        hold_more();
        xt_loop_run(loop);
        printf("rss_kb_before=%ld rss_kb_after=%ld cpu_s=%.3f wall_s=%.3f online=%ld", before,
               bench_rss_kb(), bench_cpu_s() - c0, bench_now_s() - t0, online_count);
        heap_stats();
        printf("\n");
        fflush(stdout);
        /* XTB_HOLD_WAIT=S: stay online S more seconds (for a heap profiler's
         * snapshot of the idle sessions, e.g. vgdb under massif). */
        const char *w = getenv("XTB_HOLD_WAIT");
        if (w && atoi(w) > 0) {
            xt_loop_add_timer(loop, (uint64_t)atoi(w) * 1000u, stop_cb, NULL);
            xt_loop_run(loop);
        }
        for (long i = 0; i < hold_started; i++)
            finish(xt_client_conn(held[i]));
        if (to_close > 0)
            xt_loop_run(loop);
        free(held);
        xt_loop_free(loop);
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
        xt_loop_run(loop);
        printf("cpu_s=%.3f done=%ld\n", bench_cpu_s(), done_count);
        fflush(stdout);
        xt_loop_free(loop);
        return done_count == target ? 0 : 1;
    }
    fprintf(stderr, "bad mode\n");
    return 2;
}
