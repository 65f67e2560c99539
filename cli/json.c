/* JSON Lines writer (RFC 8259 §7 string escaping). */
#include "json.h"
#include "sanitize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* Grows the buffer for n more bytes and the NUL; the pointer to write
 * at, or NULL (the writer has failed). */
static char *reserve_slow(xt_cli_json *j, size_t n)
{
    if (n >= SIZE_MAX / 4 - j->len) {
        j->failed = 1;
        return NULL;
    }
    size_t cap = j->cap ? j->cap : 256;
    while (cap < j->len + n + 1)
        cap *= 2;
    char *nb = realloc(j->buf, cap);
    if (!nb) {
        j->failed = 1;
        return NULL;
    }
    j->buf = nb;
    j->cap = cap;
    return j->buf + j->len;
}

/* Room for n more bytes and the NUL, checked once for a whole piece
 * (a member's key, a string with its worst-case escaping): the writers
 * then store bytes without a check each. listen prints every field of
 * every message through here (issue 14). */
static inline char *reserve(xt_cli_json *j, size_t n)
{
    if (j->failed)
        return NULL;
    if (j->cap > j->len && n < j->cap - j->len)
        return j->buf + j->len;
    return reserve_slow(j, n);
}

/* Ends a piece written at the reserved pointer, up to o. */
static inline void commit(xt_cli_json *j, char *o)
{
    *o = '\0';
    j->len = (size_t)(o - j->buf);
}

static void put(xt_cli_json *j, const char *s, size_t n)
{
    char *o = reserve(j, n);
    if (!o)
        return;
    memcpy(o, s, n);
    commit(j, o + n);
}

static void puts_(xt_cli_json *j, const char *s)
{
    put(j, s, strlen(s));
}

/* Writes "\\uXXXX" for one code point (a surrogate pair past U+FFFF) at
 * o; returns the end. */
static char *escape_unit(char *o, uint32_t uc)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t units[2] = {uc, 0};
    size_t n = 1;

    if (uc > 0xffff) {
        units[0] = 0xd800 + ((uc - 0x10000) >> 10);
        units[1] = 0xdc00 + ((uc - 0x10000) & 0x3ff);
        n = 2;
    }
    for (size_t k = 0; k < n; k++) {
        *o++ = '\\';
        *o++ = 'u';
        for (int d = 0; d < 4; d++)
            *o++ = hex[(units[k] >> (12 - 4 * d)) & 15];
    }
    return o;
}

/* Bytes that put_string copies as they are: printable ASCII but '"' and
 * '\\' (RFC 8259 §7); tested first, so a run of plain text stays on the
 * short path (listen escapes every field of every message). As a table
 * for the bytes after the last whole vector step (every key, and every
 * value's tail): one load a byte. */
static const uint8_t plain_tab[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The plain run starting at p[0], up to n bytes. With SSE2 (every
 * x86-64) sixteen bytes a step: plain is 0x20 <= c <= 0x7e (c - 0x20,
 * unsigned, at most 0x5e) and neither '"' nor '\\'. Elsewhere eight
 * bytes at a time while none of them needs a look, tested word-wide.
 * The tail one by one. Listen's per-byte loop was the CLI's largest
 * cost after the store (~3,500 instructions a message); every field of
 * every message passes here (issue 14). */
static inline size_t plain_run(const uint8_t *p, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i lo = _mm_set1_epi8(0x20), span = _mm_set1_epi8(0x5e);
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i t = _mm_sub_epi8(v, lo);
        __m128i ok = _mm_cmpeq_epi8(_mm_max_epu8(t, span), span);
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(bad, ok)) ^ 0xffffu;
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#else
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
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
#endif
    while (i < n && plain_tab[p[i]])
        i++;
    return i;
}

/* At most 6 bytes out per byte in: a control or a byte that is not
 * UTF-8 becomes \uXXXX (6), a 2- or 3-byte character at worst 6, a
 * 4-byte one 12 (a surrogate pair). */
#define ESC_MAX 6

/* 1 when one of the 8 bytes of w (4 when the upper ones repeat a plain
 * byte) is not plain: the word test of plain_run. With no such byte no
 * borrow or carry crosses a byte, so nothing plain is flagged. */
static inline int word_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t lt = (w - ones * 0x20) & ~w;
    uint64_t ge = (w + ones * 0x01) | w;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b;
    return ((lt | ge | zq | zb) & high) != 0;
}

/* The last r (1..15) bytes of a string, all plain: copied with two
 * overlapping loads and stores, no loop (most fields of a message are
 * shorter than 16 bytes, or end in such a tail). 0 when one is not
 * plain: the caller then goes byte by byte. */
static inline int copy_tail(char *o, const uint8_t *p, size_t r)
{
    if (r >= 8) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + r - 8, 8);
        if (word_special(a) || word_special(b))
            return 0;
        memcpy(o, &a, 8);
        memcpy(o + r - 8, &b, 8);
        return 1;
    }
    if (r >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + r - 4, 4);
        /* the upper half repeats a byte of the lower: plain or not alike */
        if (word_special((uint64_t)a | (uint64_t)a << 32) ||
            word_special((uint64_t)b | (uint64_t)b << 32))
            return 0;
        memcpy(o, &a, 4);
        memcpy(o + r - 4, &b, 4);
        return 1;
    }
    for (size_t k = 0; k < r; k++)
        if (!plain_tab[p[k]])
            return 0;
    memcpy(o, p, r);
    return 1;
}

/* Copies the plain run at p[*ip] to o, returns the end and moves *ip
 * past it. With SSE2 each 16-byte step is stored as it is tested (the
 * room is reserved: ESC_MAX per byte), so no second pass copies it. */
static inline char *copy_plain(char *o, const uint8_t *p, size_t n, size_t *ip)
{
    size_t i = *ip;
#ifdef __SSE2__
    const __m128i lo = _mm_set1_epi8(0x20), span = _mm_set1_epi8(0x5e);
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16, o += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        _mm_storeu_si128((__m128i *)(void *)o, v);
        __m128i t = _mm_sub_epi8(v, lo);
        __m128i ok = _mm_cmpeq_epi8(_mm_max_epu8(t, span), span);
        __m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(bad, ok)) ^ 0xffffu;
        if (m) {
            unsigned k = (unsigned)__builtin_ctz(m);
            *ip = i + k;
            return o + k;
        }
    }
    if (i < n && copy_tail(o, p + i, n - i)) {
        *ip = n;
        return o + (n - i);
    }
    while (i < n && plain_tab[p[i]])
        *o++ = (char)p[i++];
#else
    size_t k = plain_run(p + i, n - i);
    memcpy(o, p + i, k);
    o += k;
    i += k;
#endif
    *ip = i;
    return o;
}

/* Writes n bytes at p as a JSON string, quotes included, at o (room
 * for ESC_MAX * n + 2 reserved); returns the end. */
static inline char *write_string(char *o, const uint8_t *p, size_t n)
{
    size_t i = 0;

    *o++ = '"';
    while (i < n) {
        o = copy_plain(o, p, n, &i);
        if (i == n)
            break;
        uint8_t c = p[i];
        const char *e;

        if (c >= 0x80) {
            ucs4_t uc;
            int m = u8_mbtoucr(&uc, p + i, n - i);
            if (m > 0 && !xt_cli_char_unsafe(uc)) {
                memcpy(o, p + i, (size_t)m);
                o += m;
                i += (size_t)m;
                continue;
            }
            if (m > 0) {
                /* C1 controls, bidi and other format characters are
                 * valid JSON but reach a terminal when the output is
                 * read there (jq, less): \uXXXX (a surrogate pair past
                 * U+FFFF, RFC 8259 §7), like sanitize.h shows them. */
                o = escape_unit(o, uc);
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
            o = escape_unit(o, c);
            i++;
            continue;
        }
        size_t el = strlen(e);
        memcpy(o, e, el);
        o += el;
        i++;
    }
    *o++ = '"';
    return o;
}

static void put_string(xt_cli_json *j, const char *s, size_t n)
{
    if (n > (SIZE_MAX / 4) / ESC_MAX) {
        j->failed = 1;
        return;
    }
    char *o = reserve(j, ESC_MAX * n + 2);
    if (o)
        commit(j, write_string(o, (const uint8_t *)s, n));
}

/* Writes the separator and "key": for a new member of the current level. */
static void member(xt_cli_json *j, const char *key)
{
    int sep = !j->first[j->depth];
    j->first[j->depth] = 0;
    size_t kl = key ? strlen(key) : 0;
    /* Our keys are short plain words: ,"key": in one piece. */
    if (!key || (kl < 64 && plain_run((const uint8_t *)key, kl) == kl)) {
        char *o = reserve(j, kl + 4);
        if (!o)
            return;
        if (sep)
            *o++ = ',';
        if (key) {
            *o++ = '"';
            memcpy(o, key, kl);
            o += kl;
            *o++ = '"';
            *o++ = ':';
        }
        commit(j, o);
        return;
    }
    if (sep)
        put(j, ",", 1);
    put_string(j, key, kl);
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

void xt_cli_json_str_k(xt_cli_json *j, const char *key, size_t klen, const char *value)
{
    if (!value)
        return;
    size_t n = strlen(value);
    if (n > (SIZE_MAX / 4) / ESC_MAX || klen > 256) {
        j->failed = 1;
        return;
    }
    /* Separator, key and the string's worst case: one check. */
    char *o = reserve(j, klen + 4 + ESC_MAX * n + 2);
    if (!o)
        return;
    if (!j->first[j->depth])
        *o++ = ',';
    j->first[j->depth] = 0;
    *o++ = '"';
    memcpy(o, key, klen);
    o += klen;
    *o++ = '"';
    *o++ = ':';
    commit(j, write_string(o, (const uint8_t *)value, n));
}

#define LIST_MAX 32

void xt_cli_json_str_list(xt_cli_json *j, const xt_cli_json_member *mm, size_t n)
{
    size_t len[LIST_MAX], need = 0;
    if (n > LIST_MAX) {
        j->failed = 1;
        return;
    }
    for (size_t k = 0; k < n; k++) {
        len[k] = mm[k].value ? strlen(mm[k].value) : 0;
        if (len[k] > (SIZE_MAX / 4) / ESC_MAX / LIST_MAX || mm[k].klen > 256) {
            j->failed = 1;
            return;
        }
        need += mm[k].klen + 4 + ESC_MAX * len[k] + 2;
    }
    char *o = reserve(j, need);
    if (!o)
        return;
    int first = j->first[j->depth];
    for (size_t k = 0; k < n; k++) {
        if (!mm[k].value)
            continue;
        if (!first)
            *o++ = ',';
        first = 0;
        *o++ = '"';
        memcpy(o, mm[k].key, mm[k].klen);
        o += mm[k].klen;
        *o++ = '"';
        *o++ = ':';
        o = write_string(o, (const uint8_t *)mm[k].value, len[k]);
    }
    j->first[j->depth] = first;
    commit(j, o);
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
