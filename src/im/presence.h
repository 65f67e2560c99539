/*
 * im/presence.h -- who is online (RFC 6121 §4), internal.
 *
 * One entry per available full JID (contacts and our own other
 * resources), with its show, status and priority. Unavailable presence
 * removes the entry (§4.5.3); presence from a bare JID (no resource)
 * applies to every resource of that bare JID when unavailable.
 */
#ifndef XT_IM_PRESENCE_H
#define XT_IM_PRESENCE_H

#include <stddef.h>

#include "xtalk/conn.h"

typedef struct xt_pres_entry {
    xt_presence view; /* points at the fields below (show is static) */
    char *bare;
    char *full;
    char *status;
} xt_pres_entry;

typedef struct xt_presence_table {
    xt_pres_entry *v;
    size_t n, cap;
    const xt_mem *mem;
} xt_presence_table;

void xt_presence_init(xt_presence_table *t, const xt_mem *mem);
void xt_presence_free(xt_presence_table *t);
/* Forgets everything (the stream ended: presence is stale). */
void xt_presence_clear(xt_presence_table *t);
/* Adds or updates an available resource. show: NULL or a static string.
 * 0 or XT_ENOMEM (the table is unchanged then). */
int xt_presence_set(xt_presence_table *t, const char *bare, const char *full, const char *show,
                    const char *status, int priority);
/* Removes full (or, with full NULL, every resource of bare). */
void xt_presence_remove(xt_presence_table *t, const char *bare, const char *full);
size_t xt_presence_count(const xt_presence_table *t, const char *bare);
const xt_presence *xt_presence_at(const xt_presence_table *t, const char *bare, size_t i);

/* RFC 6121 §4.7.2.1: show values; anything else is NULL (available). */
const char *xt_presence_norm_show(const char *show);
/* §4.7.2.3: priority is -128..127; missing or bad = 0. */
int xt_presence_parse_priority(const char *s);

#endif
