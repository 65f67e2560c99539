/*
 * XEP-0085 Chat State Notifications (v2.1): the five states in a
 * message, standalone notifications, and the per-conversation timers
 * (xt_chatstates) that decide when to send which, driven by the time
 * the caller passes in.
 */
#include <string.h>

#include "base/mem.h"
#include "core/jid_int.h"
#include "im/msgext.h"

/* §5.2's suggested periods. */
#define PAUSED_AFTER_MS   (30 * 1000u)
#define INACTIVE_AFTER_MS (2 * 60 * 1000u)
#define GONE_AFTER_MS     (10 * 60 * 1000u)

static const char *const names[] = {
    [XT_CHATSTATE_ACTIVE] = "active", [XT_CHATSTATE_COMPOSING] = "composing",
    [XT_CHATSTATE_PAUSED] = "paused", [XT_CHATSTATE_INACTIVE] = "inactive",
    [XT_CHATSTATE_GONE] = "gone",
};

const char *xt_chatstate_name(xt_chatstate s)
{
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : NULL;
}

xt_chatstate xt_im_chatstate_of(const xt_stanza *ch)
{
    for (unsigned i = XT_CHATSTATE_ACTIVE; i <= XT_CHATSTATE_GONE; i++)
        if (strcmp(xt_stanza_name(ch), names[i]) == 0)
            return (xt_chatstate)i;
    return XT_CHATSTATE_NONE;
}

int xt_conn_send_chatstate(xt_conn *c, const char *to, xt_chatstate state)
{
    const char *name = xt_chatstate_name(state);
    if (!c || !to || !name)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    xt_jid *j = NULL;
    int rc = xt_jid_parse(c->s.mem, to, &j, NULL);
    if (rc)
        return rc;
    char id[64];
    xt_stream_next_id(&c->s, id);
    /* §5.5 example: type chat, the state alone; XEP-0334 no-store so
     * archives and offline storage do not fill with them. */
    xt_stanza *st = xt_stanza_new(c->s.mem, "message", XT_NS_CLIENT);
    rc = st && !xt_stanza_set_attr(st, "to", xt_jid_full(j)) &&
                 !xt_stanza_set_attr(st, "type", "chat") && !xt_stanza_set_attr(st, "id", id) &&
                 xt_stanza_add_child(st, name, XT_NS_CHATSTATES) &&
                 xt_stanza_add_child(st, "no-store", XT_NS_HINTS)
             ? 0
             : XT_ENOMEM;
    xt_jid_free(j);
    if (!rc)
        rc = xt_stream_send(&c->s, st);
    xt_stanza_free(st);
    return rc;
}

/* --- the timers --------------------------------------------------------- */

typedef enum support { SUPPORT_UNKNOWN = 0, SUPPORT_YES, SUPPORT_NO } support;

struct xt_chatstates {
    xt_mem mem_copy;
    const xt_mem *mem;
    xt_chatstate sent;   /* the state the contact was last told */
    support peer;        /* §5.1 */
    int asked;           /* our message with <active/> went out; its reply decides */
    uint64_t last_input; /* the last keystroke (composing -> paused) */
    uint64_t last_touch; /* the last interaction of any kind */
    int running;         /* timers armed (after the first interaction) */
};

int xt_chatstates_new(const xt_mem *mem, xt_chatstates **out)
{
    if (!out)
        return XT_EINVAL;
    xt_chatstates *cs = xt_calloc(mem, 1, sizeof *cs);
    if (!cs)
        return XT_ENOMEM;
    if (mem) {
        cs->mem_copy = *mem;
        cs->mem = &cs->mem_copy;
    }
    *out = cs;
    return 0;
}

void xt_chatstates_free(xt_chatstates *cs)
{
    if (!cs)
        return;
    xt_mem m = cs->mem_copy;
    xt_free(cs->mem ? &m : NULL, cs);
}

/* A standalone notification of s, unless the contact has not shown
 * support or was told s already (§5.3: no repeats). */
static xt_chatstate go(xt_chatstates *cs, xt_chatstate s)
{
    if (cs->peer != SUPPORT_YES || cs->sent == s)
        return XT_CHATSTATE_NONE;
    cs->sent = s;
    return s;
}

xt_chatstate xt_chatstates_input(xt_chatstates *cs, uint64_t now, int empty)
{
    if (!cs)
        return XT_CHATSTATE_NONE;
    cs->last_touch = now;
    cs->running = 1;
    if (empty) /* the draft was deleted: no longer composing */
        return cs->sent == XT_CHATSTATE_NONE ? XT_CHATSTATE_NONE : go(cs, XT_CHATSTATE_ACTIVE);
    cs->last_input = now;
    return go(cs, XT_CHATSTATE_COMPOSING);
}

xt_chatstate xt_chatstates_touch(xt_chatstates *cs, uint64_t now)
{
    if (!cs)
        return XT_CHATSTATE_NONE;
    cs->last_touch = now;
    cs->running = 1;
    if (cs->sent == XT_CHATSTATE_INACTIVE || cs->sent == XT_CHATSTATE_GONE)
        return go(cs, XT_CHATSTATE_ACTIVE);
    return XT_CHATSTATE_NONE;
}

xt_chatstate xt_chatstates_message(xt_chatstates *cs, uint64_t now)
{
    if (!cs)
        return XT_CHATSTATE_NONE;
    cs->last_touch = now;
    cs->running = 1;
    if (cs->peer == SUPPORT_NO)
        return XT_CHATSTATE_NONE;
    /* §5.1: with unknown support the first message carries <active/>
     * and the reply tells. A state inside a message is not standalone,
     * so it may repeat. */
    if (cs->peer == SUPPORT_UNKNOWN)
        cs->asked = 1;
    cs->sent = XT_CHATSTATE_ACTIVE;
    return XT_CHATSTATE_ACTIVE;
}

xt_chatstate xt_chatstates_close(xt_chatstates *cs, uint64_t now)
{
    if (!cs)
        return XT_CHATSTATE_NONE;
    cs->last_touch = now;
    cs->running = 0;
    /* §5.2: gone when the conversation ends, if it ever started. */
    return cs->sent == XT_CHATSTATE_NONE ? XT_CHATSTATE_NONE : go(cs, XT_CHATSTATE_GONE);
}

void xt_chatstates_received(xt_chatstates *cs, const xt_message *m)
{
    if (!cs || !m)
        return;
    if (m->chatstate != XT_CHATSTATE_NONE)
        cs->peer = SUPPORT_YES;
    else if (m->body && cs->asked && cs->peer == SUPPORT_UNKNOWN)
        /* §5.1: the reply to our <active/> had none: it does not
         * support them; send no more. */
        cs->peer = SUPPORT_NO;
}

/* The next timed transition from the current state, or 0 with none. */
static uint64_t due(const xt_chatstates *cs, xt_chatstate *next)
{
    if (!cs->running || cs->peer != SUPPORT_YES)
        return 0;
    switch (cs->sent) {
    case XT_CHATSTATE_COMPOSING:
        *next = XT_CHATSTATE_PAUSED;
        return cs->last_input + PAUSED_AFTER_MS;
    case XT_CHATSTATE_ACTIVE:
    case XT_CHATSTATE_PAUSED:
        *next = XT_CHATSTATE_INACTIVE;
        return cs->last_touch + INACTIVE_AFTER_MS;
    case XT_CHATSTATE_INACTIVE:
        *next = XT_CHATSTATE_GONE;
        return cs->last_touch + GONE_AFTER_MS;
    default:
        return 0;
    }
}

xt_chatstate xt_chatstates_tick(xt_chatstates *cs, uint64_t now)
{
    xt_chatstate next = XT_CHATSTATE_NONE;
    uint64_t at = cs ? due(cs, &next) : 0;
    if (!at || now < at)
        return XT_CHATSTATE_NONE;
    return go(cs, next);
}

int64_t xt_chatstates_deadline(const xt_chatstates *cs)
{
    xt_chatstate next;
    uint64_t at = cs ? due(cs, &next) : 0;
    return at ? (int64_t)at : -1;
}

xt_chatstate xt_chatstates_current(const xt_chatstates *cs)
{
    return cs ? cs->sent : XT_CHATSTATE_NONE;
}
