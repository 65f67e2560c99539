/*
 * XMPP addresses (RFC 7622): splitting, preparing each part, the JID
 * object, comparison and XEP-0106 escaping. Domainparts use
 * libunistring (Unicode 14 in libunistring 1.0) and libidn2.
 *
 * Splitting (RFC 7622 §3.1): everything after the first '/' is the
 * resourcepart; in what remains, everything before the first '@' is the
 * localpart; the rest is the domainpart. Each part must be 1..1023 octets
 * after preparation (§3.2-§3.4).
 *
 * Localparts and resourceparts are prepared with the PRECIS profiles of
 * precis.c (RFC 7622 §3.3, §3.4).
 * Domainparts: fullwidth/halfwidth mapping, lower-casing and NFC (RFC
 * 7622 §3.2.2), label separators U+3002/U+FF0E/U+FF61 -> '.', one
 * trailing '.' stripped; IP literals ("[IPv6]", dotted IPv4) kept as
 * given; ASCII labels must be LDH (letters, digits, inner hyphens; no
 * underscore: RFC 7622 §3.2 requires IDNA2008 "domain names");
 * non-ASCII and "xn--" labels are checked by libidn2 as IDNA2008 without
 * UTS 46 mapping and stored as U-labels. Labels are checked one at a time
 * so the 253-octet DNS limit does not apply: RFC 7622 allows 1023.
 */
#include "xtalk/jid.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <unistr.h>

#include "base/buf.h"
#include "base/mem.h"
#include "core/jid_int.h"
#include "core/precis.h"

#define JID_PART_MAX 1023 /* RFC 7622 §3.2-§3.4, octets */
/* Raw parts longer than this are refused before any Unicode work (DoS
 * guard): width mapping can shrink a fullwidth character from 3 octets
 * to 1, so 3 * 1023 raw octets may still be valid; 4096 covers that. */
#define JID_RAW_MAX 4096

/* ---------------------------------------------------------------- */
/* Parts                                                            */
/* ---------------------------------------------------------------- */

/* Localpart: UsernameCaseMapped + RFC 7622 §3.3.1's extra exclusions. */
static int prep_local(const xt_mem *mem, const char *in, size_t len, char **out, const char **why)
{
    if (len == 0) {
        *why = "empty localpart";
        return XT_EJID;
    }
    if (len > JID_RAW_MAX) {
        *why = "localpart too long";
        return XT_EJID;
    }
    uint8_t *r;
    size_t n;
    int prc = xt_precis_enforce(XT_PRECIS_USERNAME_CASEMAPPED, XT_PRECIS_LOCAL, XT_PRECIS_FAST_PATH,
                                in, len, &r, &n, why);
    if (prc)
        return prc == XT_ENOMEM ? XT_ENOMEM : XT_EJID;
    int rc = 0;
    if (n > JID_PART_MAX) {
        *why = "localpart too long";
        rc = XT_EJID;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (strchr("\"&'/:<>@", r[i]) && r[i] != '\0') {
            *why = "forbidden character in localpart (one of \" & ' / : < > @)";
            rc = XT_EJID;
        }
    }
    if (rc == 0 && !(*out = xt_strndup(mem, (const char *)r, n)))
        rc = XT_ENOMEM;
    free(r);
    return rc;
}

static int prep_resource(const xt_mem *mem, const char *in, size_t len, char **out,
                         const char **why)
{
    if (len == 0) {
        *why = "empty resourcepart";
        return XT_EJID;
    }
    if (len > JID_RAW_MAX) {
        *why = "resourcepart too long";
        return XT_EJID;
    }
    uint8_t *r;
    size_t n;
    int prc = xt_precis_enforce(XT_PRECIS_OPAQUE, XT_PRECIS_RESOURCE, XT_PRECIS_FAST_PATH, in, len,
                                &r, &n, why);
    if (prc)
        return prc == XT_ENOMEM ? XT_ENOMEM : XT_EJID;
    int rc = 0;
    if (n > JID_PART_MAX) {
        *why = "resourcepart too long";
        rc = XT_EJID;
    } else if (!(*out = xt_strndup(mem, (const char *)r, n))) {
        rc = XT_ENOMEM;
    }
    free(r);
    return rc;
}

static int is_ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* One domain label, already lower-cased and NFC; appends the U-label. */
static int domain_label(xt_buf *out, const char *l, size_t n, const char **why)
{
    if (n == 0) {
        *why = "empty label in domainpart";
        return XT_EJID;
    }
    int ascii = 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)l[i] >= 0x80)
            ascii = 0;
    int alabel = ascii && n >= 4 && memcmp(l, "xn--", 4) == 0;
    if (ascii && !alabel) {
        /* NR-LDH label (RFC 5890 §2.3.1). */
        if (n > 63) {
            *why = "domain label longer than 63 octets";
            return XT_EJID;
        }
        for (size_t i = 0; i < n; i++) {
            if (!is_ldh(l[i])) {
                *why = l[i] == '@'   ? "domainpart contains '@' (two '@' in the JID?)"
                       : l[i] == ':' ? "domainpart contains ':' (an IPv6 address needs [brackets])"
                                     : "invalid character in domainpart (letters, digits, '-')";
                return XT_EJID;
            }
        }
        if (l[0] == '-' || l[n - 1] == '-') {
            *why = "domain label starts or ends with '-'";
            return XT_EJID;
        }
        if (n >= 4 && l[2] == '-' && l[3] == '-') {
            *why = "domain label has '--' in positions 3-4 (reserved)";
            return XT_EJID;
        }
        return xt_buf_append(out, l, n);
    }
    /* IDNA2008 (RFC 5891) through libidn2, without UTS 46 mapping: our
     * own preparation already did what RFC 7622 §3.2.2 asks. */
    char tmp[256];
    if (n >= sizeof tmp) {
        *why = "domain label too long";
        return XT_EJID;
    }
    memcpy(tmp, l, n);
    tmp[n] = '\0';
    uint8_t *a = NULL;
    int irc = idn2_lookup_u8((const uint8_t *)tmp, &a, IDN2_NFC_INPUT | IDN2_NO_TR46);
    if (irc != IDN2_OK) {
        if (irc == IDN2_MALLOC)
            return XT_ENOMEM;
        *why = "domainpart is not a valid internationalized domain name (IDNA2008)";
        return XT_EJID;
    }
    char *u = NULL;
    irc = idn2_to_unicode_8z8z((const char *)a, &u, 0);
    idn2_free(a);
    if (irc != IDN2_OK) {
        if (irc == IDN2_MALLOC)
            return XT_ENOMEM;
        *why = "domainpart is not a valid internationalized domain name (IDNA2008)";
        return XT_EJID;
    }
    int rc = xt_buf_append_str(out, u);
    idn2_free(u);
    return rc;
}

static int prep_domain(const xt_mem *mem, const char *in, size_t len, char **out, const char **why)
{
    if (len == 0) {
        *why = "empty domainpart";
        return XT_EJID;
    }
    if (len > JID_RAW_MAX) {
        *why = "domainpart too long";
        return XT_EJID;
    }
    if (u8_check((const uint8_t *)in, len) != NULL) {
        *why = "domainpart is not valid UTF-8";
        return XT_EJID;
    }
    /* A NUL (only xt_jid_parse_n lets one in) would cut the C strings the
     * checks below hand to inet_pton and libidn2, so what follows it went
     * unchecked: "[::\0-]" was kept as "[::", and "ex\x18\0ｊ..." as the
     * label "ex\x18" (found by fuzz_jid; both replayed by its corpus). */
    if (memchr(in, '\0', len)) {
        *why = "domainpart contains a NUL character";
        return XT_EJID;
    }
    /* IP-literal (RFC 7622 §3.2 -> RFC 3986 §3.2.2), kept as given. */
    if (in[0] == '[') {
        char tmp[64];
        struct in6_addr a6;
        if (len < 3 || in[len - 1] != ']' || len - 2 >= sizeof tmp) {
            *why = "invalid IPv6 literal in domainpart";
            return XT_EJID;
        }
        memcpy(tmp, in + 1, len - 2);
        tmp[len - 2] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) {
            *why = "invalid IPv6 literal in domainpart";
            return XT_EJID;
        }
        *out = xt_strndup(mem, in, len);
        return *out ? 0 : XT_ENOMEM;
    }

    /* §3.2.2: width mapping, lower case, NFC, label separators. */
    uint8_t *b = NULL;
    size_t blen = 0;
    int mrc = xt_precis_domain_map(in, len, &b, &blen);
    if (mrc)
        return mrc == XT_ENOMEM ? XT_ENOMEM : XT_EJID;

    int rc = 0;
    /* §3.2: a trailing label separator is stripped. */
    if (blen > 0 && b[blen - 1] == '.')
        blen--;
    if (blen == 0) {
        *why = "empty domainpart";
        rc = XT_EJID;
    }
    char v4[16];
    struct in_addr a4;
    if (rc == 0 && blen < sizeof v4) {
        memcpy(v4, b, blen);
        v4[blen] = '\0';
        if (inet_pton(AF_INET, v4, &a4) == 1) {
            *out = xt_strndup(mem, v4, blen);
            free(b);
            return *out ? 0 : XT_ENOMEM;
        }
    }
    xt_buf res;
    xt_buf_init(&res, mem);
    size_t start = 0;
    for (size_t i = 0; rc == 0 && i <= blen; i++) {
        if (i == blen || b[i] == '.') {
            if (start > 0)
                rc = xt_buf_append_byte(&res, '.');
            if (rc == 0)
                rc = domain_label(&res, (const char *)b + start, i - start, why);
            start = i + 1;
        }
    }
    free(b);
    if (rc == 0 && xt_buf_size(&res) > JID_PART_MAX) {
        *why = "domainpart too long";
        rc = XT_EJID;
    }
    if (rc == 0) {
        const char *s = xt_buf_cstr(&res);
        if (!s || !(*out = xt_strdup(mem, s)))
            rc = XT_ENOMEM;
    }
    xt_buf_free(&res);
    return rc;
}

/* ---------------------------------------------------------------- */
/* The JID object                                                   */
/* ---------------------------------------------------------------- */

struct xt_jid {
    const xt_mem *mem;
    xt_mem mem_copy;
    char *local;
    char *domain;
    char *resource;
    char *bare;
    char *full;
};

void xt_jid_free(xt_jid *jid)
{
    if (!jid)
        return;
    const xt_mem *mem = jid->mem;
    xt_free(mem, jid->local);
    xt_free(mem, jid->domain);
    xt_free(mem, jid->resource);
    xt_free(mem, jid->bare);
    xt_free(mem, jid->full);
    xt_free(mem, jid);
}

static int jid_assemble(xt_jid *j)
{
    xt_buf b;
    xt_buf_init(&b, j->mem);
    int rc = 0;
    if (j->local) {
        rc = xt_buf_append_str(&b, j->local);
        if (!rc)
            rc = xt_buf_append_byte(&b, '@');
    }
    if (!rc)
        rc = xt_buf_append_str(&b, j->domain);
    const char *s = rc ? NULL : xt_buf_cstr(&b);
    if (!rc && (!s || !(j->bare = xt_strdup(j->mem, s))))
        rc = XT_ENOMEM;
    if (!rc && j->resource) {
        rc = xt_buf_append_byte(&b, '/');
        if (!rc)
            rc = xt_buf_append_str(&b, j->resource);
    }
    s = rc ? NULL : xt_buf_cstr(&b);
    if (!rc && (!s || !(j->full = xt_strdup(j->mem, s))))
        rc = XT_ENOMEM;
    xt_buf_free(&b);
    return rc;
}

static int jid_make(const xt_mem *mem, const char *l, size_t llen, int has_l, const char *d,
                    size_t dlen, const char *r, size_t rlen, int has_r, xt_jid **out,
                    const char **why)
{
    xt_jid *j = xt_calloc(mem, 1, sizeof *j);
    if (!j) {
        *why = "out of memory";
        return XT_ENOMEM;
    }
    if (mem) {
        j->mem_copy = *mem;
        j->mem = &j->mem_copy;
    }
    int rc = 0;
    if (has_l)
        rc = prep_local(j->mem, l, llen, &j->local, why);
    if (!rc)
        rc = prep_domain(j->mem, d, dlen, &j->domain, why);
    if (!rc && has_r)
        rc = prep_resource(j->mem, r, rlen, &j->resource, why);
    if (!rc)
        rc = jid_assemble(j);
    if (rc) {
        if (rc == XT_ENOMEM)
            *why = "out of memory";
        xt_jid_free(j);
        return rc;
    }
    *why = NULL;
    *out = j;
    return 0;
}

int xt_jid_parse_n(const xt_mem *mem, const char *s, size_t len, xt_jid **out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!out) {
        *why = "no output pointer";
        return XT_EINVAL;
    }
    *out = NULL;
    if (!s) {
        *why = "no JID";
        return XT_EINVAL;
    }
    if (len == 0) {
        *why = "empty JID";
        return XT_EJID;
    }
    if (len > 3 * JID_RAW_MAX + 2) {
        *why = "JID too long";
        return XT_EJID;
    }
    /* RFC 7622 §3.1 step 1: the first '/' starts the resourcepart. */
    const char *slash = memchr(s, '/', len);
    size_t blen = slash ? (size_t)(slash - s) : len;
    /* Step 2: in the rest, the first '@' ends the localpart. */
    const char *at = memchr(s, '@', blen);
    const char *d = at ? at + 1 : s;
    size_t dlen = blen - (size_t)(d - s);
    return jid_make(mem, s, at ? (size_t)(at - s) : 0, at != NULL, d, dlen,
                    slash ? slash + 1 : NULL, slash ? len - blen - 1 : 0, slash != NULL, out, why);
}

/* A domain label as the full path checks it (domain_label, NR-LDH):
 * 1..63 octets, not starting or ending with '-', no "--" in positions
 * 3-4 (which also sends every "xn--" A-label to the full path). */
static int fast_label_ok(const char *l, size_t n)
{
    return n > 0 && n <= 63 && l[0] != '-' && l[n - 1] != '-' &&
           !(n >= 4 && l[2] == '-' && l[3] == '-');
}

/*
 * Accept-only fast path of xt_jid_parse_n for the common address:
 * printable ASCII, an LDH domain. It only ever accepts what the full
 * path accepts, with the same result (the printable-ASCII reasoning of
 * precis_enforce: PVALID, width mapping and NFC are no-ops, case mapping
 * is ASCII lowering; an all-ASCII domainpart is lowered, its one
 * trailing '.' stripped, a dotted IPv4 literal is kept as given, which is
 * the lowered input again). Anything else -- every refusal included --
 * returns 0 so the caller takes the full path, which gives the error.
 */
size_t xt_jid_prep_fast(const char *s, size_t len, char *out, size_t cap)
{
    if (len == 0 || len >= cap)
        return 0;
    const char *slash = memchr(s, '/', len);
    size_t blen = slash ? (size_t)(slash - s) : len;
    const char *at = memchr(s, '@', blen);
    size_t o = 0, i = 0;
    if (at) {
        size_t llen = (size_t)(at - s);
        if (llen == 0 || llen > JID_PART_MAX)
            return 0;
        for (; i < llen; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x21 || c > 0x7E || c == '"' || c == '&' || c == '\'' || c == ':' || c == '<' ||
                c == '>')
                return 0;
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        out[o++] = '@';
        i++;
    }
    size_t dstart = o, lab = o;
    for (; i < blen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (c == '.') {
            if (!fast_label_ok(out + lab, o - lab))
                return 0;
            out[o++] = '.';
            lab = o;
        } else if (is_ldh((char)c)) {
            out[o++] = (char)c;
        } else {
            return 0;
        }
    }
    if (o == lab) {
        /* Empty domainpart, or a trailing '.' (stripped once; a second
         * one was an empty label above). */
        if (lab == dstart)
            return 0;
        o--;
    } else if (!fast_label_ok(out + lab, o - lab)) {
        return 0;
    }
    if (o - dstart > JID_PART_MAX)
        return 0;
    if (slash) {
        size_t rlen = len - blen - 1;
        if (rlen == 0 || rlen > JID_PART_MAX)
            return 0;
        out[o++] = '/';
        for (i = blen + 1; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x21 || c > 0x7E)
                return 0;
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return o;
}

int xt_jid_parse(const xt_mem *mem, const char *s, xt_jid **out, const char **why)
{
    return xt_jid_parse_n(mem, s, s ? strlen(s) : 0, out, why);
}

int xt_jid_build(const xt_mem *mem, const char *local, const char *domain, const char *resource,
                 xt_jid **out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (out)
        *out = NULL;
    if (!out || !domain) {
        *why = !out ? "no output pointer" : "no domainpart";
        return XT_EINVAL;
    }
    return jid_make(mem, local, local ? strlen(local) : 0, local != NULL, domain, strlen(domain),
                    resource, resource ? strlen(resource) : 0, resource != NULL, out, why);
}

const char *xt_jid_local(const xt_jid *jid)
{
    return jid ? jid->local : NULL;
}

const char *xt_jid_domain(const xt_jid *jid)
{
    return jid ? jid->domain : NULL;
}

const char *xt_jid_resource(const xt_jid *jid)
{
    return jid ? jid->resource : NULL;
}

const char *xt_jid_bare(const xt_jid *jid)
{
    return jid ? jid->bare : NULL;
}

const char *xt_jid_full(const xt_jid *jid)
{
    return jid ? jid->full : NULL;
}

/* Parts are normalized, so equality is octet equality (RFC 7622 §3.1:
 * comparison after preparation). */
int xt_jid_equal(const xt_jid *a, const xt_jid *b)
{
    return a && b && strcmp(a->full, b->full) == 0;
}

int xt_jid_bare_equal(const xt_jid *a, const xt_jid *b)
{
    return a && b && strcmp(a->bare, b->bare) == 0;
}

static int str_cmp(const char *a, const char *b, int bare)
{
    xt_jid *ja = NULL, *jb = NULL;
    int eq = 0;
    if (a && b && xt_jid_parse(NULL, a, &ja, NULL) == 0 && xt_jid_parse(NULL, b, &jb, NULL) == 0)
        eq = bare ? xt_jid_bare_equal(ja, jb) : xt_jid_equal(ja, jb);
    xt_jid_free(ja);
    xt_jid_free(jb);
    return eq;
}

int xt_jid_str_equal(const char *a, const char *b)
{
    return str_cmp(a, b, 0);
}

int xt_jid_str_bare_equal(const char *a, const char *b)
{
    return str_cmp(a, b, 1);
}

/* ---------------------------------------------------------------- */
/* XEP-0106 escaping                                                */
/* ---------------------------------------------------------------- */

/* The characters with a sequence (XEP-0106 §3.2), lower-case hex. */
static const char esc_chars[] = " \"&'/:<>@\\";
static const char *const esc_seqs[] = {"20", "22", "26", "27", "2f", "3a", "3c", "3e", "40", "5c"};

/* Index of the sequence at s (after a backslash), or -1. Case matters
 * (XEP-0106 §3.1): "\2F" is not a sequence. */
static int esc_seq_at(const char *s)
{
    for (int i = 0; i < 10; i++)
        if (s[0] == esc_seqs[i][0] && s[1] == esc_seqs[i][1])
            return i;
    return -1;
}

static int esc_finish(const xt_mem *mem, xt_buf *b, int rc, char **out)
{
    if (rc == 0) {
        const char *str = xt_buf_cstr(b);
        if (!str || !(*out = xt_strdup(mem, str)))
            rc = XT_ENOMEM;
    }
    xt_buf_free(b);
    return rc;
}

int xt_jid_escape_local(const xt_mem *mem, const char *s, char **out)
{
    if (!s || !out)
        return XT_EINVAL;
    *out = NULL;
    xt_buf b;
    xt_buf_init(&b, mem);
    int rc = 0;
    for (const char *p = s; *p && rc == 0; p++) {
        const char *hit = *p == '\\' ? NULL : strchr(esc_chars, *p);
        if (hit) {
            rc = xt_buf_append_byte(&b, '\\');
            if (rc == 0)
                rc = xt_buf_append(&b, esc_seqs[hit - esc_chars], 2);
        } else if (*p == '\\' && p[1] && esc_seq_at(p + 1) >= 0) {
            /* §4.2 step 3: a backslash starting a sequence is escaped. */
            rc = xt_buf_append(&b, "\\5c", 3);
        } else {
            rc = xt_buf_append_byte(&b, (uint8_t)*p);
        }
    }
    return esc_finish(mem, &b, rc, out);
}

int xt_jid_unescape_local(const xt_mem *mem, const char *s, char **out)
{
    if (!s || !out)
        return XT_EINVAL;
    *out = NULL;
    size_t n = strlen(s);
    /* §4.1: an escaped localpart never starts or ends with \20, so such
     * a string was not produced by escaping: show it as it is. */
    if (n >= 3 && (memcmp(s, "\\20", 3) == 0 || memcmp(s + n - 3, "\\20", 3) == 0)) {
        *out = xt_strdup(mem, s);
        return *out ? 0 : XT_ENOMEM;
    }
    xt_buf b;
    xt_buf_init(&b, mem);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* esc_seq_at stops at a NUL: s[i + 2] is read only if s[i + 1]
         * matched a digit. */
        int k = s[i] == '\\' ? esc_seq_at(s + i + 1) : -1;
        if (k >= 0) {
            rc = xt_buf_append_byte(&b, (uint8_t)esc_chars[k]);
            i += 2;
        } else {
            rc = xt_buf_append_byte(&b, (uint8_t)s[i]);
        }
    }
    return esc_finish(mem, &b, rc, out);
}
