/*
 * Group chat bookmarks (xtalk/bookmarks.h): XEP-0402 v1.1 in PEP when the
 * account advertises urn:xmpp:bookmarks:1#compat, else XEP-0048 v1.2 in
 * XEP-0049 private XML storage.
 *
 * Each call is a small chain of IQs held by one request (bm_req):
 *   1. the store: the account's disco#info from login, or asked now;
 *   2. PEP: one items / publish / retract;
 *      private: a get, and for set/remove a set of the rewritten list.
 * Requests sit on c->bm_reqs so xt_conn_free can free those whose IQs
 * will never complete (xt_iq_fn is not called after the free).
 *
 * The private-storage rewrite copies every child of <storage/> it does not
 * replace (<url/> bookmarks, other clients' extensions, passwords), since
 * XEP-0049 §3 stores the namespace's element whole: what we do not write
 * back is lost for every client of the account.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "xtalk/bookmarks.h"
#include "xtalk/disco.h"
#include "xtalk/jid.h"
#include "xtalk/pep.h"

#define XT_NS_PUBSUB_OPTS "http://jabber.org/protocol/pubsub#publish-options"
#define XT_NS_DATA        "jabber:x:data"
/* A list longer than this is cut: a server cannot make us hold more. */
#define MAX_BOOKMARKS 10000

typedef enum bm_op { BM_FETCH, BM_SET, BM_REMOVE } bm_op;

struct xt_bm_req {
    struct xt_bm_req *next;
    bm_op op;
    xt_bookmark_store store;
    char *room, *name, *nick, *password; /* set/remove: owned copies */
    int autojoin;
    xt_bookmarks_fn cb;
    void *ud;
};
typedef struct xt_bm_req bm_req;

const char *xt_bookmark_store_name(xt_bookmark_store s)
{
    return s == XT_BOOKMARKS_PEP ? "pep" : s == XT_BOOKMARKS_PRIVATE ? "private" : "";
}

static void req_free(xt_conn *c, bm_req *r)
{
    for (bm_req **p = &c->bm_reqs; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    xt_free(c->s.mem, r->room);
    xt_free(c->s.mem, r->name);
    xt_free(c->s.mem, r->nick);
    xt_free_secret(c->s.mem, r->password);
    xt_free(c->s.mem, r);
}

void xt_bookmarks_free(xt_conn *c)
{
    while (c->bm_reqs)
        req_free(c, c->bm_reqs);
}

/* Ends the request: the callback gets status and list, then it is freed
 * (the callback may start new requests meanwhile). */
static void finish(xt_conn *c, bm_req *r, int status, const xt_bookmark_list *list)
{
    xt_bookmark_list empty = {.store = r->store};
    if (!status && !list)
        list = &empty;
    xt_bookmarks_fn cb = r->cb;
    void *ud = r->ud;
    req_free(c, r);
    if (cb)
        cb(c, status, status ? NULL : list, ud);
}

/* 1 when an IQ error carries this RFC 6120 §8.3.3 condition. */
static int has_condition(const xt_stanza *reply, const char *cond)
{
    const xt_stanza *e = reply ? xt_stanza_child(reply, "error", NULL) : NULL;
    return e && xt_stanza_child(e, cond, XT_NS_STANZA_ERRORS) != NULL;
}

/* XEP-0402 §3 and XEP-0048 §3.3 write booleans as "true"/"1". */
static int is_true(const char *v)
{
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* --- reading a list --------------------------------------------------------------- */

typedef struct bm_vec {
    xt_bookmark *v;
    size_t n, cap;
} bm_vec;

static int vec_push(xt_conn *c, bm_vec *l, const xt_bookmark *b)
{
    if (!b->room || !*b->room)
        return 0; /* nothing to join: skipped */
    if (l->n >= MAX_BOOKMARKS)
        return 0;
    xt_bookmark *v = xt_grow_array(c->s.mem, l->v, &l->cap, l->n + 1, sizeof *v, 16);
    if (!v)
        return XT_ENOMEM;
    l->v = v;
    l->v[l->n++] = *b;
    return 0;
}

/* A <conference/> of either spec: the same attributes and children. */
static xt_bookmark conference(const xt_stanza *conf, const char *room, const char *ns)
{
    const char *nick = xt_stanza_child_text(conf, "nick", ns);
    const char *pw = xt_stanza_child_text(conf, "password", ns);
    return (xt_bookmark){
        .room = room,
        .name = xt_stanza_attr(conf, "name"),
        .nick = nick && *nick ? nick : NULL,
        .password = pw && *pw ? pw : NULL,
        .autojoin = is_true(xt_stanza_attr(conf, "autojoin")),
    };
}

/* XEP-0402 §3.2: <pubsub><items node><item id=ROOM><conference/>. */
static int parse_pep(xt_conn *c, const xt_stanza *reply, bm_vec *l)
{
    const xt_stanza *ps = reply ? xt_stanza_child(reply, "pubsub", XT_NS_PUBSUB) : NULL;
    const xt_stanza *items = ps ? xt_stanza_child(ps, "items", NULL) : NULL;
    if (!items)
        return XT_EPROTO;
    for (const xt_stanza *it = xt_stanza_first_child(items); it; it = xt_stanza_next_sibling(it)) {
        const xt_stanza *conf = xt_stanza_child(it, "conference", XT_NS_BOOKMARKS);
        if (strcmp(xt_stanza_name(it), "item") || !conf)
            continue;
        xt_bookmark b = conference(conf, xt_stanza_attr(it, "id"), XT_NS_BOOKMARKS);
        int rc = vec_push(c, l, &b);
        if (rc)
            return rc;
    }
    return 0;
}

/* XEP-0049 §3 answer: <query><storage xmlns='storage:bookmarks'>; NULL
 * when it has none. */
static const xt_stanza *private_storage(const xt_stanza *reply)
{
    const xt_stanza *q = reply ? xt_stanza_child(reply, "query", XT_NS_PRIVATE) : NULL;
    return q ? xt_stanza_child(q, "storage", XT_NS_BOOKMARKS_LEGACY) : NULL;
}

static int parse_private(xt_conn *c, const xt_stanza *storage, bm_vec *l)
{
    for (const xt_stanza *ch = xt_stanza_first_child(storage); ch;
         ch = xt_stanza_next_sibling(ch)) {
        if (strcmp(xt_stanza_name(ch), "conference") ||
            strcmp(xt_stanza_ns(ch), XT_NS_BOOKMARKS_LEGACY))
            continue; /* <url/> bookmarks are not rooms */
        xt_bookmark b = conference(ch, xt_stanza_attr(ch, "jid"), XT_NS_BOOKMARKS_LEGACY);
        int rc = vec_push(c, l, &b);
        if (rc)
            return rc;
    }
    return 0;
}

static void finish_list(xt_conn *c, bm_req *r, int rc, bm_vec *l)
{
    xt_bookmark_list list = {.store = r->store, .items = l->n ? l->v : NULL, .n = l->n};
    finish(c, r, rc, &list);
    xt_free(c->s.mem, l->v);
}

/* --- XEP-0402 in PEP -------------------------------------------------------------- */

static void pep_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    bm_req *r = ud;
    if (r->op != BM_FETCH) {
        /* §3.4: retracting what is not there answers item-not-found. */
        if (r->op == BM_REMOVE && status == XT_ESTANZA && has_condition(reply, "item-not-found"))
            status = XT_ENOTFOUND;
        finish(c, r, status, NULL);
        return;
    }
    bm_vec l = {0};
    int rc = status;
    /* No node yet: nobody has bookmarked anything (XEP-0060 §6.5.9.11). */
    if (status == XT_ESTANZA && has_condition(reply, "item-not-found"))
        rc = 0;
    else if (!rc)
        rc = parse_pep(c, reply, &l);
    finish_list(c, r, rc, &l);
}

/* One field of the XEP-0060 §7.1.5 publish-options form. */
static int form_field(xt_stanza *x, const char *var, const char *value)
{
    xt_stanza *f = xt_stanza_add_child(x, "field", NULL);
    if (!f || xt_stanza_set_attr(f, "var", var))
        return XT_ENOMEM;
    if (strcmp(var, "FORM_TYPE") == 0 && xt_stanza_set_attr(f, "type", "hidden"))
        return XT_ENOMEM;
    return xt_stanza_add_text_child(f, "value", NULL, value) ? 0 : XT_ENOMEM;
}

/* Adds <conference/> in ns with r's fields; XEP-0048 also carries jid. */
static int add_conference(xt_stanza *parent, const bm_req *r, const char *ns)
{
    xt_stanza *conf = xt_stanza_add_child(parent, "conference", ns);
    if (!conf)
        return XT_ENOMEM;
    if (strcmp(ns, XT_NS_BOOKMARKS_LEGACY) == 0 && xt_stanza_set_attr(conf, "jid", r->room))
        return XT_ENOMEM;
    if ((r->name && xt_stanza_set_attr(conf, "name", r->name)) ||
        (r->autojoin && xt_stanza_set_attr(conf, "autojoin", "true")) ||
        (r->nick && !xt_stanza_add_text_child(conf, "nick", NULL, r->nick)) ||
        (r->password && !xt_stanza_add_text_child(conf, "password", NULL, r->password)))
        return XT_ENOMEM;
    return 0;
}

static int pep_start(xt_conn *c, bm_req *r)
{
    if (r->op == BM_FETCH)
        return xt_pep_items(c, NULL, XT_NS_BOOKMARKS, 0, pep_done, r);
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *ps = iq ? xt_stanza_add_child(iq, "pubsub", XT_NS_PUBSUB) : NULL;
    int rc = ps && !xt_stanza_set_attr(iq, "type", "set") ? 0 : XT_ENOMEM;
    if (!rc && r->op == BM_REMOVE) {
        /* §3.4: retract with notify, so the account's other clients see
         * the bookmark go. */
        xt_stanza *ret = xt_stanza_add_child(ps, "retract", NULL);
        xt_stanza *item = ret ? xt_stanza_add_child(ret, "item", NULL) : NULL;
        if (!item || xt_stanza_set_attr(ret, "node", XT_NS_BOOKMARKS) ||
            xt_stanza_set_attr(ret, "notify", "true") || xt_stanza_set_attr(item, "id", r->room))
            rc = XT_ENOMEM;
    } else if (!rc) {
        xt_stanza *pub = xt_stanza_add_child(ps, "publish", NULL);
        xt_stanza *item = pub ? xt_stanza_add_child(pub, "item", NULL) : NULL;
        if (!item || xt_stanza_set_attr(pub, "node", XT_NS_BOOKMARKS) ||
            xt_stanza_set_attr(item, "id", r->room))
            rc = XT_ENOMEM;
        if (!rc)
            rc = add_conference(item, r, XT_NS_BOOKMARKS);
        /* §3.3: the node must keep every item, for the account only,
         * and not push the last one at each login. */
        xt_stanza *po = rc ? NULL : xt_stanza_add_child(ps, "publish-options", NULL);
        xt_stanza *x = po ? xt_stanza_add_child(po, "x", XT_NS_DATA) : NULL;
        if (!rc && (!x || xt_stanza_set_attr(x, "type", "submit") ||
                    form_field(x, "FORM_TYPE", XT_NS_PUBSUB_OPTS) ||
                    form_field(x, "pubsub#persist_items", "true") ||
                    form_field(x, "pubsub#max_items", "max") ||
                    form_field(x, "pubsub#send_last_published_item", "never") ||
                    form_field(x, "pubsub#access_model", "whitelist")))
            rc = XT_ENOMEM;
    }
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, pep_done, r);
    xt_stanza_free(iq);
    return rc;
}

/* --- XEP-0048 in XEP-0049 private storage ------------------------------------------- */

static xt_stanza *build_private_get(xt_stanza *iq, const void *arg)
{
    (void)arg;
    xt_stanza *q = xt_stanza_add_child(iq, "query", XT_NS_PRIVATE);
    return q ? xt_stanza_add_child(q, "storage", XT_NS_BOOKMARKS_LEGACY) : NULL;
}

static int same_room(const xt_stanza *ch, const char *room)
{
    const char *jid = xt_stanza_attr(ch, "jid");
    return strcmp(xt_stanza_name(ch), "conference") == 0 &&
           strcmp(xt_stanza_ns(ch), XT_NS_BOOKMARKS_LEGACY) == 0 && jid &&
           xt_jid_str_bare_equal(jid, room);
}

static void private_set_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)reply;
    finish(c, ud, status, NULL);
}

/* XEP-0049 §2.1: the whole <storage/> written back, r's room changed. */
static int private_write(xt_conn *c, bm_req *r, const xt_stanza *old)
{
    int found = 0;
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *q = iq ? xt_stanza_add_child(iq, "query", XT_NS_PRIVATE) : NULL;
    xt_stanza *st = q ? xt_stanza_add_child(q, "storage", XT_NS_BOOKMARKS_LEGACY) : NULL;
    int rc = st && !xt_stanza_set_attr(iq, "type", "set") ? 0 : XT_ENOMEM;
    for (const xt_stanza *ch = old ? xt_stanza_first_child(old) : NULL; ch && !rc;
         ch = xt_stanza_next_sibling(ch)) {
        if (same_room(ch, r->room)) {
            /* The replacement takes the first one's place; duplicates go. */
            if (!found++ && r->op == BM_SET)
                rc = add_conference(st, r, XT_NS_BOOKMARKS_LEGACY);
            continue;
        }
        rc = xt_im_copy_under(st, ch, 0);
    }
    if (!rc && r->op == BM_SET && !found)
        rc = add_conference(st, r, XT_NS_BOOKMARKS_LEGACY);
    if (!rc && r->op == BM_REMOVE && !found)
        rc = XT_ENOTFOUND;
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, private_set_done, r);
    xt_stanza_free(iq);
    return rc;
}

static void private_get_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    bm_req *r = ud;
    const xt_stanza *st = status ? NULL : private_storage(reply);
    if (!status && !st) {
        /* A server answers with what it stored, which may be nothing
         * (XEP-0049 §2.2 returns the empty element; some omit it). */
        const xt_stanza *q = reply ? xt_stanza_child(reply, "query", XT_NS_PRIVATE) : NULL;
        if (!q)
            status = XT_EPROTO;
    }
    if (r->op == BM_FETCH || status) {
        bm_vec l = {0};
        int rc = status ? status : st ? parse_private(c, st, &l) : 0;
        finish_list(c, r, rc, &l);
        return;
    }
    int rc = private_write(c, r, st);
    if (rc)
        finish(c, r, rc, NULL);
}

/* --- choosing the store ------------------------------------------------------------- */

static int store_start(xt_conn *c, bm_req *r, const xt_disco_info *acct)
{
    r->store = xt_disco_has_feature(acct, XT_NS_BOOKMARKS_COMPAT) ? XT_BOOKMARKS_PEP
                                                                  : XT_BOOKMARKS_PRIVATE;
    if (r->store == XT_BOOKMARKS_PEP)
        return pep_start(c, r);
    return xt_im_query(c, NULL, 0, build_private_get, NULL, private_get_done, r);
}

static void on_account_info(xt_conn *c, int status, const xt_disco_info *info, void *ud)
{
    bm_req *r = ud;
    /* An account that cannot say what it has has no PEP bookmarks:
     * XEP-0048 storage is the one every server of old keeps. */
    int rc = store_start(c, r, status ? NULL : info);
    if (rc)
        finish(c, r, rc, NULL);
}

static int start(xt_conn *c, bm_op op, const xt_bookmark *b, const char *room, xt_bookmarks_fn cb,
                 void *ud)
{
    if (!c)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    bm_req *r = xt_calloc(c->s.mem, 1, sizeof *r);
    if (!r)
        return XT_ENOMEM;
    r->op = op;
    r->cb = cb;
    r->ud = ud;
    int rc = 0;
    if (op != BM_FETCH) {
        /* The room is the item id and the jid attribute: a bare JID,
         * prepared, so one room is one bookmark however it was typed. */
        xt_jid *j = NULL;
        rc = room && xt_jid_parse(c->s.mem, room, &j, NULL) == 0 ? 0 : XT_EINVAL;
        if (!rc && (xt_jid_resource(j) || !xt_jid_local(j)))
            rc = XT_EINVAL;
        if (!rc && !(r->room = xt_strdup(c->s.mem, xt_jid_bare(j))))
            rc = XT_ENOMEM;
        xt_jid_free(j);
    }
    if (!rc && b) {
        if ((b->name && !xt_im_text_ok(b->name)) || (b->nick && !xt_im_text_ok(b->nick)) ||
            (b->password && !xt_im_text_ok(b->password)))
            rc = XT_EINVAL;
        else if ((b->name && !(r->name = xt_strdup(c->s.mem, b->name))) ||
                 (b->nick && !(r->nick = xt_strdup(c->s.mem, b->nick))) ||
                 (b->password && !(r->password = xt_strdup(c->s.mem, b->password))))
            rc = XT_ENOMEM;
        r->autojoin = b->autojoin != 0;
    }
    if (!rc) {
        const xt_disco_info *acct = xt_conn_account_info(c);
        xt_jid *own = NULL;
        if (acct)
            rc = store_start(c, r, acct);
        else if (!(rc = xt_jid_parse(c->s.mem, xt_conn_bound_jid(c), &own, NULL)))
            /* The account answers at its bare JID (XEP-0030 §3.1). */
            rc = xt_disco_info_query(c, xt_jid_bare(own), NULL, on_account_info, r);
        xt_jid_free(own);
    }
    if (rc) {
        xt_free(c->s.mem, r->room);
        xt_free(c->s.mem, r->name);
        xt_free(c->s.mem, r->nick);
        xt_free_secret(c->s.mem, r->password);
        xt_free(c->s.mem, r);
        return rc;
    }
    r->next = c->bm_reqs;
    c->bm_reqs = r;
    return 0;
}

int xt_bookmarks_fetch(xt_conn *c, xt_bookmarks_fn cb, void *ud)
{
    return start(c, BM_FETCH, NULL, NULL, cb, ud);
}

int xt_bookmarks_set(xt_conn *c, const xt_bookmark *b, xt_bookmarks_fn cb, void *ud)
{
    if (!b)
        return XT_EINVAL;
    return start(c, BM_SET, b, b->room, cb, ud);
}

int xt_bookmarks_remove(xt_conn *c, const char *room, xt_bookmarks_fn cb, void *ud)
{
    return start(c, BM_REMOVE, NULL, room, cb, ud);
}
