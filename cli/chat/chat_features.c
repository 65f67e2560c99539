/*
 * The message features (xtalk/im.h) in `xtalk chat`: XEP-0184 receipts
 * (✓ on our delivered messages), XEP-0085 chat states (ours sent by the
 * library's timers, the peer's "typing…" in the title), XEP-0308
 * corrections (Up-arrow edits our last message; the peer's replace its
 * line in place), XEP-0245 /me, XEP-0444 reactions (/react), XEP-0424
 * retractions received (only the sender's own message is retracted).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat.h"
#include "xtalk/disco.h"
#include "xtalk/pep.h"
#include "chat_text.h"
#include "chat_time.h"
#include "../outbox.h"
#include "../sanitize.h"

/* The chat-state timers run on a monotonic clock: a wall-clock jump must
 * not send "gone". */
static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static xt_chatstates *states_of(xt_chat_win *w)
{
    if (w && w->peer && !w->cs)
        (void)xt_chatstates_new(NULL, &w->cs);
    return w ? w->cs : NULL;
}

static void send_state(xt_chat *c, xt_chat_win *w, xt_chatstate s)
{
    if (s != XT_CHATSTATE_NONE && c->online && c->conn && w->peer)
        (void)xt_conn_send_chatstate(c->conn, w->peer, s);
}

static void arm(xt_chat *c);

static void on_timer(xt_loop *loop, void *ud)
{
    xt_chat *c = ud;
    (void)loop;
    c->cs_timer = 0;
    uint64_t now = mono_ms();
    for (size_t i = 1; i < c->nwins; i++)
        send_state(c, c->wins[i], xt_chatstates_tick(c->wins[i]->cs, now));
    arm(c);
}

/* One loop timer at the earliest deadline of all conversations. */
static void arm(xt_chat *c)
{
    int64_t first = -1;
    for (size_t i = 1; i < c->nwins; i++) {
        int64_t d = xt_chatstates_deadline(c->wins[i]->cs);
        if (d >= 0 && (first < 0 || d < first))
            first = d;
    }
    xt_loop *loop = xt_cli_session_loop(c->s);
    if (c->cs_timer > 0)
        xt_loop_cancel_timer(loop, c->cs_timer);
    c->cs_timer = 0;
    if (first < 0)
        return;
    uint64_t now = mono_ms();
    uint64_t delay = (uint64_t)first > now ? (uint64_t)first - now : 0;
    int id = xt_loop_add_timer(loop, delay, on_timer, c);
    c->cs_timer = id > 0 ? id : 0;
}

void xt_chat_feat_after_keys(xt_chat *c)
{
    size_t len = c->edit.len;
    if (len == c->input_len)
        return;
    c->input_len = len;
    xt_chat_win *w = c->wins[c->cur];
    if (!w->peer)
        return;
    /* A command line is not a message being composed. */
    int empty = len == 0 || c->edit.buf[0] == L'/';
    send_state(c, w, xt_chatstates_input(states_of(w), mono_ms(), empty));
    arm(c);
}

void xt_chat_feat_switch(xt_chat *c, size_t from, size_t to)
{
    uint64_t now = mono_ms();
    if (from != to && from < c->nwins && c->wins[from]->peer) {
        /* Left with a draft: paused (the XEP's "stopped composing"). */
        xt_chat_win *w = c->wins[from];
        if (xt_chatstates_current(w->cs) == XT_CHATSTATE_COMPOSING)
            send_state(c, w, xt_chatstates_input(w->cs, now, 1));
    }
    if (to < c->nwins && c->wins[to]->peer)
        send_state(c, c->wins[to], xt_chatstates_touch(states_of(c->wins[to]), now));
    c->input_len = c->edit.len;
    if (from != to && c->correcting[0]) {
        c->correcting[0] = 0; /* a correction belongs to its window */
    }
    arm(c);
}

void xt_chat_feat_close_win(xt_chat *c, size_t idx)
{
    if (idx >= c->nwins || !c->wins[idx]->peer)
        return;
    send_state(c, c->wins[idx], xt_chatstates_close(c->wins[idx]->cs, mono_ms()));
    if (c->correcting[0] && c->correct_win == idx)
        c->correcting[0] = 0;
    arm(c);
}

void xt_chat_feat_focus(xt_chat *c, int focused)
{
    /* The library keeps the state across reconnections; offline, the
     * next session starts active: said again at the next report. */
    if (c->online && c->conn)
        (void)xt_conn_set_active(c->conn, focused);
}

void xt_chat_feat_quit(xt_chat *c)
{
    uint64_t now = mono_ms();
    for (size_t i = 1; i < c->nwins; i++)
        send_state(c, c->wins[i], xt_chatstates_close(c->wins[i]->cs, now));
    if (c->cs_timer > 0)
        xt_loop_cancel_timer(xt_cli_session_loop(c->s), c->cs_timer);
    c->cs_timer = 0;
}

void xt_chat_feat_extras(xt_chat *c, const char *peer, xt_message_extras *x)
{
    xt_chat_win *w = xt_chat_win_find(c, peer, NULL);
    /* XEP-0184 §5.1: a client may always ask; one that does not answer
     * just never shows the ✓. */
    x->request_receipt = XT_RECEIPT_AUTO;
    x->chatstate = w ? xt_chatstates_message(states_of(w), mono_ms()) : XT_CHATSTATE_NONE;
    c->input_len = 0;
    if (w)
        arm(c);
}

/* The line of message `id` in w of the given kind, or NULL. */
static xt_chat_line *find_line(xt_chat_win *w, const char *id, int kind, size_t *at)
{
    for (size_t i = w->nlines; id && i > 0; i--) {
        xt_chat_line *l = &w->lines[i - 1];
        if (l->kind == kind && l->id[0] && strcmp(l->id, id) == 0) {
            *at = i - 1;
            return l;
        }
    }
    return NULL;
}

static int is_retraction(const xt_message *m)
{
    return m->stanza && (xt_stanza_child(m->stanza, "retract", "urn:xmpp:message-retract:1") ||
                         xt_stanza_child(m->stanza, "apply-to", "urn:xmpp:fasten:0"));
}

int xt_chat_feat_message(xt_chat *c, const char *peer, const xt_message *m)
{
    xt_chat_win *w = xt_chat_win_find(c, peer, NULL);
    if (w) {
        xt_chatstates_received(states_of(w), m);
        /* A message with text ends "typing" even without a state. */
        if (m->body && m->chatstate == XT_CHATSTATE_NONE && w->peer_state) {
            w->peer_state = XT_CHATSTATE_NONE;
            c->dirty = 1;
        }
    }
    /* The fallback body of a retraction (XEP-0428) is not a message: the
     * retraction event does the work. */
    if (is_retraction(m))
        return 1;
    if (!m->replace_id || !w || !m->body)
        return 0;
    /* XEP-0308 §5: only the sender's own message: the peer's window
     * holds only its lines as incoming ones. */
    size_t at;
    if (!find_line(w, m->replace_id, XT_CHAT_LINE_IN, &at))
        return 0; /* not shown here (older, or forged): a new line */
    char *text = NULL;
    size_t n = strlen(m->body) + 16;
    if (!(text = malloc(n)))
        return 0;
    snprintf(text, n, "%s (edited)", m->body);
    int ok = xt_chat_win_set_body(c, w, at, xt_chat_display_name(c, peer), text) == 0;
    free(text);
    if (ok) {
        /* Later corrections name the original id (XEP-0308 §4) or this
         * one's: keep answering to the original. */
        w->lines[at].edited = 1;
        c->dirty = 1;
    }
    return ok;
}

static void on_receipt(xt_chat *c, const xt_receipt *r)
{
    char *peer = r->from ? xt_cli_bare(r->from, NULL) : NULL;
    xt_chat_win *w = peer ? xt_chat_win_find(c, peer, NULL) : NULL;
    size_t at;
    xt_chat_line *l = w ? find_line(w, r->id, XT_CHAT_LINE_OUT, &at) : NULL;
    if (l && !l->delivered) {
        l->delivered = 1;
        c->dirty = 1;
    }
    free(peer);
}

static void on_chatstate(xt_chat *c, const xt_chatstate_event *e)
{
    char *peer = e->from ? xt_cli_bare(e->from, NULL) : NULL;
    xt_chat_win *w = peer ? xt_chat_win_find(c, peer, NULL) : NULL;
    if (w && w->peer_state != (int)e->state) {
        w->peer_state = (int)e->state;
        c->dirty = 1;
    }
    free(peer);
}

/* --- XEP-0444 reactions, gathered on the message they react to --------- */

/* Bounds: a line keeps this many senders' sets (a conversation has two
 * parties and their devices; more is a flood), each this many reactions
 * of at most REACT_BYTES bytes (an emoji sequence; §3 allows any text). */
#define REACT_SENDERS 16
#define REACT_EACH    8
#define REACT_BYTES   32

struct xt_chat_react {
    char *who; /* "me" or the sender's bare JID */
    char *emoji[REACT_EACH];
    size_t n;
};

struct xt_chat_reacts {
    struct xt_chat_react v[REACT_SENDERS];
    size_t n;
};

static void react_clear(struct xt_chat_react *e)
{
    free(e->who);
    for (size_t i = 0; i < e->n; i++)
        free(e->emoji[i]);
    *e = (struct xt_chat_react){0};
}

void xt_chat_reacts_free(struct xt_chat_reacts *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        react_clear(&r->v[i]);
    free(r);
}

/* XEP-0444 §3.2: a sender's reactions message replaces that sender's
 * whole set for the message (an empty one takes them all back). 0 or -1. */
static int reacts_set(xt_chat_line *l, const char *who, const char *const *list, size_t n)
{
    if (!l->reacts && !(l->reacts = calloc(1, sizeof *l->reacts)))
        return -1;
    struct xt_chat_reacts *r = l->reacts;
    size_t k = 0;
    while (k < r->n && strcmp(r->v[k].who, who) != 0)
        k++;
    if (k == r->n) {
        if (n == 0)
            return 0;
        if (r->n == REACT_SENDERS)
            return -1; /* a flood of senders: the first ones stay */
        r->n++;
    } else {
        react_clear(&r->v[k]);
    }
    struct xt_chat_react *e = &r->v[k];
    e->who = strdup(who);
    for (size_t i = 0; e->who && i < n && e->n < REACT_EACH; i++)
        if (list[i] && *list[i] && strlen(list[i]) <= REACT_BYTES &&
            (e->emoji[e->n] = strdup(list[i])))
            e->n++;
    if (!e->who || e->n == 0) { /* none left (or no memory): the sender goes */
        react_clear(e);
        r->v[k] = r->v[--r->n];
        r->v[r->n] = (struct xt_chat_react){0};
    }
    return 0;
}

/* "[👍 2 ❤ 1]": each distinct reaction, in the order first given, with
 * how many senders chose it; "" when none. */
static void reacts_suffix(const struct xt_chat_reacts *r, char *buf, size_t len)
{
    const char *seen[REACT_SENDERS * REACT_EACH];
    unsigned count[REACT_SENDERS * REACT_EACH];
    size_t ns = 0;
    for (size_t i = 0; r && i < r->n; i++)
        for (size_t j = 0; j < r->v[i].n; j++) {
            size_t k = 0;
            while (k < ns && strcmp(seen[k], r->v[i].emoji[j]) != 0)
                k++;
            if (k == ns) {
                seen[ns] = r->v[i].emoji[j];
                count[ns++] = 0;
            }
            count[k]++;
        }
    buf[0] = '\0';
    size_t o = 0;
    for (size_t k = 0; k < ns && o + REACT_BYTES + 16 < len; k++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s %u", k ? " " : "[", seen[k], count[k]);
    if (ns)
        snprintf(buf + o, len - o, "]");
}

/* Records who's reactions on line at of w and redraws its suffix. */
static void react_on(xt_chat *c, xt_chat_win *w, size_t at, const char *who,
                     const char *const *list, size_t n)
{
    char suffix[600];
    if (reacts_set(&w->lines[at], who, list, n) != 0)
        return;
    reacts_suffix(w->lines[at].reacts, suffix, sizeof suffix);
    if (xt_chat_win_set_suffix(w, at, suffix) == 0)
        c->dirty = 1;
}

/* The line of message id in w, ours or the peer's (XEP-0444 §3: either). */
static xt_chat_line *reacted_line(xt_chat_win *w, const char *id, size_t *at)
{
    xt_chat_line *l = w ? find_line(w, id, XT_CHAT_LINE_OUT, at) : NULL;
    return l ? l : w ? find_line(w, id, XT_CHAT_LINE_IN, at) : NULL;
}

static void on_reaction(xt_chat *c, const xt_reaction *r)
{
    char *peer = r->from ? xt_cli_bare(r->from, NULL) : NULL;
    if (!peer || !r->id)
        goto out;
    size_t at = 0;
    xt_chat_win *w = NULL;
    xt_chat_line *l = NULL;
    const char *who = peer;
    if (strcmp(peer, c->account) == 0) {
        /* Ours, from another device (a carbon): whichever conversation
         * holds the message. */
        who = "me";
        for (size_t i = 1; i < c->nwins && !l; i++)
            if ((l = reacted_line(c->wins[i], r->id, &at)))
                w = c->wins[i];
    } else {
        w = xt_chat_win_find(c, peer, NULL);
        l = reacted_line(w, r->id, &at);
    }
    if (l) {
        react_on(c, w, at, who, r->reactions, r->n);
        goto out;
    }
    /* Not on screen (older than what is loaded, or unknown): a line says
     * it, in the conversation if open, else in the console. */
    char list[300] = "";
    size_t o = 0;
    for (size_t i = 0; i < r->n && o + REACT_BYTES + 2 < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? " " : "", r->reactions[i]);
    char line[500];
    snprintf(line, sizeof line, "%s %s to a message not shown",
             r->n ? "reacted" : "took back the reactions", list);
    const char *name = strcmp(who, "me") == 0 ? "me" : xt_chat_display_name(c, peer);
    if (w) {
        xt_chat_win_add(w, XT_CHAT_LINE_INFO, xt_chat_now_ms(), name, line, 0);
        c->dirty = 1;
    } else {
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "%s %s", name, line);
    }
out:
    free(peer);
}

static void on_retraction(xt_chat *c, const xt_retraction *r)
{
    char *peer = r->from ? xt_cli_bare(r->from, NULL) : NULL;
    xt_chat_win *w = peer ? xt_chat_win_find(c, peer, NULL) : NULL;
    size_t at;
    /* XEP-0424 §5: only the sender's own message (an incoming line of
     * its window); anything else is ignored. */
    if (w && find_line(w, r->id, XT_CHAT_LINE_IN, &at) &&
        xt_chat_win_set_body(c, w, at, xt_chat_display_name(c, peer), "(retracted)") == 0) {
        w->lines[at].edited = 1;
        c->dirty = 1;
    }
    free(peer);
}

void xt_chat_feat_event(xt_chat *c, const xt_event *ev)
{
    switch (ev->type) {
    case XT_EV_RECEIPT:
        on_receipt(c, &ev->u.receipt);
        break;
    case XT_EV_CHATSTATE:
        on_chatstate(c, &ev->u.chatstate);
        break;
    case XT_EV_REACTION:
        on_reaction(c, &ev->u.reaction);
        break;
    case XT_EV_RETRACTION:
        on_retraction(c, &ev->u.retraction);
        break;
    case XT_EV_PEP:
        /* A contact's new nickname (XEP-0172): the names drawn from
         * xt_conn_nick change with the next redraw. */
        if (strcmp(ev->u.pep->node, XT_NS_NICK) == 0)
            c->dirty = 1;
        break;
    default:
        break;
    }
}

int xt_chat_feat_start_correction(xt_chat *c)
{
    xt_chat_win *w = c->wins[c->cur];
    if (!w->peer || c->edit.len > 0 || c->correcting[0])
        return 0;
    for (size_t i = w->nlines; i > 0; i--) {
        xt_chat_line *l = &w->lines[i - 1];
        if (l->kind != XT_CHAT_LINE_OUT)
            continue;
        if (!l->body || !l->id[0] || l->queued)
            return 0; /* the last one is not correctable (from history, or queued) */
        size_t n;
        wchar_t *wb = xt_chat_utf8_decode(l->body, strlen(l->body), &n);
        if (!wb)
            return 0;
        xt_chat_edit_insert(&c->edit, wb, n);
        free(wb);
        snprintf(c->correcting, sizeof c->correcting, "%s", l->id);
        c->correct_win = c->cur;
        c->input_len = c->edit.len;
        snprintf(c->hint, sizeof c->hint, "correcting your last message: Enter sends, Up leaves");
        c->dirty = 1;
        return 1;
    }
    return 0;
}

int xt_chat_feat_submit_correction(xt_chat *c, const char *text)
{
    if (!c->correcting[0])
        return 0;
    char orig[64];
    snprintf(orig, sizeof orig, "%s", c->correcting);
    c->correcting[0] = 0;
    xt_chat_win *w = c->correct_win == c->cur ? c->wins[c->cur] : NULL;
    size_t at;
    xt_chat_line *l = w ? find_line(w, orig, XT_CHAT_LINE_OUT, &at) : NULL;
    if (!l)
        return 0; /* gone meanwhile: a new message */
    if (!c->online || !c->conn) {
        snprintf(c->hint, sizeof c->hint, "not connected: the correction was not sent");
        c->dirty = 1;
        return 1;
    }
    xt_message_extras x = {0};
    xt_chat_feat_extras(c, w->peer, &x);
    x.replace_id = orig; /* XEP-0308 §4: the original's id, also for a second correction */
    char id[64];
    if (xt_cli_new_id(id) != 0 ||
        xt_conn_send_message_ex(c->conn, w->peer, "chat", text, NULL, id, &x, NULL) < 0) {
        snprintf(c->hint, sizeof c->hint, "the correction could not be sent");
        c->dirty = 1;
        return 1;
    }
    char *shown = malloc(strlen(text) + 16);
    if (shown) {
        snprintf(shown, strlen(text) + 16, "%s (edited)", text);
        (void)xt_chat_win_set_body(c, w, at, "me", shown);
        free(shown);
    }
    l = &w->lines[at];
    char *nb = strdup(text);
    if (nb) {
        free(l->body);
        l->body = nb;
    }
    l->edited = 1;
    l->delivered = 0;
    c->dirty = 1;
    return 1;
}

void xt_chat_feat_react(xt_chat *c, const char *emoji)
{
    xt_chat_win *w = c->wins[c->cur];
    if (!w->peer) {
        snprintf(c->hint, sizeof c->hint, "/react works in a conversation");
        c->dirty = 1;
        return;
    }
    const xt_chat_line *target = NULL;
    size_t at = 0;
    for (size_t i = w->nlines; i > 0 && !target; i--)
        if (w->lines[i - 1].kind == XT_CHAT_LINE_IN && w->lines[i - 1].id[0]) {
            target = &w->lines[i - 1];
            at = i - 1;
        }
    const char *v[1] = {emoji};
    if (!target)
        snprintf(c->hint, sizeof c->hint, "nothing to react to: no message from %s here", w->peer);
    else if (!c->online || !c->conn)
        snprintf(c->hint, sizeof c->hint, "not connected: try again once online");
    else if (xt_conn_send_reactions(c->conn, w->peer, "chat", target->id, v, emoji && *emoji,
                                    NULL) < 0)
        snprintf(c->hint, sizeof c->hint, "the reaction could not be sent");
    else /* ours on the line too: §3.2, our set is now this one */
        react_on(c, w, at, "me", v, emoji && *emoji ? 1 : 0);
    c->dirty = 1;
}

/* --- /info ------------------------------------------------------------------ */

struct info_req {
    xt_chat *c;
    char *jid;
    char *fn, *nick;
    int pending;
};

/* A notice in the window being looked at (xt_chat_infof writes to the
 * console): one line, network text escaped. */
static void say_here(xt_chat *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say_here(xt_chat *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *line = xt_cli_sanitize(buf, strlen(buf), XT_CLI_SAN_LINE);
    xt_chat_win_add(c->wins[c->cur], XT_CHAT_LINE_INFO, xt_chat_now_ms(), NULL, line ? line : "?",
                    0);
    free(line);
    c->dirty = 1;
}

static void info_show(struct info_req *q)
{
    xt_chat *c = q->c;
    say_here(c, "%s: name %s, nickname %s", q->jid, q->fn ? q->fn : "-", q->nick ? q->nick : "-");
    size_t np = c->conn ? xt_conn_presence_count(c->conn, q->jid) : 0;
    if (np == 0)
        say_here(c, "  no resource online (or its presence is hidden)");
    static const struct {
        const char *var, *what;
    } known[] = {
        {"urn:xmpp:receipts", "receipts"},
        {"http://jabber.org/protocol/chatstates", "typing"},
        {"urn:xmpp:message-correct:0", "corrections"},
        {"urn:xmpp:reactions:0", "reactions"},
        {"urn:xmpp:message-retract:1", "retraction"},
    };
    for (size_t i = 0; i < np; i++) {
        const xt_presence *p = xt_conn_presence_at(c->conn, q->jid, i);
        const char *const *f = NULL;
        size_t nf = xt_conn_caps_features(c->conn, p->from, &f);
        char sup[160] = "";
        size_t o = 0;
        for (size_t k = 0; k < sizeof known / sizeof *known; k++)
            for (size_t j = 0; j < nf; j++)
                if (strcmp(f[j], known[k].var) == 0 && o + 20 < sizeof sup)
                    o += (size_t)snprintf(sup + o, sizeof sup - o, "%s%s", o ? ", " : "",
                                          known[k].what);
        say_here(c, "  %s: %s%s%s", p->from, p->show ? p->show : "available",
                 nf ? "; supports: " : "; client not known (no verified caps)",
                 nf ? (o ? sup : "none of receipts, typing, corrections, reactions") : "");
    }
    free(q->fn);
    free(q->nick);
    free(q->jid);
    free(q);
}

static void on_info_vcard(xt_conn *conn, int status, const xt_stanza *reply, void *ud)
{
    struct info_req *q = ud;
    (void)conn;
    const char *fn = status == 0 ? xt_vcard_field(reply, "FN") : NULL;
    q->fn = fn ? strdup(fn) : NULL;
    if (--q->pending == 0)
        info_show(q);
}

static void on_info_nick(xt_conn *conn, int status, const xt_stanza *reply, void *ud)
{
    struct info_req *q = ud;
    (void)conn;
    const char *nick = status == 0 ? xt_nick_of(reply) : NULL;
    q->nick = nick ? strdup(nick) : NULL;
    if (--q->pending == 0)
        info_show(q);
}

void xt_chat_feat_info(xt_chat *c, const char *jid)
{
    struct info_req *q = calloc(1, sizeof *q);
    if (!q || !(q->jid = strdup(jid))) {
        free(q);
        return;
    }
    q->c = c;
    /* Both callbacks run exactly once (answer, timeout or the stream's
     * end: xt_conn_iq), the last one shows and frees. */
    q->pending = 2;
    if (xt_conn_vcard_fetch(c->conn, jid, on_info_vcard, q) < 0)
        q->pending--;
    if (xt_conn_nick_fetch(c->conn, jid, on_info_nick, q) < 0)
        q->pending--;
    if (q->pending == 0)
        info_show(q);
}
