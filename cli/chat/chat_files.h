/*
 * chat_files.h -- files in `xtalk chat` (issue 17): received files as
 * numbered file lines, /open N, /save N [PATH], /upload PATH.
 */
#ifndef XT_CLI_CHAT_FILES_H
#define XT_CLI_CHAT_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/conn.h"
#include "xtalk/im.h"
#include "xtalk/store.h"

struct xt_chat;
struct xt_chat_win;

/* m->file (not NULL) arrived in window w: a numbered file line there
 * (an unsafe URL: a line with the URL as text, no number). */
void xt_chat_files_received(struct xt_chat *c, struct xt_chat_win *w, const xt_message *m,
                            int64_t ts);
/* The file line for f into line (numbered for /open and /save when its
 * URL is safe, else the URL as text only); its line kind
 * (XT_CHAT_LINE_INFO, _ERROR), or -1 without memory. For lines read
 * back (the history, the archive) as for live ones. */
int xt_chat_files_describe(struct xt_chat *c, const xt_file_ref *f, char *line, size_t n);
/* What a message line shows: its body, else (a file shared without one,
 * XEP-0447) the file's description or its name (made in buf). */
const char *xt_chat_files_caption(const char *body, const xt_file_ref *f, char *buf, size_t n);
/* A stored file (the history's) as a message's, its URL classified
 * again; and back. Pointers are the argument's. */
xt_file_ref xt_chat_files_from_store(const xt_store_file *sf);
xt_store_file xt_chat_files_to_store(const xt_file_ref *f);
/* File n's URL (and its disk name in *name), NULL when n names none
 * (never given, or older than the ones kept). Valid until the next file. */
const char *xt_chat_files_url(struct xt_chat *c, unsigned n, const char **name);
/* The number an argument names, 0 with a notice when it names no file. */
unsigned xt_chat_files_number(struct xt_chat *c, const char *arg);
/* /open N: xdg-open when on PATH (detached), else the URL shown. */
void xt_chat_files_open(struct xt_chat *c, const char *arg);
/* /upload PATH: to the current conversation, through the server's
 * XEP-0363 service; progress on the status bar; once the PUT is done the
 * GET URL is sent with XEP-0066 OOB and shown as a file line. Nothing is
 * sent when anything fails. */
void xt_chat_files_upload(struct xt_chat *c, const char *arg);
/* /save N [PATH]: downloads file N (download.h: complete or nothing) to
 * PATH (a file or directory; default its name in the current directory),
 * never over an existing file. a1 is N, rest the PATH (or ""). */
void xt_chat_files_save(struct xt_chat *c, const char *a1, const char *rest);
/* Cancels the transfers and frees the HTTP engine: before the session's
 * loop goes. */
void xt_chat_files_stop(struct xt_chat *c);
/* "3.0 MB" (powers of 1000), "512 B". */
void xt_chat_files_fmt_size(int64_t size, char *out, size_t n);
void xt_chat_files_free(struct xt_chat *c);
/* Tab completion of a path argument: the entries of word's directory
 * ("~/" is $HOME) starting with its last part, each as word's directory
 * part + name, "/" after a directory; hidden ones only when the part
 * starts with '.'. A blank, tab, backslash or quote in them is escaped
 * with a backslash (so the name stays one word, as in a shell), and the
 * word's own escapes are read the same way. Sorted; *out and each
 * string malloc'd (free them). */
size_t xt_chat_files_complete_path(const char *word, char ***out);
/* /upload's and /save's PATH as typed into the local path: "~/" is
 * $HOME, completion's backslash escapes are undone (a literal blank
 * without one is kept too: the whole argument is the path), trailing
 * unescaped blanks dropped (completion leaves one). 0, or -1 when it
 * does not fit in n. */
int xt_chat_files_path_arg(const char *arg, char *out, size_t n);

#endif
