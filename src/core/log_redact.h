/*
 * log_redact.h -- keeping secrets that travel inside stanzas out of the
 * traffic log (XT_LOG_XML_IN / XT_LOG_XML_OUT, what `xtalk -v` prints).
 * SASL exchanges never reach the log in the first place (stream_sasl.c,
 * stream_sasl2.c, stream.c's log_in); this is for the secrets carried by
 * ordinary stanzas, which are logged whole:
 *
 *   - every <password>TEXT</password>, whatever its namespace: the room
 *     password of a MUC join (XEP-0045 §7.2.6), of a mediated invitation
 *     (§7.8.2) and of a destroyed room's alternate venue (§10.9), a
 *     bookmark's (XEP-0402 §3, XEP-0048 §3.2), an in-band registration's;
 *   - a password='...' attribute: XEP-0249's direct invitation;
 *   - the <value/>s of a data form field that is a secret: type
 *     'text-private' (data forms define it as "a password or other
 *     sensitive text") or, since a submitted form may leave the type
 *     out, var 'muc#roomconfig_roomsecret' (XEP-0045 §15.5.3, a room's
 *     password in its configuration form).
 *
 * Each secret's text becomes "[redacted]"; the markup around it stays,
 * so the log still shows that a password was sent. The input is XML as
 * this library's serializer writes it (xml/serialize.h: plain element
 * names, attributes quoted), possibly cut short (a long chunk logged in
 * part): a secret whose end is cut off is redacted to the end.
 */
#ifndef XT_CORE_LOG_REDACT_H
#define XT_CORE_LOG_REDACT_H

#include "xtalk/common.h"

/* xml NUL-terminated. 0 with *out NULL: nothing to hide, log xml as it
 * is (the common case, found without copying); 0 with *out a redacted
 * copy (free with xt_free(mem, ...)); XT_ENOMEM (*out NULL): log nothing
 * of it. */
int xt_log_redact(const xt_mem *mem, const char *xml, char **out);

#endif
