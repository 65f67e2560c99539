/*
 * xtalk/common.h -- things every libxtalk header shares: export macro,
 * error codes, allocator hooks, logging callback, version.
 *
 * Contract: every function that can fail returns int, 0 on success (or
 * a count / id where its header says so) or a negative XT_E* code, and
 * its header lists the codes it can return. xt_strerror() names every
 * code. errno is never passed through; it is translated into these
 * codes. Callbacks that return a value have their own documented values
 * (e.g. xt_random_fn's enum xt_random_result), never XT_E* codes.
 *
 * Threading: the library starts no thread and keeps no global mutable
 * state; each object is used by one thread at a time, and different
 * objects may be used on different threads at once (see xtalk/conn.h).
 * Everything here (xt_strerror, xt_version, xt_free) may be called from
 * any thread.
 */
#ifndef XTALK_COMMON_H
#define XTALK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define XT_EXTERN __attribute__((visibility("default")))
#else
#define XT_EXTERN
#endif

/* Error codes. Stable: values are never reused or renumbered. */
enum xt_error {
    XT_OK = 0,
    XT_ENOMEM = -1,       /* allocation failed */
    XT_EINVAL = -2,       /* bad argument from the caller */
    XT_EPROTO = -3,       /* the peer broke the protocol */
    XT_EXML = -4,         /* received XML is malformed or restricted */
    XT_ETLS = -5,         /* TLS failure (handshake, record layer) */
    XT_ECERT = -6,        /* server certificate not trusted */
    XT_EAUTH = -7,        /* authentication failed (SASL failure) */
    XT_ESTREAM = -8,      /* the server sent a stream error */
    XT_ECLOSED = -9,      /* the stream or connection is closed */
    XT_EDNS = -10,        /* name resolution failed */
    XT_ECONNECT = -11,    /* could not connect (refused, unreachable) */
    XT_ETIMEOUT = -12,    /* an operation timed out */
    XT_EIO = -13,         /* I/O error on the transport */
    XT_ETOOBIG = -14,     /* a size limit was exceeded */
    XT_EJID = -15,        /* invalid JID */
    XT_ESTATE = -16,      /* call not valid in the current state */
    XT_EUNSUPPORTED = -17,/* no usable mechanism / feature missing */
    XT_ENOTLS = -18,      /* TLS is required but the server offers none */
    XT_ESTANZA = -19,     /* an IQ was answered with a stanza error */
    XT_EREDIRECT = -20,   /* see-other-host: reconnect elsewhere */
    XT_ECANCELED = -21,   /* operation canceled (connection freed) */
    XT_ENOTFOUND = -22,   /* no such item */
    XT_EDOWNGRADE = -23,  /* a SCRAM downgrade or server signature mismatch */
};

/* Name of an error code: a static string, never NULL ("unknown error"
 * for a value that is not an XT_E* code). */
XT_EXTERN const char *xt_strerror(int code);

/* Library version as "MAJOR.MINOR.PATCH": a static string. */
XT_EXTERN const char *xt_version(void);

/*
 * Allocator hooks, as nghttp2_mem. Every object takes an optional
 * `const xt_mem *`; NULL means malloc/realloc/free. The struct is copied
 * (the hooks and ud must stay usable while any object made with it
 * lives). The hooks are called on the thread that called the library, and
 * must not call into the library object that is allocating. free(NULL)
 * is never called.
 */
typedef struct xt_mem {
    void *(*malloc)(size_t size, void *ud);
    void *(*realloc)(void *ptr, size_t size, void *ud);
    void (*free)(void *ptr, void *ud);
    void *ud;
} xt_mem;

/* Memory returned to the caller by functions that say "free with xt_free",
 * with the allocator the object was made with. ptr NULL is a no-op. */
XT_EXTERN void xt_free(const xt_mem *mem, void *ptr);

/* Log levels for xt_log_fn. */
enum xt_log_level {
    XT_LOG_ERROR = 0,
    XT_LOG_WARN = 1,
    XT_LOG_INFO = 2,
    XT_LOG_DEBUG = 3,
    XT_LOG_XML_IN = 4,  /* a chunk of received XML; credentials redacted */
    XT_LOG_XML_OUT = 5, /* a chunk of sent XML; credentials redacted */
};

/*
 * The library never prints. Messages go to this callback; `msg` is
 * NUL-terminated and valid only during the call. It runs inside the call
 * that logs, on that call's thread, and must not call into the object
 * that is logging.
 */
typedef void (*xt_log_fn)(void *ud, int level, const char *msg);

/*
 * A source of random bytes (xt_conn_opts_set_random), for tests that
 * replay a recorded exchange byte for byte and for applications with
 * their own CSPRNG. It fills buf with len bytes and returns XT_RANDOM_OK,
 * or XT_RANDOM_FAILED, after which the operation that needed them fails
 * (nothing guessable is used instead). Its return values are their own,
 * not XT_E* codes. The default is OpenSSL's RAND_bytes. The library never
 * calls it from another thread than the call that needs the bytes.
 */
typedef int (*xt_random_fn)(void *ud, uint8_t *buf, size_t len);
enum xt_random_result {
    XT_RANDOM_FAILED = 0,
    XT_RANDOM_OK = 1,
};

#ifdef __cplusplus
}
#endif
#endif
