/*
 * sanitize.h -- the one gate between text that came from the network and
 * a terminal or a log.
 *
 * Anyone in the federation can put any character into a message body, a
 * roster name, a status, a stanza error's text or an attribute value
 * (RFC 6120 §11.1 restricts XML, not what a string contains once parsed),
 * and a hostile server can keep a newline where Prosody would not. Every
 * such string the xtalk program prints (listen, bot's stderr, roster,
 * status, error messages, -v stream logs, chat's windows, title and status
 * bar) goes through xt_cli_sanitize() first; JSON output escapes the same
 * characters (json.c asks xt_cli_char_unsafe()).
 *
 * What is shown escaped, as ASCII, so it can neither act nor hide:
 *   - C0 controls and DEL: \n \t \r by name in a single-line field, others
 *     as \x1b, \x7f (ESC would start a terminal escape sequence);
 *   - C1 controls U+0080..U+009F as \u009b (CSI acts as ESC [ on some
 *     terminals);
 *   - bidi embeddings, overrides and isolates (U+202A..U+202E,
 *     U+2066..U+2069) and every other invisible format character (Unicode
 *     category Cf: U+200B..U+200F, U+2060.., U+FEFF, tags U+E0001..), and
 *     the line and paragraph separators U+2028/U+2029, as \u202e or, past
 *     U+FFFF, \U000e0001: a U+202E would make "exe.txt" read "txt.exe",
 *     a U+200B makes two addresses look alike;
 *   - bytes that are not UTF-8 as \xff.
 * A backslash is left as it is: the escapes are for the eye, and a sender
 * who types "\u202e" gets exactly that shown, which is harmless.
 *
 * Newlines: XT_CLI_SAN_LINE (a field in a one-line record: an address, a
 * type, a listen line's body) escapes them, so no field can end the record
 * and forge the next one. XT_CLI_SAN_LINES (a multi-line text shown as
 * such: a chat message, a -v stanza log) keeps each line break but indents
 * the line after it by XT_CLI_SAN_INDENT, so a continuation line can never
 * pass for a record of its own (which always starts at column 0); tabs
 * are kept there too. XT_CLI_SAN_LAID_OUT keeps line breaks and tabs as
 * they are, for a display that indents continuation lines itself (the
 * chat window puts them under the text, past the "HH:MM who:" column).
 */
#ifndef XT_CLI_SANITIZE_H
#define XT_CLI_SANITIZE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum xt_cli_san_mode {
    XT_CLI_SAN_LINE = 0, /* one field of a one-line record: newlines escaped */
    XT_CLI_SAN_LINES = 1, /* multi-line text: line breaks kept, continuations indented */
    XT_CLI_SAN_LAID_OUT = 2 /* line breaks kept; the caller indents continuations */
} xt_cli_san_mode;

#define XT_CLI_SAN_INDENT "  "

/* The displayable form of s[0..len) (see above): malloc'd, NUL-terminated;
 * NULL only when out of memory. s may hold NULs (shown as \x00). */
char *xt_cli_sanitize(const char *s, size_t len, xt_cli_san_mode mode);

/* Writes the single-line form of NUL-terminated s to out, as it scans
 * (nothing allocated); s NULL writes nothing. */
void xt_cli_put_sanitized(FILE *out, const char *s);

/* 1 when code point uc must never reach a terminal as it is: C0 and C1
 * controls, DEL, Cf format characters, U+2028/U+2029. '\n' and '\t' are
 * controls too (the callers decide on those). */
int xt_cli_char_unsafe(uint32_t uc);

/*
 * Values the protocol restricts, validated before they are printed, so a
 * contact cannot put free text where the reader expects a keyword. Each
 * returns one of the listed static strings, whatever it is given.
 *
 * Message type (RFC 6121 §5.2.2): chat, error, groupchat, headline,
 * normal; absent or unknown is "normal", as the RFC says a client MUST
 * treat it.
 */
const char *xt_cli_message_type(const char *type);
/* Presence show (RFC 6121 §4.7.2.1): away, chat, dnd, xa; absent or
 * unknown is NULL (plain available: the element is optional, and a value
 * outside the four says nothing we could show). */
const char *xt_cli_presence_show(const char *show);
/* Roster subscription (RFC 6121 §2.1.2.5): none, to, from, both, remove;
 * absent or unknown is "none", the state that grants nothing. */
const char *xt_cli_subscription(const char *sub);
/* Subscription request type (RFC 6121 §3): subscribe, subscribed,
 * unsubscribe, unsubscribed; anything else is NULL (not a subscription). */
const char *xt_cli_subscription_type(const char *type);

#endif
