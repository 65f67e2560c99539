/*
 * report.h -- how the xtalk program tells the user what went wrong: the
 * stable exit codes and the one-line "xtalk: what: why; what to do" form.
 */
#ifndef XT_CLI_REPORT_H
#define XT_CLI_REPORT_H

/* Exit codes: stable, documented in --help and xtalk(1). Never renumber. */
enum xt_cli_exit {
    XT_CLI_EXIT_OK = 0,
    XT_CLI_EXIT_ERROR = 1,        /* any other error */
    XT_CLI_EXIT_USAGE = 2,        /* bad command line */
    XT_CLI_EXIT_CONFIG = 3,       /* config file or password problem */
    XT_CLI_EXIT_CONNECT = 4,      /* DNS or TCP connect failure */
    XT_CLI_EXIT_TLS = 5,          /* TLS or certificate failure */
    XT_CLI_EXIT_AUTH = 6,         /* authentication failure */
    XT_CLI_EXIT_TIMEOUT = 7,      /* timeout, not acknowledged, no reply */
    XT_CLI_EXIT_DISCONNECTED = 8, /* the server ended the stream */
    /* A room refused to let us in (send --muc, issue 16): XEP-0045 §7.2. */
    XT_CLI_EXIT_MUC_NICK = 20,         /* the nick is in use or not acceptable */
    XT_CLI_EXIT_MUC_PASSWORD = 21,     /* the room password is missing or wrong */
    XT_CLI_EXIT_MUC_MEMBERS_ONLY = 22, /* members-only room, we are no member */
    XT_CLI_EXIT_MUC_BANNED = 23,       /* we are banned from the room */
    XT_CLI_EXIT_MUC_REFUSED = 24,      /* any other refusal (full, no such room, kicked) */
};

/* Prints "xtalk: <formatted>\n" on stderr. */
void xt_cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The exit code for an XT_E* code (0 -> XT_CLI_EXIT_OK). `online` says
 * whether the session had been established: a failure after that is a
 * disconnection, whatever the transport reported. */
int xt_cli_exit_for(int xt_err, int online);

/* What the user can do about an XT_E* code, or "" when nothing useful. */
const char *xt_cli_hint_for(int xt_err);

/* What the user can do about an authentication failure (XT_EAUTH) with
 * this SASL condition (RFC 6120 §6.5; NULL when none came) and the
 * library's detail: "check the JID and the password" only for
 * not-authorized that is not about channel binding; "" for every other
 * condition, whose meaning the detail already says (issue 11). */
const char *xt_cli_auth_hint(const char *condition, const char *detail);

#endif
