/* Joining rooms with their archive: see room_sync.h. */
#include "room_sync.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "xtalk/jid.h"
#include "xtalk/mam.h"

#define MAX_ROOMS XT_MUC_MAX_ROOMS

typedef struct rs_room {
    char *room;
    char *nick, *password;
    xt_show show;
    /* The history asked of a room without an archive (the caller's). */
    xt_muc_history history;
    uint32_t max_stanzas, max_chars, seconds;
    char *since;
    int archived; /* the room lists urn:xmpp:mam:2 */
    int tag;      /* the catch-up in flight (xt_mam_fetch), 0 = none */
} rs_room;

struct xt_cli_room_sync {
    xt_store *store;
    char *account;
    xt_cli_room_sync_note_fn note; /* NULL: stderr */
    void *note_ud;
    rs_room *v;
    size_t n, cap;
};

/* The disco answer reaches us by a pointer that must stay valid: one
 * small request per query, freed by the callback (the conn calls it once;
 * a conn freed first leaks none: the session ends with the process). */
typedef struct rs_req {
    xt_cli_room_sync *rs;
    char *room;
} rs_req;

xt_cli_room_sync *xt_cli_room_sync_new(xt_store *store, const char *account)
{
    xt_cli_room_sync *rs = calloc(1, sizeof *rs);
    if (!rs || !(rs->account = strdup(account ? account : ""))) {
        free(rs);
        return NULL;
    }
    char *slash = strchr(rs->account, '/');
    if (slash)
        *slash = '\0'; /* the account, whichever resource runs */
    rs->store = store;
    return rs;
}

void xt_cli_room_sync_set_note(xt_cli_room_sync *rs, xt_cli_room_sync_note_fn fn, void *ud)
{
    rs->note = fn;
    rs->note_ud = ud;
}

/* A failure about room, where the command shows them. */
static void note(xt_cli_room_sync *rs, const char *room, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(xt_cli_room_sync *rs, const char *room, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (rs->note)
        rs->note(room, buf, rs->note_ud);
    else
        xt_cli_errorf("%s", buf);
}

static void room_clear(rs_room *r)
{
    free(r->room);
    free(r->nick);
    free(r->since);
    if (r->password) {
        explicit_bzero(r->password, strlen(r->password));
        free(r->password);
    }
    *r = (rs_room){0};
}

void xt_cli_room_sync_free(xt_cli_room_sync *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        room_clear(&rs->v[i]);
    free(rs->v);
    free(rs->account);
    free(rs);
}

static rs_room *find(xt_cli_room_sync *rs, const char *room)
{
    for (size_t i = 0; i < rs->n; i++)
        if (xt_jid_str_bare_equal(rs->v[i].room, room))
            return &rs->v[i];
    return NULL;
}

/* "muc:ROOM": a room's live position, apart from a conversation's
 * scroll-back position (the bare JID key). */
static void pos_key(char *out, size_t size, const char *room)
{
    snprintf(out, size, "muc:%s", room);
}

static char *pos_get(xt_cli_room_sync *rs, const char *room)
{
    char key[1100], *id = NULL;
    pos_key(key, sizeof key, room);
    if (!rs->store || xt_store_archive_pos_get(rs->store, rs->account, key, &id) != 0)
        return NULL;
    return id;
}

static void pos_set(xt_cli_room_sync *rs, const char *room, const char *id)
{
    char key[1100];
    pos_key(key, sizeof key, room);
    if (rs->store && id && *id && xt_store_archive_pos_set(rs->store, rs->account, key, id) != 0)
        note(rs, room, "warning: cannot record the archive position of %s", room);
}

static void join_now(xt_cli_room_sync *rs, xt_conn *c, rs_room *r)
{
    xt_muc_join_opts o = {
        .nick = r->nick,
        .password = r->password,
        .show = r->show,
        /* §7.2.13 maxstanzas='0': the archive brings what we missed,
         * in order and once; the room's history would repeat part of it. */
        .history = r->archived ? XT_MUC_HISTORY_NONE : r->history,
    };
    if (!r->archived) {
        o.max_stanzas = r->max_stanzas;
        o.max_chars = r->max_chars;
        o.seconds = r->seconds;
        o.since = r->since;
    }
    int rc = xt_muc_join(c, r->room, &o);
    if (rc)
        note(rs, r->room, "cannot join %s: %s", r->room, xt_strerror(rc));
}

static void on_info(xt_conn *c, int status, const xt_disco_info *info, void *ud)
{
    rs_req *q = ud;
    rs_room *r = find(q->rs, q->room);
    if (r) {
        /* No answer (an error, a timeout): join as if it had no archive. */
        r->archived = status == 0 && (xt_muc_info_flags(info) & XT_MUC_FEAT_MAM);
        join_now(q->rs, c, r);
    }
    free(q->room);
    free(q);
}

int xt_cli_room_sync_join(xt_cli_room_sync *rs, xt_conn *c, const char *room,
                          const xt_muc_join_opts *o)
{
    rs_room *r = find(rs, room);
    if (!r) {
        if (rs->n >= MAX_ROOMS)
            return XT_ETOOBIG;
        if (rs->n == rs->cap) {
            size_t nc = rs->cap ? rs->cap * 2 : 8;
            rs_room *v = realloc(rs->v, nc * sizeof *v);
            if (!v)
                return XT_ENOMEM;
            rs->v = v;
            rs->cap = nc;
        }
        r = &rs->v[rs->n++];
        *r = (rs_room){0};
    } else {
        room_clear(r);
    }
    r->room = strdup(room);
    r->nick = strdup(o->nick);
    r->password = o->password ? strdup(o->password) : NULL;
    r->show = o->show;
    r->history = o->history;
    r->max_stanzas = o->max_stanzas;
    r->max_chars = o->max_chars;
    r->seconds = o->seconds;
    r->since = o->since ? strdup(o->since) : NULL;
    rs_req *q = calloc(1, sizeof *q);
    if (!r->room || !r->nick || (o->password && !r->password) || (o->since && !r->since) || !q ||
        !(q->room = strdup(room))) {
        free(q);
        room_clear(r);
        *r = rs->v[--rs->n]; /* the last entry takes its place */
        return XT_ENOMEM;
    }
    q->rs = rs;
    int rc = xt_muc_room_info(c, room, on_info, q);
    if (rc) {
        free(q->room);
        free(q);
    }
    return rc;
}

void xt_cli_room_sync_forget(xt_cli_room_sync *rs, const char *room)
{
    rs_room *r = rs && room ? find(rs, room) : NULL;
    if (r) {
        room_clear(r);
        *r = rs->v[--rs->n];
    }
}

static void start_catchup(xt_cli_room_sync *rs, xt_conn *c, rs_room *r)
{
    char *pos = pos_get(rs, r->room);
    xt_mam_query q = {.archive = r->room};
    if (pos) {
        q.after_id = pos; /* forward from where we were, every page */
    } else {
        /* First join: the newest window, one page (in order). */
        q.before_id = "";
        q.page_size = q.max_total = XT_CLI_ROOM_WINDOW;
    }
    int tag = xt_mam_fetch(c, &q);
    free(pos);
    if (tag < 0)
        note(rs, r->room, "cannot fetch the archive of %s: %s", r->room, xt_strerror(tag));
    else
        r->tag = tag;
}

static rs_room *by_tag(const xt_cli_room_sync *rs, int tag)
{
    for (size_t i = 0; rs && tag > 0 && i < rs->n; i++)
        if (rs->v[i].tag == tag)
            return &rs->v[i];
    return NULL;
}

const char *xt_cli_room_sync_catchup_room(const xt_cli_room_sync *rs, int tag)
{
    const rs_room *r = by_tag(rs, tag);
    return r ? r->room : NULL;
}

void xt_cli_room_sync_event(xt_cli_room_sync *rs, xt_conn *c, const xt_event *ev)
{
    if (!rs)
        return;
    rs_room *r;
    switch (ev->type) {
    case XT_EV_MUC_JOINED:
        if ((r = find(rs, ev->u.muc->room)) && r->archived && !r->tag)
            start_catchup(rs, c, r);
        break;
    case XT_EV_MUC_LEFT:
        if ((r = find(rs, ev->u.muc->room)))
            r->tag = 0; /* its results no longer come as the room's */
        break;
    case XT_EV_ARCHIVE:
        if (!(r = by_tag(rs, ev->u.archive->tag)))
            break;
        /* A page is over: everything before its last id was delivered. */
        if (ev->u.archive->last_id && !ev->u.archive->status)
            pos_set(rs, r->room, ev->u.archive->last_id);
        if (ev->u.archive->done)
            r->tag = 0;
        break;
    case XT_EV_MESSAGE: {
        const xt_message *m = &ev->u.message;
        /* A live room message outside a catch-up moves the position; in
         * one, the pages still to come are older than it. */
        if (m->source == XT_SRC_LIVE && m->room && m->stanza_id && m->stanza_id_by &&
            (r = find(rs, m->room)) && r->archived && !r->tag &&
            xt_jid_str_bare_equal(m->stanza_id_by, r->room))
            pos_set(rs, r->room, m->stanza_id);
        break;
    }
    default:
        break;
    }
}
