/* Unit tests: where the password comes from (environment, then
 * password_command), the command's failure modes, and the settings
 * merge (command line > environment > config file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "password.h"
#include "report.h"
#include "settings.h"

static char err[1024];

static void test_command(void **state)
{
    (void)state;
    char *pw = NULL;

    assert_int_equal(xt_cli_password_from_command("echo 's3cret pass'", &pw, err, sizeof err), 0);
    assert_string_equal(pw, "s3cret pass");
    xt_cli_password_free(pw);

    /* Only the first line; CRLF tolerated; leading blanks kept. */
    assert_int_equal(
        xt_cli_password_from_command("printf ' first\\r\\nsecond\\n'", &pw, err, sizeof err), 0);
    assert_string_equal(pw, " first");
    xt_cli_password_free(pw);

    /* No newline at the end. */
    assert_int_equal(xt_cli_password_from_command("printf abc", &pw, err, sizeof err), 0);
    assert_string_equal(pw, "abc");
    xt_cli_password_free(pw);

    /* A long second line does not matter; a long first line does. */
    assert_int_equal(xt_cli_password_from_command("echo ok; head -c 100000 /dev/zero | tr '\\0' x",
                                                  &pw, err, sizeof err),
                     0);
    assert_string_equal(pw, "ok");
    xt_cli_password_free(pw);
    assert_int_equal(
        xt_cli_password_from_command("head -c 5000 /dev/zero | tr '\\0' x", &pw, err, sizeof err),
        XT_CLI_EXIT_CONFIG);
    assert_null(pw);
    assert_non_null(strstr(err, "longer than"));
}

static void test_command_failures(void **state)
{
    (void)state;
    char *pw = (char *)(uintptr_t)1;

    assert_int_equal(xt_cli_password_from_command("echo pw; exit 3", &pw, err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_null(pw);
    assert_non_null(strstr(err, "exited with status 3"));
    /* The password it printed must not leak into the message. */
    assert_null(strstr(err, "pw\n"));

    assert_int_equal(xt_cli_password_from_command("true", &pw, err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "printed no password"));
    assert_int_equal(xt_cli_password_from_command("echo", &pw, err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_int_equal(xt_cli_password_from_command("kill -9 $$", &pw, err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "signal"));
    assert_int_equal(xt_cli_password_from_command("no-such-command-xtalk-test 2>/dev/null", &pw,
                                                  err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "status 127"));
    assert_int_equal(xt_cli_password_from_command("printf 'a\\0b\\n'", &pw, err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "NUL"));
}

static void test_order(void **state)
{
    (void)state;
    char *pw = NULL;

    /* The environment wins over password_command, and is removed so
     * children (password_command, bot --exec) do not inherit it. */
    setenv("XTALK_PASSWORD", "from-env", 1);
    assert_int_equal(xt_cli_password_get("a@b", "echo from-command", &pw, err, sizeof err), 0);
    assert_string_equal(pw, "from-env");
    xt_cli_password_free(pw);
    assert_null(getenv("XTALK_PASSWORD"));

    assert_int_equal(
        xt_cli_password_get("a@b", "echo \"${XTALK_PASSWORD:-unset}\"", &pw, err, sizeof err), 0);
    assert_string_equal(pw, "unset");
    xt_cli_password_free(pw);

    setenv("XTALK_PASSWORD", "", 1);
    assert_int_equal(xt_cli_password_get("a@b", "echo x", &pw, err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "empty"));
    unsetenv("XTALK_PASSWORD");

    /* Nothing to ask: a clear error (only checkable without a terminal). */
    if (!isatty(0) && !isatty(2)) {
        assert_int_equal(xt_cli_password_get("a@b", NULL, &pw, err, sizeof err),
                         XT_CLI_EXIT_CONFIG);
        assert_non_null(strstr(err, "XTALK_PASSWORD"));
        assert_non_null(strstr(err, "password_command"));
    }
}

static void test_server_pin(void **state)
{
    (void)state;
    char *host;
    uint16_t port;
    char pin[65];

    assert_int_equal(xt_cli_parse_server("xmpp.example.org", &host, &port), 0);
    assert_string_equal(host, "xmpp.example.org");
    assert_int_equal(port, 0);
    free(host);
    assert_int_equal(xt_cli_parse_server("127.0.0.1:5223", &host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 5223);
    free(host);
    assert_int_equal(xt_cli_parse_server("[::1]:5222", &host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 5222);
    free(host);
    assert_int_equal(xt_cli_parse_server("fe80::1", &host, &port), 0);
    assert_string_equal(host, "fe80::1");
    assert_int_equal(port, 0);
    free(host);
    static const char *const bad[] = {"",     ":5222", "h:",     "h:0", "h:65536", "h:12x",
                                      "[::1", "[]:1",  "[::1]x", "a b", "u@h",     "h:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (xt_cli_parse_server(bad[i], &host, &port) == 0)
            fail_msg("accepted bad server '%s'", bad[i]);
    }

    const char *hex = "6223BC002BA62659A0DE9BE7C0267C182709A7FCB163FBE23B547D6B38673C3B";
    assert_int_equal(xt_cli_parse_pin(hex, pin), 0);
    assert_string_equal(pin, "6223bc002ba62659a0de9be7c0267c182709a7fcb163fbe23b547d6b38673c3b");
    assert_int_equal(xt_cli_parse_pin("62:23:BC:00:2B:A6:26:59:A0:DE:9B:E7:C0:26:7C:18:27:09:A7:FC:"
                                      "B1:63:FB:E2:3B:54:7D:6B:38:67:3C:3B",
                                      pin),
                     0);
    assert_string_equal(pin, "6223bc002ba62659a0de9be7c0267c182709a7fcb163fbe23b547d6b38673c3b");
    assert_int_equal(xt_cli_parse_pin("00", pin), -1);
    assert_int_equal(
        xt_cli_parse_pin("zz23bc002ba62659a0de9be7c0267c182709a7fcb163fbe23b547d6b38673c3b", pin),
        -1);
    assert_int_equal(
        xt_cli_parse_pin("6223bc002ba62659a0de9be7c0267c182709a7fcb163fbe23b547d6b38673c3b00", pin),
        -1);
    assert_int_equal(
        xt_cli_parse_pin(":6223bc002ba62659a0de9be7c0267c182709a7fcb163fbe23b547d6b38673c3b", pin),
        -1);
}

static void test_precedence(void **state)
{
    (void)state;
    char dir[] = "/tmp/xtalk-test-settings-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/config", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("jid = cfg@example.org\nserver = cfg.example.org:1\nca_file = /cfg.pem\n"
          "resource = cfgres\ndirect_tls = true\npassword_command = echo cfg-pass\n"
          "roster_wait = 40\n",
          f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);

    xt_cli_args a;
    memset(&a, 0, sizeof a);
    a.config = path;
    a.timeout_s = 7;
    unsetenv("XTALK_PASSWORD");
    unsetenv("XTALK_JID");
    unsetenv("XTALK_CA_FILE");
    setenv("XTALK_SERVER", "env.example.org:2", 1);
    a.jid = "arg@example.org";

    xt_cli_settings s;
    assert_int_equal(xt_cli_settings_resolve(&a, &s, err, sizeof err), 0);
    assert_string_equal(s.jid, "arg@example.org");  /* command line */
    assert_string_equal(s.host, "env.example.org"); /* environment */
    assert_int_equal(s.port, 2);
    assert_string_equal(s.ca_file, "/cfg.pem"); /* config */
    assert_string_equal(s.resource, "cfgres");
    assert_true(s.direct_tls);
    assert_string_equal(s.password, "cfg-pass");
    assert_int_equal(s.timeout_ms, 7000);
    assert_int_equal(s.roster_wait_ms, 40); /* config, no --wait given */
    xt_cli_settings_free(&s);

    /* --wait over roster_wait. */
    a.wait_set = 1;
    a.wait_ms = 0;
    assert_int_equal(xt_cli_settings_resolve(&a, &s, err, sizeof err), 0);
    assert_int_equal(s.roster_wait_ms, 0);
    xt_cli_settings_free(&s);
    a.wait_set = 0;

    /* Environment over config for the JID; empty env values are unset. */
    a.jid = NULL;
    setenv("XTALK_JID", "env@example.org", 1);
    setenv("XTALK_SERVER", "", 1);
    assert_int_equal(xt_cli_settings_resolve(&a, &s, err, sizeof err), 0);
    assert_string_equal(s.jid, "env@example.org");
    assert_string_equal(s.host, "cfg.example.org");
    xt_cli_settings_free(&s);

    /* A bad JID is reported before any password is asked for. */
    setenv("XTALK_JID", "not a jid@@", 1);
    assert_int_equal(xt_cli_settings_resolve(&a, &s, err, sizeof err), XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "not valid"));
    xt_cli_settings_free(&s);
    setenv("XTALK_JID", "example.org", 1); /* no localpart: not an account */
    assert_int_equal(xt_cli_settings_resolve(&a, &s, err, sizeof err), XT_CLI_EXIT_CONFIG);
    xt_cli_settings_free(&s);
    unsetenv("XTALK_JID");
    unsetenv("XTALK_SERVER");

    /* No JID anywhere. */
    f = fopen(path, "w");
    fputs("password_command = echo x\n", f);
    fclose(f);
    assert_int_equal(xt_cli_settings_resolve(&a, &s, err, sizeof err), XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "--jid"));
    xt_cli_settings_free(&s);

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command),    cmocka_unit_test(test_command_failures),
        cmocka_unit_test(test_order),      cmocka_unit_test(test_server_pin),
        cmocka_unit_test(test_precedence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
