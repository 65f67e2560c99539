/*
 * Internals of the store, for its own files and the unit tests.
 */
#ifndef XT_STORE_INT_H
#define XT_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/store.h"

/* The schema version this code writes; older files are migrated on open,
 * newer ones refused. */
#define XT_STORE_SCHEMA_VERSION 9

/* Dedup record bounds: entries older than the retention window go, and
 * the table never holds more than the cap (plus one prune interval). */
#define XT_SEEN_RETENTION_MS (14LL * 24 * 3600 * 1000)
#define XT_SEEN_CAP 200000
#define XT_SEEN_PRUNE_EVERY 256

/* Makes the database file at path private before SQLite opens it
 * (store_file.c): creates it 0600 if absent; refuses (XT_EIO, the reason
 * and the fix in why) a directory others may write that is not sticky,
 * another user's symlink, or a database, -wal or -shm that is not a
 * regular file of ours; takes group/other bits off those that are.
 * XT_ENOMEM when out of memory. */
int xt_store_file_prepare(const char *path, char *why, size_t len);

/* A search (fts_query.c explains the split):
 * - match: the FTS5 query of the terms of 3 characters or more, for the
 *   trigram index (each a quoted phrase of the folded term), and of the
 *   2-character ASCII terms (" ok": words that begin with it); "" if none;
 * - grams: the FTS5 query of the 1-2 character terms made of non-ASCII
 *   characters only, for the short-term index (xt_store_grams); "" if none;
 * - like: a LIKE pattern ('%t%', \ escaping) of every other 1-2 character
 *   term, checked on the rows an index found, or on the newest
 *   XT_SEARCH_SCAN_ROWS rows when no index applies (one ASCII character,
 *   or ASCII and non-ASCII mixed).
 *   At most XT_SEARCH_MAX_SHORT short terms (more are ignored). */
#define XT_SEARCH_MAX_SHORT 8
typedef struct xt_fts_plan {
    char *match;
    char *grams;
    char *like[XT_SEARCH_MAX_SHORT];
    size_t nlike;
} xt_fts_plan;

/* Fills *p from user text (strings through mem). 0 or XT_ENOMEM (*p is
 * then empty). */
int xt_fts_plan_make(const xt_mem *mem, const char *text, xt_fts_plan *p);
void xt_fts_plan_free(const xt_mem *mem, xt_fts_plan *p);

/* A search of short terms only looks at this many of the newest rows of
 * the store (all accounts): the bound that keeps it within the time of an
 * indexed search at a million messages (bench/history_bench). */
#define XT_SEARCH_SCAN_ROWS 10000

/* The search fold (fold.c): n bytes of UTF-8 with the accents of
 * U+0300..U+036F removed, NUL-terminated, malloc'd (libc: libunistring
 * allocates there); its length in *outlen. NULL on allocation failure. */
char *xt_store_fold(const char *s, size_t n, size_t *outlen);
/* The short-term index's text of a folded text (fold.c): each non-ASCII
 * character and each pair of neighbouring ones, lowercased, blank
 * separated; "" for ASCII text. malloc'd; NULL on allocation failure. */
char *xt_store_grams(const char *s, size_t n, size_t *outlen);
/* 1 when a folded term is 1 or 2 characters, all non-ASCII: the
 * short-term index has it. */
int xt_store_is_gram_term(const char *s, size_t n);
/* The trigram index's text (fold.c): " " + the fold, ASCII blanks made
 * spaces. malloc'd; NULL on allocation failure. */
char *xt_store_fts_text(const char *s, size_t n, size_t *outlen);
/* Characters (code points) in n bytes of UTF-8. */
size_t xt_store_utf8_chars(const char *s, size_t n);

/* Test hooks: change the dedup bounds of one handle; count its rows. */
void xt_seen_set_limits(xt_store *st, int64_t retention_ms, int64_t cap, int prune_every);
int64_t xt_seen_count(xt_store *st);
/* Test hook: rows this handle has changed so far (sqlite3_total_changes64). */
int64_t xt_store_test_total_changes(xt_store *st);
/* Test hook: runs SQL on this handle's connection (per-connection pragmas
 * such as max_page_count, to simulate a full disk). 0 or XT_EIO. */
int xt_store_test_exec(xt_store *st, const char *sql);

#endif
