/*
 * chat_edit.h -- the input line editor of `xtalk chat`: a buffer of wide
 * characters with a cursor, emacs-style editing (the keys are mapped in
 * chat_input.c) and an input history. Pure; no curses.
 * tests/unit/test_chat_edit.c.
 *
 * A "word" is a run of characters other than blanks; word operations
 * skip blanks first, as readline does.
 */
#ifndef XT_CLI_CHAT_EDIT_H
#define XT_CLI_CHAT_EDIT_H

#include <stddef.h>
#include <wchar.h>

#define XT_CHAT_EDIT_MAX 65536 /* characters in the line */
#define XT_CHAT_HIST_MAX 200   /* remembered input lines */

typedef struct xt_chat_edit {
    wchar_t *buf;
    size_t len, cap, cur;
    char **hist; /* oldest first, UTF-8 */
    size_t nhist;
    size_t hpos;  /* == nhist when not browsing */
    char *draft;  /* the line being typed before browsing started */
} xt_chat_edit;

void xt_chat_edit_init(xt_chat_edit *e);
void xt_chat_edit_free(xt_chat_edit *e);

/* 0, or -1 (full or out of memory: nothing inserted). */
int xt_chat_edit_insert(xt_chat_edit *e, const wchar_t *w, size_t n);
int xt_chat_edit_insert_utf8(xt_chat_edit *e, const char *s);
/* Replaces the whole line; cursor at the end. */
int xt_chat_edit_set_utf8(xt_chat_edit *e, const char *s);
void xt_chat_edit_clear(xt_chat_edit *e);

void xt_chat_edit_left(xt_chat_edit *e);
void xt_chat_edit_right(xt_chat_edit *e);
void xt_chat_edit_home(xt_chat_edit *e);
void xt_chat_edit_end(xt_chat_edit *e);
void xt_chat_edit_word_left(xt_chat_edit *e);
void xt_chat_edit_word_right(xt_chat_edit *e);
void xt_chat_edit_backspace(xt_chat_edit *e);
void xt_chat_edit_delete(xt_chat_edit *e);
void xt_chat_edit_delete_word_back(xt_chat_edit *e); /* Ctrl-W */
void xt_chat_edit_delete_word_fwd(xt_chat_edit *e);  /* Alt-D */
void xt_chat_edit_kill_end(xt_chat_edit *e);         /* Ctrl-K */
void xt_chat_edit_kill_start(xt_chat_edit *e);       /* Ctrl-U */

/* The line as malloc'd UTF-8, or NULL on allocation failure. */
char *xt_chat_edit_text(const xt_chat_edit *e);

/* Adds a line to the history (not an empty one, nor a repeat of the
 * last) and stops browsing. */
void xt_chat_edit_hist_add(xt_chat_edit *e, const char *line);
/* Up / Down: older / newer history line; Down past the newest brings the
 * draft back. */
void xt_chat_edit_hist_prev(xt_chat_edit *e);
void xt_chat_edit_hist_next(xt_chat_edit *e);

#endif
