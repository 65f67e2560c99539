/*
 * XMPP addresses (RFC 7622) and the PRECIS profiles they use (RFC 8264,
 * RFC 8265), on libunistring (Unicode 14 in libunistring 1.0) and
 * libidn2.
 *
 * Splitting (RFC 7622 §3.1): everything after the first '/' is the
 * resourcepart; in what remains, everything before the first '@' is the
 * localpart; the rest is the domainpart. Each part must be 1..1023 octets
 * after preparation (§3.2-§3.4).
 *
 * PRECIS, what is exact and what is approximated:
 *  - Code point classes (RFC 8264 §8, §9) are derived from libunistring's
 *    Unicode properties in the RFC's order: the RFC 5892 §2.6 exceptions,
 *    Unassigned (Cn, not noncharacter), ASCII7, JoinControl, Old Hangul
 *    Jamo (hard-coded Hangul_Syllable_Type L/V/T blocks: libunistring has
 *    no HST property), Default_Ignorable_Code_Point / Noncharacter,
 *    Controls, HasCompat (NFKC(cp) != cp, computed per code point),
 *    LetterDigits, OtherLetterDigits, Spaces, Symbols, Punctuation. This
 *    is the RFC's derivation, not the IANA PRECIS table, so it follows
 *    the Unicode version of libunistring rather than the 6.3.0 table the
 *    registry was built from: "unassigned" means unassigned in Unicode 14
 *    (PRECIS is explicitly version-agile here, RFC 8264 §11).
 *  - BackwardCompatible (RFC 8264 §9.7) is empty, as published.
 *  - Contextual rules (RFC 5892 Appendix A) for ZWNJ, ZWJ, MIDDLE DOT,
 *    GREEK KERAIA, HEBREW GERESH/GERSHAYIM, KATAKANA MIDDLE DOT and the
 *    two Arabic-Indic digit ranges are implemented with libunistring's
 *    combining class, Joining_Type and Script.
 *  - Width mapping (UsernameCaseMapped) maps code points whose
 *    decomposition is tagged <wide> or <narrow>, i.e. exactly the
 *    fullwidth/halfwidth decomposition mappings the RFC names.
 *  - toLowerCase is Unicode full lower-casing (u32_tolower, no locale);
 *    it keeps U+00DF and U+03C2, as RFC 8265 intends.
 *  - The Bidi Rule (RFC 5893 §2) is applied to localparts that contain
 *    R, AL or AN characters (RFC 8265 §3.3.3 rule 6), using the
 *    libunistring bidi class.
 *  - Idempotence (RFC 8264 §7): the mappings are re-applied until stable,
 *    at most four passes, else the string is refused.
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
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "base/buf.h"
#include "base/mem.h"
#include "core/jid_int.h"

#define JID_PART_MAX 1023 /* RFC 7622 §3.2-§3.4, octets */
/* Raw parts longer than this are refused before any Unicode work (DoS
 * guard): width mapping can shrink a fullwidth character from 3 octets
 * to 1, so 3 * 1023 raw octets may still be valid; 4096 covers that. */
#define JID_RAW_MAX 4096

/* ---------------------------------------------------------------- */
/* PRECIS                                                           */
/* ---------------------------------------------------------------- */

enum precis_err {
    PE_OK = 0,
    PE_NOMEM,
    PE_UTF8,
    PE_EMPTY,
    PE_CONTROL,
    PE_IGNORABLE,
    PE_UNASSIGNED,
    PE_HANGUL,
    PE_SPACE,
    PE_SYMBOL, /* symbols, punctuation, compatibility forms, other letters */
    PE_OTHER,  /* the catch-all DISALLOWED */
    PE_CONTEXT,
    PE_BIDI,
    PE_UNSTABLE,
    PE_COUNT
};

enum precis_class { CLS_IDENTIFIER, CLS_FREEFORM };
enum precis_profile { PROF_USERNAME_CASEMAPPED, PROF_OPAQUE };

enum cp_value { V_PVALID, V_CONTEXTJ, V_CONTEXTO };

/* RFC 5892 §2.6 Exceptions (F). */
static int exception_value(uint32_t cp, enum precis_err *err, enum cp_value *v)
{
    switch (cp) {
    case 0x00DF:
    case 0x03C2:
    case 0x06FD:
    case 0x06FE:
    case 0x0F0B:
    case 0x3007:
        *v = V_PVALID;
        return 1;
    case 0x00B7:
    case 0x0375:
    case 0x05F3:
    case 0x05F4:
    case 0x30FB:
        *v = V_CONTEXTO;
        return 1;
    case 0x0640:
    case 0x07FA:
    case 0x302E:
    case 0x302F:
    case 0x3031:
    case 0x3032:
    case 0x3033:
    case 0x3034:
    case 0x3035:
    case 0x303B:
        *err = PE_OTHER;
        return 1;
    }
    if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06F0 && cp <= 0x06F9)) {
        *v = V_CONTEXTO;
        return 1;
    }
    return 0;
}

/* RFC 5892 §2.9 OldHangulJamo: Hangul_Syllable_Type L, V or T. */
static int old_hangul_jamo(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97C) ||
           (cp >= 0xD7B0 && cp <= 0xD7C6) || (cp >= 0xD7CB && cp <= 0xD7FB);
}

/* RFC 8264 §9.17 HasCompat: toNFKC(cp) != cp. */
static int has_compat(uint32_t cp)
{
    uint32_t buf[UC_DECOMPOSITION_MAX_LENGTH * 2];
    size_t n = sizeof buf / sizeof buf[0];
    uint32_t *r = u32_normalize(UNINORM_NFKC, &cp, 1, buf, &n);
    if (!r)
        return 1; /* cannot tell: treat as compatibility (refused in IDs) */
    int differs = n != 1 || r[0] != cp;
    if (r != buf)
        free(r);
    return differs;
}

/* Classifies cp per RFC 8264 §8. Returns PE_OK and *v, or the reason it
 * is disallowed in this class. */
static enum precis_err classify(uint32_t cp, enum precis_class cls, enum cp_value *v)
{
    enum precis_err err = PE_OK;
    if (exception_value(cp, &err, v))
        return err;
    /* Unassigned (§9.?): Cn and not a noncharacter. */
    if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Cn) &&
        !uc_is_property_not_a_character(cp))
        return PE_UNASSIGNED;
    *v = V_PVALID;
    if (cp >= 0x21 && cp <= 0x7E) /* ASCII7 */
        return PE_OK;
    if (cp == 0x200C || cp == 0x200D) { /* JoinControl */
        *v = V_CONTEXTJ;
        return PE_OK;
    }
    if (old_hangul_jamo(cp))
        return PE_HANGUL;
    if (uc_is_property_default_ignorable_code_point(cp) || uc_is_property_not_a_character(cp))
        return PE_IGNORABLE;
    if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Cc))
        return PE_CONTROL;
    /* From here on, the ID_DIS / FREE_PVAL groups. */
    int idfree = has_compat(cp);
    enum precis_err which = PE_SYMBOL;
    if (!idfree) {
        if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Ll | UC_CATEGORY_MASK_Lu |
                                                     UC_CATEGORY_MASK_Lo | UC_CATEGORY_MASK_Nd |
                                                     UC_CATEGORY_MASK_Lm | UC_CATEGORY_MASK_Mn |
                                                     UC_CATEGORY_MASK_Mc))
            return PE_OK; /* LetterDigits */
        if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Zs)) {
            idfree = 1;
            which = PE_SPACE;
        } else if (uc_is_general_category_withtable(
                       cp, UC_CATEGORY_MASK_Lt | UC_CATEGORY_MASK_Nl | UC_CATEGORY_MASK_No |
                               UC_CATEGORY_MASK_Me | UC_CATEGORY_MASK_Sm | UC_CATEGORY_MASK_Sc |
                               UC_CATEGORY_MASK_Sk | UC_CATEGORY_MASK_So | UC_CATEGORY_MASK_Pc |
                               UC_CATEGORY_MASK_Pd | UC_CATEGORY_MASK_Ps | UC_CATEGORY_MASK_Pe |
                               UC_CATEGORY_MASK_Pi | UC_CATEGORY_MASK_Pf | UC_CATEGORY_MASK_Po)) {
            idfree = 1;
        }
    } else if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Zs)) {
        which = PE_SPACE;
    }
    if (idfree)
        return cls == CLS_FREEFORM ? PE_OK : which;
    return PE_OTHER;
}

static int is_virama(uint32_t cp)
{
    return uc_combining_class(cp) == UC_CCC_VR;
}

/* RFC 5892 Appendix A: contextual rules, over the whole string. */
static int context_ok(const uint32_t *s, size_t n, size_t i)
{
    uint32_t cp = s[i];
    uint32_t before = i > 0 ? s[i - 1] : 0, after = i + 1 < n ? s[i + 1] : 0;
    switch (cp) {
    case 0x200D: /* A.2 ZWJ */
        return i > 0 && is_virama(before);
    case 0x200C: { /* A.1 ZWNJ */
        if (i > 0 && is_virama(before))
            return 1;
        /* (Joining_Type:{L,D})(Joining_Type:T)* ZWNJ (Joining_Type:T)*(Joining_Type:{R,D}) */
        size_t j = i;
        int left = 0, right = 0;
        while (j > 0) {
            int jt = uc_joining_type(s[--j]);
            if (jt == UC_JOINING_TYPE_T)
                continue;
            left = jt == UC_JOINING_TYPE_L || jt == UC_JOINING_TYPE_D;
            break;
        }
        for (j = i + 1; j < n; j++) {
            int jt = uc_joining_type(s[j]);
            if (jt == UC_JOINING_TYPE_T)
                continue;
            right = jt == UC_JOINING_TYPE_R || jt == UC_JOINING_TYPE_D;
            break;
        }
        return left && right;
    }
    case 0x00B7: /* A.3 MIDDLE DOT: between two 'l' (Catalan) */
        return i > 0 && before == 0x006C && after == 0x006C;
    case 0x0375: /* A.4 GREEK KERAIA: followed by Greek */
        return i + 1 < n && uc_is_script(after, uc_script_byname("Greek"));
    case 0x05F3: /* A.5/A.6 HEBREW GERESH / GERSHAYIM: after Hebrew */
    case 0x05F4:
        return i > 0 && uc_is_script(before, uc_script_byname("Hebrew"));
    case 0x30FB: /* A.9 KATAKANA MIDDLE DOT: with Hiragana/Katakana/Han */
        for (size_t j = 0; j < n; j++) {
            if (uc_is_script(s[j], uc_script_byname("Hiragana")) ||
                uc_is_script(s[j], uc_script_byname("Katakana")) ||
                uc_is_script(s[j], uc_script_byname("Han")))
                return 1;
        }
        return 0;
    default:
        break;
    }
    /* A.8 / A.9 Arabic-Indic digits: the two ranges do not mix. */
    int arabic = cp >= 0x0660 && cp <= 0x0669;
    int extended = cp >= 0x06F0 && cp <= 0x06F9;
    if (arabic || extended) {
        for (size_t j = 0; j < n; j++) {
            if (arabic && s[j] >= 0x06F0 && s[j] <= 0x06F9)
                return 0;
            if (extended && s[j] >= 0x0660 && s[j] <= 0x0669)
                return 0;
        }
        return 1;
    }
    return 0;
}

/* RFC 5893 §2, applied when the string holds R, AL or AN characters. */
static int bidi_ok(const uint32_t *s, size_t n)
{
    int rtl_present = 0;
    for (size_t i = 0; i < n; i++) {
        int b = uc_bidi_category(s[i]);
        if (b == UC_BIDI_R || b == UC_BIDI_AL || b == UC_BIDI_AN)
            rtl_present = 1;
    }
    if (!rtl_present || n == 0)
        return 1;
    int first = uc_bidi_category(s[0]);
    if (first != UC_BIDI_L && first != UC_BIDI_R && first != UC_BIDI_AL)
        return 0; /* rule 1 */
    int rtl = first != UC_BIDI_L;
    int has_en = 0, has_an = 0;
    for (size_t i = 0; i < n; i++) {
        int b = uc_bidi_category(s[i]);
        has_en |= b == UC_BIDI_EN;
        has_an |= b == UC_BIDI_AN;
        if (rtl) { /* rule 2 */
            if (!(b == UC_BIDI_R || b == UC_BIDI_AL || b == UC_BIDI_AN || b == UC_BIDI_EN ||
                  b == UC_BIDI_ES || b == UC_BIDI_CS || b == UC_BIDI_ET || b == UC_BIDI_ON ||
                  b == UC_BIDI_BN || b == UC_BIDI_NSM))
                return 0;
        } else { /* rule 5 */
            if (!(b == UC_BIDI_L || b == UC_BIDI_EN || b == UC_BIDI_ES || b == UC_BIDI_CS ||
                  b == UC_BIDI_ET || b == UC_BIDI_ON || b == UC_BIDI_BN || b == UC_BIDI_NSM))
                return 0;
        }
    }
    size_t end = n;
    while (end > 0 && uc_bidi_category(s[end - 1]) == UC_BIDI_NSM)
        end--;
    if (end == 0)
        return 0;
    int last = uc_bidi_category(s[end - 1]);
    if (rtl) {
        if (!(last == UC_BIDI_R || last == UC_BIDI_AL || last == UC_BIDI_EN || last == UC_BIDI_AN))
            return 0; /* rule 3 */
        if (has_en && has_an)
            return 0; /* rule 4 */
    } else if (!(last == UC_BIDI_L || last == UC_BIDI_EN)) {
        return 0; /* rule 6 */
    }
    return 1;
}

/* A UCS-4 string owned by libunistring's allocator (malloc). */
typedef struct u32s {
    uint32_t *s;
    size_t n;
} u32s;

static void u32s_free(u32s *x)
{
    if (x->s) {
        xt_wipe(x->s, x->n * sizeof *x->s);
        free(x->s);
    }
    x->s = NULL;
    x->n = 0;
}

/* Width mapping (RFC 8265 §3.3.2 rule 1): <wide>/<narrow> decompositions. */
static enum precis_err width_map(u32s *x)
{
    size_t extra = 0;
    uint32_t d[UC_DECOMPOSITION_MAX_LENGTH];
    int tag;
    for (size_t i = 0; i < x->n; i++) {
        int k = uc_decomposition(x->s[i], &tag, d);
        if (k > 1 && (tag == UC_DECOMP_WIDE || tag == UC_DECOMP_NARROW))
            extra += (size_t)k - 1;
    }
    if (x->n > SIZE_MAX / sizeof(uint32_t) - extra)
        return PE_NOMEM;
    uint32_t *out = malloc((x->n + extra) * sizeof *out + 1);
    if (!out)
        return PE_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < x->n; i++) {
        int k = uc_decomposition(x->s[i], &tag, d);
        if (k > 0 && (tag == UC_DECOMP_WIDE || tag == UC_DECOMP_NARROW)) {
            memcpy(out + o, d, (size_t)k * sizeof *d);
            o += (size_t)k;
        } else {
            out[o++] = x->s[i];
        }
    }
    u32s_free(x);
    x->s = out;
    x->n = o;
    return PE_OK;
}

/* One pass of a profile's mapping rules (RFC 8264 §7 steps 1-4). */
static enum precis_err map_once(enum precis_profile prof, u32s *x)
{
    if (prof == PROF_USERNAME_CASEMAPPED) {
        enum precis_err e = width_map(x);
        if (e)
            return e;
        size_t n = 0;
        /* Case mapping, then NFC in the same call. */
        uint32_t *r = u32_tolower(x->s, x->n, NULL, UNINORM_NFC, NULL, &n);
        if (!r)
            return errno == ENOMEM ? PE_NOMEM : PE_UTF8;
        u32s_free(x);
        x->s = r;
        x->n = n;
        return PE_OK;
    }
    /* OpaqueString (RFC 8265 §4.2.2): non-ASCII spaces -> U+0020, NFC. */
    for (size_t i = 0; i < x->n; i++)
        if (x->s[i] > 0x7F && uc_is_general_category_withtable(x->s[i], UC_CATEGORY_MASK_Zs))
            x->s[i] = 0x20;
    size_t n = 0;
    uint32_t *r = u32_normalize(UNINORM_NFC, x->s, x->n, NULL, &n);
    if (!r)
        return errno == ENOMEM ? PE_NOMEM : PE_UTF8;
    u32s_free(x);
    x->s = r;
    x->n = n;
    return PE_OK;
}

/* Enforces a profile; on PE_OK *out is a malloc'd UTF-8 copy. */
int xt_precis_test_slow_path;

static enum precis_err precis_enforce(enum precis_profile prof, const char *in, size_t len,
                                      uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (u8_check((const uint8_t *)in, len) != NULL)
        return PE_UTF8;
    if (len == 0)
        return PE_EMPTY;
    /* Fast path, the common case on every send: printable ASCII (U+0021..
     * U+007E) is PVALID in both classes (RFC 8264 §9.11 ASCII7), width
     * mapping and NFC leave it unchanged, it has no RTL character for the
     * Bidi Rule, and case mapping is plain lowering. Same result as the
     * full path below, without converting to UTF-32. */
    size_t ascii = xt_precis_test_slow_path ? len + 1 : 0;
    while (ascii < len && (unsigned char)in[ascii] >= 0x21 && (unsigned char)in[ascii] <= 0x7E)
        ascii++;
    if (ascii == len) {
        uint8_t *r = malloc(len + 1);
        if (!r)
            return PE_NOMEM;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)in[i];
            r[i] = prof == PROF_USERNAME_CASEMAPPED && c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
        }
        r[len] = 0;
        *out = r;
        *outlen = len;
        return PE_OK;
    }
    u32s x = {NULL, 0};
    x.s = u8_to_u32((const uint8_t *)in, len, NULL, &x.n);
    if (!x.s)
        return errno == ENOMEM ? PE_NOMEM : PE_UTF8;

    enum precis_err e = PE_UNSTABLE;
    /* RFC 8264 §7: re-apply until stable, at most three more times. */
    for (int pass = 0; pass < 4; pass++) {
        u32s prev = {malloc(x.n * sizeof *x.s + 1), x.n};
        if (!prev.s) {
            e = PE_NOMEM;
            break;
        }
        memcpy(prev.s, x.s, x.n * sizeof *x.s);
        enum precis_err me = map_once(prof, &x);
        int stable = me == PE_OK && prev.n == x.n && memcmp(prev.s, x.s, x.n * sizeof *x.s) == 0;
        u32s_free(&prev);
        if (me) {
            e = me;
            break;
        }
        if (stable) {
            e = PE_OK;
            break;
        }
    }
    if (e == PE_OK && x.n == 0)
        e = PE_EMPTY;

    enum precis_class cls = prof == PROF_OPAQUE ? CLS_FREEFORM : CLS_IDENTIFIER;
    for (size_t i = 0; e == PE_OK && i < x.n; i++) {
        enum cp_value v = V_PVALID;
        e = classify(x.s[i], cls, &v);
        if (e == PE_OK && v != V_PVALID && !context_ok(x.s, x.n, i))
            e = PE_CONTEXT;
    }
    if (e == PE_OK && prof == PROF_USERNAME_CASEMAPPED && !bidi_ok(x.s, x.n))
        e = PE_BIDI;
    if (e == PE_OK) {
        size_t n = 0;
        uint8_t *r = u32_to_u8(x.s, x.n, NULL, &n);
        if (!r)
            e = PE_NOMEM;
        else {
            *out = r;
            *outlen = n;
        }
    }
    u32s_free(&x);
    return e;
}

enum part_kind { PART_LOCAL, PART_RESOURCE, PART_OTHER };

static const char *precis_why(enum precis_err e, enum part_kind k)
{
    static const char *const why[PE_COUNT][3] = {
        [PE_OK] = {NULL, NULL, NULL},
        [PE_NOMEM] = {"out of memory", "out of memory", "out of memory"},
        [PE_UTF8] = {"localpart is not valid UTF-8", "resourcepart is not valid UTF-8",
                     "not valid UTF-8"},
        [PE_EMPTY] = {"empty localpart", "empty resourcepart", "empty string"},
        [PE_CONTROL] = {"control character in localpart", "control character in resourcepart",
                        "control character"},
        [PE_IGNORABLE] = {"default-ignorable character (e.g. a variation selector) in localpart",
                          "default-ignorable character (e.g. a variation selector) in "
                          "resourcepart",
                          "default-ignorable character"},
        [PE_UNASSIGNED] = {"unassigned code point in localpart",
                           "unassigned code point in resourcepart", "unassigned code point"},
        [PE_HANGUL] = {"old Hangul jamo in localpart", "old Hangul jamo in resourcepart",
                       "old Hangul jamo"},
        [PE_SPACE] = {"space in localpart", "space in resourcepart", "space"},
        [PE_SYMBOL] = {"symbol, punctuation or compatibility character in localpart",
                       "symbol, punctuation or compatibility character in resourcepart",
                       "symbol, punctuation or compatibility character"},
        [PE_OTHER] = {"disallowed character in localpart", "disallowed character in resourcepart",
                      "disallowed character"},
        [PE_CONTEXT] = {"joiner or contextual character out of context in localpart",
                        "joiner or contextual character out of context in resourcepart",
                        "contextual character out of context"},
        [PE_BIDI] = {"localpart violates the Bidi Rule (RFC 5893)",
                     "resourcepart violates the Bidi Rule (RFC 5893)", "violates the Bidi Rule"},
        [PE_UNSTABLE] = {"localpart does not stabilize under PRECIS mapping",
                         "resourcepart does not stabilize under PRECIS mapping",
                         "does not stabilize under PRECIS mapping"},
    };
    return why[e][k];
}

static int precis_public(const xt_mem *mem, enum precis_profile prof, const char *in, size_t len,
                         char **out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (!out || (!in && len))
        return XT_EINVAL;
    *out = NULL;
    uint8_t *r;
    size_t n;
    enum precis_err e = precis_enforce(prof, in ? in : "", len, &r, &n);
    if (e) {
        *why = precis_why(e, PART_OTHER);
        return e == PE_NOMEM ? XT_ENOMEM : XT_EINVAL;
    }
    *out = xt_strndup(mem, (const char *)r, n);
    xt_wipe(r, n);
    free(r);
    return *out ? 0 : XT_ENOMEM;
}

int xt_precis_opaque(const xt_mem *mem, const char *in, size_t len, char **out, const char **why)
{
    return precis_public(mem, PROF_OPAQUE, in, len, out, why);
}

int xt_precis_username_casemapped(const xt_mem *mem, const char *in, size_t len, char **out,
                                  const char **why)
{
    return precis_public(mem, PROF_USERNAME_CASEMAPPED, in, len, out, why);
}

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
    enum precis_err e = precis_enforce(PROF_USERNAME_CASEMAPPED, in, len, &r, &n);
    if (e) {
        *why = precis_why(e, PART_LOCAL);
        return e == PE_NOMEM ? XT_ENOMEM : XT_EJID;
    }
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
    enum precis_err e = precis_enforce(PROF_OPAQUE, in, len, &r, &n);
    if (e) {
        *why = precis_why(e, PART_RESOURCE);
        return e == PE_NOMEM ? XT_ENOMEM : XT_EJID;
    }
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

    /* §3.2.2: width mapping, lower case, NFC. */
    u32s x = {NULL, 0};
    x.s = u8_to_u32((const uint8_t *)in, len, NULL, &x.n);
    if (!x.s)
        return errno == ENOMEM ? XT_ENOMEM : XT_EJID;
    if (width_map(&x)) {
        u32s_free(&x);
        return XT_ENOMEM;
    }
    size_t n = 0;
    uint32_t *low = u32_tolower(x.s, x.n, NULL, UNINORM_NFC, NULL, &n);
    u32s_free(&x);
    if (!low)
        return errno == ENOMEM ? XT_ENOMEM : XT_EJID;
    /* IDNA label separators (RFC 3490 §3.1, kept by RFC 7622 §3.2). */
    for (size_t i = 0; i < n; i++)
        if (low[i] == 0x3002 || low[i] == 0xFF0E || low[i] == 0xFF61)
            low[i] = '.';
    size_t blen = 0;
    uint8_t *b = u32_to_u8(low, n, NULL, &blen);
    free(low);
    if (!b)
        return XT_ENOMEM;

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
    if (!out || !domain) {
        *why = !out ? "no output pointer" : "no domainpart";
        return XT_EINVAL;
    }
    *out = NULL;
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
