/* A downloaded file lands complete or not at all (download.h). */
#define _GNU_SOURCE /* renameat2, mkostemp */
#include "download.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

int xt_cli_dl_open(const char *output, const char *name, int force, xt_cli_dl *d, char *err,
                   size_t errlen)
{
    struct stat st;
    *d = (xt_cli_dl){.fd = -1};
    if (!output) {
        d->path = strdup(name);
    } else if (stat(output, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(output) + strlen(name) + 2;
        if ((d->path = malloc(n)))
            snprintf(d->path, n, "%s/%s", output, name);
    } else {
        d->path = strdup(output);
    }
    if (!d->path) {
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    if (!force && lstat(d->path, &st) == 0) {
        snprintf(err, errlen, "%s exists", d->path);
        return XT_CLI_EXIT_USAGE;
    }
    /* Beside the target, so the rename stays on one file system; hidden,
     * so nothing takes the half-written file for the file. */
    const char *slash = strrchr(d->path, '/');
    int dlen = slash ? (int)(slash - d->path) + 1 : 0;
    size_t n = strlen(d->path) + 32;
    if (!(d->tmp = malloc(n))) {
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    snprintf(d->tmp, n, "%.*s.%s.part-XXXXXX", dlen, d->path, d->path + dlen);
    d->fd = mkostemp(d->tmp, O_CLOEXEC);
    if (d->fd < 0) {
        snprintf(err, errlen, "cannot create a file in %.*s: %s", dlen ? dlen : 1,
                 dlen ? d->path : ".", strerror(errno));
        free(d->tmp);
        d->tmp = NULL;
        return XT_CLI_EXIT_ERROR;
    }
    return 0;
}

int xt_cli_dl_commit(xt_cli_dl *d, int force, char *err, size_t errlen)
{
    mode_t um = umask(0);
    umask(um);
    /* The mode a new file gets (mkostemp's 0600 was for while it was
     * incomplete), and the bytes on disk before the name says "done". */
    if (fchmod(d->fd, 0666 & ~um) != 0 || fsync(d->fd) != 0) {
        snprintf(err, errlen, "writing %s failed: %s", d->path, strerror(errno));
        return XT_CLI_EXIT_ERROR;
    }
    int rc = force ? rename(d->tmp, d->path)
                   : renameat2(AT_FDCWD, d->tmp, AT_FDCWD, d->path, RENAME_NOREPLACE);
    if (rc != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", d->path,
                 e == EEXIST ? "it appeared meanwhile" : strerror(e));
        return e == EEXIST ? XT_CLI_EXIT_USAGE : XT_CLI_EXIT_ERROR;
    }
    free(d->tmp);
    d->tmp = NULL;
    return 0;
}

void xt_cli_dl_drop(xt_cli_dl *d)
{
    if (d->fd >= 0)
        close(d->fd);
    if (d->tmp)
        unlink(d->tmp);
    free(d->tmp);
    free(d->path);
    *d = (xt_cli_dl){.fd = -1};
}
