/*
 * output.h -- printing events for listen (and parts of roster): the
 * human one-line form and the --json form (one object per line, absent
 * fields omitted). Lines are not flushed here: listen flushes once per
 * read burst (before the server hears the burst was handled), so a pipe
 * reader sees each burst's events as they arrive, in one write. Nothing
 * is allocated per line (the JSON buffer is reused, sanitized text is
 * written as it is scanned).
 *
 * Text from the network is never written raw: every field goes through
 * sanitize.h (controls, bidi and format characters escaped, newlines
 * escaped so a field cannot forge a line); restricted values (message
 * type, show, subscription) are validated first.
 */
#ifndef XT_CLI_OUTPUT_H
#define XT_CLI_OUTPUT_H

#include <stdio.h>

#include "json.h"
#include "xtalk/conn.h"
#include "xtalk/mam.h"
#include "xtalk/im.h"
#include "xtalk/muc.h"

/* Each returns 0, or -1 when writing failed (e.g. EPIPE). j NULL = human. */
int xt_cli_out_message(FILE *out, xt_cli_json *j, const xt_message *m);
/* The end of the login's archive catch-up (XEP-0313). */
int xt_cli_out_archive_done(FILE *out, xt_cli_json *j, const xt_archive_event *a);
int xt_cli_out_presence(FILE *out, xt_cli_json *j, const xt_presence *p);
int xt_cli_out_subscription(FILE *out, xt_cli_json *j, const xt_subscription *sub);
int xt_cli_out_roster_push(FILE *out, xt_cli_json *j, const xt_roster_item *item);
/* The message features' events (xtalk/im.h), one line each. */
int xt_cli_out_receipt(FILE *out, xt_cli_json *j, const xt_receipt *r);
int xt_cli_out_chatstate(FILE *out, xt_cli_json *j, const xt_chatstate_event *c);
int xt_cli_out_reaction(FILE *out, xt_cli_json *j, const xt_reaction *r);
int xt_cli_out_retraction(FILE *out, xt_cli_json *j, const xt_retraction *r);

/* A group chat event (XT_EV_MUC_*, xtalk/muc.h), output_muc.c. */
int xt_cli_out_muc(FILE *out, xt_cli_json *j, const xt_event *ev);

/* The "show" word for a presence: "available", "away", ..., "unavailable". */
const char *xt_cli_show_word(const xt_presence *p);

#endif
