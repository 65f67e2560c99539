/*
 * XEP-0484 FAST's HT-* mechanisms; see fast.h.
 */
#include "core/fast.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/mem.h"
#include "xtalk/common.h"

static const struct {
    const char *suffix, *cb;
    int rank;
} cbs[] = {
    {"EXPR", "tls-exporter", 4},
    {"UNIQ", "tls-unique", 4},
    {"ENDP", "tls-server-end-point", 3},
    {"NONE", "", 1},
};

/* The hash of "HT-<HASH>-<CB>" and the index of <CB> in cbs, or NULL. */
static const EVP_MD *parse(const char *mech, size_t *cbi, int *hash_rank)
{
    const EVP_MD *md = NULL;
    const char *rest = NULL;
    if (!mech)
        return NULL;
    if (strncmp(mech, "HT-SHA-256-", 11) == 0) {
        md = EVP_sha256();
        rest = mech + 11;
        *hash_rank = 0;
    } else if (strncmp(mech, "HT-SHA-512-", 11) == 0) {
        md = EVP_sha512();
        rest = mech + 11;
        *hash_rank = 1;
    } else {
        return NULL;
    }
    for (size_t i = 0; i < sizeof cbs / sizeof cbs[0]; i++)
        if (strcmp(rest, cbs[i].suffix) == 0) {
            *cbi = i;
            return md;
        }
    return NULL;
}

const char *xt_fast_cb_type(const char *mech)
{
    size_t i;
    int h;
    return parse(mech, &i, &h) ? cbs[i].cb : NULL;
}

int xt_fast_rank(const char *mech)
{
    size_t i;
    int h;
    return parse(mech, &i, &h) ? cbs[i].rank * 2 + h : 0;
}

/* HMAC(token, label || cb) into out (EVP_MAX_MD_SIZE), its length in *n. */
static int ht_mac(const EVP_MD *md, const char *token, const char *label, const uint8_t *cb,
                  size_t cblen, uint8_t *out, unsigned *n)
{
    size_t ll = strlen(label);
    uint8_t *msg = OPENSSL_malloc(ll + cblen + 1);
    if (!msg)
        return XT_ENOMEM;
    memcpy(msg, label, ll);
    if (cblen)
        memcpy(msg + ll, cb, cblen);
    const unsigned char *r = HMAC(md, token, (int)strlen(token), msg, ll + cblen, out, n);
    OPENSSL_free(msg);
    return r ? 0 : XT_ENOMEM;
}

int xt_fast_initial(const char *mech, const char *authcid, const char *token, const uint8_t *cb,
                    size_t cblen, xt_buf *out)
{
    size_t i;
    int h;
    const EVP_MD *md = parse(mech, &i, &h);
    if (!md || !authcid || !*authcid || !token || !*token)
        return XT_EINVAL;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    int rc = ht_mac(md, token, "Initiator", cb, cblen, mac, &n);
    if (!rc)
        rc = xt_buf_append(out, authcid, strlen(authcid) + 1); /* with its NUL */
    if (!rc)
        rc = xt_buf_append(out, mac, n);
    xt_wipe(mac, sizeof mac);
    return rc;
}

int xt_fast_verify(const char *mech, const char *token, const uint8_t *cb, size_t cblen,
                   const uint8_t *data, size_t len)
{
    size_t i;
    int h;
    const EVP_MD *md = parse(mech, &i, &h);
    if (!md || !token)
        return XT_EINVAL;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    int rc = ht_mac(md, token, "Responder", cb, cblen, mac, &n);
    if (!rc && (len != n || CRYPTO_memcmp(mac, data, n) != 0))
        rc = XT_EDOWNGRADE;
    xt_wipe(mac, sizeof mac);
    return rc;
}
