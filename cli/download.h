/*
 * download.h -- where a downloaded file lands (`xtalk get`, chat's
 * /save): complete or not at all. The bytes go to a hidden temporary
 * file beside the target (same file system), renamed into place when
 * complete and never over an existing file unless told to; removed on
 * any failure.
 */
#ifndef XT_CLI_DOWNLOAD_H
#define XT_CLI_DOWNLOAD_H

#include <stddef.h>

typedef struct xt_cli_dl {
    char *path; /* the target */
    char *tmp;  /* the temporary file (xt_http_download writes it) */
    int fd;     /* tmp's, kept open until committed */
} xt_cli_dl;

/* Decides the target: `output` (a file, or a directory to put `name`
 * in), else `name` in the current directory (name: xt_file_name's), and
 * creates the temporary file (0600). 0, or an exit code (report.h) with
 * a sentence in err: XT_CLI_EXIT_USAGE when the target exists and not
 * `force`. */
int xt_cli_dl_open(const char *output, const char *name, int force, xt_cli_dl *d, char *err,
                   size_t errlen);
/* The download is complete: the file gets the mode of a new file and
 * its name (without `force` never over a file that appeared meanwhile).
 * 0 or an exit code with err. */
int xt_cli_dl_commit(xt_cli_dl *d, int force, char *err, size_t errlen);
/* Removes what is left (the temporary file unless committed); frees. */
void xt_cli_dl_drop(xt_cli_dl *d);

#endif
