/* Unit tests: the xtalk config file (parsing, errors with file:line,
 * the permission refusal) and the default path. */
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

#include "config.h"
#include "report.h"

static int parse(const char *text, xt_cli_config *cfg, char *err, size_t errlen)
{
    xt_cli_config_init(cfg);
    return xt_cli_config_parse("test.conf", text, strlen(text), cfg, err, errlen);
}

static void test_good(void **state)
{
    (void)state;
    xt_cli_config cfg;
    char err[512] = "";
    const char *text = "# a comment\n"
                       "\n"
                       "   # indented comment\n"
                       "jid = alice@example.org\n"
                       "server=xmpp.example.org:5223\r\n"
                       "  ca_file   =   /etc/ca.pem   \n"
                       "pin = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
                       "direct_tls = yes\n"
                       "allow_downgrade = yes\n"
                       "resource = laptop\n"
                       "password_command = pass show xmpp # keep the hash = sign\n";
    assert_int_equal(parse(text, &cfg, err, sizeof err), 0);
    assert_string_equal(cfg.jid, "alice@example.org");
    assert_string_equal(cfg.server, "xmpp.example.org:5223");
    assert_string_equal(cfg.ca_file, "/etc/ca.pem");
    assert_string_equal(cfg.pin,
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    assert_int_equal(cfg.direct_tls, 1);
    assert_int_equal(cfg.allow_downgrade, 1);
    assert_string_equal(cfg.resource, "laptop");
    assert_string_equal(cfg.password_command, "pass show xmpp # keep the hash = sign");
    xt_cli_config_free(&cfg);

    /* No trailing newline; direct_tls false; unset keys stay NULL. */
    assert_int_equal(parse("direct_tls = off", &cfg, err, sizeof err), 0);
    assert_int_equal(cfg.direct_tls, 0);
    assert_null(cfg.jid);
    xt_cli_config_free(&cfg);

    assert_int_equal(parse("allow_downgrade = maybe", &cfg, err, sizeof err), XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "allow_downgrade must be true or false"));
    xt_cli_config_free(&cfg);

    assert_int_equal(parse("", &cfg, err, sizeof err), 0);
    assert_int_equal(cfg.direct_tls, -1);
    assert_int_equal(cfg.allow_downgrade, -1);
    assert_int_equal(cfg.roster_wait_ms, -1);
    xt_cli_config_free(&cfg);

    /* roster_wait: milliseconds, 0 (no wait) up to the --wait limit. */
    assert_int_equal(parse("roster_wait = 0", &cfg, err, sizeof err), 0);
    assert_int_equal(cfg.roster_wait_ms, 0);
    xt_cli_config_free(&cfg);
    assert_int_equal(parse("roster_wait = 600000\n", &cfg, err, sizeof err), 0);
    assert_int_equal(cfg.roster_wait_ms, 600000);
    xt_cli_config_free(&cfg);
    static const char *const bad[] = {"roster_wait = -1", "roster_wait = 600001",
                                      "roster_wait = 150ms", "roster_wait = x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i], &cfg, err, sizeof err), XT_CLI_EXIT_CONFIG);
        assert_non_null(strstr(err, "roster_wait must be a number of milliseconds"));
        xt_cli_config_free(&cfg);
    }
    assert_int_equal(parse("roster_wait = 1\nroster_wait = 2", &cfg, err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "given twice"));
    xt_cli_config_free(&cfg);
}

static void expect_error(const char *text, const char *needle)
{
    xt_cli_config cfg;
    char err[512] = "";
    assert_int_equal(parse(text, &cfg, err, sizeof err), XT_CLI_EXIT_CONFIG);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not contain '%s'", err, needle);
    xt_cli_config_free(&cfg);
}

static void test_bad_lines(void **state)
{
    (void)state;
    expect_error("jid = a@b\njust some words\n", "test.conf:2: expected 'key = value'");
    expect_error("# c\n\nfoo = bar\n", "test.conf:3: unknown key 'foo'");
    expect_error("password = secret\n", "test.conf:1: unknown key 'password'");
    expect_error("jid =   \n", "test.conf:1: empty value for 'jid'");
    expect_error(" = x\n", "test.conf:1: missing key");
    expect_error("jid = a@b\njid = c@d\n", "test.conf:2: key 'jid' given twice");
    expect_error("direct_tls = maybe\n", "test.conf:1: direct_tls must be true or false");
    expect_error("direct_tls = 1\ndirect_tls = 0\n", "test.conf:2: key 'direct_tls' given twice");

    xt_cli_config cfg;
    char err[128];
    xt_cli_config_init(&cfg);
    assert_int_equal(xt_cli_config_parse("t", "jid = a\0b\n", 10, &cfg, err, sizeof err),
                     XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "NUL"));
    xt_cli_config_free(&cfg);
}

static char *write_temp(const char *text, mode_t mode)
{
    char *path = strdup("/tmp/xtalk-test-config-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

static void test_permissions(void **state)
{
    (void)state;
    xt_cli_config cfg;
    char err[512] = "";
    static const mode_t bad[] = {0644, 0640, 0604, 0620, 0602, 0660};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = write_temp("password_command = echo x\n", bad[i]);
        xt_cli_config_init(&cfg);
        assert_int_equal(xt_cli_config_load(path, 0, &cfg, err, sizeof err), XT_CLI_EXIT_CONFIG);
        assert_non_null(strstr(err, "readable by others"));
        assert_non_null(strstr(err, "chmod 600"));
        assert_non_null(strstr(err, path));
        assert_null(cfg.password_command); /* refused before parsing */
        xt_cli_config_free(&cfg);
        unlink(path);
        free(path);
    }

    char *path = write_temp("jid = a@b\nnope\n", 0600);
    xt_cli_config_init(&cfg);
    assert_int_equal(xt_cli_config_load(path, 0, &cfg, err, sizeof err), XT_CLI_EXIT_CONFIG);
    char where[600];
    snprintf(where, sizeof where, "%s:2:", path);
    assert_non_null(strstr(err, where));
    xt_cli_config_free(&cfg);
    unlink(path);
    free(path);

    path = write_temp("jid = a@b\n", 0600);
    xt_cli_config_init(&cfg);
    assert_int_equal(xt_cli_config_load(path, 1, &cfg, err, sizeof err), 0);
    assert_string_equal(cfg.jid, "a@b");
    xt_cli_config_free(&cfg);
    unlink(path);

    /* Missing: fine by default, an error when named with --config. */
    assert_int_equal(xt_cli_config_load(path, 0, &cfg, err, sizeof err), 0);
    assert_int_equal(xt_cli_config_load(path, 1, &cfg, err, sizeof err), XT_CLI_EXIT_CONFIG);
    assert_non_null(strstr(err, "cannot open"));
    free(path);

    /* A directory is not a config file. */
    assert_int_equal(xt_cli_config_load("/tmp", 1, &cfg, err, sizeof err), XT_CLI_EXIT_CONFIG);
}

static void test_default_path(void **state)
{
    (void)state;
    setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
    setenv("HOME", "/home/u", 1);
    char *p = xt_cli_config_default_path();
    assert_string_equal(p, "/x/cfg/xtalk/config");
    free(p);
    setenv("XDG_CONFIG_HOME", "relative", 1); /* invalid per the XDG spec: ignored */
    p = xt_cli_config_default_path();
    assert_string_equal(p, "/home/u/.config/xtalk/config");
    free(p);
    unsetenv("XDG_CONFIG_HOME");
    p = xt_cli_config_default_path();
    assert_string_equal(p, "/home/u/.config/xtalk/config");
    free(p);
    unsetenv("HOME");
    assert_null(xt_cli_config_default_path());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_default_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
