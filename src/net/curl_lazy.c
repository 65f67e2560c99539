/*
 * libcurl through dlopen (see curl_lazy.h for why).
 *
 * Invariant: api.ok is set once, inside pthread_once, after every entry
 * of the table resolved; the wrappers are only reached through an
 * xt_http, which exists only after xt_curl_load returned 0, so they call
 * through the table without checking it.
 */
#include "net/curl_lazy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "xtalk/common.h"

#ifndef XT_CURL_SONAME
#define XT_CURL_SONAME "libcurl.so.4" /* the SONAME since curl 7.16 (2006) */
#endif

static struct {
    int ok;
    CURLcode (*global_init)(long);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    const char *(*multi_strerror)(CURLMcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dlsym's object pointer into a function pointer: POSIX guarantees the
 * representation; memcpy says so without an object-to-function cast,
 * which ISO C leaves undefined (and -Wpedantic rejects). */
static int sym(void *lib, const char *name, void *fnptr, size_t size)
{
    void *p = dlsym(lib, name);
    if (!p)
        return -1;
    memcpy(fnptr, &p, size);
    return 0;
}

#define SYM(field, name) sym(lib, name, &api.field, sizeof api.field)

static void load(void)
{
    /* RTLD_LOCAL: curl's symbols stay out of the global namespace, so
     * they cannot interpose on an application's own libcurl users. */
    void *lib = dlopen(XT_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return;
    if (SYM(global_init, "curl_global_init") || SYM(global_cleanup, "curl_global_cleanup") ||
        SYM(easy_init, "curl_easy_init") || SYM(easy_cleanup, "curl_easy_cleanup") ||
        SYM(easy_setopt, "curl_easy_setopt") || SYM(easy_getinfo, "curl_easy_getinfo") ||
        SYM(easy_strerror, "curl_easy_strerror") || SYM(multi_init, "curl_multi_init") ||
        SYM(multi_cleanup, "curl_multi_cleanup") || SYM(multi_setopt, "curl_multi_setopt") ||
        SYM(multi_add_handle, "curl_multi_add_handle") ||
        SYM(multi_remove_handle, "curl_multi_remove_handle") ||
        SYM(multi_socket_action, "curl_multi_socket_action") ||
        SYM(multi_info_read, "curl_multi_info_read") ||
        SYM(multi_strerror, "curl_multi_strerror") || SYM(slist_append, "curl_slist_append") ||
        SYM(slist_free_all, "curl_slist_free_all")) {
        dlclose(lib);
        memset(&api, 0, sizeof api);
        return;
    }
    /* Never dlclose'd: curl_global_cleanup leaves state (OpenSSL's
     * callbacks, atexit handlers) that must outlive any xt_http. */
    api.ok = 1;
}

int xt_curl_load(void)
{
    if (pthread_once(&once, load) != 0)
        return XT_EUNSUPPORTED;
    return api.ok ? 0 : XT_EUNSUPPORTED;
}

CURLcode xt_curl_global_init(long flags)
{
    return api.global_init(flags);
}

void xt_curl_global_cleanup(void)
{
    api.global_cleanup();
}

CURL *xt_curl_easy_init(void)
{
    return api.easy_init();
}

void xt_curl_easy_cleanup(CURL *e)
{
    api.easy_cleanup(e);
}

/* curl reads the one argument after the option as the type the option's
 * number range names (curl.h: CURLOPTTYPE_*, the same ranges for
 * CURLMoption); so is it read here and passed on. A function pointer is
 * carried as a generic one: every function pointer has the same
 * representation on the platforms libcurl runs on, and curl converts it
 * back to the callback's own type. */
typedef void (*generic_fn)(void);

CURLcode xt_curl_easy_setopt(CURL *e, CURLoption opt, ...)
{
    va_list ap;
    va_start(ap, opt);
    CURLcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = api.easy_setopt(e, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        rc = api.easy_setopt(e, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        rc = api.easy_setopt(e, opt, va_arg(ap, generic_fn));
    else if (opt < CURLOPTTYPE_BLOB)
        rc = api.easy_setopt(e, opt, va_arg(ap, curl_off_t));
    else
        rc = api.easy_setopt(e, opt, va_arg(ap, void *)); /* struct curl_blob * */
    va_end(ap);
    return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode xt_curl_easy_getinfo(CURL *e, CURLINFO info, ...)
{
    va_list ap;
    va_start(ap, info);
    CURLcode rc = api.easy_getinfo(e, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

const char *xt_curl_easy_strerror(CURLcode c)
{
    return api.easy_strerror(c);
}

CURLM *xt_curl_multi_init(void)
{
    return api.multi_init();
}

CURLMcode xt_curl_multi_cleanup(CURLM *m)
{
    return api.multi_cleanup(m);
}

CURLMcode xt_curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
    va_list ap;
    va_start(ap, opt);
    CURLMcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = api.multi_setopt(m, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        rc = api.multi_setopt(m, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        rc = api.multi_setopt(m, opt, va_arg(ap, generic_fn));
    else
        rc = api.multi_setopt(m, opt, va_arg(ap, curl_off_t));
    va_end(ap);
    return rc;
}

CURLMcode xt_curl_multi_add_handle(CURLM *m, CURL *e)
{
    return api.multi_add_handle(m, e);
}

CURLMcode xt_curl_multi_remove_handle(CURLM *m, CURL *e)
{
    return api.multi_remove_handle(m, e);
}

CURLMcode xt_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev_bitmask,
                                      int *running_handles)
{
    return api.multi_socket_action(m, s, ev_bitmask, running_handles);
}

CURLMsg *xt_curl_multi_info_read(CURLM *m, int *msgs_in_queue)
{
    return api.multi_info_read(m, msgs_in_queue);
}

const char *xt_curl_multi_strerror(CURLMcode c)
{
    return api.multi_strerror(c);
}

struct curl_slist *xt_curl_slist_append(struct curl_slist *l, const char *s)
{
    return api.slist_append(l, s);
}

void xt_curl_slist_free_all(struct curl_slist *l)
{
    api.slist_free_all(l);
}
