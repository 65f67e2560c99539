/*
 * xtalk info JID: what can be known about a contact: its vCard name
 * (XEP-0054), its published nickname (XEP-0172), its online resources
 * (presence) and, for each, the client's identity and features (XEP-0030
 * disco#info; "caps verified" when the library checked its XEP-0115
 * caps against them).
 *
 * The queries go out in parallel once online; presence is collected
 * until it has been quiet for --wait ms (as `xtalk roster` does: the
 * server's answers to its probes have no end marker).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "report.h"
#include "sanitize.h"
#include "session.h"
#include "xtalk/disco.h"
#include "xtalk/im.h"

/* The vCard fields shown, by path (xt_vcard_field). */
static const struct {
    const char *path, *label;
} vfields[] = {
    {"FN", "name"},     {"NICKNAME", "vcard_nickname"}, {"ORG/ORGNAME", "organization"},
    {"TITLE", "title"}, {"EMAIL/USERID", "email"},      {"URL", "url"},
    {"NOTE", "note"},
};
#define NV (sizeof vfields / sizeof vfields[0])

/* One online resource's client, from its disco#info (XEP-0030). */
struct res {
    char *jid;
    char *identity; /* "category/type: name", the first identity */
    char **features;
    size_t nfeatures;
    int status; /* of the query; 1 = not asked */
    int caps;   /* its XEP-0115 caps were verified by the library */
    struct info *n;
};

struct info {
    const xt_cli_args *a;
    struct res *res;
    size_t nres;
    xt_cli_session *s;
    char *jid; /* bare, normalized */
    char *vcard[NV];
    char *nick;
    int vcard_status, nick_status;
    int pending; /* queries not answered yet */
    int quiet;   /* presence has been quiet for --wait */
    int quiet_timer;
    int printed;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void put_field(const char *label, const char *v)
{
    if (!v)
        return;
    printf("  %s: ", label);
    xt_cli_put_sanitized(stdout, v);
    putchar('\n');
}

static const struct res *res_of(const struct info *n, const char *jid)
{
    for (size_t i = 0; i < n->nres; i++)
        if (strcmp(n->res[i].jid, jid) == 0)
            return &n->res[i];
    return NULL;
}

static void print_human(struct info *n, xt_conn *c)
{
    xt_cli_put_sanitized(stdout, n->jid);
    putchar('\n');
    for (size_t i = 0; i < NV; i++)
        put_field(vfields[i].label, n->vcard[i]);
    put_field("nickname", n->nick);
    if (n->vcard_status && n->vcard_status != XT_ESTANZA)
        printf("  vcard: not available (%s)\n", xt_strerror(n->vcard_status));
    size_t np = xt_conn_presence_count(c, n->jid);
    if (np == 0)
        printf("  resources: none online (or its presence is not visible to you)\n");
    for (size_t i = 0; i < np; i++) {
        const xt_presence *p = xt_conn_presence_at(c, n->jid, i);
        printf("  resource ");
        xt_cli_put_sanitized(stdout, p->from);
        printf(": %s, priority %d", p->show ? p->show : "available", p->priority);
        if (p->status) {
            printf(", status ");
            xt_cli_put_sanitized(stdout, p->status);
        }
        putchar('\n');
        const struct res *r = res_of(n, p->from);
        if (r && r->status == 0) {
            printf("    client: ");
            xt_cli_put_sanitized(stdout, r->identity ? r->identity : "(no identity)");
            printf("%s\n    features:", r->caps ? " (caps verified)" : "");
            for (size_t k = 0; k < r->nfeatures; k++) {
                putchar(' ');
                xt_cli_put_sanitized(stdout, r->features[k]);
            }
            putchar('\n');
        } else if (r && r->status < 0) {
            printf("    client: no answer to disco#info (%s)\n", xt_strerror(r->status));
        }
    }
}

static void print_json(struct info *n, xt_conn *c)
{
    xt_cli_json j;
    xt_cli_json_init(&j);
    xt_cli_json_obj(&j, NULL);
    xt_cli_json_str(&j, "jid", n->jid);
    for (size_t i = 0; i < NV; i++)
        xt_cli_json_str(&j, vfields[i].label, n->vcard[i]);
    xt_cli_json_str(&j, "nickname", n->nick);
    xt_cli_json_arr(&j, "resources");
    size_t np = xt_conn_presence_count(c, n->jid);
    for (size_t i = 0; i < np; i++) {
        const xt_presence *p = xt_conn_presence_at(c, n->jid, i);
        xt_cli_json_obj(&j, NULL);
        xt_cli_json_str(&j, "jid", p->from);
        xt_cli_json_str(&j, "show", p->show ? p->show : "available");
        xt_cli_json_int(&j, "priority", p->priority);
        xt_cli_json_str(&j, "status", p->status);
        const struct res *r = res_of(n, p->from);
        if (r && r->status == 0) {
            xt_cli_json_str(&j, "identity", r->identity);
            xt_cli_json_bool(&j, "caps_verified", r->caps);
            xt_cli_json_arr(&j, "features");
            for (size_t k = 0; k < r->nfeatures; k++)
                xt_cli_json_str(&j, NULL, r->features[k]);
            xt_cli_json_end(&j);
        }
        xt_cli_json_end(&j);
    }
    xt_cli_json_end(&j);
    xt_cli_json_end(&j);
    (void)xt_cli_json_write_line(&j, stdout);
    xt_cli_json_free(&j);
}

static void maybe_done(struct info *n)
{
    if (n->printed || n->pending > 0 || !n->quiet)
        return;
    n->printed = 1;
    xt_conn *c = xt_cli_session_conn(n->s);
    if (n->a->json)
        print_json(n, c);
    else
        print_human(n, c);
    xt_cli_session_finish_printed(n->s, 1, "info");
}

static void on_vcard(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    struct info *n = ud;
    (void)c;
    n->pending--;
    n->vcard_status = status;
    for (size_t i = 0; status == 0 && i < NV; i++)
        n->vcard[i] = dup_or_null(xt_vcard_field(reply, vfields[i].path));
    maybe_done(n);
}

static void on_nick(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    struct info *n = ud;
    (void)c;
    n->pending--;
    n->nick_status = status;
    if (status == 0)
        n->nick = dup_or_null(xt_nick_of(reply));
    maybe_done(n);
}

static void on_disco(xt_conn *c, int status, const xt_disco_info *info, void *ud)
{
    struct res *r = ud;
    struct info *n = r->n;
    n->pending--;
    r->status = status;
    if (status == 0 && info) {
        if (info->nidentities > 0) {
            const xt_disco_identity *id = &info->identities[0];
            size_t len =
                strlen(id->category) + strlen(id->type) + (id->name ? strlen(id->name) : 0) + 4;
            if ((r->identity = malloc(len)))
                snprintf(r->identity, len, "%s/%s%s%s", id->category, id->type,
                         id->name ? ": " : "", id->name ? id->name : "");
        }
        if (info->nfeatures && (r->features = calloc(info->nfeatures, sizeof *r->features)))
            for (size_t k = 0; k < info->nfeatures; k++)
                if ((r->features[r->nfeatures] = strdup(info->features[k])))
                    r->nfeatures++;
    }
    const char *const *f = NULL;
    r->caps = xt_conn_caps_features(c, r->jid, &f) > 0;
    maybe_done(n);
}

/* Presence settled: ask each online resource what client it is. */
static void query_resources(struct info *n)
{
    xt_conn *c = xt_cli_session_conn(n->s);
    size_t np = xt_conn_presence_count(c, n->jid);
    if (np == 0 || !(n->res = calloc(np, sizeof *n->res)))
        return;
    for (size_t i = 0; i < np; i++) {
        const xt_presence *p = xt_conn_presence_at(c, n->jid, i);
        struct res *r = &n->res[n->nres];
        if (!(r->jid = strdup(p->from)))
            break;
        r->n = n;
        r->status = 1;
        n->nres++;
        if (xt_disco_info_query(c, r->jid, NULL, on_disco, r) == 0)
            n->pending++;
    }
}

static void on_quiet(xt_loop *loop, void *ud)
{
    struct info *n = ud;
    (void)loop;
    n->quiet_timer = 0;
    n->quiet = 1;
    query_resources(n);
    maybe_done(n);
}

static void restart_quiet(struct info *n)
{
    xt_loop *loop = xt_cli_session_loop(n->s);
    if (n->quiet_timer > 0)
        xt_loop_cancel_timer(loop, n->quiet_timer);
    n->quiet_timer = xt_loop_add_timer(loop, n->a->wait_ms, on_quiet, n);
    if (n->quiet_timer < 0)
        xt_cli_session_fail(n->s, XT_CLI_EXIT_ERROR, "info: out of memory");
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct info *n = ud;
    xt_conn *c = xt_cli_session_conn(s);
    n->s = s;
    if (n->pending == 0 && !n->printed) {
        int rc = xt_conn_vcard_fetch(c, n->jid, on_vcard, n);
        if (rc == 0) {
            n->pending++;
            rc = xt_conn_nick_fetch(c, n->jid, on_nick, n);
        }
        if (rc == 0)
            n->pending++;
        if (rc < 0) {
            xt_cli_session_fail(s, xt_cli_exit_for(rc, 1), "info: cannot query %s: %s", n->jid,
                                xt_strerror(rc));
            return;
        }
    }
    restart_quiet(n);
}

static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    struct info *n = ud;
    (void)s;
    if (ev->type == XT_EV_PRESENCE && !n->quiet)
        restart_quiet(n);
}

int xt_cli_cmd_info(const xt_cli_args *a)
{
    struct info n = {.a = a};
    int rc = xt_cli_check_target("info", a->target, 1, &n.jid);
    if (rc == 0) {
        xt_cli_session_params p = {
            /* Presence makes the server probe the contacts (RFC 6121
             * §4.3); priority -1 keeps messages away. */
            .priority = -1,
            .interrupt_exit = XT_CLI_EXIT_ERROR,
            .reconnect = XT_CLI_RECONNECT_LOGIN,
            .on_online = on_online,
            .on_event = on_event,
            .ud = &n,
        };
        rc = xt_cli_session_errand(a, &p);
    }
    for (size_t i = 0; i < n.nres; i++) {
        for (size_t k = 0; k < n.res[i].nfeatures; k++)
            free(n.res[i].features[k]);
        free(n.res[i].features);
        free(n.res[i].identity);
        free(n.res[i].jid);
    }
    free(n.res);
    for (size_t i = 0; i < NV; i++)
        free(n.vcard[i]);
    free(n.nick);
    free(n.jid);
    return rc;
}
