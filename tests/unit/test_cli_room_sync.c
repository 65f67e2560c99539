/* cli/room_sync.c: where a room's catch-up resumes (its stored position)
 * when room messages come live while the archive is being fetched. A
 * conn online without a network (canned_login.h) plays the room. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "canned_login.h"
#include "room_sync.h"
#include "xtalk/store.h"

#define ROOM    "coven@chat.example.com"
#define ACCOUNT "user@example.com"

typedef struct ctx {
    xt_cli_room_sync *rs;
    xt_store *store;
    char dir[64];
    char out[16384]; /* what the conn wrote since the last take() */
} ctx;

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    ctx *x = ud;
    xt_cli_room_sync_event(x->rs, c, ev);
}

/* Everything the conn wrote, as text, in x->out. */
static const char *take(xt_conn *c, ctx *x)
{
    const uint8_t *p;
    size_t n, len = 0;
    x->out[0] = '\0';
    while ((n = xt_conn_pending(c, &p)) > 0) {
        size_t k = n < sizeof x->out - 1 - len ? n : sizeof x->out - 1 - len;
        memcpy(x->out + len, p, k);
        len += k;
        x->out[len] = '\0';
        xt_conn_consume(c, n);
    }
    return x->out;
}

/* The value of attr='...' in the element of x->out that contains
 * needle (searched back from it to the element's start). */
static void attr_near(const ctx *x, const char *needle, const char *attr, char *val, size_t size)
{
    const char *at = strstr(x->out, needle);
    assert_non_null(at);
    char pat[64];
    snprintf(pat, sizeof pat, "%s='", attr);
    const char *a = NULL;
    for (const char *s = x->out; (s = strstr(s, pat)) && s < at; s++)
        a = s;
    assert_non_null(a);
    a += strlen(pat);
    const char *end = strchr(a, '\'');
    assert_non_null(end);
    assert_true((size_t)(end - a) < size);
    memcpy(val, a, (size_t)(end - a));
    val[end - a] = '\0';
}

static void feed(xt_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void feed(xt_conn *c, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    assert_int_equal(xt_conn_feed(c, buf, (size_t)n, 2), 0);
}

/* The stored position of ROOM, or "" when none. */
static const char *pos(ctx *x)
{
    static char id[128];
    char *v = NULL;
    assert_int_equal(xt_store_archive_pos_get(x->store, ACCOUNT, "muc:" ROOM, &v), 0);
    snprintf(id, sizeof id, "%s", v ? v : "");
    free(v);
    return id;
}

static void live(xt_conn *c, const char *sid)
{
    feed(c,
         "<message from='" ROOM "/firstwitch' type='groupchat' id='m%s'><body>live %s</body>"
         "<stanza-id xmlns='urn:xmpp:sid:0' by='" ROOM "' id='%s'/></message>",
         sid, sid, sid);
}

static void result(xt_conn *c, const char *qid, const char *sid)
{
    feed(c,
         "<message from='" ROOM "'><result xmlns='urn:xmpp:mam:2' queryid='%s' id='%s'>"
         "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' "
         "stamp='2026-01-01T10:00:00Z'/><message xmlns='jabber:client' from='" ROOM
         "/secondwitch' type='groupchat' id='a%s'><body>archived %s</body></message>"
         "</forwarded></result></message>",
         qid, sid, sid, sid);
}

/* A session: online, the room joined through room_sync (disco#info
 * listing MAM, our self-presence); returns the conn with the catch-up's
 * query in x->out, its IQ id and queryid in iq and qid. */
static xt_conn *session(ctx *x, char iq[64], char qid[64])
{
    x->rs = xt_cli_room_sync_new(x->store, ACCOUNT "/laptop");
    assert_non_null(x->rs);
    xt_conn *c = xt_test_online_conn("t", on_event, x);
    assert_non_null(c);
    take(c, x);
    xt_muc_join_opts o = {.nick = "thirdwitch"};
    assert_int_equal(xt_cli_room_sync_join(x->rs, c, ROOM, &o), 0);
    take(c, x);
    char id[64];
    attr_near(x, "disco#info", "id", id, sizeof id);
    feed(c,
         "<iq type='result' from='" ROOM "' id='%s'><query "
         "xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' "
         "type='text'/><feature var='http://jabber.org/protocol/muc'/><feature "
         "var='urn:xmpp:mam:2'/></query></iq>",
         id);
    /* An archived room: joined with no history. */
    assert_non_null(strstr(take(c, x), "maxstanzas='0'"));
    feed(c, "<presence from='" ROOM "/thirdwitch'><x xmlns='http://jabber.org/protocol/muc#user'>"
            "<item affiliation='member' role='participant'/><status code='110'/></x></presence>");
    take(c, x);
    attr_near(x, "urn:xmpp:mam:2", "id", iq, 64);
    attr_near(x, "<x xmlns='jabber:x:data'", "queryid", qid, 64);
    return c;
}

static void end_session(ctx *x, xt_conn *c)
{
    xt_conn_free(c);
    xt_cli_room_sync_free(x->rs);
    x->rs = NULL;
}

static int setup(void **state)
{
    ctx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    snprintf(x->dir, sizeof x->dir, "/tmp/xt-room-sync-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    char path[128];
    snprintf(path, sizeof path, "%s/store.db", x->dir);
    assert_int_equal(xt_store_open(path, NULL, &x->store), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    ctx *x = *state;
    char path[128];
    xt_store_close(x->store);
    for (const char *const *s = (const char *const[]){"", "-wal", "-shm", "-journal", NULL}; *s;
         s++) {
        snprintf(path, sizeof path, "%s/store.db%s", x->dir, *s);
        unlink(path);
    }
    rmdir(x->dir);
    free(x);
    return 0;
}

/* The first join fetches the newest window. A message said while it is
 * fetched (newer than anything in it) is where the next join resumes:
 * with an empty window it used to leave no position at all (the next
 * join fetched a window again, skipping what came between), and a window
 * page ending after it must not move it back. */
static void test_live_during_first_window(void **state)
{
    ctx *x = *state;
    char iq[64], qid[64];
    xt_conn *c = session(x, iq, qid);
    assert_non_null(strstr(x->out, "<before/>"));
    assert_string_equal(pos(x), "");
    live(c, "L1");
    assert_string_equal(pos(x), "L1");
    result(c, qid, "R0");
    feed(c,
         "<iq type='result' from='" ROOM "' id='%s'><fin xmlns='urn:xmpp:mam:2' complete='true'>"
         "<set xmlns='http://jabber.org/protocol/rsm'><first>R0</first><last>R0</last></set>"
         "</fin></iq>",
         iq);
    assert_string_equal(pos(x), "L1");
    /* After the catch-up, live messages move it as before. */
    live(c, "L2");
    assert_string_equal(pos(x), "L2");
    end_session(x, c);

    /* The next session resumes after L2. */
    c = session(x, iq, qid);
    assert_non_null(strstr(x->out, "<after>L2</after>"));
    end_session(x, c);
}

/* A forward catch-up (a position stored): a live message during it
 * becomes the position only once the catch-up is done, and not when it
 * failed (a session ended or failed mid-way must fetch what it missed). */
static void test_live_during_forward_catchup(void **state)
{
    ctx *x = *state;
    assert_int_equal(xt_store_archive_pos_set(x->store, ACCOUNT, "muc:" ROOM, "P0"), 0);
    char iq[64], qid[64];
    xt_conn *c = session(x, iq, qid);
    assert_non_null(strstr(x->out, "<after>P0</after>"));
    live(c, "L3");
    assert_string_equal(pos(x), "P0");
    result(c, qid, "R1");
    feed(c,
         "<iq type='result' from='" ROOM "' id='%s'><fin xmlns='urn:xmpp:mam:2' complete='true'>"
         "<set xmlns='http://jabber.org/protocol/rsm'><first>R1</first><last>R1</last></set>"
         "</fin></iq>",
         iq);
    assert_string_equal(pos(x), "L3");
    end_session(x, c);

    /* The catch-up fails after a page: the page's end stays the
     * position, not the live message. */
    c = session(x, iq, qid);
    assert_non_null(strstr(x->out, "<after>L3</after>"));
    result(c, qid, "R4");
    feed(c,
         "<iq type='result' from='" ROOM "' id='%s'><fin xmlns='urn:xmpp:mam:2'>"
         "<set xmlns='http://jabber.org/protocol/rsm'><first>R4</first><last>R4</last></set>"
         "</fin></iq>",
         iq);
    assert_string_equal(pos(x), "R4");
    live(c, "L5");
    assert_string_equal(pos(x), "R4");
    take(c, x);
    attr_near(x, "urn:xmpp:mam:2", "id", iq, sizeof iq);
    feed(c,
         "<iq type='error' from='" ROOM "' id='%s'><error type='wait'><resource-constraint "
         "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
         iq);
    assert_string_equal(pos(x), "R4");
    end_session(x, c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_live_during_first_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_during_forward_catchup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
