/*
 * Fuzz target: the whole sans-I/O client state machine (xt_conn), with
 * the fuzzer playing the server: STARTTLS is "completed" at once, SASL
 * (PLAIN over the pretend TLS, or SCRAM with the RFC 5802 nonce so the
 * seed login transcripts go all the way; SASL2, Bind2 and a FAST token),
 * binding, roster, presence,
 * messages, IQs, stream errors, timers. Then the public API is used on
 * whatever state resulted. Must never crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "im/conn_int.h"
#include "xtalk/conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
    int starttls;
    int events;
} fuzz_state;

static void on_event(xt_conn *c, const xt_event *ev, void *ud)
{
    fuzz_state *st = ud;
    st->events++;
    if (ev->type == XT_EV_STARTTLS)
        st->starttls = 1;
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
    (void)xt_conn_set_test_nonce(c, "fyko+d2lbbFgONRv9qkxdawL");
    fuzz_state st = {0};
    (void)xt_conn_on(c, XT_EV_ALL, on_event, &st);
    uint64_t now = 1000;
    (void)xt_conn_start(c, now);
    /* Each line of the input is one read from the socket: a record
     * boundary the way TCP might deliver it (the client drops what follows
     * <proceed/> or <success/> in the same read, by design). */
    size_t off = 0;
    while (off < size) {
        const uint8_t *nl = memchr(data + off, '\n', size - off);
        size_t n = nl ? (size_t)(nl - (data + off)) + 1 : size - off;
        (void)xt_conn_feed(c, data + off, n, now);
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
        if (it && it->jid)
            (void)xt_conn_presence_count(c, it->jid);
    }
    (void)xt_conn_send_message(c, "juliet@example.com", "chat", "bye", NULL, NULL);
    (void)xt_conn_ping(c, NULL, NULL, NULL);
    (void)xt_conn_close(c);
    drain(c);
    (void)xt_conn_tick(c, now + 120000);
    (void)xt_conn_eof(c, 0, NULL, now + 120001);
    xt_conn_free(c);
    return 0;
}
