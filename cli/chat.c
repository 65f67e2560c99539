/*
 * `xtalk chat`: the full-screen client. This file runs the connection
 * (connect, reconnect with backoff after a loss, clean quit) and turns
 * xt_conn events into model changes; the other chat_*.c files hold the
 * windows, roster, drawing and keys (see chat.h).
 *
 * Why not xt_cli_session: a session ends at the first disconnection,
 * while chat stays up offline and connects again. The settings, the
 * password and the exit codes are the same as every other command's.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat.h"
#include "commands.h"
#include "output.h"
#include "password.h"
#include "report.h"
#include "xtalk/jid.h"

#define QUIT_WAIT_MS 2000
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 60000

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (write(sig_pipe[1], &b, 1) < 0) {
        /* full: a wakeup is pending anyway */
    }
    errno = saved;
}

static int start_client(xt_chat *c);

static void on_quit_wait(xt_loop *loop, void *ud)
{
    xt_chat *c = ud;
    (void)loop;
    c->quit_timer = 0;
    c->done = 1;
}

void xt_chat_quit(xt_chat *c)
{
    if (c->finishing) {
        c->done = 1; /* a second request: stop waiting for the server */
        return;
    }
    c->finishing = 1;
    if (c->online && c->conn && xt_conn_close(c->conn) == 0 &&
        (c->quit_timer = xt_loop_add_timer(c->loop, QUIT_WAIT_MS, on_quit_wait, c)) > 0)
        return; /* XT_EV_DISCONNECTED or the timer ends the run */
    c->done = 1;
}

static char *bare_jid(const char *full)
{
    xt_jid *j = NULL;
    char *b = NULL;
    if (full && xt_jid_parse(NULL, full, &j, NULL) == 0)
        b = strdup(xt_jid_bare(j));
    xt_jid_free(j);
    return b;
}

/* --- reconnection ---------------------------------------------------------- */

static unsigned retry_ms = RETRY_MIN_MS;
static int retry_timer;

static void on_retry(xt_loop *loop, void *ud)
{
    xt_chat *c = ud;
    (void)loop;
    retry_timer = 0;
    if (c->finishing || c->client)
        return;
    snprintf(c->conn_text, sizeof c->conn_text, "connecting");
    c->dirty = 1;
    if (start_client(c) < 0) {
        retry_timer = xt_loop_add_timer(c->loop, retry_ms, on_retry, c);
        if (retry_ms < RETRY_MAX_MS)
            retry_ms *= 2;
    }
}

/* A failure that another attempt cannot fix. */
static int permanent(int err)
{
    return err == XT_EAUTH || err == XT_ECERT || err == XT_EJID || err == XT_ENOTLS ||
           err == XT_EDOWNGRADE || err == XT_EUNSUPPORTED;
}

static void on_disconnected(xt_chat *c, const xt_disconnected *d)
{
    const char *detail = c->client ? xt_client_errdetail(c->client) : "";
    char why[512];

    if (!detail || !*detail)
        detail = d->text ? d->text : d->condition ? d->condition : "";
    snprintf(why, sizeof why, "%s%s%s", xt_strerror(d->error ? d->error : XT_ECLOSED),
             *detail ? ": " : "", detail);
    c->online = 0;
    for (size_t i = 0; i < c->ncontacts; i++) {
        c->contacts[i].show = XT_SHOW_UNAVAILABLE;
        free(c->contacts[i].status);
        c->contacts[i].status = NULL;
    }
    c->dirty = 1;
    /* The client is freed once its processing returns (client.h). */
    xt_client_free(c->client);
    c->client = NULL;
    c->conn = NULL;
    if (c->finishing) {
        c->done = 1;
        return;
    }
    if (permanent(d->error)) {
        if (!c->ever_online) {
            /* Wrong password, untrusted certificate...: say it like every
             * other command and leave. */
            char *e = xt_cli_escape(why, 0);
            snprintf(c->hint, sizeof c->hint, "cannot connect as %s: %s%s%s", c->set->jid,
                     e ? e : "?", *xt_cli_hint_for(d->error) ? "; " : "",
                     xt_cli_hint_for(d->error));
            free(e);
            c->exit_code = xt_cli_exit_for(d->error, 0);
            c->finishing = c->done = 1;
            return;
        }
        snprintf(c->conn_text, sizeof c->conn_text, "offline: %.200s", why);
        xt_chat_infof(c, XT_CHAT_LINE_ERROR, "disconnected: %s; not retrying", why);
        return;
    }
    snprintf(c->conn_text, sizeof c->conn_text, "offline: %.150s; retry in %us", why,
             retry_ms / 1000);
    xt_chat_infof(c, XT_CHAT_LINE_ERROR, "disconnected: %s; connecting again in %u s", why,
                  retry_ms / 1000);
    retry_timer = xt_loop_add_timer(c->loop, retry_ms, on_retry, c);
    if (retry_ms < RETRY_MAX_MS)
        retry_ms *= 2;
}

/* --- events ---------------------------------------------------------------- */

static void on_message(xt_chat *c, const xt_message *m)
{
    char *peer = bare_jid(m->from);
    size_t idx;

    if (!peer)
        return;
    if (m->type && strcmp(m->type, "error") == 0) {
        xt_chat_win *w = xt_chat_win_open(c, peer, &idx);
        if (w)
            xt_chat_win_add(w, XT_CHAT_LINE_ERROR, xt_chat_now_ms(), NULL,
                            "a message was not delivered (the server returned an error)", 0);
        c->dirty = 1;
        free(peer);
        return;
    }
    if (!m->body || !*m->body) { /* chat states, receipts... */
        free(peer);
        return;
    }
    /* A re-send after a dropped connection repeats the message with the
     * same origin-id (XEP-0359): show it once. */
    const char *key = m->origin_id ? m->origin_id : m->stanza_id ? m->stanza_id : m->id;
    if (key && xt_chat_seen(c->hist, peer, key) == 1) {
        free(peer);
        return;
    }
    int64_t ts = xt_chat_now_ms();
    int64_t hid = xt_chat_hist_add(c->hist, peer, m->from, m->body, m->id, 0, ts);
    xt_chat_win *w = xt_chat_win_find(c, peer, &idx);
    if (!w) {
        /* Opening loads its history, this message included. */
        w = xt_chat_win_open(c, peer, &idx);
        if (w && hid == 0)
            xt_chat_win_add(w, XT_CHAT_LINE_IN, ts, xt_chat_display_name(c, peer), m->body, hid);
    } else {
        xt_chat_win_add(w, XT_CHAT_LINE_IN, ts, xt_chat_display_name(c, peer), m->body, hid);
    }
    if (w && idx != c->cur) {
        w->unread++;
        xt_chat_ui_bell(c);
    }
    c->dirty = 1;
    free(peer);
}

static void on_subscription(xt_chat *c, const xt_subscription *s)
{
    if (strcmp(s->type, "subscribe") == 0) {
        for (size_t i = 0; i < c->nsubs; i++)
            if (strcmp(c->subs[i], s->from) == 0)
                return;
        char **subs = realloc(c->subs, (c->nsubs + 1) * sizeof *subs);
        if (!subs)
            return;
        c->subs = subs;
        if ((subs[c->nsubs] = strdup(s->from)))
            c->nsubs++;
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "%s asks to see your presence", s->from);
        xt_chat_ui_bell(c);
    } else {
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "%s: %s", s->from,
                      strcmp(s->type, "subscribed") == 0     ? "you may now see its presence"
                      : strcmp(s->type, "unsubscribed") == 0 ? "you no longer see its presence"
                                                             : "it no longer sees yours");
    }
}

static void on_event(xt_conn *conn, const xt_event *ev, void *ud)
{
    xt_chat *c = ud;
    (void)conn;

    switch (ev->type) {
    case XT_EV_ONLINE:
        c->online = c->ever_online = 1;
        retry_ms = RETRY_MIN_MS;
        snprintf(c->conn_text, sizeof c->conn_text, "online");
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "online as %s", ev->u.online.jid);
        xt_chat_hint_set(c->hist, xt_conn_sasl_hint(c->conn));
        if (c->show != XT_SHOW_AVAILABLE || c->status_msg)
            xt_conn_send_presence(c->conn, (xt_show)c->show, c->status_msg, 0);
        xt_chat_roster_rebuild(c);
        xt_chat_flush_queue(c);
        break;
    case XT_EV_ROSTER:
        xt_chat_roster_rebuild(c);
        break;
    case XT_EV_PRESENCE: {
        char *b = bare_jid(ev->u.presence.from);
        if (b)
            xt_chat_roster_presence(c, b);
        free(b);
        break;
    }
    case XT_EV_MESSAGE:
        on_message(c, &ev->u.message);
        break;
    case XT_EV_SUBSCRIPTION:
        on_subscription(c, &ev->u.subscription);
        break;
    case XT_EV_DISCONNECTED:
        on_disconnected(c, &ev->u.disconnected);
        break;
    case XT_EV_ACKED:
        xt_chat_acked(c, ev->u.acked.id);
        break;
    default:
        break;
    }
}

static int start_client(xt_chat *c)
{
    const xt_cli_settings *set = c->set;
    char *hint = xt_chat_hint_get(c->hist);
    xt_conn_opts *opts = NULL;
    int rc = xt_conn_opts_new(NULL, &opts);
    if (!rc)
        rc = xt_conn_opts_set_jid(opts, set->jid);
    if (!rc)
        rc = xt_conn_opts_set_password(opts, c->password);
    if (!rc)
        rc = xt_conn_opts_set_resource(opts, set->resource);
    if (!rc)
        rc = xt_conn_opts_set_flags(opts, (set->direct_tls ? XT_CONN_DIRECT_TLS : 0) |
                                              (set->insecure_plaintext
                                                   ? XT_CONN_INSECURE_ALLOW_PLAINTEXT
                                                   : 0));
    if (!rc)
        rc = xt_conn_opts_set_timeouts(opts, set->timeout_ms, set->timeout_ms);
    if (!rc)
        rc = xt_conn_opts_set_initial_presence(opts, (xt_show)c->show, c->status_msg, 0);
    if (!rc)
        rc = xt_conn_opts_set_sasl_hint(opts, hint);
    xt_client_config cc = {
        .conn = opts,
        .host = set->host,
        .port = set->port,
        .ca_file = set->ca_file,
        .pin_sha256 = set->pin[0] ? set->pin : NULL,
        .connect_timeout_ms = set->timeout_ms,
    };
    if (!rc)
        rc = xt_client_new(c->loop, &cc, &c->client);
    xt_conn_opts_free(opts);
    free(hint); /* the conn keeps a copy */
    if (rc < 0)
        return rc;
    c->conn = xt_client_conn(c->client);
    if ((rc = xt_conn_on(c->conn, XT_EV_ALL, on_event, c)) < 0 ||
        (rc = xt_client_connect(c->client)) < 0) {
        snprintf(c->conn_text, sizeof c->conn_text, "offline: %s", xt_strerror(rc));
        xt_client_free(c->client);
        c->client = NULL;
        c->conn = NULL;
        return rc;
    }
    return 0;
}

/* --- terminal -------------------------------------------------------------- */

static void on_stdin(xt_loop *loop, int fd, short revents, void *ud)
{
    xt_chat *c = ud;
    (void)loop;
    (void)fd;
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
        /* The terminal went away: leave cleanly. */
        xt_chat_quit(c);
        return;
    }
    xt_chat_input_ready(c);
}

static void on_sig(xt_loop *loop, int fd, short revents, void *ud)
{
    xt_chat *c = ud;
    unsigned char b[64];
    ssize_t n;
    (void)loop;
    (void)revents;

    while ((n = read(fd, b, sizeof b)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (b[i] == SIGWINCH)
                xt_chat_ui_resize(c);
            else
                xt_chat_quit(c);
        }
}

static void on_clock(xt_loop *loop, void *ud)
{
    xt_chat *c = ud;
    c->dirty = 1; /* the status bar's clock */
    xt_loop_add_timer(loop, 30000, on_clock, c);
}

static const int sigs[] = {SIGWINCH, SIGINT, SIGTERM, SIGHUP};
#define NSIGS (sizeof sigs / sizeof sigs[0])

int xt_cli_cmd_chat(const xt_cli_args *a)
{
    xt_cli_settings set;
    xt_chat c = {.set = &set, .exit_code = XT_CLI_EXIT_OK, .show = XT_SHOW_AVAILABLE};
    struct sigaction sa, old[NSIGS];
    char why[600] = "";
    int rc;

    setlocale(LC_ALL, "");
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        xt_cli_errorf("chat: needs a terminal (stdin and stdout); for scripts use send/listen");
        return XT_CLI_EXIT_USAGE;
    }
    rc = xt_cli_settings_get(a, &set);
    if (rc != 0) {
        xt_cli_settings_free(&set);
        return rc;
    }
    c.password = set.password;
    set.password = NULL;
    c.account = bare_jid(set.jid);
    if (!c.account) {
        xt_cli_errorf("the account JID '%s' is not valid; give it as user@domain", set.jid);
        rc = XT_CLI_EXIT_CONFIG;
        goto out_settings;
    }
    const char *bell = getenv("XTALK_CHAT_BELL");
    c.bell = !(bell && strcmp(bell, "0") == 0);
    xt_chat_edit_init(&c.edit);
    c.hist = xt_chat_hist_open(c.account, why, sizeof why);
    c.wins = calloc(1, sizeof *c.wins);
    if (!c.wins || !(c.wins[0] = calloc(1, sizeof **c.wins)) || xt_loop_new(NULL, &c.loop) < 0 ||
        pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        xt_cli_errorf("chat: cannot start: out of memory or file descriptors");
        rc = XT_CLI_EXIT_ERROR;
        goto out;
    }
    c.nwins = 1;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIGS; i++)
        sigaction(sigs[i], &sa, &old[i]);
    if (xt_chat_ui_start(&c) != 0) {
        xt_cli_errorf("chat: cannot start the terminal interface (is TERM set?)");
        rc = XT_CLI_EXIT_ERROR;
        goto out_sig;
    }
    xt_chat_infof(&c, XT_CHAT_LINE_INFO, "xtalk chat %s - /help lists commands and keys",
                  XT_VERSION_STRING);
    if (!c.hist)
        xt_chat_infof(&c, XT_CHAT_LINE_ERROR, "no history: %s", why);
    snprintf(c.conn_text, sizeof c.conn_text, "connecting");
    if (xt_loop_add_fd(c.loop, STDIN_FILENO, POLLIN, on_stdin, &c) < 0 ||
        xt_loop_add_fd(c.loop, sig_pipe[0], POLLIN, on_sig, &c) < 0 ||
        xt_loop_add_timer(c.loop, 30000, on_clock, &c) < 0) {
        c.exit_code = XT_CLI_EXIT_ERROR;
        c.finishing = c.done = 1;
    } else if ((rc = start_client(&c)) < 0) {
        xt_chat_infof(&c, XT_CHAT_LINE_ERROR, "cannot connect: %s", xt_strerror(rc));
        retry_timer = xt_loop_add_timer(c.loop, retry_ms, on_retry, &c);
    }
    xt_chat_ui_draw(&c);
    while (!c.done) {
        if (xt_loop_run_once(c.loop, 1000) < 0)
            break;
        if (c.dirty && !c.done)
            xt_chat_ui_draw(&c);
    }
    xt_chat_ui_stop(&c);
    if (c.exit_code != XT_CLI_EXIT_OK && c.hint[0])
        xt_cli_errorf("%s", c.hint);
    rc = c.exit_code;
out_sig:
    for (size_t i = 0; i < NSIGS; i++)
        sigaction(sigs[i], &old[i], NULL);
out:
    xt_client_free(c.client);
    xt_loop_free(c.loop);
    if (sig_pipe[0] >= 0) {
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        sig_pipe[0] = sig_pipe[1] = -1;
    }
    for (size_t i = 0; i < c.nwins; i++)
        xt_chat_win_free(c.wins[i]);
    free(c.wins);
    xt_chat_roster_free(&c);
    for (size_t i = 0; i < c.nsubs; i++)
        free(c.subs[i]);
    free(c.subs);
    for (size_t i = 0; i < c.npend; i++)
        free(c.pend[i].to), free(c.pend[i].body);
    free(c.pend);
    free(c.status_msg);
    xt_chat_edit_free(&c.edit);
    xt_chat_hist_close(c.hist);
    free(c.account);
out_settings:
    xt_cli_password_free(c.password);
    xt_cli_settings_free(&set);
    return rc;
}
