/*
 * Stanzas out and IQs on the stream: serializing into the output (never
 * half a stanza: a failed write is cut back), stanza ids, IQ requests
 * tracked until their one answer (RFC 6120 §8.2.3), replies to the
 * server's requests, and IQs received: answers matched to requests by id
 * and sender (§10.1), XEP-0199 pings answered, the rest to the IM layer
 * or service-unavailable (§8.4).
 */
#include <string.h>

#include "base/mem.h"
#include "core/stream_int.h"
#include "xml/serialize.h"

/* The stanza `name` (id `id`) now ends the output from `before`: tracks
 * and logs it. */
static int emitted(xt_stream *s, size_t before, const char *name, const char *id)
{
    int rc = xt_stream_track(s, before, name, id);
    if (rc)
        return rc;
    if (s->cfg.log) {
        /* NUL-terminate without counting the NUL; offsets relative to the
         * head survive a compaction. */
        char *head = xt_buf_cstr(&s->out);
        if (head)
            xt_stream_log_xml(s, XT_LOG_XML_OUT, head + before);
    }
    return 0;
}

/* Serializes a tree straight into the output (the serializer appends
 * nothing on failure, so no half stanza is ever queued). */
static int emit_tree(xt_stream *s, const xt_stanza *st)
{
    size_t before = xt_buf_size(&s->out);
    int rc = xt_stanza_serialize(st, XT_NS_CLIENT, &s->out);
    return rc ? rc : emitted(s, before, xt_stanza_name(st), xt_stanza_attr(st, "id"));
}

void xt_stream_next_id(xt_stream *s, char out[64])
{
    /* prefix + decimal counter, as "%s%llu" would write it (on every
     * send, so without snprintf): at most 23 + 20 characters. */
    char dig[20];
    size_t nd = 0;
    uint64_t v = ++s->id_counter;
    do {
        dig[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t pl = s->id_prefix_len;
    memcpy(out, s->id_prefix, pl);
    for (size_t i = 0; i < nd; i++)
        out[pl + i] = dig[nd - 1 - i];
    out[pl + nd] = '\0';
}

static int iq_open(const xt_stream *s)
{
    /* login_now: the login stanzas pipelined behind a FAST <authenticate/>
     * with Bind2 (stream_sasl2.c), bound by the time the server reads them. */
    return (s->phase >= XT_PH_BIND && s->phase <= XT_PH_ONLINE) || s->pipe.login_now;
}

int xt_stream_send(xt_stream *s, const xt_stanza *st)
{
    if (!iq_open(s))
        return XT_ESTATE;
    if (xt_stream_unacked_full(s))
        return XT_ETOOBIG;
    int rc = emit_tree(s, st);
    return rc ? rc : xt_stream_after_send(s);
}

int xt_stream_send_nonza(xt_stream *s, const char *xml)
{
    if (!iq_open(s))
        return XT_ESTATE;
    return xt_stream_emit_str(s, xml);
}

int xt_stream_send_written(xt_stream *s, xt_stanza_writer write, const void *ud, const char *name,
                           const char *id)
{
    if (!iq_open(s))
        return XT_ESTATE;
    if (xt_stream_unacked_full(s))
        return XT_ETOOBIG;
    size_t before = xt_buf_size(&s->out);
    int rc = write(&s->out, ud);
    if (rc) {
        xt_buf_truncate(&s->out, before); /* no half stanza */
        return rc;
    }
    rc = emitted(s, before, name, id);
    return rc ? rc : xt_stream_after_send(s);
}

int xt_stream_iq(xt_stream *s, const xt_stanza *st, uint32_t timeout_ms, xt_iq_fn fn, void *ud)
{
    if (!iq_open(s))
        return XT_ESTATE;
    if (s->sm.state != XT_SM_OFF && s->sm.q.n >= s->cfg.max_unacked)
        return XT_ETOOBIG;
    const char *type = xt_stanza_attr(st, "type");
    if (strcmp(xt_stanza_name(st), "iq") != 0 || !type ||
        (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return XT_EINVAL;
    xt_stanza *copy = NULL;
    const char *id = xt_stanza_attr(st, "id");
    if (!id) {
        char nid[64];
        xt_stream_next_id(s, nid);
        copy = xt_stanza_copy(st);
        if (!copy || xt_stanza_set_attr(copy, "id", nid)) {
            xt_stanza_free(copy);
            return XT_ENOMEM;
        }
        st = copy;
        id = xt_stanza_attr(st, "id");
    }
    uint64_t deadline = s->t.now + (timeout_ms ? timeout_ms : s->cfg.iq_timeout);
    /* Tracked before it is sent, so a send never leaves an untracked IQ. */
    int rc = xt_iq_add(&s->iqs, id, xt_stanza_attr(st, "to"), deadline, fn, ud);
    if (!rc) {
        rc = emit_tree(s, st);
        if (rc)
            xt_iq_drop_last(&s->iqs);
    }
    xt_stanza_free(copy);
    return rc;
}

int xt_stream_reply_result(xt_stream *s, const xt_stanza *iq)
{
    xt_stanza *r = xt_stanza_new(s->mem, "iq", XT_NS_CLIENT);
    const char *from = xt_stanza_attr(iq, "from");
    int rc = r ? 0 : XT_ENOMEM;
    if (!rc)
        rc = xt_stanza_set_attr(r, "type", "result");
    if (!rc)
        rc = xt_stanza_set_attr(r, "id", xt_stanza_attr(iq, "id"));
    if (!rc && from)
        rc = xt_stanza_set_attr(r, "to", from);
    if (!rc)
        rc = emit_tree(s, r);
    xt_stanza_free(r);
    return rc;
}

int xt_stream_reply_error(xt_stream *s, const xt_stanza *iq, const char *type, const char *cond)
{
    /* RFC 6120 §8.3.2: type='error', same id, addressed back, <error/>
     * with a type and a defined condition. */
    xt_stanza *r = xt_stanza_new(s->mem, "iq", XT_NS_CLIENT);
    const char *from = xt_stanza_attr(iq, "from");
    int rc = r ? 0 : XT_ENOMEM;
    if (!rc)
        rc = xt_stanza_set_attr(r, "type", "error");
    if (!rc)
        rc = xt_stanza_set_attr(r, "id", xt_stanza_attr(iq, "id"));
    if (!rc && from)
        rc = xt_stanza_set_attr(r, "to", from);
    xt_stanza *e = rc ? NULL : xt_stanza_add_child(r, "error", NULL);
    if (!rc && (!e || xt_stanza_set_attr(e, "type", type) ||
                !xt_stanza_add_child(e, cond, XT_NS_STANZA_ERRORS)))
        rc = XT_ENOMEM;
    if (!rc)
        rc = emit_tree(s, r);
    xt_stanza_free(r);
    return rc;
}

int xt_stream_on_iq(xt_stream *s, const xt_stanza *st)
{
    const char *type = xt_stanza_attr(st, "type");
    const char *id = xt_stanza_attr(st, "id");
    if (!type)
        return 0;
    if (strcmp(type, "result") == 0 || strcmp(type, "error") == 0) {
        xt_iq_self self = {xt_stream_bare(s), xt_stream_domain(s), s->bind.jid};
        xt_iq_pending p;
        if (!xt_iq_take(&s->iqs, id, xt_stanza_attr(st, "from"), &self, &p))
            return 0; /* unknown, or from someone we did not ask: §10.1 */
        if (p.fn)
            p.fn(s->owner, strcmp(type, "result") == 0 ? 0 : XT_ESTANZA, st, p.ud);
        xt_iq_pending_done(s->mem, &p);
        return 0;
    }
    if ((strcmp(type, "get") && strcmp(type, "set")) || !id)
        return 0; /* nothing we could address a reply to */
    /* After our </stream:stream> nothing more may be sent (RFC 6120
     * §4.4), not even an error: the request stays unanswered, and the
     * stream waits for the server's close as it would without it. */
    if (s->phase == XT_PH_CLOSING)
        return 0;
    if (s->phase != XT_PH_ONLINE)
        return xt_stream_reply_error(s, st, "cancel", "service-unavailable");
    const xt_stanza *payload = xt_stanza_first_child(st);
    if (strcmp(type, "get") == 0 && payload && strcmp(xt_stanza_name(payload), "ping") == 0 &&
        strcmp(xt_stanza_ns(payload), XT_NS_PING) == 0)
        return xt_stream_reply_result(s, st); /* XEP-0199 §4 */
    int rc = s->hooks.iq_request ? s->hooks.iq_request(s->hooks_ud, st) : 0;
    if (rc)
        return rc < 0 ? rc : 0;
    /* RFC 6120 §8.4: an IQ nobody understands gets service-unavailable. */
    return xt_stream_reply_error(s, st, "cancel", "service-unavailable");
}
