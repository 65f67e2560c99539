/*
 * XEP-0030 Service Discovery on the connection: answering disco#info and
 * disco#items about ourselves, querying others (results handed over as
 * parsed structs), the server's info fetched once per session, and our
 * identity/features options. The XEP-0115 hashing is caps.c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"

/* What the library itself implements, announced whatever the application
 * adds (XEP-0030 §3.1: a client MUST list disco#info; XEP-0115 §6.3 caps;
 * XEP-0199 §4 ping, answered by the stream; XEP-0359 §7 stanza ids, which
 * every message we send carries; the message features of im.h:
 * XEP-0184 §6, XEP-0085 §6, XEP-0308 §3, XEP-0444 §2, XEP-0424 §2). */
static const char *const own_features[] = {
    XT_NS_CAPS, XT_NS_DISCO_INFO, XT_NS_DISCO_ITEMS, "urn:xmpp:ping", "urn:xmpp:sid:0",
    "urn:xmpp:receipts", "http://jabber.org/protocol/chatstates", "urn:xmpp:message-correct:0",
    "urn:xmpp:reactions:0", "urn:xmpp:message-retract:1",
};

/* --- parsing ------------------------------------------------------------------- */

void xt_disco_parsed_free(const xt_mem *mem, xt_disco_parsed *p)
{
    xt_free(mem, p->ids);
    xt_free(mem, (void *)p->feats);
    xt_stanza_free(p->tree);
    memset(p, 0, sizeof *p);
}

int xt_disco_parse(const xt_mem *mem, const xt_stanza *query, const char *jid, xt_disco_parsed *p)
{
    memset(p, 0, sizeof *p);
    size_t ni = 0, nf = 0;
    for (const xt_stanza *ch = xt_stanza_first_child(query); ch; ch = xt_stanza_next_sibling(ch)) {
        if (strcmp(xt_stanza_ns(ch), XT_NS_DISCO_INFO) != 0)
            continue;
        if (strcmp(xt_stanza_name(ch), "identity") == 0)
            ni++;
        else if (strcmp(xt_stanza_name(ch), "feature") == 0)
            nf++;
    }
    p->ids = ni ? xt_calloc(mem, ni, sizeof *p->ids) : NULL;
    p->feats = nf ? xt_calloc(mem, nf, sizeof *p->feats) : NULL;
    if ((ni && !p->ids) || (nf && !p->feats)) {
        xt_disco_parsed_free(mem, p);
        return XT_ENOMEM;
    }
    for (const xt_stanza *ch = xt_stanza_first_child(query); ch; ch = xt_stanza_next_sibling(ch)) {
        if (strcmp(xt_stanza_ns(ch), XT_NS_DISCO_INFO) != 0)
            continue;
        const char *name = xt_stanza_name(ch);
        if (strcmp(name, "identity") == 0) {
            /* §3.1: category and type are REQUIRED; one lacking them is
             * not an identity anyone could use. */
            const char *cat = xt_stanza_attr(ch, "category"), *type = xt_stanza_attr(ch, "type");
            if (cat && type)
                p->ids[p->info.nidentities++] = (xt_disco_identity){
                    .category = cat,
                    .type = type,
                    .name = xt_stanza_attr(ch, "name"),
                    .lang = xt_stanza_attr(ch, "xml:lang"),
                };
        } else if (strcmp(name, "feature") == 0) {
            const char *var = xt_stanza_attr(ch, "var");
            if (var)
                p->feats[p->info.nfeatures++] = var;
        }
    }
    p->info.jid = jid;
    p->info.node = xt_stanza_attr(query, "node");
    p->info.identities = p->ids;
    p->info.features = p->feats;
    p->info.query = query;
    return 0;
}

int xt_disco_has_feature(const xt_disco_info *info, const char *var)
{
    if (!info || !var)
        return 0;
    for (size_t i = 0; i < info->nfeatures; i++)
        if (strcmp(info->features[i], var) == 0)
            return 1;
    return 0;
}

/* --- our identity and features -------------------------------------------- */

void xt_disco_self_free(const xt_mem *mem, xt_disco_self *s)
{
    xt_free(mem, s->category);
    xt_free(mem, s->type);
    xt_free(mem, s->name);
    for (size_t i = 0; i < s->n; i++)
        xt_free(mem, s->features[i]);
    xt_free(mem, s->features);
    memset(s, 0, sizeof *s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds var unless present; sorted = keep the list sorted. */
static int self_add(const xt_mem *mem, xt_disco_self *s, const char *var)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->features[i], var) == 0)
            return 0;
    if (XT_GROW(mem, s->features, s->cap, s->n + 1, 8))
        return XT_ENOMEM;
    if (!(s->features[s->n] = xt_strdup(mem, var)))
        return XT_ENOMEM;
    s->n++;
    return 0;
}

int xt_conn_opts_set_identity(xt_conn_opts *o, const char *category, const char *type,
                              const char *name)
{
    if (!o || !category || !type || !*category || !*type || !xt_im_text_ok(category) ||
        !xt_im_text_ok(type) || (name && !xt_im_text_ok(name)))
        return XT_EINVAL;
    char *c = xt_strdup(o->mem, category), *t = xt_strdup(o->mem, type);
    char *n = name ? xt_strdup(o->mem, name) : NULL;
    if (!c || !t || (name && !n)) {
        xt_free(o->mem, c);
        xt_free(o->mem, t);
        xt_free(o->mem, n);
        return XT_ENOMEM;
    }
    xt_free(o->mem, o->self.category);
    xt_free(o->mem, o->self.type);
    xt_free(o->mem, o->self.name);
    o->self.category = c;
    o->self.type = t;
    o->self.name = n;
    return 0;
}

int xt_conn_opts_add_feature(xt_conn_opts *o, const char *var)
{
    if (!o || !var || !*var || !xt_im_text_ok(var))
        return XT_EINVAL;
    for (size_t i = 0; i < o->self.n; i++)
        if (strcmp(o->self.features[i], var) == 0)
            return 0;
    if (o->self.n >= XT_DISCO_MAX_EXTRA_FEATURES)
        return XT_ETOOBIG;
    return self_add(o->mem, &o->self, var);
}

/* <query xmlns=disco#info [node]> with our identity and features, as a
 * child of parent (or a root when parent is NULL). NULL on ENOMEM. */
static xt_stanza *self_query(xt_conn *c, xt_stanza *parent, const char *node)
{
    const xt_disco_self *s = &c->disco.self;
    xt_stanza *q = parent ? xt_stanza_add_child(parent, "query", XT_NS_DISCO_INFO)
                          : xt_stanza_new(c->s.mem, "query", XT_NS_DISCO_INFO);
    if (!q || (node && xt_stanza_set_attr(q, "node", node)))
        goto fail;
    xt_stanza *id = xt_stanza_add_child(q, "identity", NULL);
    if (!id || xt_stanza_set_attr(id, "category", s->category ? s->category : "client") ||
        xt_stanza_set_attr(id, "type", s->type ? s->type : "pc") ||
        xt_stanza_set_attr(id, "name", s->name ? s->name : "xtalk"))
        goto fail;
    for (size_t i = 0; i < s->n; i++) {
        xt_stanza *f = xt_stanza_add_child(q, "feature", NULL);
        if (!f || xt_stanza_set_attr(f, "var", s->features[i]))
            goto fail;
    }
    return q;
fail:
    if (!parent) /* a root of our own: nobody else frees it */
        xt_stanza_free(q);
    return NULL;
}

int xt_disco_init(xt_conn *c, const xt_disco_self *o)
{
    const xt_mem *mem = c->s.mem;
    xt_disco_self *s = &c->disco.self;
    if ((o->category && !(s->category = xt_strdup(mem, o->category))) ||
        (o->type && !(s->type = xt_strdup(mem, o->type))) ||
        (o->name && !(s->name = xt_strdup(mem, o->name))))
        return XT_ENOMEM;
    for (size_t i = 0; i < sizeof own_features / sizeof *own_features; i++)
        if (self_add(mem, s, own_features[i]))
            return XT_ENOMEM;
    for (size_t i = 0; i < o->n; i++)
        if (self_add(mem, s, o->features[i]))
            return XT_ENOMEM;
    /* XEP-0115 §5.1 step 4: the order the hash needs; answering in it
     * too costs nothing. */
    if (s->n > 1) /* a NULL base is undefined even for 0 items (C11 7.22.5) */
        qsort(s->features, s->n, sizeof *s->features, cmp_str);
    return 0;
}

/* Hashed on first need, not in xt_disco_init: the SHA-1 was the
 * process's first OpenSSL digest there, made with the conn before any
 * byte was sent, and the first EVP fetch sets up OpenSSL's provider
 * store (5.2 M instructions, most of a millisecond before the stream
 * header left). Needed first with our first presence, by which time the
 * TLS context has done that set-up and this costs what the hash costs
 * (issue 14). ver[0] marks it done: a base64 SHA-1 is never empty. */
const char *xt_disco_own_ver(xt_conn *c)
{
    xt_disco_self *s = &c->disco.self;
    if (s->ver[0])
        return s->ver;
    char ver[sizeof s->ver];
    xt_stanza *q = self_query(c, NULL, NULL);
    int rc = q ? xt_caps_hash(q, "sha-1", ver, sizeof ver) : XT_ENOMEM;
    xt_stanza_free(q);
    /* Our own ver is known: our presence, reflected back to us and to our
     * other resources running xtalk, needs no disco#info round trip. */
    if (!rc)
        rc = xt_conn_caps_add(c, ver, (const char *const *)s->features, s->n);
    if (rc)
        return NULL; /* out of memory: the next need tries again */
    memcpy(s->ver, ver, sizeof ver);
    return s->ver;
}

/* Mutating a cache behind a const handle: every conn is allocated
 * non-const (xt_conn_new), so this is defined; the integer round trip
 * keeps -Wcast-qual quiet, as stanza.c's unconst. */
const char *xt_conn_caps_ver(const xt_conn *c)
{
    return c ? xt_disco_own_ver((xt_conn *)(uintptr_t)c) : NULL;
}

/* --- answering ---------------------------------------------------------------- */

static xt_stanza *result_for(xt_conn *c, const xt_stanza *iq)
{
    xt_stanza *r = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    const char *from = xt_stanza_attr(iq, "from");
    if (!r || xt_stanza_set_attr(r, "type", "result") ||
        xt_stanza_set_attr(r, "id", xt_stanza_attr(iq, "id")) ||
        (from && xt_stanza_set_attr(r, "to", from))) {
        xt_stanza_free(r);
        return NULL;
    }
    return r;
}

/* The node we answer for besides none: NODE#VER (XEP-0115 §6.2). */
static int our_caps_node(const char *ver, const char *node)
{
    size_t nl = strlen(XT_CAPS_NODE);
    return strncmp(node, XT_CAPS_NODE, nl) == 0 && node[nl] == '#' &&
           strcmp(node + nl + 1, ver) == 0;
}

int xt_disco_on_iq(xt_conn *c, const xt_stanza *iq)
{
    const char *type = xt_stanza_attr(iq, "type");
    const xt_stanza *q = xt_stanza_first_child(iq);
    if (!type || !q || strcmp(xt_stanza_name(q), "query") != 0)
        return 0;
    int info = strcmp(xt_stanza_ns(q), XT_NS_DISCO_INFO) == 0;
    int items = strcmp(xt_stanza_ns(q), XT_NS_DISCO_ITEMS) == 0;
    if (!info && !items)
        return 0;
    /* XEP-0030 §3.1/§4.1: only get is defined. */
    if (strcmp(type, "get") != 0) {
        int rc = xt_stream_reply_error(&c->s, iq, "cancel", "bad-request");
        return rc ? rc : 1;
    }
    const char *node = xt_stanza_attr(q, "node");
    int rc;
    if (info && node) {
        const char *ver = xt_disco_own_ver(c);
        if (!ver)
            return XT_ENOMEM;
        if (!our_caps_node(ver, node)) {
            /* §3.2: a node we do not have. */
            rc = xt_stream_reply_error(&c->s, iq, "cancel", "item-not-found");
            return rc ? rc : 1;
        }
    }
    xt_stanza *r = result_for(c, iq);
    xt_stanza *payload = NULL;
    if (r && info)
        payload = self_query(c, r, node);
    else if (r) /* §4.1: no items (nor nodes) to offer: an empty list. */
        payload = xt_stanza_add_child(r, "query", XT_NS_DISCO_ITEMS);
    if (payload && items && node && xt_stanza_set_attr(payload, "node", node))
        payload = NULL;
    rc = payload ? xt_stream_send(&c->s, r) : XT_ENOMEM;
    xt_stanza_free(r);
    return rc ? rc : 1;
}

/* --- querying ------------------------------------------------------------------ */

/* What happens with the answer of one of our queries. */
typedef void (*req_done_fn)(xt_conn *c, int status, const xt_stanza *reply, xt_disco_req *r);

struct xt_disco_req {
    xt_disco_req *next;
    req_done_fn done;
    xt_disco_info_fn info_cb;
    xt_disco_items_fn items_cb;
    void *ud;
    char *jid; /* the queried JID as sent (NULL: the server) */
    char *ver; /* caps verification: the ver announced */
    xt_disco_internal_fn internal;
};

static void req_unlink(xt_conn *c, xt_disco_req *r)
{
    for (xt_disco_req **p = &c->disco.reqs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
}

static void req_free(xt_conn *c, xt_disco_req *r)
{
    xt_free(c->s.mem, r->jid);
    xt_free(c->s.mem, r->ver);
    xt_free(c->s.mem, r);
}

static void req_iq_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    xt_disco_req *r = ud;
    req_unlink(c, r);
    r->done(c, status, reply, r);
    req_free(c, r);
}

/* Sends <iq type=get to=jid><query xmlns=ns node=node/></iq> for r. On
 * failure r is freed (and its callback never called). */
static int req_send(xt_conn *c, const char *jid, const char *ns, const char *node, xt_disco_req *r)
{
    /* No JID: the server itself, named (without 'to' the account would
     * answer, RFC 6120 §10.3). */
    if (!jid)
        jid = xt_stream_domain(&c->s);
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c->s.mem, jid, &j, NULL);
    if (!rc && j && !(r->jid = xt_strdup(c->s.mem, xt_jid_full(j))))
        rc = XT_ENOMEM;
    xt_stanza *iq = rc ? NULL : xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *q = iq ? xt_stanza_add_child(iq, "query", ns) : NULL;
    if (!rc && (!q || xt_stanza_set_attr(iq, "type", "get") ||
                (j && xt_stanza_set_attr(iq, "to", xt_jid_full(j))) ||
                (node && xt_stanza_set_attr(q, "node", node))))
        rc = XT_ENOMEM;
    xt_jid_free(j);
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, req_iq_done, r);
    xt_stanza_free(iq);
    if (rc) {
        req_free(c, r);
        return rc;
    }
    r->next = c->disco.reqs;
    c->disco.reqs = r;
    return 0;
}

static xt_disco_req *req_new(xt_conn *c, req_done_fn done)
{
    xt_disco_req *r = xt_calloc(c->s.mem, 1, sizeof *r);
    if (r)
        r->done = done;
    return r;
}

/* The answering entity: the queried JID, or our server's domain. */
static const char *answerer(xt_conn *c, const xt_disco_req *r)
{
    return r->jid ? r->jid : xt_stream_domain(&c->s);
}

static void info_done(xt_conn *c, int status, const xt_stanza *reply, xt_disco_req *r)
{
    if (!r->info_cb)
        return;
    const xt_stanza *q = reply ? xt_stanza_child(reply, "query", XT_NS_DISCO_INFO) : NULL;
    if (!status && !q)
        status = XT_EPROTO;
    xt_disco_parsed p;
    if (!status && xt_disco_parse(c->s.mem, q, answerer(c, r), &p))
        status = XT_ENOMEM;
    if (status) {
        r->info_cb(c, status, NULL, r->ud);
        return;
    }
    r->info_cb(c, 0, &p.info, r->ud);
    xt_disco_parsed_free(c->s.mem, &p);
}

/* What both public queries check before a request: 0 or the error. */
static int query_ok(const xt_conn *c, const char *node)
{
    if (!c)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    return node && !xt_im_text_ok(node) ? XT_EINVAL : 0;
}

int xt_disco_info_query(xt_conn *c, const char *jid, const char *node, xt_disco_info_fn cb,
                        void *ud)
{
    int rc = query_ok(c, node);
    if (rc)
        return rc;
    xt_disco_req *r = req_new(c, info_done);
    if (!r)
        return XT_ENOMEM;
    r->info_cb = cb;
    r->ud = ud;
    return req_send(c, jid, XT_NS_DISCO_INFO, node, r);
}

static void items_done(xt_conn *c, int status, const xt_stanza *reply, xt_disco_req *r)
{
    if (!r->items_cb)
        return;
    const xt_stanza *q = reply ? xt_stanza_child(reply, "query", XT_NS_DISCO_ITEMS) : NULL;
    if (!status && !q)
        status = XT_EPROTO;
    size_t n = 0;
    for (const xt_stanza *ch = q ? xt_stanza_first_child(q) : NULL; ch;
         ch = xt_stanza_next_sibling(ch))
        n++;
    xt_disco_item *v = n ? xt_calloc(c->s.mem, n, sizeof *v) : NULL;
    if (!status && n && !v)
        status = XT_ENOMEM;
    if (status) {
        r->items_cb(c, status, NULL, r->ud);
        return;
    }
    xt_disco_items items = {.jid = answerer(c, r), .node = xt_stanza_attr(q, "node"), .items = v};
    for (const xt_stanza *ch = xt_stanza_first_child(q); ch; ch = xt_stanza_next_sibling(ch)) {
        const char *jid = xt_stanza_attr(ch, "jid");
        /* §4.1: jid is REQUIRED on every item. */
        if (strcmp(xt_stanza_name(ch), "item") != 0 ||
            strcmp(xt_stanza_ns(ch), XT_NS_DISCO_ITEMS) != 0 || !jid)
            continue;
        v[items.nitems++] = (xt_disco_item){
            .jid = jid, .node = xt_stanza_attr(ch, "node"), .name = xt_stanza_attr(ch, "name")};
    }
    r->items_cb(c, 0, &items, r->ud);
    xt_free(c->s.mem, v);
}

int xt_disco_items_query(xt_conn *c, const char *jid, const char *node, xt_disco_items_fn cb,
                         void *ud)
{
    int rc = query_ok(c, node);
    if (rc)
        return rc;
    xt_disco_req *r = req_new(c, items_done);
    if (!r)
        return XT_ENOMEM;
    r->items_cb = cb;
    r->ud = ud;
    return req_send(c, jid, XT_NS_DISCO_ITEMS, node, r);
}

static void internal_done(xt_conn *c, int status, const xt_stanza *reply, xt_disco_req *r)
{
    r->internal(c, status, reply, answerer(c, r), r->ver);
}

int xt_disco_query_internal(xt_conn *c, const char *jid, const char *node,
                            xt_disco_internal_fn done, const char *tag)
{
    xt_disco_req *r = req_new(c, internal_done);
    if (!r)
        return XT_ENOMEM;
    r->internal = done;
    if (tag && !(r->ver = xt_strdup(c->s.mem, tag))) {
        req_free(c, r);
        return XT_ENOMEM;
    }
    return req_send(c, jid, XT_NS_DISCO_INFO, node, r);
}

/* --- the server's info ---------------------------------------------------------- */

/* The server's or our account's disco#info (XEP-0030 §3.1): the
 * server lists what it does for every session (XEP-0280 carbons), the
 * account what it does for this user (XEP-0313 archive, XEP-0163 PEP;
 * Prosody lists MAM only there, XEP-0313 §7). */
static void kept_done(xt_conn *c, int status, const xt_stanza *reply, xt_disco_req *r)
{
    int account = r->jid && strcmp(r->jid, xt_stream_domain(&c->s)) != 0;
    const xt_stanza *q = reply ? xt_stanza_child(reply, "query", XT_NS_DISCO_INFO) : NULL;
    const char *who = account ? xt_stream_bare(&c->s) : xt_stream_domain(&c->s);
    if (status || !q) {
        if (status == XT_ECLOSED)
            return; /* the session is gone: a new one asks again */
        xt_stream_logf(&c->s, XT_LOG_WARN, "the %s's disco#info failed: %s",
                       account ? "account" : "server",
                       status ? xt_strerror(status) : "no <query/> in the result");
        if (account)
            c->disco.account_failed = status ? status : XT_EPROTO;
        else
            c->disco.server_failed = status ? status : XT_EPROTO;
        /* Whoever waits for the features must learn that none will come
         * (a command waiting to know whether there is an archive would
         * otherwise wait forever): the event with an empty info. */
        xt_disco_info none = {.jid = who};
        xt_event ev = {.type = XT_EV_SERVER_INFO, .u.server_info = &none};
        xt_conn_emit(c, &ev);
        return;
    }
    xt_stanza *copy = xt_stanza_copy(q);
    xt_disco_parsed p;
    if (!copy || xt_disco_parse(c->s.mem, copy, who, &p)) {
        xt_stanza_free(copy);
        xt_stream_fail(&c->s, XT_ENOMEM, NULL, NULL, "out of memory keeping the server's features",
                       NULL);
        return;
    }
    p.tree = copy;
    xt_disco_parsed *slot = account ? &c->disco.account : &c->disco.server;
    xt_disco_parsed_free(c->s.mem, slot);
    *slot = p;
    if (account)
        c->disco.account_known = 1;
    else
        c->disco.server_known = 1;
    int rc = xt_im_server_info_ready(c);
    if (rc) {
        xt_stream_fail(&c->s, rc, NULL, NULL, "out of memory after the server's features", NULL);
        return;
    }
    xt_event ev = {.type = XT_EV_SERVER_INFO, .u.server_info = &slot->info};
    xt_conn_emit(c, &ev);
}

int xt_disco_login(xt_conn *c)
{
    /* A new session may be on another server build: ask again. A resumed
     * one (XEP-0198) keeps what we know. */
    xt_disco_parsed_free(c->s.mem, &c->disco.server);
    xt_disco_parsed_free(c->s.mem, &c->disco.account);
    c->disco.server_known = c->disco.account_known = 0;
    c->disco.server_failed = c->disco.account_failed = 0;
    /* To the domain and the account explicitly: the answer must come
     * from each (without 'to' the account would answer, RFC 6120 §10.3). */
    const char *to[2] = {xt_stream_domain(&c->s), xt_stream_bare(&c->s)};
    for (int i = 0; i < 2; i++) {
        xt_disco_req *r = req_new(c, kept_done);
        if (!r)
            return XT_ENOMEM;
        int rc = req_send(c, to[i], XT_NS_DISCO_INFO, NULL, r);
        if (rc)
            return rc;
    }
    return 0;
}

void xt_disco_login_status(const xt_conn *c, int *server, int *account)
{
    *server = c->disco.server_known ? 1 : c->disco.server_failed;
    *account = c->disco.account_known ? 1 : c->disco.account_failed;
}

const xt_disco_info *xt_conn_account_info(const xt_conn *c)
{
    return c && c->disco.account_known ? &c->disco.account.info : NULL;
}

const xt_disco_info *xt_conn_server_info(const xt_conn *c)
{
    return c && c->disco.server_known ? &c->disco.server.info : NULL;
}

void xt_disco_free(xt_conn *c)
{
    while (c->disco.reqs) {
        xt_disco_req *r = c->disco.reqs;
        c->disco.reqs = r->next;
        req_free(c, r);
    }
    xt_disco_parsed_free(c->s.mem, &c->disco.server);
    xt_disco_parsed_free(c->s.mem, &c->disco.account);
    xt_disco_self_free(c->s.mem, &c->disco.self);
    xt_caps_free(c);
}
