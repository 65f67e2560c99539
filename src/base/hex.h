/*
 * base/hex.h -- hexadecimal digits, the one reader of them: the TLS layer's
 * certificate pins and hashed CA names (net/tls.c), the percent-escapes
 * of a shared file's URL (RFC 3986 §2.1, im/oob.c).
 */
#ifndef XT_BASE_HEX_H
#define XT_BASE_HEX_H

/* The value of one hex digit (0-9, a-f, A-F), -1 for any other byte. */
int xt_hex_value(char c);

#endif
