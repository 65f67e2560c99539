/* Joining the bookmarks with autojoin: see autojoin.h. */
#include "autojoin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xtalk/bookmarks.h"
#include "xtalk/jid.h"

typedef struct aj_req {
    const xt_cli_room *skip;
    size_t nskip;
    char *nick_opt, *account;
    int verbose;
    xt_cli_autojoin_fn join;
    void *ud;
    struct aj_req *next;
} aj_req;

/* Fetches under way. The library does not call back for a fetch still
 * pending when its conn is freed (bookmarks.h), which happens when a
 * command ends before the server answered (a server that never does):
 * such a request stays on this list, reachable and bounded by the number
 * of logins, instead of being lost. */
static aj_req *pending;

static void req_free(aj_req *q)
{
    for (aj_req **p = &pending; *p; p = &(*p)->next)
        if (*p == q) {
            *p = q->next;
            break;
        }
    free(q->nick_opt);
    free(q->account);
    free(q);
}

static int skipped(const aj_req *q, const char *room)
{
    for (size_t i = 0; i < q->nskip; i++)
        if (xt_jid_str_bare_equal(q->skip[i].room, room))
            return 1;
    return 0;
}

static void on_bookmarks(xt_conn *c, int status, const xt_bookmark_list *l, void *ud)
{
    aj_req *q = ud;
    if (status) {
        if (q->verbose)
            fprintf(stderr, "xtalk: no autojoin bookmarks: %s\n", xt_strerror(status));
        req_free(q);
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        const xt_bookmark *b = &l->items[i];
        if (!b->autojoin || skipped(q, b->room))
            continue;
        xt_cli_room r;
        char err[512];
        if (xt_cli_room_parse(b->room, b->nick ? b->nick : q->nick_opt, q->account, &r, err,
                              sizeof err) != 0) {
            xt_cli_errorf("autojoin bookmark: %s", err);
            continue;
        }
        xt_muc_join_opts o = {.nick = r.nick, .password = b->password};
        q->join(c, r.room, &o, q->ud);
        xt_cli_room_free(&r);
    }
    req_free(q);
}

int xt_cli_autojoin(xt_conn *c, const xt_cli_room *skip, size_t nskip, const char *nick_opt,
                    const char *account_jid, int verbose, xt_cli_autojoin_fn join, void *ud)
{
    aj_req *q = calloc(1, sizeof *q);
    if (!q)
        return XT_ENOMEM;
    *q = (aj_req){.skip = skip, .nskip = nskip, .verbose = verbose, .join = join, .ud = ud};
    if ((nick_opt && !(q->nick_opt = strdup(nick_opt))) ||
        (account_jid && !(q->account = strdup(account_jid)))) {
        req_free(q);
        return XT_ENOMEM;
    }
    q->next = pending;
    pending = q;
    int rc = xt_bookmarks_fetch(c, on_bookmarks, q);
    if (rc)
        req_free(q);
    return rc;
}
