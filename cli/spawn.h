/*
 * spawn.h -- runs a user's command through /bin/sh -c with pipes, for
 * password_command and bot --exec. The command string is the user's own;
 * data (a message body, a sender) is never put into it: it goes to the
 * child's stdin and environment instead.
 */
#ifndef XT_CLI_SPAWN_H
#define XT_CLI_SPAWN_H

#include <sys/types.h>

typedef struct xt_cli_child {
    pid_t pid;
    int in_fd;  /* write end of the child's stdin, or -1 (stdin inherited) */
    int out_fd; /* read end of the child's stdout */
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

#endif
