/* Unit tests: the program's advice after a failure (cli/report.c). Issue
 * 11 item 1: only not-authorized, and not about channel binding, tells
 * the user to check the password; every other SASL condition of RFC 6120
 * §6.5 gets no password advice (the library's detail says its meaning). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "report.h"
#include "xtalk/common.h"

static const char *const not_the_password[] = {
    "aborted",
    "account-disabled",
    "credentials-expired",
    "encryption-required",
    "incorrect-encoding",
    "invalid-authzid",
    "invalid-mechanism",
    "malformed-request",
    "mechanism-too-weak",
    "temporary-auth-failure",
    "bad-weather",
    "",
};

static void test_auth_hint_per_condition(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof not_the_password / sizeof *not_the_password; i++) {
        const char *h = xt_cli_auth_hint(not_the_password[i], "authentication failed: ...");
        if (strstr(h, "password"))
            fail_msg("%s: the hint blames the password: %s", not_the_password[i], h);
    }
    assert_string_equal(xt_cli_auth_hint(NULL, NULL), "");
    assert_non_null(
        strstr(xt_cli_auth_hint("not-authorized", "authentication failed: not-authorized (the "
                                                  "server did not accept the credentials)"),
               "check the JID and the password"));
    /* ejabberd 23.01's refusal of a tls-exporter binding is not-authorized */
    assert_string_equal(xt_cli_auth_hint("not-authorized",
                                         "the server refused SCRAM channel binding "
                                         "tls-exporter: Invalid channel binding; not retried"),
                        "");
    /* The code alone no longer decides it. */
    assert_string_equal(xt_cli_hint_for(XT_EAUTH), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_hint_per_condition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
