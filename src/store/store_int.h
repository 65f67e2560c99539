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
#define XT_STORE_SCHEMA_VERSION 3

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

/* Turns user text into a safe FTS5 query: each word (a run of non-space
 * bytes containing at least one letter or digit, or any non-ASCII byte)
 * becomes a quoted prefix term "w"*, quotes doubled, terms ANDed by
 * juxtaposition. Returns a malloc'd string (through mem), "" when no
 * word remains, NULL on allocation failure. */
char *xt_fts_query(const xt_mem *mem, const char *text);

/* Test hooks: change the dedup bounds of one handle; count its rows. */
void xt_seen_set_limits(xt_store *st, int64_t retention_ms, int64_t cap, int prune_every);
int64_t xt_seen_count(xt_store *st);
/* Test hook: rows this handle has changed so far (sqlite3_total_changes64). */
int64_t xt_store_test_total_changes(xt_store *st);
/* Test hook: runs SQL on this handle's connection (per-connection pragmas
 * such as max_page_count, to simulate a full disk). 0 or XT_EIO. */
int xt_store_test_exec(xt_store *st, const char *sql);

#endif
