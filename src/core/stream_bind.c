/*
 * Resource binding (RFC 6120 §7), the legacy session (RFC 3921 §3), and
 * going online: what the post-auth features offer, the bind IQ with one
 * retry for a server-assigned resource, the bound JID's checks.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "core/stream_int.h"

/* A new session is bound: XEP-0198 <enable/> first (so every stanza
 * after it is counted; the IM layer's roster query and presence are
 * pipelined behind it, §3), then the messages a failed resumption left
 * unacked, then the login stanzas and XT_EV_ONLINE. */
void xt_stream_go_online(xt_stream *s)
{
    s->phase = XT_PH_ONLINE;
    s->t.nego_deadline = 0;
    s->t.last_rx = s->t.now;
    xt_stream_logf(s, XT_LOG_INFO, "bound as %s", s->bind.jid);
    int rc = xt_stream_sm_session_start(s);
    if (!rc && s->hooks.online)
        rc = s->hooks.online(s->hooks_ud, s->bind.jid,
                             s->pipe.login_sent ? XT_ONLINE_NEW_PIPELINED : XT_ONLINE_NEW);
    s->pipe.login_sent = 0;
    if (rc < 0)
        xt_stream_fail_code(s, rc);
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
        xt_stream_go_online(s);
        return;
    }
    char t[128];
    snprintf(t, sizeof t, "session establishment failed: %s",
             status == XT_ETIMEOUT ? "no answer" : stanza_error_cond(reply));
    xt_stream_fail(s, status == XT_ETIMEOUT ? XT_ETIMEOUT : XT_EPROTO, NULL, NULL, t, NULL);
}

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
            int rc = xt_stream_send_bind(s, NULL);
            if (rc)
                xt_stream_fail_code(s, rc);
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
        xt_stream_fail_code(s, rc);
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
        xt_stream_fail_code(s, XT_ENOMEM);
        return;
    }
    if (!s->bind.session_needed) {
        xt_stream_go_online(s);
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
        xt_stream_fail_code(s, rc);
}

int xt_stream_send_bind(xt_stream *s, const char *resource)
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

/* What the post-auth features say about binding: it must be offered;
 * a legacy session (RFC 3921 §3) without <optional/> is needed; XEP-0198. */
int xt_stream_read_bind_features(xt_stream *s, const xt_stanza *features)
{
    if (!xt_stanza_child(features, "bind", XT_NS_BIND))
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "the server offers no resource binding",
                              NULL);
    const xt_stanza *sess = xt_stanza_child(features, "session", XT_NS_SESSION);
    s->bind.session_needed = sess && !xt_stanza_child(sess, "optional", NULL);
    s->bind.sm_offered =
        !(s->cfg.flags & XT_CONN_NO_SM) && xt_stanza_child(features, "sm", XT_NS_SM);
    /* XEP-0352 §2: <csi xmlns='urn:xmpp:csi:0'/> among the features. */
    s->bind.csi_offered = xt_stanza_child(features, "csi", "urn:xmpp:csi:0") != NULL;
    return 0;
}

int xt_stream_start_bind(xt_stream *s, const xt_stanza *features)
{
    if (s->sasl2.bound) {
        /* XEP-0386: bound inline. These features still offer the old
         * <bind/> (Prosody 0.12 with the 2023 modules): not for us; they
         * say whether XEP-0198 can be enabled (after the success, not
         * inline: see stream_sasl2.c). */
        s->bind.sm_offered =
            !(s->cfg.flags & XT_CONN_NO_SM) && xt_stanza_child(features, "sm", XT_NS_SM);
        xt_stream_go_online(s);
        return 0;
    }
    if (xt_stream_read_bind_features(s, features))
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
        rc = txt ? xt_stream_emit(s, txt, xt_buf_size(b), NULL) : XT_ENOMEM;
        if (rc)
            return xt_stream_fail_code(s, rc);
        s->phase = XT_PH_RESUME;
        return 0;
    }
    xt_stream_sm_new_session(s);
    return xt_stream_send_bind(s, s->cfg.resource);
}
