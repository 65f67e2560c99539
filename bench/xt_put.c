/* bench/xt_put: one HTTP PUT of a file through libxtalk's transfer engine
 * (xtalk/http.h: libcurl's multi socket interface on xt_loop), the public
 * API only, as an XEP-0363 client does it with a slot's URL and headers.
 * bench/upload_bench.py times it beside `curl -T` to another slot.
 *
 *   xt_put [--ca-file FILE] [--type TYPE] [--header 'Name: value']... URL PATH
 *
 * Exit 0 when the server answered 2xx, else 1 with the reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xtalk/xtalk.h>

static int finished, status;

static void done(xt_http_transfer *t, const xt_http_result *r, void *ud)
{
    (void)t, (void)ud;
    status = r->status;
    if (r->status)
        fprintf(stderr, "xt_put: %s (HTTP %ld): %s\n", xt_strerror(r->status), r->http_status,
                r->detail);
    finished = 1;
}

int main(int argc, char **argv)
{
    const char *ca = NULL, *type = NULL, *url = NULL, *path = NULL;
    xt_http_header hdr[8];
    char *hbuf[8];
    size_t nh = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ca-file") == 0 && i + 1 < argc) {
            ca = argv[++i];
        } else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
            type = argv[++i];
        } else if (strcmp(argv[i], "--header") == 0 && i + 1 < argc && nh < 8) {
            char *h = strdup(argv[++i]), *colon = h ? strchr(h, ':') : NULL;
            if (!colon)
                return 2;
            *colon = '\0';
            hdr[nh] = (xt_http_header){.name = h, .value = colon + 1 + (colon[1] == ' ')};
            hbuf[nh++] = h;
        } else if (!url) {
            url = argv[i];
        } else if (!path) {
            path = argv[i];
        } else {
            return 2;
        }
    }
    if (!url || !path) {
        fprintf(stderr, "usage: xt_put [--ca-file F] [--type T] [--header 'N: v'] URL PATH\n");
        return 2;
    }
    xt_loop *loop = NULL;
    xt_http *h = NULL;
    int rc = xt_loop_new(NULL, &loop);
    if (!rc)
        rc = xt_http_new(NULL, &h);
    if (!rc && ca)
        rc = xt_http_set_ca_file(h, ca);
    if (!rc)
        rc = xt_loop_add_http(loop, h);
    xt_http_opts o = {.content_type = type, .done = done};
    if (!rc)
        rc = xt_http_upload(h, url, path, hdr, nh, &o, NULL);
    if (rc) {
        fprintf(stderr, "xt_put: %s %s\n", xt_strerror(rc), h ? xt_http_errdetail(h) : "");
    } else {
        while (!finished && xt_loop_run_once(loop, -1) >= 0)
            ;
        rc = status;
    }
    xt_http_free(h);
    xt_loop_free(loop);
    for (size_t i = 0; i < nh; i++)
        free(hbuf[i]);
    return rc ? 1 : 0;
}
