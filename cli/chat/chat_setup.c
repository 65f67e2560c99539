/*
 * `xtalk chat`'s first start: no account anywhere (--jid, XTALK_JID, the
 * config file) used to be one error line and an exit. A terminal client
 * can ask instead: the JID, on the terminal, before curses starts, and
 * whether to keep it in the config file, which is then created mode 0600
 * (settings.c refuses a config file others can read, since it may run a
 * password_command) in a directory made 0700.
 *
 * Only the JID is written: the password is asked at login as for every
 * command (XTALK_PASSWORD, password_command, or the prompt), never saved.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config.h"
#include "../outbox.h"
#include "../report.h"
#include "chat.h"

/* A line from the terminal without its newline (malloc'd), NULL at EOF. */
static char *ask(const char *prompt)
{
    char *line = NULL;
    size_t cap = 0;

    fputs(prompt, stdout);
    fflush(stdout);
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        fputc('\n', stdout);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = 0;
    char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    memmove(line, s, strlen(s) + 1);
    return line;
}

/* mkdir -p of path's directory, each new level 0700. */
static int make_parent(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return -1;
    char *slash = strrchr(d, '/');
    if (slash && slash != d) {
        *slash = 0;
        for (char *p = d + 1; *p; p++) {
            if (*p != '/')
                continue;
            *p = 0;
            if (mkdir(d, 0700) != 0 && errno != EEXIST)
                goto fail;
            *p = '/';
        }
        if (mkdir(d, 0700) != 0 && errno != EEXIST)
            goto fail;
    }
    free(d);
    return 0;
fail:
    free(d);
    return -1;
}

/* Appends "jid = ..." (a file with other keys keeps them), mode 0600. */
static int write_jid(const char *path, const char *jid)
{
    if (make_parent(path) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    /* An existing file was already checked private by the loader; a new
     * one gets 0600 whatever the umask. */
    char line[1100];
    int n = snprintf(line, sizeof line, "jid = %s\n", jid);
    int ok = fchmod(fd, 0600) == 0 && n > 0 && (size_t)n < sizeof line &&
             write(fd, line, (size_t)n) == n;
    if (close(fd) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

int xt_chat_first_start(const xt_cli_args *a, char **jid_out)
{
    xt_cli_config cfg;
    char err[512];
    char *path = a->config ? strdup(a->config) : xt_cli_config_default_path();
    int rc = 0;

    *jid_out = NULL;
    if (a->jid || getenv("XTALK_JID") || !path)
        goto out;
    xt_cli_config_init(&cfg);
    /* An unreadable or refused file is for the usual path to report. */
    int loaded = xt_cli_config_load(path, a->config != NULL, &cfg, err, sizeof err);
    int have = loaded != 0 || cfg.jid;
    xt_cli_config_free(&cfg);
    if (have)
        goto out;

    printf("xtalk chat: no account is configured yet (no --jid, XTALK_JID or 'jid' in %s).\n",
           path);
    for (;;) {
        char *jid = ask("Your JID (like you@example.org; empty to leave): ");
        if (!jid || !*jid) {
            free(jid);
            xt_cli_errorf("no account given; use --jid JID, set XTALK_JID, or put "
                          "'jid = you@example.org' in %s",
                          path);
            rc = XT_CLI_EXIT_CONFIG;
            goto out;
        }
        const char *why = NULL;
        char *bare = xt_cli_bare(jid, &why);
        if (!bare || !strchr(bare, '@')) {
            printf("'%s' is not an account JID (%s); give it as user@domain.\n", jid,
                   bare  ? "it has no user part"
                   : why ? why
                         : "invalid");
            free(bare);
            free(jid);
            continue;
        }
        free(jid);
        jid = bare; /* saved as RFC 7622 prepares it, without a resource */
        char q[1200];
        snprintf(q, sizeof q, "Save it in %s (readable by you only)? [Y/n] ", path);
        char *yn = ask(q);
        if (yn && (!*yn || *yn == 'y' || *yn == 'Y')) {
            if (write_jid(path, jid) == 0)
                printf("Saved: %s now says 'jid = %s'.\n", path, jid);
            else
                printf("Could not write %s (%s); going on without saving.\n", path,
                       strerror(errno));
        }
        free(yn);
        *jid_out = jid;
        break;
    }
out:
    free(path);
    return rc;
}
