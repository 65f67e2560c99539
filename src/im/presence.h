/*
 * im/presence.h -- who is online (RFC 6121 §4), internal.
 *
 * One entry per available full JID, grouped by bare JID (a "contact"),
 * with its show, status and priority. Unavailable presence removes the
 * entry (§4.5.3); presence from a bare JID (no resource) applies to
 * every resource of that bare JID when unavailable.
 *
 * What may enter is the caller's decision (conn_presence.c stores only
 * roster contacts and our own account, issue 12 item 7); the table
 * itself is bounded whatever the caller does:
 *   - XT_PRESENCE_MAX_RESOURCES available resources per bare JID (a new
 *     one beyond it is refused with XT_ETOOBIG; updates still apply);
 *   - XT_PRESENCE_MAX_TOTAL entries in all (XT_ETOOBIG likewise);
 *   - a status text is cut to XT_PRESENCE_MAX_STATUS bytes (at a UTF-8
 *     character boundary).
 * Contacts are found by a hash index on the bare JID, resources by a
 * scan of at most XT_PRESENCE_MAX_RESOURCES: each presence costs O(1)
 * table work (plus its strings), never a scan of the table.
 */
#ifndef XT_IM_PRESENCE_H
#define XT_IM_PRESENCE_H

#include <stddef.h>

#include "im/index.h"
#include "xtalk/conn.h"

#define XT_PRESENCE_MAX_RESOURCES 64
#define XT_PRESENCE_MAX_TOTAL 50000
#define XT_PRESENCE_MAX_STATUS 1024

typedef struct xt_pres_entry {
    xt_presence view; /* points at the fields below (show is static) */
    char *full;
    char *status;
} xt_pres_entry;

/* The available resources of one bare JID (never empty in the table). */
typedef struct xt_pres_contact {
    char *bare;
    xt_pres_entry *res;
    size_t n, cap;
} xt_pres_contact;

typedef struct xt_presence_table {
    xt_pres_contact *v; /* unordered: a removal moves the last one in */
    size_t n, cap;
    size_t total; /* entries over all contacts */
    xt_index ix;  /* bare JID -> position in v */
    const xt_mem *mem;
} xt_presence_table;

void xt_presence_init(xt_presence_table *t, const xt_mem *mem);
void xt_presence_free(xt_presence_table *t);
/* Forgets everything (the stream ended: presence is stale). */
void xt_presence_clear(xt_presence_table *t);
/* Adds or updates an available resource. show: NULL or a static string.
 * 0, XT_ETOOBIG (a limit above: nothing stored) or XT_ENOMEM (the table
 * is unchanged then). */
int xt_presence_set(xt_presence_table *t, const char *bare, const char *full, const char *show,
                    const char *status, int priority);
/* Removes full (or, with full NULL, every resource of bare). */
void xt_presence_remove(xt_presence_table *t, const char *bare, const char *full);
size_t xt_presence_count(const xt_presence_table *t, const char *bare);
const xt_presence *xt_presence_at(const xt_presence_table *t, const char *bare, size_t i);

/* RFC 6121 §4.7.2.1: show values; anything else is NULL (available). */
const char *xt_presence_norm_show(const char *show);
/* A copy of status cut to XT_PRESENCE_MAX_STATUS bytes at a character
 * boundary (the text is valid UTF-8: the parser checked it), as the
 * roster's and the rooms' presence tables keep it. NULL: no memory. */
char *xt_presence_status_copy(const xt_mem *mem, const char *status);
/* §4.7.2.3: priority is -128..127; missing or bad = 0. */
int xt_presence_parse_priority(const char *s);

#endif
