/*
 * xtalk/selfping.h -- XEP-0410 MUC Self-Ping: noticing that a room no
 * longer counts us as an occupant (the MUC service restarted, an s2s link
 * broke, an admin removed us without telling) and joining it again.
 *
 * How it runs. Once a room (xtalk/muc.h) has been quiet for quiet_ms
 * (no stanza from it), the conn pings our own occupant JID room/nick
 * (XEP-0410 §3.2) and reads the answer:
 *   a result, service-unavailable, feature-not-implemented: still joined
 *     (the ping reached one of our clients, or the service answered for
 *     it, §3.3);
 *   no answer within timeout_ms, remote-server-not-found,
 *     remote-server-timeout: nothing is known (the service is out of
 *     reach): the ping is tried again after timeout_ms, nothing changes;
 *   any other error (not-acceptable: not an occupant; item-not-found:
 *     no such room any more, which §3.2 reads as a nick another of our
 *     clients changed, but servers answer for a vanished room): we are out. The conn emits
 * XT_EV_MUC_LEFT (why XT_MUC_LEFT_ERROR, reason "self-ping: CONDITION") and joins again with the
 * same nick and password and no room history (a room archive fills the gap: xtalk/muc.h);
 * XT_EV_MUC_JOINED or XT_EV_MUC_JOIN_FAILED follows. Times come from the driver (xt_conn_tick;
 * xt_conn_deadline includes the next ping), like every timer of the conn.
 */
#ifndef XTALK_SELFPING_H
#define XTALK_SELFPING_H

#include "common.h"
#include "conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XEP-0410 §4 leaves the period to the client; clients use minutes. */
#define XT_SELFPING_DEFAULT_QUIET_MS   (5u * 60u * 1000u)
#define XT_SELFPING_DEFAULT_TIMEOUT_MS (60u * 1000u)

/* Sets the quiet period before a self-ping and how long to wait for its
 * answer (0 = the defaults above); quiet_ms UINT32_MAX turns self-ping
 * off. Applies to every room, from the next tick. 0; XT_EINVAL (NULL c,
 * timeout_ms over quiet_ms). */
XT_EXTERN int xt_muc_selfping_set(xt_conn *c, uint32_t quiet_ms, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
