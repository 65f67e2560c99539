/* TLS client over memory buffers (see tls.h for the contract). */
#include "net/tls.h"

#include <stdint.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/buf.h"
#include "base/hex.h"
#include "base/mem.h"

/* The trust store is filled on first need, not when the context is made
 * (see xt_tls_ctx_load_trust). */
enum trust_state { TRUST_PENDING = 0, TRUST_LOADED, TRUST_FAILED };

struct xt_tls_ctx {
    SSL_CTX *ssl_ctx;
    BIO_METHOD *bio_method;   /* our ciphertext BIO (see "ciphertext buffers") */
    char *ca_file;
    int no_system_ca;
    const xt_mem *mem;
    enum trust_state trust;
    int trust_rc;             /* TRUST_FAILED: the error, said to every later caller */
    char *trust_err;          /* ... and its detail (NULL: out of memory) */
};

struct xt_tls {
    SSL *ssl;
    xt_tls_ctx *ctx;          /* outlives us (tls.h) */
    /* Ciphertext from the network (read by the SSL through our BIO) and
     * to it (written by the SSL). Allocated while they hold bytes and
     * released once drained: an idle connection holds neither. */
    xt_buf in, out;
    const xt_mem *mem;
    char *host;
    char *detail;             /* allocated only when something failed */
    int verr;                 /* first X509 verification error seen */
    uint8_t has_pin, no_verify, have_leaf, done, tls13;
    uint8_t nomem;            /* a ciphertext buffer could not grow: sticky */
    uint8_t hello_made;       /* the first handshake step (the ClientHello) ran */
    uint8_t pin[32];
    uint8_t leaf_sha256[32];
    /* Channel bindings, the default (used without a XEP-0440 list) first. */
    uint8_t cb[3][EVP_MAX_MD_SIZE];
    xt_tls_binding cbs[3];
    size_t ncb;
};

/* Ciphertext buffers. The SSL reads and writes through a BIO of our own
 * over two xt_bufs instead of a BIO pair, whose two ring buffers (8 KiB
 * each here) were allocated with the connection and kept for its life:
 * with the SSL's own record buffers released when empty
 * (SSL_MODE_RELEASE_BUFFERS), an idle connection now holds no buffer at
 * all. Incoming ciphertext is read from the socket straight into `in`
 * (16 KiB per read: about one full record, RFC 8446 §5.2); `out` takes what
 * the SSL writes up to XT_TLS_OUT_MAX, beyond which the SSL is told to
 * retry (the caller drains it to the socket first). */
#define XT_TLS_IN_ROOM (16 * 1024)
#define XT_TLS_OUT_MAX (32 * 1024)

static int bio_write(BIO *b, const char *data, size_t n, size_t *written)
{
    xt_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *written = 0;
    size_t room = XT_TLS_OUT_MAX - (xt_buf_size(&t->out) < XT_TLS_OUT_MAX ? xt_buf_size(&t->out)
                                                                          : XT_TLS_OUT_MAX);
    if (n > room)
        n = room;
    if (!n) {
        BIO_set_retry_write(b);
        return 0;
    }
    if (xt_buf_append(&t->out, data, n) < 0) {
        t->nomem = 1; /* no retry flag: the SSL call fails, we say why */
        return 0;
    }
    *written = n;
    return 1;
}

static int bio_read(BIO *b, char *buf, size_t n, size_t *got)
{
    xt_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *got = 0;
    size_t have = xt_buf_size(&t->in);
    if (!have) {
        BIO_set_retry_read(b);
        return 0;
    }
    if (n > have)
        n = have;
    memcpy(buf, xt_buf_head(&t->in), n);
    xt_buf_consume(&t->in, n);
    if (!xt_buf_size(&t->in))
        xt_buf_free(&t->in); /* drained: released */
    *got = n;
    return 1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    xt_tls *t = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return t ? (long)xt_buf_size(&t->in) : 0;
    case BIO_CTRL_WPENDING:
        return t ? (long)xt_buf_size(&t->out) : 0;
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *bio_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "xtalk ciphertext");
    if (!m)
        return NULL;
    if (!BIO_meth_set_write_ex(m, bio_write) || !BIO_meth_set_read_ex(m, bio_read) ||
        !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

void xt_tls_hex(const uint8_t *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* 64 hex digits, optionally separated by ':' (as `openssl x509
 * -fingerprint` prints them) or spaces. */
static int parse_pin(const char *s, uint8_t out[32])
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        if (*s == ':' || *s == ' ')
            continue;
        int v = xt_hex_value(*s);
        if (v < 0 || n >= 32)
            return XT_EINVAL;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n == 32 && hi < 0 ? 0 : XT_EINVAL;
}

int xt_tls_pin_check(const char *pin_sha256)
{
    uint8_t tmp[32];
    return parse_pin(pin_sha256, tmp);
}

static void set_detail(xt_tls *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_detail(xt_tls *t, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    xt_free(t->mem, t->detail);
    t->detail = xt_strdup(t->mem, tmp); /* NULL on ENOMEM: detail reads "" */
}

/* --- shared context ------------------------------------------------------ */

static int verify_cb(int ok, X509_STORE_CTX *x);

/* 1 when the file name is one `openssl rehash` (c_rehash) makes for a
 * certificate: eight hex digits of the subject name hash, a dot and a
 * sequence number ("9d04f354.0"). CRLs ("....r0") do not count. */
static int hashed_name(const char *n)
{
    for (int i = 0; i < 8; i++)
        if (xt_hex_value(n[i]) < 0)
            return 0;
    if (n[8] != '.' || n[9] < '0' || n[9] > '9')
        return 0;
    for (n += 10; *n; n++)
        if (*n < '0' || *n > '9')
            return 0;
    return 1;
}

/* 1 when one of the directories in `dirs` (':'-separated, as OpenSSL
 * reads SSL_CERT_DIR) holds at least one hashed certificate name. Stops
 * at the first: on Debian's /etc/ssl/certs that is a few readdir()s. */
static int dirs_hashed(const char *dirs)
{
    char path[4096];
    while (*dirs) {
        size_t n = strcspn(dirs, ":");
        if (n > 0 && n < sizeof path) {
            memcpy(path, dirs, n);
            path[n] = '\0';
            DIR *d = opendir(path);
            if (d) {
                const struct dirent *e;
                int found = 0;
                while (!found && (e = readdir(d)) != NULL)
                    found = hashed_name(e->d_name);
                closedir(d);
                if (found)
                    return 1;
            }
        }
        dirs += n;
        if (*dirs == ':')
            dirs++;
    }
    return 0;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* The system trust store, read lazily (issue 14). SSL_CTX_set_default_
 * verify_paths parses the whole bundle (Debian: /etc/ssl/certs/
 * ca-certificates.crt, ~140 roots) into the store at every start: 236 M
 * instructions, ~37 ms, before the first byte is sent, to verify a chain
 * that needs one root. OpenSSL's hashed-directory lookup
 * (X509_LOOKUP_hash_dir) instead opens only the files named for the
 * subject hash of a name the chain asks for, when it asks, and keeps
 * what it read in the store for the next connection on this context.
 * Debian's /etc/ssl/certs is kept hashed by update-ca-certificates.
 *
 * The bundle file is still loaded, whole, where the directory cannot
 * stand for it: when no directory of the store is hashed (a system
 * shipping only a bundle), or when SSL_CERT_FILE names a file other than
 * the system bundle (the user's own roots: honoured as OpenSSL would).
 * SSL_CERT_FILE naming the system bundle itself (some environments
 * export it for every program) adds nothing the hashed directory lacks:
 * update-ca-certificates writes both from the same roots. So never fewer
 * roots than before, only fewer parsed for nothing. The environment is
 * read with getenv, as OpenSSL's own defaults are outside setuid
 * programs (a setuid user of the library passes XT_CLIENT_NO_SYSTEM_CA
 * and a ca_file). */
static int add_system_store(SSL_CTX *sc)
{
    X509_STORE *st = SSL_CTX_get_cert_store(sc);
    const char *dirs = getenv(X509_get_default_cert_dir_env());
    const char *file = getenv(X509_get_default_cert_file_env());
    const char *bundle = X509_get_default_cert_file();
    if (!dirs || !*dirs)
        dirs = X509_get_default_cert_dir();
    if (file && !*file)
        file = NULL;
    X509_LOOKUP *lk = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir());
    if (!lk || !X509_LOOKUP_add_dir(lk, dirs, X509_FILETYPE_PEM))
        return XT_ENOMEM;
    const char *load = NULL;
    if (!dirs_hashed(dirs))
        load = file ? file : bundle;
    else if (file && !same_file(file, bundle))
        load = file;
    /* A missing or unreadable bundle is no error here, as with
     * SSL_CTX_set_default_verify_paths: verification says what is not
     * trusted when it matters. */
    if (load && !X509_STORE_load_file(st, load))
        ERR_clear_error();
    return 0;
}

int xt_tls_add_trust(SSL_CTX *sc, const char *ca_file, int no_system_ca, char *err,
                     size_t errlen)
{
    if (!no_system_ca && add_system_store(sc) < 0) {
        ERR_clear_error();
        return XT_ENOMEM;
    }
    if (ca_file && !SSL_CTX_load_verify_locations(sc, ca_file, NULL)) {
        unsigned long e = ERR_peek_last_error();
        const char *why = e ? ERR_reason_error_string(e) : NULL;
        if (errlen)
            snprintf(err, errlen, "cannot load CA file %s: %s", ca_file,
                     why ? why : "no certificates in it");
        ERR_clear_error();
        return XT_EINVAL;
    }
    ERR_clear_error();
    return 0;
}

int xt_tls_ctx_new(const xt_mem *mem, const char *ca_file, int no_system_ca,
                   xt_tls_ctx **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen)
        err[0] = '\0';
    xt_tls_ctx *ctx = xt_calloc(mem, 1, sizeof *ctx);
    if (!ctx)
        return XT_ENOMEM;
    ctx->mem = mem;
    ctx->no_system_ca = no_system_ca;
    if (ca_file && !(ctx->ca_file = xt_strdup(mem, ca_file))) {
        xt_free(mem, ctx);
        return XT_ENOMEM;
    }
    /* The SSL_CTX is made later (xt_tls_ctx_prepare) and the store filled
     * later still (xt_tls_ctx_load_trust), but a CA file that cannot even
     * be opened is refused now, as the caller's configuration error it
     * is. */
    if (ca_file) {
        FILE *f = fopen(ca_file, "r");
        if (!f) {
            if (errlen)
                snprintf(err, errlen, "cannot load CA file %s: %s", ca_file, strerror(errno));
            xt_tls_ctx_free(ctx);
            return XT_EINVAL;
        }
        fclose(f);
    }
    *out = ctx;
    return 0;
}

/* Until it succeeds: nothing is kept of a failed attempt, so the next
 * caller tries again (out of memory passes). */
int xt_tls_ctx_prepare(xt_tls_ctx *ctx)
{
    if (ctx->ssl_ctx)
        return 0;
    ERR_clear_error();
    SSL_CTX *sc = SSL_CTX_new(TLS_client_method());
    BIO_METHOD *bm = sc ? bio_method_new() : NULL;
    /* RFC 7590 §3.1 / RFC 8996: nothing older than TLS 1.2. */
    if (!bm || !SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION)) {
        ERR_clear_error();
        BIO_meth_free(bm);
        SSL_CTX_free(sc);
        return XT_ENOMEM;
    }
    /* Partial writes and a moving buffer because the plaintext comes from
     * xt_conn's queue, which may be compacted between retries; released
     * buffers keep idle connections small. */
    SSL_CTX_set_mode(sc, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                             SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, verify_cb);
    ctx->ssl_ctx = sc;
    ctx->bio_method = bm;
    return 0;
}

void xt_tls_ctx_free(xt_tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    BIO_meth_free(ctx->bio_method);
    xt_free(ctx->mem, ctx->ca_file);
    xt_free(ctx->mem, ctx->trust_err);
    xt_free(ctx->mem, ctx);
}

/* Once per context: a partly filled store (the system lookup added, the
 * CA file refused) is not filled again, so a failure is final and each
 * later caller hears it. */
int xt_tls_ctx_load_trust(xt_tls_ctx *ctx, char *err, size_t errlen)
{
    if (ctx->trust == TRUST_PENDING) {
        if (xt_tls_ctx_prepare(ctx) < 0) {
            /* Not final: the store was not touched. */
            if (errlen)
                snprintf(err, errlen, "out of memory");
            return XT_ENOMEM;
        }
        char e[512] = "";
        int rc = xt_tls_add_trust(ctx->ssl_ctx, ctx->ca_file, ctx->no_system_ca, e, sizeof e);
        if (rc == 0) {
            ctx->trust = TRUST_LOADED;
        } else {
            ctx->trust = TRUST_FAILED;
            ctx->trust_rc = rc;
            ctx->trust_err = rc == XT_ENOMEM ? NULL : xt_strdup(ctx->mem, e);
        }
    }
    if (ctx->trust == TRUST_LOADED)
        return 0;
    if (errlen)
        snprintf(err, errlen, "%s", ctx->trust_err ? ctx->trust_err : "out of memory");
    return ctx->trust_rc;
}

int xt_tls_ctx_matches(const xt_tls_ctx *ctx, const char *ca_file, int no_system_ca)
{
    if (!!ctx->no_system_ca != !!no_system_ca)
        return 0;
    if (!ctx->ca_file || !ca_file)
        return !ctx->ca_file && !ca_file;
    return strcmp(ctx->ca_file, ca_file) == 0;
}

/* --- one connection ------------------------------------------------------ */

/* Called by OpenSSL for each certificate of the chain (and once more for
 * the name check). Records the leaf's fingerprint and the first error;
 * the decision for pinned / unverified connections is taken after the
 * handshake, where the whole picture is known. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    xt_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!t)
        return ok;
    if (!t->have_leaf) {
        X509 *leaf = X509_STORE_CTX_get0_cert(x);
        unsigned len = 0;
        if (leaf && X509_digest(leaf, EVP_sha256(), t->leaf_sha256, &len) && len == 32)
            t->have_leaf = 1;
    }
    if (ok)
        return 1;
    if (!t->verr)
        t->verr = X509_STORE_CTX_get_error(x);
    return t->no_verify || t->has_pin;
}

int xt_tls_new(xt_tls_ctx *ctx, const xt_mem *mem, const xt_tls_opts *o, xt_tls **out)
{
    *out = NULL;
    if (!o->host || !*o->host)
        return XT_EINVAL;
    xt_tls *t = xt_calloc(mem, 1, sizeof *t);
    if (!t)
        return XT_ENOMEM;
    t->mem = mem;
    t->ctx = ctx;
    xt_buf_init(&t->in, mem);
    xt_buf_init(&t->out, mem);
    t->no_verify = !!o->no_verify;
    if (o->pin_sha256) {
        if (parse_pin(o->pin_sha256, t->pin) < 0) {
            xt_free(mem, t);
            return XT_EINVAL;
        }
        t->has_pin = 1;
    }
    int rc = XT_ENOMEM;
    BIO *bio = NULL;
    if (!(t->host = xt_strdup(mem, o->host)) || xt_tls_ctx_prepare(ctx) < 0)
        goto fail;
    ERR_clear_error();
    if (!(t->ssl = SSL_new(ctx->ssl_ctx)))
        goto fail;
    SSL_set_app_data(t->ssl, t);
    if (!(bio = BIO_new(ctx->bio_method)))
        goto fail;
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio); /* the SSL owns it now */
    SSL_set_connect_state(t->ssl);

    /* An IP-literal domain is matched as an iPAddress and gets no SNI
     * (RFC 6066 §3 forbids literal addresses in server_name). */
    unsigned char addr[16];
    int is_ip = inet_pton(AF_INET, o->host, addr) == 1 || inet_pton(AF_INET6, o->host, addr) == 1;
    rc = XT_ETLS;
    if (is_ip) {
        if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), o->host))
            goto fail;
    } else {
        /* RFC 6125 §6.4: DNS-ID, wildcards only as the whole left label. */
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        /* SSL_set_tlsext_host_name() casts away const inside a macro;
         * the same call spelled out keeps -Wcast-qual quiet under clang. */
        if (!SSL_set1_host(t->ssl, o->host) ||
            !SSL_ctrl(t->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                      (void *)(uintptr_t)o->host))
            goto fail;
    }
    if (o->alpn_xmpp) {
        /* XEP-0368 §4: ALPN protocol id "xmpp-client". */
        static const unsigned char alpn[] = "\x0bxmpp-client";
        if (SSL_set_alpn_protos(t->ssl, alpn, sizeof alpn - 1) != 0)
            goto fail;
    }
    ERR_clear_error();
    *out = t;
    return 0;
fail:
    ERR_clear_error();
    xt_tls_free(t);
    return rc;
}

void xt_tls_free(xt_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    xt_buf_free(&t->in);
    xt_buf_free(&t->out);
    xt_wipe(t->cb, sizeof t->cb);
    xt_wipe(t->cbs, sizeof t->cbs);
    xt_free(t->mem, t->host);
    xt_free(t->mem, t->detail);
    xt_free(t->mem, t);
}

size_t xt_tls_in_space(xt_tls *t, uint8_t **p)
{
    *p = NULL;
    size_t have = xt_buf_size(&t->in);
    if (have >= XT_TLS_IN_ROOM)
        return 0;
    if (t->in.off) {
        /* Left over from the last read: to the front, so the room is
         * contiguous and the buffer never grows past XT_TLS_IN_ROOM. */
        memmove(t->in.data, t->in.data + t->in.off, have);
        t->in.off = 0;
        t->in.len = have;
    }
    if (xt_buf_reserve(&t->in, XT_TLS_IN_ROOM - have) < 0) {
        t->nomem = 1;
        return 0;
    }
    *p = t->in.data + t->in.len;
    return t->in.cap - t->in.len;
}

void xt_tls_in_commit(xt_tls *t, size_t n)
{
    if (n > t->in.cap - t->in.len)
        n = t->in.cap - t->in.len;
    t->in.len += n;
    if (!xt_buf_size(&t->in))
        xt_buf_free(&t->in); /* nothing came: no buffer kept while idle */
}

size_t xt_tls_feed(xt_tls *t, const void *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        uint8_t *p;
        size_t room = xt_tls_in_space(t, &p);
        if (!room)
            break;
        if (room > len - done)
            room = len - done;
        memcpy(p, (const uint8_t *)data + done, room);
        xt_tls_in_commit(t, room);
        done += room;
    }
    return done;
}

size_t xt_tls_out_peek(xt_tls *t, const uint8_t **p)
{
    size_t n = xt_buf_size(&t->out);
    *p = n ? xt_buf_head(&t->out) : NULL;
    return n;
}

void xt_tls_out_consume(xt_tls *t, size_t n)
{
    xt_buf_consume(&t->out, n);
    if (!xt_buf_size(&t->out))
        xt_buf_free(&t->out);
}

size_t xt_tls_out_pending(const xt_tls *t)
{
    return xt_buf_size(&t->out);
}

size_t xt_tls_buffered(const xt_tls *t)
{
    return t->in.cap + t->out.cap;
}

/* A ciphertext buffer could not grow: the connection cannot go on. */
static int out_of_memory(xt_tls *t)
{
    set_detail(t, "out of memory");
    ERR_clear_error();
    return XT_ENOMEM;
}

/* The last OpenSSL error as text, for details. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "protocol error";
}

static int cert_failure(xt_tls *t)
{
    char fp[65] = "unknown";
    if (t->have_leaf)
        xt_tls_hex(t->leaf_sha256, 32, fp);
    if (t->verr == X509_V_ERR_HOSTNAME_MISMATCH || t->verr == X509_V_ERR_IP_ADDRESS_MISMATCH)
        set_detail(t,
                   "certificate is not valid for %s: it was issued for another name; check the "
                   "server name, or pin the certificate's SHA-256 fingerprint (server's is %s)",
                   t->host, fp);
    else
        set_detail(t,
                   "certificate for %s is not trusted: %s; trust its CA (a CA file) or pin "
                   "the certificate's SHA-256 fingerprint (server's is %s)",
                   t->host, X509_verify_cert_error_string(t->verr), fp);
    return XT_ECERT;
}

static void add_binding(xt_tls *t, const char *type, size_t len)
{
    t->cbs[t->ncb] = (xt_tls_binding){.type = type, .data = t->cb[t->ncb], .len = len};
    t->ncb++;
}

/* RFC 5929 §4.1: the hash is the certificate's signature hash, except
 * MD5 and SHA-1, which become SHA-256. No binding when the signature has
 * no separate hash (Ed25519): the server would not agree on one. */
static void server_end_point(xt_tls *t)
{
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    int md_nid = NID_undef;
    if (!cert || !X509_get_signature_info(cert, &md_nid, NULL, NULL, NULL))
        return;
    if (md_nid == NID_md5 || md_nid == NID_sha1)
        md_nid = NID_sha256;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    unsigned len = 0;
    if (md && X509_digest(cert, md, t->cb[t->ncb], &len))
        add_binding(t, "tls-server-end-point", len);
}

/* RFC 5929 §3.1: "the first TLS Finished message sent ... in the most
 * recent handshake": ours after a full handshake (the client finishes
 * first), the server's after an abbreviated one (resumption). Only with
 * the extended master secret: RFC 7627 §6 (the triple handshake attack
 * gives two connections the same tls-unique without it). */
static void tls_unique(xt_tls *t)
{
    if (SSL_get_extms_support(t->ssl) != 1)
        return;
    size_t len = SSL_session_reused(t->ssl)
                     ? SSL_get_peer_finished(t->ssl, t->cb[t->ncb], sizeof t->cb[0])
                     : SSL_get_finished(t->ssl, t->cb[t->ncb], sizeof t->cb[0]);
    if (len > 0 && len <= sizeof t->cb[0])
        add_binding(t, "tls-unique", len);
}

/* Every binding this connection can give, the default first: the one a
 * server that lists no types (XEP-0440) most likely takes. */
static void channel_binding(xt_tls *t)
{
    t->tls13 = SSL_version(t->ssl) >= TLS1_3_VERSION;
    if (t->tls13) {
        /* RFC 9266 §2: 32 bytes, label "EXPORTER-Channel-Binding", no context. */
        static const char label[] = "EXPORTER-Channel-Binding";
        if (SSL_export_keying_material(t->ssl, t->cb[t->ncb], 32, label, sizeof label - 1, NULL, 0,
                                       0) == 1)
            add_binding(t, "tls-exporter", 32);
    } else {
        tls_unique(t);
    }
    server_end_point(t);
    ERR_clear_error();
}

static int after_handshake(xt_tls *t)
{
    if (!t->no_verify) {
        if (!SSL_get0_peer_certificate(t->ssl) || !t->have_leaf) {
            set_detail(t, "server %s presented no certificate", t->host);
            return XT_ECERT;
        }
        if (t->has_pin) {
            /* A pin replaces the chain check: a self-signed server is
             * trusted by its fingerprint alone, and a wrong fingerprint is
             * refused even when the chain is trusted. */
            if (CRYPTO_memcmp(t->pin, t->leaf_sha256, 32) != 0) {
                char fp[65];
                xt_tls_hex(t->leaf_sha256, 32, fp);
                set_detail(t,
                           "certificate for %s does not match the pinned fingerprint "
                           "(server's is %s); if the server changed its certificate, "
                           "check it and update the pin",
                           t->host, fp);
                return XT_ECERT;
            }
        } else if (t->verr || SSL_get_verify_result(t->ssl) != X509_V_OK) {
            if (!t->verr)
                t->verr = (int)SSL_get_verify_result(t->ssl);
            return cert_failure(t);
        }
    }
    channel_binding(t);
    t->done = 1;
    return 0;
}

int xt_tls_handshake(xt_tls *t)
{
    if (t->done)
        return 0;
    if (t->nomem)
        return out_of_memory(t);
    /* Past the ClientHello, the server's certificate may be in what came:
     * the store must be filled before OpenSSL reads it. A driver fills it
     * sooner, while the hello is on its way (client.c's start_tls). */
    if (t->hello_made && t->ctx->trust != TRUST_LOADED) {
        char e[512];
        int rc = xt_tls_ctx_load_trust(t->ctx, e, sizeof e);
        if (rc < 0) {
            set_detail(t, "%s", e);
            return rc;
        }
    }
    t->hello_made = 1;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        int rc = after_handshake(t);
        if (rc < 0)
            xt_tls_shutdown(t);
        return rc;
    }
    if (t->nomem)
        return out_of_memory(t);
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 1;
    /* Our verify callback refused the chain: say why in certificate terms. */
    if (t->verr && !t->no_verify && !t->has_pin) {
        ERR_clear_error();
        return cert_failure(t);
    }
    set_detail(t, "TLS handshake with %s failed: %s", t->host,
               e == SSL_ERROR_SSL ? ssl_reason() : "connection closed");
    ERR_clear_error();
    return XT_ETLS;
}

int xt_tls_read(xt_tls *t, void *buf, size_t cap, size_t *got)
{
    *got = 0;
    if (t->nomem)
        return out_of_memory(t);
    if (!cap)
        return 0;
    ERR_clear_error();
    int r = SSL_read_ex(t->ssl, buf, cap, got);
    if (r == 1)
        return 0;
    *got = 0;
    if (t->nomem)
        return out_of_memory(t);
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN)
        return XT_ECLOSED;
    set_detail(t, "TLS error from %s: %s", t->host, e == SSL_ERROR_SSL ? ssl_reason() : "I/O error");
    ERR_clear_error();
    return XT_ETLS;
}

int xt_tls_write(xt_tls *t, const void *data, size_t n, size_t *wrote)
{
    *wrote = 0;
    if (t->nomem)
        return out_of_memory(t);
    if (!n)
        return 0;
    ERR_clear_error();
    int r = SSL_write_ex(t->ssl, data, n, wrote);
    if (r == 1)
        return 0;
    *wrote = 0;
    if (t->nomem)
        return out_of_memory(t);
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    set_detail(t, "TLS error to %s: %s", t->host, e == SSL_ERROR_SSL ? ssl_reason() : "I/O error");
    ERR_clear_error();
    return XT_ETLS;
}

void xt_tls_shutdown(xt_tls *t)
{
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
}

void xt_tls_get_info(xt_tls *t, xt_tls_info *info)
{
    *info = (xt_tls_info){.tls13 = t->tls13, .verified = t->done && !t->no_verify};
    if (t->ncb) {
        info->cb_type = t->cbs[0].type;
        info->cb_data = t->cbs[0].data;
        info->cb_len = t->cbs[0].len;
        info->more = t->ncb > 1 ? &t->cbs[1] : NULL;
        info->nmore = t->ncb - 1;
    }
}

const uint8_t *xt_tls_peer_sha256(const xt_tls *t)
{
    return t->have_leaf ? t->leaf_sha256 : NULL;
}

const char *xt_tls_detail(const xt_tls *t)
{
    return t->detail ? t->detail : "";
}
