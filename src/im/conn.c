/*
 * The public xt_conn: lifetime, driving, handlers and state. The protocol
 * work is the xt_stream's (src/core/stream.c); this file connects its
 * hooks to the application's event handlers and to the IM files
 * (roster.c, presence.c, message.c).
 */
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"
#include "im/msgext.h"
#include "xml/known.h"
#include "xml/utf8.h"

/* --- events ------------------------------------------------------------- */

static void compact_handlers(xt_conn *c)
{
    size_t w = 0;
    for (size_t i = 0; i < c->handlers.n; i++)
        if (c->handlers.v[i].fn)
            c->handlers.v[w++] = c->handlers.v[i];
    c->handlers.n = w;
    c->handlers.dirty = 0;
}

void xt_conn_emit(xt_conn *c, const xt_event *ev)
{
    /* Handlers added meanwhile wait for the next event; removed ones are
     * skipped (fn NULL) and compacted once no emit is running. */
    size_t n = c->handlers.n;
    c->handlers.emitting++;
    for (size_t i = 0; i < n; i++) {
        xt_handler h = c->handlers.v[i];
        if (h.fn && (h.mask & (unsigned)ev->type))
            h.fn(c, ev, h.ud);
    }
    c->handlers.emitting--;
    if (!c->handlers.emitting && c->handlers.dirty)
        compact_handlers(c);
}

int xt_conn_on(xt_conn *c, unsigned mask, xt_handler_fn fn, void *ud)
{
    if (!c || !fn || !mask)
        return XT_EINVAL;
    if (c->handlers.next_id == INT32_MAX)
        return XT_ETOOBIG;
    if (XT_GROW(c->s.mem, c->handlers.v, c->handlers.cap, c->handlers.n + 1, 4))
        return XT_ENOMEM;
    int id = ++c->handlers.next_id;
    c->handlers.v[c->handlers.n++] = (xt_handler){.id = id, .mask = mask, .fn = fn, .ud = ud};
    return id;
}

int xt_conn_off(xt_conn *c, int id)
{
    if (!c)
        return XT_EINVAL;
    for (size_t i = 0; i < c->handlers.n; i++) {
        if (c->handlers.v[i].id == id && c->handlers.v[i].fn) {
            c->handlers.v[i].fn = NULL;
            c->handlers.dirty = 1;
            if (!c->handlers.emitting)
                compact_handlers(c);
            return 0;
        }
    }
    return XT_ENOTFOUND;
}

/* --- stream hooks ---------------------------------------------------------- */

static void hk_starttls(void *ud)
{
    xt_event ev = {.type = XT_EV_STARTTLS};
    xt_conn_emit(ud, &ev);
}

/* RFC 6121 §2.2 / §4.2: roster first, then initial presence, so
 * presence from contacts arrives after we know who they are. Both go
 * out at once (pipelined), behind the bind request when the stream
 * pipelines the login, else once bound. */
static int hk_login(void *ud)
{
    xt_conn *c = ud;
    int rc = 0;
    if (!(xt_stream_flags(&c->s) & XT_CONN_NO_ROSTER))
        rc = xt_im_request_roster(c);
    if (!rc && !(xt_stream_flags(&c->s) & XT_CONN_NO_PRESENCE))
        rc = xt_im_send_presence(c, c->initial.show, c->initial.status, c->initial.priority);
    return rc;
}

static int hk_online(void *ud, const char *jid, xt_online_kind kind)
{
    xt_conn *c = ud;
    int rc = 0;
    if (kind == XT_ONLINE_RESUMED) {
        /* XEP-0198 §5: the server kept the session (roster, presence,
         * subscriptions): nothing to send again. */
        xt_muc_online(c, 1);
        xt_event ev = {.type = XT_EV_ONLINE, .u.online = {.jid = jid, .resumed = 1}};
        xt_conn_emit(c, &ev);
        return 0;
    }
    xt_presence_clear(&c->presence);
    /* A new session: the rooms of the old one dropped us (XEP-0045). */
    xt_muc_online(c, 0);
    if (kind == XT_ONLINE_NEW && (rc = hk_login(c)) != 0)
        return rc;
    /* XEP-0030: what this server offers (carbons, MAM) decides what the
     * session turns on; a resumed session keeps what it learned. */
    xt_mam_session_new(c);
    xt_carbons_session_new(c);
    if ((rc = xt_disco_login(c)) != 0)
        return rc;
    if ((rc = xt_im_csi_online(c)) != 0)
        return rc;
    xt_event ev = {.type = XT_EV_ONLINE, .u.online = {.jid = jid, .resumed = 0}};
    xt_conn_emit(c, &ev);
    return 0;
}

static void hk_disconnected(void *ud, const xt_disconnected *d)
{
    xt_conn *c = ud;
    /* Contacts' presence is only known while a session lives; a resumed
     * one keeps it, but until then nobody is known to be online. */
    xt_presence_clear(&c->presence);
    /* Rooms: gone now unless XEP-0198 may resume the session. */
    xt_muc_disconnected(c, xt_stream_sm_enabled(&c->s) && d->retry);
    xt_event ev = {.type = XT_EV_DISCONNECTED, .u.disconnected = *d};
    if (c->plan_retry)
        ev.u.disconnected.retry_in_ms = c->plan_retry(c->plan_retry_ud, d);
    xt_conn_emit(c, &ev);
}

static void hk_acked(void *ud, const char *id)
{
    xt_event ev = {.type = XT_EV_ACKED, .u.acked.id = id};
    xt_conn_emit(ud, &ev);
}

static int hk_stanza(void *ud, const xt_stanza *st)
{
    xt_conn *c = ud;
    xt_event ev = {.type = XT_EV_STANZA, .u.stanza = st};
    xt_conn_emit(c, &ev);
    if (c->muc.n)
        xt_muc_selfping_rx(c, st); /* a room that speaks is not quiet (XEP-0410) */
    if (xt_stream_is_closed(&c->s))
        return 0;
    xt_known name = xt_stanza_name_k(st);
    if (name == XT_K_MESSAGE)
        return xt_im_on_message(c, st);
    if (name == XT_K_PRESENCE)
        return xt_im_on_presence(c, st);
    return 0;
}

static int hk_iq_request(void *ud, const xt_stanza *iq)
{
    int rc = xt_im_on_roster_iq(ud, iq);
    if (!rc)
        rc = xt_im_on_blocking_iq(ud, iq);
    return rc ? rc : xt_disco_on_iq(ud, iq);
}

/* The server's features are known (a new session): turn on what it
 * offers and the application did not decline. */
int xt_im_server_info_ready(xt_conn *c)
{
    int rc = xt_carbons_enable(c);
    return rc ? rc : xt_mam_catchup(c);
}

static void hk_fast_token(void *ud, const char *mech, const char *token, const char *expiry)
{
    xt_conn *c = ud;
    if (c->fast_fn)
        c->fast_fn(c->fast_ud, mech, token, expiry);
}

/* --- lifetime -------------------------------------------------------------- */

int xt_conn_new(const xt_conn_opts *opts, xt_conn **out)
{
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    /* Everything else was checked by the setters. */
    if (!opts || !opts->jid || !opts->password)
        return XT_EINVAL;
    xt_conn *c = xt_calloc(opts->mem, 1, sizeof *c);
    if (!c)
        return XT_ENOMEM;
    static const xt_stream_hooks hooks = {
        .starttls = hk_starttls,
        .online = hk_online,
        .login = hk_login,
        .disconnected = hk_disconnected,
        .stanza = hk_stanza,
        .iq_request = hk_iq_request,
        .acked = hk_acked,
        .fast_token = hk_fast_token,
    };
    int rc = xt_stream_init(&c->s, &opts->core, c, &hooks, c);
    xt_roster_init(&c->roster, c->s.mem);
    xt_presence_init(&c->presence, c->s.mem);
    /* Hash keys per table from the conn's random source (index.h). */
    xt_index_init(&c->roster.ix, c->s.cfg.random, c->s.cfg.random_ud);
    xt_index_init(&c->presence.ix, c->s.cfg.random, c->s.cfg.random_ud);
    xt_index_init(&c->nicks.ix, c->s.cfg.random, c->s.cfg.random_ud);
    xt_muc_init(c);
    c->fast_fn = opts->fast_fn;
    c->fast_ud = opts->fast_ud;
    c->initial.show = opts->initial.show;
    c->initial.priority = opts->initial.priority;
    if (!rc)
        rc = xt_disco_init(c, &opts->self);
    if (!rc && opts->initial.status &&
        !(c->initial.status = xt_strdup(c->s.mem, opts->initial.status)))
        rc = XT_ENOMEM;
    if (rc) {
        xt_conn_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void xt_conn_free(xt_conn *c)
{
    if (!c)
        return;
    xt_mem mem = c->s.mem_copy;
    const xt_mem *m = c->s.mem ? &mem : NULL;
    xt_roster_free(&c->roster);
    xt_presence_free(&c->presence);
    xt_im_blocking_free(c);
    xt_bookmarks_free(c);
    xt_disco_free(c);
    xt_mam_free(c);
    xt_upload_free_state(c);
    xt_nick_free(c);
    xt_muc_free(c);
    xt_free(c->s.mem, c->initial.status);
    xt_free(c->s.mem, c->handlers.v);
    xt_stream_cleanup(&c->s);
    xt_free(m, c);
}

int xt_conn_set_test_nonce(xt_conn *c, const char *nonce)
{
    return xt_stream_set_test_nonce(&c->s, nonce);
}

void xt_conn_set_test_id_prefix(xt_conn *c, const char *prefix)
{
    xt_stream_set_test_id_prefix(&c->s, prefix);
}

/* --- driving ------------------------------------------------------------------ */

int xt_conn_set_direct_tls(xt_conn *c, int on)
{
    return c ? xt_stream_set_direct_tls(&c->s, on != 0) : XT_EINVAL;
}

int xt_conn_start(xt_conn *c, uint64_t now_ms)
{
    return c ? xt_stream_start(&c->s, now_ms) : XT_EINVAL;
}

int xt_conn_feed(xt_conn *c, const void *data, size_t len, uint64_t now_ms)
{
    if (!c || (!data && len))
        return XT_EINVAL;
    return xt_stream_feed(&c->s, data, len, now_ms);
}

size_t xt_conn_pending(xt_conn *c, const uint8_t **data)
{
    if (!c || !data)
        return 0;
    return xt_stream_pending(&c->s, data);
}

void xt_conn_consume(xt_conn *c, size_t n)
{
    if (c)
        xt_stream_consume(&c->s, n);
}

void xt_conn_trim(xt_conn *c)
{
    if (c)
        xt_stream_trim(&c->s);
}

int xt_conn_tls_ready(xt_conn *c, const xt_tls_info *info, uint64_t now_ms)
{
    return c ? xt_stream_tls_ready(&c->s, info, now_ms) : XT_EINVAL;
}

int xt_conn_eof(xt_conn *c, int error, const char *detail, uint64_t now_ms)
{
    return c ? xt_stream_eof(&c->s, error, detail, now_ms) : XT_EINVAL;
}

int xt_conn_tick(xt_conn *c, uint64_t now_ms)
{
    if (!c)
        return XT_EINVAL;
    int rc = xt_stream_tick(&c->s, now_ms);
    return rc ? rc : xt_muc_selfping_tick(c, now_ms); /* XEP-0410 */
}

int64_t xt_conn_deadline(const xt_conn *c)
{
    if (!c)
        return -1;
    int64_t a = xt_stream_deadline(&c->s), b = xt_muc_selfping_deadline(c);
    return a < 0 ? b : b < 0 || a < b ? a : b;
}

xt_conn_state xt_conn_get_state(const xt_conn *c)
{
    return c ? xt_stream_state(&c->s) : XT_STATE_CLOSED;
}

const char *xt_conn_errdetail(const xt_conn *c)
{
    return c ? xt_stream_errdetail(&c->s) : "";
}

const char *xt_conn_bound_jid(const xt_conn *c)
{
    return c ? xt_stream_bound(&c->s) : NULL;
}

const char *xt_conn_domain(const xt_conn *c)
{
    return c ? xt_stream_domain(&c->s) : NULL;
}

const char *xt_conn_sasl_hint(const xt_conn *c)
{
    return c ? xt_stream_sasl_offer(&c->s) : NULL;
}

const char *xt_conn_mechanism(const xt_conn *c)
{
    return c ? xt_stream_mechanism(&c->s) : NULL;
}

int xt_conn_reset(xt_conn *c)
{
    if (!c)
        return XT_EINVAL;
    if (c->handlers.emitting)
        return XT_ESTATE; /* not from a handler: the stream is still unwinding */
    return xt_stream_reset(&c->s);
}

int xt_conn_is_unacked(const xt_conn *c, const char *id)
{
    return c && id ? xt_stream_is_unacked(&c->s, id) : 0;
}

int xt_conn_sm_enabled(const xt_conn *c)
{
    return c && xt_stream_sm_enabled(&c->s);
}

void xt_conn_set_retry_planner(xt_conn *c, uint32_t (*fn)(void *ud, const xt_disconnected *d),
                               void *ud)
{
    c->plan_retry = fn;
    c->plan_retry_ud = ud;
}

int xt_im_is_own_bare(xt_conn *c, const char *jid)
{
    /* Our server writes our bare JID as it bound it (a MAM stanza-id's
     * 'by' on every message): equal bytes need no PRECIS preparation,
     * which costs more than the rest of a message's handling. */
    const char *bare = xt_stream_bare(&c->s);
    if (jid && bare && strcmp(jid, bare) == 0)
        return 1;
    xt_jid *j = NULL;
    if (xt_jid_parse(c->s.mem, jid, &j, NULL))
        return 0;
    int own = !xt_jid_resource(j) && strcmp(xt_jid_bare(j), xt_stream_bare(&c->s)) == 0;
    xt_jid_free(j);
    return own;
}

int xt_conn_close(xt_conn *c)
{
    return c ? xt_stream_close(&c->s, c->available) : XT_EINVAL;
}

/* --- sending ------------------------------------------------------------------- */

int xt_im_text_ok(const char *s)
{
    return s && xt_xml_chars_valid(s, strlen(s));
}

int xt_conn_send(xt_conn *c, const xt_stanza *st)
{
    if (!c || !st)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    return xt_stream_send(&c->s, st);
}

int xt_conn_iq(xt_conn *c, const xt_stanza *st, uint32_t timeout_ms, xt_iq_fn cb, void *ud)
{
    if (!c || !st)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    return xt_stream_iq(&c->s, st, timeout_ms, cb, ud);
}

int xt_im_query(xt_conn *c, const char *jid, int full, xt_im_build_fn build, const void *arg,
                xt_iq_fn cb, void *ud)
{
    if (!c)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    xt_jid *j = NULL;
    int rc = jid ? xt_jid_parse(c->s.mem, jid, &j, NULL) : 0;
    if (rc)
        return rc;
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    rc = iq && !xt_stanza_set_attr(iq, "type", "get") &&
                 (!j || !xt_stanza_set_attr(iq, "to", full ? xt_jid_full(j) : xt_jid_bare(j))) &&
                 build(iq, arg)
             ? 0
             : XT_ENOMEM;
    xt_jid_free(j);
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, cb, ud);
    xt_stanza_free(iq);
    return rc;
}

static xt_stanza *build_ping(xt_stanza *iq, const void *arg)
{
    (void)arg;
    return xt_stanza_add_child(iq, "ping", XT_NS_PING);
}

int xt_conn_ping(xt_conn *c, const char *to, xt_iq_fn cb, void *ud)
{
    /* XEP-0199 §4.2/§4.3: a server or a full JID, as given. */
    return xt_im_query(c, to, 1, build_ping, NULL, cb, ud);
}
