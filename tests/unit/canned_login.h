/*
 * tests/unit/canned_login.h -- the server's side of the login in
 * tests/transcripts/_login.inc (STARTTLS, PLAIN, binding as
 * user@example.com/laptop, an empty roster), for tests and benchmarks
 * that need an xt_conn already online without a network.
 */
#ifndef XT_TEST_CANNED_LOGIN_H
#define XT_TEST_CANNED_LOGIN_H

#include "xtalk/conn.h"

/* A new conn for user@example.com/laptop (id prefix `prefix`, or the
 * random one when NULL; events to fn), started and fed the server's
 * half of the login at time 1 with everything it wrote consumed.
 * Returns it online, or NULL (freed) when any step failed. */
xt_conn *xt_test_online_conn(const char *prefix, xt_handler_fn fn, void *ud);

#endif
