/*
 * Client SASL mechanisms: selection, PLAIN (RFC 4616) and the SCRAM
 * family (scram.c) behind one small state machine the stream drives.
 *
 * Selection is by strength, never by the server's order (RFC 6120 §6.3.3
 * lets the server list in preference order, but a MITM on a non-TLS or
 * downgraded stream could reorder): -PLUS first when we hold
 * channel-binding data, then plain SCRAM by hash strength, PLAIN last and
 * only over TLS (it sends the password in the clear otherwise).
 */
#include "core/sasl.h"

#include <stdio.h>
#include <string.h>

#include <unistr.h>

#include "base/mem.h"
#include "core/precis.h"
#include "core/scram.h"

enum sasl_state {
    S_INIT,         /* nothing sent */
    S_INITIAL_SENT, /* <auth/> with the initial response is out */
    S_FINAL_SENT,   /* SCRAM: client-final is out */
    S_VERIFIED,     /* SCRAM: server signature checked (came as challenge) */
    S_DONE,
    S_FAILED,
};

enum mech_kind { MECH_SCRAM, MECH_PLAIN };

static const struct mech {
    const char *name;
    enum mech_kind kind;
    xt_scram_hash hash;
    int plus;
} mechs[] = {
    {"SCRAM-SHA-512-PLUS", MECH_SCRAM, XT_SCRAM_SHA512, 1},
    {"SCRAM-SHA-256-PLUS", MECH_SCRAM, XT_SCRAM_SHA256, 1},
    {"SCRAM-SHA-1-PLUS", MECH_SCRAM, XT_SCRAM_SHA1, 1},
    {"SCRAM-SHA-512", MECH_SCRAM, XT_SCRAM_SHA512, 0},
    {"SCRAM-SHA-256", MECH_SCRAM, XT_SCRAM_SHA256, 0},
    {"SCRAM-SHA-1", MECH_SCRAM, XT_SCRAM_SHA1, 0},
    {"PLAIN", MECH_PLAIN, 0, 0},
};

struct xt_sasl {
    const xt_mem *mem;
    xt_mem mem_copy;
    const struct mech *mech;
    enum sasl_state state;
    xt_scram *scram;
    /* PLAIN only */
    char *authzid;
    char *authcid;
    char *password; /* secret */
    const char *detail;
    char cbflag;      /* SCRAM GS2 flag: 'n', 'y' or 'p'; 0 for PLAIN */
    char cb_type[24]; /* with 'p': the binding's type */
    int cb_guessed;   /* with 'p': chosen without the server's list */
};

static int offered_has(const char *const *offered, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (offered[i] && strcmp(offered[i], name) == 0)
            return 1;
    return 0;
}

/* Our binding of this type, or NULL. */
static const xt_tls_binding *find_cb(const xt_sasl_params *p, const char *type, xt_tls_binding *tmp)
{
    if (p->cb_type && p->cb_data && p->cb_len && strcmp(p->cb_type, type) == 0) {
        *tmp = (xt_tls_binding){.type = p->cb_type, .data = p->cb_data, .len = p->cb_len};
        return tmp;
    }
    for (size_t i = 0; p->cb_more && i < p->cb_nmore; i++)
        if (p->cb_more[i].type && p->cb_more[i].data && p->cb_more[i].len &&
            strcmp(p->cb_more[i].type, type) == 0)
            return &p->cb_more[i];
    return NULL;
}

/* The binding types we know (RFC 9266, RFC 5929 §3 and §4), the one
 * tied most closely to this connection first. */
static const char *const cb_order[] = {"tls-exporter", "tls-unique", "tls-server-end-point"};

/* Whether we hold any binding data at all (decides 'y' against 'n'). */
static int have_cb(const xt_sasl_params *p)
{
    xt_tls_binding tmp;
    for (size_t i = 0; i < sizeof cb_order / sizeof cb_order[0]; i++)
        if (find_cb(p, cb_order[i], &tmp))
            return 1;
    return 0;
}

/* The binding to use with a -PLUS mechanism, or NULL: a type the server
 * lists (XEP-0440 §3), else, with no list, our default one (tls-exporter
 * on TLS 1.3, tls-unique on TLS 1.2: what servers without the list
 * bind). *guessed says which. */
static const xt_tls_binding *pick_cb(const xt_sasl_params *p, xt_tls_binding *tmp, int *guessed)
{
    *guessed = 0;
    if (p->no_cb)
        return NULL;
    if (!p->server_cb_advertised) {
        *guessed = 1;
        for (size_t i = 0; p->cb_type && i < sizeof cb_order / sizeof cb_order[0]; i++)
            if (strcmp(p->cb_type, cb_order[i]) == 0)
                return find_cb(p, cb_order[i], tmp);
        return NULL;
    }
    for (size_t i = 0; i < sizeof cb_order / sizeof cb_order[0]; i++) {
        const xt_tls_binding *b = find_cb(p, cb_order[i], tmp);
        for (size_t j = 0; b && j < p->server_cb_ntypes; j++)
            if (p->server_cb_types[j] && strcmp(p->server_cb_types[j], cb_order[i]) == 0)
                return b;
    }
    return NULL;
}

static int valid_utf8(const char *s)
{
    return u8_check((const uint8_t *)s, strlen(s)) == NULL;
}

void xt_sasl_free(xt_sasl *s)
{
    if (!s)
        return;
    const xt_mem *mem = s->mem;
    xt_scram_free(s->scram);
    xt_free(mem, s->authzid);
    xt_free(mem, s->authcid);
    xt_free_secret(mem, s->password);
    /* s->mem may point into s itself (mem_copy): keep the hooks past the wipe. */
    xt_mem hooks = mem ? *mem : (xt_mem){0};
    xt_wipe(s, sizeof *s);
    xt_free(mem ? &hooks : NULL, s);
}

int xt_sasl_new(const xt_mem *mem, const char *const *offered, size_t noffered,
                const xt_sasl_params *params, xt_sasl **out)
{
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    if (!params || (!offered && noffered) || !params->authcid || !*params->authcid ||
        !params->password)
        return XT_EINVAL;
    if (!valid_utf8(params->authcid) || (params->authzid && !valid_utf8(params->authzid)))
        return XT_EINVAL;

    const struct mech *m = NULL;
    int cb = have_cb(params), guessed = 0;
    xt_tls_binding tmp;
    const xt_tls_binding *bind = pick_cb(params, &tmp, &guessed);
    int plus_ok = bind != NULL;
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0] && !m; i++) {
        if (!offered_has(offered, noffered, mechs[i].name))
            continue;
        if (mechs[i].plus && !plus_ok)
            continue;
        /* RFC 6120 §13.8: PLAIN only under TLS, and only if allowed. */
        if (mechs[i].kind == MECH_PLAIN && !(params->tls && params->allow_plain))
            continue;
        m = &mechs[i];
    }
    if (!m)
        return XT_EUNSUPPORTED;

    xt_sasl *s = xt_calloc(mem, 1, sizeof *s);
    if (!s)
        return XT_ENOMEM;
    if (mem) {
        s->mem_copy = *mem;
        s->mem = &s->mem_copy;
    }
    s->mech = m;
    s->state = S_INIT;

    /* RFC 5802 §2.2 Normalize() / RFC 7677 §4 and RFC 4616 §2: the
     * password is prepared (OpaqueString, RFC 8265 §4.2). */
    char *pw = NULL;
    const char *why = NULL;
    int rc = xt_precis_opaque(s->mem, params->password, strlen(params->password), &pw, &why);
    if (rc)
        goto fail;

    if (m->kind == MECH_PLAIN) {
        rc = XT_ENOMEM;
        s->password = pw;
        pw = NULL;
        if (!(s->authcid = xt_strdup(s->mem, params->authcid)))
            goto fail;
        if (params->authzid && !(s->authzid = xt_strdup(s->mem, params->authzid)))
            goto fail;
    } else {
        /* GS2 flag, RFC 5802 §6: 'p' for -PLUS; 'y' whenever we could
         * bind but do not (no -PLUS offered, only types we lack listed,
         * or the retry without binding): a server that supports binding
         * then knows the client could have bound, so a man in the
         * middle who stripped -PLUS or the list is caught; 'n' only when
         * we have no binding data at all. */
        char flag = m->plus ? 'p' : cb ? 'y' : 'n';
        xt_scram_params sp = {
            .hash = m->hash,
            .username = params->authcid,
            .password = pw,
            .authzid = params->authzid,
            .cbflag = flag,
            .cb_type = flag == 'p' ? bind->type : NULL,
            .cb_data = flag == 'p' ? bind->data : NULL,
            .cb_len = flag == 'p' ? bind->len : 0,
            .nonce = params->nonce,
            .random = params->random,
            .random_ud = params->random_ud,
            .cache = params->salted,
            .max_iterations = params->max_iterations,
        };
        /* XEP-0474: what we were offered, for the server's h= to confirm
         * (a list we cannot express is simply not checked). */
        xt_buf ssdp;
        xt_buf_init(&ssdp, s->mem);
        rc = xt_scram_ssdp_string(&ssdp, offered, noffered, params->server_cb_types,
                                  params->server_cb_ntypes, params->server_cb_advertised);
        if (!rc && !(sp.ssdp = xt_buf_cstr(&ssdp)))
            rc = XT_ENOMEM;
        if (rc == XT_ENOMEM) {
            xt_buf_free(&ssdp);
            goto fail;
        }
        s->cbflag = flag;
        if (flag == 'p') {
            snprintf(s->cb_type, sizeof s->cb_type, "%s", bind->type);
            s->cb_guessed = guessed;
        }
        rc = xt_scram_new(s->mem, &sp, &s->scram);
        xt_buf_free(&ssdp);
        xt_free_secret(s->mem, pw);
        pw = NULL;
        if (rc)
            goto fail;
    }
    *out = s;
    return 0;
fail:
    xt_free_secret(s->mem, pw);
    xt_sasl_free(s);
    return rc;
}

const char *xt_sasl_mechanism(const xt_sasl *s)
{
    return s ? s->mech->name : NULL;
}

int xt_sasl_is_scram(const xt_sasl *s)
{
    return s && s->mech->kind != MECH_PLAIN;
}

int xt_sasl_strength(const char *mech, const char *cb_type)
{
    for (size_t i = 0; mech && i < sizeof mechs / sizeof mechs[0]; i++) {
        if (strcmp(mechs[i].name, mech) != 0)
            continue;
        if (mechs[i].kind == MECH_PLAIN)
            return 1;
        int h = 1 + (int)mechs[i].hash; /* 2, 3, 4 */
        if (!mechs[i].plus)
            return h;
        int cb = cb_type && strcmp(cb_type, "tls-server-end-point") == 0 ? 0 : 1;
        return 10 + 3 * cb + h;
    }
    return 0;
}

const char *xt_sasl_cb_type(const xt_sasl *s)
{
    return s && s->cbflag == 'p' ? s->cb_type : NULL;
}

int xt_sasl_cb_guessed(const xt_sasl *s)
{
    return s && s->cbflag == 'p' && s->cb_guessed;
}

char xt_sasl_cb_flag(const xt_sasl *s)
{
    return s ? s->cbflag : 0;
}

int xt_sasl_same_choice(const xt_sasl *a, const xt_sasl *b)
{
    return a && b && a->mech == b->mech && a->cbflag == b->cbflag &&
           strcmp(a->cb_type, b->cb_type) == 0;
}

const char *xt_sasl_detail(const xt_sasl *s)
{
    if (!s)
        return NULL;
    if (s->scram && xt_scram_detail(s->scram))
        return xt_scram_detail(s->scram);
    return s->detail;
}

static int sasl_fail(xt_sasl *s, int rc, const char *why)
{
    s->state = S_FAILED;
    s->detail = why;
    return rc;
}

int xt_sasl_initial(xt_sasl *s, xt_buf *out)
{
    if (!s || !out)
        return XT_EINVAL;
    if (s->state != S_INIT)
        return XT_ESTATE;
    int rc;
    if (s->mech->kind == MECH_PLAIN) {
        /* RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd.
         * C strings cannot hold NUL, so no field can smuggle one in. */
        size_t mark = xt_buf_size(out); /* relative: an append may compact */
        rc = s->authzid ? xt_buf_append_str(out, s->authzid) : 0;
        if (!rc)
            rc = xt_buf_append_byte(out, 0);
        if (!rc)
            rc = xt_buf_append_str(out, s->authcid);
        if (!rc)
            rc = xt_buf_append_byte(out, 0);
        if (!rc)
            rc = xt_buf_append_str(out, s->password);
        if (rc) {
            xt_buf_truncate_wipe(out, mark);
        }
        /* The password is sent; keep no copy. */
        xt_free_secret(s->mem, s->password);
        s->password = NULL;
    } else {
        rc = xt_scram_client_first(s->scram, out);
    }
    if (rc)
        return sasl_fail(s, rc, "could not build the initial response");
    s->state = S_INITIAL_SENT;
    return 0;
}

int xt_sasl_step(xt_sasl *s, const uint8_t *challenge, size_t len, xt_buf *out)
{
    if (!s || !out || (!challenge && len))
        return XT_EINVAL;
    if (s->mech->kind == MECH_PLAIN)
        return sasl_fail(s, XT_EPROTO, "challenge received for PLAIN");
    int rc;
    switch (s->state) {
    case S_INITIAL_SENT:
        rc = xt_scram_client_final(s->scram, challenge, len, out);
        if (rc)
            return sasl_fail(s, rc, NULL);
        s->state = S_FINAL_SENT;
        return 0;
    case S_FINAL_SENT:
        /* Some servers send server-final in a <challenge/> and expect an
         * empty <response/> before <success/> (RFC 6120 §6.3.10 permits
         * both forms). Verify it now; the response is empty. */
        rc = xt_scram_server_final(s->scram, challenge, len);
        if (rc)
            return sasl_fail(s, rc, NULL);
        s->state = S_VERIFIED;
        return 0;
    default:
        return sasl_fail(s, XT_EPROTO, "unexpected SASL challenge");
    }
}

int xt_sasl_success(xt_sasl *s, const uint8_t *data, size_t len)
{
    if (!s || (!data && len))
        return XT_EINVAL;
    int rc;
    if (s->mech->kind == MECH_PLAIN) {
        if (s->state != S_INITIAL_SENT)
            return sasl_fail(s, XT_EPROTO, "unexpected SASL success");
        if (len != 0)
            return sasl_fail(s, XT_EPROTO, "PLAIN success carries unexpected data");
        s->state = S_DONE;
        return 0;
    }
    switch (s->state) {
    case S_FINAL_SENT:
        /* RFC 5802 §9 / RFC 6120 §6.3.10: the server proves it knows the
         * password with v= in the additional data. A <success/> without
         * it is exactly what an impostor would send. */
        if (len == 0)
            return sasl_fail(s, XT_EDOWNGRADE, "success without server signature");
        rc = xt_scram_server_final(s->scram, data, len);
        if (rc)
            return sasl_fail(s, rc, NULL);
        s->state = S_DONE;
        return 0;
    case S_VERIFIED:
        if (len != 0)
            return sasl_fail(s, XT_EPROTO, "unexpected data after the server signature");
        s->state = S_DONE;
        return 0;
    case S_INITIAL_SENT:
        return sasl_fail(s, XT_EDOWNGRADE, "success before the SCRAM exchange finished");
    default:
        return sasl_fail(s, XT_EPROTO, "unexpected SASL success");
    }
}
