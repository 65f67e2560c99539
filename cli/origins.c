/* See origins.h. */
#include "origins.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"

#define RING 4096

struct entry {
    uint64_t id_hash, sender_hash;
};

struct xt_cli_origins {
    struct entry ring[RING];
    size_t next, used;
    /* The last sender and its hash: listen records every message, mostly
     * from one sender in a burst, and preparing the JID (PRECIS, IDNA)
     * cost more than the rest of listen's per-message work. */
    char *last_from;
    uint64_t last_hash;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

xt_cli_origins *xt_cli_origins_new(void)
{
    return calloc(1, sizeof(xt_cli_origins));
}

void xt_cli_origins_free(xt_cli_origins *o)
{
    if (o)
        free(o->last_from);
    free(o);
}

/* The sender as the store keys JIDs: bare, prepared (RFC 7622); 0 when
 * it is not a JID. */
static uint64_t sender_hash(const char *from)
{
    char *bare = from ? xt_cli_bare(from, NULL) : NULL;
    if (!bare)
        return 0;
    uint64_t h = fnv(bare);
    free(bare);
    return h ? h : 1;
}

/* sender_hash(from), remembered for the last sender. */
static uint64_t sender_hash_cached(xt_cli_origins *o, const char *from)
{
    if (!from)
        return 0;
    if (o->last_from && strcmp(o->last_from, from) == 0)
        return o->last_hash;
    uint64_t h = sender_hash(from);
    char *copy = strdup(from);
    if (copy) {
        free(o->last_from);
        o->last_from = copy;
        o->last_hash = h;
    }
    return h;
}

static void put(xt_cli_origins *o, uint64_t sender, const char *id)
{
    if (!o || !sender || !id || !*id)
        return;
    o->ring[o->next] = (struct entry){.id_hash = fnv(id), .sender_hash = sender};
    o->next = (o->next + 1) % RING;
    if (o->used < RING)
        o->used++;
}

void xt_cli_origins_add(xt_cli_origins *o, const xt_message *m)
{
    uint64_t s = o ? sender_hash_cached(o, m->from) : 0;
    put(o, s, m->origin_id);
    if (!m->origin_id || !m->id || strcmp(m->origin_id, m->id) != 0)
        put(o, s, m->id);
}

void xt_cli_origins_add_id(xt_cli_origins *o, const char *from, const char *id)
{
    put(o, o ? sender_hash_cached(o, from) : 0, id);
}

int xt_cli_origins_check(const xt_cli_origins *o, const char *from, const char *id)
{
    if (!o || !id || !*id)
        return XT_CLI_ORIGIN_UNKNOWN;
    uint64_t s = sender_hash(from), h = fnv(id);
    int other = 0;
    for (size_t i = 0; i < o->used; i++) {
        if (o->ring[i].id_hash != h)
            continue;
        if (o->ring[i].sender_hash == s)
            return XT_CLI_ORIGIN_SAME;
        other = 1;
    }
    return other ? XT_CLI_ORIGIN_OTHER : XT_CLI_ORIGIN_UNKNOWN;
}
