/*
 * xml/stanza_int.h -- the element tree's representation (internal), for
 * the parser (which builds trees) and the serializer (which walks them).
 *
 * Memory: a tree is one arena. The root's allocation is the arena's first
 * chunk and holds the xt_tree header, the root node and then every other
 * node, attribute array and string bump-allocated after it; more chunks
 * are chained when it fills. Nothing inside a tree is freed on its own:
 * xt_stanza_free(root) frees the chunks. A typical message stanza fits in
 * the first chunk, so building one costs a single malloc.
 *
 * Content: an element's children (elements and text runs) form one
 * singly linked list in document order (mixed content serializes in
 * order), with a tail pointer for O(1) append.
 */
#ifndef XT_XML_STANZA_INT_H
#define XT_XML_STANZA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/stanza.h"

typedef struct xt_chunk xt_chunk;

typedef struct xt_tree {
    xt_mem mem;         /* copy of the caller's hooks, if any */
    int has_mem;
    xt_chunk *chunks;   /* extra chunks, newest first; the first chunk is this struct's block */
    unsigned char *cur; /* bump pointer into the current chunk */
    unsigned char *end;
    size_t next_size;   /* size of the next chunk (doubles, capped) */
} xt_tree;

enum { XT_NODE_ELEM = 0, XT_NODE_TEXT = 1 };

typedef struct xt_node {
    struct xt_node *next;
    int kind;
} xt_node;

typedef struct xt_text {
    xt_node n;
    char *s; /* NUL-terminated; len bytes of character data */
    size_t len;
    size_t cap; /* bytes available at s, including the NUL */
} xt_text;

typedef struct xt_attr {
    /* "local", "xml:local" or "URI|local"; names, like namespaces and
     * element names, may point at constants shared by all trees. */
    const char *name;
    const char *value;
} xt_attr;

struct xt_stanza {
    xt_node n; /* first: an element is a node of its parent's list */
    xt_tree *tree;
    xt_stanza *parent;
    const char *name;
    const char *ns; /* "" = no namespace; often shared with the parent's */
    xt_attr *attrs;
    /* 32-bit counts: a smaller node, so a message stanza fits its tree's
     * first chunk (stanza.c); the parser's limits are far below. */
    uint32_t nattrs;
    uint32_t attrcap;
    uint32_t ntext;   /* number of text children */
    uint8_t name_k;   /* xml/known.h ids of name and ns (XT_K_NONE: not there) */
    uint8_t ns_k;
    xt_node *first;   /* children, elements and text in document order */
    xt_node *last;
    const char *text; /* cached concatenation when ntext > 1; NULL = not built */
};

/* The allocator a tree was made with (NULL = C library). */
static inline const xt_mem *xt_tree_mem(const xt_tree *t)
{
    return t->has_mem ? &t->mem : NULL;
}

/* Arena allocation in st's tree; NULL on ENOMEM. `align` is a power of 2.
 * The bump is inline (a stanza's build makes a dozen or more of these:
 * the receive hot path, tests/perf); a new chunk is xt_arena_alloc_slow. */
void *xt_arena_alloc_slow(xt_tree *t, size_t n, size_t align);
static inline void *xt_arena_alloc(xt_tree *t, size_t n, size_t align)
{
    uintptr_t p = ((uintptr_t)t->cur + (align - 1)) & ~(uintptr_t)(align - 1);
    if (p <= (uintptr_t)t->end && n <= (uintptr_t)t->end - p) {
        t->cur = (unsigned char *)p + n;
        return (void *)p;
    }
    return xt_arena_alloc_slow(t, n, align);
}

/*
 * Builders for the parser: pointer+length names, no validation (expat
 * already checked well-formedness). ns == NULL means the parent's
 * namespace; an ns equal to the parent's is shared, not copied.
 */
xt_stanza *xt_stanza_new_root_n(const xt_mem *mem, const char *name, size_t nlen,
                                const char *ns, size_t nslen);
xt_stanza *xt_stanza_new_child_n(xt_stanza *parent, const char *name, size_t nlen,
                                 const char *ns, size_t nslen);
/* Makes room for n more attributes (avoids regrowth when the count is
 * known): an element without any gets exactly n slots (the parser's
 * case: a <origin-id/> takes one, not the four a first push takes). */
int xt_stanza_reserve_attrs(xt_stanza *st, size_t n);
/* Appends an attribute (no duplicate check). `name` is copied (or the
 * shared constant of xml/known.h) unless name_static is set: a string
 * literal that is not in that table (the parser's "xml:space"). */
int xt_stanza_push_attr(xt_stanza *st, const char *name, size_t nlen, int name_static,
                        const char *value, size_t vlen);
/* Appends character data, coalescing with a text node that ends the
 * children (amortized linear: the copy grows geometrically). */
int xt_stanza_append_text(xt_stanza *st, const char *s, size_t len);

#endif
