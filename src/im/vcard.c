/*
 * XEP-0054 vcard-temp (v1.2): fetching a vCard and reading its fields,
 * for names (FN, NICKNAME) and `xtalk info`; publishing our own.
 */
#include <string.h>

#include "base/mem.h"
#include "core/jid_int.h"
#include "im/msgext.h"

#define XT_NS_VCARD "vcard-temp"

static xt_stanza *build_vcard(xt_stanza *iq, const void *arg)
{
    (void)arg;
    return xt_stanza_add_child(iq, "vCard", XT_NS_VCARD);
}

int xt_conn_vcard_fetch(xt_conn *c, const char *jid, xt_iq_fn cb, void *ud)
{
    /* XEP-0054 §3.2: addressed to the bare JID (the account's server
     * answers for it). */
    return xt_im_query(c, jid, 0, build_vcard, NULL, cb, ud);
}

const char *xt_vcard_field(const xt_stanza *reply, const char *path)
{
    if (!reply || !path)
        return NULL;
    const xt_stanza *el = xt_stanza_child(reply, "vCard", XT_NS_VCARD);
    /* "ORG/ORGNAME": one element name per step, '/' between. */
    char name[64];
    const char *p = path;
    while (el && *p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n >= sizeof name)
            return NULL;
        memcpy(name, p, n);
        name[n] = '\0';
        el = xt_stanza_child(el, name, XT_NS_VCARD);
        p = slash ? slash + 1 : p + n;
    }
    if (!el || el == xt_stanza_child(reply, "vCard", XT_NS_VCARD))
        return NULL;
    const char *t = xt_stanza_text(el);
    return t && *t ? t : NULL;
}

/* The fields an update may set, as the vCard names them (§3.3); EMAIL
 * holds its address in <USERID/> beside an <INTERNET/> type (vcard-temp
 * DTD). */
enum { F_FN, F_NICKNAME, F_EMAIL, F_URL, F_NOTE, F_COUNT };
static const char *const field_names[F_COUNT] = {"FN", "NICKNAME", "EMAIL", "URL", "NOTE"};

static const char *update_value(const xt_vcard_update *u, int f)
{
    switch (f) {
    case F_FN:
        return u->fn;
    case F_NICKNAME:
        return u->nickname;
    case F_EMAIL:
        return u->email;
    case F_URL:
        return u->url;
    default:
        return u->note;
    }
}

static int add_field(xt_stanza *vc, int f, const char *v)
{
    if (f != F_EMAIL)
        return xt_stanza_add_text_child(vc, field_names[f], XT_NS_VCARD, v) ? 0 : XT_ENOMEM;
    xt_stanza *e = xt_stanza_add_child(vc, "EMAIL", XT_NS_VCARD);
    if (!e || !xt_stanza_add_child(e, "INTERNET", XT_NS_VCARD) ||
        !xt_stanza_add_text_child(e, "USERID", XT_NS_VCARD, v))
        return XT_ENOMEM;
    return 0;
}

int xt_conn_vcard_publish(xt_conn *c, const xt_stanza *base, const xt_vcard_update *u,
                          xt_iq_fn cb, void *ud)
{
    if (!c || !u)
        return XT_EINVAL;
    for (int f = 0; f < F_COUNT; f++) {
        const char *v = update_value(u, f);
        if (v && !xt_im_text_ok(v))
            return XT_EINVAL;
    }
    if (!xt_stream_is_online(&c->s))
        return XT_ESTATE;
    /* §3.3: a set replaces the whole vCard. What the update does not
     * name is carried over from base (the last fetch), so a photo or an
     * address set by another client survives a change of the name. */
    const xt_stanza *old = base ? xt_stanza_child(base, "vCard", XT_NS_VCARD) : NULL;
    xt_stanza *iq = xt_stanza_new(c->s.mem, "iq", XT_NS_CLIENT);
    xt_stanza *vc = iq ? xt_stanza_add_child(iq, "vCard", XT_NS_VCARD) : NULL;
    int rc = vc && !xt_stanza_set_attr(iq, "type", "set") ? 0 : XT_ENOMEM;
    for (const xt_stanza *ch = old ? xt_stanza_first_child(old) : NULL; ch && !rc;
         ch = xt_stanza_next_sibling(ch)) {
        int replaced = 0;
        for (int f = 0; f < F_COUNT && !replaced; f++)
            replaced = update_value(u, f) && strcmp(xt_stanza_name(ch), field_names[f]) == 0 &&
                       strcmp(xt_stanza_ns(ch), XT_NS_VCARD) == 0;
        if (!replaced)
            rc = xt_im_copy_under(vc, ch);
    }
    for (int f = 0; f < F_COUNT && !rc; f++) {
        const char *v = update_value(u, f);
        if (v && *v) /* "" removes the field */
            rc = add_field(vc, f, v);
    }
    /* §3.3: to our own bare JID, i.e. no 'to'. */
    if (!rc)
        rc = xt_stream_iq(&c->s, iq, 0, cb, ud);
    xt_stanza_free(iq);
    return rc;
}
