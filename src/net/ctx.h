/*
 * Internals of xt_ctx for client.c: the shared TLS contexts and the TLS
 * handshake limiter. Not part of the public API.
 */
#ifndef XT_NET_CTX_H
#define XT_NET_CTX_H

#include "net/tls.h"
#include "xtalk/client.h"

/* A client's place in the handshake limiter. Embedded in the client, so
 * queueing never allocates (and so never fails). */
typedef enum xt_slot_state { XT_SLOT_NONE, XT_SLOT_QUEUED, XT_SLOT_HELD } xt_slot_state;
typedef struct xt_slot {
    xt_slot_state state;
    struct xt_slot *next, *prev; /* the queue, while QUEUED */
    /* Called when a queued slot becomes HELD (from another client's call
     * or from xt_ctx_set_max_handshakes): must only note it and ask for
     * a timer, never run the handshake from there. */
    void (*granted)(struct xt_slot *s);
} xt_slot;

void xt_ctx_ref(xt_ctx *ctx);
const xt_mem *xt_ctx_mem(const xt_ctx *ctx);
/* A shared TLS context for these trust settings (created on first use,
 * reference-counted). XT_EINVAL with err for an unreadable ca_file. */
int xt_ctx_tls(xt_ctx *ctx, const char *ca_file, int no_system_ca, xt_tls_ctx **out, char *err,
               size_t errlen);
void xt_ctx_tls_release(xt_ctx *ctx, xt_tls_ctx *tls);

/* xt_ctx_set_dns_servers' list, or NULL. */
const char *xt_ctx_dns_servers(const xt_ctx *ctx);

/* 1: the slot is HELD now (go). 0: QUEUED; granted() runs when it is
 * HELD. Already QUEUED or HELD: returns its state unchanged. */
int xt_ctx_slot_take(xt_ctx *ctx, xt_slot *s);
/* Gives a HELD slot back (waking the first queued), or leaves the queue.
 * NONE: nothing. Every path that ends a handshake calls it. */
void xt_ctx_slot_release(xt_ctx *ctx, xt_slot *s);
/* Handshakes running (slots held), for tests and assertions. */
size_t xt_ctx_slots_busy(const xt_ctx *ctx);

#endif
