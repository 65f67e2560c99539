/* `xtalk get URL [-o FILE]`: downloads a shared file (issue 17) through
 * the library's HTTP transfer (xtalk/http.h: libcurl on the xt_loop) with
 * the XMPP connection's TLS rules: the system store plus the account's
 * CA file. What lands on disk is complete or absent: the bytes go to a
 * temporary file beside the target, renamed into place at the end
 * (never over an existing file without --force), removed on any failure
 * or interruption. */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "download.h"
#include "progress.h"
#include "report.h"
#include "xtalk/client.h"
#include "xtalk/http.h"
#include "xtalk/im.h"

/* SIGINT / SIGTERM: the transfer is cancelled (its file removed). */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* The CA file: --ca-file, XTALK_CA_FILE, else the config file's ca_file
 * (the precedence every command has, settings.h). 0 or an exit code. */
static int ca_file_of(const xt_cli_args *a, char **out)
{
    *out = NULL;
    const char *v = a->ca_file ? a->ca_file : getenv("XTALK_CA_FILE");
    if (v && *v)
        return (*out = strdup(v)) ? 0 : XT_CLI_EXIT_ERROR;
    xt_cli_config cfg = {0};
    char err[1024];
    char *cfg_path = a->config ? NULL : xt_cli_config_default_path();
    int rc = a->config || cfg_path ? xt_cli_config_load(a->config ? a->config : cfg_path,
                                                        a->config != NULL, &cfg, err, sizeof err)
                                   : 0;
    if (rc)
        xt_cli_errorf("get: %s", err);
    else if (cfg.ca_file && !(*out = strdup(cfg.ca_file)))
        rc = XT_CLI_EXIT_ERROR;
    free(cfg_path);
    xt_cli_config_free(&cfg);
    return rc;
}

/* --- the transfer ------------------------------------------------------------ */

typedef struct get_run {
    xt_loop *loop;
    int finished;
    xt_http_result res; /* status and http_status; detail copied below */
    char detail[512];
    xt_cli_progress bar; /* progress.h: the bar send --file draws */
} get_run;

static void on_progress(xt_http_transfer *t, uint64_t done, uint64_t total, void *ud)
{
    (void)t;
    get_run *r = ud;
    if (total && !r->bar.total)
        r->bar.total = total; /* known once the headers came */
    xt_cli_progress_update(&r->bar, done, xt_loop_now(r->loop));
}

static void on_done(xt_http_transfer *t, const xt_http_result *res, void *ud)
{
    (void)t;
    get_run *r = ud;
    r->res = *res;
    snprintf(r->detail, sizeof r->detail, "%s", res->detail ? res->detail : "");
    r->res.detail = r->detail;
    r->finished = 1;
    xt_cli_progress_clear(&r->bar);
}

/* The exit code for a failed transfer, and the message. */
static int report(const char *url, const get_run *r, const char *ca_file)
{
    const char *d = r->detail;
    switch (r->res.status) {
    case XT_ECERT:
        xt_cli_errorf("get: the certificate of %s is not trusted: %s; %s", url, d,
                      ca_file ? "check --ca-file" : "use --ca-file with the server's CA");
        return XT_CLI_EXIT_TLS;
    case XT_ETLS:
        xt_cli_errorf("get: TLS with the file's server failed: %s", d);
        return XT_CLI_EXIT_TLS;
    case XT_ECONNECT:
    case XT_ENONAME:
    case XT_EDNS:
        xt_cli_errorf("get: cannot reach the file's server: %s", d);
        return XT_CLI_EXIT_CONNECT;
    case XT_ETIMEOUT:
        xt_cli_errorf("get: timed out: %s", d);
        return XT_CLI_EXIT_TIMEOUT;
    case XT_EPROTO:
        if (r->res.http_status >= 400) {
            xt_cli_errorf("get: the server answered HTTP %ld%s%s", r->res.http_status,
                          *d ? ": " : "", d);
            return XT_CLI_EXIT_TRANSFER;
        }
        xt_cli_errorf("get: the file's server broke HTTP: %s", d);
        return XT_CLI_EXIT_TRANSFER;
    case XT_EIO:
        xt_cli_errorf("get: the download broke off: %s", d);
        return XT_CLI_EXIT_TRANSFER;
    case XT_ECANCELED:
        xt_cli_errorf("get: interrupted; nothing was kept");
        return XT_CLI_EXIT_ERROR;
    default:
        xt_cli_errorf("get: %s%s%s", xt_strerror(r->res.status), *d ? ": " : "", d);
        return XT_CLI_EXIT_ERROR;
    }
}

/* Copies the finished download to stdout ("-o -"). */
static int copy_to_stdout(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, stdout) != n) {
            rc = -1;
            break;
        }
    if (ferror(f))
        rc = -1;
    fclose(f);
    return fflush(stdout) == 0 ? rc : -1;
}

int xt_cli_cmd_get(const xt_cli_args *a)
{
    const char *url = a->target;
    unsigned flags = xt_file_url_check(url);
    if ((flags & XT_FILE_UNSAFE) || (flags & XT_FILE_HTTP)) {
        /* http too: the library fetches over TLS only. */
        xt_cli_errorf("get: not an https URL: only https://... is fetched (a file's link as "
                      "listen shows it in \"file\")");
        return XT_CLI_EXIT_USAGE;
    }
    char *ca_file = NULL;
    int rc = ca_file_of(a, &ca_file);
    if (rc)
        return rc;
    /* "-o -": downloaded to a private temporary file, then copied, so
     * stdout never gets a half of a file that failed. */
    int to_stdout = a->output && strcmp(a->output, "-") == 0;
    char name[256], err[1024];
    xt_cli_dl o = {.fd = -1};
    if (xt_file_name(NULL, url, name, sizeof name) < 0)
        snprintf(name, sizeof name, "file");
    if (to_stdout) {
        const char *td = getenv("TMPDIR");
        size_t n = strlen(td && *td ? td : "/tmp") + 32;
        if ((o.tmp = malloc(n))) {
            snprintf(o.tmp, n, "%s/xtalk-get-XXXXXX", td && *td ? td : "/tmp");
            o.fd = mkostemp(o.tmp, O_CLOEXEC);
        }
        if (o.fd < 0) {
            xt_cli_errorf("get: cannot create a temporary file: %s", strerror(errno));
            xt_cli_dl_drop(&o);
            free(ca_file);
            return XT_CLI_EXIT_ERROR;
        }
    } else if ((rc = xt_cli_dl_open(a->output, name, a->force, &o, err, sizeof err)) != 0) {
        if (rc == XT_CLI_EXIT_USAGE)
            xt_cli_errorf("get: %s; use --force to replace it, or -o to name another file", err);
        else
            xt_cli_errorf("get: %s", err);
        xt_cli_dl_drop(&o);
        free(ca_file);
        return rc;
    }

    get_run r = {0};
    xt_http *h = NULL;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: the loop's poll returns, and the transfer is
     * cancelled (the library removes the file). */
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = xt_loop_new(NULL, &r.loop);
    if (!rc)
        rc = xt_http_new(NULL, &h);
    if (!rc && ca_file)
        rc = xt_http_set_ca_file(h, ca_file);
    if (!rc)
        rc = xt_http_set_timeouts(h, 0, a->timeout_s * 1000u);
    if (!rc)
        rc = xt_loop_add_http(r.loop, h);
    xt_http_transfer *t = NULL;
    if (!rc) {
        xt_cli_progress_start(&r.bar, to_stdout ? name : o.path, 0, xt_loop_now(r.loop));
        xt_http_opts opts = {.progress = on_progress, .done = on_done, .ud = &r};
        rc = xt_http_download(h, url, o.tmp, &opts, &t);
    }
    if (rc) {
        if (rc == XT_EUNSUPPORTED)
            xt_cli_errorf("get: this xtalk was built without HTTP transfers (-Dhttp=false)");
        else
            xt_cli_errorf("get: %s%s%s", xt_strerror(rc), h && *xt_http_errdetail(h) ? ": " : "",
                          h ? xt_http_errdetail(h) : "");
        rc = XT_CLI_EXIT_ERROR;
    } else {
        int cancelled = 0;
        while (!r.finished) {
            if (interrupted && !cancelled) {
                cancelled = 1;
                xt_http_cancel(t);
                continue;
            }
            xt_loop_run_once(r.loop, 200);
        }
        if (r.res.status != 0) {
            rc = report(url, &r, ca_file);
        } else if (!to_stdout) {
            if ((rc = xt_cli_dl_commit(&o, a->force, err, sizeof err)) != 0)
                xt_cli_errorf("get: %s%s", err,
                              rc == XT_CLI_EXIT_USAGE ? "; use --force to replace it" : "");
        } else if (copy_to_stdout(o.tmp) != 0) {
            xt_cli_errorf("get: writing to stdout failed: %s", strerror(errno));
            rc = XT_CLI_EXIT_ERROR;
        }
    }
    xt_http_free(h);
    xt_loop_free(r.loop);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    xt_cli_dl_drop(&o);
    free(ca_file);
    return rc;
}
