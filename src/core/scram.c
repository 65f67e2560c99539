/*
 * SCRAM client (RFC 5802; SHA-256 per RFC 7677; SHA-512 by the same
 * construction). All crypto is OpenSSL's: PKCS5_PBKDF2_HMAC for Hi(),
 * HMAC() and EVP_Digest() for the keys, CRYPTO_memcmp for the server
 * signature; the nonce's bytes come from xt_random_bytes (base/random.c).
 *
 * RFC 5802 §3:
 *   SaltedPassword  := Hi(Normalize(password), salt, i)
 *   ClientKey       := HMAC(SaltedPassword, "Client Key")
 *   StoredKey       := H(ClientKey)
 *   AuthMessage     := client-first-message-bare + "," +
 *                      server-first-message + "," +
 *                      client-final-message-without-proof
 *   ClientSignature := HMAC(StoredKey, AuthMessage)
 *   ClientProof     := ClientKey XOR ClientSignature
 *   ServerKey       := HMAC(SaltedPassword, "Server Key")
 *   ServerSignature := HMAC(ServerKey, AuthMessage)
 *
 * Invariant: every buffer that held the password or a key is wiped
 * before it is freed or goes out of scope.
 */
#include "core/scram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/mem.h"
#include "base/random.h"
#include "core/base64.h"

#define SCRAM_MAX_HASH  64 /* SHA-512 */
#define SCRAM_NONCE_RAW 24 /* 192 random bits -> 32 base64 characters */

enum scram_state {
    ST_NEW,
    ST_FIRST_SENT,
    ST_FINAL_SENT,
    ST_DONE,
    ST_FAILED,
};

struct xt_scram {
    const xt_mem *mem;
    xt_mem mem_copy;
    xt_scram_hash hash;
    size_t hlen;
    enum scram_state state;
    char *password;     /* secret */
    char *username;     /* escaped saslname */
    xt_buf gs2;         /* gs2-header, then the channel-binding data */
    size_t gs2_hdr_len; /* length of the header part of gs2 */
    char *nonce;        /* our client nonce */
    char *final_ext;
    char *first_bare; /* client-first-message-bare */
    char *auth_message;
    uint8_t server_sig[SCRAM_MAX_HASH]; /* expected ServerSignature */
    xt_scram_salted *cache;             /* not owned */
    uint32_t max_iter;
    char iter_why[256];
    char *ssdp; /* XEP-0474 offer string, or NULL */ /* detail for a count above max_iter */
    const char *detail;                 /* static reason */
    char *detail_owned;                 /* server's e= value */
};

static const EVP_MD *scram_md(xt_scram_hash h)
{
    switch (h) {
    case XT_SCRAM_SHA1:
        return EVP_sha1();
    case XT_SCRAM_SHA256:
        return EVP_sha256();
    case XT_SCRAM_SHA512:
        return EVP_sha512();
    }
    return NULL;
}

uint32_t xt_scram_default_max_iterations(xt_scram_hash h)
{
    return h == XT_SCRAM_SHA512 ? 300000u : 600000u;
}

size_t xt_scram_hash_len(xt_scram_hash h)
{
    switch (h) {
    case XT_SCRAM_SHA1:
        return 20;
    case XT_SCRAM_SHA256:
        return 32;
    case XT_SCRAM_SHA512:
        return 64;
    }
    return 0;
}

int xt_scram_salted_compute(xt_scram_salted *c, const char *password)
{
    size_t h = c ? xt_scram_hash_len(c->hash) : 0;
    if (!c || !password || !h || c->salt_len == 0 || c->salt_len > XT_SCRAM_SALT_MAX ||
        c->iterations < XT_SCRAM_MIN_ITERATIONS || c->iterations > XT_SCRAM_MAX_ITERATIONS)
        return XT_EINVAL;
    c->valid = 0;
    int rc = xt_scram_pbkdf2(c->hash, (const uint8_t *)password, strlen(password), c->salt,
                             c->salt_len, c->iterations, c->key, h);
    c->valid = rc == 0;
    return rc;
}

int xt_scram_pbkdf2(xt_scram_hash h, const uint8_t *pw, size_t pwlen, const uint8_t *salt,
                    size_t saltlen, uint32_t iterations, uint8_t *out, size_t outlen)
{
    const EVP_MD *md = scram_md(h);
    if (!md || (!pw && pwlen) || (!salt && saltlen) || !out || iterations < 1 ||
        iterations > INT32_MAX || pwlen > INT32_MAX || saltlen > INT32_MAX || outlen > INT32_MAX)
        return XT_EINVAL;
    /* OpenSSL wants non-NULL pointers even for zero lengths. */
    static const uint8_t empty[1] = {0};
    if (!PKCS5_PBKDF2_HMAC(pw ? (const char *)pw : (const char *)empty, (int)pwlen,
                           salt ? salt : empty, (int)saltlen, (int)iterations, md, (int)outlen,
                           out))
        return XT_ENOMEM;
    return 0;
}

/* ---- escaping and the GS2 header ---- */

int xt_scram_saslname_escape(xt_buf *out, const char *name, size_t len)
{
    if (!out || (!name && len))
        return XT_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int rc;
        if (name[i] == ',')
            rc = xt_buf_append(out, "=2C", 3);
        else if (name[i] == '=')
            rc = xt_buf_append(out, "=3D", 3);
        else
            rc = xt_buf_append_byte(out, (uint8_t)name[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int xt_scram_saslname_unescape(xt_buf *out, const char *s, size_t len)
{
    if (!out || (!s && len))
        return XT_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int rc;
        if (s[i] == '=') {
            /* RFC 5802 §5.1: '=' not followed by "2C" or "3D" (upper
             * case) MUST fail. */
            if (len - i < 3)
                return XT_EPROTO;
            if (s[i + 1] == '2' && s[i + 2] == 'C')
                rc = xt_buf_append_byte(out, ',');
            else if (s[i + 1] == '3' && s[i + 2] == 'D')
                rc = xt_buf_append_byte(out, '=');
            else
                return XT_EPROTO;
            i += 2;
        } else if (s[i] == ',') {
            return XT_EPROTO; /* ',' must have been escaped */
        } else {
            rc = xt_buf_append_byte(out, (uint8_t)s[i]);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* RFC 5802 §7: cb-name = 1*(ALPHA / DIGIT / "." / "-") */
static int valid_cb_name(const char *t)
{
    if (!t || !*t)
        return 0;
    for (; *t; t++) {
        char c = *t;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

int xt_scram_gs2_header(xt_buf *out, char cbflag, const char *cb_type, const char *authzid)
{
    int rc;
    if (!out)
        return XT_EINVAL;
    if (cbflag == 'n' || cbflag == 'y') {
        rc = xt_buf_append_byte(out, (uint8_t)cbflag);
    } else if (cbflag == 'p') {
        if (!valid_cb_name(cb_type))
            return XT_EINVAL;
        if ((rc = xt_buf_append(out, "p=", 2)) == 0)
            rc = xt_buf_append_str(out, cb_type);
    } else {
        return XT_EINVAL;
    }
    if (rc == 0)
        rc = xt_buf_append_byte(out, ',');
    if (rc == 0 && authzid && *authzid) {
        if ((rc = xt_buf_append(out, "a=", 2)) == 0)
            rc = xt_scram_saslname_escape(out, authzid, strlen(authzid));
    }
    if (rc == 0)
        rc = xt_buf_append_byte(out, ',');
    return rc;
}

/* RFC 5802 §7: printable = %x21-2B / %x2D-7E (no ','). */
static int valid_nonce(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x21 || c > 0x7e || c == ',')
            return 0;
    }
    return 1;
}

/* ---- object ---- */

void xt_scram_free(xt_scram *s)
{
    if (!s)
        return;
    const xt_mem *mem = s->mem;
    xt_free_secret(mem, s->password);
    xt_free(mem, s->username);
    xt_buf_free_wipe(&s->gs2);
    xt_free(mem, s->nonce);
    xt_free(mem, s->final_ext);
    xt_free(mem, s->ssdp);
    xt_free(mem, s->first_bare);
    xt_free(mem, s->auth_message);
    xt_free(mem, s->detail_owned);
    /* s->mem may point into s itself (mem_copy): keep the hooks past the wipe. */
    xt_mem hooks = mem ? *mem : (xt_mem){0};
    xt_wipe(s, sizeof *s);
    xt_free(mem ? &hooks : NULL, s);
}

static int make_nonce(xt_scram *s, xt_random_fn random, void *random_ud)
{
    uint8_t raw[SCRAM_NONCE_RAW];
    xt_buf b;
    if (xt_random_bytes(random, random_ud, raw, sizeof raw))
        return XT_ENOMEM; /* no entropy: refuse rather than guessable */
    xt_buf_init(&b, s->mem);
    int rc = xt_base64_encode(&b, raw, sizeof raw);
    xt_wipe(raw, sizeof raw);
    if (rc == 0) {
        /* Base64 is printable and has no ','; '=' cannot occur since 24
         * bytes is whole quanta. */
        char *str = xt_buf_cstr(&b);
        s->nonce = str ? xt_strdup(s->mem, str) : NULL;
        rc = s->nonce ? 0 : XT_ENOMEM;
    }
    xt_buf_free(&b);
    return rc;
}

int xt_scram_new(const xt_mem *mem, const xt_scram_params *p, xt_scram **out)
{
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    if (!p || !scram_md(p->hash) || !p->username || !*p->username || !p->password)
        return XT_EINVAL;
    if (p->cbflag == 'p' && (!valid_cb_name(p->cb_type) || !p->cb_data || p->cb_len == 0))
        return XT_EINVAL;
    if (p->cbflag != 'n' && p->cbflag != 'y' && p->cbflag != 'p')
        return XT_EINVAL;
    if (p->nonce && !valid_nonce(p->nonce, strlen(p->nonce)))
        return XT_EINVAL;

    xt_scram *s = xt_calloc(mem, 1, sizeof *s);
    if (!s)
        return XT_ENOMEM;
    if (mem) {
        s->mem_copy = *mem;
        s->mem = &s->mem_copy;
    }
    s->hash = p->hash;
    s->hlen = xt_scram_hash_len(p->hash);
    s->state = ST_NEW;
    xt_buf_init(&s->gs2, s->mem);

    int rc = XT_ENOMEM;
    xt_buf u;
    xt_buf_init(&u, s->mem);
    s->password = xt_strdup(s->mem, p->password);
    if (!s->password)
        goto fail;
    if ((rc = xt_scram_saslname_escape(&u, p->username, strlen(p->username))) != 0)
        goto fail;
    rc = XT_ENOMEM;
    const char *ustr = xt_buf_cstr(&u);
    if (!ustr || !(s->username = xt_strdup(s->mem, ustr)))
        goto fail;
    if ((rc = xt_scram_gs2_header(&s->gs2, p->cbflag, p->cb_type, p->authzid)) != 0)
        goto fail;
    s->gs2_hdr_len = xt_buf_size(&s->gs2);
    s->cache = p->cache;
    s->max_iter = p->max_iterations ? p->max_iterations : xt_scram_default_max_iterations(p->hash);
    if (s->max_iter > XT_SCRAM_MAX_ITERATIONS)
        s->max_iter = XT_SCRAM_MAX_ITERATIONS;
    /* RFC 5802 §7: c= is base64(gs2-header [cbind-data]); the data is
     * only present with 'p'. */
    if (p->cbflag == 'p' && (rc = xt_buf_append(&s->gs2, p->cb_data, p->cb_len)) != 0)
        goto fail;
    rc = XT_ENOMEM;
    if (p->final_ext && !(s->final_ext = xt_strdup(s->mem, p->final_ext)))
        goto fail;
    if (p->ssdp && !(s->ssdp = xt_strdup(s->mem, p->ssdp)))
        goto fail;
    if (p->nonce) {
        if (!(s->nonce = xt_strdup(s->mem, p->nonce)))
            goto fail;
    } else if ((rc = make_nonce(s, p->random, p->random_ud)) != 0) {
        goto fail;
    }
    xt_buf_free(&u);
    *out = s;
    return 0;
fail:
    xt_buf_free(&u);
    xt_scram_free(s);
    return rc;
}

const char *xt_scram_detail(const xt_scram *s)
{
    if (!s)
        return NULL;
    return s->detail_owned ? s->detail_owned : s->detail;
}

const char *xt_scram_auth_message(const xt_scram *s)
{
    return s ? s->auth_message : NULL;
}

static int scram_fail(xt_scram *s, int rc, const char *why)
{
    s->state = ST_FAILED;
    s->detail = why;
    return rc;
}

int xt_scram_client_first(xt_scram *s, xt_buf *out)
{
    if (!s || !out)
        return XT_EINVAL;
    if (s->state != ST_NEW)
        return XT_ESTATE;
    xt_buf b;
    xt_buf_init(&b, s->mem);
    int rc = xt_buf_append(&b, "n=", 2);
    if (!rc)
        rc = xt_buf_append_str(&b, s->username);
    if (!rc)
        rc = xt_buf_append(&b, ",r=", 3);
    if (!rc)
        rc = xt_buf_append_str(&b, s->nonce);
    const char *bare = rc ? NULL : xt_buf_cstr(&b);
    if (!rc && (!bare || !(s->first_bare = xt_strdup(s->mem, bare))))
        rc = XT_ENOMEM;
    xt_buf_free(&b);
    if (rc)
        return scram_fail(s, rc, "out of memory");
    size_t mark = xt_buf_size(out); /* relative: an append may compact */
    rc = xt_buf_append(out, xt_buf_head(&s->gs2), s->gs2_hdr_len);
    if (!rc)
        rc = xt_buf_append_str(out, s->first_bare);
    if (rc) {
        xt_buf_truncate(out, mark);
        return scram_fail(s, rc, "out of memory");
    }
    s->state = ST_FIRST_SENT;
    return 0;
}

/*
 * One "a=value" attribute of a SCRAM message starting at *pos, ending at
 * ',' or the end. Returns the attribute letter (0 when malformed) and the
 * value span.
 */
static char next_attr(const char *m, size_t len, size_t *pos, const char **val, size_t *vlen)
{
    size_t i = *pos;
    if (i + 2 > len || m[i + 1] != '=')
        return 0;
    char a = m[i];
    if (!((a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z')))
        return 0;
    size_t start = i + 2, end = start;
    while (end < len && m[end] != ',')
        end++;
    *val = m + start;
    *vlen = end - start;
    *pos = end < len ? end + 1 : end; /* skip ',' */
    if (end < len && end + 1 == len)
        return 0; /* trailing ',' */
    return a;
}

/* posit-number = %x31-39 *DIGIT (RFC 5802 §7), bounded. */
static int parse_iterations(const char *v, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10 || v[0] < '1' || v[0] > '9')
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > UINT32_MAX)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

static int hmac(const xt_scram *s, const uint8_t *key, size_t klen, const void *data, size_t dlen,
                uint8_t *out)
{
    unsigned int olen = 0;
    if (!HMAC(scram_md(s->hash), key, (int)klen, data, dlen, out, &olen) || olen != s->hlen)
        return XT_ENOMEM;
    return 0;
}

/* ---- XEP-0474 SASL SCRAM Downgrade Protection ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted by byte value (XEP-0474 §3), joined by `sep`. */
static int append_sorted(xt_buf *out, const char *const *v, size_t n, char sep)
{
    const char *tmp[64];
    if (n > sizeof tmp / sizeof *tmp)
        return XT_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!v[i] || strchr(v[i], 0x1e) || strchr(v[i], 0x1f))
            return XT_EINVAL;
        tmp[i] = v[i];
    }
    qsort(tmp, n, sizeof *tmp, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i)
            rc = xt_buf_append_byte(out, sep);
        if (!rc)
            rc = xt_buf_append_str(out, tmp[i]);
    }
    return rc;
}

int xt_scram_ssdp_string(xt_buf *out, const char *const *mechs, size_t nmechs,
                         const char *const *cbtypes, size_t ncb, int cb_advertised)
{
    if (!out || (!mechs && nmechs) || (!cbtypes && ncb))
        return XT_EINVAL;
    int rc = append_sorted(out, mechs, nmechs, 0x1e);
    if (!rc && cb_advertised) {
        rc = xt_buf_append_byte(out, 0x1f);
        if (!rc)
            rc = append_sorted(out, cbtypes, ncb, 0x1e);
    }
    return rc;
}

/* h= is base64(H(ssdp)) with the exchange's hash, or the offer was
 * changed between the server and us. */
static int check_ssdp(xt_scram *s, const char *v, size_t vlen)
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    if (!EVP_Digest(s->ssdp, strlen(s->ssdp), d, &dlen, scram_md(s->hash), NULL))
        return scram_fail(s, XT_ENOMEM, "out of memory");
    xt_buf want;
    xt_buf_init(&want, s->mem);
    int rc = xt_base64_encode(&want, d, dlen);
    if (rc) {
        xt_buf_free(&want);
        return scram_fail(s, rc, "out of memory");
    }
    int same = xt_buf_size(&want) == vlen && memcmp(xt_buf_head(&want), v, vlen) == 0;
    xt_buf_free(&want);
    if (same)
        return 0;
    /* The offer we saw, printable: the separators as ',' and ' | '. */
    char seen[96];
    size_t o = 0;
    for (const char *q = s->ssdp; *q && o + 4 < sizeof seen; q++) {
        if (*q == 0x1f) {
            memcpy(seen + o, " | ", 3);
            o += 3;
        } else {
            seen[o++] = *q == 0x1e ? ',' : *q;
        }
    }
    seen[o] = '\0';
    snprintf(s->iter_why, sizeof s->iter_why,
             "XEP-0474 downgrade protection: the server says it offered other mechanisms or "
             "channel bindings than the %.96s we were shown; someone changed the offer",
             seen);
    return scram_fail(s, XT_EDOWNGRADE, s->iter_why);
}

int xt_scram_client_final(xt_scram *s, const uint8_t *msg, size_t len, xt_buf *out)
{
    if (!s || !out || (!msg && len))
        return XT_EINVAL;
    if (s->state != ST_FIRST_SENT)
        return XT_ESTATE;
    const char *m = (const char *)msg;
    size_t pos = 0;
    const char *v;
    size_t vlen;

    /* Server data is not trusted to be text: reject NUL and control
     * bytes early so later strdup/strlen see what we checked. */
    for (size_t i = 0; i < len; i++)
        if (msg[i] < 0x20 || msg[i] == 0x7f)
            return scram_fail(s, XT_EPROTO, "control character in server-first-message");

    char a = next_attr(m, len, &pos, &v, &vlen);
    /* RFC 5802 §5.1 m: reserved for mandatory extensions; its presence
     * MUST cause authentication failure. */
    if (a == 'm')
        return scram_fail(s, XT_EPROTO, "server requires an unsupported mandatory extension (m=)");
    if (a != 'r')
        return scram_fail(s, XT_EPROTO, "server-first-message does not start with r=");
    /* RFC 5802 §5.1 r: the client MUST verify that the nonce starts with
     * its own; it must also be longer, or the server added no
     * randomness of its own (a replayed or reflected exchange). */
    size_t cn = strlen(s->nonce);
    if (vlen <= cn || memcmp(v, s->nonce, cn) != 0)
        return scram_fail(s, XT_EPROTO, "server nonce does not extend the client nonce");
    if (!valid_nonce(v, vlen))
        return scram_fail(s, XT_EPROTO, "server nonce has invalid characters");
    const char *full_nonce = v;
    size_t full_nonce_len = vlen;

    if (next_attr(m, len, &pos, &v, &vlen) != 's' || vlen == 0)
        return scram_fail(s, XT_EPROTO, "server-first-message lacks a salt (s=)");
    xt_buf salt;
    xt_buf_init(&salt, s->mem);
    int rc = xt_base64_decode(&salt, v, vlen);
    if (rc || xt_buf_size(&salt) == 0) {
        xt_buf_free(&salt);
        return scram_fail(s, rc == XT_ENOMEM ? XT_ENOMEM : XT_EPROTO, "salt is not valid base64");
    }

    uint32_t iter = 0;
    if (next_attr(m, len, &pos, &v, &vlen) != 'i' || parse_iterations(v, vlen, &iter) != 0) {
        xt_buf_free(&salt);
        return scram_fail(s, XT_EPROTO, "iteration count (i=) missing or not a positive number");
    }
    if (iter < XT_SCRAM_MIN_ITERATIONS || iter > s->max_iter) {
        xt_buf_free(&salt);
        if (iter < XT_SCRAM_MIN_ITERATIONS)
            return scram_fail(s, XT_EPROTO, "iteration count too low (below 4096, RFC 7677 §4)");
        snprintf(s->iter_why, sizeof s->iter_why,
                 "the server asks for %lu SCRAM iterations, above the limit of %lu (each login "
                 "would cost that much CPU); raise the limit if the server is right",
                 (unsigned long)iter, (unsigned long)s->max_iter);
        return scram_fail(s, XT_EPROTO, s->iter_why);
    }
    /* Optional extensions are covered by AuthMessage; we check that they
     * are well formed, and XEP-0474's h= against the offer we saw. */
    while (pos < len) {
        a = next_attr(m, len, &pos, &v, &vlen);
        if (!a) {
            xt_buf_free(&salt);
            return scram_fail(s, XT_EPROTO, "malformed extension in server-first-message");
        }
        if (a == 'h' && s->ssdp && (rc = check_ssdp(s, v, vlen)) != 0) {
            xt_buf_free(&salt);
            return rc;
        }
    }

    /* client-final-message-without-proof = channel-binding "," nonce
     * ["," extensions] */
    xt_buf cfw;
    xt_buf_init(&cfw, s->mem);
    rc = xt_buf_append(&cfw, "c=", 2);
    if (!rc)
        rc = xt_base64_encode(&cfw, xt_buf_head(&s->gs2), xt_buf_size(&s->gs2));
    if (!rc)
        rc = xt_buf_append(&cfw, ",r=", 3);
    if (!rc)
        rc = xt_buf_append(&cfw, full_nonce, full_nonce_len);
    if (!rc && s->final_ext) {
        if (!(rc = xt_buf_append_byte(&cfw, ',')))
            rc = xt_buf_append_str(&cfw, s->final_ext);
    }

    xt_buf am;
    xt_buf_init(&am, s->mem);
    if (!rc)
        rc = xt_buf_append_str(&am, s->first_bare);
    if (!rc)
        rc = xt_buf_append_byte(&am, ',');
    if (!rc)
        rc = xt_buf_append(&am, msg, len);
    if (!rc)
        rc = xt_buf_append_byte(&am, ',');
    if (!rc)
        rc = xt_buf_append(&am, xt_buf_head(&cfw), xt_buf_size(&cfw));
    const char *amstr = rc ? NULL : xt_buf_cstr(&am);
    if (!rc && (!amstr || !(s->auth_message = xt_strdup(s->mem, amstr))))
        rc = XT_ENOMEM;

    uint8_t salted[SCRAM_MAX_HASH], ckey[SCRAM_MAX_HASH], skey[SCRAM_MAX_HASH];
    uint8_t stored[SCRAM_MAX_HASH], csig[SCRAM_MAX_HASH], proof[SCRAM_MAX_HASH];
    size_t h = s->hlen;
    xt_scram_salted *c = s->cache;
    if (!rc && c && c->valid && c->hash == s->hash && c->iterations == iter &&
        c->salt_len == xt_buf_size(&salt) && memcmp(c->salt, xt_buf_head(&salt), c->salt_len) == 0) {
        memcpy(salted, c->key, h); /* RFC 5802 §5.1 */
    } else if (!rc) {
        rc = xt_scram_pbkdf2(s->hash, (const uint8_t *)s->password, strlen(s->password),
                             xt_buf_head(&salt), xt_buf_size(&salt), iter, salted, h);
        if (!rc && c && xt_buf_size(&salt) <= XT_SCRAM_SALT_MAX) {
            c->hash = s->hash;
            c->iterations = iter;
            c->salt_len = xt_buf_size(&salt);
            memcpy(c->salt, xt_buf_head(&salt), c->salt_len);
            memcpy(c->key, salted, h);
            c->valid = 1;
        }
    }
    if (!rc)
        rc = hmac(s, salted, h, "Client Key", 10, ckey);
    if (!rc)
        rc = hmac(s, salted, h, "Server Key", 10, skey);
    if (!rc && !EVP_Digest(ckey, h, stored, NULL, scram_md(s->hash), NULL))
        rc = XT_ENOMEM;
    if (!rc)
        rc = hmac(s, stored, h, s->auth_message, strlen(s->auth_message), csig);
    if (!rc)
        rc = hmac(s, skey, h, s->auth_message, strlen(s->auth_message), s->server_sig);
    if (!rc) {
        for (size_t i = 0; i < h; i++)
            proof[i] = ckey[i] ^ csig[i];
    }

    size_t mark = xt_buf_size(out); /* relative: an append may compact */
    if (!rc)
        rc = xt_buf_append(out, xt_buf_head(&cfw), xt_buf_size(&cfw));
    if (!rc)
        rc = xt_buf_append(out, ",p=", 3);
    if (!rc)
        rc = xt_base64_encode(out, proof, h);
    if (rc)
        xt_buf_truncate_wipe(out, mark); /* a partial proof */

    xt_wipe(salted, sizeof salted);
    xt_wipe(ckey, sizeof ckey);
    xt_wipe(skey, sizeof skey);
    xt_wipe(stored, sizeof stored);
    xt_wipe(csig, sizeof csig);
    xt_wipe(proof, sizeof proof);
    xt_buf_free(&salt);
    xt_buf_free(&cfw);
    xt_buf_free(&am);
    /* The password is not needed any more. */
    xt_free_secret(s->mem, s->password);
    s->password = NULL;
    if (rc)
        return scram_fail(s, rc, rc == XT_ENOMEM ? "out of memory" : "internal error");
    s->state = ST_FINAL_SENT;
    return 0;
}

int xt_scram_server_final(xt_scram *s, const uint8_t *msg, size_t len)
{
    if (!s || (!msg && len))
        return XT_EINVAL;
    if (s->state != ST_FINAL_SENT)
        return XT_ESTATE;
    const char *m = (const char *)msg;
    size_t pos = 0;
    const char *v;
    size_t vlen;
    for (size_t i = 0; i < len; i++)
        if (msg[i] < 0x20 || msg[i] == 0x7f)
            return scram_fail(s, XT_EPROTO, "control character in server-final-message");

    char a = len ? next_attr(m, len, &pos, &v, &vlen) : 0;
    if (a == 'e') {
        /* RFC 5802 §7 server-error: report the server's reason. */
        s->state = ST_FAILED;
        xt_free(s->mem, s->detail_owned);
        s->detail_owned = xt_strndup(s->mem, v, vlen);
        s->detail = "server error";
        return XT_EAUTH;
    }
    if (a != 'v')
        return scram_fail(s, XT_EDOWNGRADE, "server-final-message lacks the verifier (v=)");
    xt_buf sig;
    xt_buf_init(&sig, s->mem);
    int rc = xt_base64_decode(&sig, v, vlen);
    if (rc == XT_ENOMEM) {
        xt_buf_free(&sig);
        return scram_fail(s, rc, "out of memory");
    }
    if (rc || xt_buf_size(&sig) != s->hlen) {
        xt_buf_free(&sig);
        return scram_fail(s, XT_EPROTO, "server signature is malformed");
    }
    /* Constant time: a timing oracle on the comparison would let a
     * forger learn the signature byte by byte. */
    int diff = CRYPTO_memcmp(xt_buf_head(&sig), s->server_sig, s->hlen);
    xt_buf_free(&sig);
    if (diff)
        return scram_fail(s, XT_EDOWNGRADE,
                          "server signature mismatch: server does not know the "
                          "password (or the exchange was tampered with)");
    while (pos < len) {
        if (!next_attr(m, len, &pos, &v, &vlen))
            return scram_fail(s, XT_EPROTO, "malformed extension in server-final-message");
    }
    xt_wipe(s->server_sig, sizeof s->server_sig);
    s->state = ST_DONE;
    s->detail = NULL;
    return 0;
}
