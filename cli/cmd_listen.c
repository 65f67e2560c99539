/*
 * xtalk listen: stay online and print what arrives, one line per event.
 *
 * Per read burst, not per message (issue 14): the lines of one burst go
 * to stdout's buffer, and the repeat records (dedup.h) into one store
 * transaction; when the client has handled the burst and before it
 * answers the server's XEP-0198 <r/> (xt_client_set_input_done), stdout
 * is flushed and then the records committed, in that order: see dedup.h
 * for why no message can be lost to a crash. A pipe reader still sees
 * each burst as it arrives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autojoin.h"
#include "commands.h"
#include "dedup.h"
#include "json.h"
#include "origins.h"
#include "output.h"
#include "report.h"
#include "room.h"
#include "room_sync.h"
#include "sanitize.h"
#include "session.h"
#include "xtalk/pep.h"

struct listen {
    const xt_cli_args *a;
    xt_cli_json json;
    unsigned long messages;
    xt_cli_dedup *dedup;
    xt_cli_origins *origins; /* who sent which id: forged retractions */
    int warned;
    /* --join: the rooms, joined at every new session (issue 16). */
    xt_cli_room rooms[XT_CLI_MAX_JOINS];
    size_t nrooms;
    char *room_password;
    xt_cli_room_sync *rsync; /* their archives (room_sync.h) */
    const char *account;     /* the account JID (autojoin's default nick) */
};

static void warn_dedup(struct listen *l, const char *err)
{
    if (err && !l->warned) {
        l->warned = 1;
        xt_cli_errorf("warning: the dedup record failed (%s); repeats may show twice", err);
    }
}

/* A write to stdout failed. */
static void out_failed(xt_cli_session *s)
{
    /* The reader went away (EPIPE): nothing left to do, and nobody to tell. */
    if (errno == EPIPE)
        xt_cli_session_finish(s, XT_CLI_EXIT_ERROR);
    else
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "listen: cannot write to stdout: %s",
                            strerror(errno));
}

/* The end of a read burst, before its acknowledgement leaves: what was
 * printed goes out, then the burst's repeat records are committed. */
static void on_input_done(xt_client *cl, void *ud)
{
    xt_cli_session *s = ud;
    struct listen *l = xt_cli_session_ud(s);
    const char *err = NULL;
    (void)cl;
    if (fflush(stdout) == EOF || ferror(stdout)) {
        /* Not shown: not seen either (a later run gets them again). */
        xt_cli_dedup_abandon_burst(l->dedup);
        out_failed(s);
        return;
    }
    if (xt_cli_dedup_end_burst(l->dedup, &err) < 0)
        warn_dedup(l, err);
}

/* XEP-0045: a new session has left every room (the library said so
 * with XT_EV_MUC_LEFT); a resumed one is still in them. */
static void join_bookmarked(xt_conn *c, const char *room, const xt_muc_join_opts *o, void *ud)
{
    struct listen *l = ud;
    int rc = xt_cli_room_sync_join(l->rsync, c, room, o);
    if (rc)
        xt_cli_errorf("listen: cannot join %s: %s", room, xt_strerror(rc));
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct listen *l = ud;
    if (xt_cli_session_resumed(s))
        return;
    /* The bookmarks with autojoin too (issue 16), beside --join. */
    int arc = xt_cli_autojoin(xt_cli_session_conn(s), l->rooms, l->nrooms, l->a->nick, l->account,
                              xt_cli_session_settings(s)->verbose, join_bookmarked, l);
    if (arc)
        xt_cli_errorf("listen: cannot fetch the bookmarks: %s", xt_strerror(arc));
    for (size_t i = 0; i < l->nrooms; i++) {
        /* A room with an archive: no history, then what it has after our
         * last position (room_sync.h); else the default history: a rejoin
         * after a drop shows what was said meanwhile; the repeats it
         * overlaps are dropped (dedup.h, and the library by the room's
         * stanza-ids). */
        xt_muc_join_opts o = {.nick = l->rooms[i].nick, .password = l->room_password};
        int rc = xt_cli_room_sync_join(l->rsync, xt_cli_session_conn(s), l->rooms[i].room, &o);
        if (rc)
            xt_cli_errorf("listen: cannot join %s: %s", l->rooms[i].room, xt_strerror(rc));
    }
}

static void on_start(xt_cli_session *s, void *ud)
{
    (void)ud;
    (void)xt_client_set_input_done(xt_cli_session_client(s), on_input_done, s);
}

/* A message whose only content is a feature with its own event (a
 * receipt, a chat state, reactions, a retraction's fallback aside) is
 * shown as that event alone. */
static int feature_only(const xt_message *m)
{
    /* A retraction's body is a fallback for clients without XEP-0424
     * (XEP-0428): the retraction event says it. */
    if (m->stanza && (xt_stanza_child(m->stanza, "retract", "urn:xmpp:message-retract:1") ||
                      xt_stanza_child(m->stanza, "apply-to", "urn:xmpp:fasten:0")))
        return 1;
    /* A file shared without a body (XEP-0447) is a message, whatever
     * chat state rides along. */
    if (m->body || m->subject || m->file)
        return 0;
    /* A PEP notification (XEP-0163): its XT_EV_PEP says it, once checked. */
    return m->receipt_id || m->chatstate != XT_CHATSTATE_NONE ||
           (m->stanza && (xt_stanza_child(m->stanza, "reactions", "urn:xmpp:reactions:0") ||
                          xt_stanza_child(m->stanza, "event", XT_NS_PUBSUB_EVENT)));
}

static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    struct listen *l = ud;
    xt_cli_json *j = l->a->json ? &l->json : NULL;
    int rc = 0;

    xt_cli_room_sync_event(l->rsync, xt_cli_session_conn(s), ev);
    switch (ev->type) {
    case XT_EV_MESSAGE: {
        const char *err = NULL;
        /* A repeat (a resend after a drop, a re-delivery) is shown once. */
        if (xt_cli_dedup_check(l->dedup, &ev->u.message, &err) == 1)
            return;
        warn_dedup(l, err);
        xt_cli_origins_add(l->origins, &ev->u.message);
        if (feature_only(&ev->u.message))
            return;
        rc = xt_cli_out_message(stdout, j, &ev->u.message);
        /* --count counts messages that carry text or a file; chat states
         * do not. */
        if (rc == 0 && (ev->u.message.body || ev->u.message.file))
            l->messages++;
        break;
    }
    case XT_EV_ARCHIVE:
        /* The end of the login catch-up (XEP-0313): for scripts, the
         * moment "everything missed" has been printed. */
        if (!ev->u.archive->done || ev->u.archive->tag != 0)
            return;
        /* Text mode keeps stdout to messages and presence: a note. */
        rc = xt_cli_out_archive_done(j ? stdout : stderr, j, ev->u.archive);
        break;
    case XT_EV_RECEIPT:
        rc = xt_cli_out_receipt(stdout, j, &ev->u.receipt);
        break;
    case XT_EV_CHATSTATE:
        rc = xt_cli_out_chatstate(stdout, j, &ev->u.chatstate);
        break;
    case XT_EV_REACTION:
        rc = xt_cli_out_reaction(stdout, j, &ev->u.reaction);
        break;
    case XT_EV_RETRACTION: {
        /* XEP-0424 §5: only the sender of a message may retract it. One
         * seen from someone else is a forgery: dropped, and said. */
        const xt_retraction *r = &ev->u.retraction;
        if (xt_cli_origins_check(l->origins, r->from, r->id) == XT_CLI_ORIGIN_OTHER) {
            fputs("xtalk: ignored a retraction of message ", stderr);
            xt_cli_put_sanitized(stderr, r->id);
            fputs(" from ", stderr);
            xt_cli_put_sanitized(stderr, r->from ? r->from : "?");
            fputs(", who did not send it\n", stderr);
            return;
        }
        rc = xt_cli_out_retraction(stdout, j, r);
        break;
    }
    case XT_EV_PEP:
        rc = xt_cli_out_pep(stdout, j, ev->u.pep);
        break;
    case XT_EV_PRESENCE:
        /* Issue 12: presence from strangers (not in the roster, not our
         * own resources) is dropped quietly, as the library's table
         * drops it: a server could otherwise flood the output. */
        if (!ev->u.presence.from_contact)
            return;
        rc = xt_cli_out_presence(stdout, j, &ev->u.presence);
        break;
    case XT_EV_SUBSCRIPTION:
        rc = xt_cli_out_subscription(stdout, j, &ev->u.subscription);
        break;
    case XT_EV_ROSTER:
        /* Pushes only: the initial load is state, not a change. */
        if (ev->u.roster.item)
            rc = xt_cli_out_roster_push(stdout, j, ev->u.roster.item);
        break;
    case XT_EV_MUC_JOIN_FAILED:
        /* Said on stderr too: the room stays unjoined until a restart. */
        xt_cli_errorf("listen: %s", ev->u.muc->u.join_failed.message);
        rc = xt_cli_out_muc(stdout, j, ev);
        break;
    case XT_EV_MUC_JOINED:
    case XT_EV_MUC_OCCUPANT:
    case XT_EV_MUC_SUBJECT:
    case XT_EV_MUC_LEFT:
    case XT_EV_MUC_INVITE:
    case XT_EV_MUC_CONFIG:
        rc = xt_cli_out_muc(stdout, j, ev);
        break;
    default:
        return;
    }
    if (rc != 0) {
        out_failed(s);
        return;
    }
    /* At once, so the closing <a/> acknowledges no message after this
     * one; this one is flushed and recorded at the burst's end, which
     * comes before that <a/> leaves. */
    if (l->a->count && l->messages >= l->a->count)
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

int xt_cli_cmd_listen(const xt_cli_args *a)
{
    struct listen l = {.a = a};
    xt_cli_account acct;
    int rc;

    xt_cli_json_init(&l.json);
    rc = xt_cli_account_open(a, 0, 0, &acct);
    if (rc == 0 && (!(l.dedup = xt_cli_dedup_new(acct.store, acct.key)) ||
                    !(l.origins = xt_cli_origins_new()))) {
        xt_cli_errorf("listen: out of memory");
        rc = XT_CLI_EXIT_ERROR;
    }
    xt_cli_dedup_set_batched(l.dedup, 1);
    for (size_t i = 0; rc == 0 && i < a->njoins; i++) {
        char err[512];
        rc = xt_cli_room_parse(a->joins[i], a->nick, acct.set.jid, &l.rooms[l.nrooms], err,
                               sizeof err);
        if (rc)
            xt_cli_errorf("listen: --join: %s", err);
        else
            l.nrooms++;
    }
    l.account = rc == 0 ? acct.set.jid : NULL;
    if (rc == 0 && !(l.rsync = xt_cli_room_sync_new(acct.store, acct.set.jid))) {
        xt_cli_errorf("listen: out of memory");
        rc = XT_CLI_EXIT_ERROR;
    }
    if (rc == 0 && l.nrooms) {
        char err[512];
        if ((rc = xt_cli_room_password(a, &l.room_password, err, sizeof err)) != 0)
            xt_cli_errorf("listen: %s", err);
    }
    if (rc == 0) {
        xt_cli_session_params p = {
            .show = a->show,
            .status = a->status_message,
            .priority = a->priority,
            .interrupt_exit = XT_CLI_EXIT_OK,
            .announce = 1,
            .reconnect = a->no_reconnect ? XT_CLI_RECONNECT_NEVER : XT_CLI_RECONNECT_ALWAYS,
            .keepalive_ms = a->keepalive_s * 1000u,
            .selfping_ms = a->selfping_s * 1000u,
            /* --count waits for the next N messages (a script's "the
             * reply"): no archive catch-up ahead of them. */
            .sync = a->count == 0,
            .on_start = on_start,
            .on_online = on_online,
            .on_event = on_event,
            .ud = &l,
        };
        rc = xt_cli_session_run(&acct, &p);
    }
    for (size_t i = 0; i < l.nrooms; i++)
        xt_cli_room_free(&l.rooms[i]);
    xt_cli_room_password_free(l.room_password);
    xt_cli_room_sync_free(l.rsync);
    xt_cli_json_free(&l.json);
    xt_cli_dedup_free(l.dedup);
    xt_cli_origins_free(l.origins);
    xt_cli_account_close(&acct);
    return rc;
}
