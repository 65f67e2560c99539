/* Dropping repeated incoming messages; see dedup.h. */
#include "dedup.h"

#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 8192

struct xt_cli_dedup {
    xt_store *st;
    char *account;
    uint64_t ring[RING]; /* memory mode: hashes of sender + key */
    size_t next, used;
};

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

xt_cli_dedup *xt_cli_dedup_new(xt_store *st, const char *account)
{
    xt_cli_dedup *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->st = st;
    if (!(d->account = strdup(account))) {
        free(d);
        return NULL;
    }
    return d;
}

void xt_cli_dedup_free(xt_cli_dedup *d)
{
    if (!d)
        return;
    free(d->account);
    free(d);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One key: 1 seen before, 0 new (recorded), < 0 store error. */
static int check_key(xt_cli_dedup *d, const char *sender, const char *key)
{
    if (d->st)
        return xt_seen_check_add(d->st, d->account, sender, key, now_ms());
    uint64_t h = fnv(fnv(0xcbf29ce484222325ULL, sender), "\n");
    h = fnv(h, key);
    for (size_t i = 0; i < d->used; i++)
        if (d->ring[i] == h)
            return 1;
    d->ring[d->next] = h;
    d->next = (d->next + 1) % RING;
    if (d->used < RING)
        d->used++;
    return 0;
}

int xt_cli_dedup_check(xt_cli_dedup *d, const xt_message *m, const char **err_detail)
{
    char key[160];
    int dup = 0, n = 0;

    if (!d || !m->from)
        return 0;
    /* The sender as the store keys every JID (outbox.h). */
    char *bare = xt_cli_bare(m->from, NULL);
    if (!bare)
        return 0;

    const char *keys[3];
    char ikey[200];
    char idkey[200];
    if (m->origin_id && *m->origin_id && strlen(m->origin_id) < 128) {
        snprintf(key, sizeof key, "o:%s", m->origin_id);
        keys[n++] = key;
    }
    if (m->stanza_id && *m->stanza_id && strlen(m->stanza_id) < 128) {
        snprintf(idkey, sizeof idkey, "s:%s", m->stanza_id);
        keys[n++] = idkey;
    }
    /* Without an origin-id, the id and body tell copies apart that reach
     * us differently (a sender's message live with our server's
     * stanza-id, then from the archive; a carbon, then its archived
     * copy): the only key both copies are sure to share. */
    if (!m->origin_id && m->id && *m->id && strlen(m->id) < 128) {
        uint64_t h = fnv(0xcbf29ce484222325ULL, m->body ? m->body : "");
        snprintf(ikey, sizeof ikey, "i:%s:%016llx", m->id, (unsigned long long)h);
        keys[n++] = ikey;
    }
    for (int i = 0; i < n; i++) {
        int r = check_key(d, bare, keys[i]);
        if (r < 0 && err_detail)
            *err_detail = d->st ? xt_store_errdetail(d->st) : "out of memory";
        if (r == 1)
            dup = 1;
    }
    free(bare);
    return dup;
}

int xt_cli_dedup_own(xt_cli_dedup *d, const char *id)
{
    char key[160];
    if (!d || !id || strlen(id) >= 128)
        return 0;
    /* The same key dedup_check makes for a message from our account. */
    snprintf(key, sizeof key, "o:%s", id);
    int r = check_key(d, d->account, key);
    return r < 0 ? r : 0;
}
