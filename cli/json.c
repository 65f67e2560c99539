/* JSON Lines writer (RFC 8259 §7 string escaping). */
#include "json.h"
#include "sanitize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

void xt_cli_json_init(xt_cli_json *j)
{
    memset(j, 0, sizeof *j);
    j->first[0] = 1;
}

void xt_cli_json_reset(xt_cli_json *j)
{
    j->len = 0;
    if (j->buf)
        j->buf[0] = '\0';
    j->failed = 0;
    j->depth = 0;
    j->first[0] = 1;
}

void xt_cli_json_free(xt_cli_json *j)
{
    free(j->buf);
    xt_cli_json_init(j);
}

static void put(xt_cli_json *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (n >= SIZE_MAX / 2 - j->len) {
        j->failed = 1;
        return;
    }
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *nb = realloc(j->buf, cap);
        if (!nb) {
            j->failed = 1;
            return;
        }
        j->buf = nb;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(xt_cli_json *j, const char *s)
{
    put(j, s, strlen(s));
}

/* "\\uXXXX" for one code point, as a surrogate pair past U+FFFF. */
static void escape_unit(xt_cli_json *j, uint32_t uc)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t units[2] = {uc, 0};
    size_t n = 1;
    char esc[7] = "\\u";

    if (uc > 0xffff) {
        units[0] = 0xd800 + ((uc - 0x10000) >> 10);
        units[1] = 0xdc00 + ((uc - 0x10000) & 0x3ff);
        n = 2;
    }
    for (size_t k = 0; k < n; k++) {
        for (int d = 0; d < 4; d++)
            esc[2 + d] = hex[(units[k] >> (12 - 4 * d)) & 15];
        put(j, esc, 6);
    }
}

/* Bytes that put_string copies as they are: printable ASCII but '"' and
 * '\\' (RFC 8259 §7); tested first, so a run of plain text stays on the
 * short path (listen escapes every field of every message). */
static inline int json_plain(uint8_t c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* The plain run starting at p[0], up to n bytes: eight bytes at a time
 * while none of them needs a look (a byte < 0x20, >= 0x7f, '"' or '\\'),
 * tested word-wide; the tail one by one. Listen's per-byte loop was the
 * CLI's largest cost after the store (~3,500 instructions a message). */
static size_t plain_run(const uint8_t *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        /* a byte < 0x20; a byte >= 0x7f (w + 1 carries 0x7f into the high
         * bit; bytes >= 0x80 have it already); a byte equal to '"' or
         * '\\' (xor makes it zero). The classic "has a zero byte" test
         * (x - 1) & ~x & 0x80 flags every such byte, and never one that
         * is not, for the first flagged byte at least: enough to stop. */
        uint64_t lt = (w - ones * 0x20) & ~w;
        uint64_t ge = (w + ones * 0x01) | w;
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b;
        if ((lt | ge | zq | zb) & high)
            break;
    }
    while (i < n && json_plain(p[i]))
        i++;
    return i;
}

static void put_string(xt_cli_json *j, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, run = 0;

    put(j, "\"", 1);
    while (i < n) {
        size_t k = plain_run(p + i, n - i);
        i += k;
        run += k;
        if (i == n)
            break;
        if (json_plain(p[i])) {
            i++;
            run++;
            continue;
        }
        uint8_t c = p[i];
        char esc[8];
        const char *e = NULL;

        if (c >= 0x80) {
            ucs4_t uc;
            int m = u8_mbtoucr(&uc, p + i, n - i);
            if (m > 0 && !xt_cli_char_unsafe(uc)) {
                i += (size_t)m;
                run += (size_t)m;
                continue;
            }
            if (m > 0) {
                /* C1 controls, bidi and other format characters are
                 * valid JSON but reach a terminal when the output is
                 * read there (jq, less): \uXXXX (a surrogate pair past
                 * U+FFFF, RFC 8259 §7), like sanitize.h shows them. */
                put(j, (const char *)p + i - run, run);
                run = 0;
                escape_unit(j, uc);
                i += (size_t)m;
                continue;
            }
            e = "\\ufffd"; /* not UTF-8: keep the output valid JSON */
        } else if (c == '"') {
            e = "\\\"";
        } else if (c == '\\') {
            e = "\\\\";
        } else if (c == '\n') {
            e = "\\n";
        } else if (c == '\r') {
            e = "\\r";
        } else if (c == '\t') {
            e = "\\t";
        } else if (c == '\b') {
            e = "\\b";
        } else if (c == '\f') {
            e = "\\f";
        } else {
            /* the other C0 controls and DEL */
            static const char hex[] = "0123456789abcdef";
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            esc[6] = '\0';
            e = esc;
        }
        put(j, (const char *)p + i - run, run);
        run = 0;
        puts_(j, e);
        i++;
    }
    put(j, (const char *)p + i - run, run);
    put(j, "\"", 1);
}

/* Writes the separator and "key": for a new member of the current level. */
static void member(xt_cli_json *j, const char *key)
{
    char tmp[40];
    size_t n = 0;
    if (!j->first[j->depth])
        tmp[n++] = ',';
    j->first[j->depth] = 0;
    if (!key) {
        put(j, tmp, n);
        return;
    }
    /* Our keys are short plain words: ,"key": in one piece. */
    tmp[n++] = '"';
    for (const char *k = key; n < sizeof tmp - 2; k++) {
        if (!*k) {
            tmp[n++] = '"';
            tmp[n++] = ':';
            put(j, tmp, n);
            return;
        }
        if (!json_plain((uint8_t)*k))
            break;
        tmp[n++] = *k;
    }
    put(j, tmp, tmp[0] == ',' ? 1 : 0);
    put_string(j, key, strlen(key));
    put(j, ":", 1);
}

static void open_(xt_cli_json *j, const char *key, const char *tok, char closer)
{
    if (j->depth + 1 >= XT_CLI_JSON_MAX_DEPTH) {
        j->failed = 1;
        return;
    }
    if (j->depth > 0)
        member(j, key);
    else if (j->len > 0)
        j->failed = 1; /* one top-level value per line */
    puts_(j, tok);
    j->depth++;
    j->first[j->depth] = 1;
    j->closer[j->depth] = closer;
}

void xt_cli_json_obj(xt_cli_json *j, const char *key)
{
    open_(j, key, "{", '}');
}

void xt_cli_json_arr(xt_cli_json *j, const char *key)
{
    open_(j, key, "[", ']');
}

void xt_cli_json_end(xt_cli_json *j)
{
    if (j->depth <= 0) {
        j->failed = 1;
        return;
    }
    put(j, &j->closer[j->depth], 1);
    j->depth--;
}

void xt_cli_json_strn(xt_cli_json *j, const char *key, const char *value, size_t len)
{
    if (!value)
        return;
    member(j, key);
    put_string(j, value, len);
}

void xt_cli_json_str(xt_cli_json *j, const char *key, const char *value)
{
    if (value)
        xt_cli_json_strn(j, key, value, strlen(value));
}

void xt_cli_json_int(xt_cli_json *j, const char *key, long long value)
{
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", value);
    member(j, key);
    put(j, num, (size_t)n);
}

void xt_cli_json_bool(xt_cli_json *j, const char *key, int value)
{
    member(j, key);
    puts_(j, value ? "true" : "false");
}

const char *xt_cli_json_text(const xt_cli_json *j, size_t *len)
{
    if (j->failed)
        return NULL;
    if (len)
        *len = j->len;
    return j->buf ? j->buf : "";
}

int xt_cli_json_put_line(xt_cli_json *j, FILE *out)
{
    int rc = 0;

    if (j->failed || j->depth != 0 || !j->buf) {
        rc = -1;
    } else {
        j->buf[j->len] = '\n'; /* put() keeps a byte free for the NUL */
        if (fwrite(j->buf, 1, j->len + 1, out) != j->len + 1)
            rc = -1;
    }
    xt_cli_json_reset(j);
    return rc;
}

int xt_cli_json_write_line(xt_cli_json *j, FILE *out)
{
    int rc = xt_cli_json_put_line(j, out);
    if (rc == 0 && fflush(out) == EOF)
        rc = -1;
    return rc;
}
