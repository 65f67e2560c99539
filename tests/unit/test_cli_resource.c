/* Unit tests: the installation's stable resource and its slots (issue 13
 * item 7; resource.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "resource.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/xt-resource-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/resource", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_generated_once_and_kept(void **state)
{
    (void)state;
    char *r1 = NULL, *r2 = NULL;
    int fd1 = -1, fd2 = -1;
    assert_int_equal(xt_cli_resource_pick(path, &r1, &fd1), 0);
    assert_true(fd1 >= 0);
    assert_int_equal(strncmp(r1, "xtalk-", 6), 0);
    assert_int_equal(strlen(r1), 14);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* The next run, after this one ended: the same resource. */
    close(fd1);
    assert_int_equal(xt_cli_resource_pick(path, &r2, &fd2), 0);
    assert_string_equal(r1, r2);
    close(fd2);
    free(r2);
    /* The file holds it, as a line. */
    FILE *f = fopen(path, "r");
    char line[64] = "";
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_int_equal(strncmp(line, r1, strlen(r1)), 0);
    assert_string_equal(line + strlen(r1), "\n");
    free(r1);
}

/* A run beside another takes the next slot, in this process or another;
 * a slot freed is taken again. */
static void test_runs_at_once(void **state)
{
    (void)state;
    char *a = NULL, *b = NULL, *c = NULL;
    int fa, fb, fc;
    assert_int_equal(xt_cli_resource_pick(path, &a, &fa), 0);
    assert_int_equal(xt_cli_resource_pick(path, &b, &fb), 0);
    char want[80];
    snprintf(want, sizeof want, "%s-2", a);
    assert_string_equal(b, want);
    /* Another process sees both slots taken. */
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *r = NULL;
        int fd;
        int ok = xt_cli_resource_pick(path, &r, &fd) == 0;
        char msg[80] = "";
        if (ok)
            snprintf(msg, sizeof msg, "%s", r);
        (void)!write(pipefd[1], msg, strlen(msg) + 1);
        _exit(0);
    }
    close(pipefd[1]);
    char got[80] = "";
    assert_true(read(pipefd[0], got, sizeof got) > 0);
    close(pipefd[0]);
    waitpid(pid, NULL, 0);
    snprintf(want, sizeof want, "%s-3", a);
    assert_string_equal(got, want);
    /* The first run ends: its slot, and the resource itself, are free. */
    close(fa);
    assert_int_equal(xt_cli_resource_pick(path, &c, &fc), 0);
    assert_string_equal(c, a);
    close(fb);
    close(fc);
    free(a);
    free(b);
    free(c);
}

/* A resource someone wrote there is used; a damaged file is replaced. */
static void test_file_contents(void **state)
{
    (void)state;
    char *r = NULL;
    int fd;
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("laptop\n", f);
    fclose(f);
    assert_int_equal(xt_cli_resource_pick(path, &r, &fd), 0);
    assert_string_equal(r, "laptop");
    close(fd);
    free(r);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("bad resource\x01\n", f);
    fclose(f);
    assert_int_equal(xt_cli_resource_pick(path, &r, &fd), 0);
    assert_int_equal(strncmp(r, "xtalk-", 6), 0);
    close(fd);
    free(r);
    /* A directory that cannot be written: an error, not a crash. */
    assert_int_equal(xt_cli_resource_pick("/nonexistent-dir/resource", &r, &fd), -1);
    assert_null(r);
    assert_int_equal(fd, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_generated_once_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_contents, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
