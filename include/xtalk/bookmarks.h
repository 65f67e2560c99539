/*
 * xtalk/bookmarks.h -- the account's group chat bookmarks: XEP-0402
 * (PEP Native Bookmarks, node urn:xmpp:bookmarks:1, one item per room
 * keyed by the room's bare JID) where the server keeps them in sync with
 * the older store, else XEP-0048 bookmarks in XEP-0049 private XML
 * storage.
 *
 * Which store: XEP-0402 §3 has a client use PEP bookmarks only when the
 * account advertises "urn:xmpp:bookmarks:1#compat" (the server then
 * mirrors them into private storage for clients that know only
 * XEP-0048); without it every client of the account must share the
 * XEP-0048 copy, so we read and write that one. The account's disco#info
 * fetched at login answers (xt_conn_account_info); when it has not
 * arrived yet each call asks for it first.
 *
 * Passwords: a bookmark may carry a room password. The library keeps it
 * where it found it (a private-storage rewrite copies every element it
 * does not change) and hands it to the application in xt_bookmark; it is
 * a secret: never log it, never print it (xtalk shows only whether one
 * is set).
 *
 * Lifetimes: the list handed to a callback, and every string in it, are
 * valid during the call only.
 */
#ifndef XTALK_BOOKMARKS_H
#define XTALK_BOOKMARKS_H

#include "common.h"
#include "conn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XT_NS_BOOKMARKS        "urn:xmpp:bookmarks:1"
#define XT_NS_BOOKMARKS_COMPAT "urn:xmpp:bookmarks:1#compat"
#define XT_NS_BOOKMARKS_LEGACY "storage:bookmarks" /* XEP-0048 */
#define XT_NS_PRIVATE          "jabber:iq:private" /* XEP-0049 */

typedef enum xt_bookmark_store {
    XT_BOOKMARKS_PEP = 1,     /* XEP-0402 */
    XT_BOOKMARKS_PRIVATE = 2, /* XEP-0048 in XEP-0049 storage */
} xt_bookmark_store;

typedef struct xt_bookmark {
    const char *room;     /* the room's bare JID (required) */
    const char *name;     /* NULL = none */
    const char *nick;     /* NULL = none */
    const char *password; /* NULL = none; a secret (see above) */
    int autojoin;         /* 1: join at start */
} xt_bookmark;

typedef struct xt_bookmark_list {
    xt_bookmark_store store;  /* the store that answered */
    const xt_bookmark *items; /* in the store's order; NULL when n is 0 */
    size_t n;
} xt_bookmark_list;

/* Called exactly once per accepted call (not after xt_conn_free). status
 * 0: list is the account's bookmarks (xt_bookmarks_fetch) or empty with
 * only its store set (set, remove). Otherwise list is NULL and status is
 * XT_ESTANZA (the server refused), XT_EPROTO (an answer without the
 * expected payload), XT_ENOTFOUND (remove: no bookmark for that room),
 * XT_ETIMEOUT, XT_ECLOSED or XT_ENOMEM. */
typedef void (*xt_bookmarks_fn)(xt_conn *c, int status, const xt_bookmark_list *list, void *ud);

/* Fetches every bookmark. A store that holds none yet is an empty list
 * (XEP-0402's node missing answers item-not-found). 0; XT_EINVAL,
 * XT_ESTATE (not online), XT_ENOMEM. */
XT_EXTERN int xt_bookmarks_fetch(xt_conn *c, xt_bookmarks_fn cb, void *ud);

/* Adds b, or replaces the bookmark of the same room whole (its strings
 * are copied at the call). In PEP it is published with the
 * publish-options XEP-0402 §3.3 requires (persistent, whitelist access,
 * no last item sent); in private storage the whole list is read and
 * written back with only that room's <conference/> changed. 0; XT_EINVAL
 * (NULL, a room that is not a bare JID, text that is not XML-safe),
 * XT_ESTATE, XT_ENOMEM. */
XT_EXTERN int xt_bookmarks_set(xt_conn *c, const xt_bookmark *b, xt_bookmarks_fn cb, void *ud);

/* Removes the bookmark of room (a bare JID): XEP-0402 §3.4 retract with
 * notify, or private storage written back without it. XT_ENOTFOUND
 * reaches cb when there was none. As xt_bookmarks_set for the rest. */
XT_EXTERN int xt_bookmarks_remove(xt_conn *c, const char *room, xt_bookmarks_fn cb, void *ud);

/* "pep" / "private" (JSON and logs); "" for other values. */
XT_EXTERN const char *xt_bookmark_store_name(xt_bookmark_store s);

#ifdef __cplusplus
}
#endif
#endif
