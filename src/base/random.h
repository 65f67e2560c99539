/*
 * base/random.h -- the one place the library draws random bytes
 * (internal): the application's source when it set one
 * (xt_conn_opts_set_random), else OpenSSL's RAND_bytes (a CSPRNG seeded
 * from the OS).
 */
#ifndef XT_BASE_RANDOM_H
#define XT_BASE_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "xtalk/common.h"

/* Fills buf with n bytes from fn(ud) (NULL fn = RAND_bytes). 0, or
 * XT_ENOMEM when the source fails: nothing guessable is ever used in
 * place of random bytes (buf is then wiped). */
int xt_random_bytes(xt_random_fn fn, void *ud, void *buf, size_t n);

#endif
