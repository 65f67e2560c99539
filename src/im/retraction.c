/*
 * XEP-0424 Message Retraction (v0.4.x), receiving: which message a
 * sender takes back. Who may retract (only the original sender, §5) is
 * the application's check, as for corrections.
 */
#include <string.h>

#include "im/msgext.h"

const char *xt_im_retraction_parse(const xt_stanza *st)
{
    /* v0.4: <retract xmlns='urn:xmpp:message-retract:1' id='...'/>. */
    const xt_stanza *r = xt_stanza_child(st, "retract", XT_NS_RETRACT);
    const char *id = r ? xt_stanza_attr(r, "id") : NULL;
    if (id && *id)
        return id;
    /* Up to v0.3 (still sent by deployed clients): the id is the
     * XEP-0422 fastening's <apply-to id><retract xmlns=':0'/></apply-to>. */
    const xt_stanza *a = xt_stanza_child(st, "apply-to", XT_NS_FASTEN);
    if (a && xt_stanza_child(a, "retract", XT_NS_RETRACT0)) {
        id = xt_stanza_attr(a, "id");
        if (id && *id)
            return id;
    }
    return NULL;
}
