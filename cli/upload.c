/*
 * The xtalk program's XEP-0363 upload (upload.h), on the library's
 * xt_upload_* (slot) and xt_http_* (PUT) calls.
 *
 * The size is checked twice before a byte is sent: against the
 * service's advertised max-file-size (XEP-0363 §3), with both sizes in
 * the message, and by the service itself when it answers the slot
 * request (§4.1). A Ctrl-C (the session finishing) cancels the PUT at
 * the next progress report or, at the latest, when the session ends: the
 * done callback is then never called, so no URL is sent.
 */
#include "upload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef XT_HAVE_MAGIC
#include <magic.h>
#endif

#include "report.h"
#include "sanitize.h"

/* libmagic's MIME type of the file, or "" (none, or no libmagic). */
static void guess_type(const char *path, char *out, size_t len)
{
    out[0] = '\0';
#ifdef XT_HAVE_MAGIC
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (!m)
        return;
    const char *t = magic_load(m, NULL) == 0 ? magic_file(m, path) : NULL;
    if (t && strchr(t, '/') && strlen(t) < len)
        snprintf(out, len, "%s", t);
    magic_close(m);
#else
    (void)path;
    (void)len;
#endif
}

/* A MIME type as a header value takes: type/subtype, printable ASCII,
 * no spaces or line breaks (RFC 6838 §4.2 names). */
static int type_ok(const char *t)
{
    const char *slash = strchr(t, '/');
    if (!slash || slash == t || !slash[1] || strlen(t) >= 256)
        return 0;
    for (; *t; t++)
        if (*t <= 0x20 || *t >= 0x7f || strchr("\"(),:;<=>?@[\\]{}", *t))
            return 0;
    return 1;
}

int xt_cli_upload_prepare(xt_cli_upload *u, const char *path, const char *type)
{
    struct stat sb;
    memset(u, 0, sizeof *u);
    if (stat(path, &sb) != 0 || access(path, R_OK) != 0) {
        xt_cli_errorf("send: cannot read %s: %s", path, strerror(errno));
        return XT_CLI_EXIT_USAGE;
    }
    if (!S_ISREG(sb.st_mode)) {
        xt_cli_errorf("send: %s is not a regular file", path);
        return XT_CLI_EXIT_USAGE;
    }
    if (sb.st_size == 0) {
        xt_cli_errorf("send: %s is empty; XEP-0363 uploads need at least one byte", path);
        return XT_CLI_EXIT_USAGE;
    }
    if (type && !type_ok(type)) {
        xt_cli_errorf("send: --type '%s' is not a MIME type (such as image/png)", type);
        return XT_CLI_EXIT_USAGE;
    }
    if (!(u->path = strdup(path))) {
        xt_cli_errorf("send: out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    u->size = (uint64_t)sb.st_size;
    if (type)
        snprintf(u->type, sizeof u->type, "%s", type);
    else
        guess_type(path, u->type, sizeof u->type);
    if (!u->type[0] || !type_ok(u->type))
        snprintf(u->type, sizeof u->type, "application/octet-stream");
    return 0;
}

int xt_cli_upload_attach(xt_cli_upload *u, xt_cli_session *s)
{
    u->s = s;
    int rc = xt_http_new(NULL, &u->http);
    if (!rc)
        rc = xt_http_set_ca_file(u->http, xt_cli_session_settings(s)->ca_file);
    if (!rc)
        rc = xt_loop_add_http(xt_cli_session_loop(s), u->http);
    if (rc) {
        xt_cli_session_fail(
            s, XT_CLI_EXIT_ERROR, "send: cannot set up HTTP transfers: %s%s", xt_strerror(rc),
            rc == XT_EUNSUPPORTED ? " (this libxtalk was built without libcurl)" : "");
        return -1;
    }
    return 0;
}

int xt_cli_upload_busy(const xt_cli_upload *u)
{
    return u->state != XT_CLI_UP_DONE && u->state != XT_CLI_UP_FAILED;
}

static void failed(xt_cli_upload *u, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void failed(xt_cli_upload *u, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    u->state = XT_CLI_UP_FAILED;
    xt_cli_progress_clear(&u->bar);
    /* Details can carry a server's words: shown, not obeyed. */
    char *safe = xt_cli_sanitize(msg, strlen(msg), XT_CLI_SAN_LINE);
    xt_cli_session_fail(u->s, code, "%s", safe ? safe : msg);
    free(safe);
}

static void on_progress(xt_http_transfer *t, uint64_t done, uint64_t total, void *ud)
{
    xt_cli_upload *u = ud;
    (void)total;
    if (xt_cli_session_finishing(u->s)) {
        /* Interrupted (or failed elsewhere): stop sending now. */
        u->t = NULL;
        u->state = XT_CLI_UP_FAILED;
        u->cancelled = 1;
        xt_cli_progress_clear(&u->bar);
        xt_http_cancel(t);
        return;
    }
    xt_cli_progress_update(&u->bar, done, xt_now_ms());
}

static void on_put(xt_http_transfer *t, const xt_http_result *r, void *ud)
{
    xt_cli_upload *u = ud;
    (void)t;
    u->t = NULL;
    if (u->state != XT_CLI_UP_PUT)
        return; /* cancelled */
    xt_cli_progress_clear(&u->bar);
    if (xt_cli_session_finishing(u->s)) {
        u->state = XT_CLI_UP_FAILED;
        return; /* the run's end is decided: nothing is sent */
    }
    if (r->status != 0) {
        failed(u, XT_CLI_EXIT_TRANSFER, "send: upload failed: %s; nothing was sent%s", r->detail,
               r->status == XT_ECERT ? " (the upload server must be trusted like the XMPP "
                                       "server: its CA in --ca-file or the system store)"
                                     : "");
        return;
    }
    u->state = XT_CLI_UP_DONE;
    if (u->done)
        u->done(u->s, u->get_url, u->ud);
}

static void on_slot(xt_conn *c, int status, const xt_upload_slot *slot, void *ud)
{
    xt_cli_upload *u = ud;
    (void)c;
    if (u->state != XT_CLI_UP_SLOT)
        return;
    if (status == XT_ECLOSED) {
        u->state = XT_CLI_UP_IDLE; /* asked again once online again */
        return;
    }
    if (status == XT_ETOOBIG) {
        char have[16], lim[16];
        xt_cli_format_size(have, sizeof have, u->size);
        xt_cli_format_size(lim, sizeof lim, slot->max_size);
        if (slot->max_size)
            failed(u, XT_CLI_EXIT_TOO_BIG,
                   "send: %s is too big for the server's upload service: %s (%llu bytes), at most "
                   "%s (%llu bytes); nothing was sent",
                   u->path, have, (unsigned long long)u->size, lim,
                   (unsigned long long)slot->max_size);
        else
            failed(u, XT_CLI_EXIT_TOO_BIG, "send: %s: %s; nothing was sent", u->path, slot->detail);
        return;
    }
    if (status != 0) {
        failed(u, XT_CLI_EXIT_TRANSFER, "send: upload failed: %s; nothing was sent", slot->detail);
        return;
    }
    xt_http_opts o = {.content_type = u->type, .progress = on_progress, .done = on_put, .ud = u};
    u->state = XT_CLI_UP_PUT;
    xt_cli_progress_start(&u->bar, u->path, u->size, xt_now_ms());
    int rc =
        xt_http_upload(u->http, slot->put_url, u->path, slot->headers, slot->nheaders, &o, &u->t);
    if (rc)
        failed(u, XT_CLI_EXIT_TRANSFER, "send: upload failed: %s; nothing was sent",
               xt_http_errdetail(u->http)[0] ? xt_http_errdetail(u->http) : xt_strerror(rc));
    else
        /* The GET URL is needed once the PUT is through. */
        snprintf(u->get_url, sizeof u->get_url, "%s", slot->get_url);
}

static void on_service(xt_conn *c, int status, const xt_upload_service *svc, void *ud)
{
    xt_cli_upload *u = ud;
    if (u->state != XT_CLI_UP_DISCOVER)
        return;
    if (status == XT_ECLOSED || status == XT_ETIMEOUT) {
        u->state = XT_CLI_UP_IDLE;
        if (status == XT_ETIMEOUT)
            failed(u, XT_CLI_EXIT_TIMEOUT,
                   "send: the server did not say where to upload (no "
                   "answer to service discovery)");
        return;
    }
    if (status != 0) {
        failed(u, XT_CLI_EXIT_TRANSFER,
               "send: the server offers no HTTP File Upload (XEP-0363)%s; nothing was sent",
               status == XT_EUNSUPPORTED ? "" : xt_strerror(status));
        return;
    }
    if (svc->max_size && u->size > svc->max_size) {
        char have[16], lim[16];
        xt_cli_format_size(have, sizeof have, u->size);
        xt_cli_format_size(lim, sizeof lim, svc->max_size);
        failed(u, XT_CLI_EXIT_TOO_BIG,
               "send: %s is too big for the server's upload service: %s (%llu bytes), at most %s "
               "(%llu bytes); nothing was sent",
               u->path, have, (unsigned long long)u->size, lim, (unsigned long long)svc->max_size);
        return;
    }
    u->state = XT_CLI_UP_SLOT;
    int rc = xt_upload_request_slot(c, NULL, u->path, u->size, u->type, on_slot, u);
    if (rc)
        failed(u, XT_CLI_EXIT_TRANSFER, "send: cannot ask for an upload slot: %s", xt_strerror(rc));
}

void xt_cli_upload_online(xt_cli_upload *u)
{
    if (u->state != XT_CLI_UP_IDLE)
        return;
    u->state = XT_CLI_UP_DISCOVER;
    int rc = xt_upload_discover(xt_cli_session_conn(u->s), on_service, u);
    if (rc)
        failed(u, XT_CLI_EXIT_TRANSFER, "send: cannot look for the upload service: %s",
               xt_strerror(rc));
}

void xt_cli_upload_free(xt_cli_upload *u)
{
    xt_cli_progress_clear(&u->bar);
    if (u->state == XT_CLI_UP_PUT) {
        u->state = XT_CLI_UP_FAILED;
        u->cancelled = 1;
    }
    xt_http_free(u->http); /* a running PUT ends cancelled; done sends nothing */
    u->http = NULL;
    free(u->path);
    u->path = NULL;
}

int xt_cli_upload_run(xt_cli_upload *u, const char *what, xt_cli_account *acct,
                      const xt_cli_session_params *p)
{
    xt_cli_session *s;
    int rc = xt_cli_session_start(acct, p, &s);

    if (!s) {
        xt_cli_upload_free(u);
        return rc;
    }
    if (!xt_cli_session_done(s))
        rc = xt_loop_run(xt_cli_session_loop(s));
    if (!xt_cli_session_done(s))
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "the connection ended unexpectedly: %s",
                            xt_strerror(rc < 0 ? rc : XT_ECLOSED));
    /* Interrupted, or the session failed otherwise, mid-upload. */
    int busy = u->path && (u->cancelled || u->state == XT_CLI_UP_DISCOVER ||
                           u->state == XT_CLI_UP_SLOT || u->state == XT_CLI_UP_PUT);
    if (busy)
        xt_cli_errorf("send: the upload of %s was cancelled; nothing was sent", what);
    xt_cli_upload_free(u);
    return xt_cli_session_end(s);
}
