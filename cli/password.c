/* Getting the password: environment, password_command, or a tty prompt. */
#include "password.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "report.h"
#include "spawn.h"

/* Longest password line read; longer input is an error, not a truncation. */
#define PW_MAX 1024

void xt_cli_wipe(void *p, size_t n)
{
    if (p)
        explicit_bzero(p, n);
}

void xt_cli_password_free(char *pw)
{
    if (pw) {
        xt_cli_wipe(pw, strlen(pw));
        free(pw);
    }
}

static int from_env(char **out, char *err, size_t errlen)
{
    char *v = getenv("XTALK_PASSWORD");

    if (!v)
        return -1; /* not set: try the next source */
    size_t n = strlen(v);
    if (n == 0) {
        snprintf(err, errlen,
                 "XTALK_PASSWORD is set but empty; set it to the password or unset it");
        return XT_CLI_EXIT_CONFIG;
    }
    *out = strdup(v);
    /* Do not leave the secret in our environment: bot --exec and
     * password_command children would inherit it. */
    xt_cli_wipe(v, n);
    unsetenv("XTALK_PASSWORD");
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    return 0;
}

int xt_cli_password_from_command(const char *cmd, char **out, char *err, size_t errlen)
{
    xt_cli_child ch;
    char buf[PW_MAX + 1];
    size_t len = 0;
    int overflow = 0, status;

    *out = NULL;
    if (xt_cli_spawn(cmd, NULL, 0, &ch) != 0) {
        snprintf(err, errlen, "cannot run password_command: %s", strerror(errno));
        return XT_CLI_EXIT_CONFIG;
    }
    /* Read to EOF (so the command never dies of SIGPIPE), keep the start. */
    for (;;) {
        char tmp[512];
        ssize_t n = read(ch.out_fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++) {
            if (len < PW_MAX)
                buf[len++] = tmp[i];
            else
                overflow = 1;
        }
        xt_cli_wipe(tmp, sizeof tmp);
    }
    close(ch.out_fd);
    while (waitpid(ch.pid, &status, 0) < 0) {
        if (errno != EINTR) {
            status = -1;
            break;
        }
    }
    buf[len] = '\0';
    char *nl = memchr(buf, '\n', len);
    size_t plen = nl ? (size_t)(nl - buf) : len;
    int has_nul = memchr(buf, '\0', plen) != NULL;
    if (nl)
        overflow = 0; /* only the first line counts, and it fit */
    if (plen > 0 && buf[plen - 1] == '\r')
        plen--;
    buf[plen] = '\0';

    int rc = 0;
    if (status == -1 || !WIFEXITED(status)) {
        snprintf(err, errlen,
                 "password_command was killed by a signal; check the command in the config file");
        rc = XT_CLI_EXIT_CONFIG;
    } else if (WEXITSTATUS(status) != 0) {
        snprintf(err, errlen,
                 "password_command failed: it exited with status %d; check the command in the "
                 "config file",
                 WEXITSTATUS(status));
        rc = XT_CLI_EXIT_CONFIG;
    } else if (overflow) {
        snprintf(err, errlen, "password_command printed a line longer than %d bytes", PW_MAX);
        rc = XT_CLI_EXIT_CONFIG;
    } else if (has_nul) {
        snprintf(err, errlen, "password_command printed a NUL byte");
        rc = XT_CLI_EXIT_CONFIG;
    } else if (plen == 0) {
        snprintf(err, errlen, "password_command printed no password (its first line is empty)");
        rc = XT_CLI_EXIT_CONFIG;
    } else {
        *out = strdup(buf);
        if (!*out) {
            snprintf(err, errlen, "out of memory");
            rc = XT_CLI_EXIT_ERROR;
        }
    }
    xt_cli_wipe(buf, sizeof buf);
    return rc;
}

/* --- the prompt --------------------------------------------------------- */

/* State the signal handler needs to put the terminal back. */
static volatile sig_atomic_t tty_fd = -1;
static struct termios tty_saved;

static void restore_tty(void)
{
    if (tty_fd >= 0)
        (void)tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
}

static void on_prompt_signal(int sig)
{
    restore_tty();
    if (tty_fd >= 0)
        if (write(tty_fd, "\n", 1) < 0) { /* nothing to do in a handler */
        }
    /* Die of the same signal so the shell sees what happened. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int prompt_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
#define NPROMPT_SIGNALS (sizeof prompt_signals / sizeof prompt_signals[0])

static int from_tty(const char *jid, char **out, char *err, size_t errlen)
{
    struct sigaction sa, old[NPROMPT_SIGNALS];
    struct termios noecho;
    char buf[PW_MAX + 2];
    size_t len = 0;
    int fd, rc = 0, eof = 0;

    fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1; /* no controlling terminal */
    if (tcgetattr(fd, &tty_saved) != 0) {
        close(fd);
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NPROMPT_SIGNALS; i++)
        sigaction(prompt_signals[i], &sa, &old[i]);
    tty_fd = fd;

    noecho = tty_saved;
    noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    noecho.c_lflag |= ICANON;
    /* Echo off before the prompt shows, so nothing typed after it echoes. */
    (void)tcsetattr(fd, TCSAFLUSH, &noecho);
    dprintf(fd, "Password for %s: ", jid ? jid : "the account");

    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            eof = 1;
            break;
        }
        if (c == '\n' || c == '\r')
            break;
        if (len < PW_MAX + 1)
            buf[len++] = c;
    }
    restore_tty();
    if (write(fd, "\n", 1) < 0) { /* the newline is cosmetic */
    }
    tty_fd = -1;
    for (size_t i = 0; i < NPROMPT_SIGNALS; i++)
        sigaction(prompt_signals[i], &old[i], NULL);
    close(fd);

    buf[len] = '\0';
    if (len > PW_MAX) {
        snprintf(err, errlen, "password too long (over %d bytes)", PW_MAX);
        rc = XT_CLI_EXIT_CONFIG;
    } else if (len == 0) {
        snprintf(err, errlen, eof ? "no password entered (end of input)" : "empty password");
        rc = XT_CLI_EXIT_CONFIG;
    } else {
        *out = strdup(buf);
        if (!*out) {
            snprintf(err, errlen, "out of memory");
            rc = XT_CLI_EXIT_ERROR;
        }
    }
    xt_cli_wipe(buf, sizeof buf);
    return rc;
}

int xt_cli_password_get(const char *jid, const char *password_command, char **out, char *err,
                        size_t errlen)
{
    int rc;

    *out = NULL;
    rc = from_env(out, err, errlen);
    if (rc != -1)
        return rc;
    if (password_command)
        return xt_cli_password_from_command(password_command, out, err, errlen);
    if (isatty(0) || isatty(2)) {
        rc = from_tty(jid, out, err, errlen);
        if (rc != -1)
            return rc;
    }
    snprintf(err, errlen,
             "no password: not asked on the command line for safety, and there is no terminal "
             "to prompt on; set XTALK_PASSWORD or password_command in the config file");
    return XT_CLI_EXIT_CONFIG;
}
