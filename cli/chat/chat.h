/*
 * chat.h -- `xtalk chat`, the full-screen terminal client: what its parts
 * share. One xt_chat per run, single-threaded, driven by the session's
 * xt_loop (session.h, the path every command takes: signals, store, SASL
 * hint, the library's reconnection with XEP-0198 resumption): stdin and
 * the signal self-pipe are loop fds, so nothing ever blocks.
 *
 *   chat.c          the command: the session's hooks, events, quit
 *   chat_win.c      conversation windows (buffers of lines, unread, scroll-back)
 *   chat_roster.c   the contacts: roster groups, presence, the roster pane
 *   chat_ui.c       curses: layout, drawing, colours, resize
 *   chat_input.c    keys, the line editor's bindings, slash commands, sending
 *   chat_history.c  the store: history, search, outbox
 *   chat_room.c     group chat (XEP-0045): room windows, their events
 *   chat_room_cmd.c the room commands
 *   chat_room_ui.c  rooms on screen: the occupant pane, titles, nick completion
 *   chat_setup.c    the first start: ask for the JID, offer to save it
 *   chat_files.c    files: numbered file lines, /open, /save, /upload
 *   chat_edit.c, chat_text.c, chat_cmd.c: pure parts (unit-tested)
 */
#ifndef XT_CLI_CHAT_H
#define XT_CLI_CHAT_H

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "chat_edit.h"
#include "chat_history.h"
#include "../session.h"
#include "xtalk/client.h"
#include "xtalk/mam.h"
#include "xtalk/im.h"

enum {
    XT_CHAT_LINE_INFO,
    XT_CHAT_LINE_IN,
    XT_CHAT_LINE_OUT,
    XT_CHAT_LINE_ERROR,
    XT_CHAT_LINE_MARK
};

typedef struct xt_chat_line {
    int64_t hist_id; /* 0 when not from / in the store */
    int kind;
    int queued;      /* outgoing, not yet acknowledged while offline */
    char id[64];     /* stanza id (origin-id) of the message */
    int delivered;   /* outgoing: the recipient's XEP-0184 receipt came (✓) */
    int edited;      /* corrected (XEP-0308) or retracted (XEP-0424) since */
    char *body;      /* outgoing: the text, for Up-arrow's correction; else NULL */
    int64_t ts_ms;   /* when sent or received */
    int32_t day;     /* local YYYYMMDD of ts_ms (chat_time.h); 0 on a day separator */
    wchar_t *text;   /* "HH:MM who: body" (the date too when not today) */
    size_t len;
    size_t body_off; /* where body starts in text: wrapped rows indent to it */
    /* XEP-0444: each sender's reactions to this message (chat_features.c),
     * shown as the suffix " [👍 2 ❤ 1]", the last suffix_len characters
     * of text (0: none). */
    struct xt_chat_reacts *reacts;
    size_t suffix_len;
} xt_chat_line;

typedef struct xt_chat_win {
    char *peer; /* bare JID; NULL for the console (window 0) */
    xt_chat_line *lines;
    size_t nlines, cap;
    size_t scroll; /* rows scrolled back from the bottom */
    int unread;
    int mentions; /* of the unread, how many name us (rooms: chat_room.c) */
    int64_t oldest_id; /* smallest history id shown; 0 = none loaded yet */
    int hist_done;     /* nothing older in the store */
    /* Scrolling back past the store fetches from the server's archive
     * (XEP-0313): the fetch in flight (its tag), where its lines go, and
     * whether the archive has nothing older either. */
    int mam_tag;
    size_t mam_at;
    size_t mam_seen; /* results of that fetch so far, shown or not */
    int mam_done;
    unsigned away_gen; /* the session whose "while away" marker this window has */
    struct xt_chatstates *cs; /* XEP-0085 timers of this conversation (chat_features.c) */
    int peer_state;           /* the peer's last chat state (xt_chatstate) */
    /* A room window (peer: the room's bare JID) has its room; a private
     * conversation with an occupant (peer: room@service/nick) has pm. */
    struct xt_chat_room *room;
    int pm;
} xt_chat_win;

typedef struct xt_chat_contact {
    char *jid, *name, *group, *status, *sub;
    int show; /* xt_show; XT_SHOW_UNAVAILABLE when offline */
    int ask;  /* our subscription request is pending */
} xt_chat_contact;

typedef struct xt_chat {
    xt_cli_account acct; /* settings, store, account key */
    const char *account; /* acct.key: the normalized bare JID */
    xt_cli_session *s;   /* the one session path (session.h) */
    xt_conn *conn;       /* the session's; lives across reconnections */
    int online;          /* a session is up now */
    char conn_text[64];  /* the status bar's connection state, a word or two */
    size_t nqueued;      /* messages not yet acknowledged (outbox + memory) */

    xt_chat_contact *contacts; /* sorted by group, then name */
    size_t ncontacts;
    xt_chat_win **wins; /* wins[0] is the console */
    size_t nwins, cur;

    xt_chat_edit edit;
    /* Bracketed paste (xterm mode 2004): `paste_bracketed` when the
     * terminal announces it (terminfo BE/PS/PE) or has sent a bracket;
     * `in_paste` between its \e[200~ and \e[201~. */
    int paste_bracketed, in_paste, paste_cr;
    int roster_focus;
    size_t roster_sel;
    char **subs; /* pending subscription requests, oldest first */
    size_t nsubs;
    /* Messages typed while offline without a store: sent on reconnect. */
    struct xt_chat_pending {
        char *to, *body;
    } * pend;
    size_t npend;

    int bell, color, show;
    char *status_msg;
    char hint[512]; /* one-line notice on the status bar, until the next key */
    xt_chat_hist *hist;
    struct xt_cli_dedup *dedup; /* repeats dropped (dedup.h) */
    unsigned gen;               /* sessions (new, not resumed) so far */
    size_t caught_up;           /* messages the login catch-up brought */
    int dirty;                  /* redraw before waiting */
    /* Up-arrow's XEP-0308 correction: the id of our message being
     * corrected in window correct_win ("" = none). */
    char correcting[64];
    size_t correct_win;
    /* Contacts' vCard names (XEP-0054 FN), fetched once each when a name
     * is wanted and neither the roster nor a nickname gives one
     * (chat_roster.c). */
    struct xt_chat_fn {
        char *jid, *fn; /* fn NULL: asked, or none */
    } * fns;
    size_t nfns;
    int cs_timer;       /* the next XEP-0085 timer (chat_features.c) */
    size_t input_len;   /* the input's length at the last key: typing or not */
    struct xt_chat_files *files; /* received files, for /open and /save (chat_files.c) */
    char xfer_text[64];          /* the status bar's transfer ("up a.png 45%"), "" = none */
    /* Group chat (chat_room.c, chat_room_ui.c). */
    struct xt_chat_rooms {
        int pane;     /* the occupant pane shows in room windows (Alt-O) */
        int prompt;   /* XT_CHAT_PROMPT_*: what the input line asks for */
        char *p_room; /* the room the prompt is about */
        char *p_nick; /* the nick it joins with */
        /* Tab's nick cycle: the prefix typed, the next match, where the
         * inserted nick starts in the input and what it inserted. */
        char *cyc_prefix, *cyc_ins;
        size_t cyc_k, cyc_at;
        int autojoined; /* the bookmarks' autojoin ran (once per run) */
        /* Every join goes through it: no room history where the room
         * keeps an archive, then a catch-up from it (../room_sync.h). */
        struct xt_cli_room_sync *sync;
    } rooms;
} xt_chat;

/* chat_win.c */
xt_chat_win *xt_chat_win_find(xt_chat *c, const char *peer, size_t *idx);
/* Finds or opens; NULL on allocation failure. Opening loads the newest
 * page of history. */
xt_chat_win *xt_chat_win_open(xt_chat *c, const char *peer, size_t *idx);
/* The same without loading history (a room window: its history is the
 * room's). */
xt_chat_win *xt_chat_win_open_empty(xt_chat *c, const char *peer, size_t *idx);
void xt_chat_win_close(xt_chat *c, size_t idx);
void xt_chat_win_free(xt_chat_win *w);
/* Appends a line "HH:MM who: body" (who may be NULL: "HH:MM body"; the
 * date before the time when ts_ms is not today). In a conversation window
 * a line of another day than the line before it comes after a day
 * separator line. */
xt_chat_line *xt_chat_win_add(xt_chat_win *w, int kind, int64_t ts_ms, const char *who,
                              const char *body, int64_t hist_id);
/* The same with the full date and time ("YYYY-MM-DD HH:MM:SS"), for
 * search results. */
xt_chat_line *xt_chat_win_add_full(xt_chat_win *w, int kind, int64_t ts_ms, const char *who,
                                   const char *body, int64_t hist_id);
void xt_chat_infof(xt_chat *c, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Up to n older messages of the window from the store alone (a room
 * window opening: the catch-up brings what is newer). Returns how many;
 * fewer than n: the store has no more (hist_done). */
size_t xt_chat_win_load_stored(xt_chat *c, xt_chat_win *w, size_t n);
/* Loads up to n older messages of the window from the store, then from
 * the archive (the lines arrive later). Returns how many from the store. */
size_t xt_chat_win_load_older(xt_chat *c, xt_chat_win *w, size_t n);
/* A message of an archive fetch started by load_older: goes above. */
void xt_chat_win_archived(xt_chat *c, xt_chat_win *w, const xt_message *m);
/* That fetch ended. */
void xt_chat_win_archive_done(xt_chat *c, xt_chat_win *w, const xt_archive_event *a);
void xt_chat_switch(xt_chat *c, size_t idx);

/* chat_roster.c */
void xt_chat_roster_rebuild(xt_chat *c);
void xt_chat_roster_presence(xt_chat *c, const char *bare);
void xt_chat_roster_free(xt_chat *c);
xt_chat_contact *xt_chat_contact_find(xt_chat *c, const char *bare);
const char *xt_chat_show_symbol(int show);
const char *xt_chat_show_name(int show);
/* Display name of a JID: the roster name, else the nickname it published
 * (XEP-0172, from PEP notifications), else its vCard's FN (fetched once,
 * lazily: the name changes when the answer comes), else the JID. Valid
 * until the next event. */
const char *xt_chat_display_name(xt_chat *c, const char *bare);
void xt_chat_names_free(xt_chat *c);

/* chat_ui.c */
/* Key codes (beyond curses' KEY_MAX) the UI defines for the bracketed
 * paste markers \e[200~ and \e[201~. */
enum { XT_CHAT_KEY_PASTE_BEGIN = 0x1001, XT_CHAT_KEY_PASTE_END = 0x1002,
       /* Focus reports (mode 1004): XEP-0352 active/inactive. */
       XT_CHAT_KEY_FOCUS_IN = 0x1003, XT_CHAT_KEY_FOCUS_OUT = 0x1004 };
int xt_chat_ui_start(xt_chat *c);
/* Leaves the terminal for a job-control stop (Ctrl-Z) and comes back. */
void xt_chat_ui_suspend(xt_chat *c);
void xt_chat_ui_stop(xt_chat *c);
void xt_chat_ui_resize(xt_chat *c);
void xt_chat_ui_draw(xt_chat *c);
void xt_chat_ui_bell(xt_chat *c);
/* Draws UTF-8 s (network text: sanitized to one line) at (y, x) in at
 * most cols columns; returns the columns used. */
int xt_chat_ui_put(int y, int x, const char *s, int cols);

/* chat_input.c */
void xt_chat_input_ready(xt_chat *c); /* stdin readable */
/* Sends (or queues) a message to peer and shows it in its window. */
void xt_chat_send_text(xt_chat *c, const char *peer, const char *body);
/* The same with XEP-0066 OOB (oob_url NULL: none): a shared file. A
 * message queued while offline is sent again without it (the outbox
 * keeps bodies). */
void xt_chat_send_text_oob(xt_chat *c, const char *peer, const char *body, const char *oob_url);
/* Recounts c->nqueued (the outbox and the memory queue). */
void xt_chat_queue_count(xt_chat *c);
/* Resends the outbox / memory queue once online. */
void xt_chat_flush_queue(xt_chat *c);
/* The server holds message `id` (XT_EV_ACKED): it leaves the outbox. */
void xt_chat_acked(xt_chat *c, const char *id);

/* Replaces line i's body (a correction, a retraction), keeping its
 * time, sender and suffix; 0 or -1 (out of memory: the line is unchanged). */
int xt_chat_win_set_body(xt_chat *c, xt_chat_win *w, size_t i, const char *who, const char *body);
/* Sets line i's suffix (UTF-8, shown after a space; NULL or "" removes
 * it). 0 or -1 (out of memory: unchanged). */
int xt_chat_win_set_suffix(xt_chat_win *w, size_t i, const char *suffix);
/* Frees a line's reactions (chat_features.c). */
void xt_chat_reacts_free(struct xt_chat_reacts *r);

/* chat_features.c: the message features (xtalk/im.h) in the UI. */
/* After keys: the input of the current window changed or not. */
void xt_chat_feat_after_keys(xt_chat *c);
/* The current window changes (from, to): chat states follow. */
void xt_chat_feat_switch(xt_chat *c, size_t from, size_t to);
/* The extras of a message about to be sent to peer (receipt request,
 * chat state, correction of c->correcting). */
void xt_chat_feat_extras(xt_chat *c, const char *peer, xt_message_extras *x);
/* Incoming: 1 when the message was taken care of (a correction shown in
 * place, a retraction's fallback body) and is not a new line. */
int xt_chat_feat_message(xt_chat *c, const char *peer, const xt_message *m);
void xt_chat_feat_event(xt_chat *c, const xt_event *ev);
/* Up-arrow on an empty input: edit our last message in this window
 * (XEP-0308). 1 when it started, 0 when there is none. */
int xt_chat_feat_start_correction(xt_chat *c);
/* Submitting a correction: sends it and replaces the line. 1 when the
 * text was a correction (sent or refused with a hint). */
int xt_chat_feat_submit_correction(xt_chat *c, const char *text);
/* /react EMOJI: to the peer's last message in the current window. */
void xt_chat_feat_react(xt_chat *c, const char *emoji);
/* Window idx closes: gone (XEP-0085 §5.2). */
void xt_chat_feat_close_win(xt_chat *c, size_t idx);
/* The terminal reported focus (1) or its loss (0): XEP-0352. Also
 * re-applied by the library after a new session. */
void xt_chat_feat_focus(xt_chat *c, int focused);
/* /info: vCard name, nickname, resources and what their clients
 * support (verified caps), shown in the current window when the answers
 * came. */
void xt_chat_feat_info(xt_chat *c, const char *jid);
/* Quitting: gone to every conversation that was told a state. */
void xt_chat_feat_quit(xt_chat *c);

/* chat.c */
void xt_chat_quit(xt_chat *c);

/* chat_setup.c: with no account configured, asks for the JID on the
 * terminal and offers to save it in the config file (0600). 0 and
 * *jid_out = the JID (malloc'd) or NULL when one was configured; else
 * the exit code (the user gave none). */
int xt_chat_first_start(const xt_cli_args *a, char **jid_out);

#endif
