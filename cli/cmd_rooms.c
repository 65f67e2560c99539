/*
 * xtalk rooms / bookmark add|remove: the account's group chat bookmarks
 * (xtalk/bookmarks.h: XEP-0402 in PEP, or XEP-0048 in private storage,
 * whichever the server keeps). Each waits for the server's answer.
 *
 * Passwords: a bookmark's room password is never printed (only whether
 * there is one) and never taken from the command line (it would show in
 * ps); `bookmark add` over an existing bookmark keeps its password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "report.h"
#include "sanitize.h"
#include "session.h"
#include "xtalk/bookmarks.h"
#include "xtalk/jid.h"

struct rooms {
    const xt_cli_args *a;
    char *room; /* bookmark: the normalized bare JID */
    char what[600];
};

static int print_text(const xt_bookmark_list *l)
{
    int ok = 1;
    for (size_t i = 0; i < l->n && ok; i++) {
        const xt_bookmark *b = &l->items[i];
        /* ROOM  NAME  NICK  autojoin|-  (tab-separated, "-" = none) */
        xt_cli_put_sanitized(stdout, b->room);
        fputc('\t', stdout);
        xt_cli_put_sanitized(stdout, b->name && *b->name ? b->name : "-");
        fputc('\t', stdout);
        xt_cli_put_sanitized(stdout, b->nick ? b->nick : "-");
        ok = fprintf(stdout, "\t%s%s\n", b->autojoin ? "autojoin" : "-",
                     b->password ? "\tpassword" : "") > 0;
    }
    return ok;
}

static int print_json(const xt_bookmark_list *l)
{
    int ok = 1;
    xt_cli_json j;
    xt_cli_json_init(&j);
    for (size_t i = 0; i < l->n && ok; i++) {
        const xt_bookmark *b = &l->items[i];
        xt_cli_json_reset(&j);
        xt_cli_json_obj(&j, NULL);
        xt_cli_json_str(&j, "room", b->room);
        if (b->name)
            xt_cli_json_str(&j, "name", b->name);
        if (b->nick)
            xt_cli_json_str(&j, "nick", b->nick);
        xt_cli_json_bool(&j, "autojoin", b->autojoin);
        xt_cli_json_bool(&j, "password", b->password != NULL); /* whether: never the value */
        xt_cli_json_str(&j, "store", xt_bookmark_store_name(l->store));
        xt_cli_json_end(&j);
        ok = xt_cli_json_write_line(&j, stdout) == 0;
    }
    xt_cli_json_free(&j);
    return ok;
}

static void fail_status(xt_cli_session *s, struct rooms *r, int status)
{
    if (status == XT_ENOTFOUND)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "%s: there is none", r->what);
    else if (status == XT_ESTANZA)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "%s: the server refused", r->what);
    else
        xt_cli_session_fail(s, xt_cli_exit_for(status, 1), "%s: %s", r->what, xt_strerror(status));
}

static void on_done(xt_conn *c, int status, const xt_bookmark_list *l, void *ud)
{
    (void)c;
    (void)l;
    xt_cli_session *s = ud;
    if (status)
        fail_status(s, xt_cli_session_ud(s), status);
    else
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

/* bookmark add: the stored bookmark of the room (if any) gives its
 * password; the rest is what the command line says. */
static void on_list_for_add(xt_conn *c, int status, const xt_bookmark_list *l, void *ud)
{
    xt_cli_session *s = ud;
    struct rooms *r = xt_cli_session_ud(s);
    if (status) {
        fail_status(s, r, status);
        return;
    }
    xt_bookmark b = {
        .room = r->room,
        .name = r->a->bm_name && *r->a->bm_name ? r->a->bm_name : NULL,
        .nick = r->a->nick,
        .autojoin = r->a->autojoin,
    };
    for (size_t i = 0; i < l->n; i++)
        if (xt_jid_str_bare_equal(l->items[i].room, r->room))
            b.password = l->items[i].password;
    int rc = xt_bookmarks_set(c, &b, on_done, s);
    if (rc)
        fail_status(s, r, rc);
}

static void on_list(xt_conn *c, int status, const xt_bookmark_list *l, void *ud)
{
    (void)c;
    xt_cli_session *s = ud;
    struct rooms *r = xt_cli_session_ud(s);
    if (status) {
        fail_status(s, r, status);
        return;
    }
    xt_cli_session_finish_printed(s, r->a->json ? print_json(l) : print_text(l), "rooms");
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct rooms *r = ud;
    xt_conn *c = xt_cli_session_conn(s);
    int rc;

    if (r->a->cmd == XT_CLI_CMD_ROOMS) {
        snprintf(r->what, sizeof r->what, "rooms: cannot get the bookmarks");
        rc = xt_bookmarks_fetch(c, on_list, s);
    } else if (strcmp(r->a->subcmd, "add") == 0) {
        snprintf(r->what, sizeof r->what, "bookmark: cannot bookmark %s", r->room);
        rc = xt_bookmarks_fetch(c, on_list_for_add, s);
    } else {
        snprintf(r->what, sizeof r->what, "bookmark: cannot remove the bookmark of %s", r->room);
        rc = xt_bookmarks_remove(c, r->room, on_done, s);
    }
    if (rc < 0)
        fail_status(s, r, rc);
}

int xt_cli_cmd_rooms(const xt_cli_args *a)
{
    struct rooms r = {.a = a};
    int rc = 0;

    if (a->cmd == XT_CLI_CMD_BOOKMARK) {
        rc = xt_cli_check_target("bookmark", a->target, 1, &r.room);
        if (!rc && !strchr(r.room, '@')) {
            xt_cli_errorf("bookmark: '%s' is not a room (give ROOM@SERVICE)", r.room);
            rc = XT_CLI_EXIT_USAGE;
        }
    }
    if (rc == 0) {
        xt_cli_session_params p = {
            .conn_flags = XT_CONN_NO_ROSTER | XT_CONN_NO_PRESENCE,
            .interrupt_exit = XT_CLI_EXIT_ERROR,
            .reconnect = XT_CLI_RECONNECT_LOGIN,
            .on_online = on_online,
            .ud = &r,
        };
        rc = xt_cli_session_errand(a, &p);
    }
    free(r.room);
    return rc;
}
