/*
 * Fuzz target: the XML stream parser (src/xml/parser.c) fed hostile
 * bytes in chunks of every size, with small limits so the size and depth
 * checks are reached. Must never crash, hang or leak; whatever it
 * delivers must serialize again.
 *
 * Built for libFuzzer (meson -Dfuzz=true with clang), and with replay.c
 * as a plain program that runs the corpus in the normal test suite.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/mem.h"
#include "xml/parser.h"
#include "xtalk/stanza.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_open(void *ud, const xt_stanza *header, const char *content_ns)
{
    (void)ud;
    (void)content_ns;
    return xt_stanza_attr(header, "id") ? 0 : 0;
}

static int on_stanza(void *ud, xt_stanza *st)
{
    size_t *n = ud;
    size_t len = 0;
    char *s = xt_stanza_to_string(st, XT_NS_CLIENT, &len);
    /* A delivered element always serializes (unless memory ran out). */
    if (s)
        *n += len;
    xt_free(NULL, s);
    xt_stanza_free(st);
    return 0;
}

static int on_close(void *ud)
{
    (void)ud;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const xt_parser_callbacks cb = {on_open, on_stanza, on_close};
    const xt_parser_limits lim = {.max_stanza = 4096, .max_depth = 16};
    size_t out = 0;
    xt_parser *p = xt_parser_new(NULL, &cb, &out, &lim);
    if (!p)
        return 0;
    /* The chunk size comes from the input length, so the same bytes are
     * also tried split at every boundary across the corpus. */
    size_t chunk = 1 + size % 61;
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (xt_parser_feed(p, (const char *)data + off, n) != 0) {
            /* A failed stream names its condition and never claims to
             * have parsed more than it was given; a restart works. */
            if (!xt_parser_condition(p) || xt_parser_consumed(p) > n)
                abort();
            if (xt_parser_reset(p) != 0)
                break;
        }
    }
    xt_parser_free(p);
    return 0;
}
