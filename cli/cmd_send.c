/*
 * xtalk send JID [TEXT]: send, then prove the server has it.
 *
 * "Sent" means acknowledged: after the messages we ping the server
 * (XEP-0199). The server handles a client's stanzas in order (RFC 6120
 * §10.1), so its answer to the ping means it has processed the messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"
#include "report.h"
#include "session.h"
#include "text.h"
#include "xtalk/jid.h"

/* A message must fit in the server's stanza limit with room for the
 * envelope (Prosody's default c2s limit is 256 KiB). */
#define MAX_BODY (240 * 1024)
/* All of stdin, for --lines. */
#define MAX_INPUT (16 * 1024 * 1024)

struct send {
    const xt_cli_args *a;
    char *to; /* normalized JID to send to */
    char **msgs;
    size_t nmsgs;
    int acked;
    char *reply; /* first reply body, when --wait-reply */
    int reply_timer;
};

static int read_stdin(char **out, size_t *outlen)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;

    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > MAX_INPUT + 1)
                ncap = MAX_INPUT + 1;
            if (ncap <= len) {
                free(buf);
                xt_cli_errorf("send: the input is too long (over %d MiB)",
                              MAX_INPUT / (1024 * 1024));
                return XT_CLI_EXIT_USAGE;
            }
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                xt_cli_errorf("send: out of memory");
                return XT_CLI_EXIT_ERROR;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            xt_cli_errorf("send: cannot read stdin: %s", strerror(e));
            return XT_CLI_EXIT_ERROR;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (!buf && !(buf = malloc(1))) {
        xt_cli_errorf("send: out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return 0;
}

/* Checks one body; `line` > 0 names the stdin line in the message. */
static int check_body(const char *s, size_t len, unsigned line)
{
    const char *why;
    size_t off;
    char where[48] = "";

    if (line)
        snprintf(where, sizeof where, " (line %u)", line);
    if (len > MAX_BODY) {
        xt_cli_errorf("send: the message%s is too long (%zu bytes, at most %d)", where, len,
                      MAX_BODY);
        return XT_CLI_EXIT_USAGE;
    }
    if (xt_cli_text_check(s, len, &why, &off) != 0) {
        xt_cli_errorf("send: the message%s contains %s at byte %zu; XMPP carries only UTF-8 "
                      "text without control characters",
                      where, why, off);
        return XT_CLI_EXIT_USAGE;
    }
    return 0;
}

static int add_msg(struct send *st, const char *s, size_t len)
{
    char **nm = realloc(st->msgs, (st->nmsgs + 1) * sizeof *nm);
    if (!nm)
        return -1;
    st->msgs = nm;
    if (!(nm[st->nmsgs] = strndup(s, len)))
        return -1;
    st->nmsgs++;
    return 0;
}

/* Fills st->msgs from TEXT or stdin. */
static int gather(struct send *st)
{
    const xt_cli_args *a = st->a;
    char *in;
    size_t len;
    int rc;

    if (a->text) {
        size_t n = strlen(a->text);
        if ((rc = check_body(a->text, n, 0)) != 0)
            return rc;
        return add_msg(st, a->text, n) ? (xt_cli_errorf("send: out of memory"), 1) : 0;
    }
    if (isatty(0))
        fprintf(stderr, "xtalk: reading the message from the terminal; end it with Ctrl-D\n");
    if ((rc = read_stdin(&in, &len)) != 0)
        return rc;
    if (memchr(in, '\0', len)) {
        xt_cli_errorf("send: the input contains a NUL byte; send UTF-8 text");
        free(in);
        return XT_CLI_EXIT_USAGE;
    }
    if (a->lines) {
        unsigned lineno = 0;
        const char *p = in, *end = in + len;
        while (p < end && rc == 0) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *next = nl ? nl + 1 : end;
            size_t n = (size_t)((nl ? nl : end) - p);
            lineno++;
            if (n > 0 && p[n - 1] == '\r')
                n--;
            if (n > 0) { /* blank lines are not messages */
                rc = check_body(p, n, lineno);
                if (rc == 0 && add_msg(st, p, n) != 0) {
                    xt_cli_errorf("send: out of memory");
                    rc = XT_CLI_EXIT_ERROR;
                }
            }
            p = next;
        }
    } else {
        /* Trailing newlines are how files and echo end, not message text. */
        while (len > 0 && (in[len - 1] == '\n' || in[len - 1] == '\r'))
            len--;
        if (len > 0) {
            rc = check_body(in, len, 0);
            if (rc == 0 && add_msg(st, in, len) != 0) {
                xt_cli_errorf("send: out of memory");
                rc = XT_CLI_EXIT_ERROR;
            }
        }
    }
    free(in);
    if (rc == 0 && st->nmsgs == 0) {
        xt_cli_errorf("send: the message is empty; give TEXT or non-empty input on stdin");
        rc = XT_CLI_EXIT_USAGE;
    }
    return rc;
}

static void print_reply(xt_cli_session *s, struct send *st)
{
    int ok;
    if (isatty(1)) {
        xt_cli_put_escaped(stdout, st->reply);
        ok = fputc('\n', stdout) != EOF;
    } else {
        ok = fputs(st->reply, stdout) != EOF && fputc('\n', stdout) != EOF;
    }
    if (fflush(stdout) == EOF)
        ok = 0;
    if (!ok)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: cannot write the reply to stdout: %s",
                            strerror(errno));
    else
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

static void on_reply_timeout(xt_loop *loop, void *ud)
{
    xt_cli_session *s = ud;
    struct send *st = xt_cli_session_ud(s);
    (void)loop;

    st->reply_timer = 0;
    xt_cli_session_fail(s, XT_CLI_EXIT_TIMEOUT,
                        "send: no reply from %s within %u s (the message was delivered to the "
                        "server); raise --wait-reply=SECONDS",
                        st->to, st->a->wait_reply_s);
}

static void on_acked(xt_cli_session *s, void *ud)
{
    struct send *st = ud;

    st->acked = 1;
    if (!st->a->wait_reply) {
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
        return;
    }
    if (st->reply) {
        print_reply(s, st);
        return;
    }
    st->reply_timer = xt_loop_add_timer(xt_cli_session_loop(s),
                                        (uint64_t)st->a->wait_reply_s * 1000, on_reply_timeout, s);
    if (st->reply_timer < 0)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct send *st = ud;
    xt_conn *c = xt_cli_session_conn(s);

    for (size_t i = 0; i < st->nmsgs; i++) {
        int rc = xt_conn_send_message(c, st->to, "chat", st->msgs[i], NULL, NULL);
        if (rc < 0) {
            xt_cli_session_fail(s, xt_cli_exit_for(rc, 1), "send: cannot send the message: %s",
                                xt_strerror(rc));
            return;
        }
    }
    xt_cli_session_ack(s, st->nmsgs > 1 ? "the messages" : "the message", on_acked, st);
}

static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    struct send *st = ud;
    const xt_message *m = &ev->u.message;

    if (ev->type != XT_EV_MESSAGE || !st->a->wait_reply || st->reply)
        return;
    if (!m->from || !xt_jid_str_bare_equal(m->from, st->to) || m->stamp)
        return; /* someone else, or an old (offline-stored) message */
    if (m->type && strcmp(m->type, "error") == 0) {
        char why[512];
        xt_cli_stanza_error(m->stanza, why, sizeof why);
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: the message to %s bounced: %s", st->to,
                            why);
        return;
    }
    if (!m->body || (m->type && strcmp(m->type, "chat") != 0 && strcmp(m->type, "normal") != 0))
        return; /* chat states and the like: keep waiting */
    st->reply = strdup(m->body);
    if (!st->reply) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
        return;
    }
    if (st->acked) {
        if (st->reply_timer > 0)
            xt_loop_cancel_timer(xt_cli_session_loop(s), st->reply_timer);
        st->reply_timer = 0;
        print_reply(s, st);
    }
}

int xt_cli_cmd_send(const xt_cli_args *a)
{
    struct send st = {.a = a};
    xt_cli_settings set;
    int rc;

    rc = xt_cli_check_target("send", a->target, 0, &st.to);
    if (rc == 0)
        rc = gather(&st);
    if (rc == 0) {
        rc = xt_cli_settings_get(a, &set);
        if (rc == 0) {
            xt_cli_session_params p = {
                /* No roster needed. Presence only to receive the reply: at
                 * priority -1 so the server neither routes messages for the
                 * bare JID here nor flushes offline storage to us (RFC 6121
                 * §8.5.2.1.1); replies come to our full JID. */
                .conn_flags = XT_CONN_NO_ROSTER | (a->wait_reply ? 0 : XT_CONN_NO_PRESENCE),
                .priority = -1,
                .interrupt_exit = XT_CLI_EXIT_ERROR,
                .on_online = on_online,
                .on_event = on_event,
                .ud = &st,
            };
            rc = xt_cli_session_run(&set, &p);
        }
        xt_cli_settings_free(&set);
    }
    for (size_t i = 0; i < st.nmsgs; i++)
        free(st.msgs[i]);
    free(st.msgs);
    free(st.to);
    free(st.reply);
    return rc;
}
