/*
 * session.h -- the one path every connecting command (chat included)
 * takes: the account (account.h: settings, store, key), then the session:
 * signals through a self-pipe in the loop, the conn config and xt_client
 * built in one place, the SASL hint read from and saved to the store,
 * connecting, retrying what the library says may work on another try,
 * reporting failures with the right exit code, and a clean end
 * (xt_conn_close, wait for the server's </stream:stream> for a moment).
 *
 * A command supplies hooks; they run inside the loop. A command ends the
 * run with xt_cli_session_finish(s, code) or xt_cli_session_fail(...);
 * the first call decides the exit code, later ones are ignored.
 *
 * Retrying is the library's (xt_client reconnect: backoff with jitter,
 * XEP-0198 resumption) and so is the decision (xt_disconnected.retry):
 * the session only chooses, per command, when a retry is welcome (see
 * xt_cli_reconnect). Before the first login, retries go on until
 * --timeout passes without getting online.
 */
#ifndef XT_CLI_SESSION_H
#define XT_CLI_SESSION_H

#include "account.h"
#include "xtalk/client.h"

typedef enum xt_cli_reconnect {
    /* The first failure ends the run (--no-reconnect). */
    XT_CLI_RECONNECT_NEVER,
    /* Transient failures before the first login are retried; a loss
     * once online ends the run (one-shot commands: roster, status...). */
    XT_CLI_RECONNECT_LOGIN,
    /* Also after a loss once online (send, listen, bot, chat). */
    XT_CLI_RECONNECT_ALWAYS,
} xt_cli_reconnect;

typedef struct xt_cli_session xt_cli_session;

typedef struct xt_cli_session_params {
    unsigned conn_flags; /* XT_CONN_NO_ROSTER, XT_CONN_NO_PRESENCE */
    int show;            /* initial presence */
    const char *status;
    int priority;
    int interrupt_exit; /* exit code after SIGINT/SIGTERM (clean close) */
    int want_sigchld;   /* deliver SIGCHLD to on_sigchld */
    int want_sigwinch;  /* deliver SIGWINCH to on_sigwinch */
    int want_sighup;    /* SIGHUP ends the run like SIGTERM (a terminal closed) */
    int announce;       /* say "online as JID" on stderr (long-running commands) */
    xt_cli_reconnect reconnect;
    /* Stay up offline: no --timeout bound on getting online, and a
     * definite failure once online leaves the run going (on_offline says
     * so) until the command finishes it (chat). */
    int stay;
    /* Nothing on stderr while running (the terminal belongs to curses):
     * no log, no "reconnecting" notes; the final error is printed by
     * xt_cli_session_end. */
    int quiet;
    uint32_t keepalive_ms; /* ping interval and timeout; 0 = the library's */
    uint32_t selfping_ms;  /* XEP-0410 quiet spell before a room self-ping; 0 = the library's */
    /* This command shows the account's messages (listen, chat): catch up
     * from the archive at login (XEP-0313, sync.h). Every command keeps
     * the archive position moving with the live messages its session
     * saw, so a catch-up fetches what arrived while no xtalk of this
     * installation was online (on other devices, or for nobody), not
     * what a bot or an earlier listen already had. */
    int sync;
    /* After the loop and client exist, before connecting (timers, fds). */
    void (*on_start)(xt_cli_session *s, void *ud);
    /* Called on every XT_EV_ONLINE: once, or again after each reconnect
     * (xt_cli_session_resumed says whether the session survived). */
    void (*on_online)(xt_cli_session *s, void *ud);
    /* The connection was lost (or an attempt failed) and the run goes on:
     * retry_in_ms > 0 when the client connects again by itself, 0 when
     * not (stay only). why is valid during the call. */
    void (*on_offline)(xt_cli_session *s, const char *why, uint32_t retry_in_ms, void *ud);
    /* If not NULL, set to 1 when the run failed in a way connecting again
     * may fix (network, timeout, a cut TLS handshake), 0 otherwise. */
    int *retryable;
    /* Every event after ONLINE except DISCONNECTED (the session handles
     * it); once finishing, only XT_EV_ACKED. */
    void (*on_event)(xt_cli_session *s, const xt_event *ev, void *ud);
    void (*on_sigchld)(xt_cli_session *s, void *ud);
    void (*on_sigwinch)(xt_cli_session *s, void *ud);
    void *ud;
} xt_cli_session_params;

/* Runs until finished; returns the exit code. Takes the password out of
 * acct->set (wipes and frees it once the connection has its copy). */
int xt_cli_session_run(xt_cli_account *acct, const xt_cli_session_params *p);

/* An errand (block, manage, history, info): opens the account (the store
 * optional: it only speeds the login up), runs p, closes the account.
 * Returns the exit code. */
int xt_cli_session_errand(const xt_cli_args *a, const xt_cli_session_params *p);

/* The same in steps, for a command that drives the loop itself (chat
 * redraws between iterations): start (0, or an exit code after printing
 * why: *out is then NULL), xt_loop_run_once on xt_cli_session_loop while
 * !xt_cli_session_done, then end (prints a deferred error, frees, returns
 * the exit code). */
int xt_cli_session_start(xt_cli_account *acct, const xt_cli_session_params *p,
                         xt_cli_session **out);
int xt_cli_session_done(const xt_cli_session *s);
int xt_cli_session_end(xt_cli_session *s);

void xt_cli_session_finish(xt_cli_session *s, int exit_code);
/* For a command whose result is what it printed: flushes stdout and
 * finishes with XT_CLI_EXIT_OK, or fails with "<cmd>: cannot write to
 * stdout" when printed_ok is 0 or stdout cannot be written. */
void xt_cli_session_finish_printed(xt_cli_session *s, int printed_ok, const char *cmd);
/* Prints "xtalk: <fmt>" and finishes with exit_code. */
void xt_cli_session_fail(xt_cli_session *s, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the run at once, without waiting for the server (a second quit). */
void xt_cli_session_stop(xt_cli_session *s);
int xt_cli_session_finishing(const xt_cli_session *s);
/* 1 while a session is up (between XT_EV_ONLINE and the disconnection). */
int xt_cli_session_online(const xt_cli_session *s);
/* Connects again now (chat's /reconnect): the library's reconnection,
 * started without waiting for the backoff or after a disconnection it
 * would not retry (xt_client_reconnect_now). 0, or XT_ESTATE while
 * connecting or connected or finishing. */
int xt_cli_session_reconnect(xt_cli_session *s);
/* 1 when the last XT_EV_ONLINE resumed an XEP-0198 session. */
int xt_cli_session_resumed(const xt_cli_session *s);

xt_conn *xt_cli_session_conn(xt_cli_session *s);
xt_loop *xt_cli_session_loop(xt_cli_session *s);
/* The session's client (from on_start on; the same across reconnects). */
xt_client *xt_cli_session_client(xt_cli_session *s);
const xt_cli_settings *xt_cli_session_settings(const xt_cli_session *s);
void *xt_cli_session_ud(xt_cli_session *s); /* the params' ud */

/*
 * Pings the server (XEP-0199). TCP and the server keep stanza order, so
 * the answer means everything sent before it was processed. On an answer
 * (a result, or an error saying ping is unsupported: either way it was
 * processed) calls done; on timeout or loss fails the session with
 * "<what> was not acknowledged" (exit 7) or a disconnection (exit 8).
 */
int xt_cli_session_ack(xt_cli_session *s, const char *what,
                       void (*done)(xt_cli_session *s, void *ud), void *ud);

/* Fails the session for an IQ that did not succeed: "<what>: <why>". */
void xt_cli_session_iq_failed(xt_cli_session *s, const char *what, int status,
                              const xt_stanza *reply);

/* "condition: text" of a stanza error reply (RFC 6120 §8.3), in buf. */
void xt_cli_stanza_error(const xt_stanza *reply, char *buf, size_t len);

#endif
