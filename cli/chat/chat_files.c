/* Files in the chat (issue 17): a received file (XEP-0066 / XEP-0447,
 * xt_message.file) becomes a numbered file line under its message, and
 * /open N hands its URL to the desktop's opener (xdg-open) or shows it.
 * The URL is a stranger's text: only an https or http URL of printable
 * ASCII (xt_file_url_check) is given a number; any other is shown as
 * text only, so no command ever opens javascript: or file:. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chat.h"
#include "chat_files.h"

/* The files /open and /save can name: the newest FILES_KEPT. */
#define FILES_KEPT 100

typedef struct xt_chat_file {
    unsigned n; /* its number: 1, 2, ... for this run */
    char *url;
    char *name; /* xt_file_name: fit for the disk */
} xt_chat_file;

struct xt_chat_files {
    xt_chat_file ring[FILES_KEPT];
    unsigned next; /* the number the next file gets, from 1 */
};

void xt_chat_files_fmt_size(int64_t size, char *out, size_t n)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = (double)size;
    size_t u = 0;
    while (v >= 1000 && u + 1 < sizeof units / sizeof *units) {
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(out, n, "%lld B", (long long)size);
    else
        snprintf(out, n, "%.1f %s", v, units[u]);
}

static struct xt_chat_files *files_of(xt_chat *c)
{
    if (!c->files && (c->files = calloc(1, sizeof *c->files)))
        c->files->next = 1;
    return c->files;
}

void xt_chat_files_received(xt_chat *c, xt_chat_win *w, const xt_message *m, int64_t ts)
{
    const xt_file_ref *f = m->file;
    char line[1024], size[32] = "";
    if (f->flags & XT_FILE_UNSAFE) {
        /* Shown, escaped by the window, never numbered: nothing opens it. */
        snprintf(line, sizeof line, "[link, not a file] %.900s", f->url);
        xt_chat_win_add(w, XT_CHAT_LINE_ERROR, ts, NULL, line, 0);
        return;
    }
    struct xt_chat_files *fs = files_of(c);
    char name[256];
    if (!fs || xt_file_name(f->name, f->url, name, sizeof name) < 0)
        return;
    xt_chat_file *slot = &fs->ring[(fs->next - 1) % FILES_KEPT];
    char *url = strdup(f->url), *nm = strdup(name);
    if (!url || !nm) {
        free(url);
        free(nm);
        return;
    }
    free(slot->url);
    free(slot->name);
    *slot = (xt_chat_file){.n = fs->next++, .url = url, .name = nm};
    if (f->size >= 0)
        xt_chat_files_fmt_size(f->size, size, sizeof size);
    snprintf(line, sizeof line, "[file %u] %s%s%s%s%s%s  /open %u  /save %u", slot->n, name,
             *size || f->media_type ? " (" : "", size, *size && f->media_type ? ", " : "",
             f->media_type ? f->media_type : "", *size || f->media_type ? ")" : "", slot->n,
             slot->n);
    if (f->flags & XT_FILE_HTTP)
        snprintf(line + strlen(line), sizeof line - strlen(line), "  (http: not encrypted)");
    xt_chat_win_add(w, XT_CHAT_LINE_INFO, ts, NULL, line, 0);
    c->dirty = 1;
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

void xt_chat_files_free(xt_chat *c)
{
    if (!c->files)
        return;
    for (size_t i = 0; i < FILES_KEPT; i++) {
        free(c->files->ring[i].url);
        free(c->files->ring[i].name);
    }
    free(c->files);
    c->files = NULL;
}
