/*
 * progress.h -- a one-line progress bar on stderr for file transfers
 * (send --file; `xtalk get` and chat may use it too): bytes, rate, ETA.
 * Drawn only when stderr is a terminal; elsewhere (a pipe, a log, cron)
 * every call is a no-op, so callers need not ask.
 */
#ifndef XT_CLI_PROGRESS_H
#define XT_CLI_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct xt_cli_progress {
    FILE *out;      /* NULL: not drawing */
    char label[48]; /* the file name, shortened to fit */
    uint64_t total, start_ms, last_ms;
    int width; /* the terminal's columns */
    int drawn; /* a line is on screen */
} xt_cli_progress;

/* Starts a bar for `label` (a path: its last component is shown) of
 * `total` bytes (0 = unknown) on stderr, if stderr is a terminal. */
void xt_cli_progress_start(xt_cli_progress *p, const char *label, uint64_t total, uint64_t now_ms);
/* Redraws with `done` bytes at now_ms (at most ~10 times a second). */
void xt_cli_progress_update(xt_cli_progress *p, uint64_t done, uint64_t now_ms);
/* Clears the line (before an error message or the end), so nothing of
 * the bar is left mixed into what follows. */
void xt_cli_progress_clear(xt_cli_progress *p);

/* "1.5 MB", "512 B": decimal units (SI), as disk and network tools use;
 * for the messages around a transfer too. */
void xt_cli_format_size(char *buf, size_t len, uint64_t bytes);
/* The line itself, for the tests: width columns at most. */
void xt_cli_progress_format(char *buf, size_t len, const char *label, uint64_t done, uint64_t total,
                            uint64_t elapsed_ms, int width);

#endif
