/*
 * core/iq.h -- the table of IQ requests waiting for their answer (internal).
 *
 * RFC 6120 §8.2.3: every get/set gets exactly one result or error with the
 * same id. An entry is found by id AND by the sender: a reply is only
 * accepted from the entity the request went to (§8.1.2.1, §10.1), so a
 * third party that guesses an id cannot answer in the server's name.
 *
 * Entries are taken out of the table before their callback runs, so a
 * callback may add or complete other requests freely.
 */
#ifndef XT_CORE_IQ_H
#define XT_CORE_IQ_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/conn.h"

typedef struct xt_iq_pending {
    char *id;
    char *to;          /* normalized 'to' of the request; NULL = our server/account */
    uint64_t deadline; /* absolute ms */
    xt_iq_fn fn;       /* may be NULL: the answer is just dropped */
    void *ud;
} xt_iq_pending;

typedef struct xt_iq_table {
    xt_iq_pending *v;
    size_t n, cap;
    const xt_mem *mem;
} xt_iq_table;

void xt_iq_table_init(xt_iq_table *t, const xt_mem *mem);
/* Frees every entry without calling callbacks (xt_conn_free). */
void xt_iq_table_free(xt_iq_table *t);
/* Releases the array when nothing is pending (an idle connection). */
void xt_iq_table_trim(xt_iq_table *t);

/* Adds a request; id and to are copied. 0 or XT_ENOMEM. */
int xt_iq_add(xt_iq_table *t, const char *id, const char *to, uint64_t deadline, xt_iq_fn fn,
              void *ud);

/*
 * Identity of our own account, for matching replies to requests sent to
 * the server (no 'to'): RFC 6120 §10.1 lets the server answer with no
 * 'from', our bare JID or its domain; our full JID is accepted too.
 */
typedef struct xt_iq_self {
    const char *bare;   /* account bare JID, normalized */
    const char *domain; /* account domain */
    const char *full;   /* bound full JID or NULL */
} xt_iq_self;

/*
 * Removes the entry answering a reply with this id and from (from may be
 * NULL); 1 and *out (the caller owns out->id/out->to: xt_iq_pending_done),
 * or 0 when no entry matches.
 */
int xt_iq_take(xt_iq_table *t, const char *id, const char *from, const xt_iq_self *self,
               xt_iq_pending *out);
/* Removes the entry added last (its request could not be sent) without
 * calling its callback. */
void xt_iq_drop_last(xt_iq_table *t);
/* Removes one entry whose deadline is <= now: 1 and *out, or 0. */
int xt_iq_take_expired(xt_iq_table *t, uint64_t now, xt_iq_pending *out);
/* Removes any entry (disconnect): 1 and *out, or 0 when empty. */
int xt_iq_take_any(xt_iq_table *t, xt_iq_pending *out);
/* Earliest deadline, or -1 when empty. */
int64_t xt_iq_deadline(const xt_iq_table *t);
/* Frees the strings of a taken entry. */
void xt_iq_pending_done(const xt_mem *mem, xt_iq_pending *p);

#endif
