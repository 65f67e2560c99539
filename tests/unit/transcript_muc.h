/*
 * tests/unit/transcript_muc.h -- the group chat (xtalk/muc.h) part of the
 * transcript runner (test_stream.c): how XT_EV_MUC_* events are written
 * for `E:` lines, and the `CALL: muc_*` actions (see
 * tests/transcripts/README.md).
 */
#ifndef XT_TEST_TRANSCRIPT_MUC_H
#define XT_TEST_TRANSCRIPT_MUC_H

#include <stddef.h>

#include "xtalk/muc.h"

/* Writes the description of a XT_EV_MUC_* event into out (NUL-terminated,
 * cut at size). 1 when ev is one, else 0 (out untouched). */
int tr_muc_describe(const xt_event *ev, char *out, size_t size);

/* Runs `CALL: VERB REST` when VERB is a muc_* action: returns 1 and sets
 * *rc to what the library returned; a failed muc_check writes why into
 * err. 0 for another verb. iq_cb/ud get IQ results. */
int tr_muc_call(xt_conn *c, const char *verb, char *rest, xt_iq_fn iq_cb, void *ud, int *rc,
                char *err, size_t errsize);

#endif
