/* The contacts: roster items with their presence, grouped and sorted. */
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "xtalk/pep.h"
#include "../outbox.h"

#define NO_GROUP "Contacts"

const char *xt_chat_show_symbol(int show)
{
    switch (show) {
    case XT_SHOW_AVAILABLE:
        return "+";
    case XT_SHOW_CHAT:
        return "*";
    case XT_SHOW_AWAY:
        return "~";
    case XT_SHOW_XA:
        return "%";
    case XT_SHOW_DND:
        return "!";
    default:
        return "-";
    }
}

const char *xt_chat_show_name(int show)
{
    static const char *const n[] = {"available", "chat", "away", "xa", "dnd", "offline"};
    return show >= 0 && show <= XT_SHOW_UNAVAILABLE ? n[show] : "offline";
}

static void contact_free(xt_chat_contact *k)
{
    free(k->jid);
    free(k->name);
    free(k->group);
    free(k->status);
    free(k->sub);
}

void xt_chat_roster_free(xt_chat *c)
{
    for (size_t i = 0; i < c->ncontacts; i++)
        contact_free(&c->contacts[i]);
    free(c->contacts);
    c->contacts = NULL;
    c->ncontacts = 0;
}

xt_chat_contact *xt_chat_contact_find(xt_chat *c, const char *bare)
{
    for (size_t i = 0; i < c->ncontacts; i++)
        if (strcmp(c->contacts[i].jid, bare) == 0)
            return &c->contacts[i];
    return NULL;
}

/* --- names ------------------------------------------------------------------ */

/* At most this many vCards asked for per run: the roster's contacts and
 * the peers of open windows, not every JID a server could name. */
#define FN_MAX 1024

static struct xt_chat_fn *fn_find(xt_chat *c, const char *bare)
{
    for (size_t i = 0; i < c->nfns; i++)
        if (strcmp(c->fns[i].jid, bare) == 0)
            return &c->fns[i];
    return NULL;
}

/* A vCard answer (XEP-0054): keyed by the answer's 'from' (the bare JID
 * asked), so nothing is allocated per request; one without (a timeout)
 * leaves the JID as its name. */
static void on_vcard(xt_conn *conn, int status, const xt_stanza *reply, void *ud)
{
    xt_chat *c = ud;
    (void)conn;
    const char *from = reply ? xt_stanza_attr(reply, "from") : NULL;
    char *bare = from ? xt_cli_bare(from, NULL) : NULL;
    struct xt_chat_fn *f = bare ? fn_find(c, bare) : NULL;
    const char *fn = status == 0 ? xt_vcard_field(reply, "FN") : NULL;
    if (f && fn && !f->fn && (f->fn = strdup(fn)))
        c->dirty = 1;
    free(bare);
}

/* Asks for bare's vCard once per run (when online). */
static void fn_fetch(xt_chat *c, const char *bare)
{
    if (!c->online || !c->conn || c->nfns >= FN_MAX || strcmp(bare, c->account) == 0)
        return;
    struct xt_chat_fn *v = realloc(c->fns, (c->nfns + 1) * sizeof *v);
    if (!v)
        return;
    c->fns = v;
    char *jid = strdup(bare);
    if (!jid)
        return;
    if (xt_conn_vcard_fetch(c->conn, jid, on_vcard, c) != 0) {
        free(jid);
        return;
    }
    c->fns[c->nfns++] = (struct xt_chat_fn){.jid = jid};
}

const char *xt_chat_display_name(xt_chat *c, const char *bare)
{
    /* The name the user gave (the roster) comes first; what a contact
     * calls itself is a claim (XEP-0172 §6), shown only without one. */
    const xt_chat_contact *k = xt_chat_contact_find(c, bare);
    if (k && k->name)
        return k->name;
    const char *nick = c->conn ? xt_conn_nick(c->conn, bare) : NULL;
    if (nick)
        return nick;
    const struct xt_chat_fn *f = fn_find(c, bare);
    if (!f)
        fn_fetch(c, bare);
    return f && f->fn ? f->fn : bare;
}

void xt_chat_names_free(xt_chat *c)
{
    for (size_t i = 0; i < c->nfns; i++) {
        free(c->fns[i].jid);
        free(c->fns[i].fn);
    }
    free(c->fns);
    c->fns = NULL;
    c->nfns = 0;
}

static int show_of(const char *s)
{
    if (!s)
        return XT_SHOW_AVAILABLE;
    if (strcmp(s, "chat") == 0)
        return XT_SHOW_CHAT;
    if (strcmp(s, "away") == 0)
        return XT_SHOW_AWAY;
    if (strcmp(s, "xa") == 0)
        return XT_SHOW_XA;
    if (strcmp(s, "dnd") == 0)
        return XT_SHOW_DND;
    return XT_SHOW_AVAILABLE;
}

/* The contact's presence: the available resource with the highest
 * priority (RFC 6121 §8.5.2.1.1 picks the same one for delivery). */
static void fill_presence(xt_chat *c, xt_chat_contact *k)
{
    size_t n = xt_conn_presence_count(c->conn, k->jid);
    const xt_presence *best = NULL;

    for (size_t i = 0; i < n; i++) {
        const xt_presence *p = xt_conn_presence_at(c->conn, k->jid, i);
        if (p && (!best || p->priority > best->priority))
            best = p;
    }
    free(k->status);
    k->status = NULL;
    if (!best) {
        k->show = XT_SHOW_UNAVAILABLE;
        return;
    }
    k->show = show_of(best->show);
    if (best->status && *best->status)
        k->status = strdup(best->status);
}

static int cmp_contact(const void *a, const void *b)
{
    const xt_chat_contact *x = a, *y = b;
    int g = strcmp(x->group, y->group);
    if (g)
        return g;
    return strcmp(x->name ? x->name : x->jid, y->name ? y->name : y->jid);
}

void xt_chat_roster_rebuild(xt_chat *c)
{
    size_t n = c->conn ? xt_conn_roster_count(c->conn) : 0, m = 0;
    xt_chat_contact *ks;

    if (!c->conn)
        return;
    ks = calloc(n ? n : 1, sizeof *ks);
    if (!ks)
        return;
    for (size_t i = 0; i < n; i++) {
        const xt_roster_item *it = xt_conn_roster_item(c->conn, i);
        if (!it || (it->subscription && strcmp(it->subscription, "remove") == 0))
            continue;
        xt_chat_contact *k = &ks[m];
        k->jid = strdup(it->jid);
        k->name = it->name && *it->name ? strdup(it->name) : NULL;
        k->group = strdup(it->ngroups > 0 && *it->groups[0] ? it->groups[0] : NO_GROUP);
        k->sub = strdup(it->subscription ? it->subscription : "none");
        k->ask = it->ask != NULL;
        if (!k->jid || !k->group || !k->sub) {
            contact_free(k);
            continue;
        }
        m++;
    }
    for (size_t i = 0; i < m; i++)
        fill_presence(c, &ks[i]);
    qsort(ks, m, sizeof *ks, cmp_contact);
    xt_chat_roster_free(c);
    c->contacts = ks;
    c->ncontacts = m;
    if (c->roster_sel >= m)
        c->roster_sel = m ? m - 1 : 0;
    c->dirty = 1;
}

void xt_chat_roster_presence(xt_chat *c, const char *bare)
{
    xt_chat_contact *k = xt_chat_contact_find(c, bare);
    if (k && c->conn) {
        fill_presence(c, k);
        c->dirty = 1;
    }
}
