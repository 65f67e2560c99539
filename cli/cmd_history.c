/*
 * xtalk history JID [--since TIME|ID] [--limit N] [--json]: the
 * conversation as the server's archive (XEP-0313) holds it, oldest first.
 *
 * Without --since the newest N are wanted: the archive is paged backward
 * from its end (XEP-0059 <before/>), pages arriving newest first, so the
 * lines are kept (at most N) and printed once the fetch ends. With
 * --since it pages forward and prints as the messages come.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "output.h"
#include "report.h"
#include "sanitize.h"
#include "session.h"
#include "xtalk/mam.h"

/* Backward pages: this many messages per round trip. */
#define PAGE 250

struct line {
    char *text;
    unsigned page;
};

struct history {
    const xt_cli_args *a;
    char *peer; /* bare */
    xt_cli_json json;
    int tag; /* our fetch, once started */
    int backward;
    unsigned page; /* pages seen (backward) */
    struct line *lines;
    size_t n, cap;
    int failed;
};

/* One message as a line (JSON as listen prints it, or text). */
static char *format(struct history *h, const xt_message *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    if (h->a->json) {
        (void)xt_cli_out_message(f, &h->json, m);
    } else {
        fputc('[', f);
        xt_cli_put_sanitized(f, m->stamp ? m->stamp : "?");
        fputs("] ", f);
        if (m->direction == XT_DIR_OUT) {
            fputs("me -> ", f);
            xt_cli_put_sanitized(f, m->to ? m->to : "?");
        } else {
            xt_cli_put_sanitized(f, m->from ? m->from : "?");
        }
        fputs(": ", f);
        xt_cli_put_sanitized(f, m->body);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void start(xt_cli_session *s, struct history *h)
{
    xt_conn *c = xt_cli_session_conn(s);
    /* The archive is listed by the account or the server (XEP-0313 §7):
     * wait until one says so, or both have answered (or failed) without
     * it. A failed query ends the wait too: without it a server that
     * neither answers nor keeps an archive held the command forever. */
    if (h->tag)
        return;
    int have = xt_mam_supported(c);
    if (have == XT_ESTATE)
        return;
    if (have == 0) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR,
                            "history: the server keeps no message archive (XEP-0313)");
        return;
    }
    if (have < 0) {
        xt_cli_session_fail(s, have == XT_ETIMEOUT ? XT_CLI_EXIT_TIMEOUT : XT_CLI_EXIT_ERROR,
                            "history: cannot tell whether the server keeps a message archive: "
                            "its service discovery failed (%s)%s",
                            xt_strerror(have),
                            have == XT_ETIMEOUT ? "; raise --timeout or try again" : "");
        return;
    }
    unsigned limit = h->a->limit ? h->a->limit : XT_CLI_DEFAULT_HISTORY_LIMIT;
    xt_mam_query q = {.with = h->peer, .max_total = limit};
    char start_buf[64];
    const char *since = h->a->since;
    if (!since) {
        h->backward = 1;
        q.before_id = "";
        q.page_size = limit < PAGE ? limit : PAGE;
    } else if (strlen(since) == 10 && since[4] == '-' && since[7] == '-') {
        snprintf(start_buf, sizeof start_buf, "%sT00:00:00Z", since);
        q.start = start_buf;
    } else if (strlen(since) >= 20 && since[4] == '-' && since[10] == 'T') {
        q.start = since;
    } else {
        q.after_id = since;
    }
    int rc = xt_mam_fetch(c, &q);
    if (rc == XT_EUNSUPPORTED) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR,
                            "history: the server keeps no message archive (XEP-0313)");
        return;
    }
    if (rc < 0) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "history: %s", xt_strerror(rc));
        return;
    }
    h->tag = rc;
}

static void on_online(xt_cli_session *s, void *ud)
{
    start(s, ud); /* a resumed session knows the server already */
}

static int keep(struct history *h, char *text)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct line *v = realloc(h->lines, cap * sizeof *v);
        if (!v)
            return -1;
        h->lines = v;
        h->cap = cap;
    }
    h->lines[h->n++] = (struct line){.text = text, .page = h->page};
    return 0;
}

static void print_kept(struct history *h)
{
    /* Pages came newest first, each in archive order. */
    for (unsigned p = h->page + 1; p-- > 0;)
        for (size_t i = 0; i < h->n; i++)
            if (h->lines[i].page == p)
                fputs(h->lines[i].text, stdout);
}

static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    struct history *h = ud;
    switch (ev->type) {
    case XT_EV_SERVER_INFO:
        start(s, h);
        break;
    case XT_EV_MESSAGE: {
        const xt_message *m = &ev->u.message;
        if (m->source != XT_SRC_ARCHIVE || !h->tag || !m->body)
            break;
        char *t = format(h, m);
        if (!t) {
            xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "history: out of memory");
            break;
        }
        if (!h->backward) {
            fputs(t, stdout);
            free(t);
            if (fflush(stdout) != 0)
                xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "history: cannot write to stdout");
        } else if (keep(h, t) != 0) {
            free(t);
            xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "history: out of memory");
        }
        break;
    }
    case XT_EV_ARCHIVE: {
        const xt_archive_event *a = ev->u.archive;
        if (a->tag != h->tag || !h->tag)
            break;
        if (!a->done) {
            h->page++;
            break;
        }
        if (a->status) {
            xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "history: the archive query failed: %s",
                                xt_strerror(a->status));
            break;
        }
        print_kept(h);
        xt_cli_session_finish(s, fflush(stdout) == 0 ? XT_CLI_EXIT_OK : XT_CLI_EXIT_ERROR);
        break;
    }
    default:
        break;
    }
}

int xt_cli_cmd_history(const xt_cli_args *a)
{
    struct history h = {.a = a};
    int rc = xt_cli_check_target("history", a->target, 1, &h.peer);
    if (rc)
        return rc;
    xt_cli_json_init(&h.json);
    xt_cli_session_params p = {
        /* A query, not an appearance: no roster, no presence. */
        .conn_flags = XT_CONN_NO_ROSTER | XT_CONN_NO_PRESENCE,
        .interrupt_exit = XT_CLI_EXIT_ERROR,
        .reconnect = XT_CLI_RECONNECT_LOGIN,
        .on_online = on_online,
        .on_event = on_event,
        .ud = &h,
    };
    rc = xt_cli_session_errand(a, &p);
    for (size_t i = 0; i < h.n; i++)
        free(h.lines[i].text);
    free(h.lines);
    xt_cli_json_free(&h.json);
    free(h.peer);
    return rc;
}
