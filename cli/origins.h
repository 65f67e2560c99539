/*
 * origins.h -- who sent which message, to tell a real XEP-0424
 * retraction or XEP-0308 correction from a forged one.
 *
 * Both name an earlier message by its id (the sender's origin-id, or
 * the stanza id); only the sender of that message may retract or
 * correct it (XEP-0424 §5, XEP-0308 §5). A bounded memory record of the
 * last 4096 messages seen (sender's bare JID, id) answers "did this
 * sender send that id?": yes, no (someone else did: a forgery), or
 * unknown (not seen in this run).
 */
#ifndef XT_CLI_ORIGINS_H
#define XT_CLI_ORIGINS_H

#include "xtalk/conn.h"

typedef struct xt_cli_origins xt_cli_origins;

enum { XT_CLI_ORIGIN_UNKNOWN = 0, XT_CLI_ORIGIN_SAME = 1, XT_CLI_ORIGIN_OTHER = -1 };

xt_cli_origins *xt_cli_origins_new(void);
void xt_cli_origins_free(xt_cli_origins *o);
/* Records a message: its origin-id and its stanza id, for its sender. */
void xt_cli_origins_add(xt_cli_origins *o, const xt_message *m);
/* Records one id sent by `from` (any form of JID), e.g. our own. */
void xt_cli_origins_add_id(xt_cli_origins *o, const char *from, const char *id);
/* Whether `from` sent the message `id`: XT_CLI_ORIGIN_SAME, _OTHER
 * (another sender did) or _UNKNOWN. */
int xt_cli_origins_check(const xt_cli_origins *o, const char *from, const char *id);

#endif
