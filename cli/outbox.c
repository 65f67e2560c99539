/* The CLI's local store: its location, its account key, and ids for
 * queued messages. */
#include "outbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "xtalk/jid.h"

/* mkdir -p for the directory part of path, mode 0700 (the store holds
 * message text). */
int xt_cli_make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        int e = errno;
        *p = '/';
        if (rc != 0 && e != EEXIST)
            return -1;
    }
    return 0;
}

/* The directory xtalk keeps its store in ($XDG_DATA_HOME/xtalk) is ours
 * alone: one made by an older xtalk, or by hand, with group or other
 * bits loses them (0700), so even the names of the files in it stay
 * private. Only ours is changed; the store itself checks the rest
 * (xt_store_open: the file 0600, a directory others may write refused). */
static int private_dir(char *path)
{
    char *slash = strrchr(path, '/');
    struct stat st;
    int rc = 0;

    if (!slash || slash == path)
        return 0;
    *slash = '\0';
    if (stat(path, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077))
        rc = chmod(path, st.st_mode & 0700);
    *slash = '/';
    return rc;
}

char *xt_cli_data_path(const char *name)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char *p;
    size_t n;

    if (xdg && xdg[0] == '/') {
        n = strlen(xdg) + sizeof "/xtalk/" + strlen(name);
        if ((p = malloc(n)))
            snprintf(p, n, "%s/xtalk/%s", xdg, name);
    } else if (home && home[0] == '/') {
        n = strlen(home) + sizeof "/.local/share/xtalk/" + strlen(name);
        if ((p = malloc(n)))
            snprintf(p, n, "%s/.local/share/xtalk/%s", home, name);
    } else {
        errno = ENOENT;
        return NULL;
    }
    return p;
}

int xt_cli_store_open(const xt_cli_args *a, xt_store **out, char *err, size_t errlen)
{
    char *path;
    int rc;

    *out = NULL;
    if (a->no_store)
        return 0;
    if (a->store) {
        path = strdup(a->store);
    } else {
        path = xt_cli_data_path("xtalk.db");
        if (!path && errno == ENOENT) {
            snprintf(err, errlen,
                     "cannot find the store: neither XDG_DATA_HOME nor HOME is set; give "
                     "--store FILE or --no-store");
            return XT_CLI_EXIT_CONFIG;
        }
        if (path && (xt_cli_make_parents(path) != 0 || private_dir(path) != 0)) {
            snprintf(err, errlen,
                     "cannot create the directory of the store %s: %s; give --store FILE or "
                     "--no-store",
                     path, strerror(errno));
            free(path);
            return XT_CLI_EXIT_CONFIG;
        }
    }
    if (!path) {
        snprintf(err, errlen, "out of memory");
        return XT_CLI_EXIT_ERROR;
    }
    rc = xt_store_open(path, NULL, out);
    if (rc < 0) {
        snprintf(err, errlen, "%s; give another --store FILE, or --no-store",
                 *out ? xt_store_errdetail(*out) : xt_strerror(rc));
        xt_store_close(*out);
        *out = NULL;
        free(path);
        return rc == XT_ENOMEM ? XT_CLI_EXIT_ERROR : XT_CLI_EXIT_CONFIG;
    }
    free(path);
    return 0;
}

int xt_cli_new_id(char out[64])
{
    unsigned char r[16];
    size_t got = 0;

    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    memcpy(out, "xt-", 3);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 3 + 2 * i, 3, "%02x", r[i]);
    return 0;
}

char *xt_cli_bare(const char *jid, const char **why)
{
    xt_jid *j = NULL;
    const char *w = NULL;
    char *out = NULL;

    int rc = jid ? xt_jid_parse(NULL, jid, &j, &w) : XT_EJID;
    if (rc == 0 && !(out = strdup(xt_jid_bare(j))))
        rc = XT_ENOMEM;
    xt_jid_free(j);
    if (rc < 0 && why)
        *why = rc == XT_ENOMEM ? "out of memory" : w ? w : "not a JID";
    return out;
}
