/*
 * core/stream_int.h -- what the files of the stream state machine share
 * (internal to src/core): stream.c (output, failing and closing, the
 * negotiation's dispatch, IQs, driving, lifetime), stream_sasl.c (SASL
 * choice, hints, precomputation, the exchange), stream_bind.c (binding,
 * session, going online) and stream_sm.c (XEP-0198 and the ack ping).
 * Each concern's fields of xt_stream are written only by its file, and
 * by stream.c's init/reset/cleanup.
 */
#ifndef XT_CORE_STREAM_INT_H
#define XT_CORE_STREAM_INT_H

#include "core/stream.h"

/* --- stream.c: output ----------------------------------------------------- */

/* Appends bytes to the output. `data` must be NUL-terminated at len (it is
 * logged, through xt_stream_log_xml) unless `logged` gives the text to log
 * instead, as is: how SASL credentials stay out of logs. Nothing once our closing tag is out. */
int xt_stream_emit(xt_stream *s, const char *data, size_t len, const char *logged);
int xt_stream_emit_str(xt_stream *s, const char *str);
/* Logs a chunk of XML traffic (XT_LOG_XML_IN / _OUT) with the secrets
 * stanzas carry hidden (log_redact.h); every XML the stream logs goes
 * through here but SASL's, which logs only element names. */
void xt_stream_log_xml(xt_stream *s, int level, const char *xml);
/* Already serialized bytes (a re-sent stanza), logged truncated. */
int xt_stream_emit_bytes(xt_stream *s, const char *data, size_t len);
/* Internal failures (allocation, full output buffer): xt_stream_fail
 * with the code's name as text. */
int xt_stream_fail_code(xt_stream *s, int rc);

static inline void xt_take_min(int64_t *d, uint64_t v)
{
    int64_t x = v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
    if (*d < 0 || x < *d)
        *d = x;
}

/* --- stream_iq.c ------------------------------------------------------------ */

/* A received <iq/> (once authenticated). Negative = fail the stream. */
int xt_stream_on_iq(xt_stream *s, const xt_stanza *st);

/* --- stream_sasl.c ----------------------------------------------------------- */

/* The features after TLS: choose and start the exchange, or check the
 * pipelined one against them. Negative when the stream failed. */
int xt_stream_start_sasl(xt_stream *s, const xt_stanza *features);
/* With a usable hint over TLS: the first SCRAM message now, pipelined
 * behind the stream header (pipe.early set). 0 also when nothing went. */
int xt_stream_send_early_auth(xt_stream *s);
/* A <challenge/>, <success/> or <failure/>. */
int xt_stream_on_sasl(xt_stream *s, const xt_stanza *st);
/* init: the hint's salt token into auth.salted (auth.precompute set). */
int xt_stream_sasl_hint_salt(xt_stream *s);
/* 1 when a hint text holds the "nocb:" token (the server refused the
 * binding we guessed at an earlier login; see stream_sasl.c). */
int xt_stream_sasl_hint_nocb(const char *hint);
/* The stream is failing with `error` while the channel-binding retry runs
 * on it (auth.cb_retry): 1 when that failure is the server ending the
 * stream (XT_ECLOSED, XT_ESTREAM, XT_EIO), which xt_stream_fail then
 * reports as the refusal retryable on a new connection, with the text
 * written to buf; 0 for any other failure. Clears auth.cb_retry. */
int xt_stream_sasl_retry_lost(xt_stream *s, int error, char *buf, size_t len);
/* init and reset: the hint's pin and whether its server offered SCRAM
 * into auth.pin, pin_strength, hint_scram (and hint_nocb). */
void xt_stream_sasl_read_hint(xt_stream *s);
/* tick: Hi() for the hinted salt. */
void xt_stream_sasl_precompute(xt_stream *s);

/* The server's SASL offer, parsed (stream_sasl.c): mechanism names and
 * the XEP-0440 channel-binding types; strings borrowed. */
typedef struct xt_stream_offer {
    const char *names[32];
    size_t n;
    const char *cbtypes[8];
    size_t ncb;
    int cb_advertised;
} xt_stream_offer;

/* The exchange an offer calls for, downgrade-checked: 0 and *out, or
 * negative when the stream failed. */
int xt_stream_sasl_choose(xt_stream *s, const xt_stream_offer *o, xt_sasl **out);
/* A <failure/> (RFC 6120 §6.4.5 or XEP-0388's; its <text/> in text_ns):
 * fails the stream (or plans the channel-binding retry). */
int xt_stream_sasl_failed(xt_stream *s, const xt_stanza *failure, const char *text_ns);
/* A success's additional data for auth.sasl: the server's proof checked,
 * the mechanism and next hint recorded, auth.sasl freed, auth.done set.
 * Negative when the stream failed. */
int xt_stream_sasl_succeeded(xt_stream *s, const uint8_t *data, size_t len);
/* A challenge's raw data -> <NAME xmlns='NS'>response</NAME>. */
int xt_stream_sasl_step(xt_stream *s, xt_buf *data, const char *name, const char *ns);
/* A login without the password (FAST): the hint's pin, salt and nocb
 * tokens carry over into the offer that becomes the next hint. */
int xt_stream_sasl_keep_hint(xt_stream *s);

/* --- stream_sasl2.c ------------------------------------------------------------ */

/* The features' SASL2 <authentication/> (XEP-0388 §2.1), or NULL (also
 * with XT_CONN_NO_SASL2). */
const xt_stanza *xt_stream_sasl2_offer(const xt_stream *s, const xt_stanza *features);
/* Appends to the offer text " sasl2:" when the features offer SASL2 (a
 * later offer without it is a downgrade) and " fast:MECH" per FAST
 * mechanism (a token for another one is not sent ahead next time). */
int xt_stream_sasl2_offer_text(const xt_stream *s, const xt_stanza *features, xt_buf *b);
/* Before send: whether the exchange is SASL2 (a2 not NULL), with Bind2
 * and which FAST token to ask for. */
void xt_stream_sasl2_prepare(xt_stream *s, const xt_stanza *a2);
/* <authenticate/> for auth.sasl with <user-agent/>, Bind2 and the token
 * request. */
int xt_stream_sasl2_send(xt_stream *s);
/* Behind the post-TLS header: the FAST <authenticate/> when the token
 * is usable on this connection (nothing sent otherwise). */
int xt_stream_sasl2_send_fast(xt_stream *s);
/* Features that offer FAST for our token (it was not sent ahead: no
 * hint yet): sends it now. 1 = sent, 0 = not usable here, negative =
 * an error. */
int xt_stream_sasl2_try_fast(xt_stream *s, const xt_stanza *a2);
/* The features that came behind the FAST <authenticate/>: if they do
 * not offer its mechanism, the password exchange (`o`) follows the
 * server's failure. Negative when the stream failed. */
int xt_stream_sasl2_check_fast(xt_stream *s, const xt_stanza *a2, const xt_stream_offer *o);
/* An element in XEP-0388's namespace. */
int xt_stream_sasl2_on(xt_stream *s, const xt_stanza *st);
/* Lifetime: init copies the user agent and token; reset readies another
 * connection; cleanup wipes. */
int xt_stream_sasl2_init(xt_stream *s, const xt_stream_config *cfg);
void xt_stream_sasl2_reset(xt_stream *s);
void xt_stream_sasl2_cleanup(xt_stream *s);

/* --- stream_bind.c ------------------------------------------------------------- */

/* Bound (by the bind IQ or by Bind2): online; XEP-0198 <enable/>. */
void xt_stream_go_online(xt_stream *s);

/* The post-auth features: binding must be offered; a legacy session
 * without <optional/> is needed; XEP-0198. XT_EPROTO when the stream
 * failed. */
int xt_stream_read_bind_features(xt_stream *s, const xt_stanza *features);
/* The post-auth features: <resume/> with a resumption id, else bind. */
int xt_stream_start_bind(xt_stream *s, const xt_stanza *features);
/* The bind IQ (resource NULL = server-assigned). */
int xt_stream_send_bind(xt_stream *s, const char *resource);

/* --- stream_sm.c --------------------------------------------------------------- */

/* The stanza `name` (id `id`) now ends the output from offset `before`:
 * counted (XEP-0198 §4) with its bytes kept until acked, or without SM a
 * <message> id waits for an ack ping. On failure it is cut back out of
 * the output, so nothing untracked ever leaves. */
int xt_stream_track(xt_stream *s, size_t before, const char *name, const char *id);
/* 1 while the unacked queue is full (sends fail with XT_ETOOBIG). */
int xt_stream_unacked_full(const xt_stream *s);
/* Without SM: the ack ping once ack_every messages wait. */
int xt_stream_after_send(xt_stream *s);
/* <a h/>. */
int xt_stream_sm_send_a(xt_stream *s);
/* <r/>, <a/>, <enabled/>, <resumed/>, <failed/>. */
int xt_stream_on_sm(xt_stream *s, const xt_stanza *st);
/* Resumption impossible or failed: unacked messages wait in `resend`. */
void xt_stream_sm_new_session(xt_stream *s);
/* A new session is bound: <enable/> if offered, then `resend`. */
int xt_stream_sm_session_start(xt_stream *s);
/* The stream ended (xt_stream_fail). */
void xt_stream_sm_stream_ended(xt_stream *s);
/* Our close: the session cannot be resumed; then the last <a/>. */
void xt_stream_sm_forget(xt_stream *s);
int xt_stream_sm_final_ack(xt_stream *s);
/* Addresses of a received stanza (stream_addr.c): 0 to process it, 1 to
 * drop it (logged), XT_ENOMEM. */
int xt_stream_check_addressing(xt_stream *s, const xt_stanza *st);
/* A received stanza handled (h_in). */
void xt_stream_sm_count_in(xt_stream *s);
/* Ack timers at a tick (negative: the stream failed) and their deadline. */
int xt_stream_sm_tick(xt_stream *s, uint64_t now);
void xt_stream_sm_deadline(const xt_stream *s, int64_t *d);
void xt_stream_sm_trim(xt_stream *s);
void xt_stream_sm_cleanup(xt_stream *s);

static inline int xt_stream_sm_on(const xt_stream *s)
{
    return s->sm.state == XT_SM_ON;
}

#endif
