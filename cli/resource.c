/* The installation's stable resource and its per-run slots (resource.h). */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "resource.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

/* The resource as stored: "xtalk-" and 8 hex digits. What a file holds is
 * taken if it is a short line of printable ASCII (someone may have put
 * their own there); anything else is replaced. */
#define RES_MAX 64

static int valid(const char *s, size_t n)
{
    if (n == 0 || n > RES_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

static int generate(char *out, size_t cap)
{
    unsigned char r[4];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    snprintf(out, cap, "xtalk-%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    return 0;
}

/* Reads the resource, writing a new one first when there is none. The
 * whole-file flock makes two first runs agree on one. */
static int read_or_create(int fd, char *res, size_t cap)
{
    char buf[RES_MAX + 2];
    ssize_t n;
    int rc = -1;

    if (flock(fd, LOCK_EX) != 0)
        return -1;
    n = pread(fd, buf, sizeof buf - 1, 0);
    if (n >= 0) {
        size_t len = (size_t)n;
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            len--;
        if (valid(buf, len)) {
            memcpy(res, buf, len);
            res[len] = '\0';
            rc = 0;
        } else if (generate(res, cap) == 0) {
            size_t l = strlen(res);
            res[l] = '\n';
            if (ftruncate(fd, 0) == 0 && pwrite(fd, res, l + 1, 0) == (ssize_t)(l + 1) &&
                fsync(fd) == 0)
                rc = 0;
            res[l] = '\0';
        }
    }
    int e = errno;
    flock(fd, LOCK_UN);
    errno = e;
    return rc;
}

int xt_cli_resource_pick(const char *path, char **out, int *lock_fd)
{
    char res[RES_MAX + 16];
    int fd;

    *out = NULL;
    *lock_fd = -1;
    /* 0600: the resource is not secret, but it is the user's own file. */
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return -1;
    if (read_or_create(fd, res, sizeof res) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    /* Open file description locks: owned by this descriptor, so no other
     * open/close of the file in the process drops them (as POSIX record
     * locks would), and gone with the process. */
    for (int slot = 0; slot < XT_CLI_RESOURCE_SLOTS; slot++) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = slot, .l_len = 1};
        if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
            size_t l = strlen(res);
            if (slot > 0)
                snprintf(res + l, sizeof res - l, "-%d", slot + 1);
            if (!(*out = strdup(res))) {
                close(fd);
                errno = ENOMEM;
                return -1;
            }
            *lock_fd = fd;
            return 0;
        }
        if (errno != EAGAIN && errno != EACCES)
            break;
    }
    int e = errno;
    close(fd);
    errno = e == EAGAIN || e == EACCES ? EBUSY : e;
    return -1;
}
