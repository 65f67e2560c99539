/*
 * XEP-0198 stream management on the stream (and its no-SM stand-in, the
 * XEP-0199 ack ping): enabling, counting what goes out (the unacked
 * queue) and comes in, <r/>/<a/>, resumption and its failure, and the
 * ack timers. The data that outlives a stream is core/sm.h's.
 *
 * Counters are uint32_t and wrap at 2^32 (§4): compared by differences.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "core/stream_int.h"

static int send_r(xt_stream *s);
static int send_ack_ping(xt_stream *s);

/* <a/>: how many stanzas from the server we have handled. */
int xt_stream_sm_send_a(xt_stream *s)
{
    char buf[96];
    snprintf(buf, sizeof buf, "<a xmlns='" XT_NS_SM "' h='%lu'/>", (unsigned long)s->sm.h_in);
    return xt_stream_emit_str(s, buf);
}

static int send_r(xt_stream *s)
{
    int rc = xt_stream_emit_str(s, "<r xmlns='" XT_NS_SM "'/>");
    if (rc)
        return rc;
    s->sm.since_r = 0;
    s->sm.r_upto = s->sm.acked + (uint32_t)s->sm.q.n; /* modulo 2^32 */
    /* The first unanswered request sets the dead-connection deadline. */
    if (!s->sm.r_deadline)
        s->sm.r_deadline = s->t.now + s->cfg.ack_timeout;
    return 0;
}

/* The stanza just appended to the output from offset `before` (relative
 * to the head) was sent: XEP-0198 §4 counts it and keeps its bytes until
 * the server acks it; without SM a <message> id waits for an ack ping.
 * On failure the stanza is taken back out of the output, so nothing
 * untracked ever leaves. */
int xt_stream_track(xt_stream *s, size_t before, const char *name, const char *id)
{
    const char *mid = name && strcmp(name, "message") == 0 ? id : NULL;
    int rc = 0;
    if (s->sm.state != XT_SM_OFF && s->sm.q.n >= s->cfg.max_unacked) {
        /* Sends from the application were refused before this (XT_ETOOBIG,
         * xt_stream_unacked_full); what gets here is an automatic reply
         * (an IQ result or error, a pong, the keepalive ping). Those count
         * against the same bound: a server that keeps asking and never
         * acknowledges (issue 12 item 4) would otherwise grow the queue
         * without limit. Not growing means not sending, and a reply we
         * owe cannot be dropped silently (RFC 6120 §8.2.3), so the stream
         * ends. */
        xt_buf_truncate(&s->out, before);
        char t[300];
        snprintf(t, sizeof t,
                 "the server left %zu stanzas unacknowledged (XEP-0198), the most kept for "
                 "resending (sm_max_unacked): not acknowledging is a policy violation",
                 s->sm.q.n);
        return xt_stream_fail(s, XT_ETOOBIG, "policy-violation", "policy-violation", t, NULL);
    }
    if (s->sm.state != XT_SM_OFF) {
        rc = xt_sm_queue_push(s->mem, &s->sm.q, (const char *)xt_buf_head(&s->out) + before,
                              xt_buf_size(&s->out) - before, mid);
        if (!rc) {
            s->sm.since_r++;
            s->sm.last_tx = s->t.now;
        }
    } else if (mid && s->phase == XT_PH_ONLINE) {
        rc = xt_sm_queue_push(s->mem, &s->sm.pend, NULL, 0, mid);
        if (!rc)
            s->sm.last_tx = s->t.now;
    }
    if (rc) {
        xt_buf_truncate(&s->out, before);
        return rc;
    }
    /* Ack policy: an <r/> every ack_every stanzas (the timer asks for
     * the rest ack_delay after the last one). */
    if (s->sm.state == XT_SM_ON && s->sm.since_r >= s->cfg.ack_every)
        return send_r(s);
    return 0;
}

int xt_stream_unacked_full(const xt_stream *s)
{
    size_t n = s->sm.state != XT_SM_OFF ? s->sm.q.n : s->sm.pend.n;
    return n >= s->cfg.max_unacked;
}

/* Without SM: a ping once ack_every messages wait (the timer sends one
 * ack_delay after the last message otherwise). */
int xt_stream_after_send(xt_stream *s)
{
    if (s->sm.state == XT_SM_OFF && s->phase == XT_PH_ONLINE && !s->sm.ping_out &&
        s->sm.pend.n >= s->cfg.ack_every)
        return send_ack_ping(s);
    return 0;
}

/* The server acknowledged n more stanzas: drop them, XT_EV_ACKED for
 * the messages. Entries leave the queue before the hook runs, so a
 * handler may send (append) freely. */
static void ack_n(xt_stream *s, uint32_t n)
{
    xt_sm_entry e;
    while (n-- && xt_sm_queue_pop(&s->sm.q, &e)) {
        s->sm.acked++;
        if (e.msg_id && s->hooks.acked)
            s->hooks.acked(s->hooks_ud, e.msg_id);
        xt_sm_entry_done(s->mem, &e);
    }
}

/* Validates <a h/> or <resumed h/> (§4: h counts stanzas we sent, so it
 * can never exceed that) and acks. Negative when the stream failed. */
static int sm_take_h(xt_stream *s, const xt_stanza *st)
{
    uint32_t h;
    /* XEP-0198 §4: h is an xs:unsignedInt; anything else is XML the
     * element's schema refuses (RFC 6120 §4.9.3.12 invalid-xml). */
    if (xt_sm_parse_h(xt_stanza_attr(st, "h"), &h)) {
        const char *v = xt_stanza_attr(st, "h");
        char t[200];
        snprintf(t, sizeof t, "the server sent a malformed XEP-0198 h value: %s%.64s%s",
                 v ? "'" : "", v ? v : "none", v ? "'" : "");
        return xt_stream_fail(s, XT_EPROTO, "invalid-xml", "invalid-xml", t, NULL);
    }
    uint32_t n = h - s->sm.acked; /* modulo 2^32 */
    if (n > s->sm.q.n) {
        char buf[400];
        uint32_t sent = s->sm.acked + (uint32_t)s->sm.q.n;
        snprintf(buf, sizeof buf,
                 "<stream:error><undefined-condition xmlns='" XT_NS_STREAM_ERRORS
                 "'/><handled-count-too-high xmlns='" XT_NS_SM
                 "' h='%lu' send-count='%lu'/></stream:error>",
                 (unsigned long)h, (unsigned long)sent);
        (void)xt_stream_emit_str(s, buf); /* nothing once our close is out (emit) */
        snprintf(buf, sizeof buf,
                 "the server acknowledged %lu stanzas but only %lu were sent (XEP-0198 "
                 "handled-count-too-high)",
                 (unsigned long)h, (unsigned long)sent);
        /* A session with broken counters is not resumed. */
        xt_free(s->mem, s->sm.id);
        s->sm.id = NULL;
        return xt_stream_fail(s, XT_EPROTO, NULL, "undefined-condition", buf, NULL);
    }
    ack_n(s, n);
    return 0;
}

int xt_stream_on_sm(xt_stream *s, const xt_stanza *st)
{
    const char *name = xt_stanza_name(st);
    if (strcmp(name, "r") == 0)
        return s->sm.state == XT_SM_ON ? xt_stream_sm_send_a(s) : 0;
    if (strcmp(name, "a") == 0) {
        if (s->sm.state == XT_SM_OFF)
            return 0;
        uint32_t before = s->sm.acked;
        int rc = sm_take_h(s, st);
        if (rc < 0 || !s->sm.r_deadline)
            return rc;
        /* §4: the answer to our <r/> counts everything sent before it.
         * An <a/> that acknowledges less does not answer it, or a server
         * sending <a h='0'/> forever would keep a dead session alive
         * (issue 12 item 4); one that acknowledges some progress proves
         * the server alive and restarts the wait. */
        uint32_t left = s->sm.r_upto - s->sm.acked; /* modulo 2^32; > q.n once passed */
        if (left == 0 || left > s->sm.q.n)
            s->sm.r_deadline = 0;
        else if (s->sm.acked != before)
            s->sm.r_deadline = s->t.now + s->cfg.ack_timeout;
        return 0;
    }
    if (strcmp(name, "enabled") == 0) {
        if (s->sm.state != XT_SM_ENABLING)
            return 0;
        s->sm.state = XT_SM_ON;
        const char *res = xt_stanza_attr(st, "resume"), *id = xt_stanza_attr(st, "id");
        xt_free(s->mem, s->sm.id);
        s->sm.id = NULL;
        if (res && (strcmp(res, "true") == 0 || strcmp(res, "1") == 0) && id && *id &&
            strlen(id) < 1024 && !(s->sm.id = xt_strdup(s->mem, id)))
            return XT_ENOMEM;
        xt_stream_logf(s, XT_LOG_INFO, "stream management enabled%s",
                       s->sm.id ? " (resumable)" : "");
        if (s->sm.since_r >= s->cfg.ack_every)
            return send_r(s);
        return 0;
    }
    if (strcmp(name, "resumed") == 0) {
        if (s->phase != XT_PH_RESUME)
            return xt_stream_fail(s, XT_EPROTO, NULL, NULL, "unexpected XEP-0198 <resumed/>", NULL);
        int rc = sm_take_h(s, st);
        if (rc < 0 || s->phase == XT_PH_CLOSED)
            return rc;
        /* §5: everything the server did not get goes out again, in
         * order, still counted as before (the server's count continues). */
        s->sm.state = XT_SM_ON;
        s->sm.since_r = 0;
        s->sm.r_deadline = 0;
        for (size_t i = 0; i < s->sm.q.n; i++) {
            xt_sm_entry *e = xt_sm_queue_at(&s->sm.q, i);
            if ((rc = xt_stream_emit_bytes(s, e->data, e->len)) != 0)
                return rc;
        }
        xt_stream_logf(s, XT_LOG_INFO, "stream resumed; %zu stanzas sent again", s->sm.q.n);
        s->sm.since_r = (uint32_t)s->sm.q.n;
        s->sm.last_tx = s->t.now;
        s->phase = XT_PH_ONLINE;
        s->t.nego_deadline = 0;
        s->t.last_rx = s->t.now;
        rc = s->hooks.online ? s->hooks.online(s->hooks_ud, s->bind.jid, XT_ONLINE_RESUMED) : 0;
        if (rc < 0 || s->phase != XT_PH_ONLINE)
            return rc;
        return s->sm.since_r >= s->cfg.ack_every ? send_r(s) : 0;
    }
    if (strcmp(name, "failed") == 0) {
        if (s->phase == XT_PH_RESUME) {
            /* §5: a failed resumption may still say what arrived. */
            uint32_t h;
            if (!xt_sm_parse_h(xt_stanza_attr(st, "h"), &h) &&
                (uint32_t)(h - s->sm.acked) <= s->sm.q.n)
                ack_n(s, h - s->sm.acked);
            if (s->phase == XT_PH_CLOSED)
                return 0;
            xt_stream_logf(s, XT_LOG_INFO, "stream resumption failed; starting a new session");
            xt_stream_sm_new_session(s);
            s->bind.retried = 0;
            return xt_stream_send_bind(s, s->cfg.resource);
        }
        if (s->sm.state == XT_SM_ENABLING) {
            /* No SM after all: messages already counted wait for an ack
             * ping instead. */
            xt_stream_logf(s, XT_LOG_INFO, "the server refused stream management");
            s->sm.state = XT_SM_OFF;
            s->bind.sm_offered = 0;
            xt_sm_entry e;
            while (xt_sm_queue_pop(&s->sm.q, &e)) {
                int rc = e.msg_id ? xt_sm_queue_push(s->mem, &s->sm.pend, NULL, 0, e.msg_id) : 0;
                xt_sm_entry_done(s->mem, &e);
                if (rc)
                    return rc;
            }
        }
        return 0;
    }
    return 0;
}

/* Resumption is impossible or failed: the unacked <message> stanzas of
 * the old session go out again on the new one (others, IQs and
 * presence, belong to the old session and are dropped). */
void xt_stream_sm_new_session(xt_stream *s)
{
    xt_free(s->mem, s->sm.id);
    s->sm.id = NULL;
    xt_sm_entry e;
    while (xt_sm_queue_pop(&s->sm.q, &e)) {
        if (e.msg_id && e.data) {
            /* Moving never allocates more than it frees: on failure the
             * message is lost to the conn, and xt_conn_is_unacked says
             * so (the application's copy is then the one to re-send). */
            (void)xt_sm_queue_push(s->mem, &s->resend, e.data, e.len, e.msg_id);
        }
        xt_sm_entry_done(s->mem, &e);
    }
    s->sm.h_in = s->sm.acked = 0;
}

/* A new session is bound: <enable/> when offered (§3), then the messages
 * a failed resumption left unacked, counted on the new session. */
int xt_stream_sm_session_start(xt_stream *s)
{
    int rc = 0;
    if (s->bind.sm_offered) {
        rc = xt_stream_emit_str(s, "<enable xmlns='" XT_NS_SM "' resume='true'/>");
        s->sm.state = XT_SM_ENABLING;
        s->sm.h_in = 0;
        s->sm.acked = 0;
        s->sm.since_r = 0;
        s->sm.r_deadline = 0;
    }
    xt_sm_entry e;
    while (!rc && xt_sm_queue_pop(&s->resend, &e)) {
        size_t before = xt_buf_size(&s->out);
        rc = xt_stream_emit_bytes(s, e.data, e.len);
        if (!rc)
            rc = xt_stream_track(s, before, "message", e.msg_id);
        xt_sm_entry_done(s->mem, &e);
    }
    return rc;
}

/* The stream ended: the unacked queue and the resumption id outlive it;
 * messages waiting for an ack ping without SM stay unacked (the
 * application's to re-send). */
void xt_stream_sm_stream_ended(xt_stream *s)
{
    s->sm.state = XT_SM_OFF;
    s->sm.since_r = 0;
    s->sm.r_deadline = 0;
    xt_sm_queue_free(s->mem, &s->sm.pend);
    s->sm.covered = 0;
    s->sm.ping_out = 0;
}

/* XEP-0198 §5: closing the stream ends the session; it cannot be
 * resumed (unacked messages are still sent again after a reset). */
void xt_stream_sm_forget(xt_stream *s)
{
    xt_free(s->mem, s->sm.id);
    s->sm.id = NULL;
}

/* XEP-0198 stream closure: the server takes stanzas we have not
 * acknowledged as undelivered when the stream ends (Prosody stores such
 * messages offline, and the next login gets them again): a last <a/>
 * says what we handled. */
int xt_stream_sm_final_ack(xt_stream *s)
{
    return s->sm.state == XT_SM_ON ? xt_stream_sm_send_a(s) : 0;
}

/* Acks at a tick: XEP-0198 <r/> (and its answer's deadline), or the ack
 * ping. Negative when the stream failed. */
int xt_stream_sm_tick(xt_stream *s, uint64_t now)
{
    if (s->sm.state == XT_SM_ON) {
        if (s->sm.r_deadline && now >= s->sm.r_deadline)
            return xt_stream_fail(s, XT_ETIMEOUT, NULL, NULL,
                                  "the server did not acknowledge (XEP-0198) in time", NULL);
        if (s->sm.since_r && now - s->sm.last_tx >= s->cfg.ack_delay) {
            int rc = send_r(s);
            if (rc)
                return xt_stream_fail_code(s, rc);
        }
    } else if (s->sm.state == XT_SM_OFF && !s->sm.ping_out && s->sm.pend.n &&
               now - s->sm.last_tx >= s->cfg.ack_delay) {
        int rc = send_ack_ping(s);
        if (rc)
            return xt_stream_fail_code(s, rc);
    }
    return 0;
}

/* The ack timers' part of xt_stream_deadline (online only). */
void xt_stream_sm_deadline(const xt_stream *s, int64_t *d)
{
    if (s->sm.state == XT_SM_ON) {
        if (s->sm.r_deadline)
            xt_take_min(d, s->sm.r_deadline);
        if (s->sm.since_r)
            xt_take_min(d, s->sm.last_tx + s->cfg.ack_delay);
    }
    if (s->sm.state == XT_SM_OFF && !s->sm.ping_out && s->sm.pend.n)
        xt_take_min(d, s->sm.last_tx + s->cfg.ack_delay);
}

/* Releases the arrays of empty queues (an idle connection). */
void xt_stream_sm_trim(xt_stream *s)
{
    xt_sm_queue_trim(s->mem, &s->sm.q);
    xt_sm_queue_trim(s->mem, &s->sm.pend);
    xt_sm_queue_trim(s->mem, &s->resend);
}

void xt_stream_sm_cleanup(xt_stream *s)
{
    xt_sm_queue_free(s->mem, &s->sm.q);
    xt_sm_queue_free(s->mem, &s->sm.pend);
    xt_sm_queue_free(s->mem, &s->resend);
    xt_free(s->mem, s->sm.id);
    s->sm.id = NULL;
}

/* XEP-0198 §4: a stanza from the server counts as handled once we take
 * it (the event handlers run synchronously right after). */
void xt_stream_sm_count_in(xt_stream *s)
{
    if (s->sm.state == XT_SM_ON)
        s->sm.h_in++;
}

static void ack_ping_done(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)c;
    (void)reply;
    xt_stream *s = ud;
    if (status == XT_ECLOSED)
        return; /* the stream failed: the no-SM list is already gone */
    s->sm.ping_out = 0;
    if (status == XT_ETIMEOUT) {
        xt_stream_fail(s, XT_ETIMEOUT, NULL, NULL, "the server did not answer (ack ping)", NULL);
        return;
    }
    /* A result or an error alike: the server handles a client's stanzas
     * in order (RFC 6120 §10.1), so it processed every message before. */
    size_t k = s->sm.covered;
    s->sm.covered = 0;
    xt_sm_entry e;
    while (k-- && s->phase != XT_PH_CLOSED && xt_sm_queue_pop(&s->sm.pend, &e)) {
        if (s->hooks.acked)
            s->hooks.acked(s->hooks_ud, e.msg_id);
        xt_sm_entry_done(s->mem, &e);
    }
}

static int send_ack_ping(xt_stream *s)
{
    xt_stanza *iq = xt_stanza_new(s->mem, "iq", XT_NS_CLIENT);
    int rc =
        iq && !xt_stanza_set_attr(iq, "type", "get") && xt_stanza_add_child(iq, "ping", XT_NS_PING)
            ? 0
            : XT_ENOMEM;
    if (!rc)
        rc = xt_stream_iq(s, iq, s->cfg.ack_timeout, ack_ping_done, s);
    xt_stanza_free(iq);
    if (!rc) {
        s->sm.ping_out = 1;
        s->sm.covered = s->sm.pend.n;
    }
    return rc;
}

int xt_stream_is_unacked(const xt_stream *s, const char *id)
{
    return id && (xt_sm_queue_has(&s->sm.q, id) || xt_sm_queue_has(&s->resend, id) ||
                  xt_sm_queue_has(&s->sm.pend, id));
}

int xt_stream_sm_preset(xt_stream *s, uint32_t h_in, uint32_t h_out)
{
    if (s->sm.q.n)
        return XT_ESTATE;
    s->sm.h_in = h_in;
    s->sm.acked = h_out;
    return 0;
}
