/*
 * Fuzz target: the configuration file (cli/config.c: "key = value"
 * lines) and the values settings.c parses out of it (server as
 * host[:port] or [v6]:port, the certificate pin). The file is the user's
 * own, but it is parsed before anything else runs and a parser must
 * refuse, never misread: for any bytes the parse either succeeds or names
 * a reason ("FILE:LINE: ..."), a value never holds a line break, and a
 * pin that is accepted is 64 lowercase hex digits. abort() on a breach.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void check_value(const char *v)
{
    /* One value is the rest of one line, blanks trimmed (config.h). */
    if (v && (!*v || strchr(v, '\n') || blank(v[0]) || blank(v[strlen(v) - 1])))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xt_cli_config cfg;
    char err[256] = "";
    xt_cli_config_init(&cfg);
    int rc = xt_cli_config_parse("fuzz.conf", (const char *)data, size, &cfg, err, sizeof err);
    if (rc != 0) {
        if (strncmp(err, "fuzz.conf", 9) != 0 && rc != 1 /* allocation failure */)
            abort();
    } else {
        const char *vals[] = {cfg.jid, cfg.server, cfg.ca_file, cfg.pin, cfg.resource,
                              cfg.password_command};
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
            check_value(vals[i]);
        if (cfg.direct_tls < -1 || cfg.direct_tls > 1 || cfg.allow_downgrade < -1 ||
            cfg.allow_downgrade > 1)
            abort();
        if (cfg.server) {
            char *host = NULL;
            uint16_t port = 0;
            if (xt_cli_parse_server(cfg.server, &host, &port) == 0 && (!host || !*host))
                abort();
            free(host);
        }
        if (cfg.pin) {
            char pin[65];
            if (xt_cli_parse_pin(cfg.pin, pin) == 0) {
                for (int i = 0; i < 64; i++)
                    if (!isxdigit((unsigned char)pin[i]) || isupper((unsigned char)pin[i]))
                        abort();
                if (pin[64] != '\0')
                    abort();
            }
        }
    }
    xt_cli_config_free(&cfg);
    return 0;
}
