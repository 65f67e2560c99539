/*
 * Curses drawing for `xtalk chat`. The whole screen is redrawn from the
 * model after every batch of events (ncurses sends only the difference),
 * so a resize is just a redraw at the new size.
 *
 *   row 0          title: the current window
 *   rows 1..H-3    roster pane | conversation
 *   row H-2        status bar: account, connection, windows, unread, notices
 *   row H-1        input line (or a subscription prompt)
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "chat.h"
#include "chat_room.h"
#include "chat_room_text.h"
#include "chat_text.h"
#include "../sanitize.h"

enum { P_AVAIL = 1, P_AWAY, P_XA, P_DND, P_OFF, P_OUT, P_ERR, P_MARK, P_IN };

/* --- bracketed paste (xterm mode 2004) --------------------------------------
 * With it on, the terminal wraps pasted text in \e[200~ ... \e[201~, so an
 * Enter typed after text (however quickly: ssh, tmux send-keys, a busy
 * machine) is told apart from a pasted line break. The mode outlives us
 * in the terminal, so every way out turns it off: ui_stop, exit(), a
 * fatal signal, a job-control stop. The strings are terminfo's (BE/BD,
 * PS/PE: ncurses 6.4's xterm, tmux, screen... entries have them); a
 * terminal without them gets the batch heuristic (chat_input.c). */
static char paste_off[32];   /* BD, copied: the signal handler writes it */
static size_t paste_off_len; /* 0: the mode is not on */

/* Focus reporting (xterm mode 1004: \e[I in, \e[O out): only a terminal
 * that reports focus ever makes the chat say inactive (XEP-0352); one
 * that ignores the mode sends nothing, and the chat stays active. */
#define FOCUS_ON "\033[?1004h"
#define FOCUS_OFF "\033[?1004l"
static volatile sig_atomic_t focus_on;

static void paste_disable(void)
{
    if (paste_off_len > 0) {
        ssize_t r = write(STDOUT_FILENO, paste_off, paste_off_len);
        (void)r;
    }
    if (focus_on) {
        ssize_t r = write(STDOUT_FILENO, FOCUS_OFF, sizeof FOCUS_OFF - 1);
        (void)r;
    }
}

static void on_fatal(int sig)
{
    /* Async-signal-safe: one write(2), then the default action
     * (SA_RESETHAND put it back) for the core dump. */
    paste_disable();
    raise(sig);
}

static const char *cap(const char *name)
{
    char *s = tigetstr(name);
    return s && s != (char *)-1 ? s : NULL;
}

/* Every way out turns the terminal modes off (see above). */
static void hook_exits(void)
{
    static int hooked;
    if (!hooked) {
        static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
        struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_RESETHAND};
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
            sigaction(fatal[i], &sa, NULL);
        atexit(paste_disable);
        hooked = 1;
    }
}

static void focus_enable(void)
{
    define_key("\033[I", XT_CHAT_KEY_FOCUS_IN);
    define_key("\033[O", XT_CHAT_KEY_FOCUS_OUT);
    hook_exits();
    focus_on = 1;
    ssize_t r = write(STDOUT_FILENO, FOCUS_ON, sizeof FOCUS_ON - 1);
    (void)r;
}

static void paste_enable(xt_chat *c)
{
    const char *be = cap("BE"), *bd = cap("BD"), *ps = cap("PS"), *pe = cap("PE");

    if (!be || !bd || !ps || !pe || strlen(bd) >= sizeof paste_off)
        return;
    define_key(ps, XT_CHAT_KEY_PASTE_BEGIN);
    define_key(pe, XT_CHAT_KEY_PASTE_END);
    memcpy(paste_off, bd, strlen(bd));
    paste_off_len = strlen(bd);
    hook_exits();
    ssize_t r = write(STDOUT_FILENO, be, strlen(be));
    (void)r;
    c->paste_bracketed = 1;
}

void xt_chat_ui_suspend(xt_chat *c)
{
    /* ncurses' own SIGTSTP handler (installed by initscr) restores the
     * terminal and, on SIGCONT, the screen; the paste mode is ours. */
    paste_disable();
    raise(SIGTSTP);
    if (c->paste_bracketed) {
        const char *be = cap("BE");
        if (be) {
            ssize_t r = write(STDOUT_FILENO, be, strlen(be));
            (void)r;
        }
    }
    if (focus_on) {
        ssize_t r = write(STDOUT_FILENO, FOCUS_ON, sizeof FOCUS_ON - 1);
        (void)r;
    }
    clearok(curscr, TRUE);
    c->dirty = 1;
}

int xt_chat_ui_start(xt_chat *c)
{
    const char *nc = getenv("NO_COLOR");

    if (!initscr())
        return -1;
    raw(); /* Ctrl-C, Ctrl-Z... reach us as keys: the chat binds them */
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    /* No typeahead polls of stdin while drawing: keys are read in
     * batches anyway, and an idle redraw (the clock) stays one wakeup. */
    typeahead(-1);
    paste_enable(c);
    focus_enable();
    /* https://no-color.org: set and not empty disables colour */
    c->color = !(nc && *nc) && has_colors();
    if (c->color) {
        start_color();
        use_default_colors(); /* -1: the terminal's own colours */
        init_pair(P_AVAIL, COLOR_GREEN, -1);
        init_pair(P_AWAY, COLOR_YELLOW, -1);
        init_pair(P_XA, COLOR_MAGENTA, -1);
        init_pair(P_DND, COLOR_RED, -1);
        init_pair(P_OFF, -1, -1);
        init_pair(P_OUT, COLOR_CYAN, -1);
        init_pair(P_ERR, COLOR_RED, -1);
        init_pair(P_MARK, COLOR_BLUE, -1);
        init_pair(P_IN, -1, -1);
    }
    return 0;
}

void xt_chat_ui_stop(xt_chat *c)
{
    (void)c;
    if (!isendwin())
        endwin();
    paste_disable();
    paste_off_len = 0;
}

void xt_chat_ui_resize(xt_chat *c)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE);
    c->dirty = 1;
}

void xt_chat_ui_bell(xt_chat *c)
{
    if (c->bell)
        beep();
}

static attr_t color(const xt_chat *c, int pair)
{
    return c->color ? COLOR_PAIR(pair) : 0;
}

static int show_pair(int show)
{
    switch (show) {
    case XT_SHOW_AVAILABLE:
    case XT_SHOW_CHAT:
        return P_AVAIL;
    case XT_SHOW_AWAY:
        return P_AWAY;
    case XT_SHOW_XA:
        return P_XA;
    case XT_SHOW_DND:
        return P_DND;
    default:
        return P_OFF;
    }
}

/* Draws UTF-8 s at (y, x) in at most cols columns; returns columns used.
 * Everything drawn this way (names, statuses, the title, the status bar)
 * may hold network text: it is drawn in its single-line sanitized form
 * (sanitize.h), so no bidi override reorders the bar, no control acts. */
static int put(int y, int x, const char *s, int cols)
{
    size_t n;
    wchar_t *w;
    int used = 0;
    char *safe;

    if (cols <= 0 || !(safe = xt_cli_sanitize(s, strlen(s), XT_CLI_SAN_LINE)))
        return 0;
    w = xt_chat_utf8_decode(safe, strlen(safe), &n);
    free(safe);
    if (!w)
        return 0;
    move(y, x);
    for (size_t i = 0; i < n; i++) {
        wchar_t g = w[i] == L'\n' || w[i] == L'\t' ? L' ' : xt_chat_glyph(w[i]);
        int cw = xt_chat_wcwidth(g);
        if (used + cw > cols)
            break;
        addnwstr(&g, 1);
        used += cw;
    }
    free(w);
    return used;
}

int xt_chat_ui_put(int y, int x, const char *s, int cols)
{
    return put(y, x, s, cols);
}

static int unread_of(const xt_chat *c, const char *jid)
{
    for (size_t i = 1; i < c->nwins; i++)
        if (strcmp(c->wins[i]->peer, jid) == 0)
            return c->wins[i]->unread;
    return 0;
}

static void draw_roster(xt_chat *c, int top, int rows, int width)
{
    /* Rows: a header per group, then its contacts. Scroll so the
     * selection stays visible. */
    int total = 0, sel_row = 0;
    for (size_t i = 0; i < c->ncontacts; i++) {
        if (i == 0 || strcmp(c->contacts[i].group, c->contacts[i - 1].group) != 0)
            total++;
        if (i == c->roster_sel)
            sel_row = total;
        total++;
    }
    int first = 0;
    if (c->roster_focus && sel_row >= rows)
        first = sel_row - rows + 1;
    int r = 0;
    for (size_t i = 0; i < c->ncontacts; i++) {
        const xt_chat_contact *k = &c->contacts[i];
        char buf[512];
        if (i == 0 || strcmp(k->group, c->contacts[i - 1].group) != 0) {
            if (r >= first && r - first < rows) {
                attron(A_BOLD);
                put(top + r - first, 0, k->group, width);
                attroff(A_BOLD);
            }
            r++;
        }
        if (r >= first && r - first < rows) {
            int y = top + r - first, unread = unread_of(c, k->jid);
            attr_t sel = c->roster_focus && i == c->roster_sel ? A_REVERSE : 0;
            attron(color(c, show_pair(k->show)) | A_BOLD);
            mvaddstr(y, 1, xt_chat_show_symbol(k->show));
            attroff(color(c, show_pair(k->show)) | A_BOLD);
            if (unread)
                snprintf(buf, sizeof buf, "%s (%d)", k->name ? k->name : k->jid, unread);
            else
                snprintf(buf, sizeof buf, "%s", k->name ? k->name : k->jid);
            attron(sel | (unread ? A_BOLD : 0));
            int used = put(y, 3, buf, width - 3);
            attroff(sel | (unread ? A_BOLD : 0));
            if (k->status && used + 5 < width - 3) {
                attron(A_DIM);
                put(y, 3 + used + 1, k->status, width - 3 - used - 1);
                attroff(A_DIM);
            }
        }
        r++;
    }
    if (c->ncontacts == 0)
        put(top, 0, c->online ? "(no contacts)" : "", width);
}

static int line_pair(int kind)
{
    switch (kind) {
    case XT_CHAT_LINE_OUT:
        return P_OUT;
    case XT_CHAT_LINE_ERROR:
        return P_ERR;
    case XT_CHAT_LINE_MARK:
    case XT_CHAT_LINE_INFO:
        return P_MARK;
    default:
        return P_IN;
    }
}

/* Draws row `r` of line l (wrapped at width) at (y, x). */
static void draw_row(xt_chat *c, const xt_chat_line *l, const size_t *starts, size_t nrows,
                     size_t r, int y, int x, int width)
{
    size_t a = starts[r], b = r + 1 < nrows ? starts[r + 1] : l->len;
    attr_t at = color(c, line_pair(l->kind)) | (l->kind == XT_CHAT_LINE_INFO ? A_DIM : 0) |
                (l->queued ? A_DIM : 0);
    move(y, x);
    attron(at);
    int used = 0;
    for (size_t i = a; i < b; i++) {
        if (l->text[i] == L'\n')
            continue;
        wchar_t g = l->text[i] == L'\t' ? L' ' : xt_chat_glyph(l->text[i]);
        int cw = xt_chat_wcwidth(g);
        if (used + cw > width)
            break;
        addnwstr(&g, 1);
        used += cw;
    }
    if (l->queued && r + 1 == nrows && used + 9 <= width)
        addstr(" (queued)");
    /* XEP-0184: the recipient's client has it. */
    else if (l->delivered && r + 1 == nrows && used + 2 <= width)
        addwstr(L" \u2713");
    attroff(at);
}

static void draw_conversation(xt_chat *c, int top, int rows, int x, int width)
{
    xt_chat_win *w = c->wins[c->cur];
    int y = top + rows - 1;
    size_t skip = w->scroll, cap = 0;
    size_t *starts = NULL;

    for (size_t li = w->nlines; li > 0 && y >= top; li--) {
        const xt_chat_line *l = &w->lines[li - 1];
        if (cap < l->len + 1) {
            size_t *s = realloc(starts, (l->len + 1) * sizeof *s);
            if (!s)
                break;
            starts = s;
            cap = l->len + 1;
        }
        /* Continuation rows sit under the text, not under the time
         * and sender (issue 13 item 8, as profanity does). */
        size_t indent = xt_chat_cont_indent(xt_chat_width(l->text, l->body_off), (size_t)width);
        size_t nrows = xt_chat_wrap_indent(l->text, l->len, (size_t)width, indent, starts, cap);
        for (size_t r = nrows; r > 0 && y >= top; r--) {
            if (skip > 0) {
                skip--;
                continue;
            }
            int in = r > 1 ? (int)indent : 0;
            draw_row(c, l, starts, nrows, r - 1, y--, x + in, width - in);
        }
    }
    free(starts);
    /* Scrolled past everything loaded: nothing was drawn. The scroll is
     * clamped to the top page, which is drawn instead of a blank window
     * (once: within the lines now, the second pass skips less than all). */
    if (skip > 0 && w->scroll >= skip) {
        size_t total = w->scroll - skip; /* rows of every line */
        w->scroll = total > (size_t)rows ? total - (size_t)rows : 0;
        draw_conversation(c, top, rows, x, width);
    }
}

/* Columns a UTF-8 string takes (as put() draws it). */
static int cols_of(const char *s)
{
    size_t n;
    wchar_t *w = xt_chat_utf8_decode(s, strlen(s), &n);
    int cols = 0;
    for (size_t i = 0; w && i < n; i++)
        cols += xt_chat_wcwidth(w[i] == L'\n' || w[i] == L'\t' ? L' ' : xt_chat_glyph(w[i]));
    free(w);
    return cols;
}

/* Our own presence as the title shows it: "alice@example.org ~ away: lunch". */
static void own_presence(const xt_chat *c, char *buf, size_t len)
{
    if (!c->online)
        snprintf(buf, len, "%s - offline", c->account);
    else
        snprintf(buf, len, "%s %s %s%s%s", c->account, xt_chat_show_symbol(c->show),
                 xt_chat_show_name(c->show), c->status_msg ? ": " : "",
                 c->status_msg ? c->status_msg : "");
}

static void draw_title(xt_chat *c, int width)
{
    xt_chat_win *w = c->wins[c->cur];
    char buf[1024], me[600];

    attron(A_REVERSE);
    mvhline(0, 0, ' ', width);
    if (c->nsubs > 0) {
        /* A subscription request is the prompt until answered. */
        snprintf(buf, sizeof buf, "%s asks to see your presence: Alt-Y allow, Alt-N deny",
                 c->subs[0]);
        attron(A_BOLD);
    } else if (!w->peer) {
        snprintf(buf, sizeof buf, "[0] xtalk console - /help for commands and keys");
    } else if (w->room || w->pm) { /* the room, our nick, its subject */
        xt_chat_room_title(c, w, buf, sizeof buf);
    } else {
        const xt_chat_contact *k = xt_chat_contact_find(c, w->peer);
        /* XEP-0085: what the peer is doing in this conversation. */
        const char *doing = w->peer_state == XT_CHATSTATE_COMPOSING ? " typing\u2026 "
                            : w->peer_state == XT_CHATSTATE_PAUSED  ? " (stopped typing) "
                                                                    : " ";
        snprintf(buf, sizeof buf, "[%zu] %s%s%s %s%s%s%s", c->cur, w->peer, doing,
                 k ? xt_chat_show_symbol(k->show) : "?",
                 k ? xt_chat_show_name(k->show) : "not in roster", k && k->status ? ": " : "",
                 k && k->status ? k->status : "", w->scroll ? "  [scrolled back]" : "");
    }
    int used = put(0, 1, buf, width - 1);
    attroff(A_BOLD);
    /* Who we are and how others see us, right-aligned where it fits
     * whole; the status bar has the short form always. */
    own_presence(c, me, sizeof me);
    int mw = cols_of(me);
    if (1 + used + 3 + mw + 1 <= width)
        put(0, width - mw - 1, me, mw);
    attroff(A_REVERSE);
}

/* The window list at a name width of `name_cols` (0: numbers only);
 * `only_marked` keeps just the current window and those with unread. */
static void window_list(xt_chat *c, char *buf, size_t len, int name_cols, int only_marked)
{
    size_t o = 0;
    int skipped = 0;

    o += (size_t)snprintf(buf + o, len - o, "[");
    for (size_t i = 0; i < c->nwins && o + 80 < len; i++) {
        const xt_chat_win *w = c->wins[i];
        if (only_marked && i != c->cur && !w->unread) {
            skipped++;
            continue;
        }
        const char *name = !w->peer                 ? "console"
                           : w->room || w->pm ? xt_chat_room_win_name(w) /* room, nick */
                                              : xt_chat_display_name(c, w->peer);
        char nm[64] = "";
        if (name_cols > 0) {
            /* Cut by characters, not bytes (names are UTF-8). */
            size_t n = 0, b = 0;
            while (name[b] && n < (size_t)name_cols && b < sizeof nm - 5) {
                b++;
                while (((unsigned char)name[b] & 0xc0) == 0x80)
                    b++;
                n++;
            }
            snprintf(nm, sizeof nm, ":%.*s", (int)b, name);
        }
        o += (size_t)snprintf(buf + o, len - o, "%s%s%zu%s", o > 1 ? " " : "",
                              i == c->cur ? "*" : "", i, nm);
        /* Mentions apart from plain unread: "(5 @2)". */
        o += xt_chat_unread_label(w->unread, w->mentions, buf + o, len - o);
    }
    if (skipped && o + 16 < len)
        o += (size_t)snprintf(buf + o, len - o, " +%d", skipped);
    snprintf(buf + o, len - o, "]");
}

/*
 * The status bar, in order of precedence: the connection state and the
 * queued count (short, always), the window list with unread counts
 * (always: names shortened, then numbers only, then only the current and
 * unread windows, until it fits), our own presence, the notice (cut to
 * what is left: it is in full in the current window), the clock.
 */
static void draw_status(xt_chat *c, int y, int width)
{
    char conn[80], queued[32] = "", wins[2048], pres[96] = "", hm[8] = "";
    time_t now = time(NULL);
    struct tm tm;

    snprintf(conn, sizeof conn, "[%s]", c->conn_text);
    if (c->nqueued > 0)
        snprintf(queued, sizeof queued, " [%zu queued]", c->nqueued);
    int fixed = cols_of(conn) + cols_of(queued) + 1;
    static const int name_cols[] = {16, 8, 0};
    for (int pass = 0; pass < 4; pass++) {
        window_list(c, wins, sizeof wins, name_cols[pass < 3 ? pass : 2], pass == 3);
        if (fixed + cols_of(wins) <= width)
            break;
    }
    if (c->online && (c->show != XT_SHOW_AVAILABLE || c->status_msg))
        snprintf(pres, sizeof pres, " [%s%s%.24s]", xt_chat_show_name(c->show),
                 c->status_msg ? ": " : "", c->status_msg ? c->status_msg : "");
    if (localtime_r(&now, &tm))
        strftime(hm, sizeof hm, "%H:%M", &tm);

    attron(A_REVERSE);
    mvhline(y, 0, ' ', width);
    int x = put(y, 0, conn, width);
    x += put(y, x, queued, width - x);
    x += put(y, x, " ", width - x);
    x += put(y, x, wins, width - x);
    if (pres[0] && x + cols_of(pres) <= width)
        x += put(y, x, pres, width - x);
    if (c->hint[0] && width - x > 4) {
        int room = width - x - 1;
        x += put(y, x, " ", 1);
        if (cols_of(c->hint) <= room) {
            x += put(y, x, c->hint, room);
        } else { /* cut, and say so */
            x += put(y, x, c->hint, room - 1);
            x += put(y, x, "\u2026", 1);
        }
    }
    if (x + 1 + (int)strlen(hm) <= width)
        put(y, width - (int)strlen(hm), hm, (int)strlen(hm));
    attroff(A_REVERSE);
}

static void draw_input(xt_chat *c, int y, int width)
{
    const xt_chat_edit *e = &c->edit;
    char prompt[600];
    int cur_x;

    int hidden = 0;
    const char *asks = xt_chat_room_prompt_text(c, &hidden);
    if (*asks) /* a room asks for a password (typed, never shown) or a nick */
        snprintf(prompt, sizeof prompt, "%s", asks);
    else
        snprintf(prompt, sizeof prompt, "%s> ", c->roster_focus ? "[roster] " : "");
    int px = put(y, 0, prompt, width);
    if (hidden) {
        move(y, px);
        return;
    }
    int avail = width - px - 1;
    if (avail < 1)
        return;
    /* Scroll horizontally so the cursor is visible. */
    size_t start = 0;
    if (xt_chat_width(e->buf, e->cur) > (size_t)avail)
        start = xt_chat_tail(e->buf, e->cur, (size_t)avail);
    move(y, px);
    int used = 0;
    cur_x = px;
    for (size_t i = start; i < e->len; i++) {
        wchar_t g = e->buf[i] == L'\n' ? (wchar_t)0x21b5 : e->buf[i] == L'\t' ? L' ' :
                                                                               xt_chat_glyph(e->buf[i]);
        int cw = xt_chat_wcwidth(g);
        if (used + cw > avail)
            break;
        if (i == e->cur)
            cur_x = px + used;
        addnwstr(&g, 1);
        used += cw;
    }
    if (e->cur >= e->len || e->cur < start)
        cur_x = px + used;
    move(y, cur_x);
}

void xt_chat_ui_draw(xt_chat *c)
{
    int H = LINES, W = COLS;

    c->dirty = 0;
    erase();
    if (H < 5 || W < 20) {
        put(0, 0, "terminal too small", W);
        refresh();
        return;
    }
    /* Roster | conversation | occupants (a room window, Alt-O). */
    const xt_chat_win *w = c->wins[c->cur];
    xt_chat_layout l;
    xt_chat_layout_of(W, w->room && c->rooms.pane, &l);
    int rw = l.roster_w;
    draw_title(c, W);
    if (rw) {
        draw_roster(c, 1, H - 3, rw - 1);
        mvvline(1, rw - 1, ACS_VLINE, H - 3);
    }
    draw_conversation(c, 1, H - 3, l.conv_x, l.conv_w);
    if (l.occ_w)
        xt_chat_room_draw_pane(c, w, 1, H - 3, l.occ_x, l.occ_w);
    draw_status(c, H - 2, W);
    draw_input(c, H - 1, W);
    curs_set(1);
    refresh();
}
