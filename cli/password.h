/*
 * password.h -- where the account password comes from. Never from the
 * command line (other users can read it in ps). In order:
 *   1. the XTALK_PASSWORD environment variable (removed from our
 *      environment once read, so commands we start do not inherit it);
 *   2. password_command from the config file, run with /bin/sh -c: the
 *      first line of its stdout; a non-zero exit is an error;
 *   3. a prompt without echo on /dev/tty, when stdin or stderr is a
 *      terminal (the terminal is restored even on SIGINT/SIGTERM);
 *   4. otherwise an error telling how to supply it.
 * Returned passwords are malloc'd; release them with xt_cli_password_free,
 * which wipes them first.
 */
#ifndef XT_CLI_PASSWORD_H
#define XT_CLI_PASSWORD_H

#include <stddef.h>

/* Returns 0 and *out, or an exit code (XT_CLI_EXIT_CONFIG, ...) with a
 * message in err. jid is only shown in the prompt. */
int xt_cli_password_get(const char *jid, const char *password_command, char **out, char *err,
                        size_t errlen);

/* Step 2 alone (also used by tests). */
int xt_cli_password_from_command(const char *cmd, char **out, char *err, size_t errlen);

/* Wipes and frees; NULL is a no-op. */
void xt_cli_password_free(char *pw);

/* Overwrites n bytes so the compiler cannot elide it. */
void xt_cli_wipe(void *p, size_t n);

#endif
