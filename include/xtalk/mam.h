/*
 * xtalk/mam.h -- XEP-0313 Message Archive Management (with XEP-0059
 * result set paging and XEP-0359 stanza ids) and XEP-0280 carbons state.
 *
 * Catch-up. When our account's (or the server's) disco#info lists
 * urn:xmpp:mam:2, every new
 * session (a first login, a reconnect, a failed XEP-0198 resumption; not
 * a successful resumption, which lost nothing) fetches from our archive
 * what came after the archive position, page by page, forward: each
 * message is an XT_EV_MESSAGE with source XT_SRC_ARCHIVE (direction out
 * for what this account sent from anywhere), in archive order; one
 * XT_EV_ARCHIVE per page and one with done=1 at the end. The position is
 * the newest archive id (xt_message.stanza_id) the conn has seen: give
 * it the one kept from last run (xt_conn_set_archive_position, e.g. from
 * xt_store_archive_pos_get) and it keeps it current. Without one (a
 * first run), or when the server no longer has it, the catch-up is the
 * newest window of messages only (xt_conn_set_archive_window; default
 * 50), not the whole archive. XT_CONN_NO_ARCHIVE_CATCHUP turns it off.
 *
 * The same message may reach the application from several places (live,
 * a carbon, offline storage, the archive): xt_message.stanza_id /
 * origin_id tell the copies apart (see xt_store_message_seen for a
 * deduplication by them). Memory does not grow with the archive: each
 * result is handed over as it arrives and forgotten.
 */
#ifndef XTALK_MAM_H
#define XTALK_MAM_H

#include "common.h"
#include "conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XT_EV_ARCHIVE: progress of a catch-up or an xt_mam_fetch. */
typedef struct xt_archive_event {
    int tag;      /* xt_mam_fetch's return value; 0 for the login catch-up */
    int done;     /* 0: a page arrived; 1: the fetch ended (status says how) */
    int status;   /* when done: 0, or XT_ESTANZA / XT_ETIMEOUT / XT_ECLOSED / XT_EPROTO */
    int complete; /* when done: 1 when the archive has nothing more that way */
    size_t count; /* messages delivered by this fetch so far */
    const char *first_id, *last_id; /* archive ids of the last page's ends; NULL if empty */
} xt_archive_event;

typedef struct xt_mam_query {
    const char *with;  /* one conversation (a bare JID), NULL = every one */
    const char *start; /* XEP-0082 DateTimes bounding the stamps; NULL = open */
    const char *end;
    /* Where to start: after_id pages forward from that archive id (older
     * to newer); before_id pages backward from it ("" = from the newest),
     * each page in archive order, pages newest first. Neither: forward
     * from the oldest. */
    const char *after_id;
    const char *before_id;
    uint32_t page_size; /* messages per page (RSM <max/>), 0 = 50 */
    uint32_t max_total; /* stop after this many, 0 = until the archive ends */
    /* Whose archive: NULL = our own; a room's bare JID = that room's
     * (XEP-0313 §6 on a XEP-0045 room: queried at the room, its results
     * come from it). Room results are XT_EV_MESSAGE with .room and .nick
     * set when we are in the room, and a result the room delivered
     * before (its stanza-id seen live or in an earlier page) is not
     * delivered again. */
    const char *archive;
} xt_mam_query;

/* Fetches from our archive (XEP-0313 §4), or a room's (q->archive), as q
 * says; the messages come as XT_EV_MESSAGE (source archive), the progress
 * as XT_EV_ARCHIVE with the returned tag. Returns a tag > 0; XT_EINVAL
 * (both after and before, a text that is not XML-safe), XT_EJID (with,
 * archive not a bare JID), XT_ESTATE (not online), XT_EUNSUPPORTED (our
 * own archive, and neither the account's nor the server's disco#info
 * lists urn:xmpp:mam:2, or they have not arrived yet: wait for
 * XT_EV_SERVER_INFO; a room's says so in its own, xt_muc_room_info),
 * XT_ENOMEM. */
XT_EXTERN int xt_mam_fetch(xt_conn *c, const xt_mam_query *q);

/* The catch-up point (an archive id; NULL = none). Copied. Takes effect
 * at the next catch-up. 0; XT_EINVAL (c NULL, id not XML-safe or longer
 * than 255), XT_ENOMEM. */
XT_EXTERN int xt_conn_set_archive_position(xt_conn *c, const char *archive_id);
/* The newest archive id seen (results and live messages alike; during a
 * catch-up, its own results only), NULL when none. Valid until the conn
 * changes. */
XT_EXTERN const char *xt_conn_archive_position(const xt_conn *c);
/* How many of the newest messages a catch-up without a position fetches
 * (1..1000; default 50). 0; XT_EINVAL. */
XT_EXTERN int xt_conn_set_archive_window(xt_conn *c, uint32_t n);

/* 1 while XEP-0280 carbons are enabled on this session. */
XT_EXTERN int xt_conn_carbons_enabled(const xt_conn *c);

#ifdef __cplusplus
}
#endif
#endif
