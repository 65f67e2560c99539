/*
 * xtalk/http.h in a library built without libcurl (-Dhttp=false, the
 * embedder's minimal build): every call says XT_EUNSUPPORTED, so a
 * program built against the full headers still links and can tell its
 * user that file transfers are not in this build.
 */
#include "xtalk/http.h"

int xt_http_new(const xt_mem *mem, xt_http **out)
{
    (void)mem, (void)out;
    return XT_EUNSUPPORTED;
}
void xt_http_free(xt_http *h) { (void)h; }
int xt_http_set_ca_file(xt_http *h, const char *path) { (void)h, (void)path; return XT_EUNSUPPORTED; }
int xt_http_set_flags(xt_http *h, unsigned flags) { (void)h, (void)flags; return XT_EUNSUPPORTED; }
int xt_http_set_timeouts(xt_http *h, uint32_t connect_ms, uint32_t stall_ms)
{
    (void)h, (void)connect_ms, (void)stall_ms;
    return XT_EUNSUPPORTED;
}
int xt_http_set_hooks(xt_http *h, xt_watch_fn watch, xt_unwatch_fn unwatch, xt_timer_set_fn timer,
                      xt_cleanup_fn cleanup, void *ud)
{
    (void)h, (void)watch, (void)unwatch, (void)timer, (void)cleanup, (void)ud;
    return XT_EUNSUPPORTED;
}
int xt_http_on_fd(xt_http *h, int fd, unsigned events, uint64_t now_ms)
{
    (void)h, (void)fd, (void)events, (void)now_ms;
    return XT_EUNSUPPORTED;
}
int xt_http_on_timer(xt_http *h, uint64_t now_ms) { (void)h, (void)now_ms; return XT_EUNSUPPORTED; }
int xt_loop_add_http(xt_loop *loop, xt_http *h) { (void)loop, (void)h; return XT_EUNSUPPORTED; }
int xt_http_upload(xt_http *h, const char *url, const char *path, const xt_http_header *headers,
                   size_t nheaders, const xt_http_opts *opts, xt_http_transfer **out)
{
    (void)h, (void)url, (void)path, (void)headers, (void)nheaders, (void)opts, (void)out;
    return XT_EUNSUPPORTED;
}
int xt_http_download(xt_http *h, const char *url, const char *path, const xt_http_opts *opts,
                     xt_http_transfer **out)
{
    (void)h, (void)url, (void)path, (void)opts, (void)out;
    return XT_EUNSUPPORTED;
}
int xt_http_cancel(xt_http_transfer *t) { (void)t; return XT_EUNSUPPORTED; }
size_t xt_http_active(const xt_http *h) { (void)h; return 0; }
const char *xt_http_errdetail(const xt_http *h) { (void)h; return ""; }
