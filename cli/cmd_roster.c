/*
 * xtalk roster: the contact list with who is online.
 *
 * The roster result (RFC 6121 §2.1.3) says who the contacts are; their
 * presence comes afterwards, as the server probes them on our initial
 * presence (RFC 6121 §4.3), and nothing marks the end of it. But a
 * server handles a client's stanzas in order (RFC 6120 §10.1: it
 * processes what one stream sends in the order sent): the conn sends
 * the roster query and the initial presence at login, so an IQ sent
 * after them is answered once the server has handled that presence,
 * which for a contact on this server means it has probed the contact
 * and routed its presence to us already. So once online we ping the
 * server (XEP-0199; any answer will do, even an error from a server
 * without ping), and print when both the roster and that answer are in,
 * after a short wait (--wait, roster_wait; default 150 ms, 0 = none)
 * for contacts on other servers, whose presence crosses server-to-server
 * links in no bounded time. Waiting for a quiet period instead (before
 * issue 14: 1,500 ms with no presence) cost every run that long.
 * --timeout bounds it all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uniwidth.h>

#include "commands.h"
#include "json.h"
#include "output.h"
#include "report.h"
#include "sanitize.h"
#include "session.h"

struct roster {
    const xt_cli_args *a;
    xt_cli_session *s;
    unsigned wait_ms; /* after the roster and the ping's answer */
    int have_roster;
    int answered; /* the ping sent once online was answered */
    int settle_timer;
    int bound_timer;
};

static size_t width(const char *s)
{
    int w = u8_strwidth((const uint8_t *)s, "UTF-8");
    return w < 0 ? strlen(s) : (size_t)w;
}

static void pad(FILE *out, const char *s, size_t w)
{
    fputs(s, out);
    for (size_t n = width(s); n < w; n++)
        fputc(' ', out);
}

static char *san(const char *s)
{
    return xt_cli_sanitize(s, strlen(s), XT_CLI_SAN_LINE);
}

static int print_json(xt_conn *c, FILE *out, xt_cli_json *j, const xt_roster_item *it)
{
    xt_cli_json_obj(j, NULL);
    xt_cli_json_str(j, "jid", it->jid);
    xt_cli_json_str(j, "name", it->name);
    xt_cli_json_str(j, "subscription", xt_cli_subscription(it->subscription));
    xt_cli_json_str(j, "ask", it->ask ? "subscribe" : NULL); /* RFC 6121 §2.1.2.2 */
    xt_cli_json_arr(j, "groups");
    for (size_t g = 0; g < it->ngroups; g++)
        xt_cli_json_str(j, NULL, it->groups[g]);
    xt_cli_json_end(j);
    xt_cli_json_arr(j, "resources");
    /* `it` is only valid until the next call into c: keep its JID. */
    char *jid = it->jid ? strdup(it->jid) : NULL;
    if (!jid)
        j->failed = 1;
    size_t np = jid ? xt_conn_presence_count(c, jid) : 0;
    for (size_t r = 0; r < np; r++) {
        const xt_presence *p = xt_conn_presence_at(c, jid, r);
        if (!p)
            continue;
        xt_cli_json_obj(j, NULL);
        xt_cli_json_str(j, "jid", p->from);
        xt_cli_json_str(j, "show", xt_cli_presence_show(p->show));
        xt_cli_json_str(j, "status", p->status);
        xt_cli_json_int(j, "priority", p->priority);
        xt_cli_json_end(j);
    }
    free(jid);
    xt_cli_json_end(j);
    xt_cli_json_end(j);
    return xt_cli_json_write_line(j, out);
}

/* Human form: aligned JID, NAME, SUBSCRIPTION, GROUPS columns, then one
 * indented line per online resource. */
static int print_table(xt_conn *c, FILE *out)
{
    size_t n = xt_conn_roster_count(c);
    size_t wj = strlen("JID"), wn = strlen("NAME"), ws = strlen("SUBSCRIPTION");
    char **cells = calloc(n * 4 + 1, sizeof *cells);
    if (!cells)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const xt_roster_item *it = xt_conn_roster_item(c, i);
        size_t glen = 1;
        for (size_t g = 0; it && g < it->ngroups; g++)
            glen += strlen(it->groups[g]) + 1;
        char *groups = malloc(glen);
        if (!groups || !it) {
            free(groups);
            rc = -1;
            break;
        }
        groups[0] = '\0';
        for (size_t g = 0; g < it->ngroups; g++) {
            if (g)
                strcat(groups, ",");
            strcat(groups, it->groups[g]);
        }
        char sub[64];
        snprintf(sub, sizeof sub, "%s%s", xt_cli_subscription(it->subscription),
                 it->ask ? " (asked)" : "");
        cells[i * 4] = san(it->jid ? it->jid : "?");
        cells[i * 4 + 1] = san(it->name ? it->name : "-");
        cells[i * 4 + 2] = san(sub);
        cells[i * 4 + 3] = san(groups[0] ? groups : "-");
        free(groups);
        for (int k = 0; k < 4; k++)
            if (!cells[i * 4 + (size_t)k])
                rc = -1;
        if (rc == 0) {
            if (width(cells[i * 4]) > wj)
                wj = width(cells[i * 4]);
            if (width(cells[i * 4 + 1]) > wn)
                wn = width(cells[i * 4 + 1]);
            if (width(cells[i * 4 + 2]) > ws)
                ws = width(cells[i * 4 + 2]);
        }
    }
    if (rc == 0 && n > 0) {
        pad(out, "JID", wj + 2);
        pad(out, "NAME", wn + 2);
        pad(out, "SUBSCRIPTION", ws + 2);
        fputs("GROUPS\n", out);
        for (size_t i = 0; i < n; i++) {
            const xt_roster_item *it = xt_conn_roster_item(c, i);
            /* `it` is only valid until the next call into c: keep its JID. */
            char *jid = it && it->jid ? strdup(it->jid) : NULL;
            pad(out, cells[i * 4], wj + 2);
            pad(out, cells[i * 4 + 1], wn + 2);
            pad(out, cells[i * 4 + 2], ws + 2);
            fputs(cells[i * 4 + 3], out);
            fputc('\n', out);
            size_t np = jid ? xt_conn_presence_count(c, jid) : 0;
            for (size_t r = 0; r < np; r++) {
                const xt_presence *p = xt_conn_presence_at(c, jid, r);
                if (!p)
                    continue;
                fputs("  ", out);
                xt_cli_put_sanitized(out, p->from ? p->from : "?");
                fputs("  ", out);
                xt_cli_put_sanitized(out, xt_cli_show_word(p));
                fprintf(out, "  priority %d", p->priority);
                if (p->status) {
                    fputs("  ", out);
                    xt_cli_put_sanitized(out, p->status);
                }
                fputc('\n', out);
            }
            free(jid);
        }
    }
    for (size_t i = 0; i < n * 4; i++)
        free(cells[i]);
    free(cells);
    return rc;
}

static void print_and_finish(xt_cli_session *s, struct roster *r)
{
    xt_conn *c = xt_cli_session_conn(s);
    xt_loop *loop = xt_cli_session_loop(s);
    int rc = 0;

    if (r->settle_timer > 0)
        xt_loop_cancel_timer(loop, r->settle_timer);
    if (r->bound_timer > 0)
        xt_loop_cancel_timer(loop, r->bound_timer);
    r->settle_timer = r->bound_timer = 0;

    if (r->a->json) {
        xt_cli_json j;
        xt_cli_json_init(&j);
        size_t n = xt_conn_roster_count(c);
        for (size_t i = 0; i < n; i++) {
            const xt_roster_item *it = xt_conn_roster_item(c, i);
            if (it && print_json(c, stdout, &j, it) != 0)
                rc = -1;
        }
        xt_cli_json_free(&j);
    } else {
        rc = print_table(c, stdout);
    }
    if (fflush(stdout) == EOF || ferror(stdout))
        rc = -1;
    if (rc != 0)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "roster: cannot print the roster");
    else
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

static void on_settled(xt_loop *loop, void *ud)
{
    struct roster *r = ud;
    (void)loop;
    r->settle_timer = 0;
    print_and_finish(r->s, r);
}

static void on_bound(xt_loop *loop, void *ud)
{
    struct roster *r = ud;
    (void)loop;
    r->bound_timer = 0;
    if (!r->have_roster)
        xt_cli_session_fail(r->s, XT_CLI_EXIT_TIMEOUT,
                            "roster: the server did not send the roster within %u s; raise "
                            "--timeout or try again",
                            r->a->timeout_s);
    else
        print_and_finish(r->s, r); /* the ping went unanswered: print what we have */
}

/* Both the roster and the ping's answer are in: local contacts' presence
 * came before that answer; wait_ms more for remote ones. */
static void maybe_done(struct roster *r)
{
    if (!r->have_roster || !r->answered || r->settle_timer > 0 || xt_cli_session_finishing(r->s))
        return;
    if (r->wait_ms == 0) {
        print_and_finish(r->s, r);
        return;
    }
    r->settle_timer = xt_loop_add_timer(xt_cli_session_loop(r->s), r->wait_ms, on_settled, r);
    if (r->settle_timer < 0)
        xt_cli_session_fail(r->s, XT_CLI_EXIT_ERROR, "roster: out of memory");
}

static void on_answer(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    struct roster *r = ud;
    (void)c;
    (void)reply;
    /* A result, an error (a server without XEP-0199 answers
     * service-unavailable, still in order) or no answer in time: the
     * server has handled our presence, or will not say. The stream's
     * end (XT_ECLOSED) is the session's to report. */
    if (status == XT_ECLOSED)
        return;
    r->answered = 1;
    maybe_done(r);
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct roster *r = ud;
    xt_conn *c = xt_cli_session_conn(s);

    r->s = s;
    r->have_roster = xt_conn_roster_loaded(c);
    r->answered = 0;
    if (r->bound_timer <= 0)
        r->bound_timer = xt_loop_add_timer(xt_cli_session_loop(s), (uint64_t)r->a->timeout_s * 1000,
                                           on_bound, r);
    /* Sent behind the initial presence the conn sent at login. */
    int rc = xt_conn_ping(c, NULL, on_answer, r);
    if (r->bound_timer < 0 || rc < 0)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "roster: cannot ask the server: %s",
                            xt_strerror(rc < 0 ? rc : XT_ENOMEM));
}

static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    struct roster *r = ud;
    (void)s;

    if (ev->type == XT_EV_ROSTER && ev->u.roster.loaded && !r->have_roster) {
        r->have_roster = 1;
        maybe_done(r);
    }
}

int xt_cli_cmd_roster(const xt_cli_args *a)
{
    struct roster r = {.a = a};
    xt_cli_account acct;
    /* The store only speeds the login up (the SASL hint): optional. */
    int rc = xt_cli_account_open(a, 1, 0, &acct);

    if (rc == 0) {
        r.wait_ms = acct.set.roster_wait_ms;
        xt_cli_session_params p = {
            /* Presence makes the server probe the contacts (RFC 6121
             * §4.3); priority -1 keeps messages and offline storage away. */
            .priority = -1,
            .interrupt_exit = XT_CLI_EXIT_ERROR,
            .reconnect = XT_CLI_RECONNECT_LOGIN,
            .on_online = on_online,
            .on_event = on_event,
            .ud = &r,
        };
        rc = xt_cli_session_run(&acct, &p);
    }
    xt_cli_account_close(&acct);
    return rc;
}
