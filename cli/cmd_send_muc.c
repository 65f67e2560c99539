/*
 * xtalk send --muc ROOM@SERVICE[/NICK] [TEXT]: join the room (no
 * history), send, wait until the room reflects each message back to us
 * (XEP-0045 §7.4: the room sends every groupchat message to all its
 * occupants, the sender included; ours are recognised by their XEP-0359
 * origin-id), leave. Exit 0 only when every message was reflected: the
 * room has it, which a server's ack alone does not say. A room that
 * refuses the join exits with its own code (report.h: nick, password,
 * members-only, banned, other), with the room's reason on stderr.
 *
 * --pm NICK sends private messages to the occupant NICK instead (§7.5:
 * only an occupant may); they are not reflected, so exit 0 comes once
 * the room answered a ping sent after them (it handles our stanzas in
 * order: a refusal of the message would have come first).
 *
 * --file PATH: the file is uploaded first (upload.c: the same checks,
 * progress and exit codes as send --file to a JID), then the room is
 * joined and the GET URL sent as the message, with XEP-0066 data
 * (XEP-0363 §5) so that clients show a file; exit 0 on its reflection.
 * An upload cut short (Ctrl-C, a failure) never joins: nothing is sent.
 *
 * Group chat messages are not kept in the outbox: they can only be sent
 * while joined, and a resend into a room nobody dedups would repeat them
 * for everyone. A connection lost midway rejoins and sends again, with
 * the same ids, only what was not reflected yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "room.h"
#include "sanitize.h"
#include "session.h"
#include "upload.h"

struct muc_send {
    const xt_cli_args *a;
    xt_cli_room room;
    char *password;
    char *const *msgs;
    size_t n;
    char (*ids)[64]; /* ids[i][0] == 0: not sent yet */
    int *reflected;
    size_t nreflected;
    int joined;
    int timer;
    /* --file: the upload (NULL without); until it is done, msgs holds
     * nothing to send and the room is not joined. */
    xt_cli_upload *up;
    int uploading;
    char *url_msg[1];
};

/* The one-line displayable form of network text s, cut to size. */
static void san(char *buf, size_t size, const char *s)
{
    char *t = s ? xt_cli_sanitize(s, strlen(s), XT_CLI_SAN_LINE) : NULL;
    snprintf(buf, size, "%s", t ? t : "");
    free(t);
}

static void cancel_timer(xt_cli_session *s, struct muc_send *m)
{
    if (m->timer > 0)
        xt_loop_cancel_timer(xt_cli_session_loop(s), m->timer);
    m->timer = 0;
}

static void on_timeout(xt_loop *loop, void *ud)
{
    xt_cli_session *s = ud;
    struct muc_send *m = xt_cli_session_ud(s);
    (void)loop;
    m->timer = 0;
    if (!m->joined)
        xt_cli_session_fail(s, XT_CLI_EXIT_TIMEOUT, "send: %s did not let us in within --timeout",
                            m->room.room);
    else
        xt_cli_session_fail(s, XT_CLI_EXIT_TIMEOUT,
                            "send: %s reflected %zu of %zu message%s within --timeout; the room "
                            "may not have the rest",
                            m->room.room, m->nreflected, m->n, m->n == 1 ? "" : "s");
}

static void arm(xt_cli_session *s, struct muc_send *m)
{
    cancel_timer(s, m);
    m->timer = xt_loop_add_timer(xt_cli_session_loop(s),
                                 (uint64_t)xt_cli_session_settings(s)->timeout_ms, on_timeout, s);
}

static void join(xt_cli_session *s, struct muc_send *m)
{
    /* No history: only our own reflections matter here. */
    xt_muc_join_opts o = {
        .nick = m->room.nick, .password = m->password, .history = XT_MUC_HISTORY_NONE};
    int rc = xt_muc_join(xt_cli_session_conn(s), m->room.room, &o);
    if (rc) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: cannot join %s: %s", m->room.room,
                            xt_strerror(rc));
        return;
    }
    arm(s, m);
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct muc_send *m = ud;
    if (xt_cli_session_resumed(s) && m->joined)
        return; /* XEP-0198 kept us in the room */
    m->joined = 0;
    if (m->uploading) {
        /* The upload first (it has its own timeouts); the join once
         * the file is on the server (on_uploaded). */
        xt_cli_upload_online(m->up);
        return;
    }
    join(s, m);
}

/* --file: the file is on the server; its URL is the one message. */
static void on_uploaded(xt_cli_session *s, const char *get_url, void *ud)
{
    struct muc_send *m = ud;
    m->uploading = 0;
    if (!(m->url_msg[0] = strdup(get_url))) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
        return;
    }
    m->msgs = m->url_msg;
    if (xt_cli_session_settings(s)->verbose)
        fprintf(stderr, "xtalk: uploaded %s: %s\n", m->a->file, get_url);
    if (xt_cli_session_online(s))
        join(s, m); /* else on_online joins once connected again */
}

static void on_start(xt_cli_session *s, void *ud)
{
    struct muc_send *m = ud;
    if (!m->up)
        return;
    m->up->done = on_uploaded;
    m->up->ud = m;
    if (xt_cli_upload_attach(m->up, s) == 0)
        m->uploading = 1;
}

static void leave_ok(xt_cli_session *s, struct muc_send *m)
{
    cancel_timer(s, m);
    /* §7.14: leave before closing, so the room says "left" rather
     * than a timeout or an error later. */
    (void)xt_muc_leave(xt_cli_session_conn(s), m->room.room, NULL);
    xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

/* --pm: the room answered the ping that followed the messages. */
static void on_room_ping(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    xt_cli_session *s = ud;
    struct muc_send *m = xt_cli_session_ud(s);
    (void)c;
    (void)reply;
    if (xt_cli_session_finishing(s))
        return;
    /* A result or an error (a room need not answer pings): either way
     * it handled what we sent before. */
    if (status == 0 || status == XT_ESTANZA) {
        m->nreflected = m->n;
        leave_ok(s, m);
    }
    /* Timeout or a lost stream: --timeout or the reconnection decides. */
}

static void send_rest(xt_cli_session *s, struct muc_send *m)
{
    xt_conn *c = xt_cli_session_conn(s);
    for (size_t i = 0; i < m->n; i++) {
        if (m->reflected[i])
            continue;
        int rc;
        if (m->a->pm) {
            rc = xt_muc_send_private(c, m->room.room, m->a->pm, m->msgs[i], m->ids[i]);
            if (rc == 0 && i + 1 == m->n)
                rc = xt_conn_ping(c, m->room.room, on_room_ping, s);
        } else {
            /* XEP-0066 §3.1 beside the URL in the body: a shared file. */
            xt_message_extras x = {.oob_url = m->up ? m->msgs[i] : NULL};
            /* A resend after a reconnect keeps the first id (origin-id). */
            rc = xt_muc_send_ex(c, m->room.room, m->msgs[i], m->ids[i][0] ? m->ids[i] : NULL, &x,
                                m->ids[i]);
        }
        if (rc) {
            xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: cannot send to %s: %s", m->room.room,
                                xt_strerror(rc));
            return;
        }
    }
    arm(s, m);
}

/* Which of our messages a reflection or a bounce is: its index, or -1. */
static long ours(const struct muc_send *m, const xt_message *msg)
{
    for (size_t i = 0; i < m->n; i++) {
        if (!m->ids[i][0])
            continue;
        if ((msg->origin_id && strcmp(msg->origin_id, m->ids[i]) == 0) ||
            (msg->id && strcmp(msg->id, m->ids[i]) == 0))
            return (long)i;
    }
    return -1;
}

static int this_room(const struct muc_send *m, const char *room)
{
    return room && strcmp(room, m->room.room) == 0;
}

static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    struct muc_send *m = ud;
    if (xt_cli_session_finishing(s))
        return;
    switch (ev->type) {
    case XT_EV_MUC_JOINED:
        if (!this_room(m, ev->u.muc->room))
            return;
        m->joined = 1;
        send_rest(s, m);
        break;
    case XT_EV_MUC_JOIN_FAILED: {
        const xt_muc_event *e = ev->u.muc;
        if (!this_room(m, e->room) || e->u.join_failed.nick_change)
            return;
        int code = xt_cli_room_exit_for(e->u.join_failed.condition);
        const char *hint = code == XT_CLI_EXIT_MUC_NICK ? "; give another with --nick NICK"
                           : code == XT_CLI_EXIT_MUC_PASSWORD
                               ? "; set XTALK_ROOM_PASSWORD or use --room-password-file FILE"
                               : "";
        char msg[600];
        san(msg, sizeof msg, e->u.join_failed.message);
        xt_cli_session_fail(s, code, "send: %s%s", msg, hint);
        break;
    }
    case XT_EV_MUC_LEFT: {
        const xt_muc_event *e = ev->u.muc;
        if (!this_room(m, e->room) || e->u.left.why == XT_MUC_LEFT_DISCONNECTED)
            return; /* a lost connection: the session reconnects, we rejoin */
        char reason[300] = "";
        if (e->u.left.reason)
            san(reason, sizeof reason, e->u.left.reason);
        xt_cli_session_fail(s, XT_CLI_EXIT_MUC_REFUSED,
                            "send: out of %s before every message was reflected (%s)%s%s",
                            m->room.room, xt_muc_left_name(e->u.left.why), reason[0] ? ": " : "",
                            reason);
        break;
    }
    case XT_EV_MESSAGE: {
        const xt_message *msg = &ev->u.message;
        if (!this_room(m, msg->room))
            return;
        long i = ours(m, msg);
        if (i < 0)
            return;
        if (strcmp(msg->type, "error") == 0) {
            /* The room refused it (§7.4: a visitor has no voice, ...). */
            char raw[300], why[300];
            xt_cli_stanza_error(msg->stanza, raw, sizeof raw);
            san(why, sizeof why, raw);
            xt_cli_session_fail(s, XT_CLI_EXIT_MUC_REFUSED, "send: %s refused the message: %s",
                                m->room.room, why);
            return;
        }
        if (!msg->from_self || m->reflected[i])
            return;
        m->reflected[i] = 1;
        if (++m->nreflected < m->n) {
            arm(s, m);
            return;
        }
        leave_ok(s, m);
        break;
    }
    default:
        break;
    }
}

int xt_cli_send_muc(const xt_cli_args *a, char *const *msgs, size_t n, xt_cli_upload *up)
{
    struct muc_send m = {.a = a, .msgs = msgs, .n = up ? 1 : n, .up = up};
    xt_cli_account acct;
    char err[512];
    memset(&acct, 0, sizeof acct);
    int rc = xt_cli_account_open(a, 1, 0, &acct);
    if (rc == 0 &&
        (rc = xt_cli_room_parse(a->target, a->nick, acct.set.jid, &m.room, err, sizeof err)) != 0)
        xt_cli_errorf("send: %s", err);
    if (rc == 0 && (rc = xt_cli_room_password(a, &m.password, err, sizeof err)) != 0)
        xt_cli_errorf("send: %s", err);
    if (rc == 0) {
        m.ids = calloc(m.n, sizeof *m.ids);
        m.reflected = calloc(m.n, sizeof *m.reflected);
        if (!m.ids || !m.reflected) {
            xt_cli_errorf("send: out of memory");
            rc = XT_CLI_EXIT_ERROR;
        }
    }
    if (rc == 0) {
        xt_cli_session_params p = {
            /* No roster, no broadcast presence: the room gets our
             * directed presence only (§7.2.1). */
            .conn_flags = XT_CONN_NO_ROSTER | XT_CONN_NO_PRESENCE,
            .priority = -1,
            .interrupt_exit = XT_CLI_EXIT_ERROR,
            .reconnect = XT_CLI_RECONNECT_ALWAYS,
            .keepalive_ms = a->keepalive_s * 1000u,
            .on_start = on_start,
            .on_online = on_online,
            .on_event = on_event,
            .ud = &m,
        };
        rc = up ? xt_cli_upload_run(up, a->file, &acct, &p) : xt_cli_session_run(&acct, &p);
    }
    free(m.url_msg[0]);
    free(m.ids);
    free(m.reflected);
    xt_cli_room_free(&m.room);
    xt_cli_room_password_free(m.password);
    xt_cli_account_close(&acct);
    return rc;
}
