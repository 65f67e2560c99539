/*
 * xtalk send JID [TEXT]: send, then prove the server has it.
 *
 * "Sent" means acknowledged. Each message is first committed to the
 * outbox in the local store (one transaction for a --lines batch), then
 * handed to the stream with its outbox id as stanza id and XEP-0359
 * origin-id, and removed from the outbox when acknowledged: by
 * XT_EV_ACKED (an XEP-0198 <a/>, or the library's ack ping), or by our
 * own ping after the batch (XEP-0199: the server handles a client's
 * stanzas in order, RFC 6120 §10.1, so its answer means every message
 * sent before it on that stream was processed). A connection lost
 * midway is retried; messages not held by the library for XEP-0198
 * re-sending are sent again with the same id (receivers drop repeats).
 *
 * Whatever an earlier run left in the outbox (killed, timed out, offline
 * with --queue) is sent first, with its original id. Exit 0 means every
 * message, those included, was acknowledged; --queue means committed to
 * the outbox (then a short attempt to send).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "outbox.h"
#include "output.h"
#include "report.h"
#include "room.h"
#include "sanitize.h"
#include "session.h"
#include "text.h"
#include "upload.h"
#include "xtalk/im.h"
#include "xtalk/jid.h"

/* A message must fit in the server's stanza limit with room for the
 * envelope (Prosody's default c2s limit is 256 KiB). */
#define MAX_BODY (240 * 1024)
/* All of stdin, for --lines. */
#define MAX_INPUT (16 * 1024 * 1024)

/* How long --queue tries to deliver before leaving the rest queued. */
#define QUEUE_TRY_MS 5000

/* One message to deliver: from this run, or left by an earlier one. */
struct pending {
    char id[64];
    char *to, *type, *body, *thread;
    unsigned gen; /* the stream generation it was last handed to */
    int acked;
    int want_receipt; /* --receipt: this run's message asks for one (XEP-0184) */
    int receipted;
    /* --file, or an earlier run's file message: the URL sent as XEP-0066
     * data beside the body (kept with the outbox entry, so a re-send is
     * the same stanza); NULL for a text message. */
    char *oob_url;
};

struct send {
    const xt_cli_args *a;
    char *to; /* normalized JID to send to */
    char **msgs;
    size_t nmsgs;
    int acked;
    char *reply; /* first reply body, when --wait-reply */
    int reply_timer;
    /* --wait-reply: this run's messages carry a fresh XEP-0201 thread; a
     * peer that answers in the thread (as `xtalk bot` does) is matched by
     * it. `ambiguous`: messages of an earlier run to the same peer went
     * out too, so a reply without our thread may answer one of them and
     * is not taken. */
    char thread[64];
    int ambiguous;

    xt_store *store;     /* NULL with --no-store (the account's) */
    const char *account; /* the account key: the outbox's key */
    struct pending *pend;
    size_t npend, nleft, nacked;
    unsigned gen;       /* ++ on every XT_EV_ONLINE */
    int progress_timer; /* no ack within --timeout: give up (exit 7) */
    int queue_timer;    /* --queue: stop trying, leave the rest queued */
    int queued_note;    /* said where the rest stays */
    /* Acknowledged messages not yet removed from the outbox: removed
     * together in one transaction shortly after (a crash in between only
     * means a resend that receivers drop). */
    size_t *to_remove;
    size_t nremove;
    int remove_timer;
    /* --receipt: receipts wanted and received for this run's messages;
     * after the server's acks, the wait for the rest (exit 7). */
    size_t nwant, nreceipts;
    int receipt_timer;
    int receipts_done;
    /* --file: the upload runs first; its URL becomes this run's message.
     * Until then the run cannot be over, whatever else is acknowledged. */
    xt_cli_upload up;
    int uploading;
};

static int read_stdin(char **out, size_t *outlen)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;

    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            if (ncap > MAX_INPUT + 1)
                ncap = MAX_INPUT + 1;
            if (ncap <= len) {
                free(buf);
                xt_cli_errorf("send: the input is too long (over %d MiB)",
                              MAX_INPUT / (1024 * 1024));
                return XT_CLI_EXIT_USAGE;
            }
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                xt_cli_errorf("send: out of memory");
                return XT_CLI_EXIT_ERROR;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            xt_cli_errorf("send: cannot read stdin: %s", strerror(e));
            return XT_CLI_EXIT_ERROR;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (!buf && !(buf = malloc(1))) {
        xt_cli_errorf("send: out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return 0;
}

/* Checks one body; `line` > 0 names the stdin line in the message. */
static int check_body(const char *s, size_t len, unsigned line)
{
    const char *why;
    size_t off;
    char where[48] = "";

    if (line)
        snprintf(where, sizeof where, " (line %u)", line);
    if (len > MAX_BODY) {
        xt_cli_errorf("send: the message%s is too long (%zu bytes, at most %d)", where, len,
                      MAX_BODY);
        return XT_CLI_EXIT_USAGE;
    }
    if (xt_cli_text_check(s, len, &why, &off) != 0) {
        xt_cli_errorf("send: the message%s contains %s at byte %zu; XMPP carries only UTF-8 "
                      "text without control characters",
                      where, why, off);
        return XT_CLI_EXIT_USAGE;
    }
    return 0;
}

static int add_msg(struct send *st, const char *s, size_t len)
{
    char **nm = realloc(st->msgs, (st->nmsgs + 1) * sizeof *nm);
    if (!nm)
        return -1;
    st->msgs = nm;
    if (!(nm[st->nmsgs] = strndup(s, len)))
        return -1;
    st->nmsgs++;
    return 0;
}

/* Fills st->msgs from TEXT or stdin. */
static int gather(struct send *st)
{
    const xt_cli_args *a = st->a;
    char *in;
    size_t len;
    int rc;

    if (a->text) {
        size_t n = strlen(a->text);
        if ((rc = check_body(a->text, n, 0)) != 0)
            return rc;
        return add_msg(st, a->text, n) ? (xt_cli_errorf("send: out of memory"), 1) : 0;
    }
    if (isatty(0))
        fprintf(stderr, "xtalk: reading the message from the terminal; end it with Ctrl-D\n");
    if ((rc = read_stdin(&in, &len)) != 0)
        return rc;
    if (memchr(in, '\0', len)) {
        xt_cli_errorf("send: the input contains a NUL byte; send UTF-8 text");
        free(in);
        return XT_CLI_EXIT_USAGE;
    }
    if (a->lines) {
        unsigned lineno = 0;
        const char *p = in, *end = in + len;
        while (p < end && rc == 0) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *next = nl ? nl + 1 : end;
            size_t n = (size_t)((nl ? nl : end) - p);
            lineno++;
            if (n > 0 && p[n - 1] == '\r')
                n--;
            if (n > 0) { /* blank lines are not messages */
                rc = check_body(p, n, lineno);
                if (rc == 0 && add_msg(st, p, n) != 0) {
                    xt_cli_errorf("send: out of memory");
                    rc = XT_CLI_EXIT_ERROR;
                }
            }
            p = next;
        }
    } else {
        /* Trailing newlines are how files and echo end, not message text. */
        while (len > 0 && (in[len - 1] == '\n' || in[len - 1] == '\r'))
            len--;
        if (len > 0) {
            rc = check_body(in, len, 0);
            if (rc == 0 && add_msg(st, in, len) != 0) {
                xt_cli_errorf("send: out of memory");
                rc = XT_CLI_EXIT_ERROR;
            }
        }
    }
    free(in);
    if (rc == 0 && st->nmsgs == 0) {
        xt_cli_errorf("send: the message is empty; give TEXT or non-empty input on stdin");
        rc = XT_CLI_EXIT_USAGE;
    }
    return rc;
}

static void print_reply(xt_cli_session *s, struct send *st)
{
    int ok;
    if (isatty(1)) {
        xt_cli_put_sanitized(stdout, st->reply);
        ok = fputc('\n', stdout) != EOF;
    } else {
        ok = fputs(st->reply, stdout) != EOF && fputc('\n', stdout) != EOF;
    }
    if (fflush(stdout) == EOF)
        ok = 0;
    if (!ok)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: cannot write the reply to stdout: %s",
                            strerror(errno));
    else
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

static void on_reply_timeout(xt_loop *loop, void *ud)
{
    xt_cli_session *s = ud;
    struct send *st = xt_cli_session_ud(s);
    (void)loop;

    st->reply_timer = 0;
    xt_cli_session_fail(s, XT_CLI_EXIT_TIMEOUT,
                        "send: no reply from %s within %u s (the message was delivered to the "
                        "server); raise --wait-reply=SECONDS",
                        st->to, st->a->wait_reply_s);
}

static void cancel(xt_cli_session *s, int *timer)
{
    if (*timer > 0)
        xt_loop_cancel_timer(xt_cli_session_loop(s), *timer);
    *timer = 0;
}

/* Acknowledged, and confirmed by the recipient when --receipt: the
 * reply's wait, or the end. Once. */
static void delivered(xt_cli_session *s, struct send *st)
{
    if (st->receipts_done)
        return;
    st->receipts_done = 1;
    if (!st->a->wait_reply) {
        xt_cli_session_finish(s, XT_CLI_EXIT_OK);
        return;
    }
    if (st->reply) {
        print_reply(s, st);
        return;
    }
    st->reply_timer = xt_loop_add_timer(xt_cli_session_loop(s),
                                        (uint64_t)st->a->wait_reply_s * 1000, on_reply_timeout, s);
    if (st->reply_timer < 0)
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
}

static void on_receipt_timeout(xt_loop *loop, void *ud)
{
    xt_cli_session *s = ud;
    struct send *st = xt_cli_session_ud(s);
    (void)loop;

    st->receipt_timer = 0;
    xt_cli_session_fail(s, XT_CLI_EXIT_TIMEOUT,
                        "send: no delivery receipt from %s within %u s for %zu of %zu message%s "
                        "(the server has them; the recipient's client may be offline, may not "
                        "support receipts (XEP-0184), or may not let us see its presence); "
                        "raise --receipt=SECONDS",
                        st->to, st->a->receipt_s, st->nwant - st->nreceipts, st->nwant,
                        st->nwant == 1 ? "" : "s");
}

/* Every message acknowledged. */
static void all_acked(xt_cli_session *s, struct send *st)
{
    st->acked = 1;
    cancel(s, &st->progress_timer);
    cancel(s, &st->queue_timer);
    if (xt_cli_session_finishing(s))
        return; /* acknowledged while closing: the run's end is decided */
    if (st->nreceipts < st->nwant) {
        if (st->receipt_timer <= 0 &&
            (st->receipt_timer = xt_loop_add_timer(xt_cli_session_loop(s),
                                                   (uint64_t)st->a->receipt_s * 1000,
                                                   on_receipt_timeout, s)) < 0)
            xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
        return;
    }
    delivered(s, st);
}

static void on_progress_timeout(xt_loop *loop, void *ud);

static void arm_progress(xt_cli_session *s, struct send *st)
{
    cancel(s, &st->progress_timer);
    st->progress_timer =
        xt_loop_add_timer(xt_cli_session_loop(s),
                          (uint64_t)xt_cli_session_settings(s)->timeout_ms, on_progress_timeout, s);
}

/* Removes the acknowledged messages from the outbox, in one transaction.
 * A relaxed one (no fsync, xt_store_begin_relaxed): a removal lost to a
 * power failure only sends those messages once more, which receivers
 * drop by their origin-id; the sync cost every run ~5 ms (more on a busy
 * disk) on its way out (issue 14). Adding to the outbox stays FULL. */
static void flush_removals(struct send *st)
{
    int rc = 0;

    if (!st->store || st->nremove == 0)
        return;
    rc = xt_store_begin_relaxed(st->store);
    int began = rc == 0;
    for (size_t i = 0; rc == 0 && i < st->nremove; i++) {
        int r = xt_outbox_remove(st->store, st->account, st->pend[st->to_remove[i]].id);
        if (r < 0 && r != XT_ENOTFOUND)
            rc = r;
    }
    /* After a failed removal the batch is abandoned; the ids are sent
     * again by a later run, which is safe. */
    if (began && rc < 0)
        (void)xt_store_rollback(st->store);
    else if (began)
        rc = xt_store_commit(st->store);
    if (rc < 0)
        xt_cli_errorf("warning: cannot remove acknowledged messages from the outbox (%s); a "
                      "later run will send them again and receivers will drop them",
                      xt_store_errdetail(st->store));
    st->nremove = 0;
}

static void on_remove_timer(xt_loop *loop, void *ud)
{
    xt_cli_session *s = ud;
    struct send *st = xt_cli_session_ud(s);
    (void)loop;

    st->remove_timer = 0;
    flush_removals(st);
}

static void ack_one(xt_cli_session *s, struct send *st, struct pending *p)
{
    if (p->acked)
        return;
    p->acked = 1;
    st->nacked++;
    if (st->store) {
        st->to_remove[st->nremove++] = (size_t)(p - st->pend);
        if (st->nacked == st->npend)
            flush_removals(st); /* before saying it is done */
        else if (st->remove_timer <= 0 &&
                 (st->remove_timer = xt_loop_add_timer(xt_cli_session_loop(s), 50,
                                                       on_remove_timer, s)) <= 0)
            flush_removals(st);
    }
    if (st->nacked == st->npend && st->uploading)
        cancel(s, &st->progress_timer); /* the upload has its own timeouts */
    else if (st->nacked == st->npend)
        all_acked(s, st);
    else if (!xt_cli_session_finishing(s))
        arm_progress(s, st);
}

static void say_queued(struct send *st)
{
    size_t left = st->npend - st->nacked;
    if (st->queued_note || left == 0)
        return;
    st->queued_note = 1;
    if (st->store)
        fprintf(stderr,
                "xtalk: %zu message%s not acknowledged yet; kept in the outbox, the next "
                "'xtalk send' sends %s (receivers drop repeats)\n",
                left, left == 1 ? "" : "s", left == 1 ? "it" : "them");
}

static void on_progress_timeout(xt_loop *loop, void *ud)
{
    xt_cli_session *s = ud;
    struct send *st = xt_cli_session_ud(s);
    (void)loop;

    st->progress_timer = 0;
    size_t left = st->npend - st->nacked;
    xt_cli_session_fail(s, XT_CLI_EXIT_TIMEOUT,
                        "send: %zu of %zu message%s not acknowledged by the server within %u s; "
                        "%s",
                        left, st->npend, st->npend == 1 ? "" : "s",
                        xt_cli_session_settings(s)->timeout_ms / 1000,
                        st->store ? "they stay in the outbox and the next 'xtalk send' sends "
                                    "them (receivers drop repeats)"
                                  : "they may or may not have been delivered; raise --timeout "
                                    "or try again");
}

static void on_queue_timeout(xt_loop *loop, void *ud)
{
    xt_cli_session *s = ud;
    struct send *st = xt_cli_session_ud(s);
    (void)loop;

    st->queue_timer = 0;
    say_queued(st);
    xt_cli_session_finish(s, XT_CLI_EXIT_OK);
}

struct ping {
    xt_cli_session *s;
    unsigned gen;
};

/* The answer to our ping on stream `gen`: everything handed to that
 * stream before it was processed. A lost ping proves nothing; the next
 * stream pings again. */
static void on_ping(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    struct ping *pg = ud;
    xt_cli_session *s = pg->s;
    struct send *st = xt_cli_session_ud(s);
    (void)c;
    (void)reply;

    if ((status == 0 || status == XT_ESTANZA) && !xt_cli_session_finishing(s))
        for (size_t i = 0; i < st->npend && !xt_cli_session_finishing(s); i++)
            if (st->pend[i].gen == pg->gen)
                ack_one(s, st, &st->pend[i]);
    free(pg);
}

/* Hands every message not yet on this stream (st->gen) to it, then
 * pings behind them. -1 when the session failed. */
static int send_unsent(xt_cli_session *s, struct send *st)
{
    xt_conn *c = xt_cli_session_conn(s);
    size_t sent = 0;

    for (size_t i = 0; i < st->npend; i++) {
        struct pending *p = &st->pend[i];
        /* Held by the library (XEP-0198): it re-sends and acks it. */
        if (p->acked || p->gen == st->gen || xt_conn_is_unacked(c, p->id))
            continue;
        /* XEP-0066 §3.1 beside the body: clients that know it show a file. */
        xt_message_extras x = {.request_receipt = p->want_receipt,
                               .oob_url = p->oob_url};
        int rc = xt_conn_send_message_ex(c, p->to, p->type, p->body, p->thread, p->id, &x, NULL);
        if (rc < 0) {
            xt_cli_session_fail(s, xt_cli_exit_for(rc, 1), "send: cannot send the message: %s%s",
                                xt_strerror(rc),
                                st->store ? "; it stays in the outbox for the next run" : "");
            return -1;
        }
        p->gen = st->gen;
        sent++;
    }
    if (sent > 0) {
        struct ping *pg = malloc(sizeof *pg);
        if (!pg) {
            xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
            return -1;
        }
        *pg = (struct ping){.s = s, .gen = st->gen};
        if (xt_conn_ping(c, NULL, on_ping, pg) < 0)
            free(pg); /* XT_EV_ACKED still comes; or the progress timer */
    }
    return 0;
}

static void on_online(xt_cli_session *s, void *ud)
{
    struct send *st = ud;

    st->gen++;
    if (st->gen == 1 && st->nleft > 0)
        fprintf(stderr, "xtalk: sending %zu message%s left in the outbox by an earlier run\n",
                st->nleft, st->nleft == 1 ? "" : "s");
    if (send_unsent(s, st) < 0)
        return;
    if (st->uploading)
        xt_cli_upload_online(&st->up);
    if (xt_cli_session_finishing(s))
        return;
    if (st->nacked == st->npend && st->uploading)
        return; /* the upload has its own timeouts */
    if (st->nacked == st->npend && !st->acked)
        all_acked(s, st);
    else
        arm_progress(s, st);
}

static void on_event(xt_cli_session *s, const xt_event *ev, void *ud)
{
    struct send *st = ud;
    const xt_message *m = &ev->u.message;

    if (ev->type == XT_EV_ACKED) {
        for (size_t i = 0; i < st->npend && ev->u.acked.id; i++)
            if (strcmp(st->pend[i].id, ev->u.acked.id) == 0) {
                ack_one(s, st, &st->pend[i]);
                break;
            }
        return;
    }
    if (ev->type == XT_EV_RECEIPT) {
        /* XEP-0184: only from the recipient (any of its resources). */
        if (!ev->u.receipt.from || !xt_jid_str_bare_equal(ev->u.receipt.from, st->to))
            return;
        for (size_t i = 0; i < st->npend; i++) {
            struct pending *p = &st->pend[i];
            if (p->want_receipt && !p->receipted && strcmp(p->id, ev->u.receipt.id) == 0) {
                p->receipted = 1;
                if (++st->nreceipts == st->nwant && st->acked && !xt_cli_session_finishing(s)) {
                    cancel(s, &st->receipt_timer);
                    delivered(s, st);
                }
                break;
            }
        }
        return;
    }
    if (ev->type != XT_EV_MESSAGE || !st->a->wait_reply || st->reply)
        return;
    if (!m->from || !xt_jid_str_bare_equal(m->from, st->to) || m->stamp)
        return; /* someone else, or an old (offline-stored) message */
    /* A reply may come before the server's ack of this run's messages
     * (the <r/> leaves ack_delay after them, a local bot answers sooner):
     * it is kept and printed once they are acknowledged. Which reply is
     * ours is decided by the thread below, not by arrival order. */
    if (m->type && strcmp(m->type, "error") == 0) {
        char why[512];
        xt_cli_stanza_error(m->stanza, why, sizeof why);
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: the message to %s bounced: %s", st->to,
                            why);
        return;
    }
    if (!m->body || (m->type && strcmp(m->type, "chat") != 0 && strcmp(m->type, "normal") != 0))
        return; /* chat states and the like: keep waiting */
    if (m->thread ? strcmp(m->thread, st->thread) != 0 : st->ambiguous)
        return; /* answers another conversation, or maybe an earlier message */
    st->reply = strdup(m->body);
    if (!st->reply) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
        return;
    }
    if (st->acked) {
        cancel(s, &st->reply_timer);
        print_reply(s, st);
    }
}

static struct pending *new_pending(struct send *st);
static int64_t wall_ms(void);

/* --file: the file is on the server; its URL is this run's message,
 * queued in the outbox like any other (a later run re-sends its body,
 * the URL, if this one cannot), then sent. */
static void on_uploaded(xt_cli_session *s, const char *get_url, void *ud)
{
    struct send *st = ud;
    struct pending *p = new_pending(st);

    st->uploading = 0;
    if (!p || !(p->to = strdup(st->to)) || !(p->type = strdup("chat")) ||
        !(p->body = strdup(get_url)) || !(p->oob_url = strdup(get_url)) ||
        (st->thread[0] && !(p->thread = strdup(st->thread)))) {
        if (p)
            free(p->to), free(p->type), free(p->body), free(p->oob_url);
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
        return;
    }
    st->npend++;
    if (st->a->receipt) {
        p->want_receipt = 1;
        st->nwant++;
    }
    if (xt_cli_new_id(p->id) != 0) {
        xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: cannot get random bytes for an id: %s",
                            strerror(errno));
        return;
    }
    if (st->store) {
        xt_outbox_msg m = {.account = st->account,
                           .to = p->to,
                           .type = p->type,
                           .body = p->body,
                           .thread = p->thread,
                           .origin_id = p->id,
                           .created_ms = wall_ms()};
        const char *slash = strrchr(st->up.path, '/');
        xt_store_file f = {.url = get_url,
                           .name = slash ? slash + 1 : st->up.path,
                           .media_type = st->up.type,
                           .size = (int64_t)st->up.size};
        if (xt_outbox_add_file(st->store, &m, &f, NULL) < 0)
            xt_cli_errorf("warning: cannot queue the file's URL in the outbox (%s); sending it "
                          "without",
                          xt_store_errdetail(st->store));
    }
    if (xt_cli_session_settings(s)->verbose)
        fprintf(stderr, "xtalk: uploaded %s: %s\n", st->a->file, get_url);
    if (!xt_cli_session_online(s))
        return; /* sent by on_online once connected again */
    if (send_unsent(s, st) < 0)
        return;
    if (st->nacked == st->npend && !st->acked)
        all_acked(s, st);
    else
        arm_progress(s, st);
}

static void on_start(xt_cli_session *s, void *ud)
{
    struct send *st = ud;

    if (st->a->file) {
        st->up.done = on_uploaded;
        st->up.ud = st;
        if (xt_cli_upload_attach(&st->up, s) < 0)
            return;
        st->uploading = 1;
    }

    if (st->a->queue) {
        st->queue_timer =
            xt_loop_add_timer(xt_cli_session_loop(s), QUEUE_TRY_MS, on_queue_timeout, s);
        if (st->queue_timer < 0)
            xt_cli_session_fail(s, XT_CLI_EXIT_ERROR, "send: out of memory");
    }
}

static struct pending *new_pending(struct send *st)
{
    if (st->npend % 64 == 0) {
        struct pending *np = realloc(st->pend, (st->npend + 64) * sizeof *np);
        if (!np)
            return NULL;
        st->pend = np;
    }
    struct pending *p = &st->pend[st->npend];
    memset(p, 0, sizeof *p);
    return p;
}

static int load_left(const xt_outbox_msg *m, void *ud)
{
    struct send *st = ud;
    struct pending *p = new_pending(st);
    if (!p || strlen(m->origin_id) >= sizeof p->id)
        return p ? 0 : -1; /* an id too long for us: cannot have been ours */
    snprintf(p->id, sizeof p->id, "%s", m->origin_id);
    p->to = strdup(m->to);
    p->type = strdup(m->type);
    p->body = strdup(m->body);
    p->thread = m->thread ? strdup(m->thread) : NULL;
    p->oob_url = m->file ? strdup(m->file->url) : NULL;
    if (!p->to || !p->type || !p->body || (m->thread && !p->thread) || (m->file && !p->oob_url)) {
        free(p->to);
        free(p->type);
        free(p->body);
        free(p->thread);
        free(p->oob_url);
        return -1;
    }
    st->npend++;
    st->nleft++;
    return 0;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Leftovers first, then this run's messages, committed to the outbox in
 * one transaction before anything is sent. */
static int prepare(struct send *st)
{
    int rc;

    if (st->store) {
        rc = xt_outbox_list(st->store, st->account, load_left, st);
        if (rc != 0) {
            xt_cli_errorf("send: cannot read the outbox: %s",
                          rc == -1 ? "out of memory" : xt_store_errdetail(st->store));
            return XT_CLI_EXIT_ERROR;
        }
        if (xt_store_begin(st->store) < 0)
            goto store_failed;
    }
    if (st->a->wait_reply) {
        if (xt_cli_new_id(st->thread) != 0) {
            if (st->store)
                (void)xt_store_rollback(st->store);
            xt_cli_errorf("send: cannot get random bytes for a thread id: %s", strerror(errno));
            return XT_CLI_EXIT_ERROR;
        }
        for (size_t i = 0; i < st->npend; i++)
            if (xt_jid_str_bare_equal(st->pend[i].to, st->to))
                st->ambiguous = 1;
    }
    for (size_t i = 0; i < st->nmsgs; i++) {
        struct pending *p = new_pending(st);
        if (!p || !(p->to = strdup(st->to)) || !(p->type = strdup("chat")) ||
            (st->thread[0] && !(p->thread = strdup(st->thread)))) {
            if (p)
                free(p->to), free(p->type);
            xt_cli_errorf("send: out of memory");
            return XT_CLI_EXIT_ERROR;
        }
        p->body = st->msgs[i];
        st->msgs[i] = NULL;
        st->npend++;
        if (st->a->receipt) {
            p->want_receipt = 1;
            st->nwant++;
        }
        if (xt_cli_new_id(p->id) != 0) {
            xt_cli_errorf("send: cannot get random bytes for a message id: %s", strerror(errno));
            return XT_CLI_EXIT_ERROR;
        }
        if (st->store) {
            xt_outbox_msg m = {.account = st->account,
                               .to = p->to,
                               .type = p->type,
                               .body = p->body,
                               .thread = p->thread,
                               .origin_id = p->id,
                               .created_ms = wall_ms()};
            if (xt_outbox_add(st->store, &m, NULL) < 0) {
                /* All or nothing; the store's detail still names the
                 * cause (a full disk, a read-only file) for the user. */
                (void)xt_store_rollback(st->store);
                goto store_failed;
            }
        }
    }
    if (st->store && xt_store_commit(st->store) < 0)
        goto store_failed;
    if (st->store && !(st->to_remove = malloc((st->npend + 1) * sizeof *st->to_remove))) {
        xt_cli_errorf("send: out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    return 0;
store_failed:
    xt_cli_errorf("send: cannot queue the message%s in the outbox: %s; nothing was sent (use "
                  "--no-store to send without it)",
                  st->nmsgs == 1 ? "" : "s", xt_store_errdetail(st->store));
    return XT_CLI_EXIT_ERROR;
}

/* Never online: nothing of this run reached a stream, and the user was
 * told it failed (and will run it again), so this run's messages leave
 * the outbox; an earlier run's stay. Not for --queue, whose promise is
 * to keep them. */
static void withdraw(struct send *st)
{
    if (!st->store)
        return;
    for (size_t i = st->nleft; i < st->npend; i++)
        if (st->pend[i].id[0])
            (void)xt_outbox_remove(st->store, st->account, st->pend[i].id);
}

int xt_cli_cmd_send(const xt_cli_args *a)
{
    struct send st = {.a = a};
    xt_cli_account acct;
    int rc;

    memset(&acct, 0, sizeof acct);
    rc = a->flush || a->muc ? 0 : xt_cli_check_target("send", a->target, 0, &st.to);
    if (rc == 0 && a->file)
        rc = xt_cli_upload_prepare(&st.up, a->file, a->file_type);
    else if (rc == 0 && !a->flush)
        rc = gather(&st);
    if (rc == 0 && a->muc) {
        /* Group chat: join, send, wait for the reflection (cmd_send_muc.c). */
        rc = xt_cli_send_muc(a, st.msgs, st.nmsgs, a->file ? &st.up : NULL);
        goto out;
    }
    if (rc == 0) {
        rc = xt_cli_account_open(a, 0, 0, &acct);
        st.store = acct.store;
        st.account = acct.key;
        if (rc == 0)
            rc = prepare(&st);
        if (rc == 0 && a->flush && st.npend == 0) {
            if (acct.set.verbose)
                fprintf(stderr, "xtalk: the outbox is empty\n");
            goto out;
        }
        if (rc == 0 && a->queue) {
            /* Committed: that is --queue's promise. Now a short try. */
            if (acct.set.timeout_ms > QUEUE_TRY_MS)
                acct.set.timeout_ms = QUEUE_TRY_MS;
        }
        if (rc == 0) {
            xt_cli_session_params p = {
                /* No roster needed. Presence only to receive the reply: at
                 * priority -1 so the server neither routes messages for the
                 * bare JID here nor flushes offline storage to us (RFC 6121
                 * §8.5.2.1.1); replies and receipts come to our full JID. */
                .conn_flags = XT_CONN_NO_ROSTER |
                              (a->wait_reply || a->receipt ? 0 : XT_CONN_NO_PRESENCE),
                .priority = -1,
                .interrupt_exit = XT_CLI_EXIT_ERROR,
                .reconnect = XT_CLI_RECONNECT_ALWAYS,
                .keepalive_ms = a->keepalive_s * 1000u,
                .on_start = on_start,
                .on_online = on_online,
                .on_event = on_event,
                .ud = &st,
            };
            int retryable = 0;
            p.retryable = &retryable;
            rc = xt_cli_upload_run(&st.up, a->file, &acct, &p);
            flush_removals(&st); /* acked while the session ended */
            if (st.gen == 0 && !a->queue)
                withdraw(&st);
            if (a->queue && rc != XT_CLI_EXIT_OK &&
                (retryable || rc == XT_CLI_EXIT_CONNECT || rc == XT_CLI_EXIT_TIMEOUT)) {
                /* Offline, or the network failed us: queued is what
                 * --queue promised. Authentication, certificate and
                 * configuration failures are still reported. */
                say_queued(&st);
                rc = XT_CLI_EXIT_OK;
            }
        }
    }
out:
    for (size_t i = 0; i < st.nmsgs; i++)
        free(st.msgs[i]);
    free(st.msgs);
    for (size_t i = 0; i < st.npend; i++) {
        free(st.pend[i].to);
        free(st.pend[i].type);
        free(st.pend[i].body);
        free(st.pend[i].thread);
        free(st.pend[i].oob_url);
    }
    free(st.pend);
    free(st.to_remove);
    xt_cli_account_close(&acct);
    free(st.to);
    free(st.reply);
    xt_cli_upload_free(&st.up); /* freed already when a session ran */
    return rc;
}
