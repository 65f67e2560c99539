/*
 * xtalk/jid.h -- XMPP addresses (RFC 7622).
 *
 * A parsed JID is an opaque, immutable value holding normalized parts.
 * Localpart: PRECIS UsernameCaseMapped (RFC 8265); domainpart: IDNA2008
 * via libidn2, lower case, trailing dot removed; resourcepart: PRECIS
 * OpaqueString, as far as the libraries allow (see src/core/jid.c and
 * src/core/precis.c).
 *
 * Ownership: a JID is owned by whoever made it and freed with
 * xt_jid_free; the strings its getters return live exactly as long as
 * the JID. A JID is immutable, so one may be read from several threads
 * at once. `mem` (NULL = malloc) is copied into the JID.
 */
#ifndef XTALK_JID_H
#define XTALK_JID_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xt_jid xt_jid;

/*
 * Parses and normalizes `s` (NUL-terminated UTF-8). On success *out is a
 * new JID (free with xt_jid_free) and 0 is returned; XT_EJID when s is
 * not a valid JID, and then, if `why` is not NULL, *why points to a
 * static string naming the reason ("empty localpart", "domainpart too
 * long", ...); XT_EINVAL when s or out is NULL; XT_ENOMEM. *out is NULL
 * on every failure.
 */
XT_EXTERN int xt_jid_parse(const xt_mem *mem, const char *s, xt_jid **out, const char **why);
/* As xt_jid_parse, for `len` bytes that need not be NUL-terminated; an
 * embedded NUL is refused (it is a control character), never a cut. */
XT_EXTERN int xt_jid_parse_n(const xt_mem *mem, const char *s, size_t len, xt_jid **out,
                             const char **why);
/* Builds a JID from separate parts (local and resource may be NULL,
 * domain may not), preparing each as xt_jid_parse does; nothing is split,
 * so "a@b" as `local` is refused rather than reinterpreted. Same results
 * and codes (XT_EINVAL for a NULL domain or out). */
XT_EXTERN int xt_jid_build(const xt_mem *mem, const char *local, const char *domain,
                           const char *resource, xt_jid **out, const char **why);
/* NULL is a no-op. */
XT_EXTERN void xt_jid_free(xt_jid *jid);

/* Parts, normalized; NULL when absent. Live as long as the JID. */
XT_EXTERN const char *xt_jid_local(const xt_jid *jid);
XT_EXTERN const char *xt_jid_domain(const xt_jid *jid);
XT_EXTERN const char *xt_jid_resource(const xt_jid *jid);
/* "local@domain" (or "domain"), and the full form with "/resource". */
XT_EXTERN const char *xt_jid_bare(const xt_jid *jid);
XT_EXTERN const char *xt_jid_full(const xt_jid *jid);

/*
 * XEP-0106 JID escaping of a localpart (the ten sequences \20 \22 \26
 * \27 \2f \3a \3c \3e \40 \5c, lower case only). escape: the nine
 * forbidden characters become sequences, and a backslash that would start
 * a sequence becomes \5c. unescape (for display): sequences become
 * characters, except that a localpart starting or ending with \20 is
 * returned unchanged (XEP-0106 §4.1). *out is new (free with
 * xt_free(mem, *out)); 0, XT_EINVAL (s or out NULL) or XT_ENOMEM.
 */
XT_EXTERN int xt_jid_escape_local(const xt_mem *mem, const char *s, char **out);
XT_EXTERN int xt_jid_unescape_local(const xt_mem *mem, const char *s, char **out);

/* 1 if equal after normalization, else 0 (also when either is NULL). */
XT_EXTERN int xt_jid_equal(const xt_jid *a, const xt_jid *b);
XT_EXTERN int xt_jid_bare_equal(const xt_jid *a, const xt_jid *b);

/* Compares two JID strings (1 equal, 0 not); invalid strings are never
 * equal to anything. They parse both, so they allocate (with malloc). */
XT_EXTERN int xt_jid_str_equal(const char *a, const char *b);
XT_EXTERN int xt_jid_str_bare_equal(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
