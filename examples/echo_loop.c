/*
 * echo_loop -- an echo bot on the built-in epoll loop (xt_loop).
 *
 *   XTALK_PASSWORD=... echo_loop JID HOST PORT CA_FILE [COUNT]
 *
 * Logs in as JID at HOST:PORT (trusting the CA in CA_FILE as well as the
 * system's), prints "online", answers each chat message with its own
 * body, and after COUNT answers (default 1) closes the stream and exits
 * 0 once the server has acknowledged every answer.
 *
 * Build: cc echo_loop.c $(pkg-config --cflags --libs xtalk)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xtalk/xtalk.h>

typedef struct bot {
    xt_client *cl;
    int left;    /* answers still to send */
    int unacked; /* answers the server does not hold yet */
    int error;   /* of the disconnection; 0 = clean */
} bot;

/* XTALK_DEBUG=1: the library's log (the XML stream, SASL redacted). */
static void on_log(void *ud, int level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "[%d] %s\n", level, msg);
}

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    bot *b = ud;
    switch (ev->type) {
    case XT_EV_ONLINE:
        printf("online as %s\n", ev->u.online.jid);
        fflush(stdout); /* the test waits for this line */
        break;
    case XT_EV_MESSAGE: {
        const xt_message *m = &ev->u.message;
        if (!m->body || b->left == 0 || strcmp(m->type, "chat") != 0)
            break;
        /* Inside a handler the client sends when the handler returns: no
         * xt_client_flush needed here. */
        if (xt_conn_send_message(c, m->from, "chat", m->body, m->thread, NULL) == 0) {
            printf("echoed to %s: %s\n", m->from, m->body);
            b->left--;
            b->unacked++;
        }
        break;
    }
    case XT_EV_ACKED:
        /* The server has it (XEP-0198 or a ping): now a close loses nothing. */
        if (--b->unacked == 0 && b->left == 0)
            xt_conn_close(c);
        break;
    case XT_EV_DISCONNECTED:
        b->error = ev->u.disconnected.error;
        if (b->error)
            fprintf(stderr, "disconnected: %s: %s\n", xt_strerror(b->error),
                    ev->u.disconnected.text ? ev->u.disconnected.text : "");
        break;
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    const char *pw = getenv("XTALK_PASSWORD");
    if (argc < 5 || !pw) {
        fprintf(stderr, "usage: XTALK_PASSWORD=... %s JID HOST PORT CA_FILE [COUNT]\n", argv[0]);
        return 2;
    }
    bot b = {.left = argc > 5 ? atoi(argv[5]) : 1, .error = -1};
    xt_conn_opts *opts = NULL;
    xt_loop *loop = NULL;
    int rc;
    if ((rc = xt_conn_opts_new(NULL, &opts)) < 0 || (rc = xt_conn_opts_set_jid(opts, argv[1])) < 0 ||
        (rc = xt_conn_opts_set_password(opts, pw)) < 0 ||
        (rc = xt_conn_opts_set_log(opts, getenv("XTALK_DEBUG") ? on_log : NULL, NULL)) < 0) {
        fprintf(stderr, "%s: %s\n", xt_strerror(rc), opts ? xt_conn_opts_errdetail(opts) : "");
        xt_conn_opts_free(opts);
        return 2;
    }
    rc = xt_loop_new(NULL, &loop);
    if (rc >= 0)
        rc = xt_client_new(NULL, opts, &b.cl); /* copies the options */
    xt_conn_opts_free(opts);
    if (rc < 0 ||
        (rc = xt_client_set_server(b.cl, argv[2], (uint16_t)atoi(argv[3]))) < 0 ||
        (rc = xt_client_set_ca_file(b.cl, argv[4])) < 0 ||
        (rc = xt_conn_on(xt_client_conn(b.cl), XT_EV_ALL, on_event, &b)) < 0 ||
        (rc = xt_loop_add_client(loop, b.cl)) < 0 || (rc = xt_client_connect(b.cl)) < 0) {
        fprintf(stderr, "cannot start: %s %s\n", xt_strerror(rc),
                b.cl ? xt_client_errdetail(b.cl) : "");
        xt_client_free(b.cl);
        xt_loop_free(loop);
        return 1;
    }
    /* Returns once the client is done: closed, or failed for good. */
    rc = xt_loop_run(loop);
    xt_client_free(b.cl);
    xt_loop_free(loop);
    return rc == 0 && b.error == 0 && b.left == 0 ? 0 : 1;
}
