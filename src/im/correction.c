/*
 * XEP-0308 Last Message Correction (v1.2.0) and XEP-0245 The /me Command
 * (v1.0), as received: the fields of xt_message. Sending a correction is
 * xt_message_extras.replace_id (message.c writes it).
 */
#include <string.h>

#include "im/msgext.h"

/* XEP-0308 §4: <replace id='ID of the message corrected'/>. Whether the
 * sender may correct it (the same bare JID sent the original, §5) is the
 * application's check: only it knows who sent ID. */
const char *xt_im_correction_of(const xt_stanza *ch)
{
    if (strcmp(xt_stanza_name(ch), "replace") != 0)
        return NULL;
    const char *id = xt_stanza_attr(ch, "id");
    return id && *id ? id : NULL;
}

/* XEP-0245 §2: a body starting with the four characters "/me " (a
 * space after it, so "/meow" is not an action). */
int xt_im_me_parse(const char *body)
{
    return body && strncmp(body, "/me ", 4) == 0;
}
