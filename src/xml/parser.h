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
/*
 * A callback returning non-zero stops parsing: xt_parser_feed returns that
 * value at once, without parsing the rest of its input (see
 * xt_parser_consumed), and every later feed returns XT_ESTATE until
 * xt_parser_reset. The core uses this after <proceed/> (the bytes that
 * follow belong to TLS) and for its own errors.
 *
 * Callbacks must not call xt_parser_reset (it returns XT_ESTATE) or
 * xt_parser_feed (XT_ESTATE) on the parser that called them: set a flag
 * and reset after xt_parser_feed returns. xt_parser_free from a callback
 * is tolerated: the free is deferred until parsing unwinds, and the
 * xt_parser_feed that was running returns XT_ECANCELED.
 */

typedef struct xt_parser_limits {
    size_t max_stanza;     /* bytes of one top-level child; 0 = 1 MiB */
    unsigned max_depth;    /* element depth below the stream element; 0 = 64 */
    unsigned max_attrs;    /* attributes of one element; 0 = 64 */
    unsigned max_children; /* child elements of one element; 0 = 16384 */
} xt_parser_limits;
/*
 * Besides these, each top-level child may hold at most 65,536 elements,
 * 131,072 attributes and 65,536 text runs, and its tree may take at most
 * 4 times the bytes received of it plus 64 KiB; expat's own heap at most
 * 3 times the bytes of the unit in progress plus 256 KiB (a start tag of
 * countless tiny attributes is refused before expat builds its tables).
 * Over any limit: XT_ETOOBIG, "policy-violation", the limit in the detail.
 */

/*
 * NULL on allocation failure. `mem` (NULL = C library) serves every
 * allocation, expat's included; it is copied. `limits` may be NULL.
 */
xt_parser *xt_parser_new(const xt_mem *mem, const xt_parser_callbacks *cb, void *ud,
                         const xt_parser_limits *limits);
void xt_parser_free(xt_parser *p);

/*
 * Feeds bytes. Returns 0, a callback's non-zero value, or XT_EXML /
 * XT_ETOOBIG / XT_ENOMEM. After an error the parser stays failed (every
 * further feed returns the same error) until xt_parser_reset.
 *
 * Size limit: the bytes of one top-level child, from its '<' to the end
 * of its end tag, may be at most max_stanza; input is handed to expat only
 * up to that bound, so a huge text run or attribute is refused (XT_ETOOBIG,
 * "policy-violation") without being buffered. The same bound applies to
 * the bytes before the stream header and to any run not yet reported
 * between stanzas. Whitespace between top-level children (keepalives,
 * RFC 6120 §4.6.1) is ignored; other text there fails with "bad-format".
 * A leading UTF-8 BOM is accepted and skipped (expat's behaviour; RFC 6120
 * §11.6 forbids sending one, we are liberal in receiving it).
 *
 * Latency: every complete construct is reported within the feed that
 * completes it, except a single start tag larger than 16 KiB, during which
 * expat's reparse deferral is on (to keep a trickled huge tag from costing
 * quadratic CPU): its end may then wait for more input.
 */
int xt_parser_feed(xt_parser *p, const char *data, size_t len);

/*
 * Bytes of the last xt_parser_feed's input that were parsed: all of them
 * after a 0 return; after a callback stopped parsing, the offset just past
 * the construct whose callback stopped it (e.g. the end of <proceed/>), so
 * the caller can hand data[consumed..len) to whoever comes next; after an
 * error, how far parsing got (informative only).
 */
size_t xt_parser_consumed(const xt_parser *p);

/*
 * The RFC 6120 §4.9.3 stream error condition for the last failure:
 * "restricted-xml" (comment, PI, DTD, entity reference other than the five
 * predefined), "not-well-formed", "invalid-namespace" (stream element not
 * {http://etherx.jabber.org/streams}stream), "unsupported-encoding"
 * (declared encoding other than UTF-8, or invalid UTF-8 bytes),
 * "unsupported-version" (XML declaration version other than 1.0),
 * "bad-format" (non-whitespace text between top-level children),
 * "policy-violation" (size/depth limits), "resource-constraint" (ENOMEM),
 * or NULL when none. A static string.
 */
const char *xt_parser_condition(const xt_parser *p);
/* Human-readable detail of the last failure (e.g. "comment at line 1, column 200"), or "". */
const char *xt_parser_detail(const xt_parser *p);

/*
 * Idle connections: drops expat's state (some 10 KiB: its buffers, the
 * names it interned, the stream's namespace bindings) and the text
 * scratch when the parser sits between two top-level children with no
 * partial input. The next xt_parser_feed makes a new expat and primes it
 * with the stream element's start tag as received (so the same namespace
 * bindings; no callback runs), so parsing goes on unchanged; only
 * line and column numbers in later error details count from the resume
 * point. Returns 1 when suspended, 0 when not possible now (inside a
 * callback, mid-stanza, failed, before the stream opened, suspended
 * already). An allocation failure at the resume is the feed's XT_ENOMEM.
 */
int xt_parser_suspend(xt_parser *p);

/* Starts a new stream on the same object (RFC 6120 §4.3.3 stream restart
 * after STARTTLS and SASL): drops any partial stanza and buffered input,
 * clears the error. Returns 0, XT_ENOMEM (the parser is then failed) or
 * XT_ESTATE when called from one of its callbacks. */
int xt_parser_reset(xt_parser *p);

#endif
