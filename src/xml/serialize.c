/* Serializer: element tree -> XML text. See xml/serialize.h. */
#include "xml/serialize.h"

#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "xml/stanza_int.h"

static int put_attr_value(xt_buf *b, const char *v)
{
    int rc = xt_buf_append(b, "='", 2);
    if (!rc)
        rc = xt_buf_append_escaped(b, v, strlen(v), 1);
    if (!rc)
        rc = xt_buf_append_byte(b, '\'');
    return rc;
}

/* Prefix for namespaced attribute i: "a<k>", k the index of the first
 * attribute of this element in the same namespace, so attributes sharing
 * a URI share one declaration. Prefixes are local to the element, which
 * declares every prefix it uses, so they never clash across elements. */
static size_t prefix_owner(const xt_stanza *e, size_t i, const char *uri, size_t ulen)
{
    for (size_t k = 0; k < i; k++) {
        const char *nm = e->attrs[k].name;
        const char *bar = strrchr(nm, '|');
        if (bar && (size_t)(bar - nm) == ulen && memcmp(nm, uri, ulen) == 0)
            return k;
    }
    return i;
}

static int open_tag(xt_buf *b, const xt_stanza *e, const char *scope)
{
    int rc = xt_buf_append_byte(b, '<');
    if (!rc)
        rc = xt_buf_append_str(b, e->name);
    if (!rc && strcmp(e->ns, scope) != 0) {
        rc = xt_buf_append(b, " xmlns", 6);
        if (!rc)
            rc = put_attr_value(b, e->ns);
    }
    for (size_t i = 0; !rc && i < e->nattrs; i++) {
        const char *nm = e->attrs[i].name;
        const char *bar =
            nm[0] == 'x' && strncmp(nm, "xml:", 4) == 0 ? NULL : strrchr(nm, '|');
        char pfx[32];
        rc = xt_buf_append_byte(b, ' ');
        if (!bar) {
            /* Plain or xml:-prefixed: written as is. */
            if (!rc)
                rc = xt_buf_append_str(b, nm);
        } else {
            size_t ulen = (size_t)(bar - nm);
            size_t k = prefix_owner(e, i, nm, ulen);
            snprintf(pfx, sizeof pfx, "a%zu", k);
            if (k == i) {
                /* First use on this element: declare it. */
                if (!rc)
                    rc = xt_buf_append(b, "xmlns:", 6);
                if (!rc)
                    rc = xt_buf_append_str(b, pfx);
                if (!rc)
                    rc = xt_buf_append(b, "='", 2);
                if (!rc)
                    rc = xt_buf_append_escaped(b, nm, ulen, 1);
                if (!rc)
                    rc = xt_buf_append(b, "' ", 2);
            }
            if (!rc)
                rc = xt_buf_append_str(b, pfx);
            if (!rc)
                rc = xt_buf_append_byte(b, ':');
            if (!rc)
                rc = xt_buf_append_str(b, bar + 1);
        }
        if (!rc)
            rc = put_attr_value(b, e->attrs[i].value);
    }
    if (!rc)
        rc = e->first ? xt_buf_append_byte(b, '>') : xt_buf_append(b, "/>", 2);
    return rc;
}

static int close_tag(xt_buf *b, const xt_stanza *e)
{
    int rc = xt_buf_append(b, "</", 2);
    if (!rc)
        rc = xt_buf_append_str(b, e->name);
    if (!rc)
        rc = xt_buf_append_byte(b, '>');
    return rc;
}

static int serialize(const xt_stanza *st, const char *scope, xt_buf *b)
{
    int rc = open_tag(b, st, scope);
    if (rc || !st->first)
        return rc;
    /* Iterative walk: e is the open element whose children n runs over. */
    const xt_stanza *e = st;
    const xt_node *n = st->first;
    for (;;) {
        if (!n) {
            if ((rc = close_tag(b, e)) != 0 || e == st)
                return rc;
            n = e->n.next;
            e = e->parent;
            continue;
        }
        if (n->kind == XT_NODE_TEXT) {
            const xt_text *tx = (const xt_text *)(const void *)n;
            if ((rc = xt_buf_append_escaped(b, tx->s, tx->len, 0)) != 0)
                return rc;
            n = n->next;
            continue;
        }
        const xt_stanza *c = (const xt_stanza *)(const void *)n;
        if ((rc = open_tag(b, c, e->ns)) != 0)
            return rc;
        if (c->first) {
            e = c;
            n = c->first;
        } else {
            n = n->next;
        }
    }
}

int xt_stanza_serialize(const xt_stanza *st, const char *inherited_ns, xt_buf *out)
{
    if (!st || !out)
        return XT_EINVAL;
    /* Remember the unconsumed size, not len: an append may compact the
     * consumed head away, which moves len but keeps len - off. */
    size_t before = xt_buf_size(out);
    int rc = serialize(st, inherited_ns ? inherited_ns : "", out);
    if (rc)
        xt_buf_truncate(out, before);
    return rc;
}

char *xt_stanza_to_string(const xt_stanza *st, const char *inherited_ns, size_t *len)
{
    if (!st)
        return NULL;
    xt_buf b;
    xt_buf_init(&b, xt_tree_mem(st->tree));
    if (xt_stanza_serialize(st, inherited_ns, &b) || !xt_buf_cstr(&b)) {
        xt_buf_free(&b);
        return NULL;
    }
    if (len)
        *len = xt_buf_size(&b);
    return (char *)b.data;
}
