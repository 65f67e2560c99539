/*
 * im/conn_int.h -- the xt_conn object (internal to src/im and its tests).
 *
 * An xt_conn is an xt_stream (src/core: negotiation, IQ tracking,
 * keepalive) plus the IM state of RFC 6121 (roster, presence table) and
 * the application's event handlers. The IM files each implement their
 * part of the public API on this struct.
 */
#ifndef XT_IM_CONN_INT_H
#define XT_IM_CONN_INT_H

#include "core/stream.h"
#include "im/disco.h"
#include "im/presence.h"
#include "im/roster.h"
#include "xtalk/conn.h"
#include "xtalk/im.h"

/* The presence sent at login (RFC 6121 §4.2). */
typedef struct xt_initial_presence {
    xt_show show;
    char *status;
    int priority;
} xt_initial_presence;

/* The public options object (opts.c). `core` is handed to the stream;
 * its strings point at the copies owned here. */
struct xt_conn_opts {
    xt_mem mem_copy;
    const xt_mem *mem; /* &mem_copy, or NULL for malloc */
    xt_stream_config core;
    char *jid, *password, *resource, *sasl_hint, *id_prefix;
    char *ua_id, *ua_software, *ua_device, *fast_mech, *fast_token;
    xt_fast_token_fn fast_fn;
    void *fast_ud;
    xt_initial_presence initial;
    xt_disco_self self; /* XEP-0030 identity and extra features */
    char detail[256]; /* why the last setter failed */
};

typedef struct xt_handler {
    int id;
    unsigned mask;
    xt_handler_fn fn; /* NULL = removed while events were being emitted */
    void *ud;
} xt_handler;

struct xt_conn {
    xt_stream s; /* first: its allocator copy must not move */
    struct {
        xt_handler *v;
        size_t n, cap;
        int next_id;
        int emitting; /* depth of xt_conn_emit calls */
        int dirty;    /* some were removed while emitting: compact later */
    } handlers;
    xt_roster roster;
    xt_presence_table presence;
    xt_disco_state disco; /* disco.c, caps.c */
    xt_initial_presence initial;
    /* 1 while our last broadcast presence was available: only then does
     * close announce unavailable (a NO_PRESENCE session never appeared). */
    int available;
    /* The transport's reconnect plan (xt_client): fills retry_in_ms. */
    uint32_t (*plan_retry)(void *ud, const xt_disconnected *d);
    void *plan_retry_ud;
    /* XEP-0484 tokens for the application (xt_conn_opts_set_fast_token_cb). */
    xt_fast_token_fn fast_fn;
    void *fast_ud;
    xt_receipt_policy receipts; /* XEP-0184 answers (receipts.c) */
    struct {
        char **v; /* prepared JIDs (blocking.c) */
        size_t n, cap;
        int loaded; /* the server's list arrived */
    } blocked;
    int csi_inactive; /* XEP-0352: the application said inactive (csi.c) */
};

/* Calls every handler registered for ev->type. Handlers may register or
 * remove handlers meanwhile. */
void xt_conn_emit(xt_conn *c, const xt_event *ev);

/* Incoming stanzas (after XT_EV_STANZA). Negative = fail the stream. */
int xt_im_on_message(xt_conn *c, const xt_stanza *st);
int xt_im_on_presence(xt_conn *c, const xt_stanza *st);
/* IQ get/set: 1 handled, 0 not ours, negative = fail the stream. */
int xt_im_on_roster_iq(xt_conn *c, const xt_stanza *iq);
/* Login: requests the roster (RFC 6121 §2.2). */
int xt_im_request_roster(xt_conn *c);
/* Builds <presence/> with show/status/priority (RFC 6121 §4.7). */
int xt_im_send_presence(xt_conn *c, xt_show show, const char *status, int priority);

/* An outgoing chat message, all strings already validated (XML text,
 * `to` a prepared JID, type one of the four RFC 6121 types). */
typedef struct xt_im_message_out {
    const char *to;
    size_t to_len;
    const char *type; /* chat, normal, groupchat or headline (written as is) */
    const char *id;   /* also the XEP-0359 origin-id */
    size_t id_len;
    const char *body;   /* NULL = none */
    const char *thread; /* NULL = none */
    /* Message features (im.h), written after the thread: */
    int request_receipt;    /* XEP-0184 <request/> */
    const char *chatstate;  /* XEP-0085 element name, NULL = none */
    const char *replace_id; /* XEP-0308 <replace id/>, NULL = none */
} xt_im_message_out;
/* Appends the <message/> exactly as xt_stanza_serialize writes the
 * equivalent tree in jabber:client (xt_conn_send_message's wire form),
 * without building one. On error b may hold part of it: the caller cuts
 * it back (xt_stream_send_written does). */
int xt_im_write_message(xt_buf *b, const xt_im_message_out *m);

/* 1 when jid (any form) is our account's bare JID. */
int xt_im_is_own_bare(xt_conn *c, const char *jid);

/* 1 when s is complete UTF-8 made of XML 1.0 characters. */
int xt_im_text_ok(const char *s);

/* Tests only (transcripts): a fixed SCRAM client nonce and stanza id
 * prefix, so recorded exchanges replay byte for byte. Not exported. */
int xt_conn_set_test_nonce(xt_conn *c, const char *nonce);
void xt_conn_set_test_id_prefix(xt_conn *c, const char *prefix);

#endif
