/*
 * Transcript tests for the sans-I/O connection (src/core/stream.c and
 * src/im): the test plays the server from the files in tests/transcripts (format
 * in tests/transcripts/README.md), feeding whole lines and then one byte
 * at a time, and runs the login under an allocation-failure loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "core/base64.h"
#include "im/conn_int.h"
#include "xtalk/conn.h"
#include "xtalk/im.h"
#include "xtalk/disco.h"
#include "xtalk/mam.h"
#include "xtalk/pep.h"
#include "xtalk/bookmarks.h"
#include "xtalk/selfping.h"
#include "xtalk/upload.h"
#include "transcript_muc.h"

/* --- a counting allocator that can fail the Nth allocation ------------------ */

typedef struct alloc_state {
    long count;   /* allocations so far */
    long fail_at; /* 0 = never */
    long live;
    int failed;
} alloc_state;

static alloc_state A;

static void *t_malloc(size_t n, void *ud)
{
    (void)ud;
    if (A.fail_at && ++A.count == A.fail_at) {
        A.failed = 1;
        return NULL;
    }
    void *p = malloc(n);
    if (p)
        A.live++;
    return p;
}

static void *t_realloc(void *p, size_t n, void *ud)
{
    if (!p)
        return t_malloc(n, ud);
    if (A.fail_at && ++A.count == A.fail_at) {
        A.failed = 1;
        return NULL;
    }
    return realloc(p, n);
}

static void t_free(void *p, void *ud)
{
    (void)ud;
    if (p) {
        A.live--;
        free(p);
    }
}

static const xt_mem test_mem = {t_malloc, t_realloc, t_free, NULL};

/* --- growable strings for the test side (plain malloc) ----------------------- */

typedef struct sb {
    char *s;
    size_t n, cap;
} sb;

static void sb_addn(sb *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1)
            nc *= 2;
        b->s = realloc(b->s, nc);
        assert_non_null(b->s);
        b->cap = nc;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_add(sb *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_field(sb *b, const char *key, const char *v)
{
    if (!v)
        return;
    sb_add(b, " ");
    sb_add(b, key);
    sb_add(b, "=");
    sb_add(b, v);
}

static void sb_free(sb *b)
{
    free(b->s);
    *b = (sb){0};
}

/* --- vectors --------------------------------------------------------------- */

static json_t *scram_json, *misc_json;

static json_t *load_vectors(const char *file)
{
    const char *dir = getenv("XT_VECTORS");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "../shared/vectors", file);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("cannot load %s: %s", path, e.text);
    return j;
}

static const char *find_by_id(json_t *arr, const char *id, const char *field)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *vid = json_string_value(json_object_get(v, "id"));
        if (vid && strcmp(vid, id) == 0) {
            /* "outer/inner" reaches into a nested object. */
            char f[128];
            snprintf(f, sizeof f, "%s", field);
            char *slash = strchr(f, '/');
            if (slash) {
                *slash = '\0';
                v = json_object_get(v, f);
                return json_string_value(json_object_get(v, slash + 1));
            }
            return json_string_value(json_object_get(v, field));
        }
    }
    return NULL;
}

/* Our XEP-0115 ver as every conn computes it (the same for all: it
 * depends on the library's features only). */
static const char *caps_ver(void)
{
    static char ver[96];
    if (!ver[0]) {
        xt_conn_opts *o = NULL;
        xt_conn *c = NULL;
        assert_int_equal(xt_conn_opts_new(NULL, &o), 0);
        assert_int_equal(xt_conn_opts_set_jid(o, "user@example.com"), 0);
        assert_int_equal(xt_conn_opts_set_password(o, "pencil"), 0);
        assert_int_equal(xt_conn_new(o, &c), 0);
        snprintf(ver, sizeof ver, "%s", xt_conn_caps_ver(c));
        xt_conn_free(c);
        xt_conn_opts_free(o);
    }
    return ver;
}

/* "scram:ID.FIELD" or "plain:ID.FIELD" -> the vector's string; "caps"
 * -> the <c/> our presence carries. */
static const char *vector(const char *ref)
{
    if (strcmp(ref, "caps_ver") == 0)
        return caps_ver();
    if (strcmp(ref, "caps") == 0) {
        static char caps[256];
        snprintf(caps, sizeof caps,
                 "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                 "node='https://xtalk.invalid/caps' ver='%s'/>",
                 caps_ver());
        return caps;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ref);
    char *dot = strrchr(buf, '.');
    if (!dot)
        return NULL;
    *dot = '\0';
    const char *field = dot + 1;
    if (strncmp(buf, "scram:", 6) == 0) {
        if (!scram_json)
            scram_json = load_vectors("scram.json");
        const char *v = find_by_id(json_object_get(scram_json, "exchanges"), buf + 6, field);
        return v ? v : find_by_id(json_object_get(scram_json, "negative"), buf + 6, field);
    }
    if (strncmp(buf, "plain:", 6) == 0) {
        if (!misc_json)
            misc_json = load_vectors("sasl-misc.json");
        return find_by_id(json_object_get(json_object_get(misc_json, "plain"), "vectors"), buf + 6,
                          field);
    }
    return NULL;
}

/* Expands {{...}} references; NULL (with *bad set) on an unknown one. */
static char *substitute(const char *in, const char **bad)
{
    sb out = {0};
    sb_add(&out, "");
    const char *p = in;
    for (;;) {
        const char *o = strstr(p, "{{");
        if (!o) {
            sb_add(&out, p);
            break;
        }
        const char *e = strstr(o, "}}");
        if (!e)
            break;
        sb_addn(&out, p, (size_t)(o - p));
        char ref[256];
        snprintf(ref, sizeof ref, "%.*s", (int)(e - o - 2), o + 2);
        int b64 = strncmp(ref, "b64:", 4) == 0;
        const char *v = vector(b64 ? ref + 4 : ref);
        if (!v) {
            *bad = "unknown vector reference";
            sb_free(&out);
            return NULL;
        }
        if (b64) {
            xt_buf b;
            xt_buf_init(&b, NULL);
            assert_int_equal(xt_base64_encode(&b, (const uint8_t *)v, strlen(v)), 0);
            sb_addn(&out, (const char *)xt_buf_head(&b), xt_buf_size(&b));
            xt_buf_free(&b);
        } else {
            sb_add(&out, v);
        }
        p = e + 2;
    }
    return out.s;
}

/* --- the runner ---------------------------------------------------------------- */

typedef struct run {
    int bytewise;
    int use_test_mem;
    xt_conn *c;
    char jid[256], password[256], resource[64], nonce[256], hint[256];
    unsigned flags;
    uint32_t ping_interval, ping_timeout, iq_timeout, nego_timeout;
    uint32_t ack_every, ack_delay, ack_timeout, max_unacked;
    int record_stanza;
    /* RANDOM: fixed -- every random byte from fixed_random (a counter),
     * through the public hook instead of the test nonce and id prefix. */
    int fixed_random;
    uint8_t rng_next;
    char id_prefix[32]; /* ID_PREFIX: xt_conn_opts_set_id_prefix */
    char ua[160];       /* UA: id [software] -- xt_conn_opts_set_user_agent */
    char fast[256];     /* FAST: mechanism token -- xt_conn_opts_set_fast_token */
    char notify[256];   /* NOTIFY: node -- xt_conn_opts_add_pep_notify */
    xt_stanza *vcard;   /* the last IQ reply holding a vCard (vcard_publish's base) */
    uint64_t now;
    sb out;
    size_t cursor;
    char *events[256];
    size_t nev, evpos;
    sb log;
    char err[1024];
    int lineno;
    const char *file;
} run;

static const struct {
    int code;
    const char *name;
} errnames[] = {
    {0, "0"},
    {XT_ENOMEM, "XT_ENOMEM"},
    {XT_EINVAL, "XT_EINVAL"},
    {XT_EPROTO, "XT_EPROTO"},
    {XT_EXML, "XT_EXML"},
    {XT_ETLS, "XT_ETLS"},
    {XT_ECERT, "XT_ECERT"},
    {XT_EAUTH, "XT_EAUTH"},
    {XT_ESTREAM, "XT_ESTREAM"},
    {XT_ECLOSED, "XT_ECLOSED"},
    {XT_ETIMEOUT, "XT_ETIMEOUT"},
    {XT_ETOOBIG, "XT_ETOOBIG"},
    {XT_EJID, "XT_EJID"},
    {XT_ESTATE, "XT_ESTATE"},
    {XT_EUNSUPPORTED, "XT_EUNSUPPORTED"},
    {XT_ENOTLS, "XT_ENOTLS"},
    {XT_ESTANZA, "XT_ESTANZA"},
    {XT_EREDIRECT, "XT_EREDIRECT"},
    {XT_EDOWNGRADE, "XT_EDOWNGRADE"},
    {XT_ENOTFOUND, "XT_ENOTFOUND"},
};

static const char *errname(int code)
{
    for (size_t i = 0; i < sizeof errnames / sizeof *errnames; i++)
        if (errnames[i].code == code)
            return errnames[i].name;
    return "XT_E?";
}

static int errcode(const char *name)
{
    for (size_t i = 0; i < sizeof errnames / sizeof *errnames; i++)
        if (strcmp(errnames[i].name, name) == 0)
            return errnames[i].code;
    return 1;
}

static void record(run *r, sb *d)
{
    if (r->nev < sizeof r->events / sizeof *r->events)
        r->events[r->nev++] = d->s;
    else
        free(d->s);
}

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    run *r = ud;
    sb d = {0};
    char num[32];
    switch (ev->type) {
    case XT_EV_STARTTLS:
        sb_add(&d, "starttls");
        break;
    case XT_EV_ONLINE:
        sb_add(&d, "online");
        sb_field(&d, "jid", ev->u.online.jid);
        sb_field(&d, "resumed", ev->u.online.resumed ? "1" : "0");
        break;
    case XT_EV_ROSTER:
        if (ev->u.roster.loaded) {
            snprintf(num, sizeof num, "%zu", xt_conn_roster_count(c));
            sb_add(&d, "roster loaded");
            sb_field(&d, "count", num);
        } else {
            const xt_roster_item *it = ev->u.roster.item;
            sb_add(&d, "roster item");
            sb_field(&d, "jid", it->jid);
            sb_field(&d, "sub", it->subscription);
            sb_field(&d, "ask", it->ask);
            sb_field(&d, "name", it->name);
            if (it->ngroups) {
                sb_add(&d, " groups=");
                for (size_t i = 0; i < it->ngroups; i++) {
                    if (i)
                        sb_add(&d, ",");
                    sb_add(&d, it->groups[i]);
                }
            }
        }
        break;
    case XT_EV_MESSAGE: {
        const xt_message *m = &ev->u.message;
        sb_add(&d, "message");
        sb_field(&d, "from", m->from);
        sb_field(&d, "to", m->to);
        sb_field(&d, "type", m->type);
        sb_field(&d, "id", m->id);
        sb_field(&d, "body", m->body);
        sb_field(&d, "subject", m->subject);
        sb_field(&d, "thread", m->thread);
        sb_field(&d, "lang", m->lang);
        sb_field(&d, "stamp", m->stamp);
        sb_field(&d, "origin_id", m->origin_id);
        sb_field(&d, "stanza_id", m->stanza_id);
        if (m->receipt_request)
            sb_field(&d, "receipt_request", "1");
        sb_field(&d, "receipt_id", m->receipt_id);
        sb_field(&d, "chatstate", xt_chatstate_name(m->chatstate));
        sb_field(&d, "replace_id", m->replace_id);
        /* The deprecated reader still answers (the ABI), the same as
         * m->file for an OOB element. */
        xt_oob oob;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        int has_oob = xt_oob_get(m->stanza, &oob);
#pragma GCC diagnostic pop
        if (has_oob) {
            sb_field(&d, "oob", oob.url);
            sb_field(&d, "oob_desc", oob.desc);
        }
        if (m->me)
            sb_field(&d, "me", "1");
        if (m->file) {
            sb_field(&d, "file_url", m->file->url);
            sb_field(&d, "file_desc", m->file->desc);
            sb_field(&d, "file_name", m->file->name);
            sb_field(&d, "file_type", m->file->media_type);
            if (m->file->size >= 0) {
                snprintf(num, sizeof num, "%lld", (long long)m->file->size);
                sb_field(&d, "file_size", num);
            }
            snprintf(num, sizeof num, "%u", m->file->flags);
            sb_field(&d, "file_flags", num);
        }
        if (m->source != XT_SRC_LIVE)
            sb_field(&d, "source", xt_msg_source_name(m->source));
        if (m->direction == XT_DIR_OUT)
            sb_field(&d, "dir", "out");
        if (m->timestamp_ms) {
            snprintf(num, sizeof num, "%lld", (long long)m->timestamp_ms);
            sb_field(&d, "ts", num);
        }
        sb_field(&d, "room", m->room); /* group chat (transcript_muc.c) */
        sb_field(&d, "nick", m->nick);
        if (m->mention)
            sb_field(&d, "mention", "1");
        if (m->from_self)
            sb_field(&d, "self", "1");
        assert_non_null(m->stanza);
        break;
    }
    case XT_EV_RECEIPT:
        sb_add(&d, "receipt");
        sb_field(&d, "from", ev->u.receipt.from);
        sb_field(&d, "id", ev->u.receipt.id);
        break;
    case XT_EV_CHATSTATE:
        sb_add(&d, "chatstate");
        sb_field(&d, "from", ev->u.chatstate.from);
        sb_field(&d, "state", xt_chatstate_name(ev->u.chatstate.state));
        break;
    case XT_EV_REACTION:
        sb_add(&d, "reaction");
        sb_field(&d, "from", ev->u.reaction.from);
        sb_field(&d, "id", ev->u.reaction.id);
        sb_add(&d, " reactions=");
        for (size_t i = 0; i < ev->u.reaction.n; i++) {
            if (i)
                sb_add(&d, ",");
            sb_add(&d, ev->u.reaction.reactions[i]);
        }
        break;
    case XT_EV_PEP: {
        const xt_pep_event *pe = ev->u.pep;
        sb_add(&d, "pep");
        sb_field(&d, "from", pe->from);
        sb_field(&d, "node", pe->node);
        sb_field(&d, "kind", xt_pep_kind_name(pe->kind));
        sb_field(&d, "item", pe->item_id);
        sb_field(&d, "payload", pe->payload ? xt_stanza_name(pe->payload) : NULL);
        sb_field(&d, "nick", xt_conn_nick(c, pe->from));
        break;
    }
    case XT_EV_RETRACTION:
        sb_add(&d, "retraction");
        sb_field(&d, "from", ev->u.retraction.from);
        sb_field(&d, "id", ev->u.retraction.id);
        break;
    case XT_EV_PRESENCE: {
        const xt_presence *p = &ev->u.presence;
        sb_add(&d, "presence");
        sb_field(&d, "from", p->from);
        sb_field(&d, "type", p->type);
        sb_field(&d, "show", p->show);
        sb_field(&d, "status", p->status);
        snprintf(num, sizeof num, "%d", p->priority);
        sb_field(&d, "priority", num);
        break;
    }
    case XT_EV_SUBSCRIPTION: {
        const xt_subscription *s = &ev->u.subscription;
        sb_add(&d, "subscription");
        sb_field(&d, "from", s->from);
        sb_field(&d, "type", s->type);
        sb_field(&d, "status", s->status);
        break;
    }
    case XT_EV_STANZA:
        if (!r->record_stanza)
            return;
        sb_add(&d, "stanza");
        sb_field(&d, "name", xt_stanza_name(ev->u.stanza));
        sb_field(&d, "type", xt_stanza_attr(ev->u.stanza, "type"));
        break;
    case XT_EV_DISCONNECTED: {
        const xt_disconnected *x = &ev->u.disconnected;
        sb_add(&d, "disconnected");
        sb_field(&d, "retry", x->retry ? "1" : "0");
        sb_field(&d, "error", errname(x->error));
        sb_field(&d, "condition", x->condition);
        sb_field(&d, "text", x->text);
        sb_field(&d, "redirect", x->redirect);
        break;
    }
    case XT_EV_ACKED:
        sb_add(&d, "acked");
        sb_field(&d, "id", ev->u.acked.id);
        break;
    case XT_EV_SERVER_INFO:
        sb_add(&d, "server_info");
        snprintf(num, sizeof num, "%zu", ev->u.server_info->nfeatures);
        sb_field(&d, "features", num);
        sb_field(&d, "jid", ev->u.server_info->jid);
        break;
    case XT_EV_ARCHIVE: {
        const xt_archive_event *a = ev->u.archive;
        sb_add(&d, a->done ? "archive done" : "archive page");
        snprintf(num, sizeof num, "%d", a->tag);
        sb_field(&d, "tag", num);
        snprintf(num, sizeof num, "%zu", a->count);
        sb_field(&d, "count", num);
        if (a->done) {
            sb_field(&d, "status", errname(a->status));
            sb_field(&d, "complete", a->complete ? "1" : "0");
        }
        sb_field(&d, "last", a->last_id);
        break;
    }
    case XT_EV_CAPS:
        sb_add(&d, "caps");
        sb_field(&d, "jid", ev->u.caps->jid);
        sb_field(&d, "ver", ev->u.caps->ver);
        snprintf(num, sizeof num, "%zu", ev->u.caps->nfeatures);
        sb_field(&d, "features", num);
        sb_field(&d, "fresh", ev->u.caps->fresh ? "1" : "0");
        break;
    default: {
        char muc[4096];
        sb_add(&d, tr_muc_describe(ev, muc, sizeof muc) ? muc : "unknown");
        break;
    }
    }
    record(r, &d);
}

static void on_disco_info(xt_conn *c, int status, const xt_disco_info *info, void *ud)
{
    (void)c;
    run *r = ud;
    sb d = {0};
    char num[32];
    sb_add(&d, "disco_info");
    sb_field(&d, "status", errname(status));
    if (info) {
        sb_field(&d, "jid", info->jid);
        sb_field(&d, "node", info->node);
        snprintf(num, sizeof num, "%zu", info->nidentities);
        sb_field(&d, "identities", num);
        if (info->nidentities)
            sb_field(&d, "category", info->identities[0].category);
        snprintf(num, sizeof num, "%zu", info->nfeatures);
        sb_field(&d, "features", num);
    }
    record(r, &d);
}

static void on_disco_items(xt_conn *c, int status, const xt_disco_items *items, void *ud)
{
    (void)c;
    run *r = ud;
    sb d = {0};
    sb_add(&d, "disco_items");
    sb_field(&d, "status", errname(status));
    if (items) {
        sb_field(&d, "jid", items->jid);
        for (size_t i = 0; i < items->nitems; i++)
            sb_field(&d, "item", items->items[i].jid);
    }
    record(r, &d);
}

static void on_upload_service(xt_conn *c, int status, const xt_upload_service *svc, void *ud)
{
    (void)c;
    run *r = ud;
    sb d = {0};
    char num[32];
    sb_add(&d, "upload_service");
    sb_field(&d, "status", errname(status));
    if (svc) {
        sb_field(&d, "jid", svc->jid);
        snprintf(num, sizeof num, "%llu", (unsigned long long)svc->max_size);
        sb_field(&d, "max", num);
    }
    record(r, &d);
}

/* upload_slot status=S put=P get=G header=NAME:VALUE... refusal=N max=M
 * retry=R detail=D (xtalk/upload.h) */
static void on_upload_slot(xt_conn *c, int status, const xt_upload_slot *slot, void *ud)
{
    (void)c;
    run *r = ud;
    sb d = {0};
    char num[64];
    sb_add(&d, "upload_slot");
    sb_field(&d, "status", errname(status));
    assert_non_null(slot);
    sb_field(&d, "put", slot->put_url);
    sb_field(&d, "get", slot->get_url);
    for (size_t i = 0; i < slot->nheaders; i++) {
        sb hv = {0};
        sb_add(&hv, slot->headers[i].name);
        sb_add(&hv, ":");
        sb_add(&hv, slot->headers[i].value);
        sb_field(&d, "header", hv.s);
        free(hv.s);
    }
    snprintf(num, sizeof num, "%d", (int)slot->refusal);
    sb_field(&d, "refusal", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)slot->max_size);
    sb_field(&d, "max", num);
    sb_field(&d, "retry", slot->retry_stamp);
    sb_field(&d, "detail", slot->detail);
    record(r, &d);
}

static void on_iq(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)c;
    run *r = ud;
    sb d = {0};
    sb_add(&d, "iq");
    sb_field(&d, "status", errname(status));
    /* vCard and nickname results (im.h): what the readers find. */
    sb_field(&d, "fn", xt_vcard_field(reply, "FN"));
    sb_field(&d, "org", xt_vcard_field(reply, "ORG/ORGNAME"));
    sb_field(&d, "nick", xt_nick_of(reply));
    if (reply && xt_stanza_child(reply, "vCard", "vcard-temp")) {
        xt_stanza_free(r->vcard);
        r->vcard = xt_stanza_copy(reply);
    }
    record(r, &d);
}

/* bookmarks status=S store=pep n=N list=ROOM|NAME|NICK|AUTOJOIN|PW,...
 * (PW only says whether one is there: "pw" or "-"). */
static void on_bookmarks(xt_conn *c, int status, const xt_bookmark_list *l, void *ud)
{
    (void)c;
    run *r = ud;
    sb d = {0};
    sb_add(&d, "bookmarks");
    sb_field(&d, "status", errname(status));
    if (l) {
        char n[32];
        snprintf(n, sizeof n, "%zu", l->n);
        sb_field(&d, "store", xt_bookmark_store_name(l->store));
        sb_field(&d, "n", n);
        if (l->n)
            sb_add(&d, " list=");
        for (size_t i = 0; i < l->n; i++) {
            const xt_bookmark *b = &l->items[i];
            sb_add(&d, i ? "," : "");
            sb_add(&d, b->room);
            sb_add(&d, "|");
            sb_add(&d, b->name ? b->name : "-");
            sb_add(&d, "|");
            sb_add(&d, b->nick ? b->nick : "-");
            sb_add(&d, b->autojoin ? "|1|" : "|0|");
            sb_add(&d, b->password ? "pw" : "-");
        }
    }
    record(r, &d);
}

static void on_log(void *ud, int level, const char *msg)
{
    run *r = ud;
    char pre[16];
    snprintf(pre, sizeof pre, "%d: ", level);
    sb_add(&r->log, pre);
    sb_add(&r->log, msg);
    sb_add(&r->log, "\n");
}

static int failf(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(run *r, const char *fmt, ...)
{
    int n = snprintf(r->err, sizeof r->err, "%s:%d: ", r->file, r->lineno);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void drain(run *r)
{
    const uint8_t *p;
    size_t n;
    while (r->c && (n = xt_conn_pending(r->c, &p)) > 0) {
        sb_addn(&r->out, (const char *)p, n);
        xt_conn_consume(r->c, n);
    }
}

/* RANDOM: fixed -- bytes 0, 1, 2, ... across all calls of one run. */
static int fixed_random(void *ud, uint8_t *buf, size_t len)
{
    run *r = ud;
    for (size_t i = 0; i < len; i++)
        buf[i] = r->rng_next++;
    return XT_RANDOM_OK;
}

/* The FAST token callback, recorded as an event. */
static void on_fast_token(void *ud, const char *mech, const char *token, const char *expiry)
{
    run *r = ud;
    sb d = {0};
    sb_add(&d, "fast_token mech=");
    sb_add(&d, mech ? mech : "(null)");
    if (token) {
        sb_add(&d, " token=");
        sb_add(&d, token);
        sb_add(&d, " expiry=");
        sb_add(&d, expiry ? expiry : "(null)");
    } else {
        sb_add(&d, " forget");
    }
    record(r, &d);
}

static int ensure_conn(run *r)
{
    if (r->c)
        return 0;
    xt_conn_opts *o = NULL;
    int rc = xt_conn_opts_new(r->use_test_mem ? &test_mem : NULL, &o);
    if (!rc)
        rc = xt_conn_opts_set_jid(o, r->jid);
    if (!rc)
        rc = xt_conn_opts_set_password(o, r->password);
    if (!rc)
        rc = xt_conn_opts_set_resource(o, r->resource[0] ? r->resource : NULL);
    if (!rc)
        rc = xt_conn_opts_set_flags(o, r->flags);
    if (!rc)
        rc = xt_conn_opts_set_timeouts(o, r->iq_timeout, r->nego_timeout);
    if (!rc)
        rc = xt_conn_opts_set_keepalive(o, r->ping_interval, r->ping_timeout);
    if (!rc)
        rc = xt_conn_opts_set_acks(o, r->ack_every, r->ack_delay, r->ack_timeout);
    if (!rc)
        rc = xt_conn_opts_set_sm_queue(o, r->max_unacked);
    if (!rc)
        rc = xt_conn_opts_set_sasl_hint(o, r->hint[0] ? r->hint : NULL);
    if (!rc)
        rc = xt_conn_opts_set_log(o, on_log, r);
    if (!rc && r->notify[0])
        rc = xt_conn_opts_add_pep_notify(o, r->notify);
    if (!rc && r->fixed_random)
        rc = xt_conn_opts_set_random(o, fixed_random, r);
    if (!rc && r->id_prefix[0])
        rc = xt_conn_opts_set_id_prefix(o, r->id_prefix);
    if (!rc && r->ua[0]) {
        char *sw = strchr(r->ua, ' ');
        if (sw)
            *sw++ = '\0';
        rc = xt_conn_opts_set_user_agent(o, r->ua, sw, NULL);
        if (sw)
            sw[-1] = ' ';
    }
    if (!rc && r->fast[0]) {
        char *tok = strchr(r->fast, ' ');
        if (tok)
            *tok++ = '\0';
        rc = xt_conn_opts_set_fast_token(o, r->fast, tok);
        if (tok)
            tok[-1] = ' ';
    }
    if (!rc)
        rc = xt_conn_opts_set_fast_token_cb(o, on_fast_token, r);
    if (!rc)
        rc = xt_conn_new(o, &r->c);
    xt_conn_opts_free(o);
    if (rc)
        return failf(r, "xt_conn_new: %s", errname(rc));
    if (!r->fixed_random) {
        xt_conn_set_test_id_prefix(r->c, "t");
        if (r->nonce[0] && xt_conn_set_test_nonce(r->c, r->nonce))
            return failf(r, "set_test_nonce failed");
    }
    if (xt_conn_on(r->c, XT_EV_ALL, on_event, r) <= 0)
        return failf(r, "xt_conn_on failed");
    return 0;
}

static const char *state_names[] = {"new",  "stream", "tls",     "auth",
                                    "bind", "online", "closing", "closed"};

static int do_call(run *r, char *arg, int want)
{
    char *sp = strchr(arg, ' ');
    char *rest = sp ? sp + 1 : NULL;
    if (sp)
        *sp = '\0';
    int rc;
    if (strcmp(arg, "ping") == 0) {
        rc = xt_conn_ping(r->c, rest, on_iq, r);
    } else if (strcmp(arg, "pep_publish") == 0) {
        /* pep_publish NODE ID TEXT: a <nick xmlns='http://jabber.org/protocol/nick'>TEXT</nick> */
        char node[128] = "", id[64] = "", text[128] = "";
        if (rest)
            sscanf(rest, "%127s %63s %127[^\n]", node, id, text);
        xt_stanza *nick = xt_stanza_new(NULL, "nick", "http://jabber.org/protocol/nick");
        assert_non_null(nick);
        assert_int_equal(xt_stanza_add_text(nick, text, strlen(text)), 0);
        rc = xt_pep_publish(r->c, node, strcmp(id, "-") ? id : NULL, nick, on_iq, r);
        xt_stanza_free(nick);
    } else if (strcmp(arg, "pep_items") == 0) {
        char jid[256] = "", node[128] = "";
        unsigned max = 0;
        if (rest)
            sscanf(rest, "%255s %127s %u", jid, node, &max);
        rc = xt_pep_items(r->c, strcmp(jid, "-") ? jid : NULL, node, max, on_iq, r);
    } else if (strcmp(arg, "selfping") == 0) {
        /* selfping QUIET_MS TIMEOUT_MS */
        unsigned q = 0, t = 0;
        if (rest)
            sscanf(rest, "%u %u", &q, &t);
        rc = xt_muc_selfping_set(r->c, q, t);
    } else if (strcmp(arg, "bookmarks_fetch") == 0) {
        rc = xt_bookmarks_fetch(r->c, on_bookmarks, r);
    } else if (strcmp(arg, "bookmarks_set") == 0) {
        /* bookmarks_set ROOM NAME NICK AUTOJOIN PASSWORD ("-" = none) */
        char room[256] = "-", name[128] = "-", nick[128] = "-", pw[128] = "-";
        int aj = 0;
        if (rest)
            sscanf(rest, "%255s %127s %127s %d %127s", room, name, nick, &aj, pw);
#define OPT(s) (strcmp((s), "-") ? (s) : NULL)
        xt_bookmark b = {OPT(room), OPT(name), OPT(nick), OPT(pw), aj};
#undef OPT
        rc = xt_bookmarks_set(r->c, &b, on_bookmarks, r);
    } else if (strcmp(arg, "bookmarks_remove") == 0) {
        rc = xt_bookmarks_remove(r->c, rest, on_bookmarks, r);
    } else if (strcmp(arg, "upload_discover") == 0) {
        rc = xt_upload_discover(r->c, on_upload_service, r);
    } else if (strcmp(arg, "upload_slot") == 0) {
        /* upload_slot SERVICE|- NAME SIZE TYPE|- */
        char svc[256] = "", name[256] = "", type[128] = "";
        unsigned long long size = 0;
        if (rest)
            sscanf(rest, "%255s %255s %llu %127s", svc, name, &size, type);
        rc = xt_upload_request_slot(r->c, strcmp(svc, "-") ? svc : NULL, name, (uint64_t)size,
                                    strcmp(type, "-") && type[0] ? type : NULL, on_upload_slot, r);
    } else if (strcmp(arg, "message_oob") == 0) {
        /* message_oob TO URL: body and XEP-0066 url the same */
        char *url = rest ? strchr(rest, ' ') : NULL;
        if (url)
            *url++ = '\0';
        xt_message_extras x = {.oob_url = url};
        rc = xt_conn_send_message_ex(r->c, rest ? rest : "", NULL, url, NULL, NULL, &x, NULL);
    } else if (strcmp(arg, "archive_position") == 0) {
        rc = xt_conn_set_archive_position(r->c, rest);
    } else if (strcmp(arg, "mam_before") == 0 || strcmp(arg, "mam_both") == 0) {
        /* mam_before WITH BEFORE_ID MAX; mam_both: after and before at once */
        char with[256] = "", before[256] = "";
        unsigned max = 0;
        if (rest)
            sscanf(rest, "%255s %255s %u", with, before, &max);
        xt_mam_query q = {.with = with, .before_id = before, .max_total = max, .page_size = max};
        if (arg[4] == 'b' && arg[5] == 'o')
            q.after_id = "x";
        rc = xt_mam_fetch(r->c, &q);
        if (rc > 0)
            rc = 0;
    } else if (strcmp(arg, "mam_room") == 0) {
        /* mam_room ROOM AFTER_ID|- PAGE: a room's archive, forward */
        char room[256] = "", after[256] = "-";
        unsigned page = 0;
        if (rest)
            sscanf(rest, "%255s %255s %u", room, after, &page);
        xt_mam_query q = {.archive = room, .page_size = page,
                          .after_id = strcmp(after, "-") ? after : NULL};
        rc = xt_mam_fetch(r->c, &q);
        if (rc > 0)
            rc = 0;
    } else if (strcmp(arg, "disco_info") == 0 || strcmp(arg, "disco_items") == 0) {
        char *node = rest ? strchr(rest, ' ') : NULL;
        if (node)
            *node++ = '\0';
        const char *to = rest && strcmp(rest, "-") != 0 ? rest : NULL;
        rc = arg[6] == 'i' && arg[7] == 'n'
                 ? xt_disco_info_query(r->c, to, node, on_disco_info, r)
                 : xt_disco_items_query(r->c, to, node, on_disco_items, r);
    } else if (strcmp(arg, "message") == 0) {
        char *body = rest ? strchr(rest, ' ') : NULL;
        if (body)
            *body++ = '\0';
        char id[64] = "";
        rc = xt_conn_send_message(r->c, rest ? rest : "", NULL, body, NULL, id);
        /* id_out is the id on the wire: the prefix ids start with. */
        const char *pre = r->fixed_random ? r->id_prefix : "t";
        if (!rc && strncmp(id, pre, strlen(pre)) != 0)
            return failf(r, "message id %s", id);
    } else if (strcmp(arg, "message_id") == 0) {
        /* message_id TO ID BODY */
        char *id = rest ? strchr(rest, ' ') : NULL;
        if (id)
            *id++ = '\0';
        char *body = id ? strchr(id, ' ') : NULL;
        if (body)
            *body++ = '\0';
        rc = xt_conn_send_message_id(r->c, rest ? rest : "", NULL, body, NULL, id ? id : "");
    } else if (strcmp(arg, "message_ex") == 0) {
        /* message_ex [gc:]TO receipt|auto|-  STATE|- REPLACE_ID|- BODY... (im.h);
         * gc: sends type groupchat */
        char *f[4] = {NULL};
        char *p = rest;
        for (int i = 0; i < 4 && p; i++) {
            f[i] = p;
            p = strchr(p, ' ');
            if (p)
                *p++ = '\0';
        }
        xt_message_extras x = {0};
        x.request_receipt = !f[1] ? XT_RECEIPT_NONE
                            : strcmp(f[1], "receipt") == 0 ? XT_RECEIPT_REQUEST
                            : strcmp(f[1], "auto") == 0    ? XT_RECEIPT_AUTO
                                                           : XT_RECEIPT_NONE;
        for (int s = XT_CHATSTATE_ACTIVE; s <= XT_CHATSTATE_GONE; s++)
            if (f[2] && strcmp(f[2], xt_chatstate_name((xt_chatstate)s)) == 0)
                x.chatstate = (xt_chatstate)s;
        x.replace_id = f[3] && strcmp(f[3], "-") != 0 ? f[3] : NULL;
        const char *to = f[0] ? f[0] : "", *type = NULL;
        if (strncmp(to, "gc:", 3) == 0) {
            to += 3;
            type = "groupchat";
        }
        rc = xt_conn_send_message_ex(r->c, to, type, p, NULL, NULL, &x, NULL);
    } else if (strcmp(arg, "chatstate") == 0) {
        /* chatstate TO STATE */
        char *st = rest ? strchr(rest, ' ') : NULL;
        if (st)
            *st++ = '\0';
        xt_chatstate cs = XT_CHATSTATE_NONE;
        for (int s = XT_CHATSTATE_ACTIVE; s <= XT_CHATSTATE_GONE; s++)
            if (st && strcmp(st, xt_chatstate_name((xt_chatstate)s)) == 0)
                cs = (xt_chatstate)s;
        rc = xt_conn_send_chatstate(r->c, rest ? rest : "", cs);
    } else if (strcmp(arg, "react") == 0) {
        /* react TO MSGID [R1 R2 ...] */
        char *v[8];
        size_t n = 0;
        char *p = rest ? strchr(rest, ' ') : NULL;
        if (p)
            *p++ = '\0';
        char *mid = p;
        p = p ? strchr(p, ' ') : NULL;
        if (p)
            *p++ = '\0';
        while (p && n < 8) {
            v[n++] = p;
            p = strchr(p, ' ');
            if (p)
                *p++ = '\0';
        }
        rc = xt_conn_send_reactions(r->c, rest ? rest : "", NULL, mid ? mid : "",
                                    (const char *const *)v, n, NULL);
    } else if (strcmp(arg, "block") == 0 || strcmp(arg, "unblock") == 0) {
        /* block JID [JID2]; unblock [JID [JID2]] */
        const char *v[2];
        size_t n = 0;
        char *p = rest;
        while (p && *p && n < 2) {
            v[n++] = p;
            p = strchr(p, ' ');
            if (p)
                *p++ = '\0';
        }
        rc = arg[0] == 'b' ? xt_conn_block(r->c, v, n, on_iq, r)
                           : xt_conn_unblock(r->c, v, n, on_iq, r);
    } else if (strcmp(arg, "vcard") == 0) {
        rc = xt_conn_vcard_fetch(r->c, rest, on_iq, r);
    } else if (strcmp(arg, "nick") == 0) {
        rc = xt_conn_nick_fetch(r->c, rest, on_iq, r);
    } else if (strcmp(arg, "vcard_publish") == 0) {
        /* vcard_publish F=V|F=V...: fn nickname email url note ("F=" removes),
         * over the last vCard reply */
        xt_vcard_update u = {0};
        char *save = NULL;
        for (char *f = rest ? strtok_r(rest, "|", &save) : NULL; f; f = strtok_r(NULL, "|", &save)) {
            char *eq = strchr(f, '=');
            if (!eq)
                continue;
            *eq++ = '\0';
            const char **slot = strcmp(f, "fn") == 0         ? &u.fn
                                : strcmp(f, "nickname") == 0 ? &u.nickname
                                : strcmp(f, "email") == 0    ? &u.email
                                : strcmp(f, "url") == 0      ? &u.url
                                                             : &u.note;
            *slot = eq;
        }
        rc = xt_conn_vcard_publish(r->c, r->vcard, &u, on_iq, r);
    } else if (strcmp(arg, "nick_publish") == 0) {
        rc = xt_conn_nick_publish(r->c, rest ? rest : "", on_iq, r);
    } else if (strcmp(arg, "blocklist") == 0) {
        rc = xt_conn_blocklist_fetch(r->c, on_iq, r);
    } else if (strcmp(arg, "active") == 0) {
        rc = xt_conn_set_active(r->c, rest && atoi(rest));
    } else if (strcmp(arg, "receipts") == 0) {
        /* receipts authorized|always|never */
        xt_receipt_policy pol = rest && strcmp(rest, "always") == 0   ? XT_RECEIPTS_ALWAYS
                                : rest && strcmp(rest, "never") == 0 ? XT_RECEIPTS_NEVER
                                                                      : XT_RECEIPTS_AUTHORIZED;
        rc = xt_conn_set_receipt_policy(r->c, pol);
    } else if (strcmp(arg, "reset") == 0) {
        rc = xt_conn_reset(r->c);
    } else if (strcmp(arg, "sm_preset") == 0) {
        /* sm_preset IN OUT: XEP-0198 counters, to test the wrap at 2^32. */
        char *out = rest ? strchr(rest, ' ') : NULL;
        rc = out ? xt_stream_sm_preset(&r->c->s, (uint32_t)strtoul(rest, NULL, 10),
                                       (uint32_t)strtoul(out + 1, NULL, 10))
                 : XT_EINVAL;
    } else if (strcmp(arg, "presence") == 0) {
        char *status = rest ? strchr(rest, ' ') : NULL;
        if (status)
            *status++ = '\0';
        static const char *shows[] = {"available", "chat", "away", "xa", "dnd", "unavailable"};
        int show = -1;
        for (int i = 0; i < 6; i++)
            if (rest && strcmp(rest, shows[i]) == 0)
                show = i;
        rc = xt_conn_send_presence(r->c, (xt_show)show, status, 0);
    } else if (strcmp(arg, "subscribe") == 0) {
        rc = xt_conn_subscription(r->c, rest ? rest : "", "subscribe");
    } else if (strcmp(arg, "roster_set") == 0) {
        char *name = rest ? strchr(rest, ' ') : NULL;
        if (name)
            *name++ = '\0';
        const char *groups[] = {"Friends"};
        rc = xt_conn_roster_set(r->c, rest ? rest : "", name, groups, 1, on_iq, r);
    } else if (strcmp(arg, "roster_remove") == 0) {
        rc = xt_conn_roster_remove(r->c, rest ? rest : "", on_iq, r);
    } else if (strcmp(arg, "trim") == 0) {
        xt_conn_trim(r->c);
        rc = 0;
    } else if (strcmp(arg, "close") == 0) {
        rc = xt_conn_close(r->c);
    } else if (strcmp(arg, "eof") == 0) {
        rc = xt_conn_eof(r->c, 0, NULL, r->now);
    } else {
        char err[512] = "";
        if (!tr_muc_call(r->c, arg, rest, on_iq, r, &rc, err, sizeof err))
            return failf(r, "unknown CALL %s", arg);
        if (err[0])
            return failf(r, "%s", err);
    }
    if (rc != want)
        return failf(r, "CALL %s returned %s, expected %s", arg, errname(rc), errname(want));
    return 0;
}

static int do_check(run *r, char *arg)
{
    char a[256] = "", b[256] = "", c3[256] = "";
    char what[64];
    if (sscanf(arg, "%63s %255s %255s %255s", what, a, b, c3) < 1)
        return failf(r, "bad CHECK");
    if (strcmp(what, "mechanism") == 0) {
        const char *m = xt_conn_mechanism(r->c);
        if (!m || strcmp(m, a))
            return failf(r, "mechanism %s, expected %s", m ? m : "(none)", a);
    } else if (strcmp(what, "hint") == 0) {
        /* the rest of the line: the offer has spaces */
        const char *want = strchr(arg, ' ') ? strchr(arg, ' ') + 1 : "-";
        const char *h = xt_conn_sasl_hint(r->c);
        if (strcmp(want, "-") == 0 ? h != NULL : (!h || strcmp(h, want)))
            return failf(r, "hint [%s], expected [%s]", h ? h : "(none)", want);
    } else if (strcmp(what, "bound") == 0) {
        const char *m = xt_conn_bound_jid(r->c);
        if (strcmp(a, "-") == 0 ? m != NULL : (!m || strcmp(m, a)))
            return failf(r, "bound %s, expected %s", m ? m : "(none)", a);
    } else if (strcmp(what, "roster_count") == 0) {
        if (xt_conn_roster_count(r->c) != (size_t)atol(a))
            return failf(r, "roster_count %zu, expected %s", xt_conn_roster_count(r->c), a);
    } else if (strcmp(what, "roster") == 0) {
        const xt_roster_item *it = xt_conn_roster_item(r->c, (size_t)atol(a));
        if (!it || strcmp(it->jid, b) || strcmp(it->subscription, c3))
            return failf(r, "roster item %s: %s %s", a, it ? it->jid : "(none)",
                         it ? it->subscription : "");
    } else if (strcmp(what, "presence_count") == 0) {
        size_t n = xt_conn_presence_count(r->c, a);
        if (n != (size_t)atol(b))
            return failf(r, "presence_count %s = %zu, expected %s", a, n, b);
    } else if (strcmp(what, "unacked") == 0) {
        if (xt_conn_is_unacked(r->c, a) != atoi(b))
            return failf(r, "unacked %s = %d, expected %s", a, xt_conn_is_unacked(r->c, a), b);
    } else if (strcmp(what, "blocked") == 0) {
        if (xt_conn_is_blocked(r->c, a) != atoi(b))
            return failf(r, "blocked %s = %d, expected %s", a, xt_conn_is_blocked(r->c, a), b);
    } else if (strcmp(what, "blocklist") == 0) {
        /* blocklist N: the count, and loaded */
        if (xt_conn_blocklist_count(r->c) != (size_t)atol(a) || !xt_conn_blocklist_loaded(r->c))
            return failf(r, "blocklist count %zu (loaded %d), expected %s",
                         xt_conn_blocklist_count(r->c), xt_conn_blocklist_loaded(r->c), a);
    } else if (strcmp(what, "csi") == 0) {
        if (xt_conn_csi_offered(r->c) != atoi(a))
            return failf(r, "csi %d, expected %s", xt_conn_csi_offered(r->c), a);
    } else if (strcmp(what, "server_feature") == 0) {
        int has = xt_disco_has_feature(xt_conn_server_info(r->c), a);
        if (has != atoi(b))
            return failf(r, "server_feature %s = %d, expected %s", a, has, b);
    } else if (strcmp(what, "caps_features") == 0) {
        const char *const *f = NULL;
        size_t n = xt_conn_caps_features(r->c, a, &f);
        if (n != (size_t)atol(b))
            return failf(r, "caps_features %s = %zu, expected %s", a, n, b);
    } else if (strcmp(what, "carbons") == 0) {
        if (xt_conn_carbons_enabled(r->c) != atoi(a))
            return failf(r, "carbons %d, expected %s", xt_conn_carbons_enabled(r->c), a);
    } else if (strcmp(what, "nick") == 0) {
        /* nick JID NICK|-: xt_conn_nick */
        const char *n = xt_conn_nick(r->c, a);
        if (strcmp(b, "-") == 0 ? n != NULL : (!n || strcmp(n, b)))
            return failf(r, "nick %s = %s, expected %s", a, n ? n : "(none)", b);
    } else if (strcmp(what, "mam_supported") == 0) {
        /* mam_supported 1|0|XT_E...: xt_mam_supported */
        int want = strncmp(a, "XT_E", 4) == 0 ? errcode(a) : atoi(a);
        int got = xt_mam_supported(r->c);
        if (got != want)
            return failf(r, "mam_supported %d (%s), expected %s", got, errname(got), a);
    } else if (strcmp(what, "archive_position") == 0) {
        const char *p = xt_conn_archive_position(r->c);
        if (strcmp(a, "-") == 0 ? p != NULL : (!p || strcmp(p, a)))
            return failf(r, "archive_position %s, expected %s", p ? p : "(none)", a);
    } else if (strcmp(what, "sm") == 0) {
        if (xt_conn_sm_enabled(r->c) != atoi(a))
            return failf(r, "sm %d, expected %s", xt_conn_sm_enabled(r->c), a);
    } else if (strcmp(what, "deadline") == 0) {
        long long d = (long long)xt_conn_deadline(r->c);
        if (d != atoll(a))
            return failf(r, "deadline %lld, expected %s", d, a);
    } else {
        return failf(r, "unknown CHECK %s", what);
    }
    return 0;
}

static int run_file(run *r, const char *name, int depth);

static int do_line(run *r, char *line, int depth)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (!n || line[0] == '#')
        return 0;
    char *colon = strchr(line, ':');
    char empty[1] = "";
    char *arg = empty;
    const char *kw = line;
    if (colon && colon != line && (colon[1] == ' ' || colon[1] == '\0') &&
        strcspn(line, " ") > (size_t)(colon - line)) {
        *colon = '\0';
        arg = colon[1] ? colon + 2 : colon + 1;
    }
    const char *bad = NULL;
    char *sarg = substitute(arg, &bad);
    if (!sarg)
        return failf(r, "%s", bad);
    int rc = 0;

    if (strcmp(kw, "JID") == 0)
        snprintf(r->jid, sizeof r->jid, "%s", sarg);
    else if (strcmp(kw, "PASSWORD") == 0)
        snprintf(r->password, sizeof r->password, "%s", sarg);
    else if (strcmp(kw, "RESOURCE") == 0)
        snprintf(r->resource, sizeof r->resource, "%s", sarg);
    else if (strcmp(kw, "NONCE") == 0)
        snprintf(r->nonce, sizeof r->nonce, "%s", sarg);
    else if (strcmp(kw, "RANDOM") == 0)
        r->fixed_random = strcmp(sarg, "fixed") == 0;
    else if (strcmp(kw, "ID_PREFIX") == 0)
        snprintf(r->id_prefix, sizeof r->id_prefix, "%s", sarg);
    else if (strcmp(kw, "HINT") == 0)
        snprintf(r->hint, sizeof r->hint, "%s", sarg);
    else if (strcmp(kw, "UA") == 0)
        snprintf(r->ua, sizeof r->ua, "%s", sarg);
    else if (strcmp(kw, "FAST") == 0)
        snprintf(r->fast, sizeof r->fast, "%s", sarg);
    else if (strcmp(kw, "NOTIFY") == 0)
        snprintf(r->notify, sizeof r->notify, "%s", sarg);
    else if (strcmp(kw, "RECORD") == 0)
        r->record_stanza = strcmp(sarg, "stanza") == 0;
    else if (strcmp(kw, "FLAGS") == 0) {
        if (strstr(sarg, "direct_tls"))
            r->flags |= XT_CONN_DIRECT_TLS;
        if (strstr(sarg, "insecure"))
            r->flags |= XT_CONN_INSECURE_ALLOW_PLAINTEXT;
        if (strstr(sarg, "no_roster"))
            r->flags |= XT_CONN_NO_ROSTER;
        if (strstr(sarg, "no_presence"))
            r->flags |= XT_CONN_NO_PRESENCE;
        if (strstr(sarg, "no_plain"))
            r->flags |= XT_CONN_NO_PLAIN_MECH;
        if (strstr(sarg, "no_sm"))
            r->flags |= XT_CONN_NO_SM;
        if (strstr(sarg, "no_pipelining"))
            r->flags |= XT_CONN_NO_PIPELINING;
        if (strstr(sarg, "allow_downgrade"))
            r->flags |= XT_CONN_ALLOW_DOWNGRADE;
        if (strstr(sarg, "no_sasl2"))
            r->flags |= XT_CONN_NO_SASL2;
        if (strstr(sarg, "no_carbons"))
            r->flags |= XT_CONN_NO_CARBONS;
        if (strstr(sarg, "no_catchup"))
            r->flags |= XT_CONN_NO_ARCHIVE_CATCHUP;
    } else if (strcmp(kw, "CONFIG") == 0) {
        const char *p;
        if ((p = strstr(sarg, "ping_interval=")))
            r->ping_interval = (uint32_t)strtoul(p + 14, NULL, 10);
        if ((p = strstr(sarg, "ping_timeout=")))
            r->ping_timeout = (uint32_t)strtoul(p + 13, NULL, 10);
        if ((p = strstr(sarg, "iq_timeout=")))
            r->iq_timeout = (uint32_t)strtoul(p + 11, NULL, 10);
        if ((p = strstr(sarg, "nego_timeout=")))
            r->nego_timeout = (uint32_t)strtoul(p + 13, NULL, 10);
        if ((p = strstr(sarg, "ack_every=")))
            r->ack_every = (uint32_t)strtoul(p + 10, NULL, 10);
        if ((p = strstr(sarg, "ack_delay=")))
            r->ack_delay = (uint32_t)strtoul(p + 10, NULL, 10);
        if ((p = strstr(sarg, "ack_timeout=")))
            r->ack_timeout = (uint32_t)strtoul(p + 12, NULL, 10);
        if ((p = strstr(sarg, "max_unacked=")))
            r->max_unacked = (uint32_t)strtoul(p + 12, NULL, 10);
    } else if (strcmp(kw, "INCLUDE") == 0) {
        rc = run_file(r, sarg, depth + 1);
    } else if ((rc = ensure_conn(r)) != 0) {
        /* failf already set */
    } else if (strcmp(kw, "START") == 0) {
        int x = xt_conn_start(r->c, r->now);
        if (x)
            rc = failf(r, "start: %s", errname(x));
    } else if (strcmp(kw, "S") == 0) {
        size_t len = strlen(sarg);
        if (r->bytewise) {
            for (size_t i = 0; i < len; i++) {
                xt_conn_feed(r->c, sarg + i, 1, r->now);
                drain(r);
                if (xt_conn_get_state(r->c) == XT_STATE_CLOSED)
                    break;
            }
        } else {
            xt_conn_feed(r->c, sarg, len, r->now);
        }
    } else if (strcmp(kw, "C") == 0) {
        drain(r);
        const char *hay = r->out.s ? r->out.s + r->cursor : "";
        const char *f = strstr(hay, sarg);
        if (!f)
            rc = failf(r, "client output lacks [%s]; unread output: [%s]", sarg, hay);
        else
            r->cursor = (size_t)(f - r->out.s) + strlen(sarg);
    } else if (strcmp(kw, "!C") == 0) {
        drain(r);
        const char *hay = r->out.s ? r->out.s + r->cursor : "";
        if (strstr(hay, sarg))
            rc = failf(r, "client output has [%s]: [%s]", sarg, hay);
    } else if (strcmp(kw, "CNONE") == 0) {
        drain(r);
        if (r->out.n > r->cursor)
            rc = failf(r, "unexpected client output [%s]", r->out.s + r->cursor);
    } else if (strcmp(kw, "TLS") == 0 || strcmp(kw, "TLSREADY") == 0) {
        if (kw[3] == '\0') {
            if (r->evpos >= r->nev || strcmp(r->events[r->evpos], "starttls") != 0)
                rc = failf(r, "expected starttls event, got %s",
                           r->evpos < r->nev ? r->events[r->evpos] : "(none)");
            else
                r->evpos++;
        }
        if (!rc) {
            int x = xt_conn_tls_ready(r->c, NULL, r->now);
            if (x)
                rc = failf(r, "tls_ready: %s", errname(x));
        }
    } else if (strcmp(kw, "TLSCB") == 0) {
        /* TLSCB: [verified] [tls12] [more=TYPE:DATA] type data -- STARTTLS
         * with channel binding data: the default binding (type data),
         * another one beside it, a verified certificate, TLS 1.2. */
        char *cba = sarg; /* sarg is freed after the line */
        int verified = 0, tls12 = 0;
        xt_tls_binding more = {0};
        for (;;) {
            if (strncmp(cba, "verified ", 9) == 0) {
                verified = 1;
                cba += 9;
            } else if (strncmp(cba, "tls12 ", 6) == 0) {
                tls12 = 1;
                cba += 6;
            } else if (strncmp(cba, "more=", 5) == 0 && strchr(cba, ' ') && strchr(cba, ':')) {
                char *sep = strchr(cba, ':'), *end = strchr(cba, ' ');
                *sep = *end = '\0';
                more = (xt_tls_binding){
                    .type = cba + 5, .data = (const uint8_t *)(sep + 1), .len = strlen(sep + 1)};
                cba = end + 1;
            } else {
                break;
            }
        }
        char *sp = strchr(cba, ' ');
        if (!sp || r->evpos >= r->nev || strcmp(r->events[r->evpos], "starttls") != 0) {
            rc = failf(r, "TLSCB: bad line or no starttls event");
        } else {
            r->evpos++;
            *sp = '\0';
            xt_tls_info info = {.cb_type = cba,
                                .cb_data = (const uint8_t *)(sp + 1),
                                .cb_len = strlen(sp + 1),
                                .tls13 = !tls12,
                                .more = more.type ? &more : NULL,
                                .nmore = more.type ? 1 : 0,
                                .verified = verified};
            int x = xt_conn_tls_ready(r->c, &info, r->now);
            if (x)
                rc = failf(r, "tls_ready: %s", errname(x));
        }
    } else if (strcmp(kw, "FLOOD") == 0) {
        /* A peer that stops reading: sends fail with XT_ETOOBIG once the
         * output queue holds XT_OUT_LIMIT bytes; nothing grows past it. */
        size_t big = (size_t)1 << 20;
        char *body = malloc(big + 1);
        assert_non_null(body);
        memset(body, 'x', big);
        body[big] = '\0';
        int x = 0, sent = 0;
        while (sent < 100 &&
               (x = xt_conn_send_message(r->c, "a@example.com", NULL, body, NULL, NULL)) == 0)
            sent++;
        const uint8_t *p;
        size_t pend = xt_conn_pending(r->c, &p);
        free(body);
        if (x != XT_ETOOBIG || pend > XT_OUT_LIMIT || sent < 15)
            rc = failf(r, "flood: %s after %d sends, %zu bytes pending", errname(x), sent, pend);
        else
            xt_conn_consume(r->c, pend); /* the peer reads again */
    } else if (strcmp(kw, "T") == 0) {
        r->now += strtoull(sarg, NULL, 10);
        xt_conn_tick(r->c, r->now);
    } else if (strcmp(kw, "E") == 0) {
        char *sp = strchr(sarg, ' ');
        size_t tl = sp ? (size_t)(sp - sarg) : strlen(sarg);
        const char *ev = r->evpos < r->nev ? r->events[r->evpos] : NULL;
        if (!ev)
            rc = failf(r, "expected event [%s], none recorded", sarg);
        else if (strncmp(ev, sarg, tl) || (ev[tl] != ' ' && ev[tl] != '\0') ||
                 (sp && !strstr(ev, sp + 1)))
            rc = failf(r, "expected event [%s], got [%s]", sarg, ev);
        else
            r->evpos++;
    } else if (strcmp(kw, "STATE") == 0) {
        xt_conn_state st = xt_conn_get_state(r->c);
        if (strcmp(state_names[st], sarg))
            rc = failf(r, "state %s, expected %s", state_names[st], sarg);
    } else if (strcmp(kw, "DETAIL") == 0) {
        if (!strstr(xt_conn_errdetail(r->c), sarg))
            rc = failf(r, "errdetail [%s] lacks [%s]", xt_conn_errdetail(r->c), sarg);
    } else if (strcmp(kw, "!DETAIL") == 0) {
        if (strstr(xt_conn_errdetail(r->c), sarg))
            rc = failf(r, "errdetail [%s] has [%s]", xt_conn_errdetail(r->c), sarg);
    } else if (strcmp(kw, "LOG") == 0) {
        if (!r->log.s || !strstr(r->log.s, sarg))
            rc = failf(r, "log lacks [%s]", sarg);
    } else if (strcmp(kw, "!LOG") == 0) {
        if (r->log.s && strstr(r->log.s, sarg))
            rc = failf(r, "log has [%s]", sarg);
    } else if (strcmp(kw, "CHECK") == 0) {
        rc = do_check(r, sarg);
    } else if (strcmp(kw, "CALL") == 0) {
        rc = do_call(r, sarg, 0);
        drain(r);
    } else if (strcmp(kw, "CALLERR") == 0) {
        char *sp = strchr(sarg, ' ');
        if (!sp) {
            rc = failf(r, "bad CALLERR");
        } else {
            *sp = '\0';
            rc = do_call(r, sp + 1, errcode(sarg));
        }
        drain(r);
    } else {
        rc = failf(r, "unknown directive %s", kw);
    }
    free(sarg);
    drain(r);
    return rc;
}

static int run_file(run *r, const char *name, int depth)
{
    if (depth > 4)
        return failf(r, "INCLUDE too deep");
    const char *dir = getenv("XT_TRANSCRIPTS");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/transcripts", name);
    FILE *f = fopen(path, "r");
    if (!f)
        return failf(r, "cannot open %s", path);
    const char *saved_file = r->file;
    int saved_line = r->lineno;
    r->file = name;
    r->lineno = 0;
    char line[8192];
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        r->lineno++;
        rc = do_line(r, line, depth);
        if (getenv("XT_DEBUG_LIVE"))
            fprintf(stderr, "%s:%d live=%ld\n", r->file, r->lineno, A.live);
    }
    fclose(f);
    if (!rc) {
        r->file = saved_file;
        r->lineno = saved_line;
    }
    return rc;
}

/* Runs one transcript; 0 when every expectation held. */
static int run_transcript(const char *name, int bytewise, int use_test_mem, char *err,
                          size_t errlen)
{
    run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->bytewise = bytewise;
    r->use_test_mem = use_test_mem;
    r->now = 1000;
    snprintf(r->jid, sizeof r->jid, "user@example.com");
    snprintf(r->password, sizeof r->password, "pencil");
    r->file = name;
    int rc = run_file(r, name, 0);
    if (!rc && r->evpos < r->nev)
        rc = failf(r, "unmatched event at end: [%s]", r->events[r->evpos]);
    if (rc)
        snprintf(err, errlen, "%s%s", r->err, bytewise ? " (byte at a time)" : "");
    xt_stanza_free(r->vcard);
    xt_conn_free(r->c);
    for (size_t i = 0; i < r->nev; i++)
        free(r->events[i]);
    sb_free(&r->out);
    sb_free(&r->log);
    free(r);
    return rc;
}

static const char *const transcripts[] = {
    "login_scram_sha1.txt",
    "scram_fixed_random.txt",
    "login_plain.txt",
    "direct_tls.txt",
    "caps_own_lazy.txt",
    "auth_failure.txt",
    "sasl_failure_conditions.txt",
    "stream_error.txt",
    "see_other_host.txt",
    "no_starttls.txt",
    "no_starttls_insecure.txt",
    "bad_server_signature.txt",
    "starttls_failure.txt",
    "roster_push.txt",
    "iq_handling.txt",
    "iq_timeout.txt",
    "keepalive.txt",
    "im_events.txt",
    "receipts.txt",
    "chatstates.txt",
    "corrections.txt",
    "oob.txt",
    "reactions.txt",
    "blocking.txt",
    "csi.txt",
    "vcard_nick.txt",
    "bind_conflict.txt",
    "legacy_session.txt",
    "legacy_session_pipelined.txt",
    "login_pipelined.txt",
    "sasl_hint_stale.txt",
    "sasl_hint_refused.txt",
    "sasl_hint_unusable.txt",
    "sasl_hint_learned.txt",
    "sasl_hint_salted.txt",
    "sasl_hint_salt_stale.txt",
    "bind_conflict_pipelined.txt",
    "pipelined_starttls_refused.txt",
    "negotiation_timeout.txt",
    "server_close.txt",
    "sending.txt",
    "scram_plus.txt",
    "scram_plus_xep0440.txt",
    "scram_plus_xep0440_endpoint.txt",
    "cb_refused_retry.txt",
    "cb_refused_retry_closed.txt",
    "cb_refused_unverified.txt",
    "cb_refused_listed.txt",
    "cb_tls12_unique.txt",
    "cb_tls12_listed_endpoint.txt",
    "cb_nocb_hint.txt",
    "cb_nocb_hint_unverified.txt",
    "sasl_mech_syntax.txt",
    "downgrade_plain_after_scram.txt",
    "downgrade_plain_allowed.txt",
    "downgrade_pin_plus.txt",
    "downgrade_pin_after_cut.txt",
    "downgrade_pin_hash.txt",
    "plain_first_contact.txt",
    "cb_refused_pinned_plus.txt",
    "tls_wait_timeout.txt",
    "restricted_xml.txt",
    "policy_violation_negotiation.txt",
    "policy_violation_online.txt",
    "stream_errors_detected.txt",
    "stream_wrong_from.txt",
    "stanza_addressing.txt",
    "sm_enable.txt",
    "sm_close.txt",
    "close_no_sm.txt",
    "close_iq_request.txt",
    "sm_wrap.txt",
    "sm_too_high.txt",
    "sm_resume.txt",
    "sm_resume_failed.txt",
    "sm_refused.txt",
    "ack_ping.txt",
    "reset_no_sm.txt",
    "idle_trim.txt",
    "sasl2_login.txt",
    "sasl2_failure.txt",
    "sasl2_continue.txt",
    "sasl2_downgrade.txt",
    "sasl2_disabled.txt",
    "fast_use.txt",
    "fast_carbons_inline.txt",
    "fast_carbons_stale_hint.txt",
    "bind2_carbons_declined.txt",
    "fast_refused.txt",
    "fast_bad_proof.txt",
    "fast_not_offered.txt",
    "fast_tls12.txt",
    "fast_login_pipelined.txt",
    "fast_gone_pipelined.txt",
    "fast_no_hint.txt",
    "fast_resume.txt",
    "disco.txt",
    "carbons.txt",
    "mam.txt",
    "mam_disco_failed.txt",
    "mam_live_before_info.txt",
    "pep.txt",
    "bookmarks_pep.txt",
    "bookmarks_private.txt",
    "muc_selfping.txt",
    "muc_mam.txt",
    "upload.txt",
    "upload_hostile.txt",
    "pep_events.txt",
    "pep_notify.txt",
    "muc_join.txt",
    "muc_messages.txt",
    "muc_moderation.txt",
    "muc_invite.txt",
    "muc_owner.txt",
    "muc_hostile.txt",
};

static void test_transcripts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof transcripts / sizeof *transcripts; i++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            char err[1200] = "";
            int rc = run_transcript(transcripts[i], bytewise, 1, err, sizeof err);
            if (rc)
                fail_msg("%s", err);
            assert_int_equal(A.live, 0);
        }
    }
}

/* STYLE.md: fail each allocation in turn; every run must end cleanly
 * (no crash, nothing leaked), and the run with no failure must pass. */
static void test_alloc_failure(void **state)
{
    (void)state;
    const char *const names[] = {"login_scram_sha1.txt", "im_events.txt",   "login_pipelined.txt",
                                 "sasl_hint_stale.txt",  "sasl2_login.txt", "fast_use.txt",
                                 "muc_join.txt",         "muc_messages.txt", "muc_owner.txt",
                                 "bookmarks_private.txt", "bookmarks_pep.txt", "muc_selfping.txt"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        long n;
        for (n = 1; n < 100000; n++) {
            A = (alloc_state){.fail_at = n};
            char err[1200] = "";
            int rc = run_transcript(names[k], 0, 1, err, sizeof err);
            if (A.live != 0)
                fail_msg("%s: leak of %ld blocks when allocation %ld fails", names[k], A.live, n);
            if (!A.failed) {
                if (rc)
                    fail_msg("%s", err);
                break;
            }
        }
        assert_true(n > 10); /* the loop really exercised failures */
        A = (alloc_state){0};
    }
}

/* --- direct API checks ------------------------------------------------------------ */

static int removed_calls, other_calls, removal_id;

static void h_remove_self(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)ev;
    (void)ud;
    removed_calls++;
    assert_int_equal(xt_conn_off(c, removal_id), 0);
}

static void h_other(xt_conn *c, const xt_event *ev, void *ud)
{
    (void)c;
    (void)ev;
    (void)ud;
    other_calls++;
}

static void test_api(void **state)
{
    (void)state;
    xt_conn *c = NULL;
    xt_conn_opts *o = NULL;
    assert_int_equal(xt_conn_opts_new(NULL, NULL), XT_EINVAL);
    assert_int_equal(xt_conn_opts_new(NULL, &o), 0);
    assert_string_equal(xt_conn_opts_errdetail(o), "");
    assert_int_equal(xt_conn_new(o, &c), XT_EINVAL); /* no JID, no password */
    assert_int_equal(xt_conn_new(NULL, &c), XT_EINVAL);
    /* The JID is checked when set: no localpart means no SASL username. */
    assert_int_equal(xt_conn_opts_set_jid(o, "example.com"), XT_EJID);
    assert_non_null(strstr(xt_conn_opts_errdetail(o), "no localpart"));
    assert_int_equal(xt_conn_opts_set_jid(o, "a@@b"), XT_EJID);
    assert_non_null(strstr(xt_conn_opts_errdetail(o), "invalid account JID: "));
    assert_int_equal(xt_conn_opts_set_jid(o, NULL), XT_EINVAL);
    assert_int_equal(xt_conn_opts_set_jid(o, "user@example.com"), 0);
    assert_string_equal(xt_conn_opts_errdetail(o), "");
    assert_int_equal(xt_conn_new(o, &c), XT_EINVAL); /* still no password */
    assert_null(c);
    assert_int_equal(xt_conn_opts_set_password(o, NULL), XT_EINVAL);
    assert_int_equal(xt_conn_opts_set_password(o, "pencil"), 0);
    assert_int_equal(xt_conn_opts_set_initial_presence(o, XT_SHOW_AWAY, NULL, 500), XT_EINVAL);
    assert_int_equal(xt_conn_opts_set_initial_presence(o, XT_SHOW_UNAVAILABLE, NULL, 0), XT_EINVAL);
    assert_int_equal(xt_conn_opts_set_initial_presence(o, XT_SHOW_AWAY, "a\x01b", 0), XT_EINVAL);
    assert_int_equal(xt_conn_opts_set_resource(o, "a\x7f"), XT_EJID); /* a control character */
    assert_int_equal(xt_conn_opts_set_flags(o, 1u << 4), XT_EINVAL); /* retired bit */
    assert_int_equal(xt_conn_opts_set_flags(o, 1u << 20), XT_EINVAL);
    assert_int_equal(xt_conn_opts_set_flags(o, XT_CONN_NO_SM | XT_CONN_DIRECT_TLS), 0);
    assert_int_equal(xt_conn_opts_get_flags(o), XT_CONN_NO_SM | XT_CONN_DIRECT_TLS);
    assert_null(xt_conn_opts_get_mem(o)); /* made with NULL: malloc */
    void *lud = NULL;
    assert_null(xt_conn_opts_get_log(o, &lud));
    assert_int_equal(xt_conn_opts_set_flags(o, 0), 0);
    assert_int_equal(xt_conn_opts_set_id_prefix(o, "bad'quote"), XT_EINVAL);
    assert_int_equal(xt_conn_opts_set_id_prefix(o, "seventeen-chars-x"), XT_EINVAL);
    assert_int_equal(xt_conn_opts_set_id_prefix(o, "app-"), 0);
    assert_int_equal(xt_conn_new(o, &c), 0);
    /* The conn copied everything: the opts go now. */
    xt_conn_opts_free(o);
    xt_conn_opts_free(NULL);
    assert_string_equal(xt_conn_domain(c), "example.com");
    assert_int_equal(xt_conn_get_state(c), XT_STATE_NEW);
    assert_int_equal(xt_conn_deadline(c), -1);
    assert_null(xt_conn_bound_jid(c));
    assert_null(xt_conn_mechanism(c));
    assert_int_equal(xt_conn_send_message(c, "a@b", NULL, "hi", NULL, NULL), XT_ESTATE);
    assert_int_equal(xt_conn_ping(c, NULL, NULL, NULL), XT_ESTATE);
    assert_int_equal(xt_conn_feed(c, "<", 1, 0), XT_ESTATE); /* before start */
    assert_int_equal(xt_conn_off(c, 42), XT_ENOTFOUND);

    /* A handler removing itself during an event; the other still runs,
     * and the removed one never runs again. */
    removal_id = xt_conn_on(c, XT_EV_DISCONNECTED, h_remove_self, NULL);
    assert_true(removal_id > 0);
    assert_true(xt_conn_on(c, XT_EV_ALL, h_other, NULL) > removal_id);
    assert_int_equal(xt_conn_start(c, 100), 0);
    assert_int_equal(xt_conn_start(c, 100), XT_ESTATE);
    assert_int_equal(xt_conn_deadline(c), 100 + 60000);
    assert_int_equal(xt_conn_close(c), 0);
    assert_int_equal(xt_conn_get_state(c), XT_STATE_CLOSING);
    assert_int_equal(removed_calls, 0);
    assert_int_equal(xt_conn_eof(c, 0, NULL, 200), 0);
    assert_int_equal(xt_conn_get_state(c), XT_STATE_CLOSED);
    assert_int_equal(removed_calls, 1);
    assert_int_equal(other_calls, 1);
    assert_int_equal(xt_conn_eof(c, XT_EIO, NULL, 200), 0); /* once only */
    assert_int_equal(removed_calls, 1);
    assert_int_equal(other_calls, 1);
    assert_int_equal(xt_conn_close(c), XT_ESTATE);
    const uint8_t *p;
    size_t n = xt_conn_pending(c, &p);
    assert_true(n > 0);
    assert_true(n >= 16);
    assert_memory_equal(p + n - 16, "</stream:stream>", 16);
    xt_conn_free(c);
    xt_conn_free(NULL);
}

/* XEP-0368: a driver picks the transport per SRV target, before start. */
static void test_set_direct_tls(void **state)
{
    (void)state;
    xt_conn_opts *o = NULL;
    assert_int_equal(xt_conn_opts_new(NULL, &o), 0);
    assert_int_equal(xt_conn_opts_set_jid(o, "user@example.com"), 0);
    assert_int_equal(xt_conn_opts_set_password(o, "pencil"), 0);
    xt_conn *c = NULL;
    const uint8_t *p;
    assert_int_equal(xt_conn_new(o, &c), 0);
    assert_int_equal(xt_conn_set_direct_tls(c, 1), 0);
    assert_int_equal(xt_conn_start(c, 0), 0);
    assert_int_equal(xt_conn_pending(c, &p), 0); /* waits for the TLS handshake */
    assert_int_equal(xt_conn_get_state(c), XT_STATE_TLS);
    assert_int_equal(xt_conn_set_direct_tls(c, 0), XT_ESTATE);
    assert_int_equal(xt_conn_tls_ready(c, NULL, 1), 0);
    size_t n = xt_conn_pending(c, &p);
    assert_true(n > 35);
    assert_memory_equal(p, "<?xml version='1.0'?><stream:stream", 35);
    xt_conn_free(c);

    /* and back: STARTTLS for this target */
    assert_int_equal(xt_conn_opts_set_flags(o, XT_CONN_DIRECT_TLS), 0);
    assert_int_equal(xt_conn_new(o, &c), 0);
    xt_conn_opts_free(o);
    assert_int_equal(xt_conn_set_direct_tls(c, 0), 0);
    assert_int_equal(xt_conn_start(c, 0), 0);
    n = xt_conn_pending(c, &p);
    assert_true(n > 35);
    assert_memory_equal(p, "<?xml version='1.0'?><stream:stream", 35);
    assert_int_equal(xt_conn_get_state(c), XT_STATE_STREAM);
    xt_conn_free(c);
    assert_int_equal(xt_conn_set_direct_tls(NULL, 1), XT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_set_direct_tls),
        cmocka_unit_test(test_transcripts),
        cmocka_unit_test(test_alloc_failure),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    json_decref(scram_json);
    json_decref(misc_json);
    return rc;
}
