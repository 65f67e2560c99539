/*
 * XEP-0313 §6 room archives, the group chat side: a result fetched from
 * a room's archive (xt_mam_fetch with .archive, mam.c) is a groupchat
 * message of that room, and the same message may also arrive live (a
 * message sent while the catch-up runs) or in an overlapping page. The
 * room's stanza-id (XEP-0359, 'by' the room: the archive id of a room
 * result, §6) is the one key all copies share: each room remembers the
 * ids it delivered (muc.c's seen ring, also fed by live messages), and a
 * copy whose id it holds is dropped, so a catch-up shows each message
 * exactly once whichever copy came first.
 */
#include <string.h>

#include "im/conn_int.h"
#include "im/muc_int.h"

int xt_muc_on_archived(xt_conn *c, xt_message *m)
{
    if (!c->muc.n || !m->stanza_id_by)
        return 0;
    xt_muc_gc(c);
    xt_muc_room *r = xt_muc_lookup(c, m->stanza_id_by);
    if (!r)
        return 0; /* not in that room: an archive read, no room fields */
    /* §6: results carry the occupant JID room/nick as 'from'. */
    const char *slash = m->from ? strchr(m->from, '/') : NULL;
    m->room = r->jid;
    m->nick = slash && slash[1] ? slash + 1 : NULL;
    if (m->stanza_id) {
        int seen = xt_muc_seen(c, r, m->stanza_id);
        if (seen)
            return seen < 0 ? seen : 1;
    }
    m->from_self = m->nick && strcmp(m->nick, r->nick) == 0;
    m->mention = !m->from_self && m->body && xt_muc_mentions(m->body, r->nick);
    return 0;
}
