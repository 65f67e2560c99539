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
#include "im/muc_int.h"
#include "im/roster.h"
#include "xtalk/conn.h"
#include "xtalk/im.h"
#include "xtalk/mam.h"

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
    char detail[256];   /* why the last setter failed */
};

/* XEP-0280 (carbons.c). */
typedef enum xt_carbons_phase {
    XT_CARBONS_OFF = 0,
    XT_CARBONS_ENABLING, /* <enable/> sent */
    XT_CARBONS_ON,
} xt_carbons_phase;
typedef struct xt_carbons_state {
    xt_carbons_phase phase;
} xt_carbons_state;

/* XEP-0313 (mam.c). */
typedef struct xt_mam_query_int xt_mam_query_int;
typedef struct xt_mam_state {
    xt_mam_query_int *queries; /* outstanding, each with its queryid */
    char *last_id;             /* the newest archive id seen (catch-up point) */
    int64_t last_ms;           /* its archive stamp (ms since the epoch), 0 = unknown */
    int next_tag;
    int catching_up; /* the login catch-up runs or may still start (a new session
                        before the server's features): live ids do not move last_id */
    uint32_t window; /* 0 = XT_MAM_DEFAULT_WINDOW */
    int session_done; /* this session's catch-up was started */
} xt_mam_state;

/* XEP-0172 nicknames from PEP notifications (nick.c): bare JID ->
 * nick, indexed; bounded by who may notify (our account and the roster,
 * pep.c) and by XT_NICK_MAX. */
#define XT_NICK_MAX 20001
typedef struct xt_nick_entry {
    char *jid, *nick;
} xt_nick_entry;
typedef struct xt_nick_table {
    xt_nick_entry *v;
    size_t n, cap;
    xt_index ix;
} xt_nick_table;

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
    xt_carbons_state carbons;
    xt_mam_state mam;
    struct xt_upload_state *upload; /* upload.c: XEP-0363 service, NULL until asked */
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
    struct xt_bm_req *bm_reqs; /* bookmark calls under way (bookmarks.c) */
    xt_nick_table nicks; /* XEP-0172 (nick.c) */
    xt_muc_rooms muc; /* XEP-0045 rooms (muc*.c) */
};

/* Calls every handler registered for ev->type. Handlers may register or
 * remove handlers meanwhile. */
void xt_conn_emit(xt_conn *c, const xt_event *ev);

#define XT_NS_DELAY   "urn:xmpp:delay"
#define XT_NS_SID     "urn:xmpp:sid:0"
#define XT_NS_CARBONS "urn:xmpp:carbons:2"
#define XT_NS_FORWARD "urn:xmpp:forward:0"
#define XT_NS_HINTS   "urn:xmpp:hints"
#define XT_NS_MAM     "urn:xmpp:mam:2"
#define XT_NS_RSM     "http://jabber.org/protocol/rsm"

/* How a message reached us when it came wrapped (carbons, archive). */
typedef struct xt_im_wrapped {
    xt_msg_source source;
    xt_msg_direction direction;
    const xt_stanza *forwarded;          /* the XEP-0297 <forwarded/>, or NULL */
    const char *archive_id, *archive_by; /* XEP-0313 result id and its archive */
    int archive_tag;                     /* the fetch it answers (0: the catch-up) */
} xt_im_wrapped;

/* The fields of a <message/> (st itself, or the one inside a wrapper). */
void xt_im_message_fill(xt_conn *c, const xt_stanza *st, xt_message *m);

/* Adds the query child to a get IQ; NULL on failure. */
typedef xt_stanza *(*xt_im_build_fn)(xt_stanza *iq, const void *arg);
/* A get IQ to jid (its full form, or with full == 0 its bare JID; NULL:
 * no 'to', our account answers) whose child build() adds, tracked with
 * the default timeout: ping, vCard, PEP items. The errors of
 * xt_conn_iq, XT_EJID. */
int xt_im_query(xt_conn *c, const char *jid, int full, xt_im_build_fn build, const void *arg,
                xt_iq_fn cb, void *ud);
/* Emits XT_EV_MESSAGE for inner as w says. Negative = fail the stream. */
int xt_im_deliver(xt_conn *c, const xt_stanza *inner, const xt_im_wrapped *w);
/* An XEP-0082 DateTime in ms since the epoch; 0 when unparsable. */
int64_t xt_im_parse_stamp(const char *s);
/* Wrapped messages: a carbon (XEP-0280) and an archive result (XEP-0313).
 * Both are checked to come from our own account; others are dropped. */
int xt_carbons_on_message(xt_conn *c, const xt_stanza *outer, const xt_stanza *wrapper);
int xt_mam_on_result(xt_conn *c, const xt_stanza *outer, const xt_stanza *result);

/* Frees the bookmark calls still under way (xt_conn_free). */
void xt_bookmarks_free(xt_conn *c);

/* Session setup once the server's features are known. */
/* A new session (not a resumed one): carbons off, or on when Bind2
 * enabled them inline. */
void xt_carbons_session_new(xt_conn *c);
int xt_carbons_enable(xt_conn *c);
int xt_mam_catchup(xt_conn *c);
/* A new session: its catch-up is still to come. */
void xt_mam_session_new(xt_conn *c);
void xt_mam_free(xt_conn *c);
/* A message not from the archive carried our archive's stanza-id. */
int xt_mam_saw_live(xt_conn *c, const char *stanza_id);

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
    const char *oob_url;    /* XEP-0066 <x xmlns='jabber:x:oob'><url/>, NULL = none */
    int muc_user;           /* XEP-0045 §7.5 <x xmlns='...muc#user'/> (a private message) */
} xt_im_message_out;
/* Appends the <message/> exactly as xt_stanza_serialize writes the
 * equivalent tree in jabber:client (xt_conn_send_message's wire form),
 * without building one. On error b may hold part of it: the caller cuts
 * it back (xt_stream_send_written does). */
int xt_im_write_message(xt_buf *b, const xt_im_message_out *m);

/* upload.c: drops the cached XEP-0363 service and pending discoveries
 * (their callbacks are not called: the conn is going away). */
void xt_upload_free_state(xt_conn *c);
/* Appends a deep copy of src (a received or built element) under
 * parent (pep.c; bookmarks.c, vcard.c). 0, XT_EINVAL (nested past 64),
 * XT_ENOMEM. */
int xt_im_copy_under(xt_stanza *parent, const xt_stanza *src);
/* A live <message/> with a pubsub#event child `ev` (XEP-0163): checks
 * the sender, emits XT_EV_PEP per item (pep.c). 0 or XT_ENOMEM. */
int xt_pep_on_event(xt_conn *c, const xt_stanza *msg, const xt_stanza *ev);
/* The nick table (nick.c): a notification of the nick node from bare
 * (prepared) jid: payload NULL forgets it. 0 or XT_ENOMEM. */
int xt_nick_note(xt_conn *c, const char *jid, const xt_stanza *payload);
void xt_nick_free(xt_conn *c);
/* A type chat message with <x xmlns='...muc#user'/> (XEP-0045 §7.5: a
 * private message to an occupant); the errors of xt_conn_send_message. */
int xt_im_send_private(xt_conn *c, const char *to, const char *body, char id_out[64]);

/* 1 when jid (any form) is our account's bare JID. */
int xt_im_is_own_bare(xt_conn *c, const char *jid);


/* 1 when s is complete UTF-8 made of XML 1.0 characters. */
int xt_im_text_ok(const char *s);

/* Tests only (transcripts): a fixed SCRAM client nonce and stanza id
 * prefix, so recorded exchanges replay byte for byte. Not exported. */
int xt_conn_set_test_nonce(xt_conn *c, const char *nonce);
void xt_conn_set_test_id_prefix(xt_conn *c, const char *prefix);

#endif
