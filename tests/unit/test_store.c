/* Unit tests: the SQLite store (outbox, dedup record, history + search). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/mem.h"
#include "store/seen_set.h"
#include "store/store_int.h"

/* ---- a temporary directory per test ---- */

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/xt_store_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *db_path(const char *name)
{
    static char p[320];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static xt_store *open_ok(const char *name)
{
    xt_store *st = NULL;
    int rc = xt_store_open(db_path(name), NULL, &st);
    if (rc != 0) {
        char why[300];
        snprintf(why, sizeof why, "%s", xt_store_errdetail(st));
        xt_store_close(st);
        fail_msg("open: %s: %s", xt_strerror(rc), why);
    }
    return st;
}

static xt_outbox_msg msg(const char *to, const char *body, const char *oid)
{
    return (xt_outbox_msg){.account = "alice@localhost",
                           .to = to,
                           .type = "chat",
                           .body = body,
                           .origin_id = oid};
}

/* ---- outbox ---- */

struct collect {
    int n;
    char ids[64][64];
    char bodies[64][256];
    int64_t seqs[64];
    int stop_at;
};

static int collect_outbox(const xt_outbox_msg *m, void *ud)
{
    struct collect *c = ud;
    if (c->n < 64) {
        snprintf(c->ids[c->n], sizeof c->ids[0], "%s", m->origin_id);
        snprintf(c->bodies[c->n], sizeof c->bodies[0], "%s", m->body);
        c->seqs[c->n] = m->seq;
    }
    c->n++;
    return c->stop_at && c->n >= c->stop_at ? 42 : 0;
}

static void test_outbox(void **state)
{
    (void)state;
    xt_store *st = open_ok("a.db");
    int64_t s1 = 0, s2 = 0, s3 = 0;
    xt_outbox_msg m = msg("bob@localhost", "one", "id-1");
    m.thread = "th";
    m.created_ms = 1234;
    assert_int_equal(xt_outbox_add(st, &m, &s1), 0);
    m = msg("bob@localhost", "two", "id-2");
    assert_int_equal(xt_outbox_add(st, &m, &s2), 0);
    m = msg("carol@localhost", "three \"quoted\" 😀", "id-3");
    assert_int_equal(xt_outbox_add(st, &m, &s3), 0);
    assert_true(s1 < s2 && s2 < s3);
    /* origin-id is unique per account... */
    m = msg("bob@localhost", "dup", "id-1");
    assert_int_equal(xt_outbox_add(st, &m, NULL), XT_EIO);
    assert_non_null(strstr(xt_store_errdetail(st), "UNIQUE"));
    /* ...but not across accounts. */
    m.account = "other@localhost";
    assert_int_equal(xt_outbox_add(st, &m, NULL), 0);
    assert_int_equal(xt_outbox_count(st, "alice@localhost"), 3);
    assert_int_equal(xt_outbox_count(st, "other@localhost"), 1);
    assert_int_equal(xt_outbox_count(st, "nobody@localhost"), 0);

    struct collect c = {0};
    assert_int_equal(xt_outbox_list(st, "alice@localhost", collect_outbox, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.ids[0], "id-1");
    assert_string_equal(c.ids[1], "id-2");
    assert_string_equal(c.bodies[2], "three \"quoted\" 😀");
    /* The callback's non-zero value stops the listing and is returned. */
    struct collect c2 = {.stop_at = 2};
    assert_int_equal(xt_outbox_list(st, "alice@localhost", collect_outbox, &c2), 42);
    assert_int_equal(c2.n, 2);

    assert_int_equal(xt_outbox_remove(st, "alice@localhost", "id-2"), 0);
    assert_int_equal(xt_outbox_remove(st, "alice@localhost", "id-2"), XT_ENOTFOUND);
    assert_int_equal(xt_outbox_remove(st, "other@localhost", "id-3"), XT_ENOTFOUND);
    assert_int_equal(xt_outbox_count(st, "alice@localhost"), 2);

    /* Missing fields are refused, not stored. */
    m = msg("bob@localhost", "x", NULL);
    assert_int_equal(xt_outbox_add(st, &m, NULL), XT_EINVAL);
    m = msg(NULL, "x", "id-9");
    assert_int_equal(xt_outbox_add(st, &m, NULL), XT_EINVAL);
    assert_int_equal(xt_outbox_add(NULL, &m, NULL), XT_EINVAL);
    assert_int_equal(xt_outbox_list(st, "alice@localhost", NULL, NULL), XT_EINVAL);
    xt_store_close(st);

    /* Persistence: a new handle sees what the last one committed. */
    st = open_ok("a.db");
    struct collect c3 = {0};
    assert_int_equal(xt_outbox_list(st, "alice@localhost", collect_outbox, &c3), 0);
    assert_int_equal(c3.n, 2);
    assert_string_equal(c3.ids[0], "id-1");
    assert_string_equal(c3.ids[1], "id-3");
    assert_true(c3.seqs[0] == s1 && c3.seqs[1] == s3);
    xt_store_close(st);
    xt_store_close(NULL);
}

static void test_batch(void **state)
{
    (void)state;
    xt_store *st = open_ok("b.db");
    char id[32];

    assert_int_equal(xt_store_begin(st), 0);
    assert_int_equal(xt_store_begin(st), 0); /* nested */
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "b-%d", i);
        xt_outbox_msg m = msg("bob@localhost", "line", id);
        assert_int_equal(xt_outbox_add(st, &m, NULL), 0);
    }
    assert_int_equal(xt_store_commit(st), 0); /* inner: nothing yet */
    /* A second handle does not see the uncommitted batch. */
    xt_store *other = open_ok("b.db");
    assert_int_equal(xt_outbox_count(other, "alice@localhost"), 0);
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_outbox_count(other, "alice@localhost"), 100);
    assert_int_equal(xt_store_commit(st), XT_ESTATE);

    /* A failed write makes the whole batch roll back. */
    assert_int_equal(xt_store_begin(st), 0);
    xt_outbox_msg m = msg("bob@localhost", "new", "fresh");
    assert_int_equal(xt_outbox_add(st, &m, NULL), 0);
    m = msg("bob@localhost", "dup", "b-1");
    assert_int_equal(xt_outbox_add(st, &m, NULL), XT_EIO);
    assert_int_equal(xt_store_commit(st), XT_EIO);
    assert_int_equal(xt_outbox_count(other, "alice@localhost"), 100);
    assert_int_equal(xt_outbox_count(st, "alice@localhost"), 100);

    /* Closing inside a batch rolls it back. */
    assert_int_equal(xt_store_begin(st), 0);
    m = msg("bob@localhost", "lost", "lost-1");
    assert_int_equal(xt_outbox_add(st, &m, NULL), 0);
    xt_store_close(st);
    assert_int_equal(xt_outbox_count(other, "alice@localhost"), 100);
    xt_store_close(other);
}

/* A full disk (SQLite's max_page_count) in the middle of a batch: the
 * caller rolls back with xt_store_rollback, nothing of the batch stays,
 * and the detail still names the cause, not the rollback. */
static void test_full_disk_rollback(void **state)
{
    (void)state;
    xt_store *st = open_ok("full.db");
    static char body[64 * 1024];
    char id[32];
    int rc = 0, n = 0;

    memset(body, 'x', sizeof body - 1);
    xt_outbox_msg m = msg("bob@localhost", "before", "keep-1");
    assert_int_equal(xt_outbox_add(st, &m, NULL), 0);
    /* Room for a few pages more than the file has now. */
    assert_int_equal(xt_store_test_exec(st, "PRAGMA max_page_count = 40"), 0);
    assert_int_equal(xt_store_begin(st), 0);
    for (n = 0; n < 100 && rc == 0; n++) {
        snprintf(id, sizeof id, "big-%d", n);
        m = msg("bob@localhost", body, id);
        rc = xt_outbox_add(st, &m, NULL);
    }
    assert_int_equal(rc, XT_EIO);
    assert_true(n > 0 && n < 100);
    assert_non_null(strstr(xt_store_errdetail(st), "full"));
    assert_int_equal(xt_store_rollback(st), 0);
    assert_non_null(strstr(xt_store_errdetail(st), "full"));
    assert_int_equal(xt_outbox_count(st, "alice@localhost"), 1);
    /* The batch is over: a commit or a second rollback is out of place. */
    assert_int_equal(xt_store_commit(st), XT_ESTATE);
    assert_int_equal(xt_store_rollback(st), XT_ESTATE);
    assert_int_equal(xt_store_rollback(NULL), XT_EINVAL);

    /* Nested: the rollback ends the whole batch; the outer commit has
     * nothing left to commit. */
    assert_int_equal(xt_store_test_exec(st, "PRAGMA max_page_count = 100000"), 0);
    assert_int_equal(xt_store_begin(st), 0);
    assert_int_equal(xt_store_begin(st), 0);
    m = msg("bob@localhost", "inner", "inner-1");
    assert_int_equal(xt_outbox_add(st, &m, NULL), 0);
    assert_int_equal(xt_store_rollback(st), 0);
    assert_int_equal(xt_store_commit(st), XT_ESTATE);
    assert_int_equal(xt_outbox_count(st, "alice@localhost"), 1);

    /* Without an explicit rollback, the commit after a failed write rolls
     * back and keeps the write's detail (it used to overwrite it with "the
     * batch was rolled back after an earlier error"). */
    assert_int_equal(xt_store_test_exec(st, "PRAGMA max_page_count = 40"), 0);
    assert_int_equal(xt_store_begin(st), 0);
    rc = 0;
    for (n = 0; n < 100 && rc == 0; n++) {
        snprintf(id, sizeof id, "big2-%d", n);
        m = msg("bob@localhost", body, id);
        rc = xt_outbox_add(st, &m, NULL);
    }
    assert_int_equal(rc, XT_EIO);
    assert_int_equal(xt_store_commit(st), XT_EIO);
    assert_non_null(strstr(xt_store_errdetail(st), "full"));
    assert_null(strstr(xt_store_errdetail(st), "rolled back"));
    assert_int_equal(xt_outbox_count(st, "alice@localhost"), 1);
    xt_store_close(st);
}

/* Two handles (as two processes) write concurrently: the busy timeout
 * serializes them; nothing is lost. */
static void test_two_handles(void **state)
{
    (void)state;
    xt_store *a = open_ok("c.db"), *b = open_ok("c.db");
    char id[32];
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "a-%d", i);
        xt_outbox_msg m = msg("bob@localhost", "x", id);
        assert_int_equal(xt_outbox_add(a, &m, NULL), 0);
        snprintf(id, sizeof id, "b-%d", i);
        m.origin_id = id;
        assert_int_equal(xt_outbox_add(b, &m, NULL), 0);
        assert_int_equal(xt_seen_check_add(a, "alice@localhost", "bob@localhost", id, 1000), 0);
        assert_int_equal(xt_seen_check_add(b, "alice@localhost", "bob@localhost", id, 1000), 1);
    }
    assert_int_equal(xt_outbox_count(a, "alice@localhost"), 100);
    assert_int_equal(xt_outbox_count(b, "alice@localhost"), 100);
    xt_store_close(a);
    xt_store_close(b);

    /* Real processes: a child and the parent both write 200 rows. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    xt_store *st = open_ok("d.db");
    const char *who = pid == 0 ? "child" : "parent";
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "%s-%d", who, i);
        xt_outbox_msg m = msg("bob@localhost", "x", id);
        if (i % 10 == 0 && xt_store_begin(st) != 0)
            bad++;
        if (xt_outbox_add(st, &m, NULL) != 0)
            bad++;
        if (i % 10 == 9 && xt_store_commit(st) != 0)
            bad++;
    }
    xt_store_close(st);
    if (pid == 0)
        _exit(bad ? 1 : 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(bad, 0);
    st = open_ok("d.db");
    assert_int_equal(xt_outbox_count(st, "alice@localhost"), 400);
    xt_store_close(st);
}

/* ---- open, schema, errors ---- */

static void test_open_errors(void **state)
{
    (void)state;
    xt_store *st = NULL;

    assert_int_equal(xt_store_open("/nonexistent-dir/x/y.db", NULL, &st), XT_EIO);
    assert_non_null(st);
    assert_non_null(strstr(xt_store_errdetail(st), "/nonexistent-dir/x/y.db"));
    assert_non_null(strstr(xt_store_errdetail(st), "unable to open"));
    assert_int_equal(xt_outbox_count(st, "a@b"), XT_EINVAL); /* a failed handle refuses work */
    xt_store_close(st);

    /* A file that is not a database is refused and left alone. */
    const char *p = db_path("text.db");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("this is not a database, do not clobber it\n", f);
    fclose(f);
    st = NULL;
    assert_int_equal(xt_store_open(p, NULL, &st), XT_EIO);
    assert_non_null(strstr(xt_store_errdetail(st), "not a database"));
    xt_store_close(st);
    char buf[64] = {0};
    f = fopen(p, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "this is not a database, do not clobber it\n");

    assert_int_equal(xt_store_open("", NULL, &st), XT_EINVAL);
    xt_store_close(st);
    assert_int_equal(xt_store_open(p, NULL, NULL), XT_EINVAL);
    assert_string_equal(xt_store_errdetail(NULL), "");
}

/* ---- private files (issue 12 item 8) ---- */

static unsigned mode_of(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("stat %s: %s", path, strerror(errno));
    return (unsigned)(st.st_mode & 07777);
}

static const char *sub_path(const char *dir, const char *name)
{
    static char p[420];
    snprintf(p, sizeof p, "%.350s/%.60s", dir, name);
    return p;
}

/* Opens path, writes a row (so the -wal and -shm exist), checks all three
 * are 0600 while open. */
static void open_write_check(const char *path)
{
    xt_store *st = NULL;
    char f[420];
    int rc = xt_store_open(path, NULL, &st);
    if (rc != 0)
        fail_msg("open %s: %s", path, xt_store_errdetail(st));
    static int n;
    char oid[16];
    snprintf(oid, sizeof oid, "o%d", ++n);
    xt_outbox_msg m = msg("bob@localhost", "secret", oid);
    if ((rc = xt_outbox_add(st, &m, NULL)) != 0)
        fail_msg("add %s: %s", path, xt_store_errdetail(st));
    assert_int_equal(mode_of(path), 0600);
    snprintf(f, sizeof f, "%s-wal", path);
    assert_int_equal(mode_of(f), 0600);
    snprintf(f, sizeof f, "%s-shm", path);
    assert_int_equal(mode_of(f), 0600);
    xt_store_close(st);
}

static void test_private_files(void **state)
{
    (void)state;
    char dir[400];
    /* Whatever the umask lets through: the files are still private. */
    mode_t old = umask(0);

    /* A new store in an existing 0755 directory (a data directory made
     * by another program, or any --store path). */
    snprintf(dir, sizeof dir, "%s", db_path("pub"));
    assert_int_equal(mkdir(dir, 0755), 0);
    open_write_check(sub_path(dir, "new.db"));

    /* An existing 0644 store (made by an older xtalk) and a 0644 -wal
     * left behind: made private on open. */
    char p[420], w[440];
    snprintf(p, sizeof p, "%s", sub_path(dir, "new.db"));
    assert_int_equal(chmod(p, 0644), 0);
    snprintf(w, sizeof w, "%s-wal", p);
    FILE *f = fopen(w, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(w, 0644), 0);
    open_write_check(p);

    /* A directory everyone may write is refused, unless sticky (/tmp). */
    snprintf(dir, sizeof dir, "%s", db_path("open"));
    assert_int_equal(mkdir(dir, 0777), 0);
    xt_store *st = NULL;
    assert_int_equal(xt_store_open(sub_path(dir, "x.db"), NULL, &st), XT_EIO);
    assert_non_null(strstr(xt_store_errdetail(st), "writable by every user"));
    xt_store_close(st);
    assert_int_equal(access(sub_path(dir, "x.db"), F_OK), -1); /* nothing created */
    /* ... and so is any directory above it: whoever may write there can
     * swap the private directory below for their own. */
    char below[420];
    snprintf(below, sizeof below, "%s", sub_path(dir, "private"));
    assert_int_equal(mkdir(below, 0700), 0);
    assert_int_equal(xt_store_open(sub_path(below, "x.db"), NULL, &st), XT_EIO);
    assert_non_null(strstr(xt_store_errdetail(st), "writable by every user"));
    assert_non_null(strstr(xt_store_errdetail(st), "/open "));
    xt_store_close(st);
    assert_int_equal(chmod(dir, 01777), 0);
    open_write_check(sub_path(dir, "x.db"));
    open_write_check(sub_path(below, "x.db"));

    /* A file that is not a database keeps its mode (and is refused). */
    snprintf(p, sizeof p, "%s", db_path("notes.txt"));
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("my notes\n", f);
    fclose(f);
    assert_int_equal(xt_store_open(p, NULL, &st), XT_EIO);
    xt_store_close(st);
    assert_int_equal(mode_of(p), 0666);

    /* Another user's store, or another user's symlink: refused. Needs
     * root to give a file away; skipped otherwise. */
    if (geteuid() == 0) {
        snprintf(p, sizeof p, "%s", db_path("theirs.db"));
        open_write_check(p);
        assert_int_equal(chown(p, 65534, 65534), 0);
        assert_int_equal(xt_store_open(p, NULL, &st), XT_EIO);
        assert_non_null(strstr(xt_store_errdetail(st), "belongs to user 65534"));
        xt_store_close(st);
        snprintf(w, sizeof w, "%s", db_path("link.db"));
        assert_int_equal(symlink(db_path("mine.db"), w), 0);
        assert_int_equal(lchown(w, 65534, 65534), 0);
        assert_int_equal(xt_store_open(w, NULL, &st), XT_EIO);
        assert_non_null(strstr(xt_store_errdetail(st), "symbolic link"));
        xt_store_close(st);
    }
    umask(old);
}

static void test_schema(void **state)
{
    (void)state;
    /* An existing empty file (0 bytes) is migrated from nothing. */
    const char *p = db_path("empty.db");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    xt_store *st = open_ok("empty.db");
    xt_store_close(st);

    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), XT_STORE_SCHEMA_VERSION);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE); /* exactly one row */
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    /* A file from a newer xtalk is refused, not downgraded. */
    assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    st = NULL;
    assert_int_equal(xt_store_open(p, NULL, &st), XT_EUNSUPPORTED);
    assert_non_null(strstr(xt_store_errdetail(st), "newer"));
    xt_store_close(st);

    /* Reopening a current file changes nothing (idempotent migration). */
    st = open_ok("again.db");
    xt_outbox_msg m = msg("bob@localhost", "keep", "k1");
    assert_int_equal(xt_outbox_add(st, &m, NULL), 0);
    xt_store_close(st);
    for (int i = 0; i < 3; i++) {
        st = open_ok("again.db");
        assert_int_equal(xt_outbox_count(st, "alice@localhost"), 1);
        xt_store_close(st);
    }
}

/* ---- the server's SASL offer ---- */

struct caps_seen {
    int n;
    char ver[64];
    size_t nf;
    char f1[64];
};

static int on_caps(const char *ver, const char *const *f, size_t n, void *ud)
{
    struct caps_seen *c = ud;
    if (c->n++ == 0) {
        snprintf(c->ver, sizeof c->ver, "%s", ver);
        c->nf = n;
        snprintf(c->f1, sizeof c->f1, "%s", n > 1 ? f[1] : "");
    }
    return 0;
}

/* Schema 5: verified caps and archive positions survive a reopen. */
static void test_sync_state(void **state)
{
    (void)state;
    xt_store *st = open_ok("sync.db");
    const char *f[] = {"http://jabber.org/protocol/caps", "urn:xmpp:receipts"};
    assert_int_equal(xt_store_caps_set(st, "QgayPKawpkPSDYmwT/WM94uAlu0=", f, 2, 1000), 0);
    assert_int_equal(xt_store_caps_set(st, "older=", f, 1, 500), 0);
    const char *bad[] = {"a\nb"};
    assert_int_equal(xt_store_caps_set(st, "x=", bad, 1, 1), XT_EINVAL);
    char *p = NULL;
    assert_int_equal(xt_store_archive_pos_get(st, "alice@localhost", NULL, &p), 0);
    assert_null(p);
    assert_int_equal(xt_store_archive_pos_set(st, "alice@localhost", NULL, "A1"), 0);
    assert_int_equal(xt_store_archive_pos_set(st, "alice@localhost", NULL, "A2"), 0);
    assert_int_equal(xt_store_archive_pos_set(st, "alice@localhost", "bob@localhost", "B7"), 0);
    assert_int_equal(xt_store_archive_pos_set(st, "alice@localhost", NULL, ""), XT_EINVAL);
    xt_store_close(st);
    st = open_ok("sync.db");
    struct caps_seen c = {0};
    assert_int_equal(xt_store_caps_list(st, 0, on_caps, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.ver, "QgayPKawpkPSDYmwT/WM94uAlu0="); /* the newest first */
    assert_int_equal(c.nf, 2);
    assert_string_equal(c.f1, "urn:xmpp:receipts");
    c.n = 0;
    assert_int_equal(xt_store_caps_list(st, 1, on_caps, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(xt_store_archive_pos_get(st, "alice@localhost", "", &p), 0);
    assert_string_equal(p, "A2");
    free(p);
    assert_int_equal(xt_store_archive_pos_get(st, "alice@localhost", "bob@localhost", &p), 0);
    assert_string_equal(p, "B7");
    free(p);
    assert_int_equal(xt_store_archive_pos_get(st, "bob@localhost", NULL, &p), 0);
    assert_null(p);
    xt_store_close(st);
}

/* The order kept in the test ids below: "P<order>". */
static long pos_order(xt_store *st)
{
    char *p = NULL;
    if (xt_store_archive_pos_get(st, "alice@localhost", NULL, &p) != 0 || !p)
        return -1;
    long o = strtol(p + 1, NULL, 10);
    free(p);
    return o;
}

/* Schema 7: two writers of one account's archive position (listen and
 * chat) keep it moving forward by archive order, whatever order their
 * writes land in. */
static void test_archive_pos_two_writers(void **state)
{
    (void)state;
    xt_store *a = open_ok("pos.db"), *b = open_ok("pos.db");
    /* a saw a live message (its order: the local clock), b's catch-up is
     * still on older pages: b's page end must not move it back. */
    assert_int_equal(xt_store_archive_pos_advance(a, "alice@localhost", NULL, "P2000", 2000), 1);
    assert_int_equal(xt_store_archive_pos_advance(b, "alice@localhost", NULL, "P1000", 1000), 0);
    assert_int_equal(pos_order(a), 2000);
    /* b's next page is newer: it moves; a's late write of an older id does not. */
    assert_int_equal(xt_store_archive_pos_advance(b, "alice@localhost", NULL, "P3000", 3000), 1);
    assert_int_equal(xt_store_archive_pos_advance(a, "alice@localhost", NULL, "P2500", 2500), 0);
    assert_int_equal(pos_order(b), 3000);
    /* Equal stamps (archive stamps tie within a second) replace. */
    assert_int_equal(xt_store_archive_pos_advance(a, "alice@localhost", NULL, "P3000b", 3000), 1);
    assert_int_equal(xt_store_archive_pos_advance(a, "alice@localhost", NULL, "P1", 0), XT_EINVAL);
    /* An unordered _set is replaced by any advance; per-peer ones are apart. */
    assert_int_equal(xt_store_archive_pos_set(b, "alice@localhost", NULL, "P5"), 0);
    assert_int_equal(xt_store_archive_pos_advance(a, "alice@localhost", NULL, "P6", 6), 1);
    assert_int_equal(pos_order(a), 6);
    xt_store_close(b);
    xt_store_close(a);

    /* Two processes racing, each with its own handle, writing interleaved
     * orders (one the odd, one the even, in rising order each): every
     * read after a write sees an order at least as new as the last one
     * seen, and the end is the newest of both. */
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            xt_store *st = NULL;
            if (xt_store_open(db_path("pos.db"), NULL, &st) != 0)
                _exit(2);
            long seen = 0;
            for (long i = 1; i <= 400; i++) {
                long order = 10 + 2 * i + k;
                char id[32];
                snprintf(id, sizeof id, "P%ld", order);
                if (xt_store_archive_pos_advance(st, "alice@localhost", NULL, id, order) < 0)
                    _exit(3);
                long now = pos_order(st);
                if (now < seen || now < order)
                    _exit(4); /* moved backwards, or lost our newer write */
                seen = now;
            }
            xt_store_close(st);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    a = open_ok("pos.db");
    assert_int_equal(pos_order(a), 10 + 2 * 400 + 1);
    xt_store_close(a);
}

static void test_sasl_hint(void **state)
{
    (void)state;
    xt_store *st = open_ok("hint.db");
    char untouched[] = "untouched";
    char *h = untouched;
    assert_int_equal(xt_store_sasl_hint_get(st, "alice@localhost", &h), 0);
    assert_null(h); /* none recorded */
    assert_int_equal(xt_store_sasl_hint_set(st, "alice@localhost", "SCRAM-SHA-1 PLAIN"), 0);
    assert_int_equal(xt_store_sasl_hint_set(st, "bob@localhost", "SCRAM-SHA-256"), 0);
    /* replaced, not added; the same again writes nothing */
    assert_int_equal(xt_store_sasl_hint_set(st, "alice@localhost", "SCRAM-SHA-256 cb:"), 0);
    int64_t before = xt_store_test_total_changes(st);
    assert_int_equal(xt_store_sasl_hint_set(st, "alice@localhost", "SCRAM-SHA-256 cb:"), 0);
    assert_int_equal(xt_store_test_total_changes(st), before);
    xt_store_close(st);
    st = open_ok("hint.db");
    assert_int_equal(xt_store_sasl_hint_get(st, "alice@localhost", &h), 0);
    assert_string_equal(h, "SCRAM-SHA-256 cb:");
    free(h);
    assert_int_equal(xt_store_sasl_hint_get(st, "bob@localhost", &h), 0);
    assert_string_equal(h, "SCRAM-SHA-256");
    free(h);
    assert_int_equal(xt_store_sasl_hint_get(st, NULL, &h), XT_EINVAL);
    assert_int_equal(xt_store_sasl_hint_set(st, "alice@localhost", NULL), XT_EINVAL);
    xt_store_close(st);

    /* A version 1 file (before the table existed) is migrated, its rows kept. */
    const char *p = db_path("v1.db");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE schema_version(version INTEGER NOT NULL);"
                                  "INSERT INTO schema_version VALUES(1);"
                                  "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                                  " account TEXT NOT NULL, to_jid TEXT NOT NULL, type TEXT NOT NULL,"
                                  " body TEXT NOT NULL, thread TEXT, origin_id TEXT NOT NULL,"
                                  " created_ms INTEGER NOT NULL, UNIQUE(account, origin_id));"
                                  "INSERT INTO outbox(account, to_jid, type, body, origin_id,"
                                  " created_ms) VALUES('alice@localhost', 'bob@localhost', 'chat',"
                                  " 'old', 'o1', 1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    st = open_ok("v1.db");
    assert_int_equal(xt_outbox_count(st, "alice@localhost"), 1);
    assert_int_equal(xt_store_sasl_hint_set(st, "alice@localhost", "SCRAM-SHA-1"), 0);
    xt_store_close(st);
}

/* ---- the user agent and its FAST token ---- */

static void test_fast_token(void **state)
{
    (void)state;
    xt_store *st = open_ok("fast.db");
    char *ua = NULL, *ua2 = NULL, *m = NULL, *t = NULL, *e = NULL;
    /* No user agent yet: nothing kept, and a token is not written. */
    assert_int_equal(xt_store_fast_token_set(st, "alice@localhost", "HT-SHA-256-EXPR", "tok", NULL),
                     0);
    assert_int_equal(xt_store_fast_token_get(st, "alice@localhost", &m, &t, &e), 0);
    assert_null(m);
    assert_null(t);
    assert_null(e);
    /* One id per account, made once: a UUID (version 4, variant 10). */
    assert_int_equal(xt_store_user_agent_id(st, "alice@localhost", &ua), 0);
    assert_non_null(ua);
    assert_int_equal(strlen(ua), 36);
    assert_int_equal(ua[8], '-');
    assert_int_equal(ua[14], '4');
    assert_non_null(strchr("89ab", ua[19]));
    assert_int_equal(xt_store_user_agent_id(st, "alice@localhost", &ua2), 0);
    assert_string_equal(ua, ua2);
    free(ua2);
    assert_int_equal(xt_store_user_agent_id(st, "bob@localhost", &ua2), 0);
    assert_string_not_equal(ua, ua2);
    free(ua2);
    assert_int_equal(xt_store_fast_token_set(st, "alice@localhost", "HT-SHA-256-EXPR",
                                             "secret-token:fast-1", "2030-01-01T00:00:00Z"),
                     0);
    xt_store_close(st);
    st = open_ok("fast.db");
    assert_int_equal(xt_store_fast_token_get(st, "alice@localhost", &m, &t, &e), 0);
    assert_string_equal(m, "HT-SHA-256-EXPR");
    assert_string_equal(t, "secret-token:fast-1");
    assert_string_equal(e, "2030-01-01T00:00:00Z");
    free(m), free(t), free(e);
    /* Bob's account has its id but no token. */
    assert_int_equal(xt_store_fast_token_get(st, "bob@localhost", &m, &t, NULL), 0);
    assert_null(t);
    /* Rotation replaces; refusal deletes; the id stays. */
    assert_int_equal(
        xt_store_fast_token_set(st, "alice@localhost", "HT-SHA-256-EXPR", "secret-token:2", NULL),
        0);
    assert_int_equal(xt_store_fast_token_get(st, "alice@localhost", &m, &t, &e), 0);
    assert_string_equal(t, "secret-token:2");
    assert_null(e);
    free(m), free(t);
    assert_int_equal(xt_store_fast_token_set(st, "alice@localhost", NULL, NULL, NULL), 0);
    assert_int_equal(xt_store_fast_token_get(st, "alice@localhost", &m, &t, &e), 0);
    assert_null(t);
    assert_int_equal(xt_store_user_agent_id(st, "alice@localhost", &ua2), 0);
    assert_string_equal(ua, ua2);
    free(ua2);
    free(ua);
    assert_int_equal(xt_store_fast_token_set(st, "alice@localhost", NULL, "tok", NULL), XT_EINVAL);
    assert_int_equal(xt_store_fast_token_get(st, NULL, &m, &t, NULL), XT_EINVAL);
    assert_int_equal(xt_store_user_agent_id(st, NULL, &ua), XT_EINVAL);
    xt_store_close(st);
}

/* ---- dedup ---- */

static void test_seen(void **state)
{
    (void)state;
    xt_store *st = open_ok("s.db");
    const char *me = "alice@localhost";
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "m1", 1000), 0);
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "m1", 2000), 1);
    /* The same id from another sender, or to another account, is new. */
    assert_int_equal(xt_seen_check_add(st, me, "carol@localhost", "m1", 2000), 0);
    assert_int_equal(xt_seen_check_add(st, "other@localhost", "bob@localhost", "m1", 2000), 0);
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "", 2000), XT_EINVAL);
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", NULL, 2000), XT_EINVAL);
    xt_store_close(st);
    st = open_ok("s.db"); /* remembered across runs */
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "m1", 3000), 1);
    xt_store_close(st);
}

/* The relaxed batch (listen's repeat records, one per read burst): its
 * rows are seen inside it (a repeat within the burst), by others only
 * once committed, gone on rollback; no outbox add and no FULL batch in
 * it, since it commits without syncing. */
/* Inside a batch the position is written once, at the commit: this
 * handle reads the newest at once, another only after the commit, and a
 * rollback forgets it. */
static void test_archive_pos_batched(void **state)
{
    (void)state;
    xt_store *st = open_ok("p.db");
    xt_store *other = open_ok("p.db");
    const char *me = "alice@localhost";
    char *p = NULL;
    assert_int_equal(xt_store_archive_pos_set(st, me, NULL, "A1"), 0);
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_store_archive_pos_set(st, me, NULL, "A2"), 0);
    assert_int_equal(xt_store_archive_pos_set(st, me, NULL, "A3"), 0);
    assert_int_equal(xt_store_archive_pos_get(st, me, "", &p), 0);
    assert_string_equal(p, "A3");
    free(p);
    /* another conversation: the pending one is written first */
    assert_int_equal(xt_store_archive_pos_set(st, me, "bob@localhost", "B1"), 0);
    assert_int_equal(xt_store_archive_pos_set(st, me, NULL, "A4"), 0);
    assert_int_equal(xt_store_archive_pos_get(other, me, NULL, &p), 0);
    assert_string_equal(p, "A1"); /* not committed yet */
    free(p);
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_store_archive_pos_get(other, me, NULL, &p), 0);
    assert_string_equal(p, "A4");
    free(p);
    assert_int_equal(xt_store_archive_pos_get(other, me, "bob@localhost", &p), 0);
    assert_string_equal(p, "B1");
    free(p);
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_store_archive_pos_set(st, me, NULL, "A5"), 0);
    assert_int_equal(xt_store_rollback(st), 0);
    assert_int_equal(xt_store_archive_pos_get(st, me, NULL, &p), 0);
    assert_string_equal(p, "A4");
    free(p);
    /* pending at close: never written (the batch never committed) */
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_store_archive_pos_set(st, me, NULL, "A6"), 0);
    xt_store_close(st);
    assert_int_equal(xt_store_archive_pos_get(other, me, NULL, &p), 0);
    assert_string_equal(p, "A4");
    free(p);
    xt_store_close(other);
}

/* Advances inside a batch (listen's path since the merge of the
 * batched position with the ordered one): the commit still only moves
 * the position forward, against the pending one and against what
 * another process wrote meanwhile. */
static void test_archive_pos_batched_advance(void **state)
{
    (void)state;
    xt_store *st = open_ok("q.db");
    xt_store *other = open_ok("q.db");
    const char *me = "alice@localhost";
    char *p = NULL;
    assert_int_equal(xt_store_archive_pos_advance(st, me, NULL, "A1", 100), 1);
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_store_archive_pos_advance(st, me, NULL, "A3", 300), 1);
    /* an older one than the pending one is not taken */
    assert_int_equal(xt_store_archive_pos_advance(st, me, NULL, "A2", 200), 0);
    assert_int_equal(xt_store_archive_pos_get(st, me, NULL, &p), 0);
    assert_string_equal(p, "A3");
    free(p);
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_store_archive_pos_get(other, me, NULL, &p), 0);
    assert_string_equal(p, "A3");
    free(p);
    /* another process stored a newer one before this batch's commit */
    assert_int_equal(xt_store_archive_pos_advance(other, me, NULL, "A9", 900), 1);
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_store_archive_pos_advance(st, me, NULL, "A4", 400), 1);
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_store_archive_pos_get(other, me, NULL, &p), 0);
    assert_string_equal(p, "A9"); /* the commit did not move it back */
    free(p);
    /* an unordered set is replaced by any advance, also in a batch */
    assert_int_equal(xt_store_archive_pos_set(st, me, "bob@localhost", "B1"), 0);
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_store_archive_pos_advance(st, me, "bob@localhost", "B2", 50), 1);
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_store_archive_pos_get(other, me, "bob@localhost", &p), 0);
    assert_string_equal(p, "B2");
    free(p);
    xt_store_close(st);
    xt_store_close(other);
}

static void test_seen_relaxed_batch(void **state)
{
    (void)state;
    xt_store *st = open_ok("r.db");
    xt_store *other = open_ok("r.db");
    const char *me = "alice@localhost";
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "o:1", 1000), 0);
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "o:1", 1000), 1);
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "o:2", 1000), 0);
    xt_outbox_msg m = msg("bob@localhost", "x", "relaxed-1");
    assert_int_equal(xt_outbox_add(st, &m, NULL), XT_ESTATE);
    assert_int_equal(xt_store_begin(st), XT_ESTATE);
    assert_int_equal(xt_store_begin_relaxed(st), 0); /* nested: counted */
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_seen_count(other), 0); /* not committed yet */
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_seen_count(other), 2);
    assert_int_equal(xt_seen_check_add(other, me, "bob@localhost", "o:2", 2000), 1);
    /* Rolled back: as if never seen. */
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "o:3", 3000), 0);
    assert_int_equal(xt_store_rollback(st), 0);
    assert_int_equal(xt_seen_check_add(st, me, "bob@localhost", "o:3", 3000), 0);
    /* Inside a FULL batch a relaxed begin just nests; the outbox works. */
    assert_int_equal(xt_store_begin(st), 0);
    assert_int_equal(xt_store_begin_relaxed(st), 0);
    assert_int_equal(xt_outbox_add(st, &m, NULL), 0);
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_store_commit(st), 0);
    assert_int_equal(xt_outbox_count(other, me), 1);
    assert_int_equal(xt_store_begin_relaxed(NULL), XT_EINVAL);
    xt_store_close(other);
    xt_store_close(st);
}

/* The set under the repeat record (seen_set.h): members that share a
 * home slot (equal low bits) form one probe run; deleting from the
 * middle of it (backward shift) must keep every other one findable,
 * also across the wrap at the table's end; 0 is a member like any. */
static void test_seen_set(void **state)
{
    (void)state;
    xt_seen_set s = {0};
    assert_int_equal(xt_seen_set_has(&s, 5), 0);
    xt_seen_set_del(&s, 5); /* empty: nothing */
    assert_int_equal(xt_seen_set_add(NULL, &s, 0), 1);
    assert_int_equal(xt_seen_set_has(&s, 0), 1);
    assert_int_equal(xt_seen_set_add(NULL, &s, 0), 0);
    xt_seen_set_del(&s, 0);
    assert_int_equal(xt_seen_set_has(&s, 0), 0);
    assert_int_equal(s.n, 0);
    uint64_t top = (uint64_t)s.cap - 1; /* run starting at the last slot */
    for (uint64_t i = 1; i <= 20; i++) {
        assert_int_equal(xt_seen_set_add(NULL, &s, (i << 32) | 7), 1);
        assert_int_equal(xt_seen_set_add(NULL, &s, (i << 32) | top), 1);
    }
    for (uint64_t i = 1; i <= 20; i += 3) {
        xt_seen_set_del(&s, (i << 32) | 7);
        xt_seen_set_del(&s, (i << 32) | top);
    }
    for (uint64_t i = 1; i <= 20; i++) {
        int want = (i - 1) % 3 != 0;
        assert_int_equal(xt_seen_set_has(&s, (i << 32) | 7), want);
        assert_int_equal(xt_seen_set_has(&s, (i << 32) | top), want);
    }
    /* Growing rehashes them all. */
    size_t cap = s.cap;
    for (uint64_t i = 100; s.cap == cap; i++)
        assert_int_equal(xt_seen_set_add(NULL, &s, i * 0x9e3779b97f4a7c15ull), 1);
    assert_int_equal(xt_seen_set_has(&s, (2ull << 32) | 7), 1);
    assert_int_equal(xt_seen_set_has(&s, (1ull << 32) | 7), 0);
    xt_seen_set_free(NULL, &s);
    assert_int_equal(s.n, 0);
}

/* The record kept in memory follows other handles (two processes): a
 * batch opened after another handle committed sees its records, and a
 * record written by the batch is seen by a handle that had loaded the
 * set before. One row per batch. */
static void test_seen_memory_follows_others(void **state)
{
    (void)state;
    xt_store *a = open_ok("m.db"), *b = open_ok("m.db");
    const char *me = "alice@localhost";
    assert_int_equal(xt_seen_check_add(b, me, "bob@localhost", "o:0", 1000), 0); /* b loaded */
    assert_int_equal(xt_store_begin_relaxed(a), 0);
    for (int i = 1; i <= 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "o:%d", i);
        assert_int_equal(xt_seen_check_add(a, me, "bob@localhost", id, 1000 + i), 0);
    }
    assert_int_equal(xt_store_commit(a), 0);
    assert_int_equal(xt_seen_count(b), 11);
    assert_int_equal(xt_store_begin_relaxed(b), 0);
    assert_int_equal(xt_seen_check_add(b, me, "bob@localhost", "o:7", 2000), 1);
    assert_int_equal(xt_seen_check_add(b, me, "bob@localhost", "o:11", 2000), 0);
    assert_int_equal(xt_store_commit(b), 0);
    assert_int_equal(xt_seen_check_add(a, me, "bob@localhost", "o:11", 3000), 1);
    assert_int_equal(xt_seen_check_add(a, me, "bob@localhost", "o:0", 3000), 1);
    xt_store_close(a);
    xt_store_close(b);
    /* Three rows: b's single check, a's batch of ten, b's batch of one. */
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(db_path("m.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(n) FROM seen_set", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 3);
    assert_int_equal(sqlite3_column_int(q, 1), 12);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_seen_bounded(void **state)
{
    (void)state;
    xt_store *st = open_ok("sb.db");
    char id[32];
    const int cap = 100, every = 10;

    xt_seen_set_limits(st, 1000000, cap, every);
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        assert_int_equal(xt_seen_check_add(st, "a@b", "c@d", id, 5000 + i), 0);
        assert_true(xt_seen_count(st) <= cap + every);
    }
    /* The newest are kept: a repeat of a recent one is still caught. */
    assert_int_equal(xt_seen_check_add(st, "a@b", "c@d", "id-1999", 9000), 1);

    /* Retention: entries older than the window go at the next prune. */
    xt_seen_set_limits(st, 100, 1000000, 1);
    assert_int_equal(xt_seen_check_add(st, "a@b", "c@d", "late", 1000000), 0);
    assert_int_equal(xt_seen_count(st), 1);
    xt_store_close(st);
}

/* ---- history ---- */

struct hcollect {
    int n;
    int64_t ids[200];
    char bodies[200][128];
    char peers[200][64];
};

static int collect_history(const xt_history_msg *m, void *ud)
{
    struct hcollect *c = ud;
    if (c->n < 200) {
        c->ids[c->n] = m->id;
        snprintf(c->bodies[c->n], sizeof c->bodies[0], "%s", m->body);
        snprintf(c->peers[c->n], sizeof c->peers[0], "%s", m->peer);
    }
    c->n++;
    return 0;
}

static int64_t hadd(xt_store *st, const char *peer, const char *body, int outgoing)
{
    int64_t id = 0;
    xt_history_msg m = {.account = "alice@localhost",
                        .peer = peer,
                        .from = outgoing ? "alice@localhost/x" : peer,
                        .body = body,
                        .stanza_id = "sid",
                        .outgoing = outgoing,
                        .ts_ms = 42};
    int rc = xt_history_add(st, &m, &id);
    if (rc != 0)
        fail_msg("history_add: %s", xt_store_errdetail(st));
    return id;
}

static void test_history_page(void **state)
{
    (void)state;
    xt_store *st = open_ok("h.db");
    char body[32];
    int64_t ids[50];

    for (int i = 0; i < 50; i++) {
        snprintf(body, sizeof body, "bob %d", i);
        ids[i] = hadd(st, "bob@localhost", body, i % 2);
        hadd(st, "carol@localhost", "noise", 0);
    }
    struct hcollect c = {0};
    assert_int_equal(xt_history_page(st, "alice@localhost", "bob@localhost", 0, 20,
                                     collect_history, &c),
                     0);
    assert_int_equal(c.n, 20);
    assert_string_equal(c.bodies[0], "bob 49"); /* newest first */
    assert_string_equal(c.bodies[19], "bob 30");
    /* The next page starts before the oldest one seen. */
    struct hcollect c2 = {0};
    assert_int_equal(xt_history_page(st, "alice@localhost", "bob@localhost", c.ids[19], 20,
                                     collect_history, &c2),
                     0);
    assert_int_equal(c2.n, 20);
    assert_string_equal(c2.bodies[0], "bob 29");
    struct hcollect c3 = {0};
    assert_int_equal(xt_history_page(st, "alice@localhost", "bob@localhost", ids[5], 20,
                                     collect_history, &c3),
                     0);
    assert_int_equal(c3.n, 5); /* the end */
    assert_string_equal(c3.bodies[4], "bob 0");
    struct hcollect c4 = {0};
    assert_int_equal(xt_history_page(st, "alice@localhost", "nobody@localhost", 0, 20,
                                     collect_history, &c4),
                     0);
    assert_int_equal(c4.n, 0);
    assert_int_equal(xt_history_page(st, "alice@localhost", "bob@localhost", 0, 0,
                                     collect_history, &c4),
                     0);
    assert_int_equal(c4.n, 0);
    xt_history_msg bad = {.account = "alice@localhost", .peer = "bob@localhost"};
    assert_int_equal(xt_history_add(st, &bad, NULL), XT_EINVAL);
    xt_store_close(st);
}

static void test_history_search(void **state)
{
    (void)state;
    xt_store *st = open_ok("f.db");
    hadd(st, "bob@localhost", "Hello world, how are you?", 0);
    hadd(st, "carol@localhost", "the helicopter lands at noon", 1);
    hadd(st, "bob@localhost", "Crème brûlée for dessert", 0);
    hadd(st, "bob@localhost", "he said \"AND(\" NEAR the OR", 0);
    hadd(st, "bob@localhost", "東京 で 会いましょう 😀", 0);
    hadd(st, "carol@localhost", "你好世界", 0);
    hadd(st, "bob@localhost", "他说你好世界。", 1);
    hadd(st, "carol@localhost", "ok 😀😀 see you", 0);
    xt_history_msg other = {.account = "eve@localhost",
                            .peer = "bob@localhost",
                            .from = "bob@localhost",
                            .body = "hello from another account"};
    assert_int_equal(xt_history_add(st, &other, NULL), 0);

    struct hcollect c = {0};
    assert_int_equal(xt_history_search(st, "alice@localhost", "hel", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 2); /* substring: hello, helicopter; not eve's */
    assert_string_equal(c.bodies[0], "the helicopter lands at noon"); /* newest first */
    assert_string_equal(c.peers[1], "bob@localhost");

    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "HELLO   World", 10,
                                       collect_history, &c),
                     0);
    assert_int_equal(c.n, 1); /* every word must match */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "creme brulee", 10, collect_history,
                                       &c),
                     0);
    assert_int_equal(c.n, 1); /* diacritics folded */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "東京", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 1);

    /* Every script, any substring (issue 13 item 5): a two-character CJK
     * word inside a run with no spaces, an emoji, a substring of 3+ in
     * the middle of a word, and these combined with other terms. */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "世界", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.bodies[0], "他说你好世界。");
    assert_string_equal(c.bodies[1], "你好世界");
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "😀", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.bodies[0], "ok 😀😀 see you");
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "好世界", 10, collect_history, &c),
                     0);
    assert_int_equal(c.n, 2); /* three characters: the trigram index */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "说你好世", 10, collect_history, &c),
                     0);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "copt", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 1); /* inside "helicopter" */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "😀 東京", 10, collect_history, &c),
                     0);
    assert_int_equal(c.n, 1); /* a short and a long term together */
    assert_string_equal(c.bodies[0], "東京 で 会いましょう 😀");
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "OK 😀", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 1); /* two short terms, case folded */
    /* Two ASCII letters: the words that begin with them, anywhere in the
     * history (an index, not a scan), at the start or after a line
     * break too; not the middle of a word. */
    hadd(st, "bob@localhost", "a book about Okapis", 0);
    hadd(st, "bob@localhost", "first line\nok then", 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "ok", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.bodies[0], "first line\nok then");
    assert_string_equal(c.bodies[1], "a book about Okapis");
    assert_string_equal(c.bodies[2], "ok 😀😀 see you");
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "oo", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 0); /* "book" does not begin with it */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "o", 10, collect_history, &c), 0);
    assert_true(c.n >= 4); /* one letter: a scan of the newest rows, any position */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "界世", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 0); /* order counts within a term */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "%", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 0); /* punctuation only: dropped */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "a_", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 0); /* LIKE's wildcards are plain characters */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "Crème BRÛLÉE", 10, collect_history,
                                       &c),
                     0);
    assert_int_equal(c.n, 1); /* the accents of the query fold too */

    /* Hostile input: FTS5 syntax is never interpreted. Each must succeed
     * (no "malformed MATCH" error). */
    static const char *const hostile[] = {
        "\"", "\"\"", "AND(", "AND", "OR", "NOT", "NEAR(a b, 1)", "body:hello", "*", "^he",
        "(", ")", "a\"b", "\"hello", "hello\"", "- hello", "+", "{body}: x", "a OR b", "''",
        "\x01\x02", "\xff\xfe", "   ", "", "hello*\"*", "NEAR", "\"AND(\"",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        memset(&c, 0, sizeof c);
        int rc = xt_history_search(st, "alice@localhost", hostile[i], 10, collect_history, &c);
        if (rc != 0)
            fail_msg("search for '%s' failed: %s", hostile[i], xt_store_errdetail(st));
    }
    /* Operators are plain words: "AND(" finds the message containing it,
     * "NEAR" finds the one with the word. */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "AND(", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.bodies[0], "he said \"AND(\" NEAR the OR");
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "a OR b", 10, collect_history, &c),
                     0);
    assert_int_equal(c.n, 0); /* "OR" is a word here, not an operator */
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "\"", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 0);

    /* The limit holds. */
    for (int i = 0; i < 30; i++)
        hadd(st, "bob@localhost", "repeat", 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "repeat", 7, collect_history, &c), 0);
    assert_int_equal(c.n, 7);
    xt_store_close(st);

    /* The index persists across handles. */
    st = open_ok("f.db");
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "dessert", 10, collect_history, &c),
                     0);
    assert_int_equal(c.n, 1);
    xt_store_close(st);
}

/* A version 2 file, written when send/listen/bot keyed rows by the JID
 * as typed ("Alice@Example.ORG") and chat by its preparation: opening it
 * merges every row under the prepared key, repeats once. */
static void test_account_key_migration(void **state)
{
    (void)state;
    xt_store *st = open_ok("v2.db");
    xt_store_close(st);
    const char *p = db_path("v2.db");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "UPDATE schema_version SET version = 2;"
            /* version 2 had no xt_fts_text() triggers (the 3 -> 4 step makes
             * them and indexes the rows) */
            "DROP TRIGGER history_ai; DROP TRIGGER history_gi;"
            /* version 2's one-row-per-message dedup table (the 8 -> 9
             * step hashes its rows into seen_set and drops it) */
            "CREATE TABLE seen(account TEXT NOT NULL, sender TEXT NOT NULL, msg_id TEXT NOT NULL,"
            " seen_ms INTEGER NOT NULL, UNIQUE(account, sender, msg_id));"
            /* the same message queued under both spellings, and one each */
            "INSERT INTO outbox(account, to_jid, type, body, origin_id, created_ms) VALUES"
            " ('Alice@Example.ORG', 'bob@example.org', 'chat', 'typed', 'o-typed', 1),"
            " ('alice@example.org', 'bob@example.org', 'chat', 'prepared', 'o-prep', 2),"
            " ('Alice@Example.ORG', 'bob@example.org', 'chat', 'both', 'o-both', 3),"
            " ('alice@example.org', 'bob@example.org', 'chat', 'both', 'o-both', 3),"
            " ('not a jid@', 'bob@example.org', 'chat', 'odd', 'o-odd', 4);"
            "INSERT INTO seen(account, sender, msg_id, seen_ms) VALUES"
            " ('Alice@Example.ORG', 'bob@example.org', 'o:1', 1),"
            " ('alice@example.org', 'bob@example.org', 'o:1', 1),"
            " ('ALICE@example.org', 'bob@example.org', 'o:2', 1);"
            "INSERT INTO history(account, peer, from_jid, body, outgoing, ts_ms) VALUES"
            " ('Alice@Example.ORG', 'bob@example.org', 'x', 'h1', 1, 1),"
            " ('alice@example.org', 'bob@example.org', 'x', 'h2', 1, 2);"
            "INSERT INTO server_hint(account, sasl_hint) VALUES"
            " ('Alice@Example.ORG', 'SCRAM-SHA-1'), ('alice@example.org', 'SCRAM-SHA-256');",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    st = open_ok("v2.db");
    struct collect c = {.stop_at = 0};
    assert_int_equal(xt_outbox_list(st, "alice@example.org", collect_outbox, &c), 0);
    assert_int_equal(c.n, 3); /* typed, prepared, both (once) */
    assert_int_equal(xt_outbox_count(st, "Alice@Example.ORG"), 0);
    assert_int_equal(xt_outbox_count(st, "not a jid@"), 1); /* left alone */
    /* The dedup record knows both ids under the one key. */
    assert_int_equal(xt_seen_check_add(st, "alice@example.org", "bob@example.org", "o:1", 5), 1);
    assert_int_equal(xt_seen_check_add(st, "alice@example.org", "bob@example.org", "o:2", 5), 1);
    assert_int_equal(xt_seen_count(st), 2);
    struct hcollect h = {0};
    assert_int_equal(
        xt_history_page(st, "alice@example.org", "bob@example.org", 0, 10, collect_history, &h), 0);
    assert_int_equal(h.n, 2);
    char *hint = NULL;
    assert_int_equal(xt_store_sasl_hint_get(st, "alice@example.org", &hint), 0);
    assert_non_null(hint); /* one of the two: either is only a hint */
    free(hint);
    assert_int_equal(xt_store_sasl_hint_get(st, "Alice@Example.ORG", &hint), 0);
    assert_null(hint);
    xt_store_close(st);

    /* The version is now current: opening again changes nothing. */
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), XT_STORE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* A version 3 store, made with that version's schema (the word index,
 * unicode61): opening it moves the history to the trigram index, so its
 * old rows are found by substring in every script, and later ones too. */
static void test_fts_migration(void **state)
{
    (void)state;
    xt_store *st = open_ok("v3.db");
    xt_store_close(st);
    const char *p = db_path("v3.db");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(
            db,
            "DROP TRIGGER history_ai; DROP TRIGGER history_ad; DROP TRIGGER history_au;"
            "DROP TABLE history_fts; DROP TRIGGER history_gi; DROP TRIGGER history_gd;"
            "DROP TRIGGER history_gu; DROP TABLE history_grams;"
            "CREATE VIRTUAL TABLE history_fts USING fts5(body, content='history',"
            " content_rowid='id', tokenize='unicode61 remove_diacritics 2');"
            "CREATE TRIGGER history_ai AFTER INSERT ON history BEGIN"
            " INSERT INTO history_fts(rowid, body) VALUES(new.id, new.body); END;"
            "CREATE TRIGGER history_ad AFTER DELETE ON history BEGIN"
            " INSERT INTO history_fts(history_fts, rowid, body)"
            " VALUES('delete', old.id, old.body); END;"
            "CREATE TRIGGER history_au AFTER UPDATE ON history BEGIN"
            " INSERT INTO history_fts(history_fts, rowid, body)"
            " VALUES('delete', old.id, old.body);"
            " INSERT INTO history_fts(rowid, body) VALUES(new.id, new.body); END;"
            "UPDATE schema_version SET version = 3;"
            "INSERT INTO history(account, peer, from_jid, body, outgoing, ts_ms) VALUES"
            " ('alice@localhost', 'bob@localhost', 'x', '你好世界', 0, 1),"
            " ('alice@localhost', 'bob@localhost', 'x', 'party 😀 tonight', 0, 2),"
            " ('alice@localhost', 'bob@localhost', 'x', 'Crème brûlée', 0, 3);",
            NULL, NULL, NULL),
        SQLITE_OK);
    /* What version 3 found: the word index misses the CJK substring. */
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM history_fts WHERE history_fts"
                                        " MATCH '\"世界\"*'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 0);
    sqlite3_finalize(q);
    sqlite3_close(db);

    st = open_ok("v3.db");
    struct hcollect c = {0};
    assert_int_equal(xt_history_search(st, "alice@localhost", "世界", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "😀", 10, collect_history, &c), 0);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "arty 😀 tonig", 10,
                                       collect_history, &c),
                     0);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "creme", 10, collect_history, &c),
                     0);
    assert_int_equal(c.n, 1);
    hadd(st, "bob@localhost", "再见世界", 0);
    memset(&c, 0, sizeof c);
    assert_int_equal(xt_history_search(st, "alice@localhost", "见世界", 10, collect_history, &c),
                     0);
    assert_int_equal(c.n, 1);
    xt_store_close(st);

    /* Now at the current version; the index is consistent. */
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), XT_STORE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO history_fts(history_fts, rank)"
                                  " VALUES('integrity-check', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static void test_fts_plan(void **state)
{
    (void)state;
    static const struct {
        const char *in, *match, *grams, *like0;
        size_t nlike;
    } cases[] = {
        {"hello", "\"hello\"", "", NULL, 0},
        {"  two  words ", "\"two\" \"words\"", "", NULL, 0},
        {"a\"bc", "\"a\"\"bc\"", "", NULL, 0},
        {"\"", "", "", NULL, 0},
        {"( ) * ^", "", "", NULL, 0},
        {"AND(", "\"AND(\"", "", NULL, 0},
        {"é", "", "", "%é%", 1}, /* folds to ASCII "e": no gram */
        {"crème", "\"creme\"", "", NULL, 0}, /* folded */
        {"世界 hello", "\"hello\"", "\"世界\"", "%世界%", 1},
        {"ok 😀", "\" ok\"", "\"😀\"", "%😀%", 1}, /* "ok": a word start */
        {"o", "", "", "%o%", 1},                     /* one ASCII character */
        {"ΣΑ", "", "\"σα\"", "%ΣΑ%", 1}, /* grams lowercased */
        {"a世", "", "", "%a世%", 1},
        {"a%_\\", "\"a%_\\\"", "", NULL, 0},
        {"%a", "\" %a\"", "", NULL, 0},
        {"é_", "\" e_\"", "", NULL, 0}, /* folded, then two ASCII */
        {"", "", "", NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xt_fts_plan p;
        assert_int_equal(xt_fts_plan_make(NULL, cases[i].in, &p), 0);
        assert_string_equal(p.match, cases[i].match);
        assert_string_equal(p.grams, cases[i].grams);
        assert_int_equal(p.nlike, cases[i].nlike);
        if (cases[i].like0)
            assert_string_equal(p.like[0], cases[i].like0);
        xt_fts_plan_free(NULL, &p);
    }
    /* More short terms than the bound: the rest are ignored. */
    xt_fts_plan p;
    assert_int_equal(xt_fts_plan_make(NULL, "a b c d e f g h i j k", &p), 0);
    assert_int_equal(p.nlike, XT_SEARCH_MAX_SHORT);
    xt_fts_plan_free(NULL, &p);
}

static void test_fold(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Crème brûlée", "Creme brulee"},
        {"Cre\xcc\x80me", "Creme"},          /* decomposed input */
        {"Ελλάδα", "Ελλαδα"},                /* Greek tonos */
        {"が", "が"},                        /* dakuten kept */
        {"한국어", "한국어"},                /* Hangul back whole */
        {"你好世界 😀", "你好世界 😀"},
        {"plain", "plain"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 0;
        char *f = xt_store_fold(cases[i].in, strlen(cases[i].in), &n);
        assert_non_null(f);
        assert_string_equal(f, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
        free(f);
    }
    static const struct {
        const char *in, *out;
    } grams[] = {
        {"你好世界", "你 好 你好 世 好世 界 世界"},
        {"ok 😀!", "😀"},
        {"Σα x", "σ α σα"},
        {"ascii only", ""},
    };
    for (size_t i = 0; i < sizeof grams / sizeof grams[0]; i++) {
        size_t n = 0;
        char *g = xt_store_grams(grams[i].in, strlen(grams[i].in), &n);
        assert_non_null(g);
        assert_string_equal(g, grams[i].out);
        assert_int_equal(n, strlen(grams[i].out));
        free(g);
    }
    size_t tn = 0;
    char *tx = xt_store_fts_text("Crème\n\tok", strlen("Crème\n\tok"), &tn);
    assert_non_null(tx);
    assert_string_equal(tx, " Creme  ok");
    assert_int_equal(tn, strlen(" Creme  ok"));
    free(tx);
    assert_int_equal(xt_store_utf8_chars("世界", strlen("世界")), 2);
    assert_int_equal(xt_store_utf8_chars("😀a", strlen("😀a")), 2);
}

/* ---- allocation failures ---- */

/* Our allocator hooks: the handle's allocation failing is a clean
 * XT_ENOMEM. */
static void *null_malloc(size_t n, void *ud)
{
    (void)n;
    (void)ud;
    return NULL;
}
static void *null_realloc(void *p, size_t n, void *ud)
{
    (void)p;
    (void)n;
    (void)ud;
    return NULL;
}
static void plain_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

/* SQLite's allocator, wrapped to fail the Nth allocation. */
static sqlite3_mem_methods real_mem;
static long sq_calls, sq_fail_at;

static void *sq_malloc(int n)
{
    if (sq_fail_at && ++sq_calls == sq_fail_at)
        return NULL;
    return real_mem.xMalloc(n);
}
static void *sq_realloc(void *p, int n)
{
    if (sq_fail_at && ++sq_calls == sq_fail_at)
        return NULL;
    return real_mem.xRealloc(p, n);
}

static int hadd_quiet(xt_store *st)
{
    xt_history_msg m = {.account = "alice@localhost",
                        .peer = "bob@localhost",
                        .from = "bob@localhost",
                        .body = "hello there"};
    return xt_history_add(st, &m, NULL);
}

static int scenario(const char *path)
{
    xt_store *st = NULL;
    int rc = xt_store_open(path, NULL, &st);
    int bad = 0;
    if (rc == 0) {
        xt_outbox_msg m = msg("bob@localhost", "body", "o1");
        struct collect c = {0};
        struct hcollect hc = {0};
        int r[8];
        r[0] = xt_store_begin(st);
        r[1] = xt_outbox_add(st, &m, NULL);
        r[2] = r[0] == 0 ? xt_store_commit(st) : 0;
        r[3] = xt_outbox_list(st, "alice@localhost", collect_outbox, &c);
        r[4] = xt_seen_check_add(st, "alice@localhost", "bob@localhost", "x", 1);
        r[5] = (int)hadd_quiet(st);
        r[6] = xt_history_search(st, "alice@localhost", "hello", 5, collect_history, &hc);
        r[7] = xt_outbox_remove(st, "alice@localhost", "o1");
        for (int i = 0; i < 8; i++)
            if (r[i] != 0 && r[i] != XT_ENOMEM && r[i] != XT_EIO && r[i] != XT_ENOTFOUND &&
                r[i] != XT_ESTATE)
                bad++;
        rc = 0;
        for (int i = 0; i < 8; i++)
            if (r[i] < 0)
                rc = r[i];
    } else if (rc != XT_ENOMEM && rc != XT_EIO) {
        bad++;
    }
    xt_store_close(st);
    return bad ? 1000 : rc;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    xt_mem failing = {.malloc = null_malloc, .realloc = null_realloc, .free = plain_free};
    xt_store *st = (xt_store *)1;
    assert_int_equal(xt_store_open(db_path("m.db"), &failing, &st), XT_ENOMEM);
    assert_null(st);
    xt_fts_plan fp;
    assert_int_equal(xt_fts_plan_make(&failing, "hello", &fp), XT_ENOMEM);

    /* Every SQLite allocation of a whole scenario failing in turn: each
     * run ends with a clean error code (and no leak under ASan). */
    char path[320];
    long n;
    /* Every point of the first few hundred (open, schema), then a
     * stride through the rest, to keep the test quick. */
    for (n = 1; n < 20000; n += n < 400 ? 1 : 7) {
        snprintf(path, sizeof path, "%s/alloc-%ld.db", tmpdir, n);
        sq_calls = 0;
        sq_fail_at = n;
        int rc = scenario(path);
        long calls = sq_calls;
        sq_fail_at = 0;
        assert_int_not_equal(rc, 1000);
        static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
        for (size_t k = 0; k < 4; k++) {
            char f[340];
            snprintf(f, sizeof f, "%.320s%s", path, sfx[k]);
            unlink(f);
        }
        if (calls < n) /* the failure point was never reached: done */
            break;
    }
    print_message("scenario: %ld allocation failure points\n", n);
    assert_true(n > 10);
    assert_true(n < 20000);
}

int main(void)
{
    /* Before SQLite initializes: route its allocations through the
     * failing wrapper (a pass-through unless sq_fail_at is set). */
    sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem);
    sqlite3_mem_methods m = real_mem;
    m.xMalloc = sq_malloc;
    m.xRealloc = sq_realloc;
    sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
    sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_handles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sasl_hint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_key_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seen_bounded, setup, teardown),
        cmocka_unit_test(test_seen_set),
        cmocka_unit_test_setup_teardown(test_seen_memory_follows_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seen_relaxed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_pos_batched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_pos_batched_advance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_migration, setup, teardown),
        cmocka_unit_test(test_fts_plan),
        cmocka_unit_test(test_fold),
        cmocka_unit_test_setup_teardown(test_sync_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_pos_two_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
