/*
 * history_bench: the chat's history on the store at scale. Fills a fresh
 * store with N messages (default 1,000,000) over 200 conversations, then
 * times what `xtalk chat` does with it: /search (xt_history_search, 100
 * newest hits) for a common word, a rare word and a prefix, and window
 * scroll-back (xt_history_page, 50 messages) at the newest end and deep in
 * a conversation. One message in 20 also holds a Chinese phrase and one in
 * 37 an emoji, for the searches the trigram index and the short-term path
 * serve (a 2-character CJK word, an emoji, 2-letter word starts, and
 * a one-letter term found almost nowhere: the bounded scan's worst case).
 * Prints figures; not a test.
 *
 *   history_bench [N] [DIR]     (DIR: where the store goes, default /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xtalk/store.h"

#define PEERS 200
#define BATCH 10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const words[] = {
    "hello", "meeting", "tomorrow", "coffee", "lunch", "project", "deadline", "release",
    "server", "bug", "fixed", "thanks", "weekend", "train", "late", "call", "review",
    "merge", "deploy", "ticket", "question", "answer", "maybe", "sure", "later", "today",
    "morning", "evening", "document", "draft", "budget", "invoice", "holiday", "flight",
    "hotel", "dinner", "birthday", "party", "music", "movie", "book", "garden", "weather",
    "rain", "sunny", "traffic", "office", "remote", "laptop", "network",
};
#define NWORDS (sizeof words / sizeof words[0])

static unsigned long long rng = 88172645463325252ull;
static unsigned next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 16);
}

static int count_fn(const xt_history_msg *m, void *ud)
{
    (void)m;
    (*(size_t *)ud)++;
    return 0;
}

static void time_search(xt_store *st, const char *q)
{
    size_t hits = 0;
    int reps = 20;
    double t0 = now_s();
    for (int i = 0; i < reps; i++) {
        hits = 0;
        if (xt_history_search(st, "me@bench", q, 100, count_fn, &hits) < 0) {
            fprintf(stderr, "search failed: %s\n", xt_store_errdetail(st));
            return;
        }
    }
    printf("  /search %-16s %3zu hits   %8.3f ms\n", q, hits, (now_s() - t0) * 1000 / reps);
}

struct oldest {
    int64_t id;
    size_t n;
};

static int oldest_fn(const xt_history_msg *m, void *ud)
{
    struct oldest *o = ud;
    o->id = m->id;
    o->n++;
    return 0;
}

static void time_pages(xt_store *st, const char *peer, int pages)
{
    struct oldest o = {0, 0};
    double t0 = now_s(), first = 0;
    int done = 0;
    for (; done < pages; done++) {
        double t = now_s();
        size_t before = o.n;
        if (xt_history_page(st, "me@bench", peer, o.id, 50, oldest_fn, &o) < 0) {
            fprintf(stderr, "page failed: %s\n", xt_store_errdetail(st));
            return;
        }
        if (done == 0)
            first = now_s() - t;
        if (o.n == before)
            break;
    }
    printf("  scroll-back %s: first page %.3f ms; %d pages of 50 (%zu msgs) %.3f ms/page\n", peer,
           first * 1000, done, o.n, (now_s() - t0) * 1000 / (done ? done : 1));
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char path[4096], body[256], peer[64], from[80];
    xt_store *st = NULL;

    snprintf(path, sizeof path, "%s/xtalk-history-bench-%ld.db", dir, (long)getpid());
    if (xt_store_open(path, NULL, &st) < 0) {
        fprintf(stderr, "open %s: %s\n", path, st ? xt_store_errdetail(st) : "?");
        xt_store_close(st);
        return 1;
    }
    printf("history_bench: %ld messages, %d conversations, store %s\n", n, PEERS, path);
    double t0 = now_s();
    int64_t base_ms = 1700000000000;
    for (long i = 0; i < n; i++) {
        if (i % BATCH == 0 && xt_store_begin(st) < 0)
            return 1;
        size_t o = 0, words_n = 4 + next() % 12;
        for (size_t w = 0; w < words_n && o < sizeof body - 40; w++)
            o += (size_t)snprintf(body + o, sizeof body - o, "%s%s", w ? " " : "",
                                  words[next() % NWORDS]);
        if (i % 20 == 3)
            o += (size_t)snprintf(body + o, sizeof body - o, " 你好世界");
        if (i % 37 == 5)
            o += (size_t)snprintf(body + o, sizeof body - o, " 😀");
        if (i % 100000 == 7) /* a rare word: 10 per million */
            snprintf(body + o, sizeof body - o, " zanzibar%ld", i);
        snprintf(peer, sizeof peer, "peer%u@example.org", (unsigned)(i % PEERS));
        int out = (int)(next() & 1);
        snprintf(from, sizeof from, "%s/res", out ? "me@bench" : peer);
        xt_history_msg m = {
            .account = "me@bench",
            .peer = peer,
            .from = from,
            .body = body,
            .outgoing = out,
            .ts_ms = base_ms + i * 1000,
        };
        if (xt_history_add(st, &m, NULL) < 0) {
            fprintf(stderr, "add failed: %s\n", xt_store_errdetail(st));
            return 1;
        }
        if ((i + 1) % BATCH == 0 || i + 1 == n)
            if (xt_store_commit(st) < 0)
                return 1;
    }
    double fill = now_s() - t0;
    printf("  fill: %.1f s (%.0f msgs/s, batches of %d)\n", fill, (double)n / fill, BATCH);

    time_search(st, "coffee");
    time_search(st, "zanzibar");
    time_search(st, "dead");
    time_search(st, "coffee lunch");
    time_search(st, "nothingmatches");
    time_search(st, "anzib");
    time_search(st, "好世界");
    time_search(st, "世界");
    time_search(st, "😀");
    time_search(st, "ok");
    time_search(st, "qz");
    time_search(st, "o");
    time_search(st, "z"); /* one letter found almost nowhere: the bounded scan */
    time_search(st, "世界 coffee");
    time_pages(st, "peer7@example.org", 1);
    time_pages(st, "peer7@example.org", 100);
    xt_store_close(st);
    unlink(path);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return 0;
}
