/*
 * The smallest program an embedder writes against an installed libxtalk:
 * built by check_install.py with only `pkg-config --cflags --libs xtalk`
 * (and run against that prefix), and by meson against the build tree so an
 * API change that breaks it fails the build first. Prints three lines the
 * test compares: the header and library versions, the parsed JID, and the
 * stream header a started conn wants to send.
 */
#include <stdio.h>
#include <string.h>
#include <xtalk/xtalk.h>

int main(void)
{
    xt_jid *jid = NULL;
    xt_conn *c = NULL;
    const uint8_t *out = NULL;
    const char *why = NULL;

    if (xt_jid_parse(NULL, "Juliet@Example.COM/balcony", &jid, &why) != 0) {
        fprintf(stderr, "jid: %s\n", why ? why : "?");
        return 1;
    }
    printf("version %s %s\n", XT_VERSION_STRING, xt_version());
    printf("jid %s %s\n", xt_jid_bare(jid), xt_jid_resource(jid));
    xt_jid_free(jid);

    xt_conn_opts *opts = NULL;
    int rc = xt_conn_opts_new(NULL, &opts);
    if (!rc)
        rc = xt_conn_opts_set_jid(opts, "juliet@example.com");
    if (!rc)
        rc = xt_conn_opts_set_password(opts, "secret");
    if (!rc)
        rc = xt_conn_new(opts, &c); /* copies the options */
    xt_conn_opts_free(opts);
    if (rc != 0 || xt_conn_start(c, 0) != 0)
        return 1;
    size_t n = xt_conn_pending(c, &out);
    printf("sends %.*s\n", (int)(n < 300 ? n : 300), (const char *)out);
    xt_conn_free(c);
    return 0;
}
