/* Unit tests: the SCRAM client (src/core/scram.c) against every exchange,
 * PBKDF2 vector, GS2 header, negative case and saslname case of
 * ../shared/vectors/scram.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "vectors.h"
#include "base/buf.h"
#include "core/base64.h"
#include "core/scram.h"

static json_t *root;

static int setup(void **state)
{
    (void)state;
    root = xt_test_load_json("scram.json");
    return root ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(root);
    return 0;
}

static xt_scram_hash hash_of(const char *name)
{
    assert_non_null(name);
    if (strcmp(name, "sha1") == 0)
        return XT_SCRAM_SHA1;
    if (strcmp(name, "sha256") == 0)
        return XT_SCRAM_SHA256;
    if (strcmp(name, "sha512") == 0)
        return XT_SCRAM_SHA512;
    fail_msg("unknown hash %s", name);
    return XT_SCRAM_SHA1;
}

static void assert_buf_str(xt_buf *b, const char *want)
{
    assert_non_null(want);
    const char *got = xt_buf_cstr(b);
    assert_non_null(got);
    assert_string_equal(got, want);
}

/* The exchange's extension attributes in client-final (XEP-0474 x=):
 * whatever sits between r=<nonce> and p= in the vector's message. */
static char *final_ext_of(json_t *ex)
{
    const char *cfw = xt_test_jstr(ex, "client_final_without_proof");
    const char *nonce = xt_test_jstr(ex, "full_nonce");
    const char *r = strstr(cfw, ",r=");
    assert_non_null(r);
    const char *after = r + 3 + strlen(nonce);
    if (*after == '\0')
        return NULL;
    assert_int_equal(*after, ',');
    return strdup(after + 1);
}

/* Parses the gs2 header "f,[a=x]," into the flag and cb type. */
static void gs2_parse(const char *h, char *flag, char *type, size_t tlen)
{
    *flag = h[0];
    type[0] = '\0';
    if (h[0] == 'p') {
        const char *comma = strchr(h, ',');
        assert_non_null(comma);
        size_t n = (size_t)(comma - (h + 2));
        assert_true(n < tlen);
        memcpy(type, h + 2, n);
        type[n] = '\0';
    }
}

/* Runs one exchange up to client-final; the caller continues. */
static xt_scram *run_to_final(json_t *ex, xt_buf *cb)
{
    char flag, type[64];
    gs2_parse(xt_test_jstr(ex, "gs2_header"), &flag, type, sizeof type);
    json_t *cbo = json_object_get(ex, "channel_binding");
    if (cbo) {
        xt_test_hex_to_buf(cb, xt_test_jstr(cbo, "cb_data_hex"));
    } else if (flag == 'p') {
        /* Entries without a channel_binding object (the historical
         * XEP-0474 one) carry the data only inside c=: base64(gs2-header
         * || cb-data) (RFC 5802 §7). Take what follows the header. */
        const char *cfw = xt_test_jstr(ex, "client_final_without_proof");
        const char *comma = strchr(cfw, ',');
        xt_buf c;
        xt_buf_init(&c, NULL);
        assert_int_equal(xt_base64_decode(&c, cfw + 2, (size_t)(comma - cfw - 2)), 0);
        size_t hl = strlen(xt_test_jstr(ex, "gs2_header"));
        assert_true(xt_buf_size(&c) > hl);
        assert_memory_equal(xt_buf_head(&c), xt_test_jstr(ex, "gs2_header"), hl);
        assert_int_equal(xt_buf_append(cb, xt_buf_head(&c) + hl, xt_buf_size(&c) - hl), 0);
        xt_buf_free(&c);
    }
    char *ext = final_ext_of(ex);
    xt_scram_params p = {
        .hash = hash_of(xt_test_jstr(ex, "hash")),
        .username = xt_test_jstr(ex, "username"),
        .password = xt_test_jstr(ex, "password"),
        .cbflag = flag,
        .cb_type = flag == 'p' ? type : NULL,
        .cb_data = xt_buf_size(cb) ? xt_buf_head(cb) : NULL,
        .cb_len = xt_buf_size(cb),
        .nonce = xt_test_jstr(ex, "client_nonce"),
        .final_ext = ext,
    };
    xt_scram *s = NULL;
    assert_int_equal(xt_scram_new(NULL, &p, &s), 0);
    free(ext);
    xt_buf out;
    xt_buf_init(&out, NULL);
    assert_int_equal(xt_scram_client_first(s, &out), 0);
    assert_buf_str(&out, xt_test_jstr(ex, "client_first"));
    xt_buf_clear(&out);
    const char *sf = xt_test_jstr(ex, "server_first");
    assert_int_equal(xt_scram_client_final(s, (const uint8_t *)sf, strlen(sf), &out), 0);
    assert_buf_str(&out, xt_test_jstr(ex, "client_final"));
    assert_string_equal(xt_scram_auth_message(s), xt_test_jstr(ex, "auth_message"));
    xt_buf_free(&out);
    return s;
}

static json_t *exchange_by_id(const char *id)
{
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(root, "exchanges"), i, ex)
    {
        if (strcmp(xt_test_jstr(ex, "id"), id) == 0)
            return ex;
    }
    fail_msg("no exchange %s", id);
    return NULL;
}

static void test_exchanges(void **state)
{
    (void)state;
    json_t *arr = json_object_get(root, "exchanges");
    assert_true(json_array_size(arr) >= 6);
    size_t i;
    json_t *ex;
    json_array_foreach(arr, i, ex)
    {
        xt_buf cb;
        xt_buf_init(&cb, NULL);
        xt_scram *s = run_to_final(ex, &cb);
        const char *sfin = xt_test_jstr(ex, "server_final");
        assert_int_equal(xt_scram_server_final(s, (const uint8_t *)sfin, strlen(sfin)), 0);
        assert_null(xt_scram_detail(s));
        /* Done: no more steps. */
        assert_int_equal(xt_scram_server_final(s, (const uint8_t *)sfin, strlen(sfin)), XT_ESTATE);
        xt_scram_free(s);

        /* The intermediate SaltedPassword, from Hi() directly. */
        json_t *d = json_object_get(ex, "derived");
        xt_buf salt, want;
        xt_buf_init(&salt, NULL);
        xt_buf_init(&want, NULL);
        xt_test_hex_to_buf(&salt, xt_test_jstr(ex, "salt_hex"));
        xt_test_hex_to_buf(&want, xt_test_jstr(d, "salted_password_hex"));
        uint8_t sp[64];
        const char *pw = xt_test_jstr(ex, "password");
        xt_scram_hash h = hash_of(xt_test_jstr(ex, "hash"));
        assert_int_equal(xt_buf_size(&want), xt_scram_hash_len(h));
        assert_int_equal(
            xt_scram_pbkdf2(h, (const uint8_t *)pw, strlen(pw), xt_buf_head(&salt),
                            xt_buf_size(&salt),
                            (uint32_t)json_integer_value(json_object_get(ex, "iterations")), sp,
                            xt_buf_size(&want)),
            0);
        assert_memory_equal(sp, xt_buf_head(&want), xt_buf_size(&want));
        /* The same through the salted-password cache (computed ahead). */
        xt_scram_salted sc = {.hash = h,
                              .iterations =
                                  (uint32_t)json_integer_value(json_object_get(ex, "iterations")),
                              .salt_len = xt_buf_size(&salt)};
        assert_true(sc.salt_len <= XT_SCRAM_SALT_MAX);
        memcpy(sc.salt, xt_buf_head(&salt), sc.salt_len);
        assert_int_equal(xt_scram_salted_compute(&sc, pw), 0);
        assert_true(sc.valid);
        assert_memory_equal(sc.key, xt_buf_head(&want), xt_buf_size(&want));
        /* The c= value covers the gs2 header and the binding data. */
        json_t *cbo = json_object_get(ex, "channel_binding");
        if (cbo) {
            xt_buf c;
            xt_buf_init(&c, NULL);
            const char *cfw = xt_test_jstr(ex, "client_final_without_proof");
            const char *comma = strchr(cfw, ',');
            assert_int_equal(xt_base64_decode(&c, cfw + 2, (size_t)(comma - cfw - 2)), 0);
            assert_buf_str(&c, xt_test_jstr(cbo, "c_attribute_decoded"));
            xt_buf_free(&c);
        }
        xt_buf_free(&salt);
        xt_buf_free(&want);
        xt_buf_free(&cb);
    }
}

/* RFC 5802 §5.1's cache (Hi() ahead equals the vectors: test_exchanges); an exchange with
 * an empty cache fills it; a filled one is used (a planted wrong key
 * changes the proof), a mismatched salt or count is not. */
static void test_salted_cache(void **state)
{
    (void)state;
    json_t *e = exchange_by_id("rfc5802-sha1");
    const char *sf = xt_test_jstr(e, "server_first");
    xt_scram_params p = {
        .hash = XT_SCRAM_SHA1,
        .username = xt_test_jstr(e, "username"),
        .password = xt_test_jstr(e, "password"),
        .cbflag = 'n',
        .nonce = xt_test_jstr(e, "client_nonce"),
    };
    xt_buf out;
    xt_buf_init(&out, NULL);
    for (int k = 0; k < 4; k++) {
        xt_scram_salted c = {0};
        if (k == 1 || k == 2 || k == 3) { /* planted: right salt and count, wrong key */
            c.hash = XT_SCRAM_SHA1;
            c.iterations = 4096;
            c.salt_len = 12;
            memcpy(c.salt, "\x41\x25\xc2\x47\xe4\x3a\xb1\xe9\x3c\x6d\xff\x76", 12);
            memset(c.key, 0x5a, sizeof c.key);
            c.valid = 1;
        }
        if (k == 2)
            c.iterations = 4097; /* another count: not used */
        if (k == 3)
            c.salt[0] ^= 1; /* another salt: not used */
        p.cache = &c;
        xt_scram *s = NULL;
        assert_int_equal(xt_scram_new(NULL, &p, &s), 0);
        xt_buf_clear(&out);
        assert_int_equal(xt_scram_client_first(s, &out), 0);
        xt_buf_clear(&out);
        assert_int_equal(xt_scram_client_final(s, (const uint8_t *)sf, strlen(sf), &out), 0);
        char *got = xt_buf_cstr(&out);
        assert_non_null(got);
        if (k == 1)
            assert_string_not_equal(got, xt_test_jstr(e, "client_final"));
        else
            assert_string_equal(got, xt_test_jstr(e, "client_final"));
        if (k != 1) { /* Hi() ran and the cache now holds its result */
            assert_true(c.valid);
            assert_int_equal(c.iterations, 4096);
            assert_memory_equal(c.salt, "\x41\x25\xc2\x47\xe4\x3a\xb1\xe9\x3c\x6d\xff\x76", 12);
        }
        xt_scram_free(s);
    }
    xt_buf_free(&out);

    /* Bounds: the same as for a server's values. */
    xt_scram_salted b = {.hash = XT_SCRAM_SHA1, .iterations = 4095, .salt_len = 4};
    assert_int_equal(xt_scram_salted_compute(&b, "pw"), XT_EINVAL);
    b.iterations = XT_SCRAM_MAX_ITERATIONS + 1;
    assert_int_equal(xt_scram_salted_compute(&b, "pw"), XT_EINVAL);
    b.iterations = 4096;
    b.salt_len = 0;
    assert_int_equal(xt_scram_salted_compute(&b, "pw"), XT_EINVAL);
    b.salt_len = XT_SCRAM_SALT_MAX + 1;
    assert_int_equal(xt_scram_salted_compute(&b, "pw"), XT_EINVAL);
    b.salt_len = 4;
    b.hash = (xt_scram_hash)9;
    assert_int_equal(xt_scram_salted_compute(&b, "pw"), XT_EINVAL);
    assert_false(b.valid);
    assert_int_equal(xt_scram_salted_compute(NULL, "pw"), XT_EINVAL);
}

static void test_wire_base64(void **state)
{
    (void)state;
    /* Where a source published the on-the-wire text, our messages
     * base64-encode to exactly that. */
    json_t *ex = exchange_by_id("rfc6120-sha1-juliet");
    json_t *w = json_object_get(ex, "wire_base64");
    xt_buf b;
    xt_buf_init(&b, NULL);
    const char *cf = xt_test_jstr(ex, "client_first");
    assert_int_equal(xt_base64_encode(&b, (const uint8_t *)cf, strlen(cf)), 0);
    assert_buf_str(&b, xt_test_jstr(w, "auth"));
    xt_buf_clear(&b);
    const char *fin = xt_test_jstr(ex, "client_final");
    assert_int_equal(xt_base64_encode(&b, (const uint8_t *)fin, strlen(fin)), 0);
    assert_buf_str(&b, xt_test_jstr(w, "response"));
    xt_buf_free(&b);
}

static void test_pbkdf2(void **state)
{
    (void)state;
    json_t *arr = json_object_get(root, "pbkdf2");
    assert_true(json_array_size(arr) >= 8);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_true(json_object_get(v, "slow")) && getenv("XT_SKIP_SLOW"))
            continue;
        xt_buf pw, salt, want;
        xt_buf_init(&pw, NULL);
        xt_buf_init(&salt, NULL);
        xt_buf_init(&want, NULL);
        if (xt_test_jstr(v, "P_hex"))
            xt_test_hex_to_buf(&pw, xt_test_jstr(v, "P_hex"));
        else
            assert_int_equal(xt_buf_append_str(&pw, xt_test_jstr(v, "P")), 0);
        if (xt_test_jstr(v, "S_hex"))
            xt_test_hex_to_buf(&salt, xt_test_jstr(v, "S_hex"));
        else
            assert_int_equal(xt_buf_append_str(&salt, xt_test_jstr(v, "S")), 0);
        xt_test_hex_to_buf(&want, xt_test_jstr(v, "DK_hex"));
        size_t dklen = (size_t)json_integer_value(json_object_get(v, "dkLen"));
        assert_int_equal(dklen, xt_buf_size(&want));
        uint8_t dk[128];
        assert_true(dklen <= sizeof dk);
        assert_int_equal(xt_scram_pbkdf2(hash_of(xt_test_jstr(v, "hash")), xt_buf_head(&pw),
                                         xt_buf_size(&pw), xt_buf_head(&salt), xt_buf_size(&salt),
                                         (uint32_t)json_integer_value(json_object_get(v, "c")), dk,
                                         dklen),
                         0);
        assert_memory_equal(dk, xt_buf_head(&want), dklen);
        xt_buf_free(&pw);
        xt_buf_free(&salt);
        xt_buf_free(&want);
    }
}

static void test_gs2_headers(void **state)
{
    (void)state;
    json_t *arr = json_object_get(root, "gs2_headers");
    assert_true(json_array_size(arr) >= 5);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *h = xt_test_jstr(v, "gs2_header");
        char flag, type[64];
        gs2_parse(h, &flag, type, sizeof type);
        /* authzid, if any, from "x,a=<authzid>," */
        char authz[256] = "";
        const char *a = strstr(h, ",a=");
        if (a) {
            const char *end = strchr(a + 3, ',');
            assert_non_null(end);
            snprintf(authz, sizeof authz, "%.*s", (int)(end - a - 3), a + 3);
        }
        xt_buf b;
        xt_buf_init(&b, NULL);
        assert_int_equal(xt_scram_gs2_header(&b, flag, flag == 'p' ? type : NULL, authz), 0);
        assert_buf_str(&b, h);
        if (xt_test_jstr(v, "cb_data_hex"))
            xt_test_hex_to_buf(&b, xt_test_jstr(v, "cb_data_hex"));
        xt_buf c;
        xt_buf_init(&c, NULL);
        assert_int_equal(xt_base64_encode(&c, xt_buf_head(&b), xt_buf_size(&b)), 0);
        assert_buf_str(&c, xt_test_jstr(v, "c"));
        xt_buf_free(&c);
        xt_buf_free(&b);

        /* And through a whole client: the c= it sends. */
        xt_buf cb;
        xt_buf_init(&cb, NULL);
        if (xt_test_jstr(v, "cb_data_hex"))
            xt_test_hex_to_buf(&cb, xt_test_jstr(v, "cb_data_hex"));
        xt_scram_params p = {
            .hash = XT_SCRAM_SHA1,
            .username = "user",
            .password = "pencil",
            .authzid = authz,
            .cbflag = flag,
            .cb_type = flag == 'p' ? type : NULL,
            .cb_data = xt_buf_size(&cb) ? xt_buf_head(&cb) : NULL,
            .cb_len = xt_buf_size(&cb),
            .nonce = "fyko+d2lbbFgONRv9qkxdawL",
        };
        xt_scram *s;
        assert_int_equal(xt_scram_new(NULL, &p, &s), 0);
        xt_buf out;
        xt_buf_init(&out, NULL);
        assert_int_equal(xt_scram_client_first(s, &out), 0);
        assert_int_equal(strncmp(xt_buf_cstr(&out), h, strlen(h)), 0);
        xt_buf_clear(&out);
        const char *sf = xt_test_jstr(exchange_by_id("rfc5802-sha1"), "server_first");
        assert_int_equal(xt_scram_client_final(s, (const uint8_t *)sf, strlen(sf), &out), 0);
        char want[512];
        snprintf(want, sizeof want, "c=%s,", xt_test_jstr(v, "c"));
        assert_int_equal(strncmp(xt_buf_cstr(&out), want, strlen(want)), 0);
        xt_buf_free(&out);
        xt_buf_free(&cb);
        xt_scram_free(s);
    }
}

static xt_scram *client_from(const char *client_first, const char *hash)
{
    /* client_first = "n,,n=<user>,r=<nonce>" */
    const char *n = strstr(client_first, ",n=");
    const char *r = strstr(client_first, ",r=");
    assert_non_null(n);
    assert_non_null(r);
    char user[128];
    snprintf(user, sizeof user, "%.*s", (int)(r - n - 3), n + 3);
    xt_scram_params p = {
        .hash = hash_of(hash),
        .username = user,
        .password = "pencil",
        .cbflag = 'n',
        .nonce = r + 3,
    };
    xt_scram *s;
    assert_int_equal(xt_scram_new(NULL, &p, &s), 0);
    xt_buf out;
    xt_buf_init(&out, NULL);
    assert_int_equal(xt_scram_client_first(s, &out), 0);
    assert_buf_str(&out, client_first);
    xt_buf_free(&out);
    return s;
}

static void test_negative(void **state)
{
    (void)state;
    json_t *arr = json_object_get(root, "negative");
    assert_true(json_array_size(arr) >= 8);
    json_t *base = exchange_by_id("rfc5802-sha1");
    size_t i;
    json_t *v;
    int n_first = 0, n_final = 0;
    json_array_foreach(arr, i, v)
    {
        const char *id = xt_test_jstr(v, "id");
        const char *sfirst = xt_test_jstr(v, "server_first");
        const char *sfinal = xt_test_jstr(v, "server_final");
        if (sfirst) {
            const char *cf =
                xt_test_jstr(v, "client_first") ? xt_test_jstr(v, "client_first") : xt_test_jstr(base, "client_first");
            xt_scram *s = client_from(cf, "sha1");
            xt_buf out;
            xt_buf_init(&out, NULL);
            int rc = xt_scram_client_final(s, (const uint8_t *)sfirst, strlen(sfirst), &out);
            if (rc != XT_EPROTO)
                fail_msg("%s: server-first accepted (rc %d)", id, rc);
            assert_int_equal(xt_buf_size(&out), 0); /* no client-final sent */
            assert_non_null(xt_scram_detail(s));
            /* Failure is final. */
            const char *good = xt_test_jstr(base, "server_first");
            assert_int_equal(xt_scram_client_final(s, (const uint8_t *)good, strlen(good), &out),
                             XT_ESTATE);
            xt_buf_free(&out);
            xt_scram_free(s);
            n_first++;
        } else {
            assert_non_null(sfinal);
            assert_string_equal(xt_test_jstr(v, "based_on"), "rfc5802-sha1");
            xt_buf cb;
            xt_buf_init(&cb, NULL);
            xt_scram *s = run_to_final(base, &cb);
            int rc = xt_scram_server_final(s, (const uint8_t *)sfinal, strlen(sfinal));
            if (rc == 0)
                fail_msg("%s: server-final accepted", id);
            if (strcmp(id, "server-error-e") == 0) {
                assert_int_equal(rc, XT_EAUTH);
                assert_string_equal(xt_scram_detail(s), "invalid-proof");
            } else if (strcmp(id, "bad-server-signature") == 0) {
                assert_int_equal(rc, XT_EDOWNGRADE);
            }
            xt_scram_free(s);
            xt_buf_free(&cb);
            n_final++;
        }
    }
    assert_true(n_first >= 5);
    assert_true(n_final >= 3);
}

/* Further hostile server-first messages (the vector's note on i=, and
 * the RFC 5802 §7 grammar). */
/* Issue 12 item 9: the default cap per hash refuses a count a hostile
 * server would make every login pay for (before any PBKDF2 runs, so the
 * test is quick), with a detail naming the count and the limit; a
 * configured cap applies instead. */
static void test_iteration_cap(void **state)
{
    (void)state;
    struct {
        const char *hash;
        uint32_t max;
        const char *sf;
        int rc;
    } cases[] = {
        {"sha1", 0, "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=600001", XT_EPROTO},
        {"sha256", 0, "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=600001", XT_EPROTO},
        {"sha512", 0, "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=300001", XT_EPROTO},
        {"sha1", 5000, "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=5001", XT_EPROTO},
        {"sha1", 5000, "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=5000", 0},
    };
    assert_int_equal(xt_scram_default_max_iterations(XT_SCRAM_SHA1), 600000);
    assert_int_equal(xt_scram_default_max_iterations(XT_SCRAM_SHA512), 300000);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xt_scram_params p = {
            .hash = hash_of(cases[i].hash),
            .username = "user",
            .password = "pencil",
            .cbflag = 'n',
            .nonce = "fyko+d2lbbFgONRv9qkxdawL",
            .max_iterations = cases[i].max,
        };
        xt_scram *s = NULL;
        assert_int_equal(xt_scram_new(NULL, &p, &s), 0);
        xt_buf out;
        xt_buf_init(&out, NULL);
        assert_int_equal(xt_scram_client_first(s, &out), 0);
        xt_buf_clear(&out);
        assert_int_equal(
            xt_scram_client_final(s, (const uint8_t *)cases[i].sf, strlen(cases[i].sf), &out),
            cases[i].rc);
        if (cases[i].rc)
            assert_non_null(strstr(xt_scram_detail(s), "above the limit of"));
        xt_buf_free(&out);
        xt_scram_free(s);
    }
}

static void test_negative_more(void **state)
{
    (void)state;
    const char *bad[] = {
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=0",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=-1",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=04096",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=1",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=10000001",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=99999999999999999999",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=,i=4096",
        "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096", /* nonce not extended */
        "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096,",
        "s=QSXCR+Q6sek8bf92,r=fyko+d2lbbFgONRv9qkxdawL3rfc,i=4096",
        "r=fyko+d2lbbFgONRv9qkxdawL\x01x,s=QSXCR+Q6sek8bf92,i=4096",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xt_scram *s = client_from("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", "sha1");
        xt_buf out;
        xt_buf_init(&out, NULL);
        int rc = xt_scram_client_final(s, (const uint8_t *)bad[i], strlen(bad[i]), &out);
        if (rc != XT_EPROTO)
            fail_msg("accepted %s", bad[i]);
        xt_buf_free(&out);
        xt_scram_free(s);
    }
    /* An embedded NUL in the server message. */
    const char nul[] = "r=fyko+d2lbbFgONRv9qkxdawL3r\0fc,s=QSXCR+Q6sek8bf92,i=4096";
    xt_scram *s = client_from("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", "sha1");
    xt_buf out;
    xt_buf_init(&out, NULL);
    assert_int_equal(xt_scram_client_final(s, (const uint8_t *)nul, sizeof nul - 1, &out),
                     XT_EPROTO);
    xt_buf_free(&out);
    xt_scram_free(s);
    /* server-final without v= */
    xt_buf cb;
    xt_buf_init(&cb, NULL);
    s = run_to_final(exchange_by_id("rfc5802-sha1"), &cb);
    assert_int_equal(xt_scram_server_final(s, (const uint8_t *)"", 0), XT_EDOWNGRADE);
    xt_scram_free(s);
    xt_buf_free(&cb);
}

static void test_saslname(void **state)
{
    (void)state;
    json_t *arr = json_object_get(root, "saslname");
    assert_true(json_array_size(arr) >= 6);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        xt_buf b;
        xt_buf_init(&b, NULL);
        const char *user = xt_test_jstr(v, "username");
        if (user) {
            const char *esc = xt_test_jstr(v, "saslname");
            assert_int_equal(xt_scram_saslname_escape(&b, user, strlen(user)), 0);
            assert_buf_str(&b, esc);
            xt_buf_clear(&b);
            assert_int_equal(xt_scram_saslname_unescape(&b, esc, strlen(esc)), 0);
            assert_buf_str(&b, user);
            /* And in a real client-first. */
            xt_scram_params p = {.hash = XT_SCRAM_SHA256,
                                 .username = user,
                                 .password = "x",
                                 .cbflag = 'n',
                                 .nonce = "abc"};
            xt_scram *s;
            assert_int_equal(xt_scram_new(NULL, &p, &s), 0);
            xt_buf_clear(&b);
            assert_int_equal(xt_scram_client_first(s, &b), 0);
            char want[256];
            snprintf(want, sizeof want, "n,,n=%s,r=abc", esc);
            assert_buf_str(&b, want);
            xt_scram_free(s);
        } else {
            const char *bad = xt_test_jstr(v, "invalid_saslname");
            assert_non_null(bad);
            if (xt_scram_saslname_unescape(&b, bad, strlen(bad)) != XT_EPROTO)
                fail_msg("accepted saslname %s (%s)", bad, xt_test_jstr(v, "reason"));
        }
        xt_buf_free(&b);
    }
}

static void test_params_and_nonce(void **state)
{
    (void)state;
    xt_scram *s = NULL;
    xt_scram_params p = {.hash = XT_SCRAM_SHA512, .username = "u", .password = "p", .cbflag = 'n'};
    assert_int_equal(xt_scram_new(NULL, &p, &s), 0);
    xt_buf b;
    xt_buf_init(&b, NULL);
    assert_int_equal(xt_scram_client_first(s, &b), 0);
    const char *cf = xt_buf_cstr(&b);
    /* Random nonce: printable, no ',' (RFC 5802 §7), reasonably long. */
    const char *r = strstr(cf, ",r=");
    assert_non_null(r);
    assert_true(strlen(r + 3) >= 24);
    for (const char *c = r + 3; *c; c++)
        assert_true(*c > 0x20 && *c < 0x7f && *c != ',');
    assert_int_equal(xt_scram_client_first(s, &b), XT_ESTATE);
    xt_scram_free(s);
    xt_buf_free(&b);

    xt_scram_params bad = p;
    bad.nonce = "a,b";
    assert_int_equal(xt_scram_new(NULL, &bad, &s), XT_EINVAL);
    bad = p;
    bad.cbflag = 'p';
    bad.cb_type = "tls exporter";
    assert_int_equal(xt_scram_new(NULL, &bad, &s), XT_EINVAL);
    bad.cb_type = "tls-exporter"; /* 'p' without binding data */
    assert_int_equal(xt_scram_new(NULL, &bad, &s), XT_EINVAL);
    bad = p;
    bad.hash = (xt_scram_hash)9;
    assert_int_equal(xt_scram_new(NULL, &bad, &s), XT_EINVAL);
    bad = p;
    bad.username = "";
    assert_int_equal(xt_scram_new(NULL, &bad, &s), XT_EINVAL);
    xt_scram_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchanges),        cmocka_unit_test(test_wire_base64),
        cmocka_unit_test(test_pbkdf2),           cmocka_unit_test(test_gs2_headers),
        cmocka_unit_test(test_negative),         cmocka_unit_test(test_negative_more),
        cmocka_unit_test(test_iteration_cap),    cmocka_unit_test(test_saslname),
        cmocka_unit_test(test_params_and_nonce), cmocka_unit_test(test_salted_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
