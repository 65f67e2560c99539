/*
 * config.h -- the xtalk configuration file.
 *
 * Format: one "key = value" per line; blank lines and lines whose first
 * non-blank character is '#' are ignored. The value is the rest of the
 * line with surrounding blanks removed (no quoting, so '#' inside a value
 * is kept). Keys: jid, server, ca_file, pin, direct_tls, allow_downgrade, resource,
 * password_command, roster_wait (milliseconds, as roster's --wait). An unknown key, a line without '=', an empty value or
 * a repeated key is an error naming file:line.
 *
 * Because password_command is run by the shell, the file is refused when
 * it is not a regular file owned by the user, or when group or others can
 * read or write it.
 */
#ifndef XT_CLI_CONFIG_H
#define XT_CLI_CONFIG_H

#include <stddef.h>

typedef struct xt_cli_config {
    char *jid;
    char *server;
    char *ca_file;
    char *pin;
    char *resource;
    char *password_command;
    int direct_tls; /* -1 when not set, else 0 or 1 */
    int allow_downgrade; /* the same */
    int roster_wait_ms;  /* -1 when not set, else 0..XT_CLI_MAX_ROSTER_WAIT_MS */
} xt_cli_config;

/* The largest roster --wait / roster_wait, in milliseconds. */
#define XT_CLI_MAX_ROSTER_WAIT_MS 600000

/* Empty config (all NULL, direct_tls -1). */
void xt_cli_config_init(xt_cli_config *cfg);
void xt_cli_config_free(xt_cli_config *cfg);

/*
 * Parses `len` bytes of config text; `name` is used in messages. Returns
 * 0, or an exit code (XT_CLI_EXIT_CONFIG, XT_CLI_EXIT_ERROR on allocation
 * failure) with a one-line message in err ("FILE:LINE: unknown key 'x'").
 * On error cfg may be partly filled; free it anyway.
 */
int xt_cli_config_parse(const char *name, const char *text, size_t len, xt_cli_config *cfg,
                        char *err, size_t errlen);

/*
 * Loads the file at `path`. A missing file is not an error unless
 * `must_exist` (the user named it with --config). Returns as above.
 */
int xt_cli_config_load(const char *path, int must_exist, xt_cli_config *cfg, char *err,
                       size_t errlen);

/* The default path: $XDG_CONFIG_HOME/xtalk/config, else
 * $HOME/.config/xtalk/config. malloc'd; NULL when neither is set (or on
 * allocation failure). */
char *xt_cli_config_default_path(void);

#endif
