/*
 * xtalk/disco.h -- XEP-0030 Service Discovery and XEP-0115 Entity
 * Capabilities on an xt_conn.
 *
 * What we are: the conn answers disco#info requests with one identity
 * (category "client", type "pc" unless set, name "xtalk" unless set) and
 * the features the library implements, plus those the application adds
 * (xt_conn_opts_add_feature: e.g. a "...+notify" to receive a PEP node,
 * XEP-0163 §4). disco#items is answered with an empty list. The same set
 * gives our XEP-0115 verification string: every presence the conn sends
 * carries <c hash='sha-1' node=NODE ver=VER/>, and a disco#info for
 * "NODE#VER" is answered like the plain one.
 *
 * What others are: xt_disco_info / xt_disco_items query any JID and hand
 * the answer over as a parsed struct. The server's info (its features:
 * carbons, MAM, ...) is fetched once per session at login and kept on the
 * conn (xt_conn_server_info). Contacts' caps are verified (the ver
 * recomputed from what their disco#info returns, §5.4) before anything is
 * believed, and kept per ver on the conn: XT_EV_CAPS says a JID's features
 * are known, so an application with a store can keep them across runs
 * (xt_conn_caps_add primes the conn with what it kept).
 *
 * Lifetimes: pointers inside an xt_disco_info / xt_disco_items handed to
 * a callback are valid during the call only; those returned by the
 * getters until the conn changes (see xtalk/conn.h).
 */
#ifndef XTALK_DISCO_H
#define XTALK_DISCO_H

#include "common.h"
#include "conn.h"
#include "stanza.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XT_NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define XT_NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define XT_NS_CAPS        "http://jabber.org/protocol/caps"
/* The caps node xtalk announces (XEP-0115 §4: a URI for the software). */
#define XT_CAPS_NODE "https://xtalk.invalid/caps"

typedef struct xt_disco_identity {
    const char *category, *type; /* required */
    const char *name;            /* NULL when none */
    const char *lang;            /* xml:lang, NULL when none */
} xt_disco_identity;

typedef struct xt_disco_info {
    const char *jid;  /* who answered (the queried JID) */
    const char *node; /* NULL when none */
    const xt_disco_identity *identities;
    size_t nidentities;
    const char *const *features; /* in the order received */
    size_t nfeatures;
    /* The whole <query/>, for what the struct does not carry (XEP-0128
     * data forms); NULL for info built from a cache. */
    const xt_stanza *query;
} xt_disco_info;

typedef struct xt_disco_item {
    const char *jid;  /* required */
    const char *node; /* NULL when none */
    const char *name; /* NULL when none */
} xt_disco_item;

typedef struct xt_disco_items {
    const char *jid, *node;
    const xt_disco_item *items;
    size_t nitems;
} xt_disco_items;

/* Called once per accepted query: status 0 with the answer; XT_ESTANZA
 * (the entity answered with an error; info NULL), XT_EPROTO (a result
 * without a proper <query/>), XT_ETIMEOUT, XT_ECLOSED, XT_ENOMEM, with
 * info NULL. */
typedef void (*xt_disco_info_fn)(xt_conn *c, int status, const xt_disco_info *info, void *ud);
typedef void (*xt_disco_items_fn)(xt_conn *c, int status, const xt_disco_items *items, void *ud);

/* Queries disco#info (XEP-0030 §3.1) of jid (NULL = our server), at node
 * (NULL = none). 0; the errors of xt_conn_iq, XT_EJID for a bad jid. */
XT_EXTERN int xt_disco_info_query(xt_conn *c, const char *jid, const char *node,
                                  xt_disco_info_fn cb, void *ud);
/* Queries disco#items (XEP-0030 §4.1); as above. */
XT_EXTERN int xt_disco_items_query(xt_conn *c, const char *jid, const char *node,
                                   xt_disco_items_fn cb, void *ud);
/* 1 when info lists the feature var, else 0 (also for NULLs). */
XT_EXTERN int xt_disco_has_feature(const xt_disco_info *info, const char *var);

/* The server's disco#info, fetched at every new session's login; NULL
 * until it arrived (or when the server refused it). Valid until the conn
 * changes. XT_EV_SERVER_INFO says it arrived; it also comes when the
 * query failed (an error, or no answer within the IQ timeout), with an
 * empty info (only its jid set) while the getter stays NULL. */
XT_EXTERN const xt_disco_info *xt_conn_server_info(const xt_conn *c);
/* Our account's disco#info (the bare JID: where a server lists XEP-0313
 * and XEP-0163 for its users; Prosody lists MAM only there), fetched with
 * the server's; NULL until it arrived. XT_EV_SERVER_INFO says either
 * arrived (its jid tells which). Valid until the conn changes. */
XT_EXTERN const xt_disco_info *xt_conn_account_info(const xt_conn *c);

/* --- our own identity (opts) --------------------------------------------- */

/* The identity we answer with (XEP-0030 §3.1; categories and types from
 * the XMPP registry: "client"/"pc", "client"/"console", ...). name NULL =
 * "xtalk". XT_EINVAL (NULL category/type, text that is not XML-safe),
 * XT_ENOMEM. */
XT_EXTERN int xt_conn_opts_set_identity(xt_conn_opts *o, const char *category, const char *type,
                                        const char *name);
/* Adds a feature we announce beyond the library's own (a no-op when it is
 * there already). At most 64. XT_EINVAL, XT_ETOOBIG, XT_ENOMEM. */
XT_EXTERN int xt_conn_opts_add_feature(xt_conn_opts *o, const char *var);

/* Our XEP-0115 ver (base64 SHA-1 of the verification string), as the
 * presence carries it. Lives as long as the conn; NULL for NULL, or when
 * out of memory (it is hashed on the first call that needs it). */
XT_EXTERN const char *xt_conn_caps_ver(const xt_conn *c);

/* --- XEP-0115 -------------------------------------------------------------- */

/*
 * The XEP-0115 §5.1 verification string of a disco#info <query/> and its
 * hash: algo "sha-1" (the only one §5 mandates; also "sha-256",
 * "sha-512") as base64 into out (out_size >= 89). 0; XT_EINVAL (NULL,
 * unknown algo, small out); XT_EPROTO when the query is ill-formed for
 * caps (§5.4 3.3-3.6: a duplicate identity or feature, an extended form
 * whose FORM_TYPE is not unique or not a single value); XT_ENOMEM.
 */
XT_EXTERN int xt_caps_hash(const xt_stanza *query, const char *algo, char *out, size_t out_size);

/* What a contact's verified caps say (XT_EV_CAPS). */
typedef struct xt_caps_event {
    const char *jid; /* full JID whose presence carried the caps */
    const char *ver; /* the verified sha-1 ver */
    const char *const *features;
    size_t nfeatures;
    int fresh; /* 1: just queried and verified; 0: known from the cache */
} xt_caps_event;

/* Primes the conn's caps cache with a ver verified before (e.g. kept in
 * the store, xt_store_caps_get): presence with this ver then needs no
 * query. The features are copied. 0; XT_EINVAL; XT_ENOMEM. */
XT_EXTERN int xt_conn_caps_add(xt_conn *c, const char *ver, const char *const *features,
                               size_t nfeatures);
/* The verified features of a full JID's current caps: count and *out
 * (valid until the conn changes), or 0 when not known (yet). */
XT_EXTERN size_t xt_conn_caps_features(const xt_conn *c, const char *full_jid,
                                       const char *const **out);

#ifdef __cplusplus
}
#endif
#endif
