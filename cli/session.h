/*
 * session.h -- what every connecting command shares: build the client
 * from the settings, connect, report connection failures with the right
 * exit code, watch SIGINT/SIGTERM (and SIGCHLD for bot) through a
 * self-pipe in the loop, and end cleanly (xt_conn_close, wait for the
 * server's </stream:stream> for a moment, stop).
 *
 * A command supplies hooks; they run inside the loop. A command ends the
 * run with xt_cli_session_finish(s, code) or xt_cli_session_fail(...);
 * the first call decides the exit code, later ones are ignored.
 */
#ifndef XT_CLI_SESSION_H
#define XT_CLI_SESSION_H

#include "settings.h"
#include "xtalk/client.h"
#include "xtalk/store.h"

typedef struct xt_cli_session xt_cli_session;

typedef struct xt_cli_session_params {
    unsigned conn_flags; /* XT_CONN_NO_ROSTER, XT_CONN_NO_PRESENCE */
    int show;            /* initial presence */
    const char *status;
    int priority;
    int interrupt_exit; /* exit code after SIGINT/SIGTERM (clean close) */
    int want_sigchld;   /* deliver SIGCHLD to on_sigchld */
    int announce;       /* say "online as JID" on stderr (long-running commands) */
    /* Reconnect automatically after a lost connection once online (with
     * backoff, XEP-0198 resumption when the server allows), saying
     * "xtalk: reconnecting in N ms: REASON" on stderr each time. */
    int reconnect;
    uint32_t keepalive_ms; /* ping interval and timeout; 0 = the library's */
    /* After the loop and client exist, before connecting (timers). */
    void (*on_start)(xt_cli_session *s, void *ud);
    /* Called on every XT_EV_ONLINE: once, or again after each reconnect
     * (xt_cli_session_resumed says whether the session survived). */
    void (*on_online)(xt_cli_session *s, void *ud);
    /* The connection was lost and will be retried (reconnect only). */
    void (*on_reconnecting)(xt_cli_session *s, void *ud);
    /* If not NULL, set to 1 when the run failed in a way connecting again
     * may fix (network, timeout, a cut TLS handshake), 0 otherwise. */
    int *retryable;
    /* Every event after ONLINE except DISCONNECTED (the session handles it). */
    void (*on_event)(xt_cli_session *s, const xt_event *ev, void *ud);
    void (*on_sigchld)(xt_cli_session *s, void *ud);
    void *ud;
    /* The local store, if the command has one open: the server's SASL
     * offer is kept there per account, so the next login pipelines its
     * first SCRAM message (xt_conn_opts_set_sasl_hint). */
    xt_store *store;
} xt_cli_session_params;

/* Runs until finished; returns the exit code. Takes the password out of
 * set (wipes and frees it once the connection has its copy). */
int xt_cli_session_run(xt_cli_settings *set, const xt_cli_session_params *p);

void xt_cli_session_finish(xt_cli_session *s, int exit_code);
/* Prints "xtalk: <fmt>" and finishes with exit_code. */
void xt_cli_session_fail(xt_cli_session *s, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int xt_cli_session_finishing(const xt_cli_session *s);
/* 1 when the last XT_EV_ONLINE resumed an XEP-0198 session. */
int xt_cli_session_resumed(const xt_cli_session *s);

xt_conn *xt_cli_session_conn(xt_cli_session *s);
xt_loop *xt_cli_session_loop(xt_cli_session *s);
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
