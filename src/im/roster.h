/*
 * im/roster.h -- the roster (RFC 6121 §2), internal.
 *
 * Items in server order; a roster result replaces the whole list
 * (§2.1.4), a push adds, updates or removes one item (§2.1.6). Roster
 * versioning (§2.6) is not used: we never send 'ver', so every result
 * carries the full roster.
 *
 * Bounded (issue 12): at most XT_ROSTER_MAX items; a result's items past
 * it are skipped (and logged by the caller), a push adding one more is
 * refused with XT_ETOOBIG. Items are found by a hash index on the JID
 * (xt_roster_find), so a result costs O(items) and a push O(1), except
 * a removal, which keeps server order by a move costing O(items).
 */
#ifndef XT_IM_ROSTER_H
#define XT_IM_ROSTER_H

#include <stddef.h>

#include "im/index.h"
#include "xtalk/conn.h"

#define XT_NS_ROSTER "jabber:iq:roster"
#define XT_ROSTER_MAX 20000

typedef struct xt_roster_entry {
    xt_roster_item view; /* what the API hands out; points at the fields below */
    char *jid;
    char *name;
    char **groups;
    size_t ngroups;
} xt_roster_entry;

typedef struct xt_roster {
    xt_roster_entry *v;
    size_t n, cap;
    size_t skipped; /* items the last result had past XT_ROSTER_MAX */
    xt_index ix;    /* jid -> position in v */
    int loaded;
    xt_roster_entry removed; /* the last removed item, for its event */
    const xt_mem *mem;
} xt_roster;

void xt_roster_init(xt_roster *r, const xt_mem *mem);
void xt_roster_free(xt_roster *r);

/*
 * Parses one <item/>: 0 and *e (free with xt_roster_entry_free), XT_EJID
 * for an item without a valid jid (to be skipped), XT_ENOMEM.
 * subscription is normalized to none/to/from/both/remove, ask to
 * "subscribe" or NULL.
 */
int xt_roster_parse_item(const xt_mem *mem, const xt_stanza *item, xt_roster_entry *e);
void xt_roster_entry_free(const xt_mem *mem, xt_roster_entry *e);

/* A roster result's <query/> (NULL = empty roster) replaces everything.
 * On XT_ENOMEM the old roster is kept. */
int xt_roster_replace(xt_roster *r, const xt_stanza *query);

/* The position of the item for the (normalized bare) jid, or
 * XT_INDEX_NONE. */
size_t xt_roster_find(const xt_roster *r, const char *jid);

/* Applies a pushed item, taking ownership of *e. *view is the stored
 * item (or the removed one, with subscription "remove"); valid until the
 * next change. 0, XT_ETOOBIG (a new item past XT_ROSTER_MAX) or XT_ENOMEM
 * (e is freed either way). */
int xt_roster_apply(xt_roster *r, xt_roster_entry *e, const xt_roster_item **view);

#endif
