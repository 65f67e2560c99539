/*
 * The addresses on stanzas our server delivers (RFC 6120 §8.1.1, §8.1.2,
 * RFC 7622): a 'from' or 'to' that is not a JID, or a 'to' naming another
 * account, is dropped before anything else sees the stanza (issue 12
 * item 2).
 *
 * Why a drop and not a stream error: the 'from' of a contact's stanza was
 * written by the contact's server and relayed by ours; a stream error
 * (improper-addressing, RFC 6120 §4.9.3.12, is defined for server-to-
 * server streams anyway) would let any remote server that relays a bad
 * address disconnect us at will, for an error neither we nor our server
 * made. RFC 6120 §8.1.1.1 has a server answer a bad 'to' with
 * jid-malformed; a client cannot answer a stanza whose address is not an
 * address, so it ignores it, logging why. A stanza to another account
 * (its bare JID is not ours, §8.1.1.1: the server delivers to the
 * addressed entity only) was never meant for us: presenting it would let
 * a confused or hostile server feed us someone else's traffic.
 */
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "core/jid_int.h"
#include "core/stream_int.h"
#include "xml/known.h"

/* The prepared form of `v` into buf (NUL-terminated), or 0 with `why`
 * set when it is not a JID. XT_ENOMEM as a negative value. */
static long prep(xt_stream *s, const char *v, char *buf, size_t cap, const char **why)
{
    size_t len = strlen(v);
    if (len == 0) {
        *why = "empty address";
        return 0;
    }
    size_t n = xt_jid_prep_fast(v, len, buf, cap);
    if (n)
        return (long)n;
    xt_jid *j = NULL;
    int rc = xt_jid_parse_n(s->mem, v, len, &j, why);
    if (rc == XT_ENOMEM)
        return XT_ENOMEM;
    if (rc)
        return 0;
    snprintf(buf, cap, "%s", xt_jid_full(j));
    n = strlen(buf);
    xt_jid_free(j);
    return (long)n;
}

/* Length of the bare part of a prepared JID (up to its first '/': neither
 * a localpart nor a domainpart may hold one). */
static size_t bare_len(const char *j)
{
    const char *slash = strchr(j, '/');
    return slash ? (size_t)(slash - j) : strlen(j);
}

int xt_stream_check_addressing(xt_stream *s, const xt_stanza *st)
{
    /* 3071 = RFC 7622 §3.1's 3 x 1023 bytes plus the separators: room
     * for any valid JID. */
    char buf[3072];
    const char *name = xt_stanza_name(st);
    static const xt_known attr_k[] = {XT_K_FROM, XT_K_TO};
    for (size_t i = 0; i < sizeof attr_k / sizeof *attr_k; i++) {
        const char *v = xt_stanza_attr_k(st, attr_k[i]);
        if (!v)
            continue; /* §8.1.2.1: no 'from' means our server or account */
        if (i == 0 && *v && strcmp(v, s->bind.last_from) == 0)
            continue;
        /* The common 'to', our bound full JID as the server wrote it at
         * binding: already a prepared JID, and ours. */
        if (i == 1 && s->bind.jid && strcmp(v, s->bind.jid) == 0)
            continue;
        /* Or its bare part, as the server wrote it (a message to the
         * account: listen receives these, and preparing both JIDs cost
         * ~1,300 instructions a message). */
        if (i == 1 && s->bind.jid) {
            size_t bl = bare_len(s->bind.jid);
            if (strlen(v) == bl && memcmp(v, s->bind.jid, bl) == 0)
                continue;
        }
        const char *why = "not a JID";
        long n = prep(s, v, buf, sizeof buf, &why);
        if (n < 0)
            return (int)n;
        if (n == 0) {
            xt_stream_logf(s, XT_LOG_WARN, "dropped a <%s/> whose '%s' is not a JID (%s): %.200s",
                           name, xt_known_str(attr_k[i]), why, v);
            return 1;
        }
        if (i == 0 && (size_t)n < sizeof s->bind.last_from && strlen(v) == (size_t)n)
            memcpy(s->bind.last_from, v, (size_t)n + 1);
        if (i == 1) {
            /* Our bare JID: the bound one (an anonymous account learns
             * its localpart at binding), else the configured one. */
            const char *self = s->bind.jid ? s->bind.jid : xt_jid_bare(s->cfg.jid);
            /* The bound JID is as the server wrote it: prepared here too,
             * so case or IDNA forms cannot make our own JID a stranger. */
            char mine[3072];
            const char *why2 = NULL;
            long ml = prep(s, self, mine, sizeof mine, &why2);
            if (ml < 0)
                return (int)ml;
            if (ml > 0)
                self = mine;
            size_t bl = bare_len(buf), sl = bare_len(self);
            if (bl != sl || memcmp(buf, self, bl) != 0) {
                xt_stream_logf(s, XT_LOG_WARN,
                               "dropped a <%s/> addressed to %.200s, not to this account", name,
                               buf);
                return 1;
            }
        }
    }
    return 0;
}
