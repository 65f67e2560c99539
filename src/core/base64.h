/*
 * core/base64.h -- RFC 4648 §4 base64, strict.
 * Decoding rejects (XT_EPROTO) characters outside the alphabet, missing or
 * misplaced padding, non-zero pad bits and whitespace: RFC 6120 §6.4.2
 * says SASL data in XMPP is base64 without line breaks.
 */
#ifndef XT_CORE_BASE64_H
#define XT_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Appends the encoding of data to out. */
int xt_base64_encode(xt_buf *out, const uint8_t *data, size_t len);
/* Appends the decoded bytes to out. "=" alone (RFC 6120 §6.4.2: empty
 * response) is NOT accepted here: the caller handles it. */
int xt_base64_decode(xt_buf *out, const char *text, size_t len);

#endif
