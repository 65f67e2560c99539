/* Merging command line, environment and config file; the password. */
#include "settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "password.h"
#include "report.h"
#include "xtalk/jid.h"

void xt_cli_settings_free(xt_cli_settings *s)
{
    free(s->jid);
    free(s->host);
    free(s->ca_file);
    free(s->resource);
    xt_cli_password_free(s->password);
    memset(s, 0, sizeof *s);
}

int xt_cli_parse_server(const char *s, char **host, uint16_t *port)
{
    const char *h = s, *p = NULL;
    size_t hlen;

    *host = NULL;
    *port = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close == s + 1)
            return -1;
        h = s + 1;
        hlen = (size_t)(close - h);
        if (close[1] == ':')
            p = close + 2;
        else if (close[1] != '\0')
            return -1;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) {
            hlen = strlen(s); /* several colons: a bare IPv6 address */
        } else if (colon) {
            hlen = (size_t)(colon - s);
            p = colon + 1;
        } else {
            hlen = strlen(s);
        }
    }
    if (hlen == 0)
        return -1;
    for (size_t i = 0; i < hlen; i++)
        if ((unsigned char)h[i] <= ' ' || h[i] == '/' || h[i] == '@')
            return -1;
    if (p) {
        char *end;
        if (!isdigit((unsigned char)*p))
            return -1;
        unsigned long v = strtoul(p, &end, 10);
        if (*end || v == 0 || v > 65535)
            return -1;
        *port = (uint16_t)v;
    }
    *host = strndup(h, hlen);
    return *host ? 0 : -1;
}

int xt_cli_parse_pin(const char *s, char out[65])
{
    size_t n = 0;

    for (const char *c = s; *c; c++) {
        if (*c == ':' && n > 0 && n % 2 == 0 && c[1] != '\0' && c[1] != ':')
            continue;
        if (!isxdigit((unsigned char)*c) || n >= 64)
            return -1;
        out[n++] = (char)tolower((unsigned char)*c);
    }
    if (n != 64)
        return -1;
    out[64] = '\0';
    return 0;
}

/* First non-empty of the command line, the environment, the config. */
static const char *pick(const char *arg, const char *env, const char *cfg)
{
    if (arg)
        return arg;
    const char *e = env ? getenv(env) : NULL;
    if (e && *e)
        return e;
    return cfg;
}

static int dup_opt(char **dst, const char *src, char *err, size_t errlen)
{
    if (!src)
        return 0;
    *dst = strdup(src);
    if (!*dst) {
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    return 0;
}

int xt_cli_settings_resolve(const xt_cli_args *a, xt_cli_settings *s, char *err, size_t errlen)
{
    xt_cli_config cfg;
    char *cfg_path = NULL;
    const char *where;
    int rc;

    memset(s, 0, sizeof *s);
    xt_cli_config_init(&cfg);
    s->verbose = a->verbose;
    s->timeout_ms = a->timeout_s * 1000u;
    s->insecure_plaintext = a->insecure_plaintext;

    if (a->config) {
        rc = xt_cli_config_load(a->config, 1, &cfg, err, errlen);
        where = a->config;
    } else {
        cfg_path = xt_cli_config_default_path();
        rc = cfg_path ? xt_cli_config_load(cfg_path, 0, &cfg, err, errlen) : 0;
        where = cfg_path ? cfg_path : "the config file";
    }
    if (rc)
        goto out;

    const char *jid = pick(a->jid, "XTALK_JID", cfg.jid);
    if (!jid) {
        snprintf(err, errlen,
                 "no account given; use --jid JID, set XTALK_JID, or put 'jid = you@example.org' "
                 "in %s",
                 where);
        rc = XT_CLI_EXIT_CONFIG;
        goto out;
    }
    xt_jid *pj = NULL;
    const char *why = NULL;
    int jrc = xt_jid_parse(NULL, jid, &pj, &why);
    if (jrc != 0 || !xt_jid_local(pj)) {
        snprintf(err, errlen, "the account JID '%s' is not valid: %s; give it as user@domain", jid,
                 jrc == 0 ? "it has no user part"
                 : why    ? why
                          : xt_strerror(jrc));
        xt_jid_free(pj);
        rc = jrc == XT_ENOMEM ? XT_CLI_EXIT_ERROR : XT_CLI_EXIT_CONFIG;
        goto out;
    }
    xt_jid_free(pj);
    if ((rc = dup_opt(&s->jid, jid, err, errlen)) != 0)
        goto out;

    const char *server = pick(a->server, "XTALK_SERVER", cfg.server);
    if (server && xt_cli_parse_server(server, &s->host, &s->port) != 0) {
        snprintf(err, errlen, "bad server '%s'; give it as HOST or HOST:PORT ([IPv6]:PORT)",
                 server);
        rc = a->server ? XT_CLI_EXIT_USAGE : XT_CLI_EXIT_CONFIG;
        goto out;
    }
    if ((rc = dup_opt(&s->ca_file, pick(a->ca_file, "XTALK_CA_FILE", cfg.ca_file), err, errlen)) !=
        0)
        goto out;
    const char *pin = pick(a->pin, NULL, cfg.pin);
    if (pin && xt_cli_parse_pin(pin, s->pin) != 0) {
        snprintf(err, errlen,
                 "bad certificate pin '%s'; give the SHA-256 of the certificate as 64 hex digits",
                 pin);
        rc = a->pin ? XT_CLI_EXIT_USAGE : XT_CLI_EXIT_CONFIG;
        goto out;
    }
    if ((rc = dup_opt(&s->resource, pick(a->resource, NULL, cfg.resource), err, errlen)) != 0)
        goto out;
    s->roster_wait_ms =
        a->wait_set || cfg.roster_wait_ms < 0 ? a->wait_ms : (unsigned)cfg.roster_wait_ms;
    s->direct_tls = a->direct_tls || cfg.direct_tls == 1;
    s->allow_downgrade = a->allow_downgrade || cfg.allow_downgrade == 1;

    rc = xt_cli_password_get(s->jid, cfg.password_command, &s->password, err, errlen);
out:
    free(cfg_path);
    xt_cli_config_free(&cfg);
    return rc;
}

int xt_cli_settings_get(const xt_cli_args *a, xt_cli_settings *s)
{
    char err[1024];
    int rc = xt_cli_settings_resolve(a, s, err, sizeof err);

    if (rc)
        xt_cli_errorf("%s", err);
    return rc;
}
