/*
 * bench/common.h -- what the two network benchmark clients share
 * (bench/xt_client.c on xtalk, bench/strophe_client.c on libstrophe), so
 * both measure and are driven the same way.
 */
#ifndef XT_BENCH_COMMON_H
#define XT_BENCH_COMMON_H

/* The body of every benchmark message. */
extern const char bench_body[];

double bench_now_s(void); /* CLOCK_MONOTONIC, seconds */
double bench_cpu_s(void); /* user + system CPU of this process, seconds */
long bench_rss_kb(void);  /* VmRSS, KiB; -1 if unknown */

/* "hold PREFIX N PW HOST PORT CA [INFLIGHT]": sessions PREFIX0..PREFIX(N-1). */
typedef struct bench_hold {
    const char *prefix, *pw, *host, *ca;
    int port;
    long n, inflight; /* inflight 0: all at once */
} bench_hold;

/* Reads the hold arguments from argv[2..]; the caller checked argc >= 8. */
void bench_hold_args(int argc, char **argv, bench_hold *h);

#endif
