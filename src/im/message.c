/* Messages (RFC 6121 §5): the XT_EV_MESSAGE event (live, offline, and
 * the unwrapped carbons and archive results of carbons.c and mam.c) and
 * xt_conn_send_message. */
#include <string.h>

#include "base/mem.h"
#include "core/jid_int.h"
#include "im/conn_int.h"
#include "im/msgext.h"
#include "xml/known.h"
#include "xtalk/pep.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil), so no timegm() and no time zone state is needed. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int64_t xt_im_parse_stamp(const char *s)
{
    /* XEP-0082 §3.2 DateTime: CCYY-MM-DDThh:mm:ss[.sss]TZD, TZD = Z or
     * (+|-)hh:mm. Anything else: 0 (unknown). */
    int y, mo, d, h, mi, se, ms = 0;
    if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        int scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
    }
    int64_t off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
            return 0;
        off = (int64_t)(oh * 60 + om) * 60000 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return 0;
    }
    if (*p)
        return 0;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    return ((days * 86400 + h * 3600 + mi * 60 + se) * 1000 + ms) - off;
}

/* The <delay/> of a stanza (XEP-0203), or NULL. */
static const xt_stanza *delay_of(const xt_stanza *st)
{
    return st ? xt_stanza_child(st, "delay", XT_NS_DELAY) : NULL;
}

void xt_im_message_fill(xt_conn *c, const xt_stanza *st, xt_message *m)
{
    /* Attribute names are the shared constants of xml/known.h: each
     * lookup compares pointers (the receive hot path, tests/perf). */
    m->from = xt_stanza_attr_k(st, XT_K_FROM);
    m->to = xt_stanza_attr_k(st, XT_K_TO);
    m->id = xt_stanza_attr_k(st, XT_K_ID);
    m->lang = xt_stanza_attr_k(st, XT_K_XML_LANG);
    const char *type = xt_stanza_attr_k(st, XT_K_TYPE);
    /* §5.2.2: a missing type means "normal". Messages without a body
     * (chat states, receipts, ...) are delivered too: the application
     * may care about their other children. */
    m->type = type && *type ? type : "normal";
    m->body = m->subject = m->thread = NULL;
    m->stamp = m->origin_id = m->stanza_id = m->stanza_id_by = NULL;
    int seen_origin = 0, seen_delay = 0;
    /* One pass over the children (this is the receive hot path, see
     * tests/perf): the first of each kind counts, as xt_stanza_child
     * would find it. */
    for (const xt_stanza *ch = xt_stanza_first_child(st); ch; ch = xt_stanza_next_sibling(ch)) {
        xt_known name = xt_stanza_name_k(ch);
        switch (xt_stanza_ns_k(ch)) {
        case XT_K_NS_CLIENT:
            if (!m->body && name == XT_K_BODY)
                m->body = xt_stanza_text(ch);
            else if (!m->subject && name == XT_K_SUBJECT)
                m->subject = xt_stanza_text(ch);
            else if (!m->thread && name == XT_K_THREAD)
                m->thread = xt_stanza_text(ch);
            break;
        case XT_K_NS_DELAY:
            /* XEP-0203: <delay xmlns='urn:xmpp:delay' stamp='...'/>
             * marks an offline or archived message. */
            if (!seen_delay && name == XT_K_DELAY) {
                seen_delay = 1;
                m->stamp = xt_stanza_attr_k(ch, XT_K_STAMP);
            }
            break;
        case XT_K_NS_SID:
            /* XEP-0359 §3: <origin-id/> is the sender's; a <stanza-id/>
             * is only trusted when 'by' is our own account (our server
             * stamped it and strips forged copies, §4), so one from
             * anybody else is ignored. */
            if (!seen_origin && name == XT_K_ORIGIN_ID) {
                seen_origin = 1;
                m->origin_id = xt_stanza_attr_k(ch, XT_K_ID);
            } else if (!m->stanza_id && name == XT_K_STANZA_ID) {
                const char *by = xt_stanza_attr_k(ch, XT_K_BY);
                if (by && xt_im_is_own_bare(c, by)) {
                    m->stanza_id = xt_stanza_attr_k(ch, XT_K_ID);
                    m->stanza_id_by = by;
                }
            }
            break;
        default:
            break;
        }
    }
    m->timestamp_ms = xt_im_parse_stamp(m->stamp);
    m->stanza = st;
}

/* 1 when a full or bare JID's bare part is our account's. */
static int from_own_account(xt_conn *c, const char *jid)
{
    if (!jid)
        return 0;
    /* The common printable-ASCII JID prepared without PRECIS (whose
     * full path cost ~9,000 instructions an archived message, issue 14):
     * xt_jid_prep_fast's result is the full path's, and a bare part ends
     * at the first '/' (neither a localpart nor a domainpart holds one). */
    char buf[512];
    size_t n = xt_jid_prep_fast(jid, strlen(jid), buf, sizeof buf);
    if (n) {
        const char *bare = xt_stream_bare(&c->s), *slash = memchr(buf, '/', n);
        size_t bl = slash ? (size_t)(slash - buf) : n;
        return bare && strlen(bare) == bl && memcmp(buf, bare, bl) == 0;
    }
    xt_jid *j = NULL;
    if (xt_jid_parse(c->s.mem, jid, &j, NULL))
        return 0;
    int own = strcmp(xt_jid_bare(j), xt_stream_bare(&c->s)) == 0;
    xt_jid_free(j);
    return own;
}

int xt_im_deliver(xt_conn *c, const xt_stanza *inner, const xt_im_wrapped *w)
{
    xt_event ev = {.type = XT_EV_MESSAGE};
    xt_message *m = &ev.u.message;
    xt_im_message_fill(c, inner, m);
    m->source = w->source;
    m->direction = w->direction;
    /* XEP-0297 §3: the forwarding entity's <delay/> says when the
     * original was sent; it wins over none. */
    const xt_stanza *fd = delay_of(w->forwarded);
    if (fd && !m->stamp) {
        m->stamp = xt_stanza_attr(fd, "stamp");
        m->timestamp_ms = xt_im_parse_stamp(m->stamp);
    }
    if (w->source == XT_SRC_ARCHIVE) {
        /* XEP-0313 §4.1.2: the result's id is the archive's stanza-id. */
        m->stanza_id = w->archive_id;
        m->stanza_id_by = w->archive_by;
        m->archive_tag = w->archive_tag;
        m->direction = from_own_account(c, m->from) ? XT_DIR_OUT : XT_DIR_IN;
    } else if (m->stanza_id) {
        int rc = xt_mam_saw_live(c, m->stanza_id);
        if (rc)
            return rc;
    }
    /* The message features (receipts, chat states, corrections, ...)
     * are the inner message's, whatever the source. */
    xt_im_ext x;
    xt_im_message_features(inner, m, &x);
    m->room = m->nick = NULL;
    m->mention = m->from_self = 0;
    if (w->source == XT_SRC_ARCHIVE && c->muc.n && !xt_im_is_own_bare(c, w->archive_by)) {
        /* A room's archive (XEP-0313 §6): its room fields; what the room
         * delivered before is not delivered again (muc_mam.c). */
        int rc = xt_muc_on_archived(c, m);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    if (w->source == XT_SRC_LIVE && (c->muc.n || x.muc_user || x.conference)) {
        /* XEP-0045: a room's messages (and invitations to one). */
        int rc = xt_muc_on_message(c, inner, m, x.muc_user, x.conference);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    xt_conn_emit(c, &ev);
    if (xt_stream_is_closed(&c->s))
        return 0;
    xt_im_message_feature_events(c, m, &x);
    /* A message addressed to us, live or from offline storage: the one
     * place a receipt request is answered (a carbon or an archived copy
     * is not ours to confirm: another device got it, or already did). */
    if (w->source != XT_SRC_LIVE && w->source != XT_SRC_OFFLINE)
        return 0;
    return xt_im_receipt_answer(c, m);
}

void xt_im_message_features(const xt_stanza *st, xt_message *m, xt_im_ext *x)
{
    xt_im_ext none;
    if (!x)
        x = &none;
    *x = (xt_im_ext){0};
    m->receipt_request = 0;
    m->receipt_id = m->replace_id = NULL;
    m->chatstate = XT_CHATSTATE_NONE;
    m->me = xt_im_me_parse(m->body);
    m->file = NULL;
    for (const xt_stanza *ch = xt_stanza_first_child(st); ch; ch = xt_stanza_next_sibling(ch)) {
        switch (xt_stanza_ns_k(ch)) {
        case XT_K_NS_SID:
        case XT_K_NS_DELAY:
        case XT_K_NS_HINTS:
        case XT_K_NS_MARKERS:
        case XT_K_NS_CARBONS:
        case XT_K_NS_MAM:
        case XT_K_NS_FORWARD:
            /* Known namespaces of none of the features below (a
             * message's <origin-id/> and <stanza-id/>): passed over
             * without a string comparison (the receive hot path). */
            continue;
        default:
            break;
        }
        const char *ns = xt_stanza_ns(ch);
        if (ns[0] == 'j') {
            /* XEP-0066 <x xmlns='jabber:x:oob'/> and XEP-0249 <x
             * xmlns='jabber:x:conference'/>: their one-letter name passes
             * over <body/>, <thread/> and the rest of jabber:client in a
             * byte or two (the receive hot path). */
            const char *name = xt_stanza_name(ch);
            if (name[0] == 'x' && !name[1]) {
                if (!x->conference && strcmp(ns, XT_NS_CONFERENCE) == 0)
                    x->conference = ch;
                else if (!m->file && x != &none && xt_im_file_child(ch, &x->file))
                    m->file = &x->file; /* the first file counts */
            }
            continue;
        }
        /* Ours all begin "urn:xmpp:" or "http://jabber.org/": one byte
         * passes over the other namespaces. */
        if (ns[0] != 'u' && ns[0] != 'h')
            continue;
        if (strcmp(ns, XT_NS_RECEIPTS) == 0) {
            const char *name = xt_stanza_name(ch);
            if (strcmp(name, "request") == 0) {
                m->receipt_request = 1;
            } else if (strcmp(name, "received") == 0 && !m->receipt_id) {
                const char *rid = xt_stanza_attr(ch, "id");
                m->receipt_id = rid && *rid ? rid : NULL;
            }
        } else if (strcmp(ns, XT_NS_CHATSTATES) == 0) {
            /* XEP-0085 §5.1: one state per message; the first counts. */
            if (m->chatstate == XT_CHATSTATE_NONE)
                m->chatstate = xt_im_chatstate_of(ch);
        } else if (strcmp(ns, XT_NS_CORRECT) == 0) {
            if (!m->replace_id)
                m->replace_id = xt_im_correction_of(ch);
        } else if (strcmp(ns, XT_NS_REACTIONS) == 0) {
            if (!x->reactions && strcmp(xt_stanza_name(ch), "reactions") == 0)
                x->reactions = ch;
        } else if (ns[0] == 'u' && !m->file && strcmp(ns, XT_NS_SFS) == 0) {
            /* XEP-0447 <file-sharing/> */
            if (x != &none && xt_im_file_child(ch, &x->file))
                m->file = &x->file;
        } else if (strcmp(ns, XT_NS_MUC_USER) == 0) {
            if (!x->muc_user && strcmp(xt_stanza_name(ch), "x") == 0)
                x->muc_user = ch;
        } else if (!x->retract_id) {
            x->retract_id = xt_im_retraction_of(ch);
        }
    }
}

/* The XEP-0444 cap on reactions per sender, as sent (reactions.c). */
#define MAX_REACTIONS_IN 32

void xt_im_message_feature_events(xt_conn *c, const xt_message *m, const xt_im_ext *x)
{
    /* An error bounce carries our own stanza's children back: a
     * <request/> or <reactions/> in it is ours, not news. */
    if (strcmp(m->type, "error") == 0)
        return;
    if (m->receipt_id) {
        xt_event ev = {.type = XT_EV_RECEIPT, .u.receipt = {.from = m->from, .id = m->receipt_id}};
        xt_conn_emit(c, &ev);
    }
    if (m->chatstate != XT_CHATSTATE_NONE && !xt_stream_is_closed(&c->s)) {
        xt_event ev = {.type = XT_EV_CHATSTATE,
                       .u.chatstate = {.from = m->from, .state = m->chatstate}};
        xt_conn_emit(c, &ev);
    }
    if (x->reactions && !xt_stream_is_closed(&c->s)) {
        const char *v[MAX_REACTIONS_IN];
        const char *rid = NULL;
        int n = xt_im_reactions_parse(x->reactions, &rid, v, MAX_REACTIONS_IN);
        if (n >= 0) {
            xt_event ev = {
                .type = XT_EV_REACTION,
                .u.reaction = {.from = m->from, .id = rid, .reactions = v, .n = (size_t)n}};
            xt_conn_emit(c, &ev);
        }
    }
    if (x->retract_id && !xt_stream_is_closed(&c->s)) {
        xt_event ev = {.type = XT_EV_RETRACTION,
                       .u.retraction = {.from = m->from, .id = x->retract_id}};
        xt_conn_emit(c, &ev);
    }
}

int xt_im_on_message(xt_conn *c, const xt_stanza *st)
{
    const xt_stanza *d = NULL;
    for (const xt_stanza *ch = xt_stanza_first_child(st); ch; ch = xt_stanza_next_sibling(ch)) {
        xt_known name = xt_stanza_name_k(ch);
        switch (xt_stanza_ns_k(ch)) {
        case XT_K_NS_CARBONS:
            if (name == XT_K_RECEIVED || name == XT_K_SENT)
                return xt_carbons_on_message(c, st, ch);
            break;
        case XT_K_NS_MAM:
            if (name == XT_K_RESULT)
                return xt_mam_on_result(c, st, ch);
            break;
        case XT_K_NS_DELAY:
            if (!d && name == XT_K_DELAY)
                d = ch;
            break;
        default:
            break;
        }
    }
    /* XEP-0160: what the server kept while we were offline comes with a
     * <delay/> stamped by our server (its domain or our account). */
    const char *dfrom = d ? xt_stanza_attr_k(d, XT_K_FROM) : NULL;
    xt_im_wrapped w = {.source = XT_SRC_LIVE, .direction = XT_DIR_IN};
    if (dfrom && (strcmp(dfrom, xt_stream_domain(&c->s)) == 0 || xt_im_is_own_bare(c, dfrom)))
        w.source = XT_SRC_OFFLINE;
    int rc = xt_im_deliver(c, st, &w);
    if (rc || xt_stream_is_closed(&c->s))
        return rc;
    /* XEP-0163: a notification is a top-level message (never a carbon's
     * or an archive result's inner one: those returned above). */
    const xt_stanza *pev = xt_stanza_child(st, "event", XT_NS_PUBSUB_EVENT);
    return pev ? xt_pep_on_event(c, st, pev) : 0;
}

static int valid_type(const char *t)
{
    static const char *const types[] = {"chat", "normal", "groupchat", "headline"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(t, types[i]) == 0)
            return 1;
    return 0;
}

/* 1..63 characters, valid XML text: fits id_out[64] and an attribute. */
int xt_im_id_ok(const char *id)
{
    size_t n = strlen(id);
    return n > 0 && n < 64 && xt_im_text_ok(id);
}

/* One element with escaped text, or empty (<name/>) as the serializer
 * writes an element without children. */
static int put_text_elem(xt_buf *b, const char *open, size_t olen, const char *empty, size_t elen,
                         const char *close, size_t clen, const char *text)
{
    size_t n = strlen(text);
    if (n == 0)
        return xt_buf_append(b, empty, elen);
    int rc = xt_buf_append(b, open, olen);
    if (!rc)
        rc = xt_buf_append_escaped(b, text, n, 0);
    return rc ? rc : xt_buf_append(b, close, clen);
}

#define LIT(s) s, sizeof s - 1

int xt_im_write_message(xt_buf *b, const xt_im_message_out *m)
{
    /* What xt_stanza_serialize(.., XT_NS_CLIENT, ..) writes for
     * <message to type id><body/><thread/><origin-id xmlns id/></message>
     * built as a tree, attributes and children in that order. */
    int rc = xt_buf_append(b, LIT("<message to='"));
    if (!rc)
        rc = xt_buf_append_escaped(b, m->to, m->to_len, 1);
    if (!rc)
        rc = xt_buf_append(b, LIT("' type='"));
    if (!rc) /* one of the four types: nothing to escape */
        rc = xt_buf_append(b, m->type, strlen(m->type));
    if (!rc)
        rc = xt_buf_append(b, LIT("' id='"));
    if (!rc)
        rc = xt_buf_append_escaped(b, m->id, m->id_len, 1);
    if (!rc)
        rc = xt_buf_append(b, LIT("'>"));
    if (!rc && m->body)
        rc = put_text_elem(b, LIT("<body>"), LIT("<body/>"), LIT("</body>"), m->body);
    if (!rc && m->thread)
        rc = put_text_elem(b, LIT("<thread>"), LIT("<thread/>"), LIT("</thread>"), m->thread);
    if (!rc && m->request_receipt)
        rc = xt_buf_append(b, LIT("<request xmlns='" XT_NS_RECEIPTS "'/>"));
    if (!rc && m->chatstate) {
        rc = xt_buf_append(b, LIT("<"));
        if (!rc) /* one of the five names: nothing to escape */
            rc = xt_buf_append(b, m->chatstate, strlen(m->chatstate));
        if (!rc)
            rc = xt_buf_append(b, LIT(" xmlns='" XT_NS_CHATSTATES "'/>"));
    }
    if (!rc && m->replace_id) {
        rc = xt_buf_append(b, LIT("<replace xmlns='" XT_NS_CORRECT "' id='"));
        if (!rc)
            rc = xt_buf_append_escaped(b, m->replace_id, strlen(m->replace_id), 1);
        if (!rc)
            rc = xt_buf_append(b, LIT("'/>"));
    }
    if (!rc && m->oob_url) {
        rc = xt_buf_append(b, LIT("<x xmlns='jabber:x:oob'><url>"));
        if (!rc)
            rc = xt_buf_append_escaped(b, m->oob_url, strlen(m->oob_url), 0);
        if (!rc)
            rc = xt_buf_append(b, LIT("</url></x>"));
    }
    if (!rc && m->muc_user) /* XEP-0045 §7.5: a private message through a room */
        rc = xt_buf_append(b, LIT("<x xmlns='" XT_NS_MUC_USER "'/>"));
    if (!rc)
        rc = xt_buf_append(b, LIT("<origin-id xmlns='" XT_NS_SID "' id='"));
    if (!rc)
        rc = xt_buf_append_escaped(b, m->id, m->id_len, 1);
    if (!rc)
        rc = xt_buf_append(b, LIT("'/></message>"));
    return rc;
}

static int message_writer(xt_buf *out, const void *ud)
{
    return xt_im_write_message(out, ud);
}

/* id NULL: a fresh one is made (once the arguments are known good, so
 * refused calls use up no id) and copied to gen[64]. No tree and, for
 * the common printable-ASCII address, no allocation: the stanza is
 * written straight into the output (xt_im_write_message). */
static int send_message(xt_conn *c, const char *to, const char *type, const char *body,
                        const char *thread, const char *id, const xt_message_extras *x,
                        int muc_user, char gen[64])
{
    if (!c || !to)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    if (!type)
        type = "chat";
    if (!valid_type(type) || (id && !xt_im_id_ok(id)) || (body && !xt_im_text_ok(body)) ||
        (thread && !xt_im_text_ok(thread)))
        return XT_EINVAL;
    const char *state = NULL;
    if (x) {
        if ((x->replace_id && !xt_im_id_ok(x->replace_id)) ||
            (x->chatstate != XT_CHATSTATE_NONE && !(state = xt_chatstate_name(x->chatstate))) ||
            (x->oob_url && (!x->oob_url[0] || !xt_im_text_ok(x->oob_url))))
            return XT_EINVAL;
    }
    /* The address as xt_jid_parse prepares it; the fast path only takes
     * what the full one accepts unchanged in meaning, so refusals (and
     * their codes) all come from xt_jid_parse. */
    char fast[512];
    xt_jid *j = NULL;
    xt_im_message_out m = {
        .type = type, .body = body, .thread = thread, .chatstate = state, .muc_user = muc_user};
    m.to_len = xt_jid_prep_fast(to, strlen(to), fast, sizeof fast);
    m.to = fast;
    if (!m.to_len) {
        int rc = xt_jid_parse(c->s.mem, to, &j, NULL);
        if (rc)
            return rc;
        m.to = xt_jid_full(j);
        m.to_len = strlen(m.to);
    }
    if (x) { /* once `to` is prepared: AUTO looks at its caps */
        /* XEP-0184 §5.3: no receipts in groupchat. */
        m.request_receipt =
            strcmp(type, "groupchat") != 0 &&
            (x->request_receipt == XT_RECEIPT_AUTO ? xt_im_receipts_supported(c, m.to)
                                                   : x->request_receipt != XT_RECEIPT_NONE);
        m.replace_id = x->replace_id;
        m.oob_url = x->oob_url;
    }
    if (!id) {
        xt_stream_next_id(&c->s, gen);
        id = gen;
    }
    m.id = id;
    m.id_len = strlen(id);
    int rc = xt_stream_send_written(&c->s, message_writer, &m, "message", id);
    xt_jid_free(j);
    return rc;
}

int xt_conn_send_message(xt_conn *c, const char *to, const char *type, const char *body,
                         const char *thread, char id_out[64])
{
    char id[64];
    int rc = send_message(c, to, type, body, thread, NULL, NULL, 0, id);
    if (!rc && id_out)
        memcpy(id_out, id, strlen(id) + 1);
    return rc;
}

int xt_conn_send_message_id(xt_conn *c, const char *to, const char *type, const char *body,
                            const char *thread, const char *id)
{
    if (!id)
        return XT_EINVAL;
    return send_message(c, to, type, body, thread, id, NULL, 0, NULL);
}

int xt_conn_send_message_ex(xt_conn *c, const char *to, const char *type, const char *body,
                            const char *thread, const char *id, const xt_message_extras *x,
                            char id_out[64])
{
    char gen[64];
    int rc = send_message(c, to, type, body, thread, id, x, 0, gen);
    if (!rc && id_out)
        memcpy(id_out, id ? id : gen, strlen(id ? id : gen) + 1);
    return rc;
}

int xt_im_send_private(xt_conn *c, const char *to, const char *body, char id_out[64])
{
    char gen[64];
    int rc = send_message(c, to, "chat", body, NULL, NULL, NULL, 1, gen);
    if (!rc && id_out)
        memcpy(id_out, gen, strlen(gen) + 1);
    return rc;
}

const char *xt_msg_source_name(xt_msg_source s)
{
    switch (s) {
    case XT_SRC_LIVE:
        return "live";
    case XT_SRC_CARBON:
        return "carbon";
    case XT_SRC_ARCHIVE:
        return "archive";
    case XT_SRC_OFFLINE:
        return "offline";
    }
    return "live";
}
