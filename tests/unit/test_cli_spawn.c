/* Unit tests: a spawned command's life (cli/spawn.h) and the rule the
 * bot's timeout relies on: a child is signalled only while its PID is
 * still ours (running, or exited but not reaped), never after the reap,
 * when the PID may already be another process's (issue 12, item 10). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "spawn.h"

static void spawn_ok(const char *cmd, xt_cli_child *ch)
{
    if (xt_cli_spawn(cmd, NULL, XT_CLI_SPAWN_NEW_PGRP, ch) != 0)
        fail_msg("spawn %s: %s", cmd, strerror(errno));
    assert_int_equal(ch->state, XT_CLI_CHILD_RUNNING);
}

/* The child is reaped before the "timer" fires: the kill is not issued. */
static void test_no_kill_after_reap(void **state)
{
    (void)state;
    xt_cli_child ch;
    spawn_ok("exit 3", &ch);

    assert_int_equal(xt_cli_child_exited(&ch, 1), 1);
    assert_int_equal(ch.state, XT_CLI_CHILD_EXITED);
    /* Exited, not reaped: the zombie holds the PID, a kill is harmless
     * and still allowed, and the exit can be looked at again. */
    assert_int_equal(xt_cli_child_exited(&ch, 0), 1);
    assert_int_equal(xt_cli_child_kill(&ch, 0), 1);
    assert_int_equal(kill(ch.pid, 0), 0); /* still ours: a zombie */

    assert_int_equal(xt_cli_child_reap(&ch, 0), 1);
    assert_int_equal(ch.state, XT_CLI_CHILD_REAPED);
    assert_true(WIFEXITED(ch.status));
    assert_int_equal(WEXITSTATUS(ch.status), 3);
    /* Reaped: the PID is free for anyone; no signal goes to it. */
    assert_int_equal(xt_cli_child_kill(&ch, SIGKILL), 0);
    assert_int_equal(xt_cli_child_reap(&ch, 0), 1); /* idempotent */
    assert_int_equal(xt_cli_child_exited(&ch, 0), 1);
}

/* A command that exits at once but leaves something holding its stdout
 * (the timeout's real case): its exit is seen without reaping, so the
 * kill still reaches its process group (the zombie keeps the group ID
 * ours), and the pipe closes. Without the kill the read below would wait
 * for sleep's 60 s. */
static void test_kill_exited_leader_reaches_group(void **state)
{
    (void)state;
    xt_cli_child ch;
    char buf[16];
    spawn_ok("sleep 60 & exit 0", &ch);

    assert_int_equal(xt_cli_child_exited(&ch, 1), 1);
    assert_int_equal(ch.state, XT_CLI_CHILD_EXITED);
    assert_int_equal(xt_cli_child_kill(&ch, SIGKILL), 1);
    ssize_t n;
    while ((n = read(ch.out_fd, buf, sizeof buf)) < 0 && errno == EINTR)
        ;
    assert_int_equal(n, 0); /* EOF: the sleep is gone */
    close(ch.out_fd);
    assert_int_equal(xt_cli_child_reap(&ch, 1), 1);
    assert_int_equal(WEXITSTATUS(ch.status), 0);
    assert_int_equal(xt_cli_child_kill(&ch, SIGKILL), 0);
}

/* A running child: killed, then its status says so. */
static void test_kill_running(void **state)
{
    (void)state;
    xt_cli_child ch;
    spawn_ok("exec sleep 60", &ch);

    assert_int_equal(xt_cli_child_exited(&ch, 0), 0);
    assert_int_equal(xt_cli_child_reap(&ch, 0), 0);
    assert_int_equal(ch.state, XT_CLI_CHILD_RUNNING);
    assert_int_equal(xt_cli_child_kill(&ch, SIGKILL), 1);
    assert_int_equal(xt_cli_child_reap(&ch, 1), 1);
    assert_true(WIFSIGNALED(ch.status));
    assert_int_equal(WTERMSIG(ch.status), SIGKILL);
    close(ch.out_fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_kill_after_reap),
        cmocka_unit_test(test_kill_exited_leader_reaches_group),
        cmocka_unit_test(test_kill_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
