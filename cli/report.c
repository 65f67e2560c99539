/* Error lines and exit codes of the xtalk program. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xtalk/common.h"

void xt_cli_errorf(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout); /* keep stdout and stderr lines in order on a terminal */
    fputs("xtalk: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int xt_cli_exit_for(int xt_err, int online)
{
    switch (xt_err) {
    case XT_OK:
        return XT_CLI_EXIT_OK;
    case XT_ETIMEOUT:
        return XT_CLI_EXIT_TIMEOUT;
    case XT_ENOMEM:
    case XT_EINVAL:
        return XT_CLI_EXIT_ERROR;
    default:
        break;
    }
    if (online)
        return XT_CLI_EXIT_DISCONNECTED;
    switch (xt_err) {
    case XT_EDNS:
    case XT_ENONAME:
    case XT_ECONNECT:
    case XT_EREDIRECT:
        return XT_CLI_EXIT_CONNECT;
    case XT_ETLS:
    case XT_ECERT:
    case XT_ENOTLS:
        return XT_CLI_EXIT_TLS;
    case XT_EAUTH:
    case XT_EDOWNGRADE:
    case XT_EUNSUPPORTED:
        return XT_CLI_EXIT_AUTH;
    case XT_ESTREAM:
    case XT_ECLOSED:
    case XT_EIO:
    case XT_EPROTO:
    case XT_EXML:
        return XT_CLI_EXIT_DISCONNECTED;
    default:
        return XT_CLI_EXIT_ERROR;
    }
}

const char *xt_cli_hint_for(int xt_err)
{
    switch (xt_err) {
    case XT_EDNS:
    case XT_ENONAME:
        return "check the JID's domain, or give the host with --server HOST[:PORT]";
    case XT_ECONNECT:
        return "check that the server runs and the port is right (--server HOST[:PORT], "
               "--direct-tls)";
    case XT_ECERT:
        return "use --ca-file FILE to trust its CA, or --pin SHA256 to pin its certificate";
    case XT_ETLS:
        return "check the port (--direct-tls for a TLS-only port) and the server's TLS setup";
    case XT_ENOTLS:
        return "enable TLS on the server (--insecure-allow-plaintext exists for tests only)";
    case XT_EAUTH: /* it depends on the condition: xt_cli_auth_hint */
        return "";
    case XT_EDOWNGRADE:
        return "the server could not prove it knows the password; do not trust this connection";
    case XT_EUNSUPPORTED:
        return "the server offers no authentication method xtalk supports";
    case XT_ETIMEOUT:
        return "check the network, or raise --timeout";
    case XT_EREDIRECT:
        return "connect to the host the server named with --server";
    case XT_ESTREAM:
    case XT_ECLOSED:
    case XT_EIO:
        return "try again; run with -v to see the stream";
    default:
        return "";
    }
}

const char *xt_cli_auth_hint(const char *condition, const char *detail)
{
    /* A server that refuses a channel binding says not-authorized too
     * (ejabberd 23.01: "Invalid channel binding"): not the password. */
    if (condition && strcmp(condition, "not-authorized") == 0 &&
        !(detail && strstr(detail, "channel binding")))
        return "check the JID and the password (XTALK_PASSWORD, password_command)";
    return "";
}
