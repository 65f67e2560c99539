/*
 * XEP-0363 HTTP File Upload (v1.1): finding the upload service and asking
 * it for a slot; XEP-0066 <x xmlns='jabber:x:oob'/> read from messages.
 * Sans-I/O: IQs through the conn, no HTTP here (src/net/http.c does the
 * PUT).
 *
 * Invariants:
 *  - The service, once found (or found missing), is kept on the conn for
 *    its lifetime (c->upload): a server's components do not move between
 *    sessions, and each `send --file` would otherwise pay two round trips
 *    per item of the server. A discovery that failed on the way (timeout,
 *    stream closed) is not kept: the next call asks again.
 *  - Discoveries asked while one runs wait for it (one set of IQs).
 *  - Every request struct given to xt_conn_iq as ud is on a list of the
 *    state, so xt_conn_free (which calls no IQ callback) frees it.
 *  - Nothing from a slot reaches the caller unchecked: both URLs https,
 *    sizes bounded, header names from the XEP's list of three, newlines
 *    stripped from values (§4: "MUST strip any newline characters").
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "xtalk/disco.h"
#include "xtalk/jid.h"
#include "xtalk/upload.h"

#define NS_DATA   "jabber:x:data"
#define NS_STANZA "urn:ietf:params:xml:ns:xmpp-stanzas"

/* A hostile server's thousand items must not become a thousand queries. */
#define MAX_ITEMS 32
/* Longest text of the service's own (error text) copied into a detail. */
#define MAX_TEXT 200

typedef struct waiter {
    xt_upload_service_fn cb;
    void *ud;
} waiter;

/* One IQ in flight (discovery step or slot request); on st->reqs. */
typedef struct req {
    struct req *next, **pprev;
    xt_conn *c;
    xt_upload_slot_fn cb; /* slot requests */
    void *ud;
} req;

enum phase { UNKNOWN = 0, RUNNING, KNOWN };

typedef struct xt_upload_state {
    enum phase phase;
    int result; /* KNOWN: 0 found, XT_EUNSUPPORTED none */
    char *jid;
    xt_upload_service svc;
    waiter *waiters;
    size_t nwait, capwait;
    char **items; /* RUNNING: the server's items left to ask */
    size_t nitems, next;
    req *reqs;
} xt_upload_state;

static xt_upload_state *state(xt_conn *c)
{
    if (!c->upload)
        c->upload = xt_calloc(c->s.mem, 1, sizeof *c->upload);
    return c->upload;
}

static req *req_new(xt_conn *c, xt_upload_state *st)
{
    req *r = xt_calloc(c->s.mem, 1, sizeof *r);
    if (!r)
        return NULL;
    r->c = c;
    r->next = st->reqs;
    if (st->reqs)
        st->reqs->pprev = &r->next;
    r->pprev = &st->reqs;
    st->reqs = r;
    return r;
}

static void req_free(req *r)
{
    *r->pprev = r->next;
    if (r->next)
        r->next->pprev = r->pprev;
    xt_free(r->c->s.mem, r);
}

static void free_items(xt_conn *c, xt_upload_state *st)
{
    for (size_t i = 0; i < st->nitems; i++)
        xt_free(c->s.mem, st->items[i]);
    xt_free(c->s.mem, st->items);
    st->items = NULL;
    st->nitems = st->next = 0;
}

void xt_upload_free_state(xt_conn *c)
{
    xt_upload_state *st = c->upload;
    if (!st)
        return;
    while (st->reqs)
        req_free(st->reqs);
    free_items(c, st);
    xt_free(c->s.mem, st->waiters);
    xt_free(c->s.mem, st->jid);
    xt_free(c->s.mem, st);
    c->upload = NULL;
}

/* --- discovery (§3) ------------------------------------------------------------ */

/* The decimal max-file-size; 0 when absent, malformed or past 2^64 (a
 * limit we cannot represent is no limit we can check). */
static uint64_t parse_size(const char *s)
{
    uint64_t v = 0;
    if (!s || !*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    return v;
}

static const char *field_value(const xt_stanza *form, const char *var)
{
    for (const xt_stanza *f = xt_stanza_first_child(form); f; f = xt_stanza_next_sibling(f)) {
        const char *v = xt_stanza_attr(f, "var");
        if (strcmp(xt_stanza_name(f), "field") == 0 && v && strcmp(v, var) == 0)
            return xt_stanza_child_text(f, "value", NULL);
    }
    return NULL;
}

/* §3: the max-file-size field of the extended disco form whose FORM_TYPE is
 * the upload namespace, in the service's disco#info. */
static uint64_t max_size_of(const xt_stanza *query)
{
    for (const xt_stanza *x = query ? xt_stanza_first_child(query) : NULL; x;
         x = xt_stanza_next_sibling(x)) {
        if (strcmp(xt_stanza_name(x), "x") != 0 || strcmp(xt_stanza_ns(x), NS_DATA) != 0)
            continue;
        const char *ft = field_value(x, "FORM_TYPE");
        if (ft && strcmp(ft, XT_NS_HTTP_UPLOAD) == 0)
            return parse_size(field_value(x, "max-file-size"));
    }
    return 0;
}

/* Ends the discovery: every waiter is told, from a list taken off the
 * state first (a waiter may start a new discovery or a slot request). */
static void finish(xt_conn *c, int status)
{
    xt_upload_state *st = c->upload;
    waiter *w = st->waiters;
    size_t n = st->nwait;

    st->waiters = NULL;
    st->nwait = st->capwait = 0;
    free_items(c, st);
    if (status == 0 || status == XT_EUNSUPPORTED) {
        st->phase = KNOWN;
        st->result = status;
    } else {
        st->phase = UNKNOWN; /* not an answer about the server: ask again next time */
    }
    for (size_t i = 0; i < n; i++)
        w[i].cb(c, status, status == 0 ? &st->svc : NULL, w[i].ud);
    xt_free(c->s.mem, w);
}

static int found(xt_conn *c, const char *jid, const xt_disco_info *info)
{
    xt_upload_state *st = c->upload;
    char *j = xt_strdup(c->s.mem, jid);
    if (!j)
        return XT_ENOMEM;
    xt_free(c->s.mem, st->jid);
    st->jid = j;
    st->svc = (xt_upload_service){.jid = j, .max_size = max_size_of(info->query)};
    return 0;
}

static void ask_next(xt_conn *c);

static void on_info(xt_conn *c, int status, const xt_disco_info *info, void *ud)
{
    req *r = ud;
    req_free(r);
    if (status == 0 && xt_disco_has_feature(info, XT_NS_HTTP_UPLOAD)) {
        finish(c, found(c, c->upload->items[c->upload->next - 1], info));
        return;
    }
    if (status == XT_ECLOSED || status == XT_ENOMEM) {
        finish(c, status);
        return;
    }
    ask_next(c); /* an item that does not answer is not the service */
}

static void ask_next(xt_conn *c)
{
    xt_upload_state *st = c->upload;
    while (st->next < st->nitems) {
        req *r = req_new(c, st);
        if (!r) {
            finish(c, XT_ENOMEM);
            return;
        }
        int rc = xt_disco_info_query(c, st->items[st->next++], NULL, on_info, r);
        if (rc == 0)
            return;
        req_free(r);
        if (rc != XT_EJID && rc != XT_EINVAL) {
            finish(c, rc);
            return;
        }
    }
    finish(c, XT_EUNSUPPORTED);
}

static void on_items(xt_conn *c, int status, const xt_disco_items *items, void *ud)
{
    req *r = ud;
    xt_upload_state *st = c->upload;
    req_free(r);
    if (status != 0) {
        /* A server that refuses disco#items has no items to offer. */
        finish(c, status == XT_ESTANZA || status == XT_EPROTO ? XT_EUNSUPPORTED : status);
        return;
    }
    size_t n = items->nitems < MAX_ITEMS ? items->nitems : MAX_ITEMS;
    if (n && !(st->items = xt_calloc(c->s.mem, n, sizeof *st->items))) {
        finish(c, XT_ENOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        /* Items with a node are nodes of some entity, not services (§3). */
        if (items->items[i].node)
            continue;
        if (!(st->items[st->nitems] = xt_strdup(c->s.mem, items->items[i].jid))) {
            finish(c, XT_ENOMEM);
            return;
        }
        st->nitems++;
    }
    ask_next(c);
}

int xt_upload_discover(xt_conn *c, xt_upload_service_fn cb, void *ud)
{
    if (!c || !cb)
        return XT_EINVAL;
    xt_upload_state *st = state(c);
    if (!st)
        return XT_ENOMEM;
    if (st->phase == KNOWN) {
        cb(c, st->result, st->result == 0 ? &st->svc : NULL, ud);
        return 0;
    }
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    if (XT_GROW(c->s.mem, st->waiters, st->capwait, st->nwait + 1, 4))
        return XT_ENOMEM;
    if (st->phase == RUNNING) {
        st->waiters[st->nwait++] = (waiter){cb, ud};
        return 0;
    }
    /* The server itself may be the service (§3 allows any entity). */
    const xt_disco_info *si = xt_conn_server_info(c);
    if (si && xt_disco_has_feature(si, XT_NS_HTTP_UPLOAD) && si->query) {
        int rc = found(c, si->jid, si);
        if (rc)
            return rc;
        st->phase = KNOWN;
        st->result = 0;
        cb(c, 0, &st->svc, ud);
        return 0;
    }
    req *r = req_new(c, st);
    if (!r)
        return XT_ENOMEM;
    int rc = xt_disco_items_query(c, NULL, NULL, on_items, r);
    if (rc) {
        req_free(r);
        return rc;
    }
    st->waiters[st->nwait++] = (waiter){cb, ud};
    st->phase = RUNNING;
    return 0;
}

const xt_upload_service *xt_conn_upload_service(const xt_conn *c)
{
    const xt_upload_state *st = c ? c->upload : NULL;
    return st && st->phase == KNOWN && st->result == 0 ? &st->svc : NULL;
}

/* --- the slot (§4) ------------------------------------------------------------ */

/* What the slot answer parses into; freed once the callback returned. */
typedef struct slot_out {
    xt_upload_slot s;
    xt_http_header h[3];
    char *put, *get, *hv[3];
    char detail[512];
} slot_out;

/* https://, at most XT_UPLOAD_MAX_FIELD bytes, no space or control
 * characters (they have no place in a URL and would let a value end a
 * request line). */
static int url_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (n <= 8 || n > XT_UPLOAD_MAX_FIELD || strncasecmp(u, "https://", 8) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
            return 0;
    return 1;
}

/* §4: the only headers a client may take from the slot. */
static const char *const allowed[3] = {"Authorization", "Cookie", "Expires"};

/* Copies v without CR and LF (§4 security: "MUST strip any newline
 * characters from header names and values"). */
static char *strip_newlines(const xt_mem *mem, const char *v)
{
    size_t n = strlen(v), k = 0;
    char *o = xt_malloc(mem, n + 1);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i] != '\r' && v[i] != '\n')
            o[k++] = v[i];
    o[k] = '\0';
    return o;
}

static int parse_slot(xt_conn *c, const xt_stanza *reply, slot_out *o)
{
    const xt_stanza *slot = xt_stanza_child(reply, "slot", XT_NS_HTTP_UPLOAD);
    const xt_stanza *put = slot ? xt_stanza_child(slot, "put", XT_NS_HTTP_UPLOAD) : NULL;
    const xt_stanza *get = slot ? xt_stanza_child(slot, "get", XT_NS_HTTP_UPLOAD) : NULL;
    const char *pu = put ? xt_stanza_attr(put, "url") : NULL;
    const char *gu = get ? xt_stanza_attr(get, "url") : NULL;

    o->s.refusal = XT_UPLOAD_BAD_SLOT;
    if (!pu || !gu) {
        snprintf(o->detail, sizeof o->detail, "the upload service answered without %s URL",
                 !slot ? "a slot"
                 : !pu ? "a PUT"
                       : "a GET");
        return XT_EPROTO;
    }
    if (!url_ok(pu) || !url_ok(gu)) {
        snprintf(o->detail, sizeof o->detail,
                 "the upload service's %s URL is not a usable https URL (at most %d bytes, no "
                 "spaces); refusing to send the file elsewhere",
                 !url_ok(pu) ? "PUT" : "GET", XT_UPLOAD_MAX_FIELD);
        return XT_EPROTO;
    }
    for (const xt_stanza *h = xt_stanza_first_child(put); h; h = xt_stanza_next_sibling(h)) {
        const char *name = xt_stanza_attr(h, "name");
        if (strcmp(xt_stanza_name(h), "header") != 0 || !name)
            continue;
        for (size_t i = 0; i < 3; i++) {
            /* HTTP header names are case-insensitive (RFC 9110 §5.1); the
             * first of each is taken, the others dropped. */
            if (strcasecmp(name, allowed[i]) != 0 || o->hv[i])
                continue;
            const char *v = xt_stanza_text(h);
            if (strlen(v) > XT_UPLOAD_MAX_FIELD) {
                snprintf(o->detail, sizeof o->detail,
                         "the upload service's %s header is over %d bytes", allowed[i],
                         XT_UPLOAD_MAX_FIELD);
                return XT_EPROTO;
            }
            if (!(o->hv[i] = strip_newlines(c->s.mem, v)))
                return XT_ENOMEM;
        }
    }
    if (!(o->put = xt_strdup(c->s.mem, pu)) || !(o->get = xt_strdup(c->s.mem, gu)))
        return XT_ENOMEM;
    o->s.put_url = o->put;
    o->s.get_url = o->get;
    for (size_t i = 0; i < 3; i++)
        if (o->hv[i])
            o->h[o->s.nheaders++] = (xt_http_header){allowed[i], o->hv[i]};
    o->s.headers = o->s.nheaders ? o->h : NULL;
    o->s.refusal = XT_UPLOAD_OK;
    return 0;
}

/* Copies at most MAX_TEXT bytes of the service's text, cut on a UTF-8
 * character boundary. */
static void put_text(char *buf, size_t len, const char *text)
{
    size_t n = strlen(text);
    if (n > MAX_TEXT) {
        n = MAX_TEXT;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
    }
    size_t at = strlen(buf);
    snprintf(buf + at, len - at, ": %.*s", (int)n, text);
}

/* §4.1-§4.3: file-too-large (with the limit), not-allowed, and
 * resource-constraint (quota, maybe with a retry stamp). */
static int parse_error(const xt_stanza *reply, slot_out *o)
{
    const xt_stanza *e = reply ? xt_stanza_child(reply, "error", NULL) : NULL;
    const char *cond = NULL, *text = NULL;
    const xt_stanza *big = NULL, *retry = NULL;

    for (const xt_stanza *ch = e ? xt_stanza_first_child(e) : NULL; ch;
         ch = xt_stanza_next_sibling(ch)) {
        const char *ns = xt_stanza_ns(ch), *name = xt_stanza_name(ch);
        if (strcmp(ns, NS_STANZA) == 0 && strcmp(name, "text") == 0)
            text = xt_stanza_text(ch);
        else if (strcmp(ns, NS_STANZA) == 0 && !cond)
            cond = name;
        else if (strcmp(ns, XT_NS_HTTP_UPLOAD) == 0 && strcmp(name, "file-too-large") == 0)
            big = ch;
        else if (strcmp(ns, XT_NS_HTTP_UPLOAD) == 0 && strcmp(name, "retry") == 0)
            retry = ch;
    }
    if (big) {
        o->s.refusal = XT_UPLOAD_TOO_LARGE;
        o->s.max_size = parse_size(xt_stanza_child_text(big, "max-file-size", XT_NS_HTTP_UPLOAD));
        if (o->s.max_size)
            snprintf(o->detail, sizeof o->detail,
                     "the file is too large for the upload service (its limit is %llu bytes)",
                     (unsigned long long)o->s.max_size);
        else
            snprintf(o->detail, sizeof o->detail, "the file is too large for the upload service");
    } else if (cond && strcmp(cond, "not-allowed") == 0) {
        o->s.refusal = XT_UPLOAD_NOT_ALLOWED;
        snprintf(o->detail, sizeof o->detail,
                 "the upload service does not allow this account to upload (not-allowed)");
    } else if (cond && strcmp(cond, "resource-constraint") == 0) {
        o->s.refusal = XT_UPLOAD_QUOTA;
        const char *stamp = retry ? xt_stanza_attr(retry, "stamp") : NULL;
        /* An XEP-0082 stamp is short; anything longer is not one. */
        o->s.retry_stamp = stamp && strlen(stamp) <= 64 && xt_im_parse_stamp(stamp) ? stamp : NULL;
        snprintf(o->detail, sizeof o->detail,
                 "the upload service refused for now: quota reached (resource-constraint)%s%s",
                 o->s.retry_stamp ? "; retry after " : "",
                 o->s.retry_stamp ? o->s.retry_stamp : "");
    } else {
        o->s.refusal = XT_UPLOAD_OTHER;
        snprintf(o->detail, sizeof o->detail, "the upload service refused the slot (%s)",
                 cond ? cond : "no condition given");
    }
    if (text && *text)
        put_text(o->detail, sizeof o->detail, text);
    return big ? XT_ETOOBIG : XT_ESTANZA;
}

static void on_slot(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    req *r = ud;
    xt_upload_slot_fn cb = r->cb;
    void *cud = r->ud;
    slot_out o;

    req_free(r);
    memset(&o, 0, sizeof o);
    o.s.detail = o.detail;
    if (status == 0)
        status = parse_slot(c, reply, &o);
    else if (status == XT_ESTANZA)
        status = parse_error(reply, &o);
    else
        snprintf(o.detail, sizeof o.detail, "no answer from the upload service (%s)",
                 xt_strerror(status));
    if (status == XT_ENOMEM)
        snprintf(o.detail, sizeof o.detail, "out of memory");
    if (status != 0) {
        o.s.put_url = o.s.get_url = NULL;
        o.s.headers = NULL;
        o.s.nheaders = 0;
    }
    cb(c, status, &o.s, cud);
    xt_free(c->s.mem, o.put);
    xt_free(c->s.mem, o.get);
    for (size_t i = 0; i < 3; i++)
        xt_free(c->s.mem, o.hv[i]);
}

/* The last path component: XEP-0363 §4 sends a file name, not where the
 * file sits on our disk. */
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int xt_upload_request_slot(xt_conn *c, const char *service, const char *filename, uint64_t size,
                           const char *content_type, xt_upload_slot_fn cb, void *ud)
{
    if (!c || !filename || !cb)
        return XT_EINVAL;
    const char *name = base_name(filename);
    if (!*name || strlen(name) > 1024 || !xt_im_text_ok(name) || size == 0 ||
        (content_type &&
         (!*content_type || strlen(content_type) > 255 || !xt_im_text_ok(content_type))))
        return XT_EINVAL;
    xt_upload_state *st = state(c);
    if (!st)
        return XT_ENOMEM;
    if (!service) {
        if (st->phase != KNOWN || st->result != 0)
            return XT_ESTATE;
        service = st->svc.jid;
        /* §3: a file over the advertised limit would be refused anyway;
         * saying so here spares the round trip. */
        if (st->svc.max_size && size > st->svc.max_size)
            return XT_ETOOBIG;
    }
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c->s.mem, service, &j, NULL);
    if (rc)
        return rc;
    char sz[24];
    snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *rq = iq ? xt_stanza_add_child(iq, "request", XT_NS_HTTP_UPLOAD) : NULL;
    rc = rq && !xt_stanza_set_attr(iq, "type", "get") &&
                 !xt_stanza_set_attr(iq, "to", xt_jid_full(j)) &&
                 !xt_stanza_set_attr(rq, "filename", name) && !xt_stanza_set_attr(rq, "size", sz) &&
                 (!content_type || !xt_stanza_set_attr(rq, "content-type", content_type))
             ? 0
             : XT_ENOMEM;
    xt_jid_free(j);
    req *r = rc ? NULL : req_new(c, st);
    if (!rc && !r)
        rc = XT_ENOMEM;
    if (!rc) {
        r->cb = cb;
        r->ud = ud;
        rc = xt_conn_iq(c, iq, 0, on_slot, r);
        if (rc)
            req_free(r);
    }
    xt_stanza_free(iq);
    return rc;
}
