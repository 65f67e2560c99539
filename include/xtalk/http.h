/*
 * xtalk/http.h -- HTTP transfers (XEP-0363 uploads, downloads of shared
 * files) over libcurl, driven by the same loop as the XMPP connection.
 *
 * One xt_http runs any number of transfers on one curl multi handle,
 * through curl's multi socket interface: it never waits, never starts a
 * thread and never polls. Like xt_client, it says what to wait for through
 * hooks (the same xt_watch_fn / xt_unwatch_fn / xt_timer_set_fn types as
 * xt_client_set_hooks, with the same contract) and the application calls
 * xt_http_on_fd / xt_http_on_timer when that happens; xt_loop_add_http
 * wires it to the built-in loop:
 *
 *   xt_http_new(NULL, &h);
 *   xt_http_set_ca_file(h, ca);            // as the XMPP connection's
 *   xt_loop_add_http(loop, h);
 *   xt_http_opts o = {.content_type = "image/png", .progress = bar,
 *                     .done = finished, .ud = me};
 *   xt_http_upload(h, slot->put_url, "/tmp/a.png", slot->headers,
 *                  slot->nheaders, &o, &t);
 *   xt_loop_run(loop);                     // done(t, result) ends it
 *
 * TLS. https only (curl refuses every other scheme, redirects included).
 * Certificates are verified as xt_client verifies the XMPP server's: the
 * chain must lead to the system store (unless XT_CLIENT_NO_SYSTEM_CA) or
 * the configured CA file, and the certificate must name the URL's host.
 * There is no switch to turn verification off. A pin (xt_client_set_pin)
 * does not carry over: a file host is another server.
 *
 * Memory. An upload streams the file from disk and a download streams to
 * disk, through curl's buffers: memory does not grow with the file size.
 *
 * Callbacks (progress, done) run inside xt_http_on_fd / xt_http_on_timer
 * (never inside xt_http_upload / xt_http_download). They may start new
 * transfers and cancel any transfer; they must not free the xt_http.
 *
 * Threads: an xt_http and its transfers belong to one thread at a time,
 * as an xt_client.
 */
#ifndef XTALK_HTTP_H
#define XTALK_HTTP_H

#include <stdint.h>

#include "client.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xt_http xt_http;
typedef struct xt_http_transfer xt_http_transfer;

/* One request header. For an XEP-0363 PUT these are the slot's headers
 * (xtalk/upload.h: already limited to the three the XEP allows). */
typedef struct xt_http_header {
    const char *name, *value;
} xt_http_header;

/* How a transfer ended, handed to xt_http_done_fn. */
typedef struct xt_http_result {
    /* 0 when the server answered 2xx and every byte moved; else:
     *   XT_ECERT      the server's certificate is not trusted (detail why)
     *   XT_ETLS       the TLS handshake or record layer failed
     *   XT_EPROTO     the server answered with an HTTP error status
     *                 (http_status says which; detail carries its reason)
     *                 or broke HTTP
     *   XT_ECONNECT   could not connect (refused, unreachable)
     *   XT_ENONAME / XT_EDNS  the host name does not resolve / DNS failed
     *   XT_EIO        the connection was reset or closed midway, or the
     *                 local file could not be read / written
     *   XT_ETIMEOUT   no connection within the connect timeout, or the
     *                 transfer stalled (see xt_http_set_timeouts)
     *   XT_ETOOBIG    a download over xt_http_opts.max_size
     *   XT_ECANCELED  xt_http_cancel, or the xt_http was freed
     *   XT_ENOMEM
     */
    int status;
    long http_status;   /* the final HTTP status, 0 when none came */
    uint64_t bytes;     /* body bytes sent (upload) / received (download) */
    const char *detail; /* a sentence for the user; "" on success */
} xt_http_result;

/* done: exactly once per transfer that xt_http_upload / xt_http_download
 * accepted, also after xt_http_cancel and xt_http_free (status
 * XT_ECANCELED). r and its strings are valid during the call; t is freed
 * when the callback returns. */
typedef void (*xt_http_done_fn)(xt_http_transfer *t, const xt_http_result *r, void *ud);
/* progress: bytes of the body moved so far and the total (the file's
 * size for an upload, Content-Length for a download, 0 when unknown).
 * Called when the count changes, at most every 100 ms or so, and once
 * with done == total before a successful done. */
typedef void (*xt_http_progress_fn)(xt_http_transfer *t, uint64_t done, uint64_t total, void *ud);

/* Per transfer; zero-initialize (fields may be added at the end). */
typedef struct xt_http_opts {
    /* Upload: the Content-Type (XEP-0363 §4: the slot request's); NULL =
     * application/octet-stream. Ignored for downloads. */
    const char *content_type;
    /* Download: refuse (XT_ETOOBIG) a body over this size, announced or
     * received; 0 = no limit. Ignored for uploads. */
    uint64_t max_size;
    xt_http_progress_fn progress; /* may be NULL */
    xt_http_done_fn done;         /* required */
    void *ud;
} xt_http_opts;

/* A transfer engine with the allocator mem (copied; NULL = malloc; curl
 * allocates with its own). 0; XT_EINVAL (out NULL), XT_ENOMEM, XT_EIO
 * (libcurl cannot be set up: the detail is not available, as there is no
 * handle yet), XT_EUNSUPPORTED (libcurl.so.4 is not installed: the
 * library loads it here, on first use, not at program start). */
XT_EXTERN int xt_http_new(const xt_mem *mem, xt_http **out);
/* Cancels every transfer (each gets done with XT_ECANCELED, inside this
 * call), calls unwatch for each fd and then cleanup. NULL is a no-op.
 * Never from one of its own callbacks. */
XT_EXTERN void xt_http_free(xt_http *h);

/* TLS trust, as xt_client_set_ca_file / xt_client_set_flags (only
 * XT_CLIENT_NO_SYSTEM_CA is accepted: XT_EINVAL for
 * XT_CLIENT_INSECURE_NO_VERIFY or unknown bits). Copied. For transfers
 * started afterwards. 0; XT_EINVAL; XT_ENOMEM. */
XT_EXTERN int xt_http_set_ca_file(xt_http *h, const char *path);
XT_EXTERN int xt_http_set_flags(xt_http *h, unsigned flags);
/* connect_ms: TCP and TLS set-up (0 = 10000). stall_ms: a transfer
 * moving under 1 byte/s for this long fails with XT_ETIMEOUT (0 =
 * 30000). There is no limit on a transfer that keeps moving. For
 * transfers started afterwards. 0; XT_EINVAL for h NULL. */
XT_EXTERN int xt_http_set_timeouts(xt_http *h, uint32_t connect_ms, uint32_t stall_ms);

/* The hooks, as xt_client_set_hooks (xtalk/client.h): once, before the
 * first transfer; XT_ESTATE when set already, XT_EINVAL when watch,
 * unwatch or timer is NULL. They run inside xt_http calls and must not
 * call back into the xt_http. */
XT_EXTERN int xt_http_set_hooks(xt_http *h, xt_watch_fn watch, xt_unwatch_fn unwatch,
                                xt_timer_set_fn timer, xt_cleanup_fn cleanup, void *ud);
/* fd is ready (XT_IO_READ / XT_IO_WRITE / XT_IO_ERROR), or the timer is
 * due: curl moves what it can; progress and done callbacks run inside.
 * 0; XT_EINVAL (h NULL); XT_ESTATE from one of its own callbacks. */
XT_EXTERN int xt_http_on_fd(xt_http *h, int fd, unsigned events, uint64_t now_ms);
XT_EXTERN int xt_http_on_timer(xt_http *h, uint64_t now_ms);
/* Drives h from the built-in loop (its hooks become the loop's). Once per
 * xt_http, before the first transfer. XT_EINVAL, XT_ESTATE (hooks set
 * already), XT_ENOMEM. xt_http_free detaches it; free the http before the
 * loop. */
XT_EXTERN int xt_loop_add_http(xt_loop *loop, xt_http *h);

/* PUTs the file at path to url (https) with Content-Length (the file's
 * size when opened), Content-Type (opts) and the given headers (copied;
 * names and values with CR, LF or NUL are refused). Streams from disk. A
 * redirect is not followed (the slot is for this URL only; 3xx ends it
 * with XT_EPROTO). 0 and *out (may be NULL: valid until done returns);
 * XT_EINVAL (NULL h, url, path, opts or opts->done; a url not https;
 * bad headers), XT_EIO (path cannot be opened or is not a regular file:
 * see xt_http_errdetail), XT_ESTATE (no hooks), XT_ENOMEM. */
XT_EXTERN int xt_http_upload(xt_http *h, const char *url, const char *path,
                             const xt_http_header *headers, size_t nheaders,
                             const xt_http_opts *opts, xt_http_transfer **out);
/* GETs url (https; redirects to https followed, at most 5) into path,
 * created or truncated (mode 0666 minus umask). A failed or cancelled
 * download removes path again. Errors as xt_http_upload (XT_EIO: path
 * cannot be created). */
XT_EXTERN int xt_http_download(xt_http *h, const char *url, const char *path,
                               const xt_http_opts *opts, xt_http_transfer **out);
/* Stops t now: its done runs with XT_ECANCELED before this returns (also
 * from its own progress callback). Nothing more is sent for it; for an
 * upload the server may keep a partial file or none (XEP-0363 leaves
 * that to it). 0; XT_EINVAL (NULL); XT_ESTATE from t's own done. */
XT_EXTERN int xt_http_cancel(xt_http_transfer *t);
/* Number of transfers running (accepted, done not yet called). */
XT_EXTERN size_t xt_http_active(const xt_http *h);
/* Detail of the last failed call on h (xt_http_upload's XT_EIO etc.), or
 * "". Valid until the next call on h. */
XT_EXTERN const char *xt_http_errdetail(const xt_http *h);

#ifdef __cplusplus
}
#endif
#endif
