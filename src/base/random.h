/*
 * base/random.h -- the one place the library draws random bytes
 * (internal): the application's source when it set one
 * (xt_conn_opts_set_random), else the kernel's CSPRNG (getrandom(2)),
 * or OpenSSL's RAND_bytes on a kernel without that call.
 *
 * Why the kernel's and not OpenSSL's: ids, nonces and hash keys are
 * drawn while a conn is made, before its first byte is sent, and
 * OpenSSL's first RAND_bytes in a process sets up its provider store and
 * seeds its DRBG (7.9 M instructions, ~2.5 ms), none of which the
 * stream header needs. getrandom(2) is one system call; the TLS
 * handshake brings OpenSSL's generator up later, while we wait for the
 * server anyway (issue 14).
 */
#ifndef XT_BASE_RANDOM_H
#define XT_BASE_RANDOM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xtalk/common.h"

/* Fills buf with n bytes from fn(ud) (NULL fn = the system's source,
 * xt_random_os with getrandom(2)). 0, or XT_ENOMEM when the source
 * fails: nothing guessable is ever used in place of random bytes (buf is
 * then wiped). */
int xt_random_bytes(xt_random_fn fn, void *ud, void *buf, size_t n);

/* getrandom(2)'s signature: the system's source, or a test's stand-in. */
typedef ssize_t (*xt_getrandom_fn)(void *buf, size_t n, unsigned flags);
/* The system's source through gr: called again after EINTR and after a
 * short read until buf holds n bytes; when gr fails with ENOSYS (a kernel
 * older than 3.17, or a sandbox refusing the call) the rest comes from
 * RAND_bytes. Any other failure (or a call returning 0 bytes, which
 * getrandom never does) gives XT_ENOMEM with buf wiped. */
int xt_random_os(xt_getrandom_fn gr, void *buf, size_t n);

#endif
