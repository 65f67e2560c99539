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
    int batched;      /* xt_cli_dedup_set_batched */
    int in_batch;     /* a relaxed store batch is open */
    int64_t batch_ms; /* the clock when it opened: one reading a burst */
    /* The last sender's full JID and its bare form as the store keys it:
     * a burst mostly comes from one sender, and preparing the JID
     * (PRECIS, IDNA) costs more than the rest of the check. */
    char *last_from, *last_bare;
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
    (void)xt_cli_dedup_end_burst(d, NULL);
    free(d->account);
    free(d->last_from);
    free(d->last_bare);
    free(d);
}

void xt_cli_dedup_set_batched(xt_cli_dedup *d, int on)
{
    if (d)
        d->batched = on;
}

int xt_cli_dedup_end_burst(xt_cli_dedup *d, const char **err_detail)
{
    if (!d || !d->in_batch)
        return 0;
    d->in_batch = 0;
    if (xt_store_commit(d->st) < 0) {
        if (err_detail)
            *err_detail = xt_store_errdetail(d->st);
        return -1;
    }
    return 0;
}

void xt_cli_dedup_abandon_burst(xt_cli_dedup *d)
{
    if (!d || !d->in_batch)
        return;
    d->in_batch = 0;
    (void)xt_store_rollback(d->st);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One key: 1 seen before, 0 new (recorded), < 0 store error. */
static int check_key(xt_cli_dedup *d, const char *sender, const char *key, int64_t now)
{
    if (d->st)
        return xt_seen_check_add(d->st, d->account, sender, key, now);
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

/* m->from's bare JID as the store keys it (outbox.h), cached. */
static const char *sender_bare(xt_cli_dedup *d, const char *from)
{
    if (d->last_from && strcmp(d->last_from, from) == 0)
        return d->last_bare;
    char *bare = xt_cli_bare(from, NULL);
    char *full = bare ? strdup(from) : NULL;
    if (!full) {
        free(bare);
        return NULL;
    }
    free(d->last_from);
    free(d->last_bare);
    d->last_from = full;
    d->last_bare = bare;
    return bare;
}

/* "p:" followed by the id (checked to be < 128 bytes) into key. */
static const char *make_key(char key[200], char prefix, const char *id, size_t len)
{
    key[0] = prefix;
    key[1] = ':';
    memcpy(key + 2, id, len + 1);
    return key;
}

int xt_cli_dedup_check(xt_cli_dedup *d, const xt_message *m, const char **err_detail)
{
    char okey[200], skey[200], ikey[200];
    const char *keys[2];
    int n = 0, dup = 0;
    size_t len;

    if (!d || !m->from)
        return 0;
    /* An origin-id travels with every copy of a message (a re-send, the
     * carbon, the offline and the archived copy carry the stanza whole):
     * it alone decides. Without one, the stanza-id our server stamped
     * ties a live copy to its archived one, and the id with a hash of
     * the body ties copies that reach us differently (a carbon, then its
     * archived copy; offline storage, then the archive): any key seen
     * before makes a repeat. */
    if (m->origin_id && (len = strlen(m->origin_id)) > 0 && len < 128) {
        keys[n++] = make_key(okey, 'o', m->origin_id, len);
    } else {
        if (m->stanza_id && (len = strlen(m->stanza_id)) > 0 && len < 128)
            keys[n++] = make_key(skey, 's', m->stanza_id, len);
        if (m->id && *m->id && strlen(m->id) < 128) {
            uint64_t h = fnv(0xcbf29ce484222325ULL, m->body ? m->body : "");
            snprintf(ikey, sizeof ikey, "i:%s:%016llx", m->id, (unsigned long long)h);
            keys[n++] = ikey;
        }
    }
    if (n == 0)
        return 0;
    const char *bare = sender_bare(d, m->from);
    if (!bare)
        return 0;
    /* The record's time only orders its expiry (14 days): the burst's
     * first reading serves the whole burst. */
    int64_t now = d->in_batch ? d->batch_ms : now_ms();
    if (d->st && d->batched && !d->in_batch && xt_store_begin_relaxed(d->st) == 0) {
        d->in_batch = 1; /* else: one transaction per record, as unbatched */
        d->batch_ms = now;
    }
    for (int i = 0; i < n; i++) {
        int r = check_key(d, bare, keys[i], now);
        if (r < 0 && err_detail)
            *err_detail = d->st ? xt_store_errdetail(d->st) : "out of memory";
        if (r == 1)
            dup = 1;
    }
    return dup;
}

int xt_cli_dedup_own(xt_cli_dedup *d, const char *id)
{
    char key[200];
    size_t len;
    if (!d || !id || (len = strlen(id)) == 0 || len >= 128)
        return 0;
    /* The same key dedup_check makes for a message from our account. */
    if (d->st && d->batched && !d->in_batch && xt_store_begin_relaxed(d->st) == 0)
        d->in_batch = 1;
    int r = check_key(d, d->account, make_key(key, 'o', id, len), now_ms());
    return r < 0 ? r : 0;
}
