/* Priming the conn from the store and recording what it learns; see sync.h. */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xtalk/disco.h"
#include "xtalk/mam.h"

/* The caps cache primed at start: the most recently seen ones. */
#define CAPS_PRIME 512

static int prime_caps(const char *ver, const char *const *features, size_t n, void *ud)
{
    return xt_conn_caps_add(ud, ver, features, n) == XT_ENOMEM;
}

void xt_cli_sync_prime(xt_conn *c, xt_store *st, const char *account)
{
    if (!st)
        return;
    char *pos = NULL;
    if (xt_store_archive_pos_get(st, account, NULL, &pos) == 0 && pos)
        (void)xt_conn_set_archive_position(c, pos);
    free(pos);
    (void)xt_store_caps_list(st, CAPS_PRIME, prime_caps, c);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes the conn's position when it moved: once per archive page, and
 * per live message carrying an archive id. Another xtalk of this account
 * (a listen beside a chat) writes it too: each write carries its place in
 * archive order, and the store keeps the newest. A live id has no
 * archive stamp: it is newer than anything archived before it arrived,
 * and now is when it arrived. */
static void save_position(xt_conn *c, xt_store *st, const char *account)
{
    const char *pos = xt_conn_archive_position(c);
    int64_t order = xt_conn_archive_position_ms(c);
    if (pos)
        (void)xt_store_archive_pos_advance(st, account, NULL, pos, order > 0 ? order : now_ms());
}

void xt_cli_sync_event(xt_conn *c, xt_store *st, const char *account, const xt_event *ev)
{
    if (!st)
        return;
    switch (ev->type) {
    case XT_EV_CAPS:
        if (ev->u.caps->fresh)
            (void)xt_store_caps_set(st, ev->u.caps->ver, ev->u.caps->features,
                                    ev->u.caps->nfeatures, now_ms());
        break;
    case XT_EV_ARCHIVE:
        if (ev->u.archive->tag == 0)
            save_position(c, st, account);
        break;
    case XT_EV_ACKED: {
        /* Our own message, now on the server: its archived copy (or its
         * carbon on a device of ours) is not news to this installation.
         * Keyed as dedup.h keys a message from our own account. */
        char key[160];
        if (strlen(ev->u.acked.id) < 128) {
            snprintf(key, sizeof key, "o:%s", ev->u.acked.id);
            (void)xt_seen_check_add(st, account, account, key, now_ms());
        }
        break;
    }
    case XT_EV_MESSAGE:
        /* Archive results are saved by the page (above), not one by one. */
        if (ev->u.message.source != XT_SRC_ARCHIVE && ev->u.message.stanza_id)
            save_position(c, st, account);
        break;
    default:
        break;
    }
}
