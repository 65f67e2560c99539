/*
 * core/jid_int.h -- JID helpers for the library's own hot paths
 * (internal; the PRECIS profiles are in core/precis.h).
 */
#ifndef XT_CORE_JID_INT_H
#define XT_CORE_JID_INT_H

#include <stddef.h>

#include "xtalk/common.h"

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

#endif
