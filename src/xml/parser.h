/*
 * xml/parser.h -- the XMPP stream parser (internal), on expat.
 *
 * Fed the raw bytes of one XML stream (any chunking, down to one byte at
 * a time), it reports the stream header, each complete top-level child
 * (a stanza or nonza, as an xt_stanza tree) and the end of the stream.
 * It enforces RFC 6120 §11: no comments, processing instructions, DTDs
 * or entity references other than the five predefined ones and character
 * references; UTF-8 only; XML 1.0 only; the stream element must be
 * {http://etherx.jabber.org/streams}stream under any prefix. It bounds the
 * size of each top-level child (bytes of input) and the element depth.
 */
#ifndef XT_XML_PARSER_H
#define XT_XML_PARSER_H

#include <stddef.h>

#include "xtalk/common.h"
#include "xtalk/stanza.h"

typedef struct xt_parser xt_parser;

typedef struct xt_parser_callbacks {
    /* The stream header arrived. `header` is a childless element holding
     * the header's attributes (from, to, id, version, xml:lang); it and its
     * strings are valid only during the call. The default namespace the
     * stream declared (e.g. "jabber:client") is `content_ns` ("" if none). */
    int (*stream_open)(void *ud, const xt_stanza *header, const char *content_ns);
    /* A complete top-level child. Ownership passes to the callback, which
     * must xt_stanza_free() it (now or later). */
    int (*stanza)(void *ud, xt_stanza *st);
    /* </stream:stream> arrived. */
    int (*stream_close)(void *ud);
} xt_parser_callbacks;
/* A callback returning non-zero stops parsing: xt_parser_feed returns that value. */

typedef struct xt_parser_limits {
    size_t max_stanza;  /* bytes of one top-level child; 0 = 1 MiB */
    unsigned max_depth; /* element depth below the stream element; 0 = 64 */
} xt_parser_limits;

/* NULL on allocation failure. */
xt_parser *xt_parser_new(const xt_mem *mem, const xt_parser_callbacks *cb, void *ud,
                         const xt_parser_limits *limits);
void xt_parser_free(xt_parser *p);

/*
 * Feeds bytes. Returns 0, a callback's non-zero value, or XT_EXML /
 * XT_ETOOBIG / XT_ENOMEM. After an error the parser stays failed (every
 * further feed returns the same error) until xt_parser_reset.
 */
int xt_parser_feed(xt_parser *p, const char *data, size_t len);

/*
 * The RFC 6120 §4.9.3 stream error condition for the last failure:
 * "restricted-xml", "not-well-formed", "invalid-namespace",
 * "unsupported-encoding", "unsupported-version", "policy-violation"
 * (size/depth limits), "resource-constraint" (ENOMEM), or NULL when none.
 */
const char *xt_parser_condition(const xt_parser *p);
/* Human-readable detail of the last failure (e.g. "comment at line 1, column 200"), or "". */
const char *xt_parser_detail(const xt_parser *p);

/* Starts a new stream on the same object (RFC 6120 §4.3.3 stream restart
 * after STARTTLS and SASL). Returns 0 or XT_ENOMEM. */
int xt_parser_reset(xt_parser *p);

#endif
