/*
 * The XMPP stream parser on expat. See xml/parser.h for the contract.
 *
 * Shape: expat runs with namespace processing ('|' separates URI and local
 * name, so namespaced attribute names arrive already in the "URI|local"
 * form xtalk/stanza.h uses). `level` counts open elements: 0 before the
 * stream element, 1 inside it, 2+ inside a top-level child, whose tree is
 * built in its own arena as expat reports it and handed over complete.
 *
 * Defences (RFC 6120 §11, §13.12):
 *  - every construct §11.1 restricts (comments, PIs, DOCTYPE, entity
 *    declarations and references) has a handler that stops the parser;
 *    parameter entities are never parsed, external entities never loaded;
 *  - input is validated as UTF-8 before expat sees it (§11.6), and the
 *    XML declaration must say version 1.0 (§11.8) and UTF-8 if anything;
 *  - bytes are handed to expat only up to the size bound of the unit in
 *    progress, so no token (text run, attribute, name) can grow expat's
 *    buffer past max_stanza; depth is bounded in the start handler.
 */
#include "xml/parser.h"

#include <expat.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "xml/stanza_int.h"
#include "xml/utf8.h"

#define XML_NS "http://www.w3.org/XML/1998/namespace"
#define DEFAULT_MAX_STANZA ((size_t)1 << 20)
#define DEFAULT_MAX_DEPTH 64u
/* Input goes to XML_Parse in slices of at most this. Expat copies each
 * slice into its own input buffer, which grows to twice the largest slice
 * plus the partial token carried over and never shrinks: fed a 16 KiB TLS
 * record at once it would keep 32 KiB for the connection's life, in
 * slices it stays at 2 to 4 KiB. */
#define FEED_SLICE ((size_t)2048)
/* Pending-text scratch above this is released after each stanza (a
 * large body does not leave an idle connection holding its size). */
#define TEXT_KEEP 1024u
/* A partial token (a start tag still open) above this size turns expat's
 * reparse deferral on; see setup_expat. */
#define DEFER_ABOVE ((uint64_t)16 * 1024)
/*
 * What one stanza may build (issue 12 items 1 and 6). A tree node costs
 * far more than its markup (`<a/>` is 4 bytes, its xt_stanza over 100),
 * so a stanza of tiny elements, attributes or text runs would build a
 * tree tens of times its size. So, besides the size and depth limits:
 *  - per element at most max_attrs attributes and max_children child
 *    elements (xt_parser_limits; text runs need no count of their own:
 *    adjacent text is one run, so there is at most one more run than
 *    child elements);
 *  - per top-level child at most STANZA_ELEMS elements, STANZA_ATTRS
 *    attributes and STANZA_TEXTS text runs;
 *  - the tree budget: the bytes the tree takes (each node, attribute
 *    slot and string, as stanza.c lays them out) may be at most
 *    TREE_RATIO times the bytes received of the stanza so far, plus
 *    TREE_SLACK, whatever its shape. Ordinary stanzas stay below it (a
 *    roster <item jid='juliet@example.com' subscription='both'/> of 56
 *    bytes takes 190), a flood of `<a/>` is stopped within TREE_SLACK.
 * Over any of them the stream fails with policy-violation (RFC 6120
 * §4.9.3.14) and a detail naming the limit. Expat's own heap is bounded
 * separately (EX_RATIO).
 */
#define TREE_RATIO           4u
#define TREE_SLACK           ((uint64_t)64 * 1024)
#define DEFAULT_MAX_ATTRS    64u
#define DEFAULT_MAX_CHILDREN 16384u
#define STANZA_ELEMS         65536u
#define STANZA_ATTRS         131072u
#define STANZA_TEXTS         65536u
/*
 * Linear parse time whatever the split (issue 12 item 5). Expat 2.5.0
 * (Debian 12) has no reparse deferral: each XML_Parse call rescans the
 * unfinished token it holds from its start, so a 128 KiB start tag fed
 * a byte at a time (1-byte TLS records) costs O(n^2), 11.6 s of CPU.
 * So once expat holds an unfinished token of HOLD_ABOVE bytes or more,
 * input that cannot finish it (our own small lexer, `lex`, says we are
 * still inside a tag) is held back here until it at least equals that
 * token's size: expat then rescans a token at most O(log n) times, each
 * rescan paid for by as many new bytes, O(n) in all. Input that may end
 * the tag is never held, so no complete stanza waits for more input.
 */
#define HOLD_ABOVE ((uint64_t)2048)
enum { LEX_CONTENT = 0, LEX_TAG, LEX_SQ, LEX_DQ };

struct xt_parser {
    xt_mem mem;
    int has_mem;
    XML_Parser xp;
    xt_parser_callbacks cb;
    void *ud;
    size_t max_stanza;
    unsigned max_depth;
    unsigned max_attrs;    /* per element */
    unsigned max_children; /* per element: elements and text runs */

    unsigned level;       /* open elements, the stream element included */
    uint64_t spent;       /* tree budget used by the top-level child in progress */
    uint32_t n_elems;     /* elements, attributes, text runs of it so far */
    uint32_t n_attrs;
    uint32_t n_text;
    uint32_t *kids; /* children so far of each open element, by level */
    size_t kids_cap;
    xt_buf hold;          /* input held back from expat (HOLD_ABOVE) */
    int lex;              /* LEX_*: where the input's end stands, for hold */
    xt_stanza *root;      /* top-level child being built, or NULL */
    xt_stanza *cur;       /* innermost open element of root */
    xt_buf text;          /* character data not yet attached to cur */
    char *content_ns;     /* default namespace declared on the stream element */
    /* The stream element's start tag, which puts a new expat in the same
     * namespace context: how an idle parser drops expat
     * (xt_parser_suspend) and comes back. */
    char *resume;         /* the stream element's start tag as received */
    size_t resume_len;
    int replaying;        /* feeding `resume` to a new expat */
    uint64_t xp_base;     /* stream offset of the current expat's byte 0 */

    /* Byte accounting, as offsets in the stream since the last reset. */
    uint64_t fed;         /* bytes handed to expat */
    uint64_t mark;        /* end of the last event at level <= 1: where the
                             unit (stanza, header) in progress began */
    uint64_t feed_base;   /* `fed` when the current xt_parser_feed began */
    uint64_t stop_end;    /* end of the event whose callback stopped us */
    uint64_t last_event;  /* end of the last event expat reported */
    int deferring;        /* expat's reparse deferral is on */
    size_t ex_live;       /* bytes expat holds (the ex_* hooks) */
    uint64_t ex_cap;      /* the most it may hold now; see EX_RATIO */
    size_t consumed;
    xt_utf8 u8;

    int err;              /* XT_E* once failed, else 0 */
    const char *cond;
    char detail[160];
    int stopped;          /* a callback returned cb_rc != 0 */
    int cb_rc;
    int in_cb;            /* inside a user callback */
    int free_pending;     /* xt_parser_free was called from a callback */
};

/* ---- expat allocations through xt_mem, counted ----
 * expat's memory suite passes no user data, so the parser whose expat is
 * running is put in a thread-local around each expat call that may
 * allocate, and each block remembers its parser and size in a small
 * header for realloc and free. The previous value is restored, so a
 * callback may drive another parser.
 *
 * The count bounds expat's own heap (issue 12 item 1): a start tag of
 * 100,000 tiny attributes costs expat some 90 bytes per attribute (its
 * attribute array, the namespace check's hash table, an interned id per
 * new name) before any handler of ours runs, so counting attributes in
 * on_start is too late. An allocation that would take expat past
 * ex_cap (set before each XML_Parse: EX_RATIO times the bytes of the
 * unit in progress, plus EX_SLACK for its tables and interned names) is
 * refused and the stream fails with policy-violation, not
 * resource-constraint: the peer caused it, the machine is fine. EX_RATIO
 * 3 is what expat's own input buffer needs for a legitimate large token
 * (it doubles, and holds old and new while copying). */
#define EX_RATIO 3u
#define EX_SLACK ((uint64_t)256 * 1024)
#define EX_HDR   (2 * _Alignof(max_align_t))
typedef struct ex_block {
    xt_parser *owner;
    size_t n;
} ex_block;
static _Thread_local xt_parser *tls_parser;
/* Set when one of expat's allocations failed during the current call:
 * expat does not always report that as XML_ERROR_NO_MEMORY (a failed
 * namespace binding can surface as "unbound prefix"), and an allocation
 * failure must be a resource-constraint, not blamed on the peer. */
static _Thread_local int tls_alloc_failed;
/* Set when an allocation was refused for going over ex_cap. */
static _Thread_local int tls_over_cap;

static const xt_mem *pmem(const xt_parser *p);

/* 1 when expat may grow by `more` bytes. */
static int ex_room(xt_parser *p, size_t more)
{
    if (p->ex_live + more <= p->ex_cap)
        return 1;
    tls_over_cap = 1;
    return 0;
}

static void *XMLCALL ex_malloc(size_t n)
{
    xt_parser *p = tls_parser;
    unsigned char *r = NULL;
    if (p && n <= SIZE_MAX - EX_HDR && ex_room(p, n))
        r = xt_malloc(pmem(p), n + EX_HDR);
    if (!r) {
        tls_alloc_failed = 1;
        return NULL;
    }
    ex_block b = {p, n};
    memcpy(r, &b, sizeof b);
    p->ex_live += n;
    return r + EX_HDR;
}

static void *XMLCALL ex_realloc(void *ptr, size_t n)
{
    if (!ptr)
        return ex_malloc(n);
    unsigned char *r = (unsigned char *)ptr - EX_HDR;
    ex_block b;
    memcpy(&b, r, sizeof b);
    if (n > b.n && !ex_room(b.owner, n - b.n))
        r = NULL;
    else
        r = n <= SIZE_MAX - EX_HDR ? xt_realloc(pmem(b.owner), r, n + EX_HDR) : NULL;
    if (!r) {
        tls_alloc_failed = 1;
        return NULL;
    }
    b.owner->ex_live = b.owner->ex_live - b.n + n;
    b.n = n;
    memcpy(r, &b, sizeof b);
    return r + EX_HDR;
}

static void XMLCALL ex_free(void *ptr)
{
    if (!ptr)
        return;
    unsigned char *r = (unsigned char *)ptr - EX_HDR;
    ex_block b;
    memcpy(&b, r, sizeof b);
    b.owner->ex_live -= b.n;
    xt_free(pmem(b.owner), r);
}

static const xt_mem *pmem(const xt_parser *p)
{
    return p->has_mem ? &p->mem : NULL;
}

typedef struct ex_saved {
    xt_parser *parser;
    int failed, over;
} ex_saved;

static ex_saved enter(xt_parser *p)
{
    ex_saved s = {tls_parser, tls_alloc_failed, tls_over_cap};
    tls_parser = p;
    tls_alloc_failed = 0;
    tls_over_cap = 0;
    return s;
}

static void leave(ex_saved s)
{
    tls_parser = s.parser;
    tls_alloc_failed = s.failed;
    tls_over_cap = s.over;
}

/* ---- failure ---- */

#define HALTED(p) ((p)->err || (p)->stopped || (p)->free_pending)

/* Records the first failure and stops expat (from inside a handler). */
static void fail(xt_parser *p, int err, const char *cond, const char *what)
{
    if (p->err)
        return;
    p->err = err;
    p->cond = cond;
    snprintf(p->detail, sizeof p->detail, "%s at line %lu, column %lu", what,
             (unsigned long)XML_GetCurrentLineNumber(p->xp),
             (unsigned long)XML_GetCurrentColumnNumber(p->xp));
    XML_StopParser(p->xp, XML_FALSE);
}

/* A failure found by xt_parser_feed itself, outside expat. */
static void fail_at(xt_parser *p, int err, const char *cond, const char *what, uint64_t off)
{
    if (p->err)
        return;
    p->err = err;
    p->cond = cond;
    snprintf(p->detail, sizeof p->detail, "%s at byte %llu of the stream", what,
             (unsigned long long)off);
}

static void nomem(xt_parser *p)
{
    fail(p, XT_ENOMEM, "resource-constraint", "out of memory");
}

/* expat refused the input: which §4.9.3 condition that is. */
static void map_expat_error(xt_parser *p)
{
    enum XML_Error code = XML_GetErrorCode(p->xp);
    int err = XT_EXML;
    const char *cond = "not-well-formed";
    switch (code) {
    case XML_ERROR_NO_MEMORY:
        err = XT_ENOMEM;
        cond = "resource-constraint";
        break;
    /* Entity references other than the five predefined (RFC 6120 §11.1):
     * without a DTD they are undefined, which expat reports itself. */
    case XML_ERROR_UNDEFINED_ENTITY:
    case XML_ERROR_RECURSIVE_ENTITY_REF:
    case XML_ERROR_BINARY_ENTITY_REF:
    case XML_ERROR_ATTRIBUTE_EXTERNAL_ENTITY_REF:
    case XML_ERROR_PARAM_ENTITY_REF:
    case XML_ERROR_EXTERNAL_ENTITY_HANDLING:
    case XML_ERROR_ENTITY_DECLARED_IN_PE:
    case XML_ERROR_NOT_STANDALONE:
    case XML_ERROR_AMPLIFICATION_LIMIT_BREACH:
        cond = "restricted-xml";
        break;
    case XML_ERROR_UNKNOWN_ENCODING:
    case XML_ERROR_INCORRECT_ENCODING:
        cond = "unsupported-encoding";
        break;
    default:
        break;
    }
    p->err = err;
    p->cond = cond;
    snprintf(p->detail, sizeof p->detail, "%s at line %lu, column %lu", XML_ErrorString(code),
             (unsigned long)XML_GetCurrentLineNumber(p->xp),
             (unsigned long)XML_GetCurrentColumnNumber(p->xp));
}

static uint64_t event_end(const xt_parser *p)
{
    return p->xp_base + (uint64_t)XML_GetCurrentByteIndex(p->xp) +
           (uint64_t)XML_GetCurrentByteCount(p->xp);
}

/* After a user callback: a non-zero return stops parsing right after the
 * current event. */
static void after_callback(xt_parser *p, int rc)
{
    if (rc && !HALTED(p)) {
        p->stopped = 1;
        p->cb_rc = rc;
        p->stop_end = event_end(p);
        XML_StopParser(p->xp, XML_FALSE);
    }
}

/* ---- tree building ---- */

/* Attributes from expat ("local", "URI|local") into the API's names:
 * the XML namespace becomes the predeclared "xml:" prefix. */
static int add_attrs(xt_stanza *e, const XML_Char **atts, size_t nattrs, uint64_t *bytes)
{
    if (xt_stanza_reserve_attrs(e, nattrs))
        return XT_ENOMEM;
    for (size_t i = 0; i < 2 * nattrs; i += 2) {
        const char *name = atts[i];
        /* One strlen per name, no strrchr (the receive hot path): only
         * the XML namespace's names change form, and expat's "URI|local"
         * is theirs when the URI is XML_NS exactly (the local part, an
         * NCName, has no '|'; expat refuses a URI holding the separator,
         * the memchr only keeps this exact whatever it accepts). */
        size_t nlen = strlen(name);
        size_t vlen = strlen(atts[i + 1]);
        *bytes += vlen;
        int rc;
        const char *local = name + sizeof XML_NS;
        if (nlen >= sizeof XML_NS && local[-1] == '|' &&
            memcmp(name, XML_NS, sizeof XML_NS - 1) == 0 &&
            !memchr(local, '|', nlen - sizeof XML_NS)) {
            size_t llen = nlen - sizeof XML_NS;
            if (llen == 4 && memcmp(local, "lang", 4) == 0) {
                /* Not name_static: the tree's "xml:lang" is the shared
                 * constant of xml/known.h (its invariant). */
                rc = xt_stanza_push_attr(e, "xml:lang", 8, 0, atts[i + 1], vlen);
            } else {
                char *nm = xt_arena_alloc(e->tree, llen + 5, 1);
                if (!nm)
                    return XT_ENOMEM;
                memcpy(nm, "xml:", 4);
                memcpy(nm + 4, local, llen + 1);
                rc = xt_stanza_push_attr(e, nm, llen + 4, 1, atts[i + 1], vlen);
            }
        } else {
            *bytes += nlen;
            rc = xt_stanza_push_attr(e, name, nlen, 0, atts[i + 1], vlen);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Fails the stream for a limit of the tree (see TREE_RATIO). */
static void over_limit(xt_parser *p, const char *what, uint64_t got, uint64_t limit)
{
    char d[160];
    snprintf(d, sizeof d, "%s (%llu, limit %llu)", what, (unsigned long long)got,
             (unsigned long long)limit);
    fail(p, XT_ETOOBIG, "policy-violation", d);
}

/* Spends `cost` bytes of the tree budget. 0, or XT_ETOOBIG with the
 * parser failed. */
static int spend(xt_parser *p, uint64_t cost)
{
    p->spent += cost;
    uint64_t got = p->last_event - p->mark; /* bytes of this child so far */
    if (p->spent <= TREE_RATIO * got + TREE_SLACK)
        return 0;
    over_limit(p, "too many elements, attributes or text runs for the stanza's size: tree bytes",
               p->spent, TREE_RATIO * got + TREE_SLACK);
    return XT_ETOOBIG;
}

/* Attaches buffered character data to the open element: one copy per
 * text run however expat split it (entities, line ends, feed edges). */
static int flush_text(xt_parser *p)
{
    if (xt_buf_size(&p->text) == 0)
        return 0;
    if (++p->n_text > STANZA_TEXTS) {
        over_limit(p, "too many text runs in one stanza", p->n_text, STANZA_TEXTS);
        xt_buf_clear(&p->text);
        return XT_ETOOBIG;
    }
    if (spend(p, sizeof(xt_text) + 1 + xt_buf_size(&p->text))) {
        xt_buf_clear(&p->text);
        return XT_ETOOBIG;
    }
    int rc = xt_stanza_append_text(p->cur, (const char *)xt_buf_head(&p->text), xt_buf_size(&p->text));
    xt_buf_clear(&p->text);
    if (rc)
        nomem(p);
    return rc;
}

/* The largest stream start tag kept for xt_parser_suspend; a parser that
 * got a larger one never suspends. */
#define RESUME_MAX 4096

/* Keeps the stream element's start tag, as received, for resuming. 0 or
 * XT_ENOMEM; without expat's input context nothing is kept (no suspend). */
static int keep_start_tag(xt_parser *p)
{
    int off = 0, size = 0;
    const char *ctx = XML_GetInputContext(p->xp, &off, &size);
    int n = XML_GetCurrentByteCount(p->xp);
    if (!ctx || n <= 0 || n > RESUME_MAX || off < 0 || off > size || n > size - off)
        return 0;
    char *r = xt_malloc(pmem(p), (size_t)n);
    if (!r)
        return XT_ENOMEM;
    memcpy(r, ctx + off, (size_t)n);
    xt_free(pmem(p), p->resume);
    p->resume = r;
    p->resume_len = (size_t)n;
    return 0;
}

static void open_stream(xt_parser *p, const char *name, const char *local, size_t nslen,
                        const XML_Char **atts)
{
    /* RFC 6120 §4.8.1, §4.9.3.10: any prefix, but this namespace and name. */
    static const char streams[] = XT_NS_STREAMS;
    if (nslen != sizeof streams - 1 || memcmp(name, streams, nslen) != 0 ||
        strcmp(local, "stream") != 0) {
        fail(p, XT_EXML, "invalid-namespace",
             "root is not the stream element of http://etherx.jabber.org/streams");
        return;
    }
    xt_stanza *h = xt_stanza_new_root_n(pmem(p), "stream", 6, streams, nslen);
    uint64_t unused = 0;
    size_t nattrs = 0;
    while (atts[2 * nattrs])
        nattrs++;
    if (!h || add_attrs(h, atts, nattrs, &unused)) {
        xt_stanza_free(h);
        nomem(p);
        return;
    }
    if (keep_start_tag(p)) {
        xt_stanza_free(h);
        nomem(p);
        return;
    }
    p->level = 1;
    p->mark = event_end(p);
    int rc = 0;
    if (p->cb.stream_open) {
        p->in_cb++;
        rc = p->cb.stream_open(p->ud, h, p->content_ns ? p->content_ns : "");
        p->in_cb--;
    }
    xt_stanza_free(h);
    after_callback(p, rc);
}

/* ---- expat handlers ---- */

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xt_parser *p = ud;
    if (HALTED(p) || p->replaying)
        return; /* replaying: the stream element again, p->level stays 1 */
    p->last_event = event_end(p);
    const char *bar = strrchr(name, '|');
    const char *local = bar ? bar + 1 : name;
    size_t nslen = bar ? (size_t)(bar - name) : 0;
    if (p->level == 0) {
        open_stream(p, name, local, nslen, atts);
        return;
    }
    /* The new element's depth below the stream element is `level`. */
    if (p->level > p->max_depth) {
        fail(p, XT_ETOOBIG, "policy-violation", "elements nested too deep");
        return;
    }
    /* The per-kind limits, checked before anything is built. */
    size_t nattrs = 0;
    while (atts[2 * nattrs])
        nattrs++;
    if (p->level == 1) {
        p->spent = 0;
        p->n_elems = p->n_attrs = p->n_text = 0;
    }
    if (nattrs > p->max_attrs) {
        over_limit(p, "too many attributes on one element", nattrs, p->max_attrs);
        return;
    }
    if (++p->n_elems > STANZA_ELEMS) {
        over_limit(p, "too many elements in one stanza", p->n_elems, STANZA_ELEMS);
        return;
    }
    if ((p->n_attrs += (uint32_t)nattrs) > STANZA_ATTRS) {
        over_limit(p, "too many attributes in one stanza", p->n_attrs, STANZA_ATTRS);
        return;
    }
    /* kids[level] counts the children of the element at `level`, the
     * parent of this one (level 1 is the stream: not counted). */
    if ((size_t)p->level + 2 > p->kids_cap &&
        XT_GROW(pmem(p), p->kids, p->kids_cap, (size_t)p->level + 2, 8)) {
        nomem(p);
        return;
    }
    p->kids[p->level + 1] = 0;
    if (p->level > 1 && ++p->kids[p->level] > p->max_children) {
        over_limit(p, "too many child elements in one element", p->kids[p->level], p->max_children);
        return;
    }
    size_t llen = strlen(local);
    xt_stanza *e;
    if (p->level == 1) {
        e = p->root = xt_stanza_new_root_n(pmem(p), local, llen, name, nslen);
    } else {
        if (flush_text(p))
            return;
        e = xt_stanza_new_child_n(p->cur, local, llen, name, nslen);
    }
    /* The tree's cost as stanza.c lays it out (alignment aside): one
     * element's worth is at most what its start tag sent, times a
     * constant, so it is counted once built. */
    uint64_t cost = sizeof(xt_stanza) + llen + 1 + nattrs * (sizeof(xt_attr) + 2);
    if (!e || add_attrs(e, atts, nattrs, &cost)) {
        nomem(p);
        return;
    }
    p->cur = e;
    p->level++;
    (void)spend(p, cost);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    xt_parser *p = ud;
    (void)name; /* expat has already matched it to the start tag */
    if (HALTED(p) || p->level == 0)
        return;
    p->last_event = event_end(p);
    if (p->level == 1) {
        p->level = 0;
        p->mark = event_end(p);
        int rc = 0;
        if (p->cb.stream_close) {
            p->in_cb++;
            rc = p->cb.stream_close(p->ud);
            p->in_cb--;
        }
        after_callback(p, rc);
        return;
    }
    if (flush_text(p))
        return;
    p->level--;
    if (p->level > 1) {
        p->cur = p->cur->parent;
        return;
    }
    xt_stanza *st = p->root;
    p->root = p->cur = NULL;
    p->mark = event_end(p);
    if (p->text.cap > TEXT_KEEP)
        xt_buf_free(&p->text);
    int rc = 0;
    if (p->cb.stanza) {
        p->in_cb++;
        rc = p->cb.stanza(p->ud, st);
        p->in_cb--;
    } else {
        xt_stanza_free(st);
    }
    after_callback(p, rc);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    xt_parser *p = ud;
    if (HALTED(p) || len <= 0)
        return;
    p->last_event = event_end(p);
    if (p->level >= 2) {
        if (xt_buf_append(&p->text, s, (size_t)len))
            nomem(p);
        return;
    }
    /* Between top-level children only whitespace may appear (RFC 6120
     * §11.7; keepalives, §4.6.1). It is dropped, and the unit boundary
     * moves past it so idle keepalives never add up to a "stanza". */
    for (int i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') {
            fail(p, XT_EXML, "bad-format", "text between stanzas");
            return;
        }
    }
    p->mark = event_end(p);
}

static void XMLCALL on_ns(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
    xt_parser *p = ud;
    if (HALTED(p) || p->level != 0 || p->replaying || prefix)
        return;
    /* The stream element's default namespace: the content namespace
     * (jabber:client) the core checks, RFC 6120 §4.8.2. */
    char *d = xt_strdup(pmem(p), uri ? uri : "");
    if (!d) {
        nomem(p);
        return;
    }
    xt_free(pmem(p), p->content_ns);
    p->content_ns = d;
}

static void XMLCALL on_xmldecl(void *ud, const XML_Char *version, const XML_Char *encoding,
                               int standalone)
{
    xt_parser *p = ud;
    (void)standalone;
    if (HALTED(p) || !version)
        return;
    /* RFC 6120 §11.8: XML 1.0 only. §11.6: UTF-8 only; expat was told
     * UTF-8 and would ignore the declared name, so check it here. */
    if (strcmp(version, "1.0") != 0)
        fail(p, XT_EXML, "unsupported-version", "XML version other than 1.0");
    else if (encoding && strcasecmp(encoding, "UTF-8") != 0)
        fail(p, XT_EXML, "unsupported-encoding", "declared encoding is not UTF-8");
}

/* RFC 6120 §11.1 restricted constructs. */
static void XMLCALL on_comment(void *ud, const XML_Char *data)
{
    (void)data;
    fail(ud, XT_EXML, "restricted-xml", "comment");
}

static void XMLCALL on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    (void)target;
    (void)data;
    fail(ud, XT_EXML, "restricted-xml", "processing instruction");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(ud, XT_EXML, "restricted-xml", "DTD");
}

static void XMLCALL on_entitydecl(void *ud, const XML_Char *name, int is_pe, const XML_Char *value,
                                  int vlen, const XML_Char *base, const XML_Char *sysid,
                                  const XML_Char *pubid, const XML_Char *notation)
{
    (void)name;
    (void)is_pe;
    (void)value;
    (void)vlen;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(ud, XT_EXML, "restricted-xml", "entity declaration");
}

static void XMLCALL on_skipped(void *ud, const XML_Char *name, int is_pe)
{
    (void)name;
    (void)is_pe;
    fail(ud, XT_EXML, "restricted-xml", "entity reference");
}

/* ---- lifecycle ---- */

static void setup_expat(xt_parser *p)
{
    XML_Parser xp = p->xp;
    XML_SetUserData(xp, p);
    XML_SetElementHandler(xp, on_start, on_end);
    XML_SetCharacterDataHandler(xp, on_text);
    XML_SetStartNamespaceDeclHandler(xp, on_ns);
    XML_SetXmlDeclHandler(xp, on_xmldecl);
    XML_SetCommentHandler(xp, on_comment);
    XML_SetProcessingInstructionHandler(xp, on_pi);
    XML_SetStartDoctypeDeclHandler(xp, on_doctype);
    XML_SetEntityDeclHandler(xp, on_entitydecl);
    XML_SetSkippedEntityHandler(xp, on_skipped);
    /* Never read external parameter entities (RFC 6120 §11.1; XXE).
     * Already the default; said explicitly so it stays that way. */
    XML_SetParamEntityParsing(xp, XML_PARAM_ENTITY_PARSING_NEVER);
#ifdef XT_HAVE_REPARSE_DEFERRAL
    /* Reparse deferral (expat 2.6, backported by distributions) holds a
     * partial token until the buffered bytes have doubled: a stanza's
     * last bytes could then wait for unrelated later traffic, which breaks
     * an interactive stream. So it is off, and xt_parser_feed turns it on
     * only while one token (in practice a start tag: text is reported as
     * it comes) exceeds DEFER_ABOVE: no real XMPP start tag is that big,
     * and without deferral a peer trickling a huge tag byte by byte would
     * make expat rescan it on every feed (quadratic CPU). */
    XML_SetReparseDeferralEnabled(xp, XML_FALSE);
#endif
    p->deferring = 0;
}

/* See setup_expat. */
static void update_deferral(xt_parser *p)
{
#ifdef XT_HAVE_REPARSE_DEFERRAL
    int want = p->fed - p->last_event > DEFER_ABOVE;
    if (want != p->deferring) {
        XML_SetReparseDeferralEnabled(p->xp, want ? XML_TRUE : XML_FALSE);
        p->deferring = want;
    }
#else
    (void)p;
#endif
}

/* Before each XML_Parse of `more` bytes: what expat may hold (EX_RATIO).
 * The unit in progress includes what is about to be fed, and a little
 * for the context expat keeps before it. */
static void set_ex_cap(xt_parser *p, size_t more)
{
    p->ex_cap = EX_RATIO * (p->fed - p->mark + more + 4096) + EX_SLACK;
}

static int create_expat(xt_parser *p)
{
    static const XML_Memory_Handling_Suite suite = {ex_malloc, ex_realloc, ex_free};
    set_ex_cap(p, 0);
    ex_saved saved = enter(p);
    /* Encoding forced to UTF-8 (RFC 6120 §11.6): no auto-detection of
     * UTF-16 and no honouring of a declared encoding. */
    p->xp = XML_ParserCreate_MM("UTF-8", &suite, "|");
    leave(saved);
    if (!p->xp)
        return XT_ENOMEM;
    setup_expat(p);
    return 0;
}

xt_parser *xt_parser_new(const xt_mem *mem, const xt_parser_callbacks *cb, void *ud,
                         const xt_parser_limits *limits)
{
    xt_parser *p = xt_calloc(mem, 1, sizeof *p);
    if (!p)
        return NULL;
    if (mem) {
        p->mem = *mem;
        p->has_mem = 1;
    }
    if (cb)
        p->cb = *cb;
    p->ud = ud;
    p->max_stanza = limits && limits->max_stanza ? limits->max_stanza : DEFAULT_MAX_STANZA;
    p->max_depth = limits && limits->max_depth ? limits->max_depth : DEFAULT_MAX_DEPTH;
    p->max_attrs = limits && limits->max_attrs ? limits->max_attrs : DEFAULT_MAX_ATTRS;
    p->max_children = limits && limits->max_children ? limits->max_children : DEFAULT_MAX_CHILDREN;
    xt_buf_init(&p->text, pmem(p));
    xt_buf_init(&p->hold, pmem(p));
    xt_utf8_init(&p->u8);
    if (create_expat(p)) {
        xt_free(mem, p);
        return NULL;
    }
    return p;
}

static void drop_stream_state(xt_parser *p)
{
    xt_stanza_free(p->root);
    p->root = p->cur = NULL;
    xt_buf_clear(&p->text);
    xt_free(pmem(p), p->content_ns);
    p->content_ns = NULL;
    xt_free(pmem(p), p->resume);
    p->resume = NULL;
    p->resume_len = 0;
}

static void destroy(xt_parser *p)
{
    drop_stream_state(p);
    xt_buf_free(&p->text);
    xt_buf_free(&p->hold);
    xt_free(pmem(p), p->kids);
    if (p->xp) {
        ex_saved saved = enter(p);
        XML_ParserFree(p->xp);
        leave(saved);
    }
    xt_mem m = p->mem;
    xt_free(p->has_mem ? &m : NULL, p);
}

void xt_parser_free(xt_parser *p)
{
    if (!p)
        return;
    if (p->in_cb) {
        /* Called from our own callback: expat is on the stack. */
        p->free_pending = 1;
        XML_StopParser(p->xp, XML_FALSE);
        return;
    }
    destroy(p);
}

int xt_parser_reset(xt_parser *p)
{
    if (!p)
        return XT_EINVAL;
    if (p->in_cb)
        return XT_ESTATE;
    drop_stream_state(p);
    p->level = 0;
    p->fed = p->mark = p->feed_base = p->stop_end = p->last_event = 0;
    p->consumed = 0;
    p->lex = LEX_CONTENT;
    set_ex_cap(p, 0);
    if (p->xp && p->ex_live > p->ex_cap) {
        /* After a unit refused for its size (a start tag of countless
         * attributes) expat keeps its grown buffer and attribute array
         * across XML_ParserReset, past a new stream's cap: every
         * allocation the reset makes would be refused, and the next
         * connection could never start. A new expat gives it all back. */
        ex_saved saved = enter(p);
        XML_ParserFree(p->xp);
        leave(saved);
        p->xp = NULL;
    }
    xt_buf_free(&p->hold);
    xt_utf8_init(&p->u8);
    p->err = 0;
    p->cond = NULL;
    p->detail[0] = '\0';
    p->stopped = 0;
    p->cb_rc = 0;
    ex_saved saved = enter(p);
    /* XML_ParserReset clears the handlers and the forced encoding; the
     * encoding is set again with XML_SetEncoding, which, unlike the reset,
     * reports the allocation failure. */
    int ok = p->xp && XML_ParserReset(p->xp, NULL) && XML_SetEncoding(p->xp, "UTF-8") == XML_STATUS_OK;
    leave(saved);
    p->xp_base = 0;
    if (ok) {
        setup_expat(p);
        return 0;
    }
    if (!p->xp && create_expat(p) == 0)
        return 0; /* it was suspended or dropped above: a new one */
    p->err = XT_ENOMEM;
    p->cond = "resource-constraint";
    snprintf(p->detail, sizeof p->detail, "out of memory");
    return XT_ENOMEM;
}

int xt_parser_suspend(xt_parser *p)
{
    if (!p || !p->xp || p->in_cb || p->err || p->stopped || p->level != 1 || p->root ||
        !p->resume || p->fed != p->mark)
        return 0;
    ex_saved saved = enter(p);
    XML_ParserFree(p->xp);
    leave(saved);
    p->xp = NULL;
    p->deferring = 0;
    xt_buf_free(&p->text);
    return 1;
}

/* A suspended parser's next input: a new expat, given the stream's start
 * tag again (as received; no callback runs for it), continues where the old one
 * stopped. Its byte offsets count from `resume`'s start, which sits
 * resume_len bytes before the stream's current offset. */
static int resume_expat(xt_parser *p)
{
    if (create_expat(p)) {
        fail_at(p, XT_ENOMEM, "resource-constraint", "out of memory", p->fed);
        return p->err;
    }
    p->xp_base = p->fed - p->resume_len;
    p->replaying = 1;
    set_ex_cap(p, p->resume_len);
    enum XML_Status st = XML_Parse(p->xp, p->resume, (int)p->resume_len, XML_FALSE);
    p->replaying = 0;
    if (st != XML_STATUS_OK || p->err) {
        /* Only an allocation can fail here: the text was parsed once. */
        p->err = 0;
        fail_at(p, XT_ENOMEM, "resource-constraint", "out of memory", p->fed);
        return p->err;
    }
    return 0;
}

/* Where the input's end stands after `data`: inside a tag (and a quoted
 * attribute value) or in content. Comments, PIs and DTDs are refused by
 * the handlers anyway; a CDATA section may mislead it, which costs at
 * most a hold until the token doubles (never a stuck stanza: holding
 * also needs expat itself to report an unfinished token). */
static int lex_scan(int st, const char *data, size_t len)
{
    const char *q = data, *end = data + len;
    while (q < end) {
        const char *hit;
        switch (st) {
        case LEX_CONTENT:
            if (!(hit = memchr(q, '<', (size_t)(end - q))))
                return st;
            st = LEX_TAG;
            q = hit + 1;
            break;
        case LEX_TAG:
            for (; q < end; q++) {
                if (*q == '>' || *q == '\'' || *q == '"') {
                    st = *q == '>' ? LEX_CONTENT : *q == '\'' ? LEX_SQ : LEX_DQ;
                    q++;
                    break;
                }
            }
            break;
        default: /* inside a quoted value: to its closing quote */
            if (!(hit = memchr(q, st == LEX_SQ ? '\'' : '"', (size_t)(end - q))))
                return st;
            st = LEX_TAG;
            q = hit + 1;
            break;
        }
    }
    return st;
}

static int feed_expat(xt_parser *p, const char *data, size_t len);

int xt_parser_feed(xt_parser *p, const char *data, size_t len)
{
    if (!p || (!data && len))
        return XT_EINVAL;
    if (p->in_cb)
        return XT_ESTATE;
    p->consumed = 0;
    if (p->err)
        return p->err;
    if (p->stopped)
        return XT_ESTATE;
    if (!len)
        return 0;
    /* The lexer runs only over bytes of an unfinished token (see the
     * end): whole stanzas cost it nothing. */
    uint64_t partial = p->fed - p->last_event; /* expat's unfinished token, at most */
    int after = -1;                            /* the state after data, when known */
    if (partial >= HOLD_ABOVE)
        after = lex_scan(p->lex, data, len);
    size_t held = xt_buf_size(&p->hold);
    if (after > LEX_CONTENT && held + len < partial) {
        if (xt_buf_append(&p->hold, data, len)) {
            nomem(p);
            return p->err;
        }
        p->lex = after;
        p->consumed = len;
        return 0;
    }
    int rc;
    if (!held) {
        rc = feed_expat(p, data, len);
    } else {
        if (xt_buf_append(&p->hold, data, len)) {
            nomem(p);
            return p->err;
        }
        /* The held bytes leave the parser first: a callback may free it
         * (feed_expat then returns XT_ECANCELED with p gone). */
        xt_mem m = p->mem;
        xt_buf h = p->hold;
        h.mem = p->has_mem ? &m : NULL;
        xt_buf_init(&p->hold, pmem(p));
        rc = feed_expat(p, (const char *)xt_buf_head(&h), held + len);
        xt_buf_free(&h);
        if (rc == XT_ECANCELED)
            return rc;
        /* consumed counts this call's bytes only (the held ones were
         * reported consumed by the calls that gave them). */
        p->consumed = p->consumed > held ? p->consumed - held : 0;
    }
    if (rc == XT_ECANCELED)
        return rc;
    /* What expat still holds is the unfinished token: begun in this
     * input (its last `tail` bytes, scanned from content), or earlier
     * (then the state carries on through all of it). */
    uint64_t tail = p->fed - p->last_event;
    if (tail <= len)
        p->lex = lex_scan(LEX_CONTENT, data + len - tail, (size_t)tail);
    else
        p->lex = after >= 0 ? after : lex_scan(p->lex, data, len);
    return rc;
}

static int feed_expat(xt_parser *p, const char *data, size_t len)
{
    p->feed_base = p->fed;
    ex_saved saved = enter(p);
    if (!p->xp && len) {
        int r = resume_expat(p);
        if (r) {
            leave(saved);
            return r;
        }
    }
    int rc = 0;
    size_t pos = 0;
    while (pos < len) {
        /* Bytes of the unit in progress that expat already holds. */
        uint64_t pending = p->fed - p->mark;
        if (pending >= p->max_stanza) {
            fail_at(p, XT_ETOOBIG, "policy-violation", "stanza larger than the size limit", p->fed);
            rc = p->err;
            break;
        }
        size_t n = len - pos;
        if (n > p->max_stanza - pending)
            n = (size_t)(p->max_stanza - pending);
        if (n > FEED_SLICE)
            n = FEED_SLICE;
        size_t ok = xt_utf8_scan(&p->u8, (const uint8_t *)data + pos, n);
        if (ok) {
            update_deferral(p);
            set_ex_cap(p, ok);
            enum XML_Status st = XML_Parse(p->xp, data + pos, (int)ok, XML_FALSE);
            p->fed += ok;
            if (p->free_pending) {
                leave(saved);
                destroy(p);
                return XT_ECANCELED;
            }
            if (p->stopped) {
                p->consumed = (size_t)(p->stop_end - p->feed_base);
                rc = p->cb_rc;
                break;
            }
            if (!p->err && st != XML_STATUS_OK) {
                map_expat_error(p);
                if (tls_over_cap) {
                    p->err = XT_ETOOBIG;
                    p->cond = "policy-violation";
                    snprintf(p->detail, sizeof p->detail,
                             "the XML parser's memory would pass its limit (%llu bytes for "
                             "this stanza): too many attributes or names",
                             (unsigned long long)p->ex_cap);
                } else if (tls_alloc_failed && p->err != XT_ENOMEM) {
                    p->err = XT_ENOMEM;
                    p->cond = "resource-constraint";
                    snprintf(p->detail, sizeof p->detail, "out of memory");
                }
            }
            if (p->err) {
                rc = p->err;
                break;
            }
            pos += ok;
        }
        if (ok < n) {
            fail_at(p, XT_EXML, "unsupported-encoding", "invalid UTF-8", p->fed);
            rc = p->err;
            break;
        }
    }
    leave(saved);
    if (!p->stopped)
        p->consumed = pos;
    return rc;
}

size_t xt_parser_consumed(const xt_parser *p)
{
    return p ? p->consumed : 0;
}

const char *xt_parser_condition(const xt_parser *p)
{
    return p ? p->cond : NULL;
}

const char *xt_parser_detail(const xt_parser *p)
{
    return p && p->err ? p->detail : "";
}
