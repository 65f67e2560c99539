/*
 * spawn.h -- runs a user's command through /bin/sh -c with pipes, for
 * password_command and bot --exec. The command string is the user's own;
 * data (a message body, a sender) is never put into it: it goes to the
 * child's stdin and environment instead.
 */
#ifndef XT_CLI_SPAWN_H
#define XT_CLI_SPAWN_H

#include <sys/types.h>

/*
 * A child's life, as far as signals are concerned. Once a child is
 * reaped its PID is free and the kernel may give it (and, as a process
 * group ID, its group) to any new process: a signal sent after the reap
 * can kill a stranger. So the exit is first only observed (waitid with
 * WNOWAIT: the zombie keeps the PID and the group ID ours), the child may
 * still be signalled while RUNNING or EXITED, and xt_cli_child_kill
 * refuses once it is REAPED.
 */
typedef enum xt_cli_child_state {
    XT_CLI_CHILD_RUNNING = 0,
    XT_CLI_CHILD_EXITED, /* a zombie: its PID is still ours */
    XT_CLI_CHILD_REAPED  /* gone: its PID may be anyone's now */
} xt_cli_child_state;

typedef struct xt_cli_child {
    pid_t pid;
    int in_fd;  /* write end of the child's stdin, or -1 (stdin inherited) */
    int out_fd; /* read end of the child's stdout */
    xt_cli_child_state state;
    int status; /* the wait status, once REAPED */
} xt_cli_child;

enum {
    XT_CLI_SPAWN_STDIN_PIPE = 1u << 0, /* give the child a stdin pipe (else inherit ours) */
    XT_CLI_SPAWN_NEW_PGRP = 1u << 1,   /* own process group, so a timeout can kill it all */
    XT_CLI_SPAWN_NONBLOCK = 1u << 2,   /* our pipe ends are O_NONBLOCK (for the loop) */
};

/*
 * Starts `/bin/sh -c cmd`. `env` is NULL or a NULL-terminated list of
 * "NAME=value" strings set in the child's environment on top of ours.
 * The child gets default signal dispositions and an empty signal mask,
 * and no file descriptors of ours except 0-2. stderr is inherited.
 * Returns 0, or -1 with errno set.
 */
int xt_cli_spawn(const char *cmd, const char *const *env, unsigned flags, xt_cli_child *out);

/* Whether the child has exited, without reaping it (its PID stays ours):
 * 1 (state EXITED or REAPED), 0 still running (never when `block`, which
 * waits for the exit). A child someone else reaped (ECHILD) counts as
 * REAPED, with a failure status (0xff00). */
int xt_cli_child_exited(xt_cli_child *ch, int block);

/* Reaps an exited child (blocking until it exits when `block`); 1 when
 * it is REAPED (ch->status set), 0 when still running. */
int xt_cli_child_reap(xt_cli_child *ch, int block);

/* Sends sig to the child's process group and to the child, unless it is
 * REAPED: 1 when sent, 0 when not (reaped already: the PID may be
 * another process's). Never reaps. */
int xt_cli_child_kill(xt_cli_child *ch, int sig);

#endif
