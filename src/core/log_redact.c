/* Secrets out of the traffic log: see log_redact.h. */
#include "core/log_redact.h"

#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

static const char REDACTED[] = "[redacted]";

typedef struct redactor {
    xt_buf out;
    const char *copied; /* input before this is in out already */
    int changed;
    int rc;
} redactor;

/* Copies the input up to `to`, then "[redacted]" in place of what
 * follows (the caller moves `copied` past the secret). */
static void hide_from(redactor *r, const char *to)
{
    if (!r->rc)
        r->rc = xt_buf_append(&r->out, r->copied, (size_t)(to - r->copied));
    if (!r->rc)
        r->rc = xt_buf_append(&r->out, REDACTED, sizeof REDACTED - 1);
    r->changed = 1;
}

static int is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* An attribute named `password` (prefixed or not: a serializer prefix
 * such as "a0:" comes first). */
static int is_password_attr(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (colon) {
        n -= (size_t)(colon + 1 - s);
        s = colon + 1;
    }
    return is(s, n, "password");
}

#define SPACE " \t\r\n"

/* Reads the start tag whose name follows p ("<" at p[-1]): hides a
 * password attribute's value, says whether it is a secret data form field
 * (*secret_field) and whether it closes itself. Returns the character
 * after its '>', or NULL when the text ends first (a cut chunk). */
static const char *start_tag(redactor *r, const char *p, size_t nl, int *secret_field,
                             int *self_closing)
{
    const char *q = p + nl;
    *secret_field = 0;
    *self_closing = 0;
    for (;;) {
        q += strspn(q, SPACE);
        if (*q == '\0')
            return NULL;
        if (*q == '>')
            return q + 1;
        if (*q == '/') {
            if (q[1] == '>') {
                *self_closing = 1;
                return q + 2;
            }
            if (q[1] == '\0')
                return NULL;
            q++;
            continue;
        }
        const char *an = q;
        size_t anl = strcspn(q, "=" SPACE "/>");
        q += anl;
        q += strspn(q, SPACE);
        if (*q != '=')
            continue; /* not XML; nothing to hide in it */
        q++;
        q += strspn(q, SPACE);
        char quote = *q;
        if (quote != '\'' && quote != '"') {
            if (*q == '\0')
                return NULL;
            continue;
        }
        const char *vs = q + 1;
        const char *ve = strchr(vs, quote);
        size_t vl = ve ? (size_t)(ve - vs) : strlen(vs);
        if (is_password_attr(an, anl)) { /* XEP-0249 §3 */
            hide_from(r, vs);
            r->copied = vs + vl;
        }
        if ((is(an, anl, "type") && is(vs, vl, "text-private")) ||
            (is(an, anl, "var") && is(vs, vl, "muc#roomconfig_roomsecret")))
            *secret_field = 1;
        if (!ve)
            return NULL;
        q = ve + 1;
    }
}

int xt_log_redact(const xt_mem *mem, const char *xml, char **out)
{
    *out = NULL;
    /* The common case costs three scans and no copy. */
    if (!strstr(xml, "password") && !strstr(xml, "text-private") && !strstr(xml, "roomsecret"))
        return 0;
    redactor r = {.copied = xml};
    xt_buf_init(&r.out, mem);
    int in_secret_field = 0;
    const char *p = xml;
    while (!r.rc && (p = strchr(p, '<'))) {
        p++;
        if (*p == '/') {
            if (strncmp(p, "/field>", 7) == 0)
                in_secret_field = 0;
            continue;
        }
        if (*p == '?' || *p == '!')
            continue;
        size_t nl = strcspn(p, SPACE "/>");
        int secret_field, self_closing;
        const char *after = start_tag(&r, p, nl, &secret_field, &self_closing);
        if (!after)
            break; /* cut inside a tag */
        const char *close = NULL;
        if (!self_closing && is(p, nl, "password"))
            close = "</password>";
        else if (!self_closing && in_secret_field && is(p, nl, "value"))
            close = "</value>";
        else if (!self_closing && is(p, nl, "field"))
            in_secret_field = secret_field;
        p = after;
        if (close) {
            const char *end = strstr(p, close);
            hide_from(&r, p);
            r.copied = end ? end : p + strlen(p); /* cut: hidden to the end */
            if (!end)
                break;
            p = end;
        }
    }
    if (!r.rc && r.changed) {
        r.rc = xt_buf_append_str(&r.out, r.copied);
        if (!r.rc && !(*out = xt_strndup(mem, (const char *)xt_buf_head(&r.out),
                                         xt_buf_size(&r.out))))
            r.rc = XT_ENOMEM;
    }
    /* What was copied before a secret may itself be sensitive context. */
    xt_buf_free_wipe(&r.out);
    return r.rc;
}
