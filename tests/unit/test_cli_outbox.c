/* Unit tests: the CLI's store glue (outbox.h): the one account key every
 * command uses, and message ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outbox.h"

static void key_is(const char *jid, const char *want)
{
    const char *why = NULL;
    char *k = xt_cli_bare(jid, &why);
    if (!k)
        fail_msg("xt_cli_bare(%s): NULL (%s)", jid, why ? why : "?");
    assert_string_equal(k, want);
    free(k);
}

/* Every spelling of one account gives one key (RFC 7622 §3.2-3.3:
 * domain and localpart case-folded; the resource is not part of it). */
static void test_account_key(void **state)
{
    (void)state;
    key_is("alice@example.org", "alice@example.org");
    key_is("Alice@Example.ORG", "alice@example.org");
    key_is("ALICE@example.org/Laptop", "alice@example.org");
    key_is("alice@EXAMPLE.org/a/b", "alice@example.org");
    key_is("example.org", "example.org");
    /* Invalid JIDs give no key, with a reason. */
    const char *bad[] = {"", "@example.org", "alice@", "alice@exa mple.org", "a@b/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *why = NULL;
        char *k = xt_cli_bare(bad[i], &why);
        if (k)
            fail_msg("xt_cli_bare(\"%s\") = \"%s\", want NULL", bad[i], k);
        assert_non_null(why);
    }
    assert_null(xt_cli_bare(NULL, NULL));
}

/* The one message id generator: 128 random bits, never repeating. */
static void test_ids(void **state)
{
    (void)state;
    char seen[64][64];
    for (int i = 0; i < 64; i++) {
        assert_int_equal(xt_cli_new_id(seen[i]), 0);
        assert_int_equal(strlen(seen[i]), 3 + 32);
        assert_memory_equal(seen[i], "xt-", 3);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_key),
        cmocka_unit_test(test_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
