/*
 * SASL on the stream (RFC 6120 §6): choosing the mechanism from the
 * server's offer, or ahead of it from the hint an earlier login left
 * (pipelined <auth/>, checked against the real offer when it arrives),
 * SCRAM's Hi() computed ahead from a hinted salt, the exchange itself
 * with payloads kept out of logs and wiped, and the offer kept as the
 * next hint. The mechanisms themselves are core/sasl.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "core/base64.h"
#include "core/precis.h"
#include "core/stream_int.h"

/* Buffers that held a SASL payload: wipe the bytes outside the live data. */
static void wipe_stale(xt_buf *b)
{
    if (!b->data)
        return;
    xt_wipe(b->data, b->off);
    xt_wipe(b->data + b->len, b->cap - b->len);
}

/* Sends <auth/> or <response/> with base64 payload (RFC 6120 §6.4.2:
 * an empty payload is "="), logging only the element name. */
static int send_sasl_ns(xt_stream *s, const char *name, const char *ns, const char *attrs,
                        const xt_buf *raw)
{
    xt_buf *b = &s->scratch;
    xt_buf_clear(b);
    char open[160], logged[224];
    snprintf(open, sizeof open, "<%s xmlns='%s'%s>", name, ns, attrs);
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
        rc = xt_stream_emit(s, (const char *)xt_buf_head(b), xt_buf_size(b), logged);
    wipe_stale(b);
    xt_wipe(b->data, b->len);
    xt_buf_clear(b);
    return rc;
}

static int send_sasl(xt_stream *s, const char *name, const char *attrs, const xt_buf *raw)
{
    return send_sasl_ns(s, name, XT_NS_SASL, attrs, raw);
}

/* The server's SASL offer: mechanism names and the XEP-0440 channel-
 * binding types. As text (xt_conn_sasl_hint) it is the mechanisms, then
 * "cb:" when <sasl-channel-binding/> was there and "cb:TYPE" per type,
 * separated by spaces. */
typedef xt_stream_offer offer;

/* RFC 4422 §3.1: sasl-mech = 1*20mech-char, mech-char = UPPER-ALPHA /
 * DIGIT / HYPHEN / UNDERSCORE. Anything else from the server is no
 * mechanism: dropped before it can reach the hint, where a name such as
 * "salt:sha512:10000000:..." would pose as our own token (issue 12 item 9). */
static int valid_mech_name(const char *t)
{
    size_t n = 0;
    for (; t[n]; n++)
        if (!((t[n] >= 'A' && t[n] <= 'Z') || (t[n] >= '0' && t[n] <= '9') || t[n] == '-' ||
              t[n] == '_'))
            return 0;
    return n >= 1 && n <= 20;
}

static int offer_from_features(xt_stream *s, const xt_stanza *features, offer *o)
{
    memset(o, 0, sizeof *o);
    /* XEP-0388: a SASL2 offer is used instead of the RFC 6120 one. */
    const xt_stanza *a2 = xt_stream_sasl2_offer(s, features);
    const xt_stanza *mechs = a2 ? a2 : xt_stanza_child(features, "mechanisms", XT_NS_SASL);
    const char *mns = a2 ? XT_NS_SASL2 : XT_NS_SASL;
    for (const xt_stanza *m = mechs ? xt_stanza_first_child(mechs) : NULL; m && o->n < 32;
         m = xt_stanza_next_sibling(m)) {
        if (strcmp(xt_stanza_name(m), "mechanism") || strcmp(xt_stanza_ns(m), mns))
            continue;
        const char *t = xt_stanza_text(m);
        if (!t)
            return XT_ENOMEM;
        if (valid_mech_name(t))
            o->names[o->n++] = t;
        else
            xt_stream_logf(s, XT_LOG_WARN,
                           "ignoring a SASL mechanism name that RFC 4422 §3.1 does "
                           "not allow");
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
    /* "sasl2:" and "fast:MECH" (xt_stream_sasl2_offer_text). */
    if (!rc)
        rc = xt_stream_sasl2_offer_text(s, features, b);
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
        if (strncmp(t, "salt:", 5) == 0 || strcmp(t, "nocb:") == 0 || strncmp(t, "pin:", 4) == 0 ||
            strcmp(t, "sasl2:") == 0)
            continue; /* see hint_salt, xt_stream_sasl_read_hint */
        if (strncmp(t, "cb:", 3) == 0) {
            o->cb_advertised = 1;
            if (t[3] && o->ncb < 8)
                o->cbtypes[o->ncb++] = t + 3;
        } else if (o->n < 32 && valid_mech_name(t)) {
            o->names[o->n++] = t;
        }
    }
    return o->n ? 0 : XT_EINVAL;
}

/* The exchange this offer calls for (xt_sasl_new's rules). */
static int choose_sasl(xt_stream *s, const offer *o, xt_sasl **out)
{
    xt_tls_binding more[sizeof s->tls.cb / sizeof s->tls.cb[0]];
    size_t nmore = 0;
    for (size_t i = 1; i < s->tls.ncb; i++)
        more[nmore++] = (xt_tls_binding){
            .type = s->tls.cb[i].type, .data = s->tls.cb[i].data, .len = s->tls.cb[i].len};
    const xt_stream_cb *def = s->tls.ncb ? &s->tls.cb[0] : NULL;
    xt_sasl_params p = {
        .server_cb_advertised = o->cb_advertised,
        .server_cb_types = o->cbtypes,
        .server_cb_ntypes = o->ncb,
        .authcid = xt_jid_local(s->cfg.jid),
        .password = s->cfg.password ? s->cfg.password : "",
        .tls = s->tls.on,
        .allow_plain = !(s->cfg.flags & XT_CONN_NO_PLAIN_MECH),
        .cb_type = def ? def->type : NULL,
        .cb_data = def ? def->data : NULL,
        .cb_len = def ? def->len : 0,
        .cb_more = more,
        .cb_nmore = nmore,
        /* Without binding: after the server refused ours (this conn), or
         * when the hint says it did at an earlier login; only while it
         * lists no types and the certificate is verified (see cb_refusal). */
        .no_cb = (s->auth.cb_refused || s->auth.hint_nocb) && !o->cb_advertised && s->tls.verified,
        .nonce = s->cfg.test_nonce,
        .random = s->cfg.random,
        .random_ud = s->cfg.random_ud,
        .salted = &s->auth.salted,
        .max_iterations = s->cfg.scram_max_iterations,
    };
    /* The SASL object holds its own copy of the password; ours stays for
     * reconnecting (xt_stream_reset) and is wiped by xt_stream_cleanup. */
    return xt_sasl_new(s->mem, o->names, o->n, &p, out);
}

void xt_stream_sasl_read_hint(xt_stream *s)
{
    const char *h = s->auth.hint;
    s->auth.hint_nocb = xt_stream_sasl_hint_nocb(h);
    s->auth.pin[0] = '\0';
    s->auth.pin_strength = 0;
    s->auth.hint_scram = 0;
    s->sasl2.hint = s->sasl2.hint_carbons = 0;
    for (const char *t = h; t && *t;) {
        size_t n = strcspn(t, " ");
        if (n > 6 && strncmp(t, "SCRAM-", 6) == 0)
            s->auth.hint_scram = 1;
        if (n == 6 && strncmp(t, "sasl2:", 6) == 0)
            s->sasl2.hint = 1;
        if (n == 10 && strncmp(t, "b2:carbons", 10) == 0)
            s->sasl2.hint_carbons = 1; /* xt_stream_sasl2_offer_text */
        if (n > 4 && n - 4 < 64 && strncmp(t, "pin:", 4) == 0) {
            char pin[64];
            memcpy(pin, t + 4, n - 4);
            pin[n - 4] = '\0';
            char *cb = strchr(pin, ':');
            if (cb)
                *cb = '\0';
            int st = valid_mech_name(pin) ? xt_sasl_strength(pin, cb ? cb + 1 : NULL) : 0;
            if (cb)
                *cb = ':';
            if (st > s->auth.pin_strength) {
                s->auth.pin_strength = st;
                memcpy(s->auth.pin, pin, n - 4 + 1);
            }
        }
        t += n;
        while (*t == ' ')
            t++;
    }
}

/*
 * Never weaker than before (issue 12): the hint names the strongest login
 * that succeeded for this account; a choice below it is what a man in the
 * middle who strips mechanisms, the -PLUS variants or the binding list
 * gets us to make. And with a hint whose server offered SCRAM, PLAIN (the
 * password itself to whoever ends TLS) is refused even with no pin yet.
 * XT_CONN_ALLOW_DOWNGRADE lets the user accept a server that really
 * changed. 0 = fine; else the reason, for the error.
 */
static const char *downgrade(const xt_stream *s, const xt_sasl *sasl)
{
    if (s->cfg.flags & XT_CONN_ALLOW_DOWNGRADE)
        return NULL;
    const char *m = xt_sasl_mechanism(sasl);
    if (s->auth.pin_strength && xt_sasl_strength(m, xt_sasl_cb_type(sasl)) < s->auth.pin_strength)
        return s->auth.pin; /* MECH[:CBTYPE] */
    if (!xt_sasl_is_scram(sasl) && s->auth.hint_scram)
        return "SCRAM (offered at the last login)";
    return NULL;
}

static int fail_downgrade(xt_stream *s, const xt_sasl *sasl, const char *before)
{
    char t[480];
    const char *cb = xt_sasl_cb_type(sasl);
    snprintf(t, sizeof t,
             "refusing a weaker login than before: the server's offer (%s) allows only %s%s%s, but "
             "this account had %s (mechanism[:channel binding]); a man in the middle may have "
             "stripped the stronger choices; if "
             "the server really changed, allow the downgrade explicitly",
             s->auth.offer ? s->auth.offer : "?", xt_sasl_mechanism(sasl), cb ? " with " : "",
             cb ? cb : "", before);
    return xt_stream_fail(s, XT_EDOWNGRADE, NULL, NULL, t, NULL);
}

int xt_stream_sasl_hint_nocb(const char *hint)
{
    for (const char *t = hint; t && (t = strstr(t, "nocb:")) != NULL; t += 5)
        if ((t == hint || t[-1] == ' ') && (t[5] == ' ' || t[5] == '\0'))
            return 1;
    return 0;
}

/* <auth mechanism='...'>initial response</auth> for s->auth.sasl (SASL2's
 * <authenticate/> when the exchange is SASL2). */
static int send_auth(xt_stream *s)
{
    if (s->sasl2.active)
        return xt_stream_sasl2_send(s);
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

static const char *const hash_names[] = {
    [XT_SCRAM_SHA1] = "sha1", [XT_SCRAM_SHA256] = "sha256", [XT_SCRAM_SHA512] = "sha512"};

/* The hint's "salt:HASH:ITERATIONS:BASE64" token (what the server gave
 * for this account last time; public, it gives it to anyone who asks)
 * into s->auth.salted, so Hi() can run before the challenge comes. */
int xt_stream_sasl_hint_salt(xt_stream *s)
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
    /* The same cap as the exchange: a stored hint never makes a login run
     * more PBKDF2 than the server may ask for (issue 12 item 9). */
    uint32_t cap = s->cfg.scram_max_iterations ? s->cfg.scram_max_iterations
                                               : xt_scram_default_max_iterations(c.hash);
    if (!c.hash || end == t || !end || *end != ':' || it < XT_SCRAM_MIN_ITERATIONS || it > cap ||
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
void xt_stream_sasl_precompute(xt_stream *s)
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
/* " pin:MECH[:CBTYPE]": the stronger of the hint's pin and this login
 * (a login the user allowed to be weaker keeps the old pin). */
static int append_pin(xt_stream *s, xt_buf *b)
{
    const char *m = xt_sasl_mechanism(s->auth.sasl), *cb = xt_sasl_cb_type(s->auth.sasl);
    char tok[96];
    if (s->auth.pin_strength > xt_sasl_strength(m, cb))
        snprintf(tok, sizeof tok, " pin:%s", s->auth.pin);
    else
        snprintf(tok, sizeof tok, " pin:%s%s%s", m, cb ? ":" : "", cb ? cb : "");
    return xt_buf_append_str(b, tok);
}

/* Makes what the scratch buffer holds (rc: how building it went) the
 * offer, replacing the old one; on failure the old offer stays. */
static int offer_from_scratch(xt_stream *s, int rc)
{
    char *txt = rc ? NULL : xt_buf_cstr(&s->scratch);
    char *dup = txt ? xt_strdup(s->mem, txt) : NULL;
    xt_buf_clear(&s->scratch);
    if (!dup)
        return XT_ENOMEM;
    xt_free(s->mem, s->auth.offer);
    s->auth.offer = dup;
    return 0;
}

static int offer_add_salt(xt_stream *s, int nocb)
{
    if (!s->auth.offer)
        return 0;
    xt_buf *b = &s->scratch;
    xt_buf_clear(b);
    char head[64];
    snprintf(head, sizeof head, " salt:%s:%u:", hash_names[s->auth.salted.hash],
             (unsigned)s->auth.salted.iterations);
    int rc = xt_buf_append_str(b, s->auth.offer);
    /* "nocb:": this server refused the binding we guessed and took SCRAM
     * without it; the next login goes without at once (one connection
     * instead of two), under the same conditions as the retry. */
    if (!rc && nocb)
        rc = xt_buf_append_str(b, " nocb:");
    if (!rc)
        rc = append_pin(s, b);
    if (!rc && s->auth.salted.valid)
        rc = xt_buf_append_str(b, head);
    if (!rc && s->auth.salted.valid)
        rc = xt_base64_encode(b, s->auth.salted.salt, s->auth.salted.salt_len);
    return offer_from_scratch(s, rc);
}

int xt_stream_sasl_keep_hint(xt_stream *s)
{
    if (!s->auth.offer || !s->auth.hint)
        return 0;
    xt_buf *b = &s->scratch;
    xt_buf_clear(b);
    int rc = xt_buf_append_str(b, s->auth.offer);
    for (const char *t = s->auth.hint; !rc && *t;) {
        size_t n = strcspn(t, " ");
        if ((n > 4 && strncmp(t, "pin:", 4) == 0) || (n > 5 && strncmp(t, "salt:", 5) == 0) ||
            (n == 5 && strncmp(t, "nocb:", 5) == 0)) {
            rc = xt_buf_append_str(b, " ");
            if (!rc)
                rc = xt_buf_append(b, t, n);
        }
        t += n;
        while (*t == ' ')
            t++;
    }
    return offer_from_scratch(s, rc);
}

/* Pipelined authentication: with a hint of the server's offer, the
 * first SCRAM message goes out with the stream header. Nothing is sent
 * when the hint is unusable or calls for PLAIN. */
int xt_stream_send_early_auth(xt_stream *s)
{
    if (!s->auth.hint || !s->tls.on)
        return 0;
    /* A SASL2 server: the FAST token if it is usable, else the features
     * (a SASL1 <auth/> would get no token). */
    if (s->sasl2.hint && !(s->cfg.flags & XT_CONN_NO_SASL2))
        return xt_stream_sasl2_send_fast(s);
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
    if (rc || !xt_sasl_is_scram(sasl) || downgrade(s, sasl)) {
        xt_sasl_free(sasl);
        return 0; /* wait for the features */
    }
    xt_sasl_free(s->auth.sasl);
    s->auth.sasl = sasl;
    rc = send_auth(s);
    if (!rc) {
        s->pipe.early = 1;
        xt_stream_logf(s, XT_LOG_INFO,
                       "%s sent with the stream header (the server's earlier offer)",
                       xt_sasl_mechanism(sasl));
    }
    return rc;
}

int xt_stream_start_sasl(xt_stream *s, const xt_stanza *features)
{
    offer o;
    int rc = offer_from_features(s, features, &o);
    if (rc)
        return xt_stream_fail_code(s, rc);
    const xt_stanza *a2 = xt_stream_sasl2_offer(s, features);
    /* A server that offered SASL2 before and now does not: what a man in
     * the middle who strips it (and FAST's tokens with it) would cause. */
    if (!a2 && s->sasl2.hint && !(s->cfg.flags & (XT_CONN_NO_SASL2 | XT_CONN_ALLOW_DOWNGRADE))) {
        if (s->pipe.early)
            s->pipe.early = 0;
        return xt_stream_fail(
            s, XT_EDOWNGRADE, NULL, NULL,
            "refusing a weaker login than before: the server offered SASL2 (XEP-0388) at the "
            "last login and does not now; a man in the middle may have stripped it; if the "
            "server really changed, allow the downgrade explicitly",
            NULL);
    }
    if (s->sasl2.fast)
        return xt_stream_sasl2_check_fast(s, a2, &o);
    if (a2 && !s->pipe.early) {
        rc = xt_stream_sasl2_try_fast(s, a2);
        if (rc)
            return rc < 0 ? xt_stream_fail_code(s, rc) : 0;
    }
    if (!a2 && !xt_stanza_child(features, "mechanisms", XT_NS_SASL)) {
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
        return xt_stream_fail_code(s, rc);
    const char *before = downgrade(s, sasl);
    if (before) {
        rc = fail_downgrade(s, sasl, before);
        xt_sasl_free(sasl);
        return rc;
    }
    if (!xt_sasl_is_scram(sasl))
        xt_stream_logf(
            s, XT_LOG_WARN,
            "the server offers no SCRAM: sending the password itself (SASL PLAIN) inside "
            "TLS; later logins refuse PLAIN once SCRAM worked");
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
    xt_stream_sasl2_prepare(s, a2);
    rc = send_auth(s);
    return rc ? xt_stream_fail_code(s, rc) : 0;
}

/* The exchange this offer calls for, downgrade-checked (for SASL2's
 * fallback from a FAST token): 0 and *out, or negative when the stream
 * failed. */
int xt_stream_sasl_choose(xt_stream *s, const xt_stream_offer *o, xt_sasl **out)
{
    xt_sasl *sasl = NULL;
    int rc = choose_sasl(s, o, &sasl);
    if (rc == XT_EUNSUPPORTED)
        return xt_stream_fail(s, XT_EUNSUPPORTED, NULL, NULL, "no usable SASL mechanism", NULL);
    if (rc)
        return xt_stream_fail_code(s, rc);
    const char *before = downgrade(s, sasl);
    if (before) {
        rc = fail_downgrade(s, sasl, before);
        xt_sasl_free(sasl);
        return rc;
    }
    *out = sasl;
    return 0;
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

/* Whether a SASL failure's <text> says channel binding ("Invalid
 * channel binding": ejabberd 23.01). */
static int mentions_cb(const char *text)
{
    static const char key[] = "channel binding";
    for (const char *t = text; t && *t; t++)
        if (strncasecmp(t, key, sizeof key - 1) == 0)
            return 1;
    return 0;
}

/*
 * The server refused our -PLUS exchange saying channel binding is wrong.
 * ejabberd before 23.10 lists no types (XEP-0440) and binds only
 * tls-unique, which TLS 1.3 does not define (RFC 8446 §C.5), so on TLS
 * 1.3 it refuses every correct tls-exporter binding. One retry without
 * binding (SCRAM with the 'y' flag) is allowed only when all of these
 * hold:
 *   - the server listed no binding types: we guessed; a server that lists
 *     a type and then refuses it is not this bug;
 *   - the certificate was verified (trusted chain and name, or pin): the
 *     retry then gives up only what binding adds to a verified
 *     certificate, and a man in the middle must hold a certificate we
 *     trust for the domain;
 *   - -PLUS never worked for this account before (the pin);
 *   - this conn has not retried already (once: cb_refused stays set).
 * A server that does support binding refuses the retry's 'y' (RFC 5802
 * §6), so a man in the middle who caused the refusal gains nothing
 * there. The retry runs on the same stream: RFC 6120 §6.4.5 lets the
 * client try again after a <failure/> and servers allow a few tries
 * (ejabberd and Prosody do), so it needs no new connection and works
 * whether or not the application reconnects. A server that ends the
 * stream instead gets a new connection (xt_stream_sasl_retry_lost: the
 * failure is then retryable). No error of this path names the password.
 */
static int cb_refusal(xt_stream *s, const char *cond, const char *text, int same_stream)
{
    const char *type = xt_sasl_cb_type(s->auth.sasl);
    const char *why = NULL;
    if (!xt_sasl_cb_guessed(s->auth.sasl))
        why = "the server listed that type itself";
    else if (!s->tls.verified)
        why = "the certificate was not verified";
    else if (s->auth.pin_strength > 10)
        why = "-PLUS worked for this account before";
    else if (s->auth.cb_refused)
        why = "the retry without binding was already made";
    char t[400];
    if (why) {
        snprintf(t, sizeof t,
                 "the server refused SCRAM channel binding %s: %s; not retried without "
                 "binding because %s",
                 type, text, why);
        return xt_stream_fail(s, XT_EAUTH, NULL, cond, t, NULL);
    }
    s->auth.cb_refused = 1;
    if (!same_stream) {
        snprintf(t, sizeof t,
                 "the server refused SCRAM channel binding %s: %s; it lists no binding types: "
                 "retrying once without binding on a new connection",
                 type, text);
        s->err.retry = 1;
        return xt_stream_fail(s, XT_EAUTH, NULL, cond, t, NULL);
    }
    /* The offer as the features gave it (offer_from_features kept it). */
    char *copy = s->auth.offer ? xt_strdup(s->mem, s->auth.offer) : NULL;
    if (!copy)
        return xt_stream_fail_code(s, XT_ENOMEM);
    offer o;
    xt_sasl *sasl = NULL;
    int rc = offer_from_text(copy, &o);
    if (!rc)
        rc = choose_sasl(s, &o, &sasl);
    xt_free(s->mem, copy);
    if (rc) {
        snprintf(t, sizeof t,
                 "the server refused SCRAM channel binding %s: %s; no mechanism without binding "
                 "is left in its offer",
                 type, text);
        return rc == XT_ENOMEM ? xt_stream_fail_code(s, rc)
                               : xt_stream_fail(s, XT_EAUTH, NULL, cond, t, NULL);
    }
    const char *before = downgrade(s, sasl);
    if (before) {
        rc = fail_downgrade(s, sasl, before);
        xt_sasl_free(sasl);
        return rc;
    }
    xt_stream_logf(s, XT_LOG_INFO,
                   "the server refused SCRAM channel binding %s: %s; it lists no binding types: "
                   "retrying once without binding, on this stream (RFC 6120 §6.4.5)",
                   type, text);
    xt_sasl_free(s->auth.sasl);
    s->auth.sasl = sasl;
    s->auth.cb_retry = 1;
    rc = send_auth(s);
    return rc ? xt_stream_fail_code(s, rc) : 0;
}

int xt_stream_sasl_retry_lost(xt_stream *s, int error, char *buf, size_t len)
{
    s->auth.cb_retry = 0;
    if (error != XT_ECLOSED && error != XT_ESTREAM && error != XT_EIO)
        return 0;
    snprintf(buf, len,
             "the server refused the channel binding it lists no types for and ended the "
             "stream instead of letting the login retry without binding on it (RFC 6120 "
             "§6.4.5): retrying once without binding on a new connection");
    s->err.retry = 1;
    return 1;
}

/*
 * Any other SASL <failure/>: the condition's meaning (RFC 6120 §6.5, see
 * xt_sasl_failure_reason) with the server's <text> quoted, so that only
 * not-authorized reads as a credentials problem (issue 11: a
 * malformed-request used to end in "check the password").
 */
static int fail_condition(xt_stream *s, const char *cond, const char *text)
{
    char t[440];
    /* Prosody 0.12 on TLS 1.2 with -PLUS removed from its offer: it could
     * bind, so our 'y' looks to it like a stripped offer (RFC 5802 §6). */
    const char *y = xt_sasl_cb_flag(s->auth.sasl) == 'y' && strcmp(cond, "malformed-request") == 0
                        ? " (SCRAM was sent with the 'y' flag: a server that can bind but "
                          "offered no -PLUS reads it as a downgrade, RFC 5802 §6)"
                        : "";
    if (text && *text)
        snprintf(t, sizeof t, "%s%s; the server says: \"%.200s\"", xt_sasl_failure_reason(cond), y,
                 text);
    else
        snprintf(t, sizeof t, "%s%s", xt_sasl_failure_reason(cond), y);
    return xt_stream_fail(s, XT_EAUTH, NULL, cond, t, NULL);
}

int xt_stream_on_sasl(xt_stream *s, const xt_stanza *st)
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
            rc = xt_stream_emit_str(s, "<abort xmlns='" XT_NS_SASL "'/>");
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
        return rc ? xt_stream_fail_code(s, rc) : 0;
    }
    s->auth.cb_retry = 0; /* whatever answers it, the retry got its answer */
    if (strcmp(name, "failure") == 0)
        return xt_stream_sasl_failed(s, st, XT_NS_SASL);
    int is_success = strcmp(name, "success") == 0;
    if (!is_success && strcmp(name, "challenge") != 0)
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "unexpected SASL element from the server",
                              NULL);
    xt_buf data;
    xt_buf_init(&data, s->mem);
    int rc = sasl_decode(st, &data);
    if (rc == XT_ENOMEM) {
        xt_buf_free_wipe(&data);
        return xt_stream_fail_code(s, rc);
    }
    if (rc) {
        xt_buf_free_wipe(&data);
        (void)xt_stream_emit_str(s, "<abort xmlns='" XT_NS_SASL "'/>");
        return xt_stream_fail(s, XT_EPROTO, NULL, NULL,
                              "the server sent malformed SASL data (bad base64)", NULL);
    }
    if (is_success) {
        rc = xt_stream_sasl_succeeded(s, xt_buf_head(&data), xt_buf_size(&data));
        xt_buf_free_wipe(&data);
        if (rc < 0)
            return rc;
        s->restart = XT_RESTART_SASL; /* RFC 6120 §6.4.6: restart the stream */
        return 0;
    }
    rc = xt_stream_sasl_step(s, &data, "response", XT_NS_SASL);
    xt_buf_free_wipe(&data);
    return rc;
}

int xt_stream_sasl_failed(xt_stream *s, const xt_stanza *st, const char *text_ns)
{
    const char *cond = NULL;
    for (const xt_stanza *c = xt_stanza_first_child(st); c; c = xt_stanza_next_sibling(c))
        if (strcmp(xt_stanza_ns(c), XT_NS_SASL) == 0 && strcmp(xt_stanza_name(c), "text")) {
            cond = xt_stanza_name(c);
            break;
        }
    const char *text = xt_stanza_child_text(st, "text", text_ns);
    /* The same-stream retry is SASL's <auth/> again (RFC 6120 §6.4.5);
     * after a SASL2 <failure/> it goes on a new connection instead. */
    if (s->auth.sasl && xt_sasl_cb_flag(s->auth.sasl) == 'p' && mentions_cb(text))
        return cb_refusal(s, cond ? cond : "not-authorized", text,
                          strcmp(text_ns, XT_NS_SASL) == 0);
    if (s->auth.sasl && xt_sasl_cb_flag(s->auth.sasl) == 'y' && mentions_cb(text)) {
        /* RFC 5802 §6: a server that supports binding refuses 'y' (we
         * could have bound): what a man in the middle who made the first
         * exchange fail looks like from here. */
        char t[400];
        snprintf(t, sizeof t,
                 "the server refused the login without channel binding as well: %.200s; a "
                 "server that binds refuses 'y' (RFC 5802 §6): its TLS may be intercepted",
                 text);
        return xt_stream_fail(s, XT_EAUTH, NULL, cond ? cond : "not-authorized", t, NULL);
    }
    return fail_condition(s, cond ? cond : "not-authorized", text);
}

int xt_stream_sasl_succeeded(xt_stream *s, const uint8_t *d, size_t dlen)
{
    int rc = xt_sasl_success(s->auth.sasl, d, dlen);
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
    int nocb = xt_sasl_cb_flag(s->auth.sasl) == 'y' && (s->auth.cb_refused || s->auth.hint_nocb);
    if (offer_add_salt(s, nocb) != 0) {
        xt_sasl_free(s->auth.sasl);
        s->auth.sasl = NULL;
        return xt_stream_fail_code(s, XT_ENOMEM);
    }
    /* Nothing needs the credentials any more. */
    xt_sasl_free(s->auth.sasl);
    s->auth.sasl = NULL;
    wipe_stale(&s->out);
    wipe_stale(&s->scratch);
    s->auth.done = 1;
    return 0;
}

/* A challenge's data -> the response (<response xmlns=ns/>). */
int xt_stream_sasl_step(xt_stream *s, xt_buf *data, const char *name, const char *ns)
{
    xt_buf resp;
    xt_buf_init(&resp, s->mem);
    int rc = xt_sasl_step(s->auth.sasl, xt_buf_head(data), xt_buf_size(data), &resp);
    if (!rc)
        rc = send_sasl_ns(s, name, ns, "", &resp);
    xt_buf_free_wipe(&resp);
    if (rc == XT_ENOMEM || rc == XT_ETOOBIG)
        return xt_stream_fail_code(s, rc);
    if (rc) {
        char ab[64];
        snprintf(ab, sizeof ab, "<abort xmlns='%s'/>", ns);
        (void)xt_stream_emit_str(s, ab);
        /* The SCRAM layer's reason (a XEP-0474 mismatch, a hostile
         * iteration count...) says more than a generic line
         * (copied: failing frees the exchange that holds it). */
        char why[300];
        const char *d = xt_sasl_detail(s->auth.sasl);
        snprintf(why, sizeof why, "%s", d && *d ? d : "the server's SASL challenge was rejected");
        return xt_stream_fail(s, rc, NULL, NULL, why, NULL);
    }
    return 0;
}
