/*
 * xtalk bot --echo | --exec CMD: answer each message.
 *
 * Loop safety: only chat and normal messages with a body are answered;
 * never errors (RFC 6120 §8.3.1 forbids answering an error with an error,
 * and a body-less answer war between two bots is the classic loop),
 * never headline, never our own messages, never messages delivered late
 * from offline storage. Groupchat (--join ROOM, issue 16) only in a room
 * we are in, only when the message names our nick there (a mention), never
 * our own reflection nor the room's history (joined with none): a bot
 * answering every line of a room, or other bots' answers, floods it. The
 * answer goes to the room; a private message from an occupant is a chat
 * message and answered privately, as any other.
 *
 * --exec runs the user's command through /bin/sh -c. The message is data,
 * never code: the body goes to the command's stdin, the addresses into
 * XTALK_FROM/XTALK_TO/XTALK_ID/XTALK_TYPE. All pipes are non-blocking and
 * watched by the loop, so a slow command never stalls the connection.
 * Each command runs in its own process group so a timeout kills it and
 * whatever it started. One command runs at a time per sender, so answers
 * to a sender keep the order of the questions; different senders run in
 * parallel (at most MAX_RUNNING at once).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "autojoin.h"
#include "commands.h"
#include "dedup.h"
#include "outbox.h"
#include "report.h"
#include "room.h"
#include "sanitize.h"
#include "session.h"
#include "spawn.h"
#include "text.h"
#include "xtalk/jid.h"
#include "xtalk/muc.h"

#define MAX_OUTPUT  (64 * 1024) /* answer size cap; the rest is dropped */
#define MAX_RUNNING 8
#define MAX_QUEUED  256

struct bot;

typedef struct job {
    struct job *next;
    struct bot *b;
    char *from, *to, *id, *type, *thread, *body;
    char *reply_to;    /* the sender, or the room for a groupchat mention */
    char *shown;       /* from as sanitize.h shows it, for our stderr lines */
    size_t sender_len; /* from[0..sender_len) is the bare JID */
    int running;
    xt_cli_child ch;
    int out_id, in_id, timer_id;
    size_t in_off, body_len;
    char *out;
    size_t out_len;
    int truncated;
    int out_done, timed_out; /* the child's own state is in ch */
} job;

struct bot {
    const xt_cli_args *a;
    xt_cli_session *s;
    job *head;
    size_t queued, running;
    unsigned long handled;
    xt_cli_dedup *dedup; /* a repeated message is never answered twice */
    int dedup_warned;
    /* --join: the rooms, joined at every new session (issue 16). */
    xt_cli_room rooms[XT_CLI_MAX_JOINS];
    size_t nrooms;
    char *room_password;
    const char *account; /* the account JID (autojoin's default nick) */
};

static void job_free(job *j)
{
    free(j->from);
    free(j->reply_to);
    free(j->shown);
    free(j->to);
    free(j->id);
    free(j->type);
    free(j->thread);
    free(j->body);
    free(j->out);
    free(j);
}

static void count_and_maybe_finish(struct bot *b)
{
    b->handled++;
    if (b->a->count && b->handled >= b->a->count)
        xt_cli_session_finish(b->s, XT_CLI_EXIT_OK);
}

/* `shown` is `to` as it may be printed (sanitize.h). */
static void answer(struct bot *b, const char *to, const char *shown, const char *type,
                   const char *thread, const char *body)
{
    /* In a room: to the room (`to` is its bare JID), as a groupchat
     * message the room reflects to everyone (XEP-0045 §7.4). */
    int rc = strcmp(type, "groupchat") == 0
                 ? xt_muc_send(xt_cli_session_conn(b->s), to, body, NULL)
                 : xt_conn_send_message(xt_cli_session_conn(b->s), to, type, body, thread, NULL);
    if (rc < 0)
        xt_cli_errorf("bot: cannot answer %s: %s", shown, xt_strerror(rc));
    else if (xt_cli_session_settings(b->s)->verbose)
        fprintf(stderr, "xtalk: bot: answered %s\n", shown);
}

/* The sender as our stderr lines show it: a JID's resource may hold any
 * character a server lets through (sanitize.h). */
static char *shown_jid(const char *jid)
{
    return xt_cli_sanitize(jid, strlen(jid), XT_CLI_SAN_LINE);
}

static void close_in(job *j)
{
    if (j->in_id > 0)
        xt_loop_remove_fd(xt_cli_session_loop(j->b->s), j->in_id);
    j->in_id = 0;
    if (j->ch.in_fd >= 0)
        close(j->ch.in_fd);
    j->ch.in_fd = -1;
}

static void close_out(job *j)
{
    if (j->out_id > 0)
        xt_loop_remove_fd(xt_cli_session_loop(j->b->s), j->out_id);
    j->out_id = 0;
    if (j->ch.out_fd >= 0)
        close(j->ch.out_fd);
    j->ch.out_fd = -1;
    j->out_done = 1;
}

/* Unlinks and frees a job whose child (if any) is gone. */
static void job_remove(struct bot *b, job *j)
{
    job **pp = &b->head;
    while (*pp && *pp != j)
        pp = &(*pp)->next;
    if (*pp)
        *pp = j->next;
    if (j->timer_id > 0)
        xt_loop_cancel_timer(xt_cli_session_loop(b->s), j->timer_id);
    close_in(j);
    close_out(j);
    if (j->running)
        b->running--;
    b->queued--;
    job_free(j);
}

static void start_ready(struct bot *b);

/* Answers once the command's stdout is closed and the command has
 * exited. Only here is it reaped, and the job (with its timer) goes in
 * the same step: no timeout can fire between the reap and the end, so
 * the command's PID is never signalled once it may be another's. */
static void maybe_complete(job *j)
{
    struct bot *b = j->b;

    if (!j->out_done || !xt_cli_child_exited(&j->ch, 0))
        return;
    (void)xt_cli_child_reap(&j->ch, 1); /* a zombie: returns at once */
    const int status = j->ch.status;
    if (j->timed_out) {
        /* reported when it happened */
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            xt_cli_errorf("bot: the command was killed by signal %d (message from %s); no "
                          "answer sent",
                          WTERMSIG(status), j->shown);
        else
            xt_cli_errorf("bot: the command failed with exit status %d (message from %s); no "
                          "answer sent",
                          WEXITSTATUS(status), j->shown);
    } else {
        size_t n = j->out_len;
        const char *why;
        size_t off;

        while (n > 0 && (j->out[n - 1] == '\n' || j->out[n - 1] == '\r'))
            n--;
        if (n == 0) {
            if (xt_cli_session_settings(b->s)->verbose)
                fprintf(stderr, "xtalk: bot: the command printed nothing; no answer to %s\n",
                        j->shown);
        } else if (xt_cli_text_check(j->out, n, &why, &off) != 0) {
            xt_cli_errorf("bot: the command's output contains %s at byte %zu; no answer sent "
                          "to %s",
                          why, off, j->shown);
        } else {
            if (j->truncated)
                xt_cli_errorf("bot: the command's output was cut to %d bytes", MAX_OUTPUT);
            j->out[n] = '\0';
            if (!xt_cli_session_finishing(b->s))
                answer(b, j->reply_to, j->shown, j->type, j->thread, j->out);
        }
    }
    job_remove(b, j);
    count_and_maybe_finish(b);
    if (!xt_cli_session_finishing(b->s))
        start_ready(b);
}

static void on_child_out(xt_loop *loop, int fd, short revents, void *ud)
{
    job *j = ud;
    char tmp[4096];
    (void)loop;
    (void)revents;

    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            close_out(j);
            maybe_complete(j);
            return;
        }
        size_t room = MAX_OUTPUT - j->out_len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        if (take < (size_t)n)
            j->truncated = 1; /* keep draining so the command is not blocked */
        if (take) {
            memcpy(j->out + j->out_len, tmp, take);
            j->out_len += take;
        }
    }
}

static void on_child_in(xt_loop *loop, int fd, short revents, void *ud)
{
    job *j = ud;
    (void)loop;
    (void)revents;

    while (j->in_off < j->body_len) {
        ssize_t n = write(fd, j->body + j->in_off, j->body_len - j->in_off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0)
            break; /* EPIPE: the command does not read its stdin; fine */
        j->in_off += (size_t)n;
    }
    close_in(j); /* EOF tells the command the body is complete */
}

/* Kills the command (and whatever it started) and closes its pipes. */
static void stop_job(job *j)
{
    /* Not reaped yet (maybe_complete reaps and removes the job, timer
     * included, in one step), so the PID and group are still the
     * command's; xt_cli_child_kill would refuse otherwise. */
    (void)xt_cli_child_kill(&j->ch, SIGKILL);
    close_in(j);
    close_out(j);
}

static void on_child_timeout(xt_loop *loop, void *ud)
{
    job *j = ud;
    (void)loop;

    j->timer_id = 0;
    j->timed_out = 1;
    xt_cli_errorf("bot: the command timed out after %u s (message from %s); killed it, no "
                  "answer sent; raise --exec-timeout if it needs more",
                  j->b->a->exec_timeout_s, j->shown);
    stop_job(j);
    /* Its exit is seen now if it had already exited (its stdout held
     * open by something it started), else at SIGCHLD. May free j. */
    maybe_complete(j);
}

static int env_var(char **dst, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value ? value : "") + 2;
    *dst = malloc(n);
    if (!*dst)
        return -1;
    snprintf(*dst, n, "%s=%s", name, value ? value : "");
    return 0;
}

static int start_job(job *j)
{
    struct bot *b = j->b;
    xt_loop *loop = xt_cli_session_loop(b->s);
    char *env[5] = {NULL};
    int rc = -1;

    j->out = malloc(MAX_OUTPUT + 1);
    if (!j->out || env_var(&env[0], "XTALK_FROM", j->from) || env_var(&env[1], "XTALK_TO", j->to) ||
        env_var(&env[2], "XTALK_ID", j->id) || env_var(&env[3], "XTALK_TYPE", j->type)) {
        xt_cli_errorf("bot: out of memory; no answer to %s", j->shown);
        goto out;
    }
    if (xt_cli_spawn(b->a->exec_cmd, (const char *const *)env,
                     XT_CLI_SPAWN_STDIN_PIPE | XT_CLI_SPAWN_NEW_PGRP | XT_CLI_SPAWN_NONBLOCK,
                     &j->ch) != 0) {
        xt_cli_errorf("bot: cannot run the command: %s; no answer to %s", strerror(errno),
                      j->shown);
        goto out;
    }
    j->running = 1;
    b->running++;
    j->out_id = xt_loop_add_fd(loop, j->ch.out_fd, POLLIN, on_child_out, j);
    j->in_id = xt_loop_add_fd(loop, j->ch.in_fd, POLLOUT, on_child_in, j);
    j->timer_id =
        xt_loop_add_timer(loop, (uint64_t)b->a->exec_timeout_s * 1000, on_child_timeout, j);
    if (j->out_id < 0 || j->in_id < 0 || j->timer_id < 0) {
        /* Cannot watch it: stop it now; SIGCHLD reaps it. */
        j->out_id = j->out_id < 0 ? 0 : j->out_id;
        j->in_id = j->in_id < 0 ? 0 : j->in_id;
        j->timer_id = j->timer_id < 0 ? 0 : j->timer_id;
        j->timed_out = 1;
        xt_cli_errorf("bot: cannot watch the command (out of memory); killed it, no answer to %s",
                      j->shown);
        stop_job(j);
    }
    rc = 0;
out:
    for (int i = 0; i < 4; i++)
        free(env[i]);
    return rc;
}

/* Starts queued jobs whose sender has no earlier job pending. */
static void start_ready(struct bot *b)
{
restart:
    for (job *j = b->head; j && b->running < MAX_RUNNING; j = j->next) {
        if (j->running)
            continue;
        int blocked = 0;
        for (job *e = b->head; e != j; e = e->next)
            if (e->sender_len == j->sender_len && strncmp(e->from, j->from, j->sender_len) == 0)
                blocked = 1;
        if (blocked)
            continue;
        if (start_job(j) != 0) {
            job_remove(b, j);
            count_and_maybe_finish(b);
            if (xt_cli_session_finishing(b->s))
                return;
            goto restart;
        }
    }
}

static void on_sigchld(xt_cli_session *s, void *ud)
{
    struct bot *b = ud;
    (void)s;

restart:
    for (job *j = b->head; j; j = j->next) {
        if (!j->running || j->ch.state != XT_CLI_CHILD_RUNNING)
            continue;
        /* Exited: noted, not reaped (spawn.h), until the job completes. */
        if (xt_cli_child_exited(&j->ch, 0) && j->out_done) {
            maybe_complete(j); /* may free jobs: walk again */
            goto restart;
        }
    }
}

static char *dup_or_null(const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *fail = 1;
    return d;
}

static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    struct bot *b = ud;
    const xt_message *m = &ev->u.message;
    /* RFC 6121 §5.2.2: a type we do not know is "normal". */
    const char *type = xt_cli_message_type(m->type);
    const char *self = xt_conn_bound_jid(xt_cli_session_conn(s));
    const int verbose = xt_cli_session_settings(s)->verbose;

    if (ev->type != XT_EV_MESSAGE || !m->body || !*m->body || !m->from)
        return;
    /* A room's message: only a live mention by someone else, in a room
     * we are in (m->room is set only then). */
    const int in_room = strcmp(type, "groupchat") == 0;
    if (in_room && (!m->room || m->from_self || !m->mention || m->source != XT_SRC_LIVE))
        return;
    if (!in_room && strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0)
        return; /* never error or headline */
    if (self && xt_jid_str_equal(m->from, self))
        return;
    char *shown = shown_jid(m->from);
    if (!shown) {
        xt_cli_errorf("bot: out of memory; a message is not answered");
        return;
    }
    if (m->stamp) {
        /* Stored while we were offline (XEP-0203 delay): the asking
         * resource is likely gone, and a backlog answered at once surprises
         * everyone. */
        if (verbose)
            fprintf(stderr, "xtalk: bot: not answering the delayed message from %s\n", shown);
        goto done;
    }
    const char *derr = NULL;
    if (xt_cli_dedup_check(b->dedup, m, &derr) == 1) {
        if (verbose)
            fprintf(stderr, "xtalk: bot: not answering a repeat of a message from %s\n", shown);
        goto done;
    }
    if (derr && !b->dedup_warned) {
        b->dedup_warned = 1;
        xt_cli_errorf("warning: the dedup record failed (%s); a repeat may be answered twice",
                      derr);
    }

    /* Who gets the answer: the room, or the sender. */
    const char *reply_to = in_room ? m->room : m->from;
    if (b->a->echo) {
        answer(b, reply_to, shown, type, m->thread, m->body);
        count_and_maybe_finish(b);
        goto done;
    }
    if (b->queued >= MAX_QUEUED) {
        xt_cli_errorf("bot: %d messages are already waiting; dropping the one from %s", MAX_QUEUED,
                      shown);
        goto done;
    }
    job *j = calloc(1, sizeof *j);
    int fail = !j;
    if (j) {
        j->b = b;
        j->ch.pid = -1;
        j->ch.in_fd = j->ch.out_fd = -1;
        j->from = dup_or_null(m->from, &fail);
        j->reply_to = dup_or_null(reply_to, &fail);
        j->shown = shown;
        shown = NULL; /* the job's now */
        j->to = dup_or_null(m->to, &fail);
        j->id = dup_or_null(m->id, &fail);
        j->type = dup_or_null(type, &fail);
        j->thread = dup_or_null(m->thread, &fail);
        j->body = dup_or_null(m->body, &fail);
    }
    if (fail) {
        xt_cli_errorf("bot: out of memory; no answer to %s", j ? j->shown : shown);
        if (j)
            job_free(j);
        goto done;
    }
    const char *slash = strchr(j->from, '/');
    j->sender_len = slash ? (size_t)(slash - j->from) : strlen(j->from);
    j->body_len = strlen(j->body);
    job **pp = &b->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = j;
    b->queued++;
    start_ready(b);
done:
    free(shown);
}

static void join_room(xt_conn *c, const char *room, const xt_muc_join_opts *o, void *ud)
{
    (void)ud;
    /* No history: a bot answers what is said now, not a backlog. */
    xt_muc_join_opts h = *o;
    h.history = XT_MUC_HISTORY_NONE;
    int rc = xt_muc_join(c, room, &h);
    if (rc)
        xt_cli_errorf("bot: cannot join %s: %s", room, xt_strerror(rc));
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct bot *b = ud;
    b->s = s;
    /* A new session has left every room; a resumed one is still in. */
    if (xt_cli_session_resumed(s))
        return;
    /* The bookmarks with autojoin too (issue 16), beside --join. */
    int arc = xt_cli_autojoin(xt_cli_session_conn(s), b->rooms, b->nrooms, b->a->nick, b->account,
                              xt_cli_session_settings(s)->verbose, join_room, b);
    if (arc)
        xt_cli_errorf("bot: cannot fetch the bookmarks: %s", xt_strerror(arc));
    for (size_t i = 0; i < b->nrooms; i++) {
        /* No history: a bot answers what is said now, not a backlog. */
        xt_muc_join_opts o = {.nick = b->rooms[i].nick,
                              .password = b->room_password,
                              .history = XT_MUC_HISTORY_NONE};
        int rc = xt_muc_join(xt_cli_session_conn(s), b->rooms[i].room, &o);
        if (rc)
            xt_cli_errorf("bot: cannot join %s: %s", b->rooms[i].room, xt_strerror(rc));
    }
}

int xt_cli_cmd_bot(const xt_cli_args *a)
{
    struct bot b = {.a = a};
    xt_cli_account acct;
    int rc = xt_cli_account_open(a, 0, 0, &acct);

    if (rc == 0 && !(b.dedup = xt_cli_dedup_new(acct.store, acct.key))) {
        xt_cli_errorf("bot: out of memory");
        rc = XT_CLI_EXIT_ERROR;
    }
    b.account = rc == 0 ? acct.set.jid : NULL;
    for (size_t i = 0; rc == 0 && i < a->njoins; i++) {
        char err[512];
        rc = xt_cli_room_parse(a->joins[i], a->nick, acct.set.jid, &b.rooms[b.nrooms], err,
                               sizeof err);
        if (rc)
            xt_cli_errorf("bot: --join: %s", err);
        else
            b.nrooms++;
    }
    if (rc == 0 && b.nrooms) {
        char err[512];
        if ((rc = xt_cli_room_password(a, &b.room_password, err, sizeof err)) != 0)
            xt_cli_errorf("bot: %s", err);
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
            .want_sigchld = a->exec_cmd != NULL,
            .on_online = on_online,
            .on_event = on_event,
            .on_sigchld = on_sigchld,
            .ud = &b,
        };
        rc = xt_cli_session_run(&acct, &p);
    }
    xt_cli_account_close(&acct);
    /* Commands still running when we stop: kill and reap them. */
    while (b.head) {
        job *j = b.head;
        b.head = j->next;
        if (j->running) {
            (void)xt_cli_child_kill(&j->ch, SIGKILL); /* not if reaped */
            (void)xt_cli_child_reap(&j->ch, 1);
        }
        if (j->ch.in_fd >= 0)
            close(j->ch.in_fd);
        if (j->ch.out_fd >= 0)
            close(j->ch.out_fd);
        job_free(j);
    }
    xt_cli_dedup_free(b.dedup);
    for (size_t i = 0; i < b.nrooms; i++)
        xt_cli_room_free(&b.rooms[i]);
    xt_cli_room_password_free(b.room_password);
    return rc;
}
