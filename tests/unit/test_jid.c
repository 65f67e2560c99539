/* Unit tests: JID parsing and normalization (src/core/jid.c) over every
 * row of ../shared/vectors/jid.tsv, plus comparisons and the builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failmem.h"
#include "vectors.h"
#include "base/mem.h"
#include "core/jid_int.h"
#include "core/precis.h"
#include "xtalk/jid.h"

/*
 * Rows we knowingly fail, with the reason. The test fails if any other
 * row fails, and also if a listed row passes (so the list stays honest).
 * Empty: every row passes with libunistring's Unicode data.
 */
static const struct {
    const char *id;
    const char *reason;
} known_failures[] = {
    {NULL, NULL},
};

#define MAXCOLS 16

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* Splits line (modified in place) at tabs. */
static int split_tabs(char *line, char **cols)
{
    int n = 0;
    cols[n++] = line;
    for (char *p = line; *p && n < MAXCOLS; p++) {
        if (*p == '\t') {
            *p = '\0';
            cols[n++] = p + 1;
        }
    }
    return n;
}

static char *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    assert_int_equal(n % 2, 0);
    char *out = malloc(n / 2 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i += 2) {
        unsigned v;
        assert_int_equal(sscanf(hex + i, "%2x", &v), 1);
        out[i / 2] = (char)v;
    }
    out[n / 2] = '\0';
    *len = n / 2;
    return out;
}

static int col_index(char **hdr, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(hdr[i], name) == 0)
            return i;
    fail_msg("jid.tsv: no column %s", name);
    return -1;
}

static const char *known_reason(const char *id)
{
    for (size_t i = 0; known_failures[i].id; i++)
        if (strcmp(known_failures[i].id, id) == 0)
            return known_failures[i].reason;
    return NULL;
}

static int streq_opt(const char *got, const char *want)
{
    /* Empty column = part absent. */
    if (!*want)
        return got == NULL;
    return got && strcmp(got, want) == 0;
}

static int fast_rows; /* rows xt_jid_prep_fast took */

/* Runs one row; returns 1 if it behaves as the vector says. Writes a
 * description of the mismatch into msg. */
static int run_row(char **c, int ci_id, int ci_op, int ci_hex, int ci_valid, int ci_l, int ci_d,
                   int ci_r, int ci_bare, int ci_full, int ci_notes, char *msg, size_t msglen)
{
    size_t len;
    char *in = unhex(c[ci_hex], &len);
    const char *valid = c[ci_valid];
    int want_ok = 0;
    if (strcmp(valid, "yes") == 0)
        want_ok = 1;
    else if (strcmp(valid, "no") == 0)
        want_ok = 0;
    else if (strcmp(valid, "disputed") == 0) {
        /* Follow the recommendation in the notes. */
        if (strstr(c[ci_notes], "Recommended: ACCEPT"))
            want_ok = 1;
        else if (strstr(c[ci_notes], "Recommended: REJECT"))
            want_ok = 0;
        else
            fail_msg("%s: disputed row without a recommendation", c[ci_id]);
    } else {
        fail_msg("%s: bad valid column %s", c[ci_id], valid);
    }

    xt_jid *j = NULL;
    const char *why = NULL;
    int rc = -1;
    if (strcmp(c[ci_op], "parse") == 0) {
        rc = xt_jid_parse_n(NULL, in, len, &j, &why);
        /* The send path's fast preparation: only what the full path
         * accepts, with the same result. */
        char fast[4096];
        size_t fl = xt_jid_prep_fast(in, len, fast, sizeof fast);
        if (fl) {
            fast_rows++;
            if (rc != 0 || strlen(fast) != fl || strcmp(fast, xt_jid_full(j)) != 0)
                fail_msg("%s: fast path gives \"%s\", full path rc %d \"%s\"", c[ci_id], fast, rc,
                         j ? xt_jid_full(j) : "");
        }
    } else if (strcmp(c[ci_op], "build_local") == 0) {
        /* The localpart must not hide a NUL we would cut at. */
        assert_int_equal(strlen(in), len);
        rc = xt_jid_build(NULL, in, c[ci_d], NULL, &j, &why);
    } else {
        fail_msg("%s: unknown op %s", c[ci_id], c[ci_op]);
    }
    free(in);

    int ok = 1;
    if (!want_ok) {
        if (rc != XT_EJID || j != NULL || why == NULL) {
            snprintf(msg, msglen, "accepted (rc %d) as %s", rc, j ? xt_jid_full(j) : "?");
            ok = 0;
        }
    } else if (rc != 0 || !j) {
        snprintf(msg, msglen, "rejected: %s", why ? why : "(no reason)");
        ok = 0;
    } else if (!streq_opt(xt_jid_local(j), c[ci_l]) || !streq_opt(xt_jid_domain(j), c[ci_d]) ||
               !streq_opt(xt_jid_resource(j), c[ci_r]) || strcmp(xt_jid_bare(j), c[ci_bare]) != 0 ||
               strcmp(xt_jid_full(j), c[ci_full]) != 0) {
        snprintf(msg, msglen, "parts differ: got full \"%s\" (local %s, domain %s, resource %s)",
                 xt_jid_full(j), xt_jid_local(j) ? xt_jid_local(j) : "-", xt_jid_domain(j),
                 xt_jid_resource(j) ? xt_jid_resource(j) : "-");
        ok = 0;
    } else {
        /* A normalized JID is a fixed point: re-parsing gives itself. */
        xt_jid *k = NULL;
        if (xt_jid_parse(NULL, xt_jid_full(j), &k, &why) != 0 || !xt_jid_equal(j, k)) {
            snprintf(msg, msglen, "not idempotent");
            ok = 0;
        }
        xt_jid_free(k);
    }
    xt_jid_free(j);
    return ok;
}

static void test_vectors(void **state)
{
    (void)state;
    char path[4096];
    assert_int_equal(xt_test_vector_path("jid.tsv", path, sizeof path), 0);
    size_t flen;
    char *file = slurp(path, &flen);
    if (!file)
        fail_msg("cannot read %s", path);

    char *hdr[MAXCOLS];
    int nhdr = 0;
    int rows = 0, unexpected = 0, known = 0;
    int ci_id = 0, ci_op = 0, ci_hex = 0, ci_valid = 0, ci_l = 0, ci_d = 0, ci_r = 0, ci_bare = 0,
        ci_full = 0, ci_notes = 0;
    char *save = NULL;
    for (char *line = strtok_r(file, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        if (nhdr == 0) {
            nhdr = split_tabs(line, hdr);
            ci_id = col_index(hdr, nhdr, "id");
            ci_op = col_index(hdr, nhdr, "op");
            ci_hex = col_index(hdr, nhdr, "input_hex");
            ci_valid = col_index(hdr, nhdr, "valid");
            ci_l = col_index(hdr, nhdr, "localpart");
            ci_d = col_index(hdr, nhdr, "domainpart");
            ci_r = col_index(hdr, nhdr, "resourcepart");
            ci_bare = col_index(hdr, nhdr, "bare");
            ci_full = col_index(hdr, nhdr, "full");
            ci_notes = col_index(hdr, nhdr, "notes");
            continue;
        }
        char *c[MAXCOLS];
        int n = split_tabs(line, c);
        /* The empty-input row has an empty hex column: still nhdr columns. */
        if (n != nhdr)
            fail_msg("jid.tsv: row %s has %d columns, header %d", c[0], n, nhdr);
        rows++;
        char msg[1024] = "";
        int ok = run_row(c, ci_id, ci_op, ci_hex, ci_valid, ci_l, ci_d, ci_r, ci_bare, ci_full,
                         ci_notes, msg, sizeof msg);
        const char *reason = known_reason(c[ci_id]);
        if (reason) {
            if (ok) {
                print_error("%s: listed as a known failure (%s) but now passes; remove it\n",
                            c[ci_id], reason);
                unexpected++;
            } else {
                known++;
            }
        } else if (!ok) {
            print_error("%s (%s): %s\n", c[ci_id], c[ci_valid], msg);
            unexpected++;
        }
    }
    free(file);
    /* Every listed known failure must name a real row that failed. */
    size_t listed = 0;
    while (known_failures[listed].id)
        listed++;
    assert_int_equal((size_t)known, listed);
    assert_true(rows >= 90);
    assert_int_equal(unexpected, 0);
    /* The common rows (ASCII, LDH) did take the fast path. */
    assert_true(fast_rows >= 15);
}

static void test_compare(void **state)
{
    (void)state;
    assert_true(xt_jid_str_equal("Juliet@Example.COM/Balcony", "juliet@example.com/Balcony"));
    assert_false(xt_jid_str_equal("juliet@example.com/FOO", "juliet@example.com/foo"));
    assert_true(xt_jid_str_bare_equal("juliet@example.com/FOO", "JULIET@example.com/foo"));
    assert_false(xt_jid_str_bare_equal("romeo@example.com", "juliet@example.com"));
    assert_false(xt_jid_str_equal("@bad", "@bad"));
    assert_false(xt_jid_str_equal(NULL, "a@b"));
    assert_true(xt_jid_str_equal("example.com.", "EXAMPLE.com"));
    assert_false(xt_jid_str_equal("fussball@example.com", "fu\xc3\x9f"
                                                          "ball@example.com"));
    assert_false(xt_jid_equal(NULL, NULL));
    xt_jid_free(NULL);
}

static void test_build(void **state)
{
    (void)state;
    xt_jid *j = NULL;
    const char *why = NULL;
    assert_int_equal(xt_jid_build(NULL, "Juliet", "Example.com", "Bal cony", &j, &why), 0);
    assert_string_equal(xt_jid_full(j), "juliet@example.com/Bal cony");
    assert_string_equal(xt_jid_bare(j), "juliet@example.com");
    xt_jid_free(j);
    assert_int_equal(xt_jid_build(NULL, NULL, "xn--bcher-kva.ch", NULL, &j, &why), 0);
    assert_string_equal(xt_jid_domain(j), "b\xc3\xbc"
                                          "cher.ch"); /* A-label -> U-label */
    assert_null(xt_jid_local(j));
    assert_null(xt_jid_resource(j));
    xt_jid_free(j);
    assert_int_equal(xt_jid_build(NULL, "a", "b/c", NULL, &j, &why), XT_EJID);
    assert_non_null(why);
    assert_int_equal(xt_jid_build(NULL, "", "b", NULL, &j, &why), XT_EJID);
    assert_string_equal(why, "empty localpart");
    assert_int_equal(xt_jid_parse(NULL, "a@b", NULL, &why), XT_EINVAL);
    assert_int_equal(xt_jid_parse(NULL, "a@\xff", &j, &why), XT_EJID);
    assert_null(j);
}

static void test_hostile(void **state)
{
    (void)state;
    /* Malformed UTF-8, overlongs, surrogates, huge inputs, separators only. */
    const char *bad[] = {
        "a\xc0\xaf@b",
        "a@b/\xed\xa0\x80",
        "a@b/\xf4\x90\x80\x80",
        "\xe2\x80\x8d@b",
        "a@b/\xe2\x80\x8e",
        "a@[::1",
        "a@[]",
        "a@[zz::1]",
        "a@b..c",
        "a@.b",
        ".",
        "@",
        "/",
        "a@b\xe3\x80\x82\xe3\x80\x82",
        "a@xn--zz",
        "a@ex ample.com",
        "a@ex_ample.com",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xt_jid *j = NULL;
        const char *why = NULL;
        if (xt_jid_parse(NULL, bad[i], &j, &why) != XT_EJID)
            fail_msg("accepted %s as %s", bad[i], j ? xt_jid_full(j) : "?");
        assert_non_null(why);
    }
    size_t big = 20000;
    char *s = malloc(big + 1);
    assert_non_null(s);
    memset(s, 'a', big);
    s[big] = '\0';
    xt_jid *j = NULL;
    const char *why;
    assert_int_equal(xt_jid_parse(NULL, s, &j, &why), XT_EJID);
    s[10] = '@';
    s[20] = '/';
    assert_int_equal(xt_jid_parse(NULL, s, &j, &why), XT_EJID);
    free(s);
    /* Ideographic full stop is a label separator. */
    assert_int_equal(xt_jid_parse(NULL,
                                  "a@example\xe3\x80\x82"
                                  "com",
                                  &j, &why),
                     0);
    assert_string_equal(xt_jid_domain(j), "example.com");
    xt_jid_free(j);
}

static void test_precis_helpers(void **state)
{
    (void)state;
    char *out = NULL;
    const char *why = NULL;
    /* OpaqueString for passwords: NFC, non-ASCII space mapped, case kept. */
    assert_int_equal(xt_precis_opaque(NULL,
                                      "Pe\xcc\x81"
                                      "n\xe3\x80\x80"
                                      "C",
                                      9, &out, &why),
                     0);
    assert_string_equal(out, "P\xc3\xa9n C");
    xt_free_secret(NULL, out);
    assert_int_equal(xt_precis_opaque(NULL, "", 0, &out, &why), XT_EINVAL);
    assert_int_equal(xt_precis_opaque(NULL, "a\tb", 3, &out, &why), XT_EINVAL);
    assert_non_null(why);
    assert_int_equal(xt_precis_username_casemapped(NULL,
                                                   "\xef\xbc\xaa"
                                                   "ULIET",
                                                   8, &out, &why),
                     0);
    assert_string_equal(out, "juliet");
    xt_free(NULL, out);
}

/* Allocation-failure loop over the xt_mem hooks: every failure point
 * gives XT_ENOMEM and no leak (checked by ASan). */
static void test_alloc_failures(void **state)
{
    (void)state;
    const xt_mem mem = xt_test_failing_mem;
    const char *in = "Juliet@B\xc3\x9c"
                     "CHER.example/Balcony\xe3\x80\x80"
                     "1";
    int completed = 0;
    for (xt_test_fail_at = 1; xt_test_fail_at < 1000 && !completed; xt_test_fail_at++) {
        xt_test_alloc_count = 0;
        xt_jid *j = NULL;
        const char *why = NULL;
        int rc = xt_jid_parse(&mem, in, &j, &why);
        if (rc == 0) {
            assert_string_equal(xt_jid_full(j), "juliet@b\xc3\xbc"
                                                "cher.example/Balcony 1");
            completed = xt_test_alloc_count < xt_test_fail_at;
            if (!completed)
                fail_msg("allocation %ld failed but parse succeeded", xt_test_fail_at);
        } else {
            assert_int_equal(rc, XT_ENOMEM);
            assert_null(j);
        }
        xt_jid_free(j);
    }
    assert_true(completed);
}

/* XEP-0106 escaping, every row of jid-escaping.tsv. */
static void test_escaping(void **state)
{
    (void)state;
    char path[4096];
    assert_int_equal(xt_test_vector_path("jid-escaping.tsv", path, sizeof path), 0);
    size_t flen;
    char *file = slurp(path, &flen);
    if (!file)
        fail_msg("cannot read %s", path);
    char *hdr[MAXCOLS];
    int nhdr = 0, rows = 0, bad = 0;
    int ci_id = 0, ci_dir = 0, ci_un = 0, ci_esc = 0;
    char *save = NULL;
    for (char *line = strtok_r(file, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        if (nhdr == 0) {
            nhdr = split_tabs(line, hdr);
            ci_id = col_index(hdr, nhdr, "id");
            ci_dir = col_index(hdr, nhdr, "direction");
            ci_un = col_index(hdr, nhdr, "unescaped");
            ci_esc = col_index(hdr, nhdr, "escaped");
            continue;
        }
        char *c[MAXCOLS];
        int n = split_tabs(line, c);
        if (n < nhdr - 1)
            fail_msg("jid-escaping.tsv: short row %s", c[0]);
        rows++;
        char *e = NULL, *u = NULL;
        assert_int_equal(xt_jid_unescape_local(NULL, c[ci_esc], &u), 0);
        if (strcmp(c[ci_dir], "both") == 0) {
            assert_int_equal(xt_jid_escape_local(NULL, c[ci_un], &e), 0);
            if (strcmp(e, c[ci_esc]) != 0) {
                print_error("%s: escape(%s) = %s, want %s\n", c[ci_id], c[ci_un], e, c[ci_esc]);
                bad++;
            }
            if (strcmp(u, c[ci_un]) != 0) {
                print_error("%s: unescape(%s) = %s, want %s\n", c[ci_id], c[ci_esc], u, c[ci_un]);
                bad++;
            }
        } else if (strcmp(c[ci_dir], "no-unescape") == 0) {
            if (strcmp(u, c[ci_esc]) != 0) {
                print_error("%s: unescape changed %s to %s\n", c[ci_id], c[ci_esc], u);
                bad++;
            }
        } else {
            fail_msg("%s: unknown direction %s", c[ci_id], c[ci_dir]);
        }
        xt_free(NULL, e);
        xt_free(NULL, u);
    }
    free(file);
    assert_true(rows >= 29);
    assert_int_equal(bad, 0);
}

/* The printable-ASCII fast path of PRECIS enforcement gives exactly what
 * the full (UTF-32, libunistring) path gives, for every such character
 * at the start, middle and end, in both profiles. */
static void test_ascii_fast_path_matches_full_path(void **state)
{
    (void)state;
    for (int c = 0x20; c <= 0x7F; c++) {
        for (int pos = 0; pos < 3; pos++) {
            char in[8] = "AbZ";
            in[pos] = (char)c;
            for (int prof = 0; prof < 2; prof++) {
                uint8_t *fast = NULL, *slow = NULL;
                size_t nf = 0, ns = 0;
                const char *wf = NULL, *ws = NULL;
                xt_precis_profile pr = prof ? XT_PRECIS_USERNAME_CASEMAPPED : XT_PRECIS_OPAQUE;
                int rf = xt_precis_enforce(pr, XT_PRECIS_OTHER, XT_PRECIS_FAST_PATH, in, 3, &fast,
                                           &nf, &wf);
                int rs = xt_precis_enforce(pr, XT_PRECIS_OTHER, XT_PRECIS_FULL_PATH, in, 3, &slow,
                                           &ns, &ws);
                if (rf != rs || (fast && !slow) || (!fast && slow) ||
                    (fast && (nf != ns || memcmp(fast, slow, nf))) || (rf && strcmp(wf, ws)))
                    fail_msg("char 0x%02x at %d, profile %d: fast %d '%s', full %d '%s'", c, pos,
                             prof, rf, fast ? (char *)fast : "", rs, slow ? (char *)slow : "");
                free(fast);
                free(slow);
            }
        }
    }
}

/* xt_jid_prep_fast against the full path: accepted means accepted with
 * the same full JID; everything else is left to the full path. */
static void check_fast(const char *in, size_t len, int *taken)
{
    char fast[2100];
    size_t fl = xt_jid_prep_fast(in, len, fast, sizeof fast);
    xt_jid *j = NULL;
    int rc = xt_jid_parse_n(NULL, in, len, &j, NULL);
    if (fl) {
        (*taken)++;
        if (rc != 0 || fl != strlen(xt_jid_full(j)) || memcmp(fast, xt_jid_full(j), fl + 1) != 0)
            fail_msg("'%.*s': fast \"%s\", full rc %d \"%s\"", (int)len, in, fast, rc,
                     j ? xt_jid_full(j) : "");
    }
    xt_jid_free(j);
}

static void test_prep_fast(void **state)
{
    (void)state;
    int taken = 0;
    static const char *const cases[] = {
        "juliet@example.com", "Juliet@EXAMPLE.com/Balcony", "example.com", "example.com.",
        "example.com..", ".", "a@.", "a@b..c", "a@-b", "a@b-", "a@ab--c", "a@xn--caf-dma.com",
        "a@XN--caf-dma.com", "a@1.2.3.4", "a@1.2.3.4.", "a@999.1.1.1", "a@[::1]", "a@[::1",
        "a@b_c", "a'b@c", "a\"b@c", "a&b@c", "a:b@c", "a<b@c", "a>b@c", "a/b@c", "@c", "a@",
        "a@/r", "a@b/", "a@b/r/s@t", "a@b/r'\"&<>", "a@b/r s", "a b@c", "a@b c", "a@b@c",
        "a@@b", "!#$%()*+,-;=?[]^_`{|}~@x", "a@b.c/\x7f", "a\x7f@b", "\xc3\xa9@b", "a@\xc3\xa9",
        "a@b/\xc3\xa9", "A@B/C", "a@b/R/S",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_fast(cases[i], strlen(cases[i]), &taken);
    /* Length limits: 63/64-octet labels, 1023/1024-octet parts. */
    static char big[2100];
    size_t sizes[] = {62, 63, 64, 1022, 1023, 1024};
    for (size_t k = 0; k < 6; k++) {
        size_t n = sizes[k];
        memset(big, 'a', n); /* localpart */
        memcpy(big + n, "@b", 3);
        check_fast(big, n + 2, &taken);
        memcpy(big, "a@", 2); /* one long label */
        memset(big + 2, 'b', n);
        check_fast(big, n + 2, &taken);
        for (size_t i = 2; i < n + 2; i += 10) /* labels of 9 joined by dots */
            big[i] = '.';
        big[3] = 'c';
        check_fast(big, n + 2, &taken);
        memcpy(big, "a@b/", 4); /* resourcepart */
        memset(big + 4, 'R', n);
        check_fast(big, n + 4, &taken);
    }
    /* Does not fit: left to the full path. */
    char small[8];
    assert_int_equal(xt_jid_prep_fast("abc@d.e", 7, small, 7), 0);
    assert_int_equal(xt_jid_prep_fast("abc@d.e", 7, small, 8), 7);
    assert_string_equal(small, "abc@d.e");
    /* Random strings over the characters that matter. */
    static const char alpha[] = "abcXYZ0129.-@/abcXYZ.@/_[]:' \"&<>\x7f\xc3\xa9";
    uint32_t x = 12345;
    char in[16];
    for (int n = 0; n < 40000; n++) {
        x = x * 1103515245u + 12345u;
        size_t len = 1 + (x >> 16) % 12;
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            in[i] = alpha[(x >> 16) % (sizeof alpha - 1)];
        }
        check_fast(in, len, &taken);
    }
    /* The fast path is not dead. */
    print_message("fast path taken %d times\n", taken);
    assert_true(taken > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_fast_path_matches_full_path),
        cmocka_unit_test(test_vectors),        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_build),          cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_precis_helpers), cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_escaping),       cmocka_unit_test(test_prep_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
