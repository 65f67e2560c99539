/* Starting shell commands with pipes (fork + execve). */
#define _GNU_SOURCE /* close_range */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Builds environ + `env` (entries of env replace same-named ones). */
static char **build_env(const char *const *env)
{
    size_t n = 0, m = 0, k = 0;

    while (environ[n])
        n++;
    while (env && env[m])
        m++;
    char **out = calloc(n + m + 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        int replaced = 0;
        for (size_t e = 0; e < m; e++)
            if (strncmp(env[e], environ[i], nl) == 0)
                replaced = 1;
        if (!replaced)
            out[k++] = environ[i];
    }
    for (size_t e = 0; e < m; e++)
        out[k++] = (char *)(uintptr_t)env[e]; /* execve's type; never written */
    out[k] = NULL;
    return out;
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int xt_cli_spawn(const char *cmd, const char *const *env, unsigned flags, xt_cli_child *out)
{
    int inp[2] = {-1, -1}, outp[2] = {-1, -1};
    char **envp;
    pid_t pid;

    out->pid = -1;
    out->in_fd = out->out_fd = -1;
    out->state = XT_CLI_CHILD_RUNNING;
    out->status = 0;
    envp = build_env(env);
    if (!envp)
        return -1;
    if (pipe2(outp, O_CLOEXEC) != 0)
        goto fail;
    if ((flags & XT_CLI_SPAWN_STDIN_PIPE) && pipe2(inp, O_CLOEXEC) != 0)
        goto fail;

    pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0) {
        /* Child: only async-signal-safe calls from here on. */
        sigset_t none;
        char *argv[] = {(char *)(uintptr_t) "sh", (char *)(uintptr_t) "-c", (char *)(uintptr_t)cmd,
                        NULL};
        if (flags & XT_CLI_SPAWN_NEW_PGRP)
            (void)setpgid(0, 0);
        /* We ignore SIGPIPE and catch INT/TERM/CHLD; the command must start
         * with the defaults (an ignored SIGPIPE would be inherited). */
        for (int s = 1; s < NSIG; s++)
            if (s != SIGKILL && s != SIGSTOP)
                (void)signal(s, SIG_DFL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        if (inp[0] >= 0 && dup2(inp[0], 0) < 0)
            _exit(127);
        if (dup2(outp[1], 1) < 0)
            _exit(127);
        /* Our sockets and pipes must not leak into the user's command. */
        (void)close_range(3, ~0u, 0);
        execve("/bin/sh", argv, envp);
        _exit(127);
    }
    free(envp);
    close(outp[1]);
    if (inp[0] >= 0)
        close(inp[0]);
    if (flags & XT_CLI_SPAWN_NONBLOCK) {
        set_nonblock(outp[0]);
        if (inp[1] >= 0)
            set_nonblock(inp[1]);
    }
    out->pid = pid;
    out->in_fd = inp[1];
    out->out_fd = outp[0];
    return 0;

fail:;
    int saved = errno;
    free(envp);
    for (int i = 0; i < 2; i++) {
        if (inp[i] >= 0)
            close(inp[i]);
        if (outp[i] >= 0)
            close(outp[i]);
    }
    errno = saved;
    return -1;
}

int xt_cli_child_exited(xt_cli_child *ch, int block)
{
    siginfo_t si;

    if (ch->state != XT_CLI_CHILD_RUNNING)
        return 1;
    for (;;) {
        memset(&si, 0, sizeof si);
        /* WNOWAIT: look, but leave the zombie (and so the PID) in place. */
        if (waitid(P_PID, (id_t)ch->pid, &si, WEXITED | WNOWAIT | (block ? 0 : WNOHANG)) == 0)
            break;
        if (errno == EINTR)
            continue;
        /* ECHILD: not ours to wait for any more; treat as gone. */
        ch->state = XT_CLI_CHILD_REAPED;
        ch->status = 0xff00;
        return 1;
    }
    if (si.si_pid == 0)
        return 0; /* WNOHANG, still running */
    ch->state = XT_CLI_CHILD_EXITED;
    return 1;
}

int xt_cli_child_reap(xt_cli_child *ch, int block)
{
    int st;

    if (ch->state == XT_CLI_CHILD_REAPED)
        return 1;
    for (;;) {
        pid_t r = waitpid(ch->pid, &st, block ? 0 : WNOHANG);
        if (r == ch->pid) {
            ch->status = st;
            break;
        }
        if (r == 0)
            return 0;
        if (errno == EINTR)
            continue;
        ch->status = 0xff00; /* ECHILD: reaped elsewhere */
        break;
    }
    ch->state = XT_CLI_CHILD_REAPED;
    return 1;
}

int xt_cli_child_kill(xt_cli_child *ch, int sig)
{
    if (ch->pid <= 0 || ch->state == XT_CLI_CHILD_REAPED)
        return 0;
    /* The group first (whatever the command started), then the child
     * itself in case it had not yet made its group when we got here. */
    (void)kill(-ch->pid, sig);
    (void)kill(ch->pid, sig);
    return 1;
}
