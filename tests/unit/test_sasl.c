/* Unit tests: SASL mechanism selection, PLAIN and SCRAM through the
 * xt_sasl interface (src/core/sasl.c), against sasl-misc.json and
 * scram.json in ../shared/vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "failmem.h"
#include "vectors.h"
#include "base/buf.h"
#include "core/base64.h"
#include "core/sasl.h"

static json_t *misc, *scram;

static int setup(void **state)
{
    (void)state;
    misc = xt_test_load_json("sasl-misc.json");
    scram = xt_test_load_json("scram.json");
    return misc && scram ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(misc);
    json_decref(scram);
    return 0;
}

static json_t *exchange(const char *id)
{
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(scram, "exchanges"), i, ex)
    {
        if (strcmp(xt_test_jstr(ex, "id"), id) == 0)
            return ex;
    }
    fail_msg("no exchange %s", id);
    return NULL;
}

static const uint8_t cb32[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static const char *pick(const char *const *offered, size_t n, int tls, int allow_plain, int cb)
{
    static char name[64];
    xt_sasl_params p = {
        .authcid = "juliet",
        .password = "r0m30myr0m30",
        .tls = tls,
        .allow_plain = allow_plain,
        .cb_type = cb ? "tls-exporter" : NULL,
        .cb_data = cb ? cb32 : NULL,
        .cb_len = cb ? sizeof cb32 : 0,
    };
    xt_sasl *s = NULL;
    int rc = xt_sasl_new(NULL, offered, n, &p, &s);
    if (rc == XT_EUNSUPPORTED) {
        assert_null(s);
        return NULL;
    }
    assert_int_equal(rc, 0);
    snprintf(name, sizeof name, "%s", xt_sasl_mechanism(s));
    xt_sasl_free(s);
    return name;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_selection(void **state)
{
    (void)state;
    const char *all[] = {"PLAIN",
                         "SCRAM-SHA-1",
                         "SCRAM-SHA-1-PLUS",
                         "SCRAM-SHA-256",
                         "SCRAM-SHA-256-PLUS",
                         "SCRAM-SHA-512",
                         "SCRAM-SHA-512-PLUS"};
    const char *rev[] = {"SCRAM-SHA-512-PLUS",
                         "SCRAM-SHA-512",
                         "SCRAM-SHA-256-PLUS",
                         "SCRAM-SHA-256",
                         "SCRAM-SHA-1-PLUS",
                         "SCRAM-SHA-1",
                         "PLAIN"};
    assert_string_equal(pick(all, N(all), 1, 1, 1), "SCRAM-SHA-512-PLUS");
    assert_string_equal(pick(rev, N(rev), 1, 1, 1), "SCRAM-SHA-512-PLUS");
    /* -PLUS only with channel-binding data. */
    assert_string_equal(pick(all, N(all), 1, 1, 0), "SCRAM-SHA-512");
    assert_string_equal(pick(rev, N(rev), 1, 1, 0), "SCRAM-SHA-512");
    const char *mid[] = {"SCRAM-SHA-1", "PLAIN", "SCRAM-SHA-256"};
    assert_string_equal(pick(mid, N(mid), 1, 1, 1), "SCRAM-SHA-256");
    const char *plus1[] = {"SCRAM-SHA-256", "SCRAM-SHA-1-PLUS"};
    assert_string_equal(pick(plus1, N(plus1), 1, 1, 1), "SCRAM-SHA-1-PLUS");
    assert_string_equal(pick(plus1, N(plus1), 1, 1, 0), "SCRAM-SHA-256");
    const char *plusonly[] = {"SCRAM-SHA-256-PLUS"};
    assert_null(pick(plusonly, N(plusonly), 1, 1, 0));
    /* PLAIN never without TLS, nor when not allowed. */
    const char *plain[] = {"PLAIN"};
    assert_string_equal(pick(plain, N(plain), 1, 1, 0), "PLAIN");
    assert_null(pick(plain, N(plain), 0, 1, 0));
    assert_null(pick(plain, N(plain), 1, 0, 0));
    assert_null(pick(plain, N(plain), 0, 1, 1));
    /* Unknown or weak mechanisms only -> nothing usable. */
    const char *weak[] = {"DIGEST-MD5", "CRAM-MD5", "ANONYMOUS", "scram-sha-1", "X-OAUTH2"};
    assert_null(pick(weak, N(weak), 1, 1, 1));
    assert_null(pick(NULL, 0, 1, 1, 1));
    /* An unknown cb type is no channel binding (and no 'y' either). */
    xt_sasl_params p = {
        .authcid = "u", .password = "p", .cb_type = "tls-foo", .cb_data = cb32, .cb_len = 32};
    xt_sasl *s = NULL;
    assert_int_equal(xt_sasl_new(NULL, all, N(all), &p, &s), 0);
    assert_string_equal(xt_sasl_mechanism(s), "SCRAM-SHA-512");
    assert_int_equal(xt_sasl_cb_flag(s), 'n');
    xt_sasl_free(s);
    xt_sasl_free(NULL);
}

static void test_plain_vectors(void **state)
{
    (void)state;
    json_t *arr = json_object_get(json_object_get(misc, "plain"), "vectors");
    assert_true(json_array_size(arr) >= 7);
    const char *offered[] = {"PLAIN"};
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *authzid = xt_test_jstr(v, "authzid");
        xt_sasl_params p = {
            .authcid = xt_test_jstr(v, "authcid"),
            .password = xt_test_jstr(v, "passwd"),
            .authzid = authzid && *authzid ? authzid : NULL,
            .tls = 1,
            .allow_plain = 1,
        };
        xt_sasl *s = NULL;
        assert_int_equal(xt_sasl_new(NULL, offered, 1, &p, &s), 0);
        xt_buf out, want, b64;
        xt_buf_init(&out, NULL);
        xt_buf_init(&want, NULL);
        xt_buf_init(&b64, NULL);
        assert_int_equal(xt_sasl_initial(s, &out), 0);
        xt_test_hex_to_buf(&want, xt_test_jstr(v, "message_hex"));
        assert_int_equal(xt_buf_size(&out), json_integer_value(json_object_get(v, "message_len")));
        assert_int_equal(xt_buf_size(&out), xt_buf_size(&want));
        assert_memory_equal(xt_buf_head(&out), xt_buf_head(&want), xt_buf_size(&want));
        assert_int_equal(xt_base64_encode(&b64, xt_buf_head(&out), xt_buf_size(&out)), 0);
        assert_string_equal(xt_buf_cstr(&b64), xt_test_jstr(v, "message_b64"));
        /* PLAIN has no challenges; success carries no data. */
        assert_int_equal(xt_sasl_success(s, NULL, 0), 0);
        xt_buf_free(&out);
        xt_buf_free(&want);
        xt_buf_free(&b64);
        xt_sasl_free(s);
    }
}

/* The invalid messages are server-side cases; those that can be posed to
 * a client (three fields, each a C string) must be refused at creation.
 * Messages with other NUL counts cannot be expressed through C strings. */
static void test_plain_invalid(void **state)
{
    (void)state;
    json_t *arr = json_object_get(json_object_get(misc, "plain"), "invalid");
    assert_true(json_array_size(arr) >= 6);
    const char *offered[] = {"PLAIN"};
    size_t i;
    json_t *v;
    int checked = 0;
    json_array_foreach(arr, i, v)
    {
        xt_buf m;
        xt_buf_init(&m, NULL);
        xt_test_hex_to_buf(&m, xt_test_jstr(v, "message_hex"));
        char *f[3];
        int nf = 0;
        const char *data = xt_buf_cstr(&m);
        size_t len = xt_buf_size(&m), start = 0;
        for (size_t k = 0; k <= len; k++) {
            if (k == len || data[k] == '\0') {
                if (nf < 3)
                    f[nf] = strndup(data + start, k - start);
                nf++;
                start = k + 1;
            }
        }
        if (nf == 3) {
            xt_sasl_params p = {.authzid = *f[0] ? f[0] : NULL,
                                .authcid = f[1],
                                .password = f[2],
                                .tls = 1,
                                .allow_plain = 1};
            xt_sasl *s = NULL;
            if (xt_sasl_new(NULL, offered, 1, &p, &s) != XT_EINVAL)
                fail_msg("client accepted %s (%s)", xt_test_jstr(v, "message_hex"), xt_test_jstr(v, "reason"));
            assert_null(s);
            checked++;
        }
        for (int k = 0; k < nf && k < 3; k++)
            free(f[k]);
        xt_buf_free(&m);
    }
    assert_true(checked >= 4);
}

/* Runs an exchange from scram.json through xt_sasl. */
static xt_sasl *sasl_to_final(json_t *ex, const char *const *offered, size_t n, xt_buf *cb)
{
    const char *gs2 = xt_test_jstr(ex, "gs2_header");
    if (gs2[0] == 'p') {
        /* Binding data: from c= = base64(gs2-header || cb-data). */
        const char *cfw = xt_test_jstr(ex, "client_final_without_proof");
        const char *comma = strchr(cfw, ',');
        xt_buf c;
        xt_buf_init(&c, NULL);
        assert_int_equal(xt_base64_decode(&c, cfw + 2, (size_t)(comma - cfw - 2)), 0);
        assert_int_equal(
            xt_buf_append(cb, xt_buf_head(&c) + strlen(gs2), xt_buf_size(&c) - strlen(gs2)), 0);
        xt_buf_free(&c);
    }
    xt_sasl_params p = {
        .authcid = xt_test_jstr(ex, "username"),
        .password = xt_test_jstr(ex, "password"),
        .tls = 1,
        .allow_plain = 1,
        .cb_type = gs2[0] == 'p' ? "tls-exporter" : NULL,
        .cb_data = xt_buf_size(cb) ? xt_buf_head(cb) : NULL,
        .cb_len = xt_buf_size(cb),
        .nonce = xt_test_jstr(ex, "client_nonce"),
    };
    xt_sasl *s = NULL;
    assert_int_equal(xt_sasl_new(NULL, offered, n, &p, &s), 0);
    assert_string_equal(xt_sasl_mechanism(s), xt_test_jstr(ex, "mechanism"));
    xt_buf out;
    xt_buf_init(&out, NULL);
    assert_int_equal(xt_sasl_initial(s, &out), 0);
    assert_string_equal(xt_buf_cstr(&out), xt_test_jstr(ex, "client_first"));
    xt_buf_clear(&out);
    const char *sf = xt_test_jstr(ex, "server_first");
    assert_int_equal(xt_sasl_step(s, (const uint8_t *)sf, strlen(sf), &out), 0);
    assert_string_equal(xt_buf_cstr(&out), xt_test_jstr(ex, "client_final"));
    xt_buf_free(&out);
    return s;
}

static void test_scram_runs(void **state)
{
    (void)state;
    struct {
        const char *id;
        const char *offered[4];
        size_t n;
    } runs[] = {
        {"rfc5802-sha1", {"PLAIN", "SCRAM-SHA-1"}, 2},
        {"rfc7677-sha256", {"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"}, 3},
        {"rfc6120-sha1-juliet", {"SCRAM-SHA-1"}, 1},
        {"xep0474-v0.3.1-sha1-plus-historical", {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}, 2},
    };
    for (size_t i = 0; i < N(runs); i++) {
        json_t *ex = exchange(runs[i].id);
        const char *sfin = xt_test_jstr(ex, "server_final");
        xt_buf cb;
        /* 1: server-final in <success/>. */
        xt_buf_init(&cb, NULL);
        xt_sasl *s = sasl_to_final(ex, runs[i].offered, runs[i].n, &cb);
        assert_int_equal(xt_sasl_success(s, (const uint8_t *)sfin, strlen(sfin)), 0);
        xt_sasl_free(s);
        xt_buf_free(&cb);
        /* 2: server-final as a challenge, then an empty success. */
        xt_buf_init(&cb, NULL);
        s = sasl_to_final(ex, runs[i].offered, runs[i].n, &cb);
        xt_buf out;
        xt_buf_init(&out, NULL);
        assert_int_equal(xt_sasl_step(s, (const uint8_t *)sfin, strlen(sfin), &out), 0);
        assert_int_equal(xt_buf_size(&out), 0);
        assert_int_equal(xt_sasl_success(s, NULL, 0), 0);
        xt_buf_free(&out);
        xt_sasl_free(s);
        xt_buf_free(&cb);
    }
}

static void test_scram_wire(void **state)
{
    (void)state;
    /* RFC 6120's published wire text, decoded and fed through xt_sasl. */
    json_t *ex = exchange("rfc6120-sha1-juliet");
    json_t *w = json_object_get(ex, "wire_base64");
    const char *offered[] = {"SCRAM-SHA-1", "PLAIN"};
    xt_sasl_params p = {
        .authcid = "juliet", .password = "r0m30myr0m30", .nonce = xt_test_jstr(ex, "client_nonce")};
    xt_sasl *s;
    assert_int_equal(xt_sasl_new(NULL, offered, 2, &p, &s), 0);
    xt_buf out, enc, in;
    xt_buf_init(&out, NULL);
    xt_buf_init(&enc, NULL);
    xt_buf_init(&in, NULL);
    assert_int_equal(xt_sasl_initial(s, &out), 0);
    assert_int_equal(xt_base64_encode(&enc, xt_buf_head(&out), xt_buf_size(&out)), 0);
    assert_string_equal(xt_buf_cstr(&enc), xt_test_jstr(w, "auth"));
    const char *ch = xt_test_jstr(w, "challenge");
    assert_int_equal(xt_base64_decode(&in, ch, strlen(ch)), 0);
    xt_buf_clear(&out);
    xt_buf_clear(&enc);
    assert_int_equal(xt_sasl_step(s, xt_buf_head(&in), xt_buf_size(&in), &out), 0);
    assert_int_equal(xt_base64_encode(&enc, xt_buf_head(&out), xt_buf_size(&out)), 0);
    assert_string_equal(xt_buf_cstr(&enc), xt_test_jstr(w, "response"));
    xt_buf_clear(&in);
    const char *su = xt_test_jstr(w, "success");
    assert_int_equal(xt_base64_decode(&in, su, strlen(su)), 0);
    assert_int_equal(xt_sasl_success(s, xt_buf_head(&in), xt_buf_size(&in)), 0);
    xt_buf_free(&out);
    xt_buf_free(&enc);
    xt_buf_free(&in);
    xt_sasl_free(s);
}

static void test_scram_bad_success(void **state)
{
    (void)state;
    json_t *ex = exchange("rfc5802-sha1");
    const char *offered[] = {"SCRAM-SHA-1"};
    /* Every negative server-final in scram.json based on this exchange. */
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(json_object_get(scram, "negative"), i, v)
    {
        const char *sfin = xt_test_jstr(v, "server_final");
        if (!sfin)
            continue;
        assert_string_equal(xt_test_jstr(v, "based_on"), "rfc5802-sha1");
        xt_buf cb;
        xt_buf_init(&cb, NULL);
        xt_sasl *s = sasl_to_final(ex, offered, 1, &cb);
        int rc = xt_sasl_success(s, (const uint8_t *)sfin, strlen(sfin));
        if (strcmp(xt_test_jstr(v, "id"), "bad-server-signature") == 0)
            assert_int_equal(rc, XT_EDOWNGRADE);
        else if (strcmp(xt_test_jstr(v, "id"), "server-error-e") == 0) {
            assert_int_equal(rc, XT_EAUTH);
            assert_string_equal(xt_sasl_detail(s), "invalid-proof");
        } else
            assert_true(rc == XT_EPROTO || rc == XT_EDOWNGRADE);
        /* And nothing later turns it into a success. */
        assert_int_not_equal(xt_sasl_success(s, NULL, 0), 0);
        xt_sasl_free(s);
        xt_buf_free(&cb);
        n++;
    }
    assert_true(n >= 3);

    /* Missing v=: <success/> with no data. */
    xt_buf cb;
    xt_buf_init(&cb, NULL);
    xt_sasl *s = sasl_to_final(ex, offered, 1, &cb);
    assert_int_equal(xt_sasl_success(s, NULL, 0), XT_EDOWNGRADE);
    assert_non_null(xt_sasl_detail(s));
    xt_sasl_free(s);
    /* The signature of a different exchange (right shape, wrong value). */
    s = sasl_to_final(ex, offered, 1, &cb);
    const char *other = xt_test_jstr(exchange("rfc6120-sha1-juliet"), "server_final");
    assert_int_equal(xt_sasl_success(s, (const uint8_t *)other, strlen(other)), XT_EDOWNGRADE);
    xt_sasl_free(s);
    xt_buf_free(&cb);

    /* Success before the exchange ran: the server proved nothing. */
    xt_sasl_params p = {.authcid = "user", .password = "pencil"};
    assert_int_equal(xt_sasl_new(NULL, offered, 1, &p, &s), 0);
    xt_buf out;
    xt_buf_init(&out, NULL);
    assert_int_equal(xt_sasl_initial(s, &out), 0);
    assert_int_equal(xt_sasl_success(s, NULL, 0), XT_EDOWNGRADE);
    xt_sasl_free(s);
    /* A challenge to PLAIN is a protocol error. */
    const char *plain[] = {"PLAIN"};
    p.tls = 1;
    p.allow_plain = 1;
    assert_int_equal(xt_sasl_new(NULL, plain, 1, &p, &s), 0);
    xt_buf_clear(&out);
    assert_int_equal(xt_sasl_initial(s, &out), 0);
    assert_int_equal(xt_sasl_step(s, (const uint8_t *)"x", 1, &out), XT_EPROTO);
    xt_sasl_free(s);
    xt_buf_free(&out);
}

/* sasl-misc.json channel_binding.gs2_cbind_flag gives c= for "n,," and
 * "y,,"; check which one the client sends in each situation. */
static void test_cb_flags(void **state)
{
    (void)state;
    json_t *flags = json_object_get(json_object_get(misc, "channel_binding"), "gs2_cbind_flag");
    char c_n[16] = "", c_y[16] = "";
    size_t i;
    json_t *v;
    json_array_foreach(flags, i, v)
    {
        const char *t = json_string_value(v);
        const char *c = strstr(t, "c=");
        if (t[1] == 'n' && c)
            sscanf(c, "c=%15[A-Za-z0-9+/=]", c_n);
        if (t[1] == 'y' && c)
            sscanf(c, "c=%15[A-Za-z0-9+/=]", c_y);
    }
    assert_string_equal(c_n, "biws");
    assert_string_equal(c_y, "eSws");

    const char *sf = "r=abcdefXYZ,s=QSXCR+Q6sek8bf92,i=4096";
    struct {
        const char *offered[2];
        size_t n;
        int cb;
        const char *first_prefix;
        const char *c;
    } cases[] = {
        {{"SCRAM-SHA-256"}, 1, 0, "n,,", c_n}, /* no binding data */
        {{"SCRAM-SHA-256"}, 1, 1, "y,,", c_y}, /* could bind, server can't */
        /* Server offers a -PLUS we cannot use: we could bind, so 'y'
         * (RFC 5802 §6; issue 12 item 2), never 'n'. */
        {{"SCRAM-SHA-256", "SCRAM-SHA-384-PLUS"}, 2, 1, "y,,", c_y},
    };
    for (size_t k = 0; k < N(cases); k++) {
        xt_sasl_params p = {.authcid = "user",
                            .password = "pencil",
                            .nonce = "abcdef",
                            .cb_type = cases[k].cb ? "tls-server-end-point" : NULL,
                            .cb_data = cases[k].cb ? cb32 : NULL,
                            .cb_len = cases[k].cb ? 32 : 0};
        xt_sasl *s;
        assert_int_equal(xt_sasl_new(NULL, cases[k].offered, cases[k].n, &p, &s), 0);
        xt_buf out;
        xt_buf_init(&out, NULL);
        assert_int_equal(xt_sasl_initial(s, &out), 0);
        assert_int_equal(strncmp(xt_buf_cstr(&out), cases[k].first_prefix, 3), 0);
        xt_buf_clear(&out);
        assert_int_equal(xt_sasl_step(s, (const uint8_t *)sf, strlen(sf), &out), 0);
        char want[32];
        snprintf(want, sizeof want, "c=%s,", cases[k].c);
        assert_int_equal(strncmp(xt_buf_cstr(&out), want, strlen(want)), 0);
        xt_buf_free(&out);
        xt_sasl_free(s);
    }
    /* -PLUS with tls-server-end-point: c= = base64("p=tls-server-end-point,," || data),
     * as in scram.json gs2_headers. */
    json_t *g;
    json_array_foreach(json_object_get(scram, "gs2_headers"), i, g)
    {
        const char *hdr = xt_test_jstr(g, "gs2_header");
        if (hdr[0] != 'p')
            continue;
        char type[64];
        sscanf(hdr, "p=%63[a-z-]", type);
        xt_buf cb;
        xt_buf_init(&cb, NULL);
        xt_test_hex_to_buf(&cb, xt_test_jstr(g, "cb_data_hex"));
        const char *offered[] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
        const char *advertised[] = {"tls-unique", type};
        xt_sasl_params p = {.authcid = "user",
                            .password = "pencil",
                            .nonce = "abcdef",
                            .cb_type = type,
                            .cb_data = xt_buf_head(&cb),
                            .cb_len = xt_buf_size(&cb),
                            .server_cb_advertised = 1,
                            .server_cb_types = advertised,
                            .server_cb_ntypes = 2};
        xt_sasl *s;
        assert_int_equal(xt_sasl_new(NULL, offered, 2, &p, &s), 0);
        assert_string_equal(xt_sasl_mechanism(s), "SCRAM-SHA-256-PLUS");
        xt_buf out;
        xt_buf_init(&out, NULL);
        assert_int_equal(xt_sasl_initial(s, &out), 0);
        assert_int_equal(strncmp(xt_buf_cstr(&out), hdr, strlen(hdr)), 0);
        xt_buf_clear(&out);
        assert_int_equal(xt_sasl_step(s, (const uint8_t *)sf, strlen(sf), &out), 0);
        char want[256];
        snprintf(want, sizeof want, "c=%s,", xt_test_jstr(g, "c"));
        assert_int_equal(strncmp(xt_buf_cstr(&out), want, strlen(want)), 0);
        xt_buf_free(&out);
        xt_buf_free(&cb);
        xt_sasl_free(s);
    }
}

/* Allocation-failure loop (house style): fail the k-th allocation made
 * through the xt_mem hooks, for every k, over a whole SCRAM run; each
 * run must end in XT_ENOMEM or success, never a crash or leak (ASan). */
static void test_alloc_failures(void **state)
{
    (void)state;
    const xt_mem mem = xt_test_failing_mem;
    json_t *ex = exchange("rfc7677-sha256");
    const char *offered[] = {"SCRAM-SHA-256", "PLAIN"};
    const char *sf = xt_test_jstr(ex, "server_first"), *sfin = xt_test_jstr(ex, "server_final");
    int completed = 0;
    for (xt_test_fail_at = 1; xt_test_fail_at < 1000 && !completed; xt_test_fail_at++) {
        xt_test_alloc_count = 0;
        xt_sasl_params p = {.authcid = xt_test_jstr(ex, "username"),
                            .password = xt_test_jstr(ex, "password"),
                            .nonce = xt_test_jstr(ex, "client_nonce")};
        xt_sasl *s = NULL;
        xt_buf out;
        xt_buf_init(&out, NULL);
        int rc = xt_sasl_new(&mem, offered, 2, &p, &s);
        if (rc == 0)
            rc = xt_sasl_initial(s, &out);
        if (rc == 0) {
            xt_buf_clear(&out);
            rc = xt_sasl_step(s, (const uint8_t *)sf, strlen(sf), &out);
        }
        if (rc == 0) {
            assert_string_equal(xt_buf_cstr(&out), xt_test_jstr(ex, "client_final"));
            rc = xt_sasl_success(s, (const uint8_t *)sfin, strlen(sfin));
        }
        if (rc == 0) {
            completed = xt_test_alloc_count < xt_test_fail_at;
            if (!completed)
                fail_msg("allocation %ld failed but the run succeeded", xt_test_fail_at);
        } else {
            assert_int_equal(rc, XT_ENOMEM);
        }
        xt_sasl_free(s);
        xt_buf_free(&out);
    }
    assert_true(completed);
    assert_true(xt_test_fail_at > 5);
}

/* XEP-0440 and the -PLUS choice: a type the server lists, the best of
 * ours; without its list the default the TLS version gave (tls-exporter
 * on 1.3, tls-unique on 1.2); 'y' whenever we could bind but do not. */
static void test_plus_needs_a_type_the_server_takes(void **state)
{
    (void)state;
    const char *offered[] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"};
    const char *unique_only[] = {"tls-unique"};
    const char *endpoint[] = {"tls-unique", "tls-server-end-point"};
    const char *endpoint_only[] = {"tls-server-end-point"};
    /* TLS 1.2 with the extended master secret: tls-unique is the default,
     * tls-server-end-point beside it. */
    const xt_tls_binding ep[] = {{"tls-server-end-point", cb32, sizeof cb32}};
    struct {
        const char *cb_type;
        int more; /* ep[] beside the default */
        int advertised;
        const char *const *types;
        size_t ntypes;
        int no_cb;
        const char *mech;
        char flag;
        const char *used; /* the binding in the p= flag */
    } cases[] = {
        /* No XEP-0440 list: the default the TLS version gave. */
        {"tls-exporter", 1, 0, NULL, 0, 0, "SCRAM-SHA-256-PLUS", 'p', "tls-exporter"},
        {"tls-unique", 1, 0, NULL, 0, 0, "SCRAM-SHA-256-PLUS", 'p', "tls-unique"},
        {"tls-server-end-point", 0, 0, NULL, 0, 0, "SCRAM-SHA-256-PLUS", 'p',
         "tls-server-end-point"},
        /* A list: the best of ours it names. */
        {"tls-server-end-point", 0, 1, endpoint, 2, 0, "SCRAM-SHA-256-PLUS", 'p',
         "tls-server-end-point"},
        {"tls-unique", 1, 1, endpoint, 2, 0, "SCRAM-SHA-256-PLUS", 'p', "tls-unique"},
        {"tls-unique", 1, 1, endpoint_only, 1, 0, "SCRAM-SHA-256-PLUS", 'p',
         "tls-server-end-point"},
        {"tls-exporter", 1, 1, endpoint_only, 1, 0, "SCRAM-SHA-256-PLUS", 'p',
         "tls-server-end-point"},
        /* Issue 12 item 2: -PLUS offered, the list names only types we
         * lack (or none): we could bind, so 'y', not 'n'. */
        {"tls-exporter", 0, 1, unique_only, 1, 0, "SCRAM-SHA-256", 'y', NULL},
        {"tls-exporter", 0, 1, NULL, 0, 0, "SCRAM-SHA-256", 'y', NULL},
        /* The retry without binding: 'y'. */
        {"tls-exporter", 1, 0, NULL, 0, 1, "SCRAM-SHA-256", 'y', NULL},
    };
    for (size_t k = 0; k < N(cases); k++) {
        xt_sasl_params p = {.authcid = "user",
                            .password = "pencil",
                            .nonce = "abcdef",
                            .tls = 1,
                            .cb_type = cases[k].cb_type,
                            .cb_data = cb32,
                            .cb_len = sizeof cb32,
                            .cb_more = cases[k].more ? ep : NULL,
                            .cb_nmore = cases[k].more ? 1 : 0,
                            .no_cb = cases[k].no_cb,
                            .server_cb_advertised = cases[k].advertised,
                            .server_cb_types = cases[k].types,
                            .server_cb_ntypes = cases[k].ntypes};
        xt_sasl *s = NULL;
        assert_int_equal(xt_sasl_new(NULL, offered, N(offered), &p, &s), 0);
        assert_string_equal(xt_sasl_mechanism(s), cases[k].mech);
        assert_int_equal(xt_sasl_cb_guessed(s), cases[k].flag == 'p' && !cases[k].advertised);
        if (cases[k].used)
            assert_string_equal(xt_sasl_cb_type(s), cases[k].used);
        else
            assert_null(xt_sasl_cb_type(s));
        xt_buf out;
        xt_buf_init(&out, NULL);
        assert_int_equal(xt_sasl_initial(s, &out), 0);
        assert_int_equal(xt_buf_cstr(&out)[0], cases[k].flag);
        if (cases[k].used) {
            char want[64];
            snprintf(want, sizeof want, "p=%s,,", cases[k].used);
            assert_int_equal(strncmp(xt_buf_cstr(&out), want, strlen(want)), 0);
        }
        xt_buf_free(&out);
        xt_sasl_free(s);
    }
}

/* RFC 6120 §6.5: each failure condition has its own meaning, and only
 * not-authorized speaks of the credentials; none names the password
 * (issue 11 item 1: malformed-request used to read as a wrong password). */
static void test_failure_reasons(void **state)
{
    (void)state;
    static const char *const conds[] = {"aborted",
                                        "account-disabled",
                                        "credentials-expired",
                                        "encryption-required",
                                        "incorrect-encoding",
                                        "invalid-authzid",
                                        "invalid-mechanism",
                                        "malformed-request",
                                        "mechanism-too-weak",
                                        "not-authorized",
                                        "temporary-auth-failure"};
    const size_t n = sizeof conds / sizeof *conds;
    const char *generic = xt_sasl_failure_reason("no-such-condition");
    assert_string_equal(xt_sasl_failure_reason(NULL), generic);
    for (size_t i = 0; i < n; i++) {
        const char *r = xt_sasl_failure_reason(conds[i]);
        if (r == generic || strstr(r, "password"))
            fail_msg("%s: %s", conds[i], r);
        if ((strstr(r, "credentials") != NULL) != (strcmp(conds[i], "not-authorized") == 0 ||
                                                   strcmp(conds[i], "credentials-expired") == 0))
            fail_msg("%s speaks of credentials or should: %s", conds[i], r);
        for (size_t j = 0; j < i; j++)
            if (strcmp(r, xt_sasl_failure_reason(conds[j])) == 0)
                fail_msg("%s and %s read the same", conds[i], conds[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plus_needs_a_type_the_server_takes),
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_plain_vectors),
        cmocka_unit_test(test_plain_invalid),
        cmocka_unit_test(test_scram_runs),
        cmocka_unit_test(test_scram_wire),
        cmocka_unit_test(test_scram_bad_success),
        cmocka_unit_test(test_cb_flags),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_failure_reasons),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
