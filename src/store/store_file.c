/*
 * The store's files are private: the history and the unsent messages in
 * them are nobody else's business (issue 12: xtalk.db was created 0644,
 * readable by every local user, and its WAL and SHM with it).
 *
 * How, and why this way:
 * - The database file is created here, before SQLite sees it, with
 *   open(O_CREAT, 0600). SQLite would create it 0644 (less the umask),
 *   and it gives its -wal and -shm files the mode and owner of the
 *   database file (os_unix.c, findCreateFileMode), so a 0600 database
 *   keeps all three private. Creating with an explicit mode does what
 *   "umask 077 around the creation" does, without touching the
 *   process-wide umask, which a library must not change under its
 *   application's other threads.
 * - An existing database, -wal or -shm must be a regular file owned by
 *   us (else another user can read or swap it: refused, with the fix);
 *   group or other permission bits are taken away (a store made by an
 *   older xtalk was 0644). A file that is not a SQLite database (a
 *   mistyped --store) is neither changed nor opened: setup() refuses it.
 * - The directory must not let another user replace the file: a
 *   directory writable by others is refused unless it is sticky (as
 *   /tmp is: only a file's owner may then rename or remove it; the
 *   owner check covers a file someone else made first). Without this,
 *   every check on the file would be a race with whoever can rename
 *   another file over it.
 * - A symbolic link as the path is followed only when it is our own
 *   (one planted by another user in a shared directory is refused).
 */
#define _GNU_SOURCE /* O_NOFOLLOW, O_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

/* "SQLite format 3\0": the first 16 bytes of every database file. */
static const char sqlite_magic[16] = "SQLite format 3";

static int refuse(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return XT_EIO;
}

/* The directory part of path ("." for a bare name), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}

/* Whether dir or one of the directories above it lets every user rename
 * or replace what it holds (writable by others and not sticky): a check
 * on the file is worth nothing if someone else can move the directory it
 * is in away and put their own in its place. 0 when none does; XT_EIO
 * with the first such directory in *bad (malloc'd); XT_ENOMEM. A
 * directory that does not exist yet is SQLite's to report. */
static int open_ancestor(const char *dir, char **bad)
{
    char *real = realpath(dir, NULL);
    struct stat st;

    if (!real)
        return errno == ENOMEM ? XT_ENOMEM : 0;
    for (size_t n = strlen(real);;) {
        real[n] = '\0';
        if (stat(n ? real : "/", &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
            *bad = n ? real : strdup("/");
            if (!n)
                free(real);
            return *bad ? XT_EIO : XT_ENOMEM;
        }
        if (n == 0)
            break;
        char *slash = strrchr(real, '/');
        n = slash ? (size_t)(slash - real) : 0;
    }
    free(real);
    return 0;
}

/* Checks an open file: regular, ours; takes group/other bits away when
 * `fix` (a database, or its -wal/-shm). */
static int check_fd(int fd, const char *path, int fix, char *why, size_t len)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return refuse(why, len, "cannot open the store %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return refuse(why, len, "cannot open the store %s: not a regular file", path);
    if (st.st_uid != geteuid()) {
        return refuse(why, len,
                      "refusing the store %s: it belongs to user %lu, who could read or change "
                      "it; give a store of your own",
                      path, (unsigned long)st.st_uid);
    }
    if (fix && (st.st_mode & 077) && fchmod(fd, st.st_mode & 0700) != 0)
        return refuse(why, len, "cannot make the store %s private (chmod 600): %s", path,
                      strerror(errno));
    return 0;
}

/* The database's companion (-wal, -shm): if it exists, it must be ours
 * and is made private; absent is fine (SQLite creates it from the
 * database's mode). */
static int check_companion(const char *path, const char *suffix, char *why, size_t len)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (!p)
        return XT_ENOMEM;
    snprintf(p, n, "%s%s", path, suffix);
    int rc = 0;
    int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno != ENOENT)
        rc = refuse(why, len, "cannot open the store's file %s: %s", p, strerror(errno));
    else if (fd >= 0)
        rc = check_fd(fd, p, 1, why, len);
    if (fd >= 0)
        close(fd);
    free(p);
    return rc;
}

int xt_store_file_prepare(const char *path, char *why, size_t len)
{
    struct stat st;
    char *dir = dir_of(path);
    int rc = 0, fd = -1;

    if (!dir)
        return XT_ENOMEM;
    char *open_dir = NULL;
    if ((rc = open_ancestor(dir, &open_dir)) != 0) {
        if (rc == XT_EIO)
            rc = refuse(why, len,
                        "refusing the store %s: the directory %s is writable by every user, who "
                        "could replace what is in it; use a private directory (chmod o-w) or "
                        "another --store",
                        path, open_dir);
        free(open_dir);
        goto out;
    }
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && st.st_uid != geteuid()) {
        rc = refuse(why, len,
                    "refusing the store %s: it is a symbolic link another user made; give a "
                    "store of your own",
                    path);
        goto out;
    }
    /* Created 0600 here (see above); an existing file is checked. */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0) {
        rc = refuse(why, len, "cannot open the store %s: unable to open it: %s", path,
                    strerror(errno));
        goto out;
    }
    /* Only a database (or a new, empty file) has its mode changed. */
    char head[sizeof sqlite_magic];
    ssize_t got = pread(fd, head, sizeof head, 0);
    int is_db = got == 0 || (got == (ssize_t)sizeof head && memcmp(head, sqlite_magic, 16) == 0);
    if ((rc = check_fd(fd, path, is_db, why, len)) != 0)
        goto out;
    if (is_db && ((rc = check_companion(path, "-wal", why, len)) != 0 ||
                  (rc = check_companion(path, "-shm", why, len)) != 0))
        goto out;
out:
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}
