/*
 * im/disco.h -- XEP-0030 service discovery and XEP-0115 caps state of an
 * xt_conn (internal to src/im and its tests). The public side is
 * xtalk/disco.h.
 *
 * Invariants: self.features is sorted (i;octet, XEP-0115 §5.1 step 4) and
 * unique, and self.ver is the hash of exactly what disco_answer sends, so
 * the ver in our presence always verifies. A parsed disco#info
 * (xt_disco_parsed) points into its own copy of the <query/> tree, so it
 * outlives the stanza it came from.
 */
#ifndef XT_IM_DISCO_H
#define XT_IM_DISCO_H

#include "im/index.h"
#include "xtalk/disco.h"

#define XT_DISCO_MAX_EXTRA_FEATURES 64

/* Our identity and features: the opts' copy (opts.c frees it with
 * xt_disco_self_free) and the conn's. */
typedef struct xt_disco_self {
    char *category, *type, *name; /* NULL = client / pc / xtalk */
    char **features;
    size_t n, cap;
    char ver[96]; /* base64 SHA-1 (conn only; "" until xt_disco_own_ver) */
} xt_disco_self;

/* A disco#info answer kept beyond its stanza. */
typedef struct xt_disco_parsed {
    xt_stanza *tree; /* the copied <query/> (NULL: strings owned elsewhere) */
    xt_disco_identity *ids;
    const char **feats;
    xt_disco_info info;
} xt_disco_parsed;

/* Parses a disco#info <query/> into p, pointing into `query` (copy it
 * first to keep it). XT_ENOMEM. */
int xt_disco_parse(const xt_mem *mem, const xt_stanza *query, const char *jid, xt_disco_parsed *p);
void xt_disco_parsed_free(const xt_mem *mem, xt_disco_parsed *p);

/* A contact's verified caps, by ver (caps.c). */
typedef struct xt_caps_entry {
    char *ver;
    char **features;
    size_t n;
} xt_caps_entry;

/* A full JID's announced caps (from its last available presence). */
typedef struct xt_caps_jid {
    char *jid;
    char *ver;
} xt_caps_jid;

/* Caps bounds: a contact list with many resources stays well below them;
 * past them the oldest entries go (a server inventing senders cannot
 * make the tables grow without bound, issue 12). */
#define XT_CAPS_MAX_VERS    512
#define XT_CAPS_MAX_JIDS    4096
#define XT_CAPS_MAX_PENDING 32

typedef struct xt_caps_state {
    xt_caps_entry *vers;
    size_t nvers, capvers;
    xt_index vix;
    xt_caps_jid *jids;
    size_t njids, capjids;
    xt_index jix;
    char *pending[XT_CAPS_MAX_PENDING]; /* vers being queried */
} xt_caps_state;

/* An outstanding query of ours: freed by its IQ callback, or by the
 * conn's free (which drops pending callbacks). */
typedef struct xt_disco_req xt_disco_req;

typedef struct xt_disco_state {
    xt_disco_self self;
    xt_disco_parsed server, account; /* our server's and our account's info */
    int server_known, account_known;
    /* The login query's failure (XT_ESTANZA, XT_ETIMEOUT, XT_EPROTO...),
     * 0 while it is pending or once it succeeded. */
    int server_failed, account_failed;
    xt_disco_req *reqs;
    xt_caps_state caps;
} xt_disco_state;

struct xt_conn;
struct xt_conn_opts;

/* From the opts at xt_conn_new: copies the identity and features, adds
 * the library's own. XT_ENOMEM. The ver is computed later, on first
 * need (xt_disco_own_ver). */
int xt_disco_init(struct xt_conn *c, const xt_disco_self *opts_self);
/* Our ver (self.ver), hashed on the first call and added to the caps
 * cache with our features; every use of it goes through here. NULL when
 * out of memory (a later call tries again). */
const char *xt_disco_own_ver(struct xt_conn *c);
void xt_disco_free(struct xt_conn *c);
void xt_disco_self_free(const xt_mem *mem, xt_disco_self *s);
/* A disco#info query of the library's own (caps verification): done
 * gets the reply (or NULL) and `tag` (copied) once, unless the conn is
 * freed first. */
typedef void (*xt_disco_internal_fn)(struct xt_conn *c, int status, const xt_stanza *reply,
                                     const char *jid, const char *tag);
int xt_disco_query_internal(struct xt_conn *c, const char *jid, const char *node,
                            xt_disco_internal_fn done, const char *tag);
/* A new session (not a resumption): forget the server's info, fetch it. */
int xt_disco_login(struct xt_conn *c);
/* Where the login queries stand, for the server's and the account's
 * info each: 1 answered, 0 pending (or not asked yet), or the negative
 * code it failed with. */
void xt_disco_login_status(const struct xt_conn *c, int *server, int *account);
/* IQ get: 1 handled (disco#info / #items answered), 0 not ours, < 0. */
int xt_disco_on_iq(struct xt_conn *c, const xt_stanza *iq);
/* Adds <c xmlns=caps hash node ver/> to an outgoing presence. */
int xt_caps_add_to_presence(struct xt_conn *c, xt_stanza *presence);
/* An available presence from full JID `from`: notes its caps and, for a
 * ver not known yet, queries and verifies it. < 0 only for XT_ENOMEM. */
int xt_caps_on_presence(struct xt_conn *c, const char *from, const xt_stanza *presence);
/* The full JID went unavailable: forget its caps. */
void xt_caps_forget(struct xt_conn *c, const char *from);
void xt_caps_free(struct xt_conn *c);

/* The fixed part of the server-info event hook for later features
 * (carbons, MAM): called once the server's info arrived. */
int xt_im_server_info_ready(struct xt_conn *c);

#endif
