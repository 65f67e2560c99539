/*
 * PRECIS (RFC 8264) and the two profiles of RFC 8265 that XMPP uses
 * (UsernameCaseMapped for localparts, OpaqueString for resourceparts and
 * passwords), on libunistring (Unicode 14 in libunistring 1.0). See
 * core/precis.h for the interface; jid.c applies them to JID parts.
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
 */
#include "core/precis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "base/mem.h"

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
static enum precis_err map_once(xt_precis_profile prof, u32s *x)
{
    if (prof == XT_PRECIS_USERNAME_CASEMAPPED) {
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
static enum precis_err precis_enforce(xt_precis_profile prof, xt_precis_path path, const char *in,
                                      size_t len, uint8_t **out, size_t *outlen)
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
    size_t ascii = path == XT_PRECIS_FULL_PATH ? len + 1 : 0;
    while (ascii < len && (unsigned char)in[ascii] >= 0x21 && (unsigned char)in[ascii] <= 0x7E)
        ascii++;
    if (ascii == len) {
        uint8_t *r = malloc(len + 1);
        if (!r)
            return PE_NOMEM;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)in[i];
            r[i] = prof == XT_PRECIS_USERNAME_CASEMAPPED && c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32)
                                                                                 : c;
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

    enum precis_class cls = prof == XT_PRECIS_OPAQUE ? CLS_FREEFORM : CLS_IDENTIFIER;
    for (size_t i = 0; e == PE_OK && i < x.n; i++) {
        enum cp_value v = V_PVALID;
        e = classify(x.s[i], cls, &v);
        if (e == PE_OK && v != V_PVALID && !context_ok(x.s, x.n, i))
            e = PE_CONTEXT;
    }
    if (e == PE_OK && prof == XT_PRECIS_USERNAME_CASEMAPPED && !bidi_ok(x.s, x.n))
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

static const char *precis_why(enum precis_err e, xt_precis_part k)
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

int xt_precis_enforce(xt_precis_profile prof, xt_precis_part part, xt_precis_path path,
                      const char *in, size_t len, uint8_t **out, size_t *outlen, const char **why)
{
    enum precis_err e = precis_enforce(prof, path, in, len, out, outlen);
    if (e == PE_OK)
        return 0;
    *why = precis_why(e, part);
    return e == PE_NOMEM ? XT_ENOMEM : XT_EINVAL;
}

static int precis_public(const xt_mem *mem, xt_precis_profile prof, const char *in, size_t len,
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
    int rc = xt_precis_enforce(prof, XT_PRECIS_OTHER, XT_PRECIS_FAST_PATH, in ? in : "", len, &r,
                               &n, why);
    if (rc)
        return rc;
    *out = xt_strndup(mem, (const char *)r, n);
    xt_wipe(r, n);
    free(r);
    return *out ? 0 : XT_ENOMEM;
}

int xt_precis_opaque(const xt_mem *mem, const char *in, size_t len, char **out, const char **why)
{
    return precis_public(mem, XT_PRECIS_OPAQUE, in, len, out, why);
}

int xt_precis_username_casemapped(const xt_mem *mem, const char *in, size_t len, char **out,
                                  const char **why)
{
    return precis_public(mem, XT_PRECIS_USERNAME_CASEMAPPED, in, len, out, why);
}

int xt_precis_domain_map(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    u32s x = {NULL, 0};
    x.s = u8_to_u32((const uint8_t *)in, len, NULL, &x.n);
    if (!x.s)
        return errno == ENOMEM ? XT_ENOMEM : XT_EINVAL;
    if (width_map(&x)) {
        u32s_free(&x);
        return XT_ENOMEM;
    }
    size_t n = 0;
    uint32_t *low = u32_tolower(x.s, x.n, NULL, UNINORM_NFC, NULL, &n);
    u32s_free(&x);
    if (!low)
        return errno == ENOMEM ? XT_ENOMEM : XT_EINVAL;
    /* IDNA label separators (RFC 3490 §3.1, kept by RFC 7622 §3.2). */
    for (size_t i = 0; i < n; i++)
        if (low[i] == 0x3002 || low[i] == 0xFF0E || low[i] == 0xFF61)
            low[i] = '.';
    *out = u32_to_u8(low, n, NULL, outlen);
    free(low);
    return *out ? 0 : XT_ENOMEM;
}
