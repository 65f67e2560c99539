/* Files shared in received messages: XEP-0066 out-of-band data
 * (<x xmlns='jabber:x:oob'><url/><desc/></x>, what HTTP File Upload
 * clients send beside the URL in the body) and XEP-0447 stateless file sharing with its
 * XEP-0446 metadata. Parsing only: fetching is the application's, and the
 * URL is a stranger's text, so it is classified (xt_file_url_check) and
 * any name meant for the disk is made harmless (xt_file_name). */
#include <string.h>
#include <strings.h>

#include "base/hex.h"
#include "im/msgext.h"
#include "xml/utf8.h"
#include "xtalk/upload.h"

/* The first child of el named `name` in ns, its text or NULL. */
static const char *child_text(const xt_stanza *el, const char *name, const char *ns)
{
    const xt_stanza *ch = xt_stanza_child(el, name, ns);
    return ch ? xt_stanza_text(ch) : NULL;
}

/* XEP-0446 <size/>: a decimal count of bytes; anything else unknown. */
static int64_t parse_size(const char *s)
{
    if (!s || !*s)
        return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

unsigned xt_file_url_check(const char *url)
{
    if (!url)
        return XT_FILE_UNSAFE_SCHEME;
    unsigned f = 0;
    /* RFC 3986 §3.1: schemes compare case-insensitively. */
    if (strncasecmp(url, "https://", 8) == 0)
        f = 0;
    else if (strncasecmp(url, "http://", 7) == 0)
        f = XT_FILE_HTTP;
    else
        f = XT_FILE_UNSAFE_SCHEME;
    /* RFC 3986 §2: a URI is printable ASCII; a space, a control or a raw
     * non-ASCII byte is either a mistake or a disguise (a newline to
     * forge a second line, a bidi override to hide the real ending). */
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f) {
            f |= XT_FILE_BAD_CHARS;
            break;
        }
    return f;
}

int xt_im_file_child(const xt_stanza *ch, xt_file_ref *f)
{
    const char *ns = xt_stanza_ns(ch), *name = xt_stanza_name(ch);
    const char *url = NULL;
    if (strcmp(ns, XT_NS_OOB) == 0 && strcmp(name, "x") == 0) {
        /* XEP-0066 §3: <url/> required, <desc/> optional. */
        url = child_text(ch, "url", XT_NS_OOB);
        if (!url || !*url || strlen(url) > XT_FILE_URL_MAX)
            return 0;
        *f = (xt_file_ref){.url = url, .desc = child_text(ch, "desc", XT_NS_OOB), .size = -1};
    } else if (strcmp(ns, XT_NS_SFS) == 0 && strcmp(name, "file-sharing") == 0) {
        /* XEP-0447 §3.1: <file/> (XEP-0446) and <sources/>, whose
         * <url-data target/> (XEP-0103) is the one source fetched here. */
        const xt_stanza *src = xt_stanza_child(ch, "sources", XT_NS_SFS);
        const xt_stanza *ud = src ? xt_stanza_child(src, "url-data", XT_NS_URL_DATA) : NULL;
        url = ud ? xt_stanza_attr(ud, "target") : NULL;
        if (!url || !*url || strlen(url) > XT_FILE_URL_MAX)
            return 0;
        const xt_stanza *md = xt_stanza_child(ch, "file", XT_NS_FILE_META);
        *f = (xt_file_ref){.url = url, .size = -1};
        if (md) {
            f->name = child_text(md, "name", XT_NS_FILE_META);
            f->desc = child_text(md, "desc", XT_NS_FILE_META);
            f->media_type = child_text(md, "media-type", XT_NS_FILE_META);
            f->size = parse_size(child_text(md, "size", XT_NS_FILE_META));
        }
    } else {
        return 0;
    }
    if (f->desc && !*f->desc)
        f->desc = NULL;
    if (f->name && !*f->name)
        f->name = NULL;
    if (f->media_type && !*f->media_type)
        f->media_type = NULL;
    f->flags = xt_file_url_check(url);
    return 1;
}

/* The deprecated stanza-level reader (xtalk/upload.h), on the parser
 * behind xt_message.file: one way to read OOB data. */
int xt_oob_get(const xt_stanza *msg, xt_oob *out)
{
    if (!msg || !out)
        return 0;
    const xt_stanza *x = xt_stanza_child(msg, "x", XT_NS_OOB);
    xt_file_ref f;
    if (!x || !xt_im_file_child(x, &f))
        return 0;
    *out = (xt_oob){.url = f.url, .desc = f.desc};
    return 1;
}

/* Length of the UTF-8 character at p (n bytes left) in *len (1 for a
 * byte that is not UTF-8), and 1 when a file name may hold it; 0 for a
 * byte that is not UTF-8, a control (C0, DEL, C1), or an
 * invisible or reordering format character (U+200B..U+200F zero widths
 * and marks, U+2028..U+202E separators and bidi embeddings/overrides,
 * U+2060..U+206F joiners and isolates, U+FEFF, tags U+E0000..U+E007F),
 * which could make "photo\u202egnp.exe" read as a harmless name. */
static int name_char(const unsigned char *p, size_t n, size_t *lenp)
{
    size_t len = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 ? 2 : 0;
    *lenp = 1;
    if (!len || len > n || !xt_xml_chars_valid((const char *)p, len))
        return 0;
    *lenp = len;
    uint32_t cp = len == 1   ? p[0]
                  : len == 2 ? (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f)
                  : len == 3
                      ? (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f)
                      : (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
                            (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x200b && cp <= 0x200f) ||
        (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
        (cp >= 0xe0000 && cp <= 0xe007f) || cp == '/' || cp == '\\')
        return 0;
    return 1;
}

/* NAME_MAX on Linux and most file systems. */
#define FILE_NAME_MAX 255

int xt_file_name(const char *name, const char *url, char *out, size_t n)
{
    if (!out || n < 8 || (!name && !url))
        return XT_EINVAL;
    /* The raw bytes: the sender's name, else the URL path's last segment
     * percent-decoded (RFC 3986 §2.1) into a bounded scratch buffer. */
    unsigned char raw[FILE_NAME_MAX * 3 + 4];
    size_t rn = 0;
    if (name && *name) {
        for (; name[rn] && rn < sizeof raw; rn++)
            raw[rn] = (unsigned char)name[rn];
    } else if (url) {
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        const char *end = p + strcspn(p, "?#");
        const char *seg = p;
        /* The authority is not a file name: only what follows its '/'. */
        const char *slash = memchr(p, '/', (size_t)(end - p));
        seg = slash ? slash + 1 : end;
        for (const char *q = seg; q < end; q++)
            if (*q == '/')
                seg = q + 1;
        for (const char *q = seg; q < end && rn < sizeof raw; q++) {
            int hi, lo;
            if (*q == '%' && end - q >= 3 && (hi = xt_hex_value(q[1])) >= 0 &&
                (lo = xt_hex_value(q[2])) >= 0) {
                raw[rn++] = (unsigned char)(hi << 4 | lo);
                q += 2;
            } else {
                raw[rn++] = (unsigned char)*q;
            }
        }
    }
    size_t cap = n - 1 < FILE_NAME_MAX ? n - 1 : FILE_NAME_MAX, on = 0;
    for (size_t i = 0; i < rn;) {
        size_t len;
        int ok = name_char(raw + i, rn - i, &len);
        if (on + (ok ? len : 1) > cap)
            break;
        if (ok) {
            memcpy(out + on, raw + i, len);
            on += len;
        } else {
            out[on++] = '_'; /* one for the whole character */
        }
        i += len;
    }
    if (on && (out[0] == '.' || out[0] == '-'))
        out[0] = '_';
    if (!on) {
        memcpy(out, "file", 5);
        return 4;
    }
    out[on] = '\0';
    return (int)on;
}
