/*
 * XEP-0352 Client State Indication (v1.0.0): <active/> and <inactive/>
 * nonzas, sent only to a server that offers CSI.
 */
#include "im/msgext.h"

#define XT_NS_CSI "urn:xmpp:csi:0"

int xt_conn_csi_offered(const xt_conn *c)
{
    return c && xt_stream_is_online(&c->s) && xt_stream_csi_offered(&c->s);
}

static int send_state(xt_conn *c, int inactive)
{
    if (!xt_stream_csi_offered(&c->s))
        return 0; /* §2: only where offered; the state is kept */
    return xt_stream_send_nonza(&c->s, inactive ? "<inactive xmlns='" XT_NS_CSI "'/>"
                                                : "<active xmlns='" XT_NS_CSI "'/>");
}

int xt_conn_set_active(xt_conn *c, int active)
{
    if (!c)
        return XT_EINVAL;
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    int inactive = !active;
    if (inactive == c->csi_inactive)
        return 0;
    int rc = send_state(c, inactive);
    if (!rc)
        c->csi_inactive = inactive;
    return rc;
}

int xt_im_csi_online(xt_conn *c)
{
    /* A new session starts active (the state belongs to the session);
     * a resumed one keeps it. */
    return c->csi_inactive ? send_state(c, 1) : 0;
}
