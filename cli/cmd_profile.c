/*
 * xtalk profile [--name N] [--nick N] [--email E] [--url U] [--note T]
 * [--json]: our own profile, as contacts see it (`xtalk info` on our JID
 * from their side): the vCard (XEP-0054) and the published nickname
 * (XEP-0172 over PEP).
 *
 * Both are fetched first, in parallel. Without options they are printed.
 * With options the vCard is published again with the changes (a set
 * replaces the whole card, XEP-0054 §3.3: the fetched one is the base,
 * so what xtalk does not edit survives), and --nick also goes to the PEP
 * nickname node (access model presence). The run ends when the server
 * has answered every request; the first failure decides the exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "report.h"
#include "sanitize.h"
#include "session.h"
#include "xtalk/im.h"

/* The vCard fields shown, by path (xt_vcard_field) and label. */
static const struct {
    const char *path, *label;
} vfields[] = {
    {"FN", "name"},         {"NICKNAME", "vcard_nickname"}, {"EMAIL/USERID", "email"},
    {"URL", "url"},         {"NOTE", "note"},
};
#define NV (sizeof vfields / sizeof vfields[0])

struct profile {
    const xt_cli_args *a;
    xt_cli_session *s;
    int setting; /* an option asks for a change */
    int started;
    int pending; /* requests not answered yet */
    xt_stanza *vcard; /* the fetched card (an iq result), NULL when none */
    int vcard_done, nick_done;
    char *nick; /* the published nickname */
    char *vals[NV];
};

static int setting(const xt_cli_args *a)
{
    return a->profile_name || a->nick || a->profile_email || a->profile_url ||
           a->profile_note;
}

static void put_field(const char *label, const char *v)
{
    if (!v)
        return;
    printf("  %s: ", label);
    xt_cli_put_sanitized(stdout, v);
    putchar('\n');
}

static void print_profile(struct profile *p)
{
    const char *jid = xt_conn_bound_jid(xt_cli_session_conn(p->s));
    char bare[512];
    snprintf(bare, sizeof bare, "%s", jid ? jid : "?");
    char *slash = strchr(bare, '/');
    if (slash)
        *slash = '\0';
    if (p->a->json) {
        xt_cli_json j;
        xt_cli_json_init(&j);
        xt_cli_json_obj(&j, NULL);
        xt_cli_json_str(&j, "jid", bare);
        xt_cli_json_str(&j, "nickname", p->nick);
        for (size_t i = 0; i < NV; i++)
            xt_cli_json_str(&j, vfields[i].label, p->vals[i]);
        xt_cli_json_end(&j);
        (void)xt_cli_json_write_line(&j, stdout);
        xt_cli_json_free(&j);
        return;
    }
    xt_cli_put_sanitized(stdout, bare);
    putchar('\n');
    put_field("nickname", p->nick);
    for (size_t i = 0; i < NV; i++)
        put_field(vfields[i].label, p->vals[i]);
    if (!p->nick && !p->vcard)
        puts("  (nothing published; set it with --name, --nick, --email, --url, --note)");
}

static void maybe_done(struct profile *p)
{
    if (p->pending > 0 || xt_cli_session_finishing(p->s))
        return;
    if (!p->setting)
        print_profile(p);
    else if (!p->a->json)
        puts("profile published");
    xt_cli_session_finish_printed(p->s, 1, "profile");
}

static void on_published(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    struct profile *p = ud;
    (void)c;
    p->pending--;
    if (status) {
        xt_cli_session_iq_failed(p->s, "profile: publishing failed", status, reply);
        return;
    }
    maybe_done(p);
}

/* Both fetches answered: publish what the options change. */
static void publish(struct profile *p)
{
    xt_conn *c = xt_cli_session_conn(p->s);
    const xt_cli_args *a = p->a;
    int rc = 0;
    if (a->profile_name || a->nick || a->profile_email || a->profile_url ||
        a->profile_note) {
        xt_vcard_update u = {.fn = a->profile_name,
                             .nickname = a->nick,
                             .email = a->profile_email,
                             .url = a->profile_url,
                             .note = a->profile_note};
        rc = xt_conn_vcard_publish(c, p->vcard, &u, on_published, p);
        if (rc == 0)
            p->pending++;
    }
    /* --nick is never empty (args.c: shared with group chat). */
    if (rc == 0 && a->nick && *a->nick) {
        rc = xt_conn_nick_publish(c, a->nick, on_published, p);
        if (rc == 0)
            p->pending++;
    }
    if (rc < 0) {
        xt_cli_session_fail(p->s, rc == XT_EINVAL ? XT_CLI_EXIT_USAGE : xt_cli_exit_for(rc, 1),
                            "profile: cannot publish: %s%s", xt_strerror(rc),
                            rc == XT_EINVAL ? " (a value that is not valid text)" : "");
        return;
    }
    maybe_done(p);
}

static void fetched(struct profile *p)
{
    if (!p->vcard_done || !p->nick_done)
        return;
    if (p->setting)
        publish(p);
    else
        maybe_done(p);
}

static void on_vcard(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    struct profile *p = ud;
    (void)c;
    p->pending--;
    p->vcard_done = 1;
    /* XT_ESTANZA: no vCard yet (item-not-found) or none kept: start empty. */
    if (status && status != XT_ESTANZA) {
        xt_cli_session_iq_failed(p->s, "profile: cannot read your vCard", status, reply);
        return;
    }
    if (status == 0 && reply) {
        p->vcard = xt_stanza_copy(reply);
        for (size_t i = 0; i < NV; i++) {
            const char *v = xt_vcard_field(reply, vfields[i].path);
            p->vals[i] = v ? strdup(v) : NULL;
        }
        if (!p->vcard) {
            xt_cli_session_fail(p->s, XT_CLI_EXIT_ERROR, "profile: out of memory");
            return;
        }
    }
    fetched(p);
}

static void on_nick(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    struct profile *p = ud;
    (void)c;
    p->pending--;
    p->nick_done = 1;
    /* An error is "no nickname node" (item-not-found) on every server. */
    const char *n = status == 0 ? xt_nick_of(reply) : NULL;
    p->nick = n ? strdup(n) : NULL;
    fetched(p);
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct profile *p = ud;
    xt_conn *c = xt_cli_session_conn(s);
    p->s = s;
    if (p->started)
        return;
    p->started = 1;
    int rc = xt_conn_vcard_fetch(c, NULL, on_vcard, p);
    if (rc == 0) {
        p->pending++;
        rc = xt_conn_nick_fetch(c, NULL, on_nick, p);
    }
    if (rc == 0)
        p->pending++;
    if (rc < 0)
        xt_cli_session_fail(s, xt_cli_exit_for(rc, 1), "profile: cannot query: %s",
                            xt_strerror(rc));
}

int xt_cli_cmd_profile(const xt_cli_args *a)
{
    struct profile p = {.a = a, .setting = setting(a)};
    xt_cli_session_params sp = {
        /* Requests about ourselves: no roster, no presence. */
        .conn_flags = XT_CONN_NO_ROSTER | XT_CONN_NO_PRESENCE,
        .interrupt_exit = XT_CLI_EXIT_ERROR,
        .reconnect = XT_CLI_RECONNECT_LOGIN,
        .on_online = on_online,
        .ud = &p,
    };
    int rc = xt_cli_session_errand(a, &sp);
    xt_stanza_free(p.vcard);
    for (size_t i = 0; i < NV; i++)
        free(p.vals[i]);
    free(p.nick);
    return rc;
}
