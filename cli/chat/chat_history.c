/* The chat's history and outbox, on the local store. */
#include "chat_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xtalk/store.h"

struct xt_chat_hist {
    xt_store *st; /* the account's (xt_cli_account), not ours to close */
    char *account;
};

int64_t xt_chat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

xt_chat_hist *xt_chat_hist_open(xt_store *st, const char *account)
{
    xt_chat_hist *h;

    if (!st || !(h = calloc(1, sizeof *h)))
        return NULL;
    h->st = st;
    if (!(h->account = strdup(account))) {
        free(h);
        return NULL;
    }
    return h;
}

void xt_chat_hist_close(xt_chat_hist *h)
{
    if (!h)
        return;
    free(h->account);
    free(h);
}

int xt_chat_hist_room_key(const char *room, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s%s", XT_CHAT_HIST_ROOM_PREFIX, room);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *xt_chat_hist_key_room(const char *peer)
{
    size_t n = sizeof XT_CHAT_HIST_ROOM_PREFIX - 1;
    return peer && strncmp(peer, XT_CHAT_HIST_ROOM_PREFIX, n) == 0 ? peer + n : NULL;
}

int64_t xt_chat_hist_add(xt_chat_hist *h, const char *peer, const char *from, const char *body,
                         const char *stanza_id, int outgoing, int64_t ts_ms)
{
    int64_t id = 0;
    if (!h)
        return 0;
    xt_history_msg m = {
        .account = h->account,
        .peer = peer,
        .from = from,
        .body = body,
        .stanza_id = stanza_id,
        .outgoing = outgoing,
        .ts_ms = ts_ms,
    };
    return xt_history_add(h->st, &m, &id) == 0 ? id : 0;
}

struct relay {
    xt_chat_hist_fn fn;
    void *ud;
};

static int relay_fn(const xt_history_msg *m, void *ud)
{
    const struct relay *r = ud;
    xt_chat_hmsg c = {
        .id = m->id,
        .peer = m->peer,
        .from = m->from,
        .body = m->body,
        .stanza_id = m->stanza_id,
        .outgoing = m->outgoing,
        .ts_ms = m->ts_ms,
    };
    return r->fn(&c, r->ud);
}

int xt_chat_hist_page(xt_chat_hist *h, const char *peer, int64_t before_id, size_t limit,
                      xt_chat_hist_fn fn, void *ud)
{
    struct relay r = {fn, ud};
    if (!h)
        return XT_EUNSUPPORTED;
    return xt_history_page(h->st, h->account, peer, before_id, limit, relay_fn, &r);
}

int xt_chat_hist_search(xt_chat_hist *h, const char *text, size_t limit, xt_chat_hist_fn fn,
                        void *ud)
{
    struct relay r = {fn, ud};
    if (!h)
        return XT_EUNSUPPORTED;
    return xt_history_search(h->st, h->account, text, limit, relay_fn, &r);
}

int xt_chat_outbox_add(xt_chat_hist *h, const char *to, const char *body, const char *id)
{
    if (!h)
        return XT_EUNSUPPORTED;
    xt_outbox_msg m = {.account = h->account, .to = to, .type = "chat", .body = body, .origin_id = id};
    return xt_outbox_add(h->st, &m, NULL);
}

int xt_chat_outbox_remove(xt_chat_hist *h, const char *id)
{
    return h ? xt_outbox_remove(h->st, h->account, id) : XT_EUNSUPPORTED;
}

struct orelay {
    xt_chat_outbox_fn fn;
    void *ud;
};

static int orelay_fn(const xt_outbox_msg *m, void *ud)
{
    const struct orelay *r = ud;
    return r->fn(m->to, m->body, m->origin_id, r->ud);
}

int xt_chat_outbox_list(xt_chat_hist *h, xt_chat_outbox_fn fn, void *ud)
{
    struct orelay r = {fn, ud};
    return h ? xt_outbox_list(h->st, h->account, orelay_fn, &r) : XT_EUNSUPPORTED;
}
