/*
 * `xtalk chat`: the full-screen client. This file connects chat to the
 * session every command shares (session.h: one xt_client for the whole
 * run, reconnected by the library with backoff and jitter, XEP-0198
 * resumption, the library's retry decision, the store's SASL hint) and
 * turns xt_conn events into model changes; the other chat_*.c files hold
 * the windows, roster, drawing and keys (see chat.h).
 *
 * What differs from the line commands is only the session's mode: chat
 * stays up while offline (`stay`), retries after a loss, and keeps the
 * terminal to curses (`quiet`: the final error is printed after it).
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../commands.h"
#include "../dedup.h"
#include "../outbox.h"
#include "../output.h"
#include "../report.h"
#include "../room_sync.h"
#include "chat.h"
#include "chat_files.h"
#include "chat_room.h"

void xt_chat_quit(xt_chat *c)
{
    /* A second request stops waiting for the server. */
    if (xt_cli_session_finishing(c->s)) {
        xt_cli_session_stop(c->s);
    } else {
        xt_chat_feat_quit(c); /* XEP-0085: gone, before the stream closes */
        xt_cli_session_finish(c->s, XT_CLI_EXIT_OK);
    }
}

/* --- the connection's ups and downs ---------------------------------------- */

static void on_offline(xt_cli_session *s, const char *why, uint32_t retry_in_ms, void *ud)
{
    xt_chat *c = ud;
    (void)s;

    c->online = 0;
    for (size_t i = 0; i < c->ncontacts; i++) {
        c->contacts[i].show = XT_SHOW_UNAVAILABLE;
        free(c->contacts[i].status);
        c->contacts[i].status = NULL;
    }
    c->dirty = 1;
    if (retry_in_ms == 0) {
        /* The library says another attempt would fail the same way
         * (refused password, conflict, policy...). */
        snprintf(c->conn_text, sizeof c->conn_text, "offline, not retrying");
        xt_chat_infof(c, XT_CHAT_LINE_ERROR, "disconnected: %s; not retrying", why);
        snprintf(c->hint, sizeof c->hint, "disconnected: %.400s", why);
        return;
    }
    /* The bar says the state in a word (it never goes stale: no
     * countdown to redraw); the reason is in full in the console. */
    unsigned secs = (retry_in_ms + 999) / 1000;
    snprintf(c->conn_text, sizeof c->conn_text, "offline");
    xt_chat_infof(c, XT_CHAT_LINE_ERROR, "disconnected: %s; connecting again in %u s", why, secs);
    snprintf(c->hint, sizeof c->hint, "disconnected: %.400s", why);
}

/* --- events ---------------------------------------------------------------- */

/* The window fetching from the archive with this tag, or NULL. */
static xt_chat_win *archive_win(xt_chat *c, int tag)
{
    for (size_t i = 1; tag && i < c->nwins; i++)
        if (c->wins[i]->mam_tag == tag)
            return c->wins[i];
    return NULL;
}

static void on_archive(xt_chat *c, const xt_archive_event *a)
{
    if (a->tag) {
        xt_chat_win *w = archive_win(c, a->tag);
        const char *room = xt_cli_room_sync_catchup_room(c->rooms.sync, a->tag);
        if (w && a->done)
            xt_chat_win_archive_done(c, w, a);
        else if (room)
            xt_chat_room_caught_up(c, room, a);
        return;
    }
    /* The login catch-up (XEP-0313) ended: say what it brought. */
    if (!a->done)
        return;
    if (a->status)
        xt_chat_infof(c, XT_CHAT_LINE_ERROR, "the server's archive could not be read: %s",
                      xt_strerror(a->status));
    else if (c->caught_up)
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "caught up: %zu messages arrived while away",
                      c->caught_up);
    else
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "caught up: nothing new while away");
}

static void on_message(xt_chat *c, const xt_message *m)
{
    /* A message of ours sent from another device (a carbon) or archived
     * belongs to the conversation with its recipient. */
    int out = m->direction == XT_DIR_OUT;
    char *peer = xt_cli_bare(out ? m->to : m->from, NULL);
    size_t idx;

    if (!peer)
        return;
    if (m->source == XT_SRC_ARCHIVE && m->archive_tag) {
        /* Scroll-back past the store: above the window's lines, not
         * into the store (whose order is arrival order). */
        xt_chat_win *w = archive_win(c, m->archive_tag);
        if (w && m->body && *m->body)
            xt_chat_win_archived(c, w, m);
        /* A room's catch-up after a join (room_sync.h): what was said
         * while we were out, in order, below the window's lines and
         * into the store, as live lines go. */
        else if (!w && xt_cli_room_sync_catchup_room(c->rooms.sync, m->archive_tag))
            (void)xt_chat_room_message(c, m);
        free(peer);
        return;
    }

    if (!peer)
        return;
    /* Group chat: a room's messages and its occupants' (chat_room.c). */
    if (xt_chat_room_message(c, m)) {
        free(peer);
        return;
    }
    if (m->type && strcmp(m->type, "error") == 0) {
        /* RFC 6120 §8.3: the condition and the optional text say why. */
        char why[512], line[600];
        xt_cli_stanza_error(m->stanza, why, sizeof why);
        snprintf(line, sizeof line, "not delivered to %s: %s", peer, why);
        xt_chat_win *w = xt_chat_win_open(c, peer, &idx);
        if (w)
            xt_chat_win_add(w, XT_CHAT_LINE_ERROR, xt_chat_now_ms(), NULL, line, 0);
        if (!w || idx != c->cur)
            xt_chat_infof(c, XT_CHAT_LINE_ERROR, "%s", line);
        c->dirty = 1;
        free(peer);
        return;
    }
    /* Chat states, corrections shown in place, a retraction's fallback
     * text (chat_features.c); receipts and reactions come as events. */
    if (xt_chat_feat_message(c, peer, m) || !m->body || !*m->body) {
        free(peer);
        return;
    }
    /* A re-send after a dropped connection repeats the message with the
     * same origin-id (XEP-0359): show it once. The same record and keys
     * as listen and bot (dedup.h). */
    if (xt_cli_dedup_check(c->dedup, m, NULL) == 1) {
        free(peer);
        return;
    }
    /* What waited for us (offline storage, the archive) keeps its time. */
    int64_t ts = m->timestamp_ms ? m->timestamp_ms : xt_chat_now_ms();
    int away = m->source == XT_SRC_ARCHIVE || m->source == XT_SRC_OFFLINE;
    int kind = out ? XT_CHAT_LINE_OUT : XT_CHAT_LINE_IN;
    if (away)
        c->caught_up++;
    /* The id a correction, reaction or retraction will name: the
     * origin-id (XEP-0359), else the stanza id. */
    const char *mid = m->origin_id ? m->origin_id : m->id;
    xt_chat_win *w = xt_chat_win_find(c, peer, &idx);
    if (!w && away) /* opened before the message is stored: the marker goes between */
        w = xt_chat_win_open(c, peer, &idx);
    if (w && away && w->away_gen != c->gen) {
        /* Catch-up lines come after a marker, once per window and login. */
        w->away_gen = c->gen;
        xt_chat_win_add(w, XT_CHAT_LINE_INFO, ts, NULL, "-- while you were away --", 0);
    }
    int64_t hid = xt_chat_hist_add(c->hist, peer, m->from, m->body, mid, out, ts);
    xt_chat_line *l = NULL;
    /* XEP-0245: "/me waves" shows as "* Name waves" (ours: "* me waves"). */
    const char *name = out ? "me" : xt_chat_display_name(c, peer);
    char *action = NULL;
    size_t alen = strlen(name) + strlen(m->body) + 4;
    if (m->me && (action = malloc(alen)))
        snprintf(action, alen, "* %s %s", name, m->body + 4);
    const char *who = action ? NULL : name, *text = action ? action : m->body;
    if (!w) {
        /* Opening loads its history, this message included. */
        w = xt_chat_win_open(c, peer, &idx);
        if (w && hid == 0)
            l = xt_chat_win_add(w, kind, ts, who, text, hid);
        else if (w && w->nlines && w->lines[w->nlines - 1].hist_id == hid)
            l = &w->lines[w->nlines - 1];
    } else {
        l = xt_chat_win_add(w, kind, ts, who, text, hid);
    }
    free(action);
    if (l && mid && strlen(mid) < sizeof l->id)
        snprintf(l->id, sizeof l->id, "%s", mid);
    if (w && m->file) /* XEP-0066 / XEP-0447: a numbered file line below */
        xt_chat_files_received(c, w, m, ts);
    if (out) { /* ours: nothing unread, no bell */
        c->dirty = 1;
        free(peer);
        return;
    }
    if (w && idx != c->cur) {
        w->unread++;
        xt_chat_ui_bell(c);
    }
    c->dirty = 1;
    free(peer);
}

static void on_subscription(xt_chat *c, const xt_subscription *s)
{
    if (strcmp(s->type, "subscribe") == 0) {
        for (size_t i = 0; i < c->nsubs; i++)
            if (strcmp(c->subs[i], s->from) == 0)
                return;
        char **subs = realloc(c->subs, (c->nsubs + 1) * sizeof *subs);
        if (!subs)
            return;
        c->subs = subs;
        if ((subs[c->nsubs] = strdup(s->from)))
            c->nsubs++;
        /* XEP-0172 §4.1: a requester may say what it calls itself. */
        const char *nick = xt_nick_of(s->stanza);
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "%s%s%s%s asks to see your presence", s->from,
                      nick ? " (nickname " : "", nick ? nick : "", nick ? ")" : "");
        xt_chat_ui_bell(c);
    } else {
        xt_chat_infof(c, XT_CHAT_LINE_INFO, "%s: %s", s->from,
                      strcmp(s->type, "subscribed") == 0     ? "you may now see its presence"
                      : strcmp(s->type, "unsubscribed") == 0 ? "you no longer see its presence"
                                                             : "it no longer sees yours");
    }
}

static void on_online(xt_cli_session *s, void *ud)
{
    xt_chat *c = ud;

    c->online = 1;
    if (!xt_cli_session_resumed(s)) { /* a new session catches up anew */
        c->gen++;
        c->caught_up = 0;
    }
    snprintf(c->conn_text, sizeof c->conn_text, "online");
    c->hint[0] = 0; /* a notice about being offline is stale now */
    xt_chat_infof(c, XT_CHAT_LINE_INFO, "online as %s%s", xt_conn_bound_jid(c->conn),
                  xt_cli_session_resumed(s) ? " (resumed: nothing was lost)" : "");
    /* A resumed session kept our presence (XEP-0198 §5). */
    if (!xt_cli_session_resumed(s) && (c->show != XT_SHOW_AVAILABLE || c->status_msg))
        xt_conn_send_presence(c->conn, (xt_show)c->show, c->status_msg, 0);
    xt_chat_roster_rebuild(c);
    xt_chat_flush_queue(c);
    xt_chat_queue_count(c);
    if (!xt_cli_session_resumed(s)) /* a resumed session is still in its rooms */
        xt_chat_room_online(c);
}

/* Every event once online, but XT_EV_ONLINE / XT_EV_DISCONNECTED (the
 * session's, relayed as on_online / on_offline). */
static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    xt_chat *c = ud;
    (void)s;

    switch (ev->type) {
    case XT_EV_ROSTER:
        xt_chat_roster_rebuild(c);
        break;
    case XT_EV_PRESENCE: {
        char *b = xt_cli_bare(ev->u.presence.from, NULL);
        if (b)
            xt_chat_roster_presence(c, b);
        free(b);
        break;
    }
    case XT_EV_MESSAGE:
        on_message(c, &ev->u.message);
        break;
    case XT_EV_ARCHIVE:
        on_archive(c, ev->u.archive);
        break;
    case XT_EV_SUBSCRIPTION:
        on_subscription(c, &ev->u.subscription);
        break;
    case XT_EV_ACKED:
        xt_chat_acked(c, ev->u.acked.id);
        xt_chat_queue_count(c);
        break;
    case XT_EV_RECEIPT:
    case XT_EV_CHATSTATE:
    case XT_EV_REACTION:
    case XT_EV_RETRACTION:
    case XT_EV_PEP:
        xt_chat_feat_event(c, ev);
        break;
    case XT_EV_MUC_JOINED:
    case XT_EV_MUC_JOIN_FAILED:
    case XT_EV_MUC_OCCUPANT:
    case XT_EV_MUC_SUBJECT:
    case XT_EV_MUC_LEFT:
    case XT_EV_MUC_INVITE:
    case XT_EV_MUC_CONFIG:
        xt_chat_room_event(c, ev);
        break;
    default:
        break;
    }
    /* After the window saw it: a catch-up's last XT_EV_ARCHIVE above was
     * still the room's; a join starts its catch-up here. */
    xt_cli_room_sync_event(c->rooms.sync, c->conn, ev);
}

/* --- terminal -------------------------------------------------------------- */

static void on_stdin(xt_loop *loop, int fd, short revents, void *ud)
{
    xt_chat *c = ud;
    (void)loop;
    (void)fd;
    if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
        /* The terminal went away: leave cleanly. */
        xt_chat_quit(c);
        return;
    }
    xt_chat_input_ready(c);
}

static void on_sigwinch(xt_cli_session *s, void *ud)
{
    (void)s;
    xt_chat_ui_resize(ud);
}

/* Milliseconds to the next minute of the wall clock, when the status
 * bar's HH:MM changes: its only reason to wake us. */
static uint64_t to_next_minute(void)
{
    int64_t now = xt_chat_now_ms();
    return (uint64_t)(60000 - now % 60000) + 50;
}

static void on_clock(xt_loop *loop, void *ud)
{
    xt_chat *c = ud;
    c->dirty = 1; /* the status bar's clock */
    xt_loop_add_timer(loop, to_next_minute(), on_clock, c);
}

/* The loop and client exist, nothing is connecting yet: the terminal. */
static void on_start(xt_cli_session *s, void *ud)
{
    xt_chat *c = ud;
    xt_loop *loop = xt_cli_session_loop(s);

    c->s = s;
    c->conn = xt_cli_session_conn(s);
    if (xt_chat_ui_start(c) != 0) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR,
                            "chat: cannot start the terminal interface (is TERM set?)");
        return;
    }
    xt_chat_infof(c, XT_CHAT_LINE_INFO, "xtalk chat %s - /help lists commands and keys",
                  XT_VERSION_STRING);
    if (!c->hist)
        xt_chat_infof(c, XT_CHAT_LINE_ERROR, "no history: %s",
                      c->acct.store_err[0] ? c->acct.store_err : "--no-store");
    snprintf(c->conn_text, sizeof c->conn_text, "connecting");
    xt_chat_queue_count(c); /* a backlog from an earlier run (send --queue, a crash) */
    if (xt_loop_add_fd(loop, STDIN_FILENO, POLLIN, on_stdin, c) < 0 ||
        xt_loop_add_timer(loop, to_next_minute(), on_clock, c) < 0)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "chat: cannot start: out of memory");
}

int xt_cli_cmd_chat(const xt_cli_args *a)
{
    xt_chat c = {.show = XT_SHOW_AVAILABLE, .rooms.pane = 1};
    int rc;

    setlocale(LC_ALL, "");
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        xt_cli_errorf("chat: needs a terminal (stdin and stdout); for scripts use send/listen");
        return XT_CLI_EXIT_USAGE;
    }
    /* The first start asks for the account instead of failing. */
    char *asked_jid = NULL;
    if ((rc = xt_chat_first_start(a, &asked_jid)) != 0)
        return rc;
    xt_cli_args with_jid = *a;
    if (asked_jid) {
        with_jid.jid = asked_jid;
        a = &with_jid;
    }
    /* Without a store chat still runs, without history. */
    rc = xt_cli_account_open(a, 1, 1, &c.acct);
    if (rc != 0) {
        xt_cli_account_close(&c.acct);
        free(asked_jid);
        return rc;
    }
    c.account = c.acct.key;
    const char *bell = getenv("XTALK_CHAT_BELL");
    c.bell = !(bell && strcmp(bell, "0") == 0);
    xt_chat_edit_init(&c.edit);
    c.hist = xt_chat_hist_open(c.acct.store, c.account);
    c.dedup = xt_cli_dedup_new(c.acct.store, c.account);
    c.rooms.sync = xt_cli_room_sync_new(c.acct.store, c.account);
    if (c.rooms.sync)
        xt_cli_room_sync_set_note(c.rooms.sync, xt_chat_room_sync_note, &c);
    c.wins = calloc(1, sizeof *c.wins);
    if (!c.dedup || !c.rooms.sync || !c.wins || !(c.wins[0] = calloc(1, sizeof **c.wins))) {
        xt_cli_errorf("chat: cannot start: out of memory");
        rc = XT_CLI_EXIT_ERROR;
        goto out;
    }
    c.nwins = 1;

    xt_cli_session_params p = {
        .show = c.show,
        .interrupt_exit = XT_CLI_EXIT_OK,
        .want_sigwinch = 1,
        .want_sighup = 1,
        .reconnect = XT_CLI_RECONNECT_ALWAYS,
        .stay = 1,
        .quiet = 1,
        .sync = 1, /* the archive catch-up at login (XEP-0313) */
        .selfping_ms = a->selfping_s * 1000u, /* XEP-0410; 0: the library's */
        .on_start = on_start,
        .on_online = on_online,
        .on_offline = on_offline,
        .on_event = on_event,
        .on_sigwinch = on_sigwinch,
        .ud = &c,
    };
    xt_cli_session *s;
    rc = xt_cli_session_start(&c.acct, &p, &s);
    if (s) {
        if (!xt_cli_session_done(s))
            xt_chat_ui_draw(&c);
        /* Idle cost (issue 13): sleep until a key, the network or the
         * next real deadline (a timer: keepalive, reconnection, the
         * clock's minute), never on a fixed tick. Every change to the
         * model sets c->dirty from a callback of this very call, so the
         * screen follows the state without waiting for a key. */
        while (!xt_cli_session_done(s)) {
            if (xt_loop_run_once(xt_cli_session_loop(s), -1) < 0)
                break;
            if (c.dirty && !xt_cli_session_done(s))
                xt_chat_ui_draw(&c);
        }
        xt_chat_ui_stop(&c);
        xt_chat_files_stop(&c); /* its transfers run on the session's loop */
        c.conn = NULL;
        rc = xt_cli_session_end(s);
    }
out:
    for (size_t i = 0; i < c.nwins; i++)
        xt_chat_win_free(c.wins[i]);
    free(c.wins);
    xt_chat_roster_free(&c);
    xt_chat_names_free(&c);
    xt_chat_files_free(&c);
    for (size_t i = 0; i < c.nsubs; i++)
        free(c.subs[i]);
    free(c.subs);
    for (size_t i = 0; i < c.npend; i++)
        free(c.pend[i].to), free(c.pend[i].body);
    free(c.pend);
    free(c.status_msg);
    xt_chat_rooms_free(&c);
    xt_chat_edit_free(&c.edit);
    xt_chat_hist_close(c.hist);
    xt_cli_dedup_free(c.dedup);
    xt_cli_room_sync_free(c.rooms.sync);
    xt_cli_account_close(&c.acct);
    free(asked_jid);
    return rc;
}
