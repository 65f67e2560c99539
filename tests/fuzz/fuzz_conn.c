/*
 * Fuzz target: the whole sans-I/O client state machine (xt_conn), with
 * the fuzzer playing the server: STARTTLS is "completed" at once, SASL
 * (PLAIN over the pretend TLS, or SCRAM with the RFC 5802 nonce so the
 * seed login transcripts go all the way; SASL2, Bind2 and a FAST token),
 * binding, roster, presence,
 * messages, IQs, stream errors, timers. Once online the conn joins a room
 * (XEP-0045), queries the room's archive (XEP-0313 §6) and the bookmarks
 * (XEP-0402 / XEP-0048), with self-ping (XEP-0410) on short timers, so
 * what a hostile server says about rooms (occupants, status codes, room
 * messages, MAM pages, pings' answers) is fuzzed too: the room and nick
 * are those of the muc_*.txt transcripts the seeds come from. Then the
 * public API is used on whatever state resulted. Must never crash, hang
 * or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "im/conn_int.h"
#include "xtalk/bookmarks.h"
#include "xtalk/conn.h"
#include "xtalk/mam.h"
#include "xtalk/muc.h"
#include "xtalk/selfping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROOM "coven@chat.example.com"

typedef struct fuzz_state {
    int starttls;
    int events;
    size_t bookmark_bytes;
} fuzz_state;

/* Reads every field the answer gave (ASan sees a stale or unterminated
 * one). */
static void on_bookmarks(xt_conn *c, int status, const xt_bookmark_list *list, void *ud)
{
    (void)c;
    size_t *sum = ud;
    if (status != 0 || !list)
        return;
    *sum += strlen(xt_bookmark_store_name(list->store));
    for (size_t i = 0; i < list->n; i++) {
        const xt_bookmark *b = &list->items[i];
        const char *f[] = {b->room, b->name, b->nick, b->password};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
            *sum += f[k] ? strlen(f[k]) : 0;
    }
}

/* Online (again, after a reconnect without resumption too): the rooms
 * part, from inside the handler as an application would. */
static void rooms_start(xt_conn *c, fuzz_state *st)
{
    xt_muc_join_opts jo = {.nick = "thirdwitch", .history = XT_MUC_HISTORY_NONE};
    (void)xt_muc_join(c, ROOM, &jo);
    xt_mam_query q = {.archive = ROOM, .after_id = "R1", .page_size = 2};
    (void)xt_mam_fetch(c, &q);
    (void)xt_bookmarks_fetch(c, on_bookmarks, &st->bookmark_bytes);
}

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    fuzz_state *st = ud;
    st->events++;
    if (ev->type == XT_EV_STARTTLS)
        st->starttls = 1;
    if (ev->type == XT_EV_ONLINE)
        rooms_start(c, st);
    if (ev->type == XT_EV_MESSAGE && ev->u.message.body && st->events < 50) {
        /* A bot-like reply from inside a handler (re-entrancy). */
        (void)xt_conn_send_message(c, ev->u.message.from, NULL, ev->u.message.body, NULL, NULL);
    }
}

/* Channel binding only where the input offers a -PLUS mechanism: with
 * binding data and no -PLUS on offer the client says 'y', and the seed
 * transcripts (recorded with 'n') would stop at the server signature. */
static int offers_plus(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i + 5 <= size; i++)
        if (memcmp(data + i, "-PLUS", 5) == 0)
            return 1;
    return 0;
}

static void drain(xt_conn *c)
{
    const uint8_t *p;
    size_t n;
    while ((n = xt_conn_pending(c, &p)) > 0)
        xt_conn_consume(c, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The login's variants, picked by the input's length: pipelined or
     * not, with no SASL hint, one the seeds match, or a stale one. */
    static const char *const hints[] = {NULL, "SCRAM-SHA-1 PLAIN", "SCRAM-SHA-256 cb:tls-exporter"};
    const char *hint = hints[size % 3];
    /* Rarely with a salt: Hi() ahead costs milliseconds, fuzzing wants speed. */
    if (size % 13 == 0)
        hint = "SCRAM-SHA-1 PLAIN salt:sha1:4096:QSXCR+Q6sek8bf92";
    /* SASL2 (a user agent always, so SASL2 asks for tokens) and, for some
     * inputs, a FAST token sent ahead with the login stanzas behind it. */
    const char *fast = NULL;
    if (size % 7 == 3) {
        hint = "SCRAM-SHA-1 sasl2: fast:HT-SHA-256-NONE";
        fast = "secret-token:fast-T0K3N";
    }
    xt_conn_opts *o = NULL;
    xt_conn *c = NULL;
    int made = xt_conn_opts_new(NULL, &o) == 0 && xt_conn_opts_set_jid(o, "user@example.com") == 0 &&
               xt_conn_opts_set_password(o, "pencil") == 0 &&
               xt_conn_opts_set_resource(o, "laptop") == 0 &&
               xt_conn_opts_set_limits(o, 8192, 16) == 0 &&
               xt_conn_opts_set_sasl_hint(o, hint) == 0 &&
               xt_conn_opts_set_user_agent(o, "0f6c7b8e-3a55-4f6e-9d2c-3c1c2b7a9e10", "xtalk",
                                           NULL) == 0 &&
               xt_conn_opts_set_fast_token(o, "HT-SHA-256-NONE", fast) == 0 &&
               xt_conn_opts_set_flags(o, size % 5 == 0 ? XT_CONN_NO_PIPELINING : 0) == 0 &&
               xt_conn_new(o, &c) == 0;
    xt_conn_opts_free(o);
    if (!made)
        return 0;
    xt_conn_set_test_id_prefix(c, "t");
    /* Self-ping after 1 s of room silence, 200 ms for its answer (the
     * input's 0x01 lines jump to these deadlines). */
    (void)xt_muc_selfping_set(c, 1000, 200);
    (void)xt_conn_set_test_nonce(c, "fyko+d2lbbFgONRv9qkxdawL");
    fuzz_state st = {0};
    (void)xt_conn_on(c, XT_EV_ALL, on_event, &st);
    uint64_t now = 1000;
    (void)xt_conn_start(c, now);
    /* Each line of the input is one read from the socket: a record
     * boundary the way TCP might deliver it (the client drops what follows
     * <proceed/> or <success/> in the same read, by design). A line that
     * starts with a byte below 0x04 (never in a stream's text) is an event
     * of the driver instead: 0x01 the clock jumps to the conn's deadline
     * (timeouts, ack requests, keepalive), 0x02 the transport drops and
     * the driver reconnects (xt_conn_reset and a new start: the XEP-0198
     * resumption path), 0x03 the driver trims an idle connection. */
    size_t off = 0;
    while (off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (data + off)) + 1 : size - off;
        if (data[off] == 0x01) {
            int64_t d = xt_conn_deadline(c);
            if (d > 0 && (uint64_t)d > now)
                now = (uint64_t)d;
        } else if (data[off] == 0x02) {
            (void)xt_conn_eof(c, 0, NULL, now);
            if (xt_conn_reset(c) == 0)
                (void)xt_conn_start(c, now);
        } else if (data[off] == 0x03) {
            xt_conn_trim(c);
        } else {
            (void)xt_conn_feed(c, data + off, n, now);
        }
        off += n;
        if (st.starttls) {
            st.starttls = 0;
            static const uint8_t cb[32] = {1, 2, 3};
            xt_tls_info info = {.cb_type = "tls-exporter", .cb_data = cb, .cb_len = sizeof cb, .tls13 = 1};
            (void)xt_conn_tls_ready(c, offers_plus(data, size) ? &info : NULL, now);
        }
        drain(c);
        now += 250;
        (void)xt_conn_tick(c, now);
        if (xt_conn_get_state(c) == XT_STATE_CLOSED)
            break;
    }
    /* Use the resulting state through the API. */
    for (size_t i = 0; i < xt_conn_roster_count(c); i++) {
        const xt_roster_item *it = xt_conn_roster_item(c, i);
        if (it && it->jid) {
            size_t np = xt_conn_presence_count(c, it->jid);
            for (size_t k = 0; k < np; k++)
                (void)xt_conn_presence_at(c, it->jid, k);
            if (i == 0)
                (void)xt_conn_subscription(c, it->jid, "subscribed");
        }
    }
    for (size_t r = 0; r < xt_muc_room_count(c); r++) {
        const char *room = xt_muc_room_at(c, r);
        if (!room)
            continue;
        (void)xt_muc_room_state(c, room);
        (void)xt_muc_nick(c, room);
        (void)xt_muc_subject(c, room);
        (void)xt_muc_room_flags(c, room);
        size_t no = xt_muc_occupant_count(c, room);
        for (size_t k = 0; k < no; k++) {
            const xt_muc_occupant *oc = xt_muc_occupant_at(c, room, k);
            if (oc && k == 0)
                (void)xt_muc_occupant_find(c, room, oc->nick);
        }
    }
    (void)xt_muc_send(c, ROOM, "fuzz", NULL);
    (void)xt_muc_set_nick(c, ROOM, "hecate");
    (void)xt_muc_leave(c, ROOM, "bye");
    (void)xt_conn_send_presence(c, XT_SHOW_AWAY, "fuzz", 1);
    (void)xt_conn_bound_jid(c);
    (void)xt_conn_sm_enabled(c);
    (void)xt_conn_send_message(c, "juliet@example.com", "chat", "bye", NULL, NULL);
    (void)xt_conn_ping(c, NULL, NULL, NULL);
    (void)xt_conn_close(c);
    drain(c);
    (void)xt_conn_tick(c, now + 120000);
    (void)xt_conn_eof(c, 0, NULL, now + 120001);
    xt_conn_free(c);
    return 0;
}
