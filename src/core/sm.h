/*
 * core/sm.h -- XEP-0198 stream management state and the acknowledgement
 * queues (internal). The protocol steps (enable, r/a, resume) live in
 * stream_sm.c; this file holds the data
 * that outlives a stream: counters, the resumption id and the stanzas the
 * server has not acknowledged yet.
 *
 * Counters are uint32_t and wrap at 2^32 (XEP-0198 §4): every comparison
 * is done on differences, never on raw values.
 */
#ifndef XT_CORE_SM_H
#define XT_CORE_SM_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/common.h"

#define XT_NS_SM "urn:xmpp:sm:3"

/* One sent stanza waiting for its ack. data is NULL in the no-SM list
 * (only message ids are kept there: nothing is re-sent). */
typedef struct xt_sm_entry {
    char *data;   /* serialized stanza, re-sent on resumption */
    size_t len;
    char *msg_id; /* id of a <message>, for XT_EV_ACKED; NULL otherwise */
} xt_sm_entry;

/* A FIFO of entries (array with a moving head). */
typedef struct xt_sm_queue {
    xt_sm_entry *v;
    size_t head, n, cap; /* live entries are v[head .. head+n) */
} xt_sm_queue;

typedef enum xt_sm_state {
    XT_SM_OFF = 0,  /* not on this stream */
    XT_SM_ENABLING, /* <enable/> sent: outbound stanzas are counted */
    XT_SM_ON,       /* <enabled/> received: inbound counted too */
} xt_sm_state;

typedef struct xt_sm {
    xt_sm_state state;
    uint32_t h_in;  /* inbound stanzas handled (what we report in <a h/>) */
    uint32_t acked; /* outbound stanzas the server acknowledged */
    xt_sm_queue q;  /* sent since `acked`: q.n == sent - acked */
    char *id;       /* resumption id (<enabled resume='true' id/>), or NULL */
    uint32_t since_r;    /* stanzas sent since our last <r/> */
    uint64_t last_tx;    /* time of the last counted stanza */
    uint64_t r_deadline; /* an <r/> unanswered until then = dead; 0 none */
    /* Without SM: <message> ids sent and not yet covered by an answered
     * ping; the first `covered` are what the ping in flight acks. */
    xt_sm_queue pend;
    size_t covered;
    int ping_out;
} xt_sm;

void xt_sm_queue_free(const xt_mem *mem, xt_sm_queue *q);
/* Releases the array of an empty queue (an idle connection). */
void xt_sm_queue_trim(const xt_mem *mem, xt_sm_queue *q);
/* Appends; data/msg_id copied (either may be NULL). 0 or XT_ENOMEM. */
int xt_sm_queue_push(const xt_mem *mem, xt_sm_queue *q, const char *data, size_t len,
                     const char *msg_id);
/* Removes the oldest entry into *out (the caller frees it with
 * xt_sm_entry_done). 0 when empty. */
int xt_sm_queue_pop(xt_sm_queue *q, xt_sm_entry *out);
xt_sm_entry *xt_sm_queue_at(xt_sm_queue *q, size_t i);
void xt_sm_entry_done(const xt_mem *mem, xt_sm_entry *e);
/* 1 when an entry has this message id. */
int xt_sm_queue_has(const xt_sm_queue *q, const char *msg_id);

/* Parses an h attribute: decimal, 0..2^32-1, no sign or spaces. 0 or -1. */
int xt_sm_parse_h(const char *s, uint32_t *out);

#endif
