/*
 * echo_uv -- ask an echo bot something, in a libuv loop.
 *
 *   XTALK_PASSWORD=... echo_uv JID HOST PORT CA_FILE TO TEXT
 *
 * Logs in as JID, sends TEXT to TO (for instance examples/echo_loop),
 * waits for the answer, prints "reply: ..." and exits 0 when the answer
 * is TEXT. A libuv timer gives up after 20 s. The client runs through
 * <xtalk/adapters/libuv.h>: libuv polls the client's fds and runs its
 * timer; libxtalk itself knows nothing of libuv.
 *
 * Build: cc echo_uv.c $(pkg-config --cflags --libs xtalk libuv)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xtalk/adapters/libuv.h>
#include <xtalk/xtalk.h>

typedef struct ask {
    xt_client *cl;
    const char *to, *text;
    uv_timer_t give_up;
    int answered; /* 1: the right answer came */
} ask;

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    ask *a = ud;
    if (ev->type == XT_EV_ONLINE) {
        printf("online as %s\n", ev->u.online.jid);
        if (xt_conn_send_message(c, a->to, "chat", a->text, NULL, NULL) < 0)
            xt_conn_close(c);
    } else if (ev->type == XT_EV_MESSAGE && ev->u.message.body) {
        printf("reply: %s\n", ev->u.message.body);
        a->answered = strcmp(ev->u.message.body, a->text) == 0;
        xt_conn_close(c); /* the client goes on until the server closes too */
    } else if (ev->type == XT_EV_DISCONNECTED) {
        if (ev->u.disconnected.error)
            fprintf(stderr, "disconnected: %s\n", xt_strerror(ev->u.disconnected.error));
        if (!uv_is_closing((uv_handle_t *)&a->give_up))
            uv_close((uv_handle_t *)&a->give_up, NULL); /* nothing else keeps uv_run going */
    }
}

/* Our own libuv callback calling into the conn: the client hears of it
 * only through xt_client_flush (sends only queue). */
static void on_give_up(uv_timer_t *t)
{
    ask *a = t->data;
    fprintf(stderr, "no answer in time\n");
    xt_conn_close(xt_client_conn(a->cl));
    xt_client_flush(a->cl, xt_now_ms());
}

int main(int argc, char **argv)
{
    const char *pw = getenv("XTALK_PASSWORD");
    if (argc < 7 || !pw) {
        fprintf(stderr, "usage: XTALK_PASSWORD=... %s JID HOST PORT CA_FILE TO TEXT\n", argv[0]);
        return 2;
    }
    ask a = {.to = argv[5], .text = argv[6]};
    uv_loop_t *loop = uv_default_loop();
    uv_timer_init(loop, &a.give_up);
    a.give_up.data = &a;
    xt_conn_opts *opts = NULL;
    int rc = xt_conn_opts_new(NULL, &opts);
    if (rc >= 0)
        rc = xt_conn_opts_set_jid(opts, argv[1]);
    if (rc >= 0)
        rc = xt_conn_opts_set_password(opts, pw);
    if (rc >= 0)
        rc = xt_client_new(NULL, opts, &a.cl); /* copies the options */
    xt_conn_opts_free(opts);
    if (rc < 0 ||
        (rc = xt_client_set_server(a.cl, argv[2], (uint16_t)atoi(argv[3]))) < 0 ||
        (rc = xt_client_set_ca_file(a.cl, argv[4])) < 0 ||
        (rc = xt_conn_on(xt_client_conn(a.cl), XT_EV_ALL, on_event, &a)) < 0 ||
        (rc = xt_uv_attach(loop, a.cl)) < 0 || (rc = xt_client_connect(a.cl)) < 0) {
        fprintf(stderr, "cannot start: %s %s\n", xt_strerror(rc),
                a.cl ? xt_client_errdetail(a.cl) : "");
        xt_client_free(a.cl);
        uv_close((uv_handle_t *)&a.give_up, NULL);
        uv_run(loop, UV_RUN_NOWAIT);
        return 1;
    }
    uv_timer_start(&a.give_up, on_give_up, 20000, 0);
    uv_run(loop, UV_RUN_DEFAULT); /* until the client is done and the timer closed */
    xt_client_free(a.cl);
    uv_run(loop, UV_RUN_NOWAIT); /* the adapter's handles finish closing */
    uv_loop_close(loop);
    return a.answered ? 0 : 1;
}
