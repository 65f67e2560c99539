/* JIDs given as command arguments (send JID, add JID, ...). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"
#include "sanitize.h"
#include "xtalk/jid.h"

int xt_cli_check_target(const char *cmd, const char *jid, int bare, char **out)
{
    xt_jid *j = NULL;
    const char *why = NULL;
    int rc = xt_jid_parse(NULL, jid, &j, &why);

    if (out)
        *out = NULL;
    if (rc == XT_ENOMEM) {
        xt_cli_errorf("%s: out of memory", cmd);
        return XT_CLI_EXIT_ERROR;
    }
    if (rc != 0) {
        /* A script may pass on an address it got from the network
         * (approve "$XTALK_FROM"): shown sanitized like any such text. */
        char *shown = xt_cli_sanitize(jid, strlen(jid), XT_CLI_SAN_LINE);
        xt_cli_errorf("%s: invalid JID '%s': %s; give an address like user@example.org", cmd,
                      shown ? shown : "?", why ? why : xt_strerror(rc));
        free(shown);
        return XT_CLI_EXIT_USAGE;
    }
    if (out) {
        *out = strdup(bare ? xt_jid_bare(j) : xt_jid_full(j));
        if (!*out) {
            xt_jid_free(j);
            xt_cli_errorf("%s: out of memory", cmd);
            return XT_CLI_EXIT_ERROR;
        }
    }
    xt_jid_free(j);
    return 0;
}
