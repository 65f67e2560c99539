/*
 * xml/known.h -- the names and namespaces every received stanza repeats
 * (internal), as small integers for the layers above.
 *
 * Invariant (stanza.c): in every tree, built by the parser or through the
 * API, an element name, namespace or attribute name equal to one of
 * these strings is that entry's shared constant, not a copy, and the
 * element carries the ids of its name and namespace. So comparing ids is
 * exactly comparing strings, without the strcmp: the receive path
 * (tests/perf, issue 14) tests each child of a message against a dozen
 * namespaces in several places. A name not in the table is XT_K_NONE,
 * and then only a string comparison can tell.
 */
#ifndef XT_XML_KNOWN_H
#define XT_XML_KNOWN_H

#include "xtalk/stanza.h"

typedef enum xt_known {
    XT_K_NONE = 0, /* not in the table */
    XT_K_X,
    XT_K_C,
    XT_K_A,
    XT_K_H,
    XT_K_R,
    XT_K_IQ,
    XT_K_TO,
    XT_K_ID,
    XT_K_BY,
    XT_K_JID,
    XT_K_VER,
    XT_K_BODY,
    XT_K_FROM,
    XT_K_TYPE,
    XT_K_GONE,
    XT_K_ITEM,
    XT_K_SHOW,
    XT_K_NAME,
    XT_K_NODE,
    XT_K_HASH,
    XT_K_CODE,
    XT_K_NICK,
    XT_K_ROLE,
    XT_K_SENT,
    XT_K_DELAY,
    XT_K_QUERY,
    XT_K_STAMP,
    XT_K_STORE,
    XT_K_ERROR,
    XT_K_EVENT,
    XT_K_ACTIVE,
    XT_K_PAUSED,
    XT_K_THREAD,
    XT_K_STATUS,
    XT_K_RESULT,
    XT_K_REASON,
    XT_K_REPLACE,
    XT_K_RETRACT,
    XT_K_MESSAGE,
    XT_K_SUBJECT,
    XT_K_REQUEST,
    XT_K_PRESENCE,
    XT_K_INACTIVE,
    XT_K_RECEIVED,
    XT_K_PRIORITY,
    XT_K_MARKABLE,
    XT_K_NO_STORE,
    XT_K_XML_LANG,
    XT_K_APPLY_TO,
    XT_K_COMPOSING,
    XT_K_ORIGIN_ID,
    XT_K_STANZA_ID,
    XT_K_FORWARDED,
    XT_K_DISPLAYED,
    XT_K_REACTIONS,
    XT_K_AFFILIATION,
    XT_K_SUBSCRIPTION,
    XT_K_NS_CLIENT,
    XT_K_NS_STREAMS,
    XT_K_NS_SID,
    XT_K_NS_DELAY,
    XT_K_NS_MAM,
    XT_K_NS_HINTS,
    XT_K_NS_SM,
    XT_K_NS_ROSTER,
    XT_K_NS_RECEIPTS,
    XT_K_NS_CARBONS,
    XT_K_NS_FORWARD,
    XT_K_NS_FASTEN,
    XT_K_NS_REACTIONS,
    XT_K_NS_MARKERS,
    XT_K_NS_CORRECT,
    XT_K_NS_RETRACT,
    XT_K_NS_CAPS,
    XT_K_NS_MUC_USER,
    XT_K_NS_CHATSTATES,
    XT_K_NS_PUBSUB_EVENT,
    XT_K_COUNT
} xt_known;

/* The string of id k (NULL for XT_K_NONE). */
const char *xt_known_str(xt_known k);
/* The ids of st's name and namespace (XT_K_NONE when not in the table). */
xt_known xt_stanza_name_k(const xt_stanza *st);
xt_known xt_stanza_ns_k(const xt_stanza *st);
/* xt_stanza_attr for a name in the table: the first attribute of that
 * name, or NULL. */
const char *xt_stanza_attr_k(const xt_stanza *st, xt_known k);

#endif
