/*
 * XEP-0280 Message Carbons: turned on once the server's disco#info lists
 * urn:xmpp:carbons:2, and the copies unwrapped into XT_EV_MESSAGE with
 * source XT_SRC_CARBON (direction out for what another device of ours
 * sent, in for what it received).
 *
 * The wrapper is a claim about our own account's traffic, so it is only
 * believed from our own bare JID (§11: anyone else could otherwise put
 * words in our contacts' mouths, or in ours): a carbon from a contact is
 * dropped and logged, whatever it carries.
 */
#include <string.h>

#include "base/mem.h"
#include "im/conn_int.h"

static void enabled(xt_conn *c, int status, const xt_stanza *reply, void *ud)
{
    (void)reply;
    (void)ud;
    if (status) {
        c->carbons.phase = XT_CARBONS_OFF;
        if (status != XT_ECLOSED)
            xt_stream_logf(&c->s, XT_LOG_WARN, "the server refused to enable carbons: %s",
                           xt_strerror(status));
        return;
    }
    c->carbons.phase = XT_CARBONS_ON;
    xt_stream_logf(&c->s, XT_LOG_INFO, "message carbons enabled (XEP-0280)");
}

void xt_carbons_session_new(xt_conn *c)
{
    /* The server's state is per session: a new one starts off (§4),
     * unless the login's Bind2 request turned them on (XEP-0386 inline
     * features, core/stream_sasl2.c). */
    c->carbons.phase = XT_CARBONS_OFF;
    if (xt_stream_sasl2_carbons_on(&c->s)) {
        c->carbons.phase = XT_CARBONS_ON;
        xt_stream_logf(&c->s, XT_LOG_INFO, "message carbons enabled (XEP-0280, inline in Bind2)");
    }
}

int xt_carbons_enable(xt_conn *c)
{
    /* Once a session: both disco#info results (the server's, the
     * account's) come here, and an <enable/> sent or made inline stands. */
    if (c->carbons.phase != XT_CARBONS_OFF)
        return 0;
    if ((xt_stream_flags(&c->s) & XT_CONN_NO_CARBONS) ||
        !xt_disco_has_feature(xt_conn_server_info(c), XT_NS_CARBONS))
        return 0;
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    int rc = iq && !xt_stanza_set_attr(iq, "type", "set") &&
                     xt_stanza_add_child(iq, "enable", XT_NS_CARBONS)
                 ? 0
                 : XT_ENOMEM;
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, enabled, NULL);
    xt_stanza_free(iq);
    if (!rc)
        c->carbons.phase = XT_CARBONS_ENABLING;
    return rc;
}

int xt_conn_carbons_enabled(const xt_conn *c)
{
    return c && c->carbons.phase == XT_CARBONS_ON;
}

int xt_carbons_on_message(xt_conn *c, const xt_stanza *outer, const xt_stanza *wrapper)
{
    const char *from = xt_stanza_attr(outer, "from");
    if (!from || !xt_im_is_own_bare(c, from)) {
        xt_stream_logf(&c->s, XT_LOG_WARN,
                       "dropped a forged carbon from %s: only our own account sends them "
                       "(XEP-0280 §11)",
                       from ? from : "(no sender)");
        return 0;
    }
    const xt_stanza *fwd = xt_stanza_child(wrapper, "forwarded", XT_NS_FORWARD);
    const xt_stanza *inner = fwd ? xt_stanza_child(fwd, "message", XT_NS_CLIENT) : NULL;
    if (!inner) {
        xt_stream_logf(&c->s, XT_LOG_WARN, "dropped a carbon without a forwarded message");
        return 0;
    }
    /* §7: a message its sender marked private (or no-copy, XEP-0334) is
     * not to be copied; a server that copied it anyway is not followed. */
    if (xt_stanza_child(inner, "private", XT_NS_CARBONS) ||
        xt_stanza_child(inner, "no-copy", XT_NS_HINTS)) {
        xt_stream_logf(&c->s, XT_LOG_DEBUG, "ignored a carbon of a private message");
        return 0;
    }
    int sent = strcmp(xt_stanza_name(wrapper), "sent") == 0;
    xt_im_wrapped w = {
        .source = XT_SRC_CARBON,
        .direction = sent ? XT_DIR_OUT : XT_DIR_IN,
        .forwarded = fwd,
    };
    return xt_im_deliver(c, inner, &w);
}
