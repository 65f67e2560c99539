/*
 * HTTP transfers (xtalk/http.h) over libcurl's multi socket interface,
 * driven from outside like xt_client: curl says which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to call back (CURLMOPT_TIMERFUNCTION);
 * we pass that on through the watch/unwatch/timer hooks and call
 * curl_multi_socket_action when the application says a socket is ready
 * or the time has come. No thread, no blocking call, no
 * curl_multi_perform polling: nothing here waits.
 *
 * Invariants:
 *  - The application's callbacks (progress, done) never run inside a
 *    libcurl call: curl's own callbacks only record (bytes moved, the end
 *    of a transfer), and after curl_multi_socket_action returns, run()
 *    hands that on. So a callback may cancel any transfer (removing an
 *    easy handle from inside a curl callback is not allowed) and start
 *    new ones.
 *  - A transfer is on h->list from xt_http_upload/download until its done
 *    callback returned; done is called exactly once (finish()).
 *  - TLS trust is the XMPP connection's (xt_tls_add_trust on curl's
 *    SSL_CTX): the system store unless XT_CLIENT_NO_SYSTEM_CA, plus the
 *    CA file. curl's own CA defaults are switched off so that nothing else
 *    is trusted, and there is no way to switch verification off.
 *  - Memory is independent of the file size: the upload is read from the
 *    file by curl's read callback as the socket takes it, the download
 *    written to the file as it comes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "base/mem.h"
#include "net/curl_lazy.h" /* <curl/curl.h>, libcurl loaded on first use */
#include "net/tls.h"
#include "xtalk/http.h"
#include "xtalk/version.h"

/* Progress callbacks at most this often (a 100 MB upload on loopback
 * would otherwise call back tens of thousands of times). */
#define PROGRESS_EVERY_MS  100
#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_STALL_MS   30000
#define MAX_REDIRECTS      5
/* How much of the file curl takes per read callback, and so per pass of
 * curl_multi_socket_action: libcurl's default is 64 KiB, one trip
 * through the loop (epoll_wait, socket_action, timer re-arm, progress)
 * per 64 KiB. 1 MiB cut the client's CPU per MB by about a sixth (1.42
 * to 1.17 ms/MB, 100 MB to ejabberd; README "Upload"); 2 MiB (libcurl's
 * maximum) measured no better. Memory stays independent of the file's
 * size: one buffer per transfer. */
#define UPLOAD_BUFFER (1024L * 1024L)

struct xt_http_transfer {
    xt_http *h;
    xt_http_transfer *next, **pprev;
    CURL *easy;
    struct curl_slist *hdrs;
    int fd;
    int upload;
    char *path;        /* download: removed again on failure */
    uint64_t max_size; /* download limit, 0 = none */
    uint64_t total;    /* the file's size (upload), Content-Length (download) */
    uint64_t moved;    /* body bytes so far */
    uint64_t shown;    /* what progress last said */
    uint64_t shown_ms;
    xt_http_progress_fn progress;
    xt_http_done_fn done;
    void *ud;
    int ended; /* curl is through with it: `code` says how */
    CURLcode code;
    int too_big;  /* the write callback refused more than max_size */
    int file_err; /* errno of a failed read / write of the local file */
    int in_done;
    char reason[96]; /* the status line's reason phrase */
    char errbuf[CURL_ERROR_SIZE];
};

/* xt_loop_add_http: which loop fd id watches each of curl's sockets. */
struct loopfd {
    int fd, id;
};

struct xt_http {
    xt_mem mem_copy;
    const xt_mem *mem;
    CURLM *multi;
    char *ca_file;
    unsigned flags;
    uint32_t connect_ms, stall_ms;
    xt_watch_fn watch;
    xt_unwatch_fn unwatch;
    xt_timer_set_fn timer;
    xt_cleanup_fn cleanup;
    void *hook_ud;
    int in_callback; /* depth of application callbacks */
    xt_http_transfer *list;
    char err[256];
    /* xt_loop_add_http */
    xt_loop *loop;
    struct loopfd *fds;
    size_t nfds, capfds;
    int timer_id;
};

static void seterr(xt_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(xt_http *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->err, sizeof h->err, fmt, ap);
    va_end(ap);
}

/* --- curl's callbacks: record only -------------------------------------------- */

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    xt_http *h = userp;
    (void)easy;
    (void)socketp;
    if (!h->watch)
        return 0; /* no transfer ever ran: nothing of curl's to watch */
    if (what == CURL_POLL_REMOVE) {
        h->unwatch(h->hook_ud, (int)s);
        return 0;
    }
    unsigned ev = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev |= XT_IO_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev |= XT_IO_WRITE;
    h->watch(h->hook_ud, (int)s, ev);
    return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    xt_http *h = userp;
    (void)multi;
    if (!h->timer)
        return 0;
    /* curl asks not to be driven from inside this callback: a timeout of
     * 0 becomes a timer due now, run by the loop's next iteration. */
    h->timer(h->hook_ud, timeout_ms < 0 ? -1 : (int64_t)(xt_now_ms() + (uint64_t)timeout_ms));
    return 0;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    xt_http_transfer *t = ud;
    for (;;) {
        ssize_t got = read(t->fd, buf, size * n);
        if (got >= 0)
            return (size_t)got;
        if (errno != EINTR) {
            t->file_err = errno;
            return CURL_READFUNC_ABORT;
        }
    }
}

static size_t on_write(char *buf, size_t size, size_t n, void *ud)
{
    xt_http_transfer *t = ud;
    size_t len = size * n, off = 0;
    if (t->max_size && t->moved + len > t->max_size) {
        t->too_big = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    while (off < len) {
        ssize_t w = write(t->fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            t->file_err = errno;
            return 0;
        }
        off += (size_t)w;
    }
    t->moved += len;
    return len;
}

/* An upload's response body ("Upload successful.", an error page) is
 * not ours to keep, and libcurl's default would write it to stdout: the
 * library never prints (a chat's screen got it). */
static size_t discard_body(char *buf, size_t size, size_t n, void *ud)
{
    (void)buf, (void)ud;
    return size * n;
}

/* Keeps the reason phrase of each status line ("HTTP/1.1 413 Payload Too
 * Large"): the last one is the final answer's. Only printable ASCII is
 * kept: it ends up in a message for the user. */
static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    xt_http_transfer *t = ud;
    size_t len = size * n;
    if (len > 5 && memcmp(buf, "HTTP/", 5) == 0) {
        const char *p = memchr(buf, ' ', len);
        const char *q = p ? memchr(p + 1, ' ', len - (size_t)(p + 1 - buf)) : NULL;
        size_t k = 0;
        t->reason[0] = '\0';
        for (q = q ? q + 1 : NULL; q && q < buf + len && k + 1 < sizeof t->reason; q++)
            if (*q >= 0x20 && *q < 0x7f)
                t->reason[k++] = *q;
        t->reason[k] = '\0';
    }
    return len;
}

static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    xt_http_transfer *t = ud;
    if (t->upload) {
        t->moved = ulnow > 0 ? (uint64_t)ulnow : 0;
        (void)ultotal; /* t->total is the file's size, known from the start */
    } else {
        (void)dlnow; /* on_write counts what reached the file */
        if (dltotal > 0)
            t->total = (uint64_t)dltotal;
        if (t->max_size && t->total > t->max_size) {
            t->too_big = 1;
            return 1; /* CURLE_ABORTED_BY_CALLBACK: said before a byte came */
        }
    }
    return 0;
}

/* The trust store on curl's OpenSSL context: the XMPP connection's. */
static CURLcode on_ssl_ctx(CURL *easy, void *sslctx, void *ud)
{
    xt_http *h = ud;
    (void)easy;
    SSL_CTX *sc = sslctx;
    char err[256];
    /* curl loaded no CA of its own (CAINFO and CAPATH are NULL), so the
     * store holds exactly what this adds. */
    if (xt_tls_add_trust(sc, h->ca_file, !!(h->flags & XT_CLIENT_NO_SYSTEM_CA), err, sizeof err))
        return CURLE_SSL_CACERT_BADFILE;
    /* RFC 7590 §3.1 / RFC 8996, as the XMPP connection. */
    if (!SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION))
        return CURLE_SSL_CIPHER;
    return CURLE_OK;
}

/* --- ending a transfer ---------------------------------------------------------- */

static void unlink_transfer(xt_http_transfer *t)
{
    *t->pprev = t->next;
    if (t->next)
        t->next->pprev = t->pprev;
}

static void free_transfer(xt_http_transfer *t)
{
    xt_http *h = t->h;
    if (t->easy) {
        curl_multi_remove_handle(h->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->hdrs);
    if (t->fd >= 0)
        close(t->fd);
    xt_free(h->mem, t->path);
    xt_free(h->mem, t);
}

/* The XT_E* code and a sentence for how curl ended t. */
static int classify(xt_http_transfer *t, long http, char *d, size_t dl)
{
    const char *cerr = t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->code);
    switch (t->code) {
    case CURLE_OK:
        if (http >= 200 && http < 300)
            return 0;
        if (http >= 300 && http < 400 && t->upload) {
            snprintf(d, dl,
                     "the upload server redirected the PUT (HTTP %ld%s%s); a slot is for "
                     "its URL only",
                     http, t->reason[0] ? " " : "", t->reason);
            return XT_EPROTO;
        }
        snprintf(d, dl, "the HTTP server answered %ld%s%s", http, t->reason[0] ? " " : "",
                 t->reason);
        return XT_EPROTO;
    case CURLE_PEER_FAILED_VERIFICATION:
        snprintf(d, dl,
                 "the HTTPS server's certificate is not trusted: %s; trust its CA (a CA "
                 "file) or fix the server",
                 cerr);
        return XT_ECERT;
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(d, dl, "cannot load the CA file %s", t->h->ca_file ? t->h->ca_file : "");
        return XT_EINVAL;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_SHUTDOWN_FAILED:
        snprintf(d, dl, "TLS with the HTTPS server failed: %s", cerr);
        return XT_ETLS;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(d, dl, "the HTTP server's name does not resolve: %s", cerr);
        return XT_ENONAME;
    case CURLE_COULDNT_CONNECT:
        snprintf(d, dl, "cannot connect to the HTTP server: %s", cerr);
        return XT_ECONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(d, dl, "the HTTP transfer timed out: %s", cerr);
        return XT_ETIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        snprintf(d, dl, "the file is larger than the %llu bytes allowed",
                 (unsigned long long)t->max_size);
        return XT_ETOOBIG;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(d, dl, "refused: %s (only https is followed)", cerr);
        return XT_EPROTO;
    case CURLE_OUT_OF_MEMORY:
        snprintf(d, dl, "out of memory");
        return XT_ENOMEM;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
    case CURLE_READ_ERROR:
        if (t->too_big) {
            snprintf(d, dl, "the file is larger than the %llu bytes allowed",
                     (unsigned long long)t->max_size);
            return XT_ETOOBIG;
        }
        if (t->file_err) {
            snprintf(d, dl, "cannot %s %s: %s", t->upload ? "read" : "write",
                     t->path ? t->path : "the file", strerror(t->file_err));
            return XT_EIO;
        }
        snprintf(d, dl, "the HTTP transfer failed: %s", cerr);
        return XT_EIO;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        snprintf(d, dl, "the connection to the HTTP server was reset or closed midway: %s", cerr);
        return XT_EIO;
    default:
        snprintf(d, dl, "the HTTP transfer failed: %s", cerr);
        return XT_EIO;
    }
}

/* Calls done once and frees t. status_override: XT_ECANCELED for a
 * cancel, else 0 (curl's result decides). */
static void finish(xt_http_transfer *t, int status_override)
{
    xt_http *h = t->h;
    char detail[CURL_ERROR_SIZE + 256] = "";
    long http = 0;
    xt_http_result r = {0};

    if (t->easy)
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &http);
    r.http_status = http;
    r.bytes = t->moved;
    if (status_override) {
        r.status = status_override;
        snprintf(detail, sizeof detail, "the transfer was cancelled");
    } else {
        r.status = classify(t, http, detail, sizeof detail);
        if (r.status == 0 && t->upload && t->moved != t->total) {
            r.status = XT_EIO;
            snprintf(detail, sizeof detail, "the server answered before the whole file was sent");
        }
    }
    r.detail = detail;
    /* Off curl and the list first: done may start, cancel or (for
     * others) finish transfers, and must find this one gone. */
    unlink_transfer(t);
    if (t->easy) {
        curl_multi_remove_handle(h->multi, t->easy);
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
    if (r.status != 0 && !t->upload && t->path)
        unlink(t->path); /* a partial download is no file */
    if (r.status == 0 && t->progress && t->shown != t->moved)
        t->progress(t, t->moved, t->total, t->ud);
    t->in_done = 1;
    h->in_callback++;
    t->done(t, &r, t->ud);
    h->in_callback--;
    free_transfer(t);
}

/* After curl ran: collect the ended transfers, then call the
 * application back (see the invariants). */
static void run(xt_http *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        xt_http_transfer *t = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (t) {
            t->ended = 1;
            t->code = m->data.result;
        }
    }
    uint64_t now = xt_now_ms();
    /* Each callback may change the list: start again from its head after
     * one ran. Transfers already reported this round are skipped by
     * their shown/shown_ms, so this ends. */
    for (int again = 1; again;) {
        again = 0;
        for (xt_http_transfer *t = h->list; t; t = t->next) {
            if (t->ended) {
                finish(t, 0);
                again = 1;
                break;
            }
            if (t->progress && t->moved != t->shown && now - t->shown_ms >= PROGRESS_EVERY_MS) {
                t->shown = t->moved;
                t->shown_ms = now;
                h->in_callback++;
                t->progress(t, t->moved, t->total, t->ud);
                h->in_callback--;
                again = 1;
                break;
            }
        }
    }
}

/* --- driving -------------------------------------------------------------------- */

int xt_http_on_fd(xt_http *h, int fd, unsigned events, uint64_t now_ms)
{
    (void)now_ms;
    if (!h)
        return XT_EINVAL;
    if (h->in_callback)
        return XT_ESTATE;
    int mask = 0, running = 0;
    if (events & XT_IO_READ)
        mask |= CURL_CSELECT_IN;
    if (events & XT_IO_WRITE)
        mask |= CURL_CSELECT_OUT;
    if (events & XT_IO_ERROR)
        mask |= CURL_CSELECT_ERR;
    curl_multi_socket_action(h->multi, fd, mask, &running);
    run(h);
    return 0;
}

int xt_http_on_timer(xt_http *h, uint64_t now_ms)
{
    (void)now_ms;
    if (!h)
        return XT_EINVAL;
    if (h->in_callback)
        return XT_ESTATE;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    run(h);
    return 0;
}

int xt_http_set_hooks(xt_http *h, xt_watch_fn watch, xt_unwatch_fn unwatch, xt_timer_set_fn timer,
                      xt_cleanup_fn cleanup, void *ud)
{
    if (!h || !watch || !unwatch || !timer)
        return XT_EINVAL;
    if (h->watch)
        return XT_ESTATE;
    h->watch = watch;
    h->unwatch = unwatch;
    h->timer = timer;
    h->cleanup = cleanup;
    h->hook_ud = ud;
    return 0;
}

/* --- the built-in loop's adapter ------------------------------------------------- */

static struct loopfd *loopfd_find(xt_http *h, int fd)
{
    for (size_t i = 0; i < h->nfds; i++)
        if (h->fds[i].fd == fd)
            return &h->fds[i];
    return NULL;
}

static void loop_on_fd(xt_loop *loop, int fd, short revents, void *ud)
{
    (void)loop;
    unsigned ev = 0;
    if (revents & POLLIN)
        ev |= XT_IO_READ;
    if (revents & POLLOUT)
        ev |= XT_IO_WRITE;
    if (revents & (POLLERR | POLLHUP))
        ev |= XT_IO_ERROR;
    xt_http_on_fd(ud, fd, ev, xt_now_ms());
}

static void loop_on_timer(xt_loop *loop, void *ud)
{
    xt_http *h = ud;
    (void)loop;
    h->timer_id = 0;
    xt_http_on_timer(h, xt_now_ms());
}

/* A failure to add an fd or timer to the loop (out of memory) cannot be
 * reported through curl's callbacks; the stall timeout then ends the
 * transfer. */
static void loop_watch(void *ud, int fd, unsigned events)
{
    xt_http *h = ud;
    short ev =
        (short)(((events & XT_IO_READ) ? POLLIN : 0) | ((events & XT_IO_WRITE) ? POLLOUT : 0));
    struct loopfd *f = loopfd_find(h, fd);
    if (f) {
        xt_loop_mod_fd(h->loop, f->id, ev);
        return;
    }
    if (XT_GROW(h->mem, h->fds, h->capfds, h->nfds + 1, 4))
        return;
    int id = xt_loop_add_fd(h->loop, fd, ev, loop_on_fd, h);
    if (id > 0)
        h->fds[h->nfds++] = (struct loopfd){fd, id};
}

static void loop_unwatch(void *ud, int fd)
{
    xt_http *h = ud;
    struct loopfd *f = loopfd_find(h, fd);
    if (!f)
        return;
    xt_loop_remove_fd(h->loop, f->id);
    *f = h->fds[--h->nfds];
}

static void loop_timer(void *ud, int64_t at_ms)
{
    xt_http *h = ud;
    if (h->timer_id > 0)
        xt_loop_cancel_timer(h->loop, h->timer_id);
    h->timer_id = 0;
    if (at_ms < 0)
        return;
    uint64_t now = xt_now_ms();
    int id = xt_loop_add_timer(h->loop, (uint64_t)at_ms > now ? (uint64_t)at_ms - now : 0,
                               loop_on_timer, h);
    if (id > 0)
        h->timer_id = id;
}

static void loop_cleanup(void *ud)
{
    xt_http *h = ud;
    for (size_t i = 0; i < h->nfds; i++)
        xt_loop_remove_fd(h->loop, h->fds[i].id);
    h->nfds = 0;
    if (h->timer_id > 0)
        xt_loop_cancel_timer(h->loop, h->timer_id);
    h->timer_id = 0;
    xt_free(h->mem, h->fds);
    h->fds = NULL;
    h->capfds = 0;
}

int xt_loop_add_http(xt_loop *loop, xt_http *h)
{
    if (!loop || !h)
        return XT_EINVAL;
    if (h->watch)
        return XT_ESTATE;
    h->loop = loop;
    return xt_http_set_hooks(h, loop_watch, loop_unwatch, loop_timer, loop_cleanup, h);
}

/* --- the object ------------------------------------------------------------------ */

int xt_http_new(const xt_mem *mem, xt_http **out)
{
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    /* libcurl's global set-up is not thread-safe before 7.84 and is
     * reference-counted since; with the OpenSSL backend it does nothing
     * OpenSSL 3 needs. Doing it here (not in a global init of ours) is
     * what curl_global_init's manual asks of libraries. */
    if (xt_curl_load() < 0)
        return XT_EUNSUPPORTED; /* no libcurl on this system */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return XT_EIO;
    xt_http *h = xt_calloc(mem, 1, sizeof *h);
    if (!h) {
        curl_global_cleanup();
        return XT_ENOMEM;
    }
    if (mem) {
        h->mem_copy = *mem;
        h->mem = &h->mem_copy;
    }
    if (!(h->multi = curl_multi_init())) {
        xt_free(mem, h);
        curl_global_cleanup();
        return XT_ENOMEM;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    h->connect_ms = DEFAULT_CONNECT_MS;
    h->stall_ms = DEFAULT_STALL_MS;
    *out = h;
    return 0;
}

void xt_http_free(xt_http *h)
{
    if (!h)
        return;
    while (h->list)
        finish(h->list, XT_ECANCELED);
    /* curl closes its cached connections here, through on_socket's
     * REMOVE: the hooks still run. */
    curl_multi_cleanup(h->multi);
    if (h->cleanup)
        h->cleanup(h->hook_ud);
    xt_free(h->mem, h->ca_file);
    xt_free(h->mem, h->fds);
    xt_mem copy = h->mem_copy;
    xt_free(h->mem ? &copy : NULL, h);
    curl_global_cleanup();
}

int xt_http_set_ca_file(xt_http *h, const char *path)
{
    if (!h)
        return XT_EINVAL;
    char *c = NULL;
    if (path && !(c = xt_strdup(h->mem, path)))
        return XT_ENOMEM;
    xt_free(h->mem, h->ca_file);
    h->ca_file = c;
    return 0;
}

int xt_http_set_flags(xt_http *h, unsigned flags)
{
    /* XT_CLIENT_INSECURE_NO_VERIFY has no meaning here, on purpose. */
    if (!h || (flags & ~(unsigned)XT_CLIENT_NO_SYSTEM_CA))
        return XT_EINVAL;
    h->flags = flags;
    return 0;
}

int xt_http_set_timeouts(xt_http *h, uint32_t connect_ms, uint32_t stall_ms)
{
    if (!h)
        return XT_EINVAL;
    h->connect_ms = connect_ms ? connect_ms : DEFAULT_CONNECT_MS;
    h->stall_ms = stall_ms ? stall_ms : DEFAULT_STALL_MS;
    return 0;
}

size_t xt_http_active(const xt_http *h)
{
    size_t n = 0;
    for (const xt_http_transfer *t = h ? h->list : NULL; t; t = t->next)
        n++;
    return n;
}

const char *xt_http_errdetail(const xt_http *h)
{
    return h ? h->err : "";
}

/* --- starting a transfer --------------------------------------------------------- */

static int url_ok(const char *u)
{
    return u && strncasecmp(u, "https://", 8) == 0 && u[8] && !strpbrk(u, " \r\n\t");
}

/* An HTTP header field name is a token (RFC 9110 §5.1, §5.6.2). */
static int token_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *s))
            return 0;
    return 1;
}

static int add_header(xt_http_transfer *t, const char *name, const char *value)
{
    char line[8192 + 256];
    int n = snprintf(line, sizeof line, "%s:%s%s", name, *value ? " " : "", value);
    if (n < 0 || (size_t)n >= sizeof line)
        return XT_EINVAL;
    struct curl_slist *l = curl_slist_append(t->hdrs, line);
    if (!l)
        return XT_ENOMEM;
    t->hdrs = l;
    return 0;
}

static int new_transfer(xt_http *h, const char *url, const xt_http_opts *o, xt_http_transfer **out)
{
    if (!o || !o->done || !url_ok(url)) {
        seterr(h, "%s", !url_ok(url) ? "only https URLs are allowed" : "no done callback");
        return XT_EINVAL;
    }
    if (!h->watch) {
        seterr(h, "no hooks set: xt_http_set_hooks or xt_loop_add_http first");
        return XT_ESTATE;
    }
    if (h->ca_file && access(h->ca_file, R_OK) != 0) {
        seterr(h, "cannot read the CA file %s: %s", h->ca_file, strerror(errno));
        return XT_EINVAL;
    }
    xt_http_transfer *t = xt_calloc(h->mem, 1, sizeof *t);
    if (!t)
        return XT_ENOMEM;
    t->h = h;
    t->fd = -1;
    t->progress = o->progress;
    t->done = o->done;
    t->ud = o->ud;
    if (!(t->easy = curl_easy_init())) {
        xt_free(h->mem, t);
        return XT_ENOMEM;
    }
    CURL *e = t->easy;
    CURLcode c = CURLE_OK;
#define SET(opt, val) (c = c ? c : curl_easy_setopt(e, opt, val))
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PRIVATE, (void *)t);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    /* No CA of curl's own: on_ssl_ctx adds exactly the XMPP side's. */
    SET(CURLOPT_CAINFO, NULL);
    SET(CURLOPT_CAPATH, NULL);
    SET(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    SET(CURLOPT_SSL_CTX_DATA, (void *)h);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_ms);
    /* Under 1 byte/s for stall_ms: the peer is gone or stuck. */
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SET(CURLOPT_LOW_SPEED_TIME, (long)((h->stall_ms + 999) / 1000));
    SET(CURLOPT_USERAGENT, "xtalk/" XT_VERSION_STRING);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)t);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    SET(CURLOPT_XFERINFODATA, (void *)t);
#undef SET
    if (c != CURLE_OK) {
        seterr(h, "libcurl refused an option: %s", curl_easy_strerror(c));
        free_transfer(t);
        return c == CURLE_OUT_OF_MEMORY ? XT_ENOMEM : XT_EINVAL;
    }
    *out = t;
    return 0;
}

static int start(xt_http *h, xt_http_transfer *t, xt_http_transfer **out)
{
    t->next = h->list;
    if (h->list)
        h->list->pprev = &t->next;
    t->pprev = &h->list;
    h->list = t;
    /* curl's socket and timer callbacks run inside: they only call the
     * hooks. The transfer starts on the timer it asks for. */
    CURLMcode mc = curl_multi_add_handle(h->multi, t->easy);
    if (mc != CURLM_OK) {
        unlink_transfer(t);
        seterr(h, "libcurl: %s", curl_multi_strerror(mc));
        int rc = mc == CURLM_OUT_OF_MEMORY ? XT_ENOMEM : XT_EIO;
        if (!t->upload && t->path)
            unlink(t->path);
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
        free_transfer(t);
        return rc;
    }
    if (out)
        *out = t;
    return 0;
}

int xt_http_upload(xt_http *h, const char *url, const char *path, const xt_http_header *headers,
                   size_t nheaders, const xt_http_opts *opts, xt_http_transfer **out)
{
    if (out)
        *out = NULL;
    if (!h)
        return XT_EINVAL;
    h->err[0] = '\0';
    if (!path || (nheaders && !headers)) {
        seterr(h, "no file given");
        return XT_EINVAL;
    }
    if (opts && opts->content_type &&
        (strpbrk(opts->content_type, "\r\n") || strlen(opts->content_type) > 255)) {
        seterr(h, "the content type is not a header value");
        return XT_EINVAL;
    }
    for (size_t i = 0; i < nheaders; i++)
        if (!token_ok(headers[i].name) || !headers[i].value || strpbrk(headers[i].value, "\r\n") ||
            strlen(headers[i].value) > 8192) {
            seterr(h, "header %zu is not a valid HTTP header", i);
            return XT_EINVAL;
        }
    xt_http_transfer *t;
    int rc = new_transfer(h, url, opts, &t);
    if (rc)
        return rc;
    t->upload = 1;
    struct stat sb;
    t->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0 || fstat(t->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        seterr(h, "cannot upload %s: %s", path, t->fd < 0 ? strerror(errno) : "not a regular file");
        free_transfer(t);
        return XT_EIO;
    }
    t->total = (uint64_t)sb.st_size;
    if (!(t->path = xt_strdup(h->mem, path))) {
        free_transfer(t);
        return XT_ENOMEM;
    }
    rc = add_header(t, "Content-Type",
                    opts->content_type ? opts->content_type : "application/octet-stream");
    /* curl waits up to a second for a "100 Continue" before sending a
     * body over 1 MiB; the slot is ours, there is nothing to wait for. */
    if (!rc)
        rc = add_header(t, "Expect", "");
    for (size_t i = 0; !rc && i < nheaders; i++)
        rc = add_header(t, headers[i].name, headers[i].value);
    CURLcode c = rc ? CURLE_OK : curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs);
    if (!rc && !c)
        c = curl_easy_setopt(t->easy, CURLOPT_UPLOAD, 1L); /* PUT */
    if (!rc && !c)
        c = curl_easy_setopt(t->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->total);
    if (!rc && !c)
        c = curl_easy_setopt(t->easy, CURLOPT_UPLOAD_BUFFERSIZE, UPLOAD_BUFFER);
    if (!rc && !c)
        c = curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, on_read);
    if (!rc && !c)
        c = curl_easy_setopt(t->easy, CURLOPT_READDATA, (void *)t);
    if (!rc && !c)
        c = curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard_body);
    /* §4: the PUT goes to the slot's URL and nowhere else. */
    if (!rc && !c)
        c = curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
    if (rc || c) {
        if (!rc)
            seterr(h, "libcurl refused an option: %s", curl_easy_strerror(c));
        free_transfer(t);
        return rc ? rc : XT_ENOMEM;
    }
    return start(h, t, out);
}

int xt_http_download(xt_http *h, const char *url, const char *path, const xt_http_opts *opts,
                     xt_http_transfer **out)
{
    if (out)
        *out = NULL;
    if (!h)
        return XT_EINVAL;
    h->err[0] = '\0';
    if (!path) {
        seterr(h, "no file given");
        return XT_EINVAL;
    }
    xt_http_transfer *t;
    int rc = new_transfer(h, url, opts, &t);
    if (rc)
        return rc;
    t->max_size = opts->max_size;
    if (!(t->path = xt_strdup(h->mem, path))) {
        free_transfer(t);
        return XT_ENOMEM;
    }
    CURLcode c = curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_write);
    if (!c)
        c = curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, (void *)t);
    if (!c)
        c = curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L);
    if (!c)
        c = curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    if (!c && t->max_size)
        c = curl_easy_setopt(t->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_size);
    if (c) {
        seterr(h, "libcurl refused an option: %s", curl_easy_strerror(c));
        xt_free(h->mem, t->path);
        t->path = NULL;
        free_transfer(t);
        return XT_ENOMEM;
    }
    t->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (t->fd < 0) {
        seterr(h, "cannot create %s: %s", path, strerror(errno));
        xt_free(h->mem, t->path);
        t->path = NULL;
        free_transfer(t);
        return XT_EIO;
    }
    return start(h, t, out);
}

int xt_http_cancel(xt_http_transfer *t)
{
    if (!t)
        return XT_EINVAL;
    if (t->in_done)
        return XT_ESTATE;
    finish(t, XT_ECANCELED);
    return 0;
}
