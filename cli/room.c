/* The group chat commands' shared parts; see room.h. */
#include "room.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xtalk/jid.h"

int xt_cli_room_parse(const char *target, const char *nick_opt, const char *account_jid,
                      xt_cli_room *out, char *err, size_t errlen)
{
    *out = (xt_cli_room){0};
    xt_jid *j = NULL, *me = NULL;
    const char *why = NULL;
    if (!target || xt_jid_parse(NULL, target, &j, &why) != 0) {
        snprintf(err, errlen, "'%s' is not a room JID (%s); give ROOM@SERVICE",
                 target ? target : "", why ? why : "invalid");
        return XT_CLI_EXIT_USAGE;
    }
    if (!xt_jid_local(j)) {
        snprintf(err, errlen, "'%s' is a service, not a room; give ROOM@SERVICE", target);
        xt_jid_free(j);
        return XT_CLI_EXIT_USAGE;
    }
    const char *nick = xt_jid_resource(j) ? xt_jid_resource(j) : nick_opt;
    if (!nick && account_jid && xt_jid_parse(NULL, account_jid, &me, NULL) == 0)
        nick = xt_jid_local(me);
    if (!nick) {
        snprintf(err, errlen, "no nick for %s: give --nick NICK or ROOM@SERVICE/NICK", target);
        xt_jid_free(j);
        return XT_CLI_EXIT_USAGE;
    }
    out->room = strdup(xt_jid_bare(j));
    out->nick = strdup(nick);
    xt_jid_free(j);
    xt_jid_free(me);
    if (!out->room || !out->nick) {
        xt_cli_room_free(out);
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    return 0;
}

void xt_cli_room_free(xt_cli_room *r)
{
    free(r->room);
    free(r->nick);
    *r = (xt_cli_room){0};
}

void xt_cli_room_password_free(char *pw)
{
    if (pw) {
        /* Wiped: a volatile pointer keeps the stores from being dropped. */
        volatile char *p = pw;
        while (*p)
            *p++ = '\0';
        free(pw);
    }
}

int xt_cli_room_password(const xt_cli_args *a, char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (a->room_password_file) {
        FILE *f = fopen(a->room_password_file, "r");
        if (!f) {
            snprintf(err, errlen, "--room-password-file %s: %s", a->room_password_file,
                     strerror(errno));
            return XT_CLI_EXIT_CONFIG;
        }
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* The first line: a trailing newline is the file's, not the password's. */
        buf[strcspn(buf, "\r\n")] = '\0';
        *out = strdup(buf);
        volatile char *p = buf;
        for (size_t i = 0; i < sizeof buf; i++)
            p[i] = '\0';
    } else {
        const char *env = getenv("XTALK_ROOM_PASSWORD");
        if (!env || !*env)
            return 0;
        *out = strdup(env);
    }
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    return 0;
}

int xt_cli_room_exit_for(const char *condition)
{
    /* XEP-0045 §7.2.4-§7.2.11: the conditions a room answers a join with. */
    static const struct {
        const char *cond;
        int code;
    } map[] = {
        {"conflict", XT_CLI_EXIT_MUC_NICK},
        {"not-acceptable", XT_CLI_EXIT_MUC_NICK},
        {"not-authorized", XT_CLI_EXIT_MUC_PASSWORD},
        {"registration-required", XT_CLI_EXIT_MUC_MEMBERS_ONLY},
        {"forbidden", XT_CLI_EXIT_MUC_BANNED},
    };
    for (size_t i = 0; condition && i < sizeof map / sizeof *map; i++)
        if (strcmp(condition, map[i].cond) == 0)
            return map[i].code;
    return XT_CLI_EXIT_MUC_REFUSED;
}
