/*
 * Internals shared by loop.c and client.c: the clock, the shared TLS
 * contexts, and client registration. Not part of the public API.
 */
#ifndef XT_NET_LOOP_H
#define XT_NET_LOOP_H

#include "net/tls.h"
#include "xtalk/client.h"

/* CLOCK_MONOTONIC in milliseconds: the clock of every deadline here. */
uint64_t xt_clock_ms(void);

const xt_mem *xt_loop_mem(const xt_loop *loop);
/* A shared TLS context for these trust settings (created on first use,
 * reference-counted). XT_EINVAL with err for an unreadable ca_file. */
int xt_loop_tls_ctx(xt_loop *loop, const char *ca_file, int no_system_ca, xt_tls_ctx **out,
                    char *err, size_t errlen);
void xt_loop_tls_ctx_release(xt_loop *loop, xt_tls_ctx *ctx);

/* Client registration: attach stores the slot with xt_client_set_slot;
 * detach may run during an iteration (the slot is emptied, compacted after). */
int xt_loop_attach(xt_loop *loop, xt_client *cl);
void xt_loop_detach(xt_loop *loop, size_t slot);

/* Implemented in client.c, for the loop. */
void xt_client_set_slot(xt_client *cl, size_t slot);
/* 1 from xt_client_connect until its socket is closed. */
int xt_client_active(const xt_client *cl);
/* 1 while its TLS handshake runs (it holds one of the loop's slots). */
int xt_client_handshaking(const xt_client *cl);
/* 1 while it waits for a slot. */
int xt_client_tls_waiting(const xt_client *cl);
/* A TLS handshake slot (xt_loop_set_max_handshakes), taken by a client
 * before its ClientHello: 1 = go, 0 = wait (try again later). Counted
 * afresh each loop iteration from xt_client_handshaking, so a slot is
 * never leaked by a client that fails or is freed. */
int xt_loop_tls_slot(xt_loop *loop);

#endif
