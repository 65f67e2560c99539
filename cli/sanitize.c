/* The terminal sanitizer and the protocol's restricted values (sanitize.h). */
#include "sanitize.h"

#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <unistr.h>

int xt_cli_char_unsafe(uint32_t uc)
{
    if (uc < 0x20 || (uc >= 0x7f && uc <= 0x9f))
        return 1; /* C0, DEL, C1 */
    if (uc == 0x2028 || uc == 0x2029)
        return 1; /* Zl, Zp: line breaks to some terminals and viewers */
    /* Cf holds the bidi controls (U+061C, U+200E/F, U+202A..E,
     * U+2066..9), zero-width characters, U+FEFF and the tag characters. */
    return uc < 0x110000 && uc_is_general_category((ucs4_t)uc, UC_CATEGORY_Cf);
}

static size_t put_hex(char *out, const char *prefix, uint32_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = strlen(prefix);

    memcpy(out, prefix, o);
    for (int d = digits - 1; d >= 0; d--)
        out[o++] = hex[(v >> (4 * d)) & 15];
    return o;
}

/* The displayable form of the character at p[*i], advancing *i past it:
 * NULL when it is shown as it is (the caller copies its input bytes),
 * else its replacement in buf (*n bytes, at most 10). One piece of code
 * for the buffer (xt_cli_sanitize) and the stream (xt_cli_put_sanitized)
 * forms, so they cannot differ. */
static const char *san_next(const uint8_t *p, size_t len, size_t *i, xt_cli_san_mode mode,
                            char buf[16], size_t *n)
{
    uint8_t c = p[*i];
    if (c >= 0x20 && c < 0x7f) {
        ++*i; /* printable ASCII: the common case */
        return NULL;
    }
    ucs4_t uc;
    int m = u8_mbtoucr(&uc, p + *i, len - *i);
    if (m < 0) {
        *n = put_hex(buf, "\\x", c, 2);
        ++*i;
        return buf;
    }
    if (m == 0)
        m = 1; /* a NUL inside the length: shown below as \x00 */
    *i += (size_t)m;
    if (mode == XT_CLI_SAN_LINES && uc == '\n') {
        memcpy(buf, "\n" XT_CLI_SAN_INDENT, sizeof XT_CLI_SAN_INDENT);
        *n = sizeof XT_CLI_SAN_INDENT;
        return buf;
    }
    if ((mode == XT_CLI_SAN_LAID_OUT && uc == '\n') || (mode != XT_CLI_SAN_LINE && uc == '\t'))
        return NULL;
    if (uc == '\n' || uc == '\t' || uc == '\r') {
        buf[0] = '\\';
        buf[1] = uc == '\n' ? 'n' : uc == '\t' ? 't' : 'r';
        *n = 2;
        return buf;
    }
    if (uc < 0x20 || uc == 0x7f) {
        *n = put_hex(buf, "\\x", uc, 2);
        return buf;
    }
    if (xt_cli_char_unsafe(uc)) {
        *n = uc > 0xffff ? put_hex(buf, "\\U", uc, 8) : put_hex(buf, "\\u", uc, 4);
        return buf;
    }
    return NULL;
}

char *xt_cli_sanitize(const char *s, size_t len, xt_cli_san_mode mode)
{
    /* Worst case per input byte: "\xNN" (4), a newline and its indent
     * (1 + 2), or a 2-byte C1 as "\u0080" (6 for 2); "\U000e0001" is 10
     * for 4 bytes. So 4 per byte bounds it. */
    if (len > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(len * 4 + 1);
    if (!out)
        return NULL;
    const uint8_t *p = (const uint8_t *)s;
    size_t o = 0;
    char buf[16];

    for (size_t i = 0; i < len;) {
        size_t at = i, n;
        const char *r = san_next(p, len, &i, mode, buf, &n);
        if (!r) {
            memcpy(out + o, p + at, i - at);
            o += i - at;
        } else {
            memcpy(out + o, r, n);
            o += n;
        }
    }
    out[o] = '\0';
    return out;
}

void xt_cli_put_sanitized(FILE *out, const char *s)
{
    if (!s)
        return;
    /* Streamed, without a copy: runs shown as they are go out whole. */
    const uint8_t *p = (const uint8_t *)s;
    size_t len = strlen(s), run = 0;
    char buf[16];
    for (size_t i = 0; i < len;) {
        size_t at = i, n;
        const char *r = san_next(p, len, &i, XT_CLI_SAN_LINE, buf, &n);
        if (!r)
            continue;
        if (at > run)
            fwrite(p + run, 1, at - run, out);
        fwrite(r, 1, n, out);
        run = i;
    }
    if (len > run)
        fwrite(p + run, 1, len - run, out);
}

/* The entry of `known` equal to v, or NULL. */
static const char *pick(const char *v, const char *const *known, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(v, known[i]) == 0)
            return known[i];
    return NULL;
}

#define PICK(v, known) pick((v), (known), sizeof(known) / sizeof *(known))

const char *xt_cli_message_type(const char *type)
{
    static const char *const known[] = {"chat", "error", "groupchat", "headline", "normal"};
    const char *t = PICK(type, known);
    return t ? t : "normal"; /* RFC 6121 §5.2.2 */
}

const char *xt_cli_presence_show(const char *show)
{
    static const char *const known[] = {"away", "chat", "dnd", "xa"};
    return PICK(show, known);
}

const char *xt_cli_subscription(const char *sub)
{
    static const char *const known[] = {"none", "to", "from", "both", "remove"};
    const char *s = PICK(sub, known);
    return s ? s : "none";
}

const char *xt_cli_subscription_type(const char *type)
{
    static const char *const known[] = {"subscribe", "subscribed", "unsubscribe", "unsubscribed"};
    return PICK(type, known);
}
