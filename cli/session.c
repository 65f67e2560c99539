/* The account, the client, connect, retry, run until done, close
 * cleanly: the one session path of every command, chat included. */
#define _GNU_SOURCE /* pipe2, vasprintf */
#include "session.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "password.h"
#include "report.h"
#include "sanitize.h"
#include "xtalk/selfping.h"
#include "xtalk/pep.h"

/* How long a clean close waits for the server's </stream:stream>. */
#define CLOSE_WAIT_MS 3000

struct xt_cli_session {
    xt_cli_account *acct;
    xt_cli_settings *set; /* &acct->set */
    const xt_cli_session_params *p;
    xt_loop *loop;
    xt_client *client;
    xt_conn *conn;
    int online; /* has been online (once is enough) */
    int up;     /* online now */
    int resumed;
    int finishing;
    int done; /* the loop is to end */
    int exit_code;
    int connect_timer;
    int sig_fd_id;
    int signals_set;
    char *hint; /* the SASL offer the store had for the account */
    /* Before the first login: the last failed attempt, for the error
     * when --timeout passes without getting online. */
    int last_err;
    int last_retry;
    unsigned attempts;
    char last_why[1024];
    char last_cond[64]; /* the last failure's SASL/stream condition, or "" */
    char *deferred; /* the final error, held until the end (quiet) */
    struct sigaction old[5];
};

/* The self-pipe: signal handlers only write the signal number to it; the
 * loop reads it and acts outside signal context. */
/* The single-line sanitized form of network text (sanitize.h). */
static char *san(const char *s)
{
    return xt_cli_sanitize(s, strlen(s), XT_CLI_SAN_LINE);
}

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (sig_pipe[1] >= 0)
        if (write(sig_pipe[1], &b, 1) < 0) {
            /* full pipe: a wakeup is pending anyway */
        }
    errno = saved;
}

xt_conn *xt_cli_session_conn(xt_cli_session *s)
{
    return s->conn;
}

xt_loop *xt_cli_session_loop(xt_cli_session *s)
{
    return s->loop;
}

xt_client *xt_cli_session_client(xt_cli_session *s)
{
    return s->client;
}

const xt_cli_settings *xt_cli_session_settings(const xt_cli_session *s)
{
    return s->set;
}

void *xt_cli_session_ud(xt_cli_session *s)
{
    return s->p->ud;
}

int xt_cli_session_finishing(const xt_cli_session *s)
{
    return s->finishing;
}

int xt_cli_session_resumed(const xt_cli_session *s)
{
    return s->resumed;
}

int xt_cli_session_online(const xt_cli_session *s)
{
    return s->up;
}

int xt_cli_session_reconnect(xt_cli_session *s)
{
    if (s->finishing || s->up)
        return XT_ESTATE;
    return xt_client_reconnect_now(s->client);
}

int xt_cli_session_done(const xt_cli_session *s)
{
    return s->done;
}

void xt_cli_session_stop(xt_cli_session *s)
{
    s->finishing = 1;
    s->done = 1;
    xt_loop_stop(s->loop);
}

/* "xtalk: <msg>" on stderr now, or at the end when the terminal is not
 * ours (quiet): then only the first message is kept, the one that
 * decided the exit code. */
static void report(xt_cli_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(xt_cli_session *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (s->p->quiet) {
        if (!s->deferred && vasprintf(&s->deferred, fmt, ap) < 0)
            s->deferred = NULL;
    } else {
        fflush(stdout);
        fputs("xtalk: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

static void on_close_wait(xt_loop *loop, void *ud)
{
    (void)loop;
    xt_cli_session_stop(ud);
}

void xt_cli_session_finish_printed(xt_cli_session *s, int printed_ok, const char *cmd)
{
    if (!printed_ok || fflush(stdout) == EOF || ferror(stdout))
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "%s: cannot write to stdout", cmd);
    else
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

void xt_cli_session_finish(xt_cli_session *s, int exit_code)
{
    if (s->finishing)
        return;
    s->finishing = 1;
    s->exit_code = exit_code;
    if (s->up && xt_conn_get_state(s->conn) == XT_STATE_ONLINE && xt_conn_close(s->conn) == 0 &&
        xt_loop_add_timer(s->loop, CLOSE_WAIT_MS, on_close_wait, s) > 0)
        return; /* XT_EV_DISCONNECTED (or the timer) stops the loop */
    /* Offline, maybe waiting to connect again: that wait ends here. */
    if (s->client)
        (void)xt_client_stop_reconnect(s->client);
    xt_cli_session_stop(s);
}

void xt_cli_session_fail(xt_cli_session *s, int exit_code, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];

    if (s->finishing)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report(s, "%s", msg);
    xt_cli_session_finish(s, exit_code);
}

void xt_cli_stanza_error(const xt_stanza *reply, char *buf, size_t len)
{
    const xt_stanza *e = reply ? xt_stanza_child(reply, "error", NULL) : NULL;
    const char *cond = NULL, *text = NULL;

    if (e) {
        for (const xt_stanza *c = xt_stanza_first_child(e); c; c = xt_stanza_next_sibling(c)) {
            if (strcmp(xt_stanza_ns(c), "urn:ietf:params:xml:ns:xmpp-stanzas") != 0)
                continue;
            if (strcmp(xt_stanza_name(c), "text") == 0)
                text = xt_stanza_text(c);
            else if (!cond)
                cond = xt_stanza_name(c);
        }
    }
    char *ec = san(cond ? cond : "unknown error");
    char *et = text && *text ? san(text) : NULL;
    snprintf(buf, len, "%s%s%s", ec ? ec : "?", et ? ": " : "", et ? et : "");
    free(ec);
    free(et);
}

void xt_cli_session_iq_failed(xt_cli_session *s, const char *what, int status,
                              const xt_stanza *reply)
{
    char why[512];

    switch (status) {
    case XT_ESTANZA:
        xt_cli_stanza_error(reply, why, sizeof why);
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "%s: the server refused: %s", what, why);
        break;
    case XT_ETIMEOUT:
        xt_cli_session_fail(s, XT_CLI_EXIT_TIMEOUT,
                            "%s: no answer from the server within %u s; raise --timeout or try "
                            "again",
                            what, s->set->timeout_ms / 1000);
        break;
    default:
        xt_cli_session_fail(s, xt_cli_exit_for(status, 1), "%s: %s; try again", what,
                            xt_strerror(status));
        break;
    }
}

struct ack {
    xt_cli_session *s;
    const char *what;
    void (*done)(xt_cli_session *s, void *ud);
    void *ud;
};

static void on_ack(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    struct ack *a = ud;
    xt_cli_session *s = a->s;
    (void)c;
    (void)reply;

    if (status == 0 || status == XT_ESTANZA) {
        /* An error answer (e.g. feature-not-implemented) still proves the
         * server processed everything sent before the ping. */
        if (a->done)
            a->done(s, a->ud);
        else
            xt_cli_session_finish(s, XT_CLI_EXIT_OK);
    } else if (status == XT_ETIMEOUT) {
        xt_cli_session_fail(s, XT_CLI_EXIT_TIMEOUT,
                            "%s was not acknowledged by the server within %u s; it may or may "
                            "not have been delivered; raise --timeout or try again",
                            a->what, s->set->timeout_ms / 1000);
    } else if (!s->finishing) {
        xt_cli_session_fail(s, xt_cli_exit_for(status, 1),
                            "%s was not acknowledged: %s; it may or may not have been delivered",
                            a->what, xt_strerror(status));
    }
    free(a);
}

int xt_cli_session_ack(xt_cli_session *s, const char *what,
                       void (*done)(xt_cli_session *s, void *ud), void *ud)
{
    struct ack *a = malloc(sizeof *a);
    int rc;

    if (!a) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "out of memory");
        return XT_ENOMEM;
    }
    *a = (struct ack){.s = s, .what = what, .done = done, .ud = ud};
    rc = xt_conn_ping(s->conn, NULL, on_ack, a);
    if (rc < 0) {
        free(a);
        xt_cli_session_fail(s, xt_cli_exit_for(rc, 1), "%s: cannot ask for an acknowledgement: %s",
                            what, xt_strerror(rc));
    }
    return rc;
}

/* "why" for a failed connection: the code's name and the most specific
 * detail: the transport's (TLS verify reason, DNS error), else the
 * stream's (which already names the condition), else the event's. */
static void describe(xt_cli_session *s, const xt_disconnected *d, char *buf, size_t len)
{
    const char *detail = xt_client_errdetail(s->client);
    char ev[512];

    if (!detail || !*detail)
        detail = xt_conn_errdetail(s->conn);
    if (!detail || !*detail) {
        snprintf(ev, sizeof ev, "%s%s%s", d->condition ? d->condition : "",
                 d->condition && d->text ? ": " : "", d->text ? d->text : "");
        detail = ev;
    }
    char *e = *detail ? san(detail) : NULL;
    char *r = d->redirect ? san(d->redirect) : NULL;
    /* A detail that already begins with the error's name says it all:
     * "authentication failed: not-authorized (...)", not the name twice. */
    const char *name = xt_strerror(d->error ? d->error : XT_ECLOSED);
    if (e && strncmp(e, name, strlen(name)) == 0)
        snprintf(buf, len, "%s%s%s", e, r ? " to " : "", r ? r : "");
    else
        snprintf(buf, len, "%s%s%s%s%s%s", name, e ? " (" : "", e ? e : "", e ? ")" : "",
                 r ? " to " : "", r ? r : "");
    free(e);
    free(r);
}

/* The run cannot connect: say so like every command does, and end. */
static void end_not_connected(xt_cli_session *s, int err, const char *why)
{
    /* The library's detail may carry its own advice (naming an option);
     * do not repeat it. An authentication failure's advice depends on
     * its SASL condition: only not-authorized blames the password. */
    const char *hint = strstr(why, " --") ? ""
                       : err == XT_EAUTH  ? xt_cli_auth_hint(s->last_cond, why)
                                          : xt_cli_hint_for(err);
    if (err == XT_EDOWNGRADE && strstr(why, "weaker login"))
        hint = "do not trust this connection; if the server really changed its login methods, "
               "--allow-downgrade (or allow_downgrade = yes in the config) accepts it";
    report(s, "cannot connect as %s: %s%s%s", s->set->jid, why, *hint ? "; " : "", hint);
    s->exit_code = xt_cli_exit_for(err, 0);
    xt_cli_session_stop(s);
}

static void on_disconnected(xt_cli_session *s, const xt_disconnected *d)
{
    const xt_cli_reconnect mode = s->p->reconnect;
    char why[1024];

    s->up = 0;
    if (s->finishing) {
        xt_cli_session_stop(s);
        return;
    }
    describe(s, d, why, sizeof why);
    /* Whether another attempt may work is the library's call (d->retry,
     * and retry_in_ms > 0 once its client has planned the attempt);
     * whether this command wants one is ours. */
    /* A retryable authentication failure is the library's channel-binding
     * retry on a new connection (stream_sasl.c): part of this login,
     * whatever the mode (issue 11: --no-reconnect must not lose it). */
    int again = d->retry_in_ms > 0 && (mode == XT_CLI_RECONNECT_ALWAYS ||
                                       (mode == XT_CLI_RECONNECT_LOGIN && !s->online) ||
                                       (d->error == XT_EAUTH && !s->online));
    if (!s->online) {
        s->attempts++;
        s->last_err = d->error ? d->error : XT_ECLOSED;
        s->last_retry = d->retry;
        snprintf(s->last_why, sizeof s->last_why, "%s", why);
        snprintf(s->last_cond, sizeof s->last_cond, "%s", d->condition ? d->condition : "");
    }
    if (again) {
        /* The client connects again by itself; the session goes on. */
        if (!s->p->quiet) {
            fprintf(stderr, "xtalk: %s in %u ms: %s\n",
                    s->online ? "reconnecting" : "cannot connect yet; trying again",
                    (unsigned)d->retry_in_ms, why);
            fflush(stderr);
        }
        if (s->p->on_offline)
            s->p->on_offline(s, why, d->retry_in_ms, s->p->ud);
        return;
    }
    if (d->retry_in_ms > 0)
        (void)xt_client_stop_reconnect(s->client); /* not wanted here */
    if (s->p->stay && s->online) {
        /* Offline for good, but the run (chat) goes on. */
        if (s->p->on_offline)
            s->p->on_offline(s, why, 0, s->p->ud);
        return;
    }
    if (s->p->retryable)
        *s->p->retryable = d->retry;
    if (!s->online) {
        end_not_connected(s, d->error ? d->error : XT_ECLOSED, why);
        return;
    }
    if (d->error == 0) {
        report(s, "disconnected: the server closed the stream; try again later");
        s->exit_code = XT_CLI_EXIT_DISCONNECTED;
    } else {
        report(s, "disconnected by the server: %s; try again later", why);
        s->exit_code = xt_cli_exit_for(d->error, 1);
    }
    xt_cli_session_stop(s);
}

/* Keeps the server's SASL offer for the next login when it changed. A
 * failure only costs that login a round trip: not worth an error. */
static void save_hint(xt_cli_session *s)
{
    const char *h = xt_conn_sasl_hint(s->conn);
    if (!s->acct->store || !h || (s->hint && strcmp(s->hint, h) == 0))
        return;
    if (xt_store_sasl_hint_set(s->acct->store, s->acct->key, h) == 0) {
        free(s->hint);
        s->hint = strdup(h);
    }
}

/* XEP-0484: the token the server issued (or refused: token NULL), kept
 * for the next run in the store (0600), bound to the account's user-agent
 * id. A failure costs the next login the password exchange, no more. */
static void on_fast_token(void *ud, const char *mech, const char *token, const char *expiry)
{
    xt_cli_session *s = ud;
    if (s->acct->store)
        (void)xt_store_fast_token_set(s->acct->store, s->acct->key, mech, token, expiry);
}

/* The stored FAST token, unless it has expired (XEP-0082 UTC timestamps
 * of one form compare as strings). */
static void load_fast_token(xt_cli_session *s, char **ua, char **mech, char **token)
{
    char *expiry = NULL;
    *ua = *mech = *token = NULL;
    if (!s->acct->store || xt_store_user_agent_id(s->acct->store, s->acct->key, ua) < 0)
        return;
    if (xt_store_fast_token_get(s->acct->store, s->acct->key, mech, token, &expiry) < 0)
        return;
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    if (*token && expiry && strlen(expiry) == 20 && gmtime_r(&t, &tm) &&
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm) && strcmp(expiry, now) <= 0) {
        explicit_bzero(*token, strlen(*token));
        free(*token);
        free(*mech);
        *token = *mech = NULL;
    }
    free(expiry);
}

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    xt_cli_session *s = ud;
    (void)c;

    switch (ev->type) {
    case XT_EV_ONLINE:
        s->online = s->up = 1;
        save_hint(s);
        s->resumed = ev->u.online.resumed;
        if (s->connect_timer > 0) {
            xt_loop_cancel_timer(s->loop, s->connect_timer);
            s->connect_timer = 0;
        }
        /* listen and bot say when they are ready, so whoever started
         * them (a script, a test) knows messages will now be seen. */
        if ((s->set->verbose || s->p->announce) && !s->p->quiet) {
            /* The bound JID is the server's choice (RFC 6120 §7.6.1). */
            fputs("xtalk: online as ", stderr);
            xt_cli_put_sanitized(stderr, ev->u.online.jid ? ev->u.online.jid : "?");
            fputs(ev->u.online.resumed ? " (resumed)\n" : "\n", stderr);
            fflush(stderr);
        }
        if (s->p->on_online && !s->finishing)
            s->p->on_online(s, s->p->ud);
        break;
    case XT_EV_DISCONNECTED:
        on_disconnected(s, &ev->u.disconnected);
        break;
    case XT_EV_STARTTLS:
    case XT_EV_STANZA:
        break;
    default:
        /* While closing, acknowledgements still count: a message the
         * server confirms then need not leave the outbox a second time. */
        if (s->online && s->p->on_event && (!s->finishing || ev->type == XT_EV_ACKED))
            s->p->on_event(s, ev, s->p->ud);
        /* After the command handled it: the position never runs ahead of
         * what was shown. */
        if (!s->finishing || ev->type == XT_EV_ACKED)
            xt_cli_sync_event(s->conn, s->acct->store, s->acct->key, ev);
        break;
    }
}

/* --timeout passed without getting online, whatever was retried. */
static void on_connect_timeout(xt_loop *loop, void *ud)
{
    xt_cli_session *s = ud;
    (void)loop;

    s->connect_timer = 0;
    if (s->online || s->finishing)
        return;
    if (s->p->retryable)
        *s->p->retryable = s->attempts ? s->last_retry : 1;
    (void)xt_client_stop_reconnect(s->client);
    if (s->attempts > 0) {
        /* The last attempt's failure is the most useful thing to say
         * (and decides the exit code: refused, TLS, closed...). */
        char why[1200];
        snprintf(why, sizeof why, "%s (%u attempt%s in %u s)", s->last_why, s->attempts,
                 s->attempts == 1 ? "" : "s", s->set->timeout_ms / 1000);
        end_not_connected(s, s->last_err, why);
        return;
    }
    report(s,
           "cannot connect as %s: timed out after %u s; check the network and --server, or "
           "raise --timeout",
           s->set->jid, s->set->timeout_ms / 1000);
    s->exit_code = XT_CLI_EXIT_TIMEOUT;
    xt_cli_session_stop(s);
}

static void on_sig_fd(xt_loop *loop, int fd, short revents, void *ud)
{
    xt_cli_session *s = ud;
    unsigned char b[64];
    ssize_t n;
    (void)loop;
    (void)revents;

    while ((n = read(fd, b, sizeof b)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (b[i] == SIGCHLD) {
                if (s->p->on_sigchld)
                    s->p->on_sigchld(s, s->p->ud);
                continue;
            }
            if (b[i] == SIGWINCH) {
                if (s->p->on_sigwinch)
                    s->p->on_sigwinch(s, s->p->ud);
                continue;
            }
            if (s->finishing) {
                /* A second interrupt: stop waiting for the server. */
                xt_cli_session_stop(s);
                continue;
            }
            if (s->p->interrupt_exit != XT_CLI_EXIT_OK)
                report(s, "interrupted");
            xt_cli_session_finish(s, s->p->interrupt_exit);
        }
    }
}

static void log_cb(void *ud, int level, const char *msg)
{
    const xt_cli_session *s = ud;
    static const char *const names[] = {"error", "warning", "info", "debug", "RECV", "SEND"};

    if (level == XT_LOG_DEBUG && s->set->verbose < 2)
        return;
    char *e = xt_cli_sanitize(msg ? msg : "", msg ? strlen(msg) : 0, XT_CLI_SAN_LINES);
    fprintf(stderr, "xtalk: %s: %s\n", level >= 0 && level <= XT_LOG_XML_OUT ? names[level] : "log",
            e ? e : "?");
    free(e);
}

/* --- the session ------------------------------------------------------------ */

static const int handled_signals[] = {SIGINT, SIGTERM, SIGCHLD, SIGWINCH, SIGHUP};
#define NSIGNALS (sizeof handled_signals / sizeof handled_signals[0])

static int wanted(const xt_cli_session_params *p, int sig)
{
    switch (sig) {
    case SIGCHLD:
        return p->want_sigchld;
    case SIGWINCH:
        return p->want_sigwinch;
    case SIGHUP:
        /* Not by default: a bot under nohup keeps ignoring it. */
        return p->want_sighup;
    default:
        return 1;
    }
}

/*
 * THE place where a run's conn config and xt_client are made, for every
 * command and chat: the settings, the command's presence and flags, the
 * store's SASL hint, keepalive, and the library's reconnection (which
 * also brings XEP-0198 resumption and the salted password kept for it).
 */
static int make_client(xt_cli_session *s, char *why, size_t whylen)
{
    const xt_cli_settings *set = s->set;
    const xt_cli_session_params *p = s->p;

    if (s->acct->store)
        (void)xt_store_sasl_hint_get(s->acct->store, s->acct->key, &s->hint);
    char *ua = NULL, *fmech = NULL, *ftoken = NULL;
    load_fast_token(s, &ua, &fmech, &ftoken);
    xt_conn_opts *opts = NULL;
    int rc = xt_conn_opts_new(NULL, &opts);
    if (!rc)
        rc = xt_conn_opts_set_jid(opts, set->jid);
    if (!rc)
        rc = xt_conn_opts_set_password(opts, set->password);
    if (!rc)
        rc = xt_conn_opts_set_resource(opts, set->resource);
    if (!rc)
        rc = xt_conn_opts_set_flags(
            opts, p->conn_flags | (p->sync ? 0 : XT_CONN_NO_ARCHIVE_CATCHUP) |
                      (set->direct_tls ? XT_CONN_DIRECT_TLS : 0) |
                      (set->insecure_plaintext ? XT_CONN_INSECURE_ALLOW_PLAINTEXT : 0) |
                      (set->allow_downgrade ? XT_CONN_ALLOW_DOWNGRADE : 0));
    if (!rc)
        rc = xt_conn_opts_set_timeouts(opts, set->timeout_ms, set->timeout_ms);
    if (!rc)
        rc = xt_conn_opts_set_initial_presence(opts, (xt_show)p->show, p->status, p->priority);
    if (!rc)
        rc = xt_conn_opts_set_log(opts, set->verbose && !p->quiet ? log_cb : NULL, s);
    if (!rc)
        rc = xt_conn_opts_set_keepalive(opts, p->keepalive_ms, p->keepalive_ms);
    if (!rc)
        rc = xt_conn_opts_set_sasl_hint(opts, s->hint);
    /* Contacts' nicknames (XEP-0172) come as PEP notifications once our
     * caps ask for them (XEP-0163 §4): names for listen and chat. */
    if (!rc)
        rc = xt_conn_opts_add_pep_notify(opts, XT_NS_NICK);
    if (!rc)
        rc = xt_conn_opts_set_user_agent(opts, ua, "xtalk", NULL);
    if (!rc)
        rc = xt_conn_opts_set_fast_token(opts, fmech, ftoken);
    if (!rc)
        rc = xt_conn_opts_set_fast_token_cb(opts, on_fast_token, s);
    if (ftoken)
        explicit_bzero(ftoken, strlen(ftoken));
    free(ftoken);
    free(fmech);
    free(ua);
    if (!rc)
        rc = xt_client_new(NULL, opts, &s->client);
    if (!rc && p->selfping_ms) {
        /* The answer may take as long as half the spell, at most the
         * library's default wait. */
        uint32_t t = p->selfping_ms / 2 < XT_SELFPING_DEFAULT_TIMEOUT_MS
                         ? p->selfping_ms / 2
                         : XT_SELFPING_DEFAULT_TIMEOUT_MS;
        rc = xt_muc_selfping_set(xt_client_conn(s->client), p->selfping_ms, t ? t : 1);
    }
    /* Why a setter refused (an invalid JID or resource), for the message. */
    if (rc == XT_EJID)
        snprintf(why, whylen, "%s", xt_conn_opts_errdetail(opts));
    xt_conn_opts_free(opts); /* the client's conn copied them */
    if (rc == 0 && ((rc = xt_client_set_server(s->client, set->host, set->port)) < 0 ||
                    (rc = xt_client_set_ca_file(s->client, set->ca_file)) < 0 ||
                    (rc = xt_client_set_pin(s->client, set->pin[0] ? set->pin : NULL)) < 0 ||
                    (rc = xt_client_set_connect_timeout(s->client, set->timeout_ms)) < 0 ||
                    (rc = xt_client_set_reconnect(s->client, p->reconnect != XT_CLI_RECONNECT_NEVER,
                                                  0, 0)) < 0 ||
                    (rc = xt_loop_add_client(s->loop, s->client)) < 0)) {
        xt_client_free(s->client);
        s->client = NULL;
    }
    return rc;
}

int xt_cli_session_start(xt_cli_account *acct, const xt_cli_session_params *p, xt_cli_session **out)
{
    xt_cli_session *s = calloc(1, sizeof *s);
    struct sigaction sa;
    int rc;

    *out = NULL;
    if (!s) {
        xt_cli_errorf("out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    *s = (xt_cli_session){.acct = acct, .set = &acct->set, .p = p, .exit_code = XT_CLI_EXIT_ERROR};
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        xt_cli_errorf("cannot create a pipe: %s", strerror(errno));
        free(s);
        return XT_CLI_EXIT_ERROR;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaction(handled_signals[i], wanted(p, handled_signals[i]) ? &sa : NULL, &s->old[i]);
    s->signals_set = 1;

    rc = xt_loop_new(NULL, &s->loop);
    if (rc < 0) {
        xt_cli_errorf("cannot start: %s", xt_strerror(rc));
        goto fail;
    }
    if (s->set->insecure_plaintext)
        xt_cli_errorf("WARNING: --insecure-allow-plaintext: if the server offers no TLS, the "
                      "password and all messages cross the network in the clear");
    char why[256] = "";
    rc = make_client(s, why, sizeof why);
    /* The connection holds its own copy now; ours is no longer needed. */
    xt_cli_password_free(s->set->password);
    s->set->password = NULL;
    if (rc < 0) {
        if (rc == XT_EJID)
            xt_cli_errorf("%s ('%s'); give the account as user@domain", why, s->set->jid);
        else
            xt_cli_errorf("cannot set up the connection: %s", xt_strerror(rc));
        s->exit_code = rc == XT_EJID ? XT_CLI_EXIT_CONFIG : XT_CLI_EXIT_ERROR;
        goto fail;
    }
    s->conn = xt_client_conn(s->client);
    xt_cli_sync_prime(s->conn, s->acct->store, s->acct->key);
    if (xt_conn_on(s->conn, XT_EV_ALL, on_event, s) < 0 ||
        (s->sig_fd_id = xt_loop_add_fd(s->loop, sig_pipe[0], POLLIN, on_sig_fd, s)) < 0 ||
        (!p->stay &&
         (s->connect_timer = xt_loop_add_timer(s->loop, (uint64_t)s->set->timeout_ms + 1000,
                                               on_connect_timeout, s)) < 0)) {
        xt_cli_errorf("cannot set up the connection: out of memory");
        goto fail;
    }
    if (p->on_start)
        p->on_start(s, p->ud);
    rc = s->finishing ? 0 : xt_client_connect(s->client);
    if (rc < 0) {
        /* Nothing started (client.h: a second connect, an unreadable
         * ca_file, no memory): another try would fail the same way. */
        if (p->retryable)
            *p->retryable = 0;
        const char *d = xt_client_errdetail(s->client);
        const char *hint = xt_cli_hint_for(rc);
        char *ed = d && *d ? san(d) : NULL;
        report(s, "cannot connect as %s: %s%s%s%s%s%s", s->set->jid, xt_strerror(rc),
               ed ? " (" : "", ed ? ed : "", ed ? ")" : "", *hint ? "; " : "", hint);
        free(ed);
        s->exit_code = xt_cli_exit_for(rc, 0);
        xt_cli_session_stop(s);
    }
    *out = s;
    return 0;
fail:
    return xt_cli_session_end(s);
}

int xt_cli_session_end(xt_cli_session *s)
{
    int code;

    if (!s)
        return XT_CLI_EXIT_ERROR;
    xt_client_free(s->client);
    xt_loop_free(s->loop);
    free(s->hint);
    if (s->signals_set)
        for (size_t i = 0; i < NSIGNALS; i++)
            sigaction(handled_signals[i], &s->old[i], NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    if (s->deferred) {
        fflush(stdout);
        fprintf(stderr, "xtalk: %s\n", s->deferred);
        free(s->deferred);
    }
    code = s->exit_code;
    free(s);
    return code;
}

int xt_cli_session_run(xt_cli_account *acct, const xt_cli_session_params *p)
{
    xt_cli_session *s;
    int rc = xt_cli_session_start(acct, p, &s);

    if (!s)
        return rc;
    if (!s->done)
        rc = xt_loop_run(s->loop);
    if (!s->done) {
        /* The loop ran dry without an ending: should not happen. */
        report(s, "the connection ended unexpectedly: %s", xt_strerror(rc < 0 ? rc : XT_ECLOSED));
        s->exit_code = XT_CLI_EXIT_ERROR;
    }
    return xt_cli_session_end(s);
}

int xt_cli_session_errand(const xt_cli_args *a, const xt_cli_session_params *p)
{
    xt_cli_account acct;
    int rc = xt_cli_account_open(a, 1, 0, &acct);
    if (rc == 0)
        rc = xt_cli_session_run(&acct, p);
    xt_cli_account_close(&acct);
    return rc;
}
