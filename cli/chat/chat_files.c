/* Files in the chat (issue 17): a received file (XEP-0066 / XEP-0447,
 * xt_message.file) becomes a numbered file line under its message, and
 * /open N hands its URL to the desktop's opener (xdg-open) or shows it.
 * The URL is a stranger's text: only an https or http URL of printable
 * ASCII (xt_file_url_check) is given a number; any other is shown as
 * text only, so no command ever opens javascript: or file:. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../download.h"
#include "../progress.h"
#include "../report.h"
#include "chat.h"
#include "chat_files.h"
#include "xtalk/http.h"
#include "xtalk/upload.h"

/* The files /open and /save can name: the newest FILES_KEPT. */
#define FILES_KEPT 100

typedef struct xt_chat_file {
    unsigned n; /* its number: 1, 2, ... for this run */
    char *url;
    char *name; /* xt_file_name: fit for the disk */
} xt_chat_file;

/* One /upload or /save in progress. */
typedef struct xt_chat_xfer {
    xt_chat *c;
    int up;     /* 1: /upload, 0: /save */
    unsigned n; /* /save: the file's number */
    char *peer; /* /upload: the conversation it goes to */
    char *path; /* /upload: the local file */
    char *name; /* its name (the slot's filename, the lines') */
    uint64_t size;
    char *get_url; /* /upload: the slot's GET URL, sent when the PUT is done */
    xt_cli_dl dl;  /* /save: where it lands */
    xt_http_transfer *t;
    struct xt_chat_xfer *next;
} xt_chat_xfer;

struct xt_chat_files {
    xt_chat_file ring[FILES_KEPT];
    unsigned next; /* the number the next file gets, from 1 */
    xt_http *http; /* made at the first transfer, on the session's loop */
    xt_chat_xfer *xfers;
    int closing; /* xt_chat_files_stop: the callbacks only clean up */
};

void xt_chat_files_fmt_size(int64_t size, char *out, size_t n)
{
    xt_cli_format_size(out, n, size < 0 ? 0 : (uint64_t)size); /* progress.h: send's units */
}

static struct xt_chat_files *files_of(xt_chat *c)
{
    if (!c->files && (c->files = calloc(1, sizeof *c->files)))
        c->files->next = 1;
    return c->files;
}

/* A new numbered file (received, or sent by us); NULL without memory. */
static xt_chat_file *remember(xt_chat *c, const char *url, const char *name)
{
    struct xt_chat_files *fs = files_of(c);
    if (!fs)
        return NULL;
    xt_chat_file *slot = &fs->ring[(fs->next - 1) % FILES_KEPT];
    char *u = strdup(url), *nm = strdup(name);
    if (!u || !nm) {
        free(u);
        free(nm);
        return NULL;
    }
    free(slot->url);
    free(slot->name);
    *slot = (xt_chat_file){.n = fs->next++, .url = u, .name = nm};
    return slot;
}

int xt_chat_files_describe(xt_chat *c, const xt_file_ref *f, char *line, size_t n)
{
    char size[32] = "";
    if (f->flags & XT_FILE_UNSAFE) {
        /* Shown, escaped by the window, never numbered: nothing opens it. */
        snprintf(line, n, "[link, not a file] %.900s", f->url);
        return XT_CHAT_LINE_ERROR;
    }
    char name[256];
    if (xt_file_name(f->name, f->url, name, sizeof name) < 0)
        return -1;
    xt_chat_file *slot = remember(c, f->url, name);
    if (!slot)
        return -1;
    if (f->size >= 0)
        xt_chat_files_fmt_size(f->size, size, sizeof size);
    snprintf(line, n, "[file %u] %s%s%s%s%s%s  /open %u  /save %u", slot->n, name,
             *size || f->media_type ? " (" : "", size, *size && f->media_type ? ", " : "",
             f->media_type ? f->media_type : "", *size || f->media_type ? ")" : "", slot->n,
             slot->n);
    if (f->flags & XT_FILE_HTTP)
        snprintf(line + strlen(line), n - strlen(line), "  (http: not encrypted)");
    return XT_CHAT_LINE_INFO;
}

void xt_chat_files_received(xt_chat *c, xt_chat_win *w, const xt_message *m, int64_t ts)
{
    char line[1024];
    int kind = xt_chat_files_describe(c, m->file, line, sizeof line);
    if (kind < 0)
        return;
    xt_chat_win_add(w, kind, ts, NULL, line, 0);
    c->dirty = 1;
}

const char *xt_chat_files_caption(const char *body, const xt_file_ref *f, char *buf, size_t n)
{
    if (body && *body)
        return body;
    if (!f)
        return "";
    if (f->desc)
        return f->desc;
    return xt_file_name(f->name, f->url, buf, n) > 0 ? buf : "(a file)";
}

xt_file_ref xt_chat_files_from_store(const xt_store_file *sf)
{
    return (xt_file_ref){.url = sf->url,
                         .desc = sf->desc,
                         .name = sf->name,
                         .media_type = sf->media_type,
                         .size = sf->size,
                         .flags = xt_file_url_check(sf->url)};
}

xt_store_file xt_chat_files_to_store(const xt_file_ref *f)
{
    return (xt_store_file){
        .url = f->url, .desc = f->desc, .name = f->name, .media_type = f->media_type, .size = f->size};
}

const char *xt_chat_files_url(xt_chat *c, unsigned n, const char **name)
{
    struct xt_chat_files *fs = c->files;
    if (!fs || n == 0 || n >= fs->next || fs->next - n > FILES_KEPT)
        return NULL;
    xt_chat_file *f = &fs->ring[(n - 1) % FILES_KEPT];
    if (name)
        *name = f->name;
    return f->url;
}

/* 1 when an executable `prog` is on PATH. */
static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char buf[4096];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n && n + strlen(prog) + 2 < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return 0;
}

/* xdg-open URL, detached: its own session, no terminal (it must not draw
 * over curses nor read our keys), reparented to init so there is no
 * child of ours to reap later. The URL is an argument, never shell text.
 * 0, or -1 when it could not be started. */
static int open_detached(const char *url)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            if (fd > 2)
                close(fd);
        }
        execlp("xdg-open", "xdg-open", url, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

/* A notice in the current window, where the command was typed. */
static void say(xt_chat *c, int kind, const char *text)
{
    xt_chat_win_add(c->wins[c->cur], kind, xt_chat_now_ms(), NULL, text, 0);
    c->dirty = 1;
}

/* The number N of "/open N" (or "/save N ..."), with a hint when it
 * names no file. */
unsigned xt_chat_files_number(xt_chat *c, const char *arg)
{
    char *end;
    unsigned long n = strtoul(arg, &end, 10);
    if (!*arg || (*end && *end != ' ') || n == 0 || n > 0xffffffffUL) {
        say(c, XT_CHAT_LINE_ERROR, "give a file's number, as its line shows: [file N]");
        return 0;
    }
    if (!xt_chat_files_url(c, (unsigned)n, NULL)) {
        char line[128];
        snprintf(line, sizeof line, "no file %lu (the last %d received are kept)", n, FILES_KEPT);
        say(c, XT_CHAT_LINE_ERROR, line);
        return 0;
    }
    return (unsigned)n;
}

void xt_chat_files_open(xt_chat *c, const char *arg)
{
    unsigned n = xt_chat_files_number(c, arg);
    if (!n)
        return;
    const char *url = xt_chat_files_url(c, n, NULL);
    char line[1200];
    if (on_path("xdg-open") && open_detached(url) == 0)
        snprintf(line, sizeof line, "file %u: opening %.1100s", n, url);
    else
        snprintf(line, sizeof line, "file %u: %.1100s", n, url);
    say(c, XT_CHAT_LINE_INFO, line);
}

/* --- Tab completion of paths (/upload PATH, /save N PATH) ---------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The characters a completed name escapes with a backslash: the blank
 * that would end the word, and the escape and quotes themselves. */
static int needs_escape(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\\' || ch == '\'' || ch == '"';
}

int xt_chat_files_path_arg(const char *arg, char *out, size_t n)
{
    size_t o = 0, keep = 0;
    const char *home = getenv("HOME");
    if (n == 0)
        return -1;
    /* "~/" is the home directory, as a shell would read it. */
    if (arg[0] == '~' && arg[1] == '/' && home) {
        int k = snprintf(out, n, "%s/", home);
        if (k < 0 || (size_t)k >= n)
            return -1;
        o = keep = (size_t)k;
        arg += 2;
    }
    for (const char *p = arg; *p; p++) {
        if (o + 1 >= n)
            return -1;
        if (*p == '\\' && needs_escape(p[1])) {
            out[o++] = *++p;
            keep = o; /* an escaped blank is part of the name */
        } else {
            out[o++] = *p;
            if (*p != ' ' && *p != '\t')
                keep = o;
        }
    }
    /* Tab completion leaves a blank after the name: not the name's. */
    out[keep] = '\0';
    return 0;
}

size_t xt_chat_files_complete_path(const char *escaped, char ***out)
{
    *out = NULL;
    /* The word as typed carries completion's escapes: the name they stand for. */
    char word[4096];
    size_t wl = 0;
    for (const char *p = escaped; *p && wl + 1 < sizeof word; p++)
        word[wl++] = *p == '\\' && needs_escape(p[1]) ? *++p : *p;
    word[wl] = '\0';
    /* "~/" is the home directory, as a shell would read it. */
    const char *home = getenv("HOME");
    char dir[4096];
    const char *slash = strrchr(word, '/');
    size_t dlen = slash ? (size_t)(slash - word) + 1 : 0;
    const char *base = word + dlen;
    if (dlen == 0)
        snprintf(dir, sizeof dir, ".");
    else if (word[0] == '~' && word[1] == '/' && home)
        snprintf(dir, sizeof dir, "%s/%.*s", home, (int)(dlen - 2), word + 2);
    else
        snprintf(dir, sizeof dir, "%.*s", (int)dlen, word);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **v = NULL;
    size_t n = 0, cap = 0, blen = strlen(base);
    struct dirent *de;
    while ((de = readdir(d)) && n < 10000) {
        const char *nm = de->d_name;
        if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
            continue;
        /* Hidden files only when asked for ("./.co" completes). */
        if ((nm[0] == '.' && base[0] != '.') || strncmp(nm, base, blen) != 0)
            continue;
        char full[4096 + 256];
        snprintf(full, sizeof full, "%s/%s", dir, nm);
        struct stat st;
        int isdir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        /* Written back escaped, so that the name stays one word. */
        char raw[4096 + 256];
        snprintf(raw, sizeof raw, "%.*s%s%s", (int)dlen, word, nm, isdir ? "/" : "");
        char *cand = malloc(2 * strlen(raw) + 1);
        if (!cand)
            break;
        size_t k = 0;
        for (const char *q = raw; *q; q++) {
            if (needs_escape(*q))
                cand[k++] = '\\';
            cand[k++] = *q;
        }
        cand[k] = '\0';
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                free(cand);
                break;
            }
            v = nv;
            cap = ncap;
        }
        v[n++] = cand;
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, by_name);
    *out = v;
    return n;
}

/* --- /upload and /save: transfers on the session's loop --------------------- */

/* The chat's xt_http, made on first use with the account's CA file (the
 * XMPP connection's TLS rules); NULL with the reason said. */
static xt_http *http_of(xt_chat *c)
{
    struct xt_chat_files *fs = files_of(c);
    if (!fs)
        return NULL;
    if (fs->http)
        return fs->http;
    const xt_cli_settings *set = xt_cli_session_settings(c->s);
    xt_http *h = NULL;
    int rc = xt_http_new(NULL, &h);
    if (!rc && set && set->ca_file)
        rc = xt_http_set_ca_file(h, set->ca_file);
    if (!rc)
        rc = xt_loop_add_http(xt_cli_session_loop(c->s), h);
    if (rc) {
        char line[200];
        snprintf(line, sizeof line, "file transfers are not available: %s",
                 rc == XT_EUNSUPPORTED ? "this xtalk was built without them" : xt_strerror(rc));
        say(c, XT_CHAT_LINE_ERROR, line);
        xt_http_free(h);
        return NULL;
    }
    return fs->http = h;
}

static void xfer_free(xt_chat_xfer *x)
{
    xt_cli_dl_drop(&x->dl);
    free(x->peer);
    free(x->path);
    free(x->name);
    free(x->get_url);
    free(x);
}

/* Unlinks x from the list and frees it. */
static void xfer_end(xt_chat_xfer *x)
{
    struct xt_chat_files *fs = x->c->files;
    for (xt_chat_xfer **p = &fs->xfers; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            break;
        }
    if (!fs->xfers)
        x->c->xfer_text[0] = '\0';
    x->c->dirty = 1;
    xfer_free(x);
}

static xt_chat_xfer *xfer_new(xt_chat *c, int up)
{
    xt_chat_xfer *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->c = c;
    x->up = up;
    x->dl.fd = -1;
    x->next = c->files->xfers;
    c->files->xfers = x;
    return x;
}

/* A line in the window the transfer belongs to (the conversation for an
 * upload, the current one for a save). */
static void xfer_say(xt_chat_xfer *x, int kind, const char *text)
{
    xt_chat *c = x->c;
    xt_chat_win *w = x->peer ? xt_chat_win_find(c, x->peer, NULL) : NULL;
    xt_chat_win_add(w ? w : c->wins[c->cur], kind, xt_chat_now_ms(), NULL, text, 0);
    c->dirty = 1;
}

/* The status bar's transfer: "up photo.jpg 45% 1.2 MB/s". */
static void on_progress(xt_http_transfer *t, uint64_t done, uint64_t total, void *ud)
{
    (void)t;
    xt_chat_xfer *x = ud;
    if (x->c->files->closing)
        return;
    char d[32];
    xt_chat_files_fmt_size((int64_t)done, d, sizeof d);
    if (total)
        snprintf(x->c->xfer_text, sizeof x->c->xfer_text, "%s %.20s %u%%", x->up ? "up" : "down",
                 x->name, (unsigned)(done * 100 / total));
    else
        snprintf(x->c->xfer_text, sizeof x->c->xfer_text, "%s %.20s %s", x->up ? "up" : "down",
                 x->name, d);
    x->c->dirty = 1;
}

static void transfer_failed(xt_chat_xfer *x, const char *what, const xt_http_result *r)
{
    char line[800];
    if (r->status == XT_EPROTO && r->http_status >= 400)
        snprintf(line, sizeof line, "%s %s failed: the server answered HTTP %ld%s%.500s", what,
                 x->name, r->http_status, r->detail && *r->detail ? ": " : "",
                 r->detail ? r->detail : "");
    else
        snprintf(line, sizeof line, "%s %s failed: %s%s%.500s", what, x->name,
                 xt_strerror(r->status), r->detail && *r->detail ? ": " : "",
                 r->detail ? r->detail : "");
    xfer_say(x, XT_CHAT_LINE_ERROR, line);
}

static void on_put_done(xt_http_transfer *t, const xt_http_result *r, void *ud)
{
    (void)t;
    xt_chat_xfer *x = ud;
    xt_chat *c = x->c;
    if (c->files->closing) {
        xfer_end(x);
        return;
    }
    if (r->status != 0) {
        /* Nothing is sent: the peer gets no link to a missing file. */
        transfer_failed(x, "upload of", r);
        xfer_end(x);
        return;
    }
    /* XEP-0363 §5: the GET URL as the body, with XEP-0066 OOB so clients
     * show it as a file; then our own numbered file line. */
    xt_store_file sf = {.url = x->get_url, .name = x->name, .size = (int64_t)x->size,
                        .media_type = NULL}; /* PUT as application/octet-stream */
    xt_chat_send_file(c, x->peer, x->get_url, &sf);
    xt_chat_file *f = remember(c, x->get_url, x->name);
    char line[600], size[32];
    xt_chat_files_fmt_size((int64_t)x->size, size, sizeof size);
    if (f)
        snprintf(line, sizeof line, "[file %u] %s (%s) sent  /open %u", f->n, x->name, size, f->n);
    else
        snprintf(line, sizeof line, "%s (%s) sent", x->name, size);
    xfer_say(x, XT_CHAT_LINE_INFO, line);
    xfer_end(x);
}

static void on_slot(xt_conn *conn, int status, const xt_upload_slot *slot, void *ud)
{
    (void)conn;
    xt_chat_xfer *x = ud;
    xt_chat *c = x->c;
    char line[600];
    if (c->files->closing) {
        xfer_end(x);
        return;
    }
    if (status != 0) {
        if (slot->refusal == XT_UPLOAD_TOO_LARGE && slot->max_size)
            snprintf(line, sizeof line,
                     "upload of %s refused: too big for this server (at most "
                     "%llu bytes)",
                     x->name, (unsigned long long)slot->max_size);
        else
            snprintf(line, sizeof line, "upload of %s refused: %s%s%.400s", x->name,
                     xt_strerror(status), slot->detail && *slot->detail ? ": " : "",
                     slot->detail ? slot->detail : "");
        xfer_say(x, XT_CHAT_LINE_ERROR, line);
        xfer_end(x);
        return;
    }
    xt_http *h = http_of(c);
    xt_http_opts o = {.content_type = "application/octet-stream",
                      .progress = on_progress,
                      .done = on_put_done,
                      .ud = x};
    int rc =
        h && (x->get_url = strdup(slot->get_url))
            ? xt_http_upload(h, slot->put_url, x->path, slot->headers, slot->nheaders, &o, &x->t)
            : XT_ENOMEM;
    if (rc) {
        snprintf(line, sizeof line, "upload of %s failed: %s %s", x->name, xt_strerror(rc),
                 h ? xt_http_errdetail(h) : "");
        xfer_say(x, XT_CHAT_LINE_ERROR, line);
        xfer_end(x);
    }
}

static int request_slot(xt_chat_xfer *x)
{
    return xt_upload_request_slot(x->c->conn, NULL, x->name, x->size, "application/octet-stream",
                                  on_slot, x);
}

static void refused_at_once(xt_chat_xfer *x, int rc)
{
    char line[400];
    const xt_upload_service *svc = xt_conn_upload_service(x->c->conn);
    if (rc == XT_ETOOBIG && svc && svc->max_size)
        snprintf(line, sizeof line,
                 "upload of %s refused: too big for this server (%llu bytes, "
                 "at most %llu)",
                 x->name, (unsigned long long)x->size, (unsigned long long)svc->max_size);
    else
        snprintf(line, sizeof line, "upload of %s failed: %s", x->name, xt_strerror(rc));
    xfer_say(x, XT_CHAT_LINE_ERROR, line);
    xfer_end(x);
}

static void on_service(xt_conn *conn, int status, const xt_upload_service *svc, void *ud)
{
    (void)conn, (void)svc;
    xt_chat_xfer *x = ud;
    if (x->c->files->closing) {
        xfer_end(x);
        return;
    }
    if (status != 0) {
        xfer_say(x, XT_CHAT_LINE_ERROR,
                 status == XT_EUNSUPPORTED ? "this server offers no file upload (XEP-0363)"
                                           : "no answer about the server's file upload");
        xfer_end(x);
        return;
    }
    int rc = request_slot(x);
    if (rc)
        refused_at_once(x, rc);
}

void xt_chat_files_upload(xt_chat *c, const char *arg)
{
    xt_chat_win *w = c->wins[c->cur];
    if (!w->peer) {
        say(c, XT_CHAT_LINE_ERROR, "/upload sends to a conversation: open one first (/msg JID)");
        return;
    }
    if (!*arg) {
        say(c, XT_CHAT_LINE_ERROR, "usage: /upload PATH (Tab completes it)");
        return;
    }
    if (!c->online || !c->conn) {
        say(c, XT_CHAT_LINE_ERROR, "offline: /upload needs the connection");
        return;
    }
    char path[4096];
    if (xt_chat_files_path_arg(arg, path, sizeof path) < 0) {
        say(c, XT_CHAT_LINE_ERROR, "/upload: the path is too long");
        return;
    }
    struct stat st;
    char line[600];
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        snprintf(line, sizeof line, "cannot send %.500s: %s", arg,
                 stat(path, &st) != 0   ? strerror(errno)
                 : !S_ISREG(st.st_mode) ? "not a regular file"
                                        : "it is empty");
        say(c, XT_CHAT_LINE_ERROR, line);
        return;
    }
    if (!files_of(c) || !http_of(c))
        return;
    xt_chat_xfer *x = xfer_new(c, 1);
    const char *base = strrchr(path, '/');
    if (!x || !(x->peer = strdup(w->peer)) || !(x->path = strdup(path)) ||
        !(x->name = strdup(base ? base + 1 : path))) {
        if (x)
            xfer_end(x);
        say(c, XT_CHAT_LINE_ERROR, "out of memory");
        return;
    }
    x->size = (uint64_t)st.st_size;
    snprintf(c->xfer_text, sizeof c->xfer_text, "up %.20s", x->name);
    /* The service is asked once per connection; after that this answers
     * from the library's cache, inside the call. */
    int rc = xt_upload_discover(c->conn, on_service, x);
    if (rc)
        refused_at_once(x, rc);
    c->dirty = 1;
}

static void on_get_done(xt_http_transfer *t, const xt_http_result *r, void *ud)
{
    (void)t;
    xt_chat_xfer *x = ud;
    xt_chat *c = x->c;
    char line[800], err[600];
    if (c->files->closing) {
        xfer_end(x);
        return;
    }
    if (r->status != 0) {
        transfer_failed(x, "saving", r);
    } else if (xt_cli_dl_commit(&x->dl, 0, err, sizeof err) != 0) {
        snprintf(line, sizeof line, "saving file %u failed: %s", x->n, err);
        xfer_say(x, XT_CHAT_LINE_ERROR, line);
    } else {
        char size[32];
        xt_chat_files_fmt_size((int64_t)r->bytes, size, sizeof size);
        snprintf(line, sizeof line, "file %u saved: %.600s (%s)", x->n, x->dl.path, size);
        xfer_say(x, XT_CHAT_LINE_INFO, line);
    }
    xfer_end(x);
}

void xt_chat_files_save(xt_chat *c, const char *a1, const char *rest)
{
    unsigned n = xt_chat_files_number(c, a1);
    if (!n)
        return;
    const char *name = NULL;
    const char *url = xt_chat_files_url(c, n, &name);
    xt_http *h = http_of(c);
    if (!h)
        return;
    /* rest: the path after the number. */
    const char *p = rest;
    char path[4096], err[600], line[800];
    if (xt_chat_files_path_arg(p, path, sizeof path) < 0) {
        say(c, XT_CHAT_LINE_ERROR, "/save: the path is too long");
        return;
    }
    xt_chat_xfer *x = xfer_new(c, 0);
    if (!x || !(x->name = strdup(name))) {
        if (x)
            xfer_end(x);
        say(c, XT_CHAT_LINE_ERROR, "out of memory");
        return;
    }
    x->n = n;
    int rc = xt_cli_dl_open(*path ? path : NULL, name, 0, &x->dl, err, sizeof err);
    if (rc) {
        snprintf(line, sizeof line, "file %u not saved: %s%s", n, err,
                 rc == XT_CLI_EXIT_USAGE ? "; give another PATH: /save N PATH" : "");
        say(c, XT_CHAT_LINE_ERROR, line);
        xfer_end(x);
        return;
    }
    xt_http_opts o = {.progress = on_progress, .done = on_get_done, .ud = x};
    if ((rc = xt_http_download(h, url, x->dl.tmp, &o, &x->t)) != 0) {
        snprintf(line, sizeof line, "file %u not saved: %s %s", n, xt_strerror(rc),
                 xt_http_errdetail(h));
        say(c, XT_CHAT_LINE_ERROR, line);
        xfer_end(x);
        return;
    }
    snprintf(c->xfer_text, sizeof c->xfer_text, "down %.20s", x->name);
    c->dirty = 1;
}

void xt_chat_files_stop(xt_chat *c)
{
    if (!c->files)
        return;
    /* Cancels what runs (each done callback only cleans up): an upload
     * cut here sends nothing, a save leaves no file. */
    c->files->closing = 1;
    xt_http_free(c->files->http);
    c->files->http = NULL;
    /* Uploads still waiting for the service or a slot are the conn's to
     * call back (XT_ECLOSED when the session ends, which frees them);
     * xt_chat_files_free takes what is left once the conn is gone. */
}

void xt_chat_files_free(xt_chat *c)
{
    if (!c->files)
        return;
    xt_chat_files_stop(c);
    while (c->files->xfers) /* the conn is gone: no callback comes now */
        xfer_end(c->files->xfers);
    for (size_t i = 0; i < FILES_KEPT; i++) {
        free(c->files->ring[i].url);
        free(c->files->ring[i].name);
    }
    free(c->files);
    c->files = NULL;
}
