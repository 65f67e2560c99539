/*
 * XEP-0388 SASL2, XEP-0386 Bind2 and XEP-0484 FAST on the stream: one
 * <authenticate/> carries the SASL initial response, our <user-agent/>,
 * the resource binding and a request for a FAST token; its <success/>
 * says we are bound, with no stream restart and no bind IQ. On the next
 * connection the token (an HT-* mechanism, core/fast.c) goes out right
 * behind the post-TLS stream header, so a direct-TLS login takes the TLS
 * handshake and one round trip.
 *
 * Choices, and why:
 *  - The mechanism choice, channel binding, pinning and the server's
 *    proof are SASL1's (stream_sasl.c): only the wrapping differs.
 *  - XEP-0198 is enabled after the success, from the features that
 *    follow it, not inline (Prosody 0.12 cannot serve mod_sasl2_sm); a
 *    resumable session asks for no Bind2 and resumes from those features.
 *  - FAST needs the <user-agent id/> (the token is bound to it) and the
 *    stream header's 'from' (the server offers <fast/> only then: we send
 *    it once TLS hides it, RFC 6120 §4.7.1).
 *  - The token we ask for binds this connection (EXPR on TLS 1.3, UNIQ on
 *    1.2) when the server offers it, -NONE only otherwise; a token whose
 *    binding this connection lacks is not used (password instead).
 *  - A refused token is forgotten (the fast_token hook, token NULL) and
 *    the login continues with the password on one new connection: after a
 *    failed FAST exchange Prosody's handler stays selected and refuses a
 *    second <authenticate/> on the same stream.
 *  - Tokens and the success (which carries them) are never logged.
 *  - XEP-0280 carbons are enabled inside the <bind/> (XEP-0386 §2.1
 *    inline features) when the server's Bind2 lists them, saving the
 *    separate <enable/> IQ; on the early FAST path (before the features)
 *    the hint says whether it listed them last time ("b2:carbons"). A
 *    <bound/> is the answer: Prosody adds <enabled/>, the XEP asks for
 *    nothing more. XEP-0198 stays a separate <enable/> (mod_sasl2_sm
 *    needs a newer Prosody than 0.12, see above).
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "core/base64.h"
#include "core/fast.h"
#include "core/stream_int.h"

const xt_stanza *xt_stream_sasl2_offer(const xt_stream *s, const xt_stanza *features)
{
    if (s->cfg.flags & XT_CONN_NO_SASL2)
        return NULL;
    return xt_stanza_child(features, "authentication", XT_NS_SASL2);
}

/* <authentication><inline><NAME xmlns=NS/> (XEP-0388 §2.1 inline features). */
static const xt_stanza *inline_feature(const xt_stanza *a2, const char *name, const char *ns)
{
    const xt_stanza *in = a2 ? xt_stanza_child(a2, "inline", XT_NS_SASL2) : NULL;
    return in ? xt_stanza_child(in, name, ns) : NULL;
}

#define NS_CARBONS "urn:xmpp:carbons:2" /* XEP-0280 */

/* Whether Bind2 lists this inline feature: <bind><inline><feature
 * var=NS/> (XEP-0386 §2). */
static int bind2_lists(const xt_stanza *a2, const char *var)
{
    const xt_stanza *b = inline_feature(a2, "bind", XT_NS_BIND2);
    const xt_stanza *in = b ? xt_stanza_child(b, "inline", XT_NS_BIND2) : NULL;
    for (const xt_stanza *f = in ? xt_stanza_first_child(in) : NULL; f;
         f = xt_stanza_next_sibling(f)) {
        const char *v = strcmp(xt_stanza_name(f), "feature") == 0 ? xt_stanza_attr(f, "var") : NULL;
        if (v && strcmp(v, var) == 0)
            return 1;
    }
    return 0;
}

/* Carbons inline on this login: Bind2 is used, the application did not
 * decline carbons, and the server lists them (now, or in the hint). */
static int want_carbons(const xt_stream *s, int listed)
{
    return s->sasl2.bind_inline && listed && !(s->cfg.flags & XT_CONN_NO_CARBONS);
}

int xt_stream_sasl2_carbons_on(const xt_stream *s)
{
    return s->sasl2.carbons_on;
}

/* The driver's binding of this type, NULL when the TLS has none. */
static const xt_stream_cb *find_cb(const xt_stream *s, const char *type)
{
    for (size_t i = 0; i < s->tls.ncb; i++)
        if (strcmp(s->tls.cb[i].type, type) == 0)
            return &s->tls.cb[i];
    return NULL;
}

/* Whether this connection can run an HT mechanism (its binding exists). */
static int fast_usable(const xt_stream *s, const char *mech)
{
    const char *cbt = xt_fast_cb_type(mech);
    return cbt && (!*cbt || find_cb(s, cbt));
}

/* The best HT mechanism <fast/> offers that this connection can bind. */
static const char *best_fast(const xt_stream *s, const xt_stanza *fast)
{
    const char *best = NULL;
    for (const xt_stanza *m = fast ? xt_stanza_first_child(fast) : NULL; m;
         m = xt_stanza_next_sibling(m)) {
        if (strcmp(xt_stanza_name(m), "mechanism") || strcmp(xt_stanza_ns(m), XT_NS_FAST))
            continue;
        const char *t = xt_stanza_text(m);
        if (t && fast_usable(s, t) && xt_fast_rank(t) > xt_fast_rank(best))
            best = t;
    }
    return best;
}

static int fast_offers(const xt_stanza *fast, const char *mech)
{
    for (const xt_stanza *m = fast ? xt_stanza_first_child(fast) : NULL; m;
         m = xt_stanza_next_sibling(m)) {
        const char *t = xt_stanza_text(m);
        if (t && strcmp(xt_stanza_name(m), "mechanism") == 0 && strcmp(t, mech) == 0)
            return 1;
    }
    return 0;
}

int xt_stream_sasl2_offer_text(const xt_stream *s, const xt_stanza *features, xt_buf *b)
{
    (void)s;
    const xt_stanza *a2 = xt_stanza_child(features, "authentication", XT_NS_SASL2);
    if (!a2)
        return 0;
    int rc = xt_buf_append_str(b, xt_buf_size(b) ? " sasl2:" : "sasl2:");
    if (!rc && bind2_lists(a2, NS_CARBONS))
        rc = xt_buf_append_str(b, " b2:carbons");
    const xt_stanza *fast = inline_feature(a2, "fast", XT_NS_FAST);
    for (const xt_stanza *m = fast ? xt_stanza_first_child(fast) : NULL; m && !rc;
         m = xt_stanza_next_sibling(m)) {
        const char *t = xt_stanza_text(m);
        if (!t)
            return XT_ENOMEM;
        /* Only names we implement: they are safe tokens for the text. */
        if (strcmp(xt_stanza_name(m), "mechanism") == 0 && xt_fast_rank(t)) {
            rc = xt_buf_append_str(b, " fast:");
            if (!rc)
                rc = xt_buf_append_str(b, t);
        }
    }
    return rc;
}

/* Whether the hint (the last offer) rules this token out: it is a SASL2
 * offer ("sasl2:", whose FAST mechanisms are listed beside it as
 * "fast:MECH") without the token's mechanism. A hint without "sasl2:"
 * (none yet, or from before) does not. */
static int hint_rules_out(const xt_stream *s, const char *mech)
{
    int listed = 0;
    for (const char *t = s->auth.hint ? s->auth.hint : ""; *t;) {
        size_t n = strcspn(t, " ");
        if (n == 6 && strncmp(t, "sasl2:", 6) == 0)
            listed = 1;
        if (n > 5 && strncmp(t, "fast:", 5) == 0 && n - 5 == strlen(mech) &&
            strncmp(t + 5, mech, n - 5) == 0)
            return 0;
        t += n;
        while (*t == ' ')
            t++;
    }
    return listed;
}

void xt_stream_sasl2_prepare(xt_stream *s, const xt_stanza *a2)
{
    xt_stream_sasl2 *x = &s->sasl2;
    x->active = a2 != NULL;
    x->fast = x->fast_early = x->bound = 0;
    x->bind_inline = x->carbons = x->carbons_on = 0;
    x->req_mech[0] = '\0';
    if (!a2)
        return;
    /* XEP-0386 for a new session; a resumable XEP-0198 one resumes. */
    x->bind_inline = inline_feature(a2, "bind", XT_NS_BIND2) != NULL && !s->sm.id;
    x->carbons = want_carbons(s, bind2_lists(a2, NS_CARBONS));
    const char *m = x->ua_id ? best_fast(s, inline_feature(a2, "fast", XT_NS_FAST)) : NULL;
    if (m)
        snprintf(x->req_mech, sizeof x->req_mech, "%s", m);
}

/* Appends `<name>text</name>` (text escaped). */
static int text_el(xt_buf *b, const char *name, const char *text)
{
    int rc = xt_buf_append_str(b, "<");
    if (!rc)
        rc = xt_buf_append_str(b, name);
    if (!rc)
        rc = xt_buf_append_str(b, ">");
    if (!rc)
        rc = xt_buf_append_escaped(b, text, strlen(text), 0);
    if (!rc)
        rc = xt_buf_append_str(b, "</");
    if (!rc)
        rc = xt_buf_append_str(b, name);
    return rc ? rc : xt_buf_append_str(b, ">");
}

/* What follows the initial response: <user-agent/> (§2.2.1), Bind2's
 * <bind/> with our tag (XEP-0386 §3: the server derives the resource
 * from it and the user agent), FAST's <fast/> or <request-token/>. */
static int append_inline(xt_stream *s, xt_buf *b, int fast)
{
    xt_stream_sasl2 *x = &s->sasl2;
    int rc = 0;
    if (x->ua_id) {
        rc = xt_buf_append_str(b, "<user-agent id='");
        if (!rc)
            rc = xt_buf_append_escaped(b, x->ua_id, strlen(x->ua_id), 1);
        if (!rc)
            rc = xt_buf_append_str(b, "'>");
        if (!rc && x->ua_software)
            rc = text_el(b, "software", x->ua_software);
        if (!rc && x->ua_device)
            rc = text_el(b, "device", x->ua_device);
        if (!rc)
            rc = xt_buf_append_str(b, "</user-agent>");
    }
    if (!rc && x->bind_inline) {
        const char *tag = s->cfg.resource  ? s->cfg.resource
                          : x->ua_software ? x->ua_software
                                           : "xtalk";
        rc = xt_buf_append_str(b, "<bind xmlns='" XT_NS_BIND2 "'>");
        if (!rc)
            rc = text_el(b, "tag", tag);
        if (!rc && x->carbons)
            rc = xt_buf_append_str(b, "<enable xmlns='" NS_CARBONS "'/>");
        if (!rc)
            rc = xt_buf_append_str(b, "</bind>");
    }
    if (!rc && fast)
        rc = xt_buf_append_str(b, "<fast xmlns='" XT_NS_FAST "'/>");
    if (!rc && !fast && x->req_mech[0]) {
        rc = xt_buf_append_str(b, "<request-token xmlns='" XT_NS_FAST "' mechanism='");
        if (!rc)
            rc = xt_buf_append_escaped(b, x->req_mech, strlen(x->req_mech), 1);
        if (!rc)
            rc = xt_buf_append_str(b, "'/>");
    }
    return rc;
}

/* <authenticate mechanism=M><initial-response>IR</initial-response>...;
 * logged with the response redacted (a PLAIN password, a token's HMAC). */
static int send_authenticate(xt_stream *s, const char *mech, const xt_buf *ir, int fast)
{
    xt_buf *b = &s->scratch, logged;
    xt_buf_init(&logged, s->mem);
    xt_buf_clear(b);
    char open[128];
    snprintf(open, sizeof open, "<authenticate xmlns='" XT_NS_SASL2 "' mechanism='%s'>", mech);
    int rc = xt_buf_append_str(b, open);
    if (!rc)
        rc = xt_buf_append_str(&logged, open);
    if (!rc)
        rc = xt_buf_append_str(b, "<initial-response>");
    if (!rc)
        rc = xt_buf_size(ir) ? xt_base64_encode(b, xt_buf_head(ir), xt_buf_size(ir))
                             : xt_buf_append_str(b, "=");
    if (!rc)
        rc = xt_buf_append_str(b, "</initial-response>");
    if (!rc)
        rc = xt_buf_append_str(&logged, "<initial-response>[redacted]</initial-response>");
    size_t tail = xt_buf_size(b);
    if (!rc)
        rc = append_inline(s, b, fast);
    if (!rc)
        rc = xt_buf_append_str(b, "</authenticate>");
    if (!rc)
        rc = xt_buf_append(&logged, xt_buf_head(b) + tail, xt_buf_size(b) - tail);
    char *lt = rc ? NULL : xt_buf_cstr(&logged);
    if (!rc && !lt)
        rc = XT_ENOMEM;
    if (!rc)
        rc = xt_stream_emit(s, (const char *)xt_buf_head(b), xt_buf_size(b), lt);
    if (b->data)
        xt_wipe(b->data, b->cap);
    xt_buf_clear(b);
    xt_buf_free(&logged);
    if (!rc)
        s->phase = XT_PH_SASL;
    return rc;
}

int xt_stream_sasl2_send(xt_stream *s)
{
    xt_buf ir;
    xt_buf_init(&ir, s->mem);
    int rc = xt_sasl_initial(s->auth.sasl, &ir);
    if (!rc)
        rc = send_authenticate(s, xt_sasl_mechanism(s->auth.sasl), &ir, 0);
    xt_buf_free_wipe(&ir);
    if (!rc && s->sasl2.req_mech[0])
        xt_stream_logf(s, XT_LOG_INFO, "SASL2 with %s%s, asking for a FAST token (%s)",
                       xt_sasl_mechanism(s->auth.sasl), s->sasl2.bind_inline ? " and Bind2" : "",
                       s->sasl2.req_mech);
    return rc;
}

/* Whether the token can go on this connection: a binding we have for
 * its mechanism (logged when not). */
static const xt_stream_cb *fast_binding(xt_stream *s, int *ok)
{
    xt_stream_sasl2 *x = &s->sasl2;
    const char *cbt = xt_fast_cb_type(x->fast_mech);
    const xt_stream_cb *cb = cbt && *cbt ? find_cb(s, cbt) : NULL;
    *ok = cbt && (!*cbt || cb);
    if (!*ok)
        xt_stream_logf(s, XT_LOG_INFO,
                       "the FAST token is for %s, which this connection cannot bind: logging in "
                       "with the password",
                       x->fast_mech);
    return cb;
}

/* The FAST <authenticate/> (early: ahead of the features, with the login
 * stanzas behind it). 0 also when the token turned out unusable. */
static int send_fast(xt_stream *s, const xt_stream_cb *cb, int early, int carbons_listed)
{
    xt_stream_sasl2 *x = &s->sasl2;
    xt_buf ir;
    xt_buf_init(&ir, s->mem);
    int rc = xt_fast_initial(x->fast_mech, xt_jid_local(s->cfg.jid), x->token, cb ? cb->data : NULL,
                             cb ? cb->len : 0, &ir);
    if (!rc) {
        x->active = x->fast = 1;
        x->fast_early = early;
        x->bound = 0;
        x->req_mech[0] = '\0'; /* the server rotates the token itself */
        x->bind_inline = !s->sm.id;
        x->carbons = want_carbons(s, carbons_listed);
        x->carbons_on = 0;
        rc = send_authenticate(s, x->fast_mech, &ir, 1);
    }
    xt_buf_free_wipe(&ir);
    if (rc == XT_EINVAL)
        return 0; /* not a token we can use: the password then */
    if (rc || !early)
        return rc;
    s->pipe.early = 1;
    xt_stream_logf(s, XT_LOG_INFO, "FAST %s sent with the stream header", x->fast_mech);
    /* The login stanzas (roster query, initial presence) right behind it:
     * the server handles them after the <authenticate/>, by then bound
     * (Bind2), so the roster arrives in the same round trip. If the token
     * fails, they fail with it; the retry sends them again. */
    if (x->bind_inline && s->hooks.login && !(s->cfg.flags & XT_CONN_NO_PIPELINING)) {
        xt_stream_sm_new_session(s);
        size_t before = xt_buf_size(&s->out);
        s->pipe.login_now = 1;
        rc = s->hooks.login(s->hooks_ud);
        s->pipe.login_now = 0;
        if (!rc && xt_buf_size(&s->out) > before)
            s->pipe.login_sent = 1;
    }
    return rc;
}

int xt_stream_sasl2_send_fast(xt_stream *s)
{
    xt_stream_sasl2 *x = &s->sasl2;
    if (!x->token || !x->ua_id || !s->tls.on || (s->cfg.flags & XT_CONN_NO_SASL2))
        return 0;
    int ok;
    const xt_stream_cb *cb = fast_binding(s, &ok);
    if (!ok)
        return 0;
    if (hint_rules_out(s, x->fast_mech)) {
        xt_stream_logf(s, XT_LOG_INFO,
                       "the server did not offer FAST %s at the last login: logging in with the "
                       "password",
                       x->fast_mech);
        return 0;
    }
    return send_fast(s, cb, 1, x->hint_carbons);
}

int xt_stream_sasl2_try_fast(xt_stream *s, const xt_stanza *a2)
{
    xt_stream_sasl2 *x = &s->sasl2;
    if (!x->token || !x->ua_id ||
        !fast_offers(inline_feature(a2, "fast", XT_NS_FAST), x->fast_mech))
        return 0;
    int ok;
    const xt_stream_cb *cb = fast_binding(s, &ok);
    if (!ok)
        return 0;
    int rc = send_fast(s, cb, 0, bind2_lists(a2, NS_CARBONS));
    if (rc)
        return rc;
    return x->fast ? 1 : 0;
}

int xt_stream_sasl2_check_fast(xt_stream *s, const xt_stanza *a2, const xt_stream_offer *o)
{
    xt_stream_sasl2 *x = &s->sasl2;
    s->pipe.early = 0;
    /* Carbons went inline on the hint's word; a Bind2 that no longer
     * lists them may have ignored them: not counted as on, so the
     * disco#info result decides (an <enable/> IQ is harmless twice). */
    if (x->carbons && !bind2_lists(a2, NS_CARBONS))
        x->carbons = 0;
    if (fast_offers(inline_feature(a2, "fast", XT_NS_FAST), x->fast_mech))
        return 0;
    if (!a2) {
        /* No SASL2 now (allowed as a downgrade): our <authenticate/> is
         * not even understood. The next connection goes by this offer. */
        s->err.retry = 1;
        return xt_stream_fail(s, XT_EAUTH, NULL, NULL,
                              "the server no longer offers SASL2: logging in with RFC 6120 SASL "
                              "on a new connection",
                              NULL);
    }
    /* Not offered (any more): the server refuses the token; the password
     * exchange follows that refusal on this stream (the token itself was
     * never tried, so Prosody's SASL2 handler is still free). */
    xt_sasl *sasl = NULL;
    int rc = xt_stream_sasl_choose(s, o, &sasl);
    if (rc < 0)
        return rc;
    xt_sasl_free(s->auth.next);
    s->auth.next = sasl;
    xt_stream_logf(s, XT_LOG_INFO,
                   "the server does not offer FAST %s now: %s after its refusal, one round trip "
                   "more",
                   x->fast_mech, xt_sasl_mechanism(sasl));
    /* What the password exchange will carry. */
    int keep_fast = x->fast;
    xt_stream_sasl2_prepare(s, a2);
    x->fast = keep_fast;
    x->active = 1;
    return 0;
}

/* The token the server issued (success/<token/>). */
static void take_token(xt_stream *s, const xt_stanza *tok, const char *mech_in)
{
    xt_stream_sasl2 *x = &s->sasl2;
    const char *t = xt_stanza_attr(tok, "token"), *exp = xt_stanza_attr(tok, "expiry");
    char mech[sizeof x->fast_mech]; /* mech_in may be x->fast_mech itself */
    if (!t || !*t || !mech_in || !*mech_in || strlen(mech_in) >= sizeof mech)
        return;
    memcpy(mech, mech_in, strlen(mech_in) + 1);
    char *dup = xt_strdup(s->mem, t);
    if (!dup)
        return; /* no token: the next login uses the password */
    xt_free_secret(s->mem, x->token);
    x->token = dup;
    snprintf(x->fast_mech, sizeof x->fast_mech, "%s", mech);
    xt_stream_logf(s, XT_LOG_INFO, "the server issued a FAST token (%s, expires %s)", mech,
                   exp ? exp : "?");
    if (s->hooks.fast_token)
        s->hooks.fast_token(s->hooks_ud, mech, t, exp);
}

static void forget_token(xt_stream *s)
{
    xt_free_secret(s->mem, s->sasl2.token);
    s->sasl2.token = NULL;
    if (s->hooks.fast_token)
        s->hooks.fast_token(s->hooks_ud, s->sasl2.fast_mech, NULL, NULL);
}

/* An element's text as base64 ("" or "=" empty) into out. */
static int decode_text(const xt_stanza *st, xt_buf *out)
{
    const char *t = st ? xt_stanza_text(st) : "";
    if (!t)
        return XT_ENOMEM;
    size_t n = strlen(t);
    if (n == 0 || (n == 1 && t[0] == '='))
        return 0;
    return xt_base64_decode(out, t, n);
}

/* The success of a FAST exchange: the server's HMAC proves it held the
 * token (draft-schmaus-kitten-sasl-ht §3.2). */
static int fast_succeeded(xt_stream *s, const xt_buf *data)
{
    xt_stream_sasl2 *x = &s->sasl2;
    const char *cbt = xt_fast_cb_type(x->fast_mech);
    const xt_stream_cb *cb = cbt && *cbt ? find_cb(s, cbt) : NULL;
    int rc = xt_fast_verify(x->fast_mech, x->token ? x->token : "", cb ? cb->data : NULL,
                            cb ? cb->len : 0, xt_buf_head(data), xt_buf_size(data));
    if (rc)
        return xt_stream_fail(s, XT_EDOWNGRADE, NULL, NULL,
                              "the server's FAST answer is wrong or missing: it did not prove it "
                              "holds the token (impostor?); not continuing",
                              NULL);
    snprintf(s->auth.mech, sizeof s->auth.mech, "%s", x->fast_mech);
    xt_stream_logf(s, XT_LOG_INFO, "authenticated with %s (FAST token)", s->auth.mech);
    s->auth.done = 1;
    rc = xt_stream_sasl_keep_hint(s);
    return rc ? xt_stream_fail_code(s, rc) : 0;
}

/* XEP-0388 §2.7: <success/> = [additional-data] (inline results)
 * authorization-identifier; Prosody sends <bound/> and <token/> before
 * the identifier. No stream restart: the features follow. */
static int on_success(xt_stream *s, const xt_stanza *st)
{
    xt_stream_sasl2 *x = &s->sasl2;
    xt_buf data;
    xt_buf_init(&data, s->mem);
    int rc = decode_text(xt_stanza_child(st, "additional-data", XT_NS_SASL2), &data);
    if (rc) {
        xt_buf_free_wipe(&data);
        return rc == XT_ENOMEM
                   ? xt_stream_fail_code(s, rc)
                   : xt_stream_fail(s, XT_EPROTO, NULL, NULL,
                                    "the server sent malformed SASL2 data (bad base64)", NULL);
    }
    rc = x->fast ? fast_succeeded(s, &data)
                 : xt_stream_sasl_succeeded(s, xt_buf_head(&data), xt_buf_size(&data));
    xt_buf_free_wipe(&data);
    if (rc < 0)
        return rc;
    /* §2.7.1: the identity we are now; a bound one is our full JID. */
    const char *authz = xt_stanza_child_text(st, "authorization-identifier", XT_NS_SASL2);
    xt_jid *j = NULL;
    rc = authz ? xt_jid_parse(s->mem, authz, &j, NULL) : XT_EJID;
    if (rc == XT_ENOMEM)
        return xt_stream_fail_code(s, rc);
    if (rc || !xt_jid_bare_equal(j, s->cfg.jid)) {
        xt_jid_free(j);
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL,
                              "the server's SASL2 success names another account (or none)", NULL);
    }
    const xt_stanza *tok = xt_stanza_child(st, "token", XT_NS_FAST);
    if (tok)
        take_token(s, tok, x->fast ? x->fast_mech : x->req_mech);
    if (x->bind_inline && xt_stanza_child(st, "bound", XT_NS_BIND2)) {
        if (!xt_jid_resource(j)) {
            xt_jid_free(j);
            return xt_stream_fail(s, XT_EPROTO, NULL, NULL,
                                  "the server says Bind2 bound us but names no resource", NULL);
        }
        xt_free(s->mem, s->bind.jid);
        s->bind.jid = xt_strdup(s->mem, xt_jid_full(j));
        if (!s->bind.jid) {
            xt_jid_free(j);
            return xt_stream_fail_code(s, XT_ENOMEM);
        }
        x->bound = 1;
        x->carbons_on = x->carbons;
        xt_stream_sm_new_session(s);
    } else if (x->bind_inline) {
        xt_stream_logf(s, XT_LOG_INFO, "Bind2 did not bind us: binding the usual way");
        s->pipe.login_sent = 0; /* the pipelined ones again, once bound */
    }
    xt_jid_free(j);
    s->phase = XT_PH_FEATURES; /* §2.7: no restart; the features come next */
    return 0;
}

static int on_failure(xt_stream *s, const xt_stanza *st)
{
    xt_stream_sasl2 *x = &s->sasl2;
    if (!x->fast)
        return xt_stream_sasl_failed(s, st, XT_NS_SASL2);
    x->fast = 0;
    if (s->auth.next && !s->pipe.login_sent) {
        /* The features had no FAST for us: the password now, here. */
        xt_sasl_free(s->auth.sasl);
        s->auth.sasl = s->auth.next;
        s->auth.next = NULL;
        int rc = xt_stream_sasl2_send(s);
        return rc ? xt_stream_fail_code(s, rc) : 0;
    }
    const char *cond = NULL;
    for (const xt_stanza *c = xt_stanza_first_child(st); c; c = xt_stanza_next_sibling(c))
        if (strcmp(xt_stanza_name(c), "text")) {
            cond = xt_stanza_name(c);
            break;
        }
    if (s->auth.next) {
        /* Not offered, and the login stanzas went out behind the token
         * (unauthenticated now: the server ends the stream for them). The
         * token was not tried: kept; the new offer (the next hint) lacks
         * its mechanism, so the next connection uses the password. */
        s->err.retry = 1;
        return xt_stream_fail(s, XT_EAUTH, NULL, cond ? cond : "not-authorized",
                              "the server no longer offers the FAST token's mechanism: logging in "
                              "with the password on a new connection",
                              NULL);
    }
    forget_token(s);
    /* The reconnect keeps the hint's pin and salt (this login proved
     * nothing new about the server). */
    int krc = xt_stream_sasl_keep_hint(s);
    if (krc)
        return xt_stream_fail_code(s, krc);
    char t[256];
    snprintf(t, sizeof t,
             "the server refused the FAST token (%s): forgotten; logging in with the password on "
             "a new connection",
             cond ? cond : "not-authorized");
    s->err.retry = 1;
    return xt_stream_fail(s, XT_EAUTH, NULL, cond ? cond : "not-authorized", t, NULL);
}

int xt_stream_sasl2_on(xt_stream *s, const xt_stanza *st)
{
    const char *name = xt_stanza_name(st);
    if (s->phase != XT_PH_SASL || !s->sasl2.active)
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "unexpected SASL2 element from the server",
                              NULL);
    if (strcmp(name, "success") == 0)
        return on_success(s, st);
    if (strcmp(name, "failure") == 0)
        return on_failure(s, st);
    if (strcmp(name, "challenge") == 0 && !s->sasl2.fast) {
        xt_buf data;
        xt_buf_init(&data, s->mem);
        int rc = decode_text(st, &data);
        if (rc == 0)
            rc = xt_stream_sasl_step(s, &data, "response", XT_NS_SASL2);
        else
            rc = rc == XT_ENOMEM ? xt_stream_fail_code(s, rc)
                                 : xt_stream_fail(s, XT_EPROTO, NULL, NULL,
                                                  "the server sent malformed SASL2 data (bad "
                                                  "base64)",
                                                  NULL);
        xt_buf_free_wipe(&data);
        return rc;
    }
    if (strcmp(name, "continue") == 0) {
        /* §2.6.1: the server wants tasks (a second factor, a password
         * change) that we do not implement: end cleanly, naming them. */
        char tasks[160] = "";
        const xt_stanza *ts = xt_stanza_child(st, "tasks", XT_NS_SASL2);
        for (const xt_stanza *t = ts ? xt_stanza_first_child(ts) : NULL; t;
             t = xt_stanza_next_sibling(t)) {
            const char *v = xt_stanza_text(t);
            size_t o = strlen(tasks);
            if (v && o < sizeof tasks - 1)
                snprintf(tasks + o, sizeof tasks - o, "%s%.60s", o ? ", " : "", v);
        }
        (void)xt_stream_emit_str(s, "<abort xmlns='" XT_NS_SASL2 "'/>");
        char t[300];
        snprintf(t, sizeof t,
                 "the server asks for SASL2 tasks xtalk does not support (%s) before it lets "
                 "this account in",
                 tasks[0] ? tasks : "none named");
        return xt_stream_fail(s, XT_EUNSUPPORTED, NULL, NULL, t, NULL);
    }
    return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "unexpected SASL2 element from the server",
                          NULL);
}

static int dup_opt(xt_stream *s, char **dst, const char *src)
{
    *dst = NULL;
    if (src && *src && !(*dst = xt_strdup(s->mem, src)))
        return XT_ENOMEM;
    return 0;
}

int xt_stream_sasl2_init(xt_stream *s, const xt_stream_config *cfg)
{
    xt_stream_sasl2 *x = &s->sasl2;
    int rc = dup_opt(s, &x->ua_id, cfg->ua_id);
    if (!rc)
        rc = dup_opt(s, &x->ua_software, cfg->ua_software);
    if (!rc)
        rc = dup_opt(s, &x->ua_device, cfg->ua_device);
    if (rc || !cfg->fast_token || !*cfg->fast_token || !cfg->fast_mech ||
        strlen(cfg->fast_mech) >= sizeof x->fast_mech)
        return rc;
    snprintf(x->fast_mech, sizeof x->fast_mech, "%s", cfg->fast_mech);
    return dup_opt(s, &x->token, cfg->fast_token);
}

void xt_stream_sasl2_reset(xt_stream *s)
{
    xt_stream_sasl2 *x = &s->sasl2;
    x->active = x->fast = x->fast_early = x->bind_inline = x->bound = 0;
    x->carbons = x->carbons_on = 0;
    x->req_mech[0] = '\0';
}

void xt_stream_sasl2_cleanup(xt_stream *s)
{
    xt_stream_sasl2 *x = &s->sasl2;
    xt_free(s->mem, x->ua_id);
    xt_free(s->mem, x->ua_software);
    xt_free(s->mem, x->ua_device);
    xt_free_secret(s->mem, x->token);
    memset(x, 0, sizeof *x);
}
