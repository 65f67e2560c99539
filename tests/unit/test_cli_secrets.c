/* Unit tests: no copy of a secret outlives its use in freed heap (issue
 * 12, "secrets wiped on every copy"). The binary is linked with
 * -Wl,--wrap=free: every free() in it, the CLI's included, goes through
 * __wrap_free below, which looks for the secret in the block about to be
 * freed (malloc_usable_size bytes) before freeing it. The secret travels
 * the real paths: XTALK_PASSWORD, a password_command's output, the config
 * file naming that command, the settings that hold the result. */
#include <malloc.h>
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
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

#include "config.h"
#include "password.h"
#include "report.h"
#include "settings.h"

/* Built at run time, so the only copies are the ones the code makes. */
static char secret[32];
static size_t found; /* freed blocks that still held the secret */
static int watching;

void __real_free(void *p);
void __wrap_free(void *p);
void __wrap_free(void *p)
{
    if (p && watching && secret[0]) {
        size_t n = malloc_usable_size(p), k = strlen(secret);
        /* The whole block is read on purpose, the bytes never written
         * included (the block is freed right after). */
        VALGRIND_MAKE_MEM_DEFINED(p, n);
        for (size_t i = 0; i + k <= n; i++)
            if (memcmp((char *)p + i, secret, k) == 0) {
                found++;
                break;
            }
    }
    __real_free(p);
}

static char err[1024];

static void make_secret(void)
{
    snprintf(secret, sizeof secret, "sEcReT-%d-%lx", (int)getpid(), (unsigned long)&found);
    found = 0;
    watching = 1;
}

static void test_password_command_and_config(void **state)
{
    (void)state;
    char dir[] = "/tmp/xtalk-test-secrets-XXXXXX";
    char path[256], cmd[128];
    assert_non_null(mkdtemp(dir));
    make_secret();

    /* The command's output, straight. */
    char *pw = NULL;
    snprintf(cmd, sizeof cmd, "echo %s", secret);
    assert_int_equal(xt_cli_password_from_command(cmd, &pw, err, sizeof err), 0);
    assert_string_equal(pw, secret);
    xt_cli_password_free(pw);
    assert_int_equal(found, 0);

    /* Through the config file (which then holds the command, secret and
     * all, as some users write it) and the settings. */
    snprintf(path, sizeof path, "%s/config", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "jid = me@example.org\npassword_command = echo %s\n", secret);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    xt_cli_args a;
    memset(&a, 0, sizeof a);
    a.config = path;
    unsetenv("XTALK_PASSWORD");
    unsetenv("XTALK_JID");
    xt_cli_settings s;
    assert_int_equal(xt_cli_settings_resolve(&a, &s, err, sizeof err), 0);
    assert_string_equal(s.password, secret);
    xt_cli_settings_free(&s);
    if (found)
        fail_msg("%zu freed block(s) still held the secret", found);

    /* A config file that is refused after reading still held it. */
    f = fopen(path, "w");
    fprintf(f, "password_command = echo %s\nbogus = 1\n", secret);
    fclose(f);
    xt_cli_config cfg;
    xt_cli_config_init(&cfg);
    assert_int_equal(xt_cli_config_load(path, 1, &cfg, err, sizeof err), XT_CLI_EXIT_CONFIG);
    xt_cli_config_free(&cfg);
    if (found)
        fail_msg("%zu freed block(s) still held the secret (refused config)", found);
    watching = 0;
    unlink(path);
    rmdir(dir);
}

static void test_environment(void **state)
{
    (void)state;
    make_secret();
    setenv("XTALK_PASSWORD", secret, 1);
    setenv("XTALK_JID", "me@example.org", 1);
    xt_cli_args a;
    memset(&a, 0, sizeof a);
    setenv("XDG_CONFIG_HOME", "/nonexistent/xtalk-test", 1); /* no config file */
    xt_cli_settings s;
    assert_int_equal(xt_cli_settings_resolve(&a, &s, err, sizeof err), 0);
    assert_string_equal(s.password, secret);
    assert_null(getenv("XTALK_PASSWORD")); /* children never inherit it */
    xt_cli_settings_free(&s);
    unsetenv("XTALK_JID");
    if (found)
        fail_msg("%zu freed block(s) still held the secret", found);
    watching = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_command_and_config),
        cmocka_unit_test(test_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
