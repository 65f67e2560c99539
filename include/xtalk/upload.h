/*
 * xtalk/upload.h -- XEP-0363 HTTP File Upload (v1.1, urn:xmpp:http:upload:0)
 * and XEP-0066 Out of Band Data on an xt_conn: the XMPP half of sharing
 * a file. The HTTP half (the PUT itself) is xtalk/http.h's.
 *
 *   1. xt_upload_discover: which JID serves uploads, and its size limit
 *      (disco#items of our server, disco#info of each item, XEP-0363 §3;
 *      the server itself counts too). The answer is kept on the conn:
 *      later calls answer from it (xt_conn_upload_service).
 *   2. xt_upload_request_slot: asks that service for a slot for a file
 *      name, size and content type (§4); the answer is a PUT URL, a GET
 *      URL and the headers to send with the PUT.
 *   3. the PUT (xt_http_upload with the slot's URL and headers), then
 *   4. a message whose body is the GET URL, with <x xmlns='jabber:x:oob'>
 *      (xt_message_extras.oob_url, xtalk/im.h) so that clients show it as
 *      a file (XEP-0066 §3.1; XEP-0363 §5 recommends it).
 *
 * What the library does not believe (XEP-0363 §4, §12): URLs that are not
 * https, a slot without both URLs, headers other than Authorization,
 * Cookie and Expires (dropped), header values with CR or LF (stripped:
 * they would add headers of the service's choosing to our request), URLs
 * or values over XT_UPLOAD_MAX_FIELD bytes (refused).
 *
 * Lifetimes: pointers inside structs handed to a callback are valid
 * during the call only; xt_conn_upload_service's until the conn changes
 * (see xtalk/conn.h).
 */
#ifndef XTALK_UPLOAD_H
#define XTALK_UPLOAD_H

#include <stdint.h>

#include "common.h"
#include "conn.h"
#include "http.h"
#include "stanza.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XT_NS_HTTP_UPLOAD "urn:xmpp:http:upload:0"
#define XT_NS_OOB         "jabber:x:oob"

/* Longest URL or header value taken from a slot (bytes). */
#define XT_UPLOAD_MAX_FIELD 8192

/* The upload service (XEP-0363 §3). */
typedef struct xt_upload_service {
    const char *jid;   /* e.g. "upload.example.org" */
    uint64_t max_size; /* its max-file-size form field (§3); 0 = none given */
} xt_upload_service;

/* status 0 with svc; XT_EUNSUPPORTED (no item of our server, nor the
 * server itself, offers urn:xmpp:http:upload:0), XT_ETIMEOUT, XT_ECLOSED,
 * XT_ENOMEM with svc NULL. */
typedef void (*xt_upload_service_fn)(xt_conn *c, int status, const xt_upload_service *svc,
                                     void *ud);

/* Finds the upload service (once per conn: after the first answer cb is
 * called from the cache, inside this call). Online only. 0; XT_EINVAL (c
 * or cb NULL), and the errors of xt_conn_iq. */
XT_EXTERN int xt_upload_discover(xt_conn *c, xt_upload_service_fn cb, void *ud);
/* The service found by xt_upload_discover, or NULL (not asked yet, or
 * none). Valid until the conn changes. */
XT_EXTERN const xt_upload_service *xt_conn_upload_service(const xt_conn *c);

/* Why a service refused a slot (§4.1 .. §4.3). */
typedef enum xt_upload_refusal {
    XT_UPLOAD_OK = 0,
    XT_UPLOAD_TOO_LARGE,   /* <file-too-large/>: max_size says the limit */
    XT_UPLOAD_NOT_ALLOWED, /* <not-allowed/>: this account may not upload */
    XT_UPLOAD_QUOTA,       /* <resource-constraint/>: quota; retry_stamp when given */
    XT_UPLOAD_OTHER,       /* any other stanza error (detail says which) */
    XT_UPLOAD_BAD_SLOT,    /* the answer is unusable (not https, a URL missing) */
} xt_upload_refusal;

/* A slot, or why there is none. */
typedef struct xt_upload_slot {
    /* status 0: */
    const char *put_url, *get_url; /* https, XML-unescaped */
    const xt_http_header *headers; /* only Authorization, Cookie, Expires */
    size_t nheaders;
    /* otherwise: */
    xt_upload_refusal refusal;
    uint64_t max_size;       /* XT_UPLOAD_TOO_LARGE: the service's limit, 0 if unsaid */
    const char *retry_stamp; /* XT_UPLOAD_QUOTA: <retry stamp=.../> (XEP-0082), or NULL */
    const char *detail;      /* a sentence: the error condition and text */
} xt_upload_slot;

/* Called once per accepted request: status 0 (a usable slot); XT_ETOOBIG
 * (XT_UPLOAD_TOO_LARGE), XT_ESTANZA (NOT_ALLOWED, QUOTA, OTHER), XT_EPROTO
 * (BAD_SLOT), XT_ETIMEOUT, XT_ECLOSED, XT_ENOMEM. slot is never NULL. */
typedef void (*xt_upload_slot_fn)(xt_conn *c, int status, const xt_upload_slot *slot, void *ud);

/* Asks service (NULL = the discovered one: XT_ESTATE when there is none
 * yet) for a slot (§4) for a file of size bytes named filename (only its
 * last path component is sent) with content_type (NULL = none sent).
 * Refuses at once, without asking, a size over the discovered service's
 * max_size (XT_ETOOBIG) and size 0 (XT_EINVAL). 0; XT_EINVAL (NULLs, a
 * name or type that is empty or not XML-safe), XT_EJID, the errors of
 * xt_conn_iq. */
XT_EXTERN int xt_upload_request_slot(xt_conn *c, const char *service, const char *filename,
                                     uint64_t size, const char *content_type, xt_upload_slot_fn cb,
                                     void *ud);

/* --- XEP-0066 Out of Band Data --------------------------------------------- */

typedef struct xt_oob {
    const char *url;  /* the <url/> text (required) */
    const char *desc; /* the <desc/> text, or NULL */
} xt_oob;

/* Deprecated: read xt_message.file (xtalk/conn.h, xt_file_ref in
 * xtalk/im.h), which every received message has parsed already, for
 * XEP-0066 and XEP-0447 alike, its URL classified (xt_file_url_check).
 * Kept for programs built against it, on the same parser: the first
 * <x xmlns='jabber:x:oob'/> of a message stanza (e.g. xt_message.stanza).
 * 1 and *out filled (pointers into msg: valid as long as msg), 0 when
 * there is none, it has no <url/> text or one longer than
 * XT_FILE_URL_MAX (also for NULLs). */
XT_DEPRECATED("use xt_message.file")
XT_EXTERN int xt_oob_get(const xt_stanza *msg, xt_oob *out);

#ifdef __cplusplus
}
#endif
#endif
