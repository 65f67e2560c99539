/*
 * The local store on SQLite: outbox, dedup record, history with FTS5
 * (trigram index over the folded text: fold.c, fts_query.c).
 *
 * Invariants worth knowing before changing anything here:
 *
 * - WAL journal, synchronous=NORMAL by default: a commit survives a crash
 *   of the process (kill -9) because the WAL pages are in the OS before
 *   COMMIT returns, but may be lost on power failure. The outbox promise
 *   ("committed before handed to the stream") must survive power failure
 *   too, so every transaction that adds to the outbox commits with
 *   synchronous=FULL (an fsync of the WAL). SQLite refuses to change the
 *   level inside a transaction, so the level is chosen before BEGIN:
 *   FULL for explicit batches (xt_store_begin) and single outbox adds,
 *   NORMAL for single dedup/history writes and relaxed batches
 *   (xt_store_begin_relaxed: listen's dedup record, one per read burst;
 *   losing one of those on power failure costs at worst a duplicate
 *   shown once, or one history line), which take no outbox add.
 * - Batches are BEGIN IMMEDIATE: the write lock is taken up front, so two
 *   processes never deadlock upgrading read locks; the busy timeout makes
 *   the second one wait instead of failing.
 * - Statements are prepared once per handle (lazily) and reset after
 *   each use, so no statement holds a read snapshot between calls.
 * - The repeat record (xt_seen_check_add) is keyed 64-bit hashes
 *   (seen_set.h), one row per batch in seen_set, mirrored in memory by
 *   every handle. A handle's set covers rows up to seen.last_id; ids only
 *   grow (AUTOINCREMENT), so reading rows above it inside a batch, under
 *   the batch's write lock, catches up with every other process exactly.
 * - The schema carries its version in schema_version; open migrates an
 *   older file step by step in one transaction and refuses a newer one.
 * - The history's indexes are kept by triggers that call xt_fts_text()
 *   and xt_grams(), SQL functions every handle registers before its
 *   first statement: another program (the sqlite3 shell) can read the
 *   file but not write the history.
 */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/siphash.h"
#include "store/seen_set.h"
#include "store_int.h"
#include "xtalk/jid.h"

#define BUSY_TIMEOUT_MS 5000

enum stmt_id {
    S_OUTBOX_ADD,
    S_OUTBOX_FILE_ADD,
    S_OUTBOX_REMOVE,
    S_OUTBOX_LIST,
    S_OUTBOX_COUNT,
    S_SEEN_KEY,
    S_SEEN_LOAD,
    S_SEEN_ADD,
    S_SEEN_AGE_BOUND,
    S_SEEN_OLDEST,
    S_SEEN_OLD,
    S_SEEN_DROP,
    S_SEEN_COUNT,
    S_HISTORY_ADD,
    S_HISTORY_FILE_ADD,
    S_HISTORY_PAGE,
    S_HISTORY_PAGE_BEFORE,
    S_HINT_GET,
    S_HINT_SET,
    S_UA_GET,
    S_UA_ADD,
    S_FAST_GET,
    S_FAST_SET,
    S_CAPS_SET,
    S_CAPS_LIST,
    S_POS_GET,
    S_POS_SET,
    S_POS_ADVANCE,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_OUTBOX_ADD] = "INSERT INTO outbox(account, to_jid, type, body, thread, origin_id, created_ms)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_OUTBOX_FILE_ADD] = "INSERT INTO outbox_file(seq, url, descr, name, media_type, size)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_OUTBOX_REMOVE] = "DELETE FROM outbox WHERE account = ?1 AND origin_id = ?2",
    [S_OUTBOX_LIST] = "SELECT o.seq, o.account, o.to_jid, o.type, o.body, o.thread, o.origin_id,"
                      " o.created_ms, f.url, f.descr, f.name, f.media_type, f.size"
                      " FROM outbox o LEFT JOIN outbox_file f ON f.seq = o.seq"
                      " WHERE o.account = ?1 ORDER BY o.seq",
    [S_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE account = ?1",
    /* The repeat record (seen_set.h): the file's hash key, the rows
     * another handle added since this one last looked (ids only grow:
     * AUTOINCREMENT), one row per batch. */
    [S_SEEN_KEY] = "SELECT k FROM seen_key LIMIT 1",
    [S_SEEN_LOAD] = "SELECT id, hashes FROM seen_set WHERE id > ?1 ORDER BY id",
    [S_SEEN_ADD] = "INSERT INTO seen_set(seen_ms, n, hashes) VALUES(?1, ?2, ?3)",
    /* Pruning walks from the oldest row and stops at the first one to
     * keep: its cost follows what goes, not what stays. */
    [S_SEEN_AGE_BOUND] = "SELECT coalesce((SELECT id FROM seen_set WHERE seen_ms >= ?1 ORDER BY id"
                         " LIMIT 1), (SELECT max(id) + 1 FROM seen_set), 0) - 1",
    [S_SEEN_OLDEST] = "SELECT id, n FROM seen_set ORDER BY id",
    [S_SEEN_OLD] = "SELECT hashes FROM seen_set WHERE id <= ?1",
    [S_SEEN_DROP] = "DELETE FROM seen_set WHERE id <= ?1",
    [S_SEEN_COUNT] = "SELECT coalesce(sum(n), 0) FROM seen_set",
    [S_HISTORY_ADD] = "INSERT INTO history(account, peer, from_jid, body, stanza_id, outgoing, ts_ms)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [S_HISTORY_FILE_ADD] = "INSERT INTO history_file(id, url, descr, name, media_type, size)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_HISTORY_PAGE] = "SELECT h.id, h.account, h.peer, h.from_jid, h.body, h.stanza_id, h.outgoing,"
                       " h.ts_ms, f.url, f.descr, f.name, f.media_type, f.size"
                       " FROM history h LEFT JOIN history_file f ON f.id = h.id"
                       " WHERE h.account = ?1 AND h.peer = ?2 ORDER BY h.id DESC LIMIT ?3",
    [S_HISTORY_PAGE_BEFORE] = "SELECT h.id, h.account, h.peer, h.from_jid, h.body, h.stanza_id,"
                              " h.outgoing, h.ts_ms, f.url, f.descr, f.name, f.media_type, f.size"
                              " FROM history h LEFT JOIN history_file f ON f.id = h.id"
                              " WHERE h.account = ?1 AND h.peer = ?2 AND h.id < ?4"
                              " ORDER BY h.id DESC LIMIT ?3",
    [S_HINT_GET] = "SELECT sasl_hint FROM server_hint WHERE account = ?1",
    [S_HINT_SET] = "INSERT INTO server_hint(account, sasl_hint) VALUES(?1, ?2)"
                   " ON CONFLICT(account) DO UPDATE SET sasl_hint = excluded.sasl_hint"
                   " WHERE sasl_hint IS NOT excluded.sasl_hint",
    [S_UA_GET] = "SELECT ua_id FROM fast_token WHERE account = ?1",
    /* A random id in the UUID form (RFC 9562 §5.4: version 4, variant
     * 10): randomblob is SQLite's CSPRNG, seeded from the OS. */
    [S_UA_ADD] = "INSERT OR IGNORE INTO fast_token(account, ua_id) SELECT ?1, lower("
                 "substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' ||"
                 " substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-' ||"
                 " substr(h, 21, 12)) FROM (SELECT hex(randomblob(16)) AS h)",
    [S_FAST_GET] = "SELECT mechanism, token, expiry FROM fast_token"
                   " WHERE account = ?1 AND token IS NOT NULL",
    [S_FAST_SET] = "UPDATE fast_token SET mechanism = ?2, token = ?3, expiry = ?4"
                   " WHERE account = ?1",
    [S_CAPS_SET] = "INSERT INTO caps(ver, features, seen_ms) VALUES(?1, ?2, ?3)"
                   " ON CONFLICT(ver) DO UPDATE SET seen_ms = excluded.seen_ms",
    [S_CAPS_LIST] = "SELECT ver, features FROM caps ORDER BY seen_ms DESC LIMIT ?1",
    [S_POS_GET] = "SELECT last_id FROM archive_pos WHERE account = ?1 AND peer = ?2",
    [S_POS_SET] = "INSERT INTO archive_pos(account, peer, last_id) VALUES(?1, ?2, ?3)"
                  " ON CONFLICT(account, peer) DO UPDATE SET last_id = excluded.last_id,"
                  " order_ms = 0 WHERE last_id IS NOT excluded.last_id",
    /* One statement: the compare and the write happen under one write
     * lock, so two writers cannot interleave between them. */
    [S_POS_ADVANCE] = "INSERT INTO archive_pos(account, peer, last_id, order_ms) VALUES(?1, ?2, ?3, ?4)"
                      " ON CONFLICT(account, peer) DO UPDATE SET last_id = excluded.last_id,"
                      " order_ms = excluded.order_ms WHERE excluded.order_ms >= archive_pos.order_ms",
};

/* Migrations: migrations[v] takes a file from version v to v + 1 (SQL;
 * NULL for a step done in C, see migrate_step). */
static const char *const migrations[XT_STORE_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE outbox("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account TEXT NOT NULL, to_jid TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,"
    " thread TEXT, origin_id TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " UNIQUE(account, origin_id));"
    "CREATE TABLE seen("
    " account TEXT NOT NULL, sender TEXT NOT NULL, msg_id TEXT NOT NULL,"
    " seen_ms INTEGER NOT NULL, UNIQUE(account, sender, msg_id));"
    "CREATE INDEX seen_time ON seen(seen_ms);"
    "CREATE TABLE history("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account TEXT NOT NULL, peer TEXT NOT NULL, from_jid TEXT NOT NULL, body TEXT NOT NULL,"
    " stanza_id TEXT, outgoing INTEGER NOT NULL, ts_ms INTEGER NOT NULL);"
    "CREATE INDEX history_conv ON history(account, peer, id);"
    /* External-content FTS5: the text lives once, in history; the
     * triggers keep the index in step with every change. */
    "CREATE VIRTUAL TABLE history_fts USING fts5(body, content='history', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER history_ai AFTER INSERT ON history BEGIN"
    " INSERT INTO history_fts(rowid, body) VALUES(new.id, new.body); END;"
    "CREATE TRIGGER history_ad AFTER DELETE ON history BEGIN"
    " INSERT INTO history_fts(history_fts, rowid, body) VALUES('delete', old.id, old.body); END;"
    "CREATE TRIGGER history_au AFTER UPDATE ON history BEGIN"
    " INSERT INTO history_fts(history_fts, rowid, body) VALUES('delete', old.id, old.body);"
    " INSERT INTO history_fts(rowid, body) VALUES(new.id, new.body); END;",
    /* 1 -> 2: what each account's server offered for SASL (the login
     * pipelining hint, xt_conn_sasl_hint). */
    "CREATE TABLE server_hint(account TEXT PRIMARY KEY, sasl_hint TEXT NOT NULL);",
    /* 2 -> 3: one account key (migrate_account_keys). */
    NULL,
    /* 3 -> 4: search in every script. The word index (unicode61) found
     * neither "世界" inside "你好世界" nor an emoji; the trigram index
     * finds any substring of 3 characters or more; shorter ones of
     * non-ASCII characters are in a second index (fts_query.c). Both
     * index a function of the body (fold.c: xt_fts_text removes accents,
     * as unicode61's remove_diacritics did, and puts a blank in front;
     * xt_grams lists characters and pairs), not the content table's column: every write goes through
     * these triggers, and FTS5's 'rebuild' must not be used on them. The
     * update triggers fire only on a changed body (the account-key merge
     * rewrites the account of many rows). */
    "DROP TRIGGER IF EXISTS history_ai; DROP TRIGGER IF EXISTS history_ad;"
    " DROP TRIGGER IF EXISTS history_au; DROP TABLE IF EXISTS history_fts;"
    " DROP TRIGGER IF EXISTS history_gi; DROP TRIGGER IF EXISTS history_gd;"
    " DROP TRIGGER IF EXISTS history_gu; DROP TABLE IF EXISTS history_grams;"
    "CREATE VIRTUAL TABLE history_fts USING fts5(body, content='history', content_rowid='id',"
    " tokenize='trigram');"
    "INSERT INTO history_fts(rowid, body) SELECT id, xt_fts_text(body) FROM history;"
    "CREATE TRIGGER history_ai AFTER INSERT ON history BEGIN"
    " INSERT INTO history_fts(rowid, body) VALUES(new.id, xt_fts_text(new.body)); END;"
    "CREATE TRIGGER history_ad AFTER DELETE ON history BEGIN"
    " INSERT INTO history_fts(history_fts, rowid, body)"
    " VALUES('delete', old.id, xt_fts_text(old.body)); END;"
    "CREATE TRIGGER history_au AFTER UPDATE OF body ON history BEGIN"
    " INSERT INTO history_fts(history_fts, rowid, body)"
    " VALUES('delete', old.id, xt_fts_text(old.body));"
    " INSERT INTO history_fts(rowid, body) VALUES(new.id, xt_fts_text(new.body)); END;"
    /* The short-term index (fold.c, xt_store_grams): presence only
     * (detail=none), every query on it being single words. */
    "CREATE VIRTUAL TABLE history_grams USING fts5(body, content='history',"
    " content_rowid='id', tokenize='ascii', detail='none', columnsize=0);"
    "INSERT INTO history_grams(rowid, body) SELECT id, xt_grams(body) FROM history;"
    "CREATE TRIGGER history_gi AFTER INSERT ON history BEGIN"
    " INSERT INTO history_grams(rowid, body) VALUES(new.id, xt_grams(new.body)); END;"
    "CREATE TRIGGER history_gd AFTER DELETE ON history BEGIN"
    " INSERT INTO history_grams(history_grams, rowid, body)"
    " VALUES('delete', old.id, xt_grams(old.body)); END;"
    "CREATE TRIGGER history_gu AFTER UPDATE OF body ON history BEGIN"
    " INSERT INTO history_grams(history_grams, rowid, body)"
    " VALUES('delete', old.id, xt_grams(old.body));"
    " INSERT INTO history_grams(rowid, body) VALUES(new.id, xt_grams(new.body)); END;",
    /* 4 -> 5: per account, the XEP-0388 user-agent id and the XEP-0484
     * FAST token the server bound to it (a credential: the file is 0600,
     * store_file.c). */
    "CREATE TABLE IF NOT EXISTS fast_token(account TEXT PRIMARY KEY, ua_id TEXT NOT NULL, mechanism TEXT,"
    " token TEXT, expiry TEXT);",
    /* 5 -> 6: every device in sync. XEP-0115 caps verified before
     * (features newline-separated: a feature var never holds one), and
     * per account the XEP-0313 archive position: peer '' is the login
     * catch-up's, a bare JID the oldest id fetched of that conversation. */
    "CREATE TABLE IF NOT EXISTS caps(ver TEXT PRIMARY KEY, features TEXT NOT NULL, seen_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS archive_pos(account TEXT NOT NULL, peer TEXT NOT NULL, last_id TEXT NOT NULL,"
    " PRIMARY KEY(account, peer));",
    /* 6 -> 7: the archive position's order (the archive stamp, or the
     * local clock for a live message's id, in ms): two processes of one
     * account (listen and chat) write the position, and only a newer one
     * may replace it (xt_store_archive_pos_advance). 0 = unordered.
     * The table is rebuilt rather than altered: ADD COLUMN fails on a
     * file that has the column already, this runs again harmlessly. */
    "CREATE TABLE archive_pos_new(account TEXT NOT NULL, peer TEXT NOT NULL, last_id TEXT NOT NULL,"
    " order_ms INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(account, peer));"
    "INSERT INTO archive_pos_new(account, peer, last_id) SELECT account, peer, last_id FROM archive_pos;"
    "DROP TABLE archive_pos;"
    "ALTER TABLE archive_pos_new RENAME TO archive_pos;",
    /* 7 -> 8: the dedup record without its time index: one b-tree less
     * to update per received message (listen: ~4,000 instructions);
     * expiry deletes rowid ranges instead (S_SEEN_PRUNE_AGE). */
    "DROP INDEX IF EXISTS seen_time;",
    /* 8 -> 9: the repeat record as 64-bit hashes (seen_set.h), one row
     * per batch: listen's INSERT OR IGNORE per received message cost
     * ~12,000 instructions (issue 14). The key is the file's own (random,
     * 128 bits), so the hashes mean the same in every process using the
     * file and after a restart. The old rows are hashed over (an hour's a
     * row, oldest first, for the age pruning) by xt_seen_pack(). Runs
     * again harmlessly: the old table is made empty if absent, then gone. */
    "CREATE TABLE IF NOT EXISTS seen_key(k BLOB NOT NULL);"
    "INSERT INTO seen_key(k) SELECT randomblob(16) WHERE NOT EXISTS (SELECT 1 FROM seen_key);"
    "CREATE TABLE IF NOT EXISTS seen_set(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " seen_ms INTEGER NOT NULL, n INTEGER NOT NULL, hashes BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS seen(account TEXT NOT NULL, sender TEXT NOT NULL,"
    " msg_id TEXT NOT NULL, seen_ms INTEGER NOT NULL);"
    "INSERT INTO seen_set(seen_ms, n, hashes) SELECT max(seen_ms), count(*),"
    " xt_seen_pack((SELECT k FROM seen_key), account, sender, msg_id) FROM seen"
    " GROUP BY seen_ms / 3600000 ORDER BY seen_ms / 3600000;"
    "DROP TABLE seen;",
    /* The file a message shares (XEP-0066 / XEP-0447), beside its row:
     * an outbox entry's (by its seq), so that a re-send is the stanza
     * first sent, OOB data included, not the URL as bare text; a history
     * line's (by its id), so that a line read back is a file line again
     * (name, size, type where known). Side tables rather than columns:
     * ADD COLUMN cannot say IF NOT EXISTS, and the few file messages cost
     * the many others nothing. Both keys come from AUTOINCREMENT, never
     * reused, so a row left by a deleted history line can never be taken
     * for another's; the outbox's leave with their entry (the trigger). */
    "CREATE TABLE IF NOT EXISTS outbox_file(seq INTEGER PRIMARY KEY, url TEXT NOT NULL,"
    " descr TEXT, name TEXT, media_type TEXT, size INTEGER);"
    "CREATE TRIGGER IF NOT EXISTS outbox_file_ad AFTER DELETE ON outbox BEGIN"
    " DELETE FROM outbox_file WHERE seq = old.seq; END;"
    "CREATE TABLE IF NOT EXISTS history_file(id INTEGER PRIMARY KEY, url TEXT NOT NULL,"
    " descr TEXT, name TEXT, media_type TEXT, size INTEGER);",
};

struct xt_store {
    xt_mem mem;
    int has_mem;
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    int depth;     /* xt_store_begin nesting */
    int relaxed;   /* the outermost begin was xt_store_begin_relaxed */
    int failed;    /* a write inside the batch failed: the commit rolls back */
    int sync_full; /* the synchronous level currently set */
    int64_t seen_retention_ms, seen_cap;
    int seen_prune_every;
    /* The repeat record's memory side (seen_set.h). The set mirrors the
     * seen_set table up to row last_id; inside a batch (which holds the
     * write lock: BEGIN IMMEDIATE) it is brought up to date once
     * (synced), so another process's records are seen exactly. A batch's
     * new hashes wait in pend and are written as one row just before
     * its COMMIT (seen_flush), like the archive position. */
    struct {
        uint64_t key[2];
        int loaded, synced;
        int64_t last_id;
        xt_seen_set set;
        uint64_t *pend;
        size_t npend, cappend;
        int64_t pend_ms; /* the newest check's time among pend */
        int adds;        /* hashes written since the last prune */
        int pruned;      /* this batch pruned: a rollback reloads the set */
        int64_t row_id;  /* the row seen_flush wrote, known at COMMIT */
        int pend_le;     /* pend rewritten little endian (seen_flush) */
    } seen;
    /* An archive position set inside a batch, written once just before
     * the batch's COMMIT (pos_flush): listen moves it with every live
     * message, and the write cost as much as the dedup record. Nothing
     * outside this handle could see it before the commit anyway. */
    struct {
        char *account, *peer, *id;
        size_t id_cap;    /* id's buffer, written over by the next id */
        int64_t order_ms; /* > 0: an advance (xt_store_archive_pos_advance) */
    } pos;
    char err[256];
};

static const xt_mem *mem_of(const xt_store *st)
{
    return st->has_mem ? &st->mem : NULL;
}

static void pos_drop(xt_store *st);
static int pos_flush(xt_store *st);
static int seen_flush(xt_store *st);
static void seen_end(xt_store *st, int committed);
static void seen_forget(xt_store *st);

static int fail(xt_store *st, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(xt_store *st, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof st->err, fmt, ap);
    va_end(ap);
    return code;
}

/* Maps an SQLite result to our codes, keeping SQLite's message. */
static int fail_db(xt_store *st, int rc, const char *what)
{
    int code = XT_EIO;
    if (rc == SQLITE_NOMEM)
        code = XT_ENOMEM;
    else if (rc == SQLITE_TOOBIG)
        code = XT_ETOOBIG;
    return fail(st, code, "%s: %s", what, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

const char *xt_store_errdetail(const xt_store *st)
{
    return st ? st->err : "";
}

static int exec(xt_store *st, const char *sql, const char *what)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail_db(st, rc, what);
}

static sqlite3_stmt *stmt(xt_store *st, enum stmt_id id)
{
    if (!st->stmt[id]) {
        int rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &st->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            fail_db(st, rc, "cannot prepare a statement");
            st->stmt[id] = NULL;
            return NULL;
        }
    }
    return st->stmt[id];
}

static void done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int set_sync(xt_store *st, int full)
{
    if (st->sync_full == full)
        return 0;
    int rc = exec(st, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                  "cannot set the synchronous level");
    if (rc == 0)
        st->sync_full = full;
    return rc;
}

static int bind_text(sqlite3_stmt *s, int i, const char *v)
{
    return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* The tables keyed by account, and what merging one key into another
 * does to each. Where the key is unique (the outbox's origin-id, the
 * dedup record's sender + id, the hint) and the target already holds
 * the row, it is the same message or the same fact recorded under both
 * spellings: the copy under the old key goes. */
static const struct {
    const char *table;
    const char *move, *drop;
} keyed[] = {
    {"outbox", "UPDATE OR IGNORE outbox SET account = ?2 WHERE account = ?1",
     "DELETE FROM outbox WHERE account = ?1"},
    {"seen", "UPDATE OR IGNORE seen SET account = ?2 WHERE account = ?1",
     "DELETE FROM seen WHERE account = ?1"},
    {"history", "UPDATE history SET account = ?2 WHERE account = ?1", NULL},
    {"server_hint", "UPDATE OR IGNORE server_hint SET account = ?2 WHERE account = ?1",
     "DELETE FROM server_hint WHERE account = ?1"},
};
#define NKEYED (sizeof keyed / sizeof *keyed)

/* Runs sql with from and to bound as ?1 and ?2 (NULL sql: nothing). */
static int run2(xt_store *st, const char *sql, const char *from, const char *to)
{
    sqlite3_stmt *q = NULL;
    if (!sql)
        return 0;
    int r = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
    if (r == SQLITE_OK) {
        bind_text(q, 1, from);
        bind_text(q, 2, to);
        r = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    return r == SQLITE_DONE ? 0 : fail_db(st, r, "cannot merge account keys");
}

static int table_exists(xt_store *st, const char *name, int *out)
{
    sqlite3_stmt *q = NULL;
    int r = sqlite3_prepare_v2(
        st->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &q, NULL);
    if (r == SQLITE_OK) {
        bind_text(q, 1, name);
        r = sqlite3_step(q);
    }
    sqlite3_finalize(q);
    *out = r == SQLITE_ROW;
    return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : fail_db(st, r, "cannot read the schema");
}

/* Adds each distinct account of table to *keys (no repeats). */
static int collect_keys(xt_store *st, const char *table, char ***keys, size_t *n, size_t *cap)
{
    sqlite3_stmt *q = NULL;
    char sql[96];
    int rc = 0, r;

    snprintf(sql, sizeof sql, "SELECT DISTINCT account FROM %s", table);
    if ((r = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL)) != SQLITE_OK)
        return fail_db(st, r, "cannot read the account keys");
    while (rc == 0 && (r = sqlite3_step(q)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(q, 0);
        size_t i = 0;
        while (k && i < *n && strcmp((*keys)[i], k) != 0)
            i++;
        if (!k || i < *n)
            continue;
        if (*n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 16;
            char **nk = xt_realloc(mem_of(st), *keys, ncap * sizeof *nk);
            if (!nk) {
                rc = fail(st, XT_ENOMEM, "out of memory migrating the store");
                break;
            }
            *keys = nk;
            *cap = ncap;
        }
        if (!((*keys)[*n] = xt_strdup(mem_of(st), k)))
            rc = fail(st, XT_ENOMEM, "out of memory migrating the store");
        else
            (*n)++;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = fail_db(st, r, "cannot read the account keys");
    sqlite3_finalize(q);
    return rc;
}

/*
 * 2 -> 3: before version 3 some xtalk commands keyed rows by the JID as
 * typed, cut at '/' ("Alice@Example.ORG"), others by its RFC 7622
 * preparation ("alice@example.org"): one account had two outboxes, dedup
 * records and hints. From 3 on every account key is the prepared bare
 * JID (xt_jid_bare), and this step merges the rows already there. A key
 * that is not a valid JID is left as it is (nothing could look it up).
 * The keys are collected first: rows must not change under a running
 * SELECT.
 */
static int migrate_account_keys(xt_store *st)
{
    char **keys = NULL;
    size_t n = 0, cap = 0;
    int have[NKEYED];
    int rc = 0;

    for (size_t t = 0; rc == 0 && t < NKEYED; t++)
        if ((rc = table_exists(st, keyed[t].table, &have[t])) == 0 && have[t])
            rc = collect_keys(st, keyed[t].table, &keys, &n, &cap);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        xt_jid *j = NULL;
        int pr = xt_jid_parse(mem_of(st), keys[i], &j, NULL);
        if (pr == XT_ENOMEM)
            rc = fail(st, XT_ENOMEM, "out of memory migrating the store");
        else if (pr == 0 && strcmp(xt_jid_bare(j), keys[i]) != 0)
            for (size_t t = 0; rc == 0 && t < NKEYED; t++)
                if (have[t] && (rc = run2(st, keyed[t].move, keys[i], xt_jid_bare(j))) == 0)
                    rc = run2(st, keyed[t].drop, keys[i], NULL);
        xt_jid_free(j);
    }
    for (size_t i = 0; i < n; i++)
        xt_free(mem_of(st), keys[i]);
    xt_free(mem_of(st), keys);
    return rc;
}

static int migrate_step(xt_store *st, int64_t v)
{
    int have;
    if (v == 3) {
        /* A file without a history table has nothing to index (the unit
         * tests make such files; xtalk never did). */
        int rc = table_exists(st, "history", &have);
        if (rc < 0 || !have)
            return rc;
    }
    if (migrations[v])
        return exec(st, migrations[v], "cannot migrate the schema");
    return migrate_account_keys(st);
}

/* Brings the file to XT_STORE_SCHEMA_VERSION inside one transaction. */
static int migrate(xt_store *st)
{
    sqlite3_stmt *q = NULL;
    int64_t version = 0;
    int rc;

    /* The common case, a current file, needs no write lock: another
     * process may be in the middle of a batch. */
    if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version", -1, &q, NULL) ==
        SQLITE_OK) {
        int r = sqlite3_step(q);
        int current = r == SQLITE_ROW && sqlite3_column_int64(q, 0) == XT_STORE_SCHEMA_VERSION;
        sqlite3_finalize(q);
        q = NULL;
        if (current)
            return 0;
    }
    if ((rc = exec(st, "BEGIN IMMEDIATE", "cannot lock the store")) < 0)
        return rc;
    if ((rc = exec(st, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)",
                   "cannot create the schema")) < 0)
        goto rollback;
    int s = sqlite3_prepare_v2(st->db, "SELECT max(version) FROM schema_version", -1, &q, NULL);
    if (s != SQLITE_OK) {
        rc = fail_db(st, s, "cannot read the schema version");
        goto rollback;
    }
    s = sqlite3_step(q);
    if (s == SQLITE_ROW)
        version = sqlite3_column_int64(q, 0);
    else {
        rc = fail_db(st, s, "cannot read the schema version");
        goto rollback;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (version > XT_STORE_SCHEMA_VERSION || version < 0) {
        rc = fail(st, XT_EUNSUPPORTED,
                  "the store has schema version %lld, newer than this libxtalk understands (%d); "
                  "upgrade the program or use another store file",
                  (long long)version, XT_STORE_SCHEMA_VERSION);
        goto rollback;
    }
    if (version == XT_STORE_SCHEMA_VERSION)
        return exec(st, "COMMIT", "cannot commit");
    for (int64_t v = version; v < XT_STORE_SCHEMA_VERSION; v++)
        if ((rc = migrate_step(st, v)) < 0)
            goto rollback;
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM schema_version; INSERT INTO schema_version VALUES(%d)",
             XT_STORE_SCHEMA_VERSION);
    if ((rc = exec(st, sql, "cannot record the schema version")) < 0)
        goto rollback;
    return exec(st, "COMMIT", "cannot commit the schema");
rollback:
    sqlite3_finalize(q);
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int setup(xt_store *st, const char *path);

int xt_store_open(const char *path, const xt_mem *mem, xt_store **out)
{
    xt_store *st;
    int rc;

    if (!out)
        return XT_EINVAL;
    *out = NULL;
    st = xt_calloc(mem, 1, sizeof *st);
    if (!st)
        return XT_ENOMEM;
    if (mem) {
        st->mem = *mem;
        st->has_mem = 1;
    }
    st->seen_retention_ms = XT_SEEN_RETENTION_MS;
    st->seen_cap = XT_SEEN_CAP;
    st->seen_prune_every = XT_SEEN_PRUNE_EVERY;
    st->sync_full = -1;
    *out = st;
    if (!path || !*path)
        return fail(st, XT_EINVAL, "no store path given");

    char why[512];
    if ((rc = xt_store_file_prepare(path, why, sizeof why)) < 0)
        return rc == XT_ENOMEM ? fail(st, rc, "out of memory") : fail(st, rc, "%s", why);
    int s = sqlite3_open_v2(path, &st->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                SQLITE_OPEN_EXRESCODE,
                            NULL);
    if (s != SQLITE_OK) {
        rc = fail(st, s == SQLITE_NOMEM ? XT_ENOMEM : XT_EIO, "cannot open the store %s: %s", path,
                  st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(s));
        sqlite3_close(st->db);
        st->db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    /* The last handle to close would checkpoint the WAL into the file
     * and delete it: two fsyncs (0.5 to 24 ms measured under load) at
     * the end of every `xtalk send`, after the message was acknowledged.
     * What the WAL holds is already as durable as its commits asked;
     * the next writer checkpoints it (every 1,000 pages, SQLite's
     * default), and the next reader reads it. */
    (void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /* Another process creating the same file at this moment makes the
     * mode switch or the schema step fail with BUSY (the busy handler is
     * not used for every lock the first open takes) or, while the WAL
     * index is being set up, a transient I/O error: retry for as long as
     * the busy timeout. */
    for (int attempt = 0;; attempt++) {
        rc = setup(st, path);
        int prim = sqlite3_extended_errcode(st->db) & 0xff;
        if (rc == 0 || attempt >= BUSY_TIMEOUT_MS / 50 ||
            (prim != SQLITE_BUSY && prim != SQLITE_LOCKED && prim != SQLITE_IOERR))
            return rc;
        sqlite3_sleep(50);
    }
}

/* xt_fts_text(text) and xt_grams(text): the two indexes' texts (fold.c),
 * for the history triggers. */
static void fold_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return; /* NULL */
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    int grams = sqlite3_user_data(ctx) != NULL;
    size_t flen = 0, glen = 0;
    char *f = NULL;
    if (t && grams) {
        char *folded = xt_store_fold(t, (size_t)n, &flen);
        f = folded ? xt_store_grams(folded, flen, &glen) : NULL;
        free(folded);
        flen = glen;
    } else if (t) {
        f = xt_store_fts_text(t, (size_t)n, &flen);
    }
    if (!f || flen > (size_t)INT32_MAX) {
        free(f);
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_text(ctx, f, (int)flen, free);
}

static void seen_key_of(const unsigned char *k, uint64_t key[2]);
static uint64_t seen_hash(const uint64_t key[2], const char *account, const char *sender,
                          const char *id, int *nomem);
static void put_le64(unsigned char *p, uint64_t v);

/* xt_seen_pack(key, account, sender, msg_id), an aggregate: the hashes of
 * its rows as the repeat record keeps them (8 bytes each, little
 * endian), for the migration of the old one-row-per-message table. */
static void seen_pack_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct pack {
        unsigned char *buf;
        size_t len, cap;
    } *pk = sqlite3_aggregate_context(ctx, sizeof *pk);
    (void)argc;
    if (!pk || sqlite3_value_bytes(argv[0]) != 16) {
        sqlite3_result_error(ctx, "xt_seen_pack: no key", -1);
        return;
    }
    uint64_t key[2], h;
    int nomem = 0;
    seen_key_of(sqlite3_value_blob(argv[0]), key);
    const char *a = (const char *)sqlite3_value_text(argv[1]);
    const char *f = (const char *)sqlite3_value_text(argv[2]);
    const char *i = (const char *)sqlite3_value_text(argv[3]);
    h = seen_hash(key, a ? a : "", f ? f : "", i ? i : "", &nomem);
    if (!nomem && pk->len + 8 > pk->cap) {
        size_t ncap = pk->cap ? pk->cap * 2 : 256;
        unsigned char *nb = sqlite3_realloc64(pk->buf, ncap);
        if (!nb)
            nomem = 1;
        else {
            pk->buf = nb;
            pk->cap = ncap;
        }
    }
    if (nomem) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    put_le64(pk->buf + pk->len, xt_seen_set_norm(h));
    pk->len += 8;
}

static void seen_pack_final(sqlite3_context *ctx)
{
    struct pack {
        unsigned char *buf;
        size_t len, cap;
    } *pk = sqlite3_aggregate_context(ctx, 0);
    if (!pk || !pk->buf) {
        sqlite3_result_zeroblob(ctx, 0);
        return;
    }
    sqlite3_result_blob64(ctx, pk->buf, pk->len, sqlite3_free);
}

/* WAL mode, sync level, schema: the part of opening that can race. */
static int setup(xt_store *st, const char *path)
{
    int rc, s;
    /* Checks the file is a database at all before switching modes: a
     * text file given as --store must be refused, not clobbered. */
    sqlite3_stmt *q = NULL;
    s = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &q, NULL);
    if (s == SQLITE_OK)
        s = sqlite3_step(q);
    if (s != SQLITE_ROW) {
        rc = fail(st, s == SQLITE_NOMEM ? XT_ENOMEM : XT_EIO, "cannot open the store %s: %s", path,
                  sqlite3_errmsg(st->db));
        sqlite3_finalize(q);
        return rc;
    }
    const unsigned char *mode = sqlite3_column_text(q, 0);
    if (!mode || strcmp((const char *)mode, "wal") != 0) {
        rc = fail(st, XT_EIO, "cannot open the store %s: WAL mode unavailable (journal mode %s)",
                  path, mode ? (const char *)mode : "?");
        sqlite3_finalize(q);
        return rc;
    }
    sqlite3_finalize(q);
    /* Before the schema: the history triggers call it. */
    static char grams_tag;
    s = sqlite3_create_function_v2(st->db, "xt_fts_text", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   fold_sql, NULL, NULL, NULL);
    if (s == SQLITE_OK)
        s = sqlite3_create_function_v2(st->db, "xt_grams", 1,
                                       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                       &grams_tag, fold_sql, NULL, NULL, NULL);
    if (s == SQLITE_OK)
        s = sqlite3_create_function_v2(st->db, "xt_seen_pack", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                       NULL, NULL, seen_pack_step, seen_pack_final, NULL);
    if (s != SQLITE_OK)
        return fail_db(st, s, "cannot register the search fold");
    if ((rc = set_sync(st, 0)) < 0 ||
        (rc = exec(st, "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON", "cannot configure")) < 0)
        return rc;
    return migrate(st);
}

void xt_store_close(xt_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    if (st->db) {
        if (st->depth > 0)
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(st->db);
    }
    pos_drop(st);
    seen_forget(st);
    xt_free(mem_of(st), st->seen.pend);
    xt_free(mem_of(st), st);
}

static int usable(xt_store *st)
{
    return st && st->db;
}

static void pos_drop(xt_store *st)
{
    xt_free(mem_of(st), st->pos.account);
    xt_free(mem_of(st), st->pos.peer);
    xt_free(mem_of(st), st->pos.id);
    st->pos.account = st->pos.peer = st->pos.id = NULL;
    st->pos.id_cap = 0;
}

static int pos_write(xt_store *st, const char *account, const char *peer, const char *id,
                     int64_t order_ms);

/* Writes the pending position (st->pos), if any. */
static int pos_flush(xt_store *st)
{
    if (!st->pos.id)
        return 0;
    int rc = pos_write(st, st->pos.account, st->pos.peer, st->pos.id, st->pos.order_ms);
    pos_drop(st);
    return rc;
}

static int begin(xt_store *st, int full)
{
    int rc;

    if (!usable(st))
        return XT_EINVAL;
    if (st->depth > 0) {
        /* The level was chosen at the outermost BEGIN: a FULL batch
         * cannot be opened inside a relaxed one. */
        if (full && st->relaxed)
            return fail(st, XT_ESTATE, "a durable batch inside a relaxed one");
        st->depth++;
        return 0;
    }
    if ((rc = set_sync(st, full)) < 0 || (rc = exec(st, "BEGIN IMMEDIATE", "cannot begin")) < 0)
        return rc;
    st->depth = 1;
    st->failed = 0;
    st->relaxed = !full;
    return 0;
}

int xt_store_begin(xt_store *st)
{
    return begin(st, 1);
}

/* synchronous=NORMAL for the batch: see store.h and the invariants at
 * the top (a lost dedup record costs a repeat shown once). */
int xt_store_begin_relaxed(xt_store *st)
{
    return begin(st, 0);
}

int xt_store_commit(xt_store *st)
{
    if (!usable(st) || st->depth == 0)
        return st ? fail(st, XT_ESTATE, "commit without begin") : XT_EINVAL;
    if (--st->depth > 0)
        return 0;
    if (!st->failed && (pos_flush(st) < 0 || seen_flush(st) < 0))
        st->failed = 1;
    if (st->failed) {
        /* A write in the batch failed: all or nothing. The detail stays
         * the failed write's (the cause: "database or disk is full"), not
         * a word about the rollback the caller can infer from the code. */
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        st->failed = 0;
        pos_drop(st); /* a position of the rolled-back batch */
        seen_end(st, 0);
        return XT_EIO;
    }
    int s = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (s != SQLITE_OK) {
        int rc = fail_db(st, s, "cannot commit");
        if (!sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        seen_end(st, 0);
        return rc;
    }
    seen_end(st, 1);
    return 0;
}

int xt_store_rollback(xt_store *st)
{
    if (!usable(st) || st->depth == 0)
        return st ? fail(st, XT_ESTATE, "rollback without begin") : XT_EINVAL;
    /* The whole batch goes, whatever the nesting: an inner level cannot
     * undo only its own writes (no savepoints), and an outer commit of
     * half a batch would break all or nothing. st->err is left alone: it
     * still names what made the caller give up. */
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->depth = 0;
    st->failed = 0;
    pos_drop(st);
    seen_end(st, 0);
    return 0;
}

/* Runs a write statement that is already bound; in a batch, a failure
 * marks the batch so its commit rolls back. */
static int step_write(xt_store *st, sqlite3_stmt *s, const char *what)
{
    int r = sqlite3_step(s);
    int rc = r == SQLITE_DONE ? 0 : fail_db(st, r, what);
    done(s);
    if (rc < 0 && st->depth > 0)
        st->failed = 1;
    return rc;
}

static int valid_text(const char *s)
{
    return s && *s;
}

/* --- outbox -------------------------------------------------------------- */

/* Writes file f of the row `key` (an outbox seq, a history id) with
 * statement id (S_OUTBOX_FILE_ADD, S_HISTORY_FILE_ADD). */
static int add_file(xt_store *st, enum stmt_id id, int64_t key, const xt_store_file *f)
{
    sqlite3_stmt *s = stmt(st, id);
    if (!s)
        return XT_EIO;
    sqlite3_bind_int64(s, 1, key);
    bind_text(s, 2, f->url);
    bind_text(s, 3, f->desc);
    bind_text(s, 4, f->name);
    bind_text(s, 5, f->media_type);
    if (f->size >= 0)
        sqlite3_bind_int64(s, 6, f->size);
    else
        sqlite3_bind_null(s, 6);
    return step_write(st, s, "cannot store the message's file");
}

/* The end of a row written with its file in a transaction of its own
 * (xt_outbox_add_file, xt_history_add_file): a failed write marks the
 * batch, so this commit (the outermost) or the caller's rolls it back;
 * the write's code is the one returned, its detail kept. */
static int file_write_end(xt_store *st, int rc)
{
    if (rc < 0)
        st->failed = 1;
    int c = xt_store_commit(st);
    return rc == 0 ? c : rc;
}

/* The file of a row read back, columns first.. first+4 (the side
 * table's, LEFT JOINed); NULL when the row has none. */
static const xt_store_file *col_file(sqlite3_stmt *s, int first, xt_store_file *f)
{
    if (sqlite3_column_type(s, first) == SQLITE_NULL)
        return NULL;
    *f = (xt_store_file){
        .url = (const char *)sqlite3_column_text(s, first),
        .desc = (const char *)sqlite3_column_text(s, first + 1),
        .name = (const char *)sqlite3_column_text(s, first + 2),
        .media_type = (const char *)sqlite3_column_text(s, first + 3),
        .size = sqlite3_column_type(s, first + 4) == SQLITE_NULL ? -1
                                                                 : sqlite3_column_int64(s, first + 4),
    };
    return f->url ? f : NULL;
}

int xt_outbox_add(xt_store *st, const xt_outbox_msg *m, int64_t *seq_out)
{
    return xt_outbox_add_file(st, m, NULL, seq_out);
}

int xt_outbox_add_file(xt_store *st, const xt_outbox_msg *m, const xt_store_file *file,
                       int64_t *seq_out)
{
    sqlite3_stmt *s;
    int rc;

    if (!usable(st) || !m || !valid_text(m->account) || !valid_text(m->to) ||
        !valid_text(m->type) || !m->body || !valid_text(m->origin_id) ||
        (file && !valid_text(file->url)))
        return st ? fail(st, XT_EINVAL, "outbox: missing field") : XT_EINVAL;
    /* Alone, the add is its own transaction, committed with FULL sync;
     * a relaxed batch would commit it without. */
    if (st->depth > 0 && st->relaxed)
        return fail(st, XT_ESTATE, "outbox: an add inside a relaxed batch");
    /* With a file, the entry and its file are one transaction: a crash
     * in between would leave a message that re-sends without its OOB. */
    if (file && (rc = xt_store_begin(st)) < 0)
        return rc;
    if (st->depth == 0 && (rc = set_sync(st, 1)) < 0)
        return rc;
    if (!(s = stmt(st, S_OUTBOX_ADD))) {
        rc = XT_EIO;
        goto out;
    }
    bind_text(s, 1, m->account);
    bind_text(s, 2, m->to);
    bind_text(s, 3, m->type);
    bind_text(s, 4, m->body);
    bind_text(s, 5, m->thread);
    bind_text(s, 6, m->origin_id);
    sqlite3_bind_int64(s, 7, m->created_ms);
    rc = step_write(st, s, "cannot queue the message");
    int64_t seq = sqlite3_last_insert_rowid(st->db);
    if (rc == 0 && file)
        rc = add_file(st, S_OUTBOX_FILE_ADD, seq, file);
    if (rc == 0 && seq_out)
        *seq_out = seq;
out:
    if (file) {
        rc = file_write_end(st, rc);
    } else if (st->depth == 0) {
        int r2 = set_sync(st, 0);
        if (rc == 0)
            rc = r2;
    }
    return rc;
}

int xt_outbox_remove(xt_store *st, const char *account, const char *origin_id)
{
    sqlite3_stmt *s;
    int rc;

    if (!usable(st) || !account || !origin_id)
        return XT_EINVAL;
    if (!(s = stmt(st, S_OUTBOX_REMOVE)))
        return XT_EIO;
    bind_text(s, 1, account);
    bind_text(s, 2, origin_id);
    rc = step_write(st, s, "cannot remove the message from the outbox");
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = fail(st, XT_ENOTFOUND, "no such message in the outbox");
    return rc;
}

static const char *col(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* A text column that may not be NULL here; NULL only when SQLite ran out
 * of memory converting it. */
static int col_ok(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL || sqlite3_column_text(s, i) != NULL;
}

int xt_outbox_list(xt_store *st, const char *account, xt_outbox_fn fn, void *ud)
{
    sqlite3_stmt *s;
    int r, rc = 0;

    if (!usable(st) || !account || !fn)
        return XT_EINVAL;
    if (!(s = stmt(st, S_OUTBOX_LIST)))
        return XT_EIO;
    bind_text(s, 1, account);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        for (int i = 1; i <= 12; i++)
            if (i != 7 && i != 12 && !col_ok(s, i)) {
                done(s);
                return fail(st, XT_ENOMEM, "out of memory reading the outbox");
            }
        xt_store_file f;
        xt_outbox_msg m = {
            .seq = sqlite3_column_int64(s, 0),
            .account = col(s, 1),
            .to = col(s, 2),
            .type = col(s, 3),
            .body = col(s, 4),
            .thread = col(s, 5),
            .origin_id = col(s, 6),
            .created_ms = sqlite3_column_int64(s, 7),
            .file = col_file(s, 8, &f),
        };
        if ((rc = fn(&m, ud)) != 0)
            break;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = fail_db(st, r, "cannot read the outbox");
    done(s);
    return rc;
}

static int64_t count_query(xt_store *st, enum stmt_id id, const char *account)
{
    sqlite3_stmt *s = stmt(st, id);
    int64_t n;

    if (!s)
        return XT_EIO;
    if (account)
        bind_text(s, 1, account);
    int r = sqlite3_step(s);
    n = r == SQLITE_ROW ? sqlite3_column_int64(s, 0) : fail_db(st, r, "cannot count");
    done(s);
    return n;
}

int64_t xt_outbox_count(xt_store *st, const char *account)
{
    if (!usable(st) || !account)
        return XT_EINVAL;
    return count_query(st, S_OUTBOX_COUNT, account);
}

/* --- the server's SASL offer ------------------------------------------------ */

int xt_store_sasl_hint_get(xt_store *st, const char *account, char **out)
{
    sqlite3_stmt *s;
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    if (!usable(st) || !account)
        return XT_EINVAL;
    if (!(s = stmt(st, S_HINT_GET)))
        return XT_EIO;
    bind_text(s, 1, account);
    int r = sqlite3_step(s), rc = 0;
    if (r == SQLITE_ROW) {
        if (!col_ok(s, 0))
            rc = XT_ENOMEM;
        else if (!(*out = xt_strdup(mem_of(st), col(s, 0))))
            rc = XT_ENOMEM;
    } else if (r != SQLITE_DONE) {
        rc = fail_db(st, r, "cannot read the server hint");
    }
    done(s);
    return rc;
}

int64_t xt_store_test_total_changes(xt_store *st)
{
    return usable(st) ? (int64_t)sqlite3_total_changes64(st->db) : XT_EINVAL;
}

int xt_store_test_exec(xt_store *st, const char *sql)
{
    return usable(st) ? exec(st, sql, "test") : XT_EINVAL;
}

int xt_store_sasl_hint_set(xt_store *st, const char *account, const char *hint)
{
    sqlite3_stmt *s;
    if (!usable(st) || !account || !hint)
        return XT_EINVAL;
    if (!(s = stmt(st, S_HINT_SET)))
        return XT_EIO;
    bind_text(s, 1, account);
    bind_text(s, 2, hint);
    return step_write(st, s, "cannot record the server hint");
}

/* --- the user agent and its FAST token -------------------------------------- */

/* One text column into a copy (NULL column = NULL). */
static int dup_col(xt_store *st, sqlite3_stmt *s, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return 0;
    if (!col_ok(s, i) || !(*out = xt_strdup(mem_of(st), col(s, i))))
        return XT_ENOMEM;
    return 0;
}

int xt_store_user_agent_id(xt_store *st, const char *account, char **out)
{
    sqlite3_stmt *s;
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    if (!usable(st) || !account)
        return XT_EINVAL;
    if (!(s = stmt(st, S_UA_ADD)))
        return XT_EIO;
    bind_text(s, 1, account);
    int rc = step_write(st, s, "cannot record the user agent");
    if (rc < 0)
        return rc;
    if (!(s = stmt(st, S_UA_GET)))
        return XT_EIO;
    bind_text(s, 1, account);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        rc = dup_col(st, s, 0, out);
    else
        rc = fail_db(st, r, "cannot read the user agent");
    done(s);
    return rc;
}

int xt_store_fast_token_get(xt_store *st, const char *account, char **mechanism, char **token,
                            char **expiry)
{
    sqlite3_stmt *s;
    if (!mechanism || !token)
        return XT_EINVAL;
    *mechanism = *token = NULL;
    if (expiry)
        *expiry = NULL;
    if (!usable(st) || !account)
        return XT_EINVAL;
    if (!(s = stmt(st, S_FAST_GET)))
        return XT_EIO;
    bind_text(s, 1, account);
    int r = sqlite3_step(s), rc = 0;
    if (r == SQLITE_ROW) {
        rc = dup_col(st, s, 0, mechanism);
        if (!rc)
            rc = dup_col(st, s, 1, token);
        if (!rc && expiry)
            rc = dup_col(st, s, 2, expiry);
        if (rc || !*mechanism || !*token) {
            xt_free(mem_of(st), *mechanism);
            xt_free_secret(mem_of(st), *token);
            *mechanism = *token = NULL;
            if (expiry) {
                xt_free(mem_of(st), *expiry);
                *expiry = NULL;
            }
        }
    } else if (r != SQLITE_DONE) {
        rc = fail_db(st, r, "cannot read the FAST token");
    }
    done(s);
    return rc;
}

int xt_store_fast_token_set(xt_store *st, const char *account, const char *mechanism,
                            const char *token, const char *expiry)
{
    sqlite3_stmt *s;
    if (!usable(st) || !account || (token && !mechanism))
        return XT_EINVAL;
    if (!(s = stmt(st, S_FAST_SET)))
        return XT_EIO;
    bind_text(s, 1, account);
    if (token) {
        bind_text(s, 2, mechanism);
        bind_text(s, 3, token);
        if (expiry)
            bind_text(s, 4, expiry);
        else
            sqlite3_bind_null(s, 4);
    } else {
        sqlite3_bind_null(s, 2);
        sqlite3_bind_null(s, 3);
        sqlite3_bind_null(s, 4);
    }
    return step_write(st, s, "cannot record the FAST token");
}

/* --- multi-device sync ------------------------------------------------------ */

int xt_store_caps_set(xt_store *st, const char *ver, const char *const *features, size_t n,
                      int64_t now_ms)
{
    sqlite3_stmt *s;
    if (!usable(st) || !valid_text(ver) || (n && !features))
        return XT_EINVAL;
    size_t len = 1;
    for (size_t i = 0; i < n; i++) {
        if (!features[i] || strchr(features[i], '\n'))
            return fail(st, XT_EINVAL, "caps: a feature with a newline");
        len += strlen(features[i]) + 1;
    }
    char *joined = xt_malloc(mem_of(st), len), *p = joined;
    if (!joined)
        return XT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(features[i]);
        memcpy(p, features[i], l);
        p += l;
        *p++ = '\n';
    }
    *p = '\0';
    int rc = XT_EIO;
    if ((s = stmt(st, S_CAPS_SET))) {
        bind_text(s, 1, ver);
        bind_text(s, 2, joined);
        sqlite3_bind_int64(s, 3, now_ms);
        rc = step_write(st, s, "cannot record caps");
    }
    xt_free(mem_of(st), joined);
    return rc;
}

int xt_store_caps_list(xt_store *st, size_t limit, xt_store_caps_fn fn, void *ud)
{
    sqlite3_stmt *s;
    if (!usable(st) || !fn)
        return XT_EINVAL;
    if (!(s = stmt(st, S_CAPS_LIST)))
        return XT_EIO;
    sqlite3_bind_int64(s, 1, limit ? (int64_t)limit : -1);
    int r, rc = 0;
    const char *v[256];
    while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW) {
        if (!col_ok(s, 0) || !col_ok(s, 1)) {
            rc = XT_ENOMEM;
            break;
        }
        /* Split in place of a copy: the column text is ours until the
         * next step. At most 256 features are handed over per ver. */
        char *copy = xt_strdup(mem_of(st), col(s, 1));
        if (!copy) {
            rc = XT_ENOMEM;
            break;
        }
        size_t n = 0;
        for (char *p = copy, *nl; n < 256 && (nl = strchr(p, '\n')); p = nl + 1) {
            *nl = '\0';
            v[n++] = p;
        }
        rc = fn(col(s, 0), v, n, ud);
        xt_free(mem_of(st), copy);
    }
    if (!rc && r != SQLITE_DONE)
        rc = fail_db(st, r, "cannot read caps");
    done(s);
    return rc;
}

int xt_store_archive_pos_get(xt_store *st, const char *account, const char *peer, char **out)
{
    sqlite3_stmt *s;
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    if (!usable(st) || !account)
        return XT_EINVAL;
    if (st->pos.id && strcmp(st->pos.account, account) == 0 &&
        strcmp(st->pos.peer, peer ? peer : "") == 0)
        return (*out = xt_strdup(mem_of(st), st->pos.id)) ? 0 : XT_ENOMEM;
    if (!(s = stmt(st, S_POS_GET)))
        return XT_EIO;
    bind_text(s, 1, account);
    bind_text(s, 2, peer ? peer : "");
    int r = sqlite3_step(s), rc = 0;
    if (r == SQLITE_ROW) {
        if (!col_ok(s, 0) || !(*out = xt_strdup(mem_of(st), col(s, 0))))
            rc = XT_ENOMEM;
    } else if (r != SQLITE_DONE) {
        rc = fail_db(st, r, "cannot read the archive position");
    }
    done(s);
    return rc;
}

/* A position written now: ordered (S_POS_ADVANCE, which keeps a newer
 * stored one) when order_ms > 0, else unordered (S_POS_SET). 1 when
 * written, 0 when the stored one was newer, or < 0. */
static int pos_write(xt_store *st, const char *account, const char *peer, const char *id,
                     int64_t order_ms)
{
    sqlite3_stmt *s;
    if (!(s = stmt(st, order_ms > 0 ? S_POS_ADVANCE : S_POS_SET)))
        return XT_EIO;
    bind_text(s, 1, account);
    bind_text(s, 2, peer ? peer : "");
    bind_text(s, 3, id);
    if (order_ms > 0)
        sqlite3_bind_int64(s, 4, order_ms);
    int rc = step_write(st, s, "cannot record the archive position");
    return rc < 0 ? rc : sqlite3_changes(st->db) > 0;
}

/* Inside a batch a position is kept until its commit (st->pos), only the
 * last one per conversation mattering (for advances: the newest in
 * archive order); another conversation's pending one is written first.
 * Outside a batch it is written at once. */
static int pos_put(xt_store *st, const char *account, const char *peer, const char *id,
                   int64_t order_ms)
{
    if (!peer)
        peer = "";
    if (st->depth == 0)
        return pos_write(st, account, peer, id, order_ms);
    if (st->pos.id && (strcmp(st->pos.account, account) != 0 || strcmp(st->pos.peer, peer) != 0)) {
        int rc = pos_flush(st);
        if (rc < 0)
            return rc;
    }
    if (st->pos.id && order_ms > 0 && st->pos.order_ms > order_ms)
        return 0; /* an older advance than the pending one */
    /* The id buffer is written over while it fits: listen moves the
     * position with every live message (no allocation per message). */
    size_t n = strlen(id);
    char *nid = st->pos.id;
    if (n >= st->pos.id_cap) {
        size_t cap = n < 64 ? 64 : n + 1;
        if (!(nid = xt_malloc(mem_of(st), cap)))
            return fail(st, XT_ENOMEM, "out of memory");
        xt_free(mem_of(st), st->pos.id);
        st->pos.id = NULL;
        st->pos.id_cap = cap;
    }
    memcpy(nid, id, n + 1);
    if (!st->pos.account) {
        st->pos.account = xt_strdup(mem_of(st), account);
        st->pos.peer = xt_strdup(mem_of(st), peer);
        if (!st->pos.account || !st->pos.peer) {
            xt_free(mem_of(st), nid);
            st->pos.id = NULL; /* nid was it, or was to be */
            pos_drop(st);
            return fail(st, XT_ENOMEM, "out of memory");
        }
    }
    st->pos.id = nid;
    st->pos.order_ms = order_ms;
    return 1;
}

int xt_store_archive_pos_set(xt_store *st, const char *account, const char *peer, const char *id)
{
    if (!usable(st) || !account || !valid_text(id))
        return XT_EINVAL;
    int rc = pos_put(st, account, peer, id, 0);
    return rc < 0 ? rc : 0;
}

int xt_store_archive_pos_advance(xt_store *st, const char *account, const char *peer,
                                 const char *id, int64_t order_ms)
{
    if (!usable(st) || !account || !valid_text(id) || order_ms <= 0)
        return XT_EINVAL;
    return pos_put(st, account, peer, id, order_ms);
}

/* --- deduplication ------------------------------------------------------- */

void xt_seen_set_limits(xt_store *st, int64_t retention_ms, int64_t cap, int prune_every)
{
    st->seen_retention_ms = retention_ms;
    st->seen_cap = cap;
    st->seen_prune_every = prune_every > 0 ? prune_every : 1;
}

int64_t xt_seen_count(xt_store *st)
{
    if (!usable(st))
        return XT_EINVAL;
    return count_query(st, S_SEEN_COUNT, NULL);
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static void seen_key_of(const unsigned char *k, uint64_t key[2])
{
    key[0] = get_le64(k);
    key[1] = get_le64(k + 8);
}

/* The record of one message: SipHash-1-3 of account, sender and id,
 * NUL-separated (none of them holds a NUL), under the file's key. */
static uint64_t seen_hash(const uint64_t key[2], const char *account, const char *sender,
                          const char *id, int *nomem)
{
    char stack[512], *buf = stack;
    size_t la = strlen(account), ls = strlen(sender), li = strlen(id);
    size_t n = la + ls + li + 2;
    if (n > sizeof stack && !(buf = malloc(n))) {
        *nomem = 1;
        return 0;
    }
    memcpy(buf, account, la);
    buf[la] = '\0';
    memcpy(buf + la + 1, sender, ls);
    buf[la + 1 + ls] = '\0';
    memcpy(buf + la + ls + 2, id, li);
    uint64_t h = xt_siphash(key, buf, n, 1, 3);
    if (buf != stack)
        free(buf);
    return h;
}

/* Drops the memory side: the next check reads the record again. */
static void seen_forget(xt_store *st)
{
    xt_seen_set_free(mem_of(st), &st->seen.set);
    st->seen.loaded = st->seen.synced = 0;
    st->seen.last_id = 0;
}

/* Adds a row's hashes (8 bytes each) to the set. */
static int seen_add_blob(xt_store *st, const unsigned char *b, size_t len)
{
    if (xt_seen_set_reserve(mem_of(st), &st->seen.set, len / 8) < 0)
        return fail(st, XT_ENOMEM, "out of memory reading the dedup record");
    for (size_t i = 0; i + 8 <= len; i += 8)
        (void)xt_seen_set_add(mem_of(st), &st->seen.set, get_le64(b + i));
    return 0;
}

/* Brings the set up to date with the table: all of it the first time,
 * then the rows other handles added since (inside a batch, under its
 * write lock, so nobody adds one meanwhile). */
static int seen_sync(xt_store *st)
{
    sqlite3_stmt *s;
    int r, rc = 0;

    if (!st->seen.loaded) {
        if (!(s = stmt(st, S_SEEN_KEY)))
            return XT_EIO;
        r = sqlite3_step(s);
        if (r == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 16)
            seen_key_of(sqlite3_column_blob(s, 0), st->seen.key);
        else
            rc = r == SQLITE_ROW || r == SQLITE_DONE
                     ? fail(st, XT_EIO, "the dedup record has no key")
                     : fail_db(st, r, "cannot read the dedup record");
        done(s);
        if (rc < 0)
            return rc;
        st->seen.loaded = 1;
        st->seen.last_id = 0;
    }
    if (!(s = stmt(st, S_SEEN_LOAD)))
        return XT_EIO;
    sqlite3_bind_int64(s, 1, st->seen.last_id);
    while (rc == 0 && (r = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        const unsigned char *b = sqlite3_column_blob(s, 1);
        int len = sqlite3_column_bytes(s, 1);
        if ((rc = seen_add_blob(st, b, b && len > 0 ? (size_t)len : 0)) == 0)
            st->seen.last_id = id;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = fail_db(st, r, "cannot read the dedup record");
    done(s);
    if (rc < 0)
        seen_forget(st); /* a part read: start over next time */
    return rc;
}

/* Rows up to id go: their hashes leave the set first. */
static int seen_drop_through(xt_store *st, int64_t id)
{
    sqlite3_stmt *s;
    int r, rc = 0;
    if (id <= 0)
        return 0;
    if (!(s = stmt(st, S_SEEN_OLD)))
        return XT_EIO;
    sqlite3_bind_int64(s, 1, id);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *b = sqlite3_column_blob(s, 0);
        int len = sqlite3_column_bytes(s, 0);
        for (int i = 0; b && i + 8 <= len; i += 8)
            xt_seen_set_del(&st->seen.set, get_le64(b + i));
    }
    if (r != SQLITE_DONE)
        rc = fail_db(st, r, "cannot prune the dedup record");
    done(s);
    st->seen.pruned = 1;
    if (rc < 0)
        return rc;
    if (!(s = stmt(st, S_SEEN_DROP)))
        return XT_EIO;
    sqlite3_bind_int64(s, 1, id);
    return step_write(st, s, "cannot prune the dedup record");
}

/* Rows older than the retention window, then the oldest beyond the cap
 * (whole rows: the table may keep up to one row's worth more). */
static int seen_prune(xt_store *st, int64_t now_ms)
{
    sqlite3_stmt *s;
    int64_t bound = 0;
    int r, rc;

    if (!(s = stmt(st, S_SEEN_AGE_BOUND)))
        return XT_EIO;
    sqlite3_bind_int64(s, 1, now_ms - st->seen_retention_ms);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        bound = sqlite3_column_int64(s, 0);
    rc = r == SQLITE_ROW ? 0 : fail_db(st, r, "cannot prune the dedup record");
    done(s);
    if (rc < 0 || (rc = seen_drop_through(st, bound)) < 0)
        return rc;
    if ((int64_t)st->seen.set.n <= st->seen_cap)
        return 0;
    /* Over the cap: the oldest rows whose hashes bring it back under. */
    int64_t excess = (int64_t)st->seen.set.n - st->seen_cap;
    bound = 0;
    if (!(s = stmt(st, S_SEEN_OLDEST)))
        return XT_EIO;
    while (excess > 0 && (r = sqlite3_step(s)) == SQLITE_ROW) {
        bound = sqlite3_column_int64(s, 0);
        excess -= sqlite3_column_int64(s, 1);
    }
    rc = excess <= 0 || r == SQLITE_DONE ? 0 : fail_db(st, r, "cannot prune the dedup record");
    done(s);
    return rc < 0 ? rc : seen_drop_through(st, bound);
}

/* Before the batch's COMMIT: its new hashes as one row. */
static int seen_flush(xt_store *st)
{
    sqlite3_stmt *s;
    int rc;
    size_t n = st->seen.npend;

    if (n == 0)
        return 0;
    if (n > (size_t)INT32_MAX / 8)
        return fail(st, XT_ETOOBIG, "dedup record: too many records in one batch");
    /* The hashes are stored little endian whatever the machine, so the
     * file can move; pend is rewritten in place (it is dropped after). */
    for (size_t i = 0; i < n; i++)
        put_le64((unsigned char *)&st->seen.pend[i], st->seen.pend[i]);
    st->seen.pend_le = 1;
    if (!(s = stmt(st, S_SEEN_ADD)))
        return XT_EIO;
    sqlite3_bind_int64(s, 1, st->seen.pend_ms);
    sqlite3_bind_int64(s, 2, (int64_t)n);
    sqlite3_bind_blob(s, 3, st->seen.pend, (int)(n * 8), SQLITE_STATIC);
    if ((rc = step_write(st, s, "cannot record the message as seen")) < 0)
        return rc;
    st->seen.row_id = sqlite3_last_insert_rowid(st->db);
    st->seen.adds += (int)(n < (size_t)INT32_MAX / 2 ? n : (size_t)INT32_MAX / 2);
    if (st->seen.adds >= st->seen_prune_every) {
        st->seen.adds = 0;
        return seen_prune(st, st->seen.pend_ms);
    }
    return 0;
}

/* The end of a transaction: committed, the set includes the batch's row;
 * rolled back, the batch's hashes leave the set again (not recorded, not
 * seen), and after a rolled-back prune the set is read again. */
static void seen_end(xt_store *st, int committed)
{
    if (committed && st->seen.row_id > 0) {
        st->seen.last_id = st->seen.row_id;
    } else if (!committed) {
        for (size_t i = 0; i < st->seen.npend; i++) {
            uint64_t h = st->seen.pend[i];
            xt_seen_set_del(&st->seen.set,
                            st->seen.pend_le ? get_le64((const unsigned char *)&h) : h);
        }
        if (st->seen.pruned)
            seen_forget(st);
    }
    st->seen.npend = 0;
    st->seen.pend_ms = 0;
    st->seen.row_id = 0;
    st->seen.pend_le = 0;
    st->seen.synced = 0;
    st->seen.pruned = 0;
}

/* Inside a batch: 1 seen, 0 new (kept for the commit), < 0 error. */
static int seen_check(xt_store *st, const char *account, const char *from_bare, const char *id,
                      int64_t now_ms)
{
    int rc, nomem = 0;
    if (!st->seen.synced) {
        if ((rc = seen_sync(st)) < 0) {
            st->failed = 1;
            return rc;
        }
        st->seen.synced = 1;
    }
    uint64_t h = seen_hash(st->seen.key, account, from_bare, id, &nomem);
    if (nomem)
        return fail(st, XT_ENOMEM, "out of memory");
    if (xt_seen_set_has(&st->seen.set, h))
        return 1;
    if (st->seen.npend == st->seen.cappend) {
        size_t ncap = st->seen.cappend ? st->seen.cappend * 2 : 64;
        uint64_t *np = xt_realloc(mem_of(st), st->seen.pend, ncap * sizeof *np);
        if (!np)
            return fail(st, XT_ENOMEM, "out of memory");
        st->seen.pend = np;
        st->seen.cappend = ncap;
    }
    if (xt_seen_set_add(mem_of(st), &st->seen.set, h) < 0)
        return fail(st, XT_ENOMEM, "out of memory");
    st->seen.pend[st->seen.npend++] = xt_seen_set_norm(h);
    if (now_ms > st->seen.pend_ms)
        st->seen.pend_ms = now_ms;
    return 0;
}

int xt_seen_check_add(xt_store *st, const char *account, const char *from_bare, const char *id,
                      int64_t now_ms)
{
    int rc, crc;

    if (!usable(st) || !valid_text(account) || !from_bare || !valid_text(id))
        return st ? fail(st, XT_EINVAL, "dedup: missing field") : XT_EINVAL;
    if (st->depth > 0)
        return seen_check(st, account, from_bare, id, now_ms);
    /* A check of its own: a relaxed batch (synchronous=NORMAL, as a
     * single dedup write always was), whose write lock makes the look
     * at other processes' records and the record of this one atomic. */
    if ((rc = begin(st, 0)) < 0)
        return rc;
    rc = seen_check(st, account, from_bare, id, now_ms);
    crc = xt_store_commit(st);
    return rc < 0 ? rc : crc < 0 ? crc : rc;
}

/* --- history ------------------------------------------------------------- */

int xt_history_add(xt_store *st, const xt_history_msg *m, int64_t *id_out)
{
    return xt_history_add_file(st, m, NULL, id_out);
}

int xt_history_add_file(xt_store *st, const xt_history_msg *m, const xt_store_file *file,
                        int64_t *id_out)
{
    sqlite3_stmt *s;
    int rc;

    if (!usable(st) || !m || !valid_text(m->account) || !valid_text(m->peer) || !m->from ||
        !m->body || (file && !valid_text(file->url)))
        return st ? fail(st, XT_EINVAL, "history: missing field") : XT_EINVAL;
    /* The line and its file together (a relaxed batch: history's loss
     * on power failure costs only a line, store.h). */
    if (file && (rc = xt_store_begin_relaxed(st)) < 0)
        return rc;
    if (!(s = stmt(st, S_HISTORY_ADD))) {
        rc = XT_EIO;
    } else {
        bind_text(s, 1, m->account);
        bind_text(s, 2, m->peer);
        bind_text(s, 3, m->from);
        bind_text(s, 4, m->body);
        bind_text(s, 5, m->stanza_id);
        sqlite3_bind_int(s, 6, m->outgoing ? 1 : 0);
        sqlite3_bind_int64(s, 7, m->ts_ms);
        rc = step_write(st, s, "cannot store the message in the history");
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if (rc == 0 && file)
        rc = add_file(st, S_HISTORY_FILE_ADD, id, file);
    if (rc == 0 && id_out)
        *id_out = id;
    if (file)
        rc = file_write_end(st, rc);
    return rc;
}

static int history_rows(xt_store *st, sqlite3_stmt *s, xt_history_fn fn, void *ud)
{
    int r, rc = 0;

    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        for (int i = 1; i <= 12; i++)
            if (i != 6 && i != 7 && i != 12 && !col_ok(s, i)) {
                done(s);
                return fail(st, XT_ENOMEM, "out of memory reading the history");
            }
        xt_store_file f;
        xt_history_msg m = {
            .id = sqlite3_column_int64(s, 0),
            .account = col(s, 1),
            .peer = col(s, 2),
            .from = col(s, 3),
            .body = col(s, 4),
            .stanza_id = col(s, 5),
            .outgoing = sqlite3_column_int(s, 6),
            .ts_ms = sqlite3_column_int64(s, 7),
            .file = col_file(s, 8, &f),
        };
        if ((rc = fn(&m, ud)) != 0)
            break;
    }
    if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = fail_db(st, r, "cannot read the history");
    done(s);
    return rc;
}

static int64_t clamp_limit(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

int xt_history_page(xt_store *st, const char *account, const char *peer, int64_t before_id,
                    size_t limit, xt_history_fn fn, void *ud)
{
    sqlite3_stmt *s;

    if (!usable(st) || !account || !peer || !fn)
        return XT_EINVAL;
    if (limit == 0)
        return 0;
    if (!(s = stmt(st, before_id > 0 ? S_HISTORY_PAGE_BEFORE : S_HISTORY_PAGE)))
        return XT_EIO;
    bind_text(s, 1, account);
    bind_text(s, 2, peer);
    sqlite3_bind_int64(s, 3, clamp_limit(limit));
    if (before_id > 0)
        sqlite3_bind_int64(s, 4, before_id);
    return history_rows(st, s, fn, ud);
}

/*
 * The search statement for a plan. An index drives when one applies
 * (rowid order, newest first, stopping at the limit): the trigram index
 * for the long terms, else the short-term index for the short non-ASCII
 * ones; the other terms (their LIKE patterns) and the account are checked
 * on the joined row. With short ASCII terms only there is no index to
 * use: the newest XT_SEARCH_SCAN_ROWS rows are scanned, newest first (the
 * bound holds the cost of a term found nowhere; store.h says it). The
 * unary + keeps the planner off the (account, peer, id) index, which
 * would read every row of the account and sort them.
 * ?1 account, ?2 trigram query, ?3 limit, ?4 scan bound, ?5 short-term
 * query, ?6.. the LIKE patterns.
 */
static int search_sql(const xt_fts_plan *p, char *sql, size_t cap)
{
    static const char cols[] = "SELECT h.id, h.account, h.peer, h.from_jid, h.body, h.stanza_id,"
                               " h.outgoing, h.ts_ms, hf.url, hf.descr, hf.name, hf.media_type,"
                               " hf.size";
    const char *order;
    int n;
    size_t o;

    if (*p->match) {
        n = snprintf(sql, cap,
                     "%s FROM history_fts f JOIN history h ON h.id = f.rowid"
                     " LEFT JOIN history_file hf ON hf.id = h.id"
                     " WHERE history_fts MATCH ?2 AND h.account = ?1",
                     cols);
        order = "f.rowid";
    } else if (*p->grams) {
        n = snprintf(sql, cap,
                     "%s FROM history_grams g JOIN history h ON h.id = g.rowid"
                     " LEFT JOIN history_file hf ON hf.id = h.id"
                     " WHERE history_grams MATCH ?5 AND h.account = ?1",
                     cols);
        order = "g.rowid";
    } else {
        n = snprintf(sql, cap,
                     "%s FROM history h LEFT JOIN history_file hf ON hf.id = h.id"
                     " WHERE h.id > (SELECT coalesce(max(id), 0) FROM history)"
                     " - ?4 AND +h.account = ?1",
                     cols);
        order = "h.id";
    }
    if (n < 0 || (size_t)n >= cap)
        return XT_ETOOBIG;
    o = (size_t)n;
    for (size_t i = 0; i < p->nlike; i++) {
        n = snprintf(sql + o, cap - o, " AND h.body LIKE ?%zu ESCAPE '\\'", i + 6);
        if (n < 0 || (size_t)n >= cap - o)
            return XT_ETOOBIG;
        o += (size_t)n;
    }
    n = snprintf(sql + o, cap - o, " ORDER BY %s DESC LIMIT ?3", order);
    return n < 0 || (size_t)n >= cap - o ? XT_ETOOBIG : 0;
}

int xt_history_search(xt_store *st, const char *account, const char *text, size_t limit,
                      xt_history_fn fn, void *ud)
{
    sqlite3_stmt *s = NULL;
    xt_fts_plan p;
    char sql[2048]; /* the joins and up to XT_SEARCH_MAX_SHORT LIKE patterns */
    int rc;

    if (!usable(st) || !account || !text || !fn)
        return XT_EINVAL;
    if (limit == 0)
        return 0;
    if (xt_fts_plan_make(mem_of(st), text, &p) < 0)
        return fail(st, XT_ENOMEM, "out of memory building the search");
    if (!*p.match && p.nlike == 0) {
        /* Nothing searchable (only punctuation or spaces): no match. */
        xt_fts_plan_free(mem_of(st), &p);
        return 0;
    }
    if ((rc = search_sql(&p, sql, sizeof sql)) < 0) {
        xt_fts_plan_free(mem_of(st), &p);
        return fail(st, rc, "search too long");
    }
    int r = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (r != SQLITE_OK) {
        rc = fail_db(st, r, "cannot prepare the search");
    } else {
        bind_text(s, 1, account);
        if (*p.match)
            bind_text(s, 2, p.match);
        sqlite3_bind_int64(s, 3, clamp_limit(limit));
        sqlite3_bind_int64(s, 4, XT_SEARCH_SCAN_ROWS);
        if (*p.grams)
            bind_text(s, 5, p.grams);
        for (size_t i = 0; i < p.nlike; i++)
            bind_text(s, (int)i + 6, p.like[i]);
        rc = history_rows(st, s, fn, ud);
    }
    sqlite3_finalize(s);
    xt_fts_plan_free(mem_of(st), &p);
    return rc;
}
