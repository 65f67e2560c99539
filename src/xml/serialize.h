/*
 * xml/serialize.h -- element tree to XML text (internal; the public
 * xt_stanza_to_string is built on it).
 */
#ifndef XT_XML_SERIALIZE_H
#define XT_XML_SERIALIZE_H

#include "base/buf.h"
#include "xtalk/stanza.h"

/*
 * Appends `st` (any node, with its subtree) as UTF-8 XML to `out`. This is
 * the send path: with a reused buffer that has room, it allocates nothing.
 *
 * `inherited_ns` is the default namespace in scope where the output goes
 * (e.g. "jabber:client" inside a client stream; NULL = none). An element
 * gets xmlns='...' only where its namespace differs from its parent's (or
 * from inherited_ns at the top); an element without a namespace under one
 * that has a default gets xmlns=''. Attributes "URI|local" are written
 * with a generated prefix declared on the same element; "xml:*" use the
 * predeclared xml prefix.
 *
 * Escaping (chosen so that parse(serialize(t)) == t, XML 1.0 §2.11, §3.3.3):
 * text escapes & < > and CR (as &#13;, else a parser turns it into LF);
 * attribute values (single-quoted) escape & < > " ' and TAB, LF, CR as
 * character references, else attribute-value normalisation turns them
 * into spaces.
 *
 * Returns 0, XT_ENOMEM or XT_ETOOBIG (out->limit). On failure `out` is
 * left as it was (nothing partial is appended).
 */
int xt_stanza_serialize(const xt_stanza *st, const char *inherited_ns, xt_buf *out);

#endif
