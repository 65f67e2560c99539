/*
 * text.h -- checks that a message body given on the command line or on
 * stdin can travel in XMPP: valid UTF-8 (RFC 6120 §11.6) holding only
 * characters XML 1.0 allows (§2.2 Char: no NUL, no C0 controls other
 * than TAB/LF/CR, no U+FFFE/U+FFFF; surrogates are already invalid UTF-8).
 */
#ifndef XT_CLI_TEXT_H
#define XT_CLI_TEXT_H

#include <stddef.h>

/* 0 when s[0..len) is acceptable; otherwise -1, *why names the problem
 * ("invalid UTF-8", "a control character") and *offset is the byte offset
 * of the first bad byte. why/offset may be NULL. */
int xt_cli_text_check(const char *s, size_t len, const char **why, size_t *offset);

/* Same for a NUL-terminated string: 0 if acceptable, else -1. */
int xt_cli_text_ok(const char *s);

#endif
