/*
 * core/jid_int.h -- the PRECIS profiles behind JIDs (RFC 8265), exposed
 * for SASL, which prepares passwords with OpaqueString (RFC 8265 §4.2,
 * replacing SASLprep for SCRAM per RFC 7677 §4 / RFC 5802 Normalize()).
 * Implemented in jid.c with libunistring; see there for what is
 * approximated.
 */
#ifndef XT_CORE_JID_INT_H
#define XT_CORE_JID_INT_H

#include <stddef.h>

#include "xtalk/common.h"

/*
 * Enforces a profile on `len` bytes of UTF-8. On success *out is a new
 * NUL-terminated string (free with xt_free; xt_free_secret for
 * passwords) and 0 is returned. On refusal XT_EINVAL with *why set to a
 * static reason; XT_ENOMEM on allocation failure. Intermediate copies are
 * wiped, so these may be used on secrets.
 */
int xt_precis_opaque(const xt_mem *mem, const char *in, size_t len, char **out, const char **why);
int xt_precis_username_casemapped(const xt_mem *mem, const char *in, size_t len, char **out,
                                  const char **why);

/*
 * The prepared full JID of the `len` bytes at s, written NUL-terminated
 * to out[cap] without allocating, for the common case only (printable
 * ASCII, LDH domain labels): returns its length, or 0 when the input
 * must go through xt_jid_parse_n (non-ASCII, IDNA, IP literals, too long
 * for cap, and every invalid JID, whose error only the full path gives).
 * Whenever it returns non-zero the result equals xt_jid_full() of the
 * full path.
 */
size_t xt_jid_prep_fast(const char *s, size_t len, char *out, size_t cap);

/* Tests only: non-zero disables the printable-ASCII fast path, so a test
 * can check that both paths give the same result. */
extern int xt_precis_test_slow_path;

#endif
