/*
 * Fuzz target: the history search's query builder (src/store/fts_query.c,
 * xt_fts_plan_make) and the index texts it is matched against
 * (src/store/fold.c). User text must never reach FTS5 as syntax, so for
 * any bytes, against the two index tables as store.c declares them
 * (trigram; ascii with detail=none) in an in-memory SQLite:
 *  - the trigram query and the short-term query prepare and run without
 *    an error (a stray quote or operator would be a syntax error);
 *  - a message whose body is the search text itself is found by each
 *    part of the plan (trigram query, short-term query, every LIKE
 *    pattern), when the text is valid UTF-8 (what the store holds);
 *  - the plan keeps its bound of short terms.
 * abort() on any breach, so libFuzzer and the corpus replayer report it.
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;

static void must(int rc)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        abort();
}

static void open_db(void)
{
    if (db)
        return;
    must(sqlite3_open(":memory:", &db));
    must(sqlite3_exec(db,
                      "CREATE VIRTUAL TABLE f USING fts5(body, tokenize='trigram');"
                      "CREATE VIRTUAL TABLE g USING fts5(body, tokenize='ascii', detail='none',"
                      " columnsize=0);",
                      NULL, NULL, NULL));
}

/* Row 1 holds `text` (n bytes) in table `tab`. */
static void put(const char *tab, const char *text, size_t n)
{
    sqlite3_stmt *s;
    char sql[64];
    snprintf(sql, sizeof sql, "INSERT INTO %s(rowid, body) VALUES(1, ?1)", tab);
    must(sqlite3_prepare_v2(db, sql, -1, &s, NULL));
    must(sqlite3_bind_text(s, 1, text, (int)n, SQLITE_STATIC));
    must(sqlite3_step(s));
    sqlite3_finalize(s);
}

/* The rows `query` matches in `tab` (any SQLite error aborts). */
static int count(const char *tab, const char *query)
{
    sqlite3_stmt *s;
    char sql[80];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s MATCH ?1", tab, tab);
    must(sqlite3_prepare_v2(db, sql, -1, &s, NULL));
    must(sqlite3_bind_text(s, 1, query, -1, SQLITE_STATIC));
    int rc = sqlite3_step(s);
    must(rc);
    int n = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    return n;
}

static int like(const char *body, const char *pattern)
{
    sqlite3_stmt *s;
    must(sqlite3_prepare_v2(db, "SELECT ?1 LIKE ?2 ESCAPE '\\'", -1, &s, NULL));
    must(sqlite3_bind_text(s, 1, body, -1, SQLITE_STATIC));
    must(sqlite3_bind_text(s, 2, pattern, -1, SQLITE_STATIC));
    must(sqlite3_step(s));
    int r = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Search text is a C string: the part before a NUL. */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t n = strlen(text);
    xt_fts_plan p;
    if (xt_fts_plan_make(NULL, text, &p) != 0) {
        free(text);
        return 0;
    }
    if (p.nlike > XT_SEARCH_MAX_SHORT)
        abort();
    open_db();
    must(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL));
    int utf8 = u8_check((const uint8_t *)text, n) == NULL;
    if (utf8) {
        /* The message whose body is the text, indexed as store.c does. */
        size_t flen = 0, glen = 0, folen = 0;
        char *ft = xt_store_fts_text(text, n, &flen);
        char *folded = xt_store_fold(text, n, &folen);
        char *gr = folded ? xt_store_grams(folded, folen, &glen) : NULL;
        if (ft && gr) {
            put("f", ft, flen);
            put("g", gr, glen);
        } else {
            utf8 = 0; /* out of memory: only the syntax is checked */
        }
        free(ft);
        free(folded);
        free(gr);
    }
    int fm = *p.match ? count("f", p.match) : -1;
    int gm = *p.grams ? count("g", p.grams) : -1;
    if (utf8 && (fm == 0 || gm == 0))
        abort();
    for (size_t i = 0; i < p.nlike; i++)
        if (utf8 && !like(text, p.like[i]))
            abort();
    must(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL));
    xt_fts_plan_free(NULL, &p);
    free(text);
    return 0;
}
