/*
 * xtalk/http.h against a local HTTPS server (tests/unit/https_stub.py,
 * its own throwaway CA): uploads and downloads driven by xt_loop through
 * curl's multi socket interface, the headers sent, progress, and each
 * failure the header names (untrusted certificate, HTTP status, reset,
 * refused, too big, cancelled, redirected PUT).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

#include "xtalk/client.h"
#include "xtalk/http.h"

static struct {
    pid_t pid;
    int in; /* the stub's stdin: closing it ends the stub */
    int port;
    char ca[512];
    char dir[256];
} S;

static int start_stub(void **state)
{
    (void)state;
    const char *script = getenv("XT_HTTPS_STUB");
    assert_non_null(script);
    snprintf(S.dir, sizeof S.dir, "/tmp/xt-test-http-XXXXXX");
    assert_non_null(mkdtemp(S.dir));
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    S.pid = fork();
    assert_true(S.pid >= 0);
    if (S.pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", script, S.dir, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    S.in = in[1];
    /* Its one line says it listens: an event, not a guess of how long. */
    FILE *f = fdopen(out[0], "r");
    char line[700];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_int_equal(sscanf(line, "PORT %d CA %511s", &S.port, S.ca), 2);
    return 0;
}

static int stop_stub(void **state)
{
    (void)state;
    close(S.in);
    waitpid(S.pid, NULL, 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", S.dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

typedef struct run {
    xt_loop *loop;
    xt_http *h;
    int done;
    xt_http_result r;
    char detail[1024];
    uint64_t last, total;
    int nprogress, backwards;
    int cancel_at_progress;
    xt_http_transfer *t;
} run;

static void on_progress(xt_http_transfer *t, uint64_t done, uint64_t total, void *ud)
{
    run *r = ud;
    if (done < r->last)
        r->backwards = 1;
    r->last = done;
    r->total = total;
    r->nprogress++;
    if (r->cancel_at_progress && r->nprogress == r->cancel_at_progress)
        assert_int_equal(xt_http_cancel(t), 0);
}

static void on_done(xt_http_transfer *t, const xt_http_result *res, void *ud)
{
    run *r = ud;
    (void)t;
    r->done++;
    r->r = *res;
    snprintf(r->detail, sizeof r->detail, "%s", res->detail);
    r->r.detail = r->detail;
    xt_loop_stop(r->loop);
}

static void setup_run(run *r, int trust)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(xt_loop_new(NULL, &r->loop), 0);
    assert_int_equal(xt_http_new(NULL, &r->h), 0);
    if (trust)
        assert_int_equal(xt_http_set_ca_file(r->h, S.ca), 0);
    assert_int_equal(xt_loop_add_http(r->loop, r->h), 0);
}

static void end_run(run *r)
{
    xt_http_free(r->h);
    xt_loop_free(r->loop);
}

static xt_http_opts opts(run *r)
{
    return (xt_http_opts){.progress = on_progress, .done = on_done, .ud = r};
}

static void url(char *buf, size_t len, const char *path)
{
    snprintf(buf, len, "https://127.0.0.1:%d%s", S.port, path);
}

static void wait_done(run *r)
{
    while (!r->done)
        assert_int_equal(xt_loop_run(r->loop), 0);
    assert_int_equal(r->done, 1);
}

static void make_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t x = 12345;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245u + 12345u;
        fputc((int)(x >> 24), f);
    }
    assert_int_equal(fclose(f), 0);
}

static int same_files(const char *a, const char *b)
{
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_arguments(void **state)
{
    (void)state;
    xt_http *h;
    char u[128], path[300];
    xt_http_transfer *t = (void *)1;
    run r;
    memset(&r, 0, sizeof r);
    xt_http_opts o = opts(&r);

    assert_int_equal(xt_http_new(NULL, NULL), XT_EINVAL);
    assert_int_equal(xt_http_new(NULL, &h), 0);
    /* No way to turn verification off. */
    assert_int_equal(xt_http_set_flags(h, XT_CLIENT_INSECURE_NO_VERIFY), XT_EINVAL);
    assert_int_equal(xt_http_set_flags(h, XT_CLIENT_NO_SYSTEM_CA), 0);
    snprintf(path, sizeof path, "%s/args.bin", S.dir);
    make_file(path, 10);
    url(u, sizeof u, "/store/args");
    assert_int_equal(xt_http_upload(h, u, path, NULL, 0, &o, &t), XT_ESTATE);
    assert_null(t);
    assert_int_equal(xt_http_set_hooks(h, NULL, NULL, NULL, NULL, NULL), XT_EINVAL);
    xt_loop *loop;
    assert_int_equal(xt_loop_new(NULL, &loop), 0);
    assert_int_equal(xt_loop_add_http(loop, h), 0);
    assert_int_equal(xt_loop_add_http(loop, h), XT_ESTATE);
    /* https only; headers that could split the request are refused. */
    assert_int_equal(xt_http_upload(h, "http://127.0.0.1/x", path, NULL, 0, &o, NULL), XT_EINVAL);
    assert_int_equal(xt_http_upload(h, "ftp://127.0.0.1/x", path, NULL, 0, &o, NULL), XT_EINVAL);
    xt_http_header bad[] = {{"Authorization", "x\r\nHost: evil"}};
    assert_int_equal(xt_http_upload(h, u, path, bad, 1, &o, NULL), XT_EINVAL);
    xt_http_header badname[] = {{"X Evil", "1"}};
    assert_int_equal(xt_http_upload(h, u, path, badname, 1, &o, NULL), XT_EINVAL);
    assert_int_equal(xt_http_upload(h, u, S.dir, NULL, 0, &o, NULL), XT_EIO);
    assert_non_null(strstr(xt_http_errdetail(h), "not a regular file"));
    assert_int_equal(xt_http_upload(h, u, "/nonexistent/file", NULL, 0, &o, NULL), XT_EIO);
    xt_http_opts nodone = {0};
    assert_int_equal(xt_http_upload(h, u, path, NULL, 0, &nodone, NULL), XT_EINVAL);
    assert_int_equal(xt_http_download(h, u, "/nonexistent/dir/file", &o, NULL), XT_EIO);
    assert_int_equal(xt_http_active(h), 0);
    assert_int_equal(r.done, 0);
    xt_http_free(h);
    xt_loop_free(loop);
    xt_http_free(NULL);
}

/* A 5 MB PUT with the slot's headers, then the same bytes fetched back. */
static void test_roundtrip(void **state)
{
    (void)state;
    run r;
    char u[128], src[300], back[300], hdrs[300];
    snprintf(src, sizeof src, "%s/src.bin", S.dir);
    snprintf(back, sizeof back, "%s/back.bin", S.dir);
    snprintf(hdrs, sizeof hdrs, "%s/headers.txt", S.dir);
    make_file(src, 5 * 1024 * 1024);

    setup_run(&r, 1);
    xt_http_header hv[] = {{"Authorization", "Bearer s3cret"}, {"Cookie", "a=b"}};
    xt_http_opts o = opts(&r);
    o.content_type = "image/png";
    url(u, sizeof u, "/store/rt");
    xt_http_transfer *t = NULL;
    /* The server's answer body is not ours to print: stdout is watched. */
    char outpath[300];
    snprintf(outpath, sizeof outpath, "%s/stdout.txt", S.dir);
    fflush(stdout);
    int saved = dup(1), fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    assert_int_equal(xt_http_upload(r.h, u, src, hv, 2, &o, &t), 0);
    assert_non_null(t);
    assert_int_equal(xt_http_active(r.h), 1);
    assert_int_equal(r.done, 0); /* never inside the call */
    wait_done(&r);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    struct stat sb;
    assert_int_equal(stat(outpath, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    assert_int_equal(r.r.status, 0);
    assert_int_equal(r.r.http_status, 201);
    assert_int_equal(r.r.bytes, 5 * 1024 * 1024);
    assert_int_equal(r.last, 5 * 1024 * 1024);
    assert_int_equal(r.total, 5 * 1024 * 1024);
    assert_false(r.backwards);
    assert_true(r.nprogress >= 1);
    assert_int_equal(xt_http_active(r.h), 0);

    r.done = 0;
    r.last = 0;
    assert_int_equal(xt_http_download(r.h, u, back, &o, NULL), 0);
    wait_done(&r);
    assert_int_equal(r.r.status, 0);
    assert_int_equal(r.r.http_status, 200);
    assert_true(same_files(src, back));

    r.done = 0;
    url(u, sizeof u, "/headers/rt");
    assert_int_equal(xt_http_download(r.h, u, hdrs, &o, NULL), 0);
    wait_done(&r);
    assert_int_equal(r.r.status, 0);
    const char *got = slurp(hdrs);
    assert_non_null(strstr(got, "Content-Type: image/png\n"));
    assert_non_null(strstr(got, "Content-Length: 5242880\n"));
    assert_non_null(strstr(got, "Authorization: Bearer s3cret\n"));
    assert_non_null(strstr(got, "Cookie: a=b\n"));
    assert_null(strstr(got, "Expect"));
    end_run(&r);
}

/* Without the test CA the certificate is not trusted: XT_ECERT, whether
 * the system store is used or not. */
static void test_untrusted(void **state)
{
    (void)state;
    char u[128], dst[300];
    snprintf(dst, sizeof dst, "%s/untrusted.bin", S.dir);
    url(u, sizeof u, "/big");
    for (int nosys = 0; nosys < 2; nosys++) {
        run r;
        setup_run(&r, 0);
        if (nosys)
            assert_int_equal(xt_http_set_flags(r.h, XT_CLIENT_NO_SYSTEM_CA), 0);
        xt_http_opts o = opts(&r);
        assert_int_equal(xt_http_download(r.h, u, dst, &o, NULL), 0);
        wait_done(&r);
        assert_int_equal(r.r.status, XT_ECERT);
        assert_non_null(strstr(r.r.detail, "not trusted"));
        assert_int_equal(access(dst, F_OK), -1); /* nothing left behind */
        end_run(&r);
    }
}

static void expect_put(const char *path, int cancel_at, int status, long http, const char *detail)
{
    run r;
    char u[128], src[300];
    snprintf(src, sizeof src, "%s/put.bin", S.dir);
    make_file(src, 3 * 1024 * 1024);
    setup_run(&r, 1);
    r.cancel_at_progress = cancel_at;
    xt_http_opts o = opts(&r);
    url(u, sizeof u, path);
    assert_int_equal(xt_http_upload(r.h, u, src, NULL, 0, &o, NULL), 0);
    wait_done(&r);
    if (r.r.status != status || r.r.http_status != http || !strstr(r.r.detail, detail))
        fail_msg("%s: status %d http %ld detail [%s]", path, r.r.status, r.r.http_status,
                 r.r.detail);
    end_run(&r);
}

static void test_failures(void **state)
{
    (void)state;
    expect_put("/413", 0, XT_EPROTO, 413, "answered 413 Request Entity Too Large");
    /* The slot is for its URL: a redirect is not followed. */
    expect_put("/redirect", 0, XT_EPROTO, 307, "redirected");
    expect_put("/reset", 0, XT_EIO, 0, "reset or closed");
    expect_put("/store/cancelled", 1, XT_ECANCELED, 0, "cancelled");

    /* A download over max_size stops and leaves no file. */
    run r;
    char u[128], dst[300];
    snprintf(dst, sizeof dst, "%s/big.bin", S.dir);
    setup_run(&r, 1);
    xt_http_opts o = opts(&r);
    o.max_size = 1000;
    url(u, sizeof u, "/big");
    assert_int_equal(xt_http_download(r.h, u, dst, &o, NULL), 0);
    wait_done(&r);
    assert_int_equal(r.r.status, XT_ETOOBIG);
    assert_int_equal(access(dst, F_OK), -1);

    /* A port nobody listens on (one we bound and closed). */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    close(s);
    r.done = 0;
    snprintf(u, sizeof u, "https://127.0.0.1:%d/x", ntohs(sa.sin_port));
    assert_int_equal(xt_http_download(r.h, u, dst, &o, NULL), 0);
    wait_done(&r);
    assert_int_equal(r.r.status, XT_ECONNECT);

    /* Freeing the engine with a transfer running: done with XT_ECANCELED. */
    r.done = 0;
    url(u, sizeof u, "/big");
    assert_int_equal(xt_http_download(r.h, u, dst, &o, NULL), 0);
    xt_http_free(r.h);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.r.status, XT_ECANCELED);
    xt_loop_free(r.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_untrusted),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, start_stub, stop_stub);
}
