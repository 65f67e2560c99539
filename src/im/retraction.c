/*
 * XEP-0424 Message Retraction (v0.4.x), receiving: which message a
 * sender takes back. Who may retract (only the original sender, §5) is
 * the application's check, as for corrections.
 */
#include <string.h>

#include "im/msgext.h"

const char *xt_im_retraction_of(const xt_stanza *ch)
{
    const char *ns = xt_stanza_ns(ch), *id = NULL;
    /* v0.4: <retract xmlns='urn:xmpp:message-retract:1' id='...'/>. */
    if (strcmp(ns, XT_NS_RETRACT) == 0 && strcmp(xt_stanza_name(ch), "retract") == 0)
        id = xt_stanza_attr(ch, "id");
    /* Up to v0.3 (still sent by deployed clients): the id is the
     * XEP-0422 fastening's <apply-to id><retract xmlns=':0'/></apply-to>. */
    else if (strcmp(ns, XT_NS_FASTEN) == 0 && strcmp(xt_stanza_name(ch), "apply-to") == 0 &&
             xt_stanza_child(ch, "retract", XT_NS_RETRACT0))
        id = xt_stanza_attr(ch, "id");
    return id && *id ? id : NULL;
}
