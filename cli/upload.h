/*
 * upload.h -- the xtalk program's file upload (XEP-0363): the file
 * checked and typed before connecting, then, once online, the upload
 * service found, a slot asked for, the file PUT with a progress bar, and
 * the GET URL handed to the command (send --file sends it; chat's
 * /upload can do the same). Failures end the session with their own exit
 * codes (report.h: XT_CLI_EXIT_TOO_BIG, XT_CLI_EXIT_TRANSFER).
 */
#ifndef XT_CLI_UPLOAD_H
#define XT_CLI_UPLOAD_H

#include <stdint.h>

#include "progress.h"
#include "session.h"
#include "xtalk/http.h"
#include "xtalk/upload.h"

typedef enum xt_cli_upload_state {
    XT_CLI_UP_IDLE = 0, /* waiting to be online */
    XT_CLI_UP_DISCOVER, /* finding the service */
    XT_CLI_UP_SLOT,     /* asking for a slot */
    XT_CLI_UP_PUT,      /* uploading */
    XT_CLI_UP_DONE,     /* the file is on the server */
    XT_CLI_UP_FAILED,
} xt_cli_upload_state;

typedef struct xt_cli_upload {
    xt_cli_session *s;
    char *path;
    uint64_t size;
    char type[256];
    xt_http *http;
    xt_http_transfer *t;
    xt_cli_progress bar;
    xt_cli_upload_state state;
    int cancelled; /* the PUT was stopped midway (Ctrl-C) */
    char get_url[XT_UPLOAD_MAX_FIELD + 1];
    /* Called once, when the PUT succeeded; get_url valid during the call. */
    void (*done)(xt_cli_session *s, const char *get_url, void *ud);
    void *ud;
} xt_cli_upload;

/* Before connecting: path must be a readable, non-empty regular file;
 * type is --type or, NULL, libmagic's guess (application/octet-stream
 * when it has none). 0, or an exit code after printing why. */
int xt_cli_upload_prepare(xt_cli_upload *u, const char *path, const char *type);
/* From the session's on_start: the HTTP engine on the session's loop,
 * trusting what the XMPP connection trusts (the same CA file). */
int xt_cli_upload_attach(xt_cli_upload *u, xt_cli_session *s);
/* From on_online: starts (or, after a connection lost before the PUT,
 * restarts) the discovery and slot request. */
void xt_cli_upload_online(xt_cli_upload *u);
/* 1 while the upload is not over (neither done nor failed). */
int xt_cli_upload_busy(const xt_cli_upload *u);
/* Cancels a running PUT and frees everything; before the session ends
 * (the engine is on its loop). */
void xt_cli_upload_free(xt_cli_upload *u);
/* xt_cli_session_run for a command with an upload (send --file, to a JID
 * or a room): the HTTP engine, on the session's loop, is freed before
 * the session and its loop are; an upload cut short says so ("nothing
 * was sent", naming `what`, the file as given). u may be one never
 * prepared (no --file): then it is just the session's run. */
int xt_cli_upload_run(xt_cli_upload *u, const char *what, xt_cli_account *acct,
                      const xt_cli_session_params *p);

#endif
