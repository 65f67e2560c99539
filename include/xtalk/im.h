/*
 * xtalk/im.h -- the message features of an IM client (XEP-0479's IM
 * profile): delivery receipts (XEP-0184), chat states (XEP-0085), last
 * message correction (XEP-0308), /me (XEP-0245), reactions (XEP-0444)
 * and message retraction (XEP-0424, receiving).
 *
 * Receiving. Every <message/> the conn hands to XT_EV_MESSAGE has these
 * parsed into its xt_message (receipt_request, receipt_id, chatstate,
 * replace_id, me), whatever its source; then, for the same message, the
 * feature's own event follows: XT_EV_RECEIPT, XT_EV_CHATSTATE,
 * XT_EV_REACTION, XT_EV_RETRACTION (see xtalk/conn.h for their fields).
 *
 * Who may do what is partly the application's to check, since only it
 * knows who sent which message: a correction (XEP-0308 §5) or a
 * retraction (XEP-0424 §5) counts only when it comes from the bare JID
 * that sent the original message; anything else is a forgery to ignore.
 *
 * Sending follows xtalk/conn.h: the same errors and lifetimes.
 */
#ifndef XTALK_IM_H
#define XTALK_IM_H

#include "conn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- sending messages with features ---------------------------------------- */

/* xt_message_extras.request_receipt */
enum {
    XT_RECEIPT_NONE = 0,
    XT_RECEIPT_REQUEST = 1, /* always ask */
    /* Ask unless `to` is a full JID whose verified caps (xtalk/disco.h)
     * lack urn:xmpp:receipts (XEP-0184 §5: a bare JID's resources cannot
     * be known, so asking there is allowed; an unknown client is asked). */
    XT_RECEIPT_AUTO = 2,
};

/* What a message carries besides its body. Zero-initialize it (fields may
 * be added at the end later). */
typedef struct xt_message_extras {
    /* XEP-0184 §5.1: ask the recipient's client for a receipt
     * (XT_RECEIPT_*); XT_EV_RECEIPT with this message's id follows when it
     * answers. Never sent for groupchat messages (§5.3). */
    int request_receipt;
    /* XEP-0085: the chat state sent with the message (normally ACTIVE);
     * NONE = none. */
    xt_chatstate chatstate;
    /* XEP-0308: this message corrects the earlier one with this id (the
     * id it was sent with); NULL = a new message. */
    const char *replace_id;
    /* XEP-0066 §3.1: <x xmlns='jabber:x:oob'><url>oob_url</url></x>, the
     * way a shared file (XEP-0363 §5, xtalk/upload.h) is marked so that
     * clients show it as one; the body should carry the same URL for
     * those that do not. NULL = none. */
    const char *oob_url;
} xt_message_extras;

/* xt_conn_send_message with extras (x NULL = none) and, when id is not
 * NULL, a caller-chosen id (as xt_conn_send_message_id). The id on the
 * wire is copied to id_out when not NULL. XT_EINVAL also for a
 * replace_id that is not 1..63 XML-safe characters or an unknown
 * chatstate. */
XT_EXTERN int xt_conn_send_message_ex(xt_conn *c, const char *to, const char *type,
                                      const char *body, const char *thread, const char *id,
                                      const xt_message_extras *x, char id_out[64]);

/* --- XEP-0184 receipts --------------------------------------------------- */

/* Whom the conn answers receipt requests for: it sends <received/> by
 * itself for each live message that asks (never for groupchat or error
 * messages, nor for archived or forwarded copies, XEP-0184 §5). */
typedef enum xt_receipt_policy {
    /* Default. Only to those allowed to see our presence (roster
     * subscription "from" or "both") and our own account: a receipt says
     * we are online (XEP-0184 §8). */
    XT_RECEIPTS_AUTHORIZED = 0,
    XT_RECEIPTS_ALWAYS, /* to anyone who asks */
    XT_RECEIPTS_NEVER,
} xt_receipt_policy;

/* 0; XT_EINVAL (c NULL, unknown policy). */
XT_EXTERN int xt_conn_set_receipt_policy(xt_conn *c, xt_receipt_policy policy);

/* --- XEP-0085 chat states ------------------------------------------------- */

/* "active", "composing", "paused", "inactive", "gone"; NULL for NONE or
 * an unknown value. Static strings. */
XT_EXTERN const char *xt_chatstate_name(xt_chatstate s);

/* A standalone notification (a message with only the state, and a
 * no-store hint, XEP-0334): type chat. Errors as xt_conn_send_message;
 * XT_EINVAL for NONE or an unknown state. */
XT_EXTERN int xt_conn_send_chatstate(xt_conn *c, const char *to, xt_chatstate state);

/*
 * The XEP-0085 timers of one conversation, with no I/O: the caller tells
 * it what the user did and when (any monotonic ms clock), and sends the
 * state it returns (NONE = send nothing). The transitions are the XEP's
 * (§5.2 and its state chart): typing -> composing; no typing for 30 s ->
 * paused; no interaction for 2 min -> inactive; for 10 min -> gone;
 * closing the conversation -> gone; a sent message carries active. The
 * same standalone state is never sent twice in a row (§5.3), and
 * standalone notifications go out only once the contact has shown that
 * it supports them (§5.1: a chat state in one of its messages); a
 * contact that answered our first message (which carried active)
 * without any chat state gets none.
 */
typedef struct xt_chatstates xt_chatstates;

/* 0 and *out; XT_EINVAL; XT_ENOMEM. mem NULL = malloc. */
XT_EXTERN int xt_chatstates_new(const xt_mem *mem, xt_chatstates **out);
XT_EXTERN void xt_chatstates_free(xt_chatstates *cs);
/* The user edited the input at `now`; `empty`: the input is now empty
 * (a deleted draft is not composing: active). */
XT_EXTERN xt_chatstate xt_chatstates_input(xt_chatstates *cs, uint64_t now, int empty);
/* The user looked at or used the conversation without typing (opened
 * it, switched to it): inactive/gone return to active. */
XT_EXTERN xt_chatstate xt_chatstates_touch(xt_chatstates *cs, uint64_t now);
/* A message is being sent at `now`: the state to put in it (ACTIVE, or
 * NONE once the contact showed no support). */
XT_EXTERN xt_chatstate xt_chatstates_message(xt_chatstates *cs, uint64_t now);
/* The conversation is closed: GONE (or NONE). */
XT_EXTERN xt_chatstate xt_chatstates_close(xt_chatstates *cs, uint64_t now);
/* A message from the contact (its chatstate field): learns support. */
XT_EXTERN void xt_chatstates_received(xt_chatstates *cs, const xt_message *m);
/* At xt_chatstates_deadline: the timed transition due, if any. */
XT_EXTERN xt_chatstate xt_chatstates_tick(xt_chatstates *cs, uint64_t now);
/* When to call tick next (absolute ms), -1 when no timer runs. */
XT_EXTERN int64_t xt_chatstates_deadline(const xt_chatstates *cs);
/* The state the contact was last told (NONE before any). */
XT_EXTERN xt_chatstate xt_chatstates_current(const xt_chatstates *cs);

/* --- XEP-0444 reactions ------------------------------------------------------ */

/* Sends our whole set of reactions (n UTF-8 strings, at most 32, each
 * 1..64 bytes; n 0 removes ours) to the message msg_id (its origin-id
 * for type chat, XEP-0444 §3), with a store hint (XEP-0334) so archives
 * keep it. type NULL = chat. Errors as xt_conn_send_message. */
XT_EXTERN int xt_conn_send_reactions(xt_conn *c, const char *to, const char *type,
                                     const char *msg_id, const char *const *reactions, size_t n,
                                     char id_out[64]);

/* --- XEP-0191 blocking ------------------------------------------------------ */

/* Blocks n (>= 1) JIDs (a domain, a bare or a full JID each, §3.1): the
 * server drops their stanzas to us and ours to them. cb gets the result
 * (XT_ESTANZA: refused, e.g. not-acceptable for a bad item). The errors
 * of xt_conn_iq, XT_EJID for an invalid JID, XT_EINVAL for n 0. */
XT_EXTERN int xt_conn_block(xt_conn *c, const char *const *jids, size_t n, xt_iq_fn cb, void *ud);
/* Unblocks n JIDs; n 0 unblocks everyone (§3.4). As xt_conn_block. */
XT_EXTERN int xt_conn_unblock(xt_conn *c, const char *const *jids, size_t n, xt_iq_fn cb, void *ud);
/* Asks for the blocklist (§3.2). When cb runs with status 0, the list
 * is in xt_conn_blocklist_count/_at; from then on the server's pushes
 * (our own changes and other devices') keep it current, each answered
 * by the conn. The errors of xt_conn_iq. */
XT_EXTERN int xt_conn_blocklist_fetch(xt_conn *c, xt_iq_fn cb, void *ud);
/* 1 once the list arrived (it stays across reconnections). */
XT_EXTERN int xt_conn_blocklist_loaded(const xt_conn *c);
XT_EXTERN size_t xt_conn_blocklist_count(const xt_conn *c);
/* Item i (prepared JID), valid until the conn changes; NULL past the end. */
XT_EXTERN const char *xt_conn_blocklist_at(const xt_conn *c, size_t i);
/* 1 when the list holds jid, its bare JID or its domain. */
XT_EXTERN int xt_conn_is_blocked(const xt_conn *c, const char *jid);

/* --- XEP-0054 vcard-temp, XEP-0172 nickname ---------------------------------- */

/* Asks for jid's vCard (NULL: our own); cb gets the result (XT_ESTANZA:
 * none, or refused). Read it with xt_vcard_field. The errors of
 * xt_conn_iq, XT_EJID. */
XT_EXTERN int xt_conn_vcard_fetch(xt_conn *c, const char *jid, xt_iq_fn cb, void *ud);
/* A field of the vCard in a result: "FN", "NICKNAME", "N/GIVEN",
 * "ORG/ORGNAME", "EMAIL/USERID", "URL"... ('/' between nested names).
 * NULL when absent or empty. Lives as long as reply. */
XT_EXTERN const char *xt_vcard_field(const xt_stanza *reply, const char *path);
/* Changes to our vCard: each field NULL = keep, "" = remove, else the
 * new value (XEP-0054 FN, NICKNAME, EMAIL/USERID, URL, NOTE). */
typedef struct xt_vcard_update {
    const char *fn, *nickname, *email, *url, *note;
} xt_vcard_update;
/* Publishes our vCard (XEP-0054 §3.3, a set replaces the whole card):
 * base's (a result of xt_conn_vcard_fetch(c, NULL, ...); NULL = none)
 * with u's changes. Fields u leaves NULL and the elements it does not
 * know (PHOTO, ADR...) are carried over. cb as with xt_conn_iq. 0;
 * XT_EINVAL (text not XML-safe), XT_ESTATE; the errors of xt_conn_iq. */
XT_EXTERN int xt_conn_vcard_publish(xt_conn *c, const xt_stanza *base, const xt_vcard_update *u,
                                    xt_iq_fn cb, void *ud);
/* Asks for jid's published nickname (XEP-0172 via PEP; NULL: our own).
 * Read it with xt_nick_of. The errors of xt_conn_iq, XT_EJID. */
XT_EXTERN int xt_conn_nick_fetch(xt_conn *c, const char *jid, xt_iq_fn cb, void *ud);
/* The nickname in a PEP items result or event, or in a <presence/> or
 * <message/> carrying <nick xmlns='http://jabber.org/protocol/nick'/>;
 * NULL when none. A claim, not an identity (XEP-0172 §6). */
XT_EXTERN const char *xt_nick_of(const xt_stanza *st);
/* Publishes our nickname (XEP-0172 §4.5: PEP item "current", access
 * model presence asked with publish-options: the server refuses with
 * precondition-not-met when the node exists with another model).
 * XT_EINVAL for an empty or non-XML-safe nick; the errors of xt_conn_iq. */
XT_EXTERN int xt_conn_nick_publish(xt_conn *c, const char *nick, xt_iq_fn cb, void *ud);

/* --- XEP-0352 client state indication ------------------------------------ */

/*
 * Tells the server whether the user is looking (active, 1) or not (0):
 * while inactive a server may hold back what is not urgent (presence,
 * chat states). Sent only when the server offers CSI (else the state is
 * kept and nothing is sent: 0), again after a new session when inactive.
 * A change to the state it already has sends nothing. 0; XT_EINVAL;
 * XT_ESTATE (not online); XT_ENOMEM.
 */
XT_EXTERN int xt_conn_set_active(xt_conn *c, int active);
/* 1 when the server offered CSI on this stream. */
XT_EXTERN int xt_conn_csi_offered(const xt_conn *c);

/* --- files shared in messages: XEP-0066, XEP-0447/XEP-0446 ---------------- */

/* xt_file_ref.flags: why a URL must not be opened or fetched as it is.
 * The URL comes from whoever sent the message: only https (and, with a
 * warning, http) is a file to fetch; the rest is shown as text at most. */
enum {
    XT_FILE_HTTP = 1u << 0,          /* http:, not https: (no TLS) */
    XT_FILE_UNSAFE_SCHEME = 1u << 1, /* neither: javascript:, file:, data:, aesgcm:... */
    XT_FILE_BAD_CHARS = 1u << 2,     /* controls, spaces or non-ASCII bytes (RFC 3986 §2) */
};
/* The flags that mean "never hand this URL to a browser or a downloader". */
#define XT_FILE_UNSAFE (XT_FILE_UNSAFE_SCHEME | XT_FILE_BAD_CHARS)
/* A longer URL is not taken as a file at all (the message still is). */
#define XT_FILE_URL_MAX 4096

/* A file a message points to. Strings live as long as the message. */
typedef struct xt_file_ref {
    const char *url;        /* XEP-0066 <url/>, else XEP-0447's first url-data target */
    const char *desc;       /* XEP-0066 <desc/> or XEP-0446 <desc/>; NULL when absent */
    const char *name;       /* XEP-0446 <name/> as sent, NULL when absent: a claim,
                             * for a name on disk use xt_file_name */
    const char *media_type; /* XEP-0446 <media-type/>, NULL when absent */
    int64_t size;           /* XEP-0446 <size/> in bytes, -1 when unknown */
    unsigned flags;         /* XT_FILE_* */
} xt_file_ref;

/* The XT_FILE_* flags of a URL (0: an https URL of printable ASCII). */
XT_EXTERN unsigned xt_file_url_check(const char *url);
/* A file name fit for the local disk: `name` (the sender's, e.g.
 * xt_file_ref.name) when not NULL or empty, else the last segment of
 * url's path (before '?' and '#'), percent-decoded. Whatever it came
 * from it is made one harmless path component: '/', '\', controls,
 * bidi and other invisible format characters and bytes that are not
 * UTF-8 become '_', as does a leading '.' or '-' (no ".." nor hidden
 * file, no option); at most 255 bytes and n - 1, cut at a character;
 * "file" when nothing is left. Returns its length, or XT_EINVAL (n < 8
 * or both NULL). */
XT_EXTERN int xt_file_name(const char *name, const char *url, char *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
