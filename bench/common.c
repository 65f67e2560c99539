/* bench/common.c -- see common.h. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

const char bench_body[] = "Are you coming to the meeting tomorrow at ten? "
                          "Bring the printed slides and the notes, please.";

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

long bench_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

void bench_hold_args(int argc, char **argv, bench_hold *h)
{
    h->prefix = argv[2];
    h->n = atol(argv[3]);
    h->pw = argv[4];
    h->host = argv[5];
    h->port = atoi(argv[6]);
    h->ca = argv[7];
    h->inflight = argc > 8 ? atol(argv[8]) : 0;
}
