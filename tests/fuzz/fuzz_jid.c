/*
 * Fuzz target: JID preparation (src/core/jid.c, RFC 7622) and the PRECIS
 * profiles under it (src/core/precis.c, RFC 8264/8265), plus XEP-0106
 * escaping. For any bytes:
 *  - a JID that parses is stable: its full form parses to an equal JID
 *    with the same full form (RFC 7622 §3: preparation is idempotent),
 *    and its bare form to the same bare JID;
 *  - each PRECIS profile gives the same answer on its ASCII fast path
 *    and its full (UTF-32) path, and enforcing a result again is a no-op;
 *  - XEP-0106 escaping then unescaping a localpart gives it back.
 * abort() on any breach, so libFuzzer and the corpus replayer report it.
 * Seeds: the inputs of ../shared/vectors/jid.tsv and jid-escaping.tsv
 * (make_seeds.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/precis.h"
#include "xtalk/jid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_jid(const char *s, size_t n)
{
    xt_jid *j = NULL;
    const char *why = NULL;
    int rc = xt_jid_parse_n(NULL, s, n, &j, &why);
    if (rc != 0) {
        /* Every refusal says why (jid.h), and leaves no JID behind. */
        if (j || (rc == XT_EJID && !why))
            abort();
        return;
    }
    xt_jid *again = NULL, *bare = NULL;
    if (xt_jid_parse(NULL, xt_jid_full(j), &again, NULL) != 0 || !xt_jid_equal(j, again) ||
        strcmp(xt_jid_full(j), xt_jid_full(again)) != 0)
        abort();
    if (xt_jid_parse(NULL, xt_jid_bare(j), &bare, NULL) != 0 || !xt_jid_bare_equal(j, bare) ||
        xt_jid_resource(bare))
        abort();
    /* Built from its own parts, it is the same JID. */
    xt_jid *built = NULL;
    if (xt_jid_build(NULL, xt_jid_local(j), xt_jid_domain(j), xt_jid_resource(j), &built, NULL) !=
            0 ||
        !xt_jid_equal(j, built))
        abort();
    xt_jid_free(built);
    xt_jid_free(bare);
    xt_jid_free(again);
    xt_jid_free(j);
}

static void check_precis(xt_precis_profile prof, const char *s, size_t n)
{
    uint8_t *fast = NULL, *full = NULL;
    size_t fastn = 0, fulln = 0;
    const char *why1 = NULL, *why2 = NULL;
    int r1 = xt_precis_enforce(prof, XT_PRECIS_OTHER, XT_PRECIS_FAST_PATH, s, n, &fast, &fastn, &why1);
    int r2 = xt_precis_enforce(prof, XT_PRECIS_OTHER, XT_PRECIS_FULL_PATH, s, n, &full, &fulln, &why2);
    if (r1 == XT_ENOMEM || r2 == XT_ENOMEM)
        goto done;
    if (r1 != r2 || (r1 == 0 && (fastn != fulln || memcmp(fast, full, fastn) != 0)))
        abort();
    if (r1 == 0) {
        uint8_t *twice = NULL;
        size_t twicen = 0;
        int r3 = xt_precis_enforce(prof, XT_PRECIS_OTHER, XT_PRECIS_FULL_PATH, (const char *)full,
                                   fulln, &twice, &twicen, NULL);
        if (r3 != XT_ENOMEM && (r3 != 0 || twicen != fulln || memcmp(twice, full, fulln) != 0))
            abort();
        free(twice);
    }
done:
    free(fast);
    free(full);
}

static void check_escape(const char *s)
{
    char *esc = NULL, *back = NULL;
    if (xt_jid_escape_local(NULL, s, &esc) == 0 && xt_jid_unescape_local(NULL, esc, &back) == 0) {
        /* XEP-0106 §4.1: a localpart starting or ending with a space is
         * not unescaped (it would not be a valid one), so it stays. */
        size_t n = strlen(s);
        int edge_space = n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
        if (!edge_space && strcmp(s, back) != 0)
            abort();
    }
    xt_free(NULL, esc);
    xt_free(NULL, back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    check_jid(s, size);
    check_precis(XT_PRECIS_USERNAME_CASEMAPPED, s, size);
    check_precis(XT_PRECIS_OPAQUE, s, size);
    uint8_t *dom = NULL;
    size_t domn = 0;
    if (xt_precis_domain_map(s, size, &dom, &domn) == 0)
        free(dom);
    char *z = malloc(size + 1);
    if (z) {
        memcpy(z, data, size);
        z[size] = '\0';
        check_escape(z);
        free(z);
    }
    return 0;
}
