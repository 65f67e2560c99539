/*
 * settings.h -- the account and connection settings of one run, merged
 * from the command line, the environment (XTALK_JID, XTALK_SERVER,
 * XTALK_CA_FILE) and the config file, in that order of precedence, plus
 * the password (see password.h).
 */
#ifndef XT_CLI_SETTINGS_H
#define XT_CLI_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "args.h"

typedef struct xt_cli_settings {
    char *jid;
    char *host;    /* NULL = SRV lookup */
    uint16_t port; /* 0 = default */
    char *ca_file;
    char pin[65]; /* lowercase hex SHA-256, "" when none */
    char *resource;
    char *password; /* wiped when freed or handed over */
    int direct_tls;
    int insecure_plaintext;
    int allow_downgrade; /* --allow-downgrade or allow_downgrade = yes */
    int verbose;
    uint32_t timeout_ms;
    unsigned roster_wait_ms; /* roster --wait, else roster_wait, else the default */
} xt_cli_settings;

/* Merges everything and gets the password. Returns 0, or an exit code
 * with a message in err. Free s in both cases. */
int xt_cli_settings_resolve(const xt_cli_args *a, xt_cli_settings *s, char *err, size_t errlen);
void xt_cli_settings_free(xt_cli_settings *s);
/* The same, printing the error; returns 0 or the exit code. */
int xt_cli_settings_get(const xt_cli_args *a, xt_cli_settings *s);

/* "host", "host:port", "[v6]:port" or a bare IPv6 address. 0 or -1.
 * *host is malloc'd; *port is 0 when not given. */
int xt_cli_parse_server(const char *s, char **host, uint16_t *port);

/* 64 hex digits, optionally with ':' between bytes (as openssl prints
 * them), any case -> 64 lowercase hex digits. 0 or -1. */
int xt_cli_parse_pin(const char *s, char out[65]);

#endif
