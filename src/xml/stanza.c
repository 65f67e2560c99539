/*
 * The element tree: a per-root arena holding every node and string.
 * See xtalk/stanza.h for the contract and xml/stanza_int.h for the layout.
 */
#include "xml/stanza_int.h"

#include <string.h>

#include "base/mem.h"
#include "xml/known.h"
#include "xml/utf8.h"

/* The first chunk holds the tree header, the root and a typical message
 * stanza (a few children, attributes and a body); later chunks double up
 * to a cap, and a request bigger than a quarter chunk gets its own block
 * so one huge text does not waste the rest of a chunk. */
#define FIRST_CHUNK 1024u
#define NEXT_CHUNK 2048u
#define MAX_CHUNK 65536u

struct xt_chunk {
    xt_chunk *next;
};
/* Chunk payloads start 16-aligned whatever the header size. */
#define CHUNK_HDR ((sizeof(xt_chunk) + 15u) & ~(size_t)15u)

#define NODE_ALIGN _Alignof(xt_stanza)

static const char empty[] = "";

void *xt_arena_alloc_slow(xt_tree *t, size_t n, size_t align)
{
    uintptr_t p;
    if (n > SIZE_MAX / 2)
        return NULL;
    size_t need = CHUNK_HDR + n + align;
    int dedicated = n > t->next_size / 4;
    size_t size = dedicated || need > t->next_size ? need : t->next_size;
    xt_chunk *c = xt_malloc(xt_tree_mem(t), size);
    if (!c)
        return NULL;
    c->next = t->chunks;
    t->chunks = c;
    unsigned char *base = (unsigned char *)c + CHUNK_HDR;
    p = ((uintptr_t)base + (align - 1)) & ~(uintptr_t)(align - 1);
    if (!dedicated) {
        /* Move the bump pointer to the new chunk; the old chunk's tail is
         * abandoned (at most a quarter chunk, by the rule above). */
        t->cur = (unsigned char *)p + n;
        t->end = (unsigned char *)c + size;
        if (t->next_size < MAX_CHUNK)
            t->next_size *= 2;
    }
    return (void *)p;
}

static char *arena_strndup(xt_tree *t, const char *s, size_t n)
{
    char *d = xt_arena_alloc(t, n + 1, 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/*
 * The names and namespaces nearly every received stanza repeats (RFC
 * 6120/6121 stanzas and the XEPs on the message path; xml/known.h) are
 * not copied into the tree: it points at these constants instead, and
 * an element keeps their ids. A message stanza then fits its tree's
 * first chunk (one malloc, from the C library's per-thread cache: a
 * second chunk cost ~500 instructions a message, issue 14), and each
 * name saves an arena bump and a copy. Nothing in a tree is written
 * after it is built or freed on its own (only xt_stanza_set_attr
 * replaces a value), so a shared constant reads as a copy would.
 */
static const char *const known_str[XT_K_COUNT] = {
    [XT_K_X] = "x",
    [XT_K_C] = "c",
    [XT_K_A] = "a",
    [XT_K_H] = "h",
    [XT_K_R] = "r",
    [XT_K_IQ] = "iq",
    [XT_K_TO] = "to",
    [XT_K_ID] = "id",
    [XT_K_BY] = "by",
    [XT_K_JID] = "jid",
    [XT_K_VER] = "ver",
    [XT_K_BODY] = "body",
    [XT_K_FROM] = "from",
    [XT_K_TYPE] = "type",
    [XT_K_GONE] = "gone",
    [XT_K_ITEM] = "item",
    [XT_K_SHOW] = "show",
    [XT_K_NAME] = "name",
    [XT_K_NODE] = "node",
    [XT_K_HASH] = "hash",
    [XT_K_CODE] = "code",
    [XT_K_NICK] = "nick",
    [XT_K_ROLE] = "role",
    [XT_K_SENT] = "sent",
    [XT_K_DELAY] = "delay",
    [XT_K_QUERY] = "query",
    [XT_K_STAMP] = "stamp",
    [XT_K_STORE] = "store",
    [XT_K_ERROR] = "error",
    [XT_K_EVENT] = "event",
    [XT_K_ACTIVE] = "active",
    [XT_K_PAUSED] = "paused",
    [XT_K_THREAD] = "thread",
    [XT_K_STATUS] = "status",
    [XT_K_RESULT] = "result",
    [XT_K_REASON] = "reason",
    [XT_K_REPLACE] = "replace",
    [XT_K_RETRACT] = "retract",
    [XT_K_MESSAGE] = "message",
    [XT_K_SUBJECT] = "subject",
    [XT_K_REQUEST] = "request",
    [XT_K_PRESENCE] = "presence",
    [XT_K_INACTIVE] = "inactive",
    [XT_K_RECEIVED] = "received",
    [XT_K_PRIORITY] = "priority",
    [XT_K_MARKABLE] = "markable",
    [XT_K_NO_STORE] = "no-store",
    [XT_K_XML_LANG] = "xml:lang",
    [XT_K_APPLY_TO] = "apply-to",
    [XT_K_COMPOSING] = "composing",
    [XT_K_ORIGIN_ID] = "origin-id",
    [XT_K_STANZA_ID] = "stanza-id",
    [XT_K_FORWARDED] = "forwarded",
    [XT_K_DISPLAYED] = "displayed",
    [XT_K_REACTIONS] = "reactions",
    [XT_K_AFFILIATION] = "affiliation",
    [XT_K_SUBSCRIPTION] = "subscription",
    [XT_K_NS_CLIENT] = "jabber:client",
    [XT_K_NS_STREAMS] = "http://etherx.jabber.org/streams",
    [XT_K_NS_SID] = "urn:xmpp:sid:0",
    [XT_K_NS_DELAY] = "urn:xmpp:delay",
    [XT_K_NS_MAM] = "urn:xmpp:mam:2",
    [XT_K_NS_HINTS] = "urn:xmpp:hints",
    [XT_K_NS_SM] = "urn:xmpp:sm:3",
    [XT_K_NS_ROSTER] = "jabber:iq:roster",
    [XT_K_NS_RECEIPTS] = "urn:xmpp:receipts",
    [XT_K_NS_CARBONS] = "urn:xmpp:carbons:2",
    [XT_K_NS_FORWARD] = "urn:xmpp:forward:0",
    [XT_K_NS_FASTEN] = "urn:xmpp:fasten:0",
    [XT_K_NS_REACTIONS] = "urn:xmpp:reactions:0",
    [XT_K_NS_MARKERS] = "urn:xmpp:chat-markers:0",
    [XT_K_NS_CORRECT] = "urn:xmpp:message-correct:0",
    [XT_K_NS_RETRACT] = "urn:xmpp:message-retract:1",
    [XT_K_NS_CAPS] = "http://jabber.org/protocol/caps",
    [XT_K_NS_MUC_USER] = "http://jabber.org/protocol/muc#user",
    [XT_K_NS_CHATSTATES] = "http://jabber.org/protocol/chatstates",
    [XT_K_NS_PUBSUB_EVENT] = "http://jabber.org/protocol/pubsub#event",
};

static xt_known known(const char *s, size_t n)
{
    /* The entries by length: n is a constant in each case, so each
     * memcmp is a compare or two against the table's literal. */
#define TRY(k)                                                                                     \
    if (memcmp(s, known_str[k], n) == 0)                                                           \
        return k;
    switch (n) {
    case 1:
        TRY(XT_K_X);
        TRY(XT_K_C);
        TRY(XT_K_A);
        TRY(XT_K_H);
        TRY(XT_K_R);
        break;
    case 2:
        TRY(XT_K_IQ);
        TRY(XT_K_TO);
        TRY(XT_K_ID);
        TRY(XT_K_BY);
        break;
    case 3:
        TRY(XT_K_JID);
        TRY(XT_K_VER);
        break;
    case 4:
        TRY(XT_K_BODY);
        TRY(XT_K_FROM);
        TRY(XT_K_TYPE);
        TRY(XT_K_GONE);
        TRY(XT_K_ITEM);
        TRY(XT_K_SHOW);
        TRY(XT_K_NAME);
        TRY(XT_K_NODE);
        TRY(XT_K_HASH);
        TRY(XT_K_CODE);
        TRY(XT_K_NICK);
        TRY(XT_K_ROLE);
        TRY(XT_K_SENT);
        break;
    case 5:
        TRY(XT_K_DELAY);
        TRY(XT_K_QUERY);
        TRY(XT_K_STAMP);
        TRY(XT_K_STORE);
        TRY(XT_K_ERROR);
        TRY(XT_K_EVENT);
        break;
    case 6:
        TRY(XT_K_ACTIVE);
        TRY(XT_K_PAUSED);
        TRY(XT_K_THREAD);
        TRY(XT_K_STATUS);
        TRY(XT_K_RESULT);
        TRY(XT_K_REASON);
        break;
    case 7:
        TRY(XT_K_REPLACE);
        TRY(XT_K_RETRACT);
        TRY(XT_K_MESSAGE);
        TRY(XT_K_SUBJECT);
        TRY(XT_K_REQUEST);
        break;
    case 8:
        TRY(XT_K_PRESENCE);
        TRY(XT_K_INACTIVE);
        TRY(XT_K_RECEIVED);
        TRY(XT_K_PRIORITY);
        TRY(XT_K_MARKABLE);
        TRY(XT_K_NO_STORE);
        TRY(XT_K_XML_LANG);
        TRY(XT_K_APPLY_TO);
        break;
    case 9:
        TRY(XT_K_COMPOSING);
        TRY(XT_K_ORIGIN_ID);
        TRY(XT_K_STANZA_ID);
        TRY(XT_K_FORWARDED);
        TRY(XT_K_DISPLAYED);
        TRY(XT_K_REACTIONS);
        break;
    case 11:
        TRY(XT_K_AFFILIATION);
        break;
    case 12:
        TRY(XT_K_SUBSCRIPTION);
        break;
    case 13:
        TRY(XT_K_NS_CLIENT);
        TRY(XT_K_NS_SM);
        break;
    case 14:
        TRY(XT_K_NS_SID);
        TRY(XT_K_NS_DELAY);
        TRY(XT_K_NS_MAM);
        TRY(XT_K_NS_HINTS);
        break;
    case 16:
        TRY(XT_K_NS_ROSTER);
        break;
    case 17:
        TRY(XT_K_NS_RECEIPTS);
        TRY(XT_K_NS_FASTEN);
        break;
    case 18:
        TRY(XT_K_NS_CARBONS);
        TRY(XT_K_NS_FORWARD);
        break;
    case 20:
        TRY(XT_K_NS_REACTIONS);
        break;
    case 23:
        TRY(XT_K_NS_MARKERS);
        break;
    case 26:
        TRY(XT_K_NS_CORRECT);
        TRY(XT_K_NS_RETRACT);
        break;
    case 31:
        TRY(XT_K_NS_CAPS);
        break;
    case 32:
        TRY(XT_K_NS_STREAMS);
        break;
    case 35:
        TRY(XT_K_NS_MUC_USER);
        break;
    case 37:
        TRY(XT_K_NS_CHATSTATES);
        break;
    case 39:
        TRY(XT_K_NS_PUBSUB_EVENT);
        break;
    default:
        break;
    }
    return XT_K_NONE;
#undef TRY
}

/* A name or namespace for the tree: the shared constant or a copy; *k
 * its id. */
static const char *arena_name(xt_tree *t, const char *s, size_t n, uint8_t *k)
{
    xt_known id = known(s, n);
    *k = (uint8_t)id;
    return id ? known_str[id] : arena_strndup(t, s, n);
}

/* Mutating a cache behind a const handle: the node was allocated
 * non-const, so this is defined; the integer round trip keeps
 * -Wcast-qual quiet without hiding real qualifier bugs elsewhere. */
static xt_stanza *unconst(const xt_stanza *st)
{
    return (xt_stanza *)(uintptr_t)st;
}

/* ---- builders (internal, no validation) ---- */

xt_stanza *xt_stanza_new_root_n(const xt_mem *mem, const char *name, size_t nlen,
                                const char *ns, size_t nslen)
{
    if (nlen > SIZE_MAX / 4 || nslen > SIZE_MAX / 4)
        return NULL;
    size_t hdr = (sizeof(xt_tree) + NODE_ALIGN - 1) & ~(size_t)(NODE_ALIGN - 1);
    size_t need = hdr + sizeof(xt_stanza) + nlen + nslen + 2;
    size_t size = need > FIRST_CHUNK ? need : FIRST_CHUNK;
    unsigned char *blk = xt_malloc(mem, size);
    if (!blk)
        return NULL;
    xt_tree *t = (xt_tree *)(void *)blk;
    *t = (xt_tree){.has_mem = mem != NULL,
                   .cur = blk + hdr,
                   .end = blk + size,
                   .next_size = NEXT_CHUNK};
    if (mem)
        t->mem = *mem;
    /* Cannot fail: `need` was reserved above. */
    xt_stanza *st = xt_arena_alloc(t, sizeof *st, NODE_ALIGN);
    *st = (xt_stanza){.n.kind = XT_NODE_ELEM, .tree = t};
    st->name = arena_name(t, name, nlen, &st->name_k);
    st->ns = nslen ? arena_name(t, ns, nslen, &st->ns_k) : empty;
    return st;
}

xt_stanza *xt_stanza_new_child_n(xt_stanza *parent, const char *name, size_t nlen,
                                 const char *ns, size_t nslen)
{
    xt_tree *t = parent->tree;
    xt_stanza *c = xt_arena_alloc(t, sizeof *c, NODE_ALIGN);
    if (!c)
        return NULL;
    *c = (xt_stanza){.n.kind = XT_NODE_ELEM, .tree = t, .parent = parent};
    if (!(c->name = arena_name(t, name, nlen, &c->name_k)))
        return NULL;
    /* Children nearly always share the parent's namespace: point at the
     * parent's copy instead of copying the URI again. */
    if (!ns || (strncmp(parent->ns, ns, nslen) == 0 && parent->ns[nslen] == '\0')) {
        c->ns = parent->ns;
        c->ns_k = parent->ns_k;
    } else if (!(c->ns = arena_name(t, ns, nslen, &c->ns_k))) {
        return NULL;
    }
    if (parent->last)
        parent->last->next = &c->n;
    else
        parent->first = &c->n;
    parent->last = &c->n;
    return c;
}

int xt_stanza_reserve_attrs(xt_stanza *st, size_t n)
{
    if (st->attrcap - st->nattrs >= n)
        return 0;
    if (n > UINT32_MAX / 4 - st->nattrs)
        return XT_ENOMEM;
    size_t cap = st->attrcap * 2;
    if (cap < st->nattrs + n)
        cap = st->nattrs + n;
    /* The old array stays in the arena: growth is geometric, so the waste
     * is bounded by the final size. */
    xt_attr *a = xt_arena_alloc(st->tree, cap * sizeof *a, _Alignof(xt_attr));
    if (!a)
        return XT_ENOMEM;
    if (st->nattrs)
        memcpy(a, st->attrs, st->nattrs * sizeof *a);
    st->attrs = a;
    st->attrcap = (uint32_t)cap;
    return 0;
}

int xt_stanza_push_attr(xt_stanza *st, const char *name, size_t nlen, int name_static,
                        const char *value, size_t vlen)
{
    /* One at a time (xt_stanza_set_attr): four slots to begin with. */
    if (st->nattrs == st->attrcap && xt_stanza_reserve_attrs(st, st->attrcap ? 1 : 4))
        return XT_ENOMEM;
    uint8_t k;
    const char *n = name_static ? name : arena_name(st->tree, name, nlen, &k);
    const char *v = arena_strndup(st->tree, value, vlen);
    if (!n || !v)
        return XT_ENOMEM;
    st->attrs[st->nattrs++] = (xt_attr){.name = n, .value = v};
    return 0;
}

int xt_stanza_append_text(xt_stanza *st, const char *s, size_t len)
{
    if (len == 0)
        return 0;
    xt_tree *t = st->tree;
    if (st->last && st->last->kind == XT_NODE_TEXT) {
        xt_text *tx = (xt_text *)(void *)st->last;
        if (len > SIZE_MAX / 4 - tx->len)
            return XT_ENOMEM;
        size_t total = tx->len + len;
        if (total + 1 > tx->cap) {
            size_t more = total + 1 - tx->cap;
            if (tx->s + tx->cap == (char *)t->cur && (size_t)(t->end - t->cur) >= more) {
                /* The run is the arena's last allocation: grow in place. */
                t->cur += more;
                tx->cap += more;
            } else {
                size_t ncap = tx->cap * 2 > total + 1 ? tx->cap * 2 : total + 1;
                char *d = xt_arena_alloc(t, ncap, 1);
                if (!d)
                    return XT_ENOMEM;
                memcpy(d, tx->s, tx->len);
                tx->s = d;
                tx->cap = ncap;
            }
        }
        memcpy(tx->s + tx->len, s, len);
        tx->len = total;
        tx->s[total] = '\0';
    } else {
        if (st->ntext == UINT32_MAX)
            return XT_ENOMEM;
        xt_text *tx = xt_arena_alloc(t, sizeof *tx, NODE_ALIGN);
        if (!tx)
            return XT_ENOMEM;
        char *d = arena_strndup(t, s, len);
        if (!d)
            return XT_ENOMEM;
        *tx = (xt_text){.n.kind = XT_NODE_TEXT, .s = d, .len = len, .cap = len + 1};
        if (st->last)
            st->last->next = &tx->n;
        else
            st->first = &tx->n;
        st->last = &tx->n;
        st->ntext++;
    }
    st->text = NULL;
    return 0;
}

/* ---- validation of what applications hand in ---- */

/* An NCName, loosely: non-empty valid UTF-8 without the characters that
 * would break the serialized markup or its namespace structure. Full
 * NameChar tables are not worth it here: the goal is that whatever we
 * accept serializes to namespace-well-formed XML. */
/* Bytes never allowed in a name: controls, space, DEL and markup or
 * structure characters. */
static const uint8_t name_bad[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00-0x0F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10-0x1F */
    [' '] = 1, [0x7F] = 1,
    ['<'] = 1, ['>'] = 1, ['&'] = 1, ['\''] = 1, ['"'] = 1, ['='] = 1, ['/'] = 1,
    [':'] = 1, ['|'] = 1, ['?'] = 1, ['!'] = 1, [';'] = 1, [','] = 1, ['('] = 1,
    [')'] = 1, ['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1, ['`'] = 1, ['\\'] = 1,
};

static int valid_ncname(const char *s, size_t n)
{
    if (n == 0 || s[0] == '-' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    unsigned high = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (name_bad[c])
            return 0;
        high |= c;
    }
    /* Pure ASCII names were fully checked above. */
    return high < 0x80 || xt_xml_chars_valid(s, n);
}

static int valid_attr_name(const char *name)
{
    size_t n = strlen(name);
    if (strncmp(name, "xml:", 4) == 0)
        return valid_ncname(name + 4, n - 4);
    const char *bar = strrchr(name, '|');
    if (bar) {
        size_t ulen = (size_t)(bar - name);
        return ulen > 0 && xt_xml_chars_valid(name, ulen) && valid_ncname(bar + 1, n - ulen - 1);
    }
    /* "xmlns" would collide with the declarations the serializer writes. */
    return strcmp(name, "xmlns") != 0 && valid_ncname(name, n);
}

static int valid_element(const char *name, const char *ns)
{
    return name && valid_ncname(name, strlen(name)) && (!ns || xt_xml_chars_valid(ns, strlen(ns)));
}

/* ---- public API ---- */

xt_stanza *xt_stanza_new(const xt_mem *mem, const char *name, const char *ns)
{
    if (!valid_element(name, ns))
        return NULL;
    xt_stanza *st = xt_stanza_new_root_n(mem, name, strlen(name), ns ? ns : "", ns ? strlen(ns) : 0);
    if (st && !st->name) {
        xt_stanza_free(st);
        return NULL;
    }
    return st;
}

void xt_stanza_free(xt_stanza *st)
{
    if (!st || st->parent)
        return; /* only a root owns the arena */
    xt_tree *t = st->tree;
    xt_mem m = t->mem;
    const xt_mem *mem = t->has_mem ? &m : NULL;
    for (xt_chunk *c = t->chunks, *next; c; c = next) {
        next = c->next;
        xt_free(mem, c);
    }
    xt_free(mem, t);
}

static int copy_attrs(xt_stanza *d, const xt_stanza *s)
{
    if (xt_stanza_reserve_attrs(d, s->nattrs))
        return XT_ENOMEM;
    for (size_t i = 0; i < s->nattrs; i++) {
        const xt_attr *a = &s->attrs[i];
        if (xt_stanza_push_attr(d, a->name, strlen(a->name), 0, a->value, strlen(a->value)))
            return XT_ENOMEM;
    }
    return 0;
}

xt_stanza *xt_stanza_copy(const xt_stanza *st)
{
    if (!st)
        return NULL;
    xt_stanza *root = xt_stanza_new_root_n(xt_tree_mem(st->tree), st->name, strlen(st->name),
                                           st->ns, strlen(st->ns));
    if (!root || !root->name || copy_attrs(root, st))
        goto fail;
    /* Iterative walk (no recursion: trees built through the API have no
     * depth bound). s walks the source, d the matching copy. */
    const xt_stanza *s = st;
    xt_stanza *d = root;
    const xt_node *n = s->first;
    for (;;) {
        if (!n) {
            if (s == st)
                break;
            n = s->n.next;
            s = s->parent;
            d = d->parent;
            continue;
        }
        if (n->kind == XT_NODE_TEXT) {
            const xt_text *tx = (const xt_text *)(const void *)n;
            if (xt_stanza_append_text(d, tx->s, tx->len))
                goto fail;
            n = n->next;
            continue;
        }
        const xt_stanza *c = (const xt_stanza *)(const void *)n;
        xt_stanza *dc = xt_stanza_new_child_n(d, c->name, strlen(c->name), c->ns, strlen(c->ns));
        if (!dc || copy_attrs(dc, c))
            goto fail;
        if (c->first) {
            s = c;
            d = dc;
            n = c->first;
        } else {
            n = n->next;
        }
    }
    return root;
fail:
    xt_stanza_free(root);
    return NULL;
}

xt_stanza *xt_stanza_add_child(xt_stanza *parent, const char *name, const char *ns)
{
    if (!parent || !valid_element(name, ns))
        return NULL;
    return xt_stanza_new_child_n(parent, name, strlen(name), ns, ns ? strlen(ns) : 0);
}

xt_stanza *xt_stanza_add_text_child(xt_stanza *parent, const char *name, const char *ns,
                                    const char *text)
{
    size_t tlen = text ? strlen(text) : 0;
    if (text && !xt_xml_chars_valid(text, tlen))
        return NULL;
    xt_stanza *c = xt_stanza_add_child(parent, name, ns);
    if (c && xt_stanza_append_text(c, text, tlen))
        return NULL; /* c stays in the tree, empty: harmless, freed with it */
    return c;
}

int xt_stanza_set_attr(xt_stanza *st, const char *name, const char *value)
{
    if (!st || !name || !valid_attr_name(name))
        return XT_EINVAL;
    size_t vlen = value ? strlen(value) : 0;
    if (value && !xt_xml_chars_valid(value, vlen))
        return XT_EINVAL;
    for (size_t i = 0; i < st->nattrs; i++) {
        if (strcmp(st->attrs[i].name, name) != 0)
            continue;
        if (!value) {
            memmove(&st->attrs[i], &st->attrs[i + 1], (st->nattrs - i - 1) * sizeof st->attrs[0]);
            st->nattrs--;
            return 0;
        }
        const char *v = arena_strndup(st->tree, value, vlen);
        if (!v)
            return XT_ENOMEM;
        st->attrs[i].value = v;
        return 0;
    }
    if (!value)
        return 0;
    return xt_stanza_push_attr(st, name, strlen(name), 0, value, vlen);
}

int xt_stanza_add_text(xt_stanza *st, const char *text, size_t len)
{
    if (!st || (!text && len))
        return XT_EINVAL;
    if (!xt_xml_chars_valid(text, len))
        return XT_EINVAL;
    return xt_stanza_append_text(st, text, len);
}

const char *xt_stanza_name(const xt_stanza *st)
{
    return st ? st->name : NULL;
}

const char *xt_stanza_ns(const xt_stanza *st)
{
    return st ? st->ns : NULL;
}

const char *xt_stanza_attr(const xt_stanza *st, const char *name)
{
    if (!st || !name)
        return NULL;
    /* Lookups run many times per received stanza: the first byte
     * settles most mismatches without a call. */
    for (size_t i = 0; i < st->nattrs; i++)
        if (st->attrs[i].name[0] == name[0] && strcmp(st->attrs[i].name, name) == 0)
            return st->attrs[i].value;
    return NULL;
}

const char *xt_known_str(xt_known k)
{
    return k > XT_K_NONE && k < XT_K_COUNT ? known_str[k] : NULL;
}

xt_known xt_stanza_name_k(const xt_stanza *st)
{
    return (xt_known)st->name_k;
}

xt_known xt_stanza_ns_k(const xt_stanza *st)
{
    return (xt_known)st->ns_k;
}

const char *xt_stanza_attr_k(const xt_stanza *st, xt_known k)
{
    /* By the invariant of xml/known.h, a pointer comparison. */
    const char *name = known_str[k];
    for (size_t i = 0; i < st->nattrs; i++)
        if (st->attrs[i].name == name)
            return st->attrs[i].value;
    return NULL;
}

xt_stanza *xt_stanza_parent(const xt_stanza *st)
{
    return st ? st->parent : NULL;
}

static xt_stanza *next_elem(const xt_node *n)
{
    for (; n; n = n->next)
        if (n->kind == XT_NODE_ELEM)
            return unconst((const xt_stanza *)(const void *)n);
    return NULL;
}

xt_stanza *xt_stanza_first_child(const xt_stanza *st)
{
    return st ? next_elem(st->first) : NULL;
}

xt_stanza *xt_stanza_next_sibling(const xt_stanza *st)
{
    return st ? next_elem(st->n.next) : NULL;
}

xt_stanza *xt_stanza_child(const xt_stanza *st, const char *name, const char *ns)
{
    /* The list itself, not the exported first_child/next_sibling (calls
     * through the PLT inside the shared library): a received message is
     * searched this way several times (issue 14). */
    if (!st)
        return NULL;
    for (xt_stanza *c = next_elem(st->first); c; c = next_elem(c->n.next))
        if ((!name || (c->name[0] == name[0] && strcmp(c->name, name) == 0)) &&
            (!ns || c->ns == ns || strcmp(c->ns, ns) == 0))
            return c;
    return NULL;
}

int xt_stanza_attr_at(const xt_stanza *st, size_t i, const char **name, const char **value)
{
    if (!st || i >= st->nattrs)
        return XT_ENOTFOUND;
    if (name)
        *name = st->attrs[i].name;
    if (value)
        *value = st->attrs[i].value;
    return 0;
}

const char *xt_stanza_text(const xt_stanza *st)
{
    if (!st)
        return NULL;
    if (st->ntext == 0)
        return empty;
    if (st->ntext == 1) {
        /* The common case (<body>text</body>): the run itself, no copy. */
        for (const xt_node *n = st->first; n; n = n->next)
            if (n->kind == XT_NODE_TEXT)
                return ((const xt_text *)(const void *)n)->s;
    }
    if (st->text)
        return st->text;
    /* Mixed content: concatenate once and cache in the arena; any later
     * append_text clears the cache. */
    size_t total = 0;
    for (const xt_node *n = st->first; n; n = n->next)
        if (n->kind == XT_NODE_TEXT)
            total += ((const xt_text *)(const void *)n)->len;
    char *d = xt_arena_alloc(st->tree, total + 1, 1);
    if (!d)
        return NULL;
    size_t off = 0;
    for (const xt_node *n = st->first; n; n = n->next) {
        if (n->kind == XT_NODE_TEXT) {
            const xt_text *tx = (const xt_text *)(const void *)n;
            memcpy(d + off, tx->s, tx->len);
            off += tx->len;
        }
    }
    d[off] = '\0';
    unconst(st)->text = d;
    return d;
}

const char *xt_stanza_child_text(const xt_stanza *st, const char *name, const char *ns)
{
    if (!st)
        return NULL;
    xt_stanza *c = xt_stanza_child(st, name, ns ? ns : st->ns);
    return c ? xt_stanza_text(c) : NULL;
}
