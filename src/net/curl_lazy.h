/*
 * libcurl, loaded when the first xt_http is made instead of at process
 * start (issue 14).
 *
 * Linked normally, libcurl (Debian's OpenSSL flavour) brings 25 more
 * shared libraries into every process using libxtalk (GnuTLS, Kerberos,
 * LDAP, SSH, RTMP, nghttp2, p11-kit...): 7.5 M more instructions of
 * relocation and library constructors before main, 4-8 ms of every
 * `xtalk send` and of every login measured from process start, on a
 * path that never makes an HTTP request. So http.c includes this header
 * instead of <curl/curl.h>: it compiles against curl's headers as before,
 * but each curl_* function it calls is one of ours below (the names are
 * redirected by macros), which calls libcurl through a table dlopen()ed
 * once, on the first xt_curl_load (from xt_http_new).
 *
 * The price: curl's GCC type checks of curl_easy_setopt/getinfo
 * arguments (typecheck-gcc.h) no longer see http.c's calls; the
 * wrappers pass each argument on as the type curl's own option-type
 * ranges say it has (CURLOPTTYPE_*). A curl function http.c starts to
 * use must be added here (and to the table in curl_lazy.c): until then
 * the link fails on it, loudly.
 */
#ifndef XT_NET_CURL_LAZY_H
#define XT_NET_CURL_LAZY_H

#include <curl/curl.h>

/* Loads libcurl (XT_CURL_SONAME) and resolves every function below, once
 * per process (thread-safe). 0, or XT_EUNSUPPORTED when the library or
 * one of its functions is missing; after a failure none of the wrappers
 * may be called. */
int xt_curl_load(void);

#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init xt_curl_global_init
#define curl_global_cleanup xt_curl_global_cleanup
#define curl_easy_init xt_curl_easy_init
#define curl_easy_cleanup xt_curl_easy_cleanup
#define curl_easy_setopt xt_curl_easy_setopt
#define curl_easy_getinfo xt_curl_easy_getinfo
#define curl_easy_strerror xt_curl_easy_strerror
#define curl_multi_init xt_curl_multi_init
#define curl_multi_cleanup xt_curl_multi_cleanup
#define curl_multi_setopt xt_curl_multi_setopt
#define curl_multi_add_handle xt_curl_multi_add_handle
#define curl_multi_remove_handle xt_curl_multi_remove_handle
#define curl_multi_socket_action xt_curl_multi_socket_action
#define curl_multi_info_read xt_curl_multi_info_read
#define curl_multi_strerror xt_curl_multi_strerror
#define curl_slist_append xt_curl_slist_append
#define curl_slist_free_all xt_curl_slist_free_all

CURLcode xt_curl_global_init(long flags);
void xt_curl_global_cleanup(void);
CURL *xt_curl_easy_init(void);
void xt_curl_easy_cleanup(CURL *e);
CURLcode xt_curl_easy_setopt(CURL *e, CURLoption opt, ...);
CURLcode xt_curl_easy_getinfo(CURL *e, CURLINFO info, ...);
const char *xt_curl_easy_strerror(CURLcode c);
CURLM *xt_curl_multi_init(void);
CURLMcode xt_curl_multi_cleanup(CURLM *m);
CURLMcode xt_curl_multi_setopt(CURLM *m, CURLMoption opt, ...);
CURLMcode xt_curl_multi_add_handle(CURLM *m, CURL *e);
CURLMcode xt_curl_multi_remove_handle(CURLM *m, CURL *e);
CURLMcode xt_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev_bitmask,
                                      int *running_handles);
CURLMsg *xt_curl_multi_info_read(CURLM *m, int *msgs_in_queue);
const char *xt_curl_multi_strerror(CURLMcode c);
struct curl_slist *xt_curl_slist_append(struct curl_slist *l, const char *s);
void xt_curl_slist_free_all(struct curl_slist *l);

#endif
