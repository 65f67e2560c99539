/* The configuration file: parsing and the permission check. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "password.h"
#include "report.h"

/* A config file is a few lines; anything bigger is a mistake. */
#define CONFIG_MAX_SIZE (64 * 1024)

void xt_cli_config_init(xt_cli_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->direct_tls = -1;
    cfg->allow_downgrade = -1;
    cfg->roster_wait_ms = -1;
}

void xt_cli_config_free(xt_cli_config *cfg)
{
    free(cfg->jid);
    free(cfg->server);
    free(cfg->ca_file);
    free(cfg->pin);
    free(cfg->resource);
    /* Some users put the secret itself in the command ("echo ..."). */
    if (cfg->password_command)
        xt_cli_wipe(cfg->password_command, strlen(cfg->password_command));
    free(cfg->password_command);
    xt_cli_config_init(cfg);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Handles one "key = value" line (already split and trimmed). */
static int set_key(xt_cli_config *cfg, const char *key, const char *value, const char *where,
                   char *err, size_t errlen)
{
    char **slot = NULL;

    if (strcmp(key, "jid") == 0)
        slot = &cfg->jid;
    else if (strcmp(key, "server") == 0)
        slot = &cfg->server;
    else if (strcmp(key, "ca_file") == 0)
        slot = &cfg->ca_file;
    else if (strcmp(key, "pin") == 0)
        slot = &cfg->pin;
    else if (strcmp(key, "resource") == 0)
        slot = &cfg->resource;
    else if (strcmp(key, "password_command") == 0)
        slot = &cfg->password_command;
    else if (strcmp(key, "roster_wait") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (cfg->roster_wait_ms != -1) {
            snprintf(err, errlen, "%s: key '%s' given twice", where, key);
            return XT_CLI_EXIT_CONFIG;
        }
        if (*end || end == value || value[0] == '-' || v > XT_CLI_MAX_ROSTER_WAIT_MS) {
            snprintf(err, errlen,
                     "%s: roster_wait must be a number of milliseconds from 0 to %d, "
                     "not '%s'",
                     where, XT_CLI_MAX_ROSTER_WAIT_MS, value);
            return XT_CLI_EXIT_CONFIG;
        }
        cfg->roster_wait_ms = (int)v;
        return 0;
    } else if (strcmp(key, "direct_tls") == 0 || strcmp(key, "allow_downgrade") == 0) {
        int b, *flag = strcmp(key, "direct_tls") == 0 ? &cfg->direct_tls : &cfg->allow_downgrade;
        if (*flag != -1) {
            snprintf(err, errlen, "%s: key '%s' given twice", where, key);
            return XT_CLI_EXIT_CONFIG;
        }
        if (parse_bool(value, &b) != 0) {
            snprintf(err, errlen, "%s: %s must be true or false, not '%s'", where, key, value);
            return XT_CLI_EXIT_CONFIG;
        }
        *flag = b;
        return 0;
    } else {
        snprintf(err, errlen,
                 "%s: unknown key '%s' (known: jid, server, ca_file, pin, direct_tls, resource, "
                 "password_command, allow_downgrade, roster_wait)",
                 where, key);
        return XT_CLI_EXIT_CONFIG;
    }
    if (*slot) {
        snprintf(err, errlen, "%s: key '%s' given twice", where, key);
        return XT_CLI_EXIT_CONFIG;
    }
    *slot = strdup(value);
    if (!*slot) {
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    return 0;
}

int xt_cli_config_parse(const char *name, const char *text, size_t len, xt_cli_config *cfg,
                        char *err, size_t errlen)
{
    size_t pos = 0;
    unsigned lineno = 0;
    char *line = NULL;
    size_t line_len = 0;
    int rc = 0;

    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: contains a NUL byte; is it a text file?", name);
        return XT_CLI_EXIT_CONFIG;
    }
    while (pos < len && rc == 0) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        char where[512];

        pos += n + (nl ? 1 : 0);
        lineno++;
        snprintf(where, sizeof where, "%s:%u", name, lineno);

        if (line)
            xt_cli_wipe(line, line_len); /* see below */
        free(line);
        line = malloc(n + 1);
        line_len = n + 1;
        if (!line) {
            snprintf(err, errlen, "out of memory");
            rc = XT_CLI_EXIT_ERROR;
            break;
        }
        memcpy(line, start, n);
        line[n] = '\0';

        char *b = line;
        while (is_blank(*b))
            b++;
        if (*b == '\0' || *b == '#')
            continue;
        char *eq = strchr(b, '=');
        if (!eq) {
            snprintf(err, errlen, "%s: expected 'key = value'", where);
            rc = XT_CLI_EXIT_CONFIG;
            break;
        }
        char *kend = eq;
        while (kend > b && is_blank(kend[-1]))
            kend--;
        *kend = '\0';
        char *v = eq + 1;
        while (is_blank(*v))
            v++;
        char *vend = v + strlen(v);
        while (vend > v && is_blank(vend[-1]))
            vend--;
        *vend = '\0';
        if (*b == '\0') {
            snprintf(err, errlen, "%s: missing key before '='", where);
            rc = XT_CLI_EXIT_CONFIG;
            break;
        }
        if (*v == '\0') {
            snprintf(err, errlen, "%s: empty value for '%s'", where, b);
            rc = XT_CLI_EXIT_CONFIG;
            break;
        }
        rc = set_key(cfg, b, v, where, err, errlen);
    }
    /* The line was cut in place (NULs at '=' and the ends): wipe all of
     * it, not up to its first NUL. */
    if (line)
        xt_cli_wipe(line, line_len);
    free(line);
    return rc;
}

int xt_cli_config_load(const char *path, int must_exist, xt_cli_config *cfg, char *err,
                       size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0) {
        if (errno == ENOENT && !must_exist)
            return 0;
        snprintf(err, errlen, "cannot open config file %s: %s; check the path given to --config",
                 path, strerror(errno));
        return XT_CLI_EXIT_CONFIG;
    }
    /* Check the opened file, not the name, so a swap in between cannot
     * slip a different file past the check. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "config file %s is not a regular file", path);
        close(fd);
        return XT_CLI_EXIT_CONFIG;
    }
    if (st.st_uid != geteuid()) {
        snprintf(err, errlen,
                 "refusing config file %s: it is owned by another user and can run a password "
                 "command; use a file you own (chmod 600)",
                 path);
        close(fd);
        return XT_CLI_EXIT_CONFIG;
    }
    if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
        snprintf(err, errlen,
                 "refusing config file %s: it is readable by others (it can run a password "
                 "command); run chmod 600 %s",
                 path, path);
        close(fd);
        return XT_CLI_EXIT_CONFIG;
    }
    if (st.st_size > CONFIG_MAX_SIZE) {
        snprintf(err, errlen, "config file %s is too big (over %d bytes)", path, CONFIG_MAX_SIZE);
        close(fd);
        return XT_CLI_EXIT_CONFIG;
    }

    char *text = malloc(CONFIG_MAX_SIZE + 1);
    size_t len = 0;
    if (!text) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    for (;;) {
        ssize_t n = read(fd, text + len, CONFIG_MAX_SIZE + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
            free(text);
            close(fd);
            return XT_CLI_EXIT_CONFIG;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > CONFIG_MAX_SIZE) {
            snprintf(err, errlen, "config file %s is too big (over %d bytes)", path,
                     CONFIG_MAX_SIZE);
            free(text);
            close(fd);
            return XT_CLI_EXIT_CONFIG;
        }
    }
    close(fd);
    int rc = xt_cli_config_parse(path, text, len, cfg, err, errlen);
    xt_cli_wipe(text, len); /* it may name the secret (password_command) */
    free(text);
    return rc;
}

char *xt_cli_config_default_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    const char *base, *suffix;

    /* XDG Base Directory spec: a relative XDG_CONFIG_HOME is invalid and ignored. */
    if (xdg && xdg[0] == '/') {
        base = xdg;
        suffix = "/xtalk/config";
    } else if (home && home[0]) {
        base = home;
        suffix = "/.config/xtalk/config";
    } else {
        return NULL;
    }
    size_t n = strlen(base) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s", base, suffix);
    return p;
}
