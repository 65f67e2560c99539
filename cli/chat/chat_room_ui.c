/*
 * Rooms on screen (chat_room.h): the occupant pane, a room window's
 * title, Tab's nick completion, the prompts' input line. The occupants
 * are read from the library's table (xtalk/muc.h) whenever drawn, never
 * copied: the pane cannot disagree with the room.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "chat.h"
#include "chat_room.h"
#include "chat_room_text.h"
#include "chat_text.h"

static int occ_order(const void *a, const void *b)
{
    const xt_muc_occupant *x = *(const xt_muc_occupant *const *)a;
    const xt_muc_occupant *y = *(const xt_muc_occupant *const *)b;
    return xt_chat_occ_cmp(xt_muc_role_name(x->role), x->nick, xt_muc_role_name(y->role), y->nick);
}

const xt_muc_occupant **xt_chat_room_sorted(xt_chat *c, const char *room, size_t *n)
{
    size_t count = c->conn ? xt_muc_occupant_count(c->conn, room) : 0, k = 0;
    const xt_muc_occupant **o = count ? malloc(count * sizeof *o) : NULL;

    *n = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const xt_muc_occupant *x = xt_muc_occupant_at(c->conn, room, i);
        if (x && x->nick)
            o[k++] = x;
    }
    qsort(o, k, sizeof *o, occ_order);
    *n = k;
    return o;
}

void xt_chat_room_draw_pane(xt_chat *c, const xt_chat_win *w, int top, int rows, int x, int width)
{
    size_t n = 0;
    const xt_muc_occupant **o = xt_chat_room_sorted(c, w->peer, &n);
    char buf[64];

    mvvline(top, x, ACS_VLINE, rows);
    x++;
    width--;
    snprintf(buf, sizeof buf, "%zu here", n);
    attron(A_BOLD);
    xt_chat_ui_put(top, x, buf, width);
    attroff(A_BOLD);
    for (size_t i = 0; i < n && (int)i + 1 < rows; i++) {
        char mark[3];
        xt_chat_occ_marker(xt_muc_role_name(o[i]->role), xt_muc_affiliation_name(o[i]->affiliation),
                           mark);
        mvaddstr(top + 1 + (int)i, x, mark);
        /* Away and the like dimmed: who is likely to answer. */
        attr_t at = (o[i]->show ? A_DIM : 0) | (o[i]->self ? A_BOLD : 0);
        attron(at);
        xt_chat_ui_put(top + 1 + (int)i, x + 2, o[i]->nick, width - 2);
        attroff(at);
    }
    if (n + 1 > (size_t)rows && rows > 1) { /* the rest, counted */
        snprintf(buf, sizeof buf, "+%zu more", n - (size_t)rows + 2);
        move(top + rows - 1, x);
        clrtoeol();
        xt_chat_ui_put(top + rows - 1, x, buf, width);
    }
    free(o);
}

void xt_chat_room_title(xt_chat *c, const xt_chat_win *w, char *buf, size_t len)
{
    if (w->pm) { /* room@service/nick */
        const char *slash = strchr(w->peer, '/');
        snprintf(buf, len, "[%zu] %s: private, in %.*s%s", c->cur, slash ? slash + 1 : w->peer,
                 slash ? (int)(slash - w->peer) : 0, w->peer, w->scroll ? "  [scrolled back]" : "");
        return;
    }
    const char *subject = c->conn ? xt_muc_subject(c->conn, w->peer) : NULL;
    const char *nick = c->conn ? xt_muc_nick(c->conn, w->peer) : NULL;
    xt_muc_state st = c->conn ? xt_muc_room_state(c->conn, w->peer) : XT_MUC_NOT_JOINED;

    snprintf(buf, len, "[%zu] %s (%s%s)%s%s%s", c->cur, w->peer,
             st == XT_MUC_JOINED    ? "as "
             : st == XT_MUC_JOINING ? "joining"
                                    : "not joined",
             st == XT_MUC_JOINED && nick ? nick : "", subject && *subject ? ": " : "",
             subject && *subject ? subject : "", w->scroll ? "  [scrolled back]" : "");
}

const char *xt_chat_room_win_name(const xt_chat_win *w)
{
    static char name[256];
    const char *slash = strchr(w->peer, '/'), *at = strchr(w->peer, '@');
    if (w->pm && slash)
        return slash + 1;
    snprintf(name, sizeof name, "%.*s", at ? (int)(at - w->peer) : (int)strlen(w->peer), w->peer);
    return name;
}

const char *xt_chat_room_prompt_text(const xt_chat *c, int *hidden)
{
    static char text[600];
    *hidden = c->rooms.prompt == XT_CHAT_PROMPT_PASSWORD;
    if (!c->rooms.prompt)
        return "";
    snprintf(text, sizeof text,
             "%s for %s: ", c->rooms.prompt == XT_CHAT_PROMPT_PASSWORD ? "password" : "nick",
             c->rooms.p_room ? c->rooms.p_room : "?");
    return text;
}

/* --- Tab: nick completion ------------------------------------------------------ */

static void cycle_end(xt_chat *c)
{
    free(c->rooms.cyc_prefix);
    free(c->rooms.cyc_ins);
    c->rooms.cyc_prefix = c->rooms.cyc_ins = NULL;
    c->rooms.cyc_k = 0;
}

/* The input still holds what the last Tab inserted, just before the
 * cursor: this Tab goes on to the next nick. */
static int cycle_intact(xt_chat *c)
{
    const xt_chat_edit *e = &c->edit;
    if (!c->rooms.cyc_ins || c->rooms.cyc_at > e->cur)
        return 0;
    char *now = xt_chat_utf8_encode(e->buf + c->rooms.cyc_at, e->cur - c->rooms.cyc_at);
    int same = now && strcmp(now, c->rooms.cyc_ins) == 0;
    free(now);
    return same;
}

int xt_chat_room_complete(xt_chat *c)
{
    xt_chat_win *w = c->wins[c->cur];
    xt_chat_edit *e = &c->edit;
    size_t n = 0, ws;

    if (!w->room)
        return 0;
    /* A command line: its name completes as everywhere; the second word
     * of /kick and /ban is a nick here. */
    int after_cmd = 0;
    if (e->len > 0 && e->buf[0] == L'/') {
        size_t sp = 0;
        while (sp < e->len && e->buf[sp] != L' ')
            sp++;
        size_t ws2 = e->cur;
        while (ws2 > 0 && e->buf[ws2 - 1] != L' ')
            ws2--;
        int nick_cmd = (sp == 5 && wcsncmp(e->buf, L"/kick", 5) == 0) ||
                       (sp == 4 && wcsncmp(e->buf, L"/ban", 4) == 0);
        if (!nick_cmd || ws2 != sp + 1)
            return 0;
        after_cmd = 1;
    }
    if (cycle_intact(c)) {
        ws = c->rooms.cyc_at;
        c->rooms.cyc_k++;
    } else {
        cycle_end(c);
        ws = e->cur;
        while (ws > 0 && e->buf[ws - 1] != L' ' && e->buf[ws - 1] != L'\n')
            ws--;
        c->rooms.cyc_prefix = xt_chat_utf8_encode(e->buf + ws, e->cur - ws);
        c->rooms.cyc_at = ws;
        if (!c->rooms.cyc_prefix)
            return 1;
    }
    const xt_muc_occupant **o = xt_chat_room_sorted(c, w->peer, &n);
    const char **nicks = malloc((n ? n : 1) * sizeof *nicks);
    size_t k = 0;
    for (size_t i = 0; nicks && i < n; i++)
        if (!o[i]->self) /* never ourselves */
            nicks[k++] = o[i]->nick;
    const char *nick = NULL;
    long count =
        nicks ? xt_chat_nick_complete(c->rooms.cyc_prefix, nicks, k, c->rooms.cyc_k, &nick) : -1;
    char ins[1100];
    if (count > 0) {
        xt_chat_nick_insertion(nick, ws == 0 && !after_cmd, ins, sizeof ins);
        /* Replace what the prefix (or the last Tab) put there. */
        while (e->cur > ws)
            xt_chat_edit_backspace(e);
        xt_chat_edit_insert_utf8(e, ins);
        free(c->rooms.cyc_ins);
        c->rooms.cyc_ins = strdup(ins);
        if (count > 1)
            snprintf(c->hint, sizeof c->hint, "%ld nicks match: Tab again for the next", count);
    } else {
        snprintf(c->hint, sizeof c->hint, "no nick here starts with '%s'", c->rooms.cyc_prefix);
        cycle_end(c);
    }
    free(nicks);
    free(o);
    c->dirty = 1;
    return 1;
}
