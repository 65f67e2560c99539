/*
 * xtalk/stanza.h -- the XML element tree: build, query, serialize.
 *
 * A tree is owned by its root. Every node of a tree (children, attribute
 * strings, text) lives in the root's arena and dies with
 * xt_stanza_free(root). Non-root nodes are never freed on their own.
 * Strings passed in are copied into the arena.
 *
 * Names are namespace-qualified: each element has a local name and a
 * namespace URI (never a prefix; prefixes are a serialization detail).
 * Attributes without a namespace are addressed by their plain name; the
 * xml:lang attribute is addressed as "xml:lang"; any other namespaced
 * attribute as "URI|local" (URI, a '|' and the local name). Other
 * attributes in the XML namespace are "xml:local" too (e.g. "xml:space").
 *
 * What an application hands in is checked so that the tree always
 * serializes to well-formed XML: names must be plain local names (no
 * prefix, no markup characters; "xmlns" is refused: namespaces are given
 * as the ns argument), and text, values and namespace URIs must be valid
 * UTF-8 made of XML 1.0 characters (no NUL or C0 controls other than TAB,
 * LF, CR; no U+FFFE/U+FFFF). A violation gives XT_EINVAL, or NULL from the
 * functions returning a node.
 *
 * Lifetimes: every pointer a query returns (nodes, names, attribute
 * values, text) lives as long as the tree, except that replacing or
 * removing an attribute invalidates its old value, and adding text to an
 * element invalidates what xt_stanza_text returned for it. Threading: a
 * tree is used by one thread at a time; one nobody modifies may be read
 * from several, except xt_stanza_text (it may build and cache its result
 * in the tree on first use).
 */
#ifndef XTALK_STANZA_H
#define XTALK_STANZA_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xt_stanza xt_stanza;

/* Namespaces every XMPP client needs. */
#define XT_NS_CLIENT "jabber:client"
#define XT_NS_STREAMS "http://etherx.jabber.org/streams"

/*
 * New root element `name` in namespace `ns` (ns may be NULL: no namespace).
 * Returns NULL on allocation failure or an invalid name. Free with
 * xt_stanza_free().
 */
XT_EXTERN xt_stanza *xt_stanza_new(const xt_mem *mem, const char *name, const char *ns);

/* Frees a whole tree. `st` must be a root; NULL is a no-op. */
XT_EXTERN void xt_stanza_free(xt_stanza *st);

/* A deep copy of `st` (any node) as a new root. NULL on allocation failure. */
XT_EXTERN xt_stanza *xt_stanza_copy(const xt_stanza *st);

/*
 * Appends a child element. `ns` NULL means "the parent's namespace".
 * The child belongs to the tree; returns NULL on allocation failure, for
 * a NULL parent or name, or for a name the rules above refuse.
 */
XT_EXTERN xt_stanza *xt_stanza_add_child(xt_stanza *parent, const char *name, const char *ns);

/* Appends a child element holding text only: <name>text</name>. NULL
 * on allocation failure or for a name or text the rules above refuse. */
XT_EXTERN xt_stanza *xt_stanza_add_text_child(xt_stanza *parent, const char *name,
                                              const char *ns, const char *text);

/* Sets (or replaces) attribute `name`; value NULL removes it (0 also
 * when it was absent). 0; XT_EINVAL (st or name NULL, a name or value
 * the rules above refuse); XT_ENOMEM. */
XT_EXTERN int xt_stanza_set_attr(xt_stanza *st, const char *name, const char *value);

/* Appends `len` bytes of character data (UTF-8, unescaped; text may be
 * NULL when len is 0). 0; XT_EINVAL (st NULL, text the rules above
 * refuse); XT_ENOMEM. */
XT_EXTERN int xt_stanza_add_text(xt_stanza *st, const char *text, size_t len);

/* Queries. Returned strings live as long as the tree, unless the tree is
 * modified (set_attr on the same name invalidates the old value). */
XT_EXTERN const char *xt_stanza_name(const xt_stanza *st);
XT_EXTERN const char *xt_stanza_ns(const xt_stanza *st);     /* "" when none */
XT_EXTERN const char *xt_stanza_attr(const xt_stanza *st, const char *name); /* NULL if absent */
XT_EXTERN xt_stanza *xt_stanza_parent(const xt_stanza *st);

/* First child element with this local name and namespace; either may be
 * NULL to match any. NULL if none. */
XT_EXTERN xt_stanza *xt_stanza_child(const xt_stanza *st, const char *name, const char *ns);

/* Element children in document order (text nodes are skipped). */
XT_EXTERN xt_stanza *xt_stanza_first_child(const xt_stanza *st);
XT_EXTERN xt_stanza *xt_stanza_next_sibling(const xt_stanza *st);

/* Attribute iteration: index 0.. ; returns 0 and sets *name and *value
 * (either pointer may be NULL), or XT_ENOTFOUND past the end (and for a
 * NULL st). Names are in the form xt_stanza_attr takes. */
XT_EXTERN int xt_stanza_attr_at(const xt_stanza *st, size_t i, const char **name,
                                const char **value);

/*
 * The concatenated character data directly inside `st` (not of its
 * descendants), NUL-terminated; "" when none; NULL only on allocation
 * failure. Lives as long as the tree.
 */
XT_EXTERN const char *xt_stanza_text(const xt_stanza *st);

/* Text of the first child `name` in `ns` (NULL = parent's ns), or NULL. */
XT_EXTERN const char *xt_stanza_child_text(const xt_stanza *st, const char *name, const char *ns);

/*
 * Serializes `st` to a new NUL-terminated UTF-8 string; *len (if not
 * NULL) gets its length. `inherited_ns` is the default namespace in scope
 * where the output will be placed (e.g. XT_NS_CLIENT inside a client
 * stream): an xmlns attribute is written only where an element's
 * namespace differs from what is in scope. Free with xt_free(mem, ptr)
 * using the tree's allocator (NULL = default). NULL on allocation failure
 * or for a NULL st.
 */
XT_EXTERN char *xt_stanza_to_string(const xt_stanza *st, const char *inherited_ns, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
