/*
 * xt_ctx: what clients share. The allocator, one TLS context per trust
 * setting (an SSL_CTX costs ~5 M instructions and keeps the roots its
 * lookups read, so a thousand clients must not each make one), and the
 * handshake limiter.
 *
 * Reference counting: the application holds one reference from
 * xt_ctx_new to xt_ctx_free, each client one from xt_client_new to
 * xt_client_free; the last one out frees. So clients, the context and a
 * loop may be freed in any order.
 *
 * The limiter counts exactly: a slot is HELD from the ClientHello until
 * the handshake ends, and every end (success, failure, the client freed
 * or reconnecting) releases it through release_transport in client.c.
 * Waiters queue in FIFO order and are granted a slot directly, so a
 * client arriving later never overtakes one already waiting.
 */
#include <time.h>

#include "base/mem.h"
#include "net/ctx.h"
#include "net/dns.h"
#include "net/loop.h"

typedef struct ctx_tls {
    xt_tls_ctx *tls;
    unsigned refs;
} ctx_tls;

struct xt_ctx {
    xt_mem memv;
    const xt_mem *mem;
    unsigned refs;
    ctx_tls *tls;
    size_t ntls, cap_tls;
    size_t busy, cap;  /* handshakes running, at most (0 = no limit) */
    char *dns_servers; /* NULL = resolv.conf's */
    xt_slot *head, *tail;
};

uint64_t xt_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t xt_now_ms(void)
{
    return xt_clock_ms();
}

int xt_ctx_new(const xt_mem *mem, xt_ctx **out)
{
    if (!out)
        return XT_EINVAL;
    *out = NULL;
    xt_ctx *c = xt_calloc(mem, 1, sizeof *c);
    if (!c)
        return XT_ENOMEM;
    if (mem) {
        c->memv = *mem;
        c->mem = &c->memv;
    }
    c->refs = 1;
    c->cap = 64;
    *out = c;
    return 0;
}

void xt_ctx_ref(xt_ctx *ctx)
{
    ctx->refs++;
}

void xt_ctx_free(xt_ctx *ctx)
{
    if (!ctx || --ctx->refs)
        return;
    /* The last reference: every client is gone, so every TLS context was
     * released and no slot is held or queued. */
    for (size_t i = 0; i < ctx->ntls; i++)
        xt_tls_ctx_free(ctx->tls[i].tls);
    xt_free(ctx->mem, ctx->tls);
    xt_free(ctx->mem, ctx->dns_servers);
    xt_free(ctx->mem, ctx);
}

const xt_mem *xt_ctx_mem(const xt_ctx *ctx)
{
    return ctx->mem;
}

int xt_ctx_tls(xt_ctx *ctx, const char *ca_file, int no_system_ca, xt_tls_ctx **out, char *err,
               size_t errlen)
{
    for (size_t i = 0; i < ctx->ntls; i++) {
        if (xt_tls_ctx_matches(ctx->tls[i].tls, ca_file, no_system_ca)) {
            ctx->tls[i].refs++;
            *out = ctx->tls[i].tls;
            return 0;
        }
    }
    if (XT_GROW(ctx->mem, ctx->tls, ctx->cap_tls, ctx->ntls + 1, 4))
        return XT_ENOMEM;
    int rc = xt_tls_ctx_new(ctx->mem, ca_file, no_system_ca, out, err, errlen);
    if (rc < 0)
        return rc;
    ctx->tls[ctx->ntls++] = (ctx_tls){.tls = *out, .refs = 1};
    return 0;
}

void xt_ctx_tls_release(xt_ctx *ctx, xt_tls_ctx *tls)
{
    for (size_t i = 0; tls && i < ctx->ntls; i++) {
        if (ctx->tls[i].tls != tls)
            continue;
        if (--ctx->tls[i].refs == 0) {
            xt_tls_ctx_free(tls);
            ctx->tls[i] = ctx->tls[--ctx->ntls];
        }
        return;
    }
}

/* --- DNS ------------------------------------------------------------------- */

int xt_ctx_set_dns_servers(xt_ctx *ctx, const char *servers)
{
    if (!ctx)
        return XT_EINVAL;
    int rc;
    if (servers && (rc = xt_dns_check_servers(servers)) < 0)
        return rc;
    char *dup = NULL;
    if (servers && !(dup = xt_strdup(ctx->mem, servers)))
        return XT_ENOMEM;
    xt_free(ctx->mem, ctx->dns_servers);
    ctx->dns_servers = dup;
    return 0;
}

const char *xt_ctx_dns_servers(const xt_ctx *ctx)
{
    return ctx->dns_servers;
}

/* --- the handshake limiter ---------------------------------------------- */

static int slot_free(const xt_ctx *ctx)
{
    return !ctx->cap || ctx->busy < ctx->cap;
}

static void unlink_slot(xt_ctx *ctx, xt_slot *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        ctx->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        ctx->tail = s->prev;
    s->next = s->prev = NULL;
}

/* Hands free slots to the waiters, first come first served. */
static void grant(xt_ctx *ctx)
{
    while (ctx->head && slot_free(ctx)) {
        xt_slot *s = ctx->head;
        unlink_slot(ctx, s);
        s->state = XT_SLOT_HELD;
        ctx->busy++;
        s->granted(s);
    }
}

int xt_ctx_set_max_handshakes(xt_ctx *ctx, unsigned n)
{
    if (!ctx)
        return XT_EINVAL;
    ctx->cap = n;
    grant(ctx);
    return 0;
}

int xt_ctx_slot_take(xt_ctx *ctx, xt_slot *s)
{
    if (s->state != XT_SLOT_NONE)
        return s->state == XT_SLOT_HELD;
    /* Nobody may jump the queue, even when a slot is free this instant
     * (it is about to be granted to the head). */
    if (!ctx->head && slot_free(ctx)) {
        s->state = XT_SLOT_HELD;
        ctx->busy++;
        return 1;
    }
    s->state = XT_SLOT_QUEUED;
    s->next = NULL;
    s->prev = ctx->tail;
    if (ctx->tail)
        ctx->tail->next = s;
    else
        ctx->head = s;
    ctx->tail = s;
    return 0;
}

void xt_ctx_slot_release(xt_ctx *ctx, xt_slot *s)
{
    if (s->state == XT_SLOT_QUEUED) {
        unlink_slot(ctx, s);
    } else if (s->state == XT_SLOT_HELD) {
        ctx->busy--;
        s->state = XT_SLOT_NONE;
        grant(ctx);
        return;
    }
    s->state = XT_SLOT_NONE;
}

size_t xt_ctx_slots_busy(const xt_ctx *ctx)
{
    return ctx->busy;
}
