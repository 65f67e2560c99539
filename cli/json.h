/*
 * json.h -- a small JSON Lines writer for --json output: one object per
 * line (RFC 8259 text, no newline inside). Strings are escaped: '"', '\\',
 * and, as \uXXXX, every character sanitize.h would not show raw (C0 and
 * C1 controls, DEL, bidi and other Cf format characters, U+2028/9; a
 * surrogate pair past U+FFFF); other UTF-8 is passed through unchanged,
 * and bytes that are not valid UTF-8 become U+FFFD so the output is
 * always valid JSON.
 *
 * Usage: xt_cli_json_obj(j, NULL); xt_cli_json_str(j, "k", v); ...;
 * xt_cli_json_end(j); then xt_cli_json_write_line(j, stdout).
 * A NULL string value omits the member entirely ("omit absent fields").
 * Allocation failure is sticky: the writer records it and
 * xt_cli_json_write_line returns -1.
 */
#ifndef XT_CLI_JSON_H
#define XT_CLI_JSON_H

#include <stddef.h>
#include <stdio.h>

#define XT_CLI_JSON_MAX_DEPTH 16

typedef struct xt_cli_json {
    char *buf;
    size_t len, cap;
    int failed;
    int depth;
    int first[XT_CLI_JSON_MAX_DEPTH];   /* 1 until the level has a member */
    char closer[XT_CLI_JSON_MAX_DEPTH]; /* '}' or ']' for each open level */
} xt_cli_json;

void xt_cli_json_init(xt_cli_json *j);
void xt_cli_json_reset(xt_cli_json *j); /* empty, keeps the buffer */
void xt_cli_json_free(xt_cli_json *j);

/* Containers; key is NULL at the top level and inside arrays. */
void xt_cli_json_obj(xt_cli_json *j, const char *key);
void xt_cli_json_arr(xt_cli_json *j, const char *key);
void xt_cli_json_end(xt_cli_json *j); /* closes the innermost container */

/* Members (key NULL inside arrays). str with value NULL writes nothing. */
void xt_cli_json_str(xt_cli_json *j, const char *key, const char *value);
void xt_cli_json_strn(xt_cli_json *j, const char *key, const char *value, size_t len);
void xt_cli_json_int(xt_cli_json *j, const char *key, long long value);
/* xt_cli_json_str for a key that is a string literal of plain characters
 * (ours, never data: written as it is, its length known when compiling):
 * one capacity check for the whole member (listen prints a dozen per
 * message, issue 14). */
#define xt_cli_json_str_lit(j, key, value) xt_cli_json_str_k((j), "" key, sizeof(key) - 1, (value))
void xt_cli_json_str_k(xt_cli_json *j, const char *key, size_t klen, const char *value);
/* Several such members at once, in order (NULL values omitted): one
 * call and one capacity check for a whole message's strings. */
typedef struct xt_cli_json_member {
    const char *key;
    size_t klen;
    const char *value;
} xt_cli_json_member;
#define XT_CLI_JSON_MEMBER(key, value)                                                             \
    {                                                                                              \
        "" key, sizeof(key) - 1, (value)                                                           \
    }
void xt_cli_json_str_list(xt_cli_json *j, const xt_cli_json_member *mm, size_t n);
void xt_cli_json_bool(xt_cli_json *j, const char *key, int value);

/* The text so far (NUL-terminated), or NULL after a failure. */
const char *xt_cli_json_text(const xt_cli_json *j, size_t *len);

/* Writes the text and '\n', flushes, and resets. 0, or -1 on failure
 * (allocation failure earlier, unbalanced containers, or a write error). */
int xt_cli_json_write_line(xt_cli_json *j, FILE *out);
/* The same without the flush (the caller flushes: listen, once per read
 * burst); a write error may then only show at the flush. */
int xt_cli_json_put_line(xt_cli_json *j, FILE *out);

#endif
