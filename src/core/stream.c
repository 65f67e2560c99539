/*
 * The client stream state machine; see stream.h.
 *
 * Flow (RFC 6120 §9.1, client side):
 *   header -> features -> <starttls/> -> <proceed/> -> driver TLS ->
 *   restart -> features -> <auth/> (challenge/response)* -> <success/> ->
 *   restart -> features -> bind IQ [-> session IQ] -> online.
 * Restarts (§4.3.3) never happen inside a parser callback: the callback
 * records the restart and stops the parser; xt_stream_feed acts on it
 * after xt_parser_feed returns. Bytes that followed <proceed/> in the
 * same read are dropped on purpose: anything after it must be TLS, and
 * plaintext there is the STARTTLS command-injection attack.
 */
#include "core/stream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/random.h"
#include "core/base64.h"
#include "core/precis.h"
#include "xml/serialize.h"

/* A parser callback's "stop now, the stream restarts" value. */
#define STOP_RESTART 1

static const char stream_close_tag[] = "</stream:stream>";

/* --- logging and output ------------------------------------------------- */

void xt_stream_logf(xt_stream *s, int level, const char *fmt, ...)
{
    if (!s->cfg.log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->cfg.log(s->cfg.log_ud, level, msg);
}

/* Appends bytes to the output. `data` must be NUL-terminated at len (it is
 * logged as is) unless `logged` gives the text to log instead: how
 * credentials stay out of logs. */
static int emit(xt_stream *s, const char *data, size_t len, const char *logged)
{
    /* RFC 6120 §4.4: nothing after our closing tag (an <a/> for the
     * server's <r/>, an IQ error reply, ...) while we wait for the
     * server's. */
    if (s->close_sent)
        return 0;
    int rc = xt_buf_append(&s->out, data, len);
    if (rc)
        return rc;
    if (s->cfg.log)
        s->cfg.log(s->cfg.log_ud, XT_LOG_XML_OUT, logged ? logged : data);
    return 0;
}

static int emit_str(xt_stream *s, const char *str)
{
    return emit(s, str, strlen(str), NULL);
}

static int send_r(xt_stream *s);
static int send_a(xt_stream *s);

/* The stanza just appended to the output from offset `before` (relative
 * to the head) was sent: XEP-0198 §4 counts it and keeps its bytes until
 * the server acks it; without SM a <message> id waits for an ack ping.
 * On failure the stanza is taken back out of the output, so nothing
 * untracked ever leaves. */
static int track(xt_stream *s, size_t before, const char *name, const char *id)
{
    const char *mid = name && strcmp(name, "message") == 0 ? id : NULL;
    int rc = 0;
    if (s->sm.state != XT_SM_OFF) {
        rc = xt_sm_queue_push(s->mem, &s->sm.q, (const char *)xt_buf_head(&s->out) + before,
                              xt_buf_size(&s->out) - before, mid);
        if (!rc) {
            s->sm.since_r++;
            s->sm.last_tx = s->t.now;
        }
    } else if (mid && s->phase == XT_PH_ONLINE) {
        rc = xt_sm_queue_push(s->mem, &s->sm.pend, NULL, 0, mid);
        if (!rc)
            s->sm.last_tx = s->t.now;
    }
    if (rc) {
        xt_buf_truncate(&s->out, before);
        return rc;
    }
    /* Ack policy: an <r/> every ack_every stanzas (the timer asks for
     * the rest ack_delay after the last one). */
    if (s->sm.state == XT_SM_ON && s->sm.since_r >= s->cfg.ack_every)
        return send_r(s);
    return 0;
}

/* Appends bytes that are already serialized (a re-sent stanza). */
static int emit_bytes(xt_stream *s, const char *data, size_t len)
{
    if (s->close_sent)
        return 0; /* see emit */
    int rc = xt_buf_append(&s->out, data, len);
    if (rc)
        return rc;
    xt_stream_logf(s, XT_LOG_XML_OUT, "%.*s", (int)(len > 900 ? 900 : len), data);
    return 0;
}

/* A stanza given as text (keepalive ping, unavailable presence). */
static int emit_stanza_str(xt_stream *s, const char *str, const char *name)
{
    size_t before = xt_buf_size(&s->out);
    int rc = emit_str(s, str);
    return rc ? rc : track(s, before, name, NULL);
}

/* The stanza `name` (id `id`) now ends the output from `before`: tracks
 * and logs it. */
static int emitted(xt_stream *s, size_t before, const char *name, const char *id)
{
    int rc = track(s, before, name, id);
    if (rc)
        return rc;
    if (s->cfg.log) {
        /* NUL-terminate without counting the NUL; offsets relative to the
         * head survive a compaction. */
        char *head = xt_buf_cstr(&s->out);
        if (head)
            s->cfg.log(s->cfg.log_ud, XT_LOG_XML_OUT, head + before);
    }
    return 0;
}

/* Serializes a tree straight into the output (the serializer appends
 * nothing on failure, so no half stanza is ever queued). */
static int emit_tree(xt_stream *s, const xt_stanza *st)
{
    size_t before = xt_buf_size(&s->out);
    int rc = xt_stanza_serialize(st, XT_NS_CLIENT, &s->out);
    return rc ? rc : emitted(s, before, xt_stanza_name(st), xt_stanza_attr(st, "id"));
}

/* Buffers that held a SASL payload: wipe the bytes outside the live data. */
static void wipe_stale(xt_buf *b)
{
    if (!b->data)
        return;
    xt_wipe(b->data, b->off);
    xt_wipe(b->data + b->len, b->cap - b->len);
}

static void log_in(xt_stream *s, const xt_stanza *st)
{
    if (!s->cfg.log)
        return;
    const char *name = xt_stanza_name(st);
    if (strcmp(xt_stanza_ns(st), XT_NS_SASL) == 0 &&
        (strcmp(name, "challenge") == 0 || strcmp(name, "success") == 0)) {
        /* SCRAM challenges carry the salt and the server signature:
         * material for an offline attack on the password. */
        xt_stream_logf(s, XT_LOG_XML_IN, "<%s xmlns='%s'>[redacted]</%s>", name, XT_NS_SASL, name);
        return;
    }
    xt_buf b;
    xt_buf_init(&b, s->mem);
    char *txt = NULL;
    if (xt_stanza_serialize(st, XT_NS_CLIENT, &b) == 0)
        txt = xt_buf_cstr(&b);
    if (txt)
        s->cfg.log(s->cfg.log_ud, XT_LOG_XML_IN, txt);
    xt_buf_free(&b);
}

/* --- failing and closing ------------------------------------------------ */

static void set_detail(xt_stream *s, int error, const char *cond, const char *text,
                       const char *redirect)
{
    const char *lp = text ? " (" : "", *t = text ? text : "", *rp = text ? ")" : "";
    switch (error) {
    case 0:
        snprintf(s->err.detail, sizeof s->err.detail, "%s", t);
        break;
    case XT_EAUTH:
        snprintf(s->err.detail, sizeof s->err.detail, "authentication failed: %s%s%s%s",
                 cond ? cond : "not-authorized", lp, t, rp);
        break;
    case XT_ESTREAM:
        snprintf(s->err.detail, sizeof s->err.detail, "stream error from the server: %s%s%s%s",
                 cond ? cond : "undefined-condition", lp, t, rp);
        break;
    case XT_EREDIRECT:
        snprintf(s->err.detail, sizeof s->err.detail, "the server redirects to %s (see-other-host)%s%s%s",
                 redirect && *redirect ? redirect : "(no host given)", lp, t, rp);
        break;
    default:
        snprintf(s->err.detail, sizeof s->err.detail, "%s", text ? text : xt_strerror(error));
        break;
    }
}

/* Whether connecting again may work (xt_disconnected.retry). */
static int retryable(int error, const char *cond)
{
    switch (error) {
    case XT_ESTREAM: {
        /* RFC 6120 §4.9.3: conditions about the server's state, not
         * about us; policy-violation, conflict, not-authorized, host-
         * unknown... would fail the same way again. */
        static const char *const ok[] = {"system-shutdown", "connection-timeout", "reset",
                                         "internal-server-error", "remote-connection-failed",
                                         "resource-constraint"};
        for (size_t i = 0; cond && i < sizeof ok / sizeof *ok; i++)
            if (strcmp(cond, ok[i]) == 0)
                return 1;
        return 0;
    }
    case XT_ECLOSED:
    case XT_ETIMEOUT:
    case XT_EIO:
    case XT_ECONNECT:
    case XT_EDNS:
    case XT_ETLS:
    case XT_EPROTO:
    case XT_EXML:
    case XT_ETOOBIG:
    case XT_EREDIRECT:
        return 1;
    default: /* 0 (our close), XT_EAUTH, XT_ECERT, XT_EDOWNGRADE, XT_ENOTLS, ... */
        return 0;
    }
}

int xt_stream_fail(xt_stream *s, int error, const char *stream_cond, const char *condition,
                   const char *text, const char *redirect)
{
    if (s->phase == XT_PH_CLOSED)
        return error;
    /* RFC 6120 §4.9.1.1: the stream error, then the closing tag. Output
     * failures here are ignored: the stream is ending either way. */
    /* While the driver's TLS handshake runs there is no stream to close:
     * the old one ended at <proceed/>, the new one has not started. */
    if (s->phase == XT_PH_TLS)
        s->close_sent = 1;
    if (s->header_sent && !s->close_sent) {
        if (stream_cond) {
            char buf[256];
            snprintf(buf, sizeof buf, "<stream:error><%s xmlns='%s'/></stream:error>", stream_cond,
                     XT_NS_STREAM_ERRORS);
            (void)emit_str(s, buf);
        }
        (void)emit_str(s, stream_close_tag);
        s->close_sent = 1;
    }
    s->phase = XT_PH_CLOSED;
    s->err.code = error;
    snprintf(s->err.condition, sizeof s->err.condition, "%s", condition ? condition : "");
    set_detail(s, error, condition, text, redirect);
    xt_stream_logf(s, error ? XT_LOG_WARN : XT_LOG_INFO, "disconnected: %s",
                   s->err.detail[0] ? s->err.detail : "closed");
    xt_sasl_free(s->auth.sasl);
    s->auth.sasl = NULL;
    /* The password stays (xt_stream_reset reconnects with it). */

    /* XEP-0198: the unacked queue and the resumption id outlive the
     * stream; messages waiting for an ack ping without SM stay unacked
     * (the application's to re-send). */
    s->sm.state = XT_SM_OFF;
    s->sm.since_r = 0;
    s->sm.r_deadline = 0;
    xt_sm_queue_free(s->mem, &s->sm.pend);
    s->sm.covered = 0;
    s->sm.ping_out = 0;

    /* Every pending request learns its fate exactly once. */
    xt_iq_pending p;
    while (xt_iq_take_any(&s->iqs, &p)) {
        if (p.fn)
            p.fn(s->owner, XT_ECLOSED, NULL, p.ud);
        xt_iq_pending_done(s->mem, &p);
    }
    xt_disconnected d = {
        .error = error,
        .condition = condition,
        .text = text ? text : (s->err.detail[0] ? s->err.detail : NULL),
        .redirect = redirect,
        .retry = retryable(error, condition),
    };
    if (s->hooks.disconnected)
        s->hooks.disconnected(s->hooks_ud, &d);
    return error;
}

/* Internal failures (allocation, full output buffer). */
static int fail_code(xt_stream *s, int rc)
{
    return xt_stream_fail(s, rc, NULL, NULL, xt_strerror(rc), NULL);
}

int xt_stream_close(xt_stream *s, int unavailable)
{
    if (s->phase == XT_PH_CLOSED)
        return XT_ESTATE;
    if (s->phase == XT_PH_CLOSING)
        return 0;
    if (!s->header_sent || s->phase == XT_PH_TLS || s->phase == XT_PH_NEW) {
        /* Nothing can be said in plaintext here (no stream yet, or a TLS
         * handshake in progress): just end. */
        s->close_sent = 1;
        xt_stream_fail(s, 0, NULL, NULL, NULL, NULL);
        return 0;
    }
    int rc = 0;
    /* XEP-0198 §5: closing the stream ends the session; it cannot be
     * resumed (unacked messages are still sent again after a reset). */
    xt_free(s->mem, s->sm.id);
    s->sm.id = NULL;
    if (unavailable && s->phase == XT_PH_ONLINE)
        rc = emit_stanza_str(s, "<presence type='unavailable'/>", "presence");
    /* XEP-0198 stream closure: the server takes stanzas we have not
     * acknowledged as undelivered when the stream ends (Prosody stores
     * such messages offline, and the next login gets them again): a last
     * <a/> says what we handled. */
    if (!rc && s->sm.state == XT_SM_ON)
        rc = send_a(s);
    if (!rc)
        rc = emit_str(s, stream_close_tag);
    if (rc)
        return fail_code(s, rc);
    s->close_sent = 1;
    s->phase = XT_PH_CLOSING;
    /* RFC 6120 §4.4: wait for the server's closing tag, but not forever. */
    s->t.close_deadline = s->t.now + s->cfg.ping_timeout;
    return 0;
}

/* --- stream header -------------------------------------------------------- */

static int send_header(xt_stream *s)
{
    xt_buf *b = &s->scratch;
    xt_buf_clear(b);
    int rc = xt_buf_append_str(b, "<?xml version='1.0'?><stream:stream");
    /* RFC 6120 §4.7.1: 'from' only once TLS hides it from observers. */
    if (!rc && s->tls.on) {
        rc = xt_buf_append_str(b, " from='");
        if (!rc)
            rc = xt_buf_append_escaped(b, xt_stream_bare(s), strlen(xt_stream_bare(s)), 1);
        if (!rc)
            rc = xt_buf_append_str(b, "'");
    }
    if (!rc)
        rc = xt_buf_append_str(b, " to='");
    if (!rc)
        rc = xt_buf_append_escaped(b, xt_stream_domain(s), strlen(xt_stream_domain(s)), 1);
    if (!rc)
        rc = xt_buf_append_str(b, "' version='1.0' xml:lang='en' xmlns='" XT_NS_CLIENT
                                  "' xmlns:stream='" XT_NS_STREAMS "'>");
    char *txt = rc ? NULL : xt_buf_cstr(b);
    if (!rc && !txt)
        rc = XT_ENOMEM;
    if (!rc)
        rc = emit(s, txt, xt_buf_size(b), NULL);
    if (rc)
        return rc;
    s->header_sent = 1;
    s->phase = XT_PH_FEATURES;
    return 0;
}

/* --- ids and IQs ----------------------------------------------------------- */

void xt_stream_next_id(xt_stream *s, char out[64])
{
    /* prefix + decimal counter, as "%s%llu" would write it (on every
     * send, so without snprintf): at most 23 + 20 characters. */
    char dig[20];
    size_t nd = 0;
    uint64_t v = ++s->id_counter;
    do {
        dig[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t pl = s->id_prefix_len;
    memcpy(out, s->id_prefix, pl);
    for (size_t i = 0; i < nd; i++)
        out[pl + i] = dig[nd - 1 - i];
    out[pl + nd] = '\0';
}

static int iq_open(const xt_stream *s)
{
    return s->phase >= XT_PH_BIND && s->phase <= XT_PH_ONLINE;
}

static int unacked_full(const xt_stream *s)
{
    size_t n = s->sm.state != XT_SM_OFF ? s->sm.q.n : s->sm.pend.n;
    return n >= s->cfg.max_unacked;
}

static int send_ack_ping(xt_stream *s);

/* Without SM: a ping once ack_every messages wait (the timer sends one
 * ack_delay after the last message otherwise). */
static int after_send(xt_stream *s)
{
    if (s->sm.state == XT_SM_OFF && s->phase == XT_PH_ONLINE && !s->sm.ping_out &&
        s->sm.pend.n >= s->cfg.ack_every)
        return send_ack_ping(s);
    return 0;
}

int xt_stream_send(xt_stream *s, const xt_stanza *st)
{
    if (!iq_open(s))
        return XT_ESTATE;
    if (unacked_full(s))
        return XT_ETOOBIG;
    int rc = emit_tree(s, st);
    return rc ? rc : after_send(s);
}

int xt_stream_send_written(xt_stream *s, xt_stanza_writer write, const void *ud,
                           const char *name, const char *id)
{
    if (!iq_open(s))
        return XT_ESTATE;
    if (unacked_full(s))
        return XT_ETOOBIG;
    size_t before = xt_buf_size(&s->out);
    int rc = write(&s->out, ud);
    if (rc) {
        xt_buf_truncate(&s->out, before); /* no half stanza */
        return rc;
    }
    rc = emitted(s, before, name, id);
    return rc ? rc : after_send(s);
}

int xt_stream_iq(xt_stream *s, const xt_stanza *st, uint32_t timeout_ms, xt_iq_fn fn, void *ud)
{
    if (!iq_open(s))
        return XT_ESTATE;
    if (s->sm.state != XT_SM_OFF && s->sm.q.n >= s->cfg.max_unacked)
        return XT_ETOOBIG;
    const char *type = xt_stanza_attr(st, "type");
    if (strcmp(xt_stanza_name(st), "iq") != 0 || !type ||
        (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return XT_EINVAL;
    xt_stanza *copy = NULL;
    const char *id = xt_stanza_attr(st, "id");
    if (!id) {
        char nid[64];
        xt_stream_next_id(s, nid);
        copy = xt_stanza_copy(st);
        if (!copy || xt_stanza_set_attr(copy, "id", nid)) {
            xt_stanza_free(copy);
            return XT_ENOMEM;
        }
        st = copy;
        id = xt_stanza_attr(st, "id");
    }
    uint64_t deadline = s->t.now + (timeout_ms ? timeout_ms : s->cfg.iq_timeout);
    /* Tracked before it is sent, so a send never leaves an untracked IQ. */
    int rc = xt_iq_add(&s->iqs, id, xt_stanza_attr(st, "to"), deadline, fn, ud);
    if (!rc) {
        rc = emit_tree(s, st);
        if (rc)
            xt_iq_drop_last(&s->iqs);
    }
    xt_stanza_free(copy);
    return rc;
}

int xt_stream_reply_result(xt_stream *s, const xt_stanza *iq)
{
    xt_stanza *r = xt_stanza_new(s->mem, "iq", XT_NS_CLIENT);
    const char *from = xt_stanza_attr(iq, "from");
    int rc = r ? 0 : XT_ENOMEM;
    if (!rc)
        rc = xt_stanza_set_attr(r, "type", "result");
    if (!rc)
        rc = xt_stanza_set_attr(r, "id", xt_stanza_attr(iq, "id"));
    if (!rc && from)
        rc = xt_stanza_set_attr(r, "to", from);
    if (!rc)
        rc = emit_tree(s, r);
    xt_stanza_free(r);
    return rc;
}

int xt_stream_reply_error(xt_stream *s, const xt_stanza *iq, const char *type, const char *cond)
{
    /* RFC 6120 §8.3.2: type='error', same id, addressed back, <error/>
     * with a type and a defined condition. */
    xt_stanza *r = xt_stanza_new(s->mem, "iq", XT_NS_CLIENT);
    const char *from = xt_stanza_attr(iq, "from");
    int rc = r ? 0 : XT_ENOMEM;
    if (!rc)
        rc = xt_stanza_set_attr(r, "type", "error");
    if (!rc)
        rc = xt_stanza_set_attr(r, "id", xt_stanza_attr(iq, "id"));
    if (!rc && from)
        rc = xt_stanza_set_attr(r, "to", from);
    xt_stanza *e = rc ? NULL : xt_stanza_add_child(r, "error", NULL);
    if (!rc && (!e || xt_stanza_set_attr(e, "type", type) ||
                !xt_stanza_add_child(e, cond, XT_NS_STANZA_ERRORS)))
        rc = XT_ENOMEM;
    if (!rc)
        rc = emit_tree(s, r);
    xt_stanza_free(r);
    return rc;
}

/* --- negotiation ------------------------------------------------------------ */

/* A new session is bound: XEP-0198 <enable/> first (so every stanza
 * after it is counted; the IM layer's roster query and presence are
 * pipelined behind it, §3), then the messages a failed resumption left
 * unacked, then the login stanzas and XT_EV_ONLINE. */
static void go_online(xt_stream *s)
{
    s->phase = XT_PH_ONLINE;
    s->t.nego_deadline = 0;
    s->t.last_rx = s->t.now;
    xt_stream_logf(s, XT_LOG_INFO, "bound as %s", s->bind.jid);
    int rc = 0;
    if (s->bind.sm_offered) {
        rc = emit_str(s, "<enable xmlns='" XT_NS_SM "' resume='true'/>");
        s->sm.state = XT_SM_ENABLING;
        s->sm.h_in = 0;
        s->sm.acked = 0;
        s->sm.since_r = 0;
        s->sm.r_deadline = 0;
    }
    xt_sm_entry e;
    while (!rc && xt_sm_queue_pop(&s->resend, &e)) {
        size_t before = xt_buf_size(&s->out);
        rc = emit_bytes(s, e.data, e.len);
        if (!rc)
            rc = track(s, before, "message", e.msg_id);
        xt_sm_entry_done(s->mem, &e);
    }
    if (!rc && s->hooks.online)
        rc = s->hooks.online(s->hooks_ud, s->bind.jid,
                             s->pipe.login_sent ? XT_ONLINE_NEW_PIPELINED : XT_ONLINE_NEW);
    s->pipe.login_sent = 0;
    if (rc < 0)
        fail_code(s, rc);
}

/* The defined condition of a stanza error reply, or "undefined-condition". */
static const char *stanza_error_cond(const xt_stanza *reply)
{
    const xt_stanza *e = reply ? xt_stanza_child(reply, "error", NULL) : NULL;
    for (const xt_stanza *c = e ? xt_stanza_first_child(e) : NULL; c; c = xt_stanza_next_sibling(c))
        if (strcmp(xt_stanza_ns(c), XT_NS_STANZA_ERRORS) == 0 && strcmp(xt_stanza_name(c), "text"))
            return xt_stanza_name(c);
    return "undefined-condition";
}

static void session_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)c;
    xt_stream *s = ud;
    if (status == XT_ECLOSED || s->phase != XT_PH_SESSION)
        return;
    if (status == 0) {
        go_online(s);
        return;
    }
    char t[128];
    snprintf(t, sizeof t, "session establishment failed: %s",
             status == XT_ETIMEOUT ? "no answer" : stanza_error_cond(reply));
    xt_stream_fail(s, status == XT_ETIMEOUT ? XT_ETIMEOUT : XT_EPROTO, NULL, NULL, t, NULL);
}

static int send_bind(xt_stream *s, const char *resource);

static void bind_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)c;
    xt_stream *s = ud;
    if (status == XT_ECLOSED || s->phase != XT_PH_BIND)
        return;
    char t[160];
    if (status == XT_ESTANZA) {
        const char *cond = stanza_error_cond(reply);
        /* RFC 6120 §7.6.2: conflict (or a refused resource) -> ask the
         * server to pick one, once. */
        if (!s->bind.retried &&
            (strcmp(cond, "conflict") == 0 || strcmp(cond, "not-allowed") == 0 ||
             strcmp(cond, "bad-request") == 0)) {
            s->bind.retried = 1;
            s->pipe.login_sent = 0; /* the server refused those unbound: again once bound */
            xt_stream_logf(s, XT_LOG_INFO,
                           "resource refused (%s); asking for a server-assigned one", cond);
            int rc = send_bind(s, NULL);
            if (rc)
                fail_code(s, rc);
            return;
        }
        snprintf(t, sizeof t, "resource binding failed: %s", cond);
        xt_stream_fail(s, XT_EPROTO, NULL, cond, t, NULL);
        return;
    }
    if (status != 0) {
        xt_stream_fail(s, status, NULL, NULL, "resource binding got no answer", NULL);
        return;
    }
    const xt_stanza *b = xt_stanza_child(reply, "bind", XT_NS_BIND);
    const char *jid = b ? xt_stanza_child_text(b, "jid", XT_NS_BIND) : NULL;
    xt_jid *j = NULL;
    int rc = jid ? xt_jid_parse(s->mem, jid, &j, NULL) : XT_EJID;
    /* §7.6.1: the server returns our full JID; one for another account
     * or without a resource is not a binding we asked for. */
    if (rc == XT_ENOMEM) {
        fail_code(s, rc);
        return;
    }
    if (rc || !xt_jid_resource(j) || !xt_jid_bare_equal(j, s->cfg.jid)) {
        xt_jid_free(j);
        xt_stream_fail(s, XT_EPROTO, NULL, NULL, "the server bound an unexpected JID", NULL);
        return;
    }
    xt_free(s->mem, s->bind.jid);
    s->bind.jid = xt_strdup(s->mem, xt_jid_full(j));
    xt_jid_free(j);
    if (!s->bind.jid) {
        fail_code(s, XT_ENOMEM);
        return;
    }
    if (!s->bind.session_needed) {
        go_online(s);
        return;
    }
    /* RFC 3921 §3: legacy servers that advertise session without
     * <optional/> need it before they route our stanzas. */
    xt_stanza *iq = xt_stanza_new(s->mem, "iq", XT_NS_CLIENT);
    rc = iq && !xt_stanza_set_attr(iq, "type", "set") &&
                 xt_stanza_add_child(iq, "session", XT_NS_SESSION)
             ? 0
             : XT_ENOMEM;
    if (!rc) {
        s->phase = XT_PH_SESSION;
        rc = xt_stream_iq(s, iq, 0, session_done, s);
    }
    xt_stanza_free(iq);
    if (rc)
        fail_code(s, rc);
}

static int send_bind(xt_stream *s, const char *resource)
{
    xt_stanza *iq = xt_stanza_new(s->mem, "iq", XT_NS_CLIENT);
    xt_stanza *b = iq ? xt_stanza_add_child(iq, "bind", XT_NS_BIND) : NULL;
    int rc = b && !xt_stanza_set_attr(iq, "type", "set") ? 0 : XT_ENOMEM;
    if (!rc && resource && !xt_stanza_add_text_child(b, "resource", NULL, resource))
        rc = XT_ENOMEM;
    if (!rc) {
        s->phase = XT_PH_BIND;
        rc = xt_stream_iq(s, iq, 0, bind_done, s);
    }
    xt_stanza_free(iq);
    return rc;
}

/* Resumption is impossible or failed: the unacked <message> stanzas of
 * the old session go out again on the new one (others, IQs and
 * presence, belong to the old session and are dropped). */
static void sm_new_session(xt_stream *s)
{
    xt_free(s->mem, s->sm.id);
    s->sm.id = NULL;
    xt_sm_entry e;
    while (xt_sm_queue_pop(&s->sm.q, &e)) {
        if (e.msg_id && e.data) {
            /* Moving never allocates more than it frees: on failure the
             * message is lost to the conn, and xt_conn_is_unacked says
             * so (the application's copy is then the one to re-send). */
            (void)xt_sm_queue_push(s->mem, &s->resend, e.data, e.len, e.msg_id);
        }
        xt_sm_entry_done(s->mem, &e);
    }
    s->sm.h_in = s->sm.acked = 0;
}

/* What the post-auth features say about binding: it must be offered;
 * a legacy session (RFC 3921 §3) without <optional/> is needed; XEP-0198. */
static int read_bind_features(xt_stream *s, const xt_stanza *features)
{
    if (!xt_stanza_child(features, "bind", XT_NS_BIND))
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "the server offers no resource binding",
                              NULL);
    const xt_stanza *sess = xt_stanza_child(features, "session", XT_NS_SESSION);
    s->bind.session_needed = sess && !xt_stanza_child(sess, "optional", NULL);
    s->bind.sm_offered = !(s->cfg.flags & XT_CONN_NO_SM) && xt_stanza_child(features, "sm", XT_NS_SM);
    return 0;
}

static int start_bind(xt_stream *s, const xt_stanza *features)
{
    if (read_bind_features(s, features))
        return XT_EPROTO;
    if (s->bind.sm_offered && s->sm.id) {
        /* XEP-0198 §5: resume instead of binding. */
        char buf[320];
        xt_buf *b = &s->scratch;
        xt_buf_clear(b);
        snprintf(buf, sizeof buf, "<resume xmlns='" XT_NS_SM "' h='%lu' previd='",
                 (unsigned long)s->sm.h_in);
        int rc = xt_buf_append_str(b, buf);
        if (!rc)
            rc = xt_buf_append_escaped(b, s->sm.id, strlen(s->sm.id), 1);
        if (!rc)
            rc = xt_buf_append_str(b, "'/>");
        char *txt = rc ? NULL : xt_buf_cstr(b);
        rc = txt ? emit(s, txt, xt_buf_size(b), NULL) : XT_ENOMEM;
        if (rc)
            return fail_code(s, rc);
        s->phase = XT_PH_RESUME;
        return 0;
    }
    sm_new_session(s);
    return send_bind(s, s->cfg.resource);
}

/* Sends <auth/> or <response/> with base64 payload (RFC 6120 §6.4.2:
 * an empty payload is "="), logging only the element name. */
static int send_sasl(xt_stream *s, const char *name, const char *attrs, const xt_buf *raw)
{
    xt_buf *b = &s->scratch;
    xt_buf_clear(b);
    char open[160], logged[224];
    snprintf(open, sizeof open, "<%s xmlns='%s'%s>", name, XT_NS_SASL, attrs);
    snprintf(logged, sizeof logged, "%s[redacted]</%s>", open, name);
    int rc = xt_buf_append_str(b, open);
    if (!rc)
        rc = xt_buf_size(raw) ? xt_base64_encode(b, xt_buf_head(raw), xt_buf_size(raw))
                              : xt_buf_append_str(b, "=");
    if (!rc)
        rc = xt_buf_append_str(b, "</");
    if (!rc)
        rc = xt_buf_append_str(b, name);
    if (!rc)
        rc = xt_buf_append_str(b, ">");
    if (!rc)
        rc = emit(s, (const char *)xt_buf_head(b), xt_buf_size(b), logged);
    wipe_stale(b);
    xt_wipe(b->data, b->len);
    xt_buf_clear(b);
    return rc;
}

/* The server's SASL offer: mechanism names and the XEP-0440 channel-
 * binding types. As text (xt_conn_sasl_hint) it is the mechanisms, then
 * "cb:" when <sasl-channel-binding/> was there and "cb:TYPE" per type,
 * separated by spaces. */
typedef struct offer {
    const char *names[32];
    size_t n;
    const char *cbtypes[8];
    size_t ncb;
    int cb_advertised;
} offer;

static int offer_from_features(xt_stream *s, const xt_stanza *features, offer *o)
{
    memset(o, 0, sizeof *o);
    const xt_stanza *mechs = xt_stanza_child(features, "mechanisms", XT_NS_SASL);
    for (const xt_stanza *m = mechs ? xt_stanza_first_child(mechs) : NULL; m && o->n < 32;
         m = xt_stanza_next_sibling(m)) {
        if (strcmp(xt_stanza_name(m), "mechanism") || strcmp(xt_stanza_ns(m), XT_NS_SASL))
            continue;
        const char *t = xt_stanza_text(m);
        if (!t)
            return XT_ENOMEM;
        o->names[o->n++] = t;
    }
    const xt_stanza *cbl = xt_stanza_child(features, "sasl-channel-binding", "urn:xmpp:sasl-cb:0");
    o->cb_advertised = cbl != NULL;
    for (const xt_stanza *c = cbl ? xt_stanza_first_child(cbl) : NULL; c && o->ncb < 8;
         c = xt_stanza_next_sibling(c)) {
        const char *type = xt_stanza_attr(c, "type");
        if (type && strcmp(xt_stanza_name(c), "channel-binding") == 0)
            o->cbtypes[o->ncb++] = type;
    }
    /* Kept as the hint for next time: only tokens that survive a round
     * trip through the text form (no spaces, printable ASCII). */
    xt_buf *b = &s->scratch;
    xt_buf_clear(b);
    int rc = 0;
    for (size_t i = 0; i < o->n + o->ncb + (size_t)o->cb_advertised && !rc; i++) {
        const char *t = i < o->n ? o->names[i] : i == o->n ? "cb:" : o->cbtypes[i - o->n - 1];
        int ok = *t != '\0' || i == o->n;
        for (const char *q = t; *q && ok; q++)
            ok = *q > ' ' && *q < 0x7f;
        if (!ok || strlen(t) > 64)
            continue;
        if (xt_buf_size(b))
            rc = xt_buf_append_str(b, " ");
        if (!rc && i > o->n)
            rc = xt_buf_append_str(b, "cb:");
        if (!rc)
            rc = xt_buf_append_str(b, t);
    }
    char *txt = rc ? NULL : xt_buf_cstr(b);
    if (!txt)
        return XT_ENOMEM;
    xt_free(s->mem, s->auth.offer);
    s->auth.offer = xt_strdup(s->mem, txt);
    xt_buf_clear(b);
    return s->auth.offer ? 0 : XT_ENOMEM;
}

/* The offer text back into an offer; its strings point into `text`
 * (modified). 0, or XT_EINVAL when it names no mechanism. */
static int offer_from_text(char *text, offer *o)
{
    memset(o, 0, sizeof *o);
    for (char *save = NULL, *t = strtok_r(text, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (strncmp(t, "salt:", 5) == 0)
            continue; /* see hint_salt */
        if (strncmp(t, "cb:", 3) == 0) {
            o->cb_advertised = 1;
            if (t[3] && o->ncb < 8)
                o->cbtypes[o->ncb++] = t + 3;
        } else if (o->n < 32) {
            o->names[o->n++] = t;
        }
    }
    return o->n ? 0 : XT_EINVAL;
}

/* The exchange this offer calls for (xt_sasl_new's rules). */
static int choose_sasl(xt_stream *s, const offer *o, xt_sasl **out)
{
    xt_sasl_params p = {
        .server_cb_advertised = o->cb_advertised,
        .server_cb_types = o->cbtypes,
        .server_cb_ntypes = o->ncb,
        .authcid = xt_jid_local(s->cfg.jid),
        .password = s->cfg.password ? s->cfg.password : "",
        .tls = s->tls.on,
        .allow_plain = !(s->cfg.flags & XT_CONN_NO_PLAIN_MECH),
        .cb_type = s->tls.cb_type,
        .cb_data = s->tls.cb_data,
        .cb_len = s->tls.cb_len,
        .nonce = s->cfg.test_nonce,
        .random = s->cfg.random,
        .random_ud = s->cfg.random_ud,
        .salted = &s->auth.salted,
    };
    /* The SASL object holds its own copy of the password; ours stays for
     * reconnecting (xt_stream_reset) and is wiped by xt_stream_cleanup. */
    return xt_sasl_new(s->mem, o->names, o->n, &p, out);
}

/* <auth mechanism='...'>initial response</auth> for s->auth.sasl. */
static int send_auth(xt_stream *s)
{
    xt_buf ir;
    xt_buf_init(&ir, s->mem);
    int rc = xt_sasl_initial(s->auth.sasl, &ir);
    if (!rc) {
        char attrs[64];
        snprintf(attrs, sizeof attrs, " mechanism='%s'", xt_sasl_mechanism(s->auth.sasl));
        rc = send_sasl(s, "auth", attrs, &ir);
    }
    xt_buf_free_wipe(&ir);
    if (!rc)
        s->phase = XT_PH_SASL;
    return rc;
}

static const char *const hash_names[] = {[XT_SCRAM_SHA1] = "sha1",
                                         [XT_SCRAM_SHA256] = "sha256",
                                         [XT_SCRAM_SHA512] = "sha512"};

/* The hint's "salt:HASH:ITERATIONS:BASE64" token (what the server gave
 * for this account last time; public, it gives it to anyone who asks)
 * into s->auth.salted, so Hi() can run before the challenge comes. */
static int hint_salt(xt_stream *s)
{
    const char *t = s->auth.hint;
    while (t && (t = strstr(t, "salt:")) != NULL && t != s->auth.hint && t[-1] != ' ')
        t += 5;
    if (!t)
        return 0;
    t += 5;
    xt_scram_salted c = {0};
    for (int h = XT_SCRAM_SHA1; h <= XT_SCRAM_SHA512; h++) {
        size_t n = strlen(hash_names[h]);
        if (strncmp(t, hash_names[h], n) == 0 && t[n] == ':') {
            c.hash = (xt_scram_hash)h;
            t += n + 1;
            break;
        }
    }
    char *end = NULL;
    unsigned long it = c.hash ? strtoul(t, &end, 10) : 0;
    if (!c.hash || end == t || !end || *end != ':' || it < XT_SCRAM_MIN_ITERATIONS ||
        it > XT_SCRAM_MAX_ITERATIONS)
        return 0;
    c.iterations = (uint32_t)it;
    t = end + 1;
    size_t n = strcspn(t, " ");
    xt_buf salt;
    xt_buf_init(&salt, s->mem);
    int rc = xt_base64_decode(&salt, t, n);
    if (!rc && xt_buf_size(&salt) > 0 && xt_buf_size(&salt) <= XT_SCRAM_SALT_MAX) {
        c.salt_len = xt_buf_size(&salt);
        memcpy(c.salt, xt_buf_head(&salt), c.salt_len);
        s->auth.salted = c;
        s->auth.precompute = 1;
    }
    xt_buf_free(&salt);
    return rc == XT_ENOMEM ? rc : 0;
}

/* Hi() for the hinted salt, with the prepared password (as SASL does). */
static void precompute_salted(xt_stream *s)
{
    s->auth.precompute = 0;
    if (s->auth.salted.valid || !s->cfg.password)
        return;
    char *pw = NULL;
    const char *why = NULL;
    if (xt_precis_opaque(s->mem, s->cfg.password, strlen(s->cfg.password), &pw, &why) == 0) {
        if (xt_scram_salted_compute(&s->auth.salted, pw) == 0)
            xt_stream_logf(s, XT_LOG_DEBUG, "SCRAM salted password computed ahead (%u iterations)",
                           (unsigned)s->auth.salted.iterations);
        xt_free_secret(s->mem, pw);
    }
}

/* After SCRAM succeeded: the salt joins the offer text, so the hint for
 * the next login lets it compute Hi() while it waits for the server. */
static int offer_add_salt(xt_stream *s)
{
    if (!s->auth.offer || !s->auth.salted.valid)
        return 0;
    xt_buf *b = &s->scratch;
    xt_buf_clear(b);
    char head[64];
    snprintf(head, sizeof head, " salt:%s:%u:", hash_names[s->auth.salted.hash],
             (unsigned)s->auth.salted.iterations);
    int rc = xt_buf_append_str(b, s->auth.offer);
    if (!rc)
        rc = xt_buf_append_str(b, head);
    if (!rc)
        rc = xt_base64_encode(b, s->auth.salted.salt, s->auth.salted.salt_len);
    char *txt = rc ? NULL : xt_buf_cstr(b);
    char *dup = txt ? xt_strdup(s->mem, txt) : NULL;
    xt_buf_clear(b);
    if (!dup)
        return XT_ENOMEM;
    xt_free(s->mem, s->auth.offer);
    s->auth.offer = dup;
    return 0;
}

/* Pipelined authentication: with a hint of the server's offer, the
 * first SCRAM message goes out with the stream header. Nothing is sent
 * when the hint is unusable or calls for PLAIN. */
static int send_early_auth(xt_stream *s)
{
    if (!s->auth.hint || !s->tls.on)
        return 0;
    char *text = xt_strdup(s->mem, s->auth.hint);
    if (!text)
        return XT_ENOMEM;
    offer o;
    xt_sasl *sasl = NULL;
    int rc = offer_from_text(text, &o);
    if (!rc)
        rc = choose_sasl(s, &o, &sasl);
    xt_free(s->mem, text);
    if (rc == XT_ENOMEM)
        return rc;
    if (rc || !xt_sasl_is_scram(sasl)) {
        xt_sasl_free(sasl);
        return 0; /* wait for the features */
    }
    xt_sasl_free(s->auth.sasl);
    s->auth.sasl = sasl;
    rc = send_auth(s);
    if (!rc) {
        s->pipe.early = 1;
        xt_stream_logf(s, XT_LOG_INFO, "%s sent with the stream header (the server's earlier offer)",
                       xt_sasl_mechanism(sasl));
    }
    return rc;
}

static int start_sasl(xt_stream *s, const xt_stanza *features)
{
    offer o;
    int rc = offer_from_features(s, features, &o);
    if (rc)
        return fail_code(s, rc);
    if (!xt_stanza_child(features, "mechanisms", XT_NS_SASL)) {
        if (s->pipe.early) /* our early <auth/> will fail; this is the reason */
            s->pipe.early = 0;
        return xt_stream_fail(s, XT_EUNSUPPORTED, NULL, NULL,
                              "the server offers no SASL authentication", NULL);
    }
    xt_sasl *sasl = NULL;
    rc = choose_sasl(s, &o, &sasl);
    if (rc == XT_EUNSUPPORTED) {
        char t[400];
        snprintf(t, sizeof t, "no usable SASL mechanism (server offers: %s%s)",
                 o.n ? s->auth.offer : "none", s->tls.on ? "" : "; PLAIN needs TLS");
        return xt_stream_fail(s, XT_EUNSUPPORTED, NULL, NULL, t, NULL);
    }
    if (rc)
        return fail_code(s, rc);
    if (s->pipe.early) {
        /* The early <auth/> stands if it is what this offer calls for. */
        s->pipe.early = 0;
        if (xt_sasl_same_choice(s->auth.sasl, sasl)) {
            xt_sasl_free(sasl);
            return 0;
        }
        xt_stream_logf(s, XT_LOG_INFO,
                       "the server's SASL offer differs from the hint: %s instead of %s, one round "
                       "trip more",
                       xt_sasl_mechanism(sasl), xt_sasl_mechanism(s->auth.sasl));
        xt_sasl_free(s->auth.next);
        s->auth.next = sasl;
        s->auth.early = XT_EARLY_AUTH_STALE;
        return 0;
    }
    xt_sasl_free(s->auth.sasl);
    s->auth.sasl = sasl;
    rc = send_auth(s);
    return rc ? fail_code(s, rc) : 0;
}

/* A stream header and what is pipelined behind it. The requests that
 * normally wait for the features go out at once; a server reads its
 * input in order, so it answers the header (features) before it handles
 * them, and on_early_features checks the features when they come:
 *   before TLS: <starttls/> (TLS is required anyway);
 *   over TLS, before SASL: the first SCRAM message, with a hint;
 *   after SASL: the bind IQ, then the IM layer's roster query and
 *   initial presence (RFC 6120 §7.1 lets a not yet bound client address
 *   its own account; the server binds first, in order).
 * Not with XT_CONN_NO_PIPELINING, and not when resuming (XEP-0198 §5
 * needs the features to say whether the server still offers it). */
static int send_opening(xt_stream *s)
{
    int rc = send_header(s);
    if (rc || (s->cfg.flags & XT_CONN_NO_PIPELINING))
        return rc;
    if (!s->tls.on) {
        if (s->cfg.flags & XT_CONN_INSECURE_ALLOW_PLAINTEXT)
            return 0; /* plaintext may do: the features decide */
        xt_stream_logf(s, XT_LOG_INFO, "TLS required: sending STARTTLS with the stream header");
        rc = emit_str(s, "<starttls xmlns='" XT_NS_TLS "'/>");
        if (!rc) {
            s->phase = XT_PH_PROCEED;
            s->pipe.early = 1;
        }
        return rc;
    }
    if (!s->auth.done)
        return send_early_auth(s);
    if (s->sm.id)
        return 0;
    sm_new_session(s);
    rc = send_bind(s, s->cfg.resource);
    if (rc)
        return rc;
    s->pipe.early = 1;
    if (s->hooks.login) {
        rc = s->hooks.login(s->hooks_ud);
        if (!rc)
            s->pipe.login_sent = 1;
    }
    return rc;
}

/* Features that arrive behind a pipelined request: check that the
 * server offers what we already asked for. */
static int on_early_features(xt_stream *s, const xt_stanza *st)
{
    switch (s->phase) {
    case XT_PH_PROCEED:
        s->pipe.early = 0;
        if (!xt_stanza_child(st, "starttls", XT_NS_TLS))
            return xt_stream_fail(s, XT_ENOTLS, NULL, NULL,
                                  "the server does not offer STARTTLS and plaintext is not allowed",
                                  NULL);
        return 0; /* <proceed/> follows */
    case XT_PH_SASL:
        return start_sasl(s, st); /* compares with the early <auth/> */
    default: /* the bind IQ (and maybe its answer) went ahead */
        s->pipe.early = 0;
        if (read_bind_features(s, st))
            return XT_EPROTO;
        /* A server wanting a session before it routes our stanzas gets the
         * pipelined ones again after it. */
        if (s->bind.session_needed)
            s->pipe.login_sent = 0;
        return 0;
    }
}

static int on_features(xt_stream *s, const xt_stanza *st)
{
    if (s->pipe.early)
        return on_early_features(s, st);
    if (s->phase != XT_PH_FEATURES)
        return 0; /* duplicate features: nothing to act on */
    if (!s->tls.on && !s->auth.done) {
        if (xt_stanza_child(st, "starttls", XT_NS_TLS)) {
            xt_stream_logf(s, XT_LOG_INFO, "TLS required: sending STARTTLS");
            int rc = emit_str(s, "<starttls xmlns='" XT_NS_TLS "'/>");
            if (rc)
                return fail_code(s, rc);
            s->phase = XT_PH_PROCEED;
            return 0;
        }
        if (!(s->cfg.flags & XT_CONN_INSECURE_ALLOW_PLAINTEXT))
            return xt_stream_fail(s, XT_ENOTLS, NULL, NULL,
                                  "the server does not offer STARTTLS and plaintext is not allowed",
                                  NULL);
        xt_stream_logf(s, XT_LOG_WARN,
                       "the server offers no TLS: continuing in plaintext (insecure)");
    }
    if (!s->auth.done)
        return start_sasl(s, st);
    return start_bind(s, st);
}

/* Decodes SASL element text: "" or "=" is empty (RFC 6120 §6.4.2). */
static int sasl_decode(const xt_stanza *st, xt_buf *out)
{
    const char *t = xt_stanza_text(st);
    if (!t)
        return XT_ENOMEM;
    size_t n = strlen(t);
    if (n == 0 || (n == 1 && t[0] == '='))
        return 0;
    return xt_base64_decode(out, t, n);
}

static int on_sasl(xt_stream *s, const xt_stanza *st)
{
    const char *name = xt_stanza_name(st);
    if (s->phase != XT_PH_SASL)
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "unexpected SASL element from the server",
                              NULL);
    if (s->auth.early != XT_EARLY_AUTH_OK) {
        /* The early exchange is not the one the features call for: a
         * challenge gets <abort/>, and its failure (or the server's
         * refusal of the mechanism) starts the right one. */
        int rc = 0;
        if (strcmp(name, "challenge") == 0 && s->auth.early == XT_EARLY_AUTH_STALE) {
            s->auth.early = XT_EARLY_AUTH_ABORTED;
            rc = emit_str(s, "<abort xmlns='" XT_NS_SASL "'/>");
        } else if (strcmp(name, "failure") == 0) {
            s->auth.early = XT_EARLY_AUTH_OK;
            xt_sasl_free(s->auth.sasl);
            s->auth.sasl = s->auth.next;
            s->auth.next = NULL;
            rc = send_auth(s);
        } else {
            return xt_stream_fail(s, XT_EPROTO, NULL, NULL,
                                  "unexpected SASL element from the server", NULL);
        }
        return rc ? fail_code(s, rc) : 0;
    }
    if (strcmp(name, "failure") == 0) {
        const char *cond = NULL;
        for (const xt_stanza *c = xt_stanza_first_child(st); c; c = xt_stanza_next_sibling(c))
            if (strcmp(xt_stanza_ns(c), XT_NS_SASL) == 0 && strcmp(xt_stanza_name(c), "text")) {
                cond = xt_stanza_name(c);
                break;
            }
        const char *text = xt_stanza_child_text(st, "text", XT_NS_SASL);
        return xt_stream_fail(s, XT_EAUTH, NULL, cond ? cond : "not-authorized",
                              text && *text ? text : NULL, NULL);
    }
    int is_success = strcmp(name, "success") == 0;
    if (!is_success && strcmp(name, "challenge") != 0)
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "unexpected SASL element from the server",
                              NULL);
    xt_buf data, resp;
    xt_buf_init(&data, s->mem);
    xt_buf_init(&resp, s->mem);
    int rc = sasl_decode(st, &data);
    if (rc == XT_ENOMEM) {
        xt_buf_free_wipe(&data);
        return fail_code(s, rc);
    }
    if (rc) {
        xt_buf_free_wipe(&data);
        (void)emit_str(s, "<abort xmlns='" XT_NS_SASL "'/>");
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL,
                              "the server sent malformed SASL data (bad base64)", NULL);
    }
    if (is_success) {
        rc = xt_sasl_success(s->auth.sasl, xt_buf_head(&data), xt_buf_size(&data));
        xt_buf_free_wipe(&data);
        if (rc == XT_EDOWNGRADE)
            return xt_stream_fail(
                s, XT_EDOWNGRADE, NULL, NULL,
                "the server's SCRAM signature is wrong or missing: it did not prove it knows the "
                "password (impostor or downgrade attack?); not continuing",
                NULL);
        if (rc)
            return xt_stream_fail(s, rc, NULL, NULL, "the server's SASL success data is malformed",
                                  NULL);
        snprintf(s->auth.mech, sizeof s->auth.mech, "%s", xt_sasl_mechanism(s->auth.sasl));
        xt_stream_logf(s, XT_LOG_INFO, "authenticated with %s", s->auth.mech);
        if (xt_sasl_is_scram(s->auth.sasl) && offer_add_salt(s) != 0) {
            xt_sasl_free(s->auth.sasl);
            s->auth.sasl = NULL;
            return fail_code(s, XT_ENOMEM);
        }
        /* Nothing needs the credentials any more. */
        xt_sasl_free(s->auth.sasl);
        s->auth.sasl = NULL;
        wipe_stale(&s->out);
        wipe_stale(&s->scratch);
        s->auth.done = 1;
        s->restart = XT_RESTART_SASL; /* RFC 6120 §6.4.6: restart the stream */
        return 0;
    }
    rc = xt_sasl_step(s->auth.sasl, xt_buf_head(&data), xt_buf_size(&data), &resp);
    xt_buf_free_wipe(&data);
    if (!rc)
        rc = send_sasl(s, "response", "", &resp);
    xt_buf_free_wipe(&resp);
    if (rc == XT_ENOMEM || rc == XT_ETOOBIG)
        return fail_code(s, rc);
    if (rc) {
        (void)emit_str(s, "<abort xmlns='" XT_NS_SASL "'/>");
        return xt_stream_fail(s, rc, NULL, NULL, "the server's SASL challenge was rejected", NULL);
    }
    return 0;
}

static int on_stream_error(xt_stream *s, const xt_stanza *st)
{
    const xt_stanza *ce = NULL;
    for (const xt_stanza *c = xt_stanza_first_child(st); c; c = xt_stanza_next_sibling(c))
        if (strcmp(xt_stanza_ns(c), XT_NS_STREAM_ERRORS) == 0 &&
            strcmp(xt_stanza_name(c), "text")) {
            ce = c;
            break;
        }
    const char *cond = ce ? xt_stanza_name(ce) : "undefined-condition";
    const char *text = xt_stanza_child_text(st, "text", XT_NS_STREAM_ERRORS);
    if (text && !*text)
        text = NULL;
    if (strcmp(cond, "see-other-host") == 0) {
        /* RFC 6120 §4.9.3.19: the element's text is the new host[:port]. */
        const char *to = xt_stanza_text(ce);
        return xt_stream_fail(s, XT_EREDIRECT, NULL, cond, text, to && *to ? to : NULL);
    }
    return xt_stream_fail(s, XT_ESTREAM, NULL, cond, text, NULL);
}

/* --- XEP-0198 ------------------------------------------------------------------ */

/* <a/>: how many stanzas from the server we have handled. */
static int send_a(xt_stream *s)
{
    char buf[96];
    snprintf(buf, sizeof buf, "<a xmlns='" XT_NS_SM "' h='%lu'/>", (unsigned long)s->sm.h_in);
    return emit_str(s, buf);
}

static int send_r(xt_stream *s)
{
    int rc = emit_str(s, "<r xmlns='" XT_NS_SM "'/>");
    if (rc)
        return rc;
    s->sm.since_r = 0;
    /* The first unanswered request sets the dead-connection deadline. */
    if (!s->sm.r_deadline)
        s->sm.r_deadline = s->t.now + s->cfg.ack_timeout;
    return 0;
}

/* The server acknowledged n more stanzas: drop them, XT_EV_ACKED for
 * the messages. Entries leave the queue before the hook runs, so a
 * handler may send (append) freely. */
static void ack_n(xt_stream *s, uint32_t n)
{
    xt_sm_entry e;
    while (n-- && xt_sm_queue_pop(&s->sm.q, &e)) {
        s->sm.acked++;
        if (e.msg_id && s->hooks.acked)
            s->hooks.acked(s->hooks_ud, e.msg_id);
        xt_sm_entry_done(s->mem, &e);
    }
}

/* Validates <a h/> or <resumed h/> (§4: h counts stanzas we sent, so it
 * can never exceed that) and acks. Negative when the stream failed. */
static int sm_take_h(xt_stream *s, const xt_stanza *st)
{
    uint32_t h;
    if (xt_sm_parse_h(xt_stanza_attr(st, "h"), &h))
        return xt_stream_fail(s, XT_EPROTO, "undefined-condition", "undefined-condition",
                              "the server sent a malformed XEP-0198 h value", NULL);
    uint32_t n = h - s->sm.acked; /* modulo 2^32 */
    if (n > s->sm.q.n) {
        char buf[400];
        uint32_t sent = s->sm.acked + (uint32_t)s->sm.q.n;
        snprintf(buf, sizeof buf,
                 "<stream:error><undefined-condition xmlns='" XT_NS_STREAM_ERRORS
                 "'/><handled-count-too-high xmlns='" XT_NS_SM
                 "' h='%lu' send-count='%lu'/></stream:error>",
                 (unsigned long)h, (unsigned long)sent);
        (void)emit_str(s, buf); /* nothing once our close is out (emit) */
        snprintf(buf, sizeof buf,
                 "the server acknowledged %lu stanzas but only %lu were sent (XEP-0198 "
                 "handled-count-too-high)",
                 (unsigned long)h, (unsigned long)sent);
        /* A session with broken counters is not resumed. */
        xt_free(s->mem, s->sm.id);
        s->sm.id = NULL;
        return xt_stream_fail(s, XT_EPROTO, NULL, "undefined-condition", buf, NULL);
    }
    ack_n(s, n);
    return 0;
}

static int on_sm(xt_stream *s, const xt_stanza *st)
{
    const char *name = xt_stanza_name(st);
    if (strcmp(name, "r") == 0)
        return s->sm.state == XT_SM_ON ? send_a(s) : 0;
    if (strcmp(name, "a") == 0) {
        if (s->sm.state == XT_SM_OFF)
            return 0;
        s->sm.r_deadline = 0;
        return sm_take_h(s, st);
    }
    if (strcmp(name, "enabled") == 0) {
        if (s->sm.state != XT_SM_ENABLING)
            return 0;
        s->sm.state = XT_SM_ON;
        const char *res = xt_stanza_attr(st, "resume"), *id = xt_stanza_attr(st, "id");
        xt_free(s->mem, s->sm.id);
        s->sm.id = NULL;
        if (res && (strcmp(res, "true") == 0 || strcmp(res, "1") == 0) && id && *id &&
            strlen(id) < 1024 && !(s->sm.id = xt_strdup(s->mem, id)))
            return XT_ENOMEM;
        xt_stream_logf(s, XT_LOG_INFO, "stream management enabled%s",
                       s->sm.id ? " (resumable)" : "");
        if (s->sm.since_r >= s->cfg.ack_every)
            return send_r(s);
        return 0;
    }
    if (strcmp(name, "resumed") == 0) {
        if (s->phase != XT_PH_RESUME)
            return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "unexpected XEP-0198 <resumed/>",
                                  NULL);
        int rc = sm_take_h(s, st);
        if (rc < 0 || s->phase == XT_PH_CLOSED)
            return rc;
        /* §5: everything the server did not get goes out again, in
         * order, still counted as before (the server's count continues). */
        s->sm.state = XT_SM_ON;
        s->sm.since_r = 0;
        s->sm.r_deadline = 0;
        for (size_t i = 0; i < s->sm.q.n; i++) {
            xt_sm_entry *e = xt_sm_queue_at(&s->sm.q, i);
            if ((rc = emit_bytes(s, e->data, e->len)) != 0)
                return rc;
        }
        xt_stream_logf(s, XT_LOG_INFO, "stream resumed; %zu stanzas sent again", s->sm.q.n);
        s->sm.since_r = (uint32_t)s->sm.q.n;
        s->sm.last_tx = s->t.now;
        s->phase = XT_PH_ONLINE;
        s->t.nego_deadline = 0;
        s->t.last_rx = s->t.now;
        rc = s->hooks.online ? s->hooks.online(s->hooks_ud, s->bind.jid, XT_ONLINE_RESUMED) : 0;
        if (rc < 0 || s->phase != XT_PH_ONLINE)
            return rc;
        return s->sm.since_r >= s->cfg.ack_every ? send_r(s) : 0;
    }
    if (strcmp(name, "failed") == 0) {
        if (s->phase == XT_PH_RESUME) {
            /* §5: a failed resumption may still say what arrived. */
            uint32_t h;
            if (!xt_sm_parse_h(xt_stanza_attr(st, "h"), &h) && (uint32_t)(h - s->sm.acked) <= s->sm.q.n)
                ack_n(s, h - s->sm.acked);
            if (s->phase == XT_PH_CLOSED)
                return 0;
            xt_stream_logf(s, XT_LOG_INFO, "stream resumption failed; starting a new session");
            sm_new_session(s);
            s->bind.retried = 0;
            return send_bind(s, s->cfg.resource);
        }
        if (s->sm.state == XT_SM_ENABLING) {
            /* No SM after all: messages already counted wait for an ack
             * ping instead. */
            xt_stream_logf(s, XT_LOG_INFO, "the server refused stream management");
            s->sm.state = XT_SM_OFF;
            s->bind.sm_offered = 0;
            xt_sm_entry e;
            while (xt_sm_queue_pop(&s->sm.q, &e)) {
                int rc = e.msg_id ? xt_sm_queue_push(s->mem, &s->sm.pend, NULL, 0, e.msg_id) : 0;
                xt_sm_entry_done(s->mem, &e);
                if (rc)
                    return rc;
            }
        }
        return 0;
    }
    return 0;
}

static void ack_ping_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)c;
    (void)reply;
    xt_stream *s = ud;
    if (status == XT_ECLOSED)
        return; /* the stream failed: the no-SM list is already gone */
    s->sm.ping_out = 0;
    if (status == XT_ETIMEOUT) {
        xt_stream_fail(s, XT_ETIMEOUT, NULL, NULL, "the server did not answer (ack ping)", NULL);
        return;
    }
    /* A result or an error alike: the server handles a client's stanzas
     * in order (RFC 6120 §10.1), so it processed every message before. */
    size_t k = s->sm.covered;
    s->sm.covered = 0;
    xt_sm_entry e;
    while (k-- && s->phase != XT_PH_CLOSED && xt_sm_queue_pop(&s->sm.pend, &e)) {
        if (s->hooks.acked)
            s->hooks.acked(s->hooks_ud, e.msg_id);
        xt_sm_entry_done(s->mem, &e);
    }
}

static int send_ack_ping(xt_stream *s)
{
    xt_stanza *iq = xt_stanza_new(s->mem, "iq", XT_NS_CLIENT);
    int rc = iq && !xt_stanza_set_attr(iq, "type", "get") && xt_stanza_add_child(iq, "ping", XT_NS_PING)
                 ? 0
                 : XT_ENOMEM;
    if (!rc)
        rc = xt_stream_iq(s, iq, s->cfg.ack_timeout, ack_ping_done, s);
    xt_stanza_free(iq);
    if (!rc) {
        s->sm.ping_out = 1;
        s->sm.covered = s->sm.pend.n;
    }
    return rc;
}

static int on_iq(xt_stream *s, const xt_stanza *st)
{
    const char *type = xt_stanza_attr(st, "type");
    const char *id = xt_stanza_attr(st, "id");
    if (!type)
        return 0;
    if (strcmp(type, "result") == 0 || strcmp(type, "error") == 0) {
        xt_iq_self self = {xt_stream_bare(s), xt_stream_domain(s), s->bind.jid};
        xt_iq_pending p;
        if (!xt_iq_take(&s->iqs, id, xt_stanza_attr(st, "from"), &self, &p))
            return 0; /* unknown, or from someone we did not ask: §10.1 */
        if (p.fn)
            p.fn(s->owner, strcmp(type, "result") == 0 ? 0 : XT_ESTANZA, st, p.ud);
        xt_iq_pending_done(s->mem, &p);
        return 0;
    }
    if ((strcmp(type, "get") && strcmp(type, "set")) || !id)
        return 0; /* nothing we could address a reply to */
    if (s->phase != XT_PH_ONLINE && s->phase != XT_PH_CLOSING)
        return xt_stream_reply_error(s, st, "cancel", "service-unavailable");
    const xt_stanza *payload = xt_stanza_first_child(st);
    if (strcmp(type, "get") == 0 && payload && strcmp(xt_stanza_name(payload), "ping") == 0 &&
        strcmp(xt_stanza_ns(payload), XT_NS_PING) == 0)
        return xt_stream_reply_result(s, st); /* XEP-0199 §4 */
    int rc = s->hooks.iq_request ? s->hooks.iq_request(s->hooks_ud, st) : 0;
    if (rc)
        return rc < 0 ? rc : 0;
    /* RFC 6120 §8.4: an IQ nobody understands gets service-unavailable. */
    return xt_stream_reply_error(s, st, "cancel", "service-unavailable");
}

static int on_element(xt_stream *s, const xt_stanza *st)
{
    const char *name = xt_stanza_name(st), *ns = xt_stanza_ns(st);
    log_in(s, st);
    if (strcmp(ns, XT_NS_STREAMS) == 0) {
        if (strcmp(name, "error") == 0)
            return on_stream_error(s, st);
        if (strcmp(name, "features") == 0)
            return on_features(s, st);
        return 0;
    }
    if (strcmp(ns, XT_NS_TLS) == 0) {
        if (s->phase != XT_PH_PROCEED)
            return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "unexpected STARTTLS element", NULL);
        if (strcmp(name, "proceed") == 0) {
            s->restart = XT_RESTART_TLS;
            return 0;
        }
        return xt_stream_fail(s, XT_ETLS, NULL, NULL, "the server refused STARTTLS", NULL);
    }
    if (strcmp(ns, XT_NS_SASL) == 0)
        return on_sasl(s, st);
    if (strcmp(ns, XT_NS_SM) == 0)
        return on_sm(s, st);
    if (strcmp(ns, XT_NS_CLIENT) == 0 &&
        (strcmp(name, "message") == 0 || strcmp(name, "presence") == 0 ||
         strcmp(name, "iq") == 0)) {
        /* Stanzas only make sense once authenticated (RFC 6120 §6.4.6). */
        if (!s->auth.done || s->phase < XT_PH_BIND)
            return 0;
        /* After our close with XEP-0198 on, the last <a/> is out: what
         * still arrives is unacknowledged, so the server keeps it for the
         * next session. Handing it up too would show it twice. (Without
         * stream management it is delivered: nothing would resend it.) */
        if (s->phase == XT_PH_CLOSING && s->sm.state == XT_SM_ON) {
            xt_stream_logf(s, XT_LOG_DEBUG,
                           "<%s/> after our close left to the server for the next session", name);
            return 0;
        }
        /* XEP-0198 §4: counted as handled once we take it (the event
         * handlers run synchronously below). */
        if (s->sm.state == XT_SM_ON)
            s->sm.h_in++;
        if (s->hooks.stanza) {
            int rc = s->hooks.stanza(s->hooks_ud, st);
            if (rc < 0)
                return rc;
            if (s->phase == XT_PH_CLOSED)
                return 0;
        }
        if (strcmp(name, "iq") == 0)
            return on_iq(s, st);
        return 0;
    }
    return 0; /* unknown nonza: ignored */
}

/* --- parser callbacks ------------------------------------------------------- */

static int cb_stream_open(void *ud, const xt_stanza *header, const char *content_ns)
{
    xt_stream *s = ud;
    log_in(s, header);
    const char *ver = xt_stanza_attr(header, "version");
    /* RFC 6120 §4.7.5: no version means pre-1.0 (no SASL, no binding). */
    if (!ver || strncmp(ver, "1.", 2) != 0) {
        xt_stream_fail(s, XT_EPROTO, "unsupported-version", "unsupported-version",
                       "the server does not speak XMPP 1.0", NULL);
        return XT_ECLOSED;
    }
    /* §4.9.3.10: the content namespace of a client stream. */
    if (strcmp(content_ns, XT_NS_CLIENT) != 0) {
        xt_stream_fail(s, XT_EPROTO, "invalid-namespace", "invalid-namespace",
                       "the server's stream is not a jabber:client stream", NULL);
        return XT_ECLOSED;
    }
    return 0;
}

static int cb_stanza(void *ud, xt_stanza *st)
{
    xt_stream *s = ud;
    int rc = on_element(s, st);
    xt_stanza_free(st);
    if (rc < 0 && s->phase != XT_PH_CLOSED)
        fail_code(s, rc);
    if (s->phase == XT_PH_CLOSED)
        return XT_ECLOSED;
    return s->restart != XT_RESTART_NONE ? STOP_RESTART : 0;
}

static int cb_stream_close(void *ud)
{
    xt_stream *s = ud;
    xt_stream_logf(s, XT_LOG_XML_IN, "%s", stream_close_tag);
    if (s->phase == XT_PH_CLOSING)
        xt_stream_fail(s, 0, NULL, NULL, NULL, NULL);
    else /* RFC 6120 §4.4: answer with our closing tag. */
        xt_stream_fail(s, XT_ECLOSED, NULL, NULL, "server closed the stream", NULL);
    return XT_ECLOSED;
}

/* --- driving ----------------------------------------------------------------- */

int xt_stream_set_direct_tls(xt_stream *s, int on)
{
    if (s->phase != XT_PH_NEW || s->tls.on)
        return XT_ESTATE;
    if (on)
        s->cfg.flags |= XT_CONN_DIRECT_TLS;
    else
        s->cfg.flags &= ~(unsigned)XT_CONN_DIRECT_TLS;
    return 0;
}

int xt_stream_start(xt_stream *s, uint64_t now)
{
    if (s->phase != XT_PH_NEW || s->header_sent)
        return XT_ESTATE;
    s->t.now = now;
    s->t.nego_deadline = now + s->cfg.nego_timeout;
    if (s->t.nego_deadline == 0)
        s->t.nego_deadline = 1;
    if ((s->cfg.flags & XT_CONN_DIRECT_TLS) && !s->tls.on) {
        s->phase = XT_PH_TLS; /* the header goes out at xt_stream_tls_ready */
        return 0;
    }
    int rc = send_opening(s);
    return rc ? fail_code(s, rc) : 0;
}

int xt_stream_tls_ready(xt_stream *s, const xt_tls_info *info, uint64_t now)
{
    s->t.now = now;
    int direct_early = s->phase == XT_PH_NEW && (s->cfg.flags & XT_CONN_DIRECT_TLS);
    if (!direct_early && s->phase != XT_PH_TLS)
        return XT_ESTATE;
    xt_free(s->mem, s->tls.cb_type);
    xt_free(s->mem, s->tls.cb_data);
    s->tls.cb_type = NULL;
    s->tls.cb_data = NULL;
    s->tls.cb_len = 0;
    if (info && info->cb_type && info->cb_data && info->cb_len) {
        s->tls.cb_type = xt_strdup(s->mem, info->cb_type);
        s->tls.cb_data = xt_malloc(s->mem, info->cb_len);
        if (!s->tls.cb_type || !s->tls.cb_data)
            return direct_early ? XT_ENOMEM : fail_code(s, XT_ENOMEM);
        memcpy(s->tls.cb_data, info->cb_data, info->cb_len);
        s->tls.cb_len = info->cb_len;
    }
    s->tls.on = 1;
    xt_stream_logf(s, XT_LOG_INFO, "TLS established%s%s%s", s->tls.cb_type ? " (channel binding " : "",
                   s->tls.cb_type ? s->tls.cb_type : "", s->tls.cb_type ? ")" : "");
    if (direct_early)
        return 0; /* xt_stream_start sends the header */
    /* RFC 6120 §5.4.3.3: a fresh stream over TLS. */
    int rc = xt_parser_reset(s->parser);
    if (!rc)
        rc = send_opening(s);
    return rc ? fail_code(s, rc) : 0;
}

int xt_stream_feed(xt_stream *s, const void *data, size_t len, uint64_t now)
{
    s->t.now = now;
    if (s->phase == XT_PH_CLOSED)
        return s->err.code ? s->err.code : XT_ECLOSED;
    if (s->in_feed || s->phase == XT_PH_NEW || s->phase == XT_PH_TLS)
        return XT_ESTATE;
    if (len == 0)
        return 0;
    s->t.last_rx = now;
    s->t.ka_deadline = 0; /* any bytes prove the server is alive */
    s->in_feed = 1;
    int rc = xt_parser_feed(s->parser, data, len);
    s->in_feed = 0;
    if (s->phase == XT_PH_CLOSED)
        return s->err.code;
    if (s->restart == XT_RESTART_TLS) {
        s->restart = XT_RESTART_NONE;
        s->phase = XT_PH_TLS;
        if (s->hooks.starttls)
            s->hooks.starttls(s->hooks_ud);
        return s->phase == XT_PH_CLOSED ? s->err.code : 0;
    }
    if (s->restart == XT_RESTART_SASL) {
        s->restart = XT_RESTART_NONE;
        rc = xt_parser_reset(s->parser);
        if (!rc)
            rc = send_opening(s);
        return rc ? fail_code(s, rc) : 0;
    }
    if (rc < 0) {
        const char *cond = xt_parser_condition(s->parser);
        const char *pd = xt_parser_detail(s->parser);
        int err = rc == XT_ENOMEM ? XT_ENOMEM : rc == XT_ETOOBIG ? XT_ETOOBIG : XT_EXML;
        if (!cond)
            cond = err == XT_ENOMEM ? "resource-constraint" : "not-well-formed";
        char t[400];
        snprintf(t, sizeof t, "the server sent unacceptable XML: %s%s%s%s", cond,
                 pd && *pd ? " (" : "", pd ? pd : "", pd && *pd ? ")" : "");
        return xt_stream_fail(s, err, cond, cond, t, NULL);
    }
    return 0;
}

int xt_stream_eof(xt_stream *s, int error, const char *detail, uint64_t now)
{
    s->t.now = now;
    if (s->phase == XT_PH_CLOSED)
        return 0;
    s->close_sent = 1; /* the transport is gone: nothing more to write */
    if (s->phase == XT_PH_CLOSING && error == 0)
        return xt_stream_fail(s, 0, NULL, NULL, NULL, NULL);
    return xt_stream_fail(s, error ? error : XT_ECLOSED, NULL, NULL,
                          detail && *detail ? detail : "the server closed the connection", NULL);
}

int xt_stream_tick(xt_stream *s, uint64_t now)
{
    s->t.now = now;
    if (s->phase == XT_PH_CLOSED || s->phase == XT_PH_NEW)
        return 0;
    if (s->phase < XT_PH_ONLINE && s->t.nego_deadline && now >= s->t.nego_deadline)
        return xt_stream_fail(s, XT_ETIMEOUT, NULL, NULL, "stream negotiation timed out", NULL);
    if (s->phase == XT_PH_CLOSING && now >= s->t.close_deadline)
        return xt_stream_fail(s, 0, NULL, NULL, "the server did not close its stream in time",
                              NULL);
    if (s->auth.precompute && !s->auth.done)
        precompute_salted(s);
    xt_iq_pending p;
    while (s->phase != XT_PH_CLOSED && xt_iq_take_expired(&s->iqs, now, &p)) {
        if (p.fn)
            p.fn(s->owner, XT_ETIMEOUT, NULL, p.ud);
        xt_iq_pending_done(s->mem, &p);
    }
    if (s->phase != XT_PH_ONLINE)
        return 0;
    /* Acks: XEP-0198 <r/> (and its answer's deadline), or the ack ping. */
    if (s->sm.state == XT_SM_ON) {
        if (s->sm.r_deadline && now >= s->sm.r_deadline)
            return xt_stream_fail(s, XT_ETIMEOUT, NULL, NULL,
                                  "the server did not acknowledge (XEP-0198) in time", NULL);
        if (s->sm.since_r && now - s->sm.last_tx >= s->cfg.ack_delay) {
            int rc = send_r(s);
            if (rc)
                return fail_code(s, rc);
        }
    } else if (s->sm.state == XT_SM_OFF && !s->sm.ping_out && s->sm.pend.n &&
               now - s->sm.last_tx >= s->cfg.ack_delay) {
        int rc = send_ack_ping(s);
        if (rc)
            return fail_code(s, rc);
    }
    if (s->cfg.ping_interval == UINT32_MAX)
        return 0;
    if (s->t.ka_deadline) {
        if (now >= s->t.ka_deadline)
            return xt_stream_fail(s, XT_ETIMEOUT, NULL, NULL, "server did not answer keepalive",
                                  NULL);
        return 0;
    }
    if (now >= s->t.last_rx && now - s->t.last_rx >= s->cfg.ping_interval) {
        /* XEP-0199 §4.2 client-to-server ping. Not tracked: any bytes
         * from the server clear ka_deadline, the reply included. */
        char id[64], buf[192];
        xt_stream_next_id(s, id);
        snprintf(buf, sizeof buf, "<iq type='get' id='%s'><ping xmlns='" XT_NS_PING "'/></iq>", id);
        int rc = emit_stanza_str(s, buf, "iq");
        if (rc)
            return fail_code(s, rc);
        s->t.ka_deadline = now + s->cfg.ping_timeout;
    }
    return 0;
}

static void take_min(int64_t *d, uint64_t v)
{
    int64_t x = v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
    if (*d < 0 || x < *d)
        *d = x;
}

void xt_stream_trim(xt_stream *s)
{
    if (s->phase != XT_PH_ONLINE || s->in_feed)
        return;
    (void)xt_parser_suspend(s->parser);
    xt_iq_table_trim(&s->iqs);
    xt_sm_queue_trim(s->mem, &s->sm.q);
    xt_sm_queue_trim(s->mem, &s->sm.pend);
    xt_sm_queue_trim(s->mem, &s->resend);
    if (!xt_buf_size(&s->out))
        xt_buf_free(&s->out); /* its limit stays */
    xt_buf_free_wipe(&s->scratch);
}

int64_t xt_stream_deadline(const xt_stream *s)
{
    if (s->phase == XT_PH_CLOSED || s->phase == XT_PH_NEW)
        return -1;
    int64_t d = xt_iq_deadline(&s->iqs);
    if (s->auth.precompute && !s->auth.done)
        take_min(&d, s->t.now); /* now: the driver ticks once it has sent what it has */
    if (s->phase < XT_PH_ONLINE && s->t.nego_deadline)
        take_min(&d, s->t.nego_deadline);
    if (s->phase == XT_PH_CLOSING)
        take_min(&d, s->t.close_deadline);
    if (s->phase == XT_PH_ONLINE && s->cfg.ping_interval != UINT32_MAX)
        take_min(&d, s->t.ka_deadline ? s->t.ka_deadline : s->t.last_rx + s->cfg.ping_interval);
    if (s->phase == XT_PH_ONLINE && s->sm.state == XT_SM_ON) {
        if (s->sm.r_deadline)
            take_min(&d, s->sm.r_deadline);
        if (s->sm.since_r)
            take_min(&d, s->sm.last_tx + s->cfg.ack_delay);
    }
    if (s->phase == XT_PH_ONLINE && s->sm.state == XT_SM_OFF && !s->sm.ping_out && s->sm.pend.n)
        take_min(&d, s->sm.last_tx + s->cfg.ack_delay);
    return d;
}

xt_conn_state xt_stream_state(const xt_stream *s)
{
    switch (s->phase) {
    case XT_PH_NEW:
        return XT_STATE_NEW;
    case XT_PH_FEATURES:
        return s->auth.done ? XT_STATE_BIND : s->tls.on ? XT_STATE_AUTH : XT_STATE_STREAM;
    case XT_PH_PROCEED:
        return XT_STATE_STREAM;
    case XT_PH_TLS:
        return XT_STATE_TLS;
    case XT_PH_SASL:
        return XT_STATE_AUTH;
    case XT_PH_RESUME:
    case XT_PH_BIND:
    case XT_PH_SESSION:
        return XT_STATE_BIND;
    case XT_PH_ONLINE:
        return XT_STATE_ONLINE;
    case XT_PH_CLOSING:
        return XT_STATE_CLOSING;
    case XT_PH_CLOSED:
        break;
    }
    return XT_STATE_CLOSED;
}

const char *xt_stream_bare(const xt_stream *s)
{
    return xt_jid_bare(s->cfg.jid);
}

const char *xt_stream_domain(const xt_stream *s)
{
    return xt_jid_domain(s->cfg.jid);
}

/* --- lifetime ------------------------------------------------------------------ */

int xt_stream_init(xt_stream *s, const xt_stream_config *cfg, xt_conn *owner,
                   const xt_stream_hooks *hooks, void *hooks_ud)
{
    memset(s, 0, sizeof *s);
    if (cfg->mem) {
        s->mem_copy = *cfg->mem;
        s->mem = &s->mem_copy;
    }
    s->owner = owner;
    if (hooks)
        s->hooks = *hooks;
    s->hooks_ud = hooks_ud;
    xt_buf_init(&s->out, s->mem);
    xt_buf_init(&s->scratch, s->mem);
    s->out.limit = XT_OUT_LIMIT;
    s->scratch.limit = XT_OUT_LIMIT;
    xt_iq_table_init(&s->iqs, s->mem);
    s->cfg.flags = cfg->flags;
    s->cfg.iq_timeout = cfg->iq_timeout_ms ? cfg->iq_timeout_ms : 30000;
    s->cfg.ping_interval = cfg->ping_interval_ms ? cfg->ping_interval_ms : 60000;
    s->cfg.ping_timeout = cfg->ping_timeout_ms ? cfg->ping_timeout_ms : 30000;
    s->cfg.nego_timeout = cfg->negotiation_timeout_ms ? cfg->negotiation_timeout_ms : 60000;
    s->cfg.ack_every = cfg->ack_every ? cfg->ack_every : 10;
    s->cfg.ack_delay = cfg->ack_delay_ms ? cfg->ack_delay_ms : 100;
    s->cfg.ack_timeout = cfg->ack_timeout_ms ? cfg->ack_timeout_ms : s->cfg.ping_timeout;
    s->cfg.max_unacked = cfg->sm_max_unacked ? cfg->sm_max_unacked : 5000;
    s->cfg.log = cfg->log;
    s->cfg.log_ud = cfg->log_ud;
    s->cfg.random = cfg->random;
    s->cfg.random_ud = cfg->random_ud;
    s->cfg.limits.max_stanza = cfg->max_stanza_size;
    s->cfg.limits.max_depth = cfg->max_depth;

    if (!cfg->jid || !cfg->password)
        return XT_EINVAL;
    int rc = xt_jid_parse(s->mem, cfg->jid, &s->cfg.jid, NULL);
    if (rc)
        return rc;
    /* SASL needs a username: an account JID has a localpart. */
    if (!xt_jid_local(s->cfg.jid))
        return XT_EJID;
    const char *res = cfg->resource && *cfg->resource ? cfg->resource : xt_jid_resource(s->cfg.jid);
    if (res && !(s->cfg.resource = xt_strdup(s->mem, res)))
        return XT_ENOMEM;
    if (!(s->cfg.password = xt_strdup(s->mem, cfg->password)))
        return XT_ENOMEM;
    if (cfg->sasl_hint && *cfg->sasl_hint && !(s->auth.hint = xt_strdup(s->mem, cfg->sasl_hint)))
        return XT_ENOMEM;
    if ((rc = hint_salt(s)) != 0)
        return rc;

    /* Ids unique across connections and runs (a receiver's XEP-0359
     * origin-id dedup must never drop a new message as a repeat). */
    unsigned char r[6];
    if ((rc = xt_random_bytes(s->cfg.random, s->cfg.random_ud, r, sizeof r)) != 0)
        return rc;
    snprintf(s->id_prefix, sizeof s->id_prefix, "%.16s%02x%02x%02x%02x%02x%02x-",
             cfg->id_prefix ? cfg->id_prefix : "", r[0], r[1], r[2], r[3], r[4], r[5]);
    s->id_prefix_len = strlen(s->id_prefix);

    static const xt_parser_callbacks pcb = {
        .stream_open = cb_stream_open,
        .stanza = cb_stanza,
        .stream_close = cb_stream_close,
    };
    s->parser = xt_parser_new(s->mem, &pcb, s, &s->cfg.limits);
    if (!s->parser)
        return XT_ENOMEM;
    return 0;
}

void xt_stream_cleanup(xt_stream *s)
{
    if (s->parser)
        xt_parser_free(s->parser);
    xt_sasl_free(s->auth.sasl);
    xt_sasl_free(s->auth.next);
    xt_free(s->mem, s->auth.hint);
    xt_free(s->mem, s->auth.offer);
    xt_wipe(&s->auth.salted, sizeof s->auth.salted);
    xt_free_secret(s->mem, s->cfg.password);
    xt_free_secret(s->mem, s->cfg.test_nonce);
    xt_free(s->mem, s->cfg.resource);
    xt_free(s->mem, s->bind.jid);
    xt_free(s->mem, s->tls.cb_type);
    xt_free(s->mem, s->tls.cb_data);
    if (s->cfg.jid)
        xt_jid_free(s->cfg.jid);
    xt_iq_table_free(&s->iqs);
    xt_sm_queue_free(s->mem, &s->sm.q);
    xt_sm_queue_free(s->mem, &s->sm.pend);
    xt_sm_queue_free(s->mem, &s->resend);
    xt_free(s->mem, s->sm.id);
    /* Both may have held SASL payloads. */
    xt_buf_free_wipe(&s->out);
    xt_buf_free_wipe(&s->scratch);
    memset(s, 0, sizeof *s);
}

int xt_stream_reset(xt_stream *s)
{
    if (s->phase != XT_PH_CLOSED || s->in_feed)
        return XT_ESTATE;
    int rc = xt_parser_reset(s->parser);
    if (rc)
        return rc;
    /* The old output (closing bytes the transport never took) is dropped:
     * it belongs to the dead connection. */
    xt_buf_free_wipe(&s->out);
    xt_buf_init(&s->out, s->mem);
    s->out.limit = XT_OUT_LIMIT;
    xt_buf_clear(&s->scratch);
    s->phase = XT_PH_NEW;
    s->tls.on = s->auth.done = 0;
    s->restart = XT_RESTART_NONE;
    s->bind.session_needed = s->bind.retried = s->header_sent = s->close_sent = 0;
    s->bind.sm_offered = 0;
    s->pipe.early = s->pipe.login_sent = 0;
    s->auth.early = XT_EARLY_AUTH_OK;
    xt_sasl_free(s->auth.sasl);
    xt_sasl_free(s->auth.next);
    s->auth.sasl = s->auth.next = NULL;
    if (s->auth.offer) { /* what this server offered is the best hint for the next connection */
        xt_free(s->mem, s->auth.hint);
        s->auth.hint = s->auth.offer;
        s->auth.offer = NULL;
    }
    s->auth.mech[0] = 0;
    xt_free(s->mem, s->tls.cb_type);
    xt_free(s->mem, s->tls.cb_data);
    s->tls.cb_type = NULL;
    s->tls.cb_data = NULL;
    s->tls.cb_len = 0;
    s->t.nego_deadline = s->t.ka_deadline = s->t.close_deadline = 0;
    s->err.code = 0;
    s->err.condition[0] = 0;
    s->err.detail[0] = 0;
    return 0;
}

int xt_stream_is_unacked(const xt_stream *s, const char *id)
{
    return id && (xt_sm_queue_has(&s->sm.q, id) || xt_sm_queue_has(&s->resend, id) ||
                  xt_sm_queue_has(&s->sm.pend, id));
}

int xt_stream_sm_preset(xt_stream *s, uint32_t h_in, uint32_t h_out)
{
    if (s->sm.q.n)
        return XT_ESTATE;
    s->sm.h_in = h_in;
    s->sm.acked = h_out;
    return 0;
}

int xt_stream_set_test_nonce(xt_stream *s, const char *nonce)
{
    xt_free_secret(s->mem, s->cfg.test_nonce);
    s->cfg.test_nonce = NULL;
    if (nonce && !(s->cfg.test_nonce = xt_strdup(s->mem, nonce)))
        return XT_ENOMEM;
    return 0;
}

void xt_stream_set_test_id_prefix(xt_stream *s, const char *prefix)
{
    snprintf(s->id_prefix, sizeof s->id_prefix, "%s", prefix ? prefix : "");
    s->id_prefix_len = strlen(s->id_prefix);
}
