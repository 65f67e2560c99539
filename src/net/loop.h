/*
 * The clock shared by the transport's files and their tests. Not part of
 * the public API (xt_now_ms is the same clock).
 */
#ifndef XT_NET_LOOP_H
#define XT_NET_LOOP_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: the clock of every deadline here. */
uint64_t xt_clock_ms(void);

typedef struct xt_loop xt_loop;
/* Calls the loop made into its clients so far (on_fd, on_timer, flush):
 * for the tests that check an iteration's cost. */
uint64_t xt_loop_client_calls(const xt_loop *loop);

#endif
