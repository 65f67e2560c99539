/*
 * core/precis.h -- PRECIS string preparation (RFC 8264) with the two
 * profiles of RFC 8265 XMPP uses (internal): UsernameCaseMapped for JID
 * localparts, OpaqueString for resourceparts and for passwords (RFC 8265
 * §4.2, replacing SASLprep for SCRAM per RFC 7677 §4 / RFC 5802
 * Normalize()). Implemented in precis.c with libunistring; see there for
 * what is approximated. Every intermediate copy is wiped, so these may
 * be used on secrets.
 */
#ifndef XT_CORE_PRECIS_H
#define XT_CORE_PRECIS_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/common.h"

typedef enum xt_precis_profile {
    XT_PRECIS_USERNAME_CASEMAPPED, /* RFC 8265 §3.3 */
    XT_PRECIS_OPAQUE,              /* RFC 8265 §4.2 OpaqueString */
} xt_precis_profile;

/* Which part of a JID the string is, for the wording of *why. */
typedef enum xt_precis_part {
    XT_PRECIS_LOCAL,
    XT_PRECIS_RESOURCE,
    XT_PRECIS_OTHER,
} xt_precis_part;

/* Printable ASCII has a fast path giving the same result as the full
 * (UTF-32) one; FULL_PATH skips it, so a test can compare the two. */
typedef enum xt_precis_path {
    XT_PRECIS_FAST_PATH,
    XT_PRECIS_FULL_PATH,
} xt_precis_path;

/*
 * Enforces prof on len bytes of UTF-8. 0 with *out a NUL-terminated
 * malloc(3) string of *outlen bytes (the caller wipes it if secret and
 * frees it with free(3)); XT_EINVAL with *why a static reason (worded for
 * `part`); XT_ENOMEM.
 */
int xt_precis_enforce(xt_precis_profile prof, xt_precis_part part, xt_precis_path path,
                      const char *in, size_t len, uint8_t **out, size_t *outlen, const char **why);

/* The same with the result in an xt_mem string (free with xt_free;
 * xt_free_secret for passwords). XT_EINVAL with *why (may be NULL) on
 * refusal, XT_ENOMEM. */
int xt_precis_opaque(const xt_mem *mem, const char *in, size_t len, char **out, const char **why);
int xt_precis_username_casemapped(const xt_mem *mem, const char *in, size_t len, char **out,
                                  const char **why);

/*
 * The domainpart mappings of RFC 7622 §3.2.2 (the UsernameCaseMapped
 * width mapping, Unicode lower-casing, NFC) and the IDNA label separators
 * U+3002/U+FF0E/U+FF61 turned into '.'. 0 with *out a malloc(3) UTF-8
 * string of *outlen bytes (not NUL-terminated), XT_EINVAL (invalid
 * UTF-8), XT_ENOMEM.
 */
int xt_precis_domain_map(const char *in, size_t len, uint8_t **out, size_t *outlen);

#endif
