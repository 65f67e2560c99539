/*
 * The client stream state machine; see stream.h. This file holds the
 * output, failing and closing, the negotiation's dispatch (features,
 * pipelining), the parser callbacks, driving and lifetime; stanzas out
 * and IQs are stream_iq.c's, SASL stream_sasl.c's, binding
 * stream_bind.c's, XEP-0198 stream_sm.c's (see stream_int.h).
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
#include "core/stream_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/random.h"
#include "core/log_redact.h"
#include "xml/known.h"
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

void xt_stream_log_xml(xt_stream *s, int level, const char *xml)
{
    if (!s->cfg.log)
        return;
    char *red = NULL;
    if (xt_log_redact(s->mem, xml, &red) < 0) {
        /* Out of memory: better a gap in the log than a secret in it. */
        s->cfg.log(s->cfg.log_ud, level, "[not logged: out of memory]");
        return;
    }
    s->cfg.log(s->cfg.log_ud, level, red ? red : xml);
    xt_free(s->mem, red);
}

/* Appends bytes to the output. `data` must be NUL-terminated at len (it is
 * logged, secrets hidden) unless `logged` gives the text to log instead:
 * how SASL credentials stay out of logs. */
int xt_stream_emit(xt_stream *s, const char *data, size_t len, const char *logged)
{
    /* RFC 6120 §4.4: nothing after our closing tag (an <a/> for the
     * server's <r/>, an IQ error reply, ...) while we wait for the
     * server's. */
    if (s->close_sent)
        return 0;
    int rc = xt_buf_append(&s->out, data, len);
    if (rc)
        return rc;
    if (logged && s->cfg.log)
        s->cfg.log(s->cfg.log_ud, XT_LOG_XML_OUT, logged);
    else
        xt_stream_log_xml(s, XT_LOG_XML_OUT, data);
    return 0;
}

int xt_stream_emit_str(xt_stream *s, const char *str)
{
    return xt_stream_emit(s, str, strlen(str), NULL);
}

/* Appends bytes that are already serialized (a re-sent stanza). */
int xt_stream_emit_bytes(xt_stream *s, const char *data, size_t len)
{
    if (s->close_sent)
        return 0; /* see emit */
    int rc = xt_buf_append(&s->out, data, len);
    if (rc)
        return rc;
    if (s->cfg.log) {
        /* At most 900 bytes: a cut secret is hidden to the cut. */
        char msg[901];
        snprintf(msg, sizeof msg, "%.*s", (int)(len > 900 ? 900 : len), data);
        xt_stream_log_xml(s, XT_LOG_XML_OUT, msg);
    }
    return 0;
}

/* A stanza given as text (keepalive ping, unavailable presence). */
static int emit_stanza_str(xt_stream *s, const char *str, const char *name)
{
    size_t before = xt_buf_size(&s->out);
    int rc = xt_stream_emit_str(s, str);
    return rc ? rc : xt_stream_track(s, before, name, NULL);
}

static void log_in(xt_stream *s, const xt_stanza *st)
{
    if (!s->cfg.log)
        return;
    const char *name = xt_stanza_name(st);
    const char *ns = xt_stanza_ns(st);
    if ((strcmp(ns, XT_NS_SASL) == 0 || strcmp(ns, XT_NS_SASL2) == 0) &&
        (strcmp(name, "challenge") == 0 || strcmp(name, "success") == 0)) {
        /* SCRAM challenges carry the salt and the server signature:
         * material for an offline attack on the password; a SASL2
         * success can carry a FAST token (XEP-0484), a credential. */
        xt_stream_logf(s, XT_LOG_XML_IN, "<%s xmlns='%s'>[redacted]</%s>", name, ns, name);
        return;
    }
    xt_buf b;
    xt_buf_init(&b, s->mem);
    char *txt = NULL;
    if (xt_stanza_serialize(st, XT_NS_CLIENT, &b) == 0)
        txt = xt_buf_cstr(&b);
    if (txt)
        xt_stream_log_xml(s, XT_LOG_XML_IN, txt);
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
        snprintf(s->err.detail, sizeof s->err.detail,
                 "the server redirects to %s (see-other-host)%s%s%s",
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
        static const char *const ok[] = {
            "system-shutdown",       "connection-timeout",       "reset",
            "internal-server-error", "remote-connection-failed", "resource-constraint"};
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
    /* Our policy-violation against the negotiation itself (features or a
     * SASL element past a limit, a start tag of countless attributes):
     * the same server would send it again on a new connection, so it is
     * not retried (once online, a stanza over the limit may be a third
     * party's, and a new connection may do without it). */
    int refused_negotiation = error == XT_ETOOBIG && s->phase < XT_PH_ONLINE;
    char lost[400];
    if (s->auth.cb_retry && xt_stream_sasl_retry_lost(s, error, lost, sizeof lost)) {
        /* stream_sasl.c: the server would not let the retry without
         * channel binding run on this stream; a new connection may. */
        error = XT_EAUTH;
        condition = "not-authorized";
        text = lost;
    }
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
            (void)xt_stream_emit_str(s, buf);
        }
        (void)xt_stream_emit_str(s, stream_close_tag);
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

    xt_stream_sm_stream_ended(s);

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
        .retry = (retryable(error, condition) && !refused_negotiation) || s->err.retry,
    };
    if (s->hooks.disconnected)
        s->hooks.disconnected(s->hooks_ud, &d);
    return error;
}

/* Internal failures (allocation, full output buffer). */
int xt_stream_fail_code(xt_stream *s, int rc)
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
    xt_stream_sm_forget(s);
    if (unavailable && s->phase == XT_PH_ONLINE)
        rc = emit_stanza_str(s, "<presence type='unavailable'/>", "presence");
    if (!rc)
        rc = xt_stream_sm_final_ack(s);
    if (!rc)
        rc = xt_stream_emit_str(s, stream_close_tag);
    if (rc)
        return xt_stream_fail_code(s, rc);
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
        rc = xt_stream_emit(s, txt, xt_buf_size(b), NULL);
    if (rc)
        return rc;
    s->header_sent = 1;
    s->phase = XT_PH_FEATURES;
    return 0;
}

/* --- negotiation ------------------------------------------------------------ */

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
        rc = xt_stream_emit_str(s, "<starttls xmlns='" XT_NS_TLS "'/>");
        if (!rc) {
            s->phase = XT_PH_PROCEED;
            s->pipe.early = 1;
        }
        return rc;
    }
    if (!s->auth.done)
        return xt_stream_send_early_auth(s);
    if (s->sm.id)
        return 0;
    xt_stream_sm_new_session(s);
    rc = xt_stream_send_bind(s, s->cfg.resource);
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
        return xt_stream_start_sasl(s, st); /* compares with the early <auth/> */
    default:                                /* the bind IQ (and maybe its answer) went ahead */
        s->pipe.early = 0;
        if (xt_stream_read_bind_features(s, st))
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
            int rc = xt_stream_emit_str(s, "<starttls xmlns='" XT_NS_TLS "'/>");
            if (rc)
                return xt_stream_fail_code(s, rc);
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
        return xt_stream_start_sasl(s, st);
    return xt_stream_start_bind(s, st);
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

/* RFC 6120 §4.9.3.22: a first-level element we neither negotiated nor
 * know (a server only sends those of the features it offered and we
 * used) ends the stream, rather than being dropped while the server
 * waits for an answer that never comes. */
static int unsupported(xt_stream *s, const char *name, const char *ns)
{
    char t[300];
    snprintf(t, sizeof t, "the server sent <%.64s xmlns='%.128s'/>, not a first-level element of "
             "this stream", name, ns);
    return xt_stream_fail(s, XT_EPROTO, "unsupported-stanza-type", "unsupported-stanza-type", t,
                          NULL);
}

static int on_element(xt_stream *s, const xt_stanza *st)
{
    const char *name = xt_stanza_name(st), *ns = xt_stanza_ns(st);
    log_in(s, st);
    /* Stanzas first: nearly every element of a session is one (the
     * receive path of tests/perf). */
    xt_known name_k = xt_stanza_name_k(st);
    if (xt_stanza_ns_k(st) == XT_K_NS_CLIENT &&
        (name_k == XT_K_MESSAGE || name_k == XT_K_PRESENCE || name_k == XT_K_IQ)) {
        /* Stanzas only make sense once authenticated (RFC 6120 §6.4.6). */
        if (!s->auth.done || s->phase < XT_PH_BIND)
            return 0;
        /* After our close with XEP-0198 on, the last <a/> is out: what
         * still arrives is unacknowledged, so the server keeps it for the
         * next session. Handing it up too would show it twice. (Without
         * stream management it is delivered: nothing would resend it.) */
        if (s->phase == XT_PH_CLOSING && xt_stream_sm_on(s)) {
            xt_stream_logf(s, XT_LOG_DEBUG,
                           "<%s/> after our close left to the server for the next session", name);
            return 0;
        }
        xt_stream_sm_count_in(s);
        int drop = xt_stream_check_addressing(s, st);
        if (drop)
            return drop < 0 ? xt_stream_fail_code(s, drop) : 0;
        if (s->hooks.stanza) {
            int rc = s->hooks.stanza(s->hooks_ud, st);
            if (rc < 0)
                return rc;
            if (s->phase == XT_PH_CLOSED)
                return 0;
        }
        if (name_k == XT_K_IQ)
            return xt_stream_on_iq(s, st);
        return 0;
    }
    if (strcmp(ns, XT_NS_STREAMS) == 0) {
        if (strcmp(name, "error") == 0)
            return on_stream_error(s, st);
        if (strcmp(name, "features") == 0)
            return on_features(s, st);
        return unsupported(s, name, ns);
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
        return xt_stream_on_sasl(s, st);
    if (strcmp(ns, XT_NS_SASL2) == 0)
        return xt_stream_sasl2_on(s, st);
    if (strcmp(ns, XT_NS_SM) == 0)
        return xt_stream_on_sm(s, st);
    return unsupported(s, name, ns);
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
    /* §4.7.1, §4.9.3.9: the server's 'from' is the domain we asked for
     * (absent is tolerated); another one is not who we meant to reach. */
    const char *from = xt_stanza_attr(header, "from");
    if (from && strcasecmp(from, xt_stream_domain(s)) != 0) {
        char t[400];
        snprintf(t, sizeof t, "the server's stream is from '%.128s', not '%.128s'", from,
                 xt_stream_domain(s));
        xt_stream_fail(s, XT_EPROTO, "invalid-from", "invalid-from", t, NULL);
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
        xt_stream_fail_code(s, rc);
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
    return rc ? xt_stream_fail_code(s, rc) : 0;
}

/* Keeps one binding the driver gave, if it is one SCRAM can name
 * (RFC 5802 §7 cb-name) and fits. */
static void add_cb(xt_stream *s, const char *type, const uint8_t *data, size_t len)
{
    if (s->tls.ncb >= sizeof s->tls.cb / sizeof s->tls.cb[0])
        return;
    xt_stream_cb *cb = &s->tls.cb[s->tls.ncb];
    if (!type || !data || !len || len > sizeof cb->data || strlen(type) >= sizeof cb->type)
        return;
    snprintf(cb->type, sizeof cb->type, "%s", type);
    memcpy(cb->data, data, len);
    cb->len = len;
    s->tls.ncb++;
}

int xt_stream_tls_ready(xt_stream *s, const xt_tls_info *info, uint64_t now)
{
    s->t.now = now;
    int direct_early = s->phase == XT_PH_NEW && (s->cfg.flags & XT_CONN_DIRECT_TLS);
    if (!direct_early && s->phase != XT_PH_TLS)
        return XT_ESTATE;
    xt_wipe(&s->tls, sizeof s->tls);
    if (info) {
        add_cb(s, info->cb_type, info->cb_data, info->cb_len);
        for (size_t i = 0; info->more && i < info->nmore; i++)
            add_cb(s, info->more[i].type, info->more[i].data, info->more[i].len);
        s->tls.verified = info->verified != 0;
    }
    s->tls.on = 1;
    char names[128] = "";
    for (size_t i = 0, o = 0; i < s->tls.ncb && o < sizeof names; i++)
        o +=
            (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "", s->tls.cb[i].type);
    xt_stream_logf(s, XT_LOG_INFO, "TLS established%s%s%s%s", names[0] ? " (channel binding " : "",
                   names, names[0] ? ")" : "",
                   s->tls.verified ? "" : " (certificate not verified)");
    if (direct_early)
        return 0; /* xt_stream_start sends the header */
    /* RFC 6120 §5.4.3.3: a fresh stream over TLS. */
    int rc = xt_parser_reset(s->parser);
    if (!rc)
        rc = send_opening(s);
    return rc ? xt_stream_fail_code(s, rc) : 0;
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
        return rc ? xt_stream_fail_code(s, rc) : 0;
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
        xt_stream_sasl_precompute(s);
    xt_iq_pending p;
    while (s->phase != XT_PH_CLOSED && xt_iq_take_expired(&s->iqs, now, &p)) {
        if (p.fn)
            p.fn(s->owner, XT_ETIMEOUT, NULL, p.ud);
        xt_iq_pending_done(s->mem, &p);
    }
    if (s->phase != XT_PH_ONLINE)
        return 0;
    int rc = xt_stream_sm_tick(s, now);
    if (rc < 0 || s->phase != XT_PH_ONLINE)
        return rc;
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
        rc = emit_stanza_str(s, buf, "iq");
        if (rc)
            return xt_stream_fail_code(s, rc);
        s->t.ka_deadline = now + s->cfg.ping_timeout;
    }
    return 0;
}

void xt_stream_trim(xt_stream *s)
{
    if (s->phase != XT_PH_ONLINE || s->in_feed)
        return;
    (void)xt_parser_suspend(s->parser);
    xt_iq_table_trim(&s->iqs);
    xt_stream_sm_trim(s);
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
        xt_take_min(&d, s->t.now); /* now: the driver ticks once it has sent what it has */
    if (s->phase < XT_PH_ONLINE && s->t.nego_deadline)
        xt_take_min(&d, s->t.nego_deadline);
    if (s->phase == XT_PH_CLOSING)
        xt_take_min(&d, s->t.close_deadline);
    if (s->phase == XT_PH_ONLINE && s->cfg.ping_interval != UINT32_MAX)
        xt_take_min(&d, s->t.ka_deadline ? s->t.ka_deadline : s->t.last_rx + s->cfg.ping_interval);
    if (s->phase == XT_PH_ONLINE)
        xt_stream_sm_deadline(s, &d);
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
    s->cfg.scram_max_iterations = cfg->scram_max_iterations;
    s->cfg.log = cfg->log;
    s->cfg.log_ud = cfg->log_ud;
    s->cfg.random = cfg->random;
    s->cfg.random_ud = cfg->random_ud;
    s->cfg.limits.max_stanza = cfg->max_stanza_size;
    s->cfg.limits.max_depth = cfg->max_depth;
    s->cfg.limits.max_attrs = cfg->max_attrs;
    s->cfg.limits.max_children = cfg->max_children;

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
    if ((rc = xt_stream_sasl2_init(s, cfg)) != 0)
        return rc;
    xt_stream_sasl_read_hint(s);
    if ((rc = xt_stream_sasl_hint_salt(s)) != 0)
        return rc;
    /* With a FAST token no PBKDF2 runs unless the token is refused (then
     * at the challenge, on the next connection). */
    if (s->sasl2.token)
        s->auth.precompute = 0;

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
    xt_stream_sasl2_cleanup(s);
    xt_free_secret(s->mem, s->cfg.password);
    xt_free_secret(s->mem, s->cfg.test_nonce);
    xt_free(s->mem, s->cfg.resource);
    xt_free(s->mem, s->bind.jid);
    xt_wipe(&s->tls, sizeof s->tls);
    if (s->cfg.jid)
        xt_jid_free(s->cfg.jid);
    xt_iq_table_free(&s->iqs);
    xt_stream_sm_cleanup(s);
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
    int authed = s->auth.done;
    s->tls.on = s->auth.done = 0;
    s->restart = XT_RESTART_NONE;
    s->bind.session_needed = s->bind.retried = s->header_sent = s->close_sent = 0;
    s->bind.sm_offered = 0;
    s->pipe.early = s->pipe.login_sent = 0;
    s->auth.early = XT_EARLY_AUTH_OK;
    xt_sasl_free(s->auth.sasl);
    xt_sasl_free(s->auth.next);
    s->auth.sasl = s->auth.next = NULL;
    /* What this server offered is the best hint for the next connection.
     * After a login the offer also carries what the login proved (the
     * pin, the salt). A connection that ended before logging in proved
     * nothing: the old hint's pin, salt and nocb go on with the offer,
     * or cutting a connection after its features (anyone on the path
     * can) would erase the pin for the next attempt (issue 12: never
     * weaker than before). Out of memory: the old hint stays whole. */
    if (s->auth.offer && !authed && xt_stream_sasl_keep_hint(s) != 0) {
        xt_free(s->mem, s->auth.offer);
        s->auth.offer = NULL;
    }
    if (s->auth.offer) {
        xt_free(s->mem, s->auth.hint);
        s->auth.hint = s->auth.offer;
        s->auth.offer = NULL;
        xt_stream_sasl_read_hint(s);
    }
    s->auth.mech[0] = 0;
    xt_stream_sasl2_reset(s);
    xt_wipe(&s->tls, sizeof s->tls);
    s->t.nego_deadline = s->t.ka_deadline = s->t.close_deadline = 0;
    s->err.code = 0;
    s->err.retry = 0;
    s->auth.cb_retry = 0;
    s->err.condition[0] = 0;
    s->err.detail[0] = 0;
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
