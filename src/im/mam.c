/*
 * XEP-0313 Message Archive Management over XEP-0059 result set paging:
 * fetches from our own archive (the login catch-up and xt_mam_fetch), one
 * page in flight per fetch, every result handed over as it arrives.
 *
 * Invariants: a result message is only believed when it comes from our
 * own account (no 'from', or our bare JID: XEP-0313 §4.1.2, the user's
 * archive) and names the queryid of a fetch of ours in flight, so a
 * contact cannot inject "archived" messages (the same attack as forged
 * carbons). mam.last_id only moves forward in archive order: by the
 * catch-up's own results while it runs, by any stanza-id of ours after.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"

#define XT_NS_DATA         "jabber:x:data"
#define MAM_DEFAULT_PAGE   50
#define MAM_DEFAULT_WINDOW 50
#define MAM_MAX_ID         255

struct xt_mam_query_int {
    xt_mam_query_int *next;
    int tag; /* 0: the catch-up */
    char qid[24];
    char *with, *start, *end;
    char *archive; /* a room's bare JID (prepared), NULL = our own */
    char *cursor;  /* RSM <after/> (forward) or <before/> (backward) value; NULL = none */
    int backward;  /* page with <before/> */
    int recent;    /* the catch-up without a position: one backward page */
    uint32_t page, max_total;
    size_t count;             /* delivered by this fetch */
    char *first_id, *last_id; /* this page's ends */
};

static void q_free(xt_conn *c, xt_mam_query_int *q)
{
    const xt_mem *m = c->s.mem;
    xt_free(m, q->with);
    xt_free(m, q->archive);
    xt_free(m, q->start);
    xt_free(m, q->end);
    xt_free(m, q->cursor);
    xt_free(m, q->first_id);
    xt_free(m, q->last_id);
    xt_free(m, q);
}

static void q_unlink(xt_conn *c, xt_mam_query_int *q)
{
    for (xt_mam_query_int **p = &c->mam.queries; *p; p = &(*p)->next)
        if (*p == q) {
            *p = q->next;
            return;
        }
}

void xt_mam_free(xt_conn *c)
{
    while (c->mam.queries) {
        xt_mam_query_int *q = c->mam.queries;
        c->mam.queries = q->next;
        q_free(c, q);
    }
    xt_free(c->s.mem, c->mam.last_id);
    c->mam.last_id = NULL;
}

static int set_str(xt_conn *c, char **slot, const char *v)
{
    char *copy = NULL;
    if (v && !(copy = xt_strdup(c->s.mem, v)))
        return XT_ENOMEM;
    xt_free(c->s.mem, *slot);
    *slot = copy;
    return 0;
}

/* A data form field <field var=var><value>v</value></field>. */
static int add_field(xt_stanza *x, const char *var, const char *type, const char *v)
{
    xt_stanza *f = xt_stanza_add_child(x, "field", NULL);
    if (!f || xt_stanza_set_attr(f, "var", var) || (type && xt_stanza_set_attr(f, "type", type)) ||
        !xt_stanza_add_text_child(f, "value", NULL, v))
        return XT_ENOMEM;
    return 0;
}

static void page_done(xt_conn *c, int status, const xt_stanza *reply, void *ud);

/* Sends the next page's query (XEP-0313 §4, XEP-0059 §2). */
static int send_page(xt_conn *c, xt_mam_query_int *q)
{
    uint32_t max = q->page;
    if (q->max_total && q->max_total - q->count < max)
        max = (uint32_t)(q->max_total - q->count);
    char maxs[16];
    snprintf(maxs, sizeof maxs, "%u", (unsigned)max);
    xt_free(c->s.mem, q->first_id);
    xt_free(c->s.mem, q->last_id);
    q->first_id = q->last_id = NULL;
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *qu = iq ? xt_stanza_add_child(iq, "query", XT_NS_MAM) : NULL;
    xt_stanza *x = qu ? xt_stanza_add_child(qu, "x", XT_NS_DATA) : NULL;
    xt_stanza *set = x ? xt_stanza_add_child(qu, "set", XT_NS_RSM) : NULL;
    int rc = set && !xt_stanza_set_attr(iq, "type", "set") &&
                     (!q->archive || !xt_stanza_set_attr(iq, "to", q->archive)) &&
                     !xt_stanza_set_attr(qu, "queryid", q->qid) &&
                     !xt_stanza_set_attr(x, "type", "submit") &&
                     !add_field(x, "FORM_TYPE", "hidden", XT_NS_MAM) &&
                     (!q->with || !add_field(x, "with", NULL, q->with)) &&
                     (!q->start || !add_field(x, "start", NULL, q->start)) &&
                     (!q->end || !add_field(x, "end", NULL, q->end)) &&
                     xt_stanza_add_text_child(set, "max", NULL, maxs)
                 ? 0
                 : XT_ENOMEM;
    /* XEP-0059 §2.5: an empty <before/> asks for the last page. */
    if (!rc && q->backward &&
        !xt_stanza_add_text_child(set, "before", NULL, q->cursor ? q->cursor : ""))
        rc = XT_ENOMEM;
    if (!rc && !q->backward && q->cursor &&
        !xt_stanza_add_text_child(set, "after", NULL, q->cursor))
        rc = XT_ENOMEM;
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, page_done, q);
    xt_stanza_free(iq);
    return rc;
}

static void emit_progress(xt_conn *c, xt_mam_query_int *q, int done, int status, int complete)
{
    xt_archive_event ae = {.tag = q->tag,
                           .done = done,
                           .status = status,
                           .complete = complete,
                           .count = q->count,
                           .first_id = q->first_id,
                           .last_id = q->last_id};
    xt_event ev = {.type = XT_EV_ARCHIVE, .u.archive = &ae};
    xt_conn_emit(c, &ev);
}

/* The fetch is over: tell, forget. */
static void finish(xt_conn *c, xt_mam_query_int *q, int status, int complete)
{
    q_unlink(c, q);
    if (q->tag == 0)
        c->mam.catching_up = 0;
    emit_progress(c, q, 1, status, complete);
    q_free(c, q);
}

static int start_recent(xt_conn *c, xt_mam_query_int *q);

static void page_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    xt_mam_query_int *q = ud;
    const xt_stanza *fin = reply ? xt_stanza_child(reply, "fin", XT_NS_MAM) : NULL;
    if (!status && !fin)
        status = XT_EPROTO;
    if (status == XT_ESTANZA && q->tag == 0 && !q->recent && q->cursor) {
        /* §6.1.2 / XEP-0059 §2.6: item-not-found, the archive no longer has
         * our position (expired, or another server): take the recent
         * window instead of nothing. */
        const xt_stanza *err = xt_stanza_child(reply, "error", NULL);
        if (err && xt_stanza_child(err, "item-not-found", XT_NS_STANZA_ERRORS)) {
            xt_stream_logf(&c->s, XT_LOG_INFO,
                           "archive position %s unknown to the server: fetching the newest "
                           "messages instead",
                           q->cursor);
            int rc = start_recent(c, q);
            if (!rc)
                return;
            status = rc;
        }
    }
    if (status) {
        if (status != XT_ECLOSED)
            xt_stream_logf(&c->s, XT_LOG_WARN, "archive query failed: %s", xt_strerror(status));
        finish(c, q, status, 0);
        return;
    }
    const char *complete_attr = xt_stanza_attr(fin, "complete");
    int complete =
        complete_attr && (strcmp(complete_attr, "true") == 0 || strcmp(complete_attr, "1") == 0);
    const xt_stanza *set = xt_stanza_child(fin, "set", XT_NS_RSM);
    const char *first = set ? xt_stanza_child_text(set, "first", XT_NS_RSM) : NULL;
    const char *last = set ? xt_stanza_child_text(set, "last", XT_NS_RSM) : NULL;
    emit_progress(c, q, 0, 0, complete);
    if (xt_stream_is_closed(&c->s))
        return; /* a handler closed: the stream's end finished q (ECLOSED) */
    /* The next page: after this page's last going forward, before its
     * first going back (XEP-0059 §2.2, §2.5). An empty page, the archive's
     * end, the total reached, or the one-page recent window end it. */
    const char *next = q->backward ? first : last;
    if (complete || !next || !*next || q->recent || (q->max_total && q->count >= q->max_total)) {
        finish(c, q, 0, complete);
        return;
    }
    int rc = set_str(c, &q->cursor, next);
    if (!rc)
        rc = send_page(c, q);
    if (rc)
        finish(c, q, rc, 0);
}

/* The catch-up turned into the newest window: one backward page. */
static int start_recent(xt_conn *c, xt_mam_query_int *q)
{
    xt_free(c->s.mem, q->cursor);
    q->cursor = NULL;
    q->recent = 1;
    q->backward = 1;
    q->page = c->mam.window ? c->mam.window : MAM_DEFAULT_WINDOW;
    return send_page(c, q);
}

static xt_mam_query_int *q_new(xt_conn *c, int tag)
{
    xt_mam_query_int *q = xt_calloc(c->s.mem, 1, sizeof *q);
    if (!q)
        return NULL;
    q->tag = tag;
    /* Unique among ours in flight; 'q' + tag + a per-conn counter. */
    static const char hex[] = "0123456789abcdef";
    unsigned n = (unsigned)++c->mam.next_tag;
    char *p = q->qid;
    *p++ = 'm';
    *p++ = 'a';
    *p++ = 'm';
    for (int i = 28; i >= 0; i -= 4)
        *p++ = hex[(n >> i) & 15];
    *p = '\0';
    q->page = MAM_DEFAULT_PAGE;
    return q;
}

/* Our archive exists: the account lists urn:xmpp:mam:2 (XEP-0313 §7),
 * or the server does (some list it there too). */
static int have_archive(const xt_conn *c)
{
    return xt_disco_has_feature(xt_conn_account_info(c), XT_NS_MAM) ||
           xt_disco_has_feature(xt_conn_server_info(c), XT_NS_MAM);
}

int xt_mam_supported(const xt_conn *c)
{
    if (!c)
        return XT_EINVAL;
    if (have_archive(c))
        return 1;
    int srv, acc;
    xt_disco_login_status(c, &srv, &acc);
    if (!xt_stream_is_online(&c->s) || !srv || !acc)
        return XT_ESTATE;
    return srv < 0 ? srv : acc < 0 ? acc : 0;
}

void xt_mam_session_new(xt_conn *c)
{
    c->mam.session_done = 0;
    /* Until the server's features say whether this session catches up, a
     * live id does not move the point either: the server hands out live
     * messages and carbons before its disco#info answer, and their ids
     * are newer than what was archived while we were away (what the old
     * session's unacked queue left to the archive, say). Moved there, the
     * catch-up would start after those and never show them: a loss seen
     * in test_reliability's exchange through faults (1900/2000). */
    c->mam.catching_up = !(xt_stream_flags(&c->s) & XT_CONN_NO_ARCHIVE_CATCHUP);
}

/* 1 while the catch-up's query is in flight. */
static int catchup_running(const xt_conn *c)
{
    for (const xt_mam_query_int *q = c->mam.queries; q; q = q->next)
        if (q->tag == 0)
            return 1;
    return 0;
}

int xt_mam_catchup(xt_conn *c)
{
    if ((xt_stream_flags(&c->s) & XT_CONN_NO_ARCHIVE_CATCHUP) || !have_archive(c) ||
        c->mam.session_done || catchup_running(c)) {
        /* None starts now: live ids move the point unless one runs. */
        c->mam.catching_up = catchup_running(c);
        return 0;
    }
    c->mam.catching_up = 0;
    xt_mam_query_int *q = q_new(c, 0);
    if (!q)
        return XT_ENOMEM;
    int rc = 0;
    if (c->mam.last_id) {
        rc = set_str(c, &q->cursor, c->mam.last_id);
        if (!rc)
            rc = send_page(c, q);
    } else {
        rc = start_recent(c, q);
    }
    if (rc) {
        q_free(c, q);
        return rc;
    }
    q->next = c->mam.queries;
    c->mam.queries = q;
    c->mam.catching_up = 1;
    c->mam.session_done = 1; /* once per session, whichever info said so */
    return 0;
}

int xt_mam_fetch(xt_conn *c, const xt_mam_query *in)
{
    if (!c || !in)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    if (!in->archive && !have_archive(c))
        return XT_EUNSUPPORTED;
    if ((in->after_id && in->before_id) || (in->after_id && !xt_im_text_ok(in->after_id)) ||
        (in->before_id && *in->before_id && !xt_im_text_ok(in->before_id)) ||
        (in->start && !xt_im_text_ok(in->start)) || (in->end && !xt_im_text_ok(in->end)))
        return XT_EINVAL;
    xt_jid *j = NULL, *a = NULL;
    int rc = in->with ? xt_jid_parse(c->s.mem, in->with, &j, NULL) : 0;
    if (!rc && in->archive && !(rc = xt_jid_parse(c->s.mem, in->archive, &a, NULL)) &&
        (xt_jid_resource(a) || !xt_jid_local(a)))
        rc = XT_EJID; /* a room: room@service */
    if (rc) {
        xt_jid_free(j);
        xt_jid_free(a);
        return rc;
    }
    xt_mam_query_int *q = c->mam.next_tag >= INT32_MAX - 1 ? NULL : q_new(c, c->mam.next_tag + 1);
    if (!q) {
        xt_jid_free(j);
        xt_jid_free(a);
        return c->mam.next_tag >= INT32_MAX - 1 ? XT_ETOOBIG : XT_ENOMEM;
    }
    q->backward = in->before_id != NULL;
    q->page = in->page_size ? in->page_size : MAM_DEFAULT_PAGE;
    q->max_total = in->max_total;
    if ((j && set_str(c, &q->with, xt_jid_bare(j))) ||
        (a && set_str(c, &q->archive, xt_jid_bare(a))) || set_str(c, &q->start, in->start) ||
        set_str(c, &q->end, in->end) ||
        set_str(c, &q->cursor,
                q->backward ? (*in->before_id ? in->before_id : NULL) : in->after_id))
        rc = XT_ENOMEM;
    xt_jid_free(j);
    xt_jid_free(a);
    if (!rc)
        rc = send_page(c, q);
    if (rc) {
        q_free(c, q);
        return rc;
    }
    q->next = c->mam.queries;
    c->mam.queries = q;
    return q->tag;
}

/* The catch-up point, id (at most MAM_MAX_ID bytes) or NULL. Every live
 * message moves it (xt_mam_saw_live): the buffer, once there, always has
 * room for the longest id, and is written over rather than allocated
 * again (issue 14: no allocation per received message). */
static int set_last_id(xt_conn *c, const char *id, size_t n)
{
    if (!id) {
        xt_free(c->s.mem, c->mam.last_id);
        c->mam.last_id = NULL;
        return 0;
    }
    if (!c->mam.last_id && !(c->mam.last_id = xt_malloc(c->s.mem, MAM_MAX_ID + 1)))
        return XT_ENOMEM;
    memcpy(c->mam.last_id, id, n);
    c->mam.last_id[n] = '\0';
    return 0;
}

/* Moves the catch-up point to id (an archive id of ours, newer than the
 * last one in archive order by the caller's knowledge). */
static int advance(xt_conn *c, const char *id, int64_t ms)
{
    size_t n;
    if (!id || !*id || (n = strlen(id)) > MAM_MAX_ID)
        return 0;
    c->mam.last_ms = ms;
    return set_last_id(c, id, n);
}

int xt_mam_on_result(xt_conn *c, const xt_stanza *outer, const xt_stanza *result)
{
    const char *from = xt_stanza_attr(outer, "from");
    const char *qid = xt_stanza_attr(result, "queryid");
    xt_mam_query_int *q = c->mam.queries;
    while (q && (!qid || strcmp(q->qid, qid) != 0))
        q = q->next;
    /* A room's archive answers from the room (XEP-0313 §6); ours from
     * our account. Whose it is was fixed when the query went out. */
    int from_ok = q && q->archive
                      ? from && xt_jid_str_bare_equal(from, q->archive) && !strchr(from, '/')
                      : !from || xt_im_is_own_bare(c, from);
    if (!from_ok || !q) {
        xt_stream_logf(&c->s, XT_LOG_WARN,
                       "dropped an archive result from %s: %s (XEP-0313 §4.1.2)",
                       from ? from : "(no sender)",
                       q ? "not our own archive" : "no query of ours has its queryid");
        return 0;
    }
    const char *id = xt_stanza_attr(result, "id");
    const xt_stanza *fwd = xt_stanza_child(result, "forwarded", XT_NS_FORWARD);
    const xt_stanza *inner = fwd ? xt_stanza_child(fwd, "message", XT_NS_CLIENT) : NULL;
    if (!inner || !id) {
        xt_stream_logf(&c->s, XT_LOG_WARN, "dropped an archive result without %s",
                       inner ? "an id" : "a forwarded message");
        return 0;
    }
    /* The page's ends, in case the server's <fin/> lacks them. */
    if ((!q->first_id && set_str(c, &q->first_id, id)) || set_str(c, &q->last_id, id))
        return XT_ENOMEM;
    q->count++;
    /* The catch-up moves the position itself (forward pages, or the recent
     * window's single page, both in archive order); a fetch of history
     * moves it only when it is newer than anything seen, which it cannot
     * know: it never does. */
    if (q->tag == 0) {
        /* The archive's own stamp (XEP-0313 §4.1.2: the <delay/> of the
         * <forwarded/>), an order the position keeps across processes. */
        const xt_stanza *d = xt_stanza_child(fwd, "delay", XT_NS_DELAY);
        int rc = advance(c, id, d ? xt_im_parse_stamp(xt_stanza_attr(d, "stamp")) : 0);
        if (rc)
            return rc;
    }
    xt_im_wrapped w = {
        .source = XT_SRC_ARCHIVE,
        .forwarded = fwd,
        .archive_id = id,
        .archive_by = q->archive ? q->archive : xt_stream_bare(&c->s),
        .archive_tag = q->tag,
    };
    return xt_im_deliver(c, inner, &w);
}

/* A live message or carbon carrying our archive's stanza-id. */
int xt_mam_saw_live(xt_conn *c, const char *stanza_id)
{
    /* During the catch-up, a live message is newer than what the pages
     * still have to bring; moving the point now would skip those if the
     * catch-up broke off. The catch-up's own pages reach it anyway. */
    if (c->mam.catching_up)
        return 0;
    return advance(c, stanza_id, 0); /* live: no archive stamp */
}

int xt_conn_set_archive_position(xt_conn *c, const char *id)
{
    if (!c || (id && (!xt_im_text_ok(id) || strlen(id) > MAM_MAX_ID)))
        return XT_EINVAL;
    c->mam.last_ms = 0;
    return set_last_id(c, id && *id ? id : NULL, id ? strlen(id) : 0);
}

const char *xt_conn_archive_position(const xt_conn *c)
{
    return c ? c->mam.last_id : NULL;
}

int64_t xt_conn_archive_position_ms(const xt_conn *c)
{
    return c && c->mam.last_id ? c->mam.last_ms : 0;
}

int xt_conn_set_archive_window(xt_conn *c, uint32_t n)
{
    if (!c || n < 1 || n > 1000)
        return XT_EINVAL;
    c->mam.window = n;
    return 0;
}
