/*
 * Fuzz target: the SCRAM client's parsing of what the server sends
 * (src/core/scram.c, RFC 5802 §5 and §7): server-first-message (nonce,
 * salt, iteration count, extensions, XEP-0474's h=) and
 * server-final-message (v= or e=), for each hash and GS2 flag.
 *
 * Input, one field per line (make_seeds.py writes the exchanges of
 * ../shared/vectors/scram.json in this form, so the seeds log in):
 *   0  hash digit (1 SHA-1, 2 SHA-256, 3 SHA-512) and GS2 flag (n, y, p)
 *   1  channel-binding data for 'p' (type tls-exporter)
 *   2  username   3  password   4  client nonce
 *   5  client-final extension ("x=..."), may be empty
 *   6  server-first-message
 *   7  server-final-message: the rest of the input, newlines included
 * A missing field is empty. Must never crash, hang or leak; a run that
 * passes the server's signature must have sent a proof.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "core/scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 8

/* Hi() runs at most at RFC 7677's floor: a mutated count above it is
 * refused before the PBKDF2 (which is what a count check is for), so an
 * execution costs microseconds, not the seconds a hostile i= asks. A
 * cache per hash, kept across runs, spares recomputing the seeds' key
 * (the same bytes give the same key, so only the speed depends on it). */
static xt_scram_salted cache[4];

static char *dup_field(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *f[NFIELDS];
    size_t n[NFIELDS];
    size_t off = 0;
    for (int i = 0; i < NFIELDS; i++) {
        const uint8_t *nl = i < NFIELDS - 1 ? memchr(data + off, '\n', size - off) : NULL;
        f[i] = data + off;
        n[i] = nl ? (size_t)(nl - (data + off)) : size - off;
        off += n[i] + (nl ? 1 : 0);
    }
    xt_scram_hash hash = n[0] > 0 && f[0][0] >= '1' && f[0][0] <= '3' ? (xt_scram_hash)(f[0][0] - '0')
                                                                        : XT_SCRAM_SHA1;
    char flag = n[0] > 1 && (f[0][1] == 'y' || f[0][1] == 'p') ? (char)f[0][1] : 'n';

    /* Strings in xt_scram_params are NUL-terminated: an embedded NUL in
     * a field just shortens it (the protocol strings are not, below). */
    char *user = dup_field(f[2], n[2]), *pass = dup_field(f[3], n[3]);
    char *nonce = dup_field(f[4], n[4]), *ext = dup_field(f[5], n[5]);
    xt_scram *s = NULL;
    xt_buf out;
    xt_buf_init(&out, NULL);
    if (!user || !pass || !nonce || !ext)
        goto done;
    xt_scram_params prm = {
        .hash = hash,
        .username = user,
        .password = pass,
        .cbflag = flag,
        .cb_type = flag == 'p' ? "tls-exporter" : NULL,
        .cb_data = flag == 'p' ? f[1] : NULL,
        .cb_len = flag == 'p' ? n[1] : 0,
        .nonce = nonce[0] ? nonce : NULL,
        .cache = &cache[hash],
        .max_iterations = XT_SCRAM_MIN_ITERATIONS,
        .final_ext = ext[0] ? ext : NULL,
    };
    if (xt_scram_new(NULL, &prm, &s) != 0)
        goto done;
    if (xt_scram_client_first(s, &out) != 0)
        goto done;
    xt_buf_clear(&out);
    if (xt_scram_client_final(s, f[6], n[6], &out) != 0) {
        /* Refused: every later step is refused too (scram.h). */
        if (xt_scram_server_final(s, f[7], n[7]) == 0)
            abort();
        goto done;
    }
    /* The client-final-message ends with the proof (RFC 5802 §7). */
    if (xt_buf_size(&out) < 3 || !xt_scram_auth_message(s))
        abort();
    int rc = xt_scram_server_final(s, f[7], n[7]);
    /* Verified once at most: a replayed server-final is refused. */
    if (rc == 0 && xt_scram_server_final(s, f[7], n[7]) == 0)
        abort();
    (void)xt_scram_detail(s);
done:
    xt_scram_free(s);
    xt_buf_free_wipe(&out);
    free(user);
    free(pass);
    free(nonce);
    free(ext);
    return 0;
}
