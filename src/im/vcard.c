/*
 * XEP-0054 vcard-temp (v1.2): fetching a vCard and reading its fields,
 * for names (FN, NICKNAME) and `xtalk info`.
 */
#include <string.h>

#include "core/jid_int.h"
#include "im/msgext.h"

#define XT_NS_VCARD "vcard-temp"

static xt_stanza *build_vcard(xt_stanza *iq, const void *arg)
{
    (void)arg;
    return xt_stanza_add_child(iq, "vCard", XT_NS_VCARD);
}

int xt_conn_vcard_fetch(xt_conn *c, const char *jid, xt_iq_fn cb, void *ud)
{
    /* XEP-0054 §3.2: addressed to the bare JID (the account's server
     * answers for it). */
    return xt_im_query(c, jid, 0, build_vcard, NULL, cb, ud);
}

const char *xt_vcard_field(const xt_stanza *reply, const char *path)
{
    if (!reply || !path)
        return NULL;
    const xt_stanza *el = xt_stanza_child(reply, "vCard", XT_NS_VCARD);
    /* "ORG/ORGNAME": one element name per step, '/' between. */
    char name[64];
    const char *p = path;
    while (el && *p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n >= sizeof name)
            return NULL;
        memcpy(name, p, n);
        name[n] = '\0';
        el = xt_stanza_child(el, name, XT_NS_VCARD);
        p = slash ? slash + 1 : p + n;
    }
    if (!el || el == xt_stanza_child(reply, "vCard", XT_NS_VCARD))
        return NULL;
    const char *t = xt_stanza_text(el);
    return t && *t ? t : NULL;
}
