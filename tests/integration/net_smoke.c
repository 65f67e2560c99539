/*
 * Transport smoke test against a real server (tests/harness/prosody.py):
 *   net_smoke starttls|direct HOST PORT JID PASSWORD [--ca-file F] [--pin HEX]
 *            [--no-system-ca] [--expect CODE] [--count N] [--big BYTES]
 * Connects (N clients at once in one loop), waits for XT_EV_ONLINE (or
 * the expected failure), optionally sends itself a message of BYTES and
 * waits for it to come back, closes cleanly, and exits 0 when what
 * happened is what was expected.
 * Prints one line per event so a failing run says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtalk/client.h"

typedef struct st {
    xt_client *cl;
    int online, disconnected, error, got_big;
    size_t big;
} st;

static int g_quiet;

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    st *s = ud;
    if (ev->type == XT_EV_ONLINE) {
        s->online = 1;
        if (!g_quiet)
            printf("online as %s (mechanism %s, server %s)\n", ev->u.online.jid,
               xt_conn_mechanism(c) ? xt_conn_mechanism(c) : "?",
               xt_client_peer_sha256(s->cl) ? xt_client_peer_sha256(s->cl) : "?");
        if (s->big) {
            char *body = malloc(s->big + 1);
            if (!body)
                exit(3);
            for (size_t i = 0; i < s->big; i++)
                body[i] = (char)('a' + i % 26);
            body[s->big] = '\0';
            int rc = xt_conn_send_message(c, ev->u.online.jid, "chat", body, NULL, NULL);
            if (rc < 0)
                printf("send: %s\n", xt_strerror(rc));
            free(body);
        } else {
            xt_conn_close(c);
        }
    } else if (ev->type == XT_EV_MESSAGE && s->big && ev->u.message.body) {
        size_t n = strlen(ev->u.message.body);
        printf("message back: %zu bytes\n", n);
        s->got_big = n == s->big;
        xt_conn_close(c);
    } else if (ev->type == XT_EV_DISCONNECTED) {
        s->disconnected = 1;
        s->error = ev->u.disconnected.error;
        if (!g_quiet || s->error)
            printf("disconnected: %d (%s) %s\n", ev->u.disconnected.error,
               xt_strerror(ev->u.disconnected.error),
               ev->u.disconnected.text ? ev->u.disconnected.text : "");
    }
}

static void on_log(void *ud, int level, const char *msg)
{
    (void)ud;
    if (level <= XT_LOG_DEBUG && getenv("NET_SMOKE_LOG"))
        fprintf(stderr, "log[%d] %s\n", level, msg);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s starttls|direct HOST PORT JID PASSWORD [options]\n", argv[0]);
        return 2;
    }
    xt_conn_opts *cfg = NULL;
    if (xt_conn_opts_new(NULL, &cfg) != 0 || xt_conn_opts_set_jid(cfg, argv[4]) != 0 ||
        xt_conn_opts_set_password(cfg, argv[5]) != 0 || xt_conn_opts_set_log(cfg, on_log, NULL) != 0) {
        fprintf(stderr, "options: %s\n", cfg ? xt_conn_opts_errdetail(cfg) : "out of memory");
        return 2;
    }
    const char *host = strcmp(argv[2], "-") ? argv[2] : NULL; /* "-": SRV lookup */
    const char *ca_file = NULL, *pin = NULL;
    unsigned flags = 0;
    if (strcmp(argv[1], "direct") == 0 && xt_conn_opts_set_flags(cfg, XT_CONN_DIRECT_TLS) != 0)
        return 2;
    int expect = 0, count = 1;
    size_t big = 0;
    for (int i = 6; i < argc; i++) {
        if (strcmp(argv[i], "--ca-file") == 0 && i + 1 < argc)
            ca_file = argv[++i];
        else if (strcmp(argv[i], "--pin") == 0 && i + 1 < argc)
            pin = argv[++i];
        else if (strcmp(argv[i], "--no-system-ca") == 0)
            flags |= XT_CLIENT_NO_SYSTEM_CA;
        else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc)
            expect = atoi(argv[++i]);
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (strcmp(argv[i], "--big") == 0 && i + 1 < argc)
            big = (size_t)atol(argv[++i]);
    }
    if (count < 1)
        count = 1;
    g_quiet = count > 1;
    xt_loop *loop;
    xt_ctx *ctx; /* shared: one TLS context and one handshake limiter for all */
    st *s = calloc((size_t)count, sizeof *s);
    if (!s || xt_loop_new(NULL, &loop) < 0 || xt_ctx_new(NULL, &ctx) < 0)
        return 3;
    for (int i = 0; i < count; i++) {
        s[i].big = big;
        xt_client *cl;
        if (xt_client_new(ctx, cfg, &cl) < 0 || xt_client_set_server(cl, host, (uint16_t)atoi(argv[3])) < 0 ||
            xt_client_set_ca_file(cl, ca_file) < 0 || xt_client_set_pin(cl, pin) < 0 ||
            xt_client_set_flags(cl, flags) < 0 || xt_client_set_connect_timeout(cl, 5000) < 0 ||
            xt_loop_add_client(loop, cl) < 0)
            return 3;
        s[i].cl = cl;
        xt_conn_on(xt_client_conn(s[i].cl), XT_EV_ALL, on_event, &s[i]);
        int rc = xt_client_connect(s[i].cl);
        if (rc < 0) {
            printf("connect: %s: %s\n", xt_strerror(rc), xt_client_errdetail(s[i].cl));
            xt_loop_free(loop);
            return rc == expect ? 0 : 1;
        }
    }
    xt_conn_opts_free(cfg); /* each client's conn copied it */
    int rc = xt_loop_run(loop);
    int ok = 1, online = 0;
    for (int i = 0; i < count; i++) {
        online += s[i].online;
        if (!(s[i].disconnected && (expect ? s[i].error == expect : (s[i].online && s[i].error == 0))))
            ok = 0;
        if (big && !s[i].got_big)
            ok = 0;
    }
    printf("loop: %d, clients %d, online %d, ok %d, detail \"%s\"\n", rc, count, online, ok,
           xt_client_errdetail(s[0].cl));
    for (int i = 0; i < count; i++)
        xt_client_free(s[i].cl);
    xt_loop_free(loop);
    xt_ctx_free(ctx);
    free(s);
    return ok ? 0 : 1;
}
