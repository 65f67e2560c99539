/*
 * tests/perf/listen_micro.c -- the instruction count of what `xtalk
 * listen --json` adds per received message above the library's receive
 * path (issue 14): the repeat record (cli/dedup.c over the store's
 * in-memory set, one store row per burst) and the JSON line (cli/json.c,
 * cli/output.c) into a stdio buffer, in bursts of BURST messages each
 * ended as listen ends a read burst (flush, then commit the records).
 *
 *   listen_micro N STORE_PATH
 *
 * Meant to run under `valgrind --tool=callgrind
 * --toggle-collect=xtb_region_*` (tests/perf/perf_guard.py): only the
 * region functions count, not building the messages nor opening the
 * store. The message is bench/micro.c's (340 bytes on the wire: a
 * 96-byte body, an origin-id, the server's stanza-id). Prints "ok N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "json.h"
#include "output.h"
#include "xtalk/store.h"

#define BURST 64
#define NOINLINE __attribute__((noinline))

static FILE *out;
static xt_cli_json json;

NOINLINE void xtb_region_listen_message(xt_cli_dedup *d, const xt_message *m);
NOINLINE void xtb_region_listen_message(xt_cli_dedup *d, const xt_message *m)
{
    if (xt_cli_dedup_check(d, m, NULL) == 1)
        return;
    if (xt_cli_out_message(out, &json, m) != 0)
        abort();
}

NOINLINE void xtb_region_listen_burst(xt_cli_dedup *d);
NOINLINE void xtb_region_listen_burst(xt_cli_dedup *d)
{
    if (fflush(out) == EOF || xt_cli_dedup_end_burst(d, NULL) < 0)
        abort();
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: listen_micro N STORE_PATH\n", stderr);
        return 2;
    }
    long n = atol(argv[1]);
    xt_store *st = NULL;
    remove(argv[2]);
    if (xt_store_open(argv[2], NULL, &st) != 0) {
        fprintf(stderr, "listen_micro: %s\n", xt_store_errdetail(st));
        return 1;
    }
    xt_cli_dedup *d = xt_cli_dedup_new(st, "bob@localhost");
    if (!d || !(out = fopen("/dev/null", "w")))
        return 1;
    xt_cli_dedup_set_batched(d, 1);
    xt_cli_json_init(&json);
    /* A first message outside the count: the store's lazy set-up (the
     * hash key, the empty set) is per process, not per message. */
    xt_message m0 = {.from = "alice@localhost/warm", .type = "chat", .id = "w", .body = "w",
                     .origin_id = "warm-up"};
    xtb_region_listen_message(d, &m0);
    xtb_region_listen_burst(d);
    static const char body[] = "Are you coming to the meeting tomorrow at ten? "
                               "Bring the printed slides and the notes, please.";
    for (long i = 0; i < n; i++) {
        char id[48], sid[48];
        snprintf(id, sizeof id, "2cbafef4631b-%ld", i);
        snprintf(sid, sizeof sid, "KWObiZvKVlk5Y6dA%08ld", i);
        xt_message m = {.from = "alice@localhost/xt_client~FSNyrHotOAye2y83sTYiCmGL",
                        .to = "bob@localhost",
                        .type = "chat",
                        .id = id,
                        .lang = "en",
                        .body = body,
                        .origin_id = id,
                        .stanza_id = sid,
                        .stanza_id_by = "bob@localhost",
                        .source = XT_SRC_LIVE,
                        .direction = XT_DIR_IN};
        xtb_region_listen_message(d, &m);
        if ((i + 1) % BURST == 0)
            xtb_region_listen_burst(d);
    }
    xtb_region_listen_burst(d);
    xt_cli_dedup_free(d);
    xt_cli_json_free(&json);
    fclose(out);
    xt_store_close(st);
    remove(argv[2]);
    printf("ok %ld\n", n);
    return 0;
}
